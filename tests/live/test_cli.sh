#!/bin/bash
# The operator commands with good and bad input, on a daemon of the test's
# own (veth in a namespace made here, its own pin dir and state dir).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
ensure_bpffs

SRV=${TID}s
CLI=${TID}c
PIN=/sys/fs/bpf/$TID
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
LOG=$DIR/daemon.log
CONF=$DIR/mxguard.conf
: >"$LOG"

netns "$SRV"
netns "$CLI"
veth "$SRV" mx0 "$CLI" cl0
ip -n "$SRV" addr add 198.18.40.1/24 dev mx0
ip -n "$CLI" addr add 198.18.40.2/24 dev cl0
ip -n "$CLI" addr add 198.18.41.2/24 dev cl0
ip -n "$SRV" addr add 198.18.41.1/24 dev mx0

nsenter --net="/run/netns/$SRV" python3 tests/lib/tcpserve.py --for 300 25 587 &
on_exit "kill $!"

cat >"$CONF" <<EOF
[xdp]
ports = 25:50/500 587:3/3
EOF

daemon_pid=
start_daemon() {
	local n
	n=$(grep -c "running:" "$LOG")
	nsenter --net="/run/netns/$SRV" "$MXG" run -c "$CONF" -i mx0 --pin-dir "$PIN" \
		--state-dir "$DIR/state" "$@" >>"$LOG" 2>&1 &
	daemon_pid=$!
	started() { [ "$(grep -c "running:" "$LOG")" -gt "$n" ]; }
	wait_for 10 started || fail daemon_starts "$(tail -5 "$LOG")"
}
on_exit "kill -9 \$daemon_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
conn() { # conn SRC DST PORT [COUNT]
	nsenter --net="/run/netns/$CLI" python3 tests/lib/tcpconnect.py --src "$1" \
		--timeout 0.4 --count "${4:-1}" "$2" "$3"
}
listener_up() { [ "$(conn 198.18.41.2 198.18.41.1 25)" = 1 ]; }
wait_for 10 listener_up || fail listeners_up

# expect_exit NAME STATUS PATTERN CMD...: exit status and a message matching PATTERN
expect_exit() {
	local name=$1 want=$2 pat=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && echo "$out" | grep -qE -- "$pat"; then
		pass "$name"
	else
		fail "$name" "exit $rc (want $want): $out"
	fi
}

# One option table per command: -h is made from it, and a bad option gets
# one message naming the command and the option as given, exit 2.
cmds=$("$MXG" --help | sed -nE 's/^  ([a-z-]+) .*/\1/p')
bad_help= bad_opt=
for c in $cmds; do
	out=$("$MXG" "$c" -h 2>&1)
	rc=$?
	if [ $rc != 0 ] || [ "$(echo "$out" | head -1 | cut -d' ' -f1-3)" != "usage: mxguard $c" ] ||
		! echo "$out" | grep -q '^Options:$' || ! echo "$out" | grep -q '^  -h, --help ' ||
		! echo "$out" | grep -q '^  -p, --pin-dir DIR '; then
		bad_help="$bad_help $c(rc=$rc)"
	fi
	out=$("$MXG" "$c" --no-such-option 2>&1)
	rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "^mxguard $c: unknown option \"--no-such-option\"" ||
		bad_opt="$bad_opt $c(rc=$rc: $out)"
done
[ "$(echo $cmds | wc -w)" -ge 17 ] && [ -z "$bad_help" ] &&
	pass every_command_has_help_made_from_its_option_table ||
	fail every_command_has_help_made_from_its_option_table "$(echo $cmds | wc -w) commands; bad:$bad_help"
[ "$(echo $cmds | wc -w)" -ge 17 ] && [ -z "$bad_opt" ] &&
	pass every_command_refuses_an_unknown_option_with_exit_2_naming_it ||
	fail every_command_refuses_an_unknown_option_with_exit_2_naming_it "$bad_opt"
# mxguard(8) names every option of every command's table in its section
# (long or short form), so the tables and the manual do not drift apart.
missing=
for c in $cmds; do
	sec=$(sed 's/\\-/-/g' man/mxguard.8 | awk -v c="$c" '$0 == ".SS " c { on = 1; next } /^\.S[SH] / { on = 0 } on')
	while read -r long short; do
		case $long in pin-dir | help) continue ;; esac
		echo "$sec" | grep -qE -- "--$long\b" && continue
		[ -n "$short" ] && echo "$sec" | grep -qE -- "(^|[^a-z-])$short\b" && continue
		missing="$missing $c:--$long"
	done < <("$MXG" "$c" -h | sed -nE 's/^  (-.)?,? *--([a-z-]+).*/\2 \1/p')
