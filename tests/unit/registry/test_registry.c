#include "check.h"
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ljail-reg.XXXXXX";

static void self_record(struct lj_record *rec, int jid, const char *name)
{
	memset(rec, 0, sizeof *rec);
	rec->jid = jid;
	rec->name = xstrdup(name);
	rec->init_pid = getpid();
	CHECK_INT(lj_proc_start_time(getpid(), &rec->init_start, NULL), 0);
}

/* A record whose init has exited (a child of ours, reaped). */
static void dead_record(struct lj_record *rec, int jid, const char *name)
{
	memset(rec, 0, sizeof *rec);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	rec->jid = jid;
	rec->name = xstrdup(name);
	rec->init_pid = pid;
	lj_proc_start_time(pid, &rec->init_start, NULL);
	waitpid(pid, NULL, 0);
}

static void open_reg(struct lj_registry *r)
{
	lj_err e;
	setenv("LJAIL_RUNDIR", tmpdir, 1);
	CHECK_INT(lj_reg_open(r, &e), 0);
}

static void record_roundtrip(void)
{
	struct lj_record rec = {.jid = 7, .name = xstrdup("web"), .init_pid = 42, .init_start = 99};
	lj_record_set(&rec, "path", "/j/web");
	lj_record_set(&rec, "host.hostname", "a\nb\\c");
	lj_record_set(&rec, "path", "/j/web2");
	char *text = lj_record_format(&rec);
	struct lj_record back;
	CHECK_INT(lj_record_parse(text, &back), 0);
	CHECK_INT(back.jid, 7);
	CHECK_STR(back.name, "web");
	CHECK_INT(back.init_pid, 42);
	CHECK_INT(back.init_start, 99);
	CHECK_STR(lj_record_get(&back, "path"), "/j/web2");
	CHECK_STR(lj_record_get(&back, "host.hostname"), "a\nb\\c");
	CHECK(lj_record_get(&back, "vnet") == NULL);
	lj_record_unset(&back, "path");
	CHECK(lj_record_get(&back, "path") == NULL);
	CHECK_STR(lj_record_get(&back, "host.hostname"), "a\nb\\c");
	struct lj_record bad;
	CHECK_INT(lj_record_parse("garbage", &bad) < 0, 1);
	free(text);
	lj_record_free(&rec);
	lj_record_free(&back);
}

static void alloc_next_and_wanted(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	CHECK_INT(lj_reg_lock(&r, &e), 0);
	int jid = 0;
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_INT(jid, 1);
	struct lj_record a, b;
	self_record(&a, 1, "a");
	self_record(&b, 3, "b");
	CHECK_INT(lj_reg_write(&r, &a, &e), 0);
	CHECK_INT(lj_reg_write(&r, &b, &e), 0);
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_INT(jid, 2);
	/* FreeBSD's rule: the next free one after the last handed out (3 is taken), not the
	 * lowest free one */
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_INT(jid, 4);
	CHECK_INT(lj_reg_alloc_jid(&r, 3, &jid, &e), -1);
	CHECK_STR(e.msg, "jail 3 already exists");
	CHECK_INT(lj_reg_alloc_jid(&r, 5309, &jid, &e), 0);
	CHECK_INT(jid, 5309);
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_INT(jid, 5); /* a wanted JID does not move the sequence */
	/* after JAIL_MAX (999999) it wraps around to the lowest free one */
	CHECK_INT((int)pwrite(r.lockfd, "999998\n", 7, 0), 7);
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_INT(jid, 999999);
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_INT(jid, 2);
	lj_reg_unlock(&r);

	struct lj_record f;
	CHECK_INT(lj_reg_find(&r, "b", &f, &e), 0);
	CHECK_INT(f.jid, 3);
	lj_record_free(&f);
	CHECK_INT(lj_reg_find(&r, "1", &f, &e), 0);
	CHECK_STR(f.name, "a");
	lj_record_free(&f);
	CHECK_INT(lj_reg_find(&r, "zz", &f, &e), -1);
	CHECK_STR(e.msg, "jail \"zz\" not found");
	CHECK_INT(e.errnum, ENOENT);
	CHECK_INT(lj_reg_find(&r, "2", &f, &e), -1);

	int fd = lj_reg_pidfd(&a, &e);
	CHECK(fd >= 0);
	close(fd);

	CHECK_INT(lj_reg_delete(&r, 1, &e), 0);
	CHECK_INT(lj_reg_delete(&r, 3, &e), 0);
	CHECK_INT(lj_reg_delete(&r, 3, &e), 0); /* already gone is fine */
	lj_record_free(&a);
	lj_record_free(&b);
	lj_reg_close(&r);
}

