/* pf unit tests: FreeBSD's pfctl conformance pairs run through the built pfctl, plus parser,
 * printer and compiler cases. No root needed. Run from the repository top (tests/run does). */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "pf/pf.h"

static char conf_dir[PATH_MAX];
static char pfctl_path[PATH_MAX];
static const char *cur_pair;

/* Run pfctl -o none -nvf FILE in conf_dir with stdout and stderr on one pipe. */
static char *run_pfctl(const char *file, int *status)
{
	int fds[2];
	if (pipe(fds) < 0)
		return NULL;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		if (chdir(conf_dir) < 0)
			_exit(127);
		execl(pfctl_path, "pfctl", "-o", "none", "-nvf", file, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	lj_buf b = {0};
	char buf[4096];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		lj_buf_add(&b, buf, (size_t)n);
	close(fds[0]);
	waitpid(pid, status, 0);
	char *s = lj_buf_steal(&b);
	return s ? s : xstrdup("");
}

static char *slurp(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *text = NULL;
	size_t len;
	if (lj_read_file(path, &text, &len, NULL) < 0)
		text = NULL;
	free(path);
	return text;
}

static void conformance_pair(void)
{
	char in[64], ok[64];
	snprintf(in, sizeof(in), "%s.in", cur_pair);
	snprintf(ok, sizeof(ok), "%s.ok", cur_pair);
	char *want = slurp(conf_dir, ok);
	CHECK(want != NULL);
	if (!want)
		return;
	int st;
	char *got = run_pfctl(in, &st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_STR(got, want);
	free(got);
	/* the printed form must reproduce itself */
	got = run_pfctl(ok, &st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_STR(got, want);
	free(got);
	free(want);
}

static bool xfail(const char *xf, const char *pair)
{
	if (!xf)
		return false;
	size_t n = strlen(pair);
	for (const char *l = xf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, pair, n) == 0 && (l[n] == ' ' || l[n] == '\t'))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_conformance(void)
{
	DIR *d = opendir(conf_dir);
	if (!d) {
		printf("not ok - pf/conformance # no %s\n", conf_dir);
		lj_t_cases_failed++;
		return;
	}
	lj_strv pairs = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (lj_startswith(de->d_name, "pf") && lj_endswith(de->d_name, ".in"))
			lj_strv_push(&pairs, xstrndup(de->d_name, strlen(de->d_name) - 3));
	closedir(d);
	qsort(pairs.v, pairs.n, sizeof(char *), cmp_str);
	char *xf = slurp(conf_dir, "XFAIL");
	for (size_t i = 0; i < pairs.n; i++) {
		cur_pair = pairs.v[i];
		char name[80];
		snprintf(name, sizeof(name), "conformance/%s", cur_pair);
		if (xfail(xf, cur_pair)) {
			const char *f = getenv("LJ_TEST_FILTER");
			if (!f || !*f || strstr(name, f))
				printf("skip - %s/%s # expected to fail (XFAIL)\n", lj_t_suite,
				       name);
			continue;
		}
		lj_t_run(name, conformance_pair);
	}
	free(xf);
	lj_strv_free(&pairs);
}

/* ---- parser and printer cases through the library ------------------------------------------ */

static struct lj_pf_conf conf;

static int parse(const char *text)
{
	lj_pf_conf_free(&conf);
	struct lj_pf_parse_opts o = {.verbose = true};
	return lj_pf_parse_buffer("test.conf", text, &o, &conf);
}

static char *printed(void)
{
	lj_buf b = {0};
	lj_buf_adds(&b, lj_buf_str(&conf.verbose));
	lj_pf_print_rules(&b, &conf, ~0u, 0);
	char *s = lj_buf_steal(&b);
	return s ? s : xstrdup("");
}

static void tutorial(void)
{
	const char *text =
	        "# Macros\n"
	        "ext_if = \"vtnet0\"\n"
	        "bridge_if = \"bridge0\"\n"
	        "jail_webserver = \"192.168.1.201\"\n"
	        "jail_database = \"192.168.1.202\"\n"
	        "set skip on lo0\n"
	        "nat on $ext_if from { $jail_webserver, $jail_database } to any -> ($ext_if)\n"
	        "block in log all\n"
	        "pass out all keep state\n"
	        "pass in on $ext_if proto tcp to any port 22\n"
	        "pass in on $ext_if proto tcp to $jail_webserver port { 80, 443 }\n"
	        "pass in on $bridge_if proto tcp from $jail_webserver to $jail_database port 5432\n"
	        "pass inet proto icmp all\n";
	CHECK_INT(parse(text), 0);
	char *s = printed();
	CHECK_STR(s,
	          "ext_if = \"vtnet0\"\n"
	          "bridge_if = \"bridge0\"\n"
	          "jail_webserver = \"192.168.1.201\"\n"
	          "jail_database = \"192.168.1.202\"\n"
	          "set skip on { lo0 }\n"
	          "nat on vtnet0 inet from 192.168.1.201 to any -> (vtnet0) round-robin\n"
	          "nat on vtnet0 inet from 192.168.1.202 to any -> (vtnet0) round-robin\n"
	          "block drop in log all\n"
	          "pass out all flags S/SA keep state\n"
	          "pass in on vtnet0 proto tcp from any to any port = ssh flags S/SA keep state\n"
	          "pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = http flags "
	          "S/SA keep state\n"
	          "pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = https flags "
	          "S/SA keep state\n"
	          "pass in on bridge0 inet proto tcp from 192.168.1.201 to 192.168.1.202 port = "
	          "postgresql flags S/SA keep state\n"
	          "pass inet proto icmp all keep state\n");
	free(s);
}

static void optimizer(void)
{
	/* FreeBSD's basic optimizer: the tutorial's listing order */
	CHECK_INT(
	        parse("block in log all\npass out all keep state\n"
	              "pass in on vtnet0 proto tcp to any port 22\n"
	              "pass in on vtnet0 proto tcp to 192.168.1.201 port { 80, 443 }\n"
	              "pass in on bridge0 proto tcp from 192.168.1.201 to 192.168.1.202 port 5432\n"
	              "pass inet proto icmp all\n"),
	        0);
	lj_pf_optimize(&conf);
	lj_buf b = {0};
	lj_pf_print_rules(&b, &conf, ~0u, LJ_PF_PRINT_NUMERIC);
	CHECK_STR(lj_buf_str(&b),
	          "block drop in log all\n"
	          "pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = 80 flags S/SA "
	          "keep state\n"
	          "pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = 443 flags "
	          "S/SA keep state\n"
	          "pass in on vtnet0 proto tcp from any to any port = 22 flags S/SA keep state\n"
	          "pass in on bridge0 inet proto tcp from 192.168.1.201 to 192.168.1.202 port = "
	          "5432 flags S/SA keep state\n"
	          "pass out all flags S/SA keep state\n"
	          "pass inet proto icmp all keep state\n");
	lj_buf_reset(&b);
	/* a rule another rule of its superblock covers goes; quick and log rules are barriers */
	CHECK_INT(
	        parse("pass in all\npass in proto tcp to port 22\nblock in quick from 10.0.0.0/8\n"
	              "block in quick from 10.1.0.0/16\nblock in log quick from 10.0.0.1\n"),
	        0);
	lj_pf_optimize(&conf);
	lj_pf_print_rules(&b, &conf, ~0u, LJ_PF_PRINT_VV);
	CHECK_STR(lj_buf_str(&b), "@0 pass in all flags S/SA keep state\n"
	                          "@1 block drop in quick inet from 10.0.0.0/8 to any\n"
	                          "@2 block drop in log quick inet from 10.0.0.1 to any\n");
	lj_buf_free(&b);
}

/* Index of needle in hay, or -1. */
static long pos_of(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	return p ? p - hay : -1;
}

static void compile_nft(void)
{
	char *ifaddrs = getenv("PF_IFADDRS") ? xstrdup(getenv("PF_IFADDRS")) : NULL;
	unsetenv("PF_IFADDRS"); /* lo0 -> lo mapping applies to the kernel's interfaces only */
	CHECK_INT(parse("table <bad> { 10.0.0.0/8 !10.1.0.0/16 2001:db8::/32 }\n"
	                "set skip on lo0\n"
	                "nat on em0 from 192.168.1.0/24 to any -> (em0)\n"
	                "rdr on em0 proto tcp to 1.2.3.4 port 80 -> 192.168.1.2 port 8080\n"
	                "block in all\n"
	                "pass in quick proto tcp to port 22\n"
	                "pass in proto tcp from <bad> to port 80 no state\n"
	                "block return out proto { tcp udp } to 9.9.9.9 port 7\n"
	                "pass out log on ! em0 inet proto icmp icmp-type echoreq\n"),
	          0);
	lj_buf out = {0};
	struct lj_pf_kernel k = {0};
	lj_err e = {0};
	CHECK_INT(lj_pf_compile(&conf, &k, &out, &e), 0);
	const char *s = lj_buf_str(&out);
	/* replaced whole, and nothing but ljail's table */
	CHECK(lj_startswith(s, "add table inet ljail_pf\ndelete table inet ljail_pf\n"));
	CHECK(strstr(s, "flush ruleset") == NULL);
	CHECK(strstr(s, "add element inet ljail_pf t4_bad { 10.0.0.0/8 }"));
	CHECK(strstr(s, "add element inet ljail_pf n4_bad { 10.1.0.0/16 }"));
	CHECK(strstr(s, "add element inet ljail_pf t6_bad { 2001:db8::/32 }"));
	CHECK(strstr(s, "add rule inet ljail_pf r_in iifname \"lo\" accept"));
	CHECK(strstr(
	        s, "oifname \"em0\" meta nfproto ipv4 ip saddr 192.168.1.0/24 counter masquerade"));
	CHECK(strstr(
	        s, "iifname \"em0\" meta nfproto ipv4 meta l4proto 6 ip daddr 1.2.3.4 tcp dport 80 "
	           "counter dnat ip to 192.168.1.2:8080"));
	/* quick first, then the others last to first */
	long q = pos_of(s, "r_in meta l4proto 6 tcp dport 22");
	long p80 = pos_of(s, "@t4_bad ip saddr != @n4_bad tcp dport 80 counter accept");
	long blk = pos_of(s, "r_in counter drop");
	CHECK(q > 0 && p80 > q && blk > p80);
	CHECK(strstr(
	        s,
	        "tcp dport 22 tcp flags & (syn | ack) == (syn) counter ct mark set ct mark | 0x1 "
	        "accept"));
	/* no state: a plain accept */
	CHECK(strstr(s, "@n6_bad tcp dport 80 counter accept comment"));
	/* block return: reset for TCP, port unreachable for UDP */
	CHECK(strstr(s,
	             "meta l4proto 6 ip daddr 9.9.9.9 tcp dport 7 counter reject with tcp reset"));
	CHECK(strstr(s,
	             "meta l4proto 17 ip daddr 9.9.9.9 udp dport 7 counter reject with icmp type "
	             "port-unreachable"));
	/* log to NFLOG group 0, on ! IF, icmp type */
	CHECK(strstr(
	        s,
	        "r_out oifname != \"em0\" meta nfproto ipv4 meta l4proto 1 icmp type 8 counter log "
	        "prefix"));
	CHECK(strstr(s, "group 0 ct mark set ct mark | 0x1 accept"));
	lj_buf_free(&out);
	/* what nftables cannot express fails before anything is loaded */
	CHECK_INT(parse("rdr on em0 proto tcp to 1.2.3.4 port 1000:1010 -> 10.0.0.1 port 2000:*\n"),
	          0);
	CHECK_INT(lj_pf_compile(&conf, &k, &out, &e), -1);
	CHECK(strstr(e.msg, "rdr to a port range is not supported"));
	lj_buf_free(&out);
	if (ifaddrs) {
		setenv("PF_IFADDRS", ifaddrs, 1);
		free(ifaddrs);
	}
}

static void order_check(void)
{
	CHECK_INT(parse("pass all\nnat on em0 from any to any -> 1.2.3.4\n"), -1);
	CHECK_STR(
	        lj_buf_str(&conf.errors),
	        "test.conf:2: Rules must be in order: options, ethernet, normalization, queueing, "
	        "translation, filtering\n");
	CHECK_INT(parse("pass all\nset limit states 10\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "test.conf:2: Rules must be in order") != NULL);
	/* set skip is not order-checked; require-order no turns the check off */
	CHECK_INT(parse("pass all\nset skip on lo0\n"), 0);
	CHECK_INT(parse("set require-order no\npass all\nnat on em0 from any to any -> 1.2.3.4\n"),
	          0);
}

static void errors(void)
{
	CHECK_INT(parse("pass in on $nope all\npass\n"), -1);
	CHECK_STR(lj_buf_str(&conf.errors), "test.conf:1: macro 'nope' not defined\n");
	CHECK_INT(conf.nrules, 1);
	CHECK_INT(parse("pass in proto icmp from any port 22\n"), -1);
	CHECK_STR(lj_buf_str(&conf.errors), "test.conf:1: port only applies to tcp/udp\n"
	                                    "test.conf:1: skipping rule due to errors\n"
	                                    "test.conf:1: rule expands to no valid combination\n");
	CHECK_INT(parse("block return-rst proto udp all\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "return-rst can only be applied to TCP rules") !=
	      NULL);
	CHECK_INT(parse("pass proto icmp icmp-type echoreq\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "must indicate address family with icmp-type/code"));
	CHECK_INT(parse("pass in\nfoo bar\npass out\nblock in quick quick\n"), -1);
	CHECK_STR(lj_buf_str(&conf.errors),
	          "test.conf:2: syntax error\ntest.conf:4: syntax error\n");
	CHECK_INT(parse("pass proto udp flags S/SA\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "flags only apply to tcp"));
	CHECK_INT(parse("pass from 1.2.3.4 to 2001:db8::1\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "rule expands to no valid combination"));
	CHECK_INT(parse("pass in proto tcp to port 99999\n"), -1);
	CHECK_INT(parse("pass in proto tcp to any port 99999\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "illegal port value 99999"));
}

static void macros_and_lists(void)
{
	/* macros re-tokenised on expansion, not inside quotes */
	CHECK_INT(parse("ports = \"{ 22 80 }\"\nx = \"$ports\"\npass in proto tcp to any port "
	                "$ports\n"),
	          0);
	char *s = printed();
	CHECK_STR(s, "ports = \"{ 22 80 }\"\nx = \"$ports\"\n"
	             "pass in proto tcp from any to any port = ssh flags S/SA keep state\n"
	             "pass in proto tcp from any to any port = http flags S/SA keep state\n");
	free(s);
	/* expansion order: interface, proto, src host, src port, dst host, dst port */
	CHECK_INT(parse("block on { a0 b0 } proto { tcp udp } from { 1.1.1.1 2.2.2.2 } to any port "
	                "{ 1 2 }\n"),
	          0);
	CHECK_INT(conf.nrules, 16);
	lj_buf b = {0};
	lj_pf_print_rule(&b, &conf.rules[1], LJ_PF_PRINT_NUMERIC);
	CHECK_STR(lj_buf_str(&b), "block drop on a0 inet proto tcp from 1.1.1.1 to any port = 2");
	lj_buf_reset(&b);
	lj_pf_print_rule(&b, &conf.rules[4], LJ_PF_PRINT_NUMERIC);
	CHECK_STR(lj_buf_str(&b), "block drop on a0 inet proto udp from 1.1.1.1 to any port = 1");
	lj_buf_reset(&b);
	lj_pf_print_rule(&b, &conf.rules[8], LJ_PF_PRINT_VV | LJ_PF_PRINT_NUMERIC);
	CHECK_STR(lj_buf_str(&b),
	          "@8 block drop on b0 inet proto tcp from 1.1.1.1 to any port = 1");
	lj_buf_free(&b);
	/* -D macros are not overridden by the file */
	lj_pf_conf_free(&conf);
	const char *defs[] = {"ext=em9", NULL};
	struct lj_pf_parse_opts o = {.verbose = true, .defines = defs};
	CHECK_INT(lj_pf_parse_buffer("t", "ext = \"em0\"\npass on $ext\n", &o, &conf), 0);
	s = printed();
	CHECK_STR(s, "ext = \"em0\"\npass on em9 all flags S/SA keep state\n");
	free(s);
}

static void translation(void)
{
	CHECK_INT(parse("nat on em0 from 10.0.0.0/24 to any -> 1.2.3.4 port 1024:2048\n"
	                "no nat on em0 from 10.0.0.5 to any\n"
	                "nat pass on em0 from 10.0.0.0/24 to any -> 1.2.3.4 static-port\n"
	                "rdr on em0 proto tcp from any to 1.2.3.4 port 80 -> 10.0.0.2 port 8080\n"
	                "binat on em0 from 10.0.0.1 to any -> 1.2.3.5\n"
	                "pass all\n"),
	          0);
	char *s = printed();
	CHECK_STR(
	        s,
	        "nat on em0 inet from 10.0.0.0/24 to any -> 1.2.3.4 port 1024:2048\n"
	        "no nat on em0 inet from 10.0.0.5 to any\n"
	        "nat pass on em0 inet from 10.0.0.0/24 to any -> 1.2.3.4 static-port\n"
	        "rdr on em0 inet proto tcp from any to 1.2.3.4 port = http -> 10.0.0.2 port 8080\n"
	        "binat on em0 inet from 10.0.0.1 to any -> 1.2.3.5\n"
	        "pass all flags S/SA keep state\n");
	free(s);
	CHECK_INT(parse("nat on em0 from any to any\n"), -1);
	CHECK(strstr(lj_buf_str(&conf.errors), "translation rule requires '-> address'"));
}

static void tables_and_misc(void)
{
	CHECK_INT(parse("table <bad> persist { 10.0.0.1, !10.0.0.0/8 }\ntable <empty> { }\n"
	                "block in quick from <bad>\nset skip on { lo0 em0 }\n"),
	          0);
	char *s = printed();
	CHECK_STR(s, "table <bad> persist { 10.0.0.1 !10.0.0.0/8 }\ntable <empty> { }\n"
	             "set skip on { lo0 em0 }\n"
	             "block drop in quick from <bad> to any\n");
	free(s);
	CHECK_INT(conf.ntables, 2);
	CHECK_INT(conf.tables[0].naddrs, 2);
	CHECK(conf.tables[0].addrs[1].neg);
	/* flags letters print in bit order; block-policy return */
	CHECK_INT(parse("set block-policy return\nblock in proto tcp flags FUPEW/SFRAW\nblock\n"),
	          0);
	s = printed();
	CHECK_STR(s, "set block-policy return\n"
	             "block return in proto tcp all flags FPUEW/FSRAW\n"
	             "block return all\n");
	free(s);
	CHECK_INT(parse("pass in inet proto icmp icmp-type { echoreq, unreach code port-unr }\n"),
	          0);
	s = printed();
	CHECK_STR(s, "pass in inet proto icmp all icmp-type echoreq keep state\n"
	             "pass in inet proto icmp all icmp-type unreach code port-unr keep state\n");
	free(s);
}

int main(int argc, char **argv)
{
	(void)argc;
	lj_t_suite = "pf";
	const char *top = getenv("LJ_SRCDIR");
	char cwd[PATH_MAX];
	if (!top)
		top = getcwd(cwd, sizeof(cwd));
	snprintf(conf_dir, sizeof(conf_dir), "%.3000s/tests/conformance/pfctl", top);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	(void)argv;
	/* the built pfctl: beside the tests folder, or under src/cmd in the build tree */
	const char *d = dirname(self);
	const char *b = getenv("LJAIL_BUILD");
	char cand[3][PATH_MAX];
	snprintf(cand[0], PATH_MAX, "%.3000s/pfctl", b ? b : "/nonexistent");
	snprintf(cand[1], PATH_MAX, "%.3000s/../pfctl", d);
	snprintf(cand[2], PATH_MAX, "%.3000s/../src/cmd/pfctl", d);
	memcpy(pfctl_path, cand[2], PATH_MAX);
	for (int i = 0; i < 3; i++)
		if (access(cand[i], X_OK) == 0) {
			memcpy(pfctl_path, cand[i], PATH_MAX);
			break;
		}
	char *v;
	setenv("PF_SERVICES", (v = xasprintf("%s/freebsd-services", conf_dir)), 1);
	free(v);
	setenv("PF_PROTOCOLS", (v = xasprintf("%s/freebsd-protocols", conf_dir)), 1);
	free(v);
	setenv("PF_IFADDRS", (v = xasprintf("%s/ifaddrs", conf_dir)), 1);
	free(v);
	setenv("PF_HOSTS", (v = xasprintf("%s/hosts", conf_dir)), 1);
	free(v);

	run_conformance();
	RUN(tutorial);
	RUN(optimizer);
	RUN(compile_nft);
	RUN(order_check);
	RUN(errors);
	RUN(macros_and_lists);
	RUN(translation);
	RUN(tables_and_misc);
	lj_pf_conf_free(&conf);
	return TEST_DONE();
}
