#!/usr/bin/env bash
# The tutorial's network (tests/lib/topology.sh) with a "jail" network namespace on an epair:
# the jail's own ifconfig/route/netstat, a ping to the LAN gateway and client, ifconfig vnet/-vnet
# by jail name, and teardown that leaves the host as it was.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/topology.sh"

idx_in() { topo_in "$1" ip -o link show "$2" | cut -d: -f1; }

# A registry record naming the namespace holder PID as jail NAME's init (the registry's file
# format, as src/registry writes it), so that `ifconfig IF vnet NAME` can find it.
t_fake_jail() {
	local jid=$1 name=$2 pid=$3 start
	start=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $20}')
	printf 'jid=%s\nname=%s\ninit_pid=%s\ninit_start=%s\n' "$jid" "$name" "$pid" "$start" \
		>"$LJAIL_RUNDIR/$jid.jail"
}

case_topology_is_the_tutorials() {
	topo_tools_check
	topo_up
	t_match "$(ifconfig bridge0)" "member: vtnet0 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>" "vtnet0 in bridge0"
	ping -c1 -W2 "$TOPO_GW" >/dev/null || t_fail "host cannot reach the gateway"
	topo_client ping -c1 -W2 "$TOPO_HOST" >/dev/null || t_fail "client cannot reach the host"
	t_eq "$(topo_lan ip -o -4 addr show lanbr | awk '{print $4}')" "$TOPO_GW/24" "gateway address"
}

case_jail_namespace_ping_and_netstat() {
	topo_tools_check
	topo_up
	local before
	before=$(topo_count_links)
	topo_ns_new JAIL
	# exec.prestart, as in the tutorial's jail.conf
	t_run 0 ifconfig epair1 create up
	t_eq "$T_OUT" "epair1a"
	t_run 0 ifconfig bridge0 addm epair1a up
	ip link set epair1b netns "$JAIL"
	# exec.start, run inside the jail's namespace
	t_run 0 topo_in "$JAIL" ifconfig epair1b 192.168.1.201/24 up
	t_run 0 topo_in "$JAIL" route add default 192.168.1.1
	t_eq "$T_OUT" "add net default: gateway 192.168.1.1"
	t_run 0 topo_in "$JAIL" ifconfig -l
	t_eq "$T_OUT" "lo epair1b" "the jail sees only lo and its epair"
	local n
	n=$(idx_in "$JAIL" epair1b)
	t_run 0 topo_in "$JAIL" netstat -rn -f inet
	t_eq "$T_OUT" "Routing tables

Internet:
Destination        Gateway            Flags         Netif Expire
default            192.168.1.1        UGS         epair1b
127.0.0.1          link#1             UH               lo
192.168.1.0/24     link#$n             U           epair1b
192.168.1.201      link#$n             UHS              lo" "jexec webserver netstat -rn"
	t_match "$(topo_in "$JAIL" ifconfig epair1b)" "^epair1b: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
	ether [0-9a-f:]{17}
	inet 192\.168\.1\.201 netmask 0xffffff00 broadcast 192\.168\.1\.255
" "jexec webserver ifconfig epair1b"
	# traffic across the bridge, both ways
	topo_in "$JAIL" ping -c1 -W2 "$TOPO_GW" >/dev/null || t_fail "jail cannot ping the gateway"
	topo_in "$JAIL" ping -c1 -W2 "$TOPO_CLIENT" >/dev/null || t_fail "jail cannot ping the LAN client"
	topo_client ping -c1 -W2 192.168.1.201 >/dev/null || t_fail "LAN client cannot ping the jail"
	# exec.poststop after the jail is gone: the namespace dies, its epair end with it
	kill -9 "$JAIL"
	for _ in $(seq 100); do ip link show epair1a >/dev/null 2>&1 || break; sleep 0.05; done
	t_run 1 ifconfig bridge0 deletem epair1a
	t_eq "$T_ERR" "ifconfig: BRDGDEL epair1a: No such file or directory"
	t_eq "$(ip -o link show master bridge0 | cut -d: -f2 | cut -d@ -f1 | tr -d ' ')" "vtnet0" "no stale member"
	t_eq "$(topo_count_links)" "$before" "host link count back"
}

case_vnet_by_jail_name() {
	topo_tools_check
	topo_up
	topo_ns_new JAIL
	t_fake_jail 5 webserver "$JAIL"
	ifconfig epair1 create up >/dev/null
	ifconfig bridge0 addm epair1a up
	# vnet.interface: move the b end into the jail by name, and by JID
	t_run 0 ifconfig epair1b vnet webserver
	ip link show epair1b >/dev/null 2>&1 && t_fail "epair1b still on the host"
	t_run 0 ifconfig -j webserver -l
	t_eq "$T_OUT" "lo epair1b" "ifconfig -j sees the jail's interfaces"
	t_run 0 ifconfig -j 5 epair1b 192.168.1.201/24 up
	t_run 0 route -j webserver add default 192.168.1.1
	t_match "$(netstat -j webserver -rn)" "
default            192\.168\.1\.1        UGS         epair1b
" "netstat -j"
	topo_in "$JAIL" ping -c1 -W2 "$TOPO_CLIENT" >/dev/null || t_fail "jail cannot reach the LAN"
	# back to the host before the jail goes (FreeBSD returns vnet interfaces at removal)
	t_run 0 ifconfig epair1b -vnet webserver
	ip link show epair1b >/dev/null || t_fail "epair1b did not come back"
	t_eq "$(topo_in "$JAIL" ip -o link show | wc -l)" "1" "only lo left in the jail"
	# errors
	t_run 1 ifconfig epair1b vnet nosuchjail
	t_eq "$T_ERR" 'ifconfig: jail "nosuchjail" not found'
	t_run 1 ifconfig epair1b -vnet webserver
	t_eq "$T_ERR" "ifconfig: SIOCSIFRVNET(webserver, epair1b): No such device"
	t_run 1 route -j nosuchjail add default 192.168.1.1
	t_eq "$T_ERR" 'route: jail "nosuchjail" not found'
	ip link show epair1b >/dev/null || t_fail "a failed -vnet lost epair1b"
	t_run 0 ifconfig epair1a destroy
	ip link show epair1b >/dev/null 2>&1 && t_fail "epair1b left after destroying epair1a"
	return 0
}

t_main "$@"
