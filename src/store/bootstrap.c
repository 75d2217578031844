/* Templates: a busybox root made offline from Debian's busybox-static, or a Debian root made by
 * debootstrap (its default mirror) plus apt-get, with downloaded packages cached in the pool.
 * Both get the jail userland from the templates/ folder: /etc/rc, /etc/rc.shutdown, sysrc,
 * service, and ljail's ifconfig/route/netstat when they were built. */
#include "store/store_int.h"
#include "store/store_paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

static void step(const struct lj_bootstrap *b, int n, int total, const char *what)
{
	if (b->progress)
		b->progress(b->progress_arg, n, total, what);
}

static int write_file(const char *root, const char *rel, const char *text, mode_t mode, lj_err *e)
{
	lj_autofree char *path = xasprintf("%s/%s", root, rel);
	return lj_write_file_atomic(path, text, strlen(text), mode, e);
}

/* ---- the userland -----------------------------------------------------------------------------
 */

static char *templates_dir(const struct lj_bootstrap *b)
{
	if (b && b->templates)
		return xstrdup(b->templates);
	const char *env = getenv("LJAIL_TEMPLATES");
	if (env && *env)
		return xstrdup(env);
	lj_autofree char *exe = st_exe_dir();
	/* installed next to the binary's prefix, then where meson installs it, then the sources
	 * (running from a build folder) */
	char *cands[] = {xasprintf("%s/../share/ljail/templates", exe),
	                 xstrdup(LJ_TEMPLATES_INSTALLED), xstrdup(LJ_TEMPLATES_SRC)};
	char *found = NULL;
	for (size_t i = 0; i < LJ_ARRAY_LEN(cands); i++) {
		lj_autofree char *probe = xasprintf("%s/common/etc/rc", cands[i]);
		if (!found && access(probe, R_OK) == 0)
			found = cands[i];
		else
			free(cands[i]);
	}
	return found;
}

/* The real path of a folder inside root, or NULL when a symlink on the way leads outside it
 * (a root can hold "/usr/sbin -> /usr/sbin": never write into the host through it). */
static char *inside_root(const char *root, const char *path)
{
	lj_autofree char *r = realpath(root, NULL);
	char *p = realpath(path, NULL);
	size_t l = r ? strlen(r) : 0;
	if (!r || !p || strncmp(p, r, l) != 0 || (p[l] != '/' && p[l] != 0)) {
		free(p);
		return NULL;
	}
	return p;
}

/* Copy a template tree into root: folders made as needed, files replaced (or, without
 * overwrite, only put where nothing is). */
static int install_tree(const char *root, const char *src, const char *dst, bool overwrite,
                        lj_err *e)
{
	DIR *d = opendir(src);
	if (!d)
		return errno == ENOENT ? 0 : lj_error(e, errno, "%s", src);
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.' &&
		    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		lj_autofree char *s = xasprintf("%s/%s", src, de->d_name);
		lj_autofree char *t = xasprintf("%s/%s", dst, de->d_name);
		struct stat st, tt;
		if (lstat(s, &st) < 0) {
			rc = lj_error(e, errno, "%s", s);
			break;
		}
		bool exists = lstat(t, &tt) == 0;
		if (S_ISDIR(st.st_mode)) {
			if (!exists && mkdir(t, st.st_mode & 07777) < 0) {
				rc = lj_error(e, errno, "%s", t);
				continue;
			}
			lj_autofree char *real = inside_root(root, t);
			if (!real)
				rc = lj_errorx(e, "%s: leads outside the root", t);
			else
				rc = install_tree(root, s, real, overwrite, e);
			continue;
		}
		if (exists && !overwrite)
			continue;
		if (exists && unlink(t) < 0) {
			rc = lj_error(e, errno, "%s", t);
			break;
		}
		rc = st_copy_file(s, t, st.st_mode & 07777, e);
	}
	closedir(d);
	return rc;
}

