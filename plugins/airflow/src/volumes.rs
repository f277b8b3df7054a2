//! `kubectl airflow volumes [RELEASE]`: the deployment's PersistentVolumeClaims (worker logs,
//! redis, …) with the component and pod using each, capacity, status, storage class, what
//! deleting it does to the data (the PV's reclaim policy) and how full it is (the kubelet's
//! stats of the running pods' volumes: shared::volume_usage).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use shared::GlobalArgs;
use shared::output::{self, ListFormat, Table};
use shared::volume_usage::{self, ClaimUsage, Usage};

use crate::discovery::{self, AirflowDeployment, Inventory};

#[derive(clap::Args, Debug, Clone)]
pub struct VolumesArgs {
    /// The Airflow release (implicit when the namespace holds only one)
    pub release: Option<String>,
    /// Output format: wide adds owner, pod, storage class and volume; name prints
    /// persistentvolumeclaim/NAME
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}

/// One claim of the deployment.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    pub component: String,
    /// The workload that owns or mounts it, `kind/name`.
    pub owner: String,
    /// The pod mounting it, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    pub capacity: String,
    /// Bound, Pending, Lost, or Terminating while it is being deleted.
    pub status: String,
    pub storage_class: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// Delete or Retain; None when unbound or when PersistentVolumes cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclaim_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// How full it is, from the kubelet of the pod mounting it, or why that is unknown.
    pub usage: ClaimUsage,
}

/// How a claim belongs to the deployment.
struct Use {
    component: String,
    owner: String,
    pod: Option<String>,
}

/// The claims of `d` (pure): those mounted by its pods, those a StatefulSet's
/// volumeClaimTemplates made (`<template>-<statefulset>-<ordinal>`, mounted or not), and those
/// labelled with its release.
pub fn volumes(
    d: &AirflowDeployment,
    inventory: &Inventory,
    claims: &[PersistentVolumeClaim],
    pvs: Option<&[PersistentVolume]>,
) -> Vec<Volume> {
    let mut uses = mounted(d, inventory);
    add_templated(d, inventory, claims, &mut uses);
    let mut out: Vec<Volume> = claims
        .iter()
        .filter_map(|claim| {
            let using = uses.remove(&claim.name_any()).or_else(|| {
                component_of(d, claim.meta()).map(|component| Use {
                    component,
                    owner: "-".into(),
                    pod: None,
                })
            })?;
            Some(volume(claim, using, pvs))
        })
        .collect();
    out.sort_by(|a, b| (&a.component, &a.name).cmp(&(&b.component, &b.name)));
    out
}

/// The `component` label of an object of `d` (its namespace, its release); None for others.
fn component_of(d: &AirflowDeployment, meta: &ObjectMeta) -> Option<String> {
    let labels = meta.labels.as_ref()?;
    let ours = meta.namespace.as_deref() == Some(d.namespace.as_str())
        && labels.get("release").map(String::as_str) == Some(d.release.as_str());
    ours.then(|| labels.get("component").cloned().unwrap_or_default())
}

/// The claims the pods of `d` mount, by claim name.
fn mounted(d: &AirflowDeployment, inventory: &Inventory) -> BTreeMap<String, Use> {
    let mut uses: BTreeMap<String, Use> = BTreeMap::new();
    for pod in &inventory.pods {
        let Some(component) = component_of(d, pod.meta()) else {
            continue;
        };
        let owner = d
            .components
            .get(&component)
            .map(|c| format!("{}/{}", c.kind.to_lowercase(), c.workload))
            .unwrap_or_else(|| format!("pod/{}", pod.name_any()));
        for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            if let Some(claim) = &v.persistent_volume_claim {
                uses.insert(
                    claim.claim_name.clone(),
                    Use {
                        component: component.clone(),
                        owner: owner.clone(),
                        pod: Some(pod.name_any()),
                    },
                );
            }
        }
    }
    uses
}

