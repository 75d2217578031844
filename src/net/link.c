/* Links over rtnetlink: dumps, veth pairs, bridges, deletes (batched by group), flags, moves. */
#include "net/nl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/nsfs.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef IFLA_PERM_ADDRESS
#define IFLA_PERM_ADDRESS 54
#endif

bool lj_net_name_ok(const char *name, lj_err *e)
{
	if (!name || !*name) {
		lj_errorx(e, "empty interface name");
		return false;
	}
	if (strlen(name) >= LJ_IFNAMSIZ) {
		lj_errorx(e, "interface name too long (max %d characters): %s", LJ_IFNAMSIZ - 1,
		          name);
		return false;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n")) {
		lj_errorx(e, "invalid interface name: %s", name);
		return false;
	}
	return true;
}

/* ---- parsing one RTM_NEWLINK ------------------------------------------------------------- */

static void copy_str(char *dst, size_t n, const struct nlattr *a)
{
	size_t len = mnl_attr_get_payload_len(a);
	const char *s = mnl_attr_get_payload(a);
	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = 0;
	dst[strnlen(dst, len)] = 0;
}

static void parse_link(const struct nlmsghdr *h, struct lj_link *l)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[IFLA_MAX + 1] = {0};
	lj_nl_parse(h, sizeof(*ifi), tb, LJ_ARRAY_LEN(tb) - 1);
	memset(l, 0, sizeof(*l));
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->type = ifi->ifi_type;
	l->link_netnsid = -1;
	if (tb[IFLA_IFNAME])
		copy_str(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK])
		l->link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID]) {
		/* present but -1 (NETNSA_NSID_NOT_ASSIGNED): the peer's namespace has no id left
		 * to give, it is being torn down */
		l->link_netnsid = (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
		l->link_netns_dead = l->link_netnsid < 0;
	}
	if (tb[IFLA_OPERSTATE])
		l->operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_GROUP])
		l->group = mnl_attr_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_ADDRESS]) {
		l->addrlen = mnl_attr_get_payload_len(tb[IFLA_ADDRESS]);
		if (l->addrlen > sizeof(l->addr))
			l->addrlen = sizeof(l->addr);
		memcpy(l->addr, mnl_attr_get_payload(tb[IFLA_ADDRESS]), l->addrlen);
	}
	if (tb[IFLA_PERM_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_PERM_ADDRESS]) == l->addrlen)
		memcpy(l->perm_addr, mnl_attr_get_payload(tb[IFLA_PERM_ADDRESS]), l->addrlen);
	if (tb[IFLA_IFALIAS])
		copy_str(l->alias, sizeof(l->alias), tb[IFLA_IFALIAS]);
	if (tb[IFLA_STATS64] &&
	    mnl_attr_get_payload_len(tb[IFLA_STATS64]) >= sizeof(struct rtnl_link_stats64)) {
		struct rtnl_link_stats64 st;
		memcpy(&st, mnl_attr_get_payload(tb[IFLA_STATS64]), sizeof(st));
		l->rx_packets = st.rx_packets;
		l->tx_packets = st.tx_packets;
		l->rx_bytes = st.rx_bytes;
		l->tx_bytes = st.tx_bytes;
		l->rx_errors = st.rx_errors;
		l->tx_errors = st.tx_errors;
		l->rx_dropped = st.rx_dropped;
		l->tx_dropped = st.tx_dropped;
		l->multicast = st.multicast;
		l->collisions = st.collisions;
	}
	if (tb[IFLA_LINKINFO]) {
		const struct nlattr *li[IFLA_INFO_MAX + 1] = {0};
		lj_nl_parse_nested(tb[IFLA_LINKINFO], li, LJ_ARRAY_LEN(li) - 1);
		if (li[IFLA_INFO_KIND])
			copy_str(l->kind, sizeof(l->kind), li[IFLA_INFO_KIND]);
	}
}

struct links_acc {
	struct lj_link *v;
	size_t n, cap;
};

