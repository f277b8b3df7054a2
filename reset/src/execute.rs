//! Carrying out a reset from its journal. Every step is idempotent and checks the cluster
//! before acting (uid preconditions on deletes), so a reset interrupted anywhere — Ctrl-C,
//! kill -9, a lost connection — is finished by running the same steps again (`resume`).

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, Preconditions};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use shared::journal;
use shared::lease::Liveness;
use shared::{Error, Target};

use crate::journal::{
    ANNOTATION, AutoscalerRecord, ClaimRecord, HEARTBEAT_ANNOTATION, Journal, OwnerRecord,
    RUN_ANNOTATION, Step, Strategy,
};
use crate::world::{KEDA_PAUSED, snapshot_resource};

/// What a step needs: the connection, the namespace, when to give up and this run's id
/// (written with the journal: see [`Expect`]).
pub struct Ctx<'a> {
    pub target: &'a Target,
    pub namespace: String,
    pub deadline: Instant,
    pub run: String,
    /// What wakes the reset's waits: the namespace's pods, claims and owners, watched.
    changes: shared::wait::Changes,
}

impl<'a> Ctx<'a> {
    /// A new run in `namespace` that gives up `timeout` from now.
    pub fn new(target: &'a Target, namespace: &str, timeout: Duration) -> Self {
        let (client, all) = (&target.client, kube::runtime::watcher::Config::default);
        let changes = shared::wait::Changes::default()
            .watching::<Pod>(client, namespace, all())
            .watching::<PersistentVolumeClaim>(client, namespace, all())
            .watching::<StatefulSet>(client, namespace, all())
            .watching::<Deployment>(client, namespace, all());
        Ctx {
            target,
            namespace: namespace.to_string(),
            deadline: deadline(timeout),
            run: journal::new_run_id(),
            changes,
        }
    }

    fn client(&self) -> Client {
        self.target.client.clone()
    }

    fn api_error(&self, e: kube::Error) -> Error {
        self.target.api_error(e)
    }
}

/// What an owner looks like now.
#[derive(Debug, Clone)]
pub struct OwnerState {
    pub replicas: i32,
    pub ready: i32,
    pub current: i32,
    pub selector: String,
}

/// The whole selector (matchLabels and matchExpressions) as a query; empty when it selects
/// nothing usable, which `pods_of` refuses rather than list every pod of the namespace.
fn selector_string(
    selector: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
) -> String {
    shared::selector::to_query(selector).unwrap_or_default()
}

/// The owner's API: one code path for both kinds.
fn owner_api(ctx: &Ctx<'_>, owner: &OwnerRecord) -> Api<DynamicObject> {
    Api::namespaced_with(ctx.client(), &ctx.namespace, &owner.kind.resource())
}

/// `spec.replicas` of an owner read dynamically; 1 when unset (the API server's default).
fn desired_replicas(object: &DynamicObject) -> i32 {
    object.data["spec"]["replicas"]
        .as_i64()
        .and_then(|r| i32::try_from(r).ok())
        .unwrap_or(1)
}

pub async fn owner_state(ctx: &Ctx<'_>, owner: &OwnerRecord) -> shared::Result<Option<OwnerState>> {
    let found = owner_api(ctx, owner)
        .get_opt(&owner.name)
        .await
        .map_err(|e| ctx.api_error(e))?;
    Ok(found.map(|object| {
        let count = |field: &str| {
            object.data["status"][field]
                .as_i64()
                .and_then(|r| i32::try_from(r).ok())
                .unwrap_or(0)
        };
        let selector = serde_json::from_value(object.data["spec"]["selector"].clone())
            .map(|s| selector_string(&s))
            .unwrap_or_default();
        OwnerState {
            replicas: desired_replicas(&object),
            ready: count("readyReplicas"),
            current: count("replicas"),
            selector,
        }
    }))
}

