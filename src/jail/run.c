/* Running exec.* commands for a jail, on the host or inside it, as FreeBSD's jail(8) does:
 * a string with shell metacharacters goes to /bin/sh -c, a trailing lone '&' runs it in the
 * background, anything else is split on whitespace and exec'd. Host-side ifconfig/route lines
 * run in-process (net module). Waiting uses a pidfd and poll, so exec.timeout needs no sleeps. */
#include "jail/jailp.h"
#include "cgroup/cgroup.h"
#include "isolate/isolate.h"
#include "net/net.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h> /* setgroups */
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void jx_warn(const struct jx *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lj_buf b = {0};
	lj_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (j && j->msgname)
		fprintf(stderr, "jail: %s: %s\n", j->msgname, lj_buf_str(&b));
	else
		fprintf(stderr, "jail: %s\n", lj_buf_str(&b));
	lj_buf_free(&b);
}

void jx_note(const struct jx *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (j->msgname)
		printf("%s: ", j->msgname);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

const lj_strv *jx_list(const struct jx *j, const char *name)
{
	const struct jc_param *p = jc_find(j->cj, name);
	if (!p || p->values.n == 0)
		return NULL;
	return &p->values;
}

const char *jx_str(const struct jx *j, const char *name)
{
	return jc_str(j->cj, name);
}

bool jx_bool(const struct jx *j, const char *name, bool dflt)
{
	return jc_bool(j->cj, name, dflt);
}

bool jx_fault(const struct jx *j, const char *step)
{
#if LJAIL_FAULT_INJECTION
	const char *f = getenv("LJAIL_FAIL_STEP");
	if (f && strcmp(f, step) == 0) {
		jx_warn(j, "%s: failed (LJAIL_FAIL_STEP)", step);
		return true;
	}
#else
	(void)j;
	(void)step;
#endif
	return false;
}

/* ---- building argv -------------------------------------------------------------------------- */

/* FreeBSD's rule: any of these characters means a shell is needed, unless the only one is a
 * trailing '&' (background). */
static const char shell_chars[] = "!\"$&'()*;<>?[\\]`{|}~";

void jx_split_command(const char *cmd, lj_strv *argv, bool *bg)
{
	*bg = false;
	const char *cs = strpbrk(cmd, shell_chars);
	if (cs && !(cs[0] == '&' && cs[1] == '\0')) {
		lj_strv_add(argv, "/bin/sh");
		lj_strv_add(argv, "-c");
		lj_strv_add(argv, cmd);
		return;
	}
	lj_autofree char *copy = xstrdup(cmd);
	if (cs) {
		copy[cs - cmd] = '\0';
		*bg = true;
	}
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t\f\v\r\n", &save); t;
	     t = strtok_r(NULL, " \t\f\v\r\n", &save))
		lj_strv_add(argv, t);
}

/* ---- running -------------------------------------------------------------------------------- */

static long exec_timeout_ms(const struct jx *j)
{
	const char *t = jx_str(j, "exec.timeout");
	int64_t v;
	if (t && lj_parse_i64(t, &v) && v > 0)
		return (long)(v * 1000);
	return -1;
}

/* only_jail: just JID, JNAME, JPATH (isolate adds them to the caller's environment). */
static void set_jail_env(lj_strv *env, const struct jx *j, bool clean, const struct lj_host_user *u,
                         bool only_jail)
{
	if (clean) {
		const char *term = getenv("TERM");
		if (term)
			lj_strv_addf(env, "TERM=%s", term);
		lj_strv_add(env, "PATH=/bin:/usr/bin");
		if (u) {
			lj_strv_addf(env, "HOME=%s", u->home);
			lj_strv_addf(env, "SHELL=%s", u->shell);
			lj_strv_addf(env, "USER=%s", u->name);
		}
		return;
	}
	for (char **e = environ; !only_jail && *e; e++) {
		if (lj_startswith(*e, "JID=") || lj_startswith(*e, "JNAME=") ||
		    lj_startswith(*e, "JPATH="))
			continue;
		if (u && (lj_startswith(*e, "USER=") || lj_startswith(*e, "HOME=") ||
		          lj_startswith(*e, "SHELL=")))
			continue;
		lj_strv_add(env, *e);
	}
	if (u && !only_jail) {
		lj_strv_addf(env, "HOME=%s", u->home);
		lj_strv_addf(env, "SHELL=%s", u->shell);
		lj_strv_addf(env, "USER=%s", u->name);
	}
	if (j->jid > 0)
		lj_strv_addf(env, "JID=%d", j->jid);
	if (j->name)
		lj_strv_addf(env, "JNAME=%s", j->name);
	const char *path = jx_str(j, "path");
	lj_strv_addf(env, "JPATH=%s", path ? path : "/");
}

