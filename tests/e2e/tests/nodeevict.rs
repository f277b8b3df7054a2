//! `kubectl nodeevict` against kube-sim: availability, the node's pods and the owners afterwards.

use std::time::Duration;

use serde_json::Value;
use suite_tests::nodeevict_marked as annotated;
use suite_tests::{Interrupt, Run, SimProcess, plugin, run};

const NODE: &str = "ip-10-0-12-27.ec2.internal";

fn nodeevict(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    run(plugin("nodeevict", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn pods_on(sim: &SimProcess, node: &str) -> Vec<(String, String)> {
    suite_tests::pods_on_node(sim, node)
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["ownerReferences"][0]["kind"]
                    .as_str()
                    .unwrap_or("-")
                    .to_string(),
            )
        })
        .collect()
}

fn availability(sim: &SimProcess, name: &str) -> Value {
    let all: Value = serde_json::from_str(
        &sim.kubectl(&["get", "--raw", "/sim/v1/availability"])
            .stdout,
    )
    .unwrap();
    all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .cloned()
        .unwrap()
}

fn only_daemonsets_left(sim: &SimProcess, node: &str) {
    let left = pods_on(sim, node);
    assert!(left.iter().all(|(_, kind)| kind == "DaemonSet"), "{left:?}");
}

#[test]
fn the_only_replica_never_goes_down_and_everything_is_restored() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // The RBAC preflight asks once per permission for all namespaces (an admin is allowed
    // everywhere), not once per namespace the node's pods live in.
    let reviews = sim
        .journal()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("/selfsubjectaccessreviews")
        })
        .count();
    // One per distinct write: patch node, evict, delete, patch deployment, patch pod (the
    // surge marking).
    assert!((1..=5).contains(&reviews), "{reviews} access reviews");
    for single in ["force-web", "exchange-web"] {
        let a = availability(&sim, single);
        assert!(
            a["minReady"].as_i64().unwrap() >= 1,
            "{single} never below 1 Ready: {a}"
        );
        let d = sim.get_json(&["deployment", single]);
        assert_eq!(d["spec"]["replicas"], 1, "{single} back at 1");
        assert!(!annotated(&d), "{d}");
    }
    only_daemonsets_left(&sim, NODE);
    let node = sim.get_json(&["node", NODE]);
    assert_eq!(
        node["spec"]["unschedulable"], true,
        "left cordoned for termination"
    );
    assert!(!annotated(&node), "journal removed");
    // The result lines are on stdout (`| tee` keeps them).
    assert!(
        out.stdout.contains("safe to terminate")
            && out.stdout.contains("next: aws ec2 terminate-instances --region us-east-1 --instance-ids i-07ad98a70a603e9e1"),
        "{}",
        out.stdout
    );
    // The Eviction bodies carried the pod's UID as precondition under policy/v1's deleteOptions.
    let evictions: Vec<Value> = sim
        .journal()
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/eviction"))
        .collect();
    assert_eq!(evictions.len(), 4, "{evictions:?}");
}

#[test]
fn kubectl_drain_takes_the_only_replica_down_on_the_same_node() {
    // The gap the plugin closes: real kubectl drain on a fresh sim.
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let out = sim.kubectl(&[
        "drain",
        NODE,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--timeout",
        "15s",
    ]);
    // exchange-web's budget (minAvailable 1 of 1) makes kubectl retry until its timeout.
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    let force_web = availability(&sim, "force-web");
    assert_eq!(
        force_web["minReady"], 0,
        "kubectl drain left force-web with 0 Ready: {force_web}"
    );
}

#[test]
fn a_statefulset_pod_at_its_budget_blocks_until_forced_and_confirmed() {
    use expectrl::{Expect, Session};
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let node = "aks-database-97366946-vmss000000";
    let blocked = nodeevict(&sim, home.path(), &[node, "-y"]);
    assert_eq!(blocked.code, Some(1), "{}", blocked.stderr);
    assert!(
        blocked.stderr.contains("data/mongodb-2: StatefulSet mongodb cannot surge: PDB mongodb allows 0 disruptions — needs 3 healthy, has 3"),
        "{}",
        blocked.stderr
    );
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );

    let mut cmd = plugin("nodeevict", home.path());
    cmd.args([node, "--force", "--timeout", "2m", "--kubeconfig"])
        .arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session.expect(format!("Drain {node}?")).unwrap();
    session.send("y\r").unwrap();
    session.expect("safe to terminate").unwrap();
    session
        .expect("az vmss delete-instances --subscription 7f3c2a9e-41d6-4b8a-9c0e-5d2f6a1b8e47 --resource-group mc_aura-prod_aura-aks_westeurope --name aks-database-97366946-vmss --instance-ids 0")
        .unwrap();
    only_daemonsets_left(&sim, node);
    let builder = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(builder["spec"]["replicas"], 1);
    assert!(
        availability(&sim, "report-builder")["minReady"]
            .as_i64()
            .unwrap()
            >= 1
    );
}

