#!/bin/bash
# Real servers, counted exactly: each mail server family that Debian or npm
# ships runs in a namespace of this test's own (tests/lib/servers.sh), real
# clients make real wrong logins from two known addresses (A on several
# accounts, B on one) and a third logs in with the right password; then
# `mxguard scan --json` over the server's own log must count exactly the
# attempts A and B made, for those two addresses, and nothing else, and
# `mxguard scan --accounts` must name the third's login (where the server
# logs the account) and flag no account as guessed.
# A also plays the attacker who writes an address into what the server
# logs (an account name, the HELO): that address must never be reported.
# One PASS line per server and variant. Needs scripts/deps.sh --test
# (scripts/deps-servers.sh).
#
#   SRV_KEEP_LOGS=DIR   keep a copy of each server's log in DIR
#   SRV_ONLY=WORD       run only the servers whose name holds WORD
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
. tests/lib/servers.sh

if [ ! -x "$MXG" ]; then
	fail mxguard_is_built "$MXG not found (make)"
	summary
	exit 1
fi
srv_setup || {
	fail servers_namespace "cannot make the namespace"
	summary
	exit 1
}

# The address client A writes into account names and its HELO.
PLANT=198.18.99.9

# want NAME: the server NAME is to run (SRV_ONLY).
want() { [[ "$1" == *"${SRV_ONLY:-}"* ]]; }

# --- Dovecot: IMAP and POP3, each passdb driver, auth_verbose yes and no ------

# The logins of one Dovecot run. A tries 6 wrong passwords: three accounts
# in one IMAP connection, an unknown account named $PLANT and alice again
# over POP3, and one more over IMAP; B tries bob 3 times, each a connection of its own.
# C logs in as alice over IMAP and over POP3.
DOVECOT_A=6
DOVECOT_B=3
DOVECOT_TRUTH="198.18.11.2 (A) made 6 failed logins: IMAP alice, bob, carol in one
connection, POP3 $PLANT (no such account) and alice in one connection,
IMAP carol; 198.18.12.2 (B) made 3: bob over POP3, then IMAP, IMAP, one a
connection; 198.18.13.2 (C) logged in as alice over IMAP and over POP3
(successes); nothing else connected"
dovecot_logins() {
	local name=$1 a b c pa
	srv_mailclient imap 143 $SRV_A "alice:Guess-1,bob:Guess-2,carol:Guess-3" \
		>"$SRV_DIR/a1" &
	pa=$!
	srv_mailclient pop3 110 $SRV_B "bob:Guess-b1" >"$SRV_DIR/b1" &
	wait $pa $!
	srv_mailclient pop3 110 $SRV_A "$PLANT:Guess-4,alice:Guess-5" >"$SRV_DIR/a2" &
	pa=$!
	srv_mailclient imap 143 $SRV_B "bob:Guess-b2" "bob:Guess-b3" >"$SRV_DIR/b2" &
	wait $pa $!
	srv_mailclient imap 143 $SRV_A "carol:Guess-6" >"$SRV_DIR/a3"
	c=$(srv_mailclient imap 143 $SRV_C "alice:$SRV_PASS")
	c=$c$(srv_mailclient pop3 110 $SRV_C "alice:$SRV_PASS")
	a=$(($(cat "$SRV_DIR/a1") + $(cat "$SRV_DIR/a2") + $(cat "$SRV_DIR/a3")))
	b=$(($(cat "$SRV_DIR/b1") + $(cat "$SRV_DIR/b2")))
	srv_clients_ok "$name" $DOVECOT_A "$a" || return 1
	srv_clients_ok "$name" $DOVECOT_B "$b" || return 1
	[ "$c" = 00 ] || {
		fail "$name" "the legitimate user could not log in"
		return 1
	}
}

