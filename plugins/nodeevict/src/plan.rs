//! The drain plan (pure): a verdict for every pod on the node — each decided by a small named
//! filter, as in kubectl's `pkg/drain` — the pre-scale steps, whether the evicted pods fit on
//! the remaining nodes, and the blockers that stop everything before the first change.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::ResourceExt;
use serde::Serialize;

use crate::journal::Options;
use crate::world::{Index, PodSummary, World};

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

/// Why a pod is [`Verdict::Blocked`]: what `resume` decides on (the reason text is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockReason {
    /// Nothing recreates it; `--force` deletes it for good.
    Unmanaged,
    /// Its emptyDir data would be lost; `--delete-emptydir-data` allows it.
    EmptyDir,
    /// Annotated safe-to-evict=false / do-not-disrupt.
    DoNotDisrupt,
    /// Two or more budgets select it: the Eviction API refuses it outright.
    TwoBudgets,
    /// Its PodDisruptionBudget allows fewer disruptions than the node needs: the Eviction API
    /// itself enforces it, so a drain under way evicts with back-off.
    Budget,
    /// Every Ready replica of a workload that cannot surge is on the node.
    SoleReplicas,
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
    /// Set exactly when `verdict` is [`Verdict::Blocked`].
    #[serde(skip)]
    pub blocked_by: Option<BlockReason>,
    /// `spec.priority` (0 when unset).
    pub priority: i32,
    /// System-critical (system-cluster-critical, system-node-critical): evicted last.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub system_critical: bool,
    /// The wave of evictions it goes in, from 1 (lowest priority first); 0 for a pod left on
    /// the node.
    #[serde(skip_serializing_if = "is_zero")]
    pub wave: usize,
    /// Its `terminationGracePeriodSeconds`.
    #[serde(skip)]
    pub grace_period_seconds: i64,
    /// Evicted under `--force-after` although its budget is expected to refuse: without the
    /// deadline it would be blocked ([`BlockReason::Budget`]).
    #[serde(skip)]
    pub budget_refuses: bool,
    /// With a deadline, for an evicted pod: when a budget still refusing it makes it a deletion
    /// (crate::deadline).
    #[serde(skip)]
    pub at_deadline: Option<crate::deadline::AtDeadline>,
    /// When it is deleted if its budget still refuses it (RFC 3339): set on the pods expected to
    /// be refused ([`PodPlan::budget_refuses`]), for the plan's reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_deletion: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl PodPlan {
    /// A pod of the plan with everything else at rest, for the unit tests.
    #[cfg(test)]
    pub fn for_test(namespace: &str, name: &str, owner: &str, verdict: Verdict) -> PodPlan {
        PodPlan {
            namespace: namespace.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            owner: owner.into(),
            verdict,
            reason: String::new(),
            blocked_by: None,
            grace_period_seconds: 30,
            budget_refuses: false,
            at_deadline: None,
            deadline_deletion: None,
            priority: 0,
            system_critical: false,
            wave: 0,
        }
    }

    fn block(&mut self, why: BlockReason, reason: String) {
        self.verdict = Verdict::Blocked;
        self.blocked_by = Some(why);
        self.reason = reason;
    }

    fn moves(&self) -> bool {
        matches!(self.verdict, Verdict::Evict | Verdict::Delete) && self.owner != "-"
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
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
    /// The HPA's maxReplicas before, when it is below `to` and must be raised as well
    /// (minReplicas > maxReplicas is refused with a 422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa_max: Option<i32>,
    /// The KEDA ScaledObject raised instead of an HPA: KEDA owns its HPA and resets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaled_object: Option<String>,
    /// The ScaledObject's minReplicaCount before (`None`: unset, KEDA's 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub so_min: Option<i32>,
    /// Its maxReplicaCount before (100 when unset), when it is below `to` and must be raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub so_max: Option<i32>,
    pub why: String,
    /// A GitOps tool or an operator that sets the Deployment's replicas (shared::manager).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<shared::manager::Manager>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    pub fits: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
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
    /// Seconds after its deletion a pod counts as gone (`--skip-wait-for-delete-timeout`, or
    /// the NotReady default); `None` waits for every pod to finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_wait_for_delete: Option<u64>,
    /// How many of the blockers are pre-scales refused for their manager (without
    /// --ignore-gitops): when they are all, the drain is refused (exit 3), not failed.
    #[serde(skip)]
    pub managed_blockers: usize,
    /// `--force-after`'s deadline (RFC 3339): from now in a plan, from the journal once the
    /// drain has started (crate::deadline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// `--force-after` as given (`10m`), with the deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_after: Option<String>,
}

// ---- filters: each decides one kind of pod, or passes (None) ----

/// What a filter decides: the verdict, why it is blocked (for [`Verdict::Blocked`]), the text.
pub type Decision = (Verdict, Option<BlockReason>, String);

pub fn daemonset_filter(pod: &PodSummary) -> Option<Decision> {
    matches!(pod.controller(), Some(("DaemonSet", _)))
        .then(|| (Verdict::Skip, None, "DaemonSet pod".into()))
}

pub fn mirror_filter(pod: &PodSummary) -> Option<Decision> {
    pod.mirror
        .then(|| (Verdict::Skip, None, "mirror (static) pod".into()))
}

pub fn finished_filter(pod: &PodSummary) -> Option<Decision> {
    pod.finished()
        .then(|| (Verdict::Skip, None, "already finished".into()))
}

pub fn unmanaged_filter(pod: &PodSummary, options: &Options) -> Option<Decision> {
    if pod.controller.is_some() {
        return None;
    }
    Some(if options.force {
        (
            Verdict::Delete,
            None,
            "unmanaged pod: deleted and NOT recreated anywhere (--force)".into(),
        )
    } else {
        (
            Verdict::Blocked,
            Some(BlockReason::Unmanaged),
            "unmanaged pod: nothing recreates it; --force deletes it for good".into(),
        )
    })
}

pub fn emptydir_filter(pod: &PodSummary, options: &Options) -> Option<Decision> {
    (pod.has_emptydir && !options.delete_emptydir_data).then(|| {
        (
            Verdict::Blocked,
            Some(BlockReason::EmptyDir),
            "emptyDir data would be lost: --delete-emptydir-data allows it".into(),
        )
    })
}

pub fn do_not_disrupt_filter(pod: &PodSummary, options: &Options) -> Option<Decision> {
    (pod.do_not_disrupt && !options.force).then(|| {
        (
            Verdict::Blocked,
            Some(BlockReason::DoNotDisrupt),
            "annotated not to be disrupted (safe-to-evict=false / do-not-disrupt); --force evicts it anyway".into(),
        )
    })
}

