#!/usr/bin/env bash
# VNET jails made the fast way (issue 8): the jail's network namespace is made before
# exec.prestart, so `ifconfig epairN create` there makes epairNb straight inside it (it never
# shows on the host); at removal a vnet.interface veth whose host end exec.poststop destroys is
# not moved back but dies with the namespace. What a user sees stays FreeBSD's: the interface in
# the jail, the host end in the bridge, jls, and `jail -r x && jail -c x` always works.
. "$(dirname "$0")/../lib/lib.sh"

# Every jail the case made is removed, even when it failed.
# conf FILE [EXTRA-PRESTART-LINE] [POSTSTOP-LINES...]: jail v with epair0 in bridge0
# ($CREATED: a last exec.created line; $FIRST: the first exec.prestart line; $START: lines
# after the exec.start line)
conf() {
	local f=$1 extra=${2:-} l
	shift 2 || shift $#
	{
		echo 'v {'
		echo '	path = /;'
		echo '	vnet;'
		echo '	persist;'
		echo '	vnet.interface = "epair0b";'
		[ -n "${PARAMS:-}" ] && echo "	$PARAMS;"
		echo "	exec.prestart = \"${FIRST:-ifconfig epair0 create up}\";"
		echo '	exec.prestart += "ifconfig bridge0 addm epair0a up";'
		[ -n "$extra" ] && echo "	exec.prestart += \"$extra\";"
		echo "	exec.created = \"sh -c 'ip -o link show >$T/created'\";"
		[ -n "${CREATED:-}" ] && echo "	exec.created += \"$CREATED\";"
		echo '	exec.start = "ifconfig epair0b 10.66.0.2/24 up";'
		[ -n "${START:-}" ] && echo "	$START;"
		if [ $# -eq 0 ]; then
			echo '	exec.poststop = "ifconfig epair0a destroy";'
		else
			for l in "$@"; do echo "	exec.poststop += \"$l\";"; done
		fi
		echo '}'
	} >"$f"
}

# The bridge's address answers from inside (a closed port: refused proves the way both ways).
reach() {
	t_run 1 jexec v bash -c 'exec 3<>/dev/tcp/10.66.0.1/9'
	t_match "$T_ERR" 'refused' "connection from the jail to the bridge"
}

setup() {
	t_defer t_cleanup_jails
	ifconfig bridge0 create >/dev/null
	ifconfig bridge0 inet 10.66.0.1/24 up
}

# Record every link the host's namespace announces while CMD runs.
MON=
monitor_start() {
	MON=$T/mon.$RANDOM
	ip -o monitor link >"$MON" 2>&1 &
	MONPID=$!
	t_defer kill "$MONPID"
	sleep 0.2
}
monitor_stop() {
	sleep 0.2
	kill "$MONPID" 2>/dev/null || true
	wait "$MONPID" 2>/dev/null || true
}

# No epair, no pin file, no nsfs mount left (after a short settle: the namespace dies
# asynchronously and takes its pair along).
no_leftovers() {
	local i
	for i in $(seq 1 40); do
		ip -o link show | grep -q epair || break
		sleep 0.05
	done
	t_eq "$(ip -o link show | grep -c epair || true)" 0 "epairs left on the host$1"
	t_eq "$(ls "$LJAIL_RUNDIR" | grep -c netns || true)" 0 "netns pin files left$1"
	t_eq "$(grep -c "$LJAIL_RUNDIR" /proc/self/mounts || true)" 0 "mounts left$1"
}

case_create_in_place() {
	setup
	conf "$T/j.conf"
	monitor_start
	t_run 0 jail -f "$T/j.conf" -c v
	monitor_stop
	# the b end was never on the host, not even between exec.prestart and vnet.interface
	if grep -q 'epair0b' "$MON"; then t_fail "epair0b appeared on the host: $(grep epair0b "$MON")"; fi
	t_match "$(cat "$T/created")" 'epair0a' "epair0a on the host at exec.created"
	if grep -q epair0b "$T/created"; then t_fail "epair0b on the host at exec.created"; fi
	# what the user checks: the jail's interface, the bridge, the address, jls
	t_run 0 jexec v ifconfig -a
	t_match "$T_OUT" 'epair0b: flags=.*<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP>'
	t_match "$T_OUT" 'inet 10\.66\.0\.2 netmask 0xffffff00'
	t_match "$T_OUT" 'groups: epair'
	t_run 0 ifconfig bridge0
	t_match "$T_OUT" 'member: epair0a'
	t_eq "$(jls -h name vnet | tail -n1)" "v new" "jls vnet"
	reach
	t_run 0 jail -f "$T/j.conf" -r v
	no_leftovers ""
}

case_remove_recreate_loop() {
	setup
	conf "$T/j.conf"
	local i
	t_run 0 jail -f "$T/j.conf" -c v
	monitor_start
	for i in $(seq 1 20); do
		jail -f "$T/j.conf" -r v >"$T/out" 2>"$T/err" || t_fail "remove $i: $(cat "$T/err")"
		jail -f "$T/j.conf" -c v >"$T/out" 2>"$T/err" || t_fail "create $i: $(cat "$T/err")"
		t_eq "$(jexec v ifconfig -l)" "lo epair0b" "interfaces in the jail, round $i"
	done
	reach
	t_run 0 jail -f "$T/j.conf" -r v
	monitor_stop
	# removal left epair0b to die inside: it never came back to the host
	if grep -q 'epair0b' "$MON"; then t_fail "epair0b came to the host: $(grep -m1 epair0b "$MON")"; fi
	no_leftovers " after 20 rounds"
}

# `ifconfig epair create` picks the unit: its b end is made inside too, and the unit a dying
# pair still holds is waited for, not skipped (vnet.interface names unit 0).
case_auto_unit() {
	setup
	FIRST="ifconfig epair create up" conf "$T/j.conf"
	monitor_start
	local i
	for i in 1 2 3 4 5; do
		jail -f "$T/j.conf" -c v >"$T/out" 2>"$T/err" || t_fail "create $i: $(cat "$T/err")"
		t_eq "$(jexec v ifconfig -l)" "lo epair0b" "interfaces in the jail, round $i"
		jail -f "$T/j.conf" -r v >"$T/out" 2>"$T/err" || t_fail "remove $i: $(cat "$T/err")"
	done
	monitor_stop
	if grep -q 'epair0b' "$MON"; then t_fail "epair0b appeared on the host"; fi
	if grep -q 'epair1' "$MON"; then t_fail "another unit was taken"; fi
	no_leftovers ""
}

# allow.mount: the jail gets a user namespace with its own network namespace; no namespace is
# made in advance, the epair is made on the host and moved, as before.
case_allow_mount_old_path() {
	setup
	PARAMS="allow.mount" conf "$T/j.conf"
	monitor_start
	t_run 0 jail -f "$T/j.conf" -c v
	monitor_stop
	t_match "$(cat "$MON")" 'epair0b' "epair0b was made on the host"
	t_eq "$(jexec v ifconfig -l)" "lo epair0b" "interfaces in the jail"
	reach
	t_run 0 jail -f "$T/j.conf" -r v
	no_leftovers ""
}

# The tutorial's poststop: deletem from the bridge, then destroy.
case_tutorial_poststop() {
	setup
	conf "$T/j.conf" "" "ifconfig bridge0 deletem epair0a" "ifconfig epair0a destroy"
	t_run 0 jail -f "$T/j.conf" -c v
	t_run 0 jail -f "$T/j.conf" -r v
	t_eq "$T_ERR" "" "stderr of the removal"
	t_run 0 jail -f "$T/j.conf" -c v
	t_run 0 jail -f "$T/j.conf" -r v
	no_leftovers ""
}

# A prestart line that names epair0b expects it on the host: the old way (made on the host,
# moved by vnet.interface) is kept, and it works.
# ljail's ifconfig in exec.start runs in the jail's network namespace (jail(8) enters it rather
# than the init forking): it sees and changes the jail's interfaces only, and prints where
# jail(8) prints. A user to become keeps the child, and that user's lack of privilege.
case_jail_side_builtin() {
	setup
	START='exec.start += "ifconfig epair0b inet 10.66.0.3/24 alias"; exec.start += "ifconfig -l"' \
		conf "$T/j.conf"
	t_run 0 jail -f "$T/j.conf" -c v
	t_match "$T_OUT" '^lo epair0b$' "ifconfig -l in exec.start lists the jail's interfaces"
	t_run 0 jexec v ifconfig epair0b
	t_match "$T_OUT" 'inet 10\.66\.0\.2 netmask' "exec.start's first address"
	t_match "$T_OUT" 'inet 10\.66\.0\.3 netmask' "exec.start's alias"
	if ip -o addr show | grep -q 'inet 10\.66\.0\.[23]/'; then t_fail "a jail address on the host"; fi
	reach
	t_run 0 jail -f "$T/j.conf" -r v
	no_leftovers ""
	PARAMS='exec.jail_user = nobody' conf "$T/u.conf"
	t_run 1 jail -f "$T/u.conf" -c v
	t_match "$T_ERR" 'ifconfig epair0b 10.66.0.2/24 up: failed' "nobody may not configure the jail's network"
	t_eq "$(jls -h name | tail -n +2)" "" "no jail left"
	# as after any failure past exec.prestart: the epair is whole on the host (exec.* has no undo)
	ip link show epair0b >/dev/null 2>&1 || t_fail "epair0b not back on the host"
	ifconfig epair0a destroy
	no_leftovers " after the failed create"
}

case_fallback_named_in_prestart() {
	setup
	conf "$T/j.conf" "ifconfig epair0b description jailside"
	monitor_start
	t_run 0 jail -f "$T/j.conf" -c v
	monitor_stop
	t_match "$(cat "$MON")" 'epair0b' "epair0b was made on the host"
	t_run 0 jexec v ifconfig epair0b
	t_match "$T_OUT" 'description: jailside'
	t_match "$T_OUT" 'inet 10\.66\.0\.2'
	reach
	t_run 0 jail -f "$T/j.conf" -r v
	no_leftovers ""
}

# A poststop that does not destroy the pair: vnet.interface comes back to the host, as before.
case_no_destroy_moves_back() {
	setup
	conf "$T/j.conf" "" "true"
	t_run 0 jail -f "$T/j.conf" -c v
	t_run 0 jail -f "$T/j.conf" -r v
	ip link show epair0b >/dev/null 2>&1 || t_fail "epair0b did not come back to the host"
	ip link show epair0a >/dev/null 2>&1 || t_fail "epair0a is gone"
	ifconfig epair0a destroy
	no_leftovers ""
}

# A failure after exec.prestart: the epair it made is whole on the host (exec.* has no undo).
case_failed_create_returns_epair() {
	setup
	conf "$T/j.conf"
	CREATED=false conf "$T/j.conf"
	t_run 1 jail -f "$T/j.conf" -c v
	ip link show epair0b >/dev/null 2>&1 || t_fail "epair0b not back on the host"
	t_match "$(ip -o link show epair0a)" 'master bridge0' "epair0a still bridged"
	ifconfig epair0a destroy
	no_leftovers ""
}

t_main "$@"
