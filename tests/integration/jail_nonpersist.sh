#!/usr/bin/env bash
# A non-persistent jail with nothing left in it is gone when `jail -c` returns (FreeBSD removes
# it synchronously), and one with a process left (even one just being reparented to the init) is
# listed until that process exits. The init is the judge (the control channel's persist request);
# these cases failed now and then when jail(8) guessed from the cgroup's pid list.
. "$(dirname "$0")/../lib/lib.sh"

mkroot() {
	local r=$T/root a
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,etc,tmp,root}
	cp /bin/busybox "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	ROOT=$r
}

# jls -j NAME must say "not found" (exit 1)
gone() {
	local rc=0
	jls -j "$1" >"$T/.jls" 2>&1 || rc=$?
	[ $rc = 1 ] && grep -q "jail \"$1\" not found" "$T/.jls"
}

case_command_exits_jail_gone_at_return() {
	t_defer t_cleanup_jails
	mkroot
	local i
	for i in $(seq 50); do
		jail -c name=x path="$ROOT" command=/bin/true || t_fail "iteration $i: jail -c failed"
		gone x || t_fail "iteration $i: x still listed right after jail -c: $(cat "$T/.jls")"
	done
	# a host user's command is entered from outside (the jexec way), not forked by the init;
	# with the old guess from the cgroup's pid list about half of these were still listed
	for i in $(seq 50); do
		jail -c name=x path="$ROOT" exec.clean exec.system_jail_user command=/bin/true ||
			t_fail "iteration $i: jail -c (host user) failed"
		gone x || t_fail "iteration $i: x (host user) still listed right after jail -c"
	done
	t_eq "$(ls "$LJAIL_RUNDIR"/*.jail 2>/dev/null)" "" "records left"
}

case_exec_start_lines_jail_gone_at_return() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/j.conf" <<EOF
x {
	path = "$ROOT";
	exec.start = "/bin/true";
	exec.start += "/bin/sh -c 'echo \\\$JNAME >/tmp/name'";
}
EOF
	local i
	for i in $(seq 30); do
		jail -f "$T/j.conf" -qc x || t_fail "iteration $i: jail -c failed"
		gone x || t_fail "iteration $i: x still listed right after jail -c: $(cat "$T/.jls")"
	done
	t_eq "$(cat "$ROOT/tmp/name")" "x" "exec.start ran in the jail with JNAME"
	# the last command line ends the jail itself only when nothing follows it: exec.poststart
	# still sees the jail, and it is gone when jail(8) returns
	cat >"$T/k.conf" <<EOF
y {
	path = "$ROOT";
	command = "/bin/sh -c 'echo one >/tmp/one'";
	command += "/bin/true";
	exec.poststart = "jls -j y name";
}
EOF
	for i in $(seq 10); do
		rm -f "$ROOT/tmp/one"
		t_run 0 jail -f "$T/k.conf" -qc y
		t_eq "$T_OUT" "y" "iteration $i: exec.poststart saw the jail"
		t_eq "$(cat "$ROOT/tmp/one")" "one" "iteration $i: the first command line ran"
		gone y || t_fail "iteration $i: y still listed right after jail -c: $(cat "$T/.jls")"
	done
}

case_reparented_child_keeps_jail_until_it_exits() {
	t_defer t_cleanup_jails
	mkroot
	local i
	# a background child that outlives the command: listed right after jail -c, gone right
	# after the child is
	for i in $(seq 10); do
		rm -f "$ROOT/tmp/done"
		jail -c name=x path="$ROOT" mount.devfs command=/bin/sh -c '(sleep 0.5; touch /tmp/done) &' ||
			t_fail "iteration $i: jail -c failed"
		jls -j x >/dev/null 2>&1 || t_fail "iteration $i: x gone while its child runs"
		[ -e "$ROOT/tmp/done" ] && t_fail "iteration $i: the child ended too early to tell"
		local k
		for k in $(seq 100); do [ -e "$ROOT/tmp/done" ] && break; sleep 0.02; done
		for k in $(seq 50); do gone x && break; sleep 0.02; done
		gone x || t_fail "iteration $i: x still listed 1 s after its last process ended"
	done
	# a short-lived child being reparented while jail(8) asks: the jail may only be gone
	# once the child has finished
	for i in $(seq 50); do
		rm -f "$ROOT/tmp/done"
		jail -c name=x path="$ROOT" mount.devfs command=/bin/sh -c '(sleep 0.05; touch /tmp/done) &' ||
			t_fail "iteration $i: jail -c failed"
		if gone x && [ ! -e "$ROOT/tmp/done" ]; then
			t_fail "iteration $i: x gone while its child still ran"
		fi
		local k
		for k in $(seq 100); do gone x && break; sleep 0.02; done
		gone x || t_fail "iteration $i: x still listed 2 s later"
		[ -e "$ROOT/tmp/done" ] || t_fail "iteration $i: the child never finished"
	done
	t_eq "$(ls "$LJAIL_RUNDIR"/*.jail 2>/dev/null)" "" "records left"
}

case_exec_timeout_and_background_through_the_init() {
	t_defer t_cleanup_jails
	mkroot
	# exec.timeout kills a command the init started; the jail is taken back
	local t0 t1
	t0=$(date +%s%N)
	t_run 1 jail -c name=t path="$ROOT" exec.timeout=1 exec.start="/bin/sleep 30"
	t1=$(date +%s%N)
	t_eq "$T_ERR" "jail: /bin/sleep 30: timed out"
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] || t_fail "exec.timeout did not kill in time"
	gone t || t_fail "t still listed"
	# "cmd &": not waited for; a failing exec is still reported
	t_run 0 jail -c name=bg path="$ROOT" persist exec.start="/bin/sleep 30 &"
	t_match "$(jexec bg ps -o comm)" "sleep"
	t_run 1 jail -c name=bad path="$ROOT" exec.start="/nonexistent &"
	t_eq "$T_ERR" "jail: execvp: /nonexistent: No such file or directory"
	gone bad || t_fail "bad still listed"
	t_run 0 jail -r bg
}

t_main "$@"
