/* ipjail: FreeBSD's IP-restricted (non-vnet) jails on Linux.
 *
 * A jail without vnet shares the host's network stack; FreeBSD confines its sockets to the jail's
 * ip4.addr/ip6.addr. Here hand-written eBPF programs (raw bpf(2), no libbpf) attached with
 * BPF_F_ALLOW_MULTI to the jail's cgroup2 directory do the same for every socket a process in
 * that group (or below) creates:
 *   - bind: 127.0.0.1 / ::1 become the jail's primary address ([0]), and so does the wildcard
 *     when the jail has one address (with several it stays the wildcard, receiving only for
 *     the jail's addresses, see below); an address of the jail passes; any other fails with
 *     EADDRNOTAVAIL;
 *   - connect (TCP and UDP): an unbound socket is bound to the primary address first, so it is
 *     the source; a connect to 127.0.0.1 / ::1 goes to the primary address (prison_remote_ip4);
 *   - UDP sendmsg on an unconnected socket: a source not of the jail becomes the primary address;
 *   - socket(): AF_INET fails with EAFNOSUPPORT when ip4 is disabled, AF_INET6 when ip6 is;
 *   - every packet a socket of the group sends must have one of the jail's addresses as source,
 *     every packet it receives one of them as destination (or multicast/broadcast); others are
 *     dropped (cgroup_skb egress/ingress). This covers what the socket hooks cannot see: listen()
 *     or sendto() on a never-bound socket (the kernel binds it to the wildcard without the bind
 *     hook) and raw sockets (allow.raw_sockets).
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) on AF_INET6 sockets obey the ip4 rules.
 * Mode "inherit" for a family means no restriction. Differences from FreeBSD: the source of
 * an unbound socket is always the primary address (ip4.saddrsel is not honoured), and a socket
 * bound to the wildcard port-first and then connected keeps the kernel's choice of source,
 * which the egress filter refuses (EPERM) unless it is the jail's; a connection to a never-bound
 * listener through a foreign address is dropped (the client times out) rather than refused. As on
 * FreeBSD, a socket belongs to the jail of the process that created it (here: its cgroup), so one
 * handed in from outside is not restricted. */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "util/util.h"

#define LJ_IPJAIL_MAX_ADDRS 255 /* FreeBSD's limit per family */
#define LJ_IPJAIL_MAX_PROGS 12

enum lj_ipjail_mode {
	LJ_IPJAIL_INHERIT, /* no restriction (FreeBSD ip4=inherit) */
	LJ_IPJAIL_NEW,     /* restricted to the listed addresses; [0] is the primary */
	LJ_IPJAIL_DISABLE, /* no sockets of this family */
};

struct lj_ipjail_spec {
	enum lj_ipjail_mode ip4_mode, ip6_mode;
	size_t n4, n6; /* NEW with no address is treated as DISABLE (as FreeBSD does) */
	struct in_addr ip4[LJ_IPJAIL_MAX_ADDRS];
	struct in6_addr ip6[LJ_IPJAIL_MAX_ADDRS];
};

/* What lj_ipjail_attach attached; pass it to lj_ipjail_detach to undo. */
struct lj_ipjail {
	int cgfd; /* dup of the cgroup2 directory fd (always >= 3, so a zeroed object owns none) */
	int n;
	struct {
		int fd;               /* the loaded program */
		unsigned attach_type; /* enum bpf_attach_type */
	} prog[LJ_IPJAIL_MAX_PROGS];
	bool set_retval; /* the kernel has bpf_set_retval (>= 5.18): exact errnos */
};

/* ip4.addr / ip6.addr's textual forms (family from the bare address: AF_INET or AF_INET6).
 * Strict checking for a family is done by the parse function's family argument. */
struct lj_ipjail_addr {
	char ifname[IFNAMSIZ]; /* "" when the entry has no "IF|" */
	int family;            /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
	int prefix; /* 0..32 / 0..128; -1 when none was given (FreeBSD then uses /32, /128) */
	char *ifconfig_args; /* what followed the address after blanks (malloc'd), or NULL */
};

/* FreeBSD's jailsys value of the ip4 / ip6 parameter: "inherit", "new" or "disable". param
 * ("ip4" or "ip6") names the parameter in the error. Without the parameter, a jail is NEW when
 * its ip4.addr (ip6.addr) list is not empty and DISABLE otherwise, as on FreeBSD: only an
 * explicit "inherit" lets a non-vnet jail use every host address. */
int lj_ipjail_mode_parse(const char *param, const char *value, enum lj_ipjail_mode *out, lj_err *e);

/* Append a parsed address to the spec's list of its family ("ip4.addr: too many addresses"
 * past LJ_IPJAIL_MAX_ADDRS). The first address of a family is its primary one. */
int lj_ipjail_spec_add(struct lj_ipjail_spec *s, const struct lj_ipjail_addr *a, lj_err *e);

/* Parse "addr", "addr/len", "addr/netmask" (IPv4 dotted netmask), "IF|addr[/len]" and
 * "addr[/len] ifconfig-args". family is AF_INET (ip4.addr) or AF_INET6 (ip6.addr). Errors name
 * the parameter ("ip4.addr: not an IPv4 address: x"). Free with lj_ipjail_addr_free. */
int lj_ipjail_parse_addr(const char *s, int family, struct lj_ipjail_addr *out, lj_err *e);
void lj_ipjail_addr_free(struct lj_ipjail_addr *a);

/* Load the programs the spec needs and attach them (BPF_F_ALLOW_MULTI) to the cgroup2 directory
 * cgroup2_dirfd. Nothing is attached when both families are INHERIT; with both disabled only the
 * socket() refusal and the packet filters (one program on ingress and egress). On failure nothing
 * stays attached; a program the verifier rejects gives its log in the message. out->cgfd is a
 * dup. Whether the kernel has bpf_set_retval is probed once per kernel: the answer is kept in
 * $LJAIL_RUNDIR/ipjail-set-retval (believed only when owned by the caller, not writable by others,
 * and naming the running kernel's release and build). */
int lj_ipjail_attach(int cgroup2_dirfd, const struct lj_ipjail_spec *spec, struct lj_ipjail *out,
                     lj_err *e);
/* Detach and close what lj_ipjail_attach attached (undo of a failed create; programs attached to
 * a cgroup otherwise go away with the cgroup). Safe on a zeroed or already detached object. */
int lj_ipjail_detach(struct lj_ipjail *ij, lj_err *e);
/* Close the fds only: the programs stay attached for the cgroup's life. */
void lj_ipjail_release(struct lj_ipjail *ij);

/* The directory where the cgroup2 hierarchy is mounted (from /proc/self/mountinfo), malloc'd,
 * or NULL with e filled. */
char *lj_ipjail_cgroup2_mount(lj_err *e);

/* For tests: use the fallback for kernels without bpf_set_retval (< 5.18) even where it exists:
 * a foreign bind address is rewritten to TEST-NET (192.0.2.1, 2001:db8::1) so that the kernel
 * fails the bind with EADDRNOTAVAIL, and the other refusals give EPERM.
 * $LJAIL_IPJAIL_NO_SET_RETVAL=1 forces it too. */
void lj_ipjail_force_fallback(bool on);
