//! `kubectl argodeploy delete`: argo delete (cmd/argo/commands/delete.go) through the
//! Kubernetes API. Workflows by name, or by `list`'s filters (`--completed`, `--older` on
//! finishedAt as argo's, `--status`, `--username`, `--instance`, `-l`, `--prefix`, `--all`);
//! never a bare `delete`. A running workflow is kept unless `--force`: by name the command
//! refuses, by filter it is listed as skipped. Each deletion carries the workflow's uid as a
//! precondition (a new workflow of the same name is not deleted) and propagationPolicy
//! Background, so the garbage collector deletes its pods (they are owned by the workflow).

use std::time::Duration;

use clap::Args;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Preconditions, PropagationPolicy};
use serde::Serialize;
use shared::change::Gate;
use shared::output::{self, OutputFormat, PlanFormat, Table};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::list::{self, ListArgs, ReadError};
use crate::workflow::{self, WORKFLOW_LABEL};

/// Above this many workflows the operator types their number instead of `y`.
pub const TYPED_ABOVE: usize = 10;

#[derive(Args, Debug, Clone)]
pub struct DeleteArgs {
    /// Workflows to delete by name (or @latest); without names, a filter selects them
    #[arg(value_parser = crate::workflow::name_arg, conflicts_with_all = ["all", "completed", "older", "status", "deployer", "instance", "selector", "prefix"])]
    pub workflows: Vec<String>,
    /// Every workflow of the namespace (running ones only with --force)
    #[arg(long)]
    pub all: bool,
    /// Only finished workflows
    #[arg(long)]
    pub completed: bool,
    /// Only workflows that finished longer ago than this (30m, 2h, 7d), as argo delete --older
    #[arg(long, value_name = "DURATION", value_parser = shared::duration::parse)]
    pub older: Option<Duration>,
    /// Only these phases (comma-separated: Running,Succeeded,Failed,Error,Pending)
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only the workflows this user deployed
    #[arg(long = "username", value_name = "USER", value_parser = shared::validate::label_value)]
    pub deployer: Option<String>,
    /// Only this instance's workflows
    #[arg(long, value_parser = shared::validate::label_value)]
    pub instance: Option<String>,
    /// Extra label selector
    #[arg(short = 'l', long, value_parser = shared::validate::selector)]
    pub selector: Option<String>,
    /// Only names starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Delete running (unfinished) workflows too: their pods are killed
    #[arg(long)]
    pub force: bool,
    /// Output format of the plan (json and yaml on stdout, for scripts)
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

impl DeleteArgs {
    fn has_filter(&self) -> bool {
        self.all
            || self.completed
            || self.older.is_some()
            || !self.status.is_empty()
            || self.deployer.is_some()
            || self.instance.is_some()
            || self.selector.is_some()
            || self.prefix.is_some()
    }

    /// The filters as `list`'s query (its selector and client-side filters are reused).
    fn query(&self) -> ListArgs {
        ListArgs {
            deployer: self.deployer.clone(),
            instance: self.instance.clone(),
            status: self.status.clone(),
            completed: self.completed,
            older: self.older,
            selector: self.selector.clone(),
            prefix: self.prefix.clone(),
            chunk_size: 500,
            ..Default::default()
        }
    }
}

/// One workflow of the plan.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub name: String,
    pub uid: String,
    pub phase: String,
    pub age: String,
    pub user: String,
    pub instance: String,
    /// Its pods, deleted with it by the garbage collector.
    pub pods: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    #[serde(flatten)]
    pub item: Item,
    pub reason: String,
}

/// What `delete` will do (pure data): the same in the table, the prompt and `-o json|yaml`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub namespace: String,
    pub delete: Vec<Item>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    pub fn pods(&self) -> usize {
        self.delete.iter().map(|i| i.pods).sum()
    }
}

