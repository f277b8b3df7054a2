//! The plan of a reset (pure): which claims, what happens to their data, which owners and
//! pods, which strategy and steps — or the refusal, with the reason and the way out. The same
//! plan is printed for `--dry-run`, before the prompt and as `-o json`, and becomes the journal.

use std::collections::BTreeSet;

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Value, json};
use shared::Error;
use shared::owner::WorkloadKind;

use crate::journal::{
    AutoscalerRecord, ClaimRecord, Journal, OwnerRecord, PodRecord, SnapshotRecord, Step, Strategy,
};
use crate::world::World;

/// `--strategy`: auto picks `pod` for one StatefulSet ordinal and `scale` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StrategyChoice {
    #[default]
    Auto,
    Pod,
    Scale,
}

/// What the operator asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub claims: Vec<String>,
    pub strategy: StrategyChoice,
    pub snapshot: bool,
    pub ignore_autoscaler: bool,
    pub force: bool,
    /// `--size`, `--storage-class`: what the new claims are created with.
    pub reshape: Reshape,
    /// `restore`: the snapshots the claims are created again from (scale strategy).
    pub restore: Vec<RestoreSource>,
    /// `--ignore-gitops`: scale an owner a GitOps tool or an operator manages (warned about).
    pub ignore_gitops: bool,
}

/// `--size` and `--storage-class` for the claims created again. Only a Deployment's claims
/// (pvcreset creates them); a StatefulSet's come from its volumeClaimTemplates, which cannot
/// change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reshape {
    pub size: Option<String>,
    pub storage_class: Option<String>,
}

impl Reshape {
    pub fn is_empty(&self) -> bool {
        self.size.is_none() && self.storage_class.is_none()
    }
}

/// A claim created again from a VolumeSnapshot (`dataSource`), by `restore` or `abort`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSource {
    pub claim: String,
    pub snapshot: String,
    /// The snapshot's `status.restoreSize`: the new claim asks for at least that much (the
    /// provisioner refuses less).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<String>,
    /// When it was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taken: Option<String>,
}

/// A value before and after.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Change {
    pub from: String,
    pub to: String,
}

/// How the new claim differs from the old one (`--size`, `--storage-class`).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReshapeView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<Change>,
}

/// One claim as the plan shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    pub name: String,
    pub uid: String,
    pub capacity: String,
    pub access_modes: Vec<String>,
    pub storage_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    /// In plain words: what deleting the claim does to the data.
    pub data: String,
    /// The pods mounting it.
    pub consumers: Vec<String>,
    /// `--size`/`--storage-class`: old → new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reshape: Option<ReshapeView>,
    /// `restore`: the VolumeSnapshot the new claim is created from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_from: Option<RestoreSource>,
    /// How full it is (what is about to be deleted), or why that is unknown.
    pub usage: shared::volume_usage::ClaimUsage,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerView {
    pub kind: String,
    pub name: String,
    pub target: String,
    pub range: String,
}

/// A StatefulSet owner's `persistentVolumeClaimRetentionPolicy` (Retain when unset).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RetentionView {
    pub owner: String,
    pub when_scaled: String,
    pub when_deleted: String,
    /// Set to `whenScaled: Retain` for the reset and put back afterwards.
    pub held: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub namespace: String,
    pub claims: Vec<ClaimView>,
    pub autoscalers: Vec<AutoscalerView>,
    pub steps: Vec<String>,
    pub disruption: String,
    pub warnings: Vec<String>,
    /// The StatefulSets' claim retention policies, and whether the reset holds one at Retain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retention: Vec<RetentionView>,
    /// Owners a GitOps tool or an operator manages (only with --ignore-gitops: else refused).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed: Vec<crate::gitops::ManagedOwner>,
    /// What gets recorded on the owner before the first change.
    pub journal: Journal,
}

/// The controller of a pod: (kind, name), following ReplicaSet → Deployment. Only the
/// ownerReference marked `controller: true` counts, as kubectl's GetControllerOf: a plain
/// owner reference recreates nothing, so such a pod is unmanaged.
pub fn pod_owner(world: &World, pod: &Pod) -> Option<(String, String)> {
    let (kind, name) = shared::owner::controller_kind_name(&pod.metadata)?;
    if kind == "ReplicaSet"
        && let Some(("Deployment", deployment)) = world
            .replicasets
            .iter()
            .find(|rs| rs.name_any() == name)
            .and_then(|rs| shared::owner::controller_kind_name(&rs.metadata))
    {
        return Some(("Deployment".into(), deployment.to_string()));
    }
    Some((kind.to_string(), name.to_string()))
}

/// An HPA that a ScaledObject targeting the same workload controls: KEDA's `keda-hpa-<name>`
/// (kedacore/keda controllers/keda/hpa.go), whose spec KEDA resets on every reconcile.
/// Pausing the ScaledObject pauses it; pvcreset never edits it.
fn keda_made(world: &World, hpa: &HorizontalPodAutoscaler, kind: &str, name: &str) -> bool {
    let Some(("ScaledObject", scaled_object)) = shared::owner::controller_kind_name(&hpa.metadata)
    else {
        return false;
    };
    world.scaled_objects.iter().any(|so| {
        let target = &so.data["spec"]["scaleTargetRef"];
        so.name_any() == scaled_object
            && target["kind"].as_str().unwrap_or("Deployment") == kind
            && target["name"].as_str() == Some(name)
    })
}

/// The pod still counts as a consumer (a finished pod releases its claim).
fn live(pod: &Pod) -> bool {
    !matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// `(statefulset, ordinal)` when `claim` is named `<template>-<statefulset>-<ordinal>` after a
/// claim template of a StatefulSet of the namespace.
pub fn template_claim(world: &World, claim: &str) -> Option<(String, u32)> {
    world.statefulsets.iter().find_map(|sts| {
        let templates = sts.spec.as_ref()?.volume_claim_templates.as_ref()?;
        templates.iter().find_map(|t| {
            let rest = claim.strip_prefix(&format!("{}-{}-", t.name_any(), sts.name_any()))?;
            let ordinal: u32 = rest.parse().ok()?;
            (ordinal.to_string() == rest).then(|| (sts.name_any(), ordinal))
        })
    })
}

/// Close names, for "did you mean".
pub fn suggestions(wanted: &str, names: &[String]) -> Vec<String> {
    shared::suggest::close_names(wanted, names)
}

fn data_fate(claim: &PersistentVolumeClaim, world: &World) -> (Option<String>, String) {
    let volume = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .filter(|v| !v.is_empty());
    let Some(volume) = volume else {
        return (
            None,
            "the claim is not bound to a volume: there is no data to lose".into(),
        );
    };
    let policy = world
        .volumes
        .get(&volume)
        .and_then(|pv| pv.spec.as_ref()?.persistent_volume_reclaim_policy.clone());
    let text = match policy.as_deref() {
        Some("Retain") => format!(
            "PV {volume} is Released and kept: the data stays on the disk (delete the PV when you no longer need it)"
        ),
        Some("Delete") => format!("PV {volume} and its disk are deleted: the data is lost"),
        Some(other) => format!("PV {volume} has reclaim policy {other}: treat the data as lost"),
        None => format!(
            "PV {volume}'s reclaim policy cannot be read with these credentials: treat the data as lost"
        ),
    };
    (policy, text)
}

/// Labels and annotations a claim is created again with: binding annotations are the old
/// volume's and would point the new claim at it.
pub fn recreate_spec(claim: &PersistentVolumeClaim) -> Value {
    let annotations: serde_json::Map<String, Value> = claim
        .annotations()
        .iter()
        .filter(|(k, _)| {
            !(k.starts_with("pv.kubernetes.io/")
                || k.starts_with("volume.kubernetes.io/")
                || k.starts_with("volume.beta.kubernetes.io/storage-provisioner")
                || k.starts_with("pvcreset.kubectl-plugins.dev/"))
        })
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let spec = claim.spec.clone().unwrap_or_default();
    let mut out = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim.name_any(), "labels": claim.labels(), "annotations": annotations},
        "spec": {
            "accessModes": spec.access_modes,
            "resources": {"requests": spec.resources.as_ref().and_then(|r| r.requests.clone())},
        }
    });
    if let Some(class) = spec.storage_class_name {
        out["spec"]["storageClassName"] = json!(class);
    }
    if let Some(mode) = spec.volume_mode {
        out["spec"]["volumeMode"] = json!(mode);
    }
    out
}

