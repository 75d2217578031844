/* util: the error object, memory, strings, string vectors and file helpers every module uses.
 *
 * Errors: a function that can fail returns -1 (or NULL) and fills a caller-owned struct lj_err.
 * Nothing below main() prints or exits; commands print the error once, with their own prefix. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define LJ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LJ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the error object ---------------------------------------------------------------------- */

typedef struct lj_err {
	int errnum;     /* errno of the failing call, 0 when the error is ljail's own */
	char msg[1024]; /* complete text, strerror already appended when errnum != 0 */
} lj_err;

/* Fill e (may be NULL) with fmt and, when errnum != 0, ": strerror(errnum)". Returns -1. */
int lj_error(lj_err *e, int errnum, const char *fmt, ...) LJ_PRINTF(3, 4);
/* Like lj_error with a plain message and no strerror. */
int lj_errorx(lj_err *e, const char *fmt, ...) LJ_PRINTF(2, 3);
/* Put "context: " in front of the message already in e. Returns -1. */
int lj_error_prefix(lj_err *e, const char *fmt, ...) LJ_PRINTF(2, 3);
/* Print "prog: msg\n" to stderr. */
void lj_err_print(const char *prog, const lj_err *e);
/* Print "prog: fmt\n" to stderr (warnx without the exit). */
void lj_warnx(const char *prog, const char *fmt, ...) LJ_PRINTF(2, 3);

/* ---- memory: out of memory is not a recoverable condition for a jail manager ---------------- */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) LJ_PRINTF(1, 2);

/* ---- cleanup attributes (crun/systemd style) ------------------------------------------------- */

#define lj_cleanup(f) __attribute__((cleanup(f)))
void lj_freep(void *p);
void lj_closep(int *fd);
void lj_fclosep(FILE **f);
#define lj_autofree   lj_cleanup(lj_freep)
#define lj_autoclose  lj_cleanup(lj_closep)
#define lj_autofclose lj_cleanup(lj_fclosep)

/* ---- growable string ------------------------------------------------------------------------- */

typedef struct lj_buf {
	char *s; /* always NUL-terminated once anything was added; NULL when empty and never used */
	size_t len, cap;
} lj_buf;

void lj_buf_add(lj_buf *b, const char *s, size_t n);
void lj_buf_adds(lj_buf *b, const char *s);
void lj_buf_addc(lj_buf *b, char c);
void lj_buf_addf(lj_buf *b, const char *fmt, ...) LJ_PRINTF(2, 3);
void lj_buf_vaddf(lj_buf *b, const char *fmt, va_list ap);
const char *lj_buf_str(lj_buf *b); /* "" when empty */
char *lj_buf_steal(lj_buf *b);     /* the caller owns the string; b is empty after */
void lj_buf_reset(lj_buf *b);
void lj_buf_free(lj_buf *b);

/* ---- string vector (NULL-terminated, so v can be passed to execv) --------------------------- */

typedef struct lj_strv {
	char **v;
	size_t n, cap;
} lj_strv;

void lj_strv_push(lj_strv *sv, char *s); /* takes ownership of s */
void lj_strv_add(lj_strv *sv, const char *s);
void lj_strv_addf(lj_strv *sv, const char *fmt, ...) LJ_PRINTF(2, 3);
void lj_strv_free(lj_strv *sv);
char *lj_strv_join(const lj_strv *sv, const char *sep);
bool lj_strv_contains(const lj_strv *sv, const char *s);

/* ---- parsing numbers ------------------------------------------------------------------------- */

/* Whole-string decimal (or 0x hex) parse; false on junk, overflow or empty input. */
bool lj_parse_i64(const char *s, int64_t *out);
bool lj_parse_u64(const char *s, uint64_t *out);
bool lj_parse_int(const char *s, int *out);

/* ---- files ----------------------------------------------------------------------------------- */

/* Read a whole file (path "-" is stdin) into *out (NUL-terminated, caller frees). */
int lj_read_file(const char *path, char **out, size_t *len, lj_err *e);
/* Write data to path atomically: temp file in the same folder, fsync, rename. */
int lj_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, lj_err *e);
/* The same without fsync: for runtime state (the run directory, like /run on tmpfs), where the
 * rename alone keeps readers from seeing a half-written file and a power loss loses nothing that
 * outlives it. */
int lj_write_file_replace(const char *path, const void *data, size_t len, mode_t mode, lj_err *e);
/* Write a short string to an existing file (sysfs, cgroupfs, /proc); no O_CREAT. */
int lj_write_str(const char *path, const char *s, lj_err *e);
/* mkdir -p. */
int lj_mkdir_p(const char *path, mode_t mode, lj_err *e);

/* True when the string starts with prefix / ends with suffix. */
bool lj_startswith(const char *s, const char *prefix);
bool lj_endswith(const char *s, const char *suffix);

/* ---- the host's user and host databases (NSS, through getent(1); see hostdb.c) --------------- */

struct lj_host_user {
	char *name, *home, *shell; /* shell: /bin/sh when the entry has none */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* the primary group first, as getgrouplist gives them */
	size_t ngroups;
};
/* Look a user up by name (NULL: the caller's uid). "NAME: no such user" when there is none. */
int lj_host_user(const char *name, struct lj_host_user *u, lj_err *e);
void lj_host_user_free(struct lj_host_user *u);
/* Add the addresses host resolves to (as text, the resolver's order, no duplicates) to out. */
int lj_host_addrs(const char *host, lj_strv *out, lj_err *e);
