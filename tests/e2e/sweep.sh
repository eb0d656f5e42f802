#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sweeps and the files of a run as a user meets them (docs/simulator.md,
# docs/fleet.md): `epcg sweep` prints the curve and writes it as CSV and
# HTML; the same sweep cut into shards, run apart and merged in any order
# gives the same bytes; merges of files that do not belong together are
# refused with the reason; a sweep point is the run `epcg run` makes at
# that limit; `epcg run --csv --report --prom` write deterministic files.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

scn=tests/data/sweep.scn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

same() { # NAME FILE1 FILE2
	if cmp -s "$2" "$3"; then ok "$1"; else
		not_ok "$1" "$(diff "$2" "$3" | head -10)"
	fi
}

# ---- options ----
out=$("$EPCG" sweep --help)
check_grep "help shows the sharding options" '--shard I/N' "$out"
check_grep "the command is listed" '^  sweep ' "$("$EPCG" --help)"
out=$("$EPCG" sweep "$scn" --limits 1M 2>&1)
check_grep "the cgroup is required" "^epcg: --cgroup PATH is required" "$out"
check_fails "a usage error exits 2" 2 "$EPCG" sweep "$scn" --limits 1M
out=$("$EPCG" sweep "$scn" --cgroup /app 2>&1)
check_grep "limits are required" "either --limits or --range" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --limits 1M --range 1M:2M:2 2>&1)
check_grep "not both --limits and --range" "either --limits or --range" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --range 64K:1M 2>&1)
check_grep "a bad range is explained" "bad range '64K:1M' \(FROM:TO:POINTS" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --range 1M:64K:3 2>&1)
check_grep "a range must go up" "range '1M:64K:3' must go up" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --limits 1M,12Q 2>&1)
check_grep "a bad limit is named" "bad limit '12Q'" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /nope --limits 1M 2>&1)
check_grep "an unknown cgroup is named" "no cgroup '/nope'" "$out"
out=$("$EPCG" sweep "$scn" --cgroup / --limits 1M 2>&1)
check_grep "the root cannot be swept" "cannot sweep the root cgroup" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --limits 1M --shard 3/3 --out x 2>&1)
check_grep "a bad shard is explained" "bad --shard '3/3' \(I/N with 0 <= I < N" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --limits 1M --shard 0/3 2>&1)
check_grep "a shard needs --out" "--shard needs --out FILE" "$out"
out=$("$EPCG" sweep "$scn" --cgroup /app --limits 1M --shard 0/3 --out x --csv y 2>&1)
check_grep "a shard has no curve of its own" "merge the shards for --csv" "$out"
out=$("$EPCG" sweep --merge --seed 3 a 2>&1)
check_grep "a merge takes no run option" "--merge takes only" "$out"
out=$("$EPCG" sweep --merge 2>&1)
check_grep "a merge needs files" "--merge needs the sweep files" "$out"

# ---- a whole sweep ----
lim=0,64K,256K,1M
"$EPCG" sweep "$scn" --cgroup /app --limits $lim --out "$tmp/all.sweep" \
	--csv "$tmp/all.csv" --report "$tmp/all.html" >"$tmp/all.out" 2>"$tmp/all.err"
rc=$?
[ "$rc" -eq 0 ] && ok "a sweep exits 0" || not_ok "a sweep exits 0" "exit $rc" "$(cat "$tmp/all.err")"
out=$(cat "$tmp/all.out")
check_grep "the header names the cgroup and policy" '^epcg sweep: tests/data/sweep\.scn +cgroup /app +policy v17, seed 5' "$out"
check_grep "the table has its columns" '^limit +faults +EWB +ELDU +miss ratio +accesses +run time +slowdown +ENOMEM +SIGBUS +enclaves$' "$out"
check_grep "the baseline comes first" '^ *max +0 +0 +0 +0\.0000 +4000 .* 1\.000x' "$out"
check_grep "limit 0 ends in ENOMEM" '^ *0 +0 +0 +0 +- +0 +0ns +- +1 +0 +1$' "$out"
check_grep "a small limit pages" '^ *64K +[1-9][0-9]* ' "$out"
check_grep "the dropped set event is noted" "leaving out 1 'set' event of /app" "$(cat "$tmp/all.err")"
check_grep "CSV header" '^limit_bytes,faults,ewb,eldu,miss_ratio,slowdown,runtime_s,accesses,' "$(head -1 "$tmp/all.csv")"
[ "$(wc -l <"$tmp/all.csv")" -eq 6 ] && ok "CSV has a row per point" || not_ok "CSV has a row per point" "$(cat "$tmp/all.csv")"
check_grep "CSV baseline row" '^max,0,0,0,0\.000000,1\.0000,' "$(sed -n 2p "$tmp/all.csv")"
check_grep "the report is HTML" '^<!DOCTYPE html>' "$(head -1 "$tmp/all.html")"
[ "$(grep -c '<svg ' "$tmp/all.html")" -eq 3 ] && ok "the report has three plots" || not_ok "the report has three plots"
check_grep "sweep file header" '^epcg-sweep 1$' "$(head -1 "$tmp/all.sweep")"