/// A recreate spec with `--size` and `--storage-class` applied.
fn reshaped(mut spec: Value, reshape: &Reshape) -> Value {
    if let Some(size) = &reshape.size {
        spec["spec"]["resources"]["requests"]["storage"] = json!(size);
    }
    if let Some(class) = &reshape.storage_class {
        spec["spec"]["storageClassName"] = json!(class);
    }
    spec
}

/// A recreate spec that restores `source`: its `dataSource` is the snapshot, and it asks
/// for at least the snapshot's restoreSize (external-provisioner refuses a smaller claim).
pub fn restored(mut spec: Value, source: &RestoreSource) -> Value {
    spec["spec"]["dataSource"] = json!({
        "apiGroup": "snapshot.storage.k8s.io",
        "kind": "VolumeSnapshot",
        "name": source.snapshot,
    });
    let bytes = |q: &Value| q.as_str().and_then(shared::quantity::parse);
    if let Some(restore) = &source.restore_size
        && bytes(&json!(restore)) > bytes(&spec["spec"]["resources"]["requests"]["storage"])
    {
        spec["spec"]["resources"]["requests"]["storage"] = json!(restore);
    }
    spec
}

/// The snapshot a recreate spec restores, if it is a restore.
pub fn restores_from(spec: &Value) -> Option<&str> {
    let source = &spec["spec"]["dataSource"];
    (source["kind"] == "VolumeSnapshot")
        .then(|| source["name"].as_str())
        .flatten()
}

fn capacity(claim: &PersistentVolumeClaim) -> String {
    let status = claim
        .status
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"));
    let requested = claim.spec.as_ref().and_then(|s| {
        s.resources
            .as_ref()?
            .requests
            .as_ref()?
            .get("storage")
            .cloned()
    });
    status
        .cloned()
        .or(requested)
        .map_or_else(|| "-".into(), |q| q.0)
}

/// Builds the plan, or the refusal. The refusals come in this order: a claim not found, no
/// claim, a claim nothing would recreate or pvcreset cannot stop, several owners, the
/// strategy, the autoscalers, the snapshot class.
pub fn plan(world: &World, request: &Request, now: &str) -> shared::Result<Plan> {
    refuse_unnamed(world)?;
    let mut survey = Survey::of(world, request.force)?;
    survey.refuse_shared_owners(request.force)?;
    refuse_template_reshape(world, &request.reshape)?;
    survey.show_changes(request);
    // A restore creates the claims itself, from the snapshot: the owners go to 0 first.
    let strategy = if request.restore.is_empty() {
        choose_strategy(request.strategy, survey.pod_applies())?
    } else {
        Strategy::Scale
    };
    let pod = match strategy {
        Strategy::Pod => ordinal_pod(world, &survey.ordinals),
        Strategy::Scale => None,
    };
    let mut owners = owner_records(world, &survey.owners);
    let retention = hold_retention(world, &mut owners, strategy);
    let mut warnings = survey.unprovisioned;
    let managed = crate::gitops::settle(
        world,
        &survey.owners,
        strategy,
        request.ignore_gitops,
        &mut warnings,
    )?;
    let mut autoscalers = Autoscalers::of(world, &survey.owners);
    autoscalers.settle(strategy, request.ignore_autoscaler, &mut warnings)?;
    let snapshots = if request.snapshot {
        snapshots(world, now)?
    } else {
        Vec::new()
    };
    let journal = Journal {
        strategy,
        step: Step::Started,
        started: now.to_string(),
        owners,
        claims: claim_records(world, request),
        pod,
        autoscalers: autoscalers.records,
        snapshots,
    };
    let (steps, disruption) = describe(&journal, &retention, &request.reshape);
    if !autoscalers.views.is_empty() && strategy == Strategy::Pod {
        warnings.push("the owner is autoscaled; the pod strategy leaves its replicas alone".into());
    }
    Ok(Plan {
        namespace: world.namespace.clone(),
        claims: survey.views,
        autoscalers: autoscalers.views,
        steps,
        disruption,
        warnings,
        retention,
        managed,
        journal,
    })
}

