/* jls(8): list the running jails from the registry, in FreeBSD's formats (default, -N, -v,
 * parameter lists with -n/-q/-s/-h) and libxo's JSON (--libxo json, --libxo=json). */
#include "jail/jail.h"
#include "param/param.h"
#include "registry/registry.h"

#include <errno.h>
#include <unistd.h>

#define PROG "jls"

enum {
	P_DEFAULT = 0x01,
	P_HEADER = 0x02,
	P_NAMEVAL = 0x04,
	P_QUOTED = 0x08,
	P_SKIP = 0x10,
	P_VERBOSE = 0x20,
	P_NAME = 0x40,
};

static bool json;

static void usage(void)
{
	lj_warnx(PROG, "usage: jls [-dhNnqv] [-j jail] [param ...]");
	exit(1);
}

/* ---- parameters ----------------------------------------------------------------------------- */

struct pspec {
	char *name;
	const struct lj_param_def *def; /* NULL for jid/name/lastjid style specials */
	int parent;                     /* index of the jailsys parent (-s), or -1 */
};

static bool kernel_param(const struct lj_param_def *d)
{
	return !(d->flags & (LJ_PF_PSEUDO | LJ_PF_FAMILY)) && strcmp(d->name, "lastjid") != 0 &&
	       strcmp(d->name, "errmsg") != 0 && strcmp(d->name, "desc") != 0;
}

static int cmp_all(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	bool dx = strchr(x, '.') != NULL, dy = strchr(y, '.') != NULL;
	if (dx != dy)
		return dx ? 1 : -1;
	return strcmp(x, y);
}

static void add_param(struct pspec **ps, size_t *n, const char *name)
{
	if (strcmp(name, "all") == 0) {
		size_t tn;
		const struct lj_param_def *t = lj_param_table(&tn);
		const char **names = xcalloc(tn, sizeof *names);
		size_t k = 0;
		for (size_t i = 0; i < tn; i++)
			if (kernel_param(&t[i]))
				names[k++] = t[i].name;
		qsort(names, k, sizeof *names, cmp_all);
		for (size_t i = 0; i < k; i++)
			add_param(ps, n, names[i]);
		free(names);
		return;
	}
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*ps)[i].name, name) == 0)
			return;
	bool neg = false;
	const struct lj_param_def *d = lj_param_lookup(name, &neg);
	if (!d || (d->flags & LJ_PF_PSEUDO)) {
		lj_warnx(PROG, "unknown parameter: %s", name);
		exit(1);
	}
	*ps = xrealloc(*ps, (*n + 1) * sizeof **ps);
	(*ps)[*n] = (struct pspec){.name = xstrdup(name), .def = d, .parent = -1};
	(*n)++;
}

/* The value a jail has for a parameter: from its record, else the table's default. NULL when
 * the parameter has no value at all (an empty list). */
static const char *value_of(const struct lj_record *r, const struct pspec *p, char *buf, size_t len)
{
	if (strcmp(p->name, "jid") == 0) {
		snprintf(buf, len, "%d", r->jid);
		return buf;
	}
	if (strcmp(p->name, "name") == 0)
		return r->name;
	if (p->def && (p->def->flags & LJ_PF_FAMILY)) {
		/* meta.KEY: the key's value inside meta (k=v lines or words) */
		const char *v = lj_record_get(r, p->name);
		return v ? v : "";
	}
	const char *v = lj_record_get(r, p->def ? p->def->name : p->name);
	if (strcmp(p->name, "dying") == 0)
		return "false";
	if (strcmp(p->name, "ip4") == 0 || strcmp(p->name, "ip6") == 0) {
		if (v)
			return v;
		char an[16];
		snprintf(an, sizeof an, "%s.addr", p->name);
		const char *a = lj_record_get(r, an);
		const char *vn = lj_record_get(r, "vnet");
		if (a && *a)
			return "new";
		return vn && strcmp(vn, "new") == 0 ? "inherit" : "disable";
	}
	if (strcmp(p->name, "cpuset.id") == 0 && !v) {
		snprintf(buf, len, "%d", r->jid + 1);
		return buf;
	}
	if (!v && strncmp(p->name, "sysv", 4) == 0) {
		const char *sv = lj_record_get(r, "allow.sysvipc");
		if (sv && strcmp(sv, "true") == 0)
			return "inherit";
	}
	if (v)
		return v;
	if (p->def && p->def->dflt)
		return p->def->dflt;
	if (p->def && (p->def->type == LJ_PT_STRING))
		return "";
	return NULL;
}

static bool is_bool(const struct pspec *p)
{
	return p->def && p->def->type == LJ_PT_BOOL;
}

