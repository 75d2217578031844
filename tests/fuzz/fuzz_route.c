/* libFuzzer harness for route(8)'s argument parser (lj_route_parse). The parser is pure: it fills
 * a request and touches nothing (if_nametoindex() for a "%scope" is a read-only lookup). The
 * input is split on NUL and newline into argv after "route".
 *
 * Checked besides "no crash, no leak": a refused command line prints a message and returns
 * one of route's exit codes; an accepted one is consistent (a destination for every command but
 * flush, a prefix length within the family, host xor net, a gateway in the destination's family,
 * add/change with a gateway or -reject/-blackhole). */
#include <stdio.h>
#include <stdlib.h>

#include "net/net.h"
#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 256

static void check_req(const struct route_req *r)
{
	if (!r->cmdword)
		abort();
	if (r->cmd == R_FLUSH)
		return;
	if (!r->dest_text)
		abort();
	if (r->family != AF_INET && r->family != AF_INET6)
		abort();
	if (r->dst.family != r->family)
		abort();
	int full = r->family == AF_INET ? 32 : 128;
	if (r->dst.prefixlen < 0 || r->dst.prefixlen > full)
		abort();
	if (r->host == r->net)
		abort(); /* exactly one of -host and -net is what gets printed */
	if (r->host && r->dst.prefixlen != full)
		abort();
	if (r->gw_text && !r->iface && (r->gw.family != r->family || r->gw.prefixlen >= 0))
		abort();
	if ((r->cmd == R_ADD || r->cmd == R_CHANGE) && !r->gw_text && !r->reject && !r->blackhole)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = xmalloc(size + 1);
	memcpy(b, data, size);
	b[size] = 0;
	char *argv[MAX_WORDS + 2];
	int argc = 0;
	argv[argc++] = "route";
	char *s = b;
	for (size_t i = 0; i <= size && argc <= MAX_WORDS; i++) {
		if (i == size || b[i] == '\n' || b[i] == 0) {
			b[i] = 0;
			argv[argc++] = s;
			s = b + i + 1;
		}
	}
	argv[argc] = NULL;

	char *msg = NULL;
	size_t msglen = 0;
	FILE *real = stderr;
	stderr = open_memstream(&msg, &msglen);
	if (!stderr)
		abort();
	struct route_req r;
	int rc = lj_route_parse("route", argc, argv, &r);
	fclose(stderr);
	stderr = real;
	if (rc == 0)
		check_req(&r);
	else if ((rc != 1 && rc != 64 && rc != 68) || msglen == 0 ||
	         (strncmp(msg, "route: ", 7) != 0 && strncmp(msg, "usage: route", 12) != 0))
		abort();
	if (rc != 0 || r.cmd != R_FLUSH) {
		/* the errno words are total */
		if (!lj_route_errmsg(size ? data[0] : 0))
			abort();
	}
	free(msg);
	free(b);
	return 0;
}
