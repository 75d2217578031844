/* conf/conf.c: from parsed blocks to final jails — FreeBSD's load_config() and add_param():
 * the merge of global and wildcard blocks in file order, the implicit name/jid, variable
 * substitution after the merge; plus the small public helpers and jail -e's printer. */
#include "conf/conf-internal.h"

#include <errno.h>

/* Parameters jail(8) knows by name (its intparams[]): a variable may not be called like one. */
static const char *const known_names[] = {
        "allow.dying",
        "command",
        "depend",
        "exec.clean",
        "exec.consolelog",
        "exec.fib",
        "exec.jail_user",
        "exec.poststart",
        "exec.poststop",
        "exec.prepare",
        "exec.prestart",
        "exec.prestop",
        "exec.release",
        "exec.created",
        "exec.start",
        "exec.stop",
        "exec.system_jail_user",
        "exec.system_user",
        "exec.timeout",
        "interface",
        "ip_hostname",
        "mount",
        "mount.devfs",
        "mount.fdescfs",
        "mount.procfs",
        "mount.fstab",
        "stop.timeout",
        "vnet.interface",
        "zfs.dataset",
        "allow.chflags",
        "allow.mount",
        "allow.raw_sockets",
        "allow.set_hostname",
        "allow.socket_af",
        "allow.sysvipc",
        "devfs_ruleset",
        "host.hostname",
        "ip4.addr",
        "ip6.addr",
        "jid",
        "name",
        "path",
        "persist",
        "securelevel",
        "vnet",
};

/* "opt" = "noopt", also in the last component: allow.mount = allow.nomount. */
static bool equalopts(const char *o1, const char *o2)
{
	const char *p;
	if (strcmp(o1, o2) == 0)
		return true;
	if (strncmp(o1, "no", 2) == 0 && strcmp(o1 + 2, o2) == 0)
		return true;
	if (strncmp(o2, "no", 2) == 0 && strcmp(o1, o2 + 2) == 0)
		return true;
	while ((p = strchr(o1, '.')) != NULL && strncmp(o1, o2, (size_t)(++p - o1)) == 0) {
		o2 += p - o1;
		o1 = p;
		if (strncmp(o1, "no", 2) == 0 && strcmp(o1 + 2, o2) == 0)
			return true;
		if (strncmp(o2, "no", 2) == 0 && strcmp(o1, o2 + 2) == 0)
			return true;
	}
	return false;
}

/* A name with a component that is exactly "*". */
static bool wild_jail_name(const char *w)
{
	for (const char *c = strchr(w, '*'); c; c = strchr(c + 1, '*'))
		if ((c == w || c[-1] == '.') && (c[1] == '\0' || c[1] == '.'))
			return true;
	return false;
}

/* A non-final "*" matches one component, a final "*" one or more. */
static bool wild_jail_match(const char *jname, const char *wname)
{
	const char *jc, *jd, *wc, *wd;
	for (jc = jname, wc = wname; (jd = strchr(jc, '.')) && (wd = strchr(wc, '.'));
	     jc = jd + 1, wc = wd + 1)
		if (strncmp(jc, wc, (size_t)(jd - jc + 1)) && strncmp(wc, "*.", 2))
			return false;
	return strcmp(jc, wc) == 0 || strcmp(wc, "*") == 0;
}

/* ---- freeing ----------------------------------------------------------------------------- */

static void pstr_clear(struct pstr *s)
{
	free(s->s);
	for (size_t i = s->first; i < s->nvars; i++)
		free(s->vars[i].name);
	free(s->vars);
	memset(s, 0, sizeof *s);
}

static void pparam_clear_vals(struct pparam *p)
{
	for (size_t i = 0; i < p->nvals; i++)
		pstr_clear(&p->vals[i]);
	p->nvals = 0;
}

void pparam_free(struct pparam *p)
{
	if (!p)
		return;
	pparam_clear_vals(p);
	free(p->vals);
	free(p->name);
	free(p);
}

void pjail_free(struct pjail *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nparams; i++)
		pparam_free(j->params[i]);
	free(j->params);
	free(j->name);
	free(j->error);
	free(j);
}

static void pconf_free(struct pconf *pc)
{
	for (size_t i = 0; i < pc->njails; i++)
		pjail_free(pc->jails[i]);
	free(pc->jails);
	lj_strv_free(&pc->files);
	memset(pc, 0, sizeof *pc);
}

static void jail_fail(struct pjail *j, const char *fmt, ...) LJ_PRINTF(2, 3);
static void jail_fail(struct pjail *j, const char *fmt, ...)
{
	if (j->error)
		return;
	va_list ap;
	va_start(ap, fmt);
	lj_buf b = {0};
	lj_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	j->error = lj_buf_steal(&b);
}