done
[ -n "$cmds" ] && [ -z "$missing" ] && pass man_mxguard_8_names_every_option_of_every_command ||
	fail man_mxguard_8_names_every_option_of_every_command "missing:$missing"
expect_exit a_mistyped_option_gets_a_suggestion 2 'mxguard ban: unknown option "--forr" \(did you mean --for\?\)' \
	"$MXG" ban 198.18.0.0/24 --forr 1h --pin-dir "$PIN"
expect_exit an_option_without_its_argument_is_named 2 'mxguard top: option "--interval" needs an argument' \
	"$MXG" top --pin-dir "$PIN" --interval

start_daemon
P="--pin-dir $PIN"

expect_exit ban_refuses_bad_address 2 '300\.1\.2\.3' "$MXG" ban 300.1.2.3 $P
expect_exit ban_refuses_host_bits_and_suggests_the_network 2 'did you mean 198\.18\.0\.0/24' "$MXG" ban 198.18.0.7/24 $P
expect_exit ban_refuses_bad_prefix_length 2 '198\.18\.0\.0/33' "$MXG" ban 198.18.0.0/33 $P
expect_exit ban_refuses_bad_duration 2 'forever' "$MXG" ban 198.18.0.0/24 --for forever $P
expect_exit unknown_option_exits_2 2 'unrecognized option|unknown option' "$MXG" list --bogus $P
expect_exit unknown_command_exits_2 2 'unknown command' "$MXG" frobnicate
expect_exit commands_without_maps_say_where_they_looked 1 "$DIR/nopins" "$MXG" list --pin-dir "$DIR/nopins"
expect_exit unban_of_unknown_range_exits_1 1 'not in the denylist' "$MXG" unban 198.18.99.0/24 $P

expect_exit ban_with_reason_is_listed 0 'banned 198\.18\.50\.0/24 for 2h' "$MXG" ban 198.18.50.0/24 --for 2h --reason "test note" $P
if "$MXG" list --json $P | grep '"198.18.50.0/24"' | grep -q '"note":"test note"'; then
	pass list_json_shows_reason_note
else
	fail list_json_shows_reason_note "$("$MXG" list --json $P)"
fi
expect_exit permanent_ban_is_not_shortened 0 'already banned' \
	sh -c "$MXG ban 198.18.51.0/24 $P >/dev/null && $MXG ban 198.18.51.0/24 --for 1m $P"

# Notes are one line of the state file: control characters are refused.
expect_exit ban_refuses_a_reason_with_a_newline 2 'control character' \
	"$MXG" ban 198.18.52.0/24 --reason "$(printf 'two\nlines')" $P
expect_exit ban_refuses_a_reason_with_a_tab 2 'control character' \
	"$MXG" ban 198.18.52.0/24 --reason "$(printf 'a\tb')" $P
"$MXG" list --json $P | grep -q '"198.18.52.0/24"' && fail refused_reason_bans_nothing ||
	pass refused_reason_bans_nothing

# Durations: now + 18446744073s wraps the 64-bit clock; 300 years made
# list --json print a negative expires_in_s.
expect_exit ban_for_overflowing_duration_is_refused 2 'longest ban.*36500d' \
	"$MXG" ban 198.18.53.0/24 --for 18446744073s $P
expect_exit ban_for_300_years_is_refused 2 'longest ban.*36500d' \
	"$MXG" ban 198.18.53.0/24 --for 15643w $P
"$MXG" list --json $P | grep -q '"198.18.53.0/24"' && fail refused_duration_bans_nothing ||
	pass refused_duration_bans_nothing
"$MXG" ban 198.18.55.0/24 --for 365d $P >/dev/null
left=$("$MXG" list --json $P | grep '"198.18.55.0/24"' | sed -nE 's/.*"expires_in_s":(-?[0-9]+).*/\1/p')
if [ "${left:-0}" -gt $((365 * 86400 - 60)) ] && [ "${left:-0}" -le $((365 * 86400)) ]; then
	pass list_json_shows_positive_expiry_for_a_one_year_ban
