/* store unit tests: names, ZFS number format, the metadata file, tree copy/size/remove (no root).
 */
#include "check.h"
#include "store/store_int.h"
#include "store/store_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static bool name_ok(const char *n, int snap)
{
	lj_err e;
	return lj_store_check_name(n, snap, &e) == 0;
}

static void names_valid(void)
{
	CHECK(name_ok("templates", 0));
	CHECK(name_ok("templates/base", 0));
	CHECK(name_ok("containers/web-1_a.b:c", 0));
	CHECK(name_ok("templates/base@15.0", 1));
	CHECK(name_ok("templates/base@before-update", 2));
	CHECK(name_ok("templates/base", 2));
}

static void names_invalid(void)
{
	lj_err e;
	CHECK(!name_ok("", 0));
	CHECK(!name_ok("/abs/path", 0));
	CHECK(lj_store_check_name("/abs", 0, &e) < 0);
	CHECK_STR(e.msg, "invalid dataset name: leading slash in name");
	CHECK(!name_ok("a/../b", 0));
	CHECK(lj_store_check_name("a/../b", 0, &e) < 0);
	CHECK_STR(e.msg, "invalid dataset name: '..' component");
	CHECK(!name_ok("..", 0));
	CHECK(!name_ok("a/./b", 0));
	CHECK(!name_ok("a//b", 0));
	CHECK(!name_ok("a/", 0));
	CHECK(!name_ok("a b", 0));
	CHECK(lj_store_check_name("a$b", 0, &e) < 0);
	CHECK_STR(e.msg, "invalid dataset name: invalid character '$' in name");
	CHECK(!name_ok(".ljail", 0));
	CHECK(!name_ok("a/-x", 0));
	CHECK(!name_ok("a\tb", 0));
	CHECK(!name_ok("a@s", 0));
	CHECK(!name_ok("a", 1));
	CHECK(!name_ok("a@", 1));
	CHECK(!name_ok("a@b@c", 1));
	CHECK(!name_ok("a@b/c", 1));
	CHECK(!name_ok("a@..", 1));
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK(!name_ok(longname, 0));
}

static void nicenum(void)
{
	char b[16];
	lj_store_nicenum(0, b, sizeof b);
	CHECK_STR(b, "0B");
	lj_store_nicenum(1000, b, sizeof b);
	CHECK_STR(b, "1000B");
	lj_store_nicenum(96 * 1024, b, sizeof b);
	CHECK_STR(b, "96K");
	lj_store_nicenum(1536, b, sizeof b);
	CHECK_STR(b, "1.50K");
	lj_store_nicenum(374ULL * 1024 * 1024 + 123456, b, sizeof b);
	CHECK_STR(b, "374M");
	lj_store_nicenum((uint64_t)(33.9 * 1024 * 1024 * 1024), b, sizeof b);
	CHECK_STR(b, "33.9G");
	lj_store_nicenum(5672960, b, sizeof b);
	CHECK_STR(b, "5.41M");
}

static void metadata_roundtrip(void)
{
	struct lj_pool p = {0};
	lj_err e;
	const char *text = "ljail-pool 1\n"
	                   "fs\ttemplates\toverlay\t100\t1\t-\n"
	                   "fs\ttemplates/base\toverlay\t101\t2\t-\n"
	                   "snap\ttemplates/base@15.0\toverlay\t102\t3\t-\n"
	                   "fs\tcontainers/web\tbtrfs\t103\t7\ttemplates/base@15.0\n";
	CHECK_INT(st_meta_parse(&p, text, "datasets", &e), 0);
	CHECK_INT(p.n, 4);
	CHECK_INT(p.seq, 7);
	struct st_ds *d = st_find(&p, "containers/web");
	CHECK(d && d->bk == LJ_BK_BTRFS && d->origin &&
	      strcmp(d->origin, "templates/base@15.0") == 0);
	CHECK(st_find(&p, "templates/base@15.0") && st_find(&p, "templates/base@15.0")->snap);
	char *out = st_meta_format(&p);
	CHECK_STR(out, text);
	free(out);
	st_ds_clear(&p);
	free(p.v);
}

static void metadata_errors(void)
{
	struct lj_pool p = {0};
	lj_err e;
	CHECK(st_meta_parse(&p, "something else\n", "F", &e) < 0);
	CHECK_STR(e.msg, "F line 1: not an ljail pool file");
	st_ds_clear(&p);
	CHECK(st_meta_parse(&p, "ljail-pool 1\nfs\ta/../b\tdir\t1\t1\t-\n", "F", &e) < 0);
	CHECK_STR(e.msg, "F line 2: malformed dataset record");
	st_ds_clear(&p);
	CHECK(st_meta_parse(&p, "ljail-pool 1\nfs\ta\tzfs\t1\t1\t-\n", "F", &e) < 0);
	st_ds_clear(&p);
	CHECK(st_meta_parse(&p, "ljail-pool 1\nfs\ta\tdir\t1\t1\t-\nfs\ta\tdir\t1\t2\t-\n", "F",
	                    &e) < 0);
	CHECK_STR(e.msg, "F line 3: malformed dataset record");
	st_ds_clear(&p);
	CHECK(st_meta_parse(&p, "ljail-pool 1\nsnap\ta\tdir\t1\t1\t-\n", "F", &e) < 0);
	st_ds_clear(&p);
	free(p.v);
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		close(fd);
	}
}

