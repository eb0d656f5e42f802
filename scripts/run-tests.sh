#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run test suites of one or more build directories and add up the TAP
# results.  Every test program prints TAP; this script prefixes each line
# with the build's name, counts ok / not ok / SKIP, and ends with the line
# "N passed, N failed, N skipped".
# Usage: scripts/run-tests.sh BUILD_DIR:SUITE[,SUITE] ...
#   suites: unit, stress, e2e, fuzz (corpus replays), fault (allocation
#   failure injection; a -Dfault_injection=true build only)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0 skipped=0

run_one() { # label program [args...]
	local label=$1 out rc
	shift
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$out" || true)
	s=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$out" || true)
	f=$(grep -cE '^not ok [0-9]+' "$out" || true)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $label $(basename "$1") exited $rc without a TAP failure"
		f=1
	fi
	sed "s|^|[$label] |" "$out"
	rm -f "$out"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

for spec in "$@"; do
	dir=${spec%%:*}
	label=$(basename "$dir")
	IFS=, read -r -a suites <<<"${spec#*:}"
	for suite in "${suites[@]}"; do
		case $suite in
		unit) progs=$(find "$dir/tests" -maxdepth 1 -type f -perm -u+x -name 'test-*' | sort) ;;
		stress) progs=$(find "$dir/tests" -maxdepth 1 -type f -perm -u+x -name 'stress-*' | sort) ;;
		fuzz) progs=$(find "$dir/fuzz" -maxdepth 1 -type f -perm -u+x -name 'replay-*' 2>/dev/null | sort) ;;
		fault) progs=$(find "$dir/tests" -maxdepth 1 -type f -perm -u+x -name 'fault-*' | sort) ;;
		e2e) progs=$(find "$top/tests/e2e" -maxdepth 1 -type f -name '*.sh' | sort) ;;
		*) echo "run-tests: unknown suite '$suite'" >&2; exit 2 ;;
		esac
		for p in $progs; do
			if [ "$suite" = e2e ]; then
				run_one "$label" env EPCG_BUILD="$dir" bash "$p"
			else
				run_one "$label" "$p"
			fi
		done
	done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
