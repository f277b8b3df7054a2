//! Finding Airflow deployments: (namespace, release) pairs from the labels `tier=airflow`,
//! `component=<c>`, `release=<r>` on workloads and pods, as the official chart and Astronomer
//! set them. Never from namespace names. Three list calls, whatever the cluster's size.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};
use serde::Serialize;

use crate::lean;

/// The label selector every Airflow object carries.
pub const AIRFLOW_SELECTOR: &str = "tier=airflow";
/// The label selector of the Astronomer platform's objects (houston, commander, registry, …).
pub const PLATFORM_SELECTOR: &str = "tier=astronomer";

/// Everything read for a listing (the raw material; no decisions).
#[derive(Debug, Default, Clone)]
pub struct Inventory {
    /// Read for the platform only: Airflow charts have no DaemonSets.
    pub daemonsets: Vec<DaemonSet>,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub pods: Vec<Pod>,
}

/// Reads the Airflow workloads and pods of one namespace, or of all with `namespace = None`.
pub async fn read(client: &Client, namespace: Option<&str>) -> Result<Inventory, kube::Error> {
    let params = ListParams::default().labels(AIRFLOW_SELECTOR);
    let (deployments, statefulsets, pods) = (
        api::<Deployment>(client, namespace),
        api::<StatefulSet>(client, namespace),
        api::<Pod>(client, namespace),
    );
    let (deployments, statefulsets, pods) = tokio::try_join!(
        deployments.list(&params),
        statefulsets.list(&params),
        pods.list(&params)
    )?;
    Ok(Inventory {
        daemonsets: Vec::new(),
        deployments: deployments.items,
        statefulsets: statefulsets.items,
        pods: pods.items,
    })
}

/// Reads the Astronomer platform's workloads (DaemonSets included) and pods, cluster-wide.
pub async fn read_platform(client: &Client) -> Result<Inventory, kube::Error> {
    let params = ListParams::default().labels(PLATFORM_SELECTOR);
    let (daemonsets, deployments, statefulsets, pods) = (
        Api::<DaemonSet>::all(client.clone()),
        Api::<Deployment>::all(client.clone()),
        Api::<StatefulSet>::all(client.clone()),
        Api::<Pod>::all(client.clone()),
    );
    let (daemonsets, deployments, statefulsets, pods) = tokio::try_join!(
        daemonsets.list(&params),
        deployments.list(&params),
        statefulsets.list(&params),
        pods.list(&params)
    )?;
    Ok(Inventory {
        daemonsets: daemonsets.items,
        deployments: deployments.items,
        statefulsets: statefulsets.items,
        pods: pods.items,
    })
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Reads a namespace's (or, with `None`, every) Airflow deployment for a command.
pub async fn load(
    target: &shared::Target,
    namespace: Option<&str>,
) -> shared::Result<(Inventory, Vec<AirflowDeployment>)> {
    let inventory = read(&target.client, namespace)
        .await
        .map_err(|e| target.api_error(e))?;
    let deployments = group(&inventory);
    Ok((inventory, deployments))
}

/// The Airflow deployments of a namespace (or, with `None`, of every one), for the commands that
/// read nothing else: the same three list requests as `load`, decoded into the fields grouping
/// reads (see `lean`), so a cluster-wide listing holds summaries, never whole objects.
pub(crate) async fn load_deployments(
    target: &shared::Target,
    namespace: Option<&str>,
) -> shared::Result<Vec<AirflowDeployment>> {
    let params = ListParams::default().labels(AIRFLOW_SELECTOR);
    let (deployments, statefulsets, pods) = (
        api::<Deployment>(&target.client, namespace),
        api::<StatefulSet>(&target.client, namespace),
        api::<Pod>(&target.client, namespace),
    );
    let (deployments, statefulsets, pods) = tokio::try_join!(
        lean::list::<_, lean::WorkloadFields>(&target.client, &deployments, &params),
        lean::list::<_, lean::WorkloadFields>(&target.client, &statefulsets, &params),
        lean::list::<_, lean::PodFields>(&target.client, &pods, &params),
    )
    .map_err(|e| target.api_error(e))?;
    let workloads = (deployments.into_iter())
        .map(|w| Workload::lean("Deployment", w))
        .chain(
            statefulsets
                .into_iter()
                .map(|w| Workload::lean("StatefulSet", w)),
        );
    let pods = pods.into_iter().filter_map(|p| PodEntry::of(&p.into_pod()));
    Ok(group_entries(workloads, pods))
}

/// One pod, as the listings need it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodSummary {
    pub name: String,
    pub uid: String,
    pub ready: bool,
    /// kubectl's STATUS column: Running, CrashLoopBackOff, Pending, Terminating…
    pub status: String,
    /// Why, when not Running: the scheduler's or the container's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub restarts: i32,
    /// How the last attempt of its most restarted container ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_exit: Option<LastExit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
}

