/* jail: the lifecycle of jails, in FreeBSD's order, with an undo for every step.
 *
 * This is the only module that knows the order of create and remove. src/cmd/jail.c parses
 * jail(8)'s command line into a request and calls lj_jail_run(). */
#pragma once

#include "conf/conf.h"

enum lj_jail_op {
	LJ_OP_CREATE = 1 << 0, /* -c */
	LJ_OP_MODIFY = 1 << 1, /* -m */
	LJ_OP_REMOVE = 1 << 2, /* -r; with CREATE: restart (-rc) */
	LJ_OP_FORCE = 1 << 3,  /* -R: remove without the config, built-in steps only */
};

struct lj_jail_request {
	unsigned ops;          /* LJ_OP_* */
	bool quiet;            /* -q */
	bool verbose;          /* -v */
	bool print_jid;        /* -i */
	bool cmdline;          /* the jail is defined on the command line (conf holds just it) */
	int max_parallel;      /* -p N: at most N jails at once (1 = sequential); 0 = the default
	                          ($LJAIL_PARALLEL, else 4 per online CPU) */
	const char *jid_file;  /* -J */
	const char *conf_path; /* -f, or NULL for a command-line jail; "-" = stdin */
	struct jc_conf *conf;  /* the jails that can be acted on */
	char **targets;        /* names, JIDs or wildcards from argv; none = every config jail */
	int ntargets;
	bool post_only; /* -C: with -r, a jail no longer running gets its post-removal steps */
};

/* Do what the request asks, printing as jail(8) does. Returns the exit status (0 or 1).
 * Several jails are worked on concurrently, one child process each, within the -p limit and in
 * `depend` order; their messages come out in the order a sequential run prints them. */
int lj_jail_run(const struct lj_jail_request *req);

struct lj_record;
/* Take away what a jail that died by itself left on the host (its cgroup). For
 * lj_reg_on_dead(): jls, jexec and jail(8) install it so a dead jail is cleaned at the next look.
 */
void lj_jail_reap(const struct lj_record *rec);
/* Take away what a create killed before its record was written left (its cgroup and the init
 * in it). For lj_reg_on_orphan(): jail(8) installs it. */
void lj_jail_reap_orphan(const char *name);
