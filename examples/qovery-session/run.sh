#!/usr/bin/env bash
# Walks through the Qovery deployment-pipeline session (seed 000) with depctl, in a
# throw-away directory: seven services, the four default stages, renames and moves.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CONFIG_HOME="$work/.config"   # keep the demo's context out of yours
unset DEPCTL_STATE DEPCTL_ENVIRONMENT

run() { printf '\n~ $ depctl %s\n' "$*"; depctl "$@"; }

run init --project qovery-demo
run environment create production
run context set -e production
run service create Redis --type DATABASE
run service create DB --type DATABASE
run service create Rabbitmq --type CONTAINER
for app in Backend Frontend "Pablo Backend App" "API gateway"; do
  run service create "$app" --type APPLICATION
done
run environment stage list
run environment stage edit -n "DATABASE DEFAULT" --new-name "first stage"
run environment stage edit -n "JOB DEFAULT" --new-name "second stage"
run environment stage edit -n "CONTAINER DEFAULT" --new-name "third stage"
run environment stage edit -n "APPLICATION DEFAULT" --new-name "fourth stage"
run environment stage list
run environment stage move -n Rabbitmq -s "second stage"
run environment stage move -n Backend -s "third stage"
run environment stage list
