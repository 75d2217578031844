/* rctl(8) rules: FreeBSD's syntax, mapped onto cgroup limits and per-process rlimits.
 *
 * A rule Linux cannot enforce is refused with the resource and action named; nothing is stored
 * that would then be silently ignored. */
#include "cgroup/cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

const char *const lj_rctl_resources[LJ_RCTL_NRES] = {
        "cputime",      "datasize", "stacksize",  "coredumpsize", "memoryuse",
        "memorylocked", "maxproc",  "openfiles",  "vmemoryuse",   "pseudoterminals",
        "swapuse",      "nthr",     "msgqqueued", "msgqsize",     "nmsgq",
        "nsem",         "nsemop",   "nshm",       "shmsize",      "wallclock",
        "pcpu",         "readbps",  "writebps",   "readiops",     "writeiops"};

enum {
	R_CPUTIME,
	R_DATASIZE,
	R_STACKSIZE,
	R_COREDUMPSIZE,
	R_MEMORYUSE,
	R_MEMORYLOCKED,
	R_MAXPROC,
	R_OPENFILES,
	R_VMEMORYUSE,
	R_PSEUDOTERMINALS,
	R_SWAPUSE,
	R_NTHR,
	R_MSGQQUEUED,
	R_MSGQSIZE,
	R_NMSGQ,
	R_NSEM,
	R_NSEMOP,
	R_NSHM,
	R_SHMSIZE,
	R_WALLCLOCK,
	R_PCPU,
	R_READBPS,
	R_WRITEBPS,
	R_READIOPS,
	R_WRITEIOPS,
};

static const char *const subjects[] = {"", "process", "user", "loginclass", "jail"};

/* FreeBSD's signal actions; Linux lacks SIGEMT, SIGINFO and SIGTHR (0 here). */
static const struct {
	const char *name;
	int sig;
} signames[] = {
        {"sighup", SIGHUP},
        {"sigint", SIGINT},
        {"sigquit", SIGQUIT},
        {"sigill", SIGILL},
        {"sigtrap", SIGTRAP},
        {"sigabrt", SIGABRT},
        {"sigemt", 0},
        {"sigfpe", SIGFPE},
        {"sigkill", SIGKILL},
        {"sigbus", SIGBUS},
        {"sigsegv", SIGSEGV},
        {"sigsys", SIGSYS},
        {"sigpipe", SIGPIPE},
        {"sigalrm", SIGALRM},
        {"sigterm", SIGTERM},
        {"sigurg", SIGURG},
        {"sigstop", SIGSTOP},
        {"sigtstp", SIGTSTP},
        {"sigchld", SIGCHLD},
        {"sigttin", SIGTTIN},
        {"sigttou", SIGTTOU},
        {"sigio", SIGIO},
        {"sigxcpu", SIGXCPU},
        {"sigxfsz", SIGXFSZ},
        {"sigvtalrm", SIGVTALRM},
        {"sigprof", SIGPROF},
        {"sigwinch", SIGWINCH},
        {"siginfo", 0},
        {"sigusr1", SIGUSR1},
        {"sigusr2", SIGUSR2},
        {"sigthr", 0},
};

static const char *const actions[] = {"deny", "log", "devctl", "sig", "throttle"};

/* Resources FreeBSD accounts per credential only: "/process" is refused for them. */
static bool per_credential(int r)
{
	switch (r) {
	case R_PSEUDOTERMINALS:
	case R_SWAPUSE:
	case R_MSGQQUEUED:
	case R_MSGQSIZE:
	case R_NMSGQ:
	case R_NSEM:
	case R_NSHM:
	case R_SHMSIZE:
		return true;
	default:
		return false;
	}
}

/* ---- parsing --------------------------------------------------------------------------------- */

