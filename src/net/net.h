/* net: links, veth pairs, bridges, addresses, routes and network-namespace moves over rtnetlink
 * (libmnl), plus FreeBSD's ifconfig(8), route(8) and netstat(1) as in-process entry points.
 *
 * Sockets: a netlink socket acts on the network namespace it was CREATED in (setns is per thread).
 * Every call takes a `struct lj_nl *`; NULL means "open a socket for this call in the calling
 * thread's current namespace and close it after". Open one with lj_nl_open() for many calls.
 *
 * Errors: -1 and e filled; e->errnum is the kernel's errno (ENODEV for a missing interface),
 * e->msg "what: <kernel extended ack text>: strerror" when the kernel sent an extended ack. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

#define LJ_IFNAMSIZ 16 /* IFNAMSIZ: 15 characters and the NUL */

/* ---- the netlink socket ------------------------------------------------------------------ */

struct lj_nl;
struct lj_nl *lj_nl_open(lj_err *e);
void lj_nl_close(struct lj_nl *nl);

/* True when name is a valid Linux interface name (1..15 chars, no '/', ':', whitespace, not
 * "." or ".."); else false and e says why
 * ("interface name too long (max 15 characters): X"). */
bool lj_net_name_ok(const char *name, lj_err *e);

/* ---- links ------------------------------------------------------------------------------- */

struct lj_link {
	int index;
	char name[LJ_IFNAMSIZ];
	char kind[16];  /* IFLA_INFO_KIND: "veth", "bridge", "dummy", ... ; "" for physical/lo */
	unsigned flags; /* Linux IFF_* (net/if.h), including IFF_LOWER_UP */
	unsigned mtu;
	int master; /* ifindex of the bridge this link is a port of, 0 if none */
	int link;   /* IFLA_LINK: a veth's peer ifindex (in link_netnsid's namespace), 0 if none */
	int link_netnsid;     /* -1 when the peer is in this namespace */
	bool link_netns_dead; /* the peer's namespace is being torn down (the kernel reports
	                         IFLA_LINK_NETNSID -1): the pair goes with it shortly */
	unsigned type;        /* ARPHRD_* */
	unsigned operstate;   /* IF_OPER_* */
	uint32_t group;
	uint8_t addr[32]; /* link-layer address */
	unsigned addrlen;
	uint8_t perm_addr[32]; /* factory address (IFLA_PERM_ADDRESS), addrlen bytes; all 0 if
	                          unknown */
	char alias[64];        /* IFLA_IFALIAS (FreeBSD "description") */
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped, multicast, collisions;
};

/* All links of the namespace, in ifindex order (caller frees *out). */
int lj_net_links(struct lj_nl *nl, struct lj_link **out, size_t *n, lj_err *e);
/* All links of the namespace of netns_fd, through nl's namespace (IFLA_TARGET_NETNSID: no
 * socket is made inside, so nothing there outlives the call; the namespace gets an id in nl's
 * if it has none). link_netnsid values are ids of nl's namespace. */
int lj_net_links_in(struct lj_nl *nl, int netns_fd, struct lj_link **out, size_t *n, lj_err *e);
/* One link by name. Missing: -1, errnum ENODEV, msg "interface NAME does not exist". */
int lj_net_link_get(struct lj_nl *nl, const char *name, struct lj_link *out, lj_err *e);
/* ifindex of name, or -1 (ENODEV) as above. */
int lj_net_ifindex(struct lj_nl *nl, const char *name, lj_err *e);

/* A veth pair name <-> peer (the kernel registers the peer first: it gets the lower ifindex).
 * peer_netns_fd >= 0: the peer is born in that namespace (a
 * /proc/PID/ns/net or ns fd, see lj_net_netns_fd). group != 0 sets IFLA_GROUP on both ends so
 * they can be deleted together with lj_net_group_del. Refuses existing names (EEXIST). */
