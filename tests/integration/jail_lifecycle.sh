#!/usr/bin/env bash
# The lifecycle beyond FreeBSD's own tests: persistence, stop.timeout, concurrency, bad input
# (FreeBSD's messages, exit 1 and nothing left behind), the undo of every failing step, depend,
# exec.timeout, exec.consolelog, jls formats.
. "$(dirname "$0")/../lib/lib.sh"

# ljail's own jexec (a Debian package ships an unrelated /usr/bin/jexec)
t_have_jexec() {
	[ -x "$LJAIL_BUILD/jexec" ] || [ -x "$LJAIL_BUILD/src/cmd/jexec" ] || t_skip "jexec not built yet"
	[ -x "$LJAIL_BUILD/src/cmd/jexec" ] && PATH=$LJAIL_BUILD/src/cmd:$PATH
	return 0
}

# A busybox root in $T/root.
mkroot() {
	local r=$T/root a
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,etc,tmp,root,mnt,usr/bin}
	cp /bin/busybox "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/tmp:/bin/sh' >>"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	echo 'nogroup:x:65534:' >>"$r/etc/group"
	ROOT=$r
}

# Nothing of jail NAME with root ROOTDIR is left: no record, no mount below the root, no cgroup,
# no process whose root is the jail's.
t_nothing_left() {
	local name=$1 root=${2:-}
	local recs
	recs=$(ls "$LJAIL_RUNDIR"/*.jail 2>/dev/null || true)
	t_eq "$recs" "" "registry records left"
	t_eq "$(jls name)" "" "jails listed"
	if [ -n "$root" ]; then
		if awk -v d="$root" '$2 == d || index($2, d "/") == 1' /proc/self/mounts | grep -q .; then
			t_fail "mounts left below $root: $(awk -v d="$root" 'index($2, d) == 1 {print $2}' /proc/self/mounts)"
		fi
		local p
		for p in /proc/[0-9]*; do
			if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
				t_fail "process ${p#/proc/} left in the jail root"
			fi
		done
	fi
	# namespaces: a jail's live only through its processes (checked above) or a pin in the run
	# directory (a vnet jail's network namespace)
	if awk -v d="$LJAIL_RUNDIR" 'index($2, d "/") == 1' /proc/self/mounts | grep -q .; then
		t_fail "namespace pin left in $LJAIL_RUNDIR"
	fi
	local d
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT"/"$name" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"/"$name"; do
		[ -d "$d" ] && t_fail "cgroup $d left"
	done
	return 0
}

case_persistent_stays_nonpersistent_goes() {
	t_defer t_cleanup_jails
	mkroot
	t_run 0 jail -c name=p path="$ROOT" persist
	t_run 0 jail -c name=np path="$ROOT" command=/bin/true
	t_eq "$(jls name)" "p" "only the persistent jail is left"
	# a non-persistent jail with a background process lives as long as it does
	t_run 0 jail -c name=bg path="$ROOT" exec.start="/bin/sleep 1 &"
	t_eq "$(jls -j bg name)" "bg"
	for _ in $(seq 50); do jls -cj bg || break; sleep 0.1; done
	if jls -cj bg; then t_fail "bg did not go away with its last process"; fi
	t_eq "$(jls name)" "p"
	t_run 0 jail -r p
	t_nothing_left p "$ROOT"
}

case_inside_the_jail() {
	t_defer t_cleanup_jails
	mkroot
	t_have_jexec
	t_run 0 jail -c name=in path="$ROOT" host.hostname=inside.example persist mount.procfs
	t_run 0 jexec in hostname
	t_eq "$T_OUT" "inside.example"
	t_run 0 jexec in ps -o pid,comm
	t_match "$T_OUT" "^ *PID +COMMAND
 +1 " "the init is PID 1"
	t_run 0 jail -r in
	t_nothing_left in "$ROOT"
}

case_stop_timeout_kills_term_ignorer() {
	t_defer t_cleanup_jails
	mkroot
	t_run 0 jail -c name=stubborn path="$ROOT" persist stop.timeout=1 mount.devfs \
		exec.start='trap "" TERM; while :; do sleep 1; done &'
	local t0 t1
	t0=$(date +%s%N)
	t_run 0 jail -r stubborn
	t1=$(date +%s%N)
	local ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 900 ] || t_fail "removed after $ms ms: stop.timeout was not waited"
	[ "$ms" -lt 6000 ] || t_fail "removed after $ms ms: too slow"
	t_nothing_left stubborn "$ROOT"
}

case_concurrent_creates() {
	t_defer t_cleanup_jails
	local i
	for i in $(seq 32); do
		jail -c name="c$i" path=/ persist >"$T/out.$i" 2>&1 &
	done
	wait
	t_eq "$(jls name | wc -l)" 32 "jails made"
	t_eq "$(jls jid | sort -u | wc -l)" 32 "distinct JIDs"
	t_eq "$(jls jid | sort -n | tail -1)" 32 "JIDs are the lowest free ones"
	for i in $(seq 32); do jail -r "c$i"; done
	t_eq "$(jls name)" ""
	# two creates of one name: exactly one wins
	local ok=0
	(rc=0; jail -c name=same path=/ persist >"$T/a" 2>&1 || rc=$?; echo $rc >"$T/a.rc") &
	(rc=0; jail -c name=same path=/ persist >"$T/b" 2>&1 || rc=$?; echo $rc >"$T/b.rc") &
	wait
	[ "$(cat "$T/a.rc")" = 0 ] && ok=$((ok + 1))
	[ "$(cat "$T/b.rc")" = 0 ] && ok=$((ok + 1))
	t_eq "$ok" 1 "successful creates of one name"
	t_match "$(cat "$T/a" "$T/b")" '^jail: "same" already exists$'
	t_eq "$(jls name)" "same"
	jail -r same
}

case_bad_input() {
	t_defer t_cleanup_jails
	mkroot
	t_run 1 jail -c name=x path="$T/missing" persist
	t_eq "$T_ERR" "jail: path $T/missing: No such file or directory"
	t_nothing_left x
	touch "$T/file"
	t_run 1 jail -c name=x path="$T/file" persist
	t_eq "$T_ERR" "jail: path $T/file: Not a directory"
	t_nothing_left x
	t_run 1 jail -c name=x path=relative persist
	t_eq "$T_ERR" "jail: path relative: not an absolute pathname"
	t_run 0 jail -c name=x path="$ROOT" persist
	t_run 1 jail -c name=x path="$ROOT" persist
	t_eq "$T_ERR" 'jail: "x" already exists'
	t_run 0 jail -r x
	t_run 1 jail -r nosuchjail
	t_eq "$T_ERR" 'jail: "nosuchjail" not found'
	t_run 1 jail -c name=x path="$ROOT" persist exec.prestart=false
	t_eq "$T_ERR" "jail: false: failed"
	t_nothing_left x "$ROOT"
	t_run 1 jail -c name=x path="$ROOT" persist exec.start="/bin/sh -c 'exit 3'"
	t_eq "$T_ERR" "jail: /bin/sh -c /bin/sh -c 'exit 3': failed"
	t_nothing_left x "$ROOT"
	t_run 1 jail -c name=x path="$ROOT" persist exec.poststart="kill -9 \$\$"
	t_match "$T_ERR" "exited on signal 9"
	t_nothing_left x "$ROOT"
}

# Every step of the create sequence made to fail: exit 1 and nothing left.
case_fault_injection_undo() {
	t_defer t_cleanup_jails
	mkroot
	mkdir -p "$T/src" "$ROOT/mnt/a"
	echo hello >"$T/src/f"
	ip link add t-vn0 type veth peer name t-vn1
	t_defer ip link del t-vn0
	ip link add t-al0 type veth peer name t-al1
	t_defer ip link del t-al0
	ip link set t-al0 up
	local s
	for s in exec.prepare ip4.addr mount mount.devfs exec.prestart create exec.created \
		vnet.interface exec.start command exec.poststart; do
		echo "step $s" >&2
		t_run 1 env LJAIL_FAIL_STEP="$s" jail -c name=f path="$ROOT" persist \
			mount="$T/src $ROOT/mnt/a nullfs ro 0 0" mount.devfs \
			exec.start=true command=true
		t_match "$T_ERR" "$s: failed" "message of $s"
		t_nothing_left f "$ROOT"
		t_run 1 env LJAIL_FAIL_STEP="$s" jail -c name=fv path="$ROOT" persist vnet \
			vnet.interface=t-vn0 exec.start=true
		t_nothing_left fv "$ROOT"
		ip link show t-vn0 >/dev/null || t_fail "t-vn0 lost after failing $s"
		t_run 1 env LJAIL_FAIL_STEP="$s" jail -c name=fa path="$ROOT" persist \
			interface=t-al0 ip4.addr=192.0.2.7/32
		t_nothing_left fa "$ROOT"
		if ip -o addr show dev t-al0 | grep -q 192.0.2.7; then
			t_fail "alias left after failing $s"
		fi
	done
	# and the same jail without a fault comes up whole
	t_run 0 jail -c name=f path="$ROOT" persist mount="$T/src $ROOT/mnt/a nullfs ro 0 0"
	t_eq "$(cat "$ROOT/mnt/a/f")" hello
	t_run 0 jail -r f
	t_nothing_left f "$ROOT"
}

case_depend_and_skipped() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/jail.conf" <<EOF
path = "$ROOT";
persist;
a { depend = b; }
b { }
c { depend = d; }
d { exec.prestart = false; }
EOF
	t_run 0 jail -f "$T/jail.conf" -p1 -c a
	t_eq "$T_OUT" "b: created
a: created"
	t_run 0 jail -f "$T/jail.conf" -p1 -r b
	t_eq "$T_OUT" "a: removed
b: removed" "dependents are removed first"
	t_run 1 jail -f "$T/jail.conf" -c c
	t_eq "$T_ERR" "jail: d: false: failed
jail: c: skipped"
	t_nothing_left c "$ROOT"
}

case_exec_timeout_and_consolelog() {
	t_defer t_cleanup_jails
	mkroot
	t_run 1 jail -c name=slow path="$ROOT" persist exec.timeout=1 exec.start="sleep 10"
	t_eq "$T_ERR" "jail: sleep 10: timed out"
	t_nothing_left slow "$ROOT"
	t_run 0 jail -c name=log path="$ROOT" persist exec.consolelog="$T/console.log" \
		exec.start="echo hello from the jail"
	t_eq "$T_OUT" "" "in-jail output goes to the log"
	t_eq "$(cat "$T/console.log")" "hello from the jail"
	t_run 0 jail -r log
}

case_jls_formats() {
	t_defer t_cleanup_jails
	mkroot
	t_run 0 jail -c name=fmt path="$ROOT" host.hostname=fmt.example persist ip4.addr=192.0.2.1,192.0.2.2 meta="a b c"
	jid=$(jls -j fmt jid)
	t_run 0 jls -N
	t_eq "$T_OUT" " JID             IP Address      Hostname                      Path
 fmt             192.0.2.1       fmt.example                   $ROOT"
	t_run 0 jls -v
	t_eq "$T_OUT" "   JID  Hostname                      Path
        Name                          State
        CPUSetID
        IP Address(es)
$(printf '%6d' "$jid")  fmt.example                   $ROOT
        fmt                           ACTIVE
        $((jid + 1))
        192.0.2.1
        192.0.2.2"
	t_run 0 jls -j fmt name host.hostname ip4.addr meta
	t_eq "$T_OUT" "fmt fmt.example 192.0.2.1,192.0.2.2 a b c"
	t_run 0 jls -q -j fmt meta
	t_eq "$T_OUT" '"a b c"'
	t_run 0 jls -n -j fmt name persist allow.mount
	t_eq "$T_OUT" "name=fmt persist allow.nomount"
	t_run 0 jls -h -j fmt jid name
	t_eq "$T_OUT" "jid name
$jid fmt"
	t_run 0 jls -j fmt ip6.addr
	t_eq "$T_OUT" "-"
	t_run 0 jls --libxo json -j fmt name meta
	t_eq "$T_OUT" '{"__version": "2", "jail-information": {"jail": [{"name":"fmt","meta":"a b c"}]}}'
	t_run 0 jls --libxo=json -j fmt name meta
	t_eq "$T_OUT" '{"__version": "2", "jail-information": {"jail": [{"name":"fmt","meta":"a b c"}]}}'
	t_run 0 jls -s -j fmt
	t_match "$T_OUT" " jid=$jid " "jid in -s"
	t_match "$T_OUT" " name=fmt " "name in -s"
	if printf '%s' "$T_OUT" | grep -q "dying"; then t_fail "-s shows a read-only parameter"; fi
	t_run 1 jls -j nosuch
	t_eq "$T_ERR" 'jls: jail "nosuch" not found'
	t_run 1 jls -c -j nosuch
	t_eq "$T_ERR" ""
	t_run 0 jls -c -j fmt
	t_eq "$T_OUT" ""
	t_run 1 jls -x
	t_eq "$T_ERR" "jls: usage: jls [-dhNnqv] [-j jail] [param ...]" 
	t_run 0 jail -r fmt
}

case_modify() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/jail.conf" <<EOF
m { path = "$ROOT"; persist; host.hostname = one; }
EOF
	t_run 0 jail -f "$T/jail.conf" -c m
	sed -i 's/one/two/' "$T/jail.conf"
	t_run 0 jail -f "$T/jail.conf" -m m
	t_eq "$T_OUT" "m: updated"
	t_eq "$(jls -j m host.hostname)" two
	mkdir -p "$T/root2"
	sed -i "s|$ROOT|$T/root2|" "$T/jail.conf"
	t_run 1 jail -f "$T/jail.conf" -m m
	t_eq "$T_ERR" "jail: m: path cannot be changed after creation"
	t_run 0 jail -f "$T/jail.conf" -mr m
	t_eq "$(jls -j m path)" "$T/root2"
	t_run 0 jail -f "$T/jail.conf" -r m
}

case_parallel_all_and_wildcards() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/jail.conf" <<EOF
path = "$ROOT";
persist;
exec.prestart = "sleep 0.3";
w.1 { }
w.2 { }
w.3 { }
other { }
EOF
	local t0 t1
	t0=$(date +%s%N)
	t_run 0 jail -f "$T/jail.conf" -c
	t1=$(date +%s%N)
	t_eq "$(printf '%s\n' "$T_OUT" | sort)" "other: created
w.1: created
w.2: created
w.3: created"
	[ $(((t1 - t0) / 1000000)) -lt 1000 ] || t_fail "4 jails of 0.3 s each did not start in parallel"
	# all again: running ones are skipped quietly
	t_run 0 jail -f "$T/jail.conf" -c
	t_eq "$T_OUT" ""
	# FreeBSD's wildcards are per name component: w* matches nothing, w.* the three
	t_run 0 jail -f "$T/jail.conf" -r 'w*'
	t_eq "$T_OUT" ""
	t_run 0 jail -f "$T/jail.conf" -p1 -r 'w.*'
	t_eq "$T_OUT" "w.3: removed
w.2: removed
w.1: removed"
	t_eq "$(jls name)" "other"
	t_run 0 jail -f "$T/jail.conf" -r '*'
	t_eq "$T_OUT" "other: removed"
	t_nothing_left other "$ROOT"
}

case_remove_sequence() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/jail.conf" <<EOF
r {
	path = "$ROOT";
	persist;
	mount.devfs;
	exec.prestop = 'echo prestop \$JNAME';
	exec.stop = "/bin/echo stop in jail";
	exec.poststop = 'echo poststop \$JID';
	exec.release = "echo release";
}
bad {
	path = "$ROOT";
	persist;
	exec.prestop = "false";
}
EOF
	t_run 0 jail -f "$T/jail.conf" -qc r
	jid=$(jls -j r jid)
	t_run 0 jail -f "$T/jail.conf" -r r
	t_eq "$T_OUT" "prestop r
stop in jail
r: removed
poststop $jid
release"
	t_nothing_left r "$ROOT"
	# a failing exec.prestop keeps the jail
	t_run 0 jail -f "$T/jail.conf" -qc bad
	t_run 1 jail -f "$T/jail.conf" -r bad
	t_eq "$T_ERR" "jail: bad: false: failed"
	t_eq "$(jls name)" "bad"
	# -C: a jail that is gone by itself still gets its post-removal steps
	cat >"$T/c.conf" <<EOF
gone {
	path = "$ROOT";
	mount = "$T $ROOT/mnt nullfs ro 0 0";
	exec.poststop = "echo poststop";
	exec.release = "echo release";
}
EOF
	mkdir -p "$ROOT/mnt"
	t_run 0 jail -f "$T/c.conf" -qc gone
	t_eq "$(jls name)" "bad" "gone died with nothing in it"
	grep -q " $ROOT/mnt " /proc/self/mounts || t_fail "the mount of the dead jail is not there"
	t_run 0 jail -f "$T/c.conf" -q -r -C gone
	t_eq "$T_OUT" "poststop
release"
	if grep -q " $ROOT/mnt " /proc/self/mounts; then t_fail "-C did not unmount"; fi
	# -R: no config, no commands
	t_run 0 jail -R bad
	t_eq "$T_OUT" ""
	t_nothing_left bad "$ROOT"
}

case_vnet_jail_dying_by_itself_returns_interfaces() {
	t_defer t_cleanup_jails
	mkroot
	ip link add t-dv0 type veth peer name t-dv1
	t_defer ip link del t-dv0
	t_run 0 jail -c name=v path="$ROOT" vnet vnet.interface=t-dv0 mount.devfs \
		exec.start="/bin/sleep 1 &"
	if ip link show t-dv0 >/dev/null 2>&1; then t_fail "t-dv0 not moved"; fi
	for _ in $(seq 50); do jls -cj v || break; sleep 0.1; done
	jls >/dev/null
	ip link show t-dv0 >/dev/null || t_fail "t-dv0 did not come back"
	ip link show t-dv1 >/dev/null || t_fail "t-dv1 did not come back"
	t_nothing_left v "$ROOT"
	if grep -q "$LJAIL_RUNDIR" /proc/self/mounts; then t_fail "netns pin left"; fi
}

# FreeBSD gives out the next free JID after the last one, not the lowest free one: a restarted
# jail gets a new JID, and a JID asked for does not move the sequence.
case_jid_is_next_after_last() {
	mkroot
	t_defer t_cleanup_jails
	local n
	for n in ja jb jc; do
		t_run 0 jail -c name=$n path="$ROOT" persist
	done
	t_eq "$(jls jid name | tr '\n' ' ')" "1 ja 2 jb 3 jc " "first JIDs"
	t_run 0 jail -r ja
	t_run 0 jail -r jc
	t_run 0 jail -c name=jd path="$ROOT" persist
	t_eq "$(jls -j jd jid)" "4" "after 3 comes 4, although 1 and 3 are free"
	t_run 0 jail -c name=je jid=1 path="$ROOT" persist
	t_run 0 jail -c name=jf path="$ROOT" persist
	t_eq "$(jls -j jf jid)" "5" "a wanted JID does not move the sequence"
	t_run 0 jail -r jb
	t_run 0 jail -c name=jb path="$ROOT" persist
	t_eq "$(jls -j jb jid)" "6" "a restarted jail gets a new JID"
}

case_jid_file_and_print_jid() {
	t_defer t_cleanup_jails
	t_run 0 jail -i -J "$T/jids" -c name=j1 path=/ persist host.hostname=h1
	t_match "$T_OUT" "^[0-9]+$"
	t_eq "$(cat "$T/jids")" "jid=$T_OUT	name=j1	path=/	persist	host.hostname=h1"
	t_run 0 jail -r j1
}

case_users_and_environment() {
	t_defer t_cleanup_jails
	mkroot
	id nobody >/dev/null 2>&1 || t_skip "no user nobody on the host"
	t_run 0 jail -c name=u path="$ROOT" persist mount.devfs exec.jail_user=nobody \
		exec.system_user=nobody exec.prestart="id -u" exec.start="id -u"
	t_eq "$T_OUT" "$(id -u nobody)
65534" "host user, then the jail's user from the jail's passwd"
	t_run 0 jail -r u
	# the host's groups of the user (getent initgroups): root's as id(1) gives them
	t_run 0 jail -c name=g path="$ROOT" persist exec.system_user=root exec.prestart="id -G"
	t_eq "$(printf '%s\n' $T_OUT | sort -n)" "$(id -G root | tr ' ' '\n' | sort -n)" "system user's groups"
	t_run 0 jail -r g
	t_run 1 jail -c name=g path="$ROOT" persist exec.system_user=ljail-no-such-user exec.prestart="id -u"
	t_eq "$T_ERR" "jail: ljail-no-such-user: no such user" "a missing host user"
	t_nothing_left g "$ROOT"
	t_run 0 jail -c name=e path="$ROOT" persist mount.devfs exec.clean exec.start="env"
	if printf '%s\n' "$T_OUT" | grep -q '^JID='; then t_fail "exec.clean kept JID"; fi
	t_match "$T_OUT" "^PATH=" "exec.clean sets PATH"
	t_match "$T_OUT" "^HOME=/root$" "exec.clean sets HOME"
	t_run 0 jail -r e
	t_run 0 jail -c name=e2 path="$ROOT" persist mount.devfs exec.start="env"
	t_match "$T_OUT" "^JNAME=e2$"
	t_match "$T_OUT" "^JPATH=$ROOT$"
	t_run 0 jail -r e2
	t_nothing_left e2 "$ROOT"
}

# jail -h (ip_hostname): host.hostname's addresses join ip4.addr/ip6.addr, looked up on the host
# (localhost is in every /etc/hosts; nothing goes to a resolver)
case_ip_hostname() {
	t_defer t_cleanup_jails
	mkroot
	getent ahosts localhost | grep -q '^127\.0\.0\.1 ' || t_skip "localhost is not 127.0.0.1 here"
	t_run 0 jail -c -h name=hn path="$ROOT" host.hostname=localhost ip4.addr=127.0.0.2 persist
	t_run 0 jls -j hn ip4.addr
	t_match "$T_OUT" "^127\.0\.0\.2,127\.0\.0\.1" "the given address, then the resolved one"
	t_run 0 jail -r hn
	t_run 1 jail -c -h name=hn path="$ROOT" host.hostname=-x persist
	t_eq "$T_ERR" "jail: host.hostname -x: Name or service not known"
	t_nothing_left hn "$ROOT"
}

# What jail(8) prints when the jail is made comes before its first command's output; when it
# prints nothing, that command goes to the init while it sets itself up (and the record is
# written meanwhile): same output, same environment, same status.
case_first_command_output_order() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/o.conf" <<EOF
o {
	path = "$ROOT";
	command = "/bin/sh -c 'echo out; env | grep ^JNAME='";
}
EOF
	t_run 0 jail -f "$T/o.conf" -c o
	t_eq "$T_OUT" "o: created
out
JNAME=o" "created, then the command's output"
	t_run 0 jail -f "$T/o.conf" -qc o
	t_eq "$T_OUT" "out
JNAME=o" "-q: only the command's output"
	t_run 0 jail -f "$T/o.conf" -ic o
	t_eq "$(printf '%s\n' "$T_OUT" | sed 1d)" "out
JNAME=o" "-i: the JID first"
	t_match "$(printf '%s\n' "$T_OUT" | head -1)" "^[0-9]+$" "-i: the JID first"
	t_run 1 jail -c name=o path="$ROOT" command=/bin/sh -c 'echo "$JID $JNAME $JPATH"; exit 4'
	t_match "$T_OUT" "^[0-9]+ o $ROOT$" "the environment of an early command"
	t_match "$T_ERR" "^jail: /bin/sh -c .*: failed$" "a failing first command fails the create"
	t_nothing_left o "$ROOT"
	# a jail that fails to set itself up never runs the command that waited for it, and its
	# own message is the one reported
	rm -f "$ROOT/tmp/ran"
	t_run 1 env LJAIL_FAIL_STEP=isolate-pivot jail -c name=o path="$ROOT" command=/bin/sh -c 'touch /tmp/ran'
	t_eq "$T_ERR" "jail: pivot_root: failed (LJAIL_FAIL_STEP)"
	[ ! -e "$ROOT/tmp/ran" ] || t_fail "the command ran in a jail that failed"
	t_nothing_left o "$ROOT"
}

case_host_ifconfig_builtin_and_poststop() {
	t_defer t_cleanup_jails
	mkroot
	ip link add t-br0 type bridge
	t_defer ip link del t-br0
	ip link add t-e0a type veth peer name t-e0b
	t_defer ip link del t-e0a
	cat >"$T/jail.conf" <<EOF
web {
	path = "$ROOT";
	persist;
	vnet;
	vnet.interface = t-e0b;
	exec.prestart = "ifconfig t-br0 addm t-e0a up";
	exec.poststop = "ifconfig t-br0 deletem t-e0a";
}
EOF
	t_run 0 jail -f "$T/jail.conf" -c web
	t_eq "$T_OUT" "web: created"
	t_match "$(ip -o link show t-e0a)" "master t-br0" "added to the bridge by the builtin ifconfig"
	t_run 0 jail -f "$T/jail.conf" -r web
	t_eq "$T_OUT" "web: removed"
	if ip -o link show t-e0a | grep -q "master t-br0"; then t_fail "deletem did not run"; fi
	ip link show t-e0b >/dev/null || t_fail "t-e0b not back on the host"
}

case_signal_during_create_undoes() {
	t_defer t_cleanup_jails
	mkroot
	local pid rc=0
	jail -c name=sig path="$ROOT" persist mount.devfs exec.start="sleep 1" >"$T/o" 2>"$T/e" &
	pid=$!
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	t_eq "$rc" 1 "exit status after SIGTERM"
	t_eq "$(cat "$T/e")" "jail: command: interrupted"
	t_nothing_left sig "$ROOT"
}

case_config_jail_failing_start_is_taken_back() {
	t_defer t_cleanup_jails
	mkroot
	cat >"$T/jail.conf" <<EOF
x {
	path = "$ROOT";
	persist;
	exec.start = "/bin/false";
	exec.poststart = "echo never";
}
EOF
	t_run 1 jail -f "$T/jail.conf" -c x
	t_eq "$T_OUT" "x: created
x: removed"
	t_eq "$T_ERR" "jail: x: /bin/false: failed"
	t_nothing_left x "$ROOT"
}

t_main "$@"
