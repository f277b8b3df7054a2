//! `kubectl argodeploy retry WF`: argo's `argo retry` through the Kubernetes API —
//! `FormulateRetryWorkflow` and its helpers in argoproj/argo-workflows `workflow/util/util.go`
//! (`getNodeIDsToReset`, `isDescendantNodeSucceeded`, `newWorkflowsDag`, `dagSortedNodes`,
//! `resetPath`, `resetBoundaries`, `resetUntil`, `resetPod`, `resetNode`,
//! `createNewRetryWorkflow`, `deletePodNodeDuringRetryWorkflow`, `SelectorMatchesNode`).
//!
//! What is run again: every failed or errored execution node (Pod, Container, HTTP, Plugin)
//! none of whose descendants succeeded — for an attempt of a Retry node, the Retry node's
//! descendants, so the failed attempts of a retry that finally succeeded stay as they are
//! (argo's fix of the retried-child case) — plus, with `--restart-successful`, the nodes that
//! `--step` or `--node-field-selector` select. Those nodes and all their descendants are
//! removed (their pods deleted) so the controller runs them again; the group nodes above them
//! (Steps, StepGroup, DAG, TaskGroup, failed Retry) go back to Running; exit-handler nodes are
//! removed and their pods deleted. Nothing else is touched: succeeded steps keep their nodes
//! and pods.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams, Preconditions};
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::change::Gate;
use shared::output::{self, OutputFormat, PlanFormat};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::node_selector::NodeSelector;
use crate::pod_name::{pod_name, pod_name_version};
use crate::workflow::{self, COMPLETED_LABEL, PHASE_LABEL, WORKFLOW_LABEL};

#[derive(Args, Debug, Clone)]
pub struct RetryArgs {
    /// The workflow to retry (Failed or Error; Succeeded with --restart-successful)
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Change a parameter of the workflow (repeatable; only its own parameters)
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Also run again the succeeded steps that --step or --node-field-selector select (and
    /// everything after them); a Succeeded workflow can be retried this way
    #[arg(long)]
    pub restart_successful: bool,
    /// A step to run again, by the name `get` shows in its STEP column (repeatable; needs
    /// --restart-successful)
    #[arg(long, value_name = "STEP")]
    pub step: Vec<String>,
    /// argo's node field selector: displayName, templateName, name, id, phase,
    /// templateRef.name, templateRef.template, inputs.parameters.NAME.value; `=`, `==`, `!=`,
    /// terms joined by commas (needs --restart-successful)
    #[arg(long, value_name = "SELECTOR")]
    pub node_field_selector: Option<String>,
    /// Follow the workflow until it completes (exit 0 Succeeded, 1 otherwise)
    #[arg(long)]
    pub wait: bool,
    /// Output format of the plan (json and yaml on stdout, for scripts)
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// `workflow/common/common.go` `LabelKeyWorkflowArchivingStatus`: dropped by a retry as
/// `completed` is.
const ARCHIVING_LABEL: &str = "workflows.argoproj.io/workflow-archiving-status";

/// `GetTemplateFromNode`: the templateRef's template, else templateName.
fn template_of(node: &Value) -> &str {
    node["templateRef"]["template"]
        .as_str()
        .or_else(|| node["templateName"].as_str())
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Which nodes are reset and which removed (pure).

fn phase_of(node: &Value) -> &str {
    node["phase"].as_str().unwrap_or("")
}

fn type_of(node: &Value) -> &str {
    node["type"].as_str().unwrap_or("")
}

fn failed_or_error(node: &Value) -> bool {
    matches!(phase_of(node), "Failed" | "Error")
}

/// `isExecutionNodeType`.
fn is_execution(node: &Value) -> bool {
    matches!(type_of(node), "Container" | "Pod" | "HTTP" | "Plugin")
}

/// `isGroupNodeType`.
fn is_group(node: &Value) -> bool {
    matches!(type_of(node), "DAG" | "TaskGroup" | "StepGroup" | "Steps")
}

/// The node tree as `newWorkflowsDag` builds it: children that exist, and one parent each (a
/// node with several parents — a DAG task depending on several — gets the last in id order,
/// as argo iterates the ids sorted).
struct Tree<'a> {
    nodes: &'a Map<String, Value>,
    parent: BTreeMap<&'a str, &'a str>,
    children: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Tree<'a> {
    fn new(nodes: &'a Map<String, Value>) -> Self {
        let mut parent = BTreeMap::new();
        let mut children = BTreeMap::new();
        let mut ids: Vec<&String> = nodes.keys().collect();
        ids.sort();
        for id in ids {
            let kids: Vec<&str> = nodes[id]["children"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                // A child the status does not hold (the next step group of a failed step, in
                // recorded workflows) is not a node of the tree; argo would stop on it.
                .filter_map(|c| nodes.get_key_value(c).map(|(k, _)| k.as_str()))
                .collect();
            for c in &kids {
                parent.insert(*c, id.as_str());
            }
            children.insert(id.as_str(), kids);
        }
        Tree {
            nodes,
            parent,
            children,
        }
    }

    fn node(&self, id: &str) -> &'a Value {
        self.nodes.get(id).unwrap_or(&Value::Null)
    }

    fn parent(&self, id: &str) -> Option<&'a str> {
        self.parent.get(id).copied()
    }

    /// `getChildren`: every descendant.
    fn descendants(&self, id: &str) -> BTreeSet<&'a str> {
        let mut out = BTreeSet::new();
        let mut queue: VecDeque<&str> = VecDeque::from([id]);
        while let Some(n) = queue.pop_front() {
            for c in self.children.get(n).into_iter().flatten() {
                if out.insert(*c) {
                    queue.push_back(c);
                }
            }
        }
        out
    }

