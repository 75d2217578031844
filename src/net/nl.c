/* The netlink socket: one request/ack loop that keeps the kernel's extended ack text. */
#include "net/nl.h"

#include <errno.h>
#include <unistd.h>

#define RECV_BUFSZ 65536 /* the kernel fills dump skbs up to 32 KiB; room for one full one */

struct lj_nl *lj_nl_open(lj_err *e)
{
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!sk) {
		lj_error(e, errno, "netlink socket");
		return NULL;
	}
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		lj_error(e, errno, "netlink bind");
		mnl_socket_close(sk);
		return NULL;
	}
	int one = 1;
	/* Extended acks (4.12+) carry the kernel's reason; capped acks keep error replies small.
	 * Both are best effort: an older kernel still answers with a bare errno. */
	(void)mnl_socket_setsockopt(sk, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(sk, NETLINK_CAP_ACK, &one, sizeof(one));
	struct lj_nl *nl = xcalloc(1, sizeof(*nl));
	nl->sk = sk;
	nl->portid = mnl_socket_get_portid(sk);
	nl->seq = (unsigned)getpid()
	          << 8; /* any start works; distinct numbers help strace reading */
	return nl;
}

void lj_nl_close(struct lj_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

void lj_nl_closep(struct lj_nl **p)
{
	lj_nl_close(*p);
	*p = NULL;
}

struct nlmsghdr *lj_nl_req(struct lj_nl *nl, void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

static int extack_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
		snprintf(data, 256, "%s", mnl_attr_get_str(a));
	}
	return MNL_CB_OK;
}

/* Fill e from an NLMSG_ERROR with a nonzero error, with the extended ack text if any. */
static void set_error(const struct nlmsghdr *h, const char *what, lj_err *e)
{
	const struct nlmsgerr *er = mnl_nlmsg_get_payload(h);
	char msg[256] = "";
	if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*er);
		if (!(h->nlmsg_flags & NLM_F_CAPPED))
			off += er->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (off < h->nlmsg_len - sizeof(*h))
			mnl_attr_parse(h, (unsigned)off, extack_cb, msg);
	}
	int err = -er->error;
	if (msg[0])
		lj_error(e, err, "%s: %s", what, msg);
	else
		lj_error(e, err, "%s", what);
}

/* Read answers for sequence numbers [lo, lo + count) until `count` acks (or, for a dump,
 * NLMSG_DONE) arrived. Returns 0, or -1 with the first error in e. */
static int nl_run(struct lj_nl *nl, unsigned lo, unsigned count, bool dump, mnl_cb_t cb, void *data,
                  const char *what, lj_err *e)
{
	lj_autofree char *buf = xmalloc(RECV_BUFSZ);
	unsigned acks = 0;
	int failed = 0;
	bool done = false;
	while (!done) {
		ssize_t n = mnl_socket_recvfrom(nl->sk, buf, RECV_BUFSZ);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return lj_error(e, errno, "%s: netlink receive", what);
		}
		int len = (int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_pid != nl->portid || h->nlmsg_seq - lo >= count)
				continue; /* a stale answer of an earlier, abandoned request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *er = mnl_nlmsg_get_payload(h);
				if (er->error && !failed) {
					set_error(h, what, e);
					failed = 1;
				}
				if (dump || ++acks == count)
					done = true;
				continue;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				if (dump)
					done = true;
				continue;
			}
			if (h->nlmsg_type < NLMSG_MIN_TYPE || !cb || failed)
				continue;
			if (cb(h, data) == MNL_CB_ERROR && !failed) {
				lj_error(e, errno ? errno : EPROTO, "%s: bad netlink answer", what);
				failed = 1;
			}
		}
	}
	return failed ? -1 : 0;
}

static int nl_send(struct lj_nl *nl, const void *buf, size_t len, const char *what, lj_err *e)
{
	if (mnl_socket_sendto(nl->sk, buf, len) < 0)
		return lj_error(e, errno, "%s: netlink send", what);
	return 0;
}

int lj_nl_talk(struct lj_nl *nl, struct nlmsghdr *req, const char *what, lj_err *e)
{
	req->nlmsg_flags |= NLM_F_ACK;
	if (nl_send(nl, req, req->nlmsg_len, what, e) < 0)
		return -1;
	return nl_run(nl, req->nlmsg_seq, 1, false, NULL, NULL, what, e);
}

int lj_nl_talk_batch(struct lj_nl *nl, void *buf, size_t len, unsigned n, const char *what,
                     lj_err *e)
{
	if (n == 0)
		return 0;
	if (nl_send(nl, buf, len, what, e) < 0)
		return -1;
	return nl_run(nl, ((struct nlmsghdr *)buf)->nlmsg_seq, n, false, NULL, NULL, what, e);
}

int lj_nl_dump(struct lj_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, const char *what,
               lj_err *e)
{
	req->nlmsg_flags |= NLM_F_DUMP;
	if (nl_send(nl, req, req->nlmsg_len, what, e) < 0)
		return -1;
	return nl_run(nl, req->nlmsg_seq, 1, true, cb, data, what, e);
}

int lj_nl_query(struct lj_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data, const char *what,
                lj_err *e)
{
	req->nlmsg_flags |= NLM_F_ACK;
	if (nl_send(nl, req, req->nlmsg_len, what, e) < 0)
		return -1;
	return nl_run(nl, req->nlmsg_seq, 1, false, cb, data, what, e);
}

struct tb_ctx {
	const struct nlattr **tb;
	unsigned max;
};

static int tb_cb(const struct nlattr *a, void *data)
{
	struct tb_ctx *c = data;
	unsigned t = mnl_attr_get_type(a);
	if (t <= c->max)
		c->tb[t] = a;
	return MNL_CB_OK;
}

void lj_nl_parse(const struct nlmsghdr *h, size_t off, const struct nlattr **tb, unsigned max)
{
	struct tb_ctx c = {tb, max};
	mnl_attr_parse(h, (unsigned)off, tb_cb, &c);
}

void lj_nl_parse_nested(const struct nlattr *a, const struct nlattr **tb, unsigned max)
{
	struct tb_ctx c = {tb, max};
	mnl_attr_parse_nested(a, tb_cb, &c);
}
