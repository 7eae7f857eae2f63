#!/bin/bash
# What does it cost to drop a denylisted attacker's SYN flood: mxguard's XDP
# program at the driver, against nftables and iptables in the stack?
#
#   gen (bench_drop: live-frame XDP generator)  --veth-->  mx (the filter)
#
# Every run pushes the same flood: DROP_PACKETS (default 5,000,000) 60-byte
# SYNs to 198.18.0.1:25 from random sources in 198.18.66.0/24, valid IPv4 and
# TCP checksums, out of gen0 with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES,
# the generator pinned to one CPU. Frames go out in batches of 64 and mx0's
# NAPI poll runs at the end of each batch on the same CPU, in the same task
# (local_bh_enable), so the generator's wall time is generator + veth + the
# receiver's whole disposal of each packet. "recv ns" subtracts the
# generator-only run (its program returns XDP_DROP, nothing is sent); "si ns"
# is the softirq time /proc/stat sampled on that CPU (tick-sampled: approximate).
#
# mx0 has GRO on in every scenario: without an XDP program a veth only has a
# NAPI instance (and accepts XDP-redirected frames) when GRO is on; a real
# NIC runs GRO by default too. gen0 carries a 2-instruction XDP_DROP program
# so the baseline's RSTs die cheaply at the far end.
#
# Scenarios, each with fresh rules; a fresh namespace pair every round:
#   mxguard XDP       `mxguard run -i mx0` + `mxguard ban 198.18.66.0/24`
#   XDP_DROP floor    a 2-instruction XDP_DROP program on mx0
#   nft ingress       table netdev, hook ingress on mx0
#   nft prerouting    table inet, hook prerouting priority raw
#   iptables-nft      iptables -t raw -A PREROUTING ... (Debian's default)
#   iptables-legacy   iptables-legacy -t raw -A PREROUTING ...
#   baseline          nothing drops: the SYNs reach TCP, which answers RST
#   generator only    the generator's own cost (no frame leaves)
#
# Env: DROP_PACKETS (5000000), DROP_ROUNDS (3), DROP_CPU (1, or 0 on one CPU),
# DROP_CAP seconds per run (10), DROP_BUDGET seconds for all rounds (90).
# Not a test: never fails on a timing; prints "SKIP why" when it cannot run.
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
MXG=${MXG:-$BUILD/mxguard}
GEN=${BENCH_DROP:-$BUILD/tests/bench/bench_drop}
PACKETS=${DROP_PACKETS:-5000000}
ROUNDS=${DROP_ROUNDS:-3}
CAP=${DROP_CAP:-10}
BUDGET=${DROP_BUDGET:-90}
CPU=${DROP_CPU:-$(($(nproc) > 1 ? 1 : 0))}

skip() { echo "SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XDP, netfilter)"
for t in ip nsenter taskset nft iptables ethtool awk; do
	command -v "$t" >/dev/null || skip "$t not installed (Debian: nftables iptables ethtool iproute2 util-linux)"
done
[ -x "$MXG" ] || skip "$MXG not built (make)"
[ -x "$GEN" ] || skip "$GEN not built (make tests)"
HAVE_LEGACY=0
command -v iptables-legacy >/dev/null && HAVE_LEGACY=1
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip "no bpffs at /sys/fs/bpf"

ID=mxgd$$
NSG=${ID}g
NSM=${ID}m
PIN=/sys/fs/bpf/$ID
TMP=$(mktemp -d)
MX_MAC=02:18:00:00:00:01
GEN_MAC=02:18:66:00:00:02
daemon_pid=

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
	ip netns del "$NSG" 2>/dev/null
	ip netns del "$NSM" 2>/dev/null
}
cleanup() {
	pair_down
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pair_up() {
	ip netns add "$NSG" && ip netns add "$NSM" &&
	# no IPv6 chatter (DAD, MLD, RS) to muddy the frame counts
	G sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
	M sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
	ip link add gen0 netns "$NSG" address "$GEN_MAC" type veth \
		peer name mx0 netns "$NSM" address "$MX_MAC" &&
	ip -n "$NSG" link set lo up && ip -n "$NSM" link set lo up &&
	ip -n "$NSG" addr add 198.18.0.2/24 dev gen0 &&
	ip -n "$NSM" addr add 198.18.0.1/24 dev mx0 &&
	ip -n "$NSG" link set gen0 up && ip -n "$NSM" link set mx0 up &&
	ip -n "$NSM" route add 198.18.66.0/24 via 198.18.0.2 &&
	ip -n "$NSM" neigh replace 198.18.0.2 lladdr "$GEN_MAC" dev mx0 nud permanent &&
	M ethtool -K mx0 gro on &&
	G ip link set dev gen0 xdpdrv pinned "$PIN/drop"
}

# Counters of mx's side. rx: frames mx0 took from its XDP ring.
mx_ethtool() { M ethtool -S mx0 | awk -v k="$1:" '$1 == k { print $2 }'; }
tcp_out_rsts() {
	M awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i; h = 1 } else print $c }' /proc/net/snmp
}
mx_denied() { "$MXG" stats --json --pin-dir "$PIN/mx" | sed -E 's/.*"denied":([0-9]+).*/\1/'; }
nft_count() { M nft list ruleset | sed -nE 's/.*counter packets ([0-9]+).*/\1/p' | head -1; }
ipt_count() { M "$1" -t raw -nvxL PREROUTING | awk '$3 == "DROP" { print $1; exit }'; }