/// A named claim that does not exist (with close names), or no claim at all: with nothing
/// asked for there is no owner to record a journal on, and nothing to do.
fn refuse_unnamed(world: &World) -> shared::Result<()> {
    if let Some(name) = world.missing.first() {
        let close = suggestions(name, &world.claim_names);
        let hint = if close.is_empty() {
            format!(
                "list them with `{}`",
                crate::hints::kubectl("get pvc", &world.namespace)
            )
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        return Err(Error::Failed(format!(
            "persistentvolumeclaim {name:?} not found in namespace {}: {hint}",
            world.namespace
        )));
    }
    if world.claims.is_empty() {
        return Err(Error::Failed(format!(
            "no claim to reset in namespace {}: name at least one",
            world.namespace
        )));
    }
    Ok(())
}

/// `--size`/`--storage-class` on a claim a StatefulSet's template makes: the refusal. The
/// template cannot be changed (kubernetes/kubernetes pkg/apis/apps/validation/validation.go
/// ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy,
/// persistentVolumeClaimRetentionPolicy and minReadySeconds may change), and the
/// controller makes every missing claim from it (stateful_pod_control.go
/// createPersistentVolumeClaims), so a claim made with another size or class would be
/// replaced by the template's on the next recreation.
fn refuse_template_reshape(world: &World, reshape: &Reshape) -> shared::Result<()> {
    if reshape.is_empty() {
        return Ok(());
    }
    for claim in &world.claims {
        if let Some((sts, _)) = template_claim(world, &claim.name_any()) {
            return Err(Error::Failed(format!(
                "claim {} comes from statefulset {sts}'s volumeClaimTemplate, which cannot be changed, and the StatefulSet controller recreates the claim from that template: --size and --storage-class apply only to claims pvcreset creates (a Deployment's); to change the size of a StatefulSet's claims, change its template (recreate the StatefulSet with `{}` and apply the new one), then reset the claims",
                claim.name_any(),
                crate::hints::kubectl(
                    &format!("delete sts {sts} --cascade=orphan"),
                    &world.namespace
                )
            )));
        }
    }
    Ok(())
}

/// The claims as found: what the plan shows of each, the workloads that recreate them
/// (first seen first), and whether they are the templated claims of StatefulSet ordinals.
struct Survey {
    views: Vec<ClaimView>,
    owners: Vec<(WorkloadKind, String)>,
    ordinals: BTreeSet<(String, u32)>,
    all_templated: bool,
    /// Warnings for claims created again into a class with no provisioner (with --force).
    unprovisioned: Vec<String>,
}

impl Survey {
    /// Each claim in turn; the first claim that cannot be reset is the refusal.
    fn of(world: &World, force: bool) -> shared::Result<Survey> {
        let mut survey = Survey {
            views: Vec::new(),
            owners: Vec::new(),
            ordinals: BTreeSet::new(),
            all_templated: true,
            unprovisioned: Vec::new(),
        };
        for claim in &world.claims {
            let name = claim.name_any();
            let pods: Vec<&Pod> = world
                .pods
                .iter()
                .filter(|p| live(p) && crate::world::mounts(p, &name))
                .collect();
            let templated = template_claim(world, &name);
            match &templated {
                Some(t) => {
                    survey.ordinals.insert(t.clone());
                }
                None => survey.all_templated = false,
            }
            let claim_owners = claim_owners(world, &name, &pods, templated)?;
            let workloads = workloads(&name, &claim_owners)?;
            if let Some(warning) = unprovisioned_warning(world, claim, &claim_owners, force)? {
                survey.unprovisioned.push(warning);
            }
            survey.views.push(claim_view(world, claim, &pods));
            for o in workloads {
                if !survey.owners.contains(&o) {
                    survey.owners.push(o);
                }
            }
        }
        Ok(survey)
    }

    /// Old → new size and class, and the snapshot each claim is restored from.
    fn show_changes(&mut self, request: &Request) {
        for view in &mut self.views {
            let change = |from: &str, to: &Option<String>| {
                to.as_ref().filter(|t| t.as_str() != from).map(|t| Change {
                    from: from.to_string(),
                    to: t.clone(),
                })
            };
            let reshape = ReshapeView {
                size: change(&view.capacity, &request.reshape.size),
                storage_class: change(&view.storage_class, &request.reshape.storage_class),
            };
            if reshape != ReshapeView::default() {
                view.reshape = Some(reshape);
            }
            view.restore_from = request
                .restore
                .iter()
                .find(|r| r.claim == view.name)
                .cloned();
        }
    }

    /// One StatefulSet pod's claims: deleting that pod recreates them, the others keep running.
    fn pod_applies(&self) -> bool {
        self.owners.len() == 1
            && self.owners[0].0 == WorkloadKind::StatefulSet
            && self.all_templated
            && self.ordinals.len() == 1
    }

    /// Several owners all go down for the reset: only with --force.
    fn refuse_shared_owners(&self, force: bool) -> shared::Result<()> {
        if self.owners.len() <= 1 || force {
            return Ok(());
        }
        let shared_rwx = self
            .views
            .iter()
            .any(|v| v.access_modes.iter().any(|m| m == "ReadWriteMany"));
        let list: Vec<String> = self
            .owners
            .iter()
            .map(|(k, n)| format!("{}/{n}", k.lowercase()))
            .collect();
        Err(Error::Failed(format!(
            "{} used by {} owners ({}){}: resetting would take all of them down; re-run with --force to scale every one to 0 and back",
            if self.views.len() == 1 {
                format!("claim {} is", self.views[0].name)
            } else {
                "the claims are".into()
            },
            self.owners.len(),
            list.join(", "),
            if shared_rwx {
                ", a shared ReadWriteMany volume"
            } else {
                ""
            }
        )))
    }
}

/// The controllers (kind, name as the API spells them) that recreate the claim's pods, sorted;
/// with no pod, the StatefulSet whose template makes the claim. A pod no controller
/// recreates, or no owner at all, is the refusal.
fn claim_owners(
    world: &World,
    name: &str,
    pods: &[&Pod],
    templated: Option<(String, u32)>,
) -> shared::Result<Vec<(String, String)>> {
    let mut claim_owners: Vec<(String, String)> = Vec::new();
    for pod in pods {
        match pod_owner(world, pod) {
            Some(owner) => claim_owners.push(owner),
            None => {
                return Err(Error::Failed(format!(
                    "claim {name} is mounted by pod {}, which no controller recreates: delete the pod yourself (keep its manifest), reset the claim, then create the pod again",
                    pod.name_any()
                )));
            }
        }
    }
    if pods.is_empty()
        && let Some((sts, _)) = templated
    {
        claim_owners.push(("StatefulSet".into(), sts));
    }
    claim_owners.sort();
    claim_owners.dedup();
    if claim_owners.is_empty() {
        return Err(Error::Failed(format!(
            "claim {name} is not mounted by any pod and no StatefulSet template makes it: nothing would recreate it; if it is not needed, delete it with `kubectl delete pvc {name} -n {}`",
            world.namespace
        )));
    }
    Ok(claim_owners)
}

/// The owners as workloads pvcreset can scale; any other kind is the refusal.
fn workloads(
    name: &str,
    claim_owners: &[(String, String)],
) -> shared::Result<Vec<(WorkloadKind, String)>> {
    claim_owners
        .iter()
        .map(|(kind, owner)| match WorkloadKind::parse(kind) {
            Some(workload) => Ok((workload, owner.clone())),
            None => Err(Error::Failed(format!(
                "claim {name} is used by {kind} {owner}: pvcreset scales StatefulSets and Deployments only; stop the {kind} yourself, then delete the claim"
            ))),
        })
        .collect()
}

/// For a claim whose class has no provisioner: the refusal without --force, else the
/// warning that the new claim and its pods stay Pending until someone makes a volume.
fn unprovisioned_warning(
    world: &World,
    claim: &PersistentVolumeClaim,
    claim_owners: &[(String, String)],
    force: bool,
) -> shared::Result<Option<String>> {
    let Some(class) = unprovisioned_class(world, claim) else {
        return Ok(None);
    };
    let name = claim.name_any();
    let volume = format!(
        "class {class}, at least {}, {}",
        capacity(claim),
        claim
            .spec
            .as_ref()
            .and_then(|s| s.access_modes.clone())
            .unwrap_or_default()
            .join(",")
    );
    if !force {
        return Err(Error::Failed(format!(
            "claim {name}: the claim's class {class} has no provisioner: a recreated claim would stay Pending until someone provides a PersistentVolume; to reset it anyway, re-run with --force and create a matching PersistentVolume ({volume})"
        )));
    }
    let users: Vec<String> = claim_owners
        .iter()
        .map(|(k, n)| format!("{}/{n}", k.to_lowercase()))
        .collect();
    Ok(Some(format!(
        "claim {name}: class {class} has no provisioner, so nothing makes a volume for the new claim: it and the pods of {} stay Pending until someone creates a PersistentVolume for the new claim ({volume}); the reset waits for that until --timeout, then stops and `resume` finishes it",
        users.join(", ")
    )))
}

fn claim_view(world: &World, claim: &PersistentVolumeClaim, pods: &[&Pod]) -> ClaimView {
    let (reclaim_policy, data) = data_fate(claim, world);
    let spec = claim.spec.clone().unwrap_or_default();
    ClaimView {
        name: claim.name_any(),
        uid: claim.uid().unwrap_or_default(),
        capacity: capacity(claim),
        access_modes: spec.access_modes.clone().unwrap_or_default(),
        storage_class: spec
            .storage_class_name
            .clone()
            .unwrap_or_else(|| "-".into()),
        volume: spec.volume_name.clone().filter(|v| !v.is_empty()),
        reclaim_policy,
        data,
        consumers: pods.iter().map(|p| p.name_any()).collect(),
        reshape: None,
        restore_from: None,
        usage: world.usage.of(
            &world.namespace,
            &claim.name_any(),
            pods.first().map(|p| p.name_any()).as_deref(),
        ),
    }
}

/// `--strategy` against what applies: auto picks pod when it applies.
fn choose_strategy(choice: StrategyChoice, pod_applies: bool) -> shared::Result<Strategy> {
    match choice {
        StrategyChoice::Auto if pod_applies => Ok(Strategy::Pod),
        StrategyChoice::Auto | StrategyChoice::Scale => Ok(Strategy::Scale),
        StrategyChoice::Pod if pod_applies => Ok(Strategy::Pod),
        StrategyChoice::Pod => Err(Error::Usage(
            "--strategy pod needs the claims of one StatefulSet pod; use --strategy scale (or auto)".into(),
        )),
    }
}

/// The pod strategy's pod, `<statefulset>-<ordinal>`, when it exists now.
fn ordinal_pod(world: &World, ordinals: &BTreeSet<(String, u32)>) -> Option<PodRecord> {
    let (sts, ordinal) = ordinals.iter().next().cloned().unwrap_or_default();
    let name = format!("{sts}-{ordinal}");
    world
        .pods
        .iter()
        .find(|p| p.name_any() == name)
        .map(|p| PodRecord {
            name: name.clone(),
            uid: p.uid().unwrap_or_default(),
        })
}

fn owner_records(world: &World, owners: &[(WorkloadKind, String)]) -> Vec<OwnerRecord> {
    owners
        .iter()
        .map(|(kind, name)| OwnerRecord {
            kind: *kind,
            name: name.clone(),
            replicas: replicas_of(world, *kind, name),
            claim_retention: None,
        })
        .collect()
}

/// The StatefulSet owners' retention policies. Scaling a StatefulSet to 0 condemns every
/// ordinal: under `whenScaled: Delete` the controller would hand all their claims to the
/// garbage collector, not only the named ones. The scale strategy holds the policy at Retain
/// until the owner is back, so the owner's record keeps the policy to put back.
fn hold_retention(
    world: &World,
    owners: &mut [OwnerRecord],
    strategy: Strategy,
) -> Vec<RetentionView> {
    let mut retention = Vec::new();
    for owner in owners.iter_mut() {
        let Some((policy, when_scaled, when_deleted)) = claim_retention(world, owner) else {
            continue;
        };
        let held = strategy == Strategy::Scale && when_scaled == "Delete";
        if held {
            owner.claim_retention = Some(policy);
        }
        retention.push(RetentionView {
            owner: owner.reference(),
            when_scaled,
            when_deleted,
            held,
        });
    }
    retention
}

/// The autoscalers of the owners (HPAs KEDA makes excepted: pausing their ScaledObject pauses
/// them), as the plan shows them and as the journal records what to restore.
struct Autoscalers {
    views: Vec<AutoscalerView>,
    records: Vec<AutoscalerRecord>,
}

impl Autoscalers {
    fn of(world: &World, owners: &[(WorkloadKind, String)]) -> Autoscalers {
        let mut found = Autoscalers {
            views: Vec::new(),
            records: Vec::new(),
        };
        for (kind, name) in owners {
            found.add_hpas(world, *kind, name);
            found.add_scaled_objects(world, *kind, name);
        }
        found
    }

    fn add_hpas(&mut self, world: &World, kind: WorkloadKind, name: &str) {
        for hpa in &world.hpas {
            let Some(spec) = hpa.spec.as_ref() else {
                continue;
            };
            if spec.scale_target_ref.kind == kind.as_str()
                && spec.scale_target_ref.name == name
                && !keda_made(world, hpa, kind.as_str(), name)
            {
                self.views.push(AutoscalerView {
                    kind: "HorizontalPodAutoscaler".into(),
                    name: hpa.name_any(),
                    target: format!("{}/{name}", kind.lowercase()),
                    range: format!(
                        "{}-{} replicas",
                        spec.min_replicas.unwrap_or(1),
                        spec.max_replicas
                    ),
                });
                self.records.push(AutoscalerRecord {
                    kind: "HorizontalPodAutoscaler".into(),
                    name: hpa.name_any(),
                    original: serde_json::to_value(&spec.behavior).unwrap_or(Value::Null),
                });
            }
        }
    }

    fn add_scaled_objects(&mut self, world: &World, kind: WorkloadKind, name: &str) {
        for so in &world.scaled_objects {
            let target = &so.data["spec"]["scaleTargetRef"];
            let target_kind = target["kind"].as_str().unwrap_or("Deployment");
            if target_kind == kind.as_str() && target["name"].as_str() == Some(name) {
                let spec = &so.data["spec"];
                self.views.push(AutoscalerView {
                    kind: "ScaledObject".into(),
                    name: so.name_any(),
                    target: format!("{}/{name}", kind.lowercase()),
                    range: format!(
                        "{}-{} replicas",
                        spec["minReplicaCount"].as_i64().unwrap_or(0),
                        spec["maxReplicaCount"].as_i64().unwrap_or(100)
                    ),
                });
                self.records.push(AutoscalerRecord {
                    kind: "ScaledObject".into(),
                    name: so.name_any(),
                    original: so
                        .annotations()
                        .get(crate::world::KEDA_PAUSED)
                        .map_or(Value::Null, |v| json!(v)),
                });
            }
        }
    }

    /// Under the scale strategy an autoscaler would scale the owner back up while the claim
    /// is deleted: the refusal, or with --ignore-autoscaler a pause (warned about). The pod
    /// strategy leaves replicas alone: nothing for an autoscaler to fight, nothing recorded.
    fn settle(
        &mut self,
        strategy: Strategy,
        ignore_autoscaler: bool,
        warnings: &mut Vec<String>,
    ) -> shared::Result<()> {
        if self.records.is_empty() {
            return Ok(());
        }
        if strategy != Strategy::Scale {
            self.records.clear();
            return Ok(());
        }
        let names: Vec<String> = self
            .views
            .iter()
            .map(|a| format!("{} {} ({} of {})", a.kind, a.name, a.range, a.target))
            .collect();
        if !ignore_autoscaler {
            return Err(Error::Failed(format!(
                "the owner is autoscaled by {}: it would scale the owner back up while the claim is being deleted; re-run with --ignore-autoscaler to pause it during the reset (it is restored afterwards)",
                names.join(", ")
            )));
        }
        warnings.push(format!(
            "paused during the reset and restored afterwards: {}",
            names.join(", ")
        ));
        Ok(())
    }
}

/// `--snapshot`: one VolumeSnapshot per claim, named after the claim and the start time, in
/// the class for the claim's CSI driver; no such class is the refusal.
fn snapshots(world: &World, now: &str) -> shared::Result<Vec<SnapshotRecord>> {
    let mut snapshots = Vec::new();
    for claim in &world.claims {
        let driver = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_ref())
            .and_then(|v| world.volumes.get(v))
            .and_then(|pv| pv.spec.as_ref()?.csi.as_ref().map(|c| c.driver.clone()));
        let class = snapshot_class(world, driver.as_deref()).ok_or_else(|| {
            Error::Failed(format!(
                "--snapshot: no VolumeSnapshotClass{} for claim {}: install one, or reset without --snapshot",
                driver.as_deref().map(|d| format!(" for driver {d}")).unwrap_or_default(),
                claim.name_any()
            ))
        })?;
        let stamp: String = now
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(14)
            .collect();
        snapshots.push(SnapshotRecord {
            name: format!("{}-pvcreset-{stamp}", claim.name_any()),
            claim: claim.name_any(),
            class,
        });
    }
    Ok(snapshots)
}

