#!/usr/bin/env bash
# Re-pins the peers `npm run bench:peers` compares rollsafe with: pin.sh [KUBE_SCORE_VERSION [KYVERNO_VERSION]],
# e.g. pin.sh v1.20.0 v1.19.1. Writes kube-score/ and kyverno/ (go.mod + go.sum, the command as a Go tool);
# build.sh builds them. As test/cluster-bins/pin.sh: the checksum database is not reachable from the
# project's machines, so go.sum is written from what the module proxy serves and reviewed in the commit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kube_score="${1:-v1.20.0}"
kyverno="${2:-v1.19.1}"
export GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
proxy="$(go env GOPROXY)"; proxy="${proxy%%,*}"
proxy="${proxy:-https://proxy.golang.org}"

# pin DIR MODULE VERSION COMMAND: a module whose only requirement is MODULE's COMMAND, as a tool
pin() {
  local dir="$here/$1" module="$2" version="$3" command="$4" mod
  mod="$(curl -fsS "$proxy/$module/@v/$version.mod")"
  {
    echo "// Builds $module's $command for npm run bench:peers (see ../build.sh; re-pin with ../pin.sh)."
    echo "module rollsafe.dev/bench/peers/$1"
    echo
    echo "go $(awk '$1 == "go" { print $2; exit }' <<<"$mod")"
    # A dependency's replace lines are ignored by Go: the ones its build needs are repeated here.
    awk '$1 == "replace" && $2 != "(" { print "\n" $0 }' <<<"$mod"
  } >"$dir/go.mod"
  (cd "$dir" && rm -f go.sum && go get -tool "$module/$command@$version" && go mod tidy)
}
pin kube-score github.com/zegl/kube-score "$kube_score" cmd/kube-score
pin kyverno github.com/kyverno/kyverno "$kyverno" cmd/cli/kubectl-kyverno
echo "pinned kube-score $kube_score, kyverno $kyverno; run build.sh"
