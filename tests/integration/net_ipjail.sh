#!/usr/bin/env bash
# IP-restricted (non-vnet) jails: the cgroup BPF programs of src/net/ipjail.c confine the sockets
# of a process in a cgroup2 group to the jail's addresses, as FreeBSD does for ip4.addr/ip6.addr.
# Each case gives the sandbox's lo two addresses per family, makes a cgroup2 group of its own and
# checks real sockets inside it (through the helper mode of the test-ipjail binary) and outside.
. "$(dirname "$0")/../lib/lib.sh"

HELPER=$LJAIL_BUILD/tests/test-ipjail

setup() {
	[ -x "$HELPER" ] || t_fail "$HELPER is not built"
	command -v python3 >/dev/null || t_skip "python3 is missing"
	local cg2
	cg2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
	[ -n "$cg2" ] || t_skip "no cgroup2 hierarchy mounted"
	CG=$cg2/$LJAIL_CGROUP_ROOT/ipj
	mkdir -p "$CG"
	t_defer rmdir "$cg2/$LJAIL_CGROUP_ROOT"
	t_defer rmdir "$CG"
	ip addr add 10.200.0.1/32 dev lo
	ip addr add 10.200.0.2/32 dev lo
	ip -6 addr add fd00:200::1/128 dev lo
	ip -6 addr add fd00:200::2/128 dev lo
	cat >"$T/probe.py" <<'EOF'
import errno, socket, sys, time
fams = {"4": socket.AF_INET, "6": socket.AF_INET6}
op, fam = sys.argv[1], fams[sys.argv[2]]
try:
    if op == "socket":
        socket.socket(fam, socket.SOCK_DGRAM if sys.argv[3:] == ["udp"] else socket.SOCK_STREAM)
        print("ok")
    elif op == "bind":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((sys.argv[3], 0))
        print(s.getsockname()[0])
    elif op == "connect":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.connect((sys.argv[3], int(sys.argv[4])))
        print(s.getsockname()[0])
    elif op == "sendto":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.sendto(b"hello", (sys.argv[3], int(sys.argv[4])))
        print(s.getsockname()[0])
    elif op in ("listen", "recv"):
        # listen/recv FAM ADDR PORT OUT: serve one peer, write its address to OUT
        udp = op == "recv"
        s = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[3], int(sys.argv[4])))
        if not udp:
            s.listen(4)
        open(sys.argv[5] + ".ready", "w").close()
        s.settimeout(20)
        peer = s.recvfrom(16)[1] if udp else s.accept()[1]
        with open(sys.argv[5], "w") as f:
            f.write(peer[0] + "\n")
    elif op in ("serve-jail", "udp-auto"):
        # serve-jail FAM OUT N [ADDR]: listen (bound to ADDR, else never bound: the kernel binds
        # to the wildcard), print the bound address, then the local address of N connections.
        # udp-auto FAM OUT DEST: sendto() autobinds; print the first datagram received.
        # The port goes to OUT.port.
        udp = op == "udp-auto"
        s = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        if udp:
            s.sendto(b"x", (sys.argv[4], 9))
        else:
            if sys.argv[5:]:
                s.bind((sys.argv[5], 0))
            s.listen(4)
            print(s.getsockname()[0], flush=True)
        with open(sys.argv[3] + ".tmp", "w") as f:
            f.write(str(s.getsockname()[1]))
        import os
        os.rename(sys.argv[3] + ".tmp", sys.argv[3] + ".port")
        s.settimeout(10)
        if udp:
            print(s.recvfrom(16)[0].decode())
        else:
            for i in range(int(sys.argv[4])):
                c, peer = s.accept()
                print(c.getsockname()[0], flush=True)
    elif op == "raw":
        # an IPv4 packet with a source address of our choosing (IP_HDRINCL)
        import struct
        s = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, 17, 0,
                          socket.inet_aton(sys.argv[3]), socket.inet_aton(sys.argv[4]))
        s.sendto(hdr + struct.pack("!HHHH", 9, 9, 8, 0), (sys.argv[4], 0))
        print("sent")
except OSError as e:
    print("ERR " + errno.errorcode.get(e.errno, str(e.errno)))
except socket.timeout:
    print("timeout")
EOF
}

# jailed SPEC4 SPEC6 PROBE-ARGS...: run the probe inside the restricted group; output in $T_OUT.
jailed() {
	local s4=$1 s6=$2
	shift 2
	t_run 0 "$HELPER" attach "$CG" "ip4=$s4" "ip6=$s6" ${FALLBACK:+--fallback} -- python3 "$T/probe.py" "$@"
}
outside() { t_run 0 python3 "$T/probe.py" "$@"; }

