#!/usr/bin/env bash
# `service jail start|stop|restart|status [NAMES]` (etc/init.d/jail.in, FreeBSD's rc.d/jail) and
# service jails (etc/ljail-svcj.in, FreeBSD 15's NAME_svcj), through the built scripts.
. "$(dirname "$0")/../lib/lib.sh"

svc() { sh "$LJAIL_BUILD/etc/init.d/jail" "$@"; }
svcj() { sh "$LJAIL_BUILD/etc/ljail-svcj" "$@"; }

# Two jails in $T/jail.conf, a third in $T/etc/jail.conf.d/extra.conf; rc.conf in $T/rc.conf.
setup() {
	t_defer t_cleanup_jails
	mkdir -p "$T/etc/jail.conf.d"
	cat >"$T/jail.conf" <<EOF
path = "/";
persist;
exec.prestart = "echo prestart \$name";
webserver { host.hostname = "webserver"; }
database { host.hostname = "database"; }
bad { exec.prestart = "false"; }
EOF
	cat >"$T/etc/jail.conf.d/extra.conf" <<EOF
extra { path = "/"; persist; host.hostname = "extra.example"; }
EOF
	export LJAIL_RC_FILES=$T/rc.conf LJAIL_SBIN=$LJAIL_BUILD LJAIL_ID_DIR=$T/run LJAIL_ETC=$T/etc
	printf 'jail_enable="YES"\njail_conf="%s"\n' "$T/jail.conf" >"$T/rc.conf"
}
rc() { printf '%s\n' "$@" >>"$T/rc.conf"; }

case_disabled() {
	setup
	printf 'jail_enable="NO"\njail_conf="%s"\n' "$T/jail.conf" >"$T/rc.conf"
	t_run 0 svc start
	t_eq "$T_OUT" "Cannot 'start' jail. Set jail_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'."
	t_eq "$(jls name)" "" "nothing started"
	t_run 0 svc stop
	t_eq "$T_OUT" "Cannot 'stop' jail. Set jail_enable to YES in /etc/rc.conf or use 'onestop' instead of 'stop'."
	t_run 0 svc onestart webserver
	t_eq "$T_OUT" "Starting jails: webserver."
	t_run 0 svc onestop webserver
	t_eq "$T_OUT" "Stopping jails: webserver."
	printf 'jail_enable="maybe"\njail_conf="%s"\n' "$T/jail.conf" >"$T/rc.conf"
	t_run 0 svc start
	t_eq "$T_ERR" "$LJAIL_BUILD/etc/init.d/jail: WARNING: \$jail_enable is not set properly - see rc.conf(5)."
}

case_start_stop_list() {
	setup
	rc 'jail_list="webserver database"'
	t_run 0 svc start
	t_eq "$T_OUT" "Starting jails: webserver database."
	t_eq "$(jls name | tr '\n' ' ')" "webserver database " "started in jail_list's order"
	local j
	for j in webserver database; do
		t_eq "$(cat "$T/run/jail_$j.id")" "$(jls -j $j jid)" "jail_$j.id"
	done
	t_run 0 svc status
	t_eq "$T_OUT" "$(jls -N)" "status is jls -N"
	t_match "$T_OUT" '^ +JID +IP Address +Hostname +Path'
	# started again: a second `start` reports the failure per jail, keeps the first ones
	t_run 0 svc stop
	t_eq "$T_OUT" "Stopping jails: webserver database."
	t_eq "$(jls name)" "" "all stopped"
	[ ! -e "$T/run/jail_webserver.id" ] || t_fail ".id file left after stop"
	rc 'jail_reverse_stop="YES"'
	t_run 0 svc start
	t_run 0 svc stop
	t_eq "$T_OUT" "Stopping jails: database webserver." "jail_reverse_stop"
}

