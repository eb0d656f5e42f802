#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon's own end (crash safety, issue 8): SIGTERM, SIGINT and SIGHUP
# on a daemon whose clients hold enclaves, some of their pages evicted,
# while they fault and while they add pages.  Each time the daemon must
# release every enclave (its log says every EPC page is free and nothing
# is charged), end every client with an error instead of a hang, drop its
# control socket, unmount (the directory is empty and usable again) and
# exit 0 within 10 s.  Clients killed while the daemon evicts their
# pages leak nothing.  Then the mount point checks: a second mount of a
# served directory, a stale mount, a missing path, a file, a directory
# with files, another file system: each refused with one line naming the
# directory, the first mount serving on.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
FS_MOUNT_OPTS="--epc 1M"
. tests/e2e/fs.inc
WORK=$(mktemp -d "${TMPDIR:-/tmp}/epcg-daemon.XXXXXX")
D=""
cleanup() {
	[ -n "$D" ] && kill -KILL "$D" 2>/dev/null
	for m in "$WORK"/m*; do
		fusermount3 -u "$m" >/dev/null 2>&1
	done
	rm -rf "$WORK"
	fs_cleanup
}
trap cleanup EXIT
LIMIT=10 # seconds the daemon and its clients get to end (a loaded host)

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# gone PID: the process has exited (a zombie counts: it is gone, only
# not yet reaped by whoever adopted it).
gone() { ! grep -q '^State:[[:space:]]*[^Z]' "/proc/$1/status" 2>/dev/null; }

# wait_gone PID...: wait up to LIMIT s for all of them; print the ms taken
# (or "hung").
wait_gone() {
	local t0 p left
	t0=$(now_ms)
	while [ $(($(now_ms) - t0)) -lt $((LIMIT * 1000)) ]; do
		left=""
		for p in "$@"; do gone "$p" || left=1; done
		[ -z "$left" ] && {
			echo $(($(now_ms) - t0))
			return
		}
		sleep 0.02
	done
	echo hung
}

# The abstract name of the listening control socket of daemon PID.
ctl_socket() {
	local inodes
	inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		tr -dc '0-9\n' | tr '\n' ' ')
	awk -v ours=" $inodes" '$4 == "00010000" && $8 ~ /^@epcg\// &&
		index(ours, " " $7 " ") { print $8 }' /proc/net/unix
}

# serve DIR -f|-|bg OPTS...: mount a fresh tree at DIR logging to DIR.log;
# with -f the daemon is a child of ours (its status can be waited for);
# bg runs `epcg mount` with '&' (so with SIGINT ignored, which its
# detached daemon inherits).  Sets D to the daemon's pid.
serve() {
	local dir=$1 fg=$2
	shift 2
	mkdir -p "$dir"
	if [ "$fg" = -f ]; then
		"$EPCG" mount -f --log "$dir.log" "$@" "$dir" 2>>"$dir.err" &
		D=$!
		for _ in $(seq 200); do
			[ -e "$dir/cgroup.procs" ] && break
			sleep 0.025
		done
	elif [ "$fg" = bg ]; then
		"$EPCG" mount --log "$dir.log" "$@" "$dir" 2>>"$dir.err" &
		wait $!
		D=$("$HELPER" pid "$dir")
	else
		"$EPCG" mount --log "$dir.log" "$@" "$dir" 2>>"$dir.err"
		D=$("$HELPER" pid "$dir")
	fi
}

# clients DIR SIZE N: N enclave clients of SIZE in DIR's cgroup a (limited
# to 256 KiB, so their pages are evicted) and one of 512 KiB in cgroup b;
# their pids in CLIENTS, their stderr in DIR.cN.
clients() {
	local dir=$1 size=$2 n=$3 i
	echo "+misc" >"$dir/cgroup.subtree_control"
	mkdir -p "$dir/a" "$dir/b"
	echo "sgx_epc 262144" >"$dir/a/misc.max"
	CLIENTS=""
	for i in $(seq "$n"); do
		sh -c "echo 0 > '$dir/a/cgroup.procs' && exec '$EPCG' enclave --size $size --threads $((1 + i % 2)) --seconds 60 '$dir'" \
			>/dev/null 2>"$dir.c$i" &
		CLIENTS="$CLIENTS $!"
	done
	sh -c "echo 0 > '$dir/b/cgroup.procs' && exec '$EPCG' enclave --size 512K --seconds 60 '$dir'" \
		>/dev/null 2>"$dir.c0" &
	CLIENTS="$CLIENTS $!"
}

