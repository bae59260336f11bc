#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for tests and prints its URL on stdout (the only stdout line):
#   export TUNEKIT_TEST_POSTGRES_URL=$(scripts/start-postgres.sh)
# Needs Debian's `postgresql` package. The cluster lives under /tmp, is owned by the `postgres` user (initdb
# refuses root), trusts local connections only, and is stopped with: scripts/start-postgres.sh --stop
# Env: TUNEKIT_PG_PORT (default 55432), TUNEKIT_PG_DIR (default /tmp/tunekit-pg-$PORT).
set -euo pipefail
PORT="${TUNEKIT_PG_PORT:-55432}"
DIR="${TUNEKIT_PG_DIR:-/tmp/tunekit-pg-$PORT}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$BIN" || ! -x "$BIN/initdb" ]]; then
  echo "start-postgres: PostgreSQL binaries not found under /usr/lib/postgresql/*/bin — apt-get install postgresql" >&2
  exit 1
fi
as_pg() {
  if [[ "$(id -u)" == "0" ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [[ "${1:-}" == "--stop" ]]; then
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
  rm -rf "$DIR"
  exit 0
fi
if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [[ "$(id -u)" == "0" ]] && chown postgres:postgres "$DIR"
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
fi
if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=off" start >&2
fi
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='tunekit_test'" | grep -q 1 \
  || as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres tunekit_test >&2
echo "postgres://postgres@127.0.0.1:$PORT/tunekit_test"
