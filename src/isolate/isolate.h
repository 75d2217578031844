/* isolate: the jail process on Linux. Namespaces (clone3 + CLONE_PIDFD), pivot_root, /dev and
 * /proc, the capability bounding set and seccomp filter from allow.*, ljail's own PID 1, and
 * running commands inside a running jail (jexec, exec.start, command, exec.stop).
 *
 * This module knows nothing of jail.conf or the registry: the lifecycle (src/jail) fills a
 * struct lj_iso_spec, keeps the pid/pidfd/start time it gets back in the registry record, and
 * later passes the init's pidfd to lj_isolate_spawn()/lj_isolate_exec().
 *
 * Contract with the lifecycle (read before calling):
 *  - Create a jail with spec.persist = true ("forced persist while commands run") and
 *    spec.control, run exec.start/command through lj_isolate_launch, then call
 *    lj_isolate_control_persist(ctlfd, <the jail's persist>): a jail created non-persistent with
 *    nothing in it dies at once, and the answer says so (wait for the pidfd, then clean up). Other
 *    processes (jail -m) use lj_isolate_set_persist.
 *  - "Empty" means: no process in the jail's PID namespace except the init. The init counts them
 *    through a proc instance of that namespace (not through cgroups; a private one in a jail that
 *    may mount, else the jail's /proc, which such a jail cannot change), so processes entered by
 *    jexec count although they are not its children. It checks on every SIGCHLD and every 100 ms
 *    while not persistent.
 *  - Removal: lj_isolate_stop() (SIGTERM to every process in the jail, wait, SIGKILL).
 *  - children.max: a jail gets a private tmpfs at /run/ljail (its own registry: nested jails
 *    are listed there, never the host's) holding the read-only file /run/ljail/.jail
 *    ("children.max=N"). Every process started by lj_isolate_spawn gets
 *    LJAIL_RUNDIR=/run/ljail. A nested jail(8) calls lj_isolate_parent_limit(): inside a jail it
 *    yields children.max, and the lifecycle refuses "prison limit exceeded" when its registry
 *    already holds that many jails. With children.max = 0, lj_isolate_create() itself fails
 *    with EPERM and the message "jail_set: Operation not permitted" (and the seccomp filter
 *    refuses namespace creation anyway). children.max > 0 keeps CAP_SYS_ADMIN (namespaces and
 *    mounts need it).
 *  - The record should keep the params lj_isolate_policy_from_params() reads (allow.*, vnet,
 *    sysvshm/sysvmsg/sysvsem, children.max): jexec rebuilds the seccomp filter from them. The
 *    capability bounding set of an entered process is always the init's own (/proc/PID/status
 *    CapBnd), so a process never gets more than the jail was created with. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

/* ---- policy: allow.* and friends ------------------------------------------------------------
 * allow.* → Linux (the man pages repeat this table):
 *   raw_sockets      CAP_NET_RAW
 *   mount (.<fs>)    CAP_SYS_ADMIN inside a user namespace of the jail's own (identity uid/gid
 *                    maps written by the creator; lj_isolate_wants_userns), entered by the init
 *                    after every mount of the jail is made and the root pivoted, with a copy of
 *                    the mount namespace: the copy locks all inherited mounts (no umount, move,
 *                    or read-write remount of /proc/sys, /sys, /dev, the /proc masks). The mount
 *                    calls are not refused by seccomp. Mountable: tmpfs, bind mounts (nullfs),
 *                    overlay, ramfs, devpts (newinstance), binfmt_misc (per user namespace);
 *                    a read-only sysfs of the jail's own network (vnet). Refused by the kernel:
 *                    proc, rw sysfs, mqueue, cgroup v1/v2, devtmpfs, debugfs, block devices.
 *                    allow.mount.<fs> does not narrow this. FreeBSD differences: procfs cannot
 *                    be mounted again (the jail always has /proc); capabilities the kernel
 *                    checks in the host's user namespace stop working in such a jail:
 *                    CAP_SYS_TIME (settime/adjtime), CAP_LINUX_IMMUTABLE (chflags), CAP_IPC_LOCK
 *                    (mlock), CAP_SYSLOG (read_msgbuf), and without vnet everything on the
 *                    host's network (raw_sockets, routing, reserved_ports: no bind below 1024)
 *                    and CAP_IPC_OWNER over a shared IPC namespace (sysvipc). With vnet the
 *                    init also makes the network namespace there (after its mounts; lo up), so
 *                    CAP_NET_ADMIN/NET_RAW/NET_BIND_SERVICE keep working. Jails inside
 *                    (children.max) cannot be made: no user namespace in a jail, and a new proc
 *                    is refused while the jail's /proc has overmounts. Entering (spawn) joins
 *                    the user namespace too.
 *   chflags          CAP_LINUX_IMMUTABLE (chattr +i/+a)
 *   mlock            CAP_IPC_LOCK
 *   read_msgbuf      CAP_SYSLOG and syslog(2) allowed (refused by seccomp otherwise)
 *   settime          CAP_SYS_TIME (the clock is the host's!)
 *   adjtime          CAP_SYS_TIME as well (Linux has one capability for both)
 *   routing          CAP_NET_ADMIN (in a non-vnet jail this is the host's network, as on FreeBSD)
 *   vnet (param)     CAP_NET_ADMIN in the jail's own network namespace
 *   reserved_ports   CAP_NET_BIND_SERVICE (on by default)
 *   suser            off: the bounding set is emptied (root in the jail is an ordinary user)
 *   sysvipc          CAP_IPC_OWNER over a shared IPC namespace (always kept with a private one)
 *   quotas           quotactl(2) not refused by seccomp
 *   socket_af        socket families beyond unix/inet/inet6/netlink (others: EAFNOSUPPORT)
 *   unprivileged_proc_debug  off: ptrace/process_vm_* refused by seccomp
 *   set_hostname     cannot be granted: the UTS namespace is private and belongs to the host's
 *                    user namespace (also with allow.mount); the hostname is set from outside
 *                    (host.hostname); sethostname inside: EPERM
 *   extattr, nfsd, setaudit, vmm, unprivileged_parent_tampering: accepted, no Linux effect
 * Always kept: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP SETFCAP SYS_CHROOT
 * AUDIT_WRITE NET_BROADCAST. Always dropped: MKNOD (FreeBSD jails cannot mknod), SYS_MODULE,
 * SYS_RAWIO, SYS_BOOT, SYS_PTRACE, SYS_NICE, SYS_RESOURCE, SYS_PACCT, SYS_TTY_CONFIG,
 * DAC_READ_SEARCH, AUDIT_CONTROL/READ, MAC_*, BPF, PERFMON, CHECKPOINT_RESTORE, WAKE_ALARM,
 * BLOCK_SUSPEND, LEASE, and everything above that is not allowed. */
