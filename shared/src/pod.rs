//! Facts about a pod that several commands read the same way.

use k8s_openapi::api::core::v1::Pod;

/// Whether the pod is Ready and not on its way out: its `Ready` condition is `True` and it
/// has no deletion timestamp (a terminating pod may still report Ready until it stops).
pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> Pod {
        serde_json::from_value(value).expect("a valid pod")
    }

    #[test]
    fn ready_needs_the_condition_and_no_deletion() {
        let ready = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        assert!(is_ready(&pod(json!({"metadata": {}, "status": ready}))));
        assert!(!is_ready(&pod(json!({
            "metadata": {"deletionTimestamp": "2026-11-01T00:00:00Z"}, "status": ready
        }))));
        assert!(!is_ready(&pod(json!({"metadata": {},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]}}))));
        assert!(!is_ready(&pod(json!({"metadata": {}}))));
    }
}
