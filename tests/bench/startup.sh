#!/usr/bin/env bash
# Benchmark: start-up time of each plugin binary, measured as `kubectl-<name> --help` (parse
# the arguments, print the help, exit; no cluster), beside `kubectl --help`. Median of RUNS runs.
#
#   tests/bench/startup.sh [RUNS]
#
# stdout: key=value lines (collected by tests/bench/run.sh); stderr: a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

runs="${1:-20}"
bench_build

kv runs "$runs"
for plugin in airflow pvcreset nodeevict argodeploy; do
  ms=$(median_ms "$runs" "$bin/kubectl-$plugin" --help)
  kv "${plugin}_ms" "$ms"
  log "kubectl-$plugin --help: $ms ms (median of $runs)"
done
ms=$(median_ms "$runs" "$kubectl_bin" --help)
kv kubectl_ms "$ms"
log "kubectl --help: $ms ms (median of $runs)"
