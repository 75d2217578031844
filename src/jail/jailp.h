/* jail-internal: the state of one jail while jail(8) acts on it, shared by lifecycle.c (the
 * state machine), run.c (commands) and steps.c (the steps themselves). */
#pragma once

#include "conf/conf.h"
#include "jail/jail.h"
#include "registry/registry.h"

struct lj_cg;

enum jx_state { JX_PENDING, JX_RUNNING, JX_DONE, JX_FAILED, JX_SKIPPED };

struct jx {
	const struct lj_jail_request *req;
	struct jc_jail *cj; /* the jail's parameters (config, command line or made from a record) */
	const char *msgname; /* "NAME: " in messages; NULL for a command-line jail */
	char *name;          /* the jail's name (name parameter, else the JID once known) */
	int jid;             /* the running jail's JID, or -1 */
	bool have_rec;
	struct lj_record rec; /* the registry record once created (or found) */
	int pidfd;            /* the init's pidfd, or -1 */
	int launchfd; /* control channel to the init while creating (lj_isolate_launch), or -1 */
	/* the command step's last line of a jail that is not persistent and has no
	 * exec.poststart: its launch turns persist off (persist_off once it has), and init_exits
	 * says whether the init exits right after (see lj_iso_exec.init_exits) */
	bool last_launch, persist_off, init_exits;
	/* the first command line went to the init while it set itself up (jx_launch_early):
	 * its run only waits for the answer to request early_id */
	bool early_sent;
	uint32_t early_id;
	struct lj_cg *cg; /* the jail's cgroup, NULL when not made/opened */
	bool hold_lock;   /* no other create of this jail(8) runs beside it (see step_create) */
	bool owns_cj;     /* cj was made here (free it) */

	/* how far the create sequence got: what the undo has to take back */
	size_t ip4_done, ip6_done, mount_done, fstab_done, vnet_done;
	bool rctl_set; /* jail.conf `rctl` rules went into the rule store */
	lj_strv fstab; /* the mount.fstab lines, read once */

	/* vnet (steps.c): > 0, the jail's network namespace made before exec.prestart; the
	 * vnet.interface members left to die with their namespace at removal */
	int netns_fd;
	lj_strv vnet_die;

	/* scheduling */
	enum jx_state state;
	bool as_dependency; /* pulled in by depend, not asked for */
	bool removing;      /* the remove sequence (also for -rc before the create) */
	size_t *deps;       /* indexes of jails that must be done first */
	size_t ndeps;
	bool visiting; /* loop detection */
};

/* run.c: messages and commands */
void jx_warn(const struct jx *j, const char *fmt, ...) LJ_PRINTF(2, 3);
void jx_note(const struct jx *j, const char *fmt, ...) LJ_PRINTF(2, 3);
/* Run one exec.* string (FreeBSD's /bin/sh -c vs direct rule), on the host or in the jail.
 * 0 on success; else the failure was reported and -1 is returned. */
int jx_run_string(struct jx *j, const char *step, const char *cmd, bool injail);
/* Run an argv as given (the `command` of a command-line jail). */
int jx_run_argv(struct jx *j, const char *step, char **argv, bool injail);
/* While the create waits for the init (ctlfd: the channel, see lj_iso_spec.after_go): send it
 * argv, the first command line, when the init is the one to run it; the line's jx_run_argv
 * then only waits for it. last: its launch turns persist off (last_launch). Whether it went. */
bool jx_launch_early(struct jx *j, int ctlfd, char **argv, bool last);
/* A parameter's values, or NULL when unset or empty. */
const lj_strv *jx_list(const struct jx *j, const char *name);
const char *jx_str(const struct jx *j, const char *name);
bool jx_bool(const struct jx *j, const char *name, bool dflt);
bool jx_fault(const struct jx *j, const char *step);
/* SIGINT, SIGTERM or SIGHUP arrived: the create in progress stops and is undone. */
bool jx_interrupted(void);

/* FreeBSD's command rule: argv for cmd ("/bin/sh", "-c", cmd when it has shell characters);
 * *bg when the only such character is a trailing '&' (then dropped). */
void jx_split_command(const char *cmd, lj_strv *argv, bool *bg);

/* lifecycle.c: FreeBSD's wildcard jail names ("*", "foo.*", "*.bar"). */
bool jx_wild_match(const char *pat, const char *name);

/* steps.c: the create and remove sequences */
/* The network namespace of a VNET jail (its pin, else its init's), a new fd; -1 for a jail on
 * the host's network or one that is not running. */
int jx_netns_fd(struct jx *j);

int jx_create(struct jx *j);
int jx_remove(struct jx *j);
/* From exec.poststop to exec.release (the end of a removal, and -C for a dead jail). */
int jx_post_remove(struct jx *j);
int jx_modify(struct jx *j, bool restart_ok, bool *need_restart);
/* Kill every process of a running jail and wait: SIGTERM, stop.timeout, then the init. */
void jx_release(struct jx *j);
