/* Which program names jail(8) runs in-process instead of exec'ing, and the hints jail(8) gives
 * those in-process commands. */
#include "net/net.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* ljail's own ifconfig named by its path (e.g. BUILD/ifconfig, or where it is installed): the
 * file beside jail(8)'s own executable, the same inode. */
static bool own_program(const char *argv0, const char *name)
{
	const char *base = strrchr(argv0, '/');
	if (!base || strcmp(base + 1, name) != 0)
		return false;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return false;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash || (size_t)(slash - self) + 1 + strlen(name) + 1 > sizeof self)
		return false;
	strcpy(slash + 1, name);
	struct stat a, b;
	return stat(argv0, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

lj_net_main_fn lj_net_builtin(const char *argv0)
{
	static const struct {
		const char *name;
		lj_net_main_fn fn;
	} tab[] = {
	        {"ifconfig", lj_ifconfig_main}, {"/sbin/ifconfig", lj_ifconfig_main},
	        {"route", lj_route_main},       {"/sbin/route", lj_route_main},
	        {"netstat", lj_netstat_main},   {"/usr/bin/netstat", lj_netstat_main},
	};
	if (!argv0)
		return NULL;
	for (size_t i = 0; i < LJ_ARRAY_LEN(tab); i++)
		if (!strcmp(argv0, tab[i].name))
			return tab[i].fn;
	if (own_program(argv0, "ifconfig"))
		return lj_ifconfig_main;
	return NULL;
}

/* ---- hints ------------------------------------------------------------------------------- */

static int target_fd = -1;
static lj_strv target_names, dying_names;

static void set_names(lj_strv *v, const char *const *names, size_t n)
{
	lj_strv_free(v);
	for (size_t i = 0; names && i < n; i++)
		lj_strv_add(v, names[i]);
}

void lj_net_set_vnet_target(int netns_fd, const char *const *names, size_t n)
{
	target_fd = netns_fd;
	set_names(&target_names, netns_fd >= 0 ? names : NULL, n);
}

void lj_net_set_vnet_dying(const char *const *names, size_t n)
{
	set_names(&dying_names, names, n);
}

int lj_net_vnet_target_for(const char *name)
{
	return target_fd >= 0 && lj_strv_contains(&target_names, name) ? target_fd : -1;
}

bool lj_net_vnet_is_dying(const char *name)
{
	return lj_strv_contains(&dying_names, name);
}
