//! kube-sim through kube-rs 5: watch order and resume, optimistic concurrency, PodDisruptionBudget
//! refusals on eviction, PVC protection, what kube-rs' `evict` actually sends, paging, auth,
//! and a retrying client reaching the same state through injected faults.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{
    Api, DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use kube::{Client, Config};
use kube_sim::http::{FaultKind, FaultRule};
use kube_sim::resources;
use kube_sim::sim::{Sim, SimOptions};
use serde_json::json;

async fn sim(scenario: &str, scale: f64) -> Sim {
    Sim::start(SimOptions {
        time_scale: scale,
        ..SimOptions::new(scenario)
    })
    .await
    .expect("sim")
}

/// A client without kube's default retry, which would also retry an eviction's 429 (with
/// backoff up to minutes).
async fn client(sim: &Sim) -> Client {
    let kc = kube::config::Kubeconfig::read_from(sim.kubeconfig_path()).unwrap();
    let mut config = Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    config.default_retry = false;
    Client::try_from(config).unwrap()
}

async fn client_for(sim: &Sim, user: &str) -> Client {
    let path = sim.kubeconfig_for_user(user).unwrap();
    let kc = kube::config::Kubeconfig::read_from(path).unwrap();
    let config = Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

const NS: &str = "default";

fn web(replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {"requests": {"cpu": "100m"}}}]}}}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_delivers_events_in_order_and_resumes() {
    let sim = sim("artsy", 1.0).await;
    let client = client(&sim).await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), NS);
    let start_rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let stream = cms
        .watch(&WatchParams::default().timeout(10), &start_rv)
        .await
        .unwrap();
    let cm =
        serde_json::from_value(json!({"metadata": {"name": "c1"}, "data": {"a": "1"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    cms.patch(
        "c1",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"a": "2"}})),
    )
    .await
    .unwrap();
    cms.delete("c1", &DeleteParams::default()).await.unwrap();
    let events: Vec<_> = stream.take(3).try_collect().await.unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            _ => "OTHER",
        })
        .collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);
    // Resuming from the first event's resourceVersion replays only what came after.
    let WatchEvent::Added(first) = &events[0] else {
        unreachable!()
    };
    let rv = first.metadata.resource_version.clone().unwrap();
    let replay: Vec<_> = cms
        .watch(&WatchParams::default().timeout(2), &rv)
        .await
        .unwrap()
        .take(2)
        .try_collect()
        .await
        .unwrap();
    assert!(
        matches!(replay[0], WatchEvent::Modified(_)) && matches!(replay[1], WatchEvent::Deleted(_))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_update_gets_409() {
    // A ConfigMap: no controller writes it, so the only writer between the read and the stale
    // update is the test (a Deployment's status may be written by its controller meanwhile).
    let sim = sim("artsy", 1.0).await;
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client(&sim).await, NS);
    let created: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "stale-update"}, "data": {"replicas": "1"}
        }))
        .unwrap();
    let fresh = cms.create(&PostParams::default(), &created).await.unwrap();
    let mut first = fresh.clone();
    first.data = Some([("replicas".to_string(), "2".to_string())].into());
    cms.replace("stale-update", &PostParams::default(), &first)
        .await
        .unwrap();
    let mut stale = fresh;
    stale.data = Some([("replicas".to_string(), "3".to_string())].into());
    let err = cms
        .replace("stale-update", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (409, "Conflict")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_at_the_pdb_limit_gets_429_and_kube_rs_drops_the_grace_period() {
    let sim = sim("artsy", 1.0).await;
    let client = client(&sim).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let exchange = pods
        .list(&ListParams::default().labels("app=exchange"))
        .await
        .unwrap()
        .items
        .remove(0);
    let name = exchange.metadata.name.unwrap();
    let err = pods
        .evict(&name, &EvictParams::default())
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 429);
            assert!(s.message.contains("disruption budget"), "{}", s.message);
        }
        other => panic!("{other:?}"),
    }
    // kube-rs 5 posts `delete_options`, which a real server ignores: the pod gets its default
    // grace period, not the 0 that was asked for.
    let gravity = pods
        .list(&ListParams::default().labels("app=gravity"))
        .await
        .unwrap()
        .items
        .remove(0);
    let gname = gravity.metadata.name.unwrap();
    let params = EvictParams {
        delete_options: Some(DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        }),
        ..Default::default()
    };
    pods.evict(&gname, &params).await.unwrap();
    let after = pods.get(&gname).await.unwrap();
    assert_eq!(
        after.metadata.deletion_grace_period_seconds,
        Some(30),
        "kube-rs' grace period is not on the wire"
    );
    // Another gravity pod now: the budget (maxUnavailable 1) is used up by the first eviction.
    let second = pods
        .list(&ListParams::default().labels("app=gravity"))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| p.metadata.name.as_deref() != Some(gname.as_str()))
        .unwrap();
    let refused = pods
        .evict(
            second.metadata.name.as_deref().unwrap(),
            &EvictParams::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, kube::Error::Api(ref s) if s.code == 429),
        "{refused:?}"
    );
    // force-web has no budget: a policy/v1 Eviction with deleteOptions, as the plugins post it,
    // is honoured, grace period included.
    let other = pods
        .list(&ListParams::default().labels("app=force"))
        .await
        .unwrap()
        .items
        .remove(0);
    let oname = other.metadata.name.unwrap();
    let body = json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": oname, "namespace": NS}, "deleteOptions": {"gracePeriodSeconds": 0}});
    let req = http::Request::post(format!("/api/v1/namespaces/{NS}/pods/{oname}/eviction"))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    let status: serde_json::Value = client.request(req).await.unwrap();
    assert_eq!(status["status"], "Success");
    assert!(
        pods.get_opt(&oname).await.unwrap().is_none(),
        "grace 0: gone at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pvc_in_use_stays_terminating_until_its_pod_is_gone() {
    let sim = sim("astronomer", 20.0).await;
    let client = client(&sim).await;
    let ns = "astronomer-ee-lunar-nuclear-3725";
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pvcs.delete("logs-lunar-nuclear-3725-worker-0", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pvc = pvcs.get("logs-lunar-nuclear-3725-worker-0").await.unwrap();
    assert!(pvc.metadata.deletion_timestamp.is_some(), "Terminating");
    assert!(
        pvc.metadata
            .finalizers
            .unwrap()
            .contains(&"kubernetes.io/pvc-protection".to_string())
    );
    // Scale the workers down so the pod goes; then the claim goes too, and its PV (Delete).
    let sts: Api<k8s_openapi::api::apps::v1::StatefulSet> = Api::namespaced(client.clone(), ns);
    sts.patch_scale(
        "lunar-nuclear-3725-worker",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 0}})),
    )
    .await
    .unwrap();
    let gone = sim
        .wait_until(Duration::from_secs(30), |o| {
            o.get(
                &resources::PVCS,
                Some(ns),
                "logs-lunar-nuclear-3725-worker-0",
            )
            .is_none()
        })
        .await;
    assert!(gone, "the claim goes once no pod uses it");
    assert!(
        pods.get_opt("lunar-nuclear-3725-worker-0")
            .await
            .unwrap()
            .is_none()
    );
    let volume = pvc.spec.unwrap().volume_name.unwrap();
    assert!(
        sim.wait_until(Duration::from_secs(10), |o| o
            .get(&resources::PVS, None, &volume)
            .is_none())
            .await,
        "reclaim Delete removes the PV"
    );
    // Scaling back up: the controller recreates the claim, empty, and the pod.
    sts.patch_scale(
        "lunar-nuclear-3725-worker",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    assert!(
        sim.wait_until(Duration::from_secs(30), |o| o
            .get(
                &resources::PVCS,
                Some(ns),
                "logs-lunar-nuclear-3725-worker-0"
            )
            .is_some_and(|p| p["status"]["phase"] == "Bound"))
            .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_returns_everything_once_and_auth_is_enforced() {
    let sim = sim("astronomer", 1.0).await;
    let pods: Api<Pod> = Api::all(client(&sim).await);
    // Pods created while paging (the DaemonSet's, at start) must not make a page repeat one.
    let all = pods.list(&ListParams::default()).await.unwrap().items.len();
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(7);
    loop {
        let page = pods.list(&params).await.unwrap();
        seen.extend(page.items.into_iter().map(|p| p.metadata.name.unwrap()));
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => params = params.continue_token(&c),
            _ => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), unique.len(), "no pod twice");
    assert!(
        seen.len() >= all,
        "every pod that existed at the start: {} < {all}",
        seen.len()
    );

    let viewer: Api<Pod> = Api::namespaced(client_for(&sim, "viewer").await, "astronomer-ee");
    assert!(viewer.list(&ListParams::default()).await.is_ok());
    let name = viewer.list(&ListParams::default()).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    match viewer
        .delete(&name, &DeleteParams::default())
        .await
        .unwrap_err()
    {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 403);
            assert!(
                s.message
                    .contains("User \"viewer\" cannot delete resource \"pods\""),
                "{}",
                s.message
            );
        }
        other => panic!("{other:?}"),
    }
    let text = std::fs::read_to_string(sim.kubeconfig_path())
        .unwrap()
        .replace("kube-sim-admin-token", "wrong");
    let config = Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::from_yaml(&text).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    let bad: Api<Pod> = Api::all(Client::try_from(config).unwrap());
    match bad.list(&ListParams::default()).await.unwrap_err() {
        kube::Error::Api(s) => assert_eq!(s.code, 401),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retrying_client_reaches_the_same_state_through_faults() {
    let sim = Sim::start(SimOptions {
        time_scale: 10.0,
        fault_rate: 0.2,
        ..SimOptions::new("artsy")
    })
    .await
    .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client(&sim).await, NS);
    // kube's default retry covers 429/503; do the rest (500, dropped connections) by hand.
    async fn retry<T, F: std::future::Future<Output = Result<T, kube::Error>>>(
        mut f: impl FnMut() -> F,
    ) -> T {
        for _ in 0..50 {
            if let Ok(v) = f().await {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no success in 50 attempts")
    }
    let (post, patch_params, web3) = (PostParams::default(), PatchParams::default(), web(3));
    let scale = Patch::Merge(json!({"spec": {"replicas": 5}}));
    // Faults strike before the server touches anything, so retrying the create is safe here;
    // AlreadyExists would mean an earlier attempt landed.
    let _ = retry(|| async {
        match deployments.create(&post, &web3).await {
            Err(kube::Error::Api(s)) if s.code == 409 => deployments.get("web").await,
            other => other,
        }
    })
    .await;
    let _ = retry(|| deployments.patch_scale("gravity-web", &patch_params, &scale)).await;
    let list_params = ListParams::default();
    for _ in 0..30 {
        let _ = retry(|| deployments.list(&list_params)).await;
    }
    let ok = sim
        .wait_until(Duration::from_secs(30), |o| {
            let ready = |app: &str| {
                o.list(&resources::PODS, Some(NS))
                    .filter(|p| {
                        p["metadata"]["labels"]["app"] == app
                            && p["status"]["conditions"].as_array().is_some_and(|c| {
                                c.iter()
                                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
                            })
                    })
                    .count()
            };
            ready("web") == 3 && ready("gravity") == 5
        })
        .await;
    assert!(ok, "same final state as without faults");
    let faulted = sim
        .journal()
        .iter()
        .filter(|e| e.status == 0 || e.status >= 500 || e.status == 429)
        .count();
    assert!(faulted > 0, "faults were injected");
    let webs = sim
        .store()
        .list(&resources::DEPLOYMENTS, Some(NS))
        .0
        .into_iter()
        .filter(|d| d["metadata"]["name"] == "web")
        .count();
    assert_eq!(webs, 1, "no duplicate create");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn programmatic_faults_hit_only_the_matching_requests() {
    let sim = sim("artsy", 1.0).await;
    let pods: Api<Pod> = Api::namespaced(client(&sim).await, NS);
    sim.inject_faults(FaultRule {
        count: 1,
        method: Some("GET".into()),
        path_contains: Some("/pods".into()),
        kind: FaultKind::InternalError,
        ..Default::default()
    });
    assert!(
        pods.list(&ListParams::default()).await.is_err(),
        "the first matching request fails"
    );
    assert!(pods.list(&ListParams::default()).await.is_ok(), "only one");
    let statuses: Vec<u16> = sim
        .journal()
        .iter()
        .filter(|e| e.path.ends_with("/pods"))
        .map(|e| e.status)
        .collect();
    assert_eq!(statuses, [500, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_never_drops_below_the_budget_and_availability_shows_it() {
    let sim = sim("artsy", 10.0).await;
    let client = client(&sim).await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), NS);
    let pods: Api<Pod> = Api::namespaced(client, NS);
    let before: Vec<String> = pods
        .list(&ListParams::default().labels("app=gravity"))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.metadata.name.unwrap())
        .collect();
    // gravity-web: 3 replicas, default 25%/25% strategy: surge 1, unavailable 0.
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-24T15:00:00Z"}}}}});
    let patched = deployments
        .patch(
            "gravity-web",
            &PatchParams::default(),
            &Patch::Strategic(restart),
        )
        .await
        .unwrap();
    let generation = patched.metadata.generation.unwrap();
    let done = sim
        .wait_until(Duration::from_secs(60), |o| {
            let d = o
                .get(&resources::DEPLOYMENTS, Some(NS), "gravity-web")
                .unwrap();
            let fresh: Vec<&serde_json::Value> = o
                .list(&resources::PODS, Some(NS))
                .filter(|p| {
                    p["metadata"]["labels"]["app"] == "gravity"
                        && !before.contains(&p["metadata"]["name"].as_str().unwrap().to_string())
                })
                .collect();
            let old_left = o
                .list(&resources::PODS, Some(NS))
                .any(|p| before.contains(&p["metadata"]["name"].as_str().unwrap().to_string()));
            d["status"]["observedGeneration"].as_i64() >= Some(generation)
                && d["status"]["updatedReplicas"] == 3
                && d["status"]["readyReplicas"] == 3
                && fresh.len() == 3
                && !old_left
        })
        .await;
    assert!(done, "the rollout replaces all three pods");
    let availability = sim.availability();
    let gravity = availability["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "gravity-web")
        .unwrap()
        .clone();
    assert_eq!(gravity["minReady"], 3, "{gravity}");
    assert_eq!(gravity["desired"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statefulset_pod_waits_for_its_terminating_claim_and_gets_a_fresh_one() {
    let sim = sim("astronomer", 20.0).await;
    let client = client(&sim).await;
    let ns = "astronomer-ee-lunar-nuclear-3725";
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let old_claim = pvcs.get("logs-lunar-nuclear-3725-worker-1").await.unwrap();
    let old_pod = pods.get("lunar-nuclear-3725-worker-1").await.unwrap();
    // The runbook's race: delete the claim, then the pod. The claim stays (protection) until the
    // pod is gone; the controller must not start a pod on the dying claim.
    pvcs.delete("logs-lunar-nuclear-3725-worker-1", &DeleteParams::default())
        .await
        .unwrap();
    pods.delete("lunar-nuclear-3725-worker-1", &DeleteParams::default())
        .await
        .unwrap();
    let replaced = sim
        .wait_until(Duration::from_secs(30), |o| {
            let pod = o.get(&resources::PODS, Some(ns), "lunar-nuclear-3725-worker-1");
            let claim = o.get(
                &resources::PVCS,
                Some(ns),
                "logs-lunar-nuclear-3725-worker-1",
            );
            match (pod, claim) {
                (Some(p), Some(c)) => {
                    p["metadata"]["uid"] != old_pod.metadata.uid.as_deref().unwrap()
                        && c["metadata"]["uid"] != old_claim.metadata.uid.as_deref().unwrap()
                        && c["status"]["phase"] == "Bound"
                        && p["status"]["phase"] == "Running"
                }
                _ => false,
            }
        })
        .await;
    assert!(replaced, "a new pod on a new, empty claim");
    // No pod was ever created while the old claim was terminating: the FailedScheduling
    // message for a dying claim never appeared.
    let events = sim.store().list(&resources::EVENTS, Some(ns)).0;
    assert!(
        !events.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or("")
            .contains("is being deleted")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_honour_tail_since_timestamps_and_previous() {
    let sim = sim("astronomer", 1.0).await;
    let pods: Api<Pod> = Api::namespaced(client(&sim).await, "astronomer-ee-lunar-nuclear-3725");
    let scheduler = pods
        .list(&ListParams::default().labels("component=scheduler"))
        .await
        .unwrap()
        .items
        .remove(0)
        .metadata
        .name
        .unwrap();
    let tail = pods
        .logs(
            &scheduler,
            &kube::api::LogParams {
                tail_lines: Some(3),
                timestamps: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 3, "{tail}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("2026-") && l.split(' ').next().unwrap().ends_with('Z')),
        "{tail}"
    );
    let recent = pods
        .logs(
            &scheduler,
            &kube::api::LogParams {
                since_seconds: Some(60),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        recent.lines().count() <= 7,
        "about one line per 10 s in the last minute: {recent}"
    );
    let err = pods
        .logs(
            &scheduler,
            &kube::api::LogParams {
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400 && s.message.contains("previous terminated container")),
        "{err:?}"
    );
    let crashed = pods
        .logs(
            "lunar-nuclear-3725-worker-2",
            &kube::api::LogParams {
                previous: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(crashed.contains("Unrecoverable error"), "{crashed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_snapshots_become_ready() {
    let sim = sim("aura", 10.0).await;
    let client = client(&sim).await;
    let body = json!({"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "prom-before-reset", "namespace": "monitoring"},
                      "spec": {"volumeSnapshotClassName": "csi-azuredisk-vsc", "source": {"persistentVolumeClaimName": "prometheus-data-prometheus-0"}}});
    let req = http::Request::post(
        "/apis/snapshot.storage.k8s.io/v1/namespaces/monitoring/volumesnapshots",
    )
    .header("Content-Type", "application/json")
    .body(serde_json::to_vec(&body).unwrap())
    .unwrap();
    let _: serde_json::Value = client.request(req).await.unwrap();
    let ready = sim
        .wait_until(Duration::from_secs(10), |o| {
            o.get(
                &resources::VOLUME_SNAPSHOTS,
                Some("monitoring"),
                "prom-before-reset",
            )
            .is_some_and(|s| {
                s["status"]["readyToUse"] == true && s["status"]["restoreSize"] == "100Gi"
            })
        })
        .await;
    assert!(ready);
}