    /// `isDescendantNodeSucceeded`: a descendant succeeded and is not to be run again.
    fn descendant_succeeded(&self, id: &str, selected: &BTreeSet<String>) -> bool {
        self.descendants(id)
            .iter()
            .any(|c| !selected.contains(*c) && phase_of(self.node(c)) == "Succeeded")
    }

    /// `dagSortedNodes`: breadth first from the root (exit handlers are not under it).
    fn sorted_from(&self, root: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        if !self.nodes.contains_key(root) {
            return out;
        }
        let mut seen = BTreeSet::from([root]);
        let mut queue = VecDeque::from([root]);
        while let Some(n) = queue.pop_front() {
            out.push(n);
            for c in self.children.get(n).into_iter().flatten() {
                if seen.insert(*c) {
                    queue.push_back(c);
                }
            }
        }
        out
    }

    /// `resetUntil`: from `id` upwards, the first node that `hit` matches, marked for reset.
    fn reset_until(
        &self,
        id: &'a str,
        hit: impl Fn(&str, &Value) -> bool,
        reset: &mut BTreeSet<String>,
    ) -> Result<&'a str, String> {
        let mut curr = Some(id);
        while let Some(c) = curr {
            if hit(c, self.node(c)) {
                reset.insert(c.to_string());
                return Ok(c);
            }
            curr = self.parent(c);
        }
        Err(format!("node {id} has no such ancestor"))
    }

    /// `resetBoundaries`: the Retry, StepGroup and TaskGroup parents and each boundary up to
    /// the root are reset; returns where `resetPath` goes on.
    fn reset_boundaries(
        &self,
        id: &'a str,
        reset: &mut BTreeSet<String>,
    ) -> Result<Option<&'a str>, String> {
        let mut curr = id;
        loop {
            if let Some(p) = self.parent(curr)
                && type_of(self.node(p)) == "Retry"
            {
                reset.insert(p.to_string());
                curr = p;
            }
            if let Some(p) = self.parent(curr)
                && matches!(type_of(self.node(p)), "StepGroup" | "TaskGroup")
            {
                reset.insert(p.to_string());
            }
            let boundary = self.node(curr)["boundaryID"].as_str().unwrap_or("");
            if boundary.is_empty() {
                return Ok(self.parent(curr));
            }
            curr = self.reset_until(curr, |id, _| id == boundary, reset)?;
        }
    }

    /// `resetPath`: what running `start` again resets (its ancestors' groups and boundaries)
    /// and removes (it and its descendants).
    fn reset_path(
        &self,
        root: &str,
        start: &'a str,
        reset: &mut BTreeSet<String>,
        remove: &mut BTreeSet<String>,
    ) -> Result<(), String> {
        // singularPath: the start node must hang from the root.
        let mut up = Some(start);
        let mut reached = false;
        while let Some(c) = up {
            if c == root {
                reached = true;
                break;
            }
            up = self.parent(c);
        }
        if !reached {
            return Err(format!(
                "node {start} is not under the workflow's root node"
            ));
        }
        remove.insert(start.to_string());
        remove.extend(self.descendants(start).iter().map(|s| s.to_string()));
        if start == root {
            return Ok(());
        }
        let mut curr = Some(start);
        while let Some(c) = curr {
            let node = self.node(c);
            if is_group(node) {
                reset.insert(c.to_string());
                curr = self.reset_boundaries(c, reset)?;
                continue;
            }
            if type_of(node) == "Retry" && failed_or_error(node) {
                reset.insert(c.to_string());
            } else if type_of(node) == "Container" {
                // resetPod: the pod that runs this container goes, with all under it.
                let pod = self.reset_until(c, |_, n| type_of(n) == "Pod", reset)?;
                remove.insert(pod.to_string());
                remove.extend(self.descendants(pod).iter().map(|s| s.to_string()));
                curr = Some(pod);
                continue;
            }
            curr = self.parent(c);
        }
        Ok(())
    }
}

