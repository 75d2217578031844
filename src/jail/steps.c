/* The create and remove sequences of jail(8), in FreeBSD's order, as tables of steps.
 *
 * A create walks create_steps[] forward. When a step fails, the same table is walked backwards
 * from that step (included: a list step undoes the entries it did make) calling each `undo`, so
 * the cleanup is the mirror of the work: the jail goes, then its mounts, then its aliases.
 * exec.* steps have no undo (FreeBSD runs no command on the way back; exec.release is not run).
 * The remove sequence reuses the same undo functions for the unmounts and the aliases. */
#include "jail/jailp.h"

#include "cgroup/cgroup.h"
#include "isolate/isolate.h"
#include "net/ipjail.h"
#include "net/net.h"
#include "param/param.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct step {
	const char *name;
	int (*run)(struct jx *j, const char *name);
	void (*undo)(struct jx *j);
};

static int pin_netns(struct jx *j, lj_err *e);
static char *netns_pin_path(int jid);
static void unpin_netns(const char *pin);
static void kill_jail(struct jx *j, int timeout_ms);

/* ---- exec.* lists --------------------------------------------------------------------------- */

static int run_list(struct jx *j, const char *param, bool injail)
{
	const lj_strv *l = jx_list(j, param);
	for (size_t i = 0; l && i < l->n; i++)
		if (jx_run_string(j, param, l->v[i], injail) < 0)
			return -1;
	return 0;
}

static int step_host_exec(struct jx *j, const char *name)
{
	return run_list(j, name, false);
}

static int step_jail_exec(struct jx *j, const char *name)
{
	return run_list(j, name, true);
}

/* j->launchfd is the control channel to the jail's init (lj_isolate_launch,
 * lj_isolate_control_persist), kept from the create to the end of this jail(8). */
static void drop_launcher(struct jx *j)
{
	if (j->launchfd >= 0)
		close(j->launchfd); /* the init closes its end and goes on, once committed */
	j->launchfd = -1;
}

/* Nothing after the command step needs the jail of a jail that is not persistent: its last
 * command line turns persist off itself (clear_forced_persist has nothing left to ask). */
static bool command_ends_jail(const struct jx *j)
{
	return !jx_bool(j, "persist", false) && !jx_list(j, "exec.poststart");
}

static int step_command(struct jx *j, const char *name)
{
	const lj_strv *l = jx_list(j, "command");
	int rc = 0;
	bool ends = command_ends_jail(j);
	/* a command-line jail's command is argv as given; a config one is a command string */
	if (l && j->req->cmdline) {
		j->last_launch = ends;
		rc = jx_run_argv(j, name, l->v, true);
	} else {
		for (size_t i = 0; l && i < l->n && rc == 0; i++) {
			j->last_launch = ends && i + 1 == l->n;
			rc = jx_run_string(j, name, l->v[i], true);
		}
	}
	j->last_launch = false;
	return rc;
}

/* ---- ip4.addr / ip6.addr aliases (non-vnet jails) ------------------------------------------- */

struct alias {
	char ifname[LJ_IFNAMSIZ];
	struct lj_ipaddr addr;
	char text[INET6_ADDRSTRLEN + 8];
};

/* "[iface|]addr[/mask|/prefix][ args]". false (no error) when there is no interface: the jail
 * is then only restricted to the address, nothing is configured, as in FreeBSD. */
static int parse_alias(const struct jx *j, const char *v, int family, struct alias *a, lj_err *e)
{
	memset(a, 0, sizeof *a);
	lj_autofree char *s = xstrdup(v);
	char *sp = strpbrk(s, " \t");
	if (sp)
		*sp = '\0';
	char *addr = s;
	const char *ifname = jx_str(j, "interface");
	char *bar = strchr(s, '|');
	if (bar) {
		*bar = '\0';
		ifname = s;
		addr = bar + 1;
	}
	if (!ifname || !*ifname)
		return 0;
	if (strlen(ifname) >= LJ_IFNAMSIZ)
		return lj_errorx(e, "%s: interface name too long", ifname);
	snprintf(a->ifname, sizeof a->ifname, "%s", ifname);
	char *slash = strchr(addr, '/');
	int plen = family == AF_INET ? 32 : 128;
	if (slash) {
		*slash = '\0';
		const char *m = slash + 1;
		if (family == AF_INET && strchr(m, '.')) {
			struct in_addr mask;
			if (inet_pton(AF_INET, m, &mask) != 1 ||
			    (plen = lj_net_v4_prefixlen(ntohl(mask.s_addr))) < 0)
				return lj_errorx(e, "%s: bad netmask %s", v, m);
		} else if (!lj_parse_int(m, &plen) || plen < 0 ||
		           plen > (family == AF_INET ? 32 : 128)) {
			return lj_errorx(e, "%s: bad prefix length %s", v, m);
		}
	}
	if (lj_net_ipaddr_parse(addr, family, &a->addr, e) < 0)
		return -1;
	a->addr.prefixlen = plen;
	snprintf(a->text, sizeof a->text, "%s", addr);
	return 1;
}