async fn patch_owner(ctx: &Ctx<'_>, owner: &OwnerRecord, patch: &Value) -> shared::Result<()> {
    owner_api(ctx, owner)
        .patch(&owner.name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map(drop)
        .map_err(|e| ctx.api_error(e))
}

pub async fn scale(ctx: &Ctx<'_>, owner: &OwnerRecord, replicas: i32) -> shared::Result<()> {
    let patch = Patch::Merge(json!({"spec": {"replicas": replicas}}));
    owner_api(ctx, owner)
        .patch_scale(&owner.name, &PatchParams::default(), &patch)
        .await
        .map(drop)
        .map_err(|e| ctx.api_error(e))
}

/// Whose journal a write may replace. Every write carries the owner's resourceVersion as
/// read just before, so two runs cannot both pass the check and both write.
#[derive(Debug, Clone)]
pub enum Expect {
    /// A new reset's first write: no journal on the owner, still at the replicas it was
    /// planned with (`resource_version` as read when planning).
    Fresh {
        resource_version: Option<String>,
        replicas: i32,
    },
    /// Taking a recorded reset over from the run that wrote it (`None`: a journal written
    /// before runs were recorded).
    From(Option<String>),
    /// This run's own journal.
    Mine,
}

/// The owner's metadata and replicas now.
async fn owner_meta(
    ctx: &Ctx<'_>,
    owner: &OwnerRecord,
) -> shared::Result<
    Option<(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        i32,
    )>,
> {
    let found = owner_api(ctx, owner)
        .get_opt(&owner.name)
        .await
        .map_err(|e| ctx.api_error(e))?;
    Ok(found.map(|object| {
        let replicas = desired_replicas(&object);
        (object.metadata, replicas)
    }))
}

/// The refusal when another run holds (or just took) the journal: nothing of this run's
/// plan has been done, and the commands to paste are the other run's.
pub(crate) fn owned_elsewhere(namespace: &str, owner: &OwnerRecord) -> Error {
    let owner = owner.reference();
    Error::Failed(format!(
        "{owner} is being reset by another run (its journal was written after this run read the owner): this run changed nothing; see it with `{}`; if that run was interrupted, {}",
        crate::hints::status_command(namespace),
        crate::hints::resume_abort_commands(&owner, namespace)
    ))
}

/// The owner's annotations that hold a reset: the journal, its run and the run's heartbeat.
static KEYS: journal::Keys = journal::Keys {
    journal: ANNOTATION,
    run: Some(RUN_ANNOTATION),
    heartbeat: HEARTBEAT_ANNOTATION,
};

/// Writes `journal` (None: removes it) on `owner` with this run's id, if `expect` holds
/// (`shared::journal`: a 409 Conflict means the owner changed since it was read; it is read
/// again and judged).
async fn write_journal(
    ctx: &Ctx<'_>,
    owner: &OwnerRecord,
    journal: Option<&Journal>,
    expect: Expect,
) -> shared::Result<()> {
    let text = journal.map(Journal::to_annotation);
    let desired = match &text {
        Some(text) => journal::Desired::Set(text),
        None => journal::Desired::Remove,
    };
    let (expect, known, planned_replicas) = match expect {
        Expect::Fresh {
            resource_version,
            replicas,
        } => (journal::Expect::Fresh, resource_version, Some(replicas)),
        Expect::From(previous) => (journal::Expect::From(previous), None, None),
        Expect::Mine => (journal::Expect::Mine, None, None),
    };
    let rules = OwnerRules {
        ctx,
        owner,
        taking_over: matches!(expect, journal::Expect::From(_)),
        planned_replicas,
    };
    journal::Write {
        target: ctx.target,
        api: &owner_api(ctx, owner),
        name: &owner.name,
        keys: &KEYS,
        me: &ctx.run,
        lease_key: format!("{}/{}", ctx.namespace, owner.reference()),
        expect,
        known,
        desired,
        also: None,
    }
    .run(&rules)
    .await
    .map(drop)
}

/// How a write of the journal on an owner refuses.
struct OwnerRules<'a> {
    ctx: &'a Ctx<'a>,
    owner: &'a OwnerRecord,
    taking_over: bool,
    /// A new reset's first write: the replicas it was planned with.
    planned_replicas: Option<i32>,
}

