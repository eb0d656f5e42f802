# SPDX-License-Identifier: MIT
# Thin wrapper over meson/ninja for the README's commands.
#   make run     build, then run the main job (epcg on its embedded default)
#   make check   the whole test suite (normal, ASan+UBSan and TSan builds)
#   make bench   build the release configuration, run every benchmark and
#                summarize the targets (scripts/bench.sh)
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
	scripts/bench.sh build-release

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-fault build-release
