#!/usr/bin/env bash
# Re-pins the test binaries: pin.sh KUBERNETES_VERSION [KWOK_VERSION [HELM_VERSION [ARGO_ROLLOUTS_VERSION]]],
# e.g. pin.sh v1.37.2 v0.8.0 v3.22.0 v1.10.1 (an empty version leaves that module as it is).
# Rewrites kubernetes/go.mod (k8s.io/kubernetes, its staging modules at the matching v0.X.Y, and the etcd
# server Kubernetes requires), kwok/go.mod, helm/go.mod and argo-rollouts/go.mod, then records every module's
# checksum in go.sum. Needs the Go module proxy; the checksum database is not reachable from the project's
# machines, so go.sum is written from what the proxy serves and reviewed in the commit like any other pin.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kube="${1:?usage: pin.sh KUBERNETES_VERSION [KWOK_VERSION [HELM_VERSION [ARGO_ROLLOUTS_VERSION]]]}"
kwok="${2:-}"
helm="${3:-}"
argo="${4:-}"
export GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
proxy="$(go env GOPROXY)"; proxy="${proxy%%,*}"
proxy="${proxy:-https://proxy.golang.org}"
mod="$(curl -fsS "$proxy/k8s.io/kubernetes/@v/$kube.mod")"
etcd="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' <<<"$mod")"
{
  echo "// Builds the Kubernetes control plane, kubectl and etcd for the test suite (see ../build.sh; re-pin with ../pin.sh)."
  echo "// Nothing here ships: the binaries go to ~/.cache/rollsafe/, keyed by these versions."
  echo "module rollsafe.dev/test/cluster-bins/kubernetes"
  echo
  echo "go $(awk '$1 == "go" { print $2; exit }' <<<"$mod")"
  echo
  echo "require ("
  echo "	go.etcd.io/etcd/server/v3 $etcd"
  echo "	k8s.io/kubernetes $kube"
  echo ")"
  echo
  echo "// k8s.io/kubernetes points its staging modules at ./staging; as a dependency they are the published v0.X.Y."
  echo "replace ("
  awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print "\t" $1 " => " $1 " v0." substr(v, 4) }' v="$kube" <<<"$mod"
  echo ")"
} >"$here/kubernetes/go.mod"
(cd "$here/kubernetes" && rm -f go.sum && go get -tool k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl "go.etcd.io/etcd/server/v3@$etcd" && go mod tidy)
if [[ -n "$kwok" ]]; then
  (cd "$here/kwok" && go get -tool "sigs.k8s.io/kwok/cmd/kwok@$kwok" && go mod tidy)
fi
if [[ -n "$helm" ]]; then
  (cd "$here/helm" && go get -tool "helm.sh/helm/v3/cmd/helm@$helm" && go mod tidy)
fi
if [[ -n "$argo" ]]; then
  argo_mod="$(curl -fsS "$proxy/github.com/argoproj/argo-rollouts/@v/$argo.mod")"
  {
    echo "// Builds the Argo Rollouts controller for the test suite (see ../build.sh; re-pin with ../pin.sh). Its own"
    echo "// module: Argo Rollouts pins Kubernetes libraries of its own release, which need not match the control plane's."
    echo "module rollsafe.dev/test/cluster-bins/argo-rollouts"
    echo
    echo "go $(awk '$1 == "go" { print $2; exit }' <<<"$argo_mod")"
    echo
    echo "require github.com/argoproj/argo-rollouts $argo"
    echo
    echo "// Argo Rollouts' own replace lines, which apply only in its own module: without them the k8s.io/kubernetes it"
    echo "// requires points its staging modules (k8s.io/api, ...) at v0.0.0."
    awk '/^replace \($/, /^\)$/' <<<"$argo_mod"
  } >"$here/argo-rollouts/go.mod"
  (cd "$here/argo-rollouts" && rm -f go.sum && go get -tool "github.com/argoproj/argo-rollouts/cmd/rollouts-controller@$argo" && go mod tidy)
fi
echo "pinned Kubernetes $kube (etcd $etcd)${kwok:+, kwok $kwok}${helm:+, helm $helm}${argo:+, Argo Rollouts $argo}; run build.sh"
