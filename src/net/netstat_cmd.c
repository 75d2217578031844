/* FreeBSD's netstat(1), the routing-table view (-r): netstat -rn [-f inet|inet6] [-4|-6]. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

struct ns_run {
	const char *prog;
	int family;
	bool numeric;
};

static int ns_run(void *arg)
{
	struct ns_run *c = arg;
	lj_err e;
	struct lj_nl *nl = lj_nl_open(&e);
	if (!nl) {
		fprintf(stderr, "%s: %s\n", c->prog, e.msg);
		return 1;
	}
	lj_autofree struct lj_link *links = NULL;
	lj_autofree struct lj_route *mainr = NULL, *localr = NULL;
	size_t nlinks = 0, nmain = 0, nlocal = 0;
	int rc = 0;
	if (lj_net_links(nl, &links, &nlinks, &e) < 0 ||
	    lj_net_routes(nl, c->family, RT_TABLE_MAIN, &mainr, &nmain, &e) < 0 ||
	    lj_net_routes(nl, c->family, RT_TABLE_LOCAL, &localr, &nlocal, &e) < 0) {
		fprintf(stderr, "%s: %s\n", c->prog, e.msg);
		rc = 1;
	} else {
		struct lj_route *all = xcalloc(nmain + nlocal + 1, sizeof(*all));
		if (nmain)
			memcpy(all, mainr, nmain * sizeof(*all));
		if (nlocal)
			memcpy(all + nmain, localr, nlocal * sizeof(*all));
		lj_buf b = {0};
		lj_netstat_format(all, nmain + nlocal, links, nlinks, c->family, c->numeric, &b);
		fputs(lj_buf_str(&b), stdout);
		lj_buf_free(&b);
		free(all);
	}
	lj_nl_close(nl);
	fflush(stdout);
	return rc;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s -r [-46nW] [-F fibnum] [-f address_family] [-j jail]\n", prog);
}

int lj_netstat_main(int argc, char **argv)
{
	const char *prog = "netstat";
	if (argc > 0 && argv[0] && *argv[0]) {
		const char *s = strrchr(argv[0], '/');
		prog = s ? s + 1 : argv[0];
	}
	struct ns_run c = {.prog = prog, .family = AF_UNSPEC};
	bool routes = false;
	const char *jail = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1]) {
			usage(prog);
			return 1;
		}
		for (const char *q = a + 1; *q; q++) {
			switch (*q) {
			case 'r':
				routes = true;
				break;
			case 'n':
				c.numeric = true;
				break;
			case 'W':
				break;
			case '4':
				c.family = AF_INET;
				break;
			case '6':
				c.family = AF_INET6;
				break;
			case 'f':
			case 'F':
			case 'j': {
				const char *v = q[1] ? q + 1 : (i + 1 < argc ? argv[++i] : NULL);
				if (!v) {
					usage(prog);
					return 1;
				}
				if (*q == 'f') {
					if (!strcmp(v, "inet"))
						c.family = AF_INET;
					else if (!strcmp(v, "inet6"))
						c.family = AF_INET6;
					else {
						fprintf(stderr, "%s: %s: unknown address family\n",
						        prog, v);
						return 1;
					}
				} else if (*q == 'F' && strcmp(v, "0")) {
					fprintf(stderr, "%s: %s: invalid fib\n", prog, v);
					return 1;
				} else if (*q == 'j') {
					jail = v;
				}
				goto next;
			}
			default:
				usage(prog);
				return 1;
			}
		}
	next:;
	}
	if (!routes) {
		fprintf(stderr, "%s: only the routing tables (-r) are implemented\n", prog);
		usage(prog);
		return 1;
	}
	if (!jail)
		return ns_run(&c);
	lj_err e;
	int fd = lj_net_jail_netns_fd(jail, &e);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	int rc = lj_net_in_netns(fd, ns_run, &c, &e);
	close(fd);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, e.msg);
		return 1;
	}
	return rc;
}