/* expand_number(3): digits with an optional k m g t p e (x1024^n) suffix. */
static bool expand_number(const char *s, int64_t *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	int shift = 0;
	if (*end) {
		const char *units = "kmgtpe";
		const char *u = strchr(units, tolower((unsigned char)*end));
		if (!u || end[1])
			return false;
		shift = 10 * (int)(u - units + 1);
	}
	if (shift && v > (unsigned long long)INT64_MAX >> shift)
		return false;
	v <<= shift;
	if (v > (unsigned long long)INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

static enum lj_rctl_subject subject_of(const char *s)
{
	if (!strcasecmp(s, "u") || !strcmp(s, "user"))
		return LJ_RS_USER;
	if (!strcasecmp(s, "p") || !strcmp(s, "process"))
		return LJ_RS_PROCESS;
	if (!strcasecmp(s, "l") || !strcasecmp(s, "c") || !strcasecmp(s, "class") ||
	    !strcmp(s, "loginclass"))
		return LJ_RS_LOGINCLASS;
	if (!strcasecmp(s, "j") || !strcmp(s, "jail"))
		return LJ_RS_JAIL;
	return (enum lj_rctl_subject) - 1;
}

static int resource_of(const char *s)
{
	for (int i = 0; i < LJ_RCTL_NRES; i++)
		if (strcmp(s, lj_rctl_resources[i]) == 0)
			return i;
	return -1;
}

void lj_rctl_rule_free(struct lj_rctl_rule *r)
{
	free(r->id);
	r->id = NULL;
}

int lj_rctl_parse(const char *text, bool filter, struct lj_rctl_rule *r, lj_err *e)
{
	memset(r, 0, sizeof *r);
	r->resource = r->action = -1;
	r->amount = -1;
	lj_autofree char *copy = xstrdup(text);
	char *rest = copy;
	char *subj = strsep(&rest, ":");
	char *id = strsep(&rest, ":");
	if (!id)
		return lj_errorx(e, "malformed rule '%s': missing subject", text);
	char *res = strsep(&rest, ":");
	char *act = rest ? strsep(&rest, "=/") : NULL;
	char *amount = rest ? strsep(&rest, "/") : NULL;
	char *per = rest;

	if (amount && *amount && !expand_number(amount, &r->amount))
		return lj_errorx(e, "malformed rule '%s': invalid numeric value '%s'", text,
		                 amount);
	/* From here on the errors are the kernel's: EINVAL for an unknown word or a rule that
	 * is not complete. */
	if (*subj) {
		r->subject = subject_of(subj);
		if ((int)r->subject < 0)
			return lj_error(e, EINVAL, "unknown subject '%s'", subj);
	}
	r->id = xstrdup(id);
	if (*id && r->subject == LJ_RS_PROCESS) {
		int pid;
		if (!lj_parse_int(id, &pid) || pid <= 0)
			return lj_error(e, EINVAL, "invalid process id '%s'", id);
	}
	if (*id && !*subj)
		return lj_error(e, EINVAL, "subject id '%s' without a subject", id);
	if (res && *res) {
		r->resource = resource_of(res);
		if (r->resource < 0)
			return lj_error(e, EINVAL, "unknown resource '%s'", res);
	}
	if (act && *act) {
		for (size_t i = 0; i < LJ_ARRAY_LEN(actions); i++)
			if (i != LJ_RA_SIG && strcmp(act, actions[i]) == 0)
				r->action = (int)i;
		for (size_t i = 0; r->action < 0 && i < LJ_ARRAY_LEN(signames); i++)
			if (strcmp(act, signames[i].name) == 0) {
				r->action = LJ_RA_SIG;
				r->sig = (int)i;
			}
		if (r->action < 0)
			return lj_error(e, EINVAL, "unknown action '%s'", act);
	}
	if (per && *per) {
		r->per = (enum lj_rctl_subject) - 1;
		for (int i = 1; i < (int)LJ_ARRAY_LEN(subjects); i++)
			if (strcmp(per, subjects[i]) == 0)
				r->per = (enum lj_rctl_subject)i;
		if ((int)r->per < 0)
			return lj_error(e, EINVAL, "unknown subject '%s' after '/'", per);
	}
	if (r->per == r->subject)
		r->per = LJ_RS_NONE;
	if (filter)
		return 0;
	if (!*subj || !*id || r->resource < 0 || r->action < 0 || r->amount < 0)
		return lj_error(e, EINVAL, "incomplete rule");
	return 0;
}

char *lj_rctl_humanize(uint64_t n)
{
	/* humanize_number(buf, 6, n, "", HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE) */
	static const char *const prefixes[] = {"", "K", "M", "G", "T", "P", "E", "E"};
	const int64_t divisor = 1024, deccut = 973;
	int64_t quotient = n > INT64_MAX ? INT64_MAX : (int64_t)n, remainder = 0, max = 10000;
	int i;
	for (i = 0; (quotient >= max ||
	             (quotient == max - 1 && (remainder >= deccut || remainder >= divisor / 2))) &&
	            i < 7;
	     i++) {
		remainder = quotient % divisor;
		quotient /= divisor;
	}
	if (((quotient == 9 && remainder < deccut) || quotient < 9) && i > 0) {
		int s1 = (int)quotient + (int)((remainder * 10 + divisor / 2) / divisor / 10);
		int s2 = (int)(((remainder * 10 + divisor / 2) / divisor) % 10);
		return xasprintf("%d.%d%s", s1, s2, prefixes[i]);
	}
	return xasprintf("%lld%s", (long long)(quotient + (remainder + divisor / 2) / divisor),
	                 prefixes[i]);
}

char *lj_rctl_format(const struct lj_rctl_rule *r, bool human)
{
	lj_buf b = {0};
	lj_buf_addf(&b, "%s:%s:", subjects[r->subject], r->id ? r->id : "");
	if (r->resource >= 0)
		lj_buf_adds(&b, lj_rctl_resources[r->resource]);
	if (r->action >= 0) {
		lj_buf_addf(&b, ":%s",
		            r->action == LJ_RA_SIG ? signames[r->sig].name : actions[r->action]);
		if (r->amount >= 0) {
			if (human) {
				lj_autofree char *h = lj_rctl_humanize((uint64_t)r->amount);
				lj_buf_addf(&b, "=%s", h);
			} else
				lj_buf_addf(&b, "=%lld", (long long)r->amount);
		}
		if (r->per != LJ_RS_NONE && r->per != r->subject)
			lj_buf_addf(&b, "/%s", subjects[r->per]);
	}
	return lj_buf_steal(&b);
}

bool lj_rctl_match(const struct lj_rctl_rule *f, const struct lj_rctl_rule *r)
{
	if (f->subject != LJ_RS_NONE && f->subject != r->subject)
		return false;
	if (f->id && *f->id && strcmp(f->id, r->id ? r->id : "") != 0)
		return false;
	if (f->resource >= 0 && f->resource != r->resource)
		return false;
	if (f->action >= 0 &&
	    (f->action != r->action || (f->action == LJ_RA_SIG && f->sig != r->sig)))
		return false;
	if (f->amount >= 0 && f->amount != r->amount)
		return false;
	if (f->per != LJ_RS_NONE && f->per != (r->per == LJ_RS_NONE ? r->subject : r->per))
		return false;
	return true;
}

/* ---- what Linux can enforce ------------------------------------------------------------------ */

/* The rlimit a per-process resource maps to, or -1. */
static int rlimit_of(int res)
{
	switch (res) {
	case R_CPUTIME:
		return RLIMIT_CPU;
	case R_DATASIZE:
		return RLIMIT_DATA;
	case R_STACKSIZE:
		return RLIMIT_STACK;
	case R_COREDUMPSIZE:
		return RLIMIT_CORE;
	case R_MEMORYLOCKED:
		return RLIMIT_MEMLOCK;
	case R_OPENFILES:
		return RLIMIT_NOFILE;
	case R_VMEMORYUSE:
		return RLIMIT_AS;
	default:
		return -1;
	}
}

/* The cgroup limit a jail-wide resource maps to, or -1. */
static int cglimit_of(int res)
{
	switch (res) {
	case R_MEMORYUSE:
		return LJ_CGL_MEMORY;
	case R_SWAPUSE:
		return LJ_CGL_SWAP;
	case R_MAXPROC:
	case R_NTHR:
		return LJ_CGL_PIDS;
	case R_PCPU:
		return LJ_CGL_CPU_PCT;
	case R_READBPS:
		return LJ_CGL_READ_BPS;
	case R_WRITEBPS:
		return LJ_CGL_WRITE_BPS;
	case R_READIOPS:
		return LJ_CGL_READ_IOPS;
	case R_WRITEIOPS:
		return LJ_CGL_WRITE_IOPS;
	default:
		return -1;
	}
}

static bool is_io(int res)
{
	return res == R_READBPS || res == R_WRITEBPS || res == R_READIOPS || res == R_WRITEIOPS;
}

static int refuse(const struct lj_rctl_rule *r, const char *why, lj_err *e)
{
	const char *act = r->action == LJ_RA_SIG ? signames[r->sig].name : actions[r->action];
	return lj_error(e, ENOTSUP, "%s with action %s%s cannot be enforced on Linux (%s)",
	                lj_rctl_resources[r->resource], act,
	                r->per != LJ_RS_NONE && r->per != r->subject ? "/process" : "", why);
}

int lj_rctl_check(const struct lj_rctl_rule *r, lj_err *e)
{
	enum lj_rctl_subject per = r->per == LJ_RS_NONE ? r->subject : r->per;
	int res = r->resource;
	/* What FreeBSD itself refuses with EOPNOTSUPP. */
	if (r->action == LJ_RA_DENY && (res == R_CPUTIME || res == R_WALLCLOCK || is_io(res)))
		return lj_error(e, EOPNOTSUPP, "%s cannot be denied, only %s",
		                lj_rctl_resources[res],
		                is_io(res) ? "throttled" : "signalled or logged");
	if (r->action == LJ_RA_THROTTLE && !is_io(res))
		return lj_error(e, EOPNOTSUPP,
		                "only readbps, writebps, readiops and writeiops can be "
		                "throttled");
	if (per == LJ_RS_PROCESS && per_credential(res))
		return lj_error(e, EOPNOTSUPP, "%s is accounted per credential, not per process",
		                lj_rctl_resources[res]);
	if (r->per != LJ_RS_NONE && r->per != LJ_RS_PROCESS && r->per != r->subject)
		return lj_error(e, EINVAL, "a %s rule can only be per %s or per process",
		                subjects[r->subject], subjects[r->subject]);

	if (r->subject == LJ_RS_USER || r->subject == LJ_RS_LOGINCLASS)
		return lj_error(e, ENOTSUP,
		                "%s rules cannot be enforced on Linux (no per-%s "
		                "resource accounting)",
		                subjects[r->subject], subjects[r->subject]);
	if (r->action == LJ_RA_LOG || r->action == LJ_RA_DEVCTL)
		return refuse(r, "the kernel only enforces the limit; nothing reports a match", e);
	if (r->action == LJ_RA_SIG && signames[r->sig].sig == 0)
		return refuse(r, "Linux has no such signal", e);

	if (per == LJ_RS_PROCESS) {
		/* One rlimit per process, inherited by children. */
		if (rlimit_of(res) < 0)
			return refuse(r, "no per-process limit exists for it", e);
		if (res == R_CPUTIME) {
			if (r->action != LJ_RA_SIG ||
			    (signames[r->sig].sig != SIGXCPU && signames[r->sig].sig != SIGKILL))
				return refuse(r, "RLIMIT_CPU can only send SIGXCPU or SIGKILL", e);
			return 0;
		}
		if (r->action != LJ_RA_DENY)
			return refuse(r, "an rlimit can only deny", e);
		return 0;
	}
	/* per jail: the jail's cgroup */
	if (cglimit_of(res) < 0) {
		if (rlimit_of(res) >= 0)
			return refuse(r, "Linux limits it per process only: add /process", e);
		return refuse(r, "no cgroup controller accounts it", e);
	}
	if (is_io(res))
		return 0; /* throttle, checked above */
	if (res == R_MEMORYUSE && r->action == LJ_RA_SIG && signames[r->sig].sig == SIGKILL)
		return 0; /* the memory controller's OOM killer sends SIGKILL */
	if (r->action != LJ_RA_DENY)
		return refuse(r, "the cgroup controller can only deny", e);
	if (res == R_PCPU && r->amount == 0)
		return lj_error(e, EINVAL, "pcpu must be at least 1");
	return 0;
}

/* ---- the store ------------------------------------------------------------------------------- */

struct entry {
	struct lj_rctl_rule r;
	bool from_conf; /* set by the jail's `rctl` parameter */
};

struct store {
	char *path;
	int lockfd;
	struct entry *v;
	size_t n;
	char *saved; /* the file's text as read (NULL: no file): unchanged rules are not rewritten
	              */
};

static const char *rundir(void)
{
	const char *d = getenv("LJAIL_RUNDIR");
	return d && *d ? d : "/run/ljail";
}

static void store_clear(struct store *s)
{
	for (size_t i = 0; i < s->n; i++)
		lj_rctl_rule_free(&s->v[i].r);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void store_close(struct store *s)
{
	store_clear(s);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s->path);
	free(s->saved);
	s->saved = NULL;
}

static bool process_gone(const struct lj_rctl_rule *r)
{
	if (r->subject != LJ_RS_PROCESS)
		return false;
	return kill(atoi(r->id), 0) < 0 && errno == ESRCH;
}

static int store_open(struct store *s, lj_err *e)
{
	memset(s, 0, sizeof *s);
	s->lockfd = -1;
	if (lj_mkdir_p(rundir(), 0755, e) < 0)
		return -1;
	s->path = xasprintf("%s/rctl.rules", rundir());
	lj_autofree char *lock = xasprintf("%s/rctl.lock", rundir());
	s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX) < 0) {
		lj_error(e, errno, "%s", lock);
		store_close(s);
		return -1;
	}
	lj_autofree char *text = NULL;
	if (lj_read_file(s->path, &text, NULL, e) < 0) {
		if (e && e->errnum == ENOENT)
			return 0;
		store_close(s);
		return -1;
	}
	s->saved = xstrdup(text);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		bool conf = false;
		char *tab = strchr(line, '\t');
		if (tab) {
			*tab = '\0';
			conf = strcmp(tab + 1, "conf") == 0;
		}
		struct lj_rctl_rule r;
		if (lj_rctl_parse(line, false, &r, NULL) < 0) {
			lj_rctl_rule_free(&r);
			continue;
		}
		/* process rules end with their process, as in FreeBSD */
		if (process_gone(&r)) {
			lj_rctl_rule_free(&r);
			continue;
		}
		s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
		s->v[s->n++] = (struct entry){r, conf};
	}
	return 0;
}

