//! The kubelet's Summary API as the API server proxies it:
//! `GET /api/v1/nodes/{node}/proxy/stats/summary`.
//!
//! Upstream: the node proxy is `pkg/registry/core/node/rest/proxy.go` (kubernetes/kubernetes),
//! authorized as verb `get` (from the HTTP method) on resource `nodes`, subresource `proxy`
//! before the node is looked up; an unknown node is the registry's `nodes "N" not found`. The
//! body is the kubelet's `Summary` (staging/src/k8s.io/kubelet/pkg/apis/stats/v1alpha1/types.go):
//! `node` (NodeStats) and `pods[]` (PodStats: `podRef{name,namespace,uid}`, `startTime`,
//! `volume[]` of VolumeStats: the FsStats fields inline, `name`, `pvcRef{name,namespace}`). The
//! kubelet reports the pods it runs (`pkg/kubelet/stats`), so only pods bound to that node and
//! Running appear.
//!
//! The sim reports the PersistentVolumeClaim-backed volumes only (no emptyDir, configMap, or
//! the node's own filesystems). Figures come from the scenario: annotations
//! `sim.kube-sim.dev/used-bytes` (a quantity, `98Gi`) and `sim.kube-sim.dev/used-inodes` (a
//! count) on the claim, else on its PersistentVolume (so a fresh volume made by a reset starts
//! nearly empty); without them a volume is 2% used. Capacity is the volume's (the PV's
//! `spec.capacity.storage`, else the claim's `status.capacity.storage`), inodes one per
//! 16 KiB of it (mke2fs's default inode_ratio); used inodes default to one per 256 KiB used,
//! plus 11 (the root, lost+found and the reserved ones of a fresh ext4).

use http::Method;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::resources::{self, NODES};
use crate::scenario::User;
use crate::store::Store;

pub const USED_BYTES: &str = "sim.kube-sim.dev/used-bytes";
pub const USED_INODES: &str = "sim.kube-sim.dev/used-inodes";

/// Bytes per inode, mke2fs.conf's default `inode_ratio`.
const INODE_RATIO: u64 = 16 * 1024;
/// The usage of a volume without a figure in the scenario, in percent.
const DEFAULT_USED_PERCENT: u64 = 2;

/// Answers a request under `/api/v1/nodes/{node}/proxy/…`; None for any other path.
pub fn proxy(
    store: &Store,
    method: &Method,
    path: &str,
    user: Option<&User>,
) -> Option<Result<Value, ApiError>> {
    let rest = path.strip_prefix("/api/v1/nodes/")?;
    let (node, kubelet_path) = match rest.split_once('/') {
        Some((node, tail)) if tail == "proxy" || tail.starts_with("proxy/") => (
            node,
            tail.trim_start_matches("proxy").trim_start_matches('/'),
        ),
        _ => return None,
    };
    Some(answer(store, method, node, kubelet_path, user))
}

fn answer(
    store: &Store,
    method: &Method,
    node: &str,
    kubelet_path: &str,
    user: Option<&User>,
) -> Result<Value, ApiError> {
    let user = user.ok_or_else(ApiError::unauthorized)?;
    // The verb of a proxy request is the HTTP method's (apiserver's RequestInfoFactory).
    let verb = match *method {
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "unknown",
    };
    if !user.allows(verb, "", "nodes/proxy", None) {
        return Err(ApiError::forbidden(
            &user.name,
            verb,
            &NODES,
            Some("proxy"),
            None,
            Some(node),
        ));
    }
    let node_obj = store.get(&NODES, None, node)?;
    if node_obj["metadata"]["annotations"]["sim.kube-sim.dev/kubelet"] == "stopped" {
        // The proxy cannot reach a stopped kubelet (k8s.io/apimachinery util/proxy's error
        // responder answers 503).
        let ip = node_obj["status"]["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["type"] == "InternalIP"))
            .and_then(|a| a["address"].as_str())
            .unwrap_or(node);
        return Err(ApiError::new(
            503,
            "ServiceUnavailable",
            format!("error trying to reach service: dial tcp {ip}:10250: i/o timeout"),
        ));
    }
    match (verb, kubelet_path.trim_end_matches('/')) {
        ("get", "stats/summary") => Ok(summary(store, node, &node_obj)),
        // The kubelet's mux answers other paths with its plain 404.
        _ => Err(ApiError::new(404, "NotFound", "404 page not found")),
    }
}

/// The kubelet's Summary of `node`.
pub fn summary(store: &Store, node: &str, node_obj: &Value) -> Value {
    let now = store.clock().now_rfc3339();
    let pods: Vec<Value> = store.read(|objs| {
        objs.list(&resources::PODS, None)
            .filter(|p| p["spec"]["nodeName"] == node && p["status"]["phase"] == "Running")
            .map(|p| {
                let ns = p["metadata"]["namespace"].as_str().unwrap_or("");
                let volumes: Vec<Value> = p["spec"]["volumes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| {
                        let claim = v["persistentVolumeClaim"]["claimName"].as_str()?;
                        let pvc = objs.get(&resources::PVCS, Some(ns), claim)?;
                        let pv = pvc["spec"]["volumeName"]
                            .as_str()
                            .and_then(|name| objs.get(&resources::PVS, None, name));
                        let stats = figures(pvc, pv)?;
                        Some(stats.to_json(v["name"].as_str().unwrap_or(""), claim, ns, &now))
                    })
                    .collect();
                let mut pod = json!({
                    "podRef": {
                        "name": p["metadata"]["name"],
                        "namespace": ns,
                        "uid": p["metadata"]["uid"],
                    },
                    "startTime": p["status"]["startTime"],
                    "containers": p["spec"]["containers"].as_array().into_iter().flatten()
                        .map(|c| json!({"name": c["name"], "startTime": p["status"]["startTime"]}))
                        .collect::<Vec<_>>(),
                });
                if !volumes.is_empty() {
                    pod["volume"] = json!(volumes);
                }
                pod
            })
            .collect()
    });
    json!({
        "node": {
            "nodeName": node,
            "startTime": node_obj["metadata"]["creationTimestamp"],
        },
        "pods": pods,
    })
}

