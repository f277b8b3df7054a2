//! The drain plan (pure): a verdict for every pod on the node — each decided by a small named
//! filter, as in kubectl's `pkg/drain` — the pre-scale steps, whether the evicted pods fit on
//! the remaining nodes, and the blockers that stop everything before the first change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::ResourceExt;
use serde::Serialize;

use crate::journal::Options;
use crate::world::World;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Evicted through the Eviction API (PodDisruptionBudgets honoured).
    Evict,
    /// Deleted (--disable-eviction, or --force past a budget): budgets are bypassed.
    Delete,
    /// Left on the node: DaemonSet, mirror pod, finished.
    Skip,
    /// Stops the drain before any change, with what would allow it.
    Blocked,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodPlan {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// `Kind/name` of the controller (a ReplicaSet's Deployment); `-` for none.
    pub owner: String,
    pub verdict: Verdict,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrescalePlan {
    pub namespace: String,
    pub name: String,
    pub from: i32,
    pub to: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa_min: Option<i32>,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    pub fits: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodePlan {
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    pub pods: Vec<PodPlan>,
    pub prescale: Vec<PrescalePlan>,
    pub capacity: Capacity,
    pub blockers: Vec<String>,
    pub warnings: Vec<String>,
}

// ---- filters: each decides one kind of pod, or passes (None) ----

fn owner_kind(pod: &Pod) -> Option<(&str, &str)> {
    let refs = pod.metadata.owner_references.as_ref()?;
    let owner = refs
        .iter()
        .find(|o| o.controller == Some(true))
        .or(refs.first())?;
    Some((owner.kind.as_str(), owner.name.as_str()))
}

pub fn daemonset_filter(pod: &Pod) -> Option<(Verdict, String)> {
    matches!(owner_kind(pod), Some(("DaemonSet", _)))
        .then(|| (Verdict::Skip, "DaemonSet pod".into()))
}

pub fn mirror_filter(pod: &Pod) -> Option<(Verdict, String)> {
    pod.annotations()
        .contains_key("kubernetes.io/config.mirror")
        .then(|| (Verdict::Skip, "mirror (static) pod".into()))
}

pub fn finished_filter(pod: &Pod) -> Option<(Verdict, String)> {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
        .then(|| (Verdict::Skip, "already finished".into()))
}

pub fn unmanaged_filter(pod: &Pod, options: &Options) -> Option<(Verdict, String)> {
    if owner_kind(pod).is_some() {
        return None;
    }
    Some(if options.force {
        (
            Verdict::Delete,
            "unmanaged pod: deleted and NOT recreated anywhere (--force)".into(),
        )
    } else {
        (
            Verdict::Blocked,
            "unmanaged pod: nothing recreates it; --force deletes it for good".into(),
        )
    })
}

pub fn emptydir_filter(pod: &Pod, options: &Options) -> Option<(Verdict, String)> {
    let has_emptydir = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .any(|v| v.empty_dir.is_some());
    (has_emptydir && !options.delete_emptydir_data).then(|| {
        (
            Verdict::Blocked,
            "emptyDir data would be lost: --delete-emptydir-data allows it".into(),
        )
    })
}

pub fn do_not_disrupt_filter(pod: &Pod, options: &Options) -> Option<(Verdict, String)> {
    let a = pod.annotations();
    let marked = a
        .get("cluster-autoscaler.kubernetes.io/safe-to-evict")
        .map(String::as_str)
        == Some("false")
        || a.get("karpenter.sh/do-not-disrupt").map(String::as_str) == Some("true");
    (marked && !options.force).then(|| {
        (
            Verdict::Blocked,
            "annotated not to be disrupted (safe-to-evict=false / do-not-disrupt); --force evicts it anyway".into(),
        )
    })
}

/// The verdict of the pod-level filters (budgets and surge are decided per owner after).
pub fn pod_verdict(pod: &Pod, options: &Options) -> (Verdict, String) {
    daemonset_filter(pod)
        .or_else(|| mirror_filter(pod))
        .or_else(|| finished_filter(pod))
        .or_else(|| unmanaged_filter(pod, options))
        .or_else(|| emptydir_filter(pod, options))
        .or_else(|| do_not_disrupt_filter(pod, options))
        .unwrap_or_else(|| {
            if options.disable_eviction {
                (
                    Verdict::Delete,
                    "deleted (--disable-eviction: budgets bypassed)".into(),
                )
            } else {
                (Verdict::Evict, "evict".into())
            }
        })
}

// ---- helpers ----

pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expressions_ok = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    let empty = selector.match_labels.as_ref().is_none_or(|m| m.is_empty())
        && selector
            .match_expressions
            .as_ref()
            .is_none_or(|m| m.is_empty());
    !empty && labels_ok && expressions_ok
}

pub fn pdb_for<'a>(world: &'a World, pod: &Pod) -> Option<&'a PodDisruptionBudget> {
    world.pdbs.iter().find(|pdb| {
        pdb.namespace() == pod.namespace()
            && pdb
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .is_some_and(|sel| selector_matches(sel, pod.labels()))
    })
}

