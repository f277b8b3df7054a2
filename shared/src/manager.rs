//! Who else sets a workload's replicas: a GitOps tool (Argo CD, Flux) or an operator that
//! reconciles the Deployment/StatefulSet back to its own desired state. A scale-down (pvcreset)
//! or a pre-scale (nodeevict) of such a workload is undone behind the suite's back, so the
//! plans name the manager and refuse unless `--ignore-gitops`.
//!
//! Each rule is a small named function over the object's metadata, as kubectl's `pkg/drain`
//! filters are; [`manager_of`] tries them in turn. All are pure: what the cluster says about
//! Argo CD Applications is read by the caller and passed in as [`ArgoApps`].
//!
//! The rules:
//! - Flux: kustomize-controller labels what it applies with `kustomize.toolkit.fluxcd.io/name`
//!   and `…/namespace`, helm-controller with `helm.toolkit.fluxcd.io/name` and `…/namespace`
//!   (fluxcd/kustomize-controller docs/spec/v1/kustomizations.md; fluxcd/helm-controller
//!   docs/spec/v2/helmreleases.md). The documented switch is the Kustomization's or
//!   HelmRelease's `spec.suspend` (`flux suspend kustomization NAME -n NS`); on the object
//!   itself, `kustomize.toolkit.fluxcd.io/reconcile: disabled` makes kustomize-controller
//!   leave it alone (fluxcd/kustomize-controller#484), and such an object is not managed.
//! - Argo CD: the annotation `argocd.argoproj.io/tracking-id` (`<app>:<group>/<kind>:<ns>/<name>`,
//!   annotation tracking) or the label `app.kubernetes.io/instance` (label tracking, the
//!   default) (argo-cd docs/user-guide/resource_tracking.md). Plain Helm sets that same label
//!   on every release, so the label alone counts only when an Application of that name is
//!   known to exist; otherwise every Helm release would be refused. Argo CD undoes a replica
//!   change only with automated sync and `selfHeal: true` (docs/user-guide/auto_sync.md;
//!   `automated.enabled: false` turns automation off). When the Applications can be read, an
//!   app without self-heal does not manage the replicas; when they cannot, the tracking
//!   annotation alone names the app with "self-heal unknown". The switch lives in the
//!   Application, not on the workload: nothing on the workload pauses Argo CD.
//! - Operator: an ownerReference with `controller: true` on the Deployment/StatefulSet to a
//!   kind outside the built-in workload groups (apimachinery controller_ref.go decides which
//!   reference is the controller). Its switch is the operator's own, not known here.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

pub const FLUX_KUSTOMIZE_NAME: &str = "kustomize.toolkit.fluxcd.io/name";
pub const FLUX_KUSTOMIZE_NAMESPACE: &str = "kustomize.toolkit.fluxcd.io/namespace";
/// kustomize-controller skips an object so annotated (or labelled) `disabled`.
pub const FLUX_RECONCILE: &str = "kustomize.toolkit.fluxcd.io/reconcile";
pub const FLUX_HELM_NAME: &str = "helm.toolkit.fluxcd.io/name";
pub const FLUX_HELM_NAMESPACE: &str = "helm.toolkit.fluxcd.io/namespace";
pub const ARGOCD_TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// What kind of thing reconciles the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ManagerKind {
    #[serde(rename = "ArgoCD")]
    ArgoCd,
    FluxKustomization,
    FluxHelmRelease,
    Operator,
}

/// The manager of a workload, as a plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    pub kind: ManagerKind,
    /// `namespace/name` of the Kustomization or HelmRelease, the Application's name, or the
    /// operator's `Kind/name`.
    pub name: String,
    /// One phrase: who it is ("Flux Kustomization flux-system/apps").
    pub description: String,
    /// What to do so it does not undo the change (the command to run, or what to change).
    pub how_to_pause: String,
}

/// The Argo CD Applications the caller could read: `None` when they cannot be read (the CRD
/// is not installed, or no permission), so self-heal is unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArgoApps {
    /// By name (apps in any namespace: also `<namespace>_<name>`, as their tracking ids say).
    pub self_heal: BTreeMap<String, bool>,
}

impl ArgoApps {
    /// From `applications.argoproj.io` objects as JSON (`metadata`, `spec.syncPolicy`).
    pub fn from_objects<'a>(apps: impl IntoIterator<Item = &'a serde_json::Value>) -> ArgoApps {
        let mut self_heal = BTreeMap::new();
        for app in apps {
            let Some(name) = app["metadata"]["name"].as_str() else {
                continue;
            };
            let heals = self_heals(&app["spec"]["syncPolicy"]);
            self_heal.insert(name.to_string(), heals);
            if let Some(ns) = app["metadata"]["namespace"].as_str() {
                self_heal.insert(format!("{ns}_{name}"), heals);
            }
        }
        ArgoApps { self_heal }
    }
}

