/* Unit tests for src/param: the table, lookups, value parsers and the checks jail(8) makes
 * before it runs anything. */
#include "check.h"
#include "param/param.h"

static struct jc_conf conf;

/* The first jail of a config text (kept in `conf` until the next call). */
static struct jc_jail *J(const char *text)
{
	lj_err e;
	jc_free(&conf);
	if (jc_load_string(&conf, "t.conf", text, strlen(text), &e) < 0 || conf.njails < 1) {
		printf("# load failed: %s\n", e.msg);
		return NULL;
	}
	return &conf.jails[0];
}

/* lj_param_check_jail's message, or "ok" */
static char *C(const char *text)
{
	struct jc_jail *j = J(text);
	if (!j)
		return xstrdup("load failed");
	lj_err e;
	if (lj_param_check_jail(j, &e) < 0)
		return xstrdup(e.msg);
	return xstrdup("ok");
}

#define EXPECT_CHECK(text, want)       \
	do {                           \
		char *got_ = C(text);  \
		CHECK_STR(got_, want); \
		free(got_);            \
	} while (0)

static void table_complete(void)
{
	/* every kernel parameter of FreeBSD's jail(8) and every jail(8) pseudo-parameter */
	static const char *const names[] = {
	        "jid", "name", "parent", "path", "securelevel", "enforce_statfs", "devfs_ruleset",
	        "persist", "vnet", "dying", "children.max", "children.cur", "host", "host.hostname",
	        "host.domainname", "host.hostuuid", "host.hostid", "cpuset.id", "osrelease",
	        "osreldate", "ip4", "ip6", "ip4.addr", "ip6.addr", "ip4.saddrsel", "ip6.saddrsel",
	        "allow.set_hostname", "allow.reserved_ports", "allow.unprivileged_proc_debug",
	        "allow.suser", "allow.sysvipc", "allow.raw_sockets", "allow.chflags",
	        "allow.quotas", "allow.socket_af", "allow.mlock", "allow.read_msgbuf",
	        "allow.unprivileged_parent_tampering", "allow.nfsd", "allow.extattr",
	        "allow.adjtime", "allow.settime", "allow.routing", "allow.setaudit", "allow.mount",
	        "allow.mount.devfs", "allow.mount.fdescfs", "allow.mount.fusefs",
	        "allow.mount.nullfs", "allow.mount.procfs", "allow.mount.linprocfs",
	        "allow.mount.linsysfs", "allow.mount.tmpfs", "allow.mount.zfs", "allow.vmm",
	        "allow.vmm_ppt", "sysvmsg", "sysvsem", "sysvshm", "linux", "linux.osname",
	        "linux.osrelease", "linux.oss_version", "zfs.mount_snapshot", "mac.label", "mac.do",
	        "mac.do.rules", "meta", "env",
	        /* pseudo */
	        "exec.prepare", "exec.prestart", "exec.created", "exec.poststart", "exec.prestop",
	        "exec.poststop", "exec.release", "exec.start", "command", "exec.stop", "exec.clean",
	        "exec.jail_user", "exec.system_jail_user", "exec.system_user", "exec.timeout",
	        "exec.consolelog", "exec.fib", "stop.timeout", "interface", "ip_hostname", "mount",
	        "mount.fstab", "mount.devfs", "mount.fdescfs", "mount.procfs", "vnet.interface",
	        "zfs.dataset", "depend", "allow.dying", "rctl"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(names); i++) {
		const struct lj_param_def *d = lj_param_lookup(names[i], NULL);
		if (!d) {
			printf("# missing: %s\n", names[i]);
			lj_t_failed_checks++;
			continue;
		}
		CHECK(d->linux && strlen(d->linux) > 5);
	}
	size_t n;
	const struct lj_param_def *t = lj_param_table(&n);
	CHECK(n >= LJ_ARRAY_LEN(names));
	for (size_t i = 0; i < n; i++) {
		CHECK(t[i].name && t[i].linux && t[i].type >= LJ_PT_BOOL && t[i].type <= LJ_PT_IP6);
		/* no name twice */
		for (size_t k = i + 1; k < n; k++)
			CHECK(strcmp(t[i].name, t[k].name) != 0);
		/* a no-effect parameter says why */
		if (t[i].flags & LJ_PF_NOOP)
			CHECK(strstr(t[i].linux, "no ") != NULL);
	}
}

