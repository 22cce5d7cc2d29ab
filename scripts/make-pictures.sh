#!/usr/bin/env bash
# Regenerates the pictures of docs/pictures.md from real deploys:
#   - the quickstart (examples/quickstart), deployed twice (the second reuses nothing);
#   - a 40-service pipeline of short `sleep` steps, to show the layout at that size.
# Usage: scripts/make-pictures.sh [DEPCTL]   (default: build/depctl, else depctl on PATH)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
depctl_bin=${1:-$root/build/depctl}
[ -x "$depctl_bin" ] || depctl_bin=$(command -v depctl)
depctl_bin=$(cd "$(dirname "$depctl_bin")" && pwd)/$(basename "$depctl_bin")
out=$root/docs/images
work=$(mktemp -d)
export XDG_CONFIG_HOME="$work/.config" NO_COLOR=1
unset DEPCTL_STATE DEPCTL_ENVIRONMENT
export PATH="$(dirname "$depctl_bin"):$PATH"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cp -r "$root/examples/quickstart" "$work/quickstart"
rm -rf "$work/quickstart/.depctl" "$work/quickstart/run"
cleanup() {
    "$work/quickstart/daemon.sh" stop api >/dev/null 2>&1 || true
    "$work/quickstart/daemon.sh" stop web >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The quickstart: set up the way its README does, deployed twice.
export API_PORT=$(free_port) WEB_PORT=$(free_port)
cd "$work/quickstart"
if [ -f depctl.yaml ]; then
    depctl apply --yes >/dev/null
    depctl context set -e local >/dev/null
else
    ./setup.sh >/dev/null
fi
depctl environment deploy --version 1.0.0 --quiet >/dev/null
depctl environment deploy --version 1.1.0 --quiet >/dev/null
depctl environment graph --format svg > "$out/quickstart-graph.svg"
depctl deployment timeline latest --quiet -o "$out/quickstart-timeline.svg"
depctl deployment timeline latest --quiet --format chrome-trace -o "$out/quickstart-trace.json"
# The text outputs docs/pictures.md shows: printed, to paste there.
echo "--- depctl environment graph"; depctl environment graph
echo "--- depctl deployment explain latest"; depctl deployment explain latest
echo "--- depctl environment deploy --dry-run --version 1.2.0 (last lines)"
depctl environment deploy --dry-run --version 1.2.0 | tail -n 2
depctl environment stop --quiet >/dev/null

# 40 services over five stages, each depending on one or two of the stage before.
mkdir "$work/wide" && cd "$work/wide"
depctl init --project wide >/dev/null
depctl environment create staging >/dev/null
depctl context set -e staging >/dev/null
for stage in apps workers edge; do depctl environment stage create -n "$stage" >/dev/null; done
RANDOM=7
declare -a names
for i in $(seq 1 40); do
    case $(( (i - 1) / 8 )) in
        0) type=database; stage="DATABASE DEFAULT"; name=db$i ;;
        1) type=container; stage="CONTAINER DEFAULT"; name=queue$i ;;
        2) type=application; stage="apps"; name=api$i ;;
        3) type=application; stage="workers"; name=worker$i ;;
        *) type=application; stage="edge"; name=web$i ;;
    esac
    build=()
    [ "$type" = application ] && build=(--build "sleep 0.$((RANDOM % 4 + 1))")
    depctl service create "$name" --type "$type" "${build[@]}" --deploy "sleep 0.$((RANDOM % 5 + 1))" >/dev/null
    depctl environment stage move -n "$name" -s "$stage" >/dev/null
    names[$i]=$name
    if [ "$i" -gt 8 ]; then
        base=$(( ((i - 1) / 8 - 1) * 8 ))
        depctl service depend "$name" --on "${names[$((base + RANDOM % 8 + 1))]}" >/dev/null 2>&1 || true
    fi
done
depctl environment stage move -n "${names[1]}" -s "DATABASE DEFAULT" >/dev/null
depctl environment deploy --version 1.0.0 --quiet -j 6 >/dev/null
depctl environment graph --format svg > "$out/wide-graph.svg"
depctl deployment timeline latest --quiet -o "$out/wide-timeline.svg"
echo "--- wrote $(ls "$out" | grep -E '^(quickstart|wide)-' | tr '\n' ' ')"
