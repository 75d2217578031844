/* Tree walkers for the overlay and dir backends: copy (reflink where the filesystem can),
 * remove, and measure. Nothing follows symlinks; nothing crosses into another mount. */
#include "store/store_int.h"

#include <btrfsutil.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static bool skipped(const lj_strv *skip, const char *rel)
{
	return skip && rel && *rel && lj_strv_contains(skip, rel);
}

static char *join(const char *a, const char *b)
{
	return xasprintf("%s/%s", a, b);
}

static char *rel_join(const char *rel, const char *name)
{
	return *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

/* ---- copy -------------------------------------------------------------------------------------
 */

static int copy_data(int in, int out)
{
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		break;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

int st_copy_file(const char *src, const char *dst, mode_t mode, lj_err *e)
{
	lj_autoclose int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return lj_error(e, errno, "%s", src);
	lj_autoclose int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0)
		return lj_error(e, errno, "%s", dst);
	if (copy_data(in, out) < 0) {
		int saved = errno;
		unlink(dst);
		return lj_error(e, saved, "copy %s to %s", src, dst);
	}
	if (fchmod(out, mode) < 0)
		return lj_error(e, errno, "%s", dst);
	return 0;
}

static int copy_xattrs(const char *src, const char *dst, lj_err *e)
{
	ssize_t n = llistxattr(src, NULL, 0);
	if (n < 0) {
		if (errno == ENOTSUP)
			return 0;
		return lj_error(e, errno, "%s: list extended attributes", src);
	}
	if (n == 0)
		return 0;
	lj_autofree char *names = xmalloc((size_t)n + 1);
	n = llistxattr(src, names, (size_t)n);
	if (n < 0)
		return lj_error(e, errno, "%s: list extended attributes", src);
	for (char *k = names; k < names + n; k += strlen(k) + 1) {
		ssize_t vl = lgetxattr(src, k, NULL, 0);
		if (vl < 0)
			return lj_error(e, errno, "%s: %s", src, k);
		lj_autofree char *val = xmalloc((size_t)vl + 1);
		vl = lgetxattr(src, k, val, (size_t)vl);
		if (vl < 0)
			return lj_error(e, errno, "%s: %s", src, k);
		if (lsetxattr(dst, k, val, (size_t)vl, 0) < 0) {
			/* POSIX ACLs on a filesystem without them, user.* on symlinks: not fatal */
			if (errno == ENOTSUP || errno == EPERM)
				continue;
			return lj_error(e, errno, "%s: set %s", dst, k);
		}
	}
	return 0;
}

static int copy_meta(const char *src, const char *dst, const struct stat *st, lj_err *e)
{
	if (lchown(dst, st->st_uid, st->st_gid) < 0)
		return lj_error(e, errno, "%s: chown", dst);
	if (!S_ISLNK(st->st_mode) && chmod(dst, st->st_mode & 07777) < 0)
		return lj_error(e, errno, "%s: chmod", dst);
	/* after chown, which clears security.capability */
	if (copy_xattrs(src, dst, e) < 0)
		return -1;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (utimensat(AT_FDCWD, dst, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return lj_error(e, errno, "%s: set times", dst);
	return 0;
}

struct link_seen {
	dev_t dev;
	ino_t ino;
	char *dst;
};

struct copy_ctx {
	const lj_strv *skip;
	dev_t dev;
	struct link_seen *links;
	size_t nlinks, caplinks;
};

static int copy_entry(struct copy_ctx *c, const char *src, const char *dst, const char *rel,
                      lj_err *e);

static int copy_dir(struct copy_ctx *c, const char *src, const char *dst, const char *rel,
                    lj_err *e)
{
	DIR *d = opendir(src);
	if (!d)
		return lj_error(e, errno, "%s", src);
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		lj_autofree char *s = join(src, de->d_name);
		lj_autofree char *t = join(dst, de->d_name);
		lj_autofree char *r = rel_join(rel, de->d_name);
		if ((rc = copy_entry(c, s, t, r, e)) < 0)
			break;
	}
	closedir(d);
	return rc;
}

static int copy_entry(struct copy_ctx *c, const char *src, const char *dst, const char *rel,
                      lj_err *e)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return lj_error(e, errno, "%s", src);
	if (S_ISDIR(st.st_mode)) {
		bool skip = skipped(c->skip, rel);
		if (mkdir(dst, 0700) < 0) {
			if (errno != EEXIST || (*rel && !skip))
				return lj_error(e, errno, "%s", dst);
			if (skip)
				return 0; /* a child dataset's mountpoint already there: leave it
				             alone */
		}
		/* a child dataset or another mount: keep the empty mountpoint only */
		if (!skip && st.st_dev == c->dev && copy_dir(c, src, dst, rel, e) < 0)
			return -1;
		return copy_meta(src, dst, &st, e);
	}
	if (!S_ISLNK(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < c->nlinks; i++)
			if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
				if (link(c->links[i].dst, dst) < 0)
					return lj_error(e, errno, "%s", dst);
				return 0;
			}
	}
	if (S_ISREG(st.st_mode)) {
		if (st_copy_file(src, dst, 0600, e) < 0)
			return -1;
	} else if (S_ISLNK(st.st_mode)) {
		lj_autofree char *target = xmalloc((size_t)st.st_size + 2);
		ssize_t n = readlink(src, target, (size_t)st.st_size + 1);
		if (n < 0)
			return lj_error(e, errno, "%s", src);
		target[n] = 0;
		if (symlink(target, dst) < 0)
			return lj_error(e, errno, "%s", dst);
	} else {
		/* device nodes, fifos, sockets, and overlay whiteouts (char 0:0) */
		if (mknod(dst, st.st_mode, st.st_rdev) < 0)
			return lj_error(e, errno, "%s", dst);
	}
	if (!S_ISLNK(st.st_mode) && st.st_nlink > 1) {
		if (c->nlinks == c->caplinks) {
			c->caplinks = c->caplinks ? 2 * c->caplinks : 16;
			c->links = xrealloc(c->links, c->caplinks * sizeof *c->links);
		}
		c->links[c->nlinks++] = (struct link_seen){st.st_dev, st.st_ino, xstrdup(dst)};
	}
	return copy_meta(src, dst, &st, e);
}

