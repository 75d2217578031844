/* A tiny unit-test harness. Each test binary prints one line per case:
 *   ok - SUITE/CASE | not ok - SUITE/CASE | skip - SUITE/CASE # why
 * with "# file:line: ..." lines for each failed check, and exits 1 if any case failed.
 * tests/run counts these lines. LJ_TEST_FILTER (a substring) selects cases. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lj_t_failed_checks;
static int lj_t_cases_failed;
static const char *lj_t_suite = "unit";
static const char *lj_t_skip_reason;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
			lj_t_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (!g_ || !w_ || strcmp(g_, w_) != 0) {                                           \
			printf("# %s:%d: %s\n#   got:  \"%s\"\n#   want: \"%s\"\n", __FILE__, __LINE__, \
			       #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                      \
			lj_t_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_INT(got, want)                                                                       \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_) {                                                                    \
			printf("# %s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
			lj_t_failed_checks++;                                                      \
		}                                                                                  \
	} while (0)

/* Mark the running case skipped (call, then return from the case). */
#define SKIP(why) (lj_t_skip_reason = (why))

static inline void lj_t_run(const char *name, void (*fn)(void))
{
	const char *filter = getenv("LJ_TEST_FILTER");
	if (filter && *filter && !strstr(name, filter))
		return;
	int before = lj_t_failed_checks;
	lj_t_skip_reason = NULL;
	fflush(stdout);
	fn();
	if (lj_t_skip_reason)
		printf("skip - %s/%s # %s\n", lj_t_suite, name, lj_t_skip_reason);
	else if (lj_t_failed_checks == before)
		printf("ok - %s/%s\n", lj_t_suite, name);
	else {
		printf("not ok - %s/%s\n", lj_t_suite, name);
		lj_t_cases_failed++;
	}
	fflush(stdout);
}

#define RUN(fn) lj_t_run(#fn, fn)
#define TEST_DONE() (lj_t_cases_failed ? 1 : 0)
