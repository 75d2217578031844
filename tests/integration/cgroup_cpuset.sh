#!/usr/bin/env bash
# cpuset(1) on jails and processes: what the processes themselves see, not what files hold.
# The jail is a group made through src/cgroup (lj-cg-helper) plus a registry record, so these
# cases do not depend on the jail lifecycle.
. "$(dirname "$0")/../lib/lib.sh"

H=$LJAIL_BUILD/tests/unit/cgroup/lj-cg-helper

# mkjail NAME JID: a group, a process in it standing in for the jail's init, a registry record.
mkjail() {
	"$H" create "$1"
	t_defer "$H" destroy "$1"
	t_defer "$H" kill "$1"
	"$H" run "$1" sleep 1000 &
	local init=$!
	wait_in_group "$1" 1
	"$H" register "$1" "$2" "$init"
}

wait_in_group() { # NAME COUNT: until COUNT processes are in the group
	local i
	for i in $(seq 100); do
		[ "$("$H" pids "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	t_fail "group $1 never held $2 processes"
}

# A shell in the jail that reports its own affinity, read by itself (a builtin read, no child).
start_reporter() { # NAME FILE
	"$H" run "$1" bash -c 'while :; do while read -r k v; do
		[ "$k" = Cpus_allowed_list: ] && echo "$v" >"$0.new" && mv "$0.new" "$0"; done </proc/self/status
		sleep 0.05; done' "$2" &
	REPORTER=$!
}

wait_file_eq() { # FILE VALUE WHAT
	local i
	for i in $(seq 100); do
		[ "$(cat "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	t_eq "$(cat "$1" 2>/dev/null)" "$2" "$3"
}

case_jail_pinned_to_cpu0() {
	[ "$(nproc --all)" -ge 2 ] || t_skip "needs 2 CPUs"
	mkjail web 4
	start_reporter web "$T/before"
	wait_file_eq "$T/before" "0-1" "affinity before pinning"
	t_run 0 cpuset -g -j 4
	t_eq "$T_OUT" "jail 4 mask: 0, 1
jail 4 domain policy: first-touch mask: 0" "cpuset -g -j 4 before"

	t_run 0 cpuset -l 0 -j 4
	t_eq "$T_OUT" "" "setting prints nothing"
	# the process that was already running sees {0} from inside
	wait_file_eq "$T/before" "0" "affinity of a running process after cpuset -l 0 -j 4"
	# and so does one started afterwards
	t_run 0 "$H" run web grep Cpus_allowed_list /proc/self/status
	t_match "$T_OUT" "Cpus_allowed_list:[[:space:]]+0$" "affinity of a process started after"
	# and one started by a process of the jail
	t_run 0 "$H" run web sh -c 'sh -c "grep Cpus_allowed_list /proc/self/status"'
	t_match "$T_OUT" "Cpus_allowed_list:[[:space:]]+0$" "affinity of a grandchild"
	t_run 0 cpuset -g -j web
	t_eq "$(echo "$T_OUT" | head -n1)" "jail 4 mask: 0" "cpuset -g -j web (by name)"

	# the set id, as jls shows cpuset.id
	t_run 0 cpuset -g -i -j web
	t_eq "$T_OUT" "jail 4 cpuset id: 5" "cpuset -g -i -j"
	t_run 0 cpuset -g -i -p "$REPORTER"
	t_eq "$T_OUT" "pid $REPORTER cpuset id: 5" "set id of a process in the jail"
	t_run 0 cpuset -g -i -p $$
	t_eq "$T_OUT" "pid $$ cpuset id: 1" "set id of a process in no jail"

	# widening again reaches the running processes too
	t_run 0 cpuset -l 0-1 -j web
	wait_file_eq "$T/before" "0-1" "affinity after cpuset -l 0-1 -j web"
}

case_jail_threads_follow() {
	[ "$(nproc --all)" -ge 2 ] || t_skip "needs 2 CPUs"
	mkjail mt 7
	# a multi-threaded process: every thread gets the mask
	"$H" run mt "$H" threads 3 >/dev/null &
	local py=$!
	for i in $(seq 100); do [ "$(ls /proc/$py/task 2>/dev/null | wc -l)" -ge 4 ] && break; sleep 0.05; done
	t_run 0 cpuset -l 1 -j 7
	local t
	for t in /proc/$py/task/*; do
		t_match "$(grep Cpus_allowed_list "$t/status")" "[[:space:]]1$" "thread ${t##*/}"
	done
}

# The group alone would hand a process its own earlier mask back when the set widens again; the
# affinity of every process is set too, so the whole jail gets what cpuset -j said.
case_jail_mask_wins_over_own_affinity() {
	[ "$(nproc --all)" -ge 2 ] || t_skip "needs 2 CPUs"
	mkjail web 4
	start_reporter web "$T/aff"
	wait_file_eq "$T/aff" "0-1" "affinity at start"
	t_run 0 cpuset -l 1 -p "$REPORTER"
	wait_file_eq "$T/aff" "1" "the process narrowed itself to CPU 1"
	t_run 0 cpuset -l 0 -j 4
	wait_file_eq "$T/aff" "0" "after cpuset -l 0 -j 4"
	t_run 0 cpuset -l 0-1 -j 4
	wait_file_eq "$T/aff" "0-1" "after cpuset -l 0-1 -j 4"
}

case_process_and_command() {
	[ "$(nproc --all)" -ge 2 ] || t_skip "needs 2 CPUs"
	t_run 0 cpuset -l 1 grep Cpus_allowed_list /proc/self/status
	t_match "$T_OUT" "[[:space:]]1$" "cpuset -l 1 CMD"
	sleep 1000 &
	local p=$!
	t_defer kill "$p"
	t_run 0 cpuset -l 0 -p "$p"
	t_run 0 cpuset -g -p "$p"
	t_eq "$T_OUT" "pid $p mask: 0
pid $p domain policy: first-touch mask: 0" "cpuset -g -p"
	t_match "$(grep Cpus_allowed_list /proc/$p/status)" "[[:space:]]0$" "affinity of -p"
	t_run 0 cpuset -l 0,1 -p "$p"
	t_match "$(grep Cpus_allowed_list /proc/$p/status)" "[[:space:]]0-1$" "list 0,1"
	t_run 0 cpuset -g
	t_match "$T_OUT" "^pid -1 mask: 0, 1" "cpuset -g"
}

case_bad_input() {
	mkjail web 4
	start_reporter web "$T/aff"
	wait_file_eq "$T/aff" "0-1" "affinity at start"
	t_run 1 cpuset -l 7 -j 4
	t_eq "$T_ERR" "cpuset: setaffinity: Invalid argument" "CPU that does not exist"
	t_run 1 cpuset -l 0,7 -j 4
	t_eq "$T_ERR" "cpuset: setaffinity: Invalid argument" "list with a CPU that does not exist"
	t_run 1 cpuset -l 0- -j 4
	t_eq "$T_ERR" "cpuset: Malformed list 0-" "malformed list"
	t_run 1 cpuset -l 2000 -j 4
	t_eq "$T_ERR" "cpuset: List entry 2000 exceeds maximum of 1024" "entry too big"
	t_run 1 cpuset -l 0 -j nosuch
	t_eq "$T_ERR" 'cpuset: jail "nosuch" not found' "unknown jail"
	t_run 1 cpuset -g -j 99
	t_eq "$T_ERR" 'cpuset: jail "99" not found' "unknown jid"
	t_run 1 cpuset -g -p 999999999
	t_match "$T_ERR" "^cpuset: (getaffinity: No such process|invalid pid: 999999999)$" "no such pid"
	t_run 1 cpuset -l 0
	t_match "$T_ERR" "^usage: cpuset" "nothing to act on"
	t_run 127 cpuset -l 0 /nonexistent/cmd
	t_eq "$T_ERR" "cpuset: /nonexistent/cmd: No such file or directory" "command not found"
	# nothing changed
	t_run 0 cpuset -g -j 4
	t_eq "$(echo "$T_OUT" | head -n1)" "jail 4 mask: 0, 1" "mask after the errors"
	sleep 0.3
	t_eq "$(cat "$T/aff")" "0-1" "affinity after the errors"
}

t_main "$@"
