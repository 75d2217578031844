/* FreeBSD's ifconfig and netstat -r output from Linux link, address and route data. Pure
 * functions: everything they print comes from their arguments (unit-tested). */
#include <net/if.h> /* before the linux/ headers: glibc's and the kernel's IFF_* clash otherwise */
#include <net/if_arp.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "net/net.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* FreeBSD's if_flags bits (net/if.h). */
enum {
	F_UP = 0x1,
	F_BROADCAST = 0x2,
	F_LOOPBACK = 0x8,
	F_POINTOPOINT = 0x10,
	F_RUNNING = 0x40,
	F_NOARP = 0x80,
	F_PROMISC = 0x100,
	F_ALLMULTI = 0x200,
	F_SIMPLEX = 0x800,
	F_MULTICAST = 0x8000,
	F_LOWER_UP = 0x1000000,
};

static const char *const fbsd_flag_names[32] = {
        "UP",    "BROADCAST", "DEBUG",      "LOOPBACK",    "POINTOPOINT", "NEEDSEPOCH", "RUNNING",
        "NOARP", "PROMISC",   "ALLMULTI",   "DRV_OACTIVE", "SIMPLEX",     "LINK0",      "LINK1",
        "LINK2", "MULTICAST", "CANTCONFIG", "PPROMISC",    "MONITOR",     "STATICARP",  "STICKYARP",
        "DYING", "RENAMING",  "NOGROUP",    "LOWER_UP",
};

static bool is_ether(const struct lj_link *l)
{
	return l->type == ARPHRD_ETHER && l->addrlen == 6;
}

unsigned lj_fbsd_if_flags(const struct lj_link *l)
{
	unsigned f = 0, lf = l->flags;
	bool up = lf & IFF_UP;
	if (up)
		f |= F_UP;
	if (lf & IFF_BROADCAST)
		f |= F_BROADCAST;
	if (lf & IFF_LOOPBACK)
		f |= F_LOOPBACK | F_MULTICAST; /* FreeBSD's lo0 is multicast-capable */
	if (lf & IFF_POINTOPOINT)
		f |= F_POINTOPOINT;
	if (lf & IFF_NOARP)
		f |= F_NOARP;
	/* A Linux bridge port is promiscuous without showing IFF_PROMISC to user space. */
	if ((lf & IFF_PROMISC) || l->master)
		f |= F_PROMISC;
	if (lf & IFF_ALLMULTI)
		f |= F_ALLMULTI;
	if (is_ether(l))
		f |= F_SIMPLEX;
	if (lf & IFF_MULTICAST)
		f |= F_MULTICAST;
	if (!strcmp(l->kind, "veth")) {
		/* epair(4) is always running with its media active, even when down. */
		f |= F_RUNNING | F_LOWER_UP;
	} else if (!strcmp(l->kind, "bridge") || (lf & IFF_LOOPBACK) || !is_ether(l)) {
		/* bridge, lo and other virtual types: running and carrier exactly when up. */
		if (up)
			f |= F_RUNNING | F_LOWER_UP;
	} else {
		if (up || (lf & IFF_RUNNING))
			f |= F_RUNNING;
		if (lf & IFF_LOWER_UP)
			f |= F_LOWER_UP;
	}
	return f;
}

void lj_fbsd_flags_str(unsigned flags, lj_buf *b)
{
	if (!flags)
		return;
	lj_buf_addc(b, '<');
	bool first = true;
	for (int i = 0; i < 32; i++) {
		if (!(flags & (1u << i)))
			continue;
		if (!first)
			lj_buf_addc(b, ',');
		first = false;
		if (i < (int)LJ_ARRAY_LEN(fbsd_flag_names) && fbsd_flag_names[i])
			lj_buf_adds(b, fbsd_flag_names[i]);
		else
			lj_buf_addf(b, "IFF_%d", i);
	}
	lj_buf_addc(b, '>');
}

static void add_mac(lj_buf *b, const uint8_t *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		lj_buf_addf(b, "%s%02x", i ? ":" : "", a[i]);
}

static const struct lj_link *find_link(const struct lj_link *all, size_t n, int index)
{
	for (size_t i = 0; i < n; i++)
		if (all[i].index == index)
			return &all[i];
	return NULL;
}

