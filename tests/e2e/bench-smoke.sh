#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmarks keep working (docs/benchmarks.md): each bench-* program
# runs at a tiny scale and prints its reproduce line and verdict lines in
# the format scripts/bench.sh summarises; bench/profile-thrash.sh profiles
# a small thrashing run, or says why it cannot; bad options are refused
# with a message.  The figures themselves are not judged here: a debug
# build at 1/1000 of the iterations measures nothing worth a verdict, and
# timings belong in `make bench`, not in the test suite.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A verdict, or a program saying why it measured nothing here.
verdict='^\[target [1-7]\] (.+: -?[0-9]+\.[0-9]{2} \((must be (<=|>=) [0-9]+\.[0-9]{2}\): (met|MISSED)|reported\))|(thrash profile: )?skipped: .+)$'

# run_bench NAME ARGS...: run one program, check its output's shape.
run_bench() {
	local name=$1 prog=$EPCG_BUILD/bench/$1 rc bad n
	shift
	if [ ! -x "$prog" ]; then
		not_ok "$name is built" "missing: $prog"
		return
	fi
	"$prog" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$name $* exits 0" "exit $rc:" "$(tail -n 5 "$tmp/$name.err")"
		return
	fi
	ok "$name $* exits 0"
	check_grep "$name says how to reproduce it" \
		"^# reproduce: .*bench/$name" "$(cat "$tmp/$name.out")"
	n=$(grep -c '^\[target ' "$tmp/$name.out")
	good=$(grep -Ec "$verdict" "$tmp/$name.out")
	bad=$(grep '^\[target ' "$tmp/$name.out" | grep -Ev "$verdict")
	if [ "$n" -gt 0 ] && [ "$good" = "$n" ] && [ -z "$bad" ]; then
		ok "$name prints $n verdict lines in the summary's format"
	else
		not_ok "$name prints verdict lines in the summary's format" \
			"$n verdict lines; malformed:" "$bad"
	fi
	if grep -Eiq '(^|[^a-z])(nan|inf)([^a-z]|$)' "$tmp/$name.out"; then
		not_ok "$name prints no NaN or infinity" \
			"$(grep -Ei '(^|[^a-z])(nan|inf)([^a-z]|$)' "$tmp/$name.out")"
	else
		ok "$name prints no NaN or infinity"
	fi
}

for b in charge fault paging reclaim-walk scale sim; do
	run_bench "bench-$b" -s 0.001
done
# Two cases of one program by name; a filter that matches none runs none.
run_bench bench-charge -s 0.001 -f 'depth 4, 1 thread'
check_out_n=$(grep -c '^\[target ' "$tmp/bench-charge.out")
if [ "$check_out_n" -eq 1 ]; then ok "-f runs only the matching case"; else
	not_ok "-f runs only the matching case" "$check_out_n verdicts"
fi
out=$("$EPCG_BUILD/bench/bench-sim" -f 'no such case' 2>&1)
if grep -q '^\[target' <<<"$out"; then
	not_ok "-f that matches nothing runs nothing" "$out"
else
	ok "-f that matches nothing runs nothing"
fi
# The live benchmark mounts a tree; without FUSE it says so and exits 0.
run_bench bench-live -s 0.001

# ---- bad options: refused with a message, exit 2, nothing run ----
for args in "-s 0" "-s -1" "-s abc" "-s 1e9" "-x" "-f" "stray"; do
	# shellcheck disable=SC2086 # each case is a list of arguments
	"$EPCG_BUILD/bench/bench-charge" $args >"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	if [ "$rc" -eq 2 ] && [ ! -s "$tmp/bad.out" ] &&
		grep -q 'usage: bench-charge' "$tmp/bad.err"; then
		ok "bench-charge $args: exit 2 with usage, nothing run"
	else
		not_ok "bench-charge $args: exit 2 with usage, nothing run" \
			"exit $rc" "$(cat "$tmp/bad.out" "$tmp/bad.err")"
	fi
done
out=$("$EPCG_BUILD/bench/bench-charge" -s 0 2>&1)
check_grep "a bad scale is named" "-s: not a positive number below 1e6: '0'" "$out"

# ---- the profile reading of target 4 ----
out=$(bench/profile-thrash.sh "$EPCG_BUILD" 20000 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then ok "profile-thrash exits 0"; else
	not_ok "profile-thrash exits 0" "exit $rc:" "$out"
fi
last=$(tail -n 1 <<<"$out")
check_grep "profile-thrash ends with a verdict or says why it cannot" \
	"$verdict" "$last"
if grep -q 'share of the CPU samples' <<<"$last"; then
	check_grep "profile-thrash counts its samples" '^samples: [1-9][0-9]*$' \
		"$out"
fi
out=$(bench/profile-thrash.sh "$tmp/no-such-build" 2>&1)
rc=$?
if [ "$rc" -ne 0 ] || grep -q 'perf is not installed' <<<"$out"; then
	ok "profile-thrash refuses a missing build (or has no perf)"
else
	not_ok "profile-thrash refuses a missing build (or has no perf)" "$out"
fi

finish
