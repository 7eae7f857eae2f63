#!/bin/sh
# Install the Debian packages mxguard's build and tests need, when missing.
# Idempotent and quiet when everything is there. Run as root (make test/run).
set -eu

PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
      libpcre2-dev libsystemd-dev pkg-config iproute2 python3 procps
      util-linux systemd-journal-remote libssl-dev openssl fail2ban strace
      systemd groff-base bc gzip curl python3-pyinotify nftables iptables
      ethtool"

here=$(dirname "$0")

# Package scripts must not start services (fail2ban, postfix) on a test
# machine: the tests run private instances of their own.
no_services() {
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
}

missing=""
for p in $PKGS; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	# Not exec: the EXIT trap must still remove policy-rc.d afterwards.
	[ "$(id -u)" = 0 ] && no_services
	"$here/deps-e2e.sh"
	exit
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root, e.g. sudo make test)" >&2
	exit 1
fi
no_services
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
"$here/deps-e2e.sh"
