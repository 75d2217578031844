/* escape: run as root INSIDE a jail, try every known way out, report each attempt.
 *
 * Linked statically (no libljail, no shared libc) so it can be copied into any jail root, a
 * busybox one included. Every attempt is harmless when it works: nothing is written to the
 * host (a sysctl gets the value it already has, cgroup and sysfs files are only opened for
 * writing, the clock is never set: a call with an invalid time shows whether the syscall gets
 * past seccomp, CAP_SYS_TIME tells the rest), and whatever it made is taken away at once.
 *
 *   escape [--host-pid PID] [--host-marker ARGV0] [--host-file PATH] [--host-mount PATH]
 *          [--host-ns net:[N],mnt:[N],...] [--maxproc N] [--only LIST]
 *          [--expect-allowed LIST] [--list] [--on-host]
 *
 * LIST is comma-separated attempt names or group names (raw_socket, mount, settime, adjtime,
 * mlock, chflags, read_msgbuf, sysvipc, socket_af, keyctl, ...; --list shows them all). The
 * group "mount" is what allow.mount opens (tmpfs, binds, unmounting its own); "kernfs" (a new
 * proc or sysfs) and "masks" (the locked read-only parts of /proc and /sys) stay blocked with it.
 * Output, one line per attempt:
 *   ok NAME blocked (ERRNO)          expected: the attempt failed
 *   FAIL NAME succeeded (detail)     an escape
 *   ok NAME allowed                  with --expect-allowed: it worked as the allow.* asks
 *   FAIL NAME blocked (ERRNO), expected allowed
 *   skip NAME (why)                  the attempt needs an argument that was not given
 * Exit status 1 if any line is FAIL, 2 on bad usage, else 0. Outside a jail (PID 1 is not
 * ljail-init) it refuses to run without --on-host, and then skips the attempts that would touch
 * the host's own mounts or init. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sys/timex.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* From <linux/fs.h>, which clashes with <sys/mount.h> in glibc 2.36. */
#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS _IOR('f', 1, long)
#define FS_IOC_SETFLAGS _IOW('f', 2, long)
#endif
#ifndef FS_IMMUTABLE_FL
#define FS_IMMUTABLE_FL 0x00000010
#endif

/* ---- arguments and results ------------------------------------------------------------------ */

static struct {
	pid_t host_pid;
	const char *host_marker, *host_file, *host_mount, *host_ns;
	int maxproc;
	const char *only, *allowed;
	bool on_host; /* --on-host: run outside a jail (tests of this program itself) */
	char tmp[64]; /* a scratch folder inside the jail */
} A;

enum outcome { BLOCKED, SUCCEEDED, NA };

struct res {
	enum outcome o;
	int err;          /* errno for BLOCKED (0: see detail) */
	char detail[200]; /* why it counts as blocked / what succeeded / why n/a */
};

static struct res blocked(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct res blocked(int err, const char *fmt, ...)
{
	struct res r = {.o = BLOCKED, .err = err};
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r.detail, sizeof r.detail, fmt, ap);
		va_end(ap);
	}
	return r;
}

static struct res succeeded(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct res succeeded(const char *fmt, ...)
{
	struct res r = {.o = SUCCEEDED};
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.detail, sizeof r.detail, fmt, ap);
	va_end(ap);
	return r;
}

static struct res na(const char *why)
{
	struct res r = {.o = NA};
	snprintf(r.detail, sizeof r.detail, "%s", why);
	return r;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* Errors that mean "refused by a permission check" rather than "got through to the work". */
static bool denied(int e)
{
	return e == EPERM || e == EACCES || e == EROFS || e == ENOSYS || e == EAFNOSUPPORT;
}

/* A syscall whose later checks fail on purpose: EPERM & co. = blocked, anything else (EINVAL,
 * EBADF, ENOENT ...) = the permission check was passed, so the call was reachable. */
static struct res gate(long rc, int err, const char *what)
{
	if (rc >= 0)
		return succeeded("%s returned %ld", what, rc);
	if (denied(err))
		return blocked(err, NULL);
	return succeeded("%s got past the permission check (%s)", what, ename(err));
}

/* Run fn in a child (for attempts that change the caller: chroot, setns, ptrace, unshare); the
 * child reports through a pipe. */
static struct res in_child(struct res (*fn)(void))
{
	int p[2];
	struct res r = blocked(0, "child failed");
	if (pipe(p) < 0)
		return na("pipe failed");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return na("fork failed");
	}
	if (pid == 0) {
		close(p[0]);
		struct res c = fn();
		ssize_t w = write(p[1], &c, sizeof c);
		_exit(w == (ssize_t)sizeof c ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], &r, sizeof r) != (ssize_t)sizeof r)
		r = blocked(0, "child died");
	close(p[0]);
	waitpid(pid, NULL, 0);
	return r;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	int e = errno;
	close(fd);
	if (r < 0) {
		errno = e;
		return -1;
	}
	buf[r] = 0;
	return (int)r;
}

/* Every numeric entry of /proc (processes visible to us). */
static int proc_pids(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	int n = 0;
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < max) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (*end == 0 && v > 0)
			out[n++] = (pid_t)v;
	}
	closedir(d);
	return n;
}

/* ---- processes ------------------------------------------------------------------------------ */

static struct res t_host_pid_signal(void)
{
	if (!A.host_pid)
		return na("no --host-pid");
	if (kill(A.host_pid, 0) == 0)
		return succeeded("kill(%d, 0) found the process", A.host_pid);
	return blocked(errno, NULL);
}

static struct res t_host_pid_visible(void)
{
	if (!A.host_pid)
		return na("no --host-pid");
	char p[64];
	struct stat st;
	snprintf(p, sizeof p, "/proc/%d", A.host_pid);
	if (stat(p, &st) == 0)
		return succeeded("%s exists", p);
	return blocked(errno, NULL);
}

static struct res t_host_pidfd(void)
{
	if (!A.host_pid)
		return na("no --host-pid");
	long fd = syscall(SYS_pidfd_open, A.host_pid, 0);
	if (fd >= 0) {
		close((int)fd);
		return succeeded("pidfd_open(%d) worked", A.host_pid);
	}
	return blocked(errno, NULL);
}

static struct res t_host_proc_scan(void)
{
	if (!A.host_marker)
		return na("no --host-marker");
	pid_t pids[4096];
	int n = proc_pids(pids, 4096);
	for (int i = 0; i < n; i++) {
		char p[64], buf[512];
		snprintf(p, sizeof p, "/proc/%d/cmdline", pids[i]);
		if (read_small(p, buf, sizeof buf) > 0 && !strcmp(buf, A.host_marker))
			return succeeded("the host process is pid %d here", pids[i]);
	}
	return blocked(0, "not among the %d processes in /proc", n);
}

