/* FreeBSD's ifconfig(8), the parts jail.conf files and the tutorial use, over src/net.
 *
 * The whole command line is parsed before anything is changed, so a bad word never leaves a
 * half-made interface; if a kernel step fails after `create`, the new interface is destroyed
 * again (FreeBSD would keep it). Messages follow FreeBSD 14's netlink ifconfig. */
#include <net/if.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include "net/net.h"
#include "net/net_internal.h"

static const char *prog_name(const char *argv0, const char *dflt)
{
	if (!argv0 || !*argv0)
		return dflt;
	const char *s = strrchr(argv0, '/');
	return s ? s + 1 : argv0;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) !=
	            6 &&
	    sscanf(s, "%x-%x-%x-%x-%x-%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 0xff)
			return false;
		mac[i] = (uint8_t)v[i];
	}
	return true;
}

/* "255.255.255.0" or "0xffffff00" -> prefix length, -1 if malformed or not contiguous. */
int lj_ifc_parse_netmask(const char *s)
{
	uint32_t m;
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		uint64_t v;
		if (!lj_parse_u64(s, &v) || v > 0xffffffffu)
			return -1;
		m = (uint32_t)v;
	} else {
		struct in_addr a;
		if (inet_pton(AF_INET, s, &a) != 1)
			return -1;
		m = ntohl(a.s_addr);
	}
	return lj_net_v4_prefixlen(m);
}

/* Classful mask FreeBSD falls back to for an IPv4 address given without one. */
int lj_ifc_classful_len(const uint8_t a[4])
{
	if (a[0] < 128)
		return 8;
	if (a[0] < 192)
		return 16;
	if (a[0] < 224)
		return 24;
	return 32;
}

static int need_arg(const char *prog, char **w, int n, int i)
{
	if (i + 1 >= n) {
		fprintf(stderr, "%s: '%s' requires argument\n", prog, w[i]);
		return -1;
	}
	return 0;
}

