#!/bin/bash
# Run the libFuzzer targets (build/fuzz/fuzz_*, built by make fuzz-build).
#
# For each target, two checks, each a PASS/FAIL line:
#   TARGET_seeds_and_regressions_run_clean   every seed and every input under
#       tests/fuzz/regress/TARGET/ (crashes found before) runs without error
#   TARGET_fuzzing_finds_no_crash            fuzzing from those inputs for
#       FUZZ_TIME seconds (or FUZZ_RUNS executions, whichever comes first)
#       breaks no sanitizer check and no property of the harness
# and one line with the executions done. Ends with "N passed, N failed,
# N skipped". A crash input is kept under build/fuzz/crash/TARGET/ and
# printed in hex: copy it to tests/fuzz/regress/TARGET/ once it is fixed.
#
#   FUZZ_TIME=60 FUZZ_RUNS=-1 tests/fuzz/run.sh [TARGET...]
#   FUZZ_CORPUS=keep   grow build/fuzz/corpus/TARGET across runs (make fuzz);
#                      otherwise new inputs go to a temporary folder
#   FUZZ_SEED=N        libFuzzer's random seed (a fixed one makes a run
#                      repeatable; by default each run differs)
#
# tests/fuzz/pending/TARGET/ holds crashes found in code another branch is
# changing; they are not replayed here until fixed, then move to regress/.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh

BUILD=${BUILD:-build}
FZ=$BUILD/fuzz
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_RUNS=${FUZZ_RUNS:--1}
FUZZ_CORPUS=${FUZZ_CORPUS:-temp}
FUZZ_SEED=${FUZZ_SEED:-0}
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for t in tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$t" .c)")
	done
fi

TMP=$(mktemp -d)
on_exit "rm -rf $TMP"

# fuzz_parse starts from the parser corpora: each log line its own input,
# and the session families' files whole, so line sequences are seeded too.
parse_seeds() {
	local d=$FZ/seeds/fuzz_parse
	rm -rf "$d" && mkdir -p "$d"
	awk -v d="$d" '
		FNR == 1 { n = split(FILENAME, p, "/"); base = p[n] }
		/^#/ || /^$/ { next }
		{ f = d "/" base "-" FNR; printf "%s", $0 > f; close(f) }
	' tests/corpus/*.txt
	cp tests/corpus/opensmtpd.txt "$d/session-opensmtpd"
	cp tests/corpus/haraka.txt "$d/session-haraka"
	# Lines that pair up: Dovecot's passdb lines and summaries,
	# sendmail's and Exchange's sessions.
	cp tests/corpus/dovecot.txt "$d/session-dovecot"
	cp tests/corpus/sendmail.txt "$d/session-sendmail"
	cp tests/corpus/exchange.txt "$d/session-exchange"
}

# Print the crash input a run left, in hex, and where it is.
show_crash() {
	local t=$1 f
	for f in "$FZ/crash/$t"/*; do
		[ -f "$f" ] || continue
		echo "  input $f ($(stat -c %s "$f") bytes):"
		od -An -tx1 -v "$f" | head -n 16 | sed 's/^/   /'
	done
}

run_target() {
	local t=$1 bin=$FZ/$1 log=$FZ/log/$1.log dirs=() work execs secs
	mkdir -p "$FZ/crash/$t" "$FZ/log"
	if [ ! -x "$bin" ]; then
		fail "${t}_seeds_and_regressions_run_clean" "$bin not built (make fuzz-build)"
		return
	fi
	if [ "$t" = fuzz_state ] && [ "$(id -u)" != 0 ]; then
		skip "${t}_seeds_and_regressions_run_clean" "needs root for BPF maps"
		skip "${t}_fuzzing_finds_no_crash" "needs root for BPF maps"
		return
	fi
	[ -d "tests/fuzz/seeds/$t" ] && dirs+=("tests/fuzz/seeds/$t")
	[ -d "$FZ/seeds/$t" ] && dirs+=("$FZ/seeds/$t")
	[ -d "tests/fuzz/regress/$t" ] && dirs+=("tests/fuzz/regress/$t")
	rm -f "$FZ/crash/$t"/*

	# -runs=0: execute every given input once, fuzz nothing.
	if "$bin" -runs=0 -artifact_prefix="$FZ/crash/$t/" "${dirs[@]}" >"$log" 2>&1; then
		pass "${t}_seeds_and_regressions_run_clean"
	else
		fail "${t}_seeds_and_regressions_run_clean" "see $log"
		tail -n 30 "$log" | sed 's/^/  /'
		show_crash "$t"
		return
	fi

	if [ "$FUZZ_CORPUS" = keep ]; then
		work=$FZ/corpus/$t
	else
		work=$TMP/$t
	fi
	mkdir -p "$work"
	if "$bin" -runs="$FUZZ_RUNS" -max_total_time="$FUZZ_TIME" -seed="$FUZZ_SEED" -print_final_stats=1 \
		-artifact_prefix="$FZ/crash/$t/" "$work" "${dirs[@]}" >"$log" 2>&1; then
		pass "${t}_fuzzing_finds_no_crash"
	else
		fail "${t}_fuzzing_finds_no_crash" "see $log"
		grep -E 'ERROR|runtime error|property broken' "$log" | head -n 5 | sed 's/^/  /'
		show_crash "$t"
	fi
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)
	secs=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -n 1)
	echo "  $t: ${execs:-?} executions in ${secs:-?} s, corpus now $(ls "$work" | wc -l) inputs"
}

[[ " ${targets[*]} " == *" fuzz_parse "* ]] && parse_seeds
for t in "${targets[@]}"; do
	run_target "$t"
done
summary
