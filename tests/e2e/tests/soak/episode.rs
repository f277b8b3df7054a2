//! One episode: a scenario, a destructive flow, chaos drawn from the seed, operator interference,
//! recovery by the documented path only, then the invariants.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use suite_tests::SimProcess;

use crate::flows::{self, Flow, Target};
use crate::invariants::{self, Baseline};

/// The scenarios an episode starts from (a small generated cluster among them).
pub const SCENARIOS: [&str; 5] = [
    "astronomer",
    "artsy",
    "aura",
    "atmosphere",
    "large:nodes=6,airflow=2,pods=40,workflows=6",
];

/// The scenarios to draw from: all, or those `SOAK_SCENARIOS` names (comma-separated
/// families: `artsy,aura`), for a soak focused on some flows.
fn scenarios() -> Vec<&'static str> {
    match std::env::var("SOAK_SCENARIOS") {
        Ok(only) => {
            let only: Vec<&str> = only.split(',').map(str::trim).collect();
            let picked: Vec<&'static str> = SCENARIOS
                .into_iter()
                .filter(|s| only.contains(&s.split(':').next().unwrap_or(s)))
                .collect();
            assert!(
                !picked.is_empty(),
                "SOAK_SCENARIOS names none of astronomer, artsy, aura, atmosphere, large"
            );
            picked
        }
        Err(_) => SCENARIOS.to_vec(),
    }
}

/// The identities of the episode's clients, each a kubeconfig of its own so the sim's request
/// journal tells who made which change.
pub const PRIMARY: &str = "soak-a";
pub const SECOND_COPY: &str = "soak-b";
/// A third copy's identity (two copies can be drawn).
pub const THIRD_COPY: &str = "soak-c";
pub const OPERATOR: &str = "soak-operator";

/// How long one command may take before the soak calls it hung (a violation).
const HUNG: Duration = Duration::from_secs(150);

/// The command's own deadline: a budget tightened to zero must end in a timeout (exit 4) soon.
const TIMEOUT: &str = "20s";

#[derive(Debug, Clone)]
pub enum Disruption {
    /// SIGKILL of the first run at this moment (ms after it started).
    Kill(u64),
    /// Ctrl-C (SIGINT) of the first run.
    CtrlC(u64),
    /// The API server unreachable from `at` for `for` ms.
    Outage { at: u64, ms: u64 },
}

#[derive(Debug, Clone)]
pub enum Interference {
    /// A second copy of the command, started with the first (another identity).
    SecondCopy(u64),
    /// `kubectl scale` of the target's workload by hand, to its replicas + 1.
    ScaleByHand(u64),
    /// `kubectl delete pod` of one of the target's pods.
    DeletePod(u64),
    /// The budget of a pod on the node tightened to maxUnavailable 0.
    TightenBudget(u64),
    /// A new unmanaged pod bound to the node being drained.
    NewPodOnNode(u64),
}

/// What happened to one command run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub label: String,
    pub command: String,
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The soak sent SIGKILL or SIGINT to it.
    pub disrupted: bool,
    pub identity: String,
    pub started: Instant,
}

impl Outcome {
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// How the episode ended, for the invariants that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The change finished (the command, a rerun or `resume` exited 0).
    Completed,
    /// `abort` undid it.
    Aborted,
    /// Refused with nothing changed (exit 3).
    Refused,
}

/// Everything an episode did, for the report and the invariants.
pub struct Episode {
    pub seed: u64,
    pub scenario: String,
    pub flow: Flow,
    pub fault_rate: f64,
    pub latency_ms: u64,
    pub spike: (u64, f64),
    pub disruptions: Vec<Disruption>,
    pub interference: Vec<Interference>,
    pub script: Vec<String>,
    pub runs: Vec<Outcome>,
    pub violations: Vec<String>,
    /// Workloads the operator changed by hand: (kind, namespace, name) → replicas it set, or
    /// None when it only deleted a pod.
    pub operator_changes: BTreeMap<(String, String, String), Option<i64>>,
    /// New pods bound to the node being drained, and when.
    pub intruders: Vec<(String, Instant)>,
    pub ending: Option<Ending>,
    pub started: Instant,
    /// How long the whole episode took, sim start to last check.
    pub duration: Duration,
    /// How many requests the sim's journal held when the act phase ended (before recovery).
    pub act_journal_len: usize,
    /// With a concurrent copy: how many of the two runs changed the cluster in the act phase.
    pub concurrent_changers: Option<usize>,
}