static void types_and_flags(void)
{
	struct {
		const char *name;
		enum lj_ptype type;
		unsigned flags;
		const char *dflt;
	} t[] = {
	        {"path", LJ_PT_STRING, LJ_PF_RDTUN, "/"},
	        {"vnet", LJ_PT_JAILSYS, LJ_PF_RDTUN, "inherit"},
	        {"ip4", LJ_PT_JAILSYS, LJ_PF_RDTUN, "disable"},
	        {"ip6.addr", LJ_PT_IP6, LJ_PF_RDTUN, NULL},
	        {"ip4.addr", LJ_PT_IP4, LJ_PF_RDTUN, NULL},
	        {"osrelease", LJ_PT_STRING, LJ_PF_RDTUN, NULL},
	        {"osreldate", LJ_PT_INT, LJ_PF_RDTUN, NULL},
	        {"persist", LJ_PT_BOOL, 0, "false"},
	        {"enforce_statfs", LJ_PT_INT, 0, "2"},
	        {"host.hostuuid", LJ_PT_STRING, 0, "00000000-0000-0000-0000-000000000000"},
	        {"host.hostid", LJ_PT_UINT, 0, "0"},
	        {"sysvshm", LJ_PT_JAILSYS, 0, "disable"},
	        {"allow.set_hostname", LJ_PT_BOOL, 0, "true"},
	        {"allow.raw_sockets", LJ_PT_BOOL, 0, "false"},
	        {"stop.timeout", LJ_PT_INT, LJ_PF_PSEUDO, "10"},
	        {"exec.start", LJ_PT_LIST, LJ_PF_PSEUDO, NULL},
	        {"mount", LJ_PT_LIST, LJ_PF_PSEUDO | LJ_PF_REV, NULL},
	        {"rctl", LJ_PT_LIST, LJ_PF_LJAIL, NULL},
	        {"dying", LJ_PT_BOOL, LJ_PF_RO, "false"},
	        {"zfs.dataset", LJ_PT_LIST, LJ_PF_NOOP, NULL},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(t); i++) {
		const struct lj_param_def *d = lj_param_lookup(t[i].name, NULL);
		CHECK(d != NULL);
		if (!d)
			continue;
		CHECK_INT(d->type, t[i].type);
		CHECK((d->flags & t[i].flags) == t[i].flags);
		if (t[i].dflt)
			CHECK_STR(d->dflt, t[i].dflt);
	}
	CHECK(!(lj_param_lookup("persist", NULL)->flags & LJ_PF_RDTUN));
	CHECK(!(lj_param_lookup("host.hostname", NULL)->flags & LJ_PF_RDTUN));
}

static void lookups(void)
{
	bool neg = true;
	CHECK(lj_param_lookup("persist", &neg) && !neg);
	const struct lj_param_def *d = lj_param_lookup("nopersist", &neg);
	CHECK(d && neg && strcmp(d->name, "persist") == 0);
	d = lj_param_lookup("allow.nomount", &neg);
	CHECK(d && neg && strcmp(d->name, "allow.mount") == 0);
	d = lj_param_lookup("allow.mount.notmpfs", &neg);
	CHECK(d && neg && strcmp(d->name, "allow.mount.tmpfs") == 0);
	d = lj_param_lookup("mount.nodevfs", &neg);
	CHECK(d && neg && strcmp(d->name, "mount.devfs") == 0);
	d = lj_param_lookup("novnet", &neg);
	CHECK(d && neg && strcmp(d->name, "vnet") == 0);
	CHECK(lj_param_lookup("nopath", NULL) == NULL); /* only booleans have a "no" form */
	CHECK(lj_param_lookup("allow.nothing", NULL) == NULL);
	CHECK(lj_param_lookup("bogus", NULL) == NULL);
	CHECK(lj_param_lookup("", NULL) == NULL);
	d = lj_param_lookup("meta.owner", &neg);
	CHECK(d && !neg && (d->flags & LJ_PF_FAMILY));
	CHECK(lj_param_lookup("env.PATH", NULL) != NULL);
	CHECK(lj_param_lookup("meta.", NULL) == NULL);
	CHECK(lj_param_lookup("meta", NULL) != NULL);
	CHECK(lj_param_linux("vnet") && strstr(lj_param_linux("vnet"), "network namespace"));
	CHECK(lj_param_linux("nope") == NULL);
}

