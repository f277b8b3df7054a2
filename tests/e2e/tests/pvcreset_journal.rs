//! `kubectl pvcreset` and its journal (issue 13): a new reset never writes over an interrupted
//! one, two runs on one owner cannot both proceed, no input panics, owners are found as
//! kubectl's GetControllerOf finds them and workload selectors are read whole.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use suite_tests::{Interrupt, Run, SimProcess, plugin};
use suite_tests::{apply_yaml as apply, pod_ready as ready};

const JOURNAL: &str = "pvcreset.kubectl-plugins.dev/journal";

fn uid(sim: &SimProcess, kind: &str, ns: &str, name: &str) -> String {
    sim.get_json(&[kind, name, "-n", ns])["metadata"]["uid"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind}/{name} has no uid"))
        .to_string()
}

fn has_journal(object: &Value) -> bool {
    !object["metadata"]["annotations"][JOURNAL].is_null()
}

/// A failure the operator can read: one line, no panic.
fn one_line_error(out: &Run, code: i32, what: &str) {
    assert_eq!(out.code, Some(code), "{what}: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{what}: {}", out.stderr);
    assert_eq!(
        out.stderr.trim().lines().count(),
        1,
        "{what}: one line: {}",
        out.stderr
    );
}

fn wait_for(what: &str, secs: u64, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Successful DELETEs of the claim `name` seen by the sim.
fn claim_deletes(sim: &SimProcess, name: &str) -> usize {
    sim.journal()
        .iter()
        .filter(|e| {
            e["method"] == "DELETE"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(&format!("/persistentvolumeclaims/{name}")))
                && e["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s))
        })
        .count()
}

#[test]
fn the_same_command_after_a_kill_continues_the_reset_instead_of_writing_over_it() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let claim = "prometheus-data-prometheus-0";
    let before = uid(&sim, "pvc", "monitoring", claim);
    let untouched = [
        (
            "apps",
            "report-cache",
            uid(&sim, "pvc", "apps", "report-cache"),
        ),
        (
            "logging",
            "data-elasticsearch-0",
            uid(&sim, "pvc", "logging", "data-elasticsearch-0"),
        ),
    ];
    let args = [
        claim,
        "-n",
        "monitoring",
        "--strategy",
        "scale",
        "-y",
        "--timeout",
        "60s",
    ];
    // Killed once the StatefulSet is at 0: a fresh plan would record 0 as its replicas.
    suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &args,
        "scaled-down",
        Interrupt::Kill,
    );
    assert_eq!(
        sim.get_json(&["sts", "prometheus", "-n", "monitoring"])["spec"]["replicas"],
        0
    );
    let again = sim.run_plugin("pvcreset", home.path(), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("continuing it")
            && again
                .stderr
                .contains("kubectl pvcreset resume statefulset/prometheus -n monitoring"),
        "says it continues the recorded reset: {}",
        again.stderr
    );
    let sts = sim.get_json(&["sts", "prometheus", "-n", "monitoring"]);
    assert_eq!(sts["spec"]["replicas"], 1, "back at its original replicas");
    assert_eq!(sts["status"]["readyReplicas"], 1);
    assert!(!has_journal(&sts), "the journal is removed: {sts}");
    let new = sim.get_json(&["pvc", claim, "-n", "monitoring"]);
    assert_ne!(
        new["metadata"]["uid"].as_str().unwrap(),
        before,
        "a new claim"
    );
    assert_eq!(new["status"]["phase"], "Bound");
    assert!(ready(&sim.get_json(&[
        "pod",
        "prometheus-0",
        "-n",
        "monitoring"
    ])));
    for (ns, name, was) in untouched {
        assert_eq!(uid(&sim, "pvc", ns, name), was, "{name} untouched");
    }
}

