#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Isolation (issue 8): what one user or client of the daemon can reach of
# another's, and what leaves the daemon.
#  - Files: a user who does not own a cgroup cannot write its misc.max,
#    create below it or move itself in; delegation as cgroup v2 does it
#    (chown of the directory, cgroup.procs and cgroup.subtree_control;
#    docs/interface.md) hands over mkdir, moves and the children's limits,
#    not the delegated cgroup's own misc.max, and the parent's limit still
#    bounds the delegatee.
#  - Identity: the daemon knows a connection by SO_PEERCRED only: another
#    user's enclave ids get ENOENT, a pid in a request is a malformed
#    request, a forged SCM_CREDENTIALS changes nothing, the test hooks
#    refuse other users.
#  - Page contents: clients write a marker into every page; through
#    eviction, faults, SIGBUS, kills and malformed requests, the marker
#    appears in none of the daemon's log, metrics, tree files or the
#    clients' output, and the backing stores (read from /proc/PID/fd while
#    pages are evicted) hold none of it: ciphertext only.
#  - The key's process: not dumpable, core limit 0: a SIGSEGV leaves no
#    core file where a plain process leaves one.
# The clients are a small Python program speaking the socket protocol
# (python3 is a build requirement), so they control every byte of their
# pages.  Needs root (other users, /proc of the daemon).
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
[ "$(id -u)" = 0 ] || {
	echo "ok 1 - $(basename "$0") # SKIP needs root"
	echo "1..1"
	exit 0
}
command -v python3 >/dev/null 2>&1 || {
	echo "ok 1 - $(basename "$0") # SKIP no python3"
	echo "1..1"
	exit 0
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/epcg-iso.XXXXXX")
chmod 755 "$WORK"
LOG=$WORK/daemon.log PROM=$WORK/metrics.prom
FS_MOUNT_OPTS="--test-hooks --epc 2M --log $LOG --metrics-file $PROM"
. tests/e2e/fs.inc
cleanup() {
	touch "$WORK/flag"
	# shellcheck disable=SC2046
	kill -KILL $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	fs_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT
DPID=$("$HELPER" pid "$MNT")
CLIENT=$WORK/client.py
cat >"$CLIENT" <<'PYEOF'
# An enclave client that speaks the control socket's protocol itself
# (docs/interface.md, "Enclave clients"): frames, the window passed by
# SCM_RIGHTS, encl-create/add/init/access.  Every page it adds or writes
# holds the marker EPCGMARK, the page and its version.
import mmap, os, socket, struct, sys, time

PAGE = 4096
MASK = (1 << 64) - 1


def addr(mnt):
    h = 0xcbf29ce484222325
    for b in os.path.realpath(mnt).encode():
        h = ((h ^ b) * 0x100000001b3) & MASK
    return b"\0epcg/%016x" % h


class Conn:
    def __init__(self, mnt):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(addr(mnt))
        self.fd = None

    def _read(self, n):
        out = b""
        while len(out) < n:
            msg, anc, _, _ = self.s.recvmsg(n - len(out), socket.CMSG_SPACE(4))
            if not msg:
                raise ConnectionResetError("hung up")
            out += msg
            for lvl, typ, data in anc:
                if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    self.fd = struct.unpack("i", data[:4])[0]
        return out

    def call(self, req, anc=()):
        data = req.encode()
        self.s.sendmsg([struct.pack("<I", len(data)) + data], list(anc))
        n = struct.unpack("<I", self._read(4))[0]
        return self._read(n).decode()

    def window(self):
        rep = self.call("window").split()
        assert rep[0] == "0", rep
        size, _, self.data_off = int(rep[1]), int(rep[2]), int(rep[3])
        self.win = mmap.mmap(self.fd, size)

    def put(self, off, data):
        self.win[self.data_off + off:self.data_off + off + len(data)] = data

    def get(self, off, n):
        return self.win[self.data_off + off:self.data_off + off + n]

    def op(self, i, offset, length, write):
        struct.pack_into("<QII", self.win, 16 * i, offset, length,
                         1 if write else 0)


def marker(page, version):
    # 16 bytes, 256 times: a pattern no code of ours produces.
    return (b"EPCGMARK%04x%04x" % (page & 0xffff, version & 0xffff)) * 256


def build(c, pages):
    size = 8192
    while size < (pages + 1) * PAGE:
        size *= 2
    eid = int(c.call("encl-create %d" % size).split()[1])
    c.put(0, bytes(PAGE))
    assert c.call("encl-add %d 0 1 tcs 0" % eid).split()[0] == "0"
    for p in range(1, pages + 1, 256):
        nr = min(256, pages + 1 - p)
        for i in range(nr):
            c.put(i * PAGE, marker(p + i, 0))
        rep = c.call("encl-add %d %d %d reg 3" % (eid, p * PAGE, nr)).split()
        if rep[0] != "0":
            return eid, "add " + rep[0]
    rep = c.call("encl-init %d" % eid).split()
    return eid, None if rep[0] == "0" else "init " + rep[0]


def run(mnt, pages, seconds):
    """Build an enclave of marker pages, then rewrite and read them back
    (whole pages, 64 per batch) until SECONDS pass; every read is checked."""
    c = Conn(mnt)
    c.window()
    eid, err = build(c, pages)
    if err:
        print("build failed: %s" % err)
        return 1
    version = [0] * (pages + 1)
    end = time.time() + seconds
    checked = 0
    p = 1
    while True:
        batch = []
        for i in range(64):
            batch.append(p)
            p = p % pages + 1
        # Write the first half of the batch, read the second half.
        for i, q in enumerate(batch):
            w = i < 32
            if w:
                version[q] += 1
                c.put(i * PAGE, marker(q, version[q]))
            c.op(i, q * PAGE, PAGE, w)
        rep = c.call("encl-access %d %d" % (eid, len(batch))).split()
        if rep[0] == "-14":
            print("SIGBUS")
            return 135
        if rep[0] != "0":
            print("access %s" % rep[0])
            return 1
        for i, q in enumerate(batch):
            if i >= 32:
                if c.get(i * PAGE, PAGE) != marker(q, version[q]):
                    print("page %d wrong" % q)
                    return 1
                checked += 1
        if time.time() > end:
            break
    print("checked %d pages" % checked)
    return 0


def probe(mnt, ids):
    """Another user's enclave ids, used from here: print each reply."""
    c = Conn(mnt)
    c.window()
    out = []
    for eid in ids:
        for req in ("encl-stats %s", "encl-add %s 4096 1 reg 3",
                    "encl-access %s 1", "encl-init %s", "encl-remove %s"):
            c.op(0, 4096, 64, False)
            out.append(c.call(req % eid).split()[0])
    print(" ".join(out))
    return 0


def forge(mnt, pid, flag):
    """Claim to be process PID: in the request, and (as root, which the
    kernel lets do it) in SCM_CREDENTIALS; hold the enclave until FLAG
    exists."""
    c = Conn(mnt)
    c.window()
    extra = c.call("encl-create 8192 %d" % pid).split()[0]
    cred = struct.pack("iII", pid, os.getuid(), os.getgid())
    anc = [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, cred)]
    rep = c.call("encl-create 65536", anc).split()
    print("extra-field %s create %s" % (extra, rep[0]), flush=True)
    while not os.path.exists(flag):
        time.sleep(0.02)
    return 0


if __name__ == "__main__":
    cmd, mnt = sys.argv[1], sys.argv[2]
    try:
        if cmd == "run":
            sys.exit(run(mnt, int(sys.argv[3]), float(sys.argv[4])))
        if cmd == "probe":
            sys.exit(probe(mnt, sys.argv[3:]))
        if cmd == "forge":
            sys.exit(forge(mnt, int(sys.argv[3]), sys.argv[4]))
    except (ConnectionError, OSError) as e:
        print("error: %s" % e.__class__.__name__)
        sys.exit(1)
    sys.exit(2)
PYEOF

# as UID CMD...: run CMD as user UID (and its group), no other groups.
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}
NOBODY=65534 OTHER=65533
as "$NOBODY" test -x "$HELPER" || skip_all "user $NOBODY cannot run $HELPER"
as "$NOBODY" test -r "$CLIENT" || skip_all "user $NOBODY cannot read $CLIENT"
# A python3 that user can run (root's PATH may lead elsewhere first).
PYN=""
for p in $(type -ap python3) /usr/bin/python3; do
	as "$NOBODY" "$p" -c '' 2>/dev/null && PYN=$p && break
