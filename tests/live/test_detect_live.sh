#!/bin/bash
# From log line to map entry: mxguard run follows a log file of the test's
# own; lines appended to it must show up as entries of the pinned deny maps.
# The daemon runs in a namespace made here, attached to a veth of its own.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

NS=${TID}d
PIN=/sys/fs/bpf/$TID
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
MAIL=$DIR/mail.log
STATE=$DIR/state
LOG=$DIR/daemon.log
: >"$MAIL"
: >"$LOG"

netns "$NS"
ip link add dt0 netns "$NS" type veth peer name dt1 netns "$NS"
ip -n "$NS" link set dt0 up
ip -n "$NS" link set dt1 up

daemon_pid=
start_daemon() {
	local n
	n=$(grep -c "running:" "$LOG")
	nsenter --net="/run/netns/$NS" "$MXG" run -i dt0 --pin-dir "$PIN" \
		--state-dir "$STATE" --log "$MAIL" -o maxretry=5 "$@" >>"$LOG" 2>&1 &
	daemon_pid=$!
	started() { [ "$(grep -c "running:" "$LOG")" -gt "$n" ]; }
	wait_for 10 started || fail daemon_starts "$(tail -5 "$LOG")"
}
stop_daemon() {
	kill -TERM "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
}
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"

# fail ADDR [N] [USER]: append N Postfix SASL failures from ADDR.
fail_lines() {
	local i
	for ((i = 0; i < ${2:-1}; i++)); do
		echo "$(date '+%b %e %T') mx postfix/submission/smtpd[$((1000 + i))]: warning: unknown[$1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=${3:-alice}" >>"$MAIL"
	done
}
in_denylist() { "$MXG" list --json --pin-dir "$PIN" | grep -q "\"cidr\":\"$1\""; }
in_map() { # in_map MAP A B C D PREFIXLEN: the raw map holds this key
	bpftool -j map dump pinned "$PIN/$1" | python3 -c "
import json, sys
want = [int(x) for x in sys.argv[1:5]]
for e in json.load(sys.stdin):
    k = e['formatted']['key']
    if k['addr'] == want and k['prefixlen'] == int(sys.argv[5]):
        sys.exit(0)
sys.exit(1)" "$2" "$3" "$4" "$5" "$6"
}

start_daemon

fail_lines 198.18.20.1 4
sleep 0.5
in_denylist 198.18.20.1/32 && fail four_failures_do_not_ban "banned after 4" ||
	pass four_failures_do_not_ban
fail_lines 198.18.20.1 1
if wait_for 3 in_map deny_v4 198 18 20 1 32; then
	pass appended_line_puts_address_in_deny_v4
else
	fail appended_line_puts_address_in_deny_v4 "$(tail -3 "$LOG")"
fi
reason=$("$MXG" list --json --pin-dir "$PIN" | grep '"198.18.20.1/32"' | sed -E 's/.*"reason":"([a-z]+)".*/\1/')
[ "$reason" = log ] && pass log_ban_reason_is_log || fail log_ban_reason_is_log "reason=$reason"

# Attacker text must never choose the address: the reason and the user
# name carry other addresses, the address field is 198.18.21.5.
for i in 1 2 3 4 5; do
	echo "$(date '+%b %e %T') mx postfix/smtpd[77]: warning: host6-6-6-6.example[198.18.21.5]: SASL PLAIN authentication failed: [6.6.6.6], sasl_username=[198.18.99.9]" >>"$MAIL"
done
if wait_for 3 in_denylist 198.18.21.5/32 && ! in_denylist 6.6.6.6/32 && ! in_denylist 198.18.99.9/32; then
	pass address_comes_from_the_mta_field_not_attacker_text
else
	fail address_comes_from_the_mta_field_not_attacker_text "$("$MXG" list --pin-dir "$PIN")"
fi

# Dovecot "auth failed, 5 attempts" is five failures in one line.
echo "$(date '+%b %e %T') mx dovecot: submission-login: Disconnected (auth failed, 5 attempts in 12 secs): user=<bob>, method=PLAIN, rip=198.18.22.7, lip=198.18.0.1, TLS" >>"$MAIL"
wait_for 3 in_denylist 198.18.22.7/32 && pass dovecot_attempts_count_toward_maxretry ||
	fail dovecot_attempts_count_toward_maxretry