case_start_stop_all() {
	setup
	# without jail_list: every jail of jail_conf in one jail(8) -c (the bad one fails)
	sed -i '/^bad /d' "$T/jail.conf"
	t_run 0 svc start
	t_eq "$T_OUT" "Starting jails: webserver database."
	t_eq "$(cat "$T/run/jail_database.id")" "$(jls -j database jid)"
	rc 'jail_reverse_stop="YES"'
	t_run 0 svc stop
	t_eq "$T_OUT" "Stopping jails: database webserver."
	t_eq "$(jls name)" ""
	rc 'jail_parallel_start="YES"'
	t_run 0 svc start
	t_match "$T_OUT" '^Starting jails: (webserver database|database webserver)\.$' "parallel"
	t_eq "$(jls name | sort | tr '\n' ' ')" "database webserver "
	t_run 0 svc stop
}

case_named_and_confdir() {
	setup
	t_run 0 svc start webserver extra
	t_eq "$T_OUT" "Starting jails: webserver extra."
	t_eq "$(jls -j extra host.hostname)" "extra.example" "extra from jail.conf.d/extra.conf"
	t_eq "$(cat "$T/run/jail_extra.id")" "$(jls -j extra jid)"
	# a jail that is not running is skipped when stopping by name
	t_run 0 svc stop database extra
	t_eq "$T_OUT" "Stopping jails: extra."
	t_run 0 svc restart webserver
	t_eq "$T_OUT" $'Stopping jails: webserver.\nStarting jails: webserver.'
	# jail_NAME_conf wins over jail.conf
	printf 'database { path = "/"; persist; host.hostname = "db.own"; }\n' >"$T/db.conf"
	rc "jail_database_conf=\"$T/db.conf\""
	t_run 0 svc start database
	t_eq "$(jls -j database host.hostname)" "db.own" "jail_database_conf"
	# /etc/jail.NAME.conf
	printf 'solo { path = "/"; persist; }\n' >"$T/etc/jail.solo.conf"
	t_run 0 svc start solo
	t_eq "$T_OUT" "Starting jails: solo."
	t_run 0 svc stop webserver database solo
	t_eq "$T_OUT" "Stopping jails: webserver database solo."
	t_eq "$(jls name)" ""
}

case_failure_and_parallel_named() {
	setup
	t_run 0 svc start webserver bad database
	t_match "$T_OUT" '^Starting jails: webserver cannot start jail "bad": $'
	t_match "$T_OUT" '^jail: bad: false: failed$' "jail(8)'s message"
	t_match "$T_OUT" ' database\.$'
	t_eq "$(jls name | sort | tr '\n' ' ')" "database webserver " "the others started"
	[ ! -e "$T/run/jail_bad.id" ] || t_fail "id file for a failed jail"
	t_run 0 svc stop
	rc 'jail_parallel_start="YES"'
	t_run 0 svc start webserver database
	t_eq "$T_OUT" "Starting jails: webserver database." "parallel named start prints in the given order"
	t_run 0 svc stop webserver database
}

# ---------------------------------------------------------------------------- service jails
# A host service: busybox httpd on 127.0.0.1:8088, its script in $T/rc.d (standing in for /etc/init.d).
svcj_setup() {
	command -v busybox >/dev/null || t_skip "busybox missing (scripts/deps.sh check)"
	command -v curl >/dev/null || t_skip "curl missing (scripts/deps.sh demo)"
	t_defer t_cleanup_jails
	mkdir -p "$T/rc.d" "$T/www" "$T/log"
	mount --bind "$T/log" /var/log # exec.consolelog=/var/log/svcj_NAME_console.log, this case's only
	t_defer umount -l /var/log
	echo "served by demohttpd" >"$T/www/index.html"
	cat >"$T/rc.d/demohttpd" <<EOF
#!/bin/sh
pidfile=$T/demohttpd.pid
case \$1 in
start) echo "Starting demohttpd."
	busybox httpd -f -p 127.0.0.1:8088 -h $T/www </dev/null >/dev/null 2>&1 &
	echo \$! >\$pidfile ;;
