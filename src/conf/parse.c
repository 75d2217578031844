/* conf/parse.c: the jail.conf(5) lexer and parser, and .include.
 *
 * The lexer follows FreeBSD's jaillex.l rule by rule (longest match, the "instr" flag that
 * turns adjacent pieces into one string, the DQ state for variables inside double quotes), so
 * that what joins, what splits and which token a syntax error names are the same. The parser
 * is a recursive descent over jailparse.y's grammar; it reports the token at which yacc would
 * have found no action. Everything lands in struct pconf (conf-internal.h); merge.c does the
 * rest. The first error stops the whole load. */
#include "conf/conf-internal.h"

#include <errno.h>
#include <glob.h>
#include <sys/stat.h>

#define MAX_INCLUDE_DEPTH 32
#define MAX_NESTING       1000

enum tok {
	T_EOF = 0,
	T_STR = 256, /* a string piece after whitespace or a token */
	T_STR1,      /* a piece joined to the one before */
	T_VAR,       /* $name or ${name} */
	T_VAR1,
	T_PLEQ,  /* += */
	T_ERROR, /* the lexer already filled the error */
	         /* ',' ';' '=' '{' '}' and any other byte are returned as themselves */
};

struct lexer {
	const char *name; /* "FILE" or "STDIN" in messages (owned by pconf.files) */
	const char *p, *end;
	int line;
	bool instr; /* the previous token was a string piece with nothing between */
	bool dq;    /* inside a double-quoted string after a variable (flex state DQ) */
	/* the current token */
	int tok;     /* enum tok or a byte */
	int tokch;   /* the byte for single-character tokens */
	char *text;  /* raw text, for "TOKEN: syntax error" */
	char *val;   /* processed value of a string piece, or the variable name */
	int tokline; /* line after the token, as flex's yylineno */
	lj_err *e;
};

struct parser {
	struct pconf *pc;
	struct pjail *current; /* the block being parsed (shared with included files) */
	struct pjail *global;  /* the "*" jail of global parameters, made at the first one */
	int depth;             /* of .include */
	int nesting; /* of blocks: bounded, as yacc's stack is (and our C stack must be) */
	lj_err *e;
};

/* ---- lexer ------------------------------------------------------------------------------- */

