/* isolate/exec.c: running a command inside a running jail (jexec, exec.start, command, ...).
 *
 * The caller P forks a helper C that stays in the host's PID namespace (the jail never sees it):
 * C joins the jail's cgroup, setns()es every namespace through the init's pidfd, takes the init's
 * bounding set and the policy's seccomp filter, switches user, and forks G with CLONE_PARENT, so
 * G is born in the jail's PID namespace as P's child. C exits; G execs. Errors up to G's execve
 * travel back over a SOCK_SEQPACKET pair (close-on-exec: EOF means G exec'd). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate/isolate.h"
#include "isolate/isolate_int.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

struct user {
	bool set;
	uid_t uid;
	gid_t gid;
	char *name, *home, *shell;
	gid_t *groups;
	int ngroups;
};

static void user_free(struct user *u)
{
	free(u->name);
	free(u->home);
	free(u->shell);
	free(u->groups);
	memset(u, 0, sizeof *u);
}

static void user_from_pw(struct user *u, const struct passwd *pw)
{
	u->set = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->name = xstrdup(pw->pw_name);
	u->home = xstrdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	u->shell = xstrdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
}

/* The host's user database (NSS). name NULL: the caller's uid. */
static int lookup_host(const char *name, struct user *u, lj_err *e)
{
	errno = 0;
	struct passwd *pw = name ? getpwnam(name) : getpwuid(getuid());
	if (!pw) {
		if (errno && errno != ENOENT && errno != ESRCH)
			return name ? lj_error(e, errno, "getpwnam: %s", name)
			            : lj_error(e, errno, "getpwuid: %d", (int)getuid());
		return name ? lj_errorx(e, "%s: no such user", name)
		            : lj_errorx(e, "unknown uid: %d", (int)getuid());
	}
	user_from_pw(u, pw);
	int n = 64;
	u->groups = xcalloc((size_t)n, sizeof(gid_t));
	if (getgrouplist(u->name, u->gid, u->groups, &n) < 0) {
		u->groups = xrealloc(u->groups, (size_t)n * sizeof(gid_t));
		if (getgrouplist(u->name, u->gid, u->groups, &n) < 0)
			return lj_errorx(e, "getgrouplist: %s", u->name);
	}
	u->ngroups = n;
	return 0;
}

/* The jail's /etc/passwd and /etc/group, read as files: the host's NSS modules must never load
 * code from the jail's file system into a privileged process. */
static int lookup_jail(const char *name, struct user *u, lj_err *e)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return lj_error(e, errno, "getpwnam: %s", name ? name : "root");
	struct passwd *pw;
	while ((pw = fgetpwent(f))) {
		if (name ? !strcmp(pw->pw_name, name) : pw->pw_uid == getuid()) {
			user_from_pw(u, pw);
			break;
		}
	}
	fclose(f);
	if (!u->set)
		return name ? lj_errorx(e, "%s: no such user", name)
		            : lj_errorx(e, "unknown uid: %d", (int)getuid());
	u->groups = xcalloc(1, sizeof(gid_t));
	u->groups[u->ngroups++] = u->gid;
	f = fopen("/etc/group", "re");
	if (f) {
		struct group *gr;
		while ((gr = fgetgrent(f))) {
			if (gr->gr_gid == u->gid)
				continue;
			for (char **m = gr->gr_mem; m && *m; m++) {
				if (strcmp(*m, u->name))
					continue;
				u->groups = xrealloc(u->groups,
				                     (size_t)(u->ngroups + 1) * sizeof(gid_t));
				u->groups[u->ngroups++] = gr->gr_gid;
				break;
			}
		}
		fclose(f);
	}
	return 0;
}

/* Set or replace "K=V" in env. */
static void env_put(lj_strv *env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
	for (size_t i = 0; i < env->n; i++) {
		if (!strncmp(env->v[i], kv, klen) && env->v[i][klen] == '=') {
			free(env->v[i]);
			env->v[i] = xstrdup(kv);
			return;
		}
	}
	lj_strv_add(env, kv);
}

static void env_build(const struct lj_iso_exec *x, const struct user *u, lj_strv *env)
{
	if (x->clean) {
		const char *term = getenv("TERM");
		if (term)
			lj_strv_addf(env, "TERM=%s", term);
		lj_strv_add(env, "PATH=" LJ_ISO_PATH);
	} else {
		for (char **p = environ; p && *p; p++)
			lj_strv_add(env, *p);
	}
	if (u->set) {
		lj_autofree char *a = xasprintf("USER=%s", u->name);
		lj_autofree char *b = xasprintf("HOME=%s", u->home);
		lj_autofree char *c = xasprintf("SHELL=%s", u->shell);
		env_put(env, a);
		env_put(env, b);
		env_put(env, c);
	}
	/* The jail's own registry (nested jails), never the host's. */
	env_put(env, "LJAIL_RUNDIR=" LJ_ISO_JAIL_RUNDIR);
	for (char *const *p = x->env; p && *p; p++)
		env_put(env, *p);
}

