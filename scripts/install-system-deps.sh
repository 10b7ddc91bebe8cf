#!/usr/bin/env bash
# Installs the Debian 12 (bookworm) packages the tests and benchmarks use as real
# peers. Idempotent: installed packages are skipped, and `apt-get update` runs
# only when something is missing. Run as root.
#
#   baresip-core       agent softphone (baresip 1.0.0)
#   sip-tester         sipp 3.6.1
#   flite, espeak-ng   speech synthesis (flite's slt voice is what pocketsphinx recognises)
#   sox                tones, resampling, level/frequency checks
#   pocketsphinx(-en-us) speech recognition: tests, and the gateway's default transcriber
#                      (gateway/src/speech loads libpocketsphinx3, a dependency of
#                      pocketsphinx, through koffi; the en-us model is the one it uses)
#   chromium           the browser for e2e tests (driven by playwright-core)
#   tshark             packet captures for timing checks
#   coturn             TURN server (turnserver, turnutils_uclient) for relay-only calls
#   kamailio, kamailio-websocket-modules  the SIP edge in front of several gateways
#                      (deploy/kamailio/, scripts/cluster.sh, the scale-out test)
#   iproute2, util-linux  ip, unshare, setpriv (scripts/in-netns.sh, process cleanup)
#   postgresql         storage.kind "postgres": the store tests and benchmarks start their
#                      own cluster (testkit/src/postgres.ts: initdb + postgres in a temp dir)
#   redis-server       shared.redis: the shared-state tests start their own (testkit/src/redis.ts)
#   janus              the peer the WebRTC benchmark measures Parley against (its SIP plugin)
#   libsrtp2-1 libusrsctp2 libuv1 libabsl20220623  what Parley's mediasoup worker links to at run time
set -euo pipefail

PACKAGES=(
  baresip-core
  sip-tester
  flite
  espeak-ng
  sox
  pocketsphinx
  pocketsphinx-en-us
  chromium
  tshark
  coturn
  kamailio
  kamailio-websocket-modules
  iproute2
  util-linux
  postgresql
  redis-server
  janus
  libsrtp2-1
  libusrsctp2
  libuv1
  libabsl20220623
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: run as root (e.g. sudo $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: apt-get not found; this script is for Debian 12 (bookworm)" >&2
  exit 1
fi
if [ -r /etc/os-release ] && ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "install-system-deps: note: not Debian bookworm; package names were checked for bookworm only" >&2
fi

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for package in "${PACKAGES[@]}"; do
  if installed "$package"; then
    echo "ok       $package $(dpkg-query -W -f='${Version}' "$package")"
  else
    echo "missing  $package"
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: everything is installed, nothing to do"
  exit 0
fi

echo "install-system-deps: apt-get update"
apt-get update

unknown=()
for package in "${missing[@]}"; do
  if ! apt-cache show "$package" >/dev/null 2>&1; then unknown+=("$package"); fi
done
if [ "${#unknown[@]}" -gt 0 ]; then
  echo "install-system-deps: no such package in the configured apt sources: ${unknown[*]}" >&2
  exit 1
fi

echo "install-system-deps: apt-get install -y --no-install-recommends ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

for package in "${missing[@]}"; do
  if installed "$package"; then
    echo "installed $package $(dpkg-query -W -f='${Version}' "$package")"
  else
    echo "install-system-deps: $package is still not installed" >&2
    exit 1
  fi
done