/* "allow.mount" -> "allow.nomount", "persist" -> "nopersist" */
static char *noname(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (dot)
		return xasprintf("%.*s.no%s", (int)(dot - name), name, dot + 1);
	return xasprintf("no%s", name);
}

/* ---- output --------------------------------------------------------------------------------- */

static void json_str(lj_buf *b, const char *s)
{
	lj_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			lj_buf_addc(b, '\\');
			lj_buf_addc(b, (char)c);
		} else if (c == '\n') {
			lj_buf_adds(b, "\\n");
		} else if (c == '\t') {
			lj_buf_adds(b, "\\t");
		} else if (c < 0x20) {
			lj_buf_addf(b, "\\u%04x", c);
		} else {
			lj_buf_addc(b, (char)c);
		}
	}
	lj_buf_addc(b, '"');
}

static void json_key(lj_buf *b, bool *first, const char *key)
{
	if (!*first)
		lj_buf_addc(b, ',');
	*first = false;
	json_str(b, key);
	lj_buf_addc(b, ':');
}

static void json_list(lj_buf *b, const char *csv)
{
	lj_buf_addc(b, '[');
	if (csv && *csv) {
		lj_autofree char *c = xstrdup(csv);
		char *save = NULL;
		bool first = true;
		for (char *t = strtok_r(c, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (!first)
				lj_buf_addc(b, ',');
			first = false;
			json_str(b, t);
		}
	}
	lj_buf_addc(b, ']');
}

static void quoted(lj_buf *out, int pflags, const char *v)
{
	if (!*v) {
		lj_buf_adds(out, "\"\"");
		return;
	}
	char qc = strchr(v, '\'')                       ? '"'
	          : strchr(v, '"')                      ? '\''
	          : (strchr(v, ' ') || strchr(v, '\t')) ? '"'
	                                                : 0;
	if (qc && (pflags & P_QUOTED))
		lj_buf_addc(out, qc);
	lj_buf_adds(out, v);
	if (qc && (pflags & P_QUOTED))
		lj_buf_addc(out, qc);
}

static void first_csv(const char *csv, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!csv)
		return;
	size_t n = strcspn(csv, ",");
	if (n >= len)
		n = len - 1;
	memcpy(buf, csv, n);
	buf[n] = '\0';
}

/* -s: read-only parameters, and those whose parent (host for host.hostname, ip4 for ip4.addr)
 * is not "new", are left out. */
static bool skip_param(const struct lj_record *r, struct pspec *ps, size_t i)
{
	if (ps[i].def && (ps[i].def->flags & LJ_PF_RO))
		return true;
	const char *dot = strchr(ps[i].name, '.');
	if (!dot)
		return false;
	lj_autofree char *parent = xstrndup(ps[i].name, (size_t)(dot - ps[i].name));
	const struct lj_param_def *d = lj_param_lookup(parent, NULL);
	if (!d || (d->flags & (LJ_PF_PSEUDO | LJ_PF_FAMILY)) || strcmp(d->name, parent) != 0)
		return false;
	struct pspec pp = {.name = parent, .def = d, .parent = -1};
	char buf[64];
	const char *v = value_of(r, &pp, buf, sizeof buf);
	if (!v)
		return true;
	if (d->type == LJ_PT_BOOL)
		return strcmp(v, "true") != 0;
	return strcmp(v, "new") != 0;
}

