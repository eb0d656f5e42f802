#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Charging the mounted tree by hand (epcg mount --test-hooks): `epcg misc
# charge|uncharge|capacity`, EBUSY at a limit, events counters and their
# poll() wake-ups (M6), hierarchical current and peak (M8), a removed
# cgroup that stays charged until uncharged (T4, M7), and a control
# socket that survives garbage.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/fs.inc

# err CMD...: the command's stderr and exit status, "EBUSY 1" or " 0".
err() { local e; e=$("$@" 2>&1 >/dev/null); echo "$e $?"; }

echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/p"
echo "+misc" >"$MNT/p/cgroup.subtree_control"
mkdir "$MNT/p/c"
echo "sgx_epc 16384" >"$MNT/p/misc.max"
echo "sgx_epc 8192" >"$MNT/p/c/misc.max"

check_eq "charge within the limit is silent" " 0" \
	"$(err "$EPCG" misc charge "$MNT/p/c" sgx_epc 8192)"
check_cat "current is hierarchical" "$MNT/misc.current" $'sgx_epc 8192\n'
check_cat "the parent counts it" "$MNT/p/misc.current" $'sgx_epc 8192\n'
check_eq "over the cgroup's own limit: EBUSY" "EBUSY 1" \
	"$(err "$EPCG" misc charge "$MNT/p/c" sgx_epc 4096)"
check_cat "local event at the failing level" "$MNT/p/c/misc.events.local" \
	$'sgx_epc.max 1\n'
check_cat "and hierarchical" "$MNT/p/c/misc.events" $'sgx_epc.max 1\n'
check_cat "the parent's misc.events counts it" "$MNT/p/misc.events" \
	$'sgx_epc.max 1\n'
check_cat "the parent's misc.events.local does not" \
	"$MNT/p/misc.events.local" $'sgx_epc.max 0\n'
check_cat "a failed charge changes nothing" "$MNT/p/c/misc.current" \
	$'sgx_epc 8192\n'
check_eq "charge at the parent" " 0" \
	"$(err "$EPCG" misc charge "$MNT/p" sgx_epc 8192)"
echo "sgx_epc max" >"$MNT/p/c/misc.max"
check_eq "the parent's limit refuses the child" "EBUSY 1" \
	"$(err "$EPCG" misc charge "$MNT/p/c" sgx_epc 4096)"
check_cat "parent's local event" "$MNT/p/misc.events.local" $'sgx_epc.max 1\n'
check_cat "the child's events.local unchanged" "$MNT/p/c/misc.events.local" \
	$'sgx_epc.max 1\n'
check_cat "peak never decreases" "$MNT/p/misc.peak" $'sgx_epc 16384\n'

# ---- poll() wake-ups on misc.events and misc.events.local ------------------
check_eq "misc.events wakes a poller" "woken" \
	"$("$HELPER" poll "$MNT/p/misc.events" 3000 \
		"$EPCG misc charge $MNT/p/c sgx_epc 4096 2>/dev/null")"
check_eq "misc.events.local wakes a poller" "woken" \
	"$("$HELPER" poll "$MNT/p/misc.events.local" 3000 \
		"$EPCG misc charge $MNT/p sgx_epc 4096 2>/dev/null")"
check_eq "a successful charge does not" "timeout" \
	"$("$HELPER" poll "$MNT/p/misc.events" 300 \
		"$EPCG misc uncharge $MNT/p sgx_epc 4096; \
		 $EPCG misc charge $MNT/p sgx_epc 4096")"

# ---- uncharge, removed cgroups ---------------------------------------------------
check_eq "uncharging more than was charged: EINVAL" "EINVAL 1" \
	"$(err "$EPCG" misc uncharge "$MNT/p/c" sgx_epc 12288)"
check "rmdir with charges outstanding" rmdir "$MNT/p/c"
check_cat "the removed cgroup stays counted" "$MNT/p/misc.current" \
	$'sgx_epc 16384\n'
check_eq "uncharge after rmdir (dying cgroup)" " 0" \
	"$(err "$EPCG" misc uncharge "$MNT/p/c" sgx_epc 8192)"
check_cat "and it is gone from the counts" "$MNT/p/misc.current" \
	$'sgx_epc 8192\n'
