/* libFuzzer harness for pf.conf: parse and print; when the input parses, the printed text must
 * parse again and print the same (the printer's output is a fixpoint, as FreeBSD's self tests
 * require). Names come from the files the environment names, never from the network. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pf/pf.h"

static char *print_all(const struct lj_pf_conf *c)
{
	lj_buf b = {0};
	lj_buf_adds(&b, lj_buf_str((lj_buf *)&c->verbose));
	lj_pf_print_rules(&b, c, ~0u, 0);
	char *s = lj_buf_steal(&b);
	return s ? s : strdup("");
}

static int quote_in_value(const char *v)
{
	for (const char *l = v; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		int q = 0;
		for (size_t i = 0; i < n; i++)
			q += l[i] == '"' || l[i] == '\'' || l[i] == '\\' || l[i] == '#' ||
			     l[i] == '$';
		if (q > 2)
			return 1;
		l += n + (nl ? 1 : 0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) != size || strstr(text, "include") || strstr(text, "file")) {
		/* NULs end the text early; include and table files would read the fuzzer's disk */
		free(text);
		return 0;
	}
	struct lj_pf_parse_opts o = {.verbose = true};
	struct lj_pf_conf c1, c2;
	int rc = lj_pf_parse_buffer("fuzz", text, &o, &c1);
	char *p1 = print_all(&c1);
	/* Quoted strings can carry what the printer writes bare (an interface "1", a label with
	 * $nr): FreeBSD cannot read those back either. Everything else must be a fixpoint. */
	if (rc == 0 && !strpbrk(text, "\"'") && !quote_in_value(lj_buf_str(&c1.verbose))) {
		if (lj_pf_parse_buffer("fuzz", p1, &o, &c2) != 0) {
			fprintf(stderr, "printed text does not parse:\n%s\n%s", p1,
			        lj_buf_str(&c2.errors));
			abort();
		}
		char *p2 = print_all(&c2);
		if (strcmp(p1, p2) != 0) {
			fprintf(stderr, "not a fixpoint:\n--- first\n%s--- second\n%s", p1, p2);
			abort();
		}
		free(p2);
		lj_pf_conf_free(&c2);
	}
	if (rc == 0) {
		/* the optimizer and the compiler must cope with whatever parsed */
		struct lj_pf_kernel k = {.br_netfilter = true};
		lj_buf nft = {0};
		lj_err e;
		lj_pf_compile(&c1, &k, &nft, &e);
		lj_buf_free(&nft);
		lj_pf_optimize(&c1);
		char *p3 = print_all(&c1);
		free(p3);
	}
	free(p1);
	lj_pf_conf_free(&c1);
	free(text);
	return 0;
}
