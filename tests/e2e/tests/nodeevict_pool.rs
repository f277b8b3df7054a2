//! `kubectl nodeevict -l POOL`: the pool planned as a whole (true reasons, cordoned ahead),
//! `--max-unavailable N` waves within budgets, and a pool drain killed midway then resumed.

use std::collections::BTreeMap;

use serde_json::Value;
use suite_tests::{Interrupt, Run, SimProcess, evictions, nodeevict_marked as annotated};

fn nodeevict(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    sim.run_plugin("nodeevict", home, args)
}

/// Pod name → node, for every pod now.
fn pod_nodes(sim: &SimProcess) -> BTreeMap<String, String> {
    sim.get_json(&["pods", "-A"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            Some((
                p["metadata"]["name"].as_str()?.to_string(),
                p["spec"]["nodeName"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn only_daemonsets_left(sim: &SimProcess, node: &str) {
    for p in suite_tests::pods_on_node(sim, node) {
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["kind"], "DaemonSet",
            "{node}: {}",
            p["metadata"]["name"]
        );
    }
}

#[test]
fn a_pool_plan_states_only_true_reasons() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = nodeevict(
        &sim,
        home.path(),
        &["-l", "agentpool=common", "--dry-run", "-o", "json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["pool"]["cordonAhead"], true, "{plan}");
    assert_eq!(plan["pool"]["waves"].as_array().unwrap().len(), 3, "{plan}");
    let pods = sim.get_json(&["pods", "-A"]);
    let mut claims = 0;
    for item in plan["items"].as_array().unwrap() {
        for s in item["prescale"].as_array().unwrap() {
            let why = s["why"].as_str().unwrap();
            let Some(node) = why.strip_prefix("every Ready replica is on ") else {
                continue;
            };
            claims += 1;
            // The claim holds in the cluster: every Ready pod of the Deployment is there.
            let prefix = format!("{}-", s["name"].as_str().unwrap());
            let ready_nodes: Vec<&str> = pods["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| {
                    p["metadata"]["namespace"] == s["namespace"]
                        && p["metadata"]["name"].as_str().unwrap().starts_with(&prefix)
                        && suite_tests::pod_ready(p)
                })
                .map(|p| p["spec"]["nodeName"].as_str().unwrap())
                .collect();
            assert!(
                !ready_nodes.is_empty() && ready_nodes.iter().all(|n| *n == node),
                "{why}, but its Ready pods are on {ready_nodes:?}"
            );
        }
    }
    assert_eq!(
        claims, 1,
        "only uploader has every Ready replica on one node: {plan}"
    );
    // api's three Ready replicas are on three nodes of the pool: no pre-scale for it.
    assert!(!out.stdout.contains("\"name\": \"api\""), "{}", out.stdout);
    // The text plan says how the pool goes.
    let text = nodeevict(&sim, home.path(), &["-l", "agentpool=common", "--dry-run"]);
    assert!(
        text.stderr.contains("cordoned together first") && text.stderr.contains("wave 3: "),
        "{}",
        text.stderr
    );
    assert!(sim.mutating_requests().is_empty());
}

/// A 6-node pool of an 8-node cluster, each filler Deployment under a budget of half its
/// replicas.
fn budgeted_pool() -> (SimProcess, Vec<String>) {
    let sim = SimProcess::start("large:nodes=8,pods=160,terminate=1", &["--time-scale", "5"]);
    let pool: Vec<String> = (1..=6)
        .map(|i| format!("ip-10-20-0-{i}.ec2.internal"))
        .collect();
    for n in &pool {
        assert_eq!(
            sim.kubectl(&["label", "node", n, "agentpool=old"]).code,
            Some(0)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    for i in 0..8 {
        let app = format!("app-{i:04}");
        let pdb = format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {app}, namespace: filler}}\nspec:\n  maxUnavailable: 50%\n  selector: {{matchLabels: {{app: {app}}}}}\n"
        );
        suite_tests::apply_yaml(&sim, dir.path(), &format!("{app}.yaml"), &pdb);
    }
    suite_tests::wait_for(
        "budgets computed",
        std::time::Duration::from_secs(20),
        || {
            sim.get_json(&["pdb", "-n", "filler"])["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["status"]["disruptionsAllowed"] == 10)
        },
    );
    sim.reset_availability();
    (sim, pool)
}

#[test]
fn max_unavailable_3_drains_at_most_3_nodes_at_once_within_every_budget() {
    let (sim, pool) = budgeted_pool();
    let labels = sim.get_json(&["deployment", "app-0000", "-n", "filler"]);
    assert_eq!(
        labels["spec"]["selector"]["matchLabels"]["app"], "app-0000",
        "the budgets select the Deployments' pods: {labels}"
    );
    let home = tempfile::tempdir().unwrap();
    let on = pod_nodes(&sim);
    let out = nodeevict(
        &sim,
        home.path(),
        &[
            "-l",
            "agentpool=old",
            "--max-unavailable",
            "3",
            "-y",
            "--timeout",
            "3m",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // From the server's journal: the span of each node's evictions, and how many overlap.
    let mut spans: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (i, pod) in evictions(&sim) {
        let node = on
            .get(&pod)
            .unwrap_or_else(|| panic!("{pod} was on no node"));
        assert!(
            pool.contains(node),
            "{pod} evicted from {node}, outside the pool"
        );
        let span = spans.entry(node.clone()).or_insert((i, i));
        span.1 = i;
    }
    assert_eq!(spans.len(), pool.len(), "{spans:?}");
    let widest = spans
        .values()
        .map(|(start, _)| {
            spans
                .values()
                .filter(|(s, e)| s <= start && start <= e)
                .count()
        })
        .max()
        .unwrap();
    assert!(widest <= 3, "{widest} nodes drained at once: {spans:?}");
    assert!(
        widest >= 2,
        "--max-unavailable 3 drained one node at a time: {spans:?}"
    );
    // No Deployment ever went below its budget (half of its 20 replicas).
    for item in sim.availability() {
        if item["namespace"] == "filler" {
            assert!(item["minReady"].as_i64().unwrap() >= 10, "{item}");
        }
    }
    for n in &pool {
        only_daemonsets_left(&sim, n);
        assert!(!annotated(&sim.get_json(&["node", n])), "{n}");
    }
}

#[test]
fn a_pool_drain_killed_midway_is_finished_by_resume() {
    let (sim, pool) = budgeted_pool();
    let home = tempfile::tempdir().unwrap();
    // Killed once the first node's pods are gone: that node is at step evicted, the rest are
    // cordoned and queued.
    suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &["-l", "agentpool=old", "-y", "--timeout", "3m"],
        "evicted",
        Interrupt::Kill,
    );
    let status = nodeevict(&sim, home.path(), &["status", "-o", "json"]);
    let listed: Value = serde_json::from_str(&status.stdout).unwrap();
    let steps: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["journal"]["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), pool.len(), "{listed}");
    assert_eq!(
        steps.iter().filter(|s| **s == "evicted").count(),
        1,
        "{steps:?}"
    );
    assert_eq!(
        steps.iter().filter(|s| **s == "queued").count(),
        5,
        "{steps:?}"
    );
    // One queued node taken out of the rotation: abort uncordons it.
    let spared = &pool[5];
    let aborted = nodeevict(&sim, home.path(), &["abort", spared, "-y"]);
    assert_eq!(aborted.code, Some(0), "{}", aborted.stderr);
    let node = sim.get_json(&["node", spared]);
    assert!(
        node["spec"]["unschedulable"] != true && !annotated(&node),
        "{node}"
    );
    let resumed = nodeevict(&sim, home.path(), &["resume", "-y", "--timeout", "3m"]);
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    for n in &pool[..5] {
        only_daemonsets_left(&sim, n);
        let node = sim.get_json(&["node", n]);
        assert!(!annotated(&node), "{n}");
        assert_eq!(
            node["spec"]["unschedulable"], true,
            "{n} stays cordoned for termination"
        );
    }
    for item in sim.availability() {
        if item["namespace"] == "filler" {
            assert!(item["minReady"].as_i64().unwrap() >= 10, "{item}");
        }
    }
    let left = nodeevict(&sim, home.path(), &["status", "-o", "json"]);
    let left: Value = serde_json::from_str(&left.stdout).unwrap();
    assert_eq!(left["items"].as_array().unwrap().len(), 0, "{left}");
    // The same pool drained again: its drained nodes are cordoned and empty, and stay as they
    // are; the node spared above is drained on its own (nothing queued for one node).
    assert_eq!(
        sim.kubectl(&["delete", "--raw", "/sim/v1/journal"]).code,
        Some(0)
    );
    let again = nodeevict(
        &sim,
        home.path(),
        &["-l", "agentpool=old", "-y", "--timeout", "3m"],
    );
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let touched: Vec<String> = sim
        .mutating_requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/api/v1/nodes/"))
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        touched.iter().all(|p| p.ends_with(spared.as_str())),
        "a drained node was changed again: {touched:?}"
    );
    assert!(!again.stdout.contains("queued"), "{}", again.stdout);
}

#[test]
fn max_unavailable_0_is_a_usage_error_that_changes_nothing() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = nodeevict(
        &sim,
        home.path(),
        &["-l", "agentpool=common", "--max-unavailable", "0", "-y"],
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("--max-unavailable 0"), "{}", out.stderr);
    assert!(sim.mutating_requests().is_empty());
}
