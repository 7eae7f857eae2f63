#!/bin/bash
# End to end: a real Postfix (SASL through Dovecot) and Dovecot's own
# submission server in a namespace, attacked with real AUTH attempts over
# veth pairs, mxguard following their logs and dropping at the NIC.
# See tests/e2e/mx.sh for the topology. Needs scripts/deps-e2e.sh.
#
#   phase 1: one daemon (maxretry 3, range_hosts 2, port 25 limited to 1/s
#            burst 4): IPv4 and IPv6 brute force and range bans, a flood,
#            SIGKILL and restart, Dovecot submission.
#   phase 2: a fresh daemon with a 5 s bantime: the ban expires.
#   throughout: a legitimate sender authenticates and mails; every message
#            must arrive.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
. tests/e2e/mx.sh

T0=$SECONDS
mx_begin
if mx_send $OK4 0; then
	pass legitimate_mail_accepted_before_mxguard
else
	fail legitimate_mail_accepted_before_mxguard "$(tail -5 "$MX_SWAKS_OUT")"
fi

# The legitimate sender, for the whole test.
SENT=$MX_D/log/sender.out
STOP=$MX_D/sender.stop
mx_sender_start "$SENT" "$STOP"

POLICY=(-o maxretry=3 -o findtime=10m -o bantime=1h -o bantime_max=1d
	-o range_hosts=2 -o range_v4=24 -o range_v6=64
	-o "ports=25:1/4 465:5/50 587:5/50")

# attack SRC PORT N: N failed AUTHs from SRC; prints how many the server
# answered (535). A ban can land while the last session is still open: XDP
# then drops its QUIT too, so swaks' timeout is kept short.
attack() {
	local i got=0
	for i in $(seq "$3"); do
		mx_auth_fail "$1" "$2" 2 && got=$((got + 1))
	done
	echo $got
}

# attack_until CIDR SRC PORT MAX: failed AUTHs from SRC, one at a time, until
# CIDR is banned (the policy may ban a range before this host's own
# maxretry); at most MAX. Prints the attempts the server answered; returns 0
# when CIDR got banned.
attack_until() {
	local i got=0
	for i in $(seq "$4"); do
		mx_auth_fail "$2" "$3" 2 && got=$((got + 1))
		if wait_for 1 mx_banned "$1"; then
			echo $got
			return 0
		fi
	done
	wait_for 4 mx_banned "$1"
	local rc=$?
	echo $got
	return $rc
}

# blocked SRC PORT: a real AUTH attempt from SRC gets no answer (the SYN is
# dropped, swaks times out) and the server logs nothing from SRC.
blocked() {
	local seen0 rc
	seen0=$(mx_seen "$1")
	mx_auth_fail "$1" "$2" 2
	rc=$?
	sleep 0.5
	[ $rc != 0 ] && [ "$(mx_seen "$1")" = "$seen0" ] &&
		grep -qi "timed* *out\|timeout" "$MX_SWAKS_OUT"
}

# --- phase 1 ----------------------------------------------------------------------
if mx_daemon_start "${POLICY[@]}"; then
	pass daemon_runs_following_postfix_and_dovecot_logs
	daemon_ok=1
else
	fail daemon_runs_following_postfix_and_dovecot_logs "$(tail -n 4 "$MX_DAEMON_LOG" | grep -v "^---" | tr '\n' ' ')"
	daemon_ok=
fi

# hostile CLIENT TEXT...: one SMTP session from CLIENT per text, each sent
# as a non-SMTP command (Postfix echoes it in its warning line) and as the
# HELO name and envelope of a refused relay attempt (helo=<>, from=<>, to=<>
# in Postfix's reject line). No AUTH is ever tried.
hostile() {
	local src=$1
	shift
	in_ns "$NS_ATK" python3 - "$src" "$MX4" "$@" <<'EOF'
import socket, sys
src, dst, texts = sys.argv[1], sys.argv[2], sys.argv[3:]
def session(lines):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect((dst, 587))
    f = s.makefile('rb')
    f.readline()
    for l in lines:
        s.sendall(l.encode() + b'\r\n')
        try:
            while True:
                r = f.readline()
                if not r or r[3:4] != b'-':
                    break
        except OSError:
            break
    s.close()
for t in texts:
    session(['GET ' + t])
    session(['EHLO ' + t.replace(' ', '_'), 'MAIL FROM:<' + t.replace(' ', '_') + '@example.org>',
             'RCPT TO:<' + t.replace(' ', '_') + '@example.net>', 'QUIT'])
EOF
}

