#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The mounted tree's shape and files with everyday tools: modes, owners,
# sizes, contents, mkdir/rmdir rules, cgroup.subtree_control (T1, T2, T4)
# and misc.max writes (M3 to M5), each error code, and that a failed
# write changes nothing.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/fs.inc

# ---- T1, M3: files, modes, owners, sizes -----------------------------------
check_eq "root lists the core and root misc files" \
	"cgroup.controllers cgroup.procs cgroup.subtree_control epcg.stat misc.capacity misc.current misc.peak" \
	"$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
check_eq "file modes, owner and size 0" \
	"444 0:0 0 644 0:0 0 644 0:0 0" \
	"$(stat -c '%a %u:%g %s' "$MNT/cgroup.controllers" "$MNT/cgroup.procs" \
		"$MNT/cgroup.subtree_control" | tr '\n' ' ' | sed 's/ $//')"
check_cat "root cgroup.controllers" "$MNT/cgroup.controllers" $'misc\n'
check_cat "root subtree_control starts empty" "$MNT/cgroup.subtree_control" ""
check_cat "misc.capacity lists sgx_epc" "$MNT/misc.capacity" $'sgx_epc 1048576\n'
check_cat "root misc.current" "$MNT/misc.current" $'sgx_epc 0\n'
check_cat "root misc.peak" "$MNT/misc.peak" $'sgx_epc 0\n'
check_fails "root has no misc.max" 1 cat "$MNT/misc.max"
check_fails "root has no cgroup.events" 1 cat "$MNT/cgroup.events"

mkdir "$MNT/a"
check_eq "directory mode 0755, owner root" "755 0:0 directory" \
	"$(stat -c '%a %u:%g %F' "$MNT/a")"
check_eq "child lists core files only" \
	"cgroup.controllers cgroup.events cgroup.procs cgroup.subtree_control cgroup.type" \
	"$(ls "$MNT/a" | tr '\n' ' ' | sed 's/ $//')"
check_cat "child controllers empty without +misc" "$MNT/a/cgroup.controllers" ""
check_cat "cgroup.events" "$MNT/a/cgroup.events" $'populated 0\nfrozen 0\n'
check_cat "cgroup.type" "$MNT/a/cgroup.type" $'domain\n'

# ---- T2: cgroup.subtree_control ---------------------------------------------
check_eq "+misc with a bad token fails EINVAL" "EINVAL" \
	"$(wr "$MNT/cgroup.subtree_control" "+misc +memory")"
check_cat "failed write changed nothing" "$MNT/cgroup.subtree_control" ""
check_eq "bad tokens EINVAL" "EINVAL EINVAL EINVAL EINVAL" \
	"$(wr "$MNT/cgroup.subtree_control" misc +cpu + "+misc	-misc")"
check_eq "+misc in a child without misc available: ENOENT" "ENOENT" \
	"$(wr "$MNT/a/cgroup.subtree_control" +misc)"
echo "+misc" >"$MNT/cgroup.subtree_control"
check_cat "echo +misc enables misc" "$MNT/cgroup.subtree_control" $'misc\n'
check_cat "child controllers now misc" "$MNT/a/cgroup.controllers" $'misc\n'
check_eq "child misc files appear" \
	"misc.current misc.events misc.events.local misc.max misc.peak" \
	"$(cd "$MNT/a" && ls misc.* | tr '\n' ' ' | sed 's/ $//')"
check_eq "misc file modes" "444 444 444 644 444" \
	"$(cd "$MNT/a" && stat -c '%a' misc.current misc.events \
		misc.events.local misc.max misc.peak | tr '\n' ' ' | sed 's/ $//')"
check_cat "misc.max defaults to max" "$MNT/a/misc.max" $'sgx_epc max\n'
check_cat "misc.events format" "$MNT/a/misc.events" $'sgx_epc.max 0\n'
mkdir "$MNT/a/b"
echo "+misc" >"$MNT/a/cgroup.subtree_control"
check_eq "-misc while a child has misc enabled: EBUSY" "EBUSY" \
	"$(wr "$MNT/cgroup.subtree_control" -misc)"
check_cat "EBUSY changed nothing" "$MNT/cgroup.subtree_control" $'misc\n'
check_eq "runc-style: +misc again, one token per write" "ok ok" \
	"$(wr "$MNT/a/cgroup.subtree_control" "+misc" "+misc")"

# ---- M5: misc.max writes ------------------------------------------------------
echo "sgx_epc 4096" >"$MNT/a/b/misc.max"
check_cat "echo sets misc.max" "$MNT/a/b/misc.max" $'sgx_epc 4096\n'
exec 3>"$MNT/a/b/misc.max"
echo "sgx_epc 8192" >&3
echo "sgx_epc max" >&3
exec 3>&-
check_cat "two writes on one fd each handled" "$MNT/a/b/misc.max" $'sgx_epc max\n'
printf 'sgx_epc 0x1000' >"$MNT/a/b/misc.max"
check_cat "printf, hex value" "$MNT/a/b/misc.max" $'sgx_epc 4096\n'
check_eq "runc-style WriteFileByLine: one write per line" "ok ok" \
	"$(wr "$MNT/a/b/misc.max" $'sgx_epc 12288\n' $'sgx_epc 16384\n')"
check_cat "last line wins" "$MNT/a/b/misc.max" $'sgx_epc 16384\n'
check_eq "crun-style: two lines in one write EINVAL" "EINVAL" \
	"$(wr "$MNT/a/b/misc.max" $'sgx_epc 1\nsgx_epc 2\n')"