"$EPCG" sweep "$scn" --cgroup /app --limits 1M,256K,64K,0,max --out "$tmp/again.sweep" \
	--csv "$tmp/again.csv" --quiet >"$tmp/again.out" 2>&1
[ ! -s "$tmp/again.out" ] && ok "--quiet prints nothing" || not_ok "--quiet prints nothing" "$(cat "$tmp/again.out")"
same "the same sweep gives the same file" "$tmp/all.sweep" "$tmp/again.sweep"
same "limits in any order, same curve" "$tmp/all.csv" "$tmp/again.csv"
"$EPCG" sweep "$scn" --cgroup /app --limits $lim --jobs 3 --csv "$tmp/jobs.csv" -q
same "--jobs 3 gives the same curve" "$tmp/all.csv" "$tmp/jobs.csv"
out=$("$EPCG" sweep "$scn" --cgroup /app --range 64K:1M:4 --csv - -q)
[ "$(printf '%s\n' "$out" | wc -l)" -eq 6 ] && ok "--range 64K:1M:4 gives 4 limits and the baseline" || not_ok "--range gives its points" "$out"
check_grep "--range spaces the limits evenly, in pages" '^393216,' "$(printf '%s\n' "$out" | sed -n 4p)"

# ---- shards, run apart and merged ----
for i in 0 1 2; do
	"$EPCG" sweep "$scn" --cgroup /app --limits $lim --shard $i/3 \
		--out "$tmp/shard-$i.sweep" -q || not_ok "shard $i/3 runs"
done
check_grep "a shard file says which shard" '^shard 1/3$' "$(cat "$tmp/shard-1.sweep")"
"$EPCG" sweep --merge "$tmp/shard-2.sweep" "$tmp/shard-0.sweep" "$tmp/shard-1.sweep" \
	--out "$tmp/merged.sweep" --csv "$tmp/merged.csv" --report "$tmp/merged.html" \
	>"$tmp/merged.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "the merge exits 0" || not_ok "the merge exits 0" "exit $rc" "$(cat "$tmp/merged.out")"
same "merged sweep file = unsharded" "$tmp/all.sweep" "$tmp/merged.sweep"
same "merged CSV = unsharded" "$tmp/all.csv" "$tmp/merged.csv"
same "merged report = unsharded" "$tmp/all.html" "$tmp/merged.html"
same "merged table = unsharded" "$tmp/all.out" "$tmp/merged.out"