#[test]
fn the_dry_run_json_is_exactly_what_is_done() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let dry = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "--dry-run", "-o", "json"],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(sim.mutating_requests().is_empty());
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    let mut planned: Vec<(String, String)> = plan["items"][0]["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["verdict"] == "evict" || p["verdict"] == "delete")
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    planned.sort();
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut done: Vec<(String, String)> = sim
        .mutating_requests()
        .iter()
        .filter_map(|r| {
            let path = r["path"].as_str().unwrap();
            let rest = path.split("/pods/").nth(1)?;
            match (
                r["method"].as_str().unwrap(),
                rest.strip_suffix("/eviction"),
            ) {
                ("POST", Some(name)) => Some((name.to_string(), "evict".to_string())),
                ("DELETE", None) if !rest.contains('/') => {
                    Some((rest.to_string(), "delete".to_string()))
                }
                _ => None,
            }
        })
        .collect();
    done.sort();
    done.dedup();
    assert_eq!(done, planned);
}

/// Starts a drain halted right after it journals `step` (the suite's step-boundary hook) and
/// SIGKILLs it there.
fn kill_after(sim: &SimProcess, home: &std::path::Path, args: &[&str], step: &str) {
    suite_tests::interrupt_after_step("nodeevict", sim, home, args, step, Interrupt::Kill);
}

#[test]
fn killed_after_each_step_then_resumed_or_aborted() {
    for step in ["cordoned", "prescaled", "evicted"] {
        let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
        let home = tempfile::tempdir().unwrap();
        kill_after(&sim, home.path(), &[NODE, "--force", "-y"], step);
        let status = nodeevict(&sim, home.path(), &["status", "-o", "json"]);
        let listed: Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(listed["items"][0]["node"], NODE, "after {step}: {listed}");
        let resumed = nodeevict(&sim, home.path(), &["resume", "-y", "--timeout", "2m"]);
        assert_eq!(
            resumed.code,
            Some(0),
            "resume after {step}: {}",
            resumed.stderr
        );
        only_daemonsets_left(&sim, NODE);
        for single in ["force-web", "exchange-web"] {
            let d = sim.get_json(&["deployment", single]);
            assert_eq!(d["spec"]["replicas"], 1, "after {step}: {d}");
            assert!(!annotated(&d), "after {step}");
        }
        assert!(!annotated(&sim.get_json(&["node", NODE])), "after {step}");
    }
    for step in ["cordoned", "prescaled"] {
        let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
        let home = tempfile::tempdir().unwrap();
        kill_after(&sim, home.path(), &[NODE, "--force", "-y"], step);
        let aborted = nodeevict(&sim, home.path(), &["abort", NODE, "-y"]);
        assert_eq!(
            aborted.code,
            Some(0),
            "abort after {step}: {}",
            aborted.stderr
        );
        let node = sim.get_json(&["node", NODE]);
        assert!(
            node["spec"]["unschedulable"].is_null() || node["spec"]["unschedulable"] == false,
            "{node}"
        );
        assert!(!annotated(&node));
        for single in ["force-web", "exchange-web"] {
            let d = sim.get_json(&["deployment", single]);
            assert_eq!(d["spec"]["replicas"], 1, "abort after {step}: {d}");
            assert!(!annotated(&d));
        }
    }
}

#[test]
fn uncordon_and_bad_input() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let no_terminal = nodeevict(&sim, home.path(), &[NODE, "--force"]);
    assert_eq!(no_terminal.code, Some(3), "{}", no_terminal.stderr);
    let unknown = nodeevict(&sim, home.path(), &["ip-10-0-99-99.ec2.internal", "-y"]);
    assert_eq!(unknown.code, Some(1), "{}", unknown.stderr);
    assert_eq!(
        unknown.stderr.trim().lines().count(),
        1,
        "{}",
        unknown.stderr
    );
    assert!(
        unknown
            .stderr
            .contains("node \"ip-10-0-99-99.ec2.internal\" not found")
    );
    let nothing = nodeevict(&sim, home.path(), &["-y"]);
    assert_eq!(nothing.code, Some(2), "{}", nothing.stderr);
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );

    assert_eq!(sim.kubectl(&["cordon", NODE]).code, Some(0));
    let out = nodeevict(&sim, home.path(), &["uncordon", NODE]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(sim.get_json(&["node", NODE])["spec"]["unschedulable"] != true);
}