static int store_save(struct store *s, lj_err *e)
{
	lj_buf b = {0};
	for (size_t i = 0; i < s->n; i++) {
		lj_autofree char *t = lj_rctl_format(&s->v[i].r, false);
		lj_buf_addf(&b, "%s%s\n", t, s->v[i].from_conf ? "\tconf" : "");
	}
	/* most jails have no rules: skip the fsync'd rewrite when nothing changed */
	if (strcmp(s->saved ? s->saved : "", b.s ? b.s : "") == 0) {
		lj_buf_free(&b);
		return 0;
	}
	int r = lj_write_file_atomic(s->path, b.s ? b.s : "", b.len, 0644, e);
	free(s->saved);
	s->saved = r == 0 ? xstrdup(b.s ? b.s : "") : NULL;
	lj_buf_free(&b);
	return r;
}

static struct lj_rctl_rule rule_dup(const struct lj_rctl_rule *r)
{
	struct lj_rctl_rule c = *r;
	c.id = xstrdup(r->id ? r->id : "");
	return c;
}

/* Everything but the amount is the same: the new rule replaces the old one. */
static bool same_but_amount(const struct lj_rctl_rule *a, const struct lj_rctl_rule *b)
{
	return a->subject == b->subject && strcmp(a->id, b->id) == 0 &&
	       a->resource == b->resource && a->action == b->action &&
	       (a->action != LJ_RA_SIG || a->sig == b->sig) && a->per == b->per;
}

