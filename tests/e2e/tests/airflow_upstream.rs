//! `kubectl airflow` (and `kubectl pvcreset`) against workloads whose controllers behave as
//! upstream's do where they depend on them: a paused Deployment does not roll, a StatefulSet
//! with `updateStrategy: OnDelete` or a `partition` replaces no pod on a template change, and
//! `spec.ordinals.start` numbers a StatefulSet's pods and claims.

use serde_json::Value;
use suite_tests::SimProcess;

const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

/// (name, uid, Ready) of the zodiac pods of one component, not terminating.
fn pods_of(sim: &SimProcess, component: &str) -> Vec<(String, String, bool)> {
    let list = sim.get_json(&[
        "pods",
        "-n",
        ZODIAC,
        "-l",
        &format!("component={component}"),
    ]);
    let mut pods: Vec<(String, String, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["uid"].as_str().unwrap().to_string(),
                ready,
            )
        })
        .collect();
    pods.sort();
    pods
}

fn patch(sim: &SimProcess, what: &str, patch: &str) {
    let out = sim.kubectl(&["patch", what, "-n", ZODIAC, "-p", patch]);
    assert_eq!(out.code, Some(0), "patch {what}: {}", out.stderr);
}

fn restart(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> suite_tests::Run {
    let mut all = vec!["restart"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-n", ZODIAC, "--yes", "--timeout", "20s"]);
    sim.run_plugin("airflow", home, &all)
}

#[test]
fn restart_of_a_paused_deployment_refuses_with_the_fix_and_delete_restarts_it() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    patch(
        &sim,
        "deployment/zodiac-cosmo-1172-scheduler",
        r#"{"spec":{"paused":true}}"#,
    );
    let before = pods_of(&sim, "scheduler");
    let writes = sim.mutating_requests().len();
    let started = std::time::Instant::now();
    let out = restart(&sim, home.path(), &["scheduler"]);
    assert_eq!(out.code, Some(3), "refused, not waited for: {}", out.stderr);
    assert!(
        started.elapsed().as_secs() < 10,
        "refused at plan time, not at the timeout"
    );
    assert!(
        out.stderr
            .contains("deployment/zodiac-cosmo-1172-scheduler is paused")
            && out.stderr.contains(&format!(
                "kubectl rollout resume deployment/zodiac-cosmo-1172-scheduler -n {ZODIAC}"
            ))
            && out.stderr.contains("--strategy delete"),
        "{}",
        out.stderr
    );
    assert_eq!(
        sim.mutating_requests().len(),
        writes,
        "nothing changed: {:?}",
        &sim.mutating_requests()[writes..]
    );
    let d = sim.get_json(&["deployment", "zodiac-cosmo-1172-scheduler", "-n", ZODIAC]);
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_null(),
        "no restart annotation left behind: {}",
        d["spec"]["template"]
    );
    assert_eq!(pods_of(&sim, "scheduler"), before);

    // The delete strategy restarts it while paused: the ReplicaSet recreates the pod.
    let out = restart(&sim, home.path(), &["scheduler", "--strategy", "delete"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let after = pods_of(&sim, "scheduler");
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].2, "the new scheduler is Ready: {after:?}");
    assert_ne!(after[0].1, before[0].1, "a new pod");
    let d = sim.get_json(&["deployment", "zodiac-cosmo-1172-scheduler", "-n", ZODIAC]);
    assert_eq!(d["spec"]["paused"], true, "still paused: {}", d["spec"]);
}