/// `3 workflows and their 8 pods`, `1 workflow and its 2 pods` (pure).
pub fn and_pods(workflows: usize, pods: usize) -> String {
    let whose = if workflows == 1 { "its" } else { "their" };
    format!(
        "{} and {whose} {}",
        workflow::count(workflows, "workflow"),
        workflow::count(pods, "pod")
    )
}

const RUNNING_REASON: &str = "still running: --force deletes it (its pods are killed)";

fn item(wf: &DynamicObject, keys: &LabelKeys, pods: &[Pod], now: Timestamp) -> Item {
    let name = wf.name_any();
    let label = |k: &str| wf.labels().get(k).cloned().unwrap_or_default();
    Item {
        pods: pods
            .iter()
            .filter(|p| p.labels().get(WORKFLOW_LABEL) == Some(&name))
            .count(),
        uid: wf.uid().unwrap_or_default(),
        phase: workflow::phase(wf),
        age: shared::duration::age(workflow::created(wf), now),
        user: label(&keys.user_label),
        instance: label(&keys.instance_label),
        name,
    }
}

/// The plan for `workflows` (pure): running ones are skipped unless `force`.
pub fn plan(
    namespace: &str,
    workflows: &[DynamicObject],
    keys: &LabelKeys,
    pods: &[Pod],
    force: bool,
    now: Timestamp,
) -> Plan {
    let mut out = Plan {
        namespace: namespace.to_string(),
        delete: Vec::new(),
        skipped: Vec::new(),
    };
    for wf in workflows {
        let it = item(wf, keys, pods, now);
        if force || workflow::is_completed(wf) {
            out.delete.push(it);
        } else {
            out.skipped.push(Skipped {
                item: it,
                reason: RUNNING_REASON.to_string(),
            });
        }
    }
    out
}

/// By name, a running workflow without `--force` is refused whole (pure): nothing deleted.
pub fn refuse_running(plan: &Plan) -> shared::Result<()> {
    if plan.skipped.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = plan
        .skipped
        .iter()
        .map(|s| format!("{} ({})", s.item.name, s.item.phase))
        .collect();
    Err(Error::Failed(format!(
        "not deleting {}: still running; add --force to delete it anyway (its pods are killed), or `kubectl argodeploy stop` it first",
        names.join(", ")
    )))
}

/// The plan as the operator reads it (pure).
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.delete.is_empty() {
        out.push_str(&format!(
            "Delete {} in namespace {}:\n",
            and_pods(plan.delete.len(), plan.pods()),
            plan.namespace
        ));
        out.push_str(&table(plan.delete.iter().map(|i| (i, None))));
    }
    if !plan.skipped.is_empty() {
        out.push_str(&format!(
            "Skipped ({}):\n",
            workflow::count(plan.skipped.len(), "workflow")
        ));
        out.push_str(&table(
            plan.skipped
                .iter()
                .map(|s| (&s.item, Some(s.reason.as_str()))),
        ));
    }
    out
}

fn table<'a>(rows: impl Iterator<Item = (&'a Item, Option<&'a str>)>) -> String {
    let rows: Vec<_> = rows.collect();
    let reasons = rows.iter().any(|(_, r)| r.is_some());
    let mut headers = vec!["name", "status", "age", "pods", "user", "instance"];
    if reasons {
        headers.push("reason");
    }
    let mut t = Table::new(&headers);
    for (i, reason) in rows {
        let mut cells = vec![
            i.name.clone(),
            list::coloured_phase(&i.phase),
            i.age.clone(),
            i.pods.to_string(),
            i.user.clone(),
            i.instance.clone(),
        ];
        if let Some(r) = reason {
            cells.push(r.to_string());
        }
        t.row(cells);
    }
    t.render()
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect::<String>()
}