done
[ -n "$PYN" ] || skip_all "user $NOBODY cannot run python3"

echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/p"
echo "sgx_epc 262144" >"$MNT/p/misc.max"
echo "+misc" >"$MNT/p/cgroup.subtree_control"
mkdir "$MNT/p/d"

# ---- files: not the owner ------------------------------------------------------------
check_eq "another user cannot write a cgroup's misc.max: EACCES" "open EACCES" \
	"$(as $NOBODY "$HELPER" write "$MNT/p/misc.max" "sgx_epc 4096" 2>&1)"
check_eq "nor the delegated-to-be child's" "open EACCES" \
	"$(as $NOBODY "$HELPER" write "$MNT/p/d/misc.max" "sgx_epc max" 2>&1)"
check_cat "and nothing changed" "$MNT/p/misc.max" $'sgx_epc 262144\n'
check_cat "anywhere" "$MNT/p/d/misc.max" $'sgx_epc max\n'
check_fails "it cannot create a cgroup there" 1 as $NOBODY mkdir "$MNT/p/x"
check_eq "nor move itself into it (cgroup.procs)" "open EACCES" \
	"$(as $NOBODY "$HELPER" write "$MNT/p/d/cgroup.procs" 0 2>&1)"
check_eq "nor enable controllers there" "open EACCES" \
	"$(as $NOBODY "$HELPER" write "$MNT/p/d/cgroup.subtree_control" +misc 2>&1)"
