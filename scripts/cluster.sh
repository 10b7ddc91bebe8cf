#!/usr/bin/env bash
# Starts Kamailio (deploy/kamailio/kamailio.cfg) on 127.0.0.2 in front of N
# gateways (default 3) on this machine, each with one agent, until Ctrl-C
# (docs/scaling.md). Needs Debian's kamailio (scripts/install-system-deps.sh).
#
#   ./scripts/cluster.sh        three gateways
#   ./scripts/cluster.sh 2      two
#   ./scripts/cluster.sh --shared   on one PostgreSQL and one Redis (started here)
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx testkit/src/cluster-main.ts "$@"
