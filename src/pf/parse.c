/* pf.conf parser: statements, list expansion in FreeBSD 14's order, the defaults pfctl adds.
 * Recursive descent over one statement's tokens at a time (macros must be defined before the next
 * statement is read, as yacc's lazy lexing gives). */
#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>

#include "pf/lex.h"

const char *const lj_pf_timeout_names[LJ_PF_NTIMEOUTS] = {
        "tcp.first",   "tcp.opening",    "tcp.established", "tcp.closing",      "tcp.finwait",
        "tcp.closed",  "sctp.first",     "sctp.opening",    "sctp.established", "sctp.closing",
        "sctp.closed", "udp.first",      "udp.single",      "udp.multiple",     "icmp.first",
        "icmp.error",  "other.first",    "other.single",    "other.multiple",   "frag",
        "interval",    "adaptive.start", "adaptive.end",    "src.track",        "tcp.tsdiff",
        NULL,
};
enum { TM_ADAPTIVE_START = 21, TM_ADAPTIVE_END = 22 };

enum { ST_NONE, ST_OPTION, ST_ETHER, ST_SCRUB, ST_QUEUE, ST_NAT, ST_FILTER };

struct hostv {
	struct lj_pf_addr *v;
	int n;
};
struct portv {
	struct lj_pf_port *v;
	int n;
};
struct intv {
	int *v;
	int n;
};
struct ifitem {
	char name[32];
	bool not ;
};
struct ifv {
	struct ifitem *v;
	int n;
};
struct icmpitem {
	int type, code, af6;
};
struct icmpv {
	struct icmpitem *v;
	int n;
};

struct parser {
	struct lj_pf_lexer lx;
	struct lj_pf_tok *toks;
	int n, i;
	struct lj_pf_conf *c;
	const struct lj_pf_parse_opts *o;
	int rulestate;
	bool require_order;
	int nr;
	bool failed;     /* the statement had an error already reported */
	char *stmt_file; /* the file the statement's first token came from */
};

#define VPUSH(vec, item)                                                       \
	do {                                                                   \
		(vec).v = xrealloc((vec).v, sizeof(*(vec).v) * ((vec).n + 1)); \
		(vec).v[(vec).n++] = (item);                                   \
	} while (0)

static void perr(struct parser *p, int line, const char *fmt, ...) LJ_PRINTF(3, 4);
static void perr(struct parser *p, int line, const char *fmt, ...)
{
	const char *name = p->stmt_file      ? p->stmt_file
	                   : p->lx.src       ? p->lx.src->name
	                   : p->lx.last_name ? p->lx.last_name
	                                     : "?";
	lj_buf_addf(&p->c->errors, "%s:%d: ", name, line);
	va_list ap;
	va_start(ap, fmt);
	lj_buf_vaddf(&p->c->errors, fmt, ap);
	va_end(ap);
	lj_buf_addc(&p->c->errors, '\n');
	p->c->nerrors++;
	p->failed = true;
}

static struct lj_pf_tok *peek(struct parser *p)
{
	return &p->toks[p->i < p->n ? p->i : p->n - 1];
}
static struct lj_pf_tok *next(struct parser *p)
{
	struct lj_pf_tok *t = peek(p);
	if (p->i < p->n - 1)
		p->i++;
	return t;
}
static bool is_kw(const struct lj_pf_tok *t, const char *kw)
{
	return t->type == LJ_PF_T_KEYWORD && strcmp(t->s, kw) == 0;
}
static bool is_ch(const struct lj_pf_tok *t, int c)
{
	return t->type == c;
}
static bool accept_kw(struct parser *p, const char *kw)
{
	if (is_kw(peek(p), kw)) {
		next(p);
		return true;
	}
	return false;
}
static bool accept_ch(struct parser *p, int c)
{
	if (is_ch(peek(p), c)) {
		next(p);
		return true;
	}
	return false;
}
static int syntax(struct parser *p)
{
	if (!p->failed)
		perr(p, peek(p)->line, "syntax error");
	return -1;
}
static int expect_ch(struct parser *p, int c)
{
	return accept_ch(p, c) ? 0 : syntax(p);
}
static int expect_kw(struct parser *p, const char *kw)
{
	return accept_kw(p, kw) ? 0 : syntax(p);
}
static bool is_string(const struct lj_pf_tok *t)
{
	return t->type == LJ_PF_T_STRING;
}
static void skip_nl(struct parser *p)
{
	while (is_ch(peek(p), LJ_PF_T_NL) && p->i < p->n - 1)
		next(p);
}
static void skip_comma(struct parser *p)
{
	accept_ch(p, ',');
	skip_nl(p);
}
static int last_line(struct parser *p)
{
	return p->toks[p->n - 1].line;
}

static int check_rulestate(struct parser *p, int desired)
{
	if (p->require_order && p->rulestate > desired) {
		perr(p, last_line(p),
		     "Rules must be in order: options, ethernet, normalization, queueing, "
		     "translation, filtering");
		return -1;
	}
	p->rulestate = desired;
	return 0;
}

/* ---- hosts ---------------------------------------------------------------------------------- */

static bool parse_dynflags(char *name, int *flags)
{
	static const struct {
		const char *suffix;
		int flag;
	} sfx[] = {{":network", LJ_PF_DYN_NETWORK},
	           {":broadcast", LJ_PF_DYN_BROADCAST},
	           {":peer", LJ_PF_DYN_PEER},
	           {":0", LJ_PF_DYN_NOALIAS}};
	*flags = 0;
	for (;;) {
		char *colon = strrchr(name, ':');
		if (!colon)
			return true;
		bool found = false;
		for (size_t i = 0; i < LJ_ARRAY_LEN(sfx); i++)
			if (strcmp(colon, sfx[i].suffix) == 0) {
				*flags |= sfx[i].flag;
				*colon = '\0';
				found = true;
			}
		if (!found)
			return !strchr(name, ':') || true;
	}
}

/* /etc/hosts only: names never go to DNS (tests and loads must not leave the machine). */
static int hosts_lookup(const char *name, struct hostv *out)
{
	char *text = NULL;
	size_t len;
	const char *path = getenv("PF_HOSTS");
	if (lj_read_file(path && *path ? path : "/etc/hosts", &text, &len, NULL) < 0)
		return 0;
	int found = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *h = strchr(l, '#');
		if (h)
			*h = '\0';
		char *ws = NULL;
		char *addr = strtok_r(l, " \t\r", &ws);
		if (!addr)
			continue;
		for (char *n = strtok_r(NULL, " \t\r", &ws); n; n = strtok_r(NULL, " \t\r", &ws))
			if (strcmp(n, name) == 0) {
				struct lj_pf_addr a;
				if (lj_pf_parse_addr(addr, -1, &a) == 0) {
					VPUSH(*out, a);
					found++;
				}
				break;
			}
	}
	free(text);
	return found;
}

static void addr_set_mask(struct lj_pf_addr *a, int mask)
{
	if (mask < 0)
		return;
	int max = a->af == AF_INET ? 32 : 128;
	a->prefix = mask > max ? max : mask;
	lj_pf_mask_addr(a->a, a->af, a->prefix);
}

/* Interface addresses as host_if/ifa_lookup give them. Returns count, -1 when no such interface. */
static int host_if(const char *s, int mask, struct hostv *out)
{
	char name[128];
	snprintf(name, sizeof(name), "%s", s);
	int flags;
	parse_dynflags(name, &flags);
	struct lj_pf_ifaddr *ia = NULL;
	bool exists;
	int n = lj_pf_ifaddrs(name, &ia, &exists);
	if (!exists && strcmp(name, "self") != 0) {
		free(ia);
		return -1;
	}
	int got = 0;
	bool seen4 = false, seen6 = false;
	for (int i = 0; i < n; i++) {
		struct lj_pf_addr a = {.type = LJ_PF_A_ADDR, .af = ia[i].af};
		if (flags & LJ_PF_DYN_NOALIAS) {
			bool *seen = ia[i].af == AF_INET ? &seen4 : &seen6;
			if (*seen)
				continue;
			*seen = true;
		}
		if (flags & LJ_PF_DYN_BROADCAST) {
			if (!ia[i].has_bcast)
				continue;
			memcpy(a.a, ia[i].bcast, 16);
			a.prefix = 32;
		} else {
			memcpy(a.a, ia[i].addr, 16);
			a.prefix = ia[i].af == AF_INET ? 32 : 128;
			if (flags & LJ_PF_DYN_NETWORK) {
				a.prefix = ia[i].prefix;
				lj_pf_mask_addr(a.a, a.af, a.prefix);
			}
		}
		addr_set_mask(&a, mask);
		VPUSH(*out, a);
		got++;
	}
	free(ia);
	return got;
}

static int host_resolve(struct parser *p, const char *s, int mask, int line, struct hostv *out)
{
	int n = host_if(s, mask, out);
	if (n > 0)
		return 0;
	struct lj_pf_addr a;
	if (n < 0 && lj_pf_parse_addr(s, mask, &a) == 0) {
		VPUSH(*out, a);
		return 0;
	}
	if (n < 0 && !strchr(s, ':') && hosts_lookup(s, out) > 0) {
		for (int i = 0; i < out->n; i++)
			addr_set_mask(&out->v[i], mask);
		return 0;
	}
	if (mask >= 0 && n < 0)
		lj_buf_addf(&p->c->errors, "no IP address found for %s/%d\n", s, mask);
	else
		lj_buf_addf(&p->c->errors, "no IP address found for %s\n", s);
	perr(p, line, "could not parse host specification");
	return -1;
}

