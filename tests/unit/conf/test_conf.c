/* Unit tests for src/conf: every grammar rule of jail.conf(5) and every error message, checked
 * through what `jail -e '|'` would print. The expected texts were written from FreeBSD's rules
 * (jaillex.l, jailparse.y, config.c), not copied from the output. */
#include "check.h"
#include "conf/conf.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* -e output with separator "|", or "ERR: message" when the load fails, or "JERR: name: msg"
 * lines for jails that carry an error (then nothing else, as jail -e does). */
static char *E(const char *text)
{
	struct jc_conf c;
	lj_err e;
	if (jc_load_string(&c, "test.conf", text, strlen(text), &e) < 0)
		return xasprintf("ERR: %s", e.msg);
	lj_buf b = {0};
	for (size_t i = 0; i < c.njails; i++)
		if (c.jails[i].error)
			lj_buf_addf(&b, "JERR: %s: %s\n", c.jails[i].name, c.jails[i].error);
	if (!b.len) {
		char *s = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&s, &n);
		jc_print_e(f, &c, "|");
		fclose(f);
		lj_buf_adds(&b, s);
		free(s);
	}
	jc_free(&c);
	char *r = lj_buf_steal(&b);
	/* drop one trailing newline so single-jail expectations read naturally */
	size_t l = strlen(r);
	if (l && r[l - 1] == '\n')
		r[l - 1] = '\0';
	return r;
}

#define EXPECT(text, want)             \
	do {                           \
		char *got_ = E(text);  \
		CHECK_STR(got_, want); \
		free(got_);            \
	} while (0)

/* ---- lexer --------------------------------------------------------------------------------- */

static void comments(void)
{
	EXPECT("# hash\nj { // slash\n a = 1; /* block\n comment */ b; }\n", "name=j|a=1|b");
	EXPECT("j{a=1;}# no newline at end", "name=j|a=1");
	/* a comment separates: two strings in a row are a syntax error */
	EXPECT("j { a = x/* inside */y; }", "ERR: test.conf line 1: y: syntax error");
}

static void atoms_and_joins(void)
{
	/* every atom character; pieces with nothing between them join */
	EXPECT("j { a = A-z_0.9!%&():<>?@[]^`|~; }", "name=j|a=A-z_0.9!%&():<>?@[]^`|~");
	EXPECT("j { a = abc\"def\"'ghi'; }", "name=j|a=abcdefghi");
	EXPECT("j { a = /usr/local/bin; }", "name=j|a=/usr/local/bin");
	EXPECT("j { a = x+y*z$; }", "name=j|a=x+y*z$");
	EXPECT("j { a+=b; }", "name=j|a=b");
}

static void quoting(void)
{
	EXPECT("j { a = \"two words\"; }", "name=j|a=\"two words\"");
	EXPECT("j { a = 'single $x ${y}'; }", "name=j|a=\"single $x ${y}\"");
	EXPECT("j { a = \"\"; }", "name=j|a=\"\"");
	EXPECT("j { a = \"multi\nline\"; }", "name=j|a=multi\nline");
	EXPECT("j { a = \"it's\"; }", "name=j|a=\"it's\"");
	EXPECT("j { a = 'say \"hi\"'; }", "name=j|a='say \"hi\"'");
	EXPECT("j { a = \"tab\there\"; }", "name=j|a=\"tab\there\"");
	EXPECT("j { a = \"back\\\\slash\"; }", "name=j|a=back\\\\slash");
	EXPECT("j { a = \"a'b\\\"c\"; }", "name=j|a=\"a'b\\\"c\"");
	EXPECT("j { a = \"cost $5\"; }", "name=j|a=\"cost $5\"");
}

static void escapes(void)
{
	EXPECT("j { a = \"\\a\\b\\f\\n\\r\\t\\v\"; }", "name=j|a=\"\a\b\f\n\r\t\v\"");
	EXPECT("j { a = \"\\101\\60\\x41\\x4a\\x4Z\"; }", "name=j|a=A0AJ\x04Z");
	EXPECT("j { a = \"line\\\ncontinued\"; }", "name=j|a=linecontinued");
	EXPECT("j { a = \\q\\$x; }", "name=j|a=q$x");
	EXPECT("j { a = '\\t'; }", "name=j|a=\"\t\"");
	EXPECT("j { a = x\\\ny; }", "name=j|a=xy");
	EXPECT("j { a = \"\\$notvar\"; }", "name=j|a=$notvar");
}

