#!/usr/bin/env bash
# Benchmark: the cost of planning a drain as the cluster grows. For each size, one kube-sim
# with a generated cluster (`large:`; nodes = pods/60, Airflow releases = pods/300, the rest
# filler Deployments of 20 replicas), then, on the same sim, the plan of one node:
#   kubectl nodeevict NODE --dry-run --force
#   kubectl drain NODE --dry-run=client --ignore-daemonsets --delete-emptydir-data --force
# and their wall time (median of RUNS), peak RSS (median of RUNS; GNU time %M, else VmHWM) and
# API requests (from the sim's journal; kubectl with a warm discovery cache).
#
#   tests/bench/plan-scale.sh [PODS...]        # default: 10000 30000 150000
#   PLAN_SCALE_PODS="10000 30000" tests/bench/plan-scale.sh
#   RUNS=3 (default)
#
# Not part of tests/bench/run.sh: 150,000 pods take minutes and a few GiB in kube-sim, so only
# someone who asks for it runs it (CI never does). Sizes come from the arguments, else from
# PLAN_SCALE_PODS.
#
# stdout: key=value lines, one set per size prefixed `pods<N>_`; stderr: progress and a table.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

sizes=("$@")
if [ "${#sizes[@]}" -eq 0 ]; then
  read -r -a sizes <<<"${PLAN_SCALE_PODS:-10000 30000 150000}"
fi
runs="${RUNS:-3}"
node="ip-10-20-0-1.ec2.internal"
for pods in "${sizes[@]}"; do
  [[ "$pods" =~ ^[0-9]+$ ]] && [ "$pods" -ge 600 ] || die "a size is a number of pods, 600 or more: $pods"
done
bench_build

# median of the numbers on stdin
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# measure PREFIX SIM COMMAND...: wall time (ms), peak RSS (KiB) and requests of COMMAND.
measure() {
  local prefix="$1" sim="$2"
  shift 2
  kv "${prefix}_requests" "$(requests "$sim" "$@")"
  kv "${prefix}_ms" "$(median_ms "$runs" "$@")"
  local _ rss=()
  for _ in $(seq 1 "$runs"); do
    rss+=("$(peak_rss_kib "$@")")
  done
  kv "${prefix}_kib" "$(printf '%s\n' "${rss[@]}" | median)"
}

for pods in "${sizes[@]}"; do
  nodes=$((pods / 60))
  scenario="large:nodes=$nodes,airflow=$((pods / 300)),pods=$pods"
  name="pods$pods"
  log "starting kube-sim with $scenario"
  started=$(now_ms)
  sim_start "$name" "$scenario"
  log "kube-sim ready in $(($(now_ms) - started)) ms"
  kubectl_cmd "$name"
  "${kc[@]}" api-resources >/dev/null # warm kubectl's discovery cache
  on_node=$("${kc[@]}" get pods -A --field-selector "spec.nodeName=$node" -o name | wc -l)
  kv "${name}_scenario" "$scenario"
  kv "${name}_node_pods" "$on_node"
  log "$pods pods on $nodes nodes; $on_node on $node"
  plugin=("$bin/kubectl-nodeevict" "$node" --dry-run --force --kubeconfig "$(sim_kubeconfig "$name")")
  drain=("${kc[@]}" drain "$node" --dry-run=client --ignore-daemonsets --delete-emptydir-data --force)
  measure "${name}_plugin" "$name" "${plugin[@]}" | tee -a "$bench_work/results.kv"
  measure "${name}_kubectl" "$name" "${drain[@]}" | tee -a "$bench_work/results.kv"
  # Free the sim's memory before the next, larger cluster.
  kill "${bench_pids[-1]}" 2>/dev/null || true
  wait "${bench_pids[-1]}" 2>/dev/null || true
done

got() { sed -n "s/^$1=//p" "$bench_work/results.kv"; }
{
  printf '%8s  %-36s %10s %10s %9s\n' "pods" "command" "ms" "peak MiB" "requests"
  for pods in "${sizes[@]}"; do
    for tool in plugin kubectl; do
      label="kubectl nodeevict NODE --dry-run --force"
      [ "$tool" = kubectl ] && label="kubectl drain NODE --dry-run=client"
      printf '%8s  %-36s %10s %10s %9s\n' "$pods" "$label" "$(got "pods${pods}_${tool}_ms")" \
        "$(awk -v k="$(got "pods${pods}_${tool}_kib")" 'BEGIN { printf "%.1f", k / 1024 }')" \
        "$(got "pods${pods}_${tool}_requests")"
    done
  done
} >&2