/* Parse the words after the interface name. Returns 0, or -1 after printing the error. */
int lj_ifc_parse(const char *prog, const char *ifname, char **w, int n, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->ifname = ifname;
	p->af = AF_INET;
	p->netmask_len = -1;
	p->prefixlen = -1;
	int i = 0;
	if (n > 0 && !strcmp(w[0], "create")) {
		p->create = true;
		i++;
	}
	for (; i < n; i++) {
		const char *x = w[i];
		struct act a = {0};
		bool is_act = true;
		if (!strcmp(x, "up"))
			a.type = A_UP;
		else if (!strcmp(x, "down"))
			a.type = A_DOWN;
		else if (!strcmp(x, "destroy"))
			a.type = A_DESTROY;
		else if (!strcmp(x, "-description") || !strcmp(x, "-descr")) {
			a.type = A_DESCR;
			a.arg = "";
		} else if (!strcmp(x, "promisc") || !strcmp(x, "-promisc")) {
			a.type = x[0] == '-' ? A_FLAG_OFF : A_FLAG_ON;
			a.num = IFF_PROMISC;
		} else if (!strcmp(x, "arp") || !strcmp(x, "-arp")) {
			/* -arp turns NOARP on */
			a.type = x[0] == '-' ? A_FLAG_ON : A_FLAG_OFF;
			a.num = IFF_NOARP;
		} else if (!strcmp(x, "mtu") || !strcmp(x, "description") || !strcmp(x, "descr") ||
		           !strcmp(x, "name") || !strcmp(x, "vnet") || !strcmp(x, "-vnet") ||
		           !strcmp(x, "addm") || !strcmp(x, "deletem") || !strcmp(x, "ether") ||
		           !strcmp(x, "lladdr") || !strcmp(x, "link")) {
			if (need_arg(prog, w, n, i) < 0)
				return -1;
			a.arg = w[++i];
			if (!strcmp(x, "mtu")) {
				a.type = A_MTU;
				int v = 0;
				/* FreeBSD passes atoi()'s result on; the kernel refuses 0. */
				if (lj_parse_int(a.arg, &v) && v > 0)
					a.num = (unsigned)v;
			} else if (!strcmp(x, "description") || !strcmp(x, "descr")) {
				a.type = A_DESCR;
			} else if (!strcmp(x, "name")) {
				a.type = A_NAME;
				lj_err e;
				if (!lj_net_name_ok(a.arg, &e)) {
					fprintf(stderr, "%s: %s\n", prog, e.msg);
					return -1;
				}
			} else if (!strcmp(x, "vnet")) {
				a.type = A_VNET;
			} else if (!strcmp(x, "-vnet")) {
				a.type = A_RVNET;
			} else if (!strcmp(x, "addm")) {
				a.type = A_ADDM;
			} else if (!strcmp(x, "deletem")) {
				a.type = A_DELETEM;
			} else {
				a.type = A_ETHER;
				if (!strcmp(a.arg, "random"))
					a.random_mac = true;
				else if (!parse_mac(a.arg, a.mac)) {
					fprintf(stderr, "%s: malformed link-level address\n", prog);
					return -1;
				}
			}
		} else {
			is_act = false;
		}
		if (is_act) {
			if (p->nacts == MAX_ACTS) {
				fprintf(stderr, "%s: too many parameters\n", prog);
				return -1;
			}
			p->acts[p->nacts++] = a;
			continue;
		}
		/* Address family words and address modifiers. */
		if (!strcmp(x, "inet") || !strcmp(x, "inet6")) {
			if (p->have_addr) {
				fprintf(stderr, "%s: %s: bad value\n", prog, x);
				return -1;
			}
			p->af = x[4] == '6' ? AF_INET6 : AF_INET;
			p->af_given = true;
		} else if (!strcmp(x, "alias") || !strcmp(x, "add")) {
			p->addr_op = 1;
		} else if (!strcmp(x, "-alias") || !strcmp(x, "delete") || !strcmp(x, "remove")) {
			p->addr_op = -1;
		} else if (!strcmp(x, "netmask")) {
			if (need_arg(prog, w, n, i) < 0)
				return -1;
			i++;
			if (p->af != AF_INET || (p->netmask_len = lj_ifc_parse_netmask(w[i])) < 0) {
				fprintf(stderr, "%s: %s: bad value\n", prog, w[i]);
				return -1;
			}
		} else if (!strcmp(x, "prefixlen")) {
			if (need_arg(prog, w, n, i) < 0)
				return -1;
			i++;
			int v;
			if (p->af != AF_INET6 || !lj_parse_int(w[i], &v) || v < 0 || v > 128) {
				fprintf(stderr, "%s: %s: bad value\n", prog, w[i]);
				return -1;
			}
			p->prefixlen = v;
		} else {
			/* Anything else is the address; a word that is no address is a bad value,
			 * which is how FreeBSD reports unknown words too. */
			lj_err e;
			if (p->have_addr) {
				fprintf(stderr, "%s: %s: bad value\n", prog, x);
				return -1;
			}
			/* a scope (fe80::1%epair0b) is accepted: the address goes on the
			 * interface named anyway */
			if (lj_net_ipaddr_parse(x, p->af, &p->addr, &e) < 0) {
				fprintf(stderr, "%s: %s\n", prog, e.msg);
				return -1;
			}
			p->have_addr = true;
			p->addr_text = x;
		}
	}
	if ((p->addr_op || p->netmask_len >= 0 || p->prefixlen >= 0) && !p->have_addr) {
		fprintf(stderr, "%s: no address given\n", prog);
		return -1;
	}
	if (p->have_addr) {
		if (p->netmask_len >= 0 && p->addr.prefixlen >= 0) {
			fprintf(stderr, "%s: %s: bad value (netmask given twice)\n", prog,
			        p->addr_text);
			return -1;
		}
		if (p->netmask_len >= 0)
			p->addr.prefixlen = p->netmask_len;
		if (p->prefixlen >= 0)
			p->addr.prefixlen = p->prefixlen;
		if (p->addr.prefixlen < 0 && p->addr_op >= 0) {
			if (p->addr.family == AF_INET) {
				fprintf(stderr,
				        "%s: WARNING: setting interface address without mask is "
				        "deprecated,\ndefault mask may not be correct.\n",
				        prog);
				p->addr.prefixlen = lj_ifc_classful_len(p->addr.a);
			} else {
				p->addr.prefixlen = 64;
			}
		}
	}
	return 0;
}

