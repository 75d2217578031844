#!/usr/bin/env bash
# Concurrency (issue 9, item 3).
#   - 64 parallel `jail -c` of distinct vnet jails on one bridge, each making its own epair in
#     exec.prestart (ifconfig epairN create, addm to the bridge), its b side moved in by
#     vnet.interface; then 64 parallel removals (exec.poststop destroys the epair). Distinct JIDs,
#     one whole record per jail, every a side a member of the bridge, every b side in its own
#     jail, nothing leaked afterwards (census).
#   - 64 parallel `ifconfig epair create` (auto-numbered, the names race): 64 distinct pairs.
#   - pfctl -f A, pfctl -f B and pfctl -t T -T add in loops at once: every sample of the loaded
#     ruleset (`pfctl -s rules`, and the nftables table itself) is exactly one complete file, and
#     the table ends consistent (its addresses are ones that were added, pfctl and nft agree).
. "$(dirname "$0")/../lib/lib.sh"
. "$(dirname "$0")/../lib/census.sh"

N=${LJ_CONC_JAILS:-64}

cleanup_jails() {
	local n
	for n in $(jls name 2>/dev/null); do jail -R "$n" >/dev/null 2>&1 || true; done
}

case_parallel_vnet_jails_on_one_bridge() {
	t_defer cleanup_jails
	[ -x /bin/busybox ] || t_skip "busybox-static is not installed"
	local root=$T/root i
	mkdir -p "$root"/{bin,dev,proc,etc,tmp} "$T/ep"
	cp /bin/busybox "$root/bin/busybox"
	for i in sh true ip cat; do ln -s busybox "$root/bin/$i"; done
	ifconfig bridge0 create up >/dev/null
	cat >"$T/jail.conf" <<EOF
path = "$root";
persist;
vnet;
exec.prestart = "ifconfig epair\$u create up";
exec.prestart += "ifconfig bridge0 addm epair\${u}a";
exec.prestart += "echo epair\${u}a >$T/ep/\$name";
vnet.interface = "epair\${u}b";
exec.poststop = "ifconfig epair\${u}a destroy";
EOF
	for i in $(seq "$N"); do echo "j$i { \$u = $((i + 100)); }" >>"$T/jail.conf"; done
	local before
	before=$(census "$root")

	for i in $(seq "$N"); do
		(rc=0; jail -f "$T/jail.conf" -c "j$i" >"$T/c.$i" 2>&1 || rc=$?; echo $rc >"$T/c.$i.rc") &
	done
	wait
	local bad=0
	for i in $(seq "$N"); do
		if [ "$(cat "$T/c.$i.rc")" != 0 ]; then
			echo "# jail -c j$i: $(tr '\n' ' ' <"$T/c.$i")" >&2
			bad=$((bad + 1))
		fi
	done
	t_eq "$bad" 0 "failed creates"
	t_eq "$(jls name | wc -l)" "$N" "jails listed"
	t_eq "$(jls jid | sort -u | wc -l)" "$N" "distinct JIDs"
	t_eq "$(jls name | sort -u | wc -l)" "$N" "distinct names"
	# the registry: one record per jail, each whole, JIDs distinct
	t_eq "$(ls "$LJAIL_RUNDIR"/*.jail | wc -l)" "$N" "records"
	t_eq "$(cat "$LJAIL_RUNDIR"/*.jail | grep -c '^name=')" "$N" "records with a name"
	t_eq "$(cat "$LJAIL_RUNDIR"/*.jail | grep '^jid=' | sort -u | wc -l)" "$N" "distinct JIDs in the records"
	# epairs: N distinct names, a sides bridged on the host, b sides each in its own jail
	t_eq "$(cat "$T"/ep/* | sort -u | wc -l)" "$N" "distinct epairs made"
	t_eq "$(ip -o link show | grep -c ' epair[0-9]*a')" "$N" "epair a sides on the host"
	t_eq "$(ip -o link show master bridge0 | wc -l)" "$N" "bridge members"
	local e
	for i in $(seq "$N"); do
		e=$(cat "$T/ep/j$i")
		t_match "$(ip -o link show "$e")" 'master bridge0' "$e (j$i) on the bridge"
		ip link show "${e%a}b" >/dev/null 2>&1 && t_fail "${e%a}b of j$i is still on the host"
		t_match "$(jexec "j$i" ip -o link)" "${e%a}b" "${e%a}b in j$i"
	done

	for i in $(seq "$N"); do
		(rc=0; jail -f "$T/jail.conf" -r "j$i" >"$T/r.$i" 2>&1 || rc=$?; echo $rc >"$T/r.$i.rc") &
	done
	wait
	bad=0
	for i in $(seq "$N"); do
		if [ "$(cat "$T/r.$i.rc")" != 0 ]; then
			echo "# jail -r j$i: $(tr '\n' ' ' <"$T/r.$i")" >&2
			bad=$((bad + 1))
		fi
	done
	t_eq "$bad" 0 "failed removals"
	t_eq "$(jls name)" "" "jails left"
	# the pairs die with the jails' network namespaces, a few ms after jail(8) returned
	for i in $(seq 1 40); do
		ip -o link show | grep -q epair || break
		sleep 0.05
	done
	census_eq "$before" "$(census "$root")" "census around $N parallel creates and removals"
}