# dovecot_run DRIVER VERBOSE PASSDB: one Dovecot run, checked.
dovecot_run() {
	local name=dovecot_${1}_verbose_$2 daemon=no
	srv_dir "$name"
	SRV_TRUTH="Dovecot 2.3.19.1, passdb $1, auth_verbose = $2; $DOVECOT_TRUTH"
	"dovecot_users_$1"
	if ! srv_dovecot_start "$2" "$3"; then
		fail "$name" "Dovecot did not start: $(tail -3 "$SRV_DIR/dovecot.log")"
		srv_dovecot_stop
		return
	fi
	# The runs that tell each attempt twice, or log the passwords, are
	# also followed by the daemon.
	if [ "$1$2" = passwdfileyes ] || [ "$2" = passwords ]; then
		srv_daemon_start --log "$SRV_DIR/dovecot.log" -o maxretry=$DOVECOT_A \
			-o findtime=1h && daemon=yes ||
			fail "${name}_daemon" "mxguard run did not start: $(tail -3 "$SRV_DIR/mxguard.log")"
	fi
	if dovecot_logins "$name"; then
		srv_expect "$name" "$SRV_DIR/dovecot.log" $DOVECOT_A $DOVECOT_B
		srv_replay_expect "$name" "$SRV_DIR/dovecot.log" $DOVECOT_A $DOVECOT_B
		if [ $daemon = yes ] && srv_daemon_expect "$name" &&
			[ "$2" = passwords ]; then
			dovecot_evidence "$name"
		fi
	fi
	[ $daemon = yes ] && srv_daemon_stop
	srv_dovecot_stop
}

# dovecot_evidence NAME: with auth_verbose_passwords = plain Dovecot logs
# each wrong password beside the failure: the evidence behind A's ban
# holds A's lines but none of them.
dovecot_evidence() {
	local name=${1}_evidence_keeps_no_password ev=$SRV_DIR/evidence.txt
	_srv_ev() {
		"$MXG" evidence --state-dir "$SRV_DIR/state" $SRV_A >"$ev" 2>&1 &&
			grep -q "$SRV_A" "$ev"
	}
	if ! wait_for 10 _srv_ev; then
		fail "$name" "no evidence for $SRV_A: $(head -3 "$ev")"
	elif ! grep -q 'Guess-1' "$SRV_DIR/dovecot.log"; then
		fail "$name" "Dovecot logged no password: nothing checked"
	elif grep -q 'Guess-' "$ev"; then
		fail "$name" "the evidence holds a password: $(grep -m1 'Guess-' "$ev")"
	else
		pass "$name"
	fi
	[ -n "${SRV_KEEP_LOGS:-}" ] && cp "$ev" "$SRV_KEEP_LOGS/$1-evidence.txt"
}

dovecot_users_passwdfile() {
	srv_userlist | while read -r u p; do
		echo "$u:{PLAIN}$p::::::"
	done >"$SRV_DIR/users"
	chmod 644 "$SRV_DIR/users"
}
dovecot_users_static() { :; }
# SQLite through Dovecot's sql driver (dovecot-sqlite).
dovecot_users_sql() {
	srv_userlist | python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE users (username TEXT PRIMARY KEY, password TEXT)")
for line in sys.stdin:
    u, p = line.split()
    db.execute("INSERT INTO users VALUES (?, ?)", (u, "{PLAIN}" + p))
db.commit()' "$SRV_DIR/users.sqlite"
	cat >"$SRV_DIR/sql.conf" <<-EOF
	driver = sqlite
	connect = $SRV_DIR/users.sqlite
	password_query = SELECT username AS user, password FROM users WHERE username = '%u'
	EOF
}
# PAM: a service of the test's own, pam_userdb over a Berkeley DB of the
# accounts (no system user is made, no PAM delay).
DOVECOT_PAM=mxguard-test-$TID
dovecot_users_pam() {
	srv_userlist | tr ' ' '\n' | db_load -T -t hash "$SRV_DIR/pamusers.db"
	printf 'auth required pam_userdb.so db=%s crypt=none\naccount required pam_permit.so\n' \
		"$SRV_DIR/pamusers" >"/etc/pam.d/$DOVECOT_PAM"
	on_exit "rm -f /etc/pam.d/$DOVECOT_PAM"
}

