//! The shared crate's client pieces against kube-sim: retries through injected faults, and
//! waiting by watch with a timeout.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use kube::runtime::wait::conditions;
use shared::{Error, GlobalArgs};
use suite_tests::SimProcess;

const NS: &str = "astronomer-ee-lunar-nuclear-3725";

async fn target(sim: &SimProcess) -> shared::Target {
    let args = GlobalArgs {
        kubeconfig: Some(sim.kubeconfig.clone()),
        ..Default::default()
    };
    shared::kubeconfig::connect(&args).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_transient_faults() {
    let sim = SimProcess::start("astronomer", &["--fault-rate", "0.1"]);
    let target = target(&sim).await;
    let pods: Api<Pod> = Api::all(target.client.clone());
    // Let the controllers settle (the DaemonSet pods appear at start).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut counts = Vec::new();
    for _ in 0..60 {
        let list = pods
            .list(&ListParams::default())
            .await
            .expect("list retried through faults");
        counts.push(list.items.len());
    }
    assert!(counts[0] > 0);
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
    let journal = sim.journal();
    let failed = journal
        .iter()
        .filter(|e| e["status"].as_u64().is_none_or(|s| s == 0 || s >= 429))
        .count();
    assert!(
        failed > 0,
        "faults were injected and retried ({} requests)",
        journal.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_watches_until_the_condition_or_times_out() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let target = target(&sim).await;
    let pods: Api<Pod> = Api::namespaced(target.client.clone(), NS);
    let scheduler = pods
        .list(&ListParams::default().labels("component=scheduler"))
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("a scheduler pod");
    let name = scheduler.metadata.name.clone().unwrap();
    let uid = scheduler.metadata.uid.clone().unwrap();

    // A condition that never holds: exit code 4 after the timeout.
    let never = shared::wait::wait_for(
        pods.clone(),
        &name,
        "the scheduler to be deleted",
        Duration::from_secs(1),
        conditions::is_deleted(&uid),
    )
    .await;
    match never {
        Err(e @ Error::Timeout(_)) => assert_eq!(e.exit_code(), 4),
        other => panic!("expected a timeout, got {other:?}"),
    }

    pods.delete(&name, &DeleteParams::default()).await.unwrap();
    shared::wait::wait_for(
        pods.clone(),
        &name,
        "the scheduler to be deleted",
        Duration::from_secs(60),
        conditions::is_deleted(&uid),
    )
    .await
    .expect("deleted within the timeout");
    assert!(
        sim.journal()
            .iter()
            .any(|e| e["query"].as_str().unwrap_or("").contains("watch")),
        "waited by watch"
    );
}