static void format_inet(const struct lj_link *l, const struct lj_ifaddr *a, lj_buf *b)
{
	char s[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET, a->local, s, sizeof(s));
	lj_buf_addf(b, "\tinet %s", s);
	if (a->has_peer) {
		inet_ntop(AF_INET, a->peer, s, sizeof(s));
		lj_buf_addf(b, " --> %s", s);
	}
	lj_buf_addf(b, " netmask 0x%x", lj_net_v4_mask(a->prefixlen));
	if ((l->flags & IFF_BROADCAST) && a->prefixlen != 0 && !a->has_peer) {
		uint8_t brd[4];
		if (a->has_broadcast) {
			memcpy(brd, a->broadcast, 4);
		} else {
			/* FreeBSD always has one: the subnet's all-ones address (a /32 shows
			 * itself). */
			uint32_t ip;
			memcpy(&ip, a->local, 4);
			ip = htonl(ntohl(ip) | ~lj_net_v4_mask(a->prefixlen));
			memcpy(brd, &ip, 4);
		}
		inet_ntop(AF_INET, brd, s, sizeof(s));
		lj_buf_addf(b, " broadcast %s", s);
	}
	lj_buf_addc(b, '\n');
}

static void format_inet6(const struct lj_link *l, const struct lj_ifaddr *a, lj_buf *b)
{
	char s[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, a->local, s, sizeof(s));
	bool ll = a->local[0] == 0xfe && (a->local[1] & 0xc0) == 0x80;
	lj_buf_addf(b, "\tinet6 %s", s);
	if (ll)
		lj_buf_addf(b, "%%%s", l->name);
	if (a->has_peer) {
		inet_ntop(AF_INET6, a->peer, s, sizeof(s));
		lj_buf_addf(b, " --> %s", s);
	}
	lj_buf_addf(b, " prefixlen %d", a->prefixlen);
	if (a->flags & IFA_F_TENTATIVE)
		lj_buf_adds(b, " tentative");
	if (a->flags & IFA_F_DADFAILED)
		lj_buf_adds(b, " duplicated");
	if (a->flags & IFA_F_DEPRECATED)
		lj_buf_adds(b, " deprecated");
	if (!(a->flags & IFA_F_PERMANENT) && a->scope == RT_SCOPE_UNIVERSE)
		lj_buf_adds(b, " autoconf");
	if (a->flags & IFA_F_TEMPORARY)
		lj_buf_adds(b, " temporary");
	if (ll)
		lj_buf_addf(b, " scopeid 0x%x", (unsigned)l->index);
	if (a->valid != 0xffffffffu || a->preferred != 0xffffffffu)
		lj_buf_addf(b, " pltime %u vltime %u", a->preferred, a->valid);
	lj_buf_addc(b, '\n');
}

/* FreeBSD's bridge path cost: 20000000000 / (link speed in kb/s); veth (epair) is 10G. */
static unsigned path_cost(const struct lj_link *m)
{
	return !strcmp(m->kind, "veth") ? 2000 : 20000;
}

static void format_bridge(const struct lj_link *l, const struct lj_link *all, size_t nall,
                          lj_buf *b)
{
	lj_buf_adds(b, "\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15\n"
	               "\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200\n"
	               "\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0\n");
	/* Newest member first: Linux keeps no join order, the highest ifindex is the nearest. */
	for (size_t i = nall; i-- > 0;) {
		const struct lj_link *m = &all[i];
		if (m->master != l->index)
			continue;
		lj_buf_addf(b, "\tmember: %s flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n",
		            m->name);
		lj_buf_addf(b, "\t        ifmaxaddr 0 port %d priority 128 path cost %u\n",
		            m->index, path_cost(m));
	}
}

