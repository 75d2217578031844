#!/usr/bin/env bash
# The harness itself: a case runs in its own network and mount namespaces and cleans up on failure.
. "$(dirname "$0")/../lib/lib.sh"

case_private_network_namespace() {
	# only lo, and it is up: nothing of the machine's own network is visible
	t_eq "$(ip -o link show | awk -F': ' '{print $2}')" "lo" "links in the sandbox"
	ip link add t-veth0 type veth peer name t-veth1
	t_match "$(ip -o link show)" "t-veth0" "veth made in the sandbox"
}

case_private_mounts() {
	mkdir "$T/m"
	mount -t tmpfs none "$T/m"
	t_match "$(cat /proc/self/mounts)" "$T/m" "mount visible inside"
	# the parent's mount table does not see it (checked from PID 1's view)
	if grep -q "$T/m" /proc/1/mounts; then t_fail "mount leaked to the host"; fi
}

case_run_dir_is_private() {
	case $LJAIL_RUNDIR in "$T"/*) ;; *) t_fail "LJAIL_RUNDIR $LJAIL_RUNDIR outside $T" ;; esac
	[ -d "$LJAIL_POOL" ]
}

case_deferred_undo_runs_in_reverse() {
	echo a >"$T/order"
	( _t_deferred=(); t_defer sh -c "echo first >>$T/order"; t_defer sh -c "echo second >>$T/order"; _t_cleanup )
	t_eq "$(cat "$T/order" | tr '\n' ' ')" "a second first " "undo order"
}

t_main "$@"
