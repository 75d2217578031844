#!/usr/bin/env bash
# The jail-escape suite (SECURITY.md): tests/escape/escape, a static program, runs as root inside
# a vnet jail with FreeBSD's default allow.* and tries every known way out; every attempt must be
# blocked. Then each allow.* parameter must open exactly its own door (the same program, told
# which attempts are now expected to work) and nothing else.
#
# The jail is made with jail(8) and entered with jexec(8). While the lifecycle is not there yet,
# the isolate module's test driver (lj-iso-driver) stands in for both.
. "$(dirname "$0")/../lib/lib.sh"

ESC=$LJAIL_BUILD/tests/escape/escape
DRIVER=$LJAIL_BUILD/tests/unit/isolate/lj-iso-driver

# A busybox root at $T/root with the escape program at /escape.
mkroot() {
	local r=$T/root a
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	[ -x "$ESC" ] || t_fail "$ESC not built"
	mkdir -p "$r"/{bin,sbin,dev,proc,sys,etc,tmp,root}
	cp /bin/busybox "$r/bin/busybox"
	# relative links: `busybox --install -s` would point them at the host path of busybox
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	chmod 1777 "$r/tmp"
	cp "$ESC" "$r/escape"
	R=$r
}

# What the jail must not reach: a file and a mount outside its root, a process of the host (its
# argv[0] is a marker), the host's namespaces (the case's own and the machine's).
host_bits() {
	mkdir -p "$T/outside/mnt"
	echo "host secret" >"$T/outside/secret"
	mount -t tmpfs -o size=64k ljail-escape-host "$T/outside/mnt"
	MARK=ljail-escape-host-$$
	bash -c "exec -a $MARK sleep 600" &
	HPID=$!
	disown "$HPID" # no "Killed" notice when the cleanup kills it
	t_defer kill -9 "$HPID"
	local k l ns=
	for k in net mnt pid uts ipc cgroup; do
		# allow.sysvipc shares the host's IPC namespace, as FreeBSD shares its SysV objects
		[[ " ${SHARED_NS:-} " == *" $k "* ]] && continue
		for l in "$(readlink /proc/self/ns/$k)" "$(readlink /proc/1/ns/$k)"; do
			ns="$ns${ns:+,}$l"
		done
	done
	HOSTNS=$ns
	HOSTNAME0=$(cat /proc/sys/kernel/hostname)
	HOSTUTS=$(readlink /proc/self/ns/uts)
	HARGS=(--host-pid "$HPID" --host-marker "$MARK" --host-file "$T/outside/secret"
		--host-mount "$T/outside/mnt" --host-ns "$HOSTNS")
}

