/* jailctl(8): ZFS's dataset verbs for jail roots, so the tutorial's storage steps read the same:
 * create, bootstrap, snapshot, clone, rollback, destroy, list, export, import, mount, umount, pkg.
 * Messages follow zfs(8): "cannot create 'x': dataset already exists", exit 1. */
#include "conf/conf.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/util.h"

#include <errno.h>
#include <getopt.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fputs("usage: jailctl create [-p] dataset\n"
	      "       jailctl bootstrap dataset --busybox[=path] | --debian suite [--with "
	      "pkg,...]\n"
	      "       jailctl snapshot dataset@snapname ...\n"
	      "       jailctl clone [-p] dataset@snapname newdataset\n"
	      "       jailctl rollback [-r] dataset@snapname\n"
	      "       jailctl destroy [-r|-R] dataset[@snapname]\n"
	      "       jailctl list [-rHp] [-t filesystem|snapshot|all] [-o col,...] [--json] "
	      "[dataset]\n"
	      "       jailctl export dataset[@snapname] file\n"
	      "       jailctl import file dataset\n"
	      "       jailctl mount -a | dataset | path\n"
	      "       jailctl umount -a | dataset\n"
	      "       jailctl pkg [-f jail.conf] jail install|remove package ...\n",
	      stderr);
	exit(2);
}

static void fail(const lj_err *e)
{
	fprintf(stderr, "%s\n", e->msg);
	exit(1);
}

/* The open pool (and its lock), closed however the command ends. */
static struct lj_pool *g_pool;

static void close_pool(void)
{
	lj_store_close(g_pool);
	g_pool = NULL;
}

/* Running jails' roots, so destroy and rollback leave them alone. */
static void mark_busy(struct lj_pool *p)
{
	struct lj_registry reg;
	struct lj_record *recs;
	size_t n;
	if (lj_reg_open(&reg, NULL) < 0)
		return;
	lj_strv paths = {0};
	if (lj_reg_list(&reg, &recs, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			const char *path = lj_record_get(&recs[i], "path");
			if (path)
				lj_strv_add(&paths, path);
		}
		lj_records_free(recs, n);
	}
	lj_reg_close(&reg);
	lj_store_set_busy(p, &paths);
	lj_strv_free(&paths);
}

static struct lj_pool *open_pool(void)
{
	struct lj_pool *p;
	lj_err e;
	if (lj_store_open(&p, NULL, &e) < 0) {
		fprintf(stderr, "jailctl: %s\n", e.msg);
		exit(1);
	}
	g_pool = p;
	atexit(close_pool);
	return p;
}

/* getopt over argv[1..] of a verb */
static void reset_getopt(void)
{
	optind = 1;
	opterr = 1;
}

static int cmd_create(int argc, char **argv)
{
	int flags = 0, c;
	reset_getopt();
	while ((c = getopt(argc, argv, "p")) != -1)
		if (c == 'p')
			flags |= LJ_STORE_PARENTS;
		else
			usage();
	if (argc - optind != 1)
		usage();
	struct lj_pool *p = open_pool();
	lj_err e;
	if (lj_store_create(p, argv[optind], flags, &e) < 0)
		fail(&e);
	return 0;
}

static void progress(void *arg, int step, int total, const char *what)
{
	(void)arg;
	printf("[%d/%d] %s\n", step, total, what);
	fflush(stdout);
}

static int cmd_bootstrap(int argc, char **argv)
{
	static const struct option longopts[] = {{"busybox", optional_argument, NULL, 'b'},
	                                         {"debian", required_argument, NULL, 'd'},
	                                         {"with", required_argument, NULL, 'w'},
	                                         {NULL, 0, NULL, 0}};
	struct lj_bootstrap b = {.progress = progress};
	bool busybox = false;
	int c;
	reset_getopt();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			busybox = true;
			b.busybox = optarg;
			break;
		case 'd':
			b.suite = optarg;
			break;
		case 'w': {
			lj_autofree char *list = xstrdup(optarg);
			char *save = NULL;
			for (char *t = strtok_r(list, ", ", &save); t;
			     t = strtok_r(NULL, ", ", &save)) {
				if (t[0] == '-') {
					fprintf(stderr, "jailctl: bad package name '%s'\n", t);
					return 1;
				}
				lj_strv_add(&b.with, t);
			}
			break;
		}
		default:
			usage();
		}
	}
	if (argc - optind != 1 || busybox == (b.suite != NULL) || (busybox && b.with.n)) {
		fprintf(stderr,
		        "jailctl bootstrap: give --busybox, or --debian SUITE [--with PKG,...]\n");
		usage();
	}
	if (b.suite && (b.suite[0] == '-' || strpbrk(b.suite, "/ \t"))) {
		fprintf(stderr, "jailctl: bad suite name '%s'\n", b.suite);
		return 1;
	}
	struct lj_pool *p = open_pool();
	lj_err e;
	if (lj_store_bootstrap(p, argv[optind], &b, &e) < 0)
		fail(&e);
	lj_strv_free(&b.with);
	return 0;
}

