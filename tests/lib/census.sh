# tests/lib/census.sh: what the test's host holds, as one canonical text (sourced after lib.sh).
#
#   census [ROOT...]    print the snapshot; ROOTs are jail roots whose mounts count too
#   census_eq BEFORE AFTER [WHAT]   fail the case with the diff when two snapshots differ
#
# Each line is "<kind> <thing>", sorted within a kind, so two censuses compare with diff. It
# counts only what this case could have made: the case's network namespace (interfaces,
# addresses, routes, nft tables and sets), mounts below $T and the given roots, cgroups under
# the case's own $LJAIL_CGROUP_ROOT on every hierarchy (v1 and cgroup2; the cgroup2 root group
# itself is made once and kept, the v1 ones go with their last jail), files in $LJAIL_RUNDIR
# (registry records, netns pins; lock files and the rctl store file excluded: they are made once
# and kept on purpose, the rules in the store are counted through `rctl`), the rctl rules, and
# processes that are in the case's cgroups, have their root below $T, or are an ljail-init in
# the case's network namespace (zombies excluded). Other tests' and the machine's own processes
# never show.

_census_links() {
	ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print "link " $2}' | sort
}

_census_addrs() {
	# family, address/prefix and interface; the kernel's own link-local v6 addresses on links
	# come and go with the links, which are counted already, so they are left out
	ip -o addr show 2>/dev/null |
		awk '{print "addr " $2 " " $3 " " $4}' | grep -v ' inet6 fe80:' | sort
}

_census_routes() {
	{
		ip -4 route show table all 2>/dev/null
		ip -6 route show table all 2>/dev/null | grep -v -e '^fe80::' -e '^local fe80::' \
			-e '^multicast ff00::/8' -e '^anycast fe80::'
	} | sed 's/ \+$//; s/^/route /' | sort
}

_census_mounts() { # roots...
	local dirs=("$T" "$@")
	awk -v dirs="${dirs[*]}" '
		BEGIN { n = split(dirs, d, " ") }
		{
			for (i = 1; i <= n; i++)
				if (d[i] != "" && ($5 == d[i] || index($5, d[i] "/") == 1)) {
					print "mount " $5 " " $(NF - 2); break
				}
		}' /proc/self/mountinfo | sort
}

# Every cgroup hierarchy mounted (v1 per controller set, and cgroup2), each once.
_census_cg_mounts() {
	awk '{
		for (i = 7; i <= NF; i++) if ($i == "-") break
		if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5
	}' /proc/self/mountinfo | sort -u
}

# The cgroup2 mounts among them.
_census_cg2_mounts() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break; if ($(i + 1) == "cgroup2") print $5 }' \
		/proc/self/mountinfo | sort -u
}

_census_cgroups() {
	local m d min
	[ -n "${LJAIL_CGROUP_ROOT:-}" ] || return 0
	local v2=" $(_census_cg2_mounts | tr '\n' ' ') "
	for m in $(_census_cg_mounts); do
		d=$m/$LJAIL_CGROUP_ROOT
		[ -d "$d" ] || continue
		# the cgroup2 root group is made once and kept (src/cgroup: lj_cg_destroy)
		min=0
		case $v2 in *" $m "*) min=1 ;; esac
		find "$d" -mindepth $min -type d | sed "s|^$m/|cgroup ${m##*/}:|"
	done | sort -u
}

_census_nft() {
	nft list tables 2>/dev/null | sed 's/^/nft /' | sort
	nft list sets 2>/dev/null | awk '$1 == "table" {t = $2 " " $3} $1 == "set" {print "nft set " t " " $2}' | sort
}

_census_rundir() {
	[ -d "${LJAIL_RUNDIR:-}" ] || return 0
	# kept on purpose: locks, the rule store, compiled seccomp filters (isolate/policy.c), the name index's mark,
	# the kernel's bpf_set_retval answer (net/ipjail.c), the shared read-only folders the inits bind (isolate/create.c: make_shared)
	(cd "$LJAIL_RUNDIR" && find . -mindepth 1 ! -name lock ! -name '*.lock' ! -name rctl.rules \
		! -name 'seccomp-*.bpf' ! -name names.indexed ! -name ipjail-set-retval \
		! -path ./empty ! -path ./nested-0 ! -path ./nested-0/.jail | sed 's|^\./|run |') | sort
}

_census_rctl() {
	rctl 2>/dev/null | sed 's/^/rctl /' | sort
}

_census_procs() {
	# a few processes read every /proc entry at once (a loop over /proc with a fork per
	# process would take seconds); a process that exits meanwhile just drops out
	local mynet
	mynet=$(readlink /proc/self/ns/net)
	{
		find /proc/[0-9]*/root -maxdepth 0 -printf 'root %p %l\n' 2>/dev/null
		find /proc/[0-9]*/ns/net -maxdepth 0 -printf 'net %p %l\n' 2>/dev/null
		[ -n "${LJAIL_CGROUP_ROOT:-}" ] &&
			grep -l ":/$LJAIL_CGROUP_ROOT\(/\|$\)" /proc/[0-9]*/cgroup 2>/dev/null | sed 's/^/cg /'
		# "stat PID STATE COMM" (comm may hold spaces and parentheses: cut at the last ')')
		for f in /proc/[0-9]*/stat; do
			read -r l 2>/dev/null <"$f" || continue
			st=${l##*) }
			c=${l#*(}
			echo "stat ${l%% *} ${st%% *} ${c%)*}"
		done
	} | awk -v T="$T" -v mynet="$mynet" '
		$1 == "root" { split($2, a, "/"); root[a[3]] = $3 }
		$1 == "net" { split($2, a, "/"); net[a[3]] = $3 }
		$1 == "cg" { split($2, a, "/"); incg[a[3]] = 1 }
		$1 == "stat" { state[$2] = $3; c = $0; sub(/^stat [0-9]+ [A-Za-z] /, "", c); comm[$2] = c }
		END {
			for (p in state) {
				# a zombie holds nothing but its PID; a jail init killed by another jail(8)
				# than the one that made it is reaped by PID 1, whenever PID 1 gets to it
				if (state[p] == "Z") continue
				r = root[p]
				if (incg[p] || (r != "" && r != "/" && index(r, T "/") == 1) ||
				    (comm[p] == "ljail-init" && net[p] == mynet))
					print "proc " p " " comm[p]
			}
		}' | sort
}

census() {
	# CENSUS_IGNORE (an ERE): lines to leave out, to look past one known leak at the others
	# by hand; no test sets it
	_census_all "$@" | { if [ -n "${CENSUS_IGNORE:-}" ]; then grep -Ev -- "$CENSUS_IGNORE"; else cat; fi; }
}

_census_all() {
	_census_links
	_census_addrs
	_census_routes
	_census_mounts "$@"
	_census_cgroups
	_census_nft
	_census_rundir
	_census_rctl
	_census_procs
}

# census_eq BEFORE AFTER [WHAT]: both are census outputs (text).
census_eq() {
	if [ "$1" != "$2" ]; then
		echo "# ${3:-census} differs (- before, + after):" >&2
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | grep '^[<>]' |
			sed 's/^</#   -/; s/^>/#   +/' >&2
		exit 1
	fi
}
