/* Unit tests of src/cgroup that need no root: CPU lists, rctl rule syntax, the checks of what
 * Linux can enforce, the rule store and rctl.conf loading (against jails that do not run). */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "check.h"

static char tmpdir[] = "/tmp/lj-cg-unit.XXXXXX";

static char *fmt_list(const char *in, const char *sep)
{
	cpu_set_t s;
	if (lj_cpulist_parse(in, &s, NULL) < 0)
		return xstrdup("ERR");
	return lj_cpulist_format(&s, sep);
}

static void cpulist_parse(void)
{
	lj_autofree char *a = fmt_list("0-1", ", ");
	CHECK_STR(a, "0, 1");
	lj_autofree char *b = fmt_list("0,2-3", ", ");
	CHECK_STR(b, "0, 2, 3");
	lj_autofree char *c = fmt_list("0,2-3,5", NULL);
	CHECK_STR(c, "0,2-3,5");
	lj_autofree char *d = fmt_list("7", NULL);
	CHECK_STR(d, "7");
	cpu_set_t all, on;
	CHECK_INT(lj_cpulist_parse("all", &all, NULL), 0);
	CHECK_INT(lj_cpus_online(&on, NULL), 0);
	CHECK(CPU_EQUAL(&all, &on));
	CHECK(CPU_COUNT(&all) >= 1);
}

static void cpulist_errors(void)
{
	static const char *const bad[] = {"0-", "", "a", "1-0", "0,,1", "0,", "-1", "0 1", "0-1-2"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(bad); i++) {
		cpu_set_t s;
		lj_err e = {0};
		CHECK_INT(lj_cpulist_parse(bad[i], &s, &e), -1);
		lj_autofree char *want = xasprintf("Malformed list %s", bad[i]);
		CHECK_STR(e.msg, want);
	}
	cpu_set_t s;
	lj_err e;
	CHECK_INT(lj_cpulist_parse("2000", &s, &e), -1);
	CHECK_STR(e.msg, "List entry 2000 exceeds maximum of 1024");
	CHECK_INT(lj_cpulist_parse("0-1024", &s, &e), -1);
	CHECK_STR(e.msg, "List entry 1024 exceeds maximum of 1024");
}

static char *canon(const char *text, bool filter, bool human)
{
	struct lj_rctl_rule r;
	lj_err e;
	char *out;
	if (lj_rctl_parse(text, filter, &r, &e) < 0)
		out = xasprintf("ERR %s", e.msg);
	else
		out = lj_rctl_format(&r, human);
	lj_rctl_rule_free(&r);
	return out;
}

static void rctl_parse_rules(void)
{
	static const char *const cases[][2] = {
	        {"jail:web:memoryuse:deny=1073741824", "jail:web:memoryuse:deny=1073741824"},
	        {"j:web:memoryuse:deny=1g", "jail:web:memoryuse:deny=1073741824"},
	        {"jail:web:memoryuse:deny=64M", "jail:web:memoryuse:deny=67108864"},
	        {"jail:web:vmemoryuse:deny=2G/process",
	         "jail:web:vmemoryuse:deny=2147483648/process"},
	        {"jail:web:maxproc:deny=20/jail", "jail:web:maxproc:deny=20"},
	        {"p:123:openfiles:deny=100", "process:123:openfiles:deny=100"},
	        {"jail:db:pcpu:deny=20", "jail:db:pcpu:deny=20"},
	        {"jail:db:readbps:throttle=1k", "jail:db:readbps:throttle=1024"},
	        {"jail:db:cputime:sigkill=10/process", "jail:db:cputime:sigkill=10/process"},
	        {"u:root:maxproc:deny=5", "user:root:maxproc:deny=5"},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(cases); i++) {
		lj_autofree char *got = canon(cases[i][0], false, false);
		CHECK_STR(got, cases[i][1]);
	}
	lj_autofree char *h = canon("jail:web:memoryuse:deny=1g", false, true);
	CHECK_STR(h, "jail:web:memoryuse:deny=1024M");
}

static void rctl_parse_errors(void)
{
	static const char *const cases[][2] = {
	        {"jail", "ERR malformed rule 'jail': missing subject"},
	        {"jail:web:memoryuse:deny=ten", "ERR malformed rule 'jail:web:memoryuse:deny=ten': "
	                                        "invalid numeric value 'ten'"},
	        {"jail:web:memoryuse:deny=1x", "ERR malformed rule 'jail:web:memoryuse:deny=1x': "
	                                       "invalid numeric value '1x'"},
	        {"jail:web:memoryuse:deny=-1", "ERR malformed rule 'jail:web:memoryuse:deny=-1': "
	                                       "invalid numeric value '-1'"},
	        {"jail:web:bogus:deny=1", "ERR unknown resource 'bogus': Invalid argument"},
	        {"jail:web:memoryuse:explode=1", "ERR unknown action 'explode': Invalid argument"},
	        {"prison:web:memoryuse:deny=1", "ERR unknown subject 'prison': Invalid argument"},
	        {"jail:web:memoryuse", "ERR incomplete rule: Invalid argument"},
	        {"jail:web:memoryuse:deny", "ERR incomplete rule: Invalid argument"},
	        {"jail::memoryuse:deny=1", "ERR incomplete rule: Invalid argument"},
	        {"jail:web:memoryuse:deny=1/planet",
	         "ERR unknown subject 'planet' after '/': Invalid "
	         "argument"},
	        {"process:abc:openfiles:deny=1", "ERR invalid process id 'abc': Invalid argument"},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(cases); i++) {
		lj_autofree char *got = canon(cases[i][0], false, false);
		CHECK_STR(got, cases[i][1]);
	}
}

