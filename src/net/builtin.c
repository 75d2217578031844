/* Which program names jail(8) runs in-process instead of exec'ing. */
#include "net/net.h"

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
	return NULL;
}