static int parse_host(struct parser *p, struct hostv *out);

/* ipspec: any | xhost | { host_list } */
static int parse_ipspec(struct parser *p, struct hostv *out)
{
	if (accept_kw(p, "any")) {
		struct lj_pf_addr a = {.type = LJ_PF_A_ADDR};
		VPUSH(*out, a);
		return 0;
	}
	if (accept_ch(p, '{')) {
		skip_nl(p);
		while (!is_ch(peek(p), '}')) {
			if (is_ch(peek(p), LJ_PF_T_EOF) || is_ch(peek(p), LJ_PF_T_NL))
				return syntax(p);
			if (parse_ipspec(p, out) < 0)
				return -1;
			skip_comma(p);
		}
		next(p);
		return 0;
	}
	return parse_host(p, out);
}

static int parse_mask(struct parser *p)
{
	if (!accept_ch(p, '/'))
		return -1;
	struct lj_pf_tok *t = peek(p);
	if (t->type != LJ_PF_T_NUMBER || t->num < 0 || t->num > 128) {
		syntax(p);
		return -2;
	}
	next(p);
	return (int)t->num;
}

/* xhost: [!] host | [!] no-route | [!] urpf-failed */
static int parse_host(struct parser *p, struct hostv *out)
{
	bool neg = accept_ch(p, '!');
	int first = out->n;
	struct lj_pf_tok *t = peek(p);
	if (accept_kw(p, "no-route") || accept_kw(p, "urpf-failed")) {
		struct lj_pf_addr a = {.type = is_kw(t, "no-route") ? LJ_PF_A_NOROUTE
		                                                    : LJ_PF_A_URPF};
		VPUSH(*out, a);
	} else if (neg && accept_kw(p, "any")) {
		/* "! any" (matches nothing) is what a negated /0 prints as, as in FreeBSD */
		struct lj_pf_addr a = {.type = LJ_PF_A_ADDR};
		VPUSH(*out, a);
	} else if (accept_ch(p, '<')) {
		struct lj_pf_tok *n = next(p);
		if (!is_string(n))
			return syntax(p);
		if (expect_ch(p, '>') < 0)
			return -1;
		if (strlen(n->s) >= 32) {
			perr(p, n->line, "table name too long");
			return -1;
		}
		struct lj_pf_addr a = {.type = LJ_PF_A_TABLE};
		snprintf(a.name, sizeof(a.name), "%s", n->s);
		VPUSH(*out, a);
	} else if (accept_ch(p, '(')) {
		struct lj_pf_tok *n = next(p);
		if (!is_string(n))
			return syntax(p);
		if (expect_ch(p, ')') < 0)
			return -1;
		struct lj_pf_addr a = {.type = LJ_PF_A_DYN, .prefix = 128};
		char name[64];
		snprintf(name, sizeof(name), "%s", n->s);
		parse_dynflags(name, &a.dynflags);
		if (strlen(name) >= 16) {
			perr(p, n->line, "interface name too long");
			return -1;
		}
		snprintf(a.name, sizeof(a.name), "%s", name);
		int m = parse_mask(p);
		if (m == -2)
			return -1;
		if (m >= 0)
			a.prefix = m;
		VPUSH(*out, a);
	} else if (t->type == LJ_PF_T_STRING || t->type == LJ_PF_T_NUMBER) {
		next(p);
		if (t->type == LJ_PF_T_STRING && accept_ch(p, '-')) {
			struct lj_pf_tok *t2 = next(p);
			struct lj_pf_addr a, b;
			if (!is_string(t2) && t2->type != LJ_PF_T_NUMBER)
				return syntax(p);
			if (lj_pf_parse_addr(t->s, -1, &a) < 0 ||
			    lj_pf_parse_addr(t2->s, -1, &b) < 0 || a.af != b.af) {
				perr(p, t->line, "invalid address range");
				return -1;
			}
			a.type = LJ_PF_A_RANGE;
			memcpy(a.b, b.a, 16);
			VPUSH(*out, a);
		} else {
			int m = parse_mask(p);
			if (m == -2)
				return -1;
			if (t->type == LJ_PF_T_NUMBER && m < 0)
				return syntax(p);
			if (host_resolve(p, t->s, m, t->line, out) < 0)
				return -1;
		}
	} else
		return syntax(p);
	for (int i = first; i < out->n; i++)
		out->v[i].neg = neg;
	return 0;
}

/* ---- ports -------------------------------------------------------------------------------------
 */

static int port_number(struct parser *p, const struct lj_pf_tok *t, const char *s, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (*s && isdigit((unsigned char)*s) && *end == '\0' && errno == 0) {
		if (v > 65535) {
			perr(p, t->line, "illegal port value %lu", v);
			return -1;
		}
		*out = (unsigned)v;
		return 0;
	}
	int n = lj_pf_service_port(s, "tcp");
	if (n < 0)
		n = lj_pf_service_port(s, "udp");
	if (n < 0) {
		perr(p, t->line, "unknown port %s", s);
		return -1;
	}
	*out = (unsigned)n;
	return 0;
}

/* portrange: a port, or "a:b" (a STRING) as an inclusive range. */
static int parse_portrange(struct parser *p, struct lj_pf_port *pp, bool allow_star)
{
	struct lj_pf_tok *t = next(p);
	if (t->type != LJ_PF_T_STRING && t->type != LJ_PF_T_NUMBER)
		return syntax(p);
	char *colon = strchr(t->s, ':');
	if (colon) {
		char a[64];
		snprintf(a, sizeof(a), "%.*s", (int)(colon - t->s), t->s);
		pp->op = LJ_PF_OP_RRG;
		if (port_number(p, t, a, &pp->p1) < 0)
			return -1;
		if (allow_star && strcmp(colon + 1, "*") == 0) {
			pp->p2 = 0;
			pp->op = LJ_PF_OP_EQ; /* marked star by the caller */
			return 1;
		}
		if (port_number(p, t, colon + 1, &pp->p2) < 0)
			return -1;
		return 0;
	}
	pp->op = LJ_PF_OP_EQ;
	return port_number(p, t, t->s, &pp->p1);
}

static int parse_port_item(struct parser *p, struct portv *out)
{
	struct lj_pf_port pp = {0};
	int op = LJ_PF_OP_NONE;
	struct lj_pf_tok *t = peek(p);
	if (is_ch(t, '=')) {
		next(p);
		op = LJ_PF_OP_EQ;
	} else if (is_ch(t, '!')) {
		next(p);
		if (expect_ch(p, '=') < 0)
			return -1;
		op = LJ_PF_OP_NE;
	} else if (is_ch(t, '<')) {
		next(p);
		op = accept_ch(p, '=') ? LJ_PF_OP_LE : LJ_PF_OP_LT;
	} else if (is_ch(t, '>')) {
		next(p);
		op = accept_ch(p, '=') ? LJ_PF_OP_GE : LJ_PF_OP_GT;
	}
	if (parse_portrange(p, &pp, false) < 0)
		return -1;
	if (op != LJ_PF_OP_NONE) {
		if (pp.op == LJ_PF_OP_RRG)
			return syntax(p);
		pp.op = op;
	} else if (peek(p)->type == LJ_PF_T_PORTBIN) {
		struct lj_pf_tok *b = next(p);
		struct lj_pf_port p2 = {0};
		if (pp.op == LJ_PF_OP_RRG || parse_portrange(p, &p2, false) < 0 ||
		    p2.op == LJ_PF_OP_RRG)
			return syntax(p);
		pp.op = strcmp(b->s, "><") == 0 ? LJ_PF_OP_IRG : LJ_PF_OP_XRG;
		pp.p2 = p2.p1;
	}
	VPUSH(*out, pp);
	return 0;
}

static int parse_portspec(struct parser *p, struct portv *out)
{
	if (accept_ch(p, '{')) {
		skip_nl(p);
		while (!is_ch(peek(p), '}')) {
			if (is_ch(peek(p), LJ_PF_T_EOF) || is_ch(peek(p), LJ_PF_T_NL))
				return syntax(p);
			if (parse_port_item(p, out) < 0)
				return -1;
			skip_comma(p);
		}
		next(p);
		return 0;
	}
	return parse_port_item(p, out);
}

/* ---- protocols, interfaces, icmp types ------------------------------------------------------- */

static int parse_proto_item(struct parser *p, struct intv *out)
{
	struct lj_pf_tok *t = next(p);
	int n;
	if (t->type == LJ_PF_T_NUMBER) {
		if (t->num < 0 || t->num > 255) {
			perr(p, t->line, "protocol outside range");
			return -1;
		}
		n = (int)t->num;
	} else if (is_string(t)) {
		n = lj_pf_proto_number(t->s);
		if (n < 0) {
			perr(p, t->line, "unknown protocol %s", t->s);
			return -1;
		}
	} else
		return syntax(p);
	VPUSH(*out, n);
	return 0;
}

static int parse_protos(struct parser *p, struct intv *out)
{
	if (accept_ch(p, '{')) {
		skip_nl(p);
		while (!is_ch(peek(p), '}')) {
			if (parse_proto_item(p, out) < 0)
				return -1;
			skip_comma(p);
		}
		next(p);
		return 0;
	}
	return parse_proto_item(p, out);
}

static int parse_if_item(struct parser *p, struct ifv *out, bool allow_not)
{
	struct ifitem it = {0};
	if (allow_not)
		it.not = accept_ch(p, '!');
	struct lj_pf_tok *t = next(p);
	if (!is_string(t))
		return syntax(p);
	if (strlen(t->s) >= 16) {
		perr(p, t->line, "interface name too long");
		return -1;
	}
	snprintf(it.name, sizeof(it.name), "%s", t->s);
	VPUSH(*out, it);
	return 0;
}

