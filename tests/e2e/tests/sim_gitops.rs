//! kube-sim's GitOps reconciler (tests/sim/src/gitops.rs) with unmodified kubectl: a
//! scale of a workload Flux or Argo CD manages is put back to what its source holds; one
//! excluded from reconciliation (Flux's `kustomize.toolkit.fluxcd.io/reconcile: disabled`) and
//! an unmanaged one keep the scale.

use std::time::Duration;

use suite_tests::{SimProcess, wait_for};

fn replicas(sim: &SimProcess, kind: &str, name: &str, ns: &str) -> i64 {
    sim.get_json(&[kind, name, "-n", ns])["spec"]["replicas"]
        .as_i64()
        .unwrap_or(-1)
}

fn scale(sim: &SimProcess, what: &str, ns: &str, to: u32) {
    let out = sim.kubectl(&["scale", what, "-n", ns, &format!("--replicas={to}")]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_scale_of_a_managed_workload_is_undone_and_a_paused_or_unmanaged_one_keeps_it() {
    // 30 simulated seconds of Flux interval pass in 1.5 s.
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    // Flux (the Kustomization's interval, 30 s here).
    scale(&sim, "statefulset/ledger", "shop", 0);
    assert_eq!(
        replicas(&sim, "sts", "ledger", "shop"),
        0,
        "the scale lands"
    );
    wait_for(
        "Flux to put ledger back to 2",
        Duration::from_secs(20),
        || replicas(&sim, "sts", "ledger", "shop") == 2,
    );
    // Argo CD self-heal (5 s).
    scale(&sim, "deployment/storefront", "shop", 3);
    wait_for(
        "Argo CD to put storefront back to 1",
        Duration::from_secs(20),
        || replicas(&sim, "deploy", "storefront", "shop") == 1,
    );
    // Excluded from Flux's reconciliation: the scale stays.
    let out = sim.kubectl(&[
        "annotate",
        "statefulset/ledger",
        "-n",
        "shop",
        "kustomize.toolkit.fluxcd.io/reconcile=disabled",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    scale(&sim, "statefulset/ledger", "shop", 1);
    // Unmanaged (no GitOps marks): the scale stays.
    scale(&sim, "deployment/report-builder", "apps", 2);
    std::thread::sleep(Duration::from_secs(3)); // 60 simulated seconds: twice ledger's interval
    assert_eq!(replicas(&sim, "sts", "ledger", "shop"), 1);
    assert_eq!(replicas(&sim, "deploy", "report-builder", "apps"), 2);
}