static bool matches(const char *filter, const char *rule)
{
	struct lj_rctl_rule f, r;
	CHECK_INT(lj_rctl_parse(filter, true, &f, NULL), 0);
	CHECK_INT(lj_rctl_parse(rule, false, &r, NULL), 0);
	bool m = lj_rctl_match(&f, &r);
	lj_rctl_rule_free(&f);
	lj_rctl_rule_free(&r);
	return m;
}

static void rctl_filters(void)
{
	const char *rule = "jail:web:memoryuse:deny=1024";
	CHECK(matches(":", rule));
	CHECK(matches("::", rule));
	CHECK(matches("jail:", rule));
	CHECK(matches("jail:web", rule));
	CHECK(matches("::memoryuse", rule));
	CHECK(matches("jail:web:memoryuse", rule));
	CHECK(matches("jail:web:memoryuse:deny", rule));
	CHECK(matches("jail:web:memoryuse:deny=1k", rule));
	CHECK(!matches("jail:db", rule));
	CHECK(!matches("process:", rule));
	CHECK(!matches("::maxproc", rule));
	CHECK(!matches("jail:web:memoryuse:deny=1", rule));
	CHECK(!matches("jail:web:memoryuse:sigkill", rule));
}

static void humanize(void)
{
	static const struct {
		uint64_t n;
		const char *want;
	} cases[] = {{0, "0"},
	             {100, "100"},
	             {1536, "1536"},
	             {9999, "9999"},
	             {10000, "9.8K"},
	             {10240, "10K"},
	             {15360, "15K"},
	             {1048576, "1024K"},
	             {67108864, "64M"},
	             {536870912, "512M"},
	             {1073741824, "1024M"},
	             {10737418240ull, "10G"}};
	for (size_t i = 0; i < LJ_ARRAY_LEN(cases); i++) {
		lj_autofree char *got = lj_rctl_humanize(cases[i].n);
		CHECK_STR(got, cases[i].want);
	}
}

static int check_rule(const char *text, lj_err *e)
{
	struct lj_rctl_rule r;
	int rc = lj_rctl_parse(text, false, &r, e);
	if (rc == 0)
		rc = lj_rctl_check(&r, e);
	lj_rctl_rule_free(&r);
	return rc;
}

static void rctl_enforceable(void)
{
	static const char *const ok[] = {
	        "jail:web:memoryuse:deny=64M",
	        "jail:web:memoryuse:sigkill=64M",
	        "jail:web:swapuse:deny=1G",
	        "jail:web:maxproc:deny=20",
	        "jail:web:nthr:deny=100",
	        "jail:web:pcpu:deny=20",
	        "jail:web:readbps:throttle=1M",
	        "jail:web:writeiops:throttle=100",
	        "jail:web:openfiles:deny=100/process",
	        "jail:web:vmemoryuse:deny=1G/process",
	        "jail:web:cputime:sigxcpu=60/process",
	        "process:1:openfiles:deny=1000",
	        "process:1:cputime:sigkill=5",
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(ok); i++) {
		lj_err e = {0};
		int rc = check_rule(ok[i], &e);
		if (rc != 0)
			printf("# %s: %s\n", ok[i], e.msg);
		CHECK_INT(rc, 0);
	}
	static const struct {
		const char *rule;
		int err;
		const char *word; /* the message names it */
	} bad[] = {
	        {"jail:web:wallclock:deny=10", EOPNOTSUPP, "wallclock"},
	        {"jail:web:cputime:deny=10", EOPNOTSUPP, "cputime"},
	        {"jail:web:readbps:deny=10", EOPNOTSUPP, "readbps"},
	        {"jail:web:memoryuse:throttle=10", EOPNOTSUPP, "throttled"},
	        {"jail:web:swapuse:deny=10/process", EOPNOTSUPP, "swapuse"},
	        {"jail:web:memoryuse:log=10", ENOTSUP, "memoryuse with action log"},
	        {"jail:web:memoryuse:devctl=10", ENOTSUP, "devctl"},
	        {"jail:web:memoryuse:sigterm=10", ENOTSUP, "sigterm"},
	        {"jail:web:openfiles:deny=10", ENOTSUP, "openfiles with action deny"},
	        {"jail:web:pseudoterminals:deny=10", ENOTSUP, "pseudoterminals"},
	        {"jail:web:nsem:deny=10", ENOTSUP, "nsem"},
	        {"jail:web:maxproc:sigkill=10", ENOTSUP, "maxproc with action sigkill"},
	        {"jail:web:cputime:sigterm=10/process", ENOTSUP, "cputime"},
	        {"jail:web:maxproc:sigthr=10", ENOTSUP, "sigthr"},
	        {"user:root:maxproc:deny=10", ENOTSUP, "user rules"},
	        {"loginclass:daemon:maxproc:deny=10", ENOTSUP, "loginclass rules"},
	        {"jail:web:pcpu:deny=0", EINVAL, "pcpu"},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(bad); i++) {
		lj_err e = {0};
		CHECK_INT(check_rule(bad[i].rule, &e), -1);
		CHECK_INT(e.errnum, bad[i].err);
		bool named = strstr(e.msg, bad[i].word) != NULL;
		if (!named)
			printf("# %s: message \"%s\" does not name the resource or action\n",
			       bad[i].rule, e.msg);
		CHECK(named);
	}
}

