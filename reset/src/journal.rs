//! The reset's journal: an annotation on the (first) owner, written before the first change,
//! updated after every step and removed at the end. Whatever interrupts a reset, the journal
//! says what the owner looked like and how far the reset got, so `resume` can finish it and
//! `abort` can undo it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::doctor::Permission;
use shared::owner::WorkloadKind;

/// The annotation holding the journal (JSON).
pub const ANNOTATION: &str = "pvcreset.kubectl-plugins.dev/journal";

/// The run that owns the journal, written with it. Every later write checks it first (and
/// carries the resourceVersion it was read at), so of two runs on one owner only one
/// drives the reset; `resume` takes a journal over by writing its own.
pub const RUN_ANNOTATION: &str = "pvcreset.kubectl-plugins.dev/run";

/// Beside the journal: the heartbeat of the run driving the reset (`shared::lease`), so a
/// rerun, `resume` or `abort` never takes over a reset that is still being carried out.
pub const HEARTBEAT_ANNOTATION: &str = "pvcreset.kubectl-plugins.dev/heartbeat";

/// How the claims are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// StatefulSet, one ordinal: delete the claim and the pod; the controller recreates both
    Pod,
    /// Scale the owner to 0, delete (and recreate) the claims, scale back
    Scale,
}

/// How far a reset got. Every step is idempotent, so resuming repeats the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The journal is written; nothing else has changed.
    Started,
    AutoscalersPaused,
    Snapshotted,
    /// The owners are at 0 replicas and their pods are gone.
    ScaledDown,
    /// The old claims are gone (deleted, finalizers done).
    ClaimsDeleted,
    /// Claims without a StatefulSet template are created again from their recorded spec.
    ClaimsRecreated,
    /// The owners are back to their recorded replicas.
    ScaledUp,
}

/// A workload whose replicas the reset changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRecord {
    pub kind: WorkloadKind,
    pub name: String,
    /// Replicas before the reset: what it goes back to.
    pub replicas: i32,
    /// A StatefulSet's `persistentVolumeClaimRetentionPolicy` before the reset, recorded when
    /// the reset holds it at `whenScaled: Retain` (a scale to 0 under `whenScaled: Delete`
    /// would delete every ordinal's claims); put back at the end and by `abort`.
    #[serde(
        default,
        rename = "claimRetention",
        skip_serializing_if = "Option::is_none"
    )]
    pub claim_retention: Option<Value>,
}

impl OwnerRecord {
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind.lowercase(), self.name)
    }
}

/// A claim being replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub name: String,
    /// The old claim's uid: a claim with another uid is the new one.
    pub uid: String,
    /// The claim to create again (no StatefulSet template makes it): metadata name, labels,
    /// annotations other than binding ones, and the spec without volumeName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreate: Option<Value>,
}

/// The pod deleted by the `pod` strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodRecord {
    pub name: String,
    pub uid: String,
}

/// An autoscaler paused for the reset (`--ignore-autoscaler`), with what restores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoscalerRecord {
    /// HorizontalPodAutoscaler or ScaledObject.
    pub kind: String,
    pub name: String,
    /// HPA: its spec.behavior before (null when unset). ScaledObject: its
    /// `autoscaling.keda.sh/paused` annotation before (null when unset).
    pub original: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Journal {
    pub strategy: Strategy,
    pub step: Step,
    pub started: String,
    pub owners: Vec<OwnerRecord>,
    pub claims: Vec<ClaimRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub autoscalers: Vec<AutoscalerRecord>,
    /// VolumeSnapshots to take (and their class) before anything is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRecord {
    pub name: String,
    pub claim: String,
    pub class: String,
}

