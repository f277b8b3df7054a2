#!/usr/bin/env bash
# Benchmark: rotate a 12-node pool. `kubectl nodeevict -l agentpool=old -y --max-unavailable N`
# for each N in $NODEEVICT_POOL_N (default "1 2 4"), and the runbook's loop
#   for node in $(kubectl get nodes -l agentpool=old -o name); do
#     kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data; done
# each on its own fresh kube-sim of the same generated cluster: 24 nodes, the first 12 the pool
# `agentpool=old`, the other 12 (`agentpool=new`) with room for every pod of the pool; filler
# Deployments of 20 replicas spread over every node, each under a PodDisruptionBudget
# `maxUnavailable: 5` (a quarter), naming three PriorityClasses; pods use all of the default 30 s grace
# period to stop and their replacements are Ready 10 s after they start (a readinessProbe). The
# sim runs TIME_SCALE (default 20) times faster than real time, so a run takes a minute or two.
# The tools' own waits are real time, not scaled: kubectl drain retries a refused eviction (429)
# after 5 s, 100 simulated seconds at --time-scale 20, and polls its pods every second; the
# plugin polls and backs off on its own clock too.
#
# Measures per run: wall time, API requests (from the sim's journal; kubectl with a warm
# discovery cache), evictions (201) and refusals (429), the pods left on the pool, and from the
# sim's /sim/v1/availability the minimum Ready of every Deployment and StatefulSet over the run:
# the lowest, the most any one lost, and how many went below what their budget allows
# (minReady < desired − maxUnavailable, or < minAvailable).
#
#   tests/bench/nodeevict-pool.sh [SCENARIO] [TIME_SCALE]
#   NODEEVICT_POOL_N="1 2 4"   the --max-unavailable values to run (1: the flag is left out, so
#                              a kubectl-nodeevict without it runs too; others are skipped, with
#                              a note, when `kubectl-nodeevict --help` does not list the flag)
#
# stdout: key=value lines (collected by tests/bench/run.sh); stderr: progress and a Markdown table.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

scenario="${1:-large:nodes=24,pool=12,pods=480,grace=30,ready=10,pdb=5,priority=1}"
scale="${2:-20}"
ns_list="${NODEEVICT_POOL_N:-1 2 4}"
pool=agentpool=old
for n in $ns_list; do
  case "$n" in
    '' | *[!0-9]* | 0) die "NODEEVICT_POOL_N: $n is not a whole number of nodes ≥ 1" ;;
  esac
done
bench_build

# A fresh sim, settled: every budget's status computed (the eviction subresource reads it).
fresh_sim() { # name
  sim_start "$1" "$scenario" --time-scale "$scale"
  kubectl_sim "$1" api-resources >/dev/null # kubectl's discovery cache warm, as an operator's
  local _ want
  want=$(kubectl_sim "$1" get pdb -A -o name | wc -l)
  for _ in $(seq 1 300); do
    [ "$(kubectl_sim "$1" get pdb -A -o json |
      jq '[.items[] | select(.status.expectedPods != null and .status.currentHealthy >= .status.expectedPods)] | length')" = "$want" ] &&
      return 0
    sleep 0.1
  done
  die "the budgets of sim $1 never became healthy"
}

# How many old nodes, pods on them and Deployments/StatefulSets (from the first sim; all alike).
describe() { # sim
  kubectl_sim "$1" get nodes -l "$pool" -o json >"$bench_work/old-nodes.json"
  kubectl_sim "$1" get pods -A -o json >"$bench_work/pods.json"
  kubectl_sim "$1" get deployments,statefulsets -A -o json >"$bench_work/workloads.json"
  kubectl_sim "$1" get pdb -A -o json >"$bench_work/pdbs.json"
  # Each workload's floor: the Ready count its budget allows at least (a budget selecting
  # exactly its selector's labels), or none.
  jq -s '
    (.[1].items) as $pdbs
    | [.[0].items[] | . as $w
       | ([$pdbs[] | select(.metadata.namespace == $w.metadata.namespace
                            and .spec.selector.matchLabels == $w.spec.selector.matchLabels)][0]) as $pdb
       | {key: "\($w.kind)/\($w.metadata.namespace)/\($w.metadata.name)",
          value: (if $pdb == null then null
                  elif ($pdb.spec.minAvailable | type) == "number" then $pdb.spec.minAvailable
                  elif ($pdb.spec.maxUnavailable | type) == "number" then ($w.spec.replicas - $pdb.spec.maxUnavailable)
                  else null end)}]
    | from_entries' "$bench_work/workloads.json" "$bench_work/pdbs.json" >"$bench_work/floors.json"
}

# Pods (not terminating ones) on the old nodes now.
pods_on_pool() { # sim
  kubectl_sim "$1" get nodes -l "$pool" -o name | sed 's|^node/||' >"$bench_work/old.txt"
  kubectl_sim "$1" get pods -A -o json |
    jq --rawfile old "$bench_work/old.txt" '
      ($old | split("\n") | map(select(. != ""))) as $nodes
      | [.items[] | select(.metadata.deletionTimestamp == null and (.spec.nodeName as $n | $nodes | index($n)))]
      | length'
}

# "lowest most_lost below_budget" over every Deployment and StatefulSet since the reset.
availability_figures() { # sim
  availability "$1" | jq -r --slurpfile floors "$bench_work/floors.json" '
    ($floors[0]) as $f
    | [.items[] | select(.kind == "Deployment" or .kind == "StatefulSet")] as $w
    | "\($w | map(.minReady) | min // "-") \($w | map(.desired - .minReady) | max // "-") \(
        $w | map(select($f["\(.kind)/\(.namespace)/\(.name)"] as $floor | $floor != null and .minReady < $floor)) | length)"'
}

