/* The overlay and dir backends, for any filesystem.
 *
 * A filesystem that is not a clone is a plain folder; its snapshots are copies (reflinked where
 * the filesystem can). An overlay clone is an overlay mount at its mountpoint: lower layers = its
 * origin snapshot, then (when that snapshot is itself of an overlay clone, so holds only an
 * upper layer) that clone's origin, and so on; upper and work live in .ljail/ovl/NAME. A snapshot
 * of an overlay clone copies only the upper layer, whiteouts and overlay xattrs included.
 * A dir clone is a full copy. */
#include "store/store_int.h"

#include <errno.h>
#include <libgen.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

bool st_ovl_is_clone(const struct st_ds *d)
{
	return d->bk == LJ_BK_OVERLAY && d->origin;
}

static bool ovl_clone(const struct st_ds *d)
{
	return d->bk == LJ_BK_OVERLAY && d->origin;
}

static char *fs_of(const char *snapname)
{
	return xstrndup(snapname, strcspn(snapname, "@"));
}

static int parent_dir(const char *path, lj_err *e)
{
	lj_autofree char *d = xstrdup(path);
	return lj_mkdir_p(dirname(d), 0700, e);
}

static int ov_create(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *mp = st_fs_path(p, fs->name);
	return mkdir(mp, 0755) < 0 ? lj_error(e, errno, "%s", mp) : 0;
}

static int ov_snapshot(struct lj_pool *p, const struct st_ds *fs, const struct st_ds *snap,
                       lj_err *e)
{
	lj_autofree char *src =
	        ovl_clone(fs) ? st_ovl_path(p, fs->name, "upper") : st_fs_path(p, fs->name);
	lj_autofree char *sp = st_snap_path(p, snap->name);
	if (parent_dir(sp, e) < 0)
		return -1;
	lj_strv kids = {0};
	st_child_rels(p, fs->name, &kids);
	sync(); /* a running jail's writes still in the page cache belong in the copy */
	int rc = st_copy_tree(src, sp, &kids, e);
	lj_strv_free(&kids);
	if (rc < 0) {
		st_rm_rf(sp, false, NULL, NULL);
		return -1;
	}
	/* snapshots are read-only: the copy's top folder keeps the source's mode for the clones,
	 * so protect it by the metadata folder's 0700 instead */
	return 0;
}

/* The lower layers of a clone of snap, topmost first. */
static int lowers(struct lj_pool *p, const char *snapname, lj_strv *out, lj_err *e)
{
	lj_autofree char *cur = xstrdup(snapname);
	for (int depth = 0; depth < 64; depth++) {
		lj_strv_push(out, st_snap_path(p, cur));
		lj_autofree char *fsname = fs_of(cur);
		struct st_ds *fs = st_find(p, fsname);
		if (!fs || !ovl_clone(fs))
			return 0;
		free(cur);
		cur = xstrdup(fs->origin);
	}
	return lj_errorx(e, "%s: too many stacked clones", snapname);
}

static void add_escaped(lj_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ':' || *s == '\\' || *s == ',')
			lj_buf_addc(b, '\\');
		lj_buf_addc(b, *s);
	}
}

static int ov_mount(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	if (!ovl_clone(fs))
		return 0;
	lj_autofree char *mp = st_fs_path(p, fs->name);
	if (st_is_mounted(mp))
		return 0;
	lj_autofree char *up = st_ovl_path(p, fs->name, "upper");
	lj_autofree char *wk = st_ovl_path(p, fs->name, "work");
	if (mkdir(mp, 0755) < 0 && errno != EEXIST)
		return lj_error(e, errno, "%s", mp);
	lj_strv lw = {0};
	if (lowers(p, fs->origin, &lw, e) < 0)
		return -1;
	lj_buf opt = {0};
	lj_buf_adds(&opt, "lowerdir=");
	for (size_t i = 0; i < lw.n; i++) {
		if (i)
			lj_buf_addc(&opt, ':');
		add_escaped(&opt, lw.v[i]);
	}
	lj_strv_free(&lw);
	lj_buf_adds(&opt, ",upperdir=");
	add_escaped(&opt, up);
	lj_buf_adds(&opt, ",workdir=");
	add_escaped(&opt, wk);
	int rc = 0;
	if (mount("overlay", mp, "overlay", MS_NODEV, lj_buf_str(&opt)) < 0)
		rc = lj_error(e, errno, "mount overlay on %s", mp);
	lj_buf_free(&opt);
	return rc;
}

