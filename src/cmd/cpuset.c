/* cpuset(1): show and set CPU affinity of processes, threads and jails, FreeBSD's syntax.
 *
 * A jail's set is its cgroup's cpuset plus the affinity of every thread in it; processes started
 * in the jail later get it from the group. Linux has no numbered cpu sets: -s and -C are refused,
 * as are memory domain policies (-n); -g -i shows a jail's set id the way jls(8) does. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "registry/registry.h"

static const char *prog = "cpuset";

static void usage(void)
{
	fprintf(stderr,
	        "usage: cpuset [-l cpu-list] [-n policy:domain-list] [-s setid] cmd ...\n"
	        "       cpuset [-l cpu-list] [-n policy:domain-list] [-s setid] -p pid\n"
	        "       cpuset [-c] [-l cpu-list] [-n policy:domain-list] -C -p pid\n"
	        "       cpuset [-c] [-l cpu-list] [-n policy:domain-list]\n"
	        "              [-j jailid | -p pid | -t tid | -s setid | -x irq]\n"
	        "       cpuset -g [-cir]\n"
	        "              [-d domain | -j jailid | -p pid | -t tid | -s setid | -x irq]\n");
	exit(1);
}

static void die(const lj_err *e)
{
	lj_err_print(prog, e);
	exit(1);
}

static void dief(int errnum, const char *what)
{
	lj_err e;
	lj_error(&e, errnum, "%s", what);
	die(&e);
}

static long parse_id(const char *s, const char *what)
{
	int v;
	if (!lj_parse_int(s, &v) || v < 0) {
		lj_warnx(prog, "invalid %s: %s", what, s);
		exit(1);
	}
	return v;
}

/* A jail's cpuset id, as jls(8) shows it: the record's cpuset.id, else JID + 1 (FreeBSD gives
 * 0 to the root set and 1 to the default set; each jail gets the next). */
static long setid_of(const struct lj_record *rec)
{
	const char *v = lj_record_get(rec, "cpuset.id");
	int id;
	return v && lj_parse_int(v, &id) ? id : rec->jid + 1;
}

static long jail_setid = -1;

/* The jail by JID or name: its record gives the numeric JID, the name of its group and its set
 * id. False (e filled) when there is no such jail. */
static bool lookup_jail(const char *which, int *jid, char **name, lj_err *e)
{
	struct lj_registry reg;
	struct lj_record rec = {0};
	if (lj_reg_open(&reg, e) < 0)
		return false;
	if (lj_reg_find(&reg, which, &rec, e) < 0) {
		lj_reg_close(&reg);
		return false;
	}
	*jid = rec.jid;
	*name = xstrdup(rec.name);
	jail_setid = setid_of(&rec);
	lj_record_free(&rec);
	lj_reg_close(&reg);
	return true;
}

static void find_jail(const char *which, int *jid, char **name)
{
	lj_err e;
	if (!lookup_jail(which, jid, name, &e))
		die(&e);
}

static struct lj_cg *jail_group(const char *name)
{
	struct lj_cg *cg;
	lj_err e;
	if (lj_cg_open(name, &cg, &e) < 0)
		die(&e);
	return cg;
}

static void print_mask(const char *which, long id, const char *level, const cpu_set_t *set)
{
	lj_autofree char *l = lj_cpulist_format(set, ", ");
	printf("%s %ld%s mask: %s\n", which, id, level, l);
}

static void print_domain(const char *which, long id, const char *level, const cpu_set_t *nodes)
{
	/* Linux allocates on the node that first touches a page unless told otherwise. */
	lj_autofree char *l = lj_cpulist_format(nodes, ", ");
	printf("%s %ld%s domain policy: first-touch mask: %s\n", which, id, level, l);
}

