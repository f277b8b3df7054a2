//! `kubectl argodeploy suspend WF` / `resume WF`: argo-workflows `workflow/util/util.go`
//! `SuspendWorkflow` (set `spec.suspend: true`; "cannot suspend completed workflows"; already
//! suspended is nothing to do) and `ResumeWorkflow` (remove `spec.suspend`, and every active
//! suspend node — `NodeStatus.IsActiveSuspendNode`: type Suspend, phase Running — becomes
//! Succeeded with `finishedAt` now, its raw output parameters given their defaults
//! (`OverrideOutputParametersWithDefault`); with `--node-field-selector`, `updateSuspendedNode`:
//! only the matching suspend nodes, `spec.suspend` left alone). The node status is read and
//! written back as stored: `status.nodes`, or `status.compressedNodes` re-compressed (the
//! hydrator's Hydrate/Dehydrate), with the resourceVersion read as a precondition (argo's
//! Update; a conflict re-reads and tries again, as its retry.DefaultRetry).
//!
//! Where argo's resume succeeds silently with nothing to resume, this one refuses (exit 1,
//! nothing changed): a workflow neither suspended nor waiting at a suspend step. The message
//! of a resumed node is argo's `Resumed by: …` naming this command (argo names the
//! argo-server user; a kube-client argo writes an empty one).

use clap::Args;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::change::Gate;
use shared::output::{self, OutputFormat, PlanFormat};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::node_selector::NodeSelector;
use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct SuspendArgs {
    /// The workflow
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Output format of the plan (json and yaml on stdout, for scripts)
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The workflow
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Resume only the suspend steps this selects (argo's fields: displayName, templateName,
    /// phase, name, id, templateRef.name, templateRef.template, inputs.parameters.NAME.value;
    /// `=`, `==`, `!=`, comma-separated); spec.suspend is then left as it is
    #[arg(long, value_name = "SELECTOR", value_parser = NodeSelector::parse)]
    pub node_field_selector: Option<NodeSelector>,
    /// Output format of the plan (json and yaml on stdout, for scripts)
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// What `suspend` will do (pure data).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SuspendPlan {
    pub namespace: String,
    pub workflow: String,
    pub phase: String,
    /// The `spec.suspend` value to set.
    pub suspend: bool,
    pub effect: String,
}

/// `suspend`'s plan, nothing to do (already suspended: argo's no-op), or the refusal of a
/// completed workflow (pure).
pub fn plan_suspend(wf: &DynamicObject) -> shared::Result<Option<SuspendPlan>> {
    let name = wf.name_any();
    let phase = workflow::phase(wf);
    if workflow::is_completed(wf) {
        return Err(Error::Failed(format!(
            "workflow {name} already completed ({phase}): cannot suspend a completed workflow"
        )));
    }
    if suspended(wf) {
        return Ok(None);
    }
    Ok(Some(SuspendPlan {
        namespace: wf.namespace().unwrap_or_default(),
        workflow: name,
        phase,
        suspend: true,
        effect: "no new steps start; running steps finish; `resume` continues it".to_string(),
    }))
}

pub fn render_suspend(plan: &SuspendPlan) -> String {
    format!(
        "Suspend workflow {} ({}): spec.suspend: true; {}\n",
        plan.workflow, plan.phase, plan.effect
    )
}

fn suspended(wf: &DynamicObject) -> bool {
    wf.data["spec"]["suspend"].as_bool() == Some(true)
}

/// A suspend step `resume` marks Succeeded.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResumedNode {
    pub id: String,
    pub name: String,
    pub display_name: String,
    /// The node's message once resumed.
    pub message: String,
}

/// What `resume` will do (pure data).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResumePlan {
    pub namespace: String,
    pub workflow: String,
    pub phase: String,
    /// `spec.suspend` is removed.
    pub unsuspend: bool,
    /// The suspend steps marked Succeeded.
    pub nodes: Vec<ResumedNode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_field_selector: Option<String>,
    /// The node status is stored compressed (`status.compressedNodes`) and written back so.
    pub compressed: bool,
    /// The workflow's resourceVersion the change is made against.
    #[serde(skip)]
    resource_version: String,
    /// The whole node status after the change.
    #[serde(skip)]
    new_nodes: Map<String, Value>,
}

