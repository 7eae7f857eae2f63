#!/bin/bash
# fail2ban bans through mxguard: the real fail2ban-server (Debian's
# package), its own config dir, socket and pidfile, a jail on a test mail
# log with the stock postfix[mode=auth] filter and
# action = mxguard[...] (scripts/fail2ban/action.d/mxguard.conf).
# The bans land in the pinned denylist of a `mxguard run` on a veth, and
# the banned client's SYNs to port 25 are dropped by XDP.
#
#   srv (mxguard, listener 25, 198.18.9.1)  <-- veth -->  cli (198.18.9.9, .10)
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root

if ! command -v fail2ban-server >/dev/null || ! command -v fail2ban-client >/dev/null; then
	skip fail2ban "fail2ban is not installed (apt-get install fail2ban; scripts/deps.sh installs it)"
	summary
	exit
fi
ensure_bpffs

SRV=${TID}s
CLI=${TID}c
PIN=/sys/fs/bpf/$TID
MXG_ABS=$(realpath "$MXG")
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"
F2B=$TMP/f2b
SOCK=$TMP/f2b.sock
MAILLOG=$TMP/mail.log
DLOG=$TMP/daemon.log
JAIL=mxg-auth
PJAIL=mxg-perm
LJAIL=postfix-sasl-submission	# 23 characters; a note holds 15
CONNECT="python3 tests/lib/tcpconnect.py"
BAD=198.18.9.9
GOOD=198.18.9.10
V6=2001:db8:9::9

netns "$SRV"
netns "$CLI"
veth "$SRV" mx0 "$CLI" cl0
ip -n "$SRV" addr add 198.18.9.1/24 dev mx0
ip -n "$CLI" addr add $BAD/24 dev cl0
ip -n "$CLI" addr add $GOOD/24 dev cl0

nsenter --net="/run/netns/$SRV" python3 tests/lib/tcpserve.py --for 300 25 &
on_exit "kill $!"

# The daemon: its own pin dir and state dir, no config file of the host.
nsenter --net="/run/netns/$SRV" "$MXG" run -c /dev/null -i mx0 --pin-dir "$PIN" \
	--state-dir "$TMP/state" >"$DLOG" 2>&1 &
daemon_pid=$!
on_exit "kill -9 $daemon_pid; wait $daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
daemon_up() { grep -q "running:" "$DLOG"; }
if ! wait_for 10 daemon_up; then
	fail daemon_starts "$(tail -5 "$DLOG")"
	summary
	exit
fi

# A fail2ban config dir of our own: the stock postfix filter, our action.
mkdir -p "$F2B/filter.d" "$F2B/action.d" "$F2B/jail.d"
cp /etc/fail2ban/filter.d/common.conf /etc/fail2ban/filter.d/postfix.conf "$F2B/filter.d/"
cp scripts/fail2ban/action.d/mxguard.conf "$F2B/action.d/"
: >"$MAILLOG"
: >"$TMP/perm.log"
: >"$TMP/long.log"
cat >"$F2B/fail2ban.conf" <<EOF
[Definition]
loglevel = INFO
logtarget = $TMP/fail2ban.log
socket = $SOCK
pidfile = $TMP/f2b.pid
dbfile = :memory:
EOF
cat >"$F2B/jail.conf" <<EOF
[DEFAULT]
backend = polling
usedns = no
ignoreself = false

[$JAIL]
enabled = true
filter = postfix[mode=auth]
logpath = $MAILLOG
maxretry = 3
findtime = 10m
bantime = 1h
action = mxguard[pin_dir="$PIN", mxguard="$MXG_ABS"]

[$PJAIL]
enabled = true
filter = postfix[mode=auth]
logpath = $TMP/perm.log
bantime = -1
action = mxguard[pin_dir="$PIN", mxguard="$MXG_ABS"]

[$LJAIL]
enabled = true
filter = postfix[mode=auth]
logpath = $TMP/long.log
bantime = 1h
action = mxguard[pin_dir="$PIN", mxguard="$MXG_ABS", reason="%(__name__)s"]
EOF

f2b() { timeout 10 fail2ban-client -s "$SOCK" "$@"; }

fail2ban-server -f -x -c "$F2B" -s "$SOCK" -p "$TMP/f2b.pid" >"$TMP/server.out" 2>&1 &
f2b_pid=$!
on_exit "timeout 10 fail2ban-client -s $SOCK stop; kill $f2b_pid; sleep 0.5; kill -9 $f2b_pid"
jails_up() { f2b status $JAIL >/dev/null && f2b status $PJAIL >/dev/null && f2b status $LJAIL >/dev/null; }
if wait_for 20 jails_up; then
	pass fail2ban_server_starts_jails_with_mxguard_action
else
	fail fail2ban_server_starts_jails_with_mxguard_action \
		"$(tail -5 "$TMP/server.out" "$TMP/fail2ban.log" 2>/dev/null)"
	summary
	exit
fi

conn() { # conn SRC -> 1 if a connection to port 25 is established, else 0
	in_ns "$CLI" $CONNECT --src "$1" --timeout 0.4 198.18.9.1 25
}
listed() { "$MXG" list --json --pin-dir "$PIN" | grep -q "\"cidr\":\"$1\""; }
not_listed() { ! listed "$1"; }

listener_up() { [ "$(conn $BAD)" = 1 ]; }
wait_for 10 listener_up || fail listener_up "the test server did not start"

# Real Postfix lines, stamped now so that findtime counts them.
sasl_fail() { # sasl_fail ADDR USER
	printf '%s mx postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=%s\n' \
		"$(LC_ALL=C date '+%b %e %H:%M:%S')" $((1000 + RANDOM % 9000)) "$1" "$2" >>"$MAILLOG"
}