out=$("$EPCG" sweep --merge "$tmp/shard-0.sweep" "$tmp/shard-2.sweep" 2>&1)
check_grep "a missing shard is named" '^epcg: shard 1/3 is missing$' "$out"
check_fails "a missing shard exits 2" 2 "$EPCG" sweep --merge "$tmp/shard-0.sweep" "$tmp/shard-2.sweep"
out=$("$EPCG" sweep --merge "$tmp/shard-0.sweep" "$tmp/shard-1.sweep" "$tmp/shard-1.sweep" "$tmp/shard-2.sweep" 2>&1)
check_grep "a shard given twice is named" "shard 1/3 is also in" "$out"
"$EPCG" sweep "$scn" --cgroup /app --limits 0,64K,1M --shard 1/3 --out "$tmp/other.sweep" -q
out=$("$EPCG" sweep --merge "$tmp/shard-0.sweep" "$tmp/other.sweep" "$tmp/shard-2.sweep" 2>&1)
check_grep "shards of another sweep are refused" "are not shards of one sweep: the limits differ" "$out"
"$EPCG" sweep "$scn" --cgroup /app --limits $lim --shard 1/3 --seed 9 --out "$tmp/seed.sweep" -q
out=$("$EPCG" sweep --merge "$tmp/shard-0.sweep" "$tmp/seed.sweep" "$tmp/shard-2.sweep" 2>&1)
check_grep "another seed is refused" "the seeds differ" "$out"
head -c -20 "$tmp/shard-1.sweep" >"$tmp/cut.sweep"
out=$("$EPCG" sweep --merge "$tmp/shard-0.sweep" "$tmp/cut.sweep" "$tmp/shard-2.sweep" 2>&1)
check_grep "a file cut short is refused" "cut\.sweep:[0-9]+: .*cut short" "$out"
out=$("$EPCG" sweep --merge "$tmp/nothere.sweep" 2>&1)
check_grep "a missing file is named" "cannot read .*nothere\.sweep" "$out"

# ---- a point is the run epcg run makes at that limit ----
sed -e 's|^cgroup /app max 1M|cgroup /app max 256K|' -e '/^at 1ms set/d' "$scn" >"$tmp/at256k.scn"
"$EPCG" run "$tmp/at256k.scn" --json "$tmp/at256k.json" -q
want=$(python3 -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["cgroups"] if c["path"]=="/app"][0]; print("%d,%d,%d" % (c["faults"], c["ewb"], c["eldu"]))' "$tmp/at256k.json")
got=$(grep '^262144,' "$tmp/all.csv" | cut -d, -f2-4)
[ -n "$want" ] && [ "$want" = "$got" ] && ok "the 256K point is epcg run at 256K" || not_ok "the 256K point is epcg run at 256K" "run: $want" "sweep: $got"

# ---- the files of a run ----
"$EPCG" run "$scn" --csv "$tmp/r.csv" --report "$tmp/r.html" --prom "$tmp/r.prom" -q
rc=$?
[ "$rc" -eq 0 ] && ok "run writes CSV, HTML and Prometheus" || not_ok "run writes CSV, HTML and Prometheus" "exit $rc"
check_grep "run CSV header" '^time_s,cgroup,current_bytes,max_bytes,faults_per_s,ewb_per_s,eldu_per_s,faults,ewb,eldu$' "$(head -1 "$tmp/r.csv")"
check_grep "run CSV starts at 0 with the root" '^0,/,0,max,0\.000,0\.000,0\.000,0,0,0$' "$(sed -n 2p "$tmp/r.csv")"
check_grep "run CSV has the limit change" '^[0-9.]+,/app,[0-9]+,524288,' "$(cat "$tmp/r.csv")"
[ "$(grep -c '<svg ' "$tmp/r.html")" -eq 6 ] && ok "run report: a plot per cgroup and two rate plots" || not_ok "run report plots" "$(grep -c '<svg ' "$tmp/r.html")"
prom=$(cat "$tmp/r.prom")
check_grep "prom uses the daemon's names" '^epcg_sgx_epc_limit_bytes\{cgroup="/app"\} 524288$' "$prom"
check_grep "prom has the policy" '^epcg_sgx_info\{policy="v17"\} 1$' "$prom"
check_grep "prom has per-cgroup paging counters" '^epcg_sgx_epc_faults_total\{cgroup="/app/sub"\} [1-9]' "$prom"
"$EPCG" run "$scn" --csv "$tmp/r2.csv" --report "$tmp/r2.html" --prom - -q >"$tmp/r2.prom"
same "run CSV is deterministic" "$tmp/r.csv" "$tmp/r2.csv"
same "run report is deterministic" "$tmp/r.html" "$tmp/r2.html"
same "--prom - writes the same text to stdout" "$tmp/r.prom" "$tmp/r2.prom"
check_fails "an unwritable output exits 3" 3 "$EPCG" run "$scn" --csv "$tmp/no/such/dir/x.csv" -q
finish
