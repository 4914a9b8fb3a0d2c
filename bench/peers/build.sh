#!/usr/bin/env bash
# Builds the peers `npm run bench:peers` times rollsafe against, from Go modules pinned in this folder
# (go.mod + go.sum, checked by Go; re-pin with pin.sh):
#   kube-score/  kube-score (github.com/zegl/kube-score/cmd/kube-score)
#   kyverno/     the Kyverno CLI (github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno), as `kyverno`
# into ~/.cache/rollsafe/ (ROLLSAFE_CACHE changes it), one folder per tool, keyed by its version and go.sum,
# as test/cluster-bins/build.sh does for the test control plane. A warm cache makes this a no-op.
#
#   build.sh [TOOL]...   build what is missing (all tools by default), print progress on stderr and, per tool,
#                        "NAME PATH-OF-BINARY" on stdout; a tool that fails to build is reported and left out
#                        (exit 0 while kube-score builds: the bench runs without Kyverno)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${ROLLSAFE_CACHE:-$HOME/.cache/rollsafe}"

say() { printf 'peers: %s\n' "$*" >&2; }

module_version() { # module_version DIR MODULE -> the version DIR/go.mod requires
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$1/go.mod"
}

# NAME=MODULE=PACKAGE: the binary NAME, built from PACKAGE of MODULE, pinned in $here/NAME.
TOOLS=(
  kube-score=github.com/zegl/kube-score=github.com/zegl/kube-score/cmd/kube-score
  kyverno=github.com/kyverno/kyverno=github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
)
wanted=("$@")

command -v go >/dev/null || { say "Go is needed to build the peers (the project's machines have it)"; exit 1; }
mkdir -p "$cache"
# One peers build at a time per cache, taken only to build (a cached tool waits for nobody). Not
# test/cluster-bins' lock: a bench must not hold up a test run.
locked=""
lock() {
  [[ -n "$locked" ]] && return
  exec 9>"$cache/.peers-lock"
  flock 9
  locked=1
}
export GOFLAGS="-mod=readonly -buildvcs=false" GOTOOLCHAIN=local

for tool in "${TOOLS[@]}"; do
  IFS='=' read -r name module package <<<"$tool"
  if [[ ${#wanted[@]} -gt 0 && ! " ${wanted[*]} " =~ " $name " ]]; then continue; fi
  dir="$here/$name"
  version="$(module_version "$dir" "$module")"
  [[ -n "$version" ]] || { say "cannot read the pinned version of $module from $dir/go.mod"; exit 1; }
  ldflags="-s -w"
  # kube-score prints this with `kube-score version`, as its release build does (goreleaser).
  [[ "$name" == kube-score ]] && ldflags+=" -X main.version=${version#v}"
  # The flags are part of the key: a binary built with other flags is another binary.
  target="$cache/peers-$name-$version-$( (cat "$dir/go.mod" "$dir/go.sum"; printf '%s' "$ldflags") | sha256sum | cut -c1-12)"
  [[ -f "$target/.complete" ]] || lock # then look again: another run may have built it meanwhile
  if [[ -f "$target/.complete" ]]; then
    say "cached: $target"
  else
    partial="$target.partial"
    rm -rf "$partial"
    mkdir -p "$partial"
    say "building $name $version ($package); the first build on a machine takes minutes"
    started=$SECONDS
    # Built into .partial, then renamed: an interrupted build never looks complete.
    if (cd "$dir" && go build -ldflags "$ldflags" -o "$partial/$name" "$package") >&2; then
      touch "$partial/.complete"
      rm -rf "$target"
      mv "$partial" "$target"
      say "$name built in $((SECONDS - started)) s"
    else
      say "$name $version did not build (left out of the comparison)"
      rm -rf "$partial"
      [[ "$name" == kube-score ]] && exit 1
      continue
    fi
  fi
  printf '%s %s\n' "$name" "$target/$name"
done
exit 0
