/* conf: jail.conf(5) read into jails whose parameters are merged and substituted.
 *
 * jc_load_file() does the whole of jail.conf(5): lexing, .include, the grammar, the merge of the
 * global and wildcard blocks into each jail in file order, and variable substitution. What comes
 * out is one struct jc_jail per non-wildcard jail, its parameters final (values are plain strings).
 * A syntax error fails the whole load; an error that belongs to one jail (a variable not found,
 * a redefined name) is kept in that jail's `error` and only that jail fails. */
#pragma once

#include "util/util.h"

struct jc_param {
	char *name;       /* as last spelled: "persist" or "nopersist", "allow.nomount" */
	lj_strv values;   /* empty for a bare "name;" */
	bool has_value;   /* "name = ...;" or "name ...;" (even with an empty string) */
	const char *file; /* where it was last set, for messages (owned by jc_conf.files) */
	int line;
};

struct jc_jail {
	char *name; /* "webserver", "5309", "a.b" (nested blocks) */
	/* implicit name (or jid) first, then in order of first definition; a numeric block that
	 * sets no name gets name = the number last (FreeBSD 15), so ${name} works */
	struct jc_param *params;
	size_t nparams;
	const char *file; /* the block's file and line; NULL for a command-line jail */
	int line;
	char *error; /* set when this jail alone is broken: "variable \"x\" not found" ... */
};

struct jc_conf {
	struct jc_jail *jails; /* non-wildcard jails, in file order */
	size_t njails;
	lj_strv files; /* every file read, in order; params point at these names */
};

/* Read FILE ("-" reads stdin, called STDIN in messages) into c. Errors: "FILE line N: TOKEN: syntax
 * error". */
int jc_load_file(struct jc_conf *c, const char *path, lj_err *e);
/* The same from a string; `name` is what messages call it (tests and fuzzers). */
int jc_load_string(struct jc_conf *c, const char *name, const char *text, size_t len, lj_err *e);
/* One jail from command-line words (jail -c name=x path=/ persist command=...), as jail(8) mode 3:
 * "p=v", bare "p" (boolean), list parameters split on ',' and appended when repeated,
 * "command[=X]" takes the rest of argv. Every repeat appends (a scalar's last value wins);
 * defining name or jid twice fails ("cannot redefine parameter \"name\"."). The jail is appended
 * to c (zeroed, or holding jails); its file is NULL, its name the value of its name (else jid)
 * parameter, or "". */
int jc_from_args(struct jc_conf *c, int argc, char **argv, lj_err *e);
void jc_free(struct jc_conf *c);

/* The parameter of that name, or its "no" spelling (persist <-> nopersist); NULL if absent. */
const struct jc_param *jc_find(const struct jc_jail *j, const char *name);
/* Add or replace (replace=true) or append values of a parameter, as '=' and '+=' do. */
void jc_set(struct jc_jail *j, const char *name, const char *value, bool replace);
struct jc_jail *jc_find_jail(const struct jc_conf *c, const char *name);
/* jail(8)'s wildcard rules: is `pattern` a wildcard ("*", "foo.*"), and does `name` match it
 * (a non-final "*" matches one component, a final "*" one or more; no wildcard = equal). */
bool jc_is_wild(const char *pattern);
bool jc_match(const char *name, const char *pattern);

/* Typed reads, valid after lj_param_check_jail() accepted the jail. */
bool jc_bool(const struct jc_jail *j, const char *name, bool dflt);
const char *jc_str(const struct jc_jail *j, const char *name); /* last value, or NULL */

/* jail -e SEP: every jail on one line, "p=v" items joined by SEP, values quoted as jail(8) does
 * (jid is left out, as there; list values are joined with ','; a bare boolean prints its name). */
void jc_print_e(FILE *out, const struct jc_conf *c, const char *sep);
/* jail(8)'s quoted_print rule for one value. */
void jc_quote(lj_buf *out, const char *value);
