#!/usr/bin/env bash
# Benchmark: `kubectl airflow list -A` against `kubectl get pods -A -l tier=airflow` and
# `kubectl get deploy,sts,pods -A -l tier=airflow` (the same three collections the plugin reads)
# on one generated kube-sim cluster (default 200 Airflow deployments among 5,000 pods).
# API requests come from kube-sim's request journal; wall time is the median of RUNS runs.
# kubectl runs with a warm discovery cache (its first, cold run is counted separately).
#
#   tests/bench/airflow-list.sh [SCENARIO] [RUNS]
#
# stdout: key=value lines (collected by tests/bench/run.sh); stderr: progress and a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scenario="${1:-large:nodes=120,airflow=200,pods=5000}"
runs="${2:-5}"
bench_build

sim_start airflow "$scenario"
kubectl_cmd airflow
plugin=("$bin/kubectl-airflow" list -A --kubeconfig "$(sim_kubeconfig airflow)")
get_pods=("${kc[@]}" get pods -A -l tier=airflow)
get_all=("${kc[@]}" get "deploy,sts,pods" -A -l tier=airflow)

deployments=$("${plugin[@]}" -o json | jq '.items | length')
pods=$(kubectl_sim airflow get pods -A -o name | wc -l)
airflow_pods=$(kubectl_sim airflow get pods -A -l tier=airflow -o name | wc -l)
log "cluster $scenario: $deployments Airflow deployments, $airflow_pods of $pods pods are Airflow's"
kv scenario "$scenario"
kv deployments "$deployments"
kv airflow_pods "$airflow_pods"
kv pods "$pods"
kv runs "$runs"

# A fresh kubectl cache: this first `get` also reads the discovery documents.
rm -rf "$bench_work/airflow/kcache"
get_pods_cold=$(requests airflow "${get_pods[@]}")
kv get_pods_requests_cold "$get_pods_cold"

plugin_req=$(requests airflow "${plugin[@]}")
plugin_ms=$(median_ms "$runs" "${plugin[@]}")
kv plugin_requests "$plugin_req"
kv plugin_ms "$plugin_ms"

get_pods_req=$(requests airflow "${get_pods[@]}")
get_pods_ms=$(median_ms "$runs" "${get_pods[@]}")
kv get_pods_requests "$get_pods_req"
kv get_pods_ms "$get_pods_ms"

get_all_req=$(requests airflow "${get_all[@]}")
get_all_ms=$(median_ms "$runs" "${get_all[@]}")
kv get_all_requests "$get_all_req"
kv get_all_ms "$get_all_ms"

{
  printf '%-46s %9s %12s\n' "command" "requests" "median ms"
  printf '%-46s %9s %12s\n' "kubectl airflow list -A" "$plugin_req" "$plugin_ms"
  printf '%-46s %9s %12s\n' "kubectl get pods -A -l tier=airflow" "$get_pods_req" "$get_pods_ms"
  printf '%-46s %9s %12s\n' "kubectl get deploy,sts,pods -A -l tier=airflow" "$get_all_req" "$get_all_ms"
  printf '(kubectl with a cold discovery cache: %s requests for get pods; medians of %s runs)\n' \
    "$get_pods_cold" "$runs"
} >&2