void lj_ifconfig_format(const struct lj_link *l, const struct lj_ifaddr *addrs, size_t naddrs,
                        const struct lj_link *all, size_t nall, lj_buf *b)
{
	unsigned f = lj_fbsd_if_flags(l);
	lj_buf_addf(b, "%s: flags=%x", l->name, f);
	lj_fbsd_flags_str(f, b);
	lj_buf_addf(b, " metric 0 mtu %u\n", l->mtu);
	if (l->alias[0])
		lj_buf_addf(b, "\tdescription: %s\n", l->alias);
	if (l->addrlen && !(l->flags & IFF_LOOPBACK)) {
		lj_buf_adds(b, is_ether(l) ? "\tether " : "\tlladdr ");
		add_mac(b, l->addr, l->addrlen);
		lj_buf_addc(b, '\n');
		static const uint8_t zero[32];
		if (memcmp(l->perm_addr, zero, l->addrlen) &&
		    memcmp(l->perm_addr, l->addr, l->addrlen)) {
			lj_buf_adds(b, "\thwaddr ");
			add_mac(b, l->perm_addr, l->addrlen);
			lj_buf_addc(b, '\n');
		}
	}
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i].index == l->index && addrs[i].family == AF_INET)
			format_inet(l, &addrs[i], b);
	for (size_t i = 0; i < naddrs; i++)
		if (addrs[i].index == l->index && addrs[i].family == AF_INET6)
			format_inet6(l, &addrs[i], b);
	bool veth = !strcmp(l->kind, "veth"), bridge = !strcmp(l->kind, "bridge");
	if (bridge)
		format_bridge(l, all, nall, b);
	if (veth)
		lj_buf_adds(b, "\tgroups: epair\n");
	else if (bridge)
		lj_buf_adds(b, "\tgroups: bridge\n");
	else if (l->flags & IFF_LOOPBACK)
		lj_buf_adds(b, "\tgroups: lo\n");
	if (veth) {
		lj_buf_adds(b, "\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)\n"
		               "\tstatus: active\n");
	} else if (is_ether(l) && !bridge && !l->kind[0]) {
		lj_buf_adds(b, "\tmedia: Ethernet autoselect\n");
		lj_buf_addf(b, "\tstatus: %s\n",
		            (l->flags & IFF_LOWER_UP) ? "active" : "no carrier");
	}
}

/* ---- netstat -r -------------------------------------------------------------------------- */

struct row {
	int family;
	uint8_t dst[16];
	int dst_len;
	char dest[INET6_ADDRSTRLEN + LJ_IFNAMSIZ + 8];
	char gw[INET6_ADDRSTRLEN + LJ_IFNAMSIZ + 8];
	char flags[16];
	char netif[LJ_IFNAMSIZ];
	uint32_t expires;
};

static const char *link_name(const struct lj_link *links, size_t n, int index, char *buf)
{
	const struct lj_link *l = find_link(links, n, index);
	if (l)
		return l->name;
	snprintf(buf, LJ_IFNAMSIZ, "if%d", index);
	return buf;
}

static bool v6_ll(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	size_t n = a->family == AF_INET ? 4 : 16;
	if ((a->dst_len == 0) != (b->dst_len == 0))
		return a->dst_len == 0 ? -1 : 1;
	int c = memcmp(a->dst, b->dst, n);
	if (c)
		return c;
	return a->dst_len - b->dst_len;
}

static void fill_row(struct row *r, const struct lj_route *rt, const struct lj_link *links,
                     size_t nlinks, int lo_index)
{
	char tmp[INET6_ADDRSTRLEN], nb[LJ_IFNAMSIZ];
	int full = rt->family == AF_INET ? 32 : 128;
	bool local = rt->type == RTN_LOCAL;
	memset(r, 0, sizeof(*r));
	r->family = rt->family;
	memcpy(r->dst, rt->dst, 16);
	r->dst_len = rt->dst_len;
	r->expires = rt->expires;
	const char *ifn = link_name(links, nlinks, rt->oif, nb);
	if (rt->dst_len == 0) {
		snprintf(r->dest, sizeof(r->dest), "default");
	} else {
		inet_ntop(rt->family, rt->dst, tmp, sizeof(tmp));
		char scope[LJ_IFNAMSIZ + 1] = "";
		if (rt->family == AF_INET6 && v6_ll(rt->dst))
			snprintf(scope, sizeof(scope), "%%%s", ifn);
		if (rt->dst_len == full)
			snprintf(r->dest, sizeof(r->dest), "%s%s", tmp, scope);
		else
			snprintf(r->dest, sizeof(r->dest), "%s%s/%d", tmp, scope, rt->dst_len);
	}
	if (rt->has_gw) {
		inet_ntop(rt->family, rt->gw, tmp, sizeof(tmp));
		if (rt->family == AF_INET6 && v6_ll(rt->gw))
			snprintf(r->gw, sizeof(r->gw), "%s%%%s", tmp, ifn);
		else
			snprintf(r->gw, sizeof(r->gw), "%s", tmp);
	} else {
		snprintf(r->gw, sizeof(r->gw), "link#%d", rt->oif);
	}
	char *f = r->flags;
	*f++ = 'U';
	if (rt->has_gw)
		*f++ = 'G';
	if (rt->dst_len == full)
		*f++ = 'H';
	if (rt->type == RTN_UNREACHABLE || rt->type == RTN_PROHIBIT)
		*f++ = 'R';
	if (rt->protocol == RTPROT_RA || rt->protocol == RTPROT_REDIRECT)
		*f++ = 'D';
	/* Routes an administrator added are static; local host routes are too on FreeBSD, except
	 * 127.0.0.1 (::1 is UHS there). */
	if (rt->protocol == RTPROT_STATIC || rt->protocol == RTPROT_BOOT ||
	    (local && !(rt->family == AF_INET && rt->dst[0] == 127)))
		*f++ = 'S';
	if (rt->type == RTN_BLACKHOLE)
		*f++ = 'B';
	*f = 0;
	/* FreeBSD keeps local addresses as host routes through the loopback. */
	snprintf(r->netif, sizeof(r->netif), "%s",
	         local && lo_index ? link_name(links, nlinks, lo_index, nb) : ifn);
}

