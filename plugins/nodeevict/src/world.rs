//! What planning a drain reads: every node, every pod (capacity and where replicas run), the
//! owners, PodDisruptionBudgets, HPAs and KEDA ScaledObjects. Seven list requests, whatever the
//! node holds (an eighth, Argo CD's Applications, only when a Deployment carries Argo CD's
//! tracking marks: shared::manager).
//!
//! Pods, ReplicaSets and Deployments are the lists that grow with the cluster: each item is
//! decoded straight into a small summary of what the plan reads, so a 150,000-pod cluster is
//! never held as full objects. [`Index`] then finds a node's pods, a workload's pods and a
//! node's requested totals in one pass, keeping planning linear in the cluster's size.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod, Toleration};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Client, Resource, ResourceExt};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

#[derive(Debug, Clone, Default)]
pub struct World {
    pub nodes: Vec<Node>,
    pub pods: Vec<PodSummary>,
    pub replicasets: Vec<WorkloadSummary>,
    pub deployments: Vec<WorkloadSummary>,
    pub pdbs: Vec<PodDisruptionBudget>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    /// KEDA's ScaledObjects (a CRD: none where KEDA is not installed).
    pub scaled_objects: Vec<DynamicObject>,
    /// Argo CD's Applications when read (a Deployment carries its marks) and readable.
    pub argo_apps: Option<shared::manager::ArgoApps>,
    /// Per `--pod-selector`: the UIDs of the pods it selects, as the API server matched them
    /// (kubectl drain lists the node's pods with the selector the same way).
    pub selected: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl World {
    /// Reads which pods `selector` selects (one list of their metadata), once per selector.
    pub async fn select(
        &mut self,
        client: &Client,
        selector: Option<&str>,
    ) -> Result<(), kube::Error> {
        let Some(selector) = selector.filter(|s| !self.selected.contains_key(*s)) else {
            return Ok(());
        };
        let uids = Api::<Pod>::all(client.clone())
            .list_metadata(&ListParams::default().labels(selector))
            .await?
            .items
            .iter()
            .filter_map(|p| p.metadata.uid.clone())
            .collect();
        self.selected.insert(selector.to_string(), uids);
        Ok(())
    }

    /// Whether the drain acts on `pod`: every pod without `--pod-selector`, else the ones it
    /// selects (the others are left alone, as kubectl drain leaves them).
    pub fn in_scope(&self, pod: &PodSummary, selector: Option<&str>) -> bool {
        selector.is_none_or(|s| {
            self.selected
                .get(s)
                .is_some_and(|uids| uids.contains(&pod.uid))
        })
    }
}

/// pkg/apis/scheduling/types.go SystemCriticalPriority: the value of system-cluster-critical,
/// the lower of the two built-in critical classes; user classes stay at or below 1000000000.
pub const SYSTEM_CRITICAL_PRIORITY: i32 = 2_000_000_000;

/// A pod as the plan reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "PodWire")]
pub struct PodSummary {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    /// `(kind, name)` of the reference with `controller: true`, as kubectl drain's
    /// `GetControllerOf` finds it: a pod with plain owner references is unmanaged.
    pub controller: Option<(String, String)>,
    pub node_name: Option<String>,
    pub phase: Option<String>,
    /// It has a deletionTimestamp: on its way out.
    pub terminating: bool,
    /// Its `Ready` condition is `True` and it is not terminating.
    pub ready: bool,
    /// A static pod's mirror (`kubernetes.io/config.mirror`).
    pub mirror: bool,
    /// `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` or
    /// `karpenter.sh/do-not-disrupt: "true"`.
    pub do_not_disrupt: bool,
    pub has_emptydir: bool,
    /// Requested CPU (cores) and memory (bytes), summed over the containers.
    pub requests: (f64, f64),
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    /// `spec.priority`, as the Priority admission plugin set it from the pod's class (0 when
    /// unset, as the scheduler counts a pod without one).
    pub priority: i32,
    /// Of class system-cluster-critical or system-node-critical (or a priority as high): it
    /// goes last, as cluster-autoscaler's drain and the kubelet's graceful shutdown order them.
    pub system_critical: bool,
    /// `spec.terminationGracePeriodSeconds` (the API's default, 30, when unset): a deletion at
    /// a `--force-after` deadline is timed to leave the pod all of it.
    pub grace_period_seconds: i64,
}

/// The API's default `terminationGracePeriodSeconds` (k8s.io/api core/v1
/// DefaultTerminationGracePeriodSeconds).
pub const DEFAULT_GRACE_PERIOD_SECONDS: i64 = 30;

impl PodSummary {
    pub fn controller(&self) -> Option<(&str, &str)> {
        self.controller
            .as_ref()
            .map(|(kind, name)| (kind.as_str(), name.as_str()))
    }

