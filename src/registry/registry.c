/* registry: one small text file per running jail in the run directory, "<jid>.jail", holding
 * "key=value" lines (values escaped so a record is always one line per key). A flock on
 * "<dir>/lock" serialises JID allocation, name checks and the removal of dead records.
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
	/* readable by all, as FreeBSD's jail list is: jls works for any user; only root writes */
	if (lj_mkdir_p(r->dir, 0755, e) < 0) {
		free(r->dir);
		r->dir = NULL;
		return -1;
	}
	r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

void lj_reg_unlock(struct lj_registry *r)
{
	if (r->lockfd >= 0)
		close(r->lockfd); /* closing the only fd releases the flock */
	r->lockfd = -1;
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

void lj_reg_on_dead(void (*fn)(const struct lj_record *rec))
{
	on_dead = fn;
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
	/* by name: read the records, but check liveness only of the one that matches */
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

int lj_reg_alloc_jid(struct lj_registry *r, int want, int *jid, lj_err *e)
{
	struct lj_record *recs;
	size_t n;
	if (lj_reg_list(r, &recs, &n, e) < 0)
		return -1;
	int rc = 0;
	if (want > 0) {
		for (size_t i = 0; i < n; i++)
			if (recs[i].jid == want) {
				rc = lj_errorx(e, "jail %d already exists", want);
				if (e)
					e->errnum = EEXIST;
			}
		*jid = want;
	} else {
		int next = 1; /* recs are sorted: the first gap is the lowest free JID */
		for (size_t i = 0; i < n && recs[i].jid <= next; i++)
			if (recs[i].jid == next)
				next++;
		*jid = next;
	}
	lj_records_free(recs, n);
	return rc;
}

int lj_reg_write(struct lj_registry *r, const struct lj_record *rec, lj_err *e)
{
	lj_autofree char *text = lj_record_format(rec);
	lj_autofree char *path = xasprintf("%s/%d" REC_SUFFIX, r->dir, rec->jid);
	return lj_write_file_replace(path, text, strlen(text), 0644, e);
}

int lj_reg_delete(struct lj_registry *r, int jid, lj_err *e)
{
	char fname[48];
	snprintf(fname, sizeof fname, "%d" REC_SUFFIX, jid);
	if (unlinkat(r->dirfd, fname, 0) < 0 && errno != ENOENT)
		return lj_error(e, errno, "%s/%s", r->dir, fname);
	return 0;
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
