/* pf -> nftables: the compiler, the libnftables runner, and the state kept beside the table.
 *
 * Layout (one table, `inet ljail_pf`, replaced whole on every load):
 *   r_in / r_out          the filter rules of pf's "in" and "out" (regular chains)
 *   r_nat_pre / r_nat_post rdr (dnat) and nat/binat (snat) rules
 *   filter_in   prerouting, after dstnat  -> sees rdr'ed destinations, as pf filter rules do
 *   filter_out  postrouting, after srcnat -> sees nat'ed sources
 *   nat_pre / nat_post  the NAT hooks
 * The base chains jump to the rule chains only while pf is enabled (pfctl -e), so loading and
 * enabling stay separate as in FreeBSD. PF's "last matching rule wins unless quick" becomes
 * first-match by emitting quick rules in order, then the others in reverse order, each with a
 * terminal verdict. keep state sets bit 0 of the conntrack mark; established/related packets of
 * such flows are accepted at the top of the chains. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pf/pf_int.h"

#define CT_STATE   0x1u
#define CT_NATPASS 0x2u

/* ---- libnftables ---------------------------------------------------------------------------- */

int lj_pf_nft_run(const char *script, bool dry, lj_buf *output, lj_err *e)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return lj_errorx(e, "nftables: cannot create a context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	nft_ctx_set_dry_run(ctx, dry);
	int rc = nft_run_cmd_from_buffer(ctx, script);
	if (rc != 0) {
		const char *err = nft_ctx_get_error_buffer(ctx);
		char *msg = xstrdup(err ? err : "");
		size_t n = strlen(msg);
		while (n && msg[n - 1] == '\n')
			msg[--n] = '\0';
		lj_errorx(e, "nftables: %s", *msg ? msg : "command failed");
		free(msg);
	} else if (output) {
		const char *out = nft_ctx_get_output_buffer(ctx);
		if (out)
			lj_buf_adds(output, out);
	}
	nft_ctx_free(ctx);
	return rc == 0 ? 0 : -1;
}

/* ---- kernel probe --------------------------------------------------------------------------- */

void lj_pf_probe(struct lj_pf_kernel *k)
{
	memset(k, 0, sizeof(*k));
	k->br_netfilter = access("/proc/sys/net/bridge/bridge-nf-call-iptables", W_OK) == 0;
	/* bridge conntrack: a ct match in a bridge-family chain only validates with it */
	k->bridge_conntrack =
	        lj_pf_nft_run("table bridge ljail_pf_probe { chain c { type filter hook forward "
	                      "priority 0; ct state established accept; } }",
	                      true, NULL, NULL) == 0;
}

/* ---- the compiler ---------------------------------------------------------------------------- */

struct cc {
	const struct lj_pf_conf *c;
	lj_buf *out;
	lj_err *e;
	int idx;            /* pf rule index in the saved text (for counters) */
	bool brmark;        /* bridged frames carry their port in the packet mark */
	lj_strv ports;      /* interface names rules name; mark = LJ_PF_MARK | (index + 1) */
	const char *lookup; /* a group's set lookup: ends the match, counters are per element */
};

#define LJ_PF_MARK 0x4c4a0000u /* "LJ": marks set by ljail's bridge chains */

static void set_name(char *buf, size_t n, const char *prefix, const char *table)
{
	snprintf(buf, n, "%s", prefix);
	size_t l = strlen(buf);
	for (const char *s = table; *s && l < n - 1; s++)
		buf[l++] = (isalnum((unsigned char)*s) || *s == '_') ? *s : '_';
	buf[l] = '\0';
}

static void add_addr_text(lj_buf *b, const uint8_t *a, int af, int prefix)
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(af, a, buf, sizeof(buf));
	lj_buf_adds(b, buf);
	if (prefix != (af == AF_INET ? 32 : 128))
		lj_buf_addf(b, "/%d", prefix);
}

/* "on IF" as nft matches, one string per alternative rule. With br_netfilter the inet hooks see a
 * bridged packet on the bridge itself, so `on bridge0` is a plain iifname match, and the member
 * port it entered (or leaves) by is read from the mark set by the bridge-family chains
 * (ARCHITECTURE §4: the packet is evaluated once, and `on IF` matches the bridge and the port). */
static int if_variants(struct cc *cc, const struct lj_pf_rule *r, bool in, char *out[2])
{
	out[0] = out[1] = NULL;
	if (!r->ifname[0]) {
		out[0] = xstrdup("");
		return 1;
	}
	const char *lname = lj_pf_linux_ifname(r->ifname);
	const char *m = in ? "iifname" : "oifname";
	int id = 0;
	for (size_t i = 0; cc->brmark && i < cc->ports.n; i++)
		if (strcmp(cc->ports.v[i], lname) == 0)
			id = (int)i + 1;
	if (r->ifnot) {
		if (id)
			out[0] = xasprintf(" %s != \"%s\" meta mark != 0x%x", m, lname,
			                   LJ_PF_MARK | id);
		else
			out[0] = xasprintf(" %s != \"%s\"", m, lname);
		return 1;
	}
	out[0] = xasprintf(" %s \"%s\"", m, lname);
	if (!id)
		return 1;
	out[1] = xasprintf(" meta mark 0x%x", LJ_PF_MARK | id);
	return 2;
}

/* Address match for one family (4 or 6). Returns 1 when this family variant cannot match. */
static int addr_expr(struct cc *cc, lj_buf *b, const struct lj_pf_addr *a, int af, const char *dir)
{
	const char *fam = af == AF_INET ? "ip" : "ip6";
	const char *op = a->neg ? "!= " : "";
	char sn[80];
	switch (a->type) {
	case LJ_PF_A_ADDR:
		if (a->af == 0)
			return 0;
		if (a->af != af)
			return a->neg ? 0 : 1;
		lj_buf_addf(b, " %s %s %s", fam, dir, op);
		add_addr_text(b, a->a, af, a->prefix);
		return 0;
	case LJ_PF_A_RANGE: {
		if (a->af != af)
			return a->neg ? 0 : 1;
		char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
		inet_ntop(af, a->a, x, sizeof(x));
		inet_ntop(af, a->b, y, sizeof(y));
		lj_buf_addf(b, " %s %s %s%s-%s", fam, dir, op, x, y);
		return 0;
	}
	case LJ_PF_A_TABLE: {
		set_name(sn, sizeof(sn), af == AF_INET ? "t4_" : "t6_", a->name);
		lj_buf_addf(b, " %s %s %s@%s", fam, dir, op, sn);
		if (!a->neg) {
			set_name(sn, sizeof(sn), af == AF_INET ? "n4_" : "n6_", a->name);
			lj_buf_addf(b, " %s %s != @%s", fam, dir, sn);
		}
		return 0;
	}
	case LJ_PF_A_DYN: {
		/* resolved now: pfctl -f again after the interface's addresses change */
		char spec[80];
		snprintf(spec, sizeof(spec), "%s", a->name);
		struct lj_pf_ifaddr *ia = NULL;
		bool exists;
		int n = lj_pf_ifaddrs(spec, &ia, &exists);
		lj_buf set = {0};
		int cnt = 0;
		bool seen = false;
		for (int i = 0; i < n; i++) {
			if (ia[i].af != af)
				continue;
			if ((a->dynflags & LJ_PF_DYN_NOALIAS) && seen)
				continue;
			seen = true;
			uint8_t addr[16];
			int prefix = af == AF_INET ? 32 : 128;
			memcpy(addr, ia[i].addr, 16);
			if (a->dynflags & LJ_PF_DYN_BROADCAST) {
				if (!ia[i].has_bcast)
					continue;
				memcpy(addr, ia[i].bcast, 16);
			} else if (a->dynflags & LJ_PF_DYN_NETWORK)
				prefix = ia[i].prefix;
			if (a->prefix < prefix)
				prefix = a->prefix;
			lj_pf_mask_addr(addr, af, prefix);
			lj_buf_adds(&set, cnt++ ? ", " : "");
			add_addr_text(&set, addr, af, prefix);
		}
		free(ia);
		if (!cnt) {
			lj_buf_free(&set);
			return a->neg ? 0 : 1;
		}
		lj_buf_addf(b, " %s %s %s{ %s }", fam, dir, op, lj_buf_str(&set));
		lj_buf_free(&set);
		return 0;
	}
	default:
		lj_errorx(cc->e, "line %d: no-route and urpf-failed are not supported on Linux", 0);
		return -1;
	}
}

