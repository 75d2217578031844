/* The pool: its root, lock and metadata, ZFS-style names, and the dataset operations that check
 * dependencies before handing the filesystem work to a backend. */
#include "store/store_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

const char *lj_backend_name(enum lj_backend b)
{
	switch (b) {
	case LJ_BK_BTRFS:
		return "btrfs";
	case LJ_BK_OVERLAY:
		return "overlay";
	case LJ_BK_DIR:
		return "dir";
	}
	return "?";
}

static int backend_parse(const char *s, enum lj_backend *b)
{
	for (int i = LJ_BK_BTRFS; i <= LJ_BK_DIR; i++)
		if (strcmp(s, lj_backend_name((enum lj_backend)i)) == 0) {
			*b = (enum lj_backend)i;
			return 0;
		}
	return -1;
}

const struct st_ops *st_ops_for(enum lj_backend b)
{
	return b == LJ_BK_BTRFS     ? &st_btrfs_ops
	       : b == LJ_BK_OVERLAY ? &st_overlay_ops
	                            : &st_dir_ops;
}

/* ---- names -------------------------------------------------------------------------------------
 */

static int check_component(const char *c, size_t len, const char *what, lj_err *e)
{
	if (len == 0)
		return lj_errorx(e, "invalid %s name: empty component", what);
	if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
		return lj_errorx(e, "invalid %s name: '%.*s' component", what, (int)len, c);
	if (!isalnum((unsigned char)c[0]) && c[0] != '_')
		return lj_errorx(e,
		                 "invalid %s name: component '%.*s' must begin with a letter, a "
		                 "digit or '_'",
		                 what, (int)len, c);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)c[i];
		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.' && ch != ':')
			return lj_errorx(e, "invalid %s name: invalid character '%c' in name", what,
			                 ch);
	}
	return 0;
}

int lj_store_check_name(const char *name, int snap, lj_err *e)
{
	if (!name || !*name)
		return lj_errorx(e, "invalid dataset name: empty");
	if (strlen(name) > 255)
		return lj_errorx(e, "invalid dataset name: name is too long");
	if (name[0] == '/')
		return lj_errorx(e, "invalid dataset name: leading slash in name");
	const char *at = strchr(name, '@');
	if (snap == 1 && !at)
		return lj_errorx(e,
		                 "invalid snapshot name: missing '@' delimiter in snapshot name");
	if (snap == 0 && at)
		return lj_errorx(
		        e, "invalid dataset name: snapshot delimiter '@' is not expected here");
	size_t fslen = at ? (size_t)(at - name) : strlen(name);
	for (const char *c = name; c < name + fslen;) {
		const char *slash = memchr(c, '/', (size_t)(name + fslen - c));
		size_t len = slash ? (size_t)(slash - c) : (size_t)(name + fslen - c);
		if (slash && slash + 1 == name + fslen)
			return lj_errorx(e, "invalid dataset name: trailing slash in name");
		if (check_component(c, len, "dataset", e) < 0)
			return -1;
		c += len + (slash ? 1 : 0);
	}
	if (at) {
		const char *s = at + 1;
		if (strchr(s, '@'))
			return lj_errorx(e,
			                 "invalid snapshot name: multiple '@' delimiters in name");
		if (strchr(s, '/'))
			return lj_errorx(e, "invalid snapshot name: invalid character '/' in name");
		if (check_component(s, strlen(s), "snapshot", e) < 0)
			return -1;
	}
	return 0;
}

/* ---- paths --------------------------------------------------------------------------------------
 */

char *st_fs_path(const struct lj_pool *p, const char *fsname)
{
	return xasprintf("%s/%s", p->root, fsname);
}

char *st_snap_path(const struct lj_pool *p, const char *snapname)
{
	return xasprintf("%s/snap/%s", p->meta, snapname);
}

char *st_ovl_path(const struct lj_pool *p, const char *fsname, const char *part)
{
	return xasprintf("%s/ovl/%s/%s", p->meta, fsname, part);
}

