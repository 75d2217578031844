/* registry: one small text file per running jail in the run directory, "<jid>.jail", holding
 * "key=value" lines (values escaped so a record is always one line per key). A flock on
 * "<dir>/lock" serialises JID allocation, name checks and the removal of dead records.
 *
 * Beside each record, a symlink "name.<encoded name>" -> "<jid>" indexes it by name, so a name
 * lookup (every create checks one) reads one record instead of all of them. The index is only a
 * hint, checked against the record it names: it is written before the record and removed after
 * it, so a crash in between leaves an entry whose record is missing or has another name, which
 * lookups ignore and drop (under the lock).
 *
 * Liveness is the init's (PID, start time) pair: /proc/PID/stat must show the same start time
 * and a state other than zombie/dead. Listing never opens pidfds (too slow for 1000 jails and not
 * needed to read); lj_reg_pidfd() does, and re-checks the start time after pidfd_open so the fd
 * cannot name a recycled PID. */
#include "registry/registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define REC_SUFFIX ".jail"

int lj_reg_open(struct lj_registry *r, lj_err *e)
{
	const char *d = getenv("LJAIL_RUNDIR");
	if (!d || !*d)
		d = "/run/ljail";
	r->dir = xstrdup(d);
	r->lockfd = -1;
	r->dirfd = -1;
	r->intent = false;
	/* made on first use, readable by all as FreeBSD's jail list is: jls works for any user;
	 * only root writes (the mkdirs only when it is missing: each costs a path walk) */
	r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0 && errno == ENOENT) {
		if (lj_mkdir_p(r->dir, 0755, e) < 0) {
			free(r->dir);
			r->dir = NULL;
			return -1;
		}
		r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (r->dirfd < 0) {
		int saved = errno;
		free(r->dir);
		r->dir = NULL;
		return lj_error(e, saved, "%s", d);
	}
	return 0;
}

void lj_reg_close(struct lj_registry *r)
{
	if (!r->dir) /* never opened (or the open failed): nothing is held */
		return;
	lj_reg_unlock(r);
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->dirfd = -1;
	free(r->dir);
	r->dir = NULL;
}

int lj_reg_lock(struct lj_registry *r, lj_err *e)
{
	if (r->lockfd >= 0)
		return 0;
	int fd = openat(r->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return lj_error(e, errno, "%s/lock", r->dir);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int saved = errno;
		close(fd);
		return lj_error(e, saved, "lock %s/lock", r->dir);
	}
	r->lockfd = fd;
	return 0;
}

/* The lock file's first line: the last JID handed out, fixed width ("%-11d\n"). */
#define LAST_JID_LEN 12

void lj_reg_unlock(struct lj_registry *r)
{
	if (r->lockfd >= 0) {
		if (r->intent && ftruncate(r->lockfd, LAST_JID_LEN) < 0) {
			/* left: the next create finds the name and cleans up after nothing */
		}
		close(r->lockfd); /* closing the only fd releases the flock */
	}
	r->lockfd = -1;
	r->intent = false;
}

/* ---- records as text ------------------------------------------------------------------------ */

static void add_escaped(lj_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			lj_buf_adds(b, "\\\\");
		else if (*s == '\n')
			lj_buf_adds(b, "\\n");
		else
			lj_buf_addc(b, *s);
	}
}

