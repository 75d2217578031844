/* pf: pf.conf (FreeBSD 14 classic syntax) parsed, expanded and printed as FreeBSD's pfctl does, and
 * compiled to one nftables table owned by ljail.
 *
 * Parsing never prints: what `pfctl -nv` prints while parsing (macros, options, tables) goes to
 * conf->verbose, error lines ("FILE:LINE: message") to conf->errors. Rules are kept expanded (one
 * struct per printed line), grouped by ruleset. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/* ---- names: services, protocols, icmp types, interface addresses -------------------------------
 */

/* Services and protocols come from $PF_SERVICES / $PF_PROTOCOLS (default /etc/services,
 * /etc/protocols). */
int lj_pf_service_port(const char *name, const char *proto); /* -1 when unknown */
const char *lj_pf_service_name(int port, const char *proto); /* NULL when unknown */
int lj_pf_proto_number(const char *name);                    /* -1 when unknown */
const char *lj_pf_proto_name(int num);                       /* NULL when unknown */

struct lj_pf_ifaddr {
	int af;
	uint8_t addr[16];
	int prefix;
	uint8_t bcast[16];
	bool has_bcast;
};
/* Addresses of interface name ("self" = every interface). FreeBSD's lo0 names Linux's lo where no
 * lo0 exists. $PF_IFADDRS names a file of "ifname addr/prefix" lines used instead of the kernel's
 * (for host-independent tests). Returns the count (0: no such interface or no address); *exists
 * tells whether the interface exists. Caller frees *out. */
int lj_pf_ifaddrs(const char *name, struct lj_pf_ifaddr **out, bool *exists);
/* The Linux name for a pf.conf interface name (lo0 -> lo when lo0 does not exist). */
const char *lj_pf_linux_ifname(const char *name);

/* ---- the parsed configuration ---------------------------------------------------------------- */

enum { LJ_PF_A_ADDR, LJ_PF_A_RANGE, LJ_PF_A_TABLE, LJ_PF_A_DYN, LJ_PF_A_NOROUTE, LJ_PF_A_URPF };
enum { LJ_PF_DYN_NETWORK = 1, LJ_PF_DYN_BROADCAST = 2, LJ_PF_DYN_PEER = 4, LJ_PF_DYN_NOALIAS = 8 };

struct lj_pf_addr {
	int type;
	int af;               /* 0 for any / tables / dynamic */
	uint8_t a[16], b[16]; /* address (and range end), host bits cleared */
	int prefix;           /* 0..128; any = ADDR with af 0 and prefix 0 */
	bool neg;
	int dynflags;
	char name[64]; /* table or interface */
};

enum {
	LJ_PF_OP_NONE,
	LJ_PF_OP_EQ,
	LJ_PF_OP_NE,
	LJ_PF_OP_LT,
	LJ_PF_OP_LE,
	LJ_PF_OP_GT,
	LJ_PF_OP_GE,
	LJ_PF_OP_IRG /* >< */,
	LJ_PF_OP_XRG /* <> */,
	LJ_PF_OP_RRG /* a:b */
};

struct lj_pf_port {
	int op;
	unsigned p1, p2;
};

enum { LJ_PF_K_FILTER, LJ_PF_K_NAT, LJ_PF_K_RDR, LJ_PF_K_BINAT };
enum { LJ_PF_PASS, LJ_PF_BLOCK };
enum { LJ_PF_B_DROP, LJ_PF_B_RETURN, LJ_PF_B_RST, LJ_PF_B_ICMP };
enum { LJ_PF_LOG = 1, LJ_PF_LOG_ALL = 2, LJ_PF_LOG_USER = 4 };
enum { LJ_PF_IN = 1, LJ_PF_OUT = 2 };
enum { LJ_PF_NOSTATE, LJ_PF_KEEP, LJ_PF_MODULATE, LJ_PF_SYNPROXY };
enum { LJ_PF_POOL_NONE, LJ_PF_POOL_BITMASK, LJ_PF_POOL_RANDOM, LJ_PF_POOL_SRCHASH, LJ_PF_POOL_RR };

#define LJ_PF_NTIMEOUTS 26
extern const char *const lj_pf_timeout_names[LJ_PF_NTIMEOUTS];

struct lj_pf_rule {
	int kind; /* LJ_PF_K_* */
	int nr;   /* number within its ruleset */
	int line;
	int action; /* LJ_PF_PASS / LJ_PF_BLOCK (filter) */
	bool no;    /* no nat / no rdr / no binat */
	bool natpass;
	int block; /* LJ_PF_B_* */
	int return_ttl;
	int ret_icmp, ret_icmp6; /* codes */
	int dir;                 /* 0 = both */
	int log, logif;
	bool quick;
	char ifname[32];
	bool ifnot;
	int af;
	int proto;
	struct lj_pf_addr src, dst;
	struct lj_pf_port sport, dport;
	uint8_t flags, flagset;
	int icmp_type, icmp_code; /* value + 1, 0 = none */
	int keep;                 /* LJ_PF_NOSTATE.. */
	unsigned max_states;
	bool nosync, ifbound, sloppy;
	unsigned timeout[LJ_PF_NTIMEOUTS];
	bool allow_opts;
	char *label[5];
	int nlabels;
	/* translation */
	struct lj_pf_addr *pool;
	int npool;
	int pool_type;
	bool sticky, static_port;
	unsigned pport1, pport2;
};

