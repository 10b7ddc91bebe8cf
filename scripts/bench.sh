#!/usr/bin/env bash
# Runs the benchmarks after setting the machine up; results go to docs/benchmarks.md by hand.
#
#   scripts/bench.sh [NAME] [--quick] [--no-setup] [flags]
#
# With no NAME all of them run, one after the other (the table below, in order).
# Flags other than these go to the benchmark named (with none named: `--seconds N`
# to tokens, the rest to b2bua). `--quick`: a short smoke run of each (the
# table's quick flags). `--no-setup`: skip scripts/setup.sh (system packages,
# pnpm install) on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."

# name | netns (1: inside scripts/in-netns.sh) | script | quick flags | what it measures
BENCHMARKS=(
  'tokens|0|bench/src/tokens.ts|--seconds 0.3|token issue/verify rates, next to plain ES256 verifies (one core)'
  'b2bua|0|bench/src/b2bua.ts|--quick|sipp → gateway → sipp UAS on one core (needs sipp, taskset, 2 CPUs)'
  'routing|0|bench/src/routing.ts|--decisions 50|routing decisions with 1000 agents and 20 ms value providers'
  'webrtc|1|bench/src/webrtc.ts|--quick|Chromium call setup, concurrent WebRTC calls per core, widget bytes'
  'attacks|1|bench/src/attacks.ts|--seconds 8 --slow-connections 200 --flood-rate 200|the gateway under an INVITE flood and TCP slow clients while sipp places calls (`--repo DIR` runs another checkout)'
  'speech|0|bench/src/speech.ts|--quick|flite TTS cold/cached, pocketsphinx WER, word → partial delay, live transcription streams'
  'marketplace|0|bench/src/marketplace.ts|--quick|auctions with 10,000 listings, number leases, call-entry matching against 1,000,000 impressions, the ledger under concurrent charges'
  'gated|0|bench/src/gated.ts|--decisions 500 --pins 5 --accounts 2000|authenticating-server decisions with 100,000 accounts (gated facilities)'
  'gated-ring|1|bench/src/gated-ring.ts|--calls 10|gated call set-up: a SIP visitor'"'"'s INVITE → the resident'"'"'s device ringing'
  'gated-trunk-ring|1|bench/src/gated-trunk-ring.ts|--calls 10|gated call set-up for a phone caller: the carrier'"'"'s INVITE → answered, → the resident'"'"'s device ringing'
  'queue|0|bench/src/queue.ts|--rounds 200|queue decisions with 1,000 callers waiting (agent free → its caller chosen and rung)'
  'queue-calls|1|bench/src/queue-calls.ts|--callers 5|the queue on the wire: a phone caller waiting in `enqueue`, the agent'"'"'s BYE (agent free) → the next caller'"'"'s INVITE at the agent'
  'flows|0|bench/src/flows.ts|--runs 20 --keys 200|the flow runner'"'"'s cost per verb, and key press → next verb'
  'flow-calls|1|bench/src/flow-calls.ts|--steps 5|flows on real calls, on the wire: answer → first prompt packet, key press → next verb, gateway CPU per say + gather + record call'
  'reconnect|1|bench/src/reconnect.ts|--quick|a visitor'"'"'s WebSocket cut and back (WebSocket open → call rebound, audio pause) and ICE restarts (network change → re-INVITE answered), Chromium to baresip'
  'pg-per-call|1|bench/src/pg-per-call.ts|--calls 5 --by-statement|what PostgreSQL and Redis see per call with storage.kind: postgres and shared.redis (pg_stat_database; the gateway'"'"'s Redis command counter)'
  'media-apps|1|bench/src/media-apps.ts|--quick|say + record per call on PCMU (calls per core), first prompt packet, key press → DTMF listener, pacer, codec costs'
  'voicemail|1|bench/src/voicemail.ts|--quick|live voicemail: word spoken → text on the agent'"'"'s desk, "take the call" → audio both ways'
  'voicemail-concurrent|1|bench/src/voicemail-concurrent.ts|--quick|concurrent live voicemails on one core: gateway and decoder CPU per message, word spoken → desk under load, transcripts stored'
  'callbacks|1|bench/src/callbacks.ts|--callbacks 5|callbacks on real peers (sipp customer behind a trunk, baresip advertiser): request → customer ringing, "1" → advertiser ringing'
  'scale-out|1|bench/src/scale-out.ts|--gateways 1,2 --rates 10,20 --step-seconds 5|Kamailio in front of 1, 2, 3 gateways on PostgreSQL and Redis: call setups per second, INVITE → 200, calls and CPU per gateway, sipp → sipp in the same run'
  'callbacks-concurrent|1|bench/src/callbacks-concurrent.ts|--concurrent 5|concurrent callbacks (sipp customers behind a trunk, sipp advertiser agents): gateway CPU per callback, request → all connected'
)

usage() {
  sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'
  echo
  echo "Benchmarks:"
  for row in "${BENCHMARKS[@]}"; do
    IFS='|' read -r name _ _ _ what <<<"$row"
    printf '  %-17s %s\n' "$name" "$what"
  done
}

names=()
for row in "${BENCHMARKS[@]}"; do names+=("${row%%|*}"); done

which=all
if [ $# -gt 0 ] && [[ " ${names[*]} " == *" $1 "* ]]; then
  which=$1
  shift
elif [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  # Not a flag and not a name: without this it went to b2bua as a flag, after every benchmark ran.
  echo "bench.sh: no benchmark named '$1'" >&2
  usage >&2
  exit 2
fi

quick=0
setup=1
token_args=()
named_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --quick) quick=1 ;;
    --no-setup) setup=0 ;;
    --seconds)
      if [ "$which" = all ]; then token_args+=("$1" "${2:?--seconds needs a value}"); else named_args+=("$1" "${2:?--seconds needs a value}"); fi
      shift
      ;;
    *) named_args+=("$1") ;;
  esac
  shift
done

if [ "$setup" = 1 ]; then ./scripts/setup.sh; fi

for row in "${BENCHMARKS[@]}"; do
  IFS='|' read -r name netns script quick_flags _ <<<"$row"
  if [ "$which" != all ] && [ "$which" != "$name" ]; then continue; fi
  args=()
  # shellcheck disable=SC2206 # the quick flags are words by design
  if [ "$quick" = 1 ]; then args+=($quick_flags); fi
  if [ "$which" = "$name" ]; then args+=(${named_args[@]+"${named_args[@]}"}); fi
  if [ "$which" = all ] && [ "$name" = tokens ]; then args+=(${token_args[@]+"${token_args[@]}"}); fi
  if [ "$which" = all ] && [ "$name" = b2bua ]; then args+=(${named_args[@]+"${named_args[@]}"}); fi
  printf '\n==> bench: %s\n' "$name"
  if [ "$netns" = 1 ]; then
    ./scripts/in-netns.sh node --import tsx "$script" ${args[@]+"${args[@]}"}
  else
    node --import tsx "$script" ${args[@]+"${args[@]}"}
  fi
done