static char *listing(const char *filter)
{
	lj_strv out = {0};
	lj_err e;
	if (lj_rctl_list(filter, false, &out, &e) < 0)
		return xasprintf("ERR %s", e.msg);
	char *s = lj_strv_join(&out, "|");
	lj_strv_free(&out);
	return s ? s : xstrdup("");
}

static void rctl_store(void)
{
	lj_err e;
	/* jails that do not run: the rules wait for them */
	CHECK_INT(lj_rctl_add("jail:web:memoryuse:deny=64M", &e), 0);
	CHECK_INT(lj_rctl_add("jail:db:maxproc:deny=20", &e), 0);
	lj_autofree char *all = listing(NULL);
	CHECK_STR(all, "jail:web:memoryuse:deny=67108864|jail:db:maxproc:deny=20");
	/* a new rule differing only in amount replaces the old one */
	CHECK_INT(lj_rctl_add("jail:web:memoryuse:deny=128M", &e), 0);
	lj_autofree char *web = listing("jail:web");
	CHECK_STR(web, "jail:web:memoryuse:deny=134217728");
	/* refused rules change nothing */
	CHECK_INT(lj_rctl_add("jail:web:wallclock:deny=1", &e), -1);
	CHECK_INT(lj_rctl_add("jail:web:bogus:deny=1", &e), -1);
	lj_autofree char *same = listing(NULL);
	CHECK_STR(same, "jail:web:memoryuse:deny=134217728|jail:db:maxproc:deny=20");
	/* removal by filter; no match is ESRCH */
	CHECK_INT(lj_rctl_remove("jail:db", &e), 0);
	CHECK_INT(lj_rctl_remove("jail:db", &e), -1);
	CHECK_INT(e.errnum, ESRCH);
	CHECK_INT(lj_rctl_remove(":", &e), 0);
	lj_autofree char *none = listing(NULL);
	CHECK_STR(none, "");
	/* usage of a jail that does not run: the 25 resources, all zero */
	lj_strv out = {0};
	CHECK_INT(lj_rctl_usage("jail:nosuch", false, &out, &e), 0);
	CHECK_INT(out.n, 25);
	if (out.n == 25) {
		CHECK_STR(out.v[0], "cputime=0");
		CHECK_STR(out.v[4], "memoryuse=0");
		CHECK_STR(out.v[24], "writeiops=0");
	}
	lj_strv_free(&out);
	CHECK_INT(lj_rctl_usage("jail:", false, &out, &e), -1);
	CHECK_INT(e.errnum, EINVAL);
	lj_strv_free(&out);
}

static void rctl_conf(void)
{
	lj_err e;
	lj_autofree char *conf = xasprintf("%s/rctl.conf", tmpdir);
	const char *text = "# limits\n"
	                   "\n"
	                   "jail:web:memoryuse:deny=64M   # trailing comment\n"
	                   "jail:other:maxproc:deny=5\n"
	                   "  jail:web:pcpu:deny=50\n";
	CHECK_INT(lj_write_file_atomic(conf, text, strlen(text), 0644, &e), 0);
	setenv("LJAIL_RCTL_CONF", conf, 1);
	const char *params[] = {"maxproc:deny=20"};
	CHECK_INT(lj_rctl_apply_jail("web", params, 1, &e), 0);
	lj_autofree char *a = listing("jail:web");
	CHECK_STR(
	        a,
	        "jail:web:memoryuse:deny=67108864|jail:web:pcpu:deny=50|jail:web:maxproc:deny=20");
	/* a restart with another parameter value replaces the parameter's rule */
	const char *params2[] = {"nthr:deny=30"};
	CHECK_INT(lj_rctl_apply_jail("web", params2, 1, &e), 0);
	lj_autofree char *b = listing("jail:web");
	CHECK_STR(b,
	          "jail:web:memoryuse:deny=67108864|jail:web:pcpu:deny=50|jail:web:nthr:deny=30");
	/* removal forgets the parameter's rules only */
	CHECK_INT(lj_rctl_jail_removed("web", &e), 0);
	lj_autofree char *c = listing("jail:web");
	CHECK_STR(c, "jail:web:memoryuse:deny=67108864|jail:web:pcpu:deny=50");
	/* a bad parameter or a bad line: named, nothing stored */
	const char *bad[] = {"memoryuse:log=1"};
	CHECK_INT(lj_rctl_apply_jail("web2", bad, 1, &e), -1);
	CHECK(strstr(e.msg, "parameter rctl \"memoryuse:log=1\"") != NULL);
	const char *text2 = "jail:web:memoryuse:deny=64M\njail:web:memoryuse:deny=lots\n";
	CHECK_INT(lj_write_file_atomic(conf, text2, strlen(text2), 0644, &e), 0);
	CHECK_INT(lj_rctl_apply_jail("web3", NULL, 0, &e), -1);
	lj_autofree char *want = xasprintf("%s:2: malformed rule", conf);
	CHECK(strncmp(e.msg, want, strlen(want)) == 0);
	lj_autofree char *d = listing("jail:web3");
	CHECK_STR(d, "");
	/* no file at all is fine */
	lj_autofree char *missing = xasprintf("%s/none.conf", tmpdir);
	setenv("LJAIL_RCTL_CONF", missing, 1);
	CHECK_INT(lj_rctl_apply_jail("web4", NULL, 0, &e), 0);
	CHECK_INT(lj_rctl_remove(":", &e), 0);
}

