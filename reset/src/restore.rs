//! `kubectl pvcreset restore CLAIM`: the way back from a reset taken with `--snapshot` — the
//! claim created again from its VolumeSnapshot (`dataSource`), through the same journaled,
//! resumable steps as a reset (scale the owner to 0, delete the claim, create it from the
//! snapshot, scale back, verify Bound and Ready). `abort` after the delete of a `--snapshot`
//! reset does the same from the reset's own journal.
//!
//! Where the record lives: a reset's journal is removed when it ends, but the snapshots it
//! took stay, labelled `app.kubernetes.io/created-by: kubectl-pvcreset` with their source
//! claim in `spec.source.persistentVolumeClaimName`; `restore` takes the newest ready one of
//! the claim (or the one `--from` names).

use clap::Args;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use shared::output::PlanFormat;
use shared::owner::WorkloadKind;
use shared::{ChangeArgs, Error, GlobalArgs, Target};

use crate::execute::{self, Ctx};
use crate::journal::{Journal, Step, Strategy};
use crate::plan::{self, RestoreSource, StrategyChoice};
use crate::reset::{self, Options};
use crate::status::Recorded;
use crate::world::snapshot_resource;

/// The label pvcreset puts on the VolumeSnapshots it takes.
pub const CREATED_BY: &str = "app.kubernetes.io/created-by=kubectl-pvcreset";

