/* pf.conf lexer (internal to src/pf). */
#pragma once

#include <errno.h>

#include "pf/pf_int.h"

enum {
	LJ_PF_T_EOF = 256,
	LJ_PF_T_NL,
	LJ_PF_T_STRING,
	LJ_PF_T_KEYWORD,
	LJ_PF_T_NUMBER,
	LJ_PF_T_ARROW,
	LJ_PF_T_PORTBIN, /* <> or >< */
	LJ_PF_T_ERROR,
};

struct lj_pf_tok {
	int type; /* LJ_PF_T_* or a single character */
	char *s;
	long long num;
	int line;
	bool quoted;
};

struct lj_pf_src {
	char *name, *text;
	size_t pos, len;
	int line;
	struct lj_pf_src *prev;
};

struct lj_pf_macro {
	char *name, *value;
	bool persist;
};

struct lj_pf_lexer {
	struct lj_pf_src *src;
	char *last_name;
	char pb[64];
	int npb;
	char *exp; /* macro value being re-read */
	size_t exppos;
	struct lj_pf_macro *macros;
	int nmacros;
	lj_buf *errors;
	int *nerrors;
};

bool lj_pf_is_keyword(const char *s);
void lj_pf_lex_push_file(struct lj_pf_lexer *lx, const char *name, char *text);
void lj_pf_lex_free(struct lj_pf_lexer *lx);
int lj_pf_lex(struct lj_pf_lexer *lx, struct lj_pf_tok *t);
const char *lj_pf_macro_get(struct lj_pf_lexer *lx, const char *name);
void lj_pf_macro_set(struct lj_pf_lexer *lx, const char *name, const char *value, bool persist);
void lj_pf_lex_error(struct lj_pf_lexer *lx, int line, const char *fmt, ...) LJ_PRINTF(3, 4);