/// What happened to one deletion.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Deleted,
    /// Finalizers hold it: deletion pending.
    Pending(Vec<String>),
    AlreadyGone,
    Failed(String),
}

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &DeleteArgs) -> shared::Result<()> {
    if args.workflows.is_empty() && !args.has_filter() {
        return Err(Error::Usage(
            "delete needs workflow names or a filter: --completed, --older D, --status, --username, --instance, -l, --prefix or --all".to_string(),
        ));
    }
    let target = shared::kubeconfig::connect(global).await?;
    let now = Timestamp::now();
    let api = workflow::api(&target, false);
    let by_name = !args.workflows.is_empty();
    let workflows = if by_name {
        let mut found: Vec<DynamicObject> = Vec::new();
        for name in &args.workflows {
            let (_, wf) = workflow::get(&target, keys, name).await?;
            if !found.iter().any(|f| f.uid() == wf.uid()) {
                found.push(wf);
            }
        }
        found
    } else {
        match list::read(&api, &args.query(), keys, now).await {
            Ok(items) => items,
            Err(ReadError::Usage(e)) => return Err(e),
            Err(ReadError::Api(e)) => return Err(target.api_error(e)),
        }
    };
    if workflows.is_empty() {
        eprintln!("No workflows found in namespace {}.", target.namespace);
        return Ok(());
    }
    // The workflows' pods, counted in the plan (what is lost with them).
    let pods = Api::<Pod>::namespaced(target.client.clone(), &target.namespace)
        .list(&ListParams::default().labels(WORKFLOW_LABEL))
        .await
        .map_err(|e| target.api_error(e))?
        .items;
    let plan = plan(&target.namespace, &workflows, keys, &pods, args.force, now);
    if by_name {
        refuse_running(&plan)?;
    }
    let format = OutputFormat::from(args.output);
    shared::change::show_plan(&target, format, &plan, render)?;
    if plan.delete.is_empty() {
        eprintln!(
            "nothing to delete: every workflow selected is still running (--force deletes them)"
        );
        return Ok(());
    }
    let needs = [workflow::permission("delete", "delete the workflows")];
    let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
    let question = format!("Delete {}?", and_pods(plan.delete.len(), plan.pods()));
    let count = plan.delete.len().to_string();
    let what = format!("This deletes {}", and_pods(plan.delete.len(), plan.pods()));
    let gate = Gate::new(&target, &args.change, &doctor).preflight(&plan.namespace, &needs);
    let gate = if plan.delete.len() > TYPED_ABOVE {
        gate.confirm_typed(&what, "the number of workflows", &count)
    } else {
        gate.confirm(&question)
    };
    let approved = gate
        .on_interrupt(format!(
            "some workflows may have been deleted: `kubectl argodeploy list{}{}` shows those left; running the same command again is safe",
            keys.given_flags(),
            target.scope_flags()
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let mut failed = 0;
    let mut deleted = 0;
    for it in &plan.delete {
        let outcome = delete_one(&api, it).await;
        let line = match &outcome {
            Outcome::Deleted => {
                deleted += 1;
                format!("workflow.argoproj.io/{} deleted\n", it.name)
            }
            Outcome::Pending(finalizers) => {
                deleted += 1;
                format!(
                    "workflow.argoproj.io/{} deletion requested (waiting for finalizers {})\n",
                    it.name,
                    finalizers.join(", ")
                )
            }
            Outcome::AlreadyGone => format!("workflow.argoproj.io/{} already gone\n", it.name),
            Outcome::Failed(why) => {
                failed += 1;
                eprintln!("workflow {} not deleted: {why}", it.name);
                continue;
            }
        };
        // Results on stdout (`| tee` keeps them), unless it holds the JSON/YAML plan.
        if format.is_machine() {
            eprint!("{line}");
        } else {
            output::print_stdout(&line);
        }
    }
    eprintln!(
        "deleted {} (their pods go with them: the garbage collector deletes what a workflow owns)",
        workflow::count(deleted, "workflow")
    );
    if failed > 0 {
        return Err(Error::Failed(format!(
            "{} of {} not deleted (above); running the same command again retries them",
            workflow::count(failed, "workflow"),
            plan.delete.len()
        )));
    }
    Ok(())
}

/// The DeleteOptions of one workflow's deletion (pure): its uid, Background propagation.
pub fn delete_params(uid: &str) -> DeleteParams {
    DeleteParams {
        propagation_policy: Some(PropagationPolicy::Background),
        preconditions: Some(Preconditions {
            uid: Some(uid.to_string()).filter(|u| !u.is_empty()),
            resource_version: None,
        }),
        ..Default::default()
    }
}

/// Deletes one workflow: its uid as precondition, Background propagation (its pods go too).
async fn delete_one(api: &Api<DynamicObject>, it: &Item) -> Outcome {
    match api.delete(&it.name, &delete_params(&it.uid)).await {
        Ok(either) => match either.left() {
            // The object back, not a Status: finalizers hold it.
            Some(wf) if !wf.finalizers().is_empty() => Outcome::Pending(wf.finalizers().to_vec()),
            _ => Outcome::Deleted,
        },
        Err(kube::Error::Api(e)) if e.code == 404 => Outcome::AlreadyGone,
        Err(kube::Error::Api(e)) if e.code == 409 => Outcome::Failed(format!(
            "it was replaced by a new workflow of the same name (uid precondition): {}",
            e.message
        )),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> LabelKeys {
        LabelKeys {
            user_label: "username".into(),
            instance_label: "instance_uuid".into(),
            instanceid: None,
        }
    }

    fn wf(name: &str, phase: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": "atmosphere", "uid": format!("uid-{name}"),
                         "creationTimestamp": "2026-11-20T10:00:00Z",
                         "labels": {"username": "jdoe", "instance_uuid": "abc"}},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    fn pod(name: &str, wf: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {WORKFLOW_LABEL: wf}},
        }))
        .unwrap()
    }

    #[test]
    fn running_workflows_are_skipped_unless_forced_and_pods_counted() {
        let now: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let all = [wf("done", "Failed"), wf("busy", "Running")];
        let pods = [
            pod("done-1", "done"),
            pod("done-2", "done"),
            pod("busy-1", "busy"),
        ];
        let p = plan("atmosphere", &all, &keys(), &pods, false, now);
        assert_eq!(p.delete.len(), 1);
        assert_eq!(p.delete[0].name, "done");
        assert_eq!(p.delete[0].uid, "uid-done");
        assert_eq!(p.delete[0].pods, 2);
        assert_eq!(p.delete[0].age, "12d");
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.skipped[0].item.name, "busy");
        let text = render(&p);
        assert!(
            text.starts_with("Delete 1 workflow and its 2 pods in namespace atmosphere:\n"),
            "{text}"
        );
        assert!(text.contains("Skipped (1 workflow):"), "{text}");
        assert!(text.contains("still running: --force"), "{text}");
        let refused = refuse_running(&p).unwrap_err();
        assert_eq!(refused.exit_code(), 1);
        assert!(refused.to_string().contains("busy (Running)"), "{refused}");
        let forced = plan("atmosphere", &all, &keys(), &pods, true, now);
        assert_eq!(forced.delete.len(), 2);
        assert!(forced.skipped.is_empty());
        assert!(refuse_running(&forced).is_ok());
        assert_eq!(forced.pods(), 3);
    }

    #[test]
    fn each_deletion_carries_the_uid_and_background_propagation() {
        let body = serde_json::to_value(delete_params("uid-1")).unwrap();
        assert_eq!(body["preconditions"]["uid"], "uid-1");
        assert_eq!(body["propagationPolicy"], "Background");
    }

    #[test]
    fn the_json_plan_holds_what_the_table_shows() {
        let now: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let p = plan(
            "atmosphere",
            &[wf("busy", "Running")],
            &keys(),
            &[],
            false,
            now,
        );
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["delete"], json!([]));
        assert_eq!(v["skipped"][0]["name"], "busy");
        assert_eq!(v["skipped"][0]["user"], "jdoe");
        assert_eq!(v["skipped"][0]["reason"], RUNNING_REASON);
    }
}
