#!/bin/bash
# mxguard beside xdp-filter (xdp-tools) on one veth, in both orders.
#
#   srv (mxguard, xdp-filter, listeners)  <-- veth -->  cli
#   cli 198.18.0.2  nobody filters it: must always get through
#       198.18.1.2  banned in mxguard's denylist (which drops the SMTP
#                   ports only, deny_scope = smtp: tried on port 25)
#       198.18.2.2  denied by xdp-filter
#       198.18.3.2  opens SYNs faster than mxguard's rate for port 25
#
# Where the kernel runs libxdp's multi-program dispatcher, both programs
# share the hook: each does its job, xdp-loader shows both, either can
# leave alone. Where it cannot (it refuses freplace programs), the second
# one to come is refused with a message naming the first, and the first
# keeps working; which case holds is read from xdp-filter's own load.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs
for t in xdp-filter xdp-loader clang; do
	command -v $t >/dev/null || { fail tools_present "$t missing (scripts/deps.sh --test)"; summary; exit 1; }
done

# xdp-filter and libxdp keep directories in bpffs: remove them, when
# empty, if they were not there before.
for d in /sys/fs/bpf/xdp /sys/fs/bpf/xdp/globals /sys/fs/bpf/xdp-filter \
	/sys/fs/bpf/xdp-filter/programs; do
	[ -e $d ] || on_exit "rmdir $d"
done

SRV=${TID}s
CLI=${TID}c
PIN=/sys/fs/bpf/$TID
TMP=$(mktemp -d)
LOG=$TMP/daemon.log
STATE=$TMP/state
mkdir -m 0700 "$STATE"
on_exit "rm -rf $TMP"
CONNECT="python3 tests/lib/tcpconnect.py"

netns "$SRV"
netns "$CLI"
veth "$SRV" mx0 "$CLI" cl0
ip -n "$SRV" addr add 198.18.0.1/24 dev mx0
ip -n "$SRV" addr add 198.18.1.1/24 dev mx0
ip -n "$SRV" addr add 198.18.2.1/24 dev mx0
for a in 198.18.0.2/24 198.18.1.2/24 198.18.2.2/24 198.18.3.2/32; do
	ip -n "$CLI" addr add $a dev cl0
done
# mxguard never bans a /24 holding one of its host's addresses: the
# flooder's /24 has none.
ip -n "$SRV" route add 198.18.3.2/32 dev mx0

nsenter --net="/run/netns/$SRV" python3 tests/lib/tcpserve.py --for 300 25 80 &
on_exit "kill $!"

daemon_pid=
start_daemon() { # start_daemon: 0 when it runs, 1 when it stopped
	local n
	n=$(grep -c "running:" "$LOG" 2>/dev/null)
	nsenter --net="/run/netns/$SRV" "$MXG" run -i mx0 --pin-dir "$PIN" \
		--state-dir "$STATE" -o ports="25:1/3" -o metrics=off >>"$LOG" 2>&1 &
	daemon_pid=$!
	started() { [ "$(grep -c "running:" "$LOG")" -gt "${n:-0}" ]; }
	gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
	stopped_or_started() { started || gone; }
	wait_for 15 stopped_or_started
	started
}
stop_daemon() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	daemon_pid=
}
filter_unload() { in_ns "$SRV" xdp-filter unload mx0 >/dev/null 2>&1; }
on_exit "kill -9 \$daemon_pid; in_ns $SRV $MXG detach --pin-dir $PIN; rm -rf $PIN"
on_exit "in_ns $SRV xdp-filter unload mx0"

conn() { # conn SRC [PORT] [COUNT] -> established connections
	in_ns "$CLI" $CONNECT --src "$1" --timeout 0.4 --count "${3:-1}" 198.18.0.1 "${2:-80}"
}
listener_up() { [ "$(conn 198.18.0.2)" = 1 ]; }
wait_for 10 listener_up || fail listeners_up "the test server did not start"

