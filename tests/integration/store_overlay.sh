#!/usr/bin/env bash
# jailctl on the overlay backend (the case's own folder, any filesystem). store_btrfs.sh runs the
# same cases on a btrfs image; it sources this file with STORE_AS_LIB=1 and sets STORE_BACKEND.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/lib.sh"
export PATH="$LJAIL_BUILD/src/cmd:$PATH"
: "${STORE_BACKEND:=overlay}"

# st_pool: the case's pool on the backend under test (the btrfs script overrides it).
st_pool() { :; }

P() { printf '%s/%s' "$LJAIL_POOL" "$1"; }

# The tutorial's layout: a busybox template, a snapshot, two clones.
st_template() {
	st_pool
	t_run 0 jailctl bootstrap templates/base --busybox
	t_run 0 jailctl snapshot templates/base@15.0
	t_run 0 jailctl clone -p templates/base@15.0 containers/webserver
	t_run 0 jailctl clone templates/base@15.0 containers/database
}

# The names, mounts and folders the pool holds, to prove a failure changed nothing.
st_state() {
	jailctl list -H -t all -o name
	awk -v d="$LJAIL_POOL/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort
	find "$LJAIL_POOL" -mindepth 1 -maxdepth 4 -not -path '*/.ljail/lock' -not -path '*/.ljail/datasets' |
		grep -v "^$LJAIL_POOL/templates/base/\|^$LJAIL_POOL/containers/[a-z]*/" | sort
}

case_clone_isolation() {
	st_template
	t_match "$(jailctl list -H -o name,backend -r templates)" "templates/base	$STORE_BACKEND" "backend"
	[ -x "$(P containers/webserver)/bin/busybox" ] || t_fail "clone has no /bin/busybox"
	echo "web only" >"$(P containers/webserver)/etc/motd"
	rm "$(P containers/webserver)/etc/hosts"
	[ ! -e "$(P containers/database)/etc/motd" ] || t_fail "write in one clone shows in the other"
	[ ! -e "$(P templates/base)/etc/motd" ] || t_fail "write in a clone shows in the template"
	[ -f "$(P containers/database)/etc/hosts" ] || t_fail "delete in one clone shows in the other"
	[ -f "$(P templates/base)/etc/hosts" ] || t_fail "delete in a clone shows in the template"
	t_eq "$(cat "$(P containers/webserver)/etc/motd")" "web only"
	# the template's snapshot is immune to later template changes
	echo changed >"$(P templates/base)/etc/issue"
	t_run 0 jailctl clone templates/base@15.0 containers/third
	[ ! -e "$(P containers/third)/etc/issue" ] || t_fail "snapshot followed the template"
}

case_list_used_refer() {
	st_template
	t_run 0 jailctl list -r
	t_match "$(echo "$T_OUT" | head -n1)" '^NAME +USED +AVAIL +REFER +MOUNTPOINT$' "header"
	t_match "$T_OUT" "containers/webserver +[0-9.]+[BK] +[0-9.]+[KMGT] +[0-9.]+M +$LJAIL_POOL/containers/webserver" "clone row"
	local tref cused cref
	tref=$(jailctl list -Hp -o refer templates/base)
	cused=$(jailctl list -Hp -o used containers/webserver)
	cref=$(jailctl list -Hp -o refer containers/webserver)
	[ "$tref" -gt 1000000 ] || t_fail "template REFER $tref too small (busybox alone is ~2 MB)"
	[ "$cused" -lt 65536 ] || t_fail "fresh clone USED $cused, want about 0"
	# the clone refers to what the template does (within 5%)
	[ $((cref * 100 / tref)) -ge 95 ] && [ $((cref * 100 / tref)) -le 105 ] ||
		t_fail "clone REFER $cref vs template REFER $tref"
	# writing 1 MiB into a clone is charged to that clone only
	head -c 1048576 /dev/urandom >"$(P containers/webserver)/root/blob"
	sync
	local after other
	after=$(jailctl list -Hp -o used containers/webserver)
	other=$(jailctl list -Hp -o used containers/database)
	[ "$after" -ge 1048576 ] || t_fail "USED $after after writing 1 MiB"
	[ "$other" -lt 65536 ] || t_fail "the other clone's USED grew to $other"
	t_run 0 jailctl list -t snapshot
	t_match "$T_OUT" "templates/base@15.0 +[0-9.]+[BKM] +- +[0-9.]+M +-" "snapshot row"
	t_run 0 jailctl list --json containers/webserver
	t_match "$T_OUT" '"name": "containers/webserver", "type": "filesystem"' "json"
	t_match "$T_OUT" '"origin": "templates/base@15.0"' "json origin"
}

