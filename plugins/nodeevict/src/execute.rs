//! Carrying out a drain from its journal: cordon, pre-scale and wait, evict (bounded
//! concurrency, budgets honoured with back-off), wait for the pods to go by watch, restore,
//! verify. Each step is idempotent, so `resume` runs the same code from where it stopped.

use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use http_body_util::BodyExt;
use indicatif::{ProgressBar, ProgressStyle};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::api::storage::v1::VolumeAttachment;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, Preconditions};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use shared::owner::{Replicas, WorkloadKind};
use shared::wait::{Changes, Watched};
use shared::{Error, Target};

use crate::journal::{
    EXCLUDE_LB_LABEL, EXCLUDE_LB_VALUE, HpaRecord, NodeJournal, ORIGINAL_MAX_REPLICAS,
    ORIGINAL_MIN_REPLICAS, ORIGINAL_REPLICA_COUNTS, ORIGINAL_REPLICAS, Options, Prescale,
    ScaledObjectRecord, Step, Workload,
};
use crate::plan::{self, NodePlan, Verdict};
use crate::world::PodSummary;

pub struct Ctx<'a> {
    pub target: &'a Target,
    pub deadline: Instant,
    pub pod_timeout: Duration,
    pub concurrency: usize,
    /// The watch of each node's pods, shared by the steps of its drain (the pre-scale reads
    /// the node's pods too): one list and one watch per node.
    node_pods: Mutex<HashMap<String, Arc<Watched<Pod>>>>,
}

impl<'a> Ctx<'a> {
    /// A run on `target` that gives up `timeout` from now.
    pub fn new(
        target: &'a Target,
        timeout: Duration,
        pod_timeout: Duration,
        concurrency: usize,
    ) -> Ctx<'a> {
        Ctx {
            target,
            deadline: Instant::now() + timeout,
            pod_timeout,
            concurrency,
            node_pods: Mutex::new(HashMap::new()),
        }
    }

    /// The preflight of `needs` and the confirmation of `question`; then the run's context,
    /// or None when nothing is to be done (a dry run, or declined where that is not an error).
    pub async fn approved(
        target: &'a Target,
        change: &'a shared::ChangeArgs,
        needs: &'a std::collections::BTreeMap<String, Vec<shared::doctor::Permission>>,
        question: &'a str,
        (pod_timeout, concurrency): (Duration, usize),
    ) -> shared::Result<Option<Ctx<'a>>> {
        let approved = crate::permissions::gate(target, change, needs)
            .confirm(question)
            .approve()
            .await?;
        Ok(approved.then(|| Ctx::new(target, change.timeout, pod_timeout, concurrency)))
    }

    fn client(&self) -> Client {
        self.target.client.clone()
    }
    fn err(&self, e: kube::Error) -> Error {
        self.target.api_error(e)
    }
    fn timed_out(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// The watch of `node`'s pods, started on first use.
    fn node_pods(&self, node: &str) -> Arc<Watched<Pod>> {
        let mut watches = self.node_pods.lock().unwrap_or_else(|e| e.into_inner());
        watches
            .entry(node.to_string())
            .or_insert_with(|| {
                let config = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
                Arc::new(Watched::start(Api::<Pod>::all(self.client()), config))
            })
            .clone()
    }

    /// Stops the watch of `node`'s pods (its drain is over).
    fn forget_node_pods(&self, node: &str) {
        self.node_pods
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(node);
    }
}

/// The journal a fresh drain starts with.
pub fn journal_from_plan(
    plan: &NodePlan,
    options: &Options,
    was_unschedulable: bool,
    now: &str,
) -> NodeJournal {
    let touched: BTreeSet<Workload> = plan
        .pods
        .iter()
        .filter(|p| matches!(p.verdict, Verdict::Evict | Verdict::Delete))
        .filter_map(|p| {
            let (kind, name) = p.owner.split_once('/')?;
            Some(Workload {
                kind: WorkloadKind::parse(kind)?,
                namespace: p.namespace.clone(),
                name: name.to_string(),
            })
        })
        .collect();
    NodeJournal {
        step: Step::Cordoned,
        started: now.to_string(),
        options: options.clone(),
        was_unschedulable,
        prescaled: plan
            .prescale
            .iter()
            .map(|p| Prescale {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                original: p.from,
                target: p.to,
                hpa: p.hpa.as_ref().map(|h| HpaRecord {
                    name: h.clone(),
                    original_min: p.hpa_min.unwrap_or(1),
                    original_max: p.hpa_max,
                }),
                scaled_object: p.scaled_object.as_ref().map(|so| ScaledObjectRecord {
                    name: so.clone(),
                    original_min: p.so_min,
                    original_max: p.so_max,
                }),
            })
            .collect(),
        touched: touched.into_iter().collect(),
        excluded_from_lbs: false,
        deadline: crate::deadline::of_start(now, options),
    }
}

/// Writes a fresh drain's first journal on the node and cordons it, in one request.
pub async fn start(ctx: &Ctx<'_>, node: &str, journal: &NodeJournal) -> shared::Result<()> {
    // Interrupted while this request is in flight, the drain may or may not be recorded (found
    // by the soak, seed 100069: the note said it was, and the resume and abort it named found
    // nothing): say both.
    let in_flight = format!(
        "the drain of {node} was starting (its first write, the cordon and the journal, was in flight): if `{}` lists {node}, `{}` finishes it and `{}` undoes it; if it does not, nothing was changed{}",
        crate::hint::command("status", &[]),
        crate::hint::command("resume", &[node]),
        crate::hint::command("abort", &[node]),
        crate::hint::not_started_hint(node)
    );
    write_step(ctx, node, journal, true, in_flight).await
}

/// Writes the journal on the node; with `cordon`, cordons it in the same request.
pub async fn save(
    ctx: &Ctx<'_>,
    node: &str,
    journal: &NodeJournal,
    cordon: bool,
) -> shared::Result<()> {
    let in_flight = format!(
        "the drain of {node} was under way; {}",
        crate::hint::resume_hint(node)
    );
    write_step(ctx, node, journal, cordon, in_flight).await
}

