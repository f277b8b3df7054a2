//! `kubectl airflow restart COMPONENT|POD [RELEASE]`: plan, confirm, restart (rolling restart or
//! pod deletion; one pod is always deleted), then verify that every old pod is gone and the new
//! ones are Ready.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde::Serialize;
use shared::output::{OutputFormat, PlanFormat};
use shared::shell::word;
use shared::{ChangeArgs, Error, GlobalArgs, Target};

use crate::discovery::{self, AirflowDeployment, Inventory};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// A rolling restart, as `kubectl rollout restart` does
    Rollout,
    /// Delete the pods (the runbook's way); their controller recreates them
    Delete,
}

#[derive(Args, Debug, Clone)]
pub struct RestartArgs {
    /// Component to restart (scheduler, webserver, worker or workers, triggerer, …), `all`,
    /// or the name of one pod to restart alone
    pub component: String,
    /// The Airflow release (implicit when the namespace holds only one)
    pub release: Option<String>,
    /// Restart only this pod of the component: delete it so its controller recreates it; the
    /// component's other pods are left alone
    #[arg(long, value_name = "NAME")]
    pub pod: Option<String>,
    /// How to restart a component [default: rollout]; one pod is always deleted
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// Delete with grace period 0, killing running tasks (with --strategy delete, or for one pod)
    #[arg(long)]
    pub force: bool,
    /// Do not wait for the new pods to be Ready
    #[arg(long)]
    pub no_wait: bool,
    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// One workload to restart.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub component: String,
    pub kind: &'static str,
    pub workload: String,
    pub desired: i32,
    /// The pods that will be replaced: (name, uid).
    pub pods: Vec<(String, String)>,
    pub grace_seconds: i64,
    /// Ready pods the component must have again for the restart to be complete: all it
    /// desires, or for one pod the others Ready before plus the replacement.
    pub ready_needed: i32,
    /// How this workload is restarted: the requested strategy, or `delete` where its
    /// controller would not roll a template change.
    pub how: Strategy,
    /// Why `how` differs from the requested strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// Why a workload's controller would not act on the rolling restart's template change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRollout {
    /// `spec.paused` (deployment_controller.go: a paused Deployment only scales).
    Paused,
    /// `updateStrategy: OnDelete` (stateful_set_control.go: only deleted pods are replaced).
    OnDelete,
    /// `rollingUpdate.partition` > 0: the ordinals below it keep their revision.
    Partition(i32),
}

/// The workloads of `inventory` that would not roll a template change, by (kind, name).
pub fn no_rollout(inventory: &Inventory) -> BTreeMap<(&'static str, String), NoRollout> {
    let mut out = BTreeMap::new();
    for d in &inventory.deployments {
        if d.spec.as_ref().and_then(|s| s.paused) == Some(true) {
            out.insert(("Deployment", d.name_any()), NoRollout::Paused);
        }
    }
    for st in &inventory.statefulsets {
        let Some(strategy) = st.spec.as_ref().and_then(|s| s.update_strategy.as_ref()) else {
            continue;
        };
        let partition = strategy
            .rolling_update
            .as_ref()
            .and_then(|r| r.partition)
            .unwrap_or(0);
        if strategy.type_.as_deref() == Some("OnDelete") {
            out.insert(("StatefulSet", st.name_any()), NoRollout::OnDelete);
        } else if partition > 0 {
            out.insert(
                ("StatefulSet", st.name_any()),
                NoRollout::Partition(partition),
            );
        }
    }
    out
}

/// What `restart` will do (pure data: rendered for --dry-run, the prompt and -o json).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub namespace: String,
    pub release: String,
    /// The one pod restarted, when not the whole component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    pub strategy: Strategy,
    pub force: bool,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
}

/// What a restart is about: components (`all`, `workers`, one name), or one pod of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Component(String),
    Pod { component: String, pod: String },
}

