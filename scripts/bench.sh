#!/usr/bin/env bash
# Runs the benchmarks after setting the machine up; results go to docs/benchmarks.md by hand.
#
#   scripts/bench.sh [tokens|b2bua|routing|webrtc|attacks|speech|marketplace|queue|flows] [--quick] [--no-setup] [flags]
#
# With no name all of them run, one after the other:
#   tokens   token issue/verify rates, next to plain ES256 verifies (one core)
#   b2bua    sipp → gateway → sipp UAS on one core (needs sipp, taskset, 2 CPUs)
#   routing  routing decisions with 1000 agents and 20 ms value providers
#   webrtc   Chromium call setup, concurrent WebRTC calls per core, widget bytes
#            (in the private network namespace of scripts/in-netns.sh)
#   attacks  the gateway under an INVITE flood and TCP slow clients while sipp
#            places calls (in the namespace; `--repo DIR` runs another checkout's gateway)
#   speech   flite TTS cold/cached, pocketsphinx WER, word → partial delay,
#            live transcription streams per decoder process
#   marketplace  auction decisions with 10,000 listings, number leases, call-entry
#            matching against 1,000,000 impressions, the ledger under concurrent charges
#   queue    queue decisions with 1,000 callers waiting (agent free → its caller chosen and rung)
#   flows    the flow runner's cost per verb, and key press → next verb
# Other flags go to the benchmark named (with none named: `--seconds N` to tokens,
# the rest to b2bua). `--quick`: a short smoke run of each. `--no-setup`: skip
# scripts/setup.sh (system packages, pnpm install) on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."

which=all
case "${1:-}" in
  tokens | b2bua | routing | webrtc | attacks | speech | marketplace | queue | flows)
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
attack_args=()
speech_args=()
marketplace_args=()
queue_args=()
flows_args=()
if [ "$quick" = 1 ]; then
  attack_args+=(--seconds 8 --slow-connections 200 --flood-rate 200)
  if [ ${#token_args[@]} -eq 0 ]; then token_args=(--seconds 0.3); fi
  b2bua_args+=(--quick)
  routing_args+=(--decisions 50)
  webrtc_args+=(--quick)
  speech_args+=(--quick)
  marketplace_args+=(--quick)
  queue_args+=(--rounds 200)
  flows_args+=(--runs 20 --keys 200)
fi
if [ "$which" = routing ]; then routing_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = webrtc ]; then webrtc_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = attacks ]; then attack_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = speech ]; then speech_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = marketplace ]; then marketplace_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = queue ]; then queue_args+=(${other_args[@]+"${other_args[@]}"}); fi
if [ "$which" = flows ]; then flows_args+=(${other_args[@]+"${other_args[@]}"}); fi

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
if runs attacks; then
  printf '\n==> bench: attacks\n'
  ./scripts/in-netns.sh node --import tsx bench/src/attacks.ts ${attack_args[@]+"${attack_args[@]}"}
fi
if runs speech; then
  printf '\n==> bench: speech\n'
  node --import tsx bench/src/speech.ts ${speech_args[@]+"${speech_args[@]}"}
fi
if runs marketplace; then
  printf '\n==> bench: marketplace\n'
  node --import tsx bench/src/marketplace.ts ${marketplace_args[@]+"${marketplace_args[@]}"}
fi
if runs queue; then
  printf '\n==> bench: queue\n'
  node --import tsx bench/src/queue.ts ${queue_args[@]+"${queue_args[@]}"}
fi
if runs flows; then
  printf '\n==> bench: flows\n'
  node --import tsx bench/src/flows.ts ${flows_args[@]+"${flows_args[@]}"}
fi