static int cmd_snapshot(int argc, char **argv)
{
	if (argc < 2)
		usage();
	struct lj_pool *p = open_pool();
	lj_err e;
	for (int i = 1; i < argc; i++)
		if (lj_store_snapshot(p, argv[i], &e) < 0)
			fail(&e);
	return 0;
}

static int cmd_clone(int argc, char **argv)
{
	int flags = 0, c;
	reset_getopt();
	while ((c = getopt(argc, argv, "p")) != -1)
		if (c == 'p')
			flags |= LJ_STORE_PARENTS;
		else
			usage();
	if (argc - optind != 2)
		usage();
	struct lj_pool *p = open_pool();
	lj_err e;
	if (lj_store_clone(p, argv[optind], argv[optind + 1], flags, &e) < 0)
		fail(&e);
	return 0;
}

static int cmd_rollback(int argc, char **argv)
{
	bool recursive = false;
	int c;
	reset_getopt();
	while ((c = getopt(argc, argv, "rRf")) != -1)
		if (c == 'r' || c == 'R')
			recursive = true;
		else if (c != 'f')
			usage();
	if (argc - optind != 1)
		usage();
	struct lj_pool *p = open_pool();
	mark_busy(p);
	lj_err e;
	if (lj_store_rollback(p, argv[optind], recursive, &e) < 0)
		fail(&e);
	return 0;
}

static int cmd_destroy(int argc, char **argv)
{
	int flags = 0, c;
	reset_getopt();
	while ((c = getopt(argc, argv, "rRf")) != -1)
		if (c == 'r')
			flags |= LJ_STORE_RECURSIVE;
		else if (c == 'R')
			flags |= LJ_STORE_RECURSIVE | LJ_STORE_DEPENDENTS;
		else if (c != 'f')
			usage();
	if (argc - optind != 1)
		usage();
	struct lj_pool *p = open_pool();
	mark_busy(p);
	lj_err e;
	lj_strv blockers = {0};
	if (lj_store_destroy(p, argv[optind], flags, &blockers, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		for (size_t i = 0; i < blockers.n; i++)
			fprintf(stderr, "%s\n", blockers.v[i]);
		exit(1);
	}
	return 0;
}

/* ---- list ---------------------------------------------------------------------------------------
 */

enum col {
	C_NAME,
	C_USED,
	C_AVAIL,
	C_REFER,
	C_MOUNTPOINT,
	C_ORIGIN,
	C_TYPE,
	C_BACKEND,
	C_CREATION,
	C_MOUNTED
};
static const char *col_names[] = {"name",   "used", "avail",   "refer",    "mountpoint",
                                  "origin", "type", "backend", "creation", "mounted"};

static char *cell(const struct lj_ds_info *d, enum col c, bool parsable)
{
	char buf[32];
	switch (c) {
	case C_NAME:
		return xstrdup(d->name);
	case C_USED:
	case C_REFER:
	case C_AVAIL: {
		if (c == C_AVAIL && d->avail < 0)
			return xstrdup("-");
		uint64_t v = c == C_USED ? d->used : c == C_REFER ? d->refer : (uint64_t)d->avail;
		if (parsable)
			return xasprintf("%llu", (unsigned long long)v);
		lj_store_nicenum(v, buf, sizeof buf);
		return xstrdup(buf);
	}
	case C_MOUNTPOINT:
		return xstrdup(d->mountpoint ? d->mountpoint : "-");
	case C_ORIGIN:
		return xstrdup(d->origin ? d->origin : "-");
	case C_TYPE:
		return xstrdup(d->is_snapshot ? "snapshot" : "filesystem");
	case C_BACKEND:
		return xstrdup(lj_backend_name(d->backend));
	case C_CREATION:
		if (parsable)
			return xasprintf("%lld", (long long)d->created);
		else {
			time_t t = (time_t)d->created;
			struct tm tm;
			localtime_r(&t, &tm);
			strftime(buf, sizeof buf, "%a %b %e %H:%M %Y", &tm);
			return xstrdup(buf);
		}
	case C_MOUNTED:
		return xstrdup(d->is_snapshot ? "-" : d->mounted ? "yes" : "no");
	}
	return xstrdup("-");
}

static void json_str(lj_buf *b, const char *s)
{
	lj_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			lj_buf_addf(b, "\\%c", c);
		else if (c < 0x20)
			lj_buf_addf(b, "\\u%04x", c);
		else
			lj_buf_addc(b, (char)c);
	}
	lj_buf_addc(b, '"');
}