/* ---- grammar ------------------------------------------------------------------------------- */

static void param_forms(void)
{
	EXPECT("j { p; }", "name=j|p");
	EXPECT("j { p = v; }", "name=j|p=v");
	EXPECT("j { p v; }", "name=j|p=v");
	EXPECT("j { p = a, b ,c; }", "name=j|p=a,b,c");
	EXPECT("j { p = a; p += b, c; }", "name=j|p=a,b,c");
	EXPECT("j { p = a; p = b; }", "name=j|p=b");
	EXPECT("j { p = a; p; }", "name=j|p");
	EXPECT("j { ;; p = a;; }", "name=j|p=a");
	EXPECT(";", "");
	EXPECT("", "");
}

static void globals_and_wildcards(void)
{
	EXPECT("g = 1; a { } b { }", "name=a|g=1\nname=b|g=1");
	/* a global after a jail still applies (one "*" jail, at its first use) */
	EXPECT("a { } g = 1;", "name=a|g=1");
	/* a wildcard block applies in file order: before the jail it loses, after it wins */
	EXPECT("* { p = w; } a { p = own; }", "name=a|p=own");
	EXPECT("a { p = own; } * { p = w; }", "name=a|p=w");
	EXPECT("\"foo.*\" { p = 1; } foo.x { } foo.y.z { } bar { }",
	       "name=foo.x|p=1\nname=foo.y.z|p=1\nname=bar");
	EXPECT("foo.* { p = 1; } foo.x { }", "name=foo.x|p=1");
	EXPECT("\"*.web\" { p = 1; } a.web { } a.b.web { }", "name=a.web|p=1\nname=a.b.web");
	EXPECT("p = 1; \"*\" { p += 2; } j { p += 3; }", "name=j|p=1,2,3");
}

static void nested_blocks(void)
{
	EXPECT("a { p = 1; b { q = 2; c { } } r = 3; }",
	       "name=a|p=1|r=3\nname=a.b|q=2\nname=a.b.c");
	EXPECT("a { b { } }", "name=a\nname=a.b");
}

static void numeric_names(void)
{
	/* a numeric block implies jid (not printed by -e) and still gets name = the number */
	EXPECT("5309 { persist; }", "persist|name=5309");
	EXPECT("5309 { name = basejail; persist; }", "name=basejail|persist");
	EXPECT("5309 { host.hostname = \"${name}\"; }", "host.hostname=5309|name=5309");
	EXPECT("basejail { jid = 5309; }", "name=basejail");
	EXPECT("0 { }", "name=0");
}

static void merge_rules(void)
{
	/* "no" spellings are one parameter; the last spelling wins, in the first place */
	EXPECT("j { persist; a = 1; nopersist; }", "name=j|nopersist|a=1");
	EXPECT("j { allow.mount; allow.nomount; }", "name=j|allow.nomount");
	EXPECT("allow.noraw_sockets; j { allow.raw_sockets; }", "name=j|allow.raw_sockets");
	EXPECT("j { mount.nodevfs; mount.devfs = 1; }", "name=j|mount.devfs=1");
	/* name and jid cannot be redefined */
	EXPECT("j { name = other; }", "JERR: j: cannot redefine parameter \"name\".");
	EXPECT("5 { jid = 6; }", "JERR: 5: cannot redefine parameter \"jid\".");
	EXPECT("name = x; a { }", "JERR: a: cannot redefine parameter \"name\".");
	EXPECT("5 { name = a; name = b; }", "JERR: 5: cannot redefine parameter \"name\".");
}

