#!/usr/bin/env bash
# The benchmark suite: builds the release binaries once, runs every benchmark in tests/bench
# against fresh kube-sim clusters and the real kubectl, prints one Markdown table and writes it,
# with the date, the machine's `nproc` and this command, to tests/bench/results.md.
#
#   tests/bench/run.sh            # the full suite (about 8 minutes, most of it the pool
#                                 # rotation: nodeevict-pool.sh)
#   tests/bench/run.sh --quick    # small clusters and few runs: checks that it all works;
#                                 # prints the table, leaves results.md alone
#
# Needs cargo, kubectl, jq, curl and python3. Honours CARGO_TARGET_DIR; BENCH_SKIP_BUILD=1 uses
# the release binaries already there instead of running cargo. Every benchmark script
# also runs on its own (see its header); they print `key=value` lines that this script collects.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench_dir/../.." && pwd)"
cd "$root"

quick=0
case "${1:-}" in
  "") ;;
  --quick) quick=1 ;;
  *) echo "usage: tests/bench/run.sh [--quick]" >&2; exit 2 ;;
esac
command="tests/bench/run.sh${1:+ $1}"

# Each benchmark script starts its own kube-sims and stops them when it exits, fails or is
# interrupted (its EXIT/INT/TERM traps); the scripts run in the foreground, so Ctrl-C reaches
# them and the command they are measuring.
work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-bench-run.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$(date +%s)
load=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "${BENCH_SKIP_BUILD:-}" = 1 ]; then
  echo "==> BENCH_SKIP_BUILD=1: using the release binaries already built" >&2
  command="BENCH_SKIP_BUILD=1 $command"
else
  echo "==> cargo build --release --locked (kube-sim and the four plugins)" >&2
  cargo build --release --locked -p kube-sim -p kubectl-airflow -p kubectl-pvcreset \
    -p kubectl-nodeevict -p kubectl-argodeploy
fi
export BENCH_SKIP_BUILD=1
built=$(date +%s)

declare -A r
# bench NAME SCRIPT [ARGS...]: runs one benchmark script; its key=value lines land in r[NAME.key].
bench() {
  local name="$1" script="$2"
  shift 2
  echo "==> $script $*" >&2
  "$bench_dir/$script" "$@" >"$work/$name.kv"
  local key value
  while IFS='=' read -r key value; do
    r["$name.$key"]="$value"
  done <"$work/$name.kv"
}

if [ "$quick" = 1 ]; then
  bench evict nodeevict.sh large:nodes=4,airflow=8,pods=60,terminate=1 10
  NODEEVICT_POOL_N="1 2" bench pool nodeevict-pool.sh \
    large:nodes=20,pool=2,pods=60,grace=10,ready=4,pdb=1,priority=1 20
  bench airflow airflow-list.sh large:nodes=10,airflow=20,pods=300 2
  bench argo argodeploy-list.sh large:workflows=200 2
  bench startup startup.sh 3
  bench memory memory.sh large:nodes=10,airflow=100,pods=300 1
else
  bench evict nodeevict.sh
  bench pool nodeevict-pool.sh
  bench airflow airflow-list.sh
  bench argo argodeploy-list.sh
  bench startup startup.sh
  bench memory memory.sh
fi
bench sizes sizes.sh
finished=$(date +%s)

# --- the table -------------------------------------------------------------------------------

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "–"; else printf "%.2f×\n", a / b }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f s\n", ms / 1000 }'; }
mib_kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB\n", k / 1024 }'; }
mib_bytes() { awk -v b="$1" 'BEGIN { printf "%.1f MiB (%d bytes)\n", b / 1048576, b }'; }
row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }

