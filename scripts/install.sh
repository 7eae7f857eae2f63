#!/bin/sh
# make install: put the built mxguard, its systemd unit, config, man pages,
# fail2ban action, Grafana dashboard and bash completion in place.
# Idempotent: running it again changes nothing, and never overwrites an
# existing /etc/mxguard/mxguard.conf.
#
#   DESTDIR   staging root (packaging), default empty
#   PREFIX    default /usr/local: PREFIX/sbin/mxguard, PREFIX/share/man,
#             PREFIX/share/mxguard/grafana
#   BUILD     the build directory, default build
#   UNITDIR   default /lib/systemd/system
#   SYSCONFDIR default /etc
#   BASHCOMPDIR default /usr/share/bash-completion/completions
#
# The unit and the fail2ban action name the binary by its installed path,
# so they are rewritten when PREFIX is not /usr/local; the Grafana provider
# names the dashboard folder, so it is rewritten for PREFIX too.
set -eu
cd "$(dirname "$0")/.."

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
BUILD=${BUILD:-build}
UNITDIR=${UNITDIR:-/lib/systemd/system}
SYSCONFDIR=${SYSCONFDIR:-/etc}
BASHCOMPDIR=${BASHCOMPDIR:-/usr/share/bash-completion/completions}

BIN=$BUILD/mxguard
EXAMPLE=$BUILD/mxguard.conf.example
MAN5=$BUILD/mxguard.conf.5
MAN8=man/mxguard.8
BASHCOMP=$BUILD/mxguard.bash

for f in "$BIN" "$EXAMPLE" "$MAN5" "$MAN8" "$BASHCOMP" scripts/mxguard.service \
	scripts/fail2ban/action.d/mxguard.conf contrib/grafana/dashboards/mxguard.json \
	contrib/grafana/provisioning/mxguard.yaml; do
	if [ ! -f "$f" ]; then
		echo "install.sh: $f is missing (run make first)" >&2
		exit 2
	fi
done

sbin=$PREFIX/sbin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# put MODE SRC DEST: install SRC as DEST unless DEST already has that
# content and mode (so a second run touches nothing).
put() {
	if [ -f "$3" ] && cmp -s "$2" "$3" &&
		[ "$(stat -c %a "$3")" = "${1#0}" ]; then
		return 0
	fi
	install -D -m "$1" "$2" "$3"
	echo "  INSTALL  $3"
}

put 0755 "$BIN" "$DESTDIR$sbin/mxguard"

sed "s|/usr/local/sbin/mxguard|$sbin/mxguard|g" scripts/mxguard.service \
	>"$tmp/mxguard.service"
put 0644 "$tmp/mxguard.service" "$DESTDIR$UNITDIR/mxguard.service"

conf=$DESTDIR$SYSCONFDIR/mxguard/mxguard.conf
if [ ! -e "$conf" ]; then
	put 0644 "$EXAMPLE" "$conf"
elif ! cmp -s "$EXAMPLE" "$conf"; then
	# Never touch the operator's config: the new reference goes beside it.
	put 0644 "$EXAMPLE" "$conf.example"
fi

put 0644 "$MAN8" "$DESTDIR$PREFIX/share/man/man8/mxguard.8"
put 0644 "$MAN5" "$DESTDIR$PREFIX/share/man/man5/mxguard.conf.5"

# bash-completion loads it by the command's name when mxguard is first completed.
put 0644 "$BASHCOMP" "$DESTDIR$BASHCOMPDIR/mxguard"

sed "s|^mxguard = /usr/local/sbin/mxguard$|mxguard = $sbin/mxguard|" \
	scripts/fail2ban/action.d/mxguard.conf >"$tmp/fail2ban.conf"
put 0644 "$tmp/fail2ban.conf" "$DESTDIR$SYSCONFDIR/fail2ban/action.d/mxguard.conf"

# Not in /etc/grafana: a mail host seldom runs Grafana, and the operator
# links the provider in where it does (contrib/grafana/README.md).
grafana=$PREFIX/share/mxguard/grafana
put 0644 contrib/grafana/dashboards/mxguard.json "$DESTDIR$grafana/dashboards/mxguard.json"
sed "s|^\(  *path:\).*|\1 $grafana/dashboards|" contrib/grafana/provisioning/mxguard.yaml \
	>"$tmp/grafana.yaml"
put 0644 "$tmp/grafana.yaml" "$DESTDIR$grafana/provisioning/mxguard.yaml"

# On a live system (no staging root) with systemd running, let it see the unit.
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	systemctl daemon-reload || true
fi
