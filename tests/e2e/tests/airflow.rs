//! `kubectl airflow` against kube-sim's astronomer scenario.

use serde_json::Value;
use suite_tests::{SimProcess, plugin, run};

#[test]
fn list_finds_both_deployments_with_a_constant_number_of_requests() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let before = sim.journal().len();
    let out = run(plugin("airflow", home.path())
        .args(["list", "-A", "-o", "json", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = sim.journal().len() - before;
    assert!(requests <= 4, "{requests} requests");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let items = report["items"].as_array().unwrap();
    let releases: Vec<(&str, &str, i64)> = items
        .iter()
        .map(|i| {
            (
                i["namespace"].as_str().unwrap(),
                i["release"].as_str().unwrap(),
                i["workers"]["desired"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        releases,
        [
            ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725", 3),
            ("astronomer-ee-zodiac-cosmo-1172", "zodiac-cosmo-1172", 1)
        ]
    );
    let lunar = &items[0];
    assert_eq!(lunar["executor"], "CeleryExecutor");
    assert_eq!(lunar["status"], "Degraded");
    assert!(
        lunar["reason"]
            .as_str()
            .unwrap()
            .contains("lunar-nuclear-3725-worker-2 CrashLoopBackOff"),
        "{lunar}"
    );
    let zodiac = &items[1];
    assert_eq!(zodiac["status"], "Degraded");
    assert!(
        zodiac["reason"]
            .as_str()
            .unwrap()
            .contains("triggerer 0/1 ready"),
        "{zodiac}"
    );
    assert!(sim.mutating_requests().is_empty(), "list changes nothing");
}

#[test]
fn list_table_and_an_empty_namespace() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args([
            "list",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAMESPACE") && lines[0].contains("WORKERS"),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines.len(),
        2,
        "only the namespace asked for: {}",
        out.stdout
    );
    assert!(
        lines[1].contains("zodiac-cosmo-1172") && lines[1].contains("Degraded"),
        "{}",
        out.stdout
    );
    let empty = run(plugin("airflow", home.path())
        .args(["list", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(empty.code, Some(0));
    assert!(empty.stdout.is_empty());
    assert!(
        empty
            .stderr
            .contains("No Airflow deployments found in namespace default"),
        "{}",
        empty.stderr
    );
}

#[test]
fn status_shows_components_and_the_problems_with_their_fixes() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args([
            "status",
            "-n",
            "astronomer-ee-lunar-nuclear-3725",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "Airflow lunar-nuclear-3725 in astronomer-ee-lunar-nuclear-3725 (CeleryExecutor)"
        ),
        "{}",
        out.stdout
    );
    for expected in [
        "lunar-nuclear-3725-worker-2",
        "CrashLoopBackOff",
        "statefulset/lunar-nuclear-3725-worker 2/3",
        "Problems:",
        "fix: kubectl airflow restart worker lunar-nuclear-3725",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected} missing:\n{}",
            out.stdout
        );
    }
    let zodiac = run(plugin("airflow", home.path())
        .args([
            "status",
            "zodiac-cosmo-1172",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "-o",
            "json",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(zodiac.code, Some(0), "{}", zodiac.stderr);
    let report: Value = serde_json::from_str(&zodiac.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["what"].as_str().unwrap().contains(
                "is Pending: Unschedulable: 0/6 nodes are available: 6 Insufficient cpu"
            )),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["fix"] == "kubectl airflow diagnose zodiac-cosmo-1172")
    );
    // Bad input: one line, documented exit code, nothing changed.
    let unknown = run(plugin("airflow", home.path())
        .args([
            "status",
            "nope",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(unknown.code, Some(1));
    assert_eq!(
        unknown.stderr.trim().lines().count(),
        1,
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("no Airflow release \"nope\"")
            && unknown.stderr.contains("zodiac-cosmo-1172"),
        "{}",
        unknown.stderr
    );
    let nowhere = run(plugin("airflow", home.path())
        .args(["status", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(nowhere.code, Some(1));
    assert!(
        nowhere
            .stderr
            .contains("no Airflow deployment in namespace default"),
        "{}",
        nowhere.stderr
    );
    assert!(sim.mutating_requests().is_empty());
}