/// Pods a drain leaves on the node: DaemonSet, mirror and finished pods.
pub fn stays(pod: &PodSummary) -> bool {
    daemonset_filter(pod)
        .or_else(|| mirror_filter(pod))
        .or_else(|| finished_filter(pod))
        .is_some()
}

/// The verdict of the pod-level filters (budgets and surge are decided per owner after).
pub fn pod_verdict(pod: &PodSummary, options: &Options) -> Decision {
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
                    None,
                    "deleted (--disable-eviction: budgets bypassed)".into(),
                )
            } else {
                (Verdict::Evict, None, "evict".into())
            }
        })
}

// ---- helpers ----

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
fn could_run(pod: &PodSummary, node: &Node) -> bool {
    let labels = node.labels();
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    let taints_ok = node
        .spec
        .iter()
        .flat_map(|s| s.taints.iter().flatten())
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .all(|t| {
            pod.tolerations.iter().any(|tol| {
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

/// Places the pods (largest first) on the free allocatable of the remaining schedulable nodes,
/// each node's requests summed once by the index.
fn capacity(index: &Index<'_>, draining: &[String], movers: &[&PodSummary]) -> Capacity {
    let mut free: Vec<(&Node, f64, f64)> = index
        .world()
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
            let (used_cpu, used_mem) = index.requested_on(&n.name_any());
            (n, cpu - used_cpu, memory - used_mem)
        })
        .collect();
    let mut sorted: Vec<&PodSummary> = movers.to_vec();
    sorted.sort_by(|a, b| b.requests.0.total_cmp(&a.requests.0));
    let (mut total_cpu, mut total_mem) = (0.0, 0.0);
    for pod in sorted {
        let (cpu, memory) = pod.requests;
        total_cpu += cpu;
        total_mem += memory;
        let slot = free
            .iter_mut()
            .filter(|(n, c, m)| *c >= cpu && *m >= memory && could_run(pod, n))
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
                        pod.namespace,
                        pod.name,
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

/// Every budget whose selector picks the pod (the eviction API supports one).
pub fn pdbs_for<'a>(world: &'a World, pod: &PodSummary) -> Vec<&'a PodDisruptionBudget> {
    world
        .pdbs
        .iter()
        .filter(|pdb| {
            pdb.metadata.namespace.as_deref() == Some(pod.namespace.as_str())
                && shared::selector::budget_matches(
                    pdb.spec.as_ref().and_then(|s| s.selector.as_ref()),
                    &pod.labels,
                )
        })
        .collect()
}

/// A budget's numbers, as its status has them.
struct Budget {
    name: String,
    allowed: i32,
    desired: i32,
    current: i32,
    always_allow: bool,
}

impl Budget {
    fn of(pdb: &PodDisruptionBudget) -> Budget {
        let st = pdb.status.clone().unwrap_or_default();
        Budget {
            name: pdb.name_any(),
            allowed: st.disruptions_allowed,
            desired: st.desired_healthy,
            current: st.current_healthy,
            always_allow: pdb
                .spec
                .as_ref()
                .and_then(|s| s.unhealthy_pod_eviction_policy.as_deref())
                == Some("AlwaysAllow"),
        }
    }

    /// Whether a pod that is not Ready is evicted without using a disruption, as
    /// pkg/registry/core/pod/storage/eviction.go decides: always under
    /// `unhealthyPodEvictionPolicy: AlwaysAllow`, else (IfHealthyBudget, the default) when the
    /// budget is met — currentHealthy >= desiredHealthy > 0.
    fn unhealthy_pods_go_free(&self) -> bool {
        self.always_allow || (self.current >= self.desired && self.desired > 0)
    }

    fn describe(&self) -> String {
        format!(
            "PDB {} allows {} — needs {} healthy, has {}",
            self.name,
            shared::plural::count(self.allowed.max(0) as usize, "disruption"),
            self.desired,
            self.current
        )
    }
}

/// A pod under two or more budgets cannot be evicted at all: the API answers 500 ("This pod
/// has more than one PodDisruptionBudget, which the eviction subresource does not support."),
/// and retrying changes nothing. Blocked before the first change, naming the budgets; only a
/// delete (--disable-eviction) bypasses them, as with kubectl drain.
fn two_budgets(world: &World, pods: &[&PodSummary], plans: &mut [PodPlan]) {
    for (pod, plan) in pods.iter().zip(plans.iter_mut()) {
        if plan.verdict != Verdict::Evict {
            continue;
        }
        let budgets = pdbs_for(world, pod);
        if budgets.len() > 1 {
            let names: Vec<String> = budgets.iter().map(|b| b.name_any()).collect();
            plan.block(
                BlockReason::TwoBudgets,
                format!(
                    "{} PodDisruptionBudgets select it ({}): the eviction API refuses a pod with more than one; fix the budgets, or --disable-eviction deletes it past them",
                    names.len(),
                    names.join(", ")
                ),
            );
        }
    }
}

/// The ScaledObject that KEDA scales `Deployment namespace/name` with, if any.
fn scaled_object_of<'a>(
    world: &'a World,
    namespace: &str,
    name: &str,
) -> Option<&'a kube::api::DynamicObject> {
    world.scaled_objects.iter().find(|so| {
        let target = &so.data["spec"]["scaleTargetRef"];
        so.namespace().as_deref() == Some(namespace)
            && target["name"].as_str() == Some(name)
            && target["kind"].as_str().is_none_or(|k| k == "Deployment")
    })
}

/// How a Deployment goes from `from` to `to` replicas: through the ScaledObject when KEDA
/// scales it (never the HPA KEDA owns: KEDA resets it on its next reconcile), else through
/// its HPA's minReplicas (and maxReplicas, when below `to`), else directly.
fn prescale_plan(
    world: &World,
    namespace: &str,
    name: &str,
    from: i32,
    to: i32,
    why: String,
) -> PrescalePlan {
    let mut plan = PrescalePlan {
        namespace: namespace.to_string(),
        name: name.to_string(),
        from,
        to,
        why,
        ..Default::default()
    };
    if let Some(so) = scaled_object_of(world, namespace, name) {
        let spec = &so.data["spec"];
        let count = |key: &str| spec[key].as_i64().and_then(|v| i32::try_from(v).ok());
        plan.scaled_object = Some(so.name_any());
        plan.so_min = count("minReplicaCount");
        let max = count("maxReplicaCount").unwrap_or(100);
        plan.so_max = (max < to).then_some(max);
        return plan;
    }
    let hpa = world.hpas.iter().find(|h| {
        h.namespace().as_deref() == Some(namespace)
            && !matches!(
                shared::owner::controller_kind_name(&h.metadata),
                Some(("ScaledObject", _))
            )
            && h.spec.as_ref().is_some_and(|s| {
                s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == name
            })
    });
    if let Some(h) = hpa {
        let spec = h.spec.as_ref();
        plan.hpa = Some(h.name_any());
        plan.hpa_min = spec.and_then(|s| s.min_replicas);
        let max = spec.map_or(to, |s| s.max_replicas);
        plan.hpa_max = (max < to).then_some(max);
    }
    plan
}

/// The pods on the node, sorted, each with its pod-level verdict.
fn pod_plans<'a>(
    index: &Index<'a>,
    node: &str,
    options: &Options,
) -> (Vec<&'a PodSummary>, Vec<PodPlan>) {
    let selector = options.pod_selector.as_deref();
    let mut pods: Vec<&PodSummary> = index
        .pods_on(node)
        .iter()
        .copied()
        .filter(|p| index.world().in_scope(p, selector))
        .collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let plans = pods
        .iter()
        .map(|p| {
            let (verdict, blocked_by, reason) = pod_verdict(p, options);
            PodPlan {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                uid: p.uid.clone(),
                owner: index
                    .workload_of(p)
                    .map_or_else(|| "-".into(), |(k, n)| format!("{k}/{n}")),
                verdict,
                reason,
                blocked_by,
                priority: p.priority,
                system_critical: p.system_critical,
                wave: 0,
                grace_period_seconds: p.grace_period_seconds,
                budget_refuses: false,
                at_deadline: None,
                deadline_deletion: None,
            }
        })
        .collect();
    (pods, plans)
}