check_fails "nor chown it" 1 as $NOBODY chown "$NOBODY" "$MNT/p/d"
check_fails "nor remove it" 1 as $NOBODY rmdir "$MNT/p/d"

# ---- delegation ------------------------------------------------------------------------
# As cgroup v2 delegates: the directory, cgroup.procs and
# cgroup.subtree_control; the cgroup's own misc.max stays root's.
chown "$NOBODY:$NOBODY" "$MNT/p/d" "$MNT/p/d/cgroup.procs" \
	"$MNT/p/d/cgroup.subtree_control"
check_eq "chown delegates the cgroup: directory, procs, subtree_control" \
	"$NOBODY $NOBODY $NOBODY 0" \
	"$(stat -c %u "$MNT/p/d" "$MNT/p/d/cgroup.procs" \
		"$MNT/p/d/cgroup.subtree_control" "$MNT/p/d/misc.max" | tr '\n' ' ' | sed 's/ $//')"
# Root puts the delegatee's process in (the common ancestor rule: moving
# from the root cgroup needs the root's owner); from there it manages its
# own subtree.
cat >"$WORK/delegatee.sh" <<SHEOF
mkdir "$MNT/p/d/e" && echo mkdir
"$HELPER" write "$MNT/p/d/e/cgroup.procs" \$\$
"$HELPER" write "$MNT/p/d/cgroup.subtree_control" +misc
"$HELPER" write "$MNT/p/d/misc.max" "sgx_epc 1048576"
"$HELPER" write "$MNT/p/d/e/misc.max" "sgx_epc max"
echo finished
exec "$PYN" "$CLIENT" run "$MNT" 200 2
SHEOF
chmod 644 "$WORK/delegatee.sh"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
	sh -c "while [ ! -e '$WORK/go' ]; do sleep 0.01; done; exec sh '$WORK/delegatee.sh'" \
	>"$WORK/delegatee.out" 2>&1 &
dpid=$!
echo "$dpid" >"$MNT/p/d/cgroup.procs"
touch "$WORK/go"
wait_for "the delegatee manages its cgroup" grep -qx finished "$WORK/delegatee.out"
check_eq "it creates a child, moves in, enables misc, sets the child's limit; not its own" \
	"mkdir ok ok open EACCES ok" "$(sed '/^finished$/,$d' "$WORK/delegatee.out" | tr '\n' ' ' | sed 's/ $//')"
check_cat "its own limit is the delegator's: unchanged" \
	"$MNT/p/d/misc.max" $'sgx_epc max\n'
check_eq "the child's misc files are the delegatee's" "$NOBODY" \
	"$(stat -c %u "$MNT/p/d/e/misc.max")"
check_eq "but still not the parent's: EACCES" "open EACCES" \
	"$(as $NOBODY "$HELPER" write "$MNT/p/misc.max" "sgx_epc max" 2>&1)"
sleep 30 &
rootproc=$!
check_eq "it cannot pull another user's process into its cgroup" "EACCES" \
	"$(as $NOBODY "$HELPER" write "$MNT/p/d/e/cgroup.procs" "$rootproc" 2>&1)"
check_eq "another user cannot move itself into the delegated cgroup" "open EACCES" \
	"$(as $OTHER "$HELPER" write "$MNT/p/d/e/cgroup.procs" 0 2>&1)"