else
	fail list_json_shows_positive_expiry_for_a_one_year_ban "expires_in_s=$left"
fi
expect_exit ban_for_the_longest_ban_is_accepted 0 'banned 198\.18\.56\.0/24' \
	"$MXG" ban 198.18.56.0/24 --for 36500d $P
left=$("$MXG" list --json $P | grep '"198.18.56.0/24"' | sed -nE 's/.*"expires_in_s":(-?[0-9]+).*/\1/p')
[ "${left:-0}" -gt $((36500 * 86400 - 60)) ] && pass list_json_shows_the_longest_ban_positive ||
	fail list_json_shows_the_longest_ban_positive "expires_in_s=$left"

# Everything: 0.0.0.0/0 and ::/0 need --force.
expect_exit ban_everything_needs_force 2 'would drop SMTP from every IPv4 address.*--force' \
	"$MXG" ban 0.0.0.0/0 --for 1m $P
expect_exit ban_every_ipv6_address_needs_force 2 'every IPv6 address.*--force' \
	"$MXG" ban ::/0 --for 1m $P
"$MXG" list --json $P | grep -qE '"(0\.0\.0\.0|::)/0"' && fail refused_ban_of_everything_bans_nothing ||
	pass refused_ban_of_everything_bans_nothing
expect_exit ban_everything_with_force_is_done 0 'banned ::/0' "$MXG" ban ::/0 --for 1m --force $P
"$MXG" unban ::/0 $P >/dev/null
expect_exit allow_everything_needs_force 2 'every IPv4 address.*--force' \
	"$MXG" allow add 0.0.0.0/0 $P
printf '0.0.0.0/0 1h\n' >"$DIR/all.txt"
expect_exit import_of_everything_needs_force 2 'all\.txt:1: .*every IPv4 address.*--force' \
	"$MXG" import "$DIR/all.txt" $P

# import goes through ban's rule: it never shortens a ban already there.
"$MXG" ban 198.18.57.0/24 $P >/dev/null
"$MXG" ban 198.18.58.0/24 --for 2d $P >/dev/null
printf '198.18.57.0/24 1h\n198.18.58.0/24 1h\n198.18.59.0/24 1h\n' >"$DIR/short.txt"
out=$("$MXG" import "$DIR/short.txt" $P 2>&1)
row57=$("$MXG" list --json $P | grep '"198.18.57.0/24"')
left58=$("$MXG" list --json $P | grep '"198.18.58.0/24"' | sed -nE 's/.*"expires_in_s":(-?[0-9]+).*/\1/p')
if echo "$row57" | grep -q '"permanent":true' && echo "$row57" | grep -q '"reason":"manual"'; then
	pass import_never_shortens_a_permanent_ban
else
	fail import_never_shortens_a_permanent_ban "$row57 ($out)"
fi
[ "${left58:-0}" -gt 86400 ] && pass import_never_shortens_a_longer_ban ||
	fail import_never_shortens_a_longer_ban "expires_in_s=$left58 ($out)"
echo "$out" | grep -q 'imported 1 ban.*2 already banned for at least as long' &&
	pass import_says_how_many_were_already_banned_for_longer ||
	fail import_says_how_many_were_already_banned_for_longer "$out"

# Pin and state dirs another user made or can write to are refused.
BADPIN=/sys/fs/bpf/${TID}x
on_exit "$MXG detach --pin-dir $BADPIN; rm -rf $BADPIN"
mkdir -m 0700 "$BADPIN" && chown nobody "$BADPIN"
expect_exit pin_dir_owned_by_another_user_is_refused_by_run 2 "$BADPIN: owned by uid [0-9]+" \
	in_ns "$SRV" timeout 10 "$MXG" run -c "$CONF" -i mx0 --pin-dir "$BADPIN" --state-dir "$DIR/state2"
expect_exit pin_dir_owned_by_another_user_is_refused_by_ban 1 "$BADPIN: owned by uid [0-9]+" \
	"$MXG" ban 198.18.9.1 --pin-dir "$BADPIN"
chown root "$BADPIN" && chmod 0777 "$BADPIN"
expect_exit pin_dir_with_mode_0777_is_refused_by_run 2 "$BADPIN: mode 0777 .*0700" \
	in_ns "$SRV" timeout 10 "$MXG" run -c "$CONF" -i mx0 --pin-dir "$BADPIN" --state-dir "$DIR/state2"
