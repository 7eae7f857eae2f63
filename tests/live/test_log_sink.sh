#!/bin/bash
# The daemon logs through one sink (user/lib/log.c): one problem is one
# line, and under journald (JOURNAL_STREAM set) every line it writes
# carries its syslog priority. The daemon runs in a namespace made here.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

NS=${TID}l
PIN=/sys/fs/bpf/$TID
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
MAIL=$DIR/mail.log
STATE=$DIR/state
LOG=$DIR/daemon.log
: >"$MAIL"
: >"$LOG"

netns "$NS"
ip link add ls0 netns "$NS" type veth peer name ls1 netns "$NS"
ip -n "$NS" link set ls0 up
ip -n "$NS" link set ls1 up

daemon_pid=
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
run_daemon() {
	nsenter --net="/run/netns/$NS" env JOURNAL_STREAM=8:42 "$MXG" run -i ls0 \
		--pin-dir "$PIN" --state-dir "$STATE" -o metrics=off "$@" >>"$LOG" 2>&1 &
	daemon_pid=$!
}

# Log offsets that cannot be read: said once, and the daemon goes on.
mkdir -m 0700 "$STATE"
printf 'not a state file\n' >"$STATE/logs.state"
run_daemon --log "$MAIL" -o maxretry=2
running() { grep -q "running:" "$LOG"; }
wait_for 10 running || fail daemon_starts "$(tail -5 "$LOG")"
n=$(grep -c "logs.state" "$LOG")
[ "$n" = 1 ] && pass unreadable_log_state_is_reported_once ||
	fail unreadable_log_state_is_reported_once "$n lines: $(grep logs.state "$LOG")"

# A ban and a reload, then a stop: every line with its priority.
for i in 1 2; do
	echo "$(date '+%b %e %T') mx postfix/smtpd[1]: warning: unknown[198.18.95.1]: SASL LOGIN authentication failed: x, sasl_username=bob" >>"$MAIL"
done
banned() { grep -q "banned 198.18.95.1/32" "$LOG"; }
wait_for 5 banned || fail daemon_bans "$(tail -3 "$LOG")"
kill -HUP "$daemon_pid"
reloaded() { grep -q "reloaded the config" "$LOG"; }
wait_for 5 reloaded || fail daemon_reloads "$(tail -3 "$LOG")"
kill -TERM "$daemon_pid"
gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
wait_for 10 gone
bad=$(grep -vE '^<[0-7]>' "$LOG")
[ -z "$bad" ] && pass under_journald_every_daemon_line_carries_its_priority ||
	fail under_journald_every_daemon_line_carries_its_priority "$bad"

# A journal that cannot be opened: one line, and the daemon stops.
: >"$LOG"
run_daemon --journal -o journal_dir="$DIR/nojournal"
wait_for 10 gone
n=$(grep -c "nojournal" "$LOG")
[ "$n" = 1 ] && pass journal_that_cannot_be_opened_is_reported_once ||
	fail journal_that_cannot_be_opened_is_reported_once "$n lines: $(cat "$LOG")"

summary