static int parse_ifspec(struct parser *p, struct ifv *out)
{
	if (accept_ch(p, '{')) {
		skip_nl(p);
		while (!is_ch(peek(p), '}')) {
			if (is_ch(peek(p), LJ_PF_T_EOF) || is_ch(peek(p), LJ_PF_T_NL))
				return syntax(p);
			if (parse_if_item(p, out, true) < 0)
				return -1;
			skip_comma(p);
		}
		next(p);
		return 0;
	}
	return parse_if_item(p, out, true);
}

static int icmp_code_val(struct parser *p, int type, bool v6)
{
	struct lj_pf_tok *t = next(p);
	if (t->type == LJ_PF_T_NUMBER) {
		if (t->num < 0 || t->num > 255) {
			perr(p, t->line, "illegal icmp-code %lld", t->num);
			return -1;
		}
		return (int)t->num;
	}
	if (!is_string(t))
		return syntax(p);
	int c = lj_pf_icmp_code_number(type, t->s, v6 ? AF_INET6 : AF_INET);
	if (c < 0) {
		perr(p, t->line, "unknown icmp-code %s", t->s);
		return -1;
	}
	return c;
}

static int parse_icmp_item(struct parser *p, struct icmpv *out, bool v6)
{
	struct lj_pf_tok *t = next(p);
	struct icmpitem it = {.af6 = v6};
	if (t->type == LJ_PF_T_NUMBER) {
		if (t->num < 0 || t->num > 255) {
			perr(p, t->line, "illegal icmp-type %lld", t->num);
			return -1;
		}
		it.type = (int)t->num + 1;
	} else if (is_string(t)) {
		int n = lj_pf_icmp_type_number(t->s, v6 ? AF_INET6 : AF_INET);
		if (n < 0) {
			perr(p, t->line, "unknown icmp%s-type %s", v6 ? "6" : "", t->s);
			return -1;
		}
		it.type = n + 1;
	} else
		return syntax(p);
	if (accept_kw(p, "code")) {
		int c = icmp_code_val(p, it.type - 1, v6);
		if (c < 0)
			return -1;
		it.code = c + 1;
	}
	VPUSH(*out, it);
	return 0;
}

static int parse_icmpspec(struct parser *p, struct icmpv *out, bool v6)
{
	if (accept_ch(p, '{')) {
		skip_nl(p);
		while (!is_ch(peek(p), '}')) {
			if (parse_icmp_item(p, out, v6) < 0)
				return -1;
			skip_comma(p);
		}
		next(p);
		return 0;
	}
	return parse_icmp_item(p, out, v6);
}

/* ---- the parsed rule before expansion ------------------------------------------------------- */

struct prule {
	struct lj_pf_rule r; /* scalar parts */
	struct ifv ifs;
	struct intv protos;
	struct hostv src, dst;
	struct portv sport, dport;
	struct icmpv icmp;
	char *labels[5];
	int nlabels;
	struct hostv pool;
	bool rport_star;
	bool keep_given, flags_given, fragment, got_from, got_to;
	bool src_any, dst_any;
};

static void prule_free(struct prule *pr)
{
	free(pr->ifs.v);
	free(pr->protos.v);
	free(pr->src.v);
	free(pr->dst.v);
	free(pr->sport.v);
	free(pr->dport.v);
	free(pr->icmp.v);
	free(pr->pool.v);
	for (int i = 0; i < pr->nlabels; i++)
		free(pr->labels[i]);
}

static int parse_flagbits(struct parser *p, const struct lj_pf_tok *t, uint8_t *out)
{
	static const char letters[] = "FSRPAUEW";
	*out = 0;
	for (const char *c = t->s; *c; c++) {
		const char *f = strchr(letters, *c);
		if (!f) {
			perr(p, t->line, "bad flags %s", t->s);
			return -1;
		}
		*out |= (uint8_t)(1 << (f - letters));
	}
	return 0;
}

/* from/to part: all | [from ipspec [port ...]] [to ipspec [port ...]] */
static int parse_fromto(struct parser *p, struct prule *pr)
{
	if (accept_kw(p, "all"))
		goto any;
	if (accept_kw(p, "from")) {
		if (!is_kw(peek(p), "port") && parse_ipspec(p, &pr->src) < 0)
			return -1;
		if (accept_kw(p, "port") && parse_portspec(p, &pr->sport) < 0)
			return -1;
	}
	if (accept_kw(p, "to")) {
		if (!is_kw(peek(p), "port") && parse_ipspec(p, &pr->dst) < 0)
			return -1;
		if (accept_kw(p, "port") && parse_portspec(p, &pr->dport) < 0)
			return -1;
	}
any:
	if (pr->src.n == 0) {
		struct lj_pf_addr a = {.type = LJ_PF_A_ADDR};
		VPUSH(pr->src, a);
	}
	if (pr->dst.n == 0) {
		struct lj_pf_addr a = {.type = LJ_PF_A_ADDR};
		VPUSH(pr->dst, a);
	}
	return 0;
}

static int parse_log(struct parser *p, struct lj_pf_rule *r)
{
	r->log = LJ_PF_LOG;
	if (!accept_ch(p, '('))
		return 0;
	for (;;) {
		struct lj_pf_tok *t = next(p);
		if (is_kw(t, "all"))
			r->log |= LJ_PF_LOG_ALL;
		else if (is_kw(t, "user"))
			r->log |= LJ_PF_LOG_USER;
		else if (is_kw(t, "to")) {
			struct lj_pf_tok *n = next(p);
			if (!is_string(n))
				return syntax(p);
			if (strncmp(n->s, "pflog", 5) != 0) {
				perr(p, n->line, "%s: should be a pflog interface", n->s);
				return -1;
			}
			int unit;
			if (!lj_parse_int(n->s + 5, &unit) || !isdigit((unsigned char)n->s[5]) ||
			    unit > 255) {
				perr(p, n->line, "%s: %s", n->s,
				     isdigit((unsigned char)n->s[5]) &&
				                     strspn(n->s + 5, "0123456789") ==
				                             strlen(n->s + 5)
				             ? "too large"
				             : "invalid");
				return -1;
			}
			r->logif = unit;
		} else
			return syntax(p);
		if (accept_ch(p, ')'))
			return 0;
		if (expect_ch(p, ',') < 0)
			return -1;
	}
}

static int parse_timeout_item(struct parser *p, unsigned *timeouts)
{
	struct lj_pf_tok *n = next(p);
	struct lj_pf_tok *v = next(p);
	if ((!is_string(n) && n->type != LJ_PF_T_KEYWORD) || v->type != LJ_PF_T_NUMBER)
		return syntax(p);
	for (int i = 0; lj_pf_timeout_names[i]; i++)
		if (strcmp(lj_pf_timeout_names[i], n->s) == 0) {
			if (v->num < 0) {
				perr(p, v->line, "only positive values permitted");
				return -1;
			}
			timeouts[i] = (unsigned)v->num;
			return i;
		}
	perr(p, n->line, "unknown timeout %s", n->s);
	return -1;
}

static int parse_state_opts(struct parser *p, struct lj_pf_rule *r)
{
	if (!accept_ch(p, '('))
		return 0;
	for (;;) {
		struct lj_pf_tok *t = peek(p);
		if (accept_kw(p, "max")) {
			struct lj_pf_tok *v = next(p);
			if (v->type != LJ_PF_T_NUMBER || v->num < 0)
				return syntax(p);
			r->max_states = (unsigned)v->num;
		} else if (accept_kw(p, "no-sync"))
			r->nosync = true;
		else if (accept_kw(p, "if-bound"))
			r->ifbound = true;
		else if (accept_kw(p, "floating"))
			r->ifbound = false;
		else if (accept_kw(p, "sloppy"))
			r->sloppy = true;
		else if (is_string(t)) {
			if (parse_timeout_item(p, r->timeout) < 0)
				return -1;
		} else if (t->type == LJ_PF_T_KEYWORD) {
			perr(p, t->line, "state option '%s' is not supported", t->s);
			return -1;
		} else
			return syntax(p);
		if (accept_ch(p, ')'))
			return 0;
		if (expect_ch(p, ',') < 0)
			return -1;
	}
}

/* Options FreeBSD has and ljail's subset leaves out: named in the error instead of "syntax error".
 */
static bool unsupported_opt(const struct lj_pf_tok *t)
{
	static const char *const names[] = {
	        "user",         "group",    "tos",     "prio",      "probability",
	        "queue",        "rtable",   "tag",     "tagged",    "set-tos",
	        "min-ttl",      "max-mss",  "no-df",   "random-id", "divert-to",
	        "divert-reply", "dnpipe",   "dnqueue", "os",        "ridentifier",
	        "route-to",     "reply-to", "dup-to",  "fastroute", NULL};
	for (int i = 0; names[i]; i++)
		if (is_kw(t, names[i]))
			return true;
	return false;
}

