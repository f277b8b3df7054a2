//! Label and field selectors: the string forms of list/watch queries and the
//! `LabelSelector` objects in workload specs.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::ApiError;
use crate::resources::ResourceType;

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    /// Key and values as labels/selector.go NewRequirement checks them (values sorted, as the
    /// parser's set lists them).
    fn validate(&self) -> Result<(), ApiError> {
        use crate::validation::selector_requirement as check;
        match self {
            Requirement::Equals(k, v) | Requirement::NotEquals(k, v) => check(k, false, &[v]),
            Requirement::In(k, set) | Requirement::NotIn(k, set) => {
                check(k, true, &set.iter().map(String::as_str).collect::<Vec<_>>())
            }
            Requirement::Exists(k) | Requirement::NotExists(k) => check(k, false, &[]),
        }
    }
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// Splits on commas that are not inside parentheses (`a in (x,y),b`).
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_set(s: &str) -> Option<BTreeSet<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = |part: &str| {
            ApiError::bad_request(format!(
                "unable to parse requirement: found '{part}', expected: identifier"
            ))
        };
        let mut requirements = Vec::new();
        for part in split_top_level(s) {
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement::NotExists(key.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement::NotEquals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                Requirement::Equals(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                Requirement::Equals(k.trim().to_string(), v.trim().to_string())
            } else if let Some(idx) = part.find(" notin ") {
                let set = parse_set(&part[idx + 7..]).ok_or_else(|| bad(part))?;
                Requirement::NotIn(part[..idx].trim().to_string(), set)
            } else if let Some(idx) = part.find(" in ") {
                let set = parse_set(&part[idx + 4..]).ok_or_else(|| bad(part))?;
                Requirement::In(part[..idx].trim().to_string(), set)
            } else if part.contains(char::is_whitespace) || part.contains('(') {
                return Err(bad(part));
            } else {
                Requirement::Exists(part.to_string())
            };
            req.validate()?;
            requirements.push(req);
        }
        Ok(LabelSelector { requirements })
    }

    /// Builds a selector from a `metav1.LabelSelector` object
    /// (`matchLabels` and `matchExpressions`). `null` selects nothing, as in the API.
    pub fn from_object(selector: &Value) -> Option<Self> {
        if selector.is_null() {
            return None;
        }
        let mut requirements = Vec::new();
        if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in labels {
                requirements.push(Requirement::Equals(
                    k.clone(),
                    v.as_str().unwrap_or_default().to_string(),
                ));
            }
        }
        if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let values: BTreeSet<String> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let req = match e
                    .get("operator")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                {
                    "In" => Requirement::In(key, values),
                    "NotIn" => Requirement::NotIn(key, values),
                    "Exists" => Requirement::Exists(key),
                    "DoesNotExist" => Requirement::NotExists(key),
                    _ => return None,
                };
                requirements.push(req);
            }
        }
        Some(LabelSelector { requirements })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a `metadata.labels` map (or null) satisfies every requirement.
    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, set) => get(k).is_some_and(|x| set.contains(x)),
            Requirement::NotIn(k, set) => get(k).is_none_or(|x| !set.contains(x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }

    /// Whether an object's `metadata.labels` satisfy the selector.
    pub fn matches_object(&self, obj: &Value) -> bool {
        self.matches(&obj["metadata"]["labels"])
    }
}

/// A parsed field selector: `spec.nodeName=n1,status.phase!=Succeeded`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

