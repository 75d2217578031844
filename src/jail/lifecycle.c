/* jail(8)'s driver: which jails a request acts on, in which order (depend), with how much
 * parallelism (-p), and which operation each one gets (-c, -m, -r and their combinations).
 * The steps themselves are in steps.c. */
#include "jail/jailp.h"

#include "cgroup/cgroup.h"
#include "param/param.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct plan {
	const struct lj_jail_request *req;
	struct jx *j;
	size_t n, cap;
	/* jails synthesized from registry records (not in any config), one allocation each: the
	 * jx entries point into them, so they must never move */
	struct jc_conf **made;
	size_t nmade;
	struct lj_registry reg;
};

/* FreeBSD's wildcard jail names: "*" matches everything; otherwise components split on '.',
 * a non-final "*" matches one component, a final "*" matches one or more. */
bool jx_wild_match(const char *pat, const char *name)
{
	if (strcmp(pat, "*") == 0)
		return true;
	for (;;) {
		const char *pd = strchr(pat, '.'), *nd = strchr(name, '.');
		size_t pl = pd ? (size_t)(pd - pat) : strlen(pat);
		size_t nl = nd ? (size_t)(nd - name) : strlen(name);
		if (pl == 1 && pat[0] == '*') {
			if (!pd)
				return nl > 0 || nd; /* final: one or more components */
		} else if (pl != nl || strncmp(pat, name, pl) != 0) {
			return false;
		}
		if (!pd)
			return !nd;
		if (!nd)
			return false;
		pat = pd + 1;
		name = nd + 1;
	}
}

static bool is_wild(const char *s)
{
	return strchr(s, '*') != NULL;
}

static struct jx *add_jx(struct plan *p, struct jc_jail *cj, const char *msgname)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->j[i].cj == cj)
			return &p->j[i];
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->j = xrealloc(p->j, p->cap * sizeof *p->j);
	}
	struct jx *j = &p->j[p->n++];
	memset(j, 0, sizeof *j);
	j->req = p->req;
	j->cj = cj;
	j->msgname = msgname;
	j->jid = -1;
	j->pidfd = -1;
	j->launchfd = -1;
	return j;
}

/* Jail i waits for cj (added to the plan, as a dependency, when it is not there yet). */
static void add_dep(struct plan *p, size_t i, struct jc_jail *cj)
{
	size_t before = p->n;
	struct jx *d = add_jx(p, cj, cj->name);
	if (p->n > before)
		d->as_dependency = true;
	size_t di = (size_t)(d - p->j);
	struct jx *j = &p->j[i];
	j->deps = xrealloc(j->deps, (j->ndeps + 1) * sizeof *j->deps);
	j->deps[j->ndeps++] = di;
}

/* The running jail a config jail stands for: by its name, else by its jid parameter. */
static void find_running(struct plan *p, struct jx *j)
{
	if (j->have_rec)
		return;
	const char *name = jc_str(j->cj, "name");
	const char *jid = jc_str(j->cj, "jid");
	struct lj_record rec;
	if ((name && lj_reg_find(&p->reg, name, &rec, NULL) == 0) ||
	    (jid && lj_reg_find(&p->reg, jid, &rec, NULL) == 0)) {
		j->rec = rec;
		j->have_rec = true;
		j->jid = rec.jid;
		free(j->name);
		j->name = xstrdup(rec.name);
		lj_err e;
		j->pidfd = lj_reg_pidfd(&j->rec, &e);
		if (j->pidfd < 0) { /* died between the two looks */
			lj_record_free(&j->rec);
			j->have_rec = false;
			j->jid = -1;
		}
	} else if (name && !j->name) {
		j->name = xstrdup(name);
	}
}

