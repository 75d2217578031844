/* The normalised printer: pfctl's print_rule field order and formats. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "pf/pf_int.h"

static bool addr_zero(const uint8_t *a)
{
	for (int i = 0; i < 16; i++)
		if (a[i])
			return false;
	return true;
}

void lj_pf_print_addr(lj_buf *b, const struct lj_pf_addr *a, int af)
{
	char buf[INET6_ADDRSTRLEN];
	int full = af == AF_INET ? 32 : 128;
	switch (a->type) {
	case LJ_PF_A_DYN: {
		lj_buf_addf(b, "(%s", a->name);
		if (a->dynflags & LJ_PF_DYN_NETWORK)
			lj_buf_adds(b, ":network");
		if (a->dynflags & LJ_PF_DYN_BROADCAST)
			lj_buf_adds(b, ":broadcast");
		if (a->dynflags & LJ_PF_DYN_PEER)
			lj_buf_adds(b, ":peer");
		if (a->dynflags & LJ_PF_DYN_NOALIAS)
			lj_buf_adds(b, ":0");
		lj_buf_adds(b, ")");
		int bits = a->prefix > full ? full : a->prefix;
		if (bits != full)
			lj_buf_addf(b, "/%d", bits);
		return;
	}
	case LJ_PF_A_TABLE:
		lj_buf_addf(b, "<%s>", a->name);
		return;
	case LJ_PF_A_NOROUTE:
		lj_buf_adds(b, "no-route");
		return;
	case LJ_PF_A_URPF:
		lj_buf_adds(b, "urpf-failed");
		return;
	case LJ_PF_A_RANGE:
		inet_ntop(a->af, a->a, buf, sizeof(buf));
		lj_buf_addf(b, "%s - ", buf);
		inet_ntop(a->af, a->b, buf, sizeof(buf));
		lj_buf_adds(b, buf);
		return;
	}
	if (a->af == 0 || (addr_zero(a->a) && a->prefix == 0)) {
		lj_buf_adds(b, "any");
		return;
	}
	inet_ntop(a->af, a->a, buf, sizeof(buf));
	lj_buf_adds(b, buf);
	int afull = a->af == AF_INET ? 32 : 128;
	if (a->prefix != afull)
		lj_buf_addf(b, "/%d", a->prefix);
}

static void print_op(lj_buf *b, int op, const char *a1, const char *a2)
{
	switch (op) {
	case LJ_PF_OP_IRG:
		lj_buf_addf(b, " %s >< %s", a1, a2);
		break;
	case LJ_PF_OP_XRG:
		lj_buf_addf(b, " %s <> %s", a1, a2);
		break;
	case LJ_PF_OP_EQ:
		lj_buf_addf(b, " = %s", a1);
		break;
	case LJ_PF_OP_NE:
		lj_buf_addf(b, " != %s", a1);
		break;
	case LJ_PF_OP_LT:
		lj_buf_addf(b, " < %s", a1);
		break;
	case LJ_PF_OP_LE:
		lj_buf_addf(b, " <= %s", a1);
		break;
	case LJ_PF_OP_GT:
		lj_buf_addf(b, " > %s", a1);
		break;
	case LJ_PF_OP_GE:
		lj_buf_addf(b, " >= %s", a1);
		break;
	case LJ_PF_OP_RRG:
		lj_buf_addf(b, " %s:%s", a1, a2);
		break;
	}
}

static void print_port(lj_buf *b, const struct lj_pf_port *p, int proto, bool numeric)
{
	const char *name = NULL;
	if (!numeric)
		name = lj_pf_service_name((int)p->p1, proto == IPPROTO_UDP ? "udp" : "tcp");
	char a1[12], a2[12];
	snprintf(a1, sizeof(a1), "%u", p->p1);
	snprintf(a2, sizeof(a2), "%u", p->p2);
	lj_buf_adds(b, " port");
	if (name && (p->op == LJ_PF_OP_EQ || p->op == LJ_PF_OP_NE))
		print_op(b, p->op, name, a2);
	else
		print_op(b, p->op, a1, a2);
}

static bool is_any(const struct lj_pf_addr *a)
{
	return a->type == LJ_PF_A_ADDR && (a->af == 0 || (addr_zero(a->a) && a->prefix == 0));
}

static void print_flags(lj_buf *b, uint8_t f)
{
	static const char letters[] = "FSRPAUEW";
	for (int i = 0; i < 8; i++)
		if (f & (1 << i))
			lj_buf_addc(b, letters[i]);
}

static void print_pool(lj_buf *b, const struct lj_pf_rule *r)
{
	if (r->npool == 1)
		lj_pf_print_addr(b, &r->pool[0], r->af);
	else {
		lj_buf_adds(b, "{ ");
		for (int i = 0; i < r->npool; i++) {
			if (i)
				lj_buf_adds(b, ", ");
			lj_pf_print_addr(b, &r->pool[i], r->af);
		}
		lj_buf_adds(b, " }");
	}
	unsigned p1 = r->pport1, p2 = r->pport2;
	if (r->kind == LJ_PF_K_NAT) {
		if ((p1 != 50001 || p2 != 65535) && (p1 != 0 || p2 != 0)) {
			if (p1 == p2)
				lj_buf_addf(b, " port %u", p1);
			else
				lj_buf_addf(b, " port %u:%u", p1, p2);
		}
	} else if (r->kind == LJ_PF_K_RDR && p1) {
		lj_buf_addf(b, " port %u", p1);
		if (p2 && p2 != p1)
			lj_buf_addf(b, ":%u", p2);
	}
	switch (r->pool_type) {
	case LJ_PF_POOL_BITMASK:
		lj_buf_adds(b, " bitmask");
		break;
	case LJ_PF_POOL_RANDOM:
		lj_buf_adds(b, " random");
		break;
	case LJ_PF_POOL_RR:
		lj_buf_adds(b, " round-robin");
		break;
	}
	if (r->sticky)
		lj_buf_adds(b, " sticky-address");
	if (r->kind == LJ_PF_K_NAT && p1 == 0 && p2 == 0)
		lj_buf_adds(b, " static-port");
}

static void print_icmpcode(lj_buf *b, int code, int af)
{
	const char *n = lj_pf_icmp_code_name(af == AF_INET6 ? 1 : 3, code, af);
	if (n)
		lj_buf_adds(b, n);
	else
		lj_buf_addf(b, "%d", code);
}

void lj_pf_print_rule(lj_buf *b, const struct lj_pf_rule *r, int flags)
{
	bool numeric = flags & LJ_PF_PRINT_NUMERIC;
	if (flags & LJ_PF_PRINT_VV)
		lj_buf_addf(b, "@%d ", r->nr);
	switch (r->kind) {
	case LJ_PF_K_FILTER:
		lj_buf_adds(b, r->action == LJ_PF_PASS ? "pass" : "block");
		break;
	case LJ_PF_K_NAT:
		lj_buf_adds(b, r->no ? "no nat" : "nat");
		break;
	case LJ_PF_K_RDR:
		lj_buf_adds(b, r->no ? "no rdr" : "rdr");
		break;
	case LJ_PF_K_BINAT:
		lj_buf_adds(b, r->no ? "no binat" : "binat");
		break;
	}
	if (r->natpass)
		lj_buf_adds(b, " pass");
	if (r->kind == LJ_PF_K_FILTER && r->action == LJ_PF_BLOCK) {
		switch (r->block) {
		case LJ_PF_B_RETURN:
			lj_buf_adds(b, " return");
			break;
		case LJ_PF_B_RST:
			if (r->return_ttl)
				lj_buf_addf(b, " return-rst(ttl %d)", r->return_ttl);
			else
				lj_buf_adds(b, " return-rst");
			break;
		case LJ_PF_B_ICMP:
			if (r->af == AF_INET) {
				lj_buf_adds(b, " return-icmp(");
				print_icmpcode(b, r->ret_icmp, AF_INET);
			} else if (r->af == AF_INET6) {
				lj_buf_adds(b, " return-icmp6(");
				print_icmpcode(b, r->ret_icmp6, AF_INET6);
			} else {
				lj_buf_adds(b, " return-icmp(");
				print_icmpcode(b, r->ret_icmp, AF_INET);
				lj_buf_adds(b, ", ");
				print_icmpcode(b, r->ret_icmp6, AF_INET6);
			}
			lj_buf_adds(b, ")");
			break;
		default:
			lj_buf_adds(b, " drop");
		}
	}
	if (r->dir == LJ_PF_IN)
		lj_buf_adds(b, " in");
	else if (r->dir == LJ_PF_OUT)
		lj_buf_adds(b, " out");
	if (r->log) {
		lj_buf_adds(b, " log");
		if ((r->log & ~LJ_PF_LOG) || r->logif) {
			int count = 0;
			lj_buf_adds(b, " (");
			if (r->log & LJ_PF_LOG_ALL)
				lj_buf_addf(b, "%sall", count++ ? ", " : "");
			if (r->log & LJ_PF_LOG_USER)
				lj_buf_addf(b, "%suser", count++ ? ", " : "");
			if (r->logif)
				lj_buf_addf(b, "%sto pflog%d", count++ ? ", " : "", r->logif);
			lj_buf_adds(b, ")");
		}
	}
	if (r->quick)
		lj_buf_adds(b, " quick");
	if (r->ifname[0])
		lj_buf_addf(b, r->ifnot ? " on ! %s" : " on %s", r->ifname);
	if (r->af)
		lj_buf_adds(b, r->af == AF_INET ? " inet" : " inet6");
	if (r->proto) {
		const char *n = lj_pf_proto_name(r->proto);
		if (n)
			lj_buf_addf(b, " proto %s", n);
		else
			lj_buf_addf(b, " proto %d", r->proto);
	}
	if (is_any(&r->src) && is_any(&r->dst) && !r->src.neg && !r->dst.neg && !r->sport.op &&
	    !r->dport.op)
		lj_buf_adds(b, " all");
	else {
		lj_buf_adds(b, " from ");
		if (r->src.neg)
			lj_buf_adds(b, "! ");
		lj_pf_print_addr(b, &r->src, r->af);
		if (r->sport.op)
			print_port(b, &r->sport, r->proto, numeric);
		lj_buf_adds(b, " to ");
		if (r->dst.neg)
			lj_buf_adds(b, "! ");
		lj_pf_print_addr(b, &r->dst, r->af);
		if (r->dport.op)
			print_port(b, &r->dport, r->proto, numeric);
	}
	if (r->kind == LJ_PF_K_FILTER) {
		if (r->flags || r->flagset) {
			lj_buf_adds(b, " flags ");
			print_flags(b, r->flags);
			lj_buf_adds(b, "/");
			print_flags(b, r->flagset);
		} else if (r->action == LJ_PF_PASS && (!r->proto || r->proto == IPPROTO_TCP) &&
		           r->keep)
			lj_buf_adds(b, " flags any");
	}
	if (r->icmp_type) {
		int type = r->icmp_type - 1;
		const char *n = lj_pf_icmp_type_name(type, r->af);
		lj_buf_adds(b, r->af != AF_INET6 ? " icmp-type" : " icmp6-type");
		if (n)
			lj_buf_addf(b, " %s", n);
		else
			lj_buf_addf(b, " %d", type);
		if (r->icmp_code) {
			const char *c = lj_pf_icmp_code_name(type, r->icmp_code - 1, r->af);
			if (c)
				lj_buf_addf(b, " code %s", c);
			else
				lj_buf_addf(b, " code %d", r->icmp_code - 1);
		}
	}
	if (r->kind == LJ_PF_K_FILTER) {
		if (!r->keep && r->action == LJ_PF_PASS)
			lj_buf_adds(b, " no state");
		else if (r->keep == LJ_PF_KEEP)
			lj_buf_adds(b, " keep state");
		else if (r->keep == LJ_PF_MODULATE)
			lj_buf_adds(b, " modulate state");
		else if (r->keep == LJ_PF_SYNPROXY)
			lj_buf_adds(b, " synproxy state");
	}
	bool any_timeout = false;
	for (int i = 0; i < LJ_PF_NTIMEOUTS; i++)
		any_timeout |= r->timeout[i] != 0;
	if (r->max_states || r->nosync || r->ifbound || r->sloppy || any_timeout) {
		bool first = true;
		lj_buf_adds(b, " (");
#define SEP() (first ? (first = false, "") : ", ")
		if (r->max_states)
			lj_buf_addf(b, "%smax %u", SEP(), r->max_states);
		if (r->nosync)
			lj_buf_addf(b, "%sno-sync", SEP());
		if (r->ifbound)
			lj_buf_addf(b, "%sif-bound", SEP());
		if (r->sloppy)
			lj_buf_addf(b, "%ssloppy", SEP());
		for (int i = 0; i < LJ_PF_NTIMEOUTS; i++)
			if (r->timeout[i])
				lj_buf_addf(b, "%s%s %u", SEP(), lj_pf_timeout_names[i],
				            r->timeout[i]);
#undef SEP
		lj_buf_adds(b, ")");
	}
	if (r->allow_opts)
		lj_buf_adds(b, " allow-opts");
	for (int i = 0; i < r->nlabels; i++)
		lj_buf_addf(b, " label \"%s\"", r->label[i]);
	if (r->kind != LJ_PF_K_FILTER && !r->no && r->npool) {
		lj_buf_adds(b, " -> ");
		print_pool(b, r);
	}
}

void lj_pf_print_rules(lj_buf *b, const struct lj_pf_conf *c, unsigned kinds, int flags)
{
	for (int i = 0; i < c->nrules; i++) {
		if (!(kinds & (1u << c->rules[i].kind)))
			continue;
		lj_pf_print_rule(b, &c->rules[i], flags);
		lj_buf_addc(b, '\n');
	}
}
