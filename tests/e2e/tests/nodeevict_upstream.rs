//! `kubectl nodeevict` meeting what real clusters do (issue 13): an HPA at its maximum, an HPA
//! KEDA owns, a crash-looping replica under a budget, a dead node, a pod under two budgets.

use std::time::{Duration, Instant};

use serde_json::Value;
use suite_tests::nodeevict_marked as annotated;
use suite_tests::{Run, SimProcess};
use suite_tests::{apply_yaml as apply, pod_ready as ready, wait_for};

const NODE: &str = "ip-10-0-12-27.ec2.internal";

fn nodeevict(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    sim.run_plugin("nodeevict", home, args)
}

fn pod_of(sim: &SimProcess, app: &str, node: &str) -> Value {
    sim.get_json(&[
        "pods",
        "-l",
        &format!("app={app}"),
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ])["items"][0]
        .clone()
}

/// Requests the sim answered with `status` whose path contains `path`.
fn answered(sim: &SimProcess, status: u16, path: &str) -> Vec<Value> {
    sim.journal()
        .into_iter()
        .filter(|e| e["status"] == status && e["path"].as_str().unwrap_or("").contains(path))
        .collect()
}

fn replicas(sim: &SimProcess, deployment: &str) -> (i64, i64) {
    let d = sim.get_json(&["deployment", deployment]);
    (
        d["spec"]["replicas"].as_i64().unwrap_or(1),
        d["status"]["readyReplicas"].as_i64().unwrap_or(0),
    )
}

