//! kube-sim's PriorityClasses and Priority admission through real kubectl: the system classes
//! the API server creates at start-up, a class's priority resolved into the pods that name it
//! (directly or through a Deployment's template), and upstream's refusals — an unknown class
//! (403), a user class above 1000000000 or under the reserved `system-` prefix (422), a second
//! globalDefault (403), deleting a system class (403) — each changing nothing.

use std::time::Duration;

use serde_json::{Value, json};
use suite_tests::SimProcess;

fn apply(sim: &SimProcess, dir: &std::path::Path, name: &str, objects: &Value) -> suite_tests::Run {
    let path = suite_tests::write(dir, name, &objects.to_string());
    sim.kubectl(&["apply", "--validate=false", "-f", path.to_str().unwrap()])
}

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    spec["containers"] = json!([{"name": "main", "image": "busybox:1.37"}]);
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "default"}, "spec": spec})
}

/// The POSTs and PUTs/PATCHes/DELETEs the sim answered with a success since it started.
fn successful_writes(sim: &SimProcess) -> Vec<Value> {
    sim.mutating_requests()
        .into_iter()
        .filter(|e| e["status"].as_u64().is_some_and(|s| s < 300))
        .collect()
}

#[test]
fn kubectl_lists_the_system_classes_with_upstream_columns() {
    let sim = SimProcess::start("artsy", &[]);
    let table = sim.kubectl(&["get", "priorityclasses"]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let lines: Vec<Vec<&str>> = table
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    );
    let row = |name: &str| {
        lines
            .iter()
            .find(|l| l[0] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", table.stdout))
            .clone()
    };
    let node = row("system-node-critical");
    assert_eq!(
        (node[1], node[2], node[4]),
        ("2000001000", "false", "PreemptLowerPriority")
    );
    let cluster = row("system-cluster-critical");
    assert_eq!(cluster[1], "2000000000");
    // The short name, as discovery advertises it.
    let one = sim.get_json(&["pc", "system-cluster-critical"]);
    assert_eq!(one["apiVersion"], "scheduling.k8s.io/v1");
    assert_eq!(
        one["description"],
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."
    );
}

#[test]
fn a_pod_gets_the_priority_of_its_class_and_an_unknown_class_is_forbidden() {
    let sim = SimProcess::start("artsy", &[]);
    let dir = tempfile::tempdir().unwrap();
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
         "metadata": {"name": "batch-low"}, "value": 100, "preemptionPolicy": "Never",
         "description": "batch jobs"},
        pod("batch", json!({"priorityClassName": "batch-low"})),
        pod("plain", json!({})),
    ]});
    let out = apply(&sim, dir.path(), "objects.json", &objects);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let batch = sim.get_json(&["pod", "batch", "-n", "default"]);
    assert_eq!(batch["spec"]["priority"], 100);
    assert_eq!(batch["spec"]["preemptionPolicy"], "Never");
    let plain = sim.get_json(&["pod", "plain", "-n", "default"]);
    assert_eq!(plain["spec"]["priority"], 0);
    assert_eq!(plain["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    // A second apply (a patch that leaves priority out) keeps it.
    let out = apply(&sim, dir.path(), "objects.json", &objects);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        sim.get_json(&["pod", "batch", "-n", "default"])["spec"]["priority"],
        100
    );

    let before = successful_writes(&sim).len();
    let unknown = pod("lost", json!({"priorityClassName": "foo"}));
    let out = apply(&sim, dir.path(), "lost.json", &unknown);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stderr.contains("Error from server (Forbidden)")
            && out
                .stderr
                .contains("pods \"lost\" is forbidden: no PriorityClass with name foo was found"),
        "{}",
        out.stderr
    );
    // A priority that is not the class's.
    let wrong = pod(
        "wrong",
        json!({"priorityClassName": "batch-low", "priority": 7}),
    );
    let out = apply(&sim, dir.path(), "wrong.json", &wrong);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "pods \"wrong\" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 100 from the given PriorityClass name"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(successful_writes(&sim).len(), before, "nothing was written");
    for name in ["lost", "wrong"] {
        assert!(sim.find_json(&["pod", name, "-n", "default"]).is_none());
    }
}

