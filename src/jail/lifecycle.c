/* Placeholder until the lifecycle lands: refuses every operation clearly. */
#include "jail/jail.h"

int lj_jail_run(const struct lj_jail_request *req)
{
	(void)req;
	lj_warnx("jail", "creating, modifying and removing jails is not implemented yet");
	return 1;
}
