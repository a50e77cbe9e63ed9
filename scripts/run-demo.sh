#!/usr/bin/env bash
# `make run`: load the demo into esito.db once, say how to reach the service, serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
esito=target/release/esito
database="sqlite://esito.db"
if [ ! -f esito.db ]; then
    "$esito" demo --database "$database"
fi
cat <<MSG

Esito is serving the demo on http://127.0.0.1:8080 (database: esito.db). Try:
  curl -s http://127.0.0.1:8080/healthz
Export and verify the Cuneo log:
  $esito export --contract cuneo-communal-living > cuneo.jsonl && $esito verify cuneo.jsonl

MSG
exec "$esito" serve --database "$database" --listen 127.0.0.1:8080
