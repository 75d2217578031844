/* isolate/policy.c: allow.* → capability bounding set and seccomp filter. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "isolate/isolate.h"
#include "isolate/isolate_int.h"

void lj_isolate_policy_init(struct lj_iso_policy *p)
{
	memset(p, 0, sizeof *p);
	p->allow = LJ_ALLOW_DEFAULT;
	p->sysvshm = p->sysvmsg = p->sysvsem = LJ_SYSV_DISABLE;
}

static const struct {
	const char *name;
	uint32_t bit;
} allow_names[] = {
        {"set_hostname", LJ_ALLOW_SET_HOSTNAME},
        {"sysvipc", LJ_ALLOW_SYSVIPC},
        {"raw_sockets", LJ_ALLOW_RAW_SOCKETS},
        {"chflags", LJ_ALLOW_CHFLAGS},
        {"mount", LJ_ALLOW_MOUNT},
        {"quotas", LJ_ALLOW_QUOTAS},
        {"socket_af", LJ_ALLOW_SOCKET_AF},
        {"mlock", LJ_ALLOW_MLOCK},
        {"read_msgbuf", LJ_ALLOW_READ_MSGBUF},
        {"settime", LJ_ALLOW_SETTIME},
        {"adjtime", LJ_ALLOW_ADJTIME},
        {"routing", LJ_ALLOW_ROUTING},
        {"suser", LJ_ALLOW_SUSER},
        {"reserved_ports", LJ_ALLOW_RESERVED_PORTS},
        {"unprivileged_proc_debug", LJ_ALLOW_UNPRIV_PROC_DEBUG},
        {"extattr", LJ_ALLOW_EXTATTR},
        {"nfsd", LJ_ALLOW_NFSD},
        {"setaudit", LJ_ALLOW_SETAUDIT},
        {"vmm", LJ_ALLOW_VMM},
        {"unprivileged_parent_tampering", LJ_ALLOW_UNPRIV_PARENT_TAMPERING},
};

static int parse_bool(const char *key, const char *v, bool *out, lj_err *e)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return lj_errorx(e, "%s: invalid boolean \"%s\"", key, v);
}

static int parse_sysv(const char *key, const char *v, enum lj_iso_sysv *out, lj_err *e)
{
	if (!v || !strcmp(v, "new") || !strcmp(v, "1") || !strcmp(v, ""))
		*out = LJ_SYSV_NEW;
	else if (!strcmp(v, "inherit") || !strcmp(v, "2"))
		*out = LJ_SYSV_INHERIT;
	else if (!strcmp(v, "disable") || !strcmp(v, "0"))
		*out = LJ_SYSV_DISABLE;
	else
		return lj_errorx(e, "%s: invalid value \"%s\"", key, v);
	return 0;
}

int lj_isolate_policy_from_params(const lj_strv *params, struct lj_iso_policy *p, lj_err *e)
{
	bool shm_set = false, msg_set = false, sem_set = false, ip4_off = false, ip6_off = false;
	/* A zeroed struct (`= {0}`) means "the defaults": an empty allow set can only come from
	 * parsing, never from lj_isolate_policy_init. */
	static const struct lj_iso_policy zero;
	if (!memcmp(p, &zero, sizeof zero))
		lj_isolate_policy_init(p);
	for (size_t i = 0; params && i < params->n; i++) {
		lj_autofree char *key = xstrdup(params->v[i]);
		char *val = strchr(key, '=');
		if (val)
			*val++ = '\0';
		bool neg = false;
		const char *k = key;
		if (lj_startswith(k, "allow.no")) {
			neg = true;
			k += 8;
		} else if (lj_startswith(k, "allow.")) {
			k += 6;
		} else if (!strcmp(k, "vnet")) {
			if (val && !strcmp(val, "inherit"))
				p->vnet = false;
			else if (val && !strcmp(val, "new"))
				p->vnet = true;
			else if (parse_bool(key, val, &p->vnet, e) < 0)
				return -1;
			continue;
		} else if (!strcmp(k, "novnet")) {
			p->vnet = false;
			continue;
		} else if (!strcmp(k, "sysvshm")) {
			if (parse_sysv(key, val, &p->sysvshm, e) < 0)
				return -1;
			shm_set = true;
			continue;
		} else if (!strcmp(k, "sysvmsg")) {
			if (parse_sysv(key, val, &p->sysvmsg, e) < 0)
				return -1;
			msg_set = true;
			continue;
		} else if (!strcmp(k, "sysvsem")) {
			if (parse_sysv(key, val, &p->sysvsem, e) < 0)
				return -1;
			sem_set = true;
			continue;
		} else if (!strcmp(k, "ip4") || !strcmp(k, "ip6")) {
			/* "disable" is all that matters here; the addresses are net/ipjail's */
			*(k[2] == '4' ? &ip4_off : &ip6_off) = val && !strcmp(val, "disable");
			continue;
		} else if (!strcmp(k, "children.max")) {
			int n;
			if (!val || !lj_parse_int(val, &n) || n < 0)
				return lj_errorx(e, "children.max: invalid value \"%s\"",
				                 val ? val : "");
			p->children_max = n;
			continue;
		} else {
			continue;
		}
		/* allow.<x> (allow.mount.<fs> is allow.mount's business on Linux: one capability)
		 */
		if (lj_startswith(k, "mount."))
			continue;
		for (size_t j = 0; j < LJ_ARRAY_LEN(allow_names); j++) {
			if (strcmp(k, allow_names[j].name))
				continue;
			bool on;
			if (parse_bool(key, val, &on, e) < 0)
				return -1;
			if (neg)
				on = !on;
			if (on)
				p->allow |= allow_names[j].bit;
			else
				p->allow &= ~allow_names[j].bit;
		}
	}
	/* No IP at all, by seccomp alone: only where nothing else can make an IP socket for the
	 * jail (other families that carry IP, such as AF_SMC and AF_RXRPC, are refused; routing
	 * would let it make tunnels), and on the host's stack (a vnet jail has its own). */
	p->no_inet = ip4_off && ip6_off && !p->vnet &&
	             !(p->allow & (LJ_ALLOW_SOCKET_AF | LJ_ALLOW_ROUTING));
	/* FreeBSD: with allow.sysvipc the sysv* params default to inherit. */
	if (p->allow & LJ_ALLOW_SYSVIPC) {
		if (!shm_set)
			p->sysvshm = LJ_SYSV_INHERIT;
		if (!msg_set)
			p->sysvmsg = LJ_SYSV_INHERIT;
		if (!sem_set)
			p->sysvsem = LJ_SYSV_INHERIT;
	}
	return 0;
}

