/* export/import: a zstd tarball (GNU tar --zstd; a rare, non-hot path) that keeps owners, modes,
 * extended attributes and sparse files. The export is written to a temp file next to the target
 * and renamed when complete, so a failure such as a full disk leaves no partial file. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

char *st_exe_dir(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return xstrdup(".");
	buf[n] = 0;
	return xstrdup(dirname(buf));
}

char *st_cache_dir(const struct lj_pool *p)
{
	const char *c = getenv("LJAIL_CACHE");
	return c && *c ? xstrdup(c) : xasprintf("%s/.cache", p->root);
}

struct view {
	const char *mnt;  /* where the read-only overlay goes, in the child's own mount namespace */
	const char *opts; /* lowerdir=... */
};

/* In the tar child: a private mount namespace with a read-only overlay of the snapshot's layers. */
static int mount_view(void *arg)
{
	const struct view *v = arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		fprintf(stderr, "mount namespace: %s\n", strerror(errno));
		return -1;
	}
	if (mount("overlay", v->mnt, "overlay", MS_RDONLY, v->opts) < 0) {
		fprintf(stderr, "mount overlay view on %s: %s\n", v->mnt, strerror(errno));
		return -1;
	}
	return 0;
}

static void add_tar_common(lj_strv *a)
{
	lj_strv_add(a, "tar");
	lj_strv_add(a, "--zstd");
	lj_strv_add(a, "--xattrs");
	lj_strv_add(a, "--xattrs-include=*");
	lj_strv_add(a, "--numeric-owner");
}

int lj_store_export(struct lj_pool *p, const char *name, const char *file, lj_err *e)
{
	if (lj_store_check_name(name, 2, e) < 0)
		return lj_error_prefix(e, "cannot export '%s'", name);
	struct st_ds *d = st_find(p, name);
	if (!d)
		return lj_errorx(e, "cannot open '%s': dataset does not exist", name);
	lj_autofree char *src = NULL;
	lj_autofree char *viewdir = NULL;
	lj_buf opts = {0};
	lj_strv kids = {0};
	if (!d->snap) {
		if (lj_store_mount(p, name, &src, e) < 0)
			return -1;
		st_child_rels(p, name, &kids);
	} else {
		src = st_snap_path(p, name);
		lj_autofree char *fsname = xstrndup(name, strcspn(name, "@"));
		struct st_ds *fs = st_find(p, fsname);
		if (fs && st_ovl_is_clone(fs)) {
			/* the snapshot holds only an upper layer: look at it through its lowers */
			lj_strv lw = {0};
			if (st_ovl_lowers(p, name, &lw, e) < 0)
				return -1;
			lj_buf_adds(&opts, "lowerdir=");
			for (size_t i = 0; i < lw.n; i++) {
				if (i)
					lj_buf_addc(&opts, ':');
				lj_buf_adds(&opts, lw.v[i]);
			}
			lj_strv_free(&lw);
			viewdir = xasprintf("%s/tmp/export.%ld", p->meta, (long)getpid());
			if (mkdir(viewdir, 0700) < 0) {
				lj_buf_free(&opts);
				return lj_error(e, errno, "%s", viewdir);
			}
			free(src);
			src = xstrdup(viewdir);
		}
	}
	lj_autofree char *tmp = xasprintf("%s.tmp.%ld", file, (long)getpid());
	lj_strv a = {0};
	add_tar_common(&a);
	lj_strv_add(&a, "--sparse");
	lj_strv_add(&a, "-cpf");
	lj_strv_add(&a, tmp);
	for (size_t i = 0; i < kids.n; i++)
		lj_strv_addf(&a, "--exclude=./%s/*", kids.v[i]);
	lj_strv_add(&a, "-C");
	lj_strv_add(&a, src);
	lj_strv_add(&a, ".");
	struct view v = {.mnt = viewdir, .opts = lj_buf_str(&opts)};
	struct st_run_opts o = {.setup = viewdir ? mount_view : NULL, .arg = &v};
	int rc = st_run_ex(a.v, &o, e);
	lj_strv_free(&a);
	lj_strv_free(&kids);
	lj_buf_free(&opts);
	if (viewdir)
		rmdir(viewdir);
	if (rc == 0) {
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = lj_error(e, errno, "%s", tmp);
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && rename(tmp, file) < 0)
		rc = lj_error(e, errno, "%s", file);
	if (rc < 0) {
		unlink(tmp);
		return lj_error_prefix(e, "cannot export '%s' to '%s'", name, file);
	}
	return 0;
}

int lj_store_import(struct lj_pool *p, const char *file, const char *name, lj_err *e)
{
	if (lj_store_check_name(name, 0, e) < 0)
		return lj_error_prefix(e, "cannot create '%s'", name);
	if (st_find(p, name))
		return lj_errorx(e, "cannot create '%s': dataset already exists", name);
	struct stat st;
	if (stat(file, &st) < 0)
		return lj_error(e, errno, "cannot import '%s'", file);
	if (!S_ISREG(st.st_mode))
		return lj_errorx(e, "cannot import '%s': not a regular file", file);
	if (lj_store_create(p, name, 0, e) < 0)
		return -1;
	lj_autofree char *mp = NULL;
	if (lj_store_mount(p, name, &mp, e) < 0)
		goto undo;
	lj_strv a = {0};
	add_tar_common(&a);
	lj_strv_add(&a, "-xpf");
	lj_strv_add(&a, file);
	lj_strv_add(&a, "-C");
	lj_strv_add(&a, mp);
	int rc = st_run_ex(a.v, NULL, e);
	lj_strv_free(&a);
	if (rc == 0)
		return 0;
	lj_error_prefix(e, "cannot import '%s'", file);
undo:;
	lj_err e2;
	lj_store_destroy(p, name, LJ_STORE_RECURSIVE, NULL, &e2);
	return -1;
}
