#!/bin/bash
# What does sharing the XDP hook cost: mxguard alone on an interface against
# mxguard inside libxdp's multi-program dispatcher with xdp-filter behind
# it, live frames, the same run.
#
#   gen (bench_drop: live-frame XDP generator)  --veth-->  mx (mxguard)
#
# The flood is drop.sh's: DISPATCH_PACKETS (default 2,000,000) SYNs to
# 198.18.0.1:25 from 198.18.66.0/24, which mxguard has banned, sent with
# BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES from a generator pinned to
# one CPU, where mx0's NAPI poll also runs (see drop.sh). "recv ns" is a
# run's ns/packet minus the generator-only run of the same round: veth plus
# everything mx0 does with the packet. mxguard drops every frame, so behind
# the dispatcher xdp-filter never runs: the difference is the dispatcher.
#
# Env: DISPATCH_PACKETS (2000000), DISPATCH_ROUNDS (3), DISPATCH_CAP seconds
# per run (10). Not a test: never fails on a timing; prints "SKIP why" when it
# cannot run, and the dispatcher's row only where the kernel runs it.
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
MXG=${MXG:-$BUILD/mxguard}
GEN=${BENCH_DROP:-$BUILD/tests/bench/bench_drop}
PACKETS=${DISPATCH_PACKETS:-2000000}
ROUNDS=${DISPATCH_ROUNDS:-3}
CAP=${DISPATCH_CAP:-10}
CPU=${DROP_CPU:-$(($(nproc) > 1 ? 1 : 0))}