/// One volume's filesystem figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub capacity: u64,
    pub used: u64,
    pub inodes: u64,
    pub inodes_used: u64,
}

impl Figures {
    fn to_json(self, volume: &str, claim: &str, ns: &str, now: &str) -> Value {
        json!({
            "time": now,
            "availableBytes": self.capacity - self.used,
            "capacityBytes": self.capacity,
            "usedBytes": self.used,
            "inodesFree": self.inodes - self.inodes_used,
            "inodes": self.inodes,
            "inodesUsed": self.inodes_used,
            "name": volume,
            "pvcRef": {"name": claim, "namespace": ns},
        })
    }
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj["metadata"]["annotations"][key].as_str()
}

/// The figures of a claim's volume (module docs); None without a capacity.
pub fn figures(pvc: &Value, pv: Option<&Value>) -> Option<Figures> {
    let capacity = pv
        .and_then(|pv| pv["spec"]["capacity"]["storage"].as_str())
        .or_else(|| pvc["status"]["capacity"]["storage"].as_str())
        .and_then(crate::quantity::parse)? as u64;
    let from_scenario =
        |key| annotation(pvc, key).or_else(|| pv.and_then(|pv| annotation(pv, key)));
    let used = from_scenario(USED_BYTES)
        .and_then(crate::quantity::parse)
        .map_or(capacity / 100 * DEFAULT_USED_PERCENT, |u| u.max(0.0) as u64)
        .min(capacity);
    let inodes = (capacity / INODE_RATIO).max(1);
    let inodes_used = from_scenario(USED_INODES)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(11 + used / (256 * 1024))
        .min(inodes);
    Some(Figures {
        capacity,
        used,
        inodes,
        inodes_used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pvc(annotations: Value) -> Value {
        json!({"metadata": {"name": "c", "annotations": annotations},
               "status": {"capacity": {"storage": "10Gi"}}})
    }

    #[test]
    fn figures_come_from_the_claim_then_the_volume_then_a_small_default() {
        let gi = 1024 * 1024 * 1024;
        let pv = json!({"metadata": {"annotations": {USED_BYTES: "9Gi"}},
                        "spec": {"capacity": {"storage": "10Gi"}}});
        let f = figures(
            &pvc(json!({USED_BYTES: "9.5Gi", USED_INODES: "400"})),
            Some(&pv),
        )
        .unwrap();
        assert_eq!(
            (f.capacity, f.used, f.inodes_used),
            (10 * gi, 9 * gi + gi / 2, 400)
        );
        assert_eq!(f.inodes, 10 * gi / INODE_RATIO);
        let f = figures(&pvc(json!({})), Some(&pv)).unwrap();
        assert_eq!(f.used, 9 * gi);
        let f = figures(&pvc(json!({})), None).unwrap();
        assert_eq!(f.used, 10 * gi / 100 * 2);
        // Never more than the capacity.
        let f = figures(
            &pvc(json!({USED_BYTES: "20Gi", USED_INODES: "99999999"})),
            None,
        )
        .unwrap();
        assert_eq!((f.used, f.inodes_used), (f.capacity, f.inodes));
        assert_eq!(figures(&json!({"metadata": {}}), None), None);
    }
}