static int links_cb(const struct nlmsghdr *h, void *data)
{
	struct links_acc *acc = data;
	if (h->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (acc->n == acc->cap) {
		acc->cap = acc->cap ? acc->cap * 2 : 16;
		acc->v = xrealloc(acc->v, acc->cap * sizeof(*acc->v));
	}
	parse_link(h, &acc->v[acc->n++]);
	return MNL_CB_OK;
}

static int cmp_index(const void *a, const void *b)
{
	const struct lj_link *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

/* Every link of this namespace, or of the one nsid names (>= 0), sorted by index. */
static int dump_links(struct lj_nl *nl, int nsid, struct lj_link **out, size_t *n, lj_err *e)
{
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (nsid >= 0)
		mnl_attr_put_u32(h, IFLA_TARGET_NETNSID, (uint32_t)nsid);
	struct links_acc acc = {0};
	if (lj_nl_dump(nl, h, links_cb, &acc, "list interfaces", e) < 0) {
		free(acc.v);
		return -1;
	}
	if (acc.n)
		qsort(acc.v, acc.n, sizeof(*acc.v), cmp_index);
	*out = acc.v;
	*n = acc.n;
	return 0;
}

int lj_net_links(struct lj_nl *nl, struct lj_link **out, size_t *n, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	return dump_links(nl, -1, out, n, e);
}

static int nsid_cb(const struct nlmsghdr *h, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1] = {0};
	if (h->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	lj_nl_parse(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX);
	if (tb[NETNSA_NSID])
		*(int *)data = (int)mnl_attr_get_u32(tb[NETNSA_NSID]);
	return MNL_CB_OK;
}

int lj_nl_netns_id(struct lj_nl *nl, int netns_fd, bool assign, lj_err *e)
{
	for (int round = 0; round < 2; round++) {
		char buf[LJ_NL_BUFSZ];
		struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETNSID, 0);
		struct rtgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
		g->rtgen_family = AF_UNSPEC;
		mnl_attr_put_u32(h, NETNSA_FD, (uint32_t)netns_fd);
		int id = -1;
		if (lj_nl_query(nl, h, nsid_cb, &id, "get namespace id", e) < 0)
			return -1;
		if (id >= 0 || round || !assign)
			return id >= 0 ? id : lj_errorx(e, "no namespace id");
		h = lj_nl_req(nl, buf, RTM_NEWNSID, 0);
		g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
		g->rtgen_family = AF_UNSPEC;
		mnl_attr_put_u32(h, NETNSA_FD, (uint32_t)netns_fd);
		mnl_attr_put_u32(h, NETNSA_NSID, (uint32_t)-1); /* the kernel picks */
		lj_err tmp;
		if (lj_nl_talk(nl, h, "assign namespace id", &tmp) < 0 && tmp.errnum != EEXIST) {
			if (e)
				*e = tmp;
			return -1;
		}
	}
	return -1;
}

int lj_net_links_in(struct lj_nl *nl, int netns_fd, struct lj_link **out, size_t *n, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	int id = lj_nl_netns_id(nl, netns_fd, true, e);
	if (id < 0)
		return -1;
	return dump_links(nl, id, out, n, e);
}

static int one_link_cb(const struct nlmsghdr *h, void *data)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		parse_link(h, data);
	return MNL_CB_OK;
}

/* "interface NAME does not exist", as ifconfig says it, with ENODEV. Returns -1. */
static int no_such_link(const char *name, lj_err *e)
{
	lj_errorx(e, "interface %s does not exist", name);
	if (e)
		e->errnum = ENODEV;
	return -1;
}

int lj_net_link_get(struct lj_nl *nl, const char *name, struct lj_link *out, lj_err *e)
{
	if (strlen(name) >= LJ_IFNAMSIZ || !*name) {
		return no_such_link(name, e);
	}
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	memset(out, 0, sizeof(*out));
	lj_err tmp;
	if (lj_nl_query(nl, h, one_link_cb, out, "get interface", &tmp) < 0) {
		if (tmp.errnum == ENODEV) {
			return no_such_link(name, e);
		}
		if (e)
			*e = tmp;
		return -1;
	}
	if (!out->index) {
		return no_such_link(name, e);
	}
	return 0;
}

int lj_net_ifindex(struct lj_nl *nl, const char *name, lj_err *e)
{
	struct lj_link l;
	if (lj_net_link_get(nl, name, &l, e) < 0)
		return -1;
	return l.index;
}

/* ---- creating ---------------------------------------------------------------------------- */

