//! `kubectl pvcreset PVC... | --statefulset NAME (--ordinal N... | --all)`: read, plan, confirm
//! by typing the name, journal, act, verify.

use clap::Args;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use shared::change::Gate;
use shared::output::{OutputFormat, PlanFormat};
use shared::owner::WorkloadKind;
use shared::{ChangeArgs, Error, GlobalArgs, Target};

use crate::execute::{self, Ctx};
use crate::hints::{command, resume_abort_commands, with_resume_hint};
use crate::journal::{ANNOTATION, Journal, OwnerRecord, Strategy, needed_permissions};
use crate::plan::{self, Request, StrategyChoice};
use crate::status::{self, Recorded};
use crate::world;

#[derive(Args, Debug, Clone, Default)]
pub struct ResetArgs {
    /// The PersistentVolumeClaims to reset
    #[arg(value_name = "PVC")]
    pub claims: Vec<String>,
    /// Reset claims of this StatefulSet, named from its volumeClaimTemplates
    #[arg(long, value_name = "NAME")]
    pub statefulset: Option<String>,
    /// With --statefulset: the pod ordinals whose claims to reset
    #[arg(long, value_name = "N", requires = "statefulset")]
    pub ordinal: Vec<u32>,
    /// With --statefulset: every ordinal
    #[arg(long, requires = "statefulset", conflicts_with = "ordinal")]
    pub all: bool,
    /// pod: delete the claim and its pod (one StatefulSet ordinal); scale: scale the owner to 0 and back
    #[arg(long, value_enum, default_value_t = StrategyChoice::Auto)]
    pub strategy: StrategyChoice,
    /// Take a VolumeSnapshot of each claim first and wait until it is ready
    #[arg(long)]
    pub snapshot: bool,
    /// Reset an autoscaled owner: pause its HPA or ScaledObject, restore it afterwards
    #[arg(long)]
    pub ignore_autoscaler: bool,
    /// Force a shared claim: reset a claim used by several owners, scaling all of them to 0 and back
    #[arg(long)]
    pub force: bool,
    /// Create the new claim with this size (grow or shrink; e.g. 20Gi): a Deployment's claims only
    #[arg(long, value_name = "QUANTITY")]
    pub size: Option<String>,
    /// Create the new claim in this StorageClass: a Deployment's claims only
    #[arg(long, value_name = "NAME")]
    pub storage_class: Option<String>,
    /// Scale an owner a GitOps tool (Argo CD, Flux) or an operator manages, though it may undo the scale-down
    #[arg(long)]
    pub ignore_gitops: bool,
    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// The ordinal of `claim` when it is named as `sts`'s controller names the claims of its
/// templates: `<template>-<statefulset>-<ordinal>` (kubernetes/kubernetes
/// pkg/controller/statefulset/stateful_set_utils.go, getPersistentVolumeClaimName).
fn claim_ordinal(sts: &StatefulSet, claim: &str) -> Option<u32> {
    let templates = sts.spec.as_ref()?.volume_claim_templates.as_ref()?;
    templates.iter().find_map(|t| {
        let rest = claim.strip_prefix(&format!("{}-{}-", t.name_any(), sts.name_any()))?;
        let ordinal: u32 = rest.parse().ok()?;
        (ordinal.to_string() == rest).then_some(ordinal)
    })
}

/// `--all`: every claim `sts`'s templates have made, of any ordinal. They outlive a scale
/// down (or to 0), so they are found by name among the namespace's claims, not counted
/// from the replicas; `recorded` adds the claims of a reset recorded on the StatefulSet
/// that it has deleted already (the same command, run again, must name the same claims).
pub fn made_claims(
    sts: &StatefulSet,
    existing: &[String],
    recorded: &[String],
) -> shared::Result<Vec<String>> {
    let templates = sts
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.as_ref())
        .map_or(0, Vec::len);
    if templates == 0 {
        return Err(Error::Failed(format!(
            "statefulset {} has no volumeClaimTemplates: name the claims instead",
            sts.name_any()
        )));
    }
    let mut claims: Vec<(u32, String)> = existing
        .iter()
        .chain(recorded)
        .filter_map(|c| claim_ordinal(sts, c).map(|o| (o, c.clone())))
        .collect();
    claims.sort();
    claims.dedup();
    Ok(claims.into_iter().map(|(_, c)| c).collect())
}