/// The claims to replace; those no StatefulSet template makes carry the spec to create
/// them again with (`--size`/`--storage-class` applied). A restored claim carries it
/// whoever makes it: pvcreset creates it from the snapshot before the owner is scaled back,
/// and a StatefulSet's controller uses a claim that exists.
fn claim_records(world: &World, request: &Request) -> Vec<ClaimRecord> {
    world
        .claims
        .iter()
        .map(|c| {
            let name = c.name_any();
            let recreate = match request.restore.iter().find(|r| r.claim == name) {
                Some(source) => Some(restored(recreate_spec(c), source)),
                None => (template_claim(world, &name).is_none())
                    .then(|| reshaped(recreate_spec(c), &request.reshape)),
            };
            ClaimRecord {
                name,
                uid: c.uid().unwrap_or_default(),
                recreate,
            }
        })
        .collect()
}

/// The journal in words: its steps, in order, and the disruption they cause.
fn describe(
    journal: &Journal,
    retention: &[RetentionView],
    reshape: &Reshape,
) -> (Vec<String>, String) {
    let owner_list: Vec<String> = journal
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
    let mut steps = Vec::new();
    if !journal.autoscalers.is_empty() {
        steps.push("pause the autoscalers".to_string());
    }
    for s in &journal.snapshots {
        steps.push(format!(
            "snapshot {} as VolumeSnapshot {} (class {}) and wait until it is ready",
            s.claim, s.name, s.class
        ));
    }
    let disruption = match journal.strategy {
        Strategy::Pod => describe_pod(journal, &owner_list, &mut steps),
        Strategy::Scale => describe_scale(journal, retention, reshape, &owner_list, &mut steps),
    };
    (steps, disruption)
}

