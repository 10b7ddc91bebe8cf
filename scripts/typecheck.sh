#!/usr/bin/env bash
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for pkg in shared gateway widget demo testkit e2e bench; do
  if [ -f "$pkg/tsconfig.json" ]; then
    printf '  tsc -p %s\n' "$pkg"
    npx tsc -p "$pkg" || status=1
  fi
done
exit $status
