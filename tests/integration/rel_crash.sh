#!/usr/bin/env bash
# Crash recovery (issue 9, item 2): jail(8) killed with SIGKILL at random points of create and
# remove, 100 runs, seeded (LJ_SEED=N replays a run; LJ_CRASH_RUNS=N changes the count). The jail
# is a vnet jail with a host epair end moved in by vnet.interface, a nullfs mount, mount.devfs and
# its cgroup. The random delay before the kill is 0..D ms, D the shortest of three measured
# creates (removes), so most kills land inside the operation. After each kill:
#   - jls never lists a jail that cannot be entered (jexec NAME /bin/true works for each);
#   - the jail is taken away: `jail -r` when listed (`jail -R` when that fails, counted), else
#     `jail -rC` (the post-removal steps for a jail that is not running: the mounts a killed
#     create made);
#   - a new `jail -c` of the same name succeeds, and is removed;
#   - the census of the host (tests/lib/census.sh) equals the one from the start.
# The counts (kills in create / remove, kills that came too late, -R needed) go to the output.
# A second case kills creates of jails without vnet, which have no provisional record (see
# case_kill9_create_without_record).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/census.sh"

mkroot() {
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	ROOT=$T/root
	mkdir -p "$ROOT"/{bin,dev,proc,etc,tmp,mnt/a}
	cp /bin/busybox "$ROOT/bin/busybox"
	local a
	for a in sh true sleep cat ls ip; do ln -s busybox "$ROOT/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
	mkdir -p "$T/src"
	echo hello >"$T/src/f"
}

cleanup_jails() {
	local n
	for n in $(jls name 2>/dev/null); do jail -R "$n" >/dev/null 2>&1 || true; done
}

# A problem found in a run is noted (PROBLEM=1 for the run, the text in problems[]); the run
# then ends with a hard reset by the test itself so the walk goes on and the counts are whole.
problems=()
problem() { problems+=("$* [state: $(state)]"); PROBLEM=1; }

