#!/bin/bash
# A SYN flood from many sources on live frames, as an MX sees one: what each
# receiver costs per packet beside the XDP_DROP and XDP_PASS floors, all in
# one run.
#
#   gen (bench_flood gen: live-frame XDP generator)  --veth-->  mx0 (receiver)
#
# The generator (tests/bench/flood.bpf.c) gives every frame a new source:
# "many" cycles through 65,536 sources of 198.19.0.0/16 with the /24
# changing fastest (256 /24s), "random" takes any IPv4 address, "one24" the
# hosts of one /24. It runs pinned to one CPU; mx0's NAPI poll runs right
# after each batch of 64 frames on that CPU, so the receiver's work is
# charged to it. Two figures per case:
#   prog ns   the receiving program's own time per run (bpf_stats run_time_ns
#             / run_cnt, stats on only for that run); for XDP receivers
#   recv ns   wall time per frame minus that of a generator-alone run (its
#             program returns XDP_DROP) made just before: veth + the
#             receiver's whole disposal of the frame; the only figure
#             netfilter has. On a busy machine it is the noisier of the two
# Each ratio ("x floor") is taken within a round against the counting
# XDP_DROP program (or XDP_PASS for pass cases) of that round; the table
# gives medians over the rounds and the min-max of the ratio. mxg_dispatch
# is mxg_deny256 inside libxdp's dispatcher with xdp-filter loaded first:
# against mxg_deny256, the dispatcher's cost (where the kernel runs one).
#
# Env: FLOOD_PACKETS (2000000 per run), FLOOD_ROUNDS (3), FLOOD_CASES (all),
# FLOOD_CPU (1), FLOOD_BUDGET seconds (300). Not a test: never fails on a
# timing; prints "SKIP why" when it cannot run.
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
MXG=${MXG:-$BUILD/mxguard}
FLOOD=${BENCH_FLOOD:-$BUILD/tests/bench/bench_flood}
PACKETS=${FLOOD_PACKETS:-2000000}
ROUNDS=${FLOOD_ROUNDS:-3}
BUDGET=${FLOOD_BUDGET:-300}
CPU=${FLOOD_CPU:-$(($(nproc) > 1 ? 1 : 0))}
XDPF_OBJ=${XDPF_OBJ:-/usr/lib/$(gcc -print-multiarch 2>/dev/null)/bpf/xdpfilt_alw_ip.o}
ALL_CASES="floor_drop floor_pass probe_hash probe_lpm probe_boot_ns probe_coarse_ns
	probe_jiffies mxg_deny256 mxg_deny256_allow mxg_dispatch mxg_deny65k mxg_deny100k mxg_rate mxg_random
	mxg_pass_ack mxg_pass_ack100k mxg_pass_80 mxg_rate_one24 mxg_rate_2cpu floor_drop_2cpu xdp_filter nft_deny
	nft_meter ipt_deny ipt_hashlimit"
CASES=${FLOOD_CASES:-$ALL_CASES}

skip() { echo "SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XDP, netfilter)"
for t in ip nsenter taskset nft iptables ethtool awk; do
	command -v "$t" >/dev/null || skip "$t not installed (Debian: nftables iptables ethtool iproute2 util-linux)"
done
[ -x "$MXG" ] || skip "$MXG not built (make)"
[ -x "$FLOOD" ] || skip "$FLOOD not built (make tests)"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip "no bpffs at /sys/fs/bpf"

ID=mxgf$$
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
	rm -rf "$PIN/mx" "$TMP/state"
}
pair_down() {
	stop_daemon
	ip netns del "$NSG" 2>/dev/null
	ip netns del "$NSM" 2>/dev/null
}
# xdp-filter and libxdp keep directories in bpffs (mxg_dispatch): remove
# them, when empty, if they were not there before.
leftovers=
for p in /sys/fs/bpf/xdp-filter/programs /sys/fs/bpf/xdp-filter /sys/fs/bpf/xdp/globals \
	/sys/fs/bpf/xdp; do
	[ -e $p ] || leftovers="$leftovers $p"