static void port_expr(lj_buf *b, const struct lj_pf_port *p, int proto, const char *dir,
                      bool *never)
{
	const char *l4 = proto == IPPROTO_UDP ? "udp" : "tcp";
	switch (p->op) {
	case LJ_PF_OP_NONE:
		return;
	case LJ_PF_OP_EQ:
		lj_buf_addf(b, " %s %s %u", l4, dir, p->p1);
		return;
	case LJ_PF_OP_NE:
		lj_buf_addf(b, " %s %s != %u", l4, dir, p->p1);
		return;
	case LJ_PF_OP_LT:
		lj_buf_addf(b, " %s %s < %u", l4, dir, p->p1);
		return;
	case LJ_PF_OP_LE:
		lj_buf_addf(b, " %s %s <= %u", l4, dir, p->p1);
		return;
	case LJ_PF_OP_GT:
		lj_buf_addf(b, " %s %s > %u", l4, dir, p->p1);
		return;
	case LJ_PF_OP_GE:
		lj_buf_addf(b, " %s %s >= %u", l4, dir, p->p1);
		return;
	case LJ_PF_OP_RRG:
		if (p->p1 == p->p2)
			lj_buf_addf(b, " %s %s %u", l4, dir, p->p1);
		else
			lj_buf_addf(b, " %s %s %u-%u", l4, dir, p->p1 < p->p2 ? p->p1 : p->p2,
			            p->p1 < p->p2 ? p->p2 : p->p1);
		return;
	case LJ_PF_OP_IRG:
		if (p->p2 <= p->p1 + 1) {
			*never = true;
			return;
		}
		if (p->p1 + 1 == p->p2 - 1)
			lj_buf_addf(b, " %s %s %u", l4, dir, p->p1 + 1);
		else
			lj_buf_addf(b, " %s %s %u-%u", l4, dir, p->p1 + 1, p->p2 - 1);
		return;
	case LJ_PF_OP_XRG:
		lj_buf_addf(b, " %s %s != %u-%u", l4, dir, p->p1, p->p2);
		return;
	}
}

static void tcpflags(lj_buf *b, uint8_t f)
{
	static const char *const names[] = {"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"};
	int n = 0;
	for (int i = 0; i < 8; i++)
		if (f & (1 << i))
			lj_buf_addf(b, "%s%s", n++ ? " | " : "", names[i]);
	if (!n)
		lj_buf_adds(b, "0x0");
}

static const char *reject_icmp_name(int code, bool v6)
{
	if (v6) {
		static const char *const n6[] = {"no-route", "admin-prohibited", NULL,
		                                 "addr-unreachable", "port-unreachable"};
		return code >= 0 && code <= 4 && n6[code] ? n6[code] : "port-unreachable";
	}
	switch (code) {
	case 0:
		return "net-unreachable";
	case 1:
		return "host-unreachable";
	case 2:
		return "prot-unreachable";
	case 9:
		return "net-prohibited";
	case 10:
		return "host-prohibited";
	case 13:
		return "admin-prohibited";
	default:
		return "port-unreachable";
	}
}

/* Emit "add rule" lines for one filter rule in one chain. */
static int emit_filter1(struct cc *cc, const struct lj_pf_rule *r, const char *ifm,
                        const char *chain)
{
	int fams[2], nf = 0;
	bool need_family = r->src.type != LJ_PF_A_ADDR || r->dst.type != LJ_PF_A_ADDR ||
	                   r->src.af != 0 || r->dst.af != 0;
	if (r->af)
		fams[nf++] = r->af;
	else if (need_family) {
		fams[nf++] = AF_INET;
		fams[nf++] = AF_INET6;
	} else
		fams[nf++] = 0;
	for (int fi = 0; fi < nf; fi++) {
		int af = fams[fi];
		lj_buf m = {0};
		bool never = false;
		lj_buf_adds(&m, ifm);
		if (af)
			lj_buf_addf(&m, " meta nfproto %s", af == AF_INET ? "ipv4" : "ipv6");
		if (r->proto)
			lj_buf_addf(&m, " meta l4proto %d", r->proto);
		if (af) {
			int s = addr_expr(cc, &m, &r->src, af, "saddr");
			int d = s ? s : addr_expr(cc, &m, &r->dst, af, "daddr");
			if (s < 0 || d < 0) {
				lj_buf_free(&m);
				return -1;
			}
			if (s || d) {
				lj_buf_free(&m);
				continue;
			}
		}
		port_expr(&m, &r->sport, r->proto, "sport", &never);
		port_expr(&m, &r->dport, r->proto, "dport", &never);
		if (r->icmp_type) {
			const char *t = af == AF_INET6 ? "icmpv6" : "icmp";
			lj_buf_addf(&m, " %s type %d", t, r->icmp_type - 1);
			if (r->icmp_code)
				lj_buf_addf(&m, " %s code %d", t, r->icmp_code - 1);
		}
		if (never) {
			lj_buf_free(&m);
			continue;
		}
		/* variants: flags only apply to TCP (non-TCP packets match a proto-less rule) */
		lj_buf fl = {0}, tcpv = {0};
		const char *variants[2] = {"", NULL};
		if (r->flagset) {
			lj_buf_adds(&fl, " tcp flags & (");
			tcpflags(&fl, r->flagset);
			lj_buf_adds(&fl, ") == ");
			if (r->flags & r->flagset) {
				lj_buf_adds(&fl, "(");
				tcpflags(&fl, r->flags & r->flagset);
				lj_buf_adds(&fl, ")");
			} else
				lj_buf_adds(&fl, "0x0");
			if (r->proto == IPPROTO_TCP)
				variants[0] = lj_buf_str(&fl);
			else {
				variants[0] = " meta l4proto != 6";
				lj_buf_addf(&tcpv, " meta l4proto 6%s", lj_buf_str(&fl));
				variants[1] = lj_buf_str(&tcpv);
			}
		}
		lj_buf verdict = {0};
		if (r->log)
			lj_buf_addf(&verdict, " log prefix \"pf:%d \" group 0", cc->idx);
		if (r->action == LJ_PF_PASS) {
			if (r->keep)
				lj_buf_addf(&verdict, " ct mark set ct mark | 0x%x", CT_STATE);
			lj_buf_adds(&verdict, " accept");
		} else if (r->block == LJ_PF_B_DROP)
			lj_buf_adds(&verdict, " drop");
		const char *vd = lj_buf_str(&verdict);
		for (int v = 0; v < 2 && variants[v]; v++) {
			const char *x = variants[v];
			const char *mm = lj_buf_str(&m);
#define RULE(extra, fmt, ...)                                                                    \
	do {                                                                                     \
		if (cc->lookup)                                                                  \
			lj_buf_addf(cc->out, "add rule inet %s %s%s%s%s%s" fmt "\n",             \
			            LJ_PF_NFT_TABLE, chain, mm, x, extra, cc->lookup,            \
			            __VA_ARGS__);                                                \
		else                                                                             \
			lj_buf_addf(cc->out,                                                     \
			            "add rule inet %s %s%s%s%s counter" fmt                      \
			            " comment \"pf:%d\"\n",                                      \
			            LJ_PF_NFT_TABLE, chain, mm, x, extra, __VA_ARGS__, cc->idx); \
	} while (0)
			if (r->action == LJ_PF_PASS || r->block == LJ_PF_B_DROP) {
				RULE("", "%s", vd);
				continue;
			}
			if (r->block == LJ_PF_B_RST) {
				RULE("", "%s reject with tcp reset", vd);
				continue;
			}
			/* block return: a reset for TCP, ICMP unreachable for the rest */
			bool maybe_tcp = r->proto == 0 || r->proto == IPPROTO_TCP;
			if (r->block == LJ_PF_B_RETURN && maybe_tcp) {
				if (r->proto == IPPROTO_TCP) {
					RULE("", "%s reject with tcp reset", vd);
					continue;
				}
				RULE(" meta l4proto 6", "%s reject with tcp reset", vd);
			}
			if (af == AF_INET)
				RULE("", "%s reject with icmp type %s", vd,
				     reject_icmp_name(r->ret_icmp, false));
			else if (af == AF_INET6)
				RULE("", "%s reject with icmpv6 type %s", vd,
				     reject_icmp_name(r->ret_icmp6, true));
			else
				RULE("", "%s reject with icmpx type %s", vd,
				     r->block == LJ_PF_B_ICMP && r->ret_icmp == 13
				             ? "admin-prohibited"
				     : r->block == LJ_PF_B_ICMP && r->ret_icmp == 1
				             ? "host-unreachable"
				             : "port-unreachable");
#undef RULE
		}
		lj_buf_free(&verdict);
		lj_buf_free(&tcpv);
		lj_buf_free(&fl);
		lj_buf_free(&m);
	}
	return 0;
}

