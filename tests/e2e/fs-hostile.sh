#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon survives hostile clients, and they cannot reach each other:
# random bytes and random frames on the socket, malformed enclave
# requests and window operations, forged enclave ids from another process
# (isolation by SO_PEERCRED), clients that hang up in the middle of a
# request.  Each produces a logged error for that client only, while a
# well-behaved client in another cgroup runs to completion untouched;
# afterwards nothing is left charged and no backing store is left.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
LOG=$(mktemp "${TMPDIR:-/tmp}/epcg-log.XXXXXX")
FS_MOUNT_OPTS="--epc 8M --log $LOG"
. tests/e2e/fs.inc
trap 'rm -f "$LOG"; fs_cleanup' EXIT

echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/good" "$MNT/bad"
echo "sgx_epc 1048576" >"$MNT/good/misc.max"
sh -c "echo 0 > '$MNT/good/cgroup.procs' && exec '$EPCG' enclave --size 2M --seconds 3 '$MNT'" \
	>"$LOG.good" 2>&1 &
good=$!
wait_for "a well-behaved client runs" grep -q '^sgx_epc [1-9]' "$MNT/good/misc.current"

# in_bad CMD...: run CMD as a process of cgroup bad; its pid is in $bad.
in_bad() {
	sh -c "echo 0 > '$MNT/bad/cgroup.procs' && exec \"\$@\"" sh "$@" >"$LOG.out" &
	bad=$!
	wait "$bad"
	out=$(cat "$LOG.out")
}

in_bad "$HELPER" hostile "$MNT" 42
check_grep "random bytes: E2BIG and a hang-up" \
	'^random bytes: 20 answered, 0 not$' "$out"
check_grep "random frames: EINVAL, the connection lives on" \
	'^random frames: 50 EINVAL, 0 other$' "$out"
check_grep "malformed enclave requests: EINVAL; a wrong id ENOENT; a second window EEXIST" \
	'^(EINVAL ){17}ENOENT EEXIST$' "$out"
check_grep "bad window operations: EINVAL after the good one" \
	'^(EINVAL/1 ){4}EINVAL/1$' "$out"
check_grep "the enclave is intact afterwards" '^still ok$' "$out"
check_grep "enclave requests without a window: ENOBUFS" '^no window: ENOBUFS$' "$out"
hostile=$bad
check_grep "logged for that client: over-long messages" \
	"client pid $hostile uid [0-9]+: message over 4096 bytes" "$(cat "$LOG")"
check_grep "binary requests" "client pid $hostile uid [0-9]+: malformed request \(NUL byte\)" \
	"$(cat "$LOG")"
check_grep "malformed enclave requests" \
	"client pid $hostile uid [0-9]+: malformed enclave request" "$(cat "$LOG")"
check_grep "the log is bounded per connection" \
	"client pid $hostile uid [0-9]+: further messages of this connection are not logged" \
	"$(cat "$LOG")"

in_bad "$HELPER" forge "$MNT"
check_grep "another process's enclave id: ENOENT for every request" \
	'^other ENOENT ENOENT ENOENT ENOENT ENOENT$' "$out"
check_grep "a second connection of the owner may use it" '^same ok$' "$out"
check_grep "and the owner's enclave is intact" '^owner ok$' "$out"
check_grep "the forger is logged" 'no enclave [0-9]+ for this client' "$(cat "$LOG")"

in_bad "$HELPER" cut "$MNT"
check_eq "hang-ups in the middle of adds, accesses and frames" "done" "$out"
check_grep "logged" "client pid $bad uid [0-9]+: (gone before the reply|hung up in the middle of a message)" \
	"$(cat "$LOG")"
wait_for "everything those clients held is released" \
	grep -qx 'sgx_epc 0' "$MNT/bad/misc.current"

wait "$good"
check_eq "the well-behaved client finished" "0" "$?"
check_grep "with every page intact" 'verified=512$' "$(cat "$LOG.good")"
check_eq "and nothing was logged about it" "" "$(grep "client pid $good " "$LOG")"
wait_for "nothing left charged" grep -qx 'sgx_epc 0' "$MNT/misc.current"
check_eq "no backing store or window left in the daemon" "0 0" "$(daemon_memfds)"
check_grep "the daemon still serves clients" 'verified=256$' \
	"$("$EPCG" enclave --size 1M "$MNT")"
rm -f "$LOG.good" "$LOG.out"
finish