/// The nodes a retry resets (back to Running) and removes (run again), by id (pure).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    pub reset: BTreeSet<String>,
    pub remove: BTreeSet<String>,
    /// The exit handler's nodes, removed as argo does (the handler runs again at the end).
    pub exit_handler: BTreeSet<String>,
}

/// `FormulateRetryWorkflow`'s node selection over `nodes` of workflow `wf_name`: `selected` are
/// the nodes that `--restart-successful` with a selector picked.
pub fn select(
    nodes: &Map<String, Value>,
    wf_name: &str,
    selected: &BTreeSet<String>,
    parameters_changed: bool,
) -> Result<Selection, String> {
    let tree = Tree::new(nodes);
    let mut to_run: BTreeSet<String> = selected.clone();
    for (id, node) in nodes {
        if !(failed_or_error(node) && is_execution(node)) {
            continue;
        }
        // An attempt of a Retry node (argo marks it nodeFlag.retried; recorded workflows
        // often lack the flag, so a Retry parent counts too): whether to run it again is the
        // Retry node's question — a retry that succeeded in the end is not run again.
        let mut check = id.as_str();
        if let Some(p) = tree.parent(id)
            && (type_of(tree.node(p)) == "Retry" || node["nodeFlag"]["retried"] == true)
        {
            check = p;
        }
        if !tree.descendant_succeeded(check, selected) {
            to_run.insert(id.clone());
        }
    }
    let mut out = Selection::default();
    for id in tree.sorted_from(wf_name) {
        if to_run.contains(id) && !out.remove.contains(id) {
            tree.reset_path(wf_name, id, &mut out.reset, &mut out.remove)?;
        }
    }
    // argo #15802: with new parameters, a group that is reset is expanded again.
    if parameters_changed {
        let groups: Vec<String> = out
            .reset
            .iter()
            .filter(|id| !out.remove.contains(*id))
            .filter(|id| matches!(type_of(tree.node(id)), "TaskGroup" | "StepGroup"))
            .cloned()
            .collect();
        for g in groups {
            out.remove
                .extend(tree.descendants(&g).iter().map(|s| s.to_string()));
        }
    }
    out.reset.retain(|id| !out.remove.contains(id));
    let on_exit = format!("{wf_name}.onExit");
    for (id, node) in nodes {
        if node["name"].as_str().unwrap_or("").starts_with(&on_exit) {
            out.exit_handler.insert(id.clone());
        }
    }
    Ok(out)
}

