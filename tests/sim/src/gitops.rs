//! A GitOps reconciler: what Flux's kustomize-/helm-controller and Argo CD's application
//! controller (automated sync with self-heal) do to a workload whose replicas someone changed
//! by hand — put them back to what the source (Git) says.
//!
//! The model:
//! - A Deployment or StatefulSet is managed when it carries Flux's labels
//!   (`kustomize.toolkit.fluxcd.io/name` + `…/namespace`, or `helm.toolkit.fluxcd.io/name` +
//!   `…/namespace`: fluxcd/kustomize-controller docs/spec/v1/kustomizations.md, fluxcd/
//!   helm-controller docs/spec/v2/helmreleases.md) or Argo CD's tracking annotation
//!   `argocd.argoproj.io/tracking-id` (argo-cd docs/user-guide/resource_tracking.md), and the
//!   scenario says what its source holds: `sim.kube-sim.dev/gitops-replicas: "N"` (the sim has
//!   no Git; this annotation is the manifest's `spec.replicas`).
//! - `kustomize.toolkit.fluxcd.io/reconcile: disabled` on the workload excludes it, as
//!   kustomize-controller does (fluxcd/kustomize-controller#484); so does a suspended source,
//!   modelled as `sim.kube-sim.dev/gitops-suspended: "true"` (`flux suspend` sets the
//!   Kustomization's `spec.suspend`, which the sim does not serve).
//! - A drift (`spec.replicas` ≠ N) is corrected once it has lasted
//!   `sim.kube-sim.dev/gitops-delay` simulated seconds (default 5: Argo CD's self-heal timeout,
//!   argo-cd controller/appcontroller.go `selfHealTimeout`, `--self-heal-timeout-seconds` 5;
//!   Flux corrects drift at its next `spec.interval` instead). The correction is a plain
//!   write of `spec.replicas`, as a server-side apply of the manifest would make it.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::control::Action;
use crate::resources::{self as r, ResourceType};
use crate::store::Objects;

const DESIRED: &str = "sim.kube-sim.dev/gitops-replicas";
const DELAY: &str = "sim.kube-sim.dev/gitops-delay";
const SUSPENDED: &str = "sim.kube-sim.dev/gitops-suspended";
const FLUX_RECONCILE: &str = "kustomize.toolkit.fluxcd.io/reconcile";
const DEFAULT_DELAY_SECONDS: f64 = 5.0;

/// When each drifting workload (by uid) was first seen drifting.
pub type DriftSince = HashMap<String, Timestamp>;

fn managed(o: &Value) -> bool {
    let labels = &o["metadata"]["labels"];
    let annotations = &o["metadata"]["annotations"];
    let flux = |kind: &str| {
        labels[format!("{kind}.toolkit.fluxcd.io/name")].is_string()
            && labels[format!("{kind}.toolkit.fluxcd.io/namespace")].is_string()
    };
    let argo = annotations["argocd.argoproj.io/tracking-id"].is_string();
    let excluded = annotations[FLUX_RECONCILE] == "disabled"
        || labels[FLUX_RECONCILE] == "disabled"
        || annotations[SUSPENDED] == "true";
    (flux("kustomize") || flux("helm") || argo) && !excluded
}

/// The replicas the source holds, for a managed workload.
fn desired(o: &Value) -> Option<i64> {
    if !managed(o) || !o["metadata"]["deletionTimestamp"].is_null() {
        return None;
    }
    o["metadata"]["annotations"][DESIRED]
        .as_str()?
        .trim()
        .parse()
        .ok()
        .filter(|n: &i64| *n >= 0)
}

/// Restores the replicas of managed workloads that drifted long enough; forgets the drift of
/// those back in line.
pub(crate) fn reconcile(
    objs: &Objects,
    now: Timestamp,
    drift: &mut DriftSince,
    out: &mut Vec<Action>,
) {
    let mut seen = Vec::new();
    for rt in [&r::DEPLOYMENTS, &r::STATEFUL_SETS] {
        for o in objs.list(rt, None) {
            let Some(want) = desired(o) else {
                continue;
            };
            let have = o["spec"]["replicas"].as_i64().unwrap_or(1);
            if have == want {
                continue;
            }
            let uid = o["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let since = *drift.entry(uid.clone()).or_insert(now);
            seen.push(uid);
            let delay = o["metadata"]["annotations"][DELAY]
                .as_str()
                .and_then(|d| d.parse::<f64>().ok())
                .unwrap_or(DEFAULT_DELAY_SECONDS);
            if now.duration_since(since).as_secs_f64() >= delay {
                out.push(restore(rt, o, want));
            }
        }
    }
    drift.retain(|uid, _| seen.contains(uid));
}

fn restore(rt: &'static ResourceType, o: &Value, want: i64) -> Action {
    Action::Patch(
        rt,
        o["metadata"]["namespace"].as_str().map(String::from),
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        json!({"spec": {"replicas": want}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_labelled_workloads_with_a_source_count_and_the_switches_exclude_them() {
        let flux = json!({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"},
            "annotations": {DESIRED: "2"}}, "spec": {"replicas": 0}});
        assert_eq!(desired(&flux), Some(2));
        let mut disabled = flux.clone();
        disabled["metadata"]["annotations"][FLUX_RECONCILE] = json!("disabled");
        assert_eq!(desired(&disabled), None);
        let mut suspended = flux.clone();
        suspended["metadata"]["annotations"][SUSPENDED] = json!("true");
        assert_eq!(desired(&suspended), None);
        let argo = json!({"metadata": {"annotations": {"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:ns/web", DESIRED: "1"}}});
        assert_eq!(desired(&argo), Some(1));
        let helm_only = json!({"metadata": {"labels": {"app.kubernetes.io/instance": "web"}, "annotations": {DESIRED: "1"}}});
        assert_eq!(desired(&helm_only), None, "plain Helm has no reconciler");
    }
}