static void variables(void)
{
	EXPECT("$d = \"/j\"; a { path = \"$d/${name}\"; }", "name=a|path=/j/a");
	EXPECT("$d = /j; a { path = $d/$name; }", "name=a|path=/j/a");
	/* substitution runs after the merge: a global can use the jail's name */
	EXPECT("h = \"${name}.lan\"; a { } b { }", "name=a|h=a.lan\nname=b|h=b.lan");
	/* a variable may refer to a later one; ${any.param} works */
	EXPECT("a { x = \"$v\"; $v = \"${host.hostname}!\"; host.hostname = h; }",
	       "name=a|x=h!|host.hostname=h");
	/* a list variable spliced as a whole string becomes several values */
	EXPECT("$l = a, b; j { p = $l; q = x, \"$l\", y; }", "name=j|p=a,b|q=x,a,b,y");
	EXPECT("$v = 1; j { $v = 2; p = $v; }", "name=j|p=2");
	EXPECT("$v = 1; j { $v += 2; p = $v; }", "name=j|p=1,2");
	/* FreeBSD moves a parameter that must be substituted first in front (it shows in -e) */
	EXPECT("a { x = \"${y}\"; y = \"${name}\"; z = \"$y$y\"; }", "name=a|y=a|x=a|z=aa");
	/* "$" alone and "$5" are not variables */
	EXPECT("j { p = \"$\"; q = $5; }", "name=j|p=$|q=$5");
}

static void variable_errors(void)
{
	EXPECT("j { p = \"$nope\"; }", "JERR: j: p: variable \"nope\" not found");
	EXPECT("j { p = $flag; flag; }", "JERR: j: p: variable \"flag\" not found");
	EXPECT("j { $a = \"$b\"; $b = \"$a\"; }", "JERR: j: a: variable loop");
	EXPECT("j { $a = \"x$a\"; }", "JERR: j: a: variable loop");
	EXPECT("$l = a, b; j { p = \"x$l\"; }", "JERR: j: p: array cannot be substituted inline");
	EXPECT("$l = a, b; j { p = \"$l$l\"; }", "JERR: j: p: array cannot be substituted inline");
	EXPECT("$path = /x; j { }",
	       "JERR: j: variable \"$path\" cannot have the same name as a parameter.");
	EXPECT("$v = 1; j { v = 2; }",
	       "JERR: j: variable \"$v\" cannot have the same name as a parameter.");
	/* only the broken jail fails */
	EXPECT("a { p = $x; } b { p = 1; }", "JERR: a: p: variable \"x\" not found");
	struct jc_conf c;
	lj_err e;
	const char *t = "a { p = $x; } b { p = 1; }";
	CHECK_INT(jc_load_string(&c, "t", t, strlen(t), &e), 0);
	CHECK(c.njails == 2 && c.jails[0].error && !c.jails[1].error);
	jc_free(&c);
}

/* ---- syntax errors ------------------------------------------------------------------------- */

static void syntax_errors(void)
{
	EXPECT("j { a = ; }", "ERR: test.conf line 1: ;: syntax error");
	EXPECT("j {\n a = b\n}\n", "ERR: test.conf line 3: }: syntax error");
	EXPECT("a b c;", "ERR: test.conf line 1: c: syntax error");
	EXPECT("\n\n}", "ERR: test.conf line 3: }: syntax error");
	EXPECT("{ }", "ERR: test.conf line 1: {: syntax error");
	EXPECT("= 1;", "ERR: test.conf line 1: =: syntax error");
	EXPECT("a, b;", "ERR: test.conf line 1: ,: syntax error");
	EXPECT("a += ;", "ERR: test.conf line 1: ;: syntax error");
	EXPECT("a = b", "ERR: test.conf: unexpected EOF");
	EXPECT("j { a;", "ERR: test.conf: unexpected EOF");
	EXPECT("$v { }", "ERR: test.conf line 1: {: syntax error");
	EXPECT("a\"b\" = 1;", "ERR: test.conf line 1: \"b\": syntax error");
	EXPECT("a = \"x\ny\" z;", "ERR: test.conf line 2: z: syntax error");
	EXPECT("a = b \x01;", "ERR: test.conf line 1: \x01: syntax error");
	EXPECT("j { a = 1; } }", "ERR: test.conf line 1: }: syntax error");
	EXPECT("a = \"x$v\" y;", "ERR: test.conf line 1: y: syntax error");
}

static void lexer_errors(void)
{
	EXPECT("a = \"open;\n", "ERR: test.conf line 1: unterminated string");
	EXPECT("\na = 'open;", "ERR: test.conf line 2: unterminated string");
	EXPECT("a = 1; /* never\nclosed\n", "ERR: test.conf line 3: unterminated comment");
	EXPECT("a = ${open;\n", "ERR: test.conf line 1: unterminated variable");
	EXPECT("a = \"${open\";", "ERR: test.conf line 1: unterminated variable");
}

/* ---- files and .include -------------------------------------------------------------------- */

static char tmpdir[64];