/// Restarts the zodiac worker after `strategy` was patched onto its StatefulSet: the plan
/// says the pods are deleted instead, and the pod is replaced.
fn worker_restart_deletes_the_pods(strategy: &str, said: &str) {
    let sim = SimProcess::start("astronomer", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    patch(&sim, "statefulset/zodiac-cosmo-1172-worker", strategy);
    let before = pods_of(&sim, "worker");
    assert_eq!(before.len(), 1);
    let out = restart(&sim, home.path(), &["worker"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(said)
            && out
                .stdout
                .contains("deleted pod zodiac-cosmo-1172-worker-0"),
        "{}{}",
        out.stderr,
        out.stdout
    );
    let dry = restart(&sim, home.path(), &["worker", "--dry-run", "-o", "json"]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(plan["steps"][0]["how"], "delete", "{plan}");
    assert!(
        plan["steps"][0]["why"].as_str().unwrap().contains(said),
        "{plan}"
    );
    let after = pods_of(&sim, "worker");
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].2, "the new worker is Ready: {after:?}");
    assert_ne!(after[0].1, before[0].1, "a new pod");
    let template_patches = sim
        .mutating_requests()
        .into_iter()
        .filter(|e| {
            e["method"] == "PATCH"
                && e["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("/statefulsets/zodiac-cosmo-1172-worker")
        })
        .count();
    assert_eq!(
        template_patches, 1,
        "only the test's own patch: no restart annotation that would never roll"
    );
}

#[test]
fn restart_of_an_on_delete_statefulset_deletes_its_pods() {
    worker_restart_deletes_the_pods(
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#,
        "updateStrategy OnDelete",
    );
}

#[test]
fn restart_of_a_partitioned_statefulset_deletes_its_pods() {
    worker_restart_deletes_the_pods(
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}"#,
        "partition 1",
    );
}

fn uid_of(sim: &SimProcess, ns: &str, kind: &str, name: &str) -> String {
    sim.get_json(&[kind, name, "-n", ns])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string()
}

fn wait_for(what: &str, timeout_secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(timeout_secs);
    while std::time::Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    panic!("timed out waiting for {what}");
}

fn ready_pod(sim: &SimProcess, ns: &str, name: &str) -> bool {
    let out = sim.kubectl(&["get", "pod", name, "-n", ns, "-o", "json"]);
    out.code == Some(0)
        && serde_json::from_str::<Value>(&out.stdout).is_ok_and(|p| {
            p["metadata"]["deletionTimestamp"].is_null()
                && p["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
        })
}

#[test]
fn pvcreset_names_the_claims_of_a_statefulset_from_its_ordinals_start() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let sts = suite_tests::write(
        home.path(),
        "sts.yaml",
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  ordinals: {start: 5}
  serviceName: web
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
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
"#,
    );
    let out = sim.kubectl(&["apply", "--validate=false", "-f", sts.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("web-5 and web-6 Ready", 30, || {
        ready_pod(&sim, "default", "web-5") && ready_pod(&sim, "default", "web-6")
    });
    let (five, six) = (
        uid_of(&sim, "default", "pvc", "data-web-5"),
        uid_of(&sim, "default", "pvc", "data-web-6"),
    );
    // An ordinal the StatefulSet does not run: one line, exit 2, nothing changed.
    let writes = sim.mutating_requests().len();
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "--statefulset",
            "web",
            "--ordinal",
            "0",
            "-n",
            "default",
            "-y",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("runs ordinals 5..=6") && out.stderr.contains("no ordinal 0"),
        "{}",
        out.stderr
    );
    assert_eq!(sim.mutating_requests().len(), writes, "nothing changed");
    // An ordinal it runs: that claim is replaced, the other kept.
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "--statefulset",
            "web",
            "--ordinal",
            "6",
            "-n",
            "default",
            "-y",
            "--timeout",
            "60s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_ne!(
        uid_of(&sim, "default", "pvc", "data-web-6"),
        six,
        "a new claim"
    );
    assert_eq!(uid_of(&sim, "default", "pvc", "data-web-5"), five, "kept");
    assert!(ready_pod(&sim, "default", "web-5") && ready_pod(&sim, "default", "web-6"));
}

#[test]
fn reset_logs_all_resets_the_claims_of_the_ordinals_the_workers_run() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let old_claim = "logs-zodiac-cosmo-1172-worker-0";
    let claim = "logs-zodiac-cosmo-1172-worker-5";
    let kept = uid_of(&sim, ZODIAC, "pvc", old_claim);
    // The worker's ordinals move to start at 5: worker-0 goes (its claim is retained),
    // worker-5 comes with a claim of its own.
    patch(
        &sim,
        "statefulset/zodiac-cosmo-1172-worker",
        r#"{"spec":{"ordinals":{"start":5}}}"#,
    );
    wait_for("worker-5 Ready", 30, || {
        ready_pod(&sim, ZODIAC, "zodiac-cosmo-1172-worker-5") && pods_of(&sim, "worker").len() == 1
    });
    let before = uid_of(&sim, ZODIAC, "pvc", claim);
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &[
            "reset-logs",
            "--all",
            "-n",
            ZODIAC,
            "-y",
            "--timeout",
            "60s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_ne!(
        uid_of(&sim, ZODIAC, "pvc", claim),
        before,
        "the running worker's log claim is replaced: {}",
        out.stderr
    );
    assert_eq!(
        uid_of(&sim, ZODIAC, "pvc", old_claim),
        kept,
        "the claim of an ordinal no worker runs is left alone"
    );
    assert!(ready_pod(&sim, ZODIAC, "zodiac-cosmo-1172-worker-5"));
    // One worker pod named for an ordinal it does not run: one line, exit 2.
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &[
            "reset-logs",
            "zodiac-cosmo-1172-worker-0",
            "-n",
            ZODIAC,
            "-y",
        ],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("no ordinal 0"), "{}", out.stderr);
}

#[test]
fn a_restart_that_times_out_on_a_quiet_cluster_says_where_the_pods_stand() {
    // Real time: the crash-looping worker-2 is in a 300 s back-off, so no pod changes while
    // the restart waits, and the StatefulSet does not roll past a pod that is not Ready.
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let lunar = "astronomer-ee-lunar-nuclear-3725";
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &["restart", "worker", "-n", lunar, "--yes", "--timeout", "3s"],
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(
        out.stderr.contains("still waiting for worker 0/3 Ready (")
            && out.stderr.contains("old pod CrashLoopBackOff")
            && out.stderr.contains("old pod Running"),
        "{}",
        out.stderr
    );
}
