#!/usr/bin/env bash
# Starts the integration test bed on free 127.0.0.1 ports, installing what is missing first:
#   etcd (Debian's etcd-server)  ->  kube-apiservers, "clusters" a, b and c (built once by build-kube-apiserver.sh,
#                                    run like envtest), sharing the one etcd under their own --etcd-prefix
#   moto_server (virtualenv)     ->  the fault proxy (test/fault-proxy) in front of it, on its main port plus one
#                                    port per vantage route (a, b, c)
#   helm (built once from the Go module proxy; no server)
# and writes .testbed/state.json (+ state.env for shell), .testbed/kubeconfig (cluster a, admin user,
# system:masters) and .testbed/kubeconfig-<name> for every other cluster (same user and CA).
#
# Idempotent: a component that is alive and healthy is kept (same pid, same port), so a second run is a fast
# no-op. A component that died is restarted, preferably on its old port, together with what depends on it
# (etcd -> kube-apiserver, moto -> proxy). etcd always starts from an empty data dir: there is no
# controller-manager to clean up after old tests, so a fresh store is the only reliable clean state.
#
# Environment: FO_CACHE_DIR (default <repo>/.cache) for built binaries and the venv; FO_TESTBED_DIR (default
# <repo>/.testbed) for runtime state, so two independent test beds can coexist; KUBE_VERSION, HELM_VERSION;
# FO_TESTBED_CLUSTERS (default "a b c"): the clusters to run, one kube-apiserver each (a is always one of them). Three
# by default because the vantage-point tests (test/integration/engine/vantage-*.test.ts) run three operators, and
# two operators in one cluster and namespace share a Lease and a status; each cluster costs ~270 MB and ~1 s
# (started in parallel). "a b" saves that when no vantage test runs.
# Flags: --auto-stop (used by global-setup): if this run starts the bed, `down.sh --if-auto-started` stops it at
# the end of the test run. A bed started without the flag (by hand) is left running.
set -euo pipefail

# Only bash builtins until the tool check has passed: that check must work with a PATH that lacks almost
# everything and still print its one line.
here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
here="$(cd "$here" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${FO_CACHE_DIR:-$root/.cache}"
tb="${FO_TESTBED_DIR:-$root/.testbed}"
KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
MOTO_VERSION="5.2.5"
node="$root/node_modules/.bin/node"
kas_bin="$cache/bin/kube-apiserver-$KUBE_VERSION"
helm_bin="$cache/bin/helm-$HELM_VERSION"
venv="$cache/venv"
moto_constraints="$here/moto-constraints.txt"
# Fault-proxy routes opened at start (one per vantage point a test may run); more open at run time
# (POST /__faults/routes).
proxy_routes=(a b c)
# Clusters besides a (names: one lower-case letter or a short DNS label).
extra_clusters=()
for c in ${FO_TESTBED_CLUSTERS:-a b c}; do
  [[ "$c" =~ ^[a-z][a-z0-9]{0,9}$ ]] || { echo "test bed: FO_TESTBED_CLUSTERS: bad cluster name '$c'" >&2; exit 2; }
  [[ "$c" == a || " ${extra_clusters[*]} " == *" $c "* ]] || extra_clusters+=("$c")
done
auto_stop=0
up_args=("$@")
for arg in "$@"; do
  case "$arg" in
    --auto-stop) auto_stop=1 ;;
    *) echo "usage: up.sh [--auto-stop]" >&2; exit 2 ;;
  esac
done

