//! Lean reads of large lists. A cluster-wide read decodes the API's JSON into the few fields
//! the listings use rather than into whole k8s-openapi objects (a `Pod` in memory is several
//! times its JSON), so memory follows what is kept rather than the cluster's size.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Pod, PodCondition, PodSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A list response, of which only the items are read (absent or null: none).
#[derive(Deserialize)]
struct ItemsOnly<T> {
    items: Option<Vec<T>>,
}

/// Lists what `api` lists in one request, decoding each item as `T` (a lean view of `K`): the
/// request `Api::<K>::list` makes, so the same request count and errors.
pub(crate) async fn list<K, T>(
    client: &Client,
    api: &Api<K>,
    params: &ListParams,
) -> Result<Vec<T>, kube::Error>
where
    K: Resource,
    T: DeserializeOwned,
{
    let mut request = kube::core::Request::new(api.resource_url())
        .list(params)
        .map_err(kube::Error::BuildRequest)?;
    request.extensions_mut().insert("list");
    let list: ItemsOnly<T> = client.request(request).await?;
    Ok(list.items.unwrap_or_default())
}

/// The metadata the listings read.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
}

impl From<Meta> for ObjectMeta {
    fn from(m: Meta) -> Self {
        ObjectMeta {
            name: m.name,
            namespace: m.namespace,
            uid: m.uid,
            labels: m.labels,
            creation_timestamp: m.creation_timestamp,
            deletion_timestamp: m.deletion_timestamp,
            ..ObjectMeta::default()
        }
    }
}

/// A Deployment or StatefulSet, as grouping reads it.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct WorkloadFields {
    pub(crate) metadata: Meta,
    #[serde(default)]
    spec: Option<WorkloadSpec>,
}

#[derive(Deserialize, Debug, Default)]
struct WorkloadSpec {
    replicas: Option<i32>,
    template: Option<Template>,
}

#[derive(Deserialize, Debug, Default)]
struct Template {
    spec: Option<TemplateSpec>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct TemplateSpec {
    termination_grace_period_seconds: Option<i64>,
}

impl WorkloadFields {
    pub(crate) fn replicas(&self) -> Option<i32> {
        self.spec.as_ref().and_then(|s| s.replicas)
    }

    pub(crate) fn grace_seconds(&self) -> Option<i64> {
        let template = self.spec.as_ref()?.template.as_ref()?;
        template.spec.as_ref()?.termination_grace_period_seconds
    }
}

/// A pod, as its summary reads it.
#[derive(Deserialize, Debug, Default)]
pub(crate) struct PodFields {
    metadata: Meta,
    spec: Option<PodSpecFields>,
    status: Option<PodStatusFields>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct PodSpecFields {
    node_name: Option<String>,
    /// For an OOMKilled container: its memory limit.
    containers: Option<Vec<ContainerFields>>,
}

#[derive(Deserialize, Debug, Default)]
struct ContainerFields {
    #[serde(default)]
    name: String,
    resources: Option<ResourceRequirements>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct PodStatusFields {
    phase: Option<String>,
    conditions: Option<Vec<PodCondition>>,
    container_statuses: Option<Vec<ContainerStatusFields>>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ContainerStatusFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    restart_count: i32,
    state: Option<ContainerState>,
    /// How the previous attempt ended (why a crash-looping container crashed).
    last_state: Option<ContainerState>,
}

impl PodFields {
    /// The pod with only the fields read here set, so the one summary code (on `Pod`) serves
    /// both the lean and the full reads.
    pub(crate) fn into_pod(self) -> Pod {
        let status = self.status.map(|s| k8s_openapi::api::core::v1::PodStatus {
            phase: s.phase,
            conditions: s.conditions,
            container_statuses: s.container_statuses.map(|all| {
                all.into_iter()
                    .map(|c| ContainerStatus {
                        name: c.name,
                        restart_count: c.restart_count,
                        state: c.state,
                        last_state: c.last_state,
                        ..ContainerStatus::default()
                    })
                    .collect()
            }),
            ..Default::default()
        });
        Pod {
            metadata: self.metadata.into(),
            spec: self.spec.map(|s| PodSpec {
                node_name: s.node_name,
                containers: (s.containers.into_iter().flatten())
                    .map(|c| Container {
                        name: c.name,
                        resources: c.resources,
                        ..Container::default()
                    })
                    .collect(),
                ..PodSpec::default()
            }),
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_lean_pod_keeps_what_summaries_read() {
        let lean: PodFields = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "n", "uid": "u", "labels": {"release": "r"},
                         "creationTimestamp": "2026-11-01T00:00:00Z", "annotations": {"a": "b"}},
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                       "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": true,
                                              "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }))
        .unwrap();
        let pod = lean.into_pod();
        assert_eq!(pod.metadata.uid.as_deref(), Some("u"));
        assert!(pod.metadata.annotations.is_none());
        assert!(shared::pod::is_ready(&pod));
        let status = pod.status.unwrap();
        let container = &status.container_statuses.unwrap()[0];
        assert_eq!(container.restart_count, 4);
        assert!(container.state.as_ref().unwrap().waiting.is_some());
        assert_eq!(pod.spec.unwrap().node_name.as_deref(), Some("node-1"));
    }

    #[test]
    fn a_lean_workload_reads_replicas_and_grace() {
        let w: WorkloadFields = serde_json::from_value(json!({
            "metadata": {"name": "w"},
            "spec": {"replicas": 3, "template": {"spec": {"terminationGracePeriodSeconds": 600}}}
        }))
        .unwrap();
        assert_eq!((w.replicas(), w.grace_seconds()), (Some(3), Some(600)));
        let bare: WorkloadFields = serde_json::from_value(json!({"metadata": {}})).unwrap();
        assert_eq!((bare.replicas(), bare.grace_seconds()), (None, None));
    }
}