/// The ordinals `sts` runs: `start..start+replicas`, as kubernetes/kubernetes
/// pkg/controller/statefulset/stateful_set_utils.go getStartOrdinal/getEndOrdinal
/// (`spec.ordinals.start`, GA in 1.31). The replicas are those a reset recorded on it, if
/// any: a reset scales it to 0 midway, and its rerun must name the same ordinals.
pub fn ordinal_range(sts: &StatefulSet) -> std::ops::Range<u32> {
    let spec = sts.spec.as_ref();
    let start = spec
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .unwrap_or(0)
        .max(0) as u32;
    let recorded = sts
        .annotations()
        .get(ANNOTATION)
        .and_then(|text| Journal::from_annotation(text).ok())
        .and_then(|j| {
            j.owners
                .iter()
                .find(|o| o.kind == WorkloadKind::StatefulSet && o.name == sts.name_any())
                .map(|o| o.replicas)
        });
    let replicas = recorded
        .or(spec.and_then(|s| s.replicas))
        .unwrap_or(1)
        .max(0) as u32;
    start..start.saturating_add(replicas)
}

/// `ordinals` when each is one `sts` runs (all of them when empty), else a one-line usage
/// error naming the range.
pub fn checked_ordinals(sts: &StatefulSet, ordinals: &[u32]) -> shared::Result<Vec<u32>> {
    let range = ordinal_range(sts);
    if ordinals.is_empty() {
        return Ok(range.collect());
    }
    if let Some(bad) = ordinals.iter().find(|o| !range.contains(o)) {
        let runs = if range.is_empty() {
            "runs no ordinal (0 replicas)".to_string()
        } else {
            format!(
                "runs ordinals {}..={} (spec.ordinals.start {}, {} replicas)",
                range.start,
                range.end - 1,
                range.start,
                range.len()
            )
        };
        return Err(Error::Usage(format!(
            "statefulset {} {runs}: no ordinal {bad}; a claim of another ordinal can be named as it is (kubectl pvcreset CLAIM)",
            sts.name_any()
        )));
    }
    Ok(ordinals.to_vec())
}

/// The claim names of `sts` for `ordinals` (all when empty), from its claim templates.
pub fn statefulset_claims(sts: &StatefulSet, ordinals: &[u32]) -> shared::Result<Vec<String>> {
    let spec = sts.spec.clone().unwrap_or_default();
    let templates = spec.volume_claim_templates.unwrap_or_default();
    if templates.is_empty() {
        return Err(Error::Failed(format!(
            "statefulset {} has no volumeClaimTemplates: name the claims instead",
            sts.name_any()
        )));
    }
    let ordinals = checked_ordinals(sts, ordinals)?;
    Ok(ordinals
        .iter()
        .flat_map(|o| {
            templates
                .iter()
                .map(move |t| format!("{}-{}-{o}", t.name_any(), sts.name_any()))
        })
        .collect())
}

