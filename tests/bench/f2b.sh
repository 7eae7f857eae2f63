# Benchmark helper (sourced): a private fail2ban configuration under DIR
# whose one jail JAIL reads LOG with Debian's postfix[mode=auth] filter and
# bans through the mxguard action on pin dir PIN. Sets $backend (pyinotify
# when Python has it, else polling). Needs $MXG_ABS.
#
#   f2b_config DIR JAIL LOG PIN
#   fail2ban-server -f -x -c DIR -s DIR/f2b.sock -p DIR/f2b.pid
f2b_config() {
	local dir=$1 jail=$2 log=$3 pin=$4

	mkdir -p "$dir/filter.d" "$dir/action.d"
	cp /etc/fail2ban/filter.d/common.conf /etc/fail2ban/filter.d/postfix.conf "$dir/filter.d/"
	cp scripts/fail2ban/action.d/mxguard.conf "$dir/action.d/"
	backend=polling
	python3 -c 'import pyinotify' 2>/dev/null && backend=pyinotify
	cat >"$dir/fail2ban.conf" <<EOC
[Definition]
loglevel = WARNING
logtarget = $dir/fail2ban.out
socket = $dir/f2b.sock
pidfile = $dir/f2b.pid
dbfile = :memory:
EOC
	cat >"$dir/jail.conf" <<EOC
[DEFAULT]
backend = $backend
usedns = no
ignoreself = false

[$jail]
enabled = true
filter = postfix[mode=auth]
logpath = $log
maxretry = 5
findtime = 10m
bantime = 1h
action = mxguard[pin_dir="$pin", mxguard="$MXG_ABS"]
EOC
}
