#!/bin/bash
# Fleet mode: how fast does a ban made on host A reach host C's map through
# Redis, and how many bans a second does one Redis carry for a fleet of 3?
#
# One redis-server (unix socket, no persistence) and three daemons, each in
# its own namespace with its own pin dir, state dir and veth, maxretry 2.
#
#  1. Propagation: bench_latency appends a failure line to A's log and
#     times until C's deny_v4 holds the address, FLEET_LAT_BANS (1,000)
#     times one after another; beside it, the same line until A's own map
#     holds it (the local ban, measured in the same run).
#  2. Ban rate: FLEET_RATE_BANS (30,000) pairs of failure lines, each pair
#     the ban of a host alone in its /24, are appended to A's log at once; the time
#     until A's map, then B's and C's hold all of them, and how many never
#     arrived (loss) after FLEET_RATE_WAIT (30) seconds.
#
# Not a test: never fails on a timing; prints "SKIP why" when it cannot run.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs
BUILD=${BUILD:-build}
LAT_BANS=${FLEET_LAT_BANS:-1000}
RATE_BANS=${FLEET_RATE_BANS:-30000}
RATE_WAIT=${FLEET_RATE_WAIT:-30}
command -v redis-server >/dev/null || { echo "SKIP fleet: redis-server not installed (scripts/deps.sh --test)"; exit 0; }
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"

redis-server --port 0 --unixsocket "$TMP/redis.sock" --unixsocketperm 700 \
	--dir "$TMP" --save "" --appendonly no --daemonize no --logfile "$TMP/redis.log" &
rpid=$!
on_exit "kill -9 $rpid"
wait_for 10 eval "redis-cli -s $TMP/redis.sock PING >/dev/null" || { echo "SKIP fleet: redis did not start"; exit 0; }

declare -A PID=()
for h in a b c; do
	ns=${TID}f$h
	netns "$ns"
	ip link add fl0 netns "$ns" type veth peer name fl1 netns "$ns"
	ip -n "$ns" link set fl0 up
	ip -n "$ns" link set fl1 up
	mkdir -m 700 "$TMP/state-$h"
	: >"$TMP/$h.log"
	pin=/sys/fs/bpf/${TID}f$h
	nsenter --net="/run/netns/$ns" "$MXG" run -c /dev/null -i fl0 --pin-dir "$pin" \
		--state-dir "$TMP/state-$h" --log "$TMP/$h.log" -o metrics=off -o maxretry=2 \
		-o fleet.redis="unix:$TMP/redis.sock" -o fleet.host_id=$h -o fleet.name=bench \
		>"$TMP/$h.out" 2>&1 &
	PID[$h]=$!
	on_exit "kill -9 ${PID[$h]}; $MXG detach --pin-dir $pin; rm -rf $pin"
	up() { grep -q "running:" "$TMP/$h.out"; }
	wait_for 10 up || { echo "SKIP fleet: daemon $h did not start: $(tail -2 "$TMP/$h.out")"; exit 0; }
done
PA=/sys/fs/bpf/${TID}fa
PC=/sys/fs/bpf/${TID}fc
# Both consumers loaded the (empty) set and block on the stream.
sleep 1

