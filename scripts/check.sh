#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite, as CI runs it: install what is missing, build a
# normal, an AddressSanitizer+UBSan and a ThreadSanitizer configuration
# (warnings are errors), run every suite, and end with the line
# "N passed, N failed, N skipped".
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh

export EPCG_STRESS_SECONDS=${EPCG_STRESS_SECONDS:-4}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

scripts/build.sh build -Dwerror=true
scripts/build.sh build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false
scripts/build.sh build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false
# Host-allocation failure injection, under ASan+UBSan so that every failed
# allocation's unwinding is leak-checked (only the fault suite is built and
# run here).
EPCG_BUILD_TARGETS="tests/fault-alloc tests/fault-daemon" scripts/build.sh build-fault \
	-Dwerror=true -Dfault_injection=true -Db_sanitize=address,undefined \
	-Db_lundef=false

EPCG_TEST_TIMEOUT_SCALE=3 exec scripts/run-tests.sh \
	build:unit,stress,e2e,fuzz build-asan:unit,stress,fuzz build-tsan:unit,stress \
	build-fault:fault
