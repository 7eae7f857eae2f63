#!/bin/bash
# Bulk load and memory: loading 1,000,000 ranges into mxguard's denylist
# beside `ipset restore` (hash:net) and `nft -f` (an interval set) loading
# the same ranges, all in one run; bytes per deny entry and per tracked
# prefix from `bpftool map show`; the daemon's RSS once it holds them all.
#
# The ranges: 1,000,000 distinct networks from 16.0.0.0 up, nine /32s then
# one /24 in turn. Env: IMPORT_N (1000000), IMPORT_CAP seconds per loader
# (120). Not a test: never fails on a timing; prints "SKIP why".
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
MXG=${MXG:-$BUILD/mxguard}
N=${IMPORT_N:-1000000}
CAP=${IMPORT_CAP:-120}

skip() { echo "SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$MXG" ] || skip "$MXG not built (make)"
command -v bpftool >/dev/null || skip "bpftool not installed"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || skip "no bpffs at /sys/fs/bpf"

ID=mxgi$$
NS=${ID}n
PIN=/sys/fs/bpf/$ID
TMP=$(mktemp -d)
daemon_pid=

stop_daemon() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=
	fi
}
cleanup() {
	stop_daemon
	[ -e "$PIN" ] && nsenter --net="/run/netns/$NS" "$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || skip "cannot make a network namespace"
ip -n "$NS" link add im0 type veth peer name im1 && ip -n "$NS" link set im0 up ||
	skip "cannot make a veth"
mkdir -p -m 0700 "$TMP/state"
: >"$TMP/empty.conf"

daemon_up() {
	local t=$((SECONDS + 60))
	: >"$TMP/mxguard.log"
	nsenter --net="/run/netns/$NS" "$MXG" run -c "$TMP/empty.conf" -i im0 --pin-dir "$PIN" \
		--state-dir "$TMP/state" -o metrics=off >>"$TMP/mxguard.log" 2>&1 &
	daemon_pid=$!
	while ! grep -q "running:" "$TMP/mxguard.log" && [ $SECONDS -lt $t ]; do
		sleep 0.2
	done
	grep -q "running:" "$TMP/mxguard.log"
}
daemon_up || skip "mxguard did not start: $(tail -2 "$TMP/mxguard.log")"

# The ranges, as each tool reads them.
awk -v n="$N" 'BEGIN {
	for (i = 0; i < n; i++) {
		x = 16 * 16777216 + i * 256
		if (i % 10 == 9) printf "%d.%d.%d.0/24\n", int(x / 16777216), int(x / 65536) % 256, int(x / 256) % 256
		else printf "%d.%d.%d.%d/32\n", int(x / 16777216), int(x / 65536) % 256, int(x / 256) % 256, i % 10 + 1
	}
}' >"$TMP/ranges"
sed 's/$/ 1d/' "$TMP/ranges" >"$TMP/mxg.txt"
{
	echo "create mxgbench hash:net family inet maxelem $((N + 1000)) hashsize 65536"
	sed 's/^/add mxgbench /' "$TMP/ranges"
} >"$TMP/ipset.txt"
{
	echo "table inet mxgbench {"
	echo "set deny { type ipv4_addr; flags interval; size $((N + 1000)); elements = {"
	sed '$!s/$/,/' "$TMP/ranges"
	printf '}\n}\n}\n'
} >"$TMP/nft.txt"

# secs CMD...: wall seconds of CMD (capped), or "failed".
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	timeout "$CAP" "$@" >/dev/null 2>"$TMP/err" || { echo "failed: $(tail -1 "$TMP/err")"; return; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

mxg_s=$(secs "$MXG" import "$TMP/mxg.txt" --pin-dir "$PIN")
ipset_s="SKIP: ipset not installed"
if command -v ipset >/dev/null; then
	ipset_s=$(secs ip netns exec "$NS" ipset restore -f "$TMP/ipset.txt")
	ip netns exec "$NS" ipset destroy mxgbench 2>/dev/null
fi
nft_s=$(secs ip netns exec "$NS" nft -f "$TMP/nft.txt")
ip netns exec "$NS" nft flush ruleset 2>/dev/null

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1fx", b / a; else print "-" }'; }
echo "Loading $N ranges (9 in 10 /32, 1 in 10 /24), wall seconds"
printf '%-34s %12s %10s\n' loader seconds "vs mxguard"
printf '%-34s %12s %10s\n' "mxguard import (deny_v4)" "$mxg_s" 1.0x
printf '%-34s %12s %10s\n' "ipset restore (hash:net)" "$ipset_s" "$(ratio "$mxg_s" "$ipset_s")"
printf '%-34s %12s %10s\n' "nft -f (interval set)" "$nft_s" "$(ratio "$mxg_s" "$nft_s")"

# Bytes per entry: the kernel's own memory accounting of each map.
memlock() { bpftool map show pinned "$PIN/$1" | sed -nE 's/.*memlock ([0-9]+)B.*/\1/p'; }
count() { "$MXG" status --pin-dir "$PIN" | awk -v m="$1" '$1 == m { print $2 }'; }
echo
echo "Memory (bpftool map show: memlock)"
printf '%-12s %12s %14s %14s\n' map entries "memlock MiB" "bytes/entry"
for m in deny_v4 rate_v4 rate_v6; do
	b=$(memlock "$m")
	e=$(count "$m")
	[ "$m" = deny_v4 ] || e=$(bpftool map show pinned "$PIN/$m" | sed -nE 's/.*max_entries ([0-9]+).*/\1/p')
	printf '%-12s %12s %14s %14s\n' "$m" "$e" \
		"$(awk -v b="$b" 'BEGIN { printf "%.1f", b / 1048576 }')" \
		"$(awk -v b="$b" -v e="$e" 'BEGIN { if (e > 0) printf "%.0f", b / e; else print "-" }')"
done
echo "(rate maps are preallocated: bytes per tracked prefix = memlock / max_entries)"
# The deny caches are fixed costs, whatever the denylist holds.
for m in deny_cache deny_cache_hosts; do
	b=$(memlock "$m")
	printf '%-16s fixed %10s MiB\n' "$m" "$(awk -v b="$b" 'BEGIN { printf "%.1f", b / 1048576 }')"
done

# The daemon's memory once it holds them: restart it, so it adopts every
# ban from the maps, and read its RSS when it is up.
stop_daemon
daemon_up || { echo "mxguard did not restart: $(tail -2 "$TMP/mxguard.log")"; exit 0; }
sleep 2
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon_pid/status" 2>/dev/null)
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon_pid/status" 2>/dev/null)
echo
echo "mxguard run holding $(count deny_v4) bans: RSS $((${rss:-0} / 1024)) MiB (peak $((${hwm:-0} / 1024)) MiB)"
exit 0