static struct res seize_child(pid_t pid)
{
	/* The child exits right after: the kernel detaches a tracer that exits. SEIZE does not
	 * stop the tracee. */
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0)
		return succeeded("PTRACE_SEIZE of pid %d worked", pid);
	return blocked(errno, NULL);
}

static struct res ptrace_host_child(void)
{
	return seize_child(A.host_pid);
}

static struct res ptrace_init_child(void)
{
	return seize_child(1);
}

static struct res t_ptrace_host(void)
{
	if (!A.host_pid)
		return na("no --host-pid");
	return in_child(ptrace_host_child);
}

static struct res t_ptrace_init(void)
{
	return in_child(ptrace_init_child);
}

/* The jail's init is made by jail(8) on the host: its memory and environment are the host's. */
static struct res t_init_memory(void)
{
	char buf[256];
	int r = read_small("/proc/1/environ", buf, sizeof buf);
	if (r > 0)
		return succeeded("read %d bytes of /proc/1/environ", r);
	if (r == 0)
		return blocked(0, "/proc/1/environ is empty");
	int e = errno;
	int fd = open("/proc/1/mem", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return succeeded("/proc/1/mem opened");
	}
	return blocked(e, NULL);
}

/* CVE-2019-5736 needs a host binary reachable through /proc/PID/exe. */
static struct res t_host_exe(void)
{
	pid_t pids[4096];
	int n = proc_pids(pids, 4096), denied_n = 0, last = 0;
	for (int i = 0; i < n; i++) {
		char p[64], link[4096];
		snprintf(p, sizeof p, "/proc/%d/exe", pids[i]);
		int fd = open(p, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EACCES || errno == EPERM)
				denied_n++, last = errno;
			continue;
		}
		struct stat a, b;
		ssize_t l = readlink(p, link, sizeof link - 1);
		bool host = fstat(fd, &a) < 0 || l <= 0;
		if (!host) {
			link[l] = 0;
			/* a host file either has no name here or another file under that name */
			host = stat(link, &b) < 0 || !same_file(&a, &b);
		}
		if (host) {
			int w = open(p, O_WRONLY | O_CLOEXEC);
			int we = errno;
			if (w >= 0)
				close(w);
			close(fd);
			return succeeded("pid %d runs a host binary reachable here (%s; open for "
			                 "writing: %s)",
			                 pids[i], l > 0 ? link : "?",
			                 w >= 0 ? "worked" : ename(we));
		}
		close(fd);
	}
	if (denied_n)
		return blocked(last, NULL);
	return blocked(0, "no process runs a host binary");
}

/* ---- files and mounts ----------------------------------------------------------------------- */

static struct res t_host_file(void)
{
	if (!A.host_file)
		return na("no --host-file");
	char p[4200];
	int fd = open(A.host_file, O_RDONLY | O_CLOEXEC), e = errno;
	if (fd >= 0) {
		close(fd);
		return succeeded("%s opened", A.host_file);
	}
	const char *via[] = {"/proc/1/root", "/proc/self/root/../../../..", "/../../../..",
	                     "/proc/self/cwd/../../../.."};
	for (size_t i = 0; i < sizeof via / sizeof *via; i++) {
		snprintf(p, sizeof p, "%s%s", via[i], A.host_file);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0) {
			close(fd);
			return succeeded("%s opened", p);
		}
	}
	return blocked(e, NULL);
}

/* field 5 (mount point) of each mountinfo line */
static struct res scan_mountinfo(const char *file, int *count)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return blocked(errno, NULL);
	char line[4096];
	size_t ml = strlen(A.host_mount);
	while (fgets(line, sizeof line, f)) {
		char mp[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		(*count)++;
		if (!strncmp(mp, A.host_mount, ml) && (mp[ml] == 0 || mp[ml] == '/')) {
			fclose(f);
			return succeeded("%s lists the host mount %s", file, mp);
		}
	}
	fclose(f);
	return blocked(0, NULL);
}

static struct res t_host_mounts(void)
{
	if (!A.host_mount)
		return na("no --host-mount");
	int n = 0;
	struct res r = scan_mountinfo("/proc/self/mountinfo", &n);
	if (r.o == SUCCEEDED)
		return r;
	int n1 = 0;
	struct res r1 = scan_mountinfo("/proc/1/mountinfo", &n1);
	if (r1.o == SUCCEEDED)
		return r1;
	struct stat st;
	if (stat(A.host_mount, &st) == 0)
		return succeeded("%s exists here", A.host_mount);
	return blocked(0, "%d mounts, none of the host's", n);
}

static struct stat root0;

/* mkdir x; chroot x; chdir ../../..; chroot . */
static struct res chroot_child(void)
{
	char x[128];
	snprintf(x, sizeof x, "%s/chroot", A.tmp);
	mkdir(x, 0700);
	int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (chroot(x) < 0)
		return blocked(errno, NULL);
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	if (chroot(".") < 0)
		return blocked(errno, NULL);
	struct stat st;
	if (stat("/", &st) == 0 && !same_file(&st, &root0))
		return succeeded("chroot(.) after chdir(..) x64 left the jail root");
	if (A.host_file && access(A.host_file, F_OK) == 0)
		return succeeded("%s reachable", A.host_file);
	/* the same from an fd opened before the chroot */
	if (dfd >= 0 && fchdir(dfd) == 0) {
		for (int i = 0; i < 64; i++)
			if (chdir("..") < 0)
				break;
		if (stat(".", &st) == 0 && !same_file(&st, &root0))
			return succeeded("fchdir to an old fd and chdir(..) left the jail root");
	}
	return blocked(0, "stayed in the jail root");
}

static struct res t_chroot_escape(void)
{
	return in_child(chroot_child);
}

