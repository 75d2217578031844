/* ipjail: sockets of a non-vnet jail confined to its addresses, with cgroup BPF programs written
 * as raw instructions (no clang BPF toolchain, no libbpf). See ipjail.h for the semantics. */
#include "net/ipjail.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- ip4.addr / ip6.addr strings ------------------------------------------------------------ */

void lj_ipjail_addr_free(struct lj_ipjail_addr *a)
{
	if (!a)
		return;
	free(a->ifconfig_args);
	a->ifconfig_args = NULL;
}

static int parse_prefix(const char *pname, int family, const char *m, int *prefix, lj_err *e)
{
	if (family == AF_INET && strchr(m, '.')) {
		/* "addr/255.255.255.0": a netmask, which must be contiguous */
		struct in_addr mask;
		int n;
		if (inet_pton(AF_INET, m, &mask) != 1 ||
		    (n = lj_net_v4_prefixlen(ntohl(mask.s_addr))) < 0)
			return lj_errorx(e, "%s: bad netmask \"%s\"", pname, m);
		*prefix = n;
		return 0;
	}
	int n;
	if (!*m || !isdigit((unsigned char)*m) || !lj_parse_int(m, &n) || n < 0 ||
	    n > (family == AF_INET ? 32 : 128))
		return lj_errorx(e, "%s: bad %s \"%s\"", pname,
		                 family == AF_INET ? "netmask" : "prefix length", m);
	*prefix = n;
	return 0;
}

int lj_ipjail_parse_addr(const char *s, int family, struct lj_ipjail_addr *out, lj_err *e)
{
	const char *pname = family == AF_INET ? "ip4.addr" : "ip6.addr";
	memset(out, 0, sizeof(*out));
	out->prefix = -1;
	out->family = family;
	while (isspace((unsigned char)*s))
		s++;
	const char *bar = strchr(s, '|');
	if (bar) {
		size_t n = (size_t)(bar - s);
		if (n == 0)
			return lj_errorx(e, "%s: missing interface name before '|': %s", pname, s);
		if (n >= IFNAMSIZ)
			return lj_errorx(e, "%s: interface name too long: %.*s", pname, (int)n, s);
		for (size_t i = 0; i < n; i++)
			if (isspace((unsigned char)s[i]) || s[i] == '/')
				return lj_errorx(e, "%s: bad interface name: %.*s", pname, (int)n,
				                 s);
		memcpy(out->ifname, s, n);
		out->ifname[n] = '\0';
		s = bar + 1;
	}
	size_t alen = strcspn(s, "/ \t");
	if (alen == 0)
		return lj_errorx(e, "%s: missing address", pname);
	lj_autofree char *a = xstrndup(s, alen);
	if (inet_pton(family, a, &out->addr) != 1)
		return lj_errorx(e, "%s: not an IPv%c address: %s", pname,
		                 family == AF_INET ? '4' : '6', a);
	s += alen;
	if (*s == '/') {
		s++;
		size_t mlen = strcspn(s, " \t");
		lj_autofree char *m = xstrndup(s, mlen);
		if (parse_prefix(pname, family, m, &out->prefix, e) < 0)
			return -1;
		s += mlen;
	}
	while (isspace((unsigned char)*s))
		s++;
	size_t rlen = strlen(s);
	while (rlen && isspace((unsigned char)s[rlen - 1]))
		rlen--;
	if (rlen)
		out->ifconfig_args = xstrndup(s, rlen);
	return 0;
}

int lj_ipjail_mode_parse(const char *param, const char *value, enum lj_ipjail_mode *out, lj_err *e)
{
	static const char *const names[] = {
	        [LJ_IPJAIL_INHERIT] = "inherit",
	        [LJ_IPJAIL_NEW] = "new",
	        [LJ_IPJAIL_DISABLE] = "disable",
	};
	for (size_t i = 0; i < LJ_ARRAY_LEN(names); i++)
		if (strcmp(value, names[i]) == 0) {
			*out = (enum lj_ipjail_mode)i;
			return 0;
		}
	return lj_errorx(e, "%s: unknown value \"%s\" (inherit, new or disable)", param, value);
}

int lj_ipjail_spec_add(struct lj_ipjail_spec *s, const struct lj_ipjail_addr *a, lj_err *e)
{
	if (a->family == AF_INET) {
		if (s->n4 >= LJ_IPJAIL_MAX_ADDRS)
			return lj_errorx(e, "ip4.addr: too many addresses (at most %d)",
			                 LJ_IPJAIL_MAX_ADDRS);
		s->ip4[s->n4++] = a->addr.v4;
	} else {
		if (s->n6 >= LJ_IPJAIL_MAX_ADDRS)
			return lj_errorx(e, "ip6.addr: too many addresses (at most %d)",
			                 LJ_IPJAIL_MAX_ADDRS);
		s->ip6[s->n6++] = a->addr.v6;
	}
	return 0;
}

/* ---- a tiny BPF assembler ------------------------------------------------------------------- */

