#!/usr/bin/env bash
# Fails when a tracked .cpp/.hpp differs from what clang-format 14 makes of it (the
# .clang-format at the root; ctest `lint: format`). Fix with: clang-format-14 -i FILE.
# Exit 77 (ctest: skipped) when clang-format-14 is missing; scripts/install-deps.sh has it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cf=${DEPCTL_CLANG_FORMAT:-clang-format-14}
if ! command -v "$cf" >/dev/null; then
  echo "format: $cf not found: skipped (scripts/install-deps.sh installs it)"
  exit 77
fi
cd "$root"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z -- '*.cpp' '*.hpp' | xargs -0 "$cf" --dry-run --Werror
else
  find src include tests bench -name '*.cpp' -o -name '*.hpp' | xargs "$cf" --dry-run --Werror
fi
echo "format: ok"
