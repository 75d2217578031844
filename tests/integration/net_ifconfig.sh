#!/usr/bin/env bash
# ljail's FreeBSD ifconfig(8) on Linux: epair/bridge cloning, members, addresses, listings and
# FreeBSD's error messages, checked against what ip(8) sees. Runs in the case's own namespace.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/topology.sh"

# ours, never net-tools'
t_tools() { topo_tools_check; }

# (sysfs shows the machine's namespace, not the case's: ask the kernel through ip instead)
mac_of() { ip -o link show "$1" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p'; }
idx_of() { ip -o link show "$1" | cut -d: -f1; }
mtu_of() { ip -o link show "$1" | sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }
master_of() { ip -o link show "$1" | sed -n 's/.* master \([^ ]*\).*/\1/p'; }

case_epair_create_and_naming() {
	t_tools
	local before
	before=$(topo_count_links)
	t_run 0 ifconfig epair create
	t_eq "$T_OUT" "epair0a" "first epair"
	t_run 0 ifconfig epair create
	t_eq "$T_OUT" "epair1a" "second epair"
	ip link show epair0b >/dev/null || t_fail "no epair0b"
	# the a end has the lower ifindex, as on FreeBSD
	[ "$(idx_of epair0a)" -lt "$(idx_of epair0b)" ] || t_fail "epair0a after epair0b"
	t_eq "$(ip -o link show epair0a | grep -o 'link/ether')" "link/ether"
	t_match "$(ip -d link show epair0a)" "veth" "epair is a veth"
	t_run 0 ifconfig epair7 create up
	t_eq "$T_OUT" "epair7a" "named epair prints the a end"
	t_match "$(ip -o link show epair7a)" "<[^>]*UP" "epair7a up"
	t_match "$(ip -o link show epair7b)" "state DOWN" "epair7b stays down"
	# next free number skips taken units
	t_run 0 ifconfig epair create
	t_eq "$T_OUT" "epair2a"
	# an existing epair is refused, nothing changes
	t_run 1 ifconfig epair7 create
	t_eq "$T_ERR" "ifconfig: interface epair7 already exists"
	t_eq "$T_OUT" ""
	t_run 1 ifconfig epairx create
	t_eq "$T_ERR" "ifconfig: SIOCIFCREATE2 (epairx): Invalid argument"
	t_run 1 ifconfig epair1234567890 create
	t_match "$T_ERR" "^ifconfig: " "too long epair unit"
	# destroying either end destroys both
	t_run 0 ifconfig epair7b destroy
	t_eq "$T_OUT" ""
	ip link show epair7a >/dev/null 2>&1 && t_fail "epair7a survived destroying epair7b"
	for n in 0 1 2; do ifconfig "epair${n}a" destroy; done
	t_eq "$(topo_count_links)" "$before" "link count after destroy"
	t_run 1 ifconfig lo destroy
	t_eq "$T_ERR" "ifconfig: SIOCIFDESTROY: Invalid argument"
	t_run 1 ifconfig epair0a destroy
	t_eq "$T_ERR" "ifconfig: interface epair0a does not exist"
}

case_bridge_create_addm_deletem() {
	t_tools
	topo_up --no-bridge
	t_run 0 ifconfig bridge create
	t_eq "$T_OUT" "bridge0" "bridge create prints the name"
	t_run 0 ifconfig bridge3 create
	t_eq "$T_OUT" "" "bridgeN create prints nothing"
	t_run 1 ifconfig bridge3 create
	t_eq "$T_ERR" "ifconfig: interface bridge3 already exists"
	ifconfig bridge3 destroy
	# the tutorial's two commands
	t_run 0 ifconfig bridge0 addm vtnet0 up
	t_eq "$T_OUT" ""
	t_eq "$(master_of vtnet0)" "bridge0" "vtnet0 in bridge0"
	ifconfig epair1 create up >/dev/null
	t_run 0 ifconfig bridge0 addm epair1a up
	local out
	# (Linux gives a bridge an IPv6 link-local address; FreeBSD keeps IPv6 off: not compared)
	out=$(ifconfig bridge0 | grep -v '^	inet6 fe80:')
	local want
	want="bridge0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
	ether $(mac_of bridge0)
	id 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15
	maxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200
	root id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0
	member: epair1a flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>
	        ifmaxaddr 0 port $(idx_of epair1a) priority 128 path cost 2000
	member: vtnet0 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>
	        ifmaxaddr 0 port $(idx_of vtnet0) priority 128 path cost 2000
	groups: bridge"
	t_eq "$out" "$want" "ifconfig bridge0"
	# a member is PROMISC, as on FreeBSD
	t_match "$(ifconfig epair1a | head -1)" "^epair1a: flags=1008943<UP,BROADCAST,RUNNING,PROMISC,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500$"
	# errors
	t_run 1 ifconfig bridge0 addm epair1a
	t_eq "$T_ERR" "ifconfig: BRDGADD epair1a: File exists"
	t_run 1 ifconfig bridge0 addm nosuch0
	t_eq "$T_ERR" "ifconfig: BRDGADD nosuch0: No such file or directory"
	t_run 1 ifconfig bridge9 addm epair1a
	t_eq "$T_ERR" "ifconfig: interface bridge9 does not exist"
	ifconfig bridge create >/dev/null
	t_run 1 ifconfig bridge1 addm epair1a
	t_eq "$T_ERR" "ifconfig: BRDGADD epair1a: Device or resource busy"
	t_run 1 ifconfig epair1b addm vtnet0
	t_eq "$T_ERR" "ifconfig: BRDGADD vtnet0: Invalid argument"
	t_run 1 ifconfig bridge0 deletem epair1b
	t_eq "$T_ERR" "ifconfig: BRDGDEL epair1b: No such file or directory"
	t_run 0 ifconfig bridge0 deletem epair1a
	[ -n "$(master_of epair1a)" ] && t_fail "epair1a still a member"
	t_run 1 ifconfig averyveryverylongname0 addm epair1a
	t_eq "$T_ERR" "ifconfig: interface name too long (max 15 characters): averyveryverylongname0"
	t_run 1 ifconfig bridge0 name averyveryverylongname0
	t_eq "$T_ERR" "ifconfig: interface name too long (max 15 characters): averyveryverylongname0"
	# several words in one command, and the FreeBSD MTU rule: later members take the bridge's
	ip link set epair1a mtu 1400
	t_run 0 ifconfig bridge0 addm epair1a up
	t_eq "$(mtu_of epair1a)" "1500" "member switched to the bridge MTU"
	ifconfig epair1a destroy
	t_eq "$(ip -o link show master bridge0 | wc -l)" "1" "only vtnet0 left in bridge0"
}

case_addresses_v4_v6_listing() {
	t_tools
	ifconfig epair1 create up >/dev/null
	ifconfig epair1b up
	t_run 0 ifconfig epair1b 192.168.1.201/24 up
	t_eq "$T_OUT" ""
	local want
	want="epair1b: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
	ether $(mac_of epair1b)
	inet 192.168.1.201 netmask 0xffffff00 broadcast 192.168.1.255
	groups: epair
	media: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)
	status: active"
	t_eq "$(ifconfig epair1b inet)" "$want" "ifconfig epair1b inet (the tutorial's lines)"
	t_match "$(ip -o -4 addr show epair1b)" "inet 192.168.1.201/24 brd 192.168.1.255" "kernel view"
	# without alias the first address is replaced
	t_run 0 ifconfig epair1b inet 192.168.1.202 netmask 255.255.0.0
	t_eq "$(ip -o -4 addr show epair1b | awk '{print $4}')" "192.168.1.202/16" "replaced"
	t_run 0 ifconfig epair1b inet 10.1.1.1 netmask 0xffffff00 alias
	t_eq "$(ip -o -4 addr show epair1b | awk '{print $4}' | tr '\n' ' ')" "192.168.1.202/16 10.1.1.1/24 " "alias added"
	t_match "$(ifconfig epair1b)" "	inet 10\.1\.1\.1 netmask 0xffffff00 broadcast 10\.1\.1\.255" "alias listed"
	t_run 0 ifconfig epair1b inet 10.1.1.1 -alias
	t_eq "$(ip -o -4 addr show epair1b | wc -l)" "1" "alias removed"
	t_run 1 ifconfig epair1b inet 10.1.1.1 -alias
	t_eq "$T_ERR" "ifconfig: ioctl (SIOCDIFADDR): Cannot assign requested address"
	# inet6, usable at once (no DAD wait)
	t_run 0 ifconfig epair1b inet6 2001:db8::5/64
	t_match "$(ifconfig epair1b)" "	inet6 2001:db8::5 prefixlen 64$" "inet6 line"
	t_match "$(ip -o -6 addr show epair1b)" "2001:db8::5/64" "kernel has the v6 address"
	t_eq "$(ip -o -6 addr show epair1b tentative | grep -c 2001:db8::5 || true)" "0" \
		"2001:db8::5 not tentative (bind works at once)"
	t_run 0 ifconfig epair1b inet6 2001:db8::6 prefixlen 80 alias
	t_match "$(ip -o -6 addr show epair1b)" "2001:db8::6/80"
	t_run 0 ifconfig epair1b inet6 2001:db8::6 -alias
	[ -z "$(ip -o -6 addr show epair1b | grep 2001:db8::6)" ] || t_fail "v6 alias not removed"
	# the link-local address prints with %IF and scopeid
	local ll
	for _ in $(seq 50); do
		ll=$(ip -o -6 addr show epair1b scope link -tentative | awk '{print $4}' | cut -d/ -f1)
		[ -n "$ll" ] && break
		sleep 0.1
	done
	[ -n "$ll" ] && t_match "$(ifconfig epair1b)" "	inet6 $ll%epair1b prefixlen 64 scopeid 0x$(printf %x "$(idx_of epair1b)")" "link-local line"
	# without a mask: FreeBSD's warning and the classful mask
	t_run 0 ifconfig epair1a 10.2.3.4
	t_eq "$T_ERR" "ifconfig: WARNING: setting interface address without mask is deprecated,
default mask may not be correct."
	t_match "$(ip -o -4 addr show epair1a)" "10\.2\.3\.4/8" "classful /8"
	# bad values: nothing changes
	t_run 1 ifconfig epair1a 10.0.0.1/33
	t_eq "$T_ERR" "ifconfig: 10.0.0.1/33: bad value (width too large)"
	t_run 1 ifconfig epair1a frobnicate
	t_eq "$T_ERR" "ifconfig: frobnicate: bad value"
	t_run 1 ifconfig epair1a inet6 10.0.0.1/24
	t_eq "$T_ERR" "ifconfig: 10.0.0.1/24: bad value"
	t_run 1 ifconfig epair1a mtu
	t_eq "$T_ERR" "ifconfig: 'mtu' requires argument"
	t_run 1 ifconfig epair1a mtu 10
	t_eq "$T_ERR" "ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument"
	t_match "$(ip -o -4 addr show epair1a)" "10\.2\.3\.4/8" "address kept after refusals"
	# mtu, ether, name, description
	t_run 0 ifconfig epair1a mtu 9000 ether 02:00:00:00:01:0a description uplink
	t_eq "$(mtu_of epair1a)" "9000"
	t_eq "$(mac_of epair1a)" "02:00:00:00:01:0a"
	t_match "$(ifconfig epair1a)" "	description: uplink" "description line"
	t_run 0 ifconfig epair1a name web0
	t_eq "$T_OUT" "web0" "name prints the new name"
	t_run 1 ifconfig web0 name epair1b
	t_eq "$T_ERR" "ifconfig: ioctl SIOCSIFNAME (set name): File exists"
	t_run 0 ifconfig web0 down
	t_match "$(ifconfig web0 | head -1)" "^web0: flags=1008842<BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> " "down"
	t_run 1 ifconfig nosuch0 up
	t_eq "$T_ERR" "ifconfig: interface nosuch0 does not exist"
}