/* A jail without any rule costs no store access: nothing is made, not even the run directory;
 * a store with rules of other jails only is left as it is; the jail's own rules still apply. */
static void rctl_no_rules(void)
{
	lj_err e;
	struct stat st;
	lj_autofree char *missing = xasprintf("%s/none.conf", tmpdir);
	setenv("LJAIL_RCTL_CONF", missing, 1);
	lj_autofree char *saved = xstrdup(getenv("LJAIL_RUNDIR"));
	lj_autofree char *run = xasprintf("%s/run-none", tmpdir);
	setenv("LJAIL_RUNDIR", run, 1);
	CHECK_INT(lj_rctl_apply_jail("quiet", NULL, 0, &e), 0);
	CHECK_INT(lj_rctl_jail_removed("quiet", &e), 0);
	CHECK_INT(lj_rctl_enter_jail("quiet", 0, &e), 0);
	CHECK_INT(stat(run, &st), -1);
	CHECK_INT(lj_rctl_add("jail:other:maxproc:deny=5", &e), 0);
	lj_autofree char *store = xasprintf("%s/rctl.rules", run);
	CHECK_INT(stat(store, &st), 0);
	struct timespec before = st.st_mtim;
	ino_t ino = st.st_ino;
	CHECK_INT(lj_rctl_apply_jail("quiet", NULL, 0, &e), 0);
	CHECK_INT(stat(store, &st), 0);
	CHECK(st.st_ino == ino && st.st_mtim.tv_sec == before.tv_sec &&
	      st.st_mtim.tv_nsec == before.tv_nsec);
	/* the parameter's rules of an earlier start go when the jail starts (or goes) without */
	const char *params[] = {"nthr:deny=30"};
	CHECK_INT(lj_rctl_apply_jail("quiet", params, 1, &e), 0);
	lj_autofree char *a = listing("jail:quiet");
	CHECK_STR(a, "jail:quiet:nthr:deny=30");
	CHECK_INT(lj_rctl_apply_jail("quiet", NULL, 0, &e), 0);
	lj_autofree char *b = listing("jail:quiet");
	CHECK_STR(b, "");
	lj_autofree char *c = listing(NULL);
	CHECK_STR(c, "jail:other:maxproc:deny=5");
	CHECK_INT(lj_rctl_remove(":", &e), 0);
	setenv("LJAIL_RUNDIR", saved, 1);
}

static void cg_open_missing(void)
{
	struct lj_cg *cg = NULL;
	lj_err e;
	CHECK_INT(lj_cg_open("no-such-jail", &cg, &e), -1);
	CHECK_INT(e.errnum, ENOENT);
	CHECK_INT(lj_cg_open("../escape", &cg, &e), -1);
	CHECK_INT(lj_cg_create("a/b", &cg, &e), -1);
	CHECK_INT(lj_cg_create("..", &cg, &e), -1);
}

/* ---- hierarchies of other hosts, described by a mountinfo file over plain folders ---------- */

static void fake_dir(const char *path)
{
	CHECK_INT(lj_mkdir_p(path, 0755, NULL), 0);
}

