/* A jail's group over cgroup v2 and v1, decided per controller from what the host mounted. */
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

/* ---- where the host keeps each controller ---------------------------------------------------- */

static const char *const v1_names[LJ_CG_NCTRL] = {"cpuset", "cpu",   "cpuacct", "memory",
                                                  "pids",   "blkio", "freezer"};
/* On cgroup2: the controller name in cgroup.controllers; NULL = part of the core (always there). */
static const char *const v2_names[LJ_CG_NCTRL] = {"cpuset", "cpu", NULL, "memory",
                                                  "pids",   "io",  NULL};

static struct {
	bool done;
	char *v2mnt;            /* the cgroup2 mount (root "/"), or NULL */
	char *mnt[LJ_CG_NCTRL]; /* the hierarchy each controller is on, or NULL */
	bool v2[LJ_CG_NCTRL];
} H;

/* mountinfo escapes blanks as \040 and friends. */
static char *unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static bool opt_has(const char *opts, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = opts; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\n')
			p++;
		size_t len = strcspn(p, " \n");
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}

void lj_cg_reset_detection(void)
{
	free(H.v2mnt);
	for (int c = 0; c < LJ_CG_NCTRL; c++)
		free(H.mnt[c]);
	memset(&H, 0, sizeof H);
}

/* Tests make a create fail halfway with LJAIL_FAIL_STEP=cgroup-create:N (after N hierarchies),
 * and take the path of kernels without cgroup.kill with LJAIL_FAIL_STEP=cgroup-no-kill-file. */
static bool fault_step(const char *step)
{
#if LJAIL_FAULT_INJECTION
	const char *f = getenv("LJAIL_FAIL_STEP");
	return f && strcmp(f, step) == 0;
#else
	(void)step;
	return false;
#endif
}

static void detect_v2_controllers(void);

static bool fault_after(size_t n)
{
	char step[48];
	snprintf(step, sizeof step, "cgroup-create:%zu", n);
	return fault_step(step);
}

/* The layouts systemd makes, told apart as systemd does (statfs), without the kernel generating
 * mountinfo (costly): /sys/fs/cgroup is cgroup2 (unified), or a tmpfs with cgroup2 at unified
 * (hybrid, or none: legacy) and a v1 hierarchy mounted at the folder of each controller (the
 * names of co-mounted ones are symlinks to one folder, "cpu,cpuacct": one hierarchy, one path).
 * False for anything else. */
static bool detect_fast(void)
{
	lj_autoclose int dfd = open("/sys/fs/cgroup", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sf;
	struct stat top;
	if (dfd < 0 || fstatfs(dfd, &sf) < 0)
		return false;
	if (sf.f_type == CGROUP2_SUPER_MAGIC) {
		H.v2mnt = xstrdup("/sys/fs/cgroup");
		return true;
	}
	if (sf.f_type != TMPFS_MAGIC || fstat(dfd, &top) < 0)
		return false;
	bool found = false;
	int ufd = openat(dfd, "unified", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ufd >= 0) {
		if (fstatfs(ufd, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
			H.v2mnt = xstrdup("/sys/fs/cgroup/unified");
			found = true;
		}
		close(ufd);
	}
	dev_t dev[LJ_CG_NCTRL];
	for (int c = 0; c < LJ_CG_NCTRL; c++) {
		struct stat st;
		dev[c] = 0;
		/* a mount point is a file system of its own; the folder of a controller nobody
		 * mounted (or a stray one on the tmpfs) is not */
		if (fstatat(dfd, v1_names[c], &st, 0) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_dev == top.st_dev)
			continue;
		dev[c] = st.st_dev;
		found = true;
		for (int k = 0; k < c && !H.mnt[c]; k++)
			if (dev[k] == st.st_dev)
				H.mnt[c] = xstrdup(H.mnt[k]);
		if (!H.mnt[c])
			H.mnt[c] = xasprintf("/sys/fs/cgroup/%s", v1_names[c]);
	}
	return found;
}

/* Where each controller is: the usual layouts by statfs, others (and the layouts tests describe
 * with a mountinfo file of their own, $LJAIL_CGROUP_MOUNTINFO) from mountinfo. */
static void detect(void)
{
	if (H.done)
		return;
	H.done = true;
	const char *mi = getenv("LJAIL_CGROUP_MOUNTINFO");
	if (!(mi && *mi) && detect_fast()) {
		detect_v2_controllers();
		return;
	}
	char *text = NULL;
	if (lj_read_file(mi && *mi ? mi : "/proc/self/mountinfo", &text, NULL, NULL) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *f[5] = {0};
		char *p = line;
		for (int i = 0; i < 5 && p; i++) {
			f[i] = p;
			p = strchr(p, ' ');
			if (p)
				*p++ = '\0';
		}
		char *dash = p ? strstr(p, " - ") : NULL;
		if (!f[4] || !dash)
			continue;
		if (strcmp(f[3], "/") != 0)
			continue; /* a bind of a subgroup: not a hierarchy root */
		char *fstype = dash + 3, *source = strchr(fstype, ' ');
		if (!source)
			continue;
		*source++ = '\0';
		char *super = strchr(source, ' ');
		super = super ? super + 1 : (char *)"";
		if (strcmp(fstype, "cgroup2") == 0 && !H.v2mnt)
			H.v2mnt = unescape(f[4]);
		else if (strcmp(fstype, "cgroup") == 0)
			for (int c = 0; c < LJ_CG_NCTRL; c++)
				if (!H.mnt[c] && opt_has(super, v1_names[c]))
					H.mnt[c] = unescape(f[4]);
	}
	free(text);
	detect_v2_controllers();
}

/* Controllers ljail can use on cgroup2 are the ones the root hands down to its children. */
static void detect_v2_controllers(void)
{
	char *subtree = NULL;
	/* a hybrid host with every controller on v1 has nothing to look up there */
	bool any = false;
	for (int c = 0; c < LJ_CG_NCTRL; c++)
		any |= !H.mnt[c] && v2_names[c];
	if (H.v2mnt && any) {
		lj_autofree char *p = xasprintf("%s/cgroup.subtree_control", H.v2mnt);
		if (lj_read_file(p, &subtree, NULL, NULL) < 0)
			subtree = xstrdup("");
	}
	for (int c = 0; c < LJ_CG_NCTRL; c++) {
		if (H.mnt[c] || !H.v2mnt)
			continue; /* bound to a v1 hierarchy, or no cgroup2 at all */
		if (!v2_names[c] || word_in(subtree, v2_names[c])) {
			H.mnt[c] = xstrdup(H.v2mnt);
			H.v2[c] = true;
		}
	}
	/* cpuacct on v2 rides on cpu.stat, which the core provides; freezer on cgroup.freeze. */
	free(subtree);
}

const char *lj_cg_root_name(void)
{
	const char *r = getenv("LJAIL_CGROUP_ROOT");
	return r && *r ? r : "ljail";
}

static int check_name(const char *name, lj_err *e)
{
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strlen(name) > 200)
		return lj_errorx(e, "invalid jail name for a cgroup: \"%s\"", name ? name : "");
	const char *root = lj_cg_root_name();
	if (strchr(root, '/') || strcmp(root, ".") == 0 || strcmp(root, "..") == 0)
		return lj_errorx(e, "invalid LJAIL_CGROUP_ROOT \"%s\"", root);
	return 0;
}

/* The distinct hierarchies ljail uses: cgroup2 first, then every v1 mount once. */
static void hierarchies(lj_strv *out)
{
	if (H.v2mnt)
		lj_strv_add(out, H.v2mnt);
	for (int c = 0; c < LJ_CG_NCTRL; c++)
		if (H.mnt[c] && !lj_strv_contains(out, H.mnt[c]))
			lj_strv_add(out, H.mnt[c]);
}

/* A lazily made group (lj_cg_create_lazy) carries this extended attribute on its cgroup2
 * directory until it gets its first v1 group (need() takes it off first): where it is, the v1
 * hierarchies need no look (a stat in each) to find the group's directories. A group without it
 * (made before it existed, on a cgroup2 without user xattrs, or with v1 groups) is looked for. */
#define NO_V1_MARK "user.ljail.nov1"

static bool no_v1_groups(const struct lj_cg *cg)
{
	char v[4];
	return cg->v2fd >= 0 && fgetxattr(cg->v2fd, NO_V1_MARK, v, sizeof v) >= 0;
}

/* The jail's directories that exist in the hierarchies hs[from..]. Looked up relative to the
 * folder the hierarchies are mounted in when they share one (/sys/fs/cgroup): the path walk
 * through sysfs to it costs more than the look-ups below it. */
static void existing_dirs(const lj_strv *hs, size_t from, const char *name, lj_strv *out)
{
	const char *root = lj_cg_root_name();
	size_t plen = 0;
	for (size_t i = from; i < hs->n; i++) {
		const char *sl = strrchr(hs->v[i], '/');
		size_t n = sl ? (size_t)(sl - hs->v[i]) : 0;
		if (i == from)
			plen = n;
		else if (n != plen || strncmp(hs->v[i], hs->v[from], n) != 0)
			plen = 0;
	}
	int dfd = -1;
	if (plen > 0 && hs->n - from > 1) {
		lj_autofree char *parent = xstrndup(hs->v[from], plen);
		dfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	for (size_t i = from; i < hs->n; i++) {
		char *dir = xasprintf("%s/%s/%s", hs->v[i], root, name);
		struct stat st;
		int r = dfd >= 0 ? fstatat(dfd, dir + plen + 1, &st, 0) : stat(dir, &st);
		if (r == 0 && S_ISDIR(st.st_mode))
			lj_strv_push(out, dir);
		else
			free(dir);
	}
	if (dfd >= 0)
		close(dfd);
}

static bool is_cpuset_v1(const char *mnt)
{
	return H.mnt[LJ_CG_CPUSET] && !H.v2[LJ_CG_CPUSET] && strcmp(mnt, H.mnt[LJ_CG_CPUSET]) == 0;
}

/* One write per value, as cgroupfs wants it. */
static int cg_write(const char *path, const char *s, lj_err *e)
{
	return lj_write_str(path, s, e);
}

static char *read_trim(const char *path)
{
	char *s = NULL;
	if (lj_read_file(path, &s, NULL, NULL) < 0)
		return NULL;
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
	return s;
}

static int read_u64_file(const char *path, uint64_t *v, lj_err *e)
{
	lj_autofree char *s = read_trim(path);
	if (!s)
		return lj_error(e, errno, "%s", path);
	char *end;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s)
		return lj_errorx(e, "%s: not a number: \"%s\"", path, s);
	return 0;
}

/* v1 cpuset: a new group has empty cpus and mems and refuses tasks until they are set. */
static int cpuset_inherit(const char *dir, lj_err *e)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	lj_autofree char *parent = xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	for (size_t i = 0; i < LJ_ARRAY_LEN(files); i++) {
		lj_autofree char *mine = xasprintf("%s/%s", dir, files[i]);
		lj_autofree char *cur = read_trim(mine);
		if (cur && *cur)
			continue;
		lj_autofree char *pp = xasprintf("%s/%s", parent, files[i]);
		lj_autofree char *val = read_trim(pp);
		if (!val)
			return lj_error(e, errno, "%s", pp);
		if (cg_write(mine, *val ? val : "\n", e) < 0)
			return -1;
	}
	return 0;
}

