//! The drain's journal: an annotation on the node (progress, options, what was pre-scaled) and
//! one on each pre-scaled owner (its original replicas), so `status`, `resume` and `abort` work
//! after any interruption.

use serde::{Deserialize, Serialize};

pub const NODE_ANNOTATION: &str = "nodeevict.kubectl-plugins.dev/journal";
/// On a pre-scaled Deployment: the replicas it goes back to.
pub const ORIGINAL_REPLICAS: &str = "nodeevict.kubectl-plugins.dev/original-replicas";
/// On an HPA whose minReplicas was raised: the minReplicas it goes back to.
pub const ORIGINAL_MIN_REPLICAS: &str = "nodeevict.kubectl-plugins.dev/original-min-replicas";
/// Marks the pre-scale's extra pods so the ReplicaSet removes them first when scaling back.
pub const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The node is cordoned and the journal written.
    Cordoned,
    /// The extra replicas are Ready on other nodes.
    Prescaled,
    /// Every pod to evict is gone from the node.
    Evicted,
}

impl Step {
    pub fn describe(self) -> &'static str {
        match self {
            Step::Cordoned => "cordoned",
            Step::Prescaled => "pre-scaled, evicting",
            Step::Evicted => "evicted, restoring",
        }
    }
}

/// The flags a drain was started with: `resume` goes on with the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    pub force: bool,
    pub delete_emptydir_data: bool,
    pub disable_eviction: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<i64>,
    pub prescale: bool,
}

/// A Deployment given extra replicas for the drain (directly, or through its HPA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prescale {
    pub namespace: String,
    pub name: String,
    pub original: i32,
    pub target: i32,
    /// When an HPA controls the count: its name and minReplicas before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hpa: Option<HpaRecord>,
    /// The extra pods the pre-scale made (removed first when scaling back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub surge_pods: Vec<String>,
}

impl Prescale {
    pub fn reference(&self) -> String {
        format!("deployment/{} -n {}", self.name, self.namespace)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaRecord {
    pub name: String,
    pub original_min: i32,
}

/// A workload whose pods the drain moved: the next node waits until it is Ready again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeJournal {
    pub step: Step,
    pub started: String,
    pub options: Options,
    /// The node was cordoned before the drain (abort leaves it so).
    pub was_unschedulable: bool,
    #[serde(default)]
    pub prescaled: Vec<Prescale>,
    #[serde(default)]
    pub touched: Vec<Workload>,
}

impl NodeJournal {
    pub fn to_annotation(&self) -> String {
        serde_json::to_string(self).expect("a journal serializes")
    }

    pub fn from_annotation(text: &str) -> Result<NodeJournal, String> {
        serde_json::from_str(text)
            .map_err(|e| format!("unreadable {NODE_ANNOTATION} annotation: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let j = NodeJournal {
            step: Step::Prescaled,
            started: "2026-11-25T10:00:00Z".into(),
            options: Options {
                prescale: true,
                ..Default::default()
            },
            was_unschedulable: false,
            prescaled: vec![Prescale {
                namespace: "default".into(),
                name: "force-web".into(),
                original: 1,
                target: 2,
                hpa: None,
                surge_pods: vec![],
            }],
            touched: vec![],
        };
        let text = j.to_annotation();
        assert!(text.contains("\"step\":\"prescaled\""), "{text}");
        assert_eq!(NodeJournal::from_annotation(&text).unwrap(), j);
    }
}