done
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
	ip -n "$NSM" route add default via 198.18.0.2 &&
	ip -n "$NSM" neigh replace 198.18.0.2 lladdr "$GEN_MAC" dev mx0 nud permanent &&
	M ethtool -K mx0 gro on >/dev/null &&
	# the receiver's answers (RSTs, SYN-ACKs) die at once on the far end
	G ip link set dev gen0 xdpdrv pinned "$PIN/floor_drop"
}

prog_id() { ip -n "$NSM" link show mx0 | sed -nE 's/.*prog\/xdp id ([0-9]+).*/\1/p'; }

# gen MODE [args]: one generator run on $CPU; sets R_* from its output.
gen() {
	local out mode=$1
	shift
	R_runs0='' R_run_ns0=''
	out=$(G taskset -c "$CPU" "$FLOOD" gen gen0 "$MX_MAC" "$mode" "$PACKETS" 20 "$@" 2>"$TMP/gen.err")
	if [ -z "$out" ]; then
		echo "bench_flood failed: $(tail -3 "$TMP/gen.err")" >&2
		return 1
	fi
	eval "$(echo "$out" | tr ' ' '\n' | sed -n 's/^\([a-z_0-9]*\)=\([0-9.]*\)$/R_\1=\2/p')"
}

# Two generators at once, one per CPU, the same flood: sets R2_* (sums).
gen2() {
	local mode=$1 a b
	shift
	G taskset -c 0 "$FLOOD" gen gen0 "$MX_MAC" "$mode" "$PACKETS" 20 "$@" >"$TMP/g0" 2>"$TMP/gen.err" &
	a=$!
	G taskset -c 1 "$FLOOD" gen gen0 "$MX_MAC" "$mode" "$PACKETS" 20 "$@" >"$TMP/g1" 2>>"$TMP/gen.err" &
	b=$!
	wait "$a" "$b"
	cat "$TMP/g0" "$TMP/g1" | tr ' ' '\n' | awk -F= '
		/^packets=/ { p += $2 } /^seconds=/ { if ($2 > s) s = $2 }
		END { printf "R_packets=%d R_seconds=%f\n", p, s }' >"$TMP/g2"
	. "$TMP/g2"
}

# record CASE PROG_NS WALL_NS
record() { echo "$1|$round|$2|$3" >>"$TMP/runs"; }

# measure CASE PASS|DROP MODE [gen args]: prog ns (stats run) and wall ns.
measure() {
	local name=$1 id prog=- wall
	shift 2
	id=$(prog_id)
	if [ -n "$id" ]; then
		gen "$@" --prog-id "$id" || return 1
		[ "${R_runs0:-0}" -gt 0 ] && prog=$(awk -v n="$R_run_ns0" -v c="$R_runs0" 'BEGIN { printf "%.1f", n / c }')
	fi
	gen many --drop || return 1
	alone=$(awk -v s="$R_seconds" -v p="$R_packets" 'BEGIN { printf "%.1f", s * 1e9 / p }')
	gen "$@" || return 1
	wall=$(awk -v s="$R_seconds" -v p="$R_packets" -v g="$alone" 'BEGIN { printf "%.1f", s * 1e9 / p - g }')
	record "$name" "$prog" "$wall"
}

attach() { M ip link set dev mx0 xdpdrv pinned "$PIN/$1"; }
detach_xdp() { M ip link set dev mx0 xdpdrv off; }