/// One workload's pods on the node that would move, and what taking them off means.
struct OwnerOnNode<'p> {
    namespace: &'p str,
    kind: &'p str,
    name: &'p str,
    /// Indices into the node's pods and plans.
    indices: &'p [usize],
    ready_here: i32,
    unhealthy_here: i32,
    /// Nothing to keep up when no replica here is Ready: pre-scaling a workload that is
    /// already down only waits for replicas that may never be Ready.
    all_here: bool,
    budget: Option<Budget>,
    budget_short: bool,
    unhealthy_free: bool,
}

impl<'p> OwnerOnNode<'p> {
    fn new<'a>(
        index: &Index<'a>,
        pods: &[&'a PodSummary],
        (namespace, owner): &'p (String, String),
        indices: &'p [usize],
        draining: &[String],
    ) -> Self {
        let (kind, name) = owner.split_once('/').unwrap_or(("", owner));
        // Only Ready pods count against a budget: an unhealthy one (crash-looping, on a dead
        // node) is not part of the workload's availability.
        let ready_here = indices.iter().filter(|i| pods[**i].ready).count() as i32;
        let unhealthy_here = indices.len() as i32 - ready_here;
        let ready_elsewhere = index
            .pods_alongside(pods[indices[0]])
            .iter()
            .filter(|p| {
                p.ready
                    && !draining
                        .iter()
                        .any(|d| p.node_name.as_deref() == Some(d.as_str()))
            })
            .count() as i32;
        let budget = pdbs_for(index.world(), pods[indices[0]])
            .first()
            .map(|pdb| Budget::of(pdb));
        let unhealthy_free = budget.as_ref().is_none_or(Budget::unhealthy_pods_go_free);
        let budget_short = budget
            .as_ref()
            .is_some_and(|b| b.allowed < ready_here || (unhealthy_here > 0 && !unhealthy_free));
        OwnerOnNode {
            namespace,
            kind,
            name,
            indices,
            ready_here,
            unhealthy_here,
            all_here: ready_here > 0 && ready_elsewhere == 0,
            budget,
            budget_short,
            unhealthy_free,
        }
    }

    fn budget_text(&self) -> Option<String> {
        self.budget.as_ref().map(Budget::describe)
    }

    /// The replicas to add before evicting, so that the workload stays up and its budget
    /// allows the evictions.
    fn extra_replicas(&self) -> i32 {
        let mut extra = 0;
        if let Some(b) = self.budget.as_ref().filter(|_| self.budget_short) {
            extra += (self.ready_here - b.allowed).max(0);
            if self.unhealthy_here > 0 && !self.unhealthy_free {
                // Unhealthy pods go once the budget is met: add what it lacks.
                extra += (b.desired - b.current).max(0);
            }
            extra = extra.max(1);
        }
        if self.all_here {
            extra = extra.max(self.ready_here);
        }
        extra
    }
}

/// What the run decided per workload: the pre-scale steps and the warnings.
#[derive(Default)]
struct OwnerDecisions {
    prescale: Vec<PrescalePlan>,
    warnings: Vec<String>,
}

/// Per workload: would taking its pods off this node take it down, or break its budget? Adds
/// a pre-scale, a warning, or blocks (or, with --force, deletes) its pods.
fn decide_owners<'a>(
    index: &Index<'a>,
    node: &str,
    draining: &[String],
    options: &Options,
    pods: &[&'a PodSummary],
    plans: &mut [PodPlan],
) -> OwnerDecisions {
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, p) in plans.iter().enumerate() {
        if p.moves() {
            groups
                .entry((p.namespace.clone(), p.owner.clone()))
                .or_default()
                .push(i);
        }
    }
    let mut decided = OwnerDecisions::default();
    for (key, indices) in &groups {
        let owner = OwnerOnNode::new(index, pods, key, indices, draining);
        if !owner.all_here && !owner.budget_short {
            continue;
        }
        match owner.kind {
            "Deployment" if options.prescale => decided
                .prescale
                .push(prescale_deployment(index, node, &owner)),
            "Deployment" => {
                deployment_without_prescale(&owner, options, plans, &mut decided.warnings)
            }
            _ => cannot_surge(&owner, node, options, plans, &mut decided.warnings),
        }
    }
    decided
}

fn prescale_deployment(index: &Index<'_>, node: &str, owner: &OwnerOnNode<'_>) -> PrescalePlan {
    let world = index.world();
    let deployment = world
        .deployments
        .iter()
        .find(|d| d.name == owner.name && d.namespace == owner.namespace);
    let from = deployment.and_then(|d| d.replicas).unwrap_or(1);
    let manager = deployment.and_then(|d| {
        shared::manager::manager_of(&d.marks, world.argo_apps.as_ref(), crate::hint::flags())
    });
    let why = if owner.all_here {
        format!("every Ready replica is on {node}")
    } else {
        owner.budget_text().unwrap_or_default()
    };
    PrescalePlan {
        manager,
        ..prescale_plan(
            world,
            owner.namespace,
            owner.name,
            from,
            from + owner.extra_replicas(),
            why,
        )
    }
}

