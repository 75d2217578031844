/* IPv4/IPv6 addresses: parsing, add/del/dump over rtnetlink. */
#include "net/nl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <net/if.h>

uint32_t lj_net_v4_mask(int prefixlen)
{
	if (prefixlen <= 0)
		return 0;
	if (prefixlen >= 32)
		return 0xffffffffu;
	return ~((1u << (32 - prefixlen)) - 1);
}

int lj_net_v4_prefixlen(uint32_t mask)
{
	int n = 0;
	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	if (lj_net_v4_mask(n) != mask)
		return -1;
	return n;
}

int lj_net_ipaddr_parse(const char *s, int family, struct lj_ipaddr *out, lj_err *e)
{
	memset(out, 0, sizeof(*out));
	out->prefixlen = -1;
	char tmp[INET6_ADDRSTRLEN + LJ_IFNAMSIZ + 8];
	if (!s || !*s || strlen(s) >= sizeof(tmp))
		return lj_errorx(e, "%s: bad value", s ? s : "");
	strcpy(tmp, s);
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash++ = 0;
	char *pct = strchr(tmp, '%');
	if (pct)
		*pct++ = 0;
	if ((family == AF_UNSPEC || family == AF_INET) && !pct &&
	    inet_pton(AF_INET, tmp, out->a) == 1)
		out->family = AF_INET;
	else if ((family == AF_UNSPEC || family == AF_INET6) &&
	         inet_pton(AF_INET6, tmp, out->a) == 1)
		out->family = AF_INET6;
	else
		return lj_errorx(e, "%s: bad value", s);
	if (pct) {
		out->scope_ifindex = if_nametoindex(pct);
		if (!out->scope_ifindex)
			return lj_errorx(e, "%s: bad value (no interface %s)", s, pct);
	}
	if (slash) {
		int max = out->family == AF_INET ? 32 : 128;
		if (!*slash || strspn(slash, "0123456789") != strlen(slash) || strlen(slash) > 4)
			return lj_errorx(e, "%s: bad value (width invalid)", s);
		int len = atoi(slash);
		if (len > max)
			return lj_errorx(e, "%s: bad value (width too large)", s);
		out->prefixlen = len;
	}
	return 0;
}

const char *lj_net_ipaddr_str(const struct lj_ipaddr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static int addr_msg(struct lj_nl *nl, uint16_t type, uint16_t flags, int idx,
                    const struct lj_ipaddr *a, int prefixlen, const char *what, lj_err *e)
{
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, type, flags);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)prefixlen;
	ifa->ifa_index = (uint32_t)idx;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	size_t alen = a->family == AF_INET ? 4 : 16;
	if (a->family == AF_INET) {
		if ((a->a[0]) == 127)
			ifa->ifa_scope = RT_SCOPE_HOST;
		mnl_attr_put(h, IFA_LOCAL, alen, a->a);
		mnl_attr_put(h, IFA_ADDRESS, alen, a->a);
		if (type == RTM_NEWADDR && prefixlen < 31) {
			/* FreeBSD sets the all-ones broadcast of the subnet by itself; Linux only
			 * when asked. */
			uint32_t ip;
			memcpy(&ip, a->a, 4);
			ip = htonl(ntohl(ip) | ~lj_net_v4_mask(prefixlen));
			mnl_attr_put(h, IFA_BROADCAST, 4, &ip);
		}
	} else {
		mnl_attr_put(h, IFA_ADDRESS, alen, a->a);
		if (type == RTM_NEWADDR)
			/* Skip duplicate address detection: a tentative address cannot be bound for
			 * 1-2 s, and FreeBSD's jails expect to bind right after ifconfig. */
			mnl_attr_put_u32(h, IFA_FLAGS, IFA_F_NODAD);
	}
	return lj_nl_talk(nl, h, what, e);
}

int lj_net_addr_add(struct lj_nl *nl, const char *ifname, const struct lj_ipaddr *a, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	int idx = lj_net_ifindex(nl, ifname, e);
	if (idx < 0)
		return -1;
	int plen = a->prefixlen >= 0 ? a->prefixlen : (a->family == AF_INET ? 32 : 128);
	if (addr_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, idx, a, plen, "add address", e) <
	    0)
		return lj_error_prefix(e, "%s", ifname);
	return 0;
}

