#!/usr/bin/env bash
# jail(8) on many jails of one jail.conf: independent jails run concurrently (LJAIL_PARALLEL, -p),
# `depend` orders creation and removal, a failure stops only its dependents, the output is the
# sequential run's, and nothing is left behind.
. "$(dirname "$0")/../lib/lib.sh"

t_cleanup_jails() {
	local n
	for n in $(jls name 2>/dev/null); do jail -R "$n" >/dev/null 2>&1 || true; done
	local l
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '/epair/ {sub(/@.*/, "", $2); print $2}'); do
		ip link del "$l" 2>/dev/null || true
	done
}

# 32 jails, written in a shuffled order: chains p4k <- p4k+1 <- p4k+2 (p4k+2 also depends on
# p0, the hub), independents p4k+3, which are VNET jails with an epair of their own. Every
# exec.* step appends "STEP NAME" to $T/log.
write_conf() {
	local conf=$T/jail.conf i k
	cat >"$conf" <<EOF
path = "/";
persist;
exec.prestart = "echo pre \$name >>$T/log";
exec.poststart = "echo post \$name >>$T/log";
exec.prestop = "echo stop \$name >>$T/log";
exec.poststop = "echo gone \$name >>$T/log";
EOF
	for ((k = 0; k < 32; k++)); do
		i=$(((k * 13 + 5) % 32))
		case $((i % 4)) in
		0) echo "p$i { }" ;;
		1) echo "p$i { depend = p$((i - 1)); }" ;;
		2) echo "p$i { depend = p$((i - 1)), p0; }" ;;
		3) cat <<EOF
p$i {
	vnet;
	vnet.interface = "epair${i}b";
	exec.prestart += "ifconfig epair$i create up";
	exec.poststop += "ifconfig epair${i}a destroy";
}
EOF
			;;
		esac
	done >>"$conf"
}

# deps NAME: the jails NAME depends on
deps() {
	local i=${1#p}
	case $((i % 4)) in
	1) echo "p$((i - 1))" ;;
	2) echo "p$((i - 1)) p0" ;;
	esac
}

# line_of WORD NAME: the line number of "WORD NAME" in the log (0 when absent)
line_of() {
	local n
	n=$(grep -n -x "$1 $2" "$T/log" | head -1 | cut -d: -f1)
	echo "${n:-0}"
}

