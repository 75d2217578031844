#!/usr/bin/env bash
# pf enforcement with real packets: the tutorial's network inside the case's namespace.
#   lan (192.168.1.10, .1) --veth-- vtnet0 [bridge0 192.168.1.100] epair0a --veth-- webserver .201
#                                                                   epair1a --veth-- database  .202
# Namespaces made with `ip netns` stand in for the jails; pfctl runs in the case's namespace (the host).
. "$(dirname "$0")/../lib/lib.sh"
export PATH="$LJAIL_BUILD/src/cmd:$PATH"

TUTORIAL='# Macros
ext_if = "vtnet0"
bridge_if = "bridge0"
jail_webserver = "192.168.1.201"
jail_database = "192.168.1.202"

# Options
set skip on lo0

# NAT for jails
nat on $ext_if from { $jail_webserver, $jail_database } to any -> ($ext_if)

# Default deny inbound
block in log all
pass out all keep state

# Allow SSH to host
pass in on $ext_if proto tcp to any port 22

# Allow HTTP/HTTPS to webserver jail only
pass in on $ext_if proto tcp to $jail_webserver port { 80, 443 }

# Allow PostgreSQL only from webserver jail
pass in on $bridge_if proto tcp from $jail_webserver to $jail_database port 5432

# Allow ICMP for diagnostics
pass inet proto icmp all
'

# The tutorial's "pfctl -s rules" listing (FreeBSD's default optimizer reordered the rules).
TUTORIAL_RULES='block drop in log all
pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = http flags S/SA keep state
pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = https flags S/SA keep state
pass in on vtnet0 proto tcp from any to any port = ssh flags S/SA keep state
pass in on bridge0 inet proto tcp from 192.168.1.201 to 192.168.1.202 port = postgresql flags S/SA keep state
pass out all flags S/SA keep state
pass inet proto icmp all keep state'

ns() { echo "pft$$-$1"; }

# mkns NAME HOSTSIDE ADDR...: a namespace joined to bridge0 by a veth whose host end is HOSTSIDE.
mkns() {
	local n h
	n=$(ns "$1"); h=$2; shift 2
	ip netns add "$n"
	t_defer ip netns del "$n"
	ip link add "$h" type veth peer name eth0 netns "$n"
	ip link set "$h" master bridge0 up
	ip -n "$n" link set lo up
	ip -n "$n" link set eth0 up
	local a
	for a in "$@"; do ip -n "$n" addr add "$a" dev eth0; done
	ip -n "$n" route add default via 192.168.1.100 2>/dev/null || true
}

# listen NS PORT: a persistent TCP server answering "hello" on every connection.
listen() {
	printf '#!/bin/sh\necho hello\n' >"$T/reply"
	chmod +x "$T/reply"
	ip netns exec "$(ns "$1")" busybox nc -ll -p "$2" -e "$T/reply" &
	t_defer kill $!
}

# reach NS ADDR PORT: succeeds when a TCP connection gets the server's answer.
reach() {
	local out
	out=$(ip netns exec "$(ns "$1")" timeout 5 busybox nc -w 2 "$2" "$3" </dev/null 2>/dev/null) || true
	[ "$out" = hello ]
}

topology() {
	ip link add bridge0 type bridge
	ip link set bridge0 up
	ip addr add 192.168.1.100/24 dev bridge0
	mkns lan vtnet0 192.168.1.10/24 192.168.1.1/24
	mkns webserver epair0a 192.168.1.201/24
	mkns database epair1a 192.168.1.202/24
	listen webserver 80
	listen webserver 443
	listen database 5432
	# no filter yet: everything reaches everything (once the listeners are up)
	local i
	for i in $(seq 30); do
		reach lan 192.168.1.202 5432 && reach lan 192.168.1.201 443 && break
		sleep 0.1
	done
	reach lan 192.168.1.201 80 || t_fail "no connectivity before pf"
	reach lan 192.168.1.202 5432 || t_fail "no connectivity before pf"
}

load_tutorial() {
	printf '%s' "$TUTORIAL" >"$T/pf.conf"
	t_run 0 pfctl -f "$T/pf.conf"
	t_run 0 pfctl -e
	t_eq "$T_ERR" "pf enabled" "pfctl -e message"
}