/// The message argo's ResumeWorkflow puts on a resumed node (`Resumed by: <user>`).
pub const RESUMED_BY: &str = "Resumed by: kubectl argodeploy";

/// `resume`'s plan as of `now`, or why there is nothing to resume (pure).
pub fn plan_resume(
    wf: &DynamicObject,
    selector: Option<&NodeSelector>,
    now: jiff::Timestamp,
) -> shared::Result<ResumePlan> {
    let name = wf.name_any();
    let phase = workflow::phase(wf);
    let mut nodes = workflow::nodes(wf).map_err(Error::Failed)?;
    let finished_at = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut resumed = Vec::new();
    let mut ids: Vec<String> = nodes.keys().cloned().collect();
    ids.sort();
    for id in ids {
        let Some(node) = nodes.get_mut(&id) else {
            continue;
        };
        if !(node["type"] == "Suspend" && node["phase"] == "Running") {
            continue;
        }
        if let Some(sel) = selector
            && !sel.matches(node)
        {
            continue;
        }
        let message = match selector {
            // updateSuspendedNode: the message replaced.
            Some(_) => RESUMED_BY.to_string(),
            None => {
                override_outputs_with_default(node).map_err(|e| {
                    Error::Failed(format!(
                        "cannot resume {name}: suspend step {}: {e}",
                        node["displayName"].as_str().unwrap_or(&id)
                    ))
                })?;
                match node["message"].as_str().filter(|m| !m.is_empty()) {
                    Some(m) => format!("{m}; {RESUMED_BY}"),
                    None => RESUMED_BY.to_string(),
                }
            }
        };
        node["phase"] = json!("Succeeded");
        node["finishedAt"] = json!(finished_at);
        node["message"] = json!(message);
        resumed.push(ResumedNode {
            id: id.clone(),
            name: node["name"].as_str().unwrap_or("").to_string(),
            display_name: node["displayName"].as_str().unwrap_or("").to_string(),
            message,
        });
    }
    let unsuspend = selector.is_none() && suspended(wf);
    if let Some(sel) = selector
        && resumed.is_empty()
    {
        return Err(Error::Failed(format!(
            "workflow {name} has no suspend step waiting that matches --node-field-selector {}: nothing to resume",
            sel.text
        )));
    }
    if !unsuspend && resumed.is_empty() {
        return Err(Error::Failed(format!(
            "workflow {name} ({phase}) is neither suspended nor waiting at a suspend step: nothing to resume"
        )));
    }
    Ok(ResumePlan {
        namespace: wf.namespace().unwrap_or_default(),
        workflow: name,
        phase,
        unsuspend,
        nodes: resumed,
        node_field_selector: selector.map(|s| s.text.clone()),
        compressed: is_compressed(wf),
        resource_version: wf.resource_version().unwrap_or_default(),
        new_nodes: nodes,
    })
}

/// OverrideOutputParametersWithDefault: a raw output parameter (`valueFrom.supplied`) takes its
/// `valueFrom.default`; one without a default cannot be resumed.
fn override_outputs_with_default(node: &mut Value) -> Result<(), String> {
    // Read through get_mut: indexing a Value mutably would add the missing keys.
    let Some(params) = node
        .get_mut("outputs")
        .and_then(|o| o.get_mut("parameters"))
        .and_then(Value::as_array_mut)
    else {
        return Ok(());
    };
    for p in params {
        let from = &p["valueFrom"];
        if from.is_null() || from["supplied"].is_null() {
            continue;
        }
        if from["default"].is_null() {
            return Err(format!(
                "raw output parameter '{}' has not been set and does not have a default value",
                p["name"].as_str().unwrap_or("")
            ));
        }
        let default = from["default"].clone();
        p["value"] = default;
        if let Some(obj) = p.as_object_mut() {
            obj.remove("valueFrom");
        }
    }
    Ok(())
}