ewb() { awk '$1 == "ewb" {print $2}' "$1/a/epcg.stat" 2>/dev/null; }

# stop DIR SIGNAL: send SIGNAL to the daemon D of DIR, then collect what
# happened: R_MS (time until the daemon had exited, or "hung"), R_STATUS
# (its exit status when it is our child, else "-"), R_CLIENTS (time until
# every client had exited), R_CLIENT_RC (their exit statuses), R_ERRS
# (their last stderr lines).
stop() {
	local dir=$1 sig=$2 c
	kill "-$sig" "$D"
	R_MS=$(wait_gone "$D")
	[ "$R_MS" = hung ] && kill -KILL "$D"
	R_STATUS=-
	if [ "${FG:-}" = 1 ]; then
		wait "$D"
		R_STATUS=$?
	fi
	D=""
	# shellcheck disable=SC2086 # a list of pids
	R_CLIENTS=$(wait_gone $CLIENTS)
	# shellcheck disable=SC2086
	[ "$R_CLIENTS" = hung ] && kill -KILL $CLIENTS
	R_CLIENT_RC=""
	for c in $CLIENTS; do
		wait "$c"
		R_CLIENT_RC="$R_CLIENT_RC $?"
	done
	R_ERRS=$(for f in "$dir".c*; do tail -n 1 "$f" 2>/dev/null; done)
}

# after DIR SIGNAL SOCKET: the checks common to every stop; prints one
# word per failed check (nothing when all hold).
after() {
	local dir=$1 sig=$2 sock=$3 log
	log=$(cat "$dir.log")
	[ "$R_MS" != hung ] || echo "daemon-hung"
	[ "$R_STATUS" = - ] || [ "$R_STATUS" = 0 ] || echo "status-$R_STATUS"
	[ "$R_CLIENTS" != hung ] || echo "clients-hung"
	printf '%s\n' "$log" | grep -q "stopping on signal $sig " ||
		echo "no-stop-line"
	printf '%s\n' "$log" |
		grep -Eq '^epcg: clients released: ([0-9]+) of \1 EPC pages free, sgx_epc usage 0$' ||
		echo "not-all-released"
	! printf '%s\n' "$log" | grep -q 'accounting broken' || echo "broken"
	! grep -q " $dir " /proc/self/mountinfo || echo "still-mounted"
	[ -z "$(ls -A "$dir")" ] || echo "dir-not-empty"
	{ touch "$dir/x" && rm "$dir/x"; } 2>/dev/null || echo "dir-unusable"
	[ -n "$sock" ] || echo "no-socket-seen"
	[ -z "$sock" ] || ! grep -q " $sock\$" /proc/net/unix || echo "socket-left"
}

# ---- SIGTERM while clients fault, some pages evicted -------------------------------
M1=$WORK/m1
FG=1 serve "$M1" -f --epc 2M
check "a foreground daemon serves" test -e "$M1/cgroup.procs"
pid1=$D
sock=$(ctl_socket "$D")
clients "$M1" 1M 3
for _ in $(seq 200); do
	[ "$(ewb "$M1")" -gt 2000 ] 2>/dev/null &&
		grep -q '^sgx_epc [1-9]' "$M1/b/misc.current" && break
	sleep 0.05
done
stores=$(find "/proc/$D/fd" -lname '*memfd:epcg-enclave*' | wc -l)
check_eq "four client enclaves hold backing stores" 4 "$stores"
check_grep "and cgroup a's pages are being evicted" '^[1-9][0-9]{3,}$' "$(ewb "$M1")"
FG=1 stop "$M1" TERM
echo "# SIGTERM: daemon gone in $R_MS ms, clients in $R_CLIENTS ms"
check_eq "SIGTERM: the daemon exits 0 within ${LIMIT} s" "0" \
	"$R_STATUS$([ "$R_MS" = hung ] && echo ' (hung)')"
check_eq "every client ends with an error, none hangs" " 1 1 1 1" "$R_CLIENT_RC"
printf '%s\n' "$R_ERRS" | sed 's/^/# client: /'
# A client still building when the signal came says how far it got.
check_eq "each says why in one line" 4 \
	"$(printf '%s\n' "$R_ERRS" | grep -Ec '^epcg: enclave [0-9]+: [a-z-]+: E[A-Z]+( \([0-9]+ of [0-9]+ pages added\))?$')"
check_grep "the log says which signal" "^epcg: $M1: stopping on signal 15 \(Terminated\)$" \
	"$(cat "$M1.log")"
check_grep "and that every EPC page is free and nothing charged" \
	'^epcg: clients released: 512 of 512 EPC pages free, sgx_epc usage 0$' \
	"$(cat "$M1.log")"
