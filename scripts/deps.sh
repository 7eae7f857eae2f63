#!/bin/sh
# Install the Debian packages mxguard needs, when missing. Idempotent and
# quiet when everything is there. Run as root.
#
#   scripts/deps.sh          what building and running mxguard needs (make, make run)
#   scripts/deps.sh --test   that plus what the tests, benchmarks and demo use
#                            (make test, make bench, make demo): fail2ban,
#                            nftables, iptables, and through deps-e2e.sh a real
#                            Postfix with Dovecot, and clang's libFuzzer
#                            runtime for make fuzz, promtool (package
#                            prometheus) for the dashboard check,
#                            xdp-tools (xdp-filter, xdp-loader) for the
#                            libxdp coexistence test, and through
#                            deps-servers.sh the servers of
#                            tests/live/test_servers.sh (Dovecot IMAP/POP3,
#                            nginx mail, rsyslog; Exim and Sendmail unpacked,
#                            Haraka from npm). Meant for test machines.
set -eu

# libxdp-dev: mxguard joins libxdp's multi-program dispatcher (README:
# Sharing the interface).
BUILD_PKGS="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
	libpcre2-dev libsystemd-dev libssl-dev pkg-config iproute2 libxdp-dev"
TEST_PKGS="python3 procps util-linux systemd-journal-remote openssl fail2ban
	strace systemd groff-base bc gzip curl python3-pyinotify nftables
	iptables ethtool libclang-rt-14-dev prometheus xdp-tools
	ipset"	# make bench: ipset restore; xdp-tools: xdp-filter's objects too
# Fleet mode (user/fleet/) speaks to Redis through hiredis.
BUILD_PKGS="$BUILD_PKGS libhiredis-dev"
# tests/live/test_fleet.sh and tests/bench/fleet.sh: a real Redis, a
# replica and Sentinel for the failover (redis-tools: redis-cli).
TEST_PKGS="$TEST_PKGS redis-server redis-sentinel redis-tools"

here=$(dirname "$0")
tests=no
case "${1:-}" in
--test) tests=yes ;;
"") ;;
*)
	echo "usage: scripts/deps.sh [--test]" >&2
	exit 2
	;;
esac

PKGS=$BUILD_PKGS
[ $tests = yes ] && PKGS="$PKGS $TEST_PKGS"
# make deb and tests/live/test_deb.sh: the Debian packaging tools
# (dpkg-checkbuilddeps wants build-essential).
[ $tests = yes ] && PKGS="$PKGS build-essential dpkg-dev debhelper lintian"

# Package scripts must not start services (fail2ban) on a test machine: the
# tests run private instances of their own.
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

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages:$missing (run as root, e.g. sudo make)" >&2
		exit 1
	fi
	[ $tests = yes ] && no_services
	echo "deps.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Not exec: the EXIT trap must still remove policy-rc.d afterwards.
[ $tests = yes ] && "$here/deps-e2e.sh"
[ $tests = yes ] && "$here/deps-servers.sh"
exit 0