/* filter_opts, in any order */
static int parse_filter_opts(struct parser *p, struct prule *pr)
{
	struct lj_pf_rule *r = &pr->r;
	for (;;) {
		struct lj_pf_tok *t = peek(p);
		if (t->type == LJ_PF_T_NL || t->type == LJ_PF_T_EOF)
			return 0;
		next(p);
		if (is_kw(t, "flags")) {
			pr->flags_given = true;
			if (accept_kw(p, "any"))
				continue;
			struct lj_pf_tok *a = peek(p);
			if (is_string(a)) {
				next(p);
				if (parse_flagbits(p, a, &r->flags) < 0)
					return -1;
			}
			if (expect_ch(p, '/') < 0)
				return -1;
			struct lj_pf_tok *b = next(p);
			if (!is_string(b))
				return syntax(p);
			if (parse_flagbits(p, b, &r->flagset) < 0)
				return -1;
		} else if (is_kw(t, "icmp-type") || is_kw(t, "icmp6-type")) {
			if (parse_icmpspec(p, &pr->icmp, is_kw(t, "icmp6-type")) < 0)
				return -1;
		} else if (is_kw(t, "keep") || is_kw(t, "modulate") || is_kw(t, "synproxy")) {
			if (pr->keep_given) {
				perr(p, t->line, "state options multiple definitions");
				return -1;
			}
			pr->keep_given = true;
			r->keep = is_kw(t, "keep")       ? LJ_PF_KEEP
			          : is_kw(t, "modulate") ? LJ_PF_MODULATE
			                                 : LJ_PF_SYNPROXY;
			if (expect_kw(p, "state") < 0 || parse_state_opts(p, r) < 0)
				return -1;
		} else if (is_kw(t, "no")) {
			if (expect_kw(p, "state") < 0)
				return -1;
			if (pr->keep_given) {
				perr(p, t->line, "state options multiple definitions");
				return -1;
			}
			pr->keep_given = true;
			r->keep = LJ_PF_NOSTATE;
		} else if (is_kw(t, "fragment")) {
			pr->fragment = true;
		} else if (is_kw(t, "allow-opts")) {
			r->allow_opts = true;
		} else if (is_kw(t, "label")) {
			struct lj_pf_tok *s = next(p);
			if (!is_string(s))
				return syntax(p);
			if (pr->nlabels == 5) {
				perr(p, s->line, "label can only be used 5 times");
				return -1;
			}
			if (strlen(s->s) >= 64) {
				perr(p, s->line, "rule label too long (max 63 chars)");
				return -1;
			}
			pr->labels[pr->nlabels++] = xstrdup(s->s);
		} else if (unsupported_opt(t)) {
			perr(p, t->line, "'%s' is not supported by ljail's pf", t->s);
			return -1;
		} else
			return syntax(p);
	}
}

/* ---- expansion ------------------------------------------------------------------------------- */

static void fmt_addr_label(lj_buf *b, const struct lj_pf_addr *a, int af)
{
	if (a->neg)
		lj_buf_adds(b, "! ");
	switch (a->type) {
	case LJ_PF_A_DYN:
		lj_buf_addf(b, "(%s)", a->name);
		return;
	case LJ_PF_A_TABLE:
		lj_buf_addf(b, "<%s>", a->name);
		return;
	case LJ_PF_A_NOROUTE:
		lj_buf_adds(b, "no-route");
		return;
	case LJ_PF_A_URPF:
		lj_buf_adds(b, "urpf-failed");
		return;
	}
	if (!af || (a->type == LJ_PF_A_ADDR && a->af == 0)) {
		lj_buf_adds(b, "any");
		return;
	}
	lj_pf_print_addr(b, a, af);
}

static void fmt_port_label(lj_buf *b, const struct lj_pf_port *pt)
{
	switch (pt->op) {
	case LJ_PF_OP_NONE:
		return;
	case LJ_PF_OP_IRG:
		lj_buf_addf(b, "%u><%u", pt->p1, pt->p2);
		return;
	case LJ_PF_OP_XRG:
		lj_buf_addf(b, "%u<>%u", pt->p1, pt->p2);
		return;
	case LJ_PF_OP_RRG:
		lj_buf_addf(b, "%u:%u", pt->p1, pt->p2);
		return;
	case LJ_PF_OP_EQ:
		lj_buf_addf(b, "%u", pt->p1);
		return;
	case LJ_PF_OP_NE:
		lj_buf_addf(b, "!=%u", pt->p1);
		return;
	case LJ_PF_OP_LT:
		lj_buf_addf(b, "<%u", pt->p1);
		return;
	case LJ_PF_OP_LE:
		lj_buf_addf(b, "<=%u", pt->p1);
		return;
	case LJ_PF_OP_GT:
		lj_buf_addf(b, ">%u", pt->p1);
		return;
	case LJ_PF_OP_GE:
		lj_buf_addf(b, ">=%u", pt->p1);
		return;
	}
}

static char *expand_label(const char *in, const struct lj_pf_rule *r)
{
	lj_buf b = {0};
	for (const char *s = in; *s;) {
		if (*s != '$') {
			lj_buf_addc(&b, *s++);
			continue;
		}
		if (lj_startswith(s, "$if")) {
			lj_buf_adds(&b, r->ifname[0] ? r->ifname : "any");
			s += 3;
		} else if (lj_startswith(s, "$srcaddr")) {
			fmt_addr_label(&b, &r->src, r->af);
			s += 8;
		} else if (lj_startswith(s, "$dstaddr")) {
			fmt_addr_label(&b, &r->dst, r->af);
			s += 8;
		} else if (lj_startswith(s, "$srcport")) {
			fmt_port_label(&b, &r->sport);
			s += 8;
		} else if (lj_startswith(s, "$dstport")) {
			fmt_port_label(&b, &r->dport);
			s += 8;
		} else if (lj_startswith(s, "$proto")) {
			if (r->proto) {
				const char *n = lj_pf_proto_name(r->proto);
				if (n)
					lj_buf_adds(&b, n);
				else
					lj_buf_addf(&b, "%d", r->proto);
			}
			s += 6;
		} else if (lj_startswith(s, "$nr")) {
			lj_buf_addf(&b, "%d", r->nr);
			s += 3;
		} else
			lj_buf_addc(&b, *s++);
	}
	char *out = lj_buf_steal(&b);
	return out ? out : xstrdup("");
}

static int consistent(struct parser *p, const struct lj_pf_rule *r, int line)
{
	int problems = 0;
	if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP &&
	    (r->sport.op != LJ_PF_OP_NONE || r->dport.op != LJ_PF_OP_NONE)) {
		perr(p, line, "port only applies to tcp/udp");
		problems++;
	}
	if (r->proto != IPPROTO_ICMP && r->proto != IPPROTO_ICMPV6 &&
	    (r->icmp_type || r->icmp_code)) {
		perr(p, line, "icmp-type/code only applies to icmp");
		problems++;
	}
	if (!r->af && (r->icmp_type || r->icmp_code)) {
		perr(p, line, "must indicate address family with icmp-type/code");
		problems++;
	}
	if (r->kind == LJ_PF_K_FILTER) {
		if (r->allow_opts && r->action != LJ_PF_PASS) {
			perr(p, line, "allow-opts can only be specified for pass rules");
			problems++;
		}
		if (r->action == LJ_PF_BLOCK && r->block == LJ_PF_B_RST &&
		    r->proto != IPPROTO_TCP) {
			perr(p, line, "return-rst can only be applied to TCP rules");
			problems++;
		}
		if (r->action == LJ_PF_BLOCK && r->keep) {
			perr(p, line, "keep state on block rules doesn't make sense");
			problems++;
		}
	}
	return problems ? -1 : 0;
}

static void add_rule(struct parser *p, struct lj_pf_rule *r)
{
	p->c->rules = xrealloc(p->c->rules, sizeof(*p->c->rules) * (p->c->nrules + 1));
	p->c->rules[p->c->nrules++] = *r;
}

static void decide_af(const struct hostv *h, int *af)
{
	if (*af != 0 || h->n == 0)
		return;
	*af = h->v[0].af;
	for (int i = 1; i < h->n; i++)
		if (h->v[i].af != *af) {
			*af = 0;
			return;
		}
}

/* The cartesian product in FreeBSD 14's order: interface, proto, icmp-type, src host, src port,
 * dst host, dst port. */
/* One combination of the product: 1 when a rule was added, 0 when skipped (mismatched address
 * families, or errors, which are reported). ix: interface, proto, icmp, src, sport, dst, dport. */