    pub fn finished(&self) -> bool {
        matches!(self.phase.as_deref(), Some("Succeeded" | "Failed"))
    }
}

/// A ReplicaSet or Deployment as the plan reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "WorkloadWire")]
pub struct WorkloadSummary {
    pub namespace: String,
    pub name: String,
    /// `(kind, name)` of its controller (a ReplicaSet's Deployment).
    pub controller: Option<(String, String)>,
    /// `spec.replicas` (`None`: unset, the API's 1).
    pub replicas: Option<i32>,
    /// Only what shared::manager reads (GitOps labels and annotations, the controller
    /// reference): who else sets its replicas.
    pub marks: ObjectMeta,
}

// ---- the wire shapes: only the fields the summaries keep; serde skips the rest ----

#[derive(Deserialize, Default)]
#[serde(default)]
struct PodWire {
    metadata: ObjectMeta,
    spec: Option<PodSpecWire>,
    status: Option<PodStatusWire>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PodSpecWire {
    node_name: Option<String>,
    containers: Option<Vec<ContainerWire>>,
    volumes: Option<Vec<VolumeWire>>,
    node_selector: Option<BTreeMap<String, String>>,
    tolerations: Option<Vec<Toleration>>,
    priority: Option<i32>,
    priority_class_name: Option<String>,
    termination_grace_period_seconds: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContainerWire {
    resources: Option<ResourcesWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourcesWire {
    requests: Option<BTreeMap<String, Quantity>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct VolumeWire {
    empty_dir: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PodStatusWire {
    phase: Option<String>,
    conditions: Option<Vec<ConditionWire>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConditionWire {
    #[serde(rename = "type")]
    type_: String,
    status: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WorkloadWire {
    metadata: ObjectMeta,
    spec: Option<ReplicasWire>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReplicasWire {
    replicas: Option<i32>,
}

fn controller_of(meta: &ObjectMeta) -> Option<(String, String)> {
    shared::owner::controller_kind_name(meta).map(|(kind, name)| (kind.into(), name.into()))
}

/// The sum of the containers' requests of `resource`, unparsable quantities counting 0.
fn requested(containers: &[ContainerWire], resource: &str) -> f64 {
    containers
        .iter()
        .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get(resource))
        .filter_map(|q| shared::quantity::parse(&q.0))
        .sum()
}

impl From<PodWire> for PodSummary {
    fn from(wire: PodWire) -> Self {
        let spec = wire.spec.unwrap_or_default();
        let status = wire.status.unwrap_or_default();
        let annotations = wire.metadata.annotations.as_ref();
        let annotated = |key: &str, value: &str| {
            annotations.and_then(|a| a.get(key)).map(String::as_str) == Some(value)
        };
        let do_not_disrupt = annotated("cluster-autoscaler.kubernetes.io/safe-to-evict", "false")
            || annotated("karpenter.sh/do-not-disrupt", "true");
        let mirror = annotations.is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
        let terminating = wire.metadata.deletion_timestamp.is_some();
        let ready = !terminating
            && status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
        let containers = spec.containers.unwrap_or_default();
        PodSummary {
            controller: controller_of(&wire.metadata),
            namespace: wire.metadata.namespace.unwrap_or_default(),
            name: wire.metadata.name.unwrap_or_default(),
            uid: wire.metadata.uid.unwrap_or_default(),
            labels: wire.metadata.labels.unwrap_or_default(),
            node_name: spec.node_name,
            phase: status.phase,
            terminating,
            ready,
            mirror,
            do_not_disrupt,
            has_emptydir: spec.volumes.iter().flatten().any(|v| v.empty_dir.is_some()),
            requests: (
                requested(&containers, "cpu"),
                requested(&containers, "memory"),
            ),
            node_selector: spec.node_selector.unwrap_or_default(),
            tolerations: spec.tolerations.unwrap_or_default(),
            priority: spec.priority.unwrap_or(0),
            system_critical: spec
                .priority_class_name
                .as_deref()
                .is_some_and(|c| c == "system-cluster-critical" || c == "system-node-critical")
                || spec.priority.unwrap_or(0) >= SYSTEM_CRITICAL_PRIORITY,
            grace_period_seconds: spec
                .termination_grace_period_seconds
                .unwrap_or(DEFAULT_GRACE_PERIOD_SECONDS)
                .max(0),
        }
    }
}

/// The labels and annotations shared::manager reads, and the controller reference.
fn manager_marks(meta: &ObjectMeta) -> ObjectMeta {
    use shared::manager as m;
    let keep = |map: &Option<BTreeMap<String, String>>, keys: &[&str]| {
        let kept: BTreeMap<String, String> = map
            .iter()
            .flatten()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        (!kept.is_empty()).then_some(kept)
    };
    let keys = [
        m::FLUX_KUSTOMIZE_NAME,
        m::FLUX_KUSTOMIZE_NAMESPACE,
        m::FLUX_RECONCILE,
        m::FLUX_HELM_NAME,
        m::FLUX_HELM_NAMESPACE,
        m::ARGOCD_TRACKING_ID,
        m::INSTANCE_LABEL,
    ];
    ObjectMeta {
        labels: keep(&meta.labels, &keys),
        annotations: keep(&meta.annotations, &keys),
        owner_references: shared::owner::controller_of(meta).map(|o| vec![o.clone()]),
        ..Default::default()
    }
}

impl From<WorkloadWire> for WorkloadSummary {
    fn from(wire: WorkloadWire) -> Self {
        WorkloadSummary {
            marks: manager_marks(&wire.metadata),
            controller: controller_of(&wire.metadata),
            namespace: wire.metadata.namespace.unwrap_or_default(),
            name: wire.metadata.name.unwrap_or_default(),
            replicas: wire.spec.and_then(|s| s.replicas),
        }
    }
}

/// KEDA's ScaledObject.
pub fn scaled_object_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("keda.sh", "v1alpha1", "ScaledObject"),
        "scaledobjects",
    )
}

#[derive(Deserialize)]
struct SummaryList<S> {
    items: Vec<S>,
}

/// Body chunks queued between the connection and the decoder: enough to keep both busy, few
/// enough that the list is never held whole.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Lists `K` (all namespaces) as summaries `S`: the same request as `Api::<K>::all().list`,
/// decoded while the body arrives, each item straight into its summary, so neither the list's
/// text nor its full objects are ever held whole (30,000 pods are 32 MB of JSON).
pub async fn list_summaries<K, S>(client: &Client, lp: &ListParams) -> Result<Vec<S>, kube::Error>
where
    K: Resource<DynamicType = ()>,
    S: DeserializeOwned + Send + 'static,
{
    use futures::{AsyncBufRead, AsyncBufReadExt};
    let request = kube::core::Request::new(K::url_path(&(), None))
        .list(lp)
        .map_err(kube::Error::BuildRequest)?;
    let mut body = std::pin::pin!(client.request_stream(request).await?);
    let (chunks, received) = tokio::sync::mpsc::channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    // serde_json decodes from a blocking reader: on a blocking thread, fed by this task.
    let decoder = tokio::task::spawn_blocking(move || {
        serde_json::from_reader::<_, SummaryList<S>>(std::io::BufReader::new(ChunkReader {
            chunks: received,
            current: std::io::Cursor::new(Vec::new()),
        }))
    });
    let read = loop {
        let chunk = match body.as_mut().fill_buf().await {
            Ok([]) => break Ok(()),
            Ok(bytes) => bytes.to_vec(),
            Err(e) => break Err(e),
        };
        body.as_mut().consume(chunk.len());
        // A closed channel means the decoder stopped on an error, which it reports.
        if chunks.send(chunk).await.is_err() {
            break Ok(());
        }
    };
    drop(chunks);
    let decoded = decoder
        .await
        .map_err(|e| kube::Error::Service(Box::new(e)))?;
    read.map_err(kube::Error::ReadEvents)?;
    Ok(decoded.map_err(kube::Error::SerdeError)?.items)
}

/// The body chunks as a blocking reader, for the decoder's thread.
struct ChunkReader {
    chunks: tokio::sync::mpsc::Receiver<Vec<u8>>,
    current: std::io::Cursor<Vec<u8>>,
}

impl std::io::Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.current.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            match self.chunks.blocking_recv() {
                Some(next) => self.current = std::io::Cursor::new(next),
                None => return Ok(0),
            }
        }
    }
}

pub async fn read(client: &Client) -> Result<World, kube::Error> {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    let lp = ListParams::default();
    let (nodes, pdbs, hpas) = (
        Api::<Node>::all(client.clone()),
        Api::<PodDisruptionBudget>::all(client.clone()),
        Api::<HorizontalPodAutoscaler>::all(client.clone()),
    );
    let (nodes, pods, replicasets, deployments, pdbs, hpas) = tokio::try_join!(
        nodes.list(&lp),
        list_summaries::<Pod, PodSummary>(client, &lp),
        list_summaries::<ReplicaSet, WorkloadSummary>(client, &lp),
        list_summaries::<Deployment, WorkloadSummary>(client, &lp),
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
    let argo_apps = argo_apps(client, &deployments).await?;
    Ok(World {
        nodes: nodes.items,
        pods,
        replicasets,
        deployments,
        pdbs: pdbs.items,
        hpas: hpas.items,
        scaled_objects,
        argo_apps,
        selected: BTreeMap::new(),
    })
}

/// Argo CD's Applications (any namespace), read only when a Deployment carries Argo CD's
/// tracking annotation or the instance label; `None` when not read or unreadable.
async fn argo_apps(
    client: &Client,
    deployments: &[WorkloadSummary],
) -> Result<Option<shared::manager::ArgoApps>, kube::Error> {
    let marked = deployments.iter().any(|d| {
        d.marks
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(shared::manager::ARGOCD_TRACKING_ID))
            || d.marks
                .labels
                .as_ref()
                .is_some_and(|l| l.contains_key(shared::manager::INSTANCE_LABEL))
    });
    if !marked {
        return Ok(None);
    }
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"),
        "applications",
    );
    match Api::<DynamicObject>::all_with(client.clone(), &resource)
        .list(&ListParams::default())
        .await
    {
        Ok(list) => {
            let values: Vec<serde_json::Value> = list
                .items
                .iter()
                .filter_map(|o| serde_json::to_value(o).ok())
                .collect();
            Ok(Some(shared::manager::ArgoApps::from_objects(&values)))
        }
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 403 => Ok(None),
        Err(e) => Err(e),
    }
}

/// `(namespace, kind, name)` of a workload.
type WorkloadKey<'a> = (&'a str, &'a str, &'a str);

/// Lookups over one [`World`], built in one pass so that planning a node never scans the
/// whole cluster per pod or per node.
pub struct Index<'a> {
    world: &'a World,
    /// A ReplicaSet's controller, by `(namespace, name)`.
    replicaset_owner: HashMap<(&'a str, &'a str), (&'a str, &'a str)>,
    pods_by_node: HashMap<&'a str, Vec<&'a PodSummary>>,
    pods_by_workload: HashMap<WorkloadKey<'a>, Vec<&'a PodSummary>>,
    /// CPU and memory requested by the unfinished pods of each node.
    requested_by_node: HashMap<&'a str, (f64, f64)>,
}