bool st_is_mounted(const char *path)
{
	lj_autofree char *text = NULL;
	if (lj_read_file("/proc/self/mountinfo", &text, NULL, NULL) < 0)
		return false;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		/* field 5 is the mount point, with spaces etc. octal-escaped */
		char *f = line;
		for (int i = 0; i < 4 && f; i++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (f) {
			char *end = strchr(f, ' ');
			if (end)
				*end = 0;
			lj_buf un = {0};
			for (char *c = f; *c; c++) {
				if (c[0] == '\\' && c[1] && c[2] && c[3]) {
					lj_buf_addc(&un, (char)((c[1] - '0') * 64 +
					                        (c[2] - '0') * 8 + (c[3] - '0')));
					c += 3;
				} else
					lj_buf_addc(&un, *c);
			}
			bool eq = strcmp(lj_buf_str(&un), path) == 0;
			lj_buf_free(&un);
			if (eq)
				return true;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* ---- metadata -----------------------------------------------------------------------------------
 */

static void ds_free(struct st_ds *d)
{
	free(d->name);
	free(d->origin);
}

void st_ds_clear(struct lj_pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		ds_free(&p->v[i]);
	p->n = 0;
}

static struct st_ds *ds_add(struct lj_pool *p, const char *name, enum lj_backend bk,
                            const char *origin)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	struct st_ds *d = &p->v[p->n++];
	*d = (struct st_ds){.name = xstrdup(name),
	                    .snap = strchr(name, '@') != NULL,
	                    .bk = bk,
	                    .origin = origin ? xstrdup(origin) : NULL,
	                    .created = (int64_t)time(NULL),
	                    .seq = ++p->seq};
	return d;
}

static void ds_remove(struct lj_pool *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0) {
			ds_free(&p->v[i]);
			memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof *p->v);
			p->n--;
			return;
		}
}

struct st_ds *st_find(struct lj_pool *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return &p->v[i];
	return NULL;
}

bool lj_store_exists(struct lj_pool *p, const char *name)
{
	return st_find(p, name) != NULL;
}

/* Format: a header line, then one tab-separated line per dataset:
 *   fs|snap NAME BACKEND CREATED SEQ ORIGIN|- */
int st_meta_parse(struct lj_pool *p, const char *text, const char *file, lj_err *e)
{
	lj_autofree char *copy = xstrdup(text);
	int lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "ljail-pool 1") != 0)
				return lj_errorx(e, "%s line 1: not an ljail pool file", file);
			continue;
		}
		char *f[6];
		int nf = 0;
		char *sv2 = NULL;
		for (char *t = strtok_r(line, "\t", &sv2); t && nf < 6;
		     t = strtok_r(NULL, "\t", &sv2))
			f[nf++] = t;
		enum lj_backend bk;
		int64_t created;
		uint64_t seq;
		bool snap = nf == 6 && strcmp(f[0], "snap") == 0;
		if (nf != 6 || (!snap && strcmp(f[0], "fs") != 0) ||
		    lj_store_check_name(f[1], snap ? 1 : 0, NULL) < 0 ||
		    backend_parse(f[2], &bk) < 0 || !lj_parse_i64(f[3], &created) ||
		    !lj_parse_u64(f[4], &seq) ||
		    (strcmp(f[5], "-") != 0 && lj_store_check_name(f[5], 1, NULL) < 0) ||
		    st_find(p, f[1]))
			return lj_errorx(e, "%s line %d: malformed dataset record", file, lineno);
		struct st_ds *d = ds_add(p, f[1], bk, strcmp(f[5], "-") ? f[5] : NULL);
		d->created = created;
		d->seq = seq;
		if (seq > p->seq)
			p->seq = seq;
	}
	return 0;
}

char *st_meta_format(const struct lj_pool *p)
{
	lj_buf b = {0};
	lj_buf_adds(&b, "ljail-pool 1\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct st_ds *d = &p->v[i];
		lj_buf_addf(&b, "%s\t%s\t%s\t%lld\t%llu\t%s\n", d->snap ? "snap" : "fs", d->name,
		            lj_backend_name(d->bk), (long long)d->created,
		            (unsigned long long)d->seq, d->origin ? d->origin : "-");
	}
	return lj_buf_steal(&b);
}

