/* jexec(8): run a command inside a running jail.
 *
 *   jexec [-l] [-d dir] [-u user | -U user] jail [command ...]
 *
 * The jail is found in the registry by JID or name; everything else happens in src/isolate
 * (lj_isolate_spawn): the namespaces are joined through a pidfd of the jail's init, the cgroup
 * is the init's, the capability bounds are the init's and the seccomp filter is rebuilt from
 * the jail's recorded parameters. jexec waits for the command and exits as it did (re-raising a
 * fatal signal), which is what a shell sees from FreeBSD's execvp. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "isolate/isolate.h"
#include "jail/jail.h"
#include "registry/registry.h"

static const char *prog = "jexec";

static _Noreturn void usage(void)
{
	fprintf(stderr,
	        "usage: jexec [-l] [-d working-directory] [-u username | -U username] jail\n"
	        "\t[command ...]\n");
	exit(1);
}

static _Noreturn void fail(const lj_err *e)
{
	lj_err_print(prog, e);
	exit(1);
}

int main(int argc, char **argv)
{
	struct lj_iso_exec x = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .cgroup_fd = -1};
	bool uflag = false, Uflag = false, lflag = false;
	const char *dir = NULL, *user = NULL;
	int ch;
	while ((ch = getopt(argc, argv, "+d:lnu:U:")) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			lflag = true;
			break;
		case 'n':
			break; /* FreeBSD: "Specified name, now unused" */
		case 'u':
			user = optarg;
			uflag = true;
			break;
		case 'U':
			user = optarg;
			Uflag = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (uflag && Uflag))
		usage();

	lj_err e = {0};
	struct lj_registry reg = {0};
	struct lj_record rec = {0};
	lj_reg_on_dead(lj_jail_reap); /* a jail whose init died is cleaned up, not entered */
	if (lj_reg_open(&reg, &e) < 0 || lj_reg_find(&reg, argv[0], &rec, &e) < 0)
		fail(&e);
	lj_reg_close(&reg);
	int pidfd = lj_reg_pidfd(&rec, &e);
	if (pidfd < 0)
		fail(&e);
	struct lj_iso_policy pol;
	lj_isolate_policy_init(&pol);
	if (lj_isolate_policy_from_params(&rec.params, &pol, &e) < 0)
		fail(&e);

	x.argv = argc > 1 ? argv + 1 : NULL; /* none: $SHELL -i */
	x.user = user;
	x.user_in_jail = Uflag;
	x.clean = lflag;
	x.dir = dir;
	x.login_dir = lflag && !dir;
	x.follow_init_cgroups = true;

	/* The jail's per-process rctl rules (openfiles:deny=N/process ...) become our rlimits
	 * before the spawn, so the command and all it forks start with them. */
	if (lj_rctl_enter_jail(rec.name, 0, &e) < 0)
		fail(&e);
	/* The jail's cgroup2 group, joined at the helper's birth (clone3 CLONE_INTO_CGROUP): a
	 * write of cgroup.procs afterwards waits for an RCU grace period (~8 ms here), about as
	 * long as all the rest. follow_init_cgroups still joins whatever else differs (v1 groups,
	 * or everything when the jail has no group of its own, as a nested one). */
	struct lj_cg *cg = NULL;
	if (lj_cg_open(rec.name, &cg, NULL) == 0)
		x.cgroup_fd = lj_cg_v2_fd(cg);
	pid_t pid = lj_isolate_spawn(pidfd, &pol, &x, NULL, &e);
	lj_cg_free(cg);
	if (pid < 0) {
		if (e.errnum == ESRCH && lj_startswith(e.msg, "jail_attach"))
			lj_error(&e, ESRCH, "jail_attach(%d)", rec.jid);
		fail(&e);
	}
	close(pidfd);
	/* The terminal's ^C and ^\ reach the command (same process group); jexec only waits. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int st;
	if (lj_isolate_wait(pid, -1, &st, &e) < 0)
		fail(&e);
	lj_record_free(&rec);
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return 128 + sig;
	}
	return WEXITSTATUS(st);
}