struct fixup {
	size_t at;
	int label;
};

struct prog {
	struct bpf_insn *insn;
	size_t n, cap;
	int labels[16]; /* instruction index of each label, -1 until placed */
	int nlabels;
	struct fixup *fix;
	size_t nfix, capfix;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->insn = xrealloc(p->insn, p->cap * sizeof(*p->insn));
	}
	p->insn[p->n++] = (struct bpf_insn){
	        .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

static int label(struct prog *p)
{
	if (p->nlabels == (int)LJ_ARRAY_LEN(p->labels))
		abort(); /* a programming error: the generators use a handful */
	p->labels[p->nlabels] = -1;
	return p->nlabels++;
}

static void place(struct prog *p, int l)
{
	p->labels[l] = (int)p->n;
}

static void jump(struct prog *p, uint8_t code, uint8_t dst, int32_t imm, int l)
{
	if (p->nfix == p->capfix) {
		p->capfix = p->capfix ? 2 * p->capfix : 64;
		p->fix = xrealloc(p->fix, p->capfix * sizeof(*p->fix));
	}
	p->fix[p->nfix++] = (struct fixup){p->n, l};
	emit(p, code, dst, 0, 0, imm);
}

/* 32-bit compares: addresses in network order have the top bit set often, and a 64-bit compare
 * would sign-extend the immediate. */
#define JEQ32(p, r, v, l) jump(p, BPF_JMP32 | BPF_JEQ | BPF_K, r, (int32_t)(v), l)
#define JNE32(p, r, v, l) jump(p, BPF_JMP32 | BPF_JNE | BPF_K, r, (int32_t)(v), l)
#define JA(p, l)          jump(p, BPF_JMP | BPF_JA, 0, 0, l)
#define MOV64(p, d, s)    emit(p, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOVI32(p, d, v)   emit(p, BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, (int32_t)(v))
#define MOVI64(p, d, v)   emit(p, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, (int32_t)(v))
#define ADDI64(p, d, v)   emit(p, BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, (int32_t)(v))
#define LDXW(p, d, s, o)  emit(p, BPF_LDX | BPF_MEM | BPF_W, d, s, (int16_t)(o), 0)
#define STXW(p, d, o, s)  emit(p, BPF_STX | BPF_MEM | BPF_W, d, s, (int16_t)(o), 0)
#define STW(p, d, o, v)   emit(p, BPF_ST | BPF_MEM | BPF_W, d, 0, (int16_t)(o), (int32_t)(v))
#define STH(p, d, o, v)   emit(p, BPF_ST | BPF_MEM | BPF_H, d, 0, (int16_t)(o), (int32_t)(v))
#define STDW(p, d, o, v)  emit(p, BPF_ST | BPF_MEM | BPF_DW, d, 0, (int16_t)(o), (int32_t)(v))
#define CALL(p, f)        emit(p, BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT(p)           emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static void finish(struct prog *p)
{
	for (size_t i = 0; i < p->nfix; i++) {
		int to = p->labels[p->fix[i].label];
		if (to < 0)
			abort();
		p->insn[p->fix[i].at].off = (int16_t)(to - (int)p->fix[i].at - 1);
	}
}

static void prog_free(struct prog *p)
{
	free(p->insn);
	free(p->fix);
	memset(p, 0, sizeof(*p));
}

/* Registers: r6 = the context for the whole program; r2..r5 the address words being checked
 * (a helper call clobbers them: in_list4/in_list6 load them again after their map lookup); r0
 * the scratch for stores into the context. Stack: -8/-24 packet bytes, -16/-32 the sockaddr for
 * bpf_bind, -40/-48 map keys. */
enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 };

#define OFF_USER_IP4    (int)offsetof(struct bpf_sock_addr, user_ip4)
#define OFF_USER_IP6(i) ((int)offsetof(struct bpf_sock_addr, user_ip6) + 4 * (i))
#define OFF_SRC_IP4     (int)offsetof(struct bpf_sock_addr, msg_src_ip4)
#define OFF_SRC_IP6(i)  ((int)offsetof(struct bpf_sock_addr, msg_src_ip6) + 4 * (i))

static uint32_t w6(const struct in6_addr *a, int i)
{
	uint32_t w;
	memcpy(&w, &a->s6_addr[4 * i], 4);
	return w;
}

struct gen {
	const struct lj_ipjail_spec *spec;
	enum lj_ipjail_mode m4, m6; /* effective modes (NEW without addresses = DISABLE) */
	bool set_retval;
	bool lo4_listed, lo6_listed; /* 127.0.0.1 / ::1 is one of the jail's own addresses */
	int map4, map6; /* hash maps of the addresses for long lists, else -1 (unrolled compares) */
};

static void ret(struct prog *p, int v)
{
	MOVI64(p, R0, v);
	EXIT(p);
}

/* Refuse with errno err where the kernel lets us say so, else with EPERM. */
static void deny(struct prog *p, const struct gen *g, int err)
{
	if (g->set_retval) {
		MOVI64(p, R1, -err);
		CALL(p, BPF_FUNC_set_retval);
	}
	ret(p, 0);
}

