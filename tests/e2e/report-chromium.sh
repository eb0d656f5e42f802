#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The HTML reports in a real browser: headless Chromium opens the report
# of a run and of a sweep from disk, logs no console message (no script
# error, no resource refused by the page's Content-Security-Policy),
# parses every plot as an SVG element, and draws them: the screenshot is
# decoded (PNG, with python3's zlib) and must show the colours of the
# plotted lines in the amounts a drawn plot has.
#
# Chromium is a large package (about 120 MB, some 80 s to install), so
# scripts/install-deps.sh does not install it and this test is skipped
# without it; `apt-get install chromium` (Debian 12) enables it.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

chromium=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$chromium" ] || ! command -v python3 >/dev/null 2>&1; then
	echo "ok 1 - report renders in chromium # SKIP chromium or python3 not installed (apt-get install chromium)"
	echo "1..1"
	exit 0
fi

scn=tests/data/sweep.scn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$EPCG" run "$scn" --report "$tmp/run.html" -q
check "the run report is written" test -s "$tmp/run.html"
"$EPCG" sweep "$scn" --cgroup /app --limits 0,64K,256K,512K,1M --report "$tmp/sweep.html" -q
check "the sweep report is written" test -s "$tmp/sweep.html"

# browse MODE PAGE OUT: run headless Chromium; its log goes to OUT.log.
browse() {
	local mode=$1 page=$2 out=$3
	timeout -k 5 90 "$chromium" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d -p "$tmp")" --enable-logging=stderr \
		--v=0 --window-size=1200,2000 "$mode" "file://$page" \
		>"$out.dom" 2>"$out.log"
}

# What the console would show: messages, script errors, CSP refusals.
console_errors() {
	grep -E ':CONSOLE|Uncaught|Refused to|Failed to load|SyntaxError' "$1" || true
}

# python3 PNG CHECKS...: decode the screenshot, count pixels of colours.
# Each check is NAME=RRGGBB:MIN, at least MIN pixels within a small
# distance of that colour; "ink=FRACTION" needs that fraction of the
# page to be non-white.  Prints what it found.
count_colours() {
	python3 - "$@" <<'PY'
import struct, sys, zlib
from collections import Counter

# Decode a PNG of 8-bit RGB or RGBA (what Chromium writes) into a
# histogram of its pixels' colours.
def histogram(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, lace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and lace == 0, (depth, ctype)
            bpp = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + n
    raw, stride = zlib.decompress(b"".join(idat)), w * bpp
    prev, hist = bytes(stride), Counter()
    for y in range(h):
        i = y * (stride + 1)
        f, cur = raw[i], raw[i + 1:i + 1 + stride]
        if f == 0:
            line = cur
        elif f == 2:
            line = bytes([(a + b) & 255 for a, b in zip(cur, prev)])
        else:
            line = bytearray(cur)
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                if f == 1:
                    line[x] = (line[x] + a) & 255
                    continue
                b = prev[x]
                if f == 3:
                    line[x] = (line[x] + ((a + b) >> 1)) & 255
                    continue
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else
                                      b if pb <= pc else c)) & 255
            line = bytes(line)
        it = iter(line)
        hist.update(zip(it, it, it) if bpp == 3 else
                    ((r, g, b) for r, g, b, _ in zip(it, it, it, it)))
        prev = line
    return w * h, hist

total, hist = histogram(sys.argv[1])
bad = []
for arg in sys.argv[2:]:
    name, spec = arg.split("=")
    if name == "ink":
        white = sum(n for px, n in hist.items() if min(px) >= 245)
        frac = 1 - white / total
        print("%s: %.3f of the page" % (name, frac))
        if frac < float(spec):
            bad.append("%s %.3f < %s" % (name, frac, spec))
        continue
    rgb, least = spec.split(":")
    t = bytes.fromhex(rgb)
    n = sum(k for px, k in hist.items()
            if max(abs(px[j] - t[j]) for j in range(3)) <= 24)
    print("%s #%s: %d pixels" % (name, rgb, n))
    if n < int(least):
        bad.append("%s: %d pixels of #%s, want %s" % (name, n, rgb, least))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
}

# ---- the run report ----
browse --screenshot="$tmp/run.png" "$tmp/run.html" "$tmp/run-shot"
check "chromium takes a screenshot of the run report" test -s "$tmp/run.png"
errs=$(console_errors "$tmp/run-shot.log")
[ -z "$errs" ] && ok "run report: no console error" || not_ok "run report: no console error" "$errs"
browse --dump-dom "$tmp/run.html" "$tmp/run-dom"
want=$(grep -c '<svg ' "$tmp/run.html")
got=$(grep -o '<svg ' "$tmp/run-dom.dom" | wc -l)
[ "$want" -gt 0 ] && [ "$got" -eq "$want" ] && ok "run report: all $want plots are SVG in the DOM" || not_ok "run report: plots in the DOM" "want $want, got $got"
[ -z "$(console_errors "$tmp/run-dom.log")" ] && ok "run report: no script error" || not_ok "run report: no script error" "$(console_errors "$tmp/run-dom.log")"
if msg=$(count_colours "$tmp/run.png" ink=0.04 usage=1f77b4:1500 limit=d62728:150 \
		leaf=2ca02c:150 2>&1); then
	ok "run report: plots are drawn"
else
	not_ok "run report: plots are drawn"
fi
printf '%s\n' "$msg" | sed 's/^/# /'

# ---- the sweep report ----
browse --screenshot="$tmp/sweep.png" "$tmp/sweep.html" "$tmp/sweep-shot"
check "chromium takes a screenshot of the sweep report" test -s "$tmp/sweep.png"
errs=$(console_errors "$tmp/sweep-shot.log")
[ -z "$errs" ] && ok "sweep report: no console error" || not_ok "sweep report: no console error" "$errs"
if msg=$(count_colours "$tmp/sweep.png" ink=0.03 faults=1f77b4:150 ewb=ff7f0e:80 \
		miss=9467bd:150 slowdown=8c564b:150 failed=d62728:20 2>&1); then
	ok "sweep report: curves are drawn"
else
	not_ok "sweep report: curves are drawn"
fi
printf '%s\n' "$msg" | sed 's/^/# /'
finish
