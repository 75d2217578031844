/* netstat: FreeBSD's netstat(1), implemented in src/net (jail(8) runs the same code in-process). */
#include "net/net.h"

int main(int argc, char **argv)
{
	return lj_netstat_main(argc, argv);
}
