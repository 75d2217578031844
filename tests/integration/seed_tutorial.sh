#!/usr/bin/env bash
# The seed tutorial (shared/seed/000_...txt) end to end, asserting what a reader checks at every step:
# the tutorial's own jail.conf (its paths moved from /jails into the case's pool) and pf.conf
# (examples/seed/), `service jail start`, jls, the jails'
# interfaces and routes, jail-to-jail ping, a web page from inside and from the LAN, pf verdicts
# with real connections, cpuset, a snapshot and rollback of the running webserver, and nothing left
# afterwards.
#   case_busybox_*: always runs (busybox httpd for nginx, busybox nc for PostgreSQL's port).
#   case_debian_*: nginx and PostgreSQL 15 in a Debian template; needs LJ_TEST_DEBIAN=1 or the
#     package cache of an earlier run (as store_debian.sh: $LJ_TEST_DEBIAN_CACHE,
#     /var/cache/ljail-test). debootstrap and apt-get run in the machine's network namespace.
. "$(dirname "$0")/../lib/lib.sh"
. "$T_TOP/tests/lib/topology.sh"
. "$T_TOP/examples/seed/seed-lib.sh"
cache=${LJ_TEST_DEBIAN_CACHE:-/var/cache/ljail-test}
suite=${LJ_TEST_DEBIAN_SUITE:-bookworm}
[ "${1:-}" = --in-sandbox ] || export LJ_TEST_OUTER_PID=$$
with_apt_net() { nsenter --net="/proc/$LJ_TEST_OUTER_PID/ns/net" -- "$@"; }

t_cleanup_all() {
	svc onestop >/dev/null 2>&1 || true
	local j
	for j in $(jls name 2>/dev/null); do jail -R "$j" >/dev/null 2>&1 || true; done
	pfctl -F all >/dev/null 2>&1 || true
}

# The tutorial up to `service jail start`; FLAVOR busybox|debian.
seed_up() {
	command -v busybox >/dev/null || t_skip "busybox missing (scripts/deps.sh check)"
	topo_up
	topo_tools_check
	seed_sandbox_fs "$T/s" "$LJAIL_POOL"
	P=$LJAIL_POOL
	t_defer t_cleanup_all
	if [ "$1" = busybox ]; then
		seed_template busybox >"$T/template.log" 2>&1 || { cat "$T/template.log" >&2; t_fail "template"; }
	else
		export LJAIL_CACHE=$cache
		# the downloads (debootstrap, apt-get) in the machine's network namespace
		jailctl() { if [ "$1" = bootstrap ]; then with_apt_net "$LJAIL_BUILD/jailctl" "$@"; else command jailctl "$@"; fi; }
		seed_template debian "$suite" nginx-light,postgresql-15,curl,iputils-ping,cron,procps \
			>"$T/template.log" 2>&1 || { tail -n 30 "$T/template.log" >&2; t_fail "template"; }
		unset -f jailctl
	fi
	t_run 0 jailctl list -r
	t_match "$T_OUT" "^containers/database +[0-9.]+[BK] .* $P/containers/database\$" "a fresh clone uses ~0"
	t_match "$T_OUT" "^containers/webserver +[0-9.]+[BK] .* $P/containers/webserver\$"
	# the tutorial's files; the jails' paths in the case's own pool instead of /jails
	sed "s|\"/jails/|\"$P/|" "$SEED_DIR/jail.conf" >"$T/jail.conf"
	grep -q "path = \"$P/containers/webserver\";" "$T/jail.conf" || t_fail "jail.conf paths"
	cp "$SEED_DIR/pf.conf" "$T/"
	seed_rc_conf "$T/rc.conf"
	export LJAIL_ID_DIR=$T/run
	t_run 0 "$SEED_SYSRC" -f "$SEED_RC" jail_enable=YES
	t_eq "$T_OUT" "jail_enable:  -> YES"
	t_run 0 "$SEED_SYSRC" -f "$SEED_RC" jail_parallel_start=YES "jail_conf=$T/jail.conf"
	t_run 0 svc start
	# parallel start: either order
	t_match "$T_OUT" '^Starting jails: (webserver database|database webserver)\.$' "service jail start"
	t_run 0 jls
	t_match "$T_OUT" '^   JID  IP Address      Hostname                      Path'
	t_match "$T_OUT" "^ +[0-9]+                  webserver                     $P/containers/webserver\$" "jls"
	t_match "$T_OUT" "^ +[0-9]+                  database                      $P/containers/database\$" "jls"
	t_run 0 jls -h jid name host.hostname path vnet
	t_match "$T_OUT" '^jid name host.hostname path vnet'
	t_match "$T_OUT" "^[0-9]+ webserver webserver $P/containers/webserver new\$" "jls -h"
	t_match "$T_OUT" "^[0-9]+ database database $P/containers/database new\$" "jls -h"
	local j
	for j in webserver database; do
		[ "$(cat "$T/run/jail_$j.id")" = "$(jls -j $j jid)" ] || t_fail "jail_$j.id"
	done
}

