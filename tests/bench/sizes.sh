#!/usr/bin/env bash
# Benchmark: sizes of the four release binaries (as built: the workspace's release profile
# strips them), beside the kubectl binary.
#
#   tests/bench/sizes.sh
#
# stdout: key=value lines in bytes (collected by tests/bench/run.sh); stderr: a summary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

bench_build

for plugin in airflow pvcreset nodeevict argodeploy; do
  bytes=$(stat -c %s "$bin/kubectl-$plugin")
  kv "${plugin}_bytes" "$bytes"
  log "kubectl-$plugin: $bytes bytes ($(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}') MiB)"
done
kubectl_path=$(readlink -f "$(command -v "$kubectl_bin")")
bytes=$(stat -c %s "$kubectl_path")
kv kubectl_bytes "$bytes"
log "kubectl ($kubectl_path): $bytes bytes ($(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}') MiB)"
