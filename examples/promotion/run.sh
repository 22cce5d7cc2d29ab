#!/usr/bin/env bash
# A multi-environment promotion project (depctl.yaml): development -> staging -> production with an
# enforced order, then a refused promotion, then a rollback. Runs in a throw-away dir.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CONFIG_HOME="$work/.config"
unset DEPCTL_STATE DEPCTL_ENVIRONMENT
run() { printf '\n~ $ depctl %s\n' "$*"; depctl "$@"; }

cp "$src/depctl.yaml" .
run apply --yes      # the project, its three environments and the enforced order
for env in development staging production; do
  run environment deploy -e "$env" --version 1.0.0 --yes
done
run environment deploy -e development --version 1.1.0 --yes
echo
echo "# production must refuse 1.1.0 while staging runs 1.0.0 (exit 5):"
if depctl environment deploy -e production --version 1.1.0 --yes; then
  echo "unexpected: the enforced order did not hold" >&2; exit 1
else
  echo "refused with exit code $?"
fi
run environment deploy -e staging --version 1.1.0 --yes
run environment deploy -e production --version 1.1.0 --yes
run environment deploy -e production --rollback --yes
run environment status -e production
run deployment list -e production