case_rollback() {
	st_template
	local web
	web=$(P containers/webserver)
	echo "v1" >"$web/etc/motd"
	t_run 0 jailctl snapshot containers/webserver@before-update
	echo "v2" >"$web/etc/motd"
	rm "$web/etc/passwd" "$web/bin/ls"
	echo new >"$web/root/new-file"
	t_run 0 jailctl snapshot containers/webserver@later
	t_run 1 jailctl rollback containers/webserver@before-update
	t_match "$T_ERR" "cannot rollback to 'containers/webserver@before-update': more recent snapshots or bookmarks exist" "refusal"
	t_match "$T_ERR" "containers/webserver@later" "refusal lists the newer snapshot"
	t_run 0 jailctl rollback -r containers/webserver@before-update
	t_eq "$(cat "$web/etc/motd")" "v1" "rolled-back file"
	[ -f "$web/etc/passwd" ] || t_fail "deleted file not back"
	[ -L "$web/bin/ls" ] || t_fail "deleted symlink not back"
	[ ! -e "$web/root/new-file" ] || t_fail "file made after the snapshot survived"
	t_eq "$(jailctl list -H -t snapshot -o name containers/webserver)" "containers/webserver@before-update"
	# the template rolls back too
	rm "$(P templates/base)/etc/group"
	t_run 0 jailctl rollback templates/base@15.0
	[ -f "$(P templates/base)/etc/group" ] || t_fail "template rollback"
	# and the clones still see their files
	[ -f "$(P containers/database)/etc/group" ] || t_fail "clone lost a file after template rollback"
}

case_destroy_dependents() {
	st_template
	t_run 1 jailctl destroy templates/base@15.0
	t_eq "$T_ERR" "cannot destroy 'templates/base@15.0': snapshot has dependent clones
use '-R' to destroy the following datasets:
containers/webserver
containers/database" "zfs's refusal"
	t_run 1 jailctl destroy templates/base
	t_match "$T_ERR" "cannot destroy 'templates/base': filesystem has children" "fs refusal"
	t_run 1 jailctl destroy -r templates/base
	t_match "$T_ERR" "filesystem has dependent clones" "-r refusal"
	[ -d "$(P containers/webserver)/etc" ] || t_fail "a refused destroy removed something"
	t_run 0 jailctl destroy -R templates/base@15.0
	t_eq "$(jailctl list -H -t all -o name)" "containers
templates
templates/base" "what is left"
	[ ! -e "$(P containers/webserver)" ] || t_fail "clone folder left"
	[ ! -e "$LJAIL_POOL/.ljail/snap/templates/base@15.0" ] || t_fail "snapshot left"
	[ -z "$(ls -A "$LJAIL_POOL/.ljail/ovl")" ] || t_fail "overlay layers left: $(ls -A "$LJAIL_POOL/.ljail/ovl")"
	if grep -q "$LJAIL_POOL/containers" /proc/self/mounts; then t_fail "mount left"; fi
	t_run 0 jailctl destroy -r templates
	t_eq "$(jailctl list -H -o name)" "containers"
	[ ! -e "$(P templates)" ] || t_fail "template folder left"
}

