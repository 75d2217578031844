/* Network namespaces of running jails, found through the registry. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "net/net.h"
#include "net/nl.h"
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

bool lj_nl_netns_is_jails(struct lj_nl *nl, int nsid)
{
	/* The ids of every jail's namespace, gathered once per command (an `ifconfig epair
	 * create` may ask for many taken units). */
	static int *ids;
	static size_t nids;
	static bool known;
	if (nsid < 0)
		return false;
	struct lj_registry r;
	if (!known && lj_reg_open(&r, NULL) == 0) {
		struct lj_record *recs = NULL;
		size_t n = 0;
		if (lj_reg_list_all(&r, true, &recs, &n, NULL) == 0) {
			known = true;
			ids = xcalloc(n + 1, sizeof(*ids));
			for (size_t i = 0; i < n; i++) {
				const char *pin = lj_record_get(&recs[i], "ljail.netns");
				int fd = pin ? open(pin, O_RDONLY | O_CLOEXEC) : -1;
				if (fd < 0) {
					int pidfd = lj_reg_pidfd(&recs[i], NULL);
					if (pidfd >= 0) {
						fd = lj_net_netns_fd_from_pidfd(pidfd, NULL);
						close(pidfd);
					}
				}
				if (fd >= 0) {
					ids[nids++] = lj_nl_netns_id(nl, fd, false, NULL);
					close(fd);
				}
			}
			lj_records_free(recs, n);
		}
		lj_reg_close(&r);
	}
	for (size_t i = 0; i < nids; i++)
		if (ids[i] == nsid)
			return true;
	return !known; /* no registry to ask: assume it is a jail's */
}