/// `resetNode`: Running (Skipped stays Skipped), no message, started now, not finished; a
/// Suspend node's supplied outputs are asked for again.
fn reset_node(node: &Value, now: &str) -> Value {
    let mut n = node.clone();
    if let Some(params) = n["outputs"]["parameters"].as_array_mut()
        && type_of(node) == "Suspend"
    {
        for p in params {
            *p = json!({"name": p["name"], "valueFrom": {"supplied": {}}});
        }
    }
    if phase_of(node) != "Skipped" {
        n["phase"] = json!("Running");
    }
    if let Some(o) = n.as_object_mut() {
        o.remove("message");
        o.remove("finishedAt");
    }
    n["startedAt"] = json!(now);
    n
}

/// The node status after the retry (pure): removed and exit-handler nodes dropped, reset ones
/// Running, children and outbound nodes no longer naming removed nodes.
pub fn new_nodes(nodes: &Map<String, Value>, sel: &Selection, now: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (id, node) in nodes {
        if sel.remove.contains(id) || sel.exit_handler.contains(id) {
            continue;
        }
        let mut n = if sel.reset.contains(id) {
            reset_node(node, now)
        } else {
            node.clone()
        };
        for key in ["children", "outboundNodes"] {
            if let Some(ids) = node[key].as_array() {
                n[key] = Value::Array(
                    ids.iter()
                        .filter(|c| !c.as_str().is_some_and(|c| sel.remove.contains(c)))
                        .cloned()
                        .collect(),
                );
            }
        }
        out.insert(id.clone(), n);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The plan.

/// A node the retry changes, as the plan shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlanNode {
    pub id: String,
    pub name: String,
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub phase: String,
}

/// A pod the retry deletes: `uid` as read, none when it is already gone.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanPod {
    pub name: String,
    pub uid: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParameterChange {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// What a retry will do (pure data): shown as text with the tree, or as this object.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub namespace: String,
    pub workflow: String,
    pub phase: String,
    /// The version the plan was made from: the update is refused if the workflow changed.
    pub resource_version: String,
    /// Nodes that go back to Running (the groups above what runs again).
    pub reset: Vec<PlanNode>,
    /// Nodes removed so the controller runs them again (and the exit handler's).
    pub removed: Vec<PlanNode>,
    pub pods: Vec<PlanPod>,
    pub parameters: Vec<ParameterChange>,
    /// The node status is written back compressed, as it was stored.
    pub compressed_nodes: bool,
    /// The tree as `get` shows it, the changed nodes marked in MESSAGE.
    #[serde(skip)]
    pub tree: String,
    /// The workflow to write.
    #[serde(skip)]
    pub updated: Value,
}

/// What the operator asked to run again besides the failures.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub parameters: Vec<String>,
    pub restart_successful: bool,
    pub steps: Vec<String>,
    pub node_field_selector: Option<String>,
}

impl From<&RetryArgs> for Request {
    fn from(a: &RetryArgs) -> Self {
        Request {
            parameters: a.parameters.clone(),
            restart_successful: a.restart_successful,
            steps: a.step.clone(),
            node_field_selector: a.node_field_selector.clone(),
        }
    }
}

fn plan_node(node: &Value) -> PlanNode {
    let text = |k: &str| node[k].as_str().unwrap_or("").to_string();
    PlanNode {
        id: text("id"),
        name: text("name"),
        display_name: text("displayName"),
        kind: text("type"),
        phase: text("phase"),
    }
}

/// The names `get` shows for steps (for "unknown step" errors): every node but the root and
/// step groups, once each, in name order.
fn step_names(nodes: &Map<String, Value>, wf_name: &str) -> Vec<String> {
    let names: BTreeSet<String> = nodes
        .values()
        .filter(|n| n["name"] != wf_name && !matches!(type_of(n), "StepGroup" | "TaskGroup"))
        .filter_map(|n| n["displayName"].as_str().map(String::from))
        .collect();
    names.into_iter().collect()
}

