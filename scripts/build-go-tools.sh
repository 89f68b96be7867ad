#!/usr/bin/env bash
# Builds the real components the tests run (Kubernetes control plane, etcd, kwok, kwokctl, the Envoy
# Gateway controller at the two releases the proxy-rollouts upgrade scenarios use, and Helm) from their Go
# modules in tools/go/ into one cache directory. A binary is rebuilt only when its wrapper module or the Go
# toolchain changed, so a warm run returns at once.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HARBORMASTER_CACHE:-$HOME/.cache/harbormaster}
bin=$cache/bin
mkdir -p "$bin"

# Two checkouts on one machine share the cache: the second build waits for the first instead of competing
# with it for the same cores, then finds everything up to date.
exec 9>"$cache/build.lock"
flock 9

command -v go >/dev/null || { echo "build-go-tools: the Go toolchain (go) is not on PATH; install Go 1.26 or newer" >&2; exit 1; }
go_version=$(go env GOVERSION)

# build <wrapper-module> <ldflags> <binary>=<package>...: one `go build` per wrapper so that packages the
# binaries share compile once.
build() {
  local module=$1 ldflags=$2; shift 2
  local dir=$root/tools/go/$module
  local stamp
  stamp=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)-$go_version
  local missing=0 target name packages=()
  for target in "$@"; do
    name=${target%%=*}
    packages+=("${target#*=}")
    [ -x "$bin/$name" ] && [ "$(cat "$bin/$name.stamp" 2>/dev/null)" = "$stamp" ] || missing=1
  done
  if [ $missing = 0 ]; then echo "build-go-tools: $module up to date"; return; fi

  echo "build-go-tools: building $module (${packages[*]}) with $go_version; a cold build takes minutes" >&2
  local out
  out=$(mktemp -d "$bin/.build-XXXXXX")
  local start=$SECONDS
  if ! (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "${packages[@]}") >"$out/log" 2>&1; then
    echo "build-go-tools: building $module failed; last lines of the build log:" >&2
    tail -n 30 "$out/log" >&2
    rm -rf "$out"
    exit 1
  fi
  for target in "$@"; do
    name=${target%%=*}
    mv -f "$out/$(go_binary_name "${target#*=}")" "$bin/$name"
    echo "$stamp" >"$bin/$name.stamp"
  done
  rm -rf "$out"
  echo "build-go-tools: built $module in $((SECONDS - start))s" >&2
}

# The file name `go build -o dir/` gives a package: its last path element, or the one before a /vN suffix.
go_binary_name() {
  local base=${1##*/}
  if [[ $base =~ ^v[0-9]+$ ]]; then base=${1%/*}; base=${base##*/}; fi
  echo "$base"
}

kube_version=v1.36.3
kube_ldflags="-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/component-base/version.gitTreeState=clean"
kwok_ldflags="-X sigs.k8s.io/kwok/pkg/consts.Version=0.8.0 -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version#v}"

build etcd "" etcd=go.etcd.io/etcd/server/v3
build kwok "$kwok_ldflags" kwok=sigs.k8s.io/kwok/cmd/kwok kwokctl=sigs.k8s.io/kwok/cmd/kwokctl
build kubernetes "$kube_ldflags" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler

# Envoy Gateway at both ends of the upgrade the proxy-rollouts scenarios run (about 265 s each, cold). Only
# when asked for (HARBORMASTER_BUILD_EG=1 or `--envoy-gateway`), so the control plane's warm check stays
# instant for everyone else. The version flag is what `envoy-gateway version` and EG's logs report.
if [ "${HARBORMASTER_BUILD_EG:-}" = 1 ] || [[ " $* " == *" --envoy-gateway "* ]]; then
  for eg_version in v1.8.0 v1.9.1; do
    build "envoy-gateway-$eg_version" \
      "-X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=$eg_version" \
      "envoy-gateway-$eg_version=github.com/envoyproxy/gateway/cmd/envoy-gateway"
  done
fi

# Helm v3, for the packetcapture chart's tests (`helm template`, `helm lint`). Only when asked for
# (HARBORMASTER_BUILD_HELM=1 or `--helm`), like Envoy Gateway; a cold build takes a few minutes. The flags are
# those of Helm's Makefile: the version `helm version` reports, and the Kubernetes version `helm template`
# assumes without a cluster (its client-go v0.37 is Kubernetes 1.37; left out, Helm says 1.20).
if [ "${HARBORMASTER_BUILD_HELM:-}" = 1 ] || [[ " $* " == *" --helm "* ]]; then
  helm_kube="-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37"
  helm_kube="$helm_kube -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
  build helm "-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/internal/version.gitTreeState=clean $helm_kube" \
    helm=helm.sh/helm/v3/cmd/helm
fi
