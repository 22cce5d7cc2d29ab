#!/usr/bin/env bash
# The README's main job: a real deploy of this quickstart in a throw-away copy.
# Plans it, deploys it (build, migration, two HTTP servers, health checks), shows what
# runs where, calls the API, then stops the servers again.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
copy="$work/quickstart"
cp -r "$src" "$copy"
rm -rf "$copy/.depctl" "$copy/run"
export XDG_CONFIG_HOME="$work/.config"   # keep the demo's context out of yours
unset DEPCTL_STATE DEPCTL_ENVIRONMENT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export API_PORT=$(free_port) WEB_PORT=$(free_port)
cleanup() { "$copy/daemon.sh" stop api >/dev/null 2>&1 || true; "$copy/daemon.sh" stop web >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
cd "$copy"

step() { printf '\n\033[1m~ $ %s\033[0m\n' "$*"; }
step ./setup.sh;                                   ./setup.sh >/dev/null
step depctl environment stage list;                depctl environment stage list
step depctl environment deploy --dry-run --version 1.0.0; depctl environment deploy --dry-run --version 1.0.0
step depctl environment deploy --version 1.0.0;    depctl environment deploy --version 1.0.0
step depctl environment status;                    depctl environment status
step "curl http://127.0.0.1:$API_PORT/";           python3 -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())" "http://127.0.0.1:$API_PORT/"
step depctl deployment list;                       depctl deployment list
step "stopping the services";                      ./daemon.sh stop web; ./daemon.sh stop api