static void parsers(void)
{
	lj_err e;
	bool b;
	CHECK(lj_param_parse_bool("p", "TRUE", &b, &e) == 0 && b);
	CHECK(lj_param_parse_bool("p", "false", &b, &e) == 0 && !b);
	CHECK(lj_param_parse_bool("p", "1", &b, &e) == 0 && b);
	CHECK(lj_param_parse_bool("p", "0", &b, &e) == 0 && !b);
	CHECK(lj_param_parse_bool("p", "-3", &b, &e) == 0 && b);
	CHECK_INT(lj_param_parse_bool("p", "yes", &b, &e), -1);
	CHECK_STR(e.msg, "p: unknown boolean value \"yes\"");
	long long v;
	CHECK(lj_param_parse_int("n", "42", &v, &e) == 0 && v == 42);
	CHECK(lj_param_parse_int("n", "-1", &v, &e) == 0 && v == -1);
	CHECK_INT(lj_param_parse_int("n", "4x", &v, &e), -1);
	CHECK_STR(e.msg, "n: non-integer value \"4x\"");
	CHECK_INT(lj_param_parse_int("n", "", &v, &e), -1);
	CHECK_STR(e.msg, "n: non-integer value \"\"");
	enum lj_jailsys js;
	CHECK(lj_param_parse_jailsys("s", "new", &js, &e) == 0 && js == LJ_JAILSYS_NEW);
	CHECK(lj_param_parse_jailsys("s", "inherit", &js, &e) == 0 && js == LJ_JAILSYS_INHERIT);
	CHECK(lj_param_parse_jailsys("s", "disable", &js, &e) == 0 && js == LJ_JAILSYS_DISABLE);
	CHECK(lj_param_parse_jailsys("s", "", &js, &e) == 0 && js == LJ_JAILSYS_NEW);
	CHECK(lj_param_parse_jailsys("s", "2", &js, &e) == 0 && js == LJ_JAILSYS_INHERIT);
	CHECK_INT(lj_param_parse_jailsys("s", "3", &js, &e), -1);
	CHECK_INT(lj_param_parse_jailsys("s", "New", &js, &e), -1);
	CHECK_STR(e.msg, "s: unknown jailsys value \"New\"");
}

static void checks(void)
{
	/* the tutorial's jails are valid */
	EXPECT_CHECK(
	        "exec.start = \"/bin/sh /etc/rc\"; exec.clean; mount.devfs; "
	        "allow.raw_sockets; $b = x; w { vnet; vnet.interface = epair1b; sysvshm = new; "
	        "host.hostname = w; path = /j/w; }",
	        "ok");
	EXPECT_CHECK("j { foo = 1; }", "unknown parameter: foo");
	EXPECT_CHECK("j { allow.nothing; }", "unknown parameter: allow.nothing");
	EXPECT_CHECK("j { nopath; }", "unknown parameter: nopath");
	EXPECT_CHECK("j { persist = maybe; }", "persist: unknown boolean value \"maybe\"");
	EXPECT_CHECK("j { nopersist = maybe; }", "nopersist: unknown boolean value \"maybe\"");
	EXPECT_CHECK("j { persist = maybe, 1; }", "ok"); /* the last value counts */
	EXPECT_CHECK("j { exec.clean = yes; }", "exec.clean: unknown boolean value \"yes\"");
	EXPECT_CHECK("j { securelevel = high; }", "securelevel: non-integer value \"high\"");
	EXPECT_CHECK("j { exec.timeout = 1.5; }", "exec.timeout: non-integer value \"1.5\"");
	EXPECT_CHECK("j { exec.fib = \"\"; }", "exec.fib: non-integer value \"\"");
	EXPECT_CHECK("j { stop.timeout = 30; exec.timeout = 0; }", "ok");
	EXPECT_CHECK("j { enforce_statfs = 3; }", "enforce_statfs: value 3 out of range (0 to 2)");
	EXPECT_CHECK("j { devfs_ruleset = 70000; }",
	             "devfs_ruleset: value 70000 out of range (0 to 65535)");
	EXPECT_CHECK("j { host.hostid = -1; }", "host.hostid: non-integer value \"-1\"");
	EXPECT_CHECK("j { sysvshm = maybe; }", "sysvshm: unknown jailsys value \"maybe\"");
	EXPECT_CHECK("j { vnet = disable; }", "vnet: unknown jailsys value \"disable\"");
	EXPECT_CHECK("j { vnet = new; ip4 = inherit; host = \"\"; }", "ok");
	EXPECT_CHECK("j { dying; }", "dying: read-only parameter");
	EXPECT_CHECK("j { ip4.addr = 10.0.0.1, \"em0|10.0.0.2/24\", \"10.0.0.3/255.255.255.0 "
	             "vhid 1\"; ip6.addr = ::1, \"em0|fe80::1/64\"; }",
	             "ok");
	EXPECT_CHECK("j { ip4.addr = 10.0.0.300; }", "ip4.addr: not an IPv4 address: 10.0.0.300");
	EXPECT_CHECK("j { ip6.addr = 10.0.0.1; }", "ip6.addr: not an IPv6 address: 10.0.0.1");
	EXPECT_CHECK("j { ip4.addr = 10.0.0.1/33; }", "ip4.addr: bad netmask \"33\"");
	EXPECT_CHECK("j { meta.owner = alice; env.PATH = /bin; meta = \"a b\"; }", "ok");
	EXPECT_CHECK("j { rctl = \"memoryuse:deny=64M\", \"maxproc:deny=20\"; }", "ok");
	EXPECT_CHECK("j { p = $x; }", "p: variable \"x\" not found");
	EXPECT_CHECK("j { allow.mount.notmpfs; mount.nodevfs; novnet; }", "ok");
}