/// Finds what `restart COMPONENT [RELEASE] [--pod NAME]` names, among the namespace's
/// deployments: a component of the selected release, or a pod (by its name, in whichever
/// release of the namespace has it). `given_flags` go into the hints of the errors.
pub fn subject<'a>(
    deployments: &'a [AirflowDeployment],
    namespace: &str,
    component: &str,
    release: Option<&str>,
    pod: Option<&str>,
    given_flags: &str,
) -> shared::Result<(&'a AirflowDeployment, Subject)> {
    if let Some(pod) = pod {
        let d = discovery::select(deployments, namespace, release, given_flags)?;
        let Some(c) = d.components.get(component) else {
            wanted_components(d, component)?;
            return Err(Error::Usage(format!(
                "--pod restarts one pod of one component, not of {component:?}"
            )));
        };
        if !c.pods.iter().any(|p| p.name == pod) {
            let names: Vec<&str> = c.pods.iter().map(|p| p.name.as_str()).collect();
            return Err(Error::Usage(format!(
                "{component} of {} has no pod {pod:?}: its pods are {}",
                d.release,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        let subject = Subject::Pod {
            component: component.to_string(),
            pod: pod.to_string(),
        };
        return Ok((d, subject));
    }
    let is_component = matches!(component, "all" | "workers")
        || deployments
            .iter()
            .any(|d| d.namespace == namespace && d.components.contains_key(component));
    if !is_component {
        let owner = deployments
            .iter()
            .filter(|d| d.namespace == namespace && release.is_none_or(|r| d.release == r))
            .find_map(|d| {
                d.components.iter().find_map(|(name, c)| {
                    c.pods
                        .iter()
                        .any(|p| p.name == component)
                        .then_some((d, name))
                })
            });
        if let Some((d, name)) = owner {
            let subject = Subject::Pod {
                component: name.clone(),
                pod: component.to_string(),
            };
            return Ok((d, subject));
        }
    }
    let d = discovery::select(deployments, namespace, release, given_flags)?;
    wanted_components(d, component)?;
    Ok((d, Subject::Component(component.to_string())))
}

/// Builds the plan, or says which components exist. `strategy` None is the default: a rolling
/// restart of a component, the deletion of one pod. `scope` is `-n NS` and the flags given,
/// for the commands the warnings name.
pub fn plan(
    d: &AirflowDeployment,
    subject: &Subject,
    strategy: Option<Strategy>,
    force: bool,
    blocked: &BTreeMap<(&'static str, String), NoRollout>,
    scope: &str,
) -> shared::Result<Plan> {
    let (mut steps, strategy, pod) = match subject {
        Subject::Component(component) => {
            let strategy = strategy.unwrap_or(Strategy::Rollout);
            let steps: Vec<Step> = wanted_components(d, component)?
                .into_iter()
                .map(|name| step(name, &d.components[name], strategy))
                .collect();
            (steps, strategy, None)
        }
        Subject::Pod { component, pod } => {
            if strategy == Some(Strategy::Rollout) {
                return Err(Error::Usage(format!(
                    "one pod is restarted by deleting it: drop --strategy rollout, or restart the whole {component} with `kubectl airflow restart {} {}{scope}`",
                    word(component),
                    word(&d.release)
                )));
            }
            let step = pod_step(d, component, pod)?;
            (vec![step], Strategy::Delete, Some(pod.clone()))
        }
    };
    if force && strategy != Strategy::Delete {
        return Err(Error::Usage(
            "--force goes with --strategy delete (or with one pod)".into(),
        ));
    }
    let mut warnings = Vec::new();
    for s in steps.iter_mut() {
        if let Some(block) = blocked.get(&(s.kind, s.workload.clone()))
            && let Some(warning) = hold(s, *block, strategy, scope)?
        {
            warnings.push(warning);
        }
    }
    warnings.extend(step_warnings(d, &steps, strategy));
    warnings.extend(unschedulable_warnings(d, &steps, scope));
    if force {
        warnings.push("--force deletes with grace period 0: running tasks are killed, and a StatefulSet pod may briefly run twice".into());
    }
    Ok(Plan {
        namespace: d.namespace.clone(),
        release: d.release.clone(),
        pod,
        strategy,
        force,
        steps,
        warnings,
    })
}

/// The components `component` names (`all`, `workers` or one name), or a usage error listing
/// the valid ones.
fn wanted_components<'a>(
    d: &'a AirflowDeployment,
    component: &str,
) -> shared::Result<Vec<&'a String>> {
    let wanted: Vec<&String> = match component {
        "all" => d.components.keys().collect(),
        "workers" => d.components.keys().filter(|c| *c == "worker").collect(),
        c => d.components.keys().filter(|k| *k == c).collect(),
    };
    if wanted.is_empty() {
        let valid: Vec<&str> = d.components.keys().map(String::as_str).collect();
        return Err(Error::Usage(format!(
            "unknown component {component:?} in {}: use one of {}, all, or a pod's name",
            d.release,
            valid.join(", ")
        )));
    }
    Ok(wanted)
}

fn step(name: &str, c: &discovery::Component, strategy: Strategy) -> Step {
    Step {
        how: strategy,
        why: None,
        component: name.to_string(),
        kind: c.kind,
        workload: c.workload.clone(),
        desired: c.desired,
        pods: c
            .pods
            .iter()
            .map(|p| (p.name.clone(), p.uid.clone()))
            .collect(),
        grace_seconds: c.grace_seconds,
        ready_needed: c.desired,
    }
}

/// The step that deletes one pod of `component`: complete when it is replaced and the
/// component has as many Ready pods as before plus the replacement.
fn pod_step(d: &AirflowDeployment, component: &str, pod: &str) -> shared::Result<Step> {
    let c = d
        .components
        .get(component)
        .ok_or_else(|| Error::Usage(format!("unknown component {component:?} in {}", d.release)))?;
    let Some(target) = c.pods.iter().find(|p| p.name == pod) else {
        return Err(Error::Usage(format!(
            "{component} of {} has no pod {pod:?}",
            d.release
        )));
    };
    let others_ready = c.pods.iter().filter(|p| p.ready && p.name != pod).count() as i32;
    Ok(Step {
        how: Strategy::Delete,
        why: None,
        component: component.to_string(),
        kind: c.kind,
        workload: c.workload.clone(),
        desired: c.desired,
        pods: vec![(target.name.clone(), target.uid.clone())],
        grace_seconds: c.grace_seconds,
        ready_needed: (others_ready + 1).min(c.desired.max(1)),
    })
}

/// Pods that are Pending because no node takes them: their replacements will likely wait the
/// same way, so the plan says so before anything is changed.
fn unschedulable_warnings(d: &AirflowDeployment, steps: &[Step], scope: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    for s in steps {
        let Some(c) = d.components.get(&s.component) else {
            continue;
        };
        // Only the pods this restart replaces: another unschedulable pod says nothing of them.
        let replaced = c
            .pods
            .iter()
            .filter(|p| s.pods.iter().any(|(name, _)| *name == p.name));
        for p in replaced {
            let Some(reason) = p
                .reason
                .as_deref()
                .filter(|r| r.starts_with("Unschedulable"))
            else {
                continue;
            };
            if p.status != "Pending" {
                continue;
            }
            warnings.push(format!(
                "{} ({}) is Pending ({reason}); its replacement will likely not be scheduled either: `kubectl airflow diagnose {}{scope}` says why",
                p.name,
                s.component,
                word(&d.release)
            ));
        }
    }
    warnings
}

/// Adapts a step to a workload whose controller would not roll a template change: a rollout
/// of a held StatefulSet becomes a deletion of its pods, a rollout of a paused Deployment is
/// refused (its fix carries `scope`: `-n` and the flags given). Returns the warning to show,
/// if any.
fn hold(
    s: &mut Step,
    block: NoRollout,
    strategy: Strategy,
    scope: &str,
) -> shared::Result<Option<String>> {
    let what = format!("{}/{}", s.kind.to_lowercase(), s.workload);
    match (block, strategy) {
        (NoRollout::Paused, Strategy::Rollout) => {
            return Err(Error::Refused(format!(
                "{what} is paused: a rolling restart would wait for a rollout that never comes; resume it with `kubectl rollout resume {what}{scope}` and rerun, or restart with --strategy delete"
            )));
        }
        (NoRollout::Paused, Strategy::Delete) => {
            return Ok(Some(format!(
                "{what} is paused: its new pods keep the template it last rolled out"
            )));
        }
        (NoRollout::OnDelete, Strategy::Rollout) => {
            s.how = Strategy::Delete;
            s.why = Some(format!(
                "{what} has updateStrategy OnDelete: a template change replaces no pod, so its pods are deleted and recreated instead"
            ));
        }
        (NoRollout::Partition(p), Strategy::Rollout) => {
            s.how = Strategy::Delete;
            s.why = Some(format!(
                "{what} has rollingUpdate partition {p}: a template change replaces no pod below ordinal {p}, so its pods are deleted and recreated instead"
            ));
        }
        (_, Strategy::Delete) => {}
    }
    Ok(None)
}

/// Warnings about the steps themselves: workers' grace periods, and StatefulSets whose rollout
/// would wait behind a pod that is not Ready.
fn step_warnings(d: &AirflowDeployment, steps: &[Step], strategy: Strategy) -> Vec<String> {
    let mut warnings = Vec::new();
    for s in steps.iter().filter(|s| s.component == "worker") {
        warnings.push(format!(
            "each worker may take up to {}s (terminationGracePeriodSeconds) to finish its running tasks before it stops",
            s.grace_seconds
        ));
    }
    if strategy != Strategy::Rollout {
        return warnings;
    }
    let rolled = steps
        .iter()
        .filter(|s| s.kind == "StatefulSet" && s.how == Strategy::Rollout);
    for s in rolled {
        let stuck: Vec<&str> = d.components[&s.component]
            .pods
            .iter()
            .filter(|p| !p.ready && p.status != "Terminating")
            .map(|p| p.name.as_str())
            .collect();
        if !stuck.is_empty() {
            warnings.push(format!(
                "{} is not Ready: a StatefulSet rolls only while all its pods are Ready, so this restart may wait until the timeout; --strategy delete replaces the pods at once",
                stuck.join(", ")
            ));
        }
    }
    warnings
}

/// The plan as text.
pub fn render(plan: &Plan) -> String {
    let how = match (plan.strategy, plan.force) {
        _ if plan.pod.is_some() => {
            if plan.force {
                "delete the pod at once (grace period 0); its controller recreates it"
            } else {
                "delete the pod; its controller recreates it, the other pods are left alone"
            }
        }
        (Strategy::Rollout, _) => {
            "rolling restart (pod-template annotation kubectl.kubernetes.io/restartedAt)"
        }
        (Strategy::Delete, false) => "delete the pods; their controller recreates them",
        (Strategy::Delete, true) => "delete the pods at once (grace period 0)",
    };
    let mut out = format!(
        "Restart in Airflow {} ({}): {how}\n",
        plan.release, plan.namespace
    );
    for s in &plan.steps {
        out.push_str(&format!(
            "  {} {}/{} ({}, up to {}s to stop each pod)\n",
            s.component,
            s.kind.to_lowercase(),
            s.workload,
            shared::plural::count(s.desired, "replica"),
            s.grace_seconds
        ));
        if let Some(why) = &s.why {
            out.push_str(&format!("    {why}\n"));
        }
        for (pod, _) in &s.pods {
            out.push_str(&format!("    replaces pod {pod}\n"));
        }
    }
    for w in &plan.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// The writes the restart will make, checked before the first one.
pub fn needed_permissions(plan: &Plan) -> Vec<shared::doctor::Permission> {
    use shared::doctor::{Permission, Scope::Namespace};
    let mut needs: Vec<Permission> = plan
        .steps
        .iter()
        .map(|s| match s.how {
            Strategy::Delete => Permission::new("delete", "", "pods", Namespace, "delete the pods"),
            Strategy::Rollout => {
                let resource = if s.kind == "StatefulSet" {
                    "statefulsets"
                } else {
                    "deployments"
                };
                Permission::new(
                    "patch",
                    "apps",
                    resource,
                    Namespace,
                    "annotate the pod template, as rollout restart does",
                )
            }
        })
        .collect();
    needs.sort_by_key(|p| p.resource);
    needs.dedup_by_key(|p| p.resource);
    needs
}

/// Where the result lines (what was changed) go: stdout, so `| tee` keeps them, unless the
/// plan went there as JSON or YAML; progress stays on stderr.
#[derive(Debug, Clone, Copy)]
struct Results(PlanFormat);

impl Results {
    fn say(self, line: &str) {
        match self.0 {
            PlanFormat::Table => shared::output::print_stdout(&format!("{line}\n")),
            PlanFormat::Json | PlanFormat::Yaml => eprintln!("{line}"),
        }
    }
}

async fn execute(target: &Target, plan: &Plan, results: Results) -> shared::Result<()> {
    for s in &plan.steps {
        match s.how {
            Strategy::Rollout => rollout_restart(target, &plan.namespace, s, results).await?,
            Strategy::Delete => {
                delete_pods(target, &plan.namespace, s, plan.force, results).await?
            }
        }
    }
    Ok(())
}

/// What `kubectl rollout restart` does: stamps the pod template with the time.
async fn rollout_restart(
    target: &Target,
    ns: &str,
    s: &Step,
    results: Results,
) -> shared::Result<()> {
    let client = target.client.clone();
    let params = PatchParams::default();
    let now = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}});
    let result = match s.kind {
        "StatefulSet" => Api::<StatefulSet>::namespaced(client, ns)
            .patch(&s.workload, &params, &Patch::Strategic(&patch))
            .await
            .map(|_| ()),
        _ => Api::<Deployment>::namespaced(client, ns)
            .patch(&s.workload, &params, &Patch::Strategic(&patch))
            .await
            .map(|_| ()),
    };
    result.map_err(|e| target.api_error(e))?;
    results.say(&format!(
        "restarted {}/{} (rolling)",
        s.kind.to_lowercase(),
        s.workload
    ));
    Ok(())
}

/// Deletes the step's pods, each only if it is still the pod planned (uid precondition).
async fn delete_pods(
    target: &Target,
    ns: &str,
    s: &Step,
    force: bool,
    results: Results,
) -> shared::Result<()> {
    let pods: Api<Pod> = Api::namespaced(target.client.clone(), ns);
    let grace = DeleteParams {
        grace_period_seconds: force.then_some(0),
        ..Default::default()
    };
    for (name, uid) in &s.pods {
        let dp = DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..grace.clone()
        };
        match pods.delete(name, &dp).await {
            Ok(_) => results.say(&format!("deleted pod {name}")),
            // Already gone (or replaced): nothing left to do for it.
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                results.say(&format!("pod {name} was already gone"))
            }
            Err(e) => return Err(target.api_error(e)),
        }
    }
    Ok(())
}

