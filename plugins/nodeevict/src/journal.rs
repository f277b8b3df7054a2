//! The drain's journal: an annotation on the node (progress, options, what was pre-scaled) and
//! one on each pre-scaled owner (its original replicas), so `status`, `resume` and `abort` work
//! after any interruption.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::Api;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::journal;
use shared::lease::Liveness;
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
/// k8s.io/api core/v1 well_known_labels.go LabelNodeExcludeBalancers: the service controller
/// (k8s.io/cloud-provider controllers/service/controller.go, shouldIncludeNode) leaves a node
/// with this label out of every external load balancer's backends, so traffic leaves the node
/// before its pods do.
pub const EXCLUDE_LB_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";
/// The value a drain gives that label (the service controller reads only its presence): a node
/// labelled so was labelled by a drain, and `abort` and `uncordon` take it off again (also after
/// the drain's journal is gone); a node labelled otherwise before keeps its label.
pub const EXCLUDE_LB_VALUE: &str = "kubectl-nodeevict";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Cordoned ahead with the rest of its pool, so that no pod moves onto it; its own drain
    /// (planned at its turn) has not started.
    Queued,
    /// The node is cordoned and the journal written.
    Cordoned,
    /// The extra replicas are Ready on other nodes.
    Prescaled,
    /// Every pod to evict is gone from the node.
    Evicted,
    /// Owners restored and the node verified empty: waiting for its volumes to detach.
    Detaching,
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
    /// `--ignore-gitops`: pre-scale Deployments a GitOps tool or an operator manages.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_gitops: bool,
    /// `--pod-selector`: only the pods it selects are drained, the others stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<String>,
    /// `--order none`: every pod evicted at once, not in waves by priority.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unordered: bool,
    /// `--force-after`, in seconds: evictions a budget still refuses then become deletions
    /// (crate::deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_after_seconds: Option<u64>,
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
    pub kind: shared::owner::WorkloadKind,
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
    /// This drain labelled the node out of external load balancers (it was not before).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub excluded_from_lbs: bool,
    /// With `--force-after`: `started` + that duration (RFC 3339), written once when the drain
    /// starts so that a resume keeps it rather than counting from its own start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

impl NodeJournal {
    /// The record of a node cordoned ahead with its pool: nothing else done yet.
    pub fn queued_at(started: &str, options: &Options, was_unschedulable: bool) -> NodeJournal {
        NodeJournal {
            step: Step::Queued,
            started: started.to_string(),
            options: options.clone(),
            was_unschedulable,
            prescaled: Vec::new(),
            touched: Vec::new(),
            excluded_from_lbs: false,
            // A --force-after deadline counts from the node's own drain, not from its queueing.
            deadline: None,
        }
    }

    pub fn queued(&self) -> bool {
        self.step == Step::Queued
    }

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
    /// The node's UID (what its Events name), known without reading the node again.
    uid: Option<String>,
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

/// The node's annotations that hold its drain: the journal names its run in its `run` key.
static KEYS: journal::Keys = journal::Keys {
    journal: NODE_ANNOTATION,
    run: None,
    heartbeat: HEARTBEAT_ANNOTATION,
};

/// This process's name in the journals it writes.
pub fn run_id() -> &'static str {
    journal::run_id()
}

/// The run named in a node's journal annotation; `Some("")` for a journal without one (written
/// by an older version), None without a journal.
pub fn holder_of(node: &Node) -> Option<String> {
    KEYS.holder(node.annotations())
}

/// Whether another run is still carrying out the drain recorded on the node: its heartbeat is
/// fresh (or, on this machine, its process is there). This run's own journal is never that.
pub fn liveness(node: &Node) -> Liveness {
    KEYS.liveness(node.annotations(), run_id())
}

/// Refuses, before any change, a drain, resume or abort of a node whose recorded drain another
/// run is still carrying out.
pub fn refuse_if_running(node: &Node) -> shared::Result<()> {
    refuse_while(&node.name_any(), &liveness(node))
}

fn refuse_while(node: &str, liveness: &Liveness) -> shared::Result<()> {
    match liveness.refusal(&format!("the drain of node {node}")) {
        Some(why) => Err(Error::Failed(format!(
            "{why}; this run changed nothing (`{}` shows the drain)",
            crate::hint::command("status", &[])
        ))),
        None => Ok(()),
    }
}

/// Remembers the node as read: the next journal write is conditional on it.
pub fn observe(node: &Node) {
    holds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(node.name_any(), Hold::of(node));
}

/// The UID of the node as this run last read or wrote it, if it has.
pub fn observed_uid(node: &str) -> Option<String> {
    holds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(node)
        .and_then(|hold| hold.uid.clone())
}

