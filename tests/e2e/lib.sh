# SPDX-License-Identifier: MIT
# Tiny TAP helpers for shell end-to-end tests.  A test script sources this,
# calls `check NAME CMD...` or `check_out NAME EXPECTED CMD...` per case,
# and ends with `finish`.
EPCG_BUILD=${EPCG_BUILD:-build}
EPCG=${EPCG:-$EPCG_BUILD/cli/epcg}
tap_n=0 tap_fail=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
not_ok() {
	tap_n=$((tap_n + 1)) tap_fail=$((tap_fail + 1))
	echo "not ok $tap_n - $1"
	shift
	[ $# -gt 0 ] && printf '# %s\n' "$@"
}

# check NAME CMD...: passes if CMD exits 0.
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# check_fails NAME STATUS CMD...: passes if CMD exits with STATUS.
check_fails() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$name"; else not_ok "$name" "want exit $want, got $rc: $*"; fi
}

# check_grep NAME PATTERN TEXT: passes if TEXT matches the extended regex.
check_grep() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1" "no match for /$2/ in:" "$3"
	fi
}

finish() {
	echo "1..$tap_n"
	[ "$tap_fail" -eq 0 ]
}