int lj_net_veth_create(struct lj_nl *nl, const char *name, const char *peer, int peer_netns_fd,
                       uint32_t group, lj_err *e);
/* A Linux bridge (STP off, forward delay 0 as FreeBSD's if_bridge forwards at once). */
int lj_net_bridge_create(struct lj_nl *nl, const char *name, lj_err *e);
/* Delete a link (a veth's peer goes with it). One RCU grace period (~16 ms) per call. */
int lj_net_link_del(struct lj_nl *nl, const char *name, lj_err *e);
/* Delete many links paying one grace period: tags them with a fresh group, then deletes the
 * group. Names that do not exist are skipped (not an error). */
int lj_net_links_del(struct lj_nl *nl, const char *const *names, size_t n, lj_err *e);
/* Delete every link whose IFLA_GROUP is group (group != 0). */
int lj_net_group_del(struct lj_nl *nl, uint32_t group, lj_err *e);

int lj_net_link_set_up(struct lj_nl *nl, const char *name, bool up, lj_err *e);
/* Change the IFF_* bits in mask to their values in flags (IFF_PROMISC, IFF_NOARP, ...). */
int lj_net_link_set_flags(struct lj_nl *nl, const char *name, unsigned flags, unsigned mask,
                          lj_err *e);
int lj_net_link_set_mtu(struct lj_nl *nl, const char *name, unsigned mtu, lj_err *e);
int lj_net_link_set_mac(struct lj_nl *nl, const char *name, const uint8_t mac[6], lj_err *e);
int lj_net_link_rename(struct lj_nl *nl, const char *name, const char *newname, lj_err *e);
int lj_net_link_set_group(struct lj_nl *nl, const char *name, uint32_t group, lj_err *e);
int lj_net_link_set_alias(struct lj_nl *nl, const char *name, const char *alias, lj_err *e);
/* Make name a port of bridge `master`; master NULL releases it from its bridge. */
int lj_net_link_set_master(struct lj_nl *nl, const char *name, const char *master, lj_err *e);
/* The same with the bridge given by its index (0: out of any bridge). */
int lj_net_link_set_master_index(struct lj_nl *nl, const char *name, int master_index, lj_err *e);
/* Move name into the namespace of netns_fd (IFLA_NET_NS_FD), renamed to newname there if not
 * NULL. To move a link back out, call this from a socket opened inside the jail's namespace with
 * an fd of the host namespace (lj_net_netns_fd(getpid()) taken before entering). */
int lj_net_link_set_netns(struct lj_nl *nl, const char *name, int netns_fd, const char *newname,
                          lj_err *e);
/* Wait (up to timeout_ms) until the link called name is deleted, when it is a veth whose
 * peer's namespace is dying (link_netns_dead: the kernel deletes the pair in its namespace
 * cleanup, asynchronously). 1: it was such a link and is gone now (or went meanwhile); 0: no such
 * link or not dying (nothing waited for); -1: error, ETIMEDOUT when it outlived the timeout. */
int lj_net_wait_dying_link(struct lj_nl *nl, const char *name, int timeout_ms, lj_err *e);
/* Bring lo up in the calling thread's current namespace (a fresh namespace has it down). */
int lj_net_lo_up(lj_err *e);

/* An fd of the network namespace of the process behind pidfd, usable with IFLA_NET_NS_FD and
 * setns(CLONE_NEWNET). Race-free: the pidfd is checked alive after /proc/PID/ns/net is opened
 * (or PIDFD_GET_NET_NAMESPACE is used where the kernel has it). */
int lj_net_netns_fd_from_pidfd(int pidfd, lj_err *e);

/* Enter the network namespace of fd in the calling thread (setns). */
int lj_net_setns(int netns_fd, lj_err *e);

/* ---- addresses --------------------------------------------------------------------------- */

struct lj_ipaddr {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t a[16];          /* network byte order; 4 bytes used for AF_INET */
	int prefixlen;          /* -1 when the text had none */
	uint32_t scope_ifindex; /* from "fe80::1%IF" (0 if none) */
};