bool lj_isolate_wants_userns(const struct lj_iso_policy *p)
{
	return (p->allow & LJ_ALLOW_MOUNT) != 0;
}

bool lj_iso_new_ipc(const struct lj_iso_policy *p)
{
	return !(p->sysvshm == LJ_SYSV_INHERIT && p->sysvmsg == LJ_SYSV_INHERIT &&
	         p->sysvsem == LJ_SYSV_INHERIT);
}

#define CAPB(c) (UINT64_C(1) << (c))

uint64_t lj_isolate_caps(const struct lj_iso_policy *p)
{
	if (!(p->allow & LJ_ALLOW_SUSER))
		return 0;
	uint64_t c = CAPB(CAP_CHOWN) | CAPB(CAP_DAC_OVERRIDE) | CAPB(CAP_FOWNER) |
	             CAPB(CAP_FSETID) | CAPB(CAP_KILL) | CAPB(CAP_SETGID) | CAPB(CAP_SETUID) |
	             CAPB(CAP_SETPCAP) | CAPB(CAP_SETFCAP) | CAPB(CAP_SYS_CHROOT) |
	             CAPB(CAP_AUDIT_WRITE) | CAPB(CAP_NET_BROADCAST);
	if (p->allow & LJ_ALLOW_RESERVED_PORTS)
		c |= CAPB(CAP_NET_BIND_SERVICE);
	if (p->allow & LJ_ALLOW_RAW_SOCKETS)
		c |= CAPB(CAP_NET_RAW);
	if (p->allow & LJ_ALLOW_CHFLAGS)
		c |= CAPB(CAP_LINUX_IMMUTABLE);
	if (p->allow & LJ_ALLOW_MOUNT)
		c |= CAPB(CAP_SYS_ADMIN);
	if (p->allow & LJ_ALLOW_MLOCK)
		c |= CAPB(CAP_IPC_LOCK);
	if (p->allow & LJ_ALLOW_READ_MSGBUF)
		c |= CAPB(CAP_SYSLOG);
	if (p->allow & (LJ_ALLOW_SETTIME | LJ_ALLOW_ADJTIME))
		c |= CAPB(CAP_SYS_TIME);
	if ((p->allow & LJ_ALLOW_ROUTING) || p->vnet)
		c |= CAPB(CAP_NET_ADMIN);
	/* Owner override over IPC objects: harmless in a private IPC namespace. */
	if ((p->allow & LJ_ALLOW_SYSVIPC) || lj_iso_new_ipc(p))
		c |= CAPB(CAP_IPC_OWNER);
	/* Jails inside need namespaces and mounts. */
	if (p->children_max > 0)
		c |= CAPB(CAP_SYS_ADMIN);
	return c;
}

