#!/usr/bin/env bash
# Installs every Debian package depctl needs to build, run and test.
# Idempotent; needs root (or sudo). No network downloads besides apt.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config git
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libcurl4-openssl-dev zlib1g-dev catch2
  python3 sqlite3 procps util-linux tmux groff-base
  etcd-server openssl
  jq
  clang libclang-rt-14-dev llvm-14  # libFuzzer targets (scripts/fuzz.sh), llvm-symbolizer
  zsh fish man-db  # the zsh and fish completion tests, and `man -l` on the generated page
  libyaml-cpp-dev  # the pipeline file, depctl.yaml (DESIGN §8)
  clang-format-14  # CI checks that every C++ file is formatted (.clang-format)
  libcpp-httplib-dev  # the HTTP server of `depctl ui` (DESIGN §10)
  chromium  # the browser tests of `depctl ui`, and the SVG pictures rendered to PNG in tests
  graphviz  # test-only: `dot -Tsvg` checks the DOT that `environment graph` prints
  python3-yaml  # test-only: reads imported depctl.yaml files to check them against the JSON Schema
)
# playwright-core (tests/browser) needs node and npm. Debian's npm conflicts with the
# nodesource nodejs (which bundles npm) that some machines already have: ask apt only
# when there is no npm at all.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# playwright-core for tests/browser, pinned by its package-lock.json (no browser download:
# the tests use Debian's /usr/bin/chromium).
browser_deps() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/browser" && pwd)"
  [ -d "$dir/node_modules/playwright-core" ] ||
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  browser_deps
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
browser_deps
