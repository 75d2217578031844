#!/usr/bin/env bash
# The tutorial's jail.conf (../shared/seed), as written but for the paths: two VNET jails on a
# bridge, epairs made and destroyed by exec.* lines that run ljail's own ifconfig and route,
# busybox roots instead of the ZFS clones.
. "$(dirname "$0")/../lib/lib.sh"

mkroot() { # mkroot DIR
	local r=$1 a
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	mkdir -p "$r"/{bin,sbin,dev,proc,etc,tmp,root,var/log}
	cp /bin/busybox "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	echo 'root:x:0:' >"$r/etc/group"
	# a daemon keeps the (non-persistent) jail alive, as the tutorial's services do
	printf '#!/bin/sh\necho rc ran\nsleep 1000000 </dev/null >/dev/null 2>&1 &\n' >"$r/etc/rc"
	printf '#!/bin/sh\necho rc.shutdown ran\n' >"$r/etc/rc.shutdown"
}

case_tutorial_jail_conf() {
	t_defer t_cleanup_jails
	mkroot "$T/containers/webserver"
	mkroot "$T/containers/database"
	mkdir -p "$T/log"
	ip link add bridge0 type bridge
	t_defer ip link del bridge0
	ip link set bridge0 up
	cat >"$T/jail.conf" <<EOF
# Global settings
exec.start = "/bin/sh /etc/rc";
exec.stop  = "/bin/sh /etc/rc.shutdown";
exec.clean;
mount.devfs;
allow.raw_sockets;
exec.consolelog = "$T/log/jail_\${name}_console.log";

\$bridge = "bridge0";

webserver {
    host.hostname = "webserver";
    path = "$T/containers/webserver";

    vnet;
    vnet.interface = "epair1b";

    exec.prestart  = "/sbin/ifconfig epair1 create up";
    exec.prestart += "/sbin/ifconfig bridge0 addm epair1a up";
    exec.start    += "/sbin/ifconfig epair1b 192.168.1.201/24 up";
    exec.start    += "/sbin/route add default 192.168.1.1";
    exec.poststop  = "/sbin/ifconfig bridge0 deletem epair1a";
    exec.poststop += "/sbin/ifconfig epair1a destroy";
}

database {
    host.hostname = "database";
    path = "$T/containers/database";

    # PostgreSQL needs SysV shared memory
    sysvshm = new;
    sysvmsg = new;
    sysvsem = new;

    vnet;
    vnet.interface = "epair2b";

    exec.prestart  = "/sbin/ifconfig epair2 create up";
    exec.prestart += "/sbin/ifconfig bridge0 addm epair2a up";
    exec.start    += "/sbin/ifconfig epair2b 192.168.1.202/24 up";
    exec.start    += "/sbin/route add default 192.168.1.1";
    exec.poststop  = "/sbin/ifconfig bridge0 deletem epair2a";
    exec.poststop += "/sbin/ifconfig epair2a destroy";
}
EOF
	t_run 0 jail -f "$T/jail.conf" -p1 -c
	# as on FreeBSD, "ifconfig epairN create" prints the name of the new interface
	t_eq "$T_OUT" "epair1a
webserver: created
epair2a
database: created"
	t_run 0 jls
	t_eq "$T_OUT" "   JID  IP Address      Hostname                      Path
     1                  webserver                     $T/containers/webserver
     2                  database                      $T/containers/database"
	t_run 0 jls -h jid name host.hostname path vnet
	t_eq "$T_OUT" "jid name host.hostname path vnet
1 webserver webserver $T/containers/webserver new
2 database database $T/containers/database new"
	t_eq "$(cat "$T/log/jail_webserver_console.log")" "rc ran
add net default: gateway 192.168.1.1"
	t_match "$(ip -o link show epair1a)" "master bridge0" "epair1a on the bridge"
	if ip link show epair1b >/dev/null 2>&1; then t_fail "epair1b still on the host"; fi
	if [ -x "$LJAIL_BUILD/jexec" ]; then
		t_run 0 jexec webserver ping -c 1 -W 2 192.168.1.202
		t_run 0 jexec database hostname
		t_eq "$T_OUT" database
	fi
	t_run 0 jail -f "$T/jail.conf" -r '*'
	t_eq "$(printf '%s\n' "$T_OUT" | sort)" "database: removed
webserver: removed"
	t_eq "$(jls name)" ""
	# the pairs die with the jails' network namespaces, a few ms after jail(8) returned
	for i in $(seq 1 40); do
		ip -o link show | grep -q epair || break
		sleep 0.05
	done
	for i in epair1a epair1b epair2a epair2b; do
		if ip link show "$i" >/dev/null 2>&1; then t_fail "$i left on the host"; fi
	done
	t_eq "$(tail -n1 "$T/log/jail_database_console.log")" "rc.shutdown ran"
}

t_main "$@"