static int ov_umount(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	if (!ovl_clone(fs))
		return 0;
	lj_autofree char *mp = st_fs_path(p, fs->name);
	if (!st_is_mounted(mp))
		return 0;
	if (umount2(mp, UMOUNT_NOFOLLOW) < 0) {
		if (errno == EBUSY)
			return lj_errorx(e, "cannot unmount '%s': pool or dataset is busy", mp);
		return lj_error(e, errno, "unmount %s", mp);
	}
	return 0;
}

static int ov_clone(struct lj_pool *p, const struct st_ds *snap, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *mp = st_fs_path(p, fs->name);
	lj_autofree char *up = st_ovl_path(p, fs->name, "upper");
	lj_autofree char *wk = st_ovl_path(p, fs->name, "work");
	lj_autofree char *top = st_ovl_path(p, fs->name, "");
	top[strlen(top) - 1] = 0;
	(void)snap;
	struct stat st;
	/* leftovers of someone else's are not ours to remove, nor to build on */
	if (lstat(top, &st) == 0)
		return lj_errorx(e, "%s already exists", top);
	if (lj_mkdir_p(up, 0755, e) < 0 || lj_mkdir_p(wk, 0700, e) < 0)
		goto undo;
	if (ov_mount(p, fs, e) < 0)
		goto undo;
	return 0;
undo:
	rmdir(mp);
	st_rm_rf(top, false, NULL, NULL);
	{
		lj_autofree char *stop = xasprintf("%s/ovl", p->meta);
		st_prune_parents(top, stop);
	}
	return -1;
}

