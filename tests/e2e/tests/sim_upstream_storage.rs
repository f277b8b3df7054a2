//! kube-sim's storage and garbage collection as upstream, seen through unmodified kubectl:
//! StatefulSet claim retention policies (pkg/controller/statefulset), the garbage collector
//! (pkg/controller/garbagecollector) and claims nothing provisions
//! (pkg/controller/volume/persistentvolume/pv_controller.go).

use std::time::Duration;

use serde_json::Value;
use suite_tests::SimProcess;
use suite_tests::{apply_yaml as apply, pod_ready as ready, wait_for};

const NS: &str = "default";

/// The object, or None when kubectl says it is not found.
fn get(sim: &SimProcess, kind: &str, name: &str) -> Option<Value> {
    sim.find_json(&[kind, name, "-n", NS])
}

fn phase(sim: &SimProcess, kind: &str, name: &str) -> String {
    get(sim, kind, name)
        .and_then(|o| o["status"]["phase"].as_str().map(String::from))
        .unwrap_or_default()
}

/// Events of one object, as `kubectl get events --field-selector` lists them.
fn events_of(sim: &SimProcess, name: &str) -> Vec<Value> {
    let list = sim.get_json(&["events", "-n", NS]);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == name)
        .cloned()
        .collect()
}

fn statefulset(policy: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: {NS}
spec:
  replicas: 3
  serviceName: web
  selector:
    matchLabels: {{app: web}}
  persistentVolumeClaimRetentionPolicy: {policy}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
"#
    )
}

fn wait_three_ready(sim: &SimProcess) {
    wait_for("web-0..2 Ready", Duration::from_secs(30), || {
        (0..3).all(|i| get(sim, "pod", &format!("web-{i}")).is_some_and(|p| ready(&p)))
            && (0..3).all(|i| phase(sim, "pvc", &format!("data-web-{i}")) == "Bound")
    });
}

#[test]
fn when_scaled_delete_deletes_the_claims_of_condemned_ordinals_only() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "sts.yaml",
        &statefulset("{whenScaled: Delete, whenDeleted: Retain}"),
    );
    wait_three_ready(&sim);
    let kept = get(&sim, "pvc", "data-web-0").unwrap()["metadata"]["uid"].clone();
    let out = sim.kubectl(&["scale", "sts", "web", "-n", NS, "--replicas=1"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "the claims of web-1 and web-2 to be deleted",
        Duration::from_secs(30),
        || get(&sim, "pvc", "data-web-1").is_none() && get(&sim, "pvc", "data-web-2").is_none(),
    );
    let claim0 = get(&sim, "pvc", "data-web-0").expect("claim 0 is kept");
    assert_eq!(claim0["metadata"]["uid"], kept);
    assert!(
        claim0["metadata"]["ownerReferences"].is_null(),
        "an ordinal in range has no owner with whenDeleted: Retain: {claim0}"
    );
    assert!(get(&sim, "pod", "web-0").is_some_and(|p| ready(&p)));
}

