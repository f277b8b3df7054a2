#!/usr/bin/env bash
# Benchmark: peak memory (resident set size) and wall time of `kubectl airflow diagnose` on a
# large generated kube-sim cluster (default 30,000 pods on 500 nodes), beside
# `kubectl get pods -A` on the same sim. diagnose reads one namespace's Airflow objects and
# every active pod of the cluster (for the free capacity of each node pool), so its memory
# follows the cluster's size unless those pods are folded page by page.
#
#   tests/bench/airflow-diagnose.sh [SCENARIO] [RUNS]
#
# stdout: key=value lines (as the other scripts; tests/bench/run.sh may collect them);
# stderr: progress and a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scenario="${1:-large:nodes=500,airflow=100,pods=30000}"
runs="${2:-3}"
bench_build

sim_start diagnose "$scenario"
kubectl_cmd diagnose
"${kc[@]}" api-resources >/dev/null # warm kubectl's discovery cache
# The first Airflow deployment's namespace.
namespace=$("${kc[@]}" get pods -A -l tier=airflow -o jsonpath='{.items[0].metadata.namespace}')
[ -n "$namespace" ] || die "no Airflow pod in scenario $scenario"
plugin=("$bin/kubectl-airflow" diagnose -n "$namespace" --kubeconfig "$(sim_kubeconfig diagnose)")
get=("${kc[@]}" get pods -A)
pods=$("${get[@]}" -o name | wc -l)
log "cluster $scenario: $pods pods; diagnosing namespace $namespace"
kv scenario "$scenario"
kv pods "$pods"
kv runs "$runs"
kv method "$([ -x /usr/bin/time ] && echo "GNU time %M" || echo "VmHWM polling")"

median_rss() { # command...
  local _ all=()
  for _ in $(seq 1 "$runs"); do
    all+=("$(peak_rss_kib "$@")")
  done
  printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

plugin_req=$(requests diagnose "${plugin[@]}")
plugin_kib=$(median_rss "${plugin[@]}")
plugin_ms=$(median_ms "$runs" "${plugin[@]}")
kubectl_kib=$(median_rss "${get[@]}")
kubectl_ms=$(median_ms "$runs" "${get[@]}")
kv plugin_requests "$plugin_req"
kv plugin_kib "$plugin_kib"
kv plugin_ms "$plugin_ms"
kv kubectl_kib "$kubectl_kib"
kv kubectl_ms "$kubectl_ms"
log "kubectl airflow diagnose: peak RSS $plugin_kib KiB, $plugin_ms ms, $plugin_req requests; kubectl get pods -A: $kubectl_kib KiB, $kubectl_ms ms"