case_export_import() {
	st_template
	local web
	web=$(P containers/webserver)
	mkdir "$web/srv"
	echo data >"$web/srv/file"
	chown 1234:5678 "$web/srv/file"
	chmod 4750 "$web/srv/file"
	setfattr -n user.ljail -v hello "$web/srv/file"
	setfattr -n trusted.ljail -v secret "$web/srv/file"
	mknod "$web/srv/null" c 1 3
	ln "$web/srv/file" "$web/srv/hardlink"
	t_run 0 jailctl snapshot containers/webserver@ship
	echo later >"$web/srv/file"
	t_run 0 jailctl export containers/webserver@ship "$T/web.tar.zst"
	t_match "$(file -b "$T/web.tar.zst" 2>/dev/null || echo Zstandard)" "Zstandard" "format"
	t_run 0 jailctl import "$T/web.tar.zst" containers/copy
	local c
	c=$(P containers/copy)
	t_eq "$(cat "$c/srv/file")" "data" "content is the snapshot's"
	t_eq "$(stat -c '%u:%g %a' "$c/srv/file")" "1234:5678 4750" "owner and mode"
	t_eq "$(getfattr --only-values -n user.ljail "$c/srv/file")" "hello" "user xattr"
	t_eq "$(getfattr --only-values -n trusted.ljail "$c/srv/file")" "secret" "trusted xattr"
	t_eq "$(stat -c '%F %t:%T' "$c/srv/null")" "character special file 1:3" "device node"
	t_eq "$(stat -c %i "$c/srv/file")" "$(stat -c %i "$c/srv/hardlink")" "hard link"
	[ -x "$c/bin/busybox" ] || t_fail "the template's files are in the export"
	# a filesystem (not a snapshot) exports its current state
	t_run 0 jailctl export containers/webserver "$T/live.tar.zst"
	t_run 0 jailctl import "$T/live.tar.zst" live
	t_eq "$(cat "$(P live)/srv/file")" "later"
	# import refuses an existing name and a missing file, and makes nothing
	t_run 1 jailctl import "$T/web.tar.zst" containers/copy
	t_eq "$T_ERR" "cannot create 'containers/copy': dataset already exists"
	t_run 1 jailctl import "$T/missing.tar.zst" other
	t_match "$T_ERR" "cannot import '$T/missing.tar.zst': No such file" "missing file"
	echo "not a tarball" >"$T/junk.tar.zst"
	t_run 1 jailctl import "$T/junk.tar.zst" junk
	[ ! -e "$(P junk)" ] || t_fail "failed import left a folder"
	t_eq "$(jailctl list -H -o name junk 2>&1)" "cannot open 'junk': dataset does not exist"
}

case_export_full_disk() {
	st_template
	mkdir "$T/full"
	mount -t tmpfs -o size=256k tmpfs "$T/full"
	t_defer umount "$T/full"
	t_run 1 jailctl export templates/base@15.0 "$T/full/base.tar.zst"
	t_match "$T_ERR" "^cannot export 'templates/base@15.0' to '$T/full/base.tar.zst': .*No space left on device" "message"
	t_eq "$(ls -A "$T/full")" "" "no partial file"
}

case_bad_input() {
	st_template
	local before
	before=$(st_state)
	t_run 1 jailctl create a/../b
	t_eq "$T_ERR" "cannot create 'a/../b': invalid dataset name: '..' component"
	t_run 1 jailctl create /etc/evil
	t_eq "$T_ERR" "cannot create '/etc/evil': invalid dataset name: leading slash in name"
	t_run 1 jailctl create 'bad$name'
	t_eq "$T_ERR" "cannot create 'bad\$name': invalid dataset name: invalid character '\$' in name"
	t_run 1 jailctl clone templates/base@nope containers/x
	t_eq "$T_ERR" "cannot open 'templates/base@nope': dataset does not exist"
	t_run 1 jailctl clone templates/base@15.0 containers/webserver
	t_eq "$T_ERR" "cannot create 'containers/webserver': dataset already exists"
	t_run 1 jailctl clone templates/base@15.0 nowhere/x
	t_eq "$T_ERR" "cannot create 'nowhere/x': parent does not exist"
	t_run 1 jailctl clone templates/base@15.0 ../escape
	t_match "$T_ERR" "^cannot create '../escape': invalid dataset name" "relative escape"
	t_run 1 jailctl snapshot templates/base@15.0
	t_eq "$T_ERR" "cannot create snapshot 'templates/base@15.0': dataset already exists"
	t_run 1 jailctl snapshot missing@s
	t_eq "$T_ERR" "cannot open 'missing': dataset does not exist"
	t_run 1 jailctl rollback templates/base@nope
	t_eq "$T_ERR" "cannot open 'templates/base@nope': dataset does not exist"
	t_run 1 jailctl destroy templates/base@nope
	t_eq "$T_ERR" "could not find any snapshots to destroy; check snapshot names."
	t_run 1 jailctl create templates/base
	t_eq "$T_ERR" "cannot create 'templates/base': dataset already exists"
	t_run 1 jailctl bootstrap templates/base --busybox
	t_eq "$T_ERR" "cannot bootstrap 'templates/base': dataset is not empty"
	LJAIL_BUSYBOX=$T/no-busybox t_run 1 jailctl bootstrap templates/other --busybox
	t_match "$T_ERR" "no-busybox" "missing busybox"
	t_run 2 jailctl bootstrap templates/x
	t_run 2 jailctl frobnicate
	t_eq "$(st_state)" "$before" "nothing half-made"
	if [ "$STORE_BACKEND" = overlay ]; then
		# a clone whose layers cannot be made is undone: no mountpoint, layer or record
		touch "$LJAIL_POOL/.ljail/ovl/blocked" "$LJAIL_POOL/.ljail/ovl/other"
		t_run 1 jailctl clone templates/base@15.0 blocked
		t_match "$T_ERR" "^cannot create 'blocked': .*already exists" "failed clone"
		[ -f "$LJAIL_POOL/.ljail/ovl/blocked" ] || t_fail "removed what it did not make"
		t_run 0 jailctl create other
		before=$(st_state)
		t_run 1 jailctl clone templates/base@15.0 other/x
		t_match "$T_ERR" "^cannot create 'other/x': .*Not a directory" "failed clone"
		t_eq "$(st_state)" "$before" "nothing half-made by a failed clone"
	fi
}