/* cgroup2 with controllers: the root group hands them to the jails below it. */
static int v2_enable(const char *rootdir, lj_err *e)
{
	lj_buf b = {0};
	for (int c = 0; c < LJ_CG_NCTRL; c++)
		if (H.v2[c] && v2_names[c] && !strstr(lj_buf_str(&b), v2_names[c]))
			lj_buf_addf(&b, "%s+%s", b.len ? " " : "", v2_names[c]);
	int r = 0;
	if (b.len) {
		lj_autofree char *p = xasprintf("%s/cgroup.subtree_control", rootdir);
		r = cg_write(p, lj_buf_str(&b), e);
	}
	lj_buf_free(&b);
	return r;
}

static void fill_dirs(struct lj_cg *cg)
{
	const char *root = lj_cg_root_name();
	if (H.v2mnt)
		cg->v2dir = xasprintf("%s/%s/%s", H.v2mnt, root, cg->name);
	for (int c = 0; c < LJ_CG_NCTRL; c++) {
		if (!H.mnt[c])
			continue;
		cg->dir[c] = xasprintf("%s/%s/%s", H.mnt[c], root, cg->name);
		cg->v2[c] = H.v2[c];
	}
}

static struct lj_cg *cg_new(const char *name)
{
	struct lj_cg *cg = xcalloc(1, sizeof *cg);
	cg->name = xstrdup(name);
	cg->v2fd = -1;
	fill_dirs(cg);
	return cg;
}

void lj_cg_free(struct lj_cg *cg)
{
	if (!cg)
		return;
	if (cg->v2fd >= 0)
		close(cg->v2fd);
	for (int c = 0; c < LJ_CG_NCTRL; c++)
		free(cg->dir[c]);
	free(cg->v2dir);
	free(cg->name);
	lj_strv_free(&cg->made);
	free(cg);
}

/* Pids listed in one directory's cgroup.procs and in every group below it. */
static void collect_procs(const char *dir, pid_t **pids, size_t *n, size_t *cap)
{
	lj_autofree char *p = xasprintf("%s/cgroup.procs", dir);
	lj_autofree char *text = NULL;
	if (lj_read_file(p, &text, NULL, NULL) == 0) {
		for (char *s = text; *s;) {
			char *end;
			long v = strtol(s, &end, 10);
			if (end == s)
				break;
			if (v > 0) {
				if (*n == *cap) {
					*cap = *cap ? *cap * 2 : 16;
					*pids = xrealloc(*pids, *cap * sizeof **pids);
				}
				(*pids)[(*n)++] = (pid_t)v;
			}
			s = end;
			while (*s == '\n')
				s++;
		}
	}
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		lj_autofree char *sub = xasprintf("%s/%s", dir, de->d_name);
		collect_procs(sub, pids, n, cap);
	}
	closedir(d);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int lj_cg_pids(const struct lj_cg *cg, pid_t **pids, size_t *n, lj_err *e)
{
	(void)e;
	size_t cap = 0;
	*pids = NULL;
	*n = 0;
	for (size_t i = 0; i < cg->made.n; i++)
		collect_procs(cg->made.v[i], pids, n, &cap);
	if (*n)
		qsort(*pids, *n, sizeof **pids, cmp_pid);
	size_t w = 0;
	for (size_t i = 0; i < *n; i++)
		if (w == 0 || (*pids)[w - 1] != (*pids)[i])
			(*pids)[w++] = (*pids)[i];
	*n = w;
	return 0;
}

