//! `kubectl argodeploy resubmit WF`: argo's FormulateResubmitWorkflow (workflow/util/util.go) —
//! generateName (the new name within 63 characters, as the API server's generateName makes
//! it), the spec carried over with shutdown cleared, argo's own `workflows.argoproj.io/*`
//! labels dropped but the controller instance id, `resubmitted-from-workflow` added,
//! parameters overridden with `-p`; `--memoized` (Failed/Error only) carries succeeded steps
//! over as Skipped, reading compressed node status as `get` does.

use std::time::{Duration, Instant};

use clap::Args;
use kube::ResourceExt;
use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::create::Created;
use shared::output::{self, OutputFormat, PlanFormat};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::pod_name::node_id;
use crate::workflow::{self, RESUBMITTED_FROM};

#[derive(Args, Debug, Clone)]
pub struct ResubmitArgs {
    /// The workflow to run again
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Override a parameter (repeatable)
    #[arg(short = 'p', long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// Re-run only the failed steps (Failed or Error workflows only)
    #[arg(long)]
    pub memoized: bool,
    /// Follow the new workflow until it completes
    #[arg(long)]
    pub wait: bool,
    /// Output format of the plan (json and yaml print the new workflow on stdout, for scripts;
    /// table prints its name there once created)
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// Argo's label domain: workflow/common `workflow.FullName + "/"`.
const ARGO_LABEL_PREFIX: &str = "workflows.argoproj.io/";

/// The one argo label a resubmission keeps ("skip any argoproj.io labels except for the
/// controller instanceID label", FormulateResubmitWorkflow), so the same controller runs it.
fn keeps_label(key: &str) -> bool {
    !key.starts_with(ARGO_LABEL_PREFIX) || key == workflow::INSTANCE_ID_LABEL
}

/// apiserver storage/names/generate.go: a generated name is the base cut to 58 characters
/// (`maxGeneratedNameLength` = 63 − 5) and five random ones, so it stays a valid label value
/// (argo puts the workflow name in its pods' `workflows.argoproj.io/workflow` label).
const MAX_GENERATED_BASE: usize = 58;

fn generated_name(base: &str, suffix: &str) -> String {
    let mut cut = base.len().min(MAX_GENERATED_BASE);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &base[..cut])
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut n = nanos ^ u128::from(std::process::id());
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u128) as usize] as char;
            n /= ALPHABET.len() as u128;
            c
        })
        .collect()
}

/// The workflow to create (pure, but for the memoized name's random suffix and timestamps).
pub fn formulate(
    wf: &DynamicObject,
    memoized: bool,
    parameters: &[String],
) -> shared::Result<Value> {
    let name = wf.name_any();
    let generate_name = wf
        .metadata
        .generate_name
        .clone()
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| format!("{name}-"));
    let phase = workflow::phase(wf);
    if memoized && !matches!(phase.as_str(), "Failed" | "Error") {
        return Err(Error::Failed(format!(
            "workflow {name} is {phase}: --memoized needs a Failed or Error workflow (resubmit without it to run everything again)"
        )));
    }
    let mut labels: Map<String, Value> = wf
        .labels()
        .iter()
        .filter(|(k, _)| keeps_label(k))
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    labels.insert(RESUBMITTED_FROM.into(), json!(name));
    let mut spec = wf.data["spec"].clone();
    if let Some(s) = spec.as_object_mut() {
        s.remove("shutdown");
        if s.get("activeDeadlineSeconds") == Some(&json!(0)) {
            s.remove("activeDeadlineSeconds");
        }
    }
    if !parameters.is_empty() {
        let mut passed: Vec<Value> = Vec::new();
        for p in parameters {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                Error::Usage(format!(
                    "expected parameter of the form NAME=VALUE, got {p:?}"
                ))
            })?;
            passed.push(json!({"name": k, "value": v}));
        }
        let existing = spec["arguments"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for p in existing {
            if !passed.iter().any(|q| q["name"] == p["name"]) {
                passed.push(p);
            }
        }
        spec["arguments"]["parameters"] = Value::Array(passed);
    }
    let mut metadata = json!({"labels": labels, "namespace": wf.namespace()});
    let annotations = wf.annotations();
    if !annotations.is_empty() {
        metadata["annotations"] = json!(annotations);
    }
    if let Some(owners) = &wf.metadata.owner_references {
        metadata["ownerReferences"] = json!(owners);
    }
    // The name is chosen here, as generateName would (five random characters), so that after
    // a lost response a GET tells whether the create happened: never two resubmissions.
    let new_name = generated_name(&generate_name, &random_suffix());
    metadata["name"] = json!(new_name);
    metadata["generateName"] = json!(generate_name);
    let mut out = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": metadata, "spec": spec});
    if memoized {
        // argo decompresses the old workflow's nodes first (packer.DecompressWorkflow).
        let nodes = workflow::nodes(wf).map_err(|reason| {
            Error::Failed(format!(
                "--memoized needs the node status of {name}: {reason}"
            ))
        })?;
        out["status"] = memoized_status(wf, &nodes, &name, &new_name);
    }
    Ok(out)
}