fn claim_names(journal: &Journal) -> String {
    let names: Vec<&str> = journal.claims.iter().map(|c| c.name.as_str()).collect();
    names.join(", ")
}

/// The pod strategy's steps; returns the disruption.
fn describe_pod(journal: &Journal, owner_list: &[String], steps: &mut Vec<String>) -> String {
    let pod_name = journal
        .pod
        .as_ref()
        .map_or("(no pod yet)", |p| p.name.as_str());
    steps.push(format!(
        "delete claim {} (it stays Terminating while the pod uses it)",
        claim_names(journal)
    ));
    steps.push(format!("delete pod {pod_name}; the StatefulSet controller recreates the claim from its template, then the pod"));
    steps.push("verify: a new claim (new uid) is Bound and the pod is Ready".into());
    format!(
        "pod {pod_name} is down until its replacement is Ready; the other pods of {} keep running",
        owner_list.join(", ")
    )
}

/// The scale strategy's steps; returns the disruption.
fn describe_scale(
    journal: &Journal,
    retention: &[RetentionView],
    reshape: &Reshape,
    owner_list: &[String],
    steps: &mut Vec<String>,
) -> String {
    for r in retention.iter().filter(|r| r.held) {
        steps.push(format!(
            "set {}'s claim retention to whenScaled: Retain (with whenScaled: Delete the scale to 0 would delete the claims of every pod, not only these)",
            r.owner
        ));
    }
    steps.push(format!(
        "scale {} to 0 and wait until its pods are gone",
        owner_list.join(", ")
    ));
    steps.push(format!(
        "delete claim {} and wait until it is really gone",
        claim_names(journal)
    ));
    let mut recreated: Vec<&str> = Vec::new();
    for c in &journal.claims {
        let Some(spec) = &c.recreate else { continue };
        match restores_from(spec) {
            Some(snapshot) => steps.push(format!(
                "create {} from VolumeSnapshot {snapshot} (size {}): a new volume holding the snapshot's data",
                c.name,
                spec["spec"]["resources"]["requests"]["storage"]
                    .as_str()
                    .unwrap_or("-")
            )),
            None => recreated.push(c.name.as_str()),
        }
    }
    if !recreated.is_empty() {
        let same = match (&reshape.size, &reshape.storage_class) {
            (None, None) => "same name, labels, size, class and access modes".to_string(),
            (Some(size), None) => {
                format!("same name, labels, class and access modes, size {size}")
            }
            (None, Some(class)) => {
                format!("same name, labels, size and access modes, class {class}")
            }
            (Some(size), Some(class)) => {
                format!("same name, labels and access modes, size {size}, class {class}")
            }
        };
        steps.push(format!(
            "create {} again: {same}, a new empty volume",
            recreated.join(", ")
        ));
    }
    steps.push("scale back to the recorded replicas".into());
    for r in retention.iter().filter(|r| r.held) {
        steps.push(format!(
            "put {}'s claim retention back to whenScaled: Delete",
            r.owner
        ));
    }
    if !journal.autoscalers.is_empty() {
        steps.push("restore the autoscalers".into());
    }
    steps.push("verify: new claims (new uid) Bound, pods Ready, replicas as before".into());
    format!(
        "{} unavailable from the scale-down until its pods are Ready again",
        owner_list.join(", ")
    )
}

