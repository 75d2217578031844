/* param/param.c: every jail parameter, its type and default, and what it becomes on Linux.
 * The kernel parameters are FreeBSD's kern_jail.c SYSCTL_JAIL_PARAM* list; the pseudo ones are
 * jail(8)'s intparams[]; `rctl` is ljail's own. Messages are libjail's and jail(8)'s. */
#include "param/param.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>

#define B      LJ_PT_BOOL
#define I      LJ_PT_INT
#define U      LJ_PT_UINT
#define S      LJ_PT_STRING
#define L      LJ_PT_LIST
#define J      LJ_PT_JAILSYS
#define RDTUN  LJ_PF_RDTUN
#define RO     LJ_PF_RO
#define PSEUDO LJ_PF_PSEUDO
#define NOOP   LJ_PF_NOOP
#define REV    LJ_PF_REV

#define NOFS "no effect: no such file system on Linux"

static const struct lj_param_def table[] = {
        /* ---- identity ---- */
        {"jid", I, RDTUN, NULL, 0, INT_MAX,
         "registry id under the run directory; next free one (a numeric block name sets it)"},
        {"name", S, 0, NULL, 0, 0,
         "registry name; '.' separates hierarchy levels; defaults to the jid"},
        {"parent", I, RO, "0", 0, 0, "jid of the parent jail; 0 on the host"},
        {"path", S, RDTUN, "/", 0, 0,
         "root of the jail's mount namespace, entered with pivot_root(2)"},
        {"dying", B, RO, "false", 0, 0, "true while the jail's init is exiting"},
        {"persist", B, 0, "false", 0, 0,
         "the jail's init keeps the namespaces alive with no process left"},
        {"securelevel", I, 0, "-1", -1, 3,
         ">= 1 drops CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME and CAP_LINUX_IMMUTABLE and "
         "mounts "
         "/proc/sys and /sys read-only"},
        {"enforce_statfs", I, 0, "2", 0, 2,
         "2 and 1: /proc/self/mounts in the jail shows only the jail's own mounts (mount "
         "namespace); 0 is the same on Linux"},
        {"devfs_ruleset", I, 0, "0", 0, 65535,
         "which device nodes the jail's tmpfs /dev holds (4 = devfsrules_jail, the default of "
         "mount.devfs)"},
        {"children.max", I, 0, "0", 0, INT_MAX,
         "how many child jails may be made inside (0 = none)"},
        {"children.cur", I, RO, "0", 0, 0, "number of child jails"},
        {"cpuset.id", I, RO, NULL, 0, 0, "the jail's cpuset cgroup (cpuset -j)"},
        {"osrelease", S, RDTUN | NOOP, NULL, 0, 0,
         "no effect: uname(2) release cannot be changed per namespace on Linux"},
        {"osreldate", I, RDTUN | NOOP, NULL, 1, INT_MAX,
         "no effect: there is no kern.osreldate on Linux"},
        /* ---- host ---- */
        {"host", J, 0, "new", 0, 0,
         "new: a UTS namespace of its own; inherit: the host's hostname"},
        {"host.hostname", S, 0, NULL, 0, 0, "hostname in the jail's UTS namespace"},
        {"host.domainname", S, 0, NULL, 0, 0, "NIS domainname in the jail's UTS namespace"},
        {"host.hostuuid", S, 0, "00000000-0000-0000-0000-000000000000", 0, 0,
         "shown by jls; no kernel counterpart on Linux"},
        {"host.hostid", U, 0, "0", 0, 0, "shown by jls; no per-namespace hostid on Linux"},
        /* ---- network ---- */
        {"vnet", J, RDTUN, "inherit", 0, 0,
         "new: a network namespace of its own; inherit: the host's"},
        {"ip4", J, RDTUN, "disable", 0, 0,
         "new with ip4.addr; inherit shares the host's addresses; disable: no IPv4 (seccomp "
         "denies AF_INET sockets)"},
        {"ip4.addr", LJ_PT_IP4, RDTUN | REV, NULL, 0, 0,
         "addresses added as aliases to `interface` (rtnetlink) in the host's namespace; the "
         "jail may only bind them"},
        {"ip4.saddrsel", B, NOOP, "true", 0, 0,
         "no effect: Linux picks source addresses by its routing table"},
        {"ip6", J, RDTUN, "disable", 0, 0, "as ip4, for IPv6 (AF_INET6)"},
        {"ip6.addr", LJ_PT_IP6, RDTUN | REV, NULL, 0, 0, "as ip4.addr, for IPv6"},
        {"ip6.saddrsel", B, NOOP, "true", 0, 0,
         "no effect: Linux picks source addresses by its routing table"},
        /* ---- SysV IPC ---- */
        {"sysvmsg", J, 0, "disable", 0, 0,
         "new: an IPC namespace of its own; inherit: the host's; disable: msgget(2) and "
         "friends fail (seccomp)"},
        {"sysvsem", J, 0, "disable", 0, 0, "as sysvmsg, for semget(2) and friends"},
        {"sysvshm", J, 0, "disable", 0, 0, "as sysvmsg, for shmget(2) and friends"},
        /* ---- allow.* ---- */
        {"allow.set_hostname", B, 0, "true", 0, 0,
         "sethostname(2) in the jail (CAP_SYS_ADMIN in its UTS namespace)"},
        {"allow.sysvipc", B, 0, "false", 0, 0, "old switch: sysv* default to inherit when true"},
        {"allow.raw_sockets", B, 0, "false", 0, 0, "keeps CAP_NET_RAW (ping, traceroute)"},
        {"allow.chflags", B, 0, "false", 0, 0, "keeps CAP_LINUX_IMMUTABLE (chattr +i/+a)"},
        {"allow.mount", B, 0, "false", 0, 0,
         "keeps CAP_SYS_ADMIN for mount(2) of the allow.mount.* file systems"},
        {"allow.mount.devfs", B, 0, "false", 0, 0, "mount devtmpfs-like tmpfs /dev in the jail"},
        {"allow.mount.fdescfs", B, NOOP, "false", 0, 0, NOFS},
        {"allow.mount.fusefs", B, 0, "false", 0, 0, "mount fuse file systems (/dev/fuse)"},
        {"allow.mount.nullfs", B, 0, "false", 0, 0, "bind mounts"},
        {"allow.mount.procfs", B, 0, "false", 0, 0, "mount proc"},
        {"allow.mount.linprocfs", B, 0, "false", 0, 0, "mount proc"},
        {"allow.mount.linsysfs", B, 0, "false", 0, 0, "mount sysfs"},
        {"allow.mount.tmpfs", B, 0, "false", 0, 0, "mount tmpfs"},
        {"allow.mount.zfs", B, NOOP, "false", 0, 0, NOFS},
        {"allow.quotas", B, 0, "false", 0, 0, "quotactl(2) (CAP_SYS_ADMIN is filtered otherwise)"},
        {"allow.socket_af", B, 0, "false", 0, 0,
         "when false, seccomp allows only AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (route) sockets"},
        {"allow.mlock", B, 0, "false", 0, 0, "keeps CAP_IPC_LOCK (mlock(2) beyond RLIMIT_MEMLOCK)"},
        {"allow.read_msgbuf", B, 0, "false", 0, 0, "keeps CAP_SYSLOG (dmesg)"},
        {"allow.reserved_ports", B, 0, "true", 0, 0,
         "keeps CAP_NET_BIND_SERVICE (ports below 1024)"},
        {"allow.unprivileged_proc_debug", B, 0, "true", 0, 0,
         "when false, ptrace(2) and process_vm_* are denied by seccomp"},
        {"allow.unprivileged_parent_tampering", B, NOOP, "false", 0, 0,
         "no effect: Linux namespaces already stop a jail from signalling its parent's processes"},
        {"allow.suser", B, 0, "true", 0, 0,
         "when false, root in the jail keeps no capabilities (empty bounding set)"},
        {"allow.nfsd", B, 0, "false", 0, 0,
         "nfsd in the jail (needs vnet; CAP_SYS_ADMIN for nfsd fs)"},
        {"allow.extattr", B, 0, "false", 0, 0, "trusted.* and security.* xattrs (CAP_SYS_ADMIN)"},
        {"allow.adjtime", B, 0, "false", 0, 0, "adjtimex(2) (CAP_SYS_TIME)"},
        {"allow.settime", B, 0, "false", 0, 0, "clock_settime(2) (CAP_SYS_TIME)"},
        {"allow.routing", B, 0, "false", 0, 0,
         "routing-table changes without vnet (CAP_NET_ADMIN on the host's stack)"},
        {"allow.setaudit", B, 0, "false", 0, 0, "keeps CAP_AUDIT_CONTROL and CAP_AUDIT_WRITE"},
        {"allow.vmm", B, 0, "false", 0, 0, "/dev/kvm in the jail's /dev"},
        {"allow.vmm_ppt", B, NOOP, "false", 0, 0, "no effect: no bhyve PCI passthrough on Linux"},
        {"allow.dying", B, PSEUDO | NOOP, NULL, 0, 0,
         "deprecated in FreeBSD; no effect (jail warns once)"},
        /* ---- Linux ABI, ZFS, MAC, metadata ---- */
        {"linux", J, NOOP, "new", 0, 0, "no effect: the jail runs Linux binaries natively"},
        {"linux.osname", S, NOOP, NULL, 0, 0, "no effect: the jail runs Linux natively"},
        {"linux.osrelease", S, NOOP, NULL, 0, 0, "no effect: the jail runs Linux natively"},
        {"linux.oss_version", I, NOOP, NULL, 0, 0, "no effect: the jail runs Linux natively"},
        {"zfs.mount_snapshot", I, NOOP, "0", 0, 0, "no effect: datasets are btrfs or overlayfs"},
        {"mac.label", S, NOOP, NULL, 0, 0, "no effect: no MAC framework labels on Linux"},
        {"mac.do", J, NOOP, NULL, 0, 0, "no effect: no mac_do(4) on Linux"},
        {"mac.do.rules", S, NOOP, NULL, 0, 0, "no effect: no mac_do(4) on Linux"},
        {"meta", S, 0, NULL, 0, 0, "free text kept in the registry record; jls shows it"},
        {"meta.", S, LJ_PF_FAMILY, NULL, 0, 0, "one key of meta, kept in the registry record"},
        {"env", S, 0, NULL, 0, 0,
         "free text kept in the registry record, readable inside as /run/ljail-env (FreeBSD: "
         "sysctl security.jail.env)"},
        {"env.", S, LJ_PF_FAMILY, NULL, 0, 0, "one key of env, kept in the registry record"},
        /* only in jail_get/jail_set calls */
        {"lastjid", I, RO, NULL, 0, 0, "jail_get iteration only"},
        {"errmsg", S, RO, NULL, 0, 0, "jail_set's error buffer only"},
        {"desc", I, RO, NULL, 0, 0, "jail descriptors: ljail uses pidfds internally"},
        /* ---- jail(8)'s own parameters ---- */
        {"exec.prepare", L, PSEUDO, NULL, 0, 0, "commands run on the host before anything is made"},
        {"exec.prestart", L, PSEUDO, NULL, 0, 0,
         "commands run on the host before the jail is made"},
        {"exec.created", L, PSEUDO, NULL, 0, 0, "commands run on the host once the jail exists"},
        {"exec.start", L, PSEUDO, NULL, 0, 0,
         "commands run in the jail (setns into its namespaces)"},
        {"command", L, PSEUDO, NULL, 0, 0, "a command run in the jail after exec.start"},
        {"exec.poststart", L, PSEUDO, NULL, 0, 0, "commands run on the host after the start"},
        {"exec.prestop", L, PSEUDO, NULL, 0, 0, "commands run on the host before removal"},
        {"exec.stop", L, PSEUDO, NULL, 0, 0,
         "commands run in the jail before its processes are killed"},
        {"exec.poststop", L, PSEUDO, NULL, 0, 0, "commands run on the host after removal"},
        {"exec.release", L, PSEUDO, NULL, 0, 0, "commands run on the host at the very end"},
        {"exec.clean", B, PSEUDO, "false", 0, 0,
         "in-jail commands get a clean environment (TERM, PATH=/bin:/usr/bin, HOME, SHELL, USER)"},
        {"exec.jail_user", S, PSEUDO, NULL, 0, 0,
         "user in-jail commands run as (the jail's passwd)"},
        {"exec.system_jail_user", B, PSEUDO, "false", 0, 0,
         "look exec.jail_user up in the host's passwd"},
        {"exec.system_user", S, PSEUDO, NULL, 0, 0, "user host commands run as"},
        {"exec.timeout", I, PSEUDO, NULL, 0, INT_MAX,
         "seconds a command may run (unset: no limit)"},
        {"exec.consolelog", S, PSEUDO, NULL, 0, 0,
         "file that gets stdout and stderr of in-jail commands (O_APPEND|O_CREAT)"},
        {"exec.fib", I, PSEUDO, NULL, 0, INT_MAX,
         "routing table for commands: an ip rule (fwmark) selects Linux table N"},
        {"stop.timeout", I, PSEUDO, "10", 0, INT_MAX,
         "seconds between SIGTERM and the kill of the jail's PID namespace (0 = no SIGTERM)"},
        {"interface", S, PSEUDO, NULL, 0, 0, "interface ip4.addr and ip6.addr aliases go on"},
        {"ip_hostname", B, PSEUDO, "false", 0, 0,
         "add the addresses host.hostname resolves to (getent ahosts)"},
        {"mount", L, PSEUDO | REV, NULL, 0, 0, "fstab(5) lines mounted relative to path"},
        {"mount.fstab", S, PSEUDO | REV, NULL, 0, 0, "an fstab(5) file mounted relative to path"},
        {"mount.devfs", B, PSEUDO, "false", 0, 0,
         "a tmpfs /dev with the nodes devfs_ruleset allows, plus devpts newinstance"},
        {"mount.fdescfs", B, PSEUDO, "false", 0, 0, "/dev/fd as a symlink to /proc/self/fd"},
        {"mount.procfs", B, PSEUDO, "false", 0, 0, "proc mounted on /proc for the PID namespace"},
        {"vnet.interface", L, PSEUDO, NULL, 0, 0,
         "interfaces moved into the jail's network namespace, and back at removal"},
        {"zfs.dataset", L, PSEUDO | NOOP, NULL, 0, 0,
         "no effect: no ZFS datasets on Linux (use the store: btrfs or overlayfs)"},
        {"depend", L, PSEUDO, NULL, 0, 0, "jails created before this one and removed after it"},
        /* ---- ljail's own ---- */
        {"rctl", L, PSEUDO | LJ_PF_LJAIL, NULL, 0, 0,
         "rctl(8) rules without the subject (memoryuse:deny=64M), applied as cgroup limits"},
};

