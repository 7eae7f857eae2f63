#!/bin/bash
# Reload driven by the config table: what the table marks live takes effect
# in the running daemon (custom patterns are recompiled), and every changed
# key the table marks restart-only is named in the daemon's log with the
# value still in force. The daemon runs in a namespace made here.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

NS=${TID}r
PIN=/sys/fs/bpf/$TID
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
MAIL=$DIR/mail.log
LOG=$DIR/daemon.log
CONF=$DIR/mxguard.conf
: >"$MAIL"
: >"$LOG"

netns "$NS"
ip link add rl0 netns "$NS" type veth peer name rl1 netns "$NS"
ip -n "$NS" link set rl0 up
ip -n "$NS" link set rl1 up

write_conf() { # write_conf PATTERN METRICS DETACH
	cat >"$CONF" <<EOF
[xdp]
detach_on_exit = $3

[policy]
maxretry = 2
range_hosts = 64

[logs]
log = $MAIL
pattern = $1

[daemon]
metrics = $2
EOF
}

daemon_pid=
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
write_conf 'appone: bad login from <HOST>$' off no
nsenter --net="/run/netns/$NS" "$MXG" run -c "$CONF" -i rl0 --pin-dir "$PIN" \
	--state-dir "$DIR/state" >>"$LOG" 2>&1 &
daemon_pid=$!
running() { grep -q "running:" "$LOG"; }
wait_for 10 running || fail daemon_starts "$(tail -5 "$LOG")"

in_denylist() { "$MXG" list --json --pin-dir "$PIN" | grep -q "\"cidr\":\"$1\""; }
line() { # line PROGRAM ADDR: one failure as PROGRAM logs it
	echo "$(date '+%b %e %T') mx $1[42]: bad login from $2" >>"$MAIL"
}
reloads() { grep -c "reloaded the config" "$LOG"; }
reload_and_wait() {
	local n
	n=$(reloads)
	"$MXG" reload --pin-dir "$PIN" >/dev/null
	reloaded() { [ "$(reloads)" -gt "$n" ] || grep -q "reload refused" "$LOG"; }
	wait_for 5 reloaded
}

# The pattern in force before the reload bans.
line appone 198.18.90.1
line appone 198.18.90.1
wait_for 5 in_denylist 198.18.90.1/32 && pass pattern_from_the_start_bans ||
	fail pattern_from_the_start_bans "$(tail -3 "$LOG")"

# A changed pattern is recompiled: the new program's lines ban, the old one's do not.
write_conf 'apptwo: bad login from <HOST>$' 127.0.0.1:1 no
reload_and_wait
line appone 198.18.90.3
line appone 198.18.90.3
line apptwo 198.18.90.2
line apptwo 198.18.90.2
if wait_for 5 in_denylist 198.18.90.2/32; then
	pass reload_recompiles_a_changed_pattern
else
	fail reload_recompiles_a_changed_pattern "$(tail -3 "$LOG")"
fi
# The lines of 198.18.90.3 came first: they were read when .2 was banned.
in_denylist 198.18.90.3/32 && fail reload_drops_a_removed_pattern ||
	pass reload_drops_a_removed_pattern

# A restart-only key is named, with the value still in force.
if grep -q "metrics changed: needs a restart (still using off)" "$LOG"; then
	pass reload_names_a_changed_restart_only_key
else
	fail reload_names_a_changed_restart_only_key "$(tail -5 "$LOG")"
fi

# A bad pattern refuses the whole reload: the old pattern stays in force.
write_conf 'appthree: bad login from <HOST> (' 127.0.0.1:1 no
reload_and_wait
line apptwo 198.18.90.4
line apptwo 198.18.90.4
if grep -q "reload refused" "$LOG" && wait_for 5 in_denylist 198.18.90.4/32; then
	pass reload_with_a_bad_pattern_keeps_the_old_patterns
else
	fail reload_with_a_bad_pattern_keeps_the_old_patterns "$(tail -3 "$LOG")"
fi

# detach_on_exit is applied live: turned on by a reload, the daemon
# removes its pins when it stops.
write_conf 'apptwo: bad login from <HOST>$' off yes
reload_and_wait
kill -TERM "$daemon_pid"
gone() { ! kill -0 "$daemon_pid" 2>/dev/null; }
wait_for 10 gone
if [ ! -e "$PIN/deny_v4" ] && grep -q "detach_on_exit: no -> yes" "$LOG"; then
	pass reload_applies_detach_on_exit_and_says_so
else
	fail reload_applies_detach_on_exit_and_says_so "$(ls "$PIN" 2>&1 | head -3); $(tail -3 "$LOG")"
fi

summary
