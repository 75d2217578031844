/* Network namespaces of running jails, found through the registry. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "net/net.h"
#include "registry/registry.h"

int lj_net_jail_netns_fd(const char *jail, lj_err *e)
{
	struct lj_registry r;
	if (lj_reg_open(&r, e) < 0)
		return -1;
	struct lj_record rec;
	memset(&rec, 0, sizeof(rec));
	int fd = -1;
	if (lj_reg_find(&r, jail, &rec, e) == 0) {
		int pidfd = lj_reg_pidfd(&rec, e);
		if (pidfd >= 0) {
			fd = lj_net_netns_fd_from_pidfd(pidfd, e);
			close(pidfd);
		}
		lj_record_free(&rec);
	}
	lj_reg_close(&r);
	return fd;
}

int lj_net_in_netns(int netns_fd, int (*fn)(void *arg), void *arg, lj_err *e)
{
	lj_autoclose int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return lj_error(e, errno, "/proc/thread-self/ns/net");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return lj_error(e, errno, "setns(network namespace)");
	int rc = fn(arg);
	if (setns(self, CLONE_NEWNET) < 0)
		return lj_error(e, errno, "setns(back to the original network namespace)");
	return rc;
}