/// `kubectl pvcreset PVC... | --statefulset NAME …`. `subcommand_meant` names the subcommand a
/// mistyped word was meant to be (`kubectl pvcreset resme`): the plugin's command line knows
/// its subcommands, the engine does not.
pub async fn run(
    global: &GlobalArgs,
    args: &ResetArgs,
    subcommand_meant: fn(&str) -> Option<shared::suggest::Meant>,
) -> shared::Result<()> {
    if args.claims.is_empty() && args.statefulset.is_none() {
        return Err(Error::Usage(
            "name the claims to reset (kubectl pvcreset PVC...) or a StatefulSet (--statefulset NAME --ordinal N | --all)".into(),
        ));
    }
    if args.statefulset.is_some() && !args.claims.is_empty() {
        return Err(Error::Usage(
            "name claims or --statefulset, not both".into(),
        ));
    }
    if args.statefulset.is_some() && args.ordinal.is_empty() && !args.all {
        return Err(Error::Usage(
            "--statefulset needs --ordinal N (repeatable) or --all".into(),
        ));
    }
    let reshape = plan::Reshape {
        size: args.size.as_deref().map(checked_size).transpose()?,
        storage_class: args.storage_class.clone(),
    };
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    refuse_subcommand_typo(&target, &args.claims, subcommand_meant).await?;
    let claims = match &args.statefulset {
        Some(name) => {
            let sts = Api::<StatefulSet>::namespaced(target.client.clone(), &namespace)
                .get_opt(name)
                .await
                .map_err(|e| target.api_error(e))?
                .ok_or_else(|| Error::Failed(format!("statefulset {name:?} not found in namespace {namespace}: list them with `{}`", crate::hints::kubectl("get sts", &namespace))))?;
            if args.all {
                let existing: Vec<String> =
                    Api::<PersistentVolumeClaim>::namespaced(target.client.clone(), &namespace)
                        .list_metadata(&ListParams::default())
                        .await
                        .map_err(|e| target.api_error(e))?
                        .items
                        .iter()
                        .map(|c| c.name_any())
                        .collect();
                let recorded: Vec<String> = sts
                    .annotations()
                    .get(ANNOTATION)
                    .and_then(|text| Journal::from_annotation(text).ok())
                    .map(|j| j.claims.into_iter().map(|c| c.name).collect())
                    .unwrap_or_default();
                let claims = made_claims(&sts, &existing, &recorded)?;
                if claims.is_empty() {
                    return Err(Error::Failed(format!(
                        "statefulset {name} has made no claims yet (none named <template>-{name}-<ordinal> in namespace {namespace}): nothing to reset"
                    )));
                }
                claims
            } else {
                statefulset_claims(&sts, &args.ordinal)?
            }
        }
        None => args.claims.clone(),
    };
    let options = Options {
        strategy: args.strategy,
        snapshot: args.snapshot,
        ignore_autoscaler: args.ignore_autoscaler,
        force: args.force,
        ignore_gitops: args.ignore_gitops,
        output: args.output.into(),
        change: args.change.clone(),
        reshape,
        restore: Vec::new(),
    };
    reset_claims(&target, &namespace, claims, &options).await
}

/// `--size`: a storage quantity above zero (as the API server's validation of a claim's
/// `resources.requests.storage`), else a one-line usage error.
pub fn checked_size(size: &str) -> shared::Result<String> {
    const SUFFIXES: &[&str] = &[
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E", "",
    ];
    let number = SUFFIXES
        .iter()
        .find_map(|s| size.strip_suffix(s))
        .unwrap_or(size);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let valid = digits(whole)
        && digits(fraction)
        && shared::quantity::parse(size).is_some_and(|bytes| bytes >= 1.0);
    if !valid {
        return Err(Error::Usage(format!(
            "--size {size:?} is not a storage quantity: give one like 20Gi, 500Mi or 1Ti"
        )));
    }
    Ok(size.to_string())
}

/// None when `name` exists in `api`; else the names that do (for the refusal to list).
pub(crate) async fn names_when_missing<K>(
    target: &Target,
    api: &Api<K>,
    name: &str,
) -> shared::Result<Option<Vec<String>>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    if api
        .get_metadata_opt(name)
        .await
        .map_err(|e| target.api_error(e))?
        .is_some()
    {
        return Ok(None);
    }
    let names = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(|e| target.api_error(e))?
        .items
        .iter()
        .map(|c| c.name_any())
        .collect();
    Ok(Some(names))
}

