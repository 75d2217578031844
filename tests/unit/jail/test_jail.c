#include "check.h"
#include "jail/jailp.h"

static char *joined(const char *cmd, bool *bg)
{
	lj_strv v = {0};
	jx_split_command(cmd, &v, bg);
	char *s = lj_strv_join(&v, "|");
	lj_strv_free(&v);
	return s;
}

static void command_rule(void)
{
	bool bg;
	char *s;
	CHECK_STR(s = joined("echo START", &bg), "echo|START");
	CHECK(!bg);
	free(s);
	CHECK_STR(s = joined("  /sbin/ifconfig\tepair0a  up ", &bg), "/sbin/ifconfig|epair0a|up");
	free(s);
	CHECK_STR(s = joined("echo JID=$JID", &bg), "/bin/sh|-c|echo JID=$JID");
	CHECK(!bg);
	free(s);
	CHECK_STR(s = joined("sleep 10 &", &bg), "sleep|10");
	CHECK(bg);
	free(s);
	/* '&' not at the end, or with other characters: a shell */
	CHECK_STR(s = joined("a & b", &bg), "/bin/sh|-c|a & b");
	CHECK(!bg);
	free(s);
	CHECK_STR(s = joined("x > y &", &bg), "/bin/sh|-c|x > y &");
	CHECK(!bg);
	free(s);
	const char *special = "!\"$&'()*;<>?[\\]`{|}~";
	for (const char *c = special; *c; c++) {
		char cmd[16];
		snprintf(cmd, sizeof cmd, "a%cb", *c);
		s = joined(cmd, &bg);
		CHECK(lj_startswith(s, "/bin/sh|-c|"));
		free(s);
	}
	CHECK_STR(s = joined("", &bg), "");
	free(s);
}

static void wildcards(void)
{
	CHECK(jx_wild_match("*", "web"));
	CHECK(jx_wild_match("*", "a.b.c"));
	CHECK(jx_wild_match("web", "web"));
	CHECK(!jx_wild_match("web", "web2"));
	CHECK(jx_wild_match("foo.*", "foo.bar"));
	CHECK(jx_wild_match("foo.*", "foo.bar.baz")); /* a final * takes one or more */
	CHECK(!jx_wild_match("foo.*", "foo"));
	CHECK(!jx_wild_match("foo.*", "foobar.x"));
	CHECK(jx_wild_match("*.bar", "foo.bar"));
	CHECK(!jx_wild_match("*.bar", "a.b.bar")); /* a non-final * takes exactly one */
	CHECK(!jx_wild_match("*.bar", "bar"));
}

int main(void)
{
	lj_t_suite = "jail";
	RUN(command_rule);
	RUN(wildcards);
	return TEST_DONE();
}