impl journal::Rules<DynamicObject> for OwnerRules<'_> {
    fn conflict(&self, conflict: journal::Conflict) -> Error {
        let (namespace, owner) = (&self.ctx.namespace, self.owner);
        match conflict {
            journal::Conflict::KeptChanging => Error::Failed(format!(
                "{} kept changing while the journal was written (10 conflicts in a row): run the command again",
                owner.reference()
            )),
            journal::Conflict::HeldByAnother => owned_elsewhere(namespace, owner),
            _ if self.taking_over => owned_elsewhere(namespace, owner),
            journal::Conflict::Finished | journal::Conflict::TakenOver => Error::Failed(format!(
                "another run took over the reset recorded on {}: this run stops here and leaves the reset to it",
                owner.reference()
            )),
        }
    }

    fn still_as_planned(&self, current: &DynamicObject) -> shared::Result<()> {
        let (Some(planned), replicas) = (self.planned_replicas, desired_replicas(current)) else {
            return Ok(());
        };
        if replicas != planned {
            return Err(Error::Failed(format!(
                "{} changed since this run read it (replicas {planned} → {replicas}): this run changed nothing; run it again to plan with what is there now",
                self.owner.reference()
            )));
        }
        Ok(())
    }

    fn refuse_if_running(&self, liveness: &Liveness) -> shared::Result<()> {
        crate::status::refuse_if_running(liveness, &self.owner.reference(), &self.ctx.namespace)
    }

    fn gone(&self) -> Error {
        Error::Failed(format!(
            "{} disappeared during the reset",
            self.owner.reference()
        ))
    }
}