impl Episode {
    pub fn log(&mut self, line: impl Into<String>) {
        let ms = self.started.elapsed().as_millis();
        self.script.push(format!("{ms:>6} ms  {}", line.into()));
    }

    /// The episode's script, for a violation's report.
    pub fn report(&self) -> String {
        let focus = std::env::var("SOAK_SCENARIOS")
            .map(|s| format!("SOAK_SCENARIOS={s} "))
            .unwrap_or_default();
        let mut out = format!(
            "episode seed {} — replay: {focus}SOAK_SEED={} SOAK_EPISODES=1 cargo test -p suite-tests --test soak\n",
            self.seed, self.seed
        );
        out.push_str(&format!(
            "scenario {}, flow {} ({} {}), faults {:.0}%, latency {} ms, spikes {} ms at {:.0}%\n",
            self.scenario,
            self.flow.name,
            self.flow.plugin,
            self.flow.args.join(" "),
            self.fault_rate * 100.0,
            self.latency_ms,
            self.spike.0,
            self.spike.1 * 100.0
        ));
        for line in &self.script {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        for run in &self.runs {
            out.push_str(&format!(
                "  --- {} [{}] `{}` → code {:?} signal {:?}\n",
                run.label, run.identity, run.command, run.code, run.signal
            ));
            for line in run.stderr.lines().chain(run.stdout.lines()).take(60) {
                out.push_str("      ");
                out.push_str(line);
                out.push('\n');
            }
        }
        for v in &self.violations {
            out.push_str(&format!("  VIOLATION: {v}\n"));
        }
        out
    }
}

/// Where the plugins come from: `SOAK_PLUGIN_DIR` (e.g. binaries built from an older commit, to
/// show the soak finds a bug that commit had), else this build's.
pub fn plugin_dir() -> PathBuf {
    std::env::var_os("SOAK_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(suite_tests::bin_dir)
}

/// A running command whose output is being collected.
struct Running {
    child: Child,
    label: String,
    command: String,
    identity: String,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    started: Instant,
}

fn collect(
    pipe: Option<impl Read + Send + 'static>,
    into: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            into.lock()
                .expect("output")
                .push_str(&String::from_utf8_lossy(&buf));
        }
    })
}

fn spawn(
    mut cmd: Command,
    label: &str,
    command: String,
    identity: &str,
    home: &Path,
    kubeconfig_env: Option<&Path>,
) -> Running {
    suite_tests::isolate(&mut cmd, home);
    if let Some(kubeconfig) = kubeconfig_env {
        cmd.env("KUBECONFIG", kubeconfig);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    let readers = vec![
        collect(child.stdout.take(), out.clone()),
        collect(child.stderr.take(), err.clone()),
    ];
    Running {
        child,
        label: label.to_string(),
        command,
        identity: identity.to_string(),
        out,
        err,
        readers,
        started: Instant::now(),
    }
}

impl Running {
    /// Waits for the command (killing it past [`HUNG`]).
    fn finish(mut self, disrupted: bool, violations: &mut Vec<String>) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        let deadline = Instant::now() + HUNG;
        let status = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status;
            }
            if Instant::now() > deadline {
                violations.push(format!("{} hung: still running after {HUNG:?}", self.label));
                let _ = self.child.kill();
                break self.child.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for r in self.readers {
            let _ = r.join();
        }
        let stdout = self.out.lock().expect("out").clone();
        let stderr = self.err.lock().expect("err").clone();
        Outcome {
            label: self.label,
            command: self.command,
            code: status.code(),
            signal: status.signal(),
            stdout,
            stderr,
            disrupted,
            identity: self.identity,
            started: self.started,
        }
    }
}

