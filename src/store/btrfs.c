/* The btrfs backend: a dataset is a subvolume; snapshots are read-only btrfs snapshots and clones
 * writable snapshots of them, all through libbtrfsutil (O(1), copy-on-write). */
#include "store/store_int.h"

#include <btrfsutil.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/btrfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int bt_err(lj_err *e, enum btrfs_util_error err, const char *what, const char *path)
{
	int saved = errno;
	return lj_errorx(e, "%s %s: %s%s%s", what, path, btrfs_util_strerror(err),
	                 saved ? ": " : "", saved ? strerror(saved) : "");
}

static int parent_dir(const char *path, lj_err *e)
{
	lj_autofree char *d = xstrdup(path);
	return lj_mkdir_p(dirname(d), 0700, e);
}

static int bt_create(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *mp = st_fs_path(p, fs->name);
	errno = 0;
	enum btrfs_util_error err = btrfs_util_create_subvolume(mp, 0, NULL, NULL);
	return err ? bt_err(e, err, "create subvolume", mp) : 0;
}

static int bt_snapshot(struct lj_pool *p, const struct st_ds *fs, const struct st_ds *snap,
                       lj_err *e)
{
	lj_autofree char *mp = st_fs_path(p, fs->name);
	lj_autofree char *sp = st_snap_path(p, snap->name);
	if (parent_dir(sp, e) < 0)
		return -1;
	errno = 0;
	enum btrfs_util_error err = btrfs_util_create_snapshot(
	        mp, sp, BTRFS_UTIL_CREATE_SNAPSHOT_READ_ONLY, NULL, NULL);
	return err ? bt_err(e, err, "snapshot", mp) : 0;
}

static int bt_clone(struct lj_pool *p, const struct st_ds *snap, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *sp = st_snap_path(p, snap->name);
	lj_autofree char *mp = st_fs_path(p, fs->name);
	errno = 0;
	enum btrfs_util_error err = btrfs_util_create_snapshot(sp, mp, 0, NULL, NULL);
	return err ? bt_err(e, err, "clone", sp) : 0;
}

static int delete_subvol(const char *path, lj_err *e)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	errno = 0;
	enum btrfs_util_error err = btrfs_util_delete_subvolume(path, 0);
	return err ? bt_err(e, err, "delete subvolume", path) : 0;
}

static int bt_rollback(struct lj_pool *p, const struct st_ds *fs, const struct st_ds *snap,
                       lj_err *e)
{
	lj_strv kids = {0};
	st_child_rels(p, fs->name, &kids);
	size_t nkids = kids.n;
	lj_strv_free(&kids);
	if (nkids)
		return lj_errorx(e, "'%s' has child datasets, which a btrfs rollback would lose",
		                 fs->name);
	/* a writable snapshot of the snapshot takes the dataset's place; the old one goes */
	lj_autofree char *sp = st_snap_path(p, snap->name);
	lj_autofree char *mp = st_fs_path(p, fs->name);
	lj_autofree char *fresh = xasprintf("%s/tmp/rollback.%ld", p->meta, (long)getpid());
	lj_autofree char *old = xasprintf("%s/tmp/old.%ld", p->meta, (long)getpid());
	errno = 0;
	enum btrfs_util_error err = btrfs_util_create_snapshot(sp, fresh, 0, NULL, NULL);
	if (err)
		return bt_err(e, err, "snapshot", sp);
	if (rename(mp, old) < 0) {
		lj_error(e, errno, "rename %s", mp);
		delete_subvol(fresh, NULL);
		return -1;
	}
	if (rename(fresh, mp) < 0) {
		lj_error(e, errno, "rename %s", fresh);
		rename(old, mp);
		delete_subvol(fresh, NULL);
		return -1;
	}
	return delete_subvol(old, e);
}

static int bt_destroy_fs(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *mp = st_fs_path(p, fs->name);
	return delete_subvol(mp, e);
}

static int bt_destroy_snap(struct lj_pool *p, const struct st_ds *snap, lj_err *e)
{
	lj_autofree char *sp = st_snap_path(p, snap->name);
	if (delete_subvol(sp, e) < 0)
		return -1;
	lj_autofree char *stop = xasprintf("%s/snap", p->meta);
	st_prune_parents(sp, stop);
	return 0;
}

static int nop(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	(void)p, (void)fs, (void)e;
	return 0;
}

/* Qgroup numbers when quotas are on: /sys/fs/btrfs/FSID/qgroups/0_ID/{referenced,exclusive}. */
static int qgroup_usage(const char *path, uint64_t *excl, uint64_t *refer)
{
	lj_autoclose int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct btrfs_ioctl_fs_info_args fi;
	memset(&fi, 0, sizeof fi);
	uint64_t id;
	if (fd < 0 || ioctl(fd, BTRFS_IOC_FS_INFO, &fi) < 0 ||
	    btrfs_util_subvolume_id_fd(fd, &id) != BTRFS_UTIL_OK)
		return -1;
	const unsigned char *u = fi.fsid;
	lj_autofree char *dir =
	        xasprintf("/sys/fs/btrfs/"
	                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x/"
	                  "qgroups/0_%llu",
	                  u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
	                  u[12], u[13], u[14], u[15], (unsigned long long)id);
	lj_autofree char *rf = xasprintf("%s/referenced", dir),
	                 *ef = xasprintf("%s/exclusive", dir);
	lj_autofree char *rs = NULL, *es = NULL;
	if (lj_read_file(rf, &rs, NULL, NULL) < 0 || lj_read_file(ef, &es, NULL, NULL) < 0)
		return -1;
	rs[strcspn(rs, "\n")] = 0;
	es[strcspn(es, "\n")] = 0;
	if (!lj_parse_u64(rs, refer) || !lj_parse_u64(es, excl))
		return -1;
	return 0;
}

static int bt_usage(struct lj_pool *p, const struct st_ds *d, uint64_t *excl, uint64_t *refer,
                    lj_err *e)
{
	lj_autofree char *path = d->snap ? st_snap_path(p, d->name) : st_fs_path(p, d->name);
	if (qgroup_usage(path, excl, refer) == 0)
		return 0;
	/* no quotas: walk, and count the extents nothing else shares */
	struct btrfs_util_subvolume_info si;
	int64_t since = 0;
	if (btrfs_util_subvolume_info(path, 0, &si) == BTRFS_UTIL_OK)
		since = (int64_t)si.otime.tv_sec * 1000000000 + si.otime.tv_nsec;
	lj_strv kids = {0};
	if (!d->snap)
		st_child_rels(p, d->name, &kids);
	int rc = st_tree_size(path, &kids, refer, excl, since, e);
	lj_strv_free(&kids);
	return rc;
}

const struct st_ops st_btrfs_ops = {
        .name = "btrfs",
        .create = bt_create,
        .snapshot = bt_snapshot,
        .clone = bt_clone,
        .rollback = bt_rollback,
        .destroy_fs = bt_destroy_fs,
        .destroy_snap = bt_destroy_snap,
        .mount = nop,
        .umount = nop,
        .usage = bt_usage,
};
