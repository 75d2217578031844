/* Whole-file reads, atomic writes, sysfs-style writes, mkdir -p. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

int lj_read_file(const char *path, char **out, size_t *len, lj_err *e)
{
	int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lj_error(e, errno, "%s", path);
	lj_buf b = {0};
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			lj_buf_free(&b);
			return lj_error(e, saved, "%s", path);
		}
		if (n == 0)
			break;
		lj_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (len)
		*len = b.len;
	*out = lj_buf_steal(&b);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_file_rename(const char *path, const void *data, size_t len, mode_t mode,
                             bool sync, lj_err *e)
{
	lj_autofree char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return lj_error(e, errno, "%s", tmp);
	if (write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		return lj_error(e, saved, "%s", tmp);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		return lj_error(e, saved, "%s", path);
	}
	return 0;
}

int lj_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, lj_err *e)
{
	return write_file_rename(path, data, len, mode, true, e);
}

int lj_write_file_replace(const char *path, const void *data, size_t len, mode_t mode, lj_err *e)
{
	return write_file_rename(path, data, len, mode, false, e);
}

int lj_write_str(const char *path, const char *s, lj_err *e)
{
	/* O_TRUNC is a no-op on sysfs, cgroupfs and /proc, and lets tests use plain files */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return lj_error(e, errno, "%s", path);
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);
	int saved = errno;
	close(fd);
	if (n < 0)
		return lj_error(e, saved, "write %s to %s", s, path);
	if ((size_t)n != len)
		return lj_errorx(e, "short write to %s", path);
	return 0;
}

int lj_mkdir_p(const char *path, mode_t mode, lj_err *e)
{
	lj_autofree char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return lj_error(e, errno, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return lj_error(e, errno, "mkdir %s", p);
	return 0;
}
