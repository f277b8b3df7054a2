#!/usr/bin/env bash
# Benchmark: empty a 110-pod node with `kubectl nodeevict` and with
# `kubectl drain --ignore-daemonsets --delete-emptydir-data`, each on its own fresh kube-sim
# (identical generated cluster, 10 ms latency per request, 2 s graceful termination per pod).
# Prints wall time and API requests (from the sim's journal) side by side, and the ratios.
#
#   bench/nodeevict.sh [SCENARIO] [LATENCY_MS]
set -euo pipefail

scenario="${1:-large:nodes=4,pods=440,terminate=2}"
latency="${2:-10}"
node="ip-10-20-0-1.ec2.internal"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build --release --locked -q -p kube-sim -p kubectl-nodeevict
bin="$root/target/release"
work="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

start_sim() { # dir
  mkdir -p "$1"
  "$bin/kube-sim" serve --scenario "$scenario" --latency-ms "$latency" --kubeconfig "$1/kubeconfig" >"$1/sim.out" &
  pids+=($!)
  for _ in $(seq 1 300); do
    grep -q listening "$1/sim.out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "kube-sim did not start" >&2
  exit 1
}

requests() { # kubeconfig
  kubectl --kubeconfig "$1" get --raw /sim/v1/journal |
    jq '[.items[] | select(.path | startswith("/sim/") | not)] | length'
}

ms_now() { date +%s%N | cut -c1-13; }

measure() { # label dir command...
  local label="$1" dir="$2"
  shift 2
  local before start end after
  before=$(requests "$dir/kubeconfig")
  start=$(ms_now)
  "$@" >"$dir/out" 2>&1 || { echo "$label failed:" >&2; tail -5 "$dir/out" >&2; exit 1; }
  end=$(ms_now)
  after=$(requests "$dir/kubeconfig")
  left=$(kubectl --kubeconfig "$dir/kubeconfig" get pods -A --field-selector "spec.nodeName=$node" -o name | wc -l)
  echo "$((end - start)) $((after - before - 1)) $left"
}

start_sim "$work/plugin"
start_sim "$work/kubectl"
pods=$(kubectl --kubeconfig "$work/plugin/kubeconfig" get pods -A --field-selector "spec.nodeName=$node" -o name | wc -l)
echo "cluster: $scenario, --latency-ms $latency; node $node holds $pods pods"

read -r p_ms p_req p_left < <(measure nodeevict "$work/plugin" \
  "$bin/kubectl-nodeevict" "$node" -y --kubeconfig "$work/plugin/kubeconfig")
read -r k_ms k_req k_left < <(measure "kubectl drain" "$work/kubectl" \
  kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --kubeconfig "$work/kubectl/kubeconfig")

printf '%-58s %8s ms %6s requests %4s pods left\n' "kubectl nodeevict $node -y" "$p_ms" "$p_req" "$p_left"
printf '%-58s %8s ms %6s requests %4s pods left\n' "kubectl drain --ignore-daemonsets --delete-emptydir-data" "$k_ms" "$k_req" "$k_left"
awk -v a="$p_ms" -v b="$k_ms" -v c="$p_req" -v d="$k_req" \
  'BEGIN { printf "ratio nodeevict/kubectl: wall time %.2fx (target <= 0.6x), requests %.2fx (target <= 0.3x)\n", a / b, c / d }'