static char *unescape(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			*o++ = s[i] == 'n' ? '\n' : s[i];
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

char *lj_record_format(const struct lj_record *rec)
{
	lj_buf b = {0};
	lj_buf_addf(&b, "jid=%d\nname=", rec->jid);
	add_escaped(&b, rec->name ? rec->name : "");
	lj_buf_addf(&b, "\ninit_pid=%ld\ninit_start=%llu\n", (long)rec->init_pid,
	            (unsigned long long)rec->init_start);
	for (size_t i = 0; i < rec->params.n; i++) {
		lj_buf_adds(&b, "p.");
		add_escaped(&b, rec->params.v[i]);
		lj_buf_addc(&b, '\n');
	}
	return lj_buf_steal(&b);
}

int lj_record_parse(const char *text, struct lj_record *rec)
{
	memset(rec, 0, sizeof *rec);
	bool have_jid = false;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq && !(len > 2 && memcmp(p, "p.", 2) == 0)) {
			size_t klen = (size_t)(eq - p);
			lj_autofree char *val = unescape(eq + 1, len - klen - 1);
			int64_t v;
			if (klen == 3 && memcmp(p, "jid", 3) == 0 && lj_parse_i64(val, &v)) {
				rec->jid = (int)v;
				have_jid = true;
			} else if (klen == 4 && memcmp(p, "name", 4) == 0) {
				free(rec->name);
				rec->name = xstrdup(val);
			} else if (klen == 8 && memcmp(p, "init_pid", 8) == 0 &&
			           lj_parse_i64(val, &v)) {
				rec->init_pid = (pid_t)v;
			} else if (klen == 10 && memcmp(p, "init_start", 10) == 0) {
				uint64_t u;
				if (lj_parse_u64(val, &u))
					rec->init_start = u;
			}
		}
		if (len > 2 && memcmp(p, "p.", 2) == 0)
			lj_strv_push(&rec->params, unescape(p + 2, len - 2));
		p += len + (nl ? 1 : 0);
	}
	if (!have_jid || !rec->name) {
		lj_record_free(rec);
		return -1;
	}
	return 0;
}

/* ---- liveness ------------------------------------------------------------------------------- */

/* Fields of /proc/PID/stat: 3 (state), 9 (flags), 22 (start time). */
static int proc_stat(pid_t pid, uint64_t *start, char *state, unsigned long *flags)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the LAST ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	char st = 0;
	unsigned long fl = 0;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		if (field == 3)
			st = *p;
		if (field == 9)
			fl = strtoul(p, NULL, 10);
		if (field == 22) {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(p, &end, 10);
			if (errno || end == p)
				return -1;
			*start = v;
			if (state)
				*state = st;
			if (flags)
				*flags = fl;
			return 0;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}

int lj_proc_start_time(pid_t pid, uint64_t *start, char *state)
{
	return proc_stat(pid, start, state, NULL);
}

bool lj_record_alive(const struct lj_record *rec)
{
	uint64_t start;
	char st;
	unsigned long flags;
	if (rec->init_pid <= 0 || proc_stat(rec->init_pid, &start, &st, &flags) < 0)
		return false;
	/* PF_EXITING (0x4): the init is on its way out and its namespaces are already going, so
	 * the jail can no longer be entered: it counts as gone */
	return start == rec->init_start && st != 'Z' && st != 'X' && st != 'x' && !(flags & 0x4);
}

int lj_reg_pidfd(const struct lj_record *rec, lj_err *e)
{
	/* a jail still being made (its "init" is the jail(8) making it) cannot be entered yet */
	if (lj_record_get(rec, "ljail.creating"))
		return lj_errorx(e, "jail \"%s\" not found", rec->name);
	int fd = (int)syscall(SYS_pidfd_open, rec->init_pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			return lj_errorx(e, "jail \"%s\" not found", rec->name);
		return lj_error(e, errno, "pidfd_open %ld", (long)rec->init_pid);
	}
	/* checked after the open: from here on the fd pins the process, so a match means it is ours
	 */
	if (!lj_record_alive(rec)) {
		close(fd);
		return lj_errorx(e, "jail \"%s\" not found", rec->name);
	}
	return fd;
}

/* ---- reading the directory ------------------------------------------------------------------ */

static int read_at(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == cap - 1)
			break;
	}
	close(fd);
	buf[got] = '\0';
	return (int)got;
}

/* Read one record file; large records fall back to the heap. */
static int load_record(int dirfd, const char *fname, struct lj_record *rec)
{
	char stackbuf[4096];
	int n = read_at(dirfd, fname, stackbuf, sizeof stackbuf);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof stackbuf - 1)
		return lj_record_parse(stackbuf, rec);
	int fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	lj_autofree char *path = xasprintf("/proc/self/fd/%d", fd);
	char *text = NULL;
	int rc = lj_read_file(path, &text, NULL, NULL);
	close(fd);
	if (rc < 0)
		return -1;
	rc = lj_record_parse(text, rec);
	free(text);
	return rc;
}

