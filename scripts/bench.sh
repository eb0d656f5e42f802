#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the release configuration, run every benchmark (bench/bench-*),
# then print a summary: each program's "[target N]" verdict lines, in
# target order, and how many targets were met.  docs/benchmarks.md says
# what each figure is and what was measured last.
#
# Usage: scripts/bench.sh [BUILD_DIR]          (default: build-release)
#   EPCG_BENCH_ONLY="charge paging"  run only these programs ("profile":
#                                    bench/profile-thrash.sh, with perf)
#   EPCG_BENCH_ARGS="-s 0.1"         options for every program (see
#                                    bench/harness.h: -f TEXT, -s SCALE)
# Benchmarks run at nice -5 when allowed, so that other work on a shared
# machine disturbs them less; ratios to a baseline measured in the same
# run are what to compare, not absolute times.
set -u
cd "$(dirname "$0")/.." || exit 1
dir=${1:-build-release}

scripts/build.sh "$dir" --buildtype=release || exit 1
prio=()
if nice -n -5 true 2>/dev/null; then
	prio=(nice -n -5)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT

read -r load1 load5 load15 _ </proc/loadavg
echo "# epcg benchmarks: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs," \
	"load average $load1 $load5 $load15, build $dir"
failed=0
# run_prog NAME CMD...: run one benchmark, its output into the summary.
run_prog() {
	local name=$1 rc
	shift
	echo
	echo "== $name"
	"${prio[@]}" "$@" | tee -a "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		echo "[bench] $name exited $rc" | tee -a "$out"
		failed=$((failed + 1))
	fi
}
for b in "$dir"/bench/bench-*; do
	[ -f "$b" ] && [ -x "$b" ] || continue
	name=${b##*/bench-}
	if [ -n "${EPCG_BENCH_ONLY:-}" ] &&
		! grep -qw -- "$name" <<<"$EPCG_BENCH_ONLY"; then
		continue
	fi
	# shellcheck disable=SC2086 # EPCG_BENCH_ARGS is a list of options
	run_prog "bench-$name" "$b" ${EPCG_BENCH_ARGS:-}
done

# Target 4's thrash share read off a profile of the run itself (perf).
if [ -z "${EPCG_BENCH_ONLY:-}" ] || grep -qw profile <<<"$EPCG_BENCH_ONLY"; then
	run_prog profile-thrash bench/profile-thrash.sh "$dir"
fi

echo
echo "== summary (targets: docs/benchmarks.md)"
grep -E '^\[target [0-9]+\]' "$out" | sort -s -t' ' -k2,2n
echo "$(grep -cE '\): met$' "$out") met, $(grep -cE ': MISSED$' "$out")" \
	"missed, $(grep -c '(reported)$' "$out") reported only," \
	"$failed programs failed"
[ "$failed" -eq 0 ]