static void store_imm(struct prog *p, int off, uint32_t v)
{
	MOVI32(p, R0, v);
	STXW(p, R6, off, R0);
}

static void store6(struct prog *p, int off0, const struct in6_addr *a)
{
	for (int i = 0; i < 4; i++)
		store_imm(p, off0 + 4 * i, w6(a, i));
}

/* Jump to l when r2..r5 hold a. */
static void jeq6(struct prog *p, const struct in6_addr *a, int l)
{
	int next = label(p);
	for (int i = 0; i < 3; i++)
		JNE32(p, R2 + i, w6(a, i), next);
	JEQ32(p, R5, w6(a, 3), l);
	place(p, next);
}

/* Jump to l when r2..r5 hold one of v[0..n-1]. A label per address would be too many: each
 * 4-compare block jumps over its own remainder on the first mismatch. */
static void jeq6_list(struct prog *p, const struct in6_addr *v, size_t n, int l)
{
	for (size_t k = 0; k < n; k++) {
		for (int i = 0; i < 3; i++)
			emit(p, BPF_JMP32 | BPF_JNE | BPF_K, R2 + i, 0, (int16_t)(3 - i),
			     (int32_t)w6(&v[k], i));
		JEQ32(p, R5, w6(&v[k], 3), l);
	}
}

static uint32_t loop4(void)
{
	return htonl(INADDR_LOOPBACK);
}

/* Address lists longer than this are looked up in a hash map. Measured (6 programs, both
 * families, kernel 6.18): unrolled compares 0.7 ms for 1 address, 1.8 ms for 16, 60-75 ms for
 * 255 (the verifier's time grows faster than linearly); with maps 0.9 ms for 17, 1.2 ms for 255. */
#define UNROLL_MAX 4

static void ld_map(struct prog *p, int dst, int map_fd)
{
	emit(p, BPF_LD | BPF_DW | BPF_IMM, (uint8_t)dst, BPF_PSEUDO_MAP_FD, 0, map_fd);
	emit(p, 0, 0, 0, 0, 0);
}

/* Jump to l when register r (loaded from base + off) is one of the jail's IPv4
 * addresses. A map lookup clobbers r1-r5: r is loaded again afterwards. */
static void in_list4(struct prog *p, const struct gen *g, int r, int base, int off, int l)
{
	const struct lj_ipjail_spec *s = g->spec;
	if (g->map4 < 0) {
		for (size_t i = 0; i < s->n4; i++)
			JEQ32(p, r, s->ip4[i].s_addr, l);
		return;
	}
	STXW(p, R10, -40, r);
	ld_map(p, R1, g->map4);
	MOV64(p, R2, R10);
	ADDI64(p, R2, -40);
	CALL(p, BPF_FUNC_map_lookup_elem);
	jump(p, BPF_JMP | BPF_JNE | BPF_K, R0, 0, l);
	LDXW(p, r, base, off);
}

/* The same for the IPv6 address in r2..r5 (loaded from base + off0). */
static void in_list6(struct prog *p, const struct gen *g, int base, int off0, int l)
{
	const struct lj_ipjail_spec *s = g->spec;
	if (g->map6 < 0) {
		jeq6_list(p, s->ip6, s->n6, l);
		return;
	}
	for (int i = 0; i < 4; i++)
		STXW(p, R10, -48 + 4 * i, R2 + i);
	ld_map(p, R1, g->map6);
	MOV64(p, R2, R10);
	ADDI64(p, R2, -48);
	CALL(p, BPF_FUNC_map_lookup_elem);
	jump(p, BPF_JMP | BPF_JNE | BPF_K, R0, 0, l);
	for (int i = 0; i < 4; i++)
		LDXW(p, R2 + i, base, off0 + 4 * i);
}

static const struct in6_addr any6 = IN6ADDR_ANY_INIT;
static const struct in6_addr loop6 = IN6ADDR_LOOPBACK_INIT;

/* 192.0.2.1 and 2001:db8::1 (TEST-NET, RFC 5737/3849): never local, so a bind the program
 * rewrites there fails in the kernel with EADDRNOTAVAIL. Used when bpf_set_retval is missing. */
static uint32_t testnet4(void)
{
	return htonl(0xc0000201);
}

