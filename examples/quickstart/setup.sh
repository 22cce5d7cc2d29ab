#!/usr/bin/env bash
# Describes the quickstart project to depctl: one environment, three services in three stages.
#   Database (DATABASE)  deploy: create the SQLite file            health: a query
#   Api (APPLICATION)    build: copy + stamp the version           release: migration
#                        deploy: start the HTTP API in background  health: HTTP GET /health
#   Web (APPLICATION)    deploy: start a static server             depends on Api
set -euo pipefail
cd "$(dirname "$0")"
api_port=${API_PORT:-18080}
web_port=${WEB_PORT:-18081}

depctl init --project quickstart
depctl environment create local
depctl context set -e local
depctl environment stage edit -n "DATABASE DEFAULT" --new-name data --new-description "SQLite database"
depctl environment stage edit -n "APPLICATION DEFAULT" --new-name apps --new-description "HTTP services"

depctl service create Database --type database \
  --deploy 'mkdir -p run && sqlite3 run/app.db "PRAGMA user_version;"' \
  --health-cmd 'sqlite3 run/app.db "SELECT 1;"' --health-attempts 5

depctl service create Api --type application --workdir api \
  --build 'mkdir -p dist && cp server.py dist/ && echo "$DEPCTL_VERSION" > dist/VERSION' \
  --release 'sqlite3 ../run/app.db < ../db/migrate.sql' \
  --deploy "../daemon.sh start api env PORT=$api_port DB_PATH=$PWD/run/app.db python3 dist/server.py" \
  --health-http "http://127.0.0.1:$api_port/health" --health-attempts 40 --health-interval 0.25 \
  --stop '../daemon.sh stop api' --env PORT="$api_port"

depctl service create Web --type application --workdir web \
  --deploy "../daemon.sh start web python3 -m http.server $web_port --bind 127.0.0.1" \
  --health-cmd "../daemon.sh check http://127.0.0.1:$web_port/index.html" --health-attempts 40 --health-interval 0.25 \
  --stop '../daemon.sh stop web'
depctl service depend Web --on Api
depctl environment stage list