int lj_cg_populated(const struct lj_cg *cg, bool *populated, lj_err *e)
{
	*populated = false;
	if (cg->v2dir) {
		/* every process of the jail is in its cgroup2 group (lj_cg_attach and clone3 put
		 * it there), and "populated" counts the groups below it too; read through the
		 * group's descriptor where there is one (no path walk through sysfs) */
		int fd = cg->v2fd >= 0 ? openat(cg->v2fd, "cgroup.events", O_RDONLY | O_CLOEXEC)
		                       : -1;
		if (fd < 0) {
			lj_autofree char *p = xasprintf("%s/cgroup.events", cg->v2dir);
			fd = open(p, O_RDONLY | O_CLOEXEC);
		}
		char ev[256];
		ssize_t n = fd >= 0 ? read(fd, ev, sizeof ev - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			ev[n] = '\0';
			if (strstr(ev, "populated ")) {
				*populated = strstr(ev, "populated 1") != NULL;
				return 0;
			}
		}
	}
	pid_t *pids;
	size_t n;
	if (lj_cg_pids(cg, &pids, &n, e) < 0)
		return -1;
	free(pids);
	*populated = n > 0;
	return 0;
}

/* Remove a directory of the group and any group the jail made below it, deepest first. */
static int rmdir_tree(const char *dir, lj_err *e)
{
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0; /* the usual case: no group below it */
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return lj_error(e, errno, "%s", dir);
	}
	struct dirent *de;
	int r = 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		lj_autofree char *sub = xasprintf("%s/%s", dir, de->d_name);
		if (rmdir_tree(sub, e) < 0)
			r = -1;
	}
	closedir(d);
	if (r < 0)
		return -1;
	/* The kernel drops an exited task from the group a moment after it is reaped. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return lj_error(e, errno, "rmdir %s", dir);
}

/* A group left by a crash (by a jail of the same name): removed, so that none of its limits
 * carry over to the new jail; refused when processes live in it. Nothing there: nothing to do. */
static int clear_leftover(const char *dir, lj_err *e)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return 0;
	struct lj_cg probe = {.made = {0}};
	lj_strv_add(&probe.made, dir);
	pid_t *pids;
	size_t n;
	lj_cg_pids(&probe, &pids, &n, NULL);
	free(pids);
	lj_strv_free(&probe.made);
	if (n)
		return lj_error(e, EBUSY, "cgroup %s already has processes", dir);
	return rmdir_tree(dir, e);
}

static int create(const char *name, bool lazy, struct lj_cg **out, lj_err *e)
{
	if (check_name(name, e) < 0)
		return -1;
	detect();
	lj_strv hs = {0};
	hierarchies(&hs);
	/* Lazy only where cgroup2 can hold the processes: it is where the jail's processes are
	 * counted and killed, and where the v1 groups made later find them. */
	lazy = lazy && H.v2mnt;
	/* lazy: cgroup2 only (it comes first); the v1 leftovers wait for lj_cg_sweep_v1 */
	while (lazy && hs.n > 1)
		free(hs.v[--hs.n]);
	if (hs.n == 0) {
		lj_strv_free(&hs);
		return lj_errorx(e, "no cgroup hierarchy is mounted (see /proc/self/mountinfo)");
	}
	struct lj_cg *cg = cg_new(name);
	cg->v1_unswept = lazy;
	const char *root = lj_cg_root_name();
	lj_strv roots_made = {0};
	size_t i;
	for (i = 0; i < hs.n; i++) {
		const char *mnt = hs.v[i];
		lj_autofree char *rootdir = xasprintf("%s/%s", mnt, root);
		lj_autofree char *dir = xasprintf("%s/%s", rootdir, name);
		int tries = 0;
	again:
		if (mkdir(rootdir, 0755) == 0)
			lj_strv_add(&roots_made, rootdir);
		else if (errno != EEXIST) {
			lj_error(e, errno, "mkdir %s", rootdir);
			goto fail;
		}
		if (is_cpuset_v1(mnt) && cpuset_inherit(rootdir, e) < 0)
			goto fail;
		if (H.v2mnt && strcmp(mnt, H.v2mnt) == 0 && v2_enable(rootdir, e) < 0)
			goto fail;
		if (mkdir(dir, 0755) < 0) {
			if (errno == ENOENT && ++tries < 5)
				goto again; /* a destroy removed the empty root group meanwhile */
			if (errno != EEXIST) {
				lj_error(e, errno, "mkdir %s", dir);
				goto fail;
			}
			/* A leftover of a crash is replaced, so that none of its limits carry over
			 * to the new jail; one that processes still live in is refused. */
			if (clear_leftover(dir, e) < 0)
				goto fail;
			if (mkdir(dir, 0755) < 0) {
				lj_error(e, errno, "mkdir %s", dir);
				goto fail;
			}
		}
		lj_strv_add(&cg->made, dir);
		if (is_cpuset_v1(mnt) && cpuset_inherit(dir, e) < 0)
			goto fail;
		if (fault_after(i + 1)) {
			lj_errorx(e, "failed after %zu hierarchies (LJAIL_FAIL_STEP)", i + 1);
			goto fail;
		}
	}
	if (cg->v2dir) {
		cg->v2fd = open(cg->v2dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (cg->v2fd < 0) {
			lj_error(e, errno, "%s", cg->v2dir);
			goto fail;
		}
		if (lazy) /* no v1 group yet (without the mark, readers look) */
			fsetxattr(cg->v2fd, NO_V1_MARK, "1", 1, 0);
	}
	lj_strv_free(&hs);
	lj_strv_free(&roots_made);
	*out = cg;
	return 0;
fail:
	for (size_t k = cg->made.n; k-- > 0;)
		rmdir(cg->made.v[k]);
	for (size_t k = roots_made.n; k-- > 0;)
		rmdir(roots_made.v[k]);
	lj_strv_free(&hs);
	lj_strv_free(&roots_made);
	lj_cg_free(cg);
	return lj_error_prefix(e, "cgroup for jail \"%s\"", name);
}

int lj_cg_create(const char *name, struct lj_cg **out, lj_err *e)
{
	return create(name, false, out, e);
}

int lj_cg_create_lazy(const char *name, struct lj_cg **out, lj_err *e)
{
	return create(name, true, out, e);
}

int lj_cg_sweep_v1(struct lj_cg *cg, lj_err *e)
{
	if (!cg->v1_unswept)
		return 0;
	lj_strv hs = {0}, left = {0};
	hierarchies(&hs);
	existing_dirs(&hs, 1, cg->name, &left);
	lj_strv_free(&hs);
	for (size_t k = 0; k < left.n; k++) {
		if (clear_leftover(left.v[k], e) < 0) {
			lj_strv_free(&left);
			return lj_error_prefix(e, "cgroup for jail \"%s\"", cg->name);
		}
		*strrchr(left.v[k], '/') = '\0';
		rmdir(left.v[k]); /* the root group too, where no other jail is */
	}
	lj_strv_free(&left);
	cg->v1_unswept = false;
	return 0;
}

int lj_cg_open(const char *name, struct lj_cg **out, lj_err *e)
{
	if (check_name(name, e) < 0)
		return -1;
	detect();
	struct lj_cg *cg = cg_new(name);
	/* With cgroup2 the jail's group is its cgroup2 directory, where every process of the jail
	 * is: without it there is no group (v1 ones left without it by a crash are cleared by the
	 * next create), and the v1 hierarchies need no look. */
	if (cg->v2dir) {
		cg->v2fd = open(cg->v2dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (cg->v2fd < 0) {
			int err = errno;
			lj_cg_free(cg);
			return lj_error(e, err, "jail \"%s\" has no cgroup", name);
		}
		lj_strv_add(&cg->made, cg->v2dir);
	}
	lj_strv hs = {0};
	hierarchies(&hs);
	if (!no_v1_groups(cg))
		existing_dirs(&hs, cg->v2dir ? 1 : 0, name, &cg->made);
	lj_strv_free(&hs);
	if (cg->made.n == 0) {
		lj_cg_free(cg);
		return lj_error(e, ENOENT, "jail \"%s\" has no cgroup", name);
	}
	/* A controller whose directory is not there keeps its dir: the group is made when a limit
	 * needs it (see need()); readers treat it as "no limit, nothing counted there". */
	*out = cg;
	return 0;
}

int lj_cg_attach(const struct lj_cg *cg, pid_t pid, lj_err *e)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%d", pid ? (int)pid : (int)getpid());
	for (size_t i = 0; i < cg->made.n; i++) {
		lj_autofree char *p = xasprintf("%s/cgroup.procs", cg->made.v[i]);
		if (cg_write(p, buf, e) < 0)
			return lj_error_prefix(e, "attach %s to the cgroup of jail \"%s\"", buf,
			                       cg->name);
	}
	return 0;
}

int lj_cg_attach_v1(const struct lj_cg *cg, pid_t pid, lj_err *e)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%d", pid ? (int)pid : (int)getpid());
	for (size_t i = 0; i < cg->made.n; i++) {
		if (cg->v2dir && strcmp(cg->made.v[i], cg->v2dir) == 0)
			continue;
		lj_autofree char *p = xasprintf("%s/cgroup.procs", cg->made.v[i]);
		if (cg_write(p, buf, e) < 0)
			return lj_error_prefix(e, "attach %s to the cgroup of jail \"%s\"", buf,
			                       cg->name);
	}
	return 0;
}