static bool is_atom(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_!%&()-.:<>?@[]^`|~", c));
}

static bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void count_lines(struct lexer *lx, const char *from, const char *to)
{
	for (; from < to; from++)
		if (*from == '\n')
			lx->line++;
}

/* FreeBSD's text2lval(): copy s..se with backslash escapes; with tovar, stop at an unescaped
 * '$' and return its offset from s (else -1). A produced NUL ends the C string, as there. */
static ssize_t unescape(const char *s, const char *se, bool tovar, char **out)
{
	lj_buf b = {0};
	const char *start = s;
	ssize_t at = -1;
	lj_buf_add(&b, "", 0);
	for (; s < se; s++) {
		if (*s != '\\') {
			if (tovar && *s == '$') {
				at = s - start;
				break;
			}
			lj_buf_addc(&b, *s);
			continue;
		}
		s++;
		if (s >= se) /* a lone trailing backslash gives nothing */
			break;
		if (is_odigit(*s)) {
			int v = *s - '0';
			if (s + 1 < se && is_odigit(s[1])) {
				v = v * 8 + (*++s - '0');
				if (s + 1 < se && is_odigit(s[1]))
					v = v * 8 + (*++s - '0');
			}
			lj_buf_addc(&b, (char)(v & 0xff));
			continue;
		}
		switch (*s) {
		case 'a':
			lj_buf_addc(&b, '\a');
			break;
		case 'b':
			lj_buf_addc(&b, '\b');
			break;
		case 'f':
			lj_buf_addc(&b, '\f');
			break;
		case 'n':
			lj_buf_addc(&b, '\n');
			break;
		case 'r':
			lj_buf_addc(&b, '\r');
			break;
		case 't':
			lj_buf_addc(&b, '\t');
			break;
		case 'v':
			lj_buf_addc(&b, '\v');
			break;
		case '\n': /* backslash-newline disappears */
			break;
		case 'x': {
			int v = 0, h;
			if (s + 1 < se && (h = hexval(s[1])) >= 0) {
				v = h;
				s++;
				if (s + 1 < se && (h = hexval(s[1])) >= 0) {
					v = v * 16 + h;
					s++;
				}
			}
			lj_buf_addc(&b, (char)v);
			break;
		}
		default:
			lj_buf_addc(&b, *s);
			break;
		}
	}
	char *r = lj_buf_steal(&b);
	*out = r;
	return at;
}

/* Length of a backslash escape piece at p (flex: \\(.|\n|[0-7]{1,3}|x[0-9A-Fa-f]{1,2})), or 1
 * for a backslash at the end (matched by the single-character rule instead). */
static size_t escape_len(const char *p, const char *end)
{
	if (p + 1 >= end)
		return 1;
	if (is_odigit(p[1])) {
		size_t n = 2;
		while (n < 4 && p + n < end && is_odigit(p[n]))
			n++;
		return n;
	}
	if (p[1] == 'x' && p + 2 < end && hexval(p[2]) >= 0)
		return p + 3 < end && hexval(p[3]) >= 0 ? 4 : 3;
	return 2;
}

/* Length of a quoted string starting at p (the quote), or 0 if it never closes. Escapes may
 * hide the quote and newlines. */
static size_t quoted_len(const char *p, const char *end, char q)
{
	const char *s = p + 1;
	while (s < end) {
		if (*s == q)
			return (size_t)(s - p) + 1;
		if (*s == '\\') {
			if (s + 1 >= end)
				return 0;
			s += 2;
			continue;
		}
		s++;
	}
	return 0;
}

/* Length of ${...} at p, or 0 if unterminated. Inside double quotes '"' may not appear. */
static size_t bracevar_len(const char *p, const char *end, bool dq)
{
	const char *s = p + 2;
	while (s < end) {
		if (*s == '}')
			return (size_t)(s - p) + 1;
		if (*s == '\n' || *s == '{' || (dq && *s == '"'))
			return 0;
		if (*s == '\\') {
			if (s + 1 >= end)
				return 0;
			s += 2;
			continue;
		}
		s++;
	}
	return 0;
}

static size_t namevar_len(const char *p, const char *end)
{
	if (p + 1 >= end ||
	    !(p[1] == '_' || (p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
		return 0;
	size_t n = 2;
	while (p + n < end && (p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z') ||
	                       (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9')))
		n++;
	return n;
}

static int lex_error(struct lexer *lx, const char *what)
{
	lj_errorx(lx->e, "%s line %d: %s", lx->name, lx->line, what);
	lx->tok = T_ERROR;
	return T_ERROR;
}

static void tok_reset(struct lexer *lx)
{
	free(lx->text);
	free(lx->val);
	lx->text = lx->val = NULL;
}

/* A string piece of n raw bytes: STR after a separator, STR1 when joined. */
static int piece(struct lexer *lx, size_t n, char *val)
{
	lx->text = xstrndup(lx->p, n);
	lx->val = val;
	count_lines(lx, lx->p, lx->p + n);
	lx->p += n;
	lx->tok = lx->instr ? T_STR1 : T_STR;
	lx->instr = true;
	lx->tokline = lx->line;
	return lx->tok;
}

static int var(struct lexer *lx, size_t n, char *name)
{
	lx->text = xstrndup(lx->p, n);
	lx->val = name;
	count_lines(lx, lx->p, lx->p + n);
	lx->p += n;
	lx->tok = lx->instr ? T_VAR1 : T_VAR;
	lx->instr = true;
	lx->tokline = lx->line;
	return lx->tok;
}

/* A double-quoted piece from p (just after the opening quote, or a DQ continuation) up to the
 * closing quote or the next unescaped '$'. `raw` bytes are consumed for the message text. */
static int dq_piece(struct lexer *lx, const char *body, size_t rawlen)
{
	const char *close = lx->p + rawlen - 1; /* the closing quote */
	char *val;
	ssize_t at = unescape(body, close, true, &val);
	size_t n = rawlen;
	if (at >= 0) {
		n = (size_t)(body - lx->p) + (size_t)at; /* yyless: stop at the '$' */
		lx->dq = true;
	} else {
		lx->dq = false;
	}
	return piece(lx, n, val);
}

static int lex(struct lexer *lx)
{
	tok_reset(lx);
	const char *end = lx->end;
again:
	if (lx->p >= end) {
		lx->dq = false;
		lx->text = xstrdup("");
		lx->tok = T_EOF;
		lx->tokline = lx->line;
		return T_EOF;
	}
	const char *p = lx->p;
	if (lx->dq) {
		size_t n;
		if (*p == '"') {
			lx->p++;
			lx->dq = false;
			goto again;
		}
		if (*p == '$') {
			if ((n = namevar_len(p, end)))
				return var(lx, n, xstrndup(p + 1, n - 1));
			if (p + 1 < end && p[1] == '{') {
				if (!(n = bracevar_len(p, end, true)))
					return lex_error(lx, "unterminated variable");
				char *name;
				unescape(p + 2, p + n - 1, false, &name);
				return var(lx, n, name);
			}
			return piece(lx, 1, xstrdup("$"));
		}
		if (*p == '\\') {
			char *val;
			n = escape_len(p, end);
			unescape(p, p + n, false, &val);
			return piece(lx, n, val);
		}
		/* the rest of the string, up to its closing quote or the next '$' */
		n = quoted_len(p - 1, end, '"'); /* p - 1 stands in for the opening quote */
		if (!n) /* cannot happen: the string was seen whole before */
			return lex_error(lx, "unterminated string");
		return dq_piece(lx, p, n - 1);
	}

	unsigned char c = (unsigned char)*p;
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
		while (lx->p < end && strchr(" \t\r\n", *lx->p) && *lx->p) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		lx->instr = false;
		goto again;
	}
	if (c == '#' || (c == '/' && p + 1 < end && p[1] == '/')) {
		while (lx->p < end && *lx->p != '\n')
			lx->p++;
		lx->instr = false;
		goto again;
	}
	if (c == '/' && p + 1 < end && p[1] == '*') {
		const char *s = p + 2;
		while (s + 1 < end && !(s[0] == '*' && s[1] == '/'))
			s++;
		if (s + 1 >= end) {
			count_lines(lx, p, end);
			lx->p = end;
			return lex_error(lx, "unterminated comment");
		}
		count_lines(lx, p, s + 2);
		lx->p = s + 2;
		lx->instr = false;
		goto again;
	}
	if (c == '+' && p + 1 < end && p[1] == '=') {
		lx->text = xstrdup("+=");
		lx->p += 2;
		lx->instr = false;
		lx->tok = T_PLEQ;
		lx->tokline = lx->line;
		return T_PLEQ;
	}
	if (c && strchr(",;={}", c)) {
		lx->text = xstrndup(p, 1);
		lx->p++;
		lx->instr = false;
		lx->tokch = c;
		lx->tok = c;
		lx->tokline = lx->line;
		return c;
	}
	if (is_atom(c)) {
		size_t n = 1;
		while (p + n < end && is_atom((unsigned char)p[n]))
			n++;
		return piece(lx, n, xstrndup(p, n));
	}
	if (c == '\\') {
		char *val;
		size_t n = escape_len(p, end);
		unescape(p, p + n, false, &val);
		return piece(lx, n, val);
	}
	if (c == '$') {
		size_t n;
		if ((n = namevar_len(p, end)))
			return var(lx, n, xstrndup(p + 1, n - 1));
		if (p + 1 < end && p[1] == '{') {
			if (!(n = bracevar_len(p, end, false))) {
				return lex_error(lx, "unterminated variable");
			}
			char *name;
			unescape(p + 2, p + n - 1, false, &name);
			return var(lx, n, name);
		}
		return piece(lx, 1, xstrdup("$"));
	}
	if (c == '*' || c == '+' || c == '/')
		return piece(lx, 1, xstrndup(p, 1));
	if (c == '\'') {
		size_t n = quoted_len(p, end, '\'');
		if (!n)
			return lex_error(lx, "unterminated string");
		char *val;
		unescape(p + 1, p + n - 1, false, &val);
		return piece(lx, n, val);
	}
	if (c == '"') {
		size_t n = quoted_len(p, end, '"');
		if (!n)
			return lex_error(lx, "unterminated string");
		return dq_piece(lx, p + 1, n);
	}
	/* any other byte is a token of its own, which the grammar refuses */
	lx->text = xstrndup(p, 1);
	lx->p++;
	lx->tokch = c;
	lx->tok = c ? (int)c : 0x100 - 1; /* a NUL byte still is not EOF */
	lx->tokline = lx->line;
	return lx->tok;
}

/* ---- parser ------------------------------------------------------------------------------ */

static int syntax_error(struct lexer *lx)
{
	if (lx->tok == T_ERROR)
		return -1;
	if (lx->tok == T_EOF || !lx->text || !lx->text[0])
		return lj_errorx(lx->e, "%s: unexpected EOF", lx->name);
	return lj_errorx(lx->e, "%s line %d: %s: syntax error", lx->name, lx->tokline, lx->text);
}

static struct pjail *add_jail(struct pconf *pc, char *name, const char *file, int line)
{
	struct pjail *j = xcalloc(1, sizeof *j);
	j->name = name;
	j->file = file;
	j->line = line;
	if (pc->njails == pc->capjails) {
		pc->capjails = pc->capjails ? pc->capjails * 2 : 8;
		pc->jails = xrealloc(pc->jails, pc->capjails * sizeof *pc->jails);
	}
	pc->jails[pc->njails++] = j;
	return j;
}

static void pstr_addvar(struct pstr *s, char *name)
{
	if (s->nvars == s->capvars) {
		s->capvars = s->capvars ? s->capvars * 2 : 4;
		s->vars = xrealloc(s->vars, s->capvars * sizeof *s->vars);
	}
	s->vars[s->nvars].name = name;
	s->vars[s->nvars].pos = s->len;
	s->nvars++;
}

static void pstr_add(struct pstr *s, const char *text)
{
	size_t n = strlen(text);
	s->s = xrealloc(s->s, s->len + n + 1);
	memcpy(s->s + s->len, text, n + 1);
	s->len += n;
}

struct pstr *pparam_newval(struct pparam *p)
{
	if (p->nvals == p->capvals) {
		p->capvals = p->capvals ? p->capvals * 2 : 4;
		p->vals = xrealloc(p->vals, p->capvals * sizeof *p->vals);
	}
	struct pstr *s = &p->vals[p->nvals++];
	memset(s, 0, sizeof *s);
	s->s = xstrdup("");
	return s;
}

/* string : STR | VAR | string STR1 | string VAR1 — the current token starts it. */
static int parse_string(struct lexer *lx, struct pparam *p)
{
	struct pstr *s = pparam_newval(p);
	if (lx->tok == T_STR) {
		pstr_add(s, lx->val);
	} else {
		pstr_addvar(s, lx->val);
		lx->val = NULL;
	}
	for (;;) {
		lex(lx);
		if (lx->tok == T_STR1)
			pstr_add(s, lx->val);
		else if (lx->tok == T_VAR1) {
			pstr_addvar(s, lx->val);
			lx->val = NULL;
		} else
			return lx->tok == T_ERROR ? -1 : 0;
	}
}

static int parse_conf(struct parser *ps, struct lexer *lx, bool in_block);
static int include_config(struct parser *ps, struct lexer *lx, const char *path);

static void jail_addparam(struct pjail *j, struct pparam *p)
{
	if (j->nparams == j->capparams) {
		j->capparams = j->capparams ? j->capparams * 2 : 8;
		j->params = xrealloc(j->params, j->capparams * sizeof *j->params);
	}
	j->params[j->nparams++] = p;
}

/* `conf param ';'`: handle .include, else add to the current (or global) jail. */
static int finish_param(struct parser *ps, struct lexer *lx, struct pparam *p)
{
	if ((p->flags & (PF_VAR | PF_APPEND | PF_NAMEVAL)) == PF_NAMEVAL &&
	    strcmp(p->name, ".include") == 0) {
		int rc = 0;
		for (size_t i = 0; i < p->nvals && rc == 0; i++) {
			if (p->vals[i].nvars)
				rc = lj_errorx(ps->e,
				               "%s line %d: variables not permitted in '.include' "
				               "filename",
				               lx->name, lx->line);
			else
				rc = include_config(ps, lx, p->vals[i].s);
		}
		pparam_free(p);
		return rc;
	}
	struct pjail *j = ps->current;
	if (!j) {
		if (!ps->global)
			ps->global = add_jail(ps->pc, xstrdup("*"), p->file, p->line);
		j = ps->global;
	}
	jail_addparam(j, p);
	return 0;
}

/* One statement that starts with a STR or VAR token (the current token). */
static int parse_statement(struct parser *ps, struct lexer *lx)
{
	bool isvar = lx->tok == T_VAR;
	char *first = lx->val;
	lx->val = NULL;
	int line = lx->tokline;

	lex(lx);
	if (!isvar && (lx->tok == T_STR1 || lx->tok == '{')) {
		/* A jail block. Its name may be several joined pieces ("foo.*"), which FreeBSD's
		 * grammar only takes quoted; the token reported for a bad one stays the same. */
		lj_buf name = {0};
		lj_buf_adds(&name, first);
		free(first);
		char *bad_text = NULL;
		int bad_line = 0;
		while (lx->tok == T_STR1) {
			if (!bad_text) {
				bad_text = xstrdup(lx->text);
				bad_line = lx->tokline;
			}
			lj_buf_adds(&name, lx->val);
			lex(lx);
		}
		if (lx->tok != '{') {
			lj_buf_free(&name);
			if (lx->tok == T_ERROR) {
				free(bad_text);
				return -1;
			}
			lj_errorx(ps->e, "%s line %d: %s: syntax error", lx->name, bad_line,
			          bad_text);
			free(bad_text);
			return -1;
		}
		free(bad_text);
		char *jname;
		if (ps->current)
			jname = xasprintf("%s.%s", ps->current->name, lj_buf_str(&name));
		else
			jname = xstrdup(lj_buf_str(&name));
		lj_buf_free(&name);
		struct pjail *j = add_jail(ps->pc, jname, lx->name, line);
		j->parent = ps->current;
		ps->current = j;
		if (++ps->nesting > MAX_NESTING)
			return lj_errorx(ps->e, "%s line %d: {: blocks nested too deeply", lx->name,
			                 lx->tokline);
		lex(lx);
		if (parse_conf(ps, lx, true) < 0)
			return -1;
		ps->nesting--;
		ps->current = j->parent;
		return 0;
	}

	struct pparam *p = xcalloc(1, sizeof *p);
	p->name = first;
	p->flags = isvar ? PF_VAR : 0;
	p->file = lx->name;
	p->line = line;
	switch (lx->tok) {
	case ';':
		break;
	case '=':
	case T_PLEQ:
		if (lx->tok == T_PLEQ)
			p->flags |= PF_APPEND;
		lex(lx);
		/* fall through to the value */
		if (lx->tok != T_STR && lx->tok != T_VAR)
			goto bad;
		goto value;
	case T_STR:
	case T_VAR:
		p->flags |= PF_NAMEVAL;
	value:
		for (;;) {
			if (parse_string(lx, p) < 0)
				goto bad;
			if (lx->tok != ',')
				break;
			lex(lx);
			if (lx->tok != T_STR && lx->tok != T_VAR)
				goto bad;
		}
		if (lx->tok != ';')
			goto bad;
		break;
	default:
		goto bad;
	}
	/* the ';' is the current token; the action runs before the next one is read */
	if (finish_param(ps, lx, p) < 0)
		return -1;
	lex(lx);
	return 0;
bad:
	pparam_free(p);
	return syntax_error(lx);
}

/* conf : empty | conf jail | conf param ';' | conf ';'   (the current token starts it) */
static int parse_conf(struct parser *ps, struct lexer *lx, bool in_block)
{
	for (;;) {
		switch (lx->tok) {
		case T_ERROR:
			return -1;
		case T_EOF:
			if (in_block)
				return syntax_error(lx);
			return 0;
		case '}':
			if (!in_block)
				return syntax_error(lx);
			lex(lx);
			return 0;
		case ';':
			lex(lx);
			break;
		case T_STR:
		case T_VAR:
			if (parse_statement(ps, lx) < 0)
				return -1;
			break;
		default:
			return syntax_error(lx);
		}
	}
}

static int parse_text(struct parser *ps, const char *name, const char *text, size_t len)
{
	struct lexer lx = {
	        .name = name,
	        .p = text,
	        .end = text + len,
	        .line = 1,
	        .e = ps->e,
	};
	lex(&lx);
	int rc = parse_conf(ps, &lx, false);
	tok_reset(&lx);
	return rc;
}

static int parse_file(struct parser *ps, const char *path, bool included)
{
	char *text;
	size_t len;
	struct stat st;
	/* an included device or FIFO (/dev/zero) would never end */
	if (included && stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return lj_errorx(ps->e, "%s: not a regular file", path);
	if (lj_read_file(path, &text, &len, ps->e) < 0)
		return -1;
	lj_strv_add(&ps->pc->files, path);
	int rc = parse_text(ps, ps->pc->files.v[ps->pc->files.n - 1], text, len);
	free(text);
	return rc;
}

static int include_config(struct parser *ps, struct lexer *lx, const char *path)
{
	/* the fuzzer turns includes off: it must not read the machine's files */
	if (getenv("LJAIL_CONF_NO_INCLUDE"))
		return lj_errorx(ps->e, "%s: .include is disabled", path);
	if (++ps->depth > MAX_INCLUDE_DEPTH) {
		ps->depth--;
		return lj_errorx(ps->e, "maximum include depth exceeded");
	}
	lj_autofree char *full = NULL;
	/* relative paths are based on the including file (not on stdin) */
	if (path[0] != '/' && strcmp(lx->name, "STDIN") != 0) {
		const char *slash = strrchr(lx->name, '/');
		if (slash)
			path = full =
			        xasprintf("%.*s%s", (int)(slash - lx->name + 1), lx->name, path);
	}
	int rc = 0;
	if (strpbrk(path, "*?[")) {
		glob_t g;
		int gr = glob(path, 0, NULL, &g);
		if (gr == 0) {
			for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
				rc = parse_file(ps, g.gl_pathv[i], true);
			globfree(&g);
		} else if (gr != GLOB_NOMATCH) {
			rc = lj_errorx(ps->e, "%s: filename glob failed", path);
		}
	} else {
		rc = parse_file(ps, path, true);
	}
	ps->depth--;
	return rc;
}

int pconf_parse(struct pconf *pc, const char *name, const char *text, size_t len, bool is_file,
                lj_err *e)
{
	struct parser ps = {.pc = pc, .e = e};
	if (is_file)
		return parse_file(&ps, name, false);
	lj_strv_add(&pc->files, name);
	return parse_text(&ps, pc->files.v[pc->files.n - 1], text, len);
}