/// Automated sync on (present, `enabled` not false) with `selfHeal: true`.
pub fn self_heals(sync_policy: &serde_json::Value) -> bool {
    let automated = &sync_policy["automated"];
    automated.is_object()
        && automated["enabled"].as_bool() != Some(false)
        && automated["selfHeal"].as_bool() == Some(true)
}

fn label<'m>(meta: &'m ObjectMeta, key: &str) -> Option<&'m str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

fn annotation<'m>(meta: &'m ObjectMeta, key: &str) -> Option<&'m str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// `kustomize.toolkit.fluxcd.io/reconcile: disabled`, as an annotation or a label.
pub fn flux_reconcile_disabled(meta: &ObjectMeta) -> bool {
    annotation(meta, FLUX_RECONCILE).or_else(|| label(meta, FLUX_RECONCILE)) == Some("disabled")
}

/// Applied by a Flux Kustomization (and not excluded from its reconciliation). `flags` are the
/// cluster-choosing flags given (`--context`, `--kubeconfig`, …; the flux CLI takes the same),
/// so the printed flux commands act on the same cluster when pasted.
pub fn flux_kustomization(meta: &ObjectMeta, flags: &str) -> Option<Manager> {
    let name = label(meta, FLUX_KUSTOMIZE_NAME)?;
    let namespace = label(meta, FLUX_KUSTOMIZE_NAMESPACE)?;
    if flux_reconcile_disabled(meta) {
        return None;
    }
    Some(Manager {
        kind: ManagerKind::FluxKustomization,
        name: format!("{namespace}/{name}"),
        description: format!("Flux Kustomization {namespace}/{name}"),
        how_to_pause: format!(
            "annotate the workload {FLUX_RECONCILE}=disabled (kustomize-controller then leaves it alone; this check too) and re-run, removing it afterwards; or suspend the Kustomization with `flux suspend kustomization {name} -n {namespace}{flags}` (`flux resume kustomization {name} -n {namespace}{flags}` afterwards) and re-run with --ignore-gitops (the suspension is not read here)"
        ),
    })
}

/// Installed by a Flux HelmRelease (`flags` as for [`flux_kustomization`]).
pub fn flux_helmrelease(meta: &ObjectMeta, flags: &str) -> Option<Manager> {
    let name = label(meta, FLUX_HELM_NAME)?;
    let namespace = label(meta, FLUX_HELM_NAMESPACE)?;
    Some(Manager {
        kind: ManagerKind::FluxHelmRelease,
        name: format!("{namespace}/{name}"),
        description: format!("Flux HelmRelease {namespace}/{name}"),
        how_to_pause: format!(
            "suspend it with `flux suspend helmrelease {name} -n {namespace}{flags}` (`flux resume helmrelease {name} -n {namespace}{flags}` afterwards) and re-run with --ignore-gitops (the suspension is not read here)"
        ),
    })
}

fn argocd(app: &str, self_heal: Option<bool>) -> Manager {
    let known = match self_heal {
        Some(_) => "self-heal on",
        None => "self-heal unknown",
    };
    Manager {
        kind: ManagerKind::ArgoCd,
        name: app.to_string(),
        description: format!("Argo CD app {app} ({known})"),
        how_to_pause: format!(
            "nothing on the workload pauses Argo CD: turn self-heal off in the Application (`argocd app set {app} --self-heal=false`, or `spec.syncPolicy.automated.selfHeal: false` where the Application is defined), back on afterwards, and {}",
            if self_heal.is_none() {
                "re-run with --ignore-gitops (the Applications cannot be read with these credentials)"
            } else {
                "re-run"
            }
        ),
    }
}

/// Tracked by an Argo CD Application through the tracking-id annotation. With the
/// Applications readable, only an app that self-heals counts.
pub fn argocd_tracking_id(meta: &ObjectMeta, apps: Option<&ArgoApps>) -> Option<Manager> {
    let id = annotation(meta, ARGOCD_TRACKING_ID)?;
    let app = id.split(':').next().filter(|a| !a.is_empty())?;
    match apps.and_then(|a| a.self_heal.get(app)) {
        Some(false) => None,
        Some(true) => Some(argocd(app, Some(true))),
        None => Some(argocd(app, None)),
    }
}

