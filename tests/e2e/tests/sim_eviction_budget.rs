//! kube-sim's Eviction subresource under concurrent evictions, through real kubectl: `kubectl
//! drain` evicts a node's pods all at once, and a budget allowing one disruption lets exactly
//! one of its pods go — the others get 429, as upstream's checkAndDecrement
//! (pkg/registry/core/pod/storage/eviction.go) makes the second of two concurrent evictions
//! conflict on the budget's resourceVersion and re-read it.

use serde_json::Value;
use suite_tests::SimProcess;

#[test]
fn parallel_evictions_under_one_budget_let_exactly_one_pod_go() {
    // Two filler Deployments of 20 replicas over two nodes, each under `maxUnavailable: 1`:
    // the first node holds 10 pods of each. Replacements take 10 minutes to be Ready, so no
    // budget allows a second disruption during the test.
    let sim = SimProcess::start("large:nodes=2,pods=40,pdb=1,ready=600", &[]);
    let node = "ip-10-20-0-1.ec2.internal";
    let on_node = sim.get_json(&[
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ]);
    assert_eq!(on_node["items"].as_array().unwrap().len(), 20);
    // kubectl retries a refused eviction after 5 s: a 3 s timeout sees the first round only.
    let out = sim.kubectl(&["drain", node, "--ignore-daemonsets", "--timeout=3s"]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."
        ),
        "{}",
        out.stderr
    );
    let evictions: Vec<u64> = sim
        .journal()
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/eviction")))
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(evictions.len(), 20, "{evictions:?}");
    assert_eq!(
        evictions.iter().filter(|s| **s == 201).count(),
        2,
        "one per budget: {evictions:?}"
    );
    assert!(evictions.iter().all(|s| *s == 201 || *s == 429));
    let availability = sim.availability();
    let fillers: Vec<&Value> = availability
        .iter()
        .filter(|a| a["namespace"] == "filler")
        .collect();
    assert_eq!(fillers.len(), 2);
    for a in fillers {
        assert_eq!(a["minReady"], 19, "{a}");
    }
}