static int emit_filter(struct cc *cc, const struct lj_pf_rule *r, bool in, const char *chain)
{
	char *v[2];
	int n = if_variants(cc, r, in, v), rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = emit_filter1(cc, r, v[i], chain);
	free(v[0]);
	free(v[1]);
	return rc;
}

/* ---- groups: a list's expansion as one rule and a set ------------------------------------------
 * `from { A, B } to port { P1, P2 }` expands into A×P rules that differ only in the source host and
 * the destination port. Adjacent rules of that shape with the same everything else become one nft
 * rule per chain and interface variant, whose last match is `ip saddr . tcp dport @mN`; the set
 * has a counter per element, commented "pf:N" like the rule it stands for, so pfctl -v still
 * shows each expanded rule's counts. A run of such rules has one verdict, so matching their union
 * is what first-match over them did; loading costs a set element instead of a rule each. */
#define GROUP_MAX 64

static bool set_member(const struct lj_pf_rule *r)
{
	const struct lj_pf_addr *a = &r->src;
	int host = r->af == AF_INET ? 32 : 128;
	return r->kind == LJ_PF_K_FILTER && !r->log &&
	       (r->action == LJ_PF_PASS || r->block == LJ_PF_B_DROP) &&
	       (r->af == AF_INET || r->af == AF_INET6) &&
	       (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) && a->type == LJ_PF_A_ADDR &&
	       a->af == r->af && a->prefix == host && !a->neg && r->dport.op == LJ_PF_OP_EQ;
}

static bool same_addr(const struct lj_pf_addr *a, const struct lj_pf_addr *b)
{
	return a->type == b->type && a->af == b->af && a->prefix == b->prefix && a->neg == b->neg &&
	       a->dynflags == b->dynflags && memcmp(a->a, b->a, 16) == 0 &&
	       memcmp(a->b, b->b, 16) == 0 && strcmp(a->name, b->name) == 0;
}

/* b may join a's group: equal but for the source host and the destination port */
static bool group_same(const struct lj_pf_rule *a, const struct lj_pf_rule *b)
{
	return set_member(b) && a->action == b->action && a->block == b->block &&
	       a->quick == b->quick && a->dir == b->dir && a->af == b->af && a->proto == b->proto &&
	       strcmp(a->ifname, b->ifname) == 0 && a->ifnot == b->ifnot &&
	       same_addr(&a->dst, &b->dst) && a->sport.op == b->sport.op &&
	       a->sport.p1 == b->sport.p1 && a->sport.p2 == b->sport.p2 && a->flags == b->flags &&
	       a->flagset == b->flagset && a->icmp_type == b->icmp_type &&
	       a->icmp_code == b->icmp_code && a->keep == b->keep;
}

static int emit_group(struct cc *cc, const int *g, int ng)
{
	const struct lj_pf_rule *rules = cc->c->rules, *r0 = &rules[g[0]];
	bool v6 = r0->af == AF_INET6;
	const char *l4 = r0->proto == IPPROTO_UDP ? "udp" : "tcp";
	char set[32];
	snprintf(set, sizeof(set), "m%d", g[0]);
	lj_buf_addf(cc->out,
	            "add set inet %s %s { type %s . inet_service; counter; }\n"
	            "add element inet %s %s { ",
	            LJ_PF_NFT_TABLE, set, v6 ? "ipv6_addr" : "ipv4_addr", LJ_PF_NFT_TABLE, set);
	for (int k = 0; k < ng; k++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(r0->af, rules[g[k]].src.a, a, sizeof(a));
		lj_buf_addf(cc->out, "%s%s . %u comment \"pf:%d\"", k ? ", " : "", a,
		            rules[g[k]].dport.p1, g[k]);
	}
	lj_buf_adds(cc->out, " }\n");
	char *lookup = xasprintf(" %s saddr . %s dport @%s", v6 ? "ip6" : "ip", l4, set);
	struct lj_pf_rule r = *r0;
	memset(&r.src, 0, sizeof(r.src));
	memset(&r.dport, 0, sizeof(r.dport));
	cc->lookup = lookup;
	cc->idx = g[0];
	int rc = 0;
	if (r.dir != LJ_PF_OUT)
		rc = emit_filter(cc, &r, true, "r_in");
	if (rc == 0 && r.dir != LJ_PF_IN)
		rc = emit_filter(cc, &r, false, "r_out");
	cc->lookup = NULL;
	free(lookup);
	return rc;
}