/* ---- cloning ----------------------------------------------------------------------------- */

static bool link_exists(struct lj_nl *nl, const char *name)
{
	struct lj_link l;
	return lj_net_link_get(nl, name, &l, NULL) == 0;
}

/* Digits only, at most 9 of them (epair123456789a is 15 characters). */
static bool unit_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= 9 && strspn(s, "0123456789") == n;
}

/* Create what p->ifname names; the name of the interface to configure goes to `made` (epairNa
 * for an epair). Returns 0, or -1 after printing. */
static bool in_list(const struct lj_link *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return true;
	return false;
}

/* The name is taken, for good: a veth whose pair is dying with a removed jail's namespace is
 * waited for (the kernel deletes it within milliseconds), so `jail -r x && jail -c x` works. */
static bool name_taken(struct lj_nl *nl, const struct lj_link *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) != 0)
			continue;
		if (strcmp(v[i].kind, "veth") != 0 ||
		    (v[i].link_netnsid < 0 && !v[i].link_netns_dead))
			return true; /* not a veth whose peer is in another namespace */
		return lj_net_wait_dying_link(nl, name, 2000, NULL) != 1;
	}
	return false;
}

static int create_error(const char *prog, const char *ifname, int err)
{
	if (err == EEXIST)
		fprintf(stderr, "%s: interface %s already exists\n", prog, ifname);
	else
		fprintf(stderr, "%s: SIOCIFCREATE2 (%s): %s\n", prog, ifname,
		        strerror(err ? err : EINVAL));
	return -1;
}

/* Make unit `unit` of the cloner (epair: the pair epairNa/epairNb; bridge: bridgeN). */
static int clone_one(struct lj_nl *nl, bool epair, const char *unit, char *made, lj_err *e)
{
	char a[32], b[32]; /* longer than a name: the kernel call refuses those */
	if (epair) {
		snprintf(a, sizeof(a), "epair%sa", unit);
		snprintf(b, sizeof(b), "epair%sb", unit);
		/* jail(8) creating a VNET jail whose vnet.interface is epairNb: that end is born
		 * in the jail's namespace (no move, no RCU wait); the a end stays here. */
		int target = lj_net_vnet_target_for(b);
		if (target >= 0) {
			if (lj_net_veth_create(nl, a, b, target, 0, e) < 0)
				return -1;
		} else if (lj_net_veth_create(nl, b, a, -1, 0, e) < 0) {
			/* The peer is registered first: naming it "a" gives epairNa the lower
			 * ifindex, as on FreeBSD (listings show a before b). */
			return -1;
		}
	} else {
		snprintf(a, sizeof(a), "bridge%s", unit);
		if (lj_net_bridge_create(nl, a, e) < 0)
			return -1;
	}
	memcpy(made, a, LJ_IFNAMSIZ - 1); /* a succeeded: it fits */
	made[LJ_IFNAMSIZ - 1] = 0;
	return 0;
}

/* Create what ifname names; the name of the interface to configure goes to `made` (epairNa
 * for an epair). Returns 0, or -1 after printing. */