static struct res dotdot_child(void)
{
	char x[128];
	snprintf(x, sizeof x, "%s/dotdot", A.tmp);
	mkdir(x, 0700);
	/* an fd of the jail root, kept across a chroot into a subfolder: it is then outside the
	 * process's root, so ".." from it is not stopped by the chroot, only by the mount
	 * namespace's root (pivot_root) */
	int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return na("cannot open /");
	int ce = chroot(x) < 0 ? errno : 0;
	char up[400] = "..";
	for (int i = 0; i < 40; i++)
		strcat(up, "/..");
	int u = openat(dfd, up, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (u >= 0 && fstat(u, &st) == 0 && !same_file(&st, &root0)) {
		close(u);
		return succeeded("openat(fd, \"../..\") reached above the jail root");
	}
	if (u >= 0)
		close(u);
	if (A.host_file) {
		char p[4500];
		snprintf(p, sizeof p, "%s%s", up, A.host_file);
		int f = openat(dfd, p, O_RDONLY | O_CLOEXEC);
		if (f >= 0) {
			close(f);
			return succeeded("%s reachable through ..", A.host_file);
		}
	}
	return blocked(0, ".. stops at the jail root%s", ce ? " (chroot refused)" : "");
}

static struct res t_dotdot_fd(void)
{
	return in_child(dotdot_child);
}

static void mkpoint(char *p, size_t n, const char *name)
{
	snprintf(p, n, "%s/%s", A.tmp, name);
	mkdir(p, 0700);
}

static struct res try_mount(const char *src, const char *name, const char *type,
                            unsigned long flags, const char *data)
{
	char p[128];
	mkpoint(p, sizeof p, name);
	if (mount(src, p, type, flags, data) == 0) {
		umount2(p, MNT_DETACH);
		return succeeded("mount %s on %s worked", type ? type : src, p);
	}
	return blocked(errno, NULL);
}

static struct res t_mount_tmpfs(void)
{
	return try_mount("tmpfs", "m-tmpfs", "tmpfs", 0, "size=64k");
}

/* A fresh procfs shows /proc/sys writable (core_pattern: a program the kernel runs as host
 * root). Tried with mount(2) and with the new API (fsopen is where a filter might not look). */
static struct res t_mount_proc(void)
{
	struct res r = try_mount("proc", "m-proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (r.o == SUCCEEDED)
		return r;
	long fs = syscall(SYS_fsopen, "proc", 0);
	if (fs < 0)
		return r;
	long m = -1;
	if (syscall(SYS_fsconfig, (int)fs, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0) == 0)
		m = syscall(SYS_fsmount, (int)fs, 0, 0);
	int e = errno;
	close((int)fs);
	if (m >= 0) {
		close((int)m);
		return succeeded("fsopen/fsmount of a new procfs worked");
	}
	return blocked(e, "mount: %s; fsconfig/fsmount", ename(r.err));
}

/* A fresh sysfs (rw: the jail's /sys is read-only) shows the host's devices writable. */
static struct res t_mount_sysfs(void)
{
	return try_mount("sysfs", "m-sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* A bind mount of a folder of the jail onto another (FreeBSD's nullfs). */
static struct res t_mount_bind(void)
{
	char src[128];
	mkpoint(src, sizeof src, "m-bsrc");
	return try_mount(src, "m-bind", NULL, MS_BIND, NULL);
}

/* Unmounting what the jail mounted itself. */
static struct res t_umount_own(void)
{
	char p[128];
	mkpoint(p, sizeof p, "m-own");
	if (mount("tmpfs", p, "tmpfs", 0, "size=64k") < 0)
		return blocked(errno, "mount");
	if (umount2(p, 0) < 0) {
		int e = errno;
		umount2(p, MNT_DETACH);
		return blocked(e, "umount of its own tmpfs");
	}
	return succeeded("mounted and unmounted a tmpfs");
}

static struct res t_mount_newapi(void)
{
	long fd = syscall(SYS_fsopen, "tmpfs", 0);
	if (fd >= 0) {
		close((int)fd);
		return succeeded("fsopen(tmpfs) worked");
	}
	return blocked(errno, NULL);
}

/* /proc/sys read-only: remounting it read-write is an escape (host sysctls). */
static struct res t_remount_proc_sys(void)
{
	if (mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          NULL) == 0) {
		mount(NULL, "/proc/sys", NULL,
		      MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		return succeeded("/proc/sys remounted read-write");
	}
	return blocked(errno, NULL);
}

/* umount2 /proc/sys (plain and lazy) and the read-only /sys: what is below is read-write. */
static struct res t_umount_proc_sys(void)
{
	static const char *const mp[] = {"/proc/sys", "/sys", "/proc/sys/kernel"};
	int e = 0;
	for (size_t i = 0; i < sizeof mp / sizeof *mp; i++) {
		if (umount2(mp[i], 0) == 0)
			return succeeded("unmounted %s", mp[i]);
		if (errno != ENOENT && (errno != EINVAL || !e))
			e = errno;
		if (umount2(mp[i], MNT_DETACH) == 0)
			return succeeded("unmounted %s (MNT_DETACH)", mp[i]);
	}
	return blocked(e, NULL);
}

/* /sys read-only: remounting it read-write is an escape (uevent_helper, devices). */
static struct res t_remount_sys(void)
{
	if (mount(NULL, "/sys", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          NULL) == 0) {
		mount(NULL, "/sys", NULL,
		      MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		return succeeded("/sys remounted read-write");
	}
	return blocked(errno, NULL);
}

/* core_pattern reachable for writing under a new mount point: the copy may lose the overmounts or
 * the read-only flag. */
static struct res core_pattern_under(const char *p, const char *how)
{
	char f[256];
	snprintf(f, sizeof f, "%s/sys/kernel/core_pattern", p);
	int fd = open(f, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd); /* never written */
		return succeeded("%s: %s opens for writing", how, f);
	}
	return blocked(errno, "%s worked, core_pattern stays read-only", how);
}

/* A non-recursive bind of /proc would leave the read-only /proc/sys behind. */
static struct res t_bind_proc(void)
{
	char p[128];
	mkpoint(p, sizeof p, "m-bproc");
	if (mount("/proc", p, NULL, MS_BIND, NULL) < 0) {
		int e = errno;
		if (mount("/proc", p, NULL, MS_BIND | MS_REC, NULL) < 0)
			return blocked(e, NULL);
		struct res r = core_pattern_under(p, "a recursive bind of /proc");
		umount2(p, MNT_DETACH);
		return r;
	}
	struct res r = core_pattern_under(p, "a bind of /proc");
	umount2(p, MNT_DETACH);
	if (r.o == BLOCKED)
		return succeeded("a non-recursive bind of /proc worked (%s)", ename(r.err));
	return r;
}

/* Moving the read-only /proc/sys away uncovers the read-write one. */
static struct res t_move_proc_sys(void)
{
	char p[128];
	mkpoint(p, sizeof p, "m-move");
	if (mount("/proc/sys", p, NULL, MS_MOVE, NULL) == 0) {
		mount(p, "/proc/sys", NULL, MS_MOVE, NULL);
		return succeeded("moved /proc/sys away");
	}
	return blocked(errno, NULL);
}

/* A detached copy of /proc/sys (open_tree) with the read-only flag cleared (mount_setattr). */
static struct res t_setattr_proc_sys(void)
{
	long t = syscall(SYS_open_tree, AT_FDCWD, "/proc/sys", 1 /* OPEN_TREE_CLONE */ | O_CLOEXEC);
	if (t < 0)
		return blocked(errno, "open_tree");
	struct {
		uint64_t attr_set, attr_clr, propagation, userns_fd;
	} ma = {.attr_clr = 0x1 /* MOUNT_ATTR_RDONLY */};
	long r = syscall(SYS_mount_setattr, (int)t, "", 0x1000 /* AT_EMPTY_PATH */, &ma, sizeof ma);
	int e = errno;
	close((int)t);
	if (r == 0)
		return succeeded("a copy of /proc/sys made read-write");
	return blocked(e, NULL);
}

/* The files masked in /proc (moby's list), the sensitive ones first. */
static const char *const proc_masked[] = {
        "/proc/kcore",         "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
        "/proc/latency_stats", "/proc/acpi", "/proc/scsi",       "/proc/kmsg"};

/* The masks over /proc and the read-only /proc/sys must stay: unmounting one uncovers the host's
 * file below. */
static struct res t_umount_masks(void)
{
	int e = 0;
	for (size_t i = 0; i < sizeof proc_masked / sizeof *proc_masked; i++) {
		if (umount2(proc_masked[i], MNT_DETACH) == 0)
			return succeeded("unmounted the mask over %s", proc_masked[i]);
		if (errno != ENOENT && errno != EINVAL) /* EINVAL: not a mount point here */
			e = errno;
	}
	if (umount2("/proc/sys", MNT_DETACH) == 0)
		return succeeded("unmounted the read-only /proc/sys");
	if (errno != ENOENT && errno != EINVAL)
		e = errno;
	return e ? blocked(e, NULL) : blocked(0, "no mask is a mount point");
}

/* ---- devices -------------------------------------------------------------------------------- */

static struct res try_mknod(mode_t type, unsigned maj, unsigned min, const char *name)
{
	char p[128];
	snprintf(p, sizeof p, "%s/%s", A.tmp, name);
	if (mknod(p, type | 0600, makedev(maj, min)) == 0) {
		unlink(p);
		return succeeded("mknod %u:%u worked", maj, min);
	}
	return blocked(errno, NULL);
}

static struct res t_mknod_block(void)
{
	return try_mknod(S_IFBLK, 7, 0, "loop0");
}

static struct res t_mknod_char(void)
{
	return try_mknod(S_IFCHR, 1, 1, "mem");
}

static struct res t_block_device(void)
{
	DIR *d = opendir("/dev");
	if (!d)
		return blocked(errno, NULL);
	struct dirent *de;
	int seen = 0;
	while ((de = readdir(d))) {
		char p[300];
		struct stat st;
		snprintf(p, sizeof p, "/dev/%s", de->d_name);
		if (lstat(p, &st) < 0 || !S_ISBLK(st.st_mode))
			continue;
		seen++;
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			closedir(d);
			return succeeded("%s opened", p);
		}
	}
	closedir(d);
	int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return succeeded("/dev/mem opened");
	}
	return blocked(errno, "%d block devices in /dev, none opens", seen);
}

/* ---- the kernel ----------------------------------------------------------------------------- */

static struct res t_init_module(void)
{
	static const char junk[64] = "not an ELF module";
	long r = syscall(SYS_init_module, junk, sizeof junk, "");
	return gate(r, errno, "init_module");
}

static struct res t_finit_module(void)
{
	long r = syscall(SYS_finit_module, -1, "", 0);
	return gate(r, errno, "finit_module");
}

static struct res t_delete_module(void)
{
	long r = syscall(SYS_delete_module, "ljail_escape_no_such_module", O_NONBLOCK);
	return gate(r, errno, "delete_module");
}

static struct res t_kexec_load(void)
{
	/* 1000 segments > KEXEC_SEGMENT_MAX: EINVAL once the permission check passed */
	long r = syscall(SYS_kexec_load, 0UL, 1000UL, NULL, 0UL);
	return gate(r, errno, "kexec_load");
}

static struct res t_reboot(void)
{
	/* a wrong magic: EINVAL once CAP_SYS_BOOT was checked */
	long r = syscall(SYS_reboot, 0x12345678, 0x87654321, LINUX_REBOOT_CMD_CAD_OFF, NULL);
	return gate(r, errno, "reboot");
}

static struct res t_ioports(void)
{
	if (syscall(SYS_iopl, 3) == 0) {
		syscall(SYS_iopl, 0);
		return succeeded("iopl(3) worked");
	}
	int e = errno;
	if (syscall(SYS_ioperm, 0x80UL, 1UL, 1) == 0) {
		syscall(SYS_ioperm, 0x80UL, 1UL, 0);
		return succeeded("ioperm(0x80) worked");
	}
	return blocked(e, NULL);
}

static struct res t_swapon(void)
{
	long r = syscall(SYS_swapon, "/nonexistent-ljail-escape", 0);
	return gate(r, errno, "swapon");
}

static struct res t_read_msgbuf(void)
{
	int r = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (r >= 0)
		return succeeded("syslog(SIZE_BUFFER) = %d", r);
	return blocked(errno, NULL);
}

static struct res t_keyctl(void)
{
	long r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	if (r >= 0)
		return succeeded("keyctl(GET_KEYRING_ID) = %ld", r);
	return blocked(errno, NULL);
}

static struct res t_add_key(void)
{
	/* the process keyring dies with us */
	long r = syscall(SYS_add_key, "user", "ljail-escape", "x", 1, KEY_SPEC_PROCESS_KEYRING);
	if (r >= 0)
		return succeeded("add_key worked");
	return blocked(errno, NULL);
}

static struct res t_bpf(void)
{
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
	if (fd >= 0) {
		close((int)fd);
		return succeeded("BPF_MAP_CREATE worked");
	}
	return blocked(errno, NULL);
}

static struct res t_perf_event_open(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0UL);
	if (fd >= 0) {
		close((int)fd);
		return succeeded("perf_event_open worked");
	}
	return blocked(errno, NULL);
}

static struct res t_userfaultfd(void)
{
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd >= 0) {
		close((int)fd);
		return succeeded("userfaultfd worked");
	}
	return blocked(errno, NULL);
}