struct lj_pf_table {
	char name[64];
	bool is_const, persist, counters;
	char *printed;            /* the "table <...> ..." line, without newline */
	struct lj_pf_addr *addrs; /* entries, in order (neg set for !addr) */
	int naddrs;
};

struct lj_pf_conf {
	lj_buf verbose; /* what -v prints while parsing: macros, options, tables */
	lj_buf errors;  /* "FILE:LINE: message\n" lines */
	int nerrors;
	struct lj_pf_rule *rules; /* every expanded rule, in ruleset print order after parse */
	int nrules;
	struct lj_pf_table *tables;
	int ntables;
	lj_strv skip;     /* set skip on */
	int block_policy; /* LJ_PF_B_DROP or LJ_PF_B_RETURN */
	bool ifbound_policy;
	unsigned limit_states;
	unsigned timeouts[LJ_PF_NTIMEOUTS];
	int ruleset_optimization; /* set ruleset-optimization: 0 not set, 1 none, 2 basic/profile */
};

struct lj_pf_parse_opts {
	bool verbose;               /* fill conf->verbose */
	bool numeric;               /* -P: no service names (affects printing only) */
	const char *const *defines; /* "name=value" (-D), NULL-terminated, may be NULL */
};

/* Parse path ("-" = stdin, named "stdin" in messages). Returns 0, or -1 when there were errors
 * (conf->errors holds them; conf is still valid and must be freed). */
int lj_pf_parse_file(const char *path, const struct lj_pf_parse_opts *o, struct lj_pf_conf *conf);
/* Same from a buffer; name is used in messages. */
int lj_pf_parse_buffer(const char *name, const char *text, const struct lj_pf_parse_opts *o,
                       struct lj_pf_conf *conf);
void lj_pf_conf_free(struct lj_pf_conf *conf);

/* pfctl's basic optimizer (-o basic, FreeBSD's default): remove covered filter rules and reorder
 * superblocks as FreeBSD does; the ruleset's meaning does not change. */
void lj_pf_optimize(struct lj_pf_conf *conf);

/* ---- printing ----------------------------------------------------------------------------------
 */

enum { LJ_PF_PRINT_VV = 1, LJ_PF_PRINT_NUMERIC = 2 };
/* One rule as pfctl's print_rule does, no newline. */
void lj_pf_print_rule(lj_buf *b, const struct lj_pf_rule *r, int flags);
/* Every rule of the given kinds (bit mask 1<<LJ_PF_K_*) in FreeBSD's order, one per line. */
void lj_pf_print_rules(lj_buf *b, const struct lj_pf_conf *c, unsigned kinds, int flags);
/* An address as print_addr does, for the given address family. */
void lj_pf_print_addr(lj_buf *b, const struct lj_pf_addr *a, int af);

/* ---- nftables
 * ------------------------------------------------------------------------------------ */

#define LJ_PF_NFT_TABLE   "ljail_pf"
#define LJ_PF_NFT_BRTABLE "ljail_pf_br"

struct lj_pf_kernel {
	bool bridge_conntrack; /* nf_conntrack_bridge usable */
	bool br_netfilter;     /* /proc/sys/net/bridge/bridge-nf-call-iptables exists */
};

/* Compile conf to an nft script that atomically replaces ljail's tables (and nothing else); with
 * k->br_netfilter the bridge-family table marking bridged frames with their port is included.
 * Constructs nftables cannot express fail here, before anything is loaded. */
int lj_pf_compile(const struct lj_pf_conf *c, const struct lj_pf_kernel *k, lj_buf *out, lj_err *e);
/* Probe what the kernel of the current network namespace offers. */
void lj_pf_probe(struct lj_pf_kernel *k);
/* Run an nft script through libnftables in the current network namespace (dry: check only). */
int lj_pf_nft_run(const char *script, bool dry, lj_buf *output, lj_err *e);

/* State kept beside the nft table, created if missing: $LJAIL_RUNDIR/pf/<netns inode>/ holding the
 * printed rules and nat rules (and their -P forms), "enabled", "tables", "table.NAME" and "brnf"
 * (br_netfilter's switches before the first load). */
int lj_pf_state_dir(char **out, lj_err *e);

/* Load conf: compile, commit atomically, enable br_netfilter where needed, save the state.
 * On failure the previous ruleset stays. */
int lj_pf_load(const struct lj_pf_conf *c, lj_err *e);
/* Remove ljail's tables and state of the given parts ("rules", "nat", "Tables", "all"). */
int lj_pf_flush(const char *what, lj_buf *msg, lj_err *e);
/* Enable / disable (pfctl -e/-d): the base chains jump to the rule chains only while enabled;
 * the state directory's "enabled" file records it. Errors "pf already enabled" / "pf not enabled".
 */
int lj_pf_enable(bool on, lj_buf *msg, lj_err *e);
bool lj_pf_is_enabled(void);

/* Show: "rules", "nat", "Tables", "info", "labels"; verbose adds counters. */
int lj_pf_show(const char *what, int verbose, bool numeric, lj_buf *out, lj_err *e);

/* Table commands (pfctl -t T -T add|delete|replace|flush|show|test|kill addrs...): the four nft
 * sets of the table change in one transaction, and the state copy with them. msg gets pfctl's
 * stderr lines, out its stdout. Returns 0, 2 for "test" when not every address matched, -1. */
int lj_pf_table_cmd(const char *table, const char *cmd, char *const *addrs, int naddrs, bool dry,
                    lj_buf *out, lj_buf *msg, lj_err *e);
