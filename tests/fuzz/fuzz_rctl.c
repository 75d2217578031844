/* libFuzzer harness for rctl(8) rule and filter parsing, formatting, matching and the check of
 * what Linux can enforce, and for cpuset(1) CPU lists. Any input gives a clean error or a
 * result that formats and re-parses to the same rule; never a crash or a leak. */
#include <stdlib.h>

#include "cgroup/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	lj_err e;
	struct lj_rctl_rule r, f, again;
	if (lj_rctl_parse(s, false, &r, &e) == 0) {
		(void)lj_rctl_check(&r, &e);
		char *text = lj_rctl_format(&r, false);
		char *human = lj_rctl_format(&r, true);
		/* the canonical text is a rule again, the same one */
		if (lj_rctl_parse(text, false, &again, &e) != 0 || !lj_rctl_match(&r, &again))
			abort();
		char *text2 = lj_rctl_format(&again, false);
		if (strcmp(text, text2) != 0)
			abort();
		free(text2);
		lj_rctl_rule_free(&again);
		free(text);
		free(human);
	}
	lj_rctl_rule_free(&r);
	if (lj_rctl_parse(s, true, &f, &e) == 0) {
		char *text = lj_rctl_format(&f, true);
		free(text);
	}
	lj_rctl_rule_free(&f);
	if (size >= 8) {
		uint64_t n;
		memcpy(&n, data, sizeof n);
		free(lj_rctl_humanize(n));
	}
	cpu_set_t set;
	if (strcmp(s, "all") != 0 && lj_cpulist_parse(s, &set, &e) == 0) {
		char *l = lj_cpulist_format(&set, NULL);
		cpu_set_t back;
		if (lj_cpulist_parse(l, &back, &e) != 0 || !CPU_EQUAL(&set, &back))
			abort();
		free(l);
	}
	free(s);
	return 0;
}
