#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The simulator agrees with the live model: the same limits give the same
# outcomes (ok, ENOMEM with the same number of pages added, SIGBUS) and
# the same misc.peak and final misc.current, whether a client enclave runs
# in a real process on the daemon's EPC (`epcg enclave` on `epcg mount`)
# or the same enclave runs in a scenario in virtual time (`epcg run`).
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
FS_MOUNT_OPTS="--epc 8M --sections 2"
. tests/e2e/fs.inc

command -v python3 >/dev/null 2>&1 || skip_all "no python3"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; fs_cleanup' EXIT

# live CGROUP ARGS...: a client enclave in CGROUP; its output and "rc=N".
live() {
	local cg=$1 out
	shift
	out=$(sh -c "echo 0 > '$MNT/$cg/cgroup.procs' && exec '$EPCG' enclave $* '$MNT'" 2>&1)
	echo "$out rc=$?"
}
peak() { awk '/^sgx_epc /{print $2}' "$MNT/$1/misc.peak"; }
current() { awk '/^sgx_epc /{print $2}' "$MNT/$1/misc.current"; }

# sim NAME SCENARIO-LINES: run it; print "OUTCOME PAGES PEAK CURRENT" of
# enclave e and cgroup /NAME.
sim() {
	local name=$1
	shift
	{ echo "epc 8M sections 2"; printf '%s\n' "$@"; } >"$tmp/$name.scn"
	"$EPCG" run "$tmp/$name.scn" --quiet --json "$tmp/$name.json" >/dev/null 2>&1
	python3 - "$tmp/$name.json" "/$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
e = [x for x in r["enclaves"] if x["name"] == "e"][0]
c = [x for x in r["cgroups"] if x["path"] == sys.argv[2]][0]
print(e["outcome"], e["pages"], c["peak"], c["current"])
PY
}

echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/fits" "$MNT/nom" "$MNT/bus"

# A 1 MiB enclave under 2 MiB: it fits (256 pages, the SECS, a VA page).
echo "sgx_epc 2097152" >"$MNT/fits/misc.max"
out=$(live fits --size 1M --pattern scan --accesses 1024)
check_grep "live: a 1 MiB enclave fits 2 MiB" 'pages=256 .*faults=0 .* rc=0$' "$out"
got=$(sim fits "cgroup /fits max 2M" "enclave e size 1M cgroup /fits" \
	"workload e scan accesses 1024")
check_eq "simulated: the same outcome, peak and current" \
	"ok 256 $(peak fits) $(current fits)" "$got"

# A 2 MiB enclave under 12 KiB: the first VA page, the SECS and one page
# fit; page 511 needs a second VA page, then nothing is reclaimable.
echo "sgx_epc 12288" >"$MNT/nom/misc.max"
out=$(live nom --size 2M)
check_grep "live: ENOMEM after 511 pages" 'build: ENOMEM \(511 of 512 pages added\) rc=1$' "$out"
got=$(sim nom "cgroup /nom max 12K" "enclave e size 2M cgroup /nom")
check_eq "simulated: ENOMEM after as many pages, same peak and current" \
	"ENOMEM 511 $(peak nom) $(current nom)" "$got"

# A 1 MiB enclave faulting under 256 KiB, then the limit drops to one
# page: its VA page fills it, so its next fault has nothing to reclaim.
echo "sgx_epc 262144" >"$MNT/bus/misc.max"
sh -c "echo 0 > '$MNT/bus/cgroup.procs'; exec '$EPCG' enclave --size 1M --seconds 20 '$MNT'" \
	>/dev/null 2>&1 &
pid=$!
wait_for "live: a client runs, faulting" grep -q '^faults [1-9]' "$MNT/bus/epcg.stat"
echo "sgx_epc 4096" >"$MNT/bus/misc.max"
wait "$pid" 2>/dev/null
check_eq "live: killed by SIGBUS" "135" "$?"
wait_for "live: everything released" \
	grep -qx 'sgx_epc 0' "$MNT/bus/misc.current"
got=$(sim bus "cgroup /bus max 256K" "enclave e size 1M cgroup /bus" \
	"workload e uniform duration 1s think 1us" "at 100ms set /bus max 4K")
check_eq "simulated: SIGBUS, same peak and current" \
	"SIGBUS 256 $(peak bus) $(current bus)" "$got"
finish