/// The deadline `timeout` from now; a timeout beyond what the clock holds means no limit.
pub fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(10 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Writes the first journal of a new reset: only if the owner holds none and is as it was
/// planned (`resource_version` as read when planning). Another run's journal: exit 1.
pub async fn start(
    ctx: &Ctx<'_>,
    journal: &Journal,
    resource_version: Option<String>,
) -> shared::Result<()> {
    let replicas = journal.holder()?.replicas;
    record(
        ctx,
        journal,
        Expect::Fresh {
            resource_version,
            replicas,
        },
    )
    .await
}

/// Makes this run the owner of a recorded reset, if `previous` (the run read with it) still
/// holds it: `resume` and `abort` of one reset, or a rerun, never drive it twice at once.
pub async fn take_over(
    ctx: &Ctx<'_>,
    journal: &Journal,
    previous: Option<String>,
) -> shared::Result<()> {
    write_journal(
        ctx,
        journal.holder()?,
        Some(journal),
        Expect::From(previous),
    )
    .await
}

/// Writes the journal on the first owner (the record every later step updates).
pub async fn save(ctx: &Ctx<'_>, journal: &Journal) -> shared::Result<()> {
    record(ctx, journal, Expect::Mine).await
}

async fn record(ctx: &Ctx<'_>, journal: &Journal, expect: Expect) -> shared::Result<()> {
    let owner = journal.holder()?;
    let hint = crate::hints::resume_hint(&owner.reference(), &ctx.namespace);
    if matches!(expect, Expect::Fresh { .. }) {
        // Interrupted while the first write is in flight, the reset may or may not be
        // recorded (a drain's note once said it was when it was not: soak seed 100069).
        shared::interrupt::changing(format!(
            "the reset of {} was starting (its first write, the journal on {}, was in flight): `{}` shows whether it is recorded; either way, the same command again finishes it",
            journal.claim_names(),
            owner.reference(),
            crate::hints::status_command(&ctx.namespace)
        ));
    } else {
        shared::interrupt::changing(format!("the reset was under way; {hint}"));
    }
    write_journal(ctx, owner, Some(journal), expect).await?;
    // The journal's inner steps are for -v: the operator reads each change as it is made.
    tracing::info!(
        "journal: {} on {}",
        step_name(journal.step),
        owner.reference()
    );
    shared::interrupt::changing(format!(
        "the reset stopped after step {}; {hint}",
        step_name(journal.step)
    ));
    shared::cli::step_boundary(&step_name(journal.step)).await;
    Ok(())
}

pub fn step_name(step: Step) -> String {
    shared::journal::step_name(step)
}

async fn advance(ctx: &Ctx<'_>, journal: &mut Journal, step: Step) -> shared::Result<()> {
    journal.step = step;
    save(ctx, journal).await
}

/// Removes this run's journal (and its run id) from `owner`.
pub async fn remove_journal(ctx: &Ctx<'_>, owner: &OwnerRecord) -> shared::Result<()> {
    write_journal(ctx, owner, None, Expect::Mine).await
}

/// Polls `check` until it yields a value or the deadline passes.
async fn until<T, F, Fut>(ctx: &Ctx<'_>, what: &str, check: F) -> shared::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = shared::Result<Option<T>>>,
{
    shared::wait::until(ctx.deadline, &ctx.changes, what, check).await
}

/// Waits until every owner runs its recorded replicas, all Ready: the check that ends an
/// abort the way `verify` ends a reset.
pub async fn wait_owners_ready(ctx: &Ctx<'_>, owners: &[OwnerRecord]) -> shared::Result<()> {
    for owner in owners {
        until(
            ctx,
            &format!(
                "{} to be back at {} Ready",
                owner.reference(),
                owner.replicas
            ),
            || async {
                let Some(state) = owner_state(ctx, owner).await? else {
                    return Err(Error::Failed(format!(
                        "{} disappeared during the abort",
                        owner.reference()
                    )));
                };
                let back = state.replicas == owner.replicas
                    && state.current == owner.replicas
                    && state.ready == owner.replicas;
                Ok(back.then_some(()))
            },
        )
        .await?;
    }
    Ok(())
}

async fn pods_of(ctx: &Ctx<'_>, selector: &str) -> shared::Result<Vec<Pod>> {
    if selector.is_empty() {
        return Err(Error::Failed(
            "the owner's selector is empty or invalid: pvcreset cannot tell its pods from the others of the namespace".into(),
        ));
    }
    Api::<Pod>::namespaced(ctx.client(), &ctx.namespace)
        .list(&ListParams::default().labels(selector))
        .await
        .map(|l| l.items)
        .map_err(|e| ctx.api_error(e))
}

/// Creates the named `object` once (`shared::create`); true when this call created it. A 409
/// means it exists (an earlier, interrupted attempt made it).
async fn create_once<K>(ctx: &Ctx<'_>, api: &Api<K>, object: &K) -> shared::Result<bool>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let created = shared::create::create_once(ctx.target, api, object, ctx.deadline).await?;
    Ok(matches!(created, shared::create::Created::Now(_)))
}

async fn get_claim(ctx: &Ctx<'_>, name: &str) -> shared::Result<Option<PersistentVolumeClaim>> {
    Api::<PersistentVolumeClaim>::namespaced(ctx.client(), &ctx.namespace)
        .get_opt(name)
        .await
        .map_err(|e| ctx.api_error(e))
}

fn gone_or_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
}

/// Deletes the old claim, never a newer one with the same name (uid precondition).
async fn delete_old_claim(ctx: &Ctx<'_>, claim: &ClaimRecord) -> shared::Result<()> {
    let dp = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(claim.uid.clone()),
            resource_version: None,
        }),
        ..Default::default()
    };
    match Api::<PersistentVolumeClaim>::namespaced(ctx.client(), &ctx.namespace)
        .delete(&claim.name, &dp)
        .await
    {
        Ok(_) => {
            println!("deleted claim {}", claim.name);
            Ok(())
        }
        Err(e) if gone_or_conflict(&e) => Ok(()),
        Err(e) => Err(ctx.api_error(e)),
    }
}

async fn old_claims_left(
    ctx: &Ctx<'_>,
    journal: &Journal,
) -> shared::Result<Vec<PersistentVolumeClaim>> {
    let mut left = Vec::new();
    for c in &journal.claims {
        if let Some(claim) = get_claim(ctx, &c.name).await?
            && claim.uid().as_deref() == Some(c.uid.as_str())
        {
            left.push(claim);
        }
    }
    Ok(left)
}