/// Adds the claims the StatefulSets of `d` made from their templates and no pod mounts.
fn add_templated(
    d: &AirflowDeployment,
    inventory: &Inventory,
    claims: &[PersistentVolumeClaim],
    uses: &mut BTreeMap<String, Use>,
) {
    for sts in &inventory.statefulsets {
        let Some(component) = component_of(d, sts.meta()) else {
            continue;
        };
        let templates = sts
            .spec
            .iter()
            .flat_map(|s| s.volume_claim_templates.iter().flatten());
        for t in templates {
            let prefix = format!("{}-{}-", t.name_any(), sts.name_any());
            for claim in claims {
                let name = claim.name_any();
                let ordinal = name.strip_prefix(&prefix);
                if ordinal.is_some_and(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit())) {
                    uses.entry(name).or_insert_with(|| Use {
                        component: component.clone(),
                        owner: format!("statefulset/{}", sts.name_any()),
                        pod: None,
                    });
                }
            }
        }
    }
}

/// One claim as listed; the reclaim policy from its PV, when PVs could be read.
fn volume(claim: &PersistentVolumeClaim, using: Use, pvs: Option<&[PersistentVolume]>) -> Volume {
    let spec = claim.spec.clone().unwrap_or_default();
    let status = claim.status.clone().unwrap_or_default();
    let capacity = status
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .or_else(|| {
            spec.resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
        })
        .map_or_else(|| "-".to_string(), |q| q.0.clone());
    let volume = spec.volume_name.clone().filter(|v| !v.is_empty());
    let reclaim_policy = pvs.and_then(|pvs| {
        let pv = pvs.iter().find(|pv| Some(pv.name_any()) == volume)?;
        pv.spec.as_ref()?.persistent_volume_reclaim_policy.clone()
    });
    Volume {
        name: claim.name_any(),
        component: using.component,
        owner: using.owner,
        pod: using.pod,
        capacity,
        status: if claim.metadata.deletion_timestamp.is_some() {
            "Terminating".into()
        } else {
            status.phase.unwrap_or_else(|| "Pending".into())
        },
        storage_class: spec.storage_class_name.unwrap_or_else(|| "-".into()),
        volume,
        reclaim_policy,
        created: claim.metadata.creation_timestamp.as_ref().map(|t| t.0),
        usage: ClaimUsage::NotMounted,
    }
}

/// Each volume's usage from what the kubelets reported (pure).
pub fn add_usage(namespace: &str, volumes: &mut [Volume], usage: &Usage) {
    for v in volumes {
        v.usage = usage.of(namespace, &v.name, v.pod.as_deref());
    }
}

/// USED, CAPACITY, USE% and INODES% of a volume: the kubelet's figures when known, else why
/// not and the claim's capacity.
fn usage_cells(v: &Volume) -> [String; 4] {
    match v.usage.figures() {
        Some(f) => {
            let severity = |p: u64| {
                if p > volume_usage::NEARLY_FULL_PERCENT {
                    crate::paint::paint(&format!("{p}%"), crate::paint::Severity::Failing)
                } else {
                    format!("{p}%")
                }
            };
            [
                volume_usage::bytes(f.used_bytes),
                volume_usage::bytes(f.capacity_bytes),
                severity(f.used_percent),
                f.inodes_percent.map_or_else(|| "-".into(), severity),
            ]
        }
        None => [
            v.usage.unknown_cell().to_string(),
            v.capacity.clone(),
            "-".into(),
            "-".into(),
        ],
    }
}

