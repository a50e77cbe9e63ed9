#!/usr/bin/env bash
# Runs a command with DATABASE_URL naming a real PostgreSQL: the one already set, or else a
# throwaway cluster made with the local PostgreSQL binaries in a temporary directory, on a
# free port, stopped and removed when the command ends, whether it passes or fails.
set -euo pipefail

if [ -n "${DATABASE_URL:-}" ]; then
    exec "$@"
fi

pg_bin=""
for candidate in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    if [ -x "$candidate/initdb" ]; then pg_bin=$candidate; break; fi
done
if [ -z "$pg_bin" ]; then
    if command -v initdb >/dev/null; then pg_bin=$(dirname "$(command -v initdb)"); else
        echo "with-postgres: no PostgreSQL binaries (initdb, pg_ctl) found; set DATABASE_URL" >&2
        exit 1
    fi
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/esito-pg.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
as_owner=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
    as_owner=(runuser -u postgres --)
fi

stop() {
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: throwaway PostgreSQL on port $port" >&2
"$@"