#[test]
fn the_same_all_command_after_its_claims_were_deleted_still_names_them_and_continues() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let before: Vec<String> = (0..3)
        .map(|i| uid(&sim, "pvc", "data", &format!("datadir-mongodb-{i}")))
        .collect();
    let args = [
        "--statefulset",
        "mongodb",
        "--all",
        "-n",
        "data",
        "-y",
        "--timeout",
        "60s",
    ];
    suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &args,
        "claims-deleted",
        Interrupt::Kill,
    );
    let again = sim.run_plugin("pvcreset", home.path(), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stderr.contains("continuing it"), "{}", again.stderr);
    let sts = sim.get_json(&["sts", "mongodb", "-n", "data"]);
    assert_eq!(sts["spec"]["replicas"], 3, "back at its original replicas");
    assert_eq!(sts["status"]["readyReplicas"], 3);
    assert!(!has_journal(&sts), "{sts}");
    for (i, old) in before.iter().enumerate() {
        let claim = sim.get_json(&["pvc", &format!("datadir-mongodb-{i}"), "-n", "data"]);
        assert_ne!(claim["metadata"]["uid"].as_str().unwrap(), old);
        assert_eq!(claim["status"]["phase"], "Bound");
    }
}

#[test]
fn of_two_concurrent_resets_of_one_owner_exactly_one_proceeds() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let before = uid(&sim, "pvc", "apps", "report-cache");
    let spawn = || {
        plugin("pvcreset", home.path())
            .args(["report-cache", "-n", "apps", "-y", "--timeout", "60s"])
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pvcreset")
    };
    let (a, b) = (spawn(), spawn());
    let mut runs: Vec<Run> = [a, b]
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait").into())
        .collect();
    runs.sort_by_key(|r| r.code);
    assert_eq!(
        (runs[0].code, runs[1].code),
        (Some(0), Some(1)),
        "exactly one proceeds:\n--- first:\n{}\n--- second:\n{}",
        runs[0].stderr,
        runs[1].stderr
    );
    let loser = &runs[1].stderr;
    assert!(
        loser.contains("another run") && loser.contains("deployment/report-builder"),
        "the other names the owner: {loser}"
    );
    assert!(!loser.contains("panicked"), "{loser}");
    assert_eq!(
        claim_deletes(&sim, "report-cache"),
        1,
        "the claim is deleted once"
    );
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["status"]["readyReplicas"], 1);
    assert!(!has_journal(&deployment), "{deployment}");
    let claim = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
    assert_ne!(claim["metadata"]["uid"].as_str().unwrap(), before);
    assert_eq!(claim["status"]["phase"], "Bound");
}

#[test]
fn a_rerun_naming_other_claims_refuses_with_commands_to_paste() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let claims: Vec<String> = (0..3)
        .map(|i| uid(&sim, "pvc", "data", &format!("datadir-mongodb-{i}")))
        .collect();
    suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["datadir-mongodb-0", "-n", "data", "-y"],
        "started",
        Interrupt::Kill,
    );
    let writes = sim.mutating_requests().len();
    let other = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "--statefulset",
            "mongodb",
            "--ordinal",
            "1",
            "-n",
            "data",
            "--context",
            "kube-sim",
            "-y",
        ],
    );
    one_line_error(&other, 1, "another reset of the owner");
    // The printed commands repeat every flag that chose the cluster (the harness passes
    // --kubeconfig; the operator gave --context).
    let given = format!(
        "--kubeconfig {} --context kube-sim`",
        sim.kubeconfig.display()
    );
    assert!(
        other.stderr.contains(&format!(
            "`kubectl pvcreset resume statefulset/mongodb -n data {given}"
        )) && other.stderr.contains(&format!(
            "`kubectl pvcreset abort statefulset/mongodb -n data {given}"
        )),
        "{}",
        other.stderr
    );
    assert_eq!(
        sim.mutating_requests().len(),
        writes,
        "nothing changed: {:?}",
        &sim.mutating_requests()[writes..]
    );
    let mongodb = sim.get_json(&["sts", "mongodb", "-n", "data"]);
    assert!(has_journal(&mongodb), "the first reset's journal is kept");
    assert!(
        mongodb["metadata"]["annotations"][JOURNAL]
            .as_str()
            .unwrap()
            .contains("datadir-mongodb-0")
    );
    // The printed command, pasted, finishes the recorded reset.
    let printed = other
        .stderr
        .split('`')
        .nth(1)
        .expect("a command in backticks");
    let hint = format!("{printed} -y --timeout 60s");
    let resumed = suite_tests::paste(&hint, &sim.kubeconfig, home.path());
    assert_eq!(resumed.code, Some(0), "{hint}: {}", resumed.stderr);
    assert_ne!(uid(&sim, "pvc", "data", "datadir-mongodb-0"), claims[0]);
    assert_eq!(uid(&sim, "pvc", "data", "datadir-mongodb-1"), claims[1]);
    assert_eq!(uid(&sim, "pvc", "data", "datadir-mongodb-2"), claims[2]);
    assert!(!has_journal(
        &sim.get_json(&["sts", "mongodb", "-n", "data"])
    ));
}

