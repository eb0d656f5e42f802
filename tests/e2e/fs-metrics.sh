#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon's metrics (docs/metrics.md): `epcg mount --metrics ADDR:PORT`
# serves the Prometheus text of the tree and the machine on a loopback
# address, `--metrics-file PATH` keeps a file for node_exporter's textfile
# collector; both show a client enclave's cgroup and its paging.  The
# HTTP checks skip without curl or without libmicrohttpd in the build.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
PROM=$(mktemp -u "${TMPDIR:-/tmp}/epcg-prom.XXXXXX")
FS_MOUNT_OPTS="--epc 8M --metrics-file $PROM"
. tests/e2e/fs.inc
trap 'rm -f "$PROM"; fs_cleanup' EXIT

wait_for "the file is written at start" test -s "$PROM"
check_grep "with the EPC's capacity" '^epcg_sgx_epc_capacity_bytes 8388608$' \
	"$(cat "$PROM")"
echo "+misc" >"$MNT/cgroup.subtree_control"
mkdir "$MNT/x"
echo "sgx_epc 1048576" >"$MNT/x/misc.max"
sh -c "echo 0 > '$MNT/x/cgroup.procs' && exec '$EPCG' enclave --size 2M '$MNT'" \
	>/dev/null
"$EPCG" umount "$MNT"
wait_for "rewritten at exit: the client's cgroup, its peak" \
	grep -qx 'epcg_sgx_epc_peak_bytes{cgroup="/x"} 1048576' "$PROM"
check_grep "and its evictions" \
	'^epcg_sgx_epc_evicted_pages_total\{cgroup="/x"\} [1-9]' "$(cat "$PROM")"

check_fails "--metrics without a port: usage error" 2 \
	"$EPCG" mount --metrics 127.0.0.1 "$MNT"
check_eq "a non-loopback address is refused (EPERM), nothing mounted" \
	"1 Operation not permitted" \
	"$("$EPCG" mount --metrics 192.0.2.1:9464 "$MNT" 2>&1 |
		grep -o 'Operation not permitted' | sed 's/^/1 /')"
check_fails "and the directory is left as it was" 1 test -e "$MNT/cgroup.procs"

if ! command -v curl >/dev/null 2>&1; then
	ok "scrape # SKIP no curl"
	finish
	exit
fi
served=""
for _ in 1 2 3; do
	port=$((20000 + RANDOM % 30000))
	err=$("$EPCG" mount --epc 8M --metrics "127.0.0.1:$port" "$MNT" 2>&1) &&
		served=1 && break
	case $err in *"not supported"*) break ;; esac
done
if [ -z "$served" ]; then
	ok "scrape # SKIP cannot serve: $err"
	finish
	exit
fi
out=$(curl -sf "http://127.0.0.1:$port/metrics")
check_grep "GET /metrics answers the text format" \
	'^# TYPE epcg_sgx_epc_used_bytes gauge$' "$out"
check_grep "with the policy" '^epcg_sgx_info\{policy="v17"\} 1$' "$out"
"$EPCG" enclave --size 1M "$MNT" >/dev/null
check_grep "a client's enclave shows in the root's peak" \
	'^epcg_sgx_epc_peak_bytes\{cgroup="/"\} 1056768$' \
	"$(curl -sf "http://127.0.0.1:$port/metrics")"
check_eq "other paths: 404" "404" \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/x")"
finish