fn is_compressed(wf: &DynamicObject) -> bool {
    let status = &wf.data["status"];
    status["nodes"].as_object().is_none_or(Map::is_empty)
        && status["compressedNodes"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
}

pub fn render_resume(plan: &ResumePlan) -> String {
    let mut out = format!("Resume workflow {} ({}):\n", plan.workflow, plan.phase);
    if plan.unsuspend {
        out.push_str("  spec.suspend: true → removed\n");
    }
    for n in &plan.nodes {
        out.push_str(&format!(
            "  suspend step {} ({}): Running → Succeeded\n",
            n.display_name, n.id
        ));
    }
    out
}

/// The merge patch of a resume: the resourceVersion precondition, `spec.suspend` removed, and
/// the resumed nodes (or the whole node status re-compressed) (pure).
pub fn resume_patch(plan: &ResumePlan) -> shared::Result<Value> {
    let mut patch = json!({"metadata": {"resourceVersion": plan.resource_version}});
    if plan.unsuspend {
        patch["spec"] = json!({"suspend": null});
    }
    if !plan.nodes.is_empty() {
        patch["status"] = status_patch(plan)?;
    }
    Ok(patch)
}

fn status_patch(plan: &ResumePlan) -> shared::Result<Value> {
    if plan.compressed {
        let text = crate::node_status::encode(&plan.new_nodes)
            .map_err(|e| Error::Failed(format!("cannot compress the node status: {e}")))?;
        return Ok(json!({"compressedNodes": text}));
    }
    let changed: Map<String, Value> = plan
        .nodes
        .iter()
        .filter_map(|n| Some((n.id.clone(), plan.new_nodes.get(&n.id)?.clone())))
        .collect();
    Ok(json!({"nodes": changed}))
}

pub async fn run_suspend(
    global: &GlobalArgs,
    keys: &LabelKeys,
    args: &SuspendArgs,
) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, keys, &args.workflow).await?;
    let Some(plan) = plan_suspend(&wf)? else {
        eprintln!(
            "workflow {} is already suspended: nothing to do (`kubectl argodeploy resume {}{}{}` continues it)",
            wf.name_any(),
            shared::shell::word(&wf.name_any()),
            keys.given_flags(),
            target.scope_flags()
        );
        return Ok(());
    };
    let format = OutputFormat::from(args.output);
    shared::change::show_plan(&target, format, &plan, render_suspend)?;
    let needs = [workflow::permission("patch", "set spec.suspend")];
    let question = format!("Suspend {}?", plan.workflow);
    let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
    let flags = format!("{}{}", keys.given_flags(), target.scope_flags());
    let approved = Gate::new(&target, &args.change, &doctor)
        .preflight(&plan.namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the suspend request may have been sent: `kubectl argodeploy get {}{flags}` shows it; running the same command again is safe",
            shared::shell::word(&plan.workflow),
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    api.patch(
        &plan.workflow,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"suspend": true}})),
    )
    .await
    .map_err(|e| target.api_error(e))?;
    result(format, &format!("workflow {} suspended\n", plan.workflow));
    eprintln!(
        "next: `kubectl argodeploy resume {}{flags}` continues it",
        shared::shell::word(&plan.workflow)
    );
    Ok(())
}

/// The result line on stdout (`| tee` keeps it), unless stdout holds the JSON/YAML plan.
fn result(format: OutputFormat, line: &str) {
    if format.is_machine() {
        eprint!("{line}");
    } else {
        output::print_stdout(line);
    }
}

/// How many times a resume re-reads the workflow after a conflict (argo's retry.DefaultRetry
/// makes 5 attempts).
const ATTEMPTS: usize = 5;