/* mountinfo lines: "MNT TYPE SUPEROPTS" triples; returns the base folder. */
static char *fake_host(const char *tag, const char *const *mounts, size_t n, const char *v2_subtree)
{
	char *base = xasprintf("%s/%s", tmpdir, tag);
	lj_buf mi = {0};
	for (size_t i = 0; i < n; i += 3) {
		lj_autofree char *mnt = xasprintf("%s/%s", base, mounts[i]);
		fake_dir(mnt);
		/* a bind of a subgroup (root not "/") must be ignored: add one per mount */
		lj_buf_addf(&mi, "%zu 1 0:%zu /sub %s/bind%zu rw - %s cgroup %s\n", 100 + i, i,
		            base, i, mounts[i + 1], mounts[i + 2]);
		/* mountinfo writes a blank as \\040 */
		lj_buf esc = {0};
		for (const char *c = mnt; *c; c++)
			*c == ' ' ? lj_buf_adds(&esc, "\\040") : lj_buf_addc(&esc, *c);
		lj_buf_addf(&mi, "%zu 1 0:%zu / %s rw,relatime shared:1 - %s %s %s\n", 200 + i, i,
		            esc.s, mounts[i + 1], mounts[i + 1], mounts[i + 2]);
		lj_buf_free(&esc);
		if (strcmp(mounts[i + 1], "cgroup2") == 0) {
			lj_autofree char *sc = xasprintf("%s/cgroup.subtree_control", mnt);
			CHECK_INT(lj_write_file_atomic(sc, v2_subtree, strlen(v2_subtree), 0644,
			                               NULL),
			          0);
		}
	}
	lj_autofree char *path = xasprintf("%s/mountinfo", base);
	CHECK_INT(lj_write_file_atomic(path, mi.s, mi.len, 0644, NULL), 0);
	lj_buf_free(&mi);
	setenv("LJAIL_CGROUP_MOUNTINFO", path, 1);
	lj_cg_reset_detection();
	return base;
}

/* Open jail "j" on the fake host after making its folders; "CTRL=v1|v2:REL" per controller. */
static char *layout_of(const char *base)
{
	static const char *const names[] = {"cpuset", "cpu", "cpuacct", "memory",
	                                    "pids",   "io",  "freezer"};
	struct lj_cg *cg = NULL;
	lj_err e;
	/* every hierarchy gets root/j so that open finds the group */
	lj_autofree char *mi = NULL;
	lj_autofree char *mp = xasprintf("%s/mountinfo", base);
	CHECK_INT(lj_read_file(mp, &mi, NULL, NULL), 0);
	for (char *l = strtok(mi, "\n"); l; l = strtok(NULL, "\n")) {
		char mnt[512], root[64];
		if (sscanf(l, "%*s %*s %*s %63s %511s", root, mnt) == 2 && strcmp(root, "/") == 0) {
			char *q;
			while ((q = strstr(mnt, "\\040"))) {
				*q = ' ';
				memmove(q + 1, q + 4, strlen(q + 4) + 1);
			}
			lj_autofree char *d = xasprintf("%s/%s/j", mnt, lj_cg_root_name());
			fake_dir(d);
		}
	}
	if (lj_cg_open("j", &cg, &e) < 0)
		return xasprintf("ERR %s", e.msg);
	lj_buf b = {0};
	for (int c = 0; c < LJ_CG_NCTRL; c++) {
		const char *d = cg->dir[c] ? cg->dir[c] + strlen(base) + 1 : "-";
		lj_buf_addf(&b, "%s%s=%s:%s", b.len ? " " : "", names[c],
		            cg->dir[c] ? (cg->v2[c] ? "v2" : "v1") : "none", d);
	}
	lj_buf_addf(&b, " v2dir=%s made=%zu", cg->v2dir ? cg->v2dir + strlen(base) + 1 : "-",
	            cg->made.n);
	/* destroy removes the jail's folders (plain folders: nothing lives there) */
	CHECK_INT(lj_cg_destroy(cg, &e), 0);
	struct lj_cg *cg2;
	CHECK_INT(lj_cg_open("j", &cg2, &e), -1);
	return lj_buf_steal(&b);
}

static void layout_pure_v2(void)
{
	const char *m[] = {"cg", "cgroup2", "rw,nsdelegate"};
	lj_autofree char *base = fake_host("v2", m, 3, "cpuset cpu io memory pids\n");
	lj_autofree char *got = layout_of(base);
	CHECK_STR(got,
	          "cpuset=v2:cg/ljail-fake/j cpu=v2:cg/ljail-fake/j cpuacct=v2:cg/ljail-fake/j "
	          "memory=v2:cg/ljail-fake/j pids=v2:cg/ljail-fake/j io=v2:cg/ljail-fake/j "
	          "freezer=v2:cg/ljail-fake/j v2dir=cg/ljail-fake/j made=1");
}

static void layout_hybrid(void)
{
	/* this development host: every controller on v1, cgroup2 without controllers */
	const char *m[] = {"cpu",     "cgroup", "rw,cpu",     "cpuacct", "cgroup",  "rw,cpuacct",
	                   "cpuset",  "cgroup", "rw,cpuset",  "memory",  "cgroup",  "rw,memory",
	                   "freezer", "cgroup", "rw,freezer", "blkio",   "cgroup",  "rw,blkio",
	                   "pids",    "cgroup", "rw,pids",    "unified", "cgroup2", "rw"};
	lj_autofree char *base = fake_host("hybrid", m, LJ_ARRAY_LEN(m), "");
	lj_autofree char *got = layout_of(base);
	CHECK_STR(got, "cpuset=v1:cpuset/ljail-fake/j cpu=v1:cpu/ljail-fake/j "
	               "cpuacct=v1:cpuacct/ljail-fake/j memory=v1:memory/ljail-fake/j "
	               "pids=v1:pids/ljail-fake/j io=v1:blkio/ljail-fake/j "
	               "freezer=v1:freezer/ljail-fake/j v2dir=unified/ljail-fake/j made=8");
}

