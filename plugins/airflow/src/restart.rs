//! `kubectl airflow restart COMPONENT [RELEASE]`: plan, confirm, restart (rolling restart or pod
//! deletion), then verify that every old pod is gone and the new ones are Ready.

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
use shared::output::OutputFormat;
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
    /// Component to restart (scheduler, webserver, worker or workers, triggerer, …) or `all`
    pub component: String,
    /// The Airflow release (implicit when the namespace holds only one)
    pub release: Option<String>,
    /// How to restart
    #[arg(long, value_enum, default_value_t = Strategy::Rollout)]
    pub strategy: Strategy,
    /// With --strategy delete: delete with grace period 0 (running tasks are killed)
    #[arg(long)]
    pub force: bool,
    /// Do not wait for the new pods to be Ready
    #[arg(long)]
    pub no_wait: bool,
    /// Output format of the plan: table or json
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
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
    pub strategy: Strategy,
    pub force: bool,
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
}

/// Builds the plan, or says which components exist.
pub fn plan(
    d: &AirflowDeployment,
    component: &str,
    strategy: Strategy,
    force: bool,
    blocked: &BTreeMap<(&'static str, String), NoRollout>,
) -> shared::Result<Plan> {
    let wanted = wanted_components(d, component)?;
    if force && strategy != Strategy::Delete {
        return Err(Error::Usage("--force goes with --strategy delete".into()));
    }
    let mut steps: Vec<Step> = wanted
        .into_iter()
        .map(|name| step(name, &d.components[name], strategy))
        .collect();
    let mut warnings = Vec::new();
    for s in steps.iter_mut() {
        if let Some(block) = blocked.get(&(s.kind, s.workload.clone()))
            && let Some(warning) = hold(s, *block, strategy, &d.namespace)?
        {
            warnings.push(warning);
        }
    }
    warnings.extend(step_warnings(d, &steps, strategy));
    if force {
        warnings.push("--force deletes with grace period 0: running tasks are killed, and a StatefulSet pod may briefly run twice".into());
    }
    Ok(Plan {
        namespace: d.namespace.clone(),
        release: d.release.clone(),
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
            "unknown component {component:?} in {}: use one of {}, or all",
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
    }
}

/// Adapts a step to a workload whose controller would not roll a template change: a rollout
/// of a held StatefulSet becomes a deletion of its pods, a rollout of a paused Deployment is
/// refused. Returns the warning to show, if any.
fn hold(
    s: &mut Step,
    block: NoRollout,
    strategy: Strategy,
    namespace: &str,
) -> shared::Result<Option<String>> {
    let what = format!("{}/{}", s.kind.to_lowercase(), s.workload);
    match (block, strategy) {
        (NoRollout::Paused, Strategy::Rollout) => {
            return Err(Error::Refused(format!(
                "{what} is paused: a rolling restart would wait for a rollout that never comes; resume it with `kubectl rollout resume {what} -n {namespace}` and rerun, or restart with --strategy delete"
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
            "  {} {}/{} ({} replicas, up to {}s to stop each pod)\n",
            s.component,
            s.kind.to_lowercase(),
            s.workload,
            s.desired,
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

async fn execute(target: &Target, plan: &Plan) -> shared::Result<()> {
    for s in &plan.steps {
        match s.how {
            Strategy::Rollout => rollout_restart(target, &plan.namespace, s).await?,
            Strategy::Delete => delete_pods(target, &plan.namespace, s, plan.force).await?,
        }
    }
    Ok(())
}

/// What `kubectl rollout restart` does: stamps the pod template with the time.
async fn rollout_restart(target: &Target, ns: &str, s: &Step) -> shared::Result<()> {
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
    eprintln!("restarted {} {}", s.kind.to_lowercase(), s.workload);
    Ok(())
}

/// Deletes the step's pods, each only if it is still the pod planned (uid precondition).
async fn delete_pods(target: &Target, ns: &str, s: &Step, force: bool) -> shared::Result<()> {
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
            Ok(_) => eprintln!("deleted pod {name}"),
            // Already gone (or replaced): nothing left to do for it.
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {
                eprintln!("pod {name} was already gone")
            }
            Err(e) => return Err(target.api_error(e)),
        }
    }
    Ok(())
}

/// Whether the restart is complete: no old pod left, and every component at its desired
/// number of Ready pods.
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
    plan.steps.iter().all(|s| {
        let ready = pods
            .iter()
            .filter(|p| p.labels().get("component") == Some(&s.component))
            .filter(|p| shared::pod::is_ready(p))
            .count() as i32;
        ready >= s.desired
    })
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
    let bar = shared::wait::spinner(format!(
        "waiting for new {} pods to be Ready",
        plan.steps
            .iter()
            .map(|s| s.component.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let deadline = tokio::time::Instant::now() + timeout;
    let result = loop {
        let pods: Vec<Pod> = reader.state().iter().map(|p| (**p).clone()).collect();
        if complete(plan, &pods) {
            break Ok(pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .map(|p| p.name_any())
                .collect());
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => tracing::debug!("watch error, retrying: {e}"),
            Ok(None) => break Err(Error::Failed("the pod watch ended unexpectedly".into())),
            Err(_) => {
                // By name: the store's order is the watch's, which varies from run to run.
                let mut state: Vec<String> = pods
                    .iter()
                    .map(|p| format!("{} {}", p.name_any(), crate::discovery::pod_status(p).0))
                    .collect();
                state.sort();
                break Err(Error::Timeout(format!(
                    "timed out after {} waiting for the restart to complete; pods now: {}; run `{status}` to see where it stands",
                    shared::duration::format(timeout),
                    state.join(", "),
                )));
            }
        }
    };
    bar.finish_and_clear();
    result
}

pub async fn run(global: &GlobalArgs, args: &RestartArgs) -> shared::Result<()> {
    if !matches!(args.output, OutputFormat::Table | OutputFormat::Json) {
        return Err(Error::Usage(
            "restart prints its plan as -o table or json".into(),
        ));
    }
    let target = shared::kubeconfig::connect(global).await?;
    let (inventory, deployments) = discovery::load(&target, Some(&target.namespace)).await?;
    let deployment = discovery::select(&deployments, &target.namespace, args.release.as_deref())?;
    let plan = plan(
        deployment,
        &args.component,
        args.strategy,
        args.force,
        &no_rollout(&inventory),
    )?;

    shared::change::show_plan(&target, args.output, &plan, render)?;
    let needs = needed_permissions(&plan);
    let question = format!("Restart {} of {}?", args.component, plan.release);
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
    execute(&target, &plan).await?;
    if args.no_wait {
        eprintln!("not waiting (--no-wait): check with `{status}`");
        return Ok(());
    }
    let ready = verify(&target, &plan, args.change.timeout, &status).await?;
    eprintln!(
        "done in {}: every old pod is gone; Ready now: {}",
        shared::duration::format(started.elapsed()),
        ready.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{crash_looping_worker, pod, workload};
    use crate::discovery::{Inventory, group};

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
        let plan_lunar =
            |component, how, force| plan(&lunar(), component, how, force, &BTreeMap::new());
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
                .contains("use one of scheduler, worker, or all"),
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
        let rollout = plan(&d, "worker", Strategy::Rollout, false, &BTreeMap::new()).unwrap();
        assert!(
            rollout
                .warnings
                .iter()
                .any(|w| w.starts_with("w-1 is not Ready") && w.contains("--strategy delete")),
            "{:?}",
            rollout.warnings
        );
        let delete = plan(&d, "worker", Strategy::Delete, false, &BTreeMap::new()).unwrap();
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
        let refused = plan(&d, "all", Strategy::Rollout, false, &blocked).unwrap_err();
        assert_eq!(refused.exit_code(), 3);
        assert!(
            refused.to_string().contains(&format!(
                "`kubectl rollout resume deployment/lunar-nuclear-3725-scheduler -n {ns}`"
            )),
            "{refused}"
        );
        let workers = plan(&d, "worker", Strategy::Rollout, false, &blocked).unwrap();
        assert_eq!(workers.steps[0].how, Strategy::Delete);
        assert!(render(&workers).contains("updateStrategy OnDelete"));
        assert_eq!(needed_permissions(&workers)[0].resource, "pods");
        let deleted = plan(&d, "all", Strategy::Delete, false, &blocked).unwrap();
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
            "scheduler",
            Strategy::Rollout,
            false,
            &BTreeMap::new(),
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
}
