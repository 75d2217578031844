#!/usr/bin/env bash
# Fault injection, the full walk (issue 9, item 1). A jail with everything a step can make —
# mounts (mount, mount.fstab, mount.devfs), an epair made in exec.prestart with ljail's ifconfig
# and added to a bridge, vnet.interface, a cgroup, rctl rules, and for a non-vnet twin the
# ip4.addr/ip6.addr aliases — is created with LJAIL_FAIL_STEP naming each step of the create
# sequence in turn (and each fault point of the cgroup creation and of removal). After every
# failure: exit 1, jail(8)'s message, and the census of the host (tests/lib/census.sh) equals the
# one taken before.
#
# The step names are read from the code (the create_steps[] table and the jx_fault() calls of
# src/jail/steps.c, the cgroup-create:N points of src/cgroup/cgroup.c), so a new step is walked
# without editing this file. jail(8) offers no listing of its steps.
#
# Documented behaviour this relies on (src/jail/steps.c, as FreeBSD's jail(8)): exec.* commands
# have no undo, so an epair that exec.prestart made stays when a later step fails; the test checks
# both ends are back on the host (epair7a still a bridge member), then destroys it as the admin
# would, before comparing.
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/census.sh"

# census_note BEFORE AFTER WHAT: like census_eq, but the walk goes on; census_done fails the case
# with every difference seen, so one run shows each step that leaks.
diffs=()
census_note() {
	[ "$1" = "$2" ] && return 0
	diffs+=("$3: $(diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep '^[<>]' | tr '\n' ' ')")
}
census_done() {
	[ ${#diffs[@]} -eq 0 ] && return 0
	printf '# census differs around %s\n' "${diffs[@]}" >&2
	t_fail "${#diffs[@]} steps left something behind"
}

# Steps, in order, from the source.
create_steps() {
	sed -n '/^static const struct step create_steps\[\] = {/,/^};/p' "$T_TOP/src/jail/steps.c" |
		grep -o '{"[^"]*"' | tr -d '{"'
}
remove_steps() {
	sed -n '/^int jx_remove(/,/^}/p' "$T_TOP/src/jail/steps.c" | grep -o 'jx_fault(j, "[^"]*")' |
		sed 's/.*"\(.*\)".*/\1/'
}

cleanup_jails() {
	local n
	for n in $(jls name 2>/dev/null); do jail -R "$n" >/dev/null 2>&1 || true; done
}

mkroot() {
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	ROOT=$T/root
	mkdir -p "$ROOT"/{bin,dev,proc,etc,tmp,mnt/a,mnt/b}
	cp /bin/busybox "$ROOT/bin/busybox"
	local a
	for a in sh true false sleep cat ls ip; do ln -s busybox "$ROOT/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
	echo 'root:x:0:' >"$ROOT/etc/group"
	mkdir -p "$T/src" "$T/src2"
	echo hello >"$T/src/f"
	echo "$T/src2 $ROOT/mnt/b nullfs ro 0 0" >"$T/fstab"
}

# jail.conf: jv, the vnet jail; ja, the alias jail on t-al0 (vnet jails cannot have aliases).
write_conf() {
	cat >"$T/jail.conf" <<EOF
path = "$ROOT";
persist;
mount.devfs;
mount = "$T/src $ROOT/mnt/a nullfs ro 0 0";
mount.fstab = "$T/fstab";
exec.start = "/bin/true";
command = "/bin/true";
rctl = "maxproc:deny=50";
rctl += "memoryuse:deny=64M";
jv {
	vnet;
	exec.prepare = "true";
	exec.prestart = "ifconfig epair7 create up";
	exec.prestart += "ifconfig bridge0 addm epair7a";
	exec.created = "true";
	vnet.interface = "epair7b";
	exec.poststart = "true";
	exec.prestop = "true";
	exec.stop = "/bin/true";
	exec.poststop = "ifconfig epair7a destroy";
}
ja {
	interface = t-al0;
	ip4.addr = 192.0.2.7/32;
	ip4.addr += 192.0.2.8/32;
	ip6.addr = 2001:db8::7/128;
	exec.prestart = "true";
	exec.poststop = "true";
}
EOF
}

setup() {
	t_defer cleanup_jails
	mkroot
	write_conf
	ifconfig bridge0 create up >/dev/null
	ip link add t-al0 type veth peer name t-al1
	ip link set t-al0 up
	local steps
	steps=$(create_steps)
	# the table is there and read right: the FreeBSD steps ljail must have
	local s
	for s in exec.prestart create vnet.interface exec.poststart; do
		printf '%s\n' "$steps" | grep -qx "$s" || t_fail "step $s not found in src/jail/steps.c"
	done
}

# After a removal, the epair left to die with the jail's network namespace goes when the kernel
# tears that namespace down, a few milliseconds after jail(8) returned (jail.8, vnet.interface).
settle_epair() {
	local i
	for i in $(seq 1 40); do
		ip link show epair7a >/dev/null 2>&1 || return 0
		sleep 0.05
	done
}

# The index of step $1 in the create table (0-based).
step_index() { create_steps | grep -nx "$1" | cut -d: -f1 | awk '{print $1 - 1}'; }

# After a failed create of jv at step $1: the epair exec.prestart made (when it ran) is whole on
# the host and still bridged; then it goes, as the admin would take it away.
epair_back_and_destroy() {
	local s=$1
	if [ "$(step_index "$s")" -gt "$(step_index exec.prestart)" ]; then
		ip link show epair7a >/dev/null 2>&1 || t_fail "$s: epair7a gone (vnet.interface not returned?)"
		ip link show epair7b >/dev/null 2>&1 || t_fail "$s: epair7b not back on the host"
		t_match "$(ip -o link show epair7a)" 'master bridge0' "$s: epair7a bridge membership"
		ifconfig epair7a destroy
	fi
}

case_create_walk_vnet() {
	setup
	local s n=0 before after
	for s in $(create_steps); do
		before=$(census "$ROOT")
		t_run 1 env LJAIL_FAIL_STEP="$s" jail -f "$T/jail.conf" -c jv
		t_match "$T_ERR" "^jail: jv: $s: failed \(LJAIL_FAIL_STEP\)" "message when $s fails"
		t_eq "$(jls name)" "" "jails listed after $s failed"
		epair_back_and_destroy "$s"
		after=$(census "$ROOT")
		census_note "$before" "$after" "a failing $s"
		n=$((n + 1))
	done
	census_done
	echo "# $n create steps failed in turn: $(create_steps | tr '\n' ' ')" >&2
	# the same jail without a fault comes up whole, and its removal leaves nothing
	before=$(census "$ROOT")
	t_run 0 jail -f "$T/jail.conf" -c jv
	t_eq "$(jexec jv cat /mnt/a/f)" hello "the mount works"
	t_match "$(jexec jv ip -o link)" 'epair7b' "vnet.interface is in the jail"
	t_run 0 jail -f "$T/jail.conf" -r jv
	settle_epair
	after=$(census "$ROOT")
	census_eq "$before" "$after" "census around a whole create and remove"
}

case_create_walk_alias() {
	setup
	local s before after
	for s in $(create_steps); do
		before=$(census "$ROOT")
		t_run 1 env LJAIL_FAIL_STEP="$s" jail -f "$T/jail.conf" -c ja
		t_match "$T_ERR" "^jail: ja: $s: failed \(LJAIL_FAIL_STEP\)" "message when $s fails"
		after=$(census "$ROOT")
		census_note "$before" "$after" "a failing $s"
	done
	census_done
	before=$(census "$ROOT")
	t_run 0 jail -f "$T/jail.conf" -c ja
	t_match "$(ip -o addr show dev t-al0)" '192\.0\.2\.8/32' "aliases made"
	t_run 0 jail -f "$T/jail.conf" -r ja
	census_eq "$before" "$(census "$ROOT")" "census around a whole create and remove"
}

# The cgroup is made on every hierarchy in turn: fail after each count of hierarchies.
case_cgroup_create_partial() {
	setup
	grep -q '"cgroup-create:%zu"' "$T_TOP/src/cgroup/cgroup.c" || t_skip "no cgroup-create:N fault point"
	local nh k before after
	nh=$(_census_cg_mounts | wc -l)
	for ((k = 0; k <= nh; k++)); do
		before=$(census "$ROOT")
		local rc=0
		env LJAIL_FAIL_STEP="cgroup-create:$k" jail -f "$T/jail.conf" -c jv >"$T/out" 2>"$T/err" || rc=$?
		if [ "$rc" = 0 ]; then
			# fewer hierarchies than k were used: the fault never fired
			t_run 0 jail -f "$T/jail.conf" -r jv
			settle_epair
		else
			t_eq "$rc" 1 "exit status with cgroup-create:$k"
			t_match "$(cat "$T/err")" '^jail: jv: cgroup: ' "message with cgroup-create:$k"
			epair_back_and_destroy create
		fi
		after=$(census "$ROOT")
		census_eq "$before" "$after" "census around cgroup-create:$k"
	done
}

# Removal: a fault at a step before the kill keeps the jail whole and running (FreeBSD: a
# failing exec.prestop or exec.stop stops the removal); `jail -r` again completes it.
case_remove_walk() {
	setup
	local s before after n=0
	for s in $(remove_steps); do
		before=$(census "$ROOT")
		t_run 0 jail -f "$T/jail.conf" -c jv
		t_run 1 env LJAIL_FAIL_STEP="$s" jail -f "$T/jail.conf" -r jv
		t_match "$T_ERR" "^jail: jv: $s: failed \(LJAIL_FAIL_STEP\)" "message when $s fails"
		t_eq "$(jls name)" jv "the jail stays after $s failed"
		t_run 0 jexec jv /bin/true
		t_match "$(jexec jv ip -o link)" 'epair7b' "vnet.interface stays in the jail after $s failed"
		t_run 0 jail -f "$T/jail.conf" -r jv
		settle_epair
		after=$(census "$ROOT")
		census_eq "$before" "$after" "census around a failing $s and a second jail -r"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || t_fail "only $n removal fault points found in jx_remove"
}

# jail -R (no config, the built-in steps only): vnet.interface comes back to the host as the
# vnet dies (FreeBSD returns moved interfaces), so only the admin's own epair is left to destroy.
case_force_remove_returns_vnet_interface() {
	setup
	local before
	before=$(census "$ROOT")
	t_run 0 jail -f "$T/jail.conf" -c jv
	t_run 0 jail -R jv
	ip link show epair7b >/dev/null 2>&1 || t_fail "jail -R: epair7b not returned to the host"
	ifconfig epair7a destroy # exec.poststop is not run by -R
	census_eq "$before" "$(census "$ROOT")" "census around jail -R"
}

# A removal that fails after the jail is gone (exec.poststop fails): the built-in undo still ran,
# nothing is left, and the jail is not found any more.
case_remove_fails_after_gone() {
	setup
	sed -i 's|exec.poststop = "ifconfig epair7a destroy";|exec.poststop = "ifconfig epair7a destroy"; exec.poststop += "false";|' \
		"$T/jail.conf"
	local before
	before=$(census "$ROOT")
	t_run 0 jail -f "$T/jail.conf" -c jv
	local rc=0
	jail -f "$T/jail.conf" -r jv >"$T/out" 2>"$T/err" || rc=$?
	census_eq "$before" "$(census "$ROOT")" "census around a removal whose exec.poststop fails"
	t_eq "$rc" 1 "exit status of jail -r when exec.poststop fails"
	t_match "$(cat "$T/err")" '^jail: jv: false: failed$' "message"
	t_run 1 jail -f "$T/jail.conf" -r jv
	t_match "$T_ERR" 'jail: "jv" not found' "a second jail -r"
}

t_main "$@"