static pid_t pidfd_pid(int pidfd)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
	lj_autofree char *s = NULL;
	if (lj_read_file(path, &s, NULL, NULL) < 0)
		return -1;
	const char *p = strstr(s, "\nPid:");
	if (!p)
		return -1;
	return (pid_t)atoi(p + 5);
}

static int read_capbnd(pid_t pid, uint64_t *bnd, lj_err *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	lj_autofree char *s = NULL;
	if (lj_read_file(path, &s, NULL, e) < 0)
		return -1;
	const char *p = strstr(s, "\nCapBnd:");
	if (!p)
		return lj_errorx(e, "%s: no CapBnd", path);
	*bnd = strtoull(p + 8, NULL, 16);
	return 0;
}

/* ---- the init's cgroups (jexec) ----------------------------------------------------------------
 */

static const char *cg_root_name(void)
{
	const char *r = getenv("LJAIL_CGROUP_ROOT");
	return r && *r ? r : "ljail";
}

static bool path_has_component(const char *path, const char *comp)
{
	size_t n = strlen(comp);
	for (const char *p = path; (p = strstr(p, comp)); p++)
		if ((p == path || p[-1] == '/') && (p[n] == '/' || p[n] == '\0'))
			return true;
	return false;
}

/* The mount point of the hierarchy with controllers `ctrls` ("" for v2), from the mount table
 * text `mi` (/proc/self/mountinfo, read once for every hierarchy). */
static char *cg_mountpoint(const char *mi, const char *ctrls, bool v2)
{
	char *found = NULL;
	for (const char *p = mi; !found && p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lj_autofree char *line = xstrndup(p, len);
		p = nl ? nl + 1 : NULL;
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char fstype[32], src[256], opts[1024];
		if (sscanf(sep + 3, "%31s %255s %1023s", fstype, src, opts) != 3)
			continue;
		char root[1024], mnt[1024];
		if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 || strcmp(root, "/"))
			continue;
		if (v2) {
			if (!strcmp(fstype, "cgroup2"))
				found = xstrdup(mnt);
			continue;
		}
		if (strcmp(fstype, "cgroup"))
			continue;
		/* every controller of the hierarchy must be in the super options */
		lj_autofree char *c = xstrdup(ctrls);
		bool all = true;
		char *save = NULL;
		for (char *t = strtok_r(c, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			lj_autofree char *o = xasprintf(",%s,", opts);
			lj_autofree char *w = xasprintf(",%s,", t);
			if (!strstr(o, w))
				all = false;
		}
		if (all)
			found = xstrdup(mnt);
	}
	return found;
}

/* Move the caller into the init's group in every hierarchy where they differ, but only into
 * groups below ljail's root name (never a group ljail did not make). */
static int join_init_cgroups(pid_t ipid, lj_err *e)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)ipid);
	lj_autofree char *theirs = NULL, *ours = NULL, *mi = NULL;
	if (lj_read_file(path, &theirs, NULL, e) < 0 ||
	    lj_read_file("/proc/self/cgroup", &ours, NULL, e) < 0)
		return -1;
	char *save = NULL;
	for (char *l = strtok_r(theirs, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		const char *id = l, *ctrls = c1 + 1, *cgpath = c2 + 1;
		/* the same line in ours? */
		lj_autofree char *want = xasprintf("\n%s:%s:%s\n", id, ctrls, cgpath);
		lj_autofree char *ours_nl = xasprintf("\n%s\n", ours);
		if (strstr(ours_nl, want) || !path_has_component(cgpath, cg_root_name()))
			continue;
		bool v2 = !strcmp(id, "0") && !*ctrls;
		if (!v2 && !*ctrls)
			continue;
		if (!mi && lj_read_file("/proc/self/mountinfo", &mi, NULL, NULL) < 0)
			return 0; /* as before: no mount table, no hierarchy to join */
		lj_autofree char *mnt = cg_mountpoint(mi, ctrls, v2);
		if (!mnt)
			continue;
		lj_autofree char *procs = xasprintf("%s%s/cgroup.procs", mnt, cgpath);
		if (lj_write_str(procs, "0", e) < 0)
			return lj_error_prefix(e, "cgroup");
	}
	return 0;
}

