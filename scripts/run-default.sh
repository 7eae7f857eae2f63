#!/bin/sh
# make run: the daemon on the default-route interface with the built-in
# defaults (plus /etc/mxguard/mxguard.conf when it exists), following the
# system's mail log and journal, in the foreground.
# Ctrl-C stops the daemon; the XDP program stays attached and keeps the bans
# (mxguard detach removes it).
set -eu
bin=${1:-build/mxguard}
if [ "$(id -u)" != 0 ]; then
	echo "make run needs root (sudo make run): it loads an XDP program" >&2
	exit 1
fi
iface=$(ip -o route show default 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="dev") {print $(i+1); exit}}')
[ -n "$iface" ] || iface=$(ip -o -6 route show default 2>/dev/null | awk '{for (i=1;i<NF;i++) if ($i=="dev") {print $(i+1); exit}}')
if [ -z "$iface" ]; then
	echo "make run: no default route; run build/mxguard run -i IFACE yourself" >&2
	exit 2
fi
# The mail log where Debian's syslog writes it, and the journal when
# systemd-journald runs (both when both are there; a config file can say
# otherwise: /etc/mxguard/mxguard.conf is read when it exists).
set -- run -i "$iface"
for f in /var/log/mail.log /var/log/maillog; do
	if [ -e "$f" ]; then
		set -- "$@" --log "$f"
		break
	fi
done
[ -d /run/systemd/journal ] && set -- "$@" --journal
echo "make run: mxguard $* (Ctrl-C stops the daemon, the protection stays; 'build/mxguard detach' removes it)" >&2
exec "$bin" "$@"
