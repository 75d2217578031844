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
/* Read (or compile and keep) the policy's BPF program from the run directory, so that a later
 * lj_iso_seccomp_load of the same policy in this process or a child only loads it. Call before
 * the run directory is out of sight (before clone); on failure the load compiles it itself. */
int lj_iso_seccomp_prepare(const struct lj_iso_policy *p, lj_err *e);
/* Drop every capability outside `keep` from the bounding set, clear inheritable and ambient,
 * and cut permitted/effective to keep. */
int lj_iso_caps_apply(uint64_t keep, bool bounding_only, lj_err *e);
/* Permitted and effective cut to keep, inheritable cleared: what lj_iso_caps_apply(keep, false)
 * does once the bounding set is keep already, in two syscalls (under a seccomp filter each of
 * its prctl calls would run the filter). */
int lj_iso_caps_cut(uint64_t keep, lj_err *e);

/* What the helper processes (and the init, on the control channel) send back over their
 * SOCK_SEQPACKET socket. */
enum {
	LJ_ISO_MSG_READY = 1,
	LJ_ISO_MSG_ERR = 2,
	LJ_ISO_MSG_PID = 3,
	LJ_ISO_MSG_STATUS = 4,
	LJ_ISO_MSG_PERSIST = 5,
	/* allow.mount: the child made its user namespace; the creator writes the identity uid/gid
	 * maps and answers READY (or ERR). */
	LJ_ISO_MSG_USERNS = 6,
	/* Right after the clone (and the go, when there is one): the creator's argument and
	 * environment areas (.pid = 1 and four uint64_t in .text; 0: none), the child's as well (a
	 * copy of its memory). The child reads them when it gets to set_cmdline. */
	LJ_ISO_MSG_AREAS = 7,
};
/* allow.mount: the identity map, written by the creator (CAP_SETUID in the parent namespace). */
#define LJ_ISO_ID_MAP "0 0 4294967295\n"
struct lj_iso_msg {
	int32_t kind;
	int32_t errnum;
	int32_t pid;
	int32_t id; /* control channel: the request's id */
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

/* The in-jail run directory (a private tmpfs, or the shared nested-0 read-only) and the limits
 * file in it. */
#define LJ_ISO_JAIL_RUNDIR   "/run/ljail"
#define LJ_ISO_JAIL_INFO     "/run/ljail/.jail"
#define LJ_ISO_JAIL_INFO_FMT "children.max=%d\n" /* its text */
/* The run directory's shared read-only folders (lj_iso_spec.rundir) */
#define SHARED_EMPTY   "empty"
#define SHARED_NESTED0 "nested-0"

/* The control channel (spec.control): the creating process keeps its end of the creation socket
 * after READY; the init serves it from its loop and never blocks on it (replies are sent with
 * MSG_DONTWAIT). A request is one datagram starting with struct lj_iso_req:
 *  PERSIST (arg 1 on / 0 off): off makes the init reap what it can, then count the jail's
 *    processes; it replies MSG_PERSIST with .pid = 1 when it exits right after the reply (off and
 *    empty), else 0.
 *  LAUNCH (id; then struct lj_iso_launch_hdr and its strings; SCM_RIGHTS stdin, stdout, stderr):
 *    the init forks the command (already in every namespace, cgroup, bound and filter) and replies
 *    MSG_PID (.id, .pid = the pid in the jail) carrying by SCM_RIGHTS the read end of a socket that
 *    gets one MSG_ERR if the command fails before its execve and reads EOF once it exec'd; or
 *    MSG_ERR (.id) if it could not fork. When the init reaps the command: MSG_STATUS (.id, .pid =
 *    the wait status). A command started the vfork way (lj_iso_launch_vfork: no user lookup, no
 *    builtin) has exec'd or failed by the time the init answers: MSG_ERR (.id) with its failure,
 *    else MSG_PID without a socket, or, when the request says LF_QUIET (a caller waiting for the
 *    end), nothing before MSG_STATUS.
 *  KILL (id, arg = signal): the command of that id, if not yet reaped, gets the signal.
 *  COMMIT: the creator has recorded the jail (no reply); what lj_isolate_commit sends when it
 *    cannot set the init's flag directly.
 * EOF: the init closes its end and goes on (persist stays as it is) once the creator has
 * committed; before that, the creator died before anyone could find the jail, and the init
 * exits (its jail with it). */
enum { LJ_ISO_REQ_PERSIST = 1, LJ_ISO_REQ_LAUNCH = 2, LJ_ISO_REQ_KILL = 3, LJ_ISO_REQ_COMMIT = 4 };
struct lj_iso_req {
	uint32_t kind, id, arg, pad;
};
/* LAUNCH flags. LF_QUIET: the caller waits for the command's end; when the init can tell at once
 * whether it exec'd (the vfork way), it replies only MSG_ERR (failed before the exec) or, later,
 * MSG_STATUS: no MSG_PID and no error socket (one wakeup of the caller less). LF_LAST: the last
 * command of a jail that is not persistent: when the init reaps it, persist goes off, and its
 * MSG_STATUS has .errnum = LJ_ISO_STATUS_INIT_EXITS when the jail is empty then and the init
 * exits right after the message (what a PERSIST request after the command would have answered,
 * one round trip less). */
enum {
	LF_CLEAN = 1,
	LF_LOGIN_DIR = 2,
	LF_USER = 4,
	LF_DIR = 8,
	LF_ARGV = 16,
	LF_QUIET = 32,
	LF_LAST = 64
};
#define LJ_ISO_STATUS_INIT_EXITS 1
struct lj_iso_launch_hdr {
	uint32_t flags, argc, envc, basec;
	uint64_t builtin; /* the init is a fork of its creator: the address is valid there */
};
/* On the creator's side: wait up to timeout_ms (< 0: forever) for a reply of the kinds (a mask of
 * LJ_ISO_KIND) to request id (an MSG_ERR of that id ends the wait too), dropping replies to
 * others (the status of a background command). An fd passed with the reply goes to *fd (else -1;
 * NULL: closed). 1 with *m, 0 on timeout, -1 when the init is gone (EOF) or on error. */
int lj_iso_ctl_wait(int ctlfd, unsigned kinds, uint32_t id, int timeout_ms, struct lj_iso_msg *m,
                    int *fd);
/* The bit of a reply kind in lj_iso_ctl_wait's kinds. */
#define LJ_ISO_KIND(k) (1u << (k))
/* The largest request (header, launch header and strings). */
#define LJ_ISO_REQ_MAX (256 * 1024)

/* In the init's fork for a LAUNCH request: req/n is what follows struct lj_iso_req, fds the
 * command's stdio, errsock the error socket (MSG_ERR .id = id on failure; close-on-exec), bnd the
 * jail's bounding set (already ours). Becomes the command. */
_Noreturn void lj_iso_launch_child(const char *req, size_t n, const int fds[3], int errsock,
                                   uint32_t id, uint64_t bnd);
/* The same for a request without a user lookup or builtin (the common case), started the vfork
 * way (the init's memory shared until the execve; see exec.c). Returns the command's pid once it
 * exec'd or failed (then *fail holds its MSG_ERR: the child writes it in the memory it shares with
 * us, no socket needed), -1 with errno when it could not be started, 0 when the request needs
 * lj_iso_launch_child. *quiet: the caller asked for no MSG_PID (LAUNCH's LF_QUIET, see exec.c). */
pid_t lj_iso_launch_vfork(const char *req, size_t n, const int fds[3], uint32_t id, uint64_t bnd,
                          bool *quiet, struct lj_iso_msg *fail);