/// `--storage-class`: a StorageClass that exists, else a one-line usage error naming them.
async fn check_class(target: &Target, class: &str) -> shared::Result<()> {
    let classes: Api<StorageClass> = Api::all(target.client.clone());
    let Some(names) = names_when_missing(target, &classes, class).await? else {
        return Ok(());
    };
    Err(Error::Usage(format!(
        "--storage-class {class:?}: no such StorageClass; the cluster has {}",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

/// A first claim that does not exist but is a subcommand's near miss was meant as that
/// subcommand: a usage error naming the command meant, before anything is read or changed.
async fn refuse_subcommand_typo(
    target: &Target,
    claims: &[String],
    subcommand_meant: fn(&str) -> Option<shared::suggest::Meant>,
) -> shared::Result<()> {
    let Some(first) = claims.first() else {
        return Ok(());
    };
    let Some(meant) = subcommand_meant(first) else {
        return Ok(());
    };
    let exists = Api::<PersistentVolumeClaim>::namespaced(target.client.clone(), &target.namespace)
        .get_metadata_opt(first)
        .await
        .map_err(|e| target.api_error(e))?
        .is_some();
    if exists {
        return Ok(());
    }
    let command = meant.command("kubectl pvcreset", &claims[1..]) + &target.scope_flags();
    Err(Error::Usage(format!(
        "{first:?} is neither a claim in namespace {} nor a subcommand: did you mean `{command}`?",
        target.namespace
    )))
}

/// How to reset: the flags of `kubectl pvcreset` (and of `kubectl airflow reset-logs`).
#[derive(Debug, Clone)]
pub struct Options {
    pub strategy: StrategyChoice,
    pub snapshot: bool,
    pub ignore_autoscaler: bool,
    pub force: bool,
    pub ignore_gitops: bool,
    pub output: OutputFormat,
    pub change: ChangeArgs,
    /// `--size`, `--storage-class` (a Deployment's claims).
    pub reshape: plan::Reshape,
    /// `restore`: the snapshots the claims are created again from.
    pub restore: Vec<plan::RestoreSource>,
}

/// The whole reset of `claims` in `namespace`: read, plan, show, confirm by typing the name,
/// journal, act, verify. The entry point for other plugins.
pub async fn reset_claims(
    target: &Target,
    namespace: &str,
    claims: Vec<String>,
    options: &Options,
) -> shared::Result<()> {
    if claims.is_empty() {
        return Err(Error::Failed(format!(
            "no claim to reset in namespace {namespace}: name at least one"
        )));
    }
    if let Some(class) = &options.reshape.storage_class {
        check_class(target, class).await?;
    }
    // A reset recorded on an owner is finished or undone, never written over.
    let (recorded, unreadable) = status::find_all(&target.client, Some(namespace))
        .await
        .map_err(|e| target.api_error(e))?;
    if let Some(one) = same_reset_recorded(&recorded, &claims, options, namespace)? {
        eprintln!(
            "a reset of the same claims is recorded on {} (after step {}): continuing it, as `{}` does",
            one.owner,
            execute::step_name(one.journal.step),
            command("resume", &one.owner, namespace)
        );
        return crate::resume::continue_recorded(
            target,
            namespace,
            &[one],
            options.output,
            &options.change,
        )
        .await;
    }
    let world = world::read(&target.client, namespace, &claims, options.snapshot)
        .await
        .map_err(|e| target.api_error(e))?;
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let request = Request {
        claims,
        strategy: options.strategy,
        snapshot: options.snapshot,
        ignore_autoscaler: options.ignore_autoscaler,
        force: options.force,
        reshape: options.reshape.clone(),
        restore: options.restore.clone(),
        ignore_gitops: options.ignore_gitops,
    };
    let plan = plan::plan(&world, &request, &now)?;
    refuse_other_resets(&plan, &recorded, &unreadable, namespace)?;
    let holder = plan.journal.holder()?.clone();
    let planned_version = planned_version(&world, &holder, namespace)?;
    shared::change::show_plan(target, options.output, &plan, plan::render)?;
    if !approved(target, namespace, options, &plan, &holder).await? {
        return Ok(());
    }
    let ctx = Ctx::new(target, namespace, options.change.timeout);
    let mut journal = plan.journal.clone();
    // Before the first change: the record that makes any interruption resumable, written
    // only if no other run got there first.
    execute::start(&ctx, &journal, planned_version).await?;
    let owner = holder.reference();
    execute::drive(&ctx, &mut journal)
        .await
        .map_err(|e| with_resume_hint(e, &owner, namespace))
}

/// The recorded reset of these claims that this run continues: the only one touching them,
/// and what this run asks for. Any other recorded reset touching them is the refusal.
fn same_reset_recorded<'r>(
    recorded: &'r [Recorded],
    claims: &[String],
    options: &Options,
    namespace: &str,
) -> shared::Result<Option<&'r Recorded>> {
    let touching: Vec<&Recorded> = recorded
        .iter()
        .filter(|r| r.journal.claims.iter().any(|c| claims.contains(&c.name)))
        .collect();
    if let [one] = touching.as_slice()
        && same_request(&one.journal, claims, options)
    {
        return Ok(Some(one));
    }
    if let Some(other) = touching.first() {
        return Err(recorded_elsewhere(other, namespace));
    }
    Ok(None)
}

/// Another reset of one of the plan's owners (other claims, or a journal nothing can read).
fn refuse_other_resets(
    plan: &plan::Plan,
    recorded: &[Recorded],
    unreadable: &[status::Unreadable],
    namespace: &str,
) -> shared::Result<()> {
    for owner in &plan.journal.owners {
        let reference = owner.reference();
        if let Some(bad) = unreadable.iter().find(|u| u.owner == reference) {
            return Err(bad.to_error());
        }
        if let Some(other) = recorded.iter().find(|r| {
            r.owner == reference || r.journal.owners.iter().any(|o| o.reference() == reference)
        }) {
            return Err(recorded_elsewhere(other, namespace));
        }
    }
    Ok(())
}

/// The precondition of the journal's first write: the owner's resourceVersion as it was read
/// for the plan. The journals were listed before the owner was read for the plan: another
/// run may have started in between (found by the soak: a plan made from an owner another run
/// had just scaled to 0 recorded 0 as its replicas and took that run's journal over).
fn planned_version(
    world: &world::World,
    holder: &OwnerRecord,
    namespace: &str,
) -> shared::Result<Option<String>> {
    let planned = match holder.kind {
        WorkloadKind::StatefulSet => world
            .statefulsets
            .iter()
            .find(|s| s.name_any() == holder.name)
            .map(|s| &s.metadata),
        WorkloadKind::Deployment => world
            .deployments
            .iter()
            .find(|d| d.name_any() == holder.name)
            .map(|d| &d.metadata),
    };
    if planned
        .and_then(|m| m.annotations.as_ref())
        .is_some_and(|a| a.contains_key(ANNOTATION))
    {
        return Err(execute::owned_elsewhere(namespace, holder));
    }
    Ok(planned.and_then(|m| m.resource_version.clone()))
}

/// The preflight of the plan's permissions, then the confirmation by typing the owner's name:
/// the same kind of thing whether one claim or all of them are reset.
async fn approved(
    target: &Target,
    namespace: &str,
    options: &Options,
    plan: &plan::Plan,
    holder: &OwnerRecord,
) -> shared::Result<bool> {
    let restoring = plan.claims.iter().any(|c| c.restore_from.is_some());
    let what = match plan.claims.as_slice() {
        [one] if restoring => format!(
            "This replaces the claim {} of {} with one restored from VolumeSnapshot {}: what the claim holds now is lost",
            one.name,
            holder.reference(),
            one.restore_from
                .as_ref()
                .map_or("-", |r| r.snapshot.as_str())
        ),
        [one] => format!(
            "This deletes the claim {} of {}",
            one.name,
            holder.reference()
        ),
        many => format!(
            "This deletes {} claims of {}",
            many.len(),
            holder.reference()
        ),
    };
    let kind = format!("the {}'s name", holder.kind.lowercase());
    let needs = needed_permissions(&plan.journal);
    let doctor = crate::hints::doctor_command(namespace);
    Gate::new(target, &options.change, &doctor)
        .preflight(namespace, &needs)
        .confirm_typed(&what, &kind, &holder.name)
        .approve()
        .await
}

/// Whether a recorded reset is what this run would do: the same claims, and the strategy and
/// snapshots asked for (auto accepts the recorded strategy). Its owners are the journal's.
fn same_request(journal: &Journal, claims: &[String], options: &Options) -> bool {
    let mut recorded: Vec<&str> = journal.claims.iter().map(|c| c.name.as_str()).collect();
    let mut wanted: Vec<&str> = claims.iter().map(String::as_str).collect();
    recorded.sort_unstable();
    wanted.sort_unstable();
    wanted.dedup();
    let strategy = match options.strategy {
        StrategyChoice::Auto => true,
        StrategyChoice::Pod => journal.strategy == Strategy::Pod,
        StrategyChoice::Scale => journal.strategy == Strategy::Scale,
    };
    let snapshots = !journal.snapshots.is_empty();
    let restores = journal
        .claims
        .iter()
        .any(|c| c.recreate.as_ref().and_then(plan::restores_from).is_some());
    recorded == wanted
        && strategy
        && options.snapshot == snapshots
        && restores != options.restore.is_empty()
}

/// The refusal when another reset is recorded where this one would write: one line with
/// the commands that finish or undo the recorded one.
fn recorded_elsewhere(other: &Recorded, namespace: &str) -> Error {
    Error::Failed(format!(
        "{} holds an unfinished reset of {} (after step {}) that this run would write over: nothing was changed; {}",
        other.owner,
        other.journal.claim_names(),
        execute::step_name(other.journal.step),
        resume_abort_commands(&other.owner, namespace)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::doctor::Permission;

    #[test]
    fn claims_come_from_the_templates() {
        let sts: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {}, "serviceName": "web", "template": {},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}, {"metadata": {"name": "logs"}}]}
        }))
        .unwrap();
        assert_eq!(
            statefulset_claims(&sts, &[1]).unwrap(),
            ["data-web-1", "logs-web-1"]
        );
        assert_eq!(statefulset_claims(&sts, &[]).unwrap().len(), 4);
        let err = statefulset_claims(&sts, &[2]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("runs ordinals 0..=1"), "{err}");
    }

    #[test]
    fn ordinals_start_where_the_statefulset_says() {
        let sts: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 2, "ordinals": {"start": 5}, "selector": {}, "serviceName": "web", "template": {},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
        }))
        .unwrap();
        assert_eq!(ordinal_range(&sts), 5..7);
        assert_eq!(
            statefulset_claims(&sts, &[]).unwrap(),
            ["data-web-5", "data-web-6"]
        );
        assert_eq!(statefulset_claims(&sts, &[6]).unwrap(), ["data-web-6"]);
        let err = statefulset_claims(&sts, &[0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "statefulset web runs ordinals 5..=6 (spec.ordinals.start 5, 2 replicas): no ordinal 0; a claim of another ordinal can be named as it is (kubectl pvcreset CLAIM)"
        );
        let mut scaled = sts.clone();
        scaled.spec.as_mut().unwrap().replicas = Some(0);
        assert!(statefulset_claims(&scaled, &[5]).is_err());
    }

    fn journal(value: serde_json::Value) -> Journal {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn all_means_every_claim_the_templates_made_of_any_ordinal() {
        let sts: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 0, "selector": {}, "serviceName": "web", "template": {},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
        }))
        .unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let existing = names(&[
            "data-web-10",
            "data-web-2",
            "data-web-x",
            "data-web-01",
            "data-webapp-0",
            "other",
        ]);
        assert_eq!(
            made_claims(&sts, &existing, &names(&["data-web-0"])).unwrap(),
            ["data-web-0", "data-web-2", "data-web-10"],
            "by ordinal; a recorded reset's deleted claims count"
        );
        assert!(made_claims(&sts, &[], &[]).unwrap().is_empty());
        let bare: StatefulSet =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "web"}})).unwrap();
        assert!(made_claims(&bare, &existing, &[]).is_err());
    }

    #[test]
    fn a_rerun_continues_only_the_same_request() {
        let recorded = journal(serde_json::json!({
            "strategy": "scale", "step": "scaled-down", "started": "2026-11-25T00:00:00Z",
            "owners": [{"kind": "StatefulSet", "name": "web", "replicas": 2}],
            "claims": [{"name": "data-web-1", "uid": "u1"}, {"name": "data-web-0", "uid": "u0"}]
        }));
        let options = |strategy, snapshot| Options {
            strategy,
            snapshot,
            ignore_autoscaler: false,
            force: false,
            ignore_gitops: false,
            output: OutputFormat::Table,
            change: ChangeArgs::default(),
            reshape: plan::Reshape::default(),
            restore: Vec::new(),
        };
        let claims = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let both = claims(&["data-web-0", "data-web-1"]);
        assert!(same_request(
            &recorded,
            &both,
            &options(StrategyChoice::Auto, false)
        ));
        assert!(same_request(
            &recorded,
            &both,
            &options(StrategyChoice::Scale, false)
        ));
        assert!(!same_request(
            &recorded,
            &both,
            &options(StrategyChoice::Pod, false)
        ));
        assert!(!same_request(
            &recorded,
            &both,
            &options(StrategyChoice::Auto, true)
        ));
        assert!(!same_request(
            &recorded,
            &claims(&["data-web-0"]),
            &options(StrategyChoice::Auto, false)
        ));
    }

    #[test]
    fn size_is_a_storage_quantity() {
        for good in ["20Gi", "500Mi", "1.5Ti", "1G", "1000"] {
            assert_eq!(checked_size(good).unwrap(), good);
        }
        for bad in ["", "0", "20GB", "-1Gi", "1e3", "inf", "Gi", "1.Gi", "10m"] {
            let e = checked_size(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
    }

    fn listed(needs: &[Permission]) -> Vec<String> {
        needs
            .iter()
            .map(|p| format!("{} {}/{}", p.verb, p.resource, p.subresource))
            .collect()
    }

    #[test]
    fn the_preflight_asks_for_exactly_the_writes_of_the_plan() {
        let scale = journal(serde_json::json!({
            "strategy": "scale", "step": "started", "started": "2026-11-25T00:00:00Z",
            "owners": [{"kind": "Deployment", "name": "report-builder", "replicas": 1}],
            "claims": [{"name": "report-cache", "uid": "u1", "recreate": {"metadata": {"name": "report-cache"}}}],
            "autoscalers": [{"kind": "HorizontalPodAutoscaler", "name": "report-builder", "original": null}]
        }));
        assert_eq!(
            listed(&needed_permissions(&scale)),
            [
                "delete persistentvolumeclaims/",
                "patch deployments/",
                "patch deployments/scale",
                "create persistentvolumeclaims/",
                "patch horizontalpodautoscalers/",
            ]
        );
        let pod = journal(serde_json::json!({
            "strategy": "pod", "step": "started", "started": "2026-11-25T00:00:00Z",
            "owners": [{"kind": "StatefulSet", "name": "worker", "replicas": 3}],
            "claims": [{"name": "logs-worker-2", "uid": "u2"}],
            "pod": {"name": "worker-2", "uid": "p2"}
        }));
        assert_eq!(
            listed(&needed_permissions(&pod)),
            [
                "delete persistentvolumeclaims/",
                "patch statefulsets/",
                "delete pods/"
            ]
        );
    }
}
