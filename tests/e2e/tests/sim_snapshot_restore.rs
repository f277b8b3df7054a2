//! kube-sim's snapshots and restores, through real kubectl: a volume's data is modelled by
//! its content marker (`sim.kube-sim.dev/content` on the PV); a VolumeSnapshot of its claim
//! keeps the marker, a claim created from the snapshot (`dataSource`) gets it, an empty claim
//! gets none; the provisioner refuses what external-provisioner refuses.

use std::time::Duration;

use serde_json::Value;
use suite_tests::{SimProcess, apply_yaml, wait_for};

const CONTENT: &str = "sim.kube-sim.dev/content";

/// report-cache (apps, aura) is Bound to a disk.csi.azure.com volume; its class
/// `managed-premium` waits for a consumer, so the claims here use `retained` (Immediate).
fn marked_snapshot(sim: &SimProcess, dir: &std::path::Path) -> String {
    let pv = sim.get_json(&["pvc", "report-cache", "-n", "apps"])["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sim.kubectl(&["annotate", "pv", &pv, &format!("{CONTENT}=reports-v1")]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    apply_yaml(
        sim,
        dir,
        "snap.yaml",
        "apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: cache-snap, namespace: apps}
spec:
  volumeSnapshotClassName: csi-azuredisk-vsc
  source: {persistentVolumeClaimName: report-cache}
",
    );
    wait_for("the snapshot to be ready", Duration::from_secs(20), || {
        sim.get_json(&["volumesnapshot", "cache-snap", "-n", "apps"])["status"]["readyToUse"]
            == true
    });
    "cache-snap".into()
}

fn claim_yaml(name: &str, size: &str, class: &str, snapshot: Option<&str>) -> String {
    let source = snapshot.map_or(String::new(), |s| {
        format!(
            "  dataSource: {{apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: {s}}}\n"
        )
    });
    format!(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, namespace: apps}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: {class}
  resources: {{requests: {{storage: {size}}}}}
{source}"
    )
}

fn bound_volume(sim: &SimProcess, claim: &str) -> Value {
    wait_for(
        &format!("claim {claim} to be Bound"),
        Duration::from_secs(20),
        || sim.get_json(&["pvc", claim, "-n", "apps"])["status"]["phase"] == "Bound",
    );
    let pv = sim.get_json(&["pvc", claim, "-n", "apps"])["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    sim.get_json(&["pv", &pv])
}

fn pending_event(sim: &SimProcess, claim: &str, words: &str) {
    wait_for(
        &format!("a ProvisioningFailed event on {claim}"),
        Duration::from_secs(20),
        || {
            let events = sim.get_json(&["events", "-n", "apps"]);
            events["items"].as_array().unwrap().iter().any(|e| {
                e["involvedObject"]["name"] == claim
                    && e["reason"] == "ProvisioningFailed"
                    && e["message"].as_str().unwrap_or("").contains(words)
            })
        },
    );
    assert_eq!(
        sim.get_json(&["pvc", claim, "-n", "apps"])["status"]["phase"],
        "Pending"
    );
}

#[test]
fn a_claim_restored_from_a_snapshot_carries_its_content_and_an_empty_one_none() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let dir = tempfile::tempdir().unwrap();
    let snap = marked_snapshot(&sim, dir.path());
    let vs = sim.get_json(&["volumesnapshot", &snap, "-n", "apps"]);
    assert_eq!(vs["metadata"]["annotations"][CONTENT], "reports-v1");
    assert_eq!(vs["status"]["restoreSize"], "20Gi");

    apply_yaml(
        &sim,
        dir.path(),
        "restored.yaml",
        &claim_yaml("restored", "20Gi", "retained", Some(&snap)),
    );
    apply_yaml(
        &sim,
        dir.path(),
        "empty.yaml",
        &claim_yaml("empty", "5Gi", "retained", None),
    );
    let restored = bound_volume(&sim, "restored");
    assert_eq!(restored["metadata"]["annotations"][CONTENT], "reports-v1");
    assert_eq!(restored["spec"]["storageClassName"], "retained");
    let empty = bound_volume(&sim, "empty");
    assert!(
        empty["metadata"]["annotations"][CONTENT].is_null(),
        "{empty}"
    );
    assert_eq!(empty["spec"]["capacity"]["storage"], "5Gi");
}

#[test]
fn the_provisioner_refuses_a_missing_snapshot_a_smaller_claim_and_an_unknown_class() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let dir = tempfile::tempdir().unwrap();
    let snap = marked_snapshot(&sim, dir.path());
    apply_yaml(
        &sim,
        dir.path(),
        "missing.yaml",
        &claim_yaml("from-missing", "20Gi", "retained", Some("no-such-snap")),
    );
    pending_event(
        &sim,
        "from-missing",
        "error getting snapshot no-such-snap from api server",
    );
    apply_yaml(
        &sim,
        dir.path(),
        "small.yaml",
        &claim_yaml("too-small", "10Gi", "retained", Some(&snap)),
    );
    pending_event(
        &sim,
        "too-small",
        "is less than the size 21474836480 for the source snapshot cache-snap",
    );
    apply_yaml(
        &sim,
        dir.path(),
        "class.yaml",
        &claim_yaml("no-class", "1Gi", "no-such-class", None),
    );
    pending_event(
        &sim,
        "no-class",
        "storageclass.storage.k8s.io \"no-such-class\" not found",
    );

    // A snapshot created after the claim that names it: the provisioner waits, then restores.
    apply_yaml(
        &sim,
        dir.path(),
        "later.yaml",
        &claim_yaml("from-later", "20Gi", "retained", Some("later-snap")),
    );
    pending_event(&sim, "from-later", "later-snap");
    apply_yaml(
        &sim,
        dir.path(),
        "later-snap.yaml",
        "apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: later-snap, namespace: apps}
spec:
  volumeSnapshotClassName: csi-azuredisk-vsc
  source: {persistentVolumeClaimName: report-cache}
",
    );
    let later = bound_volume(&sim, "from-later");
    assert_eq!(later["metadata"]["annotations"][CONTENT], "reports-v1");
}