if [ -n "$daemon_ok" ]; then
	# Client text in Postfix's own lines bans nobody: planted failures of
	# every family, naming 192.0.2.x, from a client that never tries AUTH.
	hostile $ATK3 \
		"(auth failed, 999 attempts) rip=192.0.2.1 x" \
		"imap-login: Disconnected (auth failed, 9 attempts in 2 secs): user=<a>, method=PLAIN, rip=192.0.2.2, lip=1.1.1.1" \
		"warning: unknown[192.0.2.3]: SASL LOGIN authentication failed: x" \
		"plain authenticator failed for (x) [192.0.2.4]: 535 Incorrect authentication data" \
		"AUTH failure (LOGIN): x, user=a, relay=[192.0.2.5]" \
		"auth: passwd-file(a,192.0.2.6): unknown user" \
		"x [192.0.2.7]: possible SMTP attack: command=AUTH, count=99" 2>/dev/null
	sleep 2
	planted=$(mx_list | grep -o '"cidr":"192\.0\.2\.[0-9/]*"')
	echoed=$(grep -c "non-SMTP command from [^ ]*\[$ATK3\]" "$MX_LOG")
	if [ -z "$planted" ] && [ "$echoed" -ge 7 ] && ! mx_banned $ATK3/32; then
		pass client_text_in_postfix_lines_bans_nobody
	else
		fail client_text_in_postfix_lines_bans_nobody "planted: $planted; echoed lines: $echoed; list: $(mx_list)"
	fi

	# IPv4 brute force on submission.
	got=$(attack $ATK1 587 2)
	sleep 1
	if [ "$got" = 2 ] && ! mx_banned $ATK1/32; then
		pass below_maxretry_no_ban
	else
		fail below_maxretry_no_ban "answered $got of 2; list: $(mx_list)"
	fi
	got=$(attack $ATK1 587 1)
	if [ "$got" = 1 ] && wait_for 5 mx_banned $ATK1/32; then
		pass attacker_denylisted_after_maxretry_failures
	else
		fail attacker_denylisted_after_maxretry_failures \
			"answered $got; postfix logged $(mx_auth_failures $ATK1) failures; list: $(mx_list)"
	fi

	d0=$(mx_stat denied)
	f0=$(mx_auth_failures $ATK1)
	if blocked $ATK1 587; then
		pass banned_attacker_times_out_and_postfix_sees_nothing
	else
		fail banned_attacker_times_out_and_postfix_sees_nothing "$(tail -3 "$MX_SWAKS_OUT")"
	fi
	d1=$(mx_stat denied)
	[ "$d1" -gt "$d0" ] && pass xdp_denied_counter_moves ||
		fail xdp_denied_counter_moves "denied $d0 -> $d1"
	[ "$(mx_conn "$NS_ATK" $ATK1 25 1 0 1)" = 0 ] &&
		pass banned_attacker_blocked_on_port_25_too ||
		fail banned_attacker_blocked_on_port_25_too
	[ "$(mx_auth_failures $ATK1)" = "$f0" ] && pass no_further_attempt_in_maillog ||
		fail no_further_attempt_in_maillog "$f0 -> $(mx_auth_failures $ATK1)"

	# A second address of the same /24: the range goes.
	if got=$(attack_until 198.18.1.0/24 $ATK2 587 3); then
		pass second_attacker_in_24_bans_the_range
	else
		fail second_attacker_in_24_bans_the_range "answered $got; list: $(mx_list)"
	fi
	if [ "$(mx_conn "$NS_ATK" $ATK3 587 1 0 1)" = 0 ] &&
		[ "$(mx_conn "$NS_OK" $OK4 587 1 0 1)" = 1 ]; then
		pass range_ban_blocks_a_silent_neighbour_not_others
	else
		fail range_ban_blocks_a_silent_neighbour_not_others
	fi

	# The same over IPv6, aggregated to the /64.
	got=$(attack $ATK6_1 587 3)
	if [ "$got" = 3 ] && wait_for 5 mx_banned $ATK6_1/128; then
		pass ipv6_attacker_denylisted
	else
		fail ipv6_attacker_denylisted "answered $got; list: $(mx_list)"
	fi
	blocked $ATK6_1 587 && pass ipv6_banned_attacker_times_out ||
		fail ipv6_banned_attacker_times_out "$(tail -3 "$MX_SWAKS_OUT")"
	if got=$(attack_until 2001:db8:1::/64 $ATK6_2 587 3); then
		pass ipv6_second_attacker_bans_the_64
	else
		fail ipv6_second_attacker_bans_the_64 "answered $got; list: $(mx_list)"
	fi
	if [ "$(mx_conn "$NS_ATK" $ATK6_3 587 1 0 1)" = 0 ] &&
		[ "$(mx_conn "$NS_OK" $OK6 587 1 0 1)" = 1 ]; then
		pass ipv6_range_ban_blocks_neighbour_not_others
	else
		fail ipv6_range_ban_blocks_neighbour_not_others
	fi

	# Connection rate on port 25 (1/s, burst 4): a fast client is refused
	# past the burst (a refused SYN costs it 0.2 s, so about one in five
	# later ones finds a new token), a slow one is not.
	rl0=$(mx_stat rate_limited)
	fast=$(mx_conn "$NS_ATK" $FLOOD 25 16 0 0.2)
	slow=$(mx_conn "$NS_OK" $OK4 25 6 1 1)
	rl1=$(mx_stat rate_limited)
	if [ "$fast" -ge 4 ] && [ "$fast" -le 10 ] && [ "$slow" = 6 ] && [ "$rl1" -gt "$rl0" ]; then
		pass flood_refused_past_burst_slow_client_unaffected
	else
		fail flood_refused_past_burst_slow_client_unaffected \
			"fast $fast of 16 (want 4..10), slow $slow of 6, rate_limited $rl0 -> $rl1"
	fi

	# SIGKILL: the bans stay in force without the daemon.
	before=$(mx_list | sort)
	t_kill=$(date +%s)
	mx_daemon_kill KILL
	if blocked $ATK1 587 && [ "$(mx_conn "$NS_ATK" $ATK3 587 1 0 1)" = 0 ] &&
		[ "$(mx_conn "$NS_ATK" $ATK6_3 587 1 0 1)" = 0 ]; then
		pass attackers_stay_blocked_after_daemon_sigkill
	else
		fail attackers_stay_blocked_after_daemon_sigkill
	fi
	sleep 1
	if mx_daemon_start "${POLICY[@]}"; then
		elapsed=$(($(date +%s) - t_kill))
		after=$(mx_list | sort)
		cidrs() { sed -nE 's/.*"cidr":"([^"]*)".*/\1/p'; }
		dups=$(echo "$after" | cidrs | uniq -d)
		# Each ban counts down from where it was: E seconds later its
		# expires_in_s is E less (2 s of rounding and start-up either way),
		# not a fresh bantime.
		bad=
		for c in $(echo "$before" | cidrs); do
			e0=$(echo "$before" | grep "\"cidr\":\"$c\"" | sed -nE 's/.*"expires_in_s":([0-9]+).*/\1/p')
			e1=$(echo "$after" | grep "\"cidr\":\"$c\"" | sed -nE 's/.*"expires_in_s":([0-9]+).*/\1/p')
			if [ -z "$e1" ] || [ "$e1" -gt $((e0 - elapsed + 2)) ] || [ "$e1" -lt $((e0 - elapsed - 2)) ]; then
				bad="$bad $c:$e0->${e1:-gone}"
			fi
		done
		nb=$(echo "$before" | grep -c cidr)
		na=$(echo "$after" | grep -c cidr)
		if [ "$nb" -ge 2 ] && [ -z "$dups" ] && [ "$nb" = "$na" ] && [ -z "$bad" ]; then
			pass restart_adopts_bans_with_their_expiry_no_duplicates
		else
			fail restart_adopts_bans_with_their_expiry_no_duplicates \
				"${elapsed}s later:$bad; duplicates '$dups'; $nb -> $na entries"
		fi
		blocked $ATK2 587 && pass ban_enforced_after_restart ||
			fail ban_enforced_after_restart
	else
		fail restart_adopts_bans_with_their_expiry_no_duplicates "daemon did not restart: $(tail -n 4 "$MX_DAEMON_LOG" | grep -v "^---" | tr '\n' ' ')"
	fi

	# A second MTA: Dovecot's submission server, brute-forced after the
	# restart (so the restarted daemon follows the logs again).
	got=$(attack $SUBM 465 3)
	if [ "$got" = 3 ] && wait_for 5 mx_banned $SUBM/32; then
		pass dovecot_submission_attacker_denylisted
	else
		fail dovecot_submission_attacker_denylisted \
			"answered $got; dovecot logged $(grep -c "auth failed.*rip=$SUBM," "$MX_DLOG"); list: $(mx_list)"
	fi
	[ "$(mx_conn "$NS_ATK" $SUBM 465 1 0 1)" = 0 ] &&
		pass dovecot_submission_attacker_blocked ||
		fail dovecot_submission_attacker_blocked

	mx_daemon_kill TERM