#[test]
fn when_deleted_delete_hands_the_claims_to_the_statefulset_and_they_go_with_it() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "sts.yaml",
        &statefulset("{whenScaled: Retain, whenDeleted: Delete}"),
    );
    wait_three_ready(&sim);
    let sts_uid = get(&sim, "sts", "web").unwrap()["metadata"]["uid"].clone();
    wait_for(
        "claims owned by the StatefulSet",
        Duration::from_secs(10),
        || {
            (0..3).all(|i| {
                get(&sim, "pvc", &format!("data-web-{i}")).is_some_and(|c| {
                    let owner = &c["metadata"]["ownerReferences"][0];
                    owner["kind"] == "StatefulSet"
                        && owner["uid"] == sts_uid
                        && owner["controller"] == true
                })
            })
        },
    );
    // Scaling down keeps them (whenScaled: Retain)…
    let out = sim.kubectl(&["scale", "sts", "web", "-n", NS, "--replicas=2"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("web-2 gone", Duration::from_secs(20), || {
        get(&sim, "pod", "web-2").is_none()
    });
    assert!(get(&sim, "pvc", "data-web-2").is_some());
    // …deleting the StatefulSet takes every claim with it.
    let out = sim.kubectl(&["delete", "sts", "web", "-n", NS]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("every claim deleted", Duration::from_secs(30), || {
        (0..3).all(|i| get(&sim, "pvc", &format!("data-web-{i}")).is_none())
    });
}

#[test]
fn the_garbage_collector_deletes_objects_whose_owners_are_gone() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "owned.yaml",
        &format!(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: keeper
  namespace: {NS}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orphan
  namespace: {NS}
  ownerReferences:
  - {{apiVersion: v1, kind: Pod, name: gone-0, uid: 00000000-0000-0000-0000-000000000001}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"#
        ),
    );
    let keeper = get(&sim, "configmap", "keeper").unwrap()["metadata"]["uid"].clone();
    apply(
        &sim,
        dir.path(),
        "half.yaml",
        &format!(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: half
  namespace: {NS}
  ownerReferences:
  - {{apiVersion: v1, kind: Pod, name: gone-0, uid: 00000000-0000-0000-0000-000000000001}}
  - {{apiVersion: v1, kind: ConfigMap, name: keeper, uid: {}}}
"#,
            keeper.as_str().unwrap()
        ),
    );
    wait_for("the orphan claim deleted", Duration::from_secs(10), || {
        get(&sim, "pvc", "orphan").is_none()
    });
    wait_for(
        "the dangling reference removed",
        Duration::from_secs(10),
        || {
            get(&sim, "configmap", "half").is_some_and(|c| {
                c["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|r| r.len() == 1 && r[0]["name"] == "keeper")
            })
        },
    );
}

#[test]
fn a_claim_without_a_class_stays_pending_until_a_matching_volume_is_created() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "claim.yaml",
        &format!(
            r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: static
  namespace: {NS}
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 5Gi}}}}
"#
        ),
    );
    wait_for("the FailedBinding event", Duration::from_secs(10), || {
        events_of(&sim, "static").iter().any(|e| {
            e["reason"] == "FailedBinding"
                && e["message"]
                    == "no persistent volumes available for this claim and no storage class is set"
        })
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(phase(&sim, "pvc", "static"), "Pending");
    let pvs = sim.get_json(&["pv"]);
    assert!(
        !pvs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|pv| pv["spec"]["claimRef"]["name"] == "static"),
        "nothing provisions a claim without a class"
    );
    // Too small, and of another class: neither matches.
    apply(
        &sim,
        dir.path(),
        "pvs.yaml",
        r#"apiVersion: v1
kind: PersistentVolume
metadata:
  name: small
spec:
  storageClassName: ""
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /srv/small}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: classy
spec:
  storageClassName: retained
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /srv/classy}
"#,
    );
    wait_for("the volumes Available", Duration::from_secs(10), || {
        phase(&sim, "pv", "small") == "Available" && phase(&sim, "pv", "classy") == "Available"
    });
    assert_eq!(phase(&sim, "pvc", "static"), "Pending");
    apply(
        &sim,
        dir.path(),
        "pv.yaml",
        r#"apiVersion: v1
kind: PersistentVolume
metadata:
  name: handmade
spec:
  capacity: {storage: 8Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /srv/handmade}
"#,
    );
    wait_for("the claim Bound", Duration::from_secs(10), || {
        phase(&sim, "pvc", "static") == "Bound"
    });
    let claim = get(&sim, "pvc", "static").unwrap();
    assert_eq!(claim["spec"]["volumeName"], "handmade");
    assert_eq!(claim["status"]["capacity"]["storage"], "8Gi");
    let pv = sim.get_json(&["pv", "handmade"]);
    assert_eq!(pv["status"]["phase"], "Bound");
    assert_eq!(pv["spec"]["claimRef"]["uid"], claim["metadata"]["uid"]);
    assert_eq!(phase(&sim, "pv", "small"), "Available");
    // A class that does not exist provisions nothing either.
    apply(
        &sim,
        dir.path(),
        "nope.yaml",
        &format!(
            r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: nope
  namespace: {NS}
spec:
  storageClassName: nope
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"#
        ),
    );
    wait_for(
        "the ProvisioningFailed event",
        Duration::from_secs(10),
        || {
            events_of(&sim, "nope").iter().any(|e| {
                e["reason"] == "ProvisioningFailed"
                    && e["type"] == "Warning"
                    && e["message"] == r#"storageclass.storage.k8s.io "nope" not found"#
            })
        },
    );
    assert_eq!(phase(&sim, "pvc", "nope"), "Pending");
}

#[test]
fn a_no_provisioner_class_waits_for_a_consumer_and_a_volume() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "local.yaml",
        &format!(
            r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: local-data
  namespace: {NS}
spec:
  storageClassName: local
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"#
        ),
    );
    wait_for(
        "the WaitForFirstConsumer event",
        Duration::from_secs(10),
        || {
            events_of(&sim, "local-data").iter().any(|e| {
                e["reason"] == "WaitForFirstConsumer"
                    && e["message"] == "waiting for first consumer to be created before binding"
            })
        },
    );
    assert_eq!(phase(&sim, "pvc", "local-data"), "Pending");
    apply(
        &sim,
        dir.path(),
        "pod.yaml",
        &format!(
            r#"apiVersion: v1
kind: Pod
metadata:
  name: user
  namespace: {NS}
spec:
  containers:
  - name: main
    image: busybox
  volumes:
  - name: data
    persistentVolumeClaim: {{claimName: local-data}}
"#
        ),
    );
    wait_for(
        "the pod unschedulable for want of a volume",
        Duration::from_secs(10),
        || {
            events_of(&sim, "user").iter().any(|e| {
                e["reason"] == "FailedScheduling"
                    && e["message"].as_str().is_some_and(|m| {
                        m.contains("didn't find available persistent volumes to bind")
                    })
            })
        },
    );
    assert_eq!(phase(&sim, "pvc", "local-data"), "Pending");
    assert_eq!(phase(&sim, "pod", "user"), "Pending");
    apply(
        &sim,
        dir.path(),
        "pv.yaml",
        r#"apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv
spec:
  storageClassName: local
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  local: {path: /mnt/disks/ssd1}
"#,
    );
    wait_for(
        "the claim Bound and the pod Running",
        Duration::from_secs(20),
        || phase(&sim, "pvc", "local-data") == "Bound" && phase(&sim, "pod", "user") == "Running",
    );
    assert_eq!(
        get(&sim, "pvc", "local-data").unwrap()["spec"]["volumeName"],
        "local-pv"
    );
}