check_eq "M5 errors" "EINVAL EINVAL EINVAL EINVAL EINVAL ERANGE EINVAL EINVAL" \
	"$(wr "$MNT/a/b/misc.max" "sgx_epc" "sgx_epc -1" "sgx_epc  5" \
		"sgx_epc	5" "SGX_EPC 5" "sgx_epc 18446744073709551616" \
		"sev 1" "sgx_epc Max")"
check_eq "over 4096 bytes: E2BIG" "E2BIG" \
	"$("$HELPER" big "$MNT/a/b/misc.max" 4097)"
check_cat "failed writes changed nothing" "$MNT/a/b/misc.max" $'sgx_epc 16384\n'
echo "sgx_epc 18446744073709551615" >"$MNT/a/b/misc.max"
check_cat "U64_MAX reads back as max" "$MNT/a/b/misc.max" $'sgx_epc max\n'
out=$(echo "sgx_epc" 2>&1 >"$MNT/a/b/misc.max")
check_grep "the shell reports the write error" "Invalid argument" "$out"

# ---- T4: opening, creating, renaming --------------------------------------------
check_eq "read-only file opened for writing: EACCES even for root" \
	"EACCES EACCES ok" \
	"$("$HELPER" open "$MNT/a/misc.current" w | tr '\n' ' ')$("$HELPER" \
		open "$MNT/cgroup.controllers" rw | tr '\n' ' ')$("$HELPER" \
		open "$MNT/a/misc.max" w)"
out=$( (echo x >"$MNT/a/cgroup.events") 2>&1)
check_grep "echo into a read-only file: Permission denied" "Permission denied" "$out"
out=$( (echo x >"$MNT/a/newfile") 2>&1)
check_grep "creating a file: Permission denied (EACCES)" "Permission denied" "$out"
check_fails "touch of a new file fails" 1 touch "$MNT/a/newfile"
out=$(mv "$MNT/a/b" "$MNT/a/c" 2>&1)
check_grep "rename: Operation not permitted (EPERM)" "Operation not permitted" "$out"
check_fails "rm of an interface file fails" 1 rm -f "$MNT/a/cgroup.procs"
check "truncate is a no-op" truncate -s 0 "$MNT/a/misc.max"
check_eq "a partial read is not torn" "$(cat "$MNT/a/cgroup.events")" \
	"$("$HELPER" read "$MNT/a/cgroup.events" 3)"

# ---- T4: mkdir, rmdir ---------------------------------------------------------
out=$(mkdir "$MNT/a" 2>&1)
check_grep "mkdir of a taken name: File exists" "File exists" "$out"
out=$(mkdir "$MNT/$(printf 'x\ny')" 2>&1)
check_grep "mkdir with a newline: Invalid argument" "Invalid argument" "$out"
out=$(mkdir "$MNT/cgroup.procs" 2>&1)
check_grep "mkdir named like an interface file: File exists" "File exists" "$out"
out=$(mkdir "$MNT/$(printf '%0256d' 0)" 2>&1)
check_fails "mkdir of a 256-byte name fails" 1 test -d "$MNT/$(printf '%0256d' 0)"
check "mkdir of a 255-byte name" mkdir "$MNT/$(printf '%0255d' 0)"
check "rmdir of it" rmdir "$MNT/$(printf '%0255d' 0)"
out=$(rmdir "$MNT/a" 2>&1)
check_grep "rmdir with children: Device or resource busy" "busy" "$out"
check "rmdir of a leaf" rmdir "$MNT/a/b"
check_fails "it is gone" 1 test -e "$MNT/a/b"

# ---- disabling removes state, re-enabling starts from defaults -----------------
mkdir "$MNT/a/b"
echo "sgx_epc 4096" >"$MNT/a/b/misc.max"
echo "-misc" >"$MNT/a/cgroup.subtree_control"
check_fails "-misc removes the children's misc files" 1 test -e "$MNT/a/b/misc.max"
echo "+misc" >"$MNT/a/cgroup.subtree_control"
check_cat "re-enabling starts from defaults" "$MNT/a/b/misc.max" $'sgx_epc max\n'

# ---- delegation: chown, then the new owner ------------------------------------
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
	mkdir "$MNT/d"
	chown nobody "$MNT/d"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	check_eq "chown of the directory gives the directory only" \
		"nobody root" \
		"$(stat -c %U "$MNT/d" "$MNT/d/cgroup.procs" | tr '\n' ' ' | sed 's/ $//')"
	chown nobody "$MNT/d/cgroup.procs" "$MNT/d/cgroup.subtree_control"
	check_eq "each file has its own owner (delegation: procs, subtree_control)" \
		"nobody nobody root" \
		"$(stat -c %U "$MNT/d/cgroup.procs" "$MNT/d/cgroup.subtree_control" \
			"$MNT/d/cgroup.type" | tr '\n' ' ' | sed 's/ $//')"
	check_fails "epcg.stat cannot be given away" 1 chown nobody "$MNT/d/epcg.stat"
	check "the delegatee may mkdir below" as_nobody mkdir "$MNT/d/x"
	check_eq "others may not write its files: EACCES" "open EACCES" \
		"$(as_nobody "$HELPER" write "$MNT/a/cgroup.procs" 0)"
	check_fails "others may not mkdir: EACCES" 1 as_nobody mkdir "$MNT/a/y"
	check "the delegatee may rmdir below" as_nobody rmdir "$MNT/d/x"
	rmdir "$MNT/d"
else
	ok "delegation # SKIP no nobody user or setpriv"
fi

rmdir "$MNT/a/b" "$MNT/a"
check_eq "the tree is empty again" \
	"cgroup.controllers cgroup.procs cgroup.subtree_control epcg.stat misc.capacity misc.current misc.peak" \
	"$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
finish