expect_exit pin_dir_with_mode_0777_is_refused_by_ban 1 "$BADPIN: mode 0777" \
	"$MXG" ban 198.18.9.1 --pin-dir "$BADPIN"
"$MXG" detach --pin-dir "$BADPIN" >/dev/null 2>&1
rm -rf "$BADPIN"
mkdir -m 0777 "$DIR/state3"
expect_exit state_dir_writable_by_others_is_refused 2 "state dir $DIR/state3: mode 0777" \
	in_ns "$SRV" timeout 10 "$MXG" run -c "$CONF" -i mx0 --pin-dir "$BADPIN" --state-dir "$DIR/state3"
"$MXG" detach --pin-dir "$BADPIN" >/dev/null 2>&1
rm -rf "$BADPIN"
mkdir -m 0755 "$DIR/state4"
expect_exit state_dir_readable_by_others_is_refused 2 "state dir $DIR/state4: mode 0755 .*0700" \
	in_ns "$SRV" timeout 10 "$MXG" run -c "$CONF" -i mx0 --pin-dir "$BADPIN" --state-dir "$DIR/state4"
"$MXG" detach --pin-dir "$BADPIN" >/dev/null 2>&1
rm -rf "$BADPIN"

# status
# In the daemon's namespace, where the interface is.
out=$(in_ns "$SRV" "$MXG" status --json $P)
if echo "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["loaded"] and s["daemon"], s
assert [i["name"] for i in s["interfaces"]] == ["mx0"], s
assert s["interfaces"][0]["mode"] in ("native", "generic"), s
assert s["maps"]["deny_v4"]["entries"] >= 2, s
'; then
	pass status_json_reports_interface_mode_daemon_and_fill
else
	fail status_json_reports_interface_mode_daemon_and_fill "$out"
fi

# allow
expect_exit allow_add 0 'allowlisted 198\.18\.41\.2/32' "$MXG" allow add 198.18.41.2 $P
"$MXG" ban 198.18.41.0/24 $P >/dev/null
a=$(conn 198.18.41.2 198.18.41.1 25)
"$MXG" allow del 198.18.41.2 $P >/dev/null
b=$(conn 198.18.41.2 198.18.41.1 25)
if [ "$a" = 1 ] && [ "$b" = 0 ]; then
	pass allowlist_beats_a_ban_until_removed
else
	fail allowlist_beats_a_ban_until_removed "with allow $a, without $b"
fi
"$MXG" unban 198.18.41.0/24 $P >/dev/null
expect_exit allow_refuses_unknown_action 2 'unknown action' "$MXG" allow frob 1.2.3.4 $P

# import / export
cat >"$DIR/list.txt" <<'EOF'
# a blocklist
198.18.60.0/24 1h spamhaus drop
2001:db8:60::/48 permanent
198.18.61.7
EOF
expect_exit import_reads_cidr_ttl_reason 0 'imported 3 bans' "$MXG" import "$DIR/list.txt" $P
printf '198.18.62.0/24 1h\nnot-a-cidr 1h\n' >"$DIR/bad.txt"
expect_exit import_names_file_and_line_of_a_bad_entry 2 'bad\.txt:2: "not-a-cidr"' "$MXG" import "$DIR/bad.txt" $P
"$MXG" list --json $P | grep -q '"198.18.62.0/24"' && fail import_with_a_bad_line_imports_nothing ||
	pass import_with_a_bad_line_imports_nothing