static void dead_records_are_removed(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	struct lj_record dead;
	dead_record(&dead, 4, "dead");
	CHECK_INT(lj_reg_write(&r, &dead, &e), 0);
	/* a live PID with the wrong start time is a recycled PID: dead too */
	struct lj_record recycled;
	self_record(&recycled, 5, "recycled");
	recycled.init_start += 1;
	CHECK_INT(lj_reg_write(&r, &recycled, &e), 0);
	CHECK(!lj_record_alive(&recycled));
	CHECK_INT(lj_reg_pidfd(&recycled, &e), -1);
	struct lj_record live;
	self_record(&live, 6, "live");
	CHECK_INT(lj_reg_write(&r, &live, &e), 0);

	struct lj_record *recs;
	size_t n;
	CHECK_INT(lj_reg_list_all(&r, true, &recs, &n, &e), 0);
	CHECK_INT(n, 3);
	lj_records_free(recs, n);
	CHECK_INT(lj_reg_list(&r, &recs, &n, &e), 0);
	CHECK_INT(n, 1);
	CHECK_STR(recs[0].name, "live");
	lj_records_free(recs, n);
	CHECK_INT(lj_reg_list_all(&r, true, &recs, &n, &e), 0);
	CHECK_INT(n, 1); /* the dead ones were cleaned away */
	lj_records_free(recs, n);
	lj_reg_delete(&r, 6, &e);
	lj_record_free(&dead);
	lj_record_free(&recycled);
	lj_record_free(&live);
	lj_reg_close(&r);
}

/* The name index: odd names, a dead holder's name and JID reused, stale entries ignored and
 * dropped, too-long names found without it, delete removes the entry. */