int st_save(struct lj_pool *p, lj_err *e)
{
	lj_autofree char *path = xasprintf("%s/datasets", p->meta);
	lj_autofree char *text = st_meta_format(p);
	return lj_write_file_atomic(path, text, strlen(text), 0600, e);
}

/* ---- open ---------------------------------------------------------------------------------------
 */

int lj_store_open(struct lj_pool **out, const char *root, lj_err *e)
{
	if (!root)
		root = getenv("LJAIL_POOL");
	if (!root || !*root)
		root = LJ_STORE_DEFAULT_POOL;
	if (lj_mkdir_p(root, 0755, e) < 0)
		return lj_error_prefix(e, "pool");
	char *real = realpath(root, NULL);
	if (!real)
		return lj_error(e, errno, "pool %s", root);
	if (strpbrk(real, ",:\n\t")) {
		free(real);
		return lj_errorx(e, "pool %s: the path may not hold ',', ':' or control characters",
		                 root);
	}
	/* declared before the first goto: a jump may not skip a cleanup variable's initialisation */
	lj_autofree char *lock = NULL, *path = NULL, *text = NULL, *tmp = NULL;
	struct lj_pool *p = xcalloc(1, sizeof *p);
	p->root = real;
	p->meta = xasprintf("%s/.ljail", real);
	p->lockfd = -1;
	struct statfs sf;
	if (statfs(real, &sf) < 0) {
		lj_error(e, errno, "pool %s", real);
		goto fail;
	}
	p->bk = (unsigned long)sf.f_type == BTRFS_SUPER_MAGIC ? LJ_BK_BTRFS : LJ_BK_OVERLAY;
	const char *force = getenv("LJAIL_BACKEND");
	if (force && *force) {
		if (backend_parse(force, &p->bk) < 0) {
			lj_errorx(e, "LJAIL_BACKEND=%s: not btrfs, overlay or dir", force);
			goto fail;
		}
		if (p->bk == LJ_BK_BTRFS && (unsigned long)sf.f_type != BTRFS_SUPER_MAGIC) {
			lj_errorx(e, "pool %s is not on a btrfs filesystem", real);
			goto fail;
		}
	}
	const char *sub[] = {"", "/snap", "/ovl", "/tmp"};
	for (size_t i = 0; i < LJ_ARRAY_LEN(sub); i++) {
		lj_autofree char *d = xasprintf("%s%s", p->meta, sub[i]);
		if (lj_mkdir_p(d, 0700, e) < 0)
			goto fail;
	}
	lock = xasprintf("%s/lock", p->meta);
	p->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (p->lockfd < 0 || flock(p->lockfd, LOCK_EX) < 0) {
		lj_error(e, errno, "%s", lock);
		goto fail;
	}
	path = xasprintf("%s/datasets", p->meta);
	if (lj_read_file(path, &text, NULL, e) < 0) {
		if (e && e->errnum != ENOENT)
			goto fail;
	} else if (st_meta_parse(p, text, path, e) < 0)
		goto fail;
	/* leftovers of an interrupted run; we hold the lock, so nobody is using them */
	tmp = xasprintf("%s/tmp", p->meta);
	st_rm_rf(tmp, true, NULL, NULL);
	*out = p;
	return 0;
fail:
	lj_store_close(p);
	return -1;
}

void lj_store_set_busy(struct lj_pool *p, const lj_strv *paths)
{
	for (size_t i = 0; paths && i < paths->n; i++) {
		char *real = realpath(paths->v[i], NULL);
		lj_strv_push(&p->busy, real ? real : xstrdup(paths->v[i]));
	}
}

/* A running jail's root is this filesystem: it cannot be destroyed or rolled back under it. */
static int check_busy(struct lj_pool *p, const struct st_ds *d, const char *verb, const char *name,
                      lj_err *e)
{
	if (d->snap)
		return 0;
	lj_autofree char *mp = st_fs_path(p, d->name);
	if (!lj_strv_contains(&p->busy, mp))
		return 0;
	return lj_errorx(e, "cannot %s '%s': dataset is busy (a running jail's root is %s)", verb,
	                 name, mp);
}

void lj_store_close(struct lj_pool *p)
{
	if (!p)
		return;
	lj_strv_free(&p->busy);
	if (p->lockfd >= 0)
		close(p->lockfd);
	st_ds_clear(p);
	free(p->v);
	free(p->root);
	free(p->meta);
	free(p);
}

