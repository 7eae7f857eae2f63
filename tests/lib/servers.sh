# shellcheck shell=bash
# Real mail servers in a network namespace of the test's own, for
# tests/live/test_servers.sh: each server is started from a config of the
# test's own (tests/live/servers/), its log goes to a file of the test's own,
# and real clients log in to it from known addresses. Source after
# tests/lib/lib.sh, from the repository root. Every resource is registered
# with on_exit, so it is removed in reverse order, also on failure.
#
#   namespace ${TID}srv, all addresses on lo:
#     198.18.10.1   the server under test (one at a time)
#     198.18.11.2   client A: guesses passwords on several accounts
#     198.18.12.2   client B: guesses passwords on one account
#     198.18.13.2   client C: the legitimate user, logs in once
#
# The servers that are not installed as packages (Exim, Sendmail, Haraka)
# are unpacked by scripts/deps-servers.sh under $SRV_CACHE.

SRV_NS=${TID}srv
SRV_IP=198.18.10.1
SRV_A=198.18.11.2
SRV_B=198.18.12.2
SRV_C=198.18.13.2
SRV_CACHE=${SRV_CACHE:-/var/cache/mxguard-test}
SRV_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRV_CONF=$SRV_HERE/../live/servers
SRV_D=

# The accounts every server knows, and the legitimate user's password.
SRV_USERS="alice bob carol"
SRV_PASS=Corr3ct-Horse

# srv_setup: the namespace and the temp tree $SRV_D (removed on exit).
srv_setup() {
	local a
	SRV_D=$(mktemp -d /tmp/mxg-servers.XXXXXX) || return 1
	on_exit "rm -rf $SRV_D"
	chmod 755 "$SRV_D"
	netns "$SRV_NS" || return 1
	for a in $SRV_IP $SRV_A $SRV_B $SRV_C; do
		ip -n "$SRV_NS" addr add $a/32 dev lo || return 1
	done
}

# srv_in CMD...: run CMD in the namespace (network only).
srv_in() { nsenter --net="/run/netns/$SRV_NS" "$@"; }