static struct res t_open_by_handle_at(void)
{
	/* a made-up handle: ESTALE/EINVAL once CAP_DAC_READ_SEARCH was checked */
	struct {
		struct file_handle h;
		unsigned char b[128];
	} fh;
	memset(&fh, 0, sizeof fh);
	int mnt;
	if (name_to_handle_at(AT_FDCWD, "/", &fh.h, &mnt, 0) < 0) {
		fh.h.handle_bytes = 8;
		fh.h.handle_type = 1;
	}
	int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long r = syscall(SYS_open_by_handle_at, root, &fh.h, O_RDONLY | O_CLOEXEC);
	int e = errno;
	if (r >= 0)
		close((int)r);
	close(root);
	return gate(r, e, "open_by_handle_at");
}

static struct res t_tiocsti(void)
{
	char c = 'x';
	long r = ioctl(-1, TIOCSTI, &c); /* EBADF once past the filter: never types anything */
	return gate(r, errno, "ioctl(TIOCSTI)");
}

static struct res unshare_user_child(void)
{
	if (unshare(CLONE_NEWUSER) == 0)
		return succeeded("unshare(CLONE_NEWUSER) worked");
	return blocked(errno, NULL);
}

static struct res unshare_ns_child(void)
{
	static const int f[] = {CLONE_NEWNS,  CLONE_NEWNET, CLONE_NEWPID,
	                        CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP};
	int e = 0;
	for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
		if (unshare(f[i]) == 0)
			return succeeded("unshare(%#x) worked", f[i]);
		e = errno;
	}
	return blocked(e, NULL);
}

