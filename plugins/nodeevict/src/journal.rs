//! The drain's journal: an annotation on the node (progress, options, what was pre-scaled) and
//! one on each pre-scaled owner (its original replicas), so `status`, `resume` and `abort` work
//! after any interruption.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::lease::{self, Heartbeat, Liveness};
use shared::{Error, Target};

pub const NODE_ANNOTATION: &str = "nodeevict.kubectl-plugins.dev/journal";
/// Beside the journal: the heartbeat of the run carrying the drain out (`shared::lease`).
pub const HEARTBEAT_ANNOTATION: &str = "nodeevict.kubectl-plugins.dev/heartbeat";
/// On a pre-scaled Deployment: the replicas it goes back to.
pub const ORIGINAL_REPLICAS: &str = "nodeevict.kubectl-plugins.dev/original-replicas";
/// On an HPA whose minReplicas was raised: the minReplicas it goes back to.
pub const ORIGINAL_MIN_REPLICAS: &str = "nodeevict.kubectl-plugins.dev/original-min-replicas";
/// On an HPA whose maxReplicas had to be raised with its minReplicas: the maxReplicas before.
pub const ORIGINAL_MAX_REPLICAS: &str = "nodeevict.kubectl-plugins.dev/original-max-replicas";
/// On a KEDA ScaledObject whose minReplicaCount was raised: the spec fields before (JSON).
pub const ORIGINAL_REPLICA_COUNTS: &str = "nodeevict.kubectl-plugins.dev/original-replica-counts";
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
    /// kubectl drain's `--skip-wait-for-delete-timeout`: a pod deleted longer ago than this
    /// counts as gone (a dead node's pods never finish terminating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_wait_for_delete_timeout: Option<u64>,
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
    /// When KEDA scales it: the ScaledObject raised instead (KEDA owns, and resets, its HPA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled_object: Option<ScaledObjectRecord>,
    /// The extra pods the pre-scale made (removed first when scaling back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub surge_pods: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaRecord {
    pub name: String,
    pub original_min: i32,
    /// maxReplicas before, when it had to be raised too (minReplicas > maxReplicas is a 422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_max: Option<i32>,
}

/// A KEDA ScaledObject whose `minReplicaCount` (and `maxReplicaCount` when needed) was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectRecord {
    pub name: String,
    /// `minReplicaCount` before; `None` when it was unset (KEDA's default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_min: Option<i32>,
    /// `maxReplicaCount` before (KEDA's default 100 when unset), when it had to be raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_max: Option<i32>,
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
    pub fn from_annotation(text: &str) -> Result<NodeJournal, String> {
        let mut journal: NodeJournal = serde_json::from_str(text)
            .map_err(|e| format!("unreadable {NODE_ANNOTATION} annotation: {e}"))?;
        // A hand-edited record must not send a negative grace period to the API.
        journal.options.grace_period = journal.options.grace_period.filter(|g| *g >= 0);
        Ok(journal)
    }
}

// ---- who holds a node's journal ----
//
// Every write of the journal carries the node's resourceVersion as this run last saw it, so
// of two runs only one can write over a given state (safety contract: records are written
// with a resourceVersion precondition). The journal also names the run that wrote it (its
// `run` key): a 409 only means "the node changed", which a kubelet's status update also does,
// so on a 409 the node is read again and the write retried only while the journal on it is
// still the one this run expects; anything else means another run holds the drain.

/// What this run last saw of a node: its resourceVersion and the run whose journal was on it
/// (None: no journal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Hold {
    resource_version: Option<String>,
    holder: Option<String>,
    /// Whether the node was cordoned, and its taints: a drain's first write refuses when these
    /// changed since the plan was made (see [`schedulability`]).
    schedulability: Schedulability,
}

type Schedulability = (bool, Vec<String>);

/// What a drain (another run's, finished meanwhile, or a cordon by hand) changes on a node and a
/// kubelet's status updates do not: `spec.unschedulable` and the taints. Found by the soak (seed
/// 100027): a run whose first write met a conflict read the node again, found no journal (the
/// other run had drained the node completely in between) and started a drain of its own.
fn schedulability(node: &Node) -> Schedulability {
    let spec = node.spec.as_ref();
    let mut taints: Vec<String> = spec
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{}={}:{}",
                t.key,
                t.value.as_deref().unwrap_or(""),
                t.effect
            )
        })
        .collect();
    taints.sort();
    (spec.and_then(|s| s.unschedulable).unwrap_or(false), taints)
}

fn holds() -> &'static Mutex<BTreeMap<String, Hold>> {
    static HOLDS: OnceLock<Mutex<BTreeMap<String, Hold>>> = OnceLock::new();
    HOLDS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// This process's name in the journals it writes.
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let now = jiff::Timestamp::now();
        format!("{}-{}", std::process::id(), now.as_nanosecond())
    })
}