kill "$rootproc"
wait "$rootproc" 2>/dev/null
wait "$dpid"
check_eq "the delegatee's enclave (800 KiB) ran, every page checked" 0 "$?"
check_grep "its pages were evicted (p is limited)" '^ewb [1-9]' \
	"$(cat "$MNT/p/d/e/epcg.stat")"
check_eq "the parent's limit bounded it: p's misc.peak <= 262144" 1 \
	"$(awk '$1 == "sgx_epc" { print ($2 <= 262144) }' "$MNT/p/misc.peak")"
check_eq "test hooks: EPERM for another user" "EPERM" \
	"$(as $NOBODY "$EPCG" misc charge "$MNT/p/d" sgx_epc 4096 2>&1)"

# ---- identity: SO_PEERCRED only -------------------------------------------------------
"$EPCG" enclave --size 256K --seconds 4 "$MNT" >"$WORK/root-client.out" 2>&1 &
rootc=$!
wait_for "a root client runs" grep -q '^sgx_epc [1-9]' "$MNT/misc.current"
# shellcheck disable=SC2046 # the ids are words
out=$(as $NOBODY "$PYN" "$CLIENT" probe "$MNT" $(seq 1 12))
check_eq "another user's enclave ids: ENOENT for every request (12 ids x 5)" \
	"$(for _ in $(seq 60); do printf -- '-2 '; done | sed 's/ $//')" "$out"
check_grep "logged against the prober's uid" \
	"client pid [0-9]+ uid $NOBODY: no enclave [0-9]+ for this client" \
	"$(cat "$LOG")"
wait "$rootc"
check_eq "the owner's client was not disturbed" 0 "$?"
mkdir "$MNT/fa" "$MNT/fb"
sleep 30 &
victim=$!
echo "$victim" >"$MNT/fb/cgroup.procs"
sh -c "echo 0 > '$MNT/fa/cgroup.procs' && exec python3 '$CLIENT' forge '$MNT' $victim '$WORK/flag'" \
	>"$WORK/forge.out" 2>&1 &
forger=$!
wait_for "a client claims another pid (in a request, in SCM_CREDENTIALS)" \
	grep -q create "$WORK/forge.out"
check_eq "a pid in a request is a malformed request; the create goes on" \
	"extra-field -22 create 0" "$(cat "$WORK/forge.out")"
check_grep "its enclave is charged to its own cgroup" '^sgx_epc [1-9]' \
	"$(cat "$MNT/fa/misc.current")"
check_cat "not to the claimed process's" "$MNT/fb/misc.current" $'sgx_epc 0\n'
touch "$WORK/flag"
wait "$forger"
kill "$victim"
wait "$victim" 2>/dev/null

# ---- page contents never leave as plaintext -------------------------------------------
MARK=EPCGMARK
HEXMARK=455043474d41524b # "EPCGMARK" in hex
mkdir "$MNT/m" "$MNT/s"
echo "sgx_epc 262144" >"$MNT/m/misc.max"
mc=()
for i in 1 2 3; do
	sh -c "echo 0 > '$MNT/m/cgroup.procs' && exec python3 '$CLIENT' run '$MNT' 100 6" \
		>"$WORK/out.m$i" 2>"$WORK/err.m$i" &
	mc+=($!)
done
# shellcheck disable=SC2016 # an awk program
wait_for "three marker clients evict each other" \
	awk '$1 == "ewb" && $2 > 300 { ok = 1 } END { exit !ok }' "$MNT/m/epcg.stat"
# The backing stores, as root through /proc (the daemon is not dumpable:
# only a privileged reader gets this far).
bytes=0 nonzero=0 found=0 stores=0
while read -r fd; do
	cat "$fd" >"$WORK/store" 2>/dev/null || continue
	stores=$((stores + 1))
	bytes=$((bytes + $(stat -c %s "$WORK/store")))
	nonzero=$((nonzero + $(tr -d '\000' <"$WORK/store" | wc -c)))
	found=$((found + $(grep -c -a -e "$MARK" "$WORK/store")))