static const struct in6_addr testnet6 = {
        .s6_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

/* bpf_bind(ctx, sockaddr on the stack, len) with port 0: the socket's source becomes the jail's
 * address; an already bound socket makes the helper fail with EINVAL, which is ignored. */
static void bind_src4(struct prog *p, uint32_t a)
{
	STDW(p, R10, -16, 0);
	STDW(p, R10, -8, 0);
	STH(p, R10, -16, AF_INET);
	STW(p, R10, -12, a);
	MOV64(p, R1, R6);
	MOV64(p, R2, R10);
	ADDI64(p, R2, -16);
	MOVI64(p, R3, sizeof(struct sockaddr_in));
	CALL(p, BPF_FUNC_bind);
}

static void bind_src6(struct prog *p, const struct in6_addr *a)
{
	for (int off = -32; off < 0; off += 8)
		STDW(p, R10, off, 0);
	STH(p, R10, -32, AF_INET6);
	for (int i = 0; i < 4; i++)
		STW(p, R10, -24 + 4 * i, w6(a, i));
	MOV64(p, R1, R6);
	MOV64(p, R2, R10);
	ADDI64(p, R2, -32);
	MOVI64(p, R3, sizeof(struct sockaddr_in6));
	CALL(p, BPF_FUNC_bind);
}

/* The IPv4 bind rule on the word in register r (at context offset off): 127.0.0.1, and the
 * wildcard of a jail with one address -> primary; own address -> pass; else EADDRNOTAVAIL. */
static void bind_rule4(struct prog *p, const struct gen *g, int r, int off)
{
	const struct lj_ipjail_spec *s = g->spec;
	int allow = label(p), primary = label(p);
	/* FreeBSD: the wildcard becomes the jail's address when it has exactly one; with several
	 * it stays, and the ingress filter keeps the other host addresses out */
	JEQ32(p, r, 0, s->n4 == 1 ? primary : allow);
	in_list4(p, g, r, R6, off, allow);
	if (!g->lo4_listed)
		JEQ32(p, r, loop4(), primary);
	if (g->set_retval) {
		deny(p, g, EADDRNOTAVAIL);
	} else {
		store_imm(p, off, testnet4());
		ret(p, 1);
	}
	/* nothing jumps there when the wildcard stays and 127.0.0.1 is an own address, and the
	 * verifier refuses unreachable code */
	if (s->n4 == 1 || !g->lo4_listed) {
		place(p, primary);
		store_imm(p, off, s->ip4[0].s_addr);
	}
	place(p, allow);
	ret(p, 1);
}

static void load_user_ip6(struct prog *p, int off0)
{
	for (int i = 0; i < 4; i++)
		LDXW(p, R2 + i, R6, off0 + 4 * i);
}

/* Jump to l when r2..r5 hold an IPv4-mapped address (::ffff:a.b.c.d; r5 is then a.b.c.d). */
static void jmapped(struct prog *p, int l)
{
	int no = label(p);
	JNE32(p, R2, 0, no);
	JNE32(p, R3, 0, no);
	JEQ32(p, R4, htonl(0xffff), l);
	place(p, no);
}

static void gen_bind4(struct prog *p, const struct gen *g)
{
	MOV64(p, R6, R1);
	LDXW(p, R2, R6, OFF_USER_IP4);
	bind_rule4(p, g, R2, OFF_USER_IP4);
}

static void gen_bind6(struct prog *p, const struct gen *g)
{
	const struct lj_ipjail_spec *s = g->spec;
	int mapped = label(p);
	MOV64(p, R6, R1);
	load_user_ip6(p, OFF_USER_IP6(0));
	jmapped(p, mapped);
	if (g->m6 != LJ_IPJAIL_NEW) {
		ret(p, 1);
	} else {
		int allow = label(p), primary = label(p);
		jeq6(p, &any6, s->n6 == 1 ? primary : allow);
		in_list6(p, g, R6, OFF_USER_IP6(0), allow);
		if (!g->lo6_listed)
			jeq6(p, &loop6, primary);
		if (g->set_retval) {
			deny(p, g, EADDRNOTAVAIL);
		} else {
			store6(p, OFF_USER_IP6(0), &testnet6);
			ret(p, 1);
		}
		if (s->n6 == 1 || !g->lo6_listed) { /* else unreachable: see bind_rule4 */
			place(p, primary);
			store6(p, OFF_USER_IP6(0), &s->ip6[0]);
		}
		place(p, allow);
		ret(p, 1);
	}
	place(p, mapped);
	if (g->m4 == LJ_IPJAIL_INHERIT)
		ret(p, 1);
	else if (g->m4 == LJ_IPJAIL_DISABLE)
		deny(p, g, EAFNOSUPPORT);
	else
		bind_rule4(p, g, R5, OFF_USER_IP6(3));
}

static void gen_connect4(struct prog *p, const struct gen *g)
{
	uint32_t a = g->spec->ip4[0].s_addr;
	MOV64(p, R6, R1);
	if (!g->lo4_listed) {
		int src = label(p);
		LDXW(p, R2, R6, OFF_USER_IP4);
		JNE32(p, R2, loop4(), src);
		store_imm(p, OFF_USER_IP4, a);
		place(p, src);
	}
	bind_src4(p, a);
	ret(p, 1);
}

static void gen_connect6(struct prog *p, const struct gen *g)
{
	const struct lj_ipjail_spec *s = g->spec;
	int mapped = label(p);
	MOV64(p, R6, R1);
	load_user_ip6(p, OFF_USER_IP6(0));
	jmapped(p, mapped);
	if (g->m6 != LJ_IPJAIL_NEW) {
		ret(p, 1);
	} else {
		if (!g->lo6_listed) {
			int src = label(p), lo = label(p);
			jeq6(p, &loop6, lo);
			JA(p, src);
			place(p, lo);
			store6(p, OFF_USER_IP6(0), &s->ip6[0]);
			place(p, src);
		}
		bind_src6(p, &s->ip6[0]);
		ret(p, 1);
	}
	place(p, mapped);
	if (g->m4 == LJ_IPJAIL_INHERIT) {
		ret(p, 1);
	} else if (g->m4 == LJ_IPJAIL_DISABLE) {
		deny(p, g, EAFNOSUPPORT);
	} else {
		struct in6_addr m = {.s6_addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}};
		memcpy(&m.s6_addr[12], &s->ip4[0].s_addr, 4);
		if (!g->lo4_listed) {
			int src = label(p);
			JNE32(p, R5, loop4(), src);
			store_imm(p, OFF_USER_IP6(3), s->ip4[0].s_addr);
			place(p, src);
		}
		bind_src6(p, &m);
		ret(p, 1);
	}
}

