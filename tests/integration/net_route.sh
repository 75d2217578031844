#!/usr/bin/env bash
# ljail's FreeBSD route(8) and netstat -rn on Linux: FreeBSD's output lines, layout and errors,
# checked against the kernel's table through ip(8). Runs in the case's own network namespace.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/topology.sh"

idx_of() { ip -o link show "$1" | cut -d: -f1; }

# an epair whose b end holds 192.168.1.201/24, as in the tutorial's webserver jail
t_epair_with_address() {
	ifconfig epair1 create up >/dev/null
	ifconfig epair1b 192.168.1.201/24 up
}

case_default_route_and_netstat() {
	topo_tools_check
	t_epair_with_address
	t_run 0 route add default 192.168.1.1
	t_eq "$T_OUT" "add net default: gateway 192.168.1.1"
	t_eq "$(ip route show default | sed 's/ *$//')" "default via 192.168.1.1 dev epair1b proto static" \
		"kernel default route"
	local n
	n=$(idx_of epair1b)
	t_run 0 netstat -rn -f inet
	t_eq "$T_OUT" "Routing tables

Internet:
Destination        Gateway            Flags         Netif Expire
default            192.168.1.1        UGS         epair1b
127.0.0.1          link#1             UH               lo
192.168.1.0/24     link#$n             U           epair1b
192.168.1.201      link#$n             UHS              lo" "netstat -rn -f inet"
	# the same route again: FreeBSD's two lines, exit 1
	t_run 1 route add default 192.168.1.1
	t_eq "$T_ERR" "route: message indicates error: File exists"
	t_eq "$T_OUT" "add net default: gateway 192.168.1.1 fib 0: route already in table"
	t_run 0 route -n get 192.168.1.10
	t_eq "$T_OUT" "   route to: 192.168.1.10
destination: 192.168.1.0
       mask: 255.255.255.0
        fib: 0
  interface: epair1b
      flags: <UP,DONE,PINNED>
 recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire
       0         0         0         0      1500         1         0 " "route -n get 192.168.1.10"
	t_run 0 route get 203.0.113.7
	t_eq "$(printf '%s\n' "$T_OUT" | sed -n '2,7p')" "destination: default
       mask: default
    gateway: 192.168.1.1
        fib: 0
  interface: epair1b
      flags: <UP,GATEWAY,DONE,STATIC>" "route get through the default route"
	t_run 0 route delete default
	t_eq "$T_OUT" "delete net default"
	t_eq "$(ip route show default)" "" "default route gone"
	t_run 1 route delete default
	t_eq "$T_ERR" "route: route has not been found"
	t_eq "$T_OUT" "delete net default fib 0: not in table"
	t_run 255 route -n get 203.0.113.7
	t_eq "$T_ERR" "route: route has not been found"
}

case_net_host_routes_and_flush() {
	topo_tools_check
	t_epair_with_address
	t_run 0 route add -net 10.1.0.0/16 192.168.1.2
	t_eq "$T_OUT" "add net 10.1.0.0/16: gateway 192.168.1.2"
	t_run 0 route add -host 10.2.0.5 192.168.1.3
	t_eq "$T_OUT" "add host 10.2.0.5: gateway 192.168.1.3"
	t_run 0 route add -net 10.3.0.0 192.168.1.4
	t_eq "$T_OUT" "add net 10.3.0.0: gateway 192.168.1.4"
	t_run 0 route add -net 10.4.0.0 -netmask 255.255.255.0 192.168.1.4
	t_run 0 route add default 192.168.1.1
	t_eq "$(ip route show proto static | sed 's/ *$//' | sort)" "10.1.0.0/16 via 192.168.1.2 dev epair1b
10.2.0.5 via 192.168.1.3 dev epair1b
10.3.0.0/16 via 192.168.1.4 dev epair1b
10.4.0.0/24 via 192.168.1.4 dev epair1b
default via 192.168.1.1 dev epair1b" "kernel routes"
	t_match "$(netstat -rn)" "
10\.2\.0\.5          192\.168\.1\.3        UGHS        epair1b
" "host route row"
	t_run 0 route -n get 10.1.2.3
	t_match "$T_OUT" "destination: 10\.1\.0\.0
       mask: 255\.255\.0\.0
    gateway: 192\.168\.1\.2" "get through a net route"
	t_run 0 route delete -net 10.1.0.0/16
	t_eq "$T_OUT" "delete net 10.1.0.0/16"
	t_run 0 route flush
	t_eq "$T_OUT" "default              192.168.1.1          -fib 0   done
10.2.0.5             192.168.1.3          -fib 0   done
10.3.0.0/16          192.168.1.4          -fib 0   done
10.4.0.0/24          192.168.1.4          -fib 0   done" "route flush"
	t_eq "$(ip route show proto static)" "" "flushed"
	t_match "$(ip route show)" "192\.168\.1\.0/24 dev epair1b" "connected route kept"
}

