# A private mail server in network namespaces, for the end-to-end tests
# (tests/e2e/test_*.sh) and the demo (scripts/demo.sh). Source it after
# tests/lib/lib.sh, from the repository root. Every resource is registered
# with on_exit, so it is removed in reverse order, also on failure.
#
#   attackers  (ns ${MX_NS}atk)                          mx (ns ${MX_NS}mx)
#     198.18.1.2 .3 .4   2001:db8:1::a b c    atk0 <-> mxa0   Postfix 25, 587
#     198.18.3.2 (flood) 198.18.4.2 198.18.5.2                Dovecot auth, submission 465
#   legitimate sender (ns ${MX_NS}ok)                         mxguard (XDP on mxa0, mxl0)
#     198.18.2.2         2001:db8:2::2        ok0  <-> mxl0   198.18.0.25, 2001:db8::25
#
# The mx namespace has no address inside any client's /24 or /64 (its
# service addresses sit on lo), so mxguard's own-address guard never stops
# a range ban there.

MX_NS=${MX_NS:-$TID}
NS_MX=${MX_NS}mx
NS_ATK=${MX_NS}atk
NS_OK=${MX_NS}ok

MX4=198.18.0.25
MX6=2001:db8::25
ATK1=198.18.1.2		# first attacker
ATK2=198.18.1.3		# second attacker, same /24
ATK3=198.18.1.4		# never attacks: caught by the /24 ban
FLOOD=198.18.3.2	# opens connections too fast
SUBM=198.18.4.2		# attacks Dovecot submission
EXPA=198.18.5.2		# attacker under a short bantime
ATK6_1=2001:db8:1::a
ATK6_2=2001:db8:1::b
ATK6_3=2001:db8:1::c
OK4=198.18.2.2		# legitimate sender
OK6=2001:db8:2::2

MX_USER=alice
MX_PASS=Corr3ct-Horse
MX_RCPT=bob@mx.test

MX_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MX_DAEMON_PID=
MX_PIN=
MX_D=

# mx_missing: print what the e2e needs and the machine lacks (empty: all there).
mx_missing() {
	local c m=
	for c in postfix postconf dovecot swaks nsenter python3 ip; do
		command -v "$c" >/dev/null 2>&1 || m="$m $c"
	done
	[ -x /usr/lib/dovecot/submission-login ] || m="$m dovecot-submissiond"
	echo "${m# }"
}