#[test]
fn no_input_panics_empty_claim_sets_ownerless_journals_huge_timeouts() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // --all after a scale to 0: the claims outlive it, and --all names them.
    let scaled = sim.kubectl(&[
        "scale",
        "sts",
        "elasticsearch",
        "-n",
        "logging",
        "--replicas=0",
    ]);
    assert_eq!(scaled.code, Some(0), "{}", scaled.stderr);
    let dry = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "--statefulset",
            "elasticsearch",
            "--all",
            "-n",
            "logging",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(!dry.stderr.contains("panicked"), "{}", dry.stderr);
    for i in 0..3 {
        assert!(
            dry.stderr
                .contains(&format!("claim data-elasticsearch-{i}:")),
            "--all names every claim the templates made: {}",
            dry.stderr
        );
    }
    assert!(
        dry.stderr.contains("scale statefulset/elasticsearch"),
        "{}",
        dry.stderr
    );

    // A StatefulSet that never made a claim: an empty set is refused.
    apply(
        &sim,
        dir.path(),
        "empty.yaml",
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: archive, namespace: logging}
spec:
  replicas: 0
  serviceName: archive
  selector: {matchLabels: {app: archive}}
  template:
    metadata: {labels: {app: archive}}
    spec: {containers: [{name: archive, image: busybox}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], storageClassName: managed-premium, resources: {requests: {storage: 1Gi}}}
"#,
    );
    // A journal with no owner, written by hand.
    let annotated = sim.kubectl(&[
        "annotate",
        "deployment",
        "report-builder",
        "-n",
        "apps",
        &format!(
            r#"{JOURNAL}={{"strategy":"scale","step":"scaled-down","started":"2026-11-25T10:00:00Z","owners":[],"claims":[{{"name":"report-cache","uid":"x"}}]}}"#
        ),
    ]);
    assert_eq!(annotated.code, Some(0), "{}", annotated.stderr);
    let writes = sim.mutating_requests().len();

    let empty = sim.run_plugin(
        "pvcreset",
        home.path(),
        &["--statefulset", "archive", "--all", "-n", "logging", "-y"],
    );
    one_line_error(&empty, 1, "--all of a StatefulSet without claims");
    assert!(empty.stderr.contains("archive"), "{}", empty.stderr);
    let empty_dry = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "--statefulset",
            "archive",
            "--all",
            "-n",
            "logging",
            "--dry-run",
        ],
    );
    one_line_error(
        &empty_dry,
        1,
        "--all --dry-run of a StatefulSet without claims",
    );

    for args in [
        vec!["status", "-n", "apps"],
        vec!["status", "-A", "-o", "json"],
        vec!["resume", "report-builder", "-n", "apps", "-y"],
        vec!["resume", "--all", "-n", "apps", "-y"],
        vec!["abort", "report-builder", "-n", "apps", "-y"],
        vec!["report-cache", "-n", "apps", "-y", "--timeout", "5s"],
    ] {
        let out = sim.run_plugin("pvcreset", home.path(), &args);
        one_line_error(&out, 1, &format!("journal without owners, {args:?}"));
        assert!(
            out.stderr.contains("deployment/report-builder"),
            "{args:?} names the owner: {}",
            out.stderr
        );
    }
    let huge = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "prometheus-data-prometheus-0",
            "-n",
            "monitoring",
            "-y",
            "--timeout",
            "99999999999d",
        ],
    );
    one_line_error(&huge, 2, "--timeout 99999999999d");

    assert_eq!(
        sim.mutating_requests().len(),
        writes,
        "nothing changed: {:?}",
        &sim.mutating_requests()[writes..]
    );
}