/* Wait for pid (our child) up to timeout_ms (-1: forever). 0 = exited (status in *st),
 * 1 = timed out (killed). */
static int wait_child(pid_t pid, long timeout_ms, int *st)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0 && timeout_ms >= 0) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long left = timeout_ms - ((now.tv_sec - t0.tv_sec) * 1000 +
			                          (now.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0) {
				syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
				kill(-pid, SIGKILL);
				close(pfd);
				while (waitpid(pid, st, 0) < 0 && errno == EINTR)
					;
				return 1;
			}
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			int r = poll(&p, 1, (int)left);
			if (r > 0)
				break;
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, st, 0) < 0) {
		if (errno != EINTR) {
			*st = 0;
			break;
		}
	}
	return 0;
}

static char *argv_line(char **argv)
{
	lj_buf b = {0};
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			lj_buf_addc(&b, ' ');
		lj_buf_adds(&b, argv[i]);
	}
	return lj_buf_steal(&b);
}

/* In the forked child: become the user, then run the builtin (ifconfig, route: ljail's own, no
 * program needed; here only with a user to become or exec.timeout to enforce, else run_argv runs
 * it in jail(8) itself) or exec the program. */
static void child_exec_host(char **argv, char **envp, const struct lj_host_user *u, bool bg,
                            lj_net_main_fn builtin)
{
	if (bg)
		setsid();
	if (u) {
		if (setgroups(u->ngroups, u->groups) < 0 || setgid(u->gid) < 0 ||
		    setuid(u->uid) < 0) {
			fprintf(stderr, "jail: setuid %s: %s\n", u->name, strerror(errno));
			_exit(1);
		}
		if (u->home && chdir(u->home) < 0) {
			/* as FreeBSD: the home directory is best effort */
		}
	}
	environ = envp;
	if (builtin) {
		int argc = 0;
		while (argv[argc])
			argc++;
		optind = 0;
		int st = builtin(argc, argv);
		fflush(stdout);
		fflush(stderr);
		_exit(st & 0xff);
	}
	execvp(argv[0], argv);
	fprintf(stderr, "jail: exec %s: %s\n", argv[0], strerror(errno));
	_exit(1);
}

/* A builtin run in jail(8) itself (its own getopt state kept); status is its exit code. */
struct builtin_call {
	lj_net_main_fn fn;
	char **argv;
	int status;
	bool ran;
};

static int call_builtin(void *arg)
{
	struct builtin_call *c = arg;
	int argc = 0;
	while (c->argv[argc])
		argc++;
	int saved = optind;
	optind = 0;
	c->status = c->fn(argc, c->argv);
	optind = saved;
	c->ran = true;
	fflush(stdout);
	fflush(stderr);
	return 0;
}

