#!/usr/bin/env bash
# The README's test command (what CI runs): installs what is needed, then
#   1. builds build/ (g++) and runs every test in it;
#   2. builds build-san/ with clang, AddressSanitizer + UBSan and libFuzzer's coverage
#      instrumentation, and runs every test again in it (docs/reliability.md);
#   3. fuzzes each libFuzzer target of that tree for DEPCTL_FUZZ_SECONDS (default 60).
# For a quicker local run: DEPCTL_TEST_SANITIZE=0 skips 2 and 3, DEPCTL_FUZZ_SECONDS=0 skips 3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
started=$SECONDS
say() { echo "== test.sh: $* ($((SECONDS - started)) s)"; }

bash "$root/scripts/install-deps.sh"

build=${DEPCTL_BUILD_DIR:-$root/build}
# The cheap checks first: the layering (and include cycles), the format, the sizes.
say "lint"
python3 "$root/scripts/check_layering.py" "$root"
bash "$root/scripts/check_format.sh"
python3 "$root/scripts/check_size.py" "$root"

say "build $build"
bash "$root/scripts/build.sh" -DDEPCTL_WERROR=ON

say "ctest $build"
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 900)

sanitize=${DEPCTL_TEST_SANITIZE:-1}
san=${DEPCTL_SAN_BUILD_DIR:-$root/build-san}
if [ "$sanitize" != 0 ]; then
  # One tree serves the sanitizer run and the fuzzers: a second sanitizer compile of the
  # whole project would cost CI more than a quarter of an hour on two cores. The options
  # (halt at the first finding, leaks, exit 86) are compiled into every binary of the
  # tree: cmake/sanitizer_options.cpp.
  # Compiled after the plain tree's tests, not beside them: three fresh-clone runs on two
  # cores gave 773 s one after the other against 794 s and 906 s side by side (the tests
  # use both cores more than they seem to).
  # A unity build (CMake batches of 8 files): CLI11's and nlohmann's inline functions are
  # compiled once per batch instead of once per file: 270 s cold on two cores, where one
  # file at a time took 526 s (with full debug information then). The plain tree stays one
  # file at a time, as developers build, so that a file that compiles only beside its batch
  # neighbours' includes still fails there.
  say "build $san (clang, ASan + UBSan + fuzzer instrumentation, unity)"
  DEPCTL_BUILD_DIR="$san" CMAKE_BUILD_TYPE=RelWithDebInfo bash "$root/scripts/build.sh" \
    -DCMAKE_CXX_COMPILER=clang++ -DDEPCTL_SANITIZE=ON -DDEPCTL_FUZZ=ON -DCMAKE_UNITY_BUILD=ON
  say "ctest $san"
  (cd "$san" && ctest --output-on-failure -j "$(nproc)" --timeout 900)
  if [ "${DEPCTL_FUZZ_SECONDS:-60}" != 0 ]; then
    say "fuzz"
    # The three targets side by side: 60 s of wall time instead of 120 on two cores (each
    # target gets two thirds of a core; longer runs before a release: docs/reliability.md).
    DEPCTL_FUZZ_JOBS=${DEPCTL_FUZZ_JOBS:-3} DEPCTL_FUZZ_BUILD_DIR=$san bash "$root/scripts/fuzz.sh"
  fi
fi
say "all passed"
