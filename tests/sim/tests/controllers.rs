//! kube-sim's autoscalers and kubelet through the store: an HPA leaves a target scaled to 0
//! alone and honours disabled directions, KEDA scales a target back up from 0 unless paused, and
//! a pod crash-loops on a volume marked broken until its claim is replaced.

use std::time::Duration;

use kube_sim::resources::{self as r, ResourceType};
use kube_sim::sim::{Sim, SimOptions};
use kube_sim::store::DeleteOptions;
use serde_json::{Value, json};

async fn sim(scenario: &str, scale: f64) -> Sim {
    Sim::start(SimOptions {
        time_scale: scale,
        ..SimOptions::new(scenario)
    })
    .await
    .expect("sim")
}

fn get(sim: &Sim, rt: &ResourceType, ns: Option<&str>, name: &str) -> Value {
    sim.store()
        .read(|o| o.get(rt, ns, name).cloned())
        .unwrap_or_else(|| panic!("{} {name} not found", rt.kind))
}

fn spec_replicas(sim: &Sim, rt: &ResourceType, ns: &str, name: &str) -> i64 {
    get(sim, rt, Some(ns), name)["spec"]["replicas"]
        .as_i64()
        .unwrap()
}

/// Merges `patch` into an object, as a client's merge patch would.
fn patch(sim: &Sim, rt: &'static ResourceType, ns: Option<&str>, name: &str, patch: Value) {
    sim.store()
        .mutate(rt, ns, name, |o| {
            json_patch::merge(o, &patch);
            Ok(())
        })
        .unwrap();
}

fn scale(sim: &Sim, rt: &'static ResourceType, ns: &str, name: &str, replicas: i64) {
    patch(
        sim,
        rt,
        Some(ns),
        name,
        json!({"spec": {"replicas": replicas}}),
    );
}

