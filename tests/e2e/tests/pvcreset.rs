//! `kubectl pvcreset` against kube-sim: the cluster's state afterwards is the judge.

use std::time::{Duration, Instant};

use serde_json::Value;
use suite_tests::pod_ready as ready;
use suite_tests::{Interrupt, Run, SimProcess, plugin, run};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";

fn uid(sim: &SimProcess, kind: &str, ns: &str, name: &str) -> String {
    sim.get_json(&[kind, name, "-n", ns])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string()
}

fn pvcreset(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    run(plugin("pvcreset", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn has_journal(object: &Value) -> bool {
    !object["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null()
}

#[test]
fn one_worker_volume_with_the_pod_strategy_leaves_the_other_workers_alone() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let claim = "logs-lunar-nuclear-3725-worker-1";
    let old_claim = uid(&sim, "pvc", LUNAR, claim);
    let others: Vec<String> = ["lunar-nuclear-3725-worker-0", "lunar-nuclear-3725-worker-2"]
        .iter()
        .map(|p| uid(&sim, "pod", LUNAR, p))
        .collect();
    let dry = pvcreset(&sim, home.path(), &[claim, "-n", LUNAR, "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr.contains("(pod strategy)")
            && dry
                .stderr
                .contains("and its disk are deleted: the data is lost"),
        "{}",
        dry.stderr
    );
    assert!(sim.mutating_requests().is_empty());

    let out = pvcreset(
        &sim,
        home.path(),
        &[claim, "-n", LUNAR, "-y", "--timeout", "60s"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let new = sim.get_json(&["pvc", claim, "-n", LUNAR]);
    assert_ne!(
        new["metadata"]["uid"].as_str().unwrap(),
        old_claim,
        "a new claim"
    );
    assert_eq!(new["status"]["phase"], "Bound");
    assert!(ready(&sim.get_json(&[
        "pod",
        "lunar-nuclear-3725-worker-1",
        "-n",
        LUNAR
    ])));
    let sts = sim.get_json(&["sts", "lunar-nuclear-3725-worker", "-n", LUNAR]);
    assert_eq!(sts["spec"]["replicas"], 3);
    assert!(!has_journal(&sts), "the journal is removed at the end");
    let after: Vec<String> = ["lunar-nuclear-3725-worker-0", "lunar-nuclear-3725-worker-2"]
        .iter()
        .map(|p| uid(&sim, "pod", LUNAR, p))
        .collect();
    assert_eq!(after, others, "the other workers were never restarted");
    assert!(
        !sim.mutating_requests()
            .iter()
            .any(|r| r["path"].as_str().unwrap().ends_with("/scale")),
        "the pod strategy never scales"
    );
}

#[test]
fn a_statefulset_crash_looping_on_its_volume_runs_again_after_a_scale_reset() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let claim = "prometheus-data-prometheus-0";
    let old_volume = sim.get_json(&["pvc", claim, "-n", "monitoring"])["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.get_json(&["pod", "prometheus-0", "-n", "monitoring"])["status"]["containerStatuses"]
        [0]["state"]["waiting"]["reason"]
        != "CrashLoopBackOff"
    {
        assert!(Instant::now() < deadline, "prometheus-0 never crash-looped");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = pvcreset(
        &sim,
        home.path(),
        &[
            claim,
            "-n",
            "monitoring",
            "--strategy",
            "scale",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("is Released and kept: the data stays on the disk"),
        "reclaim Retain: {}",
        out.stderr
    );
    let pod = sim.get_json(&["pod", "prometheus-0", "-n", "monitoring"]);
    assert!(ready(&pod), "{pod}");
    assert!(
        pod["status"]["containerStatuses"][0]["state"]["running"].is_object(),
        "{pod}"
    );
    assert_eq!(
        sim.get_json(&["sts", "prometheus", "-n", "monitoring"])["spec"]["replicas"],
        1
    );
    let old = sim.get_json(&["pv", &old_volume]);
    assert_eq!(
        old["status"]["phase"], "Released",
        "the Retain volume is kept: {old}"
    );
    let new = sim.get_json(&["pvc", claim, "-n", "monitoring"]);
    assert_ne!(new["spec"]["volumeName"].as_str().unwrap(), old_volume);
}

#[test]
fn a_deployment_claim_is_recreated_with_its_name_size_and_class() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let before = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
    let out = pvcreset(
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y", "--timeout", "90s"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("(scale strategy)"), "{}", out.stderr);
    let after = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
    assert_ne!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(
        after["spec"]["storageClassName"],
        before["spec"]["storageClassName"]
    );
    assert_eq!(
        after["spec"]["resources"]["requests"]["storage"],
        before["spec"]["resources"]["requests"]["storage"]
    );
    assert_eq!(after["spec"]["accessModes"], before["spec"]["accessModes"]);
    assert_eq!(after["status"]["phase"], "Bound");
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["status"]["readyReplicas"], 1);
    assert!(!has_journal(&deployment));
}

/// Starts a reset halted right after it journals `step` (the suite's step-boundary hook) and
/// SIGKILLs it there.
fn kill_after(sim: &SimProcess, home: &std::path::Path, args: &[&str], step: &str) -> String {
    suite_tests::interrupt_after_step("pvcreset", sim, home, args, step, Interrupt::Kill).stderr
}

#[test]
fn killed_after_any_step_the_reset_is_listed_and_resumed() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let untouched: Vec<(String, String)> = ["data-elasticsearch-0", "prometheus-data-prometheus-0"]
        .iter()
        .map(|c| {
            let ns = if c.starts_with("data-") {
                "logging"
            } else {
                "monitoring"
            };
            (c.to_string(), uid(&sim, "pvc", ns, c))
        })
        .collect();
    for step in [
        "started",
        "scaled-down",
        "claims-deleted",
        "claims-recreated",
        "scaled-up",
    ] {
        let before = uid(&sim, "pvc", "apps", "report-cache");
        kill_after(
            &sim,
            home.path(),
            &["report-cache", "-n", "apps", "-y", "--timeout", "90s"],
            step,
        );
        let status = pvcreset(&sim, home.path(), &["status", "-A", "-o", "json"]);
        assert_eq!(status.code, Some(0), "{}", status.stderr);
        let listed: Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(
            listed["items"][0]["owner"], "deployment/report-builder",
            "after {step}: {listed}"
        );
        assert_eq!(listed["items"][0]["journal"]["owners"][0]["replicas"], 1);
        let resumed = pvcreset(
            &sim,
            home.path(),
            &[
                "resume",
                "report-builder",
                "-n",
                "apps",
                "-y",
                "--timeout",
                "90s",
            ],
        );
        assert_eq!(
            resumed.code,
            Some(0),
            "resume after {step}: {}",
            resumed.stderr
        );
        let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
        assert_eq!(deployment["spec"]["replicas"], 1, "after {step}");
        assert_eq!(deployment["status"]["readyReplicas"], 1, "after {step}");
        assert!(!has_journal(&deployment), "after {step}");
        let claim = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
        assert_ne!(
            claim["metadata"]["uid"].as_str().unwrap(),
            before,
            "after {step}: a fresh claim"
        );
        assert_eq!(claim["status"]["phase"], "Bound");
    }
    for (claim, before) in untouched {
        let ns = if claim.starts_with("data-") {
            "logging"
        } else {
            "monitoring"
        };
        assert_eq!(uid(&sim, "pvc", ns, &claim), before, "{claim} untouched");
    }
    let none = pvcreset(&sim, home.path(), &["status", "-A"]);
    assert!(
        none.stderr.contains("No reset in progress"),
        "{}",
        none.stderr
    );
}

#[test]
fn abort_before_the_delete_restores_the_replicas_and_keeps_the_claim() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let before = uid(&sim, "pvc", "apps", "report-cache");
    kill_after(
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y"],
        "scaled-down",
    );
    assert_eq!(
        sim.get_json(&["deployment", "report-builder", "-n", "apps"])["spec"]["replicas"],
        0
    );
    let out = pvcreset(
        &sim,
        home.path(),
        &["abort", "deployment/report-builder", "-n", "apps", "-y"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(
        deployment["status"]["readyReplicas"], 1,
        "abort waits until the owner is Ready again"
    );
    assert!(!has_journal(&deployment));
    assert_eq!(
        uid(&sim, "pvc", "apps", "report-cache"),
        before,
        "the claim is kept"
    );

    // Once the claim is gone there is nothing to go back to: abort says so and resume finishes.
    kill_after(
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y"],
        "claims-deleted",
    );
    let refused = pvcreset(
        &sim,
        home.path(),
        &["abort", "report-builder", "-n", "apps", "-y"],
    );
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("pvcreset resume"),
        "{}",
        refused.stderr
    );
    let resumed = pvcreset(
        &sim,
        home.path(),
        &["resume", "--all", "-n", "apps", "-y", "--timeout", "90s"],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
}

#[test]
fn an_autoscaled_owner_is_refused_unless_the_autoscaler_is_paused_and_restored() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let file = suite_tests::write(home.path(), "hpa.json", suite_tests::REPORT_BUILDER_HPA);
    let created = sim.kubectl(&["create", "--validate=false", "-f", file.to_str().unwrap()]);
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    let hpa_before = sim.get_json(&["hpa", "report-builder", "-n", "apps"])["spec"].clone();
    let journal_before = sim.mutating_requests().len();
    let refused = pvcreset(&sim, home.path(), &["report-cache", "-n", "apps", "-y"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("autoscaled by HorizontalPodAutoscaler report-builder")
            && refused.stderr.contains("--ignore-autoscaler")
            && refused.stderr.trim().lines().count() == 1,
        "{}",
        refused.stderr
    );
    assert_eq!(
        sim.mutating_requests().len(),
        journal_before,
        "refused: nothing changed"
    );
    let out = pvcreset(
        &sim,
        home.path(),
        &[
            "report-cache",
            "-n",
            "apps",
            "-y",
            "--ignore-autoscaler",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("paused HorizontalPodAutoscaler report-builder"),
        "{}",
        out.stdout
    );
    assert_eq!(
        sim.get_json(&["hpa", "report-builder", "-n", "apps"])["spec"],
        hpa_before,
        "the HPA is as it was"
    );
    assert_eq!(
        sim.get_json(&["deployment", "report-builder", "-n", "apps"])["spec"]["replicas"],
        1
    );
}

#[test]
fn bad_input_and_no_terminal_change_nothing() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32, &str); 6] = [
        (&["report-cache", "-n", "apps"], 3, "re-run with --yes"),
        (
            &["report-cahce", "-n", "apps", "-y"],
            1,
            "did you mean report-cache?",
        ),
        (
            &["shared-uploads", "-n", "apps", "-y"],
            1,
            "used by 2 owners (deployment/thumbnailer, deployment/uploader), a shared ReadWriteMany volume",
        ),
        (&["scratch-data", "-y"], 1, "which no controller recreates"),
        (
            &["report-cache", "-n", "apps", "--strategy", "pod", "-y"],
            2,
            "--strategy pod needs",
        ),
        (&["-n", "apps", "-y"], 2, "name the claims to reset"),
    ];
    for (args, code, message) in cases {
        let out = pvcreset(&sim, home.path(), args);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr
                .lines()
                .filter(|l| l.starts_with("error"))
                .count(),
            1,
            "{}",
            out.stderr
        );
    }
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
}

#[test]
fn the_prompt_wants_the_owners_name_typed() {
    use expectrl::{Expect, Session};
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let claim = "logs-lunar-nuclear-3725-worker-0";
    let spawn = || {
        let mut cmd = plugin("pvcreset", home.path());
        cmd.args([claim, "-n", LUNAR, "--timeout", "60s", "--kubeconfig"])
            .arg(&sim.kubeconfig);
        let mut s = Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(Duration::from_secs(30)));
        s
    };
    let exit = |s: &expectrl::session::OsSession| match s.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    };
    let mut wrong = spawn();
    // What is typed is the owner's name, whether one claim or all of them are reset.
    wrong
        .expect("type the statefulset's name (lunar-nuclear-3725-worker) to confirm")
        .unwrap();
    wrong.send_line(claim).unwrap();
    wrong.expect("nothing was changed").unwrap();
    assert_eq!(exit(&wrong), 3);
    assert!(sim.mutating_requests().is_empty());
    let before = uid(&sim, "pvc", LUNAR, claim);
    let mut right = spawn();
    right.expect("to confirm").unwrap();
    right.send_line("lunar-nuclear-3725-worker").unwrap();
    right.expect("done in").unwrap();
    assert_eq!(exit(&right), 0);
    assert_ne!(uid(&sim, "pvc", LUNAR, claim), before);
}

#[test]
fn snapshot_first_and_refused_without_a_class_for_the_driver() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    // shared-uploads is on Azure Files: no VolumeSnapshotClass for file.csi.azure.com.
    let refused = pvcreset(
        &sim,
        home.path(),
        &[
            "shared-uploads",
            "-n",
            "apps",
            "--force",
            "--snapshot",
            "-y",
        ],
    );
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("no VolumeSnapshotClass for driver file.csi.azure.com"),
        "{}",
        refused.stderr
    );
    assert!(sim.mutating_requests().is_empty());

    let out = pvcreset(
        &sim,
        home.path(),
        &[
            "report-cache",
            "-n",
            "apps",
            "--snapshot",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let snapshots = sim.get_json(&["volumesnapshots", "-n", "apps"]);
    let items = snapshots["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{snapshots}");
    assert_eq!(
        items[0]["spec"]["source"]["persistentVolumeClaimName"],
        "report-cache"
    );
    assert_eq!(
        items[0]["spec"]["volumeSnapshotClassName"],
        "csi-azuredisk-vsc"
    );
    assert_eq!(items[0]["status"]["readyToUse"], true);
    // The snapshot was ready before the claim was deleted.
    let journal = sim.journal();
    let created = journal
        .iter()
        .position(|r| {
            r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/volumesnapshots")
        })
        .unwrap();
    let deleted = journal
        .iter()
        .position(|r| {
            r["method"] == "DELETE"
                && r["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("/persistentvolumeclaims/report-cache")
        })
        .unwrap();
    assert!(created < deleted);
    assert!(
        out.stdout.find("is ready").unwrap() < out.stdout.find("deleted claim").unwrap(),
        "{}",
        out.stdout
    );
}