impl<'a> Index<'a> {
    pub fn new(world: &'a World) -> Self {
        let replicaset_owner = world
            .replicasets
            .iter()
            .filter_map(|rs| {
                let (kind, name) = rs.controller.as_ref()?;
                Some((
                    (rs.namespace.as_str(), rs.name.as_str()),
                    (kind.as_str(), name.as_str()),
                ))
            })
            .collect();
        let mut index = Index {
            world,
            replicaset_owner,
            pods_by_node: HashMap::new(),
            pods_by_workload: HashMap::new(),
            requested_by_node: HashMap::new(),
        };
        for pod in &world.pods {
            if let Some(node) = pod.node_name.as_deref() {
                index.pods_by_node.entry(node).or_default().push(pod);
                if !pod.finished() {
                    let total = index.requested_by_node.entry(node).or_default();
                    total.0 += pod.requests.0;
                    total.1 += pod.requests.1;
                }
            }
            if let Some((kind, name)) = index.workload_of(pod) {
                index
                    .pods_by_workload
                    .entry((pod.namespace.as_str(), kind, name))
                    .or_default()
                    .push(pod);
            }
        }
        index
    }

    pub fn world(&self) -> &'a World {
        self.world
    }

    /// `(kind, name)` of the workload behind a pod: a ReplicaSet's Deployment, else its
    /// controller.
    pub fn workload_of(&self, pod: &'a PodSummary) -> Option<(&'a str, &'a str)> {
        let (kind, name) = pod.controller()?;
        if kind == "ReplicaSet"
            && let Some(("Deployment", deployment)) = self
                .replicaset_owner
                .get(&(pod.namespace.as_str(), name))
                .copied()
        {
            return Some(("Deployment", deployment));
        }
        Some((kind, name))
    }

    pub fn pods_on(&self, node: &str) -> &[&'a PodSummary] {
        self.pods_by_node.get(node).map_or(&[], Vec::as_slice)
    }

    /// Every pod of the workload `pod` belongs to (none for an unmanaged pod).
    pub fn pods_alongside(&self, pod: &'a PodSummary) -> &[&'a PodSummary] {
        self.workload_of(pod)
            .and_then(|(kind, name)| {
                self.pods_by_workload
                    .get(&(pod.namespace.as_str(), kind, name))
            })
            .map_or(&[], Vec::as_slice)
    }

    /// CPU and memory requested on `node` by its pods that have not finished.
    pub fn requested_on(&self, node: &str) -> (f64, f64) {
        self.requested_by_node
            .get(node)
            .copied()
            .unwrap_or_default()
    }

    pub fn node(&self, name: &str) -> Option<&'a Node> {
        self.world.nodes.iter().find(|n| n.name_any() == name)
    }
}
