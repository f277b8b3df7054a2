//! Everything a reset reads before it plans: the claims, their volumes and classes, the pods
//! of the namespace and their owners, the autoscalers and the snapshot classes. Reading is the
//! only thing done here; decisions are in `plan`.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Client, ResourceExt};

/// KEDA's ScaledObject (a CRD: absent on most clusters).
pub fn scaled_object_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    )
}

pub fn snapshot_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("snapshot.storage.k8s.io", "v1", "VolumeSnapshot"),
        "volumesnapshots",
    )
}

pub fn snapshot_class_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("snapshot.storage.k8s.io", "v1", "VolumeSnapshotClass"),
        "volumesnapshotclasses",
    )
}

#[derive(Debug, Default, Clone)]
pub struct World {
    pub namespace: String,
    /// The claims asked for that exist.
    pub claims: Vec<PersistentVolumeClaim>,
    /// The claims asked for that do not exist.
    pub missing: Vec<String>,
    /// Every claim name of the namespace, read only when some are missing (for suggestions).
    pub claim_names: Vec<String>,
    /// Bound volumes by name; absent when unreadable (a namespace-bound user).
    pub volumes: BTreeMap<String, PersistentVolume>,
    pub classes: BTreeMap<String, StorageClass>,
    pub pods: Vec<Pod>,
    pub replicasets: Vec<ReplicaSet>,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    pub scaled_objects: Vec<DynamicObject>,
    pub snapshot_classes: Vec<DynamicObject>,
    /// Argo CD's Applications, read only when a workload carries an Argo CD tracking mark;
    /// `None` when not read or unreadable (shared::manager decides what that means).
    pub argo_apps: Option<shared::manager::ArgoApps>,
    /// How full the claims are (the kubelet's stats of the running pods mounting them).
    pub usage: shared::volume_usage::Usage,
}

fn forbidden_or_missing(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 403 || s.code == 404)
}

/// Reads what planning a reset of `names` in `namespace` needs.
pub async fn read(
    client: &Client,
    namespace: &str,
    names: &[String],
    snapshot: bool,
) -> Result<World, kube::Error> {
    let lp = ListParams::default();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let mut world = World {
        namespace: namespace.to_string(),
        ..Default::default()
    };
    for name in names {
        match pvcs.get_opt(name).await? {
            Some(c) => world.claims.push(c),
            None => world.missing.push(name.clone()),
        }
    }
    if !world.missing.is_empty() {
        world.claim_names = pvcs
            .list_metadata(&lp)
            .await?
            .items
            .iter()
            .map(|c| c.name_any())
            .collect();
        return Ok(world);
    }
    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    let classes: Api<StorageClass> = Api::all(client.clone());
    for claim in &world.claims {
        let spec = claim.spec.clone().unwrap_or_default();
        if let Some(volume) = spec.volume_name.filter(|v| !v.is_empty()) {
            match pvs.get_opt(&volume).await {
                Ok(Some(pv)) => {
                    world.volumes.insert(volume, pv);
                }
                Ok(None) => {}
                Err(e) if forbidden_or_missing(&e) => {}
                Err(e) => return Err(e),
            }
        }
        // `storageClassName: ""` asks for no class: there is nothing to read.
        if let Some(class) = spec.storage_class_name.filter(|c| !c.is_empty())
            && !world.classes.contains_key(&class)
        {
            match classes.get_opt(&class).await {
                Ok(Some(sc)) => {
                    world.classes.insert(class, sc);
                }
                Ok(None) => {}
                Err(e) if forbidden_or_missing(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let (pods, replicasets, deployments, statefulsets, hpas) = (
        Api::<Pod>::namespaced(client.clone(), namespace),
        Api::<ReplicaSet>::namespaced(client.clone(), namespace),
        Api::<Deployment>::namespaced(client.clone(), namespace),
        Api::<StatefulSet>::namespaced(client.clone(), namespace),
        Api::<HorizontalPodAutoscaler>::namespaced(client.clone(), namespace),
    );
    let (pods, replicasets, deployments, statefulsets, hpas) = tokio::try_join!(
        pods.list(&lp),
        replicasets.list(&lp),
        deployments.list(&lp),
        statefulsets.list(&lp),
        hpas.list(&lp),
    )?;
    world.pods = pods.items;
    world.replicasets = replicasets.items;
    world.deployments = deployments.items;
    world.statefulsets = statefulsets.items;
    world.hpas = hpas.items;
    // KEDA and the snapshot API are CRDs: a 404 means they are not installed.
    let scaled: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &scaled_object_resource());
    world.scaled_objects = match scaled.list(&lp).await {
        Ok(list) => list.items,
        Err(e) if forbidden_or_missing(&e) => Vec::new(),
        Err(e) => return Err(e),
    };
    world.argo_apps = argo_apps(client, &world).await?;
    if snapshot {
        let classes: Api<DynamicObject> = Api::all_with(client.clone(), &snapshot_class_resource());
        world.snapshot_classes = match classes.list(&lp).await {
            Ok(list) => list.items,
            Err(e) if forbidden_or_missing(&e) => Vec::new(),
            Err(e) => return Err(e),
        };
    }
    // Unknown usage (no permission, no running pod) is shown as such, never an error.
    let mounting = world
        .pods
        .iter()
        .filter(|p| world.claims.iter().any(|c| mounts(p, &c.name_any())));
    world.usage =
        shared::volume_usage::fetch(client, shared::volume_usage::running_on_nodes(mounting)).await;
    Ok(world)
}

/// Argo CD's Application (a CRD; its apps may live in any namespace).
pub fn application_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
        "applications",
    )
}

/// The Applications of the cluster, when a workload of the namespace carries Argo CD's
/// tracking annotation or the instance label (nothing is read otherwise); `None` when they
/// cannot be read.
async fn argo_apps(
    client: &Client,
    world: &World,
) -> Result<Option<shared::manager::ArgoApps>, kube::Error> {
    let marked = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        meta.annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(shared::manager::ARGOCD_TRACKING_ID))
            || meta
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(shared::manager::INSTANCE_LABEL))
    };
    let any = world.statefulsets.iter().any(|s| marked(&s.metadata))
        || world.deployments.iter().any(|d| marked(&d.metadata));
    if !any {
        return Ok(None);
    }
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &application_resource());
    match api.list(&ListParams::default()).await {
        Ok(list) => {
            let values: Vec<serde_json::Value> = list
                .items
                .iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect();
            Ok(Some(shared::manager::ArgoApps::from_objects(&values)))
        }
        Err(e) if forbidden_or_missing(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// KEDA's pause annotation (KEDA 2.13+): the ScaledObject stops scaling its target.
pub const KEDA_PAUSED: &str = "autoscaling.keda.sh/paused";

/// Does `pod` mount `claim`?
pub fn mounts(pod: &Pod, claim: &str) -> bool {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|c| c.claim_name == claim)
        })
}