static int expand_one(struct parser *p, const struct prule *pr, const int ix[7], int line)
{
	static const struct lj_pf_port noport = {0};
	struct lj_pf_rule r = pr->r;
	const struct lj_pf_addr *sh = &pr->src.v[ix[3]], *dh = &pr->dst.v[ix[5]];
	int error = 0;
	if ((r.af && sh->af && r.af != sh->af) || (r.af && dh->af && r.af != dh->af) ||
	    (sh->af && dh->af && sh->af != dh->af))
		return 0;
	if (!r.af && sh->af)
		r.af = sh->af;
	else if (!r.af && dh->af)
		r.af = dh->af;
	if (pr->pool.n == 1 && pr->pool.v[0].af) {
		if (r.af && r.af != pr->pool.v[0].af)
			return 0;
		if (!r.af)
			r.af = pr->pool.v[0].af;
	}
	if (pr->ifs.n) {
		snprintf(r.ifname, sizeof(r.ifname), "%s", pr->ifs.v[ix[0]].name);
		r.ifnot = pr->ifs.v[ix[0]].not ;
	}
	r.proto = pr->protos.n ? pr->protos.v[ix[1]] : 0;
	if (pr->icmp.n) {
		const struct icmpitem *it = &pr->icmp.v[ix[2]];
		r.icmp_type = it->type;
		r.icmp_code = it->code;
		if (r.proto && r.proto != (it->af6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
			perr(p, line, "icmp-type mismatch");
			error++;
		}
	}
	r.src = *sh;
	r.dst = *dh;
	r.sport = pr->sport.n ? pr->sport.v[ix[4]] : noport;
	r.dport = pr->dport.n ? pr->dport.v[ix[6]] : noport;
	/* flags apply to TCP only; modulate and synproxy degrade to keep state elsewhere */
	if (r.proto && r.proto != IPPROTO_TCP) {
		r.flags = r.flagset = 0;
		if (r.keep == LJ_PF_MODULATE || r.keep == LJ_PF_SYNPROXY)
			r.keep = LJ_PF_KEEP;
	}
	if (r.kind == LJ_PF_K_RDR && pr->rport_star)
		/* u_int16_t arithmetic, as FreeBSD's */
		r.pport2 = r.dport.op == LJ_PF_OP_RRG
		                   ? (uint16_t)(r.pport1 + r.dport.p2 - r.dport.p1)
		                   : r.pport1;
	r.nr = p->nr;
	r.line = line;
	r.pool = NULL;
	r.npool = 0;
	for (int l = 0; l < pr->nlabels; l++)
		r.label[l] = expand_label(pr->labels[l], &r);
	r.nlabels = pr->nlabels;
	if (consistent(p, &r, line) < 0 || error) {
		perr(p, line, "skipping rule due to errors");
		for (int l = 0; l < r.nlabels; l++)
			free(r.label[l]);
		return 0;
	}
	if (pr->pool.n) {
		r.pool = xmalloc(sizeof(*r.pool) * pr->pool.n);
		memcpy(r.pool, pr->pool.v, sizeof(*r.pool) * pr->pool.n);
		r.npool = pr->pool.n;
	}
	p->nr++;
	add_rule(p, &r);
	return 1;
}

/* The cartesian product in FreeBSD 14's order, outermost first: interface, proto, icmp-type,
 * src host, src port, dst host, dst port. */
static int expand_rule(struct parser *p, struct prule *pr, int line)
{
	const int n[7] = {pr->ifs.n ? pr->ifs.n : 1,     pr->protos.n ? pr->protos.n : 1,
	                  pr->icmp.n ? pr->icmp.n : 1,   pr->src.n,
	                  pr->sport.n ? pr->sport.n : 1, pr->dst.n,
	                  pr->dport.n ? pr->dport.n : 1};
	int ix[7] = {0}, added = 0;
	for (int k = 0; k < 7; k++)
		if (n[k] == 0)
			goto none;
	for (;;) {
		added += expand_one(p, pr, ix, line);
		int k = 6;
		while (k >= 0 && ++ix[k] == n[k])
			ix[k--] = 0;
		if (k < 0)
			break;
	}
none:
	if (!added) {
		perr(p, line, "rule expands to no valid combination");
		return -1;
	}
	return 0;
}

/* ---- statements ---------------------------------------------------------------------------- */

static int parse_filter_rule(struct parser *p)
{
	struct prule pr = {0};
	struct lj_pf_rule *r = &pr.r;
	int rc = -1;
	r->kind = LJ_PF_K_FILTER;
	struct lj_pf_tok *t = next(p);
	if (is_kw(t, "pass"))
		r->action = LJ_PF_PASS;
	else {
		r->action = LJ_PF_BLOCK;
		r->block = p->c->block_policy;
		r->ret_icmp = 3;
		r->ret_icmp6 = 4;
		struct lj_pf_tok *b = peek(p);
		if (accept_kw(p, "drop"))
			r->block = LJ_PF_B_DROP;
		else if (accept_kw(p, "return"))
			r->block = LJ_PF_B_RETURN;
		else if (accept_kw(p, "return-rst")) {
			r->block = LJ_PF_B_RST;
			if (accept_ch(p, '(')) {
				struct lj_pf_tok *v;
				if (expect_kw(p, "ttl") < 0)
					goto out;
				v = next(p);
				if (v->type != LJ_PF_T_NUMBER || v->num < 0 || v->num > 255) {
					syntax(p);
					goto out;
				}
				r->return_ttl = (int)v->num;
				if (expect_ch(p, ')') < 0)
					goto out;
			}
		} else if (accept_kw(p, "return-icmp") || accept_kw(p, "return-icmp6")) {
			bool six = is_kw(b, "return-icmp6");
			r->block = LJ_PF_B_ICMP;
			if (accept_ch(p, '(')) {
				int c = icmp_code_val(p, six ? 1 : 3, six);
				if (c < 0)
					goto out;
				if (six)
					r->ret_icmp6 = c;
				else
					r->ret_icmp = c;
				if (!six && accept_ch(p, ',')) {
					c = icmp_code_val(p, 1, true);
					if (c < 0)
						goto out;
					r->ret_icmp6 = c;
				}
				if (expect_ch(p, ')') < 0)
					goto out;
			}
		}
	}
	if (accept_kw(p, "in"))
		r->dir = LJ_PF_IN;
	else if (accept_kw(p, "out"))
		r->dir = LJ_PF_OUT;
	for (int k = 0; k < 2; k++) {
		if (!r->log && accept_kw(p, "log")) {
			if (parse_log(p, r) < 0)
				goto out;
		} else if (!r->quick && accept_kw(p, "quick"))
			r->quick = true;
	}
	if (accept_kw(p, "on") && parse_ifspec(p, &pr.ifs) < 0)
		goto out;
	if (accept_kw(p, "inet"))
		r->af = AF_INET;
	else if (accept_kw(p, "inet6"))
		r->af = AF_INET6;
	if (accept_kw(p, "proto") && parse_protos(p, &pr.protos) < 0)
		goto out;
	if (parse_fromto(p, &pr) < 0 || parse_filter_opts(p, &pr) < 0)
		goto out;
	if (check_rulestate(p, ST_FILTER) < 0)
		goto out;
	int line = last_line(p);
	if (pr.flags_given && pr.protos.n) {
		bool tcp = false;
		for (int i = 0; i < pr.protos.n; i++)
			tcp |= pr.protos.v[i] == IPPROTO_TCP;
		if (!tcp) {
			perr(p, line, "flags only apply to tcp");
			goto out;
		}
	}
	/* the defaults pfctl adds */
	if (r->action == LJ_PF_PASS && !pr.keep_given)
		r->keep = LJ_PF_KEEP;
	if (r->action == LJ_PF_PASS && !r->flags && !r->flagset && !pr.fragment &&
	    !pr.flags_given && r->keep) {
		r->flags = 0x02;   /* S */
		r->flagset = 0x12; /* SA */
	}
	if (r->keep && p->c->ifbound_policy)
		r->ifbound = true;
	if (r->max_states && !r->timeout[TM_ADAPTIVE_START] && !r->timeout[TM_ADAPTIVE_END]) {
		r->timeout[TM_ADAPTIVE_START] = (r->max_states / 10) * 6;
		r->timeout[TM_ADAPTIVE_END] = (r->max_states / 10) * 12;
	}
	for (int i = 0; i < pr.nlabels; i++)
		; /* labels are expanded per rule */
	decide_af(&pr.src, &r->af);
	decide_af(&pr.dst, &r->af);
	rc = expand_rule(p, &pr, line);
out:
	prule_free(&pr);
	return rc;
}

static int parse_pool(struct parser *p, struct prule *pr)
{
	if (accept_ch(p, '{')) {
		skip_nl(p);
		while (!is_ch(peek(p), '}')) {
			if (is_ch(peek(p), LJ_PF_T_EOF) || is_ch(peek(p), LJ_PF_T_NL))
				return syntax(p);
			if (parse_host(p, &pr->pool) < 0)
				return -1;
			skip_comma(p);
		}
		next(p);
		return 0;
	}
	return parse_host(p, &pr->pool);
}

static int parse_nat_rule(struct parser *p)
{
	struct prule pr = {0};
	struct lj_pf_rule *r = &pr.r;
	int rc = -1;
	int line;
	if (accept_kw(p, "no"))
		r->no = true;
	struct lj_pf_tok *t = next(p);
	r->kind = is_kw(t, "nat") ? LJ_PF_K_NAT : is_kw(t, "rdr") ? LJ_PF_K_RDR : LJ_PF_K_BINAT;
	if (accept_kw(p, "pass")) {
		r->natpass = true;
		if (accept_kw(p, "log") && parse_log(p, r) < 0)
			goto out;
	} else if (accept_kw(p, "log") && parse_log(p, r) < 0)
		goto out;
	if (accept_kw(p, "on")) {
		if (r->kind == LJ_PF_K_BINAT) {
			if (parse_if_item(p, &pr.ifs, false) < 0)
				goto out;
		} else if (parse_ifspec(p, &pr.ifs) < 0)
			goto out;
	}
	if (accept_kw(p, "inet"))
		r->af = AF_INET;
	else if (accept_kw(p, "inet6"))
		r->af = AF_INET6;
	if (accept_kw(p, "proto") && parse_protos(p, &pr.protos) < 0)
		goto out;
	if (r->kind == LJ_PF_K_BINAT) {
		if (expect_kw(p, "from") < 0 || parse_host(p, &pr.src) < 0)
			goto out;
		if (accept_kw(p, "to") && parse_ipspec(p, &pr.dst) < 0)
			goto out;
		if (pr.dst.n == 0) {
			struct lj_pf_addr a = {.type = LJ_PF_A_ADDR};
			VPUSH(pr.dst, a);
		}
	} else if (parse_fromto(p, &pr) < 0)
		goto out;
	if (r->kind == LJ_PF_K_NAT) {
		r->pport1 = 50001;
		r->pport2 = 65535;
	}
	if (accept_ch(p, LJ_PF_T_ARROW)) {
		if (r->no) {
			perr(p, peek(p)->line, "translation rule with 'no' does not need '->'");
			goto out;
		}
		if (r->kind == LJ_PF_K_BINAT ? parse_host(p, &pr.pool) < 0 : parse_pool(p, &pr) < 0)
			goto out;
		if (r->kind != LJ_PF_K_BINAT && accept_kw(p, "port")) {
			struct lj_pf_port pp = {0};
			int s = parse_portrange(p, &pp, r->kind == LJ_PF_K_RDR);
			if (s < 0)
				goto out;
			r->pport1 = pp.p1;
			r->pport2 = pp.op == LJ_PF_OP_RRG ? pp.p2
			                                  : (r->kind == LJ_PF_K_NAT ? pp.p1 : 0);
			pr.rport_star = s == 1;
		}
		/* pool options */
		for (;;) {
			if (accept_kw(p, "bitmask"))
				r->pool_type = LJ_PF_POOL_BITMASK;
			else if (accept_kw(p, "random"))
				r->pool_type = LJ_PF_POOL_RANDOM;
			else if (accept_kw(p, "round-robin"))
				r->pool_type = LJ_PF_POOL_RR;
			else if (accept_kw(p, "source-hash")) {
				perr(p, peek(p)->line,
				     "'source-hash' is not supported by ljail's pf");
				goto out;
			} else if (accept_kw(p, "sticky-address"))
				r->sticky = true;
			else if (accept_kw(p, "static-port")) {
				if (r->kind != LJ_PF_K_NAT) {
					perr(p, peek(p)->line,
					     "the 'static-port' option is only valid with nat "
					     "rules");
					goto out;
				}
				r->static_port = true;
				r->pport1 = r->pport2 = 0;
			} else
				break;
		}
	} else if (!r->no) {
		perr(p, peek(p)->line, "translation rule requires '-> address'");
		goto out;
	}
	if (peek(p)->type != LJ_PF_T_NL && peek(p)->type != LJ_PF_T_EOF) {
		if (peek(p)->type == LJ_PF_T_KEYWORD)
			perr(p, peek(p)->line, "'%s' is not supported by ljail's pf", peek(p)->s);
		else
			syntax(p);
		goto out;
	}
	if (check_rulestate(p, ST_NAT) < 0)
		goto out;
	line = last_line(p);
	if (r->kind == LJ_PF_K_NAT && r->no)
		r->pport1 = r->pport2 = 50001, r->pport2 = 65535;
	if (pr.pool.n && r->pool_type == LJ_PF_POOL_NONE &&
	    (pr.pool.n > 1 || pr.pool.v[0].type == LJ_PF_A_TABLE ||
	     (pr.pool.v[0].type == LJ_PF_A_DYN && !(pr.pool.v[0].dynflags & LJ_PF_DYN_NOALIAS))))
		r->pool_type = LJ_PF_POOL_RR;
	if (r->kind == LJ_PF_K_BINAT && pr.pool.n && pr.src.n &&
	    pr.pool.v[0].type == LJ_PF_A_ADDR && pr.src.v[0].prefix != pr.pool.v[0].prefix) {
		perr(p, line, "binat: source and redirect have different netmasks");
		goto out;
	}
	decide_af(&pr.src, &r->af);
	decide_af(&pr.dst, &r->af);
	rc = expand_rule(p, &pr, line);
out:
	prule_free(&pr);
	return rc;
}

static int parse_antispoof(struct parser *p)
{
	struct lj_pf_rule base = {.kind = LJ_PF_K_FILTER, .action = LJ_PF_BLOCK, .dir = LJ_PF_IN};
	struct ifv ifs = {0};
	char *label = NULL;
	int rc = -1;
	next(p);
	for (int k = 0; k < 2; k++) {
		if (!base.log && accept_kw(p, "log")) {
			if (parse_log(p, &base) < 0)
				goto out;
		} else if (!base.quick && accept_kw(p, "quick"))
			base.quick = true;
	}
	if (expect_kw(p, "for") < 0)
		goto out;
	bool dyn = false;
	if (accept_ch(p, '(')) {
		dyn = true;
		if (parse_if_item(p, &ifs, false) < 0 || expect_ch(p, ')') < 0)
			goto out;
	} else if (parse_ifspec(p, &ifs) < 0)
		goto out;
	if (accept_kw(p, "inet"))
		base.af = AF_INET;
	else if (accept_kw(p, "inet6"))
		base.af = AF_INET6;
	if (accept_kw(p, "label")) {
		struct lj_pf_tok *s = next(p);
		if (!is_string(s)) {
			syntax(p);
			goto out;
		}
		label = xstrdup(s->s);
	}
	if (peek(p)->type != LJ_PF_T_NL && peek(p)->type != LJ_PF_T_EOF) {
		syntax(p);
		goto out;
	}
	if (check_rulestate(p, ST_FILTER) < 0)
		goto out;
	int line = last_line(p);
	rc = 0;
	for (int i = 0; i < ifs.n; i++) {
		for (int pass = 0; pass < 2; pass++) {
			struct prule pr = {0};
			pr.r = base;
			if (label)
				pr.labels[pr.nlabels++] = xstrdup(label);
			struct lj_pf_addr any = {.type = LJ_PF_A_ADDR};
			VPUSH(pr.dst, any);
			bool loopback = strcmp(lj_pf_linux_ifname(ifs.v[i].name), "lo") == 0 ||
			                strncmp(ifs.v[i].name, "lo", 2) == 0;
			if (pass == 1 && loopback) {
				prule_free(&pr);
				break;
			}
			if (pass == 0) {
				struct ifitem it = ifs.v[i];
				it.not = true;
				VPUSH(pr.ifs, it);
			}
			if (dyn) {
				struct lj_pf_addr a = {.type = LJ_PF_A_DYN, .prefix = 128};
				snprintf(a.name, sizeof(a.name), "%s", ifs.v[i].name);
				if (pass == 0)
					a.dynflags = LJ_PF_DYN_NETWORK;
				VPUSH(pr.src, a);
			} else {
				char spec[64];
				snprintf(spec, sizeof(spec), "%s%s", ifs.v[i].name,
				         pass == 0 ? ":network" : "");
				host_if(spec, -1, &pr.src);
			}
			if (pr.src.n) {
				int af = pr.r.af;
				decide_af(&pr.src, &af);
				pr.r.af = af;
				if (expand_rule(p, &pr, line) < 0)
					rc = -1;
			}
			prule_free(&pr);
		}
	}
out:
	free(ifs.v);
	free(label);
	return rc;
}

static void verbose(struct parser *p, const char *fmt, ...) LJ_PRINTF(2, 3);
static void verbose(struct parser *p, const char *fmt, ...)
{
	if (!p->o->verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	lj_buf_vaddf(&p->c->verbose, fmt, ap);
	va_end(ap);
}

static const char *const limit_names[] = {"states",  "src-nodes",   "frags", "table-entries",
                                          "anchors", "eth-anchors", NULL};

static int parse_set(struct parser *p)
{
	next(p);
	struct lj_pf_tok *t = next(p);
	if (is_kw(t, "skip")) {
		struct ifv ifs = {0};
		if (expect_kw(p, "on") < 0 || parse_ifspec(p, &ifs) < 0) {
			free(ifs.v);
			return -1;
		}
		if (peek(p)->type != LJ_PF_T_NL && peek(p)->type != LJ_PF_T_EOF) {
			free(ifs.v);
			return syntax(p);
		}
		if (ifs.n == 1 && strcmp(ifs.v[0].name, "none") == 0) {
			free(ifs.v);
			lj_strv_free(&p->c->skip);
			return 0;
		}
		verbose(p, "set skip on {");
		for (int i = 0; i < ifs.n; i++) {
			verbose(p, " %s", ifs.v[i].name);
			if (ifs.v[i].not ) {
				perr(p, t->line, "skip on ! <interface> is not supported");
				free(ifs.v);
				return -1;
			}
			if (!lj_strv_contains(&p->c->skip, ifs.v[i].name))
				lj_strv_add(&p->c->skip, ifs.v[i].name);
		}
		verbose(p, " }\n");
		free(ifs.v);
		return 0;
	}
	if (is_kw(t, "state-policy")) {
		bool ib = accept_kw(p, "if-bound");
		if (!ib && expect_kw(p, "floating") < 0)
			return -1;
		if (peek(p)->type != LJ_PF_T_NL && peek(p)->type != LJ_PF_T_EOF)
			return syntax(p);
		verbose(p, "set state-policy %s\n", ib ? "if-bound" : "floating");
		p->c->ifbound_policy = ib;
		return 0;
	}
	if (is_kw(t, "require-order")) {
		struct lj_pf_tok *v = next(p);
		if (strcmp(v->s ? v->s : "", "yes") != 0 && !is_kw(v, "no"))
			return syntax(p);
		verbose(p, "set require-order %s\n", v->s);
		p->require_order = strcmp(v->s, "yes") == 0;
		return 0;
	}
	/* the rest are order-checked options; parse fully first */
	lj_buf out = {0};
	int rc = -1;
	if (is_kw(t, "optimization")) {
		static const char *const opts[] = {"normal",       "high-latency", "satellite",
		                                   "conservative", "aggressive",   NULL};
		struct lj_pf_tok *v = next(p);
		bool ok = false;
		for (int i = 0; is_string(v) && opts[i]; i++)
			ok |= strcmp(opts[i], v->s) == 0;
		if (!ok) {
			if (is_string(v))
				perr(p, v->line, "unknown optimization %s", v->s);
			else
				syntax(p);
			goto out;
		}
		lj_buf_addf(&out, "set optimization %s\n", v->s);
	} else if (is_kw(t, "timeout") || is_kw(t, "limit")) {
		bool list = accept_ch(p, '{');
		bool timeout = is_kw(t, "timeout");
		do {
			skip_nl(p);
			if (list && accept_ch(p, '}'))
				break;
			if (timeout) {
				unsigned tm[LJ_PF_NTIMEOUTS] = {0};
				struct lj_pf_tok *nt = peek(p);
				int i = parse_timeout_item(p, tm);
				if (i < 0)
					goto out;
				p->c->timeouts[i] = tm[i];
				(void)nt;
				lj_buf_addf(&out, "set timeout %s %u\n", lj_pf_timeout_names[i],
				            tm[i]);
			} else {
				struct lj_pf_tok *n = next(p);
				struct lj_pf_tok *v = next(p);
				if (!is_string(n) || v->type != LJ_PF_T_NUMBER || v->num < 0) {
					syntax(p);
					goto out;
				}
				bool ok = false;
				for (int i = 0; limit_names[i]; i++)
					ok |= strcmp(limit_names[i], n->s) == 0;
				if (!ok) {
					perr(p, n->line, "unknown limit %s", n->s);
					goto out;
				}
				if (strcmp(n->s, "states") == 0)
					p->c->limit_states = (unsigned)v->num;
				lj_buf_addf(&out, "set limit %s %lld\n", n->s, v->num);
			}
			if (list)
				accept_ch(p, ',');
		} while (list);
	} else if (is_kw(t, "loginterface")) {
		struct lj_pf_tok *v = next(p);
		if (!is_string(v))
			return syntax(p);
		lj_buf_addf(&out, "set loginterface %s\n", v->s);
	} else if (is_kw(t, "hostid")) {
		struct lj_pf_tok *v = next(p);
		uint64_t id;
		if (v->type != LJ_PF_T_NUMBER && !is_string(v)) {
			syntax(p);
			goto out;
		}
		if (!lj_parse_u64(v->s, &id) || id > 0xffffffffu) {
			perr(p, v->line, "%s is not a number", v->s);
			goto out;
		}
		if (id == 0) {
			perr(p, v->line, "hostid must be non-zero");
			goto out;
		}
		lj_buf_addf(&out, "set hostid 0x%08x\n", (unsigned)id);
	} else if (is_kw(t, "block-policy")) {
		if (accept_kw(p, "drop")) {
			p->c->block_policy = LJ_PF_B_DROP;
			lj_buf_adds(&out, "set block-policy drop\n");
		} else if (accept_kw(p, "return")) {
			p->c->block_policy = LJ_PF_B_RETURN;
			lj_buf_adds(&out, "set block-policy return\n");
		} else {
			syntax(p);
			goto out;
		}
	} else if (is_kw(t, "debug") || is_kw(t, "ruleset-optimization")) {
		struct lj_pf_tok *v = next(p);
		if (!is_string(v)) {
			syntax(p);
			goto out;
		}
		if (is_kw(t, "ruleset-optimization")) {
			if (strcmp(v->s, "none") == 0)
				p->c->ruleset_optimization = 1;
			else if (strcmp(v->s, "basic") == 0 || strcmp(v->s, "profile") == 0)
				p->c->ruleset_optimization = 2;
			else {
				perr(p, v->line, "unknown optimization %s", v->s);
				goto out;
			}
		}
		lj_buf_addf(&out, "set %s %s\n", t->s, v->s);
	} else if (is_kw(t, "keepcounters")) {
		lj_buf_adds(&out, "set keepcounters\n");
	} else {
		if (t->type == LJ_PF_T_KEYWORD || is_string(t))
			perr(p, t->line, "'set %s' is not supported by ljail's pf", t->s);
		else
			syntax(p);
		goto out;
	}
	if (peek(p)->type != LJ_PF_T_NL && peek(p)->type != LJ_PF_T_EOF) {
		syntax(p);
		goto out;
	}
	if (check_rulestate(p, ST_OPTION) < 0)
		goto out;
	verbose(p, "%s", lj_buf_str(&out));
	rc = 0;
out:
	lj_buf_free(&out);
	return rc;
}

void lj_pf_table_entry_print(lj_buf *b, const struct lj_pf_addr *a)
{
	lj_buf_adds(b, a->neg ? " !" : " ");
	/* The rule printer's "any" for a /0 is no table entry: the table grammar (FreeBSD's too)
	 * does not read it back. */
	if (a->type == LJ_PF_A_ADDR && a->prefix == 0 && (a->af == AF_INET || a->af == AF_INET6)) {
		lj_buf_adds(b, a->af == AF_INET ? "0.0.0.0/0" : "::/0");
		return;
	}
	lj_pf_print_addr(b, a, a->af);
}

static int parse_table(struct parser *p)
{
	next(p);
	if (expect_ch(p, '<') < 0)
		return -1;
	struct lj_pf_tok *n = next(p);
	if (!is_string(n))
		return syntax(p);
	if (expect_ch(p, '>') < 0)
		return -1;
	if (strlen(n->s) >= 32) {
		perr(p, n->line, "table name too long");
		return -1;
	}
	struct lj_pf_table tb = {0};
	snprintf(tb.name, sizeof(tb.name), "%s", n->s);
	lj_buf body = {0};
	bool any_init = false, open_brace = false;
	int rc = -1;
	for (;;) {
		struct lj_pf_tok *t = peek(p);
		if (t->type == LJ_PF_T_NL || t->type == LJ_PF_T_EOF)
			break;
		next(p);
		if (is_string(t) && strcmp(t->s, "const") == 0)
			tb.is_const = true;
		else if (is_string(t) && strcmp(t->s, "persist") == 0)
			tb.persist = true;
		else if (is_string(t) && strcmp(t->s, "counters") == 0)
			tb.counters = true;
		else if (is_kw(t, "file")) {
			struct lj_pf_tok *f = next(p);
			if (!is_string(f)) {
				syntax(p);
				goto out;
			}
			lj_err e;
			struct lj_pf_addr *fa = NULL;
			int fn = 0;
			if (lj_pf_read_table_file(f->s, &fa, &fn, &e) < 0) {
				lj_buf_addf(&p->c->errors, "%s\n", e.msg);
				perr(p, f->line, "cannot load \"%s\"", f->s);
				goto out;
			}
			for (int i = 0; i < fn; i++) {
				tb.addrs = xrealloc(tb.addrs, sizeof(*tb.addrs) * (tb.naddrs + 1));
				tb.addrs[tb.naddrs++] = fa[i];
			}
			free(fa);
			if (open_brace)
				lj_buf_adds(&body, " }");
			open_brace = false;
			lj_buf_addf(&body, " file \"%s\"", f->s);
			any_init = true;
		} else if (is_ch(t, '{')) {
			struct hostv hv = {0};
			skip_nl(p);
			while (!is_ch(peek(p), '}')) {
				if (is_ch(peek(p), LJ_PF_T_EOF) || is_ch(peek(p), LJ_PF_T_NL)) {
					syntax(p);
					free(hv.v);
					goto out;
				}
				if (parse_host(p, &hv) < 0) {
					free(hv.v);
					goto out;
				}
				skip_comma(p);
			}
			next(p);
			for (int i = 0; i < hv.n; i++) {
				if (hv.v[i].type != LJ_PF_A_ADDR) {
					perr(p, t->line, "unsupported address type in table");
					free(hv.v);
					goto out;
				}
			}
			any_init = true;
			if (hv.n) {
				if (!open_brace)
					lj_buf_adds(&body, " {");
				open_brace = true;
				for (int i = 0; i < hv.n; i++) {
					lj_pf_table_entry_print(&body, &hv.v[i]);
					tb.addrs = xrealloc(tb.addrs,
					                    sizeof(*tb.addrs) * (tb.naddrs + 1));
					tb.addrs[tb.naddrs++] = hv.v[i];
				}
			}
			free(hv.v);
		} else {
			if (is_string(t))
				perr(p, t->line, "invalid table option '%s'", t->s);
			else
				syntax(p);
			goto out;
		}
	}
	if (open_brace)
		lj_buf_adds(&body, " }");
	lj_buf line = {0};
	lj_buf_addf(&line, "table <%s>%s%s%s%s", tb.name, tb.is_const ? " const" : "",
	            tb.persist ? " persist" : "", tb.counters ? " counters" : "",
	            lj_buf_str(&body));
	if (any_init && body.len == 0)
		lj_buf_adds(&line, " { }");
	for (int i = 0; i < p->c->ntables; i++)
		if (strcmp(p->c->tables[i].name, tb.name) == 0) {
			perr(p, n->line, "table <%s> redefined", tb.name);
			lj_buf_free(&line);
			goto out;
		}
	verbose(p, "%s\n", lj_buf_str(&line));
	tb.printed = lj_buf_steal(&line);
	p->c->tables = xrealloc(p->c->tables, sizeof(*p->c->tables) * (p->c->ntables + 1));
	p->c->tables[p->c->ntables++] = tb;
	memset(&tb, 0, sizeof(tb));
	rc = 0;
out:
	free(tb.addrs);
	lj_buf_free(&body);
	return rc;
}

static int parse_include(struct parser *p)
{
	next(p);
	struct lj_pf_tok *f = next(p);
	if (!is_string(f))
		return syntax(p);
	if (peek(p)->type != LJ_PF_T_NL && peek(p)->type != LJ_PF_T_EOF)
		return syntax(p);
	char *text = NULL;
	size_t len;
	lj_err e;
	if (lj_read_file(f->s, &text, &len, &e) < 0) {
		lj_buf_addf(&p->c->errors, "%s\n", e.msg);
		perr(p, f->line, "failed to include file %s", f->s);
		return -1;
	}
	lj_pf_lex_push_file(&p->lx, f->s, text);
	return 0;
}

static int parse_macro(struct parser *p)
{
	struct lj_pf_tok *n = next(p);
	next(p); /* = */
	lj_buf v = {0};
	int count = 0;
	for (;;) {
		struct lj_pf_tok *t = peek(p);
		if (t->type == LJ_PF_T_NL || t->type == LJ_PF_T_EOF)
			break;
		if (t->type != LJ_PF_T_STRING && t->type != LJ_PF_T_NUMBER) {
			lj_buf_free(&v);
			return syntax(p);
		}
		next(p);
		if (count++)
			lj_buf_addc(&v, ' ');
		lj_buf_adds(&v, t->s);
	}
	if (!count) {
		lj_buf_free(&v);
		return syntax(p);
	}
	for (const char *c = n->s; *c; c++)
		if (isspace((unsigned char)*c)) {
			perr(p, n->line, "macro name cannot contain whitespace");
			lj_buf_free(&v);
			return -1;
		}
	verbose(p, "%s = \"%s\"\n", n->s, lj_buf_str(&v));
	lj_pf_macro_set(&p->lx, n->s, lj_buf_str(&v), false);
	lj_buf_free(&v);
	return 0;
}

static int parse_statement(struct parser *p)
{
	struct lj_pf_tok *t = peek(p);
	if (t->type == LJ_PF_T_NL || t->type == LJ_PF_T_EOF)
		return 0;
	if (t->type == LJ_PF_T_STRING && !t->quoted && p->n > 1 && p->toks[1].type == '=')
		return parse_macro(p);
	if (t->type != LJ_PF_T_KEYWORD)
		return syntax(p);
	if (is_kw(t, "include"))
		return parse_include(p);
	if (is_kw(t, "set"))
		return parse_set(p);
	if (is_kw(t, "table"))
		return parse_table(p);
	if (is_kw(t, "pass") || is_kw(t, "block"))
		return parse_filter_rule(p);
	if (is_kw(t, "antispoof"))
		return parse_antispoof(p);
	if (is_kw(t, "nat") || is_kw(t, "rdr") || is_kw(t, "binat") ||
	    (is_kw(t, "no") && p->n > 1 &&
	     (is_kw(&p->toks[1], "nat") || is_kw(&p->toks[1], "rdr") ||
	      is_kw(&p->toks[1], "binat"))))
		return parse_nat_rule(p);
	static const char *const unsupported[] = {
	        "scrub", "match", "anchor", "nat-anchor", "rdr-anchor", "binat-anchor",
	        "altq",  "queue", "ether",  "load",       NULL};
	for (int i = 0; unsupported[i]; i++)
		if (is_kw(t, unsupported[i])) {
			perr(p, t->line, "'%s' is not supported by ljail's pf", t->s);
			return -1;
		}
	return syntax(p);
}

static void free_toks(struct parser *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->toks[i].s);
	p->n = 0;
	p->i = 0;
}

static int rule_order(const void *a, const void *b)
{
	static const int rank[] = {
	        [LJ_PF_K_NAT] = 0, [LJ_PF_K_RDR] = 1, [LJ_PF_K_BINAT] = 2, [LJ_PF_K_FILTER] = 3};
	const struct lj_pf_rule *x = a, *y = b;
	if (rank[x->kind] != rank[y->kind])
		return rank[x->kind] - rank[y->kind];
	return x->nr - y->nr;
}

static int parse_all(struct parser *p)
{
	int cap = 0;
	for (;;) {
		/* read one statement: up to a newline outside braces */
		int depth = 0;
		bool error = false, eof = false;
		for (;;) {
			if (p->n == cap) {
				cap = cap ? cap * 2 : 64;
				p->toks = xrealloc(p->toks, sizeof(*p->toks) * cap);
			}
			struct lj_pf_tok *t = &p->toks[p->n];
			if (p->n == 0) {
				free(p->stmt_file);
				p->stmt_file = p->lx.src ? xstrdup(p->lx.src->name) : NULL;
			}
			lj_pf_lex(&p->lx, t);
			if (t->type == LJ_PF_T_ERROR) {
				free(t->s);
				error = true;
				break;
			}
			p->n++;
			if (t->type == '{')
				depth++;
			else if (t->type == '}' && depth > 0)
				depth--;
			if (t->type == LJ_PF_T_EOF) {
				eof = true;
				break;
			}
			if (t->type == LJ_PF_T_NL && depth == 0)
				break;
		}
		if (!error && p->n > 0) {
			p->failed = false;
			if (parse_statement(p) < 0 && !p->failed)
				syntax(p);
		}
		free_toks(p);
		if (eof)
			break;
	}
	free(p->toks);
	free(p->stmt_file);
	p->stmt_file = NULL;
	if (p->c->nrules > 1)
		qsort(p->c->rules, p->c->nrules, sizeof(*p->c->rules), rule_order);
	return p->c->nerrors ? -1 : 0;
}

static int parse_buffer(const char *name, const char *text, const struct lj_pf_parse_opts *o,
                        struct lj_pf_conf *conf)
{
	static const struct lj_pf_parse_opts defaults = {0};
	memset(conf, 0, sizeof(*conf));
	struct parser p = {.c = conf, .o = o ? o : &defaults, .require_order = true};
	p.lx.errors = &conf->errors;
	p.lx.nerrors = &conf->nerrors;
	for (const char *const *d = p.o->defines; d && *d; d++) {
		const char *eq = strchr(*d, '=');
		if (!eq)
			continue;
		char *n = xstrndup(*d, (size_t)(eq - *d));
		lj_pf_macro_set(&p.lx, n, eq + 1, true);
		free(n);
	}
	lj_pf_lex_push_file(&p.lx, name, xstrdup(text));
	int rc = parse_all(&p);
	for (int i = 0; i < p.lx.nmacros; i++) {
		free(p.lx.macros[i].name);
		free(p.lx.macros[i].value);
	}
	free(p.lx.macros);
	free(p.lx.last_name);
	lj_pf_lex_free(&p.lx);
	return rc;
}

int lj_pf_parse_buffer(const char *name, const char *text, const struct lj_pf_parse_opts *o,
                       struct lj_pf_conf *conf)
{
	lj_pf_ifcache_hold();
	int rc = parse_buffer(name, text, o, conf);
	lj_pf_ifcache_release();
	return rc;
}

int lj_pf_parse_file(const char *path, const struct lj_pf_parse_opts *o, struct lj_pf_conf *conf)
{
	char *text = NULL;
	size_t len;
	lj_err e;
	if (lj_read_file(path, &text, &len, &e) < 0) {
		memset(conf, 0, sizeof(*conf));
		lj_buf_addf(&conf->errors, "%s\n", e.msg);
		conf->nerrors = 1;
		return -1;
	}
	int rc = lj_pf_parse_buffer(strcmp(path, "-") == 0 ? "stdin" : path, text, o, conf);
	free(text);
	return rc;
}

void lj_pf_conf_free(struct lj_pf_conf *c)
{
	lj_buf_free(&c->verbose);
	lj_buf_free(&c->errors);
	for (int i = 0; i < c->nrules; i++) {
		for (int l = 0; l < c->rules[i].nlabels; l++)
			free(c->rules[i].label[l]);
		free(c->rules[i].pool);
	}
	free(c->rules);
	for (int i = 0; i < c->ntables; i++) {
		free(c->tables[i].printed);
		free(c->tables[i].addrs);
	}
	free(c->tables);
	lj_strv_free(&c->skip);
	memset(c, 0, sizeof(*c));
}

/* ---- table entries (files, pfctl -T) ------------------------------------------------------------
 */

int lj_pf_table_entry(const char *s, struct lj_pf_addr **out, int *n, lj_err *e)
{
	bool neg = false;
	if (*s == '!') {
		neg = true;
		s++;
	}
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	int mask = -1;
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!lj_parse_int(slash + 1, &mask) || mask < 0 || mask > 128)
			return lj_errorx(e, "invalid netmask in %s", s);
	}
	struct hostv hv = {0};
	if (host_if(buf, mask, &hv) <= 0) {
		struct lj_pf_addr a;
		if (lj_pf_parse_addr(buf, mask, &a) == 0)
			VPUSH(hv, a);
		else if (hosts_lookup(buf, &hv) > 0) {
			for (int i = 0; i < hv.n; i++)
				addr_set_mask(&hv.v[i], mask);
		} else {
			free(hv.v);
			return lj_errorx(e, "no IP address found for %s", s);
		}
	}
	for (int i = 0; i < hv.n; i++) {
		hv.v[i].neg = neg;
		*out = xrealloc(*out, sizeof(**out) * (*n + 1));
		(*out)[(*n)++] = hv.v[i];
	}
	free(hv.v);
	return 0;
}

int lj_pf_read_table_file(const char *path, struct lj_pf_addr **out, int *n, lj_err *e)
{
	char *text = NULL;
	size_t len;
	if (lj_read_file(path, &text, &len, e) < 0)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c = strpbrk(l, "#;");
		if (c)
			*c = '\0';
		char *ws = NULL;
		for (char *w = strtok_r(l, " \t\r", &ws); w; w = strtok_r(NULL, " \t\r", &ws))
			if (lj_pf_table_entry(w, out, n, e) < 0) {
				rc = -1;
				goto done;
			}
	}
done:
	free(text);
	return rc;
}