/* UDP sendmsg on an unconnected socket (IPv4, also for IPv4-mapped destinations of AF_INET6
 * sockets, which the kernel sends through the IPv4 path). */
static void gen_sendmsg4(struct prog *p, const struct gen *g)
{
	const struct lj_ipjail_spec *s = g->spec;
	if (g->m4 == LJ_IPJAIL_DISABLE) {
		deny(p, g, EAFNOSUPPORT);
		return;
	}
	int dst = label(p);
	MOV64(p, R6, R1);
	LDXW(p, R2, R6, OFF_SRC_IP4);
	in_list4(p, g, R2, R6, OFF_SRC_IP4, dst);
	store_imm(p, OFF_SRC_IP4, s->ip4[0].s_addr);
	place(p, dst);
	if (!g->lo4_listed) {
		int out = label(p);
		LDXW(p, R2, R6, OFF_USER_IP4);
		JNE32(p, R2, loop4(), out);
		store_imm(p, OFF_USER_IP4, s->ip4[0].s_addr);
		place(p, out);
	}
	ret(p, 1);
}

static void gen_sendmsg6(struct prog *p, const struct gen *g)
{
	const struct lj_ipjail_spec *s = g->spec;
	int dst = label(p);
	MOV64(p, R6, R1);
	load_user_ip6(p, OFF_SRC_IP6(0));
	in_list6(p, g, R6, OFF_SRC_IP6(0), dst);
	store6(p, OFF_SRC_IP6(0), &s->ip6[0]);
	place(p, dst);
	if (!g->lo6_listed) {
		int out = label(p);
		load_user_ip6(p, OFF_USER_IP6(0));
		int lo = label(p);
		jeq6(p, &loop6, lo);
		JA(p, out);
		place(p, lo);
		store6(p, OFF_USER_IP6(0), &s->ip6[0]);
		place(p, out);
	}
	ret(p, 1);
}

static void gen_sock_create(struct prog *p, const struct gen *g)
{
	int next = label(p), allow = label(p);
	LDXW(p, R2, R1, offsetof(struct bpf_sock, family));
	if (g->m4 == LJ_IPJAIL_DISABLE) {
		JNE32(p, R2, AF_INET, next);
		deny(p, g, EAFNOSUPPORT);
	}
	place(p, next);
	if (g->m6 == LJ_IPJAIL_DISABLE) {
		JNE32(p, R2, AF_INET6, allow);
		deny(p, g, EAFNOSUPPORT);
	}
	place(p, allow);
	ret(p, 1);
}

/* Host-order value of the 4 bytes b0..b3 as they lie in memory (packet words are compared as
 * loaded, without byte swapping). */
static uint32_t mem32(uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	uint8_t b[4] = {b0, b1, b2, b3};
	uint32_t w;
	memcpy(&w, b, 4);
	return w;
}

/* cgroup_skb filters on every packet a jail's socket sends (egress: the source address) or
 * receives (ingress: the destination address). They close what the socket hooks cannot see: a
 * socket that listen() or sendto() bound to the wildcard receives only for the jail's addresses,
 * and a packet from any other source (a port-only bind, raw or ping sockets) is dropped, which
 * the sender sees as EPERM. Ingress lets multicast and broadcast through. */
