#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Processes in the mounted tree (T3, T5): cgroup.procs writes and reads,
# each error code, the kselftest's `echo 0 > cgroup.procs; exec`,
# populated going 1 -> 0 when the process exits, and poll() wake-ups on
# cgroup.events.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/fs.inc

mkdir "$MNT/a" "$MNT/b"

# ---- membership by `echo 0 > cgroup.procs` then exec ----------------------------
sh -c "echo 0 > $MNT/a/cgroup.procs; exec sleep 2" &
pid=$!
for _ in $(seq 50); do grep -qx "$pid" "$MNT/a/cgroup.procs" && break; sleep 0.05; done
check_cat "the writer is listed" "$MNT/a/cgroup.procs" "$pid"$'\n'
check_cat "populated 1" "$MNT/a/cgroup.events" $'populated 1\nfrozen 0\n'
check_eq "rmdir of a cgroup with a process: EBUSY" "busy" \
	"$(rmdir "$MNT/a" 2>&1 | grep -o busy)"
echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/a/inner"
check_eq "+misc in a cgroup with processes: EBUSY" "EBUSY" \
	"$(wr "$MNT/a/cgroup.subtree_control" +misc)"
wait "$pid"
for _ in $(seq 100); do
	grep -q "populated 0" "$MNT/a/cgroup.events" && break
	sleep 0.05
done
check_cat "populated 0 after the exit" "$MNT/a/cgroup.events" $'populated 0\nfrozen 0\n'
check_cat "cgroup.procs empty after the exit" "$MNT/a/cgroup.procs" ""
rmdir "$MNT/a/inner"

# ---- writes and their errors ----------------------------------------------------
sleep 30 &
s1=$!
sleep 30 &
s2=$!
check_eq "two pids, one write each on one fd" "ok ok" \
	"$(wr "$MNT/b/cgroup.procs" "$s2" "$s1")"
check_cat "read is sorted, one per line" "$MNT/b/cgroup.procs" \
	"$(printf '%s\n' "$s1" "$s2" | sort -n)"$'\n'
check_cat "b is populated" "$MNT/b/cgroup.events" $'populated 1\nfrozen 0\n'
check_eq "garbage and negatives: EINVAL" "EINVAL EINVAL EINVAL EINVAL" \
	"$(wr "$MNT/a/cgroup.procs" abc -1 "$s1 $s2" "$s1"$'\n'"$s2")"
check_eq "no such process: ESRCH" "ESRCH" "$(wr "$MNT/a/cgroup.procs" 2147483646)"
check_cat "failed writes moved nothing" "$MNT/a/cgroup.procs" ""
check_eq "kernel thread: EINVAL" "EINVAL" "$(wr "$MNT/a/cgroup.procs" 2)"
mkdir "$MNT/a/c"
echo "+misc" >"$MNT/a/cgroup.subtree_control"
check_eq "into a cgroup with misc in its subtree_control: EBUSY" "EBUSY" \
	"$(wr "$MNT/a/cgroup.procs" "$s1")"
check_eq "into its child: ok" "ok" "$(wr "$MNT/a/c/cgroup.procs" "$s1")"
check_cat "moved out of b" "$MNT/b/cgroup.procs" "$s2"$'\n'
check_cat "a is populated through its child" "$MNT/a/cgroup.events" \
	$'populated 1\nfrozen 0\n'

# ---- poll() wake-ups on cgroup.events ------------------------------------------
check_eq "poll wakes when populated goes 1 -> 0" "woken" \
	"$("$HELPER" poll "$MNT/a/c/cgroup.events" 3000 "kill $s1")"
wait "$s1" 2>/dev/null
check_cat "c unpopulated after the kill" "$MNT/a/c/cgroup.events" \
	$'populated 0\nfrozen 0\n'
check_eq "poll wakes when a process moves in" "woken" \
	"$("$HELPER" poll "$MNT/a/c/cgroup.events" 3000 \
		"echo $s2 > $MNT/a/c/cgroup.procs")"
check_eq "no wake-up without a change" "timeout" \
	"$("$HELPER" poll "$MNT/a/c/cgroup.events" 300 true)"
check_eq "root may move it back to the root" "ok" "$(wr "$MNT/cgroup.procs" "$s2")"
check_grep "the root lists it" "^$s2\$" "$(cat "$MNT/cgroup.procs")"
kill "$s2"
wait "$s2" 2>/dev/null

finish
