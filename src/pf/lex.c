/* pf.conf lexer: FreeBSD parse.y's yylex rules (macros re-tokenised on expansion, quotes, line
 * continuation, numbers that fall back to strings, keywords). */
#include <ctype.h>

#include "pf/lex.h"

static const char *const keywords[] = {
        "all",
        "allow-opts",
        "altq",
        "anchor",
        "antispoof",
        "any",
        "bandwidth",
        "binat",
        "binat-anchor",
        "bitmask",
        "block",
        "block-policy",
        "buckets",
        "cbq",
        "code",
        "codelq",
        "debug",
        "divert-reply",
        "divert-to",
        "dnpipe",
        "dnqueue",
        "drop",
        "dup-to",
        "ether",
        "fail-policy",
        "fairq",
        "fastroute",
        "file",
        "fingerprints",
        "flags",
        "floating",
        "flush",
        "for",
        "fragment",
        "from",
        "global",
        "group",
        "hfsc",
        "hogs",
        "hostid",
        "icmp-type",
        "icmp6-type",
        "if-bound",
        "in",
        "include",
        "inet",
        "inet6",
        "interval",
        "keep",
        "keepcounters",
        "label",
        "limit",
        "linkshare",
        "load",
        "log",
        "loginterface",
        "match",
        "max",
        "max-mss",
        "max-src-conn",
        "max-src-conn-rate",
        "max-src-nodes",
        "max-src-states",
        "min-ttl",
        "modulate",
        "nat",
        "nat-anchor",
        "no",
        "no-df",
        "no-route",
        "no-sync",
        "on",
        "optimization",
        "os",
        "out",
        "overload",
        "pass",
        "port",
        "prio",
        "priority",
        "priq",
        "probability",
        "proto",
        "qlimit",
        "queue",
        "quick",
        "random",
        "random-id",
        "rdr",
        "rdr-anchor",
        "realtime",
        "reassemble",
        "reply-to",
        "require-order",
        "return",
        "return-icmp",
        "return-icmp6",
        "return-rst",
        "ridentifier",
        "round-robin",
        "route",
        "route-to",
        "rtable",
        "rule",
        "ruleset-optimization",
        "scrub",
        "set",
        "set-tos",
        "skip",
        "sloppy",
        "source-hash",
        "source-track",
        "state",
        "state-defaults",
        "state-policy",
        "static-port",
        "sticky-address",
        "syncookies",
        "synproxy",
        "table",
        "tag",
        "tagged",
        "target",
        "tbrsize",
        "timeout",
        "to",
        "tos",
        "ttl",
        "upperlimit",
        "urpf-failed",
        "user",
};

bool lj_pf_is_keyword(const char *s)
{
	for (size_t i = 0; i < LJ_ARRAY_LEN(keywords); i++)
		if (strcmp(keywords[i], s) == 0)
			return true;
	return false;
}

void lj_pf_lex_push_file(struct lj_pf_lexer *lx, const char *name, char *text)
{
	struct lj_pf_src *s = xcalloc(1, sizeof(*s));
	s->name = xstrdup(name);
	s->text = text;
	s->len = strlen(text);
	s->line = 1;
	s->prev = lx->src;
	lx->src = s;
}

void lj_pf_lex_free(struct lj_pf_lexer *lx)
{
	while (lx->src) {
		struct lj_pf_src *p = lx->src->prev;
		free(lx->src->name);
		free(lx->src->text);
		free(lx->src);
		lx->src = p;
	}
	free(lx->exp);
	lx->exp = NULL;
}

/* Raw character from the current file; EOF at its end. */
static int file_getc(struct lj_pf_lexer *lx)
{
	struct lj_pf_src *s = lx->src;
	if (!s || s->pos >= s->len)
		return EOF;
	return (unsigned char)s->text[s->pos++];
}

/* lgetc: pushback, then macro expansion, then file; backslash-newline joins lines (outside quotes).
 */
static int lgetc(struct lj_pf_lexer *lx, int quotec)
{
	if (lx->exp) {
		if (lx->exp[lx->exppos])
			return (unsigned char)lx->exp[lx->exppos++];
		free(lx->exp);
		lx->exp = NULL;
	}
	if (lx->npb > 0)
		return lx->pb[--lx->npb];
	if (quotec)
		return file_getc(lx);
	int c;
	while ((c = file_getc(lx)) == '\\') {
		int next = file_getc(lx);
		if (next != '\n') {
			c = next;
			break;
		}
		lx->src->line++;
	}
	return c;
}

