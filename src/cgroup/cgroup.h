/* cgroup: one interface over cgroup v2 and v1 for a jail's group, plus the rctl(8) rule engine.
 *
 * Each controller is placed where the host has it: on cgroup2 when the unified root hands it to
 * its children (cgroup.subtree_control), else on its own v1 hierarchy (the layouts systemd makes
 * are recognized by statfs(2) of /sys/fs/cgroup, others read from /proc/self/mountinfo). A jail's
 * group is <hierarchy>/<root>/<jailname> in every hierarchy ljail uses (cpuset, cpu, cpuacct,
 * memory, pids, blkio/io, freezer) and always in the cgroup2 hierarchy when one is mounted, even
 * one without controllers: the lifecycle uses its directory fd for clone3(CLONE_INTO_CGROUP) and
 * its cgroup.events / cgroup.kill. <root> is $LJAIL_CGROUP_ROOT, default "ljail". Only groups below
 * <root> are ever made, changed or removed. */
#pragma once

#include <sched.h>

#include "util/util.h"

/* ---- the jail's group ------------------------------------------------------------------------ */

enum lj_cg_ctrl {
	LJ_CG_CPUSET,
	LJ_CG_CPU,
	LJ_CG_CPUACCT, /* on v2: the cpu controller's cpu.stat (always there) */
	LJ_CG_MEMORY,
	LJ_CG_PIDS,
	LJ_CG_IO,      /* v1 blkio, v2 io */
	LJ_CG_FREEZER, /* on v2: cgroup.freeze of the core */
	LJ_CG_NCTRL,
};

struct lj_cg {
	char *name;             /* the jail name */
	char *dir[LJ_CG_NCTRL]; /* the group's directory per controller; NULL = not on this host;
	                         * it exists when it is in made (else lazily made later) */
	bool v2[LJ_CG_NCTRL];   /* the controller is on cgroup2 (dir is then the v2 directory) */
	char *v2dir;            /* the group in the cgroup2 hierarchy; NULL when none is mounted */
	int v2fd;               /* O_DIRECTORY|O_CLOEXEC fd of v2dir, or -1 */
	lj_strv made;           /* every directory of the group that exists (deduplicated) */
	bool v1_unswept;        /* made lazily; v1 leftovers not looked for yet (lj_cg_sweep_v1) */
};

/* Where the controllers are is found once per process: by statfs(2) for the layouts systemd makes
 * (/sys/fs/cgroup a cgroup2, or a tmpfs with a v1 hierarchy per controller and cgroup2 at
 * unified), else from /proc/self/mountinfo (or, for tests, the file named by
 * $LJAIL_CGROUP_MOUNTINFO, which is then always read). This forgets it, so the next call finds it
 * again. */
void lj_cg_reset_detection(void);

/* The root name ($LJAIL_CGROUP_ROOT or "ljail"). */
const char *lj_cg_root_name(void);

/* Make the jail's group in every hierarchy (v1 cpuset: cpus/mems copied from the parent so tasks
 * can join). An existing but empty group of that name (left by a crash) is made anew, so none
 * of its limits carry over; a populated one is refused (EBUSY). On failure everything this call
 * made is removed again. */
int lj_cg_create(const char *name, struct lj_cg **out, lj_err *e);
/* The same, but on a host with cgroup2 only the cgroup2 group is made now (a crash's leftovers
 * in the v1 hierarchies are removed by lj_cg_sweep_v1): the v1 group of a controller is made,
 * and every process of the jail moved into it, when a limit or CPU set first needs it
 * (lj_cg_set_limit, lj_cg_set_cpus). A jail without limits then costs no v1 mkdir/rmdir and no
 * cgroup.procs write, whose first one in a burst waits for an RCU grace period (~several ms).
 * Until then the jail's usage comes from cgroup2's cpu.stat and from its processes
 * (/proc/PID/status, io). */
int lj_cg_create_lazy(const char *name, struct lj_cg **out, lj_err *e);
/* Remove what a crash left of the name in the v1 hierarchies (a stat in each), once, for a group
 * of lj_cg_create_lazy: the caller runs it where it has time (jail(8): while the init sets itself
 * up); the first v1 group's making runs it otherwise. A leftover with processes is refused
 * (EBUSY). */
int lj_cg_sweep_v1(struct lj_cg *cg, lj_err *e);
/* An existing group. ENOENT when the jail has none. With cgroup2 the group is its cgroup2
 * directory (every process of the jail is there): v1 directories a crash left without it are no
 * group, and the next create of the name removes them. */
int lj_cg_open(const char *name, struct lj_cg **out, lj_err *e);
/* Close the fd and free the object (the group stays). NULL is fine. */
void lj_cg_free(struct lj_cg *cg);

/* Move pid (0 = the caller) into the group on every hierarchy it is made in (made), cgroup2
 * included. After clone3(CLONE_INTO_CGROUP) the child is only in the v2 group: call
 * lj_cg_attach_v1 for the v1 ones before the child goes on. */
