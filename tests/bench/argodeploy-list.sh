#!/usr/bin/env bash
# Benchmark: `kubectl argodeploy list -n workflows` (and `-o wide`) against
# `kubectl get workflows -n workflows` on a generated kube-sim cluster with 2,000 Argo
# Workflows. API requests come from kube-sim's request journal (kubectl with a warm discovery
# cache); wall time is the median of RUNS runs.
#
#   tests/bench/argodeploy-list.sh [SCENARIO] [RUNS]
#
# stdout: key=value lines (collected by tests/bench/run.sh); stderr: progress and a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scenario="${1:-large:workflows=2000}"
runs="${2:-5}"
bench_build

sim_start argo "$scenario"
kubectl_cmd argo
plugin=("$bin/kubectl-argodeploy" list -n workflows --kubeconfig "$(sim_kubeconfig argo)")
get=("${kc[@]}" get workflows -n workflows)

"${kc[@]}" api-resources >/dev/null # warm kubectl's discovery cache
workflows=$("${get[@]}" -o name | wc -l)
listed=$("${plugin[@]}" -o name | wc -l)
log "cluster $scenario: $workflows workflows in namespace workflows, the plugin lists $listed"
kv scenario "$scenario"
kv workflows "$workflows"
kv listed "$listed"
kv runs "$runs"

plugin_req=$(requests argo "${plugin[@]}")
plugin_ms=$(median_ms "$runs" "${plugin[@]}")
wide_req=$(requests argo "${plugin[@]}" -o wide)
wide_ms=$(median_ms "$runs" "${plugin[@]}" -o wide)
get_req=$(requests argo "${get[@]}")
get_ms=$(median_ms "$runs" "${get[@]}")
kv plugin_requests "$plugin_req"
kv plugin_ms "$plugin_ms"
kv plugin_wide_requests "$wide_req"
kv plugin_wide_ms "$wide_ms"
kv get_requests "$get_req"
kv get_ms "$get_ms"

{
  printf '%-46s %9s %12s\n' "command" "requests" "median ms"
  printf '%-46s %9s %12s\n' "kubectl argodeploy list -n workflows" "$plugin_req" "$plugin_ms"
  printf '%-46s %9s %12s\n' "kubectl argodeploy list -n workflows -o wide" "$wide_req" "$wide_ms"
  printf '%-46s %9s %12s\n' "kubectl get workflows -n workflows" "$get_req" "$get_ms"
} >&2
