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

/* A rule matching one host source and one destination port. Two such rules can only cover each
 * other when both fields are equal: exclude_supersets widens only wildcards and shorter prefixes.
 * Pass 1 uses this to skip pairs that cannot match, which keeps it near linear for the long
 * expanded lists of a large ruleset while doing exactly FreeBSD's pairwise walk otherwise. */
static bool tame(const struct lj_pf_rule *r)
{
	const struct lj_pf_addr *a = &r->src;
	return r->dport.op != LJ_PF_OP_NONE && a->type == LJ_PF_A_ADDR &&
	       ((a->af == AF_INET && a->prefix == 32) || (a->af == AF_INET6 && a->prefix == 128));
}

static int tame_cmp(const void *x, const void *y, void *arg)
{
	const struct lj_pf_rule *R = ((void **)arg)[0];
	const int *ids = ((void **)arg)[1];
	int i = *(const int *)x, j = *(const int *)y;
	const struct lj_pf_rule *a = &R[ids[i]], *b = &R[ids[j]];
	const struct lj_pf_port *pa = &a->dport, *pb = &b->dport;
	if (pa->op != pb->op)
		return pa->op < pb->op ? -1 : 1;
	if (pa->p1 != pb->p1)
		return pa->p1 < pb->p1 ? -1 : 1;
	if (pa->p2 != pb->p2)
		return pa->p2 < pb->p2 ? -1 : 1;
	const struct lj_pf_addr *sa = &a->src, *sb = &b->src;
	if (sa->af != sb->af)
		return sa->af < sb->af ? -1 : 1;
	if (sa->neg != sb->neg)
		return sa->neg ? 1 : -1;
	if (sa->dynflags != sb->dynflags)
		return sa->dynflags < sb->dynflags ? -1 : 1;
	int c = memcmp(sa->a, sb->a, 16);
	if (!c)
		c = memcmp(sa->b, sb->b, 16);
	if (!c)
		c = strcmp(sa->name, sb->name);
	if (c)
		return c;
	return i < j ? -1 : i > j;
}

static bool same_key(const struct lj_pf_rule *a, const struct lj_pf_rule *b)
{
	return port_eq(&a->dport, &b->dport) && addr_eq(&a->src, &b->src, true);
}

/* Pass 1: drop rules that another rule of the superblock covers (FreeBSD's order: each rule
 * against every later one; the later one goes when the first covers it, else the first goes when
 * the later covers it). */