done < <(find "/proc/$DPID/fd" -lname '*memfd:epcg-enclave*' 2>/dev/null)
rm -f "$WORK/store"
echo "# $stores backing stores read: $bytes bytes, $nonzero of them non-zero"
check_grep "the backing stores hold data" '^[1-9]' "$nonzero"
check_eq "and not one marker" 0 "$found"
# The same read finds the marker where it is plaintext by design: the
# clients' windows (their own shared memory).
wfound=0
for f in /proc/"$DPID"/map_files/*; do
	case $(readlink "$f") in *epcg-window*) ;; *) continue ;; esac
	wfound=$((wfound + $(grep -c -a -e "$MARK" "$f" 2>/dev/null)))
done
check_grep "(the same grep finds it in the clients' windows)" '^[1-9]' "$wfound"
kill -KILL "${mc[0]}"
wait "${mc[0]}" 2>/dev/null
wait "${mc[1]}"
r2=$?
wait "${mc[2]}"
check_eq "the other marker clients checked every page they read" "0 0" "$r2 $?"
echo "# $(cat "$WORK/out.m2"), $(cat "$WORK/out.m3")"
# SIGBUS: the limit drops under a running client.
echo "sgx_epc 262144" >"$MNT/s/misc.max"
sh -c "echo 0 > '$MNT/s/cgroup.procs' && exec python3 '$CLIENT' run '$MNT' 100 10" \
	>"$WORK/out.s" 2>"$WORK/err.s" &
sb=$!
wait_for "a client faults" grep -q '^faults [1-9]' "$MNT/s/epcg.stat"
echo "sgx_epc 4096" >"$MNT/s/misc.max"
wait "$sb"
check_eq "its fault cannot be served: SIGBUS" "135 SIGBUS" "$? $(cat "$WORK/out.s")"
# Malformed and hostile requests.
"$HELPER" hostile "$MNT" 11 >"$WORK/out.hostile" 2>&1
"$HELPER" cut "$MNT" >"$WORK/out.cut" 2>&1
# Every tree file, read now.
find "$MNT" -type f -exec cat {} + >"$WORK/out.tree" 2>/dev/null
wait_for "everything released" grep -qx 'sgx_epc 0' "$MNT/misc.current"
"$EPCG" umount "$MNT"
wait_for "the daemon wrote its last log and metrics" \
	grep -q 'clients released' "$LOG"
texts=$(ls "$LOG" "$PROM" "$WORK"/*.out "$WORK"/out.* "$WORK"/err.*)
# shellcheck disable=SC2086 # a list of files
echo "# searched $(echo "$texts" | wc -l) files, $(cat $texts | wc -c) bytes"
# shellcheck disable=SC2086
check_eq "no marker (raw or hex) in the log, the metrics, the tree or any client's output" \
	"" "$(grep -l -a -i -e "$MARK" -e "$HEXMARK" $texts)"
check_grep "(the log did record those clients)" \
	"client pid [0-9]+ uid 0: (malformed|SIGBUS|gone|hung up)" "$(cat "$LOG")"

# ---- the key's process ----------------------------------------------------------------
M2=$WORK/m2
mkdir -p "$M2" "$WORK/cwd-plain" "$WORK/cwd-daemon"
(
	cd "$WORK/cwd-plain" || exit
	ulimit -c unlimited
	sleep 30 &
	p=$!
	sleep 0.1
	kill -SEGV "$p"
	wait "$p"
) 2>/dev/null
if [ -z "$(ls "$WORK/cwd-plain")" ]; then
	ok "no core file # SKIP a plain process leaves none here either"
else
	# EPCG may be relative to the top directory: resolve it first.
	epcg=$(realpath "$EPCG")
	(
		cd "$WORK/cwd-daemon" || exit
		ulimit -c unlimited
		"$epcg" mount -f --epc 1M "$M2" 2>/dev/null &
		p=$!
		for _ in $(seq 200); do
			[ -e "$M2/cgroup.procs" ] && break
			sleep 0.025
		done
		[ -e "$M2/cgroup.procs" ] && echo served >"$WORK/served"
		grep 'Max core file size' "/proc/$p/limits" >"$WORK/limits"
		kill -SEGV "$p"
		wait "$p"
	) 2>/dev/null
	fusermount3 -u "$M2" 2>/dev/null
	check_eq "a daemon with ulimit -c unlimited served, then got SIGSEGV" \
		served "$(cat "$WORK/served" 2>/dev/null)"
	check_eq "it left no core (a plain process's does)" \
		"" "$(ls "$WORK/cwd-daemon")"
	check_grep "its core size limit is 0, soft and hard" \
		'Max core file size +0 +0 ' "$(cat "$WORK/limits")"
fi
finish
