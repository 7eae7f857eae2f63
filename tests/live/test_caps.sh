#!/bin/bash
# The capabilities `mxguard run` needs, and no more: the daemon is started
# as uid 0 with its capability bounding set cut to a set (setpriv from
# util-linux; the same as systemd's CapabilityBoundingSet= for a root
# service), on a veth in a namespace of its own, with its own pin dir.
#
# With CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON it loads, attaches, follows a
# root:adm 0640 log, bans, reloads, writes its state and adopts its pins
# after a restart. Without any one of them it exits with status 1 and a
# permission error at program load, and attaches nothing:
#   no CAP_BPF        map/program creation refused (EPERM)
#   no CAP_NET_ADMIN  XDP is a networking program type (EPERM)
#   no CAP_PERFMON    the verifier refuses variable-offset packet pointer
#                     arithmetic without it (EACCES, "pointer arithmetic
#                     with it prohibited for !root")
# Not needed: CAP_SYS_ADMIN (bpffs is already mounted, by systemd on a real
# host), CAP_SYS_RESOURCE (BPF memory is charged to the memory cgroup since
# 5.11, no memlock), CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (uid 0 owns the
# files it reads and writes). A log owned by another user (Ubuntu's
# syslog:adm 0640) is read through the adm group, not a capability.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

if ! command -v setpriv >/dev/null || ! setpriv --list-caps | grep -qx bpf ||
	! setpriv --list-caps | grep -qx perfmon; then
	skip caps "setpriv (util-linux) missing or too old to know cap_bpf/cap_perfmon"
	summary
	exit
fi

NS=${TID}n
PIN=/sys/fs/bpf/$TID
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"
MIN="bpf net_admin perfmon"
BAD=198.18.9.9

netns "$NS"
ip -n "$NS" link add mx0 type veth peer name mx1
ip -n "$NS" link set mx0 up
ip -n "$NS" link set mx1 up

# Debian's rsyslog writes mail.log as root:adm 0640; Ubuntu's as syslog:adm.
install -m 0640 -o root -g adm /dev/null "$TMP/mail.log"
install -m 0640 -o nobody -g adm /dev/null "$TMP/ubuntu.log"
chmod 0755 "$TMP"
printf '[policy]\nmaxretry = 2\n' >"$TMP/mxguard.conf"

# capset CAP...: "-all,+cap1,+cap2" for setpriv.
capset() {
	local s=-all c
	for c in "$@"; do s="$s,+$c"; done
	echo "$s"
}

# capmask CAP...: the CapEff hex /proc/PID/status shows for exactly those.
capmask() {
	local m=0 c n
	for c in "$@"; do
		case $c in
		net_admin) n=12 ;;
		perfmon) n=38 ;;
		bpf) n=39 ;;
		*) return 1 ;;
		esac
		m=$((m | (1 << n)))
	done
	printf '%016x\n' "$m"
}

daemon_pid=
DLOG=
n_run=0
# start_capped "CAP..." [SETPRIV_ARGS...] -- [RUN_ARGS...]: start the daemon
# in the background, uid 0 with only CAP... in its bounding set.
start_capped() {
	local caps=$1 sp=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sp+=("$1"); shift; done
	shift
	n_run=$((n_run + 1))
	DLOG=$TMP/run.$n_run.log
	# shellcheck disable=SC2086
	nsenter --net="/run/netns/$NS" setpriv --bounding-set "$(capset $caps)" \
		--inh-caps -all "${sp[@]}" -- \
		"$MXG" run -c "$TMP/mxguard.conf" -i mx0 --pin-dir "$PIN" \
		--state-dir "$TMP/state" "$@" >"$DLOG" 2>&1 &
	daemon_pid=$!
}
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"

running() { grep -q "running:" "$DLOG"; }
exited() { ! kill -0 "$daemon_pid" 2>/dev/null; }
stop_daemon() {
	kill -TERM "$daemon_pid" 2>/dev/null
	wait_for 10 exited || kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
}
attached() { in_ns "$NS" ip link show mx0 | grep -q "prog/xdp"; }
listed() { "$MXG" list --json --pin-dir "$PIN" | grep -q "\"cidr\":\"$1\""; }
sasl_fail() { # sasl_fail FILE ADDR
	printf '%s mx postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice\n' \
		"$(LC_ALL=C date '+%b %e %H:%M:%S')" $((1000 + RANDOM % 9000)) "$2" >>"$1"
}
# The error lines of a failed run, without libbpf's verifier dump.
errors() { grep -E "^mxguard: (error|warning)" "$DLOG" | head -3; }

# --- the minimal set works
# shellcheck disable=SC2086
start_capped "$MIN" -- --log "$TMP/mail.log"
if wait_for 10 running && attached; then
	pass minimal_set_bpf_net_admin_perfmon_loads_and_attaches
else
	fail minimal_set_bpf_net_admin_perfmon_loads_and_attaches "$(errors)"
	cat "$DLOG"
	summary
	exit
fi

eff=$(sed -nE 's/^CapEff:\s*//p' "/proc/$daemon_pid/status")
# shellcheck disable=SC2086
want=$(capmask $MIN)
if [ "$(cat "/proc/$daemon_pid/comm")" = mxguard ] && [ "$eff" = "$want" ]; then
	pass daemon_holds_exactly_the_minimal_set
else
	fail daemon_holds_exactly_the_minimal_set "CapEff $eff, want $want"
fi

