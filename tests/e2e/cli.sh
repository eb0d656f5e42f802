#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The epcg command as a user meets it: help, version, errors that name the
# bad input, and the main job on its embedded default.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

out=$("$EPCG" --help 2>&1)
check_grep "help lists the run command" '^  run ' "$out"
check "help exits 0" "$EPCG" --help
out=$("$EPCG" --version)
check_grep "version prints the version" '^epcg [0-9]+\.[0-9]+\.[0-9]+$' "$out"

out=$("$EPCG" frobnicate 2>&1)
check_grep "unknown command is named" "unknown command 'frobnicate'" "$out"
check_fails "unknown command exits 2" 2 "$EPCG" frobnicate
out=$("$EPCG" --bogus 2>&1)
check_grep "unknown option is named" "unknown option '--bogus'" "$out"
out=$("$EPCG" run --epc 12Q 2>&1)
check_grep "bad size is named" "bad --epc size '12Q'" "$out"
check_fails "bad size exits 2" 2 "$EPCG" run --epc 12Q
out=$("$EPCG" run --sections 9 2>&1)
check_grep "bad section count is named" "sections must be 1 to 8, not '9'" "$out"
out=$("$EPCG" run a.scn extra 2>&1)
check_grep "stray argument is named" "unexpected argument 'extra'" "$out"

out=$("$EPCG" 2>&1)
rc=$?
check_grep "no arguments runs the default" '^epcg run: default\.scn ' "$out"
check_grep "the default shows its tenants" '^/tenants/web ' "$out"
[ "$rc" -eq 0 ] && ok "default run exits 0" || not_ok "default run exits 0" "exit $rc"
out2=$("$EPCG" run 2>&1)
[ "$out" = "$out2" ] && ok "default run is repeatable" || not_ok "default run is repeatable"
finish
