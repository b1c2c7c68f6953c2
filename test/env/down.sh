#!/usr/bin/env bash
# Stops the test bed started by up.sh: the processes recorded in .testbed/state.env, nothing found by name.
# Tolerant: a missing state file or an already-dead process is fine. Keeps the PKI (a restarted bed reuses it),
# the logs and every cache; drops etcd's data (up.sh would wipe it anyway).
#
#   down.sh                     stop now
#   down.sh --if-auto-started   (global-setup's teardown) stop only if a test run started the bed
#                               (up.sh --auto-stop); one started by hand keeps running
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tb="${FO_TESTBED_DIR:-$root/.testbed}"
if_auto=0
case "${1:-}" in
  "") ;;
  --if-auto-started) if_auto=1 ;;
  *) echo "usage: down.sh [--if-auto-started]" >&2; exit 2 ;;
esac

say() { echo "test bed: $*" >&2; }

if [[ ! -f "$tb/state.env" ]]; then
  say "not running (no $tb/state.env)"
  exit 0
fi

# Same lock as up.sh, so a stop never interleaves with a start.
exec 9>"$tb/.lock"
flock -w 300 9 || { say "could not take $tb/.lock within 5 minutes; not stopping"; exit 1; }

if ((if_auto)) && [[ ! -f "$tb/auto-stop" ]]; then
  say "left running: it was started outside a test run (stop it with test/env/down.sh)"
  exit 0
fi

# shellcheck disable=SC1091
source "$tb/state.env"

alive() {
  local pid="${1:-}" needle="$2"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  # The process may exit between the check above and the read: a quiet miss, not an error on stderr.
  { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$needle"
}

# name pid needle: the needle guards against signalling a recycled pid that is now someone else's process.
targets=(
  "fault-proxy ${PROXY_PID:-} fault-proxy/main.ts"
  "kube-apiserver ${APISERVER_PID:-} kube-apiserver"
)
# Every other cluster's apiserver (CLUSTERS="b ...", pids in APISERVER_<NAME>_PID); before moto and etcd.
for c in ${CLUSTERS:-}; do
  v="APISERVER_${c^^}_PID"
  v="${v//-/_}"
  targets+=("kube-apiserver-$c ${!v:-} kube-apiserver")
done
targets+=("moto ${MOTO_PID:-} moto_server" "etcd ${ETCD_PID:-} etcd")

# TERM everything first (each was started with setsid, so its pid is its process group), then wait in one loop.
for t in "${targets[@]}"; do
  read -r _ pid needle <<<"$t"
  if alive "$pid" "$needle"; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; fi
done
for ((i = 0; i < 100; i++)); do
  any=0
  for t in "${targets[@]}"; do
    read -r _ pid needle <<<"$t"
    if alive "$pid" "$needle"; then any=1; fi
  done
  ((any)) || break
  sleep 0.1
done
for t in "${targets[@]}"; do
  read -r name pid needle <<<"$t"
  if alive "$pid" "$needle"; then
    say "$name (pid $pid) ignored SIGTERM for 10s; killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
done

rm -rf "$tb/etcd"
rm -f "$tb/state.env" "$tb/state.json" "$tb/kubeconfig" "$tb"/kubeconfig-* "$tb/auto-stop"
say "stopped"
