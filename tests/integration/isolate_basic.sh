#!/usr/bin/env bash
# The jail process on Linux (src/isolate) and jexec(8), driven through lj-iso-driver (no
# lifecycle needed): namespaces, /dev, /proc, allow.* bounds, seccomp, the init, persist.
. "$(dirname "$0")/../lib/lib.sh"
D=$LJAIL_BUILD/tests/unit/isolate/lj-iso-driver

# A busybox root at $T/root.
mkroot() {
	local r=$T/root a
	command -v busybox >/dev/null || t_skip "busybox-static is not installed"
	mkdir -p "$r"/bin "$r"/etc "$r"/tmp "$r"/proc "$r"/dev "$r"/sys "$r"/root "$r"/home/joe
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\njoe:x:1001:1001:Joe:/home/joe:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\njoe:x:1001:\nstaff:x:50:joe\n' >"$r/etc/group"
	chown 1001:1001 "$r/home/joe"
	R=$r
}

# Nothing of a finished jail may remain: no process of ours in another pid namespace, no mount
# below $T (the jail's mounts live in its own namespace and die with it).
assert_clean() {
	local left
	left=$(awk -v d="$T/" 'index($2, d) == 1 {print $2}' /proc/self/mounts)
	t_eq "$left" "" "mounts left below \$T"
	sleep 0.2
	left=
	local p
	for p in $(pgrep -x ljail-init || true); do
		# this case's inits only (other tests run beside us): they carry its LJAIL_RUNDIR
		{ tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qx "LJAIL_RUNDIR=$LJAIL_RUNDIR" || continue
		alive "$p" && left="$left $p"
	done
	t_eq "$left" "" "ljail-init processes left"
}

# A process that runs (a zombie waiting for a slow reaper does not count).
alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

case_pid_namespace_init_is_pid1() {
	mkroot
	t_run 0 "$D" run -p "$R" -P -d -- ps -o pid,comm
	t_eq "$T_OUT" "$(printf 'PID   COMMAND\n    1 ljail-init\n    2 ps')" "ps inside the jail"
	# without mount.procfs too: Linux's ps needs /proc where FreeBSD's asks sysctl
	t_run 0 "$D" run -p "$R" -- sh -c 'ps -o pid,comm >/tmp/ps; cat /tmp/ps'
	t_eq "$T_OUT" "$(printf 'PID   COMMAND\n    1 ljail-init\n    2 sh\n    3 ps')" "ps without mount.procfs"
	assert_clean
}

case_hostname_is_the_jails() {
	mkroot
	t_run 0 "$D" run -p "$R" -h web.example.org -- hostname
	t_eq "$T_OUT" "web.example.org"
	t_eq "$(hostname)" "$(cat /proc/sys/kernel/hostname)" "host name untouched"
	[ "$(hostname)" != web.example.org ] || t_fail "the host's name changed"
	assert_clean
}

case_sysv_new_inherit_disable() {
	command -v ipcmk >/dev/null || t_skip "no ipcmk"
	unshare --ipc bash -c '
		set -e
		id=$(ipcmk -M 4096 | awk "{print \$NF}")
		# path / shares the host files: ipcs and ipcmk are the host programs
		new=$("'"$D"'" run -s new -- ipcs -m)
		inh=$("'"$D"'" run -s inherit -- ipcs -m)
		echo "$new" | grep -qw "$id" && { echo "# segment visible with sysvshm=new"; exit 1; }
		echo "$inh" | grep -qw "$id" || { echo "# segment invisible with inherit"; exit 1; }
		out=$("'"$D"'" run -s disable -- ipcmk -M 4096 2>&1) && { echo "# ipcmk worked with disable"; exit 1; }
		echo "$out" | grep -q "Function not implemented" || { echo "# got: $out"; exit 1; }
		exit 0
	' || t_fail "sysv checks"
}

case_vnet_sees_only_lo() {
	mkroot
	ip link add t-iso0 type veth peer name t-iso1
	t_run 0 "$D" run -p "$R" -v -- ip -o link
	t_eq "$(echo "$T_OUT" | awk -F': ' '{print $2}')" "lo" "links in a vnet jail"
	t_match "$T_OUT" "LOOPBACK,UP" "lo is up"
	t_run 0 "$D" run -p "$R" -v -- ls /sys/class/net
	t_eq "$T_OUT" "lo" "sysfs shows the jail's own devices"
	# without vnet: the host's (the test's) network
	t_run 0 "$D" run -p "$R" -- ip -o link
	t_match "$T_OUT" "t-iso0" "a non-vnet jail shares the network"
	assert_clean
}

case_dev_holds_only_allowed_nodes() {
	mkroot
	t_run 0 "$D" run -p "$R" -d -P -- ls /dev
	t_eq "$(echo $T_OUT)" "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero"
	t_run 0 "$D" run -p "$R" -d -P -- sh -c 'echo x >/dev/null && head -c 4 /dev/zero | wc -c && ls /dev/pts'
	t_eq "$(echo $T_OUT)" "4 ptmx" "nodes work; a private devpts"
	# devfs_ruleset 2: the basics only
	t_run 0 "$D" run -p "$R" -d -r 2 -P -- ls /dev
	t_eq "$(echo $T_OUT)" "fd full null random stderr stdin stdout urandom zero" "ruleset 2"
	assert_clean
}

case_dev_symlink_refused() {
	mkroot
	rmdir "$R/dev"
	ln -s /etc "$R/dev"
	t_run 1 "$D" run -p "$R" -d -- true
	t_match "$T_ERR" "mount.devfs: /dev: is a symbolic link" "planted symlink refused"
	t_eq "$(ls /etc/null 2>&1 >/dev/null | grep -c 'No such')" "1" "nothing made in the host's /etc"
	assert_clean
}

case_proc_sys_read_only() {
	mkroot
	t_run 0 "$D" run -p "$R" -P -- sh -c 'echo x >/proc/sys/kernel/hostname; echo rc=$?'
	t_match "$T_OUT$T_ERR" "Read-only file system" "/proc/sys is read-only"
	t_run 0 "$D" run -p "$R" -P -- sh -c 'touch /sys/kernel/x 2>&1; cat /proc/kcore 2>/dev/null | wc -c'
	t_match "$T_OUT" "Read-only file system" "/sys is read-only"
	# a vnet jail keeps /proc/sys/net writable
	t_run 0 "$D" run -p "$R" -P -v -- sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward'
	t_eq "$T_OUT" "1" "/proc/sys/net writable in a vnet jail"
	t_run 0 "$D" run -p "$R" -P -- sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward; echo rc=$?'
	t_match "$T_OUT$T_ERR" "Read-only" "/proc/sys/net read-only without vnet"
	assert_clean
}

case_forbidden_operations() {
	mkroot
	t_run 0 "$D" run -p "$R" -P -d -- sh -c '
		mknod /tmp/b b 8 0 2>/dev/null && echo mknod-ok
		mount -t tmpfs x /tmp 2>/dev/null && echo mount-ok
		ping -c1 127.0.0.1 >/dev/null 2>&1 && echo ping-ok
		cp /bin/busybox /tmp/x.ko; insmod /tmp/x.ko 2>&1 | grep -q "not permitted" && echo module-refused
		date -s 2001-01-01 2>&1 | grep -q "not permitted" || echo settime-ok
		mkfifo /tmp/f && echo fifo-ok
		echo done'
	t_eq "$(echo $T_OUT)" "module-refused fifo-ok done" "without allow.*"
	# vnet: an allow.mount jail lives in a user namespace of its own, where CAP_NET_RAW reaches
	# only a network namespace made there (SECURITY.md)
	t_run 0 "$D" run -p "$R" -P -d -v -a allow.mount -a allow.raw_sockets -- sh -c '
		mount -t tmpfs x /tmp && echo mount-ok
		ping -c1 127.0.0.1 >/dev/null && echo ping-ok
		mknod /tmp/b b 8 0 2>/dev/null && echo mknod-ok
		echo done'
	t_eq "$(echo $T_OUT)" "mount-ok ping-ok done" "with allow.mount and allow.raw_sockets"
	# allow.chflags: the immutable flag (undone at once, so the case can clean up)
	# (path "/": the host's chattr, on a file of this case)
	if command -v chattr >/dev/null; then
		touch "$T/i"
		t_run 0 "$D" run -- sh -c "chattr +i $T/i 2>/dev/null && echo chflags-ok; echo done"
		t_eq "$T_OUT" "done" "chattr +i without allow.chflags"
		t_run 0 "$D" run -a allow.chflags -- sh -c "chattr +i $T/i && lsattr $T/i | cut -c5; chattr -i $T/i"
		t_eq "$T_OUT" "i" "chattr +i with allow.chflags"
	fi
	t_run 0 "$D" run -p "$R" -P -- sh -c 'grep CapBnd /proc/self/status'
	t_eq "$T_OUT" "$(printf 'CapBnd:\t00000000a0048dfb')" "default bounding set"
	assert_clean
}

case_nonpersistent_dies_with_last_process() {
	mkroot
	# -n: persist is switched off after the command; the driver fails if the jail stays
	t_run 0 "$D" run -n -p "$R" -P -- true
	assert_clean
	# a process left running keeps it; when it ends the jail goes
	read -r pid start < <("$D" start -n -p "$R" -P)
	sleep 0.3
	alive "$pid" && t_fail "a non-persistent empty jail survived its creation"
	read -r pid start < <("$D" start -p "$R" -P -d)
	t_defer "$D" stop "$pid" "$start" 0
	"$D" exec "$pid" "$start" -- sh -c 'sleep 1 </dev/null >/dev/null 2>&1 &'
	"$D" persist "$pid" "$start" 0
	sleep 0.3
	alive "$pid" || t_fail "the jail died while a process ran in it"
	sleep 1.5
	alive "$pid" && t_fail "the jail outlived its last process"
	assert_clean
}

case_persistent_stays_until_stopped() {
	mkroot
	read -r pid start < <("$D" start -p "$R" -P)
	t_defer "$D" stop "$pid" "$start" 0
	sleep 0.5
	alive "$pid" || t_fail "a persistent jail died"
	t_run 0 "$D" exec "$pid" "$start" -- sh -c 'trap "" TERM; sleep 30 & echo started'
	# SIGTERM to everything, then SIGKILL after 300 ms: the TERM-ignoring sleep dies too
	t_run 0 "$D" stop "$pid" "$start" 300
	alive "$pid" && t_fail "the init outlived stop"
	assert_clean
}

case_children_max() {
	# path "/" jails can run the driver itself: a jail in a jail
	t_run 1 "$D" run -- "$D" run -- true
	t_eq "$T_ERR" "lj-iso-driver: jail_set: Operation not permitted" "children.max=0"
	t_run 0 "$D" run -a children.max=1 -- "$D" run -h inner -P -- sh -c 'hostname; cat /run/ljail/.jail'
	t_eq "$(echo $T_OUT)" "inner children.max=0" "a nested jail with children.max=1"
	# the jail's root cannot change what it is allowed (immutable; a read-only bind when the
	# jail may change file flags)
	local a
	for a in "" "-a allow.chflags"; do
		t_run 0 "$D" run $a -- sh -c 'echo children.max=9 >/run/ljail/.jail 2>/dev/null; rm -f /run/ljail/.jail 2>/dev/null; chattr -i /run/ljail/.jail 2>/dev/null; echo children.max=9 >/run/ljail/.jail 2>/dev/null; cat /run/ljail/.jail'
		t_eq "$T_OUT" "children.max=0" ".jail unchanged ($a)"
	done
	assert_clean
}

case_jexec() {
	mkroot
	read -r pid start < <("$D" start -p "$R" -P -d -h jx -N jx)
	t_defer "$D" stop "$pid" "$start" 0
	t_run 0 jexec jx hostname
	t_eq "$T_OUT" "jx"
	t_run 0 jexec 1 sh -c 'ps -o pid,comm | head -2'
	t_eq "$T_OUT" "$(printf 'PID   COMMAND\n    1 ljail-init')" "by JID; the init is PID 1"
	t_run 7 jexec jx sh -c 'exit 7'
	t_run 0 jexec -U joe jx id
	t_eq "$T_OUT" "uid=1001(joe) gid=1001(joe) groups=50(staff),1001(joe)" "-U: the jail's user"
	t_run 1 jexec -u joe jx id
	t_eq "$T_ERR" "jexec: joe: no such user" "-u looks on the host"
	t_run 0 env FOO=bar jexec -l -U joe jx sh -c 'pwd; echo $HOME $USER $SHELL $PATH; env | grep -c FOO; true'
	t_eq "$T_OUT" "$(printf '/home/joe\n/home/joe joe /bin/sh /sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin\n0')" "-l"
	t_run 0 jexec -d /tmp jx pwd
	t_eq "$T_OUT" "/tmp" "-d"
	t_run 0 jexec jx sh -c 'grep CapBnd /proc/self/status'
	t_eq "$T_OUT" "$(printf 'CapBnd:\t00000000a0048dfb')" "the init's bounds"
	t_run 0 sh -c "echo 'echo \$0 ok' | SHELL=/bin/sh jexec jx"
	t_match "$T_OUT" "sh ok" "no command: \$SHELL -i"
	t_run 1 jexec jx nosuch
	t_eq "$T_ERR" "jexec: execvp: nosuch: No such file or directory"
	t_run 1 jexec nope true
	t_eq "$T_ERR" 'jexec: jail "nope" not found'
	t_run 1 jexec
	t_match "$T_ERR" "^usage: jexec \[-l\] \[-d working-directory\]"
	t_run 1 jexec -u a -U b jx true
	# a killed command: jexec dies the same way
	t_run 143 jexec jx sh -c 'kill -TERM $$'
	"$D" stop "$pid" "$start" 0
	t_run 1 jexec jx true
	t_eq "$T_ERR" 'jexec: jail "jx" not found'
	assert_clean
}

case_cgroup_into_and_jexec_follows() {
	local v2=/sys/fs/cgroup/unified
	[ "$(stat -fc %T "$v2" 2>/dev/null)" = cgroup2fs ] || v2=/sys/fs/cgroup
	[ "$(stat -fc %T "$v2" 2>/dev/null)" = cgroup2fs ] || t_skip "no cgroup2 hierarchy"
	local g=$v2/$LJAIL_CGROUP_ROOT/cj
	mkdir -p "$g"
	mkroot
	read -r pid start < <("$D" start -p "$R" -P -d -g "$g" -N cj)
	t_defer "$D" stop "$pid" "$start" 0
	t_eq "$(grep '^0::' "/proc/$pid/cgroup")" "0::/$LJAIL_CGROUP_ROOT/cj" "the init is in the jail's group"
	# inside: a cgroup namespace rooted at the jail's group
	t_run 0 jexec cj sh -c 'grep "^0::" /proc/self/cgroup'
	t_eq "$T_OUT" "0::/" "cgroup namespace"
	# a jexec'd process joins the group (found through the init's cgroup)
	jexec cj sleep 3 &
	local jpid=$!
	sleep 0.5
	t_eq "$(grep -c . "$g/cgroup.procs")" "2" "init + the entered process in cgroup.procs"
	wait "$jpid"
	"$D" stop "$pid" "$start" 0
	sleep 0.2
	t_eq "$(cat "$g/cgroup.procs")" "" "the group is empty after stop"
	assert_clean
}

case_fallbacks() {
	# clone instead of clone3: the init is moved into the group by a cgroup.procs write and
	# unshares its cgroup namespace itself
	local v2=/sys/fs/cgroup/unified
	[ "$(stat -fc %T "$v2" 2>/dev/null)" = cgroup2fs ] || v2=/sys/fs/cgroup
	[ "$(stat -fc %T "$v2" 2>/dev/null)" = cgroup2fs ] || t_skip "no cgroup2 hierarchy"
	local g=$v2/$LJAIL_CGROUP_ROOT/fb
	mkdir -p "$g"
	mkroot
	read -r pid start < <(LJAIL_FAIL_STEP=isolate-clone3 "$D" start -p "$R" -P -d -g "$g" -N fb)
	t_defer "$D" stop "$pid" "$start" 0
	t_eq "$(grep '^0::' "/proc/$pid/cgroup")" "0::/$LJAIL_CGROUP_ROOT/fb" "clone fallback: the init's group"
	# setns through /proc/PID/ns files
	t_run 0 env LJAIL_FAIL_STEP=isolate-setns-pidfd jexec fb sh -c 'hostname; grep "^0::" /proc/self/cgroup; ps -o pid,comm | head -2'
	t_eq "$T_OUT" "$(printf '%s\n0::/\nPID   COMMAND\n    1 ljail-init' "$(hostname)")" "setns fallback"
	"$D" stop "$pid" "$start" 0
	# a create failing after every mount: nothing stays
	t_run 1 env LJAIL_FAIL_STEP=isolate-pivot "$D" run -p "$R" -P -d -- true
	t_eq "$T_ERR" "lj-iso-driver: pivot_root: failed (LJAIL_FAIL_STEP)"
	assert_clean
}

case_exec_environment_and_output() {
	mkroot
	# exec.clean: TERM kept, PATH set, the rest gone; extra variables (JID, JNAME...) added
	t_run 0 env TERM=vt100 FOO=bar "$D" run -p "$R" -c -E JID=7 -E JNAME=web -- sh -c 'echo "$TERM|$PATH|${FOO:-none}|$JID|$JNAME|$LJAIL_RUNDIR"'
	t_eq "$T_OUT" "vt100|/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin|none|7|web|/run/ljail" "clean env"
	t_run 0 env FOO=bar "$D" run -p "$R" -E JID=7 -- sh -c 'echo "$FOO|$JID"'
	t_eq "$T_OUT" "bar|7" "inherited env"
	# exec.consolelog: stdout and stderr into a file
	t_run 0 "$D" run -p "$R" -o "$T/console.log" -- sh -c 'echo out; echo err >&2'
	t_eq "$T_OUT" "" "nothing on the caller's stdout"
	t_eq "$(cat "$T/console.log")" "$(printf 'out\nerr')" "console log"
	# no descriptor of the host survives into the jail
	exec 7>"$T/leak"
	t_run 0 "$D" run -p "$R" -P -- sh -c 'ls /proc/self/fd | tr "\n" " "'
	exec 7>&-
	t_eq "$T_OUT" "0 1 2 3 " "open descriptors in the jail (3 = ls's own directory)"
	# a timeout: the command is killed, the jail removed
	t_run 124 "$D" run -p "$R" -T 300 -- sleep 10
	t_eq "$T_OUT" "timeout"
	assert_clean
}

case_bad_path() {
	t_run 1 "$D" run -p "$T/nonexistent" -- true
	t_eq "$T_ERR" "lj-iso-driver: $T/nonexistent: No such file or directory"
	: >"$T/file"
	t_run 1 "$D" run -p "$T/file" -- true
	t_eq "$T_ERR" "lj-iso-driver: $T/file: Not a directory"
	assert_clean
}

t_main "$@"
