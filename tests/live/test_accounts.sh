#!/bin/bash
# The attacked accounts and the compromise alert, with a real daemon of the
# test's own (a veth in namespaces made here, its own pin dir, state dir
# and log file): scan --accounts and accounts on hostile names, the alert,
# the on_compromise hook (no shell, clean environment, no inherited fds or
# blocked signals, killed past its time, no zombie), ban_on_compromise
# through the normal ban path, the state across a restart, config errors.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

SRV=${TID}s
CLI=${TID}c
PIN=/sys/fs/bpf/$TID
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
chmod 700 "$DIR"
LOG=$DIR/daemon.log
MAIL=$DIR/mail.log
CONF=$DIR/mxguard.conf
STATE=$DIR/state
: >"$LOG"
: >"$MAIL"

netns "$SRV"
netns "$CLI"
veth "$SRV" mx0 "$CLI" cl0
ip -n "$SRV" addr add 198.18.50.1/24 dev mx0
ip -n "$CLI" addr add 198.18.50.2/24 dev cl0

# The hook records what it was given and how it was started, before it
# does anything else (a shell would reset its signal mask itself).
HOOK=$DIR/hook.py
cat >"$HOOK" <<EOF
#!/usr/bin/python3 -S
import os, sys, time
pid = os.getpid()
with open("/proc/self/status") as f:
    sigblk = [l.split()[1] for l in f if l.startswith("SigBlk:")][0]
fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
out = "$DIR/hook.%d" % pid
with open(out + ".env", "w") as f:
    for k, v in os.environ.items():
        f.write("%s=%s\\n" % (k, v))
open(out + ".argc", "w").write("%d\\n" % (len(sys.argv) - 1))
open(out + ".fds", "w").write(" ".join(map(str, fds)) + "\\n")
open(out + ".sigblk", "w").write(sigblk + "\\n")
open(out + ".done", "w").close()
if os.path.exists("$DIR/hook.sleep"):
    time.sleep(300)
EOF
chmod 755 "$HOOK"

cat >"$CONF" <<EOF
[xdp]
ports = 25:50/500 587:50/500

[policy]
maxretry = 100
ignoreip = 198.18.60.0/24

[daemon]
metrics = 127.0.0.1:9599
on_compromise = $HOOK
on_compromise_timeout = 2s
EOF