const char *lj_store_root(const struct lj_pool *p)
{
	return p->root;
}

enum lj_backend lj_store_backend(const struct lj_pool *p)
{
	return p->bk;
}

/* ---- relations ----------------------------------------------------------------------------------
 */

static bool is_child_of(const char *name, const char *parent)
{
	size_t l = strlen(parent);
	return strncmp(name, parent, l) == 0 && name[l] == '/';
}

static bool is_snap_of(const struct st_ds *d, const char *fsname)
{
	size_t l = strlen(fsname);
	return d->snap && strncmp(d->name, fsname, l) == 0 && d->name[l] == '@';
}

void st_child_rels(struct lj_pool *p, const char *fsname, lj_strv *out)
{
	size_t l = strlen(fsname);
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].snap && is_child_of(p->v[i].name, fsname))
			lj_strv_add(out, p->v[i].name + l + 1);
}

static char *parent_of(const char *name)
{
	const char *s = strrchr(name, '/');
	return s ? xstrndup(name, (size_t)(s - name)) : NULL;
}

static char *fs_of_snap(const char *snapname)
{
	return xstrndup(snapname, strcspn(snapname, "@"));
}

/* ---- operations ---------------------------------------------------------------------------------
 */

static int check_parent(struct lj_pool *p, const char *verb, const char *name, int flags, lj_err *e)
{
	lj_autofree char *parent = parent_of(name);
	if (!parent || st_find(p, parent))
		return 0;
	if (!(flags & LJ_STORE_PARENTS))
		return lj_errorx(e, "cannot %s '%s': parent does not exist", verb, name);
	return lj_store_create(p, parent, flags, e);
}

int lj_store_create(struct lj_pool *p, const char *name, int flags, lj_err *e)
{
	if (lj_store_check_name(name, 0, e) < 0)
		return lj_error_prefix(e, "cannot create '%s'", name);
	if (st_find(p, name)) {
		if (flags & LJ_STORE_PARENTS)
			return 0;
		return lj_errorx(e, "cannot create '%s': dataset already exists", name);
	}
	if (check_parent(p, "create", name, flags, e) < 0)
		return -1;
	lj_autofree char *mp = st_fs_path(p, name);
	struct stat st;
	if (lstat(mp, &st) == 0 && !(S_ISDIR(st.st_mode) && rmdir(mp) == 0))
		return lj_errorx(e, "cannot create '%s': %s exists and is not an empty folder",
		                 name, mp);
	struct st_ds d = {.name = (char *)name, .bk = p->bk};
	const struct st_ops *ops = st_ops_for(p->bk);
	if (ops->create(p, &d, e) < 0)
		return lj_error_prefix(e, "cannot create '%s'", name);
	ds_add(p, name, p->bk, NULL);
	if (st_save(p, e) < 0) {
		ds_remove(p, name);
		ops->destroy_fs(p, &d, NULL);
		return lj_error_prefix(e, "cannot create '%s'", name);
	}
	return 0;
}

int lj_store_snapshot(struct lj_pool *p, const char *snapname, lj_err *e)
{
	if (lj_store_check_name(snapname, 1, e) < 0)
		return lj_error_prefix(e, "cannot create snapshot '%s'", snapname);
	lj_autofree char *fsname = fs_of_snap(snapname);
	struct st_ds *fs = st_find(p, fsname);
	if (!fs)
		return lj_errorx(e, "cannot open '%s': dataset does not exist", fsname);
	if (st_find(p, snapname))
		return lj_errorx(e, "cannot create snapshot '%s': dataset already exists",
		                 snapname);
	struct st_ds s = {.name = (char *)snapname, .snap = true, .bk = fs->bk};
	const struct st_ops *ops = st_ops_for(fs->bk);
	if (ops->snapshot(p, fs, &s, e) < 0)
		return lj_error_prefix(e, "cannot create snapshot '%s'", snapname);
	ds_add(p, snapname, fs->bk, NULL);
	if (st_save(p, e) < 0) {
		ds_remove(p, snapname);
		ops->destroy_snap(p, &s, NULL);
		return lj_error_prefix(e, "cannot create snapshot '%s'", snapname);
	}
	return 0;
}