if want dovecot; then
	for v in yes no; do
		dovecot_run passwdfile $v "  driver = passwd-file
  args = scheme=PLAIN @D@/users"
		dovecot_run static $v "  driver = static
  args = password=$SRV_PASS"
		dovecot_run sql $v "  driver = sql
  args = @D@/sql.conf"
		dovecot_run pam $v "  driver = pam
  args = $DOVECOT_PAM"
	done
	# auth_verbose_passwords = plain: the wrong passwords in the log.
	dovecot_run passwdfile passwords "  driver = passwd-file
  args = scheme=PLAIN @D@/users"
fi

# --- SMTP servers: the same logins for each -----------------------------------

# smtp_logins NAME PORT [SWAKS-ARGS]...: A makes $SMTP_A wrong AUTHs over
# LOGIN, cycling through alice, bob, carol and [$PLANT] (no such account),
# with the HELO [$PLANT],
# while B makes $SMTP_B over PLAIN as bob, one connection each; then C
# authenticates as alice. Fails NAME unless the server refused exactly
# those and accepted C. With SMTP_SEND=yes C also sends a message.
SMTP_A=5
SMTP_B=3
SMTP_TRUTH="198.18.11.2 (A) made 5 failed AUTH LOGIN as alice, bob, carol,
[$PLANT] (no such account), alice, one connection each, all with
EHLO [$PLANT]; 198.18.12.2 (B) made
3 failed AUTH PLAIN as bob, one connection each, at the same time as A;
then 198.18.13.2 (C) authenticated as alice with the right password
(a success); nothing else connected"
smtp_logins() {
	local name=$1 port=$2 a b c pa
	shift 2
	SRV_HELO="[$PLANT]" srv_smtp_attack $SRV_A "$port" $SMTP_A \
		"alice bob carol [$PLANT]" --auth LOGIN "$@" >"$SRV_DIR/a" &
	pa=$!
	srv_smtp_attack $SRV_B "$port" $SMTP_B "bob" --auth PLAIN "$@" >"$SRV_DIR/b" &
	wait $pa $!
	a=$(cat "$SRV_DIR/a") b=$(cat "$SRV_DIR/b")
	c=$(SRV_SEND=${SMTP_SEND:-no} srv_swaks $SRV_C "$port" alice "$SRV_PASS" \
		--auth LOGIN "$@")
	srv_clients_ok "$name" $SMTP_A "$a" || return 1
	srv_clients_ok "$name" $SMTP_B "$b" || return 1
	[ "$c" = ok ] || {
		fail "$name" "the legitimate user could not authenticate ($c)"
		return 1
	}
}

# --- Exim 4.96, unpacked ------------------------------------------------------

if want exim; then
	srv_dir exim
	SRV_TRUTH="Exim 4.96 (exim4-daemon-light), plaintext PLAIN/LOGIN authenticators on
587, mail queued, not delivered; $SMTP_TRUTH; C also sent a message"
	if ! srv_exim_start; then
		fail exim "Exim did not start: $(tail -3 "$SRV_DIR/start.log")"
	elif ! srv_daemon_start --log "exim:$SRV_DIR/log/mainlog" \
		-o maxretry=$SMTP_A -o findtime=1h; then
		fail exim_daemon "mxguard run did not start: $(tail -3 "$SRV_DIR/mxguard.log")"
	elif SMTP_SEND=yes smtp_logins exim 587; then
		srv_expect exim "exim:$SRV_DIR/log/mainlog" $SMTP_A $SMTP_B
		srv_replay_expect exim "exim:$SRV_DIR/log/mainlog" $SMTP_A $SMTP_B
		srv_daemon_expect exim
	fi
	srv_daemon_stop
	srv_exim_stop
fi

# --- nginx's mail proxy in front of Dovecot -------------------------------------

# The same logins as for Dovecot, through nginx; mxguard reads nginx's
# error log (Dovecot behind it sees only nginx's address).
if want nginx; then
	srv_dir nginx
	SRV_TRUTH="nginx 1.22.1 mail proxy (libnginx-mod-mail), error_log at info, an
