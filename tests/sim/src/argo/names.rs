//! Argo's node names, node ids and pod names (`workflow/util/pod_name.go`, `Workflow.NodeID` in
//! `pkg/apis/workflow/v1alpha1/workflow_types.go`, steps.go/dag.go item expansion).

use serde_json::Value;

use super::s;

/// FNV-1a, 32 bits (Go's `hash/fnv.New32a`), as argo hashes node names.
pub(crate) fn fnv32a(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// `Workflow.NodeID` (pkg/apis/workflow/v1alpha1/workflow_types.go): the workflow's name for
/// the root, else `<workflow>-<fnv32a(node name)>`.
pub(crate) fn node_id(workflow: &str, node_name: &str) -> String {
    if node_name == workflow {
        return workflow.to_string();
    }
    format!("{workflow}-{}", fnv32a(node_name))
}

/// `workflow/util/pod_name.go` GeneratePodName: v1 is the node id; v2 is
/// `<workflow>-<template>-<fnv32a(node name)>` with the prefix cut to 242 bytes
/// (ensurePodNamePrefixLength: 253 less the hash and its dash).
pub(crate) fn pod_name(workflow: &str, node_name: &str, template: &str, v1: bool) -> String {
    const MAX_PREFIX: usize = 253 - 10;
    if v1 {
        return node_id(workflow, node_name);
    }
    if workflow == node_name {
        return workflow.to_string();
    }
    let mut prefix = workflow.to_string();
    if !template.is_empty() {
        prefix.push('-');
        prefix.push_str(template);
    }
    if prefix.len() > MAX_PREFIX - 1 {
        let mut cut = MAX_PREFIX - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    format!("{prefix}-{}", fnv32a(node_name))
}

/// `name` without a retry attempt's `(n)` suffix.
pub(super) fn retry_base(node_name: &str) -> &str {
    if let Some(open) = node_name.rfind('(')
        && node_name.ends_with(')')
        && node_name[open + 1..node_name.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return &node_name[..open];
    }
    node_name
}

/// The text of an item in a node name (`name(i:item)`): strings as they are, others as JSON.
pub(super) fn item_text(item: &Value) -> String {
    match item {
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// A step's or task's nodes: one, or one per `withItems` item, with `{{item}}` substituted
/// in its argument values. (name, displayName, arguments.parameters)
pub(super) fn expand(parent: &str, step: &Value) -> Vec<(String, String, Value)> {
    let name = s(&step["name"]);
    let args = step["arguments"]["parameters"].clone();
    let Some(items) = step["withItems"].as_array() else {
        return vec![(format!("{parent}.{name}"), name.to_string(), args)];
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item_text(item);
            let display = format!("{name}({i}:{text})");
            let substituted = serde_json::from_str(
                &args
                    .to_string()
                    .replace("{{item}}", &text.replace('"', "\\\"")),
            )
            .unwrap_or(Value::Null);
            (format!("{parent}.{display}"), display, substituted)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_ids_and_pod_names_like_argo() {
        // ui/src/app/shared/pod-name.test.ts createFNVHash
        assert_eq!(fnv32a("hello"), 1_335_831_723);
        assert_eq!(node_id("wf", "wf"), "wf");
        assert_eq!(node_id("wfname", "nodename"), "wfname-1454367246");
        // workflow/util/pod_name_v2_test.go
        assert_eq!(
            pod_name("wfname", "nodename", "templatename", false),
            "wfname-templatename-1454367246"
        );
        assert_eq!(
            pod_name("wfname", "nodename", "t", true),
            "wfname-1454367246"
        );
        assert_eq!(pod_name("wfname", "wfname", "main", false), "wfname");
        let long = "a".repeat(300);
        let name = pod_name(&long, "nodename", "t", false);
        assert_eq!(name.len(), 253);
        assert!(name.ends_with("-1454367246"));
        // The generator's recorded pod of the atmosphere scenario.
        assert_eq!(
            pod_name(
                "deploy-f38b2ffc-fm9fs",
                "deploy-f38b2ffc-fm9fs[0].prepare",
                "prepare",
                false
            ),
            "deploy-f38b2ffc-fm9fs-prepare-2363490668"
        );
    }

    #[test]
    fn item_and_retry_names() {
        let step = json!({"name": "echo", "template": "t", "withItems": ["a", 2, {"k": "v"}],
                          "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]}});
        let names: Vec<String> = expand("wf[0]", &step).into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            vec![
                "wf[0].echo(0:a)",
                "wf[0].echo(1:2)",
                "wf[0].echo(2:{\"k\":\"v\"})"
            ]
        );
        assert_eq!(expand("wf[0]", &step)[0].2[0]["value"], "a");
        assert_eq!(retry_base("wf.web(1)"), "wf.web");
        assert_eq!(retry_base("wf[0].echo(0:a)"), "wf[0].echo(0:a)");
    }
}
