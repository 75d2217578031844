#!/usr/bin/env bash
# A Debian template made with debootstrap (its default mirror) plus a package, booted with /etc/rc.
# It downloads ~60 MB the first time, so it runs only with LJ_TEST_DEBIAN=1 or when the package
# cache from an earlier run exists ($LJ_TEST_DEBIAN_CACHE, default /var/cache/ljail-test).
# The case's own network namespace has no way out, so the two steps that download (debootstrap
# and apt-get, as `apt-get install` on the host would) run in the machine's network namespace;
# everything else, the jail's nginx included, stays in the case's.
. "$(dirname "$0")/../lib/lib.sh"
export PATH="$LJAIL_BUILD/src/cmd:$PATH"
cache=${LJ_TEST_DEBIAN_CACHE:-/var/cache/ljail-test}
suite=${LJ_TEST_DEBIAN_SUITE:-bookworm}

# apt's network: the namespace this script was started in (the outer process, before the case's
# sandbox), for one command.
[ "${1:-}" = --in-sandbox ] || export LJ_TEST_OUTER_PID=$$
with_apt_net() { nsenter --net="/proc/$LJ_TEST_OUTER_PID/ns/net" -- "$@"; }

debian_wanted() {
	[ "${LJ_TEST_DEBIAN:-}" = 1 ] && return 0
	[ "${LJ_TEST_DEBIAN:-}" = 0 ] && t_skip "LJ_TEST_DEBIAN=0"
	ls "$cache"/debootstrap/*.deb >/dev/null 2>&1 ||
		t_skip "no package cache in $cache: set LJ_TEST_DEBIAN=1 to build a Debian template"
}

case_debian_template_boots_nginx() {
	debian_wanted
	command -v debootstrap >/dev/null || t_skip "debootstrap missing (scripts/deps.sh demo)"
	command -v curl >/dev/null || t_skip "curl missing"
	export LJAIL_CACHE=$cache
	local t0 t1
	t0=$(date +%s)
	t_run 0 with_apt_net jailctl bootstrap templates/debian --debian "$suite" --with nginx-light
	t1=$(date +%s)
	echo "# debian bootstrap took $((t1 - t0)) s" >&2
	t_match "$T_OUT" '^\[2/4\] debootstrap --variant=minbase' "progress"
	t_match "$T_OUT" '\[3/4\] apt-get install nginx-light' "progress"
	local b=$LJAIL_POOL/templates/debian
	[ -x "$b/usr/sbin/nginx" ] || t_fail "nginx not installed"
	[ -x "$b/usr/sbin/sysrc" ] && [ -f "$b/etc/rc" ] || t_fail "no jail userland"
	ls "$cache"/apt/archives/nginx-light_*.deb >/dev/null || t_fail "the package was not cached"
	[ -z "$(ls "$b/var/cache/apt/archives/" | grep '\.deb$')" ] || t_fail "debs left in the template"
	t_run 0 jailctl snapshot templates/debian@1
	t_run 0 jailctl clone templates/debian@1 web
	local w=$LJAIL_POOL/web
	mount -t proc proc "$w/proc"
	t_defer umount "$w/proc"
	# what a jail gets from ljail's /dev (the dataset itself is mounted nodev)
	mount --bind /dev "$w/dev"
	t_defer umount "$w/dev"
	t_defer sh -c "[ -f '$w/run/nginx.pid' ] && kill \$(cat '$w/run/nginx.pid')"
	t_run 0 chroot "$w" sysrc nginx_enable=YES
	t_eq "$T_OUT" "nginx_enable:  -> YES"
	t_run 0 chroot "$w" /bin/sh /etc/rc
	local i out=
	for i in $(seq 50); do
		out=$(curl -s http://127.0.0.1/ 2>/dev/null) && [ -n "$out" ] && break
		sleep 0.1
	done
	t_match "$out" "Welcome to nginx" "nginx answers"
	t_run 0 chroot "$w" /bin/sh /etc/rc.shutdown
	sleep 0.5
	if curl -s -m 1 http://127.0.0.1/ >/dev/null 2>&1; then t_fail "nginx still up after rc.shutdown"; fi
	# pkg: the host's apt configuration, the pool's cache, into the jail's root
	t_run 0 with_apt_net jailctl pkg web install hello
	t_eq "$(chroot "$w" hello)" "Hello, world!" "installed package runs"
	t_run 0 jailctl pkg web remove hello
	[ ! -e "$w/usr/bin/hello" ] || t_fail "remove left the package"
	[ ! -e "$LJAIL_POOL/templates/debian/usr/bin/hello" ] || t_fail "package landed in the template"
}

t_main "$@"