# mx_begin: the start every end-to-end suite shares. SKIP the suite where
# Postfix or Dovecot is missing, fail it where mxguard is not built or the
# mail servers do not come up (with their logs); returns with both running.
mx_begin() {
	local missing f

	missing=$(mx_missing)
	if [ -n "$missing" ]; then
		echo "SKIP $(basename "$0"): missing $missing (install with scripts/deps-e2e.sh)"
		echo "0 passed, 0 failed, 1 skipped"
		exit 0
	fi
	if [ ! -x "$MXG" ]; then
		fail mxguard_is_built "$MXG not found (make)"
		summary
		exit 1
	fi
	if ! mx_setup; then
		fail mail_servers_start "Postfix or Dovecot did not come up"
		for f in "$MX_D"/log/*; do echo "--- $f"; tail -n 20 "$f"; done
		summary
		exit 1
	fi
}

# mx_net: the three namespaces and two veth pairs.
mx_net() {
	netns "$NS_MX" && netns "$NS_ATK" && netns "$NS_OK" || return 1
	veth "$NS_MX" mxa0 "$NS_ATK" atk0 || return 1
	veth "$NS_MX" mxl0 "$NS_OK" ok0 || return 1
	ip -n "$NS_MX" addr add $MX4/32 dev lo
	ip -n "$NS_MX" addr add $MX6/128 dev lo nodad
	ip -n "$NS_MX" addr add fe80::1/64 dev mxa0 nodad
	ip -n "$NS_MX" addr add fe80::1/64 dev mxl0 nodad
	local a
	for a in 198.18.1.0/24 198.18.3.0/24 198.18.4.0/24 198.18.5.0/24; do
		ip -n "$NS_MX" route add $a dev mxa0
	done
	ip -n "$NS_MX" -6 route add 2001:db8:1::/64 dev mxa0
	ip -n "$NS_MX" route add 198.18.2.0/24 dev mxl0
	ip -n "$NS_MX" -6 route add 2001:db8:2::/64 dev mxl0
	for a in $ATK1/24 $ATK2/24 $ATK3/24 $FLOOD/24 $SUBM/24 $EXPA/24; do
		ip -n "$NS_ATK" addr add $a dev atk0
	done
	for a in $ATK6_1 $ATK6_2 $ATK6_3; do
		ip -n "$NS_ATK" addr add $a/64 dev atk0 nodad
	done
	ip -n "$NS_ATK" addr add fe80::2/64 dev atk0 nodad
	ip -n "$NS_ATK" route add $MX4/32 dev atk0
	ip -n "$NS_ATK" -6 route add $MX6/128 via fe80::1 dev atk0
	ip -n "$NS_OK" addr add $OK4/24 dev ok0
	ip -n "$NS_OK" addr add $OK6/64 dev ok0 nodad
	ip -n "$NS_OK" addr add fe80::2/64 dev ok0 nodad
	ip -n "$NS_OK" route add $MX4/32 dev ok0
	ip -n "$NS_OK" -6 route add $MX6/128 via fe80::1 dev ok0
}

# mx_render TEMPLATE OUT: fill in @D@, @UID@, @GID@.
mx_render() {
	sed -e "s|@D@|$MX_D|g" -e "s|@UID@|$(id -u nobody)|g" \
		-e "s|@GID@|$(id -g nobody)|g" "$1" >"$2"
}

# mx_dirs: the temp tree of the instance (removed on exit).
mx_dirs() {
	MX_D=$(mktemp -d /tmp/mxg-e2e.XXXXXX) || return 1
	on_exit "rm -rf $MX_D"
	chmod 755 "$MX_D"
	mkdir -p "$MX_D"/{postfix,spool,data,log,mail,home,state,dovecot/run,dovecot/state}
	chmod 0700 "$MX_D/state"
	chown postfix "$MX_D/data"
	chown nobody:nogroup "$MX_D/mail" "$MX_D/home"
	mx_render "$MX_HERE/conf/main.cf.in" "$MX_D/postfix/main.cf"
	mx_render "$MX_HERE/conf/master.cf.in" "$MX_D/postfix/master.cf"
	mx_render "$MX_HERE/conf/dovecot.conf.in" "$MX_D/dovecot/dovecot.conf"
	printf '%s@mx.test mx.test/%s/\n' alice alice bob bob >"$MX_D/postfix/vmailbox"
	printf '%s:{PLAIN}%s::::::\n' "$MX_USER" "$MX_PASS" bob "Bob-s3cret" \
		>"$MX_D/dovecot/users"
	chmod 644 "$MX_D/dovecot/users"
	MX_LOG=$MX_D/log/maillog
	MX_DLOG=$MX_D/log/dovecot.log
	MX_DAEMON_LOG=$MX_D/log/mxguard.log
	: >"$MX_DAEMON_LOG"
}

# Postfix refuses `postfix -c DIR` unless DIR is listed in
# alternate_config_directories of /etc/postfix/main.cf: add ours there, and
# take exactly it out again on exit (other entries are left alone).
mx_alt_add() {
	local cur
	if [ ! -e /etc/postfix/main.cf ]; then
		: >/etc/postfix/main.cf && on_exit "rm -f /etc/postfix/main.cf"
	fi
	cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null)
	postconf -c /etc/postfix -e \
		"alternate_config_directories = ${cur:+$cur, }$MX_D/postfix" || return 1
	on_exit mx_alt_remove
}
mx_alt_remove() {
	local cur new
	cur=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null)
	new=$(echo "$cur" | tr ', ' '\n\n' | grep -v -x -F "$MX_D/postfix" | grep . |
		paste -sd, - | sed 's/,/, /g')
	if [ -n "$new" ]; then
		postconf -c /etc/postfix -e "alternate_config_directories = $new"
	else
		postconf -c /etc/postfix -X alternate_config_directories
	fi
}

# mx_postfix_start: the private Postfix, in the mx namespace (start Dovecot
# first: an smtpd that finds no SASL socket exits, and master then throttles
# the service for a minute).
mx_postfix_start() {
	nsenter --net="/run/netns/$NS_MX" postfix -c "$MX_D/postfix" start \
		>"$MX_D/log/postfix-start.log" 2>&1 || {
		cat "$MX_D/log/postfix-start.log" >&2
		return 1
	}
	wait_for 20 mx_listening 25 && wait_for 10 mx_listening 587
}
# mx_postfix_prepare: the queue directory, with the owners Postfix wants.
mx_postfix_prepare() {
	mx_alt_add || return 1
	on_exit mx_postfix_stop
	postfix -c "$MX_D/postfix" set-permissions >"$MX_D/log/postfix-perms.log" 2>&1
	mkdir -p "$MX_D/spool/private"
	chown postfix "$MX_D/spool/private"
	chmod 700 "$MX_D/spool/private"
}
# mx_postfix_stop: SIGTERM to master (what `postfix stop` sends, without its
# wait loop); master then stops its children.
mx_postfix_stop() {
	local pid
	pid=$(tr -d ' ' <"$MX_D/spool/pid/master.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	mx_kill_tree "$pid"
}

# mx_dovecot_start: Dovecot auth (Postfix's SASL) and submission on 465.
mx_dovecot_start() {
	on_exit mx_dovecot_stop
	nsenter --net="/run/netns/$NS_MX" dovecot -c "$MX_D/dovecot/dovecot.conf" \
		>"$MX_D/log/dovecot-start.log" 2>&1 || {
		cat "$MX_D/log/dovecot-start.log" >&2
		return 1
	}
	wait_for 20 test -S "$MX_D/spool/private/auth" && wait_for 10 mx_listening 465
}
mx_dovecot_stop() {
	local pid
	pid=$(cat "$MX_D/dovecot/run/master.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	mx_kill_tree "$pid"
}

# mx_kill_tree PID: wait up to 5 s for PID and its children to go, then
# SIGKILL what is left of them (by pid only).
mx_kill_tree() {
	local pid=$1 kids
	[ -n "$pid" ] || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kids=$(pgrep -P "$pid" 2>/dev/null)
	kill -9 "$pid" $kids 2>/dev/null
	return 0
}

# mx_listening PORT: a listener on PORT in the mx namespace (asked of the
# kernel: a probe connection would show up in the logs).
mx_listening() {
	[ -n "$(nsenter --net="/run/netns/$NS_MX" ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# mx_daemon_start [ARGS]: mxguard run in the mx namespace, XDP on both
# client-facing veths, following the Postfix and Dovecot logs.
mx_daemon_start() {
	local n
	n=$(grep -c "running:" "$MX_DAEMON_LOG")
	echo "--- mxguard run $*" >>"$MX_DAEMON_LOG"
	nsenter --net="/run/netns/$NS_MX" "$MXG" run -i mxa0 -i mxl0 \
		--pin-dir "$MX_PIN" --state-dir "$MX_D/state" \
		--log "$MX_LOG" --log "$MX_DLOG" "$@" >>"$MX_DAEMON_LOG" 2>&1 &
	MX_DAEMON_PID=$!
	# Up to 15 s for "running:", less if the daemon exits (a refused flag).
	_mx_started() {
		[ "$(grep -c "running:" "$MX_DAEMON_LOG")" -gt "$n" ] && return 0
		kill -0 "$MX_DAEMON_PID" 2>/dev/null || return 0
		return 1
	}
	wait_for 15 _mx_started && kill -0 "$MX_DAEMON_PID" 2>/dev/null &&
		[ "$(grep -c "running:" "$MX_DAEMON_LOG")" -gt "$n" ] && return 0
	echo "mxguard run exited or did not say running: (log: $MX_DAEMON_LOG)" >>"$MX_DAEMON_LOG"
	return 1
}
mx_daemon_kill() { # mx_daemon_kill [SIGNAL]
	[ -n "$MX_DAEMON_PID" ] || return 0
	kill -"${1:-TERM}" "$MX_DAEMON_PID" 2>/dev/null
	wait "$MX_DAEMON_PID" 2>/dev/null
	MX_DAEMON_PID=
}
mx_daemon_cleanup() {
	mx_daemon_kill KILL
	nsenter --net="/run/netns/$NS_MX" "$MXG" detach --pin-dir "$MX_PIN"
	rm -rf "$MX_PIN"
}

# mx_setup: everything up to a running Postfix and Dovecot (not mxguard).
mx_setup() {
	ensure_bpffs
	MX_PIN=/sys/fs/bpf/$MX_NS
	mx_dirs || return 1
	mx_net || return 1
	on_exit mx_daemon_cleanup
	mx_postfix_prepare || return 1
	mx_dovecot_start || return 1
	mx_postfix_start || return 1
}

# --- clients ------------------------------------------------------------------

# mx_swaks NS SRC PORT ARGS...: swaks from SRC, stdout+stderr to a file per
# run in $MX_D/log/swaks; returns swaks' exit status.
MX_SWAKS_N=0
mx_swaks() {
	local ns=$1 src=$2 port=$3 dst=$MX4
	shift 3
	case $src in *:*) dst=$MX6 ;; esac
	MX_SWAKS_N=$((MX_SWAKS_N + 1))
	mkdir -p "$MX_D/log/swaks"
	MX_SWAKS_OUT=$MX_D/log/swaks/$MX_SWAKS_N-$src-$port
	timeout 30 nsenter --net="/run/netns/$ns" swaks --server "$dst" --port "$port" \
		--local-interface "$src" --helo client.test --from "probe@client.test" \
		--to "$MX_RCPT" "$@" >"$MX_SWAKS_OUT" 2>&1
}

# mx_auth_fail SRC [PORT] [TIMEOUT]: one AUTH LOGIN with a wrong password for
# alice. 0 when the server answered (and refused), 1 when nothing answered.
mx_auth_fail() {
	local src=$1 port=${2:-587} mech=LOGIN
	[ "$port" = 465 ] && mech=PLAIN
	mx_swaks "$NS_ATK" "$src" "$port" --auth "$mech" --auth-user "$MX_USER" \
		--auth-password "WRONG-$RANDOM" --quit-after AUTH --timeout "${3:-5}"
	grep -q '^<[~*-]* *535 ' "$MX_SWAKS_OUT"
}

# mx_send SRC N: the legitimate sender mails message N to bob, authenticated.
mx_send() {
	mx_swaks "$NS_OK" "$1" 587 --auth LOGIN --auth-user "$MX_USER" \
		--auth-password "$MX_PASS" --timeout 20 \
		--header "Subject: mxguard e2e message $2" --body "message $2 from $1"
}

# mx_conn NS SRC PORT [COUNT] [GAP] [TIMEOUT]: established TCP connections.
mx_conn() {
	local dst=$MX4
	case $2 in *:*) dst=$MX6 ;; esac
	nsenter --net="/run/netns/$1" python3 "$MX_HERE/../lib/tcpconnect.py" \
		--src "$2" --timeout "${6:-1}" --count "${4:-1}" --gap "${5:-0}" "$dst" "$3"
}

# mx_sender_start OUTFILE STOPFILE: the legitimate sender (tests/e2e/sender.sh)
# in its namespace, in the background; stopped on exit.
MX_SENDER_PID=
mx_sender_start() {
	: >"$1"
	nsenter --net="/run/netns/$NS_OK" "$MX_HERE/sender.sh" --out "$1" --stop "$2" \
		--server4 $MX4 --server6 $MX6 --user "$MX_USER" --pass "$MX_PASS" \
		--to "$MX_RCPT" --gap 0.3 --for 280 $OK4 $OK6 &
	MX_SENDER_PID=$!
	MX_SENDER_STOP=$2
	on_exit mx_sender_stop
}
# mx_sender_stop: let the message in flight finish (a few seconds at most),
# then end what is left by pid.
mx_sender_stop() {
	local pid=$MX_SENDER_PID
	[ -n "$pid" ] || return 0
	touch "$MX_SENDER_STOP"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 $(pgrep -P "$pid" 2>/dev/null) "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	MX_SENDER_PID=
	return 0
}

# --- what mxguard and the servers say -------------------------------------------

mx_list() { "$MXG" list --json --pin-dir "$MX_PIN" 2>/dev/null; }
mx_stats() { "$MXG" stats --json --pin-dir "$MX_PIN" 2>/dev/null; }
# mx_stat KEY: one counter of mxguard stats --json (0 when absent).
mx_stat() {
	local v
	v=$(mx_stats | sed -nE "s/.*\"$1\":([0-9]+).*/\1/p" | head -n 1)
	echo "${v:-0}"
}
# mx_banned CIDR: CIDR is in the denylist, not expired.
mx_banned() { mx_list | grep "\"cidr\":\"$1\"" | grep -q '"expired":false'; }
# mx_ban_field CIDR FIELD: a numeric field of CIDR's entry.
mx_ban_field() {
	mx_list | grep "\"cidr\":\"$1\"" | head -n 1 | sed -nE "s/.*\"$2\":([0-9]+).*/\1/p"
}
# mx_seen ADDR: lines of the Postfix log with a connection from ADDR.
mx_seen() { grep -c "connect from [^ ]*\[$1\]" "$MX_LOG" 2>/dev/null; }
# mx_auth_failures ADDR: SASL failures Postfix logged for ADDR.
mx_auth_failures() { grep -c "\[$1\]: SASL [A-Z]* authentication failed" "$MX_LOG" 2>/dev/null; }
# mx_delivered: messages in bob's Maildir.
mx_delivered() {
	find "$MX_D/mail/mx.test/bob/new" "$MX_D/mail/mx.test/bob/cur" -type f 2>/dev/null | wc -l
}

# mx_dump: what to read when something failed.
mx_dump() {
	echo "--- maillog (tail)"
	tail -n 40 "$MX_LOG" 2>/dev/null
	echo "--- dovecot.log (tail)"
	tail -n 15 "$MX_DLOG" 2>/dev/null
	echo "--- mxguard daemon log (tail)"
	tail -n 40 "$MX_DAEMON_LOG" 2>/dev/null
	echo "--- mxguard stats"
	mx_stats
	echo "--- mxguard list"
	mx_list
}
