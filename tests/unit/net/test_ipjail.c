/* Unit tests of src/net/ipjail: ip4.addr / ip6.addr parsing (no root needed).
 *
 * The same binary is the helper of tests/integration/net_ipjail.sh (root):
 *   test-ipjail attach CGDIR ip4=SPEC ip6=SPEC [--fallback] [-- CMD...]
 *       SPEC = inherit | disable | A[,B...]. Attach the programs to the cgroup2 directory CGDIR.
 *       With CMD: run CMD inside CGDIR, detach afterwards, exit with CMD's status. Without: the
 *       programs stay attached (they go with the group) and the helper exits 0.
 *   test-ipjail count CGDIR    print how many programs are attached to CGDIR (all hooks used). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "net/ipjail.h"

static void test_parse_plain(void)
{
	struct lj_ipjail_addr a;
	lj_err e = {0};
	CHECK_INT(lj_ipjail_parse_addr("192.0.1.1", AF_INET, &a, &e), 0);
	CHECK_STR(a.ifname, "");
	CHECK_INT(a.family, AF_INET);
	CHECK_INT(a.addr.v4.s_addr, htonl(0xc0000101));
	CHECK_INT(a.prefix, -1);
	CHECK(a.ifconfig_args == NULL);
	lj_ipjail_addr_free(&a);
}

static void test_parse_prefix_and_mask(void)
{
	struct lj_ipjail_addr a;
	lj_err e = {0};
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.5/24", AF_INET, &a, &e), 0);
	CHECK_INT(a.prefix, 24);
	CHECK_INT(a.addr.v4.s_addr, htonl(0x0a000005));
	lj_ipjail_addr_free(&a);
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.5/255.255.0.0", AF_INET, &a, &e), 0);
	CHECK_INT(a.prefix, 16);
	lj_ipjail_addr_free(&a);
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.5/32", AF_INET, &a, &e), 0);
	CHECK_INT(a.prefix, 32);
	lj_ipjail_addr_free(&a);
	CHECK_INT(lj_ipjail_parse_addr("2001:db8::5/64", AF_INET6, &a, &e), 0);
	CHECK_INT(a.prefix, 64);
	CHECK_INT(a.family, AF_INET6);
	struct in6_addr want;
	inet_pton(AF_INET6, "2001:db8::5", &want);
	CHECK(memcmp(&a.addr.v6, &want, sizeof(want)) == 0);
	lj_ipjail_addr_free(&a);
}

static void test_parse_interface(void)
{
	struct lj_ipjail_addr a;
	lj_err e = {0};
	CHECK_INT(lj_ipjail_parse_addr("em0|192.168.1.10/24", AF_INET, &a, &e), 0);
	CHECK_STR(a.ifname, "em0");
	CHECK_INT(a.prefix, 24);
	CHECK_INT(a.addr.v4.s_addr, htonl(0xc0a8010a));
	lj_ipjail_addr_free(&a);
	CHECK_INT(lj_ipjail_parse_addr("lo0|fe80::1", AF_INET6, &a, &e), 0);
	CHECK_STR(a.ifname, "lo0");
	CHECK_INT(a.prefix, -1);
	lj_ipjail_addr_free(&a);
}

static void test_parse_ifconfig_args(void)
{
	struct lj_ipjail_addr a;
	lj_err e = {0};
	CHECK_INT(lj_ipjail_parse_addr("vtnet0|10.1.1.1/24 broadcast 10.1.1.255", AF_INET, &a, &e),
	          0);
	CHECK_STR(a.ifname, "vtnet0");
	CHECK_INT(a.prefix, 24);
	CHECK_STR(a.ifconfig_args, "broadcast 10.1.1.255");
	lj_ipjail_addr_free(&a);
	CHECK(a.ifconfig_args == NULL);
	CHECK_INT(lj_ipjail_parse_addr("10.1.1.1 netmask 255.0.0.0 ", AF_INET, &a, &e), 0);
	CHECK_INT(a.prefix, -1);
	CHECK_STR(a.ifconfig_args, "netmask 255.0.0.0");
	lj_ipjail_addr_free(&a);
	CHECK_INT(lj_ipjail_parse_addr("2001:db8::1/64 prefixlen 64", AF_INET6, &a, &e), 0);
	CHECK_STR(a.ifconfig_args, "prefixlen 64");
	lj_ipjail_addr_free(&a);
}

static void test_parse_errors(void)
{
	struct lj_ipjail_addr a;
	lj_err e = {0};
	CHECK_INT(lj_ipjail_parse_addr("2001:db8::1", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: not an IPv4 address: 2001:db8::1");
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.1", AF_INET6, &a, &e), -1);
	CHECK_STR(e.msg, "ip6.addr: not an IPv6 address: 10.0.0.1");
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.300", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: not an IPv4 address: 10.0.0.300");
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.1/33", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: bad netmask \"33\"");
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.1/255.0.255.0", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: bad netmask \"255.0.255.0\"");
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.1/", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: bad netmask \"\"");
	CHECK_INT(lj_ipjail_parse_addr("10.0.0.1/-1", AF_INET, &a, &e), -1);
	CHECK_INT(lj_ipjail_parse_addr("::1/129", AF_INET6, &a, &e), -1);
	CHECK_STR(e.msg, "ip6.addr: bad prefix length \"129\"");
	CHECK_INT(lj_ipjail_parse_addr("", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: missing address");
	CHECK_INT(lj_ipjail_parse_addr("em0|", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: missing address");
	CHECK_INT(lj_ipjail_parse_addr("|10.0.0.1", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: missing interface name before '|': |10.0.0.1");
	CHECK_INT(lj_ipjail_parse_addr("averyveryverylongname0|10.0.0.1", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: interface name too long: averyveryverylongname0");
	CHECK_INT(lj_ipjail_parse_addr("em 0|10.0.0.1", AF_INET, &a, &e), -1);
	CHECK_STR(e.msg, "ip4.addr: bad interface name: em 0");
}

static void test_mode_and_spec(void)
{
	enum lj_ipjail_mode m = LJ_IPJAIL_NEW;
	lj_err e = {0};
	CHECK_INT(lj_ipjail_mode_parse("ip4", "inherit", &m, &e), 0);
	CHECK_INT(m, LJ_IPJAIL_INHERIT);
	CHECK_INT(lj_ipjail_mode_parse("ip6", "disable", &m, &e), 0);
	CHECK_INT(m, LJ_IPJAIL_DISABLE);
	CHECK_INT(lj_ipjail_mode_parse("ip4", "new", &m, &e), 0);
	CHECK_INT(m, LJ_IPJAIL_NEW);
	CHECK_INT(lj_ipjail_mode_parse("ip4", "yes", &m, &e), -1);
	CHECK_STR(e.msg, "ip4: unknown value \"yes\" (inherit, new or disable)");

	static struct lj_ipjail_spec s;
	struct lj_ipjail_addr a;
	memset(&s, 0, sizeof(s));
	CHECK_INT(lj_ipjail_parse_addr("em0|10.0.0.1/24", AF_INET, &a, &e), 0);
	CHECK_INT(lj_ipjail_spec_add(&s, &a, &e), 0);
	lj_ipjail_addr_free(&a);
	CHECK_INT(lj_ipjail_parse_addr("2001:db8::1", AF_INET6, &a, &e), 0);
	CHECK_INT(lj_ipjail_spec_add(&s, &a, &e), 0);
	CHECK_INT(s.n4, 1);
	CHECK_INT(s.n6, 1);
	CHECK_INT(s.ip4[0].s_addr, htonl(0x0a000001));
	CHECK(memcmp(&s.ip6[0], &a.addr.v6, 16) == 0);
	s.n6 = LJ_IPJAIL_MAX_ADDRS;
	CHECK_INT(lj_ipjail_spec_add(&s, &a, &e), -1);
	CHECK_STR(e.msg, "ip6.addr: too many addresses (at most 255)");
	lj_ipjail_addr_free(&a);
}

static void test_attach_inherit_is_noop(void)
{
	/* Both families unrestricted: nothing to load, so no root and no valid fd are needed. */
	static struct lj_ipjail_spec s;
	struct lj_ipjail ij;
	lj_err e = {0};
	memset(&s, 0, sizeof(s));
	CHECK_INT(lj_ipjail_attach(-1, &s, &ij, &e), 0);
	CHECK_INT(ij.n, 0);
	CHECK_INT(lj_ipjail_detach(&ij, &e), 0);
	struct lj_ipjail zero;
	memset(&zero, 0, sizeof(zero));
	CHECK_INT(lj_ipjail_detach(&zero, &e), 0); /* must not close fd 0 */
	CHECK(fcntl(0, F_GETFD) >= 0 || errno != EBADF);
	s.n4 = LJ_IPJAIL_MAX_ADDRS + 1;
	s.ip4_mode = LJ_IPJAIL_NEW;
	CHECK_INT(lj_ipjail_attach(-1, &s, &ij, &e), -1);
	CHECK_STR(e.msg, "more than 255 addresses in ip4.addr or ip6.addr");
}

