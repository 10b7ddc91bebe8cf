#!/usr/bin/env bash
# Puts Parley's mediasoup worker where mediasoup looks for it
# (node_modules/mediasoup/worker/out/Release/mediasoup-worker), building it with
# scripts/mediasoup-worker-build.sh when the cache outside the clone has none:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/parley/mediasoup-worker-<version>/<key>/mediasoup-worker
#
# <key> is a hash of the build script (its patches and flags, comments left out), so a
# changed patch builds anew while a second run, or CI's fresh clone on the same machine,
# costs nothing. A fresh machine builds once: about 11 minutes on 2 cores.
#
# mediasoup's own prebuilt worker is not used even where it can be downloaded: it lacks
# the patches SIP legs need (see the build script), and the gateway would refuse it.
# MEDIASOUP_WORKER_BIN, if set, names a worker to use instead (nothing is built).
# Run from scripts/setup.sh, after the pnpm install (as root: the build apt-installs).
set -euo pipefail
cd "$(dirname "$0")/.."

MS_VER=3.19.3
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
  echo "mediasoup worker: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN (not building)"
  exit 0
fi

# mediasoup's main module is node/lib/index.js; its package root is two levels up.
dest=$(cd gateway && node -p "require('node:path').join(require.resolve('mediasoup'), '..', '..', '..', 'worker', 'out', 'Release')")
key=$(grep -v '^#' scripts/mediasoup-worker-build.sh | sha256sum | cut -c1-12)
root="${XDG_CACHE_HOME:-$HOME/.cache}/parley"
cache="$root/mediasoup-worker-$MS_VER/$key"
mkdir -p "$root"

# One build at a time per machine (a developer's setup and CI's may overlap).
exec 9>"$root/mediasoup-worker.lock"
flock 9

if [ -x "$cache/mediasoup-worker" ]; then
  echo "mediasoup worker: cached ($cache)"
else
  log="$root/mediasoup-build-$key.log"
  echo "mediasoup worker: building mediasoup $MS_VER's worker with Parley's patches"
  echo "  once per machine, about 11 minutes on 2 cores; full log: $log"
  started=$(date +%s)
  # apt, pip and meson output go to the log; every 15 s, ninja's progress ([done/total]).
  WORK="$root/mediasoup-build" PREFIX="$cache.partial" JOBS="$(nproc)" \
    bash scripts/mediasoup-worker-build.sh >"$log" 2>&1 </dev/null &
  build=$!
  shown=''
  while kill -0 "$build" 2>/dev/null; do
    sleep 15
    progress=$(grep -oE '^\[[0-9]+/[0-9]+\]' "$log" | tail -n 1 || true)
    if [ -z "$progress" ]; then progress='(apt, meson: preparing)'; fi
    if [ "$progress" != "$shown" ]; then
      echo "  $(($(date +%s) - started)) s: compiling $progress"
      shown=$progress
    fi
  done
  status=0
  wait "$build" || status=$?
  if [ "$status" -ne 0 ] || [ ! -x "$cache.partial/mediasoup-worker" ]; then
    echo "mediasoup worker: the build failed (exit $status); last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
  echo "mediasoup worker: built in $(($(date +%s) - started)) s ($cache)"
fi

if ! cmp -s "$cache/mediasoup-worker" "$dest/mediasoup-worker" 2>/dev/null; then
  install -D -m 0755 "$cache/mediasoup-worker" "$dest/mediasoup-worker"
fi
echo "mediasoup worker: $dest/mediasoup-worker"