/// The retry of `wf` (pure): `pods` are the workflow's pods as listed (name → uid), `now` the
/// timestamp written as the restart time.
pub fn plan(
    wf: &DynamicObject,
    pods: &BTreeMap<String, String>,
    req: &Request,
    now: &str,
) -> shared::Result<Plan> {
    let name = wf.name_any();
    let phase = workflow::phase(wf);
    let status = &wf.data["status"];
    let selecting = !req.steps.is_empty() || req.node_field_selector.is_some();
    if selecting && !req.restart_successful {
        return Err(Error::Usage(
            "--step and --node-field-selector pick succeeded steps to run again: add --restart-successful"
                .into(),
        ));
    }
    if req.restart_successful && !selecting {
        return Err(Error::Usage(
            "--restart-successful needs --step or --node-field-selector: which succeeded steps to run again"
                .into(),
        ));
    }
    let terms = match &req.node_field_selector {
        Some(s) => Some(
            NodeSelector::parse(s)
                .map_err(|e| Error::Usage(format!("--node-field-selector: {e}")))?,
        ),
        None => None,
    };
    match phase.as_str() {
        "Failed" | "Error" => {}
        "Succeeded" if selecting => {}
        "Succeeded" => {
            return Err(Error::Failed(format!(
                "workflow {name} Succeeded: to run steps of it again, name them with --restart-successful --step STEP"
            )));
        }
        other => {
            return Err(Error::Failed(format!(
                "workflow {name} is {other}: only a completed Failed or Error workflow can be retried"
            )));
        }
    }
    let stored_nodes = status["nodes"].as_object().is_some_and(|m| !m.is_empty());
    let compressed = !stored_nodes
        && status["compressedNodes"]
            .as_str()
            .is_some_and(|s| !s.is_empty());
    if !stored_nodes
        && !compressed
        && status["offloadNodeStatusVersion"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    {
        return Err(Error::Failed(format!(
            "the node status of {name} is offloaded to the workflow archive database: retrying it needs the argo server (`argo retry {name}`)"
        )));
    }
    let nodes = workflow::nodes(wf).map_err(|e| Error::Failed(format!("cannot retry: {e}")))?;
    if nodes.is_empty() {
        return Err(Error::Failed(format!(
            "workflow {name} has no node status: nothing to retry (resubmit runs it again)"
        )));
    }

    // --step and --node-field-selector: the nodes they pick, each of them picking something.
    let mut selected = BTreeSet::new();
    for step in &req.steps {
        let hits: Vec<&String> = nodes
            .iter()
            .filter(|(_, n)| n["displayName"] == step.as_str() && n["name"] != name.as_str())
            .map(|(id, _)| id)
            .collect();
        if hits.is_empty() {
            return Err(Error::Usage(format!(
                "workflow {name} has no step {step:?}; its steps: {}",
                step_names(&nodes, &name).join(", ")
            )));
        }
        selected.extend(hits.into_iter().cloned());
    }
    if let (Some(terms), Some(text)) = (&terms, &req.node_field_selector) {
        let hits: Vec<&String> = nodes
            .iter()
            .filter(|(_, n)| terms.matches(n))
            .map(|(id, _)| id)
            .collect();
        if hits.is_empty() {
            return Err(Error::Usage(format!(
                "--node-field-selector {text:?} selects no node of {name}; its steps: {}",
                step_names(&nodes, &name).join(", ")
            )));
        }
        selected.extend(hits.into_iter().cloned());
    }

    // -p: only the workflow's own parameters, whose values change.
    let mut spec = wf.data["spec"].clone();
    let mut changes = Vec::new();
    for p in &req.parameters {
        let (k, v) = p.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "expected parameter of the form NAME=VALUE, got {p:?}"
            ))
        })?;
        let known = workflow::parameters(wf);
        let Some((_, from)) = known.iter().find(|(n, _)| n == k) else {
            let names: Vec<&str> = known.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::Usage(if names.is_empty() {
                format!("workflow {name} has no parameters: -p {k} cannot be set")
            } else {
                format!(
                    "workflow {name} has no parameter {k:?}; its parameters: {}",
                    names.join(", ")
                )
            }));
        };
        for q in spec["arguments"]["parameters"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if q["name"] == k {
                q["value"] = json!(v);
            }
        }
        changes.retain(|c: &ParameterChange| c.name != k);
        changes.push(ParameterChange {
            name: k.to_string(),
            from: from.clone(),
            to: v.to_string(),
        });
    }

    let sel = select(&nodes, &name, &selected, !changes.is_empty())
        .map_err(|e| Error::Failed(format!("cannot retry {name}: {e}")))?;
    if sel.remove.is_empty() && sel.exit_handler.is_empty() {
        return Err(Error::Failed(format!(
            "nothing to retry in {name}: no failed step is left without a succeeded retry (--restart-successful --step STEP runs a succeeded one again)"
        )));
    }

    // The pods of removed nodes (deletePodNodeDuringRetryWorkflow) and of the exit handler.
    let version = pod_name_version(&serde_json::to_value(wf).unwrap_or(Value::Null));
    let mut pod_names = BTreeSet::new();
    for (id, n) in sel
        .remove
        .iter()
        .chain(sel.exit_handler.iter())
        .filter_map(|id| nodes.get_key_value(id))
    {
        if type_of(n) == "Pod" {
            pod_names.insert(pod_name(
                &name,
                n["name"].as_str().unwrap_or(""),
                template_of(n),
                id,
                version,
            ));
        }
    }
    let pods = pod_names
        .into_iter()
        .map(|p| PlanPod {
            uid: pods.get(&p).cloned(),
            name: p,
        })
        .collect();

    let updated = updated_workflow(wf, spec, &nodes, &sel, compressed, now)?;
    let in_order = |ids: &BTreeSet<String>| -> Vec<PlanNode> {
        let mut v: Vec<&Value> = ids.iter().filter_map(|id| nodes.get(id)).collect();
        v.sort_by_key(|n| n["name"].as_str().unwrap_or(""));
        v.into_iter().map(plan_node).collect()
    };
    let removed: BTreeSet<String> = sel.remove.union(&sel.exit_handler).cloned().collect();
    Ok(Plan {
        namespace: wf.namespace().unwrap_or_default(),
        workflow: name.clone(),
        phase,
        resource_version: wf.resource_version().unwrap_or_default(),
        reset: in_order(&sel.reset),
        removed: in_order(&removed),
        pods,
        parameters: changes,
        compressed_nodes: compressed,
        tree: marked_tree(wf, &nodes, &sel),
        updated,
    })
}

