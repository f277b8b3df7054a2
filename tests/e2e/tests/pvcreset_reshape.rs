//! `kubectl pvcreset --size/--storage-class` and the way back from a `--snapshot` reset
//! (`restore`, and `abort` after the delete), against kube-sim: the new claims and the
//! content marker of their volumes (`sim.kube-sim.dev/content`) are the judge.

use std::time::Duration;

use serde_json::Value;
use suite_tests::{Interrupt, Run, SimProcess, plugin, run};

const CONTENT: &str = "sim.kube-sim.dev/content";

fn pvcreset(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    run(plugin("pvcreset", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn claim(sim: &SimProcess) -> Value {
    sim.get_json(&["pvc", "report-cache", "-n", "apps"])
}

/// The content marker of report-cache's volume now (None: an empty volume).
fn content(sim: &SimProcess) -> Option<String> {
    let pv = claim(sim)["spec"]["volumeName"].as_str()?.to_string();
    sim.get_json(&["pv", &pv])["metadata"]["annotations"][CONTENT]
        .as_str()
        .map(String::from)
}

/// Marks report-cache's volume as holding `text`.
fn mark(sim: &SimProcess, text: &str) {
    let pv = claim(sim)["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sim.kubectl(&["annotate", "pv", &pv, &format!("{CONTENT}={text}")]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

fn back_and_ready(sim: &SimProcess) {
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["status"]["readyReplicas"], 1);
    assert!(
        deployment["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null()
    );
    assert_eq!(claim(sim)["status"]["phase"], "Bound");
}

#[test]
fn a_deployment_claim_grows_shrinks_and_changes_class() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let dry = pvcreset(
        &sim,
        home.path(),
        &[
            "report-cache",
            "-n",
            "apps",
            "--size",
            "30Gi",
            "--storage-class",
            "retained",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("new claim: size 20Gi → 30Gi, class managed-premium → retained")
            && dry
                .stderr
                .contains("size 30Gi, class retained, a new empty volume"),
        "{}",
        dry.stderr
    );
    let json = pvcreset(
        &sim,
        home.path(),
        &[
            "report-cache",
            "-n",
            "apps",
            "--size",
            "30Gi",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        plan["claims"][0]["reshape"]["size"],
        serde_json::json!({"from": "20Gi", "to": "30Gi"})
    );
    assert_eq!(
        plan["journal"]["claims"][0]["recreate"]["spec"]["resources"]["requests"]["storage"],
        "30Gi"
    );
    assert!(sim.mutating_requests().is_empty());

    let grow = pvcreset(
        &sim,
        home.path(),
        &[
            "report-cache",
            "-n",
            "apps",
            "--size",
            "30Gi",
            "--storage-class",
            "retained",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(grow.code, Some(0), "{}", grow.stderr);
    let grown = claim(&sim);
    assert_eq!(grown["spec"]["resources"]["requests"]["storage"], "30Gi");
    assert_eq!(grown["status"]["capacity"]["storage"], "30Gi");
    assert_eq!(grown["spec"]["storageClassName"], "retained");
    back_and_ready(&sim);

    // Shrinking, which only recreation can do.
    let shrink = pvcreset(
        &sim,
        home.path(),
        &[
            "report-cache",
            "-n",
            "apps",
            "--size",
            "5Gi",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(shrink.code, Some(0), "{}", shrink.stderr);
    let shrunk = claim(&sim);
    assert_eq!(shrunk["spec"]["resources"]["requests"]["storage"], "5Gi");
    assert_eq!(shrunk["status"]["capacity"]["storage"], "5Gi");
    assert_eq!(shrunk["spec"]["storageClassName"], "retained", "kept");
    back_and_ready(&sim);
}

#[test]
fn bad_sizes_classes_and_a_statefulset_template_change_nothing() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    for (args, code, words) in [
        (
            &["report-cache", "--size", "20GB"][..],
            2,
            "--size \"20GB\" is not a storage quantity",
        ),
        (
            &["report-cache", "--size", "0"][..],
            2,
            "is not a storage quantity",
        ),
        (
            &["report-cache", "--storage-class", "gold"][..],
            2,
            "--storage-class \"gold\": no such StorageClass; the cluster has",
        ),
        (
            &[
                "prometheus-data-prometheus-0",
                "-n",
                "monitoring",
                "--size",
                "50Gi",
            ][..],
            1,
            "comes from statefulset prometheus's volumeClaimTemplate, which cannot be changed",
        ),
        (
            &["restore", "report-cahce"][..],
            1,
            "persistentvolumeclaim \"report-cahce\" not found in namespace apps: did you mean report-cache?",
        ),
        (
            &["restore", "report-cache"][..],
            1,
            "no VolumeSnapshot of claim report-cache is recorded in namespace apps",
        ),
        (
            &["restore", "report-cache", "--from", "nope"][..],
            1,
            "--from: VolumeSnapshot \"nope\" not found",
        ),
    ] {
        let mut all = args.to_vec();
        if !all.contains(&"-n") {
            all.extend(["-n", "apps"]);
        }
        all.push("-y");
        let out = pvcreset(&sim, home.path(), &all);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(words), "{args:?}: {}", out.stderr);
        if words.contains("volumeClaimTemplate") {
            // The command it names carries the namespace and the flags given, to paste.
            assert!(
                out.stderr.contains(
                    "`kubectl delete sts prometheus --cascade=orphan -n monitoring --kubeconfig "
                ),
                "{}",
                out.stderr
            );
        }
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: one line: {}",
            out.stderr
        );
    }
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn restore_brings_back_the_snapshot_and_an_ordinary_reset_does_not() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    mark(&sim, "reports-v1");
    let reset = pvcreset(
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
    assert_eq!(reset.code, Some(0), "{}", reset.stderr);
    assert_eq!(content(&sim), None, "the reset's new claim is empty");
    back_and_ready(&sim);

    let dry = pvcreset(
        &sim,
        home.path(),
        &[
            "restore",
            "report-cache",
            "-n",
            "apps",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    let snapshot = plan["claims"][0]["restoreFrom"]["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(snapshot.starts_with("report-cache-pvcreset-"), "{plan}");
    assert_eq!(
        plan["journal"]["claims"][0]["recreate"]["spec"]["dataSource"]["name"],
        snapshot.as_str()
    );
    let restored = pvcreset(
        &sim,
        home.path(),
        &[
            "restore",
            "report-cache",
            "-n",
            "apps",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(restored.code, Some(0), "{}", restored.stderr);
    assert!(
        restored.stdout.contains(&format!(
            "created claim report-cache from VolumeSnapshot {snapshot}"
        )) && restored.stdout.contains("restored from their snapshots"),
        "{}",
        restored.stdout
    );
    assert_eq!(content(&sim).as_deref(), Some("reports-v1"));
    assert_eq!(claim(&sim)["spec"]["dataSource"]["name"], snapshot.as_str());
    back_and_ready(&sim);

    // An ordinary reset after that: empty again.
    let again = pvcreset(
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y", "--timeout", "90s"],
    );
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(content(&sim), None);
}

#[test]
fn abort_after_the_delete_of_a_snapshot_reset_restores_the_data() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    mark(&sim, "reports-v2");
    suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "--snapshot", "-y"],
        "claims-recreated",
        Interrupt::Kill,
    );
    let dry = pvcreset(
        &sim,
        home.path(),
        &["abort", "report-builder", "-n", "apps", "--dry-run"],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("the claims are deleted already, so the abort restores them"),
        "{}",
        dry.stderr
    );
    let out = pvcreset(
        &sim,
        home.path(),
        &[
            "abort",
            "report-builder",
            "-n",
            "apps",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(content(&sim).as_deref(), Some("reports-v2"));
    back_and_ready(&sim);
}

#[test]
fn the_restore_prompt_wants_the_owners_name_typed() {
    use expectrl::{Expect, Session};
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    mark(&sim, "reports-v3");
    let reset = pvcreset(
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
    assert_eq!(reset.code, Some(0), "{}", reset.stderr);
    let spawn = || {
        let mut cmd = plugin("pvcreset", home.path());
        cmd.args([
            "restore",
            "report-cache",
            "-n",
            "apps",
            "--timeout",
            "90s",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig);
        let mut s = Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(Duration::from_secs(60)));
        s
    };
    let exit = |s: &expectrl::session::OsSession| match s.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    };
    let before = claim(&sim)["metadata"]["uid"].clone();
    let writes = sim.mutating_requests().len();
    let mut no = spawn();
    no.expect("with one restored from VolumeSnapshot report-cache-pvcreset-")
        .unwrap();
    no.expect("type the deployment's name (report-builder) to confirm")
        .unwrap();
    no.send_line("no").unwrap();
    no.expect("nothing was changed").unwrap();
    assert_eq!(exit(&no), 3);
    assert_eq!(sim.mutating_requests().len(), writes, "declined: no write");
    assert_eq!(claim(&sim)["metadata"]["uid"], before);

    let mut yes = spawn();
    yes.expect("to confirm").unwrap();
    yes.send_line("report-builder").unwrap();
    yes.expect("done in").unwrap();
    assert_eq!(exit(&yes), 0);
    assert_eq!(content(&sim).as_deref(), Some("reports-v3"));
}

#[test]
fn completion_offers_the_classes_and_restore_the_claims() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let complete = |words: &[&str]| -> Vec<String> {
        let out = run(plugin("pvcreset", home.path())
            .env("KUBECONFIG", &sim.kubeconfig)
            .arg("__complete")
            .args(words));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        out.stdout.lines().map(String::from).collect()
    };
    let classes = complete(&["report-cache", "-n", "apps", "--storage-class", ""]);
    assert!(
        ["managed-premium", "retained", "azurefile"]
            .iter()
            .all(|c| classes.iter().any(|l| l == c)),
        "{classes:?}"
    );
    let claims = complete(&["restore", "-n", "apps", "report-"]);
    assert!(claims.iter().any(|l| l == "report-cache"), "{claims:?}");
    let subcommands = complete(&["res"]);
    assert!(
        subcommands.iter().any(|l| l == "restore"),
        "{subcommands:?}"
    );
}

#[test]
fn a_statefulset_claim_reset_with_the_pod_strategy_is_restored_by_scaling() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let claim = "datadir-mongodb-2";
    let volume = |sim: &SimProcess| {
        let pv = sim.get_json(&["pvc", claim, "-n", "data"])["spec"]["volumeName"]
            .as_str()
            .unwrap()
            .to_string();
        sim.get_json(&["pv", &pv])
    };
    let pv = volume(&sim)["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let out = sim.kubectl(&["annotate", "pv", &pv, &format!("{CONTENT}=mongo-2")]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let reset = pvcreset(
        &sim,
        home.path(),
        &[claim, "-n", "data", "--snapshot", "-y", "--timeout", "90s"],
    );
    assert_eq!(reset.code, Some(0), "{}", reset.stderr);
    assert!(reset.stderr.contains("(pod strategy)"), "{}", reset.stderr);
    assert!(volume(&sim)["metadata"]["annotations"][CONTENT].is_null());
    let restored = pvcreset(
        &sim,
        home.path(),
        &["restore", claim, "-n", "data", "-y", "--timeout", "90s"],
    );
    assert_eq!(restored.code, Some(0), "{}", restored.stderr);
    assert!(
        restored
            .stderr
            .contains("scale statefulset/mongodb (3 replicas) to 0"),
        "{}",
        restored.stderr
    );
    assert_eq!(volume(&sim)["metadata"]["annotations"][CONTENT], "mongo-2");
    let sts = sim.get_json(&["sts", "mongodb", "-n", "data"]);
    assert_eq!(sts["spec"]["replicas"], 3);
    assert_eq!(sts["status"]["readyReplicas"], 3);
}
