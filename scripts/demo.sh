#!/usr/bin/env bash
# The README's main job: installs what is needed, builds, and runs the example in examples/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
PATH="${DEPCTL_BUILD_DIR:-$root/build}:$PATH" bash "$root/examples/quickstart/run.sh"
