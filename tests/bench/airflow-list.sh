#!/usr/bin/env bash
# Benchmark: `kubectl airflow list -A` against `kubectl get pods -A -l tier=airflow` on the same
# generated kube-sim cluster (default 200 Airflow deployments, 5,000 pods). Prints the API
# requests each makes (from kube-sim's request journal), the median wall time of RUNS runs and
# the plugin's peak memory.
#
#   bench/airflow-list.sh [SCENARIO] [RUNS]
set -euo pipefail

scenario="${1:-large:nodes=120,airflow=200,pods=5000}"
runs="${2:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

cargo build --release --locked -q -p kube-sim -p kubectl-airflow
bin="$root/target/release"
work="$(mktemp -d)"
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/kube-sim" serve --scenario "$scenario" --kubeconfig "$work/kubeconfig" >"$work/sim.out" &
sim_pid=$!
for _ in $(seq 1 300); do
  grep -q "listening" "$work/sim.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening" "$work/sim.out" || { echo "kube-sim did not start" >&2; exit 1; }
export KUBECONFIG="$work/kubeconfig"

requests() { kubectl get --raw /sim/v1/journal | jq '[.items[] | select(.path | startswith("/sim/") | not)] | length'; }
clear_journal() { kubectl delete --raw /sim/v1/journal >/dev/null; }

ms_now() { date +%s%N | cut -c1-13; }
median_ms() { # command...
  local times=()
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(ms_now)
    "$@" >/dev/null
    end=$(ms_now)
    times+=($((end - start)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

measure() { # label command...
  local label="$1"
  shift
  clear_journal
  "$@" >"$work/out"
  local count
  count=$(requests)
  local ms
  ms=$(median_ms "$@")
  printf '%-48s %8s requests %8s ms (median of %s)\n' "$label" "$count" "$ms" "$runs"
}

pods=$(kubectl get pods -A -l tier=airflow -o name | wc -l)
deployments=$("$bin/kubectl-airflow" list -A -o json | jq '.items | length')
echo "cluster: $scenario: $deployments Airflow deployments, $pods Airflow pods"
measure "kubectl airflow list -A" "$bin/kubectl-airflow" list -A
measure "kubectl airflow list -A -o json" "$bin/kubectl-airflow" list -A -o json
measure "kubectl get pods -A -l tier=airflow" kubectl get pods -A -l tier=airflow
peak=$( { /usr/bin/time -f '%M' "$bin/kubectl-airflow" list -A >/dev/null; } 2>&1 | tail -1)
echo "kubectl airflow list -A peak memory: $((peak / 1024)) MiB"