static bool rec_fname_jid(const char *name, int *jid)
{
	size_t n = strlen(name);
	if (n <= strlen(REC_SUFFIX) || strcmp(name + n - strlen(REC_SUFFIX), REC_SUFFIX) != 0)
		return false;
	char num[32];
	size_t l = n - strlen(REC_SUFFIX);
	if (l >= sizeof num)
		return false;
	memcpy(num, name, l);
	num[l] = '\0';
	return lj_parse_int(num, jid) && *jid > 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct lj_record *x = a, *y = b;
	return (x->jid > y->jid) - (x->jid < y->jid);
}

static void (*on_dead)(const struct lj_record *rec);
static void (*on_orphan)(const char *name);

void lj_reg_on_dead(void (*fn)(const struct lj_record *rec))
{
	on_dead = fn;
}

void lj_reg_on_orphan(void (*fn)(const char *name))
{
	on_orphan = fn;
}

/* ---- the name index ------------------------------------------------------------------------ */

/* "name.<name>" with every byte but [A-Za-z0-9_-] as %XX: jail names may hold '/', and '.' is
 * kept out so an entry never looks like a record or an atomic write's "X.tmp.PID". False: the
 * name is too long for a file name, and is not indexed (found by reading every record). */
static bool index_fname(const char *name, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const char *pfx = "name.";
	while (*pfx)
		out[o++] = *pfx++;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (o + 4 > cap)
			return false;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return true;
}

#define INDEX_MAX 240 /* below NAME_MAX, leaving room for ".tmp.PID" */
/* Records written before the index existed (an older ljail with jails running, a record made
 * by hand) have no entry: until the first write indexes every record and leaves this mark, a
 * lookup that misses the index reads the records. */
#define INDEX_MARK "names.indexed"

/* The JID an index entry points at, or -1 (no entry, or not ours). */
static int index_read(struct lj_registry *r, const char *fname)
{
	char buf[32];
	ssize_t n = readlinkat(r->dirfd, fname, buf, sizeof buf - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	int jid;
	return lj_parse_int(buf, &jid) && jid > 0 ? jid : -1;
}

/* Point the entry of `name` at jid, atomically (a symlink renamed over the old one). */
static int index_write(struct lj_registry *r, const char *name, int jid, lj_err *e)
{
	char fname[INDEX_MAX + 16];
	if (!index_fname(name, fname, INDEX_MAX))
		return 0;
	if (index_read(r, fname) == jid)
		return 0;
	char target[24], tmp[sizeof fname + 32];
	snprintf(target, sizeof target, "%d", jid);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", fname, (long)getpid());
	unlinkat(r->dirfd, tmp, 0);
	if (symlinkat(target, r->dirfd, tmp) < 0)
		return lj_error(e, errno, "%s/%s", r->dir, tmp);
	if (renameat(r->dirfd, tmp, r->dirfd, fname) < 0) {
		int saved = errno;
		unlinkat(r->dirfd, tmp, 0);
		return lj_error(e, saved, "%s/%s", r->dir, fname);
	}
	return 0;
}

/* Remove the entry of `name` if it still points at jid (another jail may have the name now).
 * Call locked: an unlocked check-then-unlink could remove a creator's fresh entry. */
static void index_drop(struct lj_registry *r, const char *name, int jid)
{
	char fname[INDEX_MAX + 16];
	if (name && index_fname(name, fname, INDEX_MAX) && index_read(r, fname) == jid)
		unlinkat(r->dirfd, fname, 0);
}

/* Remove the records of dead jails, under the lock, re-checking each: a JID freed and taken
 * again between our read and the lock must not lose its new record. */
static void reap_dead(struct lj_registry *r, const int *jids, size_t n)
{
	bool had_lock = r->lockfd >= 0;
	if (!had_lock && lj_reg_lock(r, NULL) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char fname[48];
		snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jids[i]);
		struct lj_record rec;
		if (load_record(r->dirfd, fname, &rec) < 0)
			continue;
		if (!lj_record_alive(&rec)) {
			if (on_dead)
				on_dead(&rec);
			index_drop(r, rec.name, rec.jid); /* first: see delete_record */
			unlinkat(r->dirfd, fname, 0);
		}
		lj_record_free(&rec);
	}
	if (!had_lock)
		lj_reg_unlock(r);
}