say() { echo "test bed: $*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Tool check: everything missing is named on ONE line, each with what to install.
# ---------------------------------------------------------------------------------------------------------------
venv_stamp() { echo "$venv/.fo-moto-$MOTO_VERSION"; }

check_tools() {
  local missing=()
  [[ -x "$node" ]] || missing+=("node 24 (run 'npm ci': it installs Node 24 into node_modules/.bin)")
  local t
  for t in curl setsid flock; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t (apt-get install $([[ $t == curl ]] && echo curl || echo util-linux))")
  done
  if [[ ! -f "$tb/pki/ca.crt" || ! -f "$tb/pki/admin.token" ]]; then
    command -v openssl >/dev/null 2>&1 || missing+=("openssl (apt-get install openssl)")
  fi
  if ! command -v etcd >/dev/null 2>&1 && ! command -v apt-get >/dev/null 2>&1; then
    missing+=("etcd 3.4+ (Debian/Ubuntu: apt-get install etcd-server)")
  fi
  if [[ ! -x "$kas_bin" || ! -x "$helm_bin" ]]; then
    if ! command -v go >/dev/null 2>&1; then
      missing+=("go 1.24+ (needed once to build kube-apiserver and helm into $cache/bin; https://go.dev/dl, Debian 12's golang-go is too old)")
    else
      local gov
      gov="$(go env GOVERSION 2>/dev/null || echo go0)"
      gov="${gov#go}"
      local major="${gov%%.*}" rest="${gov#*.}"
      local minor="${rest%%[!0-9]*}"
      if ((major < 1 || (major == 1 && ${minor:-0} < 24))); then
        missing+=("go 1.24+ (found go$gov; needed once to build kube-apiserver and helm)")
      fi
    fi
  fi
  if [[ ! -f "$(venv_stamp)" ]]; then
    if ! command -v python3 >/dev/null 2>&1; then
      missing+=("python3 3.9+ with venv (apt-get install python3 python3-venv)")
    elif ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1; then
      missing+=("python3 3.9+ with the venv module (apt-get install python3-venv)")
    fi
  fi
  if ((${#missing[@]} > 0)); then
    local joined
    printf -v joined '%s; ' "${missing[@]}"
    echo "test bed: cannot start, install first: ${joined%; }" >&2
    exit 3
  fi
}
check_tools

started_at=$EPOCHREALTIME
# Paths go unquoted into generated flags and JSON; refuse the rare path that would break them.
case "$root$cache$tb" in *[[:space:]\"\\]*) die "paths with spaces, quotes or backslashes are not supported: $root, $cache, $tb" ;; esac
mkdir -p "$tb/logs" "$tb/pki" "$cache/bin" "$cache/build"
# One up/down at a time per test bed dir: parallel vitest runs would otherwise race to start the same servers.
exec 9>"$tb/.lock"
flock -w 900 9 || die "another up.sh/down.sh held $tb/.lock for 15 minutes; is one stuck?"

# Previous run's pids and ports (ETCD_PID, ETCD_PORT, ...), if any.
state_env="$tb/state.env"
# shellcheck disable=SC1090
[[ -f "$state_env" ]] && source "$state_env"

# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------
# A pid counts as ours only if it is alive AND still runs the program we started (pids get reused).
alive() {
  local pid="${1:-}" needle="$2"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle"
}

port_in_use() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Reuse the previous port when it is free (a restarted server keeps its address); otherwise ask the kernel.
# Sets PORT (not echoed: a subshell could not remember the ports already handed out in this run).
picked=" "
pick_port() {
  local previous="${1:-}"
  # Starting over after a port clash: the old port may be bound without listening (invisible to port_in_use).
  [[ -n "${FO_UP_PORT_RETRY:-}" ]] && previous=""
  if [[ -n "$previous" && "$picked" != *" $previous "* ]] && ! port_in_use "$previous"; then
    PORT="$previous"
  else
    PORT=""
    while [[ -z "$PORT" || "$picked" == *" $PORT "* ]]; do
      PORT="$("$node" -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    done
  fi
  picked+="$PORT "
}

# Detached from this script's session and stdio: survives the script (and vitest's spawnSync does not wait on
# it), and down.sh can stop its whole process group.
start_detached() {
  local log="$1"
  shift
  # 9>&- : the children must not inherit the lock's fd, or the lock would live as long as they do.
  setsid "$@" >"$log" 2>&1 </dev/null 9>&- &
  PID=$!
  started_pids+=("$PID")
}
started_pids=()

# Ports are picked free but bound only later by the server, so another test bed starting at the same moment (another
# worktree, or a private bed of a parallel run) can take one in between. A server that died of that is not an
# error: stop what this run started and start over once; every port then gets re-checked and re-picked.
port_clash() { grep -qiE 'address already in use|EADDRINUSE' "$1" 2>/dev/null; }

# Stops every server this run started (their process groups). A zombie (exited, not yet reaped) counts as gone.
stop_started() {
  local pid i
  ((${#started_pids[@]} > 0)) || return 0
  for pid in "${started_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${started_pids[@]}"; do
    for ((i = 0; i < 50; i++)); do
      [[ -s "/proc/$pid/cmdline" ]] || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  started_pids=()
}

start_over_after_clash() {
  local name="$1" log="$2"
  if [[ -n "${FO_UP_PORT_RETRY:-}" ]]; then
    say "$name could not bind its port twice (see $log); is something else taking ports on 127.0.0.1?"
    return 1
  fi
  say "$name: its port was taken meanwhile (another test bed starting?); starting over on fresh ports"
  stop_started
  exec env FO_UP_PORT_RETRY=1 bash "${BASH_SOURCE[0]}" "${up_args[@]}"
}

# A run that fails leaves nothing running that no state file records (down.sh could not find it).
state_written=0
on_exit() {
  local rc=$?
  if ((rc != 0 && state_written == 0 && ${#started_pids[@]} > 0)); then
    say "stopping the servers this failed run started"
    stop_started
  fi
}
trap on_exit EXIT

stop_pid() {
  local pid="${1:-}" needle="$2"
  alive "$pid" "$needle" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    alive "$pid" "$needle" || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# wait_ready NAME PID NEEDLE LOG TIMEOUT_S CHECK...: polls CHECK; fails fast with the log's tail if PID dies.
wait_ready() {
  local name="$1" pid="$2" needle="$3" log="$4" timeout="$5"
  shift 5
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pid" "$needle"; then
      if port_clash "$log"; then start_over_after_clash "$name" "$log" || exit 1; fi
      say "$name exited while starting; last lines of $log:"
      tail -n 25 "$log" >&2 || true
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      say "$name not ready after ${timeout}s; last lines of $log:"
      tail -n 25 "$log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

etcd_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_healthy() {
  curl -sf --max-time 3 --cacert "$tb/pki/ca.crt" -H "Authorization: Bearer $(<"$tb/pki/admin.token")" \
    "https://127.0.0.1:${1:-$APISERVER_PORT}/readyz" | grep -q '^ok$'
}
# Cluster X's pid and port live in APISERVER_X_PID / APISERVER_X_PORT (X upper-cased).
cluster_var() { local up="${1^^}"; echo "APISERVER_${up//-/_}_$2"; }
cluster_get() { local v; v="$(cluster_var "$1" "$2")"; echo "${!v:-}"; }
cluster_set() { local v; v="$(cluster_var "$1" "$2")"; printf -v "$v" '%s' "$3"; }
cluster_healthy() { apiserver_healthy "$(cluster_get "$1" PORT)"; }
moto_healthy() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$MOTO_PORT/moto-api/"; }
proxy_healthy() {
  curl -sf --max-time 2 "http://127.0.0.1:$PROXY_PORT/__faults/health" |
    grep -qF "\"upstream\":\"http://127.0.0.1:$MOTO_PORT\"" || return 1
  # Every route listening on the port recorded for it.
  local listed kv
  listed="$(curl -sf --max-time 2 "http://127.0.0.1:$PROXY_PORT/__faults/routes")" || return 1
  for kv in ${PROXY_ROUTES:-}; do
    [[ "$listed" == *"{\"name\":\"${kv%%=*}\",\"port\":${kv#*=}}"* ]] || return 1
  done
}

started=()

# ---------------------------------------------------------------------------------------------------------------
# Installs (each skipped when already done)
# ---------------------------------------------------------------------------------------------------------------
# Helm only builds here; nothing waits on it until the end, so it compiles while the servers start.
helm_job=""
if [[ ! -x "$helm_bin" ]]; then
  say "building helm $HELM_VERSION in the background (once; log $tb/logs/helm-build.log)"
  (
    tmp="$(mktemp -d "$cache/build/helm.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    GOBIN="$tmp" GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-local}" CGO_ENABLED=0 \
      go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    mv "$tmp/helm" "$helm_bin"
  ) >"$tb/logs/helm-build.log" 2>&1 </dev/null 9>&- &
  helm_job=$!
fi

if [[ ! -x "$kas_bin" ]]; then
  KUBE_VERSION="$KUBE_VERSION" FO_CACHE_DIR="$cache" bash "$here/build-kube-apiserver.sh" >/dev/null 9>&-
fi

if ! command -v etcd >/dev/null 2>&1; then
  say "installing etcd from Debian (etcd-server); its own service is not used"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  apt_install() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server; }
  # Package lists may be absent on a fresh machine: update once, only when the install needs it.
  apt_install >"$tb/logs/apt.log" 2>&1 || { $sudo apt-get update >>"$tb/logs/apt.log" 2>&1 && apt_install >>"$tb/logs/apt.log" 2>&1; } ||
    die "apt-get install etcd-server failed; see $tb/logs/apt.log"
  command -v etcd >/dev/null 2>&1 || die "etcd-server installed but 'etcd' is not on PATH"
fi

if [[ ! -f "$(venv_stamp)" ]]; then
  say "installing moto[server]==$MOTO_VERSION into $venv (once)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # The constraints file pins moto's whole dependency tree as last verified, so a new Flask or Werkzeug release
  # cannot change the test bed under us.
  "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" -c "$moto_constraints" \
    >"$tb/logs/pip.log" 2>&1 || die "pip install moto failed; see $tb/logs/pip.log"
  touch "$(venv_stamp)"
fi

# ---------------------------------------------------------------------------------------------------------------
# PKI: serving cert for kube-apiserver (own CA, SAN 127.0.0.1/localhost), service-account keys, admin token.
# Generated once per test bed dir; kept across restarts so an existing kubeconfig stays valid.
# ---------------------------------------------------------------------------------------------------------------
pki="$tb/pki"
pki_new=0
if [[ ! -f "$pki/admin.token" ]]; then
  rm -f "$pki"/*
  (
    cd "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=fo-testbed-ca" -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kube-apiserver" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc" \
      -keyout apiserver.key -out apiserver.csr
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -copy_extensions copy -out apiserver.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    # token,user,uid,"groups": the admin test user is a cluster admin through system:masters.
    token="$(openssl rand -hex 32)"
    echo "$token,fo-admin,fo-admin,\"system:masters\"" >tokens.csv
    printf '%s' "$token" >admin.token
    chmod 600 ./*.key admin.token tokens.csv
  ) >"$tb/logs/openssl.log" 2>&1 || die "generating certificates failed; see $tb/logs/openssl.log"
  pki_new=1
fi

# ---------------------------------------------------------------------------------------------------------------
# Servers. Each block: keep if alive and healthy and its inputs did not change; else (re)start.
# ---------------------------------------------------------------------------------------------------------------
restart_apiserver=$pki_new
restart_proxy=0

# etcd
if alive "${ETCD_PID:-}" etcd && etcd_healthy; then :; else
  stop_pid "${ETCD_PID:-}" etcd
  pick_port "${ETCD_PORT:-}" && ETCD_PORT=$PORT
  pick_port "${ETCD_PEER_PORT:-}" && ETCD_PEER_PORT=$PORT
  rm -rf "$tb/etcd"
  start_detached "$tb/logs/etcd.log" etcd --name fo-testbed --data-dir "$tb/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "fo-testbed=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes 4294967296 --log-level warn --logger zap
  ETCD_PID=$PID
  started+=(etcd)
  restart_apiserver=1
fi

# moto (one server for every region; the region comes from each request's signature)
if alive "${MOTO_PID:-}" moto_server && moto_healthy; then :; else
  stop_pid "${MOTO_PID:-}" moto_server
  pick_port "${MOTO_PORT:-}" && MOTO_PORT=$PORT
  start_detached "$tb/logs/moto.log" "$venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
  MOTO_PID=$PID
  started+=(moto)
  restart_proxy=1
fi

# kube-apiserver, flags as controller-runtime's envtest sets them (pkg/internal/testing/controlplane).
# ServiceAccount admission is off as in envtest: no controller-manager creates the default ServiceAccounts.
# No endpoint reconciler: it would log every 10 s that 127.0.0.1 may not back the "kubernetes" Service, and
# nothing here needs that Service.
# The "clusters" share etcd, each under its own key prefix (a: the default /registry, b: /registry-b, ...), so they
# see nothing of each other's objects. Usage: apiserver_args PORT ETCD_PREFIX.
apiserver_args() {
  local port="$1" prefix="$2"
  echo --etcd-servers "http://127.0.0.1:$ETCD_PORT" --etcd-prefix "$prefix" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --service-account-issuer "https://127.0.0.1:$port/" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --token-auth-file "$pki/tokens.csv" --authorization-mode RBAC \
    --disable-admission-plugins ServiceAccount \
    --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true --endpoint-reconciler-type none
}
# Editing the flags above restarts a running apiserver on the next up.sh, as does a new binary or new PKI.
apiserver_recipe="$(
  declare -f apiserver_args
  echo "$kas_bin"
) "
apiserver_recipe="$(cksum <<<"$apiserver_recipe" | cut -d' ' -f1)"
if [[ "${APISERVER_RECIPE:-}" != "$apiserver_recipe" ]]; then restart_apiserver=1; fi
# Each cluster's apiserver is checked and (re)started on its own; all start at once when etcd restarted.
if ((restart_apiserver == 0)) && alive "${APISERVER_PID:-}" kube-apiserver && apiserver_healthy; then :; else
  stop_pid "${APISERVER_PID:-}" kube-apiserver
  pick_port "${APISERVER_PORT:-}" && APISERVER_PORT=$PORT
  # As envtest does: start it once etcd answers, so it does not begin by retrying its storage connection.
  wait_ready etcd "$ETCD_PID" etcd "$tb/logs/etcd.log" 30 etcd_healthy
  # Word splitting of the echoed flags is safe: every path and value here is free of spaces (checked below).
  # shellcheck disable=SC2046
  start_detached "$tb/logs/kube-apiserver.log" "$kas_bin" $(apiserver_args "$APISERVER_PORT" /registry)
  APISERVER_PID=$PID
  started+=(kube-apiserver)
fi
# A cluster run before but no longer asked for (FO_TESTBED_CLUSTERS changed) is stopped, not left unrecorded.
for c in ${CLUSTERS:-}; do
  if [[ " ${extra_clusters[*]} " != *" $c "* ]]; then
    stop_pid "$(cluster_get "$c" PID)" kube-apiserver
    rm -f "$tb/kubeconfig-$c"
  fi
done
for c in "${extra_clusters[@]}"; do
  if ((restart_apiserver == 0)) && alive "$(cluster_get "$c" PID)" kube-apiserver && cluster_healthy "$c"; then
    continue
  fi
  stop_pid "$(cluster_get "$c" PID)" kube-apiserver
  pick_port "$(cluster_get "$c" PORT)" && cluster_set "$c" PORT "$PORT"
  wait_ready etcd "$ETCD_PID" etcd "$tb/logs/etcd.log" 30 etcd_healthy
  # shellcheck disable=SC2046
  start_detached "$tb/logs/kube-apiserver-$c.log" "$kas_bin" $(apiserver_args "$PORT" "/registry-$c")
  cluster_set "$c" PID "$PID"
  started+=("kube-apiserver-$c")
done
CLUSTERS="${extra_clusters[*]}"
APISERVER_RECIPE="$apiserver_recipe"

# fault proxy; restarted when moto moved or its source changed (a dev loop with FO_TESTBED_KEEP=1 edits it).
proxy_hash="$(cat "$root"/test/fault-proxy/*.ts | cksum | cut -d' ' -f1)"
if [[ "${PROXY_HASH:-}" != "$proxy_hash" ]]; then restart_proxy=1; fi
# PROXY_ROUTES: "a=PORT b=PORT ..." as recorded; a route added to proxy_routes restarts the proxy.
route_names=""
for kv in ${PROXY_ROUTES:-}; do route_names+="${kv%%=*} "; done
if [[ "$route_names" != "${proxy_routes[*]} " ]]; then restart_proxy=1; fi
if ((restart_proxy == 0)) && alive "${PROXY_PID:-}" fault-proxy/main.ts && proxy_healthy; then :; else
  stop_pid "${PROXY_PID:-}" fault-proxy/main.ts
  pick_port "${PROXY_PORT:-}" && PROXY_PORT=$PORT
  PROXY_HASH="$proxy_hash"
  route_flags=()
  new_routes=""
  for name in "${proxy_routes[@]}"; do
    previous=""
    for kv in ${PROXY_ROUTES:-}; do if [[ "${kv%%=*}" == "$name" ]]; then previous="${kv#*=}"; fi; done
    pick_port "$previous"
    route_flags+=(--route "$name=$PORT")
    new_routes+="$name=$PORT "
  done
  PROXY_ROUTES="${new_routes% }"
  start_detached "$tb/logs/fault-proxy.log" "$node" "$root/test/fault-proxy/main.ts" \
    --port "$PROXY_PORT" --upstream "http://127.0.0.1:$MOTO_PORT" "${route_flags[@]}"
  PROXY_PID=$PID
  started+=(fault-proxy)
fi

# Readiness, slowest last so the others are usually ready by the time we look.
wait_ready etcd "$ETCD_PID" etcd "$tb/logs/etcd.log" 30 etcd_healthy
wait_ready moto "$MOTO_PID" moto_server "$tb/logs/moto.log" 60 moto_healthy
wait_ready fault-proxy "$PROXY_PID" fault-proxy/main.ts "$tb/logs/fault-proxy.log" 30 proxy_healthy
wait_ready kube-apiserver "$APISERVER_PID" kube-apiserver "$tb/logs/kube-apiserver.log" 120 apiserver_healthy
for c in "${extra_clusters[@]}"; do
  wait_ready "kube-apiserver-$c" "$(cluster_get "$c" PID)" kube-apiserver "$tb/logs/kube-apiserver-$c.log" 120 \
    cluster_healthy "$c"
done

if [[ -n "$helm_job" ]]; then
  wait "$helm_job" || { tail -n 25 "$tb/logs/helm-build.log" >&2; die "helm build failed; log $tb/logs/helm-build.log"; }
fi

# ---------------------------------------------------------------------------------------------------------------
# State and kubeconfig (written only when something changed: a warm run touches nothing)
# ---------------------------------------------------------------------------------------------------------------
kubeconfig="$tb/kubeconfig"
# kubeconfig_for PORT NAME: the admin user on one cluster (all share the CA and the token file).
kubeconfig_for() {
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $2
  cluster:
    server: https://127.0.0.1:$1
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: fo-admin
  user:
    token: $(<"$pki/admin.token")
contexts:
- name: $2
  context:
    cluster: $2
    user: fo-admin
    namespace: default
current-context: $2
EOF
}
new_kubeconfig="$(kubeconfig_for "$APISERVER_PORT" fo-testbed)"
cluster_env=""
clusters_json="\"a\": { \"pid\": $APISERVER_PID, \"port\": $APISERVER_PORT, \"url\": \"https://127.0.0.1:$APISERVER_PORT\", \"etcdPrefix\": \"/registry\", \"kubeconfig\": \"$kubeconfig\", \"log\": \"$tb/logs/kube-apiserver.log\" }"
cluster_ports=""
for c in "${extra_clusters[@]}"; do
  pid="$(cluster_get "$c" PID)" port="$(cluster_get "$c" PORT)"
  cluster_env+="$(cluster_var "$c" PID)=$pid"$'\n'"$(cluster_var "$c" PORT)=$port"$'\n'
  clusters_json+=",
    \"$c\": { \"pid\": $pid, \"port\": $port, \"url\": \"https://127.0.0.1:$port\", \"etcdPrefix\": \"/registry-$c\", \"kubeconfig\": \"$tb/kubeconfig-$c\", \"log\": \"$tb/logs/kube-apiserver-$c.log\" }"
  cluster_ports+=", $c: $port"
done

new_env="$(
  cat <<EOF
# Written by test/env/up.sh; read by up.sh and down.sh. Tests read state.json.
ETCD_PID=$ETCD_PID
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PID=$APISERVER_PID
APISERVER_PORT=$APISERVER_PORT
APISERVER_RECIPE=$APISERVER_RECIPE
CLUSTERS="$CLUSTERS"
${cluster_env}MOTO_PID=$MOTO_PID
MOTO_PORT=$MOTO_PORT
PROXY_PID=$PROXY_PID
PROXY_PORT=$PROXY_PORT
PROXY_HASH=$PROXY_HASH
PROXY_ROUTES="$PROXY_ROUTES"
EOF
)"

routes_json=""
for kv in $PROXY_ROUTES; do
  routes_json+="${routes_json:+, }\"${kv%%=*}\": { \"port\": ${kv#*=}, \"url\": \"http://127.0.0.1:${kv#*=}\" }"
done
new_json="$(
  cat <<EOF
{
  "version": 1,
  "dir": "$tb",
  "kubeconfig": "$kubeconfig",
  "helm": "$helm_bin",
  "etcd": { "pid": $ETCD_PID, "port": $ETCD_PORT, "peerPort": $ETCD_PEER_PORT, "url": "http://127.0.0.1:$ETCD_PORT", "dataDir": "$tb/etcd", "log": "$tb/logs/etcd.log" },
  "apiserver": { "pid": $APISERVER_PID, "port": $APISERVER_PORT, "url": "https://127.0.0.1:$APISERVER_PORT", "version": "$KUBE_VERSION", "binary": "$kas_bin", "log": "$tb/logs/kube-apiserver.log" },
  "clusters": {
    $clusters_json
  },
  "moto": { "pid": $MOTO_PID, "port": $MOTO_PORT, "url": "http://127.0.0.1:$MOTO_PORT", "version": "$MOTO_VERSION", "log": "$tb/logs/moto.log" },
  "proxy": { "pid": $PROXY_PID, "port": $PROXY_PORT, "url": "http://127.0.0.1:$PROXY_PORT", "control": "http://127.0.0.1:$PROXY_PORT/__faults", "log": "$tb/logs/fault-proxy.log", "routes": { $routes_json } },
  "aws": { "endpoint": "http://127.0.0.1:$PROXY_PORT", "motoEndpoint": "http://127.0.0.1:$MOTO_PORT", "region": "us-east-1", "accessKeyId": "testing", "secretAccessKey": "testing", "accountId": "123456789012" },
  "pki": { "caCert": "$pki/ca.crt", "servingCert": "$pki/apiserver.crt", "servingKey": "$pki/apiserver.key", "serviceAccountKey": "$pki/sa.key", "serviceAccountPublicKey": "$pki/sa.pub", "tokenFile": "$pki/tokens.csv", "adminToken": "$pki/admin.token" }
}
EOF
)"

write_if_changed() {
  local file="$1" content="$2"
  if [[ ! -f "$file" || "$(<"$file")" != "$content" ]]; then
    printf '%s\n' "$content" >"$file.tmp"
    mv "$file.tmp" "$file"
  fi
}
write_if_changed "$kubeconfig" "$new_kubeconfig"
chmod 600 "$kubeconfig"
for c in "${extra_clusters[@]}"; do
  write_if_changed "$tb/kubeconfig-$c" "$(kubeconfig_for "$(cluster_get "$c" PORT)" "fo-testbed-$c")"
  chmod 600 "$tb/kubeconfig-$c"
done
write_if_changed "$state_env" "$new_env"
write_if_changed "$tb/state.json" "$new_json"
state_written=1

# Whether a test run may stop the bed: decided by whoever started it from nothing (etcd is started only then).
if [[ " ${started[*]} " == *" etcd "* ]]; then
  if ((auto_stop)); then : >"$tb/auto-stop"; else rm -f "$tb/auto-stop"; fi
fi

elapsed_ms=$(((${EPOCHREALTIME/./} - ${started_at/./}) / 1000))
if ((${#started[@]} == 0)); then
  say "already up (${elapsed_ms} ms): apiserver https://127.0.0.1:$APISERVER_PORT (clusters a: $APISERVER_PORT$cluster_ports)," \
    "aws http://127.0.0.1:$PROXY_PORT (routes $PROXY_ROUTES)"
else
  say "ready in ${elapsed_ms} ms (started: ${started[*]}): apiserver https://127.0.0.1:$APISERVER_PORT" \
    "(clusters a: $APISERVER_PORT$cluster_ports), aws (fault proxy) http://127.0.0.1:$PROXY_PORT (routes $PROXY_ROUTES)," \
    "moto http://127.0.0.1:$MOTO_PORT; state $tb/state.json"
fi