filter_load() { # xdp-filter with 198.18.2.2 denied; prints libxdp's account
	in_ns "$SRV" xdp-filter load -v mx0 2>&1 &&
		in_ns "$SRV" xdp-filter ip -m src 198.18.2.2 >/dev/null 2>&1
}
status() { in_ns "$SRV" xdp-loader status mx0 2>&1; }
# pass_prog: $TMP/pass.o, an XDP program that passes everything
pass_prog() {
	cat >"$TMP/pass.bpf.c" <<-'EOF'
	#include <linux/bpf.h>
	__attribute__((section("xdp"), used)) int pass_all(struct xdp_md *c) { return XDP_PASS; }
	char _l[] __attribute__((section("license"), used)) = "GPL";
	EOF
	clang -g -O2 -target bpf -I/usr/include/$(gcc -print-multiarch) -c "$TMP/pass.bpf.c" -o "$TMP/pass.o"
}
# n_mxguard: how many mxguard programs run on mx0 (dispatcher or alone)
n_mxguard() { status | grep -c mxguard_xdp; }
rate_limited() { "$MXG" stats --json --pin-dir "$PIN" | sed -E 's/.*"rate_limited":([0-9]+).*/\1/'; }

# jobs_done ORDER: the checks every arrangement must pass while both run
both_work() {
	local o=$1 before after
	[ "$(conn 198.18.0.2)" = 1 ] && pass "${o}_clean_source_reaches_the_stack_through_both" ||
		fail "${o}_clean_source_reaches_the_stack_through_both"
	[ "$(conn 198.18.2.2)" = 0 ] && pass "${o}_xdp_filter_drops_its_denied_source" ||
		fail "${o}_xdp_filter_drops_its_denied_source"
	"$MXG" ban 198.18.1.2 --pin-dir "$PIN" >/dev/null
	[ "$(conn 198.18.1.2 25)" = 0 ] && pass "${o}_mxguard_drops_a_banned_source" ||
		fail "${o}_mxguard_drops_a_banned_source"
	before=$(rate_limited)
	conn 198.18.3.2 25 8 >/dev/null
	after=$(rate_limited)
	[ "$after" -gt "$before" ] && pass "${o}_mxguard_rate_limits_syns" ||
		fail "${o}_mxguard_rate_limits_syns" "rate_limited $before -> $after"
	status | grep -q xdpfilt && [ "$(n_mxguard)" = 1 ] &&
		pass "${o}_xdp_loader_status_shows_both" ||
		fail "${o}_xdp_loader_status_shows_both" "$(status)"
}

# ---- which kind of kernel is this? ------------------------------------
out=$(filter_load)
if status | grep -q xdp_dispatcher; then
	DISP=yes
else
	DISP=no
	why=$(echo "$out" | grep -i "compatibility check" | head -1)
	echo "# libxdp's dispatcher cannot run on this kernel: ${why:-see xdp-filter load -v}"
fi
filter_unload

