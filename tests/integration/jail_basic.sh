#!/usr/bin/env bash
# FreeBSD's usr.sbin/jail/tests/jail_basic_test.sh, adapted to Linux: the same commands and the
# same expected output, a veth pair where FreeBSD makes an epair.
. "$(dirname "$0")/../lib/lib.sh"

# Every jail the case made is removed, even when it failed (by name, never by a broad pattern).
# ljail's own jexec (a Debian package ships an unrelated /usr/bin/jexec)
t_have_jexec() {
	[ -x "$LJAIL_BUILD/jexec" ] || [ -x "$LJAIL_BUILD/src/cmd/jexec" ] || t_skip "jexec not built yet"
	[ -x "$LJAIL_BUILD/src/cmd/jexec" ] && PATH=$LJAIL_BUILD/src/cmd:$PATH
	return 0
}

case_basic() {
	t_defer t_cleanup_jails
	t_run 0 jail -c name=basejail persist ip4.addr=192.0.1.1
	t_eq "$T_OUT" "" "stdout of a command-line create"
	t_run 0 jls
	t_eq "$(printf '%s\n' "$T_OUT" | head -1)" "   JID  IP Address      Hostname                      Path"
	t_match "$T_OUT" "^ +[0-9]+  192\.0\.1\.1 +$(hostname) +/$" "jls line"
	t_run 0 jls -v
	t_match "$T_OUT" "basejail +ACTIVE" "jls -v name and state"
	t_match "$T_OUT" "        192\.0\.1\.1" "jls -v address"
	t_run 0 jls -n
	t_match "$T_OUT" "name=basejail" "jls -n name"
	t_match "$T_OUT" " persist " "jls -n persist"
	t_match "$T_OUT" "ip4.addr=192.0.1.1" "jls -n ip4.addr"
	t_run 0 jail -r basejail
	t_eq "$T_OUT" "" "stdout of -r without a config"
	t_eq "$(jls name)" "" "no jail after -r"

	t_run 0 jail -c name=basejail persist ip4.addr=192.0.1.1
	t_run 0 jail -r "$(jls -j basejail jid)"
	t_eq "$(jls name)" "" "no jail after -r JID"

	t_run 0 jail -cm name=basejail persist ip4.addr=192.0.1.1
	t_run 0 jls -j basejail name
	t_eq "$T_OUT" basejail
	t_run 0 jail -rc name=basejail persist ip4.addr=192.0.1.1
	t_run 0 jls -j basejail name
	t_eq "$T_OUT" basejail
	t_run 0 jail -r basejail
}

case_list() {
	t_defer t_cleanup_jails
	t_have_jexec
	ip link add veth0a type veth peer name veth0b
	t_defer ip link del veth0a
	t_run 0 jail -c name=basejail vnet persist vnet.interface=veth0a,veth0b
	t_run 0 jexec basejail ifconfig veth0a
	t_run 0 jexec basejail ifconfig veth0b
	# moved: the host no longer has them
	if ip link show veth0a >/dev/null 2>&1; then t_fail "veth0a still on the host"; fi
	t_run 0 jail -r basejail
	# and back on the host once the jail is gone
	ip link show veth0a >/dev/null || t_fail "veth0a did not come back"
	ip link show veth0b >/dev/null || t_fail "veth0b did not come back"
}

case_nested() {
	t_defer t_cleanup_jails
	t_have_jexec
	t_run 0 jail -c name=basejail persist ip4.addr=192.0.1.1 children.max=1
	t_run 0 jexec basejail jail -c name=nestedjail persist ip4.addr=192.0.1.1
	t_eq "$T_OUT" "" "stdout of the nested create"
	t_run 1 jexec basejail jail -c name=secondnestedjail persist ip4.addr=192.0.1.1
	t_eq "$T_OUT" "" "stdout of the refused create"
	t_eq "$T_ERR" "jail: prison limit exceeded"
	t_run 0 jexec basejail jls
	t_run 0 jexec basejail jls -v
	t_run 0 jexec basejail jls -n
	t_match "$T_OUT" "name=nestedjail"
	# the host's jls does not list the nested jail as its own
	t_eq "$(jls name)" "basejail"
	t_run 0 jail -c name=basejail_nochild persist
	t_run 1 jexec basejail_nochild jail -c name=nestedjail persist
	t_eq "$T_ERR" "jail: jail_set: Operation not permitted"
	# a jail that may make none gets the run directory's shared folder as its /run/ljail,
	# read-only: none of the host's records (its path is the host's /), nothing to write; the
	# folders masked in /proc get the shared empty one, read-only too
	t_run 0 jexec basejail_nochild jls name
	t_eq "$T_OUT" "" "no jail listed inside"
	t_run 0 jexec basejail_nochild cat /run/ljail/.jail
	t_eq "$T_OUT" "children.max=0" "the jail's limit"
	t_run 1 jexec basejail_nochild touch /run/ljail/x
	t_match "$T_ERR" "Read-only file system" "the shared folder is read-only"
	t_run 0 jexec basejail_nochild jls name
	t_eq "$T_OUT" "" "still none"
	if [ -d /proc/acpi ]; then
		t_eq "$(jexec basejail_nochild ls -A /proc/acpi)" "" "/proc/acpi masked"
		t_run 1 jexec basejail_nochild touch /proc/acpi/x
		t_match "$T_ERR" "Read-only file system" "the mask is read-only"
	fi
	t_eq "$(ls -A "$LJAIL_RUNDIR/empty")" "" "the shared empty folder is empty"
	# rctl inside a jail: refused, as FreeBSD's kernel refuses it
	t_run 1 jexec basejail_nochild rctl
	t_eq "$T_ERR" "rctl: failed to show rules for '::': Operation not permitted"
	t_run 1 jexec basejail rctl -a jail:nestedjail:maxproc:deny=5
	t_eq "$T_ERR" "rctl: failed to add rule 'jail:nestedjail:maxproc:deny=5': Operation not permitted"
}

