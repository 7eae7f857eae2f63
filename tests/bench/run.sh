#!/bin/bash
# make bench: each figure beside the alternative measured in the same run.
# Benchmarks never fail on a timing; they print tables. Everything runs in
# namespaces and directories made here and removed at exit.
#
#   0. a live SYN flood from many sources: mxguard's XDP cost per packet on
#      each path beside the XDP_DROP/XDP_PASS floors, xdp-filter, nftables
#      and iptables, and inside libxdp's dispatcher where it runs; bulk
#      load of 1,000,000 ranges beside ipset and nft;
#      memory per entry, daemon RSS with 1,000,000 bans
#   1. XDP cost per packet, one packet repeated (BPF_PROG_TEST_RUN), beside
#      an XDP_PASS-only program; the parser's worst lines; the accounts
#      store beside the ban policy
#   2. mxguard scan vs fail2ban-regex postfix[mode=auth]: lines/s and memory
#   3. ban latency, log line -> map entry: mxguard run vs fail2ban + mxguard action
#   5. sustained load, 50,000 failure lines/s for a minute: keeping up, ban
#      latency under load, CPU and memory, beside fail2ban at a rate it takes
#   6. fleet mode: a ban on one host -> another host's map through Redis,
#      beside the local ban; bans/s one Redis carries for 3 hosts
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
. tests/bench/f2b.sh
need_root
ensure_bpffs
BUILD=${BUILD:-build}
MXG_ABS=$(realpath "$MXG")
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"

section() { printf '\n== %s\n' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }

# ---------------------------------------------------------------- 0
section "XDP per-packet cost under a live SYN flood from many sources (live frames)"
tests/bench/flood.sh || echo "SKIP live flood: tests/bench/flood.sh failed"

section "Bulk load of 1,000,000 ranges, memory per entry, daemon RSS"
tests/bench/import.sh || echo "SKIP bulk load: tests/bench/import.sh failed"

# ---------------------------------------------------------------- 1
section "XDP per-packet cost, one packet repeated (BPF_PROG_TEST_RUN, ns/packet)"
"$BUILD"/tests/bpf/bench_xdp || echo "SKIP xdp cost: bench_xdp failed"

section "Parser: a normal line beside the worst 1 MiB line per family (ns/byte; linear matchers stay close)"
"$BUILD"/tests/bench/bench_parse_worst || echo "SKIP parser worst case: bench_parse_worst failed"

section "Attacked accounts: cost per AUTH failure beside the ban policy's; accounts.state off the loop"
"$BUILD"/tests/bench/bench_accounts || echo "SKIP accounts: bench_accounts failed"

# ---------------------------------------------------------------- 2
section "Log scanning: mxguard scan vs fail2ban-regex postfix[mode=auth]"
python3 tests/bench/genlog.py 200000 10 >"$TMP/200k.log"
python3 tests/bench/genlog.py 2000000 10 >"$TMP/2m.log"
measure() { # measure OUT CMD... -> "seconds maxrss_kb" in OUT
	local out=$1
	shift
	/usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>&1
}
measure "$TMP/t_mxg" "$MXG" scan "$TMP/2m.log"
read -r mxg_s mxg_kb <"$TMP/t_mxg"
mxg_matched=$("$MXG" scan --json "$TMP/2m.log" 2>/dev/null | wc -l)
if command -v fail2ban-regex >/dev/null; then
	measure "$TMP/t_f2b" fail2ban-regex "$TMP/200k.log" 'postfix[mode=auth]'
	read -r f2b_s f2b_kb <"$TMP/t_f2b"
	f2b_matched=$(fail2ban-regex "$TMP/200k.log" 'postfix[mode=auth]' 2>/dev/null |
		sed -nE 's/^Lines: .* ([0-9]+) matched.*/\1/p')
	mxg_lps=$(awk -v s="$mxg_s" 'BEGIN { printf "%.0f", 2000000 / (s > 0 ? s : 0.001) }')
	f2b_lps=$(awk -v s="$f2b_s" 'BEGIN { printf "%.0f", 200000 / (s > 0 ? s : 0.001) }')
	printf '%-28s %10s %8s %14s %10s %10s\n' tool lines matched lines/s "RSS MiB" ratio
	printf '%-28s %10s %8s %14s %10.1f %10s\n' "mxguard scan" 2000000 "$mxg_matched" "$mxg_lps" \
		"$(echo "$mxg_kb / 1024" | bc -l)" "$(ratio "$mxg_lps" "$f2b_lps")x"
	printf '%-28s %10s %8s %14s %10.1f %10s\n' "fail2ban-regex" 200000 "${f2b_matched:-?}" "$f2b_lps" \
		"$(echo "$f2b_kb / 1024" | bc -l)" "1.0x"
	echo "(fail2ban-regex reads 1/10 of the lines to keep the run short; both files are the same mix, 10 % SASL failures)"