skip() { echo "SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XDP)"
for t in ip nsenter taskset ethtool xdp-filter xdp-loader awk; do
	command -v "$t" >/dev/null || skip "$t not installed (scripts/deps.sh --test)"
done
[ -x "$MXG" ] || skip "$MXG not built (make)"
[ -x "$GEN" ] || skip "$GEN not built (make tests)"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip "no bpffs at /sys/fs/bpf"

ID=mxgx$$
NSG=${ID}g
NSM=${ID}m
PIN=/sys/fs/bpf/$ID
TMP=$(mktemp -d)
MX_MAC=02:18:00:00:00:01
GEN_MAC=02:18:66:00:00:02
daemon_pid=
# xdp-filter and libxdp keep directories in bpffs: remove them, when
# empty, if they were not there before.
leftovers=
for p in /sys/fs/bpf/xdp-filter/programs /sys/fs/bpf/xdp-filter /sys/fs/bpf/xdp/globals \
	/sys/fs/bpf/xdp; do
	[ -e $p ] || leftovers="$leftovers $p"
done

G() { nsenter --net="/run/netns/$NSG" "$@"; }
M() { nsenter --net="/run/netns/$NSM" "$@"; }

stop_daemon() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=
	fi
	[ -e "$PIN/mx" ] && M "$MXG" detach --pin-dir "$PIN/mx" >/dev/null 2>&1
	rm -rf "$PIN/mx"
}
pair_down() {
	stop_daemon
	M xdp-filter unload mx0 >/dev/null 2>&1
	ip netns del "$NSG" 2>/dev/null
	ip netns del "$NSM" 2>/dev/null
}
cleanup() {
	local p
	pair_down
	rm -rf "$PIN" "$TMP"
	for p in $leftovers; do
		rmdir $p
	done 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pair_up() {
	ip netns add "$NSG" && ip netns add "$NSM" &&
	G sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
	M sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
	ip link add gen0 netns "$NSG" address "$GEN_MAC" type veth \
		peer name mx0 netns "$NSM" address "$MX_MAC" &&
	ip -n "$NSG" link set lo up && ip -n "$NSM" link set lo up &&
	ip -n "$NSG" addr add 198.18.0.2/24 dev gen0 &&
	ip -n "$NSM" addr add 198.18.0.1/24 dev mx0 &&
	ip -n "$NSG" link set gen0 up && ip -n "$NSM" link set mx0 up &&
	ip -n "$NSM" route add 198.18.66.0/24 via 198.18.0.2 &&
	M ethtool -K mx0 gro on &&
	G ip link set dev gen0 xdpdrv pinned "$PIN/drop"
}

# gen [drop]: one generator run; sets R_* from its key=value line.
gen() {
	local out
	out=$(G taskset -c "$CPU" "$GEN" gen gen0 "$MX_MAC" "$PACKETS" "$CAP" "$@" 2>"$TMP/gen.err")
	[ -n "$out" ] || { echo "bench_drop failed: $(tail -3 "$TMP/gen.err")" >&2; return 1; }
	eval "$(echo "$out" | tr ' ' '\n' | sed -n 's/^\([a-z_]*\)=\([0-9.]*\)$/R_\1=\2/p')"
}
mx_denied() { "$MXG" stats --json --pin-dir "$PIN/mx" | sed -E 's/.*"denied":([0-9]+).*/\1/'; }

start_mxguard() {
	local n t
	mkdir -p -m 0700 "$TMP/state"
	: >>"$TMP/mxguard.log"
	n=$(grep -c "running:" "$TMP/mxguard.log" 2>/dev/null)
	nsenter --net="/run/netns/$NSM" "$MXG" run -c "$TMP/empty.conf" -i mx0 \
		--pin-dir "$PIN/mx" --state-dir "$TMP/state" -o metrics=off >>"$TMP/mxguard.log" 2>&1 &
	daemon_pid=$!
	t=$((SECONDS + 10))
	while [ "$(grep -c "running:" "$TMP/mxguard.log")" -le "${n:-0}" ] && [ $SECONDS -lt $t ]; do
		sleep 0.1
	done
	[ "$(grep -c "running:" "$TMP/mxguard.log")" -gt "${n:-0}" ] &&
		"$MXG" ban 198.18.66.0/24 --pin-dir "$PIN/mx" >/dev/null
}

# run NAME ROUND: one flood, recorded with the drops mxguard counted.
run() {
	local d0 d1
	d0=$(mx_denied)
	gen || return 1
	d1=$(mx_denied)
	echo "$1|$2|$R_packets|$((d1 - d0))|$R_seconds" >>"$TMP/runs"
}

# Can libxdp build a dispatcher here? xdp-filter's own load tells.
dispatcher_here() {
	pair_up || return 1
	M xdp-filter load -v mx0 >"$TMP/probe" 2>&1
	M xdp-loader status mx0 2>/dev/null | grep -q xdp_dispatcher
	local ok=$?
	pair_down
	return $ok
}

mkdir -p "$PIN" && "$GEN" pin-drop "$PIN/drop" || skip "cannot load a test XDP program"
: >"$TMP/empty.conf"
: >"$TMP/runs"
DISP=yes
dispatcher_here || DISP=no

for r in $(seq 1 "$ROUNDS"); do
	pair_up || { echo "cannot set up the namespaces" >&2; break; }
	gen drop && echo "generator only|$r|$R_packets|-|$R_seconds" >>"$TMP/runs"
	if start_mxguard; then
		run "mxguard alone" "$r"
	else
		echo "mxguard did not start: $(tail -3 "$TMP/mxguard.log")" >&2
	fi
	stop_daemon
	if [ $DISP = yes ]; then
		M xdp-filter load mx0 >/dev/null 2>&1 && start_mxguard &&
			run "mxguard + xdp-filter, dispatcher" "$r"
		stop_daemon
	fi
	pair_down
	sleep 0.5
done
[ -s "$TMP/runs" ] || skip "no run completed"

echo "SYN flood to port 25 from banned 198.18.66.0/24, $PACKETS per run, $ROUNDS round(s)," \
	"generator on CPU $CPU, kernel $(uname -r)"
awk -F'|' '
function median(s,   n, a, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	k = $1
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	ns[k, $2] = $5 * 1e9 / $3; nsl[k] = nsl[k] " " ns[k, $2]; rounds[$2] = 1
	if ($4 == "-") dr[k] = "-"; else dr[k] += $4
	pk[k] += $3
}
END {
	g = "generator only"; a = "mxguard alone"
	for (i = 1; i <= nk; i++) for (r in rounds)
		if ((order[i], r) in ns && (g, r) in ns) rl[order[i]] = rl[order[i]] " " (ns[order[i], r] - ns[g, r])
	base = (a in rl) ? median(rl[a]) : 0
	printf "%-36s %10s %10s %8s %8s %7s\n", "scenario", "packets", "dropped", "ns/pkt", "recv ns", "ratio"
	for (i = 1; i <= nk; i++) {
		k = order[i]; recv = (k in rl) ? median(rl[k]) : 0
		printf "%-36s %10d %10s %8.1f %8s %7s\n", k, pk[k], dr[k], median(nsl[k]),
			k == g ? "-" : sprintf("%.1f", recv),
			(k == g || base <= 0) ? "-" : sprintf("%.2fx", recv / base)
	}
	print "recv ns: median over rounds of ns/pkt minus the same round'"'"'s generator-only run"
	print "ratio: recv ns against mxguard alone"
}' "$TMP/runs"
if [ $DISP = no ]; then
	echo "SKIP mxguard + xdp-filter in the dispatcher: libxdp cannot build one on this kernel" \
		"($(grep -i "compatibility check" "$TMP/probe" | sed 's/^ *//' | head -1))"
fi
exit 0
