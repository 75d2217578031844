/* isolate/create.c: the jail's init process — namespaces, root, /dev, /proc, bounds, PID 1. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <linux/capability.h>
#include <linux/fs.h> /* FS_IOC_SETFLAGS, FS_IMMUTABLE_FL */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolate/isolate.h"
#include "isolate/isolate_int.h"
#include "registry/registry.h" /* lj_proc_start_time: the start time the registry keeps */

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args of <linux/sched.h> (v2, 88 bytes), spelled out: that header clashes with
 * glibc's <sched.h>. */
struct lj_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	        set_tid_size, cgroup;
};

/* ---- small shared helpers ---------------------------------------------------------------------
 */

void lj_iso_send(int fd, int kind, int pid, const lj_err *e)
{
	struct lj_iso_msg m = {.kind = kind, .pid = pid};
	if (e) {
		m.errnum = e->errnum;
		snprintf(m.text, sizeof m.text, "%s", e->msg);
	}
	ssize_t r;
	do
		r = send(fd, &m, sizeof m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
}

int lj_iso_recv(int fd, struct lj_iso_msg *m)
{
	ssize_t r;
	bool reset = false;
	/* ECONNRESET: the peer closed with a request of ours unread (a LAUNCH queued while the init
	 * set itself up, lj_iso_spec.after_go). The error comes before the messages it sent before
	 * going, which the next read returns. */
	do
		r = recv(fd, m, sizeof *m, 0);
	while (r < 0 && (errno == EINTR || (errno == ECONNRESET && !reset && (reset = true))));
	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	m->text[sizeof m->text - 1] = '\0';
	return 1;
}

pid_t lj_iso_clone(uint64_t flags, int cgfd, int *pidfd, bool *into_cg)
{
	int pfd = -1;
	struct lj_clone_args a = {
	        .flags = flags | CLONE_PIDFD | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
	        .pidfd = (uint64_t)(uintptr_t)&pfd,
	        .exit_signal = SIGCHLD,
	        .cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
	};
	/* The child sees the values as they were at its birth: set before each attempt. */
	*into_cg = cgfd >= 0;
	pid_t pid = lj_iso_fault("isolate-clone3") ? (errno = ENOSYS, -1)
	                                           : (pid_t)syscall(SYS_clone3, &a, sizeof a);
	if (pid >= 0) {
		*pidfd = pid > 0 ? pfd : -1;
		return pid;
	}
	/* Any clone3 error (ENOSYS under an outer seccomp, EBUSY for a non-leaf group, an old
	 * kernel): plain clone, the caller moves the child into the group itself. */
	*into_cg = false;
	*pidfd = -1;
	/* A cgroup namespace made now would be rooted at the caller's group: the child unshares
	 * it after the move (see lj_isolate_create). */
	if (cgfd >= 0)
		flags &= ~(uint64_t)CLONE_NEWCGROUP;
	return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, NULL, NULL, NULL);
}

static char *fdpath(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

int lj_iso_caps_apply(uint64_t keep, bool bounding_only, lj_err *e)
{
	/* Every capability not kept is dropped, up to the first the kernel does not know (EINVAL):
	 * one prctl each (a credentials commit, ~1 µs), without asking first which are still in
	 * the set (PR_CAPBSET_READ, 41 more calls): dropping an absent one is harmless. */
	int c = 0;
	for (; c < 64; c++) {
		if (keep & (UINT64_C(1) << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return lj_error(e, errno, "capability bounding set: drop %d", c);
		}
	}
	uint64_t known = c == 64 ? ~UINT64_C(0) : (UINT64_C(1) << c) - 1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return lj_error(e, errno, "ambient capabilities");
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return lj_error(e, errno, "cap_get_proc");
	/* Inheritable cleared always: for root, execve gives P(inh) | P(bnd) (CVE-2022-24769). */
	d[0].inheritable = d[1].inheritable = 0;
	if (!bounding_only) {
		uint64_t k = keep & known;
		d[0].permitted = d[0].effective = (uint32_t)k;
		d[1].permitted = d[1].effective = (uint32_t)(k >> 32);
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return lj_error(e, errno, "cap_set_proc");
	return 0;
}

int lj_iso_caps_cut(uint64_t keep, lj_err *e)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return lj_error(e, errno, "cap_get_proc");
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= (uint32_t)(keep >> (32 * i));
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return lj_error(e, errno, "cap_set_proc");
	return 0;
}

/* Open rel (a relative path of plain names) below rootfd as an O_PATH directory, refusing every
 * symbolic link: a jail root cannot redirect /dev or /proc elsewhere. With create, missing
 * components are made (0755). */
static int open_in_root(int rootfd, const char *what, const char *rel, bool create, lj_err *e)
{
	struct open_how how = {
	        .flags = O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW,
	        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
	};
	lj_autofree char *copy = NULL; /* before any goto: the cleanup runs on every exit */
	int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS && !(errno == ENOENT && create))
		goto fail;
	/* Component by component (also the way to create what is missing). */
	copy = xstrdup(rel);
	int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int n = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (n < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
				int err = errno;
				close(cur);
				errno = err;
				goto fail;
			}
			n = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		int err = errno;
		close(cur);
		if (n < 0) {
			errno = err;
			goto fail;
		}
		cur = n;
	}
	return cur;
fail:
	if (errno == ELOOP || errno == ENOTDIR)
		return lj_errorx(e, "%s: /%s: is a symbolic link or not a directory (refused)",
		                 what, rel);
	return lj_error(e, errno, "%s: /%s", what, rel);
}

/* ---- mounting on fds ---------------------------------------------------------------------------
 * The targets are O_PATH fds (no symlink of the jail's can redirect a mount). mount(2) wants paths:
 * /proc/self/fd/N, whose resolution costs ~20 µs a call here. The new mount API (Linux 5.2;
 * mount_setattr 5.12) takes the fds themselves: each helper tries it first and, when it fails
 * for any reason (ENOSYS on an old kernel), does the same with mount(2), whose error is the one
 * reported. */

