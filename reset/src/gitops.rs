//! The reset's check of GitOps tools and operators (shared::manager): under the scale strategy
//! a Flux Kustomization/HelmRelease, a self-healing Argo CD Application or an operator would
//! scale the owner back up while its claim is deleted — the pods come back on the old claim,
//! which then stays Terminating. Without `--ignore-gitops` that is the refusal (exit 3, nothing
//! changed) naming the manager and how to pause it; with it, a warning in the plan. The pod
//! strategy leaves the replicas alone: nothing for a manager to undo.

use kube::ResourceExt;
use serde::Serialize;
use shared::Error;
use shared::manager::{self, Manager};
use shared::owner::WorkloadKind;

use crate::journal::Strategy;
use crate::world::World;

/// A managed owner as the plan shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedOwner {
    /// `statefulset/NAME` or `deployment/NAME`.
    pub owner: String,
    pub manager: Manager,
}

/// The managers of `owners` (the workloads a scale strategy scales to 0 and back).
pub fn managed(world: &World, owners: &[(WorkloadKind, String)]) -> Vec<ManagedOwner> {
    owners
        .iter()
        .filter_map(|(kind, name)| {
            let meta = match kind {
                WorkloadKind::StatefulSet => world
                    .statefulsets
                    .iter()
                    .find(|s| s.name_any() == *name)
                    .map(|s| &s.metadata),
                WorkloadKind::Deployment => world
                    .deployments
                    .iter()
                    .find(|d| d.name_any() == *name)
                    .map(|d| &d.metadata),
            }?;
            let manager =
                manager::manager_of(meta, world.argo_apps.as_ref(), crate::hints::given_flags())?;
            Some(ManagedOwner {
                owner: format!("{}/{name}", kind.lowercase()),
                manager,
            })
        })
        .collect()
}

/// The refusal, or with `--ignore-gitops` the warnings; the managed owners for the plan.
pub fn settle(
    world: &World,
    owners: &[(WorkloadKind, String)],
    strategy: Strategy,
    ignore_gitops: bool,
    warnings: &mut Vec<String>,
) -> shared::Result<Vec<ManagedOwner>> {
    if strategy != Strategy::Scale {
        return Ok(Vec::new());
    }
    let found = managed(world, owners);
    if let Some(first) = found.first()
        && !ignore_gitops
    {
        return Err(Error::Refused(format!(
            "{}; nothing was changed",
            manager::refusal(&first.owner, "scale-down", &first.manager)
        )));
    }
    for m in &found {
        warnings.push(manager::warning(&m.owner, "scale-down", &m.manager));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use crate::plan::{Request, StrategyChoice, plan};
    use crate::world::World;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    /// A StatefulSet `web` (3 replicas) that Flux applies, with the claim of its pod `web-1`.
    fn world(labels: serde_json::Value) -> World {
        World {
            namespace: "ns".into(),
            claims: vec![from(json!({
                "metadata": {"name": "data-web-1", "namespace": "ns", "uid": "c1"},
                "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-1"}
            }))],
            pods: vec![from(json!({
                "metadata": {"name": "web-1", "namespace": "ns", "uid": "p1",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s", "controller": true}]},
                "spec": {"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data-web-1"}}]},
                "status": {"phase": "Running"}
            }))],
            statefulsets: vec![from(json!({
                "metadata": {"name": "web", "labels": labels},
                "spec": {"replicas": 3, "selector": {}, "serviceName": "web", "template": {},
                         "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
            }))],
            ..Default::default()
        }
    }

    fn request(strategy: StrategyChoice, ignore_gitops: bool) -> Request {
        Request {
            claims: vec!["data-web-1".into()],
            strategy,
            snapshot: false,
            ignore_autoscaler: false,
            force: false,
            reshape: crate::plan::Reshape::default(),
            restore: Vec::new(),
            ignore_gitops,
        }
    }

    fn flux() -> serde_json::Value {
        json!({"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"})
    }

    #[test]
    fn a_managed_owner_is_refused_for_a_scale_down_and_warned_about_when_ignored() {
        let managed = world(flux());
        let err = plan(&managed, &request(StrategyChoice::Scale, false), "t").unwrap_err();
        assert_eq!(err.exit_code(), 3, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("statefulset/web is managed by Flux Kustomization flux-system/apps")
                && text.contains("flux suspend kustomization apps -n flux-system")
                && text.contains("--ignore-gitops"),
            "{text}"
        );
        let ignored = plan(&managed, &request(StrategyChoice::Scale, true), "t").unwrap();
        assert_eq!(ignored.managed.len(), 1);
        assert!(
            ignored
                .warnings
                .iter()
                .any(|w| w.starts_with("--ignore-gitops: statefulset/web is managed by Flux")),
            "{:?}",
            ignored.warnings
        );
    }

    #[test]
    fn the_pod_strategy_and_unmanaged_owners_are_unaffected() {
        let pod = plan(&world(flux()), &request(StrategyChoice::Pod, false), "t").unwrap();
        assert!(pod.managed.is_empty() && pod.warnings.is_empty());
        let plain = plan(
            &world(json!({"app.kubernetes.io/instance": "web"})),
            &request(StrategyChoice::Scale, false),
            "t",
        )
        .unwrap();
        assert!(plain.managed.is_empty(), "a Helm release is not Argo CD");
    }
}
