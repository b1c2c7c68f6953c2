#!/usr/bin/env bash
# Builds kube-apiserver from the Go module proxy, once, into the git-ignored cache folder.
#
# `go install k8s.io/kubernetes/cmd/kube-apiserver@vX` does not work: k8s.io/kubernetes' go.mod replaces its
# k8s.io/* staging modules with local paths (./staging/src/...). So we make a throw-away module that requires
# k8s.io/kubernetes at a pinned release and replaces every staging module with its published v0.x tag. The
# replace list is generated from the downloaded go.mod, never hard-coded.
#
# Go's module and build caches stay in their usual places ($GOMODCACHE, $GOCACHE), so a fresh clone on a machine
# that built once before relinks in seconds instead of compiling for many minutes.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.4}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${FO_CACHE_DIR:-$(cd "$here/../.." && pwd)/.cache}"
bin="$cache/bin/kube-apiserver-$KUBE_VERSION"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "test bed: 'go' is missing; install Go 1.24 or later (https://go.dev/doc/install is not reachable here: apt-get install golang-go)" >&2; exit 1; }

# Two test runs (or up.sh and a person) may ask at once: build once, the other waits and reuses the result.
mkdir -p "$cache/build"
exec 8>"$cache/build/kube-apiserver-$KUBE_VERSION.lock"
flock 8
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

staging_version="v0.${KUBE_VERSION#v1.}"
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
work="$cache/build/kube-apiserver-$KUBE_VERSION"
mkdir -p "$work" "$cache/bin"
cd "$work"

echo "test bed: building kube-apiserver $KUBE_VERSION (staging modules at $staging_version); this happens once" >&2
export GOFLAGS="-mod=mod"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

# Fetch k8s.io/kubernetes' go.mod to learn its staging modules.
gomod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')"
mapfile -t staging < <(grep -E '^\s*k8s\.io/[^ ]+ => \./staging/' "$gomod" | awk '{print $1}' | sort -u)
if [[ ${#staging[@]} -eq 0 ]]; then
  echo "test bed: found no staging replaces in $gomod; the recipe needs updating for $KUBE_VERSION" >&2
  exit 1
fi

{
  echo "module fo-testbed/kube-apiserver"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	$m => $m $staging_version"; done
  echo ")"
} > go.mod
cat > main.go <<'GO'
package main

import _ "k8s.io/kubernetes/cmd/kube-apiserver"

func main() {}
GO
# The blank import is only there so `go mod tidy` resolves the full graph; we build the real main package.
go mod tidy >/dev/null 2>&1 || true
go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >/dev/null

CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
  -o "$bin.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$bin.tmp" "$bin"
echo "$bin"
