/* rctl(8): add, remove and show resource limit rules and usage, FreeBSD's syntax and messages.
 * The rules live in the run directory and are enforced by the jail's cgroup (src/cgroup). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "isolate/isolate.h"

static const char *prog = "rctl";

static void usage(void)
{
	fprintf(stderr,
	        "usage: rctl [ -h ] [-a rule | -l filter | -r filter | -u filter | filter]\n");
	exit(1);
}

/* Errors of the rule's own text come as "malformed rule ..."; the others, like the kernel's,
 * as "failed to VERB 'RULE': why". */
static int fail(const char *verb, const char *rule, const lj_err *e)
{
	if (e->errnum == 0 && lj_startswith(e->msg, "malformed rule"))
		lj_warnx(prog, "%s", e->msg);
	else
		lj_warnx(prog, "failed to %s '%s': %s", verb, rule, e->msg);
	return 1;
}

/* Inside a jail FreeBSD's kernel refuses every rctl call (EPERM): no rules there, and a jail
 * that may make no jails has a read-only run directory. */
static bool jailed(lj_err *e)
{
	int cmax;
	if (lj_isolate_parent_limit(&cmax, NULL) != 1)
		return false;
	lj_errorx(e, "%s", strerror(EPERM));
	e->errnum = EPERM;
	return true;
}

static void print(lj_strv *lines)
{
	for (size_t i = 0; i < lines->n; i++)
		printf("%s\n", lines->v[i]);
	lj_strv_free(lines);
}

int main(int argc, char **argv)
{
	bool a = false, h = false, l = false, n = false, r = false, u = false;
	int ch;
	while ((ch = getopt(argc, argv, "ahlnru")) != -1) {
		switch (ch) {
		case 'a':
			a = true;
			break;
		case 'h':
			h = true;
			break;
		case 'l':
			l = true;
			break;
		case 'n':
			n = true;
			break;
		case 'r':
			r = true;
			break;
		case 'u':
			u = true;
			break;
		default:
			usage();
		}
	}
	(void)n; /* user ids are kept as given: there are no user rules to resolve */
	argc -= optind;
	argv += optind;
	if (a + l + r + u > 1) {
		lj_warnx(prog, "at most one of -a, -l, -r, or -u may be specified");
		return 1;
	}
	if (argc == 0) {
		if (a || l || r || u)
			usage();
		lj_strv out = {0};
		lj_err e;
		if (jailed(&e) || lj_rctl_list("::", h, &out, &e) < 0)
			return fail("show rules for", "::", &e);
		print(&out);
		return 0;
	}
	int failed = 0;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		lj_err e;
		lj_strv out = {0};
		if (jailed(&e)) {
			failed += fail(a   ? "add rule"
			               : r ? "remove rule"
			               : l ? "get limits for"
			               : u ? "show resource consumption for"
			                   : "show rules for",
			               arg, &e);
		} else if (a) {
			if (lj_rctl_add(arg, &e) < 0)
				failed += fail("add rule", arg, &e);
		} else if (r) {
			if (lj_rctl_remove(arg, &e) < 0)
				failed += fail("remove rule", arg, &e);
		} else if (l) {
			if (lj_rctl_limits(arg, h, &out, &e) < 0)
				failed += fail("get limits for", arg, &e);
			else
				print(&out);
		} else if (u) {
			if (lj_rctl_usage(arg, h, &out, &e) < 0)
				failed += fail("show resource consumption for", arg, &e);
			else
				print(&out);
		} else {
			if (lj_rctl_list(arg, h, &out, &e) < 0)
				failed += fail("show rules for", arg, &e);
			else
				print(&out);
		}
		lj_strv_free(&out);
	}
	return failed;
}