static void layout_mixed(void)
{
	/* cpuset and memory (co-mounted) stay on v1, the rest is on cgroup2 */
	const char *m[] = {"c s", "cgroup", "rw,cpuset,memory", "u", "cgroup2", "rw"};
	lj_autofree char *base = fake_host("mixed", m, LJ_ARRAY_LEN(m), "cpu io pids\n");
	lj_autofree char *got = layout_of(base);
	CHECK_STR(got, "cpuset=v1:c s/ljail-fake/j cpu=v2:u/ljail-fake/j cpuacct=v2:u/ljail-fake/j "
	               "memory=v1:c s/ljail-fake/j pids=v2:u/ljail-fake/j io=v2:u/ljail-fake/j "
	               "freezer=v2:u/ljail-fake/j v2dir=u/ljail-fake/j made=2");
}

static void layout_legacy(void)
{
	/* no cgroup2 at all, cpu and cpuacct co-mounted, no pids controller */
	const char *m[] = {"cpu,cpuacct", "cgroup", "rw,cpu,cpuacct",
	                   "memory",      "cgroup", "rw,memory"};
	lj_autofree char *base = fake_host("legacy", m, LJ_ARRAY_LEN(m), "");
	lj_autofree char *got = layout_of(base);
	CHECK_STR(got, "cpuset=none:- cpu=v1:cpu,cpuacct/ljail-fake/j "
	               "cpuacct=v1:cpu,cpuacct/ljail-fake/j memory=v1:memory/ljail-fake/j "
	               "pids=none:- io=none:- freezer=none:- v2dir=- made=2");
}

/* ---- the files each limit writes, on plain files standing in for cgroupfs ----------------- */

static void put(const char *dir, const char *file, const char *text)
{
	lj_autofree char *p = xasprintf("%s/%s", dir, file);
	CHECK_INT(lj_write_file_atomic(p, text, strlen(text), 0644, NULL), 0);
}

static char *get(const char *dir, const char *file)
{
	lj_autofree char *p = xasprintf("%s/%s", dir, file);
	char *s = NULL;
	if (lj_read_file(p, &s, NULL, NULL) < 0)
		return xstrdup("ERR");
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static int64_t limit(struct lj_cg *cg, enum lj_cg_limit l)
{
	int64_t v = -2;
	CHECK_INT(lj_cg_get_limit(cg, l, &v, NULL), 0);
	return v;
}

/* What a crash left of a name in the v1 hierarchies outlives a lazy create until the sweep,
 * which jail(8) runs while the init sets itself up; only once. */
static void lazy_sweeps_v1_leftovers(void)
{
	const char *m[] = {"memory",  "cgroup",  "rw,memory", "pids", "cgroup",
	                   "rw,pids", "unified", "cgroup2",   "rw"};
	lj_autofree char *base = fake_host("sweep", m, LJ_ARRAY_LEN(m), "");
	lj_autofree char *left = xasprintf("%s/memory/ljail-fake/s", base);
	lj_autofree char *leftroot = xasprintf("%s/memory/ljail-fake", base);
	fake_dir(left);
	struct lj_cg *cg = NULL;
	lj_err e;
	CHECK_INT(lj_cg_create_lazy("s", &cg, &e), 0);
	if (!cg)
		return;
	struct stat st;
	CHECK_INT(stat(left, &st), 0);
	CHECK_INT(lj_cg_sweep_v1(cg, &e), 0);
	CHECK_INT(stat(left, &st), -1);
	CHECK_INT(stat(leftroot, &st), -1);
	fake_dir(left); /* made by someone else now: not the sweep's business any more */
	CHECK_INT(lj_cg_sweep_v1(cg, &e), 0);
	CHECK_INT(stat(left, &st), 0);
	rmdir(left);
	rmdir(leftroot);
	CHECK_INT(lj_cg_destroy(cg, &e), 0);
}

/* A lazy create on a hybrid host makes the cgroup2 group only; lifting a limit makes no v1
 * group, reading one finds none; destroy removes what is there. */
static void lazy_hybrid(void)
{
	const char *m[] = {"cpuset", "cgroup", "rw,cpuset", "memory",  "cgroup",  "rw,memory",
	                   "pids",   "cgroup", "rw,pids",   "unified", "cgroup2", "rw"};
	lj_autofree char *base = fake_host("lazy", m, LJ_ARRAY_LEN(m), "");
	struct lj_cg *cg = NULL;
	lj_err e;
	CHECK_INT(lj_cg_create_lazy("j", &cg, &e), 0);
	if (!cg)
		return;
	CHECK_INT((int)cg->made.n, 1);
	lj_autofree char *v2 = xasprintf("%s/unified/ljail-fake/j", base);
	lj_autofree char *mem = xasprintf("%s/memory/ljail-fake/j", base);
	lj_autofree char *memroot = xasprintf("%s/memory/ljail-fake", base);
	struct stat st;
	CHECK_INT(stat(v2, &st), 0);
	CHECK_INT(stat(memroot, &st), -1);
	/* the v1 directory is known, not made */
	CHECK(cg->dir[LJ_CG_MEMORY] && !strcmp(cg->dir[LJ_CG_MEMORY], mem));
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_MEMORY, LJ_CG_UNLIMITED, &e), 0);
	CHECK_INT(stat(memroot, &st), -1);
	CHECK_INT(limit(cg, LJ_CGL_PIDS), LJ_CG_UNLIMITED);
	cpu_set_t set, online;
	CHECK_INT(lj_cg_get_cpus(cg, &set, &e), 0);
	CHECK_INT(lj_cpus_online(&online, &e), 0);
	CHECK(CPU_EQUAL(&set, &online));
	/* a limit makes the group (no process to move here) */
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_PIDS, 5, &e), -1); /* plain folder: no pids.max */
	lj_autofree char *pids = xasprintf("%s/pids/ljail-fake/j", base);
	CHECK_INT(stat(pids, &st), 0);
	CHECK_INT((int)cg->made.n, 2);
	/* a group made by another object (rctl, another process) goes with destroy too */
	lj_autofree char *cpuset = xasprintf("%s/cpuset/ljail-fake/j", base);
	fake_dir(cpuset);
	CHECK_INT(lj_cg_destroy(cg, &e), 0);
	CHECK_INT(stat(v2, &st), -1);
	CHECK_INT(stat(pids, &st), -1);
	CHECK_INT(stat(cpuset, &st), -1);
	lj_autofree char *pidsroot = xasprintf("%s/pids/ljail-fake", base);
	CHECK_INT(stat(pidsroot, &st), -1);
	/* the cgroup2 root group stays for the next jail */
	lj_autofree char *v2root = xasprintf("%s/unified/ljail-fake", base);
	CHECK_INT(stat(v2root, &st), 0);
	rmdir(v2root);
}