check_create_order() {
	local i d a b
	for ((i = 0; i < 32; i++)); do
		for d in $(deps "p$i"); do
			a=$(line_of post "$d") b=$(line_of pre "p$i")
			[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$a" -lt "$b" ] ||
				t_fail "p$i started (log line $b) before its dependency $d was created (line $a)"
		done
	done
}

check_remove_order() {
	local i d a b
	for ((i = 0; i < 32; i++)); do
		for d in $(deps "p$i"); do
			a=$(line_of gone "p$i") b=$(line_of stop "$d")
			[ "$a" -gt 0 ] && [ "$b" -gt 0 ] && [ "$a" -lt "$b" ] ||
				t_fail "$d was stopped (log line $b) before its dependent p$i was gone (line $a)"
		done
	done
}

nothing_left() {
	t_eq "$(ls "$LJAIL_RUNDIR"/*.jail 2>/dev/null)" "" "registry records left"
	t_eq "$(jls name)" "" "jails listed"
	local d
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT" /sys/fs/cgroup/"$LJAIL_CGROUP_ROOT"; do
		[ -d "$d" ] || continue
		[ -z "$(find "$d" -mindepth 1 -type d)" ] || t_fail "cgroups left: $(find "$d" -mindepth 1 -type d)"
	done
	# the pairs die with the jails' network namespaces, a few ms after jail(8) returned
	local i
	for i in $(seq 1 40); do
		ip -o link show | grep -q epair || break
		sleep 0.05
	done
	t_eq "$(ip -o link show | grep -c epair)" 0 "epair interfaces left"
	if awk -v d="$LJAIL_RUNDIR" 'index($2, d "/") == 1' /proc/self/mounts | grep -q .; then
		t_fail "namespace pin left in $LJAIL_RUNDIR"
	fi
}

case_many_with_depend() {
	t_defer t_cleanup_jails
	write_conf
	export LJAIL_PARALLEL=8
	t_run 0 jail -f "$T/jail.conf" -c
	t_eq "$(echo "$T_OUT" | grep -c ': created$')" 32 "created lines"
	t_eq "$(echo "$T_OUT" | grep ': created$' | sort -u | wc -l)" 32 "each jail created once"
	# ljail's ifconfig prints the epair it made, as FreeBSD's does
	t_eq "$(echo "$T_OUT" | grep -c '^epair[0-9]*a$')" 8 "epair lines"
	t_eq "$T_ERR" ""
	t_eq "$(jls jid | sort -u | wc -l)" 32 "distinct JIDs"
	check_create_order
	# the messages come in the sequential run's order whatever the timing
	local created=$T_OUT
	t_run 0 jail -f "$T/jail.conf" -r '*'
	t_eq "$(echo "$T_OUT" | grep -c ': removed$')" 32 "removed lines"
	check_remove_order
	nothing_left
	: >"$T/log"
	LJAIL_PARALLEL=1 t_run 0 jail -f "$T/jail.conf" -c
	t_eq "$T_OUT" "$created" "the output is the sequential run's"
	LJAIL_PARALLEL=1 t_run 0 jail -f "$T/jail.conf" -r '*'
	nothing_left
}

case_sequential_is_strict() {
	t_defer t_cleanup_jails
	write_conf
	LJAIL_PARALLEL=1 t_run 0 jail -f "$T/jail.conf" -c
	# one jail after the other: pre X, post X, pre Y, post Y ... in the order of the output
	local want
	want=$(echo "$T_OUT" | sed -n 's/^\(p[0-9]*\): created$/pre \1\npost \1/p')
	t_eq "$(cat "$T/log")" "$want" "sequential log"
	check_create_order
	# sequential: passes over the config order (p5 p18 p31 p12 p25 p6 p19 p0 ...), taking the jails
	# whose dependencies are done; an epair line comes before its jail's "created"
	t_eq "$(echo "$T_OUT" | head -6)" "epair31a
p31: created
p12: created
epair19a
p19: created
p0: created"
	: >"$T/log"
	t_run 0 jail -f "$T/jail.conf" -p1 -r '*'
	want=$(echo "$T_OUT" | sed -n 's/^\(p[0-9]*\): removed$/stop \1\ngone \1/p')
	t_eq "$(cat "$T/log")" "$want" "-p1 removal is sequential"
	check_remove_order
	nothing_left
}

case_failure_in_the_middle() {
	t_defer t_cleanup_jails
	cat >"$T/jail.conf" <<EOF
path = "/";
persist;
a { }
f { depend = a; exec.start = "/bin/false"; }
g { depend = f; }
h { depend = g; }
i { }
k { depend = a, i; }
m { depend = h, i; }
z { }
EOF
	LJAIL_PARALLEL=8 t_run 1 jail -f "$T/jail.conf" -c
	# f is created, then its exec.start fails and it is removed again (as FreeBSD prints it)
	t_eq "$T_OUT" "a: created
f: created
f: removed
i: created
k: created
z: created"
	t_eq "$T_ERR" "jail: f: /bin/false: failed
jail: g: skipped
jail: h: skipped
jail: m: skipped"
	t_eq "$(jls name | sort | tr '\n' ' ')" "a i k z " "the independent jails run"
	local d
	for d in /sys/fs/cgroup/*/"$LJAIL_CGROUP_ROOT"/{f,g,h,m}; do
		[ -d "$d" ] && t_fail "cgroup $d left by the failed or skipped jail"
	done
	t_run 0 jail -f "$T/jail.conf" -r '*'
	t_eq "$(echo "$T_OUT" | sort | tr '\n' ' ')" "a: removed i: removed k: removed z: removed "
	nothing_left
}

case_runs_concurrently() {
	t_defer t_cleanup_jails
	local i
	{
		echo 'path = "/"; persist; exec.prestart = "sleep 0.4";'
		for i in $(seq 8); do echo "s$i { }"; done
	} >"$T/jail.conf"
	local t0 t1
	t0=$(date +%s%N)
	LJAIL_PARALLEL=8 t_run 0 jail -f "$T/jail.conf" -c
	t1=$(date +%s%N)
	local ms=$(((t1 - t0) / 1000000))
	[ "$ms" -lt 2000 ] || t_fail "8 jails with a 0.4 s prestart took $ms ms: not concurrent"
	t_eq "$T_OUT" "$(for i in $(seq 8); do echo "s$i: created"; done)"
	t_run 0 jail -f "$T/jail.conf" -r '*'
	# -p1 is sequential (what rc.d/jail passes unless jail_parallel_start)
	t0=$(date +%s%N)
	LJAIL_PARALLEL=8 t_run 0 jail -p1 -f "$T/jail.conf" -c
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	[ "$ms" -ge 3200 ] || t_fail "-p1: 8 jails with a 0.4 s prestart took only $ms ms"
	t_run 0 jail -f "$T/jail.conf" -r '*'
	nothing_left
}

# `ifconfig epair create` picking a unit in several jails' exec.prestart at once: each gets its own.
case_concurrent_epair_create() {
	t_defer t_cleanup_jails
	local i
	{
		echo 'path = "/"; persist; exec.prestart = "ifconfig epair create";'
		for i in $(seq 8); do echo "e$i { }"; done
	} >"$T/jail.conf"
	LJAIL_PARALLEL=8 t_run 0 jail -f "$T/jail.conf" -c
	t_eq "$(echo "$T_OUT" | grep -c '^epair[0-9]*a$')" 8 "epairs made"
	t_eq "$(echo "$T_OUT" | grep '^epair' | sort -u | wc -l)" 8 "distinct units"
	t_eq "$(ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -c '^epair[0-9]*a$')" 8
	t_run 0 jail -f "$T/jail.conf" -r '*'
	for i in $(echo "$T_OUT" | grep '^epair'); do ifconfig "$i" destroy; done
}

# A signal to jail(8) alone reaches the jails in progress: they are undone, none is left half-made.
case_interrupt() {
	t_defer t_cleanup_jails
	local i
	{
		echo 'path = "/"; persist; exec.start = "sleep 5";'
		for i in $(seq 6); do echo "x$i { }"; done
	} >"$T/jail.conf"
	LJAIL_PARALLEL=3 jail -f "$T/jail.conf" -c >"$T/out" 2>&1 &
	local pid=$!
	for _ in $(seq 50); do [ "$(jls name | wc -l)" -ge 3 ] && break; sleep 0.1; done
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	t_eq "$rc" 1 "exit status after SIGTERM"
	t_eq "$(ls "$LJAIL_RUNDIR"/*.jail 2>/dev/null)" "" "records left"
	t_eq "$(jls name)" "" "jails left"
}

# A worker that dies (killed, out of memory) fails its jail with the reason, and the run goes
# on with the other jails in a new worker.
case_worker_killed() {
	t_defer t_cleanup_jails
	local i
	{
		echo 'path = "/"; persist;'
		echo 'x1 { exec.start = "sleep 30"; }'
		for i in 2 3 4; do echo "x$i { }"; done
	} >"$T/jail.conf"
	LJAIL_PARALLEL=2 jail -f "$T/jail.conf" -c >"$T/out" 2>&1 &
	local pid=$! w= s p1 p2
	# x1's worker: the grandparent of the sleep its exec.start runs (sleep <- init <- worker)
	for _ in $(seq 100); do
		for s in $(pgrep -x sleep); do
			p1=$(awk '{print $4}' /proc/"$s"/stat 2>/dev/null) || continue
			p2=$(awk '{print $4}' /proc/"$p1"/stat 2>/dev/null) || continue
			[ "$(awk '{print $4}' /proc/"$p2"/stat 2>/dev/null)" = "$pid" ] && w=$p2
		done
		[ -n "$w" ] && break
		sleep 0.05
	done
	[ -n "$w" ] || t_fail "no worker of x1 found: $(cat /proc/"$pid"/task/*/children)"
	[ -n "$w" ] && kill -KILL "$w"
	local rc=0
	wait "$pid" || rc=$?
	t_eq "$rc" 1 "exit status"
	t_match "$(cat "$T/out")" 'x1: Killed' "the killed worker's jail failed, with the reason"
	for i in 2 3 4; do t_match "$(cat "$T/out")" "x$i: created" "x$i made after the loss"; done
}

t_main "$@"