static void lungetc(struct lj_pf_lexer *lx, int c)
{
	if (c == EOF)
		return;
	if (lx->exp && lx->exppos > 0) {
		lx->exppos--;
		return;
	}
	if (lx->npb < (int)sizeof(lx->pb))
		lx->pb[lx->npb++] = (char)c;
}

static bool from_expansion(const struct lj_pf_lexer *lx)
{
	return lx->exp != NULL;
}

static bool allowed_in_string(int x)
{
	return isalnum(x) ||
	       (ispunct(x) && x != '(' && x != ')' && x != '{' && x != '}' && x != '<' &&
	        x != '>' && x != '!' && x != '=' && x != '/' && x != '#' && x != ',');
}

static bool allowed_to_end_number(int x)
{
	return x == EOF || isspace(x) || x == ')' || x == ',' || x == '/' || x == '}' || x == '=';
}

const char *lj_pf_macro_get(struct lj_pf_lexer *lx, const char *name)
{
	for (int i = lx->nmacros - 1; i >= 0; i--)
		if (strcmp(lx->macros[i].name, name) == 0)
			return lx->macros[i].value;
	return NULL;
}

void lj_pf_macro_set(struct lj_pf_lexer *lx, const char *name, const char *value, bool persist)
{
	for (int i = 0; i < lx->nmacros; i++)
		if (strcmp(lx->macros[i].name, name) == 0) {
			if (lx->macros[i].persist && !persist)
				return;
			free(lx->macros[i].value);
			lx->macros[i].value = xstrdup(value);
			lx->macros[i].persist = persist;
			return;
		}
	lx->macros = xrealloc(lx->macros, sizeof(*lx->macros) * (lx->nmacros + 1));
	lx->macros[lx->nmacros].name = xstrdup(name);
	lx->macros[lx->nmacros].value = xstrdup(value);
	lx->macros[lx->nmacros].persist = persist;
	lx->nmacros++;
}

void lj_pf_lex_error(struct lj_pf_lexer *lx, int line, const char *fmt, ...)
{
	lj_buf_addf(lx->errors, "%s:%d: ", lx->src ? lx->src->name : lx->last_name, line);
	va_list ap;
	va_start(ap, fmt);
	lj_buf_vaddf(lx->errors, fmt, ap);
	va_end(ap);
	lj_buf_addc(lx->errors, '\n');
	(*lx->nerrors)++;
}

/* Skip to the end of the line after an error; returns an error token. */
static void findeol(struct lj_pf_lexer *lx)
{
	lx->npb = 0;
	free(lx->exp);
	lx->exp = NULL;
	for (;;) {
		int c = lgetc(lx, 0);
		if (c == '\n') {
			lx->src->line++;
			break;
		}
		if (c == EOF)
			break;
	}
}

static void tok_set(struct lj_pf_tok *t, int type, const char *s, size_t n)
{
	t->type = type;
	t->s = xstrndup(s, n);
}