/// `Kind/name` of the workload behind a pod: a ReplicaSet's Deployment, else the controller.
pub fn workload_of(world: &World, pod: &Pod) -> Option<(String, String)> {
    let (kind, name) = owner_kind(pod)?;
    if kind == "ReplicaSet" {
        let rs = world
            .replicasets
            .iter()
            .find(|rs| rs.name_any() == name && rs.namespace() == pod.namespace());
        if let Some(dep) = rs.and_then(|rs| {
            rs.owner_references()
                .iter()
                .find(|o| o.kind == "Deployment")
        }) {
            return Some(("Deployment".into(), dep.name.clone()));
        }
    }
    Some((kind.to_string(), name.to_string()))
}

pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn on_node(pod: &Pod, node: &str) -> bool {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)
}

fn requests(pod: &Pod) -> (f64, f64) {
    let mut cpu = 0.0;
    let mut mem = 0.0;
    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        if let Some(r) = c.resources.as_ref().and_then(|r| r.requests.as_ref()) {
            cpu += r
                .get("cpu")
                .and_then(|q| shared::quantity::parse(&q.0))
                .unwrap_or(0.0);
            mem += r
                .get("memory")
                .and_then(|q| shared::quantity::parse(&q.0))
                .unwrap_or(0.0);
        }
    }
    (cpu, mem)
}

fn allocatable(node: &Node) -> (f64, f64) {
    let a = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let get = |k: &str| {
        a.and_then(|a| a.get(k))
            .and_then(|q| shared::quantity::parse(&q.0))
            .unwrap_or(0.0)
    };
    (get("cpu"), get("memory"))
}

