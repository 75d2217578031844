/* jail(8): parse the command line as FreeBSD's jail.c main() does, read jail.conf (or build
 * the one jail the arguments define), check every parameter of the jails it will act on, and
 * hand the request to the lifecycle (lj_jail_run). `-e SEP` only prints the configuration. */
#include "conf/conf.h"
#include "jail/jail.h"
#include "param/param.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG      "jail"
#define CONF_FILE "/etc/jail.conf"

static void usage(void)
{
	fputs("usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n"
	      "            -[cmr] param=value ... [command=command ...]\n"
	      "       jail [-dqv] [-f file] -[cmr] [jail]\n"
	      "       jail [-qv] [-f file] -[rR] ['*' | jail ...]\n"
	      "       jail [-dhilqv] [-J jid_file] [-u username] [-U username]\n"
	      "            [-n jailname] [-s securelevel]\n"
	      "            path hostname ip[,...] command ...\n"
	      "       jail [-f file] -e separator\n",
	      stderr);
	exit(1);
}

/* jail_warnx(): "jail: NAME: msg" for a configured jail, "jail: msg" for a command-line one. */
static void jail_warn(const struct jc_jail *j, const char *msg)
{
	if (j->file)
		lj_warnx(PROG, "%s: %s", j->name, msg);
	else
		lj_warnx(PROG, "%s", msg);
}

static int load_config(struct jc_conf *conf, const char *path)
{
	lj_err e;
	if (jc_load_file(conf, path, &e) < 0) {
		lj_err_print(PROG, &e);
		return -1;
	}
	return 0;
}

/* Is config jail j one of the targets (none = all; names, wildcards, and the jid or name the
 * block sets)? Targets naming only a running jail are the lifecycle's to resolve. */
static bool targeted(const struct jc_jail *j, char **targets, int n)
{
	if (n == 0)
		return true;
	const char *jid = jc_str(j, "jid"), *name = jc_str(j, "name");
	for (int i = 0; i < n; i++)
		if (jc_match(j->name, targets[i]) || (jid && strcmp(jid, targets[i]) == 0) ||
		    (name && strcmp(name, targets[i]) == 0))
			return true;
	return false;
}

/* The targeted jails and, for a create, the jails they depend on (created first). */
static bool *selected_jails(const struct jc_conf *conf, char **targets, int ntargets, bool deps)
{
	bool *sel = xcalloc(conf->njails + 1, sizeof *sel);
	for (size_t i = 0; i < conf->njails; i++)
		sel[i] = targeted(&conf->jails[i], targets, ntargets);
	for (bool grew = deps; grew;) {
		grew = false;
		for (size_t i = 0; i < conf->njails; i++) {
			const struct jc_param *d =
			        sel[i] ? jc_find(&conf->jails[i], "depend") : NULL;
			for (size_t k = 0; d && k < d->values.n; k++)
				for (size_t m = 0; m < conf->njails; m++)
					if (!sel[m] &&
					    strcmp(conf->jails[m].name, d->values.v[k]) == 0)
						sel[m] = grew = true;
		}
	}
	return sel;
}

/* Check the parameters of every jail the request acts on, before anything runs. */
/* -v: say which parameters of a jail do nothing on Linux, and why (jail_note style). */
static void note_noop_params(const struct jc_jail *j)
{
	for (size_t k = 0; k < j->nparams; k++) {
		const struct lj_param_def *d = lj_param_lookup(j->params[k].name, NULL);
		if (!d || !(d->flags & LJ_PF_NOOP))
			continue;
		if (j->file)
			printf("%s: ", j->name);
		printf("%s: %s\n", j->params[k].name, d->linux);
	}
}