/* "X.tmp.PID" of an atomic write whose writer died (killed between write and rename): gone. */
static void drop_stale_temp(struct lj_registry *r, const char *name)
{
	const char *t = strstr(name, ".tmp.");
	int pid;
	if (!t || !lj_parse_int(t + 5, &pid) || pid <= 0)
		return;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		unlinkat(r->dirfd, name, 0);
}

int lj_reg_list_all(struct lj_registry *r, bool include_dead, struct lj_record **out, size_t *n,
                    lj_err *e)
{
	*out = NULL;
	*n = 0;
	int fd = dup(r->dirfd);
	if (fd < 0)
		return lj_error(e, errno, "%s", r->dir);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return lj_error(e, errno, "%s", r->dir);
	}
	rewinddir(d);
	/* A shared lock while reading: a create replaces its provisional record under the exclusive
	 * one, and a directory read that overlaps a rename may skip the name. */
	int shfd = -1;
	if (r->lockfd < 0) {
		shfd = openat(r->dirfd, "lock", O_RDONLY | O_CLOEXEC);
		while (shfd >= 0 && flock(shfd, LOCK_SH) < 0 && errno == EINTR)
			;
	}
	struct lj_record *recs = NULL;
	size_t cnt = 0, cap = 0;
	int *dead = NULL;
	size_t ndead = 0, capdead = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int jid;
		if (!rec_fname_jid(de->d_name, &jid)) {
			drop_stale_temp(r, de->d_name);
			continue;
		}
		struct lj_record rec;
		if (load_record(r->dirfd, de->d_name, &rec) < 0)
			continue;
		/* a jail still being made (no init yet) is not listed: it cannot be entered */
		if (!include_dead && lj_record_get(&rec, "ljail.creating")) {
			lj_record_free(&rec);
			continue;
		}
		if (!include_dead && !lj_record_alive(&rec)) {
			if (ndead == capdead) {
				capdead = capdead ? capdead * 2 : 8;
				dead = xrealloc(dead, capdead * sizeof *dead);
			}
			dead[ndead++] = rec.jid;
			lj_record_free(&rec);
			continue;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			recs = xrealloc(recs, cap * sizeof *recs);
		}
		recs[cnt++] = rec;
	}
	closedir(d);
	if (shfd >= 0)
		close(shfd);
	if (ndead)
		reap_dead(r, dead, ndead);
	free(dead);
	if (cnt > 1)
		qsort(recs, cnt, sizeof *recs, cmp_rec);
	*out = recs;
	*n = cnt;
	return 0;
}

int lj_reg_list(struct lj_registry *r, struct lj_record **out, size_t *n, lj_err *e)
{
	return lj_reg_list_all(r, false, out, n, e);
}

int lj_reg_get(struct lj_registry *r, int jid, struct lj_record *out)
{
	char fname[48];
	snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jid);
	if (load_record(r->dirfd, fname, out) < 0)
		return -1;
	if (!lj_record_alive(out)) {
		lj_record_free(out);
		reap_dead(r, &jid, 1);
		return -1;
	}
	return 0;
}

/* The entry of a name points at a record that is missing or has another name (a crash between
 * the two writes, or a JID reused): remove it, re-checked under the lock, since a create may be
 * between its entry and its record right now. */
static void drop_stale_index(struct lj_registry *r, const char *name, const char *iname, int jid)
{
	bool had_lock = r->lockfd >= 0;
	if (!had_lock && lj_reg_lock(r, NULL) < 0)
		return;
	if (index_read(r, iname) == jid) {
		char fname[48];
		snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jid);
		struct lj_record rec;
		bool stale = true;
		if (load_record(r->dirfd, fname, &rec) == 0) {
			stale = strcmp(rec.name, name) != 0;
			lj_record_free(&rec);
		}
		if (stale)
			unlinkat(r->dirfd, iname, 0);
	}
	if (!had_lock)
		lj_reg_unlock(r);
}

