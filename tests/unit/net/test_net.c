/* Unit tests of src/net: FreeBSD output formatting, ifconfig/route parsing, address parsing;
 * and, when run as root, the rtnetlink calls inside a private network namespace of their own. */
#include <net/if.h>
#include <net/if_arp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "net/net.h"
#include "net/net_internal.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static struct lj_link mk_link(int index, const char *name, const char *kind, unsigned flags)
{
	struct lj_link l;
	memset(&l, 0, sizeof(l));
	l.index = index;
	snprintf(l.name, sizeof(l.name), "%s", name);
	snprintf(l.kind, sizeof(l.kind), "%s", kind);
	l.flags = flags;
	l.mtu = 1500;
	l.type = ARPHRD_ETHER;
	l.addrlen = 6;
	uint8_t mac[6] = {0x58, 0x9c, 0xfc, 0x10, 0xef, 0x29};
	memcpy(l.addr, mac, 6);
	l.link_netnsid = -1;
	return l;
}

static char *flags_of(const struct lj_link *l)
{
	lj_buf b = {0};
	unsigned f = lj_fbsd_if_flags(l);
	lj_buf_addf(&b, "%x", f);
	lj_fbsd_flags_str(f, &b);
	return lj_buf_steal(&b);
}

static void flags_match_freebsd(void)
{
	/* The values spec §1.1 lists for FreeBSD 14/15. */
	struct lj_link l = mk_link(3, "epair0a", "veth", IFF_BROADCAST | IFF_MULTICAST);
	char *s = flags_of(&l);
	CHECK_STR(s, "1008842<BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP>");
	free(s);
	l.flags |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
	l.master = 5;
	s = flags_of(&l);
	CHECK_STR(s, "1008943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST,LOWER_UP>");
	free(s);
	struct lj_link br = mk_link(5, "bridge0", "bridge", IFF_BROADCAST | IFF_MULTICAST);
	s = flags_of(&br);
	CHECK_STR(s, "8802<BROADCAST,SIMPLEX,MULTICAST>");
	free(s);
	br.flags |= IFF_UP; /* a Linux bridge without running members has no carrier */
	s = flags_of(&br);
	CHECK_STR(s, "1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP>");
	free(s);
	struct lj_link lo =
	        mk_link(1, "lo", "", IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP);
	lo.type = ARPHRD_LOOPBACK;
	s = flags_of(&lo);
	CHECK_STR(s, "1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP>");
	free(s);
	lj_buf b = {0};
	lj_fbsd_flags_str(0, &b);
	CHECK_STR(lj_buf_str(&b), "");
	lj_fbsd_flags_str(1u << 30, &b);
	CHECK_STR(lj_buf_str(&b), "<IFF_30>");
	lj_buf_free(&b);
}

static void ifconfig_epair_like_tutorial(void)
{
	struct lj_link l =
	        mk_link(5, "epair1b", "veth",
	                IFF_UP | IFF_BROADCAST | IFF_MULTICAST | IFF_RUNNING | IFF_LOWER_UP);
	struct lj_ifaddr a[2];
	memset(a, 0, sizeof(a));
	a[0].index = 5;
	a[0].family = AF_INET;
	a[0].prefixlen = 24;
	inet_pton(AF_INET, "192.168.1.201", a[0].local);
	inet_pton(AF_INET, "192.168.1.255", a[0].broadcast);
	a[0].has_broadcast = true;
	a[1].index = 5;
	a[1].family = AF_INET6;
	a[1].prefixlen = 64;
	a[1].flags = IFA_F_PERMANENT;
	a[1].scope = RT_SCOPE_LINK;
	a[1].preferred = a[1].valid = 0xffffffffu;
	inet_pton(AF_INET6, "fe80::5a9c:fcff:fe10:ef29", a[1].local);
	lj_buf b = {0};
	lj_ifconfig_format(&l, a, 1, &l, 1, &b);
	CHECK_STR(lj_buf_str(&b),
	          "epair1b: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric "
	          "0 mtu 1500\n"
	          "\tether 58:9c:fc:10:ef:29\n"
	          "\tinet 192.168.1.201 netmask 0xffffff00 broadcast 192.168.1.255\n"
	          "\tgroups: epair\n"
	          "\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)\n"
	          "\tstatus: active\n");
	lj_buf_reset(&b);
	lj_ifconfig_format(&l, a, 2, &l, 1, &b);
	CHECK(strstr(lj_buf_str(&b),
	             "\tinet6 fe80::5a9c:fcff:fe10:ef29%epair1b prefixlen 64 scopeid 0x5\n"));
	/* a /32 on Ethernet shows its own address as broadcast; no broadcast without the flag */
	a[0].prefixlen = 32;
	a[0].has_broadcast = false;
	lj_buf_reset(&b);
	lj_ifconfig_format(&l, a, 1, &l, 1, &b);
	CHECK(strstr(lj_buf_str(&b),
	             "\tinet 192.168.1.201 netmask 0xffffffff broadcast 192.168.1.201\n"));
	lj_buf_free(&b);
}

