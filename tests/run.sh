#!/bin/bash
# Run every test suite and add their counts up.
#
# A suite is a compiled test binary (build/tests/*/test_*) or a shell test
# (tests/live/test_*.sh). Each prints PASS/FAIL/SKIP lines and ends with
# "N passed, N failed, N skipped". A suite that crashes or prints no
# summary counts as one failure. The last line is the total; the exit status
# is non-zero when anything failed.
#
#   tests/run.sh [FILTER]    only suites whose path contains FILTER
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
filter=${1:-}

total_p=0 total_f=0 total_s=0
failed_suites=()

run_suite() {
	local suite=$1 out rc line p f s
	out=$(mktemp)
	echo "== $suite"
	# Every suite gets a hard time limit so a hang cannot stall CI.
	timeout --kill-after=10 "${SUITE_TIMEOUT:-600}" "$suite" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "FAIL $suite: no summary line (exit status $rc)"
		total_f=$((total_f + 1))
		failed_suites+=("$suite")
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	total_s=$((total_s + ${s:-0}))
	if [ "$f" != 0 ] || [ "$rc" != 0 ]; then
		[ "$f" = 0 ] && total_f=$((total_f + 1))
		failed_suites+=("$suite")
	fi
}

suites=()
for t in "$BUILD"/tests/unit/test_* "$BUILD"/tests/bpf/test_* tests/live/test_*.sh tests/e2e/test_*.sh; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.d) continue ;; esac
	[ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
	suites+=("$t")
done

for s in "${suites[@]}"; do
	run_suite "$s"
done

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failed suites: ${failed_suites[*]}"
fi
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ] && [ "$total_p" -gt 0 ]