static void remove_identical(const struct lj_pf_rule *R, int *ids, int *n)
{
	int N = *n;
	bool *gone = xcalloc((size_t)N, sizeof(bool));
	int *ord = xmalloc(sizeof(int) * (size_t)N), nord = 0;
	int *nextsame = xmalloc(sizeof(int) * (size_t)N),
	    *nextwild = xmalloc(sizeof(int) * (size_t)N);
	for (int p = 0; p < N; p++) {
		nextsame[p] = -1;
		if (tame(&R[ids[p]]))
			ord[nord++] = p;
	}
	const void *arg[2] = {R, ids};
	qsort_r(ord, (size_t)nord, sizeof(int), tame_cmp, arg);
	for (int k = 0; k + 1 < nord; k++)
		if (same_key(&R[ids[ord[k]]], &R[ids[ord[k + 1]]]))
			nextsame[ord[k]] = ord[k + 1];
	for (int p = N - 1, nw = -1; p >= 0; p--) {
		nextwild[p] = nw;
		if (!tame(&R[ids[p]]))
			nw = p;
	}
	for (int i = 0; i < N; i++) {
		if (gone[i])
			continue;
		bool wild = !tame(&R[ids[i]]);
		int s = nextsame[i], w = nextwild[i];
		for (int j = i + 1;; j++) {
			if (!wild) { /* the next later rule of the same key or a wild one */
				if (s < 0 && w < 0)
					break;
				if (w < 0 || (s >= 0 && s < w)) {
					j = s;
					s = nextsame[s];
				} else {
					j = w;
					w = nextwild[w];
				}
			} else if (j >= N)
				break;
			if (gone[j])
				continue;
			struct lj_pf_rule a = R[ids[i]], b = R[ids[j]];
			normalise_any(&a);
			normalise_any(&b);
			struct lj_pf_rule a2 = a, b2 = b;
			exclude_supersets(&a, &b);
			exclude_supersets(&b2, &a2);
			if (rule_eq(&a, &b))
				gone[j] = true;
			else if (rule_eq(&a2, &b2)) {
				gone[i] = true;
				break;
			}
		}
	}
	int m = 0;
	for (int p = 0; p < N; p++)
		if (!gone[p])
			ids[m++] = ids[p];
	*n = m;
	free(gone);
	free(ord);
	free(nextsame);
	free(nextwild);
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

/* The value skip_cmp compares, as bytes: two rules share a skip list exactly when neither is a
 * wildcard for the field and their keys are equal. Lets reorder find a rule's list by sorting
 * instead of comparing it with every list made so far. */
struct skkey {
	int type, neg, af, prefix, dynflags, op;
	unsigned p1, p2;
	uint8_t a[16];
	char name[64];
};

static bool skip_key(int field, const struct lj_pf_rule *r, struct skkey *k)
{
	memset(k, 0, sizeof(*k));
	if (skip_cmp(field, r, r))
		return false; /* a wildcard never shares a list */
	const struct lj_pf_addr *a = NULL;
	const struct lj_pf_port *p = NULL;
	switch (field) {
	case SK_IFP:
		snprintf(k->name, sizeof(k->name), "%s", r->ifname);
		k->neg = r->ifnot;
		return true;
	case SK_DIR:
		k->op = r->dir;
		return true;
	case SK_AF:
		k->af = r->af;
		return true;
	case SK_PROTO:
		k->op = r->proto;
		return true;
	case SK_SADDR:
		a = &r->src;
		break;
	case SK_DADDR:
		a = &r->dst;
		break;
	case SK_SPORT:
		p = &r->sport;
		break;
	default:
		p = &r->dport;
	}
	if (p) {
		k->op = p->op;
		k->p1 = p->p1;
		k->p2 = p->p2;
		return true;
	}
	k->type = a->type;
	k->neg = a->neg;
	switch (a->type) {
	case LJ_PF_A_ADDR:
		k->af = a->af;
		k->prefix = a->prefix;
		memcpy(k->a, a->a, 16);
		break;
	case LJ_PF_A_DYN:
		k->dynflags = a->dynflags;
		k->prefix = a->prefix;
		/* fall through */
	case LJ_PF_A_TABLE:
		snprintf(k->name, sizeof(k->name), "%s", a->name);
		break;
	}
	return true;
}

struct kent {
	struct skkey key;
	int k;
};

static int kent_cmp(const void *x, const void *y)
{
	const struct kent *a = x, *b = y;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));
	return c ? c : (a->k > b->k) - (a->k < b->k);
}

struct sklist {
	int *r; /* member rules, in order */
	int nr;
	int count;
	int pos; /* index in its field's list, -1 once taken out */
};

struct field {
	struct sklist **l; /* ordered, as FreeBSD's TAILQ of skip lists (l[0] the head) */
	int n;
	struct sklist **mem;   /* l points into it: taking the head out moves l */
	struct sklist **owner; /* per input index: the list holding that rule (NULL once removed) */
};

/* A list's place in its field (pos counts from mem, so taking the head out costs nothing). */
static int field_index(const struct field *f, const struct sklist *l)
{
	return l->pos - (int)(f->l - f->mem);
}

static void field_swap(struct field *f, int p, int q)
{
	struct sklist *t = f->l[p];
	int base = (int)(f->l - f->mem);
	f->l[p] = f->l[q];
	f->l[q] = t;
	f->l[p]->pos = base + p;
	f->l[q]->pos = base + q;
}