/* By name through the index: one readlink and one record. */
static int find_indexed(struct lj_registry *r, const char *name, const char *iname,
                        struct lj_record *out)
{
	int jid = index_read(r, iname);
	if (jid < 0)
		return -1;
	char fname[48];
	snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jid);
	struct lj_record rec;
	if (load_record(r->dirfd, fname, &rec) == 0) {
		if (strcmp(rec.name, name) == 0) {
			if (lj_record_alive(&rec)) {
				*out = rec;
				return 0;
			}
			lj_record_free(&rec);
			reap_dead(r, &jid, 1);
			return -1;
		}
		lj_record_free(&rec);
	}
	drop_stale_index(r, name, iname, jid);
	return -1;
}

int lj_reg_find(struct lj_registry *r, const char *name_or_jid, struct lj_record *out, lj_err *e)
{
	int jid;
	if (lj_parse_int(name_or_jid, &jid) && jid > 0) {
		if (lj_reg_get(r, jid, out) == 0)
			return 0;
		/* a numeric name of another jail is not possible (it must equal the jid), so stop
		 */
		lj_errorx(e, "jail \"%s\" not found", name_or_jid);
		if (e)
			e->errnum = ENOENT;
		return -1;
	}
	char iname[INDEX_MAX + 16];
	if (index_fname(name_or_jid, iname, INDEX_MAX)) {
		if (find_indexed(r, name_or_jid, iname, out) == 0)
			return 0;
		if (faccessat(r->dirfd, INDEX_MARK, F_OK, 0) < 0)
			goto scan; /* records from before the index */
		lj_errorx(e, "jail \"%s\" not found", name_or_jid);
		if (e)
			e->errnum = ENOENT;
		return -1;
	}
	/* a name too long to index: read the records, but check liveness only of the one that
	 * matches */
scan:;
	int fd = dup(r->dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return lj_error(e, errno, "%s", r->dir);
	}
	rewinddir(d);
	int rc = -1;
	struct dirent *de;
	while (rc < 0 && (de = readdir(d))) {
		int jid2;
		if (!rec_fname_jid(de->d_name, &jid2))
			continue;
		struct lj_record rec;
		if (load_record(r->dirfd, de->d_name, &rec) < 0)
			continue;
		if (strcmp(rec.name, name_or_jid) == 0 && lj_record_alive(&rec)) {
			*out = rec;
			rc = 0;
			break;
		}
		if (strcmp(rec.name, name_or_jid) == 0)
			reap_dead(r, &rec.jid, 1);
		lj_record_free(&rec);
	}
	closedir(d);
	if (rc < 0) {
		lj_errorx(e, "jail \"%s\" not found", name_or_jid);
		if (e)
			e->errnum = ENOENT;
	}
	return rc;
}

/* Is jid taken by a live jail? A dead one's record is removed (its JID is free). Looked up by
 * name, not taken from a directory listing: readdir may skip an entry that another create's
 * unlocked rename (its final record replacing its provisional one) moves meanwhile. */
static bool jid_taken(struct lj_registry *r, int jid)
{
	char fname[48];
	snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jid);
	/* the two fields liveness needs, without parsing the whole record: they come right after
	 * "jid=" and "name=" (whose value has no raw newline), so a line start finds them */
	char buf[4096];
	if (read_at(r->dirfd, fname, buf, sizeof buf) < 0)
		return false;
	struct lj_record rec = {.jid = jid};
	const char *p = strstr(buf, "\ninit_pid="), *q = strstr(buf, "\ninit_start=");
	int64_t pid;
	uint64_t start;
	char num[24];
	if (p && q) {
		p += strlen("\ninit_pid=");
		q += strlen("\ninit_start=");
		size_t lp = strcspn(p, "\n"), lq = strcspn(q, "\n");
		if (lp < sizeof num && lq < sizeof num) {
			memcpy(num, p, lp);
			num[lp] = '\0';
			bool okp = lj_parse_i64(num, &pid);
			memcpy(num, q, lq);
			num[lq] = '\0';
			if (okp && lj_parse_u64(num, &start)) {
				rec.init_pid = (pid_t)pid;
				rec.init_start = start;
				if (lj_record_alive(&rec))
					return true;
			}
		}
	}
	/* dead, or a record this reader cannot make out: the full path decides and reaps */
	if (lj_reg_get(r, jid, &rec) < 0)
		return false;
	lj_record_free(&rec);
	return true;
}

