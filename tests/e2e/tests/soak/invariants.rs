//! What the cluster looked like before an episode, and what must hold after it: checked from
//! the sim's objects, its request journal and its availability record.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use suite_tests::SimProcess;

use crate::episode::{Ending, Episode, PRIMARY, SECOND_COPY, THIRD_COPY, plugin_dir};
use crate::flows::{Flow, Target};

/// (kind, namespace, name) of a Deployment or StatefulSet.
pub type Workload = (String, String, String);

#[derive(Debug, Clone)]
pub struct PodInfo {
    pub name: String,
    pub namespace: String,
    pub node: String,
    pub owner_kind: String,
    /// The Deployment or StatefulSet behind the pod, if any.
    pub workload: Option<Workload>,
    pub labels: Value,
}

#[derive(Debug, Clone)]
pub struct Budget {
    pub name: String,
    pub namespace: String,
    /// How many of its pods must stay Ready, as the budget said before the episode.
    pub min_healthy: i64,
    /// The pods it covered (namespace, name).
    pub covers: BTreeSet<(String, String)>,
    pub workloads: BTreeSet<Workload>,
}

/// The cluster before the episode's first command.
pub struct Baseline {
    pub replicas: BTreeMap<Workload, i64>,
    /// Ready replicas when the availability window opened.
    pub ready: BTreeMap<Workload, i64>,
    /// Workloads an autoscaler sizes: their replicas are the autoscaler's business.
    pub autoscaled: BTreeSet<Workload>,
    pub autoscalers: BTreeMap<(String, String), Value>,
    pub claims: BTreeMap<(String, String), String>,
    pub unschedulable: BTreeMap<String, bool>,
    pub pods: Vec<PodInfo>,
    pub budgets: Vec<Budget>,
    /// The claims the plan (`--dry-run -o json`) names.
    pub planned_claims: BTreeSet<String>,
    pub workflows: BTreeMap<String, Value>,
}