#[test]
fn a_pod_whose_only_owner_reference_is_not_a_controller_is_unmanaged() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let owner = uid(&sim, "deployment", "apps", "report-builder");
    apply(
        &sim,
        dir.path(),
        "orphan.yaml",
        &format!(
            r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: orphan-data, namespace: apps}}
spec: {{accessModes: [ReadWriteOnce], storageClassName: managed-premium, resources: {{requests: {{storage: 1Gi}}}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: orphan
  namespace: apps
  labels: {{app: orphan}}
  ownerReferences:
  - {{apiVersion: apps/v1, kind: Deployment, name: report-builder, uid: {owner}}}
spec:
  containers: [{{name: main, image: busybox}}]
  volumes: [{{name: data, persistentVolumeClaim: {{claimName: orphan-data}}}}]
"#
        ),
    );
    let writes = sim.mutating_requests().len();
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &["orphan-data", "-n", "apps", "-y", "--timeout", "10s"],
    );
    one_line_error(&out, 1, "a pod no controller recreates");
    assert!(
        out.stderr.contains("no controller recreates"),
        "{}",
        out.stderr
    );
    assert_eq!(
        sim.mutating_requests().len(),
        writes,
        "nothing changed: {:?}",
        &sim.mutating_requests()[writes..]
    );
    assert_eq!(
        sim.get_json(&["deployment", "report-builder", "-n", "apps"])["spec"]["replicas"],
        1
    );
}

#[test]
fn a_match_expressions_selector_waits_on_its_own_pods_only() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "selector.yaml",
        r#"apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: cart-cache, namespace: shop}