static void test_cgroup2_mount(void)
{
	lj_err e = {0};
	lj_autofree char *m = lj_ipjail_cgroup2_mount(&e);
	if (!m) {
		CHECK_STR(e.msg, "no cgroup2 hierarchy is mounted (see /proc/self/mountinfo)");
		SKIP("no cgroup2 mounted here");
		return;
	}
	CHECK(m[0] == '/');
	char p[4096];
	snprintf(p, sizeof(p), "%s/cgroup.procs", m);
	CHECK(access(p, F_OK) == 0);
}

/* ---- the integration test's helper ----------------------------------------------------------- */

static int parse_family(const char *arg, int family, enum lj_ipjail_mode *mode, size_t *n,
                        void *addrs)
{
	if (strcmp(arg, "inherit") == 0) {
		*mode = LJ_IPJAIL_INHERIT;
		return 0;
	}
	if (strcmp(arg, "disable") == 0) {
		*mode = LJ_IPJAIL_DISABLE;
		return 0;
	}
	*mode = LJ_IPJAIL_NEW;
	lj_autofree char *copy = xstrdup(arg);
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
		struct lj_ipjail_addr a;
		lj_err e = {0};
		if (*n >= LJ_IPJAIL_MAX_ADDRS || lj_ipjail_parse_addr(tok, family, &a, &e) < 0) {
			fprintf(stderr, "test-ipjail: %s\n", e.msg);
			return -1;
		}
		if (family == AF_INET)
			((struct in_addr *)addrs)[(*n)++] = a.addr.v4;
		else
			((struct in6_addr *)addrs)[(*n)++] = a.addr.v6;
		lj_ipjail_addr_free(&a);
	}
	return 0;
}