/* Add "syscall → action" when the syscall exists here; unknown names are fine (other arches). */
static int deny(scmp_filter_ctx c, uint32_t action, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp, lj_err *e)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add_array(c, action, nr, n, cmp);
	if (r < 0 && r != -EDOM && r != -EEXIST)
		return lj_error(e, -r, "seccomp rule for %s", name);
	return 0;
}

static int deny_all(scmp_filter_ctx c, uint32_t action, const char *const *names, lj_err *e)
{
	for (; *names; names++)
		if (deny(c, action, *names, 0, NULL, e) < 0)
			return -1;
	return 0;
}

static const char *const never[] = {"init_module",
                                    "finit_module",
                                    "delete_module",
                                    "create_module",
                                    "get_kernel_syms",
                                    "query_module",
                                    "kexec_load",
                                    "kexec_file_load",
                                    "reboot",
                                    "open_by_handle_at",
                                    "keyctl",
                                    "add_key",
                                    "request_key",
                                    "bpf",
                                    "perf_event_open",
                                    "userfaultfd",
                                    "swapon",
                                    "swapoff",
                                    "acct",
                                    "iopl",
                                    "ioperm",
                                    "lookup_dcookie",
                                    "nfsservctl",
                                    "uselib",
                                    "ustat",
                                    "sysfs",
                                    "_sysctl",
                                    "vm86",
                                    "vm86old",
                                    NULL};
static const char *const mount_calls[] = {"mount",     "umount",        "umount2",    "fsopen",
                                          "fsconfig",  "fsmount",       "fspick",     "move_mount",
                                          "open_tree", "mount_setattr", "pivot_root", NULL};
static const char *const uring_calls[] = {"io_uring_setup", "io_uring_enter", "io_uring_register",
                                          NULL};
static const char *const time_calls[] = {"clock_settime", "clock_settime64", "settimeofday",
                                         "stime", NULL};
static const char *const debug_calls[] = {"ptrace", "process_vm_readv", "process_vm_writev", NULL};
static const char *const shm_calls[] = {"shmget", "shmat", "shmdt", "shmctl", NULL};
static const char *const msg_calls[] = {"msgget", "msgsnd", "msgrcv", "msgctl", NULL};
static const char *const sem_calls[] = {"semget", "semop", "semtimedop", "semtimedop_time64",
                                        "semctl", NULL};

#if defined(__x86_64__)
/* Whether the kernel runs x32 syscalls (CONFIG_X86_X32_ABI, and on Debian syscall.x32=y): a
 * filter without the x32 ABI is shorter, and libseccomp's x86_64 program then kills every x32
 * call number as a bad arch (such a kernel answers them ENOSYS anyway). Probed only outside any
 * seccomp filter (an outer filter without x32 in its arch list could kill us for the probe);
 * under one (a nested jail, a container) x32 is assumed, which only costs size. Cannot change
 * while the machine runs; the run directory holding compiled programs is a tmpfs. */
static bool sc_x32_abi(void)
{
	static int x32 = -1;
	if (x32 < 0) {
		if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0)
			x32 = 1;
		else
			x32 = !(syscall(0x40000000 /* __X32_SYSCALL_BIT */ | __NR_getpid) < 0 &&
			        errno == ENOSYS);
	}
	return x32 != 0;
}
#else
static bool sc_x32_abi(void)
{
	return false;
}
#endif