pub async fn run_resume(
    global: &GlobalArgs,
    keys: &LabelKeys,
    args: &ResumeArgs,
) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, keys, &args.workflow).await?;
    let selector = args.node_field_selector.as_ref();
    let mut plan = plan_resume(&wf, selector, jiff::Timestamp::now())?;
    let format = OutputFormat::from(args.output);
    shared::change::show_plan(&target, format, &plan, render_resume)?;
    let needs = [workflow::permission(
        "patch",
        "set spec.suspend and the suspend steps",
    )];
    let question = format!("Resume {}?", plan.workflow);
    let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
    let flags = format!("{}{}", keys.given_flags(), target.scope_flags());
    let approved = Gate::new(&target, &args.change, &doctor)
        .preflight(&plan.namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the resume request may have been sent: `kubectl argodeploy get {}{flags}` shows it",
            shared::shell::word(&plan.workflow),
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let mut attempt = 1;
    loop {
        let patch = resume_patch(&plan)?;
        match write_resume(&api, &plan, &patch).await {
            Ok(()) => break,
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < ATTEMPTS => {
                // Changed since it was read (the controller writes status): read it again.
                attempt += 1;
                let wf = api
                    .get(&plan.workflow)
                    .await
                    .map_err(|e| target.api_error(e))?;
                plan = plan_resume(&wf, selector, jiff::Timestamp::now())?;
            }
            Err(e) => return Err(target.api_error(e)),
        }
    }
    result(format, &format!("workflow {} resumed\n", plan.workflow));
    eprintln!(
        "next: `kubectl argodeploy watch {}{flags}` follows it",
        shared::shell::word(&plan.workflow)
    );
    Ok(())
}