case_bootstrap_layout() {
	st_pool
	local t0 t1
	t0=$(date +%s%N)
	t_run 0 jailctl bootstrap templates/base --busybox
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 5000 ] || t_fail "busybox bootstrap took $(((t1 - t0) / 1000000)) ms"
	t_match "$T_OUT" '^\[1/3\] creating dataset templates/base' "progress"
	t_match "$T_OUT" '\[3/3\] installing the jail userland' "progress"
	local b
	b=$(P templates/base)
	t_eq "$(readlink "$b/bin/sh")" "/bin/busybox" "applets are links"
	[ -L "$b/usr/sbin/httpd" ] || t_fail "no httpd applet"
	t_eq "$(stat -c %a "$b/tmp")" "1777" "/tmp mode"
	t_eq "$(stat -c %a "$b/root")" "700" "/root mode"
	for f in etc/passwd etc/group etc/hosts etc/rc etc/rc.shutdown etc/rc.subr usr/sbin/sysrc usr/sbin/service var/run; do
		[ -e "$b/$f" ] || t_fail "template has no /$f"
	done
	t_match "$(cat "$b/etc/passwd")" '^root:x:0:0:' "passwd"
	# ljail's own network tools, when this build has them
	if [ -x "$LJAIL_BUILD/ifconfig" ]; then
		cmp "$LJAIL_BUILD/ifconfig" "$b/usr/local/sbin/ifconfig" || t_fail "ifconfig not copied"
		t_eq "$(readlink "$b/sbin/ifconfig")" "/usr/local/sbin/ifconfig" "/sbin/ifconfig is ljail's"
	fi
	# bootstrap fills only an empty dataset
	t_run 0 jailctl create evil
	mkdir -p "$T/outside"
	ln -s "$T/outside" "$(P evil)/etc"
	t_run 1 jailctl bootstrap evil --busybox
	t_eq "$T_ERR" "cannot bootstrap 'evil': dataset is not empty"
	t_eq "$(ls -A "$T/outside")" "" "nothing written outside the root"
	t_eq "$(chroot "$b" /bin/sh -c 'echo $((6*7))')" "42" "the template runs"
}