/// The run named in a node's journal annotation; `Some("")` for a journal without one (written
/// by an older version), None without a journal.
pub fn holder_of(node: &Node) -> Option<String> {
    let text = node.annotations().get(NODE_ANNOTATION)?;
    Some(match serde_json::from_str::<Value>(text) {
        Ok(v) => v["run"].as_str().unwrap_or_default().to_string(),
        Err(_) => "<unreadable>".to_string(),
    })
}

/// Whether another run is still carrying out the drain recorded on the node: its heartbeat is
/// fresh (or, on this machine, its process is there). This run's own journal is never that.
pub fn liveness(node: &Node) -> Liveness {
    match holder_of(node) {
        Some(run) if run != run_id() => Liveness::of(
            node.annotations()
                .get(HEARTBEAT_ANNOTATION)
                .map(String::as_str),
            &run,
            jiff::Timestamp::now(),
        ),
        _ => Liveness::Stopped,
    }
}

/// Refuses, before any change, a drain, resume or abort of a node whose recorded drain another
/// run is still carrying out.
pub fn refuse_if_running(node: &Node) -> shared::Result<()> {
    let name = node.name_any();
    match liveness(node).refusal(&format!("the drain of node {name}")) {
        Some(why) => Err(Error::Failed(format!(
            "{why}; this run changed nothing (`kubectl nodeevict status` shows the drain)"
        ))),
        None => Ok(()),
    }
}

/// Renews this run's heartbeat on the node while its journal there names this run.
fn keep_alive(target: &Target, node: &str) {
    lease::keep_alive(
        format!("node/{node}"),
        Api::<Node>::all(target.client.clone()),
        node.to_string(),
        HEARTBEAT_ANNOTATION,
        run_id().to_string(),
        |node, run| holder_of(node).as_deref() == Some(run),
    );
}

fn stop_heartbeat(node: &str) {
    lease::stop(&format!("node/{node}"));
}

/// Remembers the node as read: the next journal write is conditional on it.
pub fn observe(node: &Node) {
    let hold = Hold {
        resource_version: node.resource_version(),
        holder: holder_of(node),
        schedulability: schedulability(node),
    };
    holds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(node.name_any(), hold);
}

/// What a write does to the journal annotation.
pub enum Record<'a> {
    /// Write this journal, named after this run: the run holds the drain from then on.
    Set(&'a NodeJournal),
    /// Remove the journal (the drain is finished or undone).
    Remove,
    /// Leave it as it is (uncordon): the write still fails if a drain started meanwhile.
    Keep,
}

/// Writes the journal (and `spec`, e.g. the cordon) on the node in one merge patch, on the
/// condition that the node still holds the journal this run last saw there. A node that has
/// changed otherwise (a kubelet's status) is read again and the write retried; a journal
/// written by another run meanwhile refuses with exit 1 and this run stops.
pub async fn write(
    target: &Target,
    node: &str,
    record: Record<'_>,
    spec: Option<Value>,
) -> shared::Result<()> {
    let api: Api<Node> = Api::all(target.client.clone());
    // The heartbeat goes with the journal in the same write: a journal is never seen without
    // the heartbeat of the run that wrote it.
    let annotations = match &record {
        Record::Set(journal) => {
            let mut value = serde_json::to_value(journal).expect("a journal serializes");
            value["run"] = json!(run_id());
            Some(json!({
                NODE_ANNOTATION: value.to_string(),
                HEARTBEAT_ANNOTATION: Heartbeat::now(run_id()).to_annotation(),
            }))
        }
        Record::Remove => Some(json!({ NODE_ANNOTATION: null, HEARTBEAT_ANNOTATION: null })),
        Record::Keep => None,
    };
    let known = holds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(node)
        .cloned();
    let mut hold = match known {
        Some(hold) => hold,
        None => {
            // Never read by this run: what is there now is what it expects.
            let current = api.get(node).await.map_err(|e| target.api_error(e))?;
            Hold {
                resource_version: current.resource_version(),
                holder: holder_of(&current),
                schedulability: schedulability(&current),
            }
        }
    };
    // A few rounds: each conflict that is not another run's means the node moved on its own.
    for _ in 0..8 {
        let mut patch = json!({"metadata": {}});
        if let Some(rv) = &hold.resource_version {
            patch["metadata"]["resourceVersion"] = json!(rv);
        }
        if let Some(a) = &annotations {
            patch["metadata"]["annotations"] = a.clone();
        }
        if let Some(spec) = &spec {
            patch["spec"] = spec.clone();
        }
        match api
            .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(written) => {
                let holder = match record {
                    Record::Set(_) => {
                        keep_alive(target, node);
                        Some(run_id().to_string())
                    }
                    Record::Remove => {
                        stop_heartbeat(node);
                        None
                    }
                    Record::Keep => hold.holder,
                };
                holds().lock().unwrap_or_else(|e| e.into_inner()).insert(
                    node.to_string(),
                    Hold {
                        resource_version: written.resource_version(),
                        holder,
                        schedulability: schedulability(&written),
                    },
                );
                return Ok(());
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let current = api
                    .get_opt(node)
                    .await
                    .map_err(|e| target.api_error(e))?
                    .ok_or_else(|| Error::Failed(format!("node {node} is gone")))?;
                let now = holder_of(&current);
                let ours = now.as_deref() == Some(run_id());
                if matches!(record, Record::Remove)
                    && now.is_none()
                    && hold.holder.as_deref() == Some(run_id())
                {
                    // Our removal went through and its answer was lost (the client retried).
                    stop_heartbeat(node);
                    holds().lock().unwrap_or_else(|e| e.into_inner()).insert(
                        node.to_string(),
                        Hold {
                            resource_version: current.resource_version(),
                            holder: None,
                            schedulability: schedulability(&current),
                        },
                    );
                    return Ok(());
                }
                // Only this run writes its own name: finding it means our write went through
                // and its answer was lost; writing the same again is harmless.
                if now != hold.holder && !ours {
                    return Err(taken(node, hold.holder.as_deref(), now.is_some()));
                }
                let starting = matches!(record, Record::Set(_)) && hold.holder.is_none();
                if starting && now.is_none() && schedulability(&current) != hold.schedulability {
                    return Err(Error::Failed(format!(
                        "node {node} was cordoned, uncordoned or tainted since this run read it (another drain may have run meanwhile): this run changed nothing on it; `kubectl nodeevict status` shows any drain recorded, and running the command again plans from what is there now"
                    )));
                }
                hold.holder = now;
                hold.resource_version = current.resource_version();
                hold.schedulability = schedulability(&current);
            }
            Err(e) => return Err(target.api_error(e)),
        }
    }
    Err(Error::Failed(format!(
        "node {node} kept changing while its drain journal was written; {}",
        crate::hint::resume_hint(node)
    )))
}