static int emit_nat1(struct cc *cc, const struct lj_pf_rule *r, const char *ifm)
{
	bool pre = r->kind == LJ_PF_K_RDR;
	const char *chain = pre ? "r_nat_pre" : "r_nat_post";
	int af = r->af;
	if (!af) {
		if (r->no) {
			af = 0;
		} else
			return lj_errorx(cc->e, "line %d: translation rules need an address family",
			                 r->line);
	}
	lj_buf m = {0};
	lj_buf_adds(&m, ifm);
	if (af)
		lj_buf_addf(&m, " meta nfproto %s", af == AF_INET ? "ipv4" : "ipv6");
	if (r->proto)
		lj_buf_addf(&m, " meta l4proto %d", r->proto);
	bool never = false;
	if (af) {
		int s = addr_expr(cc, &m, &r->src, af, "saddr");
		int d = s ? s : addr_expr(cc, &m, &r->dst, af, "daddr");
		if (s < 0 || d < 0) {
			lj_buf_free(&m);
			return -1;
		}
		never = s || d;
	}
	port_expr(&m, &r->sport, r->proto, "sport", &never);
	port_expr(&m, &r->dport, r->proto, "dport", &never);
	if (never) {
		lj_buf_free(&m);
		return 0;
	}
	const char *fam = af == AF_INET ? "ip" : "ip6";
	lj_buf stmt = {0};
	int rc = 0;
	if (r->no)
		lj_buf_adds(&stmt, " accept");
	else if (r->npool != 1 ||
	         (r->pool[0].type != LJ_PF_A_ADDR && r->pool[0].type != LJ_PF_A_DYN)) {
		rc = lj_errorx(cc->e,
		               "line %d: only one address or (interface) can be a translation "
		               "target on Linux",
		               r->line);
	} else if (r->kind == LJ_PF_K_NAT && r->pool[0].type == LJ_PF_A_DYN) {
		lj_buf_adds(&stmt, " masquerade");
	} else if (r->pool[0].type == LJ_PF_A_DYN) {
		rc = lj_errorx(cc->e, "line %d: rdr and binat need an address on Linux", r->line);
	} else {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(af, r->pool[0].a, a, sizeof(a));
		bool v6 = af == AF_INET6;
		if (r->kind == LJ_PF_K_NAT) {
			lj_buf_addf(&stmt, " snat %s to %s%s%s", fam, v6 ? "[" : "", a,
			            v6 ? "]" : "");
		} else if (r->kind == LJ_PF_K_RDR) {
			lj_buf_addf(&stmt, " dnat %s to %s%s%s", fam, v6 ? "[" : "", a,
			            v6 ? "]" : "");
			if (r->pport1) {
				if (r->pport2 && r->pport2 != r->pport1 &&
				    !(r->dport.op == LJ_PF_OP_RRG && r->pport2 - r->pport1 == 0))
					rc = lj_errorx(
					        cc->e,
					        "line %d: rdr to a port range is not supported on "
					        "Linux",
					        r->line);
				lj_buf_addf(&stmt, ":%u", r->pport1);
			}
		} else {
			/* binat: outbound snat here, inbound dnat in nat_pre */
			lj_buf_addf(&stmt, " snat %s to %s%s%s", fam, v6 ? "[" : "", a,
			            v6 ? "]" : "");
			char s[INET6_ADDRSTRLEN];
			inet_ntop(af, r->src.a, s, sizeof(s));
			lj_buf_addf(
			        cc->out,
			        "add rule inet %s r_nat_pre%s%s%s%s %s daddr %s counter dnat %s to "
			        "%s%s%s comment \"pf:%d\"\n",
			        LJ_PF_NFT_TABLE, r->ifname[0] ? " iifname { " : "",
			        r->ifname[0] ? "\"" : "",
			        r->ifname[0] ? lj_pf_linux_ifname(r->ifname) : "",
			        r->ifname[0] ? "\" }" : "", fam, a, fam, v6 ? "[" : "", s,
			        v6 ? "]" : "", cc->idx);
		}
		if (r->natpass)
			lj_buf_addf(&stmt, " ct mark set ct mark | 0x%x", CT_NATPASS);
	}
	if (rc == 0) {
		/* ct mark must be set before the (terminal) nat statement */
		lj_buf line = {0};
		if (r->natpass && !r->no) {
			const char *nat = lj_buf_str(&stmt);
			const char *ct = strstr(nat, " ct mark set");
			lj_buf_addf(&line, "%s %.*s", ct, (int)(ct - nat), nat);
		} else
			lj_buf_adds(&line, lj_buf_str(&stmt));
		lj_buf_addf(cc->out, "add rule inet %s %s%s counter%s comment \"pf:%d\"\n",
		            LJ_PF_NFT_TABLE, chain, lj_buf_str(&m), lj_buf_str(&line), cc->idx);
		lj_buf_free(&line);
	}
	lj_buf_free(&stmt);
	lj_buf_free(&m);
	return rc;
}

static int emit_nat(struct cc *cc, const struct lj_pf_rule *r)
{
	char *v[2];
	int n = if_variants(cc, r, r->kind == LJ_PF_K_RDR, v), rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = emit_nat1(cc, r, v[i]);
	free(v[0]);
	free(v[1]);
	return rc;
}

static void emit_table_sets(lj_buf *out, const char *name, const struct lj_pf_addr *a, int n)
{
	static const char *const pre[] = {"t4_", "t6_", "n4_", "n6_"};
	for (int k = 0; k < 4; k++) {
		int af = (k % 2) ? AF_INET6 : AF_INET;
		bool neg = k >= 2;
		char sn[80];
		set_name(sn, sizeof(sn), pre[k], name);
		lj_buf_addf(out, "add set inet %s %s { type %s; flags interval; auto-merge; }\n",
		            LJ_PF_NFT_TABLE, sn, af == AF_INET ? "ipv4_addr" : "ipv6_addr");
		lj_buf el = {0};
		for (int i = 0; i < n; i++) {
			if (a[i].af != af || a[i].neg != neg)
				continue;
			lj_buf_adds(&el, el.len ? ", " : "");
			add_addr_text(&el, a[i].a, af, a[i].prefix);
		}
		if (el.len)
			lj_buf_addf(out, "add element inet %s %s { %s }\n", LJ_PF_NFT_TABLE, sn,
			            lj_buf_str(&el));
		lj_buf_free(&el);
	}
}

static void skeleton(lj_buf *out, bool enabled)
{
	static const struct {
		const char *name, *hook, *type, *prio, *rules;
	} base[] = {
	        {"nat_pre", "prerouting", "nat", "dstnat", "r_nat_pre"},
	        {"nat_post", "postrouting", "nat", "srcnat", "r_nat_post"},
	        {"filter_in", "prerouting", "filter", "dstnat + 10", "r_in"},
	        {"filter_out", "postrouting", "filter", "srcnat + 10", "r_out"},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(base); i++)
		lj_buf_addf(out, "add chain inet %s %s\n", LJ_PF_NFT_TABLE, base[i].rules);
	for (size_t i = 0; i < LJ_ARRAY_LEN(base); i++) {
		lj_buf_addf(
		        out,
		        "add chain inet %s %s { type %s hook %s priority %s; policy accept; }\n",
		        LJ_PF_NFT_TABLE, base[i].name, base[i].type, base[i].hook, base[i].prio);
		if (enabled)
			lj_buf_addf(out, "add rule inet %s %s jump %s\n", LJ_PF_NFT_TABLE,
			            base[i].name, base[i].rules);
	}
}

/* The bridge-family helper: marks each bridged frame with the port it entered by (prerouting)
 * and the port it leaves by (postrouting), for the ports the rules name. */
static void emit_bridge(struct cc *cc)
{
	lj_buf *o = cc->out;
	lj_buf_addf(o, "add table bridge %s\ndelete table bridge %s\nadd table bridge %s\n",
	            LJ_PF_NFT_BRTABLE, LJ_PF_NFT_BRTABLE, LJ_PF_NFT_BRTABLE);
	static const char *const hooks[] = {"prerouting", "postrouting"};
	for (int h = 0; h < 2; h++) {
		lj_buf_addf(o, "add chain bridge %s %s { type filter hook %s priority -300; }\n",
		            LJ_PF_NFT_BRTABLE, hooks[h], hooks[h]);
		lj_buf_addf(
		        o, "add rule bridge %s %s meta mark & 0xffff0000 == 0x%x meta mark set 0\n",
		        LJ_PF_NFT_BRTABLE, hooks[h], LJ_PF_MARK);
		if (!cc->ports.n)
			continue;
		lj_buf_addf(o, "add rule bridge %s %s meta mark set %s map { ", LJ_PF_NFT_BRTABLE,
		            hooks[h], h == 0 ? "iifname" : "oifname");
		for (size_t i = 0; i < cc->ports.n; i++)
			lj_buf_addf(o, "%s\"%s\" : 0x%x", i ? ", " : "", cc->ports.v[i],
			            LJ_PF_MARK | (unsigned)(i + 1));
		lj_buf_adds(o, " }\n");
	}
}

