/* pf module internals shared by its .c files (not part of the public header). */
#pragma once

#include "pf/pf.h"

struct lj_pf_icmp_name {
	const char *name;
	int type;
};
struct lj_pf_icmp_code {
	const char *name;
	int type, code;
};
/* af is AF_INET or AF_INET6; -1 / NULL when unknown. */
int lj_pf_icmp_type_number(const char *name, int af);
const char *lj_pf_icmp_type_name(int type, int af);
int lj_pf_icmp_code_number(int type, const char *name, int af);
const char *lj_pf_icmp_code_name(int type, int code, int af);

/* Address helpers. */
void lj_pf_mask_addr(uint8_t *a, int af, int prefix);
int lj_pf_parse_addr(const char *s, int mask, struct lj_pf_addr *out); /* literal ip[/mask] */
/* Read a table file (one address per line, # and ; comments). */
int lj_pf_read_table_file(const char *path, struct lj_pf_addr **out, int *n, lj_err *e);
/* Expand a table entry text (address, CIDR, interface, hostname) into addresses. */
int lj_pf_table_entry(const char *s, struct lj_pf_addr **out, int *n, lj_err *e);
void lj_pf_table_entry_print(lj_buf *b, const struct lj_pf_addr *a);

/* Hold one snapshot of the kernel's interface addresses for lj_pf_ifaddrs until the matching
 * release (nested holds share it). */
void lj_pf_ifcache_hold(void);
void lj_pf_ifcache_release(void);
