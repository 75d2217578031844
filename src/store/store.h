/* store: ZFS-style datasets for jail roots, behind one ops table with three backends.
 *
 *   btrfs    a dataset is a subvolume; snapshots and clones are btrfs snapshots (libbtrfsutil)
 *   overlay  any filesystem: a snapshot is a copy (reflinked where possible); a clone is an overlay
 *            mount, lower = the snapshot, upper = the clone's own layer; a snapshot of a clone
 *            copies only its upper layer
 *   dir      thick: a clone is a full copy
 *
 * The pool root ($LJAIL_POOL, default /var/lib/ljail/pool) is chosen per pool by the filesystem
 * under it ($LJAIL_BACKEND forces one). Names are ZFS's: "templates/base", "templates/base@15.0";
 * a dataset's mountpoint is the pool root + its name. Snapshots, overlay layers and the metadata
 * (one atomically rewritten file, changed under a lock) live in the pool's hidden ".ljail" folder.
 * Every operation undoes its own earlier steps when a later one fails. */
#pragma once

#include "util/util.h"

#define LJ_STORE_DEFAULT_POOL "/var/lib/ljail/pool"

enum lj_backend { LJ_BK_BTRFS, LJ_BK_OVERLAY, LJ_BK_DIR };

struct lj_pool;

/* One row of `jailctl list`. Sizes in bytes; avail is -1 for snapshots. */
struct lj_ds_info {
	char *name; /* "templates/base" or "templates/base@15.0" */
	bool is_snapshot;
	enum lj_backend backend;
	char *origin;     /* clones: the snapshot they came from, else NULL */
	char *mountpoint; /* filesystems: pool root + name; snapshots: NULL */
	uint64_t used, refer;
	int64_t avail;
	int64_t created; /* seconds since the epoch */
	bool mounted;
};

/* Open the pool at root (NULL: $LJAIL_POOL or the default), making the root if missing. */
int lj_store_open(struct lj_pool **out, const char *root, lj_err *e);
void lj_store_close(struct lj_pool *p);
const char *lj_store_root(const struct lj_pool *p);
enum lj_backend lj_store_backend(const struct lj_pool *p);
const char *lj_backend_name(enum lj_backend b);

/* Name checks: ZFS's character set (alnum, "_-.:"), components separated by '/', no "." or "..",
 * no leading or trailing '/'. snap: 0 = a filesystem name, 1 = must be NAME@SNAP, 2 = either.
 * Errors read "invalid dataset name: ..." (callers add "cannot create 'x': "). */
int lj_store_check_name(const char *name, int snap, lj_err *e);

/* True when a filesystem or snapshot of that name exists. */
bool lj_store_exists(struct lj_pool *p, const char *name);

#define LJ_STORE_PARENTS 0x1 /* create/clone -p: make missing parents */
int lj_store_create(struct lj_pool *p, const char *name, int flags, lj_err *e);
int lj_store_snapshot(struct lj_pool *p, const char *snapname, lj_err *e);
int lj_store_clone(struct lj_pool *p, const char *snapname, const char *newname, int flags,
                   lj_err *e);
/* Paths in use as running jails' roots: destroy and rollback refuse datasets mounted there. */
void lj_store_set_busy(struct lj_pool *p, const lj_strv *paths);
/* Roll back to snap; with recursive (-r), newer snapshots are destroyed, else they make it fail. */
int lj_store_rollback(struct lj_pool *p, const char *snapname, bool recursive, lj_err *e);

#define LJ_STORE_RECURSIVE  0x1 /* -r: children and snapshots */
#define LJ_STORE_DEPENDENTS 0x2 /* -R: also clones of those snapshots, anywhere */
/* Refusals fill *blockers (if given) with the datasets that stand in the way, in ZFS's message
 * order; e then reads "filesystem has children" / "snapshot has dependent clones" ... */
int lj_store_destroy(struct lj_pool *p, const char *name, int flags, lj_strv *blockers, lj_err *e);

/* Datasets to list: name NULL = all; recursive adds descendants; types: 1 filesystem, 2 snapshot.
 */
int lj_store_list(struct lj_pool *p, const char *name, bool recursive, int types,
                  struct lj_ds_info **out, size_t *n, lj_err *e);
void lj_ds_infos_free(struct lj_ds_info *v, size_t n);

/* Mount a dataset (overlay clones; a no-op for the others) and give its mountpoint. */
int lj_store_mount(struct lj_pool *p, const char *name, char **mountpoint, lj_err *e);
int lj_store_mount_all(struct lj_pool *p, lj_err *e);
int lj_store_umount(struct lj_pool *p, const char *name, lj_err *e);
int lj_store_umount_all(struct lj_pool *p, lj_err *e);
/* For the jail lifecycle: when path (a jail's `path`) is a dataset's mountpoint in the pool
 * ($LJAIL_POOL or the default), mount it if needed. *found says whether it was one; a path
 * outside the pool is no error. */
int lj_store_mount_path(const char *path, bool *found, lj_err *e);

/* A zstd tarball of a filesystem or snapshot keeping owners, modes, xattrs; written to a temp
 * file and renamed, so a failure (a full disk) leaves no partial file. */
int lj_store_export(struct lj_pool *p, const char *name, const char *file, lj_err *e);
/* A new filesystem holding the tarball's content; nothing is left when it fails. */
int lj_store_import(struct lj_pool *p, const char *file, const char *name, lj_err *e);

/* Progress of long steps: step n of total, what it does. */
typedef void (*lj_store_progress)(void *arg, int step, int total, const char *what);

struct lj_bootstrap {
	const char *busybox;   /* busybox binary (NULL: $LJAIL_BUSYBOX or /bin/busybox) */
	const char *suite;     /* Debian suite for debootstrap, NULL for busybox */
	lj_strv with;          /* extra Debian packages */
	const char *templates; /* folder of files put into every template (NULL: found near the
	                          binary) */
	const char
	        *tooldir; /* where ljail's ifconfig/route/netstat are (NULL: next to the binary) */
	lj_store_progress progress;
	void *progress_arg;
};
/* Make dataset `name` (with parents) and fill it; on failure the dataset is destroyed again. */
int lj_store_bootstrap(struct lj_pool *p, const char *name, const struct lj_bootstrap *b,
                       lj_err *e);
/* Install the template files (rc, rc.shutdown, sysrc, service, tools) into a root folder. */
int lj_store_install_userland(const char *root, const struct lj_bootstrap *b, lj_err *e);

/* apt-get VERB PKG... inside root (a private mount namespace: /proc, /dev, the host's apt
 * configuration and resolv.conf, the pool's package cache); services are not started. */
int lj_store_apt(struct lj_pool *p, const char *root, bool host_apt, const char *verb,
                 const lj_strv *pkgs, lj_err *e);

/* ZFS's human number: 0B 96K 1.50K 33.9G 374M (buf of at least 16 bytes). */
void lj_store_nicenum(uint64_t n, char *buf, size_t len);
