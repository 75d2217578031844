/* pf names: services and protocols read from files (not libc's NSS, so tests can point at
 * FreeBSD's copies), ICMP type/code names as pfctl knows them, interface addresses. */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>

#include "pf/pf_int.h"

struct db_ent {
	char *name;
	char **aliases;
	int naliases;
	int num;
	char proto[8];
};

struct db {
	bool loaded;
	struct db_ent *e;
	int n;
};

static struct db services, protocols;

static void db_load(struct db *d, const char *path, bool is_services)
{
	if (d->loaded)
		return;
	d->loaded = true;
	char *text = NULL;
	size_t len;
	if (lj_read_file(path, &text, &len, NULL) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *h = strchr(line, '#');
		if (h)
			*h = '\0';
		char *ws = NULL;
		char *name = strtok_r(line, " \t\r", &ws);
		char *num = name ? strtok_r(NULL, " \t\r", &ws) : NULL;
		if (!num)
			continue;
		struct db_ent ent = {0};
		if (is_services) {
			char *slash = strchr(num, '/');
			if (!slash || strlen(slash + 1) >= sizeof(ent.proto))
				continue;
			*slash = '\0';
			strcpy(ent.proto, slash + 1);
		}
		if (!lj_parse_int(num, &ent.num))
			continue;
		ent.name = xstrdup(name);
		for (char *a = strtok_r(NULL, " \t\r", &ws); a; a = strtok_r(NULL, " \t\r", &ws)) {
			ent.aliases = xrealloc(ent.aliases, sizeof(char *) * (ent.naliases + 1));
			ent.aliases[ent.naliases++] = xstrdup(a);
		}
		d->e = xrealloc(d->e, sizeof(*d->e) * (d->n + 1));
		d->e[d->n++] = ent;
	}
	free(text);
}

static const char *env_or(const char *var, const char *def)
{
	const char *v = getenv(var);
	return v && *v ? v : def;
}

static bool ent_named(const struct db_ent *e, const char *name)
{
	if (strcmp(e->name, name) == 0)
		return true;
	for (int i = 0; i < e->naliases; i++)
		if (strcmp(e->aliases[i], name) == 0)
			return true;
	return false;
}

int lj_pf_service_port(const char *name, const char *proto)
{
	db_load(&services, env_or("PF_SERVICES", "/etc/services"), true);
	for (int i = 0; i < services.n; i++)
		if (strcmp(services.e[i].proto, proto) == 0 && ent_named(&services.e[i], name))
			return services.e[i].num;
	return -1;
}

const char *lj_pf_service_name(int port, const char *proto)
{
	db_load(&services, env_or("PF_SERVICES", "/etc/services"), true);
	for (int i = 0; i < services.n; i++)
		if (services.e[i].num == port && strcmp(services.e[i].proto, proto) == 0)
			return services.e[i].name;
	return NULL;
}

int lj_pf_proto_number(const char *name)
{
	db_load(&protocols, env_or("PF_PROTOCOLS", "/etc/protocols"), false);
	for (int i = 0; i < protocols.n; i++)
		if (ent_named(&protocols.e[i], name))
			return protocols.e[i].num;
	return -1;
}

const char *lj_pf_proto_name(int num)
{
	db_load(&protocols, env_or("PF_PROTOCOLS", "/etc/protocols"), false);
	for (int i = 0; i < protocols.n; i++)
		if (protocols.e[i].num == num)
			return protocols.e[i].name;
	return NULL;
}

/* ---- ICMP names (pfctl_parser.c's tables, same order so number -> name picks the same one) --- */

static const struct lj_pf_icmp_name icmp_types[] = {
        {"echoreq", 8},    {"echorep", 0},    {"unreach", 3},    {"squench", 4},
        {"redir", 5},      {"althost", 6},    {"routeradv", 9},  {"routersol", 10},
        {"timex", 11},     {"paramprob", 12}, {"timereq", 13},   {"timerep", 14},
        {"inforeq", 15},   {"inforep", 16},   {"maskreq", 17},   {"maskrep", 18},
        {"trace", 30},     {"dataconv", 31},  {"mobredir", 32},  {"ipv6-where", 33},
        {"ipv6-here", 34}, {"mobregreq", 35}, {"mobregrep", 36}, {"skip", 39},
        {"photuris", 40},
};

static const struct lj_pf_icmp_name icmp6_types[] = {
        {"unreach", 1},      {"toobig", 2},       {"timex", 3},        {"paramprob", 4},
        {"echoreq", 128},    {"echorep", 129},    {"groupqry", 130},   {"listqry", 130},
        {"grouprep", 131},   {"listenrep", 131},  {"groupterm", 132},  {"listendone", 132},
        {"routersol", 133},  {"routeradv", 134},  {"neighbrsol", 135}, {"neighbradv", 136},
        {"redir", 137},      {"routrrenum", 138}, {"wrureq", 139},     {"wrurep", 140},
        {"fqdnreq", 139},    {"fqdnrep", 140},    {"niqry", 139},      {"nirep", 140},
        {"mtraceresp", 200}, {"mtrace", 201},
};

