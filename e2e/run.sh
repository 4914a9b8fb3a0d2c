#!/usr/bin/env bash
# npm run e2e: one real node (containerd, runc, the CNI bridge, a kubelet and kube-proxy) beside the test
# control plane, rollouts under HTTP load. Needs root (it creates bridges and iptables rules and runs
# containers) and Debian's packages, which it installs when missing; kubelet and kube-proxy are built from the
# pinned Kubernetes module into ~/.cache/rollsafe (test/cluster-bins/build.sh --node).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "$(id -u)" == 0 ]] || { echo "e2e: needs root (bridges, iptables, containers)" >&2; exit 1; }
packages=(containerd runc containernetworking-plugins iptables conntrack busybox-static)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if ((${#missing[@]} > 0)); then
  echo "e2e: installing ${missing[*]} from Debian's packages" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm run build >/dev/null
bash test/cluster-bins/build.sh >/dev/null
bash test/cluster-bins/build.sh --node >/dev/null
# The tap reporter prints each scenario's counts (requests sent and failed by kind).
exec npx tap --timeout=900 --disable-coverage --reporter=tap e2e/*.test.ts