static void gen_skb(struct prog *p, const struct gen *g, bool egress)
{
	int v4 = label(p), v6 = label(p), allow = label(p), drop = label(p);
	MOV64(p, R6, R1);
	LDXW(p, R2, R6, offsetof(struct __sk_buff, protocol));
	JEQ32(p, R2, htons(ETH_P_IP), v4);
	JEQ32(p, R2, htons(ETH_P_IPV6), v6);
	JA(p, allow);

	place(p, v4);
	if (g->m4 == LJ_IPJAIL_INHERIT) {
		JA(p, allow);
	} else if (g->m4 == LJ_IPJAIL_DISABLE) {
		JA(p, drop);
	} else {
		MOV64(p, R1, R6);
		MOVI64(p, R2, egress ? 12 : 16); /* saddr / daddr in the IPv4 header */
		MOV64(p, R3, R10);
		ADDI64(p, R3, -8);
		MOVI64(p, R4, 4);
		CALL(p, BPF_FUNC_skb_load_bytes);
		jump(p, BPF_JMP | BPF_JNE | BPF_K, R0, 0, drop);
		LDXW(p, R2, R10, -8);
		if (!egress) {
			JEQ32(p, R2, 0xffffffffu, allow);
			MOV64(p, R3, R2);
			emit(p, BPF_ALU | BPF_AND | BPF_K, R3, 0, 0, (int32_t)mem32(0xf0, 0, 0, 0));
			JEQ32(p, R3, mem32(0xe0, 0, 0, 0), allow);
		}
		in_list4(p, g, R2, R10, -8, allow);
		JA(p, drop);
	}

	place(p, v6);
	if (g->m6 == LJ_IPJAIL_INHERIT) {
		JA(p, allow);
	} else if (g->m6 == LJ_IPJAIL_DISABLE) {
		JA(p, drop);
	} else {
		MOV64(p, R1, R6);
		MOVI64(p, R2, egress ? 8 : 24); /* saddr / daddr in the IPv6 header */
		MOV64(p, R3, R10);
		ADDI64(p, R3, -24);
		MOVI64(p, R4, 16);
		CALL(p, BPF_FUNC_skb_load_bytes);
		jump(p, BPF_JMP | BPF_JNE | BPF_K, R0, 0, drop);
		for (int i = 0; i < 4; i++)
			LDXW(p, R2 + i, R10, -24 + 4 * i);
		if (!egress) {
			MOV64(p, R0, R2);
			emit(p, BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, (int32_t)mem32(0xff, 0, 0, 0));
			JEQ32(p, R0, mem32(0xff, 0, 0, 0), allow);
		}
		in_list6(p, g, R10, -24, allow);
	}
	place(p, drop);
	ret(p, 0);
	place(p, allow);
	ret(p, 1);
}

static void gen_ingress(struct prog *p, const struct gen *g)
{
	gen_skb(p, g, false);
}

static void gen_egress(struct prog *p, const struct gen *g)
{
	gen_skb(p, g, true);
}

/* ---- bpf(2) ---------------------------------------------------------------------------------- */

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct prog *p, enum bpf_prog_type type, enum bpf_attach_type at,
                     const char *name, lj_err *e)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = at;
	a.insns = (uint64_t)(uintptr_t)p->insn;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uint64_t)(uintptr_t) "Dual BSD/GPL";
	snprintf(a.prog_name, sizeof(a.prog_name), "%s", name);
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	int err = errno;
	if (err == EPERM || err == ENOSYS)
		return lj_error(e, err, "BPF_PROG_LOAD %s", name);
	/* Again with the verifier's log, for the message. */
	size_t cap = 1 << 20;
	lj_autofree char *log = xcalloc(1, cap);
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = (uint32_t)cap;
	a.log_level = 1;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd; /* it loaded the second time: take it */
	size_t len = strnlen(log, cap);
	while (len && log[len - 1] == '\n')
		log[--len] = '\0';
	const char *tail = len > 600 ? log + len - 600 : log;
	return lj_error(e, err, "BPF_PROG_LOAD %s rejected (verifier: %s)", name,
	                *tail ? tail : "no log");
}

/* Does the kernel offer bpf_set_retval to cgroup programs (5.18)? 1 yes, 0 no (the verifier
 * refuses the helper), -1 the probe failed otherwise (no answer to keep). */
static int probe_set_retval(void)
{
	struct prog p = {0};
	MOVI64(&p, R1, -EAFNOSUPPORT);
	CALL(&p, BPF_FUNC_set_retval);
	ret(&p, 1);
	lj_err e;
	int fd = prog_load(&p, BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, "lj_probe",
	                   &e);
	prog_free(&p);
	if (fd < 0)
		return e.errnum == EINVAL ? 0 : -1;
	close(fd);
	return 1;
}

/* The probe's answer holds for the kernel's life: it is kept in the run directory under the
 * kernel's identity (release and build), so a create loads one program less. The file is
 * trusted only when it is ours and nobody else could have written it. */
static bool has_set_retval(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return probe_set_retval() == 1;
	const char *rd = getenv("LJAIL_RUNDIR");
	lj_autofree char *path = xasprintf("%s/ipjail-set-retval", rd && *rd ? rd : "/run/ljail");
	lj_autofree char *id =
	        xasprintf("ljail ipjail set_retval, kernel %s %s: ", u.release, u.version);
	size_t idlen = strlen(id);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		char buf[512];
		struct stat st;
		ssize_t n = -1;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    !(st.st_mode & 022))
			n = read(fd, buf, sizeof buf);
		close(fd);
		if (n == (ssize_t)idlen + 2 && memcmp(buf, id, idlen) == 0 &&
		    buf[idlen + 1] == '\n' && (buf[idlen] == '0' || buf[idlen] == '1'))
			return buf[idlen] == '1';
	}
	int r = probe_set_retval();
	if (r >= 0) {
		lj_autofree char *text = xasprintf("%s%d\n", id, r);
		/* a run directory we cannot write only costs the next create the probe */
		lj_write_file_replace(path, text, strlen(text), 0644, NULL);
	}
	return r == 1;
}