/* Put the detached mount mfd on the object fd refers to. */
static int attach_fd(int mfd, int fd)
{
	return move_mount(mfd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* MS_* flags of a new mount as MOUNT_ATTR_* (false: one that has none). */
static bool ms_attrs(unsigned long flags, unsigned *attrs)
{
	static const struct {
		unsigned long ms;
		unsigned attr;
	} map[] = {{MS_RDONLY, MOUNT_ATTR_RDONLY},
	           {MS_NOSUID, MOUNT_ATTR_NOSUID},
	           {MS_NODEV, MOUNT_ATTR_NODEV},
	           {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
	           {MS_STRICTATIME, MOUNT_ATTR_STRICTATIME}};
	*attrs = 0;
	for (size_t i = 0; i < LJ_ARRAY_LEN(map); i++)
		if (flags & map[i].ms) {
			*attrs |= map[i].attr;
			flags &= ~map[i].ms;
		}
	return flags == 0;
}

/* A new fstype on fd through fsopen/fsconfig/fsmount; src and data as mount(2) takes them (data:
 * "k=v,flag"). As mount(2): MS_RDONLY makes the superblock read-only too, and the same filesystem
 * is refused (EBUSY) on a mount root of its own (sysfs of our network namespace where it is
 * mounted). */
static int fs_mount_fd(const char *src, const char *fstype, int fd, unsigned long flags,
                       const char *data)
{
	unsigned attrs;
	if (!ms_attrs(flags, &attrs))
		return errno = EINVAL, -1;
	int fs = fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int m = -1, rc = -1;
	lj_autofree char *opts = data ? xstrdup(data) : NULL;
	char *save = NULL;
	if (src && fsconfig(fs, FSCONFIG_SET_STRING, "source", src, 0) < 0)
		goto out;
	for (char *o = opts ? strtok_r(opts, ",", &save) : NULL; o;
	     o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq)
			*eq++ = '\0';
		if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o, eq, 0) < 0)
			goto out;
	}
	if ((flags & MS_RDONLY) && fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
		goto out;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto out;
	m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (m < 0)
		goto out;
	struct statx tx, mx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &tx) < 0 ||
	    statx(m, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &mx) < 0 ||
	    !(tx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
		errno = ENOSYS;
		goto out;
	}
	if ((tx.stx_attributes & STATX_ATTR_MOUNT_ROOT) && tx.stx_dev_major == mx.stx_dev_major &&
	    tx.stx_dev_minor == mx.stx_dev_minor) {
		errno = EBUSY;
		goto out;
	}
	rc = attach_fd(m, fd);
out:;
	int err = errno;
	if (m >= 0)
		close(m);
	close(fs);
	errno = err;
	return rc;
}

/* mount(2) of a new src/fstype on fd, by fds where the kernel can. -1 with errno. */
static int mount_fd(const char *src, int fd, const char *fstype, unsigned long flags,
                    const char *data)
{
	if (fs_mount_fd(src, fstype, fd, flags, data) == 0)
		return 0;
	char p[32];
	return mount(src, fdpath(fd, p), fstype, flags, data);
}

/* Bind the object src refers to onto the one dst refers to (recursive: its submounts too). */
static int bind_fd(int src, int dst, bool recursive)
{
	int t = open_tree(src, "",
	                  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
	                          (recursive ? AT_RECURSIVE : 0));
	if (t >= 0) {
		int r = attach_fd(t, dst);
		close(t);
		if (r == 0)
			return 0;
	}
	char p[32], q[32];
	return mount(fdpath(src, p), fdpath(dst, q), NULL, MS_BIND | (recursive ? MS_REC : 0),
	             NULL);
}

static int mount_at(const char *src, int fd, const char *fstype, unsigned long flags,
                    const char *data, const char *what, const char *rel, lj_err *e)
{
	if (mount_fd(src, fd, fstype, flags, data) < 0)
		return lj_error(e, errno, "%s: mount %s on /%s", what, fstype ? fstype : src, rel);
	return 0;
}

/* A read-only (nosuid, nodev, noexec) bind of src onto dst, with src's submounts when
 * recursive; -1 where the new mount API is missing (the callers have a way without). */
static int ro_bind_onto(int src, int dst, bool recursive)
{
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	int t = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);
	if (t < 0)
		return -1;
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	                                    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	int r = mount_setattr(t, "", AT_EMPTY_PATH | rec, &ma, sizeof ma);
	if (r == 0)
		r = attach_fd(t, dst);
	close(t);
	return r;
}

/* Bind dirfd/name onto itself read-only, nosuid, nodev, noexec (mount(2): two calls, MS_RDONLY
 * is ignored on the first). A missing name is fine. */