static void store_put(struct store *s, const struct lj_rctl_rule *r, bool conf)
{
	for (size_t i = 0; i < s->n; i++)
		if (same_but_amount(&s->v[i].r, r)) {
			lj_rctl_rule_free(&s->v[i].r);
			s->v[i] = (struct entry){rule_dup(r), conf};
			return;
		}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n++] = (struct entry){rule_dup(r), conf};
}

static void store_drop(struct store *s, size_t i)
{
	lj_rctl_rule_free(&s->v[i].r);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
	s->n--;
}

/* A copy of the rules, to put back when applying the new set fails. */
static struct entry *store_snapshot(const struct store *s)
{
	struct entry *c = xcalloc(s->n + 1, sizeof *c);
	for (size_t i = 0; i < s->n; i++)
		c[i] = (struct entry){rule_dup(&s->v[i].r), s->v[i].from_conf};
	return c;
}

static void store_restore(struct store *s, struct entry *snap, size_t n)
{
	store_clear(s);
	s->v = snap;
	s->n = n;
}

static void snapshot_free(struct entry *snap, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lj_rctl_rule_free(&snap[i].r);
	free(snap);
}

/* ---- applying rules -------------------------------------------------------------------------- */

/* An rlimit on one process, both soft and hard (SIGXCPU-only cputime keeps the hard one). */
static int set_rlimit(pid_t pid, int res, const struct lj_rctl_rule *r, lj_err *e)
{
	int rl = rlimit_of(res);
	struct rlimit lim;
	if (!r) {
		/* No rule any more: back to what rctl itself runs with. */
		getrlimit(rl, &lim);
	} else {
		rlim_t v = (rlim_t)r->amount;
		lim.rlim_cur = v;
		lim.rlim_max = v;
		if (res == R_CPUTIME && signames[r->sig].sig == SIGXCPU)
			lim.rlim_max = RLIM_INFINITY;
	}
	if (prlimit(pid, rl, &lim, NULL) == 0)
		return 0;
	int err = errno;
	struct rlimit old;
	if (err == EPERM && prlimit(pid, rl, NULL, &old) == 0 && lim.rlim_max > old.rlim_max) {
		/* Raising a hard limit takes CAP_SYS_RESOURCE: go as far as the hard limit allows
		 * and say that the rest stays. */
		if (!r) {
			old.rlim_cur = old.rlim_max;
			prlimit(pid, rl, &old, NULL);
		}
		return lj_error(
		        e, EPERM,
		        "pid %d keeps %s at %llu: raising a hard limit needs CAP_SYS_RESOURCE",
		        (int)pid, lj_rctl_resources[res], (unsigned long long)old.rlim_max);
	}
	return lj_error(e, err, "prlimit %s on pid %d", lj_rctl_resources[res], (int)pid);
}