/* ---- the merge (add_param) --------------------------------------------------------------- */

static void pstr_copy(struct pstr *d, const struct pstr *s)
{
	free(d->s); /* the empty string pparam_newval() put there */
	memset(d, 0, sizeof *d);
	d->s = xstrdup(s->s);
	d->len = strlen(d->s);
	for (size_t i = s->first; i < s->nvars; i++) {
		if (d->nvars == d->capvars) {
			d->capvars = d->capvars ? d->capvars * 2 : 4;
			d->vars = xrealloc(d->vars, d->capvars * sizeof *d->vars);
		}
		d->vars[d->nvars].name = xstrdup(s->vars[i].name);
		d->vars[d->nvars].pos = s->vars[i].pos;
		d->nvars++;
	}
}

static struct pparam *find_param(struct pjail *j, const char *name)
{
	for (size_t i = 0; i < j->nparams; i++)
		if (equalopts(j->params[i]->name, name))
			return j->params[i];
	return NULL;
}

/* Add `src` (its values copied) to j as FreeBSD's add_param does. `implicit` marks the name
 * or jid a block's name implies. */
static void add_param(struct pjail *j, const char *name, unsigned flags, const struct pstr *vals,
                      size_t nvals, const char *file, int line, bool implicit)
{
	struct pparam *dp = find_param(j, name);
	if (dp) {
		if ((flags ^ dp->flags) & PF_VAR) {
			jail_fail(j, "variable \"$%s\" cannot have the same name as a parameter.",
			          name);
			return;
		}
		if (dp->flags & PF_IMMUTABLE) {
			jail_fail(j, "cannot redefine parameter \"%s\".", dp->name);
			return;
		}
		if (strcmp(dp->name, name) != 0) {
			free(dp->name);
			dp->name = xstrdup(name);
		}
		if (!(flags & PF_APPEND) || nvals == 0)
			pparam_clear_vals(dp);
		for (size_t i = 0; i < nvals; i++)
			pstr_copy(pparam_newval(dp), &vals[i]);
		dp->flags |= flags;
		dp->file = file;
		dp->line = line;
		return;
	}
	struct pparam *np = xcalloc(1, sizeof *np);
	np->name = xstrdup(name);
	np->flags = flags;
	np->file = file;
	np->line = line;
	for (size_t i = 0; i < nvals; i++)
		pstr_copy(pparam_newval(np), &vals[i]);
	if (j->nparams == j->capparams) {
		j->capparams = j->capparams ? j->capparams * 2 : 8;
		j->params = xrealloc(j->params, j->capparams * sizeof *j->params);
	}
	j->params[j->nparams++] = np;
	if (implicit) {
		np->flags |= PF_IMMUTABLE;
		return;
	}
	for (size_t i = 0; i < LJ_ARRAY_LEN(known_names); i++) {
		if (!equalopts(name, known_names[i]))
			continue;
		if (flags & PF_VAR) {
			jail_fail(j, "variable \"$%s\" cannot have the same name as a parameter.",
			          name);
			return;
		}
		if (strcmp(known_names[i], "name") == 0 || strcmp(known_names[i], "jid") == 0)
			np->flags |= PF_IMMUTABLE;
		break;
	}
}

static void add_simple(struct pjail *j, const char *name, const char *value, const char *file,
                       int line, bool implicit)
{
	struct pstr s = {.s = (char *)value, .len = value ? strlen(value) : 0};
	add_param(j, name, PF_APPEND, value ? &s : NULL, value ? 1 : 0, file, line, implicit);
}

static bool numeric_name(const char *name)
{
	char *ep;
	errno = 0;
	long v = strtol(name, &ep, 10);
	return v != 0 && !*ep;
}

/* ---- variable substitution ---------------------------------------------------------------- */

static void pstr_insert_at(struct pparam *p, size_t at, const char *s)
{
	free(pparam_newval(p)->s); /* grow by one, then shift */
	memmove(&p->vals[at + 1], &p->vals[at], (p->nvals - 1 - at) * sizeof *p->vals);
	memset(&p->vals[at], 0, sizeof p->vals[at]);
	p->vals[at].s = xstrdup(s);
	p->vals[at].len = strlen(s);
}

