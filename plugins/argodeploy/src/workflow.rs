//! Reading Argo Workflows through the Kubernetes API (no argo-server): the resource, and what
//! the commands need from one (phase, times, parameters, labels).

use futures::{StreamExt, future};
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Map, Value};
use shared::doctor::{Permission, Scope};

pub const PHASE_LABEL: &str = "workflows.argoproj.io/phase";
pub const COMPLETED_LABEL: &str = "workflows.argoproj.io/completed";
pub const INSTANCE_ID_LABEL: &str = "workflows.argoproj.io/controller-instanceid";
pub const WORKFLOW_LABEL: &str = "workflows.argoproj.io/workflow";
pub const RESUBMITTED_FROM: &str = "workflows.argoproj.io/resubmitted-from-workflow";

pub fn resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow"),
        "workflows",
    )
}

/// `verb` on workflows in the namespace: for doctor's list and for a change's preflight.
pub const fn permission(verb: &'static str, why: &'static str) -> Permission {
    Permission::new(verb, "argoproj.io", "workflows", Scope::Namespace, why)
}

pub fn phase(wf: &DynamicObject) -> String {
    wf.data["status"]["phase"]
        .as_str()
        .map(String::from)
        .or_else(|| wf.labels().get(PHASE_LABEL).cloned())
        .unwrap_or_else(|| "Pending".into())
}

pub fn is_completed(wf: &DynamicObject) -> bool {
    wf.labels().get(COMPLETED_LABEL).map(String::as_str) == Some("true")
        || matches!(phase(wf).as_str(), "Succeeded" | "Failed" | "Error")
}

/// The named workflow once it has completed, by watching it; a failed watch request is
/// retried after a backoff. `None` only if the watch ended, which a watcher does not.
pub async fn completion(api: &Api<DynamicObject>, name: &str) -> Option<DynamicObject> {
    completion_seen(api, name, |_| {}).await
}

/// As [`completion`], showing `seen` every version of the workflow on the way (progress).
pub async fn completion_seen(
    api: &Api<DynamicObject>,
    name: &str,
    mut seen: impl FnMut(&DynamicObject),
) -> Option<DynamicObject> {
    let fields = format!("metadata.name={name}");
    let completed = watcher(api.clone(), watcher::Config::default().fields(&fields))
        .default_backoff()
        .applied_objects()
        .filter_map(|event| {
            future::ready(
                event
                    .inspect_err(|e| tracing::debug!("watching {name} failed, retrying: {e}"))
                    .ok(),
            )
        })
        .inspect(move |wf| seen(wf))
        .filter(|wf| future::ready(is_completed(wf)));
    std::pin::pin!(completed).next().await
}

/// `1 step`, `2 steps`: a count with its noun (pure).
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Where a workflow is (pure): its phase, the steps running now, how many are done —
/// `Running: step deploy-playbook (1 step done)`.
pub fn progress(wf: &DynamicObject) -> String {
    let phase = phase(wf);
    let Ok(nodes) = nodes(wf) else {
        return phase;
    };
    let pods: Vec<&Value> = nodes.values().filter(|n| n["type"] == "Pod").collect();
    let mut running: Vec<(&str, &str)> = pods
        .iter()
        .filter(|n| matches!(n["phase"].as_str(), Some("Running" | "Pending")))
        .map(|n| {
            (
                n["startedAt"].as_str().unwrap_or(""),
                n["displayName"].as_str().unwrap_or(""),
            )
        })
        .collect();
    running.sort();
    let done = pods
        .iter()
        .filter(|n| matches!(n["phase"].as_str(), Some("Succeeded" | "Skipped")))
        .count();
    let mut out = phase;
    if !running.is_empty() {
        let names: Vec<&str> = running.iter().map(|(_, d)| *d).collect();
        let noun = if names.len() == 1 { "step" } else { "steps" };
        out.push_str(&format!(": {noun} {}", names.join(", ")));
    }
    out.push_str(&format!(" ({} done)", count(done, "step")));
    out
}

pub fn time(value: &Value) -> Option<Timestamp> {
    value.as_str().and_then(|s| s.parse().ok())
}

