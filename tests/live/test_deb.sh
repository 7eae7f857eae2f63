#!/bin/bash
# The Debian package on this machine: `make deb` builds it, `apt-get
# install ./build/mxguard_*.deb` installs it with the unit enabled but not
# started, the config and the fail2ban action as conffiles and Depends
# naming every shared library the binary links; `apt-get remove` keeps the
# config, `apt-get purge` leaves nothing of it behind and nothing else
# touched.
#
# It installs into the real root file system, so it refuses (SKIP, with
# the reason) to run where the package, or any file the package ships,
# is already there: purging would then delete what is not ours. The
# package is purged on exit, also when a check fails.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
need_root
BUILD=${BUILD:-build}

skip_all() {
	echo "SKIP $(basename "$0"): $1"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}

for t in dpkg-buildpackage dh apt-get; do
	command -v $t >/dev/null ||
		skip_all "$t missing (scripts/deps.sh --test installs dpkg-dev and debhelper)"
done
case "$(dpkg-query -W -f='${Status}' mxguard 2>/dev/null)" in
*installed* | *config-files*)
	skip_all "a package mxguard is already on this machine: purging it would remove the operator's" ;;
esac

version=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
arch=$(dpkg --print-architecture)
deb=$BUILD/mxguard_${version}_$arch.deb
TMP=$(mktemp -d)
on_exit "rm -rf $TMP"

# A package from an earlier `make deb` is used when no source is newer.
if [ -f "$deb" ] && [ -z "$(find Makefile debian bpf include user man scripts \
	-newer "$deb" -print -quit)" ]; then
	pass "make_deb_builds_the_package (up to date: $deb)"
elif make --no-print-directory deb BUILD="$BUILD" >"$TMP/make.out" 2>&1 && [ -f "$deb" ]; then
	pass make_deb_builds_the_package
else
	fail make_deb_builds_the_package "$(tail -15 "$TMP/make.out")"
	summary
	exit
fi

# The package's files (not directories), as absolute paths.
dpkg-deb --fsys-tarfile "$deb" | tar -tvf - | awk '$1 !~ /^d/ { print $6 }' |
	sed 's|^\./|/|' >"$TMP/files"
while read -r f; do
	[ -e "$f" ] && skip_all "$f is already on this machine and not from the package: purging would remove it"
done <"$TMP/files"
for d in /etc/mxguard /var/lib/mxguard; do
	[ -e "$d" ] && skip_all "$d already exists: purging the package would remove it"
done

# Neither existed (checked above): whatever a failed purge leaves there
# is the test's, removed after the package is purged on exit.
on_exit "rm -rf /etc/mxguard /var/lib/mxguard"

