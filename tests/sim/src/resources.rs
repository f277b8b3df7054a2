//! The resource types kube-sim serves: one table drives discovery, routing and the store.

/// One served resource (a group/version/plural), as discovery describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceType {
    /// API group; "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// Plural lower-case name used in URLs, e.g. `pods`.
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Subresources served under `<plural>/<sub>`.
    pub subresources: &'static [&'static str],
}

impl ResourceType {
    /// `v1` for the core group, `apps/v1` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods`, `deployments.apps` — the name used in Status details and errors.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Verbs served for a top-level resource.
pub fn verbs(rt: &ResourceType) -> &'static [&'static str] {
    match rt.plural {
        "selfsubjectaccessreviews" => &["create"],
        _ => ALL_VERBS,
    }
}

macro_rules! rt {
    ($group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $namespaced:expr, [$($short:expr),*], [$($sub:expr),*]) => {
        ResourceType {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $namespaced,
            short_names: &[$($short),*],
            subresources: &[$($sub),*],
        }
    };
}

pub const NAMESPACES: ResourceType = rt!(
    "",
    "v1",
    "namespaces",
    "namespace",
    "Namespace",
    false,
    ["ns"],
    ["status"]
);
pub const NODES: ResourceType = rt!("", "v1", "nodes", "node", "Node", false, ["no"], ["status"]);
pub const PODS: ResourceType = rt!(
    "",
    "v1",
    "pods",
    "pod",
    "Pod",
    true,
    ["po"],
    ["eviction", "log", "status"]
);
pub const PVCS: ResourceType = rt!(
    "",
    "v1",
    "persistentvolumeclaims",
    "persistentvolumeclaim",
    "PersistentVolumeClaim",
    true,
    ["pvc"],
    ["status"]
);
pub const PVS: ResourceType = rt!(
    "",
    "v1",
    "persistentvolumes",
    "persistentvolume",
    "PersistentVolume",
    false,
    ["pv"],
    ["status"]
);
pub const RESOURCE_QUOTAS: ResourceType = rt!(
    "",
    "v1",
    "resourcequotas",
    "resourcequota",
    "ResourceQuota",
    true,
    ["quota"],
    ["status"]
);
pub const EVENTS: ResourceType = rt!("", "v1", "events", "event", "Event", true, ["ev"], []);
pub const SERVICES: ResourceType = rt!(
    "",
    "v1",
    "services",
    "service",
    "Service",
    true,
    ["svc"],
    ["status"]
);
pub const SERVICE_ACCOUNTS: ResourceType = rt!(
    "",
    "v1",
    "serviceaccounts",
    "serviceaccount",
    "ServiceAccount",
    true,
    ["sa"],
    []
);
pub const CONFIG_MAPS: ResourceType = rt!(
    "",
    "v1",
    "configmaps",
    "configmap",
    "ConfigMap",
    true,
    ["cm"],
    []
);
pub const SECRETS: ResourceType = rt!("", "v1", "secrets", "secret", "Secret", true, [], []);
pub const DEPLOYMENTS: ResourceType = rt!(
    "apps",
    "v1",
    "deployments",
    "deployment",
    "Deployment",
    true,
    ["deploy"],
    ["scale", "status"]
);
pub const REPLICA_SETS: ResourceType = rt!(
    "apps",
    "v1",
    "replicasets",
    "replicaset",
    "ReplicaSet",
    true,
    ["rs"],
    ["scale", "status"]
);
pub const STATEFUL_SETS: ResourceType = rt!(
    "apps",
    "v1",
    "statefulsets",
    "statefulset",
    "StatefulSet",
    true,
    ["sts"],
    ["scale", "status"]
);
pub const DAEMON_SETS: ResourceType = rt!(
    "apps",
    "v1",
    "daemonsets",
    "daemonset",
    "DaemonSet",
    true,
    ["ds"],
    ["status"]
);
pub const PDBS: ResourceType = rt!(
    "policy",
    "v1",
    "poddisruptionbudgets",
    "poddisruptionbudget",
    "PodDisruptionBudget",
    true,
    ["pdb"],
    ["status"]
);
// scheduling.k8s.io/v1 PriorityClass: cluster-scoped, short name `pc`
// (pkg/registry/scheduling/priorityclass/storage/storage.go ShortNames).
pub const PRIORITY_CLASSES: ResourceType = rt!(
    "scheduling.k8s.io",
    "v1",
    "priorityclasses",
    "priorityclass",
    "PriorityClass",
    false,
    ["pc"],
    []
);
pub const HPAS: ResourceType = rt!(
    "autoscaling",
    "v2",
    "horizontalpodautoscalers",
    "horizontalpodautoscaler",
    "HorizontalPodAutoscaler",
    true,
    ["hpa"],
    ["status"]
);
pub const STORAGE_CLASSES: ResourceType = rt!(
    "storage.k8s.io",
    "v1",
    "storageclasses",
    "storageclass",
    "StorageClass",
    false,
    ["sc"],
    []
);
// storage.k8s.io/v1 VolumeAttachment (k8s.io/api storage/v1 types.go): cluster-scoped, with a
// status subresource the external-attacher writes.
pub const VOLUME_ATTACHMENTS: ResourceType = rt!(
    "storage.k8s.io",
    "v1",
    "volumeattachments",
    "volumeattachment",
    "VolumeAttachment",
    false,
    [],
    ["status"]
);
pub const VOLUME_SNAPSHOTS: ResourceType = rt!(
    "snapshot.storage.k8s.io",
    "v1",
    "volumesnapshots",
    "volumesnapshot",
    "VolumeSnapshot",
    true,
    ["vs"],
    ["status"]
);
pub const VOLUME_SNAPSHOT_CLASSES: ResourceType = rt!(
    "snapshot.storage.k8s.io",
    "v1",
    "volumesnapshotclasses",
    "volumesnapshotclass",
    "VolumeSnapshotClass",
    false,
    ["vsclass", "vsclasses"],
    []
);
// Argo's Workflow CRD declares no subresources (argoproj/argo-workflows
// manifests/base/crds/minimal/argoproj.io_workflows.yaml: `subresources: {}`): status is part of
// the object, written by the same update as the spec, and `workflows/status` is a 404.
pub const WORKFLOWS: ResourceType = rt!(
    "argoproj.io",
    "v1alpha1",
    "workflows",
    "workflow",
    "Workflow",
    true,
    ["wf"],
    []
);
pub const SCALED_OBJECTS: ResourceType = rt!(
    "keda.sh",
    "v1alpha1",
    "scaledobjects",
    "scaledobject",
    "ScaledObject",
    true,
    ["so"],
    ["status"]
);
pub const SELF_SUBJECT_ACCESS_REVIEWS: ResourceType = rt!(
    "authorization.k8s.io",
    "v1",
    "selfsubjectaccessreviews",
    "selfsubjectaccessreview",
    "SelfSubjectAccessReview",
    false,
    [],
    []
);

