/* Unit tests for src/isolate that need no root: allow.* → capabilities, params → policy, the
 * seccomp filter's content. */
#include <linux/capability.h>
#include <unistd.h>

#include "check.h"
#include "isolate/isolate.h"

#define CB(c) (UINT64_C(1) << (c))

static struct lj_iso_policy from(const char *const *kv, lj_err *e, int *rc)
{
	struct lj_iso_policy p;
	lj_isolate_policy_init(&p);
	lj_strv sv = {0};
	for (; *kv; kv++)
		lj_strv_add(&sv, *kv);
	*rc = lj_isolate_policy_from_params(&sv, &p, e);
	lj_strv_free(&sv);
	return p;
}

static void defaults(void)
{
	struct lj_iso_policy p;
	lj_isolate_policy_init(&p);
	CHECK_INT(p.allow, LJ_ALLOW_DEFAULT);
	CHECK_INT(p.sysvshm, LJ_SYSV_DISABLE);
	CHECK(!p.vnet);
	CHECK_INT(p.children_max, 0);
	uint64_t c = lj_isolate_caps(&p);
	CHECK(c & CB(CAP_CHOWN));
	CHECK(c & CB(CAP_SETUID));
	CHECK(c & CB(CAP_NET_BIND_SERVICE));
	CHECK(!(c & CB(CAP_NET_RAW)));
	CHECK(!(c & CB(CAP_SYS_ADMIN)));
	CHECK(!(c & CB(CAP_MKNOD)));
	CHECK(!(c & CB(CAP_SYS_MODULE)));
	CHECK(!(c & CB(CAP_SYS_TIME)));
	CHECK(!(c & CB(CAP_NET_ADMIN)));
	CHECK(!(c & CB(CAP_SYS_PTRACE)));
	CHECK(!(c & CB(CAP_DAC_READ_SEARCH)));
	CHECK(!(c & CB(CAP_SYS_BOOT)));
	/* sysv disable → a private IPC namespace → IPC_OWNER is harmless and kept */
	CHECK(c & CB(CAP_IPC_OWNER));
}

static void allow_mapping(void)
{
	static const struct {
		const char *param;
		int cap;
	} m[] = {{"allow.raw_sockets", CAP_NET_RAW},
	         {"allow.mount", CAP_SYS_ADMIN},
	         {"allow.chflags", CAP_LINUX_IMMUTABLE},
	         {"allow.mlock", CAP_IPC_LOCK},
	         {"allow.read_msgbuf", CAP_SYSLOG},
	         {"allow.settime", CAP_SYS_TIME},
	         {"allow.adjtime", CAP_SYS_TIME},
	         {"allow.routing", CAP_NET_ADMIN},
	         {"vnet", CAP_NET_ADMIN},
	         {"children.max=3", CAP_SYS_ADMIN}};
	for (size_t i = 0; i < LJ_ARRAY_LEN(m); i++) {
		lj_err e = {0};
		int rc;
		const char *kv[] = {m[i].param, NULL};
		struct lj_iso_policy p = from(kv, &e, &rc);
		CHECK_INT(rc, 0);
		if (!(lj_isolate_caps(&p) & CB(m[i].cap))) {
			printf("# %s does not give capability %d\n", m[i].param, m[i].cap);
			CHECK(0);
		}
	}
}

/* allow.mount (and only it) puts the jail in a user namespace of its own. */
static void userns_only_with_mount(void)
{
	lj_err e = {0};
	int rc;
	struct lj_iso_policy p;
	lj_isolate_policy_init(&p);
	CHECK(!lj_isolate_wants_userns(&p));
	static const char *const others[] = {"children.max=2", "vnet", "allow.raw_sockets",
	                                     "allow.mount.tmpfs", "allow.nomount"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(others); i++) {
		const char *kv[] = {others[i], NULL};
		p = from(kv, &e, &rc);
		CHECK_INT(rc, 0);
		CHECK(!lj_isolate_wants_userns(&p));
	}
	const char *kv[] = {"vnet", "allow.mount", NULL};
	p = from(kv, &e, &rc);
	CHECK_INT(rc, 0);
	CHECK(lj_isolate_wants_userns(&p));
	CHECK(lj_isolate_caps(&p) & CB(CAP_SYS_ADMIN));
}

