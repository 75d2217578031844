/* FreeBSD's route(8): add, delete, change, get, flush over src/net, with FreeBSD's output. */
#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include "net/net.h"
#include "net/net_internal.h"

#define EX_USAGE  64
#define EX_NOHOST 68
#define EX_NOPERM 77

static const char *prog_name(const char *argv0)
{
	if (!argv0 || !*argv0)
		return "route";
	const char *s = strrchr(argv0, '/');
	return s ? s + 1 : argv0;
}

static void usage(const char *prog, const char *bad)
{
	if (bad)
		fprintf(stderr, "%s: bad keyword: %s\n", prog, bad);
	fprintf(stderr, "usage: %s [-j jail] [-46dnqtv] command [[modifiers] args]\n", prog);
}

const char *lj_route_errmsg(int errnum)
{
	switch (errnum) {
	case ESRCH:
		return "not in table";
	case EBUSY:
		return "entry in use";
	case ENOBUFS:
		return "not enough memory";
	case EADDRINUSE:
		return "gateway uses the same route";
	case EEXIST:
		return "route already in table";
	default:
		return strerror(errnum);
	}
}

/* The number of trailing zero octets decides the mask of a bare -net address (10.1.0.0 is
 * a /16), never less than the classful one. */
static int net_len_v4(const uint8_t *a)
{
	int len = 32;
	while (len > 0 && a[len / 8 - 1] == 0)
		len -= 8;
	int cls = a[0] < 128 ? 8 : a[0] < 192 ? 16 : 24;
	return len < cls ? cls : len;
}

