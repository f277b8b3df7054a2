#!/usr/bin/env bash
# Benchmark: peak memory (resident set size) of `kubectl airflow list -A` and of
# `kubectl get pods -A` on a generated kube-sim cluster of 5,000 pods, nearly all of them
# Airflow's (1,666 releases of 3 pods), so both commands read about 5,000 pods. Peak RSS comes
# from GNU time (%M) when /usr/bin/time exists, else from polling VmHWM in /proc/PID/status;
# the median of RUNS runs. kubectl runs with a warm discovery cache.
#
#   tests/bench/memory.sh [SCENARIO] [RUNS]
#
# stdout: key=value lines (collected by tests/bench/run.sh); stderr: progress and a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scenario="${1:-large:nodes=120,airflow=1666,pods=5000}"
runs="${2:-3}"
bench_build

sim_start memory "$scenario"
kubectl_cmd memory
plugin=("$bin/kubectl-airflow" list -A --kubeconfig "$(sim_kubeconfig memory)")
get=("${kc[@]}" get pods -A)

"${kc[@]}" api-resources >/dev/null # warm kubectl's discovery cache
pods=$("${get[@]}" -o name | wc -l)
airflow_pods=$("${get[@]}" -l tier=airflow -o name | wc -l)
log "cluster $scenario: $pods pods, $airflow_pods of them Airflow's"
kv scenario "$scenario"
kv pods "$pods"
kv airflow_pods "$airflow_pods"
kv runs "$runs"
kv method "$([ -x /usr/bin/time ] && echo "GNU time %M" || echo "VmHWM polling")"

median_rss() { # command...
  local _ all=()
  for _ in $(seq 1 "$runs"); do
    all+=("$(peak_rss_kib "$@")")
  done
  printf '%s\n' "${all[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

plugin_kib=$(median_rss "${plugin[@]}")
kubectl_kib=$(median_rss "${get[@]}")
kv plugin_kib "$plugin_kib"
kv kubectl_kib "$kubectl_kib"
log "kubectl airflow list -A: peak RSS $plugin_kib KiB; kubectl get pods -A: $kubectl_kib KiB"
