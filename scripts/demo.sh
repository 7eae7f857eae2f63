#!/bin/bash
# mxguard, live: a real Postfix (SASL through Dovecot) in a network namespace,
# an attacker guessing passwords, a legitimate user sending mail all along,
# and mxguard banning from the log and dropping at the NIC. About a minute;
# everything it sets up is torn down at the end (also on Ctrl-C).
#
#   sudo make demo          (or: sudo scripts/demo.sh [--fast])
#
# Only namespaces and veth pairs made here are touched, with addresses from
# 198.18.0.0/15 and 2001:db8::/32; nothing goes out of the machine.
# --fast leaves out the pauses between the acts (the captured run in
# docs/demo-output.txt was made with it).
cd "$(dirname "$0")/.." || exit 1

PAUSE=1.5
[ "${1:-}" = --fast ] && PAUSE=0

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces, XDP): sudo make demo" >&2
	exit 1
fi
scripts/deps-e2e.sh || exit 1
if [ ! -x build/mxguard ]; then
	make --no-print-directory || exit 1
fi

. tests/lib/lib.sh
MX_NS=mxdemo
. tests/e2e/mx.sh

if [ -t 1 ]; then
	B=$'\e[1m' DIM=$'\e[2m' RED=$'\e[31m' GRN=$'\e[32m' YEL=$'\e[33m' N=$'\e[0m'
else
	B='' DIM='' RED='' GRN='' YEL='' N=''
