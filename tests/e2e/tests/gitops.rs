//! Issue 19, GitOps and operators: a scale-down (pvcreset) or pre-scale (nodeevict) of a
//! workload a GitOps tool manages is undone behind the tool's back, so the plan names the
//! manager and refuses unless --ignore-gitops. Judged against kube-sim's reconciler
//! (tests/sim/src/gitops.rs) in aura's namespace shop: StatefulSet ledger (Flux Kustomization
//! flux-system/shop, 2 replicas, interval 30 s) and Deployment storefront (Argo CD app shop,
//! 1 replica on aks-master-2, self-heal after 5 s).

use std::time::Duration;

use serde_json::Value;
use suite_tests::{SimProcess, pod_ready, wait_for};

fn replicas(sim: &SimProcess, kind: &str, name: &str) -> i64 {
    sim.get_json(&[kind, name, "-n", "shop"])["spec"]["replicas"]
        .as_i64()
        .unwrap_or(-1)
}

fn mutations_since(sim: &SimProcess, before: usize) -> Vec<Value> {
    sim.mutating_requests().into_iter().skip(before).collect()
}

fn ledger_ready(sim: &SimProcess) -> bool {
    ["ledger-0", "ledger-1"].iter().all(|p| {
        sim.find_json(&["pod", p, "-n", "shop"])
            .is_some_and(|pod| pod_ready(&pod))
    })
}