/* Another running jail still uses this address: its alias must stay. */
static bool alias_shared(const struct jx *j, const char *param, const char *addr)
{
	struct lj_registry r;
	if (lj_reg_open(&r, NULL) < 0)
		return false;
	struct lj_record *recs;
	size_t n;
	bool shared = false;
	if (lj_reg_list(&r, &recs, &n, NULL) == 0) {
		for (size_t i = 0; i < n && !shared; i++) {
			if (recs[i].jid == j->jid)
				continue;
			const char *v = lj_record_get(&recs[i], param);
			if (!v)
				continue;
			lj_autofree char *copy = xstrdup(v);
			char *save = NULL;
			for (char *t = strtok_r(copy, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (strcmp(t, addr) == 0)
					shared = true;
		}
		lj_records_free(recs, n);
	}
	lj_reg_close(&r);
	return shared;
}

static int ip_up(struct jx *j, const char *param, int family, size_t *done)
{
	const lj_strv *l = jx_list(j, param);
	for (size_t i = 0; l && i < l->n; i++) {
		struct alias a;
		lj_err e;
		int r = parse_alias(j, l->v[i], family, &a, &e);
		if (r < 0) {
			jx_warn(j, "%s: %s", param, e.msg);
			return -1;
		}
		if (r > 0 && lj_net_addr_add(NULL, a.ifname, &a.addr, &e) < 0 &&
		    e.errnum != EEXIST) {
			jx_warn(j, "%s: %s", param, e.msg);
			return -1;
		}
		*done = i + 1;
	}
	return 0;
}

static void ip_down(struct jx *j, const char *param, int family, size_t *done)
{
	const lj_strv *l = jx_list(j, param);
	/* PF_REV: the list comes off in reverse */
	for (size_t i = *done; l && i-- > 0;) {
		struct alias a;
		lj_err e;
		if (parse_alias(j, l->v[i], family, &a, &e) <= 0)
			continue;
		if (alias_shared(j, param, a.text))
			continue;
		a.addr.prefixlen = -1;
		if (lj_net_addr_del(NULL, a.ifname, &a.addr, &e) < 0 && e.errnum != EADDRNOTAVAIL &&
		    e.errnum != ENODEV)
			jx_warn(j, "%s: %s", param, e.msg);
	}
	*done = 0;
}

static bool is_vnet(const struct jx *j)
{
	const struct jc_param *p = jc_find(j->cj, "vnet");
	if (!p)
		return false;
	if (lj_startswith(p->name, "no"))
		return false;
	if (p->values.n == 0)
		return true;
	const char *v = p->values.v[p->values.n - 1];
	return strcasecmp(v, "new") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
}

static int step_ip4(struct jx *j, const char *name)
{
	(void)name;
	return ip_up(j, "ip4.addr", AF_INET, &j->ip4_done);
}
static void undo_ip4(struct jx *j)
{
	ip_down(j, "ip4.addr", AF_INET, &j->ip4_done);
}
static int step_ip6(struct jx *j, const char *name)
{
	(void)name;
	return ip_up(j, "ip6.addr", AF_INET6, &j->ip6_done);
}
static void undo_ip6(struct jx *j)
{
	ip_down(j, "ip6.addr", AF_INET6, &j->ip6_done);
}

/* ---- mount / mount.fstab -------------------------------------------------------------------- */

/* strunvis for fstab fields: \040 style octal escapes and \\. */
static void unvis(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7') {
			int v = 0, k = 0;
			while (k < 3 && p[1] >= '0' && p[1] <= '7') {
				v = v * 8 + (p[1] - '0');
				p++;
				k++;
			}
			*o++ = (char)v;
		} else if (p[0] == '\\' && p[1]) {
			*o++ = *++p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

struct fsent {
	char *dev, *dir, *type, *opts;
};

static int parse_fsent(char *line, struct fsent *f)
{
	memset(f, 0, sizeof *f);
	char *fields[4];
	int n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t\f\v\r\n", &save); t && n < 4;
	     t = strtok_r(NULL, " \t\f\v\r\n", &save)) {
		if (n <= 1)
			unvis(t);
		fields[n++] = t;
	}
	if (n == 0)
		return 0;
	if (n < 3)
		return -1;
	f->dev = fields[0];
	f->dir = fields[1];
	f->type = fields[2];
	f->opts = n == 4 ? fields[3] : NULL;
	return 1;
}

/* check_path: absolute, and no symlink anywhere below the jail's path (a jail root could plant
 * one to redirect a host mount). */
static int check_mount_path(struct jx *j, const char *pname, const char *dir)
{
	if (dir[0] != '/') {
		jx_warn(j, "%s: %s: not an absolute pathname", pname, dir);
		return -1;
	}
	const char *path = jx_str(j, "path");
	if (!path || strcmp(path, "/") == 0)
		return 0;
	size_t pl = strlen(path);
	while (pl > 1 && path[pl - 1] == '/')
		pl--;
	if (strncmp(dir, path, pl) != 0 || (dir[pl] != '/' && dir[pl] != '\0'))
		return 0;
	lj_autofree char *p = xstrdup(dir);
	for (char *s = p + pl + 1; s && *s;) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
			jx_warn(j, "%s: %s is a symbolic link", pname, p);
			return -1;
		}
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	return 0;
}

static const struct {
	const char *opt;
	unsigned long set, clear;
} mount_flags[] = {
        {"ro", MS_RDONLY, 0},
        {"rdonly", MS_RDONLY, 0},
        {"rw", 0, MS_RDONLY},
        {"nosuid", MS_NOSUID, 0},
        {"nodev", MS_NODEV, 0},
        {"noexec", MS_NOEXEC, 0},
        {"noatime", MS_NOATIME, 0},
        {"sync", MS_SYNCHRONOUS, 0},
        {"suid", 0, MS_NOSUID},
        {"dev", 0, MS_NODEV},
        {"exec", 0, MS_NOEXEC},
        {"defaults", 0, 0},
        {"late", 0, 0},
        {"noauto", 0, 0},
        {"auto", 0, 0},
};

static int do_mount(struct jx *j, const char *pname, struct fsent *f)
{
	unsigned long flags = 0;
	lj_buf data = {0};
	if (f->opts) {
		lj_autofree char *o = xstrdup(f->opts);
		char *save = NULL;
		for (char *t = strtok_r(o, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			bool known = false;
			for (size_t i = 0; i < LJ_ARRAY_LEN(mount_flags); i++)
				if (strcmp(t, mount_flags[i].opt) == 0) {
					flags = (flags | mount_flags[i].set) &
					        ~mount_flags[i].clear;
					known = true;
				}
			if (!known) {
				if (data.len)
					lj_buf_addc(&data, ',');
				lj_buf_adds(&data, t);
			}
		}
	}
	/* FreeBSD's file system names mapped to Linux's */
	const char *type = f->type;
	bool bind = strcmp(type, "nullfs") == 0 || strcmp(type, "bind") == 0;
	if (strcmp(type, "procfs") == 0 || strcmp(type, "linprocfs") == 0)
		type = "proc";
	else if (strcmp(type, "linsysfs") == 0)
		type = "sysfs";
	else if (strcmp(type, "fdescfs") == 0)
		type = NULL; /* /dev/fd is a symlink to /proc/self/fd in ljail's /dev */
	int rc = 0;
	if (!type) {
		rc = 0;
	} else if (bind) {
		rc = mount(f->dev, f->dir, NULL, MS_BIND, NULL);
		if (rc == 0 && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)))
			rc = mount(NULL, f->dir, NULL, MS_BIND | MS_REMOUNT | flags, NULL);
		if (rc < 0) {
			int saved = errno;
			umount2(f->dir, MNT_DETACH);
			errno = saved;
		}
	} else {
		rc = mount(f->dev, f->dir, type, flags, data.len ? data.s : NULL);
	}
	if (rc < 0)
		jx_warn(j, "%s: mount %s on %s: %s", pname, f->dev, f->dir, strerror(errno));
	lj_buf_free(&data);
	return rc;
}

static void do_umount(struct jx *j, const char *pname, struct fsent *f)
{
	if (strcmp(f->type, "fdescfs") == 0)
		return;
	if (umount2(f->dir, 0) < 0) {
		if (errno == EBUSY && umount2(f->dir, MNT_DETACH) == 0)
			return;
		jx_warn(j, "%s: umount %s: %s", pname, f->dir, strerror(errno));
	}
}

static int mount_list_up(struct jx *j, const char *pname, const lj_strv *l, size_t *done)
{
	for (size_t i = 0; l && i < l->n; i++) {
		lj_autofree char *line = xstrdup(l->v[i]);
		struct fsent f;
		int r = parse_fsent(line, &f);
		if (r < 0) {
			jx_warn(j, "%s: %s: missing information", pname, l->v[i]);
			return -1;
		}
		if (r > 0 && (check_mount_path(j, pname, f.dir) < 0 || do_mount(j, pname, &f) < 0))
			return -1;
		*done = i + 1;
	}
	return 0;
}

static void mount_list_down(struct jx *j, const char *pname, const lj_strv *l, size_t *done)
{
	for (size_t i = *done; l && i-- > 0;) {
		lj_autofree char *line = xstrdup(l->v[i]);
		struct fsent f;
		if (parse_fsent(line, &f) > 0)
			do_umount(j, pname, &f);
	}
	*done = 0;
}

static int step_mount(struct jx *j, const char *name)
{
	return mount_list_up(j, name, jx_list(j, "mount"), &j->mount_done);
}
static void undo_mount(struct jx *j)
{
	mount_list_down(j, "mount", jx_list(j, "mount"), &j->mount_done);
}

/* The mount.fstab file's lines (comments and blank lines dropped). */
static int load_fstab(struct jx *j)
{
	if (j->fstab.n)
		return 0;
	const char *file = jx_str(j, "mount.fstab");
	if (!file)
		return 0;
	char *text;
	lj_err e;
	if (lj_read_file(file, &text, NULL, &e) < 0) {
		jx_warn(j, "mount.fstab: %s", e.msg);
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (strspn(line, " \t\r\f\v") != strlen(line))
			lj_strv_add(&j->fstab, line);
	}
	free(text);
	return 0;
}

static int step_fstab(struct jx *j, const char *name)
{
	if (load_fstab(j) < 0)
		return -1;
	return mount_list_up(j, name, j->fstab.n ? &j->fstab : NULL, &j->fstab_done);
}
static void undo_fstab(struct jx *j)
{
	mount_list_down(j, "mount.fstab", j->fstab.n ? &j->fstab : NULL, &j->fstab_done);
}

/* mount.devfs, mount.fdescfs, mount.procfs are made by the isolate module inside the jail's own
 * mount namespace, so they die with it; the steps stay here to keep FreeBSD's order (a missing
 * <path>/dev is reported at this point, before anything runs) and the fault injection points. */
static int step_mountpoint(struct jx *j, const char *name)
{
	const char *sub = strcmp(name, "mount.devfs") == 0     ? "dev"
	                  : strcmp(name, "mount.fdescfs") == 0 ? "dev"
	                                                       : "proc";
	if (!jx_bool(j, name, false))
		return 0;
	const char *path = jx_str(j, "path");
	if (!path) {
		jx_warn(j, "%s: no jail root path defined", name);
		return -1;
	}
	if (strcmp(path, "/") == 0)
		return 0;
	lj_autofree char *p = xasprintf("%s/%s", path, sub);
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		jx_warn(j, "%s: %s: %s", name, p, strerror(errno ? errno : ENOTDIR));
		return -1;
	}
	return check_mount_path(j, name, p);
}

/* ---- create: registry record, cgroup, isolate ----------------------------------------------- */

/* A group outside cgroup2 exists already (a v1-only host; a lazy create makes none). */
static bool has_v1_groups(const struct lj_cg *cg)
{
	for (size_t i = 0; i < cg->made.n; i++)
		if (!cg->v2dir || strcmp(cg->made.v[i], cg->v2dir) != 0)
			return true;
	return false;
}

static int attach_v1(pid_t pid, void *arg, lj_err *e)
{
	struct lj_cg *cg = arg;
	/* the v2 group holds the init already: clone3 put it there, or isolate moved it */
	return cg ? lj_cg_attach_v1(cg, pid, e) : 0;
}