check_eq "nothing else failed (unmounted, empty, usable, socket gone)" "" \
	"$(after "$M1" 15 "$sock")"
check_eq "the daemon's process is gone" "" "$(ls -d "/proc/$pid1" 2>/dev/null)"

# ---- SIGHUP while clients add pages --------------------------------------------------
M2=$WORK/m2
FG=1 serve "$M2" -f --epc 8M
sock=$(ctl_socket "$D")
clients "$M2" 8M 2
# A client of 8 MiB in a 256 KiB cgroup takes a while to add its pages
# (each reclaimed to make room for the next): stop within that.
for _ in $(seq 100); do
	grep -q '^sgx_epc [1-9]' "$M2/a/misc.current" && break
	sleep 0.01
done
FG=1 stop "$M2" HUP
check_eq "SIGHUP while adding: exit 0, nothing left behind" "" \
	"$(after "$M2" 1 "$sock")"
check_eq "the adding clients end with an error" " 1 1 1" "$R_CLIENT_RC"
check_grep "the adds were cut short" 'add|create|window|init' "$R_ERRS"

# ---- SIGINT to a daemon in the background --------------------------------------------
# A shell starts '&' commands with SIGINT ignored; the detached daemon
# still stops on it.
M3=$WORK/m3
serve "$M3" bg --epc 2M
D=$("$HELPER" pid "$M3")
check_grep "its daemon catches SIGINT all the same" '^SigCgt:.*[2367abef]$' \
	"$(grep SigCgt "/proc/$D/status")"
sock=$(ctl_socket "$D")
clients "$M3" 1M 2
for _ in $(seq 200); do
	[ "$(ewb "$M3")" -gt 500 ] 2>/dev/null && break
	sleep 0.05
done
FG=0 stop "$M3" INT
echo "# SIGINT (detached): daemon gone in $R_MS ms, clients in $R_CLIENTS ms"
check_eq "SIGINT to the detached daemon: released, unmounted, gone" "" \
	"$(after "$M3" 2 "$sock")"

# ---- signals at random moments --------------------------------------------------------
ROUNDS=6
fails="" times=""
for r in $(seq "$ROUNDS"); do
	m=$WORK/m-r$r
	sig=TERM num=15
	[ $((r % 2)) = 0 ] && sig=HUP num=1
	FG=1 serve "$m" -f --epc 2M
	sock=$(ctl_socket "$D")
	clients "$m" "$((1 << (r % 3)))M" 2
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	FG=1 stop "$m" "$sig"
	bad=$(after "$m" "$num" "$sock")
	case $R_CLIENT_RC in *" 0"*) bad="$bad client-rc:$R_CLIENT_RC" ;; esac
	[ -n "$bad" ] && fails="$fails round $r ($sig): $bad;"
	times="$times $R_MS"
done
echo "# $ROUNDS random-moment stops, daemon gone after (ms):$times"
check_eq "$ROUNDS stops at random moments: all clean" "" "$fails"

# ---- SIGKILL to a client while its pages are being evicted -----------------------------
# Odd rounds: the victim is at its own cgroup's limit, so its own faults
# make the daemon reclaim its pages (cgroup reclaim); even rounds: it has
# no limit and another client fills the EPC (global reclaim, ksgxd).  The
# kill is sent once the victim's cgroup's ewb counter has risen between
# two looks 20 ms apart: its pages were being written out right then.
M5=$WORK/m5
FG=1 serve "$M5" -f --epc 1M
m5pid=$D
sock=$(ctl_socket "$D")
echo "+misc" >"$M5/cgroup.subtree_control"
mkdir "$M5/v" "$M5/q"
sh -c "echo 0 > '$M5/q/cgroup.procs' && exec '$EPCG' enclave --size 768K --seconds 60 '$M5'" \
	>/dev/null 2>&1 &
