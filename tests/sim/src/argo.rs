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
use std::io::{Read, Write};

use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::clock::{format_rfc3339, parse_rfc3339};
use crate::resources as r;
use crate::store::Objects;

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

/// FNV-1a, 32 bits (Go's `hash/fnv.New32a`), as argo hashes node names.
pub(crate) fn fnv32a(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// `Workflow.NodeID` (pkg/apis/workflow/v1alpha1/workflow_types.go): the workflow's name for
/// the root, else `<workflow>-<fnv32a(node name)>`.
pub(crate) fn node_id(workflow: &str, node_name: &str) -> String {
    if node_name == workflow {
        return workflow.to_string();
    }
    format!("{workflow}-{}", fnv32a(node_name))
}

/// `workflow/util/pod_name.go` GeneratePodName: v1 is the node id; v2 is
/// `<workflow>-<template>-<fnv32a(node name)>` with the prefix cut to 242 bytes
/// (ensurePodNamePrefixLength: 253 less the hash and its dash).
pub(crate) fn pod_name(workflow: &str, node_name: &str, template: &str, v1: bool) -> String {
    const MAX_PREFIX: usize = 253 - 10;
    if v1 {
        return node_id(workflow, node_name);
    }
    if workflow == node_name {
        return workflow.to_string();
    }
    let mut prefix = workflow.to_string();
    if !template.is_empty() {
        prefix.push('-');
        prefix.push_str(template);
    }
    if prefix.len() > MAX_PREFIX - 1 {
        let mut cut = MAX_PREFIX - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    format!("{prefix}-{}", fnv32a(node_name))
}

/// `packer.DecompressWorkflow`: base64, gunzip, JSON.
pub(crate) fn decompress_nodes(text: &str) -> Option<Map<String, Value>> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .ok()?;
    let mut raw = String::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_string(&mut raw)
        .ok()?;
    serde_json::from_str(&raw).ok()
}

/// `packer.CompressWorkflow`: JSON, gzip, base64.
pub(crate) fn compress_nodes(nodes: &Map<String, Value>) -> String {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let raw = serde_json::to_vec(nodes).unwrap_or_default();
    let gz = enc
        .write_all(&raw)
        .and_then(|()| enc.finish())
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(gz)
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

/// Reconciles every workflow (operator.go `operate`).
pub(crate) fn workflows(objs: &Objects, now: Timestamp, out: &mut Vec<WorkflowUpdate>) {
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
            on_exit: true,
            display: Some("onExit".into()),
            ..Ctx::default()
        };
        let exit = op.execute(&exit_name, &on_exit, "", &args, ctx);
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
        if !message.is_empty() {
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
    on_exit: bool,
    display: Option<String>,
}

impl Op<'_> {
    fn id(&self, node_name: &str) -> String {
        node_id(&self.name, node_name)
    }

    fn node(&self, node_name: &str) -> Option<&Value> {
        self.nodes.get(&self.id(node_name))
    }

    fn phase(&self, node_name: &str) -> String {
        self.node(node_name)
            .map(|n| s(&n["phase"]).to_string())
            .unwrap_or_default()
    }

    fn set(&mut self, node_name: &str, field: &str, value: Value) {
        let id = self.id(node_name);
        if let Some(n) = self.nodes.get_mut(&id) {
            n[field] = value;
        }
    }

    /// markNodePhase: phase, message, and finishedAt when it becomes fulfilled.
    fn mark(&mut self, node_name: &str, phase: &str, message: Option<&str>) -> String {
        let id = self.id(node_name);
        let stamp = self.stamp.clone();
        if let Some(n) = self.nodes.get_mut(&id) {
            if n["phase"] != phase {
                n["phase"] = json!(phase);
                if fulfilled(phase) && n["finishedAt"].is_null() {
                    n["finishedAt"] = json!(stamp);
                }
            }
            if let Some(m) = message.filter(|m| !m.is_empty())
                && n["message"] != m
            {
                n["message"] = json!(m);
            }
        }
        phase.to_string()
    }

    /// initializeNode.
    fn init(
        &mut self,
        node_name: &str,
        type_: &str,
        template: &str,
        boundary: &str,
        phase: &str,
        ctx: &Ctx,
    ) -> String {
        let id = self.id(node_name);
        let display = ctx.display.clone().unwrap_or_else(|| {
            node_name
                .rsplit_once('.')
                .map_or(node_name, |(_, d)| d)
                .to_string()
        });
        let mut node = json!({"id": id, "name": node_name, "displayName": display, "type": type_,
                              "phase": phase, "startedAt": self.stamp});
        if !template.is_empty() {
            node["templateName"] = json!(template);
        }
        if !boundary.is_empty() {
            node["boundaryID"] = json!(boundary);
        }
        if fulfilled(phase) {
            node["finishedAt"] = json!(self.stamp);
        }
        self.nodes.insert(id.clone(), node);
        phase.to_string()
    }

    fn add_child(&mut self, parent: &str, child: &str) {
        let pid = self.id(parent);
        let cid = self.id(child);
        if let Some(p) = self.nodes.get_mut(&pid) {
            if !p["children"].is_array() {
                p["children"] = json!([]);
            }
            if let Some(c) = p["children"].as_array_mut()
                && !c.iter().any(|x| x == cid.as_str())
            {
                c.push(json!(cid));
            }
        }
    }

    /// podReconciliation: Pod nodes follow their pods; Terminate kills what runs.
    fn reconcile_pods(&mut self) {
        let ids: Vec<String> = self.nodes.keys().cloned().collect();
        for id in ids {
            let node = self.nodes[&id].clone();
            let phase = s(&node["phase"]).to_string();
            if fulfilled(&phase) {
                continue;
            }
            if node["type"] == "Suspend" && !self.shutdown.is_empty() {
                let msg = format!("workflow shutdown with strategy: {}", self.shutdown);
                self.mark(s(&node["name"]), "Failed", Some(&msg));
                continue;
            }
            if node["type"] != "Pod" {
                continue;
            }
            let node_name = s(&node["name"]).to_string();
            let pod_name = pod_name(&self.name, &node_name, s(&node["templateName"]), self.v1);
            let pod = self.pods.get(pod_name.as_str()).copied();
            if self.shutdown == "Terminate" {
                if let Some(pod) = pod {
                    let pod_phase = s(&pod["status"]["phase"]);
                    if pod_phase != "Succeeded" && pod_phase != "Failed" {
                        self.delete_pods
                            .push((pod_name.clone(), s(&pod["metadata"]["uid"]).to_string()));
                    }
                }
                let msg = format!("workflow shutdown with strategy: {}", self.shutdown);
                self.mark(&node_name, "Failed", Some(&msg));
                continue;
            }
            let started = node["startedAt"].as_str().and_then(parse_rfc3339);
            let Some(pod) = pod else {
                if phase == "Pending" {
                    // Not created yet (or its creation failed): try again.
                    if let Some(tmpl) = self.templates.get(s(&node["templateName"])).copied() {
                        let exit_code = self.exit_code(&node_name, tmpl, false);
                        self.create_pod(&node_name, tmpl, exit_code);
                    }
                } else if started
                    .is_none_or(|t| self.now.duration_since(t).as_secs() >= POD_GRACE_SECONDS)
                {
                    self.mark(&node_name, "Error", Some("pod deleted"));
                }
                continue;
            };
            // A pod older than a node still waiting for its pod belongs to an earlier run of
            // the node (an external retry reset it): wait until it is gone.
            let created = pod["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(parse_rfc3339);
            if phase == "Pending"
                && let (Some(c), Some(st)) = (created, started)
                && c < st
            {
                continue;
            }
            let host = s(&pod["spec"]["nodeName"]);
            if !host.is_empty() && node["hostNodeName"] != host {
                self.set(&node_name, "hostNodeName", json!(host));
            }
            match s(&pod["status"]["phase"]) {
                "Running" => {
                    self.mark(&node_name, "Running", None);
                }
                "Succeeded" => {
                    self.mark(&node_name, "Succeeded", None);
                    self.complete_pod(pod);
                }
                "Failed" => {
                    let code = main_exit_code(pod);
                    let msg = format!("Error (exit code {code})");
                    self.mark(&node_name, "Failed", Some(&msg));
                    self.complete_pod(pod);
                }
                _ => {}
            }
        }
    }

    /// The controller labels a finished pod `workflows.argoproj.io/completed=true`.
    fn complete_pod(&mut self, pod: &Value) {
        if pod["metadata"]["labels"][COMPLETED] != "true" {
            self.patch_pods.push((
                s(&pod["metadata"]["name"]).to_string(),
                json!({"metadata": {"labels": {COMPLETED: "true"}}}),
            ));
        }
    }

    /// The scripted exit code of the next (or, `again`, the current) attempt of a node name;
    /// a retry attempt `x(1)` counts under `x`.
    fn exit_code(&mut self, node_name: &str, tmpl: &Value, count: bool) -> i64 {
        let key = retry_base(node_name).to_string();
        let n = self.attempts.get(&key).copied().unwrap_or(0) + i64::from(count);
        if count {
            self.attempts.insert(key, n);
        }
        let codes: Vec<i64> = s(&tmpl["metadata"]["annotations"][EXIT_CODES])
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        let i = usize::try_from(n.max(1) - 1).unwrap_or(0);
        codes.get(i).or(codes.last()).copied().unwrap_or(0)
    }

    /// executeTemplate.
    fn execute(
        &mut self,
        node_name: &str,
        template: &str,
        boundary: &str,
        args: &Value,
        ctx: Ctx,
    ) -> String {
        let existing = self.phase(node_name);
        if fulfilled(&existing) {
            return existing;
        }
        let exists = self.node(node_name).is_some();
        let Some(tmpl) = self.templates.get(template).copied() else {
            if !exists {
                self.init(node_name, "Pod", template, boundary, "Error", &ctx);
                let msg = format!("template {template} not found");
                self.mark(node_name, "Error", Some(&msg));
            }
            return "Error".into();
        };
        if !exists {
            if !self.shutdown.is_empty() && !ctx.on_exit {
                // A node that would start after a shutdown is Skipped (operator.go).
                let msg = format!("workflow shutdown with strategy: {}", self.shutdown);
                self.init(node_name, "Skipped", template, boundary, "Skipped", &ctx);
                return self.mark(node_name, "Skipped", Some(&msg));
            }
            if self.suspended {
                return "Pending".into();
            }
        }
        let retry = &tmpl["retryStrategy"];
        if retry.is_object() && !ctx.retry_child {
            return self.execute_retry(node_name, template, boundary, args, ctx);
        }
        if tmpl["steps"].is_array() {
            if !exists {
                self.init(node_name, "Steps", template, boundary, "Running", &ctx);
                self.set_inputs(node_name, args);
            }
            return self.execute_steps(node_name, tmpl);
        }
        if tmpl["dag"].is_object() {
            if !exists {
                self.init(node_name, "DAG", template, boundary, "Running", &ctx);
                self.set_inputs(node_name, args);
            }
            return self.execute_dag(node_name, tmpl);
        }
        if tmpl["suspend"].is_object() {
            if !exists {
                self.init(node_name, "Suspend", template, boundary, "Running", &ctx);
                self.set_inputs(node_name, args);
            }
            // A `duration` ends the suspension by itself (suspend.go / operator.go
            // checkSuspendedNode); otherwise `argo resume` marks the node Succeeded.
            let started = self
                .node(node_name)
                .and_then(|n| n["startedAt"].as_str())
                .and_then(parse_rfc3339);
            if let (Some(d), Some(t)) = (duration_secs(&tmpl["suspend"]["duration"]), started)
                && self.now.duration_since(t).as_secs_f64() >= d
            {
                return self.mark(node_name, "Succeeded", None);
            }
            return "Running".into();
        }
        // container / script: one pod.
        if !exists {
            self.init(node_name, "Pod", template, boundary, "Pending", &ctx);
            self.set_inputs(node_name, args);
            let code = self.exit_code(node_name, tmpl, true);
            self.create_pod(node_name, tmpl, code);
            return "Pending".into();
        }
        existing
    }

    fn set_inputs(&mut self, node_name: &str, args: &Value) {
        if args.as_array().is_some_and(|a| !a.is_empty()) {
            self.set(node_name, "inputs", json!({"parameters": args}));
        }
    }

    /// The Retry node and its attempts `name(0)`, `name(1)`... (operator.go
    /// processNodeRetries: `limit` retries after the first attempt; retryPolicy OnFailure
    /// by default, Always, OnError, OnTransientError).
    fn execute_retry(
        &mut self,
        node_name: &str,
        template: &str,
        boundary: &str,
        args: &Value,
        ctx: Ctx,
    ) -> String {
        let tmpl = self.templates[template];
        if self.node(node_name).is_none() {
            self.init(node_name, "Retry", template, boundary, "Running", &ctx);
            self.set_inputs(node_name, args);
        }
        let limit = tmpl["retryStrategy"]["limit"]
            .as_i64()
            .or_else(|| s(&tmpl["retryStrategy"]["limit"]).parse().ok());
        let policy = s(&tmpl["retryStrategy"]["retryPolicy"]).to_string();
        let display = ctx.display.clone().unwrap_or_else(|| {
            node_name
                .rsplit_once('.')
                .map_or(node_name, |(_, d)| d)
                .to_string()
        });
        loop {
            let children: Vec<String> = self
                .node(node_name)
                .and_then(|n| n["children"].as_array())
                .map(|c| c.iter().map(|x| s(x).to_string()).collect())
                .unwrap_or_default();
            let attempt = children.len();
            let last = children.last().and_then(|id| self.nodes.get(id)).cloned();
            if let Some(last) = last {
                let phase = s(&last["phase"]).to_string();
                if !fulfilled(&phase) {
                    // Let the attempt run (its phase may change below).
                    let child_name = s(&last["name"]).to_string();
                    let child_ctx = Ctx {
                        retry_child: true,
                        display: Some(format!("{display}({})", attempt - 1)),
                        ..ctx.clone()
                    };
                    let p = self.execute(&child_name, template, boundary, args, child_ctx);
                    if !fulfilled(&p) {
                        return self.mark(node_name, "Running", None);
                    }
                    continue;
                }
                if phase == "Succeeded" || phase == "Skipped" {
                    return self.mark(node_name, "Succeeded", None);
                }
                let retryable = match policy.as_str() {
                    "Always" => true,
                    "OnError" | "OnTransientError" => phase == "Error",
                    _ => phase == "Failed",
                };
                let spent = limit.is_some_and(|l| attempt as i64 > l);
                if !retryable || !self.shutdown.is_empty() {
                    let msg = s(&last["message"]).to_string();
                    return self.mark(node_name, &phase, Some(&msg));
                }
                if spent {
                    return self.mark(node_name, &phase, Some("No more retries left"));
                }
                if self.suspended {
                    return "Running".into();
                }
            }
            let child_name = format!("{node_name}({attempt})");
            let child_ctx = Ctx {
                retry_child: true,
                display: Some(format!("{display}({attempt})")),
                ..ctx.clone()
            };
            let p = self.execute(&child_name, template, boundary, args, child_ctx);
            self.add_child(node_name, &child_name);
            if !fulfilled(&p) {
                return self.mark(node_name, "Running", None);
            }
        }
    }

    /// The nodes a following step group hangs from (getOutboundNodes).
    fn outbound(&self, node_name: &str) -> Vec<String> {
        let Some(node) = self.node(node_name) else {
            return Vec::new();
        };
        if node["type"] == "Retry"
            && let Some(last) = node["children"].as_array().and_then(|c| c.last())
            && let Some(child) = self.nodes.get(s(last))
        {
            return vec![s(&child["name"]).to_string()];
        }
        vec![node_name.to_string()]
    }

    /// steps.go executeSteps: groups in order; a failed group fails the Steps node.
    fn execute_steps(&mut self, node_name: &str, tmpl: &Value) -> String {
        let groups = tmpl["steps"].as_array().cloned().unwrap_or_default();
        let boundary = self.id(node_name);
        let mut previous: Vec<String> = vec![node_name.to_string()];
        for (i, group) in groups.iter().enumerate() {
            let sg = format!("{node_name}[{i}]");
            if self.node(&sg).is_none() {
                if self.suspended {
                    return "Running".into();
                }
                let ctx = Ctx {
                    display: Some(format!("[{i}]")),
                    ..Ctx::default()
                };
                self.init(
                    &sg,
                    "StepGroup",
                    s(&tmpl["name"]),
                    &boundary,
                    "Running",
                    &ctx,
                );
            }
            for p in &previous {
                self.add_child(p, &sg);
            }
            let phase = self.execute_step_group(&sg, group, &boundary);
            if !fulfilled(&phase) {
                return self.mark(node_name, "Running", None);
            }
            if failed_or_error(&phase) {
                let msg = self
                    .node(&sg)
                    .map(|n| s(&n["message"]).to_string())
                    .unwrap_or_default();
                return self.mark(node_name, "Failed", Some(&msg));
            }
            let children: Vec<String> = self
                .node(&sg)
                .and_then(|n| n["children"].as_array())
                .map(|c| c.iter().map(|x| s(x).to_string()).collect())
                .unwrap_or_default();
            previous = children
                .iter()
                .filter_map(|id| self.nodes.get(id).map(|n| s(&n["name"]).to_string()))
                .flat_map(|n| self.outbound(&n))
                .collect();
            if previous.is_empty() {
                previous = vec![sg];
            }
        }
        self.mark(node_name, "Succeeded", None)
    }

    /// steps.go executeStepGroup: parallel steps (items expanded); done when all are.
    fn execute_step_group(&mut self, sg: &str, group: &Value, boundary: &str) -> String {
        let mut all_done = true;
        let mut failed: Option<String> = None;
        for step in group.as_array().into_iter().flatten() {
            for (child, display, args) in expand(sg, step) {
                let ctx = Ctx {
                    display: Some(display),
                    ..Ctx::default()
                };
                let phase = self.execute(&child, s(&step["template"]), boundary, &args, ctx);
                if self.node(&child).is_some() {
                    self.add_child(sg, &child);
                }
                if !fulfilled(&phase) {
                    all_done = false;
                } else if failed_or_error(&phase) && !continues_on(step, &phase) && failed.is_none()
                {
                    failed = Some(self.id(&child));
                }
            }
        }
        if !all_done {
            return self.mark(sg, "Running", None);
        }
        match failed {
            Some(id) => self.mark(sg, "Failed", Some(&format!("child '{id}' failed"))),
            None => self.mark(sg, "Succeeded", None),
        }
    }

    /// dag.go executeDAG: tasks start when their dependencies allow; fail-fast (default) starts
    /// nothing new after a failure; the DAG is done when nothing runs and nothing can start.
    fn execute_dag(&mut self, node_name: &str, tmpl: &Value) -> String {
        let tasks = tmpl["dag"]["tasks"].as_array().cloned().unwrap_or_default();
        let fail_fast = tmpl["dag"]["failFast"] != false;
        let boundary = self.id(node_name);
        let task_name = |t: &Value| format!("{node_name}.{}", s(&t["name"]));
        // Repeats while tasks complete within the tick (leaves that finish at once).
        loop {
            let mut progressed = false;
            let mut running = false;
            let mut failed: Option<String> = None;
            for task in &tasks {
                let tn = task_name(task);
                let phase = self.phase(&tn);
                if failed_or_error(&phase) && !continues_on(task, &phase) && failed.is_none() {
                    failed = Some(self.id(&tn));
                }
            }
            for task in &tasks {
                let tn = task_name(task);
                let phase = self.phase(&tn);
                if fulfilled(&phase) {
                    continue;
                }
                if phase.is_empty() {
                    if failed.is_some() && fail_fast {
                        continue;
                    }
                    let deps = dependencies(task);
                    let dep_phases: HashMap<String, String> = deps
                        .iter()
                        .map(|d| (d.clone(), self.phase(&format!("{node_name}.{d}"))))
                        .collect();
                    if dep_phases.values().any(|p| !fulfilled(p)) {
                        continue;
                    }
                    let cont: HashMap<String, Value> = tasks
                        .iter()
                        .map(|t| (s(&t["name"]).to_string(), t["continueOn"].clone()))
                        .collect();
                    if !depends_allows(task, &dep_phases, &cont) {
                        if !self.suspended {
                            let ctx = Ctx::default();
                            self.init(
                                &tn,
                                "Skipped",
                                s(&task["template"]),
                                &boundary,
                                "Omitted",
                                &ctx,
                            );
                            self.mark(&tn, "Omitted", Some("omitted: depends condition not met"));
                            self.link_task(node_name, &tn, &deps);
                            progressed = true;
                        }
                        continue;
                    }
                }
                let before = self.phase(&tn);
                let p = self.execute_task(node_name, &tn, task, &boundary);
                if self.node(&tn).is_some() {
                    self.link_task(node_name, &tn, &dependencies(task));
                }
                if p != before {
                    progressed = true;
                }
                if !fulfilled(&p) && self.node(&tn).is_some() {
                    running = true;
                }
            }
            if progressed {
                continue;
            }
            if running {
                return self.mark(node_name, "Running", None);
            }
            // Nothing runs: done unless a task can still start (suspension holds them).
            let waiting = self.suspended
                && tasks.iter().any(|t| {
                    self.phase(&task_name(t)).is_empty()
                        && (failed.is_none() || !fail_fast)
                        && dependencies(t)
                            .iter()
                            .all(|d| fulfilled(&self.phase(&format!("{node_name}.{d}"))))
                });
            if waiting {
                return self.mark(node_name, "Running", None);
            }
            return match failed {
                Some(id) => self.mark(node_name, "Failed", Some(&format!("child '{id}' failed"))),
                None => self.mark(node_name, "Succeeded", None),
            };
        }
    }

    fn link_task(&mut self, dag: &str, task_node: &str, deps: &[String]) {
        if deps.is_empty() {
            self.add_child(dag, task_node);
        }
        for d in deps {
            for o in self.outbound(&format!("{dag}.{d}")) {
                self.add_child(&o, task_node);
            }
        }
    }

    /// One DAG task; `withItems` makes a TaskGroup of `task(i:item)` nodes.
    fn execute_task(&mut self, dag: &str, tn: &str, task: &Value, boundary: &str) -> String {
        let template = s(&task["template"]);
        if !task["withItems"].is_array() {
            let ctx = Ctx {
                display: Some(s(&task["name"]).to_string()),
                ..Ctx::default()
            };
            let args = task["arguments"]["parameters"].clone();
            return self.execute(tn, template, boundary, &args, ctx);
        }
        if self.node(tn).is_none() {
            if self.suspended {
                return String::new();
            }
            let ctx = Ctx::default();
            self.init(tn, "TaskGroup", template, boundary, "Running", &ctx);
        }
        let mut all_done = true;
        let mut failed = None;
        for (child, display, args) in expand(dag, task) {
            let ctx = Ctx {
                display: Some(display),
                ..Ctx::default()
            };
            let p = self.execute(&child, template, boundary, &args, ctx);
            if self.node(&child).is_some() {
                self.add_child(tn, &child);
            }
            if !fulfilled(&p) {
                all_done = false;
            } else if failed_or_error(&p) && failed.is_none() {
                failed = Some(self.id(&child));
            }
        }
        if !all_done {
            return self.mark(tn, "Running", None);
        }
        match failed {
            Some(id) => self.mark(tn, "Failed", Some(&format!("child '{id}' failed"))),
            None => self.mark(tn, "Succeeded", None),
        }
    }

    /// workflowpod.go createWorkflowPod, as far as the sim needs.
    fn create_pod(&mut self, node_name: &str, tmpl: &Value, exit_code: i64) {
        let wf = self.wf;
        let template = s(&tmpl["name"]);
        let name = pod_name(&self.name, node_name, template, self.v1);
        let mut labels = Map::new();
        let mut annotations = Map::new();
        if let Some(l) = tmpl["metadata"]["labels"].as_object() {
            labels.extend(l.clone());
        }
        if let Some(a) = tmpl["metadata"]["annotations"].as_object() {
            annotations.extend(a.clone());
        }
        labels.insert(WORKFLOW_LABEL.into(), json!(self.name));
        labels.insert(COMPLETED.into(), json!("false"));
        annotations.insert(NODE_NAME_ANN.into(), json!(node_name));
        annotations.insert(NODE_ID_ANN.into(), json!(self.id(node_name)));
        annotations
            .entry("sim.kube-sim.dev/exit-after-seconds")
            .or_insert(json!(DEFAULT_STEP_SECONDS));
        annotations.insert(
            "sim.kube-sim.dev/exit-code".into(),
            json!(exit_code.to_string()),
        );
        let mut main = if tmpl["script"].is_object() {
            let mut c = tmpl["script"].clone();
            if let Some(o) = c.as_object_mut() {
                o.remove("source");
            }
            c["args"] = json!(["/argo/staging/script"]);
            c
        } else {
            tmpl["container"].clone()
        };
        if !main.is_object() {
            main = json!({"image": "busybox"});
        }
        main["name"] = json!("main");
        let wait = json!({"name": "wait", "image": "quay.io/argoproj/argoexec:v3.6.2",
                          "command": ["argoexec"], "args": ["wait", "--loglevel", "info"],
                          "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}}});
        let mut spec = json!({"restartPolicy": "Never", "schedulerName": "default-scheduler",
                              "containers": [wait, main]});
        if let Some(sa) = wf["spec"]["serviceAccountName"].as_str() {
            spec["serviceAccountName"] = json!(sa);
        }
        for field in ["nodeSelector", "tolerations", "affinity"] {
            let v = if tmpl[field].is_null() {
                &wf["spec"][field]
            } else {
                &tmpl[field]
            };
            if !v.is_null() {
                spec[field] = v.clone();
            }
        }
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": wf["metadata"]["namespace"], "labels": labels,
                         "annotations": annotations,
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                              "name": self.name, "uid": wf["metadata"]["uid"],
                                              "controller": true, "blockOwnerDeletion": true}]},
            "spec": spec,
        });
        self.create_pods.push(pod);
    }
}

