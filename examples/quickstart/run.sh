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

# Bold commands and dim explanations on a terminal; plain text in a pipe or with NO_COLOR.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'; else bold= dim= off=; fi
say()  { printf '\n%s# %s%s\n' "$dim" "$*" "$off"; }
step() { printf '%s~ $ %s%s\n' "$bold" "$*" "$off"; }

say "The project is a file, depctl.yaml: one environment, \"local\", and three services,"
say "Database (stage \"data\"), then Api and Web (stage \"apps\"); Web depends on Api."
step depctl apply --yes;                           depctl apply --yes
step depctl context set -e local;                  depctl context set -e local
step depctl environment stage list;                depctl environment stage list

say "The plan. Api's build runs ahead, while the data stage deploys; nothing runs yet."
step depctl environment deploy --dry-run --version 1.0.0; depctl environment deploy --dry-run --version 1.0.0

say "The deploy: stage after stage; each step's output goes to .depctl/logs/."
step depctl environment deploy --version 1.0.0;    depctl environment deploy --version 1.0.0

say "What runs where, recorded in .depctl/state.json:"
step depctl environment status;                    depctl environment status

say "The API answers, with the version it was built for:"
step "curl http://127.0.0.1:$API_PORT/";           python3 -c "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode().strip())" "http://127.0.0.1:$API_PORT/"

say "Every deployment is in the history (deployment show ID / deployment logs ID for details):"
step depctl deployment list;                       depctl deployment list

say "Stop the servers again with each service's stop command, last stage first:"
step depctl environment stop --follow;             depctl environment stop --follow

say "Applying the same file again changes nothing (a CI job can run it every time):"
step depctl apply --yes;                           depctl apply --yes

say "Next: docs/getting-started.md builds a project like this one from scratch."