# A banned host and two more hosts of its /24 failing twice: the range goes.
fail_lines 198.18.23.1 5
wait_for 3 in_denylist 198.18.23.1/32
for h in 198.18.23.2 198.18.23.3; do fail_lines $h 2; done
wait_for 3 in_map deny_v4 198 18 23 0 24 && pass three_hosts_of_a_24_ban_the_24 ||
	fail three_hosts_of_a_24_ban_the_24 "$("$MXG" list --pin-dir "$PIN")"

# The range ban leaves the host ban inside it in place (the program looks
# past it when it runs out), and the daemon's periodic check (every 10 s)
# does not take anything for an unban by hand.
# Meanwhile an operator unbans a host the daemon banned: its counts start
# afresh, so new failures ban it again (not ignored as inside a ban).
fail_lines 198.18.34.1 5
wait_for 3 in_denylist 198.18.34.1/32
"$MXG" unban 198.18.34.1 --pin-dir "$PIN" >/dev/null
sleep 0.2
if in_denylist 198.18.23.0/24 && in_denylist 198.18.23.1/32 && sleep 10.5 &&
	! grep -q "198.18.23.[0-9]*/[0-9]* was unbanned by hand" "$LOG"; then
	pass range_ban_keeps_host_bans_and_nothing_is_taken_for_an_unban
else
	fail range_ban_keeps_host_bans_and_nothing_is_taken_for_an_unban "$("$MXG" list --pin-dir "$PIN"; grep "unbanned by hand" "$LOG")"
fi
fail_lines 198.18.34.1 5
if wait_for 3 in_denylist 198.18.34.1/32 && grep -q "198.18.34.1/32 was unbanned by hand" "$LOG"; then
	pass unban_by_hand_is_noticed_and_the_host_can_be_banned_again
else
	fail unban_by_hand_is_noticed_and_the_host_can_be_banned_again "$(tail -3 "$LOG")"
fi

# Postfix with Dovecot SASL and auth_verbose logs each failure twice.
for i in 1 2 3; do
	fail_lines 198.18.29.1 1 dave
	echo "$(date '+%b %e %T') mx dovecot: auth: passwd-file(dave,198.18.29.1): Password mismatch" >>"$MAIL"
done
sleep 0.5
in_denylist 198.18.29.1/32 && fail one_attempt_logged_by_postfix_and_dovecot_counts_once "3 attempts banned" ||
	pass one_attempt_logged_by_postfix_and_dovecot_counts_once

# IPv6 rotation inside one /64.
for i in 1 2 3 4 5; do fail_lines "2001:db8:7:7::$i" 1; done
wait_for 3 in_denylist 2001:db8:7:7::/64 && pass ipv6_rotation_in_a_64_bans_the_64 ||
	fail ipv6_rotation_in_a_64_bans_the_64 "$("$MXG" list --pin-dir "$PIN")"

# Never ban loopback.
fail_lines 127.0.0.1 10
sleep 0.5
in_denylist 127.0.0.1/32 && fail loopback_is_never_banned || pass loopback_is_never_banned

# Evidence saved for the ban, without the password Dovecot logged.
# (Dovecot's sessionless passdb line and Postfix's next failure from the
# same address are one attempt: five Postfix lines make the fifth.)
echo "$(date '+%b %e %T') mx dovecot: auth: passwd-file(carol,198.18.24.4): Password mismatch (given password: hunter2)" >>"$MAIL"
fail_lines 198.18.24.4 5
wait_for 3 in_denylist 198.18.24.4/32
ev="$STATE/evidence/198.18.24.4_32.txt"
if wait_for 3 test -s "$ev" && grep -q "198.18.24.4" "$ev" && ! grep -q hunter2 "$ev"; then
	pass evidence_file_holds_lines_without_passwords
else
	fail evidence_file_holds_lines_without_passwords "$(cat "$ev" 2>&1)"
fi

# Restart mid-file: no line read twice, none skipped.
fail_lines 198.18.25.1 4
sleep 0.3
stop_daemon
start_daemon
sleep 0.5
in_denylist 198.18.25.1/32 && fail restart_reads_no_line_twice "4 lines counted twice" ||
	pass restart_reads_no_line_twice
stop_daemon
fail_lines 198.18.26.1 5
start_daemon
wait_for 3 in_denylist 198.18.26.1/32 && pass lines_written_while_stopped_are_read ||
	fail lines_written_while_stopped_are_read