enum lj_iso_allow {
	LJ_ALLOW_SET_HOSTNAME = 1u << 0,
	LJ_ALLOW_SYSVIPC = 1u << 1,
	LJ_ALLOW_RAW_SOCKETS = 1u << 2,
	LJ_ALLOW_CHFLAGS = 1u << 3,
	LJ_ALLOW_MOUNT = 1u << 4,
	LJ_ALLOW_QUOTAS = 1u << 5,
	LJ_ALLOW_SOCKET_AF = 1u << 6,
	LJ_ALLOW_MLOCK = 1u << 7,
	LJ_ALLOW_READ_MSGBUF = 1u << 8,
	LJ_ALLOW_SETTIME = 1u << 9,
	LJ_ALLOW_ADJTIME = 1u << 10,
	LJ_ALLOW_ROUTING = 1u << 11,
	LJ_ALLOW_SUSER = 1u << 12,
	LJ_ALLOW_RESERVED_PORTS = 1u << 13,
	LJ_ALLOW_UNPRIV_PROC_DEBUG = 1u << 14,
	LJ_ALLOW_EXTATTR = 1u << 15,
	LJ_ALLOW_NFSD = 1u << 16,
	LJ_ALLOW_SETAUDIT = 1u << 17,
	LJ_ALLOW_VMM = 1u << 18,
	LJ_ALLOW_UNPRIV_PARENT_TAMPERING = 1u << 19,
};
/* FreeBSD's defaults: set_hostname, reserved_ports, unprivileged_proc_debug, suser. */
#define LJ_ALLOW_DEFAULT                                                                \
	(LJ_ALLOW_SET_HOSTNAME | LJ_ALLOW_RESERVED_PORTS | LJ_ALLOW_UNPRIV_PROC_DEBUG | \
	 LJ_ALLOW_SUSER)

/* sysvshm/sysvmsg/sysvsem. One IPC namespace holds all three families, so: a new IPC namespace
 * unless all three are INHERIT; DISABLE additionally makes that family's calls fail ENOSYS. A
 * family set to INHERIT while another is not therefore gets a private (empty) namespace. */
enum lj_iso_sysv { LJ_SYSV_DISABLE = 0, LJ_SYSV_NEW = 1, LJ_SYSV_INHERIT = 2 };