static int cmd_list(int argc, char **argv)
{
	bool recursive = false, header = true, parsable = false, json = false;
	int types = 0, c;
	enum col cols[16] = {C_NAME, C_USED, C_AVAIL, C_REFER, C_MOUNTPOINT};
	size_t ncols = 5;
	/* --json is not a getopt short option: take it out first */
	int k = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
			json = true;
		else
			argv[k++] = argv[i];
	}
	argc = k;
	reset_getopt();
	while ((c = getopt(argc, argv, "rHpt:o:d:")) != -1) {
		switch (c) {
		case 'r':
			recursive = true;
			break;
		case 'd':
			recursive = true;
			break;
		case 'H':
			header = false;
			break;
		case 'p':
			parsable = true;
			break;
		case 't': {
			lj_autofree char *s = xstrdup(optarg);
			char *save = NULL;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (strcmp(t, "filesystem") == 0 || strcmp(t, "fs") == 0)
					types |= 1;
				else if (strcmp(t, "snapshot") == 0 || strcmp(t, "snap") == 0)
					types |= 2;
				else if (strcmp(t, "all") == 0)
					types |= 3;
				else {
					fprintf(stderr, "invalid type '%s'\n", t);
					usage();
				}
			}
			break;
		}
		case 'o': {
			ncols = 0;
			lj_autofree char *s = xstrdup(optarg);
			char *save = NULL;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				size_t j;
				for (j = 0; j < LJ_ARRAY_LEN(col_names); j++)
					if (strcasecmp(t, col_names[j]) == 0)
						break;
				if (j == LJ_ARRAY_LEN(col_names) || ncols == LJ_ARRAY_LEN(cols)) {
					fprintf(stderr, "invalid field '%s'\n", t);
					usage();
				}
				cols[ncols++] = (enum col)j;
			}
			break;
		}
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	const char *name = argc > optind ? argv[optind] : NULL;
	if (!types)
		types = name && strchr(name, '@') ? 2 : 1;
	struct lj_pool *p = open_pool();
	lj_err e;
	struct lj_ds_info *v;
	size_t n;
	if (lj_store_list(p, name, recursive, types, &v, &n, &e) < 0)
		fail(&e);
	if (json) {
		lj_buf b = {0};
		lj_buf_adds(&b, "{\"pool\": ");
		json_str(&b, lj_store_root(p));
		lj_buf_adds(&b, ", \"datasets\": [");
		for (size_t i = 0; i < n; i++) {
			const struct lj_ds_info *d = &v[i];
			lj_buf_adds(&b, i ? ",\n  {" : "\n  {");
			lj_buf_adds(&b, "\"name\": ");
			json_str(&b, d->name);
			lj_buf_addf(&b, ", \"type\": \"%s\", \"backend\": \"%s\"",
			            d->is_snapshot ? "snapshot" : "filesystem",
			            lj_backend_name(d->backend));
			lj_buf_addf(&b, ", \"used\": %llu, \"refer\": %llu",
			            (unsigned long long)d->used, (unsigned long long)d->refer);
			if (d->avail >= 0)
				lj_buf_addf(&b, ", \"avail\": %lld", (long long)d->avail);
			else
				lj_buf_adds(&b, ", \"avail\": null");
			lj_buf_adds(&b, ", \"mountpoint\": ");
			if (d->mountpoint)
				json_str(&b, d->mountpoint);
			else
				lj_buf_adds(&b, "null");
			lj_buf_adds(&b, ", \"origin\": ");
			if (d->origin)
				json_str(&b, d->origin);
			else
				lj_buf_adds(&b, "null");
			lj_buf_addf(&b, ", \"creation\": %lld", (long long)d->created);
			if (!d->is_snapshot)
				lj_buf_addf(&b, ", \"mounted\": %s", d->mounted ? "true" : "false");
			lj_buf_adds(&b, "}");
		}
		lj_buf_adds(&b, n ? "\n]}\n" : "]}\n");
		fputs(lj_buf_str(&b), stdout);
		lj_buf_free(&b);
	} else if (n == 0 && !name) {
		fprintf(stderr, "no datasets available\n");
	} else {
		char ***cells = xcalloc(n + 1, sizeof *cells);
		size_t width[16] = {0};
		for (size_t r = 0; r <= n; r++) {
			cells[r] = xcalloc(ncols, sizeof(char *));
			for (size_t j = 0; j < ncols; j++) {
				if (r == 0) {
					cells[r][j] = xstrdup(col_names[cols[j]]);
					for (char *q = cells[r][j]; *q; q++)
						*q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
				} else
					cells[r][j] = cell(&v[r - 1], cols[j], parsable);
				if (strlen(cells[r][j]) > width[j])
					width[j] = strlen(cells[r][j]);
			}
		}
		for (size_t r = header ? 0 : 1; r <= n; r++) {
			for (size_t j = 0; j < ncols; j++) {
				bool last = j + 1 == ncols;
				bool right = cols[j] == C_USED || cols[j] == C_AVAIL ||
				             cols[j] == C_REFER;
				if (!header)
					printf("%s%s", cells[r][j], last ? "" : "\t");
				else if (right)
					printf("%*s%s", (int)width[j], cells[r][j],
					       last ? "" : "  ");
				else if (last)
					printf("%s", cells[r][j]);
				else
					printf("%-*s  ", (int)width[j], cells[r][j]);
			}
			printf("\n");
		}
		for (size_t r = 0; r <= n; r++) {
			for (size_t j = 0; j < ncols; j++)
				free(cells[r][j]);
			free(cells[r]);
		}
		free(cells);
	}
	lj_ds_infos_free(v, n);
	return 0;
}

