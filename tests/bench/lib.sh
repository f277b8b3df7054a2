# shellcheck shell=bash
# Helpers shared by the benchmark scripts in tests/bench (sourced, never run on its own).
#
# Every script prints its figures on stdout as `key=value` lines (tests/bench/run.sh collects
# them into the results table) and what it is doing on stderr, so each one is usable alone.
#
# Environment:
#   CARGO_TARGET_DIR   where the release binaries are (default: <repo>/target)
#   BENCH_SKIP_BUILD=1 do not run cargo (run.sh sets it after building everything once)
#   BENCH_PROFILE      release (default) or debug: which build of the binaries to measure (debug
#                      for trying a script out without the release profile's long LTO build;
#                      figures for results.md come from release)
#   KUBECTL            the real kubectl (default: kubectl from PATH)

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench_dir/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$PWD/$target_dir" ;; # cargo reads a relative CARGO_TARGET_DIR from the cwd
esac
case "${BENCH_PROFILE:-release}" in
  release) bench_cargo_profile=(--release) ;;
  debug) bench_cargo_profile=() ;;
  *) printf 'BENCH_PROFILE must be release or debug, not %s\n' "$BENCH_PROFILE" >&2; exit 2 ;;
esac
bin="$target_dir/${BENCH_PROFILE:-release}"
kubectl_bin="${KUBECTL:-kubectl}"

# The one release build every benchmark uses (the same package set everywhere, so cargo never
# rebuilds dependencies with other features when the scripts are run one by one).
bench_build() {
  [ "${BENCH_SKIP_BUILD:-}" = 1 ] && return 0
  log "building ${BENCH_PROFILE:-release} binaries (cargo build ${bench_cargo_profile[*]} --locked)"
  (cd "$root" && cargo build "${bench_cargo_profile[@]}" --locked -q -p kube-sim -p kubectl-airflow \
    -p kubectl-pvcreset -p kubectl-nodeevict -p kubectl-argodeploy)
}

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { printf '[%s] FAILED: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }
kv() { printf '%s=%s\n' "$1" "$2"; }

for tool in jq curl python3 "$kubectl_bin"; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

bench_work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-bench.XXXXXX")"
bench_pids=()
bench_cleanup() {
  local p
  for p in "${bench_pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# sim_start NAME SCENARIO [kube-sim flags...]: a fresh kube-sim in $bench_work/NAME
# (kubeconfig, url, kubectl cache dir); stopped when the script exits.
sim_start() {
  local dir="$bench_work/$1" scenario="$2"
  shift 2
  mkdir -p "$dir"
  "$bin/kube-sim" serve --scenario "$scenario" --kubeconfig "$dir/kubeconfig" "$@" \
    >"$dir/sim.out" 2>"$dir/sim.err" &
  bench_pids+=($!)
  local _
  for _ in $(seq 1 600); do
    if grep -q "listening" "$dir/sim.out" 2>/dev/null; then
      sed -n 's/^kube-sim listening on \([^ ]*\) .*/\1/p' "$dir/sim.out" >"$dir/url"
      [ -s "$dir/url" ] || die "cannot read the URL from: $(cat "$dir/sim.out")"
      return 0
    fi
    kill -0 "${bench_pids[-1]}" 2>/dev/null || die "kube-sim exited: $(tail -3 "$dir/sim.err")"
    sleep 0.1
  done
  die "kube-sim did not start within 60 s (scenario $scenario)"
}
sim_kubeconfig() { printf '%s\n' "$bench_work/$1/kubeconfig"; }
sim_url() { cat "$bench_work/$1/url"; }
# The real kubectl against sim NAME, with a discovery cache of its own (never ~/.kube/cache).
kubectl_sim() {
  local name="$1"
  shift
  "$kubectl_bin" --kubeconfig "$(sim_kubeconfig "$name")" --cache-dir "$bench_work/$name/kcache" "$@"
}
# kubectl_cmd NAME: sets the array kc to that kubectl command line (for median_ms and friends).
kubectl_cmd() {
  # shellcheck disable=SC2034 # kc is for the scripts that source this file
  kc=("$kubectl_bin" --kubeconfig "$(sim_kubeconfig "$1")" --cache-dir "$bench_work/$1/kcache")
}

# The sim's admin endpoints (not journaled themselves, so reading them changes no count).
journal_clear() { curl -fsSk -X DELETE "$(sim_url "$1")/sim/v1/journal" >/dev/null; }
journal_count() { curl -fsSk "$(sim_url "$1")/sim/v1/journal" | jq '.items | length'; }
availability() { curl -fsSk "$(sim_url "$1")/sim/v1/availability"; }
# journal_breakdown NAME: the journal's requests by method and path pattern (namespace and
# object names replaced by {ns} and {name}; watches marked), most frequent first.
journal_breakdown() {
  curl -fsSk "$(sim_url "$1")/sim/v1/journal" | python3 -c '
import collections, json, sys
counts = collections.Counter()
for e in json.load(sys.stdin)["items"]:
    seg = e["path"].split("/")
    # /api/v1/... or /apis/GROUP/VERSION/...: then [namespaces/NS/]RESOURCE[/NAME[/SUB]].
    i = 3 if seg[1:2] == ["api"] else 4
    if len(seg) > i + 1 and seg[i] == "namespaces":
        seg[i + 1] = "{ns}"
        i += 2
    if seg[1:2] in (["api"], ["apis"]) and len(seg) > i + 1:
        seg[i + 1] = "{name}"
    watch = " (watch)" if "watch=true" in e["query"] or "watch=1" in e["query"] else ""
    counts[e["method"] + " " + "/".join(seg) + watch] += 1
for key, n in counts.most_common():
    print(f"{n:6d} {key}")
'
}

# requests NAME COMMAND...: runs COMMAND once (output discarded, must succeed) and prints the
# number of API requests it made.
requests() {
  local name="$1"
  shift
  journal_clear "$name"
  "$@" >"$bench_work/requests.out" 2>&1 || {
    tail -5 "$bench_work/requests.out" >&2
    die "failed: $*"
  }
  journal_count "$name"
}

# median_ms RUNS COMMAND...: median wall time in milliseconds (one decimal) of RUNS runs.
median_ms() { python3 "$bench_dir/timeit.py" "$@"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# peak_rss_kib COMMAND...: the command's peak resident set size in KiB (output discarded).
peak_rss_kib() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$bench_work/time.out" "$@" >/dev/null 2>"$bench_work/rss.err" ||
      die "failed: $* ($(tail -3 "$bench_work/rss.err"))"
    tail -1 "$bench_work/time.out"
  else
    # No GNU time: poll the high-water mark the kernel keeps (VmHWM) until the process exits.
    "$@" >/dev/null 2>"$bench_work/rss.err" &
    local pid=$! hwm=0 v
    while v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$v" ]; do
      hwm=$v
      sleep 0.005
    done
    wait "$pid" || die "failed: $* ($(tail -3 "$bench_work/rss.err"))"
    echo "$hwm"
  fi
}
