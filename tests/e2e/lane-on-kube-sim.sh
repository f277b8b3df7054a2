#!/usr/bin/env bash
# Proves the real-cluster lane against a cluster the tests know nothing about: starts kube-sim
# outside the tests (tests/e2e/manifests/kube-sim-lane.yaml, a kind-like cluster), then runs
# the lane's tests with SUITE_E2E_KUBECONFIG naming its kubeconfig, so they treat it as any
# cluster (no journal, no faults: those parts skip). Stops the sim on exit.
# Run from anywhere after `cargo build --workspace --bins`; extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/../.."

sim_bin="${CARGO_TARGET_DIR:-target}/debug/kube-sim"
[ -x "$sim_bin" ] || { echo "error: $sim_bin is not built: run cargo build --workspace --bins" >&2; exit 2; }

work="$(mktemp -d)"
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill -TERM "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# stdout to a file, not a pipe: nothing the sim prints later can hit a closed reader.
"$sim_bin" serve --scenario tests/e2e/manifests/kube-sim-lane.yaml \
  --kubeconfig "$work/kubeconfig" --time-scale 20 >"$work/stdout" 2>"$work/sim.log" &
sim_pid=$!
# The one ready line (DESIGN.md): `kube-sim listening on <url> kubeconfig=<path>`.
line=""
for _ in $(seq 300); do
  line="$(sed -n 1p "$work/stdout")"
  [ -n "$line" ] && break
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$line" ]; then
  cat "$work/sim.log" >&2
  echo "error: kube-sim did not start" >&2
  exit 1
fi
echo "$line"
case "$line" in "kube-sim listening on "*) ;; *) echo "error: unexpected ready line: $line" >&2; exit 1 ;; esac

SUITE_E2E_KUBECONFIG="$work/kubeconfig" cargo test -p suite-tests --locked --test 'lane_*' "$@"