static void field_remove_head(struct field *f)
{
	f->l[0]->pos = -1;
	f->l++;
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

/* in[] sorted by rule id, to find a rule's input index (ids repeat only in odd inputs, which
 * take the plain scan). */
struct idk {
	int id, k;
};

static int idk_cmp(const void *x, const void *y)
{
	const struct idk *a = x, *b = y;
	return a->id != b->id ? (a->id > b->id) - (a->id < b->id) : (a->k > b->k) - (a->k < b->k);
}

static int input_index(const struct idk *by, int n, int id)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (by[mid].id == id)
			return by[mid].k;
		if (by[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static void remove_from_skipsteps(struct field *f, int id, const struct sklist *active, int k)
{
	for (int i = 0; i < SK_COUNT; i++) {
		if (!f[i].n || f[i].l[0] == active || f[i].l[0]->count <= 1)
			continue;
		int pos = -1;
		if (k >= 0) { /* the one list that holds it, if still in the field */
			struct sklist *o = f[i].owner[k];
			if (o && o->pos >= 0 && list_has(o, id))
				pos = field_index(&f[i], o);
		} else
			for (int q = 0; q < f[i].n && pos < 0; q++)
				if (list_has(f[i].l[q], id))
					pos = q;
		if (pos < 0)
			continue;
		struct sklist *sk = f[i].l[pos];
		list_remove_rule(sk, id);
		if (k >= 0)
			f[i].owner[k] = NULL;
		sk->count--;
		while (pos + 1 < f[i].n && f[i].l[pos + 1]->count > sk->count) {
			field_swap(&f[i], pos, pos + 1);
			pos++;
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
	struct kent *ke = xmalloc(sizeof(*ke) * (size_t)n);
	struct sklist **cls = xmalloc(sizeof(*cls) * (size_t)n);
	for (int i = 0; i < SK_COUNT; i++) {
		f[i].owner = xcalloc((size_t)n, sizeof(*f[i].owner));
		/* equal keys share the list of their first rule */
		int nk = 0;
		for (int k = 0; k < n; k++) {
			cls[k] = NULL;
			if (skip_key(i, &R[in[k]], &ke[nk].key))
				ke[nk++].k = k;
		}
		qsort(ke, (size_t)nk, sizeof(*ke), kent_cmp);
		int *first = xmalloc(sizeof(int) * (size_t)n);
		for (int k = 0; k < n; k++)
			first[k] = k;
		for (int q = 1; q < nk; q++)
			if (memcmp(&ke[q].key, &ke[q - 1].key, sizeof(ke[q].key)) == 0)
				first[ke[q].k] = first[ke[q - 1].k];
		for (int k = 0; k < n; k++) {
			int id = in[k], pos;
			struct sklist *l = cls[first[k]];
			if (!l) {
				f[i].mem = xrealloc(f[i].mem,
				                    sizeof(*f[i].mem) * (size_t)(f[i].n + 1));
				f[i].l = f[i].mem;
				l = xcalloc(1, sizeof(struct sklist));
				l->pos = f[i].n;
				f[i].l[f[i].n++] = l;
				cls[first[k]] = l;
			}
			f[i].owner[k] = l;
			pos = field_index(&f[i], l);
			push(&l->r, &l->nr, id);
			l->count++;
			while (pos > 0 && f[i].l[pos - 1]->count < l->count) {
				field_swap(&f[i], pos, pos - 1);
				pos--;
			}
		}
		free(first);
	}
	free(ke);
	free(cls);
	struct idk *by = xmalloc(sizeof(*by) * (size_t)n);
	for (int k = 0; k < n; k++)
		by[k] = (struct idk){in[k], k};
	qsort(by, (size_t)n, sizeof(*by), idk_cmp);
	bool dups = false;
	for (int k = 1; k < n; k++)
		dups |= by[k].id == by[k - 1].id;
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
		field_remove_head(&f[best]);
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
			remove_from_skipsteps(f, id, l, dups ? -1 : input_index(by, n, id));
		}
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
	free(by);
	for (int i = 0; i < SK_COUNT; i++) {
		int total = (int)(f[i].l - f[i].mem) + f[i].n;
		for (int j = 0; j < total; j++) {
			free(f[i].mem[j]->r);
			free(f[i].mem[j]);
		}
		free(f[i].mem);
		free(f[i].owner);
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
