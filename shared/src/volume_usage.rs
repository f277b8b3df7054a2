//! How full the volumes of running pods are, from the kubelet's Summary API through the API
//! server's node proxy (`GET /api/v1/nodes/NODE/proxy/stats/summary`, which needs `get` on
//! `nodes/proxy`). Each node is asked once, a few at a time; a node that cannot be asked (no
//! permission, kubelet unreachable) makes its claims' usage unknown, never an error.
//!
//! The Summary's shape: kubernetes/kubernetes
//! staging/src/k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go (`pods[].podRef`,
//! `pods[].volume[]` with `pvcRef` and the FsStats fields).

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use kube::Client;
use serde::{Deserialize, Serialize};

/// Nodes asked at once.
const CONCURRENT_NODES: usize = 4;

/// A running pod whose claims are wanted, and the node it runs on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PodOnNode {
    pub namespace: String,
    pub name: String,
    pub node: String,
}

/// A volume's figures as the kubelet reports them, with the percentages shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub capacity_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inodes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inodes_used: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inodes_free: Option<u64>,
    /// used / capacity, rounded up as `df` does.
    pub used_percent: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inodes_percent: Option<u64>,
}

/// `part` of `whole` in percent, rounded up (`df`'s Use%); None for an empty whole.
pub fn percent(part: u64, whole: u64) -> Option<u64> {
    (whole > 0).then(|| (u128::from(part) * 100).div_ceil(u128::from(whole)) as u64)
}

/// What is known of one claim's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ClaimUsage {
    /// The kubelet reported it.
    Known(Figures),
    /// These credentials may not `get` `nodes/proxy`.
    Forbidden,
    /// The node's kubelet could not be asked.
    Unavailable { reason: String },
    /// No running pod mounts it: no kubelet measures it.
    NotMounted,
    /// The kubelet answered without this volume.
    NotReported,
}

/// Above this, a volume is nearly full (`status` calls it a problem).
pub const NEARLY_FULL_PERCENT: u64 = 90;

/// The one-line note that says what gives the usage when it is forbidden.
pub const FORBIDDEN_NOTE: &str = "the volumes' usage comes from the kubelet's stats, which need `get` on `nodes/proxy` (a ClusterRole rule: resources nodes/proxy, verbs get)";

impl ClaimUsage {
    pub fn figures(&self) -> Option<&Figures> {
        match self {
            ClaimUsage::Known(f) => Some(f),
            _ => None,
        }
    }

    /// Over 90% of its bytes or of its inodes used.
    pub fn nearly_full(&self) -> bool {
        self.figures().is_some_and(|f| {
            f.used_percent > NEARLY_FULL_PERCENT
                || f.inodes_percent.is_some_and(|p| p > NEARLY_FULL_PERCENT)
        })
    }

    /// The short word a table shows instead of figures.
    pub fn unknown_cell(&self) -> &'static str {
        match self {
            ClaimUsage::Known(_) => "",
            ClaimUsage::Forbidden => "no nodes/proxy",
            ClaimUsage::Unavailable { .. } => "unavailable",
            ClaimUsage::NotMounted => "-",
            ClaimUsage::NotReported => "?",
        }
    }

    /// In a sentence: `98Gi of 100Gi used (98%), inodes 1% used`, or why it is unknown.
    pub fn describe(&self) -> String {
        match self {
            ClaimUsage::Known(f) => format!(
                "{} of {} used ({}%){}",
                bytes(f.used_bytes),
                bytes(f.capacity_bytes),
                f.used_percent,
                f.inodes_percent
                    .map(|p| format!(", inodes {p}% used"))
                    .unwrap_or_default()
            ),
            ClaimUsage::Forbidden => {
                "unknown (no permission to get nodes/proxy, the kubelet's stats)".into()
            }
            ClaimUsage::Unavailable { reason } => format!("unknown ({reason})"),
            ClaimUsage::NotMounted => "unknown (no running pod mounts it)".into(),
            ClaimUsage::NotReported => "unknown (the kubelet does not report it)".into(),
        }
    }
}

/// A byte count in binary units as kubectl prints quantities: `98Gi`, `9.6Gi`, `512Mi`, `0`.
pub fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("Pi", 1 << 50),
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (suffix, unit) in UNITS {
        if n >= unit {
            let value = n as f64 / unit as f64;
            let text = if value < 9.95 {
                format!("{value:.1}")
            } else {
                format!("{value:.0}")
            };
            return format!("{}{suffix}", text.trim_end_matches(".0"));
        }
    }
    n.to_string()
}

/// What one node's kubelet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NodeAnswer {
    Answered,
    Forbidden,
    Failed(String),
}

/// The usage of the claims of the pods asked about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    claims: BTreeMap<(String, String), Figures>,
    nodes: BTreeMap<String, NodeAnswer>,
    /// (namespace, pod) → node, for the pods asked about.
    pods: BTreeMap<(String, String), String>,
    /// (namespace, pod) → its claims as the kubelet reported them.
    mounts: BTreeMap<(String, String), Vec<Mount>>,
}

