/* store internals shared by the pool logic, the backends, the tree walkers and the archive code. */
#pragma once

#include "store/store.h"

/* One dataset of the pool's metadata: a filesystem ("a/b") or a snapshot ("a/b@s"). */
struct st_ds {
	char *name;
	bool snap;
	enum lj_backend bk;
	char *origin;    /* clones: "x@s" */
	int64_t created; /* epoch seconds */
	uint64_t seq;    /* creation order, like ZFS's createtxg */
};

struct lj_pool {
	char *root; /* absolute, no trailing slash */
	char *meta; /* root/.ljail */
	enum lj_backend bk;
	int lockfd;
	struct st_ds *v;
	size_t n, cap;
	uint64_t seq;
	lj_strv busy; /* mountpoints running jails use (lj_store_set_busy) */
};

struct st_ops {
	const char *name;
	int (*create)(struct lj_pool *p, const struct st_ds *fs, lj_err *e);
	int (*snapshot)(struct lj_pool *p, const struct st_ds *fs, const struct st_ds *snap,
	                lj_err *e);
	int (*clone)(struct lj_pool *p, const struct st_ds *snap, const struct st_ds *fs,
	             lj_err *e);
	int (*rollback)(struct lj_pool *p, const struct st_ds *fs, const struct st_ds *snap,
	                lj_err *e);
	int (*destroy_fs)(struct lj_pool *p, const struct st_ds *fs, lj_err *e);
	int (*destroy_snap)(struct lj_pool *p, const struct st_ds *snap, lj_err *e);
	int (*mount)(struct lj_pool *p, const struct st_ds *fs, lj_err *e);
	int (*umount)(struct lj_pool *p, const struct st_ds *fs, lj_err *e);
	/* excl: bytes only this dataset holds; refer: bytes it refers to */
	int (*usage)(struct lj_pool *p, const struct st_ds *d, uint64_t *excl, uint64_t *refer,
	             lj_err *e);
};

extern const struct st_ops st_btrfs_ops, st_overlay_ops, st_dir_ops;
const struct st_ops *st_ops_for(enum lj_backend b);

/* pool.c */
struct st_ds *st_find(struct lj_pool *p, const char *name);
char *st_fs_path(const struct lj_pool *p, const char *fsname);     /* root/name */
char *st_snap_path(const struct lj_pool *p, const char *snapname); /* root/.ljail/snap/name@s */
char *st_ovl_path(const struct lj_pool *p, const char *fsname, const char *part); /* upper|work */
/* Child filesystems' paths relative to fs (direct and deeper), for copies that must skip them. */
void st_child_rels(struct lj_pool *p, const char *fsname, lj_strv *out);
bool st_is_mounted(const char *path);
int st_save(struct lj_pool *p, lj_err *e);
/* Parse and print the metadata file (exposed for unit tests). */
int st_meta_parse(struct lj_pool *p, const char *text, const char *file, lj_err *e);
char *st_meta_format(const struct lj_pool *p);
void st_ds_clear(struct lj_pool *p);

/* copy.c: tree copy (reflink, owners, modes, xattrs, times, device nodes, hard links). */
int st_copy_tree(const char *src, const char *dst, const lj_strv *skip, lj_err *e);
/* Remove a tree (keep_top: only its content); btrfs subvolumes met on the way are deleted;
 * other mounts are never crossed. */
int st_rm_rf(const char *path, bool keep_top, const lj_strv *skip, lj_err *e);
/* Allocated bytes under path (hard links once); with excl, bytes in extents no other file shares
 * (FIEMAP), counting inline data only when changed at or after `since` (ns since the epoch). */
int st_tree_size(const char *path, const lj_strv *skip, uint64_t *alloc, uint64_t *excl,
                 int64_t since, lj_err *e);
/* Remove now-empty folders between path and stop (exclusive). */
void st_prune_parents(const char *path, const char *stop);
int st_copy_file(const char *src, const char *dst, mode_t mode, lj_err *e);

/* Run argv (fork + exec); the first line of its stderr goes into e on failure. */
struct st_run_opts {
	int (*setup)(void *arg); /* in the child, before exec */
	void *arg;
	const char *log; /* stdout and stderr appended there */
	char **out;      /* stdout captured */
};
int st_run_ex(char *const argv[], const struct st_run_opts *o, lj_err *e);
/* The folder of the running binary. */
char *st_exe_dir(void);
/* The package cache: $LJAIL_CACHE or POOL/.cache. */
char *st_cache_dir(const struct lj_pool *p);
/* Lower layers of an overlay snapshot view, topmost first (overlay.c). */
int st_ovl_lowers(struct lj_pool *p, const char *snapname, lj_strv *out, lj_err *e);
bool st_ovl_is_clone(const struct st_ds *d);
