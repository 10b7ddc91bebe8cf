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

printf '\n==> lint and format\n'
npx eslint . --max-warnings 0
npx prettier --check . --log-level warn

if [ "$#" -gt 0 ]; then
  ./scripts/in-netns.sh npx vitest run "$@"
  exit
fi
# One project after the other: the real peers (sipp, baresip, Chromium) and the
# timer tests do not compete for the machine's cores.
# The e2e project runs once per media engine (mediasoup, then the werift relay);
# PARLEY_MEDIA_ENGINE picks it (gateway/test/harness.ts).
status=0
for project in unit protocol e2e:mediasoup e2e:relay; do
  name=${project%%:*}
  engine=${project#*:}
  if [ "$engine" = "$project" ]; then engine=''; fi
  printf '\n==> tests: %s%s\n' "$name" "${engine:+ (media engine: $engine)}"
  PARLEY_MEDIA_ENGINE=$engine ./scripts/in-netns.sh npx vitest run --project "$name" || status=1
done
exit $status