int lj_net_addr_del(struct lj_nl *nl, const char *ifname, const struct lj_ipaddr *a, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	int idx = lj_net_ifindex(nl, ifname, e);
	if (idx < 0)
		return -1;
	int plen = a->prefixlen;
	if (plen < 0) {
		/* IPv6 deletes match on the prefix length too: take the one the address has. */
		lj_autofree struct lj_ifaddr *v = NULL;
		size_t n = 0;
		if (lj_net_addrs(nl, a->family, idx, &v, &n, e) < 0)
			return -1;
		for (size_t i = 0; i < n && plen < 0; i++)
			if (!memcmp(v[i].local, a->a, a->family == AF_INET ? 4 : 16))
				plen = v[i].prefixlen;
		if (plen < 0) {
			lj_error(e, EADDRNOTAVAIL, "%s: delete address", ifname);
			return -1;
		}
	}
	if (addr_msg(nl, RTM_DELADDR, 0, idx, a, plen, "delete address", e) < 0)
		return lj_error_prefix(e, "%s", ifname);
	return 0;
}

struct addr_acc {
	int family, index;
	struct lj_ifaddr *v;
	size_t n, cap;
};

static void get_ip(const struct nlattr *a, uint8_t *dst, int family)
{
	size_t want = family == AF_INET ? 4 : 16;
	if (mnl_attr_get_payload_len(a) >= want)
		memcpy(dst, mnl_attr_get_payload(a), want);
}

static int addr_cb(const struct nlmsghdr *h, void *data)
{
	struct addr_acc *acc = data;
	if (h->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	if ((acc->family != AF_UNSPEC && ifa->ifa_family != acc->family) ||
	    (acc->index && (int)ifa->ifa_index != acc->index) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	lj_nl_parse(h, sizeof(*ifa), tb, LJ_ARRAY_LEN(tb) - 1);
	if (acc->n == acc->cap) {
		acc->cap = acc->cap ? acc->cap * 2 : 16;
		acc->v = xrealloc(acc->v, acc->cap * sizeof(*acc->v));
	}
	struct lj_ifaddr *x = &acc->v[acc->n++];
	memset(x, 0, sizeof(*x));
	x->index = (int)ifa->ifa_index;
	x->family = ifa->ifa_family;
	x->prefixlen = ifa->ifa_prefixlen;
	x->flags = ifa->ifa_flags;
	x->scope = ifa->ifa_scope;
	x->preferred = x->valid = 0xffffffffu;
	const struct nlattr *local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (local)
		get_ip(local, x->local, x->family);
	if (tb[IFA_LOCAL] && tb[IFA_ADDRESS]) {
		get_ip(tb[IFA_ADDRESS], x->peer, x->family);
		x->has_peer = memcmp(x->peer, x->local, x->family == AF_INET ? 4 : 16) != 0;
	}
	if (tb[IFA_BROADCAST] && x->family == AF_INET) {
		get_ip(tb[IFA_BROADCAST], x->broadcast, AF_INET);
		x->has_broadcast = true;
	}
	if (tb[IFA_FLAGS])
		x->flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	if (tb[IFA_CACHEINFO] &&
	    mnl_attr_get_payload_len(tb[IFA_CACHEINFO]) >= sizeof(struct ifa_cacheinfo)) {
		const struct ifa_cacheinfo *ci = mnl_attr_get_payload(tb[IFA_CACHEINFO]);
		x->preferred = ci->ifa_prefered;
		x->valid = ci->ifa_valid;
	}
	return MNL_CB_OK;
}

int lj_net_addrs(struct lj_nl *nl, int family, int index, struct lj_ifaddr **out, size_t *n,
                 lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETADDR, 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	struct addr_acc acc = {.family = family, .index = index};
	if (lj_nl_dump(nl, h, addr_cb, &acc, "list addresses", e) < 0) {
		free(acc.v);
		return -1;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}
