#!/bin/bash
# End to end, the compromise alert: a real Postfix (SASL through Dovecot)
# in a namespace (tests/e2e/mx.sh), a guesser that fails AUTH on several
# accounts and then logs in to one with its real password, and a
# legitimate user who logs in without failing. mxguard follows the real
# logs: the alert must name the guessed account and the guesser's address
# within a second of Postfix's line, the on_compromise hook must run, and
# the legitimate login must raise nothing. Needs scripts/deps-e2e.sh.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
. tests/e2e/mx.sh

mx_begin

# The operator's hook: writes down what it was told.
HOOK=$MX_D/on_compromise
cat >"$HOOK" <<EOF
#!/bin/sh
env | grep '^MXGUARD_' >"$MX_D/hook.\$\$.tmp" && mv "$MX_D/hook.\$\$.tmp" "$MX_D/hook.\$\$.env"
EOF
chmod 755 "$HOOK"

# maxretry high enough that the guesser is not banned before it gets in.
if mx_daemon_start -o maxretry=20 -o "on_compromise=$HOOK"; then
	pass daemon_runs_following_postfix_and_dovecot_logs
else
	fail daemon_runs_following_postfix_and_dovecot_logs "$(tail -n 4 "$MX_DAEMON_LOG")"
	summary
	exit 1
fi

# guess SRC USER PASS: one AUTH LOGIN, quitting after it (refused: 535).
guess() {
	mx_swaks "$NS_ATK" "$1" 587 --auth LOGIN --auth-user "$2" \
		--auth-password "$3" --quit-after AUTH --timeout 10
	grep -q '^<[~*-]* *535 ' "$MX_SWAKS_OUT"
}

# The legitimate user first: a login without any failure before it.
if mx_send $OK4 1; then
	pass legitimate_user_logs_in
else
	fail legitimate_user_logs_in "$(tail -5 "$MX_SWAKS_OUT")"
fi

# The guesser tries several accounts, then gets bob's password right.
refused=0
for u in admin info bob sales; do
	guess $ATK1 "$u" "Summer2024!" && refused=$((refused + 1))
done
[ "$refused" = 4 ] && pass guesser_is_refused_four_times ||
	fail guesser_is_refused_four_times "refused $refused of 4"

# Its login, in the background: the test watches both logs meanwhile.
mx_swaks "$NS_ATK" $ATK1 587 --auth LOGIN --auth-user bob \
	--auth-password "Bob-s3cret" --timeout 20 \
	--header "Subject: from the guesser" --body "guessed" &
swaks_pid=$!
on_exit "kill $swaks_pid"
t_login= t_alert=
for _ in $(seq 600); do	# at most 30 s
	now=$(date +%s.%N)
	if [ -z "$t_login" ] && grep -q "client=[^ ]*\[$ATK1\], sasl_method=LOGIN, sasl_username=bob" "$MX_LOG"; then
		t_login=$now
	fi
	if [ -z "$t_alert" ] && grep -q "likely guessed password: $ATK1 logged in to bob" "$MX_DAEMON_LOG"; then
		t_alert=$now
	fi
	[ -n "$t_login" ] && [ -n "$t_alert" ] && break
	sleep 0.05
done
wait "$swaks_pid"
if [ -z "$t_login" ]; then
	fail guesser_login_is_logged_by_postfix "$(tail -5 "$MX_LOG")"
elif [ -z "$t_alert" ]; then
	fail alert_names_account_and_address_within_a_second "no alert: $(tail -5 "$MX_DAEMON_LOG")"
else
	took=$(python3 -c "print('%.2f' % max(0.0, $t_alert - $t_login))")
	if python3 -c "import sys; sys.exit(0 if $t_alert - $t_login < 1.0 else 1)"; then
		pass alert_names_account_and_address_within_a_second
		echo "  the alert came $took s after Postfix's line (polled every 50 ms)"
	else
		fail alert_names_account_and_address_within_a_second "took $took s"
	fi
fi
if grep "likely guessed password: $ATK1 logged in to bob" "$MX_DAEMON_LOG" |
	grep -q "4 accounts tried: admin info bob sales"; then
	pass alert_lists_the_accounts_the_guesser_tried
else
	fail alert_lists_the_accounts_the_guesser_tried "$(grep 'likely guessed' "$MX_DAEMON_LOG")"
fi

hook_ran() { ls "$MX_D"/hook.*.env >/dev/null 2>&1; }
if wait_for 5 hook_ran && grep -qx "MXGUARD_ACCOUNT=bob" "$MX_D"/hook.*.env &&
	grep -qx "MXGUARD_ADDR=$ATK1" "$MX_D"/hook.*.env; then
	pass on_compromise_hook_runs_with_account_and_address
else
	fail on_compromise_hook_runs_with_account_and_address "$(cat "$MX_D"/hook.*.env 2>/dev/null)"
fi

# The legitimate user's login (and more of them now) raised nothing.
mx_send $OK4 2 >/dev/null
sleep 1
if grep -q "sasl_username=$MX_USER" "$MX_LOG" &&
	! grep -q "logged in to $MX_USER " "$MX_DAEMON_LOG" &&
	[ "$(grep -c 'likely guessed password' "$MX_DAEMON_LOG")" = 1 ]; then
	pass legitimate_login_raises_nothing
else
	fail legitimate_login_raises_nothing "$(grep 'likely guessed' "$MX_DAEMON_LOG")"
fi

accounts_show_bob() {
	"$MXG" accounts -s "$MX_D/state" 2>/dev/null | grep -q "^bob .*COMPROMISED? login from $ATK1"
}
if wait_for 12 accounts_show_bob; then
	pass accounts_flags_the_guessed_account
else
	fail accounts_flags_the_guessed_account "$("$MXG" accounts -s "$MX_D/state" 2>&1)"
fi
if "$MXG" scan --accounts "$MX_LOG" 2>/dev/null | grep -q "likely guessed password: $ATK1 logged in to bob"; then
	pass scan_accounts_finds_the_same_in_the_real_log
else
	fail scan_accounts_finds_the_same_in_the_real_log "$("$MXG" scan --accounts "$MX_LOG" 2>&1 | tail -12)"
fi

[ "$T_FAIL" = 0 ] || mx_dump
summary
