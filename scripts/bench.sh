#!/usr/bin/env bash
# Runs the benchmarks after setting the machine up; results go to docs/benchmarks.md by hand.
#
#   scripts/bench.sh [tokens|b2bua] [--quick] [flags]
#
# With no name both run: tokens (token issue/verify rates) then b2bua (sipp →
# gateway → sipp on one core; needs sipp, taskset and 2 CPUs). Flags go to the
# benchmark named; with both, `--seconds N` goes to tokens and the rest to b2bua.
# `--quick`: a short smoke run of each (a few seconds per step). `--no-setup`:
# skip scripts/setup.sh (system packages, pnpm install) on a machine already set up.
set -euo pipefail
cd "$(dirname "$0")/.."

which=all
case "${1:-}" in
  tokens | b2bua)
    which=$1
    shift
    ;;
esac

quick=0
setup=1
token_args=()
b2bua_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick)
      quick=1
      b2bua_args+=("$1")
      ;;
    --seconds)
      token_args+=("$1" "${2:?--seconds needs a value}")
      shift
      ;;
    --seconds=*) token_args+=("$1") ;;
    --no-setup) setup=0 ;;
    *)
      if [ "$which" = tokens ]; then token_args+=("$1"); else b2bua_args+=("$1"); fi
      ;;
  esac
  shift
done
if [ "$quick" = 1 ] && [ ${#token_args[@]} -eq 0 ]; then token_args=(--seconds 0.3); fi

if [ "$setup" = 1 ]; then ./scripts/setup.sh; fi

if [ "$which" != b2bua ]; then
  printf '\n==> bench: tokens\n'
  node --import tsx bench/src/tokens.ts ${token_args[@]+"${token_args[@]}"}
fi
if [ "$which" != tokens ]; then
  printf '\n==> bench: b2bua\n'
  node --import tsx bench/src/b2bua.ts ${b2bua_args[@]+"${b2bua_args[@]}"}
fi