int lj_cg_attach(const struct lj_cg *cg, pid_t pid, lj_err *e);
/* The v2 group's directory fd for clone3 CLONE_INTO_CGROUP, or -1 without cgroup2. */
int lj_cg_v2_fd(const struct lj_cg *cg);
/* lj_cg_attach without the cgroup2 group: for a child that clone3(CLONE_INTO_CGROUP) already put
 * there (a second write of the same group would only cost a migration). */
int lj_cg_attach_v1(const struct lj_cg *cg, pid_t pid, lj_err *e);

/* Every process in the jail: the union of cgroup.procs of every directory of the group and of
 * any group the jail made below it; sorted, no duplicates. *pids is malloc'd. */
int lj_cg_pids(const struct lj_cg *cg, pid_t **pids, size_t *n, lj_err *e);
/* The name of the jail whose group pid is in (any hierarchy), or NULL. Caller frees. */
char *lj_cg_jail_of_pid(pid_t pid);
/* True while any process is in the group (cgroup.events "populated" on v2, which every process
 * of the jail is in; else cgroup.procs). */
int lj_cg_populated(const struct lj_cg *cg, bool *populated, lj_err *e);
/* Send sig to every process. SIGKILL: cgroup.kill where present, else freeze, kill, thaw, repeat
 * until the group is empty (or ~2 s pass: then an error). */
int lj_cg_kill(const struct lj_cg *cg, int sig, lj_err *e);
/* Remove every directory of the group, children first, then the root group where it is empty.
 * Refuses (EBUSY, "... still has processes") while populated. Retries EBUSY briefly (the kernel
 * lags behind the last exit). Frees cg on success; on failure cg stays valid. */
int lj_cg_destroy(struct lj_cg *cg, lj_err *e);

/* ---- cpuset ---------------------------------------------------------------------------------- */

/* CPU lists like "0-1", "0,2-3" or "all" (= the CPUs online). Errors are cpuset(1)'s:
 * "Malformed list X", "List entry N exceeds maximum of 1024". */
int lj_cpulist_parse(const char *s, cpu_set_t *set, lj_err *e);
/* "0, 1, 2" (sep ", ") or "0-2" style when sep is NULL. Caller frees. */
char *lj_cpulist_format(const cpu_set_t *set, const char *sep);
/* The CPUs online on the host. */
int lj_cpus_online(cpu_set_t *set, lj_err *e);

/* Restrict the jail to set: the group's cpuset.cpus (a v1 cpuset group is made then, as for
 * lj_cg_set_limit) and the affinity of every thread of every process in it (repeated until no
 * new thread appears). A CPU outside the host's: EINVAL,
 * nothing changed. Processes started later inherit it through the group. */
int lj_cg_set_cpus(struct lj_cg *cg, const cpu_set_t *set, lj_err *e);
/* The group's CPUs (effective) and memory nodes. */
int lj_cg_get_cpus(const struct lj_cg *cg, cpu_set_t *set, lj_err *e);
int lj_cg_get_mems(const struct lj_cg *cg, cpu_set_t *nodes, lj_err *e);
/* sched_setaffinity on every thread of pid (repeated until no new thread appears). */
int lj_affinity_set_pid(pid_t pid, const cpu_set_t *set, lj_err *e);

/* ---- limits and usage ------------------------------------------------------------------------ */

enum lj_cg_limit {
	LJ_CGL_MEMORY,    /* bytes: memory.max | memory.limit_in_bytes */
	LJ_CGL_SWAP,      /* bytes of swap: memory.swap.max | memsw.limit_in_bytes - memory limit */
	LJ_CGL_PIDS,      /* tasks: pids.max */
	LJ_CGL_CPU_PCT,   /* percent of one CPU: cpu.max | cpu.cfs_quota_us/cfs_period_us */
	LJ_CGL_READ_BPS,  /* per whole disk: io.max rbps | blkio.throttle.read_bps_device */
	LJ_CGL_WRITE_BPS, /* wbps | write_bps_device */
	LJ_CGL_READ_IOPS, /* riops | read_iops_device */
	LJ_CGL_WRITE_IOPS, /* wiops | write_iops_device */
	LJ_CGL_N,
};
#define LJ_CG_UNLIMITED (-1)

/* Set (value >= 0) or lift (LJ_CG_UNLIMITED) one limit. ENOTSUP when the host lacks the
 * controller (message names it). A v1 group not made yet (lj_cg_create_lazy) is made for a
 * limit, with every process of the jail moved into it (cg->made grows); lifting a limit there
 * is a no-op. */
int lj_cg_set_limit(struct lj_cg *cg, enum lj_cg_limit l, int64_t value, lj_err *e);
int lj_cg_get_limit(const struct lj_cg *cg, enum lj_cg_limit l, int64_t *value, lj_err *e);

struct lj_cg_usage {
	uint64_t cputime_ns; /* CPU time used by the group */
	uint64_t memory;     /* resident: anon + mapped file */
	uint64_t swap;
	uint64_t nproc;                             /* processes */
	uint64_t nthr;                              /* threads (tasks) */
	uint64_t openfiles;                         /* open descriptors, summed over processes */
	uint64_t vmemory;                           /* VmSize summed over processes */
	uint64_t datasize, stacksize, memorylocked; /* VmData, VmStk, VmLck summed */
	uint64_t rbytes, wbytes, rios, wios;        /* totals since creation */
	uint64_t wallclock;                         /* seconds since the group was made */
};
/* Usage of the group, read at one moment. */
int lj_cg_usage(const struct lj_cg *cg, struct lj_cg_usage *u, lj_err *e);