async fn pause_autoscalers(ctx: &Ctx<'_>, journal: &Journal) -> shared::Result<()> {
    for a in &journal.autoscalers {
        match a.kind.as_str() {
            "HorizontalPodAutoscaler" => {
                let patch = json!({"spec": {"behavior": {"scaleUp": {"selectPolicy": "Disabled"}, "scaleDown": {"selectPolicy": "Disabled"}}}});
                Api::<HorizontalPodAutoscaler>::namespaced(ctx.client(), &ctx.namespace)
                    .patch(&a.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(|e| ctx.api_error(e))?;
            }
            _ => {
                let patch = json!({"metadata": {"annotations": {KEDA_PAUSED: "true"}}});
                Api::<DynamicObject>::namespaced_with(
                    ctx.client(),
                    &ctx.namespace,
                    &crate::world::scaled_object_resource(),
                )
                .patch(&a.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| ctx.api_error(e))?;
            }
        }
        println!("paused {} {}", a.kind, a.name);
    }
    Ok(())
}

/// Puts each autoscaler back exactly as recorded.
pub async fn restore_autoscalers(
    ctx: &Ctx<'_>,
    autoscalers: &[AutoscalerRecord],
) -> shared::Result<()> {
    for a in autoscalers {
        match a.kind.as_str() {
            "HorizontalPodAutoscaler" => {
                let api = Api::<HorizontalPodAutoscaler>::namespaced(ctx.client(), &ctx.namespace);
                let Some(hpa) = api.get_opt(&a.name).await.map_err(|e| ctx.api_error(e))? else {
                    continue;
                };
                let now = hpa
                    .spec
                    .as_ref()
                    .map(|s| serde_json::to_value(&s.behavior).unwrap_or(Value::Null));
                if now.as_ref() == Some(&a.original) {
                    continue;
                }
                // Replace, not merge: a merge would keep the Disabled policies.
                let op = if a.original.is_null() {
                    json!([{"op": "remove", "path": "/spec/behavior"}])
                } else {
                    json!([{"op": "add", "path": "/spec/behavior", "value": a.original}])
                };
                let patch: json_patch::Patch = serde_json::from_value(op).expect("a JSON patch");
                api.patch(&a.name, &PatchParams::default(), &Patch::<()>::Json(patch))
                    .await
                    .map_err(|e| ctx.api_error(e))?;
            }
            _ => {
                let patch = json!({"metadata": {"annotations": {KEDA_PAUSED: a.original}}});
                match Api::<DynamicObject>::namespaced_with(
                    ctx.client(),
                    &ctx.namespace,
                    &crate::world::scaled_object_resource(),
                )
                .patch(&a.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                {
                    Ok(_) => {}
                    Err(e) if gone_or_conflict(&e) => {}
                    Err(e) => return Err(ctx.api_error(e)),
                }
            }
        }
        println!("restored {} {}", a.kind, a.name);
    }
    Ok(())
}

async fn take_snapshots(ctx: &Ctx<'_>, journal: &Journal) -> shared::Result<()> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(ctx.client(), &ctx.namespace, &snapshot_resource());
    for s in &journal.snapshots {
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": s.name, "namespace": ctx.namespace, "labels": {"app.kubernetes.io/created-by": "kubectl-pvcreset"}},
            "spec": {"volumeSnapshotClassName": s.class, "source": {"persistentVolumeClaimName": s.claim}}
        }))
        .expect("a VolumeSnapshot");
        create_once(ctx, &api, &object).await?;
        until(
            ctx,
            &format!("VolumeSnapshot {} to be ready", s.name),
            || async {
                let snap = api.get_opt(&s.name).await.map_err(|e| ctx.api_error(e))?;
                Ok(snap
                    .filter(|o| o.data["status"]["readyToUse"] == json!(true))
                    .map(|_| ()))
            },
        )
        .await?;
        println!("snapshot {} of {} is ready", s.name, s.claim);
    }
    Ok(())
}

/// Runs the reset from wherever its journal says it stands, to the end.
pub async fn drive(ctx: &Ctx<'_>, journal: &mut Journal) -> shared::Result<()> {
    let started = Instant::now();
    match journal.strategy {
        Strategy::Pod => drive_pod(ctx, journal).await?,
        Strategy::Scale => drive_scale(ctx, journal).await?,
    }
    verify(ctx, journal).await?;
    remove_journal(ctx, journal.holder()?).await?;
    let restored = journal.claims.iter().any(|c| {
        c.recreate
            .as_ref()
            .and_then(crate::plan::restores_from)
            .is_some()
    });
    println!(
        "done in {}: {} {}, {} back and Ready",
        shared::duration::format(started.elapsed()),
        journal.claim_names(),
        if restored {
            "restored from their snapshots"
        } else {
            "replaced by new empty claims"
        },
        journal
            .owners
            .iter()
            .map(|o| format!(
                "{} at {}",
                o.reference(),
                shared::plural::count(o.replicas.max(0) as usize, "replica")
            ))
            .collect::<Vec<_>>()
            .join(", "),
    );
    Ok(())
}