/// Tracked by an Argo CD Application through `app.kubernetes.io/instance`: only when an
/// Application of that name is known and self-heals (plain Helm sets the same label).
pub fn argocd_instance_label(meta: &ObjectMeta, apps: Option<&ArgoApps>) -> Option<Manager> {
    let app = label(meta, INSTANCE_LABEL)?;
    let heals = *apps?.self_heal.get(app)?;
    heals.then(|| argocd(app, Some(true)))
}

/// API groups whose controllers are Kubernetes' own.
fn built_in_group(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    matches!(group, "" | "apps" | "batch")
}

/// Controlled by a custom resource: an operator reconciles it.
pub fn operator_owner(meta: &ObjectMeta) -> Option<Manager> {
    let owner = crate::owner::controller_of(meta)?;
    if built_in_group(&owner.api_version) {
        return None;
    }
    Some(Manager {
        kind: ManagerKind::Operator,
        name: format!("{}/{}", owner.kind, owner.name),
        description: format!(
            "operator of {} {} ({})",
            owner.kind, owner.name, owner.api_version
        ),
        how_to_pause: format!(
            "pause the operator's reconciliation of {} {} (its documentation names the switch) and re-run with --ignore-gitops",
            owner.kind, owner.name
        ),
    })
}

/// The first manager the rules find, in order: Flux, Argo CD, an operator. `flags`: the
/// cluster-choosing flags given, carried by the flux commands printed.
pub fn manager_of(meta: &ObjectMeta, apps: Option<&ArgoApps>, flags: &str) -> Option<Manager> {
    flux_kustomization(meta, flags)
        .or_else(|| flux_helmrelease(meta, flags))
        .or_else(|| argocd_tracking_id(meta, apps))
        .or_else(|| argocd_instance_label(meta, apps))
        .or_else(|| operator_owner(meta))
}

/// The one line a plan refuses with (without `--ignore-gitops`) for `workload` (`kind/name`).
pub fn refusal(workload: &str, change: &str, manager: &Manager) -> String {
    format!(
        "{workload} is managed by {}, which would undo the {change}: {}; --ignore-gitops goes ahead without pausing it",
        manager.description, manager.how_to_pause
    )
}

