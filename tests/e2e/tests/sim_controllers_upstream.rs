//! kube-sim's workload controllers and kubelet pacing as upstream, seen through unmodified
//! kubectl: paused Deployments (pkg/controller/deployment), StatefulSet update strategies and
//! `spec.ordinals.start` (pkg/controller/statefulset), and the kubelet's readiness probe delay,
//! image pull time and termination grace period (pkg/kubelet).

use std::time::{Duration, Instant};

use serde_json::Value;
use suite_tests::SimProcess;
use suite_tests::{apply_yaml as apply, pod_ready as ready, wait_for};

const NS: &str = "default";

/// The object, or None when kubectl says it is not found.
fn get(sim: &SimProcess, kind: &str, name: &str) -> Option<Value> {
    sim.find_json(&[kind, name, "-n", NS])
}

/// (name, uid, controller-revision-hash or pod-template-hash, Ready) of the pods labelled app=web.
fn web_pods(sim: &SimProcess) -> Vec<(String, String, String, bool)> {
    let list = sim.get_json(&["pods", "-n", NS, "-l", "app=web"]);
    let mut pods: Vec<(String, String, String, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let labels = &p["metadata"]["labels"];
            let revision = labels["controller-revision-hash"]
                .as_str()
                .or(labels["pod-template-hash"].as_str())
                .unwrap_or("")
                .to_string();
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["uid"].as_str().unwrap().to_string(),
                revision,
                ready(p),
            )
        })
        .collect();
    pods.sort();
    pods
}

fn kubectl_ok(sim: &SimProcess, args: &[&str]) -> String {
    let out = sim.kubectl(args);
    assert_eq!(out.code, Some(0), "kubectl {args:?}: {}", out.stderr);
    out.stdout
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

#[test]
fn a_paused_deployment_does_not_roll_until_resumed() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(&sim, dir.path(), "deploy.yaml", DEPLOYMENT);
    wait_for("two Ready web pods", Duration::from_secs(20), || {
        let pods = web_pods(&sim);
        pods.len() == 2 && pods.iter().all(|p| p.3)
    });
    let before = web_pods(&sim);
    kubectl_ok(&sim, &["rollout", "pause", "deployment/web", "-n", NS]);
    // kubectl itself refuses a rolling restart of a paused Deployment
    // (polymorphichelpers/objectrestarter.go); a template change made otherwise is not rolled.
    let refused = sim.kubectl(&["rollout", "restart", "deployment/web", "-n", NS]);
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("paused"),
        "kubectl names the pause: {}",
        refused.stderr
    );
    kubectl_ok(
        &sim,
        &[
            "patch",
            "deployment/web",
            "-n",
            NS,
            "-p",
            r#"{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-12-01T15:00:00Z"}}}}}"#,
        ],
    );
    // Created paused, a Deployment gets no ReplicaSet at all (sync.go: createIfNotExisted
    // is false while paused).
    apply(
        &sim,
        dir.path(),
        "idle.yaml",
        &DEPLOYMENT
            .replace("name: web", "name: idle")
            .replace("app: web", "app: idle")
            .replace("replicas: 2", "replicas: 2\n  paused: true"),
    );
    // 3 s at time-scale 30 is 90 simulated seconds: a rollout would have replaced both pods.
    std::thread::sleep(Duration::from_secs(3));
    let idle = sim.get_json(&["replicasets", "-n", NS, "-l", "app=idle"]);
    assert_eq!(idle["items"].as_array().unwrap().len(), 0, "{idle}");
    assert_eq!(web_pods(&sim), before, "no pod replaced while paused");
    let sets = sim.get_json(&["replicasets", "-n", NS, "-l", "app=web"]);
    assert_eq!(
        sets["items"].as_array().unwrap().len(),
        1,
        "no new ReplicaSet while paused"
    );
    let d = get(&sim, "deployment", "web").unwrap();
    let progressing = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(progressing["reason"], "DeploymentPaused", "{progressing}");
    assert_eq!(d["status"]["updatedReplicas"], 0, "{}", d["status"]);
    // Resumed, it rolls.
    kubectl_ok(&sim, &["rollout", "resume", "deployment/web", "-n", NS]);
    wait_for("the rollout after resume", Duration::from_secs(30), || {
        let pods = web_pods(&sim);
        pods.len() == 2
            && pods.iter().all(|p| p.3)
            && pods.iter().all(|p| before.iter().all(|b| b.1 != p.1))
    });
}