static int compile(const struct lj_pf_conf *c, const struct lj_pf_kernel *k, bool enabled,
                   lj_buf *out, lj_err *e)
{
	struct cc cc = {.c = c, .out = out, .e = e, .brmark = k && k->br_netfilter};
	int rc = -1;
	for (int i = 0; i < c->nrules; i++) {
		const char *n = lj_pf_linux_ifname(c->rules[i].ifname);
		if (*n && !lj_strv_contains(&cc.ports, n))
			lj_strv_add(&cc.ports, n);
	}
	if (cc.brmark)
		emit_bridge(&cc);
	lj_buf_addf(out, "add table inet %s\ndelete table inet %s\nadd table inet %s\n",
	            LJ_PF_NFT_TABLE, LJ_PF_NFT_TABLE, LJ_PF_NFT_TABLE);
	/* tables: defined ones, then the ones rules name without defining them (empty) */
	lj_strv names = {0};
	for (int i = 0; i < c->ntables; i++) {
		emit_table_sets(out, c->tables[i].name, c->tables[i].addrs, c->tables[i].naddrs);
		lj_strv_add(&names, c->tables[i].name);
	}
	for (int i = 0; i < c->nrules; i++) {
		const struct lj_pf_addr *as[2] = {&c->rules[i].src, &c->rules[i].dst};
		for (int k = 0; k < 2; k++)
			if (as[k]->type == LJ_PF_A_TABLE &&
			    !lj_strv_contains(&names, as[k]->name)) {
				emit_table_sets(out, as[k]->name, NULL, 0);
				lj_strv_add(&names, as[k]->name);
			}
	}
	lj_strv_free(&names);
	skeleton(out, enabled);
	/* chain heads: skip interfaces, established flows of stateful rules, nat pass */
	const char *heads[] = {"r_in", "r_out"};
	for (int h = 0; h < 2; h++) {
		for (size_t i = 0; i < c->skip.n; i++)
			lj_buf_addf(out, "add rule inet %s %s %s \"%s\" accept\n", LJ_PF_NFT_TABLE,
			            heads[h], h == 0 ? "iifname" : "oifname",
			            lj_pf_linux_ifname(c->skip.v[i]));
		lj_buf_addf(
		        out,
		        "add rule inet %s %s ct state established,related ct mark & 0x%x == 0x%x "
		        "accept\n",
		        LJ_PF_NFT_TABLE, heads[h], CT_STATE, CT_STATE);
		lj_buf_addf(out, "add rule inet %s %s ct mark & 0x%x == 0x%x accept\n",
		            LJ_PF_NFT_TABLE, heads[h], CT_NATPASS, CT_NATPASS);
	}
	/* translation: first match wins, in order; indexes count every printed rule */
	int idx = 0;
	for (int i = 0; i < c->nrules; i++, idx++) {
		if (c->rules[i].kind == LJ_PF_K_FILTER)
			continue;
		cc.idx = idx;
		if (emit_nat(&cc, &c->rules[i]) < 0)
			goto out;
	}
	/* filter: quick rules in order, then the rest last-first */
	int first = 0;
	while (first < c->nrules && c->rules[first].kind != LJ_PF_K_FILTER)
		first++;
	int nf = c->nrules - first;
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < nf;) {
			int i = pass == 0 ? first + k : c->nrules - 1 - k;
			const struct lj_pf_rule *r = &c->rules[i];
			if (r->quick != (pass == 0)) {
				k++;
				continue;
			}
			/* the run of rules that can share one set (no key twice: a set holds it
			 * once) */
			int g[GROUP_MAX], ng = 1;
			g[0] = i;
			while (set_member(r) && ng < GROUP_MAX && k + ng < nf) {
				int i2 = pass == 0 ? first + k + ng : c->nrules - 1 - k - ng;
				const struct lj_pf_rule *r2 = &c->rules[i2];
				bool dup = false;
				for (int q = 0; q < ng && !dup; q++)
					dup = c->rules[g[q]].dport.p1 == r2->dport.p1 &&
					      memcmp(c->rules[g[q]].src.a, r2->src.a, 16) == 0;
				if (dup || !group_same(r, r2))
					break;
				g[ng++] = i2;
			}
			k += ng;
			if (ng > 1) {
				if (emit_group(&cc, g, ng) < 0)
					goto out;
				continue;
			}
			cc.idx = i;
			if (r->dir != LJ_PF_OUT && emit_filter(&cc, r, true, "r_in") < 0)
				goto out;
			if (r->dir != LJ_PF_IN && emit_filter(&cc, r, false, "r_out") < 0)
				goto out;
		}
	}
	rc = 0;
out:
	lj_strv_free(&cc.ports);
	return rc;
}

int lj_pf_compile(const struct lj_pf_conf *c, const struct lj_pf_kernel *k, lj_buf *out, lj_err *e)
{
	lj_pf_ifcache_hold();
	int rc = compile(c, k, true, out, e);
	lj_pf_ifcache_release();
	return rc;
}

/* ---- state beside the table ----------------------------------------------------------------- */

/* The network namespace's cookie (SO_NETNS_COOKIE): never given to another namespace while the
 * machine runs, where its inode number is, once it is gone. 0 if the kernel has none. */
static uint64_t netns_cookie(void)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof cookie;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0 && getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		cookie = 0;
	if (s >= 0)
		close(s);
	return cookie;
}

/* Every file of a state directory. */
static void state_wipe(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* Nothing of this namespace's kept but its cookie (pf not enabled): the directory goes. */
static void state_dir_drop_if_empty(void)
{
	char *dir = NULL;
	if (lj_pf_state_dir(&dir, NULL) < 0) {
		free(dir);
		return;
	}
	DIR *d = opendir(dir);
	bool other = false;
	for (struct dirent *de; d && !other && (de = readdir(d));)
		other = de->d_name[0] != '.' && strcmp(de->d_name, "netns") != 0;
	if (d)
		closedir(d);
	if (d && !other) {
		char *p = xasprintf("%s/netns", dir);
		unlink(p);
		free(p);
		rmdir(dir);
	}
	free(dir);
}

/* The directory is named by the namespace's inode number, which the kernel gives to a new
 * namespace once the old one is gone (a restarted jail's): the cookie kept inside tells a dead
 * namespace's state, which goes, from this one's. */
int lj_pf_state_dir(char **out, lj_err *e)
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		return lj_error(e, errno, "stat /proc/self/ns/net");
	const char *rd = getenv("LJAIL_RUNDIR");
	*out = xasprintf("%s/pf/%lu", rd && *rd ? rd : "/run/ljail", (unsigned long)st.st_ino);
	if (lj_mkdir_p(*out, 0700, e) < 0)
		return -1;
	uint64_t cookie = netns_cookie();
	if (!cookie)
		return 0;
	char want[32];
	snprintf(want, sizeof want, "%" PRIu64 "\n", cookie);
	lj_autofree char *path = xasprintf("%s/netns", *out);
	lj_autofree char *have = NULL;
	size_t len;
	if (lj_read_file(path, &have, &len, NULL) == 0 && !strcmp(have, want))
		return 0;
	if (have) /* a dead namespace's */
		state_wipe(*out);
	return lj_write_file_atomic(path, want, strlen(want), 0600, e);
}

static char *state_path(const char *name, lj_err *e)
{
	char *dir = NULL;
	if (lj_pf_state_dir(&dir, e) < 0)
		return NULL;
	char *p = xasprintf("%s/%s", dir, name);
	free(dir);
	return p;
}

static char *state_read(const char *name)
{
	char *p = state_path(name, NULL);
	char *text = NULL;
	size_t len;
	if (p && lj_read_file(p, &text, &len, NULL) < 0)
		text = NULL;
	free(p);
	return text;
}

static int state_write(const char *name, const char *text, lj_err *e)
{
	char *p = state_path(name, e);
	if (!p)
		return -1;
	int rc = lj_write_file_atomic(p, text, strlen(text), 0600, e);
	free(p);
	return rc;
}

static void state_remove(const char *name)
{
	char *p = state_path(name, NULL);
	if (p)
		unlink(p);
	free(p);
}

bool lj_pf_is_enabled(void)
{
	char *s = state_read("enabled");
	bool on = s != NULL;
	free(s);
	return on;
}

static bool table_exists(void)
{
	return lj_pf_nft_run("list table inet " LJ_PF_NFT_TABLE, false, NULL, NULL) == 0;
}

