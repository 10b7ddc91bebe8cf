#!/usr/bin/env bash
# Runs the benchmarks after setting the machine up; results go to docs/benchmarks.md by hand.
#
#   scripts/bench.sh [tokens|b2bua|routing|webrtc|gated] [--quick] [--no-setup] [flags]
#
# With no name all five run, one after the other:
#   tokens   token issue/verify rates, next to plain ES256 verifies (one core)
#   b2bua    sipp → gateway → sipp UAS on one core (needs sipp, taskset, 2 CPUs)
#   routing  routing decisions with 1000 agents and 20 ms value providers
#   webrtc   Chromium call setup, concurrent WebRTC calls per core, widget bytes
#            (in the private network namespace of scripts/in-netns.sh)
#   gated    authenticating-server decisions with 100,000 accounts (gated facilities)
# Other flags go to the benchmark named (with none named: `--seconds N` to tokens,
# the rest to b2bua). `--quick`: a short smoke run of each. `--no-setup`: skip
# scripts/setup.sh (system packages, pnpm install) on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."

which=all
case "${1:-}" in
  tokens | b2bua | routing | webrtc | gated)
    which=$1
    shift
    ;;
esac

quick=0
setup=1
token_args=()
b2bua_args=()
other_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-setup) setup=0 ;;
    --seconds)
      token_args+=("$1" "${2:?--seconds needs a value}")
      shift
      ;;
    --seconds=*) token_args+=("$1") ;;
    *)
      case "$which" in
        tokens) token_args+=("$1") ;;
        all | b2bua) b2bua_args+=("$1") ;;
        *) other_args+=("$1") ;;
      esac
      ;;
  esac
  shift
done
routing_args=()
webrtc_args=()
gated_args=()
if [ "$quick" = 1 ]; then
  if [ ${#token_args[@]} -eq 0 ]; then token_args=(--seconds 0.3); fi
  b2bua_args+=(--quick)
  routing_args+=(--decisions 50)
  webrtc_args+=(--quick)
  gated_args+=(--accounts 5000 --decisions 500 --pins 5)
fi
if [ "$which" = routing ]; then routing_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = webrtc ]; then webrtc_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = gated ]; then gated_args+=(${other_args[@]+"${other_args[@]}"}); fi

if [ "$setup" = 1 ]; then ./scripts/setup.sh; fi

runs() { [ "$which" = all ] || [ "$which" = "$1" ]; }
if runs tokens; then
  printf '\n==> bench: tokens\n'
  node --import tsx bench/src/tokens.ts ${token_args[@]+"${token_args[@]}"}
fi
if runs b2bua; then
  printf '\n==> bench: b2bua\n'
  node --import tsx bench/src/b2bua.ts ${b2bua_args[@]+"${b2bua_args[@]}"}
fi
if runs routing; then
  printf '\n==> bench: routing\n'
  node --import tsx bench/src/routing.ts ${routing_args[@]+"${routing_args[@]}"}
fi
if runs webrtc; then
  printf '\n==> bench: webrtc\n'
  ./scripts/in-netns.sh node --import tsx bench/src/webrtc.ts ${webrtc_args[@]+"${webrtc_args[@]}"}
fi
if runs gated; then
  printf '\n==> bench: gated\n'
  node --import tsx bench/src/gated.ts ${gated_args[@]+"${gated_args[@]}"}
fi