table() {
  local p k
  echo "| benchmark | plugin | kubectl | plugin / kubectl | notes |"
  echo "|---|---|---|---|---|"

  local evict="${r[evict.node_pods]} pods on the node; \`${r[evict.scenario]}\`, ${r[evict.latency_ms]} ms per request; a fresh sim for each"
  row "empty a node: wall time" \
    "$(secs "${r[evict.plugin_ms]}")" "$(secs "${r[evict.kubectl_ms]}")" \
    "$(ratio "${r[evict.plugin_ms]}" "${r[evict.kubectl_ms]}")" \
    "\`kubectl nodeevict NODE --force -y\` vs \`kubectl drain NODE --ignore-daemonsets --delete-emptydir-data\`; $evict"
  row "empty a node: API requests" \
    "${r[evict.plugin_requests]}" "${r[evict.kubectl_requests]}" \
    "$(ratio "${r[evict.plugin_requests]}" "${r[evict.kubectl_requests]}")" \
    "from the sim's journal; kubectl's discovery cache warm; pods left on the node: ${r[evict.plugin_left]} vs ${r[evict.kubectl_left]}"
  row "empty a node: min Ready of single-replica Deployments" \
    "${r[evict.plugin_min_ready]}" "${r[evict.kubectl_min_ready]}" "–" \
    "the ${r[evict.single_deployments]} Deployments of 1 replica with their pod on the node (from /sim/v1/availability); at 0 Ready at some point: ${r[evict.plugin_at_zero]} vs ${r[evict.kubectl_at_zero]}"

  local pool="${r[pool.pool_nodes]} nodes \`agentpool=old\` holding ${r[pool.pool_pods]} pods; \`${r[pool.scenario]}\`, --time-scale ${r[pool.time_scale]}; a fresh sim for each run"
  local loop="\`for node in …; do kubectl drain \$node --ignore-daemonsets --delete-emptydir-data; done\`"
  for p in ${r[pool.ns]}; do
    local cmd="\`kubectl nodeevict -l agentpool=old -y\`"
    [ "$p" = 1 ] || cmd="\`kubectl nodeevict -l agentpool=old -y --max-unavailable $p\`"
    if [ "${r[pool.n${p}_ms]}" = skipped ]; then
      row "rotate a pool, N=$p" "skipped" "$(secs "${r[pool.loop_ms]}")" "–" \
        "$cmd: this kubectl-nodeevict has no --max-unavailable"
      continue
    fi
    row "rotate a pool, N=$p: wall time" \
      "$(secs "${r[pool.n${p}_ms]}")" "$(secs "${r[pool.loop_ms]}")" \
      "$(ratio "${r[pool.n${p}_ms]}" "${r[pool.loop_ms]}")" "$cmd vs $loop; $pool"
    row "rotate a pool, N=$p: API requests" \
      "${r[pool.n${p}_requests]}" "${r[pool.loop_requests]}" \
      "$(ratio "${r[pool.n${p}_requests]}" "${r[pool.loop_requests]}")" \
      "from the sim's journal; evictions (of them refused, 429): ${r[pool.n${p}_evictions]} (${r[pool.n${p}_evictions_refused]}) vs ${r[pool.loop_evictions]} (${r[pool.loop_evictions_refused]}); pods left on the pool: ${r[pool.n${p}_left]} vs ${r[pool.loop_left]}"
    row "rotate a pool, N=$p: workloads below their budget" \
      "${r[pool.n${p}_below_budget]}" "${r[pool.loop_below_budget]}" "–" \
      "of ${r[pool.workloads]} Deployments/StatefulSets (${r[pool.budgets]} under a budget), from /sim/v1/availability over the run; lowest min Ready ${r[pool.n${p}_min_ready]} vs ${r[pool.loop_min_ready]}, most Ready replicas lost by one workload ${r[pool.n${p}_most_lost]} vs ${r[pool.loop_most_lost]}"
  done

  local airflow="${r[airflow.deployments]} Airflow deployments (${r[airflow.airflow_pods]} of ${r[airflow.pods]} pods)"
  row "airflow list: API requests" \
    "${r[airflow.plugin_requests]}" "${r[airflow.get_pods_requests]}" \
    "$(ratio "${r[airflow.plugin_requests]}" "${r[airflow.get_pods_requests]}")" \
    "\`kubectl airflow list -A\` vs \`kubectl get pods -A -l tier=airflow\` on $airflow; kubectl's discovery cache warm (cold: ${r[airflow.get_pods_requests_cold]} requests)"
  row "airflow list: wall time" \
    "${r[airflow.plugin_ms]} ms" "${r[airflow.get_pods_ms]} ms" \
    "$(ratio "${r[airflow.plugin_ms]}" "${r[airflow.get_pods_ms]}")" \
    "the same; median of ${r[airflow.runs]} runs"
  row "airflow list vs get deploy,sts,pods: API requests" \
    "${r[airflow.plugin_requests]}" "${r[airflow.get_all_requests]}" \
    "$(ratio "${r[airflow.plugin_requests]}" "${r[airflow.get_all_requests]}")" \
    "\`kubectl get deploy,sts,pods -A -l tier=airflow\`: the three lists the plugin reads"
  row "airflow list vs get deploy,sts,pods: wall time" \
    "${r[airflow.plugin_ms]} ms" "${r[airflow.get_all_ms]} ms" \
    "$(ratio "${r[airflow.plugin_ms]}" "${r[airflow.get_all_ms]}")" \
    "the same; median of ${r[airflow.runs]} runs"

  local argo="${r[argo.workflows]} workflows (\`${r[argo.scenario]}\`)"
  row "argodeploy list: API requests" \
    "${r[argo.plugin_requests]}" "${r[argo.get_requests]}" \
    "$(ratio "${r[argo.plugin_requests]}" "${r[argo.get_requests]}")" \
    "\`kubectl argodeploy list -n workflows\` vs \`kubectl get workflows -n workflows\` on $argo; pages of 500"
  row "argodeploy list: wall time" \
    "${r[argo.plugin_ms]} ms" "${r[argo.get_ms]} ms" \
    "$(ratio "${r[argo.plugin_ms]}" "${r[argo.get_ms]}")" \
    "the same; median of ${r[argo.runs]} runs"
  row "argodeploy list -o wide: wall time" \
    "${r[argo.plugin_wide_ms]} ms" "${r[argo.get_ms]} ms" \
    "$(ratio "${r[argo.plugin_wide_ms]}" "${r[argo.get_ms]}")" \
    "${r[argo.plugin_wide_requests]} API requests; median of ${r[argo.runs]} runs"

  for p in airflow pvcreset nodeevict argodeploy; do
    row "start-up: \`kubectl-$p --help\`" \
      "${r[startup.${p}_ms]} ms" "${r[startup.kubectl_ms]} ms" \
      "$(ratio "${r[startup.${p}_ms]}" "${r[startup.kubectl_ms]}")" \
      "kubectl column: \`kubectl --help\`; median of ${r[startup.runs]} runs"
  done

  row "peak memory listing ${r[memory.pods]} pods" \
    "$(mib_kib "${r[memory.plugin_kib]}")" "$(mib_kib "${r[memory.kubectl_kib]}")" \
    "$(ratio "${r[memory.plugin_kib]}" "${r[memory.kubectl_kib]}")" \
    "peak RSS (${r[memory.method]}, median of ${r[memory.runs]}) of \`kubectl airflow list -A\` (reads the ${r[memory.airflow_pods]} Airflow pods) vs \`kubectl get pods -A\`; \`${r[memory.scenario]}\`"

  for p in airflow pvcreset nodeevict argodeploy; do
    k="${r[sizes.kubectl_bytes]}"
    row "release binary size: \`kubectl-$p\`" \
      "$(mib_bytes "${r[sizes.${p}_bytes]}")" "$(mib_bytes "$k")" \
      "$(ratio "${r[sizes.${p}_bytes]}" "$k")" \
      "stripped, LTO (the workspace's release profile); kubectl column: /usr/bin/kubectl"
  done
}

kubectl_version=$(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Changes outside tests/bench change what is measured.
if [ -n "$(git status --porcelain --untracked-files=no -- . ':!tests/bench' 2>/dev/null)" ]; then
  revision="$revision + uncommitted changes"
fi
header="Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$command\` on $(nproc) CPUs (\`nproc\`; load average $load at the start), commit $revision, kubectl $kubectl_version, kube-sim on 127.0.0.1; benchmarks took $((finished - built)) s after the build."
{
  echo "$header"
  echo
  table
} >"$work/results.md"

cat "$work/results.md"
if [ "$quick" = 1 ]; then
  echo "(--quick: tests/bench/results.md left as it was)" >&2
else
  cp "$work/results.md" "$bench_dir/results.md"
  echo "==> wrote tests/bench/results.md ($((finished - started)) s in all)" >&2
fi