/* ---- C and G -----------------------------------------------------------------------------------
 */

static int join_namespaces(int pidfd, pid_t ipid, lj_err *e)
{
	const int all = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
	                CLONE_NEWCGROUP;
	if (!lj_iso_fault("isolate-setns-pidfd") && setns(pidfd, all) == 0)
		return 0;
	/* Before 5.8: one fd per namespace, all opened first (paths stop resolving after mnt), in
	 * nsenter's order. */
	static const struct {
		const char *name;
		int flag;
	} ns[] = {{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	          {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS}};
	int fds[LJ_ARRAY_LEN(ns)];
	for (size_t i = 0; i < LJ_ARRAY_LEN(ns); i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)ipid, ns[i].name);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return lj_error(e, errno, "jail_attach: %s", p);
	}
	if (!lj_isolate_alive(pidfd))
		return lj_error(e, ESRCH, "jail_attach");
	for (size_t i = 0; i < LJ_ARRAY_LEN(ns); i++) {
		if (setns(fds[i], ns[i].flag) < 0)
			return lj_error(e, errno, "jail_attach: setns %s", ns[i].name);
		close(fds[i]);
	}
	return 0;
}

static _Noreturn void g_main(const struct lj_iso_exec *x, char **envp, int sock)
{
	lj_err e = {0};
	int fds[3] = {x->stdin_fd, x->stdout_fd, x->stderr_fd};
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fds[i] != i && dup2(fds[i], i) < 0) {
			lj_error(&e, errno, "dup2");
			goto fail;
		}
	/* A clean signal state; only what the jail's program sets itself. */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* No host descriptor survives the exec (CVE-2024-21626); the socket closes with it. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (x->builtin && x->argv) {
		int argc = 0;
		while (x->argv[argc])
			argc++;
		close(sock);
		_exit(x->builtin(argc, (char **)x->argv));
	}
	environ = envp;
	if (!x->argv) {
		const char *shell = getenv("SHELL");
		if (!shell || !*shell)
			shell = "/bin/sh";
		execlp(shell, shell, "-i", (char *)NULL);
		lj_error(&e, errno, "execlp: %s", shell);
	} else {
		execvp(x->argv[0], x->argv);
		lj_error(&e, errno, "execvp: %s", x->argv[0]);
	}
fail:
	lj_iso_send(sock, LJ_ISO_MSG_ERR, 0, &e);
	_exit(e.errnum == ENOENT ? 127 : 126);
}

static _Noreturn void c_main(int pidfd, pid_t ipid, uint64_t bnd, const struct lj_iso_policy *pol,
                             const struct lj_iso_exec *x, struct user *u, int sock)
{
	lj_err e = {0};
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	struct lj_iso_msg m;
	if (lj_iso_recv(sock, &m) != 1)
		_exit(1);
	if (x->follow_init_cgroups && join_init_cgroups(ipid, &e) < 0)
		goto fail;
	if (join_namespaces(pidfd, ipid, &e) < 0)
		goto fail;
	close(pidfd);
	if (x->user_in_jail && x->user && lookup_jail(x->user, u, &e) < 0)
		goto fail;
	if (!u->set && x->clean && lookup_jail(NULL, u, &e) < 0)
		goto fail;

	/* The init's bounds, never more; the filter while CAP_SYS_ADMIN is still effective. */
	if (lj_iso_caps_apply(bnd, true, &e) < 0 || lj_iso_seccomp_load(pol, &e) < 0)
		goto fail;
	if (u->set && u->uid != 0) {
		if (setgroups((size_t)u->ngroups, u->groups) < 0) {
			lj_error(&e, errno, "setgroups");
			goto fail;
		}
		if (setgid(u->gid) < 0) {
			lj_error(&e, errno, "setgid");
			goto fail;
		}
		if (setuid(u->uid) < 0) {
			lj_error(&e, errno, "setusercontext");
			goto fail;
		}
	} else {
		gid_t g = u->set ? u->gid : 0;
		if (setgroups(u->set ? (size_t)u->ngroups : 0, u->set ? u->groups : NULL) < 0 ||
		    setgid(g) < 0) {
			lj_error(&e, errno, "setgid");
			goto fail;
		}
		if (lj_iso_caps_apply(bnd, false, &e) < 0)
			goto fail;
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	const char *dir = x->dir ? x->dir : (x->login_dir && u->set ? u->home : "/");
	if (chdir(dir) < 0) {
		lj_error(&e, errno, "chdir: %s", dir);
		goto fail;
	}
	lj_strv env = {0};
	env_build(x, u, &env);
	if (!env.v)
		lj_strv_add(&env, "PATH=" LJ_ISO_PATH);

	pid_t g = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL,
	                         NULL, NULL);
	if (g == 0)
		g_main(x, env.v, sock);
	if (g < 0) {
		lj_error(&e, errno, "fork in the jail");
		goto fail;
	}
	lj_iso_send(sock, LJ_ISO_MSG_PID, g, NULL);
	_exit(0);
fail:
	lj_iso_send(sock, LJ_ISO_MSG_ERR, 0, &e);
	_exit(1);
}