/* FreeBSD's JAIL_MAX: JIDs wrap around after it. */
#define JID_MAX 999999

/* The lock file (read and written under the lock): the last JID handed out, then the name a
 * killed holder left (lj_reg_intent), if any: *orphan gets it. */
static int last_jid(struct lj_registry *r, char **orphan)
{
	char buf[LAST_JID_LEN + 1024];
	ssize_t n = pread(r->lockfd, buf, sizeof buf - 1, 0);
	*orphan = NULL;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (n > LAST_JID_LEN) {
		char *name = buf + LAST_JID_LEN;
		name[strcspn(name, "\n")] = '\0';
		if (*name)
			*orphan = xstrdup(name);
	}
	buf[strcspn(buf, " \n")] = '\0';
	int v;
	return lj_parse_int(buf, &v) && v > 0 && v <= JID_MAX ? v : 0;
}

static void set_last_jid(struct lj_registry *r, int jid)
{
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%-11d\n", jid); /* fixed width: no stale digits */
	if (pwrite(r->lockfd, buf, (size_t)n, 0) != n)
		return; /* only a hint: the next create walks a little further */
}

void lj_reg_intent(struct lj_registry *r, const char *name)
{
	if (r->lockfd < 0)
		return;
	struct iovec v[2] = {{.iov_base = (void *)name, .iov_len = strlen(name)},
	                     {.iov_base = "\n", .iov_len = 1}};
	/* a short write still names the jail up to where it stopped: a prefix of a name is at
	 * worst another name without a record, whose cleanup finds nothing */
	if (pwritev(r->lockfd, v, 2, LAST_JID_LEN) > 0)
		r->intent = true;
}

/* A holder of the lock died during a create: its jail has no record (or it died after writing
 * it, and the jail lives). */
static void reap_orphan(struct lj_registry *r, const char *name)
{
	struct lj_record rec;
	if (lj_reg_find(r, name, &rec, NULL) == 0) {
		lj_record_free(&rec);
	} else {
		/* killed between the name's entry and the record: a numeric name's lookup above
		 * went by JID and did not look at the entry */
		char iname[INDEX_MAX + 16];
		int jid;
		if (index_fname(name, iname, INDEX_MAX) && (jid = index_read(r, iname)) > 0)
			drop_stale_index(r, name, iname, jid);
		if (on_orphan)
			on_orphan(name);
	}
	if (ftruncate(r->lockfd, LAST_JID_LEN) < 0) {
		/* left: the next create looks again */
	}
}