auth_http service of the test's own, Dovecot behind it; $DOVECOT_TRUTH"
	dovecot_users_passwdfile
	if ! srv_dovecot_start no "  driver = passwd-file
  args = scheme=PLAIN @D@/users" 1143 1110; then
		fail nginx "Dovecot behind nginx did not start: $(tail -3 "$SRV_DIR/dovecot.log")"
	elif ! srv_nginx_start; then
		fail nginx "nginx did not start: $(tail -3 "$SRV_DIR/error.log" "$SRV_DIR/start.log")"
	elif ! srv_daemon_start --log "nginx:$SRV_DIR/error.log" \
		-o maxretry=$DOVECOT_A -o findtime=1h; then
		fail nginx_daemon "mxguard run did not start: $(tail -3 "$SRV_DIR/mxguard.log")"
	elif dovecot_logins nginx; then
		srv_expect nginx "nginx:$SRV_DIR/error.log" $DOVECOT_A $DOVECOT_B
		srv_replay_expect nginx "nginx:$SRV_DIR/error.log" $DOVECOT_A $DOVECOT_B
		srv_daemon_expect nginx
	fi
	srv_daemon_stop
	srv_nginx_stop
	srv_dovecot_stop
fi

# --- Haraka 3.3.4 from npm ----------------------------------------------------

# haraka_evidence: the evidence behind A's ban holds A's lines but none of
# the passwords A tried, which Haraka logs at info as AUTH LOGIN's base64
# parameters (params="...").
haraka_evidence() {
	local name=haraka_evidence_keeps_no_password ev f pw secrets=0
	ev=$SRV_DIR/evidence.txt
	_srv_ev() {
		"$MXG" evidence --state-dir "$SRV_DIR/state" $SRV_A >"$ev" 2>&1 &&
			grep -q "$SRV_A" "$ev"
	}
	if ! wait_for 10 _srv_ev; then
		fail $name "no evidence for $SRV_A: $(head -3 "$ev")"
		return
	fi
	[ -n "${SRV_KEEP_LOGS:-}" ] && cp "$ev" "$SRV_KEEP_LOGS/haraka-evidence.txt"
	# Every base64 word in a params="..." that decodes to a wrong password
	# (a LOGIN step alone, or PLAIN's authzid NUL user NUL password).
	for f in $(sed -nE 's/.*params="(PLAIN )?([A-Za-z0-9+\/=]+)".*/\2/p' \
		"$SRV_DIR/haraka.log" | sort -u); do
		pw=$(echo "$f" | base64 -d 2>/dev/null | tr '\0' '\n' | grep '^Wrong-') ||
			continue
		secrets=$((secrets + 1))
		if grep -qF -e "$f" -e "$pw" "$ev"; then
			fail $name "the evidence holds the password $pw: $(grep -F -e "$f" -e "$pw" "$ev" | head -1)"
			return
		fi
	done
	# Haraka logs some of them (not every step, in this version): at least
	# one must be there, or nothing was checked.
	if [ $secrets = 0 ]; then
		fail $name "Haraka logged none of the passwords: nothing checked"
		return
	fi
	pass $name
}

# Haraka offers AUTH only after STARTTLS (auth/flat_file), and makes each
# failed AUTH wait a second or more.
if want haraka; then
	srv_dir haraka
	SRV_TRUTH="Haraka 3.3.4 (npm), tls + auth/flat_file on 587, log.ini level=info, its
stdout; clients use STARTTLS; $SMTP_TRUTH"
	if ! srv_haraka_start; then
		fail haraka "Haraka did not start: $(tail -3 "$SRV_DIR/haraka.log")"
	elif ! srv_daemon_start --log "haraka:$SRV_DIR/haraka.log" \
		-o maxretry=$SMTP_A -o findtime=1h; then
		fail haraka_daemon "mxguard run did not start: $(tail -3 "$SRV_DIR/mxguard.log")"
	elif smtp_logins haraka 587 --tls; then
		# Haraka 3.x names no account on a successful login.
		SRV_LOGIN= srv_expect haraka "haraka:$SRV_DIR/haraka.log" $SMTP_A $SMTP_B
		srv_replay_expect haraka "haraka:$SRV_DIR/haraka.log" $SMTP_A $SMTP_B
		srv_daemon_expect haraka && haraka_evidence
	fi
	srv_daemon_stop
	srv_haraka_stop