case_sysrc() {
	st_template
	local w
	w=$(P containers/webserver)
	t_run 0 chroot "$w" sysrc nginx_enable=YES
	t_eq "$T_OUT" "nginx_enable:  -> YES" "first set"
	t_run 0 chroot "$w" sysrc nginx_enable=NO
	t_eq "$T_OUT" "nginx_enable: YES -> NO"
	t_run 0 chroot "$w" sysrc nginx_enable
	t_eq "$T_OUT" "nginx_enable: NO"
	t_run 0 chroot "$w" sysrc -n nginx_enable
	t_eq "$T_OUT" "NO"
	t_eq "$(grep -c nginx_enable "$w/etc/rc.conf")" "1" "one line, edited in place"
	t_run 0 chroot "$w" sysrc cloned_interfaces+=lagg0
	t_run 0 chroot "$w" sysrc cloned_interfaces+=bridge0
	t_eq "$T_OUT" "cloned_interfaces: lagg0 -> lagg0 bridge0"
	t_run 0 chroot "$w" sysrc cloned_interfaces+=bridge0
	t_eq "$T_OUT" "cloned_interfaces: lagg0 bridge0 -> lagg0 bridge0" "+= adds only when absent"
	t_run 0 chroot "$w" sysrc cloned_interfaces-=lagg0
	t_eq "$T_OUT" "cloned_interfaces: lagg0 bridge0 -> bridge0"
	t_run 0 chroot "$w" sysrc 'ifconfig_bridge0=addm vtnet0 up'
	t_eq "$(grep ifconfig_bridge0 "$w/etc/rc.conf")" 'ifconfig_bridge0="addm vtnet0 up"' "quoted value"
	t_run 0 chroot "$w" sysrc -x nginx_enable
	t_run 1 chroot "$w" sysrc nginx_enable
	t_eq "$T_ERR" "sysrc: unknown variable 'nginx_enable'"
	t_run 0 chroot "$w" sysrc -f /etc/other.conf foo=bar
	t_eq "$(cat "$w/etc/other.conf")" 'foo="bar"'
	t_run 0 chroot "$w" sysrc -f /etc/other.conf -e foo
	t_eq "$T_OUT" 'foo="bar"'
	# the template is untouched
	[ -z "$(grep cloned_interfaces "$(P templates/base)/etc/rc.conf")" ] || t_fail "template changed"
}