# mxguard_up [-o k=v]...: the daemon on mx0 with a fresh state dir.
mxguard_up() {
	local t=$((SECONDS + 15))
	mkdir -p -m 0700 "$TMP/state"
	: >"$TMP/mxguard.log"
	nsenter --net="/run/netns/$NSM" "$MXG" run -c "$TMP/empty.conf" -i mx0 \
		--pin-dir "$PIN/mx" --state-dir "$TMP/state" -o metrics=off \
		-o rate_events=100 "$@" >>"$TMP/mxguard.log" 2>&1 &
	daemon_pid=$!
	while ! grep -q "running:" "$TMP/mxguard.log" && [ $SECONDS -lt $t ]; do
		sleep 0.1
	done
	grep -q "running:" "$TMP/mxguard.log" && return 0
	echo "mxguard did not start: $(tail -3 "$TMP/mxguard.log")" >&2
	stop_daemon
	return 1
}
mxg_import() { "$MXG" import "$1" --pin-dir "$PIN/mx" >/dev/null; }
# 24 allowlist entries: 8 /16s, 8 /24s and 8 hosts, spread over IPv4
mxg_allow_some() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		"$MXG" allow add "$((i * 20)).$((i * 7)).0.0/16" --pin-dir "$PIN/mx" &&
			"$MXG" allow add "$((i * 20 + 5)).$i.$((i * 3)).0/24" --pin-dir "$PIN/mx" &&
			"$MXG" allow add "$((i * 20 + 9)).$i.$i.$i" --pin-dir "$PIN/mx" || return 1
	done >/dev/null
}

run_case() {
	case $1 in
	floor_drop | probe_*)
		attach "$1" && measure "$1" DROP many; detach_xdp ;;
	floor_pass)
		attach floor_pass && measure "$1" PASS many --ack; detach_xdp ;;
	floor_drop_2cpu)
		attach floor_drop && run_2cpu "$1"; detach_xdp ;;
	mxg_deny256)
		mxguard_up && mxg_import "$TMP/deny256" && measure "$1" DROP many; stop_daemon ;;
	mxg_deny256_allow)
		# the same with an allowlist such as an operator keeps (own and
		# partners' networks, none of them the flood's): every drop still
		# looks the source up in it first
		mxguard_up && mxg_import "$TMP/deny256" && mxg_allow_some &&
			measure "$1" DROP many
		stop_daemon ;;
	mxg_dispatch)
		# mxg_deny256 again, inside libxdp's dispatcher with xdp-filter
		# loaded first (behind it: mxguard runs at priority 5): where
		# libxdp can build a dispatcher on this kernel, else a SKIP line.
		if command -v xdp-filter >/dev/null &&
			M xdp-filter load -v mx0 >"$TMP/xdpf.out" 2>&1 &&
			M xdp-loader status mx0 2>/dev/null | grep -q xdp_dispatcher; then
			mxguard_up && mxg_import "$TMP/deny256" && measure "$1" DROP many
			stop_daemon
		else
			echo "$(grep -i "compatibility check" "$TMP/xdpf.out" 2>/dev/null |
				sed 's/^ *//' | head -1)" >"$TMP/no_dispatcher"
		fi
		M xdp-filter unload mx0 >/dev/null 2>&1 ;;
	mxg_deny65k)
		mxguard_up && mxg_import "$TMP/deny65k" && measure "$1" DROP many; stop_daemon ;;
	mxg_deny100k)
		mxguard_up && mxg_import "$TMP/deny100k" && measure "$1" DROP many; stop_daemon ;;
	mxg_rate)
		# empty every bucket of the 256 /24s first (burst 500 each)
		mxguard_up && gen many >/dev/null && measure "$1" DROP many; stop_daemon ;;
	mxg_random)
		mxguard_up && measure "$1" DROP random; stop_daemon ;;
	mxg_rate_one24)
		mxguard_up && gen one24 --base 198.19.7.0 >/dev/null &&
			measure "$1" DROP one24 --base 198.19.7.0
		stop_daemon ;;
	mxg_pass_ack)
		mxguard_up && measure "$1" PASS many --ack; stop_daemon ;;
	mxg_pass_ack100k)
		# the same ACKs with 100,000 bans loaded that cover none of them:
		# every ACK walks the trie and finds nothing, as on a busy MX
		mxguard_up && mxg_import "$TMP/deny100k_other" && measure "$1" PASS many --ack
		stop_daemon ;;
	mxg_pass_80)
		mxguard_up && measure "$1" PASS many --dport 80; stop_daemon ;;
	mxg_rate_2cpu)
		mxguard_up && run_2cpu "$1"; stop_daemon ;;
	xdp_filter)
		if [ -r "$XDPF_OBJ" ]; then
			rm -f "$PIN/xdpf"
			"$FLOOD" xdp-filter "$XDPF_OBJ" "$PIN/xdpf" 198.19.0.0 65536 &&
				attach xdpf && measure "$1" DROP many
			detach_xdp
			rm -f "$PIN/xdpf"
		fi ;;
	nft_deny)
		M nft -f "$TMP/nft_deny" && measure "$1" DROP many; M nft flush ruleset ;;
	nft_meter)
		M nft -f "$TMP/nft_meter" && gen many >/dev/null && measure "$1" DROP many
		M nft flush ruleset ;;
	ipt_deny)
		M iptables -t raw -A PREROUTING -s 198.19.0.0/16 -p tcp --dport 25 -j DROP &&
			measure "$1" DROP many
		M iptables -t raw -F PREROUTING ;;
	ipt_hashlimit)
		M iptables -t raw -A PREROUTING -p tcp --dport 25 --syn -m hashlimit \
			--hashlimit-above 50/sec --hashlimit-burst 500 --hashlimit-mode srcip \
			--hashlimit-srcmask 24 --hashlimit-name mxgbench -j DROP &&
			gen many >/dev/null && measure "$1" DROP many
		M iptables -t raw -F PREROUTING ;;
	esac
}