/// The plugin run directly, as the first run and its concurrent copy are.
fn plugin_command(flow: &Flow, kubeconfig: &Path) -> (Command, String) {
    let mut cmd = Command::new(plugin_dir().join(format!("kubectl-{}", flow.plugin)));
    cmd.args(&flow.args)
        .args(["-y", "--timeout", TIMEOUT])
        .arg("--kubeconfig")
        .arg(kubeconfig);
    let shown = format!(
        "kubectl {} {} -y --timeout {TIMEOUT}",
        flow.plugin,
        flow.args.join(" ")
    );
    (cmd, shown)
}

/// A command as the suite printed it, pasted into a shell (kubectl finds the plugins on PATH),
/// answered yes and given the soak's deadline.
fn pasted_command(printed: &str) -> (Command, String) {
    let line = format!("{printed} -y --timeout {TIMEOUT}");
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(&line);
    let path = format!("{}:/usr/bin:/bin", plugin_dir().display());
    cmd.env("PATH", path);
    (cmd, line)
}

/// Every command the output quotes for the operator to run (`kubectl …` in backticks).
pub fn printed_commands(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut parts = text.split('`');
    parts.next();
    while let Some(quoted) = parts.next() {
        if quoted.starts_with("kubectl ") && !quoted.contains('\n') {
            found.push(quoted.to_string());
        }
        parts.next();
    }
    found
}

/// Runs one episode to its end and checks the invariants.
pub fn run(seed: u64) -> Episode {
    let began = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let scenario = scenarios().choose(&mut rng).expect("scenario").to_string();
    let spike = if rng.random_bool(0.3) {
        (rng.random_range(100..800), rng.random_range(0.01..0.1))
    } else {
        (0, 0.0)
    };
    let sim_seed = rng.random::<u64>().to_string();
    let spike_ms = spike.0.to_string();
    let spike_rate = format!("{:.3}", spike.1);
    let sim = SimProcess::start(
        &scenario,
        &[
            "--time-scale",
            "20",
            "--seed",
            &sim_seed,
            "--latency-spike-ms",
            &spike_ms,
            "--latency-spike-rate",
            &spike_rate,
        ],
    );
    let flow = flows::draw(&mut rng, &scenario, &sim);
    let fault_rate = if rng.random_bool(0.3) {
        0.0
    } else {
        rng.random_range(0.0..0.2)
    };
    let latency_ms = rng.random_range(0..30);
    let mut disruptions = Vec::new();
    for _ in 0..rng.random_range(0..3) {
        let at = rng.random_range(30..2500);
        disruptions.push(match rng.random_range(0..3) {
            0 => Disruption::Kill(at),
            1 => Disruption::CtrlC(at),
            _ => Disruption::Outage {
                at,
                ms: rng.random_range(1000..4000),
            },
        });
    }
    let mut interference = Vec::new();
    for _ in 0..rng.random_range(0..3) {
        let at = rng.random_range(0..2500);
        let node_flow = matches!(flow.target, Target::Nodes { .. });
        let pick = rng.random_range(0..5);
        interference.push(match pick {
            0 => Interference::SecondCopy(rng.random_range(0..200)),
            1 => Interference::ScaleByHand(at),
            2 => Interference::DeletePod(at),
            3 if node_flow => Interference::TightenBudget(at),
            4 if node_flow => Interference::NewPodOnNode(at),
            _ => Interference::SecondCopy(rng.random_range(0..200)),
        });
    }
    let mut ep = Episode {
        seed,
        scenario,
        flow,
        fault_rate,
        latency_ms,
        spike,
        disruptions,
        interference,
        script: Vec::new(),
        runs: Vec::new(),
        violations: Vec::new(),
        operator_changes: BTreeMap::new(),
        intruders: Vec::new(),
        ending: None,
        started: Instant::now(),
        duration: Duration::ZERO,
        act_journal_len: 0,
        concurrent_changers: None,
    };
    ep.log(format!("kube-sim seed {sim_seed}"));
    let home = tempfile::tempdir().expect("home");
    let primary = sim.kubeconfig_as(PRIMARY, "admin");
    let second = sim.kubeconfig_as(SECOND_COPY, "admin");
    let third = sim.kubeconfig_as(THIRD_COPY, "admin");
    let operator = sim.kubeconfig_as(OPERATOR, "admin");
    let baseline = Baseline::read(&sim, &ep.flow, &primary, home.path());
    act(
        &mut ep,
        &mut rng,
        &sim,
        &baseline,
        home.path(),
        [&primary, &second, &third, &operator],
    );
    recover(&mut ep, &mut rng, &sim, home.path(), &primary);
    sim.set_fault_rate(0.0);
    sim.set_latency_ms(0);
    invariants::check(&mut ep, &sim, &baseline, &primary);
    ep.duration = began.elapsed();
    ep
}