static void put(const char *rel, const char *text)
{
	lj_autofree char *p = xasprintf("%s/%s", tmpdir, rel);
	lj_err e;
	CHECK_INT(lj_write_file_atomic(p, text, strlen(text), 0644, &e), 0);
}

static char *load_file(const char *rel)
{
	lj_autofree char *p = xasprintf("%s/%s", tmpdir, rel);
	struct jc_conf c;
	lj_err e;
	if (jc_load_file(&c, p, &e) < 0)
		return xasprintf("ERR: %s", e.msg);
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);
	for (size_t i = 0; i < c.njails; i++)
		if (c.jails[i].error)
			fprintf(f, "JERR: %s\n", c.jails[i].error);
	jc_print_e(f, &c, "|");
	fclose(f);
	jc_free(&c);
	return s;
}

#define EXPECT_FILE(rel, want)               \
	do {                                 \
		char *got_ = load_file(rel); \
		CHECK_STR(got_, want);       \
		free(got_);                  \
	} while (0)

static void includes(void)
{
	lj_err e;
	strcpy(tmpdir, "/tmp/ljconfXXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	lj_autofree char *sub = xasprintf("%s/conf.d", tmpdir);
	CHECK_INT(lj_mkdir_p(sub, 0755, &e), 0);
	put("main.conf", "g = 1;\n.include \"conf.d/*.conf\";\n.include \"one.inc\";\nz { }\n");
	put("conf.d/a.conf", "a { p = a; }\n");
	put("conf.d/b.conf", "b { p = b; }\n");
	put("one.inc", "one { }\n");
	EXPECT_FILE("main.conf", "name=a|g=1|p=a\nname=b|g=1|p=b\nname=one|g=1\nname=z|g=1\n");

	/* a glob that matches nothing is fine; a missing literal file is not */
	put("noglob.conf", ".include \"nothing/*.conf\"; j { }\n");
	EXPECT_FILE("noglob.conf", "name=j\n");
	put("missing.conf", "j { }\n.include \"absent.conf\";\n");
	lj_autofree char *want =
	        xasprintf("ERR: %s/absent.conf: No such file or directory", tmpdir);
	EXPECT_FILE("missing.conf", want);

	/* variables are not allowed in the file name */
	put("var.conf", "$d = x;\n.include \"$d/a.conf\";\n");
	lj_autofree char *want2 = xasprintf(
	        "ERR: %s/var.conf line 2: variables not permitted in '.include' filename", tmpdir);
	EXPECT_FILE("var.conf", want2);

	/* an include inside a block adds to that block; its blocks nest */
	put("inner.inc", "q = 2;\nkid { }\n");
	put("nest.conf", "top { p = 1; .include \"inner.inc\"; }\n");
	EXPECT_FILE("nest.conf", "name=top|p=1|q=2\nname=top.kid\n");

	/* errors in an included file name that file */
	put("bad.inc", "\n\nx = ;\n");
	put("usesbad.conf", ".include \"bad.inc\";\n");
	lj_autofree char *want3 = xasprintf("ERR: %s/bad.inc line 3: ;: syntax error", tmpdir);
	EXPECT_FILE("usesbad.conf", want3);

	/* a device never ends: only regular files are included */
	put("dev.conf", ".include \"/dev/null\";\n");
	EXPECT_FILE("dev.conf", "ERR: /dev/null: not a regular file");

	/* an include loop stops at the depth limit */
	put("loop.conf", ".include \"loop.conf\";\n");
	EXPECT_FILE("loop.conf", "ERR: maximum include depth exceeded");

	/* "= " and "+=" forms of .include are plain (unknown) parameters */
	put("eq.conf", "j { .include = \"x\"; }\n");
	EXPECT_FILE("eq.conf", "name=j|.include=x\n");

	/* a whole file: where each parameter was set */
	struct jc_conf c;
	lj_autofree char *mp = xasprintf("%s/main.conf", tmpdir);
	CHECK_INT(jc_load_file(&c, mp, &e), 0);
	struct jc_jail *a = jc_find_jail(&c, "a");
	CHECK(a != NULL);
	if (a) {
		const struct jc_param *g = jc_find(a, "g");
		const struct jc_param *p = jc_find(a, "p");
		CHECK(g && g->line == 1 && strcmp(g->file, mp) == 0);
		CHECK(p && p->line == 1 && lj_endswith(p->file, "conf.d/a.conf"));
		CHECK(a->line == 1 && lj_endswith(a->file, "conf.d/a.conf"));
	}
	CHECK_INT(c.files.n, 4);
	jc_free(&c);

	lj_autofree char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	CHECK_INT(system(cmd), 0);
}

static void missing_file(void)
{
	struct jc_conf c;
	lj_err e;
	CHECK_INT(jc_load_file(&c, "/nonexistent/jail.conf", &e), -1);
	CHECK_STR(e.msg, "/nonexistent/jail.conf: No such file or directory");
	CHECK_INT(c.njails, 0);
}

/* ---- the tutorial's jail.conf ------------------------------------------------------------- */

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t n;
	lj_err e;
	if (lj_read_file(path, &s, &n, &e) < 0)
		return NULL;
	return s;
}