/* The value the record keeps for one parameter: lists joined by ',', booleans canonical. */
static void record_param(struct lj_record *rec, const struct jc_param *p)
{
	bool neg = false;
	const struct lj_param_def *d = lj_param_lookup(p->name, &neg);
	const char *name = p->name;
	lj_autofree char *canon = NULL;
	if (d && d->type == LJ_PT_BOOL) {
		if (neg) /* "nopersist" -> persist=false */
			name = canon = xstrdup(p->name + (lj_startswith(p->name, "no") ? 2 : 0));
		if (neg && strchr(p->name, '.') && !lj_startswith(p->name, "no")) {
			/* allow.nomount -> allow.mount */
			const char *dot = strrchr(p->name, '.');
			free(canon);
			canon = xasprintf("%.*s%s", (int)(dot - p->name + 1), p->name, dot + 3);
			name = canon;
		}
		bool v = true;
		if (p->values.n)
			lj_param_parse_bool(p->name, p->values.v[p->values.n - 1], &v, NULL);
		lj_record_set(rec, name, (v != neg) ? "true" : "false");
		return;
	}
	if (strcmp(name, "ip4.addr") == 0 || strcmp(name, "ip6.addr") == 0) {
		/* the bare addresses, as the kernel keeps them */
		lj_buf b = {0};
		for (size_t i = 0; i < p->values.n; i++) {
			const char *v = p->values.v[i];
			const char *bar = strchr(v, '|');
			if (bar)
				v = bar + 1;
			size_t len = strcspn(v, "/ \t");
			if (b.len)
				lj_buf_addc(&b, ',');
			lj_buf_add(&b, v, len);
		}
		lj_record_set(rec, name, lj_buf_str(&b));
		lj_buf_free(&b);
		return;
	}
	lj_autofree char *joined = lj_strv_join(&p->values, ",");
	lj_record_set(rec, name, p->has_value || p->values.n ? joined : "true");
}

/* defaults: also the values a new jail gets without asking (path, hostname, vnet); without it
 * only what the jail's parameters say (jail -m changes just those). */
static void fill_record(struct jx *j, struct lj_record *rec, bool defaults)
{
	for (size_t i = 0; i < j->cj->nparams; i++) {
		const struct jc_param *p = &j->cj->params[i];
		if (strcmp(p->name, "name") == 0 || strcmp(p->name, "jid") == 0)
			continue;
		if (p->name[0] == '$')
			continue;
		const struct lj_param_def *d = lj_param_lookup(p->name, NULL);
		/* the kernel's parameters, and the few pseudo ones removal needs without a config
		 */
		if (d && (d->flags & LJ_PF_PSEUDO) && strcmp(p->name, "vnet.interface") != 0 &&
		    strcmp(p->name, "interface") != 0 && strcmp(p->name, "stop.timeout") != 0)
			continue;
		record_param(rec, p);
	}
	/* what removal without a config needs to take back: mounts and aliases as given */
	static const char *const raw[][2] = {
	        {"mount", "ljail.mount"},
	        {"mount.fstab", "ljail.mount.fstab"},
	        {"ip4.addr", "ljail.ip4.addr"},
	        {"ip6.addr", "ljail.ip6.addr"},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(raw); i++) {
		const struct jc_param *p = jc_find(j->cj, raw[i][0]);
		if (p && p->values.n) {
			lj_autofree char *v = lj_strv_join(&p->values, "\n");
			lj_record_set(rec, raw[i][1], v);
		}
	}
	if (!defaults) {
		if (jc_find(j->cj, "vnet"))
			lj_record_set(rec, "vnet", is_vnet(j) ? "new" : "inherit");
		return;
	}
	if (!lj_record_get(rec, "path"))
		lj_record_set(rec, "path", "/");
	/* no hostname of its own (or host=inherit, the host's UTS): jls shows the host's, as
	 * FreeBSD */
	if (!lj_record_get(rec, "host.hostname")) {
		char hn[256] = "";
		gethostname(hn, sizeof hn - 1);
		lj_record_set(rec, "host.hostname", hn);
	}
	lj_record_set(rec, "vnet", is_vnet(j) ? "new" : "inherit");
	/* ip4/ip6 as the kernel would have them: new with addresses, inherit in a vnet jail,
	 * else disable (isolate reads these to refuse the family's sockets) */
	static const char *const fam[][2] = {{"ip4", "ip4.addr"}, {"ip6", "ip6.addr"}};
	for (size_t i = 0; i < LJ_ARRAY_LEN(fam); i++) {
		if (lj_record_get(rec, fam[i][0]))
			continue;
		const char *a = lj_record_get(rec, fam[i][1]);
		lj_record_set(rec, fam[i][0], a && *a ? "new" : is_vnet(j) ? "inherit" : "disable");
	}
}

