//! kube-sim behaving as upstream does, judged by unmodified kubectl: HPA validation, KEDA
//! owning its HPA, eviction of unhealthy pods, two budgets on one pod, and a node whose kubelet
//! stopped (NotReady, pods that never finish terminating).

use std::time::Duration;

use serde_json::Value;
use suite_tests::{Run, SimProcess};
use suite_tests::{pod_ready as ready, wait_for};

const NODE: &str = "ip-10-0-12-27.ec2.internal";

/// The pod of `app` on `node` (artsy's Deployments label their pods `app`).
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

fn name(o: &Value) -> String {
    o["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Posts a policy/v1 Eviction for `pod` with real kubectl, as `kubectl drain` does.
fn evict(sim: &SimProcess, dir: &std::path::Path, pod: &str) -> Run {
    let body = suite_tests::write(
        dir,
        &format!("eviction-{pod}.json"),
        &format!(
            r#"{{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {{"name": "{pod}", "namespace": "default"}}}}"#
        ),
    );
    sim.kubectl(&[
        "create",
        "--raw",
        &format!("/api/v1/namespaces/default/pods/{pod}/eviction"),
        "-f",
        body.to_str().unwrap(),
    ])
}

fn apply(sim: &SimProcess, dir: &std::path::Path, file: &str, yaml: &str) -> Run {
    let path = suite_tests::write(dir, file, yaml);
    sim.kubectl(&["apply", "--validate=false", "-f", path.to_str().unwrap()])
}

/// Makes the pod's first container crash-loop and waits until the pod is not Ready.
fn crash_loop(sim: &SimProcess, pod: &Value) {
    let pod_name = name(pod);
    let container = pod["spec"]["containers"][0]["name"].as_str().unwrap();
    let out = sim.kubectl(&[
        "annotate",
        "pod",
        &pod_name,
        &format!("sim.kube-sim.dev/crash-loop={container}"),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        &format!("{pod_name} to crash-loop"),
        Duration::from_secs(20),
        || !ready(&sim.get_json(&["pod", &pod_name])),
    );
}

#[test]
fn hpa_writes_are_validated_as_upstream() {
    let sim = SimProcess::start("artsy", &[]);
    let dir = tempfile::tempdir().unwrap();
    let hpa = |min: i64, max: i64| {
        format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: force-web\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: force-web\n  minReplicas: {min}\n  maxReplicas: {max}\n"
        )
    };
    // Create: min > max is refused, with upstream's message.
    let out = apply(&sim, dir.path(), "bad.yaml", &hpa(3, 2));
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains(
            "The HorizontalPodAutoscaler \"force-web\" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"
        ),
        "{}",
        out.stderr
    );
    // minReplicas 0 needs the HPAScaleToZero feature gate, off by default.
    let out = apply(&sim, dir.path(), "zero.yaml", &hpa(0, 2));
    assert!(
        out.stderr
            .contains("spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"),
        "{}",
        out.stderr
    );
    let out = apply(&sim, dir.path(), "good.yaml", &hpa(1, 1));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Patch (merge and strategic) and update are validated on the result.
    let out = sim.kubectl(&[
        "patch",
        "hpa",
        "force-web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReplicas":2}}"#,
    ]);
    assert!(
        out.stderr.contains(
            "spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`"
        ),
        "{}",
        out.stderr
    );
    let out = sim.kubectl(&[
        "patch",
        "hpa",
        "force-web",
        "-p",
        r#"{"spec":{"maxReplicas":0}}"#,
    ]);
    assert!(
        out.stderr.contains(
            "* spec.maxReplicas: Invalid value: 0: must be greater than 0\n* spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`"
        ),
        "{}",
        out.stderr
    );
    let out = apply(&sim, dir.path(), "bad-update.yaml", &hpa(5, 4));
    assert_ne!(out.code, Some(0), "{}", out.stdout);
    // Raising both in one write is fine.
    let out = sim.kubectl(&[
        "patch",
        "hpa",
        "force-web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReplicas":2,"maxReplicas":2}}"#,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let spec = &sim.get_json(&["hpa", "force-web"])["spec"];
    assert_eq!(
        (&spec["minReplicas"], &spec["maxReplicas"]),
        (&2.into(), &2.into())
    );
    let refused = sim.journal().iter().filter(|e| e["status"] == 422).count();
    assert_eq!(refused, 5, "each refusal is a 422");
}