# jail_up NAME PARAM... : a vnet jail (NO_VNET=1: without) on $R with /dev and /proc. Sets MODE
# (jail or driver).
jail_up() {
	local name=$1; shift
	local vnet=vnet
	[ -n "${NO_VNET:-}" ] && vnet=
	# ESCAPE_USE_DRIVER=1 tries the fallback even where jail(8) works
	# shellcheck disable=SC2086 # $vnet: one word or none
	if [ -z "${ESCAPE_USE_DRIVER:-}" ] &&
		jail -c name="$name" path="$R" $vnet persist mount.devfs mount.procfs "$@" \
			>"$T/.jail.out" 2>&1; then
		MODE=jail
		t_defer jail -R "$name"
		return 0
	fi
	# jail -c failing on bad parameters is a real failure; not existing yet is not
	if [ -z "${ESCAPE_USE_DRIVER:-}" ] && jls >/dev/null 2>&1 && ! grep -qiE 'not (yet )?implemented|unknown command' "$T/.jail.out"; then
		cat "$T/.jail.out" >&2
		t_fail "jail -c failed"
	fi
	[ -x "$DRIVER" ] || t_skip "jail -c not available yet"
	local p
	# exec rebuilds the seccomp filter from the same options, as jexec does from the record
	DARGS=()
	[ -n "$vnet" ] && DARGS+=(-v)
	for p in "$@"; do DARGS+=(-a "$p"); done
	local out
	out=$("$DRIVER" start -p "$R" -d -P "${DARGS[@]}") || t_fail "lj-iso-driver start failed"
	MODE=driver
	DPID=${out% *} DSTART=${out#* }
	t_defer "$DRIVER" stop "$DPID" "$DSTART" 0
}

# in_jail NAME CMD... : run CMD in the jail, keep stdout in $T_OUT, return its status.
in_jail() {
	local name=$1; shift
	local rc=0
	if [ "$MODE" = jail ]; then
		jexec "$name" "$@" >"$T/.out" 2>"$T/.err" || rc=$?
	else
		"$DRIVER" exec "$DPID" "$DSTART" "${DARGS[@]}" -- "$@" >"$T/.out" 2>"$T/.err" || rc=$?
	fi
	T_OUT=$(cat "$T/.out") T_ERR=$(cat "$T/.err")
	return $rc
}

jail_down() {
	local name=$1
	if [ "$MODE" = jail ]; then
		t_run 0 jail -r "$name"
	else
		t_run 0 "$DRIVER" stop "$DPID" "$DSTART" 1000
	fi
}

# Every line "ok ...", none FAIL, and the named attempts all reported.
assert_all_ok() { # WHAT NAMES...
	local what=$1; shift
	printf '%s\n' "$T_OUT" | sed 's/^/# /' >&2
	[ -z "$T_ERR" ] || echo "# stderr: $T_ERR" >&2
	if printf '%s\n' "$T_OUT" | grep -q '^FAIL'; then
		t_fail "$what: $(printf '%s\n' "$T_OUT" | grep '^FAIL' | tr '\n' ';')"
	fi
	local bad
	bad=$(printf '%s\n' "$T_OUT" | grep -v '^ok ' || true)
	t_eq "$bad" "" "$what: lines that are not ok"
	local n
	for n in "$@"; do
		printf '%s\n' "$T_OUT" | grep -q "^ok $n " || t_fail "$what: no result for $n"
	done
}

# Nothing of the jail is left: no record, no process in its root, no mount below $T/root.
assert_gone() {
	local name=$1 p
	t_eq "$(ls "$LJAIL_RUNDIR"/*.jail 2>/dev/null || true)" "" "registry records left"
	if [ "$MODE" = jail ]; then
		t_eq "$(jls name)" "" "jails listed"
	fi
	for _ in $(seq 50); do
		left=
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] && left="$left ${p#/proc/}"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	t_eq "$left" "" "processes left in the jail root"
	t_eq "$(awk -v d="$R" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts)" "" \
		"mounts left below the jail root"
	local d
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT"/"$name" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"/"$name"; do
		[ -d "$d" ] && t_fail "cgroup $d left"
	done
	return 0
}

# Every attempt (all but the ones that need --maxproc), with default parameters.
ALL="host_pid_signal host_pid_visible host_pidfd host_proc_scan ptrace_host ptrace_init
init_memory host_exe host_file host_mounts chroot_escape dotdot_fd mount_tmpfs mount_proc
mount_bind mount_newapi umount_own mount_sysfs mknod_block mknod_char block_device init_module finit_module
delete_module kexec_load reboot ioports swapon read_msgbuf keyctl add_key bpf perf_event_open
userfaultfd open_by_handle_at tiocsti unshare_userns unshare_ns setns host_ns sethostname
setdomainname clock_settime settimeofday adjtimex sysctl_write core_pattern sysrq_trigger
proc_masks leaked_fds sys_write cgroup_write release_agent raw_socket raw_socket6 packet_socket socket_af
sysvipc chflags remount_proc_sys remount_sys bind_proc setattr_proc_sys move_proc_sys umount_masks
umount_proc_sys"

