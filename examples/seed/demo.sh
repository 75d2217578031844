#!/usr/bin/env bash
# examples/seed/demo.sh (`make demo`): the seed tutorial, "FreeBSD Jails with VNET Networking", run
# unattended on Linux with ljail. Every step prints the tutorial's FreeBSD command, the command
# typed here, and ljail's real output; a summary of the checks ends it.
#
# It runs inside its own mount and network namespaces (the sandbox host): bridge0, vtnet0 and a
# "lan" namespace holding the gateway 192.168.1.1 and a LAN client 192.168.1.10, so the machine's
# own network is never touched. Only debootstrap and apt-get (the template's packages) run in the
# machine's network namespace. The pool (/jails inside the sandbox) lives in a temporary folder;
# downloaded packages stay in $LJAIL_CACHE (default /var/cache/ljail-demo) for the next run.
# Everything else is removed at the end, also on failure or Ctrl-C.
#
#   LJAIL_BUILD       the build folder (default ./build)
#   DEMO_TEMPLATE     debian (default) or busybox (offline, seconds; busybox httpd and nc stand in)
#   DEMO_SUITE        Debian suite (default bookworm)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
TOP=$PWD
LJAIL_BUILD=$(cd "${LJAIL_BUILD:-./build}" && pwd)
export LJAIL_BUILD

if [ "${1:-}" != --in-sandbox ]; then
	[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it makes namespaces, jails and mounts)" >&2; exit 1; }
	for c in jail jls jexec jailctl pfctl cpuset ifconfig route netstat; do
		[ -x "$LJAIL_BUILD/$c" ] || { echo "demo.sh: $LJAIL_BUILD/$c missing: build first (make)" >&2; exit 1; }
	done
	# this process stays in the machine's network namespace: the downloads use it (nsenter)
	export DEMO_OUTER_PID=$$
	trap '' INT
	made_jails=0
	[ -e /jails ] || made_jails=1
	unshare --mount --net --propagation private bash "$0" --in-sandbox
	rc=$?
	# the sandbox made /jails (empty, the mount point of its pool): gone once the sandbox is
	[ $made_jails = 1 ] && rmdir /jails 2>/dev/null
	exit $rc
fi

# ---------------------------------------------------------------------------- the sandbox host
export PATH="$LJAIL_BUILD:$PATH"
template=${DEMO_TEMPLATE:-debian}
suite=${DEMO_SUITE:-bookworm}
packages=nginx-light,postgresql-15,curl,iputils-ping,cron,procps
export LJAIL_CACHE=${LJAIL_CACHE:-/var/cache/ljail-demo}
W=$(mktemp -d /var/tmp/ljail-demo.XXXXXX)
export LJAIL_RUNDIR=$W/run LJAIL_CGROUP_ROOT=ljail-demo$$ LJAIL_ID_DIR=$W/run
mkdir -p "$LJAIL_RUNDIR"
T0=$(date +%s)