fn node_ready(node: &Node) -> bool {
    node.status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Can `pod` run on `node` as far as taints and the nodeSelector go?
fn could_run(pod: &Pod, node: &Node) -> bool {
    let spec = pod.spec.clone().unwrap_or_default();
    let selector_ok = spec
        .node_selector
        .iter()
        .flatten()
        .all(|(k, v)| node.labels().get(k) == Some(v));
    let tolerations = spec.tolerations.unwrap_or_default();
    let taints_ok = node
        .spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .all(|t| {
            tolerations.iter().any(|tol| {
                (tol.key.is_none() && tol.operator.as_deref() == Some("Exists"))
                    || (tol.key.as_deref() == Some(t.key.as_str())
                        && (tol.operator.as_deref() == Some("Exists") || tol.value == t.value)
                        && tol.effect.as_deref().is_none_or(|e| e == t.effect))
            })
        });
    selector_ok && taints_ok
}

fn cores(v: f64) -> String {
    shared::quantity::format("cpu", v)
}

fn mem(v: f64) -> String {
    shared::quantity::format("memory", v)
}

/// Places the pods (largest first) on the free allocatable of the remaining schedulable nodes.
fn capacity(world: &World, draining: &[String], movers: &[&Pod]) -> Capacity {
    let mut free: Vec<(&Node, f64, f64)> = world
        .nodes
        .iter()
        .filter(|n| !draining.contains(&n.name_any()))
        .filter(|n| {
            !n.spec
                .as_ref()
                .and_then(|s| s.unschedulable)
                .unwrap_or(false)
                && node_ready(n)
        })
        .map(|n| {
            let (cpu, memory) = allocatable(n);
            let (used_cpu, used_mem) = world
                .pods
                .iter()
                .filter(|p| on_node(p, &n.name_any()) && finished_filter(p).is_none())
                .map(requests)
                .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
            (n, cpu - used_cpu, memory - used_mem)
        })
        .collect();
    let mut sorted: Vec<&Pod> = movers.to_vec();
    sorted.sort_by(|a, b| requests(b).0.total_cmp(&requests(a).0));
    let (mut total_cpu, mut total_mem) = (0.0, 0.0);
    for pod in sorted {
        let (cpu, memory) = requests(pod);
        total_cpu += cpu;
        total_mem += memory;
        let slot = free
            .iter_mut()
            .filter(|(n, c, m)| could_run(pod, n) && *c >= cpu && *m >= memory)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match slot {
            Some(slot) => {
                slot.1 -= cpu;
                slot.2 -= memory;
            }
            None => {
                return Capacity {
                    fits: false,
                    detail: format!(
                        "pod {}/{} (requests {} CPU, {} memory) fits on no remaining schedulable node that it may run on",
                        pod.namespace().unwrap_or_default(),
                        pod.name_any(),
                        cores(cpu),
                        mem(memory)
                    ),
                };
            }
        }
    }
    Capacity {
        fits: true,
        detail: format!(
            "{} pods ({} CPU, {} memory requested) fit on the remaining schedulable nodes",
            movers.len(),
            cores(total_cpu),
            mem(total_mem)
        ),
    }
}

/// Plans the drain of `node` (the nodes of the same run are in `draining`).
pub fn plan(world: &World, node: &str, draining: &[String], options: &Options) -> NodePlan {
    let node_obj = world.nodes.iter().find(|n| n.name_any() == node);
    let mut pods: Vec<&Pod> = world.pods.iter().filter(|p| on_node(p, node)).collect();
    pods.sort_by_key(|p| (p.namespace(), p.name_any()));
    let mut plans: Vec<PodPlan> = pods
        .iter()
        .map(|p| {
            let (verdict, reason) = pod_verdict(p, options);
            PodPlan {
                namespace: p.namespace().unwrap_or_default(),
                name: p.name_any(),
                uid: p.uid().unwrap_or_default(),
                owner: workload_of(world, p)
                    .map_or_else(|| "-".into(), |(k, n)| format!("{k}/{n}")),
                verdict,
                reason,
            }
        })
        .collect();
    let mut prescale = Vec::new();
    let mut warnings = Vec::new();

    // Per workload: would taking its pods off this node take it down, or break its budget?
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, p) in plans.iter().enumerate() {
        if matches!(p.verdict, Verdict::Evict | Verdict::Delete) && p.owner != "-" {
            groups
                .entry((p.namespace.clone(), p.owner.clone()))
                .or_default()
                .push(i);
        }
    }
    for ((namespace, owner), indices) in &groups {
        let (kind, name) = owner.split_once('/').unwrap_or(("", owner));
        let here = indices.len() as i32;
        let owner_pods: Vec<&Pod> = world
            .pods
            .iter()
            .filter(|p| p.namespace().as_deref() == Some(namespace.as_str()))
            .filter(|p| workload_of(world, p).is_some_and(|(k, n)| k == kind && n == name))
            .collect();
        let ready_elsewhere = owner_pods
            .iter()
            .filter(|p| is_ready(p) && !draining.iter().any(|d| on_node(p, d)))
            .count() as i32;
        let pdb = pdb_for(world, pods[indices[0]]);
        let budget = pdb.map(|pdb| {
            let st = pdb.status.clone().unwrap_or_default();
            (
                pdb.name_any(),
                st.disruptions_allowed,
                st.desired_healthy,
                st.current_healthy,
            )
        });
        let all_here = ready_elsewhere == 0;
        let budget_short = budget
            .as_ref()
            .is_some_and(|(_, allowed, _, _)| *allowed < here);
        if !all_here && !budget_short {
            continue;
        }
        let budget_text = budget.as_ref().map(|(n, allowed, desired, current)| {
            format!(
                "PDB {n} allows {allowed} disruption(s) — needs {desired} healthy, has {current}"
            )
        });
        let evicting_all_deleted = indices.iter().all(|i| plans[*i].verdict == Verdict::Delete);
        match kind {
            "Deployment" if options.prescale => {
                let dep = world.deployments.iter().find(|d| {
                    d.name_any() == name && d.namespace().as_deref() == Some(namespace.as_str())
                });
                let from = dep.and_then(|d| d.spec.as_ref()?.replicas).unwrap_or(1);
                let extra = match &budget {
                    Some((_, allowed, _, _)) if budget_short => {
                        (here - allowed).max(if all_here { here } else { 0 })
                    }
                    _ => here,
                };
                let hpa = world.hpas.iter().find(|h| {
                    h.namespace().as_deref() == Some(namespace.as_str())
                        && h.spec.as_ref().is_some_and(|s| {
                            s.scale_target_ref.kind == "Deployment"
                                && s.scale_target_ref.name == name
                        })
                });
                let why = if all_here {
                    format!("every Ready replica is on {node}")
                } else {
                    budget_text.clone().unwrap_or_default()
                };
                prescale.push(PrescalePlan {
                    namespace: namespace.clone(),
                    name: name.to_string(),
                    from,
                    to: from + extra,
                    hpa: hpa.map(|h| h.name_any()),
                    hpa_min: hpa.and_then(|h| h.spec.as_ref()?.min_replicas),
                    why,
                });
            }
            "Deployment" => {
                if budget_short && !evicting_all_deleted {
                    for i in indices {
                        plans[*i].verdict = Verdict::Blocked;
                        plans[*i].reason = format!(
                            "{}; --prescale auto would add a replica first",
                            budget_text.clone().unwrap_or_default()
                        );
                    }
                } else {
                    warnings.push(format!("Deployment {namespace}/{name} has no Ready replica elsewhere: it is down until its pod is Ready on another node (--prescale auto avoids that)"));
                }
            }
            _ => {
                // A StatefulSet (or any other controller) cannot surge: its pod must go first.
                let risk = match &budget_text {
                    Some(b) if budget_short => b.clone(),
                    _ => format!("every Ready replica of {kind} {name} is on {node}"),
                };
                if options.force {
                    for i in indices {
                        if budget_short && plans[*i].verdict == Verdict::Evict {
                            plans[*i].verdict = Verdict::Delete;
                            plans[*i].reason =
                                format!("{risk}; --force deletes it past the budget");
                        }
                    }
                    warnings.push(format!(
                        "{kind} {namespace}/{name} cannot surge ({risk}): it runs with fewer replicas until its pod is Ready on another node"
                    ));
                } else {
                    for i in indices {
                        plans[*i].verdict = Verdict::Blocked;
                        plans[*i].reason = format!(
                            "{kind} {name} cannot surge: {risk}; evicting it means downtime or a lost quorum — --force proceeds anyway"
                        );
                    }
                }
            }
        }
    }

    let movers: Vec<&Pod> = pods
        .iter()
        .zip(&plans)
        .filter(|(_, plan)| {
            matches!(plan.verdict, Verdict::Evict | Verdict::Delete) && plan.owner != "-"
        })
        .map(|(p, _)| *p)
        .chain(prescale.iter().flat_map(|ps| {
            // The extra replicas need room too: as big as one of the owner's pods here.
            let template = pods
                .iter()
                .zip(&plans)
                .find(|(_, plan)| {
                    plan.owner == format!("Deployment/{}", ps.name)
                        && plan.namespace == ps.namespace
                })
                .map(|(p, _)| *p);
            std::iter::repeat_n(template, (ps.to - ps.from) as usize).flatten()
        }))
        .collect();
    let capacity = capacity(world, draining, &movers);
    let mut blockers: Vec<String> = plans
        .iter()
        .filter(|p| p.verdict == Verdict::Blocked)
        .map(|p| format!("{}/{}: {}", p.namespace, p.name, p.reason))
        .collect();
    if node_obj.is_none() {
        blockers.push(format!("node {node} not found"));
    }
    if !capacity.fits {
        if options.force {
            warnings.push(format!(
                "capacity: {} (--force: pods may stay Pending)",
                capacity.detail
            ));
        } else {
            blockers.push(format!(
                "capacity: {}; add nodes first, or --force",
                capacity.detail
            ));
        }
    }
    NodePlan {
        node: node.to_string(),
        provider_id: node_obj.and_then(|n| n.spec.as_ref()?.provider_id.clone()),
        pods: plans,
        prescale,
        capacity,
        blockers,
        warnings,
    }
}