static int path_check(struct jx *j, const char *path)
{
	if (path[0] != '/') {
		jx_warn(j, "path %s: not an absolute pathname", path);
		return -1;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		jx_warn(j, "path %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		jx_warn(j, "path %s: %s", path, strerror(ENOTDIR));
		return -1;
	}
	return 0;
}

static void write_jid_file(struct jx *j)
{
	if (!j->req->jid_file)
		return;
	FILE *f = fopen(j->req->jid_file, "a");
	if (!f) {
		jx_warn(j, "open %s: %s", j->req->jid_file, strerror(errno));
		return;
	}
	fprintf(f, "jid=%d", j->jid);
	fprintf(f, "\tname=");
	lj_buf q = {0};
	jc_quote(&q, j->name);
	fputs(lj_buf_str(&q), f);
	lj_buf_free(&q);
	for (size_t i = 0; i < j->cj->nparams; i++) {
		const struct jc_param *p = &j->cj->params[i];
		if (!strcmp(p->name, "jid") || !strcmp(p->name, "name") || p->name[0] == '$')
			continue;
		fprintf(f, "\t%s", p->name);
		if (p->has_value || p->values.n) {
			lj_autofree char *v = lj_strv_join(&p->values, ",");
			lj_buf b = {0};
			jc_quote(&b, v);
			fprintf(f, "=%s", lj_buf_str(&b));
			lj_buf_free(&b);
		}
	}
	fputc('\n', f);
	fclose(f);
}

/* -v: what FreeBSD's jail(8) hands the kernel, "NAME: jail_set(JAIL_CREATE) p=v ..." */
static void note_jail_set(struct jx *j)
{
	lj_buf b = {0};
	lj_buf_addf(&b, "jail_set(JAIL_CREATE) jid=%d name=", j->jid);
	jc_quote(&b, j->name);
	for (size_t i = 0; i < j->rec.params.n; i++) {
		const char *kv = j->rec.params.v[i];
		if (lj_startswith(kv, "ljail.") || lj_startswith(kv, "vnet.interface=") ||
		    lj_startswith(kv, "interface=") || lj_startswith(kv, "stop.timeout="))
			continue;
		const char *eq = strchr(kv, '=');
		lj_buf_addc(&b, ' ');
		lj_buf_add(&b, kv, (size_t)(eq - kv + 1));
		jc_quote(&b, eq + 1);
	}
	const char *saved = j->msgname;
	if (!saved)
		j->msgname = j->name;
	jx_note(j, "%s\n", lj_buf_str(&b));
	j->msgname = saved;
	lj_buf_free(&b);
}

/* A jail without vnet shares the host's network stack: BPF programs on its cgroup confine its
 * sockets to ip4.addr/ip6.addr (or refuse a disabled family), as FreeBSD's prison checks do, and
 * go away with the group. The spec (NULL: nothing to confine) is parsed before the jail exists,
 * so bad addresses are refused first; confine_attach attaches it while the init sets itself up. */
static int confine_spec(struct jx *j, const struct lj_record *rec, struct lj_ipjail_spec **out,
                        lj_err *e)
{
	*out = NULL;
	if (is_vnet(j) || !j->cg)
		return 0; /* a nested jail's group is its parent's: the parent's programs apply */
	static const char *const fam[][2] = {{"ip4", "ip4.addr"}, {"ip6", "ip6.addr"}};
	lj_autofree struct lj_ipjail_spec *s = xcalloc(1, sizeof *s);
	for (size_t i = 0; i < LJ_ARRAY_LEN(fam); i++) {
		int family = i == 0 ? AF_INET : AF_INET6;
		const lj_strv *l = jx_list(j, fam[i][1]);
		for (size_t k = 0; l && k < l->n; k++) {
			struct lj_ipjail_addr a;
			if (lj_ipjail_parse_addr(l->v[k], family, &a, e) < 0)
				return -1;
			int r = lj_ipjail_spec_add(s, &a, e);
			lj_ipjail_addr_free(&a);
			if (r < 0)
				return -1;
		}
		enum lj_ipjail_mode *mode = i == 0 ? &s->ip4_mode : &s->ip6_mode;
		if (lj_ipjail_mode_parse(fam[i][0], lj_record_get(rec, fam[i][0]), mode, e) < 0)
			return -1;
	}
	if (s->ip4_mode == LJ_IPJAIL_INHERIT && s->ip6_mode == LJ_IPJAIL_INHERIT)
		return 0;
	*out = s;
	s = NULL;
	return 0;
}

struct confine_job {
	struct jx *j;
	struct lj_ipjail_spec *confine;
};

/* The first command line can go to the init while it sets itself up, ahead of the record, when
 * nothing is to happen between the create and it: no exec.created, vnet.interface or exec.start,
 * no rctl rule to put on first, and no "created" line, JID, -v note or -J file to write before
 * its output. It then starts as soon as the init is ready, while jail(8) writes the record. */
static bool command_can_go_early(struct jx *j)
{
	const struct lj_jail_request *q = j->req;
	if (!jx_list(j, "command") || jx_list(j, "exec.created") || jx_list(j, "vnet.interface") ||
	    jx_list(j, "exec.start"))
		return false;
	if (q->print_jid || q->verbose || (j->msgname && !q->quiet) || q->jid_file)
		return false;
	return !jx_list(j, "rctl") && !lj_rctl_jail_has_rules(j->name);
}

static void launch_first_command(struct jx *j, int ctlfd)
{
	const lj_strv *l = jx_list(j, "command");
	/* as step_command runs it */
	bool last = command_ends_jail(j) && (j->req->cmdline || l->n == 1);
	if (j->req->cmdline) {
		jx_launch_early(j, ctlfd, l->v, last);
		return;
	}
	lj_strv argv = {0};
	bool bg = false;
	jx_split_command(l->v[0], &argv, &bg);
	if (argv.n && !bg)
		jx_launch_early(j, ctlfd, argv.v, last);
	lj_strv_free(&argv);
}

/* In the parent while the init mounts and pivots (lj_iso_spec.after_go): the init opens no
 * socket, and the jail's own processes start only after the create, so the programs are in
 * place before anything they confine can exist; then the first command, if it can go early. */
static int while_init_sets_up(pid_t init_pid, int ctlfd, void *arg, lj_err *e)
{
	(void)init_pid;
	struct confine_job *g = arg;
	if (g->j->cg && lj_cg_sweep_v1(g->j->cg, e) < 0)
		return -1;
	if (g->confine) {
		struct lj_ipjail ij;
		if (lj_ipjail_attach(lj_cg_v2_fd(g->j->cg), g->confine, &ij, e) < 0)
			return -1;
		lj_ipjail_release(&ij);
	}
	if (ctlfd >= 0 && command_can_go_early(g->j))
		launch_first_command(g->j, ctlfd);
	return 0;
}

static int step_create(struct jx *j, const char *name)
{
	(void)name;
	const char *path = jx_str(j, "path");
	if (!path)
		path = "/";
	if (path_check(j, path) < 0)
		return -1;
	if (is_vnet(j) && (jx_list(j, "ip4.addr") || jx_list(j, "ip6.addr"))) {
		jx_warn(j, "vnet jails cannot have IP address restrictions");
		return -1;
	}
	lj_err e;
	/* children.max of the jail we are in (nested jails) */
	int cmax = 0;
	int inside = lj_isolate_parent_limit(&cmax, &e);
	/* In a jail that may make none, before the registry: its run directory is read-only
	 * (lj_iso_spec.rundir). FreeBSD's jail_set answers EPERM. */
	if (inside == 1 && cmax == 0) {
		jx_warn(j, "jail_set: %s", strerror(EPERM));
		return -1;
	}

	struct lj_registry r = {0};
	if (lj_reg_open(&r, &e) < 0 || lj_reg_lock(&r, &e) < 0) {
		jx_warn(j, "%s", e.msg);
		lj_reg_close(&r);
		return -1;
	}
	int rc = -1, held = -1; /* held: the JID of our provisional record */
	const char *want_name = jx_str(j, "name");
	struct lj_record other;
	if (want_name && lj_reg_find(&r, want_name, &other, NULL) == 0) {
		lj_record_free(&other);
		jx_warn(j, "\"%s\" already exists", want_name);
		goto out;
	}
	if (inside == 1 && cmax > 0) {
		struct lj_record *recs;
		size_t n;
		/* jails still being made count too (a listing leaves them out) */
		if (lj_reg_list_all(&r, true, &recs, &n, &e) == 0) {
			int live = 0;
			for (size_t i = 0; i < n; i++)
				live += lj_record_alive(&recs[i]);
			lj_records_free(recs, n);
			if (live >= cmax) {
				jx_warn(j, "prison limit exceeded");
				goto out;
			}
		}
	}
	int want = 0;
	const char *jidp = jx_str(j, "jid");
	if (jidp && (!lj_parse_int(jidp, &want) || want < 0)) {
		jx_warn(j, "jid: non-integer value \"%s\"", jidp);
		goto out;
	}
	if (!want && want_name) {
		int numeric;
		if (lj_parse_int(want_name, &numeric) && numeric > 0)
			want = numeric;
	}
	if (lj_reg_alloc_jid(&r, want, &j->jid, &e) < 0) {
		j->jid = -1;
		jx_warn(j, "%s", e.msg);
		goto out;
	}
	int numeric;
	if (want_name && lj_parse_int(want_name, &numeric) && numeric != j->jid) {
		jx_warn(j, "jail %d: a numeric name must equal the jid", j->jid);
		j->jid = -1;
		goto out;
	}
	free(j->name);
	j->name = want_name ? xstrdup(want_name) : xasprintf("%d", j->jid);

	if (jx_fault(j, "create")) {
		j->jid = -1;
		goto out;
	}

	/* the record describes the jail for jls/jexec; the policy below is read back from it */
	struct lj_record *rec = &j->rec;
	memset(rec, 0, sizeof *rec);
	rec->jid = j->jid;
	rec->name = xstrdup(j->name);
	fill_record(j, rec, true);

	struct lj_iso_spec spec = {0};
	if (lj_isolate_policy_from_params(&rec->params, &spec.policy, &e) < 0) {
		jx_warn(j, "%s", e.msg);
		goto fail_rec;
	}
	/* The host's network belongs to the host's user namespace: a FreeBSD admin would not
	 * expect port 80 to be refused, so say it once (jail(8) describes it). */
	if (lj_isolate_wants_userns(&spec.policy) && !spec.policy.vnet &&
	    (spec.policy.allow &
	     (LJ_ALLOW_RESERVED_PORTS | LJ_ALLOW_RAW_SOCKETS | LJ_ALLOW_ROUTING)))
		jx_warn(j, "allow.mount without vnet: reserved ports, raw sockets and routing are "
		           "not available on Linux (see jail(8))");
	/* In a parallel run the JID and the name are held by a provisional record whose "init" is
	 * this process (jexec refuses it; a crash frees it like any dead jail's) and the lock goes:
	 * what follows (cgroups, namespaces, the init) mostly waits for the kernel, and the other
	 * workers' creates overlap with it instead of queueing behind the lock. A jail(8) making
	 * one jail at a time keeps the lock until the record is final instead, as FreeBSD's
	 * jail_set keeps allprison_lock (a write less; others wait the create's ~1 ms) - but for a
	 * vnet jail, whose namespace pin needs a record to be reaped with. */
	if (!j->hold_lock || is_vnet(j)) {
		struct lj_record hold = {.jid = j->jid, .name = j->name, .init_pid = getpid()};
		for (size_t i = 0; i < rec->params.n; i++)
			lj_strv_add(&hold.params, rec->params.v[i]);
		lj_record_set(&hold, "ljail.creating", "1");
		/* a vnet jail's namespace is pinned before the final record is written: if this
		 * jail(8) dies in between, whoever reaps the provisional record unpins it */
		if (is_vnet(j)) {
			lj_autofree char *pin = netns_pin_path(j->jid);
			lj_record_set(&hold, "ljail.netns", pin);
		}
		if (lj_proc_start_time(hold.init_pid, &hold.init_start, NULL) == 0 &&
		    lj_reg_write(&r, &hold, NULL) == 0) {
			held = j->jid;
			lj_reg_unlock(&r);
		}
		lj_strv_free(&hold.params);
	} else {
		/* no record until the end: the lock file names the jail for whoever cleans up after
		 * a jail(8) killed before it (lj_jail_reap_orphan) */
		lj_reg_intent(&r, j->name);
	}
	/* A group of this name with processes but no registry record (the name was free and is
	 * ours now) is what a jail(8) killed during a create left: its init. Kill it. */
	struct lj_cg *orphan;
	bool pop = false;
	if (lj_cg_open(j->name, &orphan, NULL) == 0) {
		if (lj_cg_populated(orphan, &pop, NULL) == 0 && pop)
			lj_cg_kill(orphan, SIGKILL, NULL);
		lj_cg_free(orphan);
	}
	/* v1 groups only when a limit or cpuset needs them: every create would pay their
	 * mkdir/rmdir and a migration that waits for an RCU grace period */
	if (lj_cg_create_lazy(j->name, &j->cg, &e) < 0) {
		j->cg = NULL;
		/* inside a jail the host's cgroup tree is not ours to extend: a nested jail
		 * lives in its parent's group */
		if (inside != 1) {
			jx_warn(j, "cgroup: %s", e.msg);
			goto fail_rec;
		}
	}
	struct confine_job go = {.j = j};
	/* without IPv4 and IPv6 the seccomp filter refuses both families: no programs to load */
	if (!spec.policy.no_inet && confine_spec(j, rec, &go.confine, &e) < 0) {
		jx_warn(j, "%s", e.msg);
		goto fail_cg;
	}
	spec.path = path;
	spec.hostname = lj_record_get(rec, "host.hostname");
	spec.domainname = jx_str(j, "host.domainname");
	spec.persist = true; /* forced while the commands run; cleared after exec.poststart */
	spec.mount_devfs = jx_bool(j, "mount.devfs", false);
	const char *rs = jx_str(j, "devfs_ruleset");
	spec.devfs_ruleset = rs ? atoi(rs) : 0;
	spec.mount_procfs = jx_bool(j, "mount.procfs", false);
	spec.mount_fdescfs = jx_bool(j, "mount.fdescfs", false);
	spec.cgroup_fd = j->cg ? lj_cg_v2_fd(j->cg) : -1;
	/* the init waits for a go only when there is something to do before it goes on */
	spec.before_go = j->cg && has_v1_groups(j->cg) ? attach_v1 : NULL;
	spec.before_go_arg = j->cg;
	spec.after_go = while_init_sets_up;
	spec.after_go_arg = &go;
	spec.control = true; /* commands and the persist request go through the init */

	/* made before exec.prestart (step_prestart), or none */
	spec.netns_fd = j->netns_fd;
	spec.rundir = r.dir;
	struct lj_iso_proc proc;
	int created = lj_isolate_create(&spec, &proc, &e);
	free(go.confine);
	if (created < 0) {
		jx_warn(j, "%s", e.msg);
		goto fail_cg;
	}
	j->pidfd = proc.pidfd;
	j->launchfd = proc.ctlfd;
	rec->init_pid = proc.pid;
	rec->init_start = proc.start;
	/* tests: SIGKILL with the init up and no record (it must end itself), and right after the
	 * record and the commit (the jail must live on, and nobody must take it for an orphan) */
	if (jx_fault(j, "kill-before-record"))
		raise(SIGKILL);
	/* under the lock: a listing (shared lock) never sees the record while it is replaced */
	if ((is_vnet(j) && pin_netns(j, &e) < 0) || lj_reg_lock(&r, &e) < 0 ||
	    lj_reg_write(&r, rec, &e) < 0 ||
	    /* ESRCH: a command that went early has ended, and the jail with it (no error) */
	    (lj_isolate_commit(proc.pid, j->launchfd, &e) < 0 && e.errnum != ESRCH)) {
		jx_warn(j, "%s", e.msg);
		if (r.lockfd >= 0) /* the record was written, and then the commit failed */
			lj_reg_delete_own(&r, rec, NULL);
		unpin_netns(lj_record_get(rec, "ljail.netns"));
		lj_isolate_stop(j->pidfd, 0, NULL);
		close(j->pidfd);
		j->pidfd = -1;
		drop_launcher(j);
		goto fail_cg;
	}
	j->have_rec = true;
	if (jx_fault(j, "kill-after-record"))
		raise(SIGKILL);
	lj_reg_close(&r);

	/* rctl: rules from rctl.conf and the jail's `rctl` parameter */
	const lj_strv *rules = jx_list(j, "rctl");
	if (lj_rctl_apply_jail(j->name, rules ? (const char *const *)rules->v : NULL,
	                       rules ? rules->n : 0, &e) < 0) {
		jx_warn(j, "rctl: %s", e.msg);
		return -1; /* the undo of this step removes the jail */
	}
	j->rctl_set = true;
	if (j->req->verbose && !j->req->quiet)
		note_jail_set(j);
	if (j->req->print_jid) {
		printf("%d\n", j->jid);
		fflush(stdout);
	}
	write_jid_file(j);
	if (!j->req->quiet && !j->req->print_jid && (j->msgname || j->req->verbose)) {
		const char *saved = j->msgname;
		if (!saved) /* -v on a command-line jail names it */
			j->msgname = j->name;
		jx_note(j, "created\n");
		j->msgname = saved;
	}
	return 0;

fail_cg:
	if (j->cg && lj_cg_destroy(j->cg, &e) == 0)
		j->cg = NULL;
fail_rec:
	if (held > 0)
		lj_reg_delete(&r, held, NULL);
	lj_record_free(&j->rec);
	j->jid = -1;
out:
	lj_reg_close(&r);
	return rc;
}

/* FreeBSD returns every interface that came from elsewhere when a vnet dies (an `ifconfig X vnet
 * J` in exec.created, not only vnet.interface). Linux keeps no home namespace, so: a veth whose
 * peer lives outside the jail, and a physical device, go back; what was made inside (both ends
 * in the jail, bridges) dies with it. */
static bool foreign_link(const struct lj_link *l)
{
	return (!strcmp(l->kind, "veth") && (l->link_netnsid >= 0 || l->link_netns_dead)) ||
	       (l->kind[0] == '\0' && !(l->flags & IFF_LOOPBACK));
}

static bool skipped(const lj_strv *skip, const char *name)
{
	return skip && lj_strv_contains(skip, name);
}

/* Move the first n interfaces of names (in reverse), then the other foreign ones, from the
 * namespace of netns_fd to ours, except those in skip (left to die with the namespace). What
 * must move is looked at from here: a netlink socket made inside would keep the namespace alive
 * for an RCU grace period after its close, and a removed jail's namespace is to die at once. A
 * child moves them (setns is per thread and jail(8) stays where it is); none when nothing must. */
static void move_back(const struct jx *j, char *const *names, size_t n, int netns_fd,
                      const lj_strv *skip)
{
	if (netns_fd < 0)
		return;
	lj_strv todo = {0};
	struct lj_link *links = NULL;
	size_t nl = 0;
	bool known = lj_net_links_in(NULL, netns_fd, &links, &nl, NULL) == 0;
	if (known) {
		for (size_t i = n; i-- > 0;)
			for (size_t k = 0; k < nl; k++)
				if (!strcmp(links[k].name, names[i]) && !skipped(skip, names[i]) &&
				    !lj_strv_contains(&todo, names[i]))
					lj_strv_add(&todo, names[i]);
		for (size_t k = 0; k < nl; k++)
			if (foreign_link(&links[k]) && !skipped(skip, links[k].name) &&
			    !lj_strv_contains(&todo, links[k].name))
				lj_strv_add(&todo, links[k].name);
		free(links);
		if (todo.n == 0)
			return;
	}
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host < 0) {
		lj_strv_free(&todo);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		lj_err e;
		int bad = 0;
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(1);
		if (!known) { /* could not look from outside: everything from inside */
			for (size_t i = n; i-- > 0;)
				if (!skipped(skip, names[i]))
					lj_strv_add(&todo, names[i]);
			if (lj_net_links(NULL, &links, &nl, &e) == 0) {
				for (size_t k = 0; k < nl; k++)
					if (foreign_link(&links[k]) &&
					    !skipped(skip, links[k].name) &&
					    !lj_strv_contains(&todo, links[k].name))
						lj_strv_add(&todo, links[k].name);
				free(links);
			}
		}
		for (size_t i = 0; i < todo.n; i++) {
			bool named = false;
			for (size_t k = 0; k < n && !named; k++)
				named = !strcmp(names[k], todo.v[i]);
			if (lj_net_link_set_netns(NULL, todo.v[i], host, NULL, &e) < 0 &&
			    e.errnum != ENODEV && named) {
				if (j)
					jx_warn(j, "vnet.interface: %s", e.msg);
				bad = 1;
			}
		}
		_exit(bad);
	}
	int st;
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	close(host);
	lj_strv_free(&todo);
}