const struct lj_param_def *lj_param_table(size_t *n)
{
	*n = LJ_ARRAY_LEN(table);
	return table;
}

static const struct lj_param_def *find_exact(const char *name)
{
	for (size_t i = 0; i < LJ_ARRAY_LEN(table); i++) {
		const struct lj_param_def *d = &table[i];
		if (d->flags & LJ_PF_FAMILY) {
			size_t n = strlen(d->name);
			if (strncmp(name, d->name, n) == 0 && name[n])
				return d;
		} else if (strcmp(name, d->name) == 0) {
			return d;
		}
	}
	return NULL;
}

const struct lj_param_def *lj_param_lookup(const char *name, bool *negated)
{
	if (negated)
		*negated = false;
	const struct lj_param_def *d = find_exact(name);
	if (d)
		return d;
	/* "noX" in the last component negates a boolean (or a jailsys, as "novnet") */
	const char *dot = strrchr(name, '.');
	const char *last = dot ? dot + 1 : name;
	if (strncmp(last, "no", 2) != 0)
		return NULL;
	lj_autofree char *plain = xasprintf("%.*s%s", (int)(last - name), name, last + 2);
	d = find_exact(plain);
	if (!d || (d->type != LJ_PT_BOOL && d->type != LJ_PT_JAILSYS) || (d->flags & LJ_PF_FAMILY))
		return NULL;
	if (negated)
		*negated = true;
	return d;
}

