//! What a drain costs the API server (issue 20, "fewer requests per drained pod"): each evicted
//! pod one eviction POST and nothing more per pod; the waits read shared watches, not a GET per
//! object per check. Counted from kube-sim's request journal.

use std::collections::BTreeMap;

use serde_json::Value;
use suite_tests::SimProcess;

const NODE: &str = "ip-10-20-0-1.ec2.internal";

/// The requests a drain makes whatever the number of pods, with a node of the `large:`
/// scenario: reading the node and the cluster (1 + 7 lists), the RBAC preflight (3 access
/// reviews), the journal's 6 writes (cordon, load-balancer label, pre-scaled, evicted,
/// detaching, removed), 3 Events, a list and a watch of the Deployments and of the node's pods,
/// the verification (2 lists) and the VolumeAttachments (1 list): 27; plus 5 for a heartbeat
/// or a journal write retried after a conflict on a slow machine.
const PER_DRAIN: usize = 32;

/// `METHOD path` of every request in the journal, counted.
fn breakdown(journal: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in journal {
        let key = format!(
            "{} {}",
            r["method"].as_str().unwrap_or(""),
            r["path"].as_str().unwrap_or("")
        );
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[test]
fn a_drain_costs_one_eviction_per_pod_and_a_bounded_number_of_other_requests() {
    let home = tempfile::tempdir().unwrap();
    let sim = SimProcess::start(
        "large:nodes=4,airflow=10,pods=120,terminate=1",
        &["--time-scale", "5"],
    );
    // The plan: the pods to evict and the Deployments to pre-scale (each costs two writes:
    // raised, restored).
    let dry = sim.run_plugin(
        "nodeevict",
        home.path(),
        &[NODE, "--force", "--dry-run", "-o", "json"],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let plan: Value = serde_json::from_str(&dry.stdout).expect("plan json");
    let plan = &plan["items"][0];
    let evicted: Vec<String> = plan["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["verdict"] == "evict")
        .map(|p| {
            format!(
                "/api/v1/namespaces/{}/pods/{}/eviction",
                p["namespace"].as_str().unwrap(),
                p["name"].as_str().unwrap()
            )
        })
        .collect();
    let prescaled = plan["prescale"].as_array().unwrap().len();
    assert!(evicted.len() >= 20, "{} pods to evict", evicted.len());
    assert!(prescaled >= 3, "{prescaled} Deployments to pre-scale");

    let cleared = sim.kubectl(&["delete", "--raw", "/sim/v1/journal"]);
    assert_eq!(cleared.code, Some(0), "{}", cleared.stderr);
    let out = sim.run_plugin("nodeevict", home.path(), &[NODE, "--force", "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let journal = sim.journal();
    let counts = breakdown(&journal);

    // Exactly one eviction per pod of the plan: no budget refused one (no 429), so none was
    // posted twice.
    let evictions: Vec<&Value> = journal
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/eviction"))
        .collect();
    assert!(
        evictions
            .iter()
            .all(|r| matches!(r["status"].as_u64(), Some(200 | 201))),
        "{evictions:?}"
    );
    let mut posted: Vec<&str> = evictions
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    posted.sort();
    let mut planned: Vec<&str> = evicted.iter().map(String::as_str).collect();
    planned.sort();
    assert_eq!(posted, planned, "eviction POSTs vs the plan's pods");

    let bound = evicted.len() + 2 * prescaled + PER_DRAIN;
    assert!(
        journal.len() <= bound,
        "{} requests for {} evicted pods and {prescaled} pre-scaled Deployments (at most {bound}): {counts:#?}",
        journal.len(),
        evicted.len()
    );
    // Nothing is read once per pod or per Deployment: no GET of a single pod or Deployment.
    let per_object: Vec<(&String, &usize)> = counts
        .iter()
        .filter(|(key, _)| {
            key.starts_with("GET ") && (key.contains("/pods/") || key.contains("/deployments/"))
        })
        .collect();
    assert!(per_object.is_empty(), "{per_object:?}");
}

/// A built-in scenario's YAML with one more user, `reader`: every read but `watch` on
/// Deployments and StatefulSets, and every write.
fn without_workload_watch(dir: &std::path::Path, scenario: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sim/scenarios")
        .join(format!("{scenario}.yaml"));
    let text = std::fs::read_to_string(&path).expect("a built-in scenario");
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("scenario yaml");
    let rules = serde_json::json!([
        {"verbs": ["get", "list"], "resources": ["*"]},
        {"verbs": ["watch"], "apiGroups": [""], "resources": ["*"]},
        {"verbs": ["create", "update", "patch", "delete"], "resources": ["*"]},
    ]);
    let user =
        serde_json::json!({"name": "reader", "token": "kube-sim-reader-token", "rules": rules});
    doc["users"]
        .as_sequence_mut()
        .expect("users")
        .push(serde_yaml::to_value(user).expect("yaml"));
    suite_tests::write(
        dir,
        "no-workload-watch.yaml",
        &serde_yaml::to_string(&doc).expect("yaml"),
    )
}

/// The waits read Deployments and StatefulSets from a watch; a Role without `watch` on them
/// (allowed before the waits shared a watch: they read each object) still drains: the watch
/// refused, the objects are listed again every few seconds.
#[test]
fn without_watch_on_workloads_the_waits_list_again_and_the_drain_finishes() {
    let home = tempfile::tempdir().unwrap();
    let scenario = without_workload_watch(home.path(), "artsy");
    let sim = SimProcess::start(scenario.to_str().unwrap(), &["--time-scale", "20"]);
    let kubeconfig = sim.kubeconfig_with_token("reader", "kube-sim-reader-token");
    // Two nodes: the pre-scale waits on Deployments, the settling between the nodes on both.
    let nodes = ["ip-10-0-12-27.ec2.internal", "ip-10-0-23-114.ec2.internal"];
    let out = suite_tests::run(
        suite_tests::plugin("nodeevict", home.path())
            .args(nodes)
            .args(["--force", "--delete-emptydir-data", "-y", "--timeout", "2m"])
            .arg("--kubeconfig")
            .arg(&kubeconfig),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let journal = sim.journal();
    let refused: Vec<&Value> = journal
        .iter()
        .filter(|r| r["status"] == 403)
        .filter(|r| r["query"].as_str().unwrap_or("").contains("watch=true"))
        .collect();
    assert!(
        refused
            .iter()
            .any(|r| r["path"].as_str().unwrap_or("").ends_with("/deployments")),
        "no watch of Deployments was refused: {refused:?}"
    );
    for single in ["exchange-web", "force-web"] {
        let d = sim.get_json(&["deployment", single]);
        assert_eq!(d["spec"]["replicas"], 1, "{d}");
    }
}