static int ro_bind(int dirfd, const char *name, const char *what, lj_err *e)
{
	char p[32], q[32];
	lj_autoclose int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : lj_error(e, errno, "%s: %s", what, name);
	/* a read-only copy of the tree, put on top of it */
	if (ro_bind_onto(fd, fd, true) == 0)
		return 0;
	if (mount(fdpath(fd, p), fdpath(fd, q), NULL, MS_BIND | MS_REC, NULL) < 0)
		return lj_error(e, errno, "%s: bind %s", what, name);
	lj_autoclose int top = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0 ||
	    mount(NULL, fdpath(top, p), NULL,
	          MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return lj_error(e, errno, "%s: read-only %s", what, name);
	return 0;
}

/* ---- the pieces of the jail's file system ------------------------------------------------------
 */

static int setup_proc(int rootfd, bool vnet, int nullfd, int emptyfd, lj_err *e)
{
	const char *W = "mount.procfs";
	lj_autoclose int at = open_in_root(rootfd, W, "proc", true, e);
	if (at < 0)
		return -1;
	if (mount_at("proc", at, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, W, "proc", e) < 0)
		return -1;
	lj_autoclose int procfd = open_in_root(rootfd, W, "proc", false, e);
	if (procfd < 0)
		return -1;
	/* A vnet jail keeps /proc/sys/net writable (its own stack): hold the rw dentry now. */
	lj_autoclose int netfd = -1;
	if (vnet)
		netfd = openat(procfd, "sys/net", O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* (sysrq-trigger gets /dev/null below: a read-only bind under it would be hidden) */
	static const char *const ro[] = {"bus", "fs", "irq", "sys"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(ro); i++)
		if (ro_bind(procfd, ro[i], W, e) < 0)
			return -1;
	if (netfd >= 0) {
		lj_autoclose int t = openat(procfd, "sys/net", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (t < 0 || bind_fd(netfd, t, true) < 0)
			return lj_error(e, errno, "%s: /proc/sys/net", W);
	}
	/* What tells about the host or its kernel: files get /dev/null, folders an empty
	 * read-only one (the run directory's, else a tmpfs). */
	static const char *const mfiles[] = {"kcore",         "keys",        "timer_list",
	                                     "sched_debug",   "timer_stats", "latency_stats",
	                                     "sysrq-trigger", "kmsg"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(mfiles); i++) {
		lj_autoclose int t = openat(procfd, mfiles[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			continue;
		if (bind_fd(nullfd, t, false) < 0)
			return lj_error(e, errno, "%s: mask /proc/%s", W, mfiles[i]);
	}
	static const char *const mdirs[] = {"acpi", "scsi", "asound"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(mdirs); i++) {
		lj_autoclose int t =
		        openat(procfd, mdirs[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (t < 0)
			continue;
		if (emptyfd >= 0 && ro_bind_onto(emptyfd, t, false) == 0)
			continue;
		if (mount_fd("tmpfs", t, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		             "size=0,nr_inodes=2,mode=0555") < 0)
			return lj_error(e, errno, "%s: mask /proc/%s", W, mdirs[i]);
	}
	return 0;
}

static int setup_sys(int rootfd, lj_err *e)
{
	lj_err ignore;
	lj_autoclose int at = open_in_root(rootfd, "sysfs", "sys", false, &ignore);
	if (at < 0)
		return 0; /* a root without /sys: nothing to mount (FreeBSD has none) */
	/* A fresh, read-only sysfs: it shows the jail's own network devices in a vnet jail, and
	 * none of the host's submounts (cgroups, debugfs, ...). */
	char q[32];
	fdpath(at, q);
	if (mount_fd("sysfs", at, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		if (errno != EBUSY)
			return lj_error(e, errno, "sysfs: mount sysfs on /sys");
		/* EBUSY: this network namespace's sysfs is mounted right there already (path "/"
		 * in the host's network): make that tree read-only, submounts included. */
		if (mount(q, q, NULL, MS_BIND | MS_REC, NULL) < 0)
			return lj_error(e, errno, "sysfs: bind /sys");
		lj_autoclose int t = open_in_root(rootfd, "sysfs", "sys", false, e);
		if (t < 0)
			return -1;
		struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
		                                    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
		if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &ma, sizeof ma) == 0)
			return 0;
	}
	/* Read-only per mount, not per superblock: the superblock of a network namespace's sysfs
	 * is shared with every other mount of it (a read-only request would clash: EBUSY). */
	char p[32];
	lj_autoclose int top = open_in_root(rootfd, "sysfs", "sys", false, e);
	if (top < 0)
		return -1;
	struct mount_attr ma = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
	                                    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
	if (mount_setattr(top, "", AT_EMPTY_PATH, &ma, sizeof ma) == 0)
		return 0;
	if (mount(NULL, fdpath(top, p), NULL,
	          MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return lj_error(e, errno, "sysfs: read-only /sys");
	return 0;
}

/* devfs_ruleset → what /dev holds. FreeBSD: 1 hides all, 2 unhides the basics, 3 adds login
 * (ttys), 4 devfsrules_jail, 5 devfsrules_jail_vnet; 0 (none set) means 4 with mount.devfs. */
static int setup_dev(int rootfd, int ruleset, lj_err *e)
{
	const char *W = "mount.devfs";
	lj_autoclose int at = open_in_root(rootfd, W, "dev", true, e);
	if (at < 0)
		return -1;
	if (mount_at("tmpfs", at, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", W,
	             "dev", e) < 0)
		return -1;
	lj_autoclose int d = open_in_root(rootfd, W, "dev", false, e);
	if (d < 0)
		return -1;
	if (ruleset == 0 || ruleset > 5)
		ruleset = 4;
	bool basic = ruleset >= 2, login = ruleset >= 3, jail = ruleset >= 4;
	mode_t old = umask(0);
	int rc = -1;
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {{"null", 1, 3},
	             {"zero", 1, 5},
	             {"full", 1, 7},
	             {"random", 1, 8},
	             {"urandom", 1, 9}};
	if (basic) {
		for (size_t i = 0; i < LJ_ARRAY_LEN(nodes); i++)
			if (mknodat(d, nodes[i].name, S_IFCHR | 0666,
			            makedev(nodes[i].maj, nodes[i].min)) < 0) {
				lj_error(e, errno, "%s: mknod /dev/%s", W, nodes[i].name);
				goto out;
			}
		static const char *const links[][2] = {{"fd", "/proc/self/fd"},
		                                       {"stdin", "/proc/self/fd/0"},
		                                       {"stdout", "/proc/self/fd/1"},
		                                       {"stderr", "/proc/self/fd/2"}};
		for (size_t i = 0; i < LJ_ARRAY_LEN(links); i++)
			if (symlinkat(links[i][1], d, links[i][0]) < 0) {
				lj_error(e, errno, "%s: /dev/%s", W, links[i][0]);
				goto out;
			}
	}
	if (login) {
		if (mknodat(d, "tty", S_IFCHR | 0666, makedev(5, 0)) < 0) {
			lj_error(e, errno, "%s: mknod /dev/tty", W);
			goto out;
		}
		if (mkdirat(d, "pts", 0755) < 0) {
			lj_error(e, errno, "%s: /dev/pts", W);
			goto out;
		}
		lj_autoclose int pts =
		        openat(d, "pts", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		/* A private devpts instance: the jail sees only its own ptys. */
		if (pts < 0 ||
		    mount_at("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC,
		             "newinstance,ptmxmode=0666,mode=0620,gid=5", W, "dev/pts", e) < 0) {
			if (pts < 0)
				lj_error(e, errno, "%s: /dev/pts", W);
			goto out;
		}
		if (symlinkat("pts/ptmx", d, "ptmx") < 0) {
			lj_error(e, errno, "%s: /dev/ptmx", W);
			goto out;
		}
	}
	if (jail) {
		/* POSIX shm_open is not per IPC namespace: each jail gets its own tmpfs. */
		if (mkdirat(d, "shm", 01777) < 0) {
			lj_error(e, errno, "%s: /dev/shm", W);
			goto out;
		}
		lj_autoclose int shm =
		        openat(d, "shm", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (shm < 0 || mount_at("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		                        "mode=1777", W, "dev/shm", e) < 0) {
			if (shm < 0)
				lj_error(e, errno, "%s: /dev/shm", W);
			goto out;
		}
	}
	rc = 0;
out:
	umask(old);
	return rc;
}

/* The jail's own run directory: nested jails register there, and .jail tells them the limit. */
static int setup_rundir(int rootfd, int children_max, uint64_t caps, int nested0fd, lj_err *e)
{
	const char *W = "run directory";
	lj_err tmp;
	lj_autoclose int at = open_in_root(rootfd, W, "run/ljail", true, &tmp);
	if (at < 0) {
		if (tmp.errnum ==
		    EROFS) /* a read-only root: no nested registry, the filter still says no */
			return 0;
		*e = tmp;
		return -1;
	}
	/* a jail that may make no jails needs no registry of its own: the shared folder whose
	 * .jail says so, read-only */
	if (children_max == 0 && nested0fd >= 0 && ro_bind_onto(nested0fd, at, false) == 0)
		return 0;
	if (mount_at("tmpfs", at, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m", W,
	             "run/ljail", e) < 0)
		return -1;
	lj_autoclose int d = open_in_root(rootfd, W, "run/ljail", false, e);
	if (d < 0)
		return -1;
	lj_autoclose int f = openat(d, ".jail", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (f < 0)
		return lj_error(e, errno, "%s: .jail", W);
	char buf[64];
	int n = snprintf(buf, sizeof buf, LJ_ISO_JAIL_INFO_FMT, children_max);
	if (write(f, buf, (size_t)n) != n)
		return lj_error(e, errno, "%s: .jail", W);
	/* Out of the jail's reach: immutable when its bounds hold no CAP_LINUX_IMMUTABLE (no
	 * allow.chflags), one mount fewer to make and to tear down than a read-only bind, which
	 * the others (and a tmpfs without the flag, before Linux 6.0) get. */
	int fl = FS_IMMUTABLE_FL;
	if (!(caps & (UINT64_C(1) << CAP_LINUX_IMMUTABLE)) && ioctl(f, FS_IOC_SETFLAGS, &fl) == 0)
		return 0;
	return ro_bind(d, ".jail", W, e);
}

/* A proc instance of the jail's PID namespace that nobody can see: the init counts the jail's
 * processes in it. Detached (fsmount); -1 where the new mount API is missing. Only for a jail
 * that may mount (allow.mount, children.max): its root could change what the jail's /proc shows
 * (hidepid, overmounts). Any other jail can touch no mount (no CAP_SYS_ADMIN, and the filter
 * refuses the mount calls): the init counts in the jail's own /proc, which saves a proc instance
 * (~20 µs to make, ~10 µs to take down when the init exits). */
static bool wants_count_proc(const struct lj_iso_policy *p)
{
	return (p->allow & LJ_ALLOW_MOUNT) || p->children_max > 0;
}

static int open_count_proc(void)
{
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int m = -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = fsmount(fs, FSMOUNT_CLOEXEC,
		            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
		                    MOUNT_ATTR_NOEXEC);
	close(fs);
	return m;
}

static int lo_up(lj_err *e)
{
	lj_autoclose int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return lj_error(e, errno, "vnet: lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return lj_error(e, errno, "vnet: lo up");
	return 0;
}

static int do_pivot(int rootfd, const char *path, lj_err *e)
{
	lj_autoclose int old = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
	if (old < 0 || fchdir(rootfd) < 0)
		return lj_error(e, errno, "pivot_root: %s", path);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return lj_error(e, errno, "pivot_root: %s", path);
	/* The old root now sits on top of the new one: detach it without touching the host's
	 * mounts (slave first, so the unmount cannot propagate). */
	if (fchdir(old) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return lj_error(e, errno, "pivot_root: detach the old root");
	return 0;
}

/* The argument and environment areas of our memory: arg_start, arg_end, env_start, env_end
 * (/proc/self/stat fields 48-51). */
static int stat_areas(uint64_t a[4])
{
	lj_autofree char *s = NULL;
	if (lj_read_file("/proc/self/stat", &s, NULL, NULL) < 0)
		return -1;
	char *p = strrchr(s, ')');
	if (!p)
		return -1;
	unsigned long long v[52] = {0};
	char *save = NULL, *tok = strtok_r(p + 1, " ", &save);
	for (int f = 3; tok && f <= 51; f++, tok = strtok_r(NULL, " ", &save))
		v[f] = strtoull(tok, NULL, 10);
	for (int i = 0; i < 4; i++)
		a[i] = v[48 + i];
	return 0;
}

/* The creator's side of set_cmdline, right after the go; the child reads them before it sets
 * up. Without them (a read error) the child reads its own. */
static int send_areas(int sock)
{
	struct lj_iso_msg m = {.kind = LJ_ISO_MSG_AREAS};
	uint64_t v[4];
	if (stat_areas(v) == 0) {
		m.pid = 1;
		memcpy(m.text, v, sizeof v);
	}
	ssize_t r;
	do
		r = send(sock, &m, sizeof m, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

/* ps in the jail shows "ljail-init" as PID 1, not the host command line that made it: overwrite
 * our copy of the argument area. The environment area is jail(8)'s host environment: wipe it,
 * since a jail given CAP_SYS_ADMIN (allow.mount) can read /proc/1/environ even though the init
 * is not dumpable. The areas come from the creator (send_areas: our memory is a copy of its
 * own, the addresses are the same), else from our /proc/self/stat. */
static void set_cmdline(const struct lj_iso_msg *areas)
{
	uint64_t v[4];
	if (areas->kind == LJ_ISO_MSG_AREAS && areas->pid == 1)
		memcpy(v, areas->text, sizeof v);
	else if (stat_areas(v) < 0)
		return;
	char *env = (char *)(uintptr_t)v[2], *env_end = (char *)(uintptr_t)v[3];
	if (env && env_end > env) {
		clearenv();
		memset(env, 0, (size_t)(env_end - env));
	}
	char *start = (char *)(uintptr_t)v[0], *end = (char *)(uintptr_t)v[1];
	static const char name[] = "ljail-init";
	if (!start || end <= start || (size_t)(end - start) < sizeof name)
		return;
	memset(start, 0, (size_t)(end - start));
	memcpy(start, name, sizeof name);
}

/* allow.mount: once every mount of the jail is made and the root pivoted, the init moves into a
 * user namespace of its own with a copy of its mount namespace. The copy locks every mount it
 * inherits (MNT_LOCKED: no umount, no move, no non-recursive bind that would uncover what lies
 * below; MNT_LOCK_READONLY and the nosuid/nodev/noexec locks: no remount that clears them), and
 * CAP_SYS_ADMIN there is not CAP_SYS_ADMIN over the PID, cgroup, IPC and UTS namespaces, which
 * the host's user namespace owns: no new procfs, sysfs of the host's network, cgroup, mqueue, no
 * sethostname. What the jail's root mounts itself (tmpfs, bind mounts, overlay, devpts) is its
 * own. The map is the identity (root stays uid 0: files keep their owners), written by the
 * creator: a process cannot map ids it does not hold in the parent namespace. A vnet jail takes a
 * new network namespace along (owned by the new user namespace, so CAP_NET_ADMIN reaches it). */
static int enter_userns(const struct lj_iso_spec *s, int sock, lj_err *e)
{
	const char *W = "allow.mount";
	int flags = CLONE_NEWUSER | CLONE_NEWNS | (s->policy.vnet ? CLONE_NEWNET : 0);
	if (unshare(flags) < 0)
		return lj_error(e, errno, "%s: user namespace", W);
	lj_iso_send(sock, LJ_ISO_MSG_USERNS, 0, NULL);
	struct lj_iso_msg m;
	int r = lj_iso_recv(sock, &m);
	if (r == 1 && m.kind == LJ_ISO_MSG_ERR) {
		e->errnum = m.errnum;
		snprintf(e->msg, sizeof e->msg, "%s", m.text);
		return -1;
	}
	if (r != 1 || m.kind != LJ_ISO_MSG_READY)
		return lj_errorx(e, "%s: no uid map from the creator", W);
	if (!s->policy.vnet)
		return 0;
	/* /sys stays the sysfs of the namespace clone made (lo only): a sysfs mounted now would not
	 * be locked. The jail's root may mount a read-only one of its own network itself. */
	return lo_up(e);
}

/* Everything the child does between "go" and "ready". Returns the counting fd in *countfd. sock:
 * the creation socket (the user namespace's map round trip). */
static int child_setup(const struct lj_iso_spec *s, int sock, int *countfd, lj_err *e)
{
	bool shared = !s->path || !strcmp(s->path, "/");
	const char *root = shared ? "/" : s->path;
	struct stat st;

	/* The host's /dev/null, checked to be the real one, masks files in /proc. */
	lj_autoclose int nullfd = open("/dev/null", O_PATH | O_CLOEXEC);
	if (nullfd < 0 || fstat(nullfd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(1, 3))
		return lj_errorx(e, "/dev/null is not the null device");

	/* The run directory's shared read-only folders (lj_iso_spec.rundir), if there */
	lj_autoclose int emptyfd = -1, nested0fd = -1;
	if (s->rundir) {
		lj_autofree char *p = xasprintf("%s/" SHARED_EMPTY, s->rundir);
		emptyfd = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		free(p);
		p = xasprintf("%s/" SHARED_NESTED0, s->rundir);
		nested0fd = open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}

	/* Nothing made from here on may reach the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return lj_error(e, errno, "mount namespace: make / a slave");
	if (!shared && mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return lj_error(e, errno, "path: bind %s", root);
	lj_autoclose int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return lj_error(e, errno, "path: %s", root);

	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return lj_error(e, errno, "host.hostname: %s", s->hostname);
	if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return lj_error(e, errno, "host.domainname: %s", s->domainname);
	if (s->policy.vnet && lo_up(e) < 0)
		return -1;

	/* /proc always: Linux userlands read processes there (ps, top, pgrep, libc) where FreeBSD
	 * asks sysctl kern.proc, which every FreeBSD jail has, mount.procfs or not. A fresh one of
	 * the jail's PID namespace (with path "/" the host's would show the host's processes). */
	if (setup_proc(rootfd, s->policy.vnet, nullfd, emptyfd, e) < 0)
		return -1;
	if (setup_sys(rootfd, e) < 0)
		return -1;
	if (s->mount_devfs && setup_dev(rootfd, s->devfs_ruleset, e) < 0)
		return -1;
	if (setup_rundir(rootfd, s->policy.children_max, lj_isolate_caps(&s->policy), nested0fd,
	                 e) < 0)
		return -1;
	*countfd = wants_count_proc(&s->policy) ? open_count_proc() : -1;
	if (lj_iso_fault("isolate-pivot"))
		return lj_errorx(e, "pivot_root: failed (LJAIL_FAIL_STEP)");
	if (!shared && do_pivot(rootfd, root, e) < 0)
		return -1;
	if (chdir("/") < 0)
		return lj_error(e, errno, "chdir /");
	if (*countfd < 0)
		*countfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

	/* the creator sent them while we set up (a failure before leaves them unread: see
	 * lj_iso_recv) */
	struct lj_iso_msg areas = {0};
	if (lj_iso_recv(sock, &areas) != 1)
		areas.kind = 0;
	set_cmdline(&areas);

	if (lj_isolate_wants_userns(&s->policy) && enter_userns(s, sock, e) < 0)
		return -1;

	/* The bounding set first, while no filter runs over each of its ~60 prctl calls
	 * (CAP_SYS_ADMIN stays effective: loading the filter without no_new_privs needs it), then
	 * the filter, then permitted and effective cut to the bounds. */
	uint64_t caps = lj_isolate_caps(&s->policy);
	if (lj_iso_caps_apply(caps, true, e) < 0 || lj_iso_seccomp_load(&s->policy, e) < 0 ||
	    lj_iso_caps_cut(caps, e) < 0)
		return -1;
	return 0;
}

/* ---- the control channel (the init's side) ---------------------------------------------------
 * Commands the init forked for LAUNCH requests, until reaped. */
struct launched {
	pid_t pid;
	uint32_t id;
	bool last; /* LF_LAST */
};
/* The init's own copy of this flag says that its creator has recorded the jail
 * (lj_isolate_commit). The init is a clone of its creator without an exec: its copy is at the
 * same address. */
static uint32_t init_committed;

struct initctl {
	int sock; /* the channel, -1 once closed */
	int sfd, countfd;
	uint64_t bnd;
	bool persist;
	bool committed; /* LJ_ISO_REQ_COMMIT came (see init_committed) */
	struct launched *runs;
	size_t nruns;
	char *buf;
};

/* Never blocks: a creator that stopped reading must not stall the jail's init. */
static void ctl_send(struct initctl *c, int kind, uint32_t id, int val, const lj_err *e, int pass)
{
	if (c->sock < 0)
		return;
	struct lj_iso_msg m = {.kind = kind, .pid = val, .id = (int32_t)id};
	if (e) {
		m.errnum = e->errnum;
		snprintf(m.text, sizeof m.text, "%s", e->msg);
	}
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cb;
	memset(&cb, 0, sizeof cb);
	/* without a text, only the header: more of them fit in the socket's buffer */
	struct iovec iov = {.iov_base = &m,
	                    .iov_len = e ? sizeof m : offsetof(struct lj_iso_msg, text)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass >= 0) {
		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof cb.b;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass, sizeof(int));
	}
	ssize_t r;
	do
		r = sendmsg(c->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
}

static bool jail_empty(int countfd);

/* Reap every child that is gone; a launched command's status goes to the creator. The status
 * of an LF_LAST command waits until all is reaped: whether the jail is empty goes with it, and
 * then the init exits at once. */
static void reap_children(struct initctl *c)
{
	pid_t w;
	int st, last_st = 0;
	uint32_t last_id = 0;
	bool last = false;
	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < c->nruns; i++) {
			if (c->runs[i].pid != w)
				continue;
			if (c->runs[i].last) {
				last = true;
				last_id = c->runs[i].id;
				last_st = st;
			} else {
				ctl_send(c, LJ_ISO_MSG_STATUS, c->runs[i].id, st, NULL, -1);
			}
			c->runs[i] = c->runs[--c->nruns];
			break;
		}
	}
	if (!last)
		return;
	c->persist = false;
	bool exits = jail_empty(c->countfd);
	lj_err flag = {.errnum = exits ? LJ_ISO_STATUS_INIT_EXITS : 0};
	ctl_send(c, LJ_ISO_MSG_STATUS, last_id, last_st, &flag, -1);
	if (exits)
		_exit(0);
}

static void ctl_launch(struct initctl *c, const struct lj_iso_req *rq, const char *rest, size_t n,
                       const int *fds, int nfds)
{
	lj_err e = {0};
	if (nfds != 3) {
		lj_errorx(&e, "jail_attach: bad launch request");
		ctl_send(c, LJ_ISO_MSG_ERR, rq->id, 0, &e, -1);
		return;
	}
	bool quiet = false;
	struct lj_iso_launch_hdr h;
	bool last = n >= sizeof h && (memcpy(&h, rest, sizeof h), h.flags & LF_LAST);
	struct lj_iso_msg verr;
	pid_t pid = lj_iso_launch_vfork(rest, n, fds, rq->id, c->bnd, &quiet, &verr);
	bool vforked = pid != 0;
	/* a fork reports what fails before its execve on a socket (the vfork way needs none) */
	int es[2] = {-1, -1};
	if (!vforked && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, es) < 0) {
		lj_error(&e, errno, "jail_attach: socketpair");
		ctl_send(c, LJ_ISO_MSG_ERR, rq->id, 0, &e, -1);
		return;
	}
	if (!vforked)
		pid = fork();
	if (pid == 0) {
		/* nothing of the init's own survives into the command */
		close(c->sock);
		close(c->sfd);
		if (c->countfd >= 0)
			close(c->countfd);
		close(es[0]);
		lj_iso_launch_child(rest, n, fds, es[1], rq->id, c->bnd);
	}
	int err = errno;
	if (es[1] >= 0)
		close(es[1]);
	if (pid < 0) {
		lj_error(&e, err, "fork in the jail");
		ctl_send(c, LJ_ISO_MSG_ERR, rq->id, 0, &e, -1);
		if (es[0] >= 0)
			close(es[0]);
		return;
	}
	c->runs = realloc(c->runs, (c->nruns + 1) * sizeof *c->runs);
	if (c->runs)
		c->runs[c->nruns++] = (struct launched){.pid = pid, .id = rq->id, .last = last};
	else
		c->nruns = 0;
	if (!vforked) {
		/* its failure before the exec, if any, comes on es[0] later */
		ctl_send(c, LJ_ISO_MSG_PID, rq->id, pid, NULL, es[0]);
		close(es[0]);
		return;
	}
	/* The vfork way: the command exec'd or failed already, and wrote why in verr. */
	if (verr.kind == LJ_ISO_MSG_ERR) {
		verr.text[sizeof verr.text - 1] = '\0';
		e.errnum = verr.errnum;
		snprintf(e.msg, sizeof e.msg, "%s", verr.text);
		ctl_send(c, LJ_ISO_MSG_ERR, rq->id, 0, &e, -1);
	} else if (!quiet) {
		ctl_send(c, LJ_ISO_MSG_PID, rq->id, pid, NULL, -1);
	}
}

/* One request from the creator (or its EOF). */
static void ctl_serve(struct initctl *c)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(3 * sizeof(int))];
	} cb;
	struct iovec iov = {.iov_base = c->buf, .iov_len = LJ_ISO_REQ_MAX};
	struct msghdr mh = {.msg_iov = &iov,
	                    .msg_iovlen = 1,
	                    .msg_control = cb.b,
	                    .msg_controllen = sizeof cb.b};
	ssize_t n;
	do
		n = recvmsg(c->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* the creator is done: the jail goes on as it is; or it died before it recorded the
		 * jail, which nobody would ever find: end it (as PID 1, with all in it) */
		if (!c->committed && !__atomic_load_n(&init_committed, __ATOMIC_ACQUIRE))
			_exit(1);
		close(c->sock);
		c->sock = -1;
		return;
	}
	int fds[3] = {-1, -1, -1}, nfds = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
			if (nfds < 3)
				fds[nfds++] = fd;
			else
				close(fd);
		}
	}
	struct lj_iso_req rq;
	if ((size_t)n >= sizeof rq && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		memcpy(&rq, c->buf, sizeof rq);
		if (rq.kind == LJ_ISO_REQ_PERSIST) {
			c->persist = rq.arg != 0;
			bool exiting = false;
			if (!c->persist) {
				/* reap first: a zombie of ours counts until it is reaped */
				reap_children(c);
				exiting = jail_empty(c->countfd);
			}
			ctl_send(c, LJ_ISO_MSG_PERSIST, rq.id, exiting, NULL, -1);
			if (exiting)
				_exit(0);
		} else if (rq.kind == LJ_ISO_REQ_LAUNCH) {
			ctl_launch(c, &rq, c->buf + sizeof rq, (size_t)n - sizeof rq, fds, nfds);
		} else if (rq.kind == LJ_ISO_REQ_COMMIT) {
			c->committed = true;
		} else if (rq.kind == LJ_ISO_REQ_KILL) {
			for (size_t i = 0; i < c->nruns; i++)
				if (c->runs[i].id == rq.id)
					kill(c->runs[i].pid, rq.arg ? (int)rq.arg : SIGKILL);
		}
	}
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* ---- PID 1 ------------------------------------------------------------------------------------
 */

/* No process in the jail's PID namespace but the init. The caller reaps first: what is listed
 * is alive, a zombie of another jail process, or a child of ours that died after the reaping
 * (it counts until reaped; its SIGCHLD brings the next check). A process reparented to us is
 * listed all along. */
static bool jail_empty(int countfd)
{
	if (countfd < 0)
		return true; /* no view of the namespace: only the init's own children keep it */
	int d = openat(countfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return false;
	DIR *dir = fdopendir(d);
	if (!dir) {
		close(d);
		return false;
	}
	bool empty = true;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !strcmp(de->d_name, "1"))
			continue;
		empty = false;
		break;
	}
	closedir(dir);
	return empty;
}

static _Noreturn void init_main(bool persist, int countfd, bool nested, int ctl, uint64_t bnd)
{
	sigset_t all;
	sigfillset(&all);
	static const int sync_sigs[] = {SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS};
	for (size_t i = 0; i < LJ_ARRAY_LEN(sync_sigs); i++)
		sigdelset(&all, sync_sigs[i]);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Blocked signals are queued although a namespace init drops unhandled ones. */
	int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		_exit(1);
	/* Keep only the fds the loop needs (signals, the count view, the control channel). */
	int keep[3] = {sfd, countfd, ctl};
	for (int a = 0; a < 3; a++) /* sort, -1 first */
		for (int b = a + 1; b < 3; b++)
			if (keep[b] < keep[a]) {
				int t = keep[a];
				keep[a] = keep[b];
				keep[b] = t;
			}
	int from = 3;
	for (int a = 0; a < 3; a++) {
		if (keep[a] < from)
			continue;
		if (keep[a] > from)
			syscall(SYS_close_range, (unsigned)from, (unsigned)keep[a] - 1, 0);
		from = keep[a] + 1;
	}
	syscall(SYS_close_range, (unsigned)from, ~0U, 0);
	/* stdin/out/err: /dev/null of the jail, or simply closed */
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++) {
		if (nullfd >= 0 && nullfd != fd)
			dup2(nullfd, fd);
		else if (nullfd < 0)
			close(fd);
	}
	if (nullfd > 2)
		close(nullfd);
	prctl(PR_SET_NAME, "ljail-init", 0, 0, 0);
	/* The init's memory is a copy of its creator's (jail(8) on the host: configs, environment):
	 * nobody in the jail may read it. A nested init's creator is the jail's own, and the jail
	 * (without CAP_SYS_PTRACE) must be able to enter it: that needs a dumpable target. */
	if (!nested)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setsid();

	struct initctl c = {
	        .sock = ctl, .sfd = sfd, .countfd = countfd, .bnd = bnd, .persist = persist};
	if (c.sock >= 0 && !(c.buf = malloc(LJ_ISO_REQ_MAX)))
		_exit(1); /* a jail nobody could steer, nor see end without a commit */
	for (;;) {
		reap_children(&c);
		if (!c.persist && jail_empty(countfd))
			_exit(0);
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
		                      {.fd = c.sock, .events = POLLIN}};
		if (poll(p, c.sock >= 0 ? 2 : 1, c.persist ? -1 : 100) < 0 && errno != EINTR)
			usleep(100000); /* never spin */
		if (c.sock >= 0 && p[1].revents) {
			ctl_serve(&c);
			if (c.sock < 0) {
				free(c.buf);
				c.buf = NULL;
				free(c.runs);
				c.runs = NULL;
				c.nruns = 0;
			}
		}
		struct signalfd_siginfo si;
		while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
			/* Only the host (a sender outside the namespace: pid 0 here) may steer. */
			bool host = si.ssi_code == SI_USER && si.ssi_pid == 0;
			if (!host)
				continue;
			if (si.ssi_signo == SIGUSR1)
				c.persist = false;
			else if (si.ssi_signo == SIGUSR2)
				c.persist = true;
			else if (si.ssi_signo == SIGTERM) {
				c.persist = false;
				kill(-1, SIGTERM);
			}
		}
	}
}

/* The caller's network namespace made in advance is used (vnet, and no user namespace: that
 * one gets its own network namespace, see enter_userns). */
static bool premade_netns(const struct lj_iso_spec *s)
{
	return s->policy.vnet && s->netns_fd > 0 && !lj_isolate_wants_userns(&s->policy);
}

static _Noreturn void child_main(const struct lj_iso_spec *s, int sock, bool unshare_cg,
                                 bool nested)
{
	lj_err e = {0};
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* entered before its fd is closed with the rest below */
	if (premade_netns(s) && setns(s->netns_fd, CLONE_NEWNET) < 0) {
		lj_error(&e, errno, "setns(the jail's network namespace)");
		lj_iso_send(sock, LJ_ISO_MSG_ERR, 0, &e);
		_exit(1);
	}
	/* Nothing of the caller's open files may reach the jail. */
	if (sock > 3)
		syscall(SYS_close_range, 3, (unsigned)sock - 1, 0);
	syscall(SYS_close_range, (unsigned)sock + 1, ~0U, 0);
	/* the go, when the creator has something to do first (see lj_isolate_create) */
	struct lj_iso_msg m;
	if ((s->before_go || unshare_cg) && lj_iso_recv(sock, &m) != 1)
		_exit(1);
	int countfd = -1;
	if (unshare_cg && unshare(CLONE_NEWCGROUP) < 0) {
		lj_error(&e, errno, "cgroup namespace");
		goto fail;
	}
	if (child_setup(s, sock, &countfd, &e) < 0)
		goto fail;
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	lj_iso_send(sock, LJ_ISO_MSG_READY, 0, NULL);
	if (!s->control) {
		close(sock);
		sock = -1;
	}
	init_main(s->persist, countfd, nested, sock, lj_isolate_caps(&s->policy));
fail:
	lj_iso_send(sock, LJ_ISO_MSG_ERR, 0, &e);
	_exit(1);
}

/* ---- the caller's side -------------------------------------------------------------------------
 */

int lj_isolate_parent_limit(int *children_max, lj_err *e)
{
	/* The file of the jail we run in is made immutable at its start (setup_rundir), and there
	 * is none on the host: one read per process answers every create. */
	static int known = -1, limit;
	if (known >= 0) {
		*children_max = limit;
		return known;
	}
	lj_autofree char *s = NULL;
	lj_err tmp;
	if (lj_read_file(LJ_ISO_JAIL_INFO, &s, NULL, &tmp) < 0) {
		if (tmp.errnum != ENOENT && tmp.errnum != ENOTDIR) {
			if (e)
				*e = tmp;
			return -1;
		}
		limit = *children_max = 0;
		return known = 0;
	}
	const char *p = strstr(s, "children.max=");
	int n = 0;
	if (p) {
		p += strlen("children.max=");
		n = atoi(p);
	}
	limit = *children_max = n;
	return known = 1;
}

/* The identity map for the child's new user namespace (see enter_userns). setgroups stays
 * "allow": the writer holds CAP_SETGID in the parent namespace. */
static int write_id_maps(pid_t pid, lj_err *e)
{
	static const char *const files[] = {"uid_map", "gid_map"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(files); i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, files[i]);
		lj_autoclose int fd = open(p, O_WRONLY | O_CLOEXEC);
		ssize_t n = (ssize_t)strlen(LJ_ISO_ID_MAP);
		if (fd < 0 || write(fd, LJ_ISO_ID_MAP, (size_t)n) != n)
			return lj_error(e, errno, "allow.mount: %s", p);
	}
	return 0;
}

/* The run directory's shared folders (lj_iso_spec.rundir), made by the first create that finds
 * them missing; nested-0 under another name first, so that an init binds all of it or none (it
 * then makes a tmpfs). Failures only cost the tmpfs. */
static void make_shared(const char *rundir)
{
	static bool there; /* one look per process (a parallel run makes many jails) */
	if (there)
		return;
	lj_autofree char *mark = xasprintf("%s/" SHARED_NESTED0 "/.jail", rundir);
	if ((there = faccessat(AT_FDCWD, mark, F_OK, 0) == 0))
		return;
	lj_autoclose int d = open(rundir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return;
	if (mkdirat(d, SHARED_EMPTY, 0555) == 0)
		fchmodat(d, SHARED_EMPTY, 0555, 0); /* whatever the umask */
	char tmp[48];
	snprintf(tmp, sizeof tmp, SHARED_NESTED0 ".new.%d", (int)getpid());
	if (mkdirat(d, tmp, 0755) < 0)
		return;
	lj_autoclose int t = openat(d, tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	lj_autoclose int f =
	        t < 0 ? -1 : openat(t, ".jail", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	char info[32];
	int n = snprintf(info, sizeof info, LJ_ISO_JAIL_INFO_FMT, 0);
	bool ok = f >= 0 && write(f, info, (size_t)n) == n && fchmodat(d, tmp, 0555, 0) == 0 &&
	          renameat(d, tmp, d, SHARED_NESTED0) == 0;
	if (!ok) { /* another create was first, or no space */
		if (t >= 0)
			unlinkat(t, ".jail", 0);
		unlinkat(d, tmp, AT_REMOVEDIR);
	}
}

int lj_isolate_create(const struct lj_iso_spec *spec, struct lj_iso_proc *proc, lj_err *e)
{
	int limit;
	bool nested = lj_isolate_parent_limit(&limit, NULL) == 1;
	if (nested && limit == 0)
		return lj_error(e, EPERM, "jail_set");
	bool shared = !spec->path || !strcmp(spec->path, "/");
	if (!shared) {
		struct stat st;
		if (stat(spec->path, &st) < 0)
			return lj_error(e, errno, "%s", spec->path);
		if (!S_ISDIR(st.st_mode))
			return lj_error(e, ENOTDIR, "%s", spec->path);
	}
	if (spec->rundir)
		make_shared(spec->rundir);
	/* the compiled seccomp filter from the run directory, for the child (saves ~0.6 ms) */
	lj_iso_seccomp_prepare(&spec->policy, NULL);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return lj_error(e, errno, "socketpair");

	uint64_t flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP;
	if (spec->policy.vnet && !premade_netns(spec))
		flags |= CLONE_NEWNET; /* else the child enters spec->netns_fd */
	if (lj_iso_new_ipc(&spec->policy))
		flags |= CLONE_NEWIPC;

	int pidfd = -1;
	bool into_cg = false;
	/* With CLONE_INTO_CGROUP the cgroup namespace is rooted at the jail's group at once; with
	 * plain clone the child unshares it after the parent moved it. */
	pid_t pid = lj_iso_clone(flags, spec->cgroup_fd, &pidfd, &into_cg);
	if (pid == 0) {
		close(sp[0]);
		child_main(spec, sp[1], !into_cg && spec->cgroup_fd >= 0, nested);
	}
	int err = errno;
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		if (err == EPERM)
			return lj_error(e, EPERM, "jail_set");
		return lj_error(e, err, "clone");
	}
	if (pidfd < 0)
		pidfd = pidfd_open(pid, 0);
	struct lj_iso_msg m;
	int r;
	if (pidfd < 0) {
		lj_error(e, errno, "pidfd_open");
		goto fail;
	}
	if (!into_cg && spec->cgroup_fd >= 0) {
		lj_autoclose int f = openat(spec->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		char buf[24];
		int n = snprintf(buf, sizeof buf, "%d", (int)pid);
		if (f < 0 || write(f, buf, (size_t)n) != n) {
			lj_error(e, errno, "cgroup: move the init");
			goto fail;
		}
	}
	if (spec->before_go && spec->before_go(pid, spec->before_go_arg, e) < 0)
		goto fail;
	/* The go only when there was something to do before it: else the child is on its way
	 * already (clone3 put it in its group; it unshares no cgroup namespace late). */
	if (spec->before_go || (!into_cg && spec->cgroup_fd >= 0))
		lj_iso_send(sp[0], LJ_ISO_MSG_READY, 0, NULL);
	/* EPIPE: the child failed and is gone; its own message says why */
	if (send_areas(sp[0]) < 0 && errno != EPIPE) {
		lj_error(e, errno, "the jail's init");
		goto fail;
	}
	int early_fd = spec->control && !lj_isolate_wants_userns(&spec->policy) ? sp[0] : -1;
	if (spec->after_go && spec->after_go(pid, early_fd, spec->after_go_arg, e) < 0)
		goto fail;
	/* while the child works: its start time (fixed at its birth) */
	uint64_t start;
	int start_err = lj_proc_start_time(pid, &start, NULL) < 0 ? errno : 0;
	r = lj_iso_recv(sp[0], &m);
	/* allow.mount: the child asks once for its uid/gid map (enter_userns). */
	if (r == 1 && m.kind == LJ_ISO_MSG_USERNS && lj_isolate_wants_userns(&spec->policy)) {
		if (write_id_maps(pid, e) < 0) {
			lj_iso_send(sp[0], LJ_ISO_MSG_ERR, 0, e);
			goto fail;
		}
		lj_iso_send(sp[0], LJ_ISO_MSG_READY, 0, NULL);
		r = lj_iso_recv(sp[0], &m);
	}
	if (r != 1 || m.kind != LJ_ISO_MSG_READY) {
		if (r == 1 && m.kind == LJ_ISO_MSG_ERR) {
			e->errnum = m.errnum;
			snprintf(e->msg, sizeof e->msg, "%s", m.text);
		} else {
			lj_errorx(e, "the jail's init died while starting");
		}
		goto fail;
	}
	if (start_err) {
		lj_error(e, start_err, "/proc/%d/stat: no start time", (int)pid);
		goto fail;
	}
	proc->pid = pid;
	proc->pidfd = pidfd;
	proc->start = start;
	proc->ctlfd = -1;
	if (spec->control)
		proc->ctlfd = sp[0];
	else
		close(sp[0]);
	return 0;
fail:
	if (sp[0] >= 0)
		close(sp[0]);
	if (pidfd >= 0) {
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	} else {
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* ---- the running jail ---------------------------------------------------------------------------
 */

bool lj_isolate_alive(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

int lj_isolate_set_persist(int pidfd, bool persist, lj_err *e)
{
	if (pidfd_send_signal(pidfd, persist ? SIGUSR2 : SIGUSR1, NULL, 0) < 0)
		return lj_error(e, errno, "persist");
	return 0;
}

int lj_isolate_control_persist(int ctlfd, bool persist, bool *exiting, lj_err *e)
{
	static uint32_t seq;
	struct lj_iso_req rq = {.kind = LJ_ISO_REQ_PERSIST, .id = ++seq, .arg = persist};
	*exiting = false;
	ssize_t r;
	do
		r = send(ctlfd, &rq, sizeof rq, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return lj_error(e, errno == EPIPE || errno == ECONNRESET ? ESRCH : errno,
		                "persist");
	struct lj_iso_msg m;
	if (lj_iso_ctl_wait(ctlfd, LJ_ISO_KIND(LJ_ISO_MSG_PERSIST), rq.id, -1, &m, NULL) != 1)
		return lj_error(e, ESRCH, "persist");
	*exiting = m.pid != 0;
	return 0;
}

int lj_isolate_commit(pid_t init_pid, int ctlfd, lj_err *e)
{
	/* Straight into the init's copy of the flag: the init is not woken for it, where a request
	 * would cost a command-only jail ~40 µs of its ~2 ms. The PID is safe to use: the init is
	 * our child, and a child's PID is not given out again before its parent reaps it. */
	uint32_t one = 1;
	struct iovec here = {.iov_base = &one, .iov_len = sizeof one};
	struct iovec there = {.iov_base = &init_committed, .iov_len = sizeof one};
	if (!lj_iso_fault("isolate-commit-request") &&
	    process_vm_writev(init_pid, &here, 1, &there, 1, 0) == (ssize_t)sizeof one)
		return 0;
	/* not allowed here (Yama's ptrace_scope 3, an LSM), or the init is gone: the request */
	struct lj_iso_req rq = {.kind = LJ_ISO_REQ_COMMIT};
	ssize_t r;
	do
		r = send(ctlfd, &rq, sizeof rq, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return lj_error(e, errno == EPIPE || errno == ECONNRESET ? ESRCH : errno, "commit");
	return 0;
}

static void reap_if_child(int pidfd)
{
	siginfo_t si;
	/* ECHILD when the init is not our child (jail(8) exited long ago): nothing to do. */
	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0 && errno == EINTR)
		;
}

int lj_isolate_stop(int pidfd, int timeout_ms, lj_err *e)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	if (timeout_ms > 0 && lj_isolate_alive(pidfd)) {
		if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
			return lj_error(e, errno, "SIGTERM");
		while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
			;
	}
	if (lj_isolate_alive(pidfd)) {
		if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
			return lj_error(e, errno, "SIGKILL");
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	reap_if_child(pidfd);
	return 0;
}