/* The strictest rule among the stored ones for (subject, id, resource) per `per`. */
static const struct lj_rctl_rule *strictest(const struct store *s, enum lj_rctl_subject subj,
                                            const char *id, int res, enum lj_rctl_subject per)
{
	const struct lj_rctl_rule *best = NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct lj_rctl_rule *r = &s->v[i].r;
		enum lj_rctl_subject rp = r->per == LJ_RS_NONE ? r->subject : r->per;
		if (r->subject != subj || strcmp(r->id, id) != 0 || r->resource != res || rp != per)
			continue;
		if (!best || r->amount < best->amount)
			best = r;
	}
	return best;
}

/* Bring a running jail's group and processes in line with the stored rules. Resources in
 * `lift` lose their limit when no rule for them is left. A jail that is not running has
 * nothing to apply to: its rules wait for its start. */
static int apply_jail(const struct store *s, const char *name, const bool lift[LJ_RCTL_NRES],
                      lj_err *e)
{
	struct lj_cg *cg;
	lj_err oe;
	if (lj_cg_open(name, &cg, &oe) < 0)
		return 0;
	int64_t want[LJ_CGL_N];
	bool touch[LJ_CGL_N] = {0};
	for (int l = 0; l < LJ_CGL_N; l++)
		want[l] = LJ_CG_UNLIMITED;
	for (int res = 0; res < LJ_RCTL_NRES; res++) {
		int l = cglimit_of(res);
		if (l < 0)
			continue;
		const struct lj_rctl_rule *r = strictest(s, LJ_RS_JAIL, name, res, LJ_RS_JAIL);
		if (r) {
			if (want[l] < 0 || r->amount < want[l])
				want[l] = r->amount;
			touch[l] = true;
		} else if (lift[res])
			touch[l] = true;
	}
	int rc = 0;
	/* memory before swap: a v1 swap limit is counted on top of the memory limit */
	for (int l = 0; l < LJ_CGL_N && rc == 0; l++)
		if (touch[l] && lj_cg_set_limit(cg, (enum lj_cg_limit)l, want[l], e) < 0)
			rc = -1;
	if (rc == 0) {
		pid_t *pids = NULL;
		size_t n = 0;
		lj_cg_pids(cg, &pids, &n, NULL);
		for (int res = 0; res < LJ_RCTL_NRES && rc == 0; res++) {
			if (rlimit_of(res) < 0)
				continue;
			const struct lj_rctl_rule *r =
			        strictest(s, LJ_RS_JAIL, name, res, LJ_RS_PROCESS);
			if (!r && !lift[res])
				continue;
			for (size_t i = 0; i < n && rc == 0; i++) {
				lj_err pe;
				if (set_rlimit(pids[i], res, r, &pe) < 0 && pe.errnum != ESRCH) {
					if (e)
						*e = pe;
					rc = -1;
				}
			}
		}
		free(pids);
	}
	lj_cg_free(cg);
	return rc;
}

static int apply_process(const struct store *s, const char *id, const bool lift[LJ_RCTL_NRES],
                         lj_err *e)
{
	pid_t pid = atoi(id);
	for (int res = 0; res < LJ_RCTL_NRES; res++) {
		if (rlimit_of(res) < 0)
			continue;
		const struct lj_rctl_rule *r = strictest(s, LJ_RS_PROCESS, id, res, LJ_RS_PROCESS);
		if ((r || lift[res]) && set_rlimit(pid, res, r, e) < 0)
			return -1;
	}
	return 0;
}

static int apply_subject(const struct store *s, enum lj_rctl_subject subj, const char *id,
                         const bool lift[LJ_RCTL_NRES], lj_err *e)
{
	if (subj == LJ_RS_JAIL)
		return apply_jail(s, id, lift, e);
	if (subj == LJ_RS_PROCESS)
		return apply_process(s, id, lift, e);
	return 0;
}

int lj_rctl_add(const char *text, lj_err *e)
{
	struct lj_rctl_rule r;
	if (lj_rctl_parse(text, false, &r, e) < 0 || lj_rctl_check(&r, e) < 0) {
		lj_rctl_rule_free(&r);
		return -1;
	}
	if (r.subject == LJ_RS_PROCESS && kill(atoi(r.id), 0) < 0 && errno == ESRCH) {
		lj_rctl_rule_free(&r);
		return lj_error(e, ESRCH, "no process %s", text);
	}
	struct store s;
	if (store_open(&s, e) < 0) {
		lj_rctl_rule_free(&r);
		return -1;
	}
	size_t oldn = s.n;
	struct entry *snap = store_snapshot(&s);
	/* A rule replaced by one with a higher amount has to lift the old value first. */
	bool lift[LJ_RCTL_NRES] = {0};
	lift[r.resource] = true;
	store_put(&s, &r, false);
	int rc = apply_subject(&s, r.subject, r.id, lift, e);
	if (rc == 0)
		rc = store_save(&s, e);
	if (rc < 0) {
		store_restore(&s, snap, oldn);
		apply_subject(&s, r.subject, r.id, lift, NULL);
	} else
		snapshot_free(snap, oldn);
	store_close(&s);
	lj_rctl_rule_free(&r);
	return rc;
}