pid_t lj_isolate_spawn(int init_pidfd, const struct lj_iso_policy *pol, const struct lj_iso_exec *x,
                       int *out_pidfd, lj_err *e)
{
	if (x->argv && !x->argv[0])
		return lj_errorx(e, "no command");
	pid_t ipid = pidfd_pid(init_pidfd);
	if (ipid <= 0 || !lj_isolate_alive(init_pidfd))
		return lj_error(e, ESRCH, "jail_attach");
	uint64_t bnd = 0;
	if (read_capbnd(ipid, &bnd, e) < 0)
		return -1;
	/* Still the same process after reading its status (a pidfd pins the number). */
	if (!lj_isolate_alive(init_pidfd))
		return lj_error(e, ESRCH, "jail_attach");

	struct user u = {0};
	if (!x->user_in_jail && (x->user || x->clean) && lookup_host(x->user, &u, e) < 0) {
		user_free(&u);
		return -1;
	}
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		user_free(&u);
		return lj_error(e, errno, "socketpair");
	}
	int cpidfd = -1;
	bool into_cg = false;
	pid_t c = lj_iso_clone(0, x->cgroup_fd, &cpidfd, &into_cg);
	if (c == 0) {
		close(sp[0]);
		c_main(init_pidfd, ipid, bnd, pol, x, &u, sp[1]);
	}
	int err = errno;
	close(sp[1]);
	user_free(&u);
	if (c < 0) {
		close(sp[0]);
		return lj_error(e, err, "fork");
	}
	if (cpidfd >= 0)
		close(cpidfd);
	pid_t g = -1;
	bool failed = false;
	if (!into_cg && x->cgroup_fd >= 0) {
		lj_autoclose int f = openat(x->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		char buf[24];
		int n = snprintf(buf, sizeof buf, "%d", (int)c);
		if (f < 0 || write(f, buf, (size_t)n) != n) {
			lj_error(e, errno, "cgroup");
			failed = true;
			kill(c, SIGKILL);
		}
	}
	if (!failed)
		lj_iso_send(sp[0], LJ_ISO_MSG_READY, 0, NULL);
	struct lj_iso_msg m;
	int r;
	while (!failed && (r = lj_iso_recv(sp[0], &m)) == 1) {
		if (m.kind == LJ_ISO_MSG_PID) {
			g = m.pid;
		} else if (m.kind == LJ_ISO_MSG_ERR) {
			e->errnum = m.errnum;
			snprintf(e->msg, sizeof e->msg, "%s", m.text);
			failed = true;
		}
	}
	close(sp[0]);
	int st;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (!failed && g <= 0) {
		lj_errorx(e, "jail_attach: the helper died");
		failed = true;
	}
	if (failed) {
		if (g > 0)
			while (waitpid(g, &st, 0) < 0 && errno == EINTR)
				;
		return -1;
	}
	if (out_pidfd) {
		*out_pidfd = pidfd_open(g, 0);
		if (*out_pidfd < 0)
			return lj_error(e, errno, "pidfd_open");
	}
	return g;
}

int lj_isolate_wait(pid_t pid, int timeout_ms, int *status, lj_err *e)
{
	if (timeout_ms >= 0) {
		lj_autoclose int fd = pidfd_open(pid, 0);
		if (fd < 0)
			return lj_error(e, errno, "pidfd_open %d", (int)pid);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r;
		while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			;
		if (r == 0)
			return 1;
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return lj_error(e, errno, "waitpid %d", (int)pid);
	}
	return 0;
}

int lj_isolate_exec(int init_pidfd, const struct lj_iso_policy *pol, const struct lj_iso_exec *x,
                    lj_err *e)
{
	pid_t pid = lj_isolate_spawn(init_pidfd, pol, x, NULL, e);
	if (pid < 0)
		return -1;
	int st;
	if (lj_isolate_wait(pid, -1, &st, e) < 0)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