fn statefulset(replicas: i64, extra_spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: {NS}
spec:
  replicas: {replicas}
  serviceName: web
  selector:
    matchLabels: {{app: web}}
{extra_spec}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#
    )
}

fn wait_all_ready(sim: &SimProcess, names: &[&str]) {
    wait_for(&format!("{names:?} Ready"), Duration::from_secs(30), || {
        let pods = web_pods(sim);
        pods.len() == names.len()
            && pods
                .iter()
                .zip(names)
                .all(|(p, n)| p.0 == *n && p.3 && !p.2.is_empty())
    });
}

#[test]
fn an_on_delete_statefulset_replaces_only_the_pods_deleted() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "sts.yaml",
        &statefulset(2, "  updateStrategy: {type: OnDelete}"),
    );
    wait_all_ready(&sim, &["web-0", "web-1"]);
    let before = web_pods(&sim);
    kubectl_ok(&sim, &["rollout", "restart", "statefulset/web", "-n", NS]);
    wait_for("the new update revision", Duration::from_secs(10), || {
        let st = get(&sim, "statefulset", "web").unwrap();
        st["status"]["updateRevision"] != st["status"]["currentRevision"]
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        web_pods(&sim),
        before,
        "OnDelete: no pod replaced, each keeps its revision"
    );
    let st = get(&sim, "statefulset", "web").unwrap();
    let update = st["status"]["updateRevision"].as_str().unwrap().to_string();
    assert_eq!(st["status"]["updatedReplicas"], 0, "{}", st["status"]);
    // A pod deleted comes back at the update revision.
    kubectl_ok(&sim, &["delete", "pod", "web-1", "-n", NS, "--wait=false"]);
    wait_for("web-1 recreated", Duration::from_secs(20), || {
        let pods = web_pods(&sim);
        pods.len() == 2 && pods[1].1 != before[1].1 && pods[1].3
    });
    let after = web_pods(&sim);
    assert_eq!(after[1].2, update, "web-1 is at the update revision");
    assert_eq!(after[0], before[0], "web-0 untouched");
}

#[test]
fn a_partition_keeps_the_ordinals_below_it_on_their_revision() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "sts.yaml",
        &statefulset(
            3,
            "  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}",
        ),
    );
    wait_all_ready(&sim, &["web-0", "web-1", "web-2"]);
    let before = web_pods(&sim);
    let old = before[0].2.clone();
    kubectl_ok(&sim, &["rollout", "restart", "statefulset/web", "-n", NS]);
    wait_for("web-2 replaced", Duration::from_secs(20), || {
        let pods = web_pods(&sim);
        pods.len() == 3 && pods[2].1 != before[2].1 && pods[2].3
    });
    std::thread::sleep(Duration::from_secs(2));
    let after = web_pods(&sim);
    assert_ne!(after[2].2, old, "web-2 (at the partition) is updated");
    assert_eq!(
        after[..2],
        before[..2],
        "web-0 and web-1 (below the partition) are not replaced"
    );
    // Deleted, a pod below the partition comes back at the current (old) revision.
    kubectl_ok(&sim, &["delete", "pod", "web-0", "-n", NS, "--wait=false"]);
    wait_for("web-0 recreated", Duration::from_secs(20), || {
        let pods = web_pods(&sim);
        pods.len() == 3 && pods[0].1 != before[0].1 && pods[0].3
    });
    assert_eq!(web_pods(&sim)[0].2, old, "web-0 keeps the current revision");
}

