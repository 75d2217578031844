# shellcheck shell=bash
# examples/seed/seed-lib.sh: what the seed demo (demo.sh) and its test (tests/integration/seed_tutorial.sh)
# share. Sourced by bash, inside a private mount + network namespace (the sandbox host), after
# tests/lib/topology.sh (t_defer/t_fail come from tests/lib/lib.sh or demo.sh).
#
#   seed_sandbox_fs DIR POOL  the tutorial's paths inside the sandbox's own mount namespace: with
#                           POOL=/jails, DIR/pool is bind-mounted on /jails (LJAIL_POOL=/jails, so
#                           jail.conf's path = "/jails/containers/webserver" works unchanged; demo.sh),
#                           else the pool is POOL (the test, which rewrites jail.conf's paths); DIR/log
#                           is mounted on /var/log (jail.conf's exec.consolelog): nothing lands on the machine.
#   seed_template FLAVOR    templates/base (busybox|debian), its FreeBSD-like defaults, @15.0, two clones
#   seed_rc_conf FILE       jail_enable/jail_parallel_start/jail_conf via sysrc into FILE
#   svc ARGS                `service jail ARGS` through the built init script, reading only $SEED_RC

SEED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

seed_sandbox_fs() {
	local d=$1
	mkdir -p "$d/pool" "$d/log"
	# No unmount on the way out: both mounts end with the sandbox's mount namespace, also for
	# a process that outlives the script in it (it then writes into $d, never into /jails).
	if [ "$2" = /jails ]; then
		[ -d /jails ] || mkdir /jails # the caller removes it (outside the sandbox) if it made it
		mount --bind "$d/pool" /jails
		export LJAIL_POOL=/jails
	else
		export LJAIL_POOL=$2
	fi
	mount --bind "$d/log" /var/log
	SEED_POOL=$LJAIL_POOL
}

# seed_template busybox|debian [SUITE PKGS]: the tutorial's "Build the Jail Filesystem" steps.
seed_template() {
	jailctl create -p templates
	jailctl create containers
	if [ "$1" = busybox ]; then
		jailctl bootstrap templates/base --busybox
		# FreeBSD's /etc/defaults/rc.conf starts syslogd and cron in every jail; those keep a
		# jail without `persist` alive after /etc/rc ends, as they do on FreeBSD.
		chroot "$SEED_POOL/templates/base" sysrc -q syslogd_enable=YES crond_enable=YES
	else
		jailctl bootstrap templates/base --debian "$2" --with "$3"
		chroot "$SEED_POOL/templates/base" sysrc -q cron_enable=YES
	fi
	cp --remove-destination /etc/localtime "$SEED_POOL/templates/base/etc/" 2>/dev/null || true
	jailctl snapshot templates/base@15.0
	jailctl clone templates/base@15.0 containers/webserver
	jailctl clone templates/base@15.0 containers/database
}

# seed_rc_conf FILE: the rc.conf `service jail` reads (LJAIL_RC_FILES): the tutorial's sysrc lines.
seed_rc_conf() {
	SEED_RC=$1
	: >"$SEED_RC"
	export LJAIL_RC_FILES=$SEED_RC LJAIL_SBIN=$LJAIL_BUILD
	# `sysrc -f` is the template's sysrc(8), run from the host
	SEED_SYSRC=$SEED_POOL/templates/base/usr/sbin/sysrc
}

svc() { sh "$LJAIL_BUILD/etc/init.d/jail" "$@"; }

# wait_for CMD...: retry CMD for up to 10 s (services start in the background)
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