/* ---- rctl(8) rules ----------------------------------------------------------------------------
 * Rule text: subject:id:resource:action=amount[/per] (FreeBSD's syntax). Subjects: jail (by
 * name), process (pid); user and loginclass parse but cannot be enforced. */

enum lj_rctl_subject { LJ_RS_NONE, LJ_RS_PROCESS, LJ_RS_USER, LJ_RS_LOGINCLASS, LJ_RS_JAIL };

struct lj_rctl_rule {
	enum lj_rctl_subject subject; /* LJ_RS_NONE only in filters */
	char *id;                     /* "" in filters that leave it out */
	int resource;                 /* index into lj_rctl_resources, -1 = any (filter) */
	int action;                   /* LJ_RA_*, -1 = any (filter) */
	int sig;                      /* for LJ_RA_SIG */
	int64_t amount;               /* -1 = any (filter) */
	enum lj_rctl_subject per;     /* LJ_RS_NONE = same as subject */
};

enum lj_rctl_action { LJ_RA_DENY, LJ_RA_LOG, LJ_RA_DEVCTL, LJ_RA_SIG, LJ_RA_THROTTLE };

/* The 25 resources in FreeBSD's order (cputime, datasize, ... writeiops). */
extern const char *const lj_rctl_resources[];
#define LJ_RCTL_NRES 25

/* Parse a rule (filter = false: every field required) or a filter (empty fields allowed, may be
 * cut short: "jail:", "jail:web", "::memoryuse"). Errors are rctl(8)'s texts. */
int lj_rctl_parse(const char *text, bool filter, struct lj_rctl_rule *r, lj_err *e);
void lj_rctl_rule_free(struct lj_rctl_rule *r);
/* Canonical text: "jail:web:memoryuse:deny=1073741824" ("/per" only when it differs); human:
 * amounts like "1.0G" (humanize_number, 1024-based, at most 5 characters). Caller frees. */
char *lj_rctl_format(const struct lj_rctl_rule *r, bool human);
/* humanize_number as rctl -h prints it: 100, 1.5K, 512M, 1.0G. Caller frees. */
char *lj_rctl_humanize(uint64_t n);
/* Whether Linux can enforce the rule; ENOTSUP with a message naming resource and action. */
int lj_rctl_check(const struct lj_rctl_rule *r, lj_err *e);
bool lj_rctl_match(const struct lj_rctl_rule *filter, const struct lj_rctl_rule *r);

/* The rule store ($LJAIL_RUNDIR/rctl.rules, written atomically under a lock). Add: parse, check,
 * store (replacing a rule that differs only in amount) and apply to the jail's group when it
 * runs; on failure nothing changed. Remove: every stored rule the filter matches (ESRCH when
 * none), and the jails' limits are recomputed. List: the stored rules the filter matches. */
int lj_rctl_add(const char *rule, lj_err *e);
int lj_rctl_remove(const char *filter, lj_err *e);
int lj_rctl_list(const char *filter, bool human, lj_strv *out, lj_err *e);
/* rctl -l process:PID: the stored rules that apply to the process (its own, its jail's). */
int lj_rctl_limits(const char *filter, bool human, lj_strv *out, lj_err *e);
/* "name=value" lines for rctl -u (all 25 resources; jail:NAME or process:PID). */
int lj_rctl_usage(const char *filter, bool human, lj_strv *out, lj_err *e);

/* For the lifecycle, after the jail's processes are in its group (lj_cg_attach) and before
 * exec.start: load rules for jail:name from rctl.conf ($LJAIL_RCTL_CONF or
 * LJAIL_SYSCONFDIR/rctl.conf; a missing file is fine) into the store, set the jail.conf rules
 * (the `rctl` parameter: rules without subject, "memoryuse:deny=64M", replacing the ones an
 * earlier start of this jail set) and apply every stored rule for the jail to its group and
 * processes. Errors name the file and line, or the parameter. */
int lj_rctl_apply_jail(const char *name, const char *const *conf_rules, size_t nrules, lj_err *e);
/* Whether rctl.conf or the store has a rule for jail:name (true when either cannot be read):
 * lj_rctl_apply_jail would have something to do. */
bool lj_rctl_jail_has_rules(const char *name);
/* For jexec and anything else that puts a new process into a running jail (after lj_cg_attach):
 * the jail's per-process rules ("openfiles:deny=N/process") become its rlimits; processes
 * forked inside the jail inherit them by themselves. pid 0 = the caller. */
int lj_rctl_enter_jail(const char *name, pid_t pid, lj_err *e);
/* For the lifecycle at removal: forget the rules the jail's `rctl` parameter set (rules added
 * with rctl -a or from rctl.conf stay, as FreeBSD keeps rules by jail name). */
int lj_rctl_jail_removed(const char *name, lj_err *e);