/// `in_flight`: what an interruption during the write says.
async fn write_step(
    ctx: &Ctx<'_>,
    node: &str,
    journal: &NodeJournal,
    cordon: bool,
    in_flight: String,
) -> shared::Result<()> {
    shared::interrupt::changing(in_flight);
    let hint = crate::hint::resume_hint(node);
    // Conditional on the node as this run last saw it: never over another run's journal.
    crate::journal::write(
        ctx.target,
        node,
        crate::journal::Record::Set(journal),
        cordon.then(|| json!({"unschedulable": true})),
    )
    .await?;
    // The journal's inner steps are for -v: the operator reads what changed, not how it
    // is recorded.
    tracing::info!("journal: {} {node}", step_name(journal.step));
    shared::interrupt::changing(format!(
        "the drain of {node} stopped after step {}; {hint}",
        step_name(journal.step)
    ));
    shared::cli::step_boundary(&step_name(journal.step)).await;
    Ok(())
}

pub fn step_name(step: Step) -> String {
    shared::journal::step_name(step)
}

/// Waits until `check` holds, re-checking whenever something `changes` watches changes.
async fn wait<T, F, Fut>(
    ctx: &Ctx<'_>,
    changes: &Changes,
    what: &str,
    check: F,
) -> shared::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = shared::Result<Option<T>>>,
{
    shared::wait::until(ctx.deadline, changes, what, check).await
}

/// The API of `K` in the one namespace `namespaces` names, or cluster-wide when they are
/// several: one list or watch for all of them, not one per object.
fn api_over<'n, K>(ctx: &Ctx<'_>, namespaces: impl IntoIterator<Item = &'n str>) -> Api<K>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    let namespaces: BTreeSet<&str> = namespaces.into_iter().collect();
    match namespaces.iter().next() {
        Some(only) if namespaces.len() == 1 => Api::namespaced(ctx.client(), only),
        _ => Api::all(ctx.client()),
    }
}

