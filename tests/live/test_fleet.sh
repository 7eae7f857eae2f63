#!/bin/bash
# Fleet mode: three mxguard daemons, each in its own network namespace with
# its own pin dir, state dir, veth and XDP, share bans and failure counts
# through one real redis-server (then a master, a replica and Sentinel).
#
#   att (198.18.9.9 on lo) --veth-- A/B/C mx0 (198.18.1{1,2,3}.1), XDP here
#   A/B/C rd0 (198.18.2{1,2,3}.1) --veth-- rd (Redis on 198.18.100.1)
#
# Each host follows its own mail log; the attacker's failures are lines in
# them, its SYNs real packets from att to each host's port 25.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

W=$(mktemp -d /tmp/mxg-fleet.XXXXXX)
on_exit "rm -rf $W"
ATT=${TID}at
RD=${TID}rd
FLEET=t$$
HOSTS="a b c"
declare -A IDX=([a]=1 [b]=2 [c]=3) PID=()
CONNECT="python3 tests/lib/tcpconnect.py"
RCLI="redis-cli -h 198.18.100.1 --no-auth-warning"

netns "$ATT"
netns "$RD"
ip -n "$ATT" addr add 198.18.9.9/32 dev lo
ip -n "$RD" addr add 198.18.100.1/32 dev lo
echo "fl33t-pass" >"$W/pass"
chmod 600 "$W/pass"
for h in $HOSTS; do
	i=${IDX[$h]}
	ns=${TID}$h
	netns "$ns"
	veth "$ns" mx0 "$ATT" at$h
	veth "$ns" rd0 "$RD" rd$h
	ip -n "$ns" addr add 198.18.1$i.1/24 dev mx0
	ip -n "$ATT" addr add 198.18.1$i.2/24 dev at$h
	ip -n "$ns" route add 198.18.9.0/24 via 198.18.1$i.2
	ip -n "$ns" addr add 198.18.2$i.1/24 dev rd0
	ip -n "$RD" addr add 198.18.2$i.2/24 dev rd$h
	ip -n "$ns" route add 198.18.100.1/32 via 198.18.2$i.2
	nsenter --net="/run/netns/$ns" python3 tests/lib/tcpserve.py --for 900 25 >/dev/null 2>&1 &
	on_exit "kill $!"
	mkdir -m 700 "$W/state-$h"
	: >"$W/$h.log"
	on_exit "$MXG detach --pin-dir /sys/fs/bpf/${TID}_$h; rm -rf /sys/fs/bpf/${TID}_$h"
	# B allows 198.18.77.0/24: a peer's ban of it must not reach B's map.
	cat >"$W/$h.conf" <<CONF
[xdp]
$([ $h = b ] && echo "allow = 198.18.77.0/24")
[policy]
maxretry = 5
findtime = 10m
[logs]
log = $W/$h.log
[daemon]
metrics = off
[fleet]
redis = 198.18.100.1:6379
user = fleet
password_file = $W/pass
name = $FLEET
host_id = $h
CONF
done

# redis_up PORT [ARGS]: a redis-server in $RD, AOF on, until the test ends.
redis_up() {
	local port=$1
	shift
	mkdir -p "$W/r$port"
	# nsenter itself (not in_ns, a function: $! would be a subshell).
	nsenter --net="/run/netns/$RD" redis-server --bind 198.18.100.1 --port "$port" --dir "$W/r$port" \
		--appendonly yes --appendfsync always --save "" --daemonize no \
		--logfile "$W/r$port/log" "$@" &
	RPID[$port]=$!
	on_exit "kill -9 ${RPID[$port]}"
	wait_for 10 eval "in_ns $RD $RCLI -p $port $RAUTH PING >/dev/null"
}
declare -A RPID=()
# The fleet's Redis takes only the ACL user "fleet", on mxg:* keys.
printf 'user default off\nuser fleet on >fl33t-pass ~mxg:* +@all\n' >"$W/users.acl"
ACL=(--aclfile "$W/users.acl")
RAUTH="--user fleet --pass fl33t-pass"