static void limits_v1_files(void)
{
	const char *m[] = {"cpu",  "cgroup", "rw,cpu",  "memory", "cgroup", "rw,memory",
	                   "pids", "cgroup", "rw,pids", "blkio",  "cgroup", "rw,blkio"};
	lj_autofree char *base = fake_host("lim1", m, LJ_ARRAY_LEN(m), "");
	lj_autofree char *mem = xasprintf("%s/memory/ljail-fake/j", base);
	lj_autofree char *cpu = xasprintf("%s/cpu/ljail-fake/j", base);
	lj_autofree char *pids = xasprintf("%s/pids/ljail-fake/j", base);
	lj_autofree char *blk = xasprintf("%s/blkio/ljail-fake/j", base);
	fake_dir(mem), fake_dir(cpu), fake_dir(pids), fake_dir(blk);
	put(mem, "memory.limit_in_bytes", "9223372036854771712\n");
	put(mem, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
	put(cpu, "cpu.cfs_quota_us", "-1\n");
	put(cpu, "cpu.cfs_period_us", "100000\n");
	put(pids, "pids.max", "max\n");
	put(blk, "blkio.throttle.read_bps_device", "");
	struct lj_cg *cg;
	lj_err e;
	CHECK_INT(lj_cg_open("j", &cg, &e), 0);
	if (!cg)
		return;
	CHECK_INT(limit(cg, LJ_CGL_MEMORY), LJ_CG_UNLIMITED);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_MEMORY, 64 << 20, &e), 0);
	lj_autofree char *a = get(mem, "memory.limit_in_bytes");
	CHECK_STR(a, "67108864");
	/* swap rides on memsw = memory + swap */
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_SWAP, 32 << 20, &e), 0);
	lj_autofree char *b = get(mem, "memory.memsw.limit_in_bytes");
	CHECK_STR(b, "100663296");
	CHECK_INT(limit(cg, LJ_CGL_SWAP), 32 << 20);
	/* a new memory limit keeps the swap allowance */
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_MEMORY, 128 << 20, &e), 0);
	lj_autofree char *c = get(mem, "memory.memsw.limit_in_bytes");
	CHECK_STR(c, "167772160");
	CHECK_INT(limit(cg, LJ_CGL_MEMORY), 128 << 20);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_MEMORY, 16 << 20, &e), 0);
	CHECK_INT(limit(cg, LJ_CGL_SWAP), 32 << 20);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_MEMORY, LJ_CG_UNLIMITED, &e), 0);
	CHECK_INT(limit(cg, LJ_CGL_MEMORY), LJ_CG_UNLIMITED);
	CHECK_INT(limit(cg, LJ_CGL_SWAP), LJ_CG_UNLIMITED);
	/* swap alone cannot be expressed on v1 */
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_SWAP, 1 << 20, &e), -1);
	CHECK_INT(e.errnum, ENOTSUP);

	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_PIDS, 20, &e), 0);
	lj_autofree char *d = get(pids, "pids.max");
	CHECK_STR(d, "20");
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_PIDS, LJ_CG_UNLIMITED, &e), 0);
	lj_autofree char *d2 = get(pids, "pids.max");
	CHECK_STR(d2, "max");

	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_CPU_PCT, 20, &e), 0);
	lj_autofree char *f = get(cpu, "cpu.cfs_quota_us");
	CHECK_STR(f, "20000");
	CHECK_INT(limit(cg, LJ_CGL_CPU_PCT), 20);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_CPU_PCT, 150, &e), 0);
	CHECK_INT(limit(cg, LJ_CGL_CPU_PCT), 150);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_CPU_PCT, LJ_CG_UNLIMITED, &e), 0);
	lj_autofree char *f2 = get(cpu, "cpu.cfs_quota_us");
	CHECK_STR(f2, "-1");

	/* one "MAJ:MIN N" line per whole disk (a plain file keeps the last one) */
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_READ_BPS, 1 << 20, &e), 0);
	lj_autofree char *g = get(blk, "blkio.throttle.read_bps_device");
	CHECK(strstr(g, ":") && lj_endswith(g, " 1048576"));
	CHECK_INT(limit(cg, LJ_CGL_READ_BPS), 1 << 20);
	/* no controller: said so, by name */
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_WRITE_IOPS, 5, &e), -1);
	lj_cg_free(cg);
}

