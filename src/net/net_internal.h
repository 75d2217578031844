/* net-internal: parsers of the FreeBSD front-ends, shared with the unit tests. */
#pragma once

#include "net/net.h"

enum act_type {
	A_UP,
	A_DOWN,
	A_MTU,
	A_DESCR,
	A_NAME,
	A_DESTROY,
	A_VNET,
	A_RVNET,
	A_ETHER,
	A_ADDM,
	A_DELETEM,
	A_FLAG_ON,
	A_FLAG_OFF,
};

struct act {
	enum act_type type;
	const char *arg;
	unsigned num;
	uint8_t mac[6];
	bool random_mac;
};

#define MAX_ACTS 64

struct plan {
	const char *ifname;
	bool create;
	struct act acts[MAX_ACTS];
	size_t nacts;
	int af; /* AF_INET unless inet6 was given */
	bool af_given;
	bool have_addr;
	const char *addr_text;
	struct lj_ipaddr addr;
	int addr_op;     /* 0: set (inet replaces the first address), 1: alias, -1: -alias */
	int netmask_len; /* -1 none */
	int prefixlen;   /* -1 none (inet6 prefixlen N) */
};

/* ifconfig: parse the words after the interface name into p (nothing is changed yet). Prints
 * FreeBSD's message and returns -1 on a bad word. */
int lj_ifc_parse(const char *prog, const char *ifname, char **w, int n, struct plan *p);
/* "255.255.255.0" or "0xffffff00" -> prefix length; -1 if malformed or not contiguous. */
int lj_ifc_parse_netmask(const char *s);
/* The classful prefix length FreeBSD assumes for an IPv4 address without a mask. */
int lj_ifc_classful_len(const uint8_t a[4]);

/* route(8): one parsed command line. */
enum route_cmd { R_ADD, R_DELETE, R_CHANGE, R_GET, R_FLUSH };

struct route_req {
	enum route_cmd cmd;
	const char *cmdword;
	const char *jail; /* -j */
	int family;       /* AF_INET unless -inet6/-6 or an IPv6 destination */
	bool quiet, numeric, host, net, iface, reject, blackhole;
	const char *dest_text; /* as typed */
	const char *gw_text;   /* as typed, NULL if none */
	struct lj_ipaddr dst;  /* prefixlen resolved: 0 for default, full for a host */
	struct lj_ipaddr gw;
	uint32_t mtu;
};

/* Parse route's argv. Returns 0, or the exit status (64 usage, 68 bad address) after printing. */
int lj_route_parse(const char *prog, int argc, char **argv, struct route_req *r);
/* FreeBSD's words for a failed routing message (route already in table, not in table, ...). */
const char *lj_route_errmsg(int errnum);