fn memoized_status(wf: &DynamicObject, nodes: &Map<String, Value>, old: &str, new: &str) -> Value {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let on_exit = format!("{old}.onExit");
    // argo's regexp "^" + old name: only a leading old name is replaced.
    let rename = |n: &str| match n.strip_prefix(old) {
        Some(rest) => format!("{new}{rest}"),
        None => n.to_string(),
    };
    let convert = |id: &str, nodes: &Map<String, Value>| -> String {
        nodes
            .get(id)
            .and_then(|n| n["name"].as_str())
            .map(|n| node_id(new, &rename(n)))
            .unwrap_or_else(|| rename(id))
    };
    let mut out = Map::new();
    for node in nodes.values() {
        let node_name = node["name"].as_str().unwrap_or("");
        if node_name.starts_with(&on_exit) {
            continue;
        }
        let failed_pod =
            node["type"] == "Pod" && matches!(node["phase"].as_str(), Some("Failed" | "Error"));
        if failed_pod {
            // Not carried over: it runs again.
            continue;
        }
        let mut n = node.clone();
        let new_node_name = rename(node_name);
        let original_id = node_id(old, node_name);
        n["name"] = json!(new_node_name);
        n["id"] = json!(node_id(new, &new_node_name));
        if let Some(b) = node["boundaryID"].as_str() {
            n["boundaryID"] = json!(convert(b, nodes));
        }
        for key in ["children", "outboundNodes"] {
            if let Some(ids) = node[key].as_array() {
                n[key] = json!(
                    ids.iter()
                        .filter_map(|c| c.as_str())
                        .map(|c| convert(c, nodes))
                        .collect::<Vec<_>>()
                );
            }
        }
        n["startedAt"] = json!(now);
        n["finishedAt"] = json!(now);
        if node["type"] == "Pod" {
            n["phase"] = json!("Skipped");
            n["type"] = json!("Skipped");
            n["message"] = json!(format!("original pod: {original_id}"));
        } else {
            n["phase"] = json!("Pending");
            n["message"] = json!("");
        }
        out.insert(n["id"].as_str().unwrap_or_default().to_string(), n);
    }
    json!({
        "nodes": out,
        "storedTemplates": wf.data["status"]["storedTemplates"],
        "conditions": [{"status": "False", "type": "Completed"}],
        "phase": "Unknown",
    })
}

/// What a resubmission will do (pure data): shown as a line, or with `-o json|yaml` as this
/// object, the new workflow whole (its name is chosen before the create).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub namespace: String,
    /// The workflow resubmitted.
    pub from: String,
    pub from_phase: String,
    /// The new workflow's name.
    pub name: String,
    pub memoized: bool,
    /// `NAME=VALUE` of the new workflow's parameters.
    pub parameters: Vec<String>,
    /// The object that will be created.
    pub workflow: Value,
}

