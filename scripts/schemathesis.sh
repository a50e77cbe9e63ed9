#!/usr/bin/env bash
# Runs Schemathesis's checks (all of them) against a demo service, with the admin's key, over
# the service's own /openapi.json: every answer must be one the document lists, of the schema
# it gives, and no request may get a 5xx.
#
# Builds the debug `esito` (or uses ESITO_BIN), loads the demo into a temporary SQLite
# database, serves it on a free port, and installs Schemathesis into target/schemathesis-venv
# when it is not there. Extra arguments go to `schemathesis run` (`--max-examples 20`, say).
#
# Schemathesis's `positive_data_acceptance` expects valid data to be accepted; a command that
# matches its schema can still break a rule of the domain (an unknown beneficiary, a date
# outside the term, an event id used before), and 409 and 422 are then the right answers, so
# they are accepted there too. Every operation's `{contract}` is the demo's Cuneo contract.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv=target/schemathesis-venv
if [[ ! -x $venv/bin/schemathesis ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

esito=${ESITO_BIN:-target/debug/esito}
if [[ -z ${ESITO_BIN:-} ]]; then
    # Built as the end-to-end tests build it, so a debug target made for `make test` is reused.
    CARGO_INCREMENTAL=0 nice -n 10 cargo test --quiet -p esito-cli --test end_to_end --no-run
fi

work=$(mktemp -d)
server=
cleanup() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

database="sqlite://$work/esito.db"
"$esito" demo --database "$database" > "$work/demo.log"
# Keys of their own rather than the demo's: the demo's stop working once the run registers a
# contract the demo did not load, as Schemathesis does.
admin_key=$("$esito" keys create --database "$database" --role admin --principal schemathesis-admin)
evaluator_key=$("$esito" keys create --database "$database" --role evaluator \
    --contract cuneo-communal-living --principal schemathesis-evaluator)
payer_key=$("$esito" keys create --database "$database" --role payer \
    --contract cuneo-communal-living --principal schemathesis-payer)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$esito" serve --database "$database" --listen "127.0.0.1:$port" \
    --signing-key "$work/signing.key" --vault-key "$work/vault.key" > "$work/serve.log" 2>&1 &
server=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
    if curl -sf "$url/healthz" > /dev/null; then
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$work/serve.log" >&2
        echo "esito serve stopped before it answered" >&2
        exit 1
    fi
    sleep 0.1
done
curl -sf "$url/healthz" > /dev/null

# The demo's Cuneo contract and one of its streams, so that requests reach past
# `unknown_contract` to the handlers; an admin's key, but each settlement step with the key of
# the one role that takes it (the admin's is refused there, by design).
cat > "$work/schemathesis.toml" <<'TOML'
headers = { Authorization = "Bearer ADMIN_KEY" }

[parameters]
"path.contract" = "cuneo-communal-living"
"path.stream_type" = "product"
"path.stream_id" = "prov-01-p01"

[[operations]]
include-path-regex = "validate"
headers = { Authorization = "Bearer EVALUATOR_KEY" }

[[operations]]
include-path-regex = "(approve|/pay$|settlement-payment)"
headers = { Authorization = "Bearer PAYER_KEY" }

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
TOML
sed -i -e "s/ADMIN_KEY/$admin_key/" -e "s/EVALUATOR_KEY/$evaluator_key/" \
    -e "s/PAYER_KEY/$payer_key/" "$work/schemathesis.toml"

# From the temporary directory, where Schemathesis keeps its cache of examples.
venv=$PWD/$venv
cd "$work"
"$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$url/openapi.json" \
    --url "$url" \
    --checks all \
    --suppress-health-check all \
    --seed 1 \
    "$@"