/// Whether the restart is complete: no old pod left, every component at the number of Ready
/// pods its step needs, and a restarted StatefulSet pod back, Ready, under its name.
pub fn complete(plan: &Plan, pods: &[Pod]) -> bool {
    let old: HashSet<&str> = plan
        .steps
        .iter()
        .flat_map(|s| s.pods.iter().map(|(_, uid)| uid.as_str()))
        .collect();
    if pods
        .iter()
        .any(|p| p.metadata.uid.as_deref().is_some_and(|u| old.contains(u)))
    {
        return false;
    }
    let same_name_ready = |s: &Step| {
        s.kind != "StatefulSet"
            || plan.pod.as_deref().is_none_or(|name| {
                pods.iter()
                    .any(|p| p.name_any() == name && shared::pod::is_ready(p))
            })
    };
    plan.steps.iter().all(|s| {
        let ready = pods
            .iter()
            .filter(|p| p.labels().get("component") == Some(&s.component))
            .filter(|p| shared::pod::is_ready(p))
            .count() as i32;
        ready >= s.ready_needed && same_name_ready(s)
    })
}

/// What the restart still waits for (pure), one entry per component not done: its Ready count
/// and the states of the pods holding it back, with the scheduler's reason (`worker 2/3 Ready
/// (old pod Terminating, new pod Pending: Unschedulable: 0/6 nodes are available: …)`).
/// Empty once `complete` holds.
pub fn pending(plan: &Plan, pods: &[Pod]) -> Vec<String> {
    let old: HashSet<&str> = plan
        .steps
        .iter()
        .flat_map(|s| s.pods.iter().map(|(_, uid)| uid.as_str()))
        .collect();
    let mut out = Vec::new();
    for s in &plan.steps {
        let mut mine: Vec<&Pod> = pods
            .iter()
            .filter(|p| p.labels().get("component") == Some(&s.component))
            .collect();
        mine.sort_by_key(|p| p.name_any());
        let mut ready = 0;
        let mut states: Vec<String> = Vec::new();
        for p in mine {
            let is_old = p.metadata.uid.as_deref().is_some_and(|u| old.contains(u));
            if !is_old && shared::pod::is_ready(p) {
                ready += 1;
                continue;
            }
            let (status, reason) = discovery::pod_status(p);
            let which = match (&plan.pod, is_old) {
                (Some(_), true) => format!("{} (old)", p.name_any()),
                (Some(_), false) => format!("pod {}", p.name_any()),
                (None, true) => "old pod".to_string(),
                (None, false) => "new pod".to_string(),
            };
            // The scheduler's message up to its first sentence: the reason, not the advice.
            let why = reason
                .map(|r| format!(": {}", r.split(". ").next().unwrap_or(&r)))
                .unwrap_or_default();
            let state = format!("{which} {status}{why}");
            if !states.contains(&state) {
                states.push(state);
            }
        }
        if ready >= s.ready_needed && states.is_empty() {
            continue;
        }
        let held = if states.is_empty() {
            String::new()
        } else {
            format!(" ({})", states.join(", "))
        };
        out.push(format!(
            "{} {ready}/{} Ready{held}",
            s.component, s.ready_needed
        ));
    }
    out
}

