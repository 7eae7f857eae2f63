#!/bin/bash
# make install into a DESTDIR of the test's own: every file where the unit,
# man and fail2ban expect it, an installed config that check-config accepts,
# a second install that keeps an edited config.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
BUILD=${BUILD:-build}
D=$(mktemp -d)
on_exit "rm -rf $D"

if ! make --no-print-directory -s install DESTDIR="$D" BUILD="$BUILD" >"$D.out" 2>&1; then
	fail make_install_succeeds "$(tail -5 "$D.out")"
	rm -f "$D.out"
	summary
	exit
fi
rm -f "$D.out"
pass make_install_succeeds

missing=
for f in usr/local/sbin/mxguard lib/systemd/system/mxguard.service etc/mxguard/mxguard.conf \
	usr/local/share/man/man8/mxguard.8 usr/local/share/man/man5/mxguard.conf.5 \
	etc/fail2ban/action.d/mxguard.conf; do
	[ -e "$D/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass install_puts_binary_unit_config_man_pages_and_action ||
	fail install_puts_binary_unit_config_man_pages_and_action "missing:$missing"

[ -x "$D/usr/local/sbin/mxguard" ] && "$D/usr/local/sbin/mxguard" --version | grep -q '^mxguard ' &&
	pass installed_binary_runs || fail installed_binary_runs

out=$("$D/usr/local/sbin/mxguard" check-config -c "$D/etc/mxguard/mxguard.conf" 2>&1)
echo "$out" | grep -q '^maxretry = 5$' && pass installed_config_is_valid_and_holds_the_defaults ||
	fail installed_config_is_valid_and_holds_the_defaults "$out"

grep -q '^\.B maxretry' "$D/usr/local/share/man/man5/mxguard.conf.5" &&
	pass installed_conf_man_page_lists_the_keys_of_the_table ||
	fail installed_conf_man_page_lists_the_keys_of_the_table

echo "# edited by the operator" >>"$D/etc/mxguard/mxguard.conf"
make --no-print-directory -s install DESTDIR="$D" BUILD="$BUILD" >/dev/null 2>&1
grep -q "edited by the operator" "$D/etc/mxguard/mxguard.conf" &&
	pass second_install_keeps_the_operators_config ||
	fail second_install_keeps_the_operators_config

summary