static bool force_fallback;

void lj_ipjail_force_fallback(bool on)
{
	force_fallback = on;
}

void lj_ipjail_release(struct lj_ipjail *ij)
{
	for (int i = 0; i < ij->n; i++)
		if (ij->prog[i].fd >= 0)
			close(ij->prog[i].fd);
	ij->n = 0;
	if (ij->cgfd >= 3)
		close(ij->cgfd);
	ij->cgfd = -1;
}

int lj_ipjail_detach(struct lj_ipjail *ij, lj_err *e)
{
	int rc = 0;
	for (int i = ij->n - 1; i >= 0; i--) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)ij->cgfd;
		a.attach_bpf_fd = (uint32_t)ij->prog[i].fd;
		a.attach_type = ij->prog[i].attach_type;
		if (ij->cgfd >= 3 && ij->prog[i].fd >= 0 && sys_bpf(BPF_PROG_DETACH, &a) < 0 &&
		    errno != ENOENT && rc == 0)
			rc = lj_error(e, errno, "BPF_PROG_DETACH");
	}
	lj_ipjail_release(ij);
	return rc;
}

/* A frozen hash map holding the keys (4 or 16 bytes each); the programs keep it alive. */
static int make_map(const char *name, const void *keys, uint32_t key_size, size_t n, lj_err *e)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = key_size;
	a.value_size = 1;
	a.max_entries = (uint32_t)n;
	snprintf(a.map_name, sizeof(a.map_name), "%s", name);
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0)
		return lj_error(e, errno, "BPF_MAP_CREATE %s", name);
	uint8_t one = 1;
	for (size_t i = 0; i < n; i++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = (uint64_t)(uintptr_t)((const char *)keys + i * key_size);
		a.value = (uint64_t)(uintptr_t)&one;
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) {
			int err = errno;
			close(fd);
			return lj_error(e, err, "BPF_MAP_UPDATE_ELEM %s", name);
		}
	}
	/* No later change from user space (5.2+; older kernels just do without). */
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	(void)sys_bpf(BPF_MAP_FREEZE, &a);
	return fd;
}

static void close_maps(struct gen *g)
{
	if (g->map4 >= 0)
		close(g->map4);
	if (g->map6 >= 0)
		close(g->map6);
	g->map4 = g->map6 = -1;
}

static enum lj_ipjail_mode effective(enum lj_ipjail_mode m, size_t n)
{
	return m == LJ_IPJAIL_NEW && n == 0 ? LJ_IPJAIL_DISABLE : m;
}

