/* net-internal: the netlink socket plumbing shared by link.c, addr.c and route.c. */
#pragma once

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "net/net.h"

struct lj_nl {
	struct mnl_socket *sk;
	unsigned portid;
	unsigned seq;
};

void lj_nl_closep(struct lj_nl **p);
/* `nl` itself, or a socket opened for this call (freed when `own` leaves scope). */
#define LJ_NL_AUTO(nl, own, e)                             \
	lj_cleanup(lj_nl_closep) struct lj_nl *own = NULL; \
	if (!(nl) && !((nl) = (own) = lj_nl_open(e)))      \
	return -1

/* A request buffer: header with NLM_F_REQUEST|flags|NLM_F_ACK and a fresh sequence number. */
struct nlmsghdr *lj_nl_req(struct lj_nl *nl, void *buf, uint16_t type, uint16_t flags);
/* Send one request and wait for its ack. The error text is "what: <ext ack>: strerror". */
int lj_nl_talk(struct lj_nl *nl, struct nlmsghdr *req, const char *what, lj_err *e);
/* Send a buffer of n requests (each with NLM_F_ACK) in one sendto and collect the n acks; the
 * first error is reported (the others still run, netlink has no transactions). */
int lj_nl_talk_batch(struct lj_nl *nl, void *buf, size_t len, unsigned n, const char *what,
                     lj_err *e);
/* Send a dump request (NLM_F_DUMP) and call cb for every answer message. */
int lj_nl_dump(struct lj_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, const char *what,
               lj_err *e);
/* Like lj_nl_talk but for requests that answer with one message (RTM_GETROUTE, RTM_GETLINK). */
int lj_nl_query(struct lj_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, const char *what,
                lj_err *e);

#define LJ_NL_BUFSZ 8192

/* Index the attributes of a message (after `off` bytes of family header) or of a nested
 * attribute into tb[0..max]; attributes above max (a kernel newer than our headers) are skipped. */
void lj_nl_parse(const struct nlmsghdr *h, size_t off, const struct nlattr **tb, unsigned max);
void lj_nl_parse_nested(const struct nlattr *a, const struct nlattr **tb, unsigned max);

/* The id nl's namespace has for the namespace of netns_fd (assign: make one if it has none),
 * or -1 with e filled. */
int lj_nl_netns_id(struct lj_nl *nl, int netns_fd, bool assign, lj_err *e);
/* nsid (an id of nl's namespace) is the network namespace of a jail in the registry (running,
 * or dead with its namespace still pinned). */
bool lj_nl_netns_is_jails(struct lj_nl *nl, int nsid);
