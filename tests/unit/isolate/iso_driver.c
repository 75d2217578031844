/* lj-iso-driver: drives src/isolate directly for the integration tests (tests/integration/
 * isolate_*.sh), so the jail process can be tested without the lifecycle.
 *
 *   lj-iso-driver run [OPTS] -- CMD...     make a jail, run CMD inside, print nothing else; exit
 *                                          with CMD's status; then remove the jail (or, with -n,
 *                                          let it die by itself: non-persistent)
 *   lj-iso-driver start [OPTS]             make a persistent jail and leave it running; prints
 *                                          "PID START" of the init; with -N NAME also writes a
 *                                          registry record (for jexec)
 *   lj-iso-driver exec PID START [OPTS] -- CMD...   run CMD in a running jail
 *   lj-iso-driver persist PID START 0|1    switch persist
 *   lj-iso-driver stop PID START [MS]      remove a running jail (SIGTERM, MS ms, SIGKILL)
 * OPTS: -p PATH  -h HOSTNAME  -v (vnet)  -s new|inherit|disable (all sysv*)  -d (mount.devfs)
 *       -r RULESET  -P (mount.procfs)  -a PARAM (e.g. allow.raw_sockets, children.max=1)
 *       -n (non-persistent)  -u USER  -U USER  -l  -D DIR  -N NAME  -E K=V
 *       -g DIR (a cgroup2 directory: the jail is cloned into it, CLONE_INTO_CGROUP)
 *       -o FILE (the command's stdout and stderr go there, as exec.consolelog)  -c (exec.clean)
 *       -T MS (wait at most MS ms for the command; then print "timeout", kill it, exit 124)
 * Errors: "lj-iso-driver: MESSAGE" on stderr, exit 1 (exit 2 for usage). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate/isolate.h"
#include "registry/registry.h"

static const char *prog = "lj-iso-driver";

static void usage(void)
{
	fprintf(stderr, "usage: lj-iso-driver run|start|exec|persist|stop ...\n");
	exit(2);
}

static void die(const lj_err *e)
{
	lj_err_print(prog, e);
	exit(1);
}

struct opts {
	struct lj_iso_spec spec;
	struct lj_iso_exec x;
	lj_strv params, env;
	bool nonpersist;
	const char *name;
	int timeout_ms; /* 0: wait forever */
};