# gen [drop]: one generator run; sets R_* from its key=value line.
gen() {
	local out
	out=$(G taskset -c "$CPU" "$GEN" gen gen0 "$MX_MAC" "$PACKETS" "$CAP" "$@" 2>"$TMP/gen.err")
	if [ -z "$out" ]; then
		echo "bench_drop failed: $(tail -3 "$TMP/gen.err")" >&2
		return 1
	fi
	eval "$(echo "$out" | tr ' ' '\n' | sed -n 's/^\([a-z_]*\)=\([0-9.]*\)$/R_\1=\2/p')"
}

# record SCENARIO DROPPED RECEIVED: append the last run to the results.
record() {
	echo "$1|$R_packets|$2|$3|$R_seconds|$R_cpu_si|$R_cpu_total|$R_all_si|$R_hz|$done_rounds" >>"$TMP/runs"
	[ -n "$DROP_VERBOSE" ] && echo "run: $1 packets=$R_packets dropped=$2 rx=$3 s=$R_seconds si=$R_cpu_si/$R_cpu_total all_si=$R_all_si" >&2
	return 0
}

# run_case NAME COUNTER-COMMAND: rx delta and drop counter delta around gen.
run_case() {
	local name=$1 rx0 rx1 d0 d1
	shift
	rx0=$(mx_ethtool rx_queue_0_xdp_packets)
	d0=$("$@")
	gen || return 1
	rx1=$(mx_ethtool rx_queue_0_xdp_packets)
	d1=$("$@")
	record "$name" $((${d1:-0} - ${d0:-0})) $((rx1 - rx0))
}

zero() { echo 0; }
xdp_drops() { mx_ethtool rx_queue_0_xdp_drops; }

round() {
	local n

	pair_up || { echo "cannot set up the namespaces" >&2; return 1; }

	gen drop && record "generator only" - -
	run_case "baseline: TCP answers RST" tcp_out_rsts

	M ip link set dev mx0 xdpdrv pinned "$PIN/drop"
	run_case "XDP_DROP 2 insns (floor)" xdp_drops
	M ip link set dev mx0 xdpdrv off

	mkdir -p -m 0700 "$TMP/state"
	n=$(grep -c "running:" "$TMP/mxguard.log" 2>/dev/null)
	# nsenter itself, not the M function: $! must be the daemon's own pid
	nsenter --net="/run/netns/$NSM" "$MXG" run -c "$TMP/empty.conf" -i mx0 \
		--pin-dir "$PIN/mx" --state-dir "$TMP/state" -o metrics=off >>"$TMP/mxguard.log" 2>&1 &
	daemon_pid=$!
	local t=$((SECONDS + 10))
	while [ "$(grep -c "running:" "$TMP/mxguard.log")" -le "${n:-0}" ] && [ $SECONDS -lt $t ]; do
		sleep 0.1
	done
	if [ "$(grep -c "running:" "$TMP/mxguard.log")" -gt "${n:-0}" ] &&
		"$MXG" ban 198.18.66.0/24 --pin-dir "$PIN/mx" >/dev/null; then
		run_case "mxguard XDP" mx_denied
	else
		echo "mxguard did not start: $(tail -3 "$TMP/mxguard.log")" >&2
	fi
	stop_daemon

	M nft -f - <<-'EOF'
	table netdev mxgbench {
		chain ingress {
			type filter hook ingress device "mx0" priority -500;
			ip saddr 198.18.66.0/24 tcp dport 25 counter drop
		}
	}
	EOF
	run_case "nft netdev ingress" nft_count
	M nft flush ruleset

	M nft -f - <<-'EOF'
	table inet mxgbench {
		chain pre {
			type filter hook prerouting priority raw;
			ip saddr 198.18.66.0/24 tcp dport 25 counter drop
		}
	}
	EOF
	run_case "nft inet prerouting raw" nft_count
	M nft flush ruleset

	M iptables -t raw -A PREROUTING -s 198.18.66.0/24 -p tcp --dport 25 -j DROP &&
		run_case "$IPT_NAME raw PREROUTING" ipt_count iptables
	M nft flush ruleset	# iptables-nft's tables are nft tables

	# Last: legacy tables stay hooked in the namespace until it goes.
	if [ $HAVE_LEGACY = 1 ] &&
		M iptables-legacy -t raw -A PREROUTING -s 198.18.66.0/24 -p tcp --dport 25 -j DROP; then
		run_case "iptables-legacy raw PREROUTING" ipt_count iptables-legacy
	fi
	pair_down
	sleep 0.5	# let the namespace teardown finish off the measured CPU
}

