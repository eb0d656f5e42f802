#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The simulator as a user meets it (`epcg run`, docs/simulator.md): the
# embedded default runs, passes its checks and prints its tables; a seed
# gives the same bytes twice; the JSON has every documented key; scenario
# errors name FILE:LINE and exit 2; a failed check exits 1.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The default, twice, with JSON each time.
"$EPCG" run --json "$tmp/a.json" >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
[ "$rc" -eq 0 ] && ok "default run exits 0" || not_ok "default run exits 0" "exit $rc" "$(cat "$tmp/a.err")"
out=$(cat "$tmp/a.out")
check_grep "header names policy and seed" '^epcg run: default\.scn +policy v17 +seed 42 ' "$out"
check_grep "cgroup table has its columns" '^cgroup +max +current +peak +events +events\.local +EWB +ELDU +faults +ENOMEM +SIGBUS$' "$out"
check_grep "a thrashing tenant is in the table" '^/tenants/db +8M ' "$out"
check_grep "enclave table has its columns" '^enclave +cgroup +pages +accesses +faults +outcome +time$' "$out"
check_grep "the killed enclave says so" '^flaky +/tenants/flaky .* killed ' "$out"
check_grep "checks print PASS lines" '^PASS default\.scn:[0-9]+: ' "$out"
check_grep "no check fails" '^# [0-9]+ expectations: [0-9]+ passed, 0 failed$' "$out"

"$EPCG" run --json "$tmp/b.json" >"$tmp/b.out" 2>&1
if cmp -s "$tmp/a.out" "$tmp/b.out"; then ok "same seed, same table"; else
	not_ok "same seed, same table" "$(diff "$tmp/a.out" "$tmp/b.out" | head -20)"
fi
if cmp -s "$tmp/a.json" "$tmp/b.json"; then ok "same seed, same JSON bytes"; else
	not_ok "same seed, same JSON bytes" "$(diff "$tmp/a.json" "$tmp/b.json" | head -20)"
fi

# Every key the JSON promises, with the right types.
if command -v python3 >/dev/null 2>&1; then
	if msg=$(python3 - "$tmp/a.json" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("seed", "policy", "epc_bytes", "virtual_ns", "cgroups", "enclaves"):
    assert k in r, "missing " + k
assert r["seed"] == 42 and r["policy"] == "v17", (r["seed"], r["policy"])
assert r["epc_bytes"] == 128 << 20, r["epc_bytes"]
keys = ("path", "max", "current", "peak", "events_max", "events_local_max",
        "ewb", "eldu", "faults", "reclaim_scans", "enomem", "sigbus")
for c in r["cgroups"]:
    for k in keys:
        assert k in c, "cgroup misses " + k
    assert c["max"] is None or isinstance(c["max"], int)
assert r["cgroups"][0]["path"] == "/" and r["cgroups"][0]["max"] is None
for e in r["enclaves"]:
    for k in ("name", "cgroup", "pages", "accesses", "faults", "outcome",
              "virtual_ns"):
        assert k in e, "enclave misses " + k
    assert e["outcome"] in ("ok", "ENOMEM", "SIGBUS", "killed"), e["outcome"]
outcomes = {e["name"]: e["outcome"] for e in r["enclaves"]}
assert outcomes == {"web": "ok", "db": "ok", "flaky": "killed",
                    "batch": "ok"}, outcomes
assert r["failed"] == 0 and r["passed"] == len(r["expects"])
PY
	); then ok "JSON has the documented keys"; else not_ok "JSON has the documented keys" "$msg"; fi
else
	echo "ok $((tap_n += 1)) - JSON has the documented keys # SKIP no python3"
fi

