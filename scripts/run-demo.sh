#!/usr/bin/env bash
# `make run`: load the demo into esito.db (again adds nothing), print its keys and a call
# that works as printed, serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
esito=target/release/esito
database="sqlite://esito.db"
"$esito" demo --database "$database"
cat <<MSG

Esito is serving the demo on http://127.0.0.1:8080 (database: esito.db). Try:
  curl -s -H 'Authorization: Bearer esito_demo_evaluator' 'http://127.0.0.1:8080/v1/contracts/cuneo-communal-living/events?limit=2'
The API is described at http://127.0.0.1:8080/openapi.json. Export and verify the Cuneo log:
  $esito export --contract cuneo-communal-living > cuneo.jsonl && $esito verify cuneo.jsonl

MSG
exec "$esito" serve --database "$database" --listen 127.0.0.1:8080
