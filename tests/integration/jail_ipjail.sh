#!/usr/bin/env bash
# IP-restricted jails through jail(8) itself: a jail without vnet shares the host's network stack
# and its sockets are confined to ip4.addr/ip6.addr (FreeBSD's prison checks), aliases are added
# at create and removed at removal, and a jail without addresses has no IPv4 at all.
. "$(dirname "$0")/../lib/lib.sh"

probe() { # probe JAIL OP ARGS...: run a socket operation inside the jail, print the result or errno name
	jexec "$1" python3 -c '
import errno, socket, sys
op = sys.argv[1]
try:
    if op == "socket":
        socket.socket(socket.AF_INET, socket.SOCK_STREAM); print("ok")
    elif op == "udp":
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM); print("ok")
    elif op == "socket6":
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM); print("ok")
    elif op == "uring":
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        params = ctypes.create_string_buffer(120)  # struct io_uring_params
        fd = libc.syscall(425, 4, params)  # io_uring_setup
        print(fd if fd >= 0 else errno.errorcode[ctypes.get_errno()])
    elif op == "bind":
        s = socket.socket(socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sys.argv[2], 0)); print(s.getsockname()[0])
except OSError as e:
    print(errno.errorcode[e.errno])
' "${@:2}"
}

setup() {
	command -v python3 >/dev/null || t_skip "python3 is missing"
	ip link add host0 type veth peer name host1
	ip link set host1 up
	ip link set host0 up
	ip addr add 10.200.0.9/24 dev host0 # an address of the host that no jail owns
	t_defer jail -r '*'
}

case_bind_is_confined_to_the_jails_address() {
	setup
	t_run 0 jail -c name=web path=/ persist "ip4.addr=host0|10.200.0.1/24"
	# the alias was added to the host's interface at create
	t_match "$(ip -4 -o addr show dev host0)" "10\.200\.0\.1/24" "alias added"
	t_eq "$(probe web bind 10.200.0.9)" "EADDRNOTAVAIL" "bind to another host address"
	t_eq "$(probe web bind 0.0.0.0)" "10.200.0.1" "a wildcard bind becomes the jail's address"
	t_eq "$(probe web bind 10.200.0.1)" "10.200.0.1" "bind to its own address"
	# the host itself is not confined
	t_eq "$(python3 -c 'import socket; s=socket.socket(); s.bind(("10.200.0.9",0)); print("ok")')" "ok" "host unaffected"
	t_run 0 jail -r web
	if ip -4 -o addr show dev host0 | grep -q 10.200.0.1; then t_fail "alias left after removal"; fi
}

case_no_address_means_no_ipv4() {
	setup
	t_run 0 jail -c name=quiet path=/ persist
	t_eq "$(jls -j quiet ip4)" "disable" "ip4 without addresses"
	t_eq "$(probe quiet socket)" "EAFNOSUPPORT" "an IPv4 socket in a jail without ip4"
	t_eq "$(probe quiet udp)" "EAFNOSUPPORT" "an IPv4 UDP socket in a jail without ip4"
	t_eq "$(probe quiet socket6)" "EAFNOSUPPORT" "an IPv6 socket in a jail without ip6"
	# neither family, and no other family that carries IP (allow.socket_af is off): the
	# seccomp filter refuses both, no program is loaded; io_uring, which makes sockets past
	# socket(2), is not there (as on FreeBSD)
	local cg2
	cg2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
	t_eq "$("$LJAIL_BUILD/tests/test-ipjail" count "$cg2/$LJAIL_CGROUP_ROOT/quiet")" 0 \
		"programs on a jail without addresses"
	t_eq "$(probe quiet uring)" "ENOSYS" "io_uring in a jail without allow.socket_af"
	# with allow.socket_af, AF_SMC or AF_RXRPC could make TCP or UDP sockets for the jail:
	# then the socket() refusal is a program, with a packet filter each way for those
	t_run 0 jail -c name=af path=/ persist allow.socket_af
	t_eq "$(probe af socket)" "EAFNOSUPPORT" "an IPv4 socket with allow.socket_af, no ip4"
	t_eq "$(probe af socket6)" "EAFNOSUPPORT" "an IPv6 socket with allow.socket_af, no ip6"
	t_eq "$("$LJAIL_BUILD/tests/test-ipjail" count "$cg2/$LJAIL_CGROUP_ROOT/af")" 3 \
		"programs on a jail without addresses, with allow.socket_af"
	t_match "$(probe af uring)" "^[0-9]+$" "io_uring with allow.socket_af"
	t_run 0 jail -c name=open path=/ persist ip4=inherit
	t_eq "$(probe open bind 10.200.0.9)" "10.200.0.9" "ip4=inherit shares the host's addresses"
}

# Whether the kernel has bpf_set_retval is probed once and kept in the run directory under the
# kernel's identity; a file that is not root's alone is not believed. (The jails keep IPv6: one
# without either family needs no program, see above.)
case_set_retval_answer_is_kept() {
	setup
	local f=$LJAIL_RUNDIR/ipjail-set-retval
	t_run 0 jail -c name=q1 path=/ persist ip6=inherit
	[ -f "$f" ] || t_fail "no $f after a create"
	t_match "$(cat "$f")" "kernel $(uname -r) .*: [01]\$" "the kernel is named"
	local want=EAFNOSUPPORT
	grep -q ': 1$' "$f" || want=EPERM
	t_eq "$(probe q1 socket)" "$want" "the refusal the kept answer gives"
	# the answer is what the next create uses: "no bpf_set_retval" gives the fallback's EPERM
	printf 'ljail ipjail set_retval, kernel %s %s: 0\n' "$(uname -r)" "$(uname -v)" >"$f"
	t_run 0 jail -c name=q2 path=/ persist ip6=inherit
	t_eq "$(probe q2 socket)" "EPERM" "the fallback after a kept \"no\""
	# a file others could have written is probed again
	chmod 666 "$f"
	t_run 0 jail -c name=q3 path=/ persist ip6=inherit
	t_eq "$(probe q3 socket)" "$want" "a world-writable answer is not believed"
	t_eq "$(stat -c %a "$f")" 644 "the answer written again"
	# another kernel's answer neither
	printf 'ljail ipjail set_retval, kernel 0.0.0 #0: 0\n' >"$f"
	t_run 0 jail -c name=q4 path=/ persist ip6=inherit
	t_eq "$(probe q4 socket)" "$want" "another kernel's answer is not believed"
}

case_shared_alias_stays_until_the_last_jail() {
	setup
	t_run 0 jail -c name=a path=/ persist "ip4.addr=host0|10.200.0.5/24"
	t_run 0 jail -c name=b path=/ persist "ip4.addr=host0|10.200.0.5/24"
	t_run 0 jail -r a
	t_match "$(ip -4 -o addr show dev host0)" "10\.200\.0\.5/24" "alias kept while b uses it"
	t_eq "$(probe b bind 0.0.0.0)" "10.200.0.5" "b still confined to it"
	t_run 0 jail -r b
	if ip -4 -o addr show dev host0 | grep -q 10.200.0.5; then t_fail "alias left"; fi
}

t_main "$@"