#[derive(Args, Debug, Clone)]
pub struct RestoreArgs {
    /// The PersistentVolumeClaim to create again from its snapshot
    #[arg(value_name = "PVC")]
    pub claim: String,
    /// The VolumeSnapshot to restore from (default: the newest ready one pvcreset took of the claim)
    #[arg(long, value_name = "SNAPSHOT")]
    pub from: Option<String>,
    /// Restore for an autoscaled owner: pause its HPA or ScaledObject, restore it afterwards
    #[arg(long)]
    pub ignore_autoscaler: bool,
    /// Scale an owner a GitOps tool (Argo CD, Flux) or an operator manages, though it may undo the scale-down
    #[arg(long)]
    pub ignore_gitops: bool,
    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub async fn run(global: &GlobalArgs, args: &RestoreArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    refuse_unknown_claim(&target, &namespace, &args.claim).await?;
    let source = find_snapshot(&target, &namespace, &args.claim, args.from.as_deref()).await?;
    let options = Options {
        strategy: StrategyChoice::Auto,
        snapshot: false,
        ignore_autoscaler: args.ignore_autoscaler,
        ignore_gitops: args.ignore_gitops,
        force: false,
        output: args.output.into(),
        change: args.change.clone(),
        reshape: plan::Reshape::default(),
        restore: vec![source],
    };
    reset::reset_claims(&target, &namespace, vec![args.claim.clone()], &options).await
}

/// A claim that does not exist: the refusal, with close names.
async fn refuse_unknown_claim(target: &Target, namespace: &str, claim: &str) -> shared::Result<()> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(target.client.clone(), namespace);
    let Some(names) = reset::names_when_missing(target, &api, claim).await? else {
        return Ok(());
    };
    let close = plan::suggestions(claim, &names);
    let hint = if close.is_empty() {
        format!(
            "list them with `{}`",
            crate::hints::kubectl("get pvc", namespace)
        )
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    Err(Error::Failed(format!(
        "persistentvolumeclaim {claim:?} not found in namespace {namespace}: {hint}"
    )))
}

/// What a ready snapshot gives a restore.
fn source_of(claim: &str, snapshot: &DynamicObject) -> RestoreSource {
    let status = &snapshot.data["status"];
    RestoreSource {
        claim: claim.to_string(),
        snapshot: snapshot.name_any(),
        restore_size: status["restoreSize"].as_str().map(String::from),
        taken: status["creationTime"]
            .as_str()
            .map(String::from)
            .or_else(|| snapshot.creation_timestamp().map(|t| t.0.to_string())),
    }
}

fn ready(snapshot: &DynamicObject) -> bool {
    snapshot.data["status"]["readyToUse"] == Value::Bool(true)
        && snapshot.metadata.deletion_timestamp.is_none()
}

/// The snapshot to restore `claim` from: the one `from` names (ready), else the newest
/// ready one pvcreset took of the claim. None is the refusal, saying how to get one.
async fn find_snapshot(
    target: &Target,
    namespace: &str,
    claim: &str,
    from: Option<&str>,
) -> shared::Result<RestoreSource> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(target.client.clone(), namespace, &snapshot_resource());
    let missing_api = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 404);
    if let Some(name) = from {
        let found = match api.get_opt(name).await {
            Ok(found) => found,
            Err(e) if missing_api(&e) => None,
            Err(e) => return Err(target.api_error(e)),
        };
        let Some(snapshot) = found else {
            return Err(Error::Failed(format!(
                "--from: VolumeSnapshot {name:?} not found in namespace {namespace}: list them with `{}`",
                crate::hints::kubectl("get volumesnapshots", namespace)
            )));
        };
        if !ready(&snapshot) {
            return Err(Error::Failed(format!(
                "--from: VolumeSnapshot {name} is not ready to use (readyToUse is not true, or it is being deleted): nothing was changed"
            )));
        }
        return Ok(source_of(claim, &snapshot));
    }
    let listed = match api.list(&ListParams::default().labels(CREATED_BY)).await {
        Ok(list) => list.items,
        Err(e) if missing_api(&e) => Vec::new(),
        Err(e) => return Err(target.api_error(e)),
    };
    let mut of_claim: Vec<&DynamicObject> = listed
        .iter()
        .filter(|s| s.data["spec"]["source"]["persistentVolumeClaimName"].as_str() == Some(claim))
        .collect();
    // Newest first (RFC 3339 times in UTC sort as text).
    of_claim.sort_by_key(|s| std::cmp::Reverse(s.creation_timestamp().map(|t| t.0.to_string())));
    match of_claim.iter().find(|s| ready(s)) {
        Some(snapshot) => Ok(source_of(claim, snapshot)),
        None if !of_claim.is_empty() => Err(Error::Failed(format!(
            "no VolumeSnapshot of claim {claim} is ready to use yet ({}): wait, or name another with --from SNAPSHOT",
            of_claim
                .iter()
                .map(|s| s.name_any())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        None => Err(Error::Failed(format!(
            "no VolumeSnapshot of claim {claim} is recorded in namespace {namespace} (pvcreset takes one with `--snapshot`, labelled {CREATED_BY}): nothing to restore from; name one with --from SNAPSHOT"
        ))),
    }
}

/// `abort` after the claims of a `--snapshot` reset are deleted: the reset's journal turned
/// into a restore — the scale strategy from the step after the snapshots, each claim to be
/// created from its snapshot (deleting first whatever claim of that name exists now, by its
/// uid). None when the reset took no snapshot of every claim.
pub async fn restore_journal(
    target: &Target,
    namespace: &str,
    journal: &Journal,
) -> shared::Result<Option<(Journal, Vec<RestoreSource>)>> {
    if journal.step < Step::Snapshotted
        || journal
            .claims
            .iter()
            .any(|c| !journal.snapshots.iter().any(|s| s.claim == c.name))
    {
        return Ok(None);
    }
    let snapshots: Api<DynamicObject> =
        Api::namespaced_with(target.client.clone(), namespace, &snapshot_resource());
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(target.client.clone(), namespace);
    let mut restore = journal.clone();
    restore.strategy = Strategy::Scale;
    restore.step = Step::Snapshotted;
    restore.pod = None;
    let mut sources = Vec::new();
    for c in &mut restore.claims {
        let recorded = journal.snapshots.iter().find(|s| s.claim == c.name);
        let Some(recorded) = recorded else {
            return Ok(None);
        };
        let snapshot = snapshots
            .get_opt(&recorded.name)
            .await
            .map_err(|e| target.api_error(e))?
            .filter(ready)
            .ok_or_else(|| {
                Error::Failed(format!(
                    "claim {} is already deleted and its VolumeSnapshot {} is gone or not ready: the reset cannot be undone; finish it with `{}`",
                    c.name,
                    recorded.name,
                    crate::hints::command("resume", &journal.holder().map(|h| h.reference()).unwrap_or_default(), namespace)
                ))
            })?;
        let source = source_of(&c.name, &snapshot);
        // The claim there now (the new empty one, or the old one still terminating) is what
        // the restore deletes; its spec, else the recorded one, is what it creates again.
        let base = match claims
            .get_opt(&c.name)
            .await
            .map_err(|e| target.api_error(e))?
        {
            Some(now) => {
                c.uid = now.uid().unwrap_or_default();
                plan::recreate_spec(&now)
            }
            None => c.recreate.clone().ok_or_else(|| {
                Error::Failed(format!(
                    "claim {} is deleted and its StatefulSet has not made it again yet: run the abort again once `{}` shows it",
                    c.name,
                    crate::hints::kubectl(&format!("get pvc {}", c.name), namespace)
                ))
            })?,
        };
        c.recreate = Some(plan::restored(base, &source));
        sources.push(source);
    }
    hold_retention(target, namespace, &mut restore).await?;
    Ok(Some((restore, sources)))
}

/// A restore scales StatefulSet owners to 0: one with `whenScaled: Delete` would hand every
/// ordinal's claims to the garbage collector, so its policy is held at Retain as a scale
/// reset does (recorded to be put back).
async fn hold_retention(
    target: &Target,
    namespace: &str,
    journal: &mut Journal,
) -> shared::Result<()> {
    let api: Api<StatefulSet> = Api::namespaced(target.client.clone(), namespace);
    for owner in &mut journal.owners {
        if owner.kind != WorkloadKind::StatefulSet || owner.claim_retention.is_some() {
            continue;
        }
        let Some(sts) = api
            .get_opt(&owner.name)
            .await
            .map_err(|e| target.api_error(e))?
        else {
            continue;
        };
        let policy = sts
            .spec
            .and_then(|s| s.persistent_volume_claim_retention_policy)
            .unwrap_or_default();
        if policy.when_scaled.as_deref() == Some("Delete") {
            owner.claim_retention = Some(serde_json::to_value(&policy).unwrap_or(Value::Null));
        }
    }
    Ok(())
}

/// The restore an abort does, in words.
pub fn render_abort(recorded: &Recorded, restore: &Journal, sources: &[RestoreSource]) -> String {
    let owners: Vec<String> = restore
        .owners
        .iter()
        .map(|o| {
            format!(
                "{} ({})",
                o.reference(),
                shared::plural::count(o.replicas.max(0) as usize, "replica")
            )
        })
        .collect();
    let mut out = format!(
        "Abort the reset of {} on {}: the claims are deleted already, so the abort restores them from the reset's snapshots\n",
        recorded.journal.claim_names(),
        recorded.owner
    );
    for s in sources {
        out.push_str(&format!(
            "  claim {}: created again from VolumeSnapshot {}{}\n",
            s.claim,
            s.snapshot,
            s.taken
                .as_deref()
                .map(|t| format!(" (the data as of {t})"))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "  steps:\n    1. scale {} to 0 and wait until its pods are gone\n    2. delete claim {} (what it holds since the reset is lost) and wait until it is gone\n    3. create {} from the snapshot\n    4. scale back to the recorded replicas\n    5. verify: the restored claims Bound, pods Ready\n",
        owners.join(", "),
        restore.claim_names(),
        restore.claim_names()
    ));
    out.push_str(&format!(
        "  disruption: {} unavailable until its pods are Ready again\n",
        owners.join(", ")
    ));
    out
}

/// `abort` by restoring: show, confirm, take the journal over as the restore, drive it.
pub async fn abort_by_restoring(
    target: &Target,
    namespace: &str,
    recorded: &Recorded,
    output: PlanFormat,
    change: &ChangeArgs,
) -> shared::Result<Option<()>> {
    let Some((mut restore, sources)) =
        restore_journal(target, namespace, &recorded.journal).await?
    else {
        return Ok(None);
    };
    let mut shown = recorded.clone();
    shown.journal = restore.clone();
    shared::change::show_plan(
        target,
        output.into(),
        &serde_json::json!({ "items": [shown] }),
        |_| render_abort(recorded, &restore, &sources),
    )?;
    let doctor = crate::hints::doctor_command(namespace);
    let needs = crate::journal::needed_permissions(&restore);
    let approved = shared::change::Gate::new(target, change, &doctor)
        .preflight(namespace, &needs)
        .confirm("Restore the claims from the snapshots?")
        .on_interrupt(format!(
            "the restore was under way; until it ends the reset stays recorded on {}: run `{}` again to finish it",
            recorded.owner,
            crate::hints::command("abort", &recorded.owner, namespace)
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(Some(()));
    }
    let ctx = Ctx::new(target, namespace, change.timeout);
    execute::take_over(&ctx, &restore, recorded.run.clone()).await?;
    execute::drive(&ctx, &mut restore)
        .await
        .map_err(|e| crate::hints::with_resume_hint(e, &recorded.owner, namespace))?;
    Ok(Some(()))
}
