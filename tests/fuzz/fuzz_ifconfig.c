/* libFuzzer harness for ifconfig(8)'s argument parser (lj_ifc_parse and the small parsers it
 * uses). The parser is pure: it only fills a plan; nothing here reaches the kernel except
 * if_nametoindex() for a "%scope" (a read-only lookup). The input is split on NUL and newline
 * into words: the first is the interface name, the rest the words after it.
 *
 * Checked besides "no crash, no leak": a refused command line prints exactly one message that
 * names the program; an accepted one gives a plan that is consistent (a usable prefix length,
 * the address family of the address, every action carrying its argument). */
#include <stdio.h>
#include <stdlib.h>

#include "net/net.h"
#include "net/net_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 256

/* Split data on NUL and '\n' into at most MAX_WORDS words (copies in *buf, freed by caller). */
static int split(const uint8_t *data, size_t size, char **buf, char **w)
{
	char *b = xmalloc(size + 1);
	memcpy(b, data, size);
	b[size] = 0;
	int n = 0;
	char *s = b;
	for (size_t i = 0; i <= size && n < MAX_WORDS; i++) {
		if (i == size || b[i] == '\n' || b[i] == 0) {
			b[i] = 0;
			w[n++] = s;
			s = b + i + 1;
		}
	}
	*buf = b;
	return n;
}

static void check_plan(const struct plan *p, int n)
{
	if (p->nacts > MAX_ACTS || p->nacts > (size_t)n)
		abort();
	for (size_t i = 0; i < p->nacts; i++) {
		const struct act *a = &p->acts[i];
		switch (a->type) {
		case A_MTU:
		case A_DESCR:
		case A_NAME:
		case A_VNET:
		case A_RVNET:
		case A_ETHER:
		case A_ADDM:
		case A_DELETEM:
			if (!a->arg)
				abort();
			break;
		default:
			break;
		}
		if (a->type == A_NAME && (strlen(a->arg) == 0 || strlen(a->arg) >= LJ_IFNAMSIZ))
			abort();
	}
	if (p->af != AF_INET && p->af != AF_INET6)
		abort();
	if (!p->have_addr) {
		if (p->addr_op)
			abort(); /* alias/-alias without an address is refused */
		return;
	}
	if (!p->addr_text || (p->addr.family != AF_INET && p->addr.family != AF_INET6))
		abort();
	if (p->addr.family != p->af) /* the address is read in the family given before it */
		abort();
	int max = p->addr.family == AF_INET ? 32 : 128;
	if (p->addr.prefixlen > max || p->addr.prefixlen < -1)
		abort();
	/* set or alias: a prefix length is always decided (classful/64 fallback) */
	if (p->addr_op >= 0 && p->addr.prefixlen < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *w[MAX_WORDS];
	int n = split(data, size, &buf, w);
	/* messages go to a memory stream so they can be checked (and do not flood the log) */
	char *msg = NULL;
	size_t msglen = 0;
	FILE *real = stderr;
	stderr = open_memstream(&msg, &msglen);
	if (!stderr)
		abort();
	struct plan *p = xcalloc(1, sizeof(*p));
	int rc = lj_ifc_parse("ifconfig", w[0], w + 1, n - 1, p);
	fclose(stderr);
	stderr = real;
	if (rc < 0) {
		if (msglen == 0 || strncmp(msg, "ifconfig: ", 10) != 0)
			abort();
	} else if (rc == 0) {
		check_plan(p, n - 1);
	} else {
		abort();
	}
	free(msg);
	free(p);

	/* the helpers on every single word too */
	for (int i = 0; i < n; i++) {
		int m = lj_ifc_parse_netmask(w[i]);
		if (m < -1 || m > 32)
			abort();
		lj_err e;
		struct lj_ipaddr a;
		if (lj_net_ipaddr_parse(w[i], AF_UNSPEC, &a, &e) == 0) {
			char s[INET6_ADDRSTRLEN];
			lj_net_ipaddr_str(&a, s, sizeof s);
			struct lj_ipaddr back;
			/* the printed address parses to the same bytes */
			if (lj_net_ipaddr_parse(s, a.family, &back, &e) != 0 ||
			    memcmp(back.a, a.a, a.family == AF_INET ? 4 : 16) != 0)
				abort();
		}
		(void)lj_net_name_ok(w[i], &e);
	}
	free(buf);
	return 0;
}
