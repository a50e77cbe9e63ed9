#!/usr/bin/env bash
# Makes sure Debian's Chromium is there for the browser tests (crates/esito-cli/tests/browser.rs):
# installs the `chromium` package when it is missing and this runs as root; otherwise says what
# to do, and fails under CI (.ci/run sets ESITO_CI), where the browser tests must run.
set -euo pipefail
if command -v chromium > /dev/null 2>&1 || command -v chromium-browser > /dev/null 2>&1; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null 2>&1; then
    echo "chromium is missing: installing Debian's chromium package" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    exit 0
fi
echo "chromium is missing and cannot be installed from here (not root, or no apt-get):" >&2
echo "  sudo apt-get install -y chromium   (or set ESITO_CHROMIUM to a Chromium binary)" >&2
if [[ -n ${ESITO_CI:-} ]]; then
    exit 1
fi
echo "the browser tests will be skipped" >&2
