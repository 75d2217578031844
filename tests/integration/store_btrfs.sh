#!/usr/bin/env bash
# The store cases of store_overlay.sh on btrfs: a loop-mounted image this test makes and removes.
STORE_AS_LIB=1 STORE_BACKEND=btrfs
. "$(dirname "$0")/store_overlay.sh"

st_pool() {
	command -v mkfs.btrfs >/dev/null || t_skip "mkfs.btrfs missing (apt-get install btrfs-progs)"
	truncate -s 1G "$T/btrfs.img"
	mkfs.btrfs -q "$T/btrfs.img" >/dev/null
	local dev
	dev=$(losetup -f --show "$T/btrfs.img")
	t_defer losetup -d "$dev"
	mkdir "$T/btrfs"
	mount -t btrfs "$dev" "$T/btrfs"
	t_defer umount -l "$T/btrfs"
	export LJAIL_POOL=$T/btrfs/pool
}

# btrfs only: datasets are subvolumes, snapshots read-only ones, made without any helper program
case_btrfs_subvolumes() {
	st_template
	t_eq "$(stat -c %i "$(P templates/base)")" "256" "a dataset is a subvolume"
	t_eq "$(stat -c %i "$LJAIL_POOL/.ljail/snap/templates/base@15.0")" "256" "a snapshot is a subvolume"
	if touch "$LJAIL_POOL/.ljail/snap/templates/base@15.0/x" 2>/dev/null; then
		t_fail "snapshot is writable"
	fi
	t_run 0 jailctl destroy -R templates/base@15.0
	[ ! -e "$(P containers/webserver)" ] || t_fail "clone subvolume left"
}

# overlay script only: the dir backend needs no btrfs; a btrfs rollback copies nothing
unset -f case_dir_backend_thick case_rollback_full_disk
t_main "$@"