impl Hold {
    fn of(node: &Node) -> Hold {
        Hold {
            resource_version: node.resource_version(),
            uid: node.uid(),
            holder: holder_of(node),
            schedulability: schedulability(node),
        }
    }
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
/// condition that the node still holds the journal this run last saw there
/// (`shared::journal`). A node that has changed otherwise (a kubelet's status) is read again
/// and the write retried; a journal written by another run meanwhile refuses with exit 1 and
/// this run stops.
pub async fn write(
    target: &Target,
    node: &str,
    record: Record<'_>,
    spec: Option<Value>,
) -> shared::Result<()> {
    let api: Api<Node> = Api::all(target.client.clone());
    let text;
    let desired = match record {
        Record::Set(recorded) => {
            let mut value = serde_json::to_value(recorded)
                .map_err(|e| Error::Failed(format!("cannot write the journal of {node}: {e}")))?;
            value["run"] = json!(run_id());
            text = value.to_string();
            journal::Desired::Set(&text)
        }
        Record::Remove => journal::Desired::Remove,
        Record::Keep => journal::Desired::Keep,
    };
    let known = holds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(node)
        .cloned();
    let hold = match known {
        Some(hold) => hold,
        // Never read by this run: what is there now is what it expects.
        None => Hold::of(&api.get(node).await.map_err(|e| target.api_error(e))?),
    };
    let expect = match hold.holder.as_deref() {
        None => journal::Expect::Fresh,
        Some(run) if run == run_id() => journal::Expect::Mine,
        Some(run) => journal::Expect::From(Some(run.to_string())),
    };
    let rules = NodeRules {
        node,
        expected: hold.holder.as_deref(),
        starting: matches!(record, Record::Set(_)),
        schedulability: &hold.schedulability,
    };
    let written = journal::Write {
        target,
        api: &api,
        name: node,
        keys: &KEYS,
        me: run_id(),
        lease_key: format!("node/{node}"),
        expect,
        known: hold.resource_version.clone(),
        desired,
        also: spec.map(|spec| json!({ "spec": spec })),
    }
    .run(&rules)
    .await?;
    holds()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(node.to_string(), Hold::of(&written));
    Ok(())
}

/// How a node's journal write refuses.
struct NodeRules<'a> {
    node: &'a str,
    /// The run whose journal this run last saw on the node.
    expected: Option<&'a str>,
    /// The write starts a drain (or takes one over).
    starting: bool,
    schedulability: &'a Schedulability,
}

impl journal::Rules<Node> for NodeRules<'_> {
    fn conflict(&self, conflict: journal::Conflict) -> Error {
        let node = self.node;
        match conflict {
            journal::Conflict::HeldByAnother => taken(node, None, true),
            journal::Conflict::Finished => taken(node, self.expected, false),
            journal::Conflict::TakenOver => taken(node, self.expected, true),
            journal::Conflict::KeptChanging => Error::Failed(format!(
                "node {node} kept changing while its drain journal was written; {}",
                crate::hint::resume_hint(node)
            )),
        }
    }

    fn still_as_planned(&self, current: &Node) -> shared::Result<()> {
        if self.starting && schedulability(current) != *self.schedulability {
            return Err(Error::Failed(format!(
                "node {} was cordoned, uncordoned or tainted since this run read it (another drain may have run meanwhile): this run changed nothing on it; `{}` shows any drain recorded, and running the command again plans from what is there now",
                self.node,
                crate::hint::command("status", &[])
            )));
        }
        Ok(())
    }

    fn refuse_if_running(&self, liveness: &Liveness) -> shared::Result<()> {
        refuse_while(self.node, liveness)
    }

    fn gone(&self) -> Error {
        Error::Failed(format!("node {} is gone", self.node))
    }
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
            "; `{}` shows it; should that run have stopped, `{}` finishes the drain and `{}` undoes it{}",
            crate::hint::command("status", &[]),
            crate::hint::command("resume", &[node]),
            crate::hint::command("abort", &[node]),
            crate::hint::not_started_hint(node)
        )
    } else {
        format!(
            "; `{}` shows what is recorded",
            crate::hint::command("status", &[])
        )
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
            }],
            touched: vec![],
            excluded_from_lbs: true,
            deadline: Some("2026-11-25T10:10:00Z".into()),
        };
        let text = serde_json::to_string(&j).unwrap();
        assert!(text.contains("\"excludedFromLbs\":true"), "{text}");
        assert!(text.contains("\"step\":\"prescaled\""), "{text}");
        assert!(
            text.contains("\"deadline\":\"2026-11-25T10:10:00Z\""),
            "{text}"
        );
        assert_eq!(NodeJournal::from_annotation(&text).unwrap(), j);
    }

    #[test]
    fn a_record_with_the_surge_pods_of_older_versions_is_still_read() {
        // Versions before the surge pods were left to the ReplicaSet controller recorded them.
        let text = r#"{"step":"prescaled","started":"x","options":{"force":false,"deleteEmptydirData":false,"disableEviction":false,"prescale":true},"wasUnschedulable":false,"prescaled":[{"namespace":"default","name":"web","original":1,"target":2,"surgePods":["web-7d4b9-abcde"]}]}"#;
        let j = NodeJournal::from_annotation(text).unwrap();
        assert_eq!(j.step, Step::Prescaled);
        assert_eq!(j.prescaled[0].name, "web");
        assert_eq!(j.prescaled[0].target, 2);
    }

    #[test]
    fn a_negative_grace_period_in_a_record_is_never_sent() {
        let text = r#"{"step":"cordoned","started":"x","options":{"force":true,"deleteEmptydirData":false,"disableEviction":false,"gracePeriod":-1,"prescale":true},"wasUnschedulable":false}"#;
        let j = NodeJournal::from_annotation(text).unwrap();
        assert_eq!(j.options.grace_period, None);
        // Written before --force-after: still read, with no deadline.
        assert_eq!((j.deadline, j.options.force_after_seconds), (None, None));
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