case_tutorial_verdicts() {
	topology
	load_tutorial
	reach lan 192.168.1.201 80 || t_fail "LAN -> webserver:80 blocked"
	reach lan 192.168.1.201 443 || t_fail "LAN -> webserver:443 blocked"
	if reach lan 192.168.1.202 5432; then t_fail "LAN -> database:5432 passed"; fi
	reach webserver 192.168.1.202 5432 || t_fail "webserver -> database:5432 blocked"
	if reach database 192.168.1.201 80; then t_fail "database -> webserver:80 passed"; fi
	ip netns exec "$(ns lan)" ping -c 1 -W 2 192.168.1.201 >/dev/null || t_fail "ICMP blocked"
	# the listing, in FreeBSD's format and order (after pfctl's default basic optimizer)
	t_run 0 pfctl -s rules
	t_eq "$T_OUT" "$TUTORIAL_RULES" "pfctl -s rules"
	t_run 0 pfctl -s nat
	t_eq "$T_OUT" "nat on vtnet0 inet from 192.168.1.201 to any -> (vtnet0) round-robin
nat on vtnet0 inet from 192.168.1.202 to any -> (vtnet0) round-robin" "pfctl -s nat"
	# counters: the LAN's connections to the web server were counted on its rule
	t_run 0 pfctl -v -s rules
	t_match "$T_OUT" "port = http flags S/SA keep state
  \[ Evaluations: [1-9]"
	# disabled: everything passes again
	t_run 0 pfctl -d
	reach lan 192.168.1.202 5432 || t_fail "pfctl -d left the filter on"
}

case_state_lets_replies_through() {
	topology
	printf 'block in all\npass out all no state\npass in on vtnet0 proto tcp to port 80 no state\n' >"$T/nostate.conf"
	t_run 0 pfctl -f "$T/nostate.conf"
	t_run 0 pfctl -e
	# without state the SYN-ACK coming back in on epair0a hits "block in all"
	if reach lan 192.168.1.201 80; then t_fail "reply passed without state"; fi
	printf 'block in all\npass out all no state\npass in on vtnet0 proto tcp to port 80\n' >"$T/state.conf"
	t_run 0 pfctl -f "$T/state.conf"
	reach lan 192.168.1.201 80 || t_fail "keep state did not let the reply through"
}

case_quick_last_match_and_return() {
	topology
	# last match wins: the later pass overrides the block
	printf 'block in proto tcp to port 80\npass in proto tcp to port 80\n' >"$T/a.conf"
	t_run 0 pfctl -f "$T/a.conf"
	t_run 0 pfctl -e
	reach lan 192.168.1.201 80 || t_fail "last matching rule (pass) did not win"
	# quick stops at the first match; block return answers with a reset, not a timeout
	printf 'block return in quick proto tcp to 192.168.1.201 port 80\npass in all\n' >"$T/b.conf"
	t_run 0 pfctl -f "$T/b.conf"
	local start end
	start=$(date +%s%N)
	if reach lan 192.168.1.201 80; then t_fail "quick block did not stop evaluation"; fi
	end=$(date +%s%N)
	[ $(((end - start) / 1000000)) -lt 1500 ] || t_fail "block return timed out instead of a reset"
	reach lan 192.168.1.201 443 || t_fail "pass in all did not pass port 443"
	# plain block drops: the client waits for its timeout
	printf 'block in quick proto tcp to 192.168.1.201 port 80\npass in all\n' >"$T/c.conf"
	t_run 0 pfctl -f "$T/c.conf"
	start=$(date +%s%N)
	if reach lan 192.168.1.201 80; then t_fail "block drop passed"; fi
	end=$(date +%s%N)
	[ $(((end - start) / 1000000)) -ge 1500 ] || t_fail "block drop answered at once"
}

case_table_add_delete() {
	topology
	printf 'table <friends> persist { 10.9.9.9 }\nblock in all\npass out all\npass in quick proto tcp from <friends> to port 80\n' >"$T/t.conf"
	t_run 0 pfctl -f "$T/t.conf"
	t_run 0 pfctl -e
	if reach lan 192.168.1.201 80; then t_fail "passed before the table held the client"; fi
	t_run 0 pfctl -t friends -T add 192.168.1.10
	t_eq "$T_ERR" "1/1 addresses added." "add message"
	reach lan 192.168.1.201 80 || t_fail "table add did not change the verdict"
	t_run 0 pfctl -t friends -T show
	t_eq "$T_OUT" "   10.9.9.9
   192.168.1.10" "-T show"
	t_run 0 pfctl -t friends -T test 192.168.1.10
	t_eq "$T_ERR" "1/1 addresses match." "-T test"
	t_run 2 pfctl -t friends -T test 192.168.1.10 192.168.1.11
	t_eq "$T_ERR" "1/2 addresses match." "-T test, one missing"
	t_run 0 pfctl -s Tables
	t_eq "$T_OUT" "friends" "-s Tables"
	t_run 0 pfctl -t friends -T delete 192.168.1.10
	t_eq "$T_ERR" "1/1 addresses deleted." "delete message"
	if reach lan 192.168.1.201 80; then t_fail "table delete did not change the verdict"; fi
	t_run 0 pfctl -t friends -T replace 192.168.1.0/24
	reach lan 192.168.1.201 80 || t_fail "table replace did not change the verdict"
	t_run 0 pfctl -t friends -T flush
	if reach lan 192.168.1.201 80; then t_fail "table flush did not change the verdict"; fi
}

case_failed_load_keeps_previous() {
	topology
	load_tutorial
	printf 'pass in all\nblock in on $nope all\npass out\nbogus words here\n' >"$T/bad.conf"
	t_run 1 pfctl -f "$T/bad.conf"
	t_eq "$T_ERR" "$T/bad.conf:2: macro 'nope' not defined
$T/bad.conf:4: syntax error
pfctl: Syntax error in config file: pf rules not loaded" "errors"
	t_run 1 pfctl -nf - <"$T/bad.conf"
	t_eq "$T_ERR" "stdin:2: macro 'nope' not defined
stdin:4: syntax error" "errors from stdin"
	t_run 1 pfctl -nf "$T/bad.conf"
	t_eq "$T_ERR" "$T/bad.conf:2: macro 'nope' not defined
$T/bad.conf:4: syntax error" "errors with -n"
	# a translation rule nftables cannot express fails at load, also leaving the old ruleset
	printf 'rdr on vtnet0 proto tcp to 192.168.1.100 port 1000:1010 -> 192.168.1.201 port 3000:*\n' >"$T/rdr.conf"
	t_run 1 pfctl -f "$T/rdr.conf"
	if reach lan 192.168.1.202 5432; then t_fail "old ruleset gone after a failed load"; fi
	reach lan 192.168.1.201 80 || t_fail "old ruleset gone after a failed load"
	t_run 0 pfctl -s rules
	t_eq "$T_OUT" "$TUTORIAL_RULES" "rules after failed load"
}

case_rdr_to_jail() {
	topology
	# the host forwards what rdr sends elsewhere (FreeBSD: gateway_enable), in this namespace only
	sysctl -qw net.ipv4.ip_forward=1
	printf 'rdr on vtnet0 proto tcp from any to 192.168.1.100 port 8080 -> 192.168.1.201 port 80\npass all\n' >"$T/rdr.conf"
	t_run 0 pfctl -f "$T/rdr.conf"
	t_run 0 pfctl -e
	reach lan 192.168.1.100 8080 || t_fail "rdr did not forward uplink port 8080 to the web jail"
	t_run 0 pfctl -P -s nat
	t_eq "$T_OUT" "rdr on vtnet0 inet proto tcp from any to 192.168.1.100 port = 8080 -> 192.168.1.201 port 80" "-s nat"
}

case_nat_to_upstream() {
	topology
	# the "internet": 10.0.0.1 in the LAN namespace (its router 192.168.1.1); it counts by source
	ip -n "$(ns lan)" addr add 10.0.0.1/32 dev lo
	ip -n "$(ns webserver)" route add 10.0.0.0/24 via 192.168.1.1
	# replies to the translated address come to the host, which routes them back (gateway_enable)
	sysctl -qw net.ipv4.ip_forward=1
	listen lan 7
	local i
	for i in $(seq 30); do reach lan 10.0.0.1 7 && break; sleep 0.1; done
	ip netns exec "$(ns lan)" nft -f - <<-'EOF'
	table inet count {
		chain input {
			type filter hook input priority 0;
			ip saddr 192.168.1.100 tcp dport 7 counter
			ip saddr 192.168.1.201 tcp dport 7 counter
		}
	}
	EOF
	# the tutorial's nat line; its "block in" would also stop the jails' own connections, so pass those
	printf 'nat on vtnet0 from { 192.168.1.201, 192.168.1.202 } to any -> (vtnet0)\nblock in all\npass out all\npass in on bridge0 from 192.168.1.201 to ! 192.168.1.0/24\n' >"$T/nat.conf"
	t_run 0 pfctl -f "$T/nat.conf"
	t_run 0 pfctl -e
	reach webserver 10.0.0.1 7 || t_fail "webserver cannot reach the upstream host"
	local c
	c=$(ip netns exec "$(ns lan)" nft list chain inet count input)
	t_match "$c" "ip saddr 192.168.1.100 tcp dport 7 counter packets [1-9]" "upstream saw the host's address"
	t_match "$c" "ip saddr 192.168.1.201 tcp dport 7 counter packets 0 " "upstream saw the jail's address"
}

case_flush_all_leaves_nothing() {
	topology
	local before host_before outer=$PPID
	before=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)
	# the harness's process, outside the case's namespace
	[ "$(readlink /proc/$outer/ns/net)" != "$(readlink /proc/self/ns/net)" ] || t_fail "no outer namespace"
	# the machine's own namespace (read only) must not see the switch change
	host_before=$(nsenter -t "$outer" -n cat /proc/sys/net/bridge/bridge-nf-call-iptables)
	load_tutorial
	t_eq "$(nsenter -t "$outer" -n cat /proc/sys/net/bridge/bridge-nf-call-iptables)" "$host_before" \
		"br_netfilter switch outside the namespace"
	nsenter -t "$outer" -n nft list tables | grep -q ljail_pf && t_fail "ljail's table in the machine's namespace"
	t_eq "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)" 1 "br_netfilter switched on in the namespace"
	t_match "$(nft list tables)" "inet ljail_pf"
	t_run 0 pfctl -F all
	t_eq "$T_ERR" "rules cleared
nat cleared
0 tables deleted." "flush messages"
	t_eq "$(nft list ruleset)" "" "nft ruleset after pfctl -F all"
	t_eq "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)" "$before" "br_netfilter restored"
	reach lan 192.168.1.202 5432 || t_fail "traffic still filtered after -F all"
	t_run 0 pfctl -s rules
	t_eq "$T_OUT" "" "-s rules after flush"
}