static void print_jail(lj_buf *out, const struct lj_record *r, int pflags, struct pspec *ps,
                       size_t np, bool *first_jail)
{
	char buf[64];
	if (json) {
		if (!*first_jail)
			lj_buf_adds(out, ", ");
		*first_jail = false;
		lj_buf_addc(out, '{');
		bool first = true;
		if (pflags & P_VERBOSE) {
			const char *hn = lj_record_get(r, "host.hostname");
			const char *path = lj_record_get(r, "path");
			json_key(out, &first, "jid");
			lj_buf_addf(out, "%d", r->jid);
			json_key(out, &first, "hostname");
			json_str(out, hn ? hn : "");
			json_key(out, &first, "path");
			json_str(out, path ? path : "/");
			json_key(out, &first, "name");
			json_str(out, r->name);
			json_key(out, &first, "state");
			json_str(out, "ACTIVE");
			json_key(out, &first, "cpusetid");
			const char *cs = lj_record_get(r, "cpuset.id");
			lj_buf_addf(out, "%d", cs ? atoi(cs) : r->jid + 1);
			json_key(out, &first, "ipv4_addrs");
			json_list(out, lj_record_get(r, "ip4.addr"));
			json_key(out, &first, "ipv6_addrs");
			json_list(out, lj_record_get(r, "ip6.addr"));
		} else if (pflags & P_DEFAULT) {
			char ip[64];
			first_csv(lj_record_get(r, "ip4.addr"), ip, sizeof ip);
			const char *hn = lj_record_get(r, "host.hostname");
			const char *path = lj_record_get(r, "path");
			if (pflags & P_NAME) {
				json_key(out, &first, "name");
				json_str(out, r->name);
			} else {
				json_key(out, &first, "jid");
				lj_buf_addf(out, "%d", r->jid);
			}
			json_key(out, &first, "ipv4");
			json_str(out, ip);
			json_key(out, &first, "hostname");
			json_str(out, hn ? hn : "");
			json_key(out, &first, "path");
			json_str(out, path ? path : "/");
		} else {
			for (size_t i = 0; i < np; i++) {
				const char *v = value_of(r, &ps[i], buf, sizeof buf);
				if ((pflags & P_SKIP) && skip_param(r, ps, i))
					continue;
				json_key(out, &first, ps[i].name);
				if (is_bool(&ps[i]) && (pflags & P_NAMEVAL))
					lj_buf_adds(out,
					            v && strcmp(v, "true") == 0 ? "true" : "false");
				else if (ps[i].def && (ps[i].def->type == LJ_PT_IP4 ||
				                       ps[i].def->type == LJ_PT_IP6))
					json_list(out, v);
				else if (!strcmp(ps[i].name, "jid"))
					lj_buf_addf(out, "%d", r->jid);
				else
					json_str(out, v ? v : "");
			}
		}
		lj_buf_addc(out, '}');
		return;
	}
	if (pflags & P_VERBOSE) {
		const char *hn = lj_record_get(r, "host.hostname");
		const char *path = lj_record_get(r, "path");
		const char *cs = lj_record_get(r, "cpuset.id");
		lj_buf_addf(out, "%6d  %-29.29s %.74s\n", r->jid, hn ? hn : "", path ? path : "/");
		lj_buf_addf(out, "        %-29.29s %.74s\n", r->name, "ACTIVE");
		lj_buf_addf(out, "        %d\n", cs ? atoi(cs) : r->jid + 1);
		const char *lists[2] = {lj_record_get(r, "ip4.addr"), lj_record_get(r, "ip6.addr")};
		for (int k = 0; k < 2; k++) {
			if (!lists[k] || !*lists[k])
				continue;
			lj_autofree char *c = xstrdup(lists[k]);
			char *save = NULL;
			for (char *t = strtok_r(c, ",", &save); t; t = strtok_r(NULL, ",", &save))
				lj_buf_addf(out, "        %s\n", t);
		}
		return;
	}
	if (pflags & P_DEFAULT) {
		char ip[64];
		first_csv(lj_record_get(r, "ip4.addr"), ip, sizeof ip);
		const char *hn = lj_record_get(r, "host.hostname");
		const char *path = lj_record_get(r, "path");
		if (pflags & P_NAME)
			lj_buf_addf(out, " %-15s ", r->name);
		else
			lj_buf_addf(out, "%6d  ", r->jid);
		lj_buf_addf(out, "%-15.15s %-29.29s %.74s\n", ip, hn ? hn : "", path ? path : "/");
		return;
	}
	bool spc = false;
	for (size_t i = 0; i < np; i++) {
		if ((pflags & P_SKIP) && skip_param(r, ps, i))
			continue;
		if (spc)
			lj_buf_addc(out, ' ');
		spc = true;
		const char *v = value_of(r, &ps[i], buf, sizeof buf);
		if ((pflags & P_NAMEVAL) && is_bool(&ps[i])) {
			bool t = v && strcmp(v, "true") == 0;
			if (t) {
				lj_buf_adds(out, ps[i].name);
			} else {
				lj_autofree char *nn = noname(ps[i].name);
				lj_buf_adds(out, nn);
			}
			continue;
		}
		if (pflags & P_NAMEVAL)
			lj_buf_addf(out, "%s=", ps[i].name);
		if (!v || (!*v && ps[i].def &&
		           (ps[i].def->type == LJ_PT_IP4 || ps[i].def->type == LJ_PT_IP6))) {
			/* a zero-length value */
			if (pflags & P_QUOTED)
				lj_buf_adds(out, "\"\"");
			else if (!(pflags & P_NAMEVAL))
				lj_buf_addc(out, '-');
			continue;
		}
		quoted(out, pflags, v);
	}
	lj_buf_addc(out, '\n');
}