fi

# sendmail_logged: the legitimate user's AUTH, the last thing the clients
# did, has reached the syslog file.
sendmail_logged() { grep -q 'AUTH=server, .*authid=alice' "$SRV_DIR/maillog"; }

# sendmail_session_logins: at Sendmail's default LogLevel 9, A makes its
# wrong AUTHs as an attacker keeping one connection does: 4 in one (from
# the third on Sendmail logs "possible SMTP attack: command=AUTH, count=3"
# and sleeps 1, 2, ... s before each answer), then one more alone; B and C
# as for every SMTP server.
SENDMAIL_SESSION_TRUTH="198.18.11.2 (A) made 4 failed AUTH PLAIN in one
connection (alice, bob, carol, [$PLANT] - no such account), then 1 more
(AUTH LOGIN as alice, EHLO [$PLANT]) alone; 198.18.12.2 (B) made 3 failed
AUTH PLAIN as bob, one connection each, at the same time; then 198.18.13.2
(C) authenticated as alice (a success); nothing else connected"
sendmail_session_logins() {
	local a1 a2 b c pa
	srv_mailclient smtp 587 $SRV_A \
		"alice:w1,bob:w2,carol:w3,[$PLANT]:w4" >"$SRV_DIR/a1" &
	pa=$!
	srv_smtp_attack $SRV_B 587 $SMTP_B "bob" --auth PLAIN >"$SRV_DIR/b" &
	wait $pa $!
	a2=$(SRV_HELO="[$PLANT]" srv_smtp_attack $SRV_A 587 1 alice --auth LOGIN)
	a1=$(cat "$SRV_DIR/a1") b=$(cat "$SRV_DIR/b")
	c=$(srv_swaks $SRV_C 587 alice "$SRV_PASS" --auth LOGIN)
	srv_clients_ok "$1" 5 $((a1 + a2)) || return 1
	srv_clients_ok "$1" $SMTP_B "$b" || return 1
	[ "$c" = ok ] || {
		fail "$1" "the legitimate user could not authenticate ($c)"
		return 1
	}
}

# sendmail_run NAME LOGLEVEL LOGINS A_WANT TRUTH: one Sendmail run, checked.
sendmail_run() {
	local name=$1
	srv_dir "$name"
	SRV_TRUTH="Sendmail 8.17.1.9 (sendmail-bin) with Cyrus SASL 2.1.28 sasldb,
LogLevel $2, MSA on 587, through rsyslogd 8.2302 (traditional file format),
tag sm-mta; $5"
	if ! srv_sendmail_start "$2"; then
		fail "$name" "Sendmail did not start: $(tail -3 "$SRV_DIR/start.log" "$SRV_DIR/maillog")"
	elif ! srv_daemon_start --log "$SRV_DIR/maillog" -o maxretry="$4" \
		-o findtime=1h; then
		fail "${name}_daemon" "mxguard run did not start: $(tail -3 "$SRV_DIR/mxguard.log")"
	elif $3 "$name" 587; then
		wait_for 10 sendmail_logged
		srv_expect "$name" "$SRV_DIR/maillog" "$4" $SMTP_B
		srv_replay_expect "$name" "$SRV_DIR/maillog" "$4" $SMTP_B
		srv_daemon_expect "$name"
	fi
	srv_daemon_stop
	srv_sendmail_stop
}

# --- Sendmail 8.17 with Cyrus SASL, unpacked, through a private rsyslogd -------

# Sendmail 8.17.1.9 logs AUTH failures from LogLevel 9, its default, up
# (at 8 only the "possible SMTP attack" line).
if want sendmail; then
	sendmail_run sendmail 10 smtp_logins $SMTP_A "$SMTP_TRUTH"
	sendmail_run sendmail_loglevel_9_one_connection 9 sendmail_session_logins 5 \
		"$SENDMAIL_SESSION_TRUTH"
fi

# --- Postfix with Dovecot SASL (the end-to-end suite's set-up) -----------------