static struct res t_unshare_userns(void)
{
	return in_child(unshare_user_child);
}

static struct res t_unshare_ns(void)
{
	return in_child(unshare_ns_child);
}

/* setns into anything /proc offers (in a child: a success would move us). */
static struct res setns_child(void)
{
	pid_t pids[4096];
	int n = proc_pids(pids, 4096), last = 0, tried = 0;
	static const char *const kinds[] = {"net", "mnt",    "pid",  "uts",
	                                    "ipc", "cgroup", "user", "time"};
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
			char p[64];
			snprintf(p, sizeof p, "/proc/%d/ns/%s", pids[i], kinds[k]);
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			tried++;
			if (setns(fd, 0) == 0) {
				close(fd);
				return succeeded("setns(%s) worked", p);
			}
			last = errno;
			close(fd);
		}
	if (!tried)
		return blocked(EACCES, "no namespace file opens");
	return blocked(last, NULL);
}

static struct res t_setns(void)
{
	return in_child(setns_child);
}

/* None of the host's namespaces (as the test read them: "net:[4026531840]", ...) is visible. */
static struct res t_host_ns(void)
{
	if (!A.host_ns)
		return na("no --host-ns");
	pid_t pids[4096];
	int n = proc_pids(pids, 4096);
	static const char *const kinds[] = {"net", "mnt", "pid", "uts", "ipc", "cgroup"};
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
			char p[64], l[128];
			snprintf(p, sizeof p, "/proc/%d/ns/%s", pids[i], kinds[k]);
			ssize_t r = readlink(p, l, sizeof l - 1);
			if (r <= 0)
				continue;
			l[r] = 0;
			/* whole-item match in the comma list */
			const char *s = A.host_ns;
			size_t ll = strlen(l);
			while ((s = strstr(s, l))) {
				bool start = s == A.host_ns || s[-1] == ',';
				bool end = s[ll] == 0 || s[ll] == ',';
				if (start && end)
					return succeeded("%s is the host's %s", p, l);
				s += ll;
			}
		}
	return blocked(0, "no host namespace among %d processes", n);
}

/* ---- host-wide settings --------------------------------------------------------------------- */

static struct res t_sethostname(void)
{
	/* the name it already has: even a shared UTS namespace would not change */
	struct utsname u;
	uname(&u);
	if (sethostname(u.nodename, strlen(u.nodename)) == 0)
		return succeeded("sethostname worked (the jail's own UTS namespace)");
	return blocked(errno, NULL);
}

static struct res t_setdomainname(void)
{
	struct utsname u;
	uname(&u);
	if (setdomainname(u.domainname, strlen(u.domainname)) == 0)
		return succeeded("setdomainname worked (the jail's own UTS namespace)");
	return blocked(errno, NULL);
}

static bool have_cap(int cap)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* The kernel gives the initial user namespace a fixed inode number (PROC_USER_INIT_INO). */
static bool in_init_userns(void)
{
	struct stat st;
	return stat("/proc/self/ns/user", &st) == 0 && st.st_ino == 0xEFFFFFFDu;
}

/* The clock is never set: an invalid time shows whether the call passes the seccomp filter
 * (EINVAL: it reached the kernel's checks), then CAP_SYS_TIME decides, which counts only in the
 * host's user namespace (an allow.mount jail has one of its own). */
static struct res time_gate(long rc, int e, const char *what)
{
	if (rc == 0)
		return succeeded("%s set the clock (!)", what);
	if (e != EINVAL)
		return blocked(e, NULL);
	if (have_cap(CAP_SYS_TIME) && in_init_userns())
		return succeeded("%s passes the filter and CAP_SYS_TIME is held", what);
	return blocked(EPERM, have_cap(CAP_SYS_TIME) ? "CAP_SYS_TIME of a user namespace"
	                                             : "no CAP_SYS_TIME");
}

static struct res t_clock_settime(void)
{
	struct timespec ts = {.tv_sec = time(NULL), .tv_nsec = 2000000000L};
	long r = syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
	return time_gate(r, errno, "clock_settime");
}

static struct res t_settimeofday(void)
{
	struct timeval tv = {.tv_sec = time(NULL), .tv_usec = 2000000};
	long r = syscall(SYS_settimeofday, &tv, NULL);
	return time_gate(r, errno, "settimeofday");
}

static struct res t_adjtimex(void)
{
	/* ADJ_TICK out of range: EPERM without CAP_SYS_TIME, EINVAL with it; nothing changes */
	struct timex t;
	memset(&t, 0, sizeof t);
	t.modes = ADJ_TICK;
	t.tick = 1;
	long r = syscall(SYS_adjtimex, &t);
	return gate(r, errno, "adjtimex");
}