# Reboot: pins gone, bans come back from the state file with their time.
left_before=$("$MXG" list --json --pin-dir "$PIN" | grep '"198.18.20.1/32"' | sed -E 's/.*"expires_in_s":([0-9]+).*/\1/')
stop_daemon
"$MXG" detach --pin-dir "$PIN" >/dev/null
start_daemon
left_after=$("$MXG" list --json --pin-dir "$PIN" | grep '"198.18.20.1/32"' | sed -E 's/.*"expires_in_s":([0-9]+).*/\1/')
if [ -n "$left_after" ] && [ "$left_after" -le "$left_before" ] && [ "$left_after" -ge $((left_before - 10)) ]; then
	pass bans_survive_reboot_with_their_time_left
else
	fail bans_survive_reboot_with_their_time_left "before $left_before s, after ${left_after:-none}"
fi
grep -q "restored" "$LOG" && pass restore_is_logged || fail restore_is_logged

# A ban that runs out while the machine is down is not restored.
"$MXG" ban 198.18.32.0/24 --for 2s --pin-dir "$PIN" >/dev/null
stop_daemon
"$MXG" detach --pin-dir "$PIN" >/dev/null
sleep 2.2
start_daemon
if ! in_denylist 198.18.32.0/24 && in_denylist 198.18.20.1/32 &&
	grep -q "restored .* (1 had expired" "$LOG"; then
	pass expired_ban_is_not_restored
else
	fail expired_ban_is_not_restored "$(grep restored "$LOG" | tail -1)"
fi

# A custom fail2ban-style pattern from the config bans too.
stop_daemon
start_daemon -o 'pattern=myapp: login failed for (?<user>\S+) from <HOST>$'
for i in 1 2 3 4 5; do
	echo "$(date '+%b %e %T') mx myapp[55]: login failed for zed from 198.18.33.3" >>"$MAIL"
done
wait_for 3 in_denylist 198.18.33.3/32 && pass custom_pattern_from_config_bans ||
	fail custom_pattern_from_config_bans "$(tail -3 "$LOG")"

# Monitor mode: says what it would ban, bans nothing.
stop_daemon
start_daemon --monitor
fail_lines 198.18.27.1 5
sleep 1
if ! in_denylist 198.18.27.1/32 && grep -q "would ban 198.18.27.1/32" "$LOG"; then
	pass monitor_mode_logs_would_ban_and_bans_nothing
else
	fail monitor_mode_logs_would_ban_and_bans_nothing "$(tail -3 "$LOG")"
fi
stop_daemon

# ignoreip is honoured.
start_daemon -o ignoreip=198.18.28.0/24
fail_lines 198.18.28.9 8
sleep 1
in_denylist 198.18.28.9/32 && fail ignoreip_is_never_banned || pass ignoreip_is_never_banned
stop_daemon

# The journal: entries written as a real journal file (systemd-journal-remote
# reads the export format), followed by the daemon with --journal.
JR=$(command -v systemd-journal-remote || ls /lib/systemd/systemd-journal-remote 2>/dev/null)
if [ -n "$JR" ]; then
	mkdir -p "$DIR/journal"
	journal_entry() { # journal_entry IDENT MESSAGE
		local us
		us=$(date +%s%6N)
		printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mx\n_UID=0\nSYSLOG_IDENTIFIER=%s\n_PID=4242\nMESSAGE=%s\n\n' \
			"$us" "$us" "$1" "$2"
	}
	journal_entry postfix/smtpd "connect from unknown[198.18.31.1]" |
		"$JR" -o "$DIR/journal/remote.journal" - 2>/dev/null
	start_daemon --journal -o journal_dir="$DIR/journal"
	for i in 1 2 3 4 5; do
		journal_entry postfix/submission/smtpd "warning: unknown[198.18.31.1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=joe"
	done | "$JR" -o "$DIR/journal/remote.journal" - 2>/dev/null
	# Identifiers that are not mail services are not read as such.
	for i in 1 2 3 4 5; do
		journal_entry sshd "warning: unknown[198.18.31.2]: SASL LOGIN authentication failed: x"
	done | "$JR" -o "$DIR/journal/remote.journal" - 2>/dev/null
	if wait_for 5 in_denylist 198.18.31.1/32; then
		pass journal_entries_ban_through_the_daemon
	else
		fail journal_entries_ban_through_the_daemon "$(tail -5 "$LOG")"
	fi
	in_denylist 198.18.31.2/32 && fail journal_other_identifiers_are_ignored ||
		pass journal_other_identifiers_are_ignored
	stop_daemon
else
	skip journal_entries_ban_through_the_daemon "systemd-journal-remote is not installed (scripts/deps.sh installs it)"
fi

if [ "$T_FAIL" != 0 ]; then
	echo "--- daemon log"
	tail -40 "$LOG"
fi
summary
