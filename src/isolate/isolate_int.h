/* isolate internals shared by create.c, exec.c and policy.c. */
#pragma once

#include "config.h"
#include "isolate/isolate.h"

/* Tests force the fallback paths with LJAIL_FAIL_STEP: "isolate-clone3" (clone3 fails: plain
 * clone + cgroup.procs), "isolate-setns-pidfd" (setns through /proc/PID/ns files),
 * "isolate-pivot" (a create that fails after every mount, before pivot_root). */
static inline bool lj_iso_fault(const char *step)
{
#if LJAIL_FAULT_INJECTION
	const char *f = getenv("LJAIL_FAIL_STEP");
	return f && !strcmp(f, step);
#else
	(void)step;
	return false;
#endif
}

/* A private IPC namespace is needed (not every sysv* family is inherit). */
bool lj_iso_new_ipc(const struct lj_iso_policy *p);
/* Build and load the policy's seccomp filter (needs CAP_SYS_ADMIN: no no_new_privs). */
int lj_iso_seccomp_load(const struct lj_iso_policy *p, lj_err *e);
/* Drop every capability outside `keep` from the bounding set, clear inheritable and ambient,
 * and cut permitted/effective to keep. */
int lj_iso_caps_apply(uint64_t keep, bool bounding_only, lj_err *e);

/* What the helper processes send back over their SOCK_SEQPACKET socket. */
enum { LJ_ISO_MSG_READY = 1, LJ_ISO_MSG_ERR = 2, LJ_ISO_MSG_PID = 3, LJ_ISO_MSG_STATUS = 4 };
struct lj_iso_msg {
	int32_t kind;
	int32_t errnum;
	int32_t pid;
	char text[1024];
};
/* Send e (or a READY/PID message) to the peer; errors ignored: the peer reads EOF instead. */
void lj_iso_send(int fd, int kind, int pid, const lj_err *e);
/* Read one message; 0 on EOF, 1 with a message, -1 on error. */
int lj_iso_recv(int fd, struct lj_iso_msg *m);

/* clone3 (with CLONE_PIDFD, CLONE_INTO_CGROUP when cgfd >= 0), falling back to clone on any
 * clone3 error. Returns like fork; *pidfd is -1 when clone had to be used. *into_cg says whether
 * the child landed in cgfd's group. */
pid_t lj_iso_clone(uint64_t flags, int cgfd, int *pidfd, bool *into_cg);

/* The in-jail run directory (private tmpfs) and the limits file in it. */
#define LJ_ISO_JAIL_RUNDIR "/run/ljail"
#define LJ_ISO_JAIL_INFO   "/run/ljail/.jail"

/* The launcher (spec.launcher): forked by the init before it reports ready; waits on sock for
 * lj_isolate_launch's one request and becomes that command. The init, its parent, reaps it and
 * sends its wait status (LJ_ISO_MSG_STATUS, in .pid) over the same socket: by then the command
 * is gone from the jail, so a non-persistent jail is seen empty at once. */
_Noreturn void lj_iso_launcher_main(int sock, uint64_t bnd);