# serve listen|recv FAM ADDR PORT: a server outside the jail; its peer's address lands in $T/peer.
serve() {
	rm -f "$T/peer" "$T/peer.ready"
	python3 "$T/probe.py" "$1" "$2" "$3" "$4" "$T/peer" &
	t_defer kill $!
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$T/peer.ready" ] && return 0
		sleep 0.05
	done
	t_fail "server on $3 port $4 did not start"
}
peer() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/peer" ] && break
		sleep 0.05
	done
	cat "$T/peer" 2>/dev/null || true
}

case_ipv4_bind_restricted_to_the_jails_address() {
	setup
	jailed 10.200.0.1 inherit bind 4 10.200.0.2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "bind to the host's other address"
	jailed 10.200.0.1 inherit bind 4 0.0.0.0
	t_eq "$T_OUT" "10.200.0.1" "wildcard bind"
	jailed 10.200.0.1 inherit bind 4 10.200.0.1
	t_eq "$T_OUT" "10.200.0.1" "bind to the jail's own address"
	jailed 10.200.0.1 inherit bind 4 127.0.0.1
	t_eq "$T_OUT" "10.200.0.1" "bind to 127.0.0.1 (FreeBSD: the jail's primary address)"
	jailed 10.200.0.1 inherit bind 4 127.0.0.2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "bind to another loopback address"
	# a second address in the list is allowed; with two the wildcard stays (FreeBSD)
	jailed 10.200.0.2,10.200.0.1 inherit bind 4 10.200.0.1
	t_eq "$T_OUT" "10.200.0.1" "bind to the jail's second address"
	jailed 10.200.0.2,10.200.0.1 inherit bind 4 0.0.0.0
	t_eq "$T_OUT" "0.0.0.0" "wildcard bind of a jail with two addresses"
	jailed 10.200.0.2,10.200.0.1 inherit bind 4 127.0.0.1
	t_eq "$T_OUT" "10.200.0.2" "127.0.0.1 of a jail with two addresses: the first"
	# 127.0.0.1 as the second of two own addresses (jail -h of a name in /etc/hosts)
	jailed 10.200.0.2,127.0.0.1 inherit bind 4 127.0.0.1
	t_eq "$T_OUT" "127.0.0.1" "127.0.0.1 listed: itself"
	jailed 10.200.0.2,127.0.0.1 inherit bind 4 0.0.0.0
	t_eq "$T_OUT" "0.0.0.0" "127.0.0.1 listed second: the wildcard stays"
	jailed 10.200.0.2,127.0.0.1 inherit bind 4 10.200.0.1
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "127.0.0.1 listed second: other host addresses refused"
	# the jail's IPv6 is unrestricted (ip6=inherit)
	jailed 10.200.0.1 inherit bind 6 fd00:200::2
	t_eq "$T_OUT" "fd00:200::2" "IPv6 with ip6=inherit"
	# a process outside the group is unaffected
	outside bind 4 10.200.0.2
	t_eq "$T_OUT" "10.200.0.2" "bind outside the jail"
	outside bind 4 0.0.0.0
	t_eq "$T_OUT" "0.0.0.0" "wildcard bind outside the jail"
}

case_ipv4_connect_uses_the_jails_address() {
	setup
	serve listen 4 10.200.0.2 7001
	jailed 10.200.0.1 inherit connect 4 10.200.0.2 7001
	t_eq "$T_OUT" "10.200.0.1" "source address seen by the jailed client"
	t_eq "$(peer)" "10.200.0.1" "source address seen by the listener"
	# UDP from an unbound socket
	serve recv 4 10.200.0.2 7002
	jailed 10.200.0.1 inherit sendto 4 10.200.0.2 7002
	t_eq "$(peer)" "10.200.0.1" "UDP source address seen by the receiver"
	# 127.0.0.1 means the jail's address (FreeBSD prison_remote_ip4)
	serve listen 4 10.200.0.1 7003
	jailed 10.200.0.1 inherit connect 4 127.0.0.1 7003
	t_eq "$T_OUT" "10.200.0.1" "connect to 127.0.0.1 from the jail"
	t_eq "$(peer)" "10.200.0.1" "listener on the jail's address reached through 127.0.0.1"
	# outside: the kernel picks the source as usual
	serve listen 4 10.200.0.2 7004
	outside connect 4 10.200.0.2 7004
	t_eq "$(peer)" "10.200.0.2" "source address of a process outside the jail"
}

