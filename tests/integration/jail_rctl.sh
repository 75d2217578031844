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

# The rules are on before the first command of the jail runs, from rctl.conf or the parameter
# (the command otherwise goes to the jail's init while it sets itself up, ahead of them).
case_first_command_runs_under_the_rules() {
	t_defer jail -r '*'
	export LJAIL_RCTL_CONF=$T/rctl.conf
	echo "jail:lim2:openfiles:deny=40/process" >"$LJAIL_RCTL_CONF"
	t_run 0 jail -c name=lim2 path=/ command=sh -c 'ulimit -n'
	t_eq "$T_OUT" "40" "rctl.conf rule in the first command"
	t_run 0 jail -c name=lim3 path=/ "rctl=openfiles:deny=45/process" command=sh -c 'ulimit -n'
	t_eq "$T_OUT" "45" "rctl parameter in the first command"
	t_run 0 jail -c name=lim4 path=/ command=sh -c 'ulimit -n'
	t_eq "$T_OUT" "$(ulimit -n)" "no rule: the host's limit"
}

t_main "$@"