fn deployment_without_prescale(
    owner: &OwnerOnNode<'_>,
    options: &Options,
    plans: &mut [PodPlan],
    warnings: &mut Vec<String>,
) {
    let all_deleted = owner
        .indices
        .iter()
        .all(|i| plans[*i].verdict == Verdict::Delete);
    if owner.budget_short && !all_deleted && options.force_after_seconds.is_some() {
        let risk = owner.budget_text().unwrap_or_default();
        crate::deadline::evict_past_budget(owner.indices, plans, &risk);
    } else if owner.budget_short && !all_deleted {
        let reason = format!(
            "{}; --prescale auto would add a replica first",
            owner.budget_text().unwrap_or_default()
        );
        for i in owner.indices {
            plans[*i].block(BlockReason::Budget, reason.clone());
        }
    } else {
        warnings.push(format!(
            "Deployment {}/{} has no Ready replica elsewhere: it is down until its pod is Ready on another node (--prescale auto avoids that)",
            owner.namespace, owner.name
        ));
    }
}

/// A StatefulSet (or any other controller) cannot surge: its pod must go first.
fn cannot_surge(
    owner: &OwnerOnNode<'_>,
    node: &str,
    options: &Options,
    plans: &mut [PodPlan],
    warnings: &mut Vec<String>,
) {
    let (kind, name, namespace) = (owner.kind, owner.name, owner.namespace);
    let (risk, why) = match owner.budget_text() {
        Some(b) if owner.budget_short => (b, BlockReason::Budget),
        _ => (
            format!("every Ready replica of {kind} {name} is on {node}"),
            BlockReason::SoleReplicas,
        ),
    };
    // A deadline is the more precise instruction: the budget is honoured until then.
    if owner.budget_short && options.force_after_seconds.is_some() {
        crate::deadline::evict_past_budget(owner.indices, plans, &risk);
        warnings.push(format!(
            "{kind} {namespace}/{name} cannot surge ({risk}): evicted with back-off; if its budget still refuses, deleted at the deadline and runs with fewer replicas until its pod is Ready on another node"
        ));
        return;
    }
    if options.force {
        for i in owner.indices {
            if owner.budget_short && plans[*i].verdict == Verdict::Evict {
                plans[*i].verdict = Verdict::Delete;
                plans[*i].reason = format!("{risk}; --force deletes it past the budget");
            }
        }
        warnings.push(format!(
            "{kind} {namespace}/{name} cannot surge ({risk}): it runs with fewer replicas until its pod is Ready on another node"
        ));
    } else {
        for i in owner.indices {
            plans[*i].block(
                why,
                format!(
                    "{kind} {name} cannot surge: {risk}; evicting it means downtime or a lost quorum — --force proceeds anyway"
                ),
            );
        }
    }
}

/// The pods that need room elsewhere: those that move, and the pre-scale's extra replicas (as
/// big as one of the owner's pods here).
fn movers<'a>(
    pods: &[&'a PodSummary],
    plans: &[PodPlan],
    prescale: &[PrescalePlan],
) -> Vec<&'a PodSummary> {
    let moving = pods
        .iter()
        .zip(plans)
        .filter(|(_, plan)| plan.moves())
        .map(|(p, _)| *p);
    let extra = prescale.iter().flat_map(|ps| {
        let owner = format!("Deployment/{}", ps.name);
        let template = pods
            .iter()
            .zip(plans)
            .find(|(_, plan)| plan.owner == owner && plan.namespace == ps.namespace)
            .map(|(p, _)| *p);
        std::iter::repeat_n(template, (ps.to - ps.from).max(0) as usize).flatten()
    });
    moving.chain(extra).collect()
}

/// A NotReady node's kubelet cannot finish its pods' termination: their deletions never
/// complete, so a deletion older than the limit counts as the pod gone (kubectl drain's
/// --skip-wait-for-delete-timeout, defaulted here for a dead node). Returns the limit and the
/// warning about the node, if any.
fn skip_wait(node: Option<&Node>, options: &Options) -> (Option<u64>, Option<String>) {
    let node_is_ready = node.is_none_or(node_ready);
    let skip_wait_for_delete = options
        .skip_wait_for_delete_timeout
        .or((!node_is_ready).then_some(DEAD_NODE_SKIP_WAIT_SECONDS))
        .filter(|s| *s > 0);
    let warning = (!node_is_ready).then(|| match skip_wait_for_delete {
        Some(secs) => format!(
            "node is NotReady: its kubelet does not answer; pods will be treated as gone {} after their deletion",
            shared::duration::format(std::time::Duration::from_secs(secs))
        ),
        None => "node is NotReady: its kubelet does not answer; its pods may never finish terminating (--skip-wait-for-delete-timeout 0 waits for them)".to_string(),
    });
    (skip_wait_for_delete, warning)
}

/// Plans the drain of `node` on its own (or with the nodes in `draining`, drained at the same
/// time): their pods may land on no node of `draining`.
pub fn plan(world: &World, node: &str, draining: &[String], options: &Options) -> NodePlan {
    plan_in_pool(world, node, draining, draining, options)
}

/// Plans the drain of `node` within a pool: `wave` are the nodes drained at the same time as
/// it (a workload's Ready replicas there are not "elsewhere"), `pool` the nodes its pods must
/// not land on (the pool, cordoned ahead). The pool's other nodes keep their Ready pods while
/// this one drains, so a reason such as "every Ready replica is on this node" is judged
/// against the wave only (found on aura: a pool plan claimed api's three replicas, on three
/// nodes of the pool, were all on its first node).
pub fn plan_in_pool(
    world: &World,
    node: &str,
    wave: &[String],
    pool: &[String],
    options: &Options,
) -> NodePlan {
    let index = Index::new(world);
    let node_obj = index.node(node);
    let (pods, mut plans) = pod_plans(&index, node, options);
    two_budgets(world, &pods, &mut plans);
    let OwnerDecisions {
        prescale,
        mut warnings,
    } = decide_owners(&index, node, wave, options, &pods, &mut plans);
    let capacity = capacity(&index, pool, &movers(&pods, &plans, &prescale));
    let mut blockers: Vec<String> = plans
        .iter()
        .filter(|p| p.verdict == Verdict::Blocked)
        .map(|p| format!("{}/{}: {}", p.namespace, p.name, p.reason))
        .collect();
    let managed_blockers = managed_prescales(&prescale, options, &mut blockers, &mut warnings);
    if node_obj.is_none() {
        blockers.push(format!("node {node} not found"));
    }
    let (skip_wait_for_delete, node_warning) = skip_wait(node_obj, options);
    warnings.extend(node_warning);
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
    assign_waves(&mut plans, options.unordered);
    NodePlan {
        node: node.to_string(),
        provider_id: node_obj.and_then(|n| n.spec.as_ref()?.provider_id.clone()),
        pods: plans,
        prescale,
        capacity,
        blockers,
        warnings,
        skip_wait_for_delete,
        managed_blockers,
        deadline: None,
        force_after: None,
    }
}

