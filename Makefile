# Esito: each target is one line; the work is in cargo and scripts/.
.PHONY: run test bench bench-scale schemas fmt lint

# Build, load the demo into esito.db if it is not there, print how to call it, serve on 127.0.0.1:8080.
run:
	cargo build --release -p esito-cli
	scripts/run-demo.sh

# Everything, on a fresh machine: unit tests, the store suite on SQLite and a real PostgreSQL, the CLI end to end,
# Schemathesis's checks against a demo service's own OpenAPI document (25 examples an operation),
# and the screens in Debian's headless Chromium (installed when missing).
test:
	scripts/chromium.sh
	cargo fmt --all -- --check
	scripts/with-postgres.sh cargo test --workspace --all-targets
	ESITO_BIN=target/debug/esito scripts/schemathesis.sh --max-examples 25

# Benchmarks (release build) with their anchors measured in the same run; JSON under target/bench/.
bench:
	cargo build --release -p esito-bench -p esito-cli
	scripts/with-postgres.sh target/release/esito-bench --out target/bench

# The figures that must not grow with the log, at 1 M and 3 M entries side by side with their
# growth factor (not part of `bench`: it loads each size three times); target/bench/scale.json.
bench-scale:
	cargo build --release -p esito-bench -p esito-cli
	scripts/with-postgres.sh target/release/esito-bench --scale --out target/bench

# Regenerate the checked-in JSON Schemas from the types.
schemas:
	ESITO_WRITE_SCHEMAS=1 cargo test -p esito-domain --test schemas
	ESITO_WRITE_SCHEMAS=1 cargo test -p esito-api --test openapi
	ESITO_WRITE_SCHEMAS=1 cargo test -p esito-settlement --test schemas
	ESITO_WRITE_SCHEMAS=1 cargo test -p esito-api --test imports the_import_templates

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