#[test]
fn a_deployments_pods_get_the_priority_its_template_names() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let dir = tempfile::tempdir().unwrap();
    let deployment = |name: &str, class: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": "default"},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                                     "spec": {"priorityClassName": class,
                                              "containers": [{"name": "main", "image": "busybox:1.37"}]}}}})
    };
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
         "metadata": {"name": "web-high"}, "value": 500000},
        deployment("web", "web-high"),
        deployment("orphan", "missing-class"),
    ]});
    let out = apply(&sim, dir.path(), "objects.json", &objects);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let pods = |app: &str| -> Vec<Value> {
        sim.get_json(&["pods", "-n", "default", "-l", &format!("app={app}")])["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    suite_tests::wait_for("web's two pods", Duration::from_secs(20), || {
        pods("web").len() == 2
    });
    for p in pods("web") {
        assert_eq!(p["spec"]["priority"], 500000, "{}", p["metadata"]["name"]);
        assert_eq!(p["spec"]["priorityClassName"], "web-high");
        assert_eq!(p["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    }
    // The ReplicaSet controller cannot create pods naming a class that does not exist, and
    // says why in an event, as the real one does.
    suite_tests::wait_for(
        "orphan's FailedCreate event",
        Duration::from_secs(20),
        || {
            sim.get_json(&["events", "-n", "default"])["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| {
                    e["reason"] == "FailedCreate"
                        && e["message"].as_str().is_some_and(|m| {
                            m.contains(
                                "is forbidden: no PriorityClass with name missing-class was found",
                            )
                        })
                })
        },
    );
    assert!(pods("orphan").is_empty());
}

#[test]
fn class_rules_are_upstreams_and_refusals_change_nothing() {
    let sim = SimProcess::start("artsy", &[]);
    let dir = tempfile::tempdir().unwrap();
    let class = |name: &str, value: i64, default: bool| {
        json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
               "metadata": {"name": name}, "value": value, "globalDefault": default})
    };
    let before = successful_writes(&sim).len();
    let out = apply(
        &sim,
        dir.path(),
        "high.json",
        &class("too-high", 1_000_000_001, false),
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("is invalid")
            && out.stderr.contains(
                "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
            ),
        "{}",
        out.stderr
    );
    let out = apply(
        &sim,
        dir.path(),
        "system.json",
        &class("system-mine", 10, false),
    );
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
        ),
        "{}",
        out.stderr
    );
    let out = sim.kubectl(&["delete", "priorityclass", "system-node-critical"]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "priorityclasses.scheduling.k8s.io \"system-node-critical\" is forbidden: this is a system priority class and cannot be deleted"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(successful_writes(&sim).len(), before, "nothing was written");

    // One globalDefault: it names the class of pods that name none; a second is refused.
    let out = apply(
        &sim,
        dir.path(),
        "normal.json",
        &class("normal", 1000, true),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = apply(&sim, dir.path(), "second.json", &class("second", 5, true));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(
            "priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass normal is already marked as default. Only one default can exist"
        ),
        "{}",
        out.stderr
    );
    let out = apply(&sim, dir.path(), "plain.json", &pod("plain", json!({})));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plain = sim.get_json(&["pod", "plain", "-n", "default"]);
    assert_eq!(plain["spec"]["priority"], 1000);
    assert_eq!(plain["spec"]["priorityClassName"], "normal");
    // A class's value cannot change.
    let out = sim.kubectl(&[
        "patch",
        "priorityclass",
        "normal",
        "--type=merge",
        "-p",
        r#"{"value": 2000}"#,
    ]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("value: Forbidden: may not be changed in an update."),
        "{}",
        out.stderr
    );
    assert_eq!(sim.get_json(&["pc", "normal"])["value"], 1000);
}