/// The claims as a table, with a footnote on what the reclaim policies mean. The default
/// fits 120 columns with real names; `wide` adds the owner, storage class and volume.
pub fn render(
    d: &AirflowDeployment,
    volumes: &[Volume],
    pvs_read: bool,
    wide: bool,
    now: Timestamp,
) -> String {
    let mut headers = vec!["pvc", "component"];
    if wide {
        headers.extend(["owner", "pod"]);
    }
    headers.extend(["used", "capacity", "use%", "inodes%", "status"]);
    if wide {
        headers.push("storageclass");
    }
    headers.extend(["reclaim", "age"]);
    if wide {
        headers.push("volume");
    }
    let mut table = Table::new(&headers);
    for v in volumes {
        let mut cells = vec![v.name.clone(), v.component.clone()];
        if wide {
            cells.extend([v.owner.clone(), v.pod.clone().unwrap_or_else(|| "-".into())]);
        }
        let status = match v.status.as_str() {
            "Bound" => v.status.clone(),
            "Pending" | "Terminating" => {
                crate::paint::paint(&v.status, crate::paint::Severity::Waiting)
            }
            _ => crate::paint::paint(&v.status, crate::paint::Severity::Failing),
        };
        cells.extend(usage_cells(v));
        cells.push(status);
        if wide {
            cells.push(v.storage_class.clone());
        }
        cells.extend([
            v.reclaim_policy
                .clone()
                .unwrap_or_else(|| if pvs_read { "-" } else { "?" }.into()),
            shared::duration::age(v.created, now),
        ]);
        if wide {
            cells.push(v.volume.clone().unwrap_or_else(|| "-".into()));
        }
        table.row(cells);
    }
    let mut out = format!("Volumes of Airflow {} in {}\n\n", d.release, d.namespace);
    out.push_str(&table.render());
    if volumes
        .iter()
        .any(|v| v.reclaim_policy.as_deref() == Some("Delete"))
    {
        out.push_str(
            "\nReclaim Delete: deleting the claim deletes its volume and the data on it.\n",
        );
    }
    if !pvs_read {
        out.push_str("\nReclaim ?: PersistentVolumes could not be read with these credentials.\n");
    }
    if volumes.iter().any(|v| v.usage == ClaimUsage::Forbidden) {
        out.push_str(&format!(
            "\nUsed no nodes/proxy: {}.\n",
            volume_usage::FORBIDDEN_NOTE
        ));
    }
    if volumes.iter().any(|v| v.usage == ClaimUsage::NotMounted) {
        out.push_str("\nUsed -: no running pod mounts the claim, so no kubelet measures it.\n");
    }
    out
}

