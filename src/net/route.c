/* Routes over rtnetlink: add, delete, get, dump (both families, main table by default). */
#include "net/nl.h"

#include <errno.h>

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static struct nlmsghdr *route_msg(struct lj_nl *nl, char *buf, uint16_t type, uint16_t flags,
                                  const struct lj_route *r)
{
	struct nlmsghdr *h = lj_nl_req(nl, buf, type, flags);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;
	rtm->rtm_family = (uint8_t)r->family;
	rtm->rtm_dst_len = (uint8_t)r->dst_len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (table >= 256)
		mnl_attr_put_u32(h, RTA_TABLE, table);
	if (type == RTM_NEWROUTE) {
		rtm->rtm_protocol = r->protocol ? (uint8_t)r->protocol : RTPROT_STATIC;
		rtm->rtm_type = r->type ? (uint8_t)r->type : RTN_UNICAST;
		/* A route without gateway is on-link: scope link, like a connected route. */
		rtm->rtm_scope = r->scope ? (uint8_t)r->scope
		                          : (r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	} else {
		rtm->rtm_protocol = (uint8_t)r->protocol;
		rtm->rtm_type = (uint8_t)r->type;
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* delete: match any scope */
	}
	if (r->dst_len > 0)
		mnl_attr_put(h, RTA_DST, alen(r->family), r->dst);
	if (r->has_gw)
		mnl_attr_put(h, RTA_GATEWAY, alen(r->family), r->gw);
	if (r->has_prefsrc)
		mnl_attr_put(h, RTA_PREFSRC, alen(r->family), r->prefsrc);
	if (r->oif)
		mnl_attr_put_u32(h, RTA_OIF, (uint32_t)r->oif);
	if (r->priority)
		mnl_attr_put_u32(h, RTA_PRIORITY, r->priority);
	if (r->mtu && type == RTM_NEWROUTE) {
		struct nlattr *m = mnl_attr_nest_start(h, RTA_METRICS);
		mnl_attr_put_u32(h, RTAX_MTU, r->mtu);
		mnl_attr_nest_end(h, m);
	}
	return h;
}

int lj_net_route_add(struct lj_nl *nl, const struct lj_route *r, bool replace, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = route_msg(nl, buf, RTM_NEWROUTE,
	                               NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), r);
	return lj_nl_talk(nl, h, "add route", e);
}

int lj_net_route_del(struct lj_nl *nl, const struct lj_route *r, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = route_msg(nl, buf, RTM_DELROUTE, 0, r);
	return lj_nl_talk(nl, h, "delete route", e);
}

static void parse_route(const struct nlmsghdr *h, struct lj_route *r)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	lj_nl_parse(h, sizeof(*rtm), tb, LJ_ARRAY_LEN(tb) - 1);
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
	r->protocol = rtm->rtm_protocol;
	r->scope = rtm->rtm_scope;
	r->type = rtm->rtm_type;
	r->rtm_flags = rtm->rtm_flags;
	size_t n = alen(r->family);
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) >= n)
		memcpy(r->dst, mnl_attr_get_payload(tb[RTA_DST]), n);
	if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) >= n) {
		memcpy(r->gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), n);
		r->has_gw = true;
	}
	if (tb[RTA_PREFSRC] && mnl_attr_get_payload_len(tb[RTA_PREFSRC]) >= n) {
		memcpy(r->prefsrc, mnl_attr_get_payload(tb[RTA_PREFSRC]), n);
		r->has_prefsrc = true;
	}
	if (tb[RTA_OIF])
		r->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY])
		r->priority = mnl_attr_get_u32(tb[RTA_PRIORITY]);
	if (tb[RTA_METRICS]) {
		const struct nlattr *mx[RTAX_MAX + 1] = {0};
		lj_nl_parse_nested(tb[RTA_METRICS], mx, LJ_ARRAY_LEN(mx) - 1);
		if (mx[RTAX_MTU])
			r->mtu = mnl_attr_get_u32(mx[RTAX_MTU]);
	}
	if (tb[RTA_CACHEINFO] &&
	    mnl_attr_get_payload_len(tb[RTA_CACHEINFO]) >= sizeof(struct rta_cacheinfo)) {
		const struct rta_cacheinfo *ci = mnl_attr_get_payload(tb[RTA_CACHEINFO]);
		r->expires = ci->rta_expires / 100; /* clock_t (USER_HZ) to seconds */
	}
}

static int one_route_cb(const struct nlmsghdr *h, void *data)
{
	if (h->nlmsg_type == RTM_NEWROUTE)
		parse_route(h, data);
	return MNL_CB_OK;
}

int lj_net_route_get(struct lj_nl *nl, int family, const uint8_t *dst, struct lj_route *out,
                     lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(alen(family) * 8);
	rtm->rtm_flags = RTM_F_FIB_MATCH; /* the table entry, not a /32 result (4.13+) */
	mnl_attr_put(h, RTA_DST, alen(family), dst);
	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (lj_nl_query(nl, h, one_route_cb, out, "get route", e) < 0)
		return -1;
	if (out->family == AF_UNSPEC)
		return lj_error(e, ESRCH, "get route");
	return 0;
}

struct route_acc {
	int family;
	uint32_t table;
	struct lj_route *v;
	size_t n, cap;
};

static int routes_cb(const struct nlmsghdr *h, void *data)
{
	struct route_acc *acc = data;
	if (h->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	struct lj_route r;
	parse_route(h, &r);
	if ((acc->family != AF_UNSPEC && r.family != acc->family) || r.table != acc->table ||
	    (r.family != AF_INET && r.family != AF_INET6))
		return MNL_CB_OK;
	if (acc->n == acc->cap) {
		acc->cap = acc->cap ? acc->cap * 2 : 16;
		acc->v = xrealloc(acc->v, acc->cap * sizeof(*acc->v));
	}
	acc->v[acc->n++] = r;
	return MNL_CB_OK;
}

int lj_net_routes(struct lj_nl *nl, int family, uint32_t table, struct lj_route **out, size_t *n,
                  lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	struct route_acc acc = {.family = family, .table = table ? table : RT_TABLE_MAIN};
	if (lj_nl_dump(nl, h, routes_cb, &acc, "list routes", e) < 0) {
		free(acc.v);
		return -1;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}