/// The plan for resubmitting `wf` (pure, but for `formulate`'s random name).
pub fn plan(wf: &DynamicObject, memoized: bool, parameters: &[String]) -> shared::Result<Plan> {
    let new = formulate(wf, memoized, parameters)?;
    let parameters = new["spec"]["arguments"]["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    format!(
                        "{}={}",
                        p["name"].as_str().unwrap_or(""),
                        p["value"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Plan {
        namespace: wf.namespace().unwrap_or_default(),
        from: wf.name_any(),
        from_phase: workflow::phase(wf),
        name: new["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        memoized,
        parameters,
        workflow: new,
    })
}

/// The plan as the operator reads it: one line about the new workflow, then one line per
/// parameter (not all on one line, which outgrew any terminal).
pub fn render(plan: &Plan) -> String {
    let mut out = format!(
        "Resubmit {} ({}) as a new workflow {}\n",
        plan.from, plan.from_phase, plan.name
    );
    if plan.memoized {
        out.push_str("  memoized: succeeded steps are skipped, failed ones run again\n");
    }
    if plan.parameters.is_empty() {
        out.push_str("  no parameters\n");
    }
    for p in &plan.parameters {
        out.push_str(&format!("  parameter {p}\n"));
    }
    out
}

pub async fn run(
    global: &GlobalArgs,
    keys: &crate::labels::LabelKeys,
    args: &ResubmitArgs,
) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, keys, &args.workflow).await?;
    let plan = plan(&wf, args.memoized, &args.parameters)?;
    let format = OutputFormat::from(args.output);
    shared::change::show_plan(&target, format, &plan, render)?;
    let object: DynamicObject = serde_json::from_value(plan.workflow.clone())
        .map_err(|e| Error::Failed(format!("the new workflow is invalid: {e}")))?;
    let needs = [workflow::permission("create", "create the new workflow")];
    let question = format!("Resubmit {}?", plan.from);
    let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
    let approved = shared::change::Gate::new(&target, &args.change, &doctor)
        .preflight(&plan.namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the resubmission of {} may have been created: `kubectl argodeploy list --prefix {}{}{}` shows it",
            plan.from,
            shared::shell::word(&plan.name),
            keys.given_flags(),
            target.scope_flags()
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    // Exactly once through lost answers; a name taken before this run is not ours to use.
    let deadline = Instant::now() + args.change.timeout;
    let created = match shared::create::create_once(&target, &api, &object, deadline).await? {
        Created::Now(created) => created,
        Created::Before(existing) => {
            return Err(Error::Failed(format!(
                "a workflow named {} already exists: run the resubmit again (it picks another name)",
                existing.name_any()
            )));
        }
    };
    let name = created.name_any();
    // Results on stdout (`$(…)` and `| tee` keep them), unless it holds the JSON/YAML plan.
    let result = |line: String| {
        if format.is_machine() {
            eprint!("{line}");
        } else {
            output::print_stdout(&line);
        }
    };
    result(format!("{name}\n"));
    let hints = Hints {
        name: &name,
        flags: format!("{}{}", keys.given_flags(), target.scope_flags()),
    };
    if !args.wait {
        eprintln!(
            "next: `kubectl argodeploy logs {} -f{}` follows it to the end",
            shared::shell::word(&name),
            hints.flags
        );
    }
    if args.wait {
        let phase = wait_until_completed(&api, &hints, args.change.timeout).await?;
        result(format!("{name} {phase}\n"));
        if phase != "Succeeded" {
            return Err(Error::Failed(format!(
                "{name} ended {phase}: `kubectl argodeploy logs {}{}` shows why",
                shared::shell::word(&name),
                hints.flags
            )));
        }
    }
    Ok(())
}

/// The new workflow's name and the flags a printed command about it needs.
pub(crate) struct Hints<'a> {
    pub name: &'a str,
    pub flags: String,
}