static void tree_copy_size_remove(void)
{
	char tmpl[] = "/tmp/lj-store-unit.XXXXXX";
	char *top = mkdtemp(tmpl);
	CHECK(top != NULL);
	if (!top)
		return;
	lj_autofree char *src = xasprintf("%s/src", top);
	lj_autofree char *dst = xasprintf("%s/dst", top);
	lj_autofree char *a = xasprintf("%s/src/a", top);
	lj_autofree char *kid = xasprintf("%s/src/kid", top);
	lj_autofree char *kidf = xasprintf("%s/src/kid/inner", top);
	lj_autofree char *f = xasprintf("%s/src/a/file", top);
	lj_autofree char *h = xasprintf("%s/src/a/hard", top);
	lj_autofree char *l = xasprintf("%s/src/a/link", top);
	mkdir(src, 0755);
	mkdir(a, 0750);
	mkdir(kid, 0755);
	put(f, "hello world\n");
	put(kidf, "child dataset content\n");
	chmod(f, 0640);
	CHECK_INT(link(f, h), 0);
	CHECK_INT(symlink("file", l), 0);
	lj_strv skip = {0};
	lj_strv_add(&skip, "kid");
	lj_err e;
	CHECK_INT(st_copy_tree(src, dst, &skip, &e), 0);
	struct stat s1, s2, s3;
	lj_autofree char *df = xasprintf("%s/dst/a/file", top);
	lj_autofree char *dh = xasprintf("%s/dst/a/hard", top);
	lj_autofree char *dl = xasprintf("%s/dst/a/link", top);
	lj_autofree char *da = xasprintf("%s/dst/a", top);
	lj_autofree char *dk = xasprintf("%s/dst/kid", top);
	lj_autofree char *dkf = xasprintf("%s/dst/kid/inner", top);
	CHECK_INT(stat(df, &s1), 0);
	CHECK_INT(stat(dh, &s2), 0);
	CHECK_INT(s1.st_mode & 07777, 0640);
	CHECK(s1.st_ino == s2.st_ino); /* hard link kept */
	CHECK_INT(lstat(dl, &s3), 0);
	CHECK(S_ISLNK(s3.st_mode));
	CHECK_INT(stat(da, &s3), 0);
	CHECK_INT(s3.st_mode & 07777, 0750);
	CHECK_INT(stat(dk, &s3), 0);   /* the child's mountpoint is there ... */
	CHECK(access(dkf, F_OK) != 0); /* ... without its content */
	char *text = NULL;
	CHECK_INT(lj_read_file(df, &text, NULL, &e), 0);
	CHECK_STR(text, "hello world\n");
	free(text);
	uint64_t with = 0, without = 0;
	CHECK_INT(st_tree_size(src, NULL, &with, NULL, 0, &e), 0);
	CHECK_INT(st_tree_size(src, &skip, &without, NULL, 0, &e), 0);
	CHECK(with > without);
	/* clearing a folder keeps it and what is skipped */
	CHECK_INT(st_rm_rf(src, true, &skip, &e), 0);
	CHECK(access(src, F_OK) == 0);
	CHECK(access(a, F_OK) != 0);
	CHECK(access(kidf, F_OK) == 0);
	CHECK_INT(st_rm_rf(top, false, NULL, &e), 0);
	CHECK(access(top, F_OK) != 0);
	lj_strv_free(&skip);
}

static void userland_install(void)
{
	char tmpl[] = "/tmp/lj-store-unit.XXXXXX";
	char *top = mkdtemp(tmpl);
	CHECK(top != NULL);
	if (!top)
		return;
	lj_autofree char *root = xasprintf("%s/root", top);
	lj_autofree char *out = xasprintf("%s/outside", top);
	lj_autofree char *etc = xasprintf("%s/root/etc", top);
	mkdir(root, 0755);
	mkdir(out, 0755);
	struct lj_bootstrap b = {.templates = LJ_TEMPLATES_SRC, .tooldir = top};
	lj_err e;
	CHECK_INT(lj_store_install_userland(root, &b, &e), 0);
	lj_autofree char *rc = xasprintf("%s/etc/rc", root);
	lj_autofree char *sysrc = xasprintf("%s/usr/sbin/sysrc", root);
	lj_autofree char *svc = xasprintf("%s/usr/sbin/service", root);
	lj_autofree char *httpd = xasprintf("%s/etc/rc.d/httpd", root);
	struct stat st;
	CHECK(stat(rc, &st) == 0 && (st.st_mode & 0111));
	CHECK(stat(sysrc, &st) == 0 && (st.st_mode & 0111));
	CHECK(access(svc, X_OK) == 0);   /* no service(8) there: ljail's */
	CHECK(access(httpd, F_OK) == 0); /* a busybox template (no suite) */
	/* a distribution's own service(8) is kept */
	put(svc, "#!/bin/sh\necho distro\n");
	CHECK_INT(lj_store_install_userland(root, &b, &e), 0);
	char *text = NULL;
	CHECK_INT(lj_read_file(svc, &text, NULL, &e), 0);
	CHECK_STR(text, "#!/bin/sh\necho distro\n");
	free(text);
	/* a folder that leads out of the root is never written through */
	CHECK_INT(st_rm_rf(etc, false, NULL, &e), 0);
	CHECK_INT(symlink(out, etc), 0);
	CHECK(lj_store_install_userland(root, &b, &e) < 0);
	CHECK(strstr(e.msg, "leads outside the root") != NULL);
	lj_autofree char *leak = xasprintf("%s/rc", out);
	CHECK(access(leak, F_OK) != 0);
	CHECK_INT(st_rm_rf(top, false, NULL, &e), 0);
}

int main(void)
{
	lj_t_suite = "store";
	RUN(names_valid);
	RUN(names_invalid);
	RUN(nicenum);
	RUN(metadata_roundtrip);
	RUN(metadata_errors);
	RUN(tree_copy_size_remove);
	RUN(userland_install);
	return TEST_DONE();
}
