#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages epcg needs to build and test, if missing.
# Runs apt-get as root, or through sudo for a normal user.
set -eu

pkgs=(
	gcc clang libclang-rt-14-dev pkg-config meson ninja-build
	libssl-dev libfuse3-dev fuse3 bats libmicrohttpd-dev
)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "epcg: installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "epcg: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	}
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