/* br_netfilter, this namespace only: bridged IPv4/IPv6 then crosses the inet hooks once. */
static int brnf_on(lj_err *e)
{
	static const char *const knobs[] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
	                                    "/proc/sys/net/bridge/bridge-nf-call-ip6tables"};
	char *saved = state_read("brnf");
	lj_buf prev = {0};
	for (size_t i = 0; i < LJ_ARRAY_LEN(knobs); i++) {
		char *v = NULL;
		size_t len;
		if (lj_read_file(knobs[i], &v, &len, NULL) < 0)
			continue;
		lj_buf_addf(&prev, "%c", v[0]);
		free(v);
		if (lj_write_str(knobs[i], "1", e) < 0) {
			lj_buf_free(&prev);
			free(saved);
			return -1;
		}
	}
	int rc = 0;
	if (!saved && prev.len)
		rc = state_write("brnf", lj_buf_str(&prev), e);
	free(saved);
	lj_buf_free(&prev);
	return rc;
}

static void brnf_restore(void)
{
	static const char *const knobs[] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
	                                    "/proc/sys/net/bridge/bridge-nf-call-ip6tables"};
	char *saved = state_read("brnf");
	if (!saved)
		return;
	for (size_t i = 0; i < LJ_ARRAY_LEN(knobs) && saved[i]; i++) {
		char v[2] = {saved[i], 0};
		lj_write_str(knobs[i], v, NULL);
	}
	free(saved);
	state_remove("brnf");
}

static void table_state_text(lj_buf *b, const struct lj_pf_addr *a, int n)
{
	for (int i = 0; i < n; i++) {
		lj_buf_adds(b, a[i].neg ? "!" : "");
		add_addr_text(b, a[i].a, a[i].af, a[i].prefix);
		lj_buf_addc(b, '\n');
	}
}

int lj_pf_load(const struct lj_pf_conf *c, lj_err *e)
{
	struct lj_pf_kernel k;
	lj_pf_probe(&k);
	bool enabled = lj_pf_is_enabled();
	lj_buf script = {0};
	lj_pf_ifcache_hold();
	int crc = compile(c, &k, enabled, &script, e);
	lj_pf_ifcache_release();
	if (crc < 0) {
		lj_buf_free(&script);
		return -1;
	}
	if (getenv("LJ_PF_DUMP"))
		fputs(lj_buf_str(&script), stderr);
	/* br_netfilter before the commit, so no bridged packet escapes the new rules */
	if (k.br_netfilter && brnf_on(e) < 0) {
		lj_buf_free(&script);
		return -1;
	}
	if (lj_pf_nft_run(lj_buf_str(&script), false, NULL, e) < 0) {
		lj_buf_free(&script);
		return -1;
	}
	lj_buf_free(&script);
	lj_buf rules = {0}, nat = {0};
	lj_pf_print_rules(&rules, c, 1u << LJ_PF_K_FILTER, 0);
	lj_pf_print_rules(&nat, c,
	                  (1u << LJ_PF_K_NAT) | (1u << LJ_PF_K_RDR) | (1u << LJ_PF_K_BINAT), 0);
	/* the rule list with each line's index, so counters can be found by comment */
	lj_buf idx = {0};
	for (int i = 0; i < c->nrules; i++)
		lj_buf_addf(&idx, "%d\n", i);
	int rc = state_write("rules", lj_buf_str(&rules), e);
	if (rc == 0)
		rc = state_write("nat", lj_buf_str(&nat), e);
	/* and the -P (numeric ports) forms */
	lj_buf_reset(&rules);
	lj_buf_reset(&nat);
	lj_pf_print_rules(&rules, c, 1u << LJ_PF_K_FILTER, LJ_PF_PRINT_NUMERIC);
	lj_pf_print_rules(&nat, c,
	                  (1u << LJ_PF_K_NAT) | (1u << LJ_PF_K_RDR) | (1u << LJ_PF_K_BINAT),
	                  LJ_PF_PRINT_NUMERIC);
	if (rc == 0)
		rc = state_write("rules.numeric", lj_buf_str(&rules), e);
	if (rc == 0)
		rc = state_write("nat.numeric", lj_buf_str(&nat), e);
	lj_buf tl = {0};
	for (int i = 0; rc == 0 && i < c->ntables; i++) {
		lj_buf_adds(&tl, c->tables[i].name);
		lj_buf_addc(&tl, '\n');
		lj_buf tb = {0};
		table_state_text(&tb, c->tables[i].addrs, c->tables[i].naddrs);
		char *n = xasprintf("table.%s", c->tables[i].name);
		rc = state_write(n, lj_buf_str(&tb), e);
		free(n);
		lj_buf_free(&tb);
	}
	if (rc == 0)
		rc = state_write("tables", lj_buf_str(&tl), e);
	lj_buf_free(&tl);
	lj_buf_free(&idx);
	lj_buf_free(&rules);
	lj_buf_free(&nat);
	return rc;
}