# What the lifecycle engineer needs to see of a problem: run directory, the jail's processes,
# where epair7b is, mounts below the root.
state() {
	local procs
	procs=$(cat /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT"/jc/cgroup.procs 2>/dev/null | sort -u | tr '\n' ' ')
	printf 'run: %s; jc procs: %s; epair7b: %s; mounts below root: %s' \
		"$(ls "$LJAIL_RUNDIR" | grep -v lock | tr '\n' ' ')" "${procs:-none}" \
		"$(ip link show epair7b >/dev/null 2>&1 && echo host || echo 'not on host')" \
		"$(awk -v d="$ROOT" 'index($5, d "/") == 1' /proc/self/mountinfo | wc -l)"
}

# must WHAT CMD...: CMD succeeds, else a problem naming the run (WHAT) and CMD's output.
must() {
	local what=$1; shift
	local rc=0
	"$@" >"$T/must.out" 2>&1 || rc=$?
	[ $rc = 0 ] || { problem "$what: $* exited $rc: $(tr '\n' ' ' <"$T/must.out")"; return 1; }
}

# What the test itself does to get back to the start after a problem: kill what is in the case's
# cgroups, remove them, unmount below the root and the run directory, drop the run directory's
# files, and remake the epair if it died with a namespace.
hard_reset() {
	jail -R jc >/dev/null 2>&1 || true
	local m d p
	for m in $(_census_cg_mounts); do
		d=$m/$LJAIL_CGROUP_ROOT
		[ -d "$d" ] || continue
		for p in $(find "$d" -name cgroup.procs -exec cat {} +); do kill -9 "$p" 2>/dev/null || true; done
	done
	sleep 0.2
	_t_cgroup_cleanup
	_t_unmount_under "$ROOT"
	_t_unmount_under "$LJAIL_RUNDIR"
	find "$LJAIL_RUNDIR" -mindepth 1 ! -name lock ! -name '*.lock' ! -name rctl.rules -delete
	if ip link show bridge0 >/dev/null 2>&1 && ! ip link show epair7b >/dev/null 2>&1; then
		ifconfig epair7a destroy >/dev/null 2>&1 || true
		ifconfig epair7 create up >/dev/null
		ifconfig bridge0 addm epair7a
	fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Run jail(8) with args in the background, SIGKILL it after $1 ms. Sets KILLED=1 when the kill
# landed (the process was still running), 0 when it had finished first.
kill_after() {
	local ms=$1; shift
	# No leak check in a process the test kills: a kill that lands while LeakSanitizer stops
	# the threads at exit leaves a half report ("Unable to get registers"), not a leak.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" jail "$@" >>"$T/crash.out" 2>&1 &
	local pid=$!
	if [ "$ms" -gt 0 ]; then sleep "$(printf '0.%03d' "$ms")"; fi
	kill -9 "$pid" 2>/dev/null || true
	local rc=0
	{ wait "$pid"; } 2>/dev/null || rc=$? # no "Killed" line from bash
	KILLED=0
	[ "$rc" = 137 ] && KILLED=1
	return 0
}

# The same with the delay in µs, waited for by bash itself: sleep(1)'s own start (~3 ms here)
# is as long as a create without vnet.
kill_after_us() {
	local us=$1; shift
	[ -p "$T/tick" ] || mkfifo "$T/tick"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" jail "$@" >>"$T/crash.out" 2>&1 &
	local pid=$!
	# a FIFO opened for reading and writing never delivers: read waits out its timeout
	if [ "$us" -gt 0 ]; then read -rt "$(printf '0.%06d' "$us")" <>"$T/tick" || true; fi
	kill -9 "$pid" 2>/dev/null || true
	local rc=0
	{ wait "$pid"; } 2>/dev/null || rc=$?
	KILLED=0
	[ "$rc" = 137 ] && KILLED=1
	return 0
}

now_us() { echo $(($(date +%s%N) / 1000)); }

case_kill9_create_and_remove() {
	t_defer cleanup_jails
	mkroot
	ifconfig bridge0 create up >/dev/null
	ifconfig epair7 create up >/dev/null
	ifconfig bridge0 addm epair7a
	cat >"$T/jail.conf" <<EOF
jc {
	path = "$ROOT";
	persist;
	vnet;
	vnet.interface = "epair7b";
	mount.devfs;
	mount = "$T/src $ROOT/mnt/a nullfs ro 0 0";
	exec.start = "/bin/true";
	stop.timeout = 0;
}
EOF
	local conf=$T/jail.conf
	local start
	start=$(census "$ROOT")

	# how long a whole create and remove take here
	# (the shortest of three: most kills then land inside the operation)
	local i t0 dc=9999 dr=9999 d
	for i in 1 2 3; do
		t0=$(now_ms); jail -f "$conf" -c jc >/dev/null; d=$(($(now_ms) - t0)); [ $d -lt $dc ] && dc=$d
		t0=$(now_ms); jail -f "$conf" -r jc >/dev/null; d=$(($(now_ms) - t0)); [ $d -lt $dr ] && dr=$d
	done
	census_eq "$start" "$(census "$ROOT")" "census after the measuring runs"
	[ $dc -gt 999 ] && dc=999
	[ $dr -gt 999 ] && dr=999

	local seed=${LJ_SEED:-$(($(date +%s%N) % 100000))}
	local runs=${LJ_CRASH_RUNS:-100}
	RANDOM=$seed
	echo "# seed $seed (LJ_SEED=$seed replays), $runs runs, create delay 0..${dc} ms, remove delay 0..${dr} ms" >&2

	local strays=() stray r
	local n_create=0 n_remove=0 late_create=0 late_remove=0 need_R=0 need_C=0 op ms name rc
	for ((i = 1; i <= runs; i++)); do
		PROBLEM=0
		if ((RANDOM % 2)); then
			op=create
			ms=$((RANDOM % (dc + 1)))
			kill_after "$ms" -f "$conf" -c jc
			n_create=$((n_create + 1)); [ $KILLED = 0 ] && late_create=$((late_create + 1))
		else
			op=remove
			ms=$((RANDOM % (dr + 1)))
			must "run $i (create before the remove)" jail -f "$conf" -c jc
			kill_after "$ms" -f "$conf" -r jc
			n_remove=$((n_remove + 1)); [ $KILLED = 0 ] && late_remove=$((late_remove + 1))
		fi
		local what="run $i ($op killed after $ms ms, seed $seed)"
		run_checks "$what" || true
		if [ $PROBLEM = 1 ]; then
			hard_reset
			census_eq "$start" "$(census "$ROOT" | grep -Ev '^run .*\.tmp\.[0-9]+$')" "$what: census after the test's own reset"
		fi
	done
	echo "# kills: $n_create in create ($late_create came after it finished), $n_remove in remove ($late_remove after it finished); jail -R needed $need_R times; jail -rC run $need_C times; ${#problems[@]} problems" >&2
	[ $((n_create - late_create)) -gt 0 ] || t_fail "no kill landed inside a create"
	[ $((n_remove - late_remove)) -gt 0 ] || t_fail "no kill landed inside a remove"
	if [ ${#strays[@]} -gt 0 ]; then
		printf '# %s\n' "${strays[@]}" >&2
		problems+=("temp files of interrupted atomic writes left in \$LJAIL_RUNDIR after ${#strays[@]} runs")
	fi
	if [ ${#problems[@]} -gt 0 ]; then
		printf '# problem: %s\n' "${problems[@]}" >&2
		t_fail "${#problems[@]} problems (replay with LJ_SEED=$seed)"
	fi
	census_eq "$start" "$(census "$ROOT")" "census at the end"
}

# Jails without vnet: jail(8) making one jail at a time keeps the registry lock until the
# record is written and writes no provisional record (a vnet jail does). A kill before the
# record leaves a cgroup, and from the init's start an init in it, that no listing shows; the
# next create must take them away. Each run kills the create of a new name (a command jail or a
# persistent one, at random), takes away what jls lists (a kill after the record: a jail that
# lives on, as on FreeBSD), makes and removes one other jail, and compares the census.
case_kill9_create_without_record() {
	t_defer cleanup_jails
	mkroot
	local start
	start=$(census "$ROOT")
	local i t0 dc=999999 d
	for i in 1 2 3; do
		t0=$(now_us); jail -c name=m path="$ROOT" persist >/dev/null; d=$(($(now_us) - t0))
		[ $d -lt $dc ] && dc=$d
		jail -r m >/dev/null
	done
	[ $dc -gt 999999 ] && dc=999999
	local seed=${LJ_SEED:-$(($(date +%s%N) % 100000))}
	local runs=${LJ_CRASH_RUNS:-100}
	RANDOM=$seed
	echo "# seed $seed (LJ_SEED=$seed replays), $runs runs, create delay 0..${dc} µs" >&2
	local inside=0 listed=0 us name c
	for ((i = 1; i <= runs; i++)); do
		PROBLEM=0
		us=$(((RANDOM * 32768 + RANDOM) % (dc + 1)))
		if ((RANDOM % 2)); then
			kill_after_us "$us" -c name=c$i path="$ROOT" command=/bin/true
		else
			kill_after_us "$us" -c name=p$i path="$ROOT" persist
		fi
		inside=$((inside + KILLED))
		local what="run $i (killed after $us µs, seed $seed)"
		for name in $(jls name); do
			listed=$((listed + 1))
			must "$what: jail -r $name" jail -r "$name"
		done
		must "$what: the next create" jail -c name=next path="$ROOT" persist &&
			must "$what: its remove" jail -r next
		c=$(census "$ROOT" | grep -Ev '^run .*\.tmp\.[0-9]+$')
		[ "$c" = "$start" ] || problem "$what: census differs: $(diff <(printf '%s\n' "$start") <(printf '%s\n' "$c") | grep '^[<>]' | tr '\n' ' ')"
		[ $PROBLEM = 1 ] && hard_reset
	done
	echo "# kills inside a create: $inside of $runs; jails listed after a kill: $listed; ${#problems[@]} problems" >&2
	[ $inside -gt 0 ] || t_fail "no kill landed inside a create"
	if [ ${#problems[@]} -gt 0 ]; then
		printf '# problem: %s\n' "${problems[@]}" >&2
		t_fail "${#problems[@]} problems (replay with LJ_SEED=$seed)"
	fi
	census_eq "$start" "$(census "$ROOT")" "census at the end"
}

# The processes of the case's cgroups, after at most 2 s for a dying init to be gone.
procs_settled() {
	local i p
	for i in $(seq 40); do
		p=$(census "$ROOT" | grep '^proc ')
		[ -z "$p" ] && return 0
		sleep 0.05
	done
	echo "$p"
}

# jail(8)'s exit status when the fault step STEP makes it kill itself (no "Killed" from bash)
killed_at() {
	local step=$1; shift
	local rc=0
	{ LJAIL_FAIL_STEP=$step jail "$@" >/dev/null 2>&1; } 2>/dev/null || rc=$?
	echo "$rc"
}

# jail(8) killed at the two ends of the record's write, at fixed points (fault injection):
# before it, the init exits by itself and takes the jail's processes (a command that went
# early) with it, and nothing is listed; after it, the jail lives on as on FreeBSD, and the
# next create leaves it alone.
case_kill_at_the_record() {
	t_defer cleanup_jails
	mkroot
	local start
	start=$(census "$ROOT")
	local rc
	rc=$(killed_at kill-before-record -c name=a path="$ROOT" persist)
	t_eq "$rc" 137 "jail(8) killed before the record"
	t_eq "$(procs_settled)" "" "no process left in the jail nobody can list"
	t_eq "$(jls name)" "" "nothing listed"
	rc=$(killed_at kill-before-record -c name=c path="$ROOT" command=/bin/sleep 30)
	t_eq "$rc" 137 "jail(8) of a command jail killed before the record"
	t_eq "$(procs_settled)" "" "the command that went early is gone with its init"
	# the next create takes the groups away
	t_run 0 jail -c name=b path="$ROOT" persist
	t_run 0 jail -r b
	census_eq "$start" "$(census "$ROOT")" "census after the next create"

	rc=$(killed_at kill-after-record -c name=a path="$ROOT" persist)
	t_eq "$rc" 137 "jail(8) killed after the record"
	t_eq "$(jls name)" "a" "the jail lives on"
	t_run 0 jail -c name=b path="$ROOT" persist
	t_eq "$(jls name | sort | tr '\n' ' ')" "a b " "the next create left it alone"
	t_run 0 jexec a /bin/true
	t_run 0 jail -r a b
	census_eq "$start" "$(census "$ROOT")" "census after the jail that lived on"

	# the commit as a request, where the init's flag cannot be written directly: the jail
	# outlives its jail(8), and a command jail's request that crosses the init's exit is no
	# error
	LJAIL_FAIL_STEP=isolate-commit-request t_run 0 jail -c name=a path="$ROOT" persist
	t_run 0 jexec a /bin/true
	t_run 0 jail -r a
	local i
	for i in $(seq 100); do
		LJAIL_FAIL_STEP=isolate-commit-request t_run 0 jail -c name=c path="$ROOT" command=/bin/true
	done
	census_eq "$start" "$(census "$ROOT")" "census at the end"
}

# The checks after one kill (WHAT names the run); problems are noted, not fatal.
run_checks() {
	local what=$1 name rc c

	# every jail listed can be entered
	local err
	for name in $(jls name); do
		if ! err=$(jexec "$name" /bin/true 2>&1); then
			sleep 0.2
			problem "$what: jls lists $name but jexec $name /bin/true fails: $err ($(jls name | grep -qx "$name" && echo 'still listed 200 ms later' || echo 'no longer listed 200 ms later: it was dying'))"
		fi
	done
	# take it away
	if jls name | grep -qx jc; then
		rc=0
		jail -f "$conf" -r jc >"$T/r.out" 2>&1 || rc=$?
		if [ $rc != 0 ] || jls name | grep -qx jc; then
			need_R=$((need_R + 1))
			echo "# $what: jail -r failed ($rc): $(tr '\n' ' ' <"$T/r.out"); trying -R" >&2
			must "$what" jail -R jc || return 0
		fi
	else
		# not running (never made, or the remove got past the kill): the post-removal
		# steps take back what a killed create or remove mounted
		rc=0
		jail -f "$conf" -r -C jc >"$T/r.out" 2>&1 || rc=$?
		need_C=$((need_C + 1))
	fi
	[ -z "$(jls name)" ] || { problem "$what: jails left after the removal: $(jls name)"; return 0; }
	# the name can be used again
	must "$what: create again" jail -f "$conf" -c jc || return 0
	must "$what: the new jail" jexec jc cat /mnt/a/f || return 0
	must "$what: remove again" jail -f "$conf" -r jc || return 0
	# a temp file of an atomic write the kill interrupted is no half-written record (the
	# rename never happened) but is left behind: counted, and reported at the end
	c=$(census "$ROOT")
	stray=$(printf '%s\n' "$c" | grep -E '^run .*\.tmp\.[0-9]+$' | sed 's/^run //' | tr '\n' ' ')
	if [ -n "$stray" ]; then
		strays+=("run $i: $stray")
		(cd "$LJAIL_RUNDIR" && rm -f $stray) # so that the next runs count only their own
	fi
	c=$(printf '%s\n' "$c" | grep -Ev '^run .*\.tmp\.[0-9]+$')
	[ "$c" = "$start" ] || problem "$what: census differs: $(diff <(printf '%s\n' "$start") <(printf '%s\n' "$c") | grep '^[<>]' | tr '\n' ' ')"
	# every record there is whole
	for r in "$LJAIL_RUNDIR"/*.jail; do
		[ -f "$r" ] || continue
		grep -q '^jid=' "$r" && grep -q '^name=' "$r" || problem "$what: half-written record $r"
	done
}

t_main "$@"
