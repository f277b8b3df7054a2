//! `kubectl airflow diagnose [RELEASE]`: why pods do not run. For every Pending pod: the
//! scheduler's message, and node fit per node pool (the largest free and the largest
//! allocatable CPU and memory against the request). For every workload that cannot create its
//! pods: the ResourceQuota that refuses them and by how much. Ends with concrete advice.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Node, Pod, ResourceQuota, ResourceRequirements};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use shared::GlobalArgs;
use shared::output::{self, OutputFormat};
use shared::quantity;

use crate::ReleaseArgs;
use crate::discovery::{self, AirflowDeployment};
use crate::lean;

/// Node labels that name a pool, most specific first.
const POOL_LABELS: &[&str] = &[
    "agentpool",
    "eks.amazonaws.com/nodegroup",
    "cloud.google.com/gke-nodepool",
    "karpenter.sh/nodepool",
    "node.kubernetes.io/instance-type",
];

/// The capacity of one node pool, for fit checks.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    pub name: String,
    pub nodes: usize,
    /// Largest allocatable CPU (cores) and memory (bytes) of any schedulable node.
    pub max_allocatable_cpu: f64,
    pub max_allocatable_memory: f64,
    /// Largest free (allocatable minus requests of running pods) on any schedulable node.
    pub max_free_cpu: f64,
    pub max_free_memory: f64,
}

/// One thing that keeps the deployment from running, with advice.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub subject: String,
    pub problem: String,
    pub advice: Vec<String>,
}

fn requests(pod_spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> (f64, f64) {
    let Some(spec) = pod_spec else {
        return (0.0, 0.0);
    };
    sum_requests(spec.containers.iter().map(|c| c.resources.as_ref()))
}

/// CPU (cores) and memory (bytes) the containers request, summed.
fn sum_requests<'a>(
    containers: impl Iterator<Item = Option<&'a ResourceRequirements>>,
) -> (f64, f64) {
    containers.fold((0.0, 0.0), |(cpu, mem), resources| {
        let r = resources.and_then(|r| r.requests.as_ref());
        let get = |k: &str| {
            r.and_then(|r| r.get(k))
                .and_then(|q| quantity::parse(&q.0))
                .unwrap_or(0.0)
        };
        (cpu + get("cpu"), mem + get("memory"))
    })
}

