/* The host's user and host databases, asked of getent(1).
 *
 * jail, jexec and jls are static programs (an exec without the dynamic loader is ~250 us
 * cheaper, a fifth of a command-only jail), and a static glibc cannot load NSS modules: the first
 * name not in /etc/passwd makes it map a second libc, which crashes. getent answers with every
 * source nsswitch.conf names (files, systemd, LDAP, sss) and only the options that ask for a
 * host lookup (exec.system_user, jexec -u, ip_hostname) pay for it. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

/* Paths rather than PATH: the caller's environment does not choose what a root process runs. */
static const char *const getent_paths[] = {"/usr/bin/getent", "/bin/getent", "/usr/sbin/getent"};

/* A key getent would take for an option or that cannot be one entry's name. */
static bool bad_key(const char *k)
{
	return !*k || *k == '-' || strpbrk(k, ": \t\n") != NULL;
}

/* Run `getent DB KEY` and read what it prints. 1 with *out, 0 when the key is not found (exit
 * 2), -1 on error. */
static int getent(const char *db, const char *key, char **out, lj_err *e)
{
	*out = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return lj_error(e, errno, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	char *argv[] = {(char *)"getent", (char *)db, (char *)key, NULL};
	char *envp[] = {(char *)"LC_ALL=C", (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	pid_t pid = -1;
	int r = ENOENT;
	for (size_t i = 0; i < LJ_ARRAY_LEN(getent_paths) && r == ENOENT; i++)
		r = posix_spawn(&pid, getent_paths[i], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		return lj_error(e, r, "getent %s %s", db, key);
	}
	lj_buf b = {0};
	char chunk[4096];
	ssize_t n;
	while ((n = read(p[0], chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (b.len < 1 << 20) /* an entry is a line; a megabyte is not one */
			lj_buf_add(&b, chunk, (size_t)n);
	}
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		*out = b.s ? lj_buf_steal(&b) : xstrdup("");
		return 1;
	}
	lj_buf_free(&b);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
		return 0;
	return lj_errorx(e, "getent %s %s: %s %d", db, key,
	                 WIFEXITED(st) ? "exit status" : "killed by signal",
	                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

void lj_host_user_free(struct lj_host_user *u)
{
	free(u->name);
	free(u->home);
	free(u->shell);
	free(u->groups);
	memset(u, 0, sizeof *u);
}

static void add_group(struct lj_host_user *u, gid_t g)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	u->groups = xrealloc(u->groups, (u->ngroups + 1) * sizeof *u->groups);
	u->groups[u->ngroups++] = g;
}

/* "name:passwd:uid:gid:gecos:home:shell" */
static bool parse_passwd(char *line, struct lj_host_user *u)
{
	char *f[7], *save = line;
	for (int i = 0; i < 7; i++)
		f[i] = strsep(&save, i < 6 ? ":" : "\n");
	uint64_t uid, gid;
	if (!f[6] || !lj_parse_u64(f[2], &uid) || !lj_parse_u64(f[3], &gid) ||
	    uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		return false;
	u->name = xstrdup(f[0]);
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	u->home = xstrdup(f[5]);
	u->shell = xstrdup(*f[6] ? f[6] : "/bin/sh");
	return true;
}

int lj_host_user(const char *name, struct lj_host_user *u, lj_err *e)
{
	memset(u, 0, sizeof *u);
	char uidkey[24];
	snprintf(uidkey, sizeof uidkey, "%u", (unsigned)getuid());
	const char *key = name ? name : uidkey;
	lj_autofree char *out = NULL;
	int r = bad_key(key) ? 0 : getent("passwd", key, &out, e);
	if (r < 0)
		return -1;
	/* a name getent took for a uid, or an entry it could not have given for the key, is no
	 * match */
	if (r == 0 || !parse_passwd(out, u) ||
	    (name ? strcmp(u->name, name) != 0 : u->uid != getuid())) {
		lj_host_user_free(u);
		return name ? lj_errorx(e, "%s: no such user", name)
		            : lj_errorx(e, "unknown uid: %u", (unsigned)getuid());
	}
	/* getgrouplist's order: the primary group, then the others */
	add_group(u, u->gid);
	lj_autofree char *groups = NULL;
	if (getent("initgroups", u->name, &groups, e) < 0) {
		lj_host_user_free(u);
		return -1;
	}
	/* "name gid gid ...", nothing when the user's name is in no group */
	char *save = NULL, *t = groups ? strtok_r(groups, " \t\n", &save) : NULL;
	while (t && (t = strtok_r(NULL, " \t\n", &save))) {
		uint64_t g;
		if (lj_parse_u64(t, &g) && g < UINT32_MAX)
			add_group(u, (gid_t)g);
	}
	return 0;
}

int lj_host_addrs(const char *host, lj_strv *out, lj_err *e)
{
	lj_autofree char *txt = NULL;
	int r = bad_key(host) ? 0 : getent("ahosts", host, &txt, e);
	if (r < 0)
		return -1;
	if (r == 0)
		return lj_errorx(e, "%s: Name or service not known", host);
	/* "ADDR STREAM name" then DGRAM and RAW lines for the same address: the resolver's order */
	char *save = NULL;
	for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL, *addr = strtok_r(line, " \t", &s2),
		     *type = strtok_r(NULL, " \t", &s2);
		if (addr && type && !strcmp(type, "STREAM") && !lj_strv_contains(out, addr))
			lj_strv_add(out, addr);
	}
	return 0;
}