"$MXG" export $P >"$DIR/export.txt"
n_before=$("$MXG" list --json $P | wc -l)
stop() { kill -TERM "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; }
stop
"$MXG" detach $P >/dev/null
rm -rf "$DIR/state"
start_daemon
"$MXG" import "$DIR/export.txt" $P >/dev/null
n_after=$("$MXG" list --json $P | wc -l)
if [ "$n_before" -ge 5 ] && [ "$n_before" = "$n_after" ] && grep -q "198.18.60.0/24 [0-9]*s spamhaus drop" "$DIR/export.txt"; then
	pass export_then_import_round_trips
else
	fail export_then_import_round_trips "$n_before vs $n_after: $(cat "$DIR/export.txt")"
fi

# A million bans in seconds (batched updates); timing is printed, not asserted.
python3 -c '
for i in range(1000000):
    print("10.%d.%d.%d 1h" % (i >> 16, (i >> 8) & 255, i & 255))' >"$DIR/million.txt"
t0=$(date +%s.%N)
out=$("$MXG" import "$DIR/million.txt" $P)
t1=$(date +%s.%N)
if [ "$out" = "imported 1000000 bans from $DIR/million.txt" ]; then
	pass import_a_million_entries
	echo "  info: imported 1,000,000 bans in $(echo "$t1 - $t0" | bc) s"
else
	fail import_a_million_entries "$out"
fi
cnt=$("$MXG" status --json $P | python3 -c 'import json,sys; print(json.load(sys.stdin)["maps"]["deny_v4"]["entries"])')
[ "$cnt" -ge 1000000 ] && pass million_entries_are_in_the_map || fail million_entries_are_in_the_map "$cnt"

# check-config
printf '[policy]\nmaxretry = 3\nbantime = 1h\n\nmaxretry = 4\n' >"$DIR/dup.conf"
expect_exit config_duplicate_key_is_an_error_with_both_lines 2 \
	'dup\.conf:5: maxretry: given twice \(first at line 2\)' "$MXG" check-config -c "$DIR/dup.conf"
printf '[logs]\nlog = /var/log/a.log\nlog = /var/log/b.log\n[policy]\nignoreip = 192.0.2.0/24\nignoreip = 2001:db8::/32\n' >"$DIR/lists.conf"
out=$("$MXG" check-config -c "$DIR/lists.conf" 2>&1)
if echo "$out" | grep -qx 'log = /var/log/a.log /var/log/b.log' &&
	echo "$out" | grep -qx 'ignoreip = 192.0.2.0/24 2001:db8::/32'; then
	pass config_list_keys_may_be_given_twice
else
	fail config_list_keys_may_be_given_twice "$out"
fi
printf '[policy]\nignoreip = 192.0.2.0/24 0.0.0.0/0\n' >"$DIR/ign.conf"
expect_exit config_ignoreip_everything_is_refused 2 \
	'ign\.conf:2: ignoreip: 0\.0\.0\.0/0 would never ban any IPv4 address' "$MXG" check-config -c "$DIR/ign.conf"
printf '[xdp]\nallow = ::/0\n' >"$DIR/allowall.conf"
expect_exit config_allow_everything_is_refused 2 \
	'allowall\.conf:2: allow: ::/0 would exempt every IPv6 address' "$MXG" check-config -c "$DIR/allowall.conf"
printf '[xdp]\nports = 25:50/500\n\n[policy]\nmaxretry = lots\n' >"$DIR/bad.conf"
expect_exit check_config_names_file_line_and_key 2 "bad\.conf:5: maxretry: \"lots\"" "$MXG" check-config -c "$DIR/bad.conf"
printf '[policy]\nbogus = 1\n' >"$DIR/bad2.conf"
expect_exit check_config_refuses_unknown_keys 2 "bad2\.conf:2: bogus: unknown key" "$MXG" check-config -c "$DIR/bad2.conf"
printf '[logs]\npattern = myapp: login failed from <HOST> (\n' >"$DIR/badpat.conf"
expect_exit check_config_compiles_patterns_and_names_the_line 2 "badpat\.conf:2: pattern: .*missing closing parenthesis" "$MXG" check-config -c "$DIR/badpat.conf"
expect_exit check_config_prints_effective_config 0 'maxretry = 7' "$MXG" check-config -c "$CONF" -o maxretry=7
# One config pipeline (defaults, file, flags and -o in order, checks) for
# run, replay and check-config: the same mistakes, the same message.
: >"$DIR/empty.log"
for c in run check-config replay; do
	case $c in
	run) more="-i mx0 --pin-dir $PIN" ;;
	replay) more="--monitor $DIR/empty.log" ;;
	*) more= ;;
	esac
	expect_exit "${c}_names_file_line_and_key_of_a_bad_config" 2 \
		"^mxguard $c: $DIR/bad\.conf:5: maxretry: \"lots\"" "$MXG" $c -c "$DIR/bad.conf" $more
	expect_exit "${c}_checks_the_config_after_the_options" 2 \
		"^mxguard $c: bantime_max: shorter than bantime" \
		"$MXG" $c -c "$CONF" -o bantime=2h -o bantime_max=1h $more
	expect_exit "${c}_refuses_a_config_file_that_is_not_there" 2 \
		"^mxguard $c: $DIR/none\.conf: No such file" "$MXG" $c -c "$DIR/none.conf" $more
	expect_exit "${c}_names_the_key_of_a_bad_option_value" 2 \
		"^mxguard $c: -o prefix_v4: " "$MXG" $c -c "$CONF" -o prefix_v4=40 $more