/* The controller's group exists (made at create, or by need()). */
static bool has(const struct lj_cg *cg, enum lj_cg_ctrl c)
{
	return cg->dir[c] && lj_strv_contains(&cg->made, cg->dir[c]);
}

/* Make the group of controller c where it is missing (a lazy create leaves v1 groups for later)
 * and move every process of the jail into it, again until no process is left outside: a process
 * forked meanwhile by one that was not moved yet starts outside. */
static int need(struct lj_cg *cg, enum lj_cg_ctrl c, lj_err *e)
{
	if (!cg->dir[c])
		return lj_errorx(e, "no %s hierarchy", v1_names[c]);
	if (has(cg, c))
		return 0;
	detect();
	const char *dir = cg->dir[c];
	lj_autofree char *rootdir = xstrdup(dir);
	*strrchr(rootdir, '/') = '\0';
	bool cpuset = c == LJ_CG_CPUSET && !cg->v2[c];
	/* Before anything is made (a failure leaves no root group behind): a crash's leftover must
	 * not become this group with its old limits, and the mark goes before the group is there,
	 * so that a reader never misses the group. */
	if (lj_cg_sweep_v1(cg, e) < 0)
		return -1;
	if (cg->v2fd >= 0 && fremovexattr(cg->v2fd, NO_V1_MARK) < 0 && errno != ENODATA &&
	    errno != EOPNOTSUPP)
		return lj_error(e, errno, "%s: remove %s", cg->v2dir, NO_V1_MARK);
	int tries = 0;
again:
	if (mkdir(rootdir, 0755) < 0 && errno != EEXIST)
		return lj_error(e, errno, "mkdir %s", rootdir);
	if (cpuset && cpuset_inherit(rootdir, e) < 0)
		return -1;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		if (errno == ENOENT && ++tries < 5)
			goto again; /* another jail's destroy removed the empty root group meanwhile
			             */
		lj_error(e, errno, "mkdir %s", dir);
		rmdir(rootdir); /* fails while another jail is in it */
		return -1;
	}
	if (cpuset && cpuset_inherit(dir, e) < 0)
		return -1;
	/* the processes: every group made so far, before this one joins the list */
	lj_autofree char *procs = xasprintf("%s/cgroup.procs", dir);
	for (int round = 0; round < 100; round++) {
		pid_t *all = NULL, *in = NULL;
		size_t n = 0, nin = 0, cap = 0, capin = 0, moved = 0;
		for (size_t i = 0; i < cg->made.n; i++)
			collect_procs(cg->made.v[i], &all, &n, &cap);
		collect_procs(dir, &in, &nin, &capin);
		int r = 0;
		for (size_t i = 0; i < n && r == 0; i++) {
			bool inside = false;
			for (size_t k = 0; k < nin && !inside; k++)
				inside = in[k] == all[i];
			if (inside)
				continue;
			char buf[24];
			snprintf(buf, sizeof buf, "%d", (int)all[i]);
			lj_err one;
			if (cg_write(procs, buf, &one) == 0)
				moved++;
			else if (one.errnum != ESRCH) { /* gone meanwhile: fine */
				if (e)
					*e = one;
				r = -1;
			}
		}
		free(all);
		free(in);
		if (r < 0)
			return lj_error_prefix(e, "cgroup of jail \"%s\"", cg->name);
		if (moved == 0) {
			lj_strv_add(&cg->made, dir);
			return 0;
		}
	}
	return lj_error(e, EAGAIN, "cgroup of jail \"%s\": processes keep appearing", cg->name);
}