struct lj_iso_policy {
	uint32_t allow; /* LJ_ALLOW_* */
	bool vnet;      /* own network namespace (CAP_NET_ADMIN there) */
	enum lj_iso_sysv sysvshm, sysvmsg, sysvsem;
	int children_max; /* 0: no jails inside; > 0 keeps CAP_SYS_ADMIN */
	/* ip4=disable and ip6=disable on the host's stack, with the socket families restricted and
	 * no routing: seccomp refuses AF_INET and AF_INET6 sockets, and no packet filter is needed
	 * (the kernel opens no IP socket for the jail that the family rules let through) */
	bool no_inet;
};

/* FreeBSD's defaults: LJ_ALLOW_DEFAULT, no vnet, sysv* disable, children.max 0. */
void lj_isolate_policy_init(struct lj_iso_policy *p);
/* Read the policy from "key=value" params (a bare "key" = true, "nokey" = false) into p, which
 * starts from lj_isolate_policy_init (a p that comes in all zero, `= {0}`, is initialised to the
 * defaults first). Keys: allow.<x>, allow.no<x>, vnet (new|inherit|true|false|1|0),
 * sysvshm/sysvmsg/sysvsem (new|inherit|disable|0|1|2), children.max. allow.sysvipc makes unset
 * sysv* inherit. ip4 and ip6 (disable|new|inherit) decide no_inet. Missing keys keep the
 * defaults; unknown keys are ignored; a bad value is an error naming the param. */
int lj_isolate_policy_from_params(const lj_strv *params, struct lj_iso_policy *p, lj_err *e);
/* The jail's init gets a user namespace of its own (allow.mount; see the table above). Then a vnet
 * jail's network namespace is made by the init after its mounts, inside that user namespace:
 * nothing may prepare one for it beforehand (a pre-made network namespace fd in the spec is
 * ignored; interfaces are moved in after lj_isolate_create, through the init's pidfd). */
bool lj_isolate_wants_userns(const struct lj_iso_policy *p);
/* The capability bounding set (bit n = capability n) the policy gives. */
uint64_t lj_isolate_caps(const struct lj_iso_policy *p);
/* Write the seccomp filter for the policy as libseccomp PFC text to fd (debugging, tests). */
int lj_isolate_seccomp_export(const struct lj_iso_policy *p, int fd, lj_err *e);

/* ---- creating the jail ---------------------------------------------------------------------- */

struct lj_iso_spec {
	const char *path;     /* the jail root; NULL or "/" = share the host's files (no pivot) */
	const char *hostname; /* host.hostname; NULL = keep the host's (the UTS ns is always new) */
	const char *domainname; /* host.domainname; NULL = keep */
	bool persist;       /* the init stays while the jail is empty (see the contract above) */
	bool mount_devfs;   /* a fresh tmpfs /dev from devfs_ruleset */
	int devfs_ruleset;  /* 0 (means 4), 1 hide all, 2 basic, 3 login, 4 jail, 5 jail_vnet */
	bool mount_procfs;  /* proc of the jail's PID ns at /proc (always with path "/") */
	bool mount_fdescfs; /* /dev/fd: a symlink to /proc/self/fd (always in our devfs) */
	struct lj_iso_policy policy;
	int cgroup_fd; /* the jail's v2 group dir fd (lj_cg_v2_fd) for CLONE_INTO_CGROUP; -1 none */
	/* Called in the parent after the init exists and before it goes on (not yet pivoted, cgroup
	 * namespace not yet made): the place for lj_cg_attach(cg, pid) of the v1 hierarchies, netns
	 * moves need not wait for it. May be NULL, and should be when there is nothing to do: the
	 * init then goes on at once, without waiting for the creator's go. A failure aborts the
	 * create. */
	int (*before_go)(pid_t init_pid, void *arg, lj_err *e);
	void *before_go_arg;
	/* Called in the parent right after the init was told to go on, while it mounts and pivots
	 * (on another CPU): work that must be done before the jail runs anything of its own but
	 * need not delay the init. ctlfd (spec.control, and no user namespace: the child still
	 * talks on it then; else -1): a LAUNCH sent on it now is served as soon as the init is
	 * ready (lj_isolate_launch_send). May be NULL. A failure aborts the create. */
	int (*after_go)(pid_t init_pid, int ctlfd, void *arg, lj_err *e);
	void *after_go_arg;
	/* Keep the creation socket as a control channel to the init (proc.ctlfd): persist
	 * requests answered with whether the init exits now (lj_isolate_control_persist), and
	 * commands the init forks itself (lj_isolate_launch: no helper, no cgroup.procs writes,
	 * each of which can wait for an RCU grace period, no setns). */
	bool control;
	/* A VNET jail's network namespace made in advance by the caller (so interfaces can be
	 * created straight inside it before the jail exists): the init enters it first thing
	 * instead of getting a new one. > 0 with policy.vnet; 0 or -1: none (a fresh one). Not
	 * used when the jail gets a user namespace (its network namespace must belong to it). The
	 * fd stays the caller's. */
	int netns_fd;
	/* The run directory ($LJAIL_RUNDIR), or NULL. lj_isolate_create keeps two read-only
	 * folders there (made once, kept like its lock file), which the init binds instead of
	 * making a tmpfs each (a superblock to make and tear down: ~50 µs apiece here): "empty",
	 * over /proc/acpi and the like, and "nested-0", whose .jail says children.max=0, as the
	 * /run/ljail of a jail that may make none. */
	const char *rundir;
};