/* A host sysctl: written with the value it already has. */
static struct res t_sysctl_write(void)
{
	static const char *const files[] = {"/proc/sys/kernel/printk_ratelimit",
	                                    "/proc/sys/vm/swappiness",
	                                    "/proc/sys/fs/protected_symlinks"};
	int last = ENOENT;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char v[64];
		if (read_small(files[i], v, sizeof v) <= 0)
			continue;
		int fd = open(files[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			last = errno;
			continue;
		}
		ssize_t w = write(fd, v, strlen(v));
		last = errno;
		close(fd);
		if (w > 0)
			return succeeded("wrote %s", files[i]);
	}
	return blocked(last, NULL);
}

static struct res open_w_any(const char *const *files, size_t n)
{
	int last = ENOENT;
	for (size_t i = 0; i < n; i++) {
		int fd = open(files[i], O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd); /* never written */
			return succeeded("%s opens for writing", files[i]);
		}
		if (errno != ENOENT || last == ENOENT)
			last = errno;
	}
	return blocked(last, NULL);
}

static struct res t_core_pattern(void)
{
	static const char *const f[] = {"/proc/sys/kernel/core_pattern",
	                                "/proc/sys/kernel/modprobe", "/proc/sys/kernel/hotplug"};
	return open_w_any(f, sizeof f / sizeof *f);
}

static struct res t_sysrq(void)
{
	static const char *const f[] = {"/proc/sysrq-trigger"};
	return open_w_any(f, 1);
}

/* Reading a masked file gives nothing (an empty file or an empty folder). kmsg is not read: it
 * would consume the host's kernel messages if it were not masked. */
static struct res t_proc_masks(void)
{
	int e = ENOENT, n = 0;
	for (size_t i = 0; i < sizeof proc_masked / sizeof *proc_masked; i++) {
		const char *f = proc_masked[i];
		if (!strcmp(f, "/proc/kmsg"))
			continue;
		struct stat st;
		if (stat(f, &st) < 0)
			continue;
		n++;
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(f);
			if (!d) {
				e = errno;
				continue;
			}
			struct dirent *de;
			int entries = 0;
			while ((de = readdir(d)))
				entries += de->d_name[0] != '.';
			closedir(d);
			if (entries)
				return succeeded("%s lists %d entries", f, entries);
			continue;
		}
		char b[16];
		int fd = open(f, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			e = errno;
			continue;
		}
		ssize_t r = read(fd, b, sizeof b);
		close(fd);
		if (r > 0)
			return succeeded("read %zd bytes of %s", r, f);
	}
	return n ? blocked(0, "%d masked files read empty", n) : blocked(e, NULL);
}

/* CVE-2024-21626: a host directory fd leaked into the jail (or a cwd outside its root). The fds
 * the program was started with are recorded at the start of main. */
static struct {
	int fd;
	char link[256];
	bool dir;
} start_fds[64];
static int n_start_fds;

static void record_fds(void)
{
	for (int fd = 0; fd < 1024 && n_start_fds < 64; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			continue;
		char p[64];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		ssize_t l = readlink(p, start_fds[n_start_fds].link,
		                     sizeof start_fds[n_start_fds].link - 1);
		start_fds[n_start_fds].link[l > 0 ? l : 0] = 0;
		start_fds[n_start_fds].fd = fd;
		start_fds[n_start_fds].dir = S_ISDIR(st.st_mode);
		n_start_fds++;
	}
}

static struct res t_leaked_fds(void)
{
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return succeeded("the working directory is outside the root (%s)", ename(errno));
	if (cwd[0] != '/')
		return succeeded("the working directory is outside the root (%s)", cwd);
	for (int i = 0; i < n_start_fds; i++) {
		const char *l = start_fds[i].link;
		if (start_fds[i].dir)
			return succeeded("fd %d is a directory (%s)", start_fds[i].fd, l);
		/* 0-2 are what the caller chose (jexec j cmd >file); beyond them pipes, sockets,
		 * anon inodes and the terminal are fine, but a path must be the jail's */
		if (start_fds[i].fd > 2 && l[0] == '/' && strncmp(l, "/dev/", 5) != 0 &&
		    access(l, F_OK) < 0)
			return succeeded("fd %d is a file outside the root (%s)", start_fds[i].fd,
			                 l);
	}
	return blocked(0, "%d inherited fds, none outside the jail", n_start_fds);
}

static struct res t_sys_write(void)
{
	static const char *const f[] = {"/sys/kernel/uevent_helper",
	                                "/sys/kernel/mm/transparent_hugepage/enabled",
	                                "/sys/power/state", "/sys/class/net/lo/mtu"};
	struct res r = open_w_any(f, sizeof f / sizeof *f);
	if (r.o == SUCCEEDED)
		return r;
	if (mkdir("/sys/kernel/ljail-escape", 0700) == 0) {
		rmdir("/sys/kernel/ljail-escape");
		return succeeded("mkdir under /sys worked");
	}
	return r;
}

/* cgroup files: opened for writing only, never written. release_agent is the classic escape
 * (a v1 hierarchy runs it as host root), so a fresh v1 mount is tried too. */
static struct res t_cgroup_write(void)
{
	const char *names[] = {"cgroup.procs",           "release_agent", "notify_on_release",
	                       "cgroup.subtree_control", "pids.max",      "memory.max"};
	int last = ENOENT;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	while (f && fgets(line, sizeof line, f)) {
		char mp[2048], fstype[64];
		/* the type follows the " - " separator */
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %2047s", mp) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
			continue;
		for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
			char p[2200];
			snprintf(p, sizeof p, "%s/%s", mp, names[i]);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				fclose(f);
				return succeeded("%s opens for writing", p);
			}
			if (errno != ENOENT)
				last = errno;
		}
	}
	if (f)
		fclose(f);
	return blocked(last, last == ENOENT ? "no cgroup file system in the jail" : NULL);
}

static struct res t_release_agent(void)
{
	char p[128], ra[160];
	mkpoint(p, sizeof p, "m-cgroup");
	static const char *const ctl[] = {
	        "memory", "none,name=ljail-escape", "rdma", "misc", "net_cls", "perf_event",
	        "freezer"};
	int last = 0;
	for (size_t i = 0; i < sizeof ctl / sizeof *ctl; i++) {
		if (mount("cgroup", p, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, ctl[i]) < 0) {
			if (!last || errno != EINVAL)
				last = errno;
			continue;
		}
		snprintf(ra, sizeof ra, "%s/release_agent", p);
		int fd = open(ra, O_WRONLY | O_CLOEXEC);
		int e = errno;
		if (fd >= 0)
			close(fd); /* never written */
		umount2(p, MNT_DETACH);
		if (fd >= 0)
			return succeeded(
			        "mounted cgroup v1 %s; its release_agent opens for writing",
			        ctl[i]);
		return succeeded("mounted cgroup v1 %s (release_agent: %s)", ctl[i], ename(e));
	}
	return blocked(last, NULL);
}

