//! `kubectl nodeevict NODE... | -l SELECTOR`: plan every node, stop on any blocker before the
//! first change, confirm, then drain one node at a time — the next is cordoned only once every
//! workload the previous one moved is back to its desired Ready count.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use shared::doctor::Permission;
use shared::output::{self, OutputFormat};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::execute::{self, Ctx};
use crate::journal::Options;
use crate::plan;
use crate::world;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrescaleMode {
    /// Add replicas to Deployments that would go down or break their budget
    Auto,
    /// Never pre-scale
    Off,
}

#[derive(Args, Debug, Clone)]
pub struct DrainArgs {
    /// The nodes to empty, one after the other
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,
    /// Select the nodes by label instead (e.g. agentpool=common)
    #[arg(short = 'l', long, conflicts_with = "nodes")]
    pub selector: Option<String>,
    /// Pre-scale Deployments whose only Ready replicas are on the node or whose budget would refuse
    #[arg(long, value_enum, default_value_t = PrescaleMode::Auto)]
    pub prescale: PrescaleMode,
    /// Evict pods with emptyDir volumes (their data is lost)
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Proceed past blockers: unmanaged pods are deleted for good, StatefulSet pods past their budget
    #[arg(long)]
    pub force: bool,
    /// Delete pods instead of evicting them (PodDisruptionBudgets are bypassed)
    #[arg(long)]
    pub disable_eviction: bool,
    /// Grace period for each pod, in seconds (default: the pod's own)
    #[arg(long, value_name = "SECONDS")]
    pub grace_period: Option<i64>,
    /// How long one pod may take to go after its eviction
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = shared::duration::parse)]
    pub pod_timeout: Duration,
    /// Evictions in flight at once
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Output format of the plan: table or json
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

impl DrainArgs {
    pub fn options(&self) -> Options {
        Options {
            force: self.force,
            delete_emptydir_data: self.delete_emptydir_data,
            disable_eviction: self.disable_eviction,
            grace_period: self.grace_period,
            prescale: self.prescale == PrescaleMode::Auto,
        }
    }
}

/// The nodes named, or selected by label (sorted), or a one-line error.
async fn resolve_nodes(target: &shared::Target, args: &DrainArgs) -> shared::Result<Vec<String>> {
    let api: Api<Node> = Api::all(target.client.clone());
    match &args.selector {
        Some(selector) => {
            let mut names: Vec<String> = api
                .list(&ListParams::default().labels(selector))
                .await
                .map_err(|e| target.api_error(e))?
                .items
                .iter()
                .map(|n| n.name_any())
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(Error::Failed(format!("no node matches -l {selector}")));
            }
            Ok(names)
        }
        None => {
            for name in &args.nodes {
                if api
                    .get_opt(name)
                    .await
                    .map_err(|e| target.api_error(e))?
                    .is_none()
                {
                    return Err(Error::Failed(format!(
                        "node {name:?} not found: list them with `kubectl get nodes`"
                    )));
                }
            }
            Ok(args.nodes.clone())
        }
    }
}

