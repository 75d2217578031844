/* bench/timeit: run several commands alternately, timing each run precisely.
 *
 *   timeit [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-b BUDGET_S] [-l LOGDIR] SPECFILE
 *
 * SPECFILE has one line per command, fields separated by TABs:
 *   KIND NAME NS ARG0 ARG1 ...
 * KIND is `run` (timed), `pre` (untimed, before each timed run) or `post` (untimed, after each
 * run, also after a failed one; its own failures are ignored). Several lines of one KIND and NAME
 * run in order; a timed run of NAME is the sum of its `run` lines (e.g. ip netns add, ip link,
 * crun run, ip netns del). NS is `-` or the path of a mount namespace file the child joins with
 * setns(2) before exec (crun needs one where the hybrid host's cgroup2 mount is hidden).
 *
 * Each iteration runs every NAME once, in an order shuffled afresh each time (from a fixed seed,
 * so two runs of one spec use the same orders). Names alternate, so drift in the machine's state
 * hits all of them alike; and no NAME always runs right after the same other NAME, whose deferred
 * kernel work (a namespace's cleanup, RCU callbacks, a cgroup's release) would otherwise always
 * land on it. A rotating order would not do: it keeps every NAME's predecessor fixed. No NAME
 * runs twice in a row (across two iterations).
 * The first WARMUP iterations are not counted.
 * The commands are fork+exec'd directly (no shell), so the harness adds one fork per command.
 * stdout of the commands goes to /dev/null, stderr to LOGDIR/NAME.err.
 *
 * Output, one line per NAME (TAB separated):
 *   NAME ok N MEDIAN_US MIN_US MAX_US R1,R2,...
 *   NAME fail EXIT_DESCRIPTION
 * A NAME whose command fails once is reported failed and not run again. With -b, a NAME that has
 * spent more than BUDGET_S seconds in timed runs stops after at least 3 of them (its line then
 * has fewer runs): a slow implementation cannot hold the whole bench for hours. Exit status 0
 * unless the spec or the options are wrong (2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind { K_PRE, K_RUN, K_POST };

struct cmd {
	enum kind kind;
	char *ns;
	char **argv;
};

struct name {
	char *name;
	struct cmd *cmds;
	size_t ncmds;
	long *us;
	size_t nus;
	long spent_us;
	char fail[256];
	int errfd;
};

static struct name *names;
static size_t nnames;
static int timeout_s = 300;
static long budget_us = 0;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("timeit");
		exit(2);
	}
	return p;
}

static struct name *get_name(const char *n)
{
	for (size_t i = 0; i < nnames; i++)
		if (strcmp(names[i].name, n) == 0)
			return &names[i];
	names = xrealloc(names, (nnames + 1) * sizeof(*names));
	struct name *nm = &names[nnames++];
	memset(nm, 0, sizeof(*nm));
	nm->name = strdup(n);
	nm->errfd = -1;
	return nm;
}

static int parse_spec(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = 0;
		if (len == 0 || line[0] == '#')
			continue;
		char **fields = NULL;
		size_t nf = 0;
		char *save = NULL;
		for (char *tok = strtok_r(line, "\t", &save); tok;
		     tok = strtok_r(NULL, "\t", &save)) {
			fields = xrealloc(fields, (nf + 2) * sizeof(*fields));
			fields[nf++] = strdup(tok);
		}
		if (nf < 4) {
			fprintf(stderr, "timeit: %s:%d: want KIND NAME NS ARG...\n", path, lineno);
			goto bad;
		}
		fields[nf] = NULL;
		struct cmd c;
		if (strcmp(fields[0], "run") == 0)
			c.kind = K_RUN;
		else if (strcmp(fields[0], "pre") == 0)
			c.kind = K_PRE;
		else if (strcmp(fields[0], "post") == 0)
			c.kind = K_POST;
		else {
			fprintf(stderr, "timeit: %s:%d: unknown kind '%s'\n", path, lineno,
			        fields[0]);
			goto bad;
		}
		c.ns = strcmp(fields[2], "-") == 0 ? NULL : fields[2];
		c.argv = fields + 3;
		struct name *nm = get_name(fields[1]);
		nm->cmds = xrealloc(nm->cmds, (nm->ncmds + 1) * sizeof(*nm->cmds));
		nm->cmds[nm->ncmds++] = c;
		continue;
	bad:
		for (size_t i = 0; i < nf; i++)
			free(fields[i]);
		free(fields);
		free(line);
		fclose(f);
		return -1;
	}
	free(line);
	fclose(f);
	return 0;
}

static long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Runs one command and waits for it; returns 0 or fills why[] and returns -1. */
static int run_cmd(const struct cmd *c, int errfd, char *why, size_t whylen)
{
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		setpgid(0, 0);
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		if (errfd >= 0)
			dup2(errfd, 2);
		if (c->ns) {
			int fd = open(c->ns, O_RDONLY);
			if (fd < 0 || setns(fd, CLONE_NEWNS) < 0) {
				fprintf(stderr, "timeit: setns %s: %s\n", c->ns, strerror(errno));
				_exit(126);
			}
		}
		execvp(c->argv[0], c->argv);
		fprintf(stderr, "timeit: %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	long deadline = now_ns() + (long)timeout_s * 1000000000L;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		long left = deadline - now_ns();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, whylen, "%s: timed out after %d s", base(c->argv[0]),
			         timeout_s);
			return -1;
		}
		struct timespec ts = {left / 1000000000L, left % 1000000000L};
		sigtimedwait(&chld, NULL, &ts);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(why, whylen, "%s exited %d", base(c->argv[0]), WEXITSTATUS(status));
	else
		snprintf(why, whylen, "%s killed by signal %d", base(c->argv[0]), WTERMSIG(status));
	return -1;
}

