#!/bin/bash
# Live tests of `mxguard probe` against tests/probe/smtpd_fake.py, a small
# SMTP server with STARTTLS and implicit TLS, scripted per port, and a
# self-signed certificate made here. As root everything runs in a network
# namespace of its own, where the real ports 25/587/465 are free too;
# otherwise on 127.0.0.1 high ports.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh

skip_all() {
	echo "SKIP $(basename "$0"): $1"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
"$MXG" probe -h >/dev/null 2>&1 || skip_all "$MXG has no probe command"
command -v openssl >/dev/null || skip_all "openssl not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"

DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
LOG=$DIR/smtpd.log
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mx.test -days 1 \
	-addext "subjectAltName=DNS:mx.test,IP:127.0.0.1,IP:::1" \
	-keyout "$DIR/key.pem" -out "$DIR/cert.pem" >/dev/null 2>&1 ||
	skip_all "openssl cannot make a test certificate"

RUN=()
BASE=$((20000 + ($$ % 400) * 100))
if [ "$(id -u)" = 0 ] && command -v nsenter >/dev/null; then
	NS=${TID}p
	netns "$NS"
	RUN=(nsenter --net="/run/netns/$NS")
	BASE=20000
fi
P_MX=$((BASE + 25))		# MX: AUTH before and after STARTTLS
P_MXNOAUTH=$((BASE + 26))	# MX done right: STARTTLS, no AUTH
P_LEGACY=$((BASE + 27))		# MX: AUTH after STARTTLS, lower case + AUTH= form
P_CLEAR=$((BASE + 28))		# no STARTTLS at all, AUTH PLAIN
P_SILENT=$((BASE + 29))		# accepts, never says a word
P_REFUSED=$((BASE + 30))	# nothing listens
P_NOTLS=$((BASE + 31))		# offers STARTTLS, then refuses it (454)
P_SUB=$((BASE + 87))		# submission done right, multi-line banner
P_TLS=$((BASE + 65))		# implicit TLS

specs=("$P_MX:starttls,pre=PLAIN+LOGIN,post=PLAIN+LOGIN"
	"$P_MXNOAUTH:starttls"
	"$P_LEGACY:starttls,post=PLAIN+LOGIN,legacy"
	"$P_CLEAR:pre=PLAIN"
	"$P_SILENT:silent"
	"$P_NOTLS:starttls,refuse-tls"
	"$P_SUB:starttls,post=PLAIN+LOGIN,multiline"
	"$P_TLS:tls,post=PLAIN+LOGIN")
[ ${#RUN[@]} -gt 0 ] &&
	specs+=("25:starttls" "587:starttls,post=PLAIN+LOGIN" "465:tls,post=PLAIN+LOGIN")

V6=
"${RUN[@]}" python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	2>/dev/null && V6=--v6

# Started directly (not through a function) so that $! is the server's pid;
# it also exits by itself after --for seconds.
"${RUN[@]}" python3 tests/probe/smtpd_fake.py --cert "$DIR/cert.pem" --key "$DIR/key.pem" \
	--for 120 --log "$LOG" --ready "$DIR/ready" $V6 "${specs[@]}" 2>"$DIR/smtpd.err" &
on_exit "kill $!"
if ! wait_for 10 test -e "$DIR/ready"; then
	fail fake_server_starts "$(tail -3 "$DIR/smtpd.err")"
	summary
	exit
fi

# probe ARGS...: run mxguard probe (in the namespace); bounded.
probe() { "${RUN[@]}" timeout 60 "$MXG" probe "$@"; }

# --- the table and verdict lines -------------------------------------------

out=$(probe 127.0.0.1 "$P_MX/mx" "$P_SUB" "$P_TLS/smtps" --timeout 5 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'

if echo "$out" | grep -qF "$P_MX: AUTH PLAIN LOGIN offered before STARTTLS — passwords in cleartext" &&
   echo "$out" | grep -qE "^$P_MX +mx +connected +starttls TLSv1\.[23] \S+ +PLAIN LOGIN +PLAIN LOGIN$"; then
	pass auth_before_starttls_is_flagged_as_cleartext
else
	fail auth_before_starttls_is_flagged_as_cleartext
fi
check auth_on_the_mx_port_is_flagged_as_brute_force_target \
	grep -qF "$P_MX: AUTH offered on the MX port — brute-force target; consider offering AUTH only on 587/465" <<<"$out"
if echo "$out" | grep -qF "$P_SUB: AUTH PLAIN LOGIN offered only after STARTTLS — ok" &&
   echo "$out" | grep -qE "^$P_SUB +submission +connected +starttls TLSv1\.[23] \S+ +no +PLAIN LOGIN$"; then
	pass submission_with_auth_only_after_starttls_is_ok
else
	fail submission_with_auth_only_after_starttls_is_ok
fi
if echo "$out" | grep -qE "^$P_TLS +smtps +connected +implicit TLSv1\.[23] \S+ +- +PLAIN LOGIN$" &&
   echo "$out" | grep -qF "$P_TLS: AUTH PLAIN LOGIN offered over implicit TLS — ok"; then
	pass implicit_tls_port_is_probed_over_tls
else
	fail implicit_tls_port_is_probed_over_tls
fi
check certificate_subject_and_expiry_are_shown \
	grep -qE "^ +$P_TLS +certificate: CN=mx.test, issuer CN=mx.test, expires 20[0-9-]+T[0-9:]+Z; does not verify: self-signed certificate$" <<<"$out"
check probe_that_connects_exits_0 test "$rc" = 0

# --- JSON, one object per port ---------------------------------------------

probe 127.0.0.1 "$P_MX/mx" "$P_MXNOAUTH/mx" "$P_LEGACY/mx" "$P_CLEAR" "$P_REFUSED" \
	"$P_NOTLS" "$P_SUB" "$P_TLS/smtps" --json --timeout 3 >"$DIR/probe.json" 2>"$DIR/probe.err"
rc=$?
check json_probe_with_a_refused_port_still_exits_0 test "$rc" = 0

# jcheck NAME PYTHON-EXPR: the expression, over `p` (port -> object), is true.
jcheck() {
	local name=$1 expr=$2
	if python3 - "$DIR/probe.json" "$expr" <<'EOF'
import json, sys
p = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    p[o["port"]] = o
ok = eval(sys.argv[2], {"p": p, "texts": lambda o: [f["text"] for f in o["findings"]]})
sys.exit(0 if ok else 1)
EOF
	then pass "$name"; else fail "$name" "$expr"; fi
}
jcheck json_lines_parse_one_per_port "len(p) == 8"
jcheck json_mx_port_mechanisms_before_and_after_tls \
	"p[$P_MX]['auth_before_tls'] == ['PLAIN', 'LOGIN'] and p[$P_MX]['auth_after_tls'] == ['PLAIN', 'LOGIN'] and p[$P_MX]['verdict'] == 'bad' and p[$P_MX]['starttls_offered'] is True"
jcheck json_mx_without_auth_is_ok \
	"p[$P_MXNOAUTH]['auth_before_tls'] == [] and p[$P_MXNOAUTH]['auth_after_tls'] == [] and 'no AUTH offered — ok' in texts(p[$P_MXNOAUTH]) and p[$P_MXNOAUTH]['verdict'] in ('ok', 'note')"
jcheck json_legacy_lowercase_auth_is_read_and_mx_warned \
	"p[$P_LEGACY]['auth_before_tls'] == [] and p[$P_LEGACY]['auth_after_tls'] == ['PLAIN', 'LOGIN'] and p[$P_LEGACY]['verdict'] == 'warn'"
jcheck json_no_starttls_is_cleartext \
	"p[$P_CLEAR]['tls'] == 'none' and p[$P_CLEAR]['starttls_offered'] is False and p[$P_CLEAR]['auth_before_tls'] == ['PLAIN'] and p[$P_CLEAR]['auth_after_tls'] is None and p[$P_CLEAR]['verdict'] == 'bad'"
jcheck json_refused_port_is_reported \
	"p[$P_REFUSED]['state'] == 'refused' and p[$P_REFUSED]['findings'][0]['text'] == 'connection refused'"
jcheck json_refused_starttls_is_reported \
	"p[$P_NOTLS]['error'].startswith('STARTTLS refused: 454') and p[$P_NOTLS]['tls_ok'] is False and p[$P_NOTLS]['verdict'] == 'warn'"
jcheck json_implicit_tls_fields \
	"p[$P_TLS]['tls'] == 'implicit' and p[$P_TLS]['tls_ok'] and p[$P_TLS]['tls_version'].startswith('TLSv1.') and p[$P_TLS]['cipher'] and p[$P_TLS]['auth_before_tls'] is None and p[$P_TLS]['auth_after_tls'] == ['PLAIN', 'LOGIN'] and p[$P_TLS]['cert']['subject'] == 'CN=mx.test' and p[$P_TLS]['cert']['verified'] is False"
jcheck json_multiline_banner_keeps_its_first_line \
	"p[$P_SUB]['banner_code'] == 220 and p[$P_SUB]['banner'] == 'mx.test ESMTP fake'"

# --- what goes over the wire ------------------------------------------------

if grep -q " AUTH" "$LOG"; then
	fail probe_never_sends_auth "$(grep " AUTH" "$LOG" | head -3)"
else
	pass probe_never_sends_auth
fi
quits=1
for p in "$P_MX" "$P_MXNOAUTH" "$P_LEGACY" "$P_CLEAR" "$P_NOTLS" "$P_SUB" "$P_TLS"; do
	[ "$(grep "^$p " "$LOG" | tail -n 1)" = "$p QUIT" ] || quits=0
done
check every_session_ends_with_quit test "$quits" = 1
check ehlo_after_starttls_is_sent_again \
	test "$(grep -c "^$P_SUB EHLO" "$LOG")" -ge 2
check ehlo_name_is_a_domain grep -qE "^$P_SUB EHLO [A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$" "$LOG"

# --- certificates -----------------------------------------------------------

SSL_CERT_FILE=$DIR/cert.pem probe 127.0.0.1 "$P_SUB" --json >"$DIR/ca.json" 2>/dev/null
if python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); sys.exit(not (o["cert"]["verified"] and o["verdict"] == "ok"))' "$DIR/ca.json"; then
	pass certificate_verifies_against_a_trusted_ca
else
	fail certificate_verifies_against_a_trusted_ca "$(cat "$DIR/ca.json")"
fi

# --- timeouts, addresses, options -------------------------------------------

start=$SECONDS
out=$(probe 127.0.0.1 "$P_SILENT" --timeout 1 2>&1)
rc=$?
if [ $((SECONDS - start)) -le 5 ] && [ "$rc" = 0 ] &&
   echo "$out" | grep -qF "$P_SILENT: probe incomplete: timeout waiting for the banner (1s)"; then
	pass silent_server_times_out_within_the_step_limit
else
	fail silent_server_times_out_within_the_step_limit "rc=$rc, $((SECONDS - start))s"
fi

if [ -n "$V6" ]; then
	out=$(probe '[::1]' "$P_SUB" --json 2>&1)
	if echo "$out" | grep -q '"addr":"::1","state":"connected"' &&
	   echo "$out" | grep -q '"auth_after_tls":\["PLAIN","LOGIN"\]'; then
		pass ipv6_literal_in_brackets
	else
		fail ipv6_literal_in_brackets "$out"
	fi
else
	skip ipv6_literal_in_brackets "no IPv6 loopback here"
fi

n=$(probe 127.0.0.1 "$P_SUB" "$P_TLS/smtps" --starttls-only --json 2>/dev/null | grep -c '"port":')
check starttls_only_skips_implicit_tls_ports test "$n" = 1

if [ ${#RUN[@]} -gt 0 ]; then
	probe 127.0.0.1 --json --timeout 3 >"$DIR/default.json" 2>/dev/null
	jcheck_default() {
		python3 - "$DIR/default.json" <<'EOF'
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
ok = [(x["port"], x["role"], x["state"], x["tls"]) for x in o] == [
    (25, "mx", "connected", "starttls"),
    (587, "submission", "connected", "starttls"),
    (465, "smtps", "connected", "implicit")]
sys.exit(0 if ok else 1)
EOF
	}
	check default_ports_are_25_587_465_with_465_implicit_tls jcheck_default
else
	skip default_ports_are_25_587_465_with_465_implicit_tls "needs root for a namespace"
fi

# --- exit statuses ------------------------------------------------------------

probe 127.0.0.1 "$P_REFUSED" >/dev/null 2>"$DIR/err"
rc=$?
if [ "$rc" = 1 ] && grep -q "could not connect to any port of 127.0.0.1" "$DIR/err"; then
	pass no_port_connected_exits_1
else
	fail no_port_connected_exits_1 "rc=$rc $(cat "$DIR/err")"
fi
# usage_exit NAME PATTERN ARGS...: exit 2 and PATTERN on stderr.
usage_exit() {
	local name=$1 pat=$2 rc
	shift 2
	"$MXG" probe "$@" >/dev/null 2>"$DIR/err"
	rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$pat" "$DIR/err"; then
		pass "$name"
	else
		fail "$name" "rc=$rc $(cat "$DIR/err")"
	fi
}
usage_exit bad_port_exits_2_and_names_it '99999: not a port' 127.0.0.1 99999
usage_exit unknown_option_exits_2_and_names_it '"--frobnicate"' 127.0.0.1 --frobnicate
usage_exit missing_host_exits_2 'expected a HOST'
usage_exit bad_timeout_exits_2 '--timeout soon' 127.0.0.1 --timeout soon

# --- a real Postfix and Dovecot submission (optional) --------------------------
# The e2e suite's private mail server (tests/e2e/mx.sh): Postfix on 25 and
# 587 with SASL through Dovecot and no TLS, Dovecot submission on 465 in
# cleartext. Probed from the legitimate sender's namespace.
real_mx() {
	MX_NS=${TID}r
	. tests/e2e/mx.sh
	local missing
	missing=$(mx_missing)
	if [ -n "$missing" ]; then
		skip real_postfix "missing $missing (scripts/deps-e2e.sh installs them)"
		return
	fi
	if ! mx_setup; then
		fail real_postfix_starts "$(tail -n 5 "$MX_D"/log/* 2>/dev/null)"
		return
	fi
	in_ns "$NS_OK" timeout 60 "$MXG" probe "$MX4" 25 587 465/submission --json \
		--timeout 5 >"$DIR/probe.json" 2>"$DIR/probe.err"
	check real_postfix_probe_exits_0 test $? = 0
	jcheck real_postfix_mx_port_auth_in_cleartext_is_flagged \
		"p[25]['banner'].startswith('mx.test ESMTP') and p[25]['starttls_offered'] is False and p[25]['auth_before_tls'] == ['PLAIN', 'LOGIN'] and p[25]['verdict'] == 'bad' and 'AUTH offered on the MX port — brute-force target; consider offering AUTH only on 587/465' in texts(p[25])"
	jcheck real_postfix_submission_auth_in_cleartext_is_flagged \
		"p[587]['auth_before_tls'] == ['PLAIN', 'LOGIN'] and 'AUTH PLAIN LOGIN offered without TLS (no STARTTLS) — passwords in cleartext' in texts(p[587])"
	jcheck real_dovecot_submission_is_probed \
		"p[465]['state'] == 'connected' and p[465]['banner_code'] == 220 and p[465]['auth_before_tls'] == ['PLAIN', 'LOGIN']"
	# Postfix's own account of each session: EHLO and QUIT, no AUTH.
	local sessions
	sessions=$(grep -c "disconnect from [^ ]*\[$OK4\] ehlo=1 quit=1 commands=2$" "$MX_LOG")
	if [ "$sessions" = 2 ] && ! grep -q "\[$OK4\].*auth=" "$MX_LOG"; then
		pass real_postfix_logs_ehlo_and_quit_only
	else
		fail real_postfix_logs_ehlo_and_quit_only "$(grep "$OK4" "$MX_LOG" | tail -n 4)"
	fi
}
if [ "$(id -u)" = 0 ] && [ -r tests/e2e/mx.sh ] && command -v postfix >/dev/null; then
	real_mx
else
	skip real_postfix "needs root, tests/e2e/mx.sh and postfix (scripts/deps-e2e.sh)"
fi

summary