/* ---- network and IPC ------------------------------------------------------------------------ */

static struct res try_socket(int dom, int type, int proto)
{
	int s = socket(dom, type, proto);
	if (s >= 0) {
		close(s);
		return succeeded("socket(%d, %d, %d) worked", dom, type, proto);
	}
	return blocked(errno, NULL);
}

static struct res t_raw_socket(void)
{
	return try_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static struct res t_raw_socket6(void)
{
	return try_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
}

static struct res t_packet_socket(void)
{
	return try_socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
}

static struct res t_socket_af(void)
{
	static const int fams[] = {38 /* AF_ALG */, 40 /* AF_VSOCK */, 30 /* AF_TIPC */,
	                           15 /* AF_KEY */};
	struct res r = blocked(EAFNOSUPPORT, NULL);
	for (size_t i = 0; i < sizeof fams / sizeof *fams; i++) {
		int s = socket(fams[i], SOCK_SEQPACKET, 0);
		if (s < 0)
			s = socket(fams[i], SOCK_RAW, 2);
		if (s >= 0) {
			close(s);
			return succeeded("socket family %d opened", fams[i]);
		}
		if (errno != EAFNOSUPPORT)
			r = blocked(errno, NULL);
	}
	return r;
}

static struct res t_sysvipc(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id >= 0) {
		shmctl(id, IPC_RMID, NULL);
		return succeeded("shmget worked");
	}
	return blocked(errno, NULL);
}

/* ---- memory and files ----------------------------------------------------------------------- */

/* Without CAP_IPC_LOCK, mlock is bounded by RLIMIT_MEMLOCK: lock one page more than that. */
static struct res t_mlock(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (64u << 20))
		return na("RLIMIT_MEMLOCK is unlimited or large: nothing to prove");
	size_t len = (size_t)rl.rlim_cur + 4096;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return na("mmap failed");
	int r = mlock(p, len), e = errno;
	if (r == 0)
		munlock(p, len);
	munmap(p, len);
	if (r == 0)
		return succeeded("locked %zu bytes beyond RLIMIT_MEMLOCK", len);
	return blocked(e, e == ENOMEM ? "over RLIMIT_MEMLOCK" : NULL);
}

static struct res t_chflags(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/flags", A.tmp);
	int fd = open(p, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return na("cannot make a file");
	int fl = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &fl) < 0) {
		int e = errno;
		close(fd);
		unlink(p);
		return blocked(e, "the file system has no flags");
	}
	int on = fl | FS_IMMUTABLE_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &on) == 0) {
		ioctl(fd, FS_IOC_SETFLAGS, &fl);
		close(fd);
		unlink(p);
		return succeeded("set the immutable flag");
	}
	int e = errno;
	close(fd);
	unlink(p);
	return blocked(e, NULL);
}

/* ---- resources ------------------------------------------------------------------------------ */

