/* lj-cg-helper: drive src/cgroup from the integration tests, without the jail lifecycle.
 *   lj-cg-helper create NAME            make the jail's group (prints nothing)
 *   lj-cg-helper destroy NAME           remove it (fails while processes are in it)
 *   lj-cg-helper kill NAME              SIGKILL everything in it
 *   lj-cg-helper run NAME CMD...        join the group, then exec CMD
 *   lj-cg-helper dirs NAME              print the group's directories, one per line
 *   lj-cg-helper pids NAME              print the pids in the group
 *   lj-cg-helper register NAME JID PID  write a registry record, so cpuset -j finds the jail
 *   lj-cg-helper apply NAME [RULE...]   lj_rctl_apply_jail (rules without subject)
 * and workloads to run inside a group:
 *   lj-cg-helper alloc MB               touch MB of memory, print "allocated MB"
 *   lj-cg-helper hold MB                touch MB of memory, then sleep until killed
 *   lj-cg-helper forks N                fork up to N sleeping children; print "COUNT ERRNO-NAME|ok"
 *   lj-cg-helper spin SECONDS           busy loop; print the percent of one CPU it got
 *   lj-cg-helper threads N              start N threads, then sleep until killed */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "registry/registry.h"

static int fail(const lj_err *e)
{
	lj_err_print("lj-cg-helper", e);
	return 1;
}

static uint64_t start_time(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	lj_autofree char *s = NULL;
	if (lj_read_file(p, &s, NULL, NULL) < 0)
		return 0;
	char *c = strrchr(s, ')');
	int field = 2;
	for (char *t = strtok(c + 1, " "); t; t = strtok(NULL, " "))
		if (++field == 22)
			return strtoull(t, NULL, 10);
	return 0;
}

static volatile char *touch(long mb)
{
	size_t n = (size_t)mb << 20;
	/* volatile: the writes must happen, not be optimised away with the unused buffer */
	volatile char *p = malloc(n);
	if (!p) {
		printf("malloc failed\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
	return p;
}

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int workload(const char *cmd, long arg)
{
	if (strcmp(cmd, "threads") == 0) {
		for (long i = 0; i < arg; i++) {
			pthread_t t;
			if (pthread_create(&t, NULL, sleeper, NULL) != 0)
				return 1;
		}
		printf("threads %ld\n", arg);
		fflush(stdout);
		sleeper(NULL);
	}
	if (strcmp(cmd, "alloc") == 0) {
		free((void *)touch(arg));
		printf("allocated %ld\n", arg);
		return 0;
	}
	if (strcmp(cmd, "hold") == 0) {
		touch(arg);
		printf("holding %ld\n", arg);
		fflush(stdout);
		for (;;)
			pause();
	}
	if (strcmp(cmd, "forks") == 0) {
		pid_t kids[4096];
		long n = 0;
		const char *why = "ok";
		while (n < arg && n < 4096) {
			pid_t p = fork();
			if (p < 0) {
				why = errno == EAGAIN ? "EAGAIN" : strerror(errno);
				break;
			}
			if (p == 0) {
				pause();
				_exit(0);
			}
			kids[n++] = p;
		}
		printf("%ld %s\n", n, why);
		fflush(stdout);
		for (long i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		while (wait(NULL) > 0)
			;
		return 0;
	}
	if (strcmp(cmd, "spin") == 0) {
		double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		volatile unsigned long x = 0;
		while (now(CLOCK_MONOTONIC) - w0 < (double)arg)
			for (int i = 0; i < 100000; i++)
				x++;
		double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		printf("%.0f\n", c / w * 100);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc == 3) {
		int rc = workload(argv[1], atol(argv[2]));
		if (rc >= 0)
			return rc;
	}
	if (argc < 3) {
		fprintf(stderr,
		        "usage: lj-cg-helper create|destroy|kill|run|dirs|pids|register|apply "
		        "NAME ...\n");
		return 2;
	}
	const char *cmd = argv[1], *name = argv[2];
	lj_err e;
	struct lj_cg *cg;
	if (strcmp(cmd, "create") == 0) {
		if (lj_cg_create(name, &cg, &e) < 0)
			return fail(&e);
		lj_cg_free(cg);
		return 0;
	}
	if (strcmp(cmd, "apply") == 0) {
		if (lj_rctl_apply_jail(name, (const char *const *)argv + 3, (size_t)(argc - 3),
		                       &e) < 0)
			return fail(&e);
		return 0;
	}
	if (strcmp(cmd, "register") == 0 && argc == 5) {
		struct lj_registry reg;
		struct lj_record rec = {0};
		rec.jid = atoi(argv[3]);
		rec.name = xstrdup(name);
		rec.init_pid = atoi(argv[4]);
		rec.init_start = start_time(rec.init_pid);
		int rc = lj_reg_open(&reg, &e);
		if (rc == 0) {
			rc = lj_reg_lock(&reg, &e);
			if (rc == 0)
				rc = lj_reg_write(&reg, &rec, &e);
			lj_reg_unlock(&reg);
			lj_reg_close(&reg);
		}
		lj_record_free(&rec);
		return rc < 0 ? fail(&e) : 0;
	}
	if (lj_cg_open(name, &cg, &e) < 0)
		return fail(&e);
	int rc = 0;
	if (strcmp(cmd, "destroy") == 0) {
		if (lj_cg_destroy(cg, &e) < 0) {
			lj_cg_free(cg);
			return fail(&e);
		}
		return 0;
	} else if (strcmp(cmd, "kill") == 0) {
		rc = lj_cg_kill(cg, SIGKILL, &e) < 0 ? fail(&e) : 0;
	} else if (strcmp(cmd, "run") == 0 && argc > 3) {
		/* as jexec does: join the group, take the jail's per-process limits */
		if (lj_cg_attach(cg, 0, &e) < 0 || lj_rctl_enter_jail(name, 0, &e) < 0)
			return fail(&e);
		lj_cg_free(cg);
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		return 127;
	} else if (strcmp(cmd, "dirs") == 0) {
		for (size_t i = 0; i < cg->made.n; i++)
			printf("%s\n", cg->made.v[i]);
	} else if (strcmp(cmd, "pids") == 0) {
		pid_t *pids;
		size_t n;
		lj_cg_pids(cg, &pids, &n, &e);
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
		free(pids);
	} else {
		fprintf(stderr, "lj-cg-helper: unknown command %s\n", cmd);
		rc = 2;
	}
	lj_cg_free(cg);
	return rc;
}
