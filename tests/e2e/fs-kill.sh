#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A client killed at any moment leaks nothing (SPEC E12, H10): 20 clients
# in a limited cgroup, each killed by SIGKILL at a random moment: half of
# them within 30 ms of their start, while the enclave is being built
# (pages added, reclaim at the limit), half within 200 ms of their first
# fault, while it runs (faults served by the daemon); one or two threads,
# so some die with several connections open.  After every kill misc.current must return to 0, and
# at the end no backing store or window may be left in the daemon.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
FS_MOUNT_OPTS="--epc 8M"
. tests/e2e/fs.inc

KILLS=20
echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/k"
echo "sgx_epc 1048576" >"$MNT/k/misc.max"

faults() { awk '$1 == "faults" {print $2}' "$MNT/k/epcg.stat"; }
killed=0 clean=0 leaks="" in_build=0 in_run=0
for i in $(seq "$KILLS"); do
	f0=$(faults)
	sh -c "echo 0 > '$MNT/k/cgroup.procs' && exec '$EPCG' enclave --size 4M --threads $((1 + i % 2)) --seconds 10 '$MNT'" \
		>/dev/null 2>&1 &
	pid=$!
	# Odd kills early (building takes tens of ms); even ones once it
	# faults, a little later.
	if [ $((i % 2)) = 1 ]; then
		ms=$((RANDOM % 30))
	else
		for _ in $(seq 200); do
			[ "$(faults)" != "$f0" ] && break
			sleep 0.01
		done
		ms=$((RANDOM % 200))
	fi
	sleep "0.$(printf '%03d' "$ms")"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	[ $? -eq 137 ] && killed=$((killed + 1))
	# No fault served yet: it died building (or before it began).
	if [ "$(faults)" = "$f0" ]; then
		in_build=$((in_build + 1))
	else
		in_run=$((in_run + 1))
	fi
	for _ in $(seq 100); do
		grep -qx 'sgx_epc 0' "$MNT/k/misc.current" && break
		sleep 0.05
	done
	if grep -qx 'sgx_epc 0' "$MNT/k/misc.current"; then
		clean=$((clean + 1))
	else
		leaks="$leaks kill $i: $(cat "$MNT/k/misc.current")"
	fi
done
check_eq "every client died by SIGKILL" "$KILLS" "$killed"
check_eq "after each kill misc.current returned to 0" "$KILLS" "$clean"
[ -n "$leaks" ] && printf '# %s\n' "$leaks"
echo "# $in_build kills before the first fault, $in_run while faulting"
[ "$in_build" -ge 1 ] && [ "$in_run" -ge 1 ] &&
	ok "kills landed while building and while faults were served" ||
	not_ok "kills landed while building and while faults were served" \
		"$in_build before the first fault, $in_run after"
check_eq "no backing store or window left in the daemon" "0 0" \
	"$(daemon_memfds)"
check_grep "the daemon still serves clients" 'verified=256$' \
	"$("$EPCG" enclave --size 1M "$MNT")"
check_cat "and the root is back to 0" "$MNT/misc.current" $'sgx_epc 0\n'
finish
