//! The real-cluster lane: `kubectl airflow` on a release shaped as the official Helm chart
//! deploys it (`manifests/airflow-chart.yaml`), in the test's own namespace, on whatever
//! cluster `Cluster` gives (kube-sim by default, `SUITE_E2E_KUBECONFIG` otherwise).

use serde_json::Value;
use suite_tests::Cluster;

const WORKLOADS: [&str; 3] = [
    "deployment/lane-scheduler",
    "deployment/lane-webserver",
    "statefulset/lane-worker",
];

fn chart_release() -> Cluster {
    let cluster = Cluster::new();
    cluster.apply("airflow-chart.yaml");
    for w in WORKLOADS {
        cluster.wait_rolled_out(w);
    }
    cluster
}

/// (name, uid) of the component's pods that are not being deleted.
fn pods(cluster: &Cluster, component: &str) -> Vec<(String, String)> {
    let list = cluster.get_json(&["pods", "-l", &format!("release=lane,component={component}")]);
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                p["metadata"]["uid"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn list_and_status_find_the_chart_release_in_its_namespace() {
    let cluster = chart_release();
    let ns = cluster.namespace();
    let writes_before = cluster.sim().map(|sim| sim.mutating_requests().len());
    let out = cluster.run_plugin("airflow", &["list", "-n", ns, "-o", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    let items = report["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{report}");
    let lane = &items[0];
    assert_eq!(lane["namespace"], ns);
    assert_eq!(lane["release"], "lane");
    assert_eq!(lane["executor"], "CeleryExecutor");
    assert_eq!(lane["status"], "Healthy", "{lane}");
    assert_eq!(lane["workers"]["desired"], 1, "{lane}");

    let out = cluster.run_plugin("airflow", &["status", "lane", "-n", ns]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Each workload's readiness on the Ready line (the table fits 120 columns).
    for expected in [
        "Ready: ",
        "scheduler 1/1",
        "webserver 1/1",
        "worker 1/1",
        "lane-worker-0",
        "Problems: none",
    ] {
        assert!(out.stdout.contains(expected), "{expected}: {}", out.stdout);
    }

    // Reading changes nothing: provable only where the requests are journaled.
    if let Some(sim) = cluster.sim_for("request journal") {
        let writes = sim.mutating_requests();
        assert_eq!(Some(writes.len()), writes_before, "{writes:?}");
    }
}

#[test]
fn restart_replaces_the_scheduler_and_the_worker_with_ready_pods() {
    let cluster = chart_release();
    let ns = cluster.namespace();
    let scheduler_before = pods(&cluster, "scheduler");
    let worker_before = pods(&cluster, "worker");
    assert_eq!(scheduler_before.len(), 1, "{scheduler_before:?}");
    assert_eq!(worker_before.len(), 1, "{worker_before:?}");

    let timeout = cluster.timeout_arg();
    for component in ["scheduler", "worker"] {
        let out = cluster.run_plugin(
            "airflow",
            &[
                "restart",
                component,
                "lane",
                "-n",
                ns,
                "--yes",
                "--timeout",
                &timeout,
            ],
        );
        assert_eq!(out.code, Some(0), "restart {component}: {}", out.stderr);
    }

    // The cluster's state afterwards: every workload rolled out with new, Ready pods.
    for w in WORKLOADS {
        cluster.wait_rolled_out(w);
    }
    for (component, before) in [("scheduler", scheduler_before), ("worker", worker_before)] {
        let after = pods(&cluster, component);
        assert_eq!(after.len(), 1, "{component}: {after:?}");
        assert_ne!(after[0].1, before[0].1, "{component}: a new pod");
    }
    let scheduler = cluster.get_json(&["deployment/lane-scheduler"]);
    assert!(
        scheduler["spec"]["template"]["metadata"]["annotations"]
            ["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "a rolling restart, as kubectl rollout restart: {scheduler}"
    );
    let webserver = pods(&cluster, "webserver");
    assert_eq!(webserver.len(), 1, "the webserver is left alone");
}