/// What the per-node totals read of a pod: decoded from the list instead of a whole `Pod`, so
/// a cluster's pods cost memory in proportion to these few fields (354 MB at 30,000 pods as
/// whole objects).
#[derive(Deserialize)]
pub(crate) struct UsagePod {
    spec: Option<UsageSpec>,
    status: Option<UsageStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageSpec {
    node_name: Option<String>,
    #[serde(default)]
    containers: Vec<UsageContainer>,
}

#[derive(Deserialize)]
struct UsageContainer {
    resources: Option<ResourceRequirements>,
}

#[derive(Deserialize)]
struct UsageStatus {
    phase: Option<String>,
}

fn pool_of(node: &Node) -> String {
    let labels = node.labels();
    POOL_LABELS
        .iter()
        .find_map(|k| labels.get(*k).cloned())
        .unwrap_or_else(|| "(no pool label)".to_string())
}

/// CPU (cores) and memory (bytes) requested by the running pods of each node, by node name.
pub type NodeUsage = BTreeMap<String, (f64, f64)>;

/// Adds the requests of `pods` (a page of the cluster's) to their nodes' usage.
fn add_usage(used: &mut NodeUsage, pods: &[UsagePod]) {
    for p in pods {
        let phase = p
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("");
        if matches!(phase, "Succeeded" | "Failed") {
            continue;
        }
        if let Some(spec) = &p.spec
            && let Some(node) = &spec.node_name
        {
            let (cpu, mem) = sum_requests(spec.containers.iter().map(|c| c.resources.as_ref()));
            let e = used.entry(node.clone()).or_default();
            e.0 += cpu;
            e.1 += mem;
        }
    }
}

/// Node pools with their largest free and allocatable capacity (pure).
pub fn pools(nodes: &[Node], used: &NodeUsage) -> Vec<Pool> {
    let mut out: BTreeMap<String, Pool> = BTreeMap::new();
    for n in nodes {
        let schedulable = !n
            .spec
            .as_ref()
            .and_then(|s| s.unschedulable)
            .unwrap_or(false)
            && !n
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_some_and(|t| t.iter().any(|t| t.effect == "NoSchedule"));
        let name = pool_of(n);
        let pool = out.entry(name.clone()).or_insert(Pool {
            name,
            nodes: 0,
            max_allocatable_cpu: 0.0,
            max_allocatable_memory: 0.0,
            max_free_cpu: 0.0,
            max_free_memory: 0.0,
        });
        pool.nodes += 1;
        if !schedulable {
            continue;
        }
        let alloc = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
        let get = |k: &str| {
            alloc
                .and_then(|a| a.get(k))
                .and_then(|q| quantity::parse(&q.0))
                .unwrap_or(0.0)
        };
        let (cpu, mem) = (get("cpu"), get("memory"));
        let (ucpu, umem) = used.get(&n.name_any()).copied().unwrap_or_default();
        pool.max_allocatable_cpu = pool.max_allocatable_cpu.max(cpu);
        pool.max_allocatable_memory = pool.max_allocatable_memory.max(mem);
        pool.max_free_cpu = pool.max_free_cpu.max(cpu - ucpu);
        pool.max_free_memory = pool.max_free_memory.max(mem - umem);
    }
    out.into_values().collect()
}

fn cpu(v: f64) -> String {
    quantity::format("cpu", v)
}

fn mem(v: f64) -> String {
    quantity::format("memory", (v / 1_048_576.0).round() * 1_048_576.0)
}

/// Advice for a pod that requests `cpu_req` cores and `mem_req` bytes (pure).
pub fn node_fit_advice(cpu_req: f64, mem_req: f64, pools: &[Pool]) -> Vec<String> {
    let fits_alloc: Vec<&Pool> = pools
        .iter()
        .filter(|p| p.max_allocatable_cpu >= cpu_req && p.max_allocatable_memory >= mem_req)
        .collect();
    let fits_free: Vec<&Pool> = pools
        .iter()
        .filter(|p| p.max_free_cpu >= cpu_req && p.max_free_memory >= mem_req)
        .collect();
    let largest = pools
        .iter()
        .max_by(|a, b| a.max_allocatable_cpu.total_cmp(&b.max_allocatable_cpu));
    let mut advice = Vec::new();
    if fits_alloc.is_empty() {
        let biggest = largest
            .map(|p| {
                format!(
                    "{} CPU / {} on pool {}",
                    cpu(p.max_allocatable_cpu),
                    mem(p.max_allocatable_memory),
                    p.name
                )
            })
            .unwrap_or_else(|| "no schedulable node".into());
        advice.push(format!(
            "no node is big enough: the pod requests {} CPU and {} memory, the largest node offers {biggest}; it needs a node with at least {} CPU and {} memory, or a smaller request",
            cpu(cpu_req),
            mem(mem_req),
            cpu(cpu_req),
            mem(mem_req)
        ));
    } else if fits_free.is_empty() {
        let names: Vec<&str> = fits_alloc.iter().map(|p| p.name.as_str()).collect();
        advice.push(format!("nodes of pool {} are big enough but none has {} CPU and {} memory free now: add a node to that pool or free capacity", names.join(", "), cpu(cpu_req), mem(mem_req)));
    } else {
        let names: Vec<&str> = fits_free.iter().map(|p| p.name.as_str()).collect();
        advice.push(format!("it fits on pool {} now: check its taints, nodeSelector and affinity against the scheduler's message", names.join(", ")));
        if fits_free.len() == 1 {
            advice.push(format!("only pool {} can fit it", names[0]));
        }
    }
    advice
}

/// One resource of a quota refusal, in base units.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaLine {
    pub resource: String,
    pub requested: f64,
    pub used: f64,
    pub limited: f64,
}

