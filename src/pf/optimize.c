/* pfctl's basic ruleset optimizer (-o basic, the default), as FreeBSD's pfctl_optimize.c
 * describes it: split the filter rules into superblocks of adjacent rules whose order does not
 * matter (same action, quick, log, state...), drop rules another rule of the superblock already
 * covers, and reorder each superblock so rules sharing interface, direction, family, protocol,
 * addresses or ports sit together. The meaning of the ruleset never changes; FreeBSD prints (and
 * the tutorial shows) the reordered list. Combining addresses into generated tables is not done. */
#include <ctype.h>
#include <sys/socket.h>

#include "pf/pf_int.h"

static bool addr_eq(const struct lj_pf_addr *a, const struct lj_pf_addr *b, bool with_neg)
{
	return a->type == b->type && a->af == b->af && a->prefix == b->prefix &&
	       memcmp(a->a, b->a, 16) == 0 && memcmp(a->b, b->b, 16) == 0 &&
	       a->dynflags == b->dynflags && strcmp(a->name, b->name) == 0 &&
	       (!with_neg || a->neg == b->neg);
}

static bool port_eq(const struct lj_pf_port *a, const struct lj_pf_port *b)
{
	return a->op == b->op && a->p1 == b->p1 && a->p2 == b->p2;
}

/* Fields that put a rule in a superblock of its own (FreeBSD's BARRIER). */
static bool barrier(const struct lj_pf_rule *r)
{
	return r->nlabels > 0 || r->max_states > 0;
}

/* The fields that must be equal between rules of one superblock (BREAK and unlisted fields). */
static bool break_eq(const struct lj_pf_rule *a, const struct lj_pf_rule *b)
{
	return a->kind == b->kind && a->action == b->action && a->block == b->block &&
	       a->return_ttl == b->return_ttl && a->log == b->log && a->logif == b->logif &&
	       a->quick == b->quick && a->keep == b->keep && a->allow_opts == b->allow_opts &&
	       a->nosync == b->nosync && a->ifbound == b->ifbound && a->sloppy == b->sloppy &&
	       a->max_states == b->max_states && a->nlabels == b->nlabels;
}

/* Whole-rule equality with the NOMERGE fields compared too (FreeBSD's comparable_rule(DC)). */
static bool rule_eq(const struct lj_pf_rule *a, const struct lj_pf_rule *b)
{
	if (!break_eq(a, b) || a->af != b->af || a->ifnot != b->ifnot ||
	    strcmp(a->ifname, b->ifname) != 0 || a->ret_icmp != b->ret_icmp ||
	    a->ret_icmp6 != b->ret_icmp6 || a->dir != b->dir || a->proto != b->proto ||
	    a->icmp_type != b->icmp_type || a->icmp_code != b->icmp_code || a->flags != b->flags ||
	    a->flagset != b->flagset || !port_eq(&a->sport, &b->sport) ||
	    !port_eq(&a->dport, &b->dport) || !addr_eq(&a->src, &b->src, true) ||
	    !addr_eq(&a->dst, &b->dst, true))
		return false;
	for (int i = 0; i < LJ_PF_NTIMEOUTS; i++)
		if (a->timeout[i] != b->timeout[i])
			return false;
	for (int i = 0; i < a->nlabels; i++)
		if (strcmp(a->label[i], b->label[i]) != 0)
			return false;
	return true;
}

/* Interface groups (names not ending in a digit) may hold any interface: a hard break. */
static bool ifgroup(const char *n)
{
	size_t l = strlen(n);
	return l && !isdigit((unsigned char)n[l - 1]);
}

static bool inclusive(const struct lj_pf_rule *first, const struct lj_pf_rule *r)
{
	if (barrier(r) || barrier(first))
		return false;
	if ((ifgroup(r->ifname) || ifgroup(first->ifname)) && strcmp(r->ifname, first->ifname) != 0)
		return false;
	return break_eq(first, r);
}

static bool addr_any(const struct lj_pf_addr *a)
{
	return a->type == LJ_PF_A_ADDR && a->prefix == 0;
}

