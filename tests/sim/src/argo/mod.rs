//! A small Argo Workflows controller (argoproj/argo-workflows `workflow/controller/operator.go`,
//! `steps.go`, `dag.go`, `workflow/util/pod_name.go`), enough for the suite's workflows to run:
//! steps, DAGs (`dependencies` and simple `depends`), container/script leaves (one pod each),
//! suspend templates, `withItems`, `retryStrategy`, `continueOn`, DAG fail-fast, `onExit`,
//! `spec.shutdown` (Stop/Terminate), `spec.suspend`, and compressed node status.
//!
//! As upstream's `operate`, each tick re-derives everything from the workflow's spec, its
//! `status.nodes` and its pods, never from memory: a node that an external `retry` removed or
//! reset is simply run again on the next tick.
//!
//! Sim-only knobs (template `metadata.annotations`, copied to the pod as upstream copies them):
//! `sim.kube-sim.dev/exit-codes: "1,0"` is the exit code of attempt 1, 2, ... of a node name
//! (the last value repeats), attempts being counted on the workflow's annotation
//! `sim.kube-sim.dev/attempts` (JSON {nodeName: n}) across retryStrategy and external retries;
//! `sim.kube-sim.dev/exit-after-seconds` (default 5 simulated seconds) and
//! `sim.kube-sim.dev/log.main` are read by the sim's kubelet.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::clock::format_rfc3339;
use crate::resources as r;
use crate::store::Objects;

mod depends;
mod execute;
mod names;
mod packer;

use names::node_id;
pub(crate) use packer::{compress_nodes, decompress_nodes};

pub(crate) const COMPLETED: &str = "workflows.argoproj.io/completed";
const PHASE_LABEL: &str = "workflows.argoproj.io/phase";
const INSTANCE_ID: &str = "workflows.argoproj.io/controller-instanceid";
const POD_NAME_FORMAT: &str = "workflows.argoproj.io/pod-name-format";
const WORKFLOW_LABEL: &str = "workflows.argoproj.io/workflow";
const NODE_NAME_ANN: &str = "workflows.argoproj.io/node-name";
const NODE_ID_ANN: &str = "workflows.argoproj.io/node-id";
const ATTEMPTS: &str = "sim.kube-sim.dev/attempts";
const EXIT_CODES: &str = "sim.kube-sim.dev/exit-codes";
const COMPRESS: &str = "sim.kube-sim.dev/compress-nodes";
/// Simulated seconds a step runs when its template says nothing.
const DEFAULT_STEP_SECONDS: &str = "5";
/// Simulated seconds a Running pod node may miss its pod before it is "pod deleted"
/// (upstream's `recentlyStarted` grace in podReconciliation).
const POD_GRACE_SECONDS: i64 = 10;

