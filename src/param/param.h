/* param: the table of every jail parameter jail(8) knows, and the checks made before anything runs.
 *
 * One row per parameter: the kernel parameters of FreeBSD's kern_jail.c, the pseudo-parameters
 * jail(8) itself acts on (exec.*, mount.*, depend ...), and ljail's own `rctl`. Each row says its
 * type, its default, whether it can only be set at creation (RDTUN) or only read, and what it
 * does on Linux (or the one-line reason it does nothing here), which `jail -v` prints.
 * Rows flagged LJ_PF_FAMILY ("meta.", "env.") stand for every KEY under them (meta.KEY). */
#pragma once

#include "conf/conf.h"

enum lj_ptype {
	LJ_PT_BOOL = 1, /* true|false|<int>, case-insensitive; bare "p;" = true, "nop;" = false */
	LJ_PT_INT,      /* signed integer ("I") */
	LJ_PT_UINT,     /* unsigned long ("LU"): host.hostid */
	LJ_PT_STRING,   /* "S" */
	LJ_PT_LIST,     /* a list of strings (exec.*, mount, depend, vnet.interface, rctl ...) */
	LJ_PT_JAILSYS,  /* disable|new|inherit or 0|1|2; "" = new */
	LJ_PT_IP4,      /* list of [iface|]addr[/mask][ args] */
	LJ_PT_IP6,
};

enum lj_jailsys { LJ_JAILSYS_DISABLE = 0, LJ_JAILSYS_NEW = 1, LJ_JAILSYS_INHERIT = 2 };

enum {
	LJ_PF_RDTUN = 1 << 0, /* create-only: a change needs a restart (-mr) */
	LJ_PF_RO = 1 << 1,    /* read-only: jls shows it, jail.conf may not set it */
	LJ_PF_PSEUDO =
	        1 << 2,      /* jail(8)'s own (exec.*, mount.*, ...): never sent to the "kernel" */
	LJ_PF_NOOP = 1 << 3, /* accepted for compatibility, no effect on Linux (`linux` says why) */
	LJ_PF_LJAIL = 1 << 4,  /* ljail's own extension (rctl) */
	LJ_PF_FAMILY = 1 << 5, /* the name is a prefix: "meta." matches meta.anything */
	LJ_PF_REV = 1 << 6,    /* list undone in reverse on removal (mount, mount.fstab, ip) */
};

struct lj_param_def {
	const char *name; /* "allow.raw_sockets", "exec.start", "meta." (FAMILY) */
	enum lj_ptype type;
	unsigned flags;    /* LJ_PF_* */
	const char *dflt;  /* default as jls would print it; NULL = unset/none */
	int min, max;      /* range for INT/UINT when min < max; else unchecked */
	const char *linux; /* how it maps onto Linux, or why it has no effect */
};

/* The whole table, grouped as jail.conf(5) lists the parameters. */
const struct lj_param_def *lj_param_table(size_t *n);

/* Look a parameter up by name. A "no" spelling (nopersist, allow.nomount, mount.nodevfs) finds the
 * boolean it negates and sets *negated (may be NULL). meta.KEY / env.KEY find their family row.
 * NULL when unknown. */
const struct lj_param_def *lj_param_lookup(const char *name, bool *negated);

/* Check every parameter of a merged jail, before anything runs; the first problem is returned:
 * j->error (a variable or redefinition error of the merge), unknown names
 * ("unknown parameter: X"), read-only ones ("X: read-only parameter"), bad booleans
 * ("X: unknown boolean value \"v\""), bad integers ("X: non-integer value \"v\""), numbers out
 * of the table's range ("X: value V out of range (MIN to MAX)"), bad jailsys
 * ("X: unknown jailsys value \"v\""), bad addresses ("ip4.addr: not an IPv4 address: A",
 * "ip4.addr: bad netmask \"M\""). Scalars are judged by their last value, as jail(8) does.
 * The message has no "NAME: " prefix; jail(8) adds it for configured jails. */
int lj_param_check_jail(const struct jc_jail *j, lj_err *e);

/* The same, limited to what removal needs: j->error and the format of jail(8)'s own
 * parameters (exec.*, stop.timeout ...); unknown names are let through. */
int lj_param_check_pseudo(const struct jc_jail *j, lj_err *e);

/* Value parsers, FreeBSD's rules. Return -1 and fill e ("NAME: unknown boolean value \"v\"")
 * on a bad value; `name` is only used for the message. */
int lj_param_parse_bool(const char *name, const char *s, bool *out, lj_err *e);
int lj_param_parse_int(const char *name, const char *s, long long *out, lj_err *e);
int lj_param_parse_jailsys(const char *name, const char *s, enum lj_jailsys *out, lj_err *e);

/* A jail's typed values with the table's defaults (after lj_param_check_jail accepted it).
 * lj_param_jailsys also applies the implied values: ip4/ip6 are new when ip4.addr/ip6.addr
 * is set and inherit in a vnet=new jail; sysv* inherit when allow.sysvipc is true. */
bool lj_param_bool(const struct jc_jail *j, const char *name);
long long lj_param_int(const struct jc_jail *j, const char *name);
enum lj_jailsys lj_param_jailsys(const struct jc_jail *j, const char *name);

/* The "Linux:" text for one parameter name (lookup included); NULL when unknown. */
const char *lj_param_linux(const char *name);