/// The resume's one merge patch: spec and node status together (Argo's CRD has no status
/// subresource: manifests/base/crds/minimal/argoproj.io_workflows.yaml).
async fn write_resume(
    api: &Api<DynamicObject>,
    plan: &ResumePlan,
    patch: &Value,
) -> Result<(), kube::Error> {
    api.patch(
        &plan.workflow,
        &PatchParams::default(),
        &Patch::Merge(patch),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(phase: &str, suspend: Option<bool>, nodes: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "deploy-x", "namespace": "atmosphere", "resourceVersion": "42"},
            "spec": {"suspend": suspend},
            "status": {"phase": phase, "nodes": nodes},
        }))
        .unwrap()
    }

    fn waiting() -> Value {
        json!({
            "deploy-x": {"id": "deploy-x", "name": "deploy-x", "displayName": "deploy-x", "type": "Steps", "phase": "Running"},
            "deploy-x-1": {"id": "deploy-x-1", "name": "deploy-x[1].approve", "displayName": "approve", "type": "Suspend",
                           "phase": "Running", "templateName": "approve",
                           "inputs": {"parameters": [{"name": "env", "value": "prod"}]},
                           "outputs": {"parameters": [{"name": "ok", "valueFrom": {"supplied": {}, "default": "yes"}}]}},
            "deploy-x-2": {"id": "deploy-x-2", "name": "deploy-x[0].prepare", "displayName": "prepare", "type": "Pod", "phase": "Succeeded"},
        })
    }

    fn now() -> jiff::Timestamp {
        "2026-12-02T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn suspend_plans_a_running_workflow_refuses_a_completed_one_and_skips_a_suspended_one() {
        let plan = plan_suspend(&wf("Running", None, json!({})))
            .unwrap()
            .unwrap();
        assert_eq!(
            render_suspend(&plan),
            "Suspend workflow deploy-x (Running): spec.suspend: true; no new steps start; running steps finish; `resume` continues it\n"
        );
        assert_eq!(
            plan_suspend(&wf("Running", Some(true), json!({}))).unwrap(),
            None
        );
        let done = plan_suspend(&wf("Succeeded", None, json!({}))).unwrap_err();
        assert_eq!(done.exit_code(), 1);
        assert_eq!(
            done.to_string(),
            "workflow deploy-x already completed (Succeeded): cannot suspend a completed workflow"
        );
    }

    #[test]
    fn resume_clears_suspend_and_marks_running_suspend_nodes_succeeded() {
        let plan = plan_resume(&wf("Running", Some(true), waiting()), None, now()).unwrap();
        assert!(plan.unsuspend);
        assert_eq!(plan.nodes.len(), 1);
        assert_eq!(plan.nodes[0].display_name, "approve");
        assert_eq!(plan.nodes[0].message, RESUMED_BY);
        // A node without outputs gets none.
        let mut bare = waiting();
        bare["deploy-x-1"]
            .as_object_mut()
            .unwrap()
            .remove("outputs");
        let p = plan_resume(&wf("Running", None, bare), None, now()).unwrap();
        assert!(p.new_nodes["deploy-x-1"].get("outputs").is_none());
        assert_eq!(
            render_resume(&plan),
            "Resume workflow deploy-x (Running):\n  spec.suspend: true → removed\n  suspend step approve (deploy-x-1): Running → Succeeded\n"
        );
        let patch = resume_patch(&plan).unwrap();
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        assert_eq!(patch["spec"], json!({"suspend": null}));
        let node = &patch["status"]["nodes"]["deploy-x-1"];
        assert_eq!(node["phase"], "Succeeded");
        assert_eq!(node["finishedAt"], "2026-12-02T12:00:00Z");
        // The raw output parameter took its default.
        assert_eq!(
            node["outputs"]["parameters"][0],
            json!({"name": "ok", "value": "yes"})
        );
        // Only the resumed node is written.
        assert_eq!(patch["status"]["nodes"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn resume_refuses_when_there_is_nothing_to_resume() {
        let e = plan_resume(&wf("Running", None, json!({})), None, now()).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "workflow deploy-x (Running) is neither suspended nor waiting at a suspend step: nothing to resume"
        );
        // Suspended only: the spec alone.
        let plan = plan_resume(&wf("Running", Some(true), json!({})), None, now()).unwrap();
        assert!(plan.unsuspend && plan.nodes.is_empty());
        assert!(resume_patch(&plan).unwrap().get("status").is_none());
    }

    #[test]
    fn a_raw_output_without_default_cannot_be_resumed() {
        let mut nodes = waiting();
        nodes["deploy-x-1"]["outputs"]["parameters"][0]["valueFrom"] = json!({"supplied": {}});
        let e = plan_resume(&wf("Running", None, nodes), None, now()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot resume deploy-x: suspend step approve: raw output parameter 'ok' has not been set and does not have a default value"
        );
    }

    #[test]
    fn the_node_field_selector_picks_suspend_nodes_and_leaves_spec_suspend() {
        let sel =
            NodeSelector::parse("inputs.parameters.env.value=prod,displayName==approve").unwrap();
        let plan = plan_resume(&wf("Running", Some(true), waiting()), Some(&sel), now()).unwrap();
        assert!(!plan.unsuspend);
        assert_eq!(plan.nodes.len(), 1);
        let other = NodeSelector::parse("templateName!=approve").unwrap();
        let e =
            plan_resume(&wf("Running", Some(true), waiting()), Some(&other), now()).unwrap_err();
        assert!(
            e.to_string()
                .contains("no suspend step waiting that matches"),
            "{e}"
        );
        assert!(NodeSelector::parse("displayName").is_err());
        assert!(NodeSelector::parse("=x").is_err());
        assert!(NodeSelector::parse(" , ").is_err());
        assert!(
            NodeSelector::parse(r"name=a\,b")
                .unwrap()
                .matches(&json!({"name": "a,b"}))
        );
    }

    #[test]
    fn compressed_node_status_is_written_back_compressed() {
        let nodes = waiting();
        let text = crate::node_status::encode(nodes.as_object().unwrap()).unwrap();
        let wf: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "deploy-x", "namespace": "atmosphere", "resourceVersion": "7"},
            "spec": {},
            "status": {"phase": "Running", "compressedNodes": text},
        }))
        .unwrap();
        let plan = plan_resume(&wf, None, now()).unwrap();
        assert!(plan.compressed);
        let patch = resume_patch(&plan).unwrap();
        assert!(patch["status"].get("nodes").is_none());
        let back = crate::node_status::decode(
            &json!({"metadata": {"name": "deploy-x"}, "status": patch["status"]}),
        )
        .unwrap();
        assert_eq!(back["deploy-x-1"]["phase"], "Succeeded");
        assert_eq!(back["deploy-x-2"]["phase"], "Succeeded");
        assert_eq!(back.len(), 3);
    }
}