/// An action at a moment of the act phase.
enum Action {
    Disrupt(Disruption),
    Interfere(Interference),
}

fn act(
    ep: &mut Episode,
    rng: &mut StdRng,
    sim: &SimProcess,
    baseline: &Baseline,
    home: &Path,
    [primary, second, third, operator]: [&Path; 4],
) {
    sim.set_latency_ms(ep.latency_ms);
    sim.set_fault_rate(ep.fault_rate);
    let mut timeline: Vec<(u64, Action)> = ep
        .disruptions
        .iter()
        .map(|d| {
            let at = match d {
                Disruption::Kill(at) | Disruption::CtrlC(at) => *at,
                Disruption::Outage { at, .. } => *at,
            };
            (at, Action::Disrupt(d.clone()))
        })
        .chain(ep.interference.iter().map(|i| {
            let at = match i {
                Interference::SecondCopy(at)
                | Interference::ScaleByHand(at)
                | Interference::DeletePod(at)
                | Interference::TightenBudget(at)
                | Interference::NewPodOnNode(at) => *at,
            };
            (at, Action::Interfere(i.clone()))
        }))
        .collect();
    timeline.sort_by_key(|(at, _)| *at);

    let (cmd, shown) = plugin_command(&ep.flow, primary);
    ep.log(format!("run [{PRIMARY}] `{shown}`"));
    let first = spawn(cmd, "first run", shown, PRIMARY, home, None);
    let first_pid = first.child.id();
    let start = Instant::now();
    let mut copies = Vec::new();
    let mut disrupted_first = false;
    let mut first_slot = Some(first);
    let mut first_done: Option<Outcome> = None;
    // When the last outage ends: the operator waits for the API server before going on.
    let mut outage_ends = start;
    for (at, action) in timeline {
        // The first run may end before this moment: collect it then, and stop disrupting it.
        loop {
            let now = start.elapsed().as_millis() as u64;
            if let Some(running) = first_slot.as_mut()
                && let Ok(Some(_)) = running.child.try_wait()
            {
                let done = first_slot.take().expect("first");
                first_done = Some(done.finish(disrupted_first, &mut ep.violations));
                ep.log(format!("first run ended at {now} ms"));
            }
            if now >= at {
                break;
            }
            std::thread::sleep(Duration::from_millis(5).min(Duration::from_millis(at - now)));
        }
        match action {
            Action::Disrupt(Disruption::Kill(_)) | Action::Disrupt(Disruption::CtrlC(_))
                if first_slot.is_none() || disrupted_first =>
            {
                ep.log("(disruption skipped: the first run has already ended)");
            }
            Action::Disrupt(Disruption::Kill(_)) => {
                let _ = Command::new("kill")
                    .args(["-KILL", &first_pid.to_string()])
                    .status();
                disrupted_first = true;
                ep.log("SIGKILL the first run");
            }
            Action::Disrupt(Disruption::CtrlC(_)) => {
                let _ = Command::new("kill")
                    .args(["-INT", &first_pid.to_string()])
                    .status();
                disrupted_first = true;
                ep.log("Ctrl-C (SIGINT) the first run");
            }
            Action::Disrupt(Disruption::Outage { ms, .. }) => {
                sim.outage(Duration::from_millis(ms));
                outage_ends = outage_ends.max(Instant::now() + Duration::from_millis(ms));
                ep.log(format!("API server unreachable for {ms} ms"));
            }
            Action::Interfere(Interference::SecondCopy(_)) => {
                // Each copy under an identity of its own, so the journal tells them apart.
                let (identity, kubeconfig) = if copies.is_empty() {
                    (SECOND_COPY, second)
                } else {
                    (THIRD_COPY, third)
                };
                let (cmd, shown) = plugin_command(&ep.flow, kubeconfig);
                ep.log(format!("a second copy [{identity}] `{shown}`"));
                copies.push(spawn(cmd, "second copy", shown, identity, home, None));
            }
            Action::Interfere(other) => interfere(ep, rng, sim, baseline, operator, &other),
        }
    }
    let first = match (first_slot, first_done) {
        (Some(running), _) => running.finish(disrupted_first, &mut ep.violations),
        (None, Some(done)) => done,
        (None, None) => unreachable!("the first run is either running or done"),
    };
    ep.log(format!(
        "first run: code {:?} signal {:?}",
        first.code, first.signal
    ));
    ep.runs.push(first);
    for copy in copies {
        let done = copy.finish(false, &mut ep.violations);
        ep.log(format!("second copy: code {:?}", done.code));
        ep.runs.push(done);
    }
    // Recovery and the checks of printed commands come after the API server is back (seed
    // 100528: a printed `list` was run during an outage that began after both runs ended).
    if let Some(left) = outage_ends.checked_duration_since(Instant::now()) {
        ep.log(format!(
            "waiting {} ms for the outage to end",
            left.as_millis()
        ));
        std::thread::sleep(left);
    }
    ep.act_journal_len = sim.journal().len();
}