/* the tutorial's jail.conf passes every check */
static void seed_valid(void)
{
	struct jc_conf c;
	lj_err e;
	if (jc_load_file(&c, "examples/seed/jail.conf", &e) < 0) {
		SKIP("run from the source tree (examples/seed/jail.conf)");
		return;
	}
	CHECK_INT(c.njails, 2);
	for (size_t i = 0; i < c.njails; i++) {
		int rc = lj_param_check_jail(&c.jails[i], &e);
		CHECK_INT(rc, 0);
		if (rc < 0)
			printf("# %s: %s\n", c.jails[i].name, e.msg);
		CHECK_INT(lj_param_jailsys(&c.jails[i], "vnet"), LJ_JAILSYS_NEW);
		CHECK(lj_param_bool(&c.jails[i], "exec.clean"));
	}
	CHECK_INT(lj_param_jailsys(&c.jails[1], "sysvshm"), LJ_JAILSYS_NEW);
	CHECK_INT(lj_param_jailsys(&c.jails[0], "sysvshm"), LJ_JAILSYS_DISABLE);
	jc_free(&c);
}

static void pseudo_check(void)
{
	lj_err e;
	struct jc_jail *j = J("j { foo = 1; stop.timeout = 5; }");
	CHECK(j && lj_param_check_pseudo(j, &e) == 0);
	j = J("j { foo = 1; stop.timeout = soon; }");
	CHECK(j && lj_param_check_pseudo(j, &e) == -1);
	CHECK_STR(e.msg, "stop.timeout: non-integer value \"soon\"");
}

static void typed_reads(void)
{
	struct jc_jail *j = J("j { }");
	CHECK(j != NULL);
	if (!j)
		return;
	CHECK(!lj_param_bool(j, "persist"));
	CHECK(lj_param_bool(j, "allow.set_hostname"));
	CHECK_INT(lj_param_int(j, "stop.timeout"), 10);
	CHECK_INT(lj_param_int(j, "enforce_statfs"), 2);
	CHECK_INT(lj_param_int(j, "exec.timeout"), 0);
	CHECK_INT(lj_param_jailsys(j, "vnet"), LJ_JAILSYS_INHERIT);
	CHECK_INT(lj_param_jailsys(j, "sysvshm"), LJ_JAILSYS_DISABLE);
	CHECK_INT(lj_param_jailsys(j, "host"), LJ_JAILSYS_NEW);
	CHECK_INT(lj_param_jailsys(j, "ip4"), LJ_JAILSYS_DISABLE);

	j = J("j { vnet; persist; allow.noset_hostname; stop.timeout = 3; sysvmsg = new; }");
	CHECK_INT(lj_param_jailsys(j, "vnet"), LJ_JAILSYS_NEW);
	CHECK_INT(lj_param_jailsys(j, "ip4"), LJ_JAILSYS_INHERIT);
	CHECK_INT(lj_param_jailsys(j, "sysvmsg"), LJ_JAILSYS_NEW);
	CHECK(lj_param_bool(j, "persist"));
	CHECK(!lj_param_bool(j, "allow.set_hostname"));
	CHECK_INT(lj_param_int(j, "stop.timeout"), 3);

	j = J("j { ip4.addr = 10.0.0.1; allow.sysvipc; novnet; }");
	CHECK_INT(lj_param_jailsys(j, "ip4"), LJ_JAILSYS_NEW);
	CHECK_INT(lj_param_jailsys(j, "ip6"), LJ_JAILSYS_DISABLE);
	CHECK_INT(lj_param_jailsys(j, "sysvsem"), LJ_JAILSYS_INHERIT);
	CHECK_INT(lj_param_jailsys(j, "vnet"), LJ_JAILSYS_DISABLE);

	j = J("j { vnet = inherit; ip4 = disable; }");
	CHECK_INT(lj_param_jailsys(j, "vnet"), LJ_JAILSYS_INHERIT);
	CHECK_INT(lj_param_jailsys(j, "ip4"), LJ_JAILSYS_DISABLE);
}

int main(void)
{
	lj_t_suite = "param";
	RUN(table_complete);
	RUN(types_and_flags);
	RUN(lookups);
	RUN(parsers);
	RUN(checks);
	RUN(seed_valid);
	RUN(pseudo_check);
	RUN(typed_reads);
	jc_free(&conf);
	return TEST_DONE();
}