spec: {accessModes: [ReadWriteOnce], storageClassName: managed-premium, resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  replicas: 1
  selector:
    matchExpressions: [{key: app, operator: In, values: [cart]}]
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers: [{name: cart, image: shop/cart:1}]
      volumes: [{name: cache, persistentVolumeClaim: {claimName: cart-cache}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: bystander
  namespace: shop
  labels: {app: other}
  annotations: {sim.kube-sim.dev/ready-after-seconds: "1000000"}
spec:
  containers: [{name: main, image: busybox}]
"#,
    );
    wait_for("cart to be Ready", 30, || {
        sim.get_json(&["deployment", "cart", "-n", "shop"])["status"]["readyReplicas"] == 1
    });
    let bystander = uid(&sim, "pod", "shop", "bystander");
    let before = uid(&sim, "pvc", "shop", "cart-cache");
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &["cart-cache", "-n", "shop", "-y", "--timeout", "30s"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let claim = sim.get_json(&["pvc", "cart-cache", "-n", "shop"]);
    assert_ne!(claim["metadata"]["uid"].as_str().unwrap(), before);
    assert_eq!(claim["status"]["phase"], "Bound");
    let cart = sim.get_json(&["deployment", "cart", "-n", "shop"]);
    assert_eq!(cart["spec"]["replicas"], 1);
    assert_eq!(cart["status"]["readyReplicas"], 1);
    assert!(!has_journal(&cart));
    assert_eq!(uid(&sim, "pod", "shop", "bystander"), bystander);
    assert!(
        !sim.mutating_requests()
            .iter()
            .any(|r| r["path"].as_str().unwrap_or("").contains("bystander")),
        "the unrelated pod is never touched"
    );
}

#[test]
fn a_keda_scaled_owner_is_paused_through_its_scaled_object_never_keda_s_hpa() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    apply(
        &sim,
        dir.path(),
        "keda.yaml",
        r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: indexer-cache, namespace: apps}
spec: {accessModes: [ReadWriteOnce], storageClassName: managed-premium, resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: indexer, namespace: apps}
spec:
  replicas: 1
  selector: {matchLabels: {app: indexer}}
  template:
    metadata: {labels: {app: indexer}}
    spec:
      containers: [{name: indexer, image: aura/indexer:1}]
      volumes: [{name: cache, persistentVolumeClaim: {claimName: indexer-cache}}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: indexer, namespace: apps}
spec:
  scaleTargetRef: {name: indexer}
  minReplicaCount: 1
  maxReplicaCount: 3
  triggers: [{type: rabbitmq, metadata: {queueName: index, mode: QueueLength, value: "50"}}]
"#,
    );
    wait_for("KEDA's HPA and a Ready indexer", 30, || {
        sim.kubectl(&["get", "hpa", "keda-hpa-indexer", "-n", "apps"])
            .code
            == Some(0)
            && sim.get_json(&["deployment", "indexer", "-n", "apps"])["status"]["readyReplicas"]
                == 1
    });
    let plan = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "indexer-cache",
            "-n",
            "apps",
            "--ignore-autoscaler",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let paused: Vec<(&str, &str)> = plan["journal"]["autoscalers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["kind"].as_str().unwrap(), a["name"].as_str().unwrap()))
        .collect();
    assert_eq!(paused, [("ScaledObject", "indexer")], "{plan}");

    let before = uid(&sim, "pvc", "apps", "indexer-cache");
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "indexer-cache",
            "-n",
            "apps",
            "--ignore-autoscaler",
            "-y",
            "--timeout",
            "30s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let hpa_writes: Vec<Value> = sim
        .mutating_requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("keda-hpa-"))
        .collect();
    assert!(
        hpa_writes.is_empty(),
        "KEDA's HPA is KEDA's: {hpa_writes:?}"
    );
    let so = sim.get_json(&["scaledobject", "indexer", "-n", "apps"]);
    assert!(
        so["metadata"]["annotations"]["autoscaling.keda.sh/paused"].is_null(),
        "the ScaledObject is unpaused again: {so}"
    );
    let deployment = sim.get_json(&["deployment", "indexer", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["status"]["readyReplicas"], 1);
    assert!(!has_journal(&deployment));
    assert_ne!(uid(&sim, "pvc", "apps", "indexer-cache"), before);
}

/// While a reset is still being carried out (halted, alive, with its owner at 0), the same
/// command again, `resume` and `abort` each refuse and change nothing, naming the run that
/// holds it; once that run is gone (killed), the same command finishes the reset.
#[test]
fn while_a_reset_runs_a_rerun_resume_or_abort_refuses_and_after_a_kill_the_rerun_finishes_it() {
    use std::io::{BufRead, BufReader};
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let before = uid(&sim, "pvc", "apps", "report-cache");
    let args = ["report-cache", "-n", "apps", "-y", "--timeout", "60s"];
    let mut first = plugin("pvcreset", home.path())
        .env(shared::cli::HALT_AFTER_STEP, "scaled-down")
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvcreset");
    let mut lines = BufReader::new(first.stderr.take().unwrap()).lines();
    let halted = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("halted after step scaled-down "));
    assert!(halted, "the first run never scaled the owner down");
    let journal_of = |sim: &SimProcess| {
        sim.get_json(&["deployment", "report-builder", "-n", "apps"])["metadata"]["annotations"]
            [JOURNAL]
            .clone()
    };
    let journal_before = journal_of(&sim);
    let before_requests = sim.mutating_requests().len();
    for attempt in [
        args.to_vec(),
        vec!["resume", "deployment/report-builder", "-n", "apps", "-y"],
        vec!["abort", "deployment/report-builder", "-n", "apps", "-y"],
    ] {
        let out = sim.run_plugin("pvcreset", home.path(), &attempt);
        assert_eq!(out.code, Some(1), "{attempt:?}: {}", out.stderr);
        let last = out.stderr.trim_end().lines().last().unwrap_or("");
        let holder = format!("error: another run (process {} on this machine", first.id());
        assert!(last.starts_with(&holder), "{attempt:?}: {last}");
        assert!(
            last.contains("deployment/report-builder"),
            "{attempt:?}: {last}"
        );
        assert!(
            last.contains("this run changed nothing"),
            "{attempt:?}: {last}"
        );
    }
    // Only the running reset's own heartbeat (a PATCH of the owner) may have been written.
    let owner_path = "/apis/apps/v1/namespaces/apps/deployments/report-builder";
    for request in &sim.mutating_requests()[before_requests..] {
        assert_eq!(request["method"], "PATCH", "{request}");
        assert_eq!(request["path"], owner_path, "{request}");
    }
    assert_eq!(journal_of(&sim), journal_before);
    assert_eq!(
        uid(&sim, "pvc", "apps", "report-cache"),
        before,
        "the claim is kept"
    );
    // A run on this machine shows as `pid N` in the table.
    let status = sim.run_plugin("pvcreset", home.path(), &["status", "-n", "apps"]);
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.trim_end().ends_with(&format!("pid {}", first.id()))),
        "{}",
        status.stdout
    );
    first.kill().expect("kill the first run");
    first.wait().expect("wait for it");
    let again = sim.run_plugin("pvcreset", home.path(), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert!(!has_journal(&deployment), "{deployment}");
    assert!(
        deployment["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/heartbeat"].is_null(),
        "the heartbeat goes with the journal: {deployment}"
    );
    assert_ne!(
        uid(&sim, "pvc", "apps", "report-cache"),
        before,
        "a new claim"
    );
}

