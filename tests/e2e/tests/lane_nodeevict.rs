//! The real-cluster lane for `kubectl nodeevict`: draining a node of a shared cluster is
//! intrusive, so the lane only plans (`--dry-run`, which changes nothing) unless
//! `SUITE_E2E_DRAIN_NODE` names a node the operator gives the test to drain (with `--force`:
//! every pod on it may be evicted, unmanaged ones deleted; it is uncordoned afterwards).

use std::sync::Mutex;

use serde_json::Value;
use suite_tests::Cluster;

/// On a real cluster both tests may touch one node: the drain must not cordon the node the
/// dry run checks is untouched. One at a time (a poisoned lock only means the other failed).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The node the scheduler pod of the chart release runs on, after it is Ready.
fn release_on_a_node() -> (Cluster, String) {
    let cluster = Cluster::new();
    cluster.apply("airflow-chart.yaml");
    cluster.wait_rolled_out("deployment/lane-scheduler");
    let pods = cluster.get_json(&["pods", "-l", "release=lane,component=scheduler"]);
    let node = pods["items"][0]["spec"]["nodeName"]
        .as_str()
        .expect("the scheduler pod is scheduled")
        .to_string();
    (cluster, node)
}

#[test]
fn dry_run_plans_the_test_pods_and_changes_nothing() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (cluster, node) = release_on_a_node();
    let ns = cluster.namespace();
    let out = cluster.run_plugin("nodeevict", &[node.as_str(), "--dry-run", "-o", "json"]);
    // Exit 1 when another pod on the node blocks the drain: the plan is printed either way.
    assert!(
        matches!(out.code, Some(0 | 1)),
        "{:?}: {}",
        out.code,
        out.stderr
    );
    let plan: Value = serde_json::from_str(&out.stdout).expect("json plan");
    let item = &plan["items"][0];
    assert_eq!(item["node"], node.as_str());
    let scheduler = item["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .find(|p| {
            p["namespace"] == ns
                && p["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("lane-scheduler-"))
        })
        .unwrap_or_else(|| panic!("the scheduler pod is in the plan: {plan}"));
    assert_eq!(scheduler["verdict"], "evict", "{scheduler}");
    assert_eq!(scheduler["owner"], "Deployment/lane-scheduler");
    // A single replica with its only Ready pod on the node is scaled up first.
    let prescale = item["prescale"].as_array().expect("prescale");
    assert!(
        prescale
            .iter()
            .any(|p| p["namespace"] == ns && p["name"] == "lane-scheduler" && p["to"] == 2),
        "{plan}"
    );

    // Nothing changed: the node still schedulable, the Deployment at 1.
    let n = cluster.kubectl(&["get", "node", &node, "-o", "json"]);
    assert_eq!(n.code, Some(0), "{}", n.stderr);
    let n: Value = serde_json::from_str(&n.stdout).expect("node json");
    assert!(n["spec"]["unschedulable"].is_null(), "{}", n["spec"]);
    assert_eq!(
        cluster.get_json(&["deployment/lane-scheduler"])["spec"]["replicas"],
        1
    );
}

#[test]
fn drain_of_the_node_given_by_suite_e2e_drain_node() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // On the sim the node is the fresh cluster's own; elsewhere only the node the operator names.
    let cluster = Cluster::new();
    let node = match (std::env::var("SUITE_E2E_DRAIN_NODE"), cluster.sim()) {
        (Ok(node), _) if !node.is_empty() => node,
        (_, Some(_)) => "kind-worker".to_string(),
        _ => {
            eprintln!("skipped on a real cluster: set SUITE_E2E_DRAIN_NODE to a node it may drain");
            return;
        }
    };
    cluster.apply("airflow-chart.yaml");
    cluster.wait_rolled_out("deployment/lane-scheduler");
    cluster.wait_rolled_out("deployment/lane-webserver");
    let ns = cluster.namespace().to_string();
    let out = cluster.run_plugin(
        "nodeevict",
        &[
            node.as_str(),
            "--yes",
            // The named node is given to the test: whatever blocks its drain is overridden.
            "--force",
            "--timeout",
            &cluster.timeout_arg(),
        ],
    );
    // Uncordon whatever happened: the node goes back to the cluster.
    let uncordon = cluster.kubectl(&["uncordon", &node]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(uncordon.code, Some(0), "{}", uncordon.stderr);
    let pods = cluster.get_json(&["pods", "-l", "release=lane"]);
    for p in pods["items"].as_array().expect("items") {
        if p["metadata"]["deletionTimestamp"].is_null() {
            assert_ne!(
                p["spec"]["nodeName"],
                node.as_str(),
                "{ns}: nothing of the test left on the drained node: {p}"
            );
        }
    }
    cluster.wait_rolled_out("deployment/lane-scheduler");
    assert_eq!(
        cluster.get_json(&["deployment/lane-scheduler"])["spec"]["replicas"],
        1,
        "the pre-scale is undone"
    );
}