static int do_create(const char *prog, struct lj_nl *nl, const char *ifname, char *made)
{
	lj_err e;
	bool epair = !strncmp(ifname, "epair", 5), bridge = !strncmp(ifname, "bridge", 6);
	if (!epair && !bridge) {
		/* no other cloner on Linux */
		return create_error(prog, ifname, link_exists(nl, ifname) ? EEXIST : EINVAL);
	}
	const char *unit = ifname + (epair ? 5 : 6);
	lj_autofree struct lj_link *links = NULL;
	size_t n = 0;
	if (*unit) {
		if (!unit_ok(unit))
			return create_error(prog, ifname, EINVAL);
		char a[32], b[32]; /* longer than a name: the kernel call refuses those */
		snprintf(a, sizeof(a), epair ? "epair%sa" : "bridge%s", unit);
		snprintf(b, sizeof(b), "epair%sb", unit);
		/* the two names only, not a dump of every link (many jails: many links) */
		struct lj_link got[2];
		for (int k = 0; k < (epair ? 2 : 1); k++) {
			lj_err ge;
			if (lj_net_link_get(nl, k ? b : a, &got[n], &ge) == 0)
				n++;
			else if (ge.errnum != ENODEV) {
				fprintf(stderr, "%s: %s\n", prog, ge.msg);
				return -1;
			}
		}
		if (epair ? name_taken(nl, got, n, a) || name_taken(nl, got, n, b)
		          : in_list(got, n, a))
			return create_error(prog, ifname, EEXIST);
		if (clone_one(nl, epair, unit, made, &e) < 0)
			return create_error(prog, ifname, e.errnum);
		return 0;
	}
	if (lj_net_links(nl, &links, &n, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return -1;
	}
	/* The lowest free unit; another ifconfig may take it between our look and our create
	 * (jails starting in parallel), so a clash moves on to the next one. */
	for (unsigned u = 0; u < 100000; u++) {
		char us[16], a[32], b[32];
		snprintf(us, sizeof(us), "%u", u);
		snprintf(a, sizeof(a), epair ? "epair%sa" : "bridge%s", us);
		snprintf(b, sizeof(b), "epair%sb", us);
		if (epair ? name_taken(nl, links, n, a) || name_taken(nl, links, n, b)
		          : in_list(links, n, a))
			continue;
		if (clone_one(nl, epair, us, made, &e) == 0)
			return 0;
		if (e.errnum != EEXIST)
			return create_error(prog, ifname, e.errnum);
	}
	return create_error(prog, ifname, ENOSPC);
}

/* ---- actions ----------------------------------------------------------------------------- */

struct rvnet_ctx {
	const char *ifname;
	int target_fd;
	lj_err *e;
};

static int rvnet_cb(void *arg)
{
	struct rvnet_ctx *c = arg;
	return lj_net_link_set_netns(NULL, c->ifname, c->target_fd, NULL, c->e);
}

static void print_kerr(const char *prog, const char *what, const lj_err *e)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(e->errnum ? e->errnum : EINVAL));
}

