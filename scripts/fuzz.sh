#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (ASan + UBSan) and runs each one
# for a while. CI runs the short default; see docs/reliability.md for longer runs.
#
#   bash scripts/fuzz.sh                               # every target, 60 s each, side by side
#   DEPCTL_FUZZ_SECONDS=3600 bash scripts/fuzz.sh cli  # one target for an hour
#
# Environment: DEPCTL_FUZZ_SECONDS (default 60), DEPCTL_FUZZ_BUILD_DIR (default build-fuzz/),
# DEPCTL_FUZZ_JOBS (targets run at once, default: the number of cores).
# Inputs that reach new code are kept in $build/corpus/<target>/ (never in the source
# tree); a crash, leak or hang is written to $build/artifacts/<target>/ and fails the run.
# Turn one into a regression test by copying it into tests/fuzz/regressions/<target>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${DEPCTL_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${DEPCTL_FUZZ_SECONDS:-60}
jobs=${DEPCTL_FUZZ_JOBS:-$(nproc)}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(state cli history)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DDEPCTL_FUZZ=ON >/dev/null
cmake --build "$build" --target "${targets[@]/#/fuzz_}"

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

run_target() {
  local target=$1 log=$build/logs/$1.log
  local max_len=4096
  [ "$target" = cli ] && max_len=1024
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target" "$build/logs"
  # The first directory receives new inputs; the seeds and past crashes are only read.
  "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$max_len" -close_fd_mask=1 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target/" \
    "$build/corpus/$target" "$root/tests/fuzz/corpus/$target" "$root/tests/fuzz/regressions/$target" \
    >"$log" 2>&1
}

pids=()
failed=0
started=$SECONDS
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
  run_target "$target" &
  pids+=("$!")
done
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  if wait "${pids[$i]}"; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/logs/$target.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$build/logs/$target.log" | tail -1 | grep -o '[0-9]*' || echo "?")
    echo "fuzz: $target: ${seconds} s, $runs inputs, coverage $cov edges, no crash, leak or hang"
  else
    failed=1
    echo "fuzz: $target FAILED; the input is in $build/artifacts/$target/:" >&2
    tail -n 60 "$build/logs/$target.log" >&2
  fi
done
echo "fuzz: done in $((SECONDS - started)) s"
exit "$failed"
