#!/usr/bin/env bash
# Benchmark: API requests and wall time of one `kubectl pvcreset` (report-cache, the scale
# strategy, on the aura scenario at real time: kube-sim --time-scale 1), split into reads
# (GET), watches and writes — what waiting costs the API server. Before the waits became
# event-driven the reset engine listed the namespace's pods every 250 ms while it waited.
#
#   tests/bench/pvcreset-waits.sh [OTHER_BIN_DIR]
#
# OTHER_BIN_DIR: a directory with another kubectl-pvcreset (e.g. built from an older commit)
# to measure beside this tree's release build, on a fresh sim of its own.
# stdout: key=value lines; stderr: progress.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

other="${1:-}"
bench_build

measure() {
  local label="$1" plugin="$2"
  sim_start "$label" aura --time-scale 1
  local kc start end
  kc="$(sim_kubeconfig "$label")"
  start=$(date +%s.%N)
  HOME="$bench_work/$label" "$plugin" report-cache -n apps -y --timeout 120s --kubeconfig "$kc" \
    >/dev/null 2>"$bench_work/$label/err" || die "$label: $(tail -1 "$bench_work/$label/err")"
  end=$(date +%s.%N)
  kubectl_sim "$label" get --raw /sim/v1/journal >"$bench_work/$label/journal.json"
  # Only the plugin's requests: the harness's own reads come after it ended.
  python3 - "$bench_work/$label/journal.json" "$label" "$start" "$end" <<'PY'
import json, sys
journal = json.load(open(sys.argv[1]))
entries = journal if isinstance(journal, list) else journal.get("items", journal.get("entries", []))
label, start, end = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
gets = watches = writes = 0
for e in entries:
    if "watch=true" in e.get("query", "") or "watch=1" in e.get("query", ""):
        watches += 1
    elif e["method"] == "GET":
        gets += 1
    else:
        writes += 1
print(f"{label}_gets={gets}")
print(f"{label}_watches={watches}")
print(f"{label}_writes={writes}")
print(f"{label}_wall_s={end - start:.2f}")
PY
}

log "pvcreset report-cache -n apps on aura at --time-scale 1"
measure now "$bin/kubectl-pvcreset"
if [ -n "$other" ]; then
  measure other "$other/kubectl-pvcreset"
fi