/* Parse "A", "A/len", "A%if" (v6); family AF_UNSPEC guesses. Errors name the text. */
int lj_net_ipaddr_parse(const char *s, int family, struct lj_ipaddr *out, lj_err *e);
/* Format without the prefix ("10.0.0.1", "fe80::1"). buf >= INET6_ADDRSTRLEN. */
const char *lj_net_ipaddr_str(const struct lj_ipaddr *a, char *buf, size_t len);
/* Netmask of an IPv4 prefix length in host byte order (24 -> 0xffffff00). */
uint32_t lj_net_v4_mask(int prefixlen);
/* Prefix length of a contiguous IPv4 mask in host byte order, -1 if not contiguous. */
int lj_net_v4_prefixlen(uint32_t mask);

struct lj_ifaddr {
	int index;
	int family;
	int prefixlen;
	uint8_t local[16]; /* IFA_LOCAL (v4) or IFA_ADDRESS (v6): the interface's own address */
	uint8_t peer[16];  /* IFA_ADDRESS when it differs from local (point-to-point) */
	bool has_peer;
	uint8_t broadcast[4];
	bool has_broadcast;
	unsigned flags;            /* IFA_F_* (IFA_FLAGS when present) */
	unsigned scope;            /* RT_SCOPE_* */
	uint32_t preferred, valid; /* lifetimes in seconds; 0xffffffff = forever */
};

/* Add an address (v4: broadcast computed, like FreeBSD; v6: IFA_F_NODAD so it is usable at once).
 */
int lj_net_addr_add(struct lj_nl *nl, const char *ifname, const struct lj_ipaddr *a, lj_err *e);
/* Delete an address; prefixlen < 0 means whatever prefix it has. Absent: EADDRNOTAVAIL. */
int lj_net_addr_del(struct lj_nl *nl, const char *ifname, const struct lj_ipaddr *a, lj_err *e);
/* Addresses of family (AF_UNSPEC: both) on index (0: all), in kernel order. */
int lj_net_addrs(struct lj_nl *nl, int family, int index, struct lj_ifaddr **out, size_t *n,
                 lj_err *e);

/* ---- routes ------------------------------------------------------------------------------ */

struct lj_route {
	int family;
	uint8_t dst[16];
	int dst_len; /* 0 = default */
	uint8_t gw[16];
	bool has_gw;
	uint8_t prefsrc[16];
	bool has_prefsrc;
	int oif;            /* 0: the kernel picks the interface from the gateway */
	uint32_t table;     /* 0 = RT_TABLE_MAIN */
	unsigned protocol;  /* RTPROT_*; 0 = RTPROT_STATIC on add */
	unsigned scope;     /* RT_SCOPE_* */
	unsigned type;      /* RTN_*; 0 = RTN_UNICAST on add */
	unsigned rtm_flags; /* RTM_F_* / RTNH_F_* */
	uint32_t priority;  /* RTA_PRIORITY (metric) */
	uint32_t mtu;       /* RTAX_MTU, 0 if unset */
	uint32_t expires;   /* seconds, 0 if none */
};

/* Add (replace = NLM_F_REPLACE, else NLM_F_EXCL), delete (matching family/dst/dst_len/gw/table),
 * get (the routing-table entry the kernel would use for dst, RTM_F_FIB_MATCH: dst/dst_len are
 * the matching prefix; ENETUNREACH or ESRCH if none). */
int lj_net_route_add(struct lj_nl *nl, const struct lj_route *r, bool replace, lj_err *e);
int lj_net_route_del(struct lj_nl *nl, const struct lj_route *r, lj_err *e);
int lj_net_route_get(struct lj_nl *nl, int family, const uint8_t *dst, struct lj_route *out,
                     lj_err *e);
/* Routes of family (AF_UNSPEC: both) in table (0: main), kernel order; local/broadcast tables
 * are skipped unless table is RT_TABLE_LOCAL. */