# ifconfig's cloner picks the lowest free unit: 64 at once must still give 64 distinct pairs.
case_parallel_epair_create_names() {
	local i
	mkdir "$T/e"
	for i in $(seq "$N"); do
		(rc=0; ifconfig epair create >"$T/e/$i" 2>&1 || rc=$?; echo $rc >"$T/e.$i.rc") &
	done
	wait
	local bad=0
	for i in $(seq "$N"); do
		[ "$(cat "$T/e.$i.rc")" = 0 ] || { echo "# ifconfig epair create: $(cat "$T/e/$i")" >&2; bad=$((bad + 1)); }
	done
	t_eq "$bad" 0 "failed epair creates"
	t_eq "$(cat "$T"/e/* | sort -u | grep -c '^epair[0-9]*a$')" "$N" "distinct names printed"
	local e
	for e in $(cat "$T"/e/*); do
		t_match "$(ip -o link show "${e%a}b" 2>&1)" "${e%a}b@$e" "${e%a}b is the peer of $e"
	done
	t_eq "$(ip -o link show | grep -c ' epair')" $((2 * N)) "interfaces"
}

# nft's view of ljail's table without the set elements (table adds change those) and handles.
nft_rules() {
	nft list table inet ljail_pf 2>/dev/null | awk '
		skip { if (index($0, "}")) skip = 0; next }
		/elements = \{/ { if (!index($0, "}")) skip = 1; next }
		{ print }'
}

case_pfctl_load_and_table_add_race() {
	cat >"$T/A" <<'EOF'
table <T> persist
block in all
pass out all keep state
pass in proto tcp from <T> to any port 22
EOF
	cat >"$T/B" <<'EOF'
table <T> persist
block in all
pass out all keep state
pass in proto tcp from <T> to any port 80
pass in proto udp from any to any port 53
pass in inet proto icmp all
EOF
	pfctl -e >/dev/null 2>&1 || true
	local ra rb na nb
	t_run 0 pfctl -f "$T/A"; ra=$(pfctl -s rules); na=$(nft_rules)
	t_run 0 pfctl -f "$T/B"; rb=$(pfctl -s rules); nb=$(nft_rules)
	[ "$ra" != "$rb" ] || t_fail "the two rulesets print the same"
	[ -n "$na" ] && [ "$na" != "$nb" ] || t_fail "the two rulesets give the same nft table"

	local stop=$T/stop i
	(for i in $(seq 60); do pfctl -f "$T/A" >/dev/null 2>>"$T/log.A" || echo "A $i failed" >>"$T/err.A"; [ -e "$stop" ] && break; done) &
	local pa=$!
	(for i in $(seq 60); do pfctl -f "$T/B" >/dev/null 2>>"$T/log.B" || echo "B $i failed" >>"$T/err.B"; [ -e "$stop" ] && break; done) &
	local pb=$!
	(for i in $(seq 200); do pfctl -t T -T add "10.9.$((i / 250)).$((i % 250 + 1))" >/dev/null 2>>"$T/log.T" || echo "T $i failed" >>"$T/err.T"; done) &
	local pt=$!
	local samples=0 r n mixed=0
	while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
		r=$(pfctl -s rules 2>&1) || true
		if [ "$r" != "$ra" ] && [ "$r" != "$rb" ]; then
			echo "# pfctl -s rules sample $samples is neither file:" >&2
			printf '%s\n' "$r" | sed 's/^/#   /' >&2
			mixed=$((mixed + 1))
		fi
		n=$(nft_rules)
		if [ "$n" != "$na" ] && [ "$n" != "$nb" ]; then
			echo "# nft table sample $samples is neither file's:" >&2
			diff <(printf '%s\n' "$na") <(printf '%s\n' "$n") | head -20 | sed 's/^/#   /' >&2
			mixed=$((mixed + 1))
		fi
		samples=$((samples + 1))
	done
	touch "$stop"
	wait
	echo "# $samples samples of the loaded ruleset taken while loading" >&2
	t_eq "$mixed" 0 "samples that were no complete file"
	local f
	for f in A B T; do
		[ -s "$T/err.$f" ] && t_fail "pfctl ($f loop) failed: $(head -5 "$T/err.$f" | tr '\n' ' ') $(grep -v 'addresses added' "$T/log.$f" | head -5 | tr '\n' ' ')"
	done
	# the table: only added addresses, no duplicates, and pfctl and nftables agree
	local shown
	shown=$(pfctl -t T -T show | tr -d ' ' | sort)
	if [ -n "$shown" ]; then
		printf '%s\n' "$shown" | grep -Evq '^10\.9\.[0-9]+\.[0-9]+$' && t_fail "strange addresses in <T>: $shown"
	fi
	t_eq "$(printf '%s\n' "$shown" | sort -u)" "$shown" "duplicates in <T>"
	local inset
	inset=$(nft -j list table inet ljail_pf 2>/dev/null | python3 -c '
import ipaddress, json, sys
d = json.load(sys.stdin)
out = []
for o in d.get("nftables", []):
    s = o.get("set")
    if not s or not s.get("name", "").endswith("T"):
        continue
    for e in s.get("elem", []):
        if isinstance(e, dict) and "elem" in e:
            e = e["elem"]["val"]
        if isinstance(e, str):
            out.append(e)
        elif "range" in e:  # an interval set merges neighbours: expand
            a, b = (ipaddress.ip_address(x) for x in e["range"])
            out += [str(ipaddress.ip_address(i)) for i in range(int(a), int(b) + 1)]
        elif "prefix" in e:
            n = ipaddress.ip_network("%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"]))
            out += [str(x) for x in (n if n.num_addresses == 1 else n.hosts())] if n.prefixlen == n.max_prefixlen else [str(n)]
        else:
            out.append(json.dumps(e))
print("\n".join(sorted(out)))' | sed '/^$/d' | sort)
	t_eq "$inset" "$(printf '%s\n' "$shown" | sed '/^$/d')" "set elements in nftables vs pfctl -T show"
	# and it still works
	t_run 0 pfctl -t T -T add 10.9.99.1
	t_match "$(pfctl -t T -T show)" '10\.9\.99\.1' "an add after the race"
}

t_main "$@"
