//! `kubectl nodeevict` evicts in waves by pod priority (lowest first, system-critical last),
//! `--order none` all at once, and `--pod-selector` only the pods it selects — each checked in
//! the sim's request journal and the cluster afterwards.

use std::collections::BTreeMap;

use suite_tests::{Run, SimProcess, pods_on_node as pods_on};

const ARTSY_NODE: &str = "ip-10-0-12-27.ec2.internal";
const NODE: &str = "ip-10-20-0-1.ec2.internal";

fn nodeevict(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    sim.run_plugin("nodeevict", home, args)
}

/// The pods evicted, in the order the server received the evictions.
fn evicted(sim: &SimProcess) -> Vec<String> {
    suite_tests::evictions(sim)
        .into_iter()
        .map(|(_, pod)| pod)
        .collect()
}

/// Two empty nodes and three Deployments of four replicas each, in priority classes -10
/// (batch: zeta), none (0: mid) and 1000 (web: alpha), and a system-cluster-critical one in
/// kube-system: node 1 runs pods of every priority.
fn prioritised() -> SimProcess {
    let sim = SimProcess::start("large:nodes=2,pods=0", &["--time-scale", "5"]);
    let dir = tempfile::tempdir().unwrap();
    let class = |name: &str, value: i32| {
        format!(
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {{name: {name}}}\nvalue: {value}\n"
        )
    };
    let deployment = |namespace: &str, name: &str, class: Option<&str>| {
        let class = class
            .map(|c| format!("      priorityClassName: {c}\n"))
            .unwrap_or_default();
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  replicas: 4\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{class}      containers: [{{name: main, image: busybox:1.37, resources: {{requests: {{cpu: 10m}}}}}}]\n"
        )
    };
    let yaml = [
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n".to_string(),
        class("batch", -10),
        class("web", 1000),
        // Named against their priority: the order by name (all at once, as before waves) is
        // not the order by priority.
        deployment("default", "zeta", Some("batch")),
        deployment("default", "mid", None),
        deployment("default", "alpha", Some("web")),
        deployment("kube-system", "dns", Some("system-cluster-critical")),
    ]
    .join("---\n");
    suite_tests::apply_yaml(&sim, dir.path(), "prioritised.yaml", &yaml);
    suite_tests::wait_for("the pods Ready", std::time::Duration::from_secs(30), || {
        let on = pods_on(&sim, NODE);
        ["zeta-", "mid-", "alpha-", "dns-"].iter().all(|prefix| {
            on.iter().any(|p| {
                p["metadata"]["name"].as_str().unwrap().starts_with(prefix)
                    && suite_tests::pod_ready(p)
            })
        })
    });
    sim
}

/// The priority the server gave each pod on the node, by name.
fn priorities(sim: &SimProcess) -> BTreeMap<String, i64> {
    pods_on(sim, NODE)
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["spec"]["priority"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn pods_are_evicted_in_waves_lowest_priority_first_and_system_critical_last() {
    let sim = prioritised();
    let home = tempfile::tempdir().unwrap();
    let before = priorities(&sim);
    assert!(before.values().any(|p| *p == -10) && before.values().any(|p| *p == 1000));
    let plan = nodeevict(&sim, home.path(), &[NODE, "--dry-run"]);
    assert!(
        plan.stderr.contains("order: in waves by priority")
            && plan.stderr.contains("4 system-critical"),
        "{}",
        plan.stderr
    );
    let out = nodeevict(&sim, home.path(), &[NODE, "-y", "--timeout", "2m"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let order: Vec<i64> = evicted(&sim)
        .iter()
        .map(|pod| {
            *before
                .get(pod)
                .unwrap_or_else(|| panic!("{pod} was not on {NODE}"))
        })
        .collect();
    assert_eq!(order.len(), before.len(), "{order:?}");
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert_eq!(order.last(), Some(&2_000_000_000), "{order:?}");
    // Each wave waits for the previous one's pods to be gone: the wave lines say so.
    assert!(out.stderr.contains("wave 4 of 4"), "{}", out.stderr);
    assert!(pods_on(&sim, NODE).is_empty());
}

#[test]
fn order_none_evicts_without_waves() {
    let sim = prioritised();
    let home = tempfile::tempdir().unwrap();
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--order", "none", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stderr.contains("wave "), "{}", out.stderr);
    assert!(pods_on(&sim, NODE).is_empty());
}

#[test]
fn pod_selector_moves_only_the_selected_pods_and_leaves_the_node_cordoned() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    // Without a selector the unmanaged debug-shell-jane blocks the drain; it is not selected.
    let selector = "app in (gravity,metaphysics)";
    let out = nodeevict(
        &sim,
        home.path(),
        &[
            ARTSY_NODE,
            "--pod-selector",
            selector,
            "-y",
            "--timeout",
            "2m",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let evicted = evicted(&sim);
    assert_eq!(evicted.len(), 2, "{evicted:?}");
    assert!(
        evicted
            .iter()
            .all(|p| p.starts_with("gravity-web-") || p.starts_with("metaphysics-web-")),
        "{evicted:?}"
    );
    let left: Vec<String> = pods_on(&sim, ARTSY_NODE)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    for stays in ["debug-shell-jane", "force-web-", "exchange-web-"] {
        assert!(left.iter().any(|p| p.starts_with(stays)), "{left:?}");
    }
    assert!(
        !left
            .iter()
            .any(|p| p.starts_with("gravity-web-") || p.starts_with("metaphysics-web-")),
        "{left:?}"
    );
    let node = sim.get_json(&["node", ARTSY_NODE]);
    assert_eq!(node["spec"]["unschedulable"], true);
    assert!(
        node["metadata"]["annotations"]
            .as_object()
            .is_none_or(|a| !a.contains_key("nodeevict.kubectl-plugins.dev/journal")),
        "{node}"
    );
    assert!(
        out.stdout.contains("not safe to terminate"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("next: aws ec2"), "{}", out.stdout);
}

#[test]
fn a_bad_pod_selector_changes_nothing() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = nodeevict(
        &sim,
        home.path(),
        &[ARTSY_NODE, "--pod-selector", "app in (", "-y"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(sim.mutating_requests().is_empty());
}