presser=$!
vewb() { awk '$1 == "ewb" {print $2}' "$M5/v/epcg.stat"; }
KROUNDS=10
killed=0 rising=0 clean=0 leaks=""
for r in $(seq "$KROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		echo "sgx_epc 262144" >"$M5/v/misc.max"
	else
		echo "sgx_epc max" >"$M5/v/misc.max"
	fi
	sh -c "echo 0 > '$M5/v/cgroup.procs' && exec '$EPCG' enclave --size 512K --threads 2 --seconds 60 '$M5'" \
		>/dev/null 2>&1 &
	victim=$!
	prev=$(vewb)
	for _ in $(seq 250); do
		sleep 0.02
		cur=$(vewb)
		[ "$cur" -gt "$prev" ] && break
		prev=$cur
	done
	kill -KILL "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
	# Only a client our SIGKILL ended counts (one may die of SIGBUS
	# first when nothing it could reclaim was left, SPEC E5).
	if [ $? = 137 ]; then
		killed=$((killed + 1))
		[ "$cur" -gt "$prev" ] && rising=$((rising + 1))
	fi
	for _ in $(seq 200); do
		grep -qx 'sgx_epc 0' "$M5/v/misc.current" && break
		sleep 0.025
	done
	if grep -qx 'sgx_epc 0' "$M5/v/misc.current"; then
		clean=$((clean + 1))
	else
		leaks="$leaks round $r: $(cat "$M5/v/misc.current")"
	fi
done
echo "# $KROUNDS rounds, $killed victims killed, $rising of them while their pages were being written out; v's ewb $(vewb)"
check_eq "every round: the victim's cgroup back to 0" \
	"$KROUNDS$leaks" "$clean$leaks"
check_eq "each kill landed while the victim's pages were being evicted" \
	"$killed" "$rising"
check_grep "most rounds ended in our kill" "^([5-9]|10)\$" "$killed"
check_eq "the victims' backing stores are gone (the presser's stays)" 1 \
	"$(find "/proc/$m5pid/fd" -lname '*memfd:epcg-enclave*' | wc -l)"
kill -KILL "$presser"
wait "$presser" 2>/dev/null
for _ in $(seq 200); do
	grep -qx 'sgx_epc 0' "$M5/misc.current" && break
	sleep 0.025
done
check_eq "with every client gone: no backing store left" 0 \
	"$(find "/proc/$m5pid/fd" -lname '*memfd:epcg-enclave*' | wc -l)"
FG=1 CLIENTS="" stop "$M5" TERM
check_eq "and every EPC frame is free (the daemon's count at exit)" "" \
	"$(after "$M5" 15 "$sock")"

# ---- mount points ---------------------------------------------------------------------
out=$("$EPCG" mount --epc 1M "$MNT" 2>&1)
rc=$?
check_eq "a second mount of a served directory exits 1" 1 "$rc"
check_eq "with one line naming it" \
	"epcg: mount: $MNT: an epcg file system is already mounted there" "$out"
check_eq "also in the foreground and by another spelling" \
	"epcg: mount: $MNT/.: an epcg file system is already mounted there"$'\n'" 1" \
	"$("$EPCG" mount -f "$MNT/." 2>&1; echo " $?")"
check_cat "the first mount serves on" "$MNT/misc.capacity" $'sgx_epc 1048576\n'
check_grep "and runs enclaves" 'verified=64$' "$("$EPCG" enclave --size 256K "$MNT")"

check_eq "a missing directory" \
	"epcg: mount: $WORK/none: No such file or directory"$'\n'" 1" \
	"$("$EPCG" mount "$WORK/none" 2>&1; echo " $?")"
touch "$WORK/file"
check_eq "a file" "epcg: mount: $WORK/file: not a directory" \
	"$("$EPCG" mount "$WORK/file" 2>&1)"
mkdir "$WORK/full" && touch "$WORK/full/x"
check_eq "a directory with files" \
	"epcg: mount: $WORK/full: not empty (the tree would hide its files)" \
	"$("$EPCG" mount "$WORK/full" 2>&1)"
check_fails "none of them got mounted" 1 \
	grep -Eq " $WORK/(none|file|full) " /proc/self/mountinfo
mkdir "$WORK/other"
if mount -t tmpfs epcg-e2e "$WORK/other" 2>/dev/null; then
	check_eq "another file system" \
		"epcg: mount: $WORK/other: a tmpfs file system is already mounted there" \
		"$("$EPCG" mount "$WORK/other" 2>&1)"
	umount "$WORK/other"
else
	ok "another file system # SKIP cannot mount a tmpfs here"
fi

# A daemon killed outright leaves a stale mount; mount says so.
M4=$WORK/m4
serve "$M4" - --epc 1M
kill -KILL "$D"
for _ in $(seq 100); do gone "$D" && break; sleep 0.02; done
D=""
check_eq "a stale mount (its daemon killed)" \
	"epcg: mount: $M4: a stale mount (its daemon is gone); run 'epcg umount $M4' first" \
	"$("$EPCG" mount "$M4" 2>&1)"
check "epcg umount clears it" "$EPCG" umount "$M4"
check "and the directory takes a new tree" "$EPCG" mount --epc 1M "$M4"
check "which stops on epcg umount" "$EPCG" umount "$M4"
finish