static struct res t_maxproc(void)
{
	if (A.maxproc <= 0)
		return na("no --maxproc");
	int max = A.maxproc + 64; /* bounded: never more than this many, whatever the limit */
	pid_t *kids = calloc((size_t)max, sizeof *kids);
	int n = 0, e = 0;
	while (n < max) {
		pid_t p = fork();
		if (p < 0) {
			e = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		kids[n++] = p;
	}
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	if (n >= A.maxproc)
		return succeeded("forked %d processes, maxproc is %d", n, A.maxproc);
	return blocked(e, "after %d forks", n);
}

/* ---- the table ------------------------------------------------------------------------------ */

struct attempt {
	const char *name, *group;
	struct res (*fn)(void);
};

/* Order matters at the end: the attempts that would change the jail itself come last. */
static const struct attempt attempts[] = {
        {"host_pid_signal", "process", t_host_pid_signal},
        {"host_pid_visible", "process", t_host_pid_visible},
        {"host_pidfd", "process", t_host_pidfd},
        {"host_proc_scan", "process", t_host_proc_scan},
        {"ptrace_host", "process", t_ptrace_host},
        {"ptrace_init", "process", t_ptrace_init},
        {"init_memory", "process", t_init_memory},
        {"host_exe", "process", t_host_exe},
        {"host_file", "files", t_host_file},
        {"host_mounts", "files", t_host_mounts},
        {"chroot_escape", "files", t_chroot_escape},
        {"dotdot_fd", "files", t_dotdot_fd},
        {"mount_tmpfs", "mount", t_mount_tmpfs},
        {"mount_bind", "mount", t_mount_bind},
        {"mount_newapi", "mount", t_mount_newapi},
        {"umount_own", "mount", t_umount_own},
        {"mount_proc", "kernfs", t_mount_proc},
        {"mount_sysfs", "kernfs", t_mount_sysfs},
        {"mknod_block", "devices", t_mknod_block},
        {"mknod_char", "devices", t_mknod_char},
        {"block_device", "devices", t_block_device},
        {"init_module", "kernel", t_init_module},
        {"finit_module", "kernel", t_finit_module},
        {"delete_module", "kernel", t_delete_module},
        {"kexec_load", "kernel", t_kexec_load},
        {"reboot", "kernel", t_reboot},
        {"ioports", "kernel", t_ioports},
        {"swapon", "kernel", t_swapon},
        {"read_msgbuf", "read_msgbuf", t_read_msgbuf},
        {"keyctl", "keyctl", t_keyctl},
        {"add_key", "keyctl", t_add_key},
        {"bpf", "kernel", t_bpf},
        {"perf_event_open", "kernel", t_perf_event_open},
        {"userfaultfd", "kernel", t_userfaultfd},
        {"open_by_handle_at", "files", t_open_by_handle_at},
        {"tiocsti", "kernel", t_tiocsti},
        {"unshare_userns", "namespaces", t_unshare_userns},
        {"unshare_ns", "namespaces", t_unshare_ns},
        {"setns", "namespaces", t_setns},
        {"host_ns", "namespaces", t_host_ns},
        {"sethostname", "set_hostname", t_sethostname},
        {"setdomainname", "set_hostname", t_setdomainname},
        {"clock_settime", "settime", t_clock_settime},
        {"settimeofday", "settime", t_settimeofday},
        {"adjtimex", "adjtime", t_adjtimex},
        {"sysctl_write", "sysctl", t_sysctl_write},
        {"core_pattern", "sysctl", t_core_pattern},
        {"sysrq_trigger", "sysctl", t_sysrq},
        {"proc_masks", "sysctl", t_proc_masks},
        {"leaked_fds", "files", t_leaked_fds},
        {"sys_write", "sysfs", t_sys_write},
        {"cgroup_write", "cgroup", t_cgroup_write},
        {"release_agent", "cgroup", t_release_agent},
        {"raw_socket", "raw_socket", t_raw_socket},
        {"raw_socket6", "raw_socket", t_raw_socket6},
        {"packet_socket", "raw_socket", t_packet_socket},
        {"socket_af", "socket_af", t_socket_af},
        {"sysvipc", "sysvipc", t_sysvipc},
        {"mlock", "mlock", t_mlock},
        {"chflags", "chflags", t_chflags},
        {"maxproc", "maxproc", t_maxproc},
        {"remount_proc_sys", "masks", t_remount_proc_sys},
        {"remount_sys", "masks", t_remount_sys},
        {"bind_proc", "masks", t_bind_proc},
        {"setattr_proc_sys", "masks", t_setattr_proc_sys},
        {"move_proc_sys", "masks", t_move_proc_sys},
        {"umount_masks", "masks", t_umount_masks},
        {"umount_proc_sys", "masks", t_umount_proc_sys},
};

/* name or group in a comma list */
static bool listed(const char *list, const struct attempt *a)
{
	if (!list)
		return false;
	const char *s = list;
	while (*s) {
		size_t n = strcspn(s, ",");
		if ((strlen(a->name) == n && !strncmp(s, a->name, n)) ||
		    (strlen(a->group) == n && !strncmp(s, a->group, n)))
			return true;
		s += n;
		if (*s == ',')
			s++;
	}
	return false;
}

static bool known(const char *list)
{
	const char *s = list;
	while (*s) {
		size_t n = strcspn(s, ",");
		bool ok = false;
		for (size_t i = 0; i < sizeof attempts / sizeof *attempts; i++)
			if ((strlen(attempts[i].name) == n && !strncmp(s, attempts[i].name, n)) ||
			    (strlen(attempts[i].group) == n && !strncmp(s, attempts[i].group, n)))
				ok = true;
		if (!ok && n) {
			fprintf(stderr, "escape: unknown attempt or group: %.*s\n", (int)n, s);
			return false;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return true;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: escape [--host-pid PID] [--host-marker ARGV0] [--host-file PATH]\n"
	        "              [--host-mount PATH] [--host-ns LIST] [--maxproc N]\n"
	        "              [--only LIST] [--expect-allowed LIST] [--list] [--on-host]\n");
	exit(2);
}

static void rm_tmp(void)
{
	static const char *const names[] = {"chroot",   "dotdot", "m-tmpfs", "m-proc",  "m-bind",
	                                    "m-bsrc",   "m-own",  "m-sysfs", "m-bproc", "m-move",
	                                    "m-cgroup", "loop0",  "mem",     "flags"};
	char p[128];
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(p, sizeof p, "%s/%s", A.tmp, names[i]);
		if (rmdir(p) < 0)
			unlink(p);
	}
	rmdir(A.tmp);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--on-host")) {
			A.on_host = true;
			continue;
		}
		if (!strcmp(o, "--list")) {
			for (size_t k = 0; k < sizeof attempts / sizeof *attempts; k++)
				printf("%s %s\n", attempts[k].name, attempts[k].group);
			return 0;
		}
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (!strcmp(o, "--host-pid"))
			A.host_pid = atoi(v);
		else if (!strcmp(o, "--host-marker"))
			A.host_marker = v;
		else if (!strcmp(o, "--host-file"))
			A.host_file = v;
		else if (!strcmp(o, "--host-mount"))
			A.host_mount = v;
		else if (!strcmp(o, "--host-ns"))
			A.host_ns = v;
		else if (!strcmp(o, "--maxproc"))
			A.maxproc = atoi(v);
		else if (!strcmp(o, "--only"))
			A.only = v;
		else if (!strcmp(o, "--expect-allowed"))
			A.allowed = v;
		else
			usage();
	}
	if ((A.only && !known(A.only)) || (A.allowed && !known(A.allowed)))
		return 2;
	/* Outside a jail the attempts act on the real host (ptrace of its init, unmounting its
	 * /proc/sys ...): only on request, and then never the ones that change mounts. */
	char comm[64] = "";
	if (read_small("/proc/1/comm", comm, sizeof comm) < 0 ||
	    strcmp(comm, "ljail-init\n") != 0) {
		if (!A.on_host) {
			fprintf(stderr,
			        "escape: not inside an ljail jail (/proc/1 is not ljail-init); "
			        "--on-host runs it anyway\n");
			return 2;
		}
	} else {
		A.on_host = false;
	}
	record_fds();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stat("/", &root0) < 0) {
		perror("escape: /");
		return 2;
	}
	snprintf(A.tmp, sizeof A.tmp, "/tmp/.ljail-escape-XXXXXX");
	if (!mkdtemp(A.tmp)) {
		snprintf(A.tmp, sizeof A.tmp, "/.ljail-escape-XXXXXX");
		if (!mkdtemp(A.tmp)) {
			perror("escape: no scratch folder (/tmp or /)");
			return 2;
		}
	}
	int fails = 0;
	for (size_t i = 0; i < sizeof attempts / sizeof *attempts; i++) {
		const struct attempt *a = &attempts[i];
		if (A.only && !listed(A.only, a))
			continue;
		bool want = listed(A.allowed, a);
		struct res r =
		        A.on_host && (!strcmp(a->group, "masks") || !strcmp(a->name, "ptrace_init"))
		                ? na("not on the host")
		                : a->fn();
		char why[256] = "";
		if (r.err && r.detail[0])
			snprintf(why, sizeof why, "%s: %s", ename(r.err), r.detail);
		else if (r.err)
			snprintf(why, sizeof why, "%s", ename(r.err));
		else
			snprintf(why, sizeof why, "%s", r.detail[0] ? r.detail : "refused");
		if (r.o == NA) {
			printf("skip %s (%s)\n", a->name, r.detail);
		} else if (!want && r.o == BLOCKED) {
			printf("ok %s blocked (%s)\n", a->name, why);
		} else if (!want) {
			printf("FAIL %s succeeded (%s)\n", a->name, r.detail);
			fails++;
		} else if (r.o == SUCCEEDED) {
			printf("ok %s allowed (%s)\n", a->name, r.detail);
		} else {
			printf("FAIL %s blocked (%s), expected allowed\n", a->name, why);
			fails++;
		}
	}
	rm_tmp();
	return fails ? 1 : 0;
}
