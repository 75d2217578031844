#!/usr/bin/env bash
# scripts/deps.sh build|check|demo|bench: install the Debian packages that purpose needs, only those missing.
set -eu
build="meson ninja-build pkg-config gcc libmnl-dev libnftables-dev libbtrfsutil-dev libcap-dev libseccomp-dev"
check="$build iproute2 iputils-ping nftables btrfs-progs busybox-static util-linux procps clang libclang-rt-14-dev zstd tar attr python3 curl"
demo="$check debootstrap curl"
bench="$check lxc crun bubblewrap hyperfine"

case ${1:-} in
build) want=$build ;;
check) want=$check ;;
demo) want=$demo ;;
bench) want=$bench ;;
*) echo "usage: scripts/deps.sh build|check|demo|bench" >&2; exit 2 ;;
esac

missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/deps.sh: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/ljail-apt.log 2>&1; then
	apt-get update >>/tmp/ljail-apt.log 2>&1
	apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/ljail-apt.log 2>&1 || {
		tail -n 20 /tmp/ljail-apt.log >&2
		exit 1
	}
fi