sasl_fail "$TMP/mail.log" $BAD
sasl_fail "$TMP/mail.log" $BAD
if wait_for 10 listed $BAD/32; then
	pass minimal_set_reads_root_adm_0640_log_and_bans
else
	fail minimal_set_reads_root_adm_0640_log_and_bans "$(errors)"
fi

kill -HUP "$daemon_pid"
reloaded() { grep -q "reloaded the config" "$DLOG"; }
if wait_for 10 reloaded; then
	pass minimal_set_reloads_on_sighup
else
	fail minimal_set_reloads_on_sighup "$(tail -3 "$DLOG")"
fi

stop_daemon
# shellcheck disable=SC2086
start_capped "$MIN" -- --log "$TMP/mail.log"
if wait_for 10 running && attached && listed $BAD/32; then
	pass minimal_set_restart_adopts_pinned_maps_and_link
else
	fail minimal_set_restart_adopts_pinned_maps_and_link "$(errors)"
fi
stop_daemon
if [ -s "$TMP/state/bans.state" ] && grep -q "$BAD/32" "$TMP/state/bans.state"; then
	pass minimal_set_writes_state_dir
else
	fail minimal_set_writes_state_dir "$(ls -la "$TMP/state" 2>&1)"
fi

# --- operator commands (fail2ban's action runs these) need CAP_BPF only
out=$(setpriv --bounding-set "$(capset bpf)" --inh-caps -all -- \
	"$MXG" ban 198.18.9.50 --for 1h --pin-dir "$PIN" 2>&1) &&
	setpriv --bounding-set "$(capset bpf)" --inh-caps -all -- \
		"$MXG" list --json --pin-dir "$PIN" | grep -q '"198.18.9.50/32"' &&
	setpriv --bounding-set "$(capset bpf)" --inh-caps -all -- \
		"$MXG" unban 198.18.9.50 --pin-dir "$PIN" >/dev/null 2>&1
rc=$?
[ $rc = 0 ] && pass ban_list_unban_work_with_cap_bpf_alone ||
	fail ban_list_unban_work_with_cap_bpf_alone "$out"
# Since Linux 6.5 the unprivileged_bpf_disabled sysctl gates only map and
# program creation: opening pinned maps needs no capability, only access
# to the pin files, which are 0600 root in a 0700 directory.
kver=$(uname -r | sed -E 's/^([0-9]+)\.([0-9]+).*/\1 \2/')
read -r kmaj kmin <<<"$kver"
out=$(setpriv --bounding-set -all --inh-caps -all -- \
	"$MXG" list --pin-dir "$PIN" 2>&1)
rc=$?
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -ge 5 ]; }; then
	[ $rc = 0 ] && pass list_as_root_needs_no_capability_on_linux_6_5_and_later ||
		fail list_as_root_needs_no_capability_on_linux_6_5_and_later "rc=$rc: $out"
else
	[ $rc = 1 ] && pass list_without_cap_bpf_fails_before_linux_6_5 ||
		fail list_without_cap_bpf_fails_before_linux_6_5 "rc=$rc: $out"
fi
out=$(setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps -all \
	--bounding-set -all -- "$MXG" list --pin-dir "$PIN" 2>&1)
rc=$?
if [ $rc = 1 ] && echo "$out" | grep -qi "permission denied"; then
	pass pinned_maps_refuse_a_non_root_user
	echo "  (uid nobody) list: $out"
else
	fail pinned_maps_refuse_a_non_root_user "rc=$rc: $out"
fi

# --- each capability of the set is needed: without it, a fresh start fails
"$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1
for c in $MIN; do
	rest=$(echo " $MIN " | sed "s/ $c / /")
	# shellcheck disable=SC2086
	start_capped "$rest" -- --log "$TMP/mail.log"
	if wait_for 10 exited; then
		wait "$daemon_pid"
		rc=$?
	else
		rc=timeout
	fi
	msg=$(errors)
	if [ "$rc" = 1 ] && echo "$msg" | grep -qiE "not permitted|permission denied" &&
		! attached; then
		pass "without_cap_${c}_run_fails_and_attaches_nothing"
		echo "  (no cap_$c) ${msg//$'\n'/ | }"
	else
		fail "without_cap_${c}_run_fails_and_attaches_nothing" "rc=$rc: $msg"
		running && stop_daemon
	fi
	"$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1
done

# --- a log owned by another user: the adm group, not CAP_DAC_READ_SEARCH
# shellcheck disable=SC2086
start_capped "$MIN" -- --log "$TMP/ubuntu.log"
denied() { grep -q "ubuntu.log: Permission denied" "$DLOG"; }
if wait_for 10 running && wait_for 5 denied; then
	pass syslog_adm_0640_log_unreadable_without_group_adm
else
	fail syslog_adm_0640_log_unreadable_without_group_adm "$(errors)"
fi
stop_daemon
"$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1

# shellcheck disable=SC2086
start_capped "$MIN" --groups adm -- --log "$TMP/ubuntu.log"
wait_for 10 running
sasl_fail "$TMP/ubuntu.log" 198.18.9.20
sasl_fail "$TMP/ubuntu.log" 198.18.9.20
if wait_for 10 listed 198.18.9.20/32 && ! denied; then
	pass syslog_adm_0640_log_read_with_supplementary_group_adm
else
	fail syslog_adm_0640_log_read_with_supplementary_group_adm "$(errors)"
fi
stop_daemon

summary