int lj_rctl_remove(const char *text, lj_err *e)
{
	struct lj_rctl_rule f;
	if (lj_rctl_parse(text, true, &f, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	struct store s;
	if (store_open(&s, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	/* The subjects whose rules change, to re-apply each once. */
	lj_strv touched = {0};
	bool lift[LJ_RCTL_NRES] = {0};
	size_t removed = 0;
	for (size_t i = 0; i < s.n;) {
		if (!lj_rctl_match(&f, &s.v[i].r)) {
			i++;
			continue;
		}
		lj_strv_addf(&touched, "%d:%s", (int)s.v[i].r.subject, s.v[i].r.id);
		lift[s.v[i].r.resource] = true;
		store_drop(&s, i);
		removed++;
	}
	int rc = 0;
	if (!removed)
		rc = lj_error(e, ESRCH, "no rule matches");
	else
		rc = store_save(&s, e);
	/* Lifting a limit cannot leave a jail worse off: apply them all, keep the first error. */
	for (size_t i = 0; rc == 0 && i < touched.n; i++) {
		char *colon = strchr(touched.v[i], ':');
		enum lj_rctl_subject subj = (enum lj_rctl_subject)atoi(touched.v[i]);
		if (apply_subject(&s, subj, colon + 1, lift, e) < 0)
			rc = -1;
	}
	lj_strv_free(&touched);
	store_close(&s);
	lj_rctl_rule_free(&f);
	return rc;
}

int lj_rctl_list(const char *text, bool human, lj_strv *out, lj_err *e)
{
	struct lj_rctl_rule f;
	if (lj_rctl_parse(text ? text : "::", true, &f, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	struct store s;
	if (store_open(&s, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	/* FreeBSD's order: process rules, then loginclass, user, jail. */
	static const enum lj_rctl_subject order[] = {LJ_RS_PROCESS, LJ_RS_LOGINCLASS, LJ_RS_USER,
	                                             LJ_RS_JAIL};
	for (size_t o = 0; o < LJ_ARRAY_LEN(order); o++)
		for (size_t i = 0; i < s.n; i++)
			if (s.v[i].r.subject == order[o] && lj_rctl_match(&f, &s.v[i].r))
				lj_strv_push(out, lj_rctl_format(&s.v[i].r, human));
	store_close(&s);
	lj_rctl_rule_free(&f);
	return 0;
}

/* rctl -l process:PID: the rules that apply to that process. */
int lj_rctl_limits(const char *text, bool human, lj_strv *out, lj_err *e)
{
	struct lj_rctl_rule f;
	if (lj_rctl_parse(text, true, &f, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	if (f.subject != LJ_RS_PROCESS || !*f.id) {
		lj_rctl_rule_free(&f);
		return lj_error(e, EINVAL, "only process:PID is accepted");
	}
	if (kill(atoi(f.id), 0) < 0 && errno == ESRCH) {
		lj_rctl_rule_free(&f);
		return lj_error(e, ESRCH, "no process %s", f.id);
	}
	lj_autofree char *jail = lj_cg_jail_of_pid(atoi(f.id));
	struct store s;
	if (store_open(&s, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	for (size_t i = 0; i < s.n; i++) {
		const struct lj_rctl_rule *r = &s.v[i].r;
		bool mine = (r->subject == LJ_RS_PROCESS && strcmp(r->id, f.id) == 0) ||
		            (r->subject == LJ_RS_JAIL && jail && strcmp(r->id, jail) == 0);
		if (mine && (f.resource < 0 || f.resource == r->resource))
			lj_strv_push(out, lj_rctl_format(r, human));
	}
	store_close(&s);
	lj_rctl_rule_free(&f);
	return 0;
}

/* ---- usage ----------------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void push_usage(lj_strv *out, int res, uint64_t v, bool human)
{
	if (human) {
		lj_autofree char *h = lj_rctl_humanize(v);
		lj_strv_addf(out, "%s=%s", lj_rctl_resources[res], h);
	} else
		lj_strv_addf(out, "%s=%llu", lj_rctl_resources[res], (unsigned long long)v);
}

static int process_usage(const char *id, bool human, lj_strv *out, lj_err *e)
{
	lj_autofree char *p = xasprintf("/proc/%s/stat", id);
	lj_autofree char *stat = NULL;
	if (lj_read_file(p, &stat, NULL, NULL) < 0)
		return lj_error(e, ESRCH, "no process %s", id);
	/* fields after the command name: state ppid ... utime(14) stime(15) ... starttime(22) */
	char *c = strrchr(stat, ')');
	unsigned long long f[25] = {0};
	int k = 3;
	for (char *t = strtok(c + 2, " "); t && k < 25; t = strtok(NULL, " "), k++)
		f[k] = strtoull(t, NULL, 10);
	long hz = sysconf(_SC_CLK_TCK);
	double up = 0;
	lj_autofree char *uptime = NULL;
	if (lj_read_file("/proc/uptime", &uptime, NULL, NULL) == 0)
		up = strtod(uptime, NULL);
	uint64_t cpu = (f[14] + f[15]) / (unsigned long long)hz;
	uint64_t wall =
	        up > (double)f[22] / (double)hz ? (uint64_t)(up - (double)f[22] / (double)hz) : 0;
	uint64_t vals[LJ_RCTL_NRES] = {0};
	vals[R_CPUTIME] = cpu;
	vals[R_WALLCLOCK] = wall;
	vals[R_MAXPROC] = 1;
	lj_autofree char *sp = xasprintf("/proc/%s/status", id);
	lj_autofree char *st = NULL;
	if (lj_read_file(sp, &st, NULL, NULL) == 0) {
		static const struct {
			const char *key;
			int res;
		} keys[] = {{"\nVmData:", R_DATASIZE},   {"\nVmStk:", R_STACKSIZE},
		            {"\nVmRSS:", R_MEMORYUSE},   {"\nVmLck:", R_MEMORYLOCKED},
		            {"\nVmSize:", R_VMEMORYUSE}, {"\nThreads:", R_NTHR}};
		for (size_t i = 0; i < LJ_ARRAY_LEN(keys); i++) {
			char *q = strstr(st, keys[i].key);
			if (q)
				vals[keys[i].res] = strtoull(q + strlen(keys[i].key), NULL, 10) *
				                    (keys[i].res == R_NTHR ? 1 : 1024);
		}
	}
	lj_autofree char *fdp = xasprintf("/proc/%s/fd", id);
	vals[R_OPENFILES] = 0;
	DIR *d = opendir(fdp);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				vals[R_OPENFILES]++;
		closedir(d);
	}
	for (int r = 0; r < LJ_RCTL_NRES; r++)
		if (!per_credential(r))
			push_usage(out, r, vals[r], human);
	return 0;
}

int lj_rctl_usage(const char *text, bool human, lj_strv *out, lj_err *e)
{
	struct lj_rctl_rule f;
	if (lj_rctl_parse(text, true, &f, e) < 0) {
		lj_rctl_rule_free(&f);
		return -1;
	}
	lj_autofree char *id = xstrdup(f.id ? f.id : "");
	enum lj_rctl_subject subj = f.subject;
	lj_rctl_rule_free(&f);
	if (!*id || (subj != LJ_RS_JAIL && subj != LJ_RS_PROCESS))
		return lj_error(e, EINVAL, "need jail:NAME or process:PID");
	if (subj == LJ_RS_PROCESS)
		return process_usage(id, human, out, e);
	uint64_t vals[LJ_RCTL_NRES] = {0};
	struct lj_cg *cg;
	lj_err oe;
	/* FreeBSD accounts any jail name: one that is not running uses nothing. */
	if (lj_cg_open(id, &cg, &oe) == 0) {
		struct lj_cg_usage a, b;
		uint64_t t0 = now_ns();
		if (lj_cg_usage(cg, &a, e) < 0) {
			lj_cg_free(cg);
			return -1;
		}
		/* pcpu and the I/O rates are rates: measure them over a short window. */
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (lj_cg_usage(cg, &b, e) < 0) {
			lj_cg_free(cg);
			return -1;
		}
		uint64_t dt = now_ns() - t0;
		if (dt == 0)
			dt = 1;
		vals[R_CPUTIME] = b.cputime_ns / 1000000000u;
		vals[R_DATASIZE] = b.datasize;
		vals[R_STACKSIZE] = b.stacksize;
		vals[R_MEMORYUSE] = b.memory;
		vals[R_MEMORYLOCKED] = b.memorylocked;
		vals[R_MAXPROC] = b.nproc;
		vals[R_OPENFILES] = b.openfiles;
		vals[R_VMEMORYUSE] = b.vmemory;
		vals[R_SWAPUSE] = b.swap;
		vals[R_NTHR] = b.nthr;
		vals[R_WALLCLOCK] = b.wallclock;
		uint64_t dcpu = b.cputime_ns > a.cputime_ns ? b.cputime_ns - a.cputime_ns : 0;
		vals[R_PCPU] = (dcpu * 100 + dt / 2) / dt;
#define RATE(x, y) ((b.y > a.y ? (b.y - a.y) : 0) * 1000000000u / dt)
		vals[R_READBPS] = RATE(rb, rbytes);
		vals[R_WRITEBPS] = RATE(wb, wbytes);
		vals[R_READIOPS] = RATE(ri, rios);
		vals[R_WRITEIOPS] = RATE(wi, wios);
#undef RATE
		lj_cg_free(cg);
	}
	for (int r = 0; r < LJ_RCTL_NRES; r++)
		push_usage(out, r, vals[r], human);
	return 0;
}

/* ---- the lifecycle's entry points ------------------------------------------------------------ */

static const char *rctl_conf_path(void)
{
	const char *p = getenv("LJAIL_RCTL_CONF");
	return p && *p ? p : LJAIL_SYSCONFDIR "/rctl.conf";
}

/* rctl.conf(5): one rule per line, first word; '#' comments and blank lines skipped. Only the
 * rules for jail:name are taken; every line is still checked for syntax. */
static int load_rctl_conf(const char *name, struct lj_rctl_rule **rules, size_t *n, lj_err *e)
{
	const char *path = rctl_conf_path();
	lj_autofree char *text = NULL;
	if (lj_read_file(path, &text, NULL, e) < 0)
		return e && e->errnum == ENOENT ? 0 : -1;
	int lineno = 0;
	char *save = NULL, *line;
	for (char *p = text; p; p = save) {
		save = strchr(p, '\n');
		if (save)
			*save++ = '\0';
		line = p;
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		line += strspn(line, " \t");
		line[strcspn(line, " \t\r")] = '\0';
		if (!*line)
			continue;
		struct lj_rctl_rule r;
		if (lj_rctl_parse(line, false, &r, e) < 0) {
			lj_rctl_rule_free(&r);
			return lj_error_prefix(e, "%s:%d", path, lineno);
		}
		if (r.subject != LJ_RS_JAIL || strcmp(r.id, name) != 0) {
			lj_rctl_rule_free(&r);
			continue;
		}
		if (lj_rctl_check(&r, e) < 0) {
			lj_rctl_rule_free(&r);
			return lj_error_prefix(e, "%s:%d: rule '%s'", path, lineno, line);
		}
		*rules = xrealloc(*rules, (*n + 1) * sizeof **rules);
		(*rules)[(*n)++] = r;
	}
	return 0;
}

/* Whether the store may hold a rule for jail:name (true when it cannot be read). Read without
 * the lock: the store is only ever replaced by a rename, so this is one whole version of it, and
 * a rule stored after the read is applied by the rctl -a that stores it to the jail's group,
 * which the lifecycle makes before it applies the rules. */
static bool store_has_jail(const char *name)
{
	lj_autofree char *path = xasprintf("%s/rctl.rules", rundir());
	lj_autofree char *text = NULL;
	lj_err e;
	if (lj_read_file(path, &text, NULL, &e) < 0)
		return e.errnum != ENOENT;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\t")] = '\0';
		struct lj_rctl_rule r;
		bool mine = lj_rctl_parse(line, false, &r, NULL) == 0 && r.subject == LJ_RS_JAIL &&
		            strcmp(r.id, name) == 0;
		lj_rctl_rule_free(&r);
		if (mine)
			return true;
	}
	return false;
}

bool lj_rctl_jail_has_rules(const char *name)
{
	struct lj_rctl_rule *rules = NULL;
	size_t n = 0;
	lj_err e;
	bool any = load_rctl_conf(name, &rules, &n, &e) < 0 || n > 0 || store_has_jail(name);
	for (size_t i = 0; i < n; i++)
		lj_rctl_rule_free(&rules[i]);
	free(rules);
	return any;
}

int lj_rctl_apply_jail(const char *name, const char *const *conf_rules, size_t nrules, lj_err *e)
{
	struct lj_rctl_rule *file_rules = NULL, *param_rules = NULL;
	size_t nfile = 0, nparam = 0;
	int rc = -1;
	if (load_rctl_conf(name, &file_rules, &nfile, e) < 0)
		goto out;
	param_rules = xcalloc(nrules + 1, sizeof *param_rules);
	for (; nparam < nrules; nparam++) {
		lj_autofree char *t = xasprintf("jail:%s:%s", name, conf_rules[nparam]);
		struct lj_rctl_rule *r = &param_rules[nparam];
		if (lj_rctl_parse(t, false, r, e) < 0 || lj_rctl_check(r, e) < 0) {
			lj_rctl_rule_free(r);
			lj_error_prefix(e, "jail \"%s\": parameter rctl \"%s\"", name,
			                conf_rules[nparam]);
			goto out;
		}
	}
	/* Most jails have no rule at all: then there is nothing to store, lift or apply, and
	 * neither the lock nor the jail's group is needed. */
	if (nfile == 0 && nparam == 0 && !store_has_jail(name)) {
		rc = 0;
		goto out;
	}
	struct store s;
	if (store_open(&s, e) < 0)
		goto out;
	size_t oldn = s.n;
	struct entry *snap = store_snapshot(&s);
	bool lift[LJ_RCTL_NRES] = {0};
	/* The rules an earlier start set from the parameter give way to the current ones. */
	for (size_t i = 0; i < s.n;) {
		if (s.v[i].from_conf && s.v[i].r.subject == LJ_RS_JAIL &&
		    strcmp(s.v[i].r.id, name) == 0) {
			lift[s.v[i].r.resource] = true;
			store_drop(&s, i);
		} else
			i++;
	}
	for (size_t i = 0; i < nfile; i++)
		store_put(&s, &file_rules[i], false);
	for (size_t i = 0; i < nparam; i++)
		store_put(&s, &param_rules[i], true);
	rc = apply_jail(&s, name, lift, e);
	if (rc == 0)
		rc = store_save(&s, e);
	if (rc < 0) {
		store_restore(&s, snap, oldn);
		lj_error_prefix(e, "rctl rules of jail \"%s\"", name);
	} else
		snapshot_free(snap, oldn);
	store_close(&s);
out:
	for (size_t i = 0; i < nfile; i++)
		lj_rctl_rule_free(&file_rules[i]);
	for (size_t i = 0; i < nparam; i++)
		lj_rctl_rule_free(&param_rules[i]);
	free(file_rules);
	free(param_rules);
	return rc;
}

int lj_rctl_enter_jail(const char *name, pid_t pid, lj_err *e)
{
	if (!store_has_jail(name))
		return 0;
	struct store s;
	if (store_open(&s, e) < 0)
		return -1;
	int rc = 0;
	for (int res = 0; res < LJ_RCTL_NRES && rc == 0; res++) {
		if (rlimit_of(res) < 0)
			continue;
		const struct lj_rctl_rule *r = strictest(&s, LJ_RS_JAIL, name, res, LJ_RS_PROCESS);
		if (r && set_rlimit(pid ? pid : getpid(), res, r, e) < 0)
			rc = -1;
	}
	store_close(&s);
	return rc;
}

int lj_rctl_jail_removed(const char *name, lj_err *e)
{
	if (!store_has_jail(name))
		return 0;
	struct store s;
	if (store_open(&s, e) < 0)
		return -1;
	size_t before = s.n;
	for (size_t i = 0; i < s.n;) {
		if (s.v[i].from_conf && s.v[i].r.subject == LJ_RS_JAIL &&
		    strcmp(s.v[i].r.id, name) == 0)
			store_drop(&s, i);
		else
			i++;
	}
	int rc = s.n != before ? store_save(&s, e) : 0;
	store_close(&s);
	return rc;
}
