#!/bin/sh
# Install the Debian packages the end-to-end tests (tests/e2e/) and the demo
# (scripts/demo.sh) need: a real Postfix, Dovecot as its SASL backend and as a
# second SMTP AUTH server (submission), swaks to drive real AUTH attempts.
# Idempotent and quiet when everything is there. Run as root.
#
# Postfix is preseeded so that no debconf dialog appears; installing it starts
# no service on these machines (no systemd as PID 1), and the tests run private
# instances of their own anyway.
set -eu

PKGS="postfix dovecot-core dovecot-submissiond swaks libio-socket-inet6-perl
      python3 iproute2
      util-linux procps"

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

# Debian's MTAs conflict: installing Postfix would remove the Exim,
# Sendmail or OpenSMTPD this machine runs. Never do that; the e2e tests and
# the demo then say SKIP.
case "$missing" in
*postfix*)
	for mta in exim4-daemon-light exim4-daemon-heavy sendmail-bin opensmtpd courier-mta; do
		if dpkg-query -W -f='${Status}' "$mta" 2>/dev/null | grep -q "install ok installed"; then
			echo "deps-e2e.sh: not installing Postfix: it would remove $mta; the end-to-end tests will be skipped" >&2
			exit 0
		fi
	done
	;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "deps-e2e.sh: missing packages:$missing (run as root, e.g. sudo make test)" >&2
	exit 1
fi
echo "deps-e2e.sh: installing$missing" >&2
# Package scripts must not start the system's Postfix or Dovecot: the tests
# run private instances of their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
mailname=$(hostname -f 2>/dev/null || hostname)
debconf-set-selections <<SEL
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string ${mailname:-mxguard.test}
SEL
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	$missing >/dev/null
