#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The EPC cgroup selftest of the v17 series (run_epc_cg_selftests.sh),
# through the mounted tree with client processes instead of test_sgx: C
# is the capacity read from misc.capacity, every client builds an enclave
# of C bytes (so it must page), started as the kselftest does (`echo 0 >
# cgroup.procs; exec ...`).  Like test_sgx, a client of the small and
# large cases touches a few pages after building and leaves (16 accesses,
# no final pass): at those limits the clients still building leave
# nothing reclaimable now and then, and a client that faulted in all its
# pages would get SIGBUS (E5) where test_sgx's few touches almost never
# do.  The larger cases have room and run the full check of every page.
# Cases 2 and 3 are races, in the kernel too: clients that advance in
# step reach the limit together, and when one gets ENOMEM the others,
# finding nothing reclaimable, get it too before the first one's release
# frees anything; on a loaded machine all four do so about once in 30
# runs.  Each of the two gets up to 3 rounds.
#   small  = C/512 on small's parent: one client fails
#   large  = 4 x small: of 4 concurrent clients at least one succeeds, of
#            5 at least one fails
#   larger = C: 8 concurrent all succeed; 8 again with one killed by
#            SIGKILL at a random moment, all the others succeed
# and then no sgx_epc is left charged.  The memory-controller case (EPC
# backing store charged to memcg) has no counterpart here: there is no
# memory controller.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
FS_MOUNT_OPTS="--epc 16M"
. tests/e2e/fs.inc

C=$(awk '/^sgx_epc /{print $2}' "$MNT/misc.capacity")
SMALL=$((C / 512))
LARGE=$((4 * SMALL))
K=$MNT/sgx_kselftest
echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$K"
echo "+misc" >"$K/cgroup.subtree_control"
mkdir "$K/sgx_test_small_parent" "$K/sgx_test_large" "$K/sgx_test_larger"
echo "+misc" >"$K/sgx_test_small_parent/cgroup.subtree_control"
mkdir "$K/sgx_test_small_parent/sgx_test_small"
echo "sgx_epc $SMALL" >"$K/sgx_test_small_parent/misc.max"
echo "sgx_epc $LARGE" >"$K/sgx_test_large/misc.max"
echo "sgx_epc $C" >"$K/sgx_test_larger/misc.max"
check_cat "limits written" "$K/sgx_test_large/misc.max" "sgx_epc $LARGE"$'\n'

RES=$(mktemp -d "${TMPDIR:-/tmp}/epcg-ks.XXXXXX")
trap 'rm -rf "$RES"; fs_cleanup' EXIT

# start CGROUP N [ARGS]: N clients in CGROUP, in the background; the
# exit status of the i-th lands in $RES/i, its pid in $RES/pid.i.
start() {
	local cg=$1 n=$2 i
	shift 2
	rm -f "$RES"/*
	PIDS=()
	for i in $(seq "$n"); do
		(
			sh -c "echo 0 > '$K/$cg/cgroup.procs' && exec '$EPCG' enclave --size $C $* '$MNT'" \
				>/dev/null 2>&1 &
			echo $! >"$RES/pid.$i"
			wait $! 2>/dev/null
			echo $? >"$RES/$i"
		) &
		PIDS+=($!)
	done
}
# finish_all: wait for them (in this shell: a subshell cannot); their exit
# statuses, sorted, on one line, into $s.
finish_all() {
	wait "${PIDS[@]}" 2>/dev/null
	s=$(cat "$RES"/[0-9]* | sort -n | tr '\n' ' ' | sed 's/ $//')
}
count() { local n=0 s; for s in $1; do [ "$s" "$2" 0 ] && n=$((n + 1)); done; echo $n; }

FEW="--accesses 16 --verify none"
start sgx_test_small_parent/sgx_test_small 1 $FEW
finish_all
[ "$s" != 0 ] && ok "small: the enclave cannot be built ($s)" ||
	not_ok "small: the enclave cannot be built" "statuses: $s"
for round in 1 2 3; do
	start sgx_test_large 4 $FEW
	finish_all
	[ "$(count "$s" -eq)" -ge 1 ] && break
done
[ "$(count "$s" -eq)" -ge 1 ] &&
	ok "large, 4 concurrent: at least one succeeds ($s, round $round)" ||
	not_ok "large, 4 concurrent: at least one succeeds" "statuses: $s"
for round in 1 2 3; do
	start sgx_test_large 5 $FEW
	finish_all
	[ "$(count "$s" -ne)" -ge 1 ] && break
done
[ "$(count "$s" -ne)" -ge 1 ] &&
	ok "large, 5 concurrent: at least one fails ($s, round $round)" ||
	not_ok "large, 5 concurrent: at least one fails" "statuses: $s"
check_grep "large: refusals counted in misc.events" '^sgx_epc.max [1-9]' \
	"$(cat "$K/sgx_test_large/misc.events")"
start sgx_test_larger 8 --accesses 2000
finish_all
check_eq "larger, 8 concurrent: all succeed" "0 0 0 0 0 0 0 0" "$s"

# Each runs its pattern for 2 s; one is killed between 0.2 and 1.1 s.
start sgx_test_larger 8 --seconds 2
sleep "0.$((2 + RANDOM % 10))"
kill -KILL "$(cat "$RES/pid.$((1 + RANDOM % 8))")"
finish_all
check_eq "larger, 8 concurrent, one killed: all others succeed" \
	"0 0 0 0 0 0 0 137" "$s"

wait_for "leak check: misc.current of sgx_kselftest is 0" \
	grep -qx 'sgx_epc 0' "$K/misc.current"
check_eq "no backing store or window left in the daemon" "0 0" "$(daemon_memfds)"
check_grep "epcg.stat of large saw ENOMEM" '^enomem [1-9]' \
	"$(grep enomem "$K/sgx_test_large/epcg.stat")"
check_grep "epcg.stat of larger saw paging" '^ewb [1-9]' \
	"$(grep ewb "$K/sgx_test_larger/epcg.stat")"
rmdir "$K/sgx_test_small_parent/sgx_test_small" "$K/sgx_test_small_parent" \
	"$K/sgx_test_large" "$K/sgx_test_larger" "$K"
check_fails "cleanup: sgx_kselftest is gone" 1 test -e "$K"
finish