/// The refusal when another run wrote (or removed) the journal since this run read it.
fn taken(node: &str, expected: Option<&str>, recorded_now: bool) -> Error {
    let what = match (expected == Some(run_id()), recorded_now) {
        (true, true) => "another run has taken over the drain of node {node}: this run stops here",
        (true, false) => "another run finished or undid the drain of node {node}: this run stops here",
        (false, true) => "another run holds the drain of node {node} (it wrote the journal since this run read it): this run changed nothing on it",
        (false, false) => "the drain recorded on node {node} was finished or undone by another run meanwhile: this run changed nothing on it",
    }
    .replace("{node}", node);
    let next = if recorded_now {
        // That run may still be going: resume or abort only once it has stopped.
        format!(
            "; `kubectl nodeevict status` shows it; should that run have stopped, `kubectl nodeevict resume {node}` finishes the drain and `kubectl nodeevict abort {node}` undoes it{}",
            crate::hint::not_started_hint(node)
        )
    } else {
        "; `kubectl nodeevict status` shows what is recorded".to_string()
    };
    Error::Failed(format!("{what}{next}"))
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
                scaled_object: None,
                surge_pods: vec![],
            }],
            touched: vec![],
        };
        let text = serde_json::to_string(&j).unwrap();
        assert!(text.contains("\"step\":\"prescaled\""), "{text}");
        assert_eq!(NodeJournal::from_annotation(&text).unwrap(), j);
    }

    #[test]
    fn a_negative_grace_period_in_a_record_is_never_sent() {
        let text = r#"{"step":"cordoned","started":"x","options":{"force":true,"deleteEmptydirData":false,"disableEviction":false,"gracePeriod":-1,"prescale":true},"wasUnschedulable":false}"#;
        let j = NodeJournal::from_annotation(text).unwrap();
        assert_eq!(j.options.grace_period, None);
    }

    #[test]
    fn the_holder_is_the_run_named_in_the_journal() {
        let node = |annotation: Option<&str>| -> Node {
            let mut n = Node::default();
            n.metadata.annotations =
                annotation.map(|a| [(NODE_ANNOTATION.to_string(), a.to_string())].into());
            n
        };
        assert_eq!(holder_of(&node(None)), None);
        assert_eq!(
            holder_of(&node(Some(r#"{"step":"cordoned","run":"42-7"}"#))),
            Some("42-7".into())
        );
        // Written before journals named their run: held by nobody in particular.
        assert_eq!(
            holder_of(&node(Some(r#"{"step":"cordoned"}"#))),
            Some(String::new())
        );
        assert_eq!(
            holder_of(&node(Some("not json"))),
            Some("<unreadable>".into())
        );
        assert_ne!(run_id(), "");
    }
}
