#!/usr/bin/env bash
# Starts the demo: the gateway, the demo company site (token endpoint with
# screening, the widget) and a SIP agent, with embedded storage. Prints the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec node --import tsx demo/src/run.ts "$@"