/// How a container's previous attempt ended (`status.containerStatuses[].lastState.terminated`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LastExit {
    pub container: String,
    /// The kubelet's reason: Error, OOMKilled, Completed…
    pub reason: String,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<Timestamp>,
    /// The container's memory limit (what an OOMKilled container hit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<String>,
}

/// The last exit of the pod's most restarted container that has one (pure).
pub fn last_exit(pod: &Pod) -> Option<LastExit> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let cs = statuses
        .iter()
        .filter(|c| c.restart_count > 0)
        .filter(|c| {
            c.last_state
                .as_ref()
                .is_some_and(|s| s.terminated.is_some())
        })
        .max_by_key(|c| c.restart_count)?;
    let ended = cs.last_state.as_ref()?.terminated.as_ref()?;
    let memory_limit = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .find(|c| c.name == cs.name)
        .and_then(|c| c.resources.as_ref()?.limits.as_ref()?.get("memory"))
        .map(|q| q.0.clone());
    Some(LastExit {
        container: cs.name.clone(),
        reason: ended.reason.clone().unwrap_or_else(|| "Error".into()),
        exit_code: ended.exit_code,
        finished: ended.finished_at.as_ref().map(|t| t.0),
        memory_limit,
    })
}

/// One component of a deployment: its workload and pods.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub kind: &'static str,
    pub workload: String,
    pub desired: i32,
    pub ready: i32,
    /// The pod template's terminationGracePeriodSeconds (Kubernetes' default 30).
    pub grace_seconds: i64,
    pub pods: Vec<PodSummary>,
}

/// An Airflow deployment: a release in a namespace.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AirflowDeployment {
    pub namespace: String,
    pub release: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    /// Oldest workload's creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    pub components: BTreeMap<String, Component>,
}

fn label<'a>(labels: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    labels.get(key).map(String::as_str)
}

/// kubectl's STATUS for a pod, and the reason behind it.
pub fn pod_status(pod: &Pod) -> (String, Option<String>) {
    if pod.metadata.deletion_timestamp.is_some() {
        return ("Terminating".into(), None);
    }
    let Some(status) = pod.status.as_ref() else {
        return ("Pending".into(), None);
    };
    for cs in status.container_statuses.iter().flatten() {
        if let Some(waiting) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) {
            let reason = waiting.reason.clone().unwrap_or_else(|| "Waiting".into());
            return (reason, waiting.message.clone());
        }
    }
    let phase = status.phase.clone().unwrap_or_else(|| "Pending".into());
    if phase == "Pending" {
        let unschedulable = status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            .map(|c| {
                format!(
                    "{}: {}",
                    c.reason.as_deref().unwrap_or_default(),
                    c.message.as_deref().unwrap_or_default()
                )
            });
        return (phase, unschedulable);
    }
    (phase, None)
}

fn summarize(pod: &Pod) -> PodSummary {
    let (status, reason) = pod_status(pod);
    PodSummary {
        name: pod.name_any(),
        uid: pod.uid().unwrap_or_default(),
        ready: shared::pod::is_ready(pod),
        status,
        reason,
        restarts: pod
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .map(|c| c.restart_count)
            .sum(),
        last_exit: last_exit(pod),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
    }
}

/// What grouping needs of a workload, whichever way it was read.
struct Workload {
    kind: &'static str,
    meta: ObjectMeta,
    replicas: Option<i32>,
    grace_seconds: Option<i64>,
}

impl Workload {
    fn of(
        kind: &'static str,
        meta: &ObjectMeta,
        replicas: Option<i32>,
        template: Option<&PodTemplateSpec>,
    ) -> Self {
        Workload {
            kind,
            // Only what grouping reads: not the annotations or managed fields.
            meta: ObjectMeta {
                name: meta.name.clone(),
                namespace: meta.namespace.clone(),
                labels: meta.labels.clone(),
                creation_timestamp: meta.creation_timestamp.clone(),
                ..ObjectMeta::default()
            },
            replicas,
            grace_seconds: template
                .and_then(|t| t.spec.as_ref())
                .and_then(|s| s.termination_grace_period_seconds),
        }
    }