case_default_jail_blocks_every_escape() {
	mkroot
	host_bits
	jail_up esc
	local rc=0
	# mlock is reported too, or skipped when RLIMIT_MEMLOCK is unlimited
	in_jail esc /escape "${HARGS[@]}" --only "$(echo "$ALL" | tr -s ' \n' ,),mlock" || rc=$?
	T_OUT=$(printf '%s\n' "$T_OUT" | grep -v '^skip mlock ' || true)
	assert_all_ok "default jail" $ALL
	t_eq "$rc" 0 "escape's exit status"
	# the host's name and UTS namespace are untouched
	t_eq "$(cat /proc/sys/kernel/hostname)" "$HOSTNAME0" "the host's hostname"
	in_jail esc /bin/readlink /proc/self/ns/uts
	[ "$T_OUT" != "$HOSTUTS" ] || t_fail "the jail shares the host's UTS namespace"
	# no user namespace of its own without allow.mount, and no mount through jexec
	in_jail esc /bin/readlink /proc/self/ns/user
	t_eq "$T_OUT" "$(readlink /proc/self/ns/user)" "a default jail's user namespace"
	rc=0
	in_jail esc /bin/mount -t tmpfs t /tmp || rc=$?
	[ "$rc" != 0 ] || t_fail "jexec esc mount -t tmpfs worked in a default jail"
	t_match "$T_ERR" "permission denied|not permitted" "jexec esc mount -t tmpfs in a default jail"
	# and the program can fail: on the host (as root, no jail) it must report escapes
	rc=0
	"$ESC" --on-host --only mount_tmpfs,raw_socket6,host_file --host-file "$T/outside/secret" \
		>"$T/.host" || rc=$?
	t_eq "$rc" 1 "escape run on the host exits 1"
	t_eq "$(grep -c '^FAIL' "$T/.host")" 3 "escape run on the host reports 3 escapes"
	# and it refuses to run outside a jail unless told
	t_run 2 "$ESC" --only host_file
	t_match "$T_ERR" "not inside an ljail jail" "escape outside a jail"
	jail_down esc
	assert_gone esc
}

# With PARAMS, the attempts of GROUPS (comma list) work; everything else is still blocked.
# (group_names: the attempts of a group, from escape --list.)
group_names() {
	"$ESC" --list | awk -v g="$1" '$2 == g || $1 == g {print $1}'
}

