#!/usr/bin/env bash
# Print a PostgreSQL URL for the tests. Uses the server on 127.0.0.1:5432 (user postgres, trust
# auth) and starts the stock cluster if it is down; if that cannot work, starts a private
# throwaway cluster on 127.0.0.1:55432 under .ci/.cache/pg. Installs PostgreSQL if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "ci-postgres: $*" >&2; }
ready() { .venv/bin/python - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}
URL=postgresql://postgres@127.0.0.1:5432/postgres
if ready "$URL"; then echo "$URL"; exit 0; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing PostgreSQL"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
VER=$(ls /usr/lib/postgresql | sort -n | tail -1)
if [ -d "/etc/postgresql/$VER/main" ]; then
  log "starting cluster $VER/main"
  pg_ctlcluster --skip-systemctl-redirect "$VER" main start >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do ready "$URL" && { echo "$URL"; exit 0; }; sleep 0.5; done
fi
log "stock cluster not usable with trust auth; starting a private cluster"
DIR=$(pwd)/.ci/.cache/pg
BIN=/usr/lib/postgresql/$VER/bin
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR/sock"; chown -R postgres:postgres "$DIR"
  runuser -u postgres -- "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
chmod 755 "$(pwd)/.ci" "$(pwd)/.ci/.cache" 2>/dev/null || true
runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=55432 -c unix_socket_directories=$DIR/sock -c fsync=off" start >/dev/null
URL=postgresql://postgres@127.0.0.1:55432/postgres
for _ in $(seq 1 30); do ready "$URL" && { echo "$URL"; exit 0; }; sleep 0.5; done
log "could not reach PostgreSQL"; exit 1