/* Take the interfaces of vnet.interface back to the host. netns_fd keeps the jail's network
 * namespace alive even after its last process died, so this works after the kill, and
 * exec.poststop finds the interfaces on the host (FreeBSD returns them when the vnet dies). */
static void vnet_back(struct jx *j, int netns_fd)
{
	const lj_strv *l = jx_list(j, "vnet.interface");
	move_back(j, l ? l->v : NULL, l ? (j->vnet_done < l->n ? j->vnet_done : l->n) : 0, netns_fd,
	          &j->vnet_die);
	j->vnet_done = 0;
}

/* A vnet jail's network namespace is pinned by a bind mount of its nsfs file in the run
 * directory (as `ip netns add` does), so that when the jail dies on its own the interfaces of
 * vnet.interface can still be taken back to the host instead of dying with the namespace. */
static char *netns_pin_path(int jid)
{
	const char *d = getenv("LJAIL_RUNDIR");
	return xasprintf("%s/%d.netns", d && *d ? d : "/run/ljail", jid);
}

static int pin_netns(struct jx *j, lj_err *e)
{
	int fd = lj_net_netns_fd_from_pidfd(j->pidfd, e);
	if (fd < 0)
		return -1;
	lj_autofree char *pin = netns_pin_path(j->jid);
	int pf = open(pin, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (pf < 0 && errno == EEXIST) { /* left by a crash: replace it */
		umount2(pin, MNT_DETACH);
		pf = open(pin, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	if (pf < 0) {
		close(fd);
		return lj_error(e, errno, "%s", pin);
	}
	close(pf);
	char src[64];
	snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
	int rc = mount(src, pin, NULL, MS_BIND, NULL);
	int saved = errno;
	close(fd);
	if (rc < 0) {
		unlink(pin);
		return lj_error(e, saved, "pin %s", pin);
	}
	lj_record_set(&j->rec, "ljail.netns", pin);
	return 0;
}

static void unpin_netns(const char *pin)
{
	if (!pin)
		return;
	/* not lazily when it can be helped: a lazy unmount lets go of the namespace only after an
	 * RCU grace period, and a removed jail's namespace is to die at once */
	if (umount2(pin, 0) < 0)
		umount2(pin, MNT_DETACH);
	unlink(pin);
}

int jx_netns_fd(struct jx *j)
{
	if (!is_vnet(j))
		return -1;
	const char *pin = j->have_rec ? lj_record_get(&j->rec, "ljail.netns") : NULL;
	if (pin) {
		int fd = open(pin, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	if (j->pidfd < 0)
		return -1;
	lj_err e;
	return lj_net_netns_fd_from_pidfd(j->pidfd, &e);
}

/* The jail goes: its processes (SIGTERM, stop.timeout, SIGKILL), its interfaces back to the
 * host, its cgroup, its record. timeout_ms < 0: no SIGTERM phase. */
static void kill_jail(struct jx *j, int timeout_ms)
{
	lj_err e;
	int netns = jx_netns_fd(j);
	if (j->pidfd >= 0) {
		if (lj_isolate_stop(j->pidfd, timeout_ms < 0 ? 0 : timeout_ms, &e) < 0)
			jx_warn(j, "%s", e.msg);
		close(j->pidfd);
		j->pidfd = -1;
	}
	vnet_back(j, netns);
	/* Once the init is gone the record is dead: another jail(8) may reap it and give the JID
	 * to a new jail, whose pin has the same path. Only our own namespace's pin goes. */
	struct stat ns_st, pin_st;
	const char *pin = j->have_rec ? lj_record_get(&j->rec, "ljail.netns") : NULL;
	if (pin && (netns < 0 || fstat(netns, &ns_st) < 0 || stat(pin, &pin_st) < 0 ||
	            (pin_st.st_dev == ns_st.st_dev && pin_st.st_ino == ns_st.st_ino)))
		unpin_netns(pin);
	if (netns >= 0)
		close(netns);
	if (!j->cg && j->name)
		lj_cg_open(j->name, &j->cg, NULL);
	if (j->cg) {
		bool pop = false;
		if (lj_cg_populated(j->cg, &pop, NULL) == 0 && pop)
			lj_cg_kill(j->cg, SIGKILL, NULL);
		if (lj_cg_destroy(j->cg, &e) < 0) {
			jx_warn(j, "cgroup: %s", e.msg);
			lj_cg_free(j->cg);
		}
		j->cg = NULL;
	}
	/* the jail.conf `rctl` rules go with the jail (rctl.conf and rctl(8) rules stay, as
	 * FreeBSD keeps rules for a jail name that does not run) */
	if (j->rctl_set && j->name && lj_rctl_apply_jail(j->name, NULL, 0, &e) < 0)
		jx_warn(j, "rctl: %s", e.msg);
	j->rctl_set = false;
	if (j->have_rec) {
		struct lj_registry r;
		if (lj_reg_open(&r, &e) == 0) {
			/* the JID may be another jail's by now (see above): only our record goes */
			lj_reg_delete_own(&r, &j->rec, NULL);
			lj_reg_close(&r);
		}
	}
}

static void undo_create(struct jx *j)
{
	drop_launcher(j);
	if (!j->have_rec && j->pidfd < 0)
		return;
	kill_jail(j, -1);
	/* as FreeBSD: a named jail that was created and is taken back says so */
	if (!j->req->quiet && !j->req->print_jid && (j->req->verbose || j->msgname)) {
		const char *saved = j->msgname;
		if (!saved)
			j->msgname = j->name;
		jx_note(j, "removed\n");
		j->msgname = saved;
	}
	lj_record_free(&j->rec);
	j->have_rec = false;
	j->jid = -1;
}

/* ---- vnet.interface ------------------------------------------------------------------------- */

/* name is already inside (made there by exec.prestart's ifconfig, see step_prestart). Looked
 * at from here, see move_back. */
static bool inside_already(int netns, const char *name)
{
	struct lj_link *v = NULL;
	size_t n = 0;
	bool found = false;
	if (lj_net_links_in(NULL, netns, &v, &n, NULL) < 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(v[i].name, name);
	free(v);
	return found;
}

static void close_premade(struct jx *j)
{
	if (j->netns_fd > 0)
		close(j->netns_fd);
	j->netns_fd = 0;
}

static int step_vnet(struct jx *j, const char *name)
{
	close_premade(j); /* the jail holds (and the pin keeps) its namespace now */
	const lj_strv *l = jx_list(j, name);
	if (!l || !is_vnet(j))
		return 0;
	lj_err e;
	int netns = jx_netns_fd(j);
	if (netns < 0) {
		jx_warn(j, "vnet.interface: the jail's network namespace is gone");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (lj_net_link_set_netns(NULL, l->v[i], netns, NULL, &e) < 0 &&
		    !(e.errnum == ENODEV && inside_already(netns, l->v[i]))) {
			jx_warn(j, "vnet.interface: %s", e.msg);
			rc = -1;
			break;
		}
		j->vnet_done = i + 1;
	}
	close(netns);
	return rc;
}

static void undo_vnet(struct jx *j)
{
	int netns = jx_netns_fd(j);
	vnet_back(j, netns);
	if (netns >= 0)
		close(netns);
}

/* ---- exec.prestart: a VNET jail's network namespace made in advance ------------------------- */

/* line names ifname as a word (not inside a longer interface name). */
static bool names_word(const char *line, const char *ifname)
{
	size_t n = strlen(ifname);
	for (const char *p = strstr(line, ifname); p; p = strstr(p + 1, ifname)) {
		bool before = p > line && (isalnum((unsigned char)p[-1]) || strchr("_.-", p[-1]));
		bool after = isalnum((unsigned char)p[n]) || (p[n] && strchr("_.-", p[n]));
		if (!before && !after)
			return true;
	}
	return false;
}

static bool any_line_names(const struct jx *j, const char *param, const char *ifname)
{
	const lj_strv *l = jx_list(j, param);
	for (size_t i = 0; l && i < l->n; i++)
		if (names_word(l->v[i], ifname))
			return true;
	return false;
}

/* The vnet.interface members exec.prestart's ifconfig may create inside the jail at once: an
 * epair's b end that no host-side exec.prestart/exec.created line names (such a line expects it
 * on the host, where FreeBSD has it until vnet.interface moves it). */
static void premade_names(const struct jx *j, lj_strv *out)
{
	const lj_strv *l = jx_list(j, "vnet.interface");
	for (size_t i = 0; l && i < l->n; i++) {
		const char *v = l->v[i];
		size_t n = strlen(v);
		if (!lj_startswith(v, "epair") || n < 7 || v[n - 1] != 'b' ||
		    any_line_names(j, "exec.prestart", v) || any_line_names(j, "exec.created", v))
			continue;
		lj_strv_add(out, v);
	}
}

/* Not for a jail that gets a user namespace (allow.mount): that one makes its own network
 * namespace, owned by the user namespace. */
static bool wants_premade(struct jx *j)
{
	if (!is_vnet(j))
		return false;
	struct lj_record tmp = {0};
	fill_record(j, &tmp, false);
	struct lj_iso_policy pol;
	lj_isolate_policy_init(&pol);
	bool ok = lj_isolate_policy_from_params(&tmp.params, &pol, NULL) == 0 &&
	          !lj_isolate_wants_userns(&pol);
	lj_record_free(&tmp);
	return ok;
}

/* A new network namespace, jail(8) staying in its own (it is single-threaded: unshare and setns
 * act on the whole process). Returns its fd, or -1 with e filled. */
static int make_netns(lj_err *e)
{
	lj_autoclose int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return lj_error(e, errno, "/proc/self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return lj_error(e, errno, "network namespace");
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int err = errno;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* jail(8) must not go on in the wrong namespace */
		fprintf(stderr, "jail: setns back to the host's network namespace: %s\n",
		        strerror(errno));
		_exit(1);
	}
	if (fd < 0)
		return lj_error(e, err, "/proc/self/ns/net");
	return fd;
}

/* exec.prestart with, for a VNET jail whose vnet.interface names an epair's b end, the jail's
 * network namespace made first: `ifconfig epairN create` in these lines creates that end
 * directly inside (one RCU grace period less than moving it), and the jail is cloned into this
 * namespace (lj_iso_spec.netns_fd). Everything else is as before: step_vnet finds the end
 * already inside. */
static int step_prestart(struct jx *j, const char *name)
{
	lj_strv names = {0};
	if (j->netns_fd <= 0 && wants_premade(j))
		premade_names(j, &names);
	if (names.n) {
		lj_err e;
		int fd = make_netns(&e);
		if (fd < 0) {
			jx_warn(j, "vnet: %s", e.msg);
			lj_strv_free(&names);
			return -1;
		}
		j->netns_fd = fd;
		lj_net_set_vnet_target(fd, (const char *const *)names.v, names.n);
	}
	int rc = run_list(j, name, false);
	lj_net_set_vnet_target(-1, NULL, 0);
	lj_strv_free(&names);
	return rc;
}

/* What exec.prestart made inside the namespace goes back to the host (as if it had been made
 * there: exec.* commands have no undo), then the namespace goes. */
static void undo_prestart(struct jx *j)
{
	if (j->netns_fd > 0)
		move_back(j, NULL, 0, j->netns_fd, NULL);
	close_premade(j);
}

/* ---- removal: vnet.interface members that die with the namespace ---------------------------- */

/* exec.poststop destroys the host end `peer` with ljail's in-process ifconfig (`ifconfig PEER
 * destroy`, possibly after `ifconfig BRIDGE deletem PEER`), and no other line names it. */
static bool poststop_destroys(const struct jx *j, const char *peer)
{
	const lj_strv *l = jx_list(j, "exec.poststop");
	bool found = false;
	for (size_t i = 0; l && i < l->n && !found; i++) {
		if (!names_word(l->v[i], peer))
			continue;
		lj_strv argv = {0};
		bool bg;
		jx_split_command(l->v[i], &argv, &bg);
		bool ifc = !bg && argv.n > 0 && lj_net_builtin(argv.v[0]) == lj_ifconfig_main;
		bool destroy = ifc && argv.n == 3 && !strcmp(argv.v[1], peer) &&
		               !strcmp(argv.v[2], "destroy");
		bool deletem = ifc && argv.n == 4 && !strcmp(argv.v[2], "deletem") &&
		               !strcmp(argv.v[3], peer);
		lj_strv_free(&argv);
		if (!destroy && !deletem)
			return false;
		found = destroy;
	}
	return found;
}

/* Which vnet.interface members need not come back at removal: a veth whose host end
 * exec.poststop destroys. They stay and die with the jail's namespace, which the kernel tears
 * down asynchronously, deleting its veths in one batch (moving each back and deleting it costs
 * two RCU grace periods per pair). Their host ends go to *peers, for ifconfig's `dying` hint. */
static void find_dying(struct jx *j, int netns, lj_strv *peers)
{
	lj_strv_free(&j->vnet_die);
	const lj_strv *l = jx_list(j, "vnet.interface");
	if (!l || netns < 0 || !jx_list(j, "exec.poststop"))
		return;
	struct lj_link *in = NULL, *out = NULL;
	size_t nin = 0, nout = 0;
	/* looked at from here: see move_back */
	if (lj_net_links_in(NULL, netns, &in, &nin, NULL) == 0 &&
	    lj_net_links(NULL, &out, &nout, NULL) == 0) {
		for (size_t i = 0; i < l->n; i++) {
			const struct lj_link *m = NULL, *h = NULL;
			for (size_t k = 0; k < nin && !m; k++)
				if (!strcmp(in[k].name, l->v[i]) && !strcmp(in[k].kind, "veth") &&
				    in[k].link_netnsid >= 0)
					m = &in[k];
			for (size_t k = 0; m && k < nout && !h; k++)
				if (out[k].index == m->link && !strcmp(out[k].kind, "veth") &&
				    out[k].link == m->index && out[k].link_netnsid >= 0)
					h = &out[k];
			if (h && poststop_destroys(j, h->name)) {
				lj_strv_add(&j->vnet_die, m->name);
				lj_strv_add(peers, h->name);
			}
		}
	}
	free(in);
	free(out);
}

/* ---- the tables ----------------------------------------------------------------------------- */

static const struct step create_steps[] = {
        {"exec.prepare", step_host_exec, NULL},
        {"ip4.addr", step_ip4, undo_ip4},
        {"ip6.addr", step_ip6, undo_ip6},
        {"mount", step_mount, undo_mount},
        {"mount.fstab", step_fstab, undo_fstab},
        {"mount.devfs", step_mountpoint, NULL},
        {"mount.fdescfs", step_mountpoint, NULL},
        {"mount.procfs", step_mountpoint, NULL},
        {"exec.prestart", step_prestart, undo_prestart},
        {"create", step_create, undo_create},
        {"exec.created", step_host_exec, NULL},
        {"vnet.interface", step_vnet, undo_vnet},
        {"exec.start", step_jail_exec, NULL},
        {"command", step_command, NULL},
        {"exec.poststart", step_host_exec, NULL},
};

void lj_jail_reap(const struct lj_record *rec)
{
	const char *pin = lj_record_get(rec, "ljail.netns");
	const char *ifs = lj_record_get(rec, "vnet.interface");
	if (pin) {
		int fd = open(pin, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			lj_strv names = {0};
			lj_autofree char *c = xstrdup(ifs ? ifs : "");
			char *save = NULL;
			for (char *t = strtok_r(c, ",", &save); t; t = strtok_r(NULL, ",", &save))
				lj_strv_add(&names, t);
			move_back(NULL, names.v, names.n, fd, NULL);
			lj_strv_free(&names);
		}
		if (fd >= 0)
			close(fd);
		unpin_netns(pin);
	}
	struct lj_cg *cg;
	bool pop = true;
	if (lj_cg_open(rec->name, &cg, NULL) < 0)
		return;
	/* A provisional record names the jail(8) that was making the jail: the init it had started
	 * may still run, in a jail nobody will ever list. */
	if (lj_record_get(rec, "ljail.creating"))
		lj_cg_kill(cg, SIGKILL, NULL);
	if (lj_cg_populated(cg, &pop, NULL) == 0 && !pop && lj_cg_destroy(cg, NULL) == 0)
		return;
	lj_cg_free(cg);
}

void lj_jail_reap_orphan(const char *name)
{
	struct lj_cg *cg;
	if (lj_cg_open(name, &cg, NULL) < 0)
		return;
	lj_cg_kill(cg, SIGKILL, NULL);
	if (lj_cg_destroy(cg, NULL) < 0)
		lj_cg_free(cg);
}

/* After persist was cleared by signal (jail -m from a process that did not create the jail): a
 * jail with nothing left in it dies now; a best-effort guess from the cgroup's pid list. */
static void wait_if_empty(struct jx *j)
{
	pid_t *pids = NULL;
	size_t n = 0;
	if (!j->cg && j->name && lj_cg_open(j->name, &j->cg, NULL) < 0)
		j->cg = NULL;
	if (!j->cg || lj_cg_pids(j->cg, &pids, &n, NULL) < 0 || n > 1) {
		free(pids);
		return;
	}
	free(pids);
	struct pollfd p = {.fd = j->pidfd, .events = POLLIN};
	if (poll(&p, 1, 2000) <= 0)
		return; /* something joined meanwhile: it lives on */
	kill_jail(j, -1);
}

/* The forced persist of the create goes. A jail that is not persistent and has nothing left in
 * it dies now, as on FreeBSD, where jail(8) returns after the jail is gone: the init says whether
 * it exits (it reaps, then counts its PID namespace), in the answer to the persist request or,
 * when the last command took persist off, in that command's status; then wait for it and clean
 * up. */
static void clear_forced_persist(struct jx *j)
{
	lj_err e;
	if (j->pidfd < 0)
		return;
	bool exiting = j->persist_off && j->init_exits;
	if (j->persist_off || (j->launchfd >= 0 &&
	                       lj_isolate_control_persist(j->launchfd, false, &exiting, &e) == 0)) {
		if (exiting) {
			struct pollfd p = {.fd = j->pidfd, .events = POLLIN};
			while (poll(&p, 1, -1) < 0 && errno == EINTR)
				;
			kill_jail(j, -1);
		}
		return;
	}
	/* no answer: the init is gone or the channel broke; the signal's guess */
	if (lj_isolate_set_persist(j->pidfd, false, &e) < 0 && lj_isolate_alive(j->pidfd))
		jx_warn(j, "%s", e.msg);
	wait_if_empty(j);
}

/* ip_hostname (-h): the addresses host.hostname resolves to join ip4.addr and ip6.addr. */
static int add_hostname_addrs(struct jx *j)
{
	const char *hn = jx_str(j, "host.hostname");
	if (!jx_bool(j, "ip_hostname", false) || !hn)
		return 0;
	lj_strv addrs = {0};
	lj_err e;
	if (lj_host_addrs(hn, &addrs, &e) < 0) {
		jx_warn(j, "host.hostname %s", e.msg);
		lj_strv_free(&addrs);
		return -1;
	}
	for (size_t i = 0; i < addrs.n; i++) {
		const char *pn = strchr(addrs.v[i], ':') ? "ip6.addr" : "ip4.addr";
		const struct jc_param *p = jc_find(j->cj, pn);
		if (!p || !lj_strv_contains(&p->values, addrs.v[i]))
			jc_set(j->cj, pn, addrs.v[i], false);
	}
	lj_strv_free(&addrs);
	return 0;
}

int jx_create(struct jx *j)
{
	size_t i, n = LJ_ARRAY_LEN(create_steps);
	if (add_hostname_addrs(j) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct step *s = &create_steps[i];
		if (jx_interrupted()) {
			jx_warn(j, "%s: interrupted", s->name);
			break;
		}
		if (strcmp(s->name, "create") != 0 && jx_fault(j, s->name))
			break;
		if (s->run(j, s->name) < 0)
			break;
	}
	if (i == n) {
		/* clear the forced persist: a jail without `persist` now lives as long as its
		 * processes do */
		if (!jx_bool(j, "persist", false))
			clear_forced_persist(j);
		drop_launcher(j); /* nothing more for the init to do for us */
		return 0;
	}
	for (size_t k = i + 1; k-- > 0;)
		if (create_steps[k].undo)
			create_steps[k].undo(j);
	return -1;
}

/* ---- remove --------------------------------------------------------------------------------- */

static int stop_timeout_ms(const struct jx *j)
{
	const char *t = jx_str(j, "stop.timeout");
	int v;
	if (t && lj_parse_int(t, &v) && v >= 0)
		return v * 1000;
	return 10000;
}

int jx_post_remove(struct jx *j)
{
	const lj_strv *l;
	if (!j->ip4_done && !j->ip6_done && !j->mount_done && !j->fstab_done) {
		/* -C: nothing was counted yet, everything configured is taken back */
		j->ip4_done = (l = jx_list(j, "ip4.addr")) ? l->n : 0;
		j->ip6_done = (l = jx_list(j, "ip6.addr")) ? l->n : 0;
		j->mount_done = (l = jx_list(j, "mount")) ? l->n : 0;
		load_fstab(j);
		j->fstab_done = j->fstab.n;
	}
	int rc = 0;
	if (run_list(j, "exec.poststop", false) < 0)
		rc = -1;
	undo_fstab(j);
	undo_mount(j);
	undo_ip6(j);
	undo_ip4(j);
	if (run_list(j, "exec.release", false) < 0)
		rc = -1;
	return rc;
}

int jx_remove(struct jx *j)
{
	if (jx_fault(j, "exec.prestop") || run_list(j, "exec.prestop", false) < 0)
		return -1;
	if (jx_fault(j, "exec.stop") || run_list(j, "exec.stop", true) < 0)
		return -1;
	/* everything was made: the undo functions take all of it back */
	const lj_strv *l;
	j->ip4_done = (l = jx_list(j, "ip4.addr")) ? l->n : 0;
	j->ip6_done = (l = jx_list(j, "ip6.addr")) ? l->n : 0;
	j->mount_done = (l = jx_list(j, "mount")) ? l->n : 0;
	load_fstab(j);
	j->fstab_done = j->fstab.n;
	j->vnet_done = (l = jx_list(j, "vnet.interface")) ? l->n : 0;

	int to = stop_timeout_ms(j);
	j->rctl_set = true;
	lj_strv dying = {0};
	if (is_vnet(j)) {
		int netns = jx_netns_fd(j);
		find_dying(j, netns, &dying);
		if (netns >= 0)
			close(netns);
	}
	kill_jail(j, to == 0 ? -1 : to);
	lj_strv_free(&j->vnet_die);
	/* exec.poststop's ifconfig: destroying those pairs' host ends is the namespace's job */
	lj_net_set_vnet_dying((const char *const *)dying.v, dying.n);
	bool note = !j->req->quiet && (j->req->verbose || (j->req->conf_path && !j->req->cmdline) ||
	                               j->req->ntargets > 1 ||
	                               (j->req->ntargets == 1 && strchr(j->req->targets[0], '*')));
	if (note) {
		const char *saved = j->msgname;
		if (!saved)
			j->msgname = j->name;
		jx_note(j, "removed\n");
		j->msgname = saved;
	}
	/* JID stays set for exec.poststop, as FreeBSD's tests require */
	int rc = jx_post_remove(j);
	lj_net_set_vnet_dying(NULL, 0);
	lj_strv_free(&dying);
	lj_record_free(&j->rec);
	j->have_rec = false;
	j->jid = -1;
	return rc;
}

/* ---- modify --------------------------------------------------------------------------------- */

static int set_hostname_in(struct jx *j, const char *hn)
{
	int ufd = -1;
	char p[64];
	snprintf(p, sizeof p, "/proc/%ld/ns/uts", (long)j->rec.init_pid);
	ufd = open(p, O_RDONLY | O_CLOEXEC);
	if (ufd < 0 || !lj_record_alive(&j->rec)) {
		if (ufd >= 0)
			close(ufd);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (setns(ufd, CLONE_NEWUTS) < 0 || sethostname(hn, strlen(hn)) < 0)
			_exit(1);
		_exit(0);
	}
	close(ufd);
	int st = 1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int jx_modify(struct jx *j, bool restart_ok, bool *need_restart)
{
	*need_restart = false;
	struct lj_record nrec = {0};
	nrec.name = xstrdup(j->rec.name);
	fill_record(j, &nrec, false);
	int rc = 0;
	for (size_t i = 0; i < nrec.params.n; i++) {
		char *kv = nrec.params.v[i];
		char *eq = strchr(kv, '=');
		*eq = '\0';
		const char *old = lj_record_get(&j->rec, kv);
		bool changed = !old || strcmp(old, eq + 1) != 0;
		const struct lj_param_def *d = lj_param_lookup(kv, NULL);
		if (changed && d && (d->flags & LJ_PF_RDTUN)) {
			if (restart_ok) {
				*need_restart = true;
			} else {
				jx_warn(j, "%s cannot be changed after creation", kv);
				rc = -1;
			}
		}
		*eq = '=';
	}
	if (rc < 0 || *need_restart) {
		lj_record_free(&nrec);
		return rc;
	}
	const char *hn = lj_record_get(&nrec, "host.hostname");
	const char *oldhn = lj_record_get(&j->rec, "host.hostname");
	if (hn && (!oldhn || strcmp(hn, oldhn) != 0) && set_hostname_in(j, hn) < 0) {
		jx_warn(j, "host.hostname: cannot set");
		lj_record_free(&nrec);
		return -1;
	}
	for (size_t i = 0; i < nrec.params.n; i++) {
		char *kv = nrec.params.v[i];
		char *eq = strchr(kv, '=');
		*eq = '\0';
		lj_record_set(&j->rec, kv, eq + 1);
		*eq = '=';
	}
	lj_record_free(&nrec);
	lj_err e;
	struct lj_registry r;
	r = (struct lj_registry){0};
	if (lj_reg_open(&r, &e) < 0 || lj_reg_lock(&r, &e) < 0 ||
	    lj_reg_write(&r, &j->rec, &e) < 0) {
		jx_warn(j, "%s", e.msg);
		lj_reg_close(&r);
		return -1;
	}
	lj_reg_close(&r);
	if (!jx_bool(j, "persist", true) && j->pidfd >= 0) {
		lj_isolate_set_persist(j->pidfd, false, NULL);
		wait_if_empty(j);
	} else if (jc_find(j->cj, "persist") && jx_bool(j, "persist", false) && j->pidfd >= 0)
		lj_isolate_set_persist(j->pidfd, true, NULL);
	return 0;
}

void jx_release(struct jx *j)
{
	const lj_strv *l = jx_list(j, "vnet.interface");
	j->vnet_done = l ? l->n : 0;
	j->rctl_set = true;
	kill_jail(j, stop_timeout_ms(j));
	/* no exec.* command runs, but what ljail itself made for the jail (the mounts and
	 * aliases its record lists) is taken back: nothing is left behind */
	j->ip4_done = (l = jx_list(j, "ip4.addr")) ? l->n : 0;
	j->ip6_done = (l = jx_list(j, "ip6.addr")) ? l->n : 0;
	j->mount_done = (l = jx_list(j, "mount")) ? l->n : 0;
	load_fstab(j);
	j->fstab_done = j->fstab.n;
	undo_fstab(j);
	undo_mount(j);
	undo_ip6(j);
	undo_ip4(j);
}
