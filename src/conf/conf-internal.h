/* conf-internal.h: what parse.c hands to conf.c (not part of the module's interface).
 * The shapes follow FreeBSD's cfjail/cfparam/cfstring: a parameter is a name and a list of
 * strings, each string remembers where variables are still to be spliced in. */
#pragma once

#include "conf/conf.h"

enum {
	PF_VAR = 1 << 0,       /* "$v = ...": a variable, never a parameter */
	PF_APPEND = 1 << 1,    /* "+=" (and every command-line word) */
	PF_NAMEVAL = 1 << 2,   /* "name value;" without '=' (how .include is spelled) */
	PF_IMMUTABLE = 1 << 3, /* name and jid: cannot be redefined */
	PF_BAD = 1 << 4,       /* its substitution failed */
};

struct pvar {
	char *name;
	size_t pos; /* where in the string the value goes */
};

struct pstr {
	char *s;
	size_t len;
	struct pvar *vars; /* in order of position; substituted ones are removed from the front */
	size_t nvars, capvars, first;
};

struct pparam {
	char *name;
	struct pstr *vals;
	size_t nvals, capvals;
	unsigned flags;
	int gen;          /* loop detection during substitution */
	const char *file; /* owned by pconf.files */
	int line;
};

struct pjail {
	char *name;
	struct pparam **params;
	size_t nparams, capparams;
	const char *file;
	int line;
	struct pjail *parent;
	int seq;
	char *error; /* first error of this jail */
};

struct pconf {
	struct pjail *
	        *jails; /* in the order their blocks began (the global "*" at its first use) */
	size_t njails, capjails;
	lj_strv files;
};

/* Parse one file (is_file: name is the path) or a text called `name` into pc. */
int pconf_parse(struct pconf *pc, const char *name, const char *text, size_t len, bool is_file,
                lj_err *e);
struct pstr *pparam_newval(struct pparam *p);
void pparam_free(struct pparam *p);
void pjail_free(struct pjail *j);