#[test]
fn pvcreset_refuses_a_flux_managed_owner_until_paused_or_ignored() {
    let sim = SimProcess::start("aura", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // The failure the check prevents: Flux puts a scale-down back (here 30 s, 3 s real).
    let out = sim.kubectl(&["scale", "sts/ledger", "-n", "shop", "--replicas=0"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "Flux to undo the scale-down",
        Duration::from_secs(20),
        || replicas(&sim, "sts", "ledger") == 2,
    );
    wait_for("ledger's pods Ready again", Duration::from_secs(30), || {
        ledger_ready(&sim)
    });

    let before = sim.mutating_requests().len();
    let claim = "data-ledger-1";
    let refused = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[claim, "-n", "shop", "--strategy", "scale", "-y"],
    );
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    for needle in [
        "statefulset/ledger is managed by Flux Kustomization flux-system/shop",
        // With the flags given (the cluster), as the pasted command needs.
        "`flux suspend kustomization shop -n flux-system --kubeconfig ",
        "kustomize.toolkit.fluxcd.io/reconcile=disabled",
        "--ignore-gitops",
        "nothing was changed",
    ] {
        assert!(
            refused.stderr.contains(needle),
            "{needle}: {}",
            refused.stderr
        );
    }
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "one line: {}",
        refused.stderr
    );
    // --ignore-gitops: the plan goes ahead with the warning (a dry run: nothing is changed).
    let ignored = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            claim,
            "-n",
            "shop",
            "--strategy",
            "scale",
            "--ignore-gitops",
            "--dry-run",
        ],
    );
    assert_eq!(ignored.code, Some(0), "{}", ignored.stderr);
    assert!(
        ignored
            .stderr
            .contains("warning: --ignore-gitops: statefulset/ledger is managed by Flux"),
        "{}",
        ignored.stderr
    );
    let json = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            claim,
            "-n",
            "shop",
            "--strategy",
            "scale",
            "--ignore-gitops",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let plan: Value = serde_json::from_str(&json.stdout).expect("plan json");
    assert_eq!(plan["managed"][0]["owner"], "statefulset/ledger", "{plan}");
    assert_eq!(plan["managed"][0]["manager"]["kind"], "FluxKustomization");
    // The pod strategy (auto's choice for one ordinal) leaves the replicas alone: no check.
    let pod = sim.run_plugin("pvcreset", home.path(), &[claim, "-n", "shop", "--dry-run"]);
    assert_eq!(pod.code, Some(0), "{}", pod.stderr);
    assert!(
        pod.stderr.contains("(pod strategy)") && !pod.stderr.contains("gitops"),
        "{}",
        pod.stderr
    );
    assert!(
        mutations_since(&sim, before).is_empty(),
        "{:?}",
        mutations_since(&sim, before)
    );

    // Paused as the refusal says (excluded from Flux's reconciliation): the reset runs.
    let out = sim.kubectl(&[
        "annotate",
        "sts/ledger",
        "-n",
        "shop",
        "kustomize.toolkit.fluxcd.io/reconcile=disabled",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let old = sim.get_json(&["pvc", claim, "-n", "shop"])["metadata"]["uid"].clone();
    let reset = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            claim,
            "-n",
            "shop",
            "--strategy",
            "scale",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(reset.code, Some(0), "{}", reset.stderr);
    assert!(!reset.stderr.contains("gitops"), "{}", reset.stderr);
    assert_ne!(
        sim.get_json(&["pvc", claim, "-n", "shop"])["metadata"]["uid"],
        old
    );
    assert_eq!(replicas(&sim, "sts", "ledger"), 2);
}

#[test]
fn nodeevict_refuses_to_prescale_an_argo_cd_managed_deployment_unless_ignored() {
    let sim = SimProcess::start("aura", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // The failure: Argo CD's self-heal takes a pre-scale's extra replica away again.
    let out = sim.kubectl(&["scale", "deploy/storefront", "-n", "shop", "--replicas=2"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    wait_for(
        "Argo CD to undo the scale-up",
        Duration::from_secs(20),
        || replicas(&sim, "deploy", "storefront") == 1,
    );

    let before = sim.mutating_requests().len();
    let refused = sim.run_plugin("nodeevict", home.path(), &["aks-master-2", "-y"]);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    for needle in [
        "Deployment shop/storefront is managed by Argo CD app shop (self-heal unknown)",
        "argocd app set shop --self-heal=false",
        "--ignore-gitops",
        "nothing was changed",
    ] {
        assert!(
            refused.stderr.contains(needle),
            "{needle}: {}",
            refused.stderr
        );
    }
    let ignored = sim.run_plugin(
        "nodeevict",
        home.path(),
        &["aks-master-2", "--ignore-gitops", "--dry-run"],
    );
    assert_eq!(ignored.code, Some(0), "{}", ignored.stderr);
    assert!(
        ignored.stderr.contains("pre-scale: Deployment shop/storefront: 1 → 2 replicas")
            && ignored
                .stderr
                .contains("warning: --ignore-gitops: Deployment shop/storefront is managed by Argo CD app shop"),
        "{}",
        ignored.stderr
    );
    // A managed StatefulSet whose other replica runs elsewhere is not scaled: unaffected.
    let other = sim.run_plugin("nodeevict", home.path(), &["aks-master-0", "--dry-run"]);
    assert_eq!(other.code, Some(0), "{}", other.stderr);
    assert!(!other.stderr.contains("gitops"), "{}", other.stderr);
    assert!(
        mutations_since(&sim, before).is_empty(),
        "{:?}",
        mutations_since(&sim, before)
    );

    // With --ignore-gitops the drain runs, warned. (The sim's self-heal is slowed to an hour
    // first, so that this run is not a race with it: what it would do is shown above.)
    let out = sim.kubectl(&[
        "annotate",
        "deploy/storefront",
        "-n",
        "shop",
        "sim.kube-sim.dev/gitops-delay=3600",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let drained = sim.run_plugin(
        "nodeevict",
        home.path(),
        &["aks-master-2", "--ignore-gitops", "-y", "--timeout", "60s"],
    );
    assert_eq!(drained.code, Some(0), "{}", drained.stderr);
    assert!(
        drained
            .stderr
            .contains("warning: --ignore-gitops: Deployment shop/storefront is managed by Argo CD"),
        "{}",
        drained.stderr
    );
    assert_eq!(replicas(&sim, "deploy", "storefront"), 1, "restored");
}