seed_network() {
	t_run 0 jexec webserver ifconfig epair1b
	t_match "$T_OUT" '^epair1b: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500'
	t_match "$T_OUT" $'^\tinet 192.168.1.201 netmask 0xffffff00 broadcast 192.168.1.255$'
	t_run 0 jexec database ifconfig epair2b
	t_match "$T_OUT" $'^\tinet 192.168.1.202 netmask 0xffffff00 broadcast 192.168.1.255$'
	# each jail sees only its own cable
	t_run 1 jexec webserver ifconfig epair2b
	t_run 0 jexec webserver netstat -rn
	t_match "$T_OUT" '^default            192.168.1.1        UGS         epair1b$' "netstat -rn"
	t_match "$T_OUT" '^192.168.1.0/24     link#[0-9]+ +U           epair1b$'
	t_run 0 jexec webserver ping -c 2 192.168.1.202
	t_match "$T_OUT" '2 packets transmitted, 2 (packets )?received, 0(\.0)?% packet loss' "jail-to-jail ping"
	t_run 0 jexec database ping -c 1 192.168.1.1
}

# reach FROM ADDR PORT: a TCP connection made from FROM (client|webserver) gets the listener's "hello"
reach() {
	local out
	if [ "$1" = client ]; then
		out=$(topo_client timeout 5 busybox nc -w 2 "$2" "$3" </dev/null 2>/dev/null) || true
	else
		out=$(timeout 5 jexec "$1" nc -w 2 "$2" "$3" </dev/null 2>/dev/null) || true
	fi
	[ "$out" = hello ]
}

# The tutorial's pf.conf with real connections; a listener on 5432 in the database jail.
seed_pf() {
	t_run 0 pfctl -f "$T/pf.conf"
	t_run 0 pfctl -e
	t_run 0 pfctl -s rules
	t_eq "$T_OUT" 'block drop in log all
pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = http flags S/SA keep state
pass in on vtnet0 inet proto tcp from any to 192.168.1.201 port = https flags S/SA keep state
pass in on vtnet0 proto tcp from any to any port = ssh flags S/SA keep state
pass in on bridge0 inet proto tcp from 192.168.1.201 to 192.168.1.202 port = postgresql flags S/SA keep state
pass out all flags S/SA keep state
pass inet proto icmp all keep state' "pfctl -s rules"
	reach webserver 192.168.1.202 5432 || t_fail "webserver -> database:5432 blocked"
	if reach client 192.168.1.202 5432; then t_fail "LAN -> database:5432 passed"; fi
	topo_client ping -c 1 -W 2 192.168.1.202 >/dev/null || t_fail "ICMP from the LAN blocked"
}

seed_cpuset() {
	local jid mask=0-1 want="0, 1"
	[ "$(nproc)" -ge 2 ] || { mask=0; want=0; }
	jid=$(jls -j webserver jid)
	t_run 0 cpuset -l "$mask" -j "$jid"
	t_run 0 cpuset -g -j "$jid"
	t_eq "$(echo "$T_OUT" | head -n1)" "jail $jid mask: $want" "cpuset -g -j"
	# the jail's processes follow
	t_run 0 jexec webserver grep Cpus_allowed_list /proc/self/status
	t_match "$T_OUT" "Cpus_allowed_list:[[:space:]]+$mask\$" "affinity inside the jail"
}

