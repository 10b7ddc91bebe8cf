#!/usr/bin/env bash
# Installs what Parley needs on a fresh machine: Debian packages (as root), the
# pnpm workspace with its native builds, and the widget bundle. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "system packages (baresip, sipp, sox, flite, pocketsphinx, chromium)"
./scripts/install-system-deps.sh

step "node packages (pnpm 9 via npx; corepack's signature check fails against our registry)"
npx -y pnpm@9 install --frozen-lockfile --reporter=append-only

step "mediasoup worker (Parley's build, cached in \${XDG_CACHE_HOME:-~/.cache}/parley: a fresh machine builds it once, about 11 minutes)"
./scripts/mediasoup-worker.sh

if [ -f widget/src/index.ts ]; then
  step "widget bundle"
  npx -y pnpm@9 --filter @parley/widget build
fi
