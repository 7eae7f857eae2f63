#!/bin/bash
# scripts/mxguard.service: systemd accepts it, its hardening scores well,
# its capability set is the one tests/live/test_caps.sh proves, and the
# daemon stays inside its syscall filter and address families (checked by
# running it under strace on a veth in a namespace of its own). The man
# pages it points to exist, render without warnings and cover every
# subcommand.
#
# No systemd as PID 1 is needed: systemd-analyze verify and security
# --offline work on unit files.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root

UNIT=scripts/mxguard.service
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"
MXG_ABS=$(realpath "$MXG")

# The unit with ExecStart pointing at the built binary (verify wants it to exist).
mkdir -p "$TMP/sbin" "$TMP/unit"
cp "$MXG_ABS" "$TMP/sbin/mxguard"
sed "s|/usr/local/sbin/mxguard|$TMP/sbin/mxguard|g" "$UNIT" >"$TMP/unit/mxguard.service"

if ! command -v systemd-analyze >/dev/null; then
	skip unit_verifies "systemd-analyze missing (package systemd)"
	skip unit_security_exposure_low "systemd-analyze missing (package systemd)"
else
	out=$(systemd-analyze verify --man=no "$TMP/unit/mxguard.service" 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -z "$out" ]; then
		pass unit_verifies_without_warnings
	else
		fail unit_verifies_without_warnings "rc=$rc: $out"
	fi

	# Exposure 0.0 (locked down) .. 10.0 (unprotected); threshold is x10.
	out=$(systemd-analyze security --offline=yes --threshold=30 \
		"$TMP/unit/mxguard.service" 2>&1)
	rc=$?
	level=$(echo "$out" | sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
	if [ $rc = 0 ] && [ -n "$level" ]; then
		pass "unit_security_exposure_at_most_3_0 (is $level)"
	else
		fail unit_security_exposure_at_most_3_0 "rc=$rc, level ${level:-?}"
	fi

	# Documentation=man:...: the pages, installed into a MANPATH of ours.
	mkdir -p "$TMP/man/man8" "$TMP/man/man5"
	cp man/mxguard.8 "$TMP/man/man8/"
	if "$MXG_ABS" check-config --reference --man >"$TMP/keys.roff" 2>/dev/null &&
		[ -s "$TMP/keys.roff" ]; then
		sed -e "/^@KEYS@\$/{r $TMP/keys.roff" -e 'd}' man/mxguard.conf.5.in \
			>"$TMP/man/man5/mxguard.conf.5"
		out=$(MANPATH=$TMP/man systemd-analyze verify "$TMP/unit/mxguard.service" 2>&1)
		rc=$?
		[ $rc = 0 ] && [ -z "$out" ] && pass unit_documentation_man_pages_resolve ||
			fail unit_documentation_man_pages_resolve "rc=$rc: $out"
	else
		skip unit_documentation_man_pages_resolve \
			"mxguard check-config --reference --man not available to generate mxguard.conf(5)"
	fi
fi

# The unit's capability set is exactly the one test_caps.sh proves minimal.
unit_caps=$(sed -nE 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' |
	sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sort | xargs)
proven=$(sed -nE 's/^MIN="(.*)"/\1/p' tests/live/test_caps.sh | tr ' ' '\n' | sort | xargs)
if [ -n "$unit_caps" ] && [ "$unit_caps" = "$proven" ]; then
	pass "unit_capabilities_match_test_caps ($unit_caps)"
else
	fail unit_capabilities_match_test_caps "unit: $unit_caps, test_caps.sh: $proven"
fi

# --- man pages: render cleanly, mention every subcommand
if command -v groff >/dev/null; then
	out=$(groff -man -ww -z man/mxguard.8 2>&1)
	[ -z "$out" ] && pass man_mxguard_8_renders_without_warnings ||
		fail man_mxguard_8_renders_without_warnings "$out"
	out=$(sed 's/^@KEYS@$/.SS [xdp]/' man/mxguard.conf.5.in | groff -man -ww -z 2>&1)
	[ -z "$out" ] && pass man_mxguard_conf_5_in_renders_without_warnings ||
		fail man_mxguard_conf_5_in_renders_without_warnings "$out"
else
	skip man_pages_render "groff missing (package groff-base)"
fi
missing=
for c in $("$MXG_ABS" --help | sed -nE 's/^  ([a-z-]+) .*/\1/p'); do
	sed 's/\\-/-/g' man/mxguard.8 | grep -qE "^\.SS $c$" || missing="$missing $c"
done
[ -z "$missing" ] && pass man_mxguard_8_describes_every_subcommand_in_help ||
	fail man_mxguard_8_describes_every_subcommand_in_help "missing:$missing"
grep -q '^@KEYS@$' man/mxguard.conf.5.in && pass man_conf_template_has_keys_placeholder ||
	fail man_conf_template_has_keys_placeholder

# The example in mxguard.conf(5) is a valid config: run gets past the
# config (exit 2 is a config error) and stops at the pin dir (exit 1).
sed -n '/^\.SH EXAMPLES/,/^\.SH FILES/p' man/mxguard.conf.5.in |
	sed -n '/^\.nf$/,/^\.fi$/p' | sed '1d;$d' | sed 's/\\-/-/g' >"$TMP/example.conf"
out=$("$MXG_ABS" run -c "$TMP/example.conf" -i lo --pin-dir "$TMP/not-bpffs/x" 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q '^\[policy\]' "$TMP/example.conf"; then
	pass man_conf_5_example_is_a_valid_config
else
	fail man_conf_5_example_is_a_valid_config "rc=$rc: $out"
fi

# The unit runs `mxguard run -c /etc/mxguard/mxguard.conf`; make install
# puts the generated example there, so it must be a valid config as is.
if "$MXG_ABS" check-config --reference >"$TMP/example.gen.conf" 2>/dev/null &&
	[ -s "$TMP/example.gen.conf" ]; then
	out=$("$MXG_ABS" check-config -c "$TMP/example.gen.conf" 2>&1)
	rc=$?
	[ $rc = 0 ] && pass generated_example_config_is_valid_as_installed ||
		fail generated_example_config_is_valid_as_installed "rc=$rc: $out"
else
	skip generated_example_config_is_valid_as_installed "mxguard check-config --reference not available"
fi

# --- the daemon inside SystemCallFilter= and RestrictAddressFamilies=
if ! command -v strace >/dev/null || ! command -v systemd-analyze >/dev/null ||
	! command -v python3 >/dev/null; then
	skip daemon_syscalls_within_unit_filter "strace, systemd-analyze or python3 missing (packages strace, systemd)"
	summary
	exit
fi
ensure_bpffs
NS=${TID}n
PIN=/sys/fs/bpf/$TID
netns "$NS"
ip -n "$NS" link add mx0 type veth peer name mx1
ip -n "$NS" link set mx0 up
ip -n "$NS" link set mx1 up
: >"$TMP/mail.log"
printf '[policy]\nmaxretry = 2\n' >"$TMP/mxguard.conf"
jargs=()
jremote=
for j in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
	[ -x "$j" ] && jremote=$j && break
done
if [ -n "$jremote" ]; then
	mkdir -p "$TMP/journal"
	printf '__REALTIME_TIMESTAMP=%s000000\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mx\n_UID=0\nSYSLOG_IDENTIFIER=postfix/smtpd\nMESSAGE=warning: unknown[198.18.9.40]: SASL LOGIN authentication failed: (reason unavailable)\n\n' \
		"$(date +%s)" | "$jremote" -o "$TMP/journal/t.journal" - 2>/dev/null &&
		jargs=(--journal -o "journal_dir=$TMP/journal")
fi

nsenter --net="/run/netns/$NS" strace -f -qq -o "$TMP/strace.out" \
	"$MXG_ABS" run -c "$TMP/mxguard.conf" -i mx0 --pin-dir "$PIN" \
	--state-dir "$TMP/state" --log "$TMP/mail.log" "${jargs[@]}" \
	>"$TMP/daemon.log" 2>&1 &
strace_pid=$!
daemon=
on_exit "kill -9 \$daemon $strace_pid; $MXG detach --pin-dir $PIN; rm -rf $PIN"
running() { grep -q "running:" "$TMP/daemon.log"; }
if wait_for 20 running; then
	daemon=$(pgrep -P "$strace_pid" | head -1)
	for _ in 1 2; do
		printf '%s mx postfix/smtpd[7]: warning: unknown[198.18.9.9]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice\n' \
			"$(LC_ALL=C date '+%b %e %H:%M:%S')" >>"$TMP/mail.log"
	done
	banned() { "$MXG" list --json --pin-dir "$PIN" | grep -q '"198.18.9.9/32"'; }
	wait_for 10 banned || echo "  (note: no ban from the log under strace)"
	kill -HUP "$daemon"
	reloaded() { grep -q "reloaded" "$TMP/daemon.log"; }
	wait_for 10 reloaded
	sleep 1.2	# at least one timer tick
	kill -TERM "$daemon"
	gone() { ! kill -0 "$strace_pid" 2>/dev/null; }
	wait_for 15 gone
	wait "$strace_pid" 2>/dev/null

	# Every syscall group, expanded; then what the unit allows.
	systemd-analyze syscall-filter >"$TMP/groups.txt" 2>/dev/null
	filter=$(sed -nE 's/^SystemCallFilter=//p' "$UNIT")
	families=$(sed -nE 's/^RestrictAddressFamilies=//p' "$UNIT")
	out=$(python3 - "$TMP/groups.txt" "$TMP/strace.out" "$filter" "$families" <<'EOF'
import re, sys
groups, cur = {}, None
for line in open(sys.argv[1]):
    s = line.strip()
    if not s or s.startswith('#'):
        continue
    if not line[0].isspace():
        cur = s if s.startswith('@') else None
        if cur:
            groups[cur] = []
        continue
    if cur:
        groups[cur].append(s)
def expand(name, seen=set()):
    if not name.startswith('@'):
        return {name}
    if name in seen:
        return set()
    seen.add(name)
    out = set()
    for e in groups.get(name, []):
        out |= expand(e, seen)
    return out
allowed = set()
for w in sys.argv[3].split():
    allowed |= expand(w)
used, fams = set(), set()
for line in open(sys.argv[2]):
    m = re.match(r'^\d+\s+([a-z0-9_]+)\(', line)
    if m:
        used.add(m.group(1))
    m = re.match(r'^\d+\s+socket\((AF_[A-Z0-9]+)', line)
    if m:
        fams.add(m.group(1))
bad = sorted(used - allowed)
badf = sorted(fams - set(sys.argv[4].split()))
print("syscalls %d used, outside the filter: %s" % (len(used), ' '.join(bad) or '-'))
print("families %s, outside the unit's: %s" % (' '.join(sorted(fams)), ' '.join(badf) or '-'))
sys.exit(1 if bad or badf or len(used) < 20 else 0)
EOF
)
	rc=$?
	echo "  $out" | sed '2s/^/  /'
	if [ $rc = 0 ]; then
		pass daemon_syscalls_and_socket_families_within_unit_filters
	else
		fail daemon_syscalls_and_socket_families_within_unit_filters "$out"
	fi
else
	fail daemon_starts_under_strace "$(tail -5 "$TMP/daemon.log")"
fi

summary