    fn lean(kind: &'static str, w: lean::WorkloadFields) -> Self {
        Workload {
            kind,
            replicas: w.replicas(),
            grace_seconds: w.grace_seconds(),
            meta: w.metadata.into(),
        }
    }
}

/// A pod's summary with the deployment and component it belongs to.
struct PodEntry {
    namespace: String,
    release: String,
    component: String,
    summary: PodSummary,
}

impl PodEntry {
    /// None for a pod without `release` and `component` labels.
    fn of(pod: &Pod) -> Option<Self> {
        let labels = pod.labels();
        let (Some(release), Some(component)) =
            (label(labels, "release"), label(labels, "component"))
        else {
            return None;
        };
        Some(PodEntry {
            namespace: pod.namespace().unwrap_or_default(),
            release: release.to_string(),
            component: component.to_string(),
            summary: summarize(pod),
        })
    }
}

/// Groups the inventory into deployments, sorted by namespace then release (pure).
pub(crate) fn group(inventory: &Inventory) -> Vec<AirflowDeployment> {
    let daemonsets = inventory.daemonsets.iter().map(|d| {
        let desired = d.status.as_ref().map_or(0, |s| s.desired_number_scheduled);
        let template = d.spec.as_ref().map(|s| &s.template);
        Workload::of("DaemonSet", &d.metadata, Some(desired), template)
    });
    // Deployments and StatefulSets: the same two fields of their (different) spec types.
    let deployments = inventory.deployments.iter().map(|d| {
        let spec = d.spec.as_ref().map(|s| (s.replicas, &s.template));
        ("Deployment", &d.metadata, spec)
    });
    let statefulsets = inventory.statefulsets.iter().map(|s| {
        let spec = s.spec.as_ref().map(|s| (s.replicas, &s.template));
        ("StatefulSet", &s.metadata, spec)
    });
    let workloads = deployments
        .chain(statefulsets)
        .map(|(kind, meta, spec)| {
            let (replicas, template) = spec.unzip();
            Workload::of(kind, meta, replicas.flatten(), template)
        })
        .chain(daemonsets);
    group_entries(workloads, inventory.pods.iter().filter_map(PodEntry::of))
}

/// Groups workloads and pod summaries into deployments, sorted by namespace then release.
fn group_entries(
    workloads: impl IntoIterator<Item = Workload>,
    pods: impl IntoIterator<Item = PodEntry>,
) -> Vec<AirflowDeployment> {
    let mut out: BTreeMap<(String, String), AirflowDeployment> = BTreeMap::new();
    for w in workloads {
        let empty = BTreeMap::new();
        let labels = w.meta.labels.as_ref().unwrap_or(&empty);
        let (Some(release), Some(component)) =
            (label(labels, "release"), label(labels, "component"))
        else {
            continue;
        };
        let ns = w.meta.namespace.clone().unwrap_or_default();
        let entry = out
            .entry((ns.clone(), release.to_string()))
            .or_insert_with(|| AirflowDeployment {
                namespace: ns,
                release: release.to_string(),
                executor: None,
                created: None,
                components: BTreeMap::new(),
            });
        if entry.executor.is_none() {
            entry.executor = label(labels, "executor").map(String::from);
        }
        let created = w.meta.creation_timestamp.as_ref().map(|t| t.0);
        entry.created = match (entry.created, created) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        entry.components.insert(
            component.to_string(),
            Component {
                kind: w.kind,
                workload: w.meta.name.clone().unwrap_or_default(),
                desired: w.replicas.unwrap_or(1),
                ready: 0,
                grace_seconds: w.grace_seconds.unwrap_or(30),
                pods: Vec::new(),
            },
        );
    }
    for pod in pods {
        let key = (pod.namespace, pod.release);
        if let Some(c) = out
            .get_mut(&key)
            .and_then(|d| d.components.get_mut(&pod.component))
        {
            if pod.summary.ready {
                c.ready += 1;
            }
            c.pods.push(pod.summary);
        }
    }
    out.into_values().collect()
}