# jailed_bg SPEC4 SPEC6 PROBE-ARGS...: the same in the background; wait_jailed collects $T_OUT.
jailed_bg() {
	local s4=$1 s6=$2
	shift 2
	"$HELPER" attach "$CG" "ip4=$s4" "ip6=$s6" -- python3 "$T/probe.py" "$@" >"$T/bg.out" 2>&1 &
	BG=$!
	t_defer kill $BG
}
wait_jailed() {
	wait "$BG" || t_fail "jailed probe failed: $(cat "$T/bg.out")"
	T_OUT=$(grep -v '^test-ipjail:' "$T/bg.out" || true)
}
wait_port() { # FILE: the port a jailed probe wrote
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1.port" ] && { cat "$1.port"; return 0; }
		sleep 0.05
	done
	t_fail "no port in $1.port: $(cat "$T/bg.out")"
}

case_never_bound_sockets_receive_only_for_the_jail() {
	# listen() without bind(): the kernel binds to the wildcard without asking the bind hook;
	# the ingress filter keeps the host's other addresses out
	setup
	jailed_bg 10.200.0.1 fd00:200::1 serve-jail 4 "$T/l" 1
	local port
	port=$(wait_port "$T/l")
	t_eq "$(try_connect 10.200.0.2 "$port")" "timeout" \
		"connect to the jail's never-bound listener through another address"
	t_run 0 python3 -c "import socket; socket.create_connection(('10.200.0.1', $port), 5)"
	wait_jailed
	t_eq "$T_OUT" "0.0.0.0
10.200.0.1" "the never-bound listener accepted only on the jail's address"
	# UDP: sendto() autobinds to the wildcard; a datagram to another address is dropped
	jailed_bg 10.200.0.1 fd00:200::1 udp-auto 4 "$T/u" 10.200.0.1
	port=$(wait_port "$T/u")
	t_run 0 python3 -c "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'bad', ('10.200.0.2', $port)); s.sendto(b'good', ('10.200.0.1', $port))"
	wait_jailed
	t_eq "$T_OUT" "good" "first datagram the never-bound UDP socket received"
}

# connect FAM ADDR PORT from outside with a 1 s timeout: "connected" or "timeout"
try_connect() {
	python3 -c "import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET); s.settimeout(1)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print('connected')
except OSError: print('timeout')" "$1" "$2"
}

case_wildcard_of_a_jail_with_several_addresses() {
	# FreeBSD keeps the wildcard and accepts on every address of the jail, on no other
	setup
	ip addr add 10.200.0.3/32 dev lo
	ip -6 addr add fd00:200::3/128 dev lo
	local port
	jailed_bg 10.200.0.1,10.200.0.2 inherit serve-jail 4 "$T/w" 2 0.0.0.0
	port=$(wait_port "$T/w")
	t_eq "$(try_connect 10.200.0.3 "$port")" "timeout" "the host's other address"
	t_eq "$(try_connect 10.200.0.1 "$port")" "connected" "the jail's first address"
	t_eq "$(try_connect 10.200.0.2 "$port")" "connected" "the jail's second address"
	wait_jailed
	t_eq "$T_OUT" "0.0.0.0
10.200.0.1
10.200.0.2" "wildcard listener of a jail with two addresses"
	jailed_bg inherit fd00:200::1,fd00:200::2 serve-jail 6 "$T/w6" 2 ::
	port=$(wait_port "$T/w6")
	t_eq "$(try_connect fd00:200::3 "$port")" "timeout" "the host's other IPv6 address"
	t_eq "$(try_connect fd00:200::2 "$port")" "connected" "the jail's second IPv6 address"
	t_eq "$(try_connect fd00:200::1 "$port")" "connected" "the jail's first IPv6 address"
	wait_jailed
	t_eq "$T_OUT" "::
fd00:200::2
fd00:200::1" "IPv6 wildcard listener of a jail with two addresses"
}

case_packets_from_other_sources_are_dropped() {
	# what the socket hooks cannot see: raw sockets (a jail with allow.raw_sockets)
	setup
	jailed 10.200.0.1 inherit raw 4 10.200.0.2 10.200.0.1
	t_eq "$T_OUT" "ERR EPERM" "raw packet with the host's other address as source"
	jailed 10.200.0.1 inherit raw 4 10.200.0.1 10.200.0.2
	t_eq "$T_OUT" "sent" "raw packet with the jail's address as source"
	outside raw 4 10.200.0.2 10.200.0.1
	t_eq "$T_OUT" "sent" "raw packet outside the jail"
}