/// The workload an interference acts on: the target's own, else a Deployment with a pod on the
/// node being drained.
fn target_workload(ep: &Episode, baseline: &Baseline) -> Option<(String, String, String)> {
    match &ep.flow.target {
        Target::Claims {
            namespace,
            owner_kind,
            owner,
        } => Some((owner_kind.clone(), namespace.clone(), owner.clone())),
        Target::Restart {
            namespace,
            pod_prefix,
        } => baseline
            .replicas
            .keys()
            .find(|(_, ns, name)| ns == namespace && name == pod_prefix)
            .cloned(),
        Target::Nodes { nodes, .. } => baseline
            .pods
            .iter()
            .filter(|p| nodes.contains(&p.node))
            .filter_map(|p| p.workload.clone())
            .find(|w| w.0 == "Deployment" && !baseline.autoscaled.contains(w)),
        _ => None,
    }
}

fn interfere(
    ep: &mut Episode,
    rng: &mut StdRng,
    sim: &SimProcess,
    baseline: &Baseline,
    operator: &Path,
    what: &Interference,
) {
    // The operator retries what the faults make fail, as anyone at a terminal would.
    let kubectl = |args: &[&str]| {
        let mut out = None;
        for _ in 0..20 {
            let mut cmd = Command::new("/usr/bin/kubectl");
            cmd.arg("--kubeconfig").arg(operator).args(args);
            let run = suite_tests::run(&mut cmd);
            let done = run.code == Some(0) || run.stderr.contains("NotFound");
            out = Some(run);
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        out.expect("one try")
    };
    match what {
        Interference::ScaleByHand(_) => {
            let Some(w) = target_workload(ep, baseline) else {
                ep.log("(scale by hand skipped: no workload)");
                return;
            };
            let now = invariants::read(sim, &[&w.0.to_lowercase(), &w.2, "-n", &w.1]);
            let current = now["spec"]["replicas"].as_i64().unwrap_or(1);
            let to = baseline.replicas.get(&w).copied().unwrap_or(current) + 1;
            let out = kubectl(&[
                "scale",
                &format!("{}/{}", w.0.to_lowercase(), w.2),
                "-n",
                &w.1,
                &format!("--replicas={to}"),
            ]);
            ep.log(format!(
                "operator: kubectl scale {}/{} -n {} --replicas={to} → {:?}",
                w.0.to_lowercase(),
                w.2,
                w.1,
                out.code
            ));
            if out.code == Some(0) {
                ep.operator_changes.insert(w, Some(to));
            }
        }
        Interference::DeletePod(_) => {
            let candidates: Vec<&crate::invariants::PodInfo> = baseline
                .pods
                .iter()
                .filter(|p| p.workload.is_some() && p.owner_kind != "DaemonSet")
                .filter(|p| match &ep.flow.target {
                    Target::Nodes { nodes, .. } => nodes.contains(&p.node),
                    Target::Claims {
                        namespace, owner, ..
                    } => &p.namespace == namespace && p.name.starts_with(&format!("{owner}-")),
                    Target::Restart {
                        namespace,
                        pod_prefix,
                    } => &p.namespace == namespace && p.name.starts_with(pod_prefix.as_str()),
                    _ => false,
                })
                .collect();
            let Some(pod) = candidates.choose(rng) else {
                ep.log("(pod deletion skipped: no pod)");
                return;
            };
            let out = kubectl(&[
                "delete",
                "pod",
                &pod.name,
                "-n",
                &pod.namespace,
                "--wait=false",
            ]);
            ep.log(format!(
                "operator: kubectl delete pod {} -n {} → {:?}",
                pod.name, pod.namespace, out.code
            ));
            if let Some(w) = pod.workload.clone() {
                ep.operator_changes.entry(w).or_insert(None);
            }
        }
        Interference::TightenBudget(_) => {
            let Target::Nodes { nodes, .. } = &ep.flow.target else {
                return;
            };
            let budget = baseline.budgets.iter().find(|b| {
                baseline.pods.iter().any(|p| {
                    nodes.contains(&p.node)
                        && b.covers.contains(&(p.namespace.clone(), p.name.clone()))
                })
            });
            let Some(budget) = budget else {
                ep.log("(budget tightening skipped: no budget covers a pod on the node)");
                return;
            };
            let patch = json!({"spec": {"minAvailable": null, "maxUnavailable": 0}}).to_string();
            let out = kubectl(&[
                "patch",
                "pdb",
                &budget.name,
                "-n",
                &budget.namespace,
                "--type",
                "merge",
                "-p",
                &patch,
            ]);
            ep.log(format!(
                "operator: pdb {}/{} tightened to maxUnavailable 0 → {:?}",
                budget.namespace, budget.name, out.code
            ));
        }
        Interference::NewPodOnNode(_) => {
            let Target::Nodes { nodes, .. } = &ep.flow.target else {
                return;
            };
            let node = nodes[0].clone();
            let name = format!("soak-newcomer-{}", ep.intruders.len());
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "default", "labels": {"run": "soak-newcomer"}},
                "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox:1.37",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
            });
            let dir = tempfile::tempdir().expect("tempdir");
            let file = suite_tests::write(dir.path(), "pod.json", &pod.to_string());
            let out = kubectl(&[
                "create",
                "--validate=false",
                "-f",
                file.to_str().expect("utf-8"),
            ]);
            ep.log(format!(
                "operator: new pod default/{name} bound to {node} → {:?}",
                out.code
            ));
            if out.code == Some(0) {
                ep.intruders.push((name, Instant::now()));
            }
        }
        Interference::SecondCopy(_) => {}
    }
}