/* ---- the rest -----------------------------------------------------------------------------------
 */

static int cmd_export(int argc, char **argv)
{
	if (argc != 3)
		usage();
	struct lj_pool *p = open_pool();
	lj_err e;
	if (lj_store_export(p, argv[1], argv[2], &e) < 0)
		fail(&e);
	return 0;
}

static int cmd_import(int argc, char **argv)
{
	if (argc != 3)
		usage();
	struct lj_pool *p = open_pool();
	lj_err e;
	if (lj_store_import(p, argv[1], argv[2], &e) < 0)
		fail(&e);
	return 0;
}

static int cmd_mount(int argc, char **argv, bool mount)
{
	if (argc != 2)
		usage();
	struct lj_pool *p = open_pool();
	lj_err e;
	int rc;
	if (strcmp(argv[1], "-a") == 0)
		rc = mount ? lj_store_mount_all(p, &e) : lj_store_umount_all(p, &e);
	else if (mount && argv[1][0] == '/') {
		/* a jail's path: what `jail -c` asks for */
		close_pool();
		bool found;
		if (lj_store_mount_path(argv[1], &found, &e) < 0)
			fail(&e);
		if (!found) {
			fprintf(stderr, "cannot mount '%s': not the mountpoint of a dataset\n",
			        argv[1]);
			return 1;
		}
		return 0;
	} else
		rc = mount ? lj_store_mount(p, argv[1], NULL, &e) : lj_store_umount(p, argv[1], &e);
	if (rc < 0)
		fail(&e);
	return 0;
}