/// The plan as text.
pub fn render(plan: &NodePlan) -> String {
    let mut out = format!("Drain node {}\n", plan.node);
    let mut table = shared::output::Table::new(&["namespace", "pod", "owner", "verdict", "reason"]);
    for p in &plan.pods {
        table.row([
            p.namespace.clone(),
            p.name.clone(),
            p.owner.clone(),
            format!("{:?}", p.verdict).to_lowercase(),
            p.reason.clone(),
        ]);
    }
    out.push_str(&table.render());
    for s in &plan.prescale {
        out.push_str(&format!(
            "pre-scale: Deployment {}/{}: {} → {} replicas{}, restored afterwards ({})\n",
            s.namespace,
            s.name,
            s.from,
            s.to,
            s.hpa
                .as_ref()
                .map(|h| format!(
                    " through HPA {h} (minReplicas {} → {})",
                    s.hpa_min.unwrap_or(1),
                    s.to
                ))
                .unwrap_or_default(),
            s.why
        ));
    }
    out.push_str(&format!("capacity: {}\n", plan.capacity.detail));
    for w in &plan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for b in &plan.blockers {
        out.push_str(&format!("blocked: {b}\n"));
    }
    out
}

/// What to run once the node is empty (printed, never run), from `spec.providerID`.
pub fn next_step(provider_id: Option<&str>) -> String {
    let Some(id) = provider_id else {
        return "terminate the machine with your provider's tools (the node has no providerID)"
            .into();
    };
    if let Some(rest) = id.strip_prefix("aws:///") {
        // aws:///us-east-1a/i-0123…
        let (zone, instance) = rest.split_once('/').unwrap_or(("", rest));
        let region = zone.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let region = if region.is_empty() {
            String::new()
        } else {
            format!(" --region {region}")
        };
        return format!("aws ec2 terminate-instances{region} --instance-ids {instance}");
    }
    if let Some(rest) = id.strip_prefix("azure:///") {
        let parts: Vec<&str> = rest.split('/').collect();
        let after = |key: &str| {
            parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case(key))
                .and_then(|i| parts.get(i + 1))
                .copied()
                .unwrap_or("")
        };
        let (subscription, group) = (after("subscriptions"), after("resourceGroups"));
        let vmss = after("virtualMachineScaleSets");
        let vm = after("virtualMachines");
        return if !vmss.is_empty() {
            format!(
                "az vmss delete-instances --subscription {subscription} --resource-group {group} --name {vmss} --instance-ids {vm}"
            )
        } else {
            format!(
                "az vm delete --subscription {subscription} --resource-group {group} --name {vm}"
            )
        };
    }
    if let Some(rest) = id.strip_prefix("gce://") {
        let parts: Vec<&str> = rest.split('/').collect();
        if let [project, zone, name] = parts.as_slice() {
            return format!(
                "gcloud compute instances delete {name} --project {project} --zone {zone}"
            );
        }
    }
    format!("terminate the machine behind providerID {id} with your provider's tools")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    fn pod(name: &str, owner: Option<(&str, &str)>, extra: Value) -> Pod {
        let mut p = json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("u-{name}"), "labels": {"app": name}},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        });
        if let Some((kind, owner)) = owner {
            p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": owner, "uid": "o", "controller": true}]);
        }
        json_patch::merge(&mut p, &extra);
        from(p)
    }

    fn node(name: &str, cpu: &str) -> Node {
        from(
            json!({"metadata": {"name": name}, "spec": {"providerID": format!("aws:///eu-west-1b/i-{name}")},
                    "status": {"allocatable": {"cpu": cpu, "memory": "8Gi"}, "conditions": [{"type": "Ready", "status": "True"}]}}),
        )
    }

    #[test]
    fn each_filter_decides_its_kind_of_pod() {
        let o = Options::default();
        let ds = pod("ds", Some(("DaemonSet", "agent")), json!({}));
        assert_eq!(pod_verdict(&ds, &o).0, Verdict::Skip);
        let mirror = pod(
            "m",
            None,
            json!({"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}}),
        );
        assert_eq!(pod_verdict(&mirror, &o).0, Verdict::Skip);
        let done = pod(
            "j",
            Some(("Job", "j")),
            json!({"status": {"phase": "Succeeded"}}),
        );
        assert_eq!(pod_verdict(&done, &o).0, Verdict::Skip);
        let bare = pod("bare", None, json!({}));
        assert_eq!(pod_verdict(&bare, &o).0, Verdict::Blocked);
        let forced = Options {
            force: true,
            ..Default::default()
        };
        assert_eq!(pod_verdict(&bare, &forced).0, Verdict::Delete);
        let scratch = pod(
            "s",
            Some(("ReplicaSet", "s")),
            json!({"spec": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}),
        );
        assert_eq!(pod_verdict(&scratch, &o).0, Verdict::Blocked);
        let emptydir = Options {
            delete_emptydir_data: true,
            ..Default::default()
        };
        assert_eq!(pod_verdict(&scratch, &emptydir).0, Verdict::Evict);
        let pinned = pod(
            "k",
            Some(("ReplicaSet", "k")),
            json!({"metadata": {"annotations": {"karpenter.sh/do-not-disrupt": "true"}}}),
        );
        assert_eq!(pod_verdict(&pinned, &o).0, Verdict::Blocked);
        let plain = pod("p", Some(("ReplicaSet", "p")), json!({}));
        assert_eq!(pod_verdict(&plain, &o).0, Verdict::Evict);
        let no_eviction = Options {
            disable_eviction: true,
            ..Default::default()
        };
        assert_eq!(pod_verdict(&plain, &no_eviction).0, Verdict::Delete);
    }

    fn world() -> World {
        World {
            nodes: vec![node("n1", "4"), node("n2", "4")],
            pods: vec![pod("web-abc", Some(("ReplicaSet", "web-7d")), json!({}))],
            replicasets: vec![from(
                json!({"metadata": {"name": "web-7d", "namespace": "default",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d"}]}}),
            )],
            deployments: vec![from(
                json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 1, "selector": {}, "template": {}}}),
            )],
            ..Default::default()
        }
    }

    #[test]
    fn a_single_replica_is_prescaled_and_a_statefulset_at_its_budget_blocks() {
        let o = Options {
            prescale: true,
            ..Default::default()
        };
        let p = plan(&world(), "n1", &["n1".to_string()], &o);
        assert!(p.blockers.is_empty(), "{:?}", p.blockers);
        assert_eq!(
            (
                p.prescale[0].name.as_str(),
                p.prescale[0].from,
                p.prescale[0].to
            ),
            ("web", 1, 2)
        );
        assert!(p.capacity.fits, "{}", p.capacity.detail);

        let mut w = world();
        w.pods.push(pod(
            "db-0",
            Some(("StatefulSet", "db")),
            json!({"metadata": {"labels": {"app": "db"}}}),
        ));
        w.pods.push(pod(
            "db-1",
            Some(("StatefulSet", "db")),
            json!({"metadata": {"labels": {"app": "db"}}, "spec": {"nodeName": "n2"}}),
        ));
        w.pdbs = vec![from(
            json!({"metadata": {"name": "db", "namespace": "default"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
            "status": {"disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2, "expectedPods": 2, "observedGeneration": 1}}),
        )];
        let blocked = plan(&w, "n1", &["n1".to_string()], &o);
        assert_eq!(blocked.blockers.len(), 1, "{:?}", blocked.blockers);
        assert!(
            blocked.blockers[0].contains("PDB db allows 0 disruption(s) — needs 2 healthy, has 2"),
            "{:?}",
            blocked.blockers
        );
        let forced = plan(
            &w,
            "n1",
            &["n1".to_string()],
            &Options {
                force: true,
                ..o.clone()
            },
        );
        assert!(forced.blockers.is_empty());
        let db = forced.pods.iter().find(|p| p.name == "db-0").unwrap();
        assert_eq!(db.verdict, Verdict::Delete);

        let mut tight = world();
        tight.nodes = vec![node("n1", "4"), node("n2", "100m")];
        let full = plan(&tight, "n1", &["n1".to_string()], &o);
        assert!(
            !full.capacity.fits && full.blockers[0].starts_with("capacity:"),
            "{:?}",
            full.blockers
        );
    }

    #[test]
    fn next_steps_per_provider() {
        assert_eq!(
            next_step(Some("aws:///us-east-1a/i-07ad98a70a603e9e1")),
            "aws ec2 terminate-instances --region us-east-1 --instance-ids i-07ad98a70a603e9e1"
        );
        assert_eq!(
            next_step(Some(
                "azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/aks-pool-vmss/virtualMachines/3"
            )),
            "az vmss delete-instances --subscription S --resource-group RG --name aks-pool-vmss --instance-ids 3"
        );
        assert_eq!(
            next_step(Some("gce://proj/europe-west1-b/gke-node-1")),
            "gcloud compute instances delete gke-node-1 --project proj --zone europe-west1-b"
        );
        assert!(next_step(None).contains("no providerID"));
        assert!(
            next_step(Some("kind://docker/kind/kind-worker"))
                .contains("kind://docker/kind/kind-worker")
        );
    }
}