case_unreachable_gateway_leaves_nothing() {
	topo_tools_check
	t_epair_with_address
	t_run 1 route add default 10.9.9.9
	t_eq "$T_ERR" "route: message indicates error: Network is unreachable"
	t_eq "$T_OUT" "add net default: gateway 10.9.9.9 fib 0: Network is unreachable"
	t_eq "$(ip route show default)" "" "no default route"
	t_run 1 route add -net 10.1.0.0/16 172.16.0.1
	t_eq "$(ip route show proto static)" "" "no route at all"
}

case_bad_input() {
	topo_tools_check
	t_run 64 route frobnicate
	t_eq "$T_ERR" "route: bad keyword: frobnicate
usage: route [-j jail] [-46dnqtv] command [[modifiers] args]"
	t_run 64 route add -bogus default 192.168.1.1
	t_eq "$(printf '%s\n' "$T_ERR" | head -1)" "route: bad keyword: bogus"
	t_run 68 route add default not-an-address
	t_eq "$T_ERR" "route: bad address: not-an-address"
	t_run 64 route add default
	t_run 64 route
	t_run 1 netstat -n
	t_match "$T_ERR" "only the routing tables"
	t_run 1 netstat -rn -f ipx
	t_eq "$T_ERR" "netstat: ipx: unknown address family"
}

case_ipv6_routes() {
	topo_tools_check
	t_epair_with_address
	ifconfig epair1b inet6 2001:db8::5/64
	t_run 0 route -6 add default 2001:db8::1
	t_eq "$T_OUT" "add net default: gateway 2001:db8::1"
	t_run 0 route add -inet6 2001:db8:1::/48 2001:db8::2
	t_eq "$T_OUT" "add net 2001:db8:1::/48: gateway 2001:db8::2"
	t_match "$(ip -6 route show default)" "default via 2001:db8::1 dev epair1b proto static" "kernel v6 default"
	local n
	n=$(idx_of epair1b)
	t_run 0 netstat -rn -f inet6
	t_eq "$(printf '%s\n' "$T_OUT" | head -4)" "Routing tables

Internet6:
Destination                       Gateway                       Flags         Netif Expire"
	t_match "$T_OUT" "
default                           2001:db8::1                   UGS         epair1b
" "v6 default row"
	t_match "$T_OUT" "
2001:db8::/64                     link#$n +U           epair1b
" "v6 connected row"
	t_match "$T_OUT" "
2001:db8::5                       link#$n +UHS              lo
" "v6 local row"
	t_match "$T_OUT" "
2001:db8:1::/48                   2001:db8::2                   UGS         epair1b
" "v6 net row"
	t_run 0 route -n get -inet6 2001:db8:1::9
	t_match "$T_OUT" "destination: 2001:db8:1::
       mask: ffff:ffff:ffff::
    gateway: 2001:db8::2" "v6 route get"
	t_run 0 route -6 delete default
	t_eq "$T_OUT" "delete net default"
	t_eq "$(ip -6 route show default)" "" "v6 default gone"
}

t_main "$@"