/// Lets the controllers run a few reconciliations.
fn settle(sim: &Sim) {
    for _ in 0..5 {
        sim.advance(Duration::from_secs(1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpa_leaves_a_deployment_scaled_to_zero_at_zero() {
    let sim = sim("aura", 1.0).await;
    // apps/api: HPA minReplicas 3, maxReplicas 10. Below the minimum it is raised...
    scale(&sim, &r::DEPLOYMENTS, "apps", "api", 1);
    assert!(
        sim.wait_until(Duration::from_secs(10), |o| o
            .get(&r::DEPLOYMENTS, Some("apps"), "api")
            .is_some_and(|d| d["spec"]["replicas"] == 3))
            .await,
        "an HPA raises a target below minReplicas"
    );
    // ...but at 0 scaling is disabled: the HPA says so and leaves it there.
    scale(&sim, &r::DEPLOYMENTS, "apps", "api", 0);
    let disabled = sim
        .wait_until(Duration::from_secs(10), |o| {
            o.get(&r::HPAS, Some("apps"), "api").is_some_and(|h| {
                h["status"]["desiredReplicas"] == 0
                    && h["status"]["currentReplicas"] == 0
                    && h["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter().any(|c| {
                            c["type"] == "ScalingActive"
                                && c["status"] == "False"
                                && c["reason"] == "ScalingDisabled"
                        })
                    })
            })
        })
        .await;
    assert!(
        disabled,
        "{}",
        get(&sim, &r::HPAS, Some("apps"), "api")["status"]
    );
    settle(&sim);
    assert_eq!(spec_replicas(&sim, &r::DEPLOYMENTS, "apps", "api"), 0);
    // Scaled up by hand, the HPA is active again.
    scale(&sim, &r::DEPLOYMENTS, "apps", "api", 4);
    let active = sim
        .wait_until(Duration::from_secs(10), |o| {
            o.get(&r::HPAS, Some("apps"), "api").is_some_and(|h| {
                h["status"]["desiredReplicas"] == 4
                    && h["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "ScalingActive" && c["status"] == "True")
                    })
            })
        })
        .await;
    assert!(
        active,
        "{}",
        get(&sim, &r::HPAS, Some("apps"), "api")["status"]
    );
    assert_eq!(spec_replicas(&sim, &r::DEPLOYMENTS, "apps", "api"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpa_with_both_directions_disabled_still_keeps_the_range() {
    let sim = sim("aura", 1.0).await;
    patch(
        &sim,
        &r::HPAS,
        Some("apps"),
        "api",
        json!({"spec": {"behavior": {"scaleUp": {"selectPolicy": "Disabled"}, "scaleDown": {"selectPolicy": "Disabled"}}}}),
    );
    // As upstream (kubernetes/kubernetes#110034): Disabled stops metric-driven scaling only;
    // below minReplicas (3) or above maxReplicas (10) the count is still corrected.
    for (replicas, corrected) in [(1, 3), (12, 10), (5, 5)] {
        scale(&sim, &r::DEPLOYMENTS, "apps", "api", replicas);
        assert!(
            sim.wait_until(Duration::from_secs(10), |o| o
                .get(&r::DEPLOYMENTS, Some("apps"), "api")
                .is_some_and(|d| d["spec"]["replicas"] == corrected))
                .await,
            "{replicas} → {corrected}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keda_scales_a_zero_replica_target_back_to_min_unless_paused() {
    let sim = sim("aura", 1.0).await;
    // apps/queue-worker: ScaledObject minReplicaCount 1, maxReplicaCount 20, no kind (Deployment).
    let replicas_become = |want: i64| {
        let sim = &sim;
        async move {
            sim.wait_until(Duration::from_secs(10), |o| {
                o.get(&r::DEPLOYMENTS, Some("apps"), "queue-worker")
                    .is_some_and(|d| d["spec"]["replicas"] == want)
            })
            .await
        }
    };
    scale(&sim, &r::DEPLOYMENTS, "apps", "queue-worker", 0);
    assert!(
        replicas_become(1).await,
        "KEDA scales up from 0, an HPA would not"
    );
    scale(&sim, &r::DEPLOYMENTS, "apps", "queue-worker", 25);
    assert!(replicas_become(20).await, "down to maxReplicaCount");
    // Paused: nothing happens, even at 0.
    patch(
        &sim,
        &r::SCALED_OBJECTS,
        Some("apps"),
        "queue-worker",
        json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": "true"}}}),
    );
    scale(&sim, &r::DEPLOYMENTS, "apps", "queue-worker", 0);
    settle(&sim);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        spec_replicas(&sim, &r::DEPLOYMENTS, "apps", "queue-worker"),
        0
    );
    // Paused at a count: held there, outside the range too.
    patch(
        &sim,
        &r::SCALED_OBJECTS,
        Some("apps"),
        "queue-worker",
        json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused": null, "autoscaling.keda.sh/paused-replicas": "30"}}}),
    );
    assert!(replicas_become(30).await);
    // Unpaused: back within the range.
    patch(
        &sim,
        &r::SCALED_OBJECTS,
        Some("apps"),
        "queue-worker",
        json!({"metadata": {"annotations": {"autoscaling.keda.sh/paused-replicas": null}}}),
    );
    assert!(replicas_become(20).await);
}

fn container_status(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aura_prometheus_crash_loops_on_its_volume_until_the_claim_is_replaced() {
    let sim = sim("aura", 20.0).await;
    let ns = Some("monitoring");
    let claim = "prometheus-data-prometheus-0";
    let old_pod = get(&sim, &r::PODS, ns, "prometheus-0");
    let old_claim = get(&sim, &r::PVCS, ns, claim);
    let old_pv_name = old_claim["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let old_pv = get(&sim, &r::PVS, None, &old_pv_name);
    assert_eq!(old_pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    // As generated: the kubelet may already have restarted it once in the store.
    let generated = kube_sim::scenario::Scenario::load("aura")
        .unwrap()
        .objects
        .into_iter()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["name"] == "prometheus-0")
        .unwrap();
    // The pod itself carries no crash-loop annotation: its volume does.
    assert!(
        generated["metadata"]["annotations"]["sim.kube-sim.dev/crash-loop"].is_null(),
        "{}",
        generated["metadata"]
    );
    assert_eq!(
        old_pv["metadata"]["annotations"]["sim.kube-sim.dev/crash-loop"],
        "prometheus"
    );
    assert_eq!(
        container_status(&generated)["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    let restarts = container_status(&generated)["restartCount"]
        .as_i64()
        .unwrap();
    assert!(restarts > 0);
    // The kubelet keeps it crash-looping: the restart count goes up, it never gets Ready.
    let restarted = sim
        .wait_until(Duration::from_secs(10), |o| {
            o.get(&r::PODS, ns, "prometheus-0").is_some_and(|p| {
                container_status(p)["restartCount"].as_i64() > Some(restarts)
                    && container_status(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
                    && !kube_sim::control::pod_ready(p)
            })
        })
        .await;
    assert!(
        restarted,
        "{}",
        get(&sim, &r::PODS, ns, "prometheus-0")["status"]
    );

    // A new pod on the same claim crash-loops too: the volume is what is broken.
    sim.store()
        .delete(&r::PODS, ns, "prometheus-0", &DeleteOptions::default())
        .unwrap();
    let old_uid = old_pod["metadata"]["uid"].clone();
    let recreated = sim
        .wait_until(Duration::from_secs(30), |o| {
            o.get(&r::PODS, ns, "prometheus-0").is_some_and(|p| {
                p["metadata"]["uid"] != old_uid
                    && container_status(p)["restartCount"].as_i64() >= Some(1)
                    && container_status(p)["state"]["waiting"]["reason"] == "CrashLoopBackOff"
            })
        })
        .await;
    let old_pod = get(&sim, &r::PODS, ns, "prometheus-0");
    assert!(recreated, "{}", old_pod["status"]);
    assert_eq!(
        get(&sim, &r::PVCS, ns, claim)["metadata"]["uid"],
        old_claim["metadata"]["uid"]
    );

    // Replace the claim: delete it, then the pod. The StatefulSet makes a fresh claim, bound to a
    // fresh volume, and the new pod runs.
    sim.store()
        .delete(&r::PVCS, ns, claim, &DeleteOptions::default())
        .unwrap();
    sim.store()
        .delete(&r::PODS, ns, "prometheus-0", &DeleteOptions::default())
        .unwrap();
    let old_uid = old_pod["metadata"]["uid"].clone();
    let old_claim_uid = old_claim["metadata"]["uid"].clone();
    let replaced = sim
        .wait_until(Duration::from_secs(30), |o| {
            let (Some(p), Some(c)) = (
                o.get(&r::PODS, ns, "prometheus-0"),
                o.get(&r::PVCS, ns, claim),
            ) else {
                return false;
            };
            p["metadata"]["uid"] != old_uid
                && c["metadata"]["uid"] != old_claim_uid
                && c["status"]["phase"] == "Bound"
                && kube_sim::control::pod_ready(p)
        })
        .await;
    let pod = get(&sim, &r::PODS, ns, "prometheus-0");
    assert!(replaced, "{}", pod["status"]);
    assert_eq!(container_status(&pod)["restartCount"], 0);
    let new_pv = get(
        &sim,
        &r::PVS,
        None,
        get(&sim, &r::PVCS, ns, claim)["spec"]["volumeName"]
            .as_str()
            .unwrap(),
    );
    assert_ne!(new_pv["metadata"]["name"], old_pv_name.as_str());
    assert!(new_pv["metadata"]["annotations"]["sim.kube-sim.dev/crash-loop"].is_null());
    // The old volume is retained (Released), still broken, and mounted by nothing.
    let old_pv = get(&sim, &r::PVS, None, &old_pv_name);
    assert_eq!(old_pv["status"]["phase"], "Released", "{old_pv}");
    // Still Ready a while later.
    sim.advance(Duration::from_secs(60));
    assert!(kube_sim::control::pod_ready(&get(
        &sim,
        &r::PODS,
        ns,
        "prometheus-0"
    )));
}