static void params_forms(void)
{
	lj_err e = {0};
	int rc;
	{
		const char *kv[] = {"allow.raw_sockets=true",
		                    "allow.noreserved_ports",
		                    "vnet=new",
		                    "sysvshm=new",
		                    "sysvmsg=inherit",
		                    "children.max=5",
		                    NULL};
		struct lj_iso_policy p = from(kv, &e, &rc);
		CHECK_INT(rc, 0);
		CHECK(p.allow & LJ_ALLOW_RAW_SOCKETS);
		CHECK(!(p.allow & LJ_ALLOW_RESERVED_PORTS));
		CHECK(p.vnet);
		CHECK_INT(p.sysvshm, LJ_SYSV_NEW);
		CHECK_INT(p.sysvmsg, LJ_SYSV_INHERIT);
		CHECK_INT(p.sysvsem, LJ_SYSV_DISABLE);
		CHECK_INT(p.children_max, 5);
		CHECK(!(lj_isolate_caps(&p) & CB(CAP_NET_BIND_SERVICE)));
	}
	{
		const char *kv[] = {"allow.sysvipc", "sysvsem=disable", "vnet=inherit", NULL};
		struct lj_iso_policy p = from(kv, &e, &rc);
		CHECK_INT(rc, 0);
		CHECK_INT(p.sysvshm, LJ_SYSV_INHERIT);
		CHECK_INT(p.sysvmsg, LJ_SYSV_INHERIT);
		CHECK_INT(p.sysvsem, LJ_SYSV_DISABLE);
		CHECK(!p.vnet);
	}
	{
		const char *kv[] = {"allow.suser=false", NULL};
		struct lj_iso_policy p = from(kv, &e, &rc);
		CHECK_INT(rc, 0);
		CHECK_INT(lj_isolate_caps(&p), 0);
	}
	{
		const char *kv[] = {"sysvshm=maybe", NULL};
		from(kv, &e, &rc);
		CHECK_INT(rc, -1);
		CHECK_STR(e.msg, "sysvshm: invalid value \"maybe\"");
	}
	{
		const char *kv[] = {"children.max=-1", NULL};
		from(kv, &e, &rc);
		CHECK_INT(rc, -1);
		CHECK_STR(e.msg, "children.max: invalid value \"-1\"");
	}
	{
		const char *kv[] = {"allow.mount=yes", NULL};
		from(kv, &e, &rc);
		CHECK_INT(rc, -1);
		CHECK_STR(e.msg, "allow.mount: invalid boolean \"yes\"");
	}
}

static void zeroed_struct_means_defaults(void)
{
	struct lj_iso_policy p = {0};
	lj_strv sv = {0};
	lj_strv_add(&sv, "children.max=1");
	lj_err e = {0};
	CHECK_INT(lj_isolate_policy_from_params(&sv, &p, &e), 0);
	CHECK_INT(p.allow, LJ_ALLOW_DEFAULT);
	CHECK_INT(p.children_max, 1);
	CHECK(lj_isolate_caps(&p) & CB(CAP_SETUID));
	lj_strv_free(&sv);
}

static char *export(const struct lj_iso_policy *p)
{
	char tmpl[] = "/tmp/lj-iso-pfc.XXXXXX";
	int fd = mkstemp(tmpl);
	lj_err e = {0};
	int rc = lj_isolate_seccomp_export(p, fd, &e);
	CHECK_INT(rc, 0);
	close(fd);
	char *s = NULL;
	lj_read_file(tmpl, &s, NULL, &e);
	unlink(tmpl);
	return s ? s : xstrdup("");
}

static void seccomp_content(void)
{
	struct lj_iso_policy p;
	lj_isolate_policy_init(&p);
	lj_autofree char *s = export(&p);
	static const char *const must[] = {"init_module", "finit_module", "delete_module",
	                                   "kexec_load",  "reboot",       "open_by_handle_at",
	                                   "keyctl",      "bpf",          "perf_event_open",
	                                   "userfaultfd", "mount",        "pivot_root",
	                                   "shmget",      "semget",       "msgget",
	                                   "setns",       "unshare",      "clone3"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(must); i++)
		if (!strstr(s, must[i])) {
			printf("# the filter misses %s\n", must[i]);
			CHECK(0);
		}
	/* SysV off answers ENOSYS (38), the rest EPERM */
	CHECK(strstr(s, "ERRNO(38)") != NULL);

	p.allow |= LJ_ALLOW_MOUNT;
	p.sysvshm = p.sysvmsg = p.sysvsem = LJ_SYSV_NEW;
	lj_autofree char *t = export(&p);
	CHECK(strstr(t, "pivot_root") == NULL);
	CHECK(strstr(t, "shmget") == NULL);
	CHECK(strstr(t, "ERRNO(38)") != NULL); /* clone3 still ENOSYS */
}

/* Every ABI a jailed process can call the kernel through is filtered: on x86_64 the i386 one
 * too (x32 only where the kernel runs it; else its numbers meet the bad-arch action), and a call
 * of any other arch is killed. The program is a binary tree (libseccomp's optimize level 2). */
static void seccomp_arches(void)
{
	struct lj_iso_policy p;
	lj_isolate_policy_init(&p);
	lj_autofree char *s = export(&p);
#if defined(__x86_64__)
	CHECK(strstr(s, "filter for arch x86_64") != NULL);
	CHECK(strstr(s, "filter for arch x86 ") != NULL);
#endif
	const char *bad = strstr(s, "# invalid architecture action");
	CHECK(bad != NULL);
	CHECK(bad && strstr(bad, "action KILL;") != NULL);
}

int main(void)
{
	lj_t_suite = "isolate";
	RUN(defaults);
	RUN(allow_mapping);
	RUN(userns_only_with_mount);
	RUN(params_forms);
	RUN(zeroed_struct_means_defaults);
	RUN(seccomp_content);
	RUN(seccomp_arches);
	return TEST_DONE();
}
