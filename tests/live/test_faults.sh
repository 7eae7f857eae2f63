#!/bin/bash
# The daemon under faults: idle metrics clients, an overflowing event ring,
# SIGKILL in the middle of work, a full disk, a full denylist, and a SYN
# flood that churns the rate map while a real client keeps connecting.
#
# Each test builds its own pair of namespaces, pin dir and state dir:
#   srv (mxguard on mx0, 198.18.0.1)  <-- veth -->  cli (198.18.0.2)
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

CONNECT="python3 tests/lib/tcpconnect.py"
FLOOD="python3 tests/lib/synflood.py"
N_ENV=0

# env_up: fresh namespaces, veth, pin dir, state dir and log; sets SRV CLI
# PIN STATE LOG DMAC. Everything is removed when the script exits.
env_up() {
	N_ENV=$((N_ENV + 1))
	SRV=${TID}s$N_ENV
	CLI=${TID}c$N_ENV
	PIN=/sys/fs/bpf/${TID}_$N_ENV
	STATE=$(mktemp -d)
	LOG=$(mktemp)
	on_exit "rm -rf $STATE $LOG"
	netns "$SRV"
	netns "$CLI"
	veth "$SRV" mx0 "$CLI" cl0
	ip -n "$SRV" addr add 198.18.0.1/24 dev mx0
	ip -n "$CLI" addr add 198.18.0.2/24 dev cl0
	DMAC=$(ip -n "$SRV" -o link show mx0 | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
	daemon_pid=
	on_exit "$MXG detach --pin-dir $PIN; rm -rf $PIN"
}

# daemon_up [ARGS]: start mxguard in $SRV and wait until it runs.
daemon_up() {
	local n
	n=$(grep -c "running:" "$LOG")
	nsenter --net="/run/netns/$SRV" "$MXG" run -i mx0 --pin-dir "$PIN" \
		--state-dir "$STATE" "$@" >>"$LOG" 2>&1 &
	daemon_pid=$!
	on_exit "kill -9 $daemon_pid"
	started() { [ "$(grep -c "running:" "$LOG")" -gt "$n" ]; }
	wait_for 10 started || { echo "daemon did not start: $(tail -5 "$LOG")"; return 1; }
}

daemon_stop() {
	kill "$daemon_pid" 2>/dev/null
	wait_for 10 eval '! kill -0 '"$daemon_pid" || kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
}

attached() { mxg_attached "$SRV" mx0; }
deny_count() { "$MXG" list --json --pin-dir "$PIN" | grep -c '"cidr"'; }
stat_of() { "$MXG" stats --json --pin-dir "$PIN" | sed -E "s/.*\"$1\":([0-9]+).*/\1/"; }

# --- metrics: idle clients must not lock a scrape out ----------------------
test_metrics_idle() {
	local holder out
	env_up
	daemon_up -o metrics=127.0.0.1:9587 || { fail scrape_succeeds_with_32_idle_connections_open "no daemon"; return; }
	# 32 connections that never send a byte, held for up to 30 s.
	nsenter --net="/run/netns/$SRV" python3 -c '
import socket, time
s = []
for i in range(32):
    c = socket.socket(); c.settimeout(2); c.connect(("127.0.0.1", 9587)); s.append(c)
print("open", flush=True)
time.sleep(30)' >"$STATE/idle.out" 2>&1 &
	holder=$!
	on_exit "kill $holder"
	wait_for 10 grep -q open "$STATE/idle.out"
	out=$(in_ns "$SRV" curl -s --max-time 15 http://127.0.0.1:9587/metrics)
	if echo "$out" | grep -q '^mxguard_up 1'; then
		pass scrape_succeeds_with_32_idle_connections_open
	else
		fail scrape_succeeds_with_32_idle_connections_open "$(cat "$STATE/idle.out"; echo "$out" | head -3)"
	fi
	kill "$holder" 2>/dev/null
	daemon_stop
}

# --- ring overflow: rate bans must not be lost ------------------------------
# 8000 /24s each go over a 1/s limit on port 25 in five rounds 1.5 s apart
# (rate_events 3 bans after three seconds). The daemon is paused (SIGSTOP)
# while each round is sent, as a busy daemon would be: the 256 KiB ring holds
# about 4,700 events, so most of every round's events are lost.
test_ring_overflow() {
	local nets=8000 n sent
	env_up
	daemon_up -o ports="25:1/1" -o metrics=off || { fail ring_overflow_every_flooding_prefix_is_banned "no daemon"; return; }
	sent=$(in_ns "$CLI" $FLOOD cl0 "$DMAC" 198.18.0.1 --nets $nets --per 2 \
		--rounds 5 --gap 1.5 --seconds 60 \
		--hook "kill -STOP $daemon_pid" --after "kill -CONT $daemon_pid")
	kill -CONT "$daemon_pid" 2>/dev/null
	all_banned() { [ "$(deny_count)" -ge $nets ]; }
	wait_for 10 all_banned
	n=$(deny_count)
	if [ "$n" = $nets ] && "$MXG" list --json --pin-dir "$PIN" | grep -q '"reason":"rate"'; then
		pass ring_overflow_every_flooding_prefix_is_banned
	else
		fail ring_overflow_every_flooding_prefix_is_banned "$n of $nets banned, $sent frames sent, events_lost=$(stat_of events_lost)"
	fi
	if [ "$(stat_of events_lost)" -gt 0 ] && grep -q "event ring full" "$LOG"; then
		pass ring_overflow_is_logged_as_a_warning
	else
		fail ring_overflow_is_logged_as_a_warning "events_lost=$(stat_of events_lost); $(tail -3 "$LOG")"
	fi
	daemon_stop
}

# fail_auth ADDR N: N Postfix AUTH failures from ADDR appended to $MAIL.
fail_auth() {
	local i
	for ((i = 0; i < $2; i++)); do
		echo "$(date '+%b %e %T') mx postfix/submission/smtpd[1234]: warning: unknown[$1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice" >>"$MAIL"
	done
}

scrape() { in_ns "$SRV" curl -s --max-time 10 http://127.0.0.1:9587/metrics; }

# --- denylist at capacity ---------------------------------------------------
# There is no config key for the map sizes (they are compile-time limits in
# include/mxguard.h), so deny_v4 is filled to its real capacity of 2^20
# entries with mxguard import, which takes seconds.
test_deny_full() {
	local cap=1048576 imp out refused
	env_up
	MAIL=$STATE/mail.log
	: >"$MAIL"
	daemon_up --log "$MAIL" || { fail full_denylist_refuses_and_counts_further_bans "no daemon"; return; }
	imp=$(mktemp)
	on_exit "rm -f $imp"
	python3 -c "
import sys
w = sys.stdout.write
for i in range($cap):
    w('10.%d.%d.%d 1h\\n' % (i >> 16, (i >> 8) & 255, i & 255))" >"$imp"
	out=$(timeout 120 "$MXG" import --pin-dir "$PIN" "$imp" 2>&1)
	if ! "$MXG" status --pin-dir "$PIN" | grep -q "deny_v4 *$cap of $cap"; then
		fail full_denylist_refuses_and_counts_further_bans "could not fill deny_v4: $out"
		return
	fi
	fail_auth 198.18.9.9 6
	refused() { scrape | grep -q '^mxguard_bans_refused_total 1$'; }
	if wait_for 10 refused && grep -q "denylist is full" "$LOG"; then
		pass full_denylist_refuses_and_counts_further_bans
	else
		fail full_denylist_refuses_and_counts_further_bans "$(scrape | grep refused; tail -3 "$LOG")"
	fi
	if "$MXG" list --json --pin-dir "$PIN" | grep -q '"cidr":"10.0.0.1/32"' &&
	   ! "$MXG" list --json --pin-dir "$PIN" | grep -q '"cidr":"198.18.9.9/32"'; then
		pass full_denylist_keeps_the_old_bans
	else
		fail full_denylist_keeps_the_old_bans
	fi
	# More refusals: counted, the log line is not repeated for each, and
	# the daemon lives on.
	fail_auth 198.18.9.10 6
	fail_auth 198.18.9.11 6
	more() { scrape | grep -q '^mxguard_bans_refused_total 3$'; }
	if wait_for 10 more && kill -0 "$daemon_pid" && [ "$(grep -c "denylist is full" "$LOG")" = 1 ]; then
		pass full_denylist_refusals_are_counted_and_logged_once_a_minute
	else
		fail full_denylist_refusals_are_counted_and_logged_once_a_minute "$(scrape | grep refused; grep -c "denylist is full" "$LOG")"
	fi
	# A refused ban is no ban: the daemon must not later take its absence
	# from the map for an operator's unban (reconciled every 10 s).
	sleep 11
	if ! grep -q "198.18.9.*unbanned by hand" "$LOG"; then
		pass full_denylist_refused_ban_is_not_taken_for_an_unban
	else
		fail full_denylist_refused_ban_is_not_taken_for_an_unban "$(grep "unbanned by hand" "$LOG" | head -2)"
	fi
	daemon_stop
}

# --- disk full ---------------------------------------------------------------
# The state dir is a 64 KiB tmpfs, filled up after the first ban was saved.
test_disk_full() {
	local before
	env_up
	mount -t tmpfs -o size=64k,mode=0700 mxgfull "$STATE" && on_exit "umount $STATE"
	MAIL=$(mktemp)
	on_exit "rm -f $MAIL"
	daemon_up --log "$MAIL" || { fail disk_full_bans_still_land_in_the_map "no daemon"; return; }
	fail_auth 198.18.5.5 6
	saved() { grep -q "^198.18.5.5/32 " "$STATE/bans.state"; }
	if ! wait_for 10 saved; then
		fail disk_full_bans_still_land_in_the_map "the first ban was not saved: $(tail -3 "$LOG")"
		return
	fi
	before=$(mktemp)
	on_exit "rm -f $before"
	cp "$STATE/bans.state" "$before"
	dd if=/dev/zero of="$STATE/fill" bs=4k count=64 2>/dev/null
	fail_auth 198.18.5.6 6
	in_map() { "$MXG" list --json --pin-dir "$PIN" | grep -q '"cidr":"198.18.5.6/32"'; }
	check disk_full_bans_still_land_in_the_map wait_for 10 in_map
	warned() { grep -q "cannot save bans to $STATE/bans.state: No space left on device" "$LOG"; }
	if wait_for 10 warned && kill -0 "$daemon_pid"; then
		pass disk_full_is_logged_as_a_clear_warning
	else
		fail disk_full_is_logged_as_a_clear_warning "$(tail -3 "$LOG")"
	fi
	sleep 4	# more failed saves, none may touch the old file
	if cmp -s "$before" "$STATE/bans.state"; then
		pass disk_full_leaves_the_previous_bans_state_intact
	else
		fail disk_full_leaves_the_previous_bans_state_intact "$(diff "$before" "$STATE/bans.state" | head -5)"
	fi
	rm -f "$STATE/fill"
	saved2() { grep -q "^198.18.5.6/32 " "$STATE/bans.state"; }
	if wait_for 10 saved2 && grep -q "^198.18.5.5/32 " "$STATE/bans.state"; then
		pass disk_full_next_save_succeeds_once_space_returns
	else
		fail disk_full_next_save_succeeds_once_space_returns "$(cat "$STATE/bans.state"; tail -3 "$LOG")"
	fi
	[ "$(grep -c "cannot save bans" "$LOG")" = 1 ] &&
		pass disk_full_warning_is_not_repeated_every_save ||
		fail disk_full_warning_is_not_repeated_every_save "$(grep -c "cannot save bans" "$LOG") warnings"
	daemon_stop
}

# all_in ACKED: every CIDR listed in file ACKED is in the denylist and in
# bans.state; prints what is missing.
all_in() {
	local want inmap infile
	want=$(sort -u "$1")
	inmap=$("$MXG" list --json --pin-dir "$PIN" | sed -E 's/.*"cidr":"([^"]*)".*/\1/' | sort -u)
	infile=$(cut -d' ' -f1 "$STATE/bans.state" 2>/dev/null | sort -u)
	missing=$( (comm -23 <(echo "$want") <(echo "$inmap"); comm -23 <(echo "$want") <(echo "$infile")) | sort -u | grep -c .)
	echo "$missing"
	[ "$missing" = 0 ]
}

# --- SIGKILL in the middle of a ban burst -------------------------------------
# mxguard ban from the CLI and bans from log lines, the daemon killed with
# SIGKILL in the middle: every ban that was acknowledged (exit status 0, or
# "banned" in the daemon's log) is in the map and in bans.state after a
# restart, and the program stays attached throughout.
test_sigkill_bans() {
	local acked i cli now_attached=1 out
	env_up
	MAIL=$STATE/mail.log
	: >"$MAIL"
	acked=$(mktemp)
	on_exit "rm -f $acked"
	daemon_up --log "$MAIL" -o metrics=off || { fail sigkill_during_ban_burst_keeps_every_acknowledged_ban "no daemon"; return; }
	(
		for ((i = 0; i < 300; i++)); do
			c=198.19.$((i / 200)).$((i % 200 + 1))/32
			"$MXG" ban "$c" --for 1h --pin-dir "$PIN" >/dev/null 2>&1 && echo "$c" >>"$acked"
		done
	) &
	cli=$!
	on_exit "kill $cli"
	for ((i = 1; i <= 40; i++)); do
		fail_auth 198.18.$((20 + i / 20)).$((i % 20 + 1)) 5
	done
	half() { [ "$(wc -l <"$acked")" -ge 100 ]; }
	wait_for 20 half
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	attached || now_attached=0
	wait "$cli"
	grep -o "banned [0-9.]*/[0-9]* " "$LOG" | cut -d' ' -f2 >>"$acked"
	attached || now_attached=0
	daemon_up --log "$MAIL" -o metrics=off || { fail sigkill_during_ban_burst_keeps_every_acknowledged_ban "no daemon after the kill"; return; }
	if wait_for 10 all_in "$acked" >/dev/null; then
		pass sigkill_during_ban_burst_keeps_every_acknowledged_ban
	else
		fail sigkill_during_ban_burst_keeps_every_acknowledged_ban "$(all_in "$acked") of $(wc -l <"$acked") missing from the map or bans.state"
	fi
	[ $now_attached = 1 ] && attached &&
		pass sigkill_during_ban_burst_program_stays_attached ||
		fail sigkill_during_ban_burst_program_stays_attached
	daemon_stop
}

# --- SIGKILL in the middle of a SYN flood --------------------------------------
test_sigkill_flood() {
	local acked flood rl0 rl1 ok=1
	env_up
	acked=$(mktemp)
	on_exit "rm -f $acked"
	daemon_up -o ports="25:1/1" -o metrics=off || { fail sigkill_during_syn_flood_keeps_every_acknowledged_ban "no daemon"; return; }
	in_ns "$CLI" $FLOOD cl0 "$DMAC" 198.18.0.1 --nets 1000 --per 2 \
		--rounds 12 --gap 0.5 --seconds 30 >/dev/null &
	flood=$!
	on_exit "kill $flood"
	some() { grep -q "seconds over the SYN rate" "$LOG"; }
	wait_for 15 some
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	grep -o "banned [0-9.]*/[0-9]* " "$LOG" | cut -d' ' -f2 >"$acked"
	attached || ok=0
	# Dropped either way: by the rate limit, or by the rate bans the
	# daemon made before it died.
	drops() { echo $(($(stat_of rate_limited) + $(stat_of denied))); }
	rl0=$(drops)
	# The first flood may be over by now on a slow machine: a second one,
	# sent with the daemon dead, must still meet the program.
	in_ns "$CLI" $FLOOD cl0 "$DMAC" 198.18.0.1 --nets 1000 --per 2 \
		--rounds 2 --gap 0.2 --seconds 10 >/dev/null 2>&1
	rl1=$(drops)
	attached || ok=0
	if [ $ok = 1 ] && [ "$rl1" -gt "$rl0" ]; then
		pass sigkill_during_syn_flood_program_keeps_dropping
	else
		fail sigkill_during_syn_flood_program_keeps_dropping "attached=$ok rate_limited+denied $rl0 -> $rl1"
	fi
	daemon_up -o ports="25:1/1" -o metrics=off || { fail sigkill_during_syn_flood_keeps_every_acknowledged_ban "no daemon after the kill"; return; }
	if [ -s "$acked" ] && wait_for 10 all_in "$acked" >/dev/null; then
		pass sigkill_during_syn_flood_keeps_every_acknowledged_ban
	else
		fail sigkill_during_syn_flood_keeps_every_acknowledged_ban "$(all_in "$acked") of $(wc -l <"$acked") missing"
	fi
	wait "$flood"
	daemon_stop
}

# --- a real client keeps connecting while a random-source flood churns the rate map
# The map sizes are compile-time limits (no config key), so the flood sends
# SYNs from as many random /24s as it can within its bounds (more than the
# 131072 buckets of rate_v4 when the machine is fast enough) while one
# client opens 100 real TCP connections to port 25.
test_churn() {
	local flood srv ok frames fill
	env_up
	nsenter --net="/run/netns/$SRV" python3 tests/lib/tcpserve.py --for 120 25 &
	srv=$!
	on_exit "kill $srv"
	daemon_up -o metrics=off || { fail client_keeps_connecting_while_flood_churns_rate_map "no daemon"; return; }
	up() { [ "$(in_ns "$CLI" $CONNECT --src 198.18.0.2 --timeout 1 198.18.0.1 25)" = 1 ]; }
	wait_for 10 up || { fail client_keeps_connecting_while_flood_churns_rate_map "no listener"; return; }
	in_ns "$CLI" $FLOOD cl0 "$DMAC" 198.18.0.1 --random 400000 --seconds 40 >"$STATE/flood.out" &
	flood=$!
	on_exit "kill $flood"
	sleep 1
	ok=$(in_ns "$CLI" $CONNECT --src 198.18.0.2 --timeout 1 --count 100 --gap 0.05 198.18.0.1 25)
	wait "$flood"
	frames=$(cat "$STATE/flood.out")
	fill=$("$MXG" status --pin-dir "$PIN" | grep rate_v4)
	echo "# flood: $frames SYNs from random /24s; $fill; client: $ok of 100 connected"
	if [ "$ok" -ge 95 ]; then
		pass client_keeps_connecting_while_flood_churns_rate_map
	else
		fail client_keeps_connecting_while_flood_churns_rate_map "$ok of 100 connected"
	fi
	daemon_stop
}

test_metrics_idle
test_ring_overflow
test_deny_full
test_disk_full
test_sigkill_bans
test_sigkill_flood
test_churn
summary