/// Whether a journal of this flow's plugin is still on the cluster.
fn journal_left(sim: &SimProcess, flow: &Flow) -> bool {
    !invariants::journals_left(sim, flow).is_empty()
}

/// Recovery by the documented path only: the command the suite printed, run as printed, or the
/// original command again; `abort` when resuming keeps failing.
fn recover(ep: &mut Episode, rng: &mut StdRng, sim: &SimProcess, home: &Path, primary: &Path) {
    let settled = |ep: &Episode, last: &Outcome| -> Option<Ending> {
        if ep.flow.journaled && journal_left(sim, &ep.flow) {
            return None;
        }
        if last.disrupted {
            return None;
        }
        // nodeevict and pvcreset refuse a plan with blockers with exit 1 and "nothing was
        // changed" (DESIGN.md reserves 3 for refusals; noted for the shared change engine).
        let refused = last
            .stderr
            .trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.contains("nothing was changed"));
        match last.code {
            Some(0) if last.command.contains(" abort ") => Some(Ending::Aborted),
            Some(0) => Some(Ending::Completed),
            Some(3) => Some(Ending::Refused),
            Some(1) if refused => Some(Ending::Refused),
            _ => None,
        }
    };
    // The first run decides, unless a second copy finished the job (the first then refused).
    let mut last = ep.runs[0].clone();
    if let Some(ending) = settled(ep, &last) {
        // A second copy that ended with exit 0 while the first refused: the job is done.
        let copy_done = ep.runs.iter().any(|r| r.code == Some(0) && !r.disrupted);
        ep.ending = Some(if ending == Ending::Refused && copy_done {
            Ending::Completed
        } else {
            ending
        });
        return;
    }
    if let Some(copy) = ep.runs[1..].iter().find(|r| r.code == Some(0))
        && settled(ep, copy).is_some()
    {
        ep.ending = Some(Ending::Completed);
        return;
    }
    for attempt in 0..6 {
        if attempt == 3 {
            sim.set_fault_rate(0.0);
            ep.log("faults end");
        }
        // What the operator reads: every command printed so far, the latest first (one
        // scrolls back to the hint that offered `abort` when resuming keeps failing).
        let hints: Vec<String> = ep
            .runs
            .iter()
            .rev()
            .flat_map(|r| printed_commands(&r.text()))
            .collect();
        // A run of several nodes stopped on one prints, besides that node's resume, the
        // command that finishes it and drains the rest: the way to finish what was asked.
        // Commands that only read (`argodeploy list --prefix …` shows what a resubmit made)
        // are not a way to finish anything, and take no `-y` (seed 100807 pasted one so).
        let rest = format!("kubectl {} ", ep.flow.plugin);
        const NOT_FINISHING: [&str; 12] = [
            "resume", "abort", "status", "uncordon", "list", "get", "logs", "find", "doctor",
            "diagnose", "volumes", "platform",
        ];
        let resume = hints
            .iter()
            .find(|c| {
                c.starts_with(&rest)
                    && !NOT_FINISHING
                        .iter()
                        .any(|verb| c.split_whitespace().nth(2) == Some(*verb))
            })
            .or_else(|| hints.iter().find(|c| c.contains(" resume")))
            .cloned();
        let abort = hints.iter().find(|c| c.contains(" abort")).cloned();
        let mut pick = if attempt >= 3 && abort.is_some() {
            2
        } else {
            rng.random_range(0..3)
        };
        // An abort that refused ("the claim is already deleted: the reset cannot be undone;
        // finish it with `… resume …`") names the way that still works: the operator takes it
        // rather than the same abort again (seed 100108 tried that abort six times).
        let abort_pointed_to_resume = last.command.contains(" abort ")
            && last.code != Some(0)
            && printed_commands(&last.text())
                .iter()
                .any(|c| c.contains(" resume"));
        if abort_pointed_to_resume && resume.is_some() {
            pick = 0;
        }
        let (cmd, shown, label) = match (pick, &resume, &abort) {
            (0, Some(resume), _) => {
                let (cmd, shown) = pasted_command(resume);
                (cmd, shown, "printed resume")
            }
            (2, _, Some(abort)) => {
                let (cmd, shown) = pasted_command(abort);
                (cmd, shown, "printed abort")
            }
            _ => {
                let (cmd, shown) = plugin_command(&ep.flow, primary);
                (cmd, shown, "rerun")
            }
        };
        ep.log(format!("recovery {attempt}: {label} `{shown}`"));
        // A pasted command reads the kubeconfig from $KUBECONFIG, as an operator's shell does.
        let env = label.starts_with("printed").then_some(primary);
        let done = spawn(cmd, label, shown, PRIMARY, home, env).finish(false, &mut ep.violations);
        ep.log(format!("  → code {:?}", done.code));
        if label.starts_with("printed") && done.code == Some(2) {
            ep.violations.push(format!(
                "a printed command fails as printed (usage error): `{}`: {}",
                done.command,
                done.stderr.trim()
            ));
        }
        last = done.clone();
        ep.runs.push(done);
        if let Some(ending) = settled(ep, &last) {
            ep.ending = Some(ending);
            return;
        }
    }
    ep.violations.push(format!(
        "not recovered by the documented path after 6 attempts (journal left: {})",
        journal_left(sim, &ep.flow)
    ));
}