static bool addr_within(const struct lj_pf_addr *super, const struct lj_pf_addr *sub)
{
	if (super->type != LJ_PF_A_ADDR || sub->type != LJ_PF_A_ADDR || super->neg != sub->neg ||
	    super->af != sub->af || super->prefix >= sub->prefix)
		return false;
	uint8_t m[16];
	memcpy(m, sub->a, 16);
	lj_pf_mask_addr(m, sub->af, super->prefix);
	return memcmp(m, super->a, 16) == 0;
}

/* FreeBSD's exclude_supersets: widen sub wherever super is a wildcard. */
static void exclude_supersets(const struct lj_pf_rule *super, struct lj_pf_rule *sub)
{
	if (!super->ifname[0])
		memset(sub->ifname, 0, sizeof(sub->ifname));
	if (super->dir == 0)
		sub->dir = 0;
	if ((super->proto == 0 || super->proto == sub->proto) && !super->flags && !super->flagset &&
	    (sub->flags || sub->flagset)) {
		sub->flags = super->flags;
		sub->flagset = super->flagset;
	}
	if (super->proto == 0)
		sub->proto = 0;
	if (super->sport.op == LJ_PF_OP_NONE)
		memset(&sub->sport, 0, sizeof(sub->sport));
	if (super->dport.op == LJ_PF_OP_NONE)
		memset(&sub->dport, 0, sizeof(sub->dport));
	if (addr_any(&super->src) && !super->src.neg && !sub->src.neg) {
		bool neg = sub->src.neg;
		memset(&sub->src, 0, sizeof(sub->src));
		sub->src.neg = neg;
	} else if (addr_within(&super->src, &sub->src))
		sub->src = super->src;
	if (addr_any(&super->dst) && !super->dst.neg && !sub->dst.neg) {
		bool neg = sub->dst.neg;
		memset(&sub->dst, 0, sizeof(sub->dst));
		sub->dst.neg = neg;
	} else if (addr_within(&super->dst, &sub->dst))
		sub->dst = super->dst;
	if (super->af == 0)
		sub->af = 0;
}

static void normalise_any(struct lj_pf_rule *r)
{
	if (addr_any(&r->src)) {
		bool neg = r->src.neg;
		memset(&r->src, 0, sizeof(r->src));
		r->src.neg = neg;
	}
	if (addr_any(&r->dst)) {
		bool neg = r->dst.neg;
		memset(&r->dst, 0, sizeof(r->dst));
		r->dst.neg = neg;
	}
}

/* Pass 1: drop rules that another rule of the superblock covers. */
static void remove_identical(const struct lj_pf_rule *R, int *ids, int *n)
{
	for (int i = 0; i < *n; i++) {
		for (int j = i + 1; j < *n; j++) {
			struct lj_pf_rule a = R[ids[i]], b = R[ids[j]];
			normalise_any(&a);
			normalise_any(&b);
			struct lj_pf_rule a2 = a, b2 = b;
			exclude_supersets(&a, &b);
			exclude_supersets(&b2, &a2);
			if (rule_eq(&a, &b)) {
				memmove(&ids[j], &ids[j + 1], sizeof(int) * (size_t)(*n - j - 1));
				(*n)--;
				j--;
			} else if (rule_eq(&a2, &b2)) {
				memmove(&ids[i], &ids[i + 1], sizeof(int) * (size_t)(*n - i - 1));
				(*n)--;
				i--;
				break;
			}
		}
	}
}

/* ---- pass 3: reorder for skip steps ------------------------------------------------------------
 */

enum { SK_IFP, SK_DIR, SK_AF, SK_PROTO, SK_SADDR, SK_SPORT, SK_DADDR, SK_DPORT, SK_COUNT };

static int cmp_addr(const struct lj_pf_addr *a, const struct lj_pf_addr *b)
{
	if (a->neg != b->neg || a->type != b->type)
		return 1;
	switch (a->type) {
	case LJ_PF_A_ADDR: {
		static const uint8_t zero[16];
		if (a->af != b->af || a->prefix != b->prefix || memcmp(a->a, b->a, 16) != 0 ||
		    memcmp(a->a, zero, 16) == 0)
			return 1;
		return 0;
	}
	case LJ_PF_A_DYN:
		return strcmp(a->name, b->name) != 0 || a->dynflags != b->dynflags ||
		       a->prefix != b->prefix;
	case LJ_PF_A_NOROUTE:
	case LJ_PF_A_URPF:
		return 0;
	case LJ_PF_A_TABLE:
		return strcmp(a->name, b->name) != 0;
	}
	return 1;
}