# The e2e's private Postfix and Dovecot (tests/e2e/mx.sh), with Dovecot's
# auth_verbose on: each failed AUTH is then logged by Postfix in its
# maillog and by Dovecot's passdb in dovecot.log. Read alone or together,
# the two logs must give each attempt once. A is 198.18.1.2, B 198.18.1.3
# (the e2e's attackers), the legitimate sender 198.18.2.2 mails bob.
postfix_fail() { # postfix_fail SRC USER N: N wrong AUTH LOGINs
	local i got=0
	for ((i = 0; i < $3; i++)); do
		mx_swaks "$NS_ATK" "$1" 587 --auth LOGIN --auth-user "$2" \
			--auth-password "Wrong-$i" --quit-after AUTH --timeout 10 \
			--helo "${4:-client.test}" || true
		grep -q '^<[~*-]* *535 ' "$MX_SWAKS_OUT" && got=$((got + 1))
	done
	echo $got
}
if want postfix; then
	. tests/e2e/mx.sh
	missing=$(mx_missing)
	srv_dir postfix
	SRV_TRUTH="Postfix 3.7 (submission 587) with Dovecot 2.3 SASL, auth_verbose = yes;
198.18.1.2 (A) made 5 failed AUTH LOGIN: alice, bob, [$PLANT] (no such
account), alice, bob, one connection each, EHLO [$PLANT]; 198.18.1.3 (B)
made 3 as bob at the same time; 198.18.2.2 authenticated as alice and
sent one message (a success)"
	if [ -n "$missing" ]; then
		skip postfix "missing $missing (scripts/deps-e2e.sh does not install Postfix where another MTA is installed)"
	elif ! { mx_dirs && mx_net && mx_postfix_prepare &&
		echo "auth_verbose = yes" >>"$MX_D/dovecot/dovecot.conf" &&
		mx_dovecot_start && mx_postfix_start; }; then
		fail postfix "Postfix or Dovecot did not start: $(tail -3 "$MX_D/log/postfix-start.log" "$MX_DLOG" 2>/dev/null)"
	elif ! srv_daemon_start --log "$MX_LOG" --log "$MX_DLOG" -o maxretry=5 \
		-o findtime=1h; then
		fail postfix_daemon "mxguard run did not start: $(tail -3 "$SRV_DIR/mxguard.log")"
	else
		{
			postfix_fail $ATK1 alice 1 "[$PLANT]"
			postfix_fail $ATK1 bob 1 "[$PLANT]"
			postfix_fail $ATK1 "[$PLANT]" 1 "[$PLANT]"
			postfix_fail $ATK1 alice 1 "[$PLANT]"
			postfix_fail $ATK1 bob 1 "[$PLANT]"
		} >"$SRV_DIR/a" &
		pa=$!
		postfix_fail $ATK2 bob 3 >"$SRV_DIR/b" &
		wait $pa $!
		a=$(($(paste -sd+ "$SRV_DIR/a"))) b=$(cat "$SRV_DIR/b")
		if ! srv_clients_ok postfix 5 "$a" || ! srv_clients_ok postfix 3 "$b"; then
			:
		elif ! mx_send $OK4 1; then
			fail postfix "the legitimate sender could not mail: $(tail -3 "$MX_SWAKS_OUT")"
		else
			# Dovecot's auth service logs no success: Postfix does.
			SRV_LOGIN="$MX_USER $OK4" SRV_A=$ATK1 SRV_B=$ATK2 \
				srv_expect postfix "$MX_LOG" 5 3
			SRV_LOGIN= SRV_A=$ATK1 SRV_B=$ATK2 \
				srv_expect postfix_dovecot_log "$MX_DLOG" 5 3
			SRV_LOGIN="$MX_USER $OK4" SRV_A=$ATK1 SRV_B=$ATK2 \
				srv_expect postfix_and_dovecot_logs \
				"$MX_LOG $MX_DLOG" 5 3
			SRV_A=$ATK1 SRV_B=$ATK2 srv_replay_expect postfix_and_dovecot_logs \
				"$MX_LOG $MX_DLOG" 5 3
			SRV_A=$ATK1 SRV_B=$ATK2 srv_daemon_expect postfix_and_dovecot_logs
		fi
		srv_daemon_stop
	fi
fi

summary