case_listings() {
	t_tools
	ifconfig epair create >/dev/null
	ifconfig bridge create >/dev/null
	t_run 0 ifconfig -l
	t_eq "$T_OUT" "lo epair0a epair0b bridge0"
	t_run 0 ifconfig -l ether
	t_eq "$T_OUT" "epair0a epair0b bridge0"
	t_run 0 ifconfig -l -u
	t_eq "$T_OUT" "lo"
	t_run 0 ifconfig -g epair
	t_eq "$T_OUT" "epair0a
epair0b"
	t_run 0 ifconfig -C
	t_eq "$T_OUT" "bridge epair"
	t_run 0 ifconfig
	t_eq "$(printf '%s\n' "$T_OUT" | grep -c '^[a-z]')" "4" "ifconfig lists every interface"
	t_eq "$(printf '%s\n' "$T_OUT" | head -4)" "lo: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 65536
	inet 127.0.0.1 netmask 0xff000000
	inet6 ::1 prefixlen 128
	groups: lo"
	t_run 0 ifconfig -a
	t_run 1 ifconfig -l -a
	t_match "$T_ERR" "^usage: ifconfig"
	t_run 1 ifconfig -Z
	t_match "$T_ERR" "^usage: ifconfig"
}

case_failed_create_leaves_nothing() {
	t_tools
	local before
	before=$(topo_count_links)
	# a bad word is caught before anything is made
	t_run 1 ifconfig epair3 create inet 10.0.0.1/33
	t_eq "$T_ERR" "ifconfig: 10.0.0.1/33: bad value (width too large)"
	t_run 1 ifconfig epair create frobnicate
	t_eq "$(topo_count_links)" "$before" "nothing made by a bad word"
	# a kernel refusal after create undoes the create
	t_run 1 ifconfig epair3 create mtu 10
	t_eq "$T_ERR" "ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument"
	t_eq "$T_OUT" "" "no name printed for a failed create"
	ip link show epair3a >/dev/null 2>&1 && t_fail "epair3a left behind"
	t_run 1 ifconfig bridge create addm nosuch0
	t_eq "$(topo_count_links)" "$before" "nothing left after failed creates"
}

case_fifty_epair_cycles() {
	t_tools
	local before n name
	before=$(topo_count_links)
	for n in $(seq 1 50); do
		name=$(ifconfig epair create up)
		[ "$name" = epair0a ] || t_fail "cycle $n made $name"
		ifconfig "$name" destroy
	done
	t_eq "$(topo_count_links)" "$before" "link count after 50 cycles"
	# and 50 at once, then destroyed
	for n in $(seq 1 50); do ifconfig epair create >/dev/null; done
	t_eq "$(topo_count_links)" "$((before + 100))"
	for n in $(seq 0 49); do ifconfig "epair${n}b" destroy; done
	t_eq "$(topo_count_links)" "$before" "link count after 50 pairs"
}

case_parallel_epair_create() {
	t_tools
	# jails starting in parallel: every `epair create` gets its own unit
	local i
	for i in $(seq 1 12); do ifconfig epair create >>"$T/names" & done
	wait
	t_eq "$(sort -u "$T/names" | wc -l)" "12" "12 distinct epairs"
	t_eq "$(ip -o link show | grep -c epair)" "24" "24 ends"
}

t_main "$@"