int lj_pf_enable(bool on, lj_buf *msg, lj_err *e)
{
	bool was = lj_pf_is_enabled();
	if (on && was)
		return lj_errorx(e, "pf already enabled");
	if (!on && !was)
		return lj_errorx(e, "pf not enabled");
	lj_buf s = {0};
	lj_buf_addf(&s, "add table inet %s\n", LJ_PF_NFT_TABLE);
	skeleton(&s, false);
	static const char *const bases[] = {"nat_pre", "nat_post", "filter_in", "filter_out"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(bases); i++)
		lj_buf_addf(&s, "flush chain inet %s %s\n", LJ_PF_NFT_TABLE, bases[i]);
	if (on) {
		static const char *const rules[] = {"r_nat_pre", "r_nat_post", "r_in", "r_out"};
		for (size_t i = 0; i < LJ_ARRAY_LEN(bases); i++)
			lj_buf_addf(&s, "add rule inet %s %s jump %s\n", LJ_PF_NFT_TABLE, bases[i],
			            rules[i]);
	}
	int rc = lj_pf_nft_run(lj_buf_str(&s), false, NULL, e);
	lj_buf_free(&s);
	if (rc < 0)
		return -1;
	if (on) {
		char *t = xasprintf("%ld\n", (long)time(NULL));
		rc = state_write("enabled", t, e);
		free(t);
		lj_buf_adds(msg, "pf enabled\n");
	} else {
		state_remove("enabled");
		lj_buf_adds(msg, "pf disabled\n");
	}
	return rc;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

int lj_pf_flush(const char *what, lj_buf *msg, lj_err *e)
{
	bool all = strcmp(what, "all") == 0;
	bool rules = all || strcmp(what, "rules") == 0;
	bool nat = all || strcmp(what, "nat") == 0;
	bool tables = all || strcmp(what, "Tables") == 0;
	if (!rules && !nat && !tables && strcmp(what, "states") != 0 && strcmp(what, "info") != 0)
		return lj_errorx(e, "Unknown flush modifier '%s'", what);
	bool exists = table_exists();
	lj_buf s = {0};
	if (exists && !all) {
		if (rules) {
			lj_buf_addf(&s, "flush chain inet %s r_in\nflush chain inet %s r_out\n",
			            LJ_PF_NFT_TABLE, LJ_PF_NFT_TABLE);
		}
		if (nat)
			lj_buf_addf(
			        &s,
			        "flush chain inet %s r_nat_pre\nflush chain inet %s r_nat_post\n",
			        LJ_PF_NFT_TABLE, LJ_PF_NFT_TABLE);
	}
	char *tl = state_read("tables");
	int ntables = count_lines(tl);
	if (tables && exists && !all) {
		/* sets still named by rules cannot go: empty them */
		lj_buf out = {0};
		if (lj_pf_nft_run("list sets table inet " LJ_PF_NFT_TABLE, false, &out, NULL) ==
		    0) {
			const char *p = lj_buf_str(&out);
			while ((p = strstr(p, "set "))) {
				p += 4;
				size_t n = strcspn(p, " {\n");
				lj_buf_addf(&s, "flush set inet %s %.*s\n", LJ_PF_NFT_TABLE, (int)n,
				            p);
			}
		}
		lj_buf_free(&out);
	}
	if (all && exists)
		lj_buf_addf(&s, "delete table inet %s\n", LJ_PF_NFT_TABLE);
	if (all && lj_pf_nft_run("list table bridge " LJ_PF_NFT_BRTABLE, false, NULL, NULL) == 0)
		lj_buf_addf(&s, "delete table bridge %s\n", LJ_PF_NFT_BRTABLE);
	int rc = 0;
	if (s.len)
		rc = lj_pf_nft_run(lj_buf_str(&s), false, NULL, e);
	lj_buf_free(&s);
	if (rc < 0) {
		free(tl);
		return -1;
	}
	if (rules) {
		state_remove("rules");
		state_remove("rules.numeric");
		lj_buf_adds(msg, "rules cleared\n");
	}
	if (nat) {
		state_remove("nat");
		state_remove("nat.numeric");
		lj_buf_adds(msg, "nat cleared\n");
	}
	if (tables) {
		char *save = NULL;
		for (char *n = tl ? strtok_r(tl, "\n", &save) : NULL; n;
		     n = strtok_r(NULL, "\n", &save)) {
			char *f = xasprintf("table.%s", n);
			state_remove(f);
			free(f);
		}
		state_remove("tables");
		lj_buf_addf(msg, "%d tables deleted.\n", ntables);
	}
	if (all) {
		brnf_restore();
		state_dir_drop_if_empty();
	}
	free(tl);
	return 0;
}

/* ---- show ------------------------------------------------------------------------------------ */

struct counter {
	unsigned long long packets, bytes;
};

/* Sum the counters of every nft rule (and set element) carrying comment "pf:N". */
static struct counter *read_counters(int n)
{
	struct counter *cs = xcalloc((size_t)n + 1, sizeof(*cs));
	lj_buf out = {0};
	if (lj_pf_nft_run("list table inet " LJ_PF_NFT_TABLE, false, &out, NULL) == 0) {
		char *save = NULL;
		for (char *l = strtok_r(out.s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			/* rules, and set elements of grouped rules (several may share a line) */
			for (char *k = strstr(l, "counter packets "); k;
			     k = strstr(k + 1, "counter packets ")) {
				char *c = strstr(k, "comment \"pf:");
				if (!c)
					break;
				int i = atoi(c + 12);
				unsigned long long p = 0, b = 0;
				if (sscanf(k, "counter packets %llu bytes %llu", &p, &b) == 2 &&
				    i >= 0 && i < n) {
					cs[i].packets += p;
					cs[i].bytes += b;
				}
			}
		}
	}
	lj_buf_free(&out);
	return cs;
}

static void show_rules(lj_buf *out, const char *text, int base, int verbose, struct counter *cs)
{
	int i = 0;
	for (const char *l = text; l && *l; i++) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (verbose > 1)
			lj_buf_addf(out, "@%d ", i);
		lj_buf_add(out, l, n);
		lj_buf_addc(out, '\n');
		if (verbose) {
			struct counter c = cs ? cs[base + i] : (struct counter){0};
			lj_buf_addf(
			        out,
			        "  [ Evaluations: %-8llu  Packets: %-8llu  Bytes: %-10llu  States: "
			        "%-6u]\n",
			        c.packets, c.packets, c.bytes, 0u);
			lj_buf_addf(out, "  [ Inserted: uid %u pid %u State Creations: %-6u]\n", 0u,
			            0u, 0u);
		}
		l = nl ? nl + 1 : l + n;
	}
}

static void show_info(lj_buf *out)
{
	char *en = state_read("enabled");
	if (en) {
		long since = atol(en), up = (long)time(NULL) - since;
		if (up < 0)
			up = 0;
		lj_buf_addf(
		        out,
		        "Status: Enabled for %ld days %.2ld:%.2ld:%.2ld           Debug: Urgent\n",
		        up / 86400, (up % 86400) / 3600, (up % 3600) / 60, up % 60);
	} else
		lj_buf_adds(out, "Status: Disabled for 0 days 00:00:00           Debug: Urgent\n");
	free(en);
	char *cnt = NULL;
	size_t len;
	unsigned long states = 0;
	if (lj_read_file("/proc/sys/net/netfilter/nf_conntrack_count", &cnt, &len, NULL) == 0)
		states = strtoul(cnt, NULL, 10);
	free(cnt);
	lj_buf_addf(out, "\nState Table                          Total             Rate\n");
	lj_buf_addf(out, "  current entries                    %6lu               \n", states);
}

int lj_pf_show(const char *what, int verbose, bool numeric, lj_buf *out, lj_err *e)
{
	char *rules = state_read(numeric ? "rules.numeric" : "rules");
	char *nat = state_read(numeric ? "nat.numeric" : "nat");
	int nnat = count_lines(nat), nrules = count_lines(rules);
	struct counter *cs = NULL;
	if (verbose && table_exists())
		cs = read_counters(nnat + nrules);
	int rc = 0;
	if (strcmp(what, "rules") == 0 || strcmp(what, "r") == 0)
		show_rules(out, rules, nnat, verbose, cs);
	else if (strcmp(what, "nat") == 0 || strcmp(what, "n") == 0)
		show_rules(out, nat, 0, verbose, cs);
	else if (strcmp(what, "Tables") == 0 || strcmp(what, "T") == 0) {
		char *t = state_read("tables");
		lj_buf_adds(out, t ? t : "");
		free(t);
	} else if (strcmp(what, "info") == 0 || strcmp(what, "i") == 0)
		show_info(out);
	else if (strcmp(what, "labels") == 0 || strcmp(what, "l") == 0) {
		/* label evaluations packets bytes in-packets in-bytes out-packets out-bytes states
		 */
		int i = 0;
		for (const char *l = rules; l && *l; i++) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l);
			char *line = xstrndup(l, n);
			char *lab = strstr(line, " label \"");
			if (lab) {
				lab += 8;
				char *end = strchr(lab, '"');
				if (end)
					*end = '\0';
				struct counter c = cs ? cs[nnat + i] : (struct counter){0};
				lj_buf_addf(out, "%s %llu %llu %llu %llu %llu %llu %llu %u\n", lab,
				            c.packets, c.packets, c.bytes, c.packets, c.bytes, 0ULL,
				            0ULL, 0u);
			}
			free(line);
			l = nl ? nl + 1 : l + n;
		}
	} else if (strcmp(what, "all") == 0 || strcmp(what, "a") == 0) {
		lj_buf_adds(out, "TRANSLATION RULES:\n");
		show_rules(out, nat, 0, verbose, cs);
		lj_buf_adds(out, "\nFILTER RULES:\n");
		show_rules(out, rules, nnat, verbose, cs);
		lj_buf_adds(out, "\nINFO:\n");
		show_info(out);
		lj_buf_adds(out, "\nTABLES:\n");
		char *t = state_read("tables");
		lj_buf_adds(out, t ? t : "");
		free(t);
	} else
		rc = lj_errorx(e, "Unknown show modifier '%s'", what);
	free(cs);
	free(rules);
	free(nat);
	return rc;
}

/* ---- tables: pfctl -t T -T cmd ----------------------------------------------------------------
 */

static int read_table_state(const char *table, struct lj_pf_addr **a, int *n, bool *exists)
{
	char *f = xasprintf("table.%s", table);
	char *text = state_read(f);
	free(f);
	*a = NULL;
	*n = 0;
	*exists = text != NULL;
	if (!text)
		return 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		lj_pf_table_entry(l, a, n, NULL);
	free(text);
	return 0;
}

static bool same_entry(const struct lj_pf_addr *x, const struct lj_pf_addr *y)
{
	return x->af == y->af && x->prefix == y->prefix && x->neg == y->neg &&
	       memcmp(x->a, y->a, 16) == 0;
}