impl Journal {
    /// The claims' names, joined with ", " (as the messages show them).
    pub fn claim_names(&self) -> String {
        self.claims
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn to_annotation(&self) -> String {
        serde_json::to_string(self).expect("a journal serializes")
    }

    /// The journal in `text`, or why it cannot be acted on. A journal naming no owner or no
    /// claim (edited by hand) has nothing to scale back or replace.
    pub fn from_annotation(text: &str) -> Result<Journal, String> {
        let journal: Journal = serde_json::from_str(text)
            .map_err(|e| format!("unreadable {ANNOTATION} annotation: {e}"))?;
        if journal.owners.is_empty() {
            return Err(format!("the {ANNOTATION} annotation names no owner"));
        }
        if journal.claims.is_empty() {
            return Err(format!("the {ANNOTATION} annotation names no claim"));
        }
        Ok(journal)
    }

    /// The owner holding the journal (the first one; `from_annotation` and `plan` make sure
    /// there is one).
    pub fn holder(&self) -> Result<&OwnerRecord, shared::Error> {
        self.owners.first().ok_or_else(|| {
            shared::Error::Failed("the reset's journal names no owner: nothing to act on".into())
        })
    }

    /// Abort is possible while every old claim still exists: nothing is lost yet.
    pub fn abortable(&self) -> bool {
        self.step < Step::ClaimsDeleted
    }
}

/// The writes this reset will make, checked before the first one.
pub fn needed_permissions(journal: &Journal) -> Vec<Permission> {
    use shared::doctor::Scope::Namespace;
    let owner_resource = |kind: WorkloadKind| match kind {
        WorkloadKind::StatefulSet => "statefulsets",
        WorkloadKind::Deployment => "deployments",
    };
    let mut needs = vec![Permission::new(
        "delete",
        "",
        "persistentvolumeclaims",
        Namespace,
        "delete the old claim",
    )];
    for owner in &journal.owners {
        let resource = owner_resource(owner.kind);
        needs.push(Permission::new(
            "patch",
            "apps",
            resource,
            Namespace,
            "record the reset's journal on its owner",
        ));
        if journal.strategy == Strategy::Scale {
            needs.push(
                Permission::new("patch", "apps", resource, Namespace, "scale the owner")
                    .sub("scale"),
            );
        }
    }
    if journal.strategy == Strategy::Pod {
        needs.push(Permission::new(
            "delete",
            "",
            "pods",
            Namespace,
            "replace the pod mounting the claim",
        ));
    }
    if journal.claims.iter().any(|c| c.recreate.is_some()) {
        needs.push(Permission::new(
            "create",
            "",
            "persistentvolumeclaims",
            Namespace,
            "create the claim again",
        ));
    }
    for a in &journal.autoscalers {
        needs.push(if a.kind == "ScaledObject" {
            Permission::new(
                "patch",
                "keda.sh",
                "scaledobjects",
                Namespace,
                "pause the KEDA ScaledObject",
            )
        } else {
            Permission::new(
                "patch",
                "autoscaling",
                "horizontalpodautoscalers",
                Namespace,
                "pause the HorizontalPodAutoscaler",
            )
        });
    }
    if !journal.snapshots.is_empty() {
        needs.push(Permission::new(
            "create",
            "snapshot.storage.k8s.io",
            "volumesnapshots",
            Namespace,
            "snapshot the claim first",
        ));
    }
    needs.dedup_by(|a, b| {
        (a.verb, a.resource, a.subresource) == (b.verb, b.resource, b.subresource)
    });
    needs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_round_trips_and_orders_its_steps() {
        let journal = Journal {
            strategy: Strategy::Scale,
            step: Step::ScaledDown,
            started: "2026-11-25T10:00:00Z".into(),
            owners: vec![OwnerRecord {
                kind: WorkloadKind::StatefulSet,
                name: "prometheus".into(),
                replicas: 1,
                claim_retention: None,
            }],
            claims: vec![ClaimRecord {
                name: "prometheus-data-prometheus-0".into(),
                uid: "u-1".into(),
                recreate: None,
            }],
            pod: None,
            autoscalers: vec![],
            snapshots: vec![],
        };
        let text = journal.to_annotation();
        assert!(text.contains("\"step\":\"scaled-down\""), "{text}");
        assert_eq!(Journal::from_annotation(&text).unwrap(), journal);
        assert!(journal.abortable());
        assert!(Step::ClaimsDeleted > Step::ScaledDown);
        assert!(Journal::from_annotation("{").is_err());
        let ownerless = text.replace(
            r#""owners":[{"kind":"StatefulSet","name":"prometheus","replicas":1}]"#,
            r#""owners":[]"#,
        );
        assert_ne!(ownerless, text);
        assert!(
            Journal::from_annotation(&ownerless)
                .unwrap_err()
                .contains("names no owner")
        );
    }
}