static const struct lj_pf_icmp_code icmp_codes[] = {
        {"net-unr", 3, 0},        {"host-unr", 3, 1},       {"proto-unr", 3, 2},
        {"port-unr", 3, 3},       {"needfrag", 3, 4},       {"srcfail", 3, 5},
        {"net-unk", 3, 6},        {"host-unk", 3, 7},       {"isolate", 3, 8},
        {"net-prohib", 3, 9},     {"host-prohib", 3, 10},   {"net-tos", 3, 11},
        {"host-tos", 3, 12},      {"filter-prohib", 3, 13}, {"host-preced", 3, 14},
        {"cutoff-preced", 3, 15}, {"redir-net", 5, 0},      {"redir-host", 5, 1},
        {"redir-tos-net", 5, 2},  {"redir-tos-host", 5, 3}, {"normal-adv", 9, 0},
        {"common-adv", 9, 16},    {"transit", 11, 0},       {"reassemb", 11, 1},
        {"badhead", 12, 0},       {"optmiss", 12, 1},       {"badlen", 12, 2},
        {"unknown-ind", 40, 1},   {"auth-fail", 40, 2},     {"decrypt-fail", 40, 3},
};

static const struct lj_pf_icmp_code icmp6_codes[] = {
        {"admin-unr", 1, 1},  {"noroute-unr", 1, 0},   {"notnbr-unr", 1, 2},
        {"beyond-unr", 1, 2}, {"addr-unr", 1, 3},      {"port-unr", 1, 4},
        {"transit", 3, 0},    {"reassemb", 3, 1},      {"badhead", 4, 0},
        {"nxthdr", 4, 1},     {"redironlink", 137, 0}, {"redirrouter", 137, 1},
};

int lj_pf_icmp_type_number(const char *name, int af)
{
	const struct lj_pf_icmp_name *t = af == AF_INET6 ? icmp6_types : icmp_types;
	size_t n = af == AF_INET6 ? LJ_ARRAY_LEN(icmp6_types) : LJ_ARRAY_LEN(icmp_types);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].type;
	return -1;
}

const char *lj_pf_icmp_type_name(int type, int af)
{
	const struct lj_pf_icmp_name *t = af == AF_INET6 ? icmp6_types : icmp_types;
	size_t n = af == AF_INET6 ? LJ_ARRAY_LEN(icmp6_types) : LJ_ARRAY_LEN(icmp_types);
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return t[i].name;
	return NULL;
}

int lj_pf_icmp_code_number(int type, const char *name, int af)
{
	const struct lj_pf_icmp_code *t = af == AF_INET6 ? icmp6_codes : icmp_codes;
	size_t n = af == AF_INET6 ? LJ_ARRAY_LEN(icmp6_codes) : LJ_ARRAY_LEN(icmp_codes);
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type && strcmp(t[i].name, name) == 0)
			return t[i].code;
	return -1;
}

const char *lj_pf_icmp_code_name(int type, int code, int af)
{
	const struct lj_pf_icmp_code *t = af == AF_INET6 ? icmp6_codes : icmp_codes;
	size_t n = af == AF_INET6 ? LJ_ARRAY_LEN(icmp6_codes) : LJ_ARRAY_LEN(icmp_codes);
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type && t[i].code == code)
			return t[i].name;
	return NULL;
}

/* ---- addresses --------------------------------------------------------------------------------
 */

