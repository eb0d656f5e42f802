#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configure (once) and build one build directory.
# Usage: scripts/build.sh DIR [meson options...]
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
ninja -C "$dir" >/dev/null || ninja -C "$dir"