int st_copy_tree(const char *src, const char *dst, const lj_strv *skip, lj_err *e)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return lj_error(e, errno, "%s", src);
	struct copy_ctx c = {.skip = skip, .dev = st.st_dev};
	int rc = copy_entry(&c, src, dst, "", e);
	for (size_t i = 0; i < c.nlinks; i++)
		free(c.links[i].dst);
	free(c.links);
	return rc;
}

/* Remove now-empty folders between path and stop (exclusive). */
void st_prune_parents(const char *path, const char *stop)
{
	lj_autofree char *d = xstrdup(path);
	for (;;) {
		char *s = strrchr(d, '/');
		if (!s)
			return;
		*s = 0;
		if (strcmp(d, stop) == 0 || strlen(d) <= strlen(stop) || rmdir(d) < 0)
			return;
	}
}

/* ---- remove -----------------------------------------------------------------------------------
 */

static int rm_entry(const char *path, const char *rel, dev_t dev, const lj_strv *skip, bool top,
                    lj_err *e);

static int rm_content(const char *path, const char *rel, dev_t dev, const lj_strv *skip, lj_err *e)
{
	DIR *d = opendir(path);
	if (!d)
		return lj_error(e, errno, "%s", path);
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		lj_autofree char *s = join(path, de->d_name);
		lj_autofree char *r = rel_join(rel, de->d_name);
		if ((rc = rm_entry(s, r, dev, skip, false, e)) < 0)
			break;
	}
	closedir(d);
	return rc;
}

static int rm_entry(const char *path, const char *rel, dev_t dev, const lj_strv *skip, bool top,
                    lj_err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : lj_error(e, errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 && errno != ENOENT ? lj_error(e, errno, "%s", path) : 0;
	if (skipped(skip, rel))
		return 0;
	if (!top && st.st_dev != dev) {
		/* a nested btrfs subvolume is a folder of ours; any other mount is not */
		if (btrfs_util_is_subvolume(path) == BTRFS_UTIL_OK) {
			if (btrfs_util_delete_subvolume(
			            path, BTRFS_UTIL_DELETE_SUBVOLUME_RECURSIVE) != BTRFS_UTIL_OK)
				return lj_error(e, errno, "%s: delete subvolume", path);
			return 0;
		}
		return lj_errorx(e, "%s: is a mount point, not removing it", path);
	}
	if (rm_content(path, rel, dev, skip, e) < 0)
		return -1;
	if (top)
		return 0;
	return rmdir(path) < 0 ? lj_error(e, errno, "%s", path) : 0;
}

int st_rm_rf(const char *path, bool keep_top, const lj_strv *skip, lj_err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : lj_error(e, errno, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? lj_error(e, errno, "%s", path) : 0;
	if (rm_entry(path, "", st.st_dev, skip, true, e) < 0)
		return -1;
	if (keep_top)
		return 0;
	if (rmdir(path) < 0)
		return lj_error(e, errno, "%s", path);
	return 0;
}

/* ---- measure ----------------------------------------------------------------------------------
 */

struct size_ctx {
	const lj_strv *skip;
	dev_t dev;
	bool want_excl;
	int64_t since;
	uint64_t alloc, excl;
	struct {
		ino_t ino;
	} * seen;
	size_t nseen, capseen;
};

/* Bytes of the file's extents that nothing else shares. */
static void file_excl(struct size_ctx *c, const char *path, const struct stat *st)
{
	lj_autoclose int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	enum { N = 64 };
	struct fiemap *fm = xcalloc(1, sizeof *fm + N * sizeof(struct fiemap_extent));
	uint64_t start = 0;
	for (;;) {
		memset(fm, 0, sizeof *fm);
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = N;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			/* no FIEMAP: the whole file is ours */
			c->excl += (uint64_t)st->st_blocks * 512;
			break;
		}
		if (fm->fm_mapped_extents == 0)
			break;
		bool last = false;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *x = &fm->fm_extents[i];
			if (x->fe_flags & FIEMAP_EXTENT_DATA_INLINE) {
				/* inline data lives in shared metadata until the file changes */
				if ((int64_t)st->st_ctim.tv_sec * 1000000000 +
				            st->st_ctim.tv_nsec >=
				    c->since)
					c->excl += x->fe_length;
			} else if (!(x->fe_flags & FIEMAP_EXTENT_SHARED))
				c->excl += x->fe_length;
			start = x->fe_logical + x->fe_length;
			if (x->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
		}
		if (last)
			break;
	}
	free(fm);
}

static int size_walk(struct size_ctx *c, const char *path, const char *rel, lj_err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : lj_error(e, errno, "%s", path);
	if (st.st_nlink > 1 && !S_ISDIR(st.st_mode)) {
		for (size_t i = 0; i < c->nseen; i++)
			if (c->seen[i].ino == st.st_ino)
				return 0;
		if (c->nseen == c->capseen) {
			c->capseen = c->capseen ? 2 * c->capseen : 64;
			c->seen = xrealloc(c->seen, c->capseen * sizeof *c->seen);
		}
		c->seen[c->nseen++].ino = st.st_ino;
	}
	c->alloc += (uint64_t)st.st_blocks * 512;
	if (c->want_excl && S_ISREG(st.st_mode))
		file_excl(c, path, &st);
	if (!S_ISDIR(st.st_mode) || skipped(c->skip, rel) || (*rel && st.st_dev != c->dev))
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return lj_error(e, errno, "%s", path);
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		lj_autofree char *s = join(path, de->d_name);
		lj_autofree char *r = rel_join(rel, de->d_name);
		if ((rc = size_walk(c, s, r, e)) < 0)
			break;
	}
	closedir(d);
	return rc;
}

