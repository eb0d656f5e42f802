#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure (once) and build one build directory.
# Usage: scripts/build.sh DIR [meson options...]
# EPCG_BUILD_TARGETS="t1 t2" builds only those ninja targets.
set -eu
dir=$1
shift
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log" >&2
		exit 1
	}
	rm -f "$dir.setup.log"
fi
# shellcheck disable=SC2086 # a list of targets, split on purpose
ninja -C "$dir" ${EPCG_BUILD_TARGETS:-} >/dev/null ||
	ninja -C "$dir" ${EPCG_BUILD_TARGETS:-}
