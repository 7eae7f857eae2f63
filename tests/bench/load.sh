#!/bin/bash
# Sustained load: does the daemon keep up with LOAD_RATE (50,000) AUTH
# failure lines a second for LOAD_SECONDS (60), and how long does the line
# that completes a ban take to reach the denylist map meanwhile?
#
# bench_load writes the lines (20,000 hosts over 2,000 /24s of 10.0.0.0/8,
# a fresh pool every 2 s, so each host fails about maxretry times and the
# policy bans hosts and whole /24s all along) plus 50 probes a second, each
# a host alone in its /24 whose fifth failure is timed until deny_v4 holds
# it. It scrapes the daemon's metrics once a second for the lines read
# (lag = written - read) and reads the daemon's CPU time and memory.
#
# fail2ban with the mxguard action gets the same mix scaled down to
# F2B_RATE (500) lines a second for 20 s, probes timed the same way.
#
# Not a test: never fails on a timing; prints "SKIP why" when it cannot run.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
. tests/bench/f2b.sh
need_root
ensure_bpffs
BUILD=${BUILD:-build}
MXG_ABS=$(realpath "$MXG")
LOAD=$BUILD/tests/bench/bench_load
LOAD_RATE=${LOAD_RATE:-50000}
LOAD_SECONDS=${LOAD_SECONDS:-60}
F2B_RATE=${F2B_RATE:-500}
F2B_SECONDS=20
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"
NS=${TID}l
PIN=/sys/fs/bpf/${TID}l
PORT=9597

netns "$NS"
ip link add ld0 netns "$NS" type veth peer name ld1 netns "$NS"
ip -n "$NS" link set ld0 up

# start_daemon LOGFILE [ARGS...]: mxguard run on ld0 with fresh maps
dpid=
start_daemon() {
	local out=$1
	shift
	nsenter --net="/run/netns/$NS" "$MXG" run -c /dev/null -i ld0 --pin-dir "$PIN" \
		--state-dir "$TMP/state" -o maxretry=5 "$@" >"$out" 2>&1 &
	dpid=$!
	started() { grep -q "running:" "$out"; }
	wait_for 10 started
}
stop_daemon() {
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	"$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1
	rm -rf "$PIN" "$TMP/state"
}
on_exit "kill -9 \$dpid; $MXG detach --pin-dir $PIN; rm -rf $PIN"

: >"$TMP/mxg.log"
if start_daemon "$TMP/daemon.log" --log "$TMP/mxg.log" -o metrics=127.0.0.1:$PORT; then
	mxg=$(nsenter --net="/run/netns/$NS" "$LOAD" --log "$TMP/mxg.log" --pin-dir "$PIN" \
		--rate "$LOAD_RATE" --seconds "$LOAD_SECONDS" --hosts 20000 --nets 2000 \
		--epoch-ms 2000 --probes 50 --pid "$dpid" --metrics 127.0.0.1:$PORT)
	bans=$("$MXG" list --json --pin-dir "$PIN" 2>/dev/null | grep -o '"cidr"' | wc -l)
	mxg="$mxg bans_in_map ${bans:-?}"
else
	mxg="failed: $(tail -2 "$TMP/daemon.log")"
fi
stop_daemon

f2b="SKIP: fail2ban is not installed"
if command -v fail2ban-server >/dev/null; then
	F2B=$TMP/f2b
	f2b_config "$F2B" load "$TMP/f2b.log" "$PIN"
	: >"$TMP/f2b.log"
	# the maps fail2ban's action writes to, held by a daemon reading no log
	if start_daemon "$TMP/daemon2.log" -o metrics=off; then
		fail2ban-server -f -x -c "$F2B" -s "$F2B/f2b.sock" -p "$F2B/f2b.pid" >/dev/null 2>&1 &
		fpid=$!
		on_exit "timeout 10 fail2ban-client -s $F2B/f2b.sock stop; kill -9 $fpid"
		jail_up() { timeout 5 fail2ban-client -s "$F2B/f2b.sock" status load >/dev/null; }
		if wait_for 20 jail_up; then
			f2b=$("$LOAD" --log "$TMP/f2b.log" --pin-dir "$PIN" --rate "$F2B_RATE" \
				--seconds "$F2B_SECONDS" --hosts $((F2B_RATE * 2 / 5)) \
				--nets $((F2B_RATE / 25)) --epoch-ms 2000 --probes 5 \
				--timeout-ms 10000 --pid "$fpid")
			f2b="$f2b (backend $backend)"
		else
			f2b="failed to start fail2ban"
		fi
		timeout 10 fail2ban-client -s "$F2B/f2b.sock" stop >/dev/null 2>&1
	else
		f2b="failed: $(tail -2 "$TMP/daemon2.log")"
	fi
	stop_daemon
fi

field() { echo "$2" | sed -nE "s/(^|.* )$1 ([^ ]+).*/\\2/p"; }
cpu_pct() { awk -v c="$(field cpu_s "$1")" -v s="$2" 'BEGIN { if (c != "") printf "%.0f", 100 * c / s; else print "-" }'; }
row() { # row NAME RESULT SECONDS
	if [ -z "$(field lines "$2")" ]; then
		printf '%-27s %s\n' "$1" "$2"
		return
	fi
	printf '%-27s %9s %8s %8s %10s %10s %9s %9s %6s %8s\n' "$1" "$(field rate "$2")" \
		"$(field median "$2")" "$(field p99 "$2")" \
		"$(field timeouts "$2")/$(field probes "$2")" \
		"$(field unread_at_end "$2")" "$(field lag_max "$2")" \
		"$(field scrape_max_ms "$2")" "$(cpu_pct "$2" "$3")" "$(field hwm_mib "$2")"
}
printf '%-27s %9s %8s %8s %10s %10s %9s %9s %6s %8s\n' "" lines/s "median" "p99" "not banned" \
	"unread end" "lag max" "stall ms" "CPU %" "RSS MiB"
row "mxguard run" "$mxg" "$LOAD_SECONDS"
row "fail2ban + mxguard action" "$f2b" "$F2B_SECONDS"
echo "(ms from writing the line that completes a ban to the entry in deny_v4, inf: not within the timeout; lag = lines written - lines read, sampled each second; stall: longest wait for a metrics answer, the daemon's loop busy elsewhere; CPU % of one core over the run; RSS = peak)"
echo "mxguard run: $mxg"
echo "fail2ban:    $f2b"
