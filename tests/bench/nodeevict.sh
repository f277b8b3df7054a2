#!/usr/bin/env bash
# Benchmark: empty one node with `kubectl nodeevict NODE --force -y` and with
# `kubectl drain NODE --ignore-daemonsets --delete-emptydir-data`, each on its own fresh kube-sim
# (the same generated cluster, LATENCY_MS per API request, 2 s graceful termination per pod).
# Measures wall time, API requests (from the sim's journal; kubectl with a warm discovery
# cache), the pods left on the node, and the minimum Ready replicas (from the sim's
# /sim/v1/availability) of the single-replica Deployments that had a pod on the node: the
# plugin pre-scales them so they keep a Ready pod, kubectl drain takes them to 0.
#
#   tests/bench/nodeevict.sh [SCENARIO] [LATENCY_MS]
#
# stdout: key=value lines (collected by tests/bench/run.sh); stderr: progress, each run's API
# requests by method and path, and a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# 40 Airflow releases give single-replica Deployments (scheduler, webserver) and StatefulSets
# (worker); filler Deployments of 20 replicas make up the rest. Node 1 of 4 holds 110 pods.
# The plugin needs --force for the single-replica StatefulSets (they cannot surge; without it
# they block the drain), as kubectl drain evicts them too.
scenario="${1:-large:nodes=4,airflow=40,pods=440,terminate=2}"
latency="${2:-10}"
node="ip-10-20-0-1.ec2.internal"
bench_build

sim_start plugin "$scenario" --latency-ms "$latency"
sim_start kubectl "$scenario" --latency-ms "$latency"

pods_on_node() { # sim
  kubectl_sim "$1" get pods -A --field-selector "spec.nodeName=$node" -o name | wc -l
}

# The single-replica Deployments with a pod on the node, as namespace/name lines.
kubectl_sim plugin get pods -A --field-selector "spec.nodeName=$node" -o json >"$bench_work/pods.json"
kubectl_sim plugin get replicasets -A -o json >"$bench_work/rs.json"
kubectl_sim plugin get deployments -A -o json >"$bench_work/deploy.json"
jq -r -s '
  (.[1].items | map({key: "\(.metadata.namespace)/\(.metadata.name)",
                     value: ([.metadata.ownerReferences[]? | select(.kind == "Deployment") | .name][0])})
              | from_entries) as $rs_owner
  | (.[2].items | map(select(.spec.replicas == 1) | "\(.metadata.namespace)/\(.metadata.name)")) as $single
  | [.[0].items[] | .metadata as $m
     | ($m.ownerReferences[]? | select(.kind == "ReplicaSet") | $rs_owner["\($m.namespace)/\(.name)"])
     | select(. != null) | "\($m.namespace)/\(.)"]
  | unique | map(select(. as $d | $single | index($d))) | .[]' \
  "$bench_work/pods.json" "$bench_work/rs.json" "$bench_work/deploy.json" >"$bench_work/single.txt"
single=$(wc -l <"$bench_work/single.txt")
node_pods=$(pods_on_node plugin)
log "cluster $scenario, --latency-ms $latency: node $node holds $node_pods pods," \
  "$single of them from single-replica Deployments"
kv scenario "$scenario"
kv latency_ms "$latency"
kv node "$node"
kv node_pods "$node_pods"
kv single_deployments "$single"

# min Ready over those Deployments since the sim started, and how many of them reached 0.
min_ready() { # sim
  availability "$1" | jq -r --rawfile single "$bench_work/single.txt" '
    ($single | split("\n") | map(select(. != ""))) as $names
    | [.items[] | select(.kind == "Deployment" and ("\(.namespace)/\(.name)" as $d | $names | index($d)))]
    | "\(map(.minReady) | min // "-") \(map(select(.minReady == 0)) | length)"'
}

measure() { # prefix sim command...
  local prefix="$1" sim="$2"
  shift 2
  local start end
  journal_clear "$sim"
  log "running: $*"
  start=$(now_ms)
  "$@" >"$bench_work/$sim.out" 2>&1 || {
    tail -5 "$bench_work/$sim.out" >&2
    die "$prefix failed: $*"
  }
  end=$(now_ms)
  local min zero availability_now
  availability_now=$(min_ready "$sim")
  read -r min zero <<<"$availability_now"
  kv "${prefix}_ms" $((end - start))
  kv "${prefix}_requests" "$(journal_count "$sim")"
  kv "${prefix}_left" "$(pods_on_node "$sim")"
  kv "${prefix}_min_ready" "$min"
  kv "${prefix}_at_zero" "$zero"
  log "$prefix: API requests by method and path"
  journal_breakdown "$sim" >&2
}

# Warm kubectl's discovery cache first, as on an operator's machine.
kubectl_sim kubectl api-resources >/dev/null
kubectl_cmd kubectl
measure plugin plugin "$bin/kubectl-nodeevict" "$node" --force -y --kubeconfig "$(sim_kubeconfig plugin)" \
  | tee -a "$bench_work/results.kv"
measure kubectl kubectl "${kc[@]}" drain "$node" --ignore-daemonsets --delete-emptydir-data \
  | tee -a "$bench_work/results.kv"

got() { sed -n "s/^$1=//p" "$bench_work/results.kv"; }
{
  printf '%-58s %8s %9s %5s %10s\n' "command" "ms" "requests" "left" "min Ready"
  for tool in plugin kubectl; do
    label="kubectl nodeevict $node --force -y"
    [ "$tool" = kubectl ] && label="kubectl drain --ignore-daemonsets --delete-emptydir-data"
    printf '%-58s %8s %9s %5s %10s\n' "$label" \
      "$(got "${tool}_ms")" "$(got "${tool}_requests")" "$(got "${tool}_left")" "$(got "${tool}_min_ready")"
  done
  printf '(min Ready of the %s single-replica Deployments on the node; at 0: plugin %s, kubectl %s)\n' \
    "$single" "$(got plugin_at_zero)" "$(got kubectl_at_zero)"
} >&2