check_eq "charge to a missing cgroup: ENOENT" "ENOENT 1" \
	"$(err "$EPCG" misc charge "$MNT/p/c" sgx_epc 4096)"
check_eq "unknown resource: EINVAL" "EINVAL 1" \
	"$(err "$EPCG" misc charge "$MNT/p" tdx 1)"
check_eq "resource with capacity 0: EINVAL" "EINVAL 1" \
	"$(err "$EPCG" misc charge "$MNT/p" sev 1)"
check_eq "uncharge the rest" " 0" \
	"$(err "$EPCG" misc uncharge "$MNT/p" sgx_epc 8192)"
check_cat "no leaked charges" "$MNT/misc.current" $'sgx_epc 0\n'

# ---- capacity ---------------------------------------------------------------------
check_eq "capacity of sev" " 0" "$(err "$EPCG" misc capacity "$MNT" sev 16)"
check_cat "misc.capacity lists it first" "$MNT/misc.capacity" \
	$'sev 16\nsgx_epc 1048576\n'
check_cat "misc.max lists it" "$MNT/p/misc.max" $'sev max\nsgx_epc 16384\n'
check_eq "above capacity: EBUSY" "EBUSY 1" \
	"$(err "$EPCG" misc charge "$MNT/p" sev 17)"
check_cat "capacity is checked at the first level" "$MNT/p/misc.events" \
	$'sev.max 1\nsgx_epc.max 4\n'
check_eq "above capacity at the root: EBUSY" "EBUSY 1" \
	"$(err "$EPCG" misc charge "$MNT" sev 17)"
check_cat "a failure at the root shows in no file" "$MNT/p/misc.events" \
	$'sev.max 1\nsgx_epc.max 4\n'
check_eq "capacity back to 0" " 0" "$(err "$EPCG" misc capacity "$MNT" sev 0)"
check_cat "sev is hidden again" "$MNT/misc.capacity" $'sgx_epc 1048576\n'

# ---- the control socket survives misuse -----------------------------------------
check_eq "oversized, cut, binary and unknown requests" \
	"-7 hangup -22 -22" \
	"$("$HELPER" abuse "$MNT" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the daemon still answers" " 0" \
	"$(err "$EPCG" misc charge "$MNT/p" sgx_epc 4096)"
"$EPCG" misc uncharge "$MNT/p" sgx_epc 4096
check_eq "usage errors exit 2" "2" \
	"$("$EPCG" misc charge "$MNT/p" sgx_epc 12Q >/dev/null 2>&1; echo $?)"
check_eq "no daemon there: ECONNREFUSED" "ECONNREFUSED 1" \
	"$(err "$EPCG" misc charge /nonexistent/x sgx_epc 4096)"

# ---- umount ---------------------------------------------------------------------
check "epcg umount" "$EPCG" umount "$MNT"
check_fails "the tree is gone" 1 test -e "$MNT/cgroup.procs"
check_eq "the daemon is gone" "ECONNREFUSED 1" \
	"$(err "$EPCG" misc charge "$MNT" sgx_epc 4096)"
# ---- the daemon's lifetime ---------------------------------------------------------
M2=$(mktemp -d "${TMPDIR:-/tmp}/epcg-e2e.XXXXXX")
"$EPCG" mount -f "$M2" 2>/dev/null &
dpid=$!
for _ in $(seq 100); do [ -e "$M2/cgroup.procs" ] && break; sleep 0.05; done
check "a foreground mount serves the tree" test -e "$M2/cgroup.procs"
check_eq "a second mount of the same directory fails" "1" \
	"$("$EPCG" mount "$M2" >/dev/null 2>&1; echo $?)"
check_eq "hooks are off without --test-hooks: EOPNOTSUPP" "EOPNOTSUPP 1" \
	"$(err "$EPCG" misc capacity "$M2" sev 1)"
kill -TERM "$dpid"
wait "$dpid"
check_eq "SIGTERM: the daemon exits 0" "0" "$?"
check_fails "and the tree is unmounted" 1 test -e "$M2/cgroup.procs"
fusermount3 -u "$M2" 2>/dev/null
rmdir "$M2"
check_eq "mount of a missing directory fails" "1" \
	"$("$EPCG" mount /nonexistent/dir >/dev/null 2>&1; echo $?)"
finish