static void ifconfig_bridge_members(void)
{
	struct lj_link all[3];
	all[0] = mk_link(1, "vtnet0", "veth", IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
	all[0].master = 4;
	all[1] = mk_link(3, "epair1a", "veth", IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
	all[1].master = 4;
	all[2] = mk_link(4, "bridge0", "bridge", IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
	uint8_t mac[6] = {0x58, 0x9c, 0xfc, 0x10, 0x76, 0x37};
	memcpy(all[2].addr, mac, 6);
	lj_buf b = {0};
	lj_ifconfig_format(&all[2], NULL, 0, all, 3, &b);
	CHECK_STR(lj_buf_str(&b),
	          "bridge0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric "
	          "0 mtu 1500\n"
	          "\tether 58:9c:fc:10:76:37\n"
	          "\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15\n"
	          "\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200\n"
	          "\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0\n"
	          "\tmember: epair1a flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n"
	          "\t        ifmaxaddr 0 port 3 priority 128 path cost 2000\n"
	          "\tmember: vtnet0 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n"
	          "\t        ifmaxaddr 0 port 1 priority 128 path cost 2000\n"
	          "\tgroups: bridge\n");
	lj_buf_free(&b);
}

static struct lj_route mk_route(int family, const char *dst, int len, const char *gw, int oif,
                                unsigned proto, unsigned type)
{
	struct lj_route r;
	memset(&r, 0, sizeof(r));
	r.family = family;
	if (dst)
		inet_pton(family, dst, r.dst);
	r.dst_len = len;
	if (gw) {
		inet_pton(family, gw, r.gw);
		r.has_gw = true;
	}
	r.oif = oif;
	r.protocol = proto;
	r.type = type;
	r.table = type == RTN_LOCAL ? RT_TABLE_LOCAL : RT_TABLE_MAIN;
	return r;
}

static void netstat_like_tutorial(void)
{
	struct lj_link links[2];
	links[0] = mk_link(1, "lo", "", IFF_UP | IFF_LOOPBACK);
	links[0].type = ARPHRD_LOOPBACK;
	links[1] = mk_link(5, "epair1b", "veth", IFF_UP | IFF_BROADCAST);
	struct lj_route r[6] = {
	        mk_route(AF_INET, "192.168.1.0", 24, NULL, 5, RTPROT_KERNEL, RTN_UNICAST),
	        mk_route(AF_INET, NULL, 0, "192.168.1.1", 5, RTPROT_STATIC, RTN_UNICAST),
	        mk_route(AF_INET, "192.168.1.201", 32, NULL, 5, RTPROT_KERNEL, RTN_LOCAL),
	        mk_route(AF_INET, "192.168.1.255", 32, NULL, 5, RTPROT_KERNEL, RTN_BROADCAST),
	        mk_route(AF_INET, "127.0.0.0", 8, NULL, 1, RTPROT_KERNEL, RTN_LOCAL),
	        mk_route(AF_INET6, "fe80::", 64, NULL, 5, RTPROT_KERNEL, RTN_UNICAST),
	};
	lj_buf b = {0};
	lj_netstat_format(r, 6, links, 2, AF_INET, true, &b);
	CHECK_STR(lj_buf_str(&b),
	          "Routing tables\n"
	          "\n"
	          "Internet:\n"
	          "Destination        Gateway            Flags         Netif Expire\n"
	          "default            192.168.1.1        UGS         epair1b\n"
	          "192.168.1.0/24     link#5             U           epair1b\n"
	          "192.168.1.201      link#5             UHS              lo\n");
	lj_buf_reset(&b);
	lj_netstat_format(r, 6, links, 2, AF_INET6, true, &b);
	CHECK_STR(lj_buf_str(&b), "Routing tables\n"
	                          "\n"
	                          "Internet6:\n"
	                          "Destination                       Gateway                       "
	                          "Flags         Netif Expire\n"
	                          "fe80::%epair1b/64                 link#5                        "
	                          "U           epair1b\n");
	lj_buf_free(&b);
}

static void address_parsing(void)
{
	struct lj_ipaddr a;
	lj_err e;
	CHECK_INT(lj_net_ipaddr_parse("192.168.1.201/24", AF_UNSPEC, &a, &e), 0);
	CHECK_INT(a.family, AF_INET);
	CHECK_INT(a.prefixlen, 24);
	CHECK_INT(a.a[3], 201);
	CHECK_INT(lj_net_ipaddr_parse("10.0.0.1", AF_INET, &a, &e), 0);
	CHECK_INT(a.prefixlen, -1);
	CHECK_INT(lj_net_ipaddr_parse("2001:db8::5/64", AF_UNSPEC, &a, &e), 0);
	CHECK_INT(a.family, AF_INET6);
	CHECK_INT(a.prefixlen, 64);
	CHECK_INT(lj_net_ipaddr_parse("10.0.0.1/33", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "10.0.0.1/33: bad value (width too large)");
	CHECK_INT(lj_net_ipaddr_parse("10.0.0.1/x", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "10.0.0.1/x: bad value (width invalid)");
	CHECK_INT(lj_net_ipaddr_parse("foo", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "foo: bad value");
	CHECK_INT(lj_net_ipaddr_parse("2001:db8::1", AF_INET, &a, &e), -1);
	CHECK_INT(lj_net_v4_mask(24), 0xffffff00u);
	CHECK_INT(lj_net_v4_mask(0), 0);
	CHECK_INT(lj_net_v4_mask(32), 0xffffffffu);
	CHECK_INT(lj_net_v4_prefixlen(0xffff0000u), 16);
	CHECK_INT(lj_net_v4_prefixlen(0xff00ff00u), -1);
	CHECK_INT(lj_ifc_parse_netmask("255.255.255.0"), 24);
	CHECK_INT(lj_ifc_parse_netmask("0xffffff00"), 24);
	CHECK_INT(lj_ifc_parse_netmask("255.0.255.0"), -1);
	uint8_t a10[4] = {10, 0, 0, 1}, a172[4] = {172, 16, 0, 1}, a192[4] = {192, 168, 1, 1};
	CHECK_INT(lj_ifc_classful_len(a10), 8);
	CHECK_INT(lj_ifc_classful_len(a172), 16);
	CHECK_INT(lj_ifc_classful_len(a192), 24);
	CHECK(lj_net_name_ok("epair123456789a", &e));
	CHECK(!lj_net_name_ok("epair1234567890a", &e));
	CHECK(strstr(e.msg, "too long"));
	CHECK(!lj_net_name_ok("a/b", &e));
	CHECK(!lj_net_name_ok("", &e));
}

static int parse_words(struct plan *p, const char *ifname, const char *const *w)
{
	int n = 0;
	while (w[n])
		n++;
	return lj_ifc_parse("ifconfig", ifname, (char **)w, n, p);
}

static void ifconfig_parsing(void)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	const char *w1[] = {"192.168.1.201/24", "up", NULL};
	CHECK_INT(parse_words(p, "epair1b", w1), 0);
	CHECK(p->have_addr);
	CHECK_INT(p->addr.prefixlen, 24);
	CHECK_INT(p->nacts, 1);
	CHECK_INT(p->acts[0].type, A_UP);
	const char *w2[] = {"create", "up", NULL};
	CHECK_INT(parse_words(p, "epair1", w2), 0);
	CHECK(p->create);
	CHECK_INT(p->nacts, 1);
	const char *w3[] = {"addm", "epair1a", "addm", "vtnet0", "up", NULL};
	CHECK_INT(parse_words(p, "bridge0", w3), 0);
	CHECK_INT(p->nacts, 3);
	CHECK_INT(p->acts[0].type, A_ADDM);
	CHECK_STR(p->acts[1].arg, "vtnet0");
	const char *w4[] = {"inet", "10.0.0.1", "netmask", "255.255.0.0", "alias", NULL};
	CHECK_INT(parse_words(p, "epair0a", w4), 0);
	CHECK_INT(p->addr.prefixlen, 16);
	CHECK_INT(p->addr_op, 1);
	const char *w5[] = {"inet6", "2001:db8::1", "prefixlen", "80", NULL};
	CHECK_INT(parse_words(p, "epair0a", w5), 0);
	CHECK_INT(p->addr.family, AF_INET6);
	CHECK_INT(p->addr.prefixlen, 80);
	const char *w6[] = {"inet6", "2001:db8::1", NULL};
	CHECK_INT(parse_words(p, "epair0a", w6), 0);
	CHECK_INT(p->addr.prefixlen, 64); /* FreeBSD's default */
	const char *w7[] = {"10.0.0.1", NULL};
	CHECK_INT(parse_words(p, "epair0a", w7), 0);
	CHECK_INT(p->addr.prefixlen, 8); /* classful, with a warning */
	const char *w8[] = {"10.0.0.1", "-alias", NULL};
	CHECK_INT(parse_words(p, "epair0a", w8), 0);
	CHECK_INT(p->addr.prefixlen, -1);
	CHECK_INT(p->addr_op, -1);
	const char *w9[] = {"ether", "02:00:00:00:00:0a", "mtu", "9000", "name", "web0", NULL};
	CHECK_INT(parse_words(p, "epair0a", w9), 0);
	CHECK_INT(p->acts[0].type, A_ETHER);
	CHECK_INT(p->acts[0].mac[5], 0x0a);
	CHECK_INT(p->acts[1].num, 9000);
	CHECK_STR(p->acts[2].arg, "web0");
	const char *w10[] = {"vnet", "webserver", NULL};
	CHECK_INT(parse_words(p, "epair1b", w10), 0);
	CHECK_INT(p->acts[0].type, A_VNET);
	/* refusals */
	const char *b1[] = {"frobnicate", NULL};
	CHECK_INT(parse_words(p, "epair0a", b1), -1);
	const char *b2[] = {"mtu", NULL};
	CHECK_INT(parse_words(p, "epair0a", b2), -1);
	const char *b3[] = {"10.0.0.1/24", "10.0.0.2/24", NULL};
	CHECK_INT(parse_words(p, "epair0a", b3), -1);
	const char *b4[] = {"name", "averyveryverylongname", NULL};
	CHECK_INT(parse_words(p, "epair0a", b4), -1);
	const char *b5[] = {"ether", "zz:00", NULL};
	CHECK_INT(parse_words(p, "epair0a", b5), -1);
	const char *b6[] = {"10.0.0.1/24", "netmask", "255.0.0.0", NULL};
	CHECK_INT(parse_words(p, "epair0a", b6), -1);
	free(p);
}

static int route_argv(struct route_req *r, const char *const *w)
{
	int n = 0;
	while (w[n])
		n++;
	return lj_route_parse("route", n, (char **)w, r);
}

static void route_parsing(void)
{
	struct route_req r;
	const char *a1[] = {"route", "add", "default", "192.168.1.1", NULL};
	CHECK_INT(route_argv(&r, a1), 0);
	CHECK_INT(r.cmd, R_ADD);
	CHECK_INT(r.family, AF_INET);
	CHECK_INT(r.dst.prefixlen, 0);
	CHECK(r.net && !r.host);
	CHECK_INT(r.gw.a[3], 1);
	const char *a2[] = {"route", "add", "-net", "10.1.0.0/16", "10.0.0.1", NULL};
	CHECK_INT(route_argv(&r, a2), 0);
	CHECK_INT(r.dst.prefixlen, 16);
	const char *a3[] = {"route", "add", "-host", "10.0.0.5", "10.0.0.1", NULL};
	CHECK_INT(route_argv(&r, a3), 0);
	CHECK(r.host);
	CHECK_INT(r.dst.prefixlen, 32);
	const char *a4[] = {"route", "add", "-net", "10.1.0.0", "10.0.0.1", NULL};
	CHECK_INT(route_argv(&r, a4), 0);
	CHECK_INT(r.dst.prefixlen, 16);
	const char *a5[] = {"route", "-6", "add", "default", "2001:db8::1", NULL};
	CHECK_INT(route_argv(&r, a5), 0);
	CHECK_INT(r.family, AF_INET6);
	const char *a6[] = {"route", "add", "-inet6", "2001:db8:1::/48", "2001:db8::1", NULL};
	CHECK_INT(route_argv(&r, a6), 0);
	CHECK_INT(r.dst.prefixlen, 48);
	const char *a7[] = {"route", "-n", "get", "192.168.1.10", NULL};
	CHECK_INT(route_argv(&r, a7), 0);
	CHECK_INT(r.cmd, R_GET);
	CHECK(r.numeric);
	const char *a8[] = {"route",    "add",           "-net",     "10.2.0.0",
	                    "-netmask", "255.255.255.0", "10.0.0.1", NULL};
	CHECK_INT(route_argv(&r, a8), 0);
	CHECK_INT(r.dst.prefixlen, 24);
	const char *a9[] = {"route", "delete", "default", NULL};
	CHECK_INT(route_argv(&r, a9), 0);
	CHECK(!r.gw_text);
	const char *a10[] = {"route", "flush", NULL};
	CHECK_INT(route_argv(&r, a10), 0);
	CHECK_INT(r.cmd, R_FLUSH);
	const char *b1[] = {"route", "frob", NULL};
	CHECK_INT(route_argv(&r, b1), 64);
	const char *b2[] = {"route", "add", "-bogus", "default", "10.0.0.1", NULL};
	CHECK_INT(route_argv(&r, b2), 64);
	const char *b3[] = {"route", "add", "default", "not-an-address", NULL};
	CHECK_INT(route_argv(&r, b3), 68);
	const char *b4[] = {"route", "add", "default", NULL};
	CHECK_INT(route_argv(&r, b4), 64);
	CHECK_STR(lj_route_errmsg(EEXIST), "route already in table");
	CHECK_STR(lj_route_errmsg(ESRCH), "not in table");
}

static void builtins(void)
{
	CHECK(lj_net_builtin("ifconfig") == lj_ifconfig_main);
	CHECK(lj_net_builtin("/sbin/ifconfig") == lj_ifconfig_main);
	CHECK(lj_net_builtin("route") == lj_route_main);
	CHECK(lj_net_builtin("/sbin/route") == lj_route_main);
	CHECK(lj_net_builtin("netstat") == lj_netstat_main);
	CHECK(lj_net_builtin("/usr/bin/netstat") == lj_netstat_main);
	CHECK(lj_net_builtin("/bin/ifconfig") == NULL);
	/* by path only ljail's own (the file beside this program's executable) */
	CHECK(lj_net_builtin("/nonexistent/ifconfig") == NULL);
	/* the hints jail(8) sets: off by default, on for the names given */
	CHECK_INT(lj_net_vnet_target_for("epair0b"), -1);
	const char *names[] = {"epair0b"};
	lj_net_set_vnet_target(7, names, 1);
	CHECK_INT(lj_net_vnet_target_for("epair0b"), 7);
	CHECK_INT(lj_net_vnet_target_for("epair0a"), -1);
	lj_net_set_vnet_target(-1, NULL, 0);
	CHECK_INT(lj_net_vnet_target_for("epair0b"), -1);
	const char *dying[] = {"epair0a"};
	lj_net_set_vnet_dying(dying, 1);
	CHECK(lj_net_vnet_is_dying("epair0a"));
	CHECK(!lj_net_vnet_is_dying("epair0b"));
	lj_net_set_vnet_dying(NULL, 0);
	CHECK(!lj_net_vnet_is_dying("epair0a"));
	CHECK(lj_net_builtin("ip") == NULL);
	CHECK(lj_net_builtin(NULL) == NULL);
}

/* ---- root: real rtnetlink, in a network namespace of this process's own ------------------ */

static bool in_private_netns;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t count_links(void)
{
	struct lj_link *v = NULL;
	size_t n = 0;
	lj_err e;
	if (lj_net_links(NULL, &v, &n, &e) < 0)
		return (size_t)-1;
	free(v);
	return n;
}

static void rtnl_links(void)
{
	if (!in_private_netns) {
		SKIP("needs root (a private network namespace)");
		return;
	}
	lj_err e;
	struct lj_nl *nl = lj_nl_open(&e);
	CHECK(nl != NULL);
	CHECK_INT(lj_net_lo_up(&e), 0);
	size_t base = count_links();
	CHECK_INT(lj_net_veth_create(nl, "t0b", "t0a", -1, 0, &e), 0);
	struct lj_link a, b;
	CHECK_INT(lj_net_link_get(nl, "t0a", &a, &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0b", &b, &e), 0);
	CHECK_STR(a.kind, "veth");
	CHECK(a.index < b.index); /* the peer is registered first */
	CHECK_INT(a.link, b.index);
	CHECK_INT(lj_net_veth_create(nl, "t0b", "t0c", -1, 0, &e), -1);
	CHECK_INT(e.errnum, EEXIST);
	CHECK_INT(lj_net_link_get(nl, "nosuch0", &a, &e), -1);
	CHECK_INT(e.errnum, ENODEV);
	CHECK_STR(e.msg, "interface nosuch0 does not exist");
	CHECK_INT(lj_net_bridge_create(nl, "tbr0", &e), 0);
	CHECK_INT(lj_net_link_set_master(nl, "t0a", "tbr0", &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0a", &a, &e), 0);
	struct lj_link br;
	CHECK_INT(lj_net_link_get(nl, "tbr0", &br, &e), 0);
	CHECK_STR(br.kind, "bridge");
	CHECK_INT(a.master, br.index);
	CHECK_INT(lj_net_link_set_master(nl, "t0a", NULL, &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0a", &a, &e), 0);
	CHECK_INT(a.master, 0);
	CHECK_INT(lj_net_link_set_mtu(nl, "t0a", 1400, &e), 0);
	CHECK_INT(lj_net_link_set_mtu(nl, "t0a", 10, &e), -1);
	CHECK(e.errnum == EINVAL);
	uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x0a};
	CHECK_INT(lj_net_link_set_mac(nl, "t0a", mac, &e), 0);
	CHECK_INT(lj_net_link_rename(nl, "t0a", "t0renamed", &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0renamed", &a, &e), 0);
	CHECK_INT(a.mtu, 1400);
	CHECK_INT(a.addr[5], 0x0a);
	CHECK_INT(lj_net_link_set_up(nl, "t0renamed", true, &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0renamed", &a, &e), 0);
	CHECK(a.flags & IFF_UP);
	CHECK_INT(lj_net_link_set_alias(nl, "t0renamed", "uplink", &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0renamed", &a, &e), 0);
	CHECK_STR(a.alias, "uplink");
	CHECK_INT(lj_net_link_rename(nl, "t0renamed", "averyveryverylongname", &e), -1);
	/* deleting one end takes the other */
	CHECK_INT(lj_net_link_del(nl, "t0b", &e), 0);
	CHECK_INT(lj_net_link_get(nl, "t0renamed", &a, &e), -1);
	CHECK_INT(lj_net_link_del(nl, "tbr0", &e), 0);
	CHECK_INT(count_links(), base);
	lj_nl_close(nl);
}

static void rtnl_batch_delete(void)
{
	if (!in_private_netns) {
		SKIP("needs root (a private network namespace)");
		return;
	}
	lj_err e;
	size_t base = count_links();
	enum { N = 20 };
	char names[N][LJ_IFNAMSIZ], peers[N][LJ_IFNAMSIZ];
	const char *list[N + 1];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "tb%da", i);
		snprintf(peers[i], sizeof(peers[i]), "tb%db", i);
		CHECK_INT(lj_net_veth_create(NULL, peers[i], names[i], -1, 0, &e), 0);
		list[i] = names[i];
	}
	list[N] = "tbmissing"; /* skipped, not an error */
	CHECK_INT(count_links(), base + 2 * N);
	double t0 = now_ms();
	CHECK_INT(lj_net_links_del(NULL, list, N + 1, &e), 0);
	double dt = now_ms() - t0;
	CHECK_INT(count_links(), base);
	/* one RCU grace period for all, not N of them (~16 ms each) */
	printf("# 20 veth pairs deleted in %.1f ms\n", dt);
	CHECK(dt < 8 * 16.0);
	/* both ends of each pair in the list */
	for (int i = 0; i < 4; i++)
		CHECK_INT(lj_net_veth_create(NULL, peers[i], names[i], -1, 0, &e), 0);
	const char *pairs[8];
	for (int i = 0; i < 4; i++) {
		pairs[2 * i] = names[i];
		pairs[2 * i + 1] = peers[i];
	}
	CHECK_INT(lj_net_links_del(NULL, pairs, 8, &e), 0);
	CHECK_INT(count_links(), base);
	/* lo cannot be deleted: the group delete is refused, one by one takes over, lo stays */
	CHECK_INT(lj_net_veth_create(NULL, "tbxb", "tbxa", -1, 0, &e), 0);
	const char *withlo[2] = {"tbxa", "lo"};
	CHECK_INT(lj_net_links_del(NULL, withlo, 2, &e), -1);
	CHECK_INT(count_links(), base);
	struct lj_link lo;
	CHECK_INT(lj_net_link_get(NULL, "lo", &lo, &e), 0);
	CHECK_INT(lo.group, 0); /* its group given back */
}

/* jail(8) calls the front-ends in-process, many times: no fd may leak, output goes to stdout. */
static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void in_process_entry_points(void)
{
	if (!in_private_netns) {
		SKIP("needs root (a private network namespace)");
		return;
	}
	fflush(stdout);
	int saved = dup(1), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(devnull, 1);
	int before = count_fds();
	char *c1[] = {"/sbin/ifconfig", "epair", "create", "up", NULL};
	char *c2[] = {"/sbin/ifconfig", "epair0b", "10.66.0.2/24", "up", NULL};
	char *c3[] = {"/sbin/route", "add", "default", "10.66.0.1", NULL};
	char *c4[] = {"netstat", "-rn", NULL};
	char *c5[] = {"ifconfig", "-a", NULL};
	char *c6[] = {"/sbin/route", "delete", "default", NULL};
	char *c7[] = {"/sbin/ifconfig", "epair0a", "destroy", NULL};
	int rc[7];
	for (int round = 0; round < 20; round++) {
		rc[0] = lj_net_builtin(c1[0])(4, c1);
		rc[1] = lj_net_builtin(c2[0])(4, c2);
		rc[2] = lj_net_builtin(c3[0])(4, c3);
		rc[3] = lj_net_builtin(c4[0])(2, c4);
		rc[4] = lj_net_builtin(c5[0])(2, c5);
		rc[5] = lj_net_builtin(c6[0])(3, c6);
		rc[6] = lj_net_builtin(c7[0])(3, c7);
	}
	int after = count_fds();
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(devnull);
	for (int i = 0; i < 7; i++)
		CHECK_INT(rc[i], 0);
	CHECK_INT(after, before);
}

static void rtnl_addresses_routes(void)
{
	if (!in_private_netns) {
		SKIP("needs root (a private network namespace)");
		return;
	}
	lj_err e;
	struct lj_nl *nl = lj_nl_open(&e);
	CHECK_INT(lj_net_veth_create(nl, "ta1", "ta0", -1, 0, &e), 0);
	CHECK_INT(lj_net_link_set_up(nl, "ta0", true, &e), 0);
	CHECK_INT(lj_net_link_set_up(nl, "ta1", true, &e), 0);
	struct lj_ipaddr a4, a6, gw;
	CHECK_INT(lj_net_ipaddr_parse("10.77.0.2/24", AF_UNSPEC, &a4, &e), 0);
	CHECK_INT(lj_net_ipaddr_parse("2001:db8:77::2/64", AF_UNSPEC, &a6, &e), 0);
	CHECK_INT(lj_net_addr_add(nl, "ta0", &a4, &e), 0);
	CHECK_INT(lj_net_addr_add(nl, "ta0", &a6, &e), 0);
	CHECK_INT(lj_net_addr_add(nl, "ta0", &a4, &e), -1);
	CHECK_INT(e.errnum, EEXIST);
	int idx = lj_net_ifindex(nl, "ta0", &e);
	struct lj_ifaddr *v = NULL;
	size_t n = 0;
	CHECK_INT(lj_net_addrs(nl, AF_INET, idx, &v, &n, &e), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(v[0].prefixlen, 24);
		CHECK(v[0].has_broadcast);
		CHECK_INT(v[0].broadcast[3], 255);
	}
	free(v);
	CHECK_INT(lj_net_addrs(nl, AF_INET6, idx, &v, &n, &e), 0);
	bool found6 = false;
	for (size_t i = 0; i < n; i++)
		if (v[i].local[0] == 0x20 && v[i].prefixlen == 64) {
			found6 = true;
			CHECK(!(v[i].flags & IFA_F_TENTATIVE)); /* NODAD: usable at once */
		}
	CHECK(found6);
	free(v);
	/* routes */
	struct lj_route r = {.family = AF_INET, .dst_len = 0, .has_gw = true};
	CHECK_INT(lj_net_ipaddr_parse("10.77.0.1", AF_INET, &gw, &e), 0);
	memcpy(r.gw, gw.a, 4);
	CHECK_INT(lj_net_route_add(nl, &r, false, &e), 0);
	CHECK_INT(lj_net_route_add(nl, &r, false, &e), -1);
	CHECK_INT(e.errnum, EEXIST);
	struct lj_route got;
	uint8_t probe[16] = {203, 0, 113, 9};
	CHECK_INT(lj_net_route_get(nl, AF_INET, probe, &got, &e), 0);
	CHECK_INT(got.dst_len, 0);
	CHECK(got.has_gw && got.gw[3] == 1);
	CHECK_INT(got.oif, idx);
	/* an unreachable gateway: the kernel refuses, with its extended ack text in the message */
	struct lj_route bad = {.family = AF_INET, .dst_len = 16, .has_gw = true};
	bad.dst[0] = 10;
	bad.dst[1] = 99;
	uint8_t far[4] = {10, 88, 0, 1};
	memcpy(bad.gw, far, 4);
	CHECK_INT(lj_net_route_add(nl, &bad, false, &e), -1);
	CHECK_INT(e.errnum, ENETUNREACH);
	printf("# unreachable gateway: %s\n", e.msg);
	CHECK(strstr(e.msg, "add route") != NULL);
	struct lj_route *rv = NULL;
	CHECK_INT(lj_net_routes(nl, AF_INET, 0, &rv, &n, &e), 0);
	bool def = false;
	for (size_t i = 0; i < n; i++)
		def |= rv[i].dst_len == 0 && rv[i].has_gw && rv[i].protocol == RTPROT_STATIC;
	CHECK(def);
	free(rv);
	CHECK_INT(lj_net_route_del(nl, &r, &e), 0);
	CHECK_INT(lj_net_route_del(nl, &r, &e), -1);
	CHECK_INT(e.errnum, ESRCH);
	/* IPv6 default route */
	struct lj_route r6 = {.family = AF_INET6, .has_gw = true};
	struct lj_ipaddr g6;
	CHECK_INT(lj_net_ipaddr_parse("2001:db8:77::1", AF_INET6, &g6, &e), 0);
	memcpy(r6.gw, g6.a, 16);
	CHECK_INT(lj_net_route_add(nl, &r6, false, &e), 0);
	CHECK_INT(lj_net_route_del(nl, &r6, &e), 0);
	a4.prefixlen = -1;
	CHECK_INT(lj_net_addr_del(nl, "ta0", &a4, &e), 0);
	CHECK_INT(lj_net_addr_del(nl, "ta0", &a4, &e), -1);
	CHECK_INT(e.errnum, EADDRNOTAVAIL);
	a6.prefixlen = -1;
	CHECK_INT(lj_net_addr_del(nl, "ta0", &a6, &e), 0);
	CHECK_INT(lj_net_link_del(nl, "ta0", &e), 0);
	lj_nl_close(nl);
}

static int child_netns_count(void *arg)
{
	(void)arg;
	return (int)count_links();
}

static void rtnl_netns_moves(void)
{
	if (!in_private_netns) {
		SKIP("needs root (a private network namespace)");
		return;
	}
	lj_err e;
	int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(here >= 0);
	/* a second namespace, held by an fd */
	CHECK_INT(unshare(CLONE_NEWNET), 0);
	int other = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK_INT(setns(here, CLONE_NEWNET), 0);
	size_t base = count_links();
	/* the peer born in the other namespace */
	CHECK_INT(lj_net_veth_create(NULL, "tm0a", "tm0b", other, 0, &e), 0);
	CHECK_INT(count_links(), base + 1);
	CHECK_INT(lj_net_in_netns(other, child_netns_count, NULL, &e), 2); /* lo + tm0b */
	/* move tm0a over too, renamed on the way, then back */
	CHECK_INT(lj_net_link_set_netns(NULL, "tm0a", other, "tm0x", &e), 0);
	CHECK_INT(count_links(), base);
	CHECK_INT(lj_net_in_netns(other, child_netns_count, NULL, &e), 3);
	CHECK_INT(setns(other, CLONE_NEWNET), 0);
	CHECK_INT(lj_net_link_set_netns(NULL, "tm0x", here, "tm0a", &e), 0);
	CHECK_INT(setns(here, CLONE_NEWNET), 0);
	CHECK_INT(count_links(), base + 1);
	/* a pidfd of ourselves gives our namespace */
	int pidfd = (int)syscall(434 /* pidfd_open */, getpid(), 0);
	if (pidfd >= 0) {
		int nsfd = lj_net_netns_fd_from_pidfd(pidfd, &e);
		CHECK(nsfd >= 0);
		struct stat s1, s2;
		if (nsfd >= 0) {
			fstat(nsfd, &s1);
			fstat(here, &s2);
			CHECK(s1.st_ino == s2.st_ino);
			close(nsfd);
		}
		close(pidfd);
	}
	CHECK_INT(lj_net_link_del(NULL, "tm0a", &e), 0);
	CHECK_INT(count_links(), base);
	close(other);
	close(here);
}

static bool has_link(int netns_fd, const char *name)
{
	struct lj_link *v = NULL;
	size_t n = 0;
	bool found = false;
	if (netns_fd >= 0 ? lj_net_links_in(NULL, netns_fd, &v, &n, NULL) < 0
	                  : lj_net_links(NULL, &v, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(v[i].name, name);
	free(v);
	return found;
}

/* jail(8)'s fast VNET path: epairNb born in the jail's namespace, the pair left to die with it,
 * `ifconfig epairN create` waiting for the dying pair's name. */
static void rtnl_vnet_hints(void)
{
	if (!in_private_netns) {
		SKIP("needs root (a private network namespace)");
		return;
	}
	lj_err e;
	int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK_INT(unshare(CLONE_NEWNET), 0);
	int other = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK_INT(setns(here, CLONE_NEWNET), 0);
	const char *names[] = {"epair5b"};
	lj_net_set_vnet_target(other, names, 1);
	char *create[] = {"ifconfig", "epair5", "create", "up", NULL};
	CHECK_INT(lj_ifconfig_main(4, create), 0);
	lj_net_set_vnet_target(-1, NULL, 0);
	CHECK(has_link(-1, "epair5a"));
	CHECK(!has_link(-1, "epair5b"));
	CHECK(has_link(other, "epair5b"));
	struct lj_link l;
	CHECK_INT(lj_net_link_get(NULL, "epair5a", &l, &e), 0);
	CHECK(l.link_netnsid >= 0 && !l.link_netns_dead);
	/* a live pair whose namespace is no jail's is waited for up to the timeout (it may be
	 * one a removed jail left, not yet let go by the kernel); with no registry, not at all */
	int w = lj_net_wait_dying_link(NULL, "epair5a", 50, &e);
	CHECK(w == 0 || (w == -1 && e.errnum == ETIMEDOUT));
	CHECK(has_link(-1, "epair5a"));
	/* the last reference goes: the kernel deletes the pair with the namespace */
	close(other);
	int r = lj_net_wait_dying_link(NULL, "epair5a", 2000, &e);
	CHECK(r == 0 || r == 1);
	CHECK(!has_link(-1, "epair5a"));
	/* its destroy is a no-op that succeeds */
	const char *dying[] = {"epair5a"};
	lj_net_set_vnet_dying(dying, 1);
	char *destroy[] = {"ifconfig", "epair5a", "destroy", NULL};
	CHECK_INT(lj_ifconfig_main(3, destroy), 0);
	lj_net_set_vnet_dying(NULL, 0);
	char *destroy2[] = {"ifconfig", "epair5a", "destroy", NULL};
	CHECK_INT(lj_ifconfig_main(3, destroy2), 1);
	close(here);
}

int main(void)
{
	lj_t_suite = "net";
	RUN(flags_match_freebsd);
	RUN(ifconfig_epair_like_tutorial);
	RUN(ifconfig_bridge_members);
	RUN(netstat_like_tutorial);
	RUN(address_parsing);
	RUN(ifconfig_parsing);
	RUN(route_parsing);
	RUN(builtins);
	/* The rest talks to the kernel: only as root, and only in a namespace of our own. */
	in_private_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	RUN(rtnl_links);
	RUN(rtnl_batch_delete);
	RUN(rtnl_addresses_routes);
	RUN(rtnl_netns_moves);
	RUN(in_process_entry_points);
	RUN(rtnl_vnet_hints);
	return TEST_DONE();
}