fi

# --- phase 2: expiry ------------------------------------------------------------------
nsenter --net="/run/netns/$NS_MX" "$MXG" detach --pin-dir "$MX_PIN" >/dev/null 2>&1
if mx_daemon_start -o maxretry=3 -o bantime=5s -o bantime_max=5s; then
	got=$(attack $EXPA 587 3)
	if [ "$got" = 3 ] && wait_for 5 mx_banned $EXPA/32; then
		exp=$(mx_ban_field $EXPA/32 expires_in_s)
		during=$(mx_conn "$NS_ATK" $EXPA 587 1 0 0.5)
		t=$SECONDS
		back() { [ "$(mx_conn "$NS_ATK" $EXPA 587 1 0 0.5)" = 1 ]; }
		if [ "$during" = 0 ] && [ "${exp:-9}" -le 5 ] && wait_for 10 back &&
			mx_auth_fail $EXPA 587 5; then
			pass ban_expires_and_the_client_connects_again
		else
			fail ban_expires_and_the_client_connects_again \
				"expires_in_s $exp, connected during ban $during, after $((SECONDS - t))s: $(tail -2 "$MX_SWAKS_OUT")"
		fi
	else
		fail ban_expires_and_the_client_connects_again "not banned: answered $got; list: $(mx_list)"
	fi
	mx_daemon_kill TERM