pub fn created(wf: &DynamicObject) -> Option<Timestamp> {
    wf.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

pub fn started(wf: &DynamicObject) -> Option<Timestamp> {
    time(&wf.data["status"]["startedAt"])
}

pub fn finished(wf: &DynamicObject) -> Option<Timestamp> {
    time(&wf.data["status"]["finishedAt"])
}

/// Run time: finished − started, or now − started while running.
pub fn duration(wf: &DynamicObject, now: Timestamp) -> Option<std::time::Duration> {
    let start = started(wf)?;
    let end = finished(wf).unwrap_or(now);
    end.duration_since(start).try_into().ok()
}

/// The node status map, from `status.nodes` or, when argo compressed it, from
/// `status.compressedNodes` (as `get` reads it: [`crate::node_status::decode`]). `Err` when it cannot
/// be read here (offloaded to the archive database, or corrupt), saying why.
pub fn nodes(wf: &DynamicObject) -> Result<Map<String, Value>, String> {
    let whole = serde_json::json!({
        "metadata": {"name": wf.name_any()},
        "status": wf.data["status"],
    });
    crate::node_status::decode(&whole)
}

pub fn message(wf: &DynamicObject) -> String {
    wf.data["status"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// `name=value` of spec.arguments.parameters.
pub fn parameters(wf: &DynamicObject) -> Vec<(String, String)> {
    wf.data["spec"]["arguments"]["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let value = match &p["value"] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (p["name"].as_str().unwrap_or("").to_string(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Argo's list order: unfinished first (newest created first), then finished by finishedAt,
/// newest first.
pub fn sort(items: &mut [DynamicObject]) {
    items.sort_by(|a, b| {
        let (fa, fb) = (finished(a), finished(b));
        match (fa, fb) {
            (None, None) => created(b).cmp(&created(a)),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(&x),
        }
    });
}

/// Argo's short durations: 45s, 3m, 2h, 4d.
pub fn short_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// The workflows of the target's namespace, or of every namespace.
pub fn api(target: &shared::Target, all_namespaces: bool) -> Api<DynamicObject> {
    if all_namespaces {
        Api::all_with(target.client.clone(), &resource())
    } else {
        Api::namespaced_with(target.client.clone(), &target.namespace, &resource())
    }
}

/// The name that stands for the newest workflow, as argo's (server/workflow/workflow_server.go
/// `latestAlias`, resolved by `getLatestWorkflow`).
pub const LATEST: &str = "@latest";

/// The newest of `workflows` by creationTimestamp (pure): argo's getLatestWorkflow keeps the
/// first of equal ones in list order (by name), as this does.
pub fn latest(workflows: &[DynamicObject]) -> Option<&DynamicObject> {
    let mut sorted: Vec<&DynamicObject> = workflows.iter().collect();
    sorted.sort_by_key(|w| w.name_any());
    let mut newest: Option<&DynamicObject> = None;
    for wf in sorted {
        if newest.is_none_or(|n| created(n) < created(wf)) {
            newest = Some(wf);
        }
    }
    newest
}

/// A workflow argument: a name, `@latest` (the namespace's newest workflow), or kubectl's
/// `workflow.argoproj.io/NAME` (what `-o name` prints, so `list -o name | xargs -n1 kubectl
/// argodeploy get` works).
pub fn name_arg(text: &str) -> Result<String, String> {
    let name = [
        "workflow.argoproj.io/",
        "workflows.argoproj.io/",
        "workflow/",
        "wf/",
    ]
    .iter()
    .find_map(|p| text.strip_prefix(p))
    .unwrap_or(text);
    if name.is_empty() {
        return Err("a workflow name is needed".to_string());
    }
    Ok(name.to_string())
}

/// The named workflow of the target's namespace, or a one-line "not found" error with the
/// pasteable command that lists them (and close names, or the subcommand a typo meant).
pub async fn get(
    target: &shared::Target,
    keys: &crate::labels::LabelKeys,
    name: &str,
) -> shared::Result<(Api<DynamicObject>, DynamicObject)> {
    let api = api(target, false);
    if name == LATEST {
        let all = api
            .list(&kube::api::ListParams::default().labels(&keys.instance_selector()))
            .await
            .map_err(|e| target.api_error(e))?;
        let Some(wf) = latest(&all.items) else {
            return Err(shared::Error::Failed(format!(
                "no workflow in namespace {} for {LATEST} to name: `kubectl argodeploy list{}{}` shows where they are",
                target.namespace,
                keys.given_flags(),
                target.scope_flags()
            )));
        };
        // The operator sees which workflow the alias meant before anything is done with it.
        eprintln!(
            "{LATEST} is workflow {} (created {})",
            wf.name_any(),
            created(wf).map_or_else(|| "at an unknown time".to_string(), |t| t.to_string())
        );
        let wf = wf.clone();
        return Ok((api, wf));
    }
    match api.get_opt(name).await.map_err(|e| target.api_error(e))? {
        Some(wf) => Ok((api, wf)),
        None => {
            // Best effort: without the names the error still says where to look.
            let names: Vec<String> = api
                .list_metadata(&kube::api::ListParams::default())
                .await
                .map(|l| l.items.iter().map(|m| m.name_any()).collect())
                .unwrap_or_default();
            Err(shared::Error::Failed(not_found(target, keys, name, &names)))
        }
    }
}

/// The "not found" line (pure): a typo of a subcommand points at that subcommand, else close
/// workflow names, then the command that lists them all.
pub fn not_found(
    target: &shared::kubeconfig::Resolved,
    keys: &crate::labels::LabelKeys,
    name: &str,
    names: &[String],
) -> String {
    let list = format!(
        "kubectl argodeploy list{}{}",
        keys.given_flags(),
        target.scope_flags()
    );
    let head = format!(
        "workflow {name:?} not found in namespace {}",
        target.namespace
    );
    if let Some(sub) = shared::suggest::subcommand::<crate::Cli>(name).map(|m| m.name) {
        let command = if sub == "list" {
            list
        } else {
            format!("kubectl argodeploy {sub} --help")
        };
        return format!("{head}: did you mean `{command}`?");
    }
    let close = shared::suggest::close_names(name, names);
    if close.is_empty() {
        format!("{head}: `{list}` shows them")
    } else {
        format!(
            "{head} (did you mean {}?): `{list}` shows them",
            close.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(status: Value) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "deploy-x", "namespace": "atmosphere"},
            "status": status,
        }))
        .unwrap()
    }

    fn pod(step: &str, phase: &str, started: &str) -> Value {
        serde_json::json!({"name": format!("deploy-x[0].{step}"), "displayName": step,
            "type": "Pod", "phase": phase, "startedAt": started})
    }

    #[test]
    fn progress_names_the_phase_the_running_steps_and_what_is_done() {
        assert_eq!(progress(&wf(Value::Null)), "Pending (0 steps done)");
        let running = wf(serde_json::json!({"phase": "Running", "nodes": {
            "deploy-x": {"name": "deploy-x", "displayName": "deploy-x", "type": "Steps", "phase": "Running"},
            "a": pod("prepare", "Succeeded", "2026-11-20T08:00:00Z"),
            "b": pod("deploy-playbook", "Running", "2026-11-20T08:01:00Z"),
        }}));
        assert_eq!(
            progress(&running),
            "Running: step deploy-playbook (1 step done)"
        );
        let two = wf(serde_json::json!({"phase": "Running", "nodes": {
            "a": pod("verify", "Running", "2026-11-20T08:02:00Z"),
            "b": pod("deploy-playbook", "Pending", "2026-11-20T08:01:00Z"),
            "c": pod("prepare", "Succeeded", "2026-11-20T08:00:00Z"),
            "d": pod("lint", "Skipped", "2026-11-20T08:00:00Z"),
        }}));
        assert_eq!(
            progress(&two),
            "Running: steps deploy-playbook, verify (2 steps done)"
        );
    }

    #[test]
    fn counts_say_one_or_many_without_brackets() {
        assert_eq!(count(0, "step"), "0 steps");
        assert_eq!(count(1, "line"), "1 line");
        assert_eq!(count(9, "line"), "9 lines");
    }

    #[test]
    fn workflow_arguments_take_what_dash_o_name_prints() {
        assert_eq!(name_arg("deploy-x").unwrap(), "deploy-x");
        assert_eq!(
            name_arg("workflow.argoproj.io/deploy-x").unwrap(),
            "deploy-x"
        );
        assert_eq!(
            name_arg("workflows.argoproj.io/deploy-x").unwrap(),
            "deploy-x"
        );
        assert_eq!(name_arg("wf/deploy-x").unwrap(), "deploy-x");
        assert!(name_arg("workflow/").is_err());
        assert_eq!(name_arg("@latest").unwrap(), LATEST);
    }

    #[test]
    fn latest_is_the_newest_created_and_the_first_by_name_of_equal_ones() {
        let at = |name: &str, created: &str| -> DynamicObject {
            serde_json::from_value(serde_json::json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                "metadata": {"name": name, "namespace": "atmosphere", "creationTimestamp": created},
            }))
            .unwrap()
        };
        assert!(latest(&[]).is_none());
        let all = [
            at("b-old", "2026-11-20T10:00:00Z"),
            at("c-new", "2026-11-23T09:03:00Z"),
            at("a-new", "2026-11-23T09:03:00Z"),
            at("d-mid", "2026-11-21T08:49:00Z"),
        ];
        assert_eq!(latest(&all).unwrap().name_any(), "a-new");
        assert_eq!(latest(&all[..1]).unwrap().name_any(), "b-old");
        assert_eq!(
            latest(&[all[0].clone(), all[3].clone()])
                .unwrap()
                .name_any(),
            "d-mid"
        );
    }
}