pub async fn run(global: &GlobalArgs, args: &VolumesArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (inventory, deployments) = discovery::load(&target, Some(&target.namespace)).await?;
    let d = discovery::select(
        &deployments,
        &target.namespace,
        args.release.as_deref(),
        &target.given_flags,
    )?;
    let claims = Api::<PersistentVolumeClaim>::namespaced(target.client.clone(), &d.namespace)
        .list(&ListParams::default())
        .await
        .map_err(|e| target.api_error(e))?;
    // PersistentVolumes are cluster-scoped: a namespace-bound user may not read them; the
    // listing still helps without the reclaim policy.
    let pvs = match Api::<PersistentVolume>::all(target.client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(list) => Some(list.items),
        Err(kube::Error::Api(e)) if e.code == 403 => None,
        Err(e) => return Err(target.api_error(e)),
    };
    let mut found = volumes(d, &inventory, &claims.items, pvs.as_deref());
    // The kubelets of the nodes running the pods that mount these claims, each asked once.
    let mounting = inventory.pods.iter().filter(|p| {
        found
            .iter()
            .any(|v| v.pod.as_deref() == p.metadata.name.as_deref())
    });
    let usage = volume_usage::fetch(&target.client, volume_usage::running_on_nodes(mounting)).await;
    add_usage(&d.namespace, &mut found, &usage);
    let text = match args.output {
        ListFormat::Json => output::to_json(&serde_json::json!({ "items": found }))?,
        ListFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": found }))?,
        ListFormat::Name => found
            .iter()
            .map(|v| format!("persistentvolumeclaim/{}\n", v.name))
            .collect(),
        _ if found.is_empty() => {
            eprintln!(
                "Airflow {} in {} has no PersistentVolumeClaims.",
                d.release, d.namespace
            );
            return Ok(());
        }
        format => render(
            d,
            &found,
            pvs.is_some(),
            format == ListFormat::Wide,
            Timestamp::now(),
        ),
    };
    output::print_stdout(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::group;
    use crate::discovery::tests::{pod, workload};
    use k8s_openapi::api::apps::v1::StatefulSet;
    use serde_json::json;

    const NS: &str = "astronomer-ee-lunar-nuclear-3725";
    const R: &str = "lunar-nuclear-3725";

    fn claim(name: &str, volume: &str, labels: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"storageClassName": "gp2", "volumeName": volume, "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}
        }))
        .unwrap()
    }

    fn pv(name: &str, policy: &str) -> PersistentVolume {
        serde_json::from_value(
            json!({"metadata": {"name": name}, "spec": {"persistentVolumeReclaimPolicy": policy}}),
        )
        .unwrap()
    }

    #[test]
    fn claims_are_found_by_mount_template_and_label() {
        let mut sts: StatefulSet = workload(NS, R, "worker", 2);
        sts.spec.as_mut().unwrap().volume_claim_templates = Some(vec![
            serde_json::from_value(json!({"metadata": {"name": "logs"}})).unwrap(),
        ]);
        let mut worker0 = pod(NS, R, "worker", "lunar-nuclear-3725-worker-0", true, None);
        worker0.spec = Some(
            serde_json::from_value(json!({"containers": [], "volumes": [
                {"name": "logs", "persistentVolumeClaim": {"claimName": "logs-lunar-nuclear-3725-worker-0"}}]}))
            .unwrap(),
        );
        let inventory = Inventory {
            daemonsets: vec![],
            deployments: vec![],
            statefulsets: vec![sts],
            pods: vec![worker0],
        };
        let d = group(&inventory).remove(0);
        let claims = [
            claim("logs-lunar-nuclear-3725-worker-0", "pv-0", json!({})),
            claim("logs-lunar-nuclear-3725-worker-1", "pv-1", json!({})),
            claim("logs-lunar-nuclear-3725-worker-old", "pv-x", json!({})),
            claim(
                "redis-db-lunar-nuclear-3725-redis-0",
                "pv-r",
                json!({"release": R, "component": "redis"}),
            ),
            claim("someone-elses", "pv-s", json!({"release": "other"})),
        ];
        let pvs = [pv("pv-0", "Delete"), pv("pv-1", "Retain")];
        let found = volumes(&d, &inventory, &claims, Some(&pvs));
        let names: Vec<(&str, &str, Option<&str>, Option<&str>)> = found
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.owner.as_str(),
                    v.pod.as_deref(),
                    v.reclaim_policy.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("redis-db-lunar-nuclear-3725-redis-0", "-", None, None),
                (
                    "logs-lunar-nuclear-3725-worker-0",
                    "statefulset/lunar-nuclear-3725-worker",
                    Some("lunar-nuclear-3725-worker-0"),
                    Some("Delete")
                ),
                (
                    "logs-lunar-nuclear-3725-worker-1",
                    "statefulset/lunar-nuclear-3725-worker",
                    None,
                    Some("Retain")
                ),
            ]
        );
        let text = render(
            &d,
            &found,
            false,
            false,
            "2026-11-24T10:00:00Z".parse().unwrap(),
        );
        assert!(
            text.contains("10Gi") && text.contains("Reclaim ?"),
            "{text}"
        );

        // With the kubelet's figures: used, capacity and percents; without the permission: why.
        let mut with_usage = found.clone();
        let summary: shared::volume_usage::Summary = serde_json::from_value(json!({"pods": [
            {"podRef": {"name": "lunar-nuclear-3725-worker-0", "namespace": NS},
             "volume": [{"name": "logs", "pvcRef": {"name": "logs-lunar-nuclear-3725-worker-0", "namespace": NS},
                         "capacityBytes": 10u64 << 30, "usedBytes": (96u64 << 30) / 10,
                         "inodes": 1000, "inodesUsed": 10}]}]}))
        .unwrap();
        let mut usage = Usage::default();
        usage.add_summary("n1", &summary);
        add_usage(NS, &mut with_usage, &usage);
        let text = render(
            &d,
            &with_usage,
            true,
            false,
            "2026-11-24T10:00:00Z".parse().unwrap(),
        );
        let row = text
            .lines()
            .find(|l| l.starts_with("logs-lunar-nuclear-3725-worker-0"))
            .unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[2..6], ["9.6Gi", "10Gi", "96%", "1%"], "{text}");
        with_usage[2].usage = ClaimUsage::Forbidden;
        let text = render(
            &d,
            &with_usage,
            true,
            false,
            "2026-11-24T10:00:00Z".parse().unwrap(),
        );
        let row = text
            .lines()
            .find(|l| l.starts_with("logs-lunar-nuclear-3725-worker-1"))
            .unwrap();
        assert!(
            row.contains(" no nodes/proxy ") && row.contains(" 10Gi "),
            "{text}"
        );
        assert!(text.contains("\nUsed no nodes/proxy: "), "{text}");
    }
}