# Files the package must leave alone: a `make install` binary, fail2ban's.
others() {
	find /usr/local/sbin/mxguard /etc/fail2ban -printf '%p %y %m\n' 2>/dev/null | sort
}
others >"$TMP/others.before"
sha256sum /usr/local/sbin/mxguard /etc/fail2ban/*.conf /etc/fail2ban/action.d/* \
	2>/dev/null >"$TMP/others.sha"

# Package scripts must not start the daemon; the package does not try to
# (--no-start), and this guard keeps it so if that ever changes.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	on_exit "rm -f /usr/sbin/policy-rc.d"
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -y -q -o DPkg::Lock::Timeout=60)
on_exit "${APT[*]} purge mxguard"
abs=$(realpath "$deb")
if "${APT[@]}" install --no-install-recommends "$abs" >"$TMP/apt.out" 2>&1 &&
	dpkg-query -W -f='${Status}' mxguard | grep -q 'install ok installed'; then
	pass package_installs_with_apt_get
else
	fail package_installs_with_apt_get "$(tail -15 "$TMP/apt.out")"
	summary
	exit
fi

out=$(/usr/sbin/mxguard --version 2>&1)
[ "$out" = "mxguard $version" ] && pass installed_usr_sbin_mxguard_reports_the_package_version ||
	fail installed_usr_sbin_mxguard_reports_the_package_version "got '$out', want 'mxguard $version'"

# Every library the binary links comes from a package named in Depends.
depends=$(dpkg-query -W -f='${Depends}' mxguard)
missing=
for lib in $(objdump -p /usr/sbin/mxguard | awk '$1 == "NEEDED" { print $2 }'); do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
	real=$(realpath "$path" 2>/dev/null)
	pkg=
	# dpkg knows a file by the path its package ships, /lib or /usr/lib
	# (merged /usr), and the soname may be a symlink to it.
	for c in "$path" "$real" "${path#/usr}" "${real#/usr}" "/usr$path" "/usr$real"; do
		pkg=$(dpkg -S "$c" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] && break
	done
	[[ ", $depends," == *", $pkg"[\ ,]* ]] || missing="$missing $lib($pkg)"
done
[ -z "$missing" ] && pass depends_names_the_package_of_every_linked_library ||
	fail depends_names_the_package_of_every_linked_library "not in '$depends':$missing"

unit=/lib/systemd/system/mxguard.service
grep -q '^ExecStart=/usr/sbin/mxguard run ' $unit &&
	pass unit_starts_the_packaged_binary || fail unit_starts_the_packaged_binary "$(grep ExecStart $unit)"

if ! command -v systemd-analyze >/dev/null; then
	skip unit_verifies_with_systemd_analyze "systemd-analyze missing (package systemd)"
else
	out=$(systemd-analyze verify $unit 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -z "$out" ]; then
		pass unit_verifies_with_systemd_analyze
	elif [ ! -d /run/systemd/system ]; then
		skip unit_verifies_with_systemd_analyze "failed without systemd as PID 1 (rc=$rc: $out)"
	else
		fail unit_verifies_with_systemd_analyze "rc=$rc: $out"
	fi
fi

conffiles=$(dpkg-query -W -f='${Conffiles}' mxguard)
if echo "$conffiles" | grep -q '^ /etc/mxguard/mxguard.conf ' &&
	echo "$conffiles" | grep -q '^ /etc/fail2ban/action.d/mxguard.conf '; then
	pass config_and_fail2ban_action_are_conffiles
else
	fail config_and_fail2ban_action_are_conffiles "conffiles: $conffiles"
fi
out=$(/usr/sbin/mxguard check-config -c /etc/mxguard/mxguard.conf 2>&1)
echo "$out" | grep -q '^maxretry = 5$' && pass installed_config_is_valid_and_holds_the_defaults ||
	fail installed_config_is_valid_and_holds_the_defaults "$out"
grep -q '^mxguard = /usr/sbin/mxguard$' /etc/fail2ban/action.d/mxguard.conf &&
	pass fail2ban_action_names_the_packaged_binary ||
	fail fail2ban_action_names_the_packaged_binary

[ -f /usr/share/man/man8/mxguard.8.gz ] && [ -f /usr/share/man/man5/mxguard.conf.5.gz ] &&
	pass man_pages_are_installed || fail man_pages_are_installed

# Enabled: the symlink deb-systemd-helper makes (also without systemd
# running). Not started: no process runs the installed binary.
wants=/etc/systemd/system/multi-user.target.wants/mxguard.service
[ "$(readlink $wants)" = $unit ] && pass unit_is_enabled ||
	fail unit_is_enabled "$wants -> '$(readlink $wants)'"
running=
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = /usr/sbin/mxguard ] && running="$running ${p#/proc/}"
done
if [ -d /run/systemd/system ] && systemctl is-active -q mxguard; then
	running="$running (systemctl: active)"
fi
[ -z "$running" ] && pass unit_is_not_started || fail unit_is_not_started "running:$running"

# Without systemd as PID 1 the postinst skips its systemctl calls, so the
# check above proves little here. Run the installed postinst as on a
# systemd host: in a mount namespace of its own, /run/systemd/system
# exists and systemctl and deb-systemd-invoke are stand-ins that log.
# A first install ("configure" with no old version) must start nothing;
# an upgrade must only try-restart (restart a unit already running).
mkdir -p "$TMP/fake"
for t in systemctl deb-systemd-invoke; do
	printf '#!/bin/sh
echo "%s $*" >>%s/invoked
' $t "$TMP" >"$TMP/fake/$t"
	chmod +x "$TMP/fake/$t"
done
postinst_calls() {
	: >"$TMP/invoked"
	unshare --mount sh -c 'mount -t tmpfs none /run && mkdir -p /run/systemd/system &&
		PATH="$0:$PATH" /var/lib/dpkg/info/mxguard.postinst configure "$1"' \
		"$TMP/fake" "$1" >/dev/null 2>&1
	grep deb-systemd-invoke "$TMP/invoked"
}
out=$(postinst_calls "")
[ -z "$out" ] && pass postinst_of_a_first_install_on_systemd_starts_nothing ||
	fail postinst_of_a_first_install_on_systemd_starts_nothing "$out"
out=$(postinst_calls 0.0.1)
[ "$out" = "deb-systemd-invoke try-restart mxguard.service" ] &&
	pass postinst_of_an_upgrade_on_systemd_only_try_restarts ||
	fail postinst_of_an_upgrade_on_systemd_only_try_restarts "${out:-no call}"
: >"$TMP/invoked"
unshare --mount sh -c 'mount -t tmpfs none /run && mkdir -p /run/systemd/system &&
	PATH="$0:$PATH" /var/lib/dpkg/info/mxguard.prerm remove' "$TMP/fake" >/dev/null 2>&1
out=$(grep deb-systemd-invoke "$TMP/invoked")
[ "$out" = "deb-systemd-invoke stop mxguard.service" ] &&
	pass prerm_of_a_remove_on_systemd_stops_the_unit ||
	fail prerm_of_a_remove_on_systemd_stops_the_unit "${out:-no call}"

# What a started daemon and an operator would have added.
mkdir -p /var/lib/mxguard
echo "state" >/var/lib/mxguard/bans.state
echo "# note" >/etc/mxguard/local.note
echo "# edited by the operator" >>/etc/mxguard/mxguard.conf

if "${APT[@]}" remove mxguard >"$TMP/apt.out" 2>&1 && [ ! -e /usr/sbin/mxguard ] &&
	grep -q 'edited by the operator' /etc/mxguard/mxguard.conf &&
	[ -f /var/lib/mxguard/bans.state ]; then
	pass remove_takes_the_binary_and_keeps_config_and_state
else
	fail remove_takes_the_binary_and_keeps_config_and_state "$(tail -5 "$TMP/apt.out")"
fi

"${APT[@]}" purge mxguard >"$TMP/apt.out" 2>&1 ||
	fail purge_succeeds "$(tail -5 "$TMP/apt.out")"
left=
while read -r f; do
	[ -e "$f" ] && left="$left $f"
done <"$TMP/files"
for f in /etc/mxguard /var/lib/mxguard $wants /etc/fail2ban/action.d/mxguard.conf; do
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done
# deb-systemd-helper's record of the enabled unit goes too.
left="$left $(find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
	/var/lib/systemd/deb-systemd-helper-masked -name 'mxguard*' 2>/dev/null | tr '\n' ' ')"
left=${left%% }
dpkg-query -W -f='${Status}' mxguard 2>/dev/null | grep -q 'ok installed\|config-files' &&
	left="$left (dpkg still lists mxguard)"
[ -z "$left" ] && pass purge_leaves_nothing_of_the_package ||
	fail purge_leaves_nothing_of_the_package "left:$left"

others >"$TMP/others.after"
if diff -q "$TMP/others.before" "$TMP/others.after" >/dev/null &&
	{ [ ! -s "$TMP/others.sha" ] || sha256sum -c --quiet "$TMP/others.sha" >/dev/null 2>&1; }; then
	pass purge_leaves_files_of_others_alone
else
	fail purge_leaves_files_of_others_alone "$(diff "$TMP/others.before" "$TMP/others.after")"
fi

summary