void lj_pf_mask_addr(uint8_t *a, int af, int prefix)
{
	int bytes = af == AF_INET ? 4 : 16;
	for (int i = 0; i < bytes; i++) {
		int bits = prefix - i * 8;
		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

/* inet_net_pton-style IPv4: 1 to 4 dotted parts, missing ones are zero ("10/8", "10.1/8"). */
static bool parse_v4_net(const char *s, uint8_t *out)
{
	int parts = 0;
	memset(out, 0, 4);
	const char *p = s;
	while (*p) {
		if (parts == 4 || !isdigit((unsigned char)*p))
			return false;
		unsigned v = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (v > 255)
				return false;
		}
		out[parts++] = (uint8_t)v;
		if (*p == '.') {
			p++;
			if (!*p)
				return false;
		} else if (*p)
			return false;
	}
	return parts > 0;
}

int lj_pf_parse_addr(const char *s, int mask, struct lj_pf_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->type = LJ_PF_A_ADDR;
	char buf[128];
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	char *pct = strchr(buf, '%');
	if (pct)
		*pct = '\0'; /* link-local scope: kept out of the subset, the address still parses
		              */
	if (inet_pton(AF_INET, buf, out->a) == 1 || (mask >= 0 && parse_v4_net(buf, out->a))) {
		out->af = AF_INET;
		if (mask > 32)
			return -1;
		out->prefix = mask < 0 ? 32 : mask;
	} else if (inet_pton(AF_INET6, buf, out->a) == 1) {
		out->af = AF_INET6;
		if (mask > 128)
			return -1;
		out->prefix = mask < 0 ? 128 : mask;
	} else
		return -1;
	lj_pf_mask_addr(out->a, out->af, out->prefix);
	return 0;
}

/* ---- interfaces --------------------------------------------------------------------------------
 */

static int prefix_of(const struct sockaddr *sa)
{
	if (!sa)
		return -1;
	const uint8_t *m;
	int n;
	if (sa->sa_family == AF_INET) {
		m = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else if (sa->sa_family == AF_INET6) {
		m = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		n = 16;
	} else
		return -1;
	int bits = 0;
	for (int i = 0; i < n; i++)
		for (int b = 7; b >= 0; b--)
			if (m[i] & (1 << b))
				bits++;
	return bits;
}

/* One snapshot of the kernel's interfaces while held (a parse, a compile): a pf.conf host is
 * first tried as an interface name, and re-reading every link and address per host made loading
 * a large ruleset cost two netlink dumps per address. */
static struct ifaddrs *if_snap;
static int if_hold;

void lj_pf_ifcache_hold(void)
{
	if_hold++;
}

void lj_pf_ifcache_release(void)
{
	if (--if_hold == 0 && if_snap) {
		freeifaddrs(if_snap);
		if_snap = NULL;
	}
}

static bool kernel_if_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

const char *lj_pf_linux_ifname(const char *name)
{
	if (strcmp(name, "lo0") == 0 && !getenv("PF_IFADDRS") && !kernel_if_exists("lo0"))
		return "lo";
	return name;
}

static void push_ifaddr(struct lj_pf_ifaddr **out, int *n, const struct lj_pf_ifaddr *a)
{
	*out = xrealloc(*out, sizeof(**out) * (*n + 1));
	(*out)[(*n)++] = *a;
}

int lj_pf_ifaddrs(const char *name, struct lj_pf_ifaddr **out, bool *exists)
{
	*out = NULL;
	*exists = false;
	int n = 0;
	bool self = strcmp(name, "self") == 0;
	const char *stub = getenv("PF_IFADDRS");
	if (stub && *stub) {
		char *text = NULL;
		size_t len;
		if (lj_read_file(stub, &text, &len, NULL) < 0)
			return 0;
		char *save = NULL;
		for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char ifn[64], addr[128];
			if (sscanf(l, "%63s %127s", ifn, addr) != 2 || ifn[0] == '#')
				continue;
			if (!self && strcmp(ifn, name) != 0)
				continue;
			*exists = true;
			char *slash = strchr(addr, '/');
			int mask = -1;
			if (slash) {
				*slash = '\0';
				mask = atoi(slash + 1);
			}
			struct lj_pf_addr pa;
			if (lj_pf_parse_addr(addr, -1, &pa) < 0)
				continue;
			struct lj_pf_ifaddr ia = {.af = pa.af,
			                          .prefix = mask < 0 ? pa.prefix : mask};
			memcpy(ia.addr, pa.a, 16);
			push_ifaddr(out, &n, &ia);
		}
		free(text);
		return n;
	}
	const char *lname = self ? name : lj_pf_linux_ifname(name);
	struct ifaddrs *ifa0 = NULL;
	if (if_hold && if_snap)
		ifa0 = if_snap;
	else if (getifaddrs(&ifa0) < 0)
		return 0;
	else if (if_hold)
		if_snap = ifa0;
	for (struct ifaddrs *ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		if (!self && strcmp(ifa->ifa_name, lname) != 0)
			continue;
		*exists = true;
		if (!ifa->ifa_addr)
			continue;
		struct lj_pf_ifaddr ia = {.af = ifa->ifa_addr->sa_family};
		if (ia.af == AF_INET) {
			memcpy(ia.addr, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
			if (ifa->ifa_broadaddr && (ifa->ifa_flags & IFF_BROADCAST)) {
				memcpy(ia.bcast,
				       &((struct sockaddr_in *)ifa->ifa_broadaddr)->sin_addr, 4);
				ia.has_bcast = true;
			}
		} else if (ia.af == AF_INET6)
			memcpy(ia.addr, &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr, 16);
		else
			continue;
		ia.prefix = prefix_of(ifa->ifa_netmask);
		if (ia.prefix < 0)
			ia.prefix = ia.af == AF_INET ? 32 : 128;
		push_ifaddr(out, &n, &ia);
	}
	if (ifa0 != if_snap)
		freeifaddrs(ifa0);
	/* the snapshot lists every link (AF_PACKET entries), so a miss there is final */
	if (!*exists && !self && !if_hold)
		*exists = kernel_if_exists(lname);
	return n;
}