stop) echo "Stopping demohttpd."; kill \$(cat \$pidfile) && rm -f \$pidfile ;;
status) if [ -f \$pidfile ] && kill -0 \$(cat \$pidfile) 2>/dev/null; then
		echo "demohttpd is running as pid \$(cat \$pidfile)."
	else echo "demohttpd is not running."; exit 1; fi ;;
*) echo "usage: demohttpd start|stop|status" >&2; exit 1 ;;
esac
EOF
	chmod +x "$T/rc.d/demohttpd"
	t_defer sh -c "[ -f $T/demohttpd.pid ] && kill \$(cat $T/demohttpd.pid)"
	export LJAIL_RC_FILES=$T/rc.conf LJAIL_SBIN=$LJAIL_BUILD LJAIL_SVCJ_DIRS=$T/rc.d
	: >"$T/rc.conf"
}
fetch() { curl -s -m 2 http://127.0.0.1:8088/ 2>/dev/null; }

case_svcj_off_runs_on_the_host() {
	svcj_setup
	t_run 0 svcj demohttpd start
	t_eq "$T_OUT" "Starting demohttpd."
	wait_fetch || t_fail "service does not answer"
	t_eq "$(jls name)" "" "no service jail without demohttpd_svcj"
	t_eq "$(readlink /proc/"$(cat "$T/demohttpd.pid")"/ns/pid)" "$(readlink /proc/self/ns/pid)" "on the host"
	t_run 0 svcj demohttpd stop
	t_run 1 svcj nosuch start
	t_eq "$T_OUT" $'nosuch does not exist in /etc/rc.d or the local startup\ndirectories (/usr/local/etc/rc.d), or is not executable'
}

wait_fetch() {
	local i
	for i in $(seq 50); do fetch >/dev/null && return 0; sleep 0.1; done
	return 1
}

case_svcj_netv4_confined() {
	svcj_setup
	printf 'demohttpd_svcj="YES"\ndemohttpd_svcj_options="netv4"\n' >"$T/rc.conf"
	t_run 0 svcj demohttpd start
	t_eq "$T_OUT" "Starting demohttpd."
	t_eq "$(jls name)" "svcj-demohttpd" "the service jail"
	t_eq "$(jls -j svcj-demohttpd path)" "/" "path=/"
	t_eq "$(jls -j svcj-demohttpd host)" "inherit" "host=inherit"
	t_eq "$(jexec svcj-demohttpd hostname)" "$(hostname)" "the host's name inside"
	t_eq "$(jls -j svcj-demohttpd ip4)" "inherit" "netv4: ip4=inherit"
	t_eq "$(jls -j svcj-demohttpd ip6)" "disable" "no netv6"
	t_eq "$(jls -j svcj-demohttpd allow.reserved_ports)" "true"
	wait_fetch || t_fail "the jailed service does not answer"
	t_eq "$(fetch)" "served by demohttpd" "its page, over the host's network"
	# the daemon runs inside the jail: another PID namespace, the jail's cgroup
	local pid
	pid=$(pgrep -f 'httpd -f -p 127.0.0.1:8088' | head -n1)
	[ -n "$pid" ] || t_fail "no daemon process"
	[ "$(readlink /proc/"$pid"/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || t_fail "the daemon is not jailed"
	t_run 0 svcj demohttpd status
	t_match "$T_OUT" '^demohttpd is running as pid [0-9]+\.$' "status inside the jail"
	t_run 1 svcj demohttpd start
	t_eq "$T_ERR" "demohttpd already running?  (jail svcj-demohttpd)."
	t_match "$(cat "$T/log/svcj_demohttpd_console.log")" "Starting demohttpd." "console log"
	t_run 0 svcj demohttpd stop
	t_eq "$T_OUT" "Stopping demohttpd."
	t_eq "$(jls name)" "" "the jail is gone"
	if fetch >/dev/null; then t_fail "still answering after stop"; fi
	kill -0 "$pid" 2>/dev/null && t_fail "daemon survived"
	t_run 1 svcj demohttpd stop
	t_eq "$T_ERR" "demohttpd not running? (jail svcj-demohttpd)."
	t_run 1 svcj demohttpd status
	t_eq "$T_OUT" "demohttpd is not running."
}

case_svcj_without_net_has_no_ipv4() {
	svcj_setup
	# a daemon that needs no network: without a net option the jail has no IPv4 at all
	cat >"$T/rc.d/demosleep" <<EOF
#!/bin/sh
case \$1 in
start) echo "Starting demosleep."; sleep 1000 </dev/null >/dev/null 2>&1 & echo \$! >$T/demosleep.pid ;;
stop) echo "Stopping demosleep."; kill \$(cat $T/demosleep.pid) ;;
esac
EOF
	chmod +x "$T/rc.d/demosleep"
	printf 'svcj_all_enable="YES"\ndemosleep_svcj_options="sysvipcnew mlock"\n' >"$T/rc.conf"
	t_run 0 svcj demosleep start
	t_eq "$(jls -j svcj-demosleep ip4)" "disable" "no net option: ip4=disable"
	t_eq "$(jls -j svcj-demosleep sysvshm)" "new" "sysvipcnew"
	t_eq "$(jls -j svcj-demosleep allow.mlock)" "true" "mlock"
	svcj demosleep stop >/dev/null 2>&1 || true
	t_eq "$(jls name)" "" "gone"
	# httpd needs IPv4: confined without netv4 it cannot bind, and the jail ends with it
	printf 'svcj_all_enable="YES"\n' >"$T/rc.conf"
	t_run 1 svcj demohttpd start
	t_eq "$(jls name)" "" "nothing left after the failed start"
	# a per-service NO wins over svcj_all_enable
	printf 'svcj_all_enable="YES"\ndemohttpd_svcj="NO"\n' >"$T/rc.conf"
	t_run 0 svcj demohttpd start
	t_eq "$(jls name)" "" "demohttpd_svcj=NO"
	wait_fetch || t_fail "not started on the host"
	t_run 0 svcj demohttpd stop
}