int main(int argc, char **argv)
{
	int pflags = 0;
	bool check = false;
	const char *jname = NULL;

	/* libxo's own options come first: --libxo json, --libxo=json, --libxo:J */
	int k = 1;
	while (k < argc && lj_startswith(argv[k], "--libxo")) {
		const char *style = NULL;
		if (argv[k][7] == '=' || argv[k][7] == ':')
			style = argv[k] + 8;
		else if (argv[k][7] == '\0' && k + 1 < argc)
			style = argv[++k];
		else
			usage();
		if (strstr(style, "json") || (argv[k][7] == ':' && strchr(style, 'J')))
			json = true;
		else if (!strstr(style, "text"))
			usage();
		k++;
	}
	argv[k - 1] = argv[0];
	argc -= k - 1;
	argv += k - 1;

	int c;
	opterr = 0;
	while ((c = getopt(argc, argv, "acdj:hNnqsv")) != -1) {
		switch (c) {
		case 'a':
		case 'd':
			break; /* dying jails: a Linux jail is gone as soon as its init is */
		case 'c':
			check = true;
			break;
		case 'j':
			jname = optarg;
			break;
		case 'h':
			pflags = (pflags & ~(P_SKIP | P_VERBOSE)) | P_HEADER;
			break;
		case 'N':
			pflags |= P_NAME;
			break;
		case 'n':
			pflags = (pflags & ~P_VERBOSE) | P_NAMEVAL;
			break;
		case 'q':
			pflags |= P_QUOTED;
			break;
		case 's':
			pflags = (pflags & ~(P_HEADER | P_VERBOSE)) | P_NAMEVAL | P_QUOTED | P_SKIP;
			break;
		case 'v':
			pflags = (pflags & ~(P_HEADER | P_NAMEVAL | P_SKIP)) | P_VERBOSE;
			break;
		default:
			usage();
		}
	}
	if (check && !jname)
		usage();

	struct pspec *ps = NULL;
	size_t np = 0;
	if (optind == argc) {
		if (pflags & (P_HEADER | P_NAMEVAL))
			add_param(&ps, &np, "all");
		else if (!(pflags & P_VERBOSE))
			pflags |= P_DEFAULT;
	} else {
		pflags &= ~P_VERBOSE;
		for (; optind < argc; optind++)
			add_param(&ps, &np, argv[optind]);
	}

	struct lj_registry reg;
	lj_err e;
	lj_reg_on_dead(lj_jail_reap);
	bool none = false;
	if (lj_reg_open(&reg, &e) < 0) {
		/* no run directory (and no right to make it): no jail runs */
		if (e.errnum != ENOENT && e.errnum != EACCES) {
			lj_err_print(PROG, &e);
			return 1;
		}
		none = true;
	}
	struct lj_record *recs = NULL;
	size_t n = 0;
	if (none) {
		if (jname) {
			if (!check)
				lj_warnx(PROG, "jail \"%s\" not found", jname);
			return 1;
		}
	} else if (jname) {
		/* -j: a JID when it is a nonzero integer, else a name */
		recs = xcalloc(1, sizeof *recs);
		if (lj_reg_find(&reg, jname, &recs[0], &e) < 0) {
			free(recs);
			lj_reg_close(&reg);
			if (check)
				return 1;
			lj_err_print(PROG, &e);
			return 1;
		}
		n = 1;
	} else if (lj_reg_list(&reg, &recs, &n, &e) < 0) {
		lj_err_print(PROG, &e);
		lj_reg_close(&reg);
		return 1;
	}
	lj_reg_close(&reg);
	if (check) {
		lj_records_free(recs, n);
		return 0;
	}

	lj_buf out = {0};
	if (json) {
		lj_buf_adds(&out, "{\"__version\": \"2\", \"jail-information\": {\"jail\": [");
	} else if (pflags & P_VERBOSE) {
		lj_buf_adds(&out, "   JID  Hostname                      Path\n");
		lj_buf_adds(&out, "        Name                          State\n");
		lj_buf_adds(&out, "        CPUSetID\n");
		lj_buf_adds(&out, "        IP Address(es)\n");
	} else if (pflags & P_DEFAULT) {
		if (pflags & P_NAME)
			lj_buf_adds(&out, " JID             IP Address      Hostname               "
			                  "       Path\n");
		else
			lj_buf_adds(&out,
			            "   JID  IP Address      Hostname                      Path\n");
	} else if (pflags & P_HEADER) {
		for (size_t i = 0; i < np; i++) {
			if (i)
				lj_buf_addc(&out, ' ');
			lj_buf_adds(&out, ps[i].name);
		}
		lj_buf_addc(&out, '\n');
	}
	bool first = true;
	for (size_t i = 0; i < n; i++)
		print_jail(&out, &recs[i], pflags, ps, np, &first);
	if (json)
		lj_buf_adds(&out, "]}}\n");
	fwrite(lj_buf_str(&out), 1, out.len, stdout);
	lj_buf_free(&out);
	lj_records_free(recs, n);
	for (size_t i = 0; i < np; i++)
		free(ps[i].name);
	free(ps);
	return fflush(stdout) == 0 ? 0 : 1;
}