if [ $DISP = yes ]; then
	# ---- order 1: xdp-filter, then mxguard -------------------------
	filter_load >/dev/null
	start_daemon || fail filter_first_mxguard_starts "$(tail -5 "$LOG")"
	both_work filter_first
	in_ns "$SRV" "$MXG" status --pin-dir "$PIN" | grep -q "libxdp dispatcher, priority 5, 1 other program" &&
		pass filter_first_mxguard_status_shows_the_dispatcher ||
		fail filter_first_mxguard_status_shows_the_dispatcher "$(in_ns "$SRV" "$MXG" status --pin-dir "$PIN")"
	status | awk '/mxguard_xdp/{m=NR} /xdpfilt/{f=NR} END{exit !(m && f && m < f)}' &&
		pass filter_first_mxguard_runs_first ||
		fail filter_first_mxguard_runs_first "$(status)"
	stop_daemon
	in_ns "$SRV" "$MXG" detach --pin-dir "$PIN" >/dev/null
	[ "$(n_mxguard)" = 0 ] && [ "$(conn 198.18.2.2)" = 0 ] && [ "$(conn 198.18.1.2)" = 1 ] &&
		pass filter_first_detaching_mxguard_leaves_xdp_filter_working ||
		fail filter_first_detaching_mxguard_leaves_xdp_filter_working "$(status)"
	filter_unload

	# ---- order 2: mxguard, then xdp-filter --------------------------
	start_daemon || fail mxguard_first_starts "$(tail -5 "$LOG")"
	filter_load >/dev/null
	both_work mxguard_first
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	[ "$(conn 198.18.1.2 25)" = 0 ] && pass mxguard_first_protection_survives_kill_9 ||
		fail mxguard_first_protection_survives_kill_9
	start_daemon || fail mxguard_first_restart "$(tail -5 "$LOG")"
	[ "$(n_mxguard)" = 1 ] && [ "$(conn 198.18.1.2 25)" = 0 ] &&
		pass mxguard_first_restart_adopts_without_a_second_copy ||
		fail mxguard_first_restart_adopts_without_a_second_copy "$(status)"
	filter_unload
	[ "$(conn 198.18.1.2 25)" = 0 ] && [ "$(conn 198.18.2.2)" = 1 ] &&
		pass mxguard_first_unloading_xdp_filter_leaves_mxguard_working ||
		fail mxguard_first_unloading_xdp_filter_leaves_mxguard_working "$(status)"

	# ---- attacker: a program ahead of mxguard that ends the chain ----
	# Loading one takes the same privileges as detaching mxguard; what
	# holds is that mxguard shows it, so it cannot pass unseen.
	pass_prog
	in_ns "$SRV" xdp-loader load -P 1 -A XDP_DROP mx0 "$TMP/pass.o" >/dev/null 2>&1
	in_ns "$SRV" "$MXG" status --pin-dir "$PIN" | grep -q "1 ahead of it" &&
		pass attacker_program_ahead_of_mxguard_is_shown_in_status ||
		fail attacker_program_ahead_of_mxguard_is_shown_in_status "$(in_ns "$SRV" "$MXG" status --pin-dir "$PIN")"
	stop_daemon
	in_ns "$SRV" xdp-loader unload --all mx0 >/dev/null 2>&1
else
	# ---- order 1: xdp-filter, then mxguard -------------------------
	filter_load >/dev/null
	if start_daemon; then
		fail filter_first_mxguard_refuses_to_take_the_hook "it started"
		stop_daemon
	elif grep -q "xdpfilt.*holds it, and libxdp's dispatcher that would share it cannot run here" "$LOG"; then
		pass filter_first_mxguard_refuses_naming_xdp_filter_and_why
	else
		fail filter_first_mxguard_refuses_naming_xdp_filter_and_why "$(tail -3 "$LOG")"
	fi
	[ "$(conn 198.18.2.2)" = 0 ] && [ "$(conn 198.18.0.2)" = 1 ] &&
		pass filter_first_xdp_filter_keeps_working_after_the_refusal ||
		fail filter_first_xdp_filter_keeps_working_after_the_refusal "$(status)"
	in_ns "$SRV" "$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1
	filter_unload
	skip filter_first_both_share_the_hook "libxdp's dispatcher cannot run on this kernel"

	# ---- order 2: mxguard, then xdp-filter --------------------------
	start_daemon || fail mxguard_first_starts "$(tail -5 "$LOG")"
	grep -q "libxdp's dispatcher cannot run here" "$LOG" &&
		pass mxguard_first_says_why_it_holds_the_hook_alone ||
		fail mxguard_first_says_why_it_holds_the_hook_alone "$(tail -3 "$LOG")"
	if filter_load >/dev/null; then
		fail mxguard_first_xdp_filter_is_refused "it loaded: $(status)"
	else
		pass mxguard_first_xdp_filter_is_refused
	fi
	"$MXG" ban 198.18.1.2 --pin-dir "$PIN" >/dev/null
	[ "$(conn 198.18.1.2 25)" = 0 ] && [ "$(conn 198.18.2.2)" = 1 ] &&
		pass mxguard_first_mxguard_keeps_working ||
		fail mxguard_first_mxguard_keeps_working "$(status)"
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=
	[ "$(conn 198.18.1.2 25)" = 0 ] && pass mxguard_first_protection_survives_kill_9 ||
		fail mxguard_first_protection_survives_kill_9
	start_daemon || fail mxguard_first_restart "$(tail -5 "$LOG")"
	[ "$(n_mxguard)" = 1 ] && [ "$(conn 198.18.1.2 25)" = 0 ] &&
		pass mxguard_first_restart_adopts_without_a_second_copy ||
		fail mxguard_first_restart_adopts_without_a_second_copy "$(status)"
	skip mxguard_first_both_share_the_hook "libxdp's dispatcher cannot run on this kernel"

	# ---- attacker: put a program in front of mxguard ---------------
	# Without a dispatcher nothing can run ahead of mxguard: its bpf_link
	# refuses every other attachment (xdp-loader's, a netlink attach even
	# with overwrite) and a netlink detach.
	pass_prog
	in_ns "$SRV" xdp-loader load -P 1 -A XDP_DROP mx0 "$TMP/pass.o" >/dev/null 2>&1
	l=$?
	bpftool prog load "$TMP/pass.o" "$PIN-pass" type xdp &&
		on_exit "rm -f $PIN-pass"
	in_ns "$SRV" bpftool net attach xdp pinned "$PIN-pass" dev mx0 2>/dev/null
	i=$?
	in_ns "$SRV" bpftool net attach xdp pinned "$PIN-pass" dev mx0 overwrite 2>/dev/null
	f=$?
	in_ns "$SRV" ip link set dev mx0 xdp off 2>/dev/null
	o=$?
	[ $l != 0 ] && [ $i != 0 ] && [ $f != 0 ] && [ $o != 0 ] &&
		[ "$(n_mxguard)" = 1 ] && [ "$(conn 198.18.1.2 25)" = 0 ] &&
		pass attacker_program_cannot_be_put_ahead_of_mxguard_nor_replace_it ||
		fail attacker_program_cannot_be_put_ahead_of_mxguard_nor_replace_it "xdp-loader $l, attach $i, overwrite $f, xdp off $o: $(status)"
	stop_daemon
