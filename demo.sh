#!/usr/bin/env bash
# The kubectl plugin suite without a cluster.
#
#   ./demo.sh        build the four plugins and kube-sim (cargo's dev profile: the quickest to
#                    compile), start two simulated clusters
#                    (kube-sim's `astronomer` and `atmosphere` scenarios), put the plugins on
#                    PATH and run a few of them through real kubectl. The sims keep running
#                    afterwards so that you can keep playing.
#   ./demo.sh stop   stop the sims and remove the demo directory.
#
# Needs cargo (Rust 1.89+) and kubectl. The demo directory is ${TMPDIR:-/tmp}/kubectl-suite-demo,
# or $KUBECTL_SUITE_DEMO_DIR. KUBECTL_SUITE_DEMO_PROFILE=release builds and uses the release
# profile (LTO: several times slower to compile) instead.
set -euo pipefail

root="$(cd "$(dirname "$0")" && pwd)"
tmp="${TMPDIR:-/tmp}"
dir="${KUBECTL_SUITE_DEMO_DIR:-${tmp%/}/kubectl-suite-demo}"
marker="$dir/.kubectl-suite-demo" # demo.sh only ever removes a directory holding this file
plugins=(kubectl-airflow kubectl-pvcreset kubectl-nodeevict kubectl-argodeploy)

say() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'demo.sh: %s\n' "$*" >&2
  exit 1
}

# Stop the sims recorded in $dir/*.pid (only processes that still are kube-sim), remove $dir.
stop() {
  if [[ ! -e "$dir" ]]; then
    echo "No demo to stop ($dir does not exist)."
    return 0
  fi
  [[ -f "$marker" ]] || die "$dir was not made by demo.sh; not touching it"
  local pidfile pid
  for pidfile in "$dir"/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(ps -p "$pid" -o comm= 2>/dev/null)" == kube-sim* ]]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
      echo "Stopped kube-sim --scenario $(basename "$pidfile" .pid) (pid $pid)."
    fi
  done
  rm -rf "$dir"
  echo "Removed $dir."
}

# start_sim SCENARIO KUBECONFIG: kube-sim in the background, in a session of its own (neither
# Ctrl-C in this terminal nor closing it stops it), output in $dir/SCENARIO.log, PID in
# $dir/SCENARIO.pid; waits (30 s at most) for its "kube-sim listening on URL" line.
start_sim() {
  local scenario="$1" kubeconfig="$2"
  local log="$dir/$scenario.log" pidfile="$dir/$scenario.pid"
  local detach=(nohup)
  if command -v setsid >/dev/null; then detach=(setsid nohup); fi
  # The inner shell writes its own PID, then becomes kube-sim (exec): the PID is kube-sim's.
  # shellcheck disable=SC2016
  "${detach[@]}" sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$pidfile" \
    "$root/target/$out_dir/kube-sim" serve --scenario "$scenario" --kubeconfig "$kubeconfig" \
    </dev/null >"$log" 2>&1 &
  local i url
  for i in $(seq 1 300); do
    url="$(sed -n 's/^kube-sim listening on \([^ ]*\).*/\1/p' "$log" 2>/dev/null)"
    if [[ -n "$url" ]]; then
      printf '  %-10s %s  KUBECONFIG=%s\n' "$scenario" "$url" "$kubeconfig"
      return 0
    fi
    if ((i > 20)) && ! kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  cat "$log" >&2 || true
  die "kube-sim --scenario $scenario did not start (log above). Clean up with: $0 stop"
}

# run COMMAND...: echo `$ COMMAND`, run it; a failure is noted and the demo goes on.
failed=()
run() {
  printf '\n$ %s\n' "$*"
  local rc=0
  "$@" || rc=$?
  if ((rc != 0)); then
    echo "# exit $rc"
    failed+=("$* (exit $rc)")
  fi
}

case "${1:-}" in
  "") ;;
  stop)
    stop
    exit 0
    ;;
  -h | --help)
    sed -n '2,11s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
  *) die "usage: $0 [stop]" ;;
esac

command -v kubectl >/dev/null ||
  die "kubectl is not on PATH; install it (https://kubernetes.io/docs/tasks/tools/) and run $0 again"
command -v cargo >/dev/null ||
  die "cargo is not on PATH; install Rust 1.89 or newer (https://rustup.rs) and run $0 again"

if [[ -e "$dir" ]]; then
  say "Stopping the previous demo"
  stop
