#!/usr/bin/env bash
# rctl through jail(8) and jexec(8): per-process rules reach processes entered with jexec, and the
# jail.conf `rctl` parameter's rules go away with the jail.
. "$(dirname "$0")/../lib/lib.sh"

case_jexec_gets_per_process_limits() {
	t_defer jail -r '*'
	export LJAIL_RCTL_CONF=$T/rctl.conf
	: >"$LJAIL_RCTL_CONF"
	t_run 0 jail -c name=lim path=/ persist
	t_run 0 rctl -a jail:lim:openfiles:deny=50/process
	t_eq "$(jexec lim sh -c 'ulimit -n')" "50" "RLIMIT_NOFILE of a jexec'd shell"
	t_eq "$(jexec lim sh -c 'sh -c "ulimit -n"')" "50" "inherited by what it forks"
	t_eq "$(sh -c 'ulimit -n')" "$(ulimit -n)" "the host is untouched"
}

case_jail_conf_rules_go_with_the_jail() {
	t_defer jail -r '*'
	export LJAIL_RCTL_CONF=$T/rctl.conf
	: >"$LJAIL_RCTL_CONF"
	t_run 0 jail -c name=memjail path=/ persist "rctl=memoryuse:deny=64M"
	t_match "$(rctl)" "^jail:memjail:memoryuse:deny=67108864" "rule listed while the jail runs"
	t_run 0 jail -r memjail
	t_eq "$(rctl)" "" "no rule left after removal"
}

t_main "$@"