/// A claim a pod mounts, as the kubelet reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The pod's name for the volume (`logs`).
    pub volume: String,
    pub claim: String,
}

/// The part of the kubelet's Summary read here.
#[derive(Debug, Deserialize)]
pub struct Summary {
    #[serde(default)]
    pods: Vec<PodStats>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStats {
    pod_ref: PodReference,
    #[serde(default)]
    volume: Vec<VolumeStats>,
}

#[derive(Debug, Deserialize)]
struct PodReference {
    name: String,
    namespace: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VolumeStats {
    #[serde(default)]
    name: String,
    pvc_ref: Option<PodReference>,
    capacity_bytes: Option<u64>,
    used_bytes: Option<u64>,
    available_bytes: Option<u64>,
    inodes: Option<u64>,
    inodes_used: Option<u64>,
    inodes_free: Option<u64>,
}

impl VolumeStats {
    fn figures(&self) -> Option<Figures> {
        let capacity = self.capacity_bytes?;
        let used = self.used_bytes?;
        Some(Figures {
            capacity_bytes: capacity,
            used_bytes: used,
            available_bytes: self
                .available_bytes
                .unwrap_or(capacity.saturating_sub(used)),
            inodes: self.inodes,
            inodes_used: self.inodes_used,
            inodes_free: self.inodes_free,
            used_percent: percent(used, capacity)?,
            inodes_percent: self
                .inodes
                .zip(self.inodes_used)
                .and_then(|(i, u)| percent(u, i)),
        })
    }
}

impl Usage {
    /// Records what `node`'s kubelet reported (pure).
    pub fn add_summary(&mut self, node: &str, summary: &Summary) {
        self.nodes.insert(node.to_string(), NodeAnswer::Answered);
        for pod in &summary.pods {
            for v in &pod.volume {
                let (Some(claim), Some(figures)) = (&v.pvc_ref, v.figures()) else {
                    continue;
                };
                self.claims
                    .insert((claim.namespace.clone(), claim.name.clone()), figures);
                self.mounts
                    .entry((pod.pod_ref.namespace.clone(), pod.pod_ref.name.clone()))
                    .or_default()
                    .push(Mount {
                        volume: v.name.clone(),
                        claim: claim.name.clone(),
                    });
            }
        }
    }

    /// The claims the kubelet reported for `pod`, with their usage.
    pub fn mounts_of(&self, namespace: &str, pod: &str) -> Vec<(Mount, ClaimUsage)> {
        let key = (namespace.to_string(), pod.to_string());
        self.mounts
            .get(&key)
            .into_iter()
            .flatten()
            .map(|m| (m.clone(), self.of(namespace, &m.claim, Some(pod))))
            .collect()
    }

    /// Were the kubelet's stats refused for lack of permission?
    pub fn forbidden(&self) -> bool {
        self.nodes.values().any(|a| *a == NodeAnswer::Forbidden)
    }