/// `name` without a retry attempt's `(n)` suffix.
fn retry_base(node_name: &str) -> &str {
    if let Some(open) = node_name.rfind('(')
        && node_name.ends_with(')')
        && node_name[open + 1..node_name.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return &node_name[..open];
    }
    node_name
}

fn main_exit_code(pod: &Value) -> i64 {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "main")
        .and_then(|c| c["state"]["terminated"]["exitCode"].as_i64())
        .unwrap_or(1)
}

fn duration_secs(v: &Value) -> Option<f64> {
    if let Some(n) = v.as_f64() {
        return Some(n);
    }
    let text = v.as_str()?.trim();
    if let Ok(n) = text.parse::<f64>() {
        return Some(n);
    }
    let (num, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    })
}

/// `step.ContinuesOn(phase)` (workflow_types.go).
fn continues_on(step: &Value, phase: &str) -> bool {
    let c = &step["continueOn"];
    (phase == "Failed" && c["failed"] == true) || (phase == "Error" && c["error"] == true)
}

/// The text of an item in a node name (`name(i:item)`): strings as they are, others as JSON.
fn item_text(item: &Value) -> String {
    match item {
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// A step's or task's nodes: one, or one per `withItems` item, with `{{item}}` substituted
/// in its argument values. (name, displayName, arguments.parameters)
fn expand(parent: &str, step: &Value) -> Vec<(String, String, Value)> {
    let name = s(&step["name"]);
    let args = step["arguments"]["parameters"].clone();
    let Some(items) = step["withItems"].as_array() else {
        return vec![(format!("{parent}.{name}"), name.to_string(), args)];
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item_text(item);
            let display = format!("{name}({i}:{text})");
            let substituted = serde_json::from_str(
                &args
                    .to_string()
                    .replace("{{item}}", &text.replace('"', "\\\"")),
            )
            .unwrap_or(Value::Null);
            (format!("{parent}.{display}"), display, substituted)
        })
        .collect()
}

/// The tasks a DAG task waits for: `dependencies`, or the names in `depends`.
fn dependencies(task: &Value) -> Vec<String> {
    if let Some(d) = task["dependencies"].as_array() {
        return d.iter().map(|x| s(x).to_string()).collect();
    }
    let mut out: Vec<String> = tokens(s(&task["depends"]))
        .into_iter()
        .filter(|t| !matches!(t.as_str(), "&&" | "||" | "!" | "(" | ")"))
        .map(|t| t.split('.').next().unwrap_or("").to_string())
        .collect();
    out.dedup();
    out
}

fn tokens(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        let op = match c {
            '&' | '|' if chars.peek() == Some(&c) => {
                chars.next();
                Some(format!("{c}{c}"))
            }
            '!' | '(' | ')' => Some(c.to_string()),
            c if c.is_whitespace() => None,
            _ => {
                cur.push(c);
                continue;
            }
        };
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if let Some(op) = op {
            out.push(op);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a task may run once its dependencies are done (dag.go: `dependencies` is
/// `a && b` where each is `a.Succeeded || a.Skipped || a.Daemoned`, or failed/errored when
/// its continueOn says so; `depends` is evaluated with `.Succeeded .Failed .Errored .Skipped
/// .Omitted .Daemoned .AnySucceeded .AllFailed`).
fn depends_allows(
    task: &Value,
    phases: &HashMap<String, String>,
    cont: &HashMap<String, Value>,
) -> bool {
    let plain = |dep: &str| {
        let p = phases.get(dep).map(String::as_str).unwrap_or("");
        let c = json!({"continueOn": cont.get(dep).cloned().unwrap_or(Value::Null)});
        p == "Succeeded" || p == "Skipped" || continues_on(&c, p)
    };
    if let Some(d) = task["dependencies"].as_array() {
        return d.iter().all(|x| plain(s(x)));
    }
    let toks = tokens(s(&task["depends"]));
    if toks.is_empty() {
        return true;
    }
    let mut pos = 0;
    let atom = |t: &str| -> bool {
        match t.split_once('.') {
            None => plain(t),
            Some((dep, result)) => {
                let p = phases.get(dep).map(String::as_str).unwrap_or("");
                match result {
                    "Succeeded" | "AnySucceeded" => p == "Succeeded",
                    "Failed" | "AllFailed" => p == "Failed",
                    "Errored" => p == "Error",
                    "Skipped" => p == "Skipped",
                    "Omitted" => p == "Omitted",
                    _ => false,
                }
            }
        }
    };
    eval_or(&toks, &mut pos, &atom)
}

fn eval_or(t: &[String], pos: &mut usize, atom: &dyn Fn(&str) -> bool) -> bool {
    let mut v = eval_and(t, pos, atom);
    while t.get(*pos).is_some_and(|x| x == "||") {
        *pos += 1;
        let r = eval_and(t, pos, atom);
        v = v || r;
    }
    v
}

fn eval_and(t: &[String], pos: &mut usize, atom: &dyn Fn(&str) -> bool) -> bool {
    let mut v = eval_not(t, pos, atom);
    while t.get(*pos).is_some_and(|x| x == "&&") {
        *pos += 1;
        let r = eval_not(t, pos, atom);
        v = v && r;
    }
    v
}

fn eval_not(t: &[String], pos: &mut usize, atom: &dyn Fn(&str) -> bool) -> bool {
    match t.get(*pos).map(String::as_str) {
        Some("!") => {
            *pos += 1;
            !eval_not(t, pos, atom)
        }
        Some("(") => {
            *pos += 1;
            let v = eval_or(t, pos, atom);
            if t.get(*pos).is_some_and(|x| x == ")") {
                *pos += 1;
            }
            v
        }
        Some(x) => {
            *pos += 1;
            atom(x)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_and_pod_names_like_argo() {
        // ui/src/app/shared/pod-name.test.ts createFNVHash
        assert_eq!(fnv32a("hello"), 1_335_831_723);
        assert_eq!(node_id("wf", "wf"), "wf");
        assert_eq!(node_id("wfname", "nodename"), "wfname-1454367246");
        // workflow/util/pod_name_v2_test.go
        assert_eq!(
            pod_name("wfname", "nodename", "templatename", false),
            "wfname-templatename-1454367246"
        );
        assert_eq!(
            pod_name("wfname", "nodename", "t", true),
            "wfname-1454367246"
        );
        assert_eq!(pod_name("wfname", "wfname", "main", false), "wfname");
        let long = "a".repeat(300);
        let name = pod_name(&long, "nodename", "t", false);
        assert_eq!(name.len(), 253);
        assert!(name.ends_with("-1454367246"));
        // The generator's recorded pod of the atmosphere scenario.
        assert_eq!(
            pod_name(
                "deploy-f38b2ffc-fm9fs",
                "deploy-f38b2ffc-fm9fs[0].prepare",
                "prepare",
                false
            ),
            "deploy-f38b2ffc-fm9fs-prepare-2363490668"
        );
    }

    #[test]
    fn item_and_retry_names() {
        let step = json!({"name": "echo", "template": "t", "withItems": ["a", 2, {"k": "v"}],
                          "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]}});
        let names: Vec<String> = expand("wf[0]", &step).into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            vec![
                "wf[0].echo(0:a)",
                "wf[0].echo(1:2)",
                "wf[0].echo(2:{\"k\":\"v\"})"
            ]
        );
        assert_eq!(expand("wf[0]", &step)[0].2[0]["value"], "a");
        assert_eq!(retry_base("wf.web(1)"), "wf.web");
        assert_eq!(retry_base("wf[0].echo(0:a)"), "wf[0].echo(0:a)");
    }

    #[test]
    fn depends_expressions() {
        let phases: HashMap<String, String> = [("a", "Succeeded"), ("b", "Failed")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let none = HashMap::new();
        let allows = |d: &str| depends_allows(&json!({"depends": d}), &phases, &none);
        assert!(allows("a"));
        assert!(!allows("a && b"));
        assert!(allows("a && b.Failed"));
        assert!(allows("b.Succeeded || a"));
        assert!(allows("!(b.Succeeded)"));
        assert_eq!(
            dependencies(&json!({"depends": "a && (b.Failed || c-d)"})),
            vec!["a", "b", "c-d"]
        );
        let cont: HashMap<String, Value> = [("b".to_string(), json!({"failed": true}))]
            .into_iter()
            .collect();
        assert!(depends_allows(
            &json!({"dependencies": ["a", "b"]}),
            &phases,
            &cont
        ));
    }

    #[test]
    fn compressed_nodes_round_trip() {
        let mut nodes = Map::new();
        nodes.insert("wf".into(), json!({"id": "wf", "phase": "Running"}));
        assert_eq!(decompress_nodes(&compress_nodes(&nodes)), Some(nodes));
    }

    #[test]
    fn a_tick_over_the_untouched_atmosphere_changes_only_workflows_that_must_move() {
        let store = crate::store::Store::new(std::sync::Arc::new(crate::clock::Clock::new(1.0)));
        crate::scenario::Scenario::load("atmosphere")
            .unwrap()
            .apply(&store)
            .unwrap();
        let now = store.clock().now();
        let mut out = Vec::new();
        store.read(|objs| workflows(objs, now, &mut out));
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
