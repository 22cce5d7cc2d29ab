#!/bin/sh
# A `docker` test double for the compose import tests. Records every call in $DOCKER_LOG as
# "call ARGS"; `compose ps --format '{{.Health}}' SVC` answers "starting" the first time and
# "healthy" after (logged "healthy SVC"); an attached `compose up` (a job) logs "done SVC"
# when it ends.
for last; do :; done
echo "call $*" >> "$DOCKER_LOG"
case " $* " in
  *" ps --format "*)
    n=$(cat "$DOCKER_LOG.ps.$last" 2>/dev/null || echo 0)
    echo $((n + 1)) > "$DOCKER_LOG.ps.$last"
    if [ "$n" -ge 1 ]; then echo "healthy $last" >> "$DOCKER_LOG"; echo healthy; else echo starting; fi ;;
  *" up -d "*) ;;
  *" up "*) echo "done $last" >> "$DOCKER_LOG" ;;
esac
exit 0