/// `createNewRetryWorkflow` plus the new node status (pure).
fn updated_workflow(
    wf: &DynamicObject,
    spec: Value,
    nodes: &Map<String, Value>,
    sel: &Selection,
    compressed: bool,
    now: &str,
) -> shared::Result<Value> {
    let mut out = serde_json::to_value(wf).map_err(|e| Error::Failed(e.to_string()))?;
    let params = spec["arguments"]["parameters"].clone();
    out["spec"] = spec;
    if let Some(s) = out["spec"].as_object_mut() {
        s.remove("shutdown");
        if s.get("activeDeadlineSeconds") == Some(&json!(0)) {
            s.remove("activeDeadlineSeconds");
        }
    }
    if let Some(labels) = out["metadata"]["labels"].as_object_mut() {
        labels.remove(COMPLETED_LABEL);
        labels.remove(ARCHIVING_LABEL);
        labels.insert(PHASE_LABEL.into(), json!("Running"));
    } else {
        out["metadata"]["labels"] = json!({PHASE_LABEL: "Running"});
    }
    let new = new_nodes(nodes, sel, now);
    let status = &mut out["status"];
    if let Some(st) = status.as_object_mut() {
        for k in ["message", "finishedAt", "nodes", "compressedNodes"] {
            st.remove(k);
        }
    }
    status["phase"] = json!("Running");
    status["startedAt"] = json!(now);
    status["persistentVolumeClaims"] = json!([]);
    if status["storedWorkflowTemplateSpec"].is_object() {
        if let Some(s) = status["storedWorkflowTemplateSpec"].as_object_mut() {
            s.remove("shutdown");
        }
        if !params.is_null() {
            status["storedWorkflowTemplateSpec"]["arguments"]["parameters"] = params;
        }
    }
    // Conditions.UpsertCondition(Completed=False).
    let mut conditions: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    conditions.retain(|c| c["type"] != "Completed");
    conditions.push(json!({"type": "Completed", "status": "False"}));
    status["conditions"] = Value::Array(conditions);
    if compressed {
        // hydrator.Dehydrate: written back as it was stored.
        status["compressedNodes"] = json!(
            crate::node_status::encode(&new)
                .map_err(|e| Error::Failed(format!("compressing the nodes: {e}")))?
        );
    } else {
        status["nodes"] = Value::Object(new);
    }
    Ok(out)
}

