#!/usr/bin/env bash
# Builds the krew archive of the kubectl plugin (kubectl rollsafe) from the packed npm package.
#
#   scripts/krew-archive.sh [--out DIR] [--update-manifest]
#
# Packs the package as `npm pack` does (from dist/: run `npm run build` first), installs its production
# dependencies at the versions package-lock.json pins, and writes DIR/kubectl-rollsafe-vVERSION.tar.gz:
#   kubectl-rollsafe   the launcher: runs rollsafe/dist/kubectl-plugin.js with the node on the PATH
#   rollsafe/          the installed package, its node_modules included (and LICENSE beside it, when there is one)
# and DIR/rollsafe.yaml: plugins/rollsafe.yaml with this version and the archive's sha256. --update-manifest
# writes plugins/rollsafe.yaml itself (the release step, after the final build). Prints the archive's path and
# sha256. Reproducible: the same dist/, lockfile and npm give the same bytes (entries sorted, owner 0, fixed
# modes, mtime $SOURCE_DATE_EPOCH or else the last commit's time, gzip without a name or time).
# Needs node, npm, GNU tar (or $TAR) and gzip. Default DIR: dist/krew.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/dist/krew"
update_manifest=false
tar="${TAR:-tar}"

while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift ;;
    --update-manifest) update_manifest=true ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "krew-archive.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

fail() { echo "krew-archive.sh: $*" >&2; exit 1; }

for tool in node npm gzip; do command -v "$tool" >/dev/null || fail "$tool is required"; done
"$tar" --version 2>/dev/null | grep -q 'GNU tar' || fail "GNU tar is required for a reproducible archive (set TAR=gtar on macOS)"
[ -f "$root/dist/cli.js" ] && [ -f "$root/dist/kubectl-plugin.js" ] || fail "dist/ is not built: run npm run build first"
manifest="$root/plugins/rollsafe.yaml"
[ -f "$manifest" ] || fail "$manifest is missing"

version="$(node -p 'require(process.argv[1]).version' "$root/package.json")"
archive_name="kubectl-rollsafe-v$version.tar.gz"
mtime="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pack" "$work/stage/rollsafe" "$out"

# The package exactly as npm would publish it: `files`, the README, package.json (no lifecycle script runs).
(cd "$root" && npm pack --ignore-scripts --silent --pack-destination "$work/pack" >/dev/null)
tarball="$(ls "$work/pack"/rollsafe-*.tgz)"
"$tar" -xzf "$tarball" -C "$work/stage/rollsafe" --strip-components=1 --no-same-owner

# Its production dependencies as the lockfile pins them (the tree the tests ran on), not as the registry
# resolves them today. The lockfile goes once node_modules is there: an installed package has none.
cp "$root/package-lock.json" "$work/stage/rollsafe/package-lock.json"
(cd "$work/stage/rollsafe" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null) ||
  fail "npm ci --omit=dev failed in the packed package (is package-lock.json in step with package.json?)"
rm -f "$work/stage/rollsafe/package-lock.json" "$work/stage/rollsafe/node_modules/.package-lock.json"
# krew unpacks regular files and folders only (a symlink fails the install): drop the dependencies' own
# command links, which nothing here runs.
find "$work/stage/rollsafe/node_modules" -type d -name .bin -prune -exec rm -rf {} +
links="$(find "$work/stage" -type l | sed "s|^$work/stage/||")"
[ -z "$links" ] || fail "the package holds symlinks, which krew cannot unpack: $links"
[ -f "$root/LICENSE" ] && cp "$root/LICENSE" "$work/stage/LICENSE"

cat > "$work/stage/kubectl-rollsafe" <<'LAUNCHER'
#!/bin/sh
# kubectl-rollsafe: rollsafe as a kubectl plugin, run by the node on the PATH (Node.js >= 20.19).
# krew links ~/.krew/bin/kubectl-rollsafe to this file: follow the links to the package beside it.
set -e
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=$(dirname "$self")/$link ;;
  esac
done
here=$(cd "$(dirname "$self")" && pwd -P)
if ! command -v node >/dev/null 2>&1; then
  echo "kubectl-rollsafe: node is not on the PATH; rollsafe needs Node.js >= 20.19" >&2
  exit 127
fi
exec node "$here/rollsafe/dist/kubectl-plugin.js" "$@"
LAUNCHER
chmod 755 "$work/stage/kubectl-rollsafe"

entries=(kubectl-rollsafe rollsafe)
[ -f "$work/stage/LICENSE" ] && entries+=(LICENSE)
"$tar" --sort=name --format=gnu --hard-dereference --mtime="@$mtime" --owner=0 --group=0 --numeric-owner \
  --mode='u+rwX,go+rX,go-w' -C "$work/stage" -cf - "${entries[@]}" | gzip -n > "$work/$archive_name"
sha256="$(node -e 'const { createHash } = require("node:crypto"); process.stdout.write(createHash("sha256").update(require("node:fs").readFileSync(process.argv[1])).digest("hex"))' "$work/$archive_name")"
mv -f "$work/$archive_name" "$out/$archive_name"

# The manifest with this version (in spec.version and in the uri) and the archive's sha256; the rest as written.
sed -E \
  -e "s|^(  version: ).*|\\1v$version|" \
  -e "s|(/download/)v[^/]+/kubectl-rollsafe-v[^/]+\\.tar\\.gz|\\1v$version/$archive_name|" \
  -e "s|^( +sha256: ).*|\\1$sha256|" \
  "$manifest" > "$work/rollsafe.yaml"
grep -q "sha256: $sha256\$" "$work/rollsafe.yaml" || fail "$manifest has no sha256 line to fill in"
grep -q "/v$version/$archive_name\$" "$work/rollsafe.yaml" || fail "$manifest has no uri ending in /download/vVERSION/kubectl-rollsafe-vVERSION.tar.gz"
cp "$work/rollsafe.yaml" "$out/rollsafe.yaml"
if [ "$update_manifest" = true ]; then cp "$work/rollsafe.yaml" "$manifest"; fi

echo "$out/$archive_name"
echo "sha256 $sha256"