const char *lj_param_linux(const char *name)
{
	const struct lj_param_def *d = lj_param_lookup(name, NULL);
	return d ? d->linux : NULL;
}

/* ---- value parsers --------------------------------------------------------------------- */

int lj_param_parse_bool(const char *name, const char *s, bool *out, lj_err *e)
{
	char *ep;
	if (strcasecmp(s, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(s, "false") == 0) {
		*out = false;
		return 0;
	}
	long v = strtol(s, &ep, 10);
	if (*ep)
		return lj_errorx(e, "%s: unknown boolean value \"%s\"", name, s);
	*out = v != 0;
	return 0;
}

int lj_param_parse_int(const char *name, const char *s, long long *out, lj_err *e)
{
	char *ep;
	errno = 0;
	long long v = strtoll(s, &ep, 10);
	if (ep == s || *ep || errno == ERANGE)
		return lj_errorx(e, "%s: non-integer value \"%s\"", name, s);
	*out = v;
	return 0;
}

int lj_param_parse_jailsys(const char *name, const char *s, enum lj_jailsys *out, lj_err *e)
{
	static const char *const names[] = {"disable", "new", "inherit"};
	if (!*s) {
		*out = LJ_JAILSYS_NEW;
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum lj_jailsys)i;
			return 0;
		}
	char *ep;
	long v = strtol(s, &ep, 10);
	if (!*ep && v >= 0 && v <= 2) {
		*out = (enum lj_jailsys)v;
		return 0;
	}
	return lj_errorx(e, "%s: unknown jailsys value \"%s\"", name, s);
}

