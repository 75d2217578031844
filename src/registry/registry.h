/* registry: the run directory ($LJAIL_RUNDIR, default /run/ljail) that stands in for FreeBSD's
 * kernel jail list. One record per running jail, written atomically; JIDs allocated under a lock;
 * lookup by name or JID. A jail is alive while its init is: every use goes through a pidfd of the
 * init checked against the start time recorded at creation, so a recycled PID is never entered. */
#pragma once

#include "util/util.h"

struct lj_record {
	int jid;
	char *name;
	pid_t init_pid;      /* the jail's PID 1, as seen from the host */
	uint64_t init_start; /* its start time (/proc/PID/stat field 22) */
	lj_strv params; /* "key=value" for every parameter jls can show (path, host.hostname, vnet,
	                   ...) */
};

struct lj_registry {
	char *dir;   /* the run directory */
	int lockfd;  /* held while locked, else -1 */
	int dirfd;   /* the run directory, open */
	bool intent; /* lj_reg_intent wrote a name the unlock takes back */
};

/* Open (and make) the run directory named by $LJAIL_RUNDIR or /run/ljail. */
int lj_reg_open(struct lj_registry *r, lj_err *e);
void lj_reg_close(struct lj_registry *r);
/* Exclusive lock over the whole registry: JID allocation and name uniqueness happen under it. */
int lj_reg_lock(struct lj_registry *r, lj_err *e);
void lj_reg_unlock(struct lj_registry *r);

/* `want` if it is free (want > 0), else the next free JID after the last one handed out, as
 * FreeBSD does (wrapping at 999999). Call locked. */
int lj_reg_alloc_jid(struct lj_registry *r, int want, int *jid, lj_err *e);
/* A create that keeps the lock until its record is written names its jail in the lock file
 * first; the unlock takes the name back. A holder killed in between leaves it, and the next
 * lj_reg_alloc_jid hands it to the lj_reg_on_orphan function (unless a record of that name
 * lives): what the killed create made (a cgroup, an init in it) is found by that name. */
void lj_reg_intent(struct lj_registry *r, const char *name);
void lj_reg_on_orphan(void (*fn)(const char *name));
int lj_reg_write(struct lj_registry *r, const struct lj_record *rec, lj_err *e);
int lj_reg_delete(struct lj_registry *r, int jid, lj_err *e);
/* The same, only while the record is still own's (same JID, init PID and start time): a JID whose
 * init is gone may already be another jail's. */
int lj_reg_delete_own(struct lj_registry *r, const struct lj_record *own, lj_err *e);

/* Find a running jail by JID (a nonzero integer) or name. Not found: -1 with
 * e->msg = "jail \"x\" not found" and e->errnum = ENOENT. */
int lj_reg_find(struct lj_registry *r, const char *name_or_jid, struct lj_record *out, lj_err *e);
/* Every running jail, in JID order. Records whose init is gone are removed on the way. */
int lj_reg_list(struct lj_registry *r, struct lj_record **out, size_t *n, lj_err *e);
/* A pidfd for the jail's init, refusing a PID that was recycled since creation. */
int lj_reg_pidfd(const struct lj_record *rec, lj_err *e);

/* The value of a parameter in the record, or NULL. */
const char *lj_record_get(const struct lj_record *rec, const char *param);
void lj_record_set(struct lj_record *rec, const char *param, const char *value);
void lj_record_free(struct lj_record *rec);
void lj_records_free(struct lj_record *recs, size_t n);

/* ---- additions used by jail/ and jls ---- */

/* The record of one JID if that jail is alive (-1 otherwise; a dead record is removed). */
int lj_reg_get(struct lj_registry *r, int jid, struct lj_record *out);
/* lj_reg_list, optionally keeping dead records (and then removing nothing). */
int lj_reg_list_all(struct lj_registry *r, bool include_dead, struct lj_record **out, size_t *n,
                    lj_err *e);
/* True while the init recorded in rec runs (same PID and start time, not a zombie). */
bool lj_record_alive(const struct lj_record *rec);
void lj_record_unset(struct lj_record *rec, const char *param);
/* The record as the file holds it, and back (tests). */
char *lj_record_format(const struct lj_record *rec);
int lj_record_parse(const char *text, struct lj_record *rec);
/* Called (under the lock) for every dead record just before it is removed, so the jail module
 * can take away what the jail left on the host (its cgroup). NULL: nothing. */
void lj_reg_on_dead(void (*fn)(const struct lj_record *rec));
/* /proc/PID/stat: start time (field 22) and state letter (may be NULL). */
int lj_proc_start_time(pid_t pid, uint64_t *start, char *state);