static void substitute(struct pjail *j)
{
	int pgen = 0;
	for (size_t i = 0; i < j->nparams; i++) {
		struct pparam *p = j->params[i];
		p->gen = ++pgen;
	find_vars:
		for (size_t si = 0; si < p->nvals; si++) {
			struct pstr *s = &p->vals[si];
			while (s->first < s->nvars) {
				struct pvar *v = &s->vars[s->first];
				struct pparam *vp = NULL;
				size_t vi = 0;
				for (vi = 0; vi < j->nparams; vi++)
					if (strcmp(j->params[vi]->name, v->name) == 0) {
						vp = j->params[vi];
						break;
					}
				if (!vp || vp->nvals == 0) {
					jail_fail(j, "%s: variable \"%s\" not found", p->name,
					          v->name);
					goto bad_var;
				}
				if (vp->flags & PF_BAD)
					goto bad_var;
				if (vp->gen == pgen) {
					jail_fail(j, "%s: variable loop", v->name);
					goto bad_var;
				}
				/* a variable that itself needs substituting goes first */
				for (size_t k = 0; k < vp->nvals; k++) {
					if (vp->vals[k].first < vp->vals[k].nvars) {
						if (vi < i) { /* cannot happen: those are done */
							jail_fail(j, "%s: variable loop", v->name);
							goto bad_var;
						}
						vp->gen = pgen;
						memmove(&j->params[i + 1], &j->params[i],
						        (vi - i) * sizeof *j->params);
						j->params[i] = vp;
						p = vp;
						goto find_vars;
					}
				}
				if (vp->nvals > 1 && (s->s[0] != '\0' || s->first + 1 < s->nvars)) {
					jail_fail(j, "%s: array cannot be substituted inline",
					          p->name);
					goto bad_var;
				}
				/* splice the first value in, the others become strings after it */
				{
					const char *val = vp->vals[0].s;
					size_t vlen = strlen(val);
					s->s = xrealloc(s->s, s->len + vlen + 1);
					memmove(s->s + v->pos + vlen, s->s + v->pos,
					        s->len - v->pos + 1);
					memcpy(s->s + v->pos, val, vlen);
					for (size_t k = s->first + 1; k < s->nvars; k++)
						s->vars[k].pos += vlen;
					s->len += vlen;
					for (size_t k = 1; k < vp->nvals; k++) {
						pstr_insert_at(p, si + k, vp->vals[k].s);
						s = &p->vals[si]; /* vals may have moved */
					}
				}
				goto free_var;
			bad_var:
				for (size_t k = 0; k < j->nparams; k++)
					if (j->params[k]->gen == pgen)
						j->params[k]->flags |= PF_BAD;
			free_var:
				s = &p->vals[si];
				free(s->vars[s->first].name);
				s->vars[s->first].name = NULL;
				s->first++;
			}
		}
	}
}

/* ---- load: parse, then merge every non-wildcard jail ------------------------------------- */

static void to_public(struct jc_conf *c, struct pjail *j)
{
	c->jails = xrealloc(c->jails, (c->njails + 1) * sizeof *c->jails);
	struct jc_jail *o = &c->jails[c->njails++];
	memset(o, 0, sizeof *o);
	o->name = xstrdup(j->name ? j->name : "");
	o->file = j->file;
	o->line = j->line;
	o->error = j->error;
	j->error = NULL;
	for (size_t i = 0; i < j->nparams; i++) {
		struct pparam *p = j->params[i];
		if (p->flags & PF_VAR)
			continue;
		o->params = xrealloc(o->params, (o->nparams + 1) * sizeof *o->params);
		struct jc_param *q = &o->params[o->nparams++];
		memset(q, 0, sizeof *q);
		q->name = xstrdup(p->name);
		for (size_t k = 0; k < p->nvals; k++)
			lj_strv_add(&q->values, p->vals[k].s);
		q->has_value = p->nvals > 0;
		q->file = p->file;
		q->line = p->line;
	}
}

