#!/usr/bin/env bash
# rctl(8) and the jail's cgroup: every limit is checked by what a process in the group can or
# cannot do. The group is made through src/cgroup (lj-cg-helper), independent of the lifecycle.
. "$(dirname "$0")/../lib/lib.sh"

H=$LJAIL_BUILD/tests/unit/cgroup/lj-cg-helper

mkgroup() {
	"$H" create "$1"
	t_defer "$H" destroy "$1"
	t_defer "$H" kill "$1"
}

wait_in_group() { # NAME COUNT
	local i
	for i in $(seq 100); do
		[ "$("$H" pids "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	t_fail "group $1 never held $2 processes"
}

has_sys_resource() { # CAP_SYS_RESOURCE (bit 24) in the effective set
	local eff
	eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
	(( (16#$eff >> 24) & 1 ))
}

usage_of() { # NAME RESOURCE: the value rctl -u reports
	rctl -u "jail:$1" | sed -n "s/^$2=//p"
}

# Every cgroup hierarchy mounted here, from mountinfo (no fixed paths).
cgroup_mounts() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup" || $(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo
}

# After the last jail: the root group of a v1 hierarchy is gone; the cgroup2 one is kept, with
# no group left in it.
root_gone() {
	local m=$1
	if [ "$(stat -f -c %T "$m")" = cgroup2fs ]; then
		[ -d "$m/$LJAIL_CGROUP_ROOT" ] || t_fail "$m/$LJAIL_CGROUP_ROOT (cgroup2) was removed"
		[ -z "$(find "$m/$LJAIL_CGROUP_ROOT" -mindepth 1 -type d 2>/dev/null)" ] ||
			t_fail "groups left under $m/$LJAIL_CGROUP_ROOT"
	else
		[ ! -e "$m/$LJAIL_CGROUP_ROOT" ] || t_fail "$m/$LJAIL_CGROUP_ROOT is left"
	fi
}

case_memoryuse_deny() {
	mkgroup web
	t_run 0 rctl -a jail:web:memoryuse:deny=64M
	t_run 0 rctl
	t_eq "$T_OUT" "jail:web:memoryuse:deny=67108864" "rctl lists the rule"
	# within the limit: fine
	t_run 0 "$H" run web "$H" alloc 30
	t_eq "$T_OUT" "allocated 30" "30 MB in a 64 MB jail"
	# over it: the process is stopped
	local rc=0
	"$H" run web "$H" alloc 200 >"$T/out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || t_fail "200 MB allocated in a 64 MB jail: $(cat "$T/out")"
	t_eq "$rc" 137 "exit status of the process over the limit (SIGKILL)"
	# the host is untouched: the same allocation outside the jail works
	t_run 0 "$H" alloc 200
	t_eq "$T_OUT" "allocated 200" "200 MB on the host"
	# removing the rule lifts the limit
	t_run 0 rctl -r jail:web:memoryuse
	t_run 0 rctl
	t_eq "$T_OUT" "" "no rule left"
	t_run 0 "$H" run web "$H" alloc 200
	t_eq "$T_OUT" "allocated 200" "200 MB after the rule is removed"
}

case_maxproc_deny() {
	mkgroup web
	t_run 0 rctl -a jail:web:maxproc:deny=20
	# the forking process is the first of the 20: 19 children, then EAGAIN
	t_run 0 "$H" run web "$H" forks 40
	t_eq "$T_OUT" "19 EAGAIN" "forks in a jail with maxproc 20"
	# outside the jail nothing is limited
	t_run 0 "$H" forks 40
	t_eq "$T_OUT" "40 ok" "forks on the host"
	t_run 0 rctl -r jail:web
	t_run 0 "$H" run web "$H" forks 40
	t_eq "$T_OUT" "40 ok" "forks after the rule is removed"
}

case_pcpu_deny() {
	mkgroup web
	# other work on the machine takes its share: measure what a loop gets without a limit
	local base=0 i
	for i in 1 2 3; do
		t_run 0 "$H" run web "$H" spin 1
		[ "$T_OUT" -gt "$base" ] && base=$T_OUT
		[ "$base" -ge 70 ] && break
	done
	[ "$base" -ge 30 ] || t_skip "a busy loop gets only $base% of a CPU here without a limit"
	t_run 0 rctl -a jail:web:pcpu:deny=20
	t_run 0 "$H" run web "$H" spin 3
	local pct=$T_OUT
	echo "# busy loop: $base% without a limit, $pct% under pcpu:deny=20" >&2
	[ "$pct" -ge 12 ] && [ "$pct" -le 28 ] || t_fail "busy loop got $pct% of a CPU, want 20 +- 8"
	t_run 0 rctl -r jail:web:pcpu:deny
	# lifted: the scheduler no longer throttles the group (its own count of throttled periods
	# stays), and the loop gets clearly more than the old 20% unless the machine is that busy
	local statf="" d
	for d in $("$H" dirs web); do
		grep -qs '^nr_throttled' "$d/cpu.stat" && statf=$d/cpu.stat
	done
	[ -n "$statf" ] || t_fail "no cpu.stat with nr_throttled for the group"
	local before after
	before=$(awk '$1 == "nr_throttled" {print $2}' "$statf")
	"$H" run web "$H" spin 2 >"$T/in" &
	local a=$!
	"$H" spin 2 >"$T/out" &
	wait "$a" $!
	after=$(awk '$1 == "nr_throttled" {print $2}' "$statf")
	local in out
	in=$(cat "$T/in") out=$(cat "$T/out")
	echo "# after removing the rule: $in% in the jail, $out% beside it on the host" >&2
	t_eq "$after" "$before" "periods throttled while the loop ran without a rule"
	[ "$in" -gt 24 ] || [ "$out" -le 30 ] ||
		t_fail "after removing the rule the loop got $in% (a host loop beside it $out%)"
}

case_usage_matches() {
	mkgroup web
	t_run 0 rctl -u jail:web
	t_eq "$(echo "$T_OUT" | wc -l)" 25 "rctl -u prints the 25 resources"
	t_eq "$(echo "$T_OUT" | cut -d= -f1 | tr '\n' ' ')" "cputime datasize stacksize coredumpsize memoryuse memorylocked maxproc openfiles vmemoryuse pseudoterminals swapuse nthr msgqqueued msgqsize nmsgq nsem nsemop nshm shmsize wallclock pcpu readbps writebps readiops writeiops " "resource order"
	t_eq "$(usage_of web maxproc)" 0 "maxproc of an empty jail"
	"$H" run web sleep 1000 &
	"$H" run web sleep 1000 &
	"$H" run web "$H" hold 50 >"$T/hold" &
	wait_in_group web 3
	for i in $(seq 100); do grep -q holding "$T/hold" && break; sleep 0.05; done
	t_eq "$(usage_of web maxproc)" 3 "maxproc with three processes"
	t_eq "$(usage_of web nthr)" 3 "nthr with three single-threaded processes"
	local mem
	mem=$(usage_of web memoryuse)
	[ "$mem" -ge $((50 << 20)) ] && [ "$mem" -le $((80 << 20)) ] ||
		t_fail "memoryuse $mem with 50 MB held, want 50..80 MB"
	t_run 0 rctl -u -h jail:web
	t_match "$T_OUT" "^memoryuse=[5-7][0-9]M$" "rctl -u -h humanizes"
	# a busy process shows up in pcpu
	"$H" run web "$H" spin 5 >/dev/null &
	sleep 0.5
	local pcpu
	pcpu=$(usage_of web pcpu)
	[ "$pcpu" -ge 20 ] || t_fail "pcpu $pcpu with a busy loop running"
}

case_rules_from_conf() {
	mkgroup web
	cat >"$T/rctl.conf" <<-EOF
	# limits for the web jail
	jail:web:maxproc:deny=10
	jail:other:maxproc:deny=1
	EOF
	export LJAIL_RCTL_CONF=$T/rctl.conf
	# what the lifecycle does at create: rctl.conf plus the jail.conf parameter
	t_run 0 "$H" apply web "memoryuse:deny=64M"
	t_run 0 rctl jail:web
	t_eq "$T_OUT" "jail:web:maxproc:deny=10
jail:web:memoryuse:deny=67108864" "rules applied to web"
	t_run 0 "$H" run web "$H" forks 40
	t_eq "$T_OUT" "9 EAGAIN" "maxproc from rctl.conf enforced"
	local rc=0
	"$H" run web "$H" alloc 200 >/dev/null 2>&1 || rc=$?
	t_eq "$rc" 137 "memoryuse from the parameter enforced"
	# a bad parameter is refused by name and changes nothing
	t_run 1 "$H" apply web "memoryuse:log=1"
	t_match "$T_ERR" 'parameter rctl "memoryuse:log=1".*log' "bad parameter named"
	t_run 0 "$H" run web "$H" forks 40
	t_eq "$T_OUT" "9 EAGAIN" "limits after a refused parameter"
}

case_destroy_leaves_nothing() {
	"$H" create gone
	"$H" run gone sleep 1000 &
	wait_in_group gone 1
	t_run 0 rctl -a jail:gone:maxproc:deny=5
	t_run 1 "$H" destroy gone
	t_match "$T_ERR" "still has 1 process" "destroy refuses a populated group"
	t_run 0 "$H" kill gone
	t_run 0 "$H" destroy gone
	local m n=0
	for m in $(cgroup_mounts); do
		n=$((n + 1))
		[ ! -e "$m/$LJAIL_CGROUP_ROOT/gone" ] || t_fail "$m/$LJAIL_CGROUP_ROOT/gone is left"
		root_gone "$m"
	done
	[ "$n" -gt 0 ] || t_fail "no cgroup mount found"
	t_run 1 "$H" dirs gone
	rctl -r jail:gone
}

# Without cgroup.kill (kernels before 5.14) the group is frozen, killed and thawed until empty;
# a process forking as fast as it can must not outrun it.
case_kill_without_cgroup_kill() {
	mkgroup fb
	"$H" run fb sh -c 'while :; do sleep 10 & done' >/dev/null 2>&1 &
	wait_in_group fb 50
	LJAIL_FAIL_STEP=cgroup-no-kill-file t_run 0 "$H" kill fb
	t_eq "$("$H" pids fb | wc -l)" 0 "processes left after the kill"
	t_run 0 "$H" destroy fb
}

case_create_undone_on_failure() {
	local n m
	n=$(cgroup_mounts | wc -l)
	[ "$n" -ge 2 ] || t_skip "one cgroup hierarchy only"
	# fail after the second hierarchy: the two groups made, and the root groups, go again
	LJAIL_FAIL_STEP=cgroup-create:2 t_run 1 "$H" create half
	t_match "$T_ERR" "failed after 2 hierarchies" "the injected failure"
	for m in $(cgroup_mounts); do
		[ ! -e "$m/$LJAIL_CGROUP_ROOT" ] || t_fail "$m/$LJAIL_CGROUP_ROOT is left"
	done
	# a group of another jail is not touched by the undo
	mkgroup keep
	LJAIL_FAIL_STEP=cgroup-create:3 t_run 1 "$H" create half
	t_run 0 "$H" dirs keep
	t_eq "$(echo "$T_OUT" | wc -l)" "$("$H" dirs keep | wc -l)" "dirs of the other jail"
	t_run 1 "$H" dirs half
}

# The usual layouts are found by statfs, without mountinfo: the group's folders are the ones the
# mountinfo reading finds (resolved: co-mounted controllers may be named by either path).
case_layout_without_mountinfo() {
	mkgroup lay
	local fast slow
	fast=$("$H" dirs lay | xargs -r readlink -f | sort)
	slow=$(LJAIL_CGROUP_MOUNTINFO=/proc/self/mountinfo "$H" dirs lay | xargs -r readlink -f | sort)
	[ -n "$fast" ] || t_fail "no folder found"
	t_eq "$fast" "$slow" "folders found by statfs and by mountinfo"
}

# With cgroup2 a jail's group is its cgroup2 folder: v1 folders a crash left without it are no
# group (open says so), and the next create of that name (jail(8), v1 groups made lazily)
# removes them, so that none of their limits carry over.
case_v1_leftover_without_cgroup2() {
	command -v jail >/dev/null || t_skip "jail(8) is not built"
	local m v2="" v1
	for m in $(cgroup_mounts); do
		[ "$(stat -fc %T "$m")" = cgroup2fs ] && v2=$m
	done
	# the v1 hierarchies of the controllers ljail uses
	v1=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup" && $NF ~ /(^|,)(cpuset|cpu|cpuacct|memory|pids|blkio|freezer)(,|$)/) print $5; break } }' /proc/self/mountinfo)
	[ -n "$v2" ] && [ -n "$v1" ] || t_skip "needs cgroup2 beside v1 hierarchies (a hybrid host)"
	for m in $v1; do
		mkdir -p "$m/$LJAIL_CGROUP_ROOT/lo"
	done
	t_run 1 "$H" dirs lo
	t_match "$T_ERR" "has no cgroup" "v1 leftovers alone are no group"
	t_run 0 jail -c name=lo path=/ persist
	t_defer jail -r lo
	for m in $v1; do
		[ ! -e "$m/$LJAIL_CGROUP_ROOT/lo" ] || t_fail "$m/$LJAIL_CGROUP_ROOT/lo left by a crash is still there"
	done
	t_run 0 jail -r lo
	for m in $v1 $v2; do root_gone "$m"; done
}

case_bad_input() {
	mkgroup web
	t_run 1 rctl -a jail:web:bogus:deny=1
	t_eq "$T_ERR" "rctl: failed to add rule 'jail:web:bogus:deny=1': unknown resource 'bogus': Invalid argument" "unknown resource"
	t_run 1 rctl -a jail:web:maxproc:explode=1
	t_eq "$T_ERR" "rctl: failed to add rule 'jail:web:maxproc:explode=1': unknown action 'explode': Invalid argument" "unknown action"
	t_run 1 rctl -a jail:web:maxproc:deny=ten
	t_eq "$T_ERR" "rctl: malformed rule 'jail:web:maxproc:deny=ten': invalid numeric value 'ten'" "bad amount"
	t_run 1 rctl -a jail
	t_eq "$T_ERR" "rctl: malformed rule 'jail': missing subject" "missing subject"
	t_run 1 rctl -a jail:web:wallclock:deny=10
	t_match "$T_ERR" "^rctl: failed to add rule 'jail:web:wallclock:deny=10': .*wallclock.*Operation not supported$" "wallclock named"
	t_run 1 rctl -a jail:web:openfiles:deny=10
	t_match "$T_ERR" "openfiles with action deny cannot be enforced on Linux" "openfiles jail-wide named"
	t_run 1 rctl -a jail:web:maxproc:log=10
	t_match "$T_ERR" "maxproc with action log cannot be enforced on Linux" "log named"
	t_run 2 rctl -a jail:web:maxproc:deny=x jail:web:nope:deny=1
	t_run 1 rctl -r jail:web
	t_eq "$T_ERR" "rctl: failed to remove rule 'jail:web': no rule matches: No such process" "remove without a match"
	t_run 1 rctl -a -r jail:web
	t_eq "$T_ERR" "rctl: at most one of -a, -l, -r, or -u may be specified" "two verbs"
	t_run 1 rctl -u jail:
	t_match "$T_ERR" "^rctl: failed to show resource consumption for 'jail:': " "usage needs an id"
	# nothing changed: no rule, no limit
	t_run 0 rctl
	t_eq "$T_OUT" "" "no rule stored"
	t_run 0 "$H" run web "$H" forks 40
	t_eq "$T_OUT" "40 ok" "no limit applied"
}

case_process_rules() {
	sleep 1000 &
	local p=$!
	t_defer kill "$p"
	t_run 0 rctl -a "process:$p:openfiles:deny=64"
	t_match "$(grep 'Max open files' /proc/$p/limits)" "64 +64" "RLIMIT_NOFILE of the process"
	t_run 0 rctl -l "process:$p"
	t_eq "$T_OUT" "process:$p:openfiles:deny=64" "rctl -l process:PID"
	t_run 0 rctl -u "process:$p"
	t_eq "$(echo "$T_OUT" | wc -l)" 17 "process usage omits the per-credential resources"
	if has_sys_resource; then
		t_run 0 rctl -r "process:$p"
		t_match "$(grep 'Max open files' /proc/$p/limits)" "$(ulimit -Sn) +$(ulimit -Hn)" "limit lifted"
	else
		# without CAP_SYS_RESOURCE a hard limit cannot go up again: the rule goes, and rctl
		# says that the limit stays
		t_run 1 rctl -r "process:$p"
		t_match "$T_ERR" "pid $p keeps openfiles at 64: raising a hard limit needs CAP_SYS_RESOURCE" "why the limit stays"
		t_run 0 rctl
		t_eq "$T_OUT" "" "the rule is gone"
	fi
	# jail rules with /process become rlimits of every process in the jail
	mkgroup web
	"$H" run web sleep 1000 &
	wait_in_group web 1
	t_run 0 rctl -a jail:web:openfiles:deny=100/process
	local q
	q=$("$H" pids web)
	t_match "$(grep 'Max open files' /proc/$q/limits)" "100 +100" "jail-wide /process rule"
	t_run 0 "$H" run web sh -c 'ulimit -n'
	t_eq "$T_OUT" 100 "a process entering the jail later (as jexec does)"
	t_run 0 "$H" run web sh -c 'sh -c "ulimit -n"'
	t_eq "$T_OUT" 100 "a process forked in the jail"
	t_run 0 rctl -l "process:$q"
	t_eq "$T_OUT" "jail:web:openfiles:deny=100/process" "rctl -l of a jailed process"
	if has_sys_resource; then t_run 0 rctl -r jail:web; else t_run 1 rctl -r jail:web; fi
}

# The whole path through jail(8): the `rctl` parameter and rctl.conf at create, cpuset and rctl
# on the running jail, and no group left after removal.
case_real_jail() {
	command -v jail >/dev/null && command -v jexec >/dev/null || t_skip "jail(8) is not built"
	printf 'jail:rj:memoryuse:deny=64M\n' >"$T/rctl.conf"
	export LJAIL_RCTL_CONF=$T/rctl.conf
	t_run 0 jail -c name=rj path=/ persist "rctl=maxproc:deny=10"
	t_defer jail -r rj
	t_run 0 rctl jail:rj
	t_eq "$T_OUT" "jail:rj:memoryuse:deny=67108864
jail:rj:maxproc:deny=10" "rules of the running jail"
	t_run 0 cpuset -l 0 -j rj
	t_run 0 jexec rj grep Cpus_allowed_list /proc/self/status
	t_match "$T_OUT" "[[:space:]]0$" "affinity inside the jail"
	local rc=0
	jexec rj "$H" alloc 200 >/dev/null 2>&1 || rc=$?
	t_eq "$rc" 137 "200 MB in the jail with memoryuse:deny=64M"
	t_run 0 jexec rj "$H" forks 40
	t_match "$T_OUT" "^[0-9]+ EAGAIN$" "maxproc from the parameter"
	t_run 0 jail -r rj
	local m
	for m in $(cgroup_mounts); do
		[ ! -e "$m/$LJAIL_CGROUP_ROOT/rj" ] || t_fail "$m/$LJAIL_CGROUP_ROOT/rj is left"
	done
}


# A jail without limits has its group on cgroup2 only (no v1 mkdir, no migration at create): the
# v1 group of a controller appears with the first rule that needs it, with every process of the
# jail in it, and processes started later join it too.
case_lazy_v1_groups() {
	command -v jail >/dev/null && command -v jexec >/dev/null || t_skip "jail(8) is not built"
	local m v2="" v1=""
	for m in $(cgroup_mounts); do
		if [ "$(stat -fc %T "$m")" = cgroup2fs ]; then v2=$m; else v1="$v1 $m"; fi
	done
	[ -n "$v2" ] && [ -n "$v1" ] || t_skip "needs cgroup2 beside v1 hierarchies (a hybrid host)"
	local mem
	mem=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup" && $NF ~ /(^|,)memory(,|$)/) print $5; break } }' /proc/self/mountinfo)
	[ -n "$mem" ] || t_skip "no v1 memory hierarchy"
	t_run 0 jail -c name=lz path=/ persist
	t_defer jail -r lz
	for m in $v1; do
		[ ! -e "$m/$LJAIL_CGROUP_ROOT/lz" ] || t_fail "$m/$LJAIL_CGROUP_ROOT/lz made for a jail without limits"
	done
	[ -d "$v2/$LJAIL_CGROUP_ROOT/lz" ] || t_fail "no cgroup2 group for the jail"
	jexec lz sleep 1000 &
	local i
	for i in $(seq 100); do
		[ "$(wc -l <"$v2/$LJAIL_CGROUP_ROOT/lz/cgroup.procs")" -ge 2 ] && break
		sleep 0.05
	done
	t_eq "$(wc -l <"$v2/$LJAIL_CGROUP_ROOT/lz/cgroup.procs")" 2 "init and sleep in the cgroup2 group"
	# usage without v1 groups: from cgroup2's cpu.stat and the processes themselves
	t_eq "$(usage_of lz maxproc)" 2 "maxproc before any limit"
	local use
	use=$(usage_of lz memoryuse)
	[ "$use" -gt 0 ] || t_fail "memoryuse $use of a jail with two processes"
	t_run 0 rctl -a jail:lz:memoryuse:deny=64M
	[ -d "$mem/$LJAIL_CGROUP_ROOT/lz" ] || t_fail "rctl -a made no memory group"
	t_eq "$(sort "$mem/$LJAIL_CGROUP_ROOT/lz/cgroup.procs" | tr '\n' ' ')" \
		"$(sort "$v2/$LJAIL_CGROUP_ROOT/lz/cgroup.procs" | tr '\n' ' ')" \
		"every process of the jail moved into the new memory group"
	for m in $v1; do
		[ "$m" = "$mem" ] && continue
		[ ! -e "$m/$LJAIL_CGROUP_ROOT/lz" ] || t_fail "$m/$LJAIL_CGROUP_ROOT/lz made for a memory rule"
	done
	local rc=0
	jexec lz "$H" alloc 200 >/dev/null 2>&1 || rc=$?
	t_eq "$rc" 137 "200 MB in the jail after rctl -a memoryuse:deny=64M"
	t_run 0 rctl -r jail:lz
	t_run 0 jail -r lz
	for m in $(cgroup_mounts); do
		[ ! -e "$m/$LJAIL_CGROUP_ROOT/lz" ] || t_fail "$m/$LJAIL_CGROUP_ROOT/lz is left"
		root_gone "$m"
	done
}

t_main "$@"