int lj_route_parse(const char *prog, int argc, char **argv, struct route_req *r)
{
	memset(r, 0, sizeof(*r));
	r->family = AF_UNSPEC;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-j")) {
			if (i + 1 >= argc) {
				usage(prog, NULL);
				return EX_USAGE;
			}
			r->jail = argv[++i];
			continue;
		}
		for (const char *q = argv[i] + 1; *q; q++) {
			switch (*q) {
			case '4':
				r->family = AF_INET;
				break;
			case '6':
				r->family = AF_INET6;
				break;
			case 'n':
				r->numeric = true;
				break;
			case 'q':
				r->quiet = true;
				break;
			case 'd':
			case 't':
			case 'v':
				break;
			default:
				usage(prog, NULL);
				return EX_USAGE;
			}
		}
	}
	if (i >= argc) {
		usage(prog, NULL);
		return EX_USAGE;
	}
	r->cmdword = argv[i];
	if (!strcmp(argv[i], "add"))
		r->cmd = R_ADD;
	else if (!strcmp(argv[i], "delete"))
		r->cmd = R_DELETE;
	else if (!strcmp(argv[i], "change"))
		r->cmd = R_CHANGE;
	else if (!strcmp(argv[i], "get") || !strcmp(argv[i], "show"))
		r->cmd = R_GET;
	else if (!strcmp(argv[i], "flush"))
		r->cmd = R_FLUSH;
	else {
		usage(prog, argv[i]);
		return EX_USAGE;
	}
	i++;
	const char *pos[3] = {0};
	int npos = 0, plen = -1;
	const char *plen_text = NULL; /* -prefixlen as given */
	for (; i < argc; i++) {
		const char *w = argv[i];
		if (w[0] == '-' && w[1]) {
			const char *k = w + 1;
			const char *needs = NULL;
			if (!strcmp(k, "net")) /* -net and -host: the last one given wins */
				r->net = true, r->host = false;
			else if (!strcmp(k, "host"))
				r->host = true, r->net = false;
			else if (!strcmp(k, "interface") || !strcmp(k, "iface"))
				r->iface = true;
			else if (!strcmp(k, "inet") || !strcmp(k, "4"))
				r->family = AF_INET;
			else if (!strcmp(k, "inet6") || !strcmp(k, "6"))
				r->family = AF_INET6;
			else if (!strcmp(k, "reject"))
				r->reject = true;
			else if (!strcmp(k, "blackhole"))
				r->blackhole = true;
			else if (!strcmp(k, "static"))
				;
			else if (!strcmp(k, "netmask") || !strcmp(k, "prefixlen") ||
			         !strcmp(k, "fib") || !strcmp(k, "mtu") || !strcmp(k, "weight"))
				needs = k;
			else {
				usage(prog, k);
				return EX_USAGE;
			}
			if (!needs)
				continue;
			if (i + 1 >= argc) {
				usage(prog, NULL);
				return EX_USAGE;
			}
			const char *v = argv[++i];
			int n;
			if (!strcmp(needs, "netmask")) {
				struct in_addr m;
				if (inet_pton(AF_INET, v, &m) != 1 ||
				    (plen = lj_net_v4_prefixlen(ntohl(m.s_addr))) < 0) {
					fprintf(stderr, "%s: bad address: %s\n", prog, v);
					return EX_NOHOST;
				}
				r->net = true;
			} else if (!strcmp(needs, "prefixlen")) {
				if (!lj_parse_int(v, &n) || n < 0 || n > 128) {
					fprintf(stderr, "%s: %s: bad value\n", prog, v);
					return EX_USAGE;
				}
				plen = n;
				plen_text = v;
				r->net = true;
			} else if (!strcmp(needs, "fib")) {
				/* Linux has one main table here; FreeBSD's fib 0. */
				if (strcmp(v, "0")) {
					fprintf(stderr, "%s: fib %s: only fib 0 exists\n", prog, v);
					return 1;
				}
			} else if (!strcmp(needs, "mtu")) {
				if (!lj_parse_int(v, &n) || n <= 0) {
					fprintf(stderr, "%s: %s: bad value\n", prog, v);
					return EX_USAGE;
				}
				r->mtu = (uint32_t)n;
			}
			continue;
		}
		if (npos == 3) {
			usage(prog, w);
			return EX_USAGE;
		}
		pos[npos++] = w;
	}
	if (r->cmd == R_FLUSH) {
		if (npos) {
			usage(prog, pos[0]);
			return EX_USAGE;
		}
		return 0;
	}
	if (npos == 0) {
		usage(prog, NULL);
		return EX_USAGE;
	}
	r->dest_text = pos[0];
	r->gw_text = npos > 1 ? pos[1] : NULL;
	if (npos > 2) {
		/* route add NET GW NETMASK (inet) */
		struct in_addr m;
		if (inet_pton(AF_INET, pos[2], &m) != 1 ||
		    (plen = lj_net_v4_prefixlen(ntohl(m.s_addr))) < 0) {
			fprintf(stderr, "%s: bad address: %s\n", prog, pos[2]);
			return EX_NOHOST;
		}
		r->net = true;
	}
	/* Destination. */
	lj_err e;
	if (!strcmp(r->dest_text, "default")) {
		if (r->family == AF_UNSPEC)
			r->family = AF_INET;
		r->dst.family = r->family;
		r->dst.prefixlen = 0;
		r->net = true;
		r->host = false;
	} else {
		if (lj_net_ipaddr_parse(r->dest_text, r->family, &r->dst, &e) < 0) {
			fprintf(stderr, "%s: bad address: %s\n", prog, r->dest_text);
			return EX_NOHOST;
		}
		r->family = r->dst.family;
		int full = r->family == AF_INET ? 32 : 128;
		if (plen_text && plen > full) { /* known to be too long once the family is */
			fprintf(stderr, "%s: %s: bad value\n", prog, plen_text);
			return EX_USAGE;
		}
		if (r->dst.prefixlen < 0)
			r->dst.prefixlen = plen >= 0                        ? plen
			                   : r->host                        ? full
			                   : r->net && r->family == AF_INET ? net_len_v4(r->dst.a)
			                   : r->net                         ? 64
			                                                    : full;
		if (r->dst.prefixlen == full && !r->net)
			r->host = true;
		else if (r->dst.prefixlen != full)
			r->net = true, r->host = false;
		else if (!r->host)
			r->net = true;
	}
	/* Gateway: an address, or with -interface an interface name. */
	if (r->gw_text && !r->iface) {
		if (lj_net_ipaddr_parse(r->gw_text, r->family, &r->gw, &e) < 0 ||
		    r->gw.prefixlen >= 0) {
			fprintf(stderr, "%s: bad address: %s\n", prog, r->gw_text);
			return EX_NOHOST;
		}
	}
	if ((r->cmd == R_ADD || r->cmd == R_CHANGE) && !r->gw_text && !r->reject && !r->blackhole) {
		fprintf(stderr, "%s: %s %s: gateway required\n", prog, r->cmdword, r->dest_text);
		return EX_USAGE;
	}
	return 0;
}

/* ---- doing it ---------------------------------------------------------------------------- */