allow_check() { # PARAMS GROUPS
	local params=$1 groups=$2 g n
	mkroot
	host_bits
	# shellcheck disable=SC2086
	jail_up esc $params
	local rc=0
	in_jail esc /escape "${HARGS[@]}" --expect-allowed "$groups" || rc=$?
	# maxproc needs --maxproc (case_maxproc_limit); mlock cannot be told apart without a
	# finite RLIMIT_MEMLOCK (case_allow_mlock skips then)
	T_OUT=$(printf '%s\n' "$T_OUT" | grep -Ev '^skip (maxproc|mlock) ' || true)
	assert_all_ok "$params"
	for g in ${groups//,/ }; do
		for n in $(group_names "$g"); do
			printf '%s\n' "$T_OUT" | grep -q "^ok $n allowed" ||
				t_fail "$params: $n is not allowed"
		done
	done
	t_eq "$rc" 0 "escape's exit status with $params"
	jail_down esc
	assert_gone esc
}

case_allow_raw_sockets() {
	allow_check allow.raw_sockets raw_socket
}

case_allow_settime() {
	# Linux has one capability for setting and adjusting the clock (CAP_SYS_TIME). The clock
	# itself is never set: see escape.c.
	allow_check allow.settime settime,adjtime
}

case_allow_sysvipc() {
	SHARED_NS=ipc allow_check allow.sysvipc sysvipc
}

case_allow_socket_af() {
	allow_check allow.socket_af socket_af
}

case_allow_read_msgbuf() {
	allow_check allow.read_msgbuf read_msgbuf
}

case_allow_mlock() {
	mkroot
	host_bits
	jail_up esc allow.mlock
	in_jail esc /escape --only mlock --expect-allowed mlock || true
	if printf '%s\n' "$T_OUT" | grep -q '^skip mlock'; then
		jail_down esc
		t_skip "RLIMIT_MEMLOCK is unlimited here: mlock cannot be told apart"
	fi
	jail_down esc
	allow_check allow.mlock mlock
}

case_allow_chflags() {
	mkroot
	command -v chattr >/dev/null || t_skip "chattr (e2fsprogs) is not installed"
	# the flags need a file system that has them (ext4, btrfs, xfs; tmpfs only the ones it knows)
	if ! touch "$T/f" || ! chattr +i "$T/f" 2>/dev/null; then
		t_skip "the file system of $T has no immutable flag"
	fi
	chattr -i "$T/f"
	allow_check allow.chflags chflags
}

# allow.mount: the jail's root mounts tmpfs and binds, and unmounts what it mounted, as FreeBSD's
# allow.mount (with allow.mount.tmpfs/nullfs) allows. It does so in a user namespace of its own
# (SECURITY.md): every mount the jail was given is locked, so every other attempt stays blocked:
# no new procfs/sysfs/cgroup, /proc/sys and /sys stay read-only and mounted, no release_agent.
MOUNT_BLOCKED="mount_proc mount_sysfs remount_proc_sys remount_sys umount_proc_sys umount_masks
bind_proc setattr_proc_sys move_proc_sys core_pattern sysctl_write sysrq_trigger sys_write
cgroup_write release_agent open_by_handle_at mknod_block mknod_char block_device init_memory
unshare_userns unshare_ns setns sethostname"

allow_mount_check() {
	mkroot
	host_bits
	jail_up esc allow.mount allow.mount.tmpfs allow.mount.nullfs
	local rc=0 n
	in_jail esc /escape "${HARGS[@]}" --expect-allowed mount || rc=$?
	T_OUT=$(printf '%s\n' "$T_OUT" | grep -Ev '^skip (maxproc|mlock) ' || true)
	# shellcheck disable=SC2086 # one name per word
	assert_all_ok "allow.mount" $ALL
	for n in $(group_names mount); do
		printf '%s\n' "$T_OUT" | grep -q "^ok $n allowed" || t_fail "allow.mount: $n is not allowed"
	done
	for n in $MOUNT_BLOCKED; do
		printf '%s\n' "$T_OUT" | grep -q "^ok $n blocked" || t_fail "allow.mount: $n is not blocked"
	done
	t_eq "$rc" 0 "escape's exit status with allow.mount"
	# jexec joins the jail's user namespace: a mount works there, and shows in the jail
	t_eq "$(cat /proc/sys/kernel/hostname)" "$HOSTNAME0" "the host's hostname"
	in_jail esc /bin/sh -c 'mkdir -p /tmp/jm && mount -t tmpfs jm /tmp/jm && echo mounted'
	t_eq "$T_OUT" "mounted" "jexec esc mount -t tmpfs"
	in_jail esc /bin/sh -c 'grep -c " /tmp/jm " /proc/self/mountinfo; umount /tmp/jm && echo gone'
	t_eq "$(printf '%s\n' "$T_OUT" | tr '\n' ' ')" "1 gone " \
		"the mount seen by a second jexec, then unmounted"
	in_jail esc /bin/readlink /proc/self/ns/user
	if [ -z "$T_OUT" ] || [ "$T_OUT" = "$(readlink /proc/self/ns/user)" ]; then
		t_fail "allow.mount: the jail has no user namespace of its own ($T_OUT)"
	fi
	in_jail esc /bin/cat /proc/self/uid_map /proc/self/gid_map
	t_eq "$(printf '%s' "$T_OUT" | tr -s ' \n' ' ')" " 0 0 4294967295 0 0 4294967295" \
		"identity uid/gid maps"
	# the host sees the jail's files as root's, as before
	in_jail esc /bin/sh -c 'echo x >/tmp/owned'
	t_eq "$(stat -c %u:%g "$R/tmp/owned")" "0:0" "a file made in the jail"
	jail_down esc
	assert_gone esc
}

case_allow_mount() {
	allow_mount_check
}

case_allow_mount_novnet() {
	# without vnet the jail is in the host's network namespace, as a FreeBSD jail without vnet
	NO_VNET=1 SHARED_NS=net allow_mount_check
}

# What allow.mount costs (SECURITY.md): capabilities the kernel checks in the host's user
# namespace do nothing in the jail's own; those of its network (vnet) still work.
case_allow_mount_costs() {
	mkroot
	jail_up esc allow.mount allow.settime allow.adjtime allow.read_msgbuf allow.raw_sockets
	local rc=0
	in_jail esc /escape --only settime,adjtime,read_msgbuf,raw_socket --expect-allowed raw_socket ||
		rc=$?
	assert_all_ok "allow.mount with allow.settime, read_msgbuf, raw_sockets" clock_settime \
		settimeofday adjtimex read_msgbuf raw_socket raw_socket6 packet_socket
	printf '%s\n' "$T_OUT" | grep -q '^ok clock_settime blocked' || t_fail "clock_settime not blocked"
	printf '%s\n' "$T_OUT" | grep -q '^ok raw_socket allowed' || t_fail "raw_socket not allowed"
	t_eq "$rc" 0 "escape's exit status"
	jail_down esc
	assert_gone esc
}

# vnet + allow.mount: the jail's network namespace is made inside its user namespace, so the
# jail's root still configures its own network, and vnet.interface reaches that namespace.
case_allow_mount_vnet_network() {
	mkroot
	ip link add ljesc0 type veth peer name ljesc1 || t_skip "no veth interfaces here"
	t_defer ip link del ljesc1
	jail_up esc allow.mount vnet.interface=ljesc0
	[ "$MODE" = jail ] || t_skip "vnet.interface needs jail(8)"
	in_jail esc /bin/sh -c 'ip link show ljesc0 >/dev/null && echo moved
		ip addr add 10.77.0.1/24 dev ljesc0 && ip link set ljesc0 up && echo configured
		ip -4 addr show dev lo | grep -q 127.0.0.1 && echo lo-up
		echo 1 >/proc/sys/net/ipv4/ip_forward && echo sysctl
		mkdir -p /tmp/s && mount -t sysfs -o ro s /tmp/s && [ -e /tmp/s/class/net/ljesc0 ] &&
			echo sysfs && umount /tmp/s
		mount -t sysfs s /tmp/s || echo no-rw-sysfs'
	t_eq "$(printf '%s\n' "$T_OUT" | tr '\n' ' ')" "moved configured lo-up sysctl sysfs no-rw-sysfs " \
		"the jail's own network ($T_ERR)"
	t_eq "$(ip -o link show ljesc0 2>/dev/null)" "" "ljesc0 is not in the host's namespace"
	jail_down esc
	t_match "$(ip -o link show ljesc0)" "ljesc0" "ljesc0 came back to the host"
}

# rctl maxproc: the jail cannot fork beyond its limit.
case_maxproc_limit() {
	mkroot
	host_bits
	jail_up esc
	[ "$MODE" = jail ] || t_skip "rctl needs a jail made by jail(8)"
	t_run 0 rctl -a jail:esc:maxproc:deny=16
	local rc=0
	in_jail esc /escape --maxproc 16 --only maxproc || rc=$?
	assert_all_ok "maxproc 16" maxproc
	t_eq "$rc" 0 "escape's exit status with maxproc"
	t_run 0 rctl -r jail:esc
	jail_down esc
	assert_gone esc
}

t_main "$@"
