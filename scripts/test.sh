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
# Each project's output is also kept, so that the run ends with a summary of
# what failed: CI shows only the tail of a long log.
status=0
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
summary=''
details=''
for project in unit protocol e2e:mediasoup e2e:relay; do
  name=${project%%:*}
  engine=${project#*:}
  if [ "$engine" = "$project" ]; then engine=''; fi
  label="$name${engine:+ ($engine)}"
  printf '\n==> tests: %s%s\n' "$name" "${engine:+ (media engine: $engine)}"
  log="$logs/${project/:/-}.log"
  set +e
  failures="$logs/${project/:/-}.failures"
  PARLEY_FAILURE_LOG=$failures PARLEY_MEDIA_ENGINE=$engine ./scripts/in-netns.sh npx vitest run --project "$name" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -eq 0 ]; then
    summary+="  $label: passed"$'\n'
  else
    status=1
    summary+="  $label: FAILED (exit $rc)"$'\n'
    # vitest's failure headings ("FAIL  |project| file > test"), without colours.
    failed=$(sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *FAIL ' | sort -u | head -40 || true)
    if [ -n "$failed" ]; then summary+="$failed"$'\n'; fi
    # The assertions (vitest's "Failed Tests" section) and what the failing tests
    # reported of their peers (testkit's reportFailure), kept short.
    asserted=$(sed -e 's/\x1b\[[0-9;]*m//g' "$log" | sed -n '/Failed Tests/,/Test Files/p' | head -120 || true)
    details+=$'\n'"==> failures: $label"$'\n'"$asserted"$'\n'
    if [ -s "$failures" ]; then details+="$(tail -n 400 "$failures")"$'\n'; fi
  fi
done
printf '%s' "$details"
printf '\n==> summary\n%s' "$summary"
exit $status