static int do_act(const char *prog, struct lj_nl *nl, char *cur, const struct act *a)
{
	lj_err e;
	struct lj_link l, m;
	switch (a->type) {
	case A_UP:
	case A_DOWN:
	case A_FLAG_ON:
	case A_FLAG_OFF: {
		unsigned mask = (a->type == A_UP || a->type == A_DOWN) ? IFF_UP : a->num;
		unsigned val = (a->type == A_UP || a->type == A_FLAG_ON) ? mask : 0;
		if (lj_net_link_set_flags(nl, cur, val, mask, &e) == 0)
			return 0;
		const char *word = a->type == A_UP ? "up" : a->type == A_DOWN ? "down" : "flags";
		if (e.errnum == EPERM)
			fprintf(stderr, "%s: %s: permission denied\n", prog, word);
		else if (e.errnum == ENODEV || e.errnum == ENXIO)
			fprintf(stderr, "%s: %s: no such interface\n", prog, word);
		else
			print_kerr(prog, "ioctl (SIOCSIFFLAGS)", &e);
		return -1;
	}
	case A_MTU:
		if (a->num && lj_net_link_set_mtu(nl, cur, a->num, &e) == 0)
			return 0;
		if (!a->num)
			e.errnum = EINVAL;
		print_kerr(prog, "ioctl SIOCSIFMTU (set mtu)", &e);
		return -1;
	case A_DESCR:
		if (lj_net_link_set_alias(nl, cur, a->arg, &e) == 0)
			return 0;
		print_kerr(prog, "ioctl (set descr)", &e);
		return -1;
	case A_NAME:
		if (lj_net_link_rename(nl, cur, a->arg, &e) == 0) {
			snprintf(cur, LJ_IFNAMSIZ, "%s", a->arg);
			return 0;
		}
		print_kerr(prog, "ioctl SIOCSIFNAME (set name)", &e);
		return -1;
	case A_ETHER: {
		uint8_t mac[6];
		memcpy(mac, a->mac, 6);
		if (a->random_mac) {
			int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
			if (fd < 0 || read(fd, mac, 6) != 6) {
				if (fd >= 0)
					close(fd);
				fprintf(stderr, "%s: /dev/urandom: %s\n", prog, strerror(errno));
				return -1;
			}
			close(fd);
			mac[0] = (uint8_t)((mac[0] & 0xfe) |
			                   0x02); /* unicast, locally administered */
		}
		if (lj_net_link_set_mac(nl, cur, mac, &e) == 0)
			return 0;
		print_kerr(prog, "ioctl (set lladdr)", &e);
		return -1;
	}
	case A_DESTROY:
		if (lj_net_vnet_is_dying(cur))
			return 0; /* the pair goes with its jail's namespace (jail(8) checked) */
		if (lj_net_link_get(nl, cur, &l, &e) < 0) {
			fprintf(stderr, "%s: %s\n", prog, e.msg);
			return -1;
		}
		/* Only what a cloner made can be destroyed (lo and NICs cannot). */
		if (!l.kind[0] || (l.flags & IFF_LOOPBACK)) {
			fprintf(stderr, "%s: SIOCIFDESTROY: %s\n", prog, strerror(EINVAL));
			return -1;
		}
		if (lj_net_link_del(nl, cur, &e) < 0) {
			print_kerr(prog, "SIOCIFDESTROY", &e);
			return -1;
		}
		return 0;
	case A_ADDM:
	case A_DELETEM: {
		const char *op = a->type == A_ADDM ? "BRDGADD" : "BRDGDEL";
		if (a->type == A_DELETEM && lj_net_vnet_is_dying(a->arg))
			return 0; /* leaves the bridge when its namespace takes the pair */
		if (lj_net_link_get(nl, cur, &l, &e) < 0) {
			fprintf(stderr, "%s: %s\n", prog, e.msg);
			return -1;
		}
		int err = 0;
		if (strcmp(l.kind, "bridge"))
			err = EINVAL;
		else if (lj_net_link_get(nl, a->arg, &m, &e) < 0)
			err = ENOENT;
		else if (a->type == A_ADDM && m.master == l.index)
			err = EEXIST;
		else if (a->type == A_ADDM && m.master)
			err = EBUSY;
		else if (a->type == A_DELETEM && m.master != l.index)
			err = ENOENT;
		if (!err && a->type == A_ADDM) {
			/* FreeBSD: the first member sets the bridge MTU, later ones are switched to
			 * it. Linux would lower the bridge to the smallest member instead. */
			lj_autofree struct lj_link *all = NULL;
			size_t n = 0;
			bool has_members = false;
			/* only asked when the MTUs differ: a dump of every link is not free */
			if (m.mtu != l.mtu && lj_net_links(nl, &all, &n, &e) == 0)
				for (size_t i = 0; i < n; i++)
					has_members |= all[i].master == l.index;
			if (has_members && m.mtu != l.mtu &&
			    lj_net_link_set_mtu(nl, a->arg, l.mtu, &e) < 0)
				err = EINVAL;
		}
		if (!err && lj_net_link_set_master_index(nl, a->arg,
		                                         a->type == A_ADDM ? l.index : 0, &e) < 0)
			err = e.errnum ? e.errnum : EINVAL;
		if (err) {
			fprintf(stderr, "%s: %s %s: %s\n", prog, op, a->arg, strerror(err));
			return -1;
		}
		return 0;
	}
	case A_VNET: {
		int fd = lj_net_jail_netns_fd(a->arg, &e);
		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", prog, e.msg);
			return -1;
		}
		int rc = lj_net_link_set_netns(nl, cur, fd, NULL, &e);
		close(fd);
		if (rc < 0) {
			print_kerr(prog, "SIOCSIFVNET", &e);
			return -1;
		}
		return 0;
	}
	case A_RVNET: {
		int fd = lj_net_jail_netns_fd(a->arg, &e);
		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", prog, e.msg);
			return -1;
		}
		int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		lj_err inner = {0};
		struct rvnet_ctx c = {.ifname = cur, .target_fd = self, .e = &inner};
		int rc = self < 0 ? -1 : lj_net_in_netns(fd, rvnet_cb, &c, &e);
		if (self < 0)
			e.errnum = errno;
		else if (rc < 0 && inner.msg[0])
			e = inner;
		close(fd);
		if (self >= 0)
			close(self);
		if (rc < 0) {
			fprintf(stderr, "%s: SIOCSIFRVNET(%s, %s): %s\n", prog, a->arg, cur,
			        strerror(e.errnum ? e.errnum : EINVAL));
			return -1;
		}
		return 0;
	}
	}
	return 0;
}