/* ip4.addr / ip6.addr: [iface|]addr[/mask|/prefix][ ifconfig-args]; the address must parse. */
static int check_ip(const char *name, const char *v, int af, lj_err *e)
{
	if (!*v) /* libjail: an empty value is an empty list */
		return 0;
	const char *a = strchr(v, '|');
	a = a ? a + 1 : v;
	size_t n = strcspn(a, "/ \t");
	lj_autofree char *addr = xstrndup(a, n);
	unsigned char buf[16];
	if (inet_pton(af, addr, buf) != 1)
		return lj_errorx(e, "%s: not an %s address: %s", name,
		                 af == AF_INET ? "IPv4" : "IPv6", addr);
	if (a[n] == '/') {
		const char *m = a + n + 1;
		size_t ml = strcspn(m, " \t");
		lj_autofree char *mask = xstrndup(m, ml);
		int bits;
		bool ok = lj_parse_int(mask, &bits) && bits >= 0 &&
		          bits <= (af == AF_INET ? 32 : 128);
		if (!ok && af == AF_INET)
			ok = inet_pton(AF_INET, mask, buf) == 1;
		if (!ok)
			return lj_errorx(e, "%s: bad netmask \"%s\"", name, mask);
	}
	return 0;
}

static int check_param(const struct jc_param *p, lj_err *e)
{
	bool neg;
	const struct lj_param_def *d = lj_param_lookup(p->name, &neg);
	if (!d)
		return lj_errorx(e, "unknown parameter: %s", p->name);
	if (d->flags & LJ_PF_RO)
		return lj_errorx(e, "%s: read-only parameter", p->name);
	if (!p->values.n)
		return 0;
	const char *last = p->values.v[p->values.n - 1];
	switch (d->type) {
	case LJ_PT_BOOL: {
		bool b;
		return lj_param_parse_bool(p->name, last, &b, e);
	}
	case LJ_PT_INT:
	case LJ_PT_UINT: {
		long long v;
		if (lj_param_parse_int(p->name, last, &v, e) < 0)
			return -1;
		if (d->type == LJ_PT_UINT && v < 0)
			return lj_errorx(e, "%s: non-integer value \"%s\"", p->name, last);
		if (d->min < d->max && (v < d->min || v > d->max))
			return lj_errorx(e, "%s: value %s out of range (%d to %d)", p->name, last,
			                 d->min, d->max);
		return 0;
	}
	case LJ_PT_JAILSYS: {
		enum lj_jailsys js;
		if (neg)
			return lj_errorx(e, "%s: unknown jailsys value \"%s\"", p->name, last);
		if (lj_param_parse_jailsys(p->name, last, &js, e) < 0)
			return -1;
		if (strcmp(d->name, "vnet") == 0 && js == LJ_JAILSYS_DISABLE)
			return lj_errorx(e, "%s: unknown jailsys value \"%s\"", p->name, last);
		return 0;
	}
	case LJ_PT_IP4:
	case LJ_PT_IP6:
		if (p->values.n > 255)
			return lj_errorx(e, "%s: too many addresses (at most 255)", p->name);
		for (size_t i = 0; i < p->values.n; i++)
			if (check_ip(p->name, p->values.v[i],
			             d->type == LJ_PT_IP4 ? AF_INET : AF_INET6, e) < 0)
				return -1;
		return 0;
	case LJ_PT_STRING:
	case LJ_PT_LIST:
		return 0;
	}
	return 0;
}