static scmp_filter_ctx build_filter(const struct lj_iso_policy *p, lj_err *e)
{
	scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
	if (!c) {
		lj_errorx(e, "seccomp_init failed");
		return NULL;
	}
	const uint32_t EPERM_ = SCMP_ACT_ERRNO(EPERM), ENOSYS_ = SCMP_ACT_ERRNO(ENOSYS);
	/* libseccomp sets no_new_privs by default: that would break setuid programs in the jail. */
	if (seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 0) < 0)
		goto fail;
	/* A binary tree of syscall numbers instead of a chain: loading a filter, the kernel runs
	 * it once for every syscall number of both ABIs (its cache of always-allowed calls), so the
	 * cost follows the path length an allowed call takes (~200 µs for the chain, ~80 µs for
	 * the tree). */
	if (seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		goto fail;
#if defined(__x86_64__)
	/* Without the compat ABIs in the filter, an i386 or x32 binary would meet the default
	 * BADARCH action (kill) — and, worse, a filter on the native arch only is bypassable. */
	if (seccomp_arch_add(c, SCMP_ARCH_X86) < 0 && errno != EEXIST)
		goto fail;
	if (sc_x32_abi() && seccomp_arch_add(c, SCMP_ARCH_X32) < 0 && errno != EEXIST)
		goto fail;
#endif
	if (deny_all(c, EPERM_, never, e) < 0)
		goto fail_e;
	bool may_mount = (p->allow & LJ_ALLOW_MOUNT) || p->children_max > 0;
	if (!may_mount && deny_all(c, EPERM_, mount_calls, e) < 0)
		goto fail_e;
	if (!(p->allow & LJ_ALLOW_READ_MSGBUF) && deny(c, EPERM_, "syslog", 0, NULL, e) < 0)
		goto fail_e;
	if (!(p->allow & LJ_ALLOW_QUOTAS) && (deny(c, EPERM_, "quotactl", 0, NULL, e) < 0 ||
	                                      deny(c, EPERM_, "quotactl_fd", 0, NULL, e) < 0))
		goto fail_e;
	if (!(p->allow & (LJ_ALLOW_SETTIME | LJ_ALLOW_ADJTIME)) &&
	    deny_all(c, EPERM_, time_calls, e) < 0)
		goto fail_e;
	if (!(p->allow & LJ_ALLOW_UNPRIV_PROC_DEBUG) && deny_all(c, EPERM_, debug_calls, e) < 0)
		goto fail_e;

	/* SysV families switched off answer ENOSYS, as FreeBSD does ("Function not implemented").
	 * On i386 the ipc(2) multiplexer ignores the high bits of its call number, so argument
	 * rules on it are bypassable: refuse it outright there. */
	bool any_off = false;
	if (p->sysvshm == LJ_SYSV_DISABLE) {
		any_off = true;
		if (deny_all(c, ENOSYS_, shm_calls, e) < 0)
			goto fail_e;
	}
	if (p->sysvmsg == LJ_SYSV_DISABLE) {
		any_off = true;
		if (deny_all(c, ENOSYS_, msg_calls, e) < 0)
			goto fail_e;
	}
	if (p->sysvsem == LJ_SYSV_DISABLE) {
		any_off = true;
		if (deny_all(c, ENOSYS_, sem_calls, e) < 0)
			goto fail_e;
	}
	if (any_off && deny(c, ENOSYS_, "ipc", 0, NULL, e) < 0)
		goto fail_e;

	/* Socket families: FreeBSD allows unix, inet, inet6 and route (= netlink here); packet
	 * sockets count as raw sockets. Without IPv4 and IPv6 (no_inet) inet and inet6 go too,
	 * with FreeBSD's answer. io_uring can make sockets without socket(2) (IORING_OP_SOCKET),
	 * past these rules: FreeBSD has none, it answers ENOSYS. */
	if (!(p->allow & LJ_ALLOW_SOCKET_AF)) {
		const uint32_t AFNS = SCMP_ACT_ERRNO(EAFNOSUPPORT);
		for (uint64_t af = 0; af < 17; af++) {
			if (af == AF_UNIX || af == AF_NETLINK ||
			    ((af == AF_INET || af == AF_INET6) && !p->no_inet))
				continue;
			struct scmp_arg_cmp a = {
			        .arg = 0, .op = SCMP_CMP_EQ, .datum_a = af, .datum_b = 0};
			if (deny(c, AFNS, "socket", 1, &a, e) < 0)
				goto fail_e;
		}
		/* spelled out: libseccomp's SCMP_A0 leaves datum_b to the compiler, which clang
		 * flags */
		struct scmp_arg_cmp a = {.arg = 0,
		                         .op = SCMP_CMP_GE,
		                         .datum_a = (p->allow & LJ_ALLOW_RAW_SOCKETS) ? 18 : 17,
		                         .datum_b = 0};
		if (deny(c, AFNS, "socket", 1, &a, e) < 0 ||
		    deny_all(c, ENOSYS_, uring_calls, e) < 0)
			goto fail_e;
	}

	/* Typing into the terminal jexec shares with the host's shell (TIOCSTI), or into the
	 * console (TIOCLINUX): never. The kernel compares the request as 32 bits. */
	static const uint64_t tty_ioctls[] = {TIOCSTI, TIOCLINUX};
	for (size_t i = 0; i < LJ_ARRAY_LEN(tty_ioctls); i++) {
		struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, tty_ioctls[i]);
		if (deny(c, EPERM_, "ioctl", 1, &a, e) < 0)
			goto fail_e;
	}

	/* Namespaces. clone3 hides its flags behind a pointer: answer ENOSYS so libc falls back to
	 * clone, whose flags a filter can see. User namespaces never (the usual door to kernel
	 * bugs); the others only for jails that may have jails (children.max > 0). */
	if (deny(c, ENOSYS_, "clone3", 0, NULL, e) < 0)
		goto fail_e;
	static const uint64_t nsflags[] = {CLONE_NEWUSER,  CLONE_NEWNS,  CLONE_NEWUTS,
	                                   CLONE_NEWIPC,   CLONE_NEWPID, CLONE_NEWNET,
	                                   CLONE_NEWCGROUP};
	size_t nflags = p->children_max > 0 ? 1 : LJ_ARRAY_LEN(nsflags);
	for (size_t i = 0; i < nflags; i++) {
		struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, nsflags[i], nsflags[i]);
		if (deny(c, EPERM_, "clone", 1, &a, e) < 0 ||
		    deny(c, EPERM_, "unshare", 1, &a, e) < 0)
			goto fail_e;
	}
	if (p->children_max == 0 && deny(c, EPERM_, "setns", 0, NULL, e) < 0)
		goto fail_e;
	return c;