daemon_pid=
start_daemon() {
	local n
	n=$(grep -c "running:" "$LOG")
	nsenter --net="/run/netns/$SRV" "$MXG" run -c "$CONF" -i mx0 --pin-dir "$PIN" \
		--state-dir "$STATE" --log "$MAIL" "$@" >>"$LOG" 2>&1 &
	daemon_pid=$!
	started() { [ "$(grep -c "running:" "$LOG")" -gt "$n" ]; }
	wait_for 10 started || fail daemon_starts "$(tail -5 "$LOG")"
}
stop_daemon() { kill -TERM "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; }
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"

# fail_line ADDR USER / login_line ADDR USER: what Postfix writes.
n_line=0
fail_line() {
	n_line=$((n_line + 1))
	echo "$(date '+%b %e %H:%M:%S') mx postfix/submission/smtpd[$((1000 + n_line))]: warning: unknown[$1]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=$2" >>"$MAIL"
}
login_line() {
	n_line=$((n_line + 1))
	echo "$(date '+%b %e %H:%M:%S') mx postfix/submission/smtpd[$((1000 + n_line))]: 4Q$n_line: client=unknown[$1], sasl_method=LOGIN, sasl_username=$2" >>"$MAIL"
}
scrape() { in_ns "$SRV" curl -s --max-time 5 http://127.0.0.1:9599/metrics; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }

# --- offline: scan --accounts with hostile names ---------------------------
test_scan_hostile() {
	local f=$DIR/hostile.log out
	{
		echo "Dec  1 10:00:01 mx postfix/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=\$(touch $DIR/pwned)"
		printf 'Dec  1 10:00:02 mx postfix/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=\033[2Jx"y\\z\ttab\n'
		echo "Dec  1 10:00:03 mx postfix/smtpd[1]: warning: unknown[198.18.1.2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=info"
		echo "Dec  1 10:00:04 mx postfix/smtpd[2]: 4Q1: client=unknown[198.18.1.2], sasl_method=LOGIN, sasl_username=info"
	} >"$f"
	out=$("$MXG" scan --accounts "$f" 2>/dev/null)
	if echo "$out" | grep -q 'likely guessed password: 198.18.1.2 logged in to info' &&
	   echo "$out" | grep -q '^info .*COMPROMISED? login from 198.18.1.2'; then
		pass scan_accounts_names_the_guessed_account_and_address
	else
		fail scan_accounts_names_the_guessed_account_and_address "$out"
	fi
	# The parser already turns control bytes of a user name into '?'.
	if ! printf '%s' "$out" | grep -q $'\033' && ! printf '%s' "$out" | grep -q $'\t' &&
	   echo "$out" | grep -qF '?[2Jx"y\x5cz?tab'; then
		pass scan_accounts_text_shows_no_control_byte_of_a_name
	else
		fail scan_accounts_text_shows_no_control_byte_of_a_name "$(printf '%s' "$out" | od -c | head -5)"
	fi
	if "$MXG" scan --accounts --json "$f" 2>/dev/null | python3 -c '
import json, sys
names = set()
for line in sys.stdin:
    o = json.loads(line)
    if "alert" not in o:
        names.add(o["account"])
want = {"$(touch '"$DIR"'/pwned)", "?[2Jx\"y\\z?tab", "info"}
sys.exit(0 if names == want else 1)'; then
		pass scan_accounts_json_keeps_names_exactly
	else
		fail scan_accounts_json_keeps_names_exactly
	fi
	# Raw control bytes, a newline and invalid UTF-8 in a stored name.
	mkdir -p "$DIR/raw"
	chmod 700 "$DIR/raw"
	{
		echo "# mxguard accounts v1"
		echo 'a\x0ab\x1b[31m\x22$(id)\xff 0 7 0 1700000000 1700000000 0 - 0 - - 0000000000000000,0000000000000000,0000000000000000,0000000000000000'
	} >"$DIR/raw/accounts.state"
	out=$("$MXG" accounts -s "$DIR/raw" 2>&1)
	if [ "$(echo "$out" | grep -cF 'a\x0ab\x1b[31m"$(id)\xff ')" = 1 ] &&
	   ! printf '%s' "$out" | grep -q $'\033'; then
		pass accounts_text_escapes_newlines_and_control_bytes
	else
		fail accounts_text_escapes_newlines_and_control_bytes "$out"
	fi
	if "$MXG" accounts -s "$DIR/raw" --since 1d | grep -q "^0 accounts"; then
		pass accounts_since_leaves_out_older_accounts
	else
		fail accounts_since_leaves_out_older_accounts "$("$MXG" accounts -s "$DIR/raw" --since 1d 2>&1)"
	fi
	if "$MXG" accounts -s "$DIR/raw" --json | python3 -c '
import json, sys
lines = sys.stdin.read().splitlines()
o = json.loads(lines[0])
sys.exit(0 if len(lines) == 1 and o["account"] == "a\nb\x1b[31m\"$(id)\ufffd" and o["failures"] == 7 else 1)'; then
		pass accounts_json_escapes_newlines_and_control_bytes
	else
		fail accounts_json_escapes_newlines_and_control_bytes "$("$MXG" accounts -s "$DIR/raw" --json 2>&1)"
	fi
	check account_names_are_never_run_as_shell_words test ! -e "$DIR/pwned"
}

# --- live: the alert, the hook, the metrics ------------------------------
test_live_alert() {
	local t0 t1 h out
	start_daemon
	for u in admin info sales; do fail_line 198.18.1.2 "$u"; done
	fail_line 198.18.1.2 "bob"
	login_line 198.18.9.9 alice	# a legitimate user: no failures before
	sleep 1.5
	t0=$(date +%s.%N)
	login_line 198.18.1.2 sales
	alerted() { grep -q "likely guessed password: 198.18.1.2 logged in to sales" "$LOG"; }
	if wait_for 3 alerted; then
		t1=$(date +%s.%N)
		if python3 -c "import sys; sys.exit(0 if $t1 - $t0 < 1.0 else 1)"; then
			pass alert_names_account_and_address_within_a_second
		else
			fail alert_names_account_and_address_within_a_second "took $(python3 -c "print(round($t1 - $t0, 2))") s"
		fi
	else
		fail alert_names_account_and_address_within_a_second "$(tail -5 "$LOG")"
	fi
	check alert_is_logged_at_warning grep -q "warning.*likely guessed password\|<4>.*likely guessed" "$LOG"
	check legitimate_login_without_failures_raises_nothing \
		bash -c "! grep -q 'logged in to alice' '$LOG'"
	hook_ran() { ls "$DIR"/hook.*.done >/dev/null 2>&1; }
	if wait_for 5 hook_ran; then
		h=$(ls "$DIR"/hook.*.done | head -1)
		h=${h%.done}
		if grep -qx "MXGUARD_ACCOUNT=sales" "$h.env" && grep -qx "MXGUARD_ADDR=198.18.1.2" "$h.env" &&
		   grep -qx "MXGUARD_ACCOUNTS_TRIED=4" "$h.env" && grep -q "^MXGUARD_EVIDENCE=likely guessed" "$h.env"; then
			pass hook_gets_account_address_and_evidence_in_its_environment
		else
			fail hook_gets_account_address_and_evidence_in_its_environment "$(cat "$h.env")"
		fi
		check hook_gets_no_arguments grep -qx 0 "$h.argc"
		check hook_environment_is_clean bash -c "[ \$(grep -vc '^MXGUARD_\|^PATH=\|^LC_CTYPE=' '$h.env') = 0 ]"
		# 0, 1, 2 and the one listdir opens to list them
		if [ "$(cat "$h.fds")" = "0 1 2 3" ]; then
			pass hook_inherits_no_daemon_fds
		else
			fail hook_inherits_no_daemon_fds "$(cat "$h.fds")"
		fi
		if grep -qx "0*" "$h.sigblk"; then
			pass hook_runs_with_no_blocked_signals
		else
			fail hook_runs_with_no_blocked_signals "$(cat "$h.sigblk")"
		fi
	else
		fail hook_gets_account_address_and_evidence_in_its_environment "hook did not run: $(tail -5 "$LOG")"
	fi
	# A guessed account whose name is shell text: the hook gets it as data.
	for _ in 1 2 3; do fail_line 198.18.7.7 "\$(touch $DIR/pwned2)"; done
	login_line 198.18.7.7 "\$(touch $DIR/pwned2)"
	hostile_hook() { grep -qxF "MXGUARD_ACCOUNT=\$(touch\x20$DIR/pwned2)" "$DIR"/hook.*.env; }
	if wait_for 5 hostile_hook && [ ! -e "$DIR/pwned2" ]; then
		pass hook_gets_a_shell_text_name_escaped_and_never_runs_it
	else
		fail hook_gets_a_shell_text_name_escaped_and_never_runs_it "$(grep -h MXGUARD_ACCOUNT= "$DIR"/hook.*.env)"
	fi
	out=$(scrape)
	if echo "$out" | grep -qx "mxguard_compromise_alerts_total 2" &&
	   echo "$out" | grep -qx "mxguard_logins_total 3"; then
		pass alert_is_counted_in_metrics
	else
		fail alert_is_counted_in_metrics "$(echo "$out" | grep -E 'compromise|logins')"
	fi
	saved() { "$MXG" accounts -s "$STATE" 2>/dev/null | grep -q "^sales .*COMPROMISED? login from 198.18.1.2"; }
	if wait_for 5 saved; then
		pass accounts_shows_the_compromised_account
	else
		fail accounts_shows_the_compromised_account "$("$MXG" accounts -s "$STATE" 2>&1)"
	fi
	out=$("$MXG" accounts -s "$STATE" --json 2>/dev/null)
	if echo "$out" | python3 -c '
import json, sys
a = {o["account"]: o for o in map(json.loads, sys.stdin)}
ok = a["sales"]["compromised"] and a["sales"]["compromise_addr"] == "198.18.1.2"
ok = ok and not a["alice"]["compromised"] and a["alice"]["successes"] == 1
ok = ok and a["sales"]["role_exists"] and a["admin"]["role"] and not a["admin"]["role_exists"]
sys.exit(0 if ok else 1)'; then
		pass accounts_json_flags_compromise_and_existing_role_names
	else
		fail accounts_json_flags_compromise_and_existing_role_names "$out"
	fi
	check accounts_number_limits_rows \
		bash -c "[ \$('$MXG' accounts -s '$STATE' --json -n 2 | wc -l) = 2 ]"
}

# --- hook timeout: killed, reaped, no zombie --------------------------------
test_hook_timeout() {
	local zombies
	touch "$DIR/hook.sleep"
	for u in a1 a2 a3; do fail_line 198.18.2.2 "$u"; done
	login_line 198.18.2.2 a2
	killed() { grep -q "on_compromise .* ran past its time: killed" "$LOG"; }
	if wait_for 8 killed; then
		pass hook_past_its_timeout_is_killed
	else
		fail hook_past_its_timeout_is_killed "$(tail -3 "$LOG")"
	fi
	rm -f "$DIR/hook.sleep"
	sleep 1.2
	zombies=$(ps -o stat= --ppid "$daemon_pid" 2>/dev/null | grep -c Z)
	check hook_leaves_no_zombie [ "$zombies" = 0 ]
	check daemon_still_serves_after_a_hook_timeout bash -c "[ -n \"\$(in_ns() { nsenter --net=/run/netns/$SRV \"\$@\"; }; in_ns curl -s --max-time 5 http://127.0.0.1:9599/metrics | grep mxguard_up)\" ]"
}

# --- state across a restart ------------------------------------------------
test_restart() {
	local bad
	stop_daemon
	# A record that cannot be read is named and skipped; the rest come back.
	echo 'broken record $(id)' >>"$STATE/accounts.state"
	bad=$(wc -l <"$STATE/accounts.state")
	start_daemon
	if grep -q "accounts.state:$bad: not an account record: skipped" "$LOG"; then
		pass unreadable_account_record_is_named_and_skipped
	else
		fail unreadable_account_record_is_named_and_skipped "$(grep accounts.state "$LOG" | tail -3)"
	fi
	if "$MXG" accounts -s "$STATE" | grep -q "^sales .*COMPROMISED?"; then
		pass accounts_survive_a_restart
	else
		fail accounts_survive_a_restart "$("$MXG" accounts -s "$STATE" 2>&1)"
	fi
	stop_daemon
}

# --- ban_on_compromise through the normal ban path -------------------------
test_ban_on_compromise() {
	start_daemon -o ban_on_compromise=yes
	for u in x1 x2 x3; do fail_line 198.18.3.3 "$u"; done
	login_line 198.18.3.3 x3
	for u in y1 y2 y3; do fail_line 198.18.60.7 "$u"; done
	login_line 198.18.60.7 y3
	banned() { "$MXG" list --pin-dir "$PIN" | grep -q "198.18.3.3/32"; }
	if wait_for 5 banned; then
		pass ban_on_compromise_bans_the_source_at_once
	else
		fail ban_on_compromise_bans_the_source_at_once "$("$MXG" list --pin-dir "$PIN")"
	fi
	alerted() { grep -q "logged in to y3" "$LOG"; }
	wait_for 5 alerted
	if alerted && ! "$MXG" list --pin-dir "$PIN" | grep -q "198.18.60"; then
		pass ban_on_compromise_never_bans_ignoreip
	else
		fail ban_on_compromise_never_bans_ignoreip "$("$MXG" list --pin-dir "$PIN")"
	fi
	told() { # told ADDR YESNO: a hook for ADDR was told MXGUARD_BANNED=YESNO
		grep -lx "MXGUARD_ADDR=$1" "$DIR"/hook.*.env 2>/dev/null |
			xargs -r grep -qx "MXGUARD_BANNED=$2"
	}
	if wait_for 5 told 198.18.3.3 yes && wait_for 5 told 198.18.60.7 no; then
		pass hook_is_told_whether_the_ban_is_in_force
	else
		fail hook_is_told_whether_the_ban_is_in_force "$(grep -h 'MXGUARD_ADDR\|MXGUARD_BANNED' "$DIR"/hook.*.env)"
	fi
	stop_daemon
}

# --- reload: the compromise keys apply live --------------------------------
test_reload() {
	local n
	start_daemon
	sed -i 's/^maxretry = 100$/maxretry = 100\ncompromise_accounts = 10/' "$CONF"
	n=$(grep -c "reloaded the config" "$LOG")
	"$MXG" reload --pin-dir "$PIN" >/dev/null
	reloaded() { [ "$(grep -c "reloaded the config" "$LOG")" -gt "$n" ]; }
	if wait_for 5 reloaded && grep -q "reload: compromise_accounts: 3 -> 10" "$LOG"; then
		pass reload_applies_compromise_accounts_live
	else
		fail reload_applies_compromise_accounts_live "$(tail -3 "$LOG")"
	fi
	for u in r1 r2 r3; do fail_line 198.18.4.4 "$u"; done
	login_line 198.18.4.4 r3
	for u in q1 q2 q3 q4 q5 q6 q7 q8 q9 q10; do fail_line 198.18.4.5 "$u"; done
	login_line 198.18.4.5 q9
	alerted() { grep -q "logged in to q9" "$LOG"; }
	if wait_for 5 alerted && ! grep -q "logged in to r3" "$LOG"; then
		pass three_accounts_no_longer_make_a_guesser_after_reload
	else
		fail three_accounts_no_longer_make_a_guesser_after_reload "$(grep 'likely guessed' "$LOG" | tail -3)"
	fi
	# A bad value on reload is refused, the running one stays.
	sed -i 's/^compromise_accounts = 10$/compromise_accounts = 1/' "$CONF"
	"$MXG" reload --pin-dir "$PIN" >/dev/null
	refused() { grep -q "reload refused: .*compromise_accounts" "$LOG"; }
	if wait_for 5 refused; then
		pass bad_compromise_key_on_reload_is_refused
	else
		fail bad_compromise_key_on_reload_is_refused "$(tail -3 "$LOG")"
	fi
	sed -i '/^compromise_accounts = 1$/d' "$CONF"
	stop_daemon
}

# --- config errors ----------------------------------------------------------
# config_refused NAME PATTERN: check-config of $c exits 2 saying PATTERN
config_refused() {
	local out rc
	out=$("$MXG" check-config -c "$c" 2>&1); rc=$?
	if [ $rc = 2 ] && echo "$out" | grep -q "$2"; then
		pass "$1"
	else
		fail "$1" "$rc $out"
	fi
}

test_config_errors() {
	local c=$DIR/bad.conf out rc
	printf '[daemon]\non_compromise = hook.sh\n' >"$c"
	config_refused relative_hook_path_is_a_config_error_with_file_line "$c:2: on_compromise: .*absolute path"
	cp "$HOOK" "$DIR/open.py"
	chmod 777 "$DIR/open.py"
	printf '[daemon]\non_compromise = %s\n' "$DIR/open.py" >"$c"
	config_refused world_writable_hook_is_refused "$c:2: on_compromise: .*writable by group or others"
	printf '[policy]\nrole_accounts = admin ro\001ot\n' >"$c"
	config_refused control_byte_in_role_accounts_is_a_config_error "$c:2: role_accounts: "
	printf '[policy]\ncompromise_accounts = 1\n' >"$c"
	config_refused compromise_accounts_below_two_is_a_config_error "$c:2: compromise_accounts: "
	out=$("$MXG" accounts -s "$DIR/nowhere" 2>&1); rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -q "no $DIR/nowhere/accounts.state"; then
		pass accounts_without_state_says_so
	else
		fail accounts_without_state_says_so "$rc $out"
	fi
}

test_scan_hostile
test_live_alert
test_hook_timeout
test_restart
test_ban_on_compromise
test_reload
test_config_errors
summary