mkdir -p "$PIN" && "$GEN" pin-drop "$PIN/drop" || skip "cannot load a test XDP program"
: >"$TMP/empty.conf"
: >"$TMP/runs"
case "$(iptables -V 2>/dev/null)" in
*nf_tables*) IPT_NAME="iptables-nft" ;;
*legacy*) IPT_NAME="iptables(legacy)" ;;
*) IPT_NAME="iptables" ;;
esac

start=$SECONDS
done_rounds=0
while [ $done_rounds -lt "$ROUNDS" ] && [ $((SECONDS - start)) -lt "$BUDGET" ]; do
	round || break
	done_rounds=$((done_rounds + 1))
done
[ -s "$TMP/runs" ] || skip "no run completed"

echo "SYN flood to port 25 from 198.18.66.0/24, 60-byte frames, $PACKETS per run," \
	"$done_rounds round(s), generator on CPU $CPU of $(nproc), kernel $(uname -r)"
awk -F'|' -v cpu="$CPU" '
function median(s, n,   a, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function minmax(s, n,   a, i, lo, hi) {
	n = split(s, a, " "); lo = hi = a[1]
	for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
	return sprintf("%.1f-%.1f", lo, hi)
}
{
	k = $1
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	pk[k] += $2; rx[k] += ($4 == "-" ? 0 : $4)
	if ($3 == "-") dr[k] = "-"; else dr[k] += $3
	ns = $5 * 1e9 / $2
	nsr[k, $10] = ns; rounds[$10] = 1
	nsl[k] = nsl[k] " " ns; secl[k] = secl[k] " " $5; ppr[k] = $2
	sil[k] = sil[k] " " ($6 * 1e9 / $9 / $2)
	other[k] += $8 - $6; si[k] += $6
}
END {
	g = "generator only"
	m = "mxguard XDP"
	# recv: each run minus the generator-only run of the same round
	for (i = 1; i <= nk; i++) for (r in rounds)
		if ((order[i], r) in nsr && (g, r) in nsr) rl[order[i]] = rl[order[i]] " " (nsr[order[i], r] - nsr[g, r])
	if (m in seen) { mx_ns = median(nsl[m]); mx_recv = (m in rl) ? median(rl[m]) : 0 }
	want[1] = m; want[2] = "XDP_DROP 2 insns (floor)"; want[3] = "nft netdev ingress"
	want[4] = "nft inet prerouting raw"
	for (i = 1; i <= nk; i++) if (order[i] ~ /PREROUTING$/) want[4 + (++np)] = order[i]
	want[5 + np] = "baseline: TCP answers RST"; want[6 + np] = g
	printf "%-32s %10s %10s %8s %6s %7s %13s %8s %7s %6s %6s\n", "scenario", "packets", "dropped",
		"seconds", "Mpps", "ns/pkt", "spread", "recv ns", "si ns", "ratio", "recv x"
	for (i = 1; i <= 6 + np; i++) {
		k = want[i]
		if (!(k in seen)) continue
		ns = median(nsl[k]); sec = median(secl[k])
		recv = (k in rl) ? median(rl[k]) : 0
		printf "%-32s %10d %10s %8.3f %6.2f %7.1f %13s %8s %7.1f %6s %6s\n", k, pk[k], dr[k], sec,
			ppr[k] / sec / 1e6, ns, minmax(nsl[k]), (k == g ? "-" : sprintf("%.1f", recv)),
			median(sil[k]),
			(k == g ? "-" : mx_ns > 0 ? sprintf("%.2fx", ns / mx_ns) : "n/a"),
			(mx_recv > 0 && k != g) ? sprintf("%.2fx", recv / mx_recv) : "-"
		if (rx[k] && rx[k] < pk[k]) lost = lost sprintf("  %s: mx0 took %d of %d frames\n", k, rx[k], pk[k])
		if (other[k] > 2 && other[k] > 0.1 * si[k]) extra = extra sprintf("  %s: %d softirq ticks on other CPUs, %d on CPU %d\n", k, other[k], si[k], cpu)
	}
	print ""
	print "packets, dropped: sums over the rounds (dropped = the scenario'"'"'s own counter; baseline: RSTs sent)"
	print "seconds, ns/pkt: median run; spread: min-max ns/pkt over the rounds"
	print "ns/pkt: wall time of the pinned generator = generator + veth + receiver (same CPU, synchronous)"
	print "recv ns: median over rounds of ns/pkt minus the same round'"'"'s generator-only run: veth + receiver per packet"
	print "si ns: softirq time sampled by /proc/stat ticks on that CPU, per packet (coarse)"
	print "ratio: ns/pkt vs mxguard XDP; recv x: recv ns vs mxguard XDP"
	if (lost != "") printf "frames lost before mx0 (veth ring full):\n%s", lost
	if (extra != "") printf "softirq work seen on other CPUs:\n%s", extra
}' "$TMP/runs"
exit 0