/* A remover deletes only its own record: the JID may be another jail's by now. */
static void delete_own_only(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	struct lj_record mine, other;
	dead_record(&mine, 7, "mine");
	self_record(&other, 7, "other"); /* JID 7 given to another jail meanwhile */
	CHECK_INT(lj_reg_write(&r, &other, &e), 0);
	CHECK_INT(lj_reg_delete_own(&r, &mine, &e), 0);
	struct lj_record f;
	CHECK_INT(lj_reg_find(&r, "other", &f, &e), 0);
	CHECK_INT(f.jid, 7);
	lj_record_free(&f);
	CHECK_INT(lj_reg_delete_own(&r, &other, &e), 0);
	CHECK_INT(lj_reg_find(&r, "other", &f, &e), -1);
	CHECK_INT(faccessat(r.dirfd, "name.other", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	lj_record_free(&mine);
	lj_record_free(&other);
	lj_reg_close(&r);
}

static void name_index(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	CHECK_INT(lj_reg_lock(&r, &e), 0);
	struct lj_record a;
	self_record(&a, 1, "a.b/c%d");
	CHECK_INT(lj_reg_write(&r, &a, &e), 0);
	struct lj_record f;
	CHECK_INT(lj_reg_find(&r, "a.b/c%d", &f, &e), 0);
	CHECK_INT(f.jid, 1);
	lj_record_free(&f);
	CHECK_INT(lj_reg_find(&r, "a.b", &f, &e), -1);
	CHECK_INT(e.errnum, ENOENT);

	/* a dead jail's name: not found, its record and entry go, its JID is free again */
	struct lj_record dead;
	dead_record(&dead, 2, "gone");
	CHECK_INT(lj_reg_write(&r, &dead, &e), 0);
	struct lj_record c;
	self_record(&c, 3, "c");
	CHECK_INT(lj_reg_write(&r, &c, &e), 0);
	int jid = 0;
	CHECK_INT(lj_reg_alloc_jid(&r, 2, &jid, &e), 0);
	CHECK_INT(lj_reg_alloc_jid(&r, 3, &jid, &e), -1);
	CHECK_INT(e.errnum, EEXIST);
	CHECK_INT(lj_reg_find(&r, "gone", &f, &e), -1);
	CHECK_INT(faccessat(r.dirfd, "name.gone", F_OK, AT_SYMLINK_NOFOLLOW), -1);

	/* a crash between entry and record: an entry pointing at nothing, or at another name */
	CHECK_INT(symlinkat("9", r.dirfd, "name.ghost"), 0);
	CHECK_INT(symlinkat("3", r.dirfd, "name.other"), 0);
	CHECK_INT(lj_reg_find(&r, "ghost", &f, &e), -1);
	CHECK_INT(lj_reg_find(&r, "other", &f, &e), -1);
	CHECK_INT(faccessat(r.dirfd, "name.ghost", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	CHECK_INT(faccessat(r.dirfd, "name.other", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	CHECK_INT(lj_reg_find(&r, "c", &f, &e), 0);
	lj_record_free(&f);

	/* a name too long for a file name is found by reading the records */
	char lng[400];
	memset(lng, 'x', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	struct lj_record l;
	self_record(&l, 4, lng);
	CHECK_INT(lj_reg_write(&r, &l, &e), 0);
	CHECK_INT(lj_reg_find(&r, lng, &f, &e), 0);
	CHECK_INT(f.jid, 4);
	lj_record_free(&f);

	CHECK_INT(lj_reg_delete(&r, 1, &e), 0);
	CHECK_INT(lj_reg_find(&r, "a.b/c%d", &f, &e), -1);
	CHECK_INT(lj_reg_delete(&r, 3, &e), 0);
	CHECK_INT(lj_reg_delete(&r, 4, &e), 0);
	CHECK_INT(faccessat(r.dirfd, "name.c", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	lj_reg_unlock(&r);
	/* delete takes the lock itself when not held */
	lj_record_free(&a);
	self_record(&a, 1, "a");
	CHECK_INT(lj_reg_write(&r, &a, &e), 0);
	CHECK_INT(lj_reg_delete(&r, 1, &e), 0);
	CHECK_INT(faccessat(r.dirfd, "name.a", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	CHECK_INT(r.lockfd, -1);
	lj_record_free(&a);
	lj_record_free(&dead);
	lj_record_free(&c);
	lj_record_free(&l);
	lj_reg_close(&r);
}

static void list_1000_is_fast(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	struct lj_record rec;
	self_record(&rec, 1, "x");
	lj_record_set(&rec, "path", "/usr/jails/some/where");
	lj_record_set(&rec, "host.hostname", "some.host.name");
	lj_record_set(&rec, "ip4.addr", "192.168.1.10");
	for (int i = 1; i <= 1000; i++) {
		rec.jid = i;
		free(rec.name);
		rec.name = xasprintf("jail%d", i);
		lj_reg_write(&r, &rec, &e);
	}
	/* best of three: the machine runs other builds meanwhile */
	double ms = 1e9;
	struct lj_record *recs = NULL;
	size_t n = 0;
	for (int round = 0; round < 3; round++) {
		struct timespec t0, t1;
		if (recs)
			lj_records_free(recs, n);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_INT(lj_reg_list(&r, &recs, &n, &e), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double t = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		           (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (t < ms)
			ms = t;
	}
	printf("# listing 1000 records took %.2f ms\n", ms);
	CHECK_INT(n, 1000);
	CHECK_INT(recs[999].jid, 1000);
	CHECK(ms < 30);
	lj_records_free(recs, n);
	for (int i = 1; i <= 1000; i++)
		lj_reg_delete(&r, i, &e);
	lj_record_free(&rec);
	lj_reg_close(&r);
}

/* A jail still being made (its provisional record names jail(8) as its init) holds its name and
 * JID but is neither listed nor enterable. */
static void creating_is_not_listed(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	struct lj_record a;
	self_record(&a, 50, "making");
	lj_record_set(&a, "ljail.creating", "1");
	CHECK_INT(lj_reg_write(&r, &a, &e), 0);
	struct lj_record *recs;
	size_t n;
	bool listed = false, held = false;
	CHECK_INT(lj_reg_list(&r, &recs, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		listed |= recs[i].jid == 50;
	lj_records_free(recs, n);
	CHECK_INT(lj_reg_list_all(&r, true, &recs, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		held |= recs[i].jid == 50;
	lj_records_free(recs, n);
	CHECK(!listed);
	CHECK(held);
	struct lj_record f;
	CHECK_INT(lj_reg_find(&r, "making", &f, &e), 0); /* the name is taken */
	CHECK_INT(lj_reg_pidfd(&f, &e), -1);
	CHECK_STR(e.msg, "jail \"making\" not found");
	lj_record_free(&f);
	CHECK_INT(lj_reg_delete(&r, 50, &e), 0);
	lj_record_free(&a);
	lj_reg_close(&r);
}

static char orphans[256];

static void note_orphan(const char *name)
{
	strncat(orphans, name, sizeof orphans - strlen(orphans) - 2);
	strcat(orphans, " ");
}

/* A holder of the lock that named its jail (lj_reg_intent) and died before its unlock: the next
 * allocation hands the name to the orphan function, once, unless a record of it lives; a holder
 * that unlocks takes the name back itself. */
static void intent_of_killed_holder(void)
{
	struct lj_registry r;
	lj_err e;
	open_reg(&r);
	lj_reg_on_orphan(note_orphan);
	pid_t pid = fork();
	if (pid == 0) {
		struct lj_registry c;
		lj_reg_open(&c, NULL);
		lj_reg_lock(&c, NULL);
		int jid;
		lj_reg_alloc_jid(&c, 0, &jid, NULL);
		lj_reg_intent(&c, "lost");
		_exit(0); /* no unlock: as SIGKILL would */
	}
	CHECK_INT(waitpid(pid, NULL, 0), pid);
	CHECK_INT(lj_reg_lock(&r, &e), 0);
	int jid;
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_STR(orphans, "lost ");
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_STR(orphans, "lost "); /* once */
	/* unlocked in order: nothing for the next one */
	lj_reg_intent(&r, "fine");
	lj_reg_unlock(&r);
	CHECK_INT(lj_reg_lock(&r, &e), 0);
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_STR(orphans, "lost ");
	/* killed after its record was written: the jail lives, nothing is taken away */
	struct lj_record a;
	self_record(&a, 60, "made");
	CHECK_INT(lj_reg_write(&r, &a, &e), 0);
	lj_reg_unlock(&r);
	pid = fork();
	if (pid == 0) {
		struct lj_registry c;
		lj_reg_open(&c, NULL);
		lj_reg_lock(&c, NULL);
		lj_reg_intent(&c, "made");
		_exit(0);
	}
	CHECK_INT(waitpid(pid, NULL, 0), pid);
	CHECK_INT(lj_reg_lock(&r, &e), 0);
	CHECK_INT(lj_reg_alloc_jid(&r, 0, &jid, &e), 0);
	CHECK_STR(orphans, "lost ");
	CHECK_INT(lj_reg_delete(&r, 60, &e), 0);
	lj_record_free(&a);
	lj_reg_on_orphan(NULL);
	lj_reg_close(&r);
}

int main(void)
{
	lj_t_suite = "registry";
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(record_roundtrip);
	RUN(alloc_next_and_wanted);
	RUN(dead_records_are_removed);
	RUN(name_index);
	RUN(delete_own_only);
	RUN(creating_is_not_listed);
	RUN(intent_of_killed_holder);
	RUN(list_1000_is_fast);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return TEST_DONE();
}