# srv_listening PORT: a listener on PORT, asked of the kernel (a probe
# connection would show up in the server's log).
srv_listening() {
	[ -n "$(srv_in ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# srv_free PORT...: no listener left on any PORT (by a server before);
# waits up to 5 s, then says which is taken.
srv_free() {
	local p
	for p in "$@"; do
		wait_for 5 eval "! srv_listening $p" && continue
		echo "port $p is still taken: $(srv_in ss -Hltnp "sport = :$p")" >&2
		return 1
	done
}

# srv_render TEMPLATE OUT [KEY=VALUE]...: fill in @D@ (the server's folder,
# $SRV_DIR), @IP@, @UID@/@GID@ (nobody), @CACHE@ and each @KEY@ given
# (first, so a VALUE may hold the others).
srv_render() {
	local in=$1 out=$2 text kv
	shift 2
	text=$(<"$in")
	for kv in "$@"; do
		text=${text//@${kv%%=*}@/${kv#*=}}
	done
	text=${text//@D@/$SRV_DIR}
	text=${text//@IP@/$SRV_IP}
	text=${text//@CACHE@/$SRV_CACHE}
	text=${text//@UID@/$(id -u nobody)}
	text=${text//@GID@/$(id -g nobody)}
	printf '%s\n' "$text" >"$out"
}

# srv_dir NAME: a fresh folder for one server run, $SRV_DIR.
srv_dir() {
	SRV_DIR=$SRV_D/$1
	mkdir -p "$SRV_DIR" && chmod 755 "$SRV_DIR"
}

# srv_tree PID: the pids of PID's descendants.
srv_tree() {
	local p
	for p in $(pgrep -P "$1" 2>/dev/null); do
		echo "$p"
		srv_tree "$p"
	done
}

# srv_alive PID: PID runs (a zombie, waiting for its parent, does not).
srv_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]
}

# srv_kill_tree PID: TERM to PID and all its descendants (a server started
# through a subshell, nsenter and unshare has helpers of its own below it,
# such as Sendmail's rsyslogd), up to 5 s for them to go, then KILL what is
# left of them (by pid only).
srv_kill_tree() {
	local pid=$1 all p left
	[ -n "$pid" ] || return 0
	all="$pid $(srv_tree "$pid")"
	kill -TERM $all 2>/dev/null
	for _ in $(seq 50); do
		left=
		for p in $all; do
			srv_alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	kill -9 $left 2>/dev/null
	return 0
}

# --- clients ----------------------------------------------------------------

# srv_mailclient PROTO PORT SRC SESSION...: tests/lib/mailclient.py from SRC;
# prints how many logins the server refused.
srv_mailclient() {
	local proto=$1 port=$2 src=$3 out
	shift 3
	out=$SRV_DIR/client-$proto-$src-$RANDOM
	timeout 60 nsenter --net="/run/netns/$SRV_NS" python3 \
		"$SRV_HERE/mailclient.py" "$proto" "$SRV_IP" "$port" "$src" "$@" \
		>"$out" 2>&1
	sed -nE 's/^failed ([0-9]+) ok ([0-9]+)$/\1/p' "$out"
}

# srv_swaks SRC PORT USER PASS [ARGS]...: one SMTP AUTH with swaks from SRC,
# stopping after AUTH (sending a message with SRV_SEND=yes), with the HELO
# $SRV_HELO (client.test by default). Prints "fail" for a 535 answer, "ok" for 235,
# "none" for anything else.
srv_swaks() {
	local src=$1 port=$2 user=$3 pass=$4 out
	shift 4
	out=$SRV_DIR/swaks-$src-$RANDOM
	timeout 60 nsenter --net="/run/netns/$SRV_NS" swaks --server "$SRV_IP" \
		--port "$port" --local-interface "$src" --helo "${SRV_HELO:-client.test}" \
		--from probe@client.test --to postmaster@mx.test \
		--auth-user "$user" --auth-password "$pass" \
		$([ "${SRV_SEND:-no}" = yes ] || echo --quit-after AUTH) \
		--timeout 20 "$@" >"$out" 2>&1
	if grep -q '^<[~*-]* *535[ -]' "$out"; then
		echo fail
	elif grep -q '^<[~*-]* *235[ -]' "$out"; then
		echo ok
	else
		echo none
	fi
}

# srv_smtp_attack SRC PORT COUNT USERS [ARGS]...: COUNT failed AUTHs from SRC,
# one connection each, cycling through USERS (space separated), run
# sequentially. Prints how many the server refused with 535.
srv_smtp_attack() {
	local src=$1 port=$2 n=$3 i got=0 u
	local -a users
	read -r -a users <<<"$4"
	shift 4
	for ((i = 0; i < n; i++)); do
		u=${users[$((i % ${#users[@]}))]}
		[ "$(srv_swaks "$src" "$port" "$u" "Wrong-$i-$RANDOM" "$@")" = fail ] &&
			got=$((got + 1))
	done
	echo $got
}

# --- what mxguard reports ----------------------------------------------------

# srv_scan [SERVER:]FILE...: mxguard scan --json over the files, added up
# per address: "ADDR ATTEMPTS" lines, sorted. Non-zero when scan failed.
srv_scan() {
	local out=$SRV_DIR/scan.json
	"$MXG" scan --json "$@" >"$out" 2>"$SRV_DIR/scan.err" || return 1
	python3 -c '
import json, sys, collections
n = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    n[e["addr"]] += e.get("attempts", 1)
for a in sorted(n):
    print(a, n[a])' "$out"
}

# srv_expect NAME LOGSPEC A_WANT B_WANT: PASS when scan over LOGSPEC (one
# [SERVER:]FILE or several, space separated) counts exactly A_WANT attempts
# from client A, B_WANT from client B and nothing from any other address
# (client C's success is not a failure).
# SRV_KEEP_LOGS=DIR copies each log read to DIR/NAME.log (DIR/NAME-FILE.log
# for several), under a line that says what made it (SRV_TRUTH, set by the
# test: who tried what).
srv_expect() {
	local name=$1 wa=$3 wb=$4 got want f as out
	local -a files
	read -r -a files <<<"$2"
	if [ -n "${SRV_KEEP_LOGS:-}" ]; then
		for f in "${files[@]}"; do
			out=$name
			[ ${#files[@]} -gt 1 ] && out=$name-$(basename "${f#*:}" .log)
			as=$out.log
			case $f in *:*) as=${f%%:*}:$as ;; esac
			{
				echo "# $out, made by tests/live/test_servers.sh:" \
					"${SRV_TRUTH//$'\n'/ };" \
					"scan it as: mxguard scan --json $as"
				cat "${f#*:}"
			} >"$SRV_KEEP_LOGS/$out.log"
		done
	fi
	got=$(srv_scan "${files[@]}") || {
		fail "$name" "mxguard scan failed: $(head -3 "$SRV_DIR/scan.err")"
		return 1
	}
	want=$(printf '%s %s\n%s %s\n' $SRV_A "$wa" $SRV_B "$wb")
	if [ "$got" != "$want" ]; then
		fail "$name" "want {$(echo $want)}, mxguard scan counted {$(echo $got)}"
		return 1
	fi
	pass "$name"
	srv_expect_login "$name" "${files[@]}"
}

# srv_expect_login NAME [SERVER:]FILE...: PASS when scan --accounts over the
# files names the legitimate login, SRV_LOGIN ("ACCOUNT ADDR", default
# "alice $SRV_C"; empty where the server names no account), as that
# account's last success from that address, and flags no account as likely
# guessed: the guessers never logged in.
srv_expect_login() {
	local name=$1 login=${SRV_LOGIN-alice $SRV_C} got
	shift
	[ -n "$login" ] || return 0
	got=$("$MXG" scan --accounts --json "$@" 2>"$SRV_DIR/scan.err" | python3 -c '
import json, sys
want_acct, want_addr = sys.argv[1].split()
ok, bad = False, []
for line in sys.stdin:
    e = json.loads(line)
    if e.get("alert") == "compromise" or e.get("compromised"):
        bad.append(e.get("account"))
    if e.get("account") == want_acct and e.get("successes", 0) >= 1 \
            and e.get("last_success_addr") == want_addr:
        ok = True
print("ok" if ok and not bad else "login seen: %s, flagged: %s" % (ok, bad))
' "$login")
	if [ "$got" = ok ]; then
		pass "${name}_login"
	else
		fail "${name}_login" "scan --accounts: $got (want $login)"
	fi
}

# srv_clients_ok NAME WANT GOT: the server itself refused exactly WANT
# logins (else the labelled truth is wrong, and NAME fails).
srv_clients_ok() {
	[ "$3" = "$2" ] && return 0
	fail "$1" "the server refused $3 of the $2 wrong logins the client made"
	return 1
}

# --- Dovecot ------------------------------------------------------------------

SRV_DOVECOT_PID=

# srv_dovecot_start VERBOSE PASSDB [IMAP-PORT POP3-PORT]: Dovecot with IMAP
# on 143 and POP3 on 110 (or the ports given), auth_verbose VERBOSE (yes,
# no, or passwords: yes with auth_verbose_passwords = plain), the
# passdb block PASSDB (its lines), in $SRV_DIR (srv_dir first); the log is
# $SRV_DIR/dovecot.log. Make the files the passdb reads first.
srv_dovecot_start() {
	local imap=${3:-143} pop3=${4:-110} verbose=$1 vpass=no
	srv_free $imap $pop3 || return 1
	[ "$1" = passwords ] && verbose=yes vpass=plain
	srv_render "$SRV_CONF/dovecot.conf.in" "$SRV_DIR/dovecot.conf" \
		"VERBOSE=$verbose" "VPASS=$vpass" "PASSDB=$2" "IMAPPORT=$imap" \
		"POP3PORT=$pop3"
	mkdir -p "$SRV_DIR/run" "$SRV_DIR/state" "$SRV_DIR/home"
	chown nobody:nogroup "$SRV_DIR/home"
	: >"$SRV_DIR/dovecot.log"
	srv_in dovecot -c "$SRV_DIR/dovecot.conf" >"$SRV_DIR/start.log" 2>&1 || {
		cat "$SRV_DIR/start.log" >&2
		return 1
	}
	# The starting process may return before master.pid is written.
	wait_for 10 test -s "$SRV_DIR/run/master.pid"
	SRV_DOVECOT_PID=$(cat "$SRV_DIR/run/master.pid" 2>/dev/null)
	on_exit "srv_kill_tree $SRV_DOVECOT_PID"
	wait_for 20 srv_listening "$imap" && wait_for 10 srv_listening "$pop3"
}
srv_dovecot_stop() {
	srv_kill_tree "$SRV_DOVECOT_PID"
	SRV_DOVECOT_PID=
}

# srv_userlist: "user password" lines of the accounts every server knows.
srv_userlist() {
	local u
	for u in $SRV_USERS; do
		echo "$u $SRV_PASS"
	done
}

# --- a private mount namespace ----------------------------------------------

# Exim and Sendmail look up their system users (Debian-exim, smmsp) by name
# before reading any config. They run with /etc/passwd and /etc/group of the
# test's own bind-mounted over the real ones in a private mount namespace,
# where those users are nobody's uid and gid: nothing is added to the system.
srv_priv_files() {
	[ -e "$SRV_D/passwd" ] && return 0
	{
		cat /etc/passwd
		echo "Debian-exim:x:$(id -u nobody):$(id -g nobody):mxguard test:/nonexistent:/usr/sbin/nologin"
		echo "smmsp:x:$(id -u nobody):$(id -g nobody):mxguard test:/nonexistent:/usr/sbin/nologin"
	} >"$SRV_D/passwd"
	{
		cat /etc/group
		echo "Debian-exim:x:$(id -g nobody):"
		echo "smmsp:x:$(id -g nobody):"
	} >"$SRV_D/group"
	chmod 644 "$SRV_D/passwd" "$SRV_D/group"
}

# srv_priv [MOUNT-CMD] -- CMD...: CMD in the namespace and in a private mount
# namespace with those users; MOUNT-CMD (a shell line) runs there first.
srv_priv() {
	local pre=
	[ "$1" != -- ] && { pre=$1; shift; }
	shift
	srv_priv_files
	nsenter --net="/run/netns/$SRV_NS" unshare --mount --propagation private \
		sh -c 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group &&
			eval "$3" && shift 3 && exec "$@"' sh \
		"$SRV_D/passwd" "$SRV_D/group" "${pre:-:}" "$@"
}

# --- Exim -----------------------------------------------------------------------

SRV_EXIM=$SRV_CACHE/exim/usr/sbin/exim4
SRV_EXIM_PID=

# srv_exim_start: Exim (unpacked by deps-servers.sh) on 587 in a fresh
# $SRV_DIR (srv_dir first); the mainlog is $SRV_DIR/log/mainlog.
srv_exim_start() {
	srv_free 587 || return 1
	mkdir -p "$SRV_DIR/log" "$SRV_DIR/spool"
	chown nobody:nogroup "$SRV_DIR/log" "$SRV_DIR/spool"
	srv_userlist | sed 's/ /: /' >"$SRV_DIR/passwd"
	chmod 644 "$SRV_DIR/passwd"
	srv_render "$SRV_CONF/exim.conf.in" "$SRV_DIR/exim.conf"
	srv_priv -- "$SRV_EXIM" -C "$SRV_DIR/exim.conf" -bdf \
		>"$SRV_DIR/start.log" 2>&1 &
	SRV_EXIM_PID=$!
	on_exit "srv_kill_tree $SRV_EXIM_PID"
	wait_for 20 srv_listening 587
}
srv_exim_stop() {
	srv_kill_tree "$SRV_EXIM_PID"
	SRV_EXIM_PID=
}

# --- nginx's mail proxy ---------------------------------------------------------

SRV_NGINX_PID=
SRV_AUTHHTTP_PID=
SRV_AUTHHTTP_PORT=9180

# srv_nginx_start: nginx's mail proxy on 143 and 110 in $SRV_DIR, asking
# tests/lib/authhttp.py, which sends right logins on to a Dovecot on 1143
# and 1110 (start that first); the error log is $SRV_DIR/error.log.
srv_nginx_start() {
	srv_free 143 110 $SRV_AUTHHTTP_PORT || return 1
	srv_userlist >"$SRV_DIR/authusers"
	srv_in python3 "$SRV_HERE/authhttp.py" 127.0.0.1 $SRV_AUTHHTTP_PORT \
		"$SRV_DIR/authusers" "$SRV_IP" 1143 1110 >"$SRV_DIR/authhttp.log" 2>&1 &
	SRV_AUTHHTTP_PID=$!
	on_exit "srv_kill_tree $SRV_AUTHHTTP_PID"
	srv_render "$SRV_CONF/nginx.conf.in" "$SRV_DIR/nginx.conf" \
		"AUTHPORT=$SRV_AUTHHTTP_PORT"
	: >"$SRV_DIR/error.log"
	srv_in nginx -c "$SRV_DIR/nginx.conf" -p "$SRV_DIR" -e "$SRV_DIR/error.log" \
		-g 'daemon off;' >"$SRV_DIR/start.log" 2>&1 &
	SRV_NGINX_PID=$!
	on_exit "srv_kill_tree $SRV_NGINX_PID"
	wait_for 10 srv_listening $SRV_AUTHHTTP_PORT &&
		wait_for 20 srv_listening 143 && wait_for 10 srv_listening 110
}
srv_nginx_stop() {
	srv_kill_tree "$SRV_NGINX_PID"
	srv_kill_tree "$SRV_AUTHHTTP_PID"
	SRV_NGINX_PID=''
	SRV_AUTHHTTP_PID=''
}

# --- Haraka -----------------------------------------------------------------------

SRV_HARAKA=$SRV_CACHE/haraka/node_modules/Haraka/bin/haraka
SRV_HARAKA_PID=

# srv_haraka_start [LOG-KEY=VALUE]...: Haraka (npm, deps-servers.sh) on 587
# with tls and auth/flat_file (which offers AUTH only after STARTTLS), in
# $SRV_DIR/haraka; its log is its stdout, $SRV_DIR/haraka.log; the
# arguments go to log.ini's [main] (timestamps=true, ...).
srv_haraka_start() {
	local c=$SRV_DIR/haraka/config u
	srv_free 587 || return 1
	# haraka -i: a service folder with Haraka's default config, then ours.
	node "$SRV_HARAKA" -i "$SRV_DIR/haraka" >"$SRV_DIR/install.log" 2>&1 ||
		return 1
	# nodes=0: one process, no cluster of workers to stop.
	printf '[main]\nlisten=%s:587\nnodes=0\n' "$SRV_IP" >"$c/smtp.ini"
	printf 'tls\nauth/flat_file\n' >"$c/plugins"
	echo mx.test >"$c/me"
	echo mx.test >"$c/host_list"
	{
		printf '[main]\nlevel=info\n'
		for u in "$@"; do echo "$u"; done
	} >"$c/log.ini"
	{
		printf '[core]\nmethods=PLAIN,LOGIN\n[users]\n'
		srv_userlist | sed 's/ /=/'
	} >"$c/auth_flat_file.ini"
	# Fixed DH parameters (public, not secret): without them Haraka spawns
	# an openssl that works for a minute and outlives it.
	cp "$SRV_CONF/haraka/dhparams.pem" "$c/dhparams.pem"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.test \
		-keyout "$c/tls_key.pem" -out "$c/tls_cert.pem" >/dev/null 2>&1 || return 1
	srv_in node "$SRV_HARAKA" -c "$SRV_DIR/haraka" >"$SRV_DIR/haraka.log" 2>&1 &
	SRV_HARAKA_PID=$!
	on_exit "srv_kill_tree $SRV_HARAKA_PID"
	wait_for 30 srv_listening 587
}
srv_haraka_stop() {
	srv_kill_tree "$SRV_HARAKA_PID"
	SRV_HARAKA_PID=
}

# --- Sendmail -----------------------------------------------------------------

SRV_SM=$SRV_CACHE/sendmail
SRV_SM_PID=

# srv_sendmail_start [LOGLEVEL]: Sendmail (unpacked by deps-servers.sh) as an
# MSA on 587 with Cyrus SASL (PLAIN, LOGIN) against a sasldb of the test's
# own, at LogLevel LOGLEVEL (9, Sendmail's default, when not given), in
# $SRV_DIR; it logs through an rsyslogd of the test's own
# (tests/lib/privlog.sh) to $SRV_DIR/maillog, as sm-mta (Debian's tag for
# the daemon).
srv_sendmail_start() {
	local u p cf=$SRV_SM/usr/share/sendmail/cf
	srv_free 587 || return 1
	mkdir -p "$SRV_DIR/mqueue" "$SRV_DIR/sasl2"
	chmod 700 "$SRV_DIR/mqueue"
	: >"$SRV_DIR/aliases"
	printf 'hosts files\naliases files\n' >"$SRV_DIR/service.switch"
	# Sendmail sleeps and retries until it can qualify the machine's name.
	printf '127.0.0.1 localhost\n%s mx.test %s\n' "$SRV_IP" "$(hostname)" \
		>"$SRV_DIR/hosts"
	srv_render "$SRV_CONF/sendmail.mc.in" "$SRV_DIR/sendmail.mc" \
		"LOGLEVEL=${1:-9}"
	m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$SRV_DIR/sendmail.mc" \
		>"$SRV_DIR/sendmail.cf" 2>"$SRV_DIR/m4.err" || return 1
	# Cyrus SASL reads Sendmail.conf from /usr/lib/sasl2 (among others):
	# ours is mounted over it in the private namespace.
	cp -a /usr/lib/sasl2/. "$SRV_DIR/sasl2/"
	srv_render "$SRV_CONF/sasl-Sendmail.conf.in" "$SRV_DIR/sasl2/Sendmail.conf"
	srv_userlist | while read -r u p; do
		echo "$p" | saslpasswd2 -f "$SRV_DIR/sasldb2" -c -p -u mx.test "$u" ||
			return 1
	done
	chmod 640 "$SRV_DIR/sasldb2"
	# Not set-group-id: this copy runs as root from a config of the test's.
	install -m 0755 "$SRV_SM/usr/libexec/sendmail/sendmail" "$SRV_DIR/sendmail"
	srv_priv "mount --bind $SRV_DIR/sasl2 /usr/lib/sasl2 &&
		mount --bind $SRV_DIR/hosts /etc/hosts" -- \
		sh "$SRV_HERE/privlog.sh" "$SRV_DIR/maillog" "$SRV_DIR/rsyslog" \
		"$SRV_DIR/sendmail" -L sm-mta -C "$SRV_DIR/sendmail.cf" -bD \
		>"$SRV_DIR/start.log" 2>&1 &
	SRV_SM_PID=$!
	on_exit "srv_kill_tree $SRV_SM_PID"
	wait_for 30 srv_listening 587
}
srv_sendmail_stop() {
	srv_kill_tree "$SRV_SM_PID"
	SRV_SM_PID=
}

# srv_replay_expect NAME LOGSPEC A_WANT B_WANT: the same count through the
# ban policy: `mxguard replay --monitor` with maxretry just at and just over
# each client's count must ban A at A_WANT and not A_WANT + 1, B at B_WANT
# and not B_WANT + 1, and never anyone else (A_WANT > B_WANT + 1). With
# --monitor nothing is written, and the pin dir named is never made.
srv_replay_expect() {
	local name=${1}_replay wa=$3 wb=$4 mr got want bad=
	local -a files
	read -r -a files <<<"$2"
	for mr in "$wb" $((wb + 1)) "$wa" $((wa + 1)); do
		got=$("$MXG" replay --monitor --pin-dir "/sys/fs/bpf/${TID}srv" \
			-o maxretry="$mr" -o findtime=1d \
			-o bantime=1d "${files[@]}" 2>&1 |
			sed -nE 's/.*would ban ([0-9a-f.:]+)\/[0-9]+ .*/\1/p' | sort -u |
			paste -sd' ')
		want=
		[ "$mr" -le "$wa" ] && want=$SRV_A
		[ "$mr" -le "$wb" ] && want="$SRV_A $SRV_B"
		[ "$got" = "$want" ] ||
			bad="$bad maxretry=$mr: want {$want}, would ban {$got};"
	done
	if [ -z "$bad" ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "${bad%;}"
	return 1
}

# --- mxguard run following a server's log -------------------------------------

# The daemon runs in a namespace of its own (${TID}dmn, XDP on a veth pair
# there), not in the servers' one: there the clients' addresses are the
# host's own, which mxguard never bans. It only follows the log files.
SRV_DMN_NS=${TID}dmn
SRV_DMN_PID=
SRV_PIN=/sys/fs/bpf/${TID}srv

# srv_daemon_start [ARGS]...: mxguard run with ARGS (--log ..., -o ...) and a
# fresh state dir $SRV_DIR/state; its output is $SRV_DIR/mxguard.log.
srv_daemon_start() {
	local log=$SRV_DIR/mxguard.log
	if ! ip netns list | grep -qx "$SRV_DMN_NS\( .*\)\?"; then
		ensure_bpffs
		netns "$SRV_DMN_NS" || return 1
		ip link add sd0 netns "$SRV_DMN_NS" type veth peer name sd1 \
			netns "$SRV_DMN_NS" || return 1
		ip -n "$SRV_DMN_NS" link set sd0 up
		ip -n "$SRV_DMN_NS" link set sd1 up
		on_exit srv_daemon_stop
	fi
	mkdir -p "$SRV_DIR/state" && chmod 700 "$SRV_DIR/state"
	: >"$log"
	nsenter --net="/run/netns/$SRV_DMN_NS" "$MXG" run -i sd0 \
		--pin-dir "$SRV_PIN" --state-dir "$SRV_DIR/state" "$@" >"$log" 2>&1 &
	SRV_DMN_PID=$!
	_srv_dmn_up() {
		grep -q "running:" "$log" || ! kill -0 "$SRV_DMN_PID" 2>/dev/null
	}
	wait_for 15 _srv_dmn_up && grep -q "running:" "$log"
}
# srv_daemon_stop: the daemon ended, its program detached, its pins gone.
srv_daemon_stop() {
	if [ -n "$SRV_DMN_PID" ]; then
		kill -TERM "$SRV_DMN_PID" 2>/dev/null
		wait "$SRV_DMN_PID" 2>/dev/null
		SRV_DMN_PID=
	fi
	nsenter --net="/run/netns/$SRV_DMN_NS" "$MXG" detach --pin-dir "$SRV_PIN" \
		>/dev/null 2>&1
	rm -rf "$SRV_PIN"
}
# srv_banned: the addresses in the daemon's denylist, one line, sorted.
srv_banned() {
	"$MXG" list --json --pin-dir "$SRV_PIN" 2>/dev/null |
		sed -nE 's/.*"cidr":"([^"/]+)\/[0-9]+".*/\1/p' | sort -u | paste -sd' '
}

# srv_daemon_expect NAME: with the daemon started with maxretry = client
# A's count, A must be banned (within 10 s of its last attempt) and no one
# else: B made fewer attempts, C none.
srv_daemon_expect() {
	local name=${1}_daemon got
	_srv_a_banned() { [ "$(srv_banned)" = "$SRV_A" ]; }
	wait_for 10 _srv_a_banned
	sleep 0.5 # a wrong ban of B would land about now
	got=$(srv_banned)
	if [ "$got" = "$SRV_A" ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "want {$SRV_A} banned, the daemon banned {$got}: $(tail -3 "$SRV_DIR/mxguard.log")"
	return 1
}