# Two CPUs flooding one /24 at once: per-packet cost from the program's own
# run time over both CPUs, and the SYNs the bucket let through.
run_2cpu() {
	local id prog
	id=$(prog_id)
	[ -n "$id" ] || return 1
	gen2 one24 --base 198.19.7.0 --prog-id "$id"
	cat "$TMP/g0" "$TMP/g1" | tr ' ' '\n' | awk -F= '
		/^runs0=/ { c += $2 } /^run_ns0=/ { n += $2 }
		END { if (c) printf "%.1f\n", n / c; else print "-" }' >"$TMP/p2"
	prog=$(cat "$TMP/p2")
	gen many --drop || return 1
	alone=$(awk -v s="$R_seconds" -v p="$R_packets" 'BEGIN { printf "%.1f", s * 1e9 / p }')
	gen2 one24 --base 198.19.7.0
	record "$1" "$prog" "$(awk -v s="$R_seconds" -v p="$R_packets" -v g="$alone" 'BEGIN { printf "%.1f", s * 2e9 / p - g }')"
}

# The deny lists: the flood's 256 /24s; its 65,536 sources one by one; and
# 100,000 ranges of lengths 16 to 32 all over IPv4 (not 198.18.0.0/15) with
# the flood's /16 among them, and the same without it.
awk 'BEGIN { for (i = 0; i < 256; i++) printf "198.19.%d.0/24 1h\n", i }' >"$TMP/deny256"
awk 'BEGIN { for (i = 0; i < 65536; i++) printf "198.19.%d.%d/32 1h\n", i % 256, int(i / 256) }' >"$TMP/deny65k"
awk 'BEGIN {
	srand(7); print "198.19.0.0/16 1h"
	for (n = 1; n < 100000; ) {
		a = 1 + int(rand() * 223); if (a == 198 || a == 127) continue
		l = 16 + int(rand() * 17); s = 2 ^ (32 - l)
		x = int((a * 16777216 + int(rand() * 16777216)) / s) * s
		printf "%d.%d.%d.%d/%d 1h\n", int(x / 16777216), int(x / 65536) % 256,
			int(x / 256) % 256, x % 256, l
		n++
	}
}' >"$TMP/deny100k"
grep -v '^198\.19\.' "$TMP/deny100k" >"$TMP/deny100k_other"
cat >"$TMP/nft_deny" <<-'EOF'
table netdev mxgbench {
	chain ingress {
		type filter hook ingress device "mx0" priority -500;
		ip saddr 198.19.0.0/16 tcp dport 25 counter drop
	}
}
EOF
cat >"$TMP/nft_meter" <<-'EOF'
table netdev mxgbench {
	chain ingress {
		type filter hook ingress device "mx0" priority -500;
		tcp dport 25 tcp flags & (syn | ack) == syn meter per24 size 65536 { ip saddr & 255.255.255.0 limit rate over 50/second burst 500 packets } counter drop
	}
}
EOF
: >"$TMP/empty.conf"
: >"$TMP/runs"