/* A jail that runs but has no config block: its parameters come from its record. */
static struct jc_jail *jail_from_record(struct plan *p, const struct lj_record *rec)
{
	struct jc_conf *one = xcalloc(1, sizeof *one);
	one->jails = xcalloc(1, sizeof *one->jails);
	one->njails = 1;
	p->made = xrealloc(p->made, (p->nmade + 1) * sizeof *p->made);
	p->made[p->nmade++] = one;
	struct jc_jail *cj = &one->jails[0];
	cj->name = xstrdup(rec->name);
	jc_set(cj, "name", rec->name, true);
	for (size_t i = 0; i < rec->params.n; i++) {
		lj_autofree char *kv = xstrdup(rec->params.v[i]);
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (lj_startswith(kv, "ljail.")) {
			/* the raw lists as given at creation: "ljail.mount" -> mount */
			const char *pname = kv + strlen("ljail.");
			if (strcmp(pname, "mount.fstab") == 0) {
				jc_set(cj, pname, eq + 1, true);
				continue;
			}
			jc_set(cj, pname, NULL, true); /* replace the bare addresses */
			lj_autofree char *v = xstrdup(eq + 1);
			char *save = NULL;
			for (char *t = strtok_r(v, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
				jc_set(cj, pname, t, false);
			continue;
		}
		if (strcmp(kv, "vnet.interface") == 0 || strcmp(kv, "ip4.addr") == 0 ||
		    strcmp(kv, "ip6.addr") == 0) {
			if (lj_record_get(rec, strcmp(kv, "ip4.addr") == 0   ? "ljail.ip4.addr"
			                       : strcmp(kv, "ip6.addr") == 0 ? "ljail.ip6.addr"
			                                                     : "-"))
				continue; /* the raw list wins */
			lj_autofree char *v = xstrdup(eq + 1);
			char *save = NULL;
			for (char *t = strtok_r(v, ",", &save); t; t = strtok_r(NULL, ",", &save))
				jc_set(cj, kv, t, false);
		} else {
			jc_set(cj, kv, eq + 1, true);
		}
	}
	return cj;
}

/* ---- choosing the jails --------------------------------------------------------------------- */

static bool dep_names(const struct jc_jail *cj, lj_strv *out)
{
	const struct jc_param *d = jc_find(cj, "depend");
	for (size_t i = 0; d && i < d->values.n; i++)
		lj_strv_add(out, d->values.v[i]);
	/* a.b depends on a (existence only) */
	const char *dot = strrchr(cj->name, '.');
	if (dot)
		lj_strv_push(out, xstrndup(cj->name, (size_t)(dot - cj->name)));
	return out->n > 0;
}

static int select_jails(struct plan *p)
{
	const struct lj_jail_request *req = p->req;
	struct jc_conf *c = req->conf;
	int rc = 0;
	bool removing = req->ops & LJ_OP_REMOVE;

	if (req->ops & LJ_OP_FORCE) {
		/* -R: running jails only, no config */
		for (int t = 0; t < req->ntargets; t++) {
			const char *tg = req->targets[t];
			struct lj_record *recs;
			size_t n;
			bool any = false;
			if (lj_reg_list(&p->reg, &recs, &n, NULL) < 0)
				n = 0, recs = NULL;
			for (size_t i = 0; i < n; i++) {
				char jid[16];
				snprintf(jid, sizeof jid, "%d", recs[i].jid);
				if (is_wild(tg) ? jx_wild_match(tg, recs[i].name)
				                : (!strcmp(tg, recs[i].name) || !strcmp(tg, jid))) {
					struct jc_jail *cj = jail_from_record(p, &recs[i]);
					struct jx *j = add_jx(p, cj, NULL);
					j->msgname = cj->name;
					any = true;
				}
			}
			lj_records_free(recs, n);
			if (!any && !is_wild(tg)) {
				lj_warnx("jail", "\"%s\" not found", tg);
				rc = 1;
			}
		}
		return rc;
	}

	if (!c || c->njails == 0) {
		if (req->ntargets == 0 && !req->cmdline && !removing) {
			lj_warnx("jail", "no jail specified");
			return 1;
		}
	}
	if (req->cmdline && c && c->njails > 0) {
		struct jx *j = add_jx(p, &c->jails[0], NULL);
		(void)j;
		return 0;
	}
	if (req->ntargets == 0) {
		for (size_t i = 0; c && i < c->njails; i++) {
			struct jx *j = add_jx(p, &c->jails[i], c->jails[i].name);
			j->as_dependency = true; /* "all": running ones are skipped quietly */
		}
		return 0;
	}
	for (int t = 0; t < req->ntargets; t++) {
		const char *tg = req->targets[t];
		bool any = false;
		for (size_t i = 0; c && i < c->njails; i++) {
			if (is_wild(tg) ? jx_wild_match(tg, c->jails[i].name)
			                : strcmp(tg, c->jails[i].name) == 0) {
				struct jx *j = add_jx(p, &c->jails[i], c->jails[i].name);
				if (is_wild(tg))
					j->as_dependency = true;
				any = true;
			}
		}
		if (any)
			continue;
		if (removing || (req->ops & LJ_OP_MODIFY)) {
			/* -r by JID or by the name of a running jail; a JID maps to the running
			 * name, then to the config block of that name */
			struct lj_record rec;
			if (!is_wild(tg) && lj_reg_find(&p->reg, tg, &rec, NULL) == 0) {
				struct jc_jail *cj = c ? jc_find_jail(c, rec.name) : NULL;
				if (!cj) {
					for (size_t i = 0; c && i < c->njails && !cj; i++) {
						const char *nm = jc_str(&c->jails[i], "name");
						if (nm && !strcmp(nm, rec.name))
							cj = &c->jails[i];
					}
				}
				if (!cj)
					cj = jail_from_record(p, &rec);
				add_jx(p, cj, is_wild(tg) ? cj->name : tg);
				lj_record_free(&rec);
				continue;
			}
			if (is_wild(tg)) {
				struct lj_record *recs;
				size_t n;
				if (lj_reg_list(&p->reg, &recs, &n, NULL) == 0) {
					for (size_t i = 0; i < n; i++)
						if (jx_wild_match(tg, recs[i].name)) {
							struct jc_jail *cj =
							        jail_from_record(p, &recs[i]);
							struct jx *j = add_jx(p, cj, cj->name);
							j->as_dependency = true;
						}
					lj_records_free(recs, n);
				}
				continue;
			}
		}
		if (!is_wild(tg)) {
			lj_warnx("jail", "\"%s\" not found", tg);
			rc = 1;
		}
	}
	return rc;
}

/* depend: creation waits for the jails named; removal waits for the jails that name this one.
 * Jails named but not selected are pulled in (quietly skipped when already in the right state). */
static int link_deps(struct plan *p)
{
	struct jc_conf *c = p->req->conf;
	bool removing_only = (p->req->ops & LJ_OP_REMOVE) && !(p->req->ops & LJ_OP_CREATE);
	int rc = 0;
	if (p->req->cmdline || (p->req->ops & LJ_OP_FORCE))
		return 0;
	for (size_t i = 0; i < p->n; i++) {
		lj_strv names = {0};
		dep_names(p->j[i].cj, &names);
		for (size_t k = 0; k < names.n; k++) {
			struct jc_jail *dj = c ? jc_find_jail(c, names.v[k]) : NULL;
			if (!dj) {
				if (jc_find(p->j[i].cj, "depend") &&
				    lj_strv_contains(&jc_find(p->j[i].cj, "depend")->values,
				                     names.v[k])) {
					jx_warn(&p->j[i], "depends on undefined jail \"%s\"",
					        names.v[k]);
					p->j[i].state = JX_FAILED;
					rc = 1;
				}
				continue;
			}
			if (removing_only) {
				/* the dependee is removed after its dependents: only those selected
				 */
				continue;
			}
			add_dep(p, i, dj);
		}
		lj_strv_free(&names);
	}
	if (removing_only) {
		/* running dependents go first: pull them in and make the dependee wait for them */
		for (size_t i = 0; i < p->n; i++) {
			for (size_t k = 0; c && k < c->njails; k++) {
				lj_strv names = {0};
				dep_names(&c->jails[k], &names);
				bool names_me = lj_strv_contains(&names, p->j[i].cj->name);
				lj_strv_free(&names);
				if (!names_me)
					continue;
				add_dep(p, i, &c->jails[k]);
			}
		}
	}
	return rc;
}

static bool has_loop(struct plan *p, size_t i)
{
	struct jx *j = &p->j[i];
	if (j->visiting)
		return true;
	if (j->state == JX_DONE) /* reused as "checked" before the run */
		return false;
	j->visiting = true;
	for (size_t k = 0; k < j->ndeps; k++)
		if (has_loop(p, j->deps[k])) {
			j->visiting = false;
			return true;
		}
	j->visiting = false;
	return false;
}

/* ---- one jail ------------------------------------------------------------------------------- */

/* The whole operation for one jail; 0 = done, -1 = failed (reported). */
static int do_jail(struct plan *p, struct jx *j)
{
	const struct lj_jail_request *req = p->req;
	unsigned ops = req->ops;
	lj_err e;

	if (ops & LJ_OP_FORCE) {
		find_running(p, j);
		if (!j->have_rec)
			return 0;
		jx_release(j);
		if (req->verbose && !req->quiet)
			jx_note(j, "removed\n");
		return 0;
	}
	if (j->cj->error) {
		jx_warn(j, "%s", j->cj->error);
		return -1;
	}
	if ((ops & (LJ_OP_CREATE | LJ_OP_MODIFY)) && lj_param_check_jail(j->cj, &e) < 0) {
		jx_warn(j, "%s", e.msg);
		return -1;
	}
	find_running(p, j);
	bool running = j->have_rec;

	if ((ops & LJ_OP_REMOVE) && !(ops & LJ_OP_MODIFY)) {
		if (running) {
			if (jx_remove(j) < 0)
				return -1;
		} else if (req->post_only && !(ops & LJ_OP_CREATE)) {
			return jx_post_remove(j);
		} else if (!(ops & LJ_OP_CREATE) && !j->as_dependency) {
			/* a jail named explicitly that does not run: an error, as for any unknown
			 * jail (wildcards and "all" skip it quietly) */
			if (!req->quiet)
				jx_warn(NULL, "\"%s\" not found",
				        j->msgname ? j->msgname : j->cj->name);
			return -1;
		}
		if (!(ops & LJ_OP_CREATE))
			return 0;
		running = false;
	}
	if (running && (ops & LJ_OP_MODIFY)) {
		bool restart = false;
		if (jx_modify(j, (ops & LJ_OP_REMOVE) != 0, &restart) < 0)
			return -1;
		if (!restart) {
			if (!req->quiet && (j->msgname || req->verbose))
				jx_note(j, "updated\n");
			return 0;
		}
		if (jx_remove(j) < 0)
			return -1;
		return jx_create(j);
	}
	if (running) {
		if (j->as_dependency)
			return 0;
		jx_warn(NULL, "\"%s\" already exists",
		        j->msgname ? j->msgname : (j->name ? j->name : j->cj->name));
		return -1;
	}
	if (!(ops & LJ_OP_CREATE)) {
		jx_warn(NULL, "\"%s\" not found", j->msgname ? j->msgname : j->cj->name);
		return -1;
	}
	return jx_create(j);
}

static void free_jx(struct jx *j)
{
	if (j->pidfd >= 0)
		close(j->pidfd);
	if (j->launchfd >= 0)
		close(j->launchfd);
	if (j->cg)
		lj_cg_free(j->cg);
	if (j->have_rec)
		lj_record_free(&j->rec);
	lj_strv_free(&j->fstab);
	free(j->deps);
	free(j->name);
}

/* ---- signals ------------------------------------------------------------------------------ */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

bool jx_interrupted(void)
{
	return got_signal != 0;
}

/* A ^C or a kill while jails are being made must not leave half a jail: the signal reaches the
 * command running now (same process group, or killed with it), its step fails and the undo
 * runs; no further step starts. */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- the run -------------------------------------------------------------------------------- */

static bool ready(struct plan *p, struct jx *j, bool *skip)
{
	*skip = false;
	for (size_t k = 0; k < j->ndeps; k++) {
		enum jx_state s = p->j[j->deps[k]].state;
		if (s == JX_FAILED || s == JX_SKIPPED)
			*skip = true;
		else if (s != JX_DONE)
			return false;
	}
	return true;
}

/* The order in which a sequential run takes the jails: passes over the config order (reversed
 * for a removal), each taking every jail whose dependencies were taken before it. Whether a
 * jail succeeds does not change it (a failed dependee makes the dependent `skipped` at the same
 * place), so it is known before anything runs: the parallel run starts jails in this order and
 * prints their messages in it. Returns the number of jails placed. */
static size_t sequential_order(struct plan *p, bool reverse, size_t *order)
{
	bool *taken = xcalloc(p->n + 1, sizeof *taken);
	size_t no = 0;
	for (size_t i = 0; i < p->n; i++)
		taken[i] = p->j[i].state != JX_PENDING; /* failed while planning */
	for (bool progress = true; progress;) {
		progress = false;
		for (size_t o = 0; o < p->n; o++) {
			size_t i = reverse ? p->n - 1 - o : o;
			if (taken[i])
				continue;
			bool ok = true;
			for (size_t k = 0; k < p->j[i].ndeps && ok; k++)
				ok = taken[p->j[i].deps[k]];
			if (!ok)
				continue;
			taken[i] = true;
			order[no++] = i;
			progress = true;
		}
	}
	free(taken);
	return no;
}

/* How many jails may be worked on at once: $LJAIL_PARALLEL (1 = one after the other), else
 * 4 per online CPU (each jail mostly waits for the kernel, so more than the CPUs pays);
 * -p N lowers it further (FreeBSD: at most N commands at once; here at most N jails). */
static int parallel_limit(const struct lj_jail_request *req)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int limit = cpus > 0 ? (int)(cpus * 4) : 4;
	const char *env = getenv("LJAIL_PARALLEL");
	int v;
	if (env && *env && lj_parse_int(env, &v) && v > 0)
		limit = v;
	if (req->max_parallel > 0 && req->max_parallel < limit)
		limit = req->max_parallel;
	return limit;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void slurp(int fd, lj_buf *b)
{
	char tmp[8192];
	off_t off = 0;
	for (;;) {
		ssize_t r = pread(fd, tmp, sizeof tmp, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		lj_buf_add(b, tmp, (size_t)r);
		off += r;
	}
}

/* The parallel run's workers: at most `limit` children of jail(8), each taking one jail after
 * another over a socket of its own (a fork per jail cost a fork, the copy-on-write faults of a
 * fresh copy and an exit, every time). What a jail prints goes to memory files of its own (one
 * for both streams when stdout and stderr are the same file, so their interleaving stays) that
 * the worker hands back with the jail's result; the parent prints them in the sequential order
 * once the jail and every jail before it are done: lines of different jails never mix and the
 * output is what -p1 prints. */
struct job {
	lj_buf out, err;
	bool finished; /* its messages may be printed */
	bool skipped;  /* print "skipped" for it */
};

struct worker {
	pid_t pid; /* 0: none */
	int sock;  /* SOCK_SEQPACKET to it */
	size_t job;
	bool busy;
};

struct job_reply {
	uint64_t job;
	int32_t ok;
};

static bool same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* One jail in a worker: its output into fresh memory files, which go back with the result. */
static void work_one(struct plan *p, size_t i, int sock, bool one_stream, bool *reg_open)
{
	int fds[2] = {memfd_create("ljail-out", MFD_CLOEXEC), -1};
	if (!one_stream)
		fds[1] = memfd_create("ljail-err", MFD_CLOEXEC);
	if (fds[0] < 0 || (!one_stream && fds[1] < 0))
		_exit(1); /* the parent reports the job failed */
	fflush(stdout);
	fflush(stderr);
	dup2(fds[0], STDOUT_FILENO);
	dup2(one_stream ? fds[0] : fds[1], STDERR_FILENO);
	int r = -1;
	lj_err e;
	if (!*reg_open && lj_reg_open(&p->reg, &e) < 0)
		lj_err_print("jail", &e);
	else
		*reg_open = true;
	if (*reg_open)
		r = do_jail(p, &p->j[i]);
	fflush(stdout);
	fflush(stderr);
	struct job_reply rep = {.job = i, .ok = r == 0};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof fds)];
	} c;
	memset(&c, 0, sizeof c);
	struct iovec iov = {.iov_base = &rep, .iov_len = sizeof rep};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b};
	int nfds = one_stream ? 1 : 2;
	mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	ssize_t w;
	while ((w = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (w < 0)
		_exit(1);
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

static _Noreturn void worker_main(struct plan *p, int sock, bool one_stream)
{
	/* a registry of its own (opened with the first jail): the inherited directory fd shares
	 * its read position with every sibling (the registry reads it through dup), so concurrent
	 * lookups would skip records and a running jail would look absent */
	lj_reg_close(&p->reg);
	bool reg_open = false;
	for (;;) {
		uint64_t i;
		ssize_t r = recv(sock, &i, sizeof i, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof i || i >= p->n)
			break; /* the parent closed: no more jails */
		work_one(p, (size_t)i, sock, one_stream, &reg_open);
	}
	_exit(0);
}

static int start_worker(struct plan *p, struct worker *ws, size_t nw, struct worker *w,
                        bool one_stream)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		/* the siblings' sockets stay with the parent alone: their EOF is their end */
		for (size_t k = 0; k < nw; k++)
			if (ws[k].pid > 0)
				close(ws[k].sock);
		close(sv[0]);
		worker_main(p, sv[1], one_stream);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	*w = (struct worker){.pid = pid, .sock = sv[0]};
	return 0;
}

/* The worker is gone (killed, or out of memory): its jail failed; say why, or the failure has
 * no reason. */
static void lost_worker(struct plan *p, struct worker *w, struct job *jb, bool one_stream)
{
	int st = 0;
	close(w->sock);
	while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
		;
	if (w->busy) {
		const struct jx *j = &p->j[w->job];
		if (WIFSIGNALED(st))
			lj_buf_addf(one_stream ? &jb->out : &jb->err, "jail: %s%s%s\n",
			            j->msgname ? j->msgname : "", j->msgname ? ": " : "",
			            strsignal(WTERMSIG(st)));
		p->j[w->job].state = JX_FAILED;
		jb->finished = true;
	}
	*w = (struct worker){0};
}

/* A worker's answer: the jail's result and its output. Returns -1 when the worker is gone. */
static int take_reply(struct plan *p, struct worker *w, struct job *jobs, bool one_stream)
{
	struct job_reply rep;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(2 * sizeof(int))];
	} c;
	struct iovec iov = {.iov_base = &rep, .iov_len = sizeof rep};
	struct msghdr mh = {
	        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
	ssize_t r;
	while ((r = recvmsg(w->sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	int fds[2] = {-1, -1};
	struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		size_t n = cm->cmsg_len - CMSG_LEN(0);
		memcpy(fds, CMSG_DATA(cm), n < sizeof fds ? n : sizeof fds);
	}
	struct job *jb = &jobs[w->job];
	if (r != (ssize_t)sizeof rep || rep.job != w->job || fds[0] < 0) {
		for (int k = 0; k < 2; k++)
			if (fds[k] >= 0)
				close(fds[k]);
		lost_worker(p, w, jb, one_stream);
		return -1;
	}
	slurp(fds[0], &jb->out);
	close(fds[0]);
	if (fds[1] >= 0) {
		slurp(fds[1], &jb->err);
		close(fds[1]);
	}
	p->j[w->job].state = rep.ok ? JX_DONE : JX_FAILED;
	jb->finished = true;
	w->busy = false;
	return 0;
}

static void emit(struct jx *j, struct job *jb)
{
	fflush(stdout);
	if (jb->skipped)
		jx_warn(j, "skipped");
	write_all(STDOUT_FILENO, jb->out.s ? jb->out.s : "", jb->out.len);
	write_all(STDERR_FILENO, jb->err.s ? jb->err.s : "", jb->err.len);
	lj_buf_free(&jb->out);
	lj_buf_free(&jb->err);
}

/* An idle worker, or a new one while fewer than limit run; NULL when none can be had. */
static struct worker *idle_worker(struct plan *p, struct worker *ws, size_t limit, bool one_stream)
{
	struct worker *free_slot = NULL;
	for (size_t k = 0; k < limit; k++) {
		if (ws[k].pid > 0 && !ws[k].busy)
			return &ws[k];
		if (ws[k].pid == 0 && !free_slot)
			free_slot = &ws[k];
	}
	if (free_slot && start_worker(p, ws, limit, free_slot, one_stream) == 0)
		return free_slot;
	return NULL;
}

/* The parallel run: at most `limit` jails at once, in workers; a jail starts once its
 * dependencies are done (a failed or skipped one makes it `skipped`), in the sequential order
 * where several are ready. A signal stops the starting of jails and is passed on to the
 * workers, which undo the jail in progress. Returns 1 if anything failed. */
static int run_parallel(struct plan *p, const size_t *order, size_t norder, int limit)
{
	struct job *jobs = xcalloc(p->n + 1, sizeof *jobs);
	struct worker *ws = xcalloc((size_t)limit, sizeof *ws);
	struct pollfd *pf = xcalloc((size_t)limit, sizeof *pf);
	bool one_stream = same_file(STDOUT_FILENO, STDERR_FILENO);
	int status = 0, running = 0;
	bool forwarded = false;
	size_t printed = 0;
	for (;;) {
		bool progress = false;
		for (size_t k = 0; k < norder && running < limit; k++) {
			size_t i = order[k];
			struct jx *j = &p->j[i];
			bool skip;
			if (j->state != JX_PENDING || !ready(p, j, &skip))
				continue;
			progress = true;
			if (jx_interrupted() || skip) {
				/* as in the sequential run: an interrupt fails what did not start,
				 * quietly; a failed dependee makes the jail `skipped` */
				j->state = jx_interrupted() ? JX_FAILED : JX_SKIPPED;
				jobs[i].skipped = !jx_interrupted();
				jobs[i].finished = true;
				status = 1;
				continue;
			}
			struct worker *w = idle_worker(p, ws, (size_t)limit, one_stream);
			uint64_t v = i;
			if (w && send(w->sock, &v, sizeof v, MSG_NOSIGNAL) != (ssize_t)sizeof v) {
				lost_worker(p, w, &jobs[i],
				            one_stream); /* not busy: nothing lost */
				w = NULL;
			}
			if (!w) {
				if (running > 0) /* out of processes or memory: wait for one */
					break;
				/* nothing runs: do it here (its messages come out now) */
				for (; printed < k && jobs[order[printed]].finished; printed++)
					emit(&p->j[order[printed]], &jobs[order[printed]]);
				j->state = do_jail(p, j) < 0 ? JX_FAILED : JX_DONE;
				jobs[i].finished = true;
				if (j->state == JX_FAILED)
					status = 1;
				continue;
			}
			w->busy = true;
			w->job = i;
			j->state = JX_RUNNING;
			running++;
		}
		while (printed < norder && jobs[order[printed]].finished) {
			size_t i = order[printed++];
			emit(&p->j[i], &jobs[i]);
		}
		if (running == 0) {
			if (!progress)
				break;
			continue;
		}
		if (jx_interrupted() && !forwarded) {
			/* a kill of jail(8) alone reaches its workers too */
			for (int k = 0; k < limit; k++)
				if (ws[k].pid > 0)
					kill(ws[k].pid, got_signal);
			forwarded = true;
		}
		int np = 0;
		for (int k = 0; k < limit; k++)
			if (ws[k].pid > 0 && ws[k].busy)
				pf[np++] = (struct pollfd){.fd = ws[k].sock, .events = POLLIN};
		if (poll(pf, (nfds_t)np, -1) < 0)
			continue; /* EINTR: a signal to forward */
		for (int q = 0; q < np; q++) {
			if (!pf[q].revents)
				continue;
			for (int k = 0; k < limit; k++) {
				if (ws[k].pid <= 0 || !ws[k].busy || ws[k].sock != pf[q].fd)
					continue;
				size_t i = ws[k].job;
				take_reply(p, &ws[k], jobs, one_stream);
				if (p->j[i].state != JX_DONE)
					status = 1;
				running--;
				break;
			}
		}
	}
	/* no more jails: every worker sees its socket close and exits */
	for (int k = 0; k < limit; k++)
		if (ws[k].pid > 0)
			close(ws[k].sock);
	for (int k = 0; k < limit; k++)
		while (ws[k].pid > 0 && waitpid(ws[k].pid, NULL, 0) < 0 && errno == EINTR)
			;
	for (size_t i = 0; i < p->n; i++) {
		lj_buf_free(&jobs[i].out);
		lj_buf_free(&jobs[i].err);
	}
	free(pf);
	free(ws);
	free(jobs);
	return status;
}

int lj_jail_run(const struct lj_jail_request *req)
{
	struct plan p = {.req = req};
	lj_err e;
	setvbuf(stdout, NULL, _IOLBF, 0);
	lj_reg_on_dead(lj_jail_reap);
	lj_reg_on_orphan(lj_jail_reap_orphan);
	catch_signals();
	if (lj_reg_open(&p.reg, &e) < 0) {
		lj_err_print("jail", &e);
		return 1;
	}
	if (req->jid_file) { /* one line per created jail: start empty */
		FILE *f = fopen(req->jid_file, "w");
		if (!f) {
			lj_warnx("jail", "open %s: %s", req->jid_file, strerror(errno));
			lj_reg_close(&p.reg);
			return 1;
		}
		fclose(f);
	}
	int status = select_jails(&p);
	if (link_deps(&p))
		status = 1;
	for (size_t i = 0; i < p.n; i++) {
		if (p.j[i].state == JX_PENDING && has_loop(&p, i)) {
			jx_warn(&p.j[i], "dependency loop");
			p.j[i].state = JX_FAILED;
			status = 1;
		}
	}
	/* removal of everything goes in reverse order of the config */
	bool reverse = (req->ops & LJ_OP_REMOVE) && !(req->ops & LJ_OP_CREATE);
	size_t *order = xcalloc(p.n + 1, sizeof *order);
	size_t norder = sequential_order(&p, reverse, order);

	/* one jail: no workers, and no CPU count to read (sysconf reads sysfs) */
	int limit = norder > 1 ? parallel_limit(req) : 1;
	if (limit > 1) {
		if (run_parallel(&p, order, norder, limit))
			status = 1;
	} else {
		for (size_t k = 0; k < norder; k++) {
			struct jx *j = &p.j[order[k]];
			bool skip;
			ready(&p, j, &skip);
			if (jx_interrupted()) {
				j->state = JX_FAILED;
			} else if (skip) {
				jx_warn(j, "skipped");
				j->state = JX_SKIPPED;
			} else {
				j->hold_lock = true;
				j->state = do_jail(&p, j) < 0 ? JX_FAILED : JX_DONE;
			}
			if (j->state != JX_DONE)
				status = 1;
		}
	}
	free(order);
	for (size_t i = 0; i < p.n; i++)
		free_jx(&p.j[i]);
	free(p.j);
	for (size_t i = 0; i < p.nmade; i++) {
		jc_free(p.made[i]);
		free(p.made[i]);
	}
	free(p.made);
	lj_reg_close(&p.reg);
	return status;
}
