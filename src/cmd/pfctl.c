/* pfctl(8): load, show and change ljail's packet filter (pf.conf compiled to nftables). */
#include <getopt.h>
#include <unistd.h>

#include "pf/pf.h"

static const char *prog = "pfctl";

static void usage(void)
{
	fprintf(stderr, "usage: pfctl [-deghnPqrvz] [-D macro=value] [-F modifier] [-f file]\n"
	                "\t[-o level] [-s modifier] [-t table -T command [address ...]]\n");
	exit(1);
}

static void out(const lj_buf *b, FILE *f)
{
	if (b->len)
		fwrite(b->s, 1, b->len, f);
}

int main(int argc, char **argv)
{
	const char *file = NULL, *show = NULL, *flush = NULL, *table = NULL, *tcmd = NULL;
	bool noaction = false, quiet = false, numeric = false, enable = false, disable = false;
	int verbose = 0;
	int optimize = -1; /* -o: FreeBSD's default is basic */
	lj_strv defines = {0};
	int ch;
	while ((ch = getopt(argc, argv, "a:dD:eF:f:hnNo:OPqRrs:t:T:vz")) != -1) {
		switch (ch) {
		case 'd':
			disable = true;
			break;
		case 'D':
			if (!strchr(optarg, '=')) {
				lj_warnx(prog, "could not parse macro definition %s", optarg);
				return 1;
			}
			lj_strv_add(&defines, optarg);
			break;
		case 'e':
			enable = true;
			break;
		case 'F':
			flush = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			noaction = true;
			break;
		case 'o':
			if (strcmp(optarg, "none") == 0)
				optimize = 0;
			else if (strcmp(optarg, "basic") == 0 || strcmp(optarg, "profile") == 0)
				optimize = 1;
			else {
				lj_warnx(prog, "Unknown optimization '%s'", optarg);
				return 1;
			}
			break;
		case 'P':
			numeric = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 's':
			show = optarg;
			break;
		case 't':
			table = optarg;
			break;
		case 'T':
			tcmd = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'a':
		case 'N':
		case 'O':
		case 'R':
		case 'r':
		case 'z':
			break;
		default:
			usage();
		}
	}
	if (tcmd && !table) {
		lj_warnx(prog, "-T requires -t");
		usage();
	}
	if (!file && !show && !flush && !table && !enable && !disable)
		usage();

	int rc = 0;
	lj_err e = {0};
	lj_buf msg = {0}, o = {0};

	if (flush) {
		if (noaction) {
			/* nothing to do without action */
		} else if (lj_pf_flush(flush, &msg, &e) < 0) {
			lj_err_print(prog, &e);
			rc = 1;
		}
		if (!quiet)
			out(&msg, stderr);
		lj_buf_reset(&msg);
	}

	if (file && rc == 0) {
		struct lj_pf_conf conf;
		struct lj_pf_parse_opts po = {.verbose = verbose > 0,
		                              .numeric = numeric,
		                              .defines = (const char *const *)defines.v};
		int prc = lj_pf_parse_file(file, &po, &conf);
		if (optimize < 0)
			optimize = conf.ruleset_optimization != 1;
		if (prc == 0 && optimize)
			lj_pf_optimize(&conf);
		/* stderr is unbuffered and stdout is not: on one pipe FreeBSD's errors come first
		 */
		out(&conf.errors, stderr);
		fflush(stderr);
		out(&conf.verbose, stdout);
		if (verbose && prc == 0) {
			lj_pf_print_rules(&o, &conf, ~0u,
			                  (verbose > 1 ? LJ_PF_PRINT_VV : 0) |
			                          (numeric ? LJ_PF_PRINT_NUMERIC : 0));
			out(&o, stdout);
			lj_buf_reset(&o);
		}
		fflush(stdout);
		if (prc < 0) {
			if (!noaction)
				lj_warnx(prog, "Syntax error in config file: pf rules not loaded");
			rc = 1;
		} else if (!noaction && lj_pf_load(&conf, &e) < 0) {
			lj_err_print(prog, &e);
			rc = 1;
		}
		lj_pf_conf_free(&conf);
	}

	if (rc == 0 && enable) {
		if (lj_pf_enable(true, &msg, &e) < 0) {
			lj_err_print(prog, &e);
			rc = 1;
		}
		if (!quiet)
			out(&msg, stderr);
		lj_buf_reset(&msg);
	}
	if (rc == 0 && disable) {
		if (lj_pf_enable(false, &msg, &e) < 0) {
			lj_err_print(prog, &e);
			rc = 1;
		}
		if (!quiet)
			out(&msg, stderr);
		lj_buf_reset(&msg);
	}

	if (rc == 0 && table) {
		const char *cmd = tcmd ? tcmd : "show";
		int trc = lj_pf_table_cmd(table, cmd, argv + optind, argc - optind, noaction, &o,
		                          &msg, &e);
		out(&o, stdout);
		fflush(stdout);
		if (!quiet)
			out(&msg, stderr);
		if (trc < 0) {
			lj_err_print(prog, &e);
			rc = 1;
		} else if (trc > 0)
			rc = trc; /* -T test: 2 when not every address matched */
		lj_buf_reset(&o);
		lj_buf_reset(&msg);
	}

	if (rc == 0 && show) {
		if (lj_pf_show(show, verbose, numeric, &o, &e) < 0) {
			lj_err_print(prog, &e);
			rc = 1;
		}
		out(&o, stdout);
	}
	lj_buf_free(&o);
	lj_buf_free(&msg);
	lj_strv_free(&defines);
	return rc;
}