static int do_addr(const char *prog, struct lj_nl *nl, const char *cur, const struct plan *p)
{
	lj_err e;
	const struct lj_ipaddr *a = &p->addr;
	if (p->addr_op < 0) {
		if (lj_net_addr_del(nl, cur, a, &e) == 0)
			return 0;
		print_kerr(prog, "ioctl (SIOCDIFADDR)", &e);
		return -1;
	}
	struct lj_ifaddr old;
	bool replace = false;
	if (p->addr_op == 0 && a->family == AF_INET) {
		/* Without alias, FreeBSD replaces the interface's first IPv4 address. */
		int idx = lj_net_ifindex(nl, cur, &e);
		lj_autofree struct lj_ifaddr *v = NULL;
		size_t n = 0;
		if (idx < 0 || lj_net_addrs(nl, AF_INET, idx, &v, &n, &e) < 0) {
			fprintf(stderr, "%s: %s\n", prog, e.msg);
			return -1;
		}
		if (n > 0) {
			old = v[0];
			if (!memcmp(old.local, a->a, 4) && old.prefixlen == a->prefixlen)
				return 0; /* already so */
			struct lj_ipaddr o = {.family = AF_INET, .prefixlen = old.prefixlen};
			memcpy(o.a, old.local, 4);
			if (lj_net_addr_del(nl, cur, &o, &e) < 0) {
				print_kerr(prog, "ioctl (SIOCDIFADDR)", &e);
				return -1;
			}
			replace = true;
		}
	}
	if (lj_net_addr_add(nl, cur, a, &e) == 0)
		return 0;
	print_kerr(prog, "ioctl (SIOCAIFADDR)", &e);
	if (replace) {
		struct lj_ipaddr o = {.family = AF_INET, .prefixlen = old.prefixlen};
		memcpy(o.a, old.local, 4);
		(void)lj_net_addr_add(nl, cur, &o, NULL);
	}
	return -1;
}

/* ---- listing ----------------------------------------------------------------------------- */

struct listopts {
	bool up_only, down_only;
	int af; /* AF_UNSPEC, AF_INET, AF_INET6, AF_PACKET (link/ether) */
	const char *group;
};

static bool in_group(const struct lj_link *l, const char *g)
{
	const char *lg = !strcmp(l->kind, "veth")     ? "epair"
	                 : !strcmp(l->kind, "bridge") ? "bridge"
	                 : (l->flags & IFF_LOOPBACK)  ? "lo"
	                                              : NULL;
	return !strcmp(g, "all") || (lg && fnmatch(g, lg, 0) == 0);
}

static bool has_af(const struct lj_link *l, const struct lj_ifaddr *v, size_t n, int af)
{
	if (af == AF_UNSPEC)
		return true;
	if (af == AF_PACKET)
		return l->addrlen == 6 && !(l->flags & IFF_LOOPBACK);
	for (size_t i = 0; i < n; i++)
		if (v[i].index == l->index && v[i].family == af)
			return true;
	return false;
}

static bool list_match(const struct lj_link *l, const struct lj_ifaddr *v, size_t n,
                       const struct listopts *o)
{
	if (o->up_only && !(l->flags & IFF_UP))
		return false;
	if (o->down_only && (l->flags & IFF_UP))
		return false;
	if (o->group && !in_group(l, o->group))
		return false;
	return has_af(l, v, n, o->af);
}

