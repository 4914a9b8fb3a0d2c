#!/usr/bin/env bash
# Builds what the cluster tests run, from Go modules pinned in this folder (go.mod + go.sum, checked by Go):
#   kubernetes/  kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, and etcd (the version
#                Kubernetes itself requires); the Kubernetes version is the k8s.io/kubernetes line of its go.mod
#   kwok/        kwok, simulated nodes, so Deployments really roll without containers
#   helm/        helm, to lint, render and install charts/rollsafe
#   argo-rollouts/  the Argo Rollouts controller, with the CRDs of its release in crds/ beside it
# into ~/.cache/rollsafe/ (ROLLSAFE_CACHE changes it), one folder per module, keyed by its versions and go.sum.
# Nothing built is committed; a warm cache makes this a no-op. Go's module and build caches make a rebuild
# after a version bump incremental.
#
#   build.sh            build what is missing, print progress on stderr and the binaries' folder on stdout
#   build.sh --check    print the folders (Kubernetes, kwok, helm, Argo Rollouts, one a line) if everything is
#                       built, else fail with a message (never builds)
#   build.sh --node     build (or find cached) kubelet and kube-proxy for the e2e node, print their folder
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${ROLLSAFE_CACHE:-$HOME/.cache/rollsafe}"
mode="${1:-build}"

say() { printf 'cluster-bins: %s\n' "$*" >&2; }

module_version() { # module_version DIR MODULE -> the version DIR/go.mod requires
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"
}

kube="$(module_version "$here/kubernetes" k8s.io/kubernetes)"
etcd="$(module_version "$here/kubernetes" go.etcd.io/etcd/server/v3)"
kwok="$(module_version "$here/kwok" sigs.k8s.io/kwok)"
helm="$(module_version "$here/helm" helm.sh/helm/v3)"
argo="$(module_version "$here/argo-rollouts" github.com/argoproj/argo-rollouts)"
[[ -n "$kube" && -n "$etcd" && -n "$kwok" && -n "$helm" && -n "$argo" ]] || { say "cannot read the pinned versions from $here/*/go.mod"; exit 1; }

# The staging modules (k8s.io/api, ...) are published as v0.X.Y for Kubernetes v1.X.Y: every replace must match.
staging="v0.${kube#v1.}"
if grep -E '^\s+k8s\.io/[a-z-]+ => k8s\.io/[a-z-]+ v' "$here/kubernetes/go.mod" | grep -v " $staging\$" >&2; then
  say "the replace lines above must all be $staging to match k8s.io/kubernetes $kube (see pin.sh)"
  exit 1
fi

key() { # key DIR -> a short hash of the module's go.mod and go.sum, so any change of a pin rebuilds
  cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -c1-12
}
kube_dir="$cache/kubernetes-$kube-etcd-$etcd-$(key "$here/kubernetes")"
kwok_dir="$cache/kwok-$kwok-$(key "$here/kwok")"
# As helm's Makefile: the default Kubernetes version of `helm template` and lint is that of its client-go.
helm_kube_minor="$(module_version "$here/helm" k8s.io/client-go | cut -d. -f2)"
helm_flags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$helm_kube_minor"
done
# The flags are part of the key: a binary built with other flags is another binary.
helm_dir="$cache/helm-$helm-$( (cat "$here/helm/go.mod" "$here/helm/go.sum"; printf '%s' "$helm_flags") | sha256sum | cut -c1-12)"
# As Argo Rollouts' Makefile, less the git metadata a module has not: the controller logs v<version>+unknown.
argo_flags="-s -w -X github.com/argoproj/argo-rollouts/utils/version.version=${argo#v}"
argo_dir="$cache/argo-rollouts-$argo-$( (cat "$here/argo-rollouts/go.mod" "$here/argo-rollouts/go.sum"; printf '%s' "$argo_flags") | sha256sum | cut -c1-12)"
# The release's CRDs (manifests/crds of the module), for the tests to install.
argo_crds="$argo_dir/crds"
argo_ready() { complete "$argo_dir" && [[ -f "$argo_crds/rollout-crd.yaml" ]]; }
kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
# A real node for `npm run e2e` only: npm test never builds these.
node_dir="$cache/kubernetes-node-$kube-$(key "$here/kubernetes")"

complete() { [[ -f "$1/.complete" ]]; }
# kwok's stages, beside the binary but not part of it. The name changes whenever what the file holds changes,
# so that caches made before are given the new file (stages.yaml, left for older checkouts, lacks the exclusions).
kwok_stages="$kwok_dir/fast-stages.yaml"
kwok_ready() { complete "$kwok_dir" && [[ -f "$kwok_stages" ]]; }

if [[ "$mode" == "--check" ]]; then
  if complete "$kube_dir" && kwok_ready && complete "$helm_dir" && argo_ready; then
    printf '%s\n%s\n%s\n%s\n' "$kube_dir" "$kwok_dir" "$helm_dir" "$argo_dir"
    exit 0
  fi
  say "the test binaries (Kubernetes $kube, etcd $etcd, kwok $kwok, helm $helm, Argo Rollouts $argo) are not built: run 'bash test/cluster-bins/build.sh' (npm test does)"
  exit 1