done
expect_exit run_with_bad_config_exits_2 2 "bad\.conf:5: maxretry" "$MXG" run -c "$DIR/bad.conf" -i mx0 --pin-dir "$PIN"
expect_exit run_with_bad_option_value_exits_2 2 'prefix_v4' "$MXG" run -i mx0 -o prefix_v4=40 --pin-dir "$PIN"

# reload: new limits apply to the running program without losing a ban.
"$MXG" ban 198.18.63.0/24 $P >/dev/null
got1=$(conn 198.18.40.2 198.18.40.1 587 8)
sed -i 's|587:3/3|587:3/3 25:50/500 2525:1/1|; s|^ports = 25:50/500 |ports = |' "$CONF"
sed -i 's|587:3/3|587:50/100|' "$CONF"
expect_exit reload_signals_the_daemon 0 'asked the daemon' "$MXG" reload $P
wait_for 5 grep -q "reloaded the config" "$LOG"
got2=$(conn 198.18.41.2 198.18.41.1 587 8)
if [ "$got1" -lt 8 ] && [ "$got2" = 8 ] && "$MXG" list --json $P | grep -q '"198.18.63.0/24"'; then
	pass reload_applies_new_limits_live_and_keeps_bans
else
	fail reload_applies_new_limits_live_and_keeps_bans "before $got1/8, after $got2/8; $(tail -3 "$LOG")"
fi
if bpftool map dump pinned "$PIN/ports" | grep -q '"burst": 100'; then
	pass reload_rewrites_the_ports_map
else
	fail reload_rewrites_the_ports_map
fi
printf '[policy]\nmaxretry = 0\n' >>"$CONF"
"$MXG" reload $P >/dev/null
wait_for 5 grep -q "reload refused" "$LOG" && pass bad_reload_is_refused_and_old_config_stays ||
	fail bad_reload_is_refused_and_old_config_stays "$(tail -3 "$LOG")"

# replay: old lines judged at their own time.
now=$(date +%s)
{
	for i in 1 2 3 4 5; do
		echo "$(date -d "@$((now - 3600 * 5))" '+%b %e %T') mx postfix/smtpd[1]: warning: unknown[198.18.70.1]: SASL LOGIN authentication failed: x"
	done
	for i in 1 2 3 4 5; do
		echo "$(date -d "@$((now - 600))" '+%b %e %T') mx postfix/smtpd[1]: warning: unknown[198.18.70.2]: SASL LOGIN authentication failed: x"
	done
} | gzip >"$DIR/old.log.gz"
out=$("$MXG" replay "$DIR/old.log.gz" $P 2>&1)
if "$MXG" list --json $P | grep -q '"198.18.70.2/32"' && ! "$MXG" list --json $P | grep -q '"198.18.70.1/32"'; then
	pass replay_bans_what_is_still_running_and_skips_what_ran_out
else
	fail replay_bans_what_is_still_running_and_skips_what_ran_out "$out"
fi
echo "$out" | grep -q "1 bans written, 1 already over" && pass replay_reports_its_counts ||
	fail replay_reports_its_counts "$out"

# top
conn 198.18.40.2 198.18.40.1 25 5 >/dev/null
out=$("$MXG" top --json --interval 0 $P)
echo "$out" | grep -q '"prefix":"198.18.40.0/24","port":25' && pass top_shows_busy_prefixes ||
	fail top_shows_busy_prefixes "$out"

# stats --watch
out=$("$MXG" stats --watch=200ms --count 2 --json $P | wc -l)
[ "$out" = 2 ] && pass stats_watch_refreshes_count_times || fail stats_watch_refreshes_count_times "$out lines"

# evidence
expect_exit evidence_without_record_says_so 1 'no evidence' "$MXG" evidence 198.18.99.0/24 --state-dir "$DIR/state"
for i in 1 2 3 4 5; do
	echo "$(date '+%b %e %T') mx dovecot: auth: passwd-file(eve,198.18.71.1): Password mismatch (given password: s3cret)"