case_ipv4_disabled_jail_has_no_ipv4_sockets() {
	setup
	jailed disable inherit socket 4
	t_eq "$T_OUT" "ERR EAFNOSUPPORT" "socket(AF_INET) with ip4=disable"
	jailed disable inherit socket 4 udp
	t_eq "$T_OUT" "ERR EAFNOSUPPORT" "UDP socket(AF_INET) with ip4=disable"
	jailed disable inherit socket 6
	t_eq "$T_OUT" "ok" "socket(AF_INET6) with ip6=inherit"
	# no IPv4 through an AF_INET6 socket either
	jailed disable inherit bind 6 ::ffff:10.200.0.1
	t_eq "$T_OUT" "ERR EAFNOSUPPORT" "IPv4-mapped bind with ip4=disable"
	jailed disable inherit sendto 6 ::ffff:10.200.0.2 7005
	t_eq "$T_OUT" "ERR EAFNOSUPPORT" "IPv4-mapped sendto with ip4=disable"
	jailed disable inherit connect 6 ::ffff:10.200.0.2 7005
	t_eq "$T_OUT" "ERR EAFNOSUPPORT" "IPv4-mapped connect with ip4=disable"
	outside socket 4
	t_eq "$T_OUT" "ok" "socket(AF_INET) outside the jail"
}

case_ipv6_restricted_the_same_way() {
	setup
	jailed inherit fd00:200::1 bind 6 fd00:200::2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "bind to the host's other IPv6 address"
	jailed inherit fd00:200::1 bind 6 ::
	t_eq "$T_OUT" "fd00:200::1" "IPv6 wildcard bind"
	jailed inherit fd00:200::1 bind 6 ::1
	t_eq "$T_OUT" "fd00:200::1" "bind to ::1"
	jailed inherit fd00:200::1 bind 6 fd00:200::1
	t_eq "$T_OUT" "fd00:200::1" "bind to the jail's IPv6 address"
	jailed inherit fd00:200::1,::1 bind 6 ::1
	t_eq "$T_OUT" "::1" "::1 listed second: itself"
	jailed inherit fd00:200::1,::1 bind 6 ::
	t_eq "$T_OUT" "::" "::1 listed second: the wildcard stays"
	jailed inherit fd00:200::1,::1 bind 6 fd00:200::2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "::1 listed second: other host addresses refused"
	serve listen 6 fd00:200::2 7011
	jailed inherit fd00:200::1 connect 6 fd00:200::2 7011
	t_eq "$(peer)" "fd00:200::1" "IPv6 source address seen by the listener"
	serve recv 6 fd00:200::2 7012
	jailed inherit fd00:200::1 sendto 6 fd00:200::2 7012
	t_eq "$(peer)" "fd00:200::1" "IPv6 UDP source seen by the receiver"
	jailed inherit disable socket 6
	t_eq "$T_OUT" "ERR EAFNOSUPPORT" "socket(AF_INET6) with ip6=disable"
	jailed inherit disable socket 4
	t_eq "$T_OUT" "ok" "socket(AF_INET) with ip4=inherit"
	outside bind 6 fd00:200::2
	t_eq "$T_OUT" "fd00:200::2" "IPv6 bind outside the jail"
}

case_ipv4_mapped_addresses_follow_ip4() {
	setup
	jailed 10.200.0.1 fd00:200::1 bind 6 ::ffff:10.200.0.2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "IPv4-mapped bind to another address"
	jailed 10.200.0.1 fd00:200::1 bind 6 ::ffff:0.0.0.0
	t_eq "$T_OUT" "::ffff:10.200.0.1" "IPv4-mapped wildcard bind"
	serve listen 4 10.200.0.2 7021
	jailed 10.200.0.1 fd00:200::1 connect 6 ::ffff:10.200.0.2 7021
	t_eq "$(peer)" "10.200.0.1" "IPv4-mapped connect source"
	serve recv 4 10.200.0.2 7022
	jailed 10.200.0.1 fd00:200::1 sendto 6 ::ffff:10.200.0.2 7022
	t_eq "$(peer)" "10.200.0.1" "IPv4-mapped sendto source"
}

case_both_families_new_and_disabled() {
	setup
	jailed 10.200.0.1 fd00:200::1 bind 4 10.200.0.2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL"
	jailed 10.200.0.1 fd00:200::1 bind 6 fd00:200::2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL"
	jailed disable disable socket 4
	t_eq "$T_OUT" "ERR EAFNOSUPPORT"
	jailed disable disable socket 6
	t_eq "$T_OUT" "ERR EAFNOSUPPORT"
	# inherit for both: no restriction at all, nothing attached
	jailed inherit inherit bind 4 10.200.0.2
	t_eq "$T_OUT" "10.200.0.2"
	t_match "$T_ERR" "0 programs attached"
}