/// The provisioner of classes whose volumes someone makes by hand (local volumes).
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// The claim's class, quoted as the plan shows it, when nothing would make a volume for the
/// claim created again: `storageClassName: ""` (no class) or a class whose provisioner is
/// kubernetes.io/no-provisioner. Such claims bind only to a PersistentVolume someone made
/// (kubernetes/kubernetes pkg/controller/volume/persistentvolume/pv_controller.go). A claim
/// without the field got the default class at admission, if there is one.
fn unprovisioned_class(world: &World, claim: &PersistentVolumeClaim) -> Option<String> {
    match claim.spec.as_ref()?.storage_class_name.as_deref()? {
        "" => Some("\"\"".into()),
        class => world
            .classes
            .get(class)
            .filter(|c| c.provisioner == NO_PROVISIONER)
            .map(|_| class.to_string()),
    }
}

/// A StatefulSet owner's claim retention policy: (as found, whenScaled, whenDeleted), Retain
/// when unset. None for Deployments.
fn claim_retention(world: &World, owner: &OwnerRecord) -> Option<(Value, String, String)> {
    if owner.kind != WorkloadKind::StatefulSet {
        return None;
    }
    let sts = world
        .statefulsets
        .iter()
        .find(|s| s.name_any() == owner.name)?;
    let policy = sts
        .spec
        .as_ref()?
        .persistent_volume_claim_retention_policy
        .clone()
        .unwrap_or_default();
    let as_found = serde_json::to_value(&policy).unwrap_or(Value::Null);
    let retain = || "Retain".to_string();
    Some((
        as_found,
        policy.when_scaled.unwrap_or_else(retain),
        policy.when_deleted.unwrap_or_else(retain),
    ))
}

fn replicas_of(world: &World, kind: WorkloadKind, name: &str) -> i32 {
    match kind {
        WorkloadKind::StatefulSet => world
            .statefulsets
            .iter()
            .find(|s| s.name_any() == name)
            .and_then(|s| s.spec.as_ref()?.replicas)
            .unwrap_or(1),
        WorkloadKind::Deployment => world
            .deployments
            .iter()
            .find(|d| d.name_any() == name)
            .and_then(|d| d.spec.as_ref()?.replicas)
            .unwrap_or(1),
    }
}

/// The snapshot class for a CSI driver: the default one for it, else any for it; with the
/// driver unknown, the default class.
fn snapshot_class(world: &World, driver: Option<&str>) -> Option<String> {
    let is_default = |c: &&&kube::api::DynamicObject| {
        c.annotations()
            .get("snapshot.storage.kubernetes.io/is-default-class")
            .map(String::as_str)
            == Some("true")
    };
    let for_driver: Vec<&kube::api::DynamicObject> = world
        .snapshot_classes
        .iter()
        .filter(|c| driver.is_none_or(|d| c.data["driver"].as_str() == Some(d)))
        .collect();
    for_driver
        .iter()
        .find(is_default)
        .or_else(|| driver.and(for_driver.first()))
        .map(|c| c.name_any())
}

/// The plan as text (stderr, before the prompt), its lines wrapped to the terminal's width
/// (120 columns at most, and without a terminal).
pub fn render(plan: &Plan) -> String {
    let width = console::Term::stderr()
        .size_checked()
        .map_or(MAX_WIDTH, |(_, cols)| {
            usize::from(cols).clamp(40, MAX_WIDTH)
        });
    shared::output::wrap(&render_lines(plan), width)
}

/// The widest a plan line goes: as kubectl's tables, readable in a 120-column terminal.
const MAX_WIDTH: usize = 120;