static int helper_attach(int argc, char **argv)
{
	static struct lj_ipjail_spec s;
	const char *dir = argv[2];
	int i = 3;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		int rc = 0;
		if (lj_startswith(argv[i], "ip4="))
			rc = parse_family(argv[i] + 4, AF_INET, &s.ip4_mode, &s.n4, s.ip4);
		else if (lj_startswith(argv[i], "ip6="))
			rc = parse_family(argv[i] + 4, AF_INET6, &s.ip6_mode, &s.n6, s.ip6);
		else if (strcmp(argv[i], "--fallback") == 0)
			lj_ipjail_force_fallback(true);
		else
			rc = -1;
		if (rc < 0) {
			fprintf(stderr, "test-ipjail: bad argument %s\n", argv[i]);
			return 2;
		}
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(dir);
		return 2;
	}
	struct lj_ipjail ij;
	lj_err e = {0};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lj_ipjail_attach(fd, &s, &ij, &e) < 0) {
		fprintf(stderr, "test-ipjail: %s\n", e.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "test-ipjail: %d programs attached in %.1f ms (%s)\n", ij.n,
	        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
	        ij.set_retval ? "bpf_set_retval" : "fallback");
	if (i >= argc - 1) {
		lj_ipjail_release(&ij);
		return 0;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
		if (lj_write_str(path, "0", &e) < 0) {
			fprintf(stderr, "test-ipjail: %s\n", e.msg);
			_exit(2);
		}
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (lj_ipjail_detach(&ij, &e) < 0) {
		fprintf(stderr, "test-ipjail: %s\n", e.msg);
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int helper_count(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(dir);
		return 2;
	}
	const enum bpf_attach_type types[] = {
	        BPF_CGROUP_INET_SOCK_CREATE, BPF_CGROUP_INET4_BIND,    BPF_CGROUP_INET6_BIND,
	        BPF_CGROUP_INET4_CONNECT,    BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP4_SENDMSG,
	        BPF_CGROUP_UDP6_SENDMSG,     BPF_CGROUP_INET_INGRESS,  BPF_CGROUP_INET_EGRESS,
	};
	unsigned total = 0;
	for (size_t i = 0; i < LJ_ARRAY_LEN(types); i++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.query.target_fd = (uint32_t)fd;
		a.query.attach_type = types[i];
		if (syscall(__NR_bpf, BPF_PROG_QUERY, &a, sizeof(a)) < 0) {
			perror("BPF_PROG_QUERY");
			return 2;
		}
		total += a.query.prog_cnt;
	}
	printf("%u\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "attach") == 0)
		return helper_attach(argc, argv);
	if (argc == 3 && strcmp(argv[1], "count") == 0)
		return helper_count(argv[2]);
	lj_t_suite = "ipjail";
	RUN(test_parse_plain);
	RUN(test_parse_prefix_and_mask);
	RUN(test_parse_interface);
	RUN(test_parse_ifconfig_args);
	RUN(test_parse_errors);
	RUN(test_mode_and_spec);
	RUN(test_attach_inherit_is_noop);
	RUN(test_cgroup2_mount);
	return TEST_DONE();
}