/// Whether every pod the plans of a pool move (and every pre-scale's extra replica) fits on
/// the schedulable nodes outside `pool` at once: then the pool is cordoned ahead and no pod
/// moves twice.
pub fn pool_capacity(world: &World, plans: &[NodePlan], pool: &[String]) -> Capacity {
    let index = Index::new(world);
    let mut all: Vec<&PodSummary> = Vec::new();
    for plan in plans {
        let on_node = index.pods_on(&plan.node);
        // The plan's pods in its own order, as `movers` pairs them with their verdicts.
        let pods: Vec<&PodSummary> = plan
            .pods
            .iter()
            .filter_map(|p| on_node.iter().copied().find(|s| s.uid == p.uid))
            .collect();
        if pods.len() == plan.pods.len() {
            all.extend(movers(&pods, &plan.pods, &plan.prescale));
        }
    }
    capacity(&index, pool, &all)
}

/// The disruptions the budget over `pod` allows now (`None`: no budget).
pub fn budget_allows(world: &World, pod: &PodSummary) -> Option<i32> {
    pdbs_for(world, pod)
        .first()
        .map(|pdb| Budget::of(pdb).allowed)
}

/// What a node's plan made at its turn changes from the plan shown before the confirmation:
/// one line per pod or pre-scale that differs (empty: the same).
pub fn difference(before: &NodePlan, after: &NodePlan) -> Vec<String> {
    let mut lines = Vec::new();
    let acts = |p: &PodPlan| matches!(p.verdict, Verdict::Evict | Verdict::Delete);
    for p in after.pods.iter().filter(|p| acts(p)) {
        match before.pods.iter().find(|b| b.uid == p.uid) {
            None => lines.push(format!(
                "+ {}/{}: {} (new on the node since the plan)",
                p.namespace,
                p.name,
                verdict_word(p.verdict)
            )),
            Some(b) if b.verdict != p.verdict => lines.push(format!(
                "~ {}/{}: {} (the plan said {})",
                p.namespace,
                p.name,
                verdict_word(p.verdict),
                verdict_word(b.verdict)
            )),
            Some(_) => {}
        }
    }
    for b in before.pods.iter().filter(|p| acts(p)) {
        if !after.pods.iter().any(|p| p.uid == b.uid) {
            lines.push(format!(
                "- {}/{}: gone from the node already",
                b.namespace, b.name
            ));
        }
    }
    for s in &after.prescale {
        let same = |b: &&PrescalePlan| b.namespace == s.namespace && b.name == s.name;
        match before.prescale.iter().find(same) {
            Some(b) if (b.from, b.to) == (s.from, s.to) => {}
            Some(b) => lines.push(format!(
                "~ pre-scale Deployment {}/{}: {} → {} (the plan said {} → {})",
                s.namespace, s.name, s.from, s.to, b.from, b.to
            )),
            None => lines.push(format!(
                "+ pre-scale Deployment {}/{}: {} → {} ({})",
                s.namespace, s.name, s.from, s.to, s.why
            )),
        }
    }
    for b in &before.prescale {
        if !after
            .prescale
            .iter()
            .any(|s| s.namespace == b.namespace && s.name == b.name)
        {
            lines.push(format!(
                "- pre-scale Deployment {}/{}: no longer needed",
                b.namespace, b.name
            ));
        }
    }
    lines
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Evict => "evict",
        Verdict::Delete => "delete",
        Verdict::Skip => "stays",
        Verdict::Blocked => "blocked",
    }
}