static bool entry_covers(const struct lj_pf_addr *t, const struct lj_pf_addr *a)
{
	if (t->af != a->af || t->prefix > a->prefix)
		return false;
	uint8_t m[16];
	memcpy(m, a->a, 16);
	lj_pf_mask_addr(m, a->af, t->prefix);
	return memcmp(m, t->a, 16) == 0;
}

/* pf table lookup: the most specific entry decides; a ! entry means no match. */
static bool table_match(const struct lj_pf_addr *t, int n, const struct lj_pf_addr *a)
{
	int best = -1;
	for (int i = 0; i < n; i++)
		if (entry_covers(&t[i], a) && (best < 0 || t[i].prefix > t[best].prefix))
			best = i;
	return best >= 0 && !t[best].neg;
}

int lj_pf_table_cmd(const char *table, const char *cmd, char *const *addrs, int naddrs, bool dry,
                    lj_buf *out, lj_buf *msg, lj_err *e)
{
	struct lj_pf_addr *cur = NULL, *args = NULL;
	int ncur = 0, nargs = 0, rc = 0;
	bool exists;
	read_table_state(table, &cur, &ncur, &exists);
	for (int i = 0; i < naddrs; i++)
		if (lj_pf_table_entry(addrs[i], &args, &nargs, e) < 0) {
			free(cur);
			free(args);
			return -1;
		}
	const char *suffix = dry ? " (syntax only).\n" : ".\n";
	lj_buf nft = {0};
	struct lj_pf_addr *next = NULL;
	int nnext = 0;
	bool write = false;
	if (strcmp(cmd, "show") == 0) {
		if (!exists) {
			rc = lj_errorx(e, "Table does not exist.");
			goto out;
		}
		for (int i = 0; i < ncur; i++) {
			lj_buf_adds(out, cur[i].neg ? "  !" : "   ");
			add_addr_text(out, cur[i].a, cur[i].af, cur[i].prefix);
			lj_buf_addc(out, '\n');
		}
	} else if (strcmp(cmd, "test") == 0) {
		if (!exists) {
			rc = lj_errorx(e, "Table does not exist.");
			goto out;
		}
		int match = 0;
		for (int i = 0; i < nargs; i++)
			match += table_match(cur, ncur, &args[i]);
		lj_buf_addf(msg, "%d/%d addresses match%s", match, nargs, suffix);
		if (match < nargs)
			rc = 2;
	} else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "delete") == 0 ||
	           strcmp(cmd, "replace") == 0 || strcmp(cmd, "flush") == 0 ||
	           strcmp(cmd, "kill") == 0) {
		bool add = strcmp(cmd, "add") == 0, del = strcmp(cmd, "delete") == 0;
		bool replace = strcmp(cmd, "replace") == 0;
		int nadd = 0, ndel = 0;
		if (!exists && (del || strcmp(cmd, "flush") == 0 || strcmp(cmd, "kill") == 0)) {
			rc = lj_errorx(e, "Table does not exist.");
			goto out;
		}
		if (!exists && !dry && !table_exists()) {
			rc = lj_errorx(e, "no ruleset loaded: load one with pfctl -f first");
			goto out;
		}
		if (!exists && (add || replace)) {
			lj_buf_adds(msg, "1 table created.\n");
			emit_table_sets(&nft, table, NULL, 0);
		}
		/* the new contents */
		if (add || del) {
			for (int i = 0; i < ncur; i++) {
				bool drop = false;
				for (int j = 0; del && j < nargs; j++)
					drop |= same_entry(&cur[i], &args[j]);
				if (drop) {
					ndel++;
					continue;
				}
				next = xrealloc(next, sizeof(*next) * (nnext + 1));
				next[nnext++] = cur[i];
			}
			for (int j = 0; add && j < nargs; j++) {
				bool have = false;
				for (int i = 0; i < nnext; i++)
					have |= same_entry(&next[i], &args[j]);
				if (have)
					continue;
				next = xrealloc(next, sizeof(*next) * (nnext + 1));
				next[nnext++] = args[j];
				nadd++;
			}
		} else if (replace) {
			for (int j = 0; j < nargs; j++) {
				bool have = false;
				for (int i = 0; i < ncur; i++)
					have |= same_entry(&cur[i], &args[j]);
				nadd += !have;
			}
			for (int i = 0; i < ncur; i++) {
				bool have = false;
				for (int j = 0; j < nargs; j++)
					have |= same_entry(&cur[i], &args[j]);
				ndel += !have;
			}
			next = args;
			nnext = nargs;
			args = NULL;
			nargs = 0;
		} else
			ndel = ncur;
		if (add)
			lj_buf_addf(msg, "%d/%d addresses added%s", nadd, naddrs, suffix);
		else if (del)
			lj_buf_addf(msg, "%d/%d addresses deleted%s", ndel, naddrs, suffix);
		else if (replace) {
			if (nadd)
				lj_buf_addf(msg, "%d addresses added%s", nadd, suffix);
			if (ndel)
				lj_buf_addf(msg, "%d addresses deleted%s", ndel, suffix);
			if (!nadd && !ndel)
				lj_buf_addf(msg, "no changes%s", suffix);
		} else if (strcmp(cmd, "flush") == 0)
			lj_buf_addf(msg, "%d addresses deleted%s", ndel, suffix);
		else
			lj_buf_addf(msg, "1 table deleted%s", suffix);
		/* kernel: refill the four sets in one transaction */
		static const char *const pre[] = {"t4_", "t6_", "n4_", "n6_"};
		if (exists)
			for (int k = 0; k < 4; k++) {
				char sn[80];
				set_name(sn, sizeof(sn), pre[k], table);
				lj_buf_addf(&nft, "flush set inet %s %s\n", LJ_PF_NFT_TABLE, sn);
			}
		for (int k = 0; k < 4; k++) {
			int af = (k % 2) ? AF_INET6 : AF_INET;
			char sn[80];
			set_name(sn, sizeof(sn), pre[k], table);
			lj_buf el = {0};
			for (int i = 0; i < nnext; i++)
				if (next[i].af == af && next[i].neg == (k >= 2)) {
					lj_buf_adds(&el, el.len ? ", " : "");
					add_addr_text(&el, next[i].a, af, next[i].prefix);
				}
			if (el.len)
				lj_buf_addf(&nft, "add element inet %s %s { %s }\n",
				            LJ_PF_NFT_TABLE, sn, lj_buf_str(&el));
			lj_buf_free(&el);
		}
		write = true;
	} else {
		rc = lj_errorx(e, "Unknown table command '%s'", cmd);
		goto out;
	}
	if (write && !dry) {
		if (lj_pf_nft_run(lj_buf_str(&nft), false, NULL, e) < 0) {
			rc = -1;
			goto out;
		}
		char *f = xasprintf("table.%s", table);
		if (strcmp(cmd, "kill") == 0) {
			state_remove(f);
			/* drop the name from the list */
			char *tl = state_read("tables");
			lj_buf nl = {0};
			char *save = NULL;
			for (char *n = tl ? strtok_r(tl, "\n", &save) : NULL; n;
			     n = strtok_r(NULL, "\n", &save))
				if (strcmp(n, table) != 0)
					lj_buf_addf(&nl, "%s\n", n);
			state_write("tables", lj_buf_str(&nl), NULL);
			lj_buf_free(&nl);
			free(tl);
		} else {
			lj_buf tb = {0};
			table_state_text(&tb, next, nnext);
			rc = state_write(f, lj_buf_str(&tb), e);
			lj_buf_free(&tb);
			if (!exists && rc == 0) {
				char *tl = state_read("tables");
				char *nl = xasprintf("%s%s\n", tl ? tl : "", table);
				rc = state_write("tables", nl, e);
				free(nl);
				free(tl);
			}
		}
		free(f);
	}
out:
	lj_buf_free(&nft);
	free(cur);
	free(args);
	free(next);
	return rc;
}
