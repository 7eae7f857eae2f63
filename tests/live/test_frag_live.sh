#!/bin/bash
# Live fragment tests: a veth pair between two namespaces made here,
# mxguard attached to the server side by `mxguard run`, a TCP listener on
# port 25, and SYNs sent from the client side as hand-made frames
# (tests/lib/fragsyn.py, AF_PACKET), whole or split into fragments. Each
# case asks whether a SYN-ACK came back.
#
#   srv (mxguard, listener on 25)  <-- veth -->  cli (banned .2, clean .3)
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

SRV=${TID}fs
CLI=${TID}fc
PIN=/sys/fs/bpf/${TID}f
LOG=$(mktemp)
STATE=$(mktemp -d)
on_exit "rm -rf $LOG $STATE"

netns "$SRV"
netns "$CLI"
veth "$SRV" mx0 "$CLI" cl0
ip -n "$SRV" addr add 198.18.0.1/24 dev mx0
ip -n "$SRV" addr add 2001:db8:0:1::1/64 dev mx0 nodad
ip -n "$CLI" addr add 198.18.0.2/24 dev cl0
ip -n "$CLI" addr add 198.18.0.3/24 dev cl0
ip -n "$CLI" addr add 2001:db8:0:1::2/64 dev cl0 nodad
ip -n "$CLI" addr add 2001:db8:0:1::3/64 dev cl0 nodad

srv_mac=$(ip -n "$SRV" -o link show mx0 | sed -nE 's/.*link\/ether ([0-9a-f:]+).*/\1/p')
cli_mac=$(ip -n "$CLI" -o link show cl0 | sed -nE 's/.*link\/ether ([0-9a-f:]+).*/\1/p')

nsenter --net="/run/netns/$SRV" python3 tests/lib/tcpserve.py --v6 --for 120 25 &
on_exit "kill $!"

daemon_pid=
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"

# syn SRC DST SHAPE: "synack" or "none"
syn() {
	in_ns "$CLI" python3 tests/lib/fragsyn.py --iface cl0 --smac "$cli_mac" \
		--dmac "$srv_mac" --src "$1" --dst "$2" --port 25 --shape "$3" --wait 1.5
}

# expect NAME WANT SRC DST SHAPE
expect() {
	local got
	got=$(syn "$3" "$4" "$5")
	if [ "$got" = "$2" ]; then pass "$1"; else fail "$1" "got $got, want $2"; fi
}

counter() { "$MXG" stats --json --pin-dir "$PIN" | sed -E "s/.*\"$1\":([0-9]+).*/\1/"; }

listener_up() { [ "$(in_ns "$CLI" python3 tests/lib/tcpconnect.py --src 198.18.0.3 --timeout 0.4 198.18.0.1 25)" = 1 ]; }
wait_for 10 listener_up || fail listener_up "the test server did not start"

nsenter --net="/run/netns/$SRV" "$MXG" run -i mx0 --pin-dir "$PIN" \
	--state-dir "$STATE" >>"$LOG" 2>&1 &
daemon_pid=$!
started() { grep -q "running:" "$LOG"; }
wait_for 10 started || fail daemon_starts "$(tail -5 "$LOG")"

# Neighbours first, so the first answer of each family is not lost to a lookup.
in_ns "$CLI" ping -c1 -W1 198.18.0.1 >/dev/null 2>&1
in_ns "$CLI" ping -c1 -W1 2001:db8:0:1::1 >/dev/null 2>&1

# Before any ban: the sender and the listener work, whole and fragmented,
# so the "none" answers below mean something.
expect whole_syn_from_clean_v4_source_gets_synack synack 198.18.0.3 198.18.0.1 whole
expect fragmented_syn_from_clean_v4_source_gets_synack synack 198.18.0.3 198.18.0.1 normal
expect whole_syn_from_clean_v6_source_gets_synack synack 2001:db8:0:1::3 2001:db8:0:1::1 whole
expect fragmented_syn_from_clean_v6_source_gets_synack synack 2001:db8:0:1::3 2001:db8:0:1::1 normal
expect whole_syn_from_v4_source_about_to_be_banned_gets_synack synack 198.18.0.2 198.18.0.1 whole

"$MXG" ban 198.18.0.2 --pin-dir "$PIN" >/dev/null
"$MXG" ban 2001:db8:0:1::2 --pin-dir "$PIN" >/dev/null
fd0=$(counter frag_denied)
d0=$(counter denied)

expect banned_v4_whole_syn_gets_no_synack none 198.18.0.2 198.18.0.1 whole
expect banned_v4_fragmented_syn_gets_no_synack none 198.18.0.2 198.18.0.1 normal
expect banned_v4_tiny_first_fragment_syn_gets_no_synack none 198.18.0.2 198.18.0.1 tiny
expect banned_v4_overlapping_fragments_syn_gets_no_synack none 198.18.0.2 198.18.0.1 overlap
expect banned_v6_fragmented_syn_gets_no_synack none 2001:db8:0:1::2 2001:db8:0:1::1 normal
expect banned_v6_tiny_first_fragment_syn_gets_no_synack none 2001:db8:0:1::2 2001:db8:0:1::1 tiny
expect banned_v6_header_chain_split_across_fragments_syn_gets_no_synack none \
	2001:db8:0:1::2 2001:db8:0:1::1 v6chain

fd1=$(counter frag_denied)
d1=$(counter denied)
# tiny, overlap, v6 tiny, v6chain each send a later fragment only the
# fragment rule drops; first fragments with a readable port 25 count as denied.
if [ $((fd1 - fd0)) -ge 4 ] && [ $((d1 - d0)) -ge 6 ]; then
	pass banned_fragments_move_frag_denied_and_denied
else
	fail banned_fragments_move_frag_denied_and_denied "frag_denied +$((fd1 - fd0)), denied +$((d1 - d0))"
fi

# Not banned, but shaped to hide the SYN flags from the rate limit.
fi0=$(counter frag_invalid)
expect clean_v4_tiny_first_fragment_syn_gets_no_synack none 198.18.0.3 198.18.0.1 tiny
expect clean_v6_header_chain_split_across_fragments_syn_gets_no_synack none \
	2001:db8:0:1::3 2001:db8:0:1::1 v6chain
fi1=$(counter frag_invalid)
if [ $((fi1 - fi0)) -ge 3 ]; then
	pass clean_attack_shaped_fragments_move_frag_invalid
else
	fail clean_attack_shaped_fragments_move_frag_invalid "frag_invalid +$((fi1 - fi0))"
fi
# and the same source is still served
expect clean_v4_source_still_gets_synack_for_a_fragmented_syn synack 198.18.0.3 198.18.0.1 normal

if [ "$T_FAIL" != 0 ]; then
	echo "--- daemon log"
	cat "$LOG"
	"$MXG" stats --pin-dir "$PIN"
fi
summary
