#!/usr/bin/env bash
# npm run e2e: one real node (containerd, runc, the CNI bridge, a kubelet and kube-proxy) beside the test
# control plane, rollouts under HTTP load. Needs root (it creates bridges and iptables rules and runs
# containers) and Debian's packages, which it installs when missing; kubelet and kube-proxy are built from the
# pinned Kubernetes module into ~/.cache/rollsafe (test/cluster-bins/build.sh --node).
#
#   e2e/run.sh            the run; it refuses to start (saying why) when a bridge name, address range, iptables
#                         chain or socket it needs is taken, and cleans up after itself, on failure too
#   e2e/run.sh --cleanup  only clean up after a run that died without its teardown (killed outright)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ "$(id -u)" == 0 ]] || { echo "e2e: needs root (bridges, iptables, containers)" >&2; exit 1; }
node_state() { node --import=@tapjs/typescript/import e2e/node-state.ts "$@"; }
if [[ "${1:-}" == --cleanup ]]; then
  node_state cleanup
  exit
fi
packages=(containerd runc containernetworking-plugins iptables conntrack busybox-static)
missing=()
for package in "${packages[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if ((${#missing[@]} > 0)); then
  echo "e2e: installing ${missing[*]} from Debian's packages" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm run build >/dev/null
# Before anything is built or started: is what the node needs free? (A run killed outright is cleaned up here.)
node_state check
bash test/cluster-bins/build.sh >/dev/null
bash test/cluster-bins/build.sh --node >/dev/null
# The tap reporter prints each scenario's counts (requests sent and failed by kind). The test tears the node
# down itself (on SIGINT and SIGTERM too); if tap had to kill it, its ledger is left, and cleanup acts on it.
status=0
trap 'echo "e2e: interrupted; cleaning up after the run" >&2' INT TERM
npx tap --timeout=900 --disable-coverage --reporter=tap e2e/*.test.ts || status=$?
trap - INT TERM
node_state cleanup
exit "$status"
