#!/bin/sh
# daemon.sh start NAME COMMAND... | stop NAME | check URL
# Starts a background server detached from the deploy step (its output goes to run/NAME.log,
# so the step's pipe closes), records its pid, and stops it again.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/run"
case "$1" in
  start)
    name=$2; shift 2
    if [ -f "$here/run/$name.pid" ] && kill -0 "$(cat "$here/run/$name.pid")" 2>/dev/null; then
      kill "$(cat "$here/run/$name.pid")"; sleep 0.2
    fi
    nohup "$@" >"$here/run/$name.log" 2>&1 </dev/null &
    echo $! >"$here/run/$name.pid"
    echo "started $name (pid $!)" ;;
  stop)
    name=$2
    if [ -f "$here/run/$name.pid" ]; then
      kill "$(cat "$here/run/$name.pid")" 2>/dev/null || true
      rm -f "$here/run/$name.pid"
      echo "stopped $name"
    fi ;;
  check)
    python3 -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$2" ;;
esac