else
	echo "SKIP fail2ban-regex: fail2ban is not installed"
fi

# ---------------------------------------------------------------- 3
section "Ban latency: failure line appended -> address in deny_v4 (ms)"
NS=${TID}b
PIN=/sys/fs/bpf/$TID
netns "$NS"
ip link add bl0 netns "$NS" type veth peer name bl1 netns "$NS"
ip -n "$NS" link set bl0 up
: >"$TMP/mxg.log"
: >"$TMP/f2b.log"
nsenter --net="/run/netns/$NS" "$MXG" run -c /dev/null -i bl0 --pin-dir "$PIN" \
	--state-dir "$TMP/state" --log "$TMP/mxg.log" -o metrics=off -o maxretry=5 \
	>"$TMP/daemon.log" 2>&1 &
dpid=$!
on_exit "kill -9 $dpid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
daemon_up() { grep -q "running:" "$TMP/daemon.log"; }
if wait_for 10 daemon_up; then
	mxg_lat=$("$BUILD"/tests/bench/bench_latency --log "$TMP/mxg.log" --pin-dir "$PIN" \
		--count 200 --first 0)
else
	mxg_lat="failed: $(tail -2 "$TMP/daemon.log")"
fi

f2b_lat="SKIP: fail2ban is not installed"
if command -v fail2ban-server >/dev/null; then
	F2B=$TMP/f2b
	f2b_config "$F2B" bench "$TMP/f2b.log" "$PIN"
	fail2ban-server -f -x -c "$F2B" -s "$F2B/f2b.sock" -p "$F2B/f2b.pid" >/dev/null 2>&1 &
	fpid=$!
	on_exit "timeout 10 fail2ban-client -s $F2B/f2b.sock stop; kill -9 $fpid"
	jail_up() { timeout 5 fail2ban-client -s "$F2B/f2b.sock" status bench >/dev/null; }
	if wait_for 20 jail_up; then
		f2b_lat=$("$BUILD"/tests/bench/bench_latency --log "$TMP/f2b.log" --pin-dir "$PIN" \
			--count 50 --first 300 --timeout-ms 10000)
		f2b_lat="$f2b_lat (backend $backend)"
	else
		f2b_lat="failed to start fail2ban"
	fi
fi
med() { echo "$1" | sed -nE 's/.*median ([0-9.]+).*/\1/p'; }
p99() { echo "$1" | sed -nE 's/.*p99 ([0-9.]+).*/\1/p'; }
printf '%-34s %s\n' "mxguard run" "$mxg_lat"
printf '%-34s %s\n' "fail2ban + mxguard action" "$f2b_lat"
if [ -n "$(med "$mxg_lat")" ] && [ -n "$(med "$f2b_lat")" ]; then
	echo "ratio (fail2ban / mxguard): median $(ratio "$(med "$f2b_lat")" "$(med "$mxg_lat")")x, p99 $(ratio "$(p99 "$f2b_lat")" "$(p99 "$mxg_lat")")x"
fi

# ---------------------------------------------------------------- 5
section "Sustained load: ban latency and keeping up at 50,000 failure lines/s"
tests/bench/load.sh || echo "SKIP sustained load: tests/bench/load.sh failed"

# ---------------------------------------------------------------- 6
section "Fleet: ban on A -> C's map through one Redis, and bans/s for 3 hosts"
tests/bench/fleet.sh || echo "SKIP fleet: tests/bench/fleet.sh failed"