static bool is_busybox_link(const char *path)
{
	char buf[256];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return false;
	buf[n] = 0;
	return lj_endswith(buf, "busybox");
}

int lj_store_install_userland(const char *root, const struct lj_bootstrap *b, lj_err *e)
{
	lj_autofree char *tdir = templates_dir(b);
	if (!tdir)
		return lj_errorx(e, "the templates folder (etc/rc, sysrc ...) was not found; set "
		                    "LJAIL_TEMPLATES");
	lj_autofree char *common = xasprintf("%s/common", tdir);
	lj_autofree char *bb = xasprintf("%s/busybox", tdir);
	lj_autofree char *fallback = xasprintf("%s/fallback", tdir);
	if (install_tree(root, common, root, true, e) < 0 ||
	    (!(b && b->suite) && install_tree(root, bb, root, true, e) < 0) ||
	    install_tree(root, fallback, root, false, e) < 0)
		return -1;
	/* ljail's FreeBSD-style network tools, when the build has them */
	lj_autofree char *tools = b && b->tooldir ? xstrdup(b->tooldir) : st_exe_dir();
	const char *names[] = {"ifconfig", "route", "netstat"};
	lj_autofree char *lsbin = xasprintf("%s/usr/local/sbin", root);
	if (lj_mkdir_p(lsbin, 0755, e) < 0)
		return -1;
	for (size_t i = 0; i < LJ_ARRAY_LEN(names); i++) {
		lj_autofree char *s = xasprintf("%s/%s", tools, names[i]);
		struct stat st;
		if (stat(s, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			continue;
		lj_autofree char *t = xasprintf("%s/%s", lsbin, names[i]);
		unlink(t);
		if (st_copy_file(s, t, 0755, e) < 0)
			return -1;
		/* jail.conf says /sbin/ifconfig, /sbin/route: point those at ljail's */
		lj_autofree char *sbin0 = xasprintf("%s/sbin", root);
		lj_autofree char *sbin = inside_root(root, sbin0);
		if (i < 2 && sbin) {
			lj_autofree char *sb = xasprintf("%s/%s", sbin, names[i]);
			lj_autofree char *tgt = xasprintf("/usr/local/sbin/%s", names[i]);
			struct stat ls;
			if (lstat(sb, &ls) < 0 || is_busybox_link(sb)) {
				unlink(sb);
				if (symlink(tgt, sb) < 0 && errno != ENOENT)
					return lj_error(e, errno, "%s", sb);
			}
		}
	}
	return 0;
}

/* ---- busybox -----------------------------------------------------------------------------------
 */

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                             "www-data:x:33:33:www-data:/var/www:/bin/false\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\ndaemon:x:1:\ntty:x:5:\nwww-data:x:33:\nnogroup:x:65534:\n";
static const char shadow[] = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
                             "www-data:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n";
static const char hosts[] = "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n";
static const char profile[] =
        "export PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin\n"
        "export PS1='\\h:\\w\\$ '\n";
static const char rcconf[] =
        "# /etc/rc.conf: services started by /etc/rc (sysrc NAME_enable=YES)\n";

static int busybox_root(const char *mp, const char *busybox, int *napplets, lj_err *e)
{
	static const struct {
		const char *d;
		mode_t m;
	} dirs[] = {{"bin", 0755},
	            {"sbin", 0755},
	            {"usr", 0755},
	            {"usr/bin", 0755},
	            {"usr/sbin", 0755},
	            {"usr/local", 0755},
	            {"usr/local/bin", 0755},
	            {"usr/local/sbin", 0755},
	            {"etc", 0755},
	            {"etc/rc.d", 0755},
	            {"dev", 0755},
	            {"proc", 0555},
	            {"sys", 0555},
	            {"tmp", 01777},
	            {"root", 0700},
	            {"home", 0755},
	            {"mnt", 0755},
	            {"run", 0755},
	            {"var", 0755},
	            {"var/run", 0755},
	            {"var/log", 0755},
	            {"var/tmp", 01777},
	            {"var/empty", 0555},
	            {"var/www", 0755},
	            {"var/spool", 0755},
	            {"var/spool/cron", 0755},
	            {"var/spool/cron/crontabs", 0700}};
	for (size_t i = 0; i < LJ_ARRAY_LEN(dirs); i++) {
		lj_autofree char *d = xasprintf("%s/%s", mp, dirs[i].d);
		if (mkdir(d, dirs[i].m) < 0 && errno != EEXIST)
			return lj_error(e, errno, "%s", d);
		if (chmod(d, dirs[i].m) < 0)
			return lj_error(e, errno, "%s", d);
	}
	lj_autofree char *bb = xasprintf("%s/bin/busybox", mp);
	if (st_copy_file(busybox, bb, 0755, e) < 0)
		return -1;
	char *argv[] = {(char *)busybox, "--list-full", NULL};
	lj_autofree char *list = NULL;
	struct st_run_opts o = {.out = &list};
	if (st_run_ex(argv, &o, e) < 0)
		return lj_error_prefix(e, "%s --list-full", busybox);
	*napplets = 0;
	char *save = NULL;
	for (char *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		while (*l == '/')
			l++;
		if (!strchr(l, '/') || strstr(l, "..") || strcmp(l, "bin/busybox") == 0)
			continue;
		lj_autofree char *link = xasprintf("%s/%s", mp, l);
		if (symlink("/bin/busybox", link) < 0 && errno != EEXIST)
			return lj_error(e, errno, "%s", link);
		(*napplets)++;
	}
	lj_autofree char *mtab = xasprintf("%s/etc/mtab", mp);
	if (symlink("/proc/mounts", mtab) < 0 && errno != EEXIST)
		return lj_error(e, errno, "%s", mtab);
	if (write_file(mp, "etc/passwd", passwd, 0644, e) < 0 ||
	    write_file(mp, "etc/group", group, 0644, e) < 0 ||
	    write_file(mp, "etc/shadow", shadow, 0640, e) < 0 ||
	    write_file(mp, "etc/hosts", hosts, 0644, e) < 0 ||
	    write_file(mp, "etc/shells", "/bin/sh\n/bin/ash\n", 0644, e) < 0 ||
	    write_file(mp, "etc/profile", profile, 0644, e) < 0 ||
	    write_file(mp, "etc/rc.conf", rcconf, 0644, e) < 0)
		return -1;
	return 0;
}

/* ---- apt inside a root --------------------------------------------------------------------------
 */

struct apt_env {
	const char *root, *cache;
	bool host_apt;
};

static int bind(const char *src, const char *root, const char *rel, bool ro)
{
	lj_autofree char *dst = xasprintf("%s/%s", root, rel);
	struct stat st;
	if (stat(dst, &st) < 0)
		return 0; /* nothing to cover */
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
		fprintf(stderr, "bind %s on %s: %s\n", src, dst, strerror(errno));
		return -1;
	}
	if (ro && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
		fprintf(stderr, "read-only %s: %s\n", dst, strerror(errno));
		return -1;
	}
	return 0;
}

static int child_err(const char *what, const char *path)
{
	fprintf(stderr, "%s %s: %s\n", what, path, strerror(errno));
	return -1;
}

/* A small /dev: the nodes dpkg and maintainer scripts use, never the host's disks. */
static int small_dev(const char *root)
{
	lj_autofree char *dev = xasprintf("%s/dev", root);
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=1m") < 0)
		return child_err("mount tmpfs on", dev);
	static const struct {
		const char *name;
		unsigned maj, min;
	} nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
	             {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
	mode_t old = umask(0);
	for (size_t i = 0; i < LJ_ARRAY_LEN(nodes); i++) {
		lj_autofree char *n = xasprintf("%s/%s", dev, nodes[i].name);
		if (mknod(n, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) < 0) {
			umask(old);
			return child_err("mknod", n);
		}
	}
	umask(old);
	lj_autofree char *fd = xasprintf("%s/fd", dev);
	if (symlink("/proc/self/fd", fd) < 0)
		return child_err("symlink", fd);
	return 0;
}

/* In the apt child: a private mount namespace (everything mounted here dies with it), the root
 * made the child's / by pivot_root (no chroot to climb out of), a small /dev, and a bounding
 * set without the capabilities that reach beyond a root folder: the packages' maintainer
 * scripts come from the jail's own root. */
static int apt_setup(void *arg)
{
	const struct apt_env *a = arg;
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return child_err("namespaces for", a->root);
	if (mount(a->root, a->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return child_err("bind", a->root);
	lj_autofree char *proc = xasprintf("%s/proc", a->root);
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return child_err("mount proc on", proc);
	lj_autofree char *arch = xasprintf("%s/apt/archives", a->cache);
	lj_autofree char *rc = xasprintf("%s/etc/resolv.conf", a->root);
	struct stat st;
	if (small_dev(a->root) < 0 || bind(arch, a->root, "var/cache/apt/archives", false) < 0 ||
	    (lstat(rc, &st) == 0 && S_ISREG(st.st_mode) &&
	     bind("/etc/resolv.conf", a->root, "etc/resolv.conf", true) < 0) ||
	    (a->host_apt && bind("/etc/apt", a->root, "etc/apt", true) < 0))
		return -1;
	if (chdir(a->root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return child_err("pivot_root to", a->root);
	static const int drop[] = {
	        CAP_SYS_ADMIN,     CAP_SYS_MODULE,        CAP_SYS_RAWIO,       CAP_SYS_PTRACE,
	        CAP_SYS_BOOT,      CAP_SYS_TIME,          CAP_DAC_READ_SEARCH, CAP_MAC_ADMIN,
	        CAP_MAC_OVERRIDE,  CAP_NET_ADMIN,         CAP_SYSLOG,          CAP_SYS_PACCT,
	        CAP_AUDIT_CONTROL, CAP_LINUX_IMMUTABLE,   CAP_SYS_CHROOT,      CAP_BPF,
	        CAP_PERFMON,       CAP_CHECKPOINT_RESTORE};
	for (size_t i = 0; i < LJ_ARRAY_LEN(drop); i++)
		if (prctl(PR_CAPBSET_DROP, drop[i], 0, 0, 0) < 0 && errno != EINVAL)
			return child_err("drop capability of", a->root);
	clearenv();
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("DEBIAN_FRONTEND", "noninteractive", 1);
	setenv("LC_ALL", "C", 1);
	setenv("HOME", "/root", 1);
	return 0;
}

/* The last "E:" line of a log (else its first line), for an error message. */
static char *log_cause(const char *log)
{
	lj_autofree char *text = NULL;
	if (lj_read_file(log, &text, NULL, NULL) < 0)
		return xstrdup("");
	const char *last = "";
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
		if (lj_startswith(l, "E:") || !*last)
			last = l;
	return xstrdup(last);
}

/* apt-get in root; its output goes to log when one is given (bootstrap's counted steps). */
static int apt_run(struct lj_pool *p, const char *root, bool host_apt, const char *verb,
                   const lj_strv *pkgs, const char *log, lj_err *e)
{
	lj_autofree char *cache = st_cache_dir(p);
	lj_autofree char *partial = xasprintf("%s/apt/archives/partial", cache);
	if (lj_mkdir_p(partial, 0755, e) < 0)
		return -1;
	lj_autofree char *aptget = xasprintf("%s/usr/bin/apt-get", root);
	if (access(aptget, X_OK) < 0)
		return lj_errorx(e, "%s: no apt-get in this root (not a Debian jail?)", root);
	/* packages are unpacked, never started, while the jail is not running */
	lj_autofree char *usbin0 = xasprintf("%s/usr/sbin", root);
	lj_autofree char *usbin = inside_root(root, usbin0);
	if (!usbin)
		return lj_errorx(e, "%s: /usr/sbin is missing or leads outside the root", root);
	lj_autofree char *prc = xasprintf("%s/policy-rc.d", usbin);
	bool made_prc = access(prc, F_OK) < 0 &&
	                write_file(usbin, "policy-rc.d", "#!/bin/sh\nexit 101\n", 0755, NULL) == 0;
	lj_strv a = {0};
	lj_strv_add(&a, "/bin/sh");
	lj_strv_add(&a, "-c");
	if (strcmp(verb, "install") == 0)
		lj_strv_add(&a, "apt-get -q update && apt-get -q -y --no-install-recommends "
		                "install \"$@\"");
	else
		lj_strv_addf(&a, "apt-get -q -y %s \"$@\"", verb);
	lj_strv_add(&a, "sh");
	for (size_t i = 0; i < pkgs->n; i++)
		lj_strv_add(&a, pkgs->v[i]);
	struct apt_env env = {.root = root, .cache = cache, .host_apt = host_apt};
	struct st_run_opts o = {.setup = apt_setup, .arg = &env, .log = log};
	if (log)
		unlink(log);
	int rc = st_run_ex(a.v, &o, e);
	lj_strv_free(&a);
	if (made_prc)
		unlink(prc);
	if (rc < 0 && log) {
		lj_autofree char *cause = log_cause(log);
		return lj_errorx(e, "apt-get %s failed (%s)%s%s", verb, log, *cause ? ": " : "",
		                 cause);
	}
	return rc < 0 ? lj_error_prefix(e, "apt-get %s", verb) : 0;
}

int lj_store_apt(struct lj_pool *p, const char *root, bool host_apt, const char *verb,
                 const lj_strv *pkgs, lj_err *e)
{
	return apt_run(p, root, host_apt, verb, pkgs, NULL, e);
}

/* ---- debootstrap --------------------------------------------------------------------------------
 */

static int private_ns(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		fprintf(stderr, "mount namespace: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

#define UNSAFE_IO "etc/dpkg/dpkg.cfg.d/00ljail-bootstrap-unsafe-io"

static int debian_root(struct lj_pool *p, const char *mp, const char *suite, lj_err *e)
{
	lj_autofree char *cache = st_cache_dir(p);
	lj_autofree char *dcache = xasprintf("%s/debootstrap", cache);
	if (lj_mkdir_p(dcache, 0755, e) < 0)
		return -1;
	lj_autofree char *log = xasprintf("%s/debootstrap.log", cache);
	unlink(log);
	/* dpkg's fsync per file is most of debootstrap's time on a fresh root nothing uses yet;
	 * the setting goes again when the template is complete */
	lj_autofree char *cfgd = xasprintf("%s/etc/dpkg/dpkg.cfg.d", mp);
	if (lj_mkdir_p(cfgd, 0755, e) < 0 ||
	    write_file(mp, UNSAFE_IO, "# ljail bootstrap only\nforce-unsafe-io\n", 0644, e) < 0)
		return -1;
	lj_autofree char *cachearg = xasprintf("--cache-dir=%s", dcache);
	/* no mirror argument: debootstrap's own default */
	char *argv[] = {"debootstrap", "--variant=minbase", cachearg,
	                (char *)suite, (char *)mp,          NULL};
	struct st_run_opts o = {.setup = private_ns, .log = log};
	if (st_run_ex(argv, &o, e) < 0) {
		lj_autofree char *cause = log_cause(log);
		return lj_errorx(e, "debootstrap %s failed (%s)%s%s", suite, log,
		                 *cause ? ": " : "", cause);
	}
	/* debootstrap leaves the packages it installed in the root; they live in the cache */
	lj_autofree char *arch = xasprintf("%s/var/cache/apt/archives", mp);
	DIR *d = opendir(arch);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (lj_endswith(de->d_name, ".deb"))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	return 0;
}

/* ---- the verb -----------------------------------------------------------------------------------
 */

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

int lj_store_bootstrap(struct lj_pool *p, const char *name, const struct lj_bootstrap *b, lj_err *e)
{
	if (lj_store_check_name(name, 0, e) < 0)
		return lj_error_prefix(e, "cannot bootstrap '%s'", name);
	const char *busybox = b->busybox ? b->busybox : getenv("LJAIL_BUSYBOX");
	if (!busybox || !*busybox)
		busybox = "/bin/busybox";
	if (!b->suite && access(busybox, X_OK) < 0)
		return lj_error(e, errno,
		                "cannot bootstrap '%s': %s (apt-get install busybox-static)", name,
		                busybox);
	int total = b->suite ? (b->with.n ? 4 : 3) : 3;
	/* remember which datasets this call makes, to remove exactly those on failure */
	lj_strv made = {0};
	lj_autofree char *mp = NULL; /* before the first goto: a jump may not skip its initialisation */
	for (const char *s = name; s;) {
		s = strchr(s, '/');
		lj_autofree char *prefix = s ? xstrndup(name, (size_t)(s - name)) : xstrdup(name);
		if (!lj_store_exists(p, prefix))
			lj_strv_add(&made, prefix);
		if (s)
			s++;
	}
	lj_autofree char *what = xasprintf("creating dataset %s", name);
	step(b, 1, total, what);
	if (made.n == 0) {
		lj_autofree char *mp0 = NULL;
		if (lj_store_mount(p, name, &mp0, e) < 0)
			goto fail_nomp;
		if (!dir_empty(mp0)) {
			lj_strv_free(&made);
			return lj_errorx(e, "cannot bootstrap '%s': dataset is not empty", name);
		}
	} else if (lj_store_create(p, name, LJ_STORE_PARENTS, e) < 0)
		goto fail;
	if (lj_store_mount(p, name, &mp, e) < 0)
		goto fail;
	int n = 2;
	if (b->suite) {
		lj_autofree char *w = xasprintf("debootstrap --variant=minbase %s", b->suite);
		step(b, n++, total, w);
		if (debian_root(p, mp, b->suite, e) < 0)
			goto fail;
		if (b->with.n) {
			lj_autofree char *list = lj_strv_join(&b->with, " ");
			lj_autofree char *w2 = xasprintf("apt-get install %s", list);
			step(b, n++, total, w2);
			lj_autofree char *cache = st_cache_dir(p);
			lj_autofree char *log = xasprintf("%s/apt-get.log", cache);
			if (apt_run(p, mp, false, "install", &b->with, log, e) < 0)
				goto fail;
		}
	} else {
		int napplets = 0;
		step(b, n++, total, "installing busybox and its applets");
		if (busybox_root(mp, busybox, &napplets, e) < 0)
			goto fail;
	}
	if (b->suite) {
		lj_autofree char *u = xasprintf("%s/%s", mp, UNSAFE_IO);
		if (unlink(u) < 0) {
			lj_error(e, errno, "%s", u);
			goto fail;
		}
	}
	step(b, n, total, "installing the jail userland (/etc/rc, sysrc, service)");
	if (lj_store_install_userland(mp, b, e) < 0)
		goto fail;
	lj_strv_free(&made);
	return 0;
fail:
	lj_error_prefix(e, "cannot bootstrap '%s'", name);
fail_nomp:;
	lj_err e2;
	if (made.n) {
		for (size_t i = made.n; i-- > 0;)
			lj_store_destroy(p, made.v[i], LJ_STORE_RECURSIVE, NULL, &e2);
	} else {
		lj_autofree char *mp2 = st_fs_path(p, name);
		lj_strv kids = {0};
		st_child_rels(p, name, &kids);
		st_rm_rf(mp2, true, &kids, &e2);
		lj_strv_free(&kids);
	}
	lj_strv_free(&made);
	return -1;
}