fi

# ---- mxguard's object loaded by xdp-loader, on mxguard's pinned maps ----
# An operator may load build/mxguard.bpf.o with xdp-loader (-p: the pin
# dir, so it finds the maps by name). libxdp then holds it, in a dispatcher
# or, without one, alone by netlink; a daemon adopts it rather than adding
# a second copy, and detach takes it off.
in_ns "$SRV" "$MXG" detach --pin-dir "$PIN" >/dev/null 2>&1
start_daemon || fail loader_case_daemon_starts "$(tail -5 "$LOG")"
"$MXG" ban 198.18.1.2 --pin-dir "$PIN" >/dev/null
stop_daemon
rm -f "$PIN/link_mx0"	# the daemon's own attachment goes; the maps stay
in_ns "$SRV" xdp-loader load -p "$PIN" mx0 "${BUILD:-build}/mxguard.bpf.o" >/dev/null 2>&1
if [ "$(n_mxguard)" = 1 ] && [ "$(conn 198.18.1.2 25)" = 0 ]; then
	pass xdp_loader_runs_mxguard_on_its_pinned_maps
else
	fail xdp_loader_runs_mxguard_on_its_pinned_maps "$(status)"
fi
start_daemon || fail loader_case_restart "$(tail -5 "$LOG")"
if grep -q "adopted mxguard's program" "$LOG" && [ "$(n_mxguard)" = 1 ] &&
	[ ! -e "$PIN/link_mx0" ] && [ "$(conn 198.18.1.2 25)" = 0 ]; then
	pass daemon_adopts_mxguard_loaded_by_xdp_loader_without_a_second_copy
else
	fail daemon_adopts_mxguard_loaded_by_xdp_loader_without_a_second_copy "$(tail -3 "$LOG"; status)"
fi
in_ns "$SRV" "$MXG" status --pin-dir "$PIN" | grep -q "^attached:  mx0 (native XDP" &&
	pass status_shows_mxguard_attached_by_libxdp ||
	fail status_shows_mxguard_attached_by_libxdp "$(in_ns "$SRV" "$MXG" status --pin-dir "$PIN")"
stop_daemon
out=$(in_ns "$SRV" "$MXG" detach --pin-dir "$PIN" 2>&1)
if [ "$(n_mxguard)" = 0 ] && [ ! -e "$PIN" ]; then
	pass detach_takes_off_mxguard_attached_by_libxdp
else
	fail detach_takes_off_mxguard_attached_by_libxdp "$out $(status)"
fi

summary
