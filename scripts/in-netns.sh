#!/usr/bin/env bash
# Runs a command inside a private network namespace, so nothing it starts can
# reach (or be reached from) any real network:
#   - lo up (127.0.0.1),
#   - a veth pair v0 10.77.0.1/24 <-> v1 10.77.0.2/24 (Chromium gathers no usable
#     ICE candidate in a namespace with only lo, hence the pair).
# Exits with the command's status.
#
#   scripts/in-netns.sh ip -brief addr
#   scripts/in-netns.sh npx vitest run --project protocol
#
# Needs root (unshare -n) or unprivileged user namespaces (unshare -rn, where the
# command then runs as a mapped root). If neither is allowed, it warns and runs
# the command directly: the tests bind to 127.0.0.1 anyway.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi

# Already inside one (nested call): just run it.
if [ "${PARLEY_NETNS:-}" = "1" ]; then
  exec "$@"
fi

# Runs inside the new namespace: configure it, then exec the command.
setup='
set -e
ip link set lo up
if ip link add v0 type veth peer name v1 2>/dev/null; then
  ip addr add 10.77.0.1/24 dev v0
  ip addr add 10.77.0.2/24 dev v1
  ip link set v0 up
  ip link set v1 up
else
  echo "in-netns: warning: no veth pair (ip link add … type veth failed); only lo is up" >&2
fi
export PARLEY_NETNS=1
exec "$@"
'

if ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  echo "in-netns: warning: unshare or ip missing (util-linux, iproute2); running without a private network" >&2
  exec "$@"
fi

if unshare -n true 2>/dev/null; then
  exec unshare -n -- sh -c "$setup" in-netns "$@"
elif unshare -rn true 2>/dev/null; then
  echo "in-netns: not root: using a user namespace (the command runs as a mapped root)" >&2
  exec unshare -rn -- sh -c "$setup" in-netns "$@"
else
  echo "in-netns: warning: creating a network namespace is not permitted here; running without a private network (everything still binds to 127.0.0.1)" >&2
  exec "$@"
fi