static void seed(void)
{
	char *text = slurp("examples/seed/jail.conf");
	if (!text) {
		SKIP("run from the source tree (examples/seed/jail.conf)");
		return;
	}
	struct jc_conf c;
	lj_err e;
	CHECK_INT(jc_load_string(&c, "jail.conf", text, strlen(text), &e), 0);
	free(text);
	CHECK_INT(c.njails, 2);
	struct jc_jail *w = jc_find_jail(&c, "webserver");
	struct jc_jail *d = jc_find_jail(&c, "database");
	CHECK(w && d);
	if (!w || !d) {
		jc_free(&c);
		return;
	}
	const struct jc_param *st = jc_find(w, "exec.start");
	CHECK(st && st->values.n == 3);
	if (st && st->values.n == 3) {
		CHECK_STR(st->values.v[0], "/bin/sh /etc/rc");
		CHECK_STR(st->values.v[1], "/sbin/ifconfig epair1b 192.168.1.201/24 up");
		CHECK_STR(st->values.v[2], "/sbin/route add default 192.168.1.1");
	}
	struct jc_jail *both[] = {w, d};
	for (int i = 0; i < 2; i++) {
		CHECK(jc_bool(both[i], "exec.clean", false));
		CHECK(jc_bool(both[i], "mount.devfs", false));
		CHECK(jc_bool(both[i], "allow.raw_sockets", false));
		CHECK(jc_find(both[i], "bridge") == NULL); /* variables are not parameters */
	}
	CHECK_STR(jc_str(w, "exec.consolelog"), "/var/log/jail_webserver_console.log");
	CHECK_STR(jc_str(d, "exec.consolelog"), "/var/log/jail_database_console.log");
	CHECK_STR(jc_str(d, "sysvshm"), "new");
	CHECK_STR(jc_str(w, "exec.stop"), "/bin/sh /etc/rc.shutdown");
	CHECK(jc_bool(w, "vnet", false));
	CHECK(!jc_bool(w, "persist", false));
	jc_free(&c);
}