static int dir_clone(struct lj_pool *p, const struct st_ds *snap, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *sp = st_snap_path(p, snap->name);
	lj_autofree char *mp = st_fs_path(p, fs->name);
	if (st_copy_tree(sp, mp, NULL, e) < 0) {
		st_rm_rf(mp, false, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Put a fresh copy of src where dst is: copy beside it first, so a failed copy (a full disk)
 * leaves dst as it was; then swap the two and remove the old one. */
static int swap_in_copy(struct lj_pool *p, const char *src, const char *dst, lj_err *e)
{
	lj_autofree char *fresh = xasprintf("%s/tmp/rollback.%ld", p->meta, (long)getpid());
	lj_autofree char *old = xasprintf("%s/tmp/old.%ld", p->meta, (long)getpid());
	if (st_copy_tree(src, fresh, NULL, e) < 0) {
		st_rm_rf(fresh, false, NULL, NULL);
		return -1;
	}
	if (rename(dst, old) < 0) {
		int saved = errno;
		st_rm_rf(fresh, false, NULL, NULL);
		return lj_error(e, saved, "rename %s", dst);
	}
	if (rename(fresh, dst) < 0) {
		int saved = errno;
		rename(old, dst);
		st_rm_rf(fresh, false, NULL, NULL);
		return lj_error(e, saved, "rename %s", fresh);
	}
	return st_rm_rf(old, false, NULL, e);
}

static int ov_rollback(struct lj_pool *p, const struct st_ds *fs, const struct st_ds *snap,
                       lj_err *e)
{
	lj_autofree char *sp = st_snap_path(p, snap->name);
	lj_strv kids = {0};
	st_child_rels(p, fs->name, &kids);
	int rc;
	if (ovl_clone(fs)) {
		/* the layers of a mounted overlay must not change under it */
		lj_autofree char *up = st_ovl_path(p, fs->name, "upper");
		lj_autofree char *wk = st_ovl_path(p, fs->name, "work");
		lj_autofree char *mp = st_fs_path(p, fs->name);
		bool was = st_is_mounted(mp);
		rc = ov_umount(p, fs, e);
		if (rc == 0 && kids.n == 0)
			rc = swap_in_copy(p, sp, up, e);
		else if (rc == 0) {
			rc = st_rm_rf(up, true, NULL, e);
			if (rc == 0)
				rc = st_copy_tree(sp, up, NULL, e);
		}
		if (rc == 0)
			rc = st_rm_rf(wk, true, NULL, e);
		/* mounted again even after a failure: the dataset stays usable as it is */
		lj_err e2;
		if ((rc == 0 || was) && ov_mount(p, fs, rc == 0 ? e : &e2) < 0)
			rc = -1;
	} else {
		lj_autofree char *mp = st_fs_path(p, fs->name);
		if (kids.n == 0)
			rc = swap_in_copy(p, sp, mp, e);
		else {
			/* child datasets live inside: replace the content around them */
			rc = st_rm_rf(mp, true, &kids, e);
			if (rc == 0)
				rc = st_copy_tree(sp, mp, &kids, e);
		}
	}
	lj_strv_free(&kids);
	return rc;
}

static int ov_destroy_fs(struct lj_pool *p, const struct st_ds *fs, lj_err *e)
{
	lj_autofree char *mp = st_fs_path(p, fs->name);
	if (ovl_clone(fs)) {
		if (ov_umount(p, fs, e) < 0)
			return -1;
		lj_autofree char *top = st_ovl_path(p, fs->name, "");
		top[strlen(top) - 1] = 0;
		if (st_rm_rf(top, false, NULL, e) < 0)
			return -1;
		lj_autofree char *stop = xasprintf("%s/ovl", p->meta);
		st_prune_parents(top, stop);
	}
	return st_rm_rf(mp, false, NULL, e);
}

static int ov_destroy_snap(struct lj_pool *p, const struct st_ds *snap, lj_err *e)
{
	lj_autofree char *sp = st_snap_path(p, snap->name);
	if (st_rm_rf(sp, false, NULL, e) < 0)
		return -1;
	lj_autofree char *stop = xasprintf("%s/snap", p->meta);
	st_prune_parents(sp, stop);
	return 0;
}

/* What a snapshot refers to: its own copy, plus the layers below when it holds only an upper. */
static int snap_refer(struct lj_pool *p, const char *snapname, uint64_t *refer, lj_err *e)
{
	*refer = 0;
	lj_strv lw = {0};
	int rc = lowers(p, snapname, &lw, e);
	for (size_t i = 0; rc == 0 && i < lw.n; i++) {
		uint64_t b = 0;
		rc = st_tree_size(lw.v[i], NULL, &b, NULL, 0, e);
		*refer += b;
	}
	lj_strv_free(&lw);
	return rc;
}

static int ov_usage(struct lj_pool *p, const struct st_ds *d, uint64_t *excl, uint64_t *refer,
                    lj_err *e)
{
	if (d->snap) {
		lj_autofree char *sp = st_snap_path(p, d->name);
		if (st_tree_size(sp, NULL, excl, NULL, 0, e) < 0)
			return -1;
		return snap_refer(p, d->name, refer, e);
	}
	lj_strv kids = {0};
	st_child_rels(p, d->name, &kids);
	lj_autofree char *mp = st_fs_path(p, d->name);
	int rc;
	if (ovl_clone(d)) {
		lj_autofree char *up = st_ovl_path(p, d->name, "upper");
		rc = st_tree_size(up, &kids, excl, NULL, 0, e);
		if (rc == 0 && st_is_mounted(mp))
			rc = st_tree_size(mp, &kids, refer, NULL, 0, e);
		else if (rc == 0) {
			rc = snap_refer(p, d->origin, refer, e);
			*refer += *excl;
		}
	} else {
		rc = st_tree_size(mp, &kids, refer, NULL, 0, e);
		*excl = *refer;
	}
	lj_strv_free(&kids);
	return rc;
}

int st_ovl_lowers(struct lj_pool *p, const char *snapname, lj_strv *out, lj_err *e)
{
	return lowers(p, snapname, out, e);
}

const struct st_ops st_overlay_ops = {
        .name = "overlay",
        .create = ov_create,
        .snapshot = ov_snapshot,
        .clone = ov_clone,
        .rollback = ov_rollback,
        .destroy_fs = ov_destroy_fs,
        .destroy_snap = ov_destroy_snap,
        .mount = ov_mount,
        .umount = ov_umount,
        .usage = ov_usage,
};

const struct st_ops st_dir_ops = {
        .name = "dir",
        .create = ov_create,
        .snapshot = ov_snapshot,
        .clone = dir_clone,
        .rollback = ov_rollback,
        .destroy_fs = ov_destroy_fs,
        .destroy_snap = ov_destroy_snap,
        .mount = ov_mount,
        .umount = ov_umount,
        .usage = ov_usage,
};