# ip4=disable enforced: the daemon cannot serve IPv4 (needs jail(8) to apply ip4/ip6 to the jail)
case_svcj_without_net_enforced() {
	svcj_setup
	command -v python3 >/dev/null || t_skip "python3 missing"
	local probe='import socket; socket.socket(socket.AF_INET)'
	jail -c name=probe path=/ ip4=disable persist >/dev/null
	if jexec probe python3 -c "$probe" 2>/dev/null; then
		jail -r probe >/dev/null
		t_skip "jail(8) does not enforce ip4=disable yet: AF_INET sockets work in such a jail"
	fi
	jail -r probe >/dev/null
	printf 'demohttpd_svcj="YES"\n' >"$T/rc.conf"
	svcj demohttpd start >/dev/null 2>&1 || true
	sleep 0.5
	if fetch >/dev/null; then t_fail "a service jail without netv4 serves IPv4"; fi
	svcj demohttpd stop >/dev/null 2>&1 || true
}

case_svcj_bad_options() {
	svcj_setup
	printf 'demohttpd_svcj="YES"\ndemohttpd_svcj_options="netv4 bogus"\n' >"$T/rc.conf"
	t_run 1 svcj demohttpd start
	t_eq "$T_ERR" "demohttpd: unknown service jail option: bogus"
	t_eq "$(jls name)" "" "nothing made"
	printf 'demohttpd_svcj="YES"\ndemohttpd_svcj_options="sysvipc sysvipcnew"\n' >"$T/rc.conf"
	t_run 1 svcj demohttpd start
	t_eq "$(jls name)" "" "nothing made"
	printf 'demohttpd_svcj="YES"\ndemohttpd_svcj_ipaddrs="127.0.0.1"\n' >"$T/rc.conf"
	t_run 0 svcj demohttpd start
	t_eq "$(jls -j svcj-demohttpd ip4.addr)" "127.0.0.1" "svcj_ipaddrs"
	t_eq "$(jls -j svcj-demohttpd ip4)" "new"
	wait_fetch || t_fail "not reachable on its own address"
	t_run 0 svcj demohttpd stop
}

t_main "$@"