#[test]
fn a_pool_is_cordoned_ahead_and_drained_one_node_at_a_time() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = sim.get_json(&["nodes", "-l", "agentpool=common"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.clone()["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let before: Vec<Vec<String>> = names
        .iter()
        .map(|n| pods_on(&sim, n).into_iter().map(|(pod, _)| pod).collect())
        .collect();
    let out = nodeevict(
        &sim,
        home.path(),
        &["-l", "agentpool=common", "-y", "--timeout", "3m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for pair in names.windows(2) {
        let settled = out
            .stdout
            .find(&format!("workloads moved off {} are Ready again", pair[0]))
            .unwrap_or_else(|| panic!("{}", out.stdout));
        let next = out
            .stdout
            .find(&format!("draining node {}", pair[1]))
            .unwrap();
        assert!(
            settled < next,
            "{} drained before {}'s workloads were Ready: {}",
            pair[1],
            pair[0],
            out.stdout
        );
    }
    // In the server's own request journal: every node of the pool is cordoned before the
    // first eviction (so no pod lands on a node still to be drained), each node's pods are
    // evicted once, and all of one node's before any of the next one's.
    let journal = sim.journal();
    let evictions = suite_tests::evictions(&sim);
    let first_eviction = evictions.first().unwrap().0;
    for n in &names {
        let cordon = journal
            .iter()
            .position(|r| r["method"] == "PATCH" && r["path"] == format!("/api/v1/nodes/{n}"))
            .unwrap();
        assert!(cordon < first_eviction, "{n} was not cordoned ahead");
    }
    let node_of = |pod: &str| before.iter().position(|pods| pods.iter().any(|p| p == pod));
    let order: Vec<usize> = evictions
        .iter()
        .filter_map(|(_, pod)| node_of(pod))
        .collect();
    assert_eq!(
        order.len(),
        evictions.len(),
        "a pod evicted that was on no node of the pool: {evictions:?}"
    );
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{evictions:?}");
    let mut pods: Vec<&String> = evictions.iter().map(|(_, p)| p).collect();
    pods.sort();
    let all = pods.len();
    pods.dedup();
    assert_eq!(pods.len(), all, "a pod was evicted twice: {evictions:?}");
    for n in &names {
        only_daemonsets_left(&sim, n);
    }
    assert_eq!(
        sim.get_json(&["deployment", "api", "-n", "apps"])["status"]["readyReplicas"],
        3
    );
}

#[test]
fn drains_under_faults_end_correct() {
    for round in 0..suite_tests::fault_rounds() {
        let sim = SimProcess::start("artsy", &["--time-scale", "5", "--fault-rate", "0.1"]);
        let home = tempfile::tempdir().unwrap();
        let out = nodeevict(
            &sim,
            home.path(),
            &[NODE, "--force", "-y", "--timeout", "2m"],
        );
        assert_eq!(out.code, Some(0), "round {round}: {}", out.stderr);
        // Judge the outcome without faults.
        assert_eq!(
            sim.kubectl(&["delete", "--raw", "/sim/v1/faults"]).code,
            Some(0)
        );
        only_daemonsets_left(&sim, NODE);
        for d in [
            "force-web",
            "exchange-web",
            "gravity-web",
            "metaphysics-web",
        ] {
            let dep = sim.get_json(&["deployment", d]);
            let want = if d == "gravity-web" {
                3
            } else if d == "metaphysics-web" {
                2
            } else {
                1
            };
            assert_eq!(dep["spec"]["replicas"], want, "round {round}: {d}");
            assert!(!annotated(&dep), "round {round}: {d}");
        }
        assert!(!annotated(&sim.get_json(&["node", NODE])), "round {round}");
        // Nothing lost: every Deployment is back to its desired Ready count (the unmanaged pod
        // was deleted on purpose, --force).
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let short: Vec<String> = sim.get_json(&["deployments", "-A"])["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["status"]["readyReplicas"] != d["spec"]["replicas"])
                .map(|d| d["metadata"]["name"].as_str().unwrap().to_string())
                .collect();
            if short.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: not Ready again: {short:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
fn an_autoscaled_single_replica_is_prescaled_through_its_hpa() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let hpa = suite_tests::write(
        home.path(),
        "hpa.json",
        r#"{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "force-web", "namespace": "default"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "force-web"},
                     "minReplicas": 1, "maxReplicas": 4}}"#,
    );
    assert_eq!(
        sim.kubectl(&["create", "--validate=false", "-f", hpa.to_str().unwrap()])
            .code,
        Some(0)
    );
    let dry = nodeevict(&sim, home.path(), &[NODE, "--force", "--dry-run"]);
    assert!(
        dry.stderr.contains(
            "Deployment default/force-web: 1 → 2 replicas through HPA force-web (minReplicas 1 → 2)"
        ),
        "{}",
        dry.stderr
    );
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("raised HPA default/force-web minReplicas to 2"),
        "{}",
        out.stdout
    );
    let hpa = sim.get_json(&["hpa", "force-web"]);
    assert_eq!(hpa["spec"]["minReplicas"], 1, "{hpa}");
    assert!(!annotated(&hpa));
    assert!(
        availability(&sim, "force-web")["minReady"]
            .as_i64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        sim.get_json(&["deployment", "force-web"])["spec"]["replicas"],
        1
    );
}