else
	fail ban_expires_and_the_client_connects_again "daemon did not start: $(tail -n 4 "$MX_DAEMON_LOG" | grep -v "^---" | tr '\n' ' ')"
fi

# --- the legitimate sender, throughout -----------------------------------------------
mx_sender_stop
ok=$(grep -c '^ok ' "$SENT")
bad=$(grep -c '^fail ' "$SENT")
want=$((ok + 1)) # and the one sent before mxguard
# It ran all along: 50+ messages in a full run, a few when phase 1 could
# not run.
min=1
[ -n "$daemon_ok" ] && min=20
if [ "$ok" -ge "$min" ] && [ "$bad" = 0 ]; then
	pass legitimate_sender_never_refused
else
	fail legitimate_sender_never_refused "$ok sent, $bad failed: $(grep '^fail' "$SENT" | head -3 | tr '\n' ' ')"
fi
got_all() { [ "$(mx_delivered)" -ge "$want" ]; }
if wait_for 20 got_all && [ "$(mx_delivered)" = "$want" ]; then
	pass every_legitimate_message_delivered
else
	fail every_legitimate_message_delivered "$(mx_delivered) in the Maildir, $want sent"
fi
echo "legitimate messages: $ok sent by the sender (+1 before), $(mx_delivered) delivered; $((SECONDS - T0)) s"

[ "$T_FAIL" != 0 ] && mx_dump
summary