/// Picks the deployment a command is about: the named release, or the only one in the
/// namespace. Errors list the candidates.
/// `given_flags` (the cluster-choosing flags given) go into the hint, so it works when pasted.
pub fn select<'a>(
    deployments: &'a [AirflowDeployment],
    namespace: &str,
    release: Option<&str>,
    given_flags: &str,
) -> shared::Result<&'a AirflowDeployment> {
    let none_here = || {
        shared::Error::Failed(format!(
            "no Airflow deployment in namespace {namespace}: pass -n, or find them with `kubectl airflow list -A{given_flags}`"
        ))
    };
    let here: Vec<&AirflowDeployment> = deployments
        .iter()
        .filter(|d| d.namespace == namespace)
        .collect();
    let names = || {
        here.iter()
            .map(|d| d.release.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match release {
        Some(r) => here
            .iter()
            .copied()
            .find(|d| d.release == r)
            .ok_or_else(|| {
                if here.is_empty() {
                    none_here()
                } else {
                    shared::Error::Failed(format!(
                        "no Airflow release {r:?} in namespace {namespace}: it has {}",
                        names()
                    ))
                }
            }),
        None => match here.as_slice() {
            [one] => Ok(one),
            [] => Err(none_here()),
            _ => Err(shared::Error::Usage(format!(
                "namespace {namespace} holds several Airflow releases: name one of {}",
                names()
            ))),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub fn pod(
        ns: &str,
        release: &str,
        component: &str,
        name: &str,
        ready: bool,
        waiting: Option<&str>,
    ) -> Pod {
        let mut status = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                                "containerStatuses": [{"name": "c", "ready": ready, "restartCount": if waiting.is_some() { 5 } else { 0 }, "image": "i", "imageID": "", "state": {"running": {}}}]});
        if let Some(reason) = waiting {
            status["containerStatuses"][0]["state"] = json!({"waiting": {"reason": reason}});
        }
        serde_json::from_value(json!({"metadata": {"name": name, "namespace": ns, "labels": {"tier": "airflow", "release": release, "component": component}}, "status": status})).unwrap()
    }

    /// A worker pod that is not Ready, waiting in CrashLoopBackOff after 5 restarts.
    pub fn crash_looping_worker(ns: &str, release: &str, name: &str) -> Pod {
        pod(ns, release, "worker", name, false, Some("CrashLoopBackOff"))
    }

    pub fn workload<K: serde::de::DeserializeOwned>(
        ns: &str,
        release: &str,
        component: &str,
        replicas: i32,
    ) -> K {
        serde_json::from_value(json!({"metadata": {"name": format!("{release}-{component}"), "namespace": ns, "creationTimestamp": "2026-10-02T10:00:00Z",
                                                   "labels": {"tier": "airflow", "release": release, "component": component, "executor": "CeleryExecutor"}},
                                      "spec": {"replicas": replicas, "selector": {}, "template": {}}}))
        .unwrap()
    }

    #[test]
    fn groups_by_namespace_and_release_not_by_namespace_name() {
        let inv = Inventory {
            daemonsets: vec![],
            deployments: vec![
                workload("team-a", "r1", "scheduler", 1),
                workload("team-a", "r2", "scheduler", 1),
            ],
            statefulsets: vec![workload("team-a", "r1", "worker", 2)],
            pods: vec![
                pod("team-a", "r1", "scheduler", "r1-scheduler-x", true, None),
                pod("team-a", "r1", "worker", "r1-worker-0", true, None),
                crash_looping_worker("team-a", "r1", "r1-worker-1"),
                pod("team-a", "r2", "scheduler", "r2-scheduler-x", true, None),
            ],
        };
        let deployments = group(&inv);
        assert_eq!(deployments.len(), 2);
        let r1 = &deployments[0];
        assert_eq!(
            (
                r1.namespace.as_str(),
                r1.release.as_str(),
                r1.executor.as_deref()
            ),
            ("team-a", "r1", Some("CeleryExecutor"))
        );
        let worker = &r1.components["worker"];
        assert_eq!(
            (worker.kind, worker.desired, worker.ready, worker.pods.len()),
            ("StatefulSet", 2, 1, 2)
        );
        assert_eq!(worker.pods[1].status, "CrashLoopBackOff");
        assert_eq!(worker.pods[1].restarts, 5);
    }
}