fail:
	lj_errorx(e, "seccomp: cannot build the filter");
fail_e:
	seccomp_release(c);
	return NULL;
}

/* ---- the compiled filter, kept per policy ------------------------------------------------------
 * Building the filter with libseccomp costs ~0.6 ms in a fresh process (loading it ~0.1 ms), on
 * the path of every jail create. lj_iso_seccomp_prepare, called before the jail's processes lose
 * sight of the run directory, reads the compiled BPF program from $LJAIL_RUNDIR/seccomp-*.bpf
 * (or compiles and writes it there); lj_iso_seccomp_load, in the child, then only loads it. The
 * file names what compiled it (the executable, libseccomp, the kernel): anything else is
 * compiled anew, so a new build of ljail never loads an old filter. */

/* 3: a binary tree, x32 only where the kernel has it, no_inet in the identity */
#define SC_MAGIC "ljail-seccomp 3\n"

static struct {
	bool ok;
	struct lj_iso_policy p;
	struct sock_filter *insns;
	unsigned short len;
} sc_memo;

static bool same_policy(const struct lj_iso_policy *a, const struct lj_iso_policy *b)
{
	return a->allow == b->allow && a->vnet == b->vnet && a->sysvshm == b->sysvshm &&
	       a->sysvmsg == b->sysvmsg && a->sysvsem == b->sysvsem &&
	       a->children_max == b->children_max && a->no_inet == b->no_inet;
}

/* The file's first line: the policy and what compiled the program. */
static char *sc_identity(const struct lj_iso_policy *p, struct stat *exe)
{
	struct utsname u;
	if (uname(&u) < 0)
		return NULL;
	const struct scmp_version *v = seccomp_version();
	return xasprintf(SC_MAGIC "%x %d %d %d %d %d %d exe %llx %llx %lld %lld.%09ld libseccomp "
	                          "%u.%u.%u kernel %s x32 %d\n",
	                 p->allow, p->vnet, (int)p->sysvshm, (int)p->sysvmsg, (int)p->sysvsem,
	                 p->children_max, (int)p->no_inet, (unsigned long long)exe->st_dev,
	                 (unsigned long long)exe->st_ino, (long long)exe->st_size,
	                 (long long)exe->st_mtim.tv_sec, exe->st_mtim.tv_nsec, v ? v->major : 0,
	                 v ? v->minor : 0, v ? v->micro : 0, u.release, (int)sc_x32_abi());
}

static void sc_remember(const struct lj_iso_policy *p, const void *insns, size_t bytes)
{
	free(sc_memo.insns);
	sc_memo.insns = xmalloc(bytes);
	memcpy(sc_memo.insns, insns, bytes);
	sc_memo.len = (unsigned short)(bytes / sizeof(struct sock_filter));
	sc_memo.p = *p;
	sc_memo.ok = true;
}