case_rc_boots_service() {
	st_template
	local w
	w=$(P containers/webserver)
	# whatever /etc/rc started in either clone (chroot, no jail) is ended even if the case fails
	t_defer sh -c "for f in '$w'/var/run/*.pid '$(P containers/database)'/var/run/*.pid; do [ -f \"\$f\" ] && kill \$(cat \"\$f\"); done"
	mount -t proc proc "$w/proc"
	t_defer umount "$w/proc"
	# what a jail gets from ljail's /dev (the dataset itself is mounted nodev)
	mount --bind /dev "$w/dev"
	t_defer umount "$w/dev"
	t_defer sh -c "[ -f '$w/var/run/httpd.pid' ] && kill \$(cat '$w/var/run/httpd.pid')"
	echo "web jail" >"$w/var/www/index.html"
	t_run 0 chroot "$w" sysrc httpd_enable=YES
	t_run 0 chroot "$w" sysrc 'httpd_flags=-h /var/www -p 127.0.0.1:8080'
	# defaults (/etc/defaults/rc.conf) start syslogd and crond; this clone turns crond off
	t_run 0 chroot "$w" sysrc crond_enable=NO
	t_defer sh -c "[ -f '$w/var/run/syslogd.pid' ] && kill \$(cat '$w/var/run/syslogd.pid')"
	t_run 0 chroot "$w" /bin/sh /etc/rc
	t_match "$T_OUT" "^Starting httpd\.$" "rc output"
	t_match "$T_OUT" "^Starting syslogd\.$" "syslogd on by default"
	local i out=
	for i in $(seq 50); do
		out=$(chroot "$w" wget -q -O - http://127.0.0.1:8080/ 2>/dev/null) && break
		sleep 0.1
	done
	t_eq "$out" "web jail" "the enabled service answers"
	t_run 0 chroot "$w" service httpd status
	t_match "$T_OUT" "^httpd is running as pid [0-9]+\.$" "service status"
	t_run 1 chroot "$w" service httpd start
	t_match "$T_ERR" "httpd already running\?  \(pid=[0-9]+\)\." "double start"
	# a service not enabled is not started, and says how to
	t_run 0 chroot "$w" service crond start
	t_eq "$T_OUT" "Cannot 'start' crond. Set crond_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'."
	t_run 0 chroot "$w" service crond enable
	t_eq "$T_OUT" "crond enabled in /etc/rc.conf"
	t_eq "$(chroot "$w" sysrc -n crond_enable)" "YES" "service enable edits rc.conf"
	t_run 0 chroot "$w" service crond disable
	t_run 1 chroot "$w" service nosuch start
	t_match "$T_OUT" "nosuch does not exist in /etc/rc.d or the local startup" "missing script"
	t_run 0 chroot "$w" /bin/sh /etc/rc.shutdown
	t_match "$T_OUT" "Stopping httpd\." "rc.shutdown output"
	if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
		t_fail "httpd still answers after rc.shutdown"
	fi
	# the other clone boots with nothing enabled
	# the other clone boots with only the defaults: syslogd and crond, as a FreeBSD jail does
	local db
	db=$(P containers/database)
	mount --bind /dev "$db/dev"
	t_defer umount "$db/dev"
	t_run 0 chroot "$db" /bin/sh /etc/rc
	t_eq "$(echo "$T_OUT" | grep '^Starting' | sort | tr '\n' ' ')" "Starting crond. Starting syslogd. " "defaults"
	t_run 0 chroot "$db" /bin/sh /etc/rc.shutdown
	t_match "$T_OUT" "Stopping crond\." "rc.shutdown stops the defaults"
}

case_mount_all() {
	st_template
	echo keep >"$(P containers/webserver)/etc/motd"
	t_run 0 jailctl umount -a
	if [ "$STORE_BACKEND" = overlay ]; then
		if grep -q " $LJAIL_POOL/containers/webserver " /proc/self/mounts; then t_fail "still mounted"; fi
		t_eq "$(jailctl list -H -o mounted containers/webserver)" "no"
	fi
	t_run 0 jailctl mount -a
	t_eq "$(cat "$(P containers/webserver)/etc/motd")" "keep" "content after remount"
	t_eq "$(jailctl list -H -o mounted containers/webserver)" "yes"
	# by a jail's path, as the lifecycle asks for it
	t_run 0 jailctl umount containers/webserver
	t_run 0 jailctl mount "$(P containers/webserver)"
	t_eq "$(cat "$(P containers/webserver)/etc/motd")" "keep" "mounted by path"
	t_run 1 jailctl mount "$T"
	t_eq "$T_ERR" "cannot mount '$T': not the mountpoint of a dataset"
	# mount on demand: a verb that needs the files mounts them
	t_run 0 jailctl umount containers/webserver
	t_run 0 jailctl export containers/webserver "$T/w.tar.zst"
	t_eq "$(jailctl list -H -o mounted containers/webserver)" "yes"
}

case_snapshot_of_clone_and_clone_of_that() {
	st_template
	local w
	w=$(P containers/webserver)
	echo layer1 >"$w/etc/motd"
	rm "$w/etc/hosts"
	t_run 0 jailctl snapshot containers/webserver@s1
	t_run 0 jailctl clone containers/webserver@s1 containers/web2
	t_eq "$(cat "$(P containers/web2)/etc/motd")" "layer1"
	[ ! -e "$(P containers/web2)/etc/hosts" ] || t_fail "deletion in the origin clone not carried"
	[ -x "$(P containers/web2)/bin/busybox" ] || t_fail "template files missing in a clone of a clone"
	if [ "$STORE_BACKEND" = overlay ]; then
		# the snapshot of a clone holds only its upper layer
		local s
		s=$(du -sk "$LJAIL_POOL/.ljail/snap/containers/webserver@s1" | cut -f1)
		[ "$s" -lt 200 ] || t_fail "snapshot of a clone copied ${s}K"
	fi
	t_run 1 jailctl destroy containers/webserver
	t_match "$T_ERR" "filesystem has children" "refuses"
	t_run 0 jailctl destroy -R containers/webserver
	t_eq "$(jailctl list -H -o name -r containers)" "containers
containers/database"
}

# overlay only: a rollback copies, so a full disk must leave the dataset as it was
case_rollback_full_disk() {
	mkdir "$T/small"
	mount -t tmpfs -o size=64m tmpfs "$T/small"
	t_defer umount -l "$T/small"
	export LJAIL_POOL=$T/small/pool
	t_run 0 jailctl bootstrap templates/base --busybox
	t_run 0 jailctl snapshot templates/base@1
	rm "$(P templates/base)/etc/passwd"
	echo after >"$(P templates/base)/etc/motd"
	# leave room for half a copy of the template, whatever size the template has
	local size free
	size=$(du -sk "$(P templates/base)" | cut -f1)
	free=$(df -k --output=avail "$T/small" | tail -n1)
	fallocate -l "$((free - size / 2))K" "$T/small/filler"
	t_run 1 jailctl rollback templates/base@1
	t_match "$T_ERR" "^cannot rollback to 'templates/base@1': .*No space left on device" "message"
	[ ! -e "$(P templates/base)/etc/passwd" ] && [ -f "$(P templates/base)/etc/motd" ] ||
		t_fail "a failed rollback changed the dataset"
	t_eq "$(ls -A "$LJAIL_POOL/.ljail/tmp")" "" "no partial copy left"
}

case_dir_backend_thick() {
	export LJAIL_BACKEND=dir
	t_run 0 jailctl bootstrap templates/base --busybox
	t_run 0 jailctl snapshot templates/base@1
	t_run 0 jailctl clone -p templates/base@1 containers/thick
	t_eq "$(jailctl list -H -o backend containers/thick)" "dir"
	if grep -q " $LJAIL_POOL/containers/thick " /proc/self/mounts; then t_fail "a thick jail is a mount"; fi
	echo x >"$(P containers/thick)/etc/motd"
	[ ! -e "$(P templates/base)/etc/motd" ] || t_fail "thick clone shares files"
	local used refer
	used=$(jailctl list -Hp -o used containers/thick)
	refer=$(jailctl list -Hp -o refer containers/thick)
	[ "$used" -ge $((refer * 9 / 10)) ] || t_fail "a thick clone USES its whole size ($used vs $refer)"
	t_run 0 jailctl destroy -R templates/base@1
	[ ! -e "$(P containers/thick)" ] || t_fail "thick clone left"
}

case_running_jail_snapshot_rollback() {
	[ -x "$LJAIL_BUILD/jail" ] && [ -x "$LJAIL_BUILD/jexec" ] || t_skip "jail/jexec not built"
	st_template
	local w
	w=$(P containers/webserver)
	t_run 0 chroot "$w" sysrc httpd_enable=YES 'httpd_flags=-h /var/www -p 127.0.0.1:8080'
	# the tutorial's global exec.start/exec.stop
	local params=(name=webserver "path=$w" persist mount.devfs ip4=inherit
		"exec.start=/bin/sh /etc/rc" "exec.stop=/bin/sh /etc/rc.shutdown")
	t_defer jail -r webserver
	t_run 0 jail -c "${params[@]}"
	t_match "$T_OUT" "Starting httpd\." "the jail booted with /etc/rc"
	t_eq "$(jexec webserver wget -q -O - http://127.0.0.1:8080/)" "$(cat "$w/var/www/index.html")" "service in the jail"
	t_run 0 jailctl snapshot containers/webserver@before-update
	t_run 1 jailctl rollback containers/webserver@before-update
	t_eq "$T_ERR" "cannot rollback 'containers/webserver': dataset is busy (a running jail's root is $w)"
	t_run 1 jailctl destroy -R templates/base@15.0
	t_eq "$T_ERR" "cannot destroy 'containers/webserver': dataset is busy (a running jail's root is $w)"
	[ -d "$(P containers/database)/etc" ] || t_fail "a refused destroy removed a clone"
	t_run 0 jexec webserver /bin/sh -c 'rm /etc/passwd /var/www/index.html; echo changed >/etc/motd'
	[ ! -e "$w/etc/passwd" ] || t_fail "change inside the jail not seen on the host"
	t_run 0 jail -r webserver
	t_run 0 jailctl rollback containers/webserver@before-update
	[ -f "$w/etc/passwd" ] && [ -f "$w/var/www/index.html" ] || t_fail "deleted files not back"
	[ ! -e "$w/etc/motd" ] || t_fail "file made in the jail survived the rollback"
	t_run 0 jail -c "${params[@]}"
	t_match "$(jexec webserver wget -q -O - http://127.0.0.1:8080/)" "It works" "service after rollback"
	t_run 0 jail -r webserver
}

[ -n "${STORE_AS_LIB:-}" ] || t_main "$@"
