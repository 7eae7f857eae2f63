#!/bin/bash
# The legitimate sender of the end-to-end tests and the demo: authenticates
# with the right password and mails a numbered message, again and again,
# alternating its source addresses, until STOPFILE exists (or --for runs
# out). Run it inside the sender's namespace. Each attempt is one line of
# OUTFILE: "ok N SRC" or "fail N SRC RC".
#
#   sender.sh --out OUTFILE --stop STOPFILE --server4 A --server6 A
#             --user U --pass P --to RCPT [--gap SECS] [--for SECS] SRC...
set -u
gap=0.5 secs=300 out='' stop='' s4='' s6='' user='' pass='' to=''
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--stop) stop=$2; shift 2 ;;
	--server4) s4=$2; shift 2 ;;
	--server6) s6=$2; shift 2 ;;
	--user) user=$2; shift 2 ;;
	--pass) pass=$2; shift 2 ;;
	--to) to=$2; shift 2 ;;
	--gap) gap=$2; shift 2 ;;
	--for) secs=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] && [ -n "$out" ] && [ -n "$stop" ] || {
	echo "usage: sender.sh --out F --stop F --server4 A --server6 A --user U --pass P --to R SRC..." >&2
	exit 2
}
srcs=("$@")
n=0
end=$((SECONDS + secs))
while [ ! -e "$stop" ] && [ $SECONDS -lt $end ]; do
	src=${srcs[$((n % ${#srcs[@]}))]}
	n=$((n + 1))
	dst=$s4
	case $src in *:*) dst=$s6 ;; esac
	timeout 30 swaks --server "$dst" --port 587 --local-interface "$src" \
		--helo sender.test --from "$user@sender.test" --to "$to" \
		--auth LOGIN --auth-user "$user" --auth-password "$pass" --timeout 20 \
		--header "Subject: legitimate message $n" \
		--body "legitimate message $n from $src" >/dev/null 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		echo "ok $n $src" >>"$out"
	else
		echo "fail $n $src $rc" >>"$out"
	fi
	sleep "$gap"
done
