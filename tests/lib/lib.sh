# Shell test helpers: source from a tests/*/test_*.sh script run from the
# repository root. Every resource a test makes is registered with
# on_exit, and removed in reverse order when the script exits, also on
# failure or interruption.

MXG=${MXG:-${BUILD:-build}/mxguard}
T_PASS=0
T_FAIL=0
T_SKIP=0
TID="mxg$$"
_cleanups=()

on_exit() { _cleanups+=("$*"); }

_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_cleanups[$i]}" >/dev/null 2>&1 || true
	done
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

pass() { echo "PASS $1"; T_PASS=$((T_PASS + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; T_FAIL=$((T_FAIL + 1)); }
skip() { echo "SKIP $1: $2"; T_SKIP=$((T_SKIP + 1)); }

# check NAME CMD...: PASS when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

summary() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" = 0 ]
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP $(basename "$0"): needs root (network namespaces, XDP)"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
}

ensure_bpffs() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# netns NAME: a fresh namespace with lo up, removed on exit.
netns() {
	ip netns add "$1" && on_exit "ip netns del $1"
	ip -n "$1" link set lo up
}

# veth NS_A DEV_A NS_B DEV_B: a veth pair between two namespaces.
veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

# in_ns NS CMD...: enter only the network namespace, so the host's bpffs
# (and pin dirs) stay visible.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# wait_for SECONDS CMD...: poll until CMD succeeds; bounded.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

# mxg_attached NS DEV: mxguard's program runs on DEV, alone (through its
# own link) or inside libxdp's multi-program dispatcher.
mxg_attached() {
	in_ns "$1" ip link show "$2" | grep -q "prog/xdp id [0-9]* name mxguard_xdp" ||
		in_ns "$1" xdp-loader status "$2" 2>/dev/null | grep -q mxguard_xdp
}