/// Marks a pre-scaled Deployment with the replicas it goes back to (`status` and `abort` find
/// every pre-scaled owner there), with `spec` in the same write.
async fn mark_original(ctx: &Ctx<'_>, p: &Prescale, spec: Option<Value>) -> shared::Result<()> {
    let mut patch =
        json!({"metadata": {"annotations": {ORIGINAL_REPLICAS: p.original.to_string()}}});
    if let Some(spec) = spec {
        patch["spec"] = spec;
    }
    Api::<Deployment>::namespaced(ctx.client(), &p.namespace)
        .patch(&p.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(drop)
        .map_err(|e| ctx.err(e))
}

/// Raises each pre-scaled Deployment's count, then waits for its extra replicas. Scaling back
/// leaves the choice of the pods to remove to the ReplicaSet controller, which removes
/// not-Ready ones first (kubernetes pkg/controller/controller_utils.go,
/// `ActivePodsWithRanks.Less`): marking the surge pods with a pod-deletion-cost (a list and a
/// patch per Deployment) only changed which of two Ready pods off the node stayed, overrode the
/// controller's spreading (doubled-up pods go first), and left the mark on a surge pod that
/// stayed.
async fn prescale(ctx: &Ctx<'_>, node: &str, journal: &NodeJournal) -> shared::Result<()> {
    if journal.prescaled.is_empty() {
        return Ok(());
    }
    for p in &journal.prescaled {
        raise(ctx, p).await?;
    }
    // One watch of the Deployments and one of the node's pods for every wait below.
    let deployments = Watched::<Deployment>::start(
        api_over(ctx, journal.prescaled.iter().map(|p| p.namespace.as_str())),
        watcher::Config::default(),
    );
    let on_node = ctx.node_pods(node);
    for p in &journal.prescaled {
        surge_ready(ctx, node, p, &deployments, &on_node).await?;
    }
    Ok(())
}

/// Raises one Deployment's count: through its ScaledObject or its HPA when it has one, else
/// its replicas. The Deployment is marked with the count it goes back to either way.
async fn raise(ctx: &Ctx<'_>, p: &Prescale) -> shared::Result<()> {
    let raised = match (&p.scaled_object, &p.hpa) {
        (Some(so), _) => raise_scaled_object(ctx, p, so).await?,
        (None, Some(h)) => raise_hpa(ctx, p, h).await?,
        (None, None) => {
            mark_original(ctx, p, Some(json!({"replicas": p.target}))).await?;
            println!(
                "scaled deployment {}/{} {} → {}",
                p.namespace, p.name, p.original, p.target
            );
            return Ok(());
        }
    };
    // The autoscaler raised the count: the Deployment is marked all the same.
    mark_original(ctx, p, None).await?;
    println!("{raised}");
    Ok(())
}

/// KEDA derives its HPA from the ScaledObject and resets any edit of it: the ScaledObject's
/// minReplicaCount is what raises the count and keeps it raised. Returns what was done.
async fn raise_scaled_object(
    ctx: &Ctx<'_>,
    p: &Prescale,
    so: &ScaledObjectRecord,
) -> shared::Result<String> {
    let mut spec = json!({"minReplicaCount": p.target});
    if so.original_max.is_some() {
        spec["maxReplicaCount"] = json!(p.target);
    }
    let before = json!({"minReplicaCount": so.original_min, "maxReplicaCount": so.original_max});
    let patch = json!({"metadata": {"annotations": {ORIGINAL_REPLICA_COUNTS: before.to_string()}}, "spec": spec});
    scaled_objects(ctx, &p.namespace)
        .patch(&so.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(format!(
        "raised ScaledObject {}/{} minReplicaCount to {}",
        p.namespace, so.name, p.target
    ))
}

/// Raises the HPA's minReplicas, recording the original. Returns what was done.
async fn raise_hpa(ctx: &Ctx<'_>, p: &Prescale, h: &HpaRecord) -> shared::Result<String> {
    let mut patch = json!({"metadata": {"annotations": {ORIGINAL_MIN_REPLICAS: h.original_min.to_string()}}, "spec": {"minReplicas": p.target}});
    // minReplicas above maxReplicas is a 422: raise the maximum in the same write.
    if let Some(max) = h.original_max {
        patch["metadata"]["annotations"][ORIGINAL_MAX_REPLICAS] = json!(max.to_string());
        patch["spec"]["maxReplicas"] = json!(p.target);
    }
    Api::<HorizontalPodAutoscaler>::namespaced(ctx.client(), &p.namespace)
        .patch(&h.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(format!(
        "raised HPA {}/{} minReplicas to {}",
        p.namespace, h.name, p.target
    ))
}

/// Waits until the Deployment's extra replicas are Ready.
async fn surge_ready(
    ctx: &Ctx<'_>,
    node: &str,
    p: &Prescale,
    deployments: &Watched<Deployment>,
    on_node: &Watched<Pod>,
) -> shared::Result<()> {
    let what = format!(
        "{} extra replica(s) of deployment {}/{} to be Ready",
        p.target - p.original,
        p.namespace,
        p.name
    );
    // The Deployment's status moves as its pods become Ready; the node's pods as its own
    // replicas fail or recover.
    let changes = Changes::default()
        .following(deployments.changes())
        .following(on_node.changes());
    wait(ctx, &changes, &what, || {
        surge_check(ctx, node, p, deployments, on_node)
    })
    .await
}

/// One check of `surge_ready`, from the watches' stores; Some once enough replicas are Ready.
async fn surge_check(
    ctx: &Ctx<'_>,
    node: &str,
    p: &Prescale,
    deployments: &Watched<Deployment>,
    on_node: &Watched<Pod>,
) -> shared::Result<Option<()>> {
    if !deployments.listed() || !on_node.listed() {
        return Ok(None);
    }
    let Some(d) = deployments.get(&p.namespace, &p.name) else {
        return Err(Error::Failed(format!(
            "deployment {}/{} was deleted while waiting for its extra replicas",
            p.namespace, p.name
        )));
    };
    if d.ready() >= p.target {
        return Ok(Some(()));
    }
    // Replicas on the node that are not Ready (crash-looping, or on a dead node) may never
    // be: what must be Ready before evicting is the rest, on other nodes. Only such a replica
    // can make the rest enough, so only then are the Deployment's pods read.
    let Some(selector) = d.spec.as_ref().map(|s| &s.selector) else {
        return Ok(None);
    };
    let failing_here = on_node.objects().iter().any(|pod| {
        pod.namespace().as_deref() == Some(p.namespace.as_str())
            && pod.metadata.deletion_timestamp.is_none()
            && !shared::pod::is_ready(pod)
            && shared::selector::matches(selector, pod.labels())
    });
    // The whole selector (matchExpressions too): one built from matchLabels alone would
    // list every pod of the namespace.
    let (true, Some(query)) = (failing_here, shared::selector::to_query(selector)) else {
        return Ok(None);
    };
    let pods = Api::<Pod>::namespaced(ctx.client(), &p.namespace)
        .list(&ListParams::default().labels(&query))
        .await
        .map_err(|e| ctx.err(e))?;
    let on_node = |pod: &Pod| pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node);
    let here = pods
        .items
        .iter()
        .filter(|pod| on_node(pod) && pod.metadata.deletion_timestamp.is_none())
        .count() as i32;
    let ready_elsewhere = pods
        .items
        .iter()
        .filter(|pod| !on_node(pod) && shared::pod::is_ready(pod))
        .count() as i32;
    Ok((ready_elsewhere >= p.target - here).then_some(()))
}

fn scaled_objects(ctx: &Ctx<'_>, namespace: &str) -> Api<kube::api::DynamicObject> {
    Api::namespaced_with(
        ctx.client(),
        namespace,
        &crate::world::scaled_object_resource(),
    )
}

/// What the watch on the node's pods knows: the UIDs still there.
type Present = Arc<Mutex<HashMap<String, String>>>;

enum Outcome {
    Accepted,
    Gone,
    /// Deleted at its `--force-after` deadline (crate::deadline): the line to print.
    DeletedAtDeadline(String),
}

async fn post_eviction(
    client: &Client,
    pod: &plan::PodPlan,
    grace: Option<i64>,
) -> Result<(u16, Option<u64>, Value), kube::Error> {
    let mut delete_options = json!({"preconditions": {"uid": pod.uid}});
    if let Some(g) = grace {
        delete_options["gracePeriodSeconds"] = json!(g);
    }
    let body = json!({
        "apiVersion": "policy/v1", "kind": "Eviction",
        "metadata": {"name": pod.name, "namespace": pod.namespace},
        "deleteOptions": delete_options,
    });
    // Posted as written: the policy/v1 field is `deleteOptions`, and the 429's details (which
    // budget, its numbers) and Retry-After are needed, which the typed call does not return.
    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "/api/v1/namespaces/{}/pods/{}/eviction",
            pod.namespace, pod.name
        ))
        .header("content-type", "application/json")
        .body(kube::client::Body::from(
            serde_json::to_vec(&body).expect("json"),
        ))
        .expect("a request");
    let response = client.send(request).await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Ok((
        status,
        retry_after,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// Evicts (or deletes) one pod until the server accepts it or the pod is gone.
async fn remove_pod(
    ctx: &Ctx<'_>,
    node: &str,
    pod: &plan::PodPlan,
    options: &Options,
    present: &Present,
    blocked: &Arc<Mutex<HashMap<String, String>>>,
) -> shared::Result<Outcome> {
    let key = format!("{}/{}", pod.namespace, pod.name);
    let gone = || {
        !present
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&pod.uid)
    };
    let deadline = crate::deadline::give_up(pod, ctx.pod_timeout).min(ctx.deadline);
    let mut delay = Duration::from_millis(500);
    loop {
        if gone() {
            return Ok(Outcome::Gone);
        }
        if Instant::now() >= deadline {
            let why = blocked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned()
                .unwrap_or_else(|| "the API kept failing".into());
            return Err(Error::Timeout(format!("timed out evicting {key}: {why}")));
        }
        let mut wait = delay;
        if pod.verdict == Verdict::Delete {
            let dp = DeleteParams {
                grace_period_seconds: options.grace_period.map(|g| g as u32),
                preconditions: Some(Preconditions {
                    uid: Some(pod.uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match Api::<Pod>::namespaced(ctx.client(), &pod.namespace)
                .delete(&pod.name, &dp)
                .await
            {
                Ok(_) => return Ok(Outcome::Accepted),
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {
                    return Ok(Outcome::Gone);
                }
                Err(e) => tracing::debug!("deleting {key}: {e}; retrying"),
            }
        } else {
            match post_eviction(&ctx.client(), pod, options.grace_period).await {
                Ok((200 | 201, _, _)) => {
                    blocked
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    return Ok(Outcome::Accepted);
                }
                // Gone, or replaced by a pod with another UID (the precondition failed).
                Ok((404 | 409, _, _)) => return Ok(Outcome::Gone),
                Ok((429, retry_after, status)) => {
                    let budget = status["details"]["causes"]
                        .as_array()
                        .and_then(|c| c.iter().find(|c| c["reason"] == "DisruptionBudget"))
                        .and_then(|c| c["message"].as_str().map(String::from));
                    if let Some(budget) = &budget {
                        let first = {
                            let mut b = blocked.lock().unwrap_or_else(|e| e.into_inner());
                            let first = b.get(&key) != Some(budget);
                            if first {
                                eprintln!("{key}: {budget}; retrying with back-off");
                                b.insert(key.clone(), budget.clone());
                            }
                            first
                        };
                        if first {
                            event(
                                ctx.target,
                                node,
                                Reason::EvictionBlocked,
                                &format!("Eviction of pod {key} blocked by its budget: {budget}"),
                            )
                            .await;
                        }
                    }
                    if let Some(s) = retry_after.filter(|s| *s > 0) {
                        wait = Duration::from_secs(s).min(Duration::from_secs(30));
                    }
                    // With --force-after: deleted once due, else woken when it is.
                    if let Some(budget) = &budget {
                        use crate::deadline::Deletion;
                        match crate::deadline::on_refusal(ctx, node, pod, options, budget).await? {
                            Deletion::Deleted(line) => {
                                blocked
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .remove(&key);
                                return Ok(Outcome::DeletedAtDeadline(line));
                            }
                            Deletion::Gone => return Ok(Outcome::Gone),
                            Deletion::Retry(at_most) => wait = wait.min(at_most),
                        }
                    }
                }
                Ok((code, _, status)) if code >= 500 => {
                    tracing::debug!("evicting {key}: {code} {}", status["message"])
                }
                Ok((code, _, status)) => {
                    return Err(Error::Failed(format!(
                        "evicting {key} failed ({code}): {}",
                        status["message"].as_str().unwrap_or("no message")
                    )));
                }
                Err(e) => tracing::debug!("evicting {key}: {e}; retrying"),
            }
        }
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}

fn progress(total: u64) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} pods gone {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Evicts every pod the plan acts on and waits, by watch, until each UID has left the node.
pub async fn evict(
    ctx: &Ctx<'_>,
    node: &str,
    plan: &NodePlan,
    options: &Options,
) -> shared::Result<()> {
    let acting: Vec<&plan::PodPlan> = plan
        .pods
        .iter()
        .filter(|p| matches!(p.verdict, Verdict::Evict | Verdict::Delete))
        .collect();
    if acting.is_empty() {
        return Ok(());
    }
    let skip_wait = plan.skip_wait_for_delete.map(Duration::from_secs);
    let mut pods = NodeWatch::start(ctx, node, skip_wait);
    pods.listed(node, skip_wait).await?;

    let bar = progress(acting.len() as u64);
    let blocked: Arc<Mutex<HashMap<String, String>>> = Arc::new(Mutex::new(HashMap::new()));
    let verb = if options.disable_eviction {
        "deleting (PodDisruptionBudgets are bypassed)"
    } else {
        "evicting"
    };
    eprintln!(
        "{verb} {} from {node}, {} at a time",
        shared::plural::count(acting.len(), "pod"),
        ctx.concurrency
    );
    event(
        ctx.target,
        node,
        Reason::Evicting,
        &format!(
            "{} {}",
            if options.disable_eviction {
                "Deleting"
            } else {
                "Evicting"
            },
            shared::plural::count(acting.len(), "pod")
        ),
    )
    .await;
    let waves = by_wave(&acting);
    let mut result = Ok(());
    // Every pod accepted so far: the progress counts them all.
    let mut gone: Vec<(String, Instant)> = Vec::new();
    for (i, wave) in waves.iter().enumerate() {
        if waves.len() > 1 {
            let what = wave.first().map(|p| plan::wave_name(p)).unwrap_or_default();
            bar.suspend(|| {
                eprintln!(
                    "wave {} of {} on {node}: {what}, {}",
                    i + 1,
                    waves.len(),
                    shared::plural::count(wave.len(), "pod")
                )
            });
        }
        let (accepted, first_error) =
            remove_all(ctx, node, wave, options, &pods.present, &blocked, &bar).await;
        if let Some(e) = first_error {
            result = Err(e);
            break;
        }
        gone.extend(accepted);
        // The next wave only once this one's pods have left the node.
        if let Err(e) = pods.wait_gone(ctx, node, &gone, &blocked, &bar).await {
            result = Err(e);
            break;
        }
    }
    bar.finish_and_clear();
    pods.task.abort();
    result
}

/// The pods to remove grouped by their wave (plan::assign_waves), in order.
fn by_wave<'p>(acting: &[&'p plan::PodPlan]) -> Vec<Vec<&'p plan::PodPlan>> {
    let mut waves: std::collections::BTreeMap<usize, Vec<&plan::PodPlan>> = Default::default();
    for p in acting {
        waves.entry(p.wave).or_default().push(p);
    }
    waves.into_values().collect()
}

/// Removes the pods, `ctx.concurrency` at a time: the UIDs the server accepted (with when),
/// and the first error.
async fn remove_all(
    ctx: &Ctx<'_>,
    node: &str,
    acting: &[&plan::PodPlan],
    options: &Options,
    present: &Present,
    blocked: &Arc<Mutex<HashMap<String, String>>>,
    bar: &ProgressBar,
) -> (Vec<(String, Instant)>, Option<Error>) {
    let results: Vec<shared::Result<(String, Instant)>> =
        futures::stream::iter(acting.iter().copied())
            .map(|pod| {
                let present = present.clone();
                let blocked = blocked.clone();
                async move {
                    // Each change as it is made, on stdout, above the progress bar.
                    match remove_pod(ctx, node, pod, options, &present, &blocked).await? {
                        Outcome::Accepted => bar.suspend(|| println!("{}", removed(pod))),
                        Outcome::DeletedAtDeadline(line) => bar.suspend(|| println!("{line}")),
                        Outcome::Gone => {}
                    }
                    Ok((pod.uid.clone(), Instant::now()))
                }
            })
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
    let mut accepted: Vec<(String, Instant)> = Vec::new();
    let mut first_error = None;
    for r in results {
        match r {
            Ok(a) => accepted.push(a),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    (accepted, first_error)
}

/// The line for a pod the server accepted to remove: an unmanaged pod deleted with `--force`
/// is gone for good, and says so.
fn removed(pod: &plan::PodPlan) -> String {
    let key = format!("{}/{}", pod.namespace, pod.name);
    match (pod.verdict, pod.owner == "-") {
        (Verdict::Delete, true) => format!("deleted pod {key} (unmanaged: not recreated)"),
        (Verdict::Delete, false) => format!("deleted pod {key} ({} recreates it)", pod.owner),
        (_, true) => format!("evicted pod {key} (unmanaged: not recreated)"),
        (_, false) => format!("evicted pod {key}"),
    }
}

/// One watch for the whole node (not a poll per pod; the node's watch that its pre-scale
/// started, if it did): the UIDs still on it (`present`), and a counter the waits wake on,
/// bumped each time `present` is recomputed to something new.
struct NodeWatch {
    pods: Arc<Watched<Pod>>,
    present: Present,
    seen: tokio::sync::watch::Receiver<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl NodeWatch {
    fn start(ctx: &Ctx<'_>, node: &str, skip_wait: Option<Duration>) -> NodeWatch {
        let pods = ctx.node_pods(node);
        let present: Present = Arc::new(Mutex::new(HashMap::new()));
        let (changed, seen) = tokio::sync::watch::channel(0u64);
        // The follower recomputes on the changes from now on: `listed` takes the pods as they
        // are now.
        let mut events = pods.changes();
        events.borrow_and_update();
        let task = tokio::spawn(follow_node(
            pods.clone(),
            events,
            present.clone(),
            changed,
            skip_wait,
        ));
        NodeWatch {
            pods,
            present,
            seen,
            task,
        }
    }

    /// Waits (a minute at most) for the first list, and takes the pods on the node from it.
    async fn listed(&self, node: &str, skip_wait: Option<Duration>) -> shared::Result<()> {
        if !self.pods.wait_listed(Duration::from_secs(60)).await {
            self.task.abort();
            return Err(Error::Failed(format!(
                "could not watch the pods of node {node}"
            )));
        }
        *self.present.lock().unwrap_or_else(|e| e.into_inner()) = self
            .pods
            .objects()
            .iter()
            .filter(|p| skip_wait.is_none() || p.metadata.deletion_timestamp.is_none())
            .filter_map(|p| Some((p.uid()?, p.name_any())))
            .collect();
        Ok(())
    }

    /// Waits until every accepted UID has left the node, showing progress and what blocks;
    /// a pod still there `pod_timeout` after its eviction, or the run's deadline, is the error.
    async fn wait_gone(
        &mut self,
        ctx: &Ctx<'_>,
        node: &str,
        accepted: &[(String, Instant)],
        blocked: &Arc<Mutex<HashMap<String, String>>>,
        bar: &ProgressBar,
    ) -> shared::Result<()> {
        loop {
            let now_present = self
                .present
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let left: Vec<&(String, Instant)> = accepted
                .iter()
                .filter(|(uid, _)| now_present.contains_key(uid))
                .collect();
            bar.set_position((accepted.len() - left.len()) as u64);
            let blocked_now: Vec<String> = blocked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            bar.set_message(if blocked_now.is_empty() {
                String::new()
            } else {
                format!("blocked: {}", blocked_now.join("; "))
            });
            if left.is_empty() {
                return Ok(());
            }
            if let Some((uid, _)) = left.iter().find(|(_, at)| at.elapsed() >= ctx.pod_timeout) {
                return Err(Error::Timeout(format!(
                    "pod {} is still on {node} {} after its eviction",
                    now_present.get(uid).cloned().unwrap_or_default(),
                    shared::duration::format(ctx.pod_timeout)
                )));
            }
            if ctx.timed_out() {
                return Err(Error::Timeout(format!(
                    "timed out with {} still on {node}",
                    shared::plural::count(left.len(), "pod")
                )));
            }
            // Woken when a pod leaves the node; at least once a second for the timeouts.
            self.seen.borrow_and_update();
            let _ = tokio::time::timeout(Duration::from_secs(1), self.seen.changed()).await;
        }
    }
}

/// The node watch's follower. Each change recomputes the UIDs on the node for the evicting
/// tasks; with a skip-wait limit, a pod whose deletion is older than it no longer counts (a
/// dead node never finishes it), which time alone can bring about: then also once a second.
async fn follow_node(
    pods: Arc<Watched<Pod>>,
    mut events: tokio::sync::watch::Receiver<u64>,
    present: Present,
    changed: tokio::sync::watch::Sender<u64>,
    skip_wait: Option<Duration>,
) {
    let mut deleting_since: HashMap<String, Instant> = HashMap::new();
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            event = events.changed() => if event.is_err() { break },
            _ = tick.tick(), if skip_wait.is_some() => {}
        }
        // Until the first list is in the store it holds nothing: recomputing then would say
        // every pod had left.
        if !pods.listed() {
            continue;
        }
        let uids = uids_on_node(
            &pods.objects(),
            skip_wait,
            &mut deleting_since,
            &mut skipped,
        );
        let moved = {
            let mut now = present.lock().unwrap_or_else(|e| e.into_inner());
            let moved = *now != uids;
            *now = uids;
            moved
        };
        if moved {
            changed.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

/// The UIDs (with names) of the pods on the node as the store has them, less those whose
/// deletion is older than the skip-wait limit (said once per pod).
fn uids_on_node(
    pods: &[Arc<Pod>],
    skip_wait: Option<Duration>,
    deleting_since: &mut HashMap<String, Instant>,
    skipped: &mut BTreeSet<String>,
) -> HashMap<String, String> {
    let mut uids: HashMap<String, String> = HashMap::new();
    for p in pods {
        let Some(uid) = p.uid() else { continue };
        if let Some(limit) = skip_wait
            && deletion_older_than(p, limit, deleting_since)
        {
            if skipped.insert(uid) {
                eprintln!(
                    "{}/{}: deleted more than {} ago and still terminating: treated as gone (--skip-wait-for-delete-timeout)",
                    p.namespace().unwrap_or_default(),
                    p.name_any(),
                    shared::duration::format(limit)
                );
            }
            continue;
        }
        uids.insert(uid, p.name_any());
    }
    uids
}

/// Whether a terminating pod's deletion is older than `limit`, as kubectl drain's
/// `--skip-wait-for-delete-timeout` counts it: from its deletionTimestamp (the end of its grace
/// period), against this machine's clock; and, since that clock may lag the server's (or a
/// simulated one), also on this run's own clock from when it first saw the deletion plus the
/// grace period. Either one old enough counts.
fn deletion_older_than(
    pod: &Pod,
    limit: Duration,
    deleting_since: &mut HashMap<String, Instant>,
) -> bool {
    let Some(deleted) = pod.metadata.deletion_timestamp.as_ref() else {
        return false;
    };
    let uid = pod.uid().unwrap_or_default();
    let seen = *deleting_since.entry(uid).or_insert_with(Instant::now);
    let grace = Duration::from_secs(
        pod.metadata
            .deletion_grace_period_seconds
            .unwrap_or(0)
            .max(0) as u64,
    );
    let by_server = jiff::Timestamp::now()
        .duration_since(deleted.0)
        .try_into()
        .is_ok_and(|age: Duration| age > limit);
    let by_us = seen.elapsed() > grace.saturating_add(limit);
    by_server || by_us
}

/// Scales pre-scaled owners back (the ReplicaSet controller picks which pods go: see
/// [`prescale`]) and puts HPAs back.
pub async fn restore(ctx: &Ctx<'_>, journal: &NodeJournal) -> shared::Result<()> {
    let pp = PatchParams::default();
    for p in &journal.prescaled {
        if let Some(so) = &p.scaled_object {
            let mut spec = json!({"minReplicaCount": so.original_min});
            if let Some(max) = so.original_max {
                spec["maxReplicaCount"] = json!(max);
            }
            let patch =
                json!({"metadata": {"annotations": {ORIGINAL_REPLICA_COUNTS: null}}, "spec": spec});
            match scaled_objects(ctx, &p.namespace)
                .patch(&so.name, &pp, &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(ctx.err(e)),
            }
            // Until KEDA's next reconcile its HPA keeps the raised minimum and would scale the
            // Deployment straight back up: wait for KEDA to lower it first.
            let hpas = Api::<HorizontalPodAutoscaler>::namespaced(ctx.client(), &p.namespace);
            let what = format!(
                "KEDA to lower the HPA of deployment {}/{}",
                p.namespace, p.name
            );
            let changes = Changes::default().watching::<HorizontalPodAutoscaler>(
                &ctx.client(),
                &p.namespace,
                watcher::Config::default(),
            );
            wait(ctx, &changes, &what, || async {
                let list = hpas
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| ctx.err(e))?;
                let raised = list.items.iter().any(|h| {
                    h.spec.as_ref().is_some_and(|s| {
                        s.scale_target_ref.kind == "Deployment"
                            && s.scale_target_ref.name == p.name
                            && s.min_replicas.unwrap_or(1) > p.original.max(1)
                    })
                });
                Ok((!raised).then_some(()))
            })
            .await?;
        }
        if let Some(h) = &p.hpa {
            let mut patch = json!({"metadata": {"annotations": {ORIGINAL_MIN_REPLICAS: null}}, "spec": {"minReplicas": h.original_min}});
            if let Some(max) = h.original_max {
                patch["metadata"]["annotations"][ORIGINAL_MAX_REPLICAS] = Value::Null;
                patch["spec"]["maxReplicas"] = json!(max);
            }
            match Api::<HorizontalPodAutoscaler>::namespaced(ctx.client(), &p.namespace)
                .patch(&h.name, &pp, &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(ctx.err(e)),
            }
        }
        let patch = json!({"metadata": {"annotations": {ORIGINAL_REPLICAS: null}}, "spec": {"replicas": p.original}});
        match Api::<Deployment>::namespaced(ctx.client(), &p.namespace)
            .patch(&p.name, &pp, &Patch::Merge(&patch))
            .await
        {
            Ok(_) => println!(
                "restored deployment {}/{} to {}",
                p.namespace,
                p.name,
                shared::plural::count(p.original.max(0) as usize, "replica")
            ),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(ctx.err(e)),
        }
    }
    Ok(())
}

/// Waits until every workload the drain moved is back to its desired Ready count, reading
/// them from one watch per kind (not a watch and a read per workload and check).
pub async fn settle(ctx: &Ctx<'_>, touched: &[Workload]) -> shared::Result<()> {
    let deployments = watch_kind::<Deployment>(ctx, touched, WorkloadKind::Deployment);
    let statefulsets = watch_kind::<StatefulSet>(ctx, touched, WorkloadKind::StatefulSet);
    for w in touched {
        match (w.kind, &deployments, &statefulsets) {
            (WorkloadKind::Deployment, Some(watched), _) => settle_one(ctx, w, watched).await?,
            (WorkloadKind::StatefulSet, _, Some(watched)) => settle_one(ctx, w, watched).await?,
            _ => {}
        }
    }
    Ok(())
}

/// One watch of the workloads of `kind` in `touched`, if there are any.
fn watch_kind<K: Replicas>(
    ctx: &Ctx<'_>,
    touched: &[Workload],
    kind: WorkloadKind,
) -> Option<Watched<K>> {
    let of_kind: Vec<&str> = touched
        .iter()
        .filter(|w| w.kind == kind)
        .map(|w| w.namespace.as_str())
        .collect();
    (!of_kind.is_empty())
        .then(|| Watched::start(api_over(ctx, of_kind), watcher::Config::default()))
}

/// Waits until workload `w` (of type `K`) has its desired Ready count, or is gone.
async fn settle_one<K: Replicas>(
    ctx: &Ctx<'_>,
    w: &Workload,
    watched: &Watched<K>,
) -> shared::Result<()> {
    let what = format!(
        "{} {}/{} to be Ready again",
        w.kind.lowercase(),
        w.namespace,
        w.name
    );
    let changes = Changes::default().following(watched.changes());
    wait(ctx, &changes, &what, || async {
        if !watched.listed() {
            return Ok(None);
        }
        let found = watched.get(&w.namespace, &w.name);
        Ok(found.is_none_or(|k| k.ready() >= k.desired()).then_some(()))
    })
    .await
}

/// Runs a node's drain from its journal to the end. `plan` is what to evict (re-planned on
/// resume); the journal is saved after every step.
pub async fn run_node(
    ctx: &Ctx<'_>,
    node: &str,
    journal: &mut NodeJournal,
    plan: &NodePlan,
) -> shared::Result<()> {
    let started = Instant::now();
    // Timed against the journal's deadline, which a resume keeps (the plan's counted from when
    // it was made).
    let timed = crate::deadline::for_run(plan, journal);
    let plan = &timed;
    if journal.step < Step::Evicted {
        eprint!("{}", crate::deadline::render(plan));
    }
    // The node's pod watch lives as long as its drain.
    struct Forget<'c, 'a>(&'c Ctx<'a>, &'c str);
    impl Drop for Forget<'_, '_> {
        fn drop(&mut self) {
            self.0.forget_node_pods(self.1);
        }
    }
    let _forget = Forget(ctx, node);
    if journal.step < Step::Prescaled {
        prescale(ctx, node, journal).await?;
        journal.step = Step::Prescaled;
        save(ctx, node, journal, false).await?;
    }
    if journal.step < Step::Evicted {
        evict(ctx, node, plan, &journal.options).await?;
        journal.step = Step::Evicted;
        save(ctx, node, journal, false).await?;
    }
    restore(ctx, journal).await?;
    verify(ctx, node, journal, plan.skip_wait_for_delete.is_some()).await?;
    if let Some(selector) = journal.options.pod_selector.clone() {
        // The node keeps its other pods (and their volumes): moved what was asked, not
        // emptied, and never called safe to terminate.
        crate::journal::write(ctx.target, node, crate::journal::Record::Remove, None).await?;
        let took = shared::duration::format(started.elapsed());
        event(
            ctx.target,
            node,
            Reason::Drained,
            &format!("Pods selected by {selector} moved in {took}; the node keeps its other pods"),
        )
        .await;
        println!(
            "node {node}: the pods --pod-selector {selector} selects are gone in {took}, everything restored; it stays cordoned with its other pods (not safe to terminate): `{}` puts it back in service",
            crate::hint::command("uncordon", &[node])
        );
        return Ok(());
    }
    if journal.step < Step::Detaching {
        journal.step = Step::Detaching;
        save(ctx, node, journal, false).await?;
    }
    let detached = wait_detached(ctx, node).await?;
    crate::journal::write(ctx.target, node, crate::journal::Record::Remove, None).await?;
    let took = shared::duration::format(started.elapsed());
    match detached {
        Detached::Checked => {
            event(
                ctx.target,
                node,
                Reason::Drained,
                &format!("Drained in {took}: no pod to move and no volume attached is left"),
            )
            .await;
            println!(
                "node {node} drained in {took}: only DaemonSet pods left, cordoned, no volume attached, everything restored — safe to terminate"
            );
        }
        Detached::Unchecked(why) => {
            event(
                ctx.target,
                node,
                Reason::Drained,
                &format!("Drained in {took}; its VolumeAttachments could not be checked"),
            )
            .await;
            println!(
                "node {node} drained in {took}: only DaemonSet pods left, cordoned, everything restored; its VolumeAttachments could not be checked ({why}): make sure no volume is still attached to it before terminating it"
            );
        }
    }
    println!("next: {}", plan::next_step(plan.provider_id.as_deref()));
    Ok(())
}

/// Whether the node's volumes were seen detached.
enum Detached {
    Checked,
    /// Why they could not be checked (no permission to list VolumeAttachments).
    Unchecked(String),
}

/// Waits until no VolumeAttachment names the node: terminating a machine with a disk still
/// attached can corrupt it (Karpenter waits for the same, kubernetes-sigs/karpenter#1294). The
/// attach/detach controller deletes a node's attachments once its pods are gone and the CSI
/// driver has detached (kubernetes/kubernetes pkg/controller/volume/attachdetach). Polled (a
/// list, cluster-wide: VolumeAttachments have no field selector on spec.nodeName), bounded by
/// the run's deadline; without permission to list them, says so rather than claim safety.
async fn wait_detached(ctx: &Ctx<'_>, node: &str) -> shared::Result<Detached> {
    let api: Api<VolumeAttachment> = Api::all(ctx.client());
    let on_node = |list: &kube::core::ObjectList<VolumeAttachment>| -> Vec<String> {
        list.items
            .iter()
            .filter(|va| va.spec.node_name == node)
            .map(|va| {
                let pv = va.spec.source.persistent_volume_name.as_deref();
                match pv {
                    Some(pv) => format!("{} ({pv})", va.name_any()),
                    None => va.name_any(),
                }
            })
            .collect()
    };
    let first = match api.list(&ListParams::default()).await {
        Ok(list) => on_node(&list),
        Err(kube::Error::Api(e)) if e.code == 403 || e.code == 401 => {
            return Ok(Detached::Unchecked(
                "no permission to list volumeattachments.storage.k8s.io".into(),
            ));
        }
        Err(kube::Error::Api(e)) if e.code == 404 => {
            // A cluster without the storage.k8s.io/v1 API attaches nothing through it.
            return Ok(Detached::Checked);
        }
        Err(e) => return Err(ctx.err(e)),
    };
    if first.is_empty() {
        return Ok(Detached::Checked);
    }
    eprintln!(
        "waiting for {} on {node} to detach: {}",
        shared::plural::count(first.len(), "volume"),
        first.join(", ")
    );
    let last = Mutex::new(first);
    let what = format!("the volumes attached to {node} to detach");
    wait(ctx, &Changes::default(), &what, || async {
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| ctx.err(e))?;
        let now = on_node(&list);
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if now.is_empty() {
            return Ok(Some(()));
        }
        if *last != now {
            eprintln!("still attached to {node}: {}", now.join(", "));
            *last = now;
        }
        Ok(None)
    })
    .await
    .map_err(|e| match e {
        Error::Timeout(_) => Error::Timeout(format!(
            "timed out waiting for the volumes attached to {node} to detach (still attached: {}); the pods are gone, but do not terminate it yet",
            last.lock().unwrap_or_else(|e| e.into_inner()).join(", ")
        )),
        other => other,
    })?;
    eprintln!("every volume attached to {node} is detached");
    Ok(Detached::Checked)
}

/// Labels the node out of external load balancers (`EXCLUDE_LB_LABEL`), when the journal says
/// this drain does (the node was not labelled before), with the value that tells `abort` and
/// `uncordon` to take it off again. Idempotent: `resume` runs it again.
pub async fn exclude_from_load_balancers(
    ctx: &Ctx<'_>,
    node: &str,
    journal: &NodeJournal,
) -> shared::Result<()> {
    if !journal.excluded_from_lbs {
        return Ok(());
    }
    let patch = json!({"metadata": {"labels": {EXCLUDE_LB_LABEL: EXCLUDE_LB_VALUE}}});
    let written = Api::<Node>::all(ctx.client())
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| ctx.err(e))?;
    // The journal's next write is conditional on the node as this write left it.
    crate::journal::observe(&written);
    println!("labelled node {node} {EXCLUDE_LB_LABEL}: out of external load balancers");
    Ok(())
}

/// Takes the load-balancer label off the node if a drain put it there (its value says so); a
/// node labelled by someone else keeps it. Whether it did.
pub async fn include_in_load_balancers(target: &Target, node: &str) -> shared::Result<bool> {
    let api: Api<Node> = Api::all(target.client.clone());
    let Some(current) = api.get_opt(node).await.map_err(|e| target.api_error(e))? else {
        return Ok(false);
    };
    if current.labels().get(EXCLUDE_LB_LABEL).map(String::as_str) != Some(EXCLUDE_LB_VALUE) {
        return Ok(false);
    }
    let patch = json!({"metadata": {"labels": {EXCLUDE_LB_LABEL: null}}});
    let written = api
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|e| target.api_error(e))?;
    crate::journal::observe(&written);
    println!("removed {EXCLUDE_LB_LABEL} from node {node}: back in external load balancers");
    Ok(true)
}

/// The reasons of the Events a drain records on its node.
#[derive(Debug, Clone, Copy)]
pub enum Reason {
    Cordoned,
    Evicting,
    EvictionBlocked,
    /// A pod its budget still refused, deleted at the `--force-after` deadline.
    DeletedAtDeadline,
    Drained,
    Restored,
}

/// The component the Events name as their source.
const EVENT_SOURCE: &str = "kubectl-nodeevict";

/// Records a core/v1 Event on the node (namespace `default`, where the kubelet records node
/// events), so `kubectl describe node` and dashboards show the drain. Best-effort: a failure
/// (no permission to create events, say) never fails the drain; it is logged at -v.
pub async fn event(target: &Target, node: &str, reason: Reason, message: &str) {
    if let Err(e) = record_event(target, node, reason, message).await {
        tracing::info!("could not record the event {reason:?} on node {node}: {e}");
    }
}

async fn record_event(
    target: &Target,
    node: &str,
    reason: Reason,
    message: &str,
) -> Result<(), String> {
    let uid = node_uid(target, node).await;
    let now = jiff::Timestamp::now();
    let stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let kind = match reason {
        Reason::EvictionBlocked | Reason::DeletedAtDeadline => "Warning",
        _ => "Normal",
    };
    // Named as client-go's recorder names them: the object's name and the time in hex.
    let name = format!("{node}.{:x}", now.as_nanosecond());
    let value = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": node, "uid": uid},
        "reason": format!("{reason:?}"),
        "message": message,
        "type": kind,
        "source": {"component": EVENT_SOURCE},
        "reportingComponent": EVENT_SOURCE,
        "reportingInstance": crate::journal::run_id(),
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    });
    let event: Event = serde_json::from_value(value).map_err(|e| e.to_string())?;
    Api::<Event>::namespaced(target.client.clone(), "default")
        .create(&kube::api::PostParams::default(), &event)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The node's UID for its events: as the journal last read or wrote the node, else read once
/// per run and node; the name when it cannot be read.
async fn node_uid(target: &Target, node: &str) -> String {
    static UIDS: std::sync::OnceLock<Mutex<HashMap<String, String>>> = std::sync::OnceLock::new();
    if let Some(uid) = crate::journal::observed_uid(node) {
        return uid;
    }
    let uids = UIDS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(uid) = uids.lock().unwrap_or_else(|e| e.into_inner()).get(node) {
        return uid.clone();
    }
    let uid = Api::<Node>::all(target.client.clone())
        .get_metadata(node)
        .await
        .ok()
        .and_then(|n| n.metadata.uid)
        .unwrap_or_else(|| node.to_string());
    uids.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(node.to_string(), uid.clone());
    uid
}

/// `terminating_is_gone`: with a skip-wait limit, pods still terminating were waited for that
/// long already (a dead node never finishes them) and are not left behind.
async fn verify(
    ctx: &Ctx<'_>,
    node: &str,
    journal: &NodeJournal,
    terminating_is_gone: bool,
) -> shared::Result<()> {
    // With --pod-selector, only the pods it selects had to go.
    let mut on_node = ListParams::default().fields(&format!("spec.nodeName={node}"));
    if let Some(selector) = &journal.options.pod_selector {
        on_node = on_node.labels(selector);
    }
    let pods: Vec<PodSummary> = crate::world::list_summaries::<Pod, _>(&ctx.client(), &on_node)
        .await
        .map_err(|e| ctx.err(e))?;
    let left: Vec<String> = pods
        .iter()
        .filter(|p| !plan::stays(p))
        .filter(|p| !(terminating_is_gone && p.terminating))
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .collect();
    if !left.is_empty() {
        return Err(Error::Failed(format!(
            "still on node {node}: {}",
            left.join(", ")
        )));
    }
    if journal.prescaled.is_empty() {
        return Ok(());
    }
    // One list for every pre-scaled Deployment.
    let deployments =
        api_over::<Deployment>(ctx, journal.prescaled.iter().map(|p| p.namespace.as_str()))
            .list(&ListParams::default())
            .await
            .map_err(|e| ctx.err(e))?;
    for p in &journal.prescaled {
        let Some(d) = deployments.items.iter().find(|d| {
            d.namespace().as_deref() == Some(p.namespace.as_str()) && d.name_any() == p.name
        }) else {
            return Err(Error::Failed(format!(
                "deployment {}/{} is not restored: it is gone",
                p.namespace, p.name
            )));
        };
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        if replicas != p.original || d.annotations().contains_key(ORIGINAL_REPLICAS) {
            return Err(Error::Failed(format!(
                "deployment {}/{} is not restored",
                p.namespace, p.name
            )));
        }
    }
    Ok(())
}
