#!/usr/bin/env bash
# The chaos soak, long: N randomized episodes (default 1000) over every destructive flow, each
# with faults, lost answers, latency spikes, SIGKILL / Ctrl-C / API outages at random moments
# and operator interference, recovered by the documented path only, invariants checked after
# each (tests/e2e/tests/soak). Prints the table: episodes per flow, disruptions and
# interferences injected, recovery runs, invariant violations (must be 0), and wall time.
#
#   tests/bench/soak.sh [N]
#
# Environment: SOAK_SEED (first episode's seed; default `random`: a fresh one, printed), SOAK_JOBS (episodes at
# a time, default 3), SOAK_REPORTS (file that keeps every violating episode's script; default
# a file in a temporary directory, printed). A violation's line names the seed that replays it:
#   SOAK_SEED=<seed> SOAK_EPISODES=1 cargo test -p suite-tests --test soak
set -euo pipefail

episodes="${1:-1000}"
case "$episodes" in
  '' | *[!0-9]*) echo "usage: tests/bench/soak.sh [N]   (N: a number of episodes)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-soak.XXXXXX")"
table="$work/table.md"
reports="${SOAK_REPORTS:-$work/violations.txt}"

echo "[soak] building (cargo build --workspace --bins)" >&2
cargo build --workspace --bins --locked -q
echo "[soak] $episodes episodes; violating episodes' scripts go to $reports" >&2
status=0
SOAK_SEED="${SOAK_SEED:-random}" SOAK_EPISODES="$episodes" SOAK_TABLE="$table" SOAK_REPORTS="$reports" \
  cargo test --locked -q -p suite-tests --test soak -- --nocapture 2> >(grep -E '^soak:|^SOAK_SEED=|episode\(s\) broke' >&2) \
  || status=$?
if [ -f "$table" ]; then
  cat "$table"
else
  echo "[soak] no table: the soak did not finish (exit $status)" >&2
fi
exit "$status"