/// A pre-scale of a Deployment a GitOps tool or an operator manages would be undone (the
/// extra replicas removed before the evictions, or the restore fought): a blocker naming the
/// manager and how to pause it, or with --ignore-gitops a warning. Returns the blockers added.
fn managed_prescales(
    prescale: &[PrescalePlan],
    options: &Options,
    blockers: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> usize {
    let mut added = 0;
    for s in prescale {
        let Some(manager) = &s.manager else {
            continue;
        };
        let workload = format!("Deployment {}/{}", s.namespace, s.name);
        if options.ignore_gitops {
            warnings.push(shared::manager::warning(&workload, "pre-scale", manager));
        } else {
            blockers.push(shared::manager::refusal(&workload, "pre-scale", manager));
            added += 1;
        }
    }
    added
}

/// The waves of evictions: the pods the drain acts on, grouped by priority, lowest first and
/// system-critical pods last, each wave once the previous one's pods are gone — as
/// cluster-autoscaler's drain orders them (its --drain-priority-config; kubectl drain has no
/// order: kubernetes/kubectl#1347, kubernetes/kubernetes#109353). `unordered` (`--order
/// none`): one wave.
pub fn assign_waves(plans: &mut [PodPlan], unordered: bool) {
    let acts = |p: &PodPlan| matches!(p.verdict, Verdict::Evict | Verdict::Delete);
    let key = |p: &PodPlan| {
        if unordered {
            (false, 0)
        } else {
            (p.system_critical, p.priority)
        }
    };
    let mut keys: Vec<(bool, i32)> = plans.iter().filter(|p| acts(p)).map(key).collect();
    keys.sort();
    keys.dedup();
    for p in plans.iter_mut() {
        p.wave = if acts(p) {
            keys.iter().position(|k| *k == key(p)).map_or(0, |i| i + 1)
        } else {
            0
        };
    }
}

/// What a pod's wave is, for people: its priority, or system-critical.
pub fn wave_name(pod: &PodPlan) -> String {
    if pod.system_critical {
        "system-critical".to_string()
    } else {
        format!("priority {}", pod.priority)
    }
}

/// The waves of a plan, in order: what each is (its priority) and its pods.
pub fn waves(plan: &NodePlan) -> Vec<(String, Vec<&PodPlan>)> {
    let last = plan.pods.iter().map(|p| p.wave).max().unwrap_or(0);
    (1..=last)
        .map(|w| {
            let pods: Vec<&PodPlan> = plan.pods.iter().filter(|p| p.wave == w).collect();
            (pods.first().map(|p| wave_name(p)).unwrap_or_default(), pods)
        })
        .collect()
}

/// `--skip-wait-for-delete-timeout` on a NotReady node when not given: a minute is far past any
/// kubelet that still answers, and short enough not to hold a drain of a dead machine.
pub const DEAD_NODE_SKIP_WAIT_SECONDS: u64 = 60;

/// The plan as text.
pub fn render(plan: &NodePlan) -> String {
    let mut out = format!("Drain node {}\n", plan.node);
    out.push_str(&pod_table(&plan.pods));
    let waves = waves(plan);
    if waves.len() > 1 {
        let listed: Vec<String> = waves
            .iter()
            .enumerate()
            .map(|(i, (what, pods))| {
                format!(
                    "{} {what} ({})",
                    i + 1,
                    shared::plural::count(pods.len(), "pod")
                )
            })
            .collect();
        out.push_str(&format!(
            "order: in waves by priority, each once the previous one's pods are gone: {}\n",
            listed.join(", ")
        ));
    }
    for s in &plan.prescale {
        out.push_str(&format!(
            "pre-scale: Deployment {}/{}: {} → {} replicas{}, restored afterwards ({})\n",
            s.namespace,
            s.name,
            s.from,
            s.to,
            through(s),
            s.why
        ));
    }
    out.push_str(&format!("capacity: {}\n", plan.capacity.detail));
    out.push_str(&crate::deadline::render(plan));
    for step in terminate_steps() {
        out.push_str(&format!("then: {step}\n"));
    }
    for w in &plan.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for b in &plan.blockers {
        out.push_str(&format!("blocked: {b}\n"));
    }
    out
}

/// What every drain does besides cordoning and evicting, so that "safe to terminate" means it:
/// the plan's `then:` lines, and `steps` in `-o json`.
pub fn terminate_steps() -> [&'static str; 3] {
    [
        "at cordon, label the node node.kubernetes.io/exclude-from-external-load-balancers (out of external load balancers; abort and uncordon remove it unless it was there before)",
        "once the pods are gone, wait until no VolumeAttachment names the node before calling it safe to terminate",
        "record each step as an Event on the node (kubectl describe node)",
    ]
}

/// The widest the pod table goes: readable in a 120-column terminal, as kubectl's tables.
const TABLE_WIDTH: usize = 120;

/// The pods, each namespace a heading with its pods under it: a NAMESPACE column of
/// astronomer's names took a third of the width. OWNER is the controller's kind when the pod
/// is named after it (`Deployment`), else `Kind/name`; REASON is cut to what the width leaves
/// (whole in `-o json`, and a blocked pod's on its `blocked:` line).
fn pod_table(pods: &[PodPlan]) -> String {
    let rows: Vec<[String; 4]> = pods
        .iter()
        .map(|p| {
            [
                format!("  {}", p.name),
                owner_cell(p),
                format!("{:?}", p.verdict).to_lowercase(),
                table_reason(p),
            ]
        })
        .collect();
    let headers = ["POD", "OWNER", "VERDICT", "REASON"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([headers[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (pod_w, owner_w, verdict_w) = (width(0), width(1), width(2));
    let reason_w = TABLE_WIDTH
        .saturating_sub(pod_w + owner_w + verdict_w + 9)
        .max(20);
    let line = |cells: [&str; 4]| {
        let reason = shared::output::truncate(cells[3], reason_w);
        format!(
            "{:<pod_w$}   {:<owner_w$}   {:<verdict_w$}   {reason}",
            cells[0], cells[1], cells[2]
        )
        .trim_end()
        .to_string()
            + "\n"
    };
    let mut out = line(headers);
    let mut namespaces: Vec<&str> = Vec::new();
    for p in pods {
        if !namespaces.contains(&p.namespace.as_str()) {
            namespaces.push(&p.namespace);
        }
    }
    for namespace in namespaces {
        out.push_str(&format!("{namespace}:\n"));
        for (p, row) in pods.iter().zip(&rows) {
            if p.namespace == namespace {
                out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
            }
        }
    }
    out
}

/// `Deployment` for a pod named after its Deployment, else `Kind/name` (or `-`).
fn owner_cell(p: &PodPlan) -> String {
    match p.owner.split_once('/') {
        Some((kind, name)) if p.name.starts_with(&format!("{name}-")) => kind.to_string(),
        _ => p.owner.clone(),
    }
}

/// The REASON cell before the width's cut: a blocked pod's reason is spelt out in full on its
/// `blocked:` line below the table, so the cell keeps its first clause; a plain eviction needs
/// no reason beside its verdict.
fn table_reason(p: &PodPlan) -> String {
    if p.verdict == Verdict::Evict && p.reason == "evict" {
        return String::new();
    }
    if p.verdict != Verdict::Blocked {
        return p.reason.clone();
    }
    [": ", "; ", " — "]
        .iter()
        .filter_map(|sep| p.reason.find(sep))
        .min()
        .map_or(p.reason.clone(), |end| p.reason[..end].to_string())
}

#[cfg(test)]
mod table_reason_tests {
    use super::*;

    #[test]
    fn a_blocked_pod_s_cell_keeps_the_first_clause() {
        let mut pod = PodPlan::for_test("data", "mongodb-2", "StatefulSet/mongodb", Verdict::Evict);
        pod.block(
            BlockReason::Budget,
            "StatefulSet mongodb cannot surge: PDB mongodb allows 0 disruptions — needs 3 healthy"
                .into(),
        );
        assert_eq!(table_reason(&pod), "StatefulSet mongodb cannot surge");
        assert_eq!(owner_cell(&pod), "StatefulSet");
        let text = pod_table(std::slice::from_ref(&pod));
        assert_eq!(
            text,
            "POD           OWNER         VERDICT   REASON\ndata:\n  mongodb-2   StatefulSet   blocked   StatefulSet mongodb cannot surge\n"
        );
        pod.verdict = Verdict::Evict;
        pod.reason = "evict".into();
        assert_eq!(table_reason(&pod), "");
        pod.owner = "ReplicaSet/other".into();
        assert_eq!(owner_cell(&pod), "ReplicaSet/other");
    }
}

/// ` through HPA h (minReplicas 1 → 2, maxReplicas 1 → 2)` or the ScaledObject's counts.
fn through(s: &PrescalePlan) -> String {
    let raise_max = |what: &str, max: Option<i32>| {
        max.map(|m| format!(", {what} {m} → {}", s.to))
            .unwrap_or_default()
    };
    if let Some(so) = &s.scaled_object {
        return format!(
            " through ScaledObject {so} (minReplicaCount {} → {}{})",
            s.so_min.unwrap_or(0),
            s.to,
            raise_max("maxReplicaCount", s.so_max)
        );
    }
    match &s.hpa {
        Some(h) => format!(
            " through HPA {h} (minReplicas {} → {}{})",
            s.hpa_min.unwrap_or(1),
            s.to,
            raise_max("maxReplicas", s.hpa_max)
        ),
        None => String::new(),
    }
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

    fn pod(name: &str, owner: Option<(&str, &str)>, extra: Value) -> PodSummary {
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
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d", "controller": true}]}}),
            )],
            deployments: vec![from(
                json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 1, "selector": {}, "template": {}}}),
            )],
            ..Default::default()
        }
    }

    #[test]
    fn a_managed_single_replica_is_refused_unless_ignore_gitops() {
        let mut managed = world();
        managed.deployments = vec![from(json!({
            "metadata": {"name": "web", "namespace": "default",
                "annotations": {"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:default/web"}},
            "spec": {"replicas": 1, "selector": {}, "template": {}}
        }))];
        let o = Options {
            prescale: true,
            ..Default::default()
        };
        let refused = plan(&managed, "n1", &["n1".into()], &o);
        assert_eq!(refused.managed_blockers, 1);
        assert!(
            refused.blockers[0].starts_with(
                "Deployment default/web is managed by Argo CD app shop (self-heal unknown)"
            ) && refused.blockers[0].contains("argocd app set shop"),
            "{:?}",
            refused.blockers
        );
        let ignored = plan(
            &managed,
            "n1",
            &["n1".into()],
            &Options {
                ignore_gitops: true,
                ..o.clone()
            },
        );
        assert!(ignored.blockers.is_empty(), "{:?}", ignored.blockers);
        assert_eq!(ignored.prescale.len(), 1);
        assert!(
            ignored.warnings[0].starts_with("--ignore-gitops: Deployment default/web"),
            "{:?}",
            ignored.warnings
        );
        let plain = plan(&world(), "n1", &["n1".into()], &o);
        assert_eq!((plain.blockers.len(), plain.managed_blockers), (0, 0));
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
            blocked.blockers[0].contains("PDB db allows 0 disruptions — needs 2 healthy, has 2"),
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

        // With a deadline the budget is honoured until then: evicted, not a blocker, and the
        // plan names the deletion (also over --force, the more precise instruction).
        for force in [false, true] {
            let timed = crate::deadline::from_now(
                plan(
                    &w,
                    "n1",
                    &["n1".to_string()],
                    &Options {
                        force,
                        force_after_seconds: Some(600),
                        ..o.clone()
                    },
                ),
                &Options {
                    force_after_seconds: Some(600),
                    ..o.clone()
                },
                "2026-11-25T10:00:00Z".parse().unwrap(),
            );
            assert!(timed.blockers.is_empty(), "{:?}", timed.blockers);
            let db = timed.pods.iter().find(|p| p.name == "db-0").unwrap();
            assert_eq!((db.verdict, db.budget_refuses), (Verdict::Evict, true));
            assert_eq!(
                db.deadline_deletion.as_deref(),
                Some("2026-11-25T10:09:30Z")
            );
            let text = render(&timed);
            assert!(
                text.contains("deadline: 2026-11-25T10:10:00Z (--force-after 10m): pods a budget still refuses are deleted then, each its grace period earlier: default/db-0 at 2026-11-25T10:09:30Z\n"),
                "{text}"
            );
            assert!(
                timed.warnings.iter().any(|w| w.starts_with(
                    "StatefulSet default/db cannot surge (PDB db allows 0 disruptions"
                )),
                "{:?}",
                timed.warnings
            );
        }

        let mut tight = world();
        tight.nodes = vec![node("n1", "4"), node("n2", "100m")];
        let full = plan(&tight, "n1", &["n1".to_string()], &o);
        assert!(
            !full.capacity.fits && full.blockers[0].starts_with("capacity:"),
            "{:?}",
            full.blockers
        );
    }

    fn pdb(name: &str, spec: Value, status: Value) -> PodDisruptionBudget {
        from(json!({"metadata": {"name": name, "namespace": "default"},
            "spec": json_patch_merge(json!({"selector": {"matchLabels": {"app": "web"}}}), spec), "status": status}))
    }

    fn json_patch_merge(mut base: Value, extra: Value) -> Value {
        json_patch::merge(&mut base, &extra);
        base
    }

    /// web: 3 replicas, one on n1 (`sick` makes it not Ready), two Ready on n2, under one PDB.
    fn three_web(sick: bool, budget: PodDisruptionBudget) -> World {
        let mut w = world();
        let ready = if sick { "False" } else { "True" };
        w.pods = vec![
            pod(
                "web-abc",
                Some(("ReplicaSet", "web-7d")),
                json!({"metadata": {"labels": {"app": "web"}}, "status": {"conditions": [{"type": "Ready", "status": ready}]}}),
            ),
            pod(
                "web-def",
                Some(("ReplicaSet", "web-7d")),
                json!({"metadata": {"labels": {"app": "web"}}, "spec": {"nodeName": "n2"}}),
            ),
            pod(
                "web-ghi",
                Some(("ReplicaSet", "web-7d")),
                json!({"metadata": {"labels": {"app": "web"}}, "spec": {"nodeName": "n2"}}),
            ),
        ];
        w.deployments[0].replicas = Some(3);
        w.pdbs = vec![budget];
        w
    }

    #[test]
    fn an_unhealthy_pod_uses_no_budget_as_the_eviction_api_decides() {
        let o = Options {
            prescale: true,
            ..Default::default()
        };
        let n1 = ["n1".to_string()];
        let met = json!({"disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2, "expectedPods": 3});
        // Healthy at the budget: pre-scaled first.
        let healthy = plan(
            &three_web(
                false,
                pdb(
                    "web",
                    json!({"maxUnavailable": 0}),
                    json!({"disruptionsAllowed": 0, "currentHealthy": 3, "desiredHealthy": 3}),
                ),
            ),
            "n1",
            &n1,
            &o,
        );
        assert_eq!(healthy.prescale.len(), 1, "{:?}", healthy.prescale);
        // Crash-looping with the budget met (IfHealthyBudget): a plain eviction.
        let sick = plan(
            &three_web(true, pdb("web", json!({"maxUnavailable": 1}), met.clone())),
            "n1",
            &n1,
            &o,
        );
        assert!(sick.prescale.is_empty(), "{:?}", sick.prescale);
        assert!(sick.blockers.is_empty(), "{:?}", sick.blockers);
        assert_eq!(sick.pods[0].verdict, Verdict::Evict);
        // Budget not met: IfHealthyBudget refuses, pre-scaling adds the healthy pod it lacks...
        let short = json!({"disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 3});
        let lacking = plan(
            &three_web(true, pdb("web", json!({"minAvailable": 3}), short.clone())),
            "n1",
            &n1,
            &o,
        );
        assert_eq!(lacking.prescale[0].to, 4, "{:?}", lacking.prescale);
        // ...and AlwaysAllow lets it go anyway.
        let always = plan(
            &three_web(
                true,
                pdb(
                    "web",
                    json!({"minAvailable": 3, "unhealthyPodEvictionPolicy": "AlwaysAllow"}),
                    short,
                ),
            ),
            "n1",
            &n1,
            &o,
        );
        assert!(always.prescale.is_empty(), "{:?}", always.prescale);
    }

    #[test]
    fn a_pod_under_two_budgets_is_blocked_naming_both() {
        let mut w = three_web(
            false,
            pdb(
                "web",
                json!({"maxUnavailable": 1}),
                json!({"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2}),
            ),
        );
        w.pdbs.push(pdb(
            "web-too",
            json!({"maxUnavailable": 2}),
            json!({"disruptionsAllowed": 2, "currentHealthy": 3, "desiredHealthy": 1}),
        ));
        let p = plan(&w, "n1", &["n1".to_string()], &Options::default());
        assert_eq!(p.pods[0].verdict, Verdict::Blocked);
        assert!(p.blockers[0].contains("(web, web-too)"), "{:?}", p.blockers);
        let deleting = plan(
            &w,
            "n1",
            &["n1".to_string()],
            &Options {
                disable_eviction: true,
                ..Default::default()
            },
        );
        assert!(deleting.blockers.is_empty(), "{:?}", deleting.blockers);
    }

    #[test]
    fn autoscaled_owners_are_raised_through_what_owns_their_count() {
        let o = Options {
            prescale: true,
            ..Default::default()
        };
        let mut w = world();
        w.hpas = vec![from(
            json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 1}}),
        )];
        let p = plan(&w, "n1", &["n1".to_string()], &o);
        assert_eq!(
            (p.prescale[0].hpa_min, p.prescale[0].hpa_max),
            (Some(1), Some(1))
        );
        assert!(
            render(&p).contains("through HPA web (minReplicas 1 → 2, maxReplicas 1 → 2)"),
            "{}",
            render(&p)
        );
        // KEDA's HPA is never the one raised: its ScaledObject is.
        w.hpas = vec![from(
            json!({"metadata": {"name": "keda-hpa-web", "namespace": "default",
                "ownerReferences": [{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": "web", "uid": "s", "controller": true}]},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 1}}),
        )];
        w.scaled_objects = vec![from(
            json!({"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"name": "web"}, "maxReplicaCount": 1}}),
        )];
        let p = plan(&w, "n1", &["n1".to_string()], &o);
        let s = &p.prescale[0];
        assert_eq!(
            (s.hpa.as_deref(), s.scaled_object.as_deref()),
            (None, Some("web"))
        );
        assert_eq!((s.so_min, s.so_max), (None, Some(1)));
        assert!(
            render(&p).contains(
                "through ScaledObject web (minReplicaCount 0 → 2, maxReplicaCount 1 → 2)"
            ),
            "{}",
            render(&p)
        );
    }

    #[test]
    fn a_not_ready_node_says_so_and_counts_old_deletions_as_gone() {
        let mut w = world();
        w.nodes[0] = from(json!({"metadata": {"name": "n1"},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]}}));
        let p = plan(&w, "n1", &["n1".to_string()], &Options::default());
        assert_eq!(p.skip_wait_for_delete, Some(DEAD_NODE_SKIP_WAIT_SECONDS));
        assert!(
            p.warnings.iter().any(|w| w == "node is NotReady: its kubelet does not answer; pods will be treated as gone 1m after their deletion"),
            "{:?}",
            p.warnings
        );
        let waiting = plan(
            &w,
            "n1",
            &["n1".to_string()],
            &Options {
                skip_wait_for_delete_timeout: Some(0),
                ..Default::default()
            },
        );
        assert_eq!(waiting.skip_wait_for_delete, None);
        assert_eq!(
            plan(&world(), "n1", &["n1".to_string()], &Options::default()).skip_wait_for_delete,
            None
        );
    }

    #[test]
    fn waves_go_by_priority_lowest_first_and_system_critical_last() {
        let pod = |name: &str, priority: i32, critical: bool, verdict: Verdict| PodPlan {
            priority,
            system_critical: critical,
            ..PodPlan::for_test("apps", name, "-", verdict)
        };
        let mut pods = vec![
            pod("batch", -10, false, Verdict::Evict),
            pod("web", 1000, false, Verdict::Evict),
            pod("dns", 2_000_000_000, true, Verdict::Evict),
            pod("plain", 0, false, Verdict::Delete),
            pod("daemon", 0, false, Verdict::Skip),
            pod("web-2", 1000, false, Verdict::Evict),
        ];
        assign_waves(&mut pods, false);
        let waves: Vec<(&str, usize)> = pods.iter().map(|p| (p.name.as_str(), p.wave)).collect();
        assert_eq!(
            waves,
            [
                ("batch", 1),
                ("web", 3),
                ("dns", 4),
                ("plain", 2),
                ("daemon", 0),
                ("web-2", 3)
            ]
        );
        let plan = NodePlan {
            node: "n1".into(),
            pods: pods.clone(),
            ..Default::default()
        };
        let text = render(&plan);
        assert!(
            text.contains("order: in waves by priority, each once the previous one's pods are gone: 1 priority -10 (1 pod), 2 priority 0 (1 pod), 3 priority 1000 (2 pods), 4 system-critical (1 pod)"),
            "{text}"
        );
        assign_waves(&mut pods, true);
        assert!(
            pods.iter()
                .all(|p| p.wave == usize::from(p.name != "daemon"))
        );
        let plan = NodePlan {
            node: "n1".into(),
            pods,
            ..Default::default()
        };
        assert!(!render(&plan).contains("order:"));
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