pub async fn run(global: &GlobalArgs, args: &DrainArgs) -> shared::Result<()> {
    if args.nodes.is_empty() && args.selector.is_none() {
        return Err(Error::Usage(
            "name the nodes to drain, or select them with -l".into(),
        ));
    }
    if !matches!(args.output, OutputFormat::Table | OutputFormat::Json) {
        return Err(Error::Usage("the plan prints as -o table or json".into()));
    }
    let target = shared::kubeconfig::connect(global).await?;
    let nodes = resolve_nodes(&target, args).await?;
    let options = args.options();
    let world = world::read(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    let plans: Vec<plan::NodePlan> = nodes
        .iter()
        .map(|n| plan::plan(&world, n, &nodes, &options))
        .collect();
    shared::banner::print(&target);
    match args.output {
        OutputFormat::Json => {
            output::print_stdout(&output::to_json(&serde_json::json!({ "items": plans }))?)
        }
        _ => {
            for p in &plans {
                eprint!("{}", plan::render(p));
            }
        }
    }
    let blockers: Vec<&String> = plans.iter().flat_map(|p| &p.blockers).collect();
    if let Some(first) = blockers.first() {
        return Err(Error::Failed(format!(
            "{} blocker(s), nothing was changed; first: {first}",
            blockers.len()
        )));
    }
    shared::doctor::preflight_namespaces(
        &target,
        &needed_permissions(&plans),
        "kubectl nodeevict doctor",
        args.change.dry_run,
    )
    .await?;
    if args.change.dry_run {
        eprintln!("dry run: nothing was changed");
        return Ok(());
    }
    shared::confirm::confirm(&format!("Drain {}?", nodes.join(", ")), args.change.yes)?;
    let ctx = Ctx {
        target: &target,
        deadline: Instant::now() + args.change.timeout,
        pod_timeout: args.pod_timeout,
        concurrency: args.concurrency,
    };
    for (i, node) in nodes.iter().enumerate() {
        // After the first node, pods have moved: plan this one afresh.
        let plan = if i == 0 {
            plans[0].clone()
        } else {
            let world = world::read(&target.client)
                .await
                .map_err(|e| target.api_error(e))?;
            let fresh = plan::plan(&world, node, &nodes[i..], &options);
            if let Some(b) = fresh.blockers.first() {
                return Err(Error::Failed(format!("stopped before {node}: {b}")));
            }
            fresh
        };
        let was_unschedulable = world
            .nodes
            .iter()
            .find(|n| &n.name_any() == node)
            .and_then(|n| n.spec.as_ref()?.unschedulable)
            .unwrap_or(false);
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let mut journal = execute::journal_from_plan(&plan, &options, was_unschedulable, &now);
        execute::save(&ctx, node, &journal, true).await?;
        eprintln!("cordoned {node}");
        execute::run_node(&ctx, node, &mut journal, &plan)
            .await
            .map_err(|e| with_hint(e, node))?;
        if i + 1 < nodes.len() {
            execute::settle(&ctx, &journal.touched).await?;
            eprintln!(
                "workloads moved off {node} are Ready again: {}",
                journal
                    .touched
                    .iter()
                    .map(|w| format!("{}/{}", w.namespace, w.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

/// The writes the drains will make, per namespace ("" for the cluster-scoped ones), checked
/// before the first one.
pub fn needed_permissions(plans: &[plan::NodePlan]) -> BTreeMap<String, Vec<Permission>> {
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
        }
        for scale in &p.prescale {
            let list = needs.entry(scale.namespace.clone()).or_default();
            list.push(Permission::new(
                "patch",
                "apps",
                "deployments",
                Namespace,
                "pre-scale and record the original replicas",
            ));
            if scale.hpa.is_some() {
                list.push(Permission::new(
                    "patch",
                    "autoscaling",
                    "horizontalpodautoscalers",
                    Namespace,
                    "raise the autoscaler's minReplicas",
                ));
            }
        }
    }
    for list in needs.values_mut() {
        list.sort_by_key(|p| (p.verb, p.group, p.resource, p.subresource));
        list.dedup_by_key(|p| (p.verb, p.group, p.resource, p.subresource));
    }
    needs
}

pub fn with_hint(e: Error, node: &str) -> Error {
    e.with_hint(&format!("; {}", resume_hint(node)))
}

/// How to finish or undo a drain recorded on `node`.
pub fn resume_hint(node: &str) -> String {
    format!(
        "the drain is recorded on node {node}: `kubectl nodeevict resume {node}` finishes it, `kubectl nodeevict abort {node}` undoes it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use plan::{Capacity, NodePlan, PodPlan, PrescalePlan, Verdict};

    fn pod(namespace: &str, verdict: Verdict) -> PodPlan {
        PodPlan {
            namespace: namespace.into(),
            name: "p".into(),
            uid: "u".into(),
            owner: "-".into(),
            verdict,
            reason: String::new(),
        }
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
            }],
            capacity: Capacity {
                fits: true,
                detail: String::new(),
            },
            blockers: Vec::new(),
            warnings: Vec::new(),
        };
        let needs = needed_permissions(&[plan]);
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
    }
}
