# SPDX-License-Identifier: MIT
# Thin wrapper over meson/ninja for the README's commands.
#   make run     build, then run the main job (epcg on its embedded default)
#   make check   the whole test suite (normal, ASan+UBSan and TSan builds)
#   make bench   build the release configuration and run the benchmarks
#   make format  reformat the C sources with clang-format
BUILD ?= build

.PHONY: all deps run check bench format clean

all: deps
	scripts/build.sh $(BUILD)

deps:
	scripts/install-deps.sh

run: all
	$(BUILD)/cli/epcg

check:
	scripts/check.sh

bench: deps
	scripts/build.sh build-release --buildtype=release
	for b in build-release/bench/bench-*; do [ -x "$$b" ] && "$$b"; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fault build-release