/// Parses the API server's quota refusal: `exceeded quota: Q, requested: k=v,…, used: k=v,…, limited: k=v,…`.
pub fn parse_quota_message(message: &str) -> Option<(String, Vec<QuotaLine>)> {
    let rest = &message[message.find("exceeded quota: ")? + "exceeded quota: ".len()..];
    let (name, rest) = rest.split_once(", requested: ")?;
    let (requested, rest) = rest.split_once(", used: ")?;
    let (used, limited) = rest.split_once(", limited: ")?;
    let map = |s: &str| -> BTreeMap<String, f64> {
        s.split(',')
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| quantity::parse(v.trim()).map(|v| (k.trim().to_string(), v)))
            .collect()
    };
    let (req, used, lim) = (map(requested), map(used), map(limited));
    let rows = req
        .iter()
        .map(|(k, r)| QuotaLine {
            resource: k.clone(),
            requested: *r,
            used: used.get(k).copied().unwrap_or(0.0),
            limited: lim.get(k).copied().unwrap_or(0.0),
        })
        .collect();
    Some((name.to_string(), rows))
}

/// Everything found (pure): Pending pods, quota refusals.
pub fn findings(
    d: &AirflowDeployment,
    release_pods: &[Pod],
    failed_creates: &[Event],
    pools: &[Pool],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for pod in release_pods {
        let (status, reason) = discovery::pod_status(pod);
        if status != "Pending"
            || pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_ref())
                .is_some()
        {
            continue;
        }
        let (cpu_req, mem_req) = requests(pod.spec.as_ref());
        out.push(Finding {
            subject: format!("pod {}", pod.name_any()),
            problem: reason.unwrap_or_else(|| "Pending, not scheduled yet".into()),
            advice: node_fit_advice(cpu_req, mem_req, pools),
        });
    }
    let workloads: Vec<&str> = d.components.values().map(|c| c.workload.as_str()).collect();
    let mut seen = Vec::new();
    for ev in failed_creates {
        let name = ev.involved_object.name.clone().unwrap_or_default();
        let message = ev.message.clone().unwrap_or_default();
        if !workloads.contains(&name.as_str()) || seen.contains(&(name.clone(), message.clone())) {
            continue;
        }
        seen.push((name.clone(), message.clone()));
        let mut advice = Vec::new();
        if let Some((quota, rows)) = parse_quota_message(&message) {
            for QuotaLine {
                resource: key,
                requested,
                used,
                limited,
            } in rows
            {
                let short = used + requested - limited;
                if short > 0.0 {
                    advice.push(format!(
                        "raise quota {quota} {key} by at least {} (from {} to {}), or lower the request ({} per pod)",
                        quantity::format(&key, short),
                        quantity::format(&key, limited),
                        quantity::format(&key, limited + short),
                        quantity::format(&key, requested)
                    ));
                }
            }
        }
        out.push(Finding {
            subject: format!(
                "{} {name}",
                ev.involved_object.kind.clone().unwrap_or_default()
            ),
            problem: message.trim_start_matches("Error creating: ").to_string(),
            advice,
        });
    }
    out
}

fn render(d: &AirflowDeployment, findings: &[Finding], quotas: &[ResourceQuota]) -> String {
    let mut out = format!("Diagnosis of Airflow {} in {}\n", d.release, d.namespace);
    for q in quotas {
        let status = q.status.clone().unwrap_or_default();
        let hard = status.hard.unwrap_or_default();
        let used = status.used.unwrap_or_default();
        let items: Vec<String> = hard
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}/{}",
                    used.get(k).map(|u| u.0.as_str()).unwrap_or("0"),
                    v.0
                )
            })
            .collect();
        out.push_str(&format!("Quota {}: {}\n", q.name_any(), items.join(", ")));
    }
    if findings.is_empty() {
        out.push_str("No Pending pods and no refused pod creations.\n");
    }
    for f in findings {
        out.push_str(&format!("\n{}\n  problem: {}\n", f.subject, f.problem));
        for a in &f.advice {
            out.push_str(&format!("  advice:  {a}\n"));
        }
    }
    out
}

