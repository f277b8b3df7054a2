//! What planning a drain reads: every node, every pod (capacity and where replicas run), the
//! owners, PodDisruptionBudgets, HPAs and KEDA ScaledObjects. Eight list requests, whatever the
//! node holds.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

#[derive(Debug, Clone, Default)]
pub struct World {
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub replicasets: Vec<ReplicaSet>,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub pdbs: Vec<PodDisruptionBudget>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    /// KEDA's ScaledObjects (a CRD: none where KEDA is not installed).
    pub scaled_objects: Vec<DynamicObject>,
}

/// KEDA's ScaledObject.
pub fn scaled_object_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    )
}

pub async fn read(client: &Client) -> Result<World, kube::Error> {
    let lp = ListParams::default();
    let (nodes, pods, replicasets, deployments, statefulsets, pdbs, hpas) = (
        Api::<Node>::all(client.clone()),
        Api::<Pod>::all(client.clone()),
        Api::<ReplicaSet>::all(client.clone()),
        Api::<Deployment>::all(client.clone()),
        Api::<StatefulSet>::all(client.clone()),
        Api::<PodDisruptionBudget>::all(client.clone()),
        Api::<HorizontalPodAutoscaler>::all(client.clone()),
    );
    let (nodes, pods, replicasets, deployments, statefulsets, pdbs, hpas) = tokio::try_join!(
        nodes.list(&lp),
        pods.list(&lp),
        replicasets.list(&lp),
        deployments.list(&lp),
        statefulsets.list(&lp),
        pdbs.list(&lp),
        hpas.list(&lp),
    )?;
    // A 404 means KEDA is not installed: nothing is KEDA-scaled. A 403 (a role without KEDA)
    // hides them too; an HPA KEDA owns is still never edited (see plan::prescale_plan).
    let scaled_objects =
        match Api::<DynamicObject>::all_with(client.clone(), &scaled_object_resource())
            .list(&lp)
            .await
        {
            Ok(list) => list.items,
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 403 => Vec::new(),
            Err(e) => return Err(e),
        };
    Ok(World {
        nodes: nodes.items,
        pods: pods.items,
        replicasets: replicasets.items,
        deployments: deployments.items,
        statefulsets: statefulsets.items,
        pdbs: pdbs.items,
        hpas: hpas.items,
        scaled_objects,
    })
}