/// One workflow's reconciliation: the new object (written with a resourceVersion
/// precondition) and the pod changes, made only when that write succeeds.
pub(crate) struct WorkflowUpdate {
    pub namespace: String,
    pub name: String,
    pub resource_version: String,
    pub object: Value,
    pub create_pods: Vec<Value>,
    pub patch_pods: Vec<(String, Value)>,
    pub delete_pods: Vec<(String, String)>,
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// NodePhase.Fulfilled (workflow_types.go).
fn fulfilled(phase: &str) -> bool {
    matches!(
        phase,
        "Succeeded" | "Failed" | "Error" | "Skipped" | "Omitted"
    )
}

fn failed_or_error(phase: &str) -> bool {
    phase == "Failed" || phase == "Error"
}

/// Whether a workflow is this controller's to run (upstream: without an instanceID, only
/// unlabelled workflows; completed ones leave the informer; offloaded ones need the database).
fn ours(wf: &Value) -> bool {
    let labels = &wf["metadata"]["labels"];
    let phase = s(&wf["status"]["phase"]);
    labels[INSTANCE_ID].is_null()
        && labels[COMPLETED] != "true"
        && !matches!(phase, "Succeeded" | "Failed" | "Error")
        && wf["status"]["offloadNodeStatusVersion"]
            .as_str()
            .is_none_or(str::is_empty)
}

/// Whether Argo's workflow-controller runs: a Ready, not terminating pod labelled
/// `app=workflow-controller` (argo's install manifests). Scaled to 0, nothing moves.
pub(crate) fn controller_running(objs: &Objects) -> bool {
    objs.list(&r::PODS, None).any(|p| {
        p["metadata"]["labels"]["app"] == "workflow-controller"
            && p["metadata"]["deletionTimestamp"].is_null()
            && crate::control::pod_ready(p)
    })
}

/// Reconciles every workflow (operator.go `operate`) while the workflow-controller runs.
pub(crate) fn workflows(objs: &Objects, now: Timestamp, out: &mut Vec<WorkflowUpdate>) {
    if controller_running(objs) {
        reconcile_all(objs, now, out);
    }
}

fn reconcile_all(objs: &Objects, now: Timestamp, out: &mut Vec<WorkflowUpdate>) {
    let mut pods: HashMap<(String, String), Vec<&Value>> = HashMap::new();
    for p in objs.list(&r::PODS, None) {
        if let Some(w) = p["metadata"]["labels"][WORKFLOW_LABEL].as_str() {
            pods.entry((s(&p["metadata"]["namespace"]).to_string(), w.to_string()))
                .or_default()
                .push(p);
        }
    }
    for wf in objs.list(&r::WORKFLOWS, None) {
        if !ours(wf) || !wf["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        let key = (
            s(&wf["metadata"]["namespace"]).to_string(),
            s(&wf["metadata"]["name"]).to_string(),
        );
        let owned = pods.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(update) = operate(wf, owned, now) {
            out.push(update);
        }
    }
}

struct Op<'a> {
    wf: &'a Value,
    name: String,
    stamp: String,
    now: Timestamp,
    v1: bool,
    templates: HashMap<&'a str, &'a Value>,
    nodes: Map<String, Value>,
    pods: HashMap<&'a str, &'a Value>,
    attempts: BTreeMap<String, i64>,
    shutdown: String,
    suspended: bool,
    /// Executing the exit handler (its pods start even after a Stop).
    in_exit: bool,
    create_pods: Vec<Value>,
    patch_pods: Vec<(String, Value)>,
    delete_pods: Vec<(String, String)>,
}

