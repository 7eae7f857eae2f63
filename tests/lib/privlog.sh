#!/bin/sh
# privlog.sh LOGFILE WORKDIR CMD...: run CMD with a syslog of its own. Meant
# to run inside a private mount namespace (tests/lib/servers.sh: srv_priv):
# /dev there becomes a small tmpfs with the usual character devices, and
# an rsyslogd of the test's own listens on its /dev/log and writes every
# line to LOGFILE in the traditional file format (as Debian's rsyslog
# writes mail.log). The machine has no /dev/log; nothing outside sees this.
set -eu
log=$1 work=$2
shift 2

mount -t tmpfs -o mode=0755,size=1m mxgdev /dev
for n in null:3 zero:5 full:7 random:8 urandom:9; do
	mknod -m 0666 "/dev/${n%%:*}" c 1 "${n#*:}"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

mkdir -p "$work"
cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work")
module(load="imuxsock")
*.* action(type="omfile" file="$log" template="RSYSLOG_TraditionalFileFormat" fileCreateMode="0644")
CONF
: >"$log"
rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" \
	>"$work/rsyslogd.out" 2>&1 &
i=0
while [ ! -S /dev/log ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "privlog.sh: rsyslogd made no /dev/log" >&2
		cat "$work/rsyslogd.out" >&2
		exit 1
	fi
	sleep 0.1
done
exec "$@"