int lj_cg_v2_fd(const struct lj_cg *cg)
{
	return cg->v2fd;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int freeze(const struct lj_cg *cg, bool on)
{
	const char *dir = cg->dir[LJ_CG_FREEZER];
	bool v2 = cg->v2[LJ_CG_FREEZER];
	if (!has(cg, LJ_CG_FREEZER)) { /* no v1 freezer group (lazy): cgroup2's core freezer */
		dir = cg->v2dir;
		v2 = true;
	}
	if (!dir)
		return -1;
	if (v2) {
		lj_autofree char *p = xasprintf("%s/cgroup.freeze", dir);
		return cg_write(p, on ? "1" : "0", NULL);
	}
	lj_autofree char *p = xasprintf("%s/freezer.state", dir);
	if (cg_write(p, on ? "FROZEN" : "THAWED", NULL) < 0)
		return -1;
	/* FREEZING means some task has not stopped yet: wait a little for it. */
	for (int i = 0; on && i < 50; i++) {
		lj_autofree char *st = read_trim(p);
		if (!st || strcmp(st, "FROZEN") == 0)
			break;
		sleep_ms(2);
	}
	return 0;
}

int lj_cg_kill(const struct lj_cg *cg, int sig, lj_err *e)
{
	pid_t *pids = NULL;
	size_t n = 0;
	if (sig != SIGKILL) {
		lj_cg_pids(cg, &pids, &n, e);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], sig);
		free(pids);
		return 0;
	}
	if (cg->v2dir && !fault_step("cgroup-no-kill-file")) {
		lj_autofree char *p = xasprintf("%s/cgroup.kill", cg->v2dir);
		cg_write(p, "1", NULL); /* >= 5.14; the loop below covers older kernels */
	}
	for (int round = 0; round < 200; round++) {
		lj_cg_pids(cg, &pids, &n, e);
		free(pids);
		if (n == 0)
			return 0;
		/* Frozen, no process can fork a new one between reading the list and the kill. */
		bool frozen = freeze(cg, true) == 0;
		lj_cg_pids(cg, &pids, &n, e);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
		if (frozen)
			freeze(cg, false);
		sleep_ms(10);
	}
	return lj_error(e, EBUSY, "processes of jail \"%s\" survived SIGKILL", cg->name);
}

/* Groups made since cg was opened (lazily, by another lj_cg object or process) join made. */
static void refresh_made(struct lj_cg *cg)
{
	if (no_v1_groups(cg))
		return;
	lj_strv hs = {0}, found = {0};
	hierarchies(&hs);
	/* cgroup2's directory is known (made with the group, or the group has none) */
	existing_dirs(&hs, cg->v2dir && lj_strv_contains(&cg->made, cg->v2dir) ? 1 : 0, cg->name,
	              &found);
	for (size_t i = 0; i < found.n; i++)
		if (!lj_strv_contains(&cg->made, found.v[i]))
			lj_strv_add(&cg->made, found.v[i]);
	lj_strv_free(&found);
	lj_strv_free(&hs);
}

int lj_cg_destroy(struct lj_cg *cg, lj_err *e)
{
	refresh_made(cg);
	pid_t *pids = NULL;
	size_t n = 0;
	bool pop = true;
	if (lj_cg_populated(cg, &pop, NULL) < 0 || pop)
		lj_cg_pids(cg, &pids, &n, e);
	free(pids);
	if (n)
		return lj_error(e, EBUSY, "cgroup of jail \"%s\" still has %zu process%s", cg->name,
		                n, n == 1 ? "" : "es");
	if (cg->v2fd >= 0) {
		close(cg->v2fd);
		cg->v2fd = -1;
	}
	for (size_t k = cg->made.n; k-- > 0;)
		if (rmdir_tree(cg->made.v[k], e) < 0)
			return lj_error_prefix(e, "cgroup of jail \"%s\"", cg->name);
	/* The v1 root groups the jail was in, where no other jail is (made for limits, they go
	 * with their last jail). The cgroup2 one, where every jail is, stays, as LXC's and
	 * systemd's do: making and removing it cost a lone jail's create and remove ~110 µs. */
	for (size_t k = 0; k < cg->made.n; k++) {
		if (cg->v2dir && !strcmp(cg->made.v[k], cg->v2dir))
			continue;
		*strrchr(cg->made.v[k], '/') = '\0';
		rmdir(cg->made.v[k]);
	}
	lj_cg_free(cg);
	return 0;
}

/* ---- cpuset ---------------------------------------------------------------------------------- */

int lj_cpulist_parse(const char *s, cpu_set_t *set, lj_err *e)
{
	CPU_ZERO(set);
	if (strcmp(s, "all") == 0)
		return lj_cpus_online(set, e);
	const char *p = s;
	if (!*p)
		return lj_error(e, 0, "Malformed list %s", s);
	for (;;) {
		if (*p < '0' || *p > '9')
			return lj_errorx(e, "Malformed list %s", s);
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return lj_errorx(e, "Malformed list %s", s);
			b = strtoul(p, &end, 10);
			p = end;
			if (b < a)
				return lj_errorx(e, "Malformed list %s", s);
		}
		if (b >= CPU_SETSIZE)
			return lj_errorx(e, "List entry %lu exceeds maximum of %d", b, CPU_SETSIZE);
		for (unsigned long c = a; c <= b; c++)
			CPU_SET(c, set);
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return lj_errorx(e, "Malformed list %s", s);
		p++;
	}
}

char *lj_cpulist_format(const cpu_set_t *set, const char *sep)
{
	lj_buf b = {0};
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, set))
			continue;
		if (sep) {
			lj_buf_addf(&b, "%s%d", b.len ? sep : "", c);
			continue;
		}
		int last = c;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		if (last == c)
			lj_buf_addf(&b, "%s%d", b.len ? "," : "", c);
		else
			lj_buf_addf(&b, "%s%d-%d", b.len ? "," : "", c, last);
		c = last;
	}
	return b.s ? lj_buf_steal(&b) : xstrdup("");
}

/* Kernel lists ("0-3,5\n"), as in cpuset.cpus and /sys/devices/system/cpu/online. */
static int parse_kernel_list(const char *path, cpu_set_t *set, lj_err *e)
{
	lj_autofree char *s = read_trim(path);
	if (!s)
		return lj_error(e, errno, "%s", path);
	CPU_ZERO(set);
	if (!*s)
		return 0;
	return lj_cpulist_parse(s, set, e) < 0 ? lj_error_prefix(e, "%s", path) : 0;
}

int lj_cpus_online(cpu_set_t *set, lj_err *e)
{
	return parse_kernel_list("/sys/devices/system/cpu/online", set, e);
}

int lj_affinity_set_pid(pid_t pid, const cpu_set_t *set, lj_err *e)
{
	/* Affinity is per thread and a new thread copies its creator's: repeat until a pass finds
	 * no thread it has not already set. */
	lj_strv done = {0};
	int r = 0;
	for (int pass = 0; pass < 20; pass++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
		DIR *d = opendir(path);
		if (!d) {
			r = pass == 0 ? lj_error(e, errno == ENOENT ? ESRCH : errno, "setaffinity")
			              : 0;
			break;
		}
		bool fresh = false;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || lj_strv_contains(&done, de->d_name))
				continue;
			fresh = true;
			lj_strv_add(&done, de->d_name);
			if (sched_setaffinity(atoi(de->d_name), sizeof *set, set) < 0 &&
			    errno != ESRCH) {
				r = lj_error(e, errno, "setaffinity");
				break;
			}
		}
		closedir(d);
		if (r < 0 || !fresh)
			break;
	}
	lj_strv_free(&done);
	return r;
}

