/* route: FreeBSD's route(8), implemented in src/net (jail(8) runs the same code in-process). */
#include "net/net.h"

int main(int argc, char **argv)
{
	return lj_route_main(argc, argv);
}