done >/dev/null
printf '[logs]\nlog = %s\n' "$DIR/mail.log" >>"$CONF"
sed -i '/maxretry = 0/d' "$CONF"
: >"$DIR/mail.log"
stop
start_daemon
for i in 1 2 3 4 5; do
	echo "$(date '+%b %e %T') mx postfix/smtpd[9]: warning: unknown[198.18.71.1]: SASL PLAIN authentication failed: AGV2ZQBzM2NyZXQ=" >>"$DIR/mail.log"
done
wait_for 5 test -e "$DIR/state/evidence/198.18.71.1_32.txt"
out=$("$MXG" evidence 198.18.71.1 --state-dir "$DIR/state")
if echo "$out" | grep -q "unknown\[198.18.71.1\]" && ! echo "$out" | grep -q "AGV2ZQBzM2NyZXQ="; then
	pass evidence_prints_lines_with_credentials_removed
else
	fail evidence_prints_lines_with_credentials_removed "$out"
fi

# Metrics, scraped with a real HTTP client in the daemon's namespace.
out=$(in_ns "$SRV" curl -sS --max-time 5 http://127.0.0.1:9587/metrics)
if echo "$out" | grep -q '^mxguard_up 1$' &&
	echo "$out" | grep -qE '^mxguard_bans_total\{reason="log"\} [1-9]' &&
	echo "$out" | grep -qE '^mxguard_log_failures_total\{service="postfix"\} 5$' &&
	echo "$out" | grep -qE '^mxguard_xdp_packets_total [1-9]' &&
	echo "$out" | grep -qE '^mxguard_map_max_entries\{map="deny_v4"\} 1048576$' &&
	echo "$out" | grep -qE '^mxguard_ban_latency_seconds_count 1$'; then
	pass metrics_scrape_shows_counters_bans_and_latency
else
	fail metrics_scrape_shows_counters_bans_and_latency "$out"
fi
code=$(in_ns "$SRV" curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 5 http://127.0.0.1:9587/metrics)
[ "$code" = 405 ] && pass metrics_refuses_other_methods || fail metrics_refuses_other_methods "$code"
# By default only the daemon's loopback: not reachable at its veth address.
listen=$(in_ns "$SRV" ss -Hltn 'sport = :9587' | awk '{print $4}')
code=$(in_ns "$CLI" curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://198.18.40.1:9587/metrics)
if [ "$listen" = "127.0.0.1:9587" ] && [ "$code" = 000 ]; then
	pass metrics_listen_on_loopback_only_by_default
else
	fail metrics_listen_on_loopback_only_by_default "listening on '$listen', from the client: $code"
fi

# After a reboot (no pins), a bad record in bans.state costs only itself.
stop
"$MXG" detach $P >/dev/null
now=$(date +%s)
{
	echo "# mxguard bans v1: CIDR EXPIRES ADDED REASON BAN_COUNT HITS"
	echo "198.18.80.0/24 $((now + 3600)) $now manual 1 0 two"
	echo "lines"
	echo "198.18.81.0/24 0 $now manual 1 0 after"
} >"$DIR/state/bans.state"
cp "$DIR/state/bans.state" "$DIR/bans.before"
start_daemon
if "$MXG" list --json $P | grep -q '"198.18.80.0/24"' && "$MXG" list --json $P | grep -q '"198.18.81.0/24"'; then
	pass restart_restores_the_bans_after_a_bad_record
else
	fail restart_restores_the_bans_after_a_bad_record "$("$MXG" list $P; tail -5 "$LOG")"
fi
grep -q "bans.state:3: .*skipped" "$LOG" && pass restart_reports_file_and_line_of_a_bad_record ||
	fail restart_reports_file_and_line_of_a_bad_record "$(tail -5 "$LOG")"
kept=$(ls "$DIR/state"/bans.state.bad-* 2>/dev/null | head -1)
if [ -n "$kept" ] && cmp -s "$kept" "$DIR/bans.before"; then
	pass restart_keeps_a_copy_of_a_partly_read_state_file
else
	fail restart_keeps_a_copy_of_a_partly_read_state_file "$(ls "$DIR/state")"
fi

stop
if [ "$T_FAIL" != 0 ]; then
	echo "--- daemon log"
	tail -30 "$LOG"
fi
summary
