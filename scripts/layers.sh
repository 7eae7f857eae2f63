#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The include graph between the folders of user/ (README: Layout), from the
# #include "..." lines: one line per edge with how many includes make it and
# from which files. An edge must point down the layers
#     cmd -> daemon -> {policy, detect, logs, fleet} -> kernel -> lib
# one pointing up is marked UP, one between policy, detect, logs and fleet
# "same level". Exits 1 when an edge points up.
#
#   scripts/layers.sh [TREE]      (default: the checkout this script is in)
set -eu
cd "${1:-$(dirname "$0")/..}"

rank() {
	case $1 in
	cmd) echo 5 ;; daemon) echo 4 ;; policy|detect|logs|fleet) echo 3 ;;
	kernel) echo 2 ;; lib) echo 1 ;; *) echo 0 ;;
	esac
}

edges=$(for f in user/*/*.[ch]; do
	from=${f#user/}; from=${from%%/*}
	sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r h; do
		for t in user/*/"$h"; do
			[ -e "$t" ] || continue
			to=${t#user/}; to=${to%%/*}
			[ "$to" = "$from" ] || echo "$from $to ${f##*/}:$h"
		done
	done
done | sort)

up=0
for e in $(echo "$edges" | awk '{print $1 "->" $2}' | sort -u); do
	from=${e%%->*}; to=${e#*->}
	via=$(echo "$edges" | awk -v f="$from" -v t="$to" '$1 == f && $2 == t {print $3}' | tr '\n' ' ')
	n=$(echo "$via" | wc -w)
	rf=$(rank "$from"); rt=$(rank "$to"); mark=""
	if [ "$rt" -gt "$rf" ]; then
		mark="  UP"; up=1
	elif [ "$rt" -eq "$rf" ]; then
		mark="  same level"
	fi
	printf '%-7s -> %-7s %3d%s   (%s)\n' "$from" "$to" "$n" "$mark" "${via% }"
done
exit $up