int lj_store_clone(struct lj_pool *p, const char *snapname, const char *newname, int flags,
                   lj_err *e)
{
	if (lj_store_check_name(snapname, 1, e) < 0)
		return lj_error_prefix(e, "cannot open '%s'", snapname);
	if (lj_store_check_name(newname, 0, e) < 0)
		return lj_error_prefix(e, "cannot create '%s'", newname);
	struct st_ds *snap = st_find(p, snapname);
	if (!snap)
		return lj_errorx(e, "cannot open '%s': dataset does not exist", snapname);
	if (st_find(p, newname))
		return lj_errorx(e, "cannot create '%s': dataset already exists", newname);
	lj_autofree char *mp = st_fs_path(p, newname);
	struct stat st;
	if (lstat(mp, &st) == 0 && !(S_ISDIR(st.st_mode) && rmdir(mp) == 0))
		return lj_errorx(e, "cannot create '%s': %s exists and is not an empty folder",
		                 newname, mp);
	if (check_parent(p, "create", newname, flags, e) < 0)
		return -1;
	snap = st_find(p, snapname); /* check_parent may have grown the table */
	enum lj_backend bk = snap->bk;
	struct st_ds d = {.name = (char *)newname, .bk = bk, .origin = (char *)snapname};
	const struct st_ops *ops = st_ops_for(bk);
	if (ops->clone(p, snap, &d, e) < 0)
		return lj_error_prefix(e, "cannot create '%s'", newname);
	ds_add(p, newname, bk, snapname);
	if (st_save(p, e) < 0) {
		ds_remove(p, newname);
		ops->destroy_fs(p, &d, NULL);
		return lj_error_prefix(e, "cannot create '%s'", newname);
	}
	return 0;
}

/* Every dataset that depends on d directly: children and snapshots of a filesystem, clones of a
 * snapshot. */
static void direct_dependents(struct lj_pool *p, const struct st_ds *d, lj_strv *out)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct st_ds *x = &p->v[i];
		if (d->snap) {
			if (x->origin && strcmp(x->origin, d->name) == 0)
				lj_strv_add(out, x->name);
		} else if ((!x->snap && is_child_of(x->name, d->name)) || is_snap_of(x, d->name))
			lj_strv_add(out, x->name);
	}
}

static int destroy_one(struct lj_pool *p, const char *name, lj_err *e)
{
	struct st_ds *d = st_find(p, name);
	if (!d)
		return 0;
	const struct st_ops *ops = st_ops_for(d->bk);
	int rc = d->snap ? ops->destroy_snap(p, d, e) : ops->destroy_fs(p, d, e);
	if (rc < 0)
		return lj_error_prefix(e, "cannot destroy '%s'", name);
	ds_remove(p, name);
	return st_save(p, e);
}

/* Snapshots of fsname newer than snap, oldest first. */
static void newer_snaps(struct lj_pool *p, const struct st_ds *snap, const char *fsname,
                        lj_strv *out)
{
	for (size_t i = 0; i < p->n; i++)
		if (is_snap_of(&p->v[i], fsname) && p->v[i].seq > snap->seq)
			lj_strv_add(out, p->v[i].name);
}

