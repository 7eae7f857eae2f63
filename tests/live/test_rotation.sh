#!/bin/bash
# Rotation storm, end to end: mxguard run (monitor mode, on a veth of its
# own namespace) follows a log that tests/live/rotation_storm.py writes at
# 2,000 failure lines/s for 20 s while rotating it every 150-400 ms, create
# and copytruncate in turn, .1 shifted to .2 and gzipped. Every line is a
# failure from an address of its own, so the daemon's failure counter must
# equal the lines written, less at most those copytruncate itself lost
# (written between its copy and its truncate, which the writer reports).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

NS=${TID}r
PIN=/sys/fs/bpf/${TID}r
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
MAIL=$DIR/mail.log
LOG=$DIR/daemon.log
PORT=9596
RATE=${STORM_RATE:-2000}
SECS=${STORM_SECONDS:-20}
: >"$MAIL"

netns "$NS"
ip link add rt0 netns "$NS" type veth peer name rt1 netns "$NS"
ip -n "$NS" link set rt0 up

nsenter --net="/run/netns/$NS" "$MXG" run -c /dev/null -i rt0 --monitor --pin-dir "$PIN" \
	--state-dir "$DIR/state" --log "$MAIL" -o metrics=127.0.0.1:$PORT >"$LOG" 2>&1 &
dpid=$!
on_exit "kill -9 $dpid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
started() { grep -q "running:" "$LOG"; }
if ! wait_for 10 started; then
	fail daemon_starts "$(tail -3 "$LOG")"
	summary
	exit 1
fi

# metric NAME: its value from the daemon's metrics endpoint
metric() {
	nsenter --net="/run/netns/$NS" curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" |
		sed -nE "s/^$1 ([0-9]+)$/\\1/p"
}
failures() { metric 'mxguard_log_failures_total\{service="postfix"\}'; }

out=$(timeout $((SECS + 30)) python3 tests/live/rotation_storm.py "$MAIL" "$RATE" "$SECS")
echo "  storm: $out"
written=$(echo "$out" | sed -nE 's/^written ([0-9]+) .*/\1/p')
lost=$(echo "$out" | sed -nE 's/.* lost_by_copytruncate ([0-9]+) .*/\1/p')
creates=$(echo "$out" | sed -nE 's/.* creates ([0-9]+) .*/\1/p')
copies=$(echo "$out" | sed -nE 's/.* copytruncates ([0-9]+)$/\1/p')
if [ -z "$written" ] || [ "${creates:-0}" -lt 2 ] || [ "${copies:-0}" -lt 2 ]; then
	fail storm_writer_ran "$out"
	summary
	exit 1
fi

# the daemon has read everything once its count stops moving (bounded)
got=-1
for _ in $(seq 1 50); do
	n=$(failures)
	[ -n "$n" ] && [ "$n" = "$got" ] && [ "$n" -ge $((written - lost)) ] && break
	got=${n:--1}
	sleep 0.2
done
got=$(failures)
echo "  daemon counted ${got:-?} failures of $written written ($lost lost by copytruncate itself)"
if [ -n "$got" ] && [ "$got" -ge $((written - lost)) ] && [ "$got" -le "$written" ]; then
	pass rotation_storm_every_failure_counted_once
else
	fail rotation_storm_every_failure_counted_once "counted ${got:-?}, want $((written - lost))..$written; $(tail -3 "$LOG")"
fi
rot=$(metric mxguard_log_rotations_total)
if [ "$rot" = $((creates + copies)) ]; then
	pass rotation_storm_every_rotation_seen
else
	fail rotation_storm_every_rotation_seen "rotations_total ${rot:-?}, want $((creates + copies))"
fi
summary