# daemon_up H [ARGS]: mxguard in H's namespace, until it runs.
daemon_up() {
	local h=$1 n
	shift
	touch "$W/$h.out"
	n=$(grep -c "running:" "$W/$h.out")
	nsenter --net="/run/netns/${TID}$h" "$MXG" run -c "$W/$h.conf" -i mx0 \
		--pin-dir "/sys/fs/bpf/${TID}_$h" --state-dir "$W/state-$h" "$@" \
		>>"$W/$h.out" 2>&1 &
	PID[$h]=$!
	on_exit "kill -9 ${PID[$h]}"
	started() { [ "$(grep -c "running:" "$W/$h.out")" -gt "$n" ]; }
	wait_for 10 started || { echo "daemon $h did not start: $(tail -5 "$W/$h.out")"; return 1; }
}

daemon_stop() {
	kill "${PID[$1]}" 2>/dev/null
	wait_for 10 eval '! kill -0 '"${PID[$1]}" || kill -9 "${PID[$1]}"
	wait "${PID[$1]}" 2>/dev/null
}

# fail_auth H ADDR N: N Postfix AUTH failures from ADDR in H's log.
fail_auth() {
	local i
	for ((i = 0; i < $3; i++)); do
		echo "$(date '+%b %e %T') mx$1 postfix/submission/smtpd[1234]: warning: unknown[$2]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice" >>"$W/$1.log"
	done
}