fi
act() { sleep "$PAUSE"; printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
cmd() { printf '   %s$ %s%s\n' "$DIM" "$*" "$N"; }
indent() { sed 's/^/     /'; }
# logs_since FILE LINE PATTERN: lines of FILE after LINE matching PATTERN.
logs_since() { tail -n +"$(($2 + 1))" "$1" | grep -E "$3" | sed -E 's/^[A-Z][a-z]{2} [ 0-9]{2} //'; }
lines() { wc -l <"$1"; }
# guess ADDR PORT MECH N: one wrong password from ADDR, shown as typed, and
# the server's answer.
guess() {
	cmd "swaks --server $MX4 --port $2 --local-interface $1 --auth $3 --au alice --ap guess$4"
	mx_auth_fail "$1" "$2" 2
	grep -E '^<\*\* 535' "$MX_SWAKS_OUT" | sed 's/^<\*\* /server: /' | indent
}
# bans_since LINE: the daemon's ban messages after that line of its log.
bans_since() { logs_since "$MX_DAEMON_LOG" "$1" "banned" | sed "s/^/${YEL}/; s/\$/${N}/" | indent; }
# reach LABEL NS ADDR: how many of one connection to :587 get through.
reach() { say "$(printf '  %-48s %s of 1' "$1" "$(mx_conn "$2" "$3" 587 1 0 1)")"; }

# A demo interrupted before (kill -9) may have left its namespaces or pins.
for ns in ${MX_NS}mx ${MX_NS}atk ${MX_NS}ok; do
	[ -e "/run/netns/$ns" ] && ip netns del "$ns"
done
[ -d "/sys/fs/bpf/$MX_NS" ] && "$MXG" detach --pin-dir "/sys/fs/bpf/$MX_NS" >/dev/null 2>&1

printf '%smxguard demo%s: an XDP shield for SMTP servers against AUTH brute force\n' "$B" "$N"
cat <<EOF

   attacker   198.18.1.2, 198.18.1.3, 2001:db8:1::a ...  --veth-->  mx: Postfix :25 :587
   legit user 198.18.2.2, 2001:db8:2::2 (alice)           --veth-->      Dovecot (SASL, :465)
                                                                         mxguard (XDP on both veths,
                                                                         reading Postfix's log)
EOF

act "1. A real mail server in a namespace"
if ! mx_setup; then
	echo "${RED}demo: Postfix or Dovecot did not start${N}" >&2
	for f in "$MX_D"/log/*; do echo "--- $f"; tail -n 20 "$f"; done
	exit 1
fi
say "Postfix $(postconf -h mail_version) on $MX4 and [$MX6], ports 25 and 587, AUTH via Dovecot $(dovecot --version | cut -d' ' -f1)"
say "its log: $MX_LOG"
cmd "swaks --server $MX4 --port 587 --auth LOGIN --au alice --ap '********' --to $MX_RCPT"
if mx_send $OK4 0; then
	say "${GRN}$(grep -E '^<-  250 .*queued' "$MX_SWAKS_OUT" | sed 's/^<-  //')${N}  (the legitimate user, before any protection)"
else
	say "${RED}the legitimate user could not send:${N}"
	tail -n 5 "$MX_SWAKS_OUT" | indent
	exit 1
fi

act "2. mxguard starts: XDP on the server's NICs, following the mail log"
POLICY=(-o maxretry=3 -o findtime=10m -o bantime=1h -o range_hosts=2
	-o range_v4=24 -o range_v6=64 -o "ports=25:1/4 465:5/50 587:5/50")
cmd "mxguard run -i mxa0 -i mxl0 --log maillog --log dovecot.log ${POLICY[*]}"
if ! mx_daemon_start "${POLICY[@]}"; then
	echo "${RED}demo: mxguard did not start:${N}" >&2
	tail -n 10 "$MX_DAEMON_LOG" >&2
	exit 1
fi
grep -E "attached|following|running" "$MX_DAEMON_LOG" | indent
cmd "ip link show mxa0"
nsenter --net="/run/netns/$NS_MX" ip link show mxa0 | grep -o "prog/xdp id [0-9]* name [a-z_]*" | indent

say "meanwhile alice keeps sending mail (authenticated, every ~0.3 s, over IPv4 and IPv6)"
SENT=$MX_D/log/sender.out
STOP=$MX_D/sender.stop
mx_sender_start "$SENT" "$STOP"

act "3. An attacker guesses alice's password"
ml=$(lines "$MX_LOG")
dl=$(lines "$MX_DAEMON_LOG")
for i in 1 2 3; do guess $ATK1 587 LOGIN $i; done
wait_for 5 mx_banned $ATK1/32
say "what Postfix logged, and what mxguard made of it:"
logs_since "$MX_LOG" "$ml" "SASL.*failed" | indent
bans_since "$dl"
cmd "mxguard list"
"$MXG" list --pin-dir "$MX_PIN" | indent

act "4. The attacker comes back: its SYN is dropped at the NIC"
d0=$(mx_stat denied)
ml=$(lines "$MX_LOG")
cmd "swaks --server $MX4 --port 587 --local-interface $ATK1 --auth LOGIN --au alice --ap guess4 --timeout 3"
t=$SECONDS
mx_auth_fail $ATK1 587 3
grep -E '^\*\*\*' "$MX_SWAKS_OUT" | head -n 2 | sed "s/^/${RED}/; s/\$/${N}/" | indent
say "(gave up after $((SECONDS - t)) s; Postfix logged $(logs_since "$MX_LOG" "$ml" "\[$ATK1\]" | wc -l) new lines from $ATK1)"
say "XDP 'denied' counter: $d0 -> $(mx_stat denied)"

act "5. A neighbour in the same /24 joins in: the whole /24 is banned"
dl=$(lines "$MX_DAEMON_LOG")
for i in 1 2 3; do
	mx_banned 198.18.1.0/24 && break
	guess $ATK2 587 LOGIN $i
	wait_for 1 mx_banned 198.18.1.0/24
done
wait_for 5 mx_banned 198.18.1.0/24
bans_since "$dl"
say "connections to :587 that get through from"
reach "$ATK3 (never tried anything, same /24):" "$NS_ATK" $ATK3
reach "$OK4 (alice):" "$NS_OK" $OK4

act "6. The same over IPv6, aggregated to the /64"
dl=$(lines "$MX_DAEMON_LOG")
for a in $ATK6_1 $ATK6_2; do
	for i in 1 2 3; do
		mx_banned 2001:db8:1::/64 && break
		mx_auth_fail $a 587 2
		wait_for 1 mx_banned "$a/128" && break
	done
	say "$a tried until banned"
done
wait_for 5 mx_banned 2001:db8:1::/64
bans_since "$dl"
say "connections to :587 that get through from"
reach "$ATK6_3 (never tried anything, same /64):" "$NS_ATK" $ATK6_3
reach "$OK6 (alice):" "$NS_OK" $OK6

act "7. Not only Postfix: Dovecot's own submission server (port 465)"
dl=$(lines "$MX_DAEMON_LOG")
xl=$(lines "$MX_DLOG")
for i in 1 2 3; do guess $SUBM 465 PLAIN $i; done
wait_for 5 mx_banned $SUBM/32
logs_since "$MX_DLOG" "$xl" "auth failed" | head -n 1 | indent
bans_since "$dl"

act "8. A connection flood on port 25 (limit: 1/s, burst 4, per /24)"
rl0=$(mx_stat rate_limited)
fast=$(mx_conn "$NS_ATK" $FLOOD 25 16 0 0.2)
say "$(printf '%-52s %2s got through' "$FLOOD opens 16 connections as fast as it can:" "$fast")"
slow=$(mx_conn "$NS_OK" $OK4 25 6 1 1)
say "$(printf '%-52s %2s got through' "$OK4 (alice) opens 6, one a second:" "$slow")"
say "XDP 'rate_limited' counter: $rl0 -> $(mx_stat rate_limited)"

act "9. kill -9 the daemon: the bans stay in the kernel"
exp0=$(mx_ban_field 198.18.1.0/24 expires_in_s)
cmd "kill -9 $MX_DAEMON_PID"
mx_daemon_kill KILL
say "attacker $ATK1 without a daemon: $(mx_conn "$NS_ATK" $ATK1 587 1 0 1) of 1 connections get through"
mx_daemon_start "${POLICY[@]}" || { tail -n 5 "$MX_DAEMON_LOG"; exit 1; }
say "daemon restarted; the /24 ban expires in ${exp0}s before and $(mx_ban_field 198.18.1.0/24 expires_in_s)s after: adopted, not renewed"
cmd "mxguard list"
"$MXG" list --pin-dir "$MX_PIN" | indent

act "10. Meanwhile, alice's mail"
mx_sender_stop
ok=$(grep -c '^ok ' "$SENT")
bad=$(grep -c '^fail ' "$SENT")
want=$((ok + 1))
all_in() { [ "$(mx_delivered)" -ge "$want" ]; }
wait_for 20 all_in
say "sent $want messages ($bad refused), $(mx_delivered) in bob's Maildir"
cmd "mxguard stats"
"$MXG" stats --pin-dir "$MX_PIN" | indent

act "11. Tearing down"
say "Postfix, Dovecot and mxguard stopped; namespaces, pins and $MX_D removed."