/// `get`'s tree of the workflow as it is, the nodes the retry changes marked in MESSAGE.
fn marked_tree(wf: &DynamicObject, nodes: &Map<String, Value>, sel: &Selection) -> String {
    let mut marked = nodes.clone();
    for (id, n) in marked.iter_mut() {
        if sel.remove.contains(id) || sel.exit_handler.contains(id) {
            n["message"] = json!("<- runs again (node removed)");
        } else if sel.reset.contains(id) {
            n["message"] = json!("<- back to Running");
        }
    }
    let mut value = serde_json::to_value(wf).unwrap_or(Value::Null);
    if let Some(st) = value["status"].as_object_mut() {
        st.remove("compressedNodes");
    }
    value["status"]["nodes"] = Value::Object(marked);
    let opts = crate::tree::Options {
        wide: false,
        template: false,
        utf8: true,
        now: jiff::Timestamp::now(),
    };
    crate::tree::table(&value, &opts).unwrap_or_default()
}

pub fn render(plan: &Plan) -> String {
    let mut out = format!(
        "Retry workflow {} ({}): {} back to Running, {} run again\n",
        plan.workflow,
        plan.phase,
        workflow::count(plan.reset.len(), "node"),
        workflow::count(plan.removed.len(), "node"),
    );
    if !plan.tree.is_empty() {
        out.push('\n');
        out.push_str(&plan.tree);
        out.push('\n');
    }
    for n in &plan.removed {
        out.push_str(&format!(
            "  run again:  {} ({} {})\n",
            n.name, n.kind, n.phase
        ));
    }
    for n in &plan.reset {
        out.push_str(&format!(
            "  to Running: {} ({} {})\n",
            n.name, n.kind, n.phase
        ));
    }
    for p in &plan.pods {
        match &p.uid {
            Some(_) => out.push_str(&format!("  delete pod: {}\n", p.name)),
            None => out.push_str(&format!("  pod {} is already gone\n", p.name)),
        }
    }
    for c in &plan.parameters {
        out.push_str(&format!("  parameter {}: {} -> {}\n", c.name, c.from, c.to));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Execution.

pub async fn run(
    global: &GlobalArgs,
    keys: &crate::labels::LabelKeys,
    args: &RetryArgs,
) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, keys, &args.workflow).await?;
    let pods_api: Api<Pod> = Api::namespaced(target.client.clone(), &target.namespace);
    let name = wf.name_any();
    let listed = pods_api
        .list_metadata(&ListParams::default().labels(&format!("{WORKFLOW_LABEL}={name}")))
        .await
        .map_err(|e| target.api_error(e))?;
    let pods: BTreeMap<String, String> = listed
        .items
        .iter()
        .filter_map(|p| Some((p.name_any(), p.metadata.uid.clone()?)))
        .collect();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let plan = plan(&wf, &pods, &Request::from(args), &now)?;
    let format = OutputFormat::from(args.output);
    shared::change::show_plan(&target, format, &plan, render)?;
    let pod_permission = |verb, why| {
        shared::doctor::Permission::new(verb, "", "pods", shared::doctor::Scope::Namespace, why)
    };
    let needs = [
        workflow::permission("update", "reset the workflow's nodes"),
        pod_permission("delete", "delete the pods of the steps that run again"),
        pod_permission("get", "wait until the deleted pods are gone"),
    ];
    let question = format!("Retry {}?", plan.workflow);
    let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
    let flags = format!("{}{}", keys.given_flags(), target.scope_flags());
    let word = shared::shell::word(&plan.workflow);
    let approved = Gate::new(&target, &args.change, &doctor)
        .preflight(&plan.namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the retry may be half done: `kubectl argodeploy get {word}{flags}` shows the workflow; if it is still {}, run the retry again",
            plan.phase
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let deadline = Instant::now() + args.change.timeout;
    execute(&target, &api, &pods_api, &plan, deadline).await?;
    let done = format!("workflow {} retried\n", plan.workflow);
    if format.is_machine() {
        eprint!("{done}");
    } else {
        output::print_stdout(&done);
    }
    if !args.wait {
        eprintln!("next: `kubectl argodeploy logs {word} -f{flags}` follows it to the end");
        return Ok(());
    }
    let hints = crate::resubmit::Hints {
        name: &plan.workflow,
        flags: flags.clone(),
    };
    let phase = crate::resubmit::wait_until_completed(&api, &hints, args.change.timeout).await?;
    let line = format!("{} {phase}\n", plan.workflow);
    if format.is_machine() {
        eprint!("{line}");
    } else {
        output::print_stdout(&line);
    }
    if phase != "Succeeded" {
        return Err(Error::Failed(format!(
            "{} ended {phase}: `kubectl argodeploy logs {word}{flags}` shows why",
            plan.workflow
        )));
    }
    Ok(())
}

fn changed_since_plan(plan: &Plan, now: &str) -> Error {
    Error::Failed(format!(
        "workflow {} changed since the plan (resourceVersion {} is now {now}): nothing was changed; run the retry again to see the new plan",
        plan.workflow, plan.resource_version
    ))
}

/// Reads the workflow again (refusing if it changed), deletes the pods of the nodes that run
/// again and waits until they are gone, then writes the workflow with the plan's
/// resourceVersion (409 if it changed meanwhile). The pods go first, as argo's RetryWorkflow
/// (server/workflow/workflow_server.go) does: pod names are a hash of the node name, so a
/// controller seeing the retried workflow before the old pod is gone would take the old
/// failed pod for the new one.
async fn execute(
    target: &shared::Target,
    api: &Api<DynamicObject>,
    pods_api: &Api<Pod>,
    plan: &Plan,
    deadline: Instant,
) -> shared::Result<()> {
    let current = api
        .get(&plan.workflow)
        .await
        .map_err(|e| target.api_error(e))?;
    let rv = current.resource_version().unwrap_or_default();
    if rv != plan.resource_version {
        return Err(changed_since_plan(plan, &rv));
    }
    let mut deleted = Vec::new();
    for pod in &plan.pods {
        let Some(uid) = &pod.uid else { continue };
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        match pods_api.delete(&pod.name, &dp).await {
            Ok(_) => deleted.push((pod.name.clone(), uid.clone())),
            // Gone already, or another pod now holds the name: not ours to delete.
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
            Err(e) => return Err(target.api_error(e)),
        }
    }
    for (pod, uid) in &deleted {
        loop {
            match pods_api.get_metadata_opt(pod).await {
                Ok(None) => break,
                Ok(Some(p)) if p.metadata.uid.as_deref() != Some(uid.as_str()) => break,
                Ok(Some(_)) => {}
                Err(e) => return Err(target.api_error(e)),
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "pod {pod} is still terminating; the workflow was not changed: run the retry again once it is gone"
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let object: DynamicObject = serde_json::from_value(plan.updated.clone())
        .map_err(|e| Error::Failed(format!("the retried workflow is invalid: {e}")))?;
    let conflict = |e: kube::Error| match e {
        kube::Error::Api(s) if s.code == 409 => {
            let pods: Vec<&str> = deleted.iter().map(|(p, _)| p.as_str()).collect();
            Error::Failed(format!(
                "workflow {} changed since the plan (409 Conflict): it was not retried{}; run the retry again",
                plan.workflow,
                if pods.is_empty() {
                    String::new()
                } else {
                    format!(" (pods {} were deleted)", pods.join(", "))
                }
            ))
        }
        e => target.api_error(e),
    };
    // One update writes spec, labels and status: Argo's CRD has no status subresource
    // (manifests/base/crds/minimal/argoproj.io_workflows.yaml).
    api.replace(&plan.workflow, &PostParams::default(), &object)
        .await
        .map_err(conflict)?;
    Ok(())
}

#[cfg(test)]
mod tests;