static int cmp_port(const struct lj_pf_port *a, const struct lj_pf_port *b)
{
	return a->op == LJ_PF_OP_NONE || !port_eq(a, b);
}

static int skip_cmp(int field, const struct lj_pf_rule *a, const struct lj_pf_rule *b)
{
	switch (field) {
	case SK_IFP:
		if (strcmp(a->ifname, b->ifname) != 0 || !a->ifname[0])
			return 1;
		return a->ifnot != b->ifnot;
	case SK_DIR:
		return a->dir == 0 || a->dir != b->dir;
	case SK_AF:
		return a->af != b->af || a->af == 0;
	case SK_PROTO:
		return a->proto != b->proto || a->proto == 0;
	case SK_SADDR:
		return cmp_addr(&a->src, &b->src);
	case SK_SPORT:
		return cmp_port(&a->sport, &b->sport);
	case SK_DADDR:
		return cmp_addr(&a->dst, &b->dst);
	default:
		return cmp_port(&a->dport, &b->dport);
	}
}

struct sklist {
	int *r; /* member rules, in order */
	int nr;
	int count;
};

struct field {
	struct sklist **l; /* ordered, as FreeBSD's TAILQ of skip lists */
	int n;
};

static void field_remove_at(struct field *f, int pos)
{
	memmove(&f->l[pos], &f->l[pos + 1], sizeof(*f->l) * (size_t)(f->n - pos - 1));
	f->n--;
}

static void list_remove_rule(struct sklist *l, int id)
{
	for (int i = 0; i < l->nr; i++)
		if (l->r[i] == id) {
			memmove(&l->r[i], &l->r[i + 1], sizeof(int) * (size_t)(l->nr - i - 1));
			l->nr--;
			return;
		}
}

static bool list_has(const struct sklist *l, int id)
{
	for (int i = 0; i < l->nr; i++)
		if (l->r[i] == id)
			return true;
	return false;
}

static void remove_from_skipsteps(struct field *f, int id, const struct sklist *active)
{
	for (int i = 0; i < SK_COUNT; i++) {
		if (!f[i].n || f[i].l[0] == active || f[i].l[0]->count <= 1)
			continue;
		for (int pos = 0; pos < f[i].n; pos++) {
			struct sklist *sk = f[i].l[pos];
			if (!list_has(sk, id))
				continue;
			list_remove_rule(sk, id);
			sk->count--;
			while (pos + 1 < f[i].n && f[i].l[pos + 1]->count > sk->count) {
				f[i].l[pos] = f[i].l[pos + 1];
				f[i].l[pos + 1] = sk;
				pos++;
			}
			break;
		}
	}
}

static void push(int **v, int *n, int id)
{
	*v = xrealloc(*v, sizeof(int) * (size_t)(*n + 1));
	(*v)[(*n)++] = id;
}