#[test]
fn an_hpa_at_its_maximum_gets_a_higher_maximum_for_the_drain_and_it_back_afterwards() {
    let sim = SimProcess::start("artsy", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // min = max = 1: common, and raising minReplicas alone is a 422.
    apply(
        &sim,
        home.path(),
        "hpa.yaml",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: force-web\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: force-web\n  minReplicas: 1\n  maxReplicas: 1\n",
    );
    let dry = nodeevict(&sim, home.path(), &[NODE, "--force", "--dry-run"]);
    assert!(
        dry.stderr.contains(
            "Deployment default/force-web: 1 → 2 replicas through HPA force-web (minReplicas 1 → 2, maxReplicas 1 → 2)"
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
    let hpa = sim.get_json(&["hpa", "force-web"]);
    assert_eq!(
        (&hpa["spec"]["minReplicas"], &hpa["spec"]["maxReplicas"]),
        (&1.into(), &1.into()),
        "{hpa}"
    );
    assert!(!annotated(&hpa), "{hpa}");
    assert_eq!(replicas(&sim, "force-web").0, 1);
    assert!(
        answered(&sim, 422, "").is_empty(),
        "no write was refused: {:?}",
        answered(&sim, 422, "")
    );
}

#[test]
fn a_keda_scaled_workload_is_prescaled_through_its_scaled_object_not_keda_s_hpa() {
    let sim = SimProcess::start("artsy", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    apply(
        &sim,
        home.path(),
        "so.yaml",
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: force-web\n  namespace: default\nspec:\n  scaleTargetRef:\n    name: force-web\n  minReplicaCount: 1\n  maxReplicaCount: 5\n  triggers:\n  - type: rabbitmq\n    metadata:\n      queueName: jobs\n      mode: QueueLength\n      value: '50'\n",
    );
    wait_for("KEDA's HPA", Duration::from_secs(10), || {
        sim.kubectl(&["get", "hpa", "keda-hpa-force-web"]).code == Some(0)
    });
    let dry = nodeevict(&sim, home.path(), &[NODE, "--force", "--dry-run"]);
    assert!(
        dry.stderr.contains(
            "Deployment default/force-web: 1 → 2 replicas through ScaledObject force-web (minReplicaCount 1 → 2)"
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
            .contains("raised ScaledObject default/force-web minReplicaCount to 2"),
        "{}",
        out.stdout
    );
    // Raised, then restored: two writes to the ScaledObject, none to the HPA KEDA owns.
    let patches = |path: &str| {
        sim.mutating_requests()
            .into_iter()
            .filter(|e| e["path"].as_str().unwrap_or("").contains(path))
            .count()
    };
    assert_eq!(patches("/scaledobjects/force-web"), 2);
    assert_eq!(patches("/horizontalpodautoscalers/"), 0);
    let so = sim.get_json(&["scaledobject", "force-web"]);
    assert_eq!(so["spec"]["minReplicaCount"], 1, "{so}");
    assert_eq!(so["spec"]["maxReplicaCount"], 5, "{so}");
    assert!(!annotated(&so), "{so}");
    let hpa = sim.get_json(&["hpa", "keda-hpa-force-web"]);
    assert_eq!(
        (&hpa["spec"]["minReplicas"], &hpa["spec"]["maxReplicas"]),
        (&1.into(), &5.into()),
        "KEDA's own HPA is what KEDA derives: {hpa}"
    );
    assert!(!annotated(&hpa), "{hpa}");
    assert_eq!(replicas(&sim, "force-web").0, 1);
}

#[test]
fn a_crash_looping_replica_is_evicted_without_a_blocker_or_a_pre_scale() {
    let sim = SimProcess::start("artsy", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // gravity-web: 3 replicas, PDB maxUnavailable 1. Its replica on the node crash-loops: the
    // budget allows 0 disruptions, yet that pod's eviction takes nothing from it.
    let sick = pod_of(&sim, "gravity", NODE);
    let sick_name = sick["metadata"]["name"].as_str().unwrap().to_string();
    let container = sick["spec"]["containers"][0]["name"].as_str().unwrap();
    let out = sim.kubectl(&[
        "annotate",
        "pod",
        &sick_name,
        &format!("sim.kube-sim.dev/crash-loop={container}"),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("the budget to see it", Duration::from_secs(15), || {
        let st = sim.get_json(&["pdb", "gravity-web"])["status"].clone();
        st["currentHealthy"] == 2 && st["disruptionsAllowed"] == 0
    });
    let dry = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "--dry-run", "-o", "json"],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    let node = &plan["items"][0];
    let row = node["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == sick_name.as_str())
        .unwrap();
    assert_eq!(row["verdict"], "evict", "{row}");
    assert!(
        node["prescale"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "gravity-web"),
        "no pre-scale for an unhealthy replica: {}",
        node["prescale"]
    );
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        answered(&sim, 429, &format!("/pods/{sick_name}/eviction")).is_empty(),
        "the eviction was never refused"
    );
    assert_eq!(replicas(&sim, "gravity-web").0, 3);
    assert!(sim.mutating_requests().iter().all(|e| {
        !e["path"]
            .as_str()
            .unwrap_or("")
            .contains("deployments/gravity-web")
    }));
}

#[test]
fn a_dead_node_is_drained_in_bounded_time_and_its_workloads_run_elsewhere() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let out = sim.kubectl(&["annotate", "node", NODE, "sim.kube-sim.dev/kubelet=stopped"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("the node to be NotReady", Duration::from_secs(10), || {
        sim.get_json(&["node", NODE])["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "Unknown")
    });
    let dry = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force",
            "--dry-run",
            "--skip-wait-for-delete-timeout",
            "2",
        ],
    );
    assert!(
        dry.stderr.contains(
            "node is NotReady: its kubelet does not answer; pods will be treated as gone 2s after their deletion"
        ),
        "{}",
        dry.stderr
    );
    let started = Instant::now();
    let out = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force",
            "-y",
            "--timeout",
            "90s",
            "--skip-wait-for-delete-timeout",
            "2",
            // The limit counts from the end of the grace period (the deletionTimestamp).
            "--grace-period",
            "1",
        ],
    );
    let took = started.elapsed();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    for app in [
        "exchange-web",
        "force-web",
        "gravity-web",
        "metaphysics-web",
    ] {
        let (want, ready_now) = replicas(&sim, app);
        assert!(ready_now >= want, "{app}: {ready_now}/{want} Ready");
    }
    // Every Ready replica runs on another node; the dead node's pods are only Terminating.
    let pods = sim.get_json(&["pods", "-l", "layer=application"]);
    for p in pods["items"].as_array().unwrap() {
        if p["spec"]["nodeName"] == NODE {
            assert!(!p["metadata"]["deletionTimestamp"].is_null(), "{p}");
        } else if ready(p) {
            assert_ne!(p["spec"]["nodeName"], NODE);
        }
    }
    eprintln!("dead node drained in {took:?}");
}

#[test]
fn a_pod_under_two_budgets_blocks_the_plan_naming_both() {
    let sim = SimProcess::start("artsy", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    apply(
        &sim,
        home.path(),
        "pdb.yaml",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: gravity-extra\n  namespace: default\nspec:\n  maxUnavailable: 2\n  selector:\n    matchLabels:\n      app: gravity\n",
    );
    let before = sim.mutating_requests().len();
    let started = Instant::now();
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
    let pod = pod_of(&sim, "gravity", NODE);
    let line = out
        .stderr
        .lines()
        .find(|l| {
            l.starts_with("blocked: ") && l.contains(pod["metadata"]["name"].as_str().unwrap())
        })
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        line.contains("gravity-extra") && line.contains("gravity-web"),
        "{line}"
    );
    assert_eq!(sim.mutating_requests().len(), before, "nothing was changed");
    assert!(pod["metadata"]["deletionTimestamp"].is_null());
}

#[test]
fn a_budget_with_an_empty_selector_covers_every_pod_of_its_namespace() {
    let sim = SimProcess::start("artsy", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // policy/v1: `selector: {}` selects every pod in the namespace (a missing one: none).
    apply(
        &sim,
        home.path(),
        "shop.yaml",
        &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: ledger\n  namespace: shop\nspec:\n  replicas: 1\n  serviceName: ledger\n  selector:\n    matchLabels:\n      app: ledger\n  template:\n    metadata:\n      labels:\n        app: ledger\n    spec:\n      nodeSelector:\n        kubernetes.io/hostname: {NODE}\n      containers:\n      - name: ledger\n        image: shop/ledger:1\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: everything\n  namespace: shop\nspec:\n  minAvailable: 1\n  selector: {{}}\n"
        ),
    );
    wait_for(
        "ledger-0 Ready and the budget to count it",
        Duration::from_secs(20),
        || {
            let st = sim.get_json(&["pdb", "everything", "-n", "shop"])["status"].clone();
            st["currentHealthy"] == 1 && st["disruptionsAllowed"] == 0
        },
    );
    let before = sim.mutating_requests().len();
    let out = nodeevict(&sim, home.path(), &[NODE, "-y", "--timeout", "1m"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("blocked: ") && l.contains("ledger-0"))
        .unwrap_or_else(|| panic!("ledger-0 is not blocked: {}", out.stderr));
    assert!(line.contains("PDB everything"), "{line}");
    assert_eq!(sim.mutating_requests().len(), before, "nothing was changed");
}