/* The jail's init as the registry records it. */
struct lj_iso_proc {
	pid_t pid;      /* host view */
	int pidfd;      /* O_CLOEXEC; the caller closes it */
	uint64_t start; /* /proc/PID/stat field 22 */
	int ctlfd;      /* spec.control: the control channel (O_CLOEXEC), else -1. Closing it ends
	                 * the channel only: the init goes on as it is, once committed */
};

/* Make the jail: clone3(CLONE_PIDFD|CLONE_NEW{NS,UTS,PID,CGROUP}[|NET][|IPC][|CLONE_INTO_CGROUP]),
 * falling back to clone + cgroup.procs on any clone3 error. Returns when the init runs in its
 * pivoted root with its bounds and filter in place. On failure nothing is left: the child is
 * killed and reaped (its namespaces die with it) and nothing was mounted on the host; e holds
 * the failing step, e.g. "mount.devfs: /srv/x/dev: Not a directory". */
int lj_isolate_create(const struct lj_iso_spec *spec, struct lj_iso_proc *proc, lj_err *e);

/* persist on/off for a running jail (SIGUSR2/SIGUSR1 to the init; the same signals sent from inside
 * the jail are ignored). Off: the jail dies as soon as it is empty (at once if it is now). Any
 * process may do this; whether the jail is about to go is then only a guess. */
int lj_isolate_set_persist(int pidfd, bool persist, lj_err *e);
/* The same through the control channel, with the init as the judge: off makes it reap what it
 * can, then count the processes of its PID namespace (a zombie counts until reaped, a process
 * being reparented to it counts all along); *exiting is true when the jail was empty and the
 * init exits right after answering (wait for its pidfd, no timeout needed). Not exiting: it
 * exits when its last process goes. -1 (ESRCH) when the init is gone or the channel closed. */
int lj_isolate_control_persist(int ctlfd, bool persist, bool *exiting, lj_err *e);
/* The jail is recorded where others find it: from now on its init (the caller's child, made
 * with spec.control) outlives the control channel. Until then the init exits when the channel
 * closes, so a creator killed in between leaves no jail that nobody can list or remove.
 * -1 (ESRCH) when the init is gone. */
int lj_isolate_commit(pid_t init_pid, int ctlfd, lj_err *e);

/* Remove a running jail: SIGTERM to every process in it (through the init), wait up to timeout_ms
 * for them to go (the init then exits), then SIGKILL the init (the kernel kills the rest). Returns
 * once the init is gone (reaped too when it is the caller's child). timeout_ms 0 = SIGKILL at once.
 */
int lj_isolate_stop(int pidfd, int timeout_ms, lj_err *e);

/* True while the jail's init runs (pidfd not yet readable). */
bool lj_isolate_alive(int pidfd);

/* Inside a jail made by ljail: 1 and *children_max; on the host: 0. (-1 on a read error.) */
int lj_isolate_parent_limit(int *children_max, lj_err *e);

/* ---- running a command inside --------------------------------------------------------------- */