/// `kubectl airflow status RELEASE -n NS [--context C …]`: works when pasted as printed (the
/// soak found the timeout's hint without `-n` failing in the default namespace).
fn status_command(target: &shared::Target, plan: &Plan) -> String {
    format!(
        "kubectl airflow status {}{}",
        shared::shell::word(&plan.release),
        target.scope_flags_in(&plan.namespace)
    )
}

/// The waiting line: on a terminal the spinner's message, elsewhere a line on stderr each time
/// what is pending changes (as `kubectl rollout status` prints).
struct Progress {
    last: Option<String>,
    /// The components named by the last line printed (off a terminal, a line is printed when
    /// they change, not at every pod event).
    last_components: Vec<String>,
    listed: bool,
    terminal: bool,
}

impl Progress {
    fn new() -> Self {
        use std::io::IsTerminal;
        Progress {
            last: None,
            last_components: Vec::new(),
            listed: false,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Prints the line when it changed and stderr is no terminal; returns the spinner's
    /// message when it is one.
    fn update(&mut self, pending: &[String]) -> Option<String> {
        if pending.is_empty() {
            return None;
        }
        let line = format!("waiting for {}", pending.join("; "));
        if self.last.as_deref() == Some(line.as_str()) {
            return None;
        }
        self.last = Some(line.clone());
        if self.terminal {
            // The spinner's own decoration takes about 16 columns.
            Some(shared::output::truncate(
                &line,
                shared::output::stderr_width()
                    .unwrap_or(usize::MAX)
                    .saturating_sub(16),
            ))
        } else {
            let components: Vec<String> = pending
                .iter()
                .map(|p| p.split(' ').next().unwrap_or_default().to_string())
                .collect();
            if components != self.last_components {
                eprintln!("{line}");
                self.last_components = components;
            }
            None
        }
    }
}

/// Watches the release's pods until the restart is complete or the timeout passes.
async fn verify(
    target: &Target,
    plan: &Plan,
    timeout: Duration,
    status: &str,
) -> shared::Result<Vec<String>> {
    let components: BTreeSet<&str> = plan.steps.iter().map(|s| s.component.as_str()).collect();
    let selector = format!(
        "{},release={},component in ({})",
        discovery::AIRFLOW_SELECTOR,
        plan.release,
        components.into_iter().collect::<Vec<_>>().join(",")
    );
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &plan.namespace);
    let (reader, writer) = reflector::store();
    // Every event wakes the check, InitDone included: the reader's state is filled only once
    // the initial list is done, and on a quiet cluster no later event may come.
    let stream = reflector(
        writer,
        watcher(api, watcher::Config::default().labels(&selector)),
    )
    .default_backoff();
    futures::pin_mut!(stream);
    let bar = shared::wait::spinner("waiting for the new pods to be Ready");
    let mut progress = Progress::new();
    let deadline = tokio::time::Instant::now() + timeout;
    let result = loop {
        let pods: Vec<Pod> = reader.state().iter().map(|p| (**p).clone()).collect();
        // Before the watch's initial list the store is empty: nothing true to say yet.
        if progress.listed
            && let Some(message) = progress.update(&pending(plan, &pods))
        {
            bar.set_message(message);
        }
        if complete(plan, &pods) {
            let mut ready: Vec<String> = pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .map(|p| p.name_any())
                .collect();
            ready.sort();
            break Ok(ready);
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(event))) => {
                if matches!(event, watcher::Event::InitDone) {
                    progress.listed = true;
                }
            }
            Ok(Some(Err(e))) => tracing::debug!("watch error, retrying: {e}"),
            Ok(None) => break Err(Error::Failed("the pod watch ended unexpectedly".into())),
            Err(_) => {
                break Err(Error::Timeout(format!(
                    "timed out after {} waiting for the restart to complete; still waiting for {}; run `{status}` to see where it stands",
                    shared::duration::format(timeout),
                    pending(plan, &pods).join("; "),
                )));
            }
        }
    };
    bar.finish_and_clear();
    result
}