static void reorder(const struct lj_pf_rule *R, const int *in, int n, int **out, int *nout)
{
	struct field f[SK_COUNT] = {{0}};
	for (int i = 0; i < SK_COUNT; i++)
		for (int k = 0; k < n; k++) {
			int id = in[k], pos;
			for (pos = 0; pos < f[i].n; pos++)
				if (skip_cmp(i, &R[id], &R[f[i].l[pos]->r[0]]) == 0)
					break;
			if (pos == f[i].n) {
				f[i].l = xrealloc(f[i].l, sizeof(*f[i].l) * (size_t)(f[i].n + 1));
				f[i].l[f[i].n++] = xcalloc(1, sizeof(struct sklist));
			}
			struct sklist *l = f[i].l[pos];
			push(&l->r, &l->nr, id);
			l->count++;
			while (pos > 0 && f[i].l[pos - 1]->count < l->count) {
				f[i].l[pos] = f[i].l[pos - 1];
				f[i].l[pos - 1] = l;
				pos--;
			}
		}
	int largest = 0;
	for (int i = 0; i < SK_COUNT; i++) {
		struct sklist *l = f[i].l[0];
		if (l->count == n || l->count == 1)
			l->count = 0;
		else if (l->count > largest)
			largest = l->count;
	}
	int *head = NULL, nhead = 0, *fin = NULL, nfin = 0;
	if (largest == 0) {
		for (int k = 0; k < n; k++)
			push(&fin, &nfin, in[k]);
		goto done;
	}
	for (int k = 0; k < n; k++)
		push(&head, &nhead, in[k]);
	while (nhead) {
		int best = -1;
		largest = 1;
		for (int i = 0; i < SK_COUNT; i++)
			if (f[i].n && f[i].l[0]->count > largest) {
				largest = f[i].l[0]->count;
				best = i;
			}
		if (best < 0) {
			for (int k = 0; k < nhead; k++)
				push(&fin, &nfin, head[k]);
			nhead = 0;
			break;
		}
		struct sklist *l = f[best].l[0];
		field_remove_at(&f[best], 0);
		bool split = l->count > 2;
		int *nb = NULL, nnb = 0;
		while (l->nr) {
			int id = l->r[0];
			for (int k = 0; k < nhead; k++)
				if (head[k] == id) {
					memmove(&head[k], &head[k + 1],
					        sizeof(int) * (size_t)(nhead - k - 1));
					nhead--;
					break;
				}
			list_remove_rule(l, id);
			if (split)
				push(&nb, &nnb, id);
			else
				push(&fin, &nfin, id);
			remove_from_skipsteps(f, id, l);
		}
		free(l->r);
		free(l);
		if (split) {
			/* the split-off block goes before this one, refined on its own */
			int *sub = NULL, nsub = 0;
			reorder(R, nb, nnb, &sub, &nsub);
			for (int k = 0; k < nsub; k++)
				push(out, nout, sub[k]);
			free(sub);
			free(nb);
		}
	}
done:
	for (int k = 0; k < nfin; k++)
		push(out, nout, fin[k]);
	free(fin);
	free(head);
	for (int i = 0; i < SK_COUNT; i++) {
		for (int j = 0; j < f[i].n; j++) {
			free(f[i].l[j]->r);
			free(f[i].l[j]);
		}
		free(f[i].l);
	}
}

void lj_pf_optimize(struct lj_pf_conf *c)
{
	int first = 0;
	while (first < c->nrules && c->rules[first].kind != LJ_PF_K_FILTER)
		first++;
	int n = c->nrules - first;
	if (n < 2)
		return;
	const struct lj_pf_rule *R = c->rules;
	int *order = NULL, norder = 0;
	bool *kept = xcalloc((size_t)c->nrules, sizeof(bool));
	for (int s = first; s < c->nrules;) {
		int e = s + 1;
		while (e < c->nrules && inclusive(&R[s], &R[e]))
			e++;
		int *ids = xmalloc(sizeof(int) * (size_t)(e - s)), nids = e - s;
		for (int k = 0; k < nids; k++)
			ids[k] = s + k;
		if (nids > 1) {
			remove_identical(R, ids, &nids);
			int *sorted = NULL, ns = 0;
			reorder(R, ids, nids, &sorted, &ns);
			for (int k = 0; k < ns; k++)
				push(&order, &norder, sorted[k]);
			free(sorted);
		} else
			push(&order, &norder, ids[0]);
		free(ids);
		s = e;
	}
	struct lj_pf_rule *nr = xmalloc(sizeof(*nr) * (size_t)(first + norder));
	memcpy(nr, c->rules, sizeof(*nr) * (size_t)first);
	for (int k = 0; k < norder; k++) {
		nr[first + k] = c->rules[order[k]];
		nr[first + k].nr = k;
		kept[order[k]] = true;
	}
	for (int i = first; i < c->nrules; i++)
		if (!kept[i]) {
			for (int l = 0; l < c->rules[i].nlabels; l++)
				free(c->rules[i].label[l]);
			free(c->rules[i].pool);
		}
	free(c->rules);
	c->rules = nr;
	c->nrules = first + norder;
	free(order);
	free(kept);
}
