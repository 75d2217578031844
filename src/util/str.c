/* Growable strings, string vectors and number parsing. */
#include "util/util.h"

#include <errno.h>
#include <limits.h>

static void buf_grow(lj_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->s = xrealloc(b->s, cap);
	b->cap = cap;
}

void lj_buf_add(lj_buf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void lj_buf_adds(lj_buf *b, const char *s)
{
	lj_buf_add(b, s, strlen(s));
}

void lj_buf_addc(lj_buf *b, char c)
{
	lj_buf_add(b, &c, 1);
}

void lj_buf_vaddf(lj_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void lj_buf_addf(lj_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lj_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

const char *lj_buf_str(lj_buf *b)
{
	return b->s ? b->s : "";
}

char *lj_buf_steal(lj_buf *b)
{
	char *s = b->s ? b->s : xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void lj_buf_reset(lj_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void lj_buf_free(lj_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void lj_strv_push(lj_strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void lj_strv_add(lj_strv *sv, const char *s)
{
	lj_strv_push(sv, xstrdup(s));
}

void lj_strv_addf(lj_strv *sv, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	lj_strv_push(sv, s);
}

void lj_strv_free(lj_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

char *lj_strv_join(const lj_strv *sv, const char *sep)
{
	lj_buf b = {0};
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			lj_buf_adds(&b, sep);
		lj_buf_adds(&b, sv->v[i]);
	}
	return lj_buf_steal(&b);
}

bool lj_strv_contains(const lj_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

bool lj_parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool lj_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool lj_parse_int(const char *s, int *out)
{
	int64_t v;
	if (!lj_parse_i64(s, &v) || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

bool lj_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool lj_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}
