#!/usr/bin/env bash
# The one test command: installs what it needs, then type-checks, lints and runs
# every test (unit, protocol against sipp/baresip, e2e in Chromium). Media and
# browser tests run inside a private network namespace so that nothing can leave
# this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

printf '\n==> typecheck\n'
./scripts/typecheck.sh

printf '\n==> lint\n'
npx eslint . --max-warnings 0

printf '\n==> tests (vitest: unit, protocol, e2e)\n'
./scripts/in-netns.sh npx vitest run "$@"
