# tests/lib/topology.sh: the tutorial's network, built inside the case's own network namespace
# (the test's "host"). Source it after lib.sh, inside a case:
#
#   topo_up [--no-bridge]   host: bridge0 (up, 192.168.1.100/24) with member vtnet0; default route
#                           via 192.168.1.1. vtnet0's peer lan0 sits in a "lan" namespace, on the
#                           bridge lanbr that holds the gateway 192.168.1.1/24; a "client"
#                           namespace hangs off lanbr with the LAN client 192.168.1.10/24.
#                           --no-bridge: only vtnet0 (up, no address): the test makes bridge0.
#   topo_lan CMD...         run CMD in the lan namespace (the gateway)
#   topo_client CMD...      run CMD in the client namespace (192.168.1.10)
#   topo_ns_new VAR         make one more empty namespace (lo up) held by a sleeping process;
#                           its PID goes to VAR; topo_in PID CMD... runs CMD in it
#   topo_count_links        number of links in the host namespace
#   topo_tools_check        fail unless ifconfig/route/netstat on PATH are the build's
#
# Everything is torn down through t_defer (the holder processes are killed by PID, so their
# namespaces and every veth end in them go away). Test code may use ip(8); product code never.

TOPO_GW=192.168.1.1
TOPO_CLIENT=192.168.1.10
TOPO_HOST=192.168.1.100
TOPO_PREFIX=24

# Prefer the ljail build's own ifconfig/route/netstat over the machine's net-tools.
if [ ! -x "$LJAIL_BUILD/ifconfig" ] && [ -x "$LJAIL_BUILD/src/cmd/ifconfig" ]; then
	PATH="$LJAIL_BUILD/src/cmd:$PATH"
fi

# topo_tools_check: fail unless ifconfig, route and netstat are ljail's (never net-tools').
topo_tools_check() {
	local t p
	for t in ifconfig route netstat; do
		p=$(command -v "$t" || true)
		case $p in "$LJAIL_BUILD"/*) ;; *) t_fail "$t is not ljail's: '${p}'" ;; esac
	done
}

# topo_ns_new VAR: a fresh network namespace held by `sleep` (killed on teardown).
topo_ns_new() {
	local __var=$1 pid self
	# started from a command substitution: not a job of this shell, so no "Killed" notice later
	pid=$(unshare --net -- sleep 100000 </dev/null >/dev/null 2>&1 & echo $!)
	t_defer kill -9 "$pid"
	self=$(readlink /proc/self/ns/net)
	# wait until the holder runs in its own namespace (unshare has exec'd sleep)
	local i
	for i in $(seq 1 200); do
		if [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$self" ] &&
			[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sleep ]; then
			break
		fi
		sleep 0.01
	done
	[ "$(readlink "/proc/$pid/ns/net")" != "$self" ] || t_fail "namespace holder $pid did not start"
	nsenter --net="/proc/$pid/ns/net" ip link set lo up
	printf -v "$__var" '%s' "$pid"
}

topo_in() {
	local pid=$1
	shift
	nsenter --net="/proc/$pid/ns/net" -- "$@"
}

topo_lan() { topo_in "$TOPO_LAN_PID" "$@"; }
topo_client() { topo_in "$TOPO_CLIENT_PID" "$@"; }

topo_count_links() { ip -o link show | wc -l; }

topo_up() {
	local bridge=1
	[ "${1:-}" = --no-bridge ] && bridge=0
	topo_ns_new TOPO_LAN_PID
	topo_ns_new TOPO_CLIENT_PID
	# the LAN: a bridge holding the gateway, the uplink's peer and the client's cable
	topo_lan ip link add lanbr type bridge
	topo_lan ip addr add "$TOPO_GW/$TOPO_PREFIX" dev lanbr
	topo_lan ip link set lanbr up
	topo_lan ip link add cl0p type veth peer name cl0 netns "$TOPO_CLIENT_PID"
	topo_lan ip link set cl0p master lanbr up
	topo_client ip addr add "$TOPO_CLIENT/$TOPO_PREFIX" dev cl0
	topo_client ip link set cl0 up
	topo_client ip route add default via "$TOPO_GW"
	# the host's uplink
	ip link add vtnet0 type veth peer name lan0 netns "$TOPO_LAN_PID"
	topo_lan ip link set lan0 master lanbr up
	ip link set vtnet0 up
	if [ $bridge = 1 ]; then
		ip link add bridge0 type bridge
		ip link set vtnet0 master bridge0
		ip link set bridge0 up
		ip addr add "$TOPO_HOST/$TOPO_PREFIX" dev bridge0
		ip route add default via "$TOPO_GW"
	fi
	export TOPO_LAN_PID TOPO_CLIENT_PID
}
