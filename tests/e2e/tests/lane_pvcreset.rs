//! The real-cluster lane: `kubectl pvcreset` of a Deployment's claim of the default
//! StorageClass (`manifests/pvcreset-deployment.yaml`), in the test's own namespace.

use serde_json::Value;
use suite_tests::Cluster;

fn deployment_with_claim() -> (Cluster, Value) {
    let cluster = Cluster::new();
    cluster.apply("pvcreset-deployment.yaml");
    // Bound once its pod is scheduled (kind's "standard" class waits for the first consumer).
    cluster.wait_rolled_out("deployment/cache");
    cluster.wait_until("claim cache Bound", |c| {
        c.get_json(&["pvc/cache"])["status"]["phase"] == "Bound"
    });
    let claim = cluster.get_json(&["pvc/cache"]);
    (cluster, claim)
}

#[test]
fn reset_replaces_the_claim_and_brings_the_deployment_back() {
    let (cluster, before) = deployment_with_claim();
    let ns = cluster.namespace();
    let out = cluster.run_plugin(
        "pvcreset",
        &[
            "cache",
            "-n",
            ns,
            "--yes",
            "--timeout",
            &cluster.timeout_arg(),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    let after = cluster.get_json(&["pvc/cache"]);
    assert_ne!(
        after["metadata"]["uid"], before["metadata"]["uid"],
        "a new claim"
    );
    assert_eq!(after["status"]["phase"], "Bound", "{after}");
    assert_ne!(
        after["spec"]["volumeName"], before["spec"]["volumeName"],
        "a new, empty volume"
    );
    for field in ["storageClassName", "accessModes", "resources"] {
        assert_eq!(after["spec"][field], before["spec"][field], "{field}");
    }
    cluster.wait_rolled_out("deployment/cache");
    let deployment = cluster.get_json(&["deployment/cache"]);
    assert_eq!(deployment["spec"]["replicas"], 1, "back at its replicas");
    let annotations = &deployment["metadata"]["annotations"];
    assert!(
        annotations["pvcreset.kubectl-plugins.dev/journal"].is_null(),
        "the journal is cleared: {annotations}"
    );
    let pods = cluster.get_json(&["pods", "-l", "app=cache"]);
    let running: Vec<&Value> = pods["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    assert_eq!(running.len(), 1, "{pods}");
    assert_eq!(
        running[0]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
        "cache"
    );
}

#[test]
fn dry_run_changes_nothing() {
    let (cluster, before) = deployment_with_claim();
    let ns = cluster.namespace();
    let out = cluster.run_plugin("pvcreset", &["cache", "-n", ns, "--dry-run"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("dry run"), "{}", out.stderr);
    let after = cluster.get_json(&["pvc/cache"]);
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(
        cluster.get_json(&["deployment/cache"])["spec"]["replicas"],
        1
    );
}
