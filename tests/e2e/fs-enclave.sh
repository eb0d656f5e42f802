#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Client enclaves in real processes (`epcg enclave`) on the software EPC
# of a mounted tree: the summary line, charging to the client's cgroup
# (T5, with fork inheritance), paging under a limit with every page read
# back intact, threads and patterns, the E5 outcomes (ENOMEM with the
# pages added, a fault that cannot be served killing the client with
# SIGBUS), epcg.stat (X1), the mount's EPC options, usage errors, and a
# daemon unmounted under a running client.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
FS_MOUNT_OPTS="--test-hooks --epc 8M"
. tests/e2e/fs.inc

# run CGROUP ARGS...: `epcg enclave ARGS... $MNT` as a process written
# into CGROUP/cgroup.procs (the kselftest's way); stdout and stderr, then
# "rc=STATUS".
run() {
	local cg=$1 out
	shift
	out=$(sh -c "echo 0 > '$MNT/$cg/cgroup.procs' && exec '$EPCG' enclave $* '$MNT'" 2>&1)
	echo "$out rc=$?"
}
current() { awk '/^sgx_epc /{print $2}' "$MNT/$1/misc.current"; }
peak() { awk '/^sgx_epc /{print $2}' "$MNT/$1/misc.peak"; }
stat_of() { awk -v k="$2" '$1 == k {print $2}' "$MNT/$1/epcg.stat"; }

check_cat "misc.capacity is the software EPC" "$MNT/misc.capacity" \
	$'sgx_epc 8388608\n'
echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/x" "$MNT/y" "$MNT/z" "$MNT/p" "$MNT/plain"

# ---- a client: build, run, check every page ----------------------------------
out=$(run x --size 1M)
check_grep "summary line" \
	'^enclave [0-9]+: pages=256 tcs=1 threads=1 accesses=1020 writes=[0-9]+ seconds=[0-9.]+ rate=[0-9]+ faults=0 ewb=0 eldu=0 verified=256 rc=0$' \
	"$out"
check_eq "its pages were charged to its cgroup (SECS, VA, 256 pages)" \
	"1056768" "$(peak x)"
check_eq "and released when it exited" "0" "$(current x)"
check_eq "the root counts it too" "1056768" "$(peak .)"
out=$(sh -c "echo 0 > $MNT/y/cgroup.procs; o=\$('$EPCG' enclave --size 64K '$MNT'); echo \"\$o rc=\$?\"" 2>&1)
check_grep "a child of a process in y (fork inheritance)" 'verified=16 rc=0$' "$out"
check_eq "is charged to y" "73728" "$(peak y)"

# ---- paging under a limit --------------------------------------------------------
echo "sgx_epc 1048576" >"$MNT/p/misc.max"
echo "sgx_epc 1048576" >"$MNT/x/misc.max"
out=$(run p --size 4M --threads 2 --pattern zipf:0.8 --accesses 8000)
check_grep "4 MiB under a 1 MiB limit: every page read back" \
	'threads=2 accesses=8000 .* verified=1024 rc=0$' "$out"
check_grep "it paged" 'faults=[1-9][0-9]* ewb=[1-9][0-9]* eldu=[1-9]' "$out"
check_eq "the limit held: the peak is the limit" "1048576" "$(peak p)"
check_eq "nothing left charged" "0" "$(current p)"
check_grep "epcg.stat counts the write-backs" '^[1-9]' "$(stat_of p ewb)"
check_grep "and the reloads" '^[1-9]' "$(stat_of p eldu)"
out=$(run x --size 2M --threads 3 --tcs 4 --pattern scan --writes 100 --seconds 0.3)
check_grep "three threads, a scan, all writes, for a time" \
	'tcs=4 threads=3 .* verified=512 rc=0$' "$out"
out=$(run x --size 2M --pattern uniform --writes 0 --seed 7 --accesses 3000)
check_grep "reads only" 'accesses=3000 writes=0 .* rc=0$' "$out"
out=$(run x --size 4M --touch 64 --writes 50 --accesses 20000)
check_grep "cache-line reads among page writes, paging" \
	'accesses=20000 .* faults=[1-9][0-9]* .* verified=1024 rc=0$' "$out"

# ---- E5: ENOMEM with the pages added, SIGBUS ----------------------------------------
# 16 pages allowed, 12 taken by a raw charge: the first VA page and the
# SECS fill 14, the second VA page (page 511) 15, the third (page 1023)
# 16, and then nothing is left to reclaim for page 1023 itself.
echo "sgx_epc 65536" >"$MNT/z/misc.max"
"$EPCG" misc charge "$MNT/z" sgx_epc 48K
out=$(run z --size 8M)
check_grep "add pages at a limit, nothing reclaimable: ENOMEM, pages added" \
	'build: ENOMEM \(1023 of 2048 pages added\) rc=1$' "$out"