fi

command -v go >/dev/null || { say "Go is needed to build the test control plane (the project's machines have it)"; exit 1; }
mkdir -p "$cache"
# One build at a time per cache (two test runs starting together wait for each other).
exec 9>"$cache/.lock"
flock 9

export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local

# build_into DIR MODULE_DIR LDFLAGS NAME=PACKAGE...: builds into DIR.partial, then renames, so an
# interrupted build never looks complete.
build_into() {
  local target="$1" module="$2" ldflags="$3"
  shift 3
  if complete "$target"; then
    say "cached: $target"
    return
  fi
  local partial="$target.partial"
  mkdir -p "$partial"
  local total=$# n=0
  for spec in "$@"; do
    local name="${spec%%=*}" package="${spec#*=}"
    n=$((n + 1))
    if [[ -x "$partial/$name" ]]; then
      say "[$n/$total] $name already built"
      continue
    fi
    say "[$n/$total] building $name ($package); the first build on a machine takes several minutes"
    local started=$SECONDS
    (cd "$module" && go build -ldflags "$ldflags" -o "$partial/$name.tmp" "$package")
    mv "$partial/$name.tmp" "$partial/$name"
    say "[$n/$total] $name built in $((SECONDS - started)) s"
  done
  touch "$partial/.complete"
  rm -rf "$target"
  mv "$partial" "$target"
}

minor="${kube#v1.}"
minor="${minor%%.*}"
version_flags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

if [[ "$mode" == "--node" ]]; then
  build_into "$node_dir" "$here/kubernetes" "$version_flags" \
    kubelet=k8s.io/kubernetes/cmd/kubelet \
    kube-proxy=k8s.io/kubernetes/cmd/kube-proxy
  printf '%s\n' "$node_dir"
  exit 0
fi

say "Kubernetes $kube, etcd $etcd, kwok $kwok, helm $helm, Argo Rollouts $argo -> $cache"
build_into "$kube_dir" "$here/kubernetes" "$version_flags" \
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
  kubectl=k8s.io/kubernetes/cmd/kubectl \
  etcd=go.etcd.io/etcd/server/v3
build_into "$kwok_dir" "$here/kwok" "-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok
build_into "$helm_dir" "$here/helm" "$helm_flags" helm=helm.sh/helm/v3/cmd/helm
build_into "$argo_dir" "$here/argo-rollouts" "$argo_flags" rollouts-controller=github.com/argoproj/argo-rollouts/cmd/rollouts-controller
if [[ ! -f "$argo_crds/rollout-crd.yaml" ]]; then
  # Only the CRDs: the folder's kustomization.yaml is no object kubectl can apply.
  rm -rf "$argo_crds.tmp"
  mkdir "$argo_crds.tmp"
  cp "$(cd "$here/argo-rollouts" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts)"/manifests/crds/*-crd.yaml "$argo_crds.tmp/"
  # The module cache is read-only; a copy that stayed so would be awkward to remove.
  chmod u+w "$argo_crds.tmp"/*
  rm -rf "$argo_crds"
  mv "$argo_crds.tmp" "$argo_crds"
fi
# exclude_annotated ANNOTATION <STAGE: the stage, matching no pod that carries ANNOTATION
exclude_annotated() {
  awk -v key="    - key: '.metadata.annotations[\"$1\"]'" '
    { print }
    /^    matchExpressions:$/ { print key; print "      operator: \047DoesNotExist\047"; found = 1 }
    END { exit !found }'
}
if [[ ! -f "$kwok_stages" ]]; then
  # kwok's own "fast" stages of the pinned release: nodes become Ready, scheduled pods Running and Ready,
  # terminating pods are deleted at once. kwok runs with no stage unless given some. A pod annotated for a
  # timed stage (test/helpers/kwok-timed-stages.yaml) is left to it: kwok picks at random among the stages
  # that match a pod, so the fast stage the timed one replaces must not match it.
  stages="$(cd "$here/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  for spec in node/fast/node-initialize= pod/fast/pod-ready=plan.rollsafe.dev/ready-after-ms \
    pod/fast/pod-complete= pod/fast/pod-delete=plan.rollsafe.dev/terminate-after-ms; do
    stage="$stages/${spec%%=*}.yaml" annotation="${spec#*=}"
    printf -- '---\n'
    if [[ -z "$annotation" ]]; then
      cat "$stage"
    elif ! exclude_annotated "$annotation" <"$stage"; then
      say "$stage has no selector.matchExpressions to add the $annotation exclusion to"
      exit 1
    fi
  done >"$kwok_stages.tmp"
  mv "$kwok_stages.tmp" "$kwok_stages"
fi
for bin in "${kube_bins[@]}"; do [[ -x "$kube_dir/$bin" ]] || { say "missing $kube_dir/$bin"; exit 1; }; done
printf '%s\n%s\n%s\n%s\n' "$kube_dir" "$kwok_dir" "$helm_dir" "$argo_dir"
