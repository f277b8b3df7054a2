//! `kubectl pvcreset` against storage as a real cluster has it: StatefulSets whose claim
//! retention policy deletes claims on scale-down, and claims nothing provisions.

use std::time::Duration;

use serde_json::Value;
use suite_tests::{Interrupt, SimProcess};
use suite_tests::{apply_yaml as apply, pod_ready as ready, wait_for};

const NS: &str = "default";

fn get(sim: &SimProcess, kind: &str, name: &str) -> Value {
    sim.get_json(&[kind, name, "-n", NS])
}

/// A 3-replica StatefulSet `web` whose claims `data-web-N` are deleted on scale-down.
fn web_deleting_claims_on_scale_down(sim: &SimProcess, dir: &std::path::Path) {
    apply(
        sim,
        dir,
        "web.yaml",
        &format!(
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
  persistentVolumeClaimRetentionPolicy: {{whenScaled: Delete, whenDeleted: Retain}}
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
        ),
    );
    wait_for("web-0..2 Ready", Duration::from_secs(30), || {
        (0..3).all(|i| {
            let pod = sim.kubectl(&["get", "pod", &format!("web-{i}"), "-n", NS, "-o", "json"]);
            pod.code == Some(0) && ready(&serde_json::from_str(&pod.stdout).unwrap())
        })
    });
}

fn claim_uids(sim: &SimProcess) -> Vec<String> {
    (0..3)
        .map(|i| {
            get(sim, "pvc", &format!("data-web-{i}"))["metadata"]["uid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn a_scale_reset_under_when_scaled_delete_deletes_only_the_claims_it_names() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let home = tempfile::tempdir().unwrap();
    web_deleting_claims_on_scale_down(&sim, home.path());
    let before = claim_uids(&sim);
    let args = [
        "--statefulset",
        "web",
        "--ordinal",
        "0",
        "--ordinal",
        "1",
        "-n",
        NS,
    ];
    let dry = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[&args[..], &["--dry-run"]].concat(),
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("claim retention: whenScaled Delete, whenDeleted Retain")
            && dry
                .stderr
                .contains("set statefulset/web's claim retention to whenScaled: Retain"),
        "the plan shows the policy and what the reset does about it: {}",
        dry.stderr
    );
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[&args[..], &["-y", "--timeout", "60s"]].concat(),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let after = claim_uids(&sim);
    assert_eq!(
        after[2], before[2],
        "data-web-2 was not named: it keeps its uid"
    );
    for i in 0..2 {
        assert_ne!(after[i], before[i], "data-web-{i} is a new claim");
        assert_eq!(
            get(&sim, "pvc", &format!("data-web-{i}"))["status"]["phase"],
            "Bound"
        );
    }
    let sts = get(&sim, "sts", "web");
    assert_eq!(sts["spec"]["replicas"], 3);
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"], "Delete",
        "the policy is back: {sts}"
    );
    assert!(sts["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null());
}

#[test]
fn an_aborted_reset_puts_the_retention_policy_back() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let home = tempfile::tempdir().unwrap();
    web_deleting_claims_on_scale_down(&sim, home.path());
    let before = claim_uids(&sim);
    let run = suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &[
            "--statefulset",
            "web",
            "--ordinal",
            "0",
            "--ordinal",
            "1",
            "-n",
            NS,
            "-y",
            "--timeout",
            "60s",
        ],
        "scaled-down",
        Interrupt::Kill,
    );
    assert_eq!(run.code, None, "{}", run.stderr);
    assert_eq!(
        get(&sim, "sts", "web")["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"],
        "Retain",
        "held at Retain while the owner is scaled down"
    );
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "abort",
            "statefulset/web",
            "-n",
            NS,
            "-y",
            "--timeout",
            "60s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let sts = get(&sim, "sts", "web");
    assert_eq!(
        sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"],
        "Delete"
    );
    assert_eq!(sts["spec"]["replicas"], 3);
    assert_eq!(claim_uids(&sim), before, "an abort keeps every claim");
}

/// A Deployment `name` mounting claim `name`, bound to a hand-made volume of `class`.
fn static_volume_user(sim: &SimProcess, dir: &std::path::Path, name: &str, class: &str) {
    apply(
        sim,
        dir,
        &format!("{name}.yaml"),
        &format!(
            r#"apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}-pv
spec:
  storageClassName: "{class}"
  capacity: {{storage: 2Gi}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {{path: /srv/{name}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
  namespace: {NS}
spec:
  storageClassName: "{class}"
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 2Gi}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {NS}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: busybox
      volumes:
      - name: data
        persistentVolumeClaim: {{claimName: {name}}}
"#
        ),
    );
    wait_for(&format!("{name} Bound"), Duration::from_secs(20), || {
        get(sim, "pvc", name)["status"]["phase"] == "Bound"
    });
}

#[test]
fn a_claim_nothing_provisions_is_refused_and_forced_only_with_a_plain_warning() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let home = tempfile::tempdir().unwrap();
    apply(
        &sim,
        home.path(),
        "local.yaml",
        r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: Immediate
"#,
    );
    static_volume_user(&sim, home.path(), "static", "");
    static_volume_user(&sim, home.path(), "local-cache", "local");
    let seen = sim.journal().len();
    for (claim, class) in [("static", "\"\""), ("local-cache", "local")] {
        let out = sim.run_plugin(
            "pvcreset",
            home.path(),
            &[claim, "-n", NS, "-y", "--timeout", "20s"],
        );
        assert_eq!(out.code, Some(1), "{claim}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "the claim's class {class} has no provisioner: a recreated claim would stay Pending until someone provides a PersistentVolume"
            )) && out.stderr.contains("--force"),
            "{claim}: {}",
            out.stderr
        );
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "one line: {}",
            out.stderr
        );
    }
    let mutations: Vec<Value> = sim
        .journal()
        .into_iter()
        .skip(seen)
        .filter(|e| {
            matches!(
                e["method"].as_str(),
                Some("POST" | "PUT" | "PATCH" | "DELETE")
            )
        })
        .filter(|e| {
            !e["path"]
                .as_str()
                .unwrap_or("")
                .contains("selfsubjectaccessreviews")
        })
        .collect();
    assert!(mutations.is_empty(), "nothing changed: {mutations:?}");
    let forced = sim.run_plugin(
        "pvcreset",
        home.path(),
        &["static", "-n", NS, "--force", "--dry-run"],
    );
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    // The plan's lines wrap at 120 columns: compare with the whitespace collapsed.
    let flat = forced
        .stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains(
            "the pods of deployment/static stay Pending until someone creates a PersistentVolume for the new claim"
        ),
        "{}",
        forced.stderr
    );
}
