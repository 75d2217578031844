# tests/lib/lib.sh: the harness every integration test sources.
#
# A test script defines functions named case_NAME and ends with `t_main "$@"`.
# Each case runs in a fresh process inside its own sandbox:
#   - a new mount namespace (private propagation) and a new network namespace with only lo up,
#     so every interface, address, route, nft table and mount the case makes dies with it;
#   - its own temporary folder $T, run directory $LJAIL_RUNDIR, dataset pool $LJAIL_POOL and
#     cgroup root name $LJAIL_CGROUP_ROOT, removed when the case ends, even when it fails.
# A case fails on the first failing command (errexit) or failing assertion; it registers
# undo work with `t_defer CMD...`, run in reverse order on exit.
#
# Output per case: "ok - FILE/CASE" or "not ok - FILE/CASE" with "# ..." lines explaining why.

: "${LJAIL_BUILD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}"
export LJAIL_BUILD
T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_FILE=$(basename "$0" .sh)

# Where the commands are: tests call them by name.
export PATH="$LJAIL_BUILD:$PATH"

_t_deferred=()
# Remove (jail -R) every jail the case's registry lists; for t_defer.
t_cleanup_jails() {
	local n
	for n in $(jls name 2>/dev/null); do jail -R "$n" >/dev/null 2>&1 || true; done
}

t_defer() { _t_deferred+=("$(printf '%q ' "$@")"); }

_t_cleanup() {
	local i
	for ((i = ${#_t_deferred[@]} - 1; i >= 0; i--)); do
		eval "${_t_deferred[i]}" >/dev/null 2>&1 || true
	done
	_t_deferred=()
}

t_fail() { echo "# $*" >&2; exit 1; }

# t_eq ACTUAL EXPECTED [WHAT]
t_eq() {
	if [ "$1" != "$2" ]; then
		echo "# ${3:-value} differs" >&2
		echo "#   got:  $(printf '%q' "$1")" >&2
		echo "#   want: $(printf '%q' "$2")" >&2
		exit 1
	fi
}

# t_match STRING REGEX [WHAT]
t_match() {
	if ! printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "# ${3:-value} does not match /$2/: $(printf '%q' "$1")" >&2
		exit 1
	fi
}

# t_run EXPECTED_STATUS CMD... : runs CMD, keeps stdout in $T_OUT and stderr in $T_ERR.
t_run() {
	local want=$1; shift
	local rc=0
	"$@" >"$T/.out" 2>"$T/.err" || rc=$?
	T_OUT=$(cat "$T/.out"); T_ERR=$(cat "$T/.err")
	if [ "$rc" != "$want" ]; then
		echo "# $* exited $rc, want $want" >&2
		[ -n "$T_OUT" ] && echo "# stdout: $T_OUT" >&2
		[ -n "$T_ERR" ] && echo "# stderr: $T_ERR" >&2
		exit 1
	fi
	return 0
}

_t_case_body() { # runs inside the sandbox
	local name=$1
	set -eE -o pipefail
	T=$(mktemp -d /tmp/ljail-t.XXXXXX)
	export T
	export LJAIL_RUNDIR=$T/run LJAIL_POOL=$T/pool LJAIL_CGROUP_ROOT=ljail-t$$
	mkdir -p "$LJAIL_RUNDIR" "$LJAIL_POOL"
	trap '_t_cleanup; _t_cgroup_cleanup; _t_unmount_under "$T"; rm -rf "$T"' EXIT
	ip link set lo up
	"case_$name"
}

# Unmount whatever is still mounted below a folder, deepest first (only this case's own mounts).
_t_unmount_under() {
	local m
	for m in $(awk -v d="$1" 'index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
}

# End what the case's jails left running and remove their cgroups: everything under this case's own
# cgroup root name (never anything else). Jails a failing case did not remove are killed here, so
# no ljail-init outlives its test.
_t_cgroup_cleanup() {
	local d f pid try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		local left=0
		for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"; do
			[ -d "$d" ] || continue
			for f in $(find "$d" -name cgroup.procs 2>/dev/null); do
				for pid in $(cat "$f" 2>/dev/null); do
					kill -9 "$pid" 2>/dev/null && left=1
				done
			done
		done
		[ $left -eq 0 ] && break
		sleep 0.1
	done
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

t_main() {
	if [ "${1:-}" = "--in-sandbox" ]; then
		_t_case_body "$2"
		return
	fi
	local cases c rc out
	cases=$(declare -F | awk '{print $3}' | sed -n 's/^case_//p')
	local status=0
	for c in $cases; do
		if [ -n "${LJ_TEST_FILTER:-}" ] && [[ $c != *"$LJ_TEST_FILTER"* ]]; then
			continue
		fi
		out=$(unshare --mount --net --propagation private bash "$0" --in-sandbox "$c" 2>&1)
		rc=$?
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
		if [ $rc -eq 0 ]; then
			echo "ok - $T_FILE/$c"
		elif [ $rc -eq 77 ]; then
			echo "skip - $T_FILE/$c # $(printf '%s\n' "$out" | tail -n1)"
		else
			echo "not ok - $T_FILE/$c"
			status=1
		fi
	done
	return $status
}

# t_skip WHY: end the case as skipped (only for what the machine cannot do, never to hide a failure).
t_skip() { echo "$*" >&2; exit 77; }