#[test]
fn keda_creates_owns_and_resets_its_hpa() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let hpa = || sim.get_json(&["hpa", "keda-hpa-queue-worker", "-n", "apps"]);
    wait_for("KEDA's HPA", Duration::from_secs(10), || {
        sim.kubectl(&["get", "hpa", "keda-hpa-queue-worker", "-n", "apps"])
            .code
            == Some(0)
    });
    let h = hpa();
    let owner = &h["metadata"]["ownerReferences"][0];
    assert_eq!(
        (&owner["kind"], &owner["name"], &owner["controller"]),
        (&"ScaledObject".into(), &"queue-worker".into(), &true.into()),
        "{h}"
    );
    let so = sim.get_json(&["scaledobject", "queue-worker", "-n", "apps"]);
    assert_eq!(owner["uid"], so["metadata"]["uid"]);
    assert_eq!(h["spec"]["minReplicas"], 1);
    assert_eq!(h["spec"]["maxReplicas"], 20);
    assert_eq!(h["spec"]["scaleTargetRef"]["name"], "queue-worker");
    // An edit of the HPA lasts one reconcile: KEDA puts its spec back.
    let out = sim.kubectl(&[
        "patch",
        "hpa",
        "keda-hpa-queue-worker",
        "-n",
        "apps",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReplicas":3,"maxReplicas":30}}"#,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("KEDA to reset its HPA", Duration::from_secs(10), || {
        let spec = hpa()["spec"].clone();
        spec["minReplicas"] == 1 && spec["maxReplicas"] == 20
    });
    // The ScaledObject is what drives it: minReplicaCount 0 gives an HPA minimum of 1.
    let out = sim.kubectl(&[
        "patch",
        "scaledobject",
        "queue-worker",
        "-n",
        "apps",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReplicaCount":0,"maxReplicaCount":5}}"#,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "the HPA to follow the ScaledObject",
        Duration::from_secs(10),
        || {
            let spec = hpa()["spec"].clone();
            spec["minReplicas"] == 1 && spec["maxReplicas"] == 5
        },
    );
    let out = sim.kubectl(&[
        "patch",
        "scaledobject",
        "queue-worker",
        "-n",
        "apps",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minReplicaCount":3}}"#,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "minReplicaCount 3 to scale the target",
        Duration::from_secs(10),
        || {
            hpa()["spec"]["minReplicas"] == 3
                && sim.get_json(&["deployment", "queue-worker", "-n", "apps"])["spec"]["replicas"]
                    == 3
        },
    );
    // Paused, KEDA removes its HPA; unpaused, it is back.
    let out = sim.kubectl(&[
        "annotate",
        "scaledobject",
        "queue-worker",
        "-n",
        "apps",
        "autoscaling.keda.sh/paused=true",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "the HPA to go while paused",
        Duration::from_secs(10),
        || {
            sim.kubectl(&["get", "hpa", "keda-hpa-queue-worker", "-n", "apps"])
                .code
                != Some(0)
        },
    );
    let out = sim.kubectl(&[
        "annotate",
        "scaledobject",
        "queue-worker",
        "-n",
        "apps",
        "autoscaling.keda.sh/paused-",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for("the HPA to come back", Duration::from_secs(10), || {
        sim.kubectl(&["get", "hpa", "keda-hpa-queue-worker", "-n", "apps"])
            .code
            == Some(0)
    });
}

#[test]
fn an_unhealthy_pod_is_evicted_without_using_the_budget() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let dir = tempfile::tempdir().unwrap();
    // gravity-web: 3 replicas, PDB maxUnavailable 1 (needs 2 healthy). One crash-loops: 2
    // healthy, 0 disruptions allowed.
    let sick = pod_of(&sim, "gravity", NODE);
    crash_loop(&sim, &sick);
    wait_for(
        "the budget to count 2 healthy",
        Duration::from_secs(10),
        || {
            let st = sim.get_json(&["pdb", "gravity-web"])["status"].clone();
            st["currentHealthy"] == 2 && st["disruptionsAllowed"] == 0
        },
    );
    // A healthy replica is refused...
    let healthy = sim.get_json(&["pods", "-l", "app=gravity"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| ready(p))
        .map(name)
        .unwrap();
    let out = evict(&sim, dir.path(), &healthy);
    assert!(
        out.stderr
            .contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{}",
        out.stderr
    );
    // ...the unhealthy one goes (IfHealthyBudget: currentHealthy 2 >= desiredHealthy 2), and
    // the budget still allows nothing more: it was not consumed.
    let out = evict(&sim, dir.path(), &name(&sick));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let gone = sim.get_json(&["pods", "-l", "app=gravity"]);
    assert!(
        gone["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| name(p) != name(&sick) || !p["metadata"]["deletionTimestamp"].is_null()),
        "{gone}"
    );
    assert!(
        sim.get_json(&["pdb", "gravity-web"])["status"]["disruptedPods"]
            .get(name(&sick))
            .is_none(),
        "an unhealthy pod's eviction is not recorded as a disruption"
    );

    // exchange-web: 1 replica, PDB minAvailable 1. Crash-looping, it has 0 healthy of 1:
    // IfHealthyBudget refuses, AlwaysAllow lets it go.
    let lonely = pod_of(&sim, "exchange", NODE);
    crash_loop(&sim, &lonely);
    let out = evict(&sim, dir.path(), &name(&lonely));
    assert!(
        out.stderr
            .contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{}",
        out.stderr
    );
    let out = sim.kubectl(&[
        "patch",
        "pdb",
        "exchange-web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"unhealthyPodEvictionPolicy":"AlwaysAllow"}}"#,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = evict(&sim, dir.path(), &name(&lonely));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_pod_under_two_budgets_cannot_be_evicted() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let dir = tempfile::tempdir().unwrap();
    let out = apply(
        &sim,
        dir.path(),
        "pdb.yaml",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: gravity-extra\n  namespace: default\nspec:\n  maxUnavailable: 2\n  selector:\n    matchLabels:\n      app: gravity\n",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let pod = name(&pod_of(&sim, "gravity", NODE));
    let out = evict(&sim, dir.path(), &pod);
    assert!(
        out.stderr.contains(
            "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
        ),
        "{}",
        out.stderr
    );
    assert!(
        sim.journal()
            .iter()
            .any(|e| e["status"] == 500 && e["path"].as_str().unwrap_or("").ends_with("/eviction"))
    );
    assert!(sim.get_json(&["pod", &pod])["metadata"]["deletionTimestamp"].is_null());
}

#[test]
fn a_stopped_kubelet_makes_the_node_not_ready_and_its_pods_never_finish_terminating() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let out = sim.kubectl(&["annotate", "node", NODE, "sim.kube-sim.dev/kubelet=stopped"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let ready_condition = || {
        sim.get_json(&["node", NODE])["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .cloned()
            .unwrap()
    };
    wait_for("the node to be NotReady", Duration::from_secs(10), || {
        ready_condition()["status"] == "Unknown"
    });
    let c = ready_condition();
    assert_eq!(c["reason"], "NodeStatusUnknown");
    assert_eq!(c["message"], "Kubelet stopped posting node status.");
    let node = sim.get_json(&["node", NODE]);
    assert!(
        node["spec"]["taints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoSchedule"),
        "{node}"
    );
    // Its pods are marked not Ready, and a deleted one stays Terminating.
    let pod = pod_of(&sim, "force", NODE);
    let pod_name = name(&pod);
    wait_for(
        "the pods to be marked not Ready",
        Duration::from_secs(10),
        || !ready(&sim.get_json(&["pod", &pod_name])),
    );
    let out = sim.kubectl(&[
        "delete",
        "pod",
        &pod_name,
        "--wait=false",
        "--grace-period=1",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // 3 s at time-scale 20 is a simulated minute: far past the grace period.
    std::thread::sleep(Duration::from_secs(3));
    let stuck = sim.get_json(&["pod", &pod_name]);
    assert!(!stuck["metadata"]["deletionTimestamp"].is_null(), "{stuck}");
    // The replacement runs elsewhere.
    wait_for("force-web Ready elsewhere", Duration::from_secs(15), || {
        sim.get_json(&["pods", "-l", "app=force"])["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| ready(p) && p["spec"]["nodeName"] != NODE)
    });
    // The kubelet back: Ready, untainted, and the pod finishes terminating.
    let out = sim.kubectl(&["annotate", "node", NODE, "sim.kube-sim.dev/kubelet-"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "the node to be Ready again",
        Duration::from_secs(10),
        || ready_condition()["status"] == "True",
    );
    wait_for("the pod to be gone", Duration::from_secs(10), || {
        sim.kubectl(&["get", "pod", &pod_name]).code != Some(0)
    });
    assert!(sim.get_json(&["node", NODE])["spec"]["taints"].is_null());
}