/* The root of a jail: the running jail's path, else jail.conf's, else a dataset's mountpoint. */
static char *jail_root(struct lj_pool *p, const char *conf, const char *jail, lj_err *e)
{
	struct lj_registry reg;
	if (lj_reg_open(&reg, NULL) == 0) {
		struct lj_record rec;
		if (lj_reg_find(&reg, jail, &rec, NULL) == 0) {
			const char *path = lj_record_get(&rec, "path");
			char *r = path ? xstrdup(path) : NULL;
			lj_record_free(&rec);
			lj_reg_close(&reg);
			if (r)
				return r;
		} else
			lj_reg_close(&reg);
	}
	if (!conf)
		conf = getenv("LJAIL_JAIL_CONF") ? getenv("LJAIL_JAIL_CONF") : "/etc/jail.conf";
	struct jc_conf c = {0};
	lj_err ce;
	if (access(conf, R_OK) == 0 && jc_load_file(&c, conf, &ce) == 0) {
		struct jc_jail *j = jc_find_jail(&c, jail);
		const char *path = j ? jc_str(j, "path") : NULL;
		char *r = path ? xstrdup(path) : NULL;
		jc_free(&c);
		if (r)
			return r;
	}
	if (lj_store_check_name(jail, 0, NULL) == 0 && lj_store_exists(p, jail)) {
		char *mp = NULL;
		if (lj_store_mount(p, jail, &mp, e) < 0)
			return NULL;
		return mp;
	}
	lj_errorx(e, "jail \"%s\" not found (not running, not in %s, not a dataset)", jail, conf);
	return NULL;
}

static int cmd_pkg(int argc, char **argv)
{
	const char *conf = NULL;
	int c;
	reset_getopt();
	while ((c = getopt(argc, argv, "+f:")) != -1)
		if (c == 'f')
			conf = optarg;
		else
			usage();
	if (argc - optind < 3)
		usage();
	const char *jail = argv[optind], *verb = argv[optind + 1];
	if (strcmp(verb, "install") != 0 && strcmp(verb, "remove") != 0 &&
	    strcmp(verb, "delete") != 0) {
		fprintf(stderr, "jailctl pkg: unknown verb '%s' (install or remove)\n", verb);
		return 1;
	}
	if (strcmp(verb, "delete") == 0)
		verb = "remove";
	lj_strv pkgs = {0};
	for (int i = optind + 2; i < argc; i++) {
		if (strcmp(argv[i], "-y") == 0)
			continue; /* pkg(8)'s habit; apt-get runs with -y anyway */
		if (argv[i][0] == '-') {
			fprintf(stderr, "jailctl: bad package name '%s'\n", argv[i]);
			return 1;
		}
		lj_strv_add(&pkgs, argv[i]);
	}
	struct lj_pool *p = open_pool();
	lj_err e;
	lj_autofree char *root = jail_root(p, conf, jail, &e);
	if (!root) {
		fprintf(stderr, "jailctl: %s\n", e.msg);
		return 1;
	}
	if (lj_store_apt(p, root, true, verb, &pkgs, &e) < 0) {
		fprintf(stderr, "jailctl: %s: %s\n", jail, e.msg);
		return 1;
	}
	lj_strv_free(&pkgs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *verb = argv[1];
	argc--, argv++;
	if (strcmp(verb, "create") == 0)
		return cmd_create(argc, argv);
	if (strcmp(verb, "bootstrap") == 0)
		return cmd_bootstrap(argc, argv);
	if (strcmp(verb, "snapshot") == 0 || strcmp(verb, "snap") == 0)
		return cmd_snapshot(argc, argv);
	if (strcmp(verb, "clone") == 0)
		return cmd_clone(argc, argv);
	if (strcmp(verb, "rollback") == 0)
		return cmd_rollback(argc, argv);
	if (strcmp(verb, "destroy") == 0)
		return cmd_destroy(argc, argv);
	if (strcmp(verb, "list") == 0)
		return cmd_list(argc, argv);
	if (strcmp(verb, "export") == 0)
		return cmd_export(argc, argv);
	if (strcmp(verb, "import") == 0)
		return cmd_import(argc, argv);
	if (strcmp(verb, "mount") == 0)
		return cmd_mount(argc, argv, true);
	if (strcmp(verb, "umount") == 0 || strcmp(verb, "unmount") == 0)
		return cmd_mount(argc, argv, false);
	if (strcmp(verb, "pkg") == 0)
		return cmd_pkg(argc, argv);
	fprintf(stderr, "unrecognized command '%s'\n", verb);
	usage();
}