int lj_pf_lex(struct lj_pf_lexer *lx, struct lj_pf_tok *t)
{
	char buf[8192];
	size_t p;
	int c;
	memset(t, 0, sizeof(*t));
top:
	p = 0;
	while ((c = lgetc(lx, 0)) == ' ' || c == '\t')
		;
	t->line = lx->src ? lx->src->line : 0;
	if (c == '#')
		while ((c = lgetc(lx, 0)) != '\n' && c != EOF)
			;
	if (c == '$' && !from_expansion(lx)) {
		for (;;) {
			c = lgetc(lx, 0);
			if (c != EOF && (isalnum(c) || c == '_') && p < sizeof(buf) - 1) {
				buf[p++] = (char)c;
				continue;
			}
			buf[p] = '\0';
			lungetc(lx, c);
			break;
		}
		const char *val = lj_pf_macro_get(lx, buf);
		if (!val) {
			lj_pf_lex_error(lx, t->line, "macro '%s' not defined", buf);
			findeol(lx);
			t->type = LJ_PF_T_ERROR;
			return t->type;
		}
		lx->exp = xstrdup(val);
		lx->exppos = 0;
		goto top;
	}
	switch (c) {
	case '\'':
	case '"': {
		int quotec = c;
		for (;;) {
			c = lgetc(lx, quotec);
			if (c == EOF) {
				lj_pf_lex_error(lx, t->line, "unterminated quote");
				t->type = LJ_PF_T_ERROR;
				return t->type;
			}
			if (c == '\n') {
				if (!from_expansion(lx))
					lx->src->line++;
				continue;
			} else if (c == '\\') {
				int next = lgetc(lx, quotec);
				if (next == EOF) {
					t->type = LJ_PF_T_ERROR;
					return t->type;
				}
				if (next == quotec)
					c = next;
				else if (next == '\n') {
					lx->src->line++;
					continue;
				} else
					lungetc(lx, next);
			} else if (c == quotec)
				break;
			if (p >= sizeof(buf) - 1) {
				lj_pf_lex_error(lx, t->line, "string too long");
				t->type = LJ_PF_T_ERROR;
				return t->type;
			}
			buf[p++] = (char)c;
		}
		tok_set(t, LJ_PF_T_STRING, buf, p);
		t->quoted = true;
		return t->type;
	}
	case '-': {
		int next = lgetc(lx, 0);
		if (next == '>') {
			tok_set(t, LJ_PF_T_ARROW, "->", 2);
			return t->type;
		}
		lungetc(lx, next);
		break;
	}
	case '<':
	case '>': {
		int next = lgetc(lx, 0);
		if ((c == '<' && next == '>') || (c == '>' && next == '<')) {
			char s[3] = {(char)c, (char)next, 0};
			tok_set(t, LJ_PF_T_PORTBIN, s, 2);
			return t->type;
		}
		lungetc(lx, next);
		break;
	}
	}
	if (c == '-' || isdigit(c)) {
		do {
			if (p < sizeof(buf) - 1)
				buf[p++] = (char)c;
		} while ((c = lgetc(lx, 0)) != EOF && isdigit(c));
		lungetc(lx, c);
		if (!(p == 1 && buf[0] == '-') && allowed_to_end_number(c)) {
			tok_set(t, LJ_PF_T_NUMBER, buf, p);
			errno = 0;
			t->num = strtoll(t->s, NULL, 10);
			if (errno == ERANGE) {
				lj_pf_lex_error(lx, t->line, "\"%s\" invalid number", t->s);
				free(t->s);
				t->s = NULL;
				t->type = LJ_PF_T_ERROR;
			}
			return t->type;
		}
		/* not a number: push back and read it again as a string */
		while (p > 1)
			lungetc(lx, buf[--p]);
		c = (unsigned char)buf[0];
		p = 0;
		if (c == '-') {
			tok_set(t, '-', "-", 1);
			return t->type;
		}
	}
	if (isalnum(c) || c == ':' || c == '_') {
		do {
			if (p < sizeof(buf) - 1)
				buf[p++] = (char)c;
		} while ((c = lgetc(lx, 0)) != EOF && allowed_in_string(c));
		lungetc(lx, c);
		buf[p] = '\0';
		tok_set(t, lj_pf_is_keyword(buf) ? LJ_PF_T_KEYWORD : LJ_PF_T_STRING, buf, p);
		return t->type;
	}
	if (c == '\n') {
		if (!from_expansion(lx) && lx->src)
			lx->src->line++;
		tok_set(t, LJ_PF_T_NL, "\n", 1);
		return t->type;
	}
	if (c == EOF) {
		/* end of an included file: continue with the file that included it */
		if (lx->src && lx->src->prev) {
			struct lj_pf_src *s = lx->src;
			lx->src = s->prev;
			free(lx->last_name);
			lx->last_name = xstrdup(s->name);
			free(s->name);
			free(s->text);
			free(s);
			tok_set(t, LJ_PF_T_NL, "\n", 1);
			return t->type;
		}
		t->type = LJ_PF_T_EOF;
		return t->type;
	}
	char s[2] = {(char)c, 0};
	tok_set(t, c, s, 1);
	return t->type;
}