int lj_store_destroy(struct lj_pool *p, const char *name, int flags, lj_strv *blockers, lj_err *e)
{
	if (lj_store_check_name(name, 2, e) < 0)
		return lj_error_prefix(e, "cannot destroy '%s'", name);
	struct st_ds *d = st_find(p, name);
	if (!d) {
		if (strchr(name, '@'))
			return lj_errorx(
			        e,
			        "could not find any snapshots to destroy; check snapshot names.");
		return lj_errorx(e, "cannot open '%s': dataset does not exist", name);
	}
	/* the closure of what goes: with -r children and snapshots, with -R clones too */
	lj_strv set = {0}, outside = {0};
	lj_strv_add(&set, name);
	for (size_t i = 0; i < set.n; i++) {
		struct st_ds *x = st_find(p, set.v[i]);
		lj_strv deps = {0};
		direct_dependents(p, x, &deps);
		for (size_t j = 0; j < deps.n; j++) {
			struct st_ds *y = st_find(p, deps.v[j]);
			bool clone = x->snap; /* the dependents of a snapshot are its clones */
			bool take = clone ? (flags & LJ_STORE_DEPENDENTS)
			                  : (flags & (LJ_STORE_RECURSIVE | LJ_STORE_DEPENDENTS));
			if (take) {
				if (!lj_strv_contains(&set, y->name))
					lj_strv_add(&set, y->name);
			} else if (!lj_strv_contains(&outside, y->name))
				lj_strv_add(&outside, y->name);
		}
		lj_strv_free(&deps);
	}
	if (outside.n) {
		bool clones = false;
		for (size_t i = 0; i < outside.n; i++) {
			struct st_ds *y = st_find(p, outside.v[i]);
			if (!y->snap && y->origin && lj_strv_contains(&set, y->origin))
				clones = true;
		}
		if (d->snap)
			lj_errorx(e,
			          "cannot destroy '%s': snapshot has dependent clones\nuse '-R' to "
			          "destroy the following datasets:",
			          name);
		else if (clones)
			lj_errorx(e,
			          "cannot destroy '%s': filesystem has dependent clones\nuse '-R' "
			          "to destroy the following datasets:",
			          name);
		else
			lj_errorx(e,
			          "cannot destroy '%s': filesystem has children\nuse '-r' to "
			          "destroy the following datasets:",
			          name);
		if (blockers)
			for (size_t i = 0; i < outside.n; i++)
				lj_strv_add(blockers, outside.v[i]);
		lj_strv_free(&set);
		lj_strv_free(&outside);
		return -1;
	}
	for (size_t i = 0; i < set.n; i++)
		if (check_busy(p, st_find(p, set.v[i]), "destroy", set.v[i], e) < 0) {
			lj_strv_free(&set);
			lj_strv_free(&outside);
			return -1;
		}
	lj_strv_free(&outside);
	/* remove leaves first: anything nothing else in the pool still depends on */
	int rc = 0;
	while (rc == 0 && set.n) {
		bool progress = false;
		for (size_t i = 0; i < set.n && rc == 0; i++) {
			struct st_ds *x = st_find(p, set.v[i]);
			lj_strv deps = {0};
			if (x)
				direct_dependents(p, x, &deps);
			size_t ndeps = deps.n;
			lj_strv_free(&deps);
			if (ndeps)
				continue;
			rc = destroy_one(p, set.v[i], e);
			free(set.v[i]);
			memmove(&set.v[i], &set.v[i + 1], (set.n - i) * sizeof *set.v);
			set.n--;
			i--;
			progress = true;
		}
		if (!progress && rc == 0)
			rc = lj_errorx(e,
			               "cannot destroy '%s': dependency loop in the pool metadata",
			               name);
	}
	lj_strv_free(&set);
	return rc;
}

int lj_store_rollback(struct lj_pool *p, const char *snapname, bool recursive, lj_err *e)
{
	if (lj_store_check_name(snapname, 1, e) < 0)
		return lj_error_prefix(e, "cannot rollback to '%s'", snapname);
	struct st_ds *snap = st_find(p, snapname);
	if (!snap)
		return lj_errorx(e, "cannot open '%s': dataset does not exist", snapname);
	lj_autofree char *fsname = fs_of_snap(snapname);
	if (check_busy(p, st_find(p, fsname), "rollback", fsname, e) < 0)
		return -1;
	lj_strv newer = {0};
	newer_snaps(p, snap, fsname, &newer);
	if (newer.n && !recursive) {
		lj_buf b = {0};
		lj_buf_addf(&b,
		            "cannot rollback to '%s': more recent snapshots or bookmarks exist\n"
		            "use '-r' to force deletion of the following snapshots and bookmarks:",
		            snapname);
		for (size_t i = 0; i < newer.n; i++)
			lj_buf_addf(&b, "\n%s", newer.v[i]);
		lj_errorx(e, "%s", lj_buf_str(&b));
		lj_buf_free(&b);
		lj_strv_free(&newer);
		return -1;
	}
	for (size_t i = newer.n; i-- > 0;)
		if (lj_store_destroy(p, newer.v[i], 0, NULL, e) < 0) {
			lj_strv_free(&newer);
			return -1;
		}
	lj_strv_free(&newer);
	snap = st_find(p, snapname);
	struct st_ds *fs = st_find(p, fsname);
	if (st_ops_for(fs->bk)->rollback(p, fs, snap, e) < 0)
		return lj_error_prefix(e, "cannot rollback to '%s'", snapname);
	return 0;
}