/* One iteration of a name: pre, timed runs, post. Returns the timed µs or -1. */
static long run_name(struct name *nm)
{
	char why[200];
	long total = 0;
	int ok = 1;
	for (size_t i = 0; ok && i < nm->ncmds; i++) {
		if (nm->cmds[i].kind != K_PRE)
			continue;
		if (run_cmd(&nm->cmds[i], nm->errfd, why, sizeof(why)) < 0) {
			snprintf(nm->fail, sizeof(nm->fail), "setup: %s", why);
			ok = 0;
		}
	}
	for (size_t i = 0; ok && i < nm->ncmds; i++) {
		if (nm->cmds[i].kind != K_RUN)
			continue;
		long t0 = now_ns();
		int r = run_cmd(&nm->cmds[i], nm->errfd, why, sizeof(why));
		total += now_ns() - t0;
		if (r < 0) {
			snprintf(nm->fail, sizeof(nm->fail), "%s", why);
			ok = 0;
		}
	}
	for (size_t i = 0; i < nm->ncmds; i++)
		if (nm->cmds[i].kind == K_POST)
			run_cmd(&nm->cmds[i], nm->errfd, why, sizeof(why));
	return ok ? total / 1000 : -1;
}

/* xorshift64: a tiny PRNG is enough to shuffle a handful of names; the seed is fixed. */
static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;
static size_t rng_below(size_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (size_t)(rng_state % n);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int runs = 20, warmup = 2, opt;
	const char *logdir = NULL;
	while ((opt = getopt(argc, argv, "n:w:t:b:l:")) != -1) {
		switch (opt) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'b':
			budget_us = atol(optarg) * 1000000L;
			break;
		case 'l':
			logdir = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || runs < 1 || warmup < 0 || timeout_s < 1)
		goto usage;
	if (parse_spec(argv[optind]) < 0)
		return 2;
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	for (size_t i = 0; i < nnames; i++) {
		struct name *nm = &names[i];
		nm->us = xrealloc(NULL, (size_t)runs * sizeof(long));
		if (logdir) {
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s.err", logdir, nm->name);
			nm->errfd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		}
		int has_run = 0;
		for (size_t j = 0; j < nm->ncmds; j++)
			has_run |= nm->cmds[j].kind == K_RUN;
		if (!has_run)
			snprintf(nm->fail, sizeof(nm->fail), "no run line");
	}
	size_t *order = xrealloc(NULL, nnames * sizeof(size_t));
	for (size_t i = 0; i < nnames; i++)
		order[i] = i;
	for (int it = 0; it < warmup + runs; it++) {
		size_t last = order[nnames - 1];
		for (size_t i = nnames; i > 1; i--) {
			size_t j = rng_below(i), t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		/* never the same name twice in a row: a run would meet its own leftovers */
		if (it > 0 && nnames > 1 && order[0] == last) {
			order[0] = order[1];
			order[1] = last;
		}
		for (size_t k = 0; k < nnames; k++) {
			struct name *nm = &names[order[k]];
			if (nm->fail[0])
				continue;
			if (budget_us > 0 && nm->nus >= 3 && nm->spent_us > budget_us)
				continue;
			long us = run_name(nm);
			if (us >= 0)
				nm->spent_us += us;
			if (us >= 0 && it >= warmup)
				nm->us[nm->nus++] = us;
		}
	}
	for (size_t i = 0; i < nnames; i++) {
		struct name *nm = &names[i];
		if (nm->fail[0]) {
			printf("%s\tfail\t%s\n", nm->name, nm->fail);
			continue;
		}
		long *s = xrealloc(NULL, nm->nus * sizeof(long));
		memcpy(s, nm->us, nm->nus * sizeof(long));
		qsort(s, nm->nus, sizeof(long), cmp_long);
		long med = nm->nus % 2 ? s[nm->nus / 2] : (s[nm->nus / 2 - 1] + s[nm->nus / 2]) / 2;
		printf("%s\tok\t%zu\t%ld\t%ld\t%ld\t", nm->name, nm->nus, med, s[0],
		       s[nm->nus - 1]);
		for (size_t j = 0; j < nm->nus; j++)
			printf("%s%ld", j ? "," : "", nm->us[j]);
		printf("\n");
		free(s);
	}
	return 0;
usage:
	fprintf(stderr, "usage: timeit [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-b BUDGET_S] [-l "
	                "LOGDIR] SPECFILE\n");
	return 2;
}