int lj_param_check_jail(const struct jc_jail *j, lj_err *e)
{
	if (j->error)
		return lj_errorx(e, "%s", j->error);
	for (size_t i = 0; i < j->nparams; i++)
		if (check_param(&j->params[i], e) < 0)
			return -1;
	return 0;
}

int lj_param_check_pseudo(const struct jc_jail *j, lj_err *e)
{
	if (j->error)
		return lj_errorx(e, "%s", j->error);
	for (size_t i = 0; i < j->nparams; i++) {
		const struct lj_param_def *d = lj_param_lookup(j->params[i].name, NULL);
		if (d && (d->flags & LJ_PF_PSEUDO) && check_param(&j->params[i], e) < 0)
			return -1;
	}
	return 0;
}

/* ---- typed reads with the table's defaults -------------------------------------------- */

bool lj_param_bool(const struct jc_jail *j, const char *name)
{
	const struct lj_param_def *d = lj_param_lookup(name, NULL);
	bool dflt = d && d->dflt && strcmp(d->dflt, "true") == 0;
	return jc_bool(j, name, dflt);
}

long long lj_param_int(const struct jc_jail *j, const char *name)
{
	const char *v = jc_str(j, name);
	if (!v) {
		const struct lj_param_def *d = lj_param_lookup(name, NULL);
		v = d ? d->dflt : NULL;
	}
	return v ? strtoll(v, NULL, 10) : 0;
}

