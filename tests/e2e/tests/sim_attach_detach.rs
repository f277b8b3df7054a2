//! kube-sim's attach/detach controller through real kubectl: a VolumeAttachment
//! (storage.k8s.io/v1, named as csi_attacher.go names it) for each CSI volume a scheduled pod
//! mounts, attached by the external-attacher, deleted once the pod is gone and gone after the
//! PV's detach time.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use suite_tests::SimProcess;

const NODE: &str = "ip-10-0-12-27.ec2.internal";

fn attachments(sim: &SimProcess) -> Vec<Value> {
    sim.get_json(&["volumeattachments"])["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_pods_csi_volume_is_attached_while_it_runs_and_detached_after_the_pv_s_detach_time() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let dir = tempfile::tempdir().unwrap();
    // artsy's default class gp3 is ebs.csi.aws.com's (WaitForFirstConsumer).
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": "data", "namespace": "default"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "db", "namespace": "default"},
         "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 0,
                  "containers": [{"name": "main", "image": "postgres"}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}},
    ]});
    suite_tests::apply_yaml(&sim, dir.path(), "db", &objects.to_string());
    suite_tests::wait_for("the volume attached", Duration::from_secs(30), || {
        attachments(&sim)
            .iter()
            .any(|va| va["status"]["attached"] == true)
    });
    let pv = sim.get_json(&["pvc", "data", "-n", "default"])["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let all = attachments(&sim);
    assert_eq!(all.len(), 1, "{all:?}");
    let va = &all[0];
    assert_eq!(va["spec"]["attacher"], "ebs.csi.aws.com");
    assert_eq!(va["spec"]["nodeName"], NODE);
    assert_eq!(va["spec"]["source"]["persistentVolumeName"], pv.as_str());
    assert_eq!(
        va["metadata"]["finalizers"],
        json!(["external-attacher/ebs-csi-aws-com"])
    );
    let name = va["metadata"]["name"].as_str().unwrap().to_string();
    // csi-<64 hex digits>: sha256(volumeHandle + attacher + node).
    assert!(
        name.len() == 68 && name[4..].chars().all(|c| c.is_ascii_hexdigit()),
        "{name}"
    );
    // `kubectl get` prints upstream's columns.
    let table = sim.kubectl(&["get", "volumeattachments"]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let header: Vec<&str> = table
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"]
    );
    assert!(
        table
            .stdout
            .contains(&format!("ebs.csi.aws.com   {pv}   {NODE}   true")),
        "{}",
        table.stdout
    );

    // Detaching takes 20 simulated seconds (4 real ones): the attachment is deleted (with
    // the external-attacher's finalizer it stays, marked) once the pod is gone.
    let set = sim.kubectl(&["annotate", "pv", &pv, "sim.kube-sim.dev/detach-seconds=20"]);
    assert_eq!(set.code, Some(0), "{}", set.stderr);
    let gone = sim.kubectl(&["delete", "pod", "db", "-n", "default", "--wait=false"]);
    assert_eq!(gone.code, Some(0), "{}", gone.stderr);
    suite_tests::wait_for("the attachment deleted", Duration::from_secs(10), || {
        attachments(&sim)
            .iter()
            .any(|va| !va["metadata"]["deletionTimestamp"].is_null())
    });
    let deleting = Instant::now();
    suite_tests::wait_for("the attachment gone", Duration::from_secs(30), || {
        attachments(&sim).is_empty()
    });
    let took = deleting.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "detached after {took:?}, not the PV's 20 simulated seconds"
    );
    // The claim stays bound: only the attachment went.
    assert_eq!(
        sim.get_json(&["pvc", "data", "-n", "default"])["status"]["phase"],
        "Bound"
    );
}

#[test]
fn volumes_without_a_csi_driver_get_no_attachment() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let dir = tempfile::tempdir().unwrap();
    // A local volume (no provisioner, no spec.csi), pre-bound to its claim.
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "PersistentVolume",
         "metadata": {"name": "local-1"},
         "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                  "storageClassName": "", "local": {"path": "/mnt/disks/1"},
                  "claimRef": {"namespace": "default", "name": "local"}}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": "local", "namespace": "default"},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": "local-1",
                  "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "cache", "namespace": "default"},
         "spec": {"nodeName": NODE, "containers": [{"name": "main", "image": "redis"}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "local"}}]}},
    ]});
    suite_tests::apply_yaml(&sim, dir.path(), "local", &objects.to_string());
    suite_tests::wait_for("the claim bound", Duration::from_secs(30), || {
        sim.get_json(&["pvc", "local", "-n", "default"])["status"]["phase"] == "Bound"
    });
    // A few reconciliations later, still none.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(attachments(&sim), Vec::<Value>::new());
}