int lj_reg_alloc_jid(struct lj_registry *r, int want, int *jid, lj_err *e)
{
	/* As FreeBSD's jail_set does: the wanted JID, or the next free one after the last handed
	 * out, wrapping at JAIL_MAX (a restarted jail gets a new JID). Only the candidates are
	 * looked at, so a create costs the same with 1 or 1000 jails. */
	lj_autofree char *orphan = NULL;
	int rc = 0, last = r->lockfd >= 0 ? last_jid(r, &orphan) : 0;
	if (orphan)
		reap_orphan(r, orphan);
	if (want > 0) {
		if (jid_taken(r, want)) {
			rc = lj_errorx(e, "jail %d already exists", want);
			if (e)
				e->errnum = EEXIST;
		}
		*jid = want;
	} else {
		int cand = last;
		for (int k = 0; k < JID_MAX; k++) {
			cand = cand % JID_MAX + 1;
			if (!jid_taken(r, cand))
				break;
		}
		*jid = cand;
		if (r->lockfd >= 0)
			set_last_jid(r, cand);
	}
	/* now and then, as listings do: atomic writes whose writer died leave "X.tmp.PID" */
	if (last % 64 != 0)
		return rc;
	int fd = dup(r->dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			drop_stale_temp(r, de->d_name);
	closedir(d);
	return rc;
}

static void index_all(struct lj_registry *r)
{
	if (faccessat(r->dirfd, INDEX_MARK, F_OK, 0) == 0)
		return;
	struct lj_record *recs;
	size_t n;
	if (lj_reg_list_all(r, true, &recs, &n, NULL) < 0)
		return;
	bool ok = true;
	for (size_t i = 0; i < n; i++)
		if (recs[i].name && index_write(r, recs[i].name, recs[i].jid, NULL) < 0)
			ok = false;
	lj_records_free(recs, n);
	int fd = ok ? openat(r->dirfd, INDEX_MARK, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;
	if (fd >= 0)
		close(fd);
}

int lj_reg_write(struct lj_registry *r, const struct lj_record *rec, lj_err *e)
{
	index_all(r);
	/* the index entry first: a crash before the record leaves only a stale entry */
	if (rec->name && index_write(r, rec->name, rec->jid, e) < 0)
		return -1;
	lj_autofree char *text = lj_record_format(rec);
	lj_autofree char *path = xasprintf("%s/%d" REC_SUFFIX, r->dir, rec->jid);
	return lj_write_file_replace(path, text, strlen(text), 0644, e);
}

/* Remove jid's record (only if it is still own's, when own is given) and its name entry. */
static int delete_record(struct lj_registry *r, int jid, const struct lj_record *own, lj_err *e)
{
	char fname[48];
	snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jid);
	/* locked, so the name's entry cannot be taken over between our check and the unlink */
	bool had_lock = r->lockfd >= 0;
	if (!had_lock && lj_reg_lock(r, e) < 0)
		return -1;
	struct lj_record rec;
	bool have = load_record(r->dirfd, fname, &rec) == 0;
	int rc = 0;
	if (own && (!have || rec.init_pid != own->init_pid || rec.init_start != own->init_start))
		; /* another jail's by now, or gone */
	else {
		/* the name's entry first: a kill in between leaves a dead record, which the next
		 * listing reaps; the other way round it would leave an entry nobody looks up */
		if (have)
			index_drop(r, rec.name, jid);
		if (unlinkat(r->dirfd, fname, 0) < 0 && errno != ENOENT)
			rc = lj_error(e, errno, "%s/%s", r->dir, fname);
	}
	if (have)
		lj_record_free(&rec);
	if (!had_lock)
		lj_reg_unlock(r);
	return rc;
}

int lj_reg_delete(struct lj_registry *r, int jid, lj_err *e)
{
	return delete_record(r, jid, NULL, e);
}

int lj_reg_delete_own(struct lj_registry *r, const struct lj_record *own, lj_err *e)
{
	return delete_record(r, own->jid, own, e);
}

/* ---- record parameters ---------------------------------------------------------------------- */

static ssize_t param_index(const struct lj_record *rec, const char *param)
{
	size_t plen = strlen(param);
	for (size_t i = 0; i < rec->params.n; i++)
		if (strncmp(rec->params.v[i], param, plen) == 0 && rec->params.v[i][plen] == '=')
			return (ssize_t)i;
	return -1;
}

const char *lj_record_get(const struct lj_record *rec, const char *param)
{
	if (strcmp(param, "name") == 0)
		return rec->name;
	ssize_t i = param_index(rec, param);
	return i < 0 ? NULL : rec->params.v[i] + strlen(param) + 1;
}

void lj_record_set(struct lj_record *rec, const char *param, const char *value)
{
	if (strcmp(param, "name") == 0) {
		free(rec->name);
		rec->name = xstrdup(value);
		return;
	}
	ssize_t i = param_index(rec, param);
	char *kv = xasprintf("%s=%s", param, value);
	if (i >= 0) {
		free(rec->params.v[i]);
		rec->params.v[i] = kv;
	} else {
		lj_strv_push(&rec->params, kv);
	}
}

void lj_record_unset(struct lj_record *rec, const char *param)
{
	ssize_t i = param_index(rec, param);
	if (i < 0)
		return;
	free(rec->params.v[i]);
	memmove(&rec->params.v[i], &rec->params.v[i + 1],
	        (rec->params.n - (size_t)i) * sizeof rec->params.v[0]); /* moves the NULL too */
	rec->params.n--;
}

void lj_record_free(struct lj_record *rec)
{
	free(rec->name);
	rec->name = NULL;
	lj_strv_free(&rec->params);
}

void lj_records_free(struct lj_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lj_record_free(&recs[i]);
	free(recs);
}