/// Every resource served, in discovery order.
pub const ALL: &[ResourceType] = &[
    NAMESPACES,
    NODES,
    PODS,
    PVCS,
    PVS,
    RESOURCE_QUOTAS,
    EVENTS,
    SERVICES,
    SERVICE_ACCOUNTS,
    CONFIG_MAPS,
    SECRETS,
    DEPLOYMENTS,
    REPLICA_SETS,
    STATEFUL_SETS,
    DAEMON_SETS,
    PDBS,
    PRIORITY_CLASSES,
    HPAS,
    STORAGE_CLASSES,
    VOLUME_ATTACHMENTS,
    VOLUME_SNAPSHOTS,
    VOLUME_SNAPSHOT_CLASSES,
    WORKFLOWS,
    SCALED_OBJECTS,
    SELF_SUBJECT_ACCESS_REVIEWS,
];

/// Finds a resource by group, version and plural (as in a URL).
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    ALL.iter()
        .find(|rt| rt.group == group && rt.version == version && rt.plural == plural)
}

/// Finds a resource by apiVersion and kind (as in an object).
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    ALL.iter()
        .find(|rt| rt.kind == kind && rt.api_version() == api_version)
}

/// The (group, version) pairs served, core first.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for rt in ALL {
        if !out.contains(&(rt.group, rt.version)) {
            out.push((rt.group, rt.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree() {
        for rt in ALL {
            assert_eq!(by_path(rt.group, rt.version, rt.plural), Some(rt));
            assert_eq!(by_kind(&rt.api_version(), rt.kind), Some(rt));
        }
        assert_eq!(group_versions()[0], ("", "v1"));
    }
}