/// The value of a dotted field path as a string ("" when absent, as the API treats it).
fn field_value(obj: &Value, path: &str) -> String {
    match path {
        // pkg/registry/core/event/strategy.go ToSelectableFields: `source` is the source
        // component, or the reporting controller when that is empty.
        "source" => {
            let component = obj["source"]["component"].as_str().unwrap_or("");
            if !component.is_empty() {
                return component.to_string();
            }
            return obj["reportingComponent"].as_str().unwrap_or("").to_string();
        }
        // Booleans and counts are formatted from Go zero values when absent
        // (strconv.FormatBool / Itoa in the ToSelectableFields functions).
        "spec.unschedulable" | "spec.hostNetwork" => {
            return obj["spec"][&path[5..]]
                .as_bool()
                .unwrap_or(false)
                .to_string();
        }
        "status.replicas" => {
            return obj["status"]["replicas"].as_i64().unwrap_or(0).to_string();
        }
        _ => {}
    }
    let mut cur = obj;
    for seg in path.split('.') {
        cur = &cur[seg];
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

impl FieldSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_top_level(s) {
            let (key, equal, value) = if let Some((k, v)) = part.split_once("!=") {
                (k, false, v)
            } else if let Some((k, v)) = part.split_once("==") {
                (k, true, v)
            } else if let Some((k, v)) = part.split_once('=') {
                (k, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            requirements.push((key.trim().to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector { requirements })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.requirements
            .iter()
            .all(|(k, eq, v)| (field_value(obj, k) == *v) == *eq)
    }

    /// Checks every field label against what upstream lets a list or watch of `rt` select on,
    /// converting the legacy aliases, as the list handler's `FieldSelector.Transform` with the
    /// scheme's field label conversion functions (k8s.io/apiserver/pkg/endpoints/handlers/get.go
    /// ListResource): any other label is a 400 BadRequest with the conversion function's error.
    pub fn for_resource(mut self, rt: &ResourceType) -> Result<Self, ApiError> {
        for (key, _, _) in &mut self.requirements {
            if let Some(converted) = convert_field_label(rt, key)? {
                *key = converted.to_string();
            }
        }
        Ok(self)
    }
}

/// Whether a resource is served by an apiextensions CustomResourceDefinition upstream (rather
/// than built into kube-apiserver): Argo Workflows, KEDA, the external snapshotter.
pub fn is_custom_resource(rt: &ResourceType) -> bool {
    matches!(
        rt.group,
        "argoproj.io" | "keda.sh" | "snapshot.storage.k8s.io"
    )
}

/// The field labels of one resource, with upstream's conversion: `Ok(Some(new))` renames the
/// label, `Ok(None)` keeps it, `Err` refuses it.
fn convert_field_label(rt: &ResourceType, label: &str) -> Result<Option<&'static str>, ApiError> {
    let not_supported = || ApiError::bad_request(format!("field label not supported: {label}"));
    let allowed: &[&str] = match (rt.group, rt.plural) {
        // pkg/apis/core/v1/conversion.go (Pod), the fields of pkg/registry/core/pod/strategy.go
        // ToSelectableFields; `spec.host` is the old v1 clients' name for spec.nodeName.
        ("", "pods") => {
            if label == "spec.host" {
                return Ok(Some("spec.nodeName"));
            }
            &[
                "metadata.name",
                "metadata.namespace",
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ]
        }
        // pkg/apis/core/v1/conversion.go (Event), pkg/registry/core/event/strategy.go.
        ("", "events") => &[
            "metadata.name",
            "metadata.namespace",
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        // pkg/apis/core/v1/conversion.go (Node; pkg/registry/core/node/strategy.go).
        ("", "nodes") => &["metadata.name", "spec.unschedulable"],
        // pkg/apis/core/v1/conversion.go (Namespace; pkg/registry/core/namespace/strategy.go).
        ("", "namespaces") => &["metadata.name", "status.phase"],
        // pkg/apis/core/v1/conversion.go (Secret; pkg/registry/core/secret/strategy.go).
        ("", "secrets") => &["metadata.name", "metadata.namespace", "type"],
        // pkg/apis/apps/v1/conversion.go (ReplicaSet; pkg/registry/apps/replicaset/strategy.go).
        ("apps", "replicasets") => &["metadata.name", "metadata.namespace", "status.replicas"],
        // apiextensions-apiserver pkg/apiserver/conversion/converter.go (crConverter
        // ConvertFieldLabel): name, namespace when namespaced, and the CRD's selectableFields
        // (none declared by the CRDs the sim serves).
        _ if is_custom_resource(rt) => {
            if label == "metadata.name" || (rt.namespaced && label == "metadata.namespace") {
                return Ok(None);
            }
            return Err(not_supported());
        }
        // Every other kind: k8s.io/apimachinery/pkg/runtime/conversion.go
        // DefaultMetaV1FieldSelectorConversion (the scheme's fallback).
        _ => {
            if matches!(label, "metadata.name" | "metadata.namespace") {
                return Ok(None);
            }
            return Err(ApiError::bad_request(format!(
                "{label:?} is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
            )));
        }
    };
    if allowed.contains(&label) {
        Ok(None)
    } else {
        Err(not_supported())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_operators() {
        let labels = json!({"tier": "airflow", "component": "scheduler", "release": "r1"});
        let cases = [
            ("tier=airflow", true),
            ("tier==airflow,component=scheduler", true),
            ("tier!=airflow", false),
            ("component in (scheduler, worker)", true),
            ("component notin (scheduler)", false),
            ("release", true),
            ("!release", false),
            ("!missing", true),
            ("missing notin (x)", true),
            ("", true),
        ];
        for (sel, want) in cases {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&labels),
                want,
                "{sel}"
            );
        }
        assert!(LabelSelector::parse("a in x").is_err());
    }

    #[test]
    fn label_selector_objects() {
        let sel = LabelSelector::from_object(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]
        }))
        .unwrap();
        assert!(sel.matches(&json!({"app": "web", "tier": "b"})));
        assert!(!sel.matches(&json!({"app": "web"})));
        assert!(LabelSelector::from_object(&Value::Null).is_none());
    }

    #[test]
    fn field_selectors() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        assert!(
            FieldSelector::parse("spec.nodeName=n1")
                .unwrap()
                .matches(&pod)
        );
        assert!(
            FieldSelector::parse("spec.nodeName=n1,status.phase!=Succeeded")
                .unwrap()
                .matches(&pod)
        );
        assert!(
            !FieldSelector::parse("metadata.name=q")
                .unwrap()
                .matches(&pod)
        );
        assert!(FieldSelector::parse("spec.missing=").unwrap().matches(&pod));
        assert!(FieldSelector::parse("nonsense").is_err());
    }

    #[test]
    fn field_labels_per_resource() {
        use crate::resources::{
            DEPLOYMENTS, EVENTS, NODES, PODS, VOLUME_SNAPSHOT_CLASSES, WORKFLOWS,
        };
        let check = |rt, s: &str| {
            FieldSelector::parse(s)
                .unwrap()
                .for_resource(rt)
                .map_err(|e| (e.code, e.message))
        };
        assert!(check(&PODS, "spec.nodeName=n,status.phase=Running").is_ok());
        assert_eq!(
            check(&PODS, "status.hostIP=x"),
            Err((400, "field label not supported: status.hostIP".to_string()))
        );
        // The legacy alias converts and then matches spec.nodeName.
        let pod = json!({"spec": {"nodeName": "n1"}});
        assert!(check(&PODS, "spec.host=n1").unwrap().matches(&pod));
        assert_eq!(
            check(&DEPLOYMENTS, "spec.replicas=1").unwrap_err().1,
            r#""spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace""#
        );
        assert!(check(&WORKFLOWS, "metadata.namespace=a,metadata.name=b").is_ok());
        assert!(check(&WORKFLOWS, "status.phase=Running").is_err());
        assert!(check(&VOLUME_SNAPSHOT_CLASSES, "metadata.namespace=a").is_err());
        assert!(check(&NODES, "metadata.namespace=a").is_err());
        // Zero values of absent booleans; an event's source falls back to its reporter.
        let node = json!({"metadata": {"name": "n"}});
        assert!(
            check(&NODES, "spec.unschedulable=false")
                .unwrap()
                .matches(&node)
        );
        let event = json!({"reportingComponent": "kubelet", "source": {}});
        assert!(check(&EVENTS, "source=kubelet").unwrap().matches(&event));
    }
}