case_commands() {
	t_defer t_cleanup_jails
	cd "$T"
	cat >jail.conf <<'EOF'
exec.prestop = "echo STOP";
exec.prestart = "echo START";
exec.poststart = "env";
persist;

basejail {
}
EOF
	echo "path = \"$PWD\";" >>jail.conf
	t_run 0 jail -f jail.conf -qc basejail
	t_eq "$T_ERR" "" "stderr"
	t_match "$T_OUT" "^START$"
	t_match "$T_OUT" "^JID=[0-9]+$"
	t_match "$T_OUT" "^JNAME=basejail$"
	t_match "$T_OUT" "^JPATH=$PWD$"
	t_run 0 jail -f jail.conf -qr basejail
	t_eq "$T_OUT" "STOP"
	t_run 0 jail -f jail.conf -qc basejail
	jid=$(jls -j basejail jid)
	t_run 0 jail -f jail.conf -qr "$jid"
	t_eq "$T_OUT" "STOP"
}

case_jid_name_set() {
	t_defer t_cleanup_jails
	cd "$T"
	jid=5309
	while jls -cj "$jid"; do jid=$((jid + 1)); done
	cat >jail.conf <<EOF
$jid {
	name = basejail;
	persist;
}
EOF
	t_run 0 jail -f jail.conf -c "$jid"
	t_match "$T_OUT" "^$jid: created$"
	t_eq "$(jls -j "$jid" name)" basejail
	t_run 0 jail -f jail.conf -r "$jid"
	t_match "$T_OUT" "^$jid: removed$"

	cat >jail.conf <<EOF
$jid {
	host.hostname = "\${name}";
	persist;
}
EOF
	t_run 0 jail -f jail.conf -c "$jid"
	t_match "$T_OUT" "^$jid: created$"
	t_eq "$(jls -j "$jid" host.hostname)" "$jid"
	t_run 0 jail -f jail.conf -r "$jid"

	cat >jail.conf <<EOF
basejail {
	jid = $jid;
	persist;
}
EOF
	t_run 0 jail -f jail.conf -c basejail
	t_match "$T_OUT" "^basejail: created$"
	t_eq "$(jls -j basejail jid)" "$jid"
	t_run 0 jail -f jail.conf -r basejail
	t_match "$T_OUT" "^basejail: removed$"
}

case_param_consistency() {
	t_defer t_cleanup_jails
	cd "$T"
	t_run 0 jail -c path=/ exec.poststart="true" command=/usr/bin/true
	t_eq "$(jls name)" "" "the jail died with its command"
	ip link add t-lo0 type veth peer name t-lo1
	t_defer ip link del t-lo0
	t_run 0 jail -c path=/ vnet=new vnet.interface=t-lo0 command=/usr/bin/true
	ip link show t-lo0 >/dev/null || t_fail "t-lo0 did not come back"
	jid=5309
	while jls -cj "$jid"; do jid=$((jid + 1)); done
	for block in basejail "$jid" "$jid {name = basejail;"; do
		case $block in
		basejail) hdr="basejail {" ;;
		"$jid") hdr="$jid {" ;;
		*) hdr=$block ;;
		esac
		cat >jail.conf <<EOF
$hdr
	path = /;
	exec.prestop = 'echo STOP';
	persist;
}
EOF
		t_run 0 jail -f jail.conf -qc "${block%% *}"
		t_run 0 jail -f jail.conf -qr "${block%% *}"
		t_eq "$T_OUT" STOP "prestop of $block"
	done
	cat >jail.conf <<EOF
basejail {
	path = /;
	exec.poststop = 'echo JID=\$JID';
	persist;
}
EOF
	t_run 0 jail -f jail.conf -qc basejail
	jid=$(jls -j basejail jid)
	t_run 0 jail -f jail.conf -qr basejail
	t_eq "$T_OUT" "JID=$jid" "JID in exec.poststop"
}

case_shared_ip() {
	t_defer t_cleanup_jails
	cd "$T"
	ip link add t-lo1 type veth peer name t-lo2
	t_defer ip link del t-lo1
	ip link set t-lo1 up
	cat >jail.conf <<EOF
persist;
path = /;
interface = t-lo1;
ip4.addr = 192.0.1.1;

jail1 { }
jail2 { }
EOF
	t_run 0 jail -f jail.conf -c jail1
	t_run 0 jail -f jail.conf -c jail2
	t_match "$(ip -o -4 addr show dev t-lo1)" "inet 192\.0\.1\.1/32" "alias after both creates"
	t_run 0 jail -f jail.conf -r jail1
	t_match "$(ip -o -4 addr show dev t-lo1)" "inet 192\.0\.1\.1/32" "alias still used by jail2"
	t_run 0 jail -f jail.conf -r jail2
	if ip -o -4 addr show dev t-lo1 | grep -q 192.0.1.1; then t_fail "alias left after the last jail"; fi
}

t_main "$@"