static void merge(struct jc_conf *c, struct pconf *pc)
{
	for (size_t i = 0; i < pc->njails; i++)
		pc->jails[i]->seq = (int)i + 1;
	for (size_t ji = 0; ji < pc->njails; ji++) {
		struct pjail *blk = pc->jails[ji];
		if (wild_jail_name(blk->name))
			continue;
		struct pjail out = {.name = blk->name, .file = blk->file, .line = blk->line};
		add_simple(&out, numeric_name(blk->name) ? "jid" : "name", blk->name, blk->file,
		           blk->line, true);
		bool did_self = false;
		for (size_t wi = 0; wi < pc->njails; wi++) {
			struct pjail *w = pc->jails[wi];
			if (!wild_jail_name(w->name))
				continue;
			if (blk->seq < w->seq && !did_self) {
				for (size_t k = 0; k < blk->nparams; k++) {
					struct pparam *p = blk->params[k];
					add_param(&out, p->name, p->flags, p->vals, p->nvals,
					          p->file, p->line, false);
				}
				did_self = true;
			}
			if (wild_jail_match(blk->name, w->name))
				for (size_t k = 0; k < w->nparams; k++) {
					struct pparam *p = w->params[k];
					add_param(&out, p->name, p->flags, p->vals, p->nvals,
					          p->file, p->line, false);
				}
		}
		if (!did_self)
			for (size_t k = 0; k < blk->nparams; k++) {
				struct pparam *p = blk->params[k];
				add_param(&out, p->name, p->flags, p->vals, p->nvals, p->file,
				          p->line, false);
			}
		/* a numeric block still gets its name, so ${name} works (FreeBSD 15) */
		bool has_name = false;
		for (size_t k = 0; k < out.nparams; k++)
			if (!(out.params[k]->flags & PF_VAR) &&
			    equalopts(out.params[k]->name, "name"))
				has_name = true;
		if (!has_name)
			add_simple(&out, "name", blk->name, blk->file, blk->line, true);
		substitute(&out);
		to_public(c, &out);
		out.name = NULL; /* borrowed from blk */
		for (size_t k = 0; k < out.nparams; k++)
			pparam_free(out.params[k]);
		free(out.params);
		free(out.error);
	}
	c->files = pc->files;
	memset(&pc->files, 0, sizeof pc->files);
}

static int load(struct jc_conf *c, const char *name, const char *text, size_t len, bool is_file,
                lj_err *e)
{
	memset(c, 0, sizeof *c);
	struct pconf pc = {0};
	if (pconf_parse(&pc, name, text, len, is_file, e) < 0) {
		pconf_free(&pc);
		return -1;
	}
	merge(c, &pc);
	pconf_free(&pc);
	return 0;
}

int jc_load_file(struct jc_conf *c, const char *path, lj_err *e)
{
	if (strcmp(path, "-") == 0) {
		char *text;
		size_t len;
		memset(c, 0, sizeof *c);
		if (lj_read_file("-", &text, &len, e) < 0)
			return -1;
		int rc = load(c, "STDIN", text, len, false, e);
		free(text);
		return rc;
	}
	return load(c, path, NULL, 0, true, e);
}

int jc_load_string(struct jc_conf *c, const char *name, const char *text, size_t len, lj_err *e)
{
	return load(c, name, text, len, false, e);
}

/* ---- a jail from command-line words (jail(8) mode 3) ------------------------------------- */

static const char *const cl_list_params[] = {"ip4.addr", "ip6.addr", "vnet.interface",
                                             "zfs.dataset"};

int jc_from_args(struct jc_conf *c, int argc, char **argv, lj_err *e)
{
	struct pjail j = {0};
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (strncmp(w, "command", 7) == 0 && (w[7] == '\0' || w[7] == '=')) {
			if (w[7] == '=')
				add_simple(&j, "command", w + 8, NULL, 0, false);
			for (i++; i < argc; i++)
				add_simple(&j, "command", argv[i], NULL, 0, false);
			break;
		}
		bool listed = false;
		for (size_t l = 0; l < LJ_ARRAY_LEN(cl_list_params); l++) {
			size_t n = strlen(cl_list_params[l]);
			if (strncmp(w, cl_list_params[l], n) != 0 || w[n] != '=')
				continue;
			lj_autofree char *copy = xstrdup(w + n + 1);
			char *cs = copy, *ncs;
			for (;; cs = ncs + 1) {
				ncs = strchr(cs, ',');
				if (ncs)
					*ncs = '\0';
				add_simple(&j, cl_list_params[l], cs, NULL, 0, false);
				if (!ncs)
					break;
			}
			listed = true;
			break;
		}
		if (listed)
			continue;
		const char *eq = strchr(w, '=');
		if (eq) {
			lj_autofree char *name = xstrndup(w, (size_t)(eq - w));
			add_simple(&j, name, eq + 1, NULL, 0, false);
		} else {
			add_simple(&j, w, NULL, NULL, 0, false);
		}
	}
	int rc = 0;
	if (j.error) {
		rc = lj_errorx(e, "%s", j.error);
	} else {
		/* messages name a command-line jail by its name (or jid) parameter */
		const char *nm = NULL;
		struct pparam *p = find_param(&j, "name");
		if (p && p->nvals)
			nm = p->vals[p->nvals - 1].s;
		else if ((p = find_param(&j, "jid")) && p->nvals)
			nm = p->vals[p->nvals - 1].s;
		j.name = xstrdup(nm ? nm : "");
		to_public(c, &j);
	}
	for (size_t k = 0; k < j.nparams; k++)
		pparam_free(j.params[k]);
	free(j.params);
	free(j.name);
	free(j.error);
	return rc;
}