async fn drive_pod(ctx: &Ctx<'_>, journal: &mut Journal) -> shared::Result<()> {
    if journal.step < Step::Snapshotted && !journal.snapshots.is_empty() {
        take_snapshots(ctx, journal).await?;
        advance(ctx, journal, Step::Snapshotted).await?;
    }
    if journal.step < Step::ClaimsDeleted {
        for c in &journal.claims {
            delete_old_claim(ctx, c).await?;
        }
        let pods: Api<Pod> = Api::namespaced(ctx.client(), &ctx.namespace);
        if let Some(pod) = &journal.pod {
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: Some(pod.uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            match pods.delete(&pod.name, &dp).await {
                Ok(_) => println!("deleted pod {} (its StatefulSet recreates it)", pod.name),
                Err(e) if gone_or_conflict(&e) => {}
                Err(e) => return Err(ctx.api_error(e)),
            }
        }
        let old_pod = journal.pod.clone();
        until(ctx, "the old claim to be gone", || async {
            let left = old_claims_left(ctx, journal).await?;
            if left.is_empty() {
                return Ok(Some(()));
            }
            // A replacement of the planned pod holds the old claim: one created while the claim
            // is terminating waits on it forever ("persistentvolumeclaim is being deleted"),
            // and one the operator caused before the claim was deleted runs on it and keeps it
            // (found by the soak). Either way it is the planned pod's successor on the old
            // claim: delete it as the planned pod would have been.
            if let Some(old) = &old_pod
                && let Some(p) = pods
                    .get_opt(&old.name)
                    .await
                    .map_err(|e| ctx.api_error(e))?
                && p.uid().as_deref() != Some(old.uid.as_str())
                && p.metadata.deletion_timestamp.is_none()
                && left.iter().all(|c| c.metadata.deletion_timestamp.is_some())
                && left.iter().any(|c| crate::world::mounts(&p, &c.name_any()))
            {
                // Only that pod (uid precondition); a failed delete is tried again next round.
                let dp = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: p.uid(),
                        resource_version: None,
                    }),
                    ..Default::default()
                };
                if pods.delete(&old.name, &dp).await.is_ok() {
                    println!(
                        "deleted pod {} (a replacement holding the old claim)",
                        old.name
                    );
                }
            }
            Ok(None)
        })
        .await?;
        advance(ctx, journal, Step::ClaimsDeleted).await?;
    }
    Ok(())
}

/// Puts an owner someone else rescaled mid-reset back at `want`, only while this run still
/// holds the reset: the scale is a patch conditional on the resourceVersion of the read that
/// found this run's journal on it, so a run another one took over never acts again (found by
/// the soak: a taken-over run scaled an owner to 0 after the run that took over had scaled it
/// back up). Returns whether it scaled.
async fn rescale_if_moved(
    ctx: &Ctx<'_>,
    owner: &OwnerRecord,
    want: i32,
    why: &str,
) -> shared::Result<bool> {
    // A conflict is the owner changing between the read and the scale (its controller's
    // status update, often, right after someone scaled it): read again and retry. Dropping it
    // left a resume waiting for an owner at 0 until it timed out.
    const ATTEMPTS: usize = 8;
    for _ in 0..ATTEMPTS {
        if let Some(scaled) = try_rescale(ctx, owner, want, why).await? {
            return Ok(scaled);
        }
    }
    Err(Error::Failed(format!(
        "{} kept changing while it was scaled back to {want} ({ATTEMPTS} conflicts in a row)",
        owner.reference()
    )))
}