#[test]
fn ordinals_start_numbers_pods_and_claims_from_start() {
    let sim = SimProcess::start("aura", &["--time-scale", "30"]);
    let dir = tempfile::tempdir().unwrap();
    let claims = r#"  ordinals: {start: 5}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi"#;
    apply(&sim, dir.path(), "sts.yaml", &statefulset(2, claims));
    wait_all_ready(&sim, &["web-5", "web-6"]);
    for claim in ["data-web-5", "data-web-6"] {
        assert!(get(&sim, "pvc", claim).is_some(), "{claim} exists");
    }
    assert!(get(&sim, "pvc", "data-web-0").is_none());
    let pod = get(&sim, "pod", "web-5").unwrap();
    let volume = pod["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "data")
        .unwrap()
        .clone();
    assert_eq!(volume["persistentVolumeClaim"]["claimName"], "data-web-5");
    // Scaling down removes the highest ordinal; moving start moves the pods.
    kubectl_ok(
        &sim,
        &["scale", "statefulset/web", "-n", NS, "--replicas=1"],
    );
    wait_all_ready(&sim, &["web-5"]);
    kubectl_ok(
        &sim,
        &[
            "patch",
            "statefulset/web",
            "-n",
            NS,
            "-p",
            r#"{"spec":{"ordinals":{"start":0}}}"#,
        ],
    );
    wait_all_ready(&sim, &["web-0"]);
    assert!(get(&sim, "pvc", "data-web-0").is_some());
}

/// Waits for `check` on the pod `name`, returning the real time it took from `since`.
fn time_until(sim: &SimProcess, name: &str, since: Instant, check: impl Fn(&Value) -> bool) -> f64 {
    wait_for(&format!("pod {name}"), Duration::from_secs(20), || {
        get(sim, "pod", name).is_some_and(|p| check(&p))
    });
    since.elapsed().as_secs_f64()
}

#[test]
fn readiness_waits_for_the_probes_initial_delay() {
    let sim = SimProcess::start("aura", &["--time-scale", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let pod = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: probed
  namespace: {NS}
spec:
  containers:
  - name: web
    image: nginx:1.27
    readinessProbe:
      httpGet: {{path: /, port: 80}}
      initialDelaySeconds: 20
      periodSeconds: 5
"#
    );
    apply(&sim, dir.path(), "pod.yaml", &pod);
    let started = time_until(&sim, "probed", Instant::now(), |p| {
        p["status"]["phase"] == "Running"
    });
    let t0 = Instant::now();
    let ready_after = time_until(&sim, "probed", t0, ready);
    // 20 simulated seconds at time-scale 10: about 2 s after the container started.
    assert!(
        (1.6..3.5).contains(&ready_after),
        "Ready {ready_after:.2}s after Running (Running after {started:.2}s)"
    );
}

#[test]
fn an_image_pull_keeps_the_pod_pending_in_container_creating() {
    let sim = SimProcess::start("aura", &["--time-scale", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let pod = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: pulling
  namespace: {NS}
  annotations: {{sim.kube-sim.dev/image-pull-seconds: "20"}}
spec:
  containers:
  - name: web
    image: nginx:1.27
"#
    );
    let t0 = Instant::now();
    apply(&sim, dir.path(), "pod.yaml", &pod);
    let creating = time_until(&sim, "pulling", t0, |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    });
    let p = get(&sim, "pod", "pulling").unwrap();
    assert_eq!(p["status"]["phase"], "Pending");
    let running = time_until(&sim, "pulling", t0, |p| p["status"]["phase"] == "Running");
    assert!(
        running - creating >= 1.6,
        "20 s pull at time-scale 10: Running {running:.2}s, ContainerCreating at {creating:.2}s"
    );
    let events = sim.get_json(&["events", "-n", NS]);
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "pulling")
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"Pulling") && reasons.contains(&"Pulled"),
        "{reasons:?}"
    );
}

#[test]
fn a_deleted_pod_that_ignores_sigterm_stays_its_whole_grace_period() {
    let sim = SimProcess::start("aura", &["--time-scale", "10"]);
    let dir = tempfile::tempdir().unwrap();
    let pods = format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: stubborn
  namespace: {NS}
  annotations: {{sim.kube-sim.dev/terminate-seconds: "3600"}}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: web
    image: nginx:1.27
---
apiVersion: v1
kind: Pod
metadata:
  name: quick
  namespace: {NS}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: web
    image: nginx:1.27
"#
    );
    apply(&sim, dir.path(), "pods.yaml", &pods);
    for name in ["stubborn", "quick"] {
        time_until(&sim, name, Instant::now(), ready);
    }
    kubectl_ok(
        &sim,
        &[
            "delete",
            "pod",
            "stubborn",
            "quick",
            "-n",
            NS,
            "--wait=false",
        ],
    );
    let t0 = Instant::now();
    wait_for("quick to go", Duration::from_secs(5), || {
        get(&sim, "pod", "quick").is_none()
    });
    let quick = t0.elapsed().as_secs_f64();
    assert!(
        quick < 1.5,
        "a pod that exits on SIGTERM goes at once: {quick:.2}s"
    );
    let stubborn = get(&sim, "pod", "stubborn").expect("still terminating");
    assert_eq!(stubborn["metadata"]["deletionGracePeriodSeconds"], 30);
    wait_for("stubborn to go", Duration::from_secs(10), || {
        get(&sim, "pod", "stubborn").is_none()
    });
    let gone = t0.elapsed().as_secs_f64();
    // 30 simulated seconds at time-scale 10.
    assert!(
        (2.6..4.5).contains(&gone),
        "the grace period's end: gone after {gone:.2}s"
    );
}