/* libseccomp's program for the policy, as raw BPF. */
static int sc_compile(const struct lj_iso_policy *p, char **out, size_t *len, lj_err *e)
{
	scmp_filter_ctx c = build_filter(p, e);
	if (!c)
		return -1;
	int fd = memfd_create("ljail-seccomp", MFD_CLOEXEC);
	int r = fd < 0 ? -errno : seccomp_export_bpf(c, fd);
	seccomp_release(c);
	if (r == 0) {
		lj_autofree char *path = xasprintf("/proc/self/fd/%d", fd);
		r = lj_read_file(path, out, len, e) < 0 ? -EIO : 0;
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return lj_error(e, -r, "seccomp_export_bpf");
	return 0;
}

/* The cached program, trusted only when it is ours and nobody else could have written it. */
static int sc_read(const char *path, char **out, size_t *len)
{
	lj_autoclose int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || st.st_size <= 0 || st.st_size > 65536)
		return -1;
	*out = xmalloc((size_t)st.st_size);
	ssize_t r = pread(fd, *out, (size_t)st.st_size, 0);
	if (r != st.st_size)
		return -1;
	*len = (size_t)r;
	return 0;
}

int lj_iso_seccomp_prepare(const struct lj_iso_policy *p, lj_err *e)
{
	if (sc_memo.ok && same_policy(&sc_memo.p, p))
		return 0;
	struct stat exe;
	if (stat("/proc/self/exe", &exe) < 0)
		return lj_error(e, errno, "/proc/self/exe");
	lj_autofree char *id = sc_identity(p, &exe);
	if (!id)
		return lj_error(e, errno, "uname");
	const char *rd = getenv("LJAIL_RUNDIR");
	lj_autofree char *path =
	        xasprintf("%s/seccomp-%x-%d%d%d%d%d-%d-%llx.bpf", rd && *rd ? rd : "/run/ljail",
	                  p->allow, p->vnet, (int)p->sysvshm, (int)p->sysvmsg, (int)p->sysvsem,
	                  (int)p->no_inet, p->children_max, (unsigned long long)exe.st_ino);
	size_t idlen = strlen(id), n = 0;
	lj_autofree char *file = NULL;
	if (sc_read(path, &file, &n) == 0 && n > idlen && !memcmp(file, id, idlen) &&
	    (n - idlen) % sizeof(struct sock_filter) == 0 &&
	    (n - idlen) / sizeof(struct sock_filter) <= BPF_MAXINSNS) {
		sc_remember(p, file + idlen, n - idlen);
		return 0;
	}
	lj_autofree char *prog = NULL;
	size_t plen = 0;
	if (sc_compile(p, &prog, &plen, e) < 0)
		return -1;
	if (plen == 0 || plen % sizeof(struct sock_filter) ||
	    plen / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return lj_errorx(e, "seccomp: a program of %zu bytes", plen);
	sc_remember(p, prog, plen);
	/* a run directory we cannot write (a nested jail's) only costs the next one the compile */
	lj_buf b = {0};
	lj_buf_add(&b, id, idlen);
	lj_buf_add(&b, prog, plen);
	lj_write_file_replace(path, b.s, b.len, 0600, NULL);
	lj_buf_free(&b);
	return 0;
}

int lj_iso_seccomp_load(const struct lj_iso_policy *p, lj_err *e)
{
	if (sc_memo.ok && same_policy(&sc_memo.p, p)) {
		/* as libseccomp loads it (no flags; no no_new_privs: CAP_SYS_ADMIN allows it) */
		struct sock_fprog prog = {.len = sc_memo.len, .filter = sc_memo.insns};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
			return lj_error(e, errno, "seccomp_load");
		return 0;
	}
	scmp_filter_ctx c = build_filter(p, e);
	if (!c)
		return -1;
	int r = seccomp_load(c);
	seccomp_release(c);
	if (r < 0)
		return lj_error(e, -r, "seccomp_load");
	return 0;
}

int lj_isolate_seccomp_export(const struct lj_iso_policy *p, int fd, lj_err *e)
{
	scmp_filter_ctx c = build_filter(p, e);
	if (!c)
		return -1;
	int r = seccomp_export_pfc(c, fd);
	seccomp_release(c);
	if (r < 0)
		return lj_error(e, -r, "seccomp_export_pfc");
	return 0;
}