/// One read and conditional scale; None on a conflict.
async fn try_rescale(
    ctx: &Ctx<'_>,
    owner: &OwnerRecord,
    want: i32,
    why: &str,
) -> shared::Result<Option<bool>> {
    let Some((meta, replicas)) = owner_meta(ctx, owner).await? else {
        return Ok(Some(false));
    };
    if replicas == want {
        return Ok(Some(false));
    }
    let ours = meta
        .annotations
        .as_ref()
        .and_then(|a| a.get(RUN_ANNOTATION))
        == Some(&ctx.run);
    if !ours {
        return Err(Error::Failed(format!(
            "another run took over the reset recorded on {}: this run stops here and leaves the reset to it",
            owner.reference()
        )));
    }
    // Progress (stderr): the decision, before the scale is tried (it may meet a conflict).
    eprintln!(
        "{} is at {replicas} replicas, not {want} as the reset left it ({why}): scaling it to {want} again",
        owner.reference()
    );
    let mut patch = json!({"spec": {"replicas": want}});
    if let Some(rv) = meta.resource_version.filter(|v| !v.is_empty()) {
        patch["metadata"] = json!({"resourceVersion": rv});
    }
    match patch_owner(ctx, owner, &patch).await {
        Ok(()) => Ok(Some(true)),
        Err(Error::Api {
            status: Some(409), ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// While its claims are being deleted, an owner scaled up by someone else would keep the old
/// claims in use (Terminating) forever and every resume would time out (found by the soak:
/// `kubectl scale` by hand mid-reset): scale it back to 0. The reset still restores the
/// recorded replicas at the end.
async fn hold_at_zero(ctx: &Ctx<'_>, journal: &Journal) -> shared::Result<()> {
    for owner in &journal.owners {
        rescale_if_moved(ctx, owner, 0, "scaled during the reset, not by this run").await?;
    }
    Ok(())
}

async fn drive_scale(ctx: &Ctx<'_>, journal: &mut Journal) -> shared::Result<()> {
    if journal.step < Step::AutoscalersPaused && !journal.autoscalers.is_empty() {
        pause_autoscalers(ctx, journal).await?;
        advance(ctx, journal, Step::AutoscalersPaused).await?;
    }
    if journal.step < Step::Snapshotted && !journal.snapshots.is_empty() {
        take_snapshots(ctx, journal).await?;
        advance(ctx, journal, Step::Snapshotted).await?;
    }
    if journal.step < Step::ScaledDown {
        hold_claim_retention(ctx, &journal.owners).await?;
        for owner in &journal.owners {
            scale(ctx, owner, 0).await?;
            println!("scaled {} {} → 0", owner.reference(), owner.replicas);
        }
        for owner in &journal.owners {
            let state = owner_state(ctx, owner).await?.ok_or_else(|| {
                Error::Failed(format!(
                    "{} disappeared during the reset",
                    owner.reference()
                ))
            })?;
            until(
                ctx,
                &format!("the pods of {} to be gone", owner.reference()),
                || async {
                    let pods = pods_of(ctx, &state.selector).await?;
                    Ok(pods.is_empty().then_some(()))
                },
            )
            .await?;
        }
        advance(ctx, journal, Step::ScaledDown).await?;
    }
    if journal.step < Step::ClaimsDeleted {
        hold_at_zero(ctx, journal).await?;
        for c in &journal.claims {
            delete_old_claim(ctx, c).await?;
        }
        until(
            ctx,
            "the old claims to be gone (finalizers done)",
            || async {
                if old_claims_left(ctx, journal).await?.is_empty() {
                    return Ok(Some(()));
                }
                hold_at_zero(ctx, journal).await?;
                Ok(None)
            },
        )
        .await?;
        advance(ctx, journal, Step::ClaimsDeleted).await?;
    }
    if journal.step < Step::ClaimsRecreated {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client(), &ctx.namespace);
        for c in &journal.claims {
            let Some(spec) = &c.recreate else { continue };
            let claim: PersistentVolumeClaim =
                serde_json::from_value(spec.clone()).map_err(|e| {
                    Error::Failed(format!(
                        "the journal's spec of claim {} is unusable: {e}",
                        c.name
                    ))
                })?;
            // The old claim is gone by now, so a claim of this name is the new one.
            if create_once(ctx, &api, &claim).await? {
                match crate::plan::restores_from(spec) {
                    Some(snapshot) => {
                        println!("created claim {} from VolumeSnapshot {snapshot}", c.name)
                    }
                    None => println!("created claim {} (new, empty)", c.name),
                }
            }
        }
        advance(ctx, journal, Step::ClaimsRecreated).await?;
    }
    if journal.step < Step::ScaledUp {
        for owner in &journal.owners {
            scale(ctx, owner, owner.replicas).await?;
            println!("scaled {} 0 → {}", owner.reference(), owner.replicas);
        }
        advance(ctx, journal, Step::ScaledUp).await?;
    } else {
        // Resumed after the scale-up: an owner someone took back to 0 since would never
        // become Ready again.
        for owner in journal.owners.iter().filter(|o| o.replicas > 0) {
            if owner_meta(ctx, owner).await?.is_some_and(|(_, r)| r == 0) {
                rescale_if_moved(ctx, owner, owner.replicas, "scaled to 0 after the scale-up")
                    .await?;
            }
        }
    }
    restore_claim_retention(ctx, &journal.owners).await?;
    restore_autoscalers(ctx, &journal.autoscalers).await?;
    Ok(())
}

/// Holds each StatefulSet owner recorded with a claim retention policy at
/// `whenScaled: Retain` before it is scaled to 0: scaling to 0 condemns every ordinal, and
/// under `whenScaled: Delete` the controller gives each condemned pod's claims to the garbage
/// collector (pkg/controller/statefulset/stateful_set_utils.go) — not only the named ones.
/// The policy is changed before the scale, so the controller sees it first.
async fn hold_claim_retention(ctx: &Ctx<'_>, owners: &[OwnerRecord]) -> shared::Result<()> {
    for owner in owners.iter().filter(|o| o.claim_retention.is_some()) {
        let patch =
            json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Retain"}}});
        patch_owner(ctx, owner, &patch).await?;
        println!(
            "set {}'s claim retention to whenScaled: Retain for the reset",
            owner.reference()
        );
    }
    Ok(())
}

/// Puts back each claim retention policy the reset held (at its end, and by `abort`).
/// Idempotent: the recorded policy is merged as it was.
pub async fn restore_claim_retention(ctx: &Ctx<'_>, owners: &[OwnerRecord]) -> shared::Result<()> {
    for owner in owners {
        let Some(policy) = &owner.claim_retention else {
            continue;
        };
        let patch = json!({"spec": {"persistentVolumeClaimRetentionPolicy": policy}});
        patch_owner(ctx, owner, &patch).await?;
        println!(
            "put {}'s claim retention back to whenScaled: {}",
            owner.reference(),
            policy["whenScaled"].as_str().unwrap_or("Retain")
        );
    }
    Ok(())
}

/// New claims (another uid) Bound, owners back at their replicas, and every pod mounting a
/// new claim Ready. Other pods of the owner are not the reset's business (one may have been
/// broken before).
async fn verify(ctx: &Ctx<'_>, journal: &Journal) -> shared::Result<()> {
    let scaled_to_zero = journal.owners.iter().all(|o| o.replicas == 0);
    until(
        ctx,
        "the new claims to be Bound and their pods Ready",
        || async {
            for c in &journal.claims {
                let Some(claim) = get_claim(ctx, &c.name).await? else {
                    // A StatefulSet at 0 replicas makes its claims with its first pod.
                    if scaled_to_zero && c.recreate.is_none() {
                        continue;
                    }
                    return Ok(None);
                };
                let bound = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
                if claim.uid().as_deref() == Some(c.uid.as_str()) || !bound {
                    return Ok(None);
                }
            }
            for owner in &journal.owners {
                let Some(state) = owner_state(ctx, owner).await? else {
                    return Err(Error::Failed(format!(
                        "{} disappeared during the reset",
                        owner.reference()
                    )));
                };
                // Wait for the scale-up to land, not for the recorded count: an operator who
                // scales the owner by hand mid-reset (found by the soak) sets another one.
                if owner.replicas > 0 && state.replicas == 0 {
                    return Ok(None);
                }
            }
            if scaled_to_zero {
                return Ok(Some(()));
            }
            let pods = Api::<Pod>::namespaced(ctx.client(), &ctx.namespace)
                .list(&ListParams::default())
                .await
                .map_err(|e| ctx.api_error(e))?;
            for c in &journal.claims {
                let users: Vec<&Pod> = pods
                    .items
                    .iter()
                    .filter(|p| crate::world::mounts(p, &c.name))
                    .collect();
                let all_ready = !users.is_empty()
                    && users.iter().all(|p| {
                        shared::pod::is_ready(p)
                            && journal
                                .pod
                                .as_ref()
                                .is_none_or(|old| p.uid().as_deref() != Some(old.uid.as_str()))
                    });
                if !all_ready {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        },
    )
    .await
}
