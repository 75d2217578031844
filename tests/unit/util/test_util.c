#include "check.h"
#include "util/util.h"

#include <errno.h>
#include <unistd.h>

static void error_keeps_errno_text(void)
{
	lj_err e;
	CHECK_INT(lj_error(&e, ENOENT, "open %s", "/x"), -1);
	CHECK_STR(e.msg, "open /x: No such file or directory");
	CHECK_INT(e.errnum, ENOENT);
	lj_error_prefix(&e, "webserver");
	CHECK_STR(e.msg, "webserver: open /x: No such file or directory");
	lj_errorx(&e, "plain %d", 3);
	CHECK_STR(e.msg, "plain 3");
	CHECK_INT(e.errnum, 0);
}

static void buf_grows(void)
{
	lj_buf b = {0};
	CHECK_STR(lj_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		lj_buf_addf(&b, "%d,", i);
	CHECK(lj_startswith(lj_buf_str(&b), "0,1,2,"));
	CHECK(lj_endswith(lj_buf_str(&b), "998,999,"));
	char *s = lj_buf_steal(&b);
	CHECK(b.s == NULL);
	free(s);
}

static void strv_joins(void)
{
	lj_strv sv = {0};
	lj_strv_add(&sv, "a");
	lj_strv_addf(&sv, "b%d", 2);
	CHECK(sv.v[2] == NULL);
	char *j = lj_strv_join(&sv, "|");
	CHECK_STR(j, "a|b2");
	CHECK(lj_strv_contains(&sv, "b2"));
	CHECK(!lj_strv_contains(&sv, "b"));
	free(j);
	lj_strv_free(&sv);
}

static void numbers_parse_strictly(void)
{
	int64_t v;
	int i;
	CHECK(lj_parse_i64("42", &v) && v == 42);
	CHECK(lj_parse_i64("-7", &v) && v == -7);
	CHECK(lj_parse_i64("0x10", &v) && v == 16);
	CHECK(!lj_parse_i64("", &v));
	CHECK(!lj_parse_i64("4x", &v));
	CHECK(!lj_parse_int("99999999999", &i));
	uint64_t u;
	CHECK(!lj_parse_u64("-1", &u));
}

static void atomic_write_roundtrip(void)
{
	char dir[] = "/tmp/ljail-util-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	lj_autofree char *path = xasprintf("%s/a/b/f", dir);
	lj_autofree char *sub = xasprintf("%s/a/b", dir);
	lj_err e;
	CHECK_INT(lj_mkdir_p(sub, 0755, &e), 0);
	CHECK_INT(lj_write_file_atomic(path, "hello", 5, 0644, &e), 0);
	char *data;
	size_t len;
	CHECK_INT(lj_read_file(path, &data, &len, &e), 0);
	CHECK_INT(len, 5);
	CHECK_STR(data, "hello");
	free(data);
	CHECK_INT(lj_read_file("/nonexistent/x", &data, &len, &e), -1);
	CHECK_STR(e.msg, "/nonexistent/x: No such file or directory");
	unlink(path);
	rmdir(sub);
	lj_autofree char *a = xasprintf("%s/a", dir);
	rmdir(a);
	rmdir(dir);
}

int main(void)
{
	lj_t_suite = "util";
	RUN(error_keeps_errno_text);
	RUN(buf_grows);
	RUN(strv_joins);
	RUN(numbers_parse_strictly);
	RUN(atomic_write_roundtrip);
	return TEST_DONE();
}