/* mode: 0 full status, 1 names on one line (-l), 2 names one per line (-g). */
static int print_status(const char *prog, struct lj_nl *nl, const char *only,
                        const struct listopts *o, int mode)
{
	lj_err e;
	lj_autofree struct lj_link *links = NULL;
	lj_autofree struct lj_ifaddr *addrs = NULL;
	size_t nl_ = 0, na = 0;
	if (lj_net_links(nl, &links, &nl_, &e) < 0 ||
	    lj_net_addrs(nl, AF_UNSPEC, 0, &addrs, &na, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	if (only) {
		size_t i;
		for (i = 0; i < nl_ && strcmp(links[i].name, only); i++)
			;
		if (i == nl_) {
			fprintf(stderr, "%s: interface %s does not exist\n", prog, only);
			return 1;
		}
		/* With an address family, only that family's addresses are shown. */
		for (size_t k = 0; k < na; k++)
			if (o->af != AF_UNSPEC && addrs[k].family != o->af)
				addrs[k].index = 0;
		lj_buf b = {0};
		lj_ifconfig_format(&links[i], addrs, na, links, nl_, &b);
		fputs(lj_buf_str(&b), stdout);
		lj_buf_free(&b);
		return 0;
	}
	lj_buf b = {0};
	bool first = true;
	for (size_t i = 0; i < nl_; i++) {
		if (!list_match(&links[i], addrs, na, o))
			continue;
		if (mode == 1) {
			lj_buf_addf(&b, "%s%s", first ? "" : " ", links[i].name);
		} else if (mode == 2) {
			lj_buf_addf(&b, "%s\n", links[i].name);
		} else {
			lj_ifconfig_format(&links[i], addrs, na, links, nl_, &b);
		}
		first = false;
	}
	if (mode == 1)
		lj_buf_addc(&b, '\n');
	fputs(lj_buf_str(&b), stdout);
	lj_buf_free(&b);
	return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

static void usage(const char *prog)
{
	fprintf(stderr,
	        "usage: %s [-j jail] [-kmnv] [-f type:format] interface address_family\n"
	        "                [address [dest_address]] [parameters]\n"
	        "       %s [-j jail] interface create\n"
	        "       %s [-j jail] -a [-dmuv] [-g groupname] [address_family]\n"
	        "       %s [-j jail] -l [-du] [address_family]\n"
	        "       %s [-j jail] [-dkmuv]\n"
	        "       %s -C\n"
	        "       %s [-j jail] -g groupname\n",
	        prog, prog, prog, prog, prog, prog, prog);
}

struct run_ctx {
	const char *prog;
	int argc;
	char **argv;
	bool all, list, up_only, down_only;
	const char *group;
	bool group_only;
	int status;
};

static int af_word(const char *w)
{
	if (!strcmp(w, "inet"))
		return AF_INET;
	if (!strcmp(w, "inet6"))
		return AF_INET6;
	if (!strcmp(w, "link") || !strcmp(w, "ether") || !strcmp(w, "lladdr"))
		return AF_PACKET;
	return -1;
}

static int run(void *arg)
{
	struct run_ctx *c = arg;
	const char *prog = c->prog;
	lj_err e;
	struct lj_nl *nl = lj_nl_open(&e);
	if (!nl) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	int rc = 0;
	struct listopts o = {.up_only = c->up_only, .down_only = c->down_only, .af = AF_UNSPEC};
	if (c->group_only) {
		o.group = c->group;
		rc = print_status(prog, nl, NULL, &o, 2);
		goto out;
	}
	if (c->all || c->list) {
		if (c->argc > 1 || (c->argc == 1 && (o.af = af_word(c->argv[0])) < 0)) {
			usage(prog);
			rc = 1;
			goto out;
		}
		if (o.af < 0)
			o.af = AF_UNSPEC;
		o.group = c->group;
		rc = print_status(prog, nl, NULL, &o, c->list ? 1 : 0);
		goto out;
	}
	const char *ifname = c->argv[0];
	if (strlen(ifname) >= LJ_IFNAMSIZ) {
		fprintf(stderr, "%s: interface name too long (max %d characters): %s\n", prog,
		        LJ_IFNAMSIZ - 1, ifname);
		rc = 1;
		goto out;
	}
	if (c->argc == 1 || (c->argc == 2 && af_word(c->argv[1]) >= 0)) {
		o.af = c->argc == 2 ? af_word(c->argv[1]) : AF_UNSPEC;
		if (o.af == AF_PACKET)
			o.af = AF_UNSPEC;
		rc = print_status(prog, nl, ifname, &o, 0);
		goto out;
	}
	struct plan *p = xcalloc(1, sizeof(*p));
	if (lj_ifc_parse(prog, ifname, c->argv + 1, c->argc - 1, p) < 0) {
		free(p);
		rc = 1;
		goto out;
	}
	char cur[LJ_IFNAMSIZ];
	char made[LJ_IFNAMSIZ] = "";
	bool only_rvnet = p->nacts > 0 && !p->have_addr;
	for (size_t i = 0; i < p->nacts; i++)
		only_rvnet &= p->acts[i].type == A_RVNET;
	if (p->create) {
		if (do_create(prog, nl, ifname, made) < 0) {
			free(p);
			rc = 1;
			goto out;
		}
		snprintf(cur, sizeof(cur), "%s", made);
	} else {
		snprintf(cur, sizeof(cur), "%s", ifname);
		/* -vnet names an interface inside the jail, which need not exist here. */
		if (!only_rvnet && !lj_net_vnet_is_dying(cur) && !link_exists(nl, cur)) {
			fprintf(stderr, "%s: interface %s does not exist\n", prog, ifname);
			free(p);
			rc = 1;
			goto out;
		}
	}
	bool failed = false, gone = false;
	for (size_t i = 0; i < p->nacts && !failed; i++) {
		if (gone) {
			fprintf(stderr, "%s: interface %s does not exist\n", prog, cur);
			failed = true;
			break;
		}
		failed = do_act(prog, nl, cur, &p->acts[i]) < 0;
		gone = p->acts[i].type == A_DESTROY || p->acts[i].type == A_VNET;
	}
	if (!failed && p->have_addr) {
		if (gone) {
			fprintf(stderr, "%s: interface %s does not exist\n", prog, cur);
			failed = true;
		} else {
			failed = do_addr(prog, nl, cur, p) < 0;
		}
	}
	if (failed && made[0] && !gone) {
		/* Undo our own create: a failed command leaves nothing half-made. */
		(void)lj_net_link_del(nl, cur, NULL);
	} else if (!failed && strcmp(cur, ifname) && !gone) {
		printf("%s\n", cur); /* FreeBSD prints the final name when it differs */
	}
	rc = failed ? 1 : 0;
	free(p);
out:
	lj_nl_close(nl);
	fflush(stdout);
	return rc;
}

int lj_ifconfig_main(int argc, char **argv)
{
	struct run_ctx c = {.prog = prog_name(argc > 0 ? argv[0] : NULL, "ifconfig")};
	const char *prog = c.prog;
	const char *jail = NULL;
	int i = 1;
	bool any_opt = false;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		for (const char *q = o + 1; *q; q++) {
			any_opt = true;
			switch (*q) {
			case 'a':
				c.all = true;
				break;
			case 'l':
				c.list = true;
				break;
			case 'u':
				c.up_only = true;
				break;
			case 'd':
				c.down_only = true;
				break;
			case 'm':
			case 'v':
			case 'n':
			case 'k':
			case 'D':
				break; /* verbosity: nothing more to show on Linux */
			case 'C':
				puts("bridge epair");
				fflush(stdout);
				return 0;
			case 'g':
			case 'G':
			case 'j':
			case 'f':
				if (q[1] || i + 1 >= argc) {
					usage(prog);
					return 1;
				}
				if (*q == 'j')
					jail = argv[++i];
				else if (*q == 'g')
					c.group = argv[++i];
				else
					i++; /* -G pattern / -f format: accepted, no effect */
				goto next;
			default:
				usage(prog);
				return 1;
			}
		}
	next:;
	}
	c.argc = argc - i;
	c.argv = argv + i;
	if ((c.list && c.all) || (c.up_only && c.down_only)) {
		usage(prog);
		return 1;
	}
	if (c.group && !c.all && !c.list && c.argc == 0)
		c.group_only = true;
	if (c.argc == 0 && !c.list && !c.group_only) {
		if (any_opt && !c.all && !c.up_only && !c.down_only && !jail) {
			usage(prog);
			return 1;
		}
		c.all = true; /* no interface: -a */
	}
	if (!jail)
		return run(&c);
	lj_err e;
	int fd = lj_net_jail_netns_fd(jail, &e);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	int rc = lj_net_in_netns(fd, run, &c, &e);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	return rc;
}