static void print_rows(struct row *rows, size_t n, int dw, int gw, lj_buf *b)
{
	/* Netif is 12 wide as FreeBSD 15 prints it (the tutorial's output), cut unless -W. */
	lj_buf_addf(b, "%-*s %-*s %-6s %12s %6s\n", dw, "Destination", gw, "Gateway", "Flags",
	            "Netif", "Expire");
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		lj_buf_addf(b, "%-*s %-*s %-6s %12.12s", dw, r->dest, gw, r->gw, r->flags,
		            r->netif);
		if (r->expires)
			lj_buf_addf(b, " %6u", r->expires);
		lj_buf_addc(b, '\n');
	}
}

void lj_netstat_format(const struct lj_route *routes, size_t nroutes, const struct lj_link *links,
                       size_t nlinks, int family, bool numeric, lj_buf *b)
{
	int lo_index = 0;
	for (size_t i = 0; i < nlinks; i++)
		if (links[i].flags & IFF_LOOPBACK) {
			lo_index = links[i].index;
			break;
		}
	lj_buf_adds(b, "Routing tables\n");
	static const int fams[2] = {AF_INET, AF_INET6};
	for (int k = 0; k < 2; k++) {
		int fam = fams[k];
		if (family != AF_UNSPEC && family != fam)
			continue;
		struct row *rows = xcalloc(nroutes + 1, sizeof(*rows));
		size_t n = 0;
		int full = fam == AF_INET ? 32 : 128;
		/* Two passes: local entries first, so that where Linux has both a main-table and a
		 * local-table route for one address (::1) the local one, as FreeBSD shows it, wins.
		 */
		for (size_t k2 = 0; k2 < 2 * nroutes; k2++) {
			const struct lj_route *rt = &routes[k2 % nroutes];
			if (rt->family != fam || (k2 < nroutes) != (rt->type == RTN_LOCAL))
				continue;
			if (rt->type == RTN_LOCAL) {
				/* Only the host entries of local addresses; not 127/8 as a whole.
				 */
				if (rt->dst_len != full)
					continue;
			} else if (rt->type != RTN_UNICAST && rt->type != RTN_UNREACHABLE &&
			           rt->type != RTN_PROHIBIT && rt->type != RTN_BLACKHOLE) {
				continue; /* broadcast, multicast, anycast entries */
			}
			struct row r;
			fill_row(&r, rt, links, nlinks, lo_index);
			bool dup = false;
			for (size_t j = 0; j < n && !dup; j++)
				dup = rows[j].dst_len == r.dst_len &&
				      !memcmp(rows[j].dst, r.dst, 16) &&
				      !strcmp(rows[j].dest, r.dest);
			if (!dup)
				rows[n++] = r;
		}
		qsort(rows, n, sizeof(*rows), row_cmp);
		lj_buf_adds(b, fam == AF_INET ? "\nInternet:\n" : "\nInternet6:\n");
		if (fam == AF_INET6 && numeric)
			print_rows(rows, n, 33, 29, b);
		else
			print_rows(rows, n, 18, 18, b);
		free(rows);
	}
}