int lj_net_routes(struct lj_nl *nl, int family, uint32_t table, struct lj_route **out, size_t *n,
                  lj_err *e);

/* ---- FreeBSD front-ends (print like the commands; argv[0] is the program name) ----------- */

typedef int (*lj_net_main_fn)(int argc, char **argv);
int lj_ifconfig_main(int argc, char **argv);
int lj_route_main(int argc, char **argv);
int lj_netstat_main(int argc, char **argv);
/* The entry point for "ifconfig", "/sbin/ifconfig", "route", "/sbin/route", "netstat",
 * "/usr/bin/netstat"; NULL for anything else. jail(8) calls it instead of exec'ing. */
lj_net_main_fn lj_net_builtin(const char *argv0);

/* ---- pure formatting (unit-tested) ------------------------------------------------------- */

/* FreeBSD if_flags from a Linux link: UP, BROADCAST, LOOPBACK, POINTOPOINT, RUNNING, NOARP,
 * PROMISC (bridge ports too), ALLMULTI, SIMPLEX (Ethernet), MULTICAST, LOWER_UP (bit 24). */
unsigned lj_fbsd_if_flags(const struct lj_link *l);
/* "<UP,BROADCAST,...>" per FreeBSD (empty when flags == 0), appended to b. */
void lj_fbsd_flags_str(unsigned fbsd_flags, lj_buf *b);
/* The whole ifconfig status block of one interface, as FreeBSD 14 prints it. members: the links
 * whose master is l (for a bridge), newest first; all: every link (for link#N names). */
void lj_ifconfig_format(const struct lj_link *l, const struct lj_ifaddr *addrs, size_t naddrs,
                        const struct lj_link *all, size_t nall, lj_buf *b);
/* netstat -r tables (Routing tables / Internet: / Internet6:); family AF_UNSPEC = both.
 * routes: main table and local table together (local addresses become "UHS lo" host rows as
 * FreeBSD shows them); numeric: -n (widens the inet6 columns as FreeBSD does). */
void lj_netstat_format(const struct lj_route *routes, size_t nroutes, const struct lj_link *links,
                       size_t nlinks, int family, bool numeric, lj_buf *b);

/* ---- jails ------------------------------------------------------------------------------- */

/* Hints jail(8) gives its in-process ifconfig (lj_net_builtin; forked children inherit them):
 *  - target: while a VNET jail's exec.prestart runs, `ifconfig epairN create` (or `epair
 *    create`) whose b end is one of names makes that end directly inside netns_fd, the jail's
 *    network namespace made in advance (no move later, one RCU grace period less; epairNb never
 *    shows on the host). netns_fd < 0 clears it. The fd is not owned.
 *  - dying: host-side ends of veth pairs that die with a removed jail's network namespace
 *    (their jail end was not moved back): `ifconfig NAME destroy` and `ifconfig BRIDGE deletem
 *    NAME` succeed at once for them, whether the kernel already deleted the pair or not.
 *    n == 0 clears it. */
void lj_net_set_vnet_target(int netns_fd, const char *const *names, size_t n);
void lj_net_set_vnet_dying(const char *const *names, size_t n);
/* The hints' state (for ifconfig): the target fd for the b end `name` (-1: none), and whether
 * name is a dying host-side end. */
int lj_net_vnet_target_for(const char *name);
bool lj_net_vnet_is_dying(const char *name);

/* An fd of the network namespace of the running jail `jail` (name or JID), through the registry
 * and a pidfd of its init. Not found: -1, msg "jail \"x\" not found", errnum ENOENT. */
int lj_net_jail_netns_fd(const char *jail, lj_err *e);
/* Run fn(arg) with the calling thread inside the network namespace netns_fd, then return to the
 * namespace it was in. Returns fn's result, or -1 with e filled if entering/leaving failed. */
int lj_net_in_netns(int netns_fd, int (*fn)(void *arg), void *arg, lj_err *e);