pub async fn run(global: &GlobalArgs, args: &RestartArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (inventory, deployments) = discovery::load(&target, Some(&target.namespace)).await?;
    let (deployment, subject) = subject(
        &deployments,
        &target.namespace,
        &args.component,
        args.release.as_deref(),
        args.pod.as_deref(),
        &target.given_flags,
    )?;
    let plan = plan(
        deployment,
        &subject,
        args.strategy,
        args.force,
        &no_rollout(&inventory),
        &target.scope_flags_in(&deployment.namespace),
    )?;

    shared::change::show_plan(&target, OutputFormat::from(args.output), &plan, render)?;
    let needs = needed_permissions(&plan);
    let question = match &subject {
        Subject::Pod { pod, .. } => format!("Restart pod {pod} of {}?", plan.release),
        Subject::Component(c) => format!("Restart {c} of {}?", plan.release),
    };
    let status = status_command(&target, &plan);
    let approved = shared::change::Gate::new(&target, &args.change, "kubectl airflow doctor")
        .preflight(&plan.namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the restart of {} in {} was requested, in part or in whole; the cluster carries on with what was requested: `{status}` shows where it stands",
            args.component, plan.release
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let started = Instant::now();
    let results = Results(args.output);
    execute(&target, &plan, results).await?;
    if args.no_wait {
        eprintln!("not waiting (--no-wait): check with `{status}`");
        return Ok(());
    }
    let ready = verify(&target, &plan, args.change.timeout, &status).await?;
    let replaced = match &plan.pod {
        Some(pod) => format!("pod {pod} is replaced"),
        None => "every old pod is gone".to_string(),
    };
    results.say(&format!(
        "done in {}: {replaced}; Ready now: {}",
        shared::duration::format(started.elapsed()),
        ready.join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{crash_looping_worker, pod, workload};
    use crate::discovery::{Inventory, group};

    const SCOPE: &str = " -n astronomer-ee-lunar-nuclear-3725 --context prod";

    fn of(component: &str) -> Subject {
        Subject::Component(component.to_string())
    }

    fn lunar() -> AirflowDeployment {
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        group(&Inventory {
            daemonsets: vec![],
            deployments: vec![workload(ns, r, "scheduler", 1)],
            statefulsets: vec![workload(ns, r, "worker", 2)],
            pods: vec![
                pod(ns, r, "scheduler", "s-1", true, None),
                pod(ns, r, "worker", "w-0", true, None),
                pod(ns, r, "worker", "w-1", true, None),
            ],
        })
        .remove(0)
    }

    #[test]
    fn plans_name_workloads_pods_and_warnings() {
        // Nothing in lunar() holds a rollout back.
        let plan_lunar = |component: &str, how, force| {
            plan(
                &lunar(),
                &of(component),
                Some(how),
                force,
                &BTreeMap::new(),
                SCOPE,
            )
        };
        let p = plan_lunar("workers", Strategy::Rollout, false).unwrap();
        assert_eq!(p.steps.len(), 1);
        assert_eq!(
            (
                p.steps[0].kind,
                p.steps[0].workload.as_str(),
                p.steps[0].pods.len()
            ),
            ("StatefulSet", "lunar-nuclear-3725-worker", 2)
        );
        assert!(p.warnings[0].contains("terminationGracePeriodSeconds"));
        let text = render(&p);
        assert!(
            text.contains("rolling restart") && text.contains("replaces pod w-1"),
            "{text}"
        );
        assert_eq!(
            plan_lunar("all", Strategy::Delete, true)
                .unwrap()
                .steps
                .len(),
            2
        );
        let unknown = plan_lunar("schedular", Strategy::Rollout, false).unwrap_err();
        assert_eq!(unknown.exit_code(), 2);
        assert!(
            unknown
                .to_string()
                .contains("use one of scheduler, worker, all, or a pod's name"),
            "{unknown}"
        );
        assert_eq!(
            plan_lunar("scheduler", Strategy::Rollout, true)
                .unwrap_err()
                .exit_code(),
            2
        );
    }

    #[test]
    fn a_rolling_restart_behind_an_unready_statefulset_pod_is_warned_about() {
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        let d = group(&Inventory {
            daemonsets: vec![],
            deployments: vec![],
            statefulsets: vec![workload(ns, r, "worker", 2)],
            pods: vec![
                pod(ns, r, "worker", "w-0", true, None),
                crash_looping_worker(ns, r, "w-1"),
            ],
        })
        .remove(0);
        let rollout = plan(
            &d,
            &of("worker"),
            Some(Strategy::Rollout),
            false,
            &BTreeMap::new(),
            SCOPE,
        )
        .unwrap();
        assert!(
            rollout
                .warnings
                .iter()
                .any(|w| w.starts_with("w-1 is not Ready") && w.contains("--strategy delete")),
            "{:?}",
            rollout.warnings
        );
        let delete = plan(
            &d,
            &of("worker"),
            Some(Strategy::Delete),
            false,
            &BTreeMap::new(),
            SCOPE,
        )
        .unwrap();
        assert!(!delete.warnings.iter().any(|w| w.contains("not Ready")));
    }

    #[test]
    fn paused_deployments_refuse_a_rollout_and_held_statefulsets_are_deleted() {
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        let mut scheduler: Deployment = workload(ns, r, "scheduler", 1);
        scheduler.spec.as_mut().unwrap().paused = Some(true);
        let mut worker: StatefulSet = workload(ns, r, "worker", 2);
        worker.spec.as_mut().unwrap().update_strategy =
            Some(serde_json::from_value(serde_json::json!({"type": "OnDelete"})).unwrap());
        let inventory = Inventory {
            daemonsets: vec![],
            deployments: vec![scheduler],
            statefulsets: vec![worker],
            pods: vec![pod(ns, r, "worker", "w-0", true, None)],
        };
        let blocked = no_rollout(&inventory);
        let d = group(&inventory).remove(0);
        let refused = plan(
            &d,
            &of("all"),
            Some(Strategy::Rollout),
            false,
            &blocked,
            SCOPE,
        )
        .unwrap_err();
        assert_eq!(refused.exit_code(), 3);
        assert!(
            refused.to_string().contains(&format!(
                "`kubectl rollout resume deployment/lunar-nuclear-3725-scheduler -n {ns} --context prod`"
            )),
            "{refused}"
        );
        let workers = plan(
            &d,
            &of("worker"),
            Some(Strategy::Rollout),
            false,
            &blocked,
            SCOPE,
        )
        .unwrap();
        assert_eq!(workers.steps[0].how, Strategy::Delete);
        assert!(render(&workers).contains("updateStrategy OnDelete"));
        assert_eq!(needed_permissions(&workers)[0].resource, "pods");
        let deleted = plan(
            &d,
            &of("all"),
            Some(Strategy::Delete),
            false,
            &blocked,
            SCOPE,
        )
        .unwrap();
        assert!(
            deleted
                .steps
                .iter()
                .all(|s| s.how == Strategy::Delete && s.why.is_none())
        );
        assert!(deleted.warnings.iter().any(|w| w.contains("is paused")));

        let mut partitioned: StatefulSet = workload(ns, r, "worker", 2);
        partitioned.spec.as_mut().unwrap().update_strategy = Some(
            serde_json::from_value(
                serde_json::json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}),
            )
            .unwrap(),
        );
        let held = no_rollout(&Inventory {
            daemonsets: vec![],
            deployments: vec![],
            statefulsets: vec![partitioned],
            pods: vec![],
        });
        assert_eq!(
            held.get(&("StatefulSet", "lunar-nuclear-3725-worker".to_string())),
            Some(&NoRollout::Partition(1))
        );
    }

    #[test]
    fn complete_needs_old_pods_gone_and_new_ones_ready() {
        let p = plan(
            &lunar(),
            &of("scheduler"),
            None,
            false,
            &BTreeMap::new(),
            SCOPE,
        )
        .unwrap();
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        let mut old = pod(ns, r, "scheduler", "s-1", true, None);
        old.metadata.uid = Some(p.steps[0].pods[0].1.clone());
        let mut fresh = pod(ns, r, "scheduler", "s-2", true, None);
        fresh.metadata.uid = Some("new".into());
        assert!(!complete(&p, &[old.clone(), fresh.clone()]));
        assert!(complete(&p, std::slice::from_ref(&fresh)));
        let not_ready = pod(ns, r, "scheduler", "s-3", false, None);
        assert!(!complete(&p, &[not_ready]));
    }

    fn unschedulable(ns: &str, r: &str, component: &str, name: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"),
                         "labels": {"tier": "airflow", "release": r, "component": component}},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                "reason": "Unschedulable", "message": "0/6 nodes are available: 6 Insufficient cpu. preemption: 0/6 nodes are available"}]}
        }))
        .unwrap()
    }

    fn with_uid(mut p: Pod) -> Pod {
        p.metadata.uid = Some(format!("uid-{}", p.name_any()));
        p
    }

    #[test]
    fn a_pod_is_found_by_its_name_and_restarted_alone() {
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        let deployments = group(&Inventory {
            daemonsets: vec![],
            deployments: vec![workload(ns, r, "scheduler", 1)],
            statefulsets: vec![workload(ns, r, "worker", 3)],
            pods: vec![
                with_uid(pod(ns, r, "scheduler", "s-1", true, None)),
                with_uid(pod(ns, r, "worker", "w-0", true, None)),
                with_uid(pod(ns, r, "worker", "w-1", true, None)),
                with_uid(crash_looping_worker(ns, r, "w-2")),
            ],
        });
        let (d, found) = subject(&deployments, ns, "w-2", None, None, "").unwrap();
        let expected = Subject::Pod {
            component: "worker".into(),
            pod: "w-2".into(),
        };
        assert_eq!(found, expected);
        assert_eq!(
            subject(&deployments, ns, "worker", None, Some("w-2"), "")
                .unwrap()
                .1,
            expected
        );
        let missing = subject(&deployments, ns, "worker", None, Some("w-9"), "").unwrap_err();
        assert_eq!(missing.exit_code(), 2);
        assert!(
            missing.to_string().ends_with("its pods are w-0, w-1, w-2"),
            "{missing}"
        );
        assert_eq!(
            subject(&deployments, ns, "worker", None, None, "")
                .unwrap()
                .1,
            Subject::Component("worker".into())
        );

        let p = plan(d, &found, None, false, &BTreeMap::new(), SCOPE).unwrap();
        assert_eq!(p.pod.as_deref(), Some("w-2"));
        assert_eq!(p.strategy, Strategy::Delete);
        assert_eq!(p.steps.len(), 1);
        assert_eq!(
            p.steps[0].pods,
            [("w-2".to_string(), "uid-w-2".to_string())]
        );
        // The two Ready workers and the replacement.
        assert_eq!(p.steps[0].ready_needed, 3);
        assert!(render(&p).contains("delete the pod; its controller recreates it"));
        let rollout = plan(
            d,
            &found,
            Some(Strategy::Rollout),
            false,
            &BTreeMap::new(),
            SCOPE,
        )
        .unwrap_err();
        assert!(
            rollout.to_string().contains(&format!(
                "`kubectl airflow restart worker lunar-nuclear-3725{SCOPE}`"
            )),
            "{rollout}"
        );
        assert!(plan(d, &found, None, true, &BTreeMap::new(), SCOPE).is_ok());

        // Complete once the pod is back, Ready, under its name; the others untouched.
        let pods = |w2: Pod| {
            vec![
                with_uid(pod(ns, r, "worker", "w-0", true, None)),
                with_uid(pod(ns, r, "worker", "w-1", true, None)),
                w2,
            ]
        };
        let old = pods(with_uid(crash_looping_worker(ns, r, "w-2")));
        assert!(!complete(&p, &old));
        assert_eq!(
            pending(&p, &old),
            ["worker 2/3 Ready (w-2 (old) CrashLoopBackOff)"]
        );
        let mut fresh = pod(ns, r, "worker", "w-2", true, None);
        fresh.metadata.uid = Some("new".into());
        assert!(complete(&p, &pods(fresh)));
    }

    #[test]
    fn an_unschedulable_pod_is_warned_about_and_named_while_waiting() {
        let (ns, r) = ("astronomer-ee-zodiac-cosmo-1172", "zodiac-cosmo-1172");
        let d = group(&Inventory {
            daemonsets: vec![],
            deployments: vec![
                workload(ns, r, "scheduler", 1),
                workload(ns, r, "triggerer", 1),
            ],
            statefulsets: vec![],
            pods: vec![
                with_uid(pod(ns, r, "scheduler", "s-1", true, None)),
                unschedulable(ns, r, "triggerer", "t-1"),
            ],
        })
        .remove(0);
        let all = plan(&d, &of("all"), None, false, &BTreeMap::new(), SCOPE).unwrap();
        let warning = all
            .warnings
            .iter()
            .find(|w| w.starts_with("t-1 (triggerer) is Pending (Unschedulable: 0/6 nodes"))
            .unwrap_or_else(|| panic!("{:?}", all.warnings));
        assert!(
            warning.ends_with(&format!(
                "`kubectl airflow diagnose zodiac-cosmo-1172{SCOPE}` says why"
            )),
            "{warning}"
        );
        let scheduler = plan(&d, &of("scheduler"), None, false, &BTreeMap::new(), SCOPE).unwrap();
        assert!(scheduler.warnings.iter().all(|w| !w.contains("t-1")));

        let mut fresh = pod(ns, r, "scheduler", "s-2", true, None);
        fresh.metadata.uid = Some("new".into());
        let now = [fresh, unschedulable(ns, r, "triggerer", "t-1")];
        assert_eq!(
            pending(&all, &now),
            [
                "triggerer 0/1 Ready (old pod Pending: Unschedulable: 0/6 nodes are available: 6 Insufficient cpu)"
            ]
        );
    }
}
