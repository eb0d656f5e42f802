#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Target 4, thrash, read off a profile: of the CPU samples `perf` takes
# while `epcg run` simulates a thrash-dominated scenario, the share that
# falls inside OpenSSL's AES-GCM calls made by EWB and ELDU.  bench-sim
# measures the same share by timing the cipher alone beside the run; this
# counts where the run's own time went, process start and the enclave's
# build included.
#
# A sample counts as AES-GCM when its call chain (unwound with DWARF, so
# that frames inside libcrypto's assembly are followed) holds an OpenSSL
# EVP_* entry point called from the paging crypto (epcg__paging_seal,
# epcg__paging_open and its variants): the cipher, its GHASH, and what
# OpenSSL does per call to set the IV and take or check the tag.
# Everything else is listed by the function the sample landed in.
#
# Usage: bench/profile-thrash.sh [BUILD_DIR] [ACCESSES]
#   BUILD_DIR  a release build (default: build-release)
#   ACCESSES   the scenario's accesses (default 400000; 3 in 4 fault)
# Needs perf (Debian: linux-perf) and leave to profile (root, or
# kernel.perf_event_paranoid <= 1); otherwise it says so and exits 0.
set -u
dir=${1:-build-release}
accesses=${2:-400000}
epcg=$dir/cli/epcg

if ! command -v perf >/dev/null 2>&1; then
	echo "[target 4] thrash profile: skipped: perf is not installed"
	exit 0
fi
if [ ! -x "$epcg" ]; then
	echo "profile-thrash: no $epcg; build $dir first" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The scenario of bench-sim's thrash case: uniform over four times the
# cgroup's limit, so three accesses in four fault (EWB + ELDU each).
cat >"$tmp/thrash.scn" <<EOF
epc 64M
cgroup /t max 2M
enclave db size 8M cgroup /t
workload db uniform accesses $accesses think 1us
EOF

if ! perf record -q -o "$tmp/perf.data" -F 4000 \
	--call-graph dwarf,16384 -- "$epcg" run "$tmp/thrash.scn" \
	>"$tmp/run.out" 2>"$tmp/perf.err"; then
	echo "[target 4] thrash profile: skipped: perf record failed:" \
		"$(head -n 1 "$tmp/perf.err")"
	exit 0
fi
perf script -i "$tmp/perf.data" -F ip,sym,dso 2>/dev/null >"$tmp/stacks"
if [ ! -s "$tmp/stacks" ]; then
	echo "[target 4] thrash profile: skipped: perf script printed nothing"
	exit 0
fi

echo "# profile-thrash: perf record -F 4000 --call-graph dwarf of" \
	"'epcg run' ($accesses accesses, uniform over 4x the limit)"
echo "# reproduce: bench/profile-thrash.sh $dir $accesses"
# perf script: one sample per block of lines, leaf frame first, blocks
# separated by an empty line; a frame is "ADDR SYMBOL+OFF (DSO)".
awk -v limit=0.70 '
function flush(   i, cipher, paging, what) {
	if (nf == 0)
		return
	n++
	cipher = 0
	paging = 0
	for (i = 1; i <= nf; i++) {
		if (sym[i] ~ /^EVP_/)
			cipher = 1
		if (sym[i] ~ /^epcg__paging_(seal|open)/)
			paging = 1
	}
	if (cipher && paging)
		what = "AES-GCM (OpenSSL EVP_* under the paging seal/open)"
	else if (paging)
		what = "paging crypto, outside OpenSSL: " sym[1]
	else
		what = sym[1] " (" dso[1] ")"
	count[what]++
	nf = 0
}
/^[ \t]*$/ { flush(); next }
{
	s = $2
	sub(/\+0x[0-9a-f]+$/, "", s)
	d = $NF
	gsub(/[()]/, "", d)
	sub(/.*\//, "", d)
	nf++
	sym[nf] = s
	dso[nf] = d
}
END {
	flush()
	if (n == 0) {
		print "[target 4] thrash profile: skipped: no samples"
		exit 0
	}
	printf "samples: %d\n", n
	for (w in count)
		printf "%7.2f%%  %s\n", 100 * count[w] / n, w | "sort -rn | head -n 16"
	close("sort -rn | head -n 16")
	share = count["AES-GCM (OpenSSL EVP_* under the paging seal/open)"] / n
	verdict = share >= limit ? "met" : "MISSED"
	printf "[target 4] thrash: share of the CPU samples in AES-GCM: "
	printf "%.2f (must be >= %.2f): %s\n", share, limit, verdict
}' "$tmp/stacks"