static int check_status(struct jx *j, const char *line, bool timedout, int st, bool bg)
{
	if (timedout) {
		jx_warn(j, "%s: timed out", line);
		return -1;
	} else if (!bg && WIFSIGNALED(st)) {
		jx_warn(j, "%s: exited on signal %d", line, WTERMSIG(st));
		return -1;
	} else if (!bg && (!WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		jx_warn(j, "%s: failed", line);
		return -1;
	}
	return 0;
}

/* ljail's own ifconfig, route or netstat in a VNET jail whose root may configure its network:
 * netlink calls in the jail's network namespace, the only part of the jail they touch (no file,
 * no name lookup). jail(8) enters that namespace and runs the line itself instead of the init
 * forking a child for it: the fork of the init, its copy-on-write faults and exit cost more
 * than the line (one exec.start line per tutorial-style jail). Other jails, a user to become,
 * a timeout or a console log keep the child. Returns -2 when the line is not for here. */
static int try_builtin_in_jail(struct jx *j, const char *line, char **argv, lj_net_main_fn fn)
{
	struct lj_iso_policy pol;
	lj_isolate_policy_init(&pol);
	if (lj_isolate_policy_from_params(&j->rec.params, &pol, NULL) < 0 ||
	    !(lj_isolate_caps(&pol) & (UINT64_C(1) << CAP_NET_ADMIN)))
		return -2;
	lj_autoclose int netns = jx_netns_fd(j);
	if (netns < 0)
		return -2;
	struct builtin_call c = {.fn = fn, .argv = argv};
	lj_err e;
	fflush(stdout);
	fflush(stderr);
	if (lj_net_in_netns(netns, call_builtin, &c, &e) < 0) {
		if (c.ran) { /* no way back: jail(8) must not go on in the jail's namespace */
			fprintf(stderr, "jail: %s\n", e.msg);
			_exit(1);
		}
		jx_warn(j, "%s: %s", line, e.msg);
		return -1;
	}
	return check_status(j, line, false, W_EXITCODE(c.status & 0xff, 0), false);
}

/* The lj_iso_exec of an in-jail command (env: the JID, JNAME, JPATH it adds; the caller frees
 * it after the launch). */
static void jail_exec(const struct jx *j, char **argv, int consfd, lj_net_main_fn builtin,
                      lj_strv *env, struct lj_iso_exec *x)
{
	bool clean = jx_bool(j, "exec.clean", false);
	if (!clean)
		set_jail_env(env, j, false, NULL, true);
	*x = (struct lj_iso_exec){
	        .argv = argv,
	        .env = clean ? NULL : env->v,
	        .clean = clean,
	        .user = jx_str(j, "exec.jail_user"),
	        .user_in_jail = !jx_bool(j, "exec.system_jail_user", false),
	        .login_dir = clean,
	        .stdin_fd = -1,
	        .stdout_fd = consfd,
	        .stderr_fd = consfd,
	        .cgroup_fd = j->cg ? lj_cg_v2_fd(j->cg) : -1,
	        .follow_init_cgroups = true,
	        .builtin = builtin,
	};
}

/* The creating jail(8) runs its commands through the jail's init: it is inside already (no
 * helper, no cgroup moves, no setns). A host user needs the host's user database, and a
 * terminal on stdin wants the command in our session (job control, ^C): those take
 * lj_isolate_spawn. */
static bool by_init(const struct lj_iso_exec *x)
{
	bool host_user = !x->user_in_jail && (x->user || x->clean);
	return !host_user && !isatty(STDIN_FILENO);
}

bool jx_launch_early(struct jx *j, int ctlfd, char **argv, bool last)
{
	j->early_sent = false;
	if (!argv[0] || lj_net_builtin(argv[0]) || jx_str(j, "exec.consolelog"))
		return false;
	lj_strv env = {0};
	struct lj_iso_exec x;
	jail_exec(j, argv, -1, NULL, &env, &x);
	if (by_init(&x)) {
		lj_err e;
		x.init_exits = last ? &j->init_exits : NULL;
		fflush(stdout);
		fflush(stderr);
		j->early_sent = lj_isolate_launch_send(ctlfd, &x, false, &j->early_id, &e) == 0;
	}
	lj_strv_free(&env);
	return j->early_sent;
}

static int run_argv(struct jx *j, const char *step, char **argv, bool injail, bool bg)
{
	if (!argv[0])
		return 0;
	bool clean = jx_bool(j, "exec.clean", false);
	const char *uname = jx_str(j, injail ? "exec.jail_user" : "exec.system_user");
	lj_autofree char *line = argv_line(argv);

	if (j->req->verbose)
		jx_note(j, "run command%s%s%s: %s\n", injail ? " in jail" : "", uname ? " as " : "",
		        uname ? uname : "", line);

	struct lj_host_user u = {0};
	bool have_user = false;
	if (!injail && (clean || uname)) {
		lj_err e;
		if (lj_host_user(uname, &u, &e) < 0) {
			jx_warn(j, "%s", e.msg);
			return -1;
		}
		have_user = true;
	}
	lj_net_main_fn builtin = bg ? NULL : lj_net_builtin(argv[0]);
	/* ljail's own ifconfig, route, netstat on the host: a few netlink calls that return (they
	 * never exit), run right here; a fork of jail(8) per line cost more than the line itself
	 * (two per tutorial-style vnet jail). A user to become or a timeout to enforce keeps the
	 * child. */
	bool here = !injail && builtin && !have_user && exec_timeout_ms(j) < 0;
	lj_strv env = {0};
	if (injail && builtin && !uname && !clean && exec_timeout_ms(j) < 0 &&
	    !jx_str(j, "exec.consolelog")) {
		int r = try_builtin_in_jail(j, line, argv, builtin);
		if (r != -2)
			return r;
	}
	if (!injail && !here)
		set_jail_env(&env, j, clean, have_user ? &u : NULL, false);

	int consfd = -1;
	const char *conslog = injail ? jx_str(j, "exec.consolelog") : NULL;
	if (conslog) {
		if (conslog[0] != '/') {
			jx_warn(j, "exec.consolelog: %s: not an absolute pathname", conslog);
			lj_strv_free(&env);
			lj_host_user_free(&u);
			return -1;
		}
		consfd = open(conslog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (consfd < 0) {
			jx_warn(j, "open %s: %s", conslog, strerror(errno));
			lj_strv_free(&env);
			lj_host_user_free(&u);
			return -1;
		}
	}

	int rc = 0;
	fflush(stdout);
	fflush(stderr);
	pid_t pid;
	if (injail) {
		if (j->pidfd < 0) {
			jx_warn(j, "%s: the jail is not running", line);
			rc = -1;
			goto out;
		}
		struct lj_iso_policy pol;
		lj_err e;
		lj_isolate_policy_init(&pol);
		if (lj_isolate_policy_from_params(&j->rec.params, &pol, &e) < 0) {
			jx_warn(j, "%s", e.msg);
			rc = -1;
			goto out;
		}
		lj_strv add = {0};
		struct lj_iso_exec x;
		jail_exec(j, argv, consfd, builtin, &add, &x);
		if (j->launchfd >= 0 && by_init(&x)) {
			int st = 0;
			if (j->last_launch && !bg)
				x.init_exits = &j->init_exits;
			int tmo = bg ? -1 : (int)exec_timeout_ms(j);
			/* the first command line may be on its way already (jx_launch_early) */
			int r = j->early_sent
			                ? lj_isolate_launch_wait(j->launchfd, &x, j->early_id, bg,
			                                         tmo, &st, &e)
			                : lj_isolate_launch(j->launchfd, &x, bg, tmo, &st, &e);
			j->early_sent = false;
			j->persist_off = x.init_exits && r >= 0;
			lj_strv_free(&add);
			if (r < 0) {
				jx_warn(j, "%s", e.msg);
				rc = -1;
			} else {
				rc = check_status(j, line, r == 1, st, bg);
			}
			goto out;
		}
		pid = lj_isolate_spawn(j->pidfd, &pol, &x, NULL, &e);
		lj_strv_free(&add);
		if (pid < 0) {
			jx_warn(j, "%s", e.msg);
			rc = -1;
			goto out;
		}
	} else if (here) {
		struct builtin_call c = {.fn = builtin, .argv = argv};
		call_builtin(&c);
		rc = check_status(j, line, false, W_EXITCODE(c.status & 0xff, 0), false);
		goto out;
	} else {
		pid = fork();
		if (pid < 0) {
			jx_warn(j, "fork: %s", strerror(errno));
			rc = -1;
			goto out;
		}
		if (pid == 0) {
			if (bg && fork() > 0)
				_exit(0); /* the background command is not ours to wait for */
			child_exec_host(argv, env.v, have_user && uname ? &u : NULL, bg, builtin);
		}
	}
	int st = 0;
	if (bg && injail)
		goto out; /* "cmd &": not waited for (it is reaped when jail(8) exits) */
	bool timedout = wait_child(pid, bg ? -1 : exec_timeout_ms(j), &st) == 1;
	rc = check_status(j, line, timedout, st, bg);
out:
	(void)step;
	if (consfd >= 0)
		close(consfd);
	lj_strv_free(&env);
	lj_host_user_free(&u);
	return rc;
}

int jx_run_string(struct jx *j, const char *step, const char *cmd, bool injail)
{
	if (!cmd || !*cmd)
		return 0;
	lj_strv argv = {0};
	bool bg;
	jx_split_command(cmd, &argv, &bg);
	if (argv.n == 0) {
		lj_strv_free(&argv);
		return 0;
	}
	int rc = run_argv(j, step, argv.v, injail, bg);
	lj_strv_free(&argv);
	return rc;
}

int jx_run_argv(struct jx *j, const char *step, char **argv, bool injail)
{
	return run_argv(j, step, argv, injail, false);
}