measure() { # prefix sim command...
  local prefix="$1" sim="$2"
  shift 2
  local start end journal
  journal_clear "$sim"
  curl -fsSk -X DELETE "$(sim_url "$sim")/sim/v1/availability" >/dev/null
  log "running: $*"
  start=$(now_ms)
  "$@" >"$bench_work/$prefix.out" 2>&1 || {
    tail -5 "$bench_work/$prefix.out" >&2
    die "$prefix failed: $*"
  }
  end=$(now_ms)
  # Read before any kubectl of ours adds to it.
  journal=$(curl -fsSk "$(sim_url "$sim")/sim/v1/journal")
  local lowest lost below
  read -r lowest lost below <<<"$(availability_figures "$sim")"
  kv "${prefix}_ms" $((end - start))
  kv "${prefix}_requests" "$(jq '.items | length' <<<"$journal")"
  kv "${prefix}_evictions" "$(jq '[.items[] | select((.path | endswith("/eviction")) and .status == 201)] | length' <<<"$journal")"
  kv "${prefix}_evictions_refused" "$(jq '[.items[] | select((.path | endswith("/eviction")) and .status == 429)] | length' <<<"$journal")"
  kv "${prefix}_left" "$(pods_on_pool "$sim")"
  kv "${prefix}_min_ready" "$lowest"
  kv "${prefix}_most_lost" "$lost"
  kv "${prefix}_below_budget" "$below"
}

# The runbook's loop, through the real kubectl (one kubeconfig and cache for all its commands).
drain_loop() { # sim
  local node
  for node in $(kubectl_sim "$1" get nodes -l "$pool" -o name); do
    kubectl_sim "$1" drain "$node" --ignore-daemonsets --delete-emptydir-data || return 1
  done
}

got() { sed -n "s/^$1=//p" "$bench_work/results.kv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a !~ /^[0-9]+$/) print "–"; else printf "%.2f×\n", a / b }'; }

has_max_unavailable=0
"$bin/kubectl-nodeevict" --help 2>/dev/null | grep -q -- '--max-unavailable' && has_max_unavailable=1

fresh_sim loop
describe loop
nodes=$(jq '.items | length' "$bench_work/old-nodes.json")
pool_pods=$(pods_on_pool loop)
workloads=$(jq '.items | length' "$bench_work/workloads.json")
budgets=$(jq '[.[] | select(. != null)] | length' "$bench_work/floors.json")
log "cluster $scenario, --time-scale $scale: $nodes nodes in $pool holding $pool_pods pods;" \
  "$workloads Deployments/StatefulSets, $budgets under a budget"
{
  kv scenario "$scenario"
  kv time_scale "$scale"
  kv pool_nodes "$nodes"
  kv pool_pods "$pool_pods"
  kv workloads "$workloads"
  kv budgets "$budgets"
  kv ns "$ns_list"
} | tee "$bench_work/results.kv"

measure loop loop drain_loop loop | tee -a "$bench_work/results.kv"

for n in $ns_list; do
  args=(-l "$pool" -y --kubeconfig "$(sim_kubeconfig "n$n")")
  if [ "$n" != 1 ]; then
    if [ "$has_max_unavailable" = 0 ]; then
      log "skipping N=$n: this kubectl-nodeevict has no --max-unavailable"
      kv "n${n}_ms" skipped | tee -a "$bench_work/results.kv"
      continue
    fi
    args+=(--max-unavailable "$n")
  fi
  fresh_sim "n$n"
  measure "n$n" "n$n" "$bin/kubectl-nodeevict" "${args[@]}" | tee -a "$bench_work/results.kv"
  kv "n${n}_vs_loop" "$(ratio "$(got "n${n}_ms")" "$(got loop_ms)")" | tee -a "$bench_work/results.kv"
done

{
  echo
  echo "Pool rotation: \`$scenario\`, --time-scale $scale; $nodes nodes, $pool_pods pods, $workloads workloads ($budgets under a budget)"
  echo
  echo "| command | wall time | / loop | API requests | evictions (429s) | left on the pool | min Ready (most lost) | below budget |"
  echo "|---|---|---|---|---|---|---|---|"
  row() { # prefix label
    if [ "$(got "${1}_ms")" = skipped ]; then
      echo "| $2 | skipped (no --max-unavailable) | | | | | | |"
      return
    fi
    echo "| $2 | $(awk -v ms="$(got "${1}_ms")" 'BEGIN { printf "%.1f s", ms / 1000 }') | $(ratio "$(got "${1}_ms")" "$(got loop_ms)") | $(got "${1}_requests") | $(got "${1}_evictions") ($(got "${1}_evictions_refused")) | $(got "${1}_left") | $(got "${1}_min_ready") ($(got "${1}_most_lost")) | $(got "${1}_below_budget") |"
  }
  for n in $ns_list; do
    if [ "$n" = 1 ]; then
      row "n$n" "\`kubectl nodeevict -l $pool -y\`"
    else
      row "n$n" "\`kubectl nodeevict -l $pool -y --max-unavailable $n\`"
    fi
  done
  row loop "\`for node in …; do kubectl drain \$node --ignore-daemonsets --delete-emptydir-data; done\`"
} >&2