/// `kubectl get ARGS -o json`, retried while random faults or an outage are on; Null when
/// the object is not found.
pub fn read(sim: &SimProcess, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let mut last = String::new();
    for _ in 0..60 {
        let out = sim.kubectl(&all);
        if out.code == Some(0) {
            return serde_json::from_str(&out.stdout).expect("kubectl get -o json");
        }
        if out.stderr.contains("NotFound") {
            return Value::Null;
        }
        last = out.stderr;
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("kubectl get {args:?} kept failing: {last}");
}

/// Several kinds in one `kubectl get` (one process, one discovery), grouped by kind.
pub struct Snapshot(BTreeMap<String, Vec<Value>>);

impl Snapshot {
    pub fn read(sim: &SimProcess, kinds: &str) -> Snapshot {
        let mut by_kind: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for o in items(&read(sim, &[kinds, "-A"])) {
            let kind = o["kind"].as_str().unwrap_or("").to_string();
            by_kind.entry(kind).or_default().push(o);
        }
        Snapshot(by_kind)
    }

    pub fn of(&self, kind: &str) -> &[Value] {
        self.0.get(kind).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn meta(o: &Value, field: &str) -> String {
    o["metadata"][field].as_str().unwrap_or("").to_string()
}

/// Every claim name under a `claims` key of a plan (pvcreset's and reset-logs' JSON).
fn claim_names(plan: &Value, into: &mut BTreeSet<String>) {
    match plan {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "claims"
                    && let Some(list) = v.as_array()
                {
                    into.extend(
                        list.iter()
                            .filter_map(|c| c["name"].as_str().map(String::from)),
                    );
                }
                claim_names(v, into);
            }
        }
        Value::Array(list) => list.iter().for_each(|v| claim_names(v, into)),
        _ => {}
    }
}

/// `minAvailable`/`maxUnavailable` of a budget over `expected` pods, as the disruption
/// controller computes desiredHealthy (pkg/controller/disruption/disruption.go).
fn min_healthy(spec: &Value, expected: i64) -> i64 {
    let resolve = |v: &Value, round_up: bool| -> Option<i64> {
        if let Some(n) = v.as_i64() {
            return Some(n);
        }
        let pct: f64 = v.as_str()?.strip_suffix('%')?.parse().ok()?;
        let x = pct * expected as f64 / 100.0;
        Some(if round_up { x.ceil() } else { x.floor() } as i64)
    };
    if let Some(min) = resolve(&spec["minAvailable"], true) {
        return min;
    }
    if let Some(max) = resolve(&spec["maxUnavailable"], true) {
        return (expected - max).max(0);
    }
    0
}

/// A budget's `matchLabels`, when that is its whole selector (None: matchExpressions, or no
/// selector at all, which selects nothing).
fn match_labels(selector: &Value) -> Option<Vec<(String, String)>> {
    if selector.is_null()
        || selector["matchExpressions"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    {
        return None;
    }
    Some(
        selector["matchLabels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// spec.replicas of every Deployment and StatefulSet.
fn workload_replicas(snap: &Snapshot) -> BTreeMap<Workload, i64> {
    let mut replicas = BTreeMap::new();
    for kind in ["Deployment", "StatefulSet"] {
        for o in snap.of(kind) {
            replicas.insert(
                (kind.to_string(), meta(o, "namespace"), meta(o, "name")),
                o["spec"]["replicas"].as_i64().unwrap_or(1),
            );
        }
    }
    replicas
}

impl Baseline {
    /// Reads the cluster (faults are not on yet) and opens the availability window.
    pub fn read(sim: &SimProcess, flow: &Flow, kubeconfig: &Path, home: &Path) -> Baseline {
        let snap = Snapshot::read(
            sim,
            "deployments,statefulsets,hpa,pvc,nodes,replicasets,pods,pdb",
        );
        let replicas = workload_replicas(&snap);
        let mut autoscaled = BTreeSet::new();
        let mut autoscalers = BTreeMap::new();
        for h in snap.of("HorizontalPodAutoscaler") {
            let target = &h["spec"]["scaleTargetRef"];
            autoscaled.insert((
                target["kind"].as_str().unwrap_or("").to_string(),
                meta(h, "namespace"),
                target["name"].as_str().unwrap_or("").to_string(),
            ));
            autoscalers.insert((meta(h, "namespace"), meta(h, "name")), h["spec"].clone());
        }
        let claims = snap
            .of("PersistentVolumeClaim")
            .iter()
            .map(|c| ((meta(c, "namespace"), meta(c, "name")), meta(c, "uid")))
            .collect();
        let unschedulable = snap
            .of("Node")
            .iter()
            .map(|n| (meta(n, "name"), n["spec"]["unschedulable"] == true))
            .collect();
        let replica_sets: BTreeMap<(String, String), String> = snap
            .of("ReplicaSet")
            .iter()
            .filter_map(|rs| {
                let owner = rs["metadata"]["ownerReferences"]
                    .as_array()?
                    .iter()
                    .find(|o| o["controller"] == true && o["kind"] == "Deployment")?;
                Some((
                    (meta(rs, "namespace"), meta(rs, "name")),
                    owner["name"].as_str()?.to_string(),
                ))
            })
            .collect();
        let pods: Vec<PodInfo> = snap
            .of("Pod")
            .iter()
            .map(|p| {
                let namespace = meta(p, "namespace");
                let owner = p["metadata"]["ownerReferences"]
                    .as_array()
                    .and_then(|o| o.iter().find(|o| o["controller"] == true))
                    .cloned()
                    .unwrap_or(Value::Null);
                let owner_kind = owner["kind"].as_str().unwrap_or("").to_string();
                let owner_name = owner["name"].as_str().unwrap_or("").to_string();
                let workload = match owner_kind.as_str() {
                    "ReplicaSet" => replica_sets
                        .get(&(namespace.clone(), owner_name))
                        .map(|d| ("Deployment".to_string(), namespace.clone(), d.clone())),
                    "StatefulSet" => Some(("StatefulSet".into(), namespace.clone(), owner_name)),
                    _ => None,
                };
                PodInfo {
                    name: meta(p, "name"),
                    namespace,
                    node: p["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
                    owner_kind,
                    workload,
                    labels: p["metadata"]["labels"].clone(),
                }
            })
            .collect();
        let mut budgets = Vec::new();
        for b in snap.of("PodDisruptionBudget") {
            let namespace = meta(b, "namespace");
            // policy/v1: an empty selector covers the whole namespace; matchExpressions are
            // not used by the scenarios' budgets, so such a budget is left out of the check.
            let Some(match_labels) = match_labels(&b["spec"]["selector"]) else {
                continue;
            };
            let covered: Vec<&PodInfo> = pods
                .iter()
                .filter(|p| p.namespace == namespace)
                .filter(|p| {
                    match_labels
                        .iter()
                        .all(|(k, v)| p.labels[k.as_str()].as_str() == Some(v.as_str()))
                })
                .collect();
            budgets.push(Budget {
                name: meta(b, "name"),
                min_healthy: min_healthy(&b["spec"], covered.len() as i64),
                covers: covered
                    .iter()
                    .map(|p| (p.namespace.clone(), p.name.clone()))
                    .collect(),
                workloads: covered.iter().filter_map(|p| p.workload.clone()).collect(),
                namespace,
            });
        }
        let mut planned_claims = BTreeSet::new();
        if matches!(flow.target, Target::Claims { .. }) {
            let out = suite_tests::run(
                std::process::Command::new(plugin_dir().join(format!("kubectl-{}", flow.plugin)))
                    .args(&flow.args)
                    .args(["--dry-run", "-o", "json", "--kubeconfig"])
                    .arg(kubeconfig)
                    .env("HOME", home)
                    .env_remove("KUBECONFIG"),
            );
            if let Ok(plan) = serde_json::from_str::<Value>(&out.stdout) {
                claim_names(&plan, &mut planned_claims);
            }
        }
        let workflows = if matches!(
            flow.target,
            Target::Resubmit { .. } | Target::Shutdown { .. }
        ) {
            items(&read(sim, &["workflows.argoproj.io", "-A"]))
                .iter()
                .map(|w| (meta(w, "name"), w["spec"].clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        sim.reset_availability();
        let ready = sim
            .availability()
            .iter()
            .map(|a| {
                (
                    (
                        a["kind"].as_str().unwrap_or("").to_string(),
                        a["namespace"].as_str().unwrap_or("").to_string(),
                        a["name"].as_str().unwrap_or("").to_string(),
                    ),
                    a["ready"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        Baseline {
            replicas,
            ready,
            autoscaled,
            autoscalers,
            claims,
            unschedulable,
            pods,
            budgets,
            planned_claims,
            workflows,
        }
    }
}

/// Journal annotations of the flow's plugin still on the cluster: `kind/name key`.
pub fn journals_left(sim: &SimProcess, flow: &Flow) -> Vec<String> {
    let (kinds, prefix) = match flow.target {
        Target::Nodes { .. } => ("nodes", "nodeevict.kubectl-plugins.dev/"),
        _ => ("deployments,statefulsets", "pvcreset.kubectl-plugins.dev/"),
    };
    let mut left = Vec::new();
    for o in items(&read(sim, &[kinds, "-A"])) {
        if let Some(ann) = o["metadata"]["annotations"].as_object() {
            for key in ann.keys() {
                if key.starts_with(prefix) && (key.ends_with("/journal") || key.ends_with("/run")) {
                    left.push(format!(
                        "{}/{} {key}",
                        o["kind"].as_str().unwrap_or(""),
                        meta(&o, "name")
                    ));
                }
            }
        }
    }
    left
}

/// The journal's path parts: (namespace, resource, name, subresource).
fn parse_path(path: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts.iter().position(|p| *p == "namespaces")?;
    let ns = parts.get(at + 1)?.to_string();
    let resource = parts.get(at + 2)?.to_string();
    let name = parts.get(at + 3).map(|s| s.to_string()).unwrap_or_default();
    let sub = parts.get(at + 4).map(|s| s.to_string()).unwrap_or_default();
    Some((ns, resource, name, sub))
}

/// A change the server carried out (whether or not its answer reached the client).
fn carried_out(entry: &Value) -> bool {
    let status = entry["status"].as_u64().unwrap_or(0);
    matches!(
        entry["method"].as_str(),
        Some("POST" | "PUT" | "PATCH" | "DELETE")
    ) && (200..300).contains(&status)
        && !entry["path"]
            .as_str()
            .unwrap_or("")
            .contains("selfsubjectaccessreviews")
}

pub fn check(ep: &mut Episode, sim: &SimProcess, baseline: &Baseline, kubeconfig: &Path) {
    let mut v = Vec::new();
    exit_codes(ep, &mut v);
    printed_commands_run(ep, kubeconfig, &mut v);
    let journal = sim.journal();
    deletions(ep, baseline, &journal, &mut v);
    concurrency(ep, &journal, &mut v);
    if ep.flow.journaled {
        for left in journals_left(sim, &ep.flow) {
            v.push(format!("a journal is left after the episode: {left}"));
        }
    }
    let snap = Snapshot::read(sim, "deployments,statefulsets,hpa,pvc,nodes,pods");
    replicas(ep, &snap, baseline, &mut v);
    match ep.flow.target.clone() {
        Target::Nodes { nodes, force } => {
            node_state(ep, &snap, baseline, &nodes, &mut v);
            availability(ep, sim, baseline, force, &mut v);
        }
        Target::Claims { namespace, .. } => claims(ep, &snap, baseline, &namespace, &mut v),
        Target::Restart {
            namespace,
            pod_prefix,
        } => restart(ep, sim, &namespace, &pod_prefix, &mut v),
        Target::Resubmit { .. } | Target::Shutdown { .. } => workflows(ep, sim, baseline, &mut v),
    }
    ep.violations.extend(v);
}

fn exit_codes(ep: &Episode, v: &mut Vec<String>) {
    for run in &ep.runs {
        if run.stderr.contains("panicked at") || run.stderr.contains("RUST_BACKTRACE") {
            v.push(format!("{} panicked: {}", run.label, run.stderr.trim()));
        }
        match (run.code, run.signal) {
            (Some(0 | 1 | 3 | 4), _) => {}
            (Some(130), _) if run.disrupted => {}
            (None, Some(9)) if run.disrupted => {}
            // Ctrl-C in the first milliseconds, before the plugin has installed its handler
            // (seed 100250: 39 ms after start, on a loaded machine): the default action ends
            // the process, which a shell reports as 130. It had printed nothing, so it had not
            // reached the command (the handler comes first), let alone a change.
            (None, Some(2)) if run.disrupted && run.stderr.trim().is_empty() => {}
            (code, signal) => v.push(format!(
                "{} ended with an undocumented exit: code {code:?} signal {signal:?}",
                run.label
            )),
        }
    }
}

/// Every read-only command the suite printed (`status`, `get`, `list`, …) works when pasted as
/// printed, through kubectl's plugin lookup; the changing ones (resume, abort) were run by the
/// recovery already.
fn printed_commands_run(ep: &Episode, kubeconfig: &Path, v: &mut Vec<String>) {
    const READ_ONLY: [&str; 7] = [
        "status", "get", "list", "find", "logs", "volumes", "diagnose",
    ];
    let mut seen = BTreeSet::new();
    for run in &ep.runs {
        for printed in crate::episode::printed_commands(&run.text()) {
            let words: Vec<&str> = printed.split_whitespace().collect();
            let read_only = match words.as_slice() {
                ["kubectl", "get", ..] => true,
                ["kubectl", plugin, verb, ..] => {
                    ["airflow", "pvcreset", "nodeevict", "argodeploy"].contains(plugin)
                        && READ_ONLY.contains(verb)
                        && !words.contains(&"-f")
                        && !words.contains(&"--follow")
                }
                _ => false,
            };
            if !read_only || !seen.insert(printed.clone()) {
                continue;
            }
            let out = suite_tests::run(
                std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&printed)
                    .env("PATH", format!("{}:/usr/bin:/bin", plugin_dir().display()))
                    .env("KUBECONFIG", kubeconfig)
                    .env("NO_COLOR", "1"),
            );
            if out.code != Some(0) {
                v.push(format!(
                    "`{printed}` (printed by {}) fails as printed: exit {:?}: {}",
                    run.label,
                    out.code,
                    out.stderr.trim().lines().last().unwrap_or("")
                ));
            }
        }
    }
}

/// Nothing deleted or evicted that the plan did not name.
fn deletions(ep: &Episode, baseline: &Baseline, journal: &[Value], v: &mut Vec<String>) {
    let ours = [PRIMARY, SECOND_COPY];
    for e in journal.iter().filter(|e| carried_out(e)) {
        if !ours.contains(&e["user"].as_str().unwrap_or("")) {
            continue;
        }
        let method = e["method"].as_str().unwrap_or("");
        let Some((ns, resource, name, sub)) = parse_path(e["path"].as_str().unwrap_or("")) else {
            continue;
        };
        let removes_pod = resource == "pods"
            && ((method == "DELETE" && sub.is_empty()) || (method == "POST" && sub == "eviction"));
        if resource == "persistentvolumeclaims" && method == "DELETE" {
            // The plan from before the episode, or the plan a run showed and was confirmed
            // with: a rerun after the operator scaled the owner up plans (and shows) the new
            // ordinals' claims too (seeds 100746, 100890, 400094).
            let shown = ep.runs.iter().any(|r| {
                r.text()
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("claim {name}: ")))
            });
            let named = matches!(ep.flow.target, Target::Claims { .. })
                && (baseline.planned_claims.contains(&name) || shown);
            if !named {
                v.push(format!(
                    "claim {ns}/{name} deleted but the plan did not name it (plan: {:?})",
                    baseline.planned_claims
                ));
            }
        }
        if resource.starts_with("workflows") && method == "DELETE" {
            v.push(format!("workflow {ns}/{name} deleted"));
        }
        if !removes_pod {
            continue;
        }
        let allowed = match &ep.flow.target {
            Target::Nodes { nodes, force } => {
                // A pod of the cluster before the episode must have been on the node; a pod
                // created since (a replacement scheduled there before the cordon) may be.
                let before = baseline
                    .pods
                    .iter()
                    .find(|p| p.namespace == ns && p.name == name);
                let newcomer = ep.intruders.iter().any(|(n, _)| *n == name);
                if newcomer {
                    *force
                } else {
                    before.is_none_or(|p| nodes.contains(&p.node))
                }
            }
            Target::Claims {
                namespace, owner, ..
            } => *namespace == ns && name.starts_with(&format!("{owner}-")),
            Target::Restart {
                namespace,
                pod_prefix,
            } => *namespace == ns && name.starts_with(pod_prefix.as_str()),
            Target::Resubmit { .. } | Target::Shutdown { .. } => false,
        };
        if !allowed {
            v.push(format!(
                "pod {ns}/{name} removed ({method} {}) outside the plan",
                e["path"].as_str().unwrap_or("")
            ));
        }
    }
}

/// Of concurrent runs on one object, one at a time changes it: the changes of the first run and
/// of its copy never interleave.
fn concurrency(ep: &mut Episode, journal: &[Value], v: &mut Vec<String>) {
    if !ep.flow.journaled || !ep.runs.iter().any(|r| r.identity == SECOND_COPY) {
        return;
    }
    const RUNS: [&str; 3] = [PRIMARY, SECOND_COPY, THIRD_COPY];
    // Only the act phase: recovery (after every copy ended) is a new run by the first identity.
    let act = &journal[..ep.act_journal_len.min(journal.len())];
    let changes: Vec<&Value> = act
        .iter()
        .filter(|e| carried_out(e))
        .filter(|e| e["user"].as_str().is_some_and(|u| RUNS.contains(&u)))
        .collect();
    let users: Vec<&str> = changes.iter().filter_map(|e| e["user"].as_str()).collect();
    let changers: BTreeSet<&str> = users.iter().copied().collect();
    ep.concurrent_changers = Some(changers.len());
    // A run takes a recorded change over (a rerun continues it) and the run it took it from
    // stops at its next step: each run's changes form one block. A run changing the cluster
    // again after another run's changes is interleaving.
    let blocks = 1 + users.windows(2).filter(|p| p[0] != p[1]).count();
    if !users.is_empty() && blocks > changers.len() {
        v.push(format!(
            "concurrent runs both changed the cluster, interleaved ({blocks} blocks of changes by {} runs, in order: {})",
            changers.len(),
            users
                .iter()
                .fold(Vec::<&str>::new(), |mut seq, u| {
                    if seq.last() != Some(u) {
                        seq.push(u);
                    }
                    seq
                })
                .join(" → ")
        ));
        // Each change, for the report: who, what, when.
        for e in &changes {
            v.push(format!(
                "  change: {} {} {} {} {}",
                e["time"].as_str().unwrap_or(""),
                e["user"].as_str().unwrap_or(""),
                e["method"].as_str().unwrap_or(""),
                e["path"].as_str().unwrap_or(""),
                e["fault"].as_str().unwrap_or("")
            ));
        }
    }
}

fn replicas(ep: &Episode, snap: &Snapshot, baseline: &Baseline, v: &mut Vec<String>) {
    let now = workload_replicas(snap);
    for (w, before) in &baseline.replicas {
        if baseline.autoscaled.contains(w) {
            continue;
        }
        let Some(after) = now.get(w) else {
            v.push(format!("{} {}/{} is gone", w.0, w.1, w.2));
            continue;
        };
        let operator = ep.operator_changes.get(w).copied().flatten();
        if after != before && Some(*after) != operator {
            v.push(format!(
                "{} {}/{} left at {after} replicas (was {before}{})",
                w.0,
                w.1,
                w.2,
                operator
                    .map(|o| format!("; the operator set {o}"))
                    .unwrap_or_default()
            ));
        }
    }
    for h in snap.of("HorizontalPodAutoscaler") {
        let key = (meta(h, "namespace"), meta(h, "name"));
        if let Some(before) = baseline.autoscalers.get(&key)
            && *before != h["spec"]
        {
            v.push(format!(
                "autoscaler {}/{} not restored: {} (was {})",
                key.0, key.1, h["spec"], before
            ));
        }
    }
}

fn node_state(
    ep: &Episode,
    snap: &Snapshot,
    baseline: &Baseline,
    nodes: &[String],
    v: &mut Vec<String>,
) {
    let completed_by = ep
        .runs
        .iter()
        .rev()
        .find(|r| r.code == Some(0) && !r.disrupted);
    for node in nodes {
        let Some(n) = snap.of("Node").iter().find(|n| meta(n, "name") == *node) else {
            v.push(format!("node {node} is gone"));
            continue;
        };
        let cordoned = n["spec"]["unschedulable"] == true;
        let before = baseline.unschedulable.get(node).copied().unwrap_or(false);
        match ep.ending {
            Some(Ending::Completed) => {
                if !cordoned {
                    v.push(format!("node {node} drained but not cordoned"));
                }
                let left = snap
                    .of("Pod")
                    .iter()
                    .filter(|p| p["spec"]["nodeName"].as_str() == Some(node.as_str()));
                for p in left {
                    let owner = p["metadata"]["ownerReferences"][0]["kind"]
                        .as_str()
                        .unwrap_or("");
                    let name = meta(p, "name");
                    let deleting = !p["metadata"]["deletionTimestamp"].is_null();
                    // A pod bound after the completing run started is not that run's to drain.
                    let late = ep
                        .intruders
                        .iter()
                        .any(|(n, at)| *n == name && completed_by.is_none_or(|r| *at > r.started));
                    if owner != "DaemonSet" && !deleting && !late {
                        v.push(format!(
                            "node {node} called drained but pod {}/{name} ({owner}) is still on it",
                            meta(p, "namespace")
                        ));
                    }
                }
            }
            // A node of a pool that a run emptied to the end ("drained … safe to terminate")
            // stays cordoned for its termination: an abort of another node of the pool does
            // not undo it (found by CI's soak, seed 400009: the first run drained one node,
            // then stopped on the next one, whose abort ended the episode).
            Some(Ending::Aborted) | Some(Ending::Refused)
                if cordoned != before && !emptied_by_a_run(ep, node) =>
            {
                v.push(format!(
                    "node {node} unschedulable={cordoned} after {:?} (was {before})",
                    ep.ending
                ));
            }
            _ => {}
        }
    }
}

/// Whether a run said it emptied `node` to the end (a finished drain, or nothing left to do on
/// a node already cordoned and empty): the node is meant to stay cordoned.
fn emptied_by_a_run(ep: &Episode, node: &str) -> bool {
    let drained = format!("node {node} drained in ");
    let already = format!("node {node} is already cordoned and has nothing to evict");
    ep.runs.iter().any(|r| {
        [&r.stdout, &r.stderr]
            .iter()
            .any(|out| out.contains(&drained) || out.contains(&already))
    })
}

/// No workload below its budget's minimum at any moment (StatefulSets excepted under --force),
/// and no single-replica workload at 0 Ready without --force — unless the operator's own hand
/// caused it.
fn availability(
    ep: &Episode,
    sim: &SimProcess,
    baseline: &Baseline,
    force: bool,
    v: &mut Vec<String>,
) {
    let seen: BTreeMap<Workload, i64> = sim
        .availability()
        .iter()
        .map(|a| {
            (
                (
                    a["kind"].as_str().unwrap_or("").to_string(),
                    a["namespace"].as_str().unwrap_or("").to_string(),
                    a["name"].as_str().unwrap_or("").to_string(),
                ),
                a["minReady"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let touched = |w: &Workload| ep.operator_changes.contains_key(w);
    for b in &baseline.budgets {
        if b.workloads.len() != 1 {
            continue;
        }
        let w = b.workloads.iter().next().expect("one");
        if touched(w) || (force && w.0 == "StatefulSet") {
            continue;
        }
        let ready_before = baseline.ready.get(w).copied().unwrap_or(0);
        let bound = b.min_healthy.min(ready_before);
        if let Some(min) = seen.get(w)
            && *min < bound
        {
            v.push(format!(
                "{} {}/{} went down to {min} Ready, below its budget {}'s minimum {bound}",
                w.0, w.1, w.2, b.name
            ));
        }
    }
    if !force {
        // A single-replica StatefulSet cannot surge: without --force it blocks the drain.
        for (w, replicas) in &baseline.replicas {
            if *replicas != 1 || touched(w) {
                continue;
            }
            if baseline.ready.get(w).copied().unwrap_or(0) == 1 && seen.get(w) == Some(&0) {
                v.push(format!(
                    "single-replica {} {}/{} was at 0 Ready during the drain",
                    w.0, w.1, w.2
                ));
            }
        }
    }
}

fn claims(
    ep: &Episode,
    snap: &Snapshot,
    baseline: &Baseline,
    namespace: &str,
    v: &mut Vec<String>,
) {
    for name in &baseline.planned_claims {
        let before = baseline
            .claims
            .get(&(namespace.to_string(), name.clone()))
            .cloned()
            .unwrap_or_default();
        let now = snap
            .of("PersistentVolumeClaim")
            .iter()
            .find(|c| meta(c, "namespace") == namespace && meta(c, "name") == *name)
            .cloned();
        match (ep.ending, now) {
            (_, None) => v.push(format!(
                "claim {namespace}/{name} is gone after {:?}",
                ep.ending
            )),
            (Some(Ending::Completed), Some(c)) => {
                if meta(&c, "uid") == before {
                    v.push(format!("claim {namespace}/{name} was not replaced"));
                }
                if c["status"]["phase"] != "Bound" {
                    v.push(format!(
                        "claim {namespace}/{name} is {} after the reset",
                        c["status"]["phase"]
                    ));
                }
            }
            (Some(Ending::Refused), Some(c)) if meta(&c, "uid") != before => {
                v.push(format!(
                    "claim {namespace}/{name} replaced by a command that refused"
                ));
            }
            _ => {}
        }
    }
}

fn restart(ep: &Episode, sim: &SimProcess, namespace: &str, prefix: &str, v: &mut Vec<String>) {
    if ep.ending != Some(Ending::Completed) {
        return;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let pods = items(&read(sim, &["pods", "-n", namespace]));
        let unready: Vec<String> = pods
            .iter()
            .filter(|p| meta(p, "name").starts_with(prefix))
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .filter(|p| !suite_tests::pod_ready(p))
            .map(|p| meta(p, "name"))
            .collect();
        if unready.is_empty() {
            return;
        }
        if std::time::Instant::now() > deadline {
            // The component may have been unready before the episode (a crash-looping worker).
            if !unready.iter().all(|n| n.contains("worker")) {
                v.push(format!("restarted pods not Ready: {unready:?}"));
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn workflows(ep: &Episode, sim: &SimProcess, baseline: &Baseline, v: &mut Vec<String>) {
    let now: BTreeMap<String, Value> = items(&read(sim, &["workflows.argoproj.io", "-A"]))
        .iter()
        .map(|w| (meta(w, "name"), w.clone()))
        .collect();
    for name in baseline.workflows.keys() {
        if !now.contains_key(name) {
            v.push(format!("workflow {name} is gone"));
        }
    }
    let target = match &ep.flow.target {
        Target::Shutdown { workflow, .. } | Target::Resubmit { workflow, .. } => workflow.clone(),
        _ => String::new(),
    };
    for (name, spec) in &baseline.workflows {
        if *name == target {
            continue;
        }
        if let Some(w) = now.get(name)
            && w["spec"] != *spec
        {
            v.push(format!(
                "workflow {name} changed though the command named {target}"
            ));
        }
    }
    match &ep.flow.target {
        Target::Resubmit { .. } => {
            let created: Vec<&String> = now
                .keys()
                .filter(|n| !baseline.workflows.contains_key(*n))
                .collect();
            let runs = ep.runs.len();
            if created.len() > runs {
                v.push(format!(
                    "{} workflows created by {runs} resubmit runs: {created:?}",
                    created.len()
                ));
            }
            for run in ep.runs.iter().filter(|r| r.code == Some(0)) {
                let printed = run.stdout.trim().lines().last().unwrap_or("").trim();
                if !printed.is_empty() && !now.contains_key(printed) {
                    v.push(format!(
                        "{} printed workflow {printed}, which does not exist",
                        run.label
                    ));
                }
            }
        }
        Target::Shutdown { workflow, shutdown }
            if ep.ending == Some(Ending::Completed)
                && now.get(workflow).map(|w| w["spec"]["shutdown"].clone())
                    != Some(Value::String(shutdown.to_string())) =>
        {
            v.push(format!(
                "workflow {workflow}: spec.shutdown is not {shutdown} after a successful run"
            ));
        }
        _ => {}
    }
}