static void parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->spec.cgroup_fd = -1;
	o->x.stdin_fd = o->x.stdout_fd = o->x.stderr_fd = -1;
	o->x.cgroup_fd = -1;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "+p:h:vs:dr:Pa:nu:U:lD:N:E:g:o:cT:")) != -1) {
		switch (c) {
		case 'p':
			o->spec.path = optarg;
			break;
		case 'h':
			o->spec.hostname = optarg;
			break;
		case 'v':
			lj_strv_add(&o->params, "vnet=new");
			break;
		case 's':
			lj_strv_addf(&o->params, "sysvshm=%s", optarg);
			lj_strv_addf(&o->params, "sysvmsg=%s", optarg);
			lj_strv_addf(&o->params, "sysvsem=%s", optarg);
			break;
		case 'd':
			o->spec.mount_devfs = true;
			break;
		case 'r':
			o->spec.devfs_ruleset = atoi(optarg);
			break;
		case 'P':
			o->spec.mount_procfs = true;
			break;
		case 'a':
			lj_strv_add(&o->params, optarg);
			break;
		case 'n':
			o->nonpersist = true;
			break;
		case 'u':
			o->x.user = optarg;
			break;
		case 'U':
			o->x.user = optarg;
			o->x.user_in_jail = true;
			break;
		case 'l':
			o->x.clean = true;
			o->x.login_dir = true;
			break;
		case 'D':
			o->x.dir = optarg;
			break;
		case 'N':
			o->name = optarg;
			break;
		case 'E':
			lj_strv_add(&o->env, optarg);
			break;
		case 'o':
			o->x.stdout_fd = o->x.stderr_fd =
			        open(optarg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (o->x.stdout_fd < 0) {
				lj_err e;
				lj_error(&e, errno, "%s", optarg);
				die(&e);
			}
			break;
		case 'c':
			o->x.clean = true;
			break;
		case 'T':
			o->timeout_ms = atoi(optarg);
			break;
		case 'g':
			o->spec.cgroup_fd = open(optarg, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (o->spec.cgroup_fd < 0) {
				lj_err e;
				lj_error(&e, errno, "%s", optarg);
				die(&e);
			}
			o->x.follow_init_cgroups = true;
			break;
		default:
			usage();
		}
	}
	lj_err e = {0};
	lj_isolate_policy_init(&o->spec.policy);
	if (lj_isolate_policy_from_params(&o->params, &o->spec.policy, &e) < 0)
		die(&e);
	o->x.env = o->env.v;
}

static int open_init(const char *pid_s, const char *start_s)
{
	int pid;
	uint64_t start, now;
	lj_err e = {0};
	if (!lj_parse_int(pid_s, &pid) || !lj_parse_u64(start_s, &start))
		usage();
	int fd = pidfd_open(pid, 0);
	if (fd < 0) {
		lj_error(&e, errno, "pidfd_open %d", pid);
		die(&e);
	}
	char st;
	if (lj_proc_start_time(pid, &now, &st) < 0 || now != start) {
		lj_errorx(&e, "init %d is not the jail's (recycled pid)", pid);
		die(&e);
	}
	return fd;
}

static int run_in(int pidfd, struct opts *o, char **cmd)
{
	lj_err e = {0};
	o->x.argv = cmd;
	if (!o->timeout_ms) {
		int st = lj_isolate_exec(pidfd, &o->spec.policy, &o->x, &e);
		if (st < 0)
			die(&e);
		return st;
	}
	/* spawn, then wait with a timeout, as jail(8) does for exec.timeout */
	int pfd;
	pid_t pid = lj_isolate_spawn(pidfd, &o->spec.policy, &o->x, &pfd, &e);
	if (pid < 0)
		die(&e);
	int st, r = lj_isolate_wait(pid, o->timeout_ms, &st, &e);
	if (r < 0)
		die(&e);
	if (r == 1) {
		printf("timeout\n");
		fflush(stdout);
		pidfd_send_signal(pfd, SIGKILL, NULL, 0);
		lj_isolate_wait(pid, -1, &st, &e);
		return 124;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *verb = argv[1];
	static struct opts o; /* static: reachable until exit, nothing to free */
	lj_err e = {0};
	if (!strcmp(verb, "run")) {
		parse_opts(argc - 1, argv + 1, &o);
		char **cmd = argv + 1 + optind;
		if (!*cmd)
			usage();
		o.spec.persist = true;
		struct lj_iso_proc p;
		if (lj_isolate_create(&o.spec, &p, &e) < 0)
			die(&e);
		int st = run_in(p.pidfd, &o, cmd);
		if (o.nonpersist) {
			if (lj_isolate_set_persist(p.pidfd, false, &e) < 0)
				die(&e);
			/* wait for the init to go by itself, as a non-persistent jail does */
			struct lj_iso_proc *pp = &p;
			for (int i = 0; i < 300 && lj_isolate_alive(pp->pidfd); i++)
				usleep(10000);
			if (lj_isolate_alive(p.pidfd)) {
				fprintf(stderr, "%s: non-persistent jail still alive\n", prog);
				lj_isolate_stop(p.pidfd, 0, &e);
				return 99;
			}
		}
		if (lj_isolate_stop(p.pidfd, 1000, &e) < 0)
			die(&e);
		return st;
	}
	if (!strcmp(verb, "start")) {
		parse_opts(argc - 1, argv + 1, &o);
		o.spec.persist = !o.nonpersist;
		struct lj_iso_proc p;
		struct lj_registry reg = {0};
		struct lj_record rec = {0};
		if (o.name) {
			if (lj_reg_open(&reg, &e) < 0 || lj_reg_lock(&reg, &e) < 0 ||
			    lj_reg_alloc_jid(&reg, 0, &rec.jid, &e) < 0)
				die(&e);
		}
		if (lj_isolate_create(&o.spec, &p, &e) < 0)
			die(&e);
		if (o.name) {
			rec.name = (char *)o.name;
			rec.init_pid = p.pid;
			rec.init_start = p.start;
			for (size_t i = 0; i < o.params.n; i++)
				lj_strv_add(&rec.params, o.params.v[i]);
			lj_strv_addf(&rec.params, "path=%s", o.spec.path ? o.spec.path : "/");
			if (lj_reg_write(&reg, &rec, &e) < 0)
				die(&e);
			lj_reg_unlock(&reg);
			lj_reg_close(&reg);
			lj_strv_free(&rec.params);
		}
		printf("%d %llu\n", (int)p.pid, (unsigned long long)p.start);
		return 0;
	}
	if (!strcmp(verb, "exec")) {
		if (argc < 4)
			usage();
		int fd = open_init(argv[2], argv[3]);
		parse_opts(argc - 3, argv + 3, &o);
		char **cmd = argv + 3 + optind;
		if (!*cmd)
			usage();
		return run_in(fd, &o, cmd);
	}
	if (!strcmp(verb, "persist")) {
		if (argc != 5)
			usage();
		int fd = open_init(argv[2], argv[3]);
		if (lj_isolate_set_persist(fd, !strcmp(argv[4], "1"), &e) < 0)
			die(&e);
		return 0;
	}
	if (!strcmp(verb, "stop")) {
		if (argc < 4)
			usage();
		int fd = open_init(argv[2], argv[3]);
		if (lj_isolate_stop(fd, argc > 4 ? atoi(argv[4]) : 1000, &e) < 0)
			die(&e);
		return 0;
	}
	usage();
}