/* ---- the public helpers ------------------------------------------------------------------ */

static void jail_free(struct jc_jail *j)
{
	for (size_t i = 0; i < j->nparams; i++) {
		free(j->params[i].name);
		lj_strv_free(&j->params[i].values);
	}
	free(j->params);
	free(j->name);
	free(j->error);
}

void jc_free(struct jc_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->njails; i++)
		jail_free(&c->jails[i]);
	free(c->jails);
	lj_strv_free(&c->files);
	memset(c, 0, sizeof *c);
}

const struct jc_param *jc_find(const struct jc_jail *j, const char *name)
{
	for (size_t i = 0; i < j->nparams; i++)
		if (equalopts(j->params[i].name, name))
			return &j->params[i];
	return NULL;
}

void jc_set(struct jc_jail *j, const char *name, const char *value, bool replace)
{
	struct jc_param *p = (struct jc_param *)jc_find(j, name);
	if (!p) {
		j->params = xrealloc(j->params, (j->nparams + 1) * sizeof *j->params);
		p = &j->params[j->nparams++];
		memset(p, 0, sizeof *p);
		p->name = xstrdup(name);
	} else if (strcmp(p->name, name) != 0) {
		free(p->name);
		p->name = xstrdup(name);
	}
	if (replace || !value) {
		lj_strv_free(&p->values);
		memset(&p->values, 0, sizeof p->values);
	}
	if (value)
		lj_strv_add(&p->values, value);
	p->has_value = p->values.n > 0;
}

struct jc_jail *jc_find_jail(const struct jc_conf *c, const char *name)
{
	for (size_t i = 0; i < c->njails; i++)
		if (strcmp(c->jails[i].name, name) == 0)
			return &c->jails[i];
	return NULL;
}

bool jc_is_wild(const char *pattern)
{
	return wild_jail_name(pattern);
}

bool jc_match(const char *name, const char *pattern)
{
	return wild_jail_match(name, pattern);
}

bool jc_bool(const struct jc_jail *j, const char *name, bool dflt)
{
	const struct jc_param *p = jc_find(j, name);
	if (!p)
		return dflt;
	const char *cs = strrchr(p->name, '.');
	bool neg = strncmp(cs ? cs + 1 : p->name, "no", 2) == 0;
	bool val = true;
	if (p->values.n) {
		const char *v = p->values.v[p->values.n - 1];
		val = strcasecmp(v, "true") == 0 || strtol(v, NULL, 10) != 0;
	}
	return neg ^ val;
}

const char *jc_str(const struct jc_jail *j, const char *name)
{
	const struct jc_param *p = jc_find(j, name);
	return p && p->values.n ? p->values.v[p->values.n - 1] : NULL;
}

void jc_quote(lj_buf *out, const char *value)
{
	char qc = !*value                                     ? '"'
	          : strchr(value, '\'')                       ? '"'
	          : strchr(value, '"')                        ? '\''
	          : strchr(value, ' ') || strchr(value, '\t') ? '"'
	                                                      : 0;
	if (qc)
		lj_buf_addc(out, qc);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == qc)
			lj_buf_addc(out, '\\');
		lj_buf_addc(out, *p);
	}
	if (qc)
		lj_buf_addc(out, qc);
	if (!out->s)
		lj_buf_add(out, "", 0);
}

void jc_print_e(FILE *out, const struct jc_conf *c, const char *sep)
{
	lj_buf b = {0};
	for (size_t i = 0; i < c->njails; i++) {
		const struct jc_jail *j = &c->jails[i];
		lj_buf_reset(&b);
		bool first = true;
		for (size_t k = 0; k < j->nparams; k++) {
			const struct jc_param *p = &j->params[k];
			if (strcmp(p->name, "jid") == 0)
				continue;
			if (!first)
				lj_buf_adds(&b, sep);
			first = false;
			lj_buf_adds(&b, p->name);
			if (!p->values.n)
				continue;
			lj_buf_addc(&b, '=');
			for (size_t v = 0; v < p->values.n; v++) {
				if (v)
					lj_buf_addc(&b, ',');
				jc_quote(&b, p->values.v[v]);
			}
		}
		lj_buf_addc(&b, '\n');
		fwrite(b.s, 1, b.len, out);
	}
	lj_buf_free(&b);
}