# seed_snapshot_rollback FILE FETCH...: snapshot the running webserver, break FILE, roll back
seed_snapshot_rollback() {
	local file=$1 before after
	shift
	before=$("$@")
	t_run 0 jailctl snapshot containers/webserver@before-update
	t_run 0 jailctl list -t snapshot -r containers
	t_match "$T_OUT" '^containers/webserver@before-update +' "snapshot listed"
	t_run 0 jexec webserver sh -c "echo broken >$file"
	t_eq "$("$@")" broken "the page after the change"
	t_run 0 svc stop webserver
	t_eq "$T_OUT" "Stopping jails: webserver."
	t_run 0 jailctl rollback containers/webserver@before-update
	t_run 0 svc start webserver
	t_eq "$T_OUT" "Starting jails: webserver."
	wait_for "$@"
	after=$("$@")
	t_eq "$after" "$before" "the rolled-back page"
}

# Everything the jails made is gone: jails, their cables, cgroups, records, mounts under the pool
seed_down() {
	t_run 0 svc stop
	t_match "$T_OUT" '^Stopping jails: (database webserver|webserver database)\.$' "service jail stop"
	t_eq "$(jls name)" "" "jails left"
	# the pairs die with the jails' network namespaces, a few ms after jail(8) returned
	local i
	for i in $(seq 1 40); do
		ip -o link show | grep -q epair || break
		sleep 0.05
	done
	t_eq "$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')" \
		"bridge0 lo vtnet0 " "links left"
	if compgen -G "$T/run/jail_*.id" >/dev/null; then t_fail ".id files left: $(ls "$T/run")"; fi
	local d
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"; do
		[ -d "$d" ] || continue
		[ -z "$(find "$d" -mindepth 1 -type d)" ] || t_fail "cgroups left under $d"
	done
	t_run 0 pfctl -F all
	t_run 0 jailctl destroy -R templates/base@15.0
	t_run 0 jailctl destroy -r templates
	t_run 0 jailctl destroy -r containers
	[ -z "$(awk -v d="$P/" 'index($2, d) == 1 {print $2}' /proc/self/mounts)" ] || t_fail "mounts left in the pool"
}

case_busybox_tutorial() {
	seed_up busybox
	seed_network
	# "nginx": busybox httpd, enabled with sysrc and started with service(8) in the jail
	t_run 0 jexec webserver sysrc httpd_enable=YES
	t_eq "$T_OUT" "httpd_enable:  -> YES"
	t_run 0 jexec webserver service httpd start
	t_eq "$T_OUT" "Starting httpd."
	wait_for jexec webserver wget -qO- http://localhost/ || t_fail "httpd does not answer"
	t_match "$(jexec webserver wget -qO- http://localhost/)" "It works" "page inside the jail"
	t_match "$(topo_client wget -qO- http://192.168.1.201/)" "It works" "page from the LAN client"
	# "PostgreSQL": a listener on 5432 in the database jail
	printf '#!/bin/sh\necho hello\n' >"$P/containers/database/usr/bin/hello"
	chmod +x "$P/containers/database/usr/bin/hello"
	t_run 0 jexec database sh -c 'nc -ll -p 5432 -e /usr/bin/hello </dev/null >/dev/null 2>&1 &'
	wait_for reach webserver 192.168.1.202 5432 || t_fail "no listener on 5432"
	seed_pf
	# the web page still passes pf, from the LAN
	t_match "$(topo_client wget -qO- -T 3 http://192.168.1.201/)" "It works" "LAN -> webserver:80 through pf"
	seed_cpuset
	seed_snapshot_rollback /var/www/index.html jexec webserver wget -qO- http://localhost/
	seed_down
}