mkdir -p -m 0700 "$PIN" || skip "cannot make $PIN"
for p in floor_drop floor_pass probe_hash probe_lpm probe_boot_ns probe_coarse_ns probe_jiffies; do
	"$FLOOD" pin "$p" "$PIN/$p" || skip "cannot load $p"
done

start=$SECONDS
round=0
while [ $round -lt "$ROUNDS" ] && [ $((SECONDS - start)) -lt "$BUDGET" ]; do
	round=$((round + 1))
	pair_up || { echo "cannot set up the namespaces" >&2; break; }
	for c in $CASES; do
		[ $((SECONDS - start)) -lt "$BUDGET" ] || break
		run_case "$c"
	done
	pair_down
	sleep 0.5
done
[ -s "$TMP/runs" ] || skip "no run completed"
[ -n "$FLOOD_RAW" ] && cp "$TMP/runs" "$FLOOD_RAW"

echo "SYN flood to port 25 on a veth, 60-byte frames, $PACKETS per run, $round round(s)," \
	"generator on CPU $CPU of $(nproc), kernel $(uname -r)"
awk -F'|' '
function med(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $1; if (!(k in seen)) { seen[k] = 1; order[++nk] = k }; P[k, $2] = $3; W[k, $2] = $4; R[$2] = 1 }
END {
	for (i = 1; i <= nk; i++) {
		k = order[i]
		fl = (k ~ /pass/) ? "floor_pass" : (k ~ /2cpu/) ? "floor_drop_2cpu" : "floor_drop"
		pl = ""; wl = ""; rp = ""; rw = ""
		for (r in R) {
			if (!((k, r) in W)) continue
			if (P[k, r] != "-") pl = pl " " P[k, r]
			rv = W[k, r]; wl = wl " " rv
			if (P[k, r] != "-" && (fl, r) in P && P[fl, r] > 0) rp = rp " " P[k, r] / P[fl, r]
			if ((fl, r) in W) { fw = W[fl, r]; if (fw > 0) rw = rw " " rv / fw }
		}
		pm = pl == "" ? "-" : sprintf("%.1f", med(pl))
		rpm = rp == "" ? "-" : sprintf("%.2fx [%.2f-%.2f]", med(rp), lo, hi)
		wm = sprintf("%.1f", med(wl))
		rwm = rw == "" ? "-" : sprintf("%.2fx [%.2f-%.2f]", med(rw), lo, hi)
		if (i == 1) printf "%-18s %9s %22s %9s %22s\n", "case", "prog ns", "x floor (prog)", "recv ns", "x floor (recv)"
		printf "%-18s %9s %22s %9s %22s\n", k, pm, rpm, wm, rwm
	}
}' "$TMP/runs"
if [ -e "$TMP/no_dispatcher" ]; then
	echo "SKIP mxg_dispatch (mxguard in libxdp's dispatcher with xdp-filter): libxdp" \
		"cannot build one on this kernel ($(cat "$TMP/no_dispatcher"))"
fi
exit 0