static int check_jails(const struct jc_conf *conf, char **targets, int ntargets, bool full,
                       bool dflag, bool verbose)
{
	int rc = 0;
	bool dying = dflag;
	lj_autofree bool *sel = selected_jails(conf, targets, ntargets, full);
	for (size_t i = 0; i < conf->njails; i++) {
		const struct jc_jail *j = &conf->jails[i];
		if (!sel[i])
			continue;
		lj_err e;
		if ((full ? lj_param_check_jail(j, &e) : lj_param_check_pseudo(j, &e)) < 0) {
			jail_warn(j, e.msg);
			rc = -1;
		} else if (verbose && full)
			note_noop_params(j);
		if (jc_find(j, "allow.dying"))
			dying = true;
	}
	fflush(stdout);
	if (dying && rc == 0)
		lj_warnx(PROG, "the 'allow.dying' parameter and '-d' flag are deprecated and have "
		               "no effect.");
	return rc;
}

int main(int argc, char **argv)
{
	unsigned op = 0;
	bool dflag = false, eflag = false, Rflag = false, Cflag = false, docf = true;
	const char *cfname = getenv("LJAIL_JAIL_CONF") ? getenv("LJAIL_JAIL_CONF") : CONF_FILE;
	const char *separator = "\t";
	struct lj_jail_request req = {0};
	lj_strv optwords = {0}; /* -h -l -n -s -u -U, as parameters, in order */
	int ch;

	/* '+': stop at the first operand, as BSD getopt does (old-style commands have options) */
	opterr = 0;
	while ((ch = getopt(argc, argv, "+cCde:f:hiJ:lmn:p:qrRs:u:U:v")) != -1) {
		switch (ch) {
		case 'c':
			op |= LJ_OP_CREATE;
			break;
		case 'C':
			/* with -r: a jail no longer running gets only the post-removal steps */
			Cflag = true;
			break;
		case 'd':
			dflag = true;
			break;
		case 'e':
			eflag = true;
			separator = optarg;
			break;
		case 'f':
			cfname = optarg;
			break;
		case 'h':
			lj_strv_add(&optwords, "ip_hostname");
			docf = false;
			break;
		case 'i': /* -i, -q and -v set one verbosity level: the last one wins */
			req.print_jid = true;
			req.quiet = true;
			req.verbose = false;
			break;
		case 'J':
			req.jid_file = optarg;
			break;
		case 'l':
			lj_strv_add(&optwords, "exec.clean");
			docf = false;
			break;
		case 'm':
			op |= LJ_OP_MODIFY;
			break;
		case 'n':
			lj_strv_addf(&optwords, "name=%s", optarg);
			docf = false;
			break;
		case 'p':
			req.max_parallel = (int)strtol(optarg, NULL, 10);
			if (req.max_parallel < 0)
				req.max_parallel = 0;
			break;
		case 'q':
			req.quiet = true;
			req.verbose = false;
			break;
		case 'r':
			op |= LJ_OP_REMOVE;
			break;
		case 'R':
			op |= LJ_OP_REMOVE | LJ_OP_FORCE;
			Rflag = true;
			break;
		case 's':
			lj_strv_addf(&optwords, "securelevel=%s", optarg);
			docf = false;
			break;
		case 'u':
			lj_strv_addf(&optwords, "exec.jail_user=%s", optarg);
			lj_strv_add(&optwords, "exec.system_jail_user");
			docf = false;
			break;
		case 'U':
			lj_strv_addf(&optwords, "exec.jail_user=%s", optarg);
			lj_strv_add(&optwords, "exec.system_jail_user=false");
			docf = false;
			break;
		case 'v':
			req.verbose = true;
			req.quiet = false;
			break;
		default:
			if (optopt && strchr("efJnpsuU", optopt))
				lj_warnx(PROG, "option requires an argument -- %c", optopt);
			else
				lj_warnx(PROG, "illegal option -- %c", optopt);
			usage();
		}
	}
	argc -= optind;
	argv += optind;

	struct jc_conf conf = {0};
	lj_err e;

	if (eflag) {
		/* print every configured non-wildcard jail */
		if (op || argc > 0)
			usage();
		if (load_config(&conf, cfname) < 0)
			return 1;
		int bad = 0;
		for (size_t i = 0; i < conf.njails; i++)
			if (conf.jails[i].error) {
				jail_warn(&conf.jails[i], conf.jails[i].error);
				bad = 1;
			}
		if (!bad)
			jc_print_e(stdout, &conf, separator);
		jc_free(&conf);
		lj_strv_free(&optwords);
		return bad;
	}

	bool full_check = true;
	if (!op) {
		/* old style: path hostname ip[,...] command ... */
		if (argc < 4 || argv[0][0] != '/')
			usage();
		op = LJ_OP_CREATE;
		docf = false;
		lj_strv w = {0};
		for (size_t i = 0; i < optwords.n; i++)
			lj_strv_add(&w, optwords.v[i]);
		lj_strv_addf(&w, "path=%s", argv[0]);
		lj_strv_addf(&w, "host.hostname=%s", argv[1]);
		if (argv[2][0]) {
			lj_autofree char *ips = xstrdup(argv[2]);
			char *cs = ips, *ncs;
			for (;; cs = ncs + 1) {
				unsigned char a6[16];
				ncs = strchr(cs, ',');
				if (ncs)
					*ncs = '\0';
				lj_strv_addf(&w, "%s=%s",
				             inet_pton(AF_INET6, cs, a6) == 1 ? "ip6.addr"
				                                              : "ip4.addr",
				             cs);
				if (!ncs)
					break;
			}
		}
		int rc = jc_from_args(&conf, (int)w.n, w.v, &e);
		lj_strv_free(&w);
		if (rc < 0) {
			lj_err_print(PROG, &e);
			return 1;
		}
		struct jc_jail *j = &conf.jails[conf.njails - 1];
		for (int i = 3; i < argc; i++)
			jc_set(j, "command", argv[i], false);
		/* FreeBSD's defaults of the security.jail.* sysctls of old-style jails */
		jc_set(j, "allow.set_hostname", NULL, false);
		jc_set(j, "allow.sysvipc", "false", true);
		jc_set(j, "allow.raw_sockets", "false", true);
		jc_set(j, "allow.chflags", "false", true);
		jc_set(j, "allow.mount", "false", true);
		jc_set(j, "allow.socket_af", "false", true);
		req.cmdline = true;
	} else if ((op & (LJ_OP_CREATE | LJ_OP_MODIFY)) == 0) {
		/* remove, perhaps using the config file */
		if (!docf || argc == 0)
			usage();
		if (!Rflag)
			for (int i = 0; i < argc; i++)
				if (strchr(argv[i], '='))
					usage();
		struct stat st;
		docf = !Rflag && (strcmp(cfname, "-") == 0 || stat(cfname, &st) == 0);
		if (docf && load_config(&conf, cfname) < 0)
			return 1;
		req.targets = argv;
		req.ntargets = argc;
		full_check = false;
	} else if (argc > 1 || (argc == 1 && strchr(argv[0], '='))) {
		/* one jail defined on the command line */
		if (Rflag || Cflag)
			usage();
		docf = false;
		lj_strv w = {0};
		for (size_t i = 0; i < optwords.n; i++)
			lj_strv_add(&w, optwords.v[i]);
		for (int i = 0; i < argc; i++)
			lj_strv_add(&w, argv[i]);
		int rc = jc_from_args(&conf, (int)w.n, w.v, &e);
		lj_strv_free(&w);
		if (rc < 0) {
			lj_err_print(PROG, &e);
			return 1;
		}
		req.cmdline = true;
	} else {
		/* from the config file, perhaps naming a jail */
		if (Rflag || !docf)
			usage();
		if (load_config(&conf, cfname) < 0)
			return 1;
		req.targets = argv;
		req.ntargets = argc;
	}
	lj_strv_free(&optwords);

	/* "*" without -R means every configured jail */
	int nt = req.ntargets;
	if (nt == 1 && strcmp(req.targets[0], "*") == 0 && !Rflag)
		nt = 0;
	if (check_jails(&conf, req.targets, nt, full_check, dflag, req.verbose) < 0) {
		jc_free(&conf);
		return 1;
	}

	req.ops = op;
	req.post_only = Cflag;
	req.conf_path = docf ? cfname : NULL;
	req.conf = &conf;
	int status = lj_jail_run(&req);
	jc_free(&conf);
	return status;
}