int lj_cg_set_cpus(struct lj_cg *cg, const cpu_set_t *set, lj_err *e)
{
	cpu_set_t online;
	if (lj_cpus_online(&online, e) < 0)
		return -1;
	cpu_set_t extra;
	CPU_OR(&extra, set, &online);
	if (CPU_COUNT(set) == 0 || !CPU_EQUAL(&extra, &online))
		return lj_error(e, EINVAL, "setaffinity");
	const char *dir = cg->dir[LJ_CG_CPUSET];
	if (dir && need(cg, LJ_CG_CPUSET, e) < 0)
		return -1;
	if (dir) {
		lj_autofree char *list = lj_cpulist_format(set, NULL);
		lj_autofree char *p = xasprintf("%s/cpuset.cpus", dir);
		/* The parent (the root group) may hold fewer CPUs than are online. */
		lj_autofree char *parent = xstrdup(dir);
		*strrchr(parent, '/') = '\0';
		lj_autofree char *pp =
		        xasprintf("%s/%s", parent,
		                  cg->v2[LJ_CG_CPUSET] ? "cpuset.cpus.effective" : "cpuset.cpus");
		cpu_set_t pset;
		if (parse_kernel_list(pp, &pset, NULL) == 0 && CPU_COUNT(&pset)) {
			CPU_OR(&extra, set, &pset);
			if (!CPU_EQUAL(&extra, &pset))
				return lj_error(e, EINVAL, "setaffinity");
		}
		if (cg_write(p, list, e) < 0)
			return -1;
	}
	pid_t *pids;
	size_t n;
	if (lj_cg_pids(cg, &pids, &n, e) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		lj_err one;
		if (lj_affinity_set_pid(pids[i], set, &one) < 0 && one.errnum != ESRCH) {
			if (e)
				*e = one;
			r = -1;
		}
	}
	free(pids);
	return r;
}

int lj_cg_get_cpus(const struct lj_cg *cg, cpu_set_t *set, lj_err *e)
{
	const char *dir = cg->dir[LJ_CG_CPUSET];
	if (!has(cg, LJ_CG_CPUSET)) /* never pinned: what the host has */
		return lj_cpus_online(set, e);
	lj_autofree char *p =
	        xasprintf("%s/%s", dir,
	                  cg->v2[LJ_CG_CPUSET] ? "cpuset.cpus.effective" : "cpuset.effective_cpus");
	if (access(p, R_OK) < 0) {
		free(p);
		p = xasprintf("%s/cpuset.cpus", dir);
	}
	return parse_kernel_list(p, set, e);
}

int lj_cg_get_mems(const struct lj_cg *cg, cpu_set_t *nodes, lj_err *e)
{
	const char *dir = cg->dir[LJ_CG_CPUSET];
	if (!has(cg, LJ_CG_CPUSET)) {
		if (access("/sys/devices/system/node/online", R_OK) == 0)
			return parse_kernel_list("/sys/devices/system/node/online", nodes, e);
		CPU_ZERO(nodes);
		CPU_SET(0, nodes);
		return 0;
	}
	lj_autofree char *p =
	        xasprintf("%s/%s", dir,
	                  cg->v2[LJ_CG_CPUSET] ? "cpuset.mems.effective" : "cpuset.effective_mems");
	if (access(p, R_OK) < 0) {
		free(p);
		p = xasprintf("%s/cpuset.mems", dir);
	}
	return parse_kernel_list(p, nodes, e);
}

/* ---- limits ---------------------------------------------------------------------------------- */

static const char *const limit_ctrl_name[LJ_CGL_N] = {"memory", "memory", "pids", "cpu",
                                                      "io",     "io",     "io",   "io"};
static const enum lj_cg_ctrl limit_ctrl[LJ_CGL_N] = {
        LJ_CG_MEMORY, LJ_CG_MEMORY, LJ_CG_PIDS, LJ_CG_CPU, LJ_CG_IO, LJ_CG_IO, LJ_CG_IO, LJ_CG_IO};

/* v1 reports "no limit" as a huge page-aligned number. */
#define V1_UNLIMITED (INT64_C(1) << 62)

static int64_t parse_limit(const char *s)
{
	if (!s || strcmp(s, "max") == 0 || strcmp(s, "-1") == 0)
		return LJ_CG_UNLIMITED;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s || v < 0 || v >= V1_UNLIMITED)
		return LJ_CG_UNLIMITED;
	return v;
}

static int write_limit(const char *dir, const char *file, int64_t v, const char *none, lj_err *e)
{
	lj_autofree char *p = xasprintf("%s/%s", dir, file);
	char buf[32];
	if (v < 0)
		snprintf(buf, sizeof buf, "%s", none);
	else
		snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cg_write(p, buf, e);
}

static int64_t read_limit(const char *dir, const char *file)
{
	lj_autofree char *p = xasprintf("%s/%s", dir, file);
	lj_autofree char *s = read_trim(p);
	return parse_limit(s);
}

/* Whole disks: io limits refuse partitions, so the jail's limit applies on each disk. */
static void whole_disks(lj_strv *out)
{
	DIR *d = opendir("/sys/block");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		lj_autofree char *p = xasprintf("/sys/block/%s/dev", de->d_name);
		char *dev = read_trim(p);
		if (dev && *dev)
			lj_strv_push(out, dev);
		else
			free(dev);
	}
	closedir(d);
}

