#!/usr/bin/env bash
# The benchmark harness still works: `bench/run --quick` runs every scenario once, small, exits 0,
# writes a JSON object for every scenario and leaves nothing behind. ljail's side of a scenario may
# read "not available" while that part of ljail is missing (the scenario is listed below); a peer
# that is not installed is skipped by the harness, never installed here; a peer that is installed
# but fails, or a missing scenario, fails the test.
. "$(dirname "$0")/../lib/lib.sh"

SCENARIOS="nonet vnet vnet_many_start vnet_many_stop vnet_many_mem exec clone_btrfs_small
clone_btrfs_large clone_overlay_small clone_overlay_large pf_small pf_large jls_many"

# The objects of one scenario in the JSON file bench/run writes (one scenario object spans the lines
# from its "scenario" key to the next one).
scenario_block() {
	awk -v s="\"scenario\": \"$2\"," 'index($0, "\"scenario\":") { on = index($0, s) > 0 } on' "$1"
}

# What a run with tag lbPID left: cgroups named after its PID, LXC's groups of its containers.
leftovers() {
	local pid=${1#lb}
	find /sys/fs/cgroup -maxdepth 5 -type d \( -name "ljail-bench$pid" -o -name "ljail-bench$pid-*" \
		-o -name "lxc.payload.$1*" -o -name "lxc.monitor.$1*" \) 2>/dev/null || true
}

case_quick_run() {
	command -v busybox >/dev/null || t_skip "busybox (busybox-static) not installed"
	command -v cc >/dev/null || t_skip "no C compiler for bench/timeit.c"
	local t0=$SECONDS
	t_run 0 "$T_TOP/bench/run" --quick --json "$T/bench.json"
	echo "bench/run --quick took $((SECONDS - t0)) s" >&2
	# about 5 s on an idle 2-core host; the bound only catches gross breakage (a hung scenario),
	# not a busy machine
	[ $((SECONDS - t0)) -lt 120 ] || t_fail "the quick bench took $((SECONDS - t0)) s (want well under a minute)"
	t_match "$T_OUT" "^scenario +impl +median" "table header"
	[ -s "$T/bench.json" ] || t_fail "no JSON written"
	if command -v jq >/dev/null; then
		jq -e '.scenarios | length > 0' "$T/bench.json" >/dev/null || t_fail "bench.json is not valid JSON"
	elif command -v python3 >/dev/null; then
		python3 -m json.tool "$T/bench.json" >/dev/null || t_fail "bench.json is not valid JSON"
	fi
	t_match "$(head -n 3 "$T/bench.json")" '"quick": true' "quick flag in JSON"

	local s block unavailable=""
	for s in $SCENARIOS; do
		block=$(scenario_block "$T/bench.json" "$s")
		[ -n "$block" ] || t_fail "scenario $s missing from bench.json"
		t_match "$block" '"ljail": ' "$s: ljail entry"
		t_match "$block" '"peers": \{' "$s: peers entry"
		t_match "$block" '"ratios": \{' "$s: ratios entry"
		if printf '%s' "$block" | grep -q '"ljail": {"status": "not available"'; then
			unavailable="$unavailable $s"
			echo "ljail not available in $s: $(printf '%s' "$block" |
				sed -n 's/.*"ljail": {"status": "not available", "why": "\(.*\)"}.*/\1/p' | cut -c1-100)" >&2
		else
			t_match "$block" '"ljail": \{"median": -?[0-9]' "$s: ljail median"
		fi
		# an installed peer that fails means the harness (or the peer's setup) is broken
		if printf '%s' "$block" | grep -q '"status": "failed"'; then
			t_fail "a peer failed in $s: $(printf '%s' "$block" | grep -o '"[a-z-]*": {"status": "failed"[^}]*}' | head -n 3)"
		fi
	done
	# the peers the issue names run (when installed) and give a number in the start scenarios
	command -v lxc-start >/dev/null && t_match "$(scenario_block "$T/bench.json" nonet)" '"lxc": \{"median"' "lxc in nonet"
	command -v crun >/dev/null && t_match "$(scenario_block "$T/bench.json" vnet)" '"crun": \{"median"' "crun in vnet"
	command -v bwrap >/dev/null && t_match "$(scenario_block "$T/bench.json" nonet)" '"bwrap": \{"median"' "bwrap in nonet"
	t_match "$(scenario_block "$T/bench.json" nonet)" '"unshare": \{"median"' "unshare in nonet"
	[ -n "$unavailable" ] && echo "ljail not available yet in:$unavailable" >&2

	# nothing left behind: work folder, cgroups (those of this run only: others may run beside it)
	local work tag
	work=$(printf '%s\n' "$T_ERR" | sed -n 's/^bench: work folder \([^ ,]*\), tag \(lb[0-9]*\).*/\1/p')
	tag=$(printf '%s\n' "$T_ERR" | sed -n 's/^bench: work folder \([^ ,]*\), tag \(lb[0-9]*\).*/\2/p')
	[ -n "$work" ] && [ -n "$tag" ] || t_fail "bench/run did not say its work folder and tag"
	[ ! -e "$work" ] || t_fail "work folder $work left behind"
	t_eq "$(leftovers "$tag")" "" "cgroups left behind by $tag"
}

case_rejects_bad_arguments() {
	t_run 2 "$T_TOP/bench/run" --no-such-option
	t_match "$T_ERR" "unknown argument" "error message"
}

t_main "$@"