/// Ctrl-C while a reset's first write (its journal on the owner) is in flight: the reset may or
/// may not be recorded, and the note says so — the status command it names works as printed,
/// and the same command again finishes the reset either way (the drain's note once claimed a
/// record that was not there: soak seed 100069).
#[test]
fn ctrl_c_during_the_first_write_says_it_may_not_be_recorded_and_the_same_command_finishes() {
    use std::io::{BufRead, BufReader};
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let before = uid(&sim, "pvc", "apps", "report-cache");
    sim.slow_request(
        "PATCH",
        "/apis/apps/v1/namespaces/apps/deployments/report-builder",
        0,
        3000,
    );
    let args = ["report-cache", "-n", "apps", "-y", "--timeout", "60s"];
    let mut child = plugin("pvcreset", home.path())
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvcreset");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let planned = line.contains("disruption:");
        seen.push(line);
        if planned {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(800));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{}", seen.join("\n"));
    let last = seen.last().cloned().unwrap_or_default();
    assert!(
        last.contains("the reset of report-cache was starting")
            && last.contains("the same command again finishes it"),
        "{last}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let printed = last.split('`').nth(1).expect("a command in backticks");
    assert!(
        printed.starts_with("kubectl pvcreset status -n apps"),
        "{last}"
    );
    let shown = suite_tests::paste(printed, &sim.kubeconfig, home.path());
    assert_eq!(shown.code, Some(0), "{printed}: {}", shown.stderr);
    let again = sim.run_plugin("pvcreset", home.path(), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_ne!(
        uid(&sim, "pvc", "apps", "report-cache"),
        before,
        "a new claim"
    );
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert!(!has_journal(&deployment), "{deployment}");
}