/* The built jail(8): $LJAIL_BUILD/jail (or src/cmd/jail inside a meson build folder). */
static char *jail_bin(void)
{
	const char *build = getenv("LJAIL_BUILD");
	if (!build)
		return NULL;
	char *p = xasprintf("%s/jail", build);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	p = xasprintf("%s/src/cmd/jail", build);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* jail -e through the built binary, byte for byte against the expected file */
static void seed_cli(void)
{
	lj_autofree char *bin = jail_bin();
	char *want = slurp("tests/unit/conf/seed-e.expected");
	if (!bin || !want || access("examples/seed/jail.conf", R_OK) != 0) {
		free(want);
		SKIP("needs LJAIL_BUILD and the source tree");
		return;
	}
	lj_autofree char *cmd = xasprintf("'%s' -e '|' -f examples/seed/jail.conf", bin);
	FILE *p = popen(cmd, "r");
	lj_buf b = {0};
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		lj_buf_add(&b, buf, n);
	CHECK_INT(WEXITSTATUS(pclose(p)), 0);
	CHECK_STR(lj_buf_str(&b), want);
	lj_buf_free(&b);
	free(want);
}

/* Run the built jail with `args` (shell words) and `input` on stdin. */
struct run {
	int status;
	char *out, *err;
};

static char *slurp_or_empty(const char *path)
{
	char *s = slurp(path);
	return s ? s : xstrdup("");
}

static struct run run_jail(const char *bin, const char *args, const char *input)
{
	struct run r = {0};
	char dir[] = "/tmp/ljcliXXXXXX";
	if (!mkdtemp(dir)) {
		r.status = -1;
		return r;
	}
	lj_autofree char *in = xasprintf("%s/in", dir);
	lj_err e;
	lj_write_file_atomic(in, input ? input : "", input ? strlen(input) : 0, 0644, &e);
	lj_autofree char *cmd =
	        xasprintf("env -u LJAIL_JAIL_CONF '%s' %s <'%s' >'%s/out' 2>'%s/err'", bin, args,
	                  in, dir, dir);
	int st = system(cmd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	lj_autofree char *o = xasprintf("%s/out", dir);
	lj_autofree char *er = xasprintf("%s/err", dir);
	r.out = slurp_or_empty(o);
	r.err = slurp_or_empty(er);
	lj_autofree char *rm = xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		r.status = -1;
	return r;
}

#define USAGE                                                               \
	"usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n" \
	"            -[cmr] param=value ... [command=command ...]\n"        \
	"       jail [-dqv] [-f file] -[cmr] [jail]\n"                      \
	"       jail [-qv] [-f file] -[rR] ['*' | jail ...]\n"              \
	"       jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n" \
	"            [-n jailname] [-s securelevel]\n"                      \
	"            path hostname ip[,...] command ...\n"                  \
	"       jail [-f file] -e separator\n"

#define EXPECT_RUN(args, input, want_status, want_out, want_err) \
	do {                                                     \
		struct run r_ = run_jail(bin, args, input);      \
		CHECK_INT(r_.status, want_status);               \
		CHECK_STR(r_.out, want_out);                     \
		CHECK_STR(r_.err, want_err);                     \
		free(r_.out);                                    \
		free(r_.err);                                    \
	} while (0)

/* jail(8)'s command line, errors and -e, none of which runs anything */
static void cli(void)
{
	lj_autofree char *bin = jail_bin();
	if (!bin) {
		SKIP("needs LJAIL_BUILD");
		return;
	}
	EXPECT_RUN("", NULL, 1, "", USAGE);
	EXPECT_RUN("-x", NULL, 1, "", "jail: illegal option -- x\n" USAGE);
	EXPECT_RUN("-e", NULL, 1, "", "jail: option requires an argument -- e\n" USAGE);
	EXPECT_RUN("-e x -c", NULL, 1, "", USAGE);
	EXPECT_RUN("-e x extra", NULL, 1, "", USAGE);
	EXPECT_RUN("-r a=b", NULL, 1, "", USAGE);
	EXPECT_RUN("-r", NULL, 1, "", USAGE);
	EXPECT_RUN("-n x -f - -c", NULL, 1, "", USAGE);
	EXPECT_RUN("-R -c", NULL, 1, "", USAGE);
	EXPECT_RUN("-C -c name=x persist", NULL, 1, "", USAGE);
	EXPECT_RUN("relative host ip cmd", NULL, 1, "", USAGE);
	EXPECT_RUN("/ host ip", NULL, 1, "", USAGE);
	EXPECT_RUN("-f /nonexistent/j.conf -c", NULL, 1, "",
	           "jail: /nonexistent/j.conf: No such file or directory\n");
	if (access("/etc/jail.conf", F_OK) != 0)
		EXPECT_RUN("-c", NULL, 1, "", "jail: /etc/jail.conf: No such file or directory\n");

	/* -e prints every non-wildcard jail; -f - reads stdin, called STDIN */
	EXPECT_RUN("-e '|' -f -", "g;\n* { w = 1; }\na { p = \"x y\"; }\nb { }\n", 0,
	           "name=a|g|w=1|p=\"x y\"\nname=b|g|w=1\n", "");
	EXPECT_RUN("-f - -e ' , '", "a { p = 1, 2; q; }\n", 0, "name=a , p=1,2 , q\n", "");
	EXPECT_RUN("-e '|' -f -", "a {\n p = 1\n}\n", 1, "",
	           "jail: STDIN line 3: }: syntax error\n");
	EXPECT_RUN("-e '|' -f -", "a { p = $x; }\nb { }\n", 1, "",
	           "jail: a: p: variable \"x\" not found\n");

	/* parameters are checked before anything runs */
	EXPECT_RUN("-f - -c a", "a { foo = 1; }\n", 1, "", "jail: a: unknown parameter: foo\n");
	EXPECT_RUN("-f - -c", "a { persist = maybe; }\nb { stop.timeout = soon; }\n", 1, "",
	           "jail: a: persist: unknown boolean value \"maybe\"\n"
	           "jail: b: stop.timeout: non-integer value \"soon\"\n");
	EXPECT_RUN("-f - -c", "a { vnet = sometimes; }\n", 1, "",
	           "jail: a: vnet: unknown jailsys value \"sometimes\"\n");
	EXPECT_RUN("-f - -c", "a { name = b; }\n", 1, "",
	           "jail: a: cannot redefine parameter \"name\".\n");
	/* only the jails acted on (and what they depend on) are checked; the others can be broken
	 */
	EXPECT_RUN("-f - -c c", "a { foo = 1; }\nb { bar = 1; }\nc { depend = b; }\n", 1, "",
	           "jail: b: unknown parameter: bar\n");
	EXPECT_RUN("-f - -c 5309", "a { jid = 5309; foo = 1; }\n", 1, "",
	           "jail: a: unknown parameter: foo\n");
	EXPECT_RUN("-c name=x persist foo=bar", NULL, 1, "", "jail: unknown parameter: foo\n");
	EXPECT_RUN("-c name=x persist=maybe", NULL, 1, "",
	           "jail: persist: unknown boolean value \"maybe\"\n");
	EXPECT_RUN("-c name=x ip4.addr=1.2.3.4,::1", NULL, 1, "",
	           "jail: ip4.addr: not an IPv4 address: ::1\n");
	EXPECT_RUN("-c name=x name=y", NULL, 1, "", "jail: cannot redefine parameter \"name\".\n");
	EXPECT_RUN("-s x / h '' /bin/true", NULL, 1, "",
	           "jail: securelevel: non-integer value \"x\"\n");
	EXPECT_RUN("-c name=x children.cur=1", NULL, 1, "",
	           "jail: children.cur: read-only parameter\n");
}

/* ---- helpers ------------------------------------------------------------------------------- */

static void quote_rule(void)
{
	struct {
		const char *in, *out;
	} t[] = {
	        {"", "\"\""},
	        {"plain", "plain"},
	        {"two words", "\"two words\""},
	        {"tab\there", "\"tab\there\""},
	        {"it's", "\"it's\""},
	        {"say \"x\"", "'say \"x\"'"},
	        {"it's \"x\"", "\"it's \\\"x\\\"\""},
	        {"both ' and \"", "\"both ' and \\\"\""},
	        {"back\\slash", "back\\\\slash"},
	        {"new\nline", "new\nline"},
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(t); i++) {
		lj_buf b = {0};
		jc_quote(&b, t[i].in);
		CHECK_STR(lj_buf_str(&b), t[i].out);
		lj_buf_free(&b);
	}
}

static void from_args(void)
{
	struct jc_conf c = {0};
	lj_err e;
	char *argv[] = {"name=basejail",
	                "persist",
	                "ip4.addr=192.0.1.1,10.0.0.1",
	                "ip4.addr=10.0.0.2",
	                "host.hostname=x",
	                "host.hostname=y",
	                "command=/bin/echo",
	                "a b",
	                "name=ignored"};
	CHECK_INT(jc_from_args(&c, 9, argv, &e), 0);
	CHECK_INT(c.njails, 1);
	struct jc_jail *j = &c.jails[0];
	CHECK(j->file == NULL);
	CHECK_STR(j->name, "basejail");
	const struct jc_param *ip = jc_find(j, "ip4.addr");
	CHECK(ip && ip->values.n == 3);
	CHECK_STR(jc_str(j, "host.hostname"), "y");
	const struct jc_param *cmd = jc_find(j, "command");
	CHECK(cmd && cmd->values.n == 3);
	if (cmd && cmd->values.n == 3) {
		CHECK_STR(cmd->values.v[1], "a b");
		CHECK_STR(cmd->values.v[2], "name=ignored");
	}
	CHECK(jc_bool(j, "persist", false));
	jc_free(&c);

	char *dup[] = {"name=a", "name=b"};
	CHECK_INT(jc_from_args(&c, 2, dup, &e), -1);
	CHECK_STR(e.msg, "cannot redefine parameter \"name\".");
	CHECK_INT(c.njails, 0);

	char *bare[] = {"command"};
	CHECK_INT(jc_from_args(&c, 1, bare, &e), 0);
	CHECK_STR(c.jails[0].name, "");
	jc_free(&c);
}

static void accessors(void)
{
	struct jc_conf c;
	lj_err e;
	const char *t = "j { persist = false; allow.nomount; x = 1, 2; vnet = 0; devfs = TRUE; }";
	CHECK_INT(jc_load_string(&c, "t", t, strlen(t), &e), 0);
	struct jc_jail *j = &c.jails[0];
	CHECK(!jc_bool(j, "persist", true));
	CHECK(!jc_bool(j, "allow.mount", true));
	CHECK(!jc_bool(j, "vnet", true));
	CHECK(jc_bool(j, "devfs", false));
	CHECK(jc_bool(j, "absent", true));
	CHECK_STR(jc_str(j, "x"), "2");
	CHECK(jc_str(j, "allow.mount") == NULL);
	jc_set(j, "persist", NULL, true);
	CHECK(jc_bool(j, "persist", false));
	jc_set(j, "nopersist", NULL, true);
	CHECK(!jc_bool(j, "persist", true));
	jc_set(j, "x", "3", false);
	CHECK_INT(jc_find(j, "x")->values.n, 3);
	jc_set(j, "x", "4", true);
	CHECK_INT(jc_find(j, "x")->values.n, 1);
	jc_set(j, "new.one", "v", false);
	CHECK_STR(jc_str(j, "new.one"), "v");
	CHECK(jc_find_jail(&c, "j") == j);
	CHECK(jc_find_jail(&c, "k") == NULL);
	CHECK(jc_is_wild("*") && jc_is_wild("a.*") && jc_is_wild("*.b") && !jc_is_wild("a*"));
	CHECK(jc_match("a.b.c", "a.*") && jc_match("a.b", "*.b") && !jc_match("a.b.c", "*.c"));
	CHECK(jc_match("web", "web") && !jc_match("web", "db") && jc_match("x", "*"));
	jc_free(&c);
}

static void never_partial(void)
{
	/* a syntax error at the end still yields nothing at all */
	struct jc_conf c;
	lj_err e;
	const char *t = "a { } b { } c {";
	CHECK_INT(jc_load_string(&c, "t", t, strlen(t), &e), -1);
	CHECK_INT(c.njails, 0);
	CHECK(c.jails == NULL);
	/* NUL bytes and high bytes are just bad tokens */
	const char nul[] = "a = b\0;";
	CHECK_INT(jc_load_string(&c, "t", nul, sizeof nul - 1, &e), -1);
	CHECK_STR(e.msg, "t: unexpected EOF");
	CHECK_INT(jc_load_string(&c, "t", "a \xff;", 4, &e), -1);
	CHECK_STR(e.msg, "t line 1: \xff: syntax error");
	/* nesting is bounded */
	lj_buf deep = {0};
	for (int i = 0; i < 1001; i++)
		lj_buf_adds(&deep, "a{");
	CHECK_INT(jc_load_string(&c, "t", deep.s, deep.len, &e), -1);
	CHECK_STR(e.msg, "t line 1: {: blocks nested too deeply");
	lj_buf_reset(&deep);
	for (int i = 0; i < 100; i++)
		lj_buf_adds(&deep, "a{");
	for (int i = 0; i < 100; i++)
		lj_buf_adds(&deep, "}");
	CHECK_INT(jc_load_string(&c, "t", deep.s, deep.len, &e), 0);
	CHECK_INT(c.njails, 100);
	jc_free(&c);
	lj_buf_free(&deep);
}

int main(void)
{
	lj_t_suite = "conf";
	RUN(comments);
	RUN(atoms_and_joins);
	RUN(quoting);
	RUN(escapes);
	RUN(param_forms);
	RUN(globals_and_wildcards);
	RUN(nested_blocks);
	RUN(numeric_names);
	RUN(merge_rules);
	RUN(variables);
	RUN(variable_errors);
	RUN(syntax_errors);
	RUN(lexer_errors);
	RUN(includes);
	RUN(missing_file);
	RUN(seed);
	RUN(seed_cli);
	RUN(cli);
	RUN(quote_rule);
	RUN(from_args);
	RUN(accessors);
	RUN(never_partial);
	return TEST_DONE();
}