/// The plan's warning with `--ignore-gitops`.
pub fn warning(workload: &str, change: &str, manager: &Manager) -> String {
    format!(
        "--ignore-gitops: {workload} is managed by {}, which may undo the {change} while it runs",
        manager.description
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use serde_json::json;

    fn meta(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> ObjectMeta {
        let map = |kv: &[(&str, &str)]| {
            Some(
                kv.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        ObjectMeta {
            name: Some("web".into()),
            labels: map(labels),
            annotations: map(annotations),
            ..Default::default()
        }
    }

    #[test]
    fn flux_needs_both_labels_and_names_the_suspend_command() {
        let m = meta(
            &[
                (FLUX_KUSTOMIZE_NAME, "apps"),
                (FLUX_KUSTOMIZE_NAMESPACE, "flux-system"),
            ],
            &[],
        );
        let found = manager_of(&m, None, "").unwrap();
        assert_eq!(found.kind, ManagerKind::FluxKustomization);
        assert_eq!(found.name, "flux-system/apps");
        assert!(
            found
                .how_to_pause
                .contains("flux suspend kustomization apps -n flux-system"),
            "{found:?}"
        );
        assert_eq!(
            manager_of(&meta(&[(FLUX_KUSTOMIZE_NAME, "apps")], &[]), None, ""),
            None
        );
        let disabled = meta(
            &[
                (FLUX_KUSTOMIZE_NAME, "apps"),
                (FLUX_KUSTOMIZE_NAMESPACE, "flux-system"),
            ],
            &[(FLUX_RECONCILE, "disabled")],
        );
        assert_eq!(
            manager_of(&disabled, None, ""),
            None,
            "excluded from reconcile"
        );
        let helm = meta(
            &[(FLUX_HELM_NAME, "redis"), (FLUX_HELM_NAMESPACE, "data")],
            &[],
        );
        let found = manager_of(&helm, None, "").unwrap();
        assert_eq!(found.kind, ManagerKind::FluxHelmRelease);
        assert!(
            found
                .how_to_pause
                .contains("flux suspend helmrelease redis -n data")
        );
    }

    #[test]
    fn argocd_annotation_with_and_without_readable_applications() {
        let m = meta(
            &[],
            &[(ARGOCD_TRACKING_ID, "shop:apps/Deployment:prod/web")],
        );
        let unknown = manager_of(&m, None, "").unwrap();
        assert_eq!(unknown.kind, ManagerKind::ArgoCd);
        assert_eq!(unknown.description, "Argo CD app shop (self-heal unknown)");
        assert!(unknown.how_to_pause.contains("argocd app set shop"));
        let healing = ArgoApps::from_objects(&[json!({
            "metadata": {"name": "shop", "namespace": "argocd"},
            "spec": {"syncPolicy": {"automated": {"selfHeal": true}}}
        })]);
        assert_eq!(
            manager_of(&m, Some(&healing), "").unwrap().description,
            "Argo CD app shop (self-heal on)"
        );
        let manual = ArgoApps::from_objects(&[json!({
            "metadata": {"name": "shop", "namespace": "argocd"},
            "spec": {"syncPolicy": {"automated": {"selfHeal": false}}}
        })]);
        assert_eq!(manager_of(&m, Some(&manual), ""), None, "no self-heal");
        let in_any_ns = meta(
            &[],
            &[(ARGOCD_TRACKING_ID, "team_shop:apps/Deployment:x/y")],
        );
        let apps = ArgoApps::from_objects(&[json!({
            "metadata": {"name": "shop", "namespace": "team"},
            "spec": {"syncPolicy": {"automated": {"selfHeal": true}}}
        })]);
        assert!(manager_of(&in_any_ns, Some(&apps), "").is_some());
    }

    #[test]
    fn the_instance_label_alone_is_plain_helm_unless_an_application_has_that_name() {
        let m = meta(&[(INSTANCE_LABEL, "shop")], &[]);
        assert_eq!(manager_of(&m, None, ""), None, "Applications unreadable");
        assert_eq!(
            manager_of(&m, Some(&ArgoApps::default()), ""),
            None,
            "no such Application"
        );
        let apps = ArgoApps::from_objects(&[json!({
            "metadata": {"name": "shop"},
            "spec": {"syncPolicy": {"automated": {"selfHeal": true}}}
        })]);
        assert_eq!(manager_of(&m, Some(&apps), "").unwrap().name, "shop");
    }

    #[test]
    fn self_heal_needs_automation_enabled() {
        assert!(self_heals(&json!({"automated": {"selfHeal": true}})));
        assert!(!self_heals(
            &json!({"automated": {"selfHeal": true, "enabled": false}})
        ));
        assert!(!self_heals(&json!({"automated": {}})));
        assert!(!self_heals(&json!(null)));
    }

    #[test]
    fn only_a_custom_controller_is_an_operator() {
        let owned = |api_version: &str, kind: &str, controller: bool| ObjectMeta {
            owner_references: Some(vec![OwnerReference {
                api_version: api_version.into(),
                kind: kind.into(),
                name: "main".into(),
                uid: "u".into(),
                controller: Some(controller),
                block_owner_deletion: None,
            }]),
            ..Default::default()
        };
        let found = manager_of(
            &owned(
                "postgres-operator.crunchydata.com/v1beta1",
                "PostgresCluster",
                true,
            ),
            None,
            "",
        )
        .unwrap();
        assert_eq!(found.kind, ManagerKind::Operator);
        assert_eq!(found.name, "PostgresCluster/main");
        assert_eq!(
            manager_of(
                &owned(
                    "postgres-operator.crunchydata.com/v1beta1",
                    "PostgresCluster",
                    false
                ),
                None,
                ""
            ),
            None,
            "not the controller"
        );
        assert_eq!(
            manager_of(&owned("apps/v1", "Deployment", true), None, ""),
            None
        );
        assert_eq!(manager_of(&owned("v1", "ConfigMap", true), None, ""), None);
        assert_eq!(manager_of(&meta(&[], &[]), None, ""), None);
    }

    #[test]
    fn refusal_names_the_manager_the_way_out_and_the_flag() {
        let m = meta(
            &[
                (FLUX_KUSTOMIZE_NAME, "apps"),
                (FLUX_KUSTOMIZE_NAMESPACE, "flux-system"),
            ],
            &[],
        );
        let manager = manager_of(&m, None, "").unwrap();
        let line = refusal("statefulset/web", "scale-down", &manager);
        assert!(
            line.contains("Flux Kustomization flux-system/apps"),
            "{line}"
        );
        assert!(line.contains("flux suspend kustomization apps"), "{line}");
        assert!(line.contains("--ignore-gitops"), "{line}");
        assert!(!line.contains('\n'));
    }
}