banned_on() { "$MXG" list --json --pin-dir "/sys/fs/bpf/${TID}_$1" 2>/dev/null | grep -q "\"cidr\":\"$2\""; }
banned_all() { local h; for h in $HOSTS; do banned_on $h "$1" || return 1; done; }
unbanned_all() { local h; for h in $HOSTS; do ! banned_on $h "$1" || return 1; done; }
# syn_ok H: does the attacker's connection to H's port 25 get through?
syn_ok() { [ "$(in_ns "$ATT" $CONNECT --src 198.18.9.9 --timeout 0.5 198.18.1${IDX[$1]}.1 25)" = 1 ]; }
fstat() { "$MXG" fleet status --json --state-dir "$W/state-$1" 2>/dev/null | python3 -c "
import json,sys; d=json.load(sys.stdin); k='$2'.split('.'); v=d
for x in k: v=v[x]
print(v)"; }

redis_up 6379 "${ACL[@]}" || fail redis_starts "$(tail -3 "$W/r6379/log")"
for h in $HOSTS; do daemon_up $h; done

# --- a ban on A drops the attacker's SYNs at B and C -------------------------
if syn_ok b && syn_ok c; then
	fail_auth a 198.18.9.9 5
	if wait_for 10 banned_all 198.18.9.9/32 && ! syn_ok b && ! syn_ok c && ! syn_ok a; then
		pass ban_on_a_drops_the_attackers_syns_at_b_and_c
	else
		fail ban_on_a_drops_the_attackers_syns_at_b_and_c "$(for h in $HOSTS; do tail -2 "$W/$h.out"; done)"
	fi
else
	fail ban_on_a_drops_the_attackers_syns_at_b_and_c "the attacker could not connect before any ban"
fi
if "$MXG" list --pin-dir "/sys/fs/bpf/${TID}_b" | grep 198.18.9.9/32 | grep -q '@a'; then
	pass peer_ban_is_noted_with_its_origin
else
	fail peer_ban_is_noted_with_its_origin "$("$MXG" list --pin-dir "/sys/fs/bpf/${TID}_b")"
fi

# --- unban propagates ---------------------------------------------------------
"$MXG" unban 198.18.9.9 --pin-dir "/sys/fs/bpf/${TID}_a" >/dev/null
# A notices an unban by hand within its reconcile period (10 s).
if wait_for 30 unbanned_all 198.18.9.9/32 && syn_ok b && syn_ok c; then
	pass unban_on_a_propagates_and_the_attacker_connects_again
else
	fail unban_on_a_propagates_and_the_attacker_connects_again "$(tail -3 "$W/a.out")"
fi

# --- a ban and an unban made with the CLI on B reach A and C -------------------
"$MXG" ban 198.18.89.0/24 --for 1h --reason "by hand" --pin-dir "/sys/fs/bpf/${TID}_b" >/dev/null
if wait_for 10 banned_all 198.18.89.0/24; then
	"$MXG" unban 198.18.89.0/24 --pin-dir "/sys/fs/bpf/${TID}_b" >/dev/null
	if wait_for 10 unbanned_all 198.18.89.0/24; then
		pass cli_ban_and_unban_on_b_reach_a_and_c
	else
		fail cli_ban_and_unban_on_b_reach_a_and_c "the unban did not propagate"
	fi
else
	fail cli_ban_and_unban_on_b_reach_a_and_c "the ban did not propagate: $(tail -3 "$W/b.out")"
fi

# --- C stopped during a ban catches up on start ----------------------------
daemon_stop c
fail_auth a 198.18.81.1 5
wait_for 10 banned_on b 198.18.81.1/32
daemon_up c
if wait_for 10 banned_on c 198.18.81.1/32; then
	pass stopped_host_catches_up_on_start
else
	fail stopped_host_catches_up_on_start "$(tail -5 "$W/c.out")"
fi

# --- Redis killed and restarted mid-run loses no event -------------------------
kill -9 "${RPID[6379]}"
wait "${RPID[6379]}" 2>/dev/null
wait_for 5 eval "! in_ns $RD $RCLI -p 6379 $RAUTH PING >/dev/null 2>&1"
for n in 2 3 4; do fail_auth a 198.18.8$n.1 5; done
wait_for 10 banned_on a 198.18.84.1/32
queued_3() { [ "$(fstat a queued)" -ge 3 ]; }
wait_for 5 queued_3
queued=$(fstat a queued)
redis_up 6379 "${ACL[@]}"
ok=1
for n in 2 3 4; do wait_for 15 banned_all 198.18.8$n.1/32 || ok=0; done
if [ $ok = 1 ] && banned_all 198.18.81.1/32 && [ "$(fstat a dropped)" = 0 ]; then
	pass redis_killed_and_restarted_loses_no_event
else
	fail redis_killed_and_restarted_loses_no_event "queued while down: $queued; $(tail -3 "$W/b.out"; cat "$W/state-a/fleet.status")"
fi
if [ "${queued:-0}" -ge 3 ]; then
	pass events_made_while_redis_is_down_are_queued
else
	fail events_made_while_redis_is_down_are_queued "queued: $queued"
fi

# --- a slow attacker spreading 2 failures over each of 3 hosts --------------
for h in $HOSTS; do fail_auth $h 198.18.85.1 2; sleep 0.3; done
if wait_for 10 banned_all 198.18.85.1/32; then
	pass slow_attacker_spread_over_three_hosts_is_banned_on_all
else
	fail slow_attacker_spread_over_three_hosts_is_banned_on_all "$(grep -h "198.18.85.1" "$W"/*.out | tail -3)"
fi
# No host saw maxretry: each has its own count of 2.
if ! grep -q "banned 198.18.85.1/32 for .*AUTH failures via" "$W"/*.out; then
	pass slow_attacker_was_not_banned_by_any_local_count
else
	fail slow_attacker_was_not_banned_by_any_local_count
fi

# --- a peer publishing what B must refuse ------------------------------------
exp=$(( $(date +%s) * 1000 + 3600000 ))
evil() {
	in_ns "$RD" $RCLI --user fleet --pass fl33t-pass XADD "mxg:$FLEET:events" '*' \
		v 1 op ban cidr "$1" expires "$exp" reason log count 1 origin evil evidence "$2" >/dev/null
}
ref0=$(fstat b refused.too_wide)
pro0=$(fstat b refused.protected)
evil 0.0.0.0/0 everything
evil 10.0.0.0/8 "a slash 8"
evil 198.18.77.5/32 "in B's allowlist"
evil 198.18.86.99/32 "a fine ban after them"
wait_for 10 banned_on b 198.18.86.99/32
counted() { [ "$(fstat b refused.too_wide)" -ge $((ref0 + 2)) ] && [ "$(fstat b refused.protected)" -ge $((pro0 + 1)) ]; }
wait_for 5 counted
if ! banned_on b 0.0.0.0/0 && ! banned_on b 10.0.0.0/8 && ! banned_on b 198.18.77.5/32 &&
	[ "$(fstat b refused.too_wide)" -ge $((ref0 + 2)) ] &&
	[ "$(fstat b refused.protected)" -ge $((pro0 + 1)) ] &&
	grep -q "refused a ban from evil: too_wide: 0.0.0.0/0" "$W/b.out" &&
	grep -q "refused a ban from evil: protected: 198.18.77.5/32 overlaps allow" "$W/b.out"; then
	pass peer_ban_of_everything_a_slash_8_and_b_allowlist_is_refused_counted_logged
else
	fail peer_ban_of_everything_a_slash_8_and_b_allowlist_is_refused_counted_logged \
		"$(grep refused "$W/b.out" | tail -3)"
fi
# A has no such allowlist: the refusal was B's own rule.
if wait_for 5 banned_on a 198.18.77.5/32 && ! banned_on a 10.0.0.0/8; then
	pass allowlist_refusal_is_the_receivers_own_rule
else
	fail allowlist_refusal_is_the_receivers_own_rule
fi
in_ns "$RD" $RCLI --user fleet --pass fl33t-pass XADD "mxg:$FLEET:events" '*' \
	v 1 op ban cidr 198.18.86.98/32 expires "$exp" reason log count 1 origin evil \
	evidence x allow 0.0.0.0/0 >/dev/null
in_ns "$RD" $RCLI --user fleet --pass fl33t-pass XADD "mxg:$FLEET:events" '*' \
	v 1 op ban cidr 198.18.86.97/32 expires 1000 reason log count 1 origin evil evidence x >/dev/null
expired_counted() { [ "$(fstat b refused.expired)" -ge 1 ] && [ "$(fstat b refused.bad_format)" -ge 1 ]; }
wait_for 5 expired_counted
if ! banned_on b 198.18.86.98/32 && ! banned_on b 198.18.86.97/32 &&
	grep -q 'unknown field "allow"' "$W/b.out" && [ "$(fstat b refused.expired)" -ge 1 ]; then
	pass peer_event_with_unknown_field_or_past_expiry_is_refused
else
	fail peer_event_with_unknown_field_or_past_expiry_is_refused "$(grep refused "$W/b.out" | tail -3)"
fi

# --- fleet status and status show it ------------------------------------------
out=$("$MXG" fleet status --state-dir "$W/state-b")
if echo "$out" | grep -q "connected" && echo "$out" | grep -qE '^a +[0-9.]+s ago' &&
	echo "$out" | grep -qE '^evil ' &&
	"$MXG" status --pin-dir "/sys/fs/bpf/${TID}_b" --state-dir "$W/state-b" | grep -q "^fleet: .*connected" &&
	"$MXG" status --json --pin-dir "/sys/fs/bpf/${TID}_b" --state-dir "$W/state-b" |
	python3 -c 'import json,sys; f=json.load(sys.stdin)["fleet"]; sys.exit(not (f["connected"] and f["host"] == "b" and f["peers"] >= 1))'; then
	pass fleet_status_shows_peers_lag_and_counts
else
	fail fleet_status_shows_peers_lag_and_counts "$out"
fi

# --- config errors -----------------------------------------------------------
printf '[fleet]\nredis = 198.18.100.1\n' >"$W/bad.conf"
out=$("$MXG" check-config -c "$W/bad.conf" 2>&1)
if [ $? = 2 ] && echo "$out" | grep -q "bad.conf:2: redis: "; then
	pass bad_fleet_redis_address_is_a_config_error_with_file_and_line
else
	fail bad_fleet_redis_address_is_a_config_error_with_file_and_line "$out"
fi
printf '[fleet]\nhost_id = mx 1\n' >"$W/bad.conf"
out=$("$MXG" check-config -c "$W/bad.conf" 2>&1)
[ $? = 2 ] && echo "$out" | grep -q "bad.conf:2: host_id: " &&
	pass bad_fleet_host_id_is_a_config_error || fail bad_fleet_host_id_is_a_config_error "$out"

# --- Sentinel: after a failover the fleet keeps publishing and applying -------
for h in $HOSTS; do daemon_stop $h; done
RAUTH=
# No 5 s wait before the first (diskless) sync: the replica is in sync
# before anything is banned, as a replica of a running fleet would be.
redis_up 6381 --protected-mode no --repl-diskless-sync-delay 0
redis_up 6382 --protected-mode no --replicaof 198.18.100.1 6381
in_sync() { in_ns "$RD" $RCLI -p 6382 INFO replication | grep -q "master_link_status:up"; }
wait_for 10 in_sync || echo "  (the replica is not in sync after 10 s)"
mkdir -p "$W/sent"
cat >"$W/sent/sentinel.conf" <<CONF
bind 198.18.100.1
port 26379
protected-mode no
dir $W/sent
sentinel monitor $FLEET 198.18.100.1 6381 1
sentinel down-after-milliseconds $FLEET 1000
sentinel failover-timeout $FLEET 5000
CONF
nsenter --net="/run/netns/$RD" redis-sentinel "$W/sent/sentinel.conf" --logfile "$W/sent/log" &
SPID=$!
on_exit "kill -9 $SPID"
wait_for 10 eval "in_ns $RD $RCLI -p 26379 SENTINEL get-master-addr-by-name $FLEET >/dev/null"
for h in $HOSTS; do
	daemon_up $h -o fleet.redis= -o fleet.sentinel=198.18.100.1:26379 -o fleet.master="$FLEET" \
		-o fleet.user= -o fleet.password_file= -o fleet.name="${FLEET}s"
done
fail_auth a 198.18.87.1 5
wait_for 10 banned_all 198.18.87.1/32
# Let the replica have it, then take the master away.
key87="mxg:${FLEET}s:ban:198.18.87.1/32"
on_replica() { [ "$(in_ns "$RD" $RCLI -p 6382 EXISTS "$key87")" = 1 ]; }
wait_for 5 on_replica || echo "  (before the failover: the replica lacks $key87: $(in_ns "$RD" $RCLI -p 6381 EXISTS "$key87") on the master)"
kill -9 "${RPID[6381]}"
wait "${RPID[6381]}" 2>/dev/null
promoted() { in_ns "$RD" $RCLI -p 26379 SENTINEL get-master-addr-by-name "$FLEET" | grep -q 6382; }
if wait_for 30 promoted; then
	fail_auth a 198.18.88.1 5
	if wait_for 20 banned_all 198.18.88.1/32 && banned_all 198.18.87.1/32 &&
		[ "$(in_ns "$RD" $RCLI -p 6382 EXISTS "mxg:${FLEET}s:ban:198.18.87.1/32")" = 1 ]; then
		pass after_sentinel_failover_fleet_publishes_applies_and_loses_no_ban
	else
		fail after_sentinel_failover_fleet_publishes_applies_and_loses_no_ban \
			"$(for h in $HOSTS; do echo "$h: $(banned_on $h 198.18.87.1/32 && echo has-87) $(banned_on $h 198.18.88.1/32 && echo has-88)"; tail -4 "$W/$h.out"; done;
			in_ns "$RD" $RCLI -p 6382 --scan --pattern "mxg:${FLEET}s:ban:*"; in_ns "$RD" $RCLI -p 6382 PTTL "$key87")"
	fi
else
	fail after_sentinel_failover_fleet_publishes_applies_and_loses_no_ban "no failover: $(tail -3 "$W/sent/log")"
fi
# A new host joining after the failover loads the whole set in one pass.
daemon_stop c
rm -f "$W/state-c/fleet.id"
daemon_up c -o fleet.redis= -o fleet.sentinel=198.18.100.1:26379 -o fleet.master="$FLEET" \
	-o fleet.user= -o fleet.password_file= -o fleet.name="${FLEET}s"
if grep -q "loaded [1-9][0-9]* current bans from Redis" "$W/c.out"; then
	pass new_host_loads_the_current_ban_set
else
	fail new_host_loads_the_current_ban_set "$(grep -i fleet "$W/c.out" | tail -3)"
fi
for h in $HOSTS; do daemon_stop $h; done
summary
