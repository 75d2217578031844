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
#include <stddef.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
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

/* The host's user database (NSS, through getent: see util). name NULL: the caller's uid. */
static int lookup_host(const char *name, struct user *u, lj_err *e)
{
	struct lj_host_user h;
	if (lj_host_user(name, &h, e) < 0)
		return -1;
	/* at most a megabyte of getent output: the count fits */
	*u = (struct user){.set = true,
	                   .uid = h.uid,
	                   .gid = h.gid,
	                   .name = h.name,
	                   .shell = h.shell,
	                   .groups = h.groups,
	                   .ngroups = (int)h.ngroups};
	u->home = *h.home ? h.home : xstrdup("/");
	if (!*h.home)
		free(h.home);
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

/* The value of key in a "K=V" vector, or NULL. */
static const char *env_get(char *const *v, const char *key)
{
	size_t n = strlen(key);
	for (; v && *v; v++)
		if (!strncmp(*v, key, n) && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

/* base: "the caller's" environment (TERM only, when clean). */
static void env_build(const struct lj_iso_exec *x, const struct user *u, char **base, lj_strv *env)
{
	if (x->clean) {
		const char *term = env_get(base, "TERM");
		if (term)
			lj_strv_addf(env, "TERM=%s", term);
		lj_strv_add(env, "PATH=" LJ_ISO_PATH);
	} else {
		for (char **p = base; p && *p; p++)
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

/* The init of an allow.mount jail lives in a user namespace of its own; a default jail's init
 * in ours (setns into one's own user namespace is EINVAL). */
static int init_userns_differs(pid_t ipid, bool *differs, lj_err *e)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/ns/user", (int)ipid);
	struct stat a, b;
	if (stat(p, &a) < 0)
		return lj_error(e, errno, "jail_attach: %s", p);
	if (stat("/proc/self/ns/user", &b) < 0)
		return lj_error(e, errno, "jail_attach: /proc/self/ns/user");
	*differs = a.st_dev != b.st_dev || a.st_ino != b.st_ino;
	return 0;
}

static int join_namespaces(int pidfd, pid_t ipid, lj_err *e)
{
	bool userns = false;
	if (init_userns_differs(ipid, &userns, e) < 0)
		return -1;
	/* Through the pidfd the kernel checks every namespace with the caller's credentials (the
	 * host's root: allowed into all of them) and switches them at once. */
	const int all = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID |
	                CLONE_NEWCGROUP | (userns ? CLONE_NEWUSER : 0);
	if (!lj_iso_fault("isolate-setns-pidfd") && setns(pidfd, all) == 0)
		return 0;
	/* Before 5.8: one fd per namespace, all opened first (paths stop resolving after mnt), in
	 * nsenter's order, but the user namespace last: the PID, UTS, IPC, cgroup (and, without
	 * vnet, network) namespaces belong to the host's user namespace, and joining them needs
	 * CAP_SYS_ADMIN there, which a process that joined the jail's user namespace has lost. */
	static const struct {
		const char *name;
		int flag;
	} ns[] = {{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
	          {"net", CLONE_NEWNET},       {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
	          {"user", CLONE_NEWUSER}};
	int fds[LJ_ARRAY_LEN(ns)];
	size_t n = LJ_ARRAY_LEN(ns) - (userns ? 0 : 1);
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)ipid, ns[i].name);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			return lj_error(e, errno, "jail_attach: %s", p);
	}
	if (!lj_isolate_alive(pidfd))
		return lj_error(e, ESRCH, "jail_attach");
	for (size_t i = 0; i < n; i++) {
		if (setns(fds[i], ns[i].flag) < 0)
			return lj_error(e, errno, "jail_attach: setns %s", ns[i].name);
		close(fds[i]);
	}
	return 0;
}

static int become_user(const struct user *u, uint64_t bnd, lj_err *e)
{
	if (u->set && u->uid != 0) {
		if (setgroups((size_t)u->ngroups, u->groups) < 0)
			return lj_error(e, errno, "setgroups");
		if (setgid(u->gid) < 0)
			return lj_error(e, errno, "setgid");
		if (setuid(u->uid) < 0)
			return lj_error(e, errno, "setusercontext");
		return 0;
	}
	gid_t g = u->set ? u->gid : 0;
	if (setgroups(u->set ? (size_t)u->ngroups : 0, u->set ? u->groups : NULL) < 0 ||
	    setgid(g) < 0)
		return lj_error(e, errno, "setgid");
	return lj_iso_caps_cut(bnd, e); /* the bounds are bnd already */
}

/* tag: the .id of an error message (the launch request's id; 0 for spawn). */
static _Noreturn void g_main(const struct lj_iso_exec *x, char **envp, int sock, uint32_t tag)
{
	lj_err e = {0};
	int fds[3] = {x->stdin_fd, x->stdout_fd, x->stderr_fd};
	/* An fd already at 0..2 (the init of a root without /dev/null has them closed, so passed
	 * fds land there, close-on-exec): move the misplaced ones out of the way first, and keep
	 * one in place across the exec. */
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fds[i] < 3 && fds[i] != i &&
		    (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0) {
			lj_error(&e, errno, "dup");
			goto fail;
		}
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		if (fds[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(fds[i], i) < 0) {
			lj_error(&e, errno, "dup2");
			goto fail;
		}
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
fail:;
	struct lj_iso_msg m = {.kind = LJ_ISO_MSG_ERR, .errnum = e.errnum, .id = (int32_t)tag};
	snprintf(m.text, sizeof m.text, "%s", e.msg);
	while (send(sock, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
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
	if (become_user(u, bnd, &e) < 0)
		goto fail;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	const char *dir = x->dir ? x->dir : (x->login_dir && u->set ? u->home : "/");
	if (chdir(dir) < 0) {
		lj_error(&e, errno, "chdir: %s", dir);
		goto fail;
	}
	lj_strv env = {0};
	env_build(x, u, environ, &env);
	if (!env.v)
		lj_strv_add(&env, "PATH=" LJ_ISO_PATH);

	pid_t g = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL,
	                         NULL, NULL);
	if (g == 0)
		g_main(x, env.v, sock, 0);
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
	/* the compiled filter from the run directory: the helper then only loads it */
	lj_iso_seccomp_prepare(pol, NULL);
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

/* ---- commands through the jail's init (the control channel) ---------------------------------
 * lj_isolate_launch sends one LAUNCH request: struct lj_iso_req, struct lj_iso_launch_hdr, then
 * NUL-terminated strings: user, dir, argv..., base environment..., env...; SCM_RIGHTS: stdin,
 * stdout, stderr. The base environment is the caller's (only TERM when clean): the init has none
 * of its own. */

static const char *next_str(const char **p, const char *end)
{
	const char *s = *p;
	const char *z = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;
	if (!z)
		return NULL;
	*p = z + 1;
	return s;
}

/* A LAUNCH request taken apart; the strings point into the request. */
struct launch_req {
	struct lj_iso_launch_hdr h;
	const char *user, *dir;
	char **argv, **env, **base;
};

static void launch_req_free(struct launch_req *r)
{
	free(r->argv);
	free(r->env);
	free(r->base);
	r->argv = r->env = r->base = NULL;
}

static int launch_req_parse(const char *req, size_t n, struct launch_req *r)
{
	memset(r, 0, sizeof *r);
	const char *p = req + sizeof r->h, *end = req + n;
	if (n < sizeof r->h)
		return -1;
	memcpy(&r->h, req, sizeof r->h);
	const struct lj_iso_launch_hdr *h = &r->h;
	r->user = h->flags & LF_USER ? next_str(&p, end) : NULL;
	r->dir = h->flags & LF_DIR ? next_str(&p, end) : NULL;
	if (h->argc > 65536 || h->envc > 65536 || h->basec > 65536)
		return -1;
	r->argv = calloc((size_t)h->argc + 1, sizeof *r->argv);
	r->env = calloc((size_t)h->envc + 1, sizeof *r->env);
	r->base = calloc((size_t)h->basec + 1, sizeof *r->base);
	bool ok = r->argv && r->env && r->base && (!(h->flags & LF_USER) || r->user) &&
	          (!(h->flags & LF_DIR) || r->dir);
	for (uint32_t i = 0; ok && i < h->argc; i++)
		ok = (r->argv[i] = (char *)next_str(&p, end)) != NULL;
	for (uint32_t i = 0; ok && i < h->basec; i++)
		ok = (r->base[i] = (char *)next_str(&p, end)) != NULL;
	for (uint32_t i = 0; ok && i < h->envc; i++)
		ok = (r->env[i] = (char *)next_str(&p, end)) != NULL;
	if (!ok || ((h->flags & LF_ARGV) && !r->argv[0])) {
		launch_req_free(r);
		return -1;
	}
	return 0;
}

static struct lj_iso_exec launch_req_exec(const struct launch_req *r, const int fds[3])
{
	return (struct lj_iso_exec){
	        .argv = r->h.flags & LF_ARGV ? r->argv : NULL,
	        .env = r->h.envc ? r->env : NULL,
	        .clean = r->h.flags & LF_CLEAN,
	        .user = r->user,
	        .user_in_jail = true,
	        .dir = r->dir,
	        .login_dir = r->h.flags & LF_LOGIN_DIR,
	        .stdin_fd = fds[0],
	        .stdout_fd = fds[1],
	        .stderr_fd = fds[2],
	        .cgroup_fd = -1,
	        .builtin = (int (*)(int, char **))(uintptr_t)r->h.builtin,
	};
}

_Noreturn void lj_iso_launch_child(const char *req, size_t n, const int fds[3], int errsock,
                                   uint32_t id, uint64_t bnd)
{
	lj_err e = {0};
	prctl(PR_SET_NAME, "ljail-launch", 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	struct launch_req r;
	if (launch_req_parse(req, n, &r) < 0) {
		lj_errorx(&e, "jail_attach: bad launch request");
		goto fail;
	}
	struct lj_iso_exec x = launch_req_exec(&r, fds);
	struct user u = {0};
	if (x.user && lookup_jail(x.user, &u, &e) < 0)
		goto fail;
	if (!u.set && x.clean && lookup_jail(NULL, &u, &e) < 0)
		goto fail;
	/* The init's bounds (bnd) and filter are already ours: it took them before forking us.
	 * become_user gives what lj_isolate_spawn's G gets: root with permitted = effective = the
	 * bounds and no supplementary groups, or the user with none. */
	if (become_user(&u, bnd, &e) < 0)
		goto fail;
	const char *cwd = x.dir ? x.dir : (x.login_dir && u.set ? u.home : "/");
	if (chdir(cwd) < 0) {
		lj_error(&e, errno, "chdir: %s", cwd);
		goto fail;
	}
	lj_strv envv = {0};
	env_build(&x, &u, r.base, &envv);
	if (!envv.v)
		lj_strv_add(&envv, "PATH=" LJ_ISO_PATH);
	g_main(&x, envv.v, errsock, id);
fail:;
	struct lj_iso_msg m = {.kind = LJ_ISO_MSG_ERR, .errnum = e.errnum, .id = (int32_t)id};
	snprintf(m.text, sizeof m.text, "%s", e.msg);
	while (send(errsock, &m, sizeof m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	_exit(1);
}

/* ---- the common LAUNCH: root, no lookup, an exec (the vfork way) -----------------------------
 * The command shares the init's memory until its execve (CLONE_VM | CLONE_VFORK, on a stack of
 * its own; the init waits meanwhile): no page tables copied, no copy-on-write faults on either
 * side. Everything that allocates (parsing, the environment) is done by the init beforehand, and
 * the child only makes syscalls on what it is given: no malloc, no stdio, no global but environ,
 * which the init puts back. Credentials, the signal table and fds are the child's own (no
 * CLONE_SIGHAND/CLONE_FILES). Not for a user lookup (reading the jail's files must never block
 * the init) nor a builtin (it runs on, in the init's memory). */
struct vlaunch {
	char *const *argv;
	char **envp;
	const char *dir;
	const char *what; /* "execvp" or "execlp" (the shell) */
	int fds[3];
	uint32_t id;
	uint64_t bnd;
	struct lj_iso_msg *err; /* the init's: what failed before the execve */
};

/* The child runs on a stack of its own in the init's memory: AddressSanitizer (a sanitizer
 * build) would take that for a stack overflow and warn; nothing here is worth its checks. */
#define LJ_NO_ASAN __attribute__((no_sanitize("address")))

LJ_NO_ASAN static _Noreturn void vlaunch_fail(const struct vlaunch *v, int code, int err,
                                              const char *what, const char *arg)
{
	struct lj_iso_msg *m = v->err;
	*m = (struct lj_iso_msg){.kind = LJ_ISO_MSG_ERR, .errnum = err, .id = (int32_t)v->id};
	const char *d = strerrordesc_np(err);
	if (arg)
		snprintf(m->text, sizeof m->text, "%s: %s: %s", what, arg, d ? d : "error");
	else
		snprintf(m->text, sizeof m->text, "%s: %s", what, d ? d : "error");
	_exit(code);
}

LJ_NO_ASAN static int vlaunch_main(void *arg)
{
	const struct vlaunch *v = arg;
	prctl(PR_SET_NAME, "ljail-launch", 0, 0, 0);
	/* root as become_user makes it: no supplementary groups, gid 0, permitted = effective =
	 * the bounds (the init's own already; its inheritable and ambient sets are empty). Raw
	 * syscalls: glibc's set*id would signal the init's other threads, if it had any. */
	if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setgid, 0) < 0)
		vlaunch_fail(v, 1, errno, "setgid", NULL);
	struct __user_cap_header_struct ch = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct cd[2] = {
	        {.effective = (uint32_t)v->bnd, .permitted = (uint32_t)v->bnd},
	        {.effective = (uint32_t)(v->bnd >> 32), .permitted = (uint32_t)(v->bnd >> 32)}};
	if (syscall(SYS_capset, &ch, cd) < 0)
		vlaunch_fail(v, 1, errno, "cap_set_proc", NULL);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		vlaunch_fail(v, 1, errno, "ambient capabilities", NULL);
	if (chdir(v->dir) < 0)
		vlaunch_fail(v, 1, errno, "chdir", v->dir);
	/* stdio as g_main sets it up */
	int fds[3] = {v->fds[0], v->fds[1], v->fds[2]};
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0 && fds[i] < 3 && fds[i] != i &&
		    (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
			vlaunch_fail(v, 126, errno, "dup", NULL);
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		if (fds[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(fds[i], i) < 0)
			vlaunch_fail(v, 126, errno, "dup2", NULL);
	}
	/* a clean signal state: defaults first, then nothing blocked (the init blocks all) */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* No host descriptor survives the exec (CVE-2024-21626); the socket closes with it. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	environ = v->envp; /* execvp's PATH; the init restores its own */
	execvp(v->argv[0], v->argv);
	int err = errno;
	vlaunch_fail(v, err == ENOENT ? 127 : 126, err, v->what, v->argv[0]);
}

pid_t lj_iso_launch_vfork(const char *req, size_t n, const int fds[3], uint32_t id, uint64_t bnd,
                          bool *quiet, struct lj_iso_msg *fail)
{
	fail->kind = 0;
	struct launch_req r;
	if (launch_req_parse(req, n, &r) < 0)
		return 0;
	*quiet = r.h.flags & LF_QUIET;
	struct lj_iso_exec x = launch_req_exec(&r, fds);
	if (x.user || x.clean || x.builtin) {
		launch_req_free(&r);
		return 0;
	}
	struct user u = {0};
	lj_strv envv = {0};
	env_build(&x, &u, r.base, &envv);
	if (!envv.v)
		lj_strv_add(&envv, "PATH=" LJ_ISO_PATH);
	char *sh[3] = {NULL, "-i", NULL};
	struct vlaunch v = {
	        .argv = x.argv,
	        .envp = envv.v,
	        .dir = x.dir ? x.dir : "/",
	        .what = "execvp",
	        .fds = {fds[0], fds[1], fds[2]},
	        .id = id,
	        .bnd = bnd,
	        .err = fail,
	};
	if (!x.argv) {
		const char *shell = env_get(envv.v, "SHELL");
		sh[0] = (char *)(shell && *shell ? shell : "/bin/sh");
		v.argv = sh;
		v.what = "execlp";
	}
	/* room for execvp's PATH buffer and its script fallback's argv (on the stack) */
	size_t stack = ((512u << 10) + n + 8 * (size_t)r.h.argc + 65535) & ~(size_t)65535;
	void *st = mmap(NULL, stack, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	pid_t pid = -1;
	int err = errno;
	if (st != MAP_FAILED) {
		char **saved = environ;
		pid = clone(vlaunch_main, (char *)st + stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &v);
		err = errno;
		environ = saved;
		munmap(st, stack);
	}
	lj_strv_free(&envv);
	launch_req_free(&r);
	errno = err;
	return pid;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int lj_iso_ctl_wait(int ctlfd, unsigned kinds, uint32_t id, int timeout_ms, struct lj_iso_msg *m,
                    int *fd)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (fd)
		*fd = -1;
	for (;;) {
		int wait = -1;
		if (timeout_ms >= 0) {
			long spent = ms_since(&t0);
			wait = spent >= timeout_ms ? 0 : (int)(timeout_ms - spent);
		}
		struct pollfd pf = {.fd = ctlfd, .events = POLLIN};
		int pr = poll(&pf, 1, wait);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -1;
		if (pr == 0)
			return 0;
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} cb;
		struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
		struct msghdr mh = {.msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = cb.b,
		                    .msg_controllen = sizeof cb.b};
		ssize_t n = recvmsg(ctlfd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		/* ECONNRESET: the init exited with a request of ours unread (a COMMIT that crossed
		 * its last answer); said once, and what it sent before is still to be read */
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNRESET))
			continue;
		if (n <= 0)
			return -1;
		int passed = -1;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&passed, CMSG_DATA(cm), sizeof passed);
		if ((size_t)n < sizeof *m)
			m->text[(size_t)n > offsetof(struct lj_iso_msg, text)
			                ? (size_t)n - offsetof(struct lj_iso_msg, text)
			                : 0] = '\0';
		m->text[sizeof m->text - 1] = '\0';
		bool mine = (size_t)n >= offsetof(struct lj_iso_msg, text) &&
		            (uint32_t)m->id == id && m->kind >= 0 && m->kind < 32 &&
		            ((kinds & LJ_ISO_KIND(m->kind)) || m->kind == LJ_ISO_MSG_ERR);
		if (!mine) {
			if (passed >= 0)
				close(passed);
			continue;
		}
		if (fd)
			*fd = passed;
		else if (passed >= 0)
			close(passed);
		return 1;
	}
}

static int send_launch(int fd, uint32_t id, const struct lj_iso_exec *x, bool quiet, lj_err *e)
{
	struct lj_iso_req rq = {.kind = LJ_ISO_REQ_LAUNCH, .id = id};
	struct lj_iso_launch_hdr h = {.builtin = (uint64_t)(uintptr_t)x->builtin};
	lj_buf b = {0};
	lj_buf_add(&b, (const char *)&rq, sizeof rq);
	lj_buf_add(&b, (const char *)&h, sizeof h); /* placeholder, rewritten below */
	if (quiet)
		h.flags |= LF_QUIET;
	if (x->init_exits)
		h.flags |= LF_LAST;
	if (x->clean)
		h.flags |= LF_CLEAN;
	if (x->login_dir)
		h.flags |= LF_LOGIN_DIR;
	if (x->user) {
		h.flags |= LF_USER;
		lj_buf_add(&b, x->user, strlen(x->user) + 1);
	}
	if (x->dir) {
		h.flags |= LF_DIR;
		lj_buf_add(&b, x->dir, strlen(x->dir) + 1);
	}
	if (x->argv) {
		h.flags |= LF_ARGV;
		for (char *const *a = x->argv; *a; a++, h.argc++)
			lj_buf_add(&b, *a, strlen(*a) + 1);
	}
	for (char **a = environ; a && *a; a++) {
		if (x->clean && !lj_startswith(*a, "TERM="))
			continue;
		lj_buf_add(&b, *a, strlen(*a) + 1);
		h.basec++;
	}
	for (char *const *a = x->env; a && *a; a++, h.envc++)
		lj_buf_add(&b, *a, strlen(*a) + 1);
	memcpy(b.s + sizeof rq, &h, sizeof h);
	if (b.len > LJ_ISO_REQ_MAX) {
		lj_buf_free(&b);
		return lj_error(e, E2BIG, "jail_attach");
	}
	int want[3] = {x->stdin_fd, x->stdout_fd, x->stderr_fd}, fds[3], nullfd = -1;
	for (int i = 0; i < 3; i++) {
		fds[i] = want[i] >= 0 ? want[i] : i;
		if (fcntl(fds[i], F_GETFD) < 0) { /* a closed stdio: the command gets /dev/null */
			if (nullfd < 0)
				nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
			fds[i] = nullfd;
		}
	}
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof fds)];
	} c;
	memset(&c, 0, sizeof c);
	struct iovec iov = {.iov_base = b.s, .iov_len = b.len};
	struct msghdr mh = {
	        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	ssize_t r;
	do
		r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	int err = errno;
	if (nullfd >= 0)
		close(nullfd);
	lj_buf_free(&b);
	if (r < 0)
		return lj_error(e, err == EPIPE || err == ECONNRESET ? ESRCH : err, "jail_attach");
	return 0;
}

static void copy_err(lj_err *e, const struct lj_iso_msg *m)
{
	e->errnum = m->errnum;
	snprintf(e->msg, sizeof e->msg, "%s", m->text);
}

int lj_isolate_launch_send(int ctlfd, const struct lj_iso_exec *x, bool bg, uint32_t *id, lj_err *e)
{
	static uint32_t seq;
	*id = ++seq | 0x80000000u; /* apart from lj_isolate_control_persist's ids */
	if (ctlfd < 0)
		return lj_error(e, EBADF, "jail_attach: no control channel");
	if ((x->argv && !x->argv[0]) || (!x->user_in_jail && (x->user || x->clean)))
		return lj_errorx(e,
		                 x->argv && !x->argv[0] ? "no command" : "jail_attach: host user");
	return send_launch(ctlfd, *id, x, !bg, e);
}

int lj_isolate_launch(int ctlfd, const struct lj_iso_exec *x, bool bg, int timeout_ms, int *status,
                      lj_err *e)
{
	uint32_t id;
	if (lj_isolate_launch_send(ctlfd, x, bg, &id, e) < 0)
		return -1;
	return lj_isolate_launch_wait(ctlfd, x, id, bg, timeout_ms, status, e);
}

int lj_isolate_launch_wait(int ctlfd, const struct lj_iso_exec *x, uint32_t id, bool bg,
                           int timeout_ms, int *status, lj_err *e)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct lj_iso_msg m;
	int errfd = -1;
	/* The pid (or the init's own failure; it answers at once), or, in the foreground, maybe
	 * straight the status (LF_QUIET): then the wait is the command's, with its timeout. */
	unsigned kinds = LJ_ISO_KIND(LJ_ISO_MSG_PID) | (bg ? 0 : LJ_ISO_KIND(LJ_ISO_MSG_STATUS));
	int r = lj_iso_ctl_wait(ctlfd, kinds, id, bg ? -1 : timeout_ms, &m, &errfd);
	if (r < 0)
		return lj_error(e, ESRCH, "jail_attach");
	if (r == 1 && m.kind == LJ_ISO_MSG_ERR) {
		if (errfd >= 0)
			close(errfd);
		copy_err(e, &m);
		return -1;
	}
	bool failed = false;
	if (r == 1 && m.kind == LJ_ISO_MSG_PID) {
		/* up to the command's execve: an error, or EOF once it exec'd (none: it has) */
		if (errfd >= 0) {
			struct lj_iso_msg em;
			if (lj_iso_recv(errfd, &em) == 1 && em.kind == LJ_ISO_MSG_ERR) {
				copy_err(e, &em);
				failed = true;
			}
			close(errfd);
		}
		if (bg)
			return failed ? -1 : 0; /* the init reaps it; its status is dropped */
		long left = -1;
		if (timeout_ms >= 0) {
			left = timeout_ms - ms_since(&t0);
			if (left < 0)
				left = 0;
		}
		r = lj_iso_ctl_wait(ctlfd, LJ_ISO_KIND(LJ_ISO_MSG_STATUS), id, (int)left, &m, NULL);
	} else if (errfd >= 0) {
		close(errfd);
	}
	int rc = 0;
	if (r == 0) {
		/* exec.timeout: the init kills it and reports it reaped */
		struct lj_iso_req rq = {.kind = LJ_ISO_REQ_KILL, .id = id, .arg = SIGKILL};
		while (send(ctlfd, &rq, sizeof rq, MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
		r = lj_iso_ctl_wait(ctlfd, LJ_ISO_KIND(LJ_ISO_MSG_STATUS), id, -1, &m, NULL);
		rc = 1;
	}
	if (r != 1 || m.kind != LJ_ISO_MSG_STATUS) {
		if (!failed && r == 1 && m.kind == LJ_ISO_MSG_ERR)
			copy_err(e, &m);
		else if (!failed)
			lj_errorx(e, "jail_attach: the jail's init died");
		return -1;
	}
	*status = m.pid;
	if (x->init_exits)
		*x->init_exits = m.errnum == LJ_ISO_STATUS_INIT_EXITS;
	return failed ? -1 : rc;
}