/* ---- mounting -----------------------------------------------------------------------------------
 */

int lj_store_mount(struct lj_pool *p, const char *name, char **mountpoint, lj_err *e)
{
	struct st_ds *d = st_find(p, name);
	if (!d || d->snap)
		return lj_errorx(e, "cannot open '%s': dataset does not exist", name);
	/* parents first: a child's mountpoint may live inside a parent's overlay */
	lj_autofree char *parent = parent_of(name);
	if (parent && lj_store_mount(p, parent, NULL, e) < 0)
		return -1;
	d = st_find(p, name);
	if (st_ops_for(d->bk)->mount(p, d, e) < 0)
		return lj_error_prefix(e, "cannot mount '%s'", name);
	if (mountpoint)
		*mountpoint = st_fs_path(p, name);
	return 0;
}

int lj_store_mount_all(struct lj_pool *p, lj_err *e)
{
	for (size_t i = 0; i < p->n; i++)
		if (!p->v[i].snap && lj_store_mount(p, p->v[i].name, NULL, e) < 0)
			return -1;
	return 0;
}

int lj_store_mount_path(const char *path, bool *found, lj_err *e)
{
	*found = false;
	const char *root = getenv("LJAIL_POOL");
	if (!root || !*root)
		root = LJ_STORE_DEFAULT_POOL;
	lj_autofree char *meta = xasprintf("%s/.ljail/datasets", root);
	if (access(meta, F_OK) < 0)
		return 0; /* no pool: nothing to mount, and nothing to make */
	lj_autofree char *real = realpath(path, NULL);
	struct lj_pool *p;
	if (lj_store_open(&p, root, e) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < p->n && !*found; i++) {
		if (p->v[i].snap)
			continue;
		lj_autofree char *mp = st_fs_path(p, p->v[i].name);
		if (strcmp(mp, path) == 0 || (real && strcmp(mp, real) == 0)) {
			*found = true;
			rc = lj_store_mount(p, p->v[i].name, NULL, e);
		}
	}
	lj_store_close(p);
	return rc;
}

int lj_store_umount(struct lj_pool *p, const char *name, lj_err *e)
{
	struct st_ds *d = st_find(p, name);
	if (!d || d->snap)
		return lj_errorx(e, "cannot open '%s': dataset does not exist", name);
	/* children first */
	for (size_t i = p->n; i-- > 0;)
		if (!p->v[i].snap && is_child_of(p->v[i].name, name) &&
		    st_ops_for(p->v[i].bk)->umount(p, &p->v[i], e) < 0)
			return lj_error_prefix(e, "cannot unmount '%s'", p->v[i].name);
	if (st_ops_for(d->bk)->umount(p, d, e) < 0)
		return lj_error_prefix(e, "cannot unmount '%s'", name);
	return 0;
}

int lj_store_umount_all(struct lj_pool *p, lj_err *e)
{
	for (size_t i = p->n; i-- > 0;)
		if (!p->v[i].snap && st_ops_for(p->v[i].bk)->umount(p, &p->v[i], e) < 0)
			return lj_error_prefix(e, "cannot unmount '%s'", p->v[i].name);
	return 0;
}

/* ---- listing ------------------------------------------------------------------------------------
 */

void lj_store_nicenum(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "BKMGTPE";
	int i = 0;
	uint64_t v = n;
	while (v >= 1024 && i < 6) {
		v /= 1024;
		i++;
	}
	if (i == 0 || n % (1ULL << (10 * i)) == 0) {
		snprintf(buf, len, "%llu%c", (unsigned long long)v, units[i]);
		return;
	}
	double d = (double)n / (double)(1ULL << (10 * i));
	for (int prec = 2; prec >= 0; prec--) {
		snprintf(buf, len, "%.*f%c", prec, d, units[i]);
		if (strlen(buf) <= 5)
			return;
	}
}