# A small scenario for the rest: cheap to run several times.
cat >"$tmp/small.scn" <<'SCN'
epc 8M
cgroup /a max 2M
enclave e size 4M cgroup /a
workload e uniform accesses 4000 think 1us
expect enclave e outcome ok
expect cgroup /a peak <= 2M
SCN
s1=$("$EPCG" run "$tmp/small.scn" --seed 7 2>&1)
s2=$("$EPCG" run "$tmp/small.scn" --seed 7 2>&1)
s3=$("$EPCG" run "$tmp/small.scn" --seed 8 2>&1)
[ "$s1" = "$s2" ] && ok "--seed N is repeatable" || not_ok "--seed N is repeatable"
[ "$s1" != "$s3" ] && ok "another seed, another run" || not_ok "another seed, another run"
check_grep "--seed shows in the header" 'seed 7 ' "$s1"
out=$("$EPCG" run "$tmp/small.scn" --quiet 2>&1)
rc=$?
[ "$rc" -eq 0 ] && [ -z "$out" ] && ok "--quiet prints nothing on success" ||
	not_ok "--quiet prints nothing on success" "exit $rc" "$out"
out=$("$EPCG" run "$tmp/small.scn" --json - 2>/dev/null)
check_grep "--json - writes JSON to stdout" '^  "seed": 1,$' "$out"

# A failed expectation: exit 1, a FAIL line even with --quiet.
printf 'expect cgroup /a peak < 1M\n' >>"$tmp/small.scn"
out=$("$EPCG" run "$tmp/small.scn" 2>&1)
rc=$?
[ "$rc" -eq 1 ] && ok "a failed check exits 1" || not_ok "a failed check exits 1" "exit $rc"
check_grep "the failed check is a FAIL line" '^FAIL .*small\.scn:7: cgroup /a peak < 1M \(was 2M\)$' "$out"
out=$("$EPCG" run "$tmp/small.scn" --quiet 2>&1)
check_grep "--quiet still prints FAIL lines" '^FAIL .*small\.scn:7: ' "$out"

# The policy is the user's choice, and the report says which ran.
out=$("$EPCG" run scenarios/sibling-pressure.scn --policy intent 2>&1)
rc=$?
check_grep "--policy shows in the header" 'policy intent ' "$out"
[ "$rc" -eq 1 ] && ok "intent policy changes the outcome (E13a)" ||
	not_ok "intent policy changes the outcome (E13a)" "exit $rc" "$out"
check_grep "under intent, b is not refused" '^FAIL .*enclave b outcome ENOMEM \(was ok\)$' "$out"

# Scenario errors: FILE:LINE and exit 2.
printf 'epc 8M\ncgroup /a max 1M\nenclave e size 12Q\n' >"$tmp/bad.scn"
out=$("$EPCG" run "$tmp/bad.scn" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && ok "scenario error exits 2" || not_ok "scenario error exits 2" "exit $rc"
check_grep "scenario error names FILE:LINE" "^$tmp/bad\\.scn:3: " "$out"
printf 'epc 8M\nenclave e size 1M\nworkload e trace missing.txt\n' >"$tmp/trace.scn"
out=$("$EPCG" run "$tmp/trace.scn" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && ok "unreadable trace exits 2" || not_ok "unreadable trace exits 2" "exit $rc" "$out"
check_grep "unreadable trace names FILE:LINE" "^$tmp/trace\\.scn:3: cannot read the trace of 'e'" "$out"
out=$("$EPCG" run "$tmp/none.scn" 2>&1)
rc=$?
[ "$rc" -eq 2 ] && ok "missing scenario exits 2" || not_ok "missing scenario exits 2" "exit $rc"
check_grep "missing scenario is named" "none\\.scn" "$out"
check_fails "unknown policy exits 2" 2 "$EPCG" run --policy nope
check_fails "bad seed exits 2" 2 "$EPCG" run --seed x
out=$("$EPCG" run "$tmp/small.scn" --json /nonexistent/dir/x.json 2>&1)
rc=$?
[ "$rc" -eq 3 ] && ok "unwritable output exits 3" || not_ok "unwritable output exits 3" "exit $rc" "$out"
finish