# ---------------------------------------------------------------- 1
# Hosts 198.18.K.77 then 198.18.K.78 (two runs of bench_latency, 512 a run).
lat_runs() { # lat_runs PIN FIRST_HOST -> the lines of bench_latency
	local left=$LAT_BANS host=$2 n
	while [ "$left" -gt 0 ]; do
		n=$((left > 500 ? 500 : left))
		"$BUILD"/tests/bench/bench_latency --log "$TMP/a.log" --pin-dir "$1" \
			--count "$n" --maxretry 2 --host "$host" --timeout-ms 5000
		left=$((left - n))
		host=$((host + 1))
	done
}
merge() { # the runs' medians and p99s, weighted by count (close enough for 2 runs)
	awk '{ for (i = 1; i < NF; i++) v[$i] = $(i + 1); n += v["count"]; t += v["timeouts"];
	       m += v["median"] * v["count"]; p = v["p99"] > p ? v["p99"] : p }
	     END { if (n) printf "count %d timeouts %d median %.3f p99 %.3f\n", n, t, m / n, p }'
}
remote=$(lat_runs "$PC" 77)
local_=$(lat_runs "$PA" 80)
printf '\n%-44s %s\n' "failure line on A -> C's map (fleet)" "$(echo "$remote" | merge)"
printf '%-44s %s\n' "failure line on A -> A's map (local ban)" "$(echo "$local_" | merge)"
echo "(runs of at most 500: median is the count-weighted mean of the runs' medians, p99 the larger p99)"
med() { echo "$1" | merge | sed -nE 's/.*median ([0-9.]+).*/\1/p'; }
p99() { echo "$1" | merge | sed -nE 's/.*p99 ([0-9.]+).*/\1/p'; }
awk -v a="$(med "$remote")" -v b="$(med "$local_")" -v c="$(p99 "$remote")" -v d="$(p99 "$local_")" \
	'BEGIN { if (b > 0 && d > 0) printf "fleet / local: median %.1fx, p99 %.1fx; the fleet adds %.2f ms at the median\n", a / b, c / d, a - b }'

# ---------------------------------------------------------------- 2
deny_n() { "$MXG" status --pin-dir "$1" 2>/dev/null | awk '$1 == "deny_v4" { print $2 }'; }
base_a=$(deny_n "$PA")
base_b=$(deny_n "/sys/fs/bpf/${TID}fb")
base_c=$(deny_n "$PC")
python3 - "$TMP/a.log" "$RATE_BANS" <<'PY'
import sys, time
path, n = sys.argv[1], int(sys.argv[2])
stamp = time.strftime("%b %e %H:%M:%S")
lines = []
for i in range(n):
    a = "10.%d.%d.1" % (i // 256, i % 256)
    lines += 2 * ["%s mx postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=bench\n" % (stamp, 1000 + i % 50000, a)]
with open(path, "a") as f:
    f.write("".join(lines))
PY
t0=$(date +%s.%N)
declare -A done_at=() got=()
deadline=$((SECONDS + RATE_WAIT))
while [ $SECONDS -lt $deadline ]; do
	for h in a b c; do
		[ -n "${done_at[$h]:-}" ] && continue
		eval "base=\$base_$h"
		got[$h]=$(( $(deny_n "/sys/fs/bpf/${TID}f$h") - base ))
		[ "${got[$h]}" -ge "$RATE_BANS" ] && done_at[$h]=$(date +%s.%N)
	done
	[ -n "${done_at[a]:-}" ] && [ -n "${done_at[b]:-}" ] && [ -n "${done_at[c]:-}" ] && break
	sleep 0.05
done
printf '\n%-30s %10s %10s %12s %8s\n' "$RATE_BANS bans made on A" "in map" "lost" "seconds" "bans/s"
for h in a b c; do
	if [ -n "${done_at[$h]:-}" ]; then
		s=$(awk -v a="${done_at[$h]}" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
		r=$(awk -v s="$s" -v n="$RATE_BANS" 'BEGIN { printf "%.0f", n / s }')
	else
		s=">$RATE_WAIT"
		r=-
	fi
	label="host $h"
	[ $h = a ] && label="host a (local bans)" || label="host $h (through Redis)"
	printf '%-30s %10s %10s %12s %8s\n' "$label" "${got[$h]}" "$((RATE_BANS - ${got[$h]}))" "$s" "$r"
done
echo "(the times include A reading and banning; bans/s through Redis beside A's own rate is the ratio)"
sleep 1.5
"$MXG" fleet status --state-dir "$TMP/state-c" | sed -n '/^sent/,/^stream/p'
redis-cli -s "$TMP/redis.sock" INFO memory | grep -E '^used_memory_human' | tr -d '\r' | sed 's/^/redis /'
for h in a b c; do kill "${PID[$h]}"; done
if [ -n "${FLEET_DEBUG:-}" ]; then
	tail -n 5 "$TMP"/*.out
fi
exit 0