int lj_net_veth_create(struct lj_nl *nl, const char *name, const char *peer, int peer_netns_fd,
                       uint32_t group, lj_err *e)
{
	if (!lj_net_name_ok(name, e) || !lj_net_name_ok(peer, e))
		return -1;
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	if (group)
		mnl_attr_put_u32(h, IFLA_GROUP, group);
	/* One queue each way, as veth uses anyway: left to the kernel, a veth gets a queue per CPU
	 * and is cut down to one after it is registered, an RCU grace period under the RTNL lock
	 * for each end, which every other interface change on the machine waits for. */
	mnl_attr_put_u32(h, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(h, IFLA_NUM_RX_QUEUES, 1);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	struct nlattr *pn = mnl_attr_nest_start(h, VETH_INFO_PEER);
	struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(h, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (group)
		mnl_attr_put_u32(h, IFLA_GROUP, group);
	mnl_attr_put_u32(h, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(h, IFLA_NUM_RX_QUEUES, 1);
	mnl_attr_nest_end(h, pn);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	if (lj_nl_talk(nl, h, "create veth", e) < 0)
		return lj_error_prefix(e, "%s/%s", name, peer);
	return 0;
}

int lj_net_bridge_create(struct lj_nl *nl, const char *name, lj_err *e)
{
	if (!lj_net_name_ok(name, e))
		return -1;
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	/* FreeBSD's if_bridge runs without STP unless asked; so does a Linux bridge by default,
	 * which forwards at once. Say it explicitly so a changed kernel default cannot bite. */
	mnl_attr_put_u32(h, IFLA_BR_STP_STATE, 0);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	if (lj_nl_talk(nl, h, "create bridge", e) < 0)
		return lj_error_prefix(e, "%s", name);
	return 0;
}

/* ---- changing one link by index ---------------------------------------------------------- */

/* A RTM_NEWLINK for the link called name (resolved to its index first). */
static struct nlmsghdr *change_req(struct lj_nl *nl, char *buf, const char *name,
                                   struct ifinfomsg **ifip, lj_err *e)
{
	int idx = lj_net_ifindex(nl, name, e);
	if (idx < 0)
		return NULL;
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	if (ifip)
		*ifip = ifi;
	return h;
}

static int change_talk(struct lj_nl *nl, struct nlmsghdr *h, const char *what, const char *name,
                       lj_err *e)
{
	if (lj_nl_talk(nl, h, what, e) < 0)
		return lj_error_prefix(e, "%s", name);
	return 0;
}

/* The same for a change that cannot rename: the kernel finds the link by its name (IFLA_IFNAME
 * with no index), which spares the lookup of its index. */
static struct nlmsghdr *change_req_by_name(struct lj_nl *nl, char *buf, const char *name,
                                           struct ifinfomsg **ifip, lj_err *e)
{
	if (strlen(name) >= LJ_IFNAMSIZ || !*name) {
		no_such_link(name, e);
		return NULL;
	}
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	if (ifip)
		*ifip = ifi;
	return h;
}

static int change_talk_by_name(struct lj_nl *nl, struct nlmsghdr *h, const char *what,
                               const char *name, lj_err *e)
{
	lj_err tmp;
	if (lj_nl_talk(nl, h, what, &tmp) == 0)
		return 0;
	if (tmp.errnum == ENODEV) {
		return no_such_link(name, e);
	}
	if (e)
		*e = tmp;
	return lj_error_prefix(e, "%s", name);
}

/* One u32 attribute of the link (MTU, group, bridge) set by name. */
static int set_link_u32(struct lj_nl *nl, const char *name, uint16_t attr, uint32_t v,
                        const char *what, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = change_req_by_name(nl, buf, name, NULL, e);
	if (!h)
		return -1;
	mnl_attr_put_u32(h, attr, v);
	return change_talk_by_name(nl, h, what, name, e);
}

int lj_net_link_set_flags(struct lj_nl *nl, const char *name, unsigned flags, unsigned mask,
                          lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct ifinfomsg *ifi;
	struct nlmsghdr *h = change_req_by_name(nl, buf, name, &ifi, e);
	if (!h)
		return -1;
	ifi->ifi_change = mask;
	ifi->ifi_flags = flags & mask;
	return change_talk_by_name(nl, h, "set flags", name, e);
}

int lj_net_link_set_up(struct lj_nl *nl, const char *name, bool up, lj_err *e)
{
	return lj_net_link_set_flags(nl, name, up ? IFF_UP : 0, IFF_UP, e);
}

int lj_net_link_set_mtu(struct lj_nl *nl, const char *name, unsigned mtu, lj_err *e)
{
	return set_link_u32(nl, name, IFLA_MTU, mtu, "set mtu", e);
}

int lj_net_link_set_mac(struct lj_nl *nl, const char *name, const uint8_t mac[6], lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = change_req_by_name(nl, buf, name, NULL, e);
	if (!h)
		return -1;
	mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	return change_talk_by_name(nl, h, "set link address", name, e);
}

int lj_net_link_rename(struct lj_nl *nl, const char *name, const char *newname, lj_err *e)
{
	if (!lj_net_name_ok(newname, e))
		return -1;
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = change_req(nl, buf, name, NULL, e);
	if (!h)
		return -1;
	mnl_attr_put_strz(h, IFLA_IFNAME, newname);
	return change_talk(nl, h, "rename", name, e);
}

int lj_net_link_set_group(struct lj_nl *nl, const char *name, uint32_t group, lj_err *e)
{
	return set_link_u32(nl, name, IFLA_GROUP, group, "set group", e);
}

int lj_net_link_set_alias(struct lj_nl *nl, const char *name, const char *alias, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = change_req_by_name(nl, buf, name, NULL, e);
	if (!h)
		return -1;
	/* An empty IFLA_IFALIAS removes the description. */
	mnl_attr_put(h, IFLA_IFALIAS, strlen(alias), alias);
	return change_talk_by_name(nl, h, "set description", name, e);
}

int lj_net_link_set_master_index(struct lj_nl *nl, const char *name, int master_index, lj_err *e)
{
	return set_link_u32(nl, name, IFLA_MASTER, (uint32_t)master_index,
	                    master_index ? "add to bridge" : "remove from bridge", e);
}

int lj_net_link_set_master(struct lj_nl *nl, const char *name, const char *master, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	int midx = 0;
	if (master && (midx = lj_net_ifindex(nl, master, e)) < 0)
		return -1;
	return lj_net_link_set_master_index(nl, name, midx, e);
}

int lj_net_link_set_netns(struct lj_nl *nl, const char *name, int netns_fd, const char *newname,
                          lj_err *e)
{
	if (newname && !lj_net_name_ok(newname, e))
		return -1;
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = change_req(nl, buf, name, NULL, e);
	if (!h)
		return -1;
	mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	if (newname)
		mnl_attr_put_strz(h, IFLA_IFNAME, newname);
	return change_talk(nl, h, "move to network namespace", name, e);
}

/* The peer of veth l lives in a namespace that is being torn down. Until the kernel's cleanup
 * drops the namespace's id, the link still reports it (IFLA_LINK_NETNSID >= 0); asking for the
 * peer through that id then fails with EINVAL, as the namespace can no longer be referenced. */

static bool peer_ns_dying(struct lj_nl *nl, const struct lj_link *l)
{
	if (l->link_netns_dead)
		return true;
	if (l->link_netnsid < 0 || l->link <= 0)
		return false;
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = l->link;
	mnl_attr_put_u32(h, IFLA_TARGET_NETNSID, (uint32_t)l->link_netnsid);
	struct lj_link peer;
	lj_err e;
	memset(&peer, 0, sizeof(peer));
	return lj_nl_query(nl, h, one_link_cb, &peer, "get peer", &e) < 0 && e.errnum == EINVAL;
}

int lj_net_wait_dying_link(struct lj_nl *nl, const char *name, int timeout_ms, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	struct lj_link l;
	lj_err tmp;
	if (lj_net_link_get(nl, name, &l, &tmp) < 0) {
		if (tmp.errnum == ENODEV)
			return 0;
		if (e)
			*e = tmp;
		return -1;
	}
	if (strcmp(l.kind, "veth") != 0 || (l.link_netnsid < 0 && !l.link_netns_dead))
		return 0;
	/* Dying for sure; or no process left in it but not yet let go by the kernel (a netlink
	 * socket made there is freed an RCU grace period after its close): alive, but no jail's. */
	if (!peer_ns_dying(nl, &l) && lj_nl_netns_is_jails(nl, l.link_netnsid))
		return 0;
	/* Listen first, then look again: a delete between the two looks is not missed. */
	struct mnl_socket *mon = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!mon)
		return lj_error(e, errno, "netlink socket");
	if (mnl_socket_bind(mon, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;
		mnl_socket_close(mon);
		return lj_error(e, err, "netlink: listen to link changes");
	}
	int idx = l.index, rc = -1;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lj_autofree char *buf = xmalloc(65536);
	for (;;) {
		if (lj_net_link_get(nl, name, &l, NULL) < 0 || l.index != idx) {
			rc = 1;
			break;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 +
		                          (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = {.fd = mnl_socket_get_fd(mon), .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			lj_errorx(e, "interface %s: its pair did not go with its namespace", name);
			if (e)
				e->errnum = ETIMEDOUT;
			break;
		}
		/* Drain what came; a RTM_DELLINK of idx ends the wait. An overrun (ENOBUFS) or
		 * anything else: the next round looks at the link again. */
		bool gone = false;
		ssize_t n;
		while ((n = recv(p.fd, buf, 65536, MSG_DONTWAIT)) > 0) {
			int len = (int)n;
			for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
			     h = mnl_nlmsg_next(h, &len)) {
				const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
				if (h->nlmsg_type == RTM_DELLINK && ifi->ifi_index == idx)
					gone = true;
			}
		}
		if (gone) {
			rc = 1;
			break;
		}
	}
	mnl_socket_close(mon);
	return rc;
}

int lj_net_lo_up(lj_err *e)
{
	return lj_net_link_set_up(NULL, "lo", true, e);
}

/* ---- deleting ---------------------------------------------------------------------------- */

int lj_net_link_del(struct lj_nl *nl, const char *name, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	int idx = lj_net_ifindex(nl, name, e);
	if (idx < 0)
		return -1;
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	return change_talk(nl, h, "delete", name, e);
}

int lj_net_group_del(struct lj_nl *nl, uint32_t group, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	char buf[LJ_NL_BUFSZ];
	struct nlmsghdr *h = lj_nl_req(nl, buf, RTM_DELLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	/* ifi_index 0 and no name: the kernel deletes the whole group in one unregister batch,
	 * one RCU grace period for all (rtnl_group_dellink). */
	mnl_attr_put_u32(h, IFLA_GROUP, group);
	if (lj_nl_talk(nl, h, "delete interface group", e) < 0)
		return -1;
	return 0;
}

int lj_net_links_del(struct lj_nl *nl, const char *const *names, size_t n, lj_err *e)
{
	LJ_NL_AUTO(nl, own, e);
	lj_autofree struct lj_link *links = NULL;
	size_t nlinks = 0;
	if (lj_net_links(nl, &links, &nlinks, e) < 0)
		return -1;
	/* A group number nobody in this namespace uses. */
	uint32_t group = 0x4c4a0000u | ((uint32_t)getpid() & 0xffff);
	for (bool clash = true; clash;) {
		clash = false;
		for (size_t i = 0; i < nlinks; i++)
			if (links[i].group == group) {
				group++;
				clash = true;
			}
	}
	size_t cap = (n + 1) * 128;
	lj_autofree char *buf = xmalloc(cap);
	lj_autofree size_t *tagged = xcalloc(n + 1, sizeof(*tagged));
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, cap);
	unsigned count = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i;
		for (i = 0; i < nlinks && strcmp(links[i].name, names[k]); i++)
			;
		if (i == nlinks)
			continue; /* already gone (an epair's other end, or never made) */
		struct nlmsghdr *h =
		        lj_nl_req(nl, mnl_nlmsg_batch_current(b), RTM_NEWLINK, NLM_F_ACK);
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = links[i].index;
		mnl_attr_put_u32(h, IFLA_GROUP, group);
		mnl_nlmsg_batch_next(b);
		tagged[count++] = i;
	}
	int rc = 0;
	if (count) {
		bool ok = lj_nl_talk_batch(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b),
		                           count, "tag interfaces for deletion", NULL) == 0;
		if (!ok || lj_net_group_del(nl, group, NULL) < 0) {
			/* e.g. lo or a physical NIC in the list (they have no dellink): one by one,
			 * then the survivors get their own group back. */
			for (size_t k = 0; k < n; k++) {
				lj_err e2;
				if (lj_net_link_del(nl, names[k], &e2) < 0 && e2.errnum != ENODEV) {
					if (e && rc == 0)
						*e = e2;
					rc = -1;
				}
			}
			for (unsigned t = 0; t < count; t++) {
				const struct lj_link *l = &links[tagged[t]];
				if (lj_net_ifindex(nl, l->name, NULL) > 0)
					(void)lj_net_link_set_group(nl, l->name, l->group, NULL);
			}
		}
	}
	mnl_nlmsg_batch_stop(b);
	return rc;
}

/* ---- namespaces -------------------------------------------------------------------------- */

#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)
#endif

int lj_net_netns_fd_from_pidfd(int pidfd, lj_err *e)
{
	/* 6.11+: the pidfd hands out the namespace directly. Check the type of what came back. */
	int fd = ioctl(pidfd, PIDFD_GET_NET_NAMESPACE, 0);
	if (fd >= 0) {
		if (ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET)
			return fd;
		close(fd);
	}
	/* Older kernels: the PID from fdinfo, /proc/PID/ns/net, then prove the pidfd's process is
	 * still alive, so the PID was not recycled between the two steps. */
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	FILE *f = fopen(path, "re");
	if (!f)
		return lj_error(e, errno, "%s", path);
	pid_t pid = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	if (pid <= 0)
		return lj_errorx(e, "pidfd %d: process is gone", pidfd);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_error(e, errno, "%s", path);
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		int err = errno;
		close(fd);
		return lj_error(e, err, "pidfd %d", pidfd);
	}
	return fd;
}

int lj_net_setns(int netns_fd, lj_err *e)
{
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return lj_error(e, errno, "setns(network namespace)");
	return 0;
}