# Below maxretry: two failures from GOOD do not ban it.
sasl_fail $GOOD bob
sasl_fail $GOOD bob
for _ in 1 2 3; do sasl_fail $BAD alice; done

if wait_for 15 listed $BAD/32; then
	pass maxretry_failures_put_address_in_mxguard_denylist
else
	fail maxretry_failures_put_address_in_mxguard_denylist \
		"$("$MXG" list --pin-dir "$PIN"; tail -5 "$TMP/fail2ban.log")"
fi
row=$("$MXG" list --json --pin-dir "$PIN" | grep "\"cidr\":\"$BAD/32\"")
left=$(echo "$row" | sed -nE 's/.*"expires_in_s":(-?[0-9]+).*/\1/p')
if echo "$row" | grep -q '"permanent":false' && echo "$row" | grep -q '"note":"fail2ban"' &&
	[ "${left:-0}" -gt 3500 ] &&
	[ "${left:-0}" -le 3600 ]; then
	pass jail_bantime_becomes_mxguard_expiry_and_note_says_fail2ban
else
	fail jail_bantime_becomes_mxguard_expiry_and_note_says_fail2ban "$row"
fi
if f2b status $JAIL | grep -q "Banned IP list:.*$BAD"; then
	pass fail2ban_status_lists_the_ban
else
	fail fail2ban_status_lists_the_ban "$(f2b status $JAIL)"
fi
if not_listed $GOOD/32; then
	pass failures_below_maxretry_do_not_ban
else
	fail failures_below_maxretry_do_not_ban "$("$MXG" list --pin-dir "$PIN")"
fi

a=$(conn $BAD)
b=$(conn $GOOD)
if [ "$a" = 0 ] && [ "$b" = 1 ]; then
	pass banned_address_syns_dropped_by_xdp_other_address_connects
else
	fail banned_address_syns_dropped_by_xdp_other_address_connects "banned got $a, other got $b"
fi

f2b set $JAIL unbanip $BAD >/dev/null
if wait_for 10 not_listed $BAD/32; then
	pass fail2ban_unbanip_removes_it_from_mxguard
else
	fail fail2ban_unbanip_removes_it_from_mxguard "$("$MXG" list --pin-dir "$PIN")"
fi
a=$(conn $BAD)
[ "$a" = 1 ] && pass unbanned_address_connects_again ||
	fail unbanned_address_connects_again "got $a"

# bantime = -1 is permanent in fail2ban: no --for, a permanent mxguard ban.
f2b set $PJAIL banip 198.18.9.11 >/dev/null
if wait_for 10 listed 198.18.9.11/32 &&
	"$MXG" list --json --pin-dir "$PIN" | grep "\"cidr\":\"198.18.9.11/32\"" |
	grep -q '"permanent":true'; then
	pass bantime_minus_one_gives_permanent_mxguard_ban
else
	fail bantime_minus_one_gives_permanent_mxguard_ban \
		"$("$MXG" list --json --pin-dir "$PIN"; grep -i error "$TMP/fail2ban.log" | tail -3)"
fi

# A jail name as reason, longer than a note: cut to 15, the ban still made.
f2b set $LJAIL banip 198.18.9.12 >/dev/null
if wait_for 10 listed 198.18.9.12/32; then
	pass fail2ban_jail_with_23_char_name_bans
else
	fail fail2ban_jail_with_23_char_name_bans \
		"$("$MXG" list --pin-dir "$PIN"; grep -i error "$TMP/fail2ban.log" | tail -3)"
fi
if "$MXG" list --json --pin-dir "$PIN" | grep '"cidr":"198.18.9.12/32"' |
	grep -q "\"note\":\"${LJAIL:0:15}\""; then
	pass fail2ban_reason_is_cut_to_its_first_15_characters
else
	fail fail2ban_reason_is_cut_to_its_first_15_characters "$("$MXG" list --json --pin-dir "$PIN")"
fi

f2b set $JAIL banip $V6 >/dev/null
if wait_for 10 listed $V6/128; then
	pass ipv6_ban_lands_as_slash_128
else
	fail ipv6_ban_lands_as_slash_128 "$("$MXG" list --pin-dir "$PIN"; tail -3 "$TMP/fail2ban.log")"
fi

# Stopping fail2ban unbans what it banned (no actionflush), as with
# iptables actions; it restores the bans from its database when it starts.
f2b stop >/dev/null
wait_for 10 not_listed $V6/128 && wait_for 5 not_listed 198.18.9.11/32 &&
	wait_for 5 not_listed 198.18.9.12/32
rc=$?
if [ $rc = 0 ]; then
	pass fail2ban_stop_unbans_its_bans
else
	fail fail2ban_stop_unbans_its_bans "$("$MXG" list --pin-dir "$PIN")"
fi

# jails_up polls "status JAIL" until the jails exist: fail2ban logs each
# early poll as an UnknownJailException, which is not an action error.
action_errors() {
	grep -E "ERROR .*(mxguard|$JAIL|$PJAIL|$LJAIL)" "$TMP/fail2ban.log" |
		grep -v "Command \['status', .*UnknownJailException"
}
if action_errors >/dev/null; then
	fail fail2ban_log_has_no_action_errors "$(action_errors | head -5)"
else
	pass fail2ban_log_has_no_action_errors
fi

if [ "$T_FAIL" != 0 ]; then
	echo "--- fail2ban log"
	tail -40 "$TMP/fail2ban.log"
	echo "--- daemon log"
	cat "$DLOG"
fi
summary