debian_wanted() {
	[ "${LJ_TEST_DEBIAN:-}" = 1 ] && return 0
	[ "${LJ_TEST_DEBIAN:-}" = 0 ] && t_skip "LJ_TEST_DEBIAN=0"
	ls "$cache"/debootstrap/*.deb >/dev/null 2>&1 ||
		t_skip "no package cache in $cache: set LJ_TEST_DEBIAN=1 to build a Debian template"
	command -v debootstrap >/dev/null || t_skip "debootstrap missing (scripts/deps.sh demo)"
}

pg() { jexec database su postgres -s /bin/sh -c "$*"; }

case_debian_tutorial() {
	debian_wanted
	seed_up debian
	seed_network
	t_run 0 jexec webserver sysrc nginx_enable=YES
	t_eq "$T_OUT" "nginx_enable:  -> YES"
	t_run 0 jexec webserver service nginx start
	wait_for jexec webserver curl -sf http://localhost/ || t_fail "nginx does not answer"
	t_match "$(jexec webserver curl -s http://localhost/ | head -5)" "<title>Welcome to nginx!</title>" "nginx page title"
	t_match "$(topo_client curl -s -m 5 http://192.168.1.201/)" "<title>Welcome to nginx!</title>" "from the LAN"
	# PostgreSQL: the cluster made fresh (Debian's `service postgresql initdb`), listening, a user and a db
	pg pg_dropcluster 15 main >/dev/null 2>&1 || true
	t_run 0 jexec database pg_createcluster 15 main
	t_run 0 jexec database sh -c "echo \"listen_addresses = '*'\" >>/etc/postgresql/15/main/postgresql.conf"
	t_run 0 jexec database sh -c "echo \"host all all 192.168.1.0/24 md5\" >>/etc/postgresql/15/main/pg_hba.conf"
	t_run 0 jexec database sysrc postgresql_enable=YES
	t_run 0 jexec database service postgresql start
	wait_for pg "psql -c 'select 1'" || t_fail "PostgreSQL does not start"
	t_run 0 pg "createuser -s testuser"
	t_run 0 pg "psql -c \"ALTER USER testuser PASSWORD 'testpass';\""
	t_run 0 pg "createdb -O testuser testdb"
	t_run 0 pg "psql -l"
	t_match "$T_OUT" '^ testdb +\| testuser +\| UTF8' "psql -l"
	t_run 0 jexec webserver env PGPASSWORD=testpass psql -h 192.168.1.202 -U testuser -d testdb -c 'SELECT version();'
	t_match "$T_OUT" ' PostgreSQL 15\.[0-9]+ .* 64-bit' "SELECT version() over the bridge"
	# pf with PostgreSQL itself on 5432
	t_run 0 pfctl -f "$T/pf.conf"
	t_run 0 pfctl -e
	t_run 0 jexec webserver env PGPASSWORD=testpass psql -h 192.168.1.202 -U testuser -d testdb -tAc 'SELECT 1'
	t_eq "$T_OUT" 1 "webserver -> database:5432 through pf"
	if topo_client timeout 5 busybox nc -w 2 192.168.1.202 5432 </dev/null >/dev/null 2>&1; then
		t_fail "LAN -> database:5432 passed pf"
	fi
	t_match "$(topo_client curl -s -m 5 http://192.168.1.201/)" "<title>Welcome to nginx!</title>" "LAN -> webserver:80 through pf"
	seed_cpuset
	seed_snapshot_rollback /var/www/html/index.nginx-debian.html jexec webserver curl -s http://localhost/
	# the database jail without sysvshm = new (the default, disable): initdb fails as in the tutorial
	sed '/sysvshm = new;/d' "$T/jail.conf" >"$T/jail.nosysvshm.conf"
	t_run 0 "$SEED_SYSRC" -f "$SEED_RC" "jail_database_conf=$T/jail.nosysvshm.conf"
	t_run 0 svc restart database
	t_eq "$T_OUT" $'Stopping jails: database.\nStarting jails: database.'
	t_run 0 jls -j database sysvshm
	t_eq "$T_OUT" disable
	pg pg_dropcluster --stop 15 main >/dev/null 2>&1 || true
	t_run 1 jexec database pg_createcluster 15 main
	t_match "$T_OUT$T_ERR" 'FATAL:  could not create shared memory segment: Function not implemented' "initdb"
	t_match "$T_OUT$T_ERR" 'Failed system call was shmget' "initdb"
	# restored
	t_run 0 "$SEED_SYSRC" -f "$SEED_RC" -x jail_database_conf
	t_run 0 svc restart database
	t_run 0 jls -j database sysvshm
	t_eq "$T_OUT" new
	t_run 0 jexec database pg_createcluster 15 main
	seed_down
}

t_main "$@"