static void to_route(const struct route_req *q, struct lj_route *rt, int oif)
{
	memset(rt, 0, sizeof(*rt));
	rt->family = q->family;
	memcpy(rt->dst, q->dst.a, 16);
	rt->dst_len = q->dst.prefixlen;
	if (q->gw_text && !q->iface) {
		memcpy(rt->gw, q->gw.a, 16);
		rt->has_gw = true;
		rt->oif = (int)q->gw.scope_ifindex;
	}
	if (oif)
		rt->oif = oif;
	if (q->reject)
		rt->type = RTN_UNREACHABLE;
	if (q->blackhole)
		rt->type = RTN_BLACKHOLE;
	if (q->reject || q->blackhole)
		rt->scope = RT_SCOPE_UNIVERSE;
	rt->mtu = q->mtu;
}

static void print_line(const struct route_req *q, bool with_fib, const char *msg)
{
	printf("%s %s %s", q->cmdword, q->host ? "host" : "net", q->dest_text);
	if (q->gw_text)
		printf(": gateway %s", q->gw_text);
	if (with_fib)
		printf(" fib 0: %s", msg);
	putchar('\n');
}

static void ntop(int family, const uint8_t *a, char *buf, size_t n)
{
	if (!inet_ntop(family, a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
}

static void mask_str(int family, int len, char *buf, size_t n)
{
	uint8_t m[16] = {0};
	for (int i = 0; i < len; i++)
		m[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	ntop(family, m, buf, n);
}

static int do_get(const char *prog, struct lj_nl *nl, const struct route_req *q)
{
	lj_err e;
	struct lj_route rt;
	int found = -1;
	if (q->dst.prefixlen == 0 && q->net) {
		/* "get default" asks for the default route itself; a lookup of 0.0.0.0 would find
		 * Linux's local route for the unspecified address. */
		lj_autofree struct lj_route *v = NULL;
		size_t n = 0;
		if (lj_net_routes(nl, q->family, 0, &v, &n, &e) == 0)
			for (size_t i = 0; i < n && found < 0; i++)
				if (v[i].dst_len == 0 && v[i].type == RTN_UNICAST) {
					rt = v[i];
					found = 0;
				}
	} else {
		found = lj_net_route_get(nl, q->family, q->dst.a, &rt, &e);
	}
	if (found < 0) {
		fprintf(stderr, "%s: route has not been found\n", prog);
		return 255;
	}
	lj_autofree struct lj_link *links = NULL;
	size_t nlinks = 0;
	(void)lj_net_links(nl, &links, &nlinks, NULL);
	const struct lj_link *l = NULL;
	for (size_t i = 0; i < nlinks; i++)
		if (links[i].index == rt.oif)
			l = &links[i];
	int full = q->family == AF_INET ? 32 : 128;
	char to[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], mask[INET6_ADDRSTRLEN],
	        gw[INET6_ADDRSTRLEN];
	static const uint8_t zero[16];
	bool any = !memcmp(q->dst.a, zero, q->family == AF_INET ? 4 : 16);
	if (any && !q->numeric)
		snprintf(to, sizeof(to), "default");
	else
		ntop(q->family, q->dst.a, to, sizeof(to));
	if (rt.dst_len == 0 && !q->numeric) {
		snprintf(dst, sizeof(dst), "default");
		snprintf(mask, sizeof(mask), "default");
	} else {
		ntop(q->family, rt.dst, dst, sizeof(dst));
		mask_str(q->family, rt.dst_len, mask, sizeof(mask));
	}
	printf("   route to: %s\n", to);
	printf("destination: %s\n", dst);
	if (rt.dst_len != full)
		printf("       mask: %s\n", mask);
	if (rt.has_gw) {
		ntop(q->family, rt.gw, gw, sizeof(gw));
		printf("    gateway: %s\n", gw);
	}
	printf("        fib: 0\n");
	if (rt.oif)
		printf("  interface: %s\n", l ? l->name : "?");
	lj_buf fl = {0};
	lj_buf_adds(&fl, "<UP");
	if (rt.has_gw)
		lj_buf_adds(&fl, ",GATEWAY");
	if (rt.dst_len == full)
		lj_buf_adds(&fl, ",HOST");
	if (rt.type == RTN_UNREACHABLE || rt.type == RTN_PROHIBIT)
		lj_buf_adds(&fl, ",REJECT");
	lj_buf_adds(&fl, ",DONE");
	if (rt.protocol == RTPROT_STATIC || rt.protocol == RTPROT_BOOT)
		lj_buf_adds(&fl, ",STATIC");
	if (rt.type == RTN_BLACKHOLE)
		lj_buf_adds(&fl, ",BLACKHOLE");
	if (rt.protocol == RTPROT_KERNEL && rt.type == RTN_UNICAST)
		lj_buf_adds(&fl, ",PINNED");
	if (rt.type == RTN_LOCAL)
		lj_buf_adds(&fl, ",LOCAL");
	lj_buf_addc(&fl, '>');
	printf("      flags: %s\n", lj_buf_str(&fl));
	lj_buf_free(&fl);
	unsigned long mtu = rt.mtu ? rt.mtu : l ? l->mtu : 0;
	printf(" recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire\n");
	printf("%8lu  %8lu  %8lu  %8lu  %8lu  %8lu  %8ld \n", 0ul, 0ul, 0ul, 0ul, mtu, 1ul,
	       (long)rt.expires);
	return 0;
}

static void route_dest(const struct lj_route *rt, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	int full = rt->family == AF_INET ? 32 : 128;
	ntop(rt->family, rt->dst, a, sizeof(a));
	if (rt->dst_len == 0)
		snprintf(buf, n, "default");
	else if (rt->dst_len == full)
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s/%d", a, rt->dst_len);
}

static int do_flush(const char *prog, struct lj_nl *nl, const struct route_req *q)
{
	lj_err e;
	lj_autofree struct lj_route *v = NULL;
	size_t n = 0;
	if (lj_net_routes(nl, q->family, 0, &v, &n, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].has_gw)
			continue; /* FreeBSD flushes gateway routes only */
		char d[INET6_ADDRSTRLEN + 8], g[INET6_ADDRSTRLEN];
		route_dest(&v[i], d, sizeof(d));
		ntop(v[i].family, v[i].gw, g, sizeof(g));
		if (lj_net_route_del(nl, &v[i], &e) < 0) {
			fprintf(stderr, "%s: message indicates error: %s\n", prog,
			        strerror(e.errnum ? e.errnum : EINVAL));
			rc = 1;
			continue;
		}
		if (!q->quiet)
			printf("%-20.20s %-20.20s -fib %-3d done\n", d, g, 0);
	}
	return rc;
}

struct route_run {
	const char *prog;
	struct route_req *q;
};

static int route_run(void *arg)
{
	struct route_run *c = arg;
	const char *prog = c->prog;
	struct route_req *q = c->q;
	lj_err e;
	struct lj_nl *nl = lj_nl_open(&e);
	if (!nl) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	int rc = 0;
	if (q->cmd == R_GET) {
		rc = do_get(prog, nl, q);
	} else if (q->cmd == R_FLUSH) {
		rc = do_flush(prog, nl, q);
	} else {
		int oif = 0;
		if (q->iface && q->gw_text && (oif = lj_net_ifindex(nl, q->gw_text, &e)) < 0) {
			fprintf(stderr, "%s: bad address: %s\n", prog, q->gw_text);
			lj_nl_close(nl);
			return EX_NOHOST;
		}
		struct lj_route rt;
		to_route(q, &rt, oif);
		int r = q->cmd == R_ADD      ? lj_net_route_add(nl, &rt, false, &e)
		        : q->cmd == R_CHANGE ? lj_net_route_add(nl, &rt, true, &e)
		                             : lj_net_route_del(nl, &rt, &e);
		if (r == 0) {
			if (!q->quiet)
				print_line(q, false, NULL);
		} else {
			int err = e.errnum ? e.errnum : EINVAL;
			if (err == ENOENT)
				err = ESRCH;
			if (err == ESRCH)
				fprintf(stderr, "%s: route has not been found\n", prog);
			else
				fprintf(stderr, "%s: message indicates error: %s\n", prog,
				        strerror(err));
			print_line(q, true, lj_route_errmsg(err));
			rc = 1;
		}
	}
	lj_nl_close(nl);
	fflush(stdout);
	return rc;
}

int lj_route_main(int argc, char **argv)
{
	const char *prog = prog_name(argc > 0 ? argv[0] : NULL);
	struct route_req q;
	int rc = lj_route_parse(prog, argc, argv, &q);
	if (rc)
		return rc;
	if (q.cmd != R_GET && geteuid() != 0) {
		fprintf(stderr, "%s: must be root to alter routing table\n", prog);
		return EX_NOPERM;
	}
	struct route_run c = {.prog = prog, .q = &q};
	if (!q.jail)
		return route_run(&c);
	lj_err e;
	int fd = lj_net_jail_netns_fd(q.jail, &e);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	rc = lj_net_in_netns(fd, route_run, &c, &e);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	return rc;
}