int st_tree_size(const char *path, const lj_strv *skip, uint64_t *alloc, uint64_t *excl,
                 int64_t since, lj_err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return lj_error(e, errno, "%s", path);
	struct size_ctx c = {
	        .skip = skip, .dev = st.st_dev, .want_excl = excl != NULL, .since = since};
	int rc = size_walk(&c, path, "", e);
	free(c.seen);
	if (alloc)
		*alloc = c.alloc;
	if (excl)
		*excl = c.excl;
	return rc;
}

/* ---- helper programs (export/import, debootstrap: off the hot path) ---------------------------
 */

int st_run_ex(char *const argv[], const struct st_run_opts *o, lj_err *e)
{
	int logfd = -1;
	if (o && o->log &&
	    (logfd = open(o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return lj_error(e, errno, "%s", o->log);
	int pfd[2], ofd[2] = {-1, -1};
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		int saved = errno;
		if (logfd >= 0)
			close(logfd);
		return lj_error(e, saved, "pipe");
	}
	if (o && o->out && pipe2(ofd, O_CLOEXEC) < 0)
		ofd[0] = ofd[1] = -2; /* reported below, with the common cleanup */
	pid_t pid = ofd[0] == -2 ? -1 : fork();
	if (pid < 0) {
		int saved = errno;
		close(pfd[0]);
		close(pfd[1]);
		if (ofd[0] >= 0)
			close(ofd[0]), close(ofd[1]);
		if (logfd >= 0)
			close(logfd);
		return lj_error(e, saved, "%s", ofd[0] == -2 ? "pipe" : "fork");
	}
	if (pid == 0) {
		if (logfd >= 0) {
			dup2(logfd, 1);
			dup2(logfd, 2);
		} else
			dup2(pfd[1], 2);
		if (ofd[1] >= 0)
			dup2(ofd[1], 1);
		if (o && o->setup && o->setup(o->arg) < 0)
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (logfd >= 0)
		close(logfd);
	lj_buf err = {0}, out = {0};
	if (ofd[1] >= 0) {
		close(ofd[1]);
		char buf[4096];
		ssize_t n;
		while ((n = read(ofd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				lj_buf_add(&out, buf, (size_t)n);
		close(ofd[0]);
	}
	char buf[4096];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			lj_buf_add(&err, buf, (size_t)n);
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		lj_buf_free(&err);
		if (o && o->out)
			*o->out = out.s ? lj_buf_steal(&out) : xstrdup("");
		return 0;
	}
	lj_buf_free(&out);
	/* the first non-empty line names the cause; later ones are consequences */
	const char *s = lj_buf_str(&err);
	while (*s == '\n')
		s++;
	size_t l = strcspn(s, "\n");
	if (l)
		lj_errorx(e, "%.*s", (int)l, s);
	else if (WIFEXITED(status))
		lj_errorx(e, "%s exited with status %d", argv[0], WEXITSTATUS(status));
	else
		lj_errorx(e, "%s killed by signal %d", argv[0], WTERMSIG(status));
	lj_buf_free(&err);
	return -1;
}