static void limits_v2_files(void)
{
	const char *m[] = {"u", "cgroup2", "rw"};
	lj_autofree char *base = fake_host("lim2", m, 3, "cpu memory pids io\n");
	lj_autofree char *dir = xasprintf("%s/u/ljail-fake/j", base);
	fake_dir(dir);
	put(dir, "memory.max", "max\n");
	put(dir, "memory.swap.max", "max\n");
	put(dir, "pids.max", "max\n");
	put(dir, "cpu.max", "max 100000\n");
	put(dir, "io.max", "");
	struct lj_cg *cg;
	lj_err e;
	CHECK_INT(lj_cg_open("j", &cg, &e), 0);
	if (!cg)
		return;
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_MEMORY, 64 << 20, &e), 0);
	lj_autofree char *a = get(dir, "memory.max");
	CHECK_STR(a, "67108864");
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_SWAP, 0, &e), 0);
	lj_autofree char *b = get(dir, "memory.swap.max");
	CHECK_STR(b, "0");
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_CPU_PCT, 20, &e), 0);
	lj_autofree char *c = get(dir, "cpu.max");
	CHECK_STR(c, "20000 100000");
	CHECK_INT(limit(cg, LJ_CGL_CPU_PCT), 20);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_CPU_PCT, LJ_CG_UNLIMITED, &e), 0);
	lj_autofree char *c2 = get(dir, "cpu.max");
	CHECK_STR(c2, "max 100000");
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_WRITE_IOPS, 100, &e), 0);
	lj_autofree char *d = get(dir, "io.max");
	CHECK(lj_endswith(d, " wiops=100"));
	CHECK_INT(limit(cg, LJ_CGL_WRITE_IOPS), 100);
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_WRITE_IOPS, LJ_CG_UNLIMITED, &e), 0);
	lj_autofree char *d2 = get(dir, "io.max");
	CHECK(lj_endswith(d2, " wiops=max"));
	CHECK_INT(lj_cg_set_limit(cg, LJ_CGL_PIDS, 7, &e), 0);
	CHECK_INT(limit(cg, LJ_CGL_PIDS), 7);
	lj_cg_free(cg);
}

int main(void)
{
	lj_t_suite = "cgroup";
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	lj_autofree char *run = xasprintf("%s/run", tmpdir);
	setenv("LJAIL_RUNDIR", run, 1);
	lj_autofree char *root = xasprintf("ljail-unit-%d", (int)getpid());
	setenv("LJAIL_CGROUP_ROOT", root, 1);
	RUN(cpulist_parse);
	RUN(cpulist_errors);
	RUN(rctl_parse_rules);
	RUN(rctl_parse_errors);
	RUN(rctl_filters);
	RUN(humanize);
	RUN(rctl_enforceable);
	RUN(rctl_store);
	RUN(rctl_conf);
	RUN(rctl_no_rules);
	RUN(cg_open_missing);
	/* the layouts use a root name of their own */
	setenv("LJAIL_CGROUP_ROOT", "ljail-fake", 1);
	RUN(layout_pure_v2);
	RUN(layout_hybrid);
	RUN(layout_mixed);
	RUN(layout_legacy);
	RUN(lazy_hybrid);
	RUN(lazy_sweeps_v1_leftovers);
	RUN(limits_v1_files);
	RUN(limits_v2_files);
	lj_autofree char *cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return TEST_DONE();
}