/// Watches the workflow until it completes and returns its final phase, or times out after
/// `timeout`. On the way it shows the phase and the running step: the spinner's message on a
/// terminal, else a line on stderr each time they change.
pub(crate) async fn wait_until_completed(
    api: &kube::Api<DynamicObject>,
    hints: &Hints<'_>,
    timeout: Duration,
) -> shared::Result<String> {
    use std::io::IsTerminal;
    let name = hints.name;
    let bar = shared::wait::spinner(format!("waiting for {name} to complete"));
    let terminal = std::io::stderr().is_terminal();
    let mut last = String::new();
    let show = |wf: &DynamicObject| {
        let now = workflow::progress(wf);
        if now != last {
            if terminal {
                bar.set_message(format!("waiting for {name}: {now}"));
            } else {
                eprintln!("waiting for {name}: {now}");
            }
            last = now;
        }
    };
    let result = tokio::time::timeout(timeout, workflow::completion_seen(api, name, show)).await;
    bar.finish_and_clear();
    match result {
        Ok(Some(wf)) => Ok(workflow::phase(&wf)),
        // A watcher retries for ever; its stream does not end.
        Ok(None) => Err(Error::Failed(format!("the watch of {name} ended"))),
        Err(_) => Err(Error::Timeout(format!(
            "timed out waiting for {name}; `kubectl argodeploy get {}{}` shows where it is",
            shared::shell::word(name),
            hints.flags
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(phase: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "deploy-abc-x1", "generateName": "deploy-abc-", "namespace": "atmosphere",
                         "labels": {"instance_uuid": "abc", "username": "jdoe", "workflows.argoproj.io/phase": phase,
                                    "workflows.argoproj.io/completed": "true", "workflows.argoproj.io/creator": "u1"}},
            "spec": {"entrypoint": "deploy", "shutdown": "Stop",
                     "arguments": {"parameters": [{"name": "instance_uuid", "value": "abc"}, {"name": "playbook", "value": "deploy.yml"}]}},
            "status": {"phase": phase, "nodes": {
                "deploy-abc-x1": {"id": "deploy-abc-x1", "name": "deploy-abc-x1", "type": "Steps", "phase": phase, "children": [node_id("deploy-abc-x1", "deploy-abc-x1[0].prepare")]},
                node_id("deploy-abc-x1", "deploy-abc-x1[0].prepare"): {"id": node_id("deploy-abc-x1", "deploy-abc-x1[0].prepare"), "name": "deploy-abc-x1[0].prepare", "type": "Pod", "phase": "Succeeded", "boundaryID": "deploy-abc-x1"},
                node_id("deploy-abc-x1", "deploy-abc-x1[1].play"): {"id": node_id("deploy-abc-x1", "deploy-abc-x1[1].play"), "name": "deploy-abc-x1[1].play", "type": "Pod", "phase": "Failed", "boundaryID": "deploy-abc-x1"}
            }}
        }))
        .unwrap()
    }

    #[test]
    fn the_plan_puts_each_parameter_on_its_own_line() {
        let plan = plan(&wf("Failed"), false, &["playbook=redeploy.yml".into()]).unwrap();
        let text = render(&plan);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                "Resubmit deploy-abc-x1 (Failed) as a new workflow {}",
                plan.name
            )
        );
        assert_eq!(
            lines[1..],
            [
                "  parameter playbook=redeploy.yml",
                "  parameter instance_uuid=abc"
            ]
        );
    }

    #[test]
    fn a_resubmission_is_argos() {
        let new = formulate(&wf("Failed"), false, &["playbook=redeploy.yml".into()]).unwrap();
        assert_eq!(new["metadata"]["generateName"], "deploy-abc-");
        let name = new["metadata"]["name"].as_str().unwrap();
        assert!(
            name.starts_with("deploy-abc-") && name.len() == "deploy-abc-".len() + 5,
            "named here, as generateName would: {name}"
        );
        let labels = &new["metadata"]["labels"];
        assert_eq!(
            labels["workflows.argoproj.io/resubmitted-from-workflow"],
            "deploy-abc-x1"
        );
        assert_eq!(labels["instance_uuid"], "abc");
        assert!(
            labels["workflows.argoproj.io/phase"].is_null()
                && labels["workflows.argoproj.io/completed"].is_null()
        );
        assert!(labels["workflows.argoproj.io/creator"].is_null());
        assert!(new["spec"]["shutdown"].is_null());
        assert!(new["status"].is_null());
        assert_eq!(
            new["spec"]["arguments"]["parameters"],
            json!([{"name": "playbook", "value": "redeploy.yml"}, {"name": "instance_uuid", "value": "abc"}])
        );
    }

    #[test]
    fn names_stay_within_63_characters_and_only_the_instance_id_label_is_kept() {
        assert_eq!(generated_name("deploy-abc-", "x1y2z"), "deploy-abc-x1y2z");
        let long = format!("{}-", "a".repeat(70));
        let name = generated_name(&long, "x1y2z");
        assert_eq!(name, format!("{}x1y2z", "a".repeat(58)));
        let mut w = wf("Succeeded");
        w.metadata.generate_name = None;
        w.metadata.name = Some("d".repeat(63));
        let labels = w.metadata.labels.get_or_insert_default();
        labels.insert(workflow::INSTANCE_ID_LABEL.into(), "ci-east".into());
        labels.insert(
            "workflows.argoproj.io/workflow-template".into(),
            "tmpl".into(),
        );
        let new = formulate(&w, false, &[]).unwrap();
        assert_eq!(new["metadata"]["name"].as_str().unwrap().len(), 63);
        let labels = new["metadata"]["labels"].as_object().unwrap();
        let argo: Vec<&str> = labels
            .keys()
            .filter(|k| k.starts_with(ARGO_LABEL_PREFIX))
            .map(String::as_str)
            .collect();
        assert_eq!(argo, [workflow::INSTANCE_ID_LABEL, RESUBMITTED_FROM]);
    }

    #[test]
    fn memoized_needs_a_failure_and_keeps_succeeded_steps() {
        assert!(
            formulate(&wf("Succeeded"), true, &[])
                .unwrap_err()
                .to_string()
                .contains("--memoized needs a Failed or Error")
        );
        let new = formulate(&wf("Failed"), true, &[]).unwrap();
        let name = new["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("deploy-abc-") && name.len() == "deploy-abc-".len() + 5);
        let nodes = new["status"]["nodes"].as_object().unwrap();
        assert_eq!(nodes.len(), 2, "the failed step runs again: {nodes:?}");
        let prepare = &nodes[&node_id(name, &format!("{name}[0].prepare"))];
        assert_eq!(prepare["phase"], "Skipped");
        assert_eq!(prepare["boundaryID"], name);
        assert_eq!(
            nodes[name]["children"],
            json!([node_id(name, &format!("{name}[0].prepare"))])
        );
    }
}