pub async fn run(global: &GlobalArgs, args: &ReleaseArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let ns = target.namespace.clone();
    let (inventory, deployments) = discovery::load(&target, Some(&ns)).await?;
    let deployment = discovery::select(
        &deployments,
        &ns,
        args.release.as_deref(),
        &target.given_flags,
    )?;
    let client = target.client.clone();
    let (events_api, quotas_api) = (
        Api::<Event>::namespaced(client.clone(), &ns),
        Api::<ResourceQuota>::namespaced(client.clone(), &ns),
    );
    let (nodes_api, pods_api) = (Api::<Node>::all(client.clone()), Api::<Pod>::all(client));
    let failed_creates = ListParams::default().fields("reason=FailedCreate");
    let everything = ListParams::default();
    let active = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
    // The cluster's pods in one request (paging costs a request per 500 pods), each decoded
    // into the few fields the per-node totals read.
    let (events, quotas, nodes, usage_pods) = tokio::try_join!(
        events_api.list(&failed_creates),
        quotas_api.list(&everything),
        nodes_api.list(&everything),
        lean::list::<_, UsagePod>(&target.client, &pods_api, &active),
    )
    .map_err(|e| target.api_error(e))?;
    let mut used = NodeUsage::new();
    add_usage(&mut used, &usage_pods);
    drop(usage_pods);
    let release_pods: Vec<Pod> = inventory
        .pods
        .into_iter()
        .filter(|p| p.labels().get("release") == Some(&deployment.release))
        .collect();
    let pools = pools(&nodes.items, &used);
    let found = findings(deployment, &release_pods, &events.items, &pools);
    let report = serde_json::json!({"namespace": ns, "release": deployment.release, "findings": found, "pools": pools});
    let text = match OutputFormat::from(args.output) {
        OutputFormat::Json => output::to_json(&report)?,
        OutputFormat::Yaml => output::to_yaml(&report)?,
        _ => render(deployment, &found, &quotas.items),
    };
    output::print_stdout(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, alloc_cpu: f64, free_cpu: f64) -> Pool {
        Pool {
            name: name.into(),
            nodes: 3,
            max_allocatable_cpu: alloc_cpu,
            max_allocatable_memory: 16e9,
            max_free_cpu: free_cpu,
            max_free_memory: 8e9,
        }
    }

    #[test]
    fn the_runbooks_three_cpu_pod_on_two_cpu_nodes() {
        let advice = node_fit_advice(3.0, 1e9, &[pool("small", 2.0, 1.5)]);
        assert!(
            advice[0].starts_with("no node is big enough: the pod requests 3 CPU"),
            "{advice:?}"
        );
        assert!(
            advice[0].contains("the largest node offers 2 CPU")
                && advice[0].contains("at least 3 CPU"),
            "{advice:?}"
        );
        let advice = node_fit_advice(3.0, 1e9, &[pool("small", 2.0, 1.5), pool("big", 8.0, 4.0)]);
        assert_eq!(
            advice,
            [
                "it fits on pool big now: check its taints, nodeSelector and affinity against the scheduler's message",
                "only pool big can fit it"
            ]
        );
        let busy = node_fit_advice(3.0, 1e9, &[pool("big", 8.0, 1.0)]);
        assert!(
            busy[0].contains("pool big are big enough but none has 3 CPU"),
            "{busy:?}"
        );
    }

    #[test]
    fn quota_messages_parse_into_shortfalls() {
        let msg = "Error creating: pods \"w-4\" is forbidden: exceeded quota: zq, requested: requests.cpu=1,pods=1, used: requests.cpu=12,pods=11, limited: requests.cpu=12,pods=12";
        let (name, rows) = parse_quota_message(msg).unwrap();
        assert_eq!(name, "zq");
        let line = |resource: &str, requested, used, limited| QuotaLine {
            resource: resource.into(),
            requested,
            used,
            limited,
        };
        assert_eq!(
            rows,
            [
                line("pods", 1.0, 11.0, 12.0),
                line("requests.cpu", 1.0, 12.0, 12.0)
            ]
        );
        assert!(parse_quota_message("something else").is_none());
    }
}