static void nodes_of_pid(pid_t pid, cpu_set_t *nodes)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
	lj_autofree char *st = NULL;
	CPU_ZERO(nodes);
	CPU_SET(0, nodes);
	if (lj_read_file(p, &st, NULL, NULL) < 0)
		return;
	char *k = strstr(st, "\nMems_allowed_list:");
	if (!k)
		return;
	k += strlen("\nMems_allowed_list:");
	k += strspn(k, " \t");
	lj_autofree char *list = xstrndup(k, strcspn(k, "\n"));
	cpu_set_t s;
	if (lj_cpulist_parse(list, &s, NULL) == 0)
		*nodes = s;
}

static void online(cpu_set_t *set)
{
	lj_err e;
	if (lj_cpus_online(set, &e) < 0)
		die(&e);
}

/* A CPU the host does not have is refused the way FreeBSD refuses one outside the root set. */
static void check_cpus(const cpu_set_t *set)
{
	cpu_set_t all, u;
	online(&all);
	CPU_OR(&u, set, &all);
	if (CPU_COUNT(set) == 0 || !CPU_EQUAL(&u, &all))
		dief(EINVAL, "setaffinity");
}

int main(int argc, char **argv)
{
	bool cflag = false, gflag = false, iflag = false, rflag = false, Cflag = false;
	const char *lflag = NULL, *nflag = NULL, *jflag = NULL, *dflag = NULL, *sflag = NULL;
	long pid = -1, tid = -1, irq = -1;
	int ch;
	while ((ch = getopt(argc, argv, "+Ccd:gij:l:n:p:rs:t:x:")) != -1) {
		switch (ch) {
		case 'C':
			Cflag = true;
			break;
		case 'c':
			cflag = true;
			break;
		case 'd':
			dflag = optarg;
			break;
		case 'g':
			gflag = true;
			break;
		case 'i':
			iflag = true;
			break;
		case 'j':
			jflag = optarg;
			break;
		case 'l':
			lflag = optarg;
			break;
		case 'n':
			nflag = optarg;
			break;
		case 'p':
			pid = parse_id(optarg, "pid");
			break;
		case 'r':
			rflag = true;
			break;
		case 's':
			sflag = optarg;
			break;
		case 't':
			tid = parse_id(optarg, "tid");
			break;
		case 'x':
			irq = parse_id(optarg, "irq");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	int targets = (pid >= 0) + (tid >= 0) + (irq >= 0) + !!jflag + !!sflag + !!dflag;
	if (targets > 1 || (cflag && rflag))
		usage();
	if (sflag || Cflag || (iflag && !gflag)) {
		lj_warnx(prog,
		         "numbered cpu sets (-s, -C) do not exist on Linux; use -p, -t or -j");
		return 1;
	}
	if (nflag) {
		lj_warnx(prog, "memory domain policies (-n) are not supported on Linux");
		return 1;
	}
	const char *level = rflag ? " root" : cflag ? " cpuset" : "";
	cpu_set_t set, nodes;
	lj_err e;

	if (gflag) {
		if (lflag || argc)
			usage();
		if (dflag) {
			long d = parse_id(dflag, "domain");
			char p[96];
			snprintf(p, sizeof p, "/sys/devices/system/node/node%ld/cpulist", d);
			lj_autofree char *s = NULL;
			if (lj_read_file(p, &s, NULL, NULL) < 0)
				dief(d == 0 ? 0 : EINVAL, "getdomain");
			s[strcspn(s, "\n")] = '\0';
			if (lj_cpulist_parse(s, &set, &e) < 0)
				die(&e);
			print_mask("domain", d, level, &set);
			return 0;
		}
		if (irq >= 0) {
			char p[64];
			snprintf(p, sizeof p, "/proc/irq/%ld/smp_affinity_list", irq);
			lj_autofree char *s = NULL;
			if (lj_read_file(p, &s, NULL, NULL) < 0)
				dief(errno == ENOENT ? ESRCH : errno, "getaffinity");
			s[strcspn(s, "\n")] = '\0';
			if (lj_cpulist_parse(s, &set, &e) < 0)
				die(&e);
			print_mask("irq", irq, level, &set);
			return 0;
		}
		if (iflag) {
			/* the set id: a jail's own, 1 (the default set) for a process in no jail */
			if (irq >= 0 || dflag)
				usage();
			long id = 1;
			if (jflag) {
				int jid;
				lj_autofree char *name = NULL;
				find_jail(jflag, &jid, &name);
				printf("jail %d%s cpuset id: %ld\n", jid, level, jail_setid);
				return 0;
			}
			long who = tid >= 0 ? tid : pid;
			if (sched_getaffinity((pid_t)(who >= 0 ? who : 0), sizeof set, &set) < 0)
				dief(errno, "getid");
			lj_autofree char *jail =
			        lj_cg_jail_of_pid(who >= 0 ? (pid_t)who : getpid());
			int jid;
			lj_autofree char *name = NULL;
			if (jail && lookup_jail(jail, &jid, &name, &e))
				id = jail_setid;
			printf("%s %ld%s cpuset id: %ld\n", tid >= 0 ? "tid" : "pid", who, level,
			       id);
			return 0;
		}
		if (jflag) {
			int jid;
			lj_autofree char *name = NULL;
			find_jail(jflag, &jid, &name);
			struct lj_cg *cg = jail_group(name);
			if (lj_cg_get_cpus(cg, &set, &e) < 0 || lj_cg_get_mems(cg, &nodes, &e) < 0)
				die(&e);
			lj_cg_free(cg);
			print_mask("jail", jid, level, &set);
			print_domain("jail", jid, level, &nodes);
			return 0;
		}
		const char *which = tid >= 0 ? "tid" : "pid";
		long id = tid >= 0 ? tid : pid;
		pid_t who = (pid_t)(id >= 0 ? id : 0);
		if (sched_getaffinity(who, sizeof set, &set) < 0)
			dief(errno, "getaffinity");
		if (rflag)
			online(&set);
		else if (cflag) {
			/* the process's set: its jail's group, or the whole machine */
			lj_autofree char *jail = lj_cg_jail_of_pid(who ? who : getpid());
			struct lj_cg *cg;
			if (jail && lj_cg_open(jail, &cg, NULL) == 0) {
				if (lj_cg_get_cpus(cg, &set, &e) < 0)
					die(&e);
				lj_cg_free(cg);
			} else
				online(&set);
		}
		nodes_of_pid(who ? who : getpid(), &nodes);
		print_mask(which, id, level, &set);
		print_domain(which, id, level, &nodes);
		return 0;
	}

	if (!lflag)
		usage();
	if (lj_cpulist_parse(lflag, &set, &e) < 0)
		die(&e);
	if (targets == 0 && argc == 0)
		usage();
	if (targets && argc)
		usage();
	check_cpus(&set);
	if (jflag) {
		int jid;
		lj_autofree char *name = NULL;
		find_jail(jflag, &jid, &name);
		struct lj_cg *cg = jail_group(name);
		if (lj_cg_set_cpus(cg, &set, &e) < 0)
			die(&e);
		lj_cg_free(cg);
		return 0;
	}
	if (pid >= 0) {
		if (lj_affinity_set_pid((pid_t)pid, &set, &e) < 0)
			die(&e);
		return 0;
	}
	if (tid >= 0) {
		if (sched_setaffinity((pid_t)tid, sizeof set, &set) < 0)
			dief(errno, "setaffinity");
		return 0;
	}
	if (irq >= 0) {
		char p[64];
		snprintf(p, sizeof p, "/proc/irq/%ld/smp_affinity_list", irq);
		lj_autofree char *l = lj_cpulist_format(&set, NULL);
		if (lj_write_str(p, l, &e) < 0)
			dief(e.errnum, "setaffinity");
		return 0;
	}
	if (sched_setaffinity(0, sizeof set, &set) < 0)
		dief(errno, "setaffinity");
	execvp(argv[0], argv);
	int saved = errno;
	lj_error(&e, saved, "%s", argv[0]);
	lj_err_print(prog, &e);
	return saved == ENOENT ? 127 : 126;
}
