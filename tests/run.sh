#!/usr/bin/env bash
# The README's second command: every test.
#   1. banned-function check
#   2. release build (-Werror) + every ctest target
#   3. ASan + UBSan build + the same ctest targets
#   4. clang libFuzzer build + each harness for a few seconds
# Installs missing Debian packages first (needs root then), so it also works
# on a fresh clone on a fresh machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)
deploy/install-deps.sh --missing

echo "== banned functions"
tests/check-banned.sh

echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSV_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
LSAN_OPTIONS=suppressions="$top/tests/lsan.supp":print_suppressions=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== fuzz harnesses (clang, libFuzzer, short runs)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSV_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions="$top/tests/lsan.supp" \
    ctest --test-dir build-fuzz --output-on-failure -L fuzz -j"$jobs"