static int cmp_names(const void *a, const void *b)
{
	/* parents before children, a filesystem's snapshots right after it, in creation order */
	const struct lj_ds_info *x = a, *y = b;
	const char *p = x->name, *q = y->name;
	while (*p && *p == *q)
		p++, q++;
	int cp = *p == '@' ? 1 : *p == '/' ? 2 : (unsigned char)*p + 2;
	int cq = *q == '@' ? 1 : *q == '/' ? 2 : (unsigned char)*q + 2;
	if (!*p)
		cp = 0;
	if (!*q)
		cq = 0;
	if (x->is_snapshot && y->is_snapshot && strcspn(x->name, "@") == strcspn(y->name, "@") &&
	    strncmp(x->name, y->name, strcspn(x->name, "@")) == 0)
		return x->created < y->created ? -1 : x->created > y->created ? 1 : cp - cq;
	return cp - cq;
}

struct usage {
	uint64_t excl, refer;
};

int lj_store_list(struct lj_pool *p, const char *name, bool recursive, int types,
                  struct lj_ds_info **out, size_t *n, lj_err *e)
{
	*out = NULL;
	*n = 0;
	if (name) {
		if (lj_store_check_name(name, 2, e) < 0)
			return lj_error_prefix(e, "cannot open '%s'", name);
		if (!st_find(p, name))
			return lj_errorx(e, "cannot open '%s': dataset does not exist", name);
	}
	struct statvfs sv;
	int64_t avail =
	        statvfs(p->root, &sv) == 0 ? (int64_t)sv.f_bavail * (int64_t)sv.f_frsize : 0;
	sync();
	struct usage *u = xcalloc(p->n ? p->n : 1, sizeof *u);
	for (size_t i = 0; i < p->n; i++) {
		/* a dataset whose files went missing shows 0B rather than hiding every other one */
		lj_err e2;
		if (st_ops_for(p->v[i].bk)->usage(p, &p->v[i], &u[i].excl, &u[i].refer, &e2) < 0)
			u[i].excl = u[i].refer = 0;
	}
	struct lj_ds_info *v = xcalloc(p->n ? p->n : 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct st_ds *d = &p->v[i];
		bool want;
		if (!name)
			want = true;
		else if (strcmp(d->name, name) == 0)
			want = true;
		else if (strchr(name, '@'))
			want = false;
		else if (is_snap_of(d, name))
			want = recursive || types == 2;
		else {
			lj_autofree char *fsn = fs_of_snap(d->name);
			want = recursive && is_child_of(fsn, name);
		}
		if (!want || !(types & (d->snap ? 2 : 1)))
			continue;
		struct lj_ds_info *x = &v[k++];
		x->name = xstrdup(d->name);
		x->is_snapshot = d->snap;
		x->backend = d->bk;
		x->origin = d->origin ? xstrdup(d->origin) : NULL;
		x->created = d->created;
		x->refer = u[i].refer;
		if (d->snap) {
			x->used = u[i].excl;
			x->avail = -1;
		} else {
			x->mountpoint = st_fs_path(p, d->name);
			x->mounted = d->bk != LJ_BK_OVERLAY || !d->origin ||
			             st_is_mounted(x->mountpoint);
			x->avail = avail;
			/* ZFS's USED: what destroying it with -r would free */
			for (size_t j = 0; j < p->n; j++) {
				struct st_ds *y = &p->v[j];
				if (j == i)
					x->used += d->origin ? u[j].excl : u[j].refer;
				else if (is_snap_of(y, d->name))
					x->used += u[j].excl;
				else if (!y->snap && is_child_of(y->name, d->name))
					x->used += y->origin ? u[j].excl : u[j].refer;
				else if (y->snap && is_child_of(y->name, d->name))
					x->used += u[j].excl;
			}
		}
	}
	free(u);
	qsort(v, k, sizeof *v, cmp_names);
	*out = v;
	*n = k;
	return 0;
}

void lj_ds_infos_free(struct lj_ds_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].origin);
		free(v[i].mountpoint);
	}
	free(v);
}