fn operate(wf: &Value, owned: &[&Value], now: Timestamp) -> Option<WorkflowUpdate> {
    let name = s(&wf["metadata"]["name"]).to_string();
    let compressed = s(&wf["status"]["compressedNodes"]);
    let compress = !compressed.is_empty() || wf["metadata"]["annotations"][COMPRESS] == "true";
    let nodes = if compressed.is_empty() {
        wf["status"]["nodes"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    } else {
        decompress_nodes(compressed)?
    };
    let attempts = wf["metadata"]["annotations"][ATTEMPTS]
        .as_str()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let mut op = Op {
        wf,
        name: name.clone(),
        stamp: format_rfc3339(now),
        now,
        v1: wf["metadata"]["annotations"][POD_NAME_FORMAT] == "v1",
        templates: wf["spec"]["templates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| (s(&t["name"]), t))
            .collect(),
        nodes,
        pods: owned
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| (s(&p["metadata"]["name"]), *p))
            .collect(),
        attempts,
        shutdown: s(&wf["spec"]["shutdown"]).to_string(),
        suspended: wf["spec"]["suspend"] == true,
        in_exit: false,
        create_pods: Vec::new(),
        patch_pods: Vec::new(),
        delete_pods: Vec::new(),
    };
    let mut new = wf.clone();
    let phase = s(&wf["status"]["phase"]);
    if phase.is_empty() || phase == "Pending" {
        // markWorkflowRunning; the pod-name format is recorded once (v2 unless it says v1).
        new["status"]["phase"] = json!("Running");
        if new["status"]["startedAt"].is_null() {
            new["status"]["startedAt"] = json!(op.stamp);
        }
        let format = if op.v1 { "v1" } else { "v2" };
        new["metadata"]["annotations"][POD_NAME_FORMAT] = json!(format);
    }
    op.reconcile_pods();
    let entry = s(&wf["spec"]["entrypoint"]).to_string();
    let args = wf["spec"]["arguments"]["parameters"].clone();
    let root = op.execute(&name, &entry, "", &args, Ctx::default());
    let mut done = fulfilled(&root);
    let mut wf_phase = root.clone();
    let mut message = op
        .nodes
        .get(&name)
        .map(|n| s(&n["message"]).to_string())
        .unwrap_or_default();
    // The exit handler runs once the entrypoint is done, also on Stop, never on Terminate
    // (operator.go: `if woc.execWf.Spec.OnExit != "" && !Terminate`).
    let on_exit = s(&wf["spec"]["onExit"]).to_string();
    if done && !on_exit.is_empty() && op.shutdown != "Terminate" {
        let exit_name = format!("{name}.onExit");
        let ctx = Ctx {
            display: Some("onExit".into()),
            ..Ctx::default()
        };
        op.in_exit = true;
        let exit = op.execute(&exit_name, &on_exit, "", &args, ctx);
        op.in_exit = false;
        done = fulfilled(&exit);
        if done && failed_or_error(&exit) && !failed_or_error(&wf_phase) {
            wf_phase = exit.clone();
            message = op
                .nodes
                .get(&node_id(&name, &exit_name))
                .map(|n| s(&n["message"]).to_string())
                .unwrap_or_default();
        }
    }
    if done {
        if !op.shutdown.is_empty() {
            wf_phase = "Failed".into();
            message = format!("Stopped with strategy '{}'", op.shutdown);
        } else if wf_phase == "Skipped" || wf_phase == "Omitted" {
            wf_phase = "Succeeded".into();
        }
        new["status"]["phase"] = json!(wf_phase);
        new["status"]["finishedAt"] = json!(op.stamp);
        // markWorkflowPhase: the message is the outcome's (none for a success, so a stale
        // one from before an external retry goes).
        if message.is_empty() {
            if let Some(st) = new["status"].as_object_mut() {
                st.remove("message");
            }
        } else {
            new["status"]["message"] = json!(message);
        }
        new["metadata"]["labels"][COMPLETED] = json!("true");
    }
    let phase_now = s(&new["status"]["phase"]).to_string();
    new["metadata"]["labels"][PHASE_LABEL] = json!(phase_now);
    let pods_total = op.nodes.values().filter(|n| n["type"] == "Pod").count();
    let pods_ok = op
        .nodes
        .values()
        .filter(|n| n["type"] == "Pod" && n["phase"] == "Succeeded")
        .count();
    new["status"]["progress"] = json!(format!("{pods_ok}/{pods_total}"));
    if !op.attempts.is_empty() {
        new["metadata"]["annotations"][ATTEMPTS] =
            json!(serde_json::to_string(&op.attempts).unwrap_or_default());
    }
    let old_nodes = if compressed.is_empty() {
        wf["status"]["nodes"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    } else {
        decompress_nodes(compressed).unwrap_or_default()
    };
    let nodes_changed = old_nodes != op.nodes;
    if compress {
        if nodes_changed || compressed.is_empty() {
            new["status"]["compressedNodes"] = json!(compress_nodes(&op.nodes));
        }
        if let Some(st) = new["status"].as_object_mut() {
            st.remove("nodes");
        }
    } else {
        new["status"]["nodes"] = Value::Object(op.nodes.clone());
    }
    if new == *wf
        && op.create_pods.is_empty()
        && op.patch_pods.is_empty()
        && op.delete_pods.is_empty()
    {
        return None;
    }
    Some(WorkflowUpdate {
        namespace: s(&wf["metadata"]["namespace"]).to_string(),
        name,
        resource_version: s(&wf["metadata"]["resourceVersion"]).to_string(),
        object: new,
        create_pods: op.create_pods,
        patch_pods: op.patch_pods,
        delete_pods: op.delete_pods,
    })
}

/// How a template is being executed.
#[derive(Default, Clone)]
struct Ctx {
    /// The attempt of a Retry node (no further retry wrapping).
    retry_child: bool,
    display: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_over_the_untouched_atmosphere_changes_only_workflows_that_must_move() {
        let store = crate::store::Store::new(std::sync::Arc::new(crate::clock::Clock::new(1.0)));
        crate::scenario::Scenario::load("atmosphere")
            .unwrap()
            .apply(&store)
            .unwrap();
        let now = store.clock().now();
        let mut out = Vec::new();
        // The recorded workflow-controller is scaled to 0: nothing moves.
        store.read(|objs| workflows(objs, now, &mut out));
        assert_eq!(out.len(), 0);
        // Running, it reconciles.
        store.read(|objs| reconcile_all(objs, now, &mut out));
        let changed: Vec<&str> = out.iter().map(|u| u.name.as_str()).collect();
        // The Pending deployment starts; the three upstream fixtures (recorded mid-flight by a
        // 2018 controller, with no pod left running) are carried to their end; the recorded
        // Running deployment (its pod runs) and every completed workflow stay as recorded.
        let mut expected = vec![
            "dag-fail-r4gvc",
            "dag-with-retries-4wkh8",
            "deploy-d7a7a3cc-srdqx",
            "failed-retries-tjjsc",
        ];
        let mut got = changed.clone();
        got.retain(|n| !n.starts_with("deploy-live-"));
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected);
    }
}