enum lj_jailsys lj_param_jailsys(const struct jc_jail *j, const char *name)
{
	enum lj_jailsys js = LJ_JAILSYS_DISABLE;
	const struct jc_param *p = jc_find(j, name);
	if (p) {
		bool neg = false;
		lj_param_lookup(p->name, &neg);
		if (neg)
			return LJ_JAILSYS_DISABLE;
		if (!p->values.n)
			return LJ_JAILSYS_NEW;
		if (lj_param_parse_jailsys(name, p->values.v[p->values.n - 1], &js, NULL) == 0)
			return js;
	}
	/* implied values: an address list makes ip4/ip6 new, a vnet jail has its own stack;
	 * allow.sysvipc makes the sysv* parameters inherit */
	if (strcmp(name, "ip4") == 0 || strcmp(name, "ip6") == 0) {
		lj_autofree char *addr = xasprintf("%s.addr", name);
		const struct jc_param *a = jc_find(j, addr);
		if (a && a->values.n)
			return LJ_JAILSYS_NEW;
		if (lj_param_jailsys(j, "vnet") == LJ_JAILSYS_NEW)
			return LJ_JAILSYS_INHERIT;
	}
	if (lj_startswith(name, "sysv") && lj_param_bool(j, "allow.sysvipc"))
		return LJ_JAILSYS_INHERIT;
	const struct lj_param_def *d = lj_param_lookup(name, NULL);
	if (d && d->dflt)
		lj_param_parse_jailsys(name, d->dflt, &js, NULL);
	return js;
}
