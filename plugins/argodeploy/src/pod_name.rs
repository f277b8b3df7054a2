//! Argo's node IDs and pod names (`workflow/util/pod_name.go`, `Workflow.NodeID` in
//! `pkg/apis/workflow/v1alpha1/workflow_types.go`): both hash the node name with 32-bit FNV-1a.

use serde_json::Value;

/// The annotation that pins a workflow's pod naming (`v1` = node ID, `v2` = workflow,
/// template and hash).
pub const POD_NAME_FORMAT_ANNOTATION: &str = "workflows.argoproj.io/pod-name-format";

/// How the controller named a workflow's pods (`workflow/util/pod_name.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodNameVersion {
    /// The pod name is the node ID.
    V1,
    /// `<workflow>-<template>-<fnv32a(node name)>`, the default since argo 3.2.
    V2,
}

/// FNV-1a, 32 bits (Go's `hash/fnv.New32a`), as argo hashes node names.
fn fnv32a(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// `Workflow.NodeID`: the workflow's name for the root, else `<workflow>-<fnv32a(name)>`.
pub fn node_id(workflow: &str, node_name: &str) -> String {
    if node_name == workflow {
        return workflow.to_string();
    }
    format!("{workflow}-{}", fnv32a(node_name))
}

/// `workflow/util/pod_name.go` `GeneratePodName`: v1 is the node ID; v2 is the workflow name
/// for the root node, else `<workflow>[-<template>]` cut to 242 bytes (253, Kubernetes' name
/// limit, less 10 for the hash and 1 for the dash) then `-<fnv32a(node name)>`.
pub fn pod_name(
    workflow: &str,
    node_name: &str,
    template: &str,
    node_id: &str,
    version: PodNameVersion,
) -> String {
    const MAX_K8S_RESOURCE_NAME_LENGTH: usize = 253;
    const K8S_NAMING_HASH_LENGTH: usize = 10;
    const MAX_PREFIX_LENGTH: usize = MAX_K8S_RESOURCE_NAME_LENGTH - K8S_NAMING_HASH_LENGTH;
    if version == PodNameVersion::V1 {
        return node_id.to_string();
    }
    if workflow == node_name {
        return workflow.to_string();
    }
    let mut prefix = workflow.to_string();
    if !template.is_empty() {
        prefix.push('-');
        prefix.push_str(template);
    }
    // ensurePodNamePrefixLength (Go cuts bytes; names are ASCII, a char boundary is kept here).
    if prefix.len() > MAX_PREFIX_LENGTH - 1 {
        let mut cut = MAX_PREFIX_LENGTH - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    format!("{prefix}-{}", fnv32a(node_name))
}

/// `GetWorkflowPodNameVersion`: the `workflows.argoproj.io/pod-name-format` annotation, `v1`
/// or `v2`; anything else, or none, is v2 (argo's default; the CLI's `POD_NAMES` environment
/// variable is not read here).
pub fn pod_name_version(wf: &Value) -> PodNameVersion {
    match wf["metadata"]["annotations"][POD_NAME_FORMAT_ANNOTATION].as_str() {
        Some("v1") => PodNameVersion::V1,
        _ => PodNameVersion::V2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv32a_matches_argos_ui_test_values() {
        // ui/src/app/shared/pod-name.test.ts `createFNVHash`
        assert_eq!(fnv32a("hello"), 1_335_831_723);
        assert_eq!(fnv32a("world"), 933_488_787);
        assert_eq!(
            fnv32a("You cannot alter your fate. However, you can rise to meet it."),
            827_171_719
        );
    }

    #[test]
    fn pod_name_v1_and_v2_like_argo() {
        // workflow/util/pod_name_v2_test.go and ui/src/app/shared/pod-name.test.ts
        // The same node under both versions.
        let node = |version| pod_name("wfname", "nodename", "templatename", "1", version);
        assert_eq!(node(PodNameVersion::V2), "wfname-templatename-1454367246");
        assert_eq!(node(PodNameVersion::V1), "1");
        // The root node's pod is the workflow's name; no template: no template part.
        assert_eq!(
            pod_name("wfname", "wfname", "main", "wfname", PodNameVersion::V2),
            "wfname"
        );
        assert_eq!(
            pod_name("wfname", "nodename", "", "1", PodNameVersion::V2),
            "wfname-1454367246"
        );
        // Long names: the prefix is cut to 242 characters, the name is 253.
        let long_wf = "alongworkflownamethatincludeslotsofdetailsandisessentiallyalargerunonsentencewithpoorstyleandnopunctuationtobehadwhatsoever";
        let long_tmpl = "alongtemplatenamethatincludessliightlymoredetailsandiscertainlyalargerunonstnencewithevenworsestylisticconcernsandpreposterouslyeliminatespunctuation";
        let name = pod_name(long_wf, "nodename", long_tmpl, "1", PodNameVersion::V2);
        let prefix = format!("{long_wf}-{long_tmpl}");
        assert_eq!(name, format!("{}-1454367246", &prefix[..242]));
        assert_eq!(name.len(), 253);
    }

    #[test]
    fn pod_name_version_from_the_annotation() {
        let with = |v: &str| serde_json::json!({"metadata": {"annotations": {POD_NAME_FORMAT_ANNOTATION: v}}});
        assert_eq!(pod_name_version(&with("v1")), PodNameVersion::V1);
        assert_eq!(pod_name_version(&with("v2")), PodNameVersion::V2);
        assert_eq!(pod_name_version(&with("v3")), PodNameVersion::V2);
        assert_eq!(
            pod_name_version(&serde_json::json!({"metadata": {}})),
            PodNameVersion::V2
        );
    }
}