int lj_ipjail_attach(int cgroup2_dirfd, const struct lj_ipjail_spec *spec, struct lj_ipjail *out,
                     lj_err *e)
{
	memset(out, 0, sizeof(*out));
	out->cgfd = -1;
	if (spec->n4 > LJ_IPJAIL_MAX_ADDRS || spec->n6 > LJ_IPJAIL_MAX_ADDRS)
		return lj_errorx(e, "more than %d addresses in ip4.addr or ip6.addr",
		                 LJ_IPJAIL_MAX_ADDRS);
	struct gen g = {
	        .spec = spec,
	        .m4 = effective(spec->ip4_mode, spec->n4),
	        .m6 = effective(spec->ip6_mode, spec->n6),
	};
	if (g.m4 == LJ_IPJAIL_INHERIT && g.m6 == LJ_IPJAIL_INHERIT)
		return 0;
	for (size_t i = 0; g.m4 == LJ_IPJAIL_NEW && i < spec->n4; i++)
		if (spec->ip4[i].s_addr == loop4())
			g.lo4_listed = true;
	for (size_t i = 0; g.m6 == LJ_IPJAIL_NEW && i < spec->n6; i++)
		if (IN6_IS_ADDR_LOOPBACK(&spec->ip6[i]))
			g.lo6_listed = true;
	const char *nf = getenv("LJAIL_IPJAIL_NO_SET_RETVAL");
	g.set_retval = !force_fallback && !(nf && *nf && strcmp(nf, "0") != 0) && has_set_retval();
	out->set_retval = g.set_retval;
	g.map4 = g.map6 = -1;

	bool no_inet = g.m4 == LJ_IPJAIL_DISABLE && g.m6 == LJ_IPJAIL_DISABLE;
	/* Without addresses to check the ingress and egress filters are the same program: it is
	 * loaded once and attached to both hooks. */
	bool one_skb = g.m4 != LJ_IPJAIL_NEW && g.m6 != LJ_IPJAIL_NEW;
	struct {
		const char *name;
		enum bpf_prog_type type;
		enum bpf_attach_type at;
		void (*gen)(struct prog *, const struct gen *);
		bool want;
	} progs[] = {
	        {"lj_sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE,
	         gen_sock_create, g.m4 == LJ_IPJAIL_DISABLE || g.m6 == LJ_IPJAIL_DISABLE},
	        {"lj_bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND, gen_bind4,
	         g.m4 == LJ_IPJAIL_NEW},
	        {"lj_connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT,
	         gen_connect4, g.m4 == LJ_IPJAIL_NEW},
	        /* with both families disabled the group makes no socket to send with
	         * (sock_create); what the kernel opens for it (AF_SMC's TCP socket, rxrpc's UDP
	         * one) the packet filters stop */
	        {"lj_sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG,
	         gen_sendmsg4, g.m4 != LJ_IPJAIL_INHERIT && !no_inet},
	        /* AF_INET6 sockets exist unless ip6 is disabled; they carry IPv4-mapped addresses
	         */
	        {"lj_bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, gen_bind6,
	         g.m6 != LJ_IPJAIL_DISABLE},
	        {"lj_connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT,
	         gen_connect6, g.m6 != LJ_IPJAIL_DISABLE},
	        {"lj_sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG,
	         gen_sendmsg6, g.m6 == LJ_IPJAIL_NEW},
	        {"lj_ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, gen_ingress,
	         true},
	        {"lj_egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, gen_egress, true},
	};

	out->cgfd = fcntl(cgroup2_dirfd, F_DUPFD_CLOEXEC, 3);
	if (out->cgfd < 0)
		return lj_error(e, errno, "cgroup2 directory");
	if (g.m4 == LJ_IPJAIL_NEW && spec->n4 > UNROLL_MAX &&
	    (g.map4 = make_map("lj_ip4", spec->ip4, 4, spec->n4, e)) < 0)
		goto fail;
	if (g.m6 == LJ_IPJAIL_NEW && spec->n6 > UNROLL_MAX &&
	    (g.map6 = make_map("lj_ip6", spec->ip6, 16, spec->n6, e)) < 0)
		goto fail;
	for (size_t i = 0; i < LJ_ARRAY_LEN(progs); i++) {
		if (!progs[i].want)
			continue;
		int fd = -1;
		bool shared = one_skb && progs[i].at == BPF_CGROUP_INET_EGRESS && out->n > 0 &&
		              out->prog[out->n - 1].attach_type == BPF_CGROUP_INET_INGRESS;
		if (shared)
			fd = fcntl(out->prog[out->n - 1].fd, F_DUPFD_CLOEXEC, 3);
	load:
		if (fd < 0) {
			shared = false;
			struct prog p = {0};
			progs[i].gen(&p, &g);
			finish(&p);
			fd = prog_load(&p, progs[i].type, progs[i].at, progs[i].name, e);
			prog_free(&p);
			if (fd < 0)
				goto fail;
		}
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)out->cgfd;
		a.attach_bpf_fd = (uint32_t)fd;
		a.attach_type = progs[i].at;
		a.attach_flags = BPF_F_ALLOW_MULTI;
		if (sys_bpf(BPF_PROG_ATTACH, &a) < 0) {
			int err = errno;
			close(fd);
			fd = -1;
			if (shared && err == EINVAL)
				goto load; /* a kernel that holds the program to its load's hook */
			lj_error(e, err, "BPF_PROG_ATTACH %s to the jail's cgroup2 group%s",
			         progs[i].name,
			         err == EPERM ? " (a parent group has a non-multi program?)" : "");
			goto fail;
		}
		out->prog[out->n].fd = fd;
		out->prog[out->n].attach_type = progs[i].at;
		out->n++;
	}
	close_maps(&g);
	return 0;
fail:
	close_maps(&g);
	lj_ipjail_detach(out, NULL);
	return -1;
}

/* ---- where cgroup2 is ----------------------------------------------------------------------- */

static char *unescape_mount(const char *s, size_t n)
{
	char *o = xmalloc(n + 1), *w = o;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && isdigit((unsigned char)s[i + 1]) &&
		    isdigit((unsigned char)s[i + 2]) && isdigit((unsigned char)s[i + 3])) {
			*w++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
			              (s[i + 3] - '0'));
			i += 3;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return o;
}

char *lj_ipjail_cgroup2_mount(lj_err *e)
{
	lj_autofree char *text = NULL;
	if (lj_read_file("/proc/self/mountinfo", &text, NULL, e) < 0)
		return NULL;
	for (char *line = text, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		/* id parent maj:min root mountpoint opts... - fstype source superopts */
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		char *f = line;
		for (int i = 0; i < 4 && f; i++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (!f)
			continue;
		size_t n = strcspn(f, " ");
		return unescape_mount(f, n);
	}
	lj_errorx(e, "no cgroup2 hierarchy is mounted (see /proc/self/mountinfo)");
	return NULL;
}
