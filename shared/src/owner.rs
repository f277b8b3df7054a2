//! Which object controls another, as kubectl's `metav1.GetControllerOf` decides it
//! (apimachinery pkg/apis/meta/v1/controller_ref.go): only the ownerReference with
//! `controller: true` counts. Any other reference (a plain owner, e.g. one the garbage
//! collector uses) does not make anything recreate the object.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::{Deserialize, Serialize};

/// The controlling owner of an object, if it has one.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
}

/// The controller's `(kind, name)`, if there is one.
pub fn controller_kind_name(meta: &ObjectMeta) -> Option<(&str, &str)> {
    controller_of(meta).map(|o| (o.kind.as_str(), o.name.as_str()))
}

/// A workload whose replicas the suite changes and waits for: a decision on it is a `match`
/// over both, never "anything not a StatefulSet is a Deployment". Serialized as the API kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

impl WorkloadKind {
    /// The kind named by an ownerReference or a scaleTargetRef; None for any other.
    pub fn parse(kind: &str) -> Option<WorkloadKind> {
        match kind {
            "Deployment" => Some(WorkloadKind::Deployment),
            "StatefulSet" => Some(WorkloadKind::StatefulSet),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }

    /// The API resource, for a dynamic `Api` that serves both kinds with one code path.
    pub fn resource(self) -> kube::api::ApiResource {
        match self {
            WorkloadKind::Deployment => kube::api::ApiResource::erase::<Deployment>(&()),
            WorkloadKind::StatefulSet => kube::api::ApiResource::erase::<StatefulSet>(&()),
        }
    }

    /// As kubectl writes it in `KIND/NAME`.
    pub fn lowercase(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
        }
    }
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the suite reads of a workload's replicas, alike for both kinds.
pub trait Replicas:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// `spec.replicas`, 1 when unset (the API server's default).
    fn desired(&self) -> i32;
    /// `status.readyReplicas`.
    fn ready(&self) -> i32;
}

impl Replicas for Deployment {
    fn desired(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn ready(&self) -> i32 {
        self.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    }
}

impl Replicas for StatefulSet {
    fn desired(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn ready(&self) -> i32 {
        self.status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(kind: &str, name: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            controller,
            block_owner_deletion: None,
        }
    }

    #[test]
    fn a_workload_kind_is_written_as_the_api_kind() {
        for kind in [WorkloadKind::Deployment, WorkloadKind::StatefulSet] {
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(text, format!("\"{}\"", kind.as_str()));
            assert_eq!(WorkloadKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(WorkloadKind::parse("ReplicaSet"), None);
        assert!(serde_json::from_str::<WorkloadKind>("\"Job\"").is_err());
    }

    #[test]
    fn only_the_reference_marked_controller_counts() {
        let mut meta = ObjectMeta {
            owner_references: Some(vec![
                reference("ConfigMap", "keeper", None),
                reference("ReplicaSet", "web-1", Some(true)),
            ]),
            ..Default::default()
        };
        assert_eq!(controller_kind_name(&meta), Some(("ReplicaSet", "web-1")));
        meta.owner_references = Some(vec![
            reference("ReplicaSet", "web-1", None),
            reference("ReplicaSet", "web-2", Some(false)),
        ]);
        assert_eq!(
            controller_of(&meta),
            None,
            "no controller: nothing recreates it"
        );
        meta.owner_references = None;
        assert_eq!(controller_of(&meta), None);
    }
}