# A failed client closes its connection without a remove: the daemon
# releases the enclave when it sees the connection end, asynchronously.
wait_for "everything it held is released" \
	grep -qx 'sgx_epc 49152' "$MNT/z/misc.current"
check_eq "epcg.stat counts the ENOMEM" "1" "$(stat_of z enomem)"
"$EPCG" misc uncharge "$MNT/z" sgx_epc 48K
echo "sgx_epc 4096" >"$MNT/z/misc.max"
out=$(run z --size 64K)
check_grep "no room for the SECS: ENOMEM at create" \
	'create: ENOMEM \(0 of 16 pages added\) rc=1$' "$out"

echo "sgx_epc 262144" >"$MNT/z/misc.max"
sh -c "echo 0 > '$MNT/z/cgroup.procs'; exec '$EPCG' enclave --size 1M --seconds 20 '$MNT'" \
	2>"$MNT.sigbus" >/dev/null &
pid=$!
wait_for "a client runs, faulting" grep -q '^faults [1-9]' "$MNT/z/epcg.stat"
echo "sgx_epc 4096" >"$MNT/z/misc.max"
wait "$pid" 2>/dev/null
check_eq "a fault that cannot be served: killed by SIGBUS" "135" "$?"
check_grep "it says why first" 'EFAULT\): SIGBUS' "$(cat "$MNT.sigbus")"
rm -f "$MNT.sigbus"
check_eq "epcg.stat counts the SIGBUS" "1" "$(stat_of z sigbus)"
wait_for "misc.current back to 0" grep -qx 'sgx_epc 0' "$MNT/z/misc.current"

# ---- epcg.stat ----------------------------------------------------------------------
check_grep "flat keyed, the X1 counters in order" \
	$'^ewb [0-9]+\neldu [0-9]+\nfaults [0-9]+\nreclaim_scans [0-9]+\nenomem [0-9]+\nsigbus [0-9]+\npaging_ns [0-9]+$' \
	"$(cat "$MNT/x/epcg.stat")"
check_eq "0444 like the other counters" "444" "$(stat -c %a "$MNT/x/epcg.stat")"
check_eq "not writable, even by root" "open EACCES" "$(wr "$MNT/x/epcg.stat" 1)"
check_eq "at the root too" "7" "$(wc -l <"$MNT/epcg.stat")"
mkdir "$MNT/plain/inner"
check_fails "not where misc is not enabled" 1 test -e "$MNT/plain/inner/epcg.stat"
check_eq "its name is taken: mkdir EEXIST" "File exists" \
	"$(mkdir "$MNT/epcg.stat" 2>&1 | grep -o 'File exists')"
check_cat "kernel files keep their format" "$MNT/x/misc.current" $'sgx_epc 0\n'

# ---- usage errors -------------------------------------------------------------------
for bad in "--threads 0" "--pattern zipf:0" "--pattern bogus" "--size 1000" \
	"--tcs 1 --threads 2" "--writes 101" "--seconds -1" "--touch 48" \
	"--touch 4" "--touch 8192" ""; do
	# shellcheck disable=SC2086 # the options are words
	check_fails "usage error exits 2: '$bad'" 2 "$EPCG" enclave $bad
done
check_eq "no daemon there: ECONNREFUSED" "1 ECONNREFUSED" \
	"$("$EPCG" enclave /nonexistent 2>&1 >/dev/null | grep -o ECONNREFUSED |
		sed 's/^/1 /')"
check_fails "mount --sections 9 exits 2" 2 "$EPCG" mount --sections 9 "$MNT"
check_fails "mount --epc 1000 exits 2" 2 "$EPCG" mount --epc 1000 "$MNT"
check_fails "mount --policy bogus exits 2" 2 "$EPCG" mount --policy bogus "$MNT"
check_eq "sgx_epc's capacity is the EPC's: EBUSY" "EBUSY" \
	"$("$EPCG" misc capacity "$MNT" sgx_epc 4M 2>&1)"

# ---- another machine: sections, policy; unmounted under a client ------------------
M2=$(mktemp -d "${TMPDIR:-/tmp}/epcg-e2e.XXXXXX")
check "mount --epc 12M --sections 3 --policy intent" \
	"$EPCG" mount --epc 12M --sections 3 --policy intent "$M2"
check_cat "its capacity" "$M2/misc.capacity" $'sgx_epc 12582912\n'
check_grep "an enclave runs there" 'verified=256$' \
	"$("$EPCG" enclave --size 1M "$M2")"
"$EPCG" enclave --size 1M --seconds 30 "$M2" >/dev/null 2>&1 &
pid=$!
sleep 0.3
check "epcg umount under a running client" "$EPCG" umount "$M2"
wait "$pid"
check_eq "the client sees the daemon go and fails" "1" "$?"
check_fails "the tree is gone" 1 test -e "$M2/cgroup.procs"
rmdir "$M2"
finish
