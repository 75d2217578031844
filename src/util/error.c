/* The error object and warnx-style printing. */
#include "util/util.h"

#include <errno.h>

static void vset(lj_err *e, int errnum, const char *fmt, va_list ap)
{
	int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (n < 0)
		e->msg[0] = '\0';
	e->errnum = errnum;
	if (errnum) {
		size_t len = strlen(e->msg);
		snprintf(e->msg + len, sizeof e->msg - len, ": %s", strerror(errnum));
	}
}

int lj_error(lj_err *e, int errnum, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vset(e, errnum, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

int lj_errorx(lj_err *e, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vset(e, 0, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int lj_error_prefix(lj_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	/* Build "prefix: old" by moving the old text right, truncating at the end if it must. */
	size_t plen = strlen(prefix) + 2, olen = strlen(e->msg), cap = sizeof e->msg - 1;
	if (plen > cap)
		plen = cap;
	if (olen > cap - plen)
		olen = cap - plen;
	memmove(e->msg + plen, e->msg, olen);
	e->msg[plen + olen] = '\0';
	memcpy(e->msg, prefix, plen - 2);
	memcpy(e->msg + plen - 2, ": ", plen >= 2 ? 2 : 0);
	return -1;
}

void lj_err_print(const char *prog, const lj_err *e)
{
	fprintf(stderr, "%s: %s\n", prog, e->msg);
}

void lj_warnx(const char *prog, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
