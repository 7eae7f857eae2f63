#!/bin/sh
# Install the mail servers tests/live/test_servers.sh runs, when missing.
# Idempotent and quiet when everything is there. Run as root; called by
# scripts/deps.sh --test.
#
# Installed as Debian packages (they do not conflict with Postfix):
# Dovecot's IMAP, POP3 and SQLite parts, nginx with its mail module, rsyslog
# (a private syslog for Sendmail), Cyrus SASL's tools, Berkeley DB's tools
# (pam_userdb's user file).
# Unpacked without installing, under $SRV_CACHE (default
# /var/cache/mxguard-test): Exim and Sendmail, which as packages would
# remove Postfix (Debian's MTAs conflict), each into a folder of its own
# with `dpkg -x`; and Haraka from npm, at the version and with the
# dependency tree fixed in tests/live/servers/haraka/package-lock.json
# (`npm ci`, without install scripts: only an optional syslog module has
# one), redone only when that lock file changes.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${SRV_CACHE:-/var/cache/mxguard-test}

PKGS="dovecot-core dovecot-imapd dovecot-pop3d dovecot-sqlite db-util
	nginx libnginx-mod-mail rsyslog sasl2-bin libsasl2-modules swaks
	libnet-ssleay-perl libio-socket-ssl-perl python3 openssl m4
	libdb5.3 libgnutls-dane0 libidn12 libpcre2-8-0 libldap-2.5-0
	liblockfile1 libwrap0 libnsl2 libsasl2-2"
# Exim's and Sendmail's own packages, unpacked only.
EXIM_DEBS="exim4-daemon-light exim4-base"
SENDMAIL_DEBS="sendmail-bin sendmail-base sendmail-cf"

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

lock=$here/../tests/live/servers/haraka/package-lock.json
sum=$(cat "$lock" "$here/../tests/live/servers/haraka/package.json" | sha256sum | cut -d' ' -f1)
if [ -z "$missing" ] && [ -e "$CACHE/exim/.done" ] && [ -e "$CACHE/sendmail/.done" ] &&
	[ "$(cat "$CACHE/haraka/.done" 2>/dev/null)" = "$sum" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps-servers.sh: missing:$missing or $CACHE (run as root, e.g. sudo make test)" >&2
	exit 1
fi

updated=no
if [ -n "$missing" ]; then
	echo "deps-servers.sh: installing$missing" >&2
	# Package scripts must not start nginx, rsyslog or Dovecot: the tests
	# run private instances of their own.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	updated=yes
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		$missing >/dev/null
fi

# unpack NAME DEBS: download DEBS and dpkg -x them into $CACHE/NAME, once.
unpack() {
	name=$1
	shift
	[ -e "$CACHE/$name/.done" ] && return 0
	if [ $updated = no ]; then
		apt-get update -qq >/dev/null
		updated=yes
	fi
	echo "deps-servers.sh: unpacking $* into $CACHE/$name" >&2
	rm -rf "${CACHE:?}/$name" "${CACHE:?}/$name.debs"
	mkdir -p "$CACHE/$name.debs"
	# apt's sandbox user must be able to write the download folder.
	chown _apt "$CACHE/$name.debs" 2>/dev/null || true
	(cd "$CACHE/$name.debs" && apt-get download -qq "$@" >/dev/null)
	mkdir -p "$CACHE/$name"
	for d in "$CACHE/$name.debs"/*.deb; do
		dpkg -x "$d" "$CACHE/$name"
		dpkg-deb -f "$d" Package Version | paste -sd' ' >>"$CACHE/$name/.versions"
	done
	rm -rf "$CACHE/$name.debs"
	touch "$CACHE/$name/.done"
}
mkdir -p "$CACHE"
unpack exim $EXIM_DEBS
unpack sendmail $SENDMAIL_DEBS

# Haraka: npm ci from the committed lock file, redone when it changes.
if [ "$(cat "$CACHE/haraka/.done" 2>/dev/null)" != "$sum" ]; then
	echo "deps-servers.sh: npm ci Haraka into $CACHE/haraka" >&2
	rm -rf "$CACHE/haraka"
	mkdir -p "$CACHE/haraka"
	cp "$lock" "$here/../tests/live/servers/haraka/package.json" "$CACHE/haraka/"
	(cd "$CACHE/haraka" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
		--loglevel=error >/dev/null)
	echo "$sum" >"$CACHE/haraka/.done"
fi
exit 0