_deferred=()
t_defer() { _deferred+=("$(printf '%q ' "$@")"); }
t_fail() { echo "demo.sh: $*" >&2; exit 1; }
cleanup() {
	set +e
	echo
	echo "== cleanup: jails, pf rules, datasets, mounts, namespaces =="
	sh "$LJAIL_BUILD/etc/init.d/jail" onestop >/dev/null 2>&1
	local j i
	for j in $(jls name 2>/dev/null); do jail -R "$j" >/dev/null 2>&1; done
	pfctl -F all >/dev/null 2>&1
	jailctl destroy -R templates/base@15.0 >/dev/null 2>&1
	for ((i = ${#_deferred[@]} - 1; i >= 0; i--)); do eval "${_deferred[i]}" >/dev/null 2>&1; done
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	# what is still mounted in the pool (overlay clones), deepest first; /jails itself and /var/log
	# stay mounted until the sandbox's namespace ends, so a straggler never writes to the machine's
	for m in $(awk '{print $2}' /proc/self/mounts | grep -E "^($W|/jails)/" | sort -r); do umount -l "$m"; done
	rm -rf "$W"
	echo "removed $W; the package cache stays in $LJAIL_CACHE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$TOP/tests/lib/topology.sh"
. "$TOP/examples/seed/seed-lib.sh"

# ---------------------------------------------------------------------------- printing, checks
passed=() failed=()
if [ -t 1 ]; then _b=$'\033[1m' _n=$'\033[0m'; else _b= _n=; fi
section() { printf '\n%s### %s%s\n' "$_b" "$*" "$_n"; }
# step 'FreeBSD command' CMD...: show both, run CMD, show its output (stdout and stderr)
# show_cmd ARGS: the command as one would type it (quotes only where needed)
show_cmd() {
	local a out=
	for a in "$@"; do
		if [[ $a =~ ^[][A-Za-z0-9_@%+=:,./-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
	done
	printf '%s' "${out# }"
}
# (-t TYPED: what to show as typed when CMD is the demo's own helper)
step() {
	local fb=$1 typed
	shift
	if [ "$1" = -t ]; then
		typed=$2
		shift 2
	else
		typed=$(show_cmd "$@")
	fi
	printf '\n  FreeBSD: %s\n  ljail:   %s\n' "$fb" "$typed"
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}
note() { printf '\n  FreeBSD: %s\n  Linux:   %s\n' "$1" "$2"; }
# check 'what' CMD...: a check for the summary
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed+=("$what")
		printf '  [PASS] %s\n' "$what"
	else
		failed+=("$what")
		printf '  [FAIL] %s\n' "$what"
	fi
}
has() { printf '%s' "$1" | grep -Eq -- "$2"; }
web_ip=192.168.1.201 db_ip=192.168.1.202

# ---------------------------------------------------------------------------- the tutorial
section "The sandbox host: bridge0 with vtnet0, the LAN (gateway 192.168.1.1, client 192.168.1.10)"
topo_up
seed_sandbox_fs "$W" /jails
step 'ifconfig bridge0 create; ifconfig bridge0 addm vtnet0 up  (made by the sandbox)' ifconfig bridge0
note 'sysctl kern.features.vimage; kldload if_epair; echo if_epair_load=YES >> /boot/loader.conf' "not needed on Linux: network namespaces and veth pairs are built into the kernel"

section "Build the Jail Filesystem (ZFS clones -> jailctl; pool = /jails)"
step 'zfs create -p zroot/jails/templates' jailctl create -p templates
step 'zfs create zroot/jails/containers' jailctl create containers
if [ "$template" = debian ]; then
	command -v debootstrap >/dev/null || t_fail "debootstrap missing: scripts/deps.sh demo"
	# the downloads only, in the machine's network namespace
	step 'fetch base.txz; tar -xf base.txz -C /jails/templates/base; pkg install nginx postgresql17-server' \
		-t "jailctl bootstrap templates/base --debian $suite --with $packages  (in the machine's network namespace)" \
		nsenter --net="/proc/$DEMO_OUTER_PID/ns/net" -- "$LJAIL_BUILD/jailctl" bootstrap templates/base \
		--debian "$suite" --with "$packages" || t_fail "bootstrap failed (logs in $LJAIL_CACHE)"
	chroot /jails/templates/base sysrc -q cron_enable=YES
else
	step 'fetch base.txz; tar -xf base.txz -C /jails/templates/base' jailctl bootstrap templates/base --busybox ||
		t_fail "bootstrap failed"
	chroot /jails/templates/base sysrc -q syslogd_enable=YES crond_enable=YES
fi
step 'cp /etc/localtime /jails/templates/base/etc/' cp --remove-destination /etc/localtime /jails/templates/base/etc/
step 'zfs snapshot zroot/jails/templates/base@15.0' jailctl snapshot templates/base@15.0
step 'zfs clone zroot/jails/templates/base@15.0 zroot/jails/containers/webserver' \
	jailctl clone templates/base@15.0 containers/webserver
step 'zfs clone zroot/jails/templates/base@15.0 zroot/jails/containers/database' \
	jailctl clone templates/base@15.0 containers/database
out=$(jailctl list -r)
step 'zfs list -r zroot/jails' jailctl list -r
check "two clones of templates/base@15.0 at /jails/containers" has "$out" 'containers/database .*/jails/containers/database'

section "jail.conf with VNET networking (examples/seed/jail.conf, the tutorial's, unchanged)"
cp examples/seed/jail.conf examples/seed/pf.conf "$W/"
step 'jail -e "|" -f /etc/jail.conf  (the parsed configuration)' -t "jail -e '|' -f $W/jail.conf" jail -e '|' -f "$W/jail.conf"

section "Start the jails"
seed_rc_conf "$W/rc.conf"
step 'sysrc jail_enable=YES' -t "sysrc -f $W/rc.conf jail_enable=YES" "$SEED_SYSRC" -f "$SEED_RC" jail_enable=YES
step 'sysrc jail_parallel_start=YES' -t "sysrc -f $W/rc.conf jail_parallel_start=YES" "$SEED_SYSRC" -f "$SEED_RC" jail_parallel_start=YES
"$SEED_SYSRC" -f "$SEED_RC" -q "jail_conf=$W/jail.conf"
out=$(svc start 2>&1)
step 'service jail start' -t 'service jail start' echo "$out"
check "service jail start: both jails started" has "$out" '^Starting jails: (webserver database|database webserver)\.$'
out=$(jls)
step 'jls' jls
check "jls lists webserver and database with their paths" has "$out" 'webserver +/jails/containers/webserver$'
out=$(jls -h jid name host.hostname path vnet)
step 'jls -h jid name host.hostname path vnet' jls -h jid name host.hostname path vnet
check "jls -h: vnet = new for both" test "$(echo "$out" | grep -c ' new$')" = 2
webjid=$(jls -j webserver jid) dbjid=$(jls -j database jid)

section "Verify VNET networking"
step 'jexec webserver ifconfig epair1b' jexec webserver ifconfig epair1b
check "webserver's epair1b holds 192.168.1.201" has "$(jexec webserver ifconfig epair1b)" "inet $web_ip netmask 0xffffff00"
step 'jexec database ifconfig epair2b' jexec database ifconfig epair2b
step 'jexec webserver netstat -rn' jexec webserver netstat -rn
step 'jexec database netstat -rn' jexec database netstat -rn
check "default route via 192.168.1.1 in the jail" has "$(jexec webserver netstat -rn)" '^default +192.168.1.1 +UGS +epair1b'
step 'jexec webserver ping -c 2 <an Internet address>  (here: the LAN gateway; the sandbox has no Internet)' \
	jexec webserver ping -c 2 192.168.1.1
step 'jexec webserver ping -c 2 192.168.1.202' jexec webserver ping -c 2 $db_ip
check "jail-to-jail ping" jexec webserver ping -c 1 -W 2 $db_ip

if [ "$template" = debian ]; then
	section "Nginx in the webserver jail (installed in the template: jailctl bootstrap --with nginx-light)"
	step 'jexec webserver sysrc nginx_enable=YES' jexec webserver sysrc nginx_enable=YES
	step 'jexec webserver service nginx start' jexec webserver service nginx start
	wait_for jexec webserver curl -sf http://localhost/
	web_head() { jexec webserver curl -s http://localhost/ | head -5; }
	step 'jexec webserver fetch -qo - http://localhost/ | head -5' -t 'jexec webserver curl -s http://localhost/ | head -5' web_head
	check "nginx page inside the jail: Welcome to nginx!" has "$(jexec webserver curl -s http://localhost/)" '<title>Welcome to nginx!</title>'
	lan_head() { topo_client curl -s -m 5 http://$web_ip/ | head -4; }
	step '(from the LAN client 192.168.1.10) fetch -qo - http://192.168.1.201/ | head -4' -t '(in the LAN client) curl -s http://192.168.1.201/ | head -4' lan_head
	check "nginx page from the LAN client" has "$(topo_client curl -s -m 5 http://$web_ip/)" '<title>Welcome to nginx!</title>'

	section "PostgreSQL in the database jail"
	pg() { jexec database su postgres -s /bin/sh -c "$*"; }
	jexec database pg_dropcluster 15 main >/dev/null 2>&1 # the cluster the package made: initdb it here
	step 'jexec database sysrc postgresql_enable=YES' jexec database sysrc postgresql_enable=YES
	step 'jexec database service postgresql initdb' -t 'jexec database pg_createcluster 15 main' jexec database pg_createcluster 15 main
	step "jexec database sh -c \"echo \\\"listen_addresses = '*'\\\" >> .../postgresql.conf\"" \
		jexec database sh -c "echo \"listen_addresses = '*'\" >>/etc/postgresql/15/main/postgresql.conf"
	step 'jexec database sh -c "echo \"host all all 192.168.1.0/24 md5\" >> .../pg_hba.conf"' \
		jexec database sh -c "echo 'host all all 192.168.1.0/24 md5' >>/etc/postgresql/15/main/pg_hba.conf"
	step 'jexec database service postgresql start' jexec database service postgresql start
	wait_for pg "psql -qc 'select 1'"
	step 'jexec database su -m postgres -c "createuser -s testuser"' -t 'jexec database su postgres -c "createuser -s testuser"' pg "createuser -s testuser"
	step "jexec database su -m postgres -c \"psql -c \\\"ALTER USER testuser PASSWORD 'testpass';\\\"\"" \
		-t "jexec database su postgres -c \"psql -c \\\"ALTER USER testuser PASSWORD 'testpass';\\\"\"" pg "psql -c \"ALTER USER testuser PASSWORD 'testpass';\""
	step 'jexec database su -m postgres -c "createdb -O testuser testdb"' -t 'jexec database su postgres -c "createdb -O testuser testdb"' pg "createdb -O testuser testdb"
	step 'jexec database su -m postgres -c "psql -l"' -t 'jexec database su postgres -c "psql -l"' pg "psql -l"
	check "PostgreSQL listens on 192.168.1.202:5432" has "$(jexec database ss -ltn 2>/dev/null || jexec database cat /proc/net/tcp)" '(0.0.0.0:5432|00000000:1538)'
	q=(env PGPASSWORD=testpass psql -h $db_ip -U testuser -d testdb -c 'SELECT version();')
	step "PGPASSWORD=testpass jexec webserver /usr/local/bin/psql -h 192.168.1.202 -U testuser -d testdb -c 'SELECT version();'" \
		jexec webserver "${q[@]}"
	check "SELECT version() from the webserver jail over the bridge" has "$(jexec webserver "${q[@]}")" 'PostgreSQL 15\.'
	web_page() { jexec webserver curl -s http://localhost/; }
	web_cmd='jexec webserver curl -s http://localhost/'
	page_file=/var/www/html/index.nginx-debian.html
	lan_5432() { topo_client timeout 5 busybox nc -w 2 $db_ip 5432 </dev/null >/dev/null 2>&1 ||
		topo_client timeout 5 bash -c "</dev/tcp/$db_ip/5432" 2>/dev/null; }
	web_5432() { jexec webserver env PGPASSWORD=testpass psql -h $db_ip -U testuser -d testdb -tAc 'SELECT 1' | grep -qx 1; }
	lan_80() { has "$(topo_client curl -s -m 5 http://$web_ip/)" 'Welcome to nginx'; }
else
	section "The webserver: busybox httpd stands in for nginx; busybox nc on 5432 for PostgreSQL"
	step 'jexec webserver sysrc nginx_enable=YES' jexec webserver sysrc httpd_enable=YES
	step 'jexec webserver service nginx start' jexec webserver service httpd start
	wait_for jexec webserver wget -qO- http://localhost/
	step 'jexec webserver fetch -qo - http://localhost/' jexec webserver wget -qO- http://localhost/
	check "web page inside the jail" has "$(jexec webserver wget -qO- http://localhost/)" 'It works'
	check "web page from the LAN client" has "$(topo_client wget -qO- -T 3 http://$web_ip/)" 'It works'
	printf '#!/bin/sh\necho hello\n' >/jails/containers/database/usr/bin/hello
	chmod +x /jails/containers/database/usr/bin/hello
	jexec database sh -c 'nc -ll -p 5432 -e /usr/bin/hello </dev/null >/dev/null 2>&1 &'
	web_page() { jexec webserver wget -qO- http://localhost/; }
	web_cmd='jexec webserver wget -qO- http://localhost/'
	page_file=/var/www/index.html
	lan_5432() { [ "$(topo_client timeout 5 busybox nc -w 2 $db_ip 5432 </dev/null 2>/dev/null)" = hello ]; }
	web_5432() { [ "$(timeout 5 jexec webserver nc -w 2 $db_ip 5432 </dev/null 2>/dev/null)" = hello ]; }
	lan_80() { has "$(topo_client wget -qO- -T 3 http://$web_ip/)" 'It works'; }
	wait_for web_5432
fi

section "Secure the jails with pf (examples/seed/pf.conf, the tutorial's, unchanged)"
note 'sysrc pf_enable=YES; kldload pf' "not needed on Linux: pfctl compiles pf.conf into an nftables table"
step 'pfctl -f /etc/pf.conf' pfctl -f "$W/pf.conf"
step 'pfctl -e' pfctl -e
step 'pfctl -s rules' pfctl -s rules
check "LAN -> webserver:80 passes" lan_80
if lan_5432; then
	failed+=("LAN -> database:5432 blocked"); echo "  [FAIL] LAN -> database:5432 blocked"
else
	passed+=("LAN -> database:5432 blocked"); echo "  [PASS] LAN -> database:5432 blocked"
fi
check "webserver -> database:5432 passes" web_5432

section "CPU pinning with cpuset"
mask=0-1 want="0, 1"
[ "$(nproc)" -ge 2 ] || { mask=0 want=0; }
step "cpuset -l 0-1 -j $webjid" cpuset -l $mask -j "$webjid"
step "cpuset -g -j $webjid" cpuset -g -j "$webjid"
check "cpuset -g -j: jail $webjid mask: $want" has "$(cpuset -g -j "$webjid")" "^jail $webjid mask: $want\$"

section "Snapshots of a running jail, and a rollback"
before=$(web_page)
step 'zfs snapshot zroot/jails/containers/webserver@before-update' jailctl snapshot containers/webserver@before-update
step 'zfs list -t snapshot -r zroot/jails/containers' jailctl list -t snapshot -r containers
step "(an upgrade breaks the page) jexec webserver sh -c 'echo broken > $page_file'" \
	jexec webserver sh -c "echo broken >$page_file"
step 'fetch -qo - http://localhost/' -t "$web_cmd" web_page
step 'service jail stop webserver' -t 'service jail stop webserver' svc stop webserver
step 'zfs rollback zroot/jails/containers/webserver@before-update' jailctl rollback containers/webserver@before-update
step 'service jail start webserver' -t 'service jail start webserver' svc start webserver
wait_for web_page
web_head() { web_page | head -5; }
step 'jexec webserver fetch -qo - http://localhost/ | head -5' -t "$web_cmd | head -5" web_head
check "the rolled-back page is the original" test "$(web_page)" = "$before"

if [ "$template" = debian ]; then
	section "PostgreSQL without SysV IPC (sysvshm = new removed from jail.conf)"
	sed '/sysvshm = new;/d' "$W/jail.conf" >"$W/jail.database.conf"
	step 'sysrc jail_database_conf=/etc/jail.database.conf  (jail.conf without sysvshm = new)' \
		-t "sysrc -f $W/rc.conf jail_database_conf=$W/jail.database.conf" "$SEED_SYSRC" -f "$SEED_RC" "jail_database_conf=$W/jail.database.conf"
	step 'service jail restart database' -t 'service jail restart database' svc restart database
	step 'jls -j database sysvshm' jls -j database sysvshm
	jexec database pg_dropcluster --stop 15 main >/dev/null 2>&1
	out=$(jexec database pg_createcluster 15 main 2>&1)
	step 'jexec database service postgresql initdb' -t 'jexec database pg_createcluster 15 main' echo "$out"
	check "initdb: could not create shared memory segment: Function not implemented" \
		has "$out" 'could not create shared memory segment: Function not implemented'
	step 'sysrc -x jail_database_conf  (sysvshm = new again)' -t "sysrc -f $W/rc.conf -x jail_database_conf" "$SEED_SYSRC" -f "$SEED_RC" -x jail_database_conf
	step 'service jail restart database' -t 'service jail restart database' svc restart database
	step 'jexec database service postgresql initdb' -t 'jexec database pg_createcluster 15 main' jexec database pg_createcluster 15 main
	check "initdb works again with sysvshm = new" jexec database test -f /var/lib/postgresql/15/main/PG_VERSION
fi

section "Stop the jails"
out=$(svc stop)
step 'service jail stop' -t 'service jail stop' echo "$out"
check "service jail stop: both stopped" has "$out" '^Stopping jails: (database webserver|webserver database)\.$'
check "no jail left" test -z "$(jls name)"
# the pairs die with the jails' network namespaces, a few ms after jail(8) returned
for _ in $(seq 1 40); do ip -o link show 2>/dev/null | grep -q epair || break; sleep 0.05; done
check "no epair left on the host" test -z "$(ip -o link show 2>/dev/null | grep epair)"

section "Summary ($template template, $(($(date +%s) - T0)) s)"
for p in "${passed[@]}"; do echo "  [PASS] $p"; done
for f in "${failed[@]}"; do echo "  [FAIL] $f"; done
echo "${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
