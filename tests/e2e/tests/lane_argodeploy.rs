//! The real-cluster lane: `kubectl argodeploy list` and `get` on Workflow objects created
//! from `manifests/argo-workflows.yaml` in the test's own namespace (the Workflow CRD is
//! created first on a cluster without Argo Workflows).

use serde_json::Value;
use suite_tests::Cluster;

/// The controller instance id the manifests carry, so no Argo controller runs them.
const INSTANCEID: &str = "suite-e2e-lane";

fn workflows() -> Cluster {
    let cluster = Cluster::new();
    cluster.ensure_workflow_crd();
    cluster.apply("argo-workflows.yaml");
    cluster
}

#[test]
fn list_shows_the_instances_workflows_with_their_user_and_status() {
    let cluster = workflows();
    let ns = cluster.namespace();
    let out = cluster.run_plugin(
        "argodeploy",
        &["list", "-n", ns, "--instanceid", INSTANCEID, "-o", "json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    let rows: Vec<(&str, &str, &str, &str)> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap_or(""),
                i["status"].as_str().unwrap_or(""),
                i["user"].as_str().unwrap_or(""),
                i["parameters"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // argo list's order: the newest first (both were created in one apply: by name then).
    let mut sorted = rows.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("deploy-lane-failed", "Failed", "lane-user", "version=1.2.4"),
            ("deploy-lane-ok", "Succeeded", "lane-user", "version=1.2.3"),
        ]
    );

    // Only --status Failed, by user and instance.
    let out = cluster.run_plugin(
        "argodeploy",
        &[
            "list",
            "-n",
            ns,
            "--instanceid",
            INSTANCEID,
            "--status",
            "Failed",
            "--username",
            "lane-user",
            "-o",
            "name",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout.trim(),
        "workflow.argoproj.io/deploy-lane-failed",
        "{}",
        out.stderr
    );

    // Argo's rule: without an instance id only workflows without the label are listed.
    let out = cluster.run_plugin("argodeploy", &["list", "-n", ns, "-o", "name"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "", "{}", out.stdout);
}

#[test]
fn get_prints_the_failed_workflow_as_a_tree() {
    let cluster = workflows();
    let ns = cluster.namespace();
    let out = cluster.run_plugin(
        "argodeploy",
        &[
            "get",
            "deploy-lane-failed",
            "-n",
            ns,
            "--instanceid",
            INSTANCEID,
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for expected in [
        "Name:",
        "deploy-lane-failed",
        "Status:              Failed",
        "version:           1.2.4",
        "STEP",
        "apply",
        "Error (exit code 1)",
    ] {
        assert!(out.stdout.contains(expected), "{expected}: {}", out.stdout);
    }
    let missing = cluster.run_plugin("argodeploy", &["get", "no-such-workflow", "-n", ns]);
    assert_eq!(missing.code, Some(1), "{}", missing.stderr);
}