# The state directories of namespaces that are gone, but those listed in $1.
drop_state_dirs_but() {
	local d
	for d in "$LJAIL_RUNDIR"/pf/*; do
		[ -e "$d" ] || continue
		echo "$1" | grep -qx "${d##*/}" || rm -rf "$d"
	done
}

# The rules pfctl shows are its namespace's own. A namespace that died with rules loaded (a jail
# removed without pfctl -F) shows nothing in a new one, even when the kernel gives the new one the
# dead one's inode number, which it does once the old namespace is gone.
case_dead_namespace_rules_stay_dead() {
	local i a b out reused=0 before
	before=$(ls "$LJAIL_RUNDIR/pf" 2>/dev/null | sort || true)
	t_defer drop_state_dirs_but "$before"
	for i in 1 2 3 4 5 6; do
		a=$(unshare --net sh -c 'readlink /proc/self/ns/net; echo "pass in proto tcp to any port 22" | pfctl -f - >/dev/null 2>&1')
		sleep 0.3 # the kernel frees the namespace (and its inode number) in the background
		out=$(unshare --net sh -c 'readlink /proc/self/ns/net; pfctl -s rules 2>&1')
		b=$(echo "$out" | head -n1)
		if [ "$a" = "$b" ]; then reused=$((reused + 1)); fi
		t_eq "$(echo "$out" | tail -n +2)" "" "rules shown in a new namespace (round $i, $a then $b)"
	done
	echo "# inode numbers reused in $reused of 6 rounds" >&2
}

t_main "$@"