static const char *const io_v1_file[4] = {
        "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
static const char *const io_v2_key[4] = {"rbps", "wbps", "riops", "wiops"};

static int set_io(const struct lj_cg *cg, int which, int64_t v, lj_err *e)
{
	const char *dir = cg->dir[LJ_CG_IO];
	lj_strv disks = {0};
	whole_disks(&disks);
	lj_autofree char *p = cg->v2[LJ_CG_IO] ? xasprintf("%s/io.max", dir)
	                                       : xasprintf("%s/%s", dir, io_v1_file[which]);
	size_t ok = 0;
	lj_err first = {0};
	for (size_t i = 0; i < disks.n; i++) {
		char buf[96];
		if (cg->v2[LJ_CG_IO]) {
			if (v < 0)
				snprintf(buf, sizeof buf, "%s %s=max", disks.v[i],
				         io_v2_key[which]);
			else
				snprintf(buf, sizeof buf, "%s %s=%lld", disks.v[i],
				         io_v2_key[which], (long long)v);
		} else
			snprintf(buf, sizeof buf, "%s %lld", disks.v[i],
			         v < 0 ? 0LL : (long long)v);
		lj_err one;
		if (cg_write(p, buf, &one) == 0)
			ok++;
		else if (!first.msg[0])
			first = one;
	}
	lj_strv_free(&disks);
	/* Some block devices (virtual ones) take no throttling; one disk that does is enough. */
	if (ok == 0 && first.msg[0]) {
		if (e)
			*e = first;
		return -1;
	}
	return 0;
}

static int64_t get_io(const struct lj_cg *cg, int which)
{
	const char *dir = cg->dir[LJ_CG_IO];
	lj_autofree char *p = cg->v2[LJ_CG_IO] ? xasprintf("%s/io.max", dir)
	                                       : xasprintf("%s/%s", dir, io_v1_file[which]);
	lj_autofree char *s = read_trim(p);
	if (!s || !*s)
		return LJ_CG_UNLIMITED;
	/* The same limit is on every disk: report the first one. */
	if (!cg->v2[LJ_CG_IO]) {
		char *sp = strchr(s, ' ');
		return sp ? parse_limit(sp + 1) : LJ_CG_UNLIMITED;
	}
	char key[16];
	snprintf(key, sizeof key, " %s=", io_v2_key[which]);
	char *k = strstr(s, key);
	if (!k)
		return LJ_CG_UNLIMITED;
	k += strlen(key);
	char *end = k + strcspn(k, " \n");
	*end = '\0';
	return parse_limit(k);
}

int lj_cg_set_limit(struct lj_cg *cg, enum lj_cg_limit l, int64_t v, lj_err *e)
{
	if ((unsigned)l >= LJ_CGL_N)
		return lj_errorx(e, "unknown cgroup limit %d", (int)l);
	const char *dir = cg->dir[limit_ctrl[l]];
	if (!dir)
		return lj_error(e, ENOTSUP, "the %s controller is not available on this host",
		                limit_ctrl_name[l]);
	bool v2 = cg->v2[limit_ctrl[l]];
	if (v < 0)
		v = LJ_CG_UNLIMITED;
	if (!has(cg, limit_ctrl[l])) {
		if (v < 0)
			return 0; /* no group, no limit to lift */
		if (need(cg, limit_ctrl[l], e) < 0)
			return -1;
	}
	switch (l) {
	case LJ_CGL_MEMORY:
		if (v2)
			return write_limit(dir, "memory.max", v, "max", e);
		{
			/* v1 memsw counts memory + swap and must stay >= the memory limit: keep the
			 * swap allowance it stands for, and write them in the order the kernel
			 * accepts. */
			lj_autofree char *sw = xasprintf("%s/memory.memsw.limit_in_bytes", dir);
			bool has_sw = access(sw, F_OK) == 0;
			int64_t mem = read_limit(dir, "memory.limit_in_bytes");
			int64_t memsw =
			        has_sw ? read_limit(dir, "memory.memsw.limit_in_bytes") : -1;
			if (memsw < 0) /* no swap limit: memsw stays unlimited */
				return write_limit(dir, "memory.limit_in_bytes", v, "-1", e);
			int64_t swap = mem < 0 ? 0 : memsw - mem;
			int64_t nsw = v < 0 ? -1 : v + swap;
			if (v < 0 || (mem >= 0 && v > mem)) {
				if (write_limit(dir, "memory.memsw.limit_in_bytes", nsw, "-1", e) <
				    0)
					return -1;
				return write_limit(dir, "memory.limit_in_bytes", v, "-1", e);
			}
			if (write_limit(dir, "memory.limit_in_bytes", v, "-1", e) < 0)
				return -1;
			return write_limit(dir, "memory.memsw.limit_in_bytes", nsw, "-1", e);
		}
	case LJ_CGL_SWAP:
		if (v2) {
			lj_autofree char *p = xasprintf("%s/memory.swap.max", dir);
			if (access(p, F_OK) < 0)
				return lj_error(e, ENOTSUP, "swap accounting is off on this host");
			return write_limit(dir, "memory.swap.max", v, "max", e);
		}
		{
			lj_autofree char *p = xasprintf("%s/memory.memsw.limit_in_bytes", dir);
			if (access(p, F_OK) < 0)
				return lj_error(
				        e, ENOTSUP,
				        "swap accounting is off on this host (swapaccount=1)");
			int64_t mem = read_limit(dir, "memory.limit_in_bytes");
			if (v < 0)
				return write_limit(dir, "memory.memsw.limit_in_bytes", -1, "-1", e);
			if (mem < 0)
				return lj_error(
				        e, ENOTSUP,
				        "a swap limit on cgroup v1 needs a memory limit too");
			return write_limit(dir, "memory.memsw.limit_in_bytes", mem + v, "-1", e);
		}
	case LJ_CGL_PIDS:
		return write_limit(dir, "pids.max", v, "max", e);
	case LJ_CGL_CPU_PCT: {
		/* pcpu is percent of one CPU: quota per 100 ms period (1 ms minimum). */
		int64_t quota = v < 0 ? -1 : v * 1000;
		if (quota >= 0 && quota < 1000)
			quota = 1000;
		if (v2) {
			lj_autofree char *p = xasprintf("%s/cpu.max", dir);
			char buf[64];
			if (quota < 0)
				snprintf(buf, sizeof buf, "max 100000");
			else
				snprintf(buf, sizeof buf, "%lld 100000", (long long)quota);
			return cg_write(p, buf, e);
		}
		if (write_limit(dir, "cpu.cfs_period_us", 100000, "", e) < 0)
			return -1;
		return write_limit(dir, "cpu.cfs_quota_us", quota, "-1", e);
	}
	case LJ_CGL_READ_BPS:
	case LJ_CGL_WRITE_BPS:
	case LJ_CGL_READ_IOPS:
	case LJ_CGL_WRITE_IOPS:
		return set_io(cg, (int)(l - LJ_CGL_READ_BPS), v, e);
	default:
		return lj_errorx(e, "unknown cgroup limit %d", (int)l);
	}
}

int lj_cg_get_limit(const struct lj_cg *cg, enum lj_cg_limit l, int64_t *v, lj_err *e)
{
	if ((unsigned)l >= LJ_CGL_N)
		return lj_errorx(e, "unknown cgroup limit %d", (int)l);
	const char *dir = cg->dir[limit_ctrl[l]];
	if (!dir)
		return lj_error(e, ENOTSUP, "the %s controller is not available on this host",
		                limit_ctrl_name[l]);
	bool v2 = cg->v2[limit_ctrl[l]];
	*v = LJ_CG_UNLIMITED;
	switch (l) {
	case LJ_CGL_MEMORY:
		*v = read_limit(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
		return 0;
	case LJ_CGL_SWAP:
		if (v2)
			*v = read_limit(dir, "memory.swap.max");
		else {
			int64_t mem = read_limit(dir, "memory.limit_in_bytes");
			int64_t sw = read_limit(dir, "memory.memsw.limit_in_bytes");
			*v = mem >= 0 && sw >= 0 ? sw - mem : LJ_CG_UNLIMITED;
		}
		return 0;
	case LJ_CGL_PIDS:
		*v = read_limit(dir, "pids.max");
		return 0;
	case LJ_CGL_CPU_PCT:
		if (v2) {
			lj_autofree char *p = xasprintf("%s/cpu.max", dir);
			lj_autofree char *s = read_trim(p);
			long long q, per;
			if (s && sscanf(s, "%lld %lld", &q, &per) == 2 && per > 0)
				*v = q * 100 / per;
		} else {
			int64_t q = read_limit(dir, "cpu.cfs_quota_us");
			int64_t per = read_limit(dir, "cpu.cfs_period_us");
			if (q >= 0 && per > 0)
				*v = q * 100 / per;
		}
		return 0;
	default:
		*v = get_io(cg, (int)(l - LJ_CGL_READ_BPS));
		return 0;
	}
}

/* ---- usage ----------------------------------------------------------------------------------- */

static uint64_t stat_key(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* "key: N" lines (/proc/PID/io) */
static uint64_t stat_value(const char *text, const char *key)
{
	const char *k = strstr(text, key);
	return k ? strtoull(k + strlen(key), NULL, 10) : 0;
}

static uint64_t count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	uint64_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int lj_cg_usage(const struct lj_cg *cg, struct lj_cg_usage *u, lj_err *e)
{
	memset(u, 0, sizeof *u);
	pid_t *pids;
	size_t n;
	if (lj_cg_pids(cg, &pids, &n, e) < 0)
		return -1;
	u->nproc = n;
	uint64_t rss = 0, swap = 0;
	long page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/task", (int)pids[i]);
		u->nthr += count_dir(p);
		snprintf(p, sizeof p, "/proc/%d/fd", (int)pids[i]);
		u->openfiles += count_dir(p);
		snprintf(p, sizeof p, "/proc/%d/statm", (int)pids[i]);
		lj_autofree char *statm = read_trim(p);
		if (statm)
			u->vmemory += strtoull(statm, NULL, 10) * (uint64_t)page;
		snprintf(p, sizeof p, "/proc/%d/status", (int)pids[i]);
		lj_autofree char *st = NULL;
		if (lj_read_file(p, &st, NULL, NULL) == 0) {
			const char *k;
			if ((k = strstr(st, "\nVmData:")))
				u->datasize += strtoull(k + 8, NULL, 10) * 1024;
			if ((k = strstr(st, "\nVmStk:")))
				u->stacksize += strtoull(k + 7, NULL, 10) * 1024;
			if ((k = strstr(st, "\nVmLck:")))
				u->memorylocked += strtoull(k + 7, NULL, 10) * 1024;
			/* without a memory group (none made yet): what the processes map */
			if ((k = strstr(st, "\nRssAnon:")))
				rss += strtoull(k + 9, NULL, 10) * 1024;
			if ((k = strstr(st, "\nRssFile:")))
				rss += strtoull(k + 9, NULL, 10) * 1024;
			if ((k = strstr(st, "\nVmSwap:")))
				swap += strtoull(k + 8, NULL, 10) * 1024;
		}
		if (has(cg, LJ_CG_IO))
			continue;
		/* without an io group: the processes' own counters */
		snprintf(p, sizeof p, "/proc/%d/io", (int)pids[i]);
		lj_autofree char *io = NULL;
		if (lj_read_file(p, &io, NULL, NULL) == 0) {
			u->rbytes += stat_value(io, "read_bytes:");
			u->wbytes += stat_value(io, "write_bytes:");
			u->rios += stat_value(io, "syscr:");
			u->wios += stat_value(io, "syscw:");
		}
	}
	free(pids);
	if (!has(cg, LJ_CG_MEMORY)) {
		u->memory = rss;
		u->swap = swap;
	}

	const char *dir;
	if ((dir = cg->dir[LJ_CG_CPUACCT])) {
		bool v2 = cg->v2[LJ_CG_CPUACCT];
		if (!has(cg, LJ_CG_CPUACCT) && cg->v2dir) { /* cgroup2's core keeps cpu.stat */
			dir = cg->v2dir;
			v2 = true;
		}
		if (v2) {
			lj_autofree char *p = xasprintf("%s/cpu.stat", dir);
			lj_autofree char *s = NULL;
			if (lj_read_file(p, &s, NULL, NULL) == 0)
				u->cputime_ns = stat_key(s, "usage_usec") * 1000;
		} else {
			lj_autofree char *p = xasprintf("%s/cpuacct.usage", dir);
			read_u64_file(p, &u->cputime_ns, NULL);
		}
	}
	if ((dir = cg->dir[LJ_CG_MEMORY]) && has(cg, LJ_CG_MEMORY)) {
		lj_autofree char *p = xasprintf("%s/memory.stat", dir);
		lj_autofree char *s = NULL;
		if (lj_read_file(p, &s, NULL, NULL) == 0) {
			/* memoryuse is resident memory: anonymous plus mapped file pages. */
			if (cg->v2[LJ_CG_MEMORY]) {
				u->memory = stat_key(s, "anon") + stat_key(s, "file_mapped");
				lj_autofree char *sp = xasprintf("%s/memory.swap.current", dir);
				read_u64_file(sp, &u->swap, NULL);
			} else {
				u->memory =
				        stat_key(s, "total_rss") + stat_key(s, "total_mapped_file");
				u->swap = stat_key(s, "total_swap");
			}
		}
	}
	if ((dir = cg->dir[LJ_CG_PIDS]) && !cg->v2[LJ_CG_PIDS] && has(cg, LJ_CG_PIDS)) {
		uint64_t cur;
		lj_autofree char *p = xasprintf("%s/pids.current", dir);
		if (read_u64_file(p, &cur, NULL) == 0 && cur > u->nthr)
			u->nthr = cur;
	}
	if ((dir = cg->dir[LJ_CG_IO]) && has(cg, LJ_CG_IO)) {
		if (cg->v2[LJ_CG_IO]) {
			lj_autofree char *p = xasprintf("%s/io.stat", dir);
			lj_autofree char *s = NULL;
			if (lj_read_file(p, &s, NULL, NULL) == 0)
				for (char *t = strtok(s, " \n"); t; t = strtok(NULL, " \n")) {
					uint64_t v;
					if (sscanf(t, "rbytes=%" SCNu64, &v) == 1)
						u->rbytes += v;
					else if (sscanf(t, "wbytes=%" SCNu64, &v) == 1)
						u->wbytes += v;
					else if (sscanf(t, "rios=%" SCNu64, &v) == 1)
						u->rios += v;
					else if (sscanf(t, "wios=%" SCNu64, &v) == 1)
						u->wios += v;
				}
		} else {
			static const char *const f[2] = {
			        "blkio.throttle.io_service_bytes_recursive",
			        "blkio.throttle.io_serviced_recursive"};
			for (int k = 0; k < 2; k++) {
				lj_autofree char *p = xasprintf("%s/%s", dir, f[k]);
				lj_autofree char *s = NULL;
				if (lj_read_file(p, &s, NULL, NULL) < 0)
					continue;
				char *save = NULL;
				for (char *line = strtok_r(s, "\n", &save); line;
				     line = strtok_r(NULL, "\n", &save)) {
					char dev[32], op[16];
					uint64_t v;
					if (sscanf(line, "%31s %15s %" SCNu64, dev, op, &v) != 3)
						continue;
					if (strcmp(op, "Read") == 0)
						*(k ? &u->rios : &u->rbytes) += v;
					else if (strcmp(op, "Write") == 0)
						*(k ? &u->wios : &u->wbytes) += v;
				}
			}
		}
	}
	/* cgroupfs keeps the directory's creation time. */
	struct stat st;
	const char *any = cg->v2dir ? cg->v2dir : (cg->made.n ? cg->made.v[0] : NULL);
	if (any && stat(any, &st) == 0) {
		time_t now = time(NULL);
		if (now > st.st_ctime)
			u->wallclock = (uint64_t)(now - st.st_ctime);
	}
	return 0;
}

char *lj_cg_jail_of_pid(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
	lj_autofree char *text = NULL;
	if (lj_read_file(p, &text, NULL, NULL) < 0)
		return NULL;
	lj_autofree char *needle = xasprintf(":/%s/", lj_cg_root_name());
	char *k = strstr(text, needle);
	if (!k)
		return NULL;
	k += strlen(needle);
	size_t n = strcspn(k, "/\n");
	return n ? xstrndup(k, n) : NULL;
}
