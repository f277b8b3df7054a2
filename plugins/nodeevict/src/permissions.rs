//! The writes a drain (fresh, resumed or aborted) will make, per namespace, for the RBAC
//! preflight and the plan's `-o json`.

use std::collections::BTreeMap;

use shared::doctor::Permission;

use crate::journal::NodeJournal;
use crate::plan;

/// The permissions the preflight asks for, as `-o json` shows them (a Role can be made of it).
pub fn permissions_json(needs: &BTreeMap<String, Vec<Permission>>) -> serde_json::Value {
    let mut list = Vec::new();
    for (namespace, perms) in needs {
        for p in perms {
            list.push(serde_json::json!({
                "verb": p.verb,
                "apiGroup": p.group,
                "resource": if p.subresource.is_empty() {
                    p.resource.to_string()
                } else {
                    format!("{}/{}", p.resource, p.subresource)
                },
                "namespace": namespace,
                "neededFor": p.needed_for,
            }));
        }
    }
    serde_json::Value::Array(list)
}

/// The writes the drains will make, per namespace ("" for the cluster-scoped ones), checked
/// before the first one.
pub fn needed_permissions(
    plans: &[plan::NodePlan],
    continuing: &[&NodeJournal],
) -> BTreeMap<String, Vec<Permission>> {
    use shared::doctor::Scope::{Cluster, Namespace};
    let mut needs: BTreeMap<String, Vec<Permission>> = BTreeMap::new();
    needs
        .entry(String::new())
        .or_default()
        .push(Permission::new(
            "patch",
            "",
            "nodes",
            Cluster,
            "cordon the node and record the drain's journal",
        ));
    for p in plans {
        for pod in &p.pods {
            let need = match pod.verdict {
                plan::Verdict::Evict => {
                    Permission::new("create", "", "pods", Namespace, "evict the pods")
                        .sub("eviction")
                }
                plan::Verdict::Delete => {
                    Permission::new("delete", "", "pods", Namespace, "delete the pods")
                }
                plan::Verdict::Skip | plan::Verdict::Blocked => continue,
            };
            needs.entry(pod.namespace.clone()).or_default().push(need);
            // Any eviction a budget still refuses at a --force-after deadline becomes a delete.
            if pod.at_deadline.is_some() {
                needs
                    .entry(pod.namespace.clone())
                    .or_default()
                    .push(Permission::new(
                        "delete",
                        "",
                        "pods",
                        Namespace,
                        "delete the pods a budget still refuses at the --force-after deadline",
                    ));
            }
        }
        for scale in &p.prescale {
            prescale_needs(
                needs.entry(scale.namespace.clone()).or_default(),
                scale.hpa.is_some(),
            );
            if scale.scaled_object.is_some() {
                scaled_object_needs(needs.entry(scale.namespace.clone()).or_default());
            }
        }
    }
    // A drain taken up again restores what its journal pre-scaled.
    for journal in continuing {
        for scale in &journal.prescaled {
            prescale_needs(
                needs.entry(scale.namespace.clone()).or_default(),
                scale.hpa.is_some(),
            );
            if scale.scaled_object.is_some() {
                scaled_object_needs(needs.entry(scale.namespace.clone()).or_default());
            }
        }
    }
    for list in needs.values_mut() {
        list.sort_by_key(|p| (p.verb, p.group, p.resource, p.subresource));
        list.dedup_by_key(|p| (p.verb, p.group, p.resource, p.subresource));
    }
    needs
}

/// A KEDA-scaled Deployment is pre-scaled through its ScaledObject's minReplicaCount.
fn scaled_object_needs(list: &mut Vec<Permission>) {
    list.push(Permission::new(
        "patch",
        "keda.sh",
        "scaledobjects",
        shared::doctor::Scope::Namespace,
        "raise and restore the ScaledObject's minReplicaCount",
    ));
}

/// The writes of pre-scaling one Deployment and restoring it.
fn prescale_needs(list: &mut Vec<Permission>, through_hpa: bool) {
    use shared::doctor::Scope::Namespace;
    list.push(Permission::new(
        "patch",
        "apps",
        "deployments",
        Namespace,
        "pre-scale and record the original replicas",
    ));
    if through_hpa {
        list.push(Permission::new(
            "patch",
            "autoscaling",
            "horizontalpodautoscalers",
            Namespace,
            "raise the autoscaler's minReplicas",
        ));
    }
}

/// What every nodeevict change passes before its first write: the preflight of `needs` (the
/// plan's writes, by namespace), then the confirmation.
pub fn gate<'a>(
    target: &'a shared::Target,
    change: &'a shared::ChangeArgs,
    needs: &'a BTreeMap<String, Vec<Permission>>,
) -> shared::change::Gate<'a> {
    shared::change::Gate::new(target, change, crate::hint::doctor()).preflight_namespaces(needs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Capacity, NodePlan, PodPlan, PrescalePlan, Verdict};

    fn pod(namespace: &str, verdict: Verdict) -> PodPlan {
        PodPlan::for_test(namespace, "p", "-", verdict)
    }

    #[test]
    fn the_preflight_asks_per_namespace_for_exactly_the_writes_of_the_plan() {
        let plan = NodePlan {
            node: "n1".into(),
            provider_id: None,
            pods: vec![
                pod("default", Verdict::Evict),
                pod("default", Verdict::Evict),
                pod("kube-system", Verdict::Skip),
                pod("apps", Verdict::Delete),
            ],
            prescale: vec![PrescalePlan {
                namespace: "default".into(),
                name: "web".into(),
                from: 1,
                to: 2,
                hpa: Some("web".into()),
                hpa_min: Some(1),
                why: String::new(),
                ..Default::default()
            }],
            capacity: Capacity {
                fits: true,
                detail: String::new(),
            },
            blockers: Vec::new(),
            warnings: Vec::new(),
            skip_wait_for_delete: None,
            managed_blockers: 0,
            deadline: None,
            force_after: None,
        };
        let needs = needed_permissions(std::slice::from_ref(&plan), &[]);
        let listed: Vec<(String, Vec<String>)> = needs
            .iter()
            .map(|(ns, list)| {
                let verbs = list
                    .iter()
                    .map(|p| format!("{} {}/{}", p.verb, p.resource, p.subresource))
                    .collect();
                (ns.clone(), verbs)
            })
            .collect();
        assert_eq!(
            listed,
            [
                (String::new(), vec!["patch nodes/".to_string()]),
                ("apps".into(), vec!["delete pods/".into()]),
                (
                    "default".into(),
                    vec![
                        "create pods/eviction".into(),
                        "patch deployments/".into(),
                        "patch horizontalpodautoscalers/".into()
                    ]
                ),
            ]
        );
        // Under a --force-after deadline an eviction may become a delete.
        let mut deadline = plan;
        let at: jiff::Timestamp = "2026-11-25T10:10:00Z".parse().unwrap();
        deadline.pods[0].at_deadline = Some(crate::deadline::AtDeadline {
            deadline: at,
            delete_at: at,
        });
        let needs = needed_permissions(&[deadline], &[]);
        let default: Vec<String> = needs["default"]
            .iter()
            .map(|p| format!("{} {}", p.verb, p.resource))
            .collect();
        assert!(default.contains(&"delete pods".to_string()), "{default:?}");
        assert!(!needs.contains_key("kube-system"), "{needs:?}");
    }
}