case_fallback_without_bpf_set_retval() {
	# Kernels before 5.18: the foreign address is rewritten to TEST-NET and the kernel refuses it.
	setup
	FALLBACK=1
	jailed 10.200.0.1 fd00:200::1 bind 4 10.200.0.2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "fallback: IPv4 bind to another address"
	jailed 10.200.0.1 fd00:200::1 bind 6 fd00:200::2
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "fallback: IPv6 bind to another address"
	jailed 10.200.0.1 fd00:200::1 bind 4 0.0.0.0
	t_eq "$T_OUT" "10.200.0.1" "fallback: wildcard bind"
	jailed disable inherit socket 4
	t_eq "$T_OUT" "ERR EPERM" "fallback: socket(AF_INET) with ip4=disable"
	t_match "$T_ERR" "fallback"
}

case_255_addresses_per_family() {
	# long lists are looked up in a BPF hash map, short ones compared inline: check both
	setup
	ip addr add 10.200.0.3/32 dev lo
	ip -6 addr add fd00:200::3/128 dev lo
	local a4 a6 n
	for n in 5 255; do
		a4=$(python3 -c "print(','.join(['10.200.0.2'] + ['10.201.%d.%d' % (i // 200, i % 200 + 1) for i in range($n - 2)] + ['10.200.0.1']))")
		a6=$(python3 -c "print(','.join(['fd00:200::2'] + ['fd01::%x' % (i + 1) for i in range($n - 2)] + ['fd00:200::1']))")
		jailed "$a4" "$a6" bind 4 10.200.0.1
		t_eq "$T_OUT" "10.200.0.1" "the last of $n IPv4 addresses"
		echo "# $n addresses: $T_ERR" >&2
		jailed "$a4" "$a6" bind 4 10.200.0.3
		t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "an address not among $n"
		jailed "$a4" "$a6" bind 4 0.0.0.0
		t_eq "$T_OUT" "0.0.0.0" "wildcard bind with $n addresses"
		jailed "$a4" "$a6" bind 6 ::ffff:10.200.0.1
		t_eq "$T_OUT" "::ffff:10.200.0.1" "IPv4-mapped bind with $n addresses"
		jailed "$a4" "$a6" bind 6 ::ffff:10.200.0.3
		t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "IPv4-mapped bind to an address not among $n"
		jailed "$a4" "$a6" bind 6 fd00:200::1
		t_eq "$T_OUT" "fd00:200::1" "the last of $n IPv6 addresses"
		jailed "$a4" "$a6" bind 6 fd00:200::3
		t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "an IPv6 address not among $n"
		jailed "$a4" "$a6" bind 6 ::
		t_eq "$T_OUT" "::" "IPv6 wildcard bind with $n addresses"
		serve recv 4 10.200.0.3 7031
		jailed "$a4" "$a6" sendto 4 10.200.0.3 7031
		t_eq "$(peer)" "10.200.0.2" "UDP source with $n addresses"
		serve recv 6 fd00:200::3 7032
		jailed "$a4" "$a6" sendto 6 fd00:200::3 7032
		t_eq "$(peer)" "fd00:200::2" "IPv6 UDP source with $n addresses"
	done
}

case_nothing_remains_after_detach_or_removal() {
	setup
	jailed 10.200.0.1 fd00:200::1 bind 4 0.0.0.0
	t_eq "$("$HELPER" count "$CG")" "0" "programs attached after detach"
	# attached for the group's life (as the jail lifecycle does)
	t_run 0 "$HELPER" attach "$CG" ip4=10.200.0.1 ip6=fd00:200::1
	t_eq "$("$HELPER" count "$CG")" "8" "programs attached to the group"
	t_run 0 sh -c "echo \$\$ > '$CG/cgroup.procs'; exec python3 '$T/probe.py' bind 4 10.200.0.2"
	t_eq "$T_OUT" "ERR EADDRNOTAVAIL" "restriction stays after the loader exited"
	rmdir "$CG"
	[ ! -e "$CG" ] || t_fail "group still there"
	outside bind 4 10.200.0.2
	t_eq "$T_OUT" "10.200.0.2"
	# a directory that is not a cgroup2 group: a clear error, nothing half-made
	t_run 1 "$HELPER" attach "$T" ip4=10.200.0.1 ip6=inherit
	t_match "$T_ERR" "BPF_PROG_ATTACH lj_"
}

t_main "$@"