    /// The usage of `claim` in `namespace`, mounted by `pod` when one is known.
    pub fn of(&self, namespace: &str, claim: &str, pod: Option<&str>) -> ClaimUsage {
        if let Some(f) = self.claims.get(&(namespace.to_string(), claim.to_string())) {
            return ClaimUsage::Known(*f);
        }
        let node = pod.and_then(|p| self.pods.get(&(namespace.to_string(), p.to_string())));
        match node.and_then(|n| self.nodes.get(n).map(|a| (n, a))) {
            Some((_, NodeAnswer::Forbidden)) => ClaimUsage::Forbidden,
            Some((n, NodeAnswer::Failed(e))) => ClaimUsage::Unavailable {
                reason: format!("node {n} did not answer: {e}"),
            },
            Some((_, NodeAnswer::Answered)) => ClaimUsage::NotReported,
            None if pod.is_none() && self.forbidden() => ClaimUsage::Forbidden,
            None => ClaimUsage::NotMounted,
        }
    }
}

/// Asks the kubelet of every node running one of `pods` for its Summary, once per node.
pub async fn fetch(client: &Client, pods: impl IntoIterator<Item = PodOnNode>) -> Usage {
    let mut usage = Usage::default();
    let mut nodes = BTreeSet::new();
    for p in pods {
        nodes.insert(p.node.clone());
        usage.pods.insert((p.namespace, p.name), p.node);
    }
    let answers: Vec<(String, Result<Summary, kube::Error>)> = futures::stream::iter(nodes)
        .map(|node| async move {
            let path = format!("/api/v1/nodes/{node}/proxy/stats/summary");
            let answer = match http::Request::get(path).body(Vec::new()) {
                Ok(request) => client.request::<Summary>(request).await,
                Err(e) => Err(kube::Error::HttpError(e)),
            };
            (node, answer)
        })
        .buffer_unordered(CONCURRENT_NODES)
        .collect()
        .await;
    for (node, answer) in answers {
        match answer {
            Ok(summary) => usage.add_summary(&node, &summary),
            Err(kube::Error::Api(s)) if s.code == 403 => {
                usage.nodes.insert(node, NodeAnswer::Forbidden);
            }
            Err(e) => {
                tracing::info!("the kubelet stats of node {node} cannot be read: {e}");
                let reason = match &e {
                    kube::Error::Api(s) => s.message.clone(),
                    other => other.to_string(),
                };
                usage.nodes.insert(node, NodeAnswer::Failed(reason));
            }
        }
    }
    usage
}

/// The running pods of `pods` with their node: those the kubelet reports.
pub fn running_on_nodes<'a>(
    pods: impl IntoIterator<Item = &'a k8s_openapi::api::core::v1::Pod>,
) -> Vec<PodOnNode> {
    pods.into_iter()
        .filter_map(|p| {
            let running = p.status.as_ref()?.phase.as_deref() == Some("Running");
            let node = p.spec.as_ref()?.node_name.clone()?;
            running.then(|| PodOnNode {
                namespace: p.metadata.namespace.clone().unwrap_or_default(),
                name: p.metadata.name.clone().unwrap_or_default(),
                node,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GI: u64 = 1 << 30;

    fn summary() -> Summary {
        serde_json::from_value(json!({
            "node": {"nodeName": "n1"},
            "pods": [
                {"podRef": {"name": "w-2", "namespace": "ns", "uid": "u"},
                 "volume": [
                    {"name": "logs", "pvcRef": {"name": "logs-w-2", "namespace": "ns"},
                     "capacityBytes": 100 * GI, "usedBytes": 98 * GI, "availableBytes": 2 * GI,
                     "inodes": 6553600, "inodesUsed": 401419, "inodesFree": 6152181},
                    {"name": "tmp", "capacityBytes": 10, "usedBytes": 1}
                 ]},
                {"podRef": {"name": "web", "namespace": "ns", "uid": "v"}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_summary_gives_each_claims_figures() {
        let mut usage = Usage::default();
        usage.pods.insert(("ns".into(), "w-2".into()), "n1".into());
        usage.pods.insert(("ns".into(), "web".into()), "n1".into());
        usage.add_summary("n1", &summary());
        let known = usage.of("ns", "logs-w-2", Some("w-2"));
        let f = known.figures().unwrap();
        assert_eq!((f.used_percent, f.inodes_percent), (98, Some(7)));
        assert!(known.nearly_full());
        assert_eq!(known.describe(), "98Gi of 100Gi used (98%), inodes 7% used");
        assert_eq!(
            usage.of("ns", "data-web", Some("web")),
            ClaimUsage::NotReported
        );
        assert_eq!(usage.of("ns", "old", None), ClaimUsage::NotMounted);
        let mounts = usage.mounts_of("ns", "w-2");
        assert_eq!(mounts.len(), 1);
        assert_eq!(
            (mounts[0].0.volume.as_str(), mounts[0].0.claim.as_str()),
            ("logs", "logs-w-2")
        );
        assert!(usage.mounts_of("ns", "web").is_empty());
        assert!(!usage.forbidden());
    }

    #[test]
    fn a_refused_or_failed_node_makes_its_claims_unknown() {
        let mut usage = Usage::default();
        usage.pods.insert(("ns".into(), "a".into()), "n1".into());
        usage.pods.insert(("ns".into(), "b".into()), "n2".into());
        usage.nodes.insert("n1".into(), NodeAnswer::Forbidden);
        usage
            .nodes
            .insert("n2".into(), NodeAnswer::Failed("timeout".into()));
        assert_eq!(usage.of("ns", "c", Some("a")), ClaimUsage::Forbidden);
        assert_eq!(usage.of("ns", "c", None), ClaimUsage::Forbidden);
        assert_eq!(
            usage.of("ns", "d", Some("b")).describe(),
            "unknown (node n2 did not answer: timeout)"
        );
        assert_eq!(ClaimUsage::Forbidden.unknown_cell(), "no nodes/proxy");
        assert!(!ClaimUsage::Forbidden.nearly_full());
    }

    #[test]
    fn percent_rounds_up_and_bytes_read_as_quantities() {
        assert_eq!(percent(901, 1000), Some(91));
        assert_eq!(percent(900, 1000), Some(90));
        assert_eq!(percent(0, 1000), Some(0));
        assert_eq!(percent(1, 0), None);
        assert_eq!(bytes(98 * GI), "98Gi");
        assert_eq!(bytes(GI * 96 / 10), "9.6Gi");
        assert_eq!(bytes(2 * GI), "2Gi");
        assert_eq!(bytes(512 << 20), "512Mi");
        assert_eq!(bytes(100), "100");
    }

    #[test]
    fn json_names_the_state() {
        let v = serde_json::to_value(ClaimUsage::Forbidden).unwrap();
        assert_eq!(v, json!({"state": "forbidden"}));
        let mut usage = Usage::default();
        usage.add_summary("n1", &summary());
        let v = serde_json::to_value(usage.of("ns", "logs-w-2", None)).unwrap();
        assert_eq!(v["state"], "known");
        assert_eq!(v["usedBytes"], 98 * GI);
        assert_eq!(v["usedPercent"], 98);
    }
}