fi

# The dev profile compiles in about 2 minutes on 2 cores (the release profile's LTO build of the
# same binaries took 6-7 minutes); the tests build the same binaries, so after them it is instant.
profile="${KUBECTL_SUITE_DEMO_PROFILE:-dev}"
case "$profile" in
  dev) out_dir=debug ;;
  release) out_dir=release ;;
  *) die "KUBECTL_SUITE_DEMO_PROFILE must be dev or release, not $profile" ;;
esac
if [[ ! -x "$root/target/$out_dir/kube-sim" ]]; then
  say "Building the four plugins and kube-sim (cargo profile $profile): the first build takes about 2 minutes on 2 cores, later ones seconds"
else
  say "Building the four plugins and kube-sim (cargo profile $profile; built before: seconds)"
fi
(cd "$root" && cargo build --profile "$profile" --locked \
  -p kubectl-airflow -p kubectl-pvcreset -p kubectl-nodeevict -p kubectl-argodeploy -p kube-sim)

mkdir -p "$dir/bin"
touch "$marker"
# From here on, a failure leaves the demo directory (and any sim started) for inspection.
trap 'rc=$?; ((rc == 0)) || printf "\ndemo.sh: failed (exit %s); logs in %s; clean up with: %s stop\n" "$rc" "$dir" "$0" >&2' EXIT
# A directory of their own on PATH, not target/release: cargo's .d files there would make
# `kubectl plugin list` warn.
for p in "${plugins[@]}"; do cp "$root/target/$out_dir/$p" "$dir/bin/"; done
export PATH="$dir/bin:$PATH"
export KUBECONFIG="$dir/kubeconfig"

say "Starting two simulated clusters (kube-sim)"
start_sim astronomer "$KUBECONFIG"               # Astronomer Enterprise: 2 Airflow deployments, 6 nodes
start_sim atmosphere "$dir/atmosphere.kubeconfig" # Argo Workflows deploying instances

say "The plugins, through kubectl (plugins in $dir/bin, KUBECONFIG=$KUBECONFIG)"
run kubectl airflow list -A
run kubectl airflow status -n astronomer-ee-lunar-nuclear-3725
run kubectl airflow restart scheduler -n astronomer-ee-zodiac-cosmo-1172 --dry-run

nodes="$(kubectl get nodes -o name)" # (not `| head -n 1`: with pipefail, kubectl's SIGPIPE fails)
node="${nodes%%$'\n'*}"
node="${node#node/}"
[[ -n "$node" ]] || die "kubectl get nodes listed no node"
printf '\n# %s is the first node of `kubectl get nodes -o name`\n' "$node"
printf '\n$ kubectl nodeevict %s --dry-run\n' "$node"
rc=0
kubectl nodeevict "$node" --dry-run || rc=$?
case "$rc" in
  0) echo "# exit 0: nothing blocks emptying $node (--dry-run: nothing was changed)" ;;
  1) echo "# exit 1: the plan has blockers, so without --dry-run nodeevict would stop before the first change" ;;
  *)
    echo "# exit $rc (see \"Exit codes\" in README.md)"
    failed+=("kubectl nodeevict $node --dry-run (exit $rc)")
    ;;
esac

printf '\n# Argo Workflows are in the second sim (atmosphere scenario), with its own kubeconfig\n'
run kubectl argodeploy list -n atmosphere --kubeconfig "$dir/atmosphere.kubeconfig"

cat <<EOF

==> Keep playing: both sims keep running

  export KUBECONFIG=$KUBECONFIG
  export PATH=$dir/bin:\$PATH
  kubectl plugin list
  kubectl airflow diagnose -n astronomer-ee-zodiac-cosmo-1172
  kubectl airflow logs worker -n astronomer-ee-lunar-nuclear-3725
  kubectl airflow restart scheduler -n astronomer-ee-lunar-nuclear-3725   # for real: plan, confirm, restart, verify
  kubectl nodeevict $node --dry-run
  kubectl get pods -A

  export KUBECONFIG=$dir/atmosphere.kubeconfig   # the Argo Workflows sim
  kubectl argodeploy list -n atmosphere --status Failed,Error
  kubectl argodeploy find e5121482-3929-4d22-a255-accb1a466884 -n atmosphere

Stop: ./demo.sh stop   (stops both sims, removes $dir)
EOF

if ((${#failed[@]} > 0)); then
  printf '\ndemo.sh: these commands failed:\n' >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