fn render_lines(plan: &Plan) -> String {
    let mut out = format!(
        "Reset {} claim{} in namespace {} ({} strategy)\n",
        plan.claims.len(),
        if plan.claims.len() == 1 { "" } else { "s" },
        plan.namespace,
        match plan.journal.strategy {
            Strategy::Pod => "pod",
            Strategy::Scale => "scale",
        }
    );
    for c in &plan.claims {
        out.push_str(&format!(
            "  claim {}: {} {}, class {}, volume {}\n    usage: {}\n    data: {}\n    mounted by: {}\n",
            c.name,
            c.capacity,
            c.access_modes.join(","),
            if c.storage_class.is_empty() {
                "\"\" (none)"
            } else {
                &c.storage_class
            },
            c.volume.as_deref().unwrap_or("-"),
            c.usage.describe(),
            c.data,
            if c.consumers.is_empty() {
                "no pod".to_string()
            } else {
                c.consumers.join(", ")
            }
        ));
        if let Some(r) = &c.reshape {
            let mut parts = Vec::new();
            if let Some(s) = &r.size {
                parts.push(format!("size {} → {}", s.from, s.to));
            }
            if let Some(s) = &r.storage_class {
                parts.push(format!("class {} → {}", s.from, s.to));
            }
            out.push_str(&format!("    new claim: {}\n", parts.join(", ")));
        }
        if let Some(r) = &c.restore_from {
            out.push_str(&format!(
                "    restored from: VolumeSnapshot {}{}{}\n",
                r.snapshot,
                r.taken
                    .as_deref()
                    .map(|t| format!(", taken {t}"))
                    .unwrap_or_default(),
                r.restore_size
                    .as_deref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default()
            ));
        }
    }
    for o in &plan.journal.owners {
        out.push_str(&format!(
            "  owner: {} ({})\n",
            o.reference(),
            shared::plural::count(o.replicas.max(0) as usize, "replica")
        ));
        if let Some(r) = plan.retention.iter().find(|r| r.owner == o.reference()) {
            out.push_str(&format!(
                "    claim retention: whenScaled {}, whenDeleted {}{}\n",
                r.when_scaled,
                r.when_deleted,
                if r.held {
                    " (held at whenScaled: Retain during the reset)"
                } else {
                    ""
                }
            ));
        }
    }
    out.push_str("  steps:\n");
    for (i, s) in plan.steps.iter().enumerate() {
        out.push_str(&format!("    {}. {s}\n", i + 1));
    }
    out.push_str(&format!("  disruption: {}\n", plan.disruption));
    for w in &plan.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    fn claim(name: &str, volume: &str, modes: &[&str]) -> PersistentVolumeClaim {
        from(json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"),
                         "labels": {"app": "web"},
                         "annotations": {"pv.kubernetes.io/bind-completed": "yes", "volume.kubernetes.io/selected-node": "n1", "team": "data"}},
            "spec": {"accessModes": modes, "storageClassName": "fast", "volumeName": volume, "volumeMode": "Filesystem",
                     "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}
        }))
    }

    fn pod(name: &str, owner: (&str, &str), claim: &str) -> Pod {
        from(json!({
            "metadata": {"name": name, "namespace": "ns", "uid": format!("uid-{name}"),
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner.0, "name": owner.1, "uid": "x", "controller": true}]},
            "spec": {"containers": [], "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]},
            "status": {"phase": "Running"}
        }))
    }

    fn world() -> World {
        World {
            namespace: "ns".into(),
            claims: vec![claim("data-web-1", "pv-1", &["ReadWriteOnce"])],
            volumes: [(
                "pv-1".to_string(),
                from(json!({"metadata": {"name": "pv-1"}, "spec": {"persistentVolumeReclaimPolicy": "Retain", "csi": {"driver": "d", "volumeHandle": "h"}}})),
            )]
            .into(),
            pods: vec![pod("web-1", ("StatefulSet", "web"), "data-web-1")],
            statefulsets: vec![from(json!({"metadata": {"name": "web"}, "spec": {"replicas": 3, "selector": {}, "serviceName": "web", "template": {},
                                                "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}))],
            ..Default::default()
        }
    }

    fn request(strategy: StrategyChoice) -> Request {
        Request {
            claims: vec!["data-web-1".into()],
            strategy,
            snapshot: false,
            ignore_autoscaler: false,
            force: false,
            reshape: Reshape::default(),
            restore: Vec::new(),
            ignore_gitops: false,
        }
    }

    #[test]
    fn each_claim_shows_how_full_it_is_or_why_that_is_unknown() {
        let mut w = world();
        let p = plan(&w, &request(StrategyChoice::Auto), "t").unwrap();
        assert_eq!(
            p.claims[0].usage,
            shared::volume_usage::ClaimUsage::NotMounted
        );
        assert!(
            render_lines(&p).contains("    usage: unknown (no running pod mounts it)\n"),
            "{}",
            render_lines(&p)
        );
        let summary: shared::volume_usage::Summary = from(json!({"pods": [
            {"podRef": {"name": "web-1", "namespace": "ns"},
             "volume": [{"name": "v", "pvcRef": {"name": "data-web-1", "namespace": "ns"},
                         "capacityBytes": 10u64 << 30, "usedBytes": 9u64 << 30}]}]}));
        w.usage.add_summary("n1", &summary);
        let p = plan(&w, &request(StrategyChoice::Auto), "t").unwrap();
        assert!(
            render_lines(&p).contains("    usage: 9Gi of 10Gi used (90%)\n"),
            "{}",
            render_lines(&p)
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["claims"][0]["usage"]["usedPercent"], 90);
    }

    #[test]
    fn one_statefulset_ordinal_takes_the_pod_strategy_and_keeps_retained_data() {
        let p = plan(
            &world(),
            &request(StrategyChoice::Auto),
            "2026-11-25T10:00:00Z",
        )
        .unwrap();
        assert_eq!(p.journal.strategy, Strategy::Pod);
        assert_eq!(p.journal.pod.as_ref().unwrap().name, "web-1");
        assert_eq!(p.journal.owners[0].replicas, 3);
        assert!(
            p.claims[0].data.contains("Released and kept"),
            "{}",
            p.claims[0].data
        );
        assert!(
            p.journal.claims[0].recreate.is_none(),
            "the template recreates it"
        );
        let scale = plan(&world(), &request(StrategyChoice::Scale), "t").unwrap();
        assert_eq!(scale.journal.strategy, Strategy::Scale);
        assert!(render(&scale).contains("scale statefulset/web (3 replicas) to 0"));
    }

    #[test]
    fn a_deployment_claim_is_recreated_without_binding_annotations() {
        let mut w = world();
        w.statefulsets.clear();
        w.pods = vec![pod("api-abc", ("ReplicaSet", "api-7d"), "data-web-1")];
        w.replicasets = vec![from(
            json!({"metadata": {"name": "api-7d", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "d", "controller": true}]}}),
        )];
        let p = plan(&w, &request(StrategyChoice::Auto), "t").unwrap();
        assert_eq!(p.journal.strategy, Strategy::Scale);
        assert_eq!(p.journal.owners[0].reference(), "deployment/api");
        let spec = p.journal.claims[0].recreate.clone().unwrap();
        assert_eq!(spec["metadata"]["annotations"], json!({"team": "data"}));
        assert_eq!(spec["metadata"]["labels"], json!({"app": "web"}));
        assert!(spec["spec"]["volumeName"].is_null());
        assert_eq!(spec["spec"]["storageClassName"], "fast");
        assert_eq!(spec["spec"]["resources"]["requests"]["storage"], "10Gi");
        let pod_strategy = plan(&w, &request(StrategyChoice::Pod), "t").unwrap_err();
        assert_eq!(pod_strategy.exit_code(), 2);
    }

    #[test]
    fn refusals_say_why_and_the_way_out() {
        let mut shared = world();
        shared.claims = vec![claim("data-web-1", "pv-1", &["ReadWriteMany"])];
        shared
            .pods
            .push(pod("other-0", ("StatefulSet", "other"), "data-web-1"));
        let e = plan(&shared, &request(StrategyChoice::Auto), "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("used by 2 owners") && e.contains("ReadWriteMany") && e.contains("--force"),
            "{e}"
        );
        let forced = Request {
            force: true,
            ..request(StrategyChoice::Auto)
        };
        assert_eq!(plan(&shared, &forced, "t").unwrap().journal.owners.len(), 2);

        let mut bare = world();
        bare.pods[0].metadata.owner_references = None;
        assert!(
            plan(&bare, &request(StrategyChoice::Auto), "t")
                .unwrap_err()
                .to_string()
                .contains("no controller recreates")
        );
        // An owner reference without `controller: true` recreates nothing either.
        let mut plain = world();
        if let Some(refs) = plain.pods[0].metadata.owner_references.as_mut() {
            refs[0].controller = None;
        }
        assert!(
            plan(&plain, &request(StrategyChoice::Auto), "t")
                .unwrap_err()
                .to_string()
                .contains("no controller recreates")
        );

        let mut autoscaled = world();
        autoscaled.hpas = vec![from(
            json!({"metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "web"}, "maxReplicas": 5}}),
        )];
        let e = plan(&autoscaled, &request(StrategyChoice::Scale), "t")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("autoscaled by HorizontalPodAutoscaler web (1-5 replicas")
                && e.contains("--ignore-autoscaler"),
            "{e}"
        );
        let ignored = Request {
            ignore_autoscaler: true,
            ..request(StrategyChoice::Scale)
        };
        assert_eq!(
            plan(&autoscaled, &ignored, "t")
                .unwrap()
                .journal
                .autoscalers
                .len(),
            1
        );
        assert!(
            plan(&autoscaled, &request(StrategyChoice::Auto), "t").is_ok(),
            "the pod strategy leaves replicas alone"
        );

        let missing = World {
            namespace: "ns".into(),
            missing: vec!["data-wbe-1".into()],
            claim_names: vec!["data-web-1".into(), "unrelated".into()],
            ..Default::default()
        };
        let e = plan(&missing, &request(StrategyChoice::Auto), "t").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(e.to_string().ends_with("did you mean data-web-1?"), "{e}");

        let snapshot = Request {
            snapshot: true,
            ..request(StrategyChoice::Auto)
        };
        assert!(
            plan(&world(), &snapshot, "t")
                .unwrap_err()
                .to_string()
                .contains("no VolumeSnapshotClass for driver d")
        );
    }

    fn deployment_world() -> World {
        let mut w = world();
        w.statefulsets.clear();
        w.pods = vec![pod("api-abc", ("ReplicaSet", "api-7d"), "data-web-1")];
        w.replicasets = vec![from(
            json!({"metadata": {"name": "api-7d", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "d", "controller": true}]}}),
        )];
        w
    }

    #[test]
    fn size_and_class_apply_to_a_deployment_claim_and_are_refused_for_a_template() {
        let reshape = Request {
            reshape: Reshape {
                size: Some("4Gi".into()),
                storage_class: Some("slow".into()),
            },
            ..request(StrategyChoice::Auto)
        };
        let p = plan(&deployment_world(), &reshape, "t").unwrap();
        let spec = p.journal.claims[0].recreate.clone().unwrap();
        assert_eq!(spec["spec"]["resources"]["requests"]["storage"], "4Gi");
        assert_eq!(spec["spec"]["storageClassName"], "slow");
        assert_eq!(
            p.claims[0].reshape.as_ref().unwrap().size,
            Some(Change {
                from: "10Gi".into(),
                to: "4Gi".into()
            })
        );
        let text = render(&p);
        assert!(
            text.contains("new claim: size 10Gi → 4Gi, class fast → slow")
                && text.contains(
                    "create data-web-1 again: same name, labels and access modes, size 4Gi, class slow, a new empty volume"
                ),
            "{text}"
        );
        // The same size is no change: nothing to show.
        let same = Request {
            reshape: Reshape {
                size: Some("10Gi".into()),
                storage_class: None,
            },
            ..request(StrategyChoice::Auto)
        };
        assert_eq!(
            plan(&deployment_world(), &same, "t").unwrap().claims[0].reshape,
            None
        );
        let refused = plan(&world(), &reshape, "t").unwrap_err();
        assert_eq!(refused.exit_code(), 1);
        assert!(
            refused.to_string().contains(
                "comes from statefulset web's volumeClaimTemplate, which cannot be changed"
            ),
            "{refused}"
        );
    }

    #[test]
    fn a_restore_creates_the_claim_from_its_snapshot_by_scaling() {
        let restore = Request {
            restore: vec![RestoreSource {
                claim: "data-web-1".into(),
                snapshot: "data-web-1-pvcreset-1".into(),
                restore_size: Some("12Gi".into()),
                taken: Some("2026-11-25T10:00:00Z".into()),
            }],
            ..request(StrategyChoice::Auto)
        };
        // One StatefulSet ordinal, yet the scale strategy: pvcreset creates the claim.
        let p = plan(&world(), &restore, "t").unwrap();
        assert_eq!(p.journal.strategy, Strategy::Scale);
        let spec = p.journal.claims[0].recreate.clone().unwrap();
        assert_eq!(
            spec["spec"]["dataSource"],
            json!({"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "data-web-1-pvcreset-1"})
        );
        assert_eq!(
            spec["spec"]["resources"]["requests"]["storage"], "12Gi",
            "at least the snapshot's restoreSize"
        );
        assert_eq!(restores_from(&spec), Some("data-web-1-pvcreset-1"));
        let text = render(&p);
        assert!(
            text.contains("restored from: VolumeSnapshot data-web-1-pvcreset-1, taken 2026-11-25T10:00:00Z, 12Gi")
                && text.contains("create data-web-1 from VolumeSnapshot data-web-1-pvcreset-1 (size 12Gi)"),
            "{text}"
        );
    }

    #[test]
    fn a_scale_reset_holds_a_deleting_claim_retention_at_retain() {
        let mut w = world();
        w.statefulsets = vec![from(
            json!({"metadata": {"name": "web"}, "spec": {"replicas": 3, "selector": {}, "serviceName": "web", "template": {},
                   "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete", "whenDeleted": "Retain"},
                   "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}),
        )];
        let scale = plan(&w, &request(StrategyChoice::Scale), "t").unwrap();
        assert_eq!(
            scale.journal.owners[0].claim_retention,
            Some(json!({"whenScaled": "Delete", "whenDeleted": "Retain"}))
        );
        let text = render(&scale);
        assert!(
            text.contains("claim retention: whenScaled Delete, whenDeleted Retain (held")
                && text.contains("1. set statefulset/web's claim retention to whenScaled: Retain")
                && text
                    .contains("put statefulset/web's claim retention back to whenScaled: Delete"),
            "{text}"
        );
        // The pod strategy scales nothing: the policy is shown and left alone.
        let pod = plan(&w, &request(StrategyChoice::Auto), "t").unwrap();
        assert_eq!(pod.journal.strategy, Strategy::Pod);
        assert_eq!(pod.journal.owners[0].claim_retention, None);
        assert!(!pod.retention[0].held);
        // Retain (the default) needs nothing either.
        let retain = plan(&world(), &request(StrategyChoice::Scale), "t").unwrap();
        assert_eq!(retain.journal.owners[0].claim_retention, None);
        assert!(
            render(&retain).contains("claim retention: whenScaled Retain, whenDeleted Retain\n")
        );
    }

    #[test]
    fn a_claim_nothing_provisions_is_refused_unless_forced() {
        let mut none = world();
        if let Some(spec) = none.claims[0].spec.as_mut() {
            spec.storage_class_name = Some(String::new());
        }
        let e = plan(&none, &request(StrategyChoice::Auto), "t").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.to_string().contains("the claim's class \"\" has no provisioner: a recreated claim would stay Pending until someone provides a PersistentVolume")
                && e.to_string().contains("--force"),
            "{e}"
        );
        let forced = Request {
            force: true,
            ..request(StrategyChoice::Auto)
        };
        let p = plan(&none, &forced, "t").unwrap();
        assert!(
            p.warnings[0].contains(
                "the pods of statefulset/web stay Pending until someone creates a PersistentVolume"
            ),
            "{:?}",
            p.warnings
        );
        assert!(render(&p).contains("class \"\" (none)"));

        let mut local = world();
        local.classes.insert(
            "fast".into(),
            from(json!({"metadata": {"name": "fast"}, "provisioner": "kubernetes.io/no-provisioner"})),
        );
        let e = plan(&local, &request(StrategyChoice::Auto), "t").unwrap_err();
        assert!(
            e.to_string().contains("class fast has no provisioner"),
            "{e}"
        );
        local.classes.insert(
            "fast".into(),
            from(json!({"metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com"})),
        );
        assert!(plan(&local, &request(StrategyChoice::Auto), "t").is_ok());
    }
}