struct lj_iso_exec {
	char *const *argv; /* argv[0] searched in PATH inside the jail (execvp); NULL: an
	                    * interactive shell, "$SHELL -i" with SHELL as the environment finally
	                    * has it (default /bin/sh), as jexec without a command */
	char *const *env;  /* "K=V" added last (JID, JNAME, ...); may be NULL */
	bool clean;        /* exec.clean / jexec -l: empty environment but TERM; then PATH, HOME,
	                    * SHELL, USER are set. Not clean: the caller's env, plus
	                    * HOME/SHELL/USER when a user is given. */
	const char *user;  /* NULL: stay root (uid 0, the caller's groups cleared) */
	bool user_in_jail; /* look the user up in the jail's /etc/passwd (jexec -U, exec.jail_user)
	                    * instead of the host's (jexec -u, exec.system_jail_user) */
	const char *dir;   /* cwd inside; NULL = "/" (or HOME when login_dir) */
	bool login_dir;    /* jexec -l without -d: chdir to the user's HOME */
	int stdin_fd, stdout_fd, stderr_fd; /* -1 = the caller's */
	int cgroup_fd;            /* v2 group dir fd to join (CLONE_INTO_CGROUP), -1 = none */
	bool follow_init_cgroups; /* also join the init's group in every hierarchy where it differs
	                           * from the caller's (how jexec finds the jail's cgroup) */
	int (*builtin)(int argc, char **argv); /* run this in the jail instead of exec, if set */
	/* lj_isolate_launch in the foreground only, NULL otherwise. Non-NULL: the jail is not
	 * persistent and this is the creator's last command in it. Persist goes off when the
	 * init reaps it (no lj_isolate_control_persist after it), and *init_exits says whether
	 * the init exits then (the jail was empty) and is to be waited for. */
	bool *init_exits;
};
/* The PATH a clean environment gets: FreeBSD's login.conf default class path, which Linux
 * userlands need (tools live in /sbin and /usr/sbin). */
#define LJ_ISO_PATH "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"

/* Start x inside the jail whose init is init_pidfd. The shape of spec §2: a helper C joins the
 * cgroup, setns()es every namespace through the pidfd (fallback: /proc/PID/ns files), takes the
 * init's bounding set and the policy's seccomp filter, switches user, and forks G into the jail's
 * PID namespace as a child of the CALLER (CLONE_PARENT); C exits. Returns G's host pid (and *pidfd
 * if pidfd != NULL). A failure anywhere up to G's execve (unknown user, no such command:
 * "execvp: sh: No such file or directory") comes back as -1 with the message. G must be reaped
 * (lj_isolate_wait): a dying jail's init waits for every process of its namespace to be reaped. */
pid_t lj_isolate_spawn(int init_pidfd, const struct lj_iso_policy *pol, const struct lj_iso_exec *x,
                       int *pidfd, lj_err *e);
/* Run x through the control channel of a jail made with spec.control (ctlfd: proc.ctlfd; any
 * number of times): the init forks the command, which takes x's user (looked up in the jail),
 * environment (the caller's, or TERM only when clean, plus x->env), directory and stdio, and the
 * capabilities lj_isolate_spawn's G would have (the init's bounds and filter are the jail's); it
 * then execs, or runs x->builtin (the init is a fork of its creator: the address is valid). The
 * command is the init's child: its session is the init's (no controlling terminal; interactive
 * use wants lj_isolate_spawn) and the init reaps it, so a jail is seen empty as soon as it goes.
 * Not for a host user (!x->user_in_jail with x->user or x->clean). bg: return once it exec'd
 * (its status is dropped). Else wait for it: 0 with its wait status in *status; 1 when
 * timeout_ms (< 0: none) passed first: the init killed it (SIGKILL) and *status is that; -1 with
 * e (as spawn: "execvp: sh: No such file or directory"; ESRCH "jail_attach": the init is gone). */
int lj_isolate_launch(int ctlfd, const struct lj_iso_exec *x, bool bg, int timeout_ms, int *status,
                      lj_err *e);
/* lj_isolate_launch in two halves: the request (its id in *id), and the wait for its answer
 * (the same x and bg; timeout_ms counts from the wait). A request sent before the init is ready
 * (spec.after_go's ctlfd) is served once it is. */
int lj_isolate_launch_send(int ctlfd, const struct lj_iso_exec *x, bool bg, uint32_t *id,
                           lj_err *e);
int lj_isolate_launch_wait(int ctlfd, const struct lj_iso_exec *x, uint32_t id, bool bg,
                           int timeout_ms, int *status, lj_err *e);
/* Wait for a spawned process: timeout_ms < 0 waits forever. Returns 0 with the wait status in
 * *status, 1 on timeout (the process still runs), -1 on error. */
int lj_isolate_wait(pid_t pid, int timeout_ms, int *status, lj_err *e);
/* spawn + wait (forever): the exit status as a shell gives it (128+signal when killed). */
int lj_isolate_exec(int init_pidfd, const struct lj_iso_policy *pol, const struct lj_iso_exec *x,
                    lj_err *e);
