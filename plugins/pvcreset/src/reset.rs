//! `kubectl pvcreset PVC... | --statefulset NAME (--ordinal N... | --all)`: read, plan, confirm
//! by typing the name, journal, act, verify.

use std::time::Instant;

use clap::Args;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::ResourceExt;
use kube::api::Api;
use shared::doctor::Permission;
use shared::output::{self, OutputFormat};
use shared::{ChangeArgs, Error, GlobalArgs, Target};

use crate::execute::{self, Ctx};
use crate::journal::{Journal, Strategy};
use crate::plan::{self, Request, StrategyChoice};
use crate::world;

#[derive(Args, Debug, Clone, Default)]
pub struct ResetArgs {
    /// The PersistentVolumeClaims to reset
    #[arg(value_name = "PVC")]
    pub claims: Vec<String>,
    /// Reset claims of this StatefulSet, named from its volumeClaimTemplates
    #[arg(long, value_name = "NAME")]
    pub statefulset: Option<String>,
    /// With --statefulset: the pod ordinals whose claims to reset
    #[arg(long, value_name = "N", requires = "statefulset")]
    pub ordinal: Vec<u32>,
    /// With --statefulset: every ordinal
    #[arg(long, requires = "statefulset", conflicts_with = "ordinal")]
    pub all: bool,
    /// pod: delete the claim and its pod (one StatefulSet ordinal); scale: scale the owner to 0 and back
    #[arg(long, value_enum, default_value_t = StrategyChoice::Auto)]
    pub strategy: StrategyChoice,
    /// Take a VolumeSnapshot of each claim first and wait until it is ready
    #[arg(long)]
    pub snapshot: bool,
    /// Reset an autoscaled owner: pause its HPA or ScaledObject, restore it afterwards
    #[arg(long)]
    pub ignore_autoscaler: bool,
    /// Reset a claim used by several owners: all of them are scaled to 0 and back
    #[arg(long)]
    pub force: bool,
    /// Output format of the plan: table or json
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// The claim names of `sts` for `ordinals` (all when empty), from its claim templates.
pub fn statefulset_claims(sts: &StatefulSet, ordinals: &[u32]) -> shared::Result<Vec<String>> {
    let spec = sts.spec.clone().unwrap_or_default();
    let templates = spec.volume_claim_templates.unwrap_or_default();
    if templates.is_empty() {
        return Err(Error::Failed(format!(
            "statefulset {} has no volumeClaimTemplates: name the claims instead",
            sts.name_any()
        )));
    }
    let replicas = spec.replicas.unwrap_or(1).max(0) as u32;
    let ordinals: Vec<u32> = if ordinals.is_empty() {
        (0..replicas).collect()
    } else {
        ordinals.to_vec()
    };
    Ok(ordinals
        .iter()
        .flat_map(|o| {
            templates
                .iter()
                .map(move |t| format!("{}-{}-{o}", t.name_any(), sts.name_any()))
        })
        .collect())
}

pub async fn run(global: &GlobalArgs, args: &ResetArgs) -> shared::Result<()> {
    if !matches!(args.output, OutputFormat::Table | OutputFormat::Json) {
        return Err(Error::Usage("the plan prints as -o table or json".into()));
    }
    if args.claims.is_empty() && args.statefulset.is_none() {
        return Err(Error::Usage(
            "name the claims to reset (kubectl pvcreset PVC...) or a StatefulSet (--statefulset NAME --ordinal N | --all)".into(),
        ));
    }
    if args.statefulset.is_some() && !args.claims.is_empty() {
        return Err(Error::Usage(
            "name claims or --statefulset, not both".into(),
        ));
    }
    if args.statefulset.is_some() && args.ordinal.is_empty() && !args.all {
        return Err(Error::Usage(
            "--statefulset needs --ordinal N (repeatable) or --all".into(),
        ));
    }
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    let claims = match &args.statefulset {
        Some(name) => {
            let sts = Api::<StatefulSet>::namespaced(target.client.clone(), &namespace)
                .get_opt(name)
                .await
                .map_err(|e| target.api_error(e))?
                .ok_or_else(|| Error::Failed(format!("statefulset {name:?} not found in namespace {namespace}: list them with `kubectl get sts -n {namespace}`")))?;
            statefulset_claims(&sts, &args.ordinal)?
        }
        None => args.claims.clone(),
    };
    let options = Options {
        strategy: args.strategy,
        snapshot: args.snapshot,
        ignore_autoscaler: args.ignore_autoscaler,
        force: args.force,
        output: args.output,
        change: args.change.clone(),
    };
    reset_claims(&target, &namespace, claims, &options).await
}

/// How to reset: the flags of `kubectl pvcreset` (and of `kubectl airflow reset-logs`).
#[derive(Debug, Clone)]
pub struct Options {
    pub strategy: StrategyChoice,
    pub snapshot: bool,
    pub ignore_autoscaler: bool,
    pub force: bool,
    pub output: OutputFormat,
    pub change: ChangeArgs,
}

/// The whole reset of `claims` in `namespace`: read, plan, show, confirm by typing the name,
/// journal, act, verify. The entry point for other plugins.
pub async fn reset_claims(
    target: &Target,
    namespace: &str,
    claims: Vec<String>,
    options: &Options,
) -> shared::Result<()> {
    let world = world::read(&target.client, namespace, &claims, options.snapshot)
        .await
        .map_err(|e| target.api_error(e))?;
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let request = Request {
        claims,
        strategy: options.strategy,
        snapshot: options.snapshot,
        ignore_autoscaler: options.ignore_autoscaler,
        force: options.force,
    };
    let plan = plan::plan(&world, &request, &now)?;
    shared::banner::print(target);
    match options.output {
        OutputFormat::Json => output::print_stdout(&output::to_json(&plan)?),
        _ => eprint!("{}", plan::render(&plan)),
    }
    shared::doctor::preflight(
        target,
        namespace,
        &needed_permissions(&plan.journal),
        "kubectl pvcreset doctor",
        options.change.dry_run,
    )
    .await?;
    if options.change.dry_run {
        eprintln!("dry run: nothing was changed");
        return Ok(());
    }
    let expected = if plan.claims.len() == 1 {
        plan.claims[0].name.clone()
    } else {
        plan.journal.owners[0].name.clone()
    };
    let what = if plan.claims.len() == 1 {
        "This deletes the claim".to_string()
    } else {
        format!(
            "This deletes {} claims of {}",
            plan.claims.len(),
            plan.journal.owners[0].reference()
        )
    };
    shared::confirm::confirm_typed(&what, &expected, options.change.yes)?;
    let ctx = Ctx {
        target,
        namespace: namespace.to_string(),
        deadline: Instant::now() + options.change.timeout,
    };
    let mut journal = plan.journal.clone();
    // Before the first change: the record that makes any interruption resumable.
    execute::save(&ctx, &journal).await?;
    let owner = journal.owners[0].reference();
    execute::drive(&ctx, &mut journal)
        .await
        .map_err(|e| with_resume_hint(e, &owner, namespace))
}

/// The writes this reset will make, checked before the first one.
pub fn needed_permissions(journal: &Journal) -> Vec<Permission> {
    use shared::doctor::Scope::Namespace;
    let owner_resource = |kind: &str| {
        if kind == "StatefulSet" {
            "statefulsets"
        } else {
            "deployments"
        }
    };
    let mut needs = vec![Permission::new(
        "delete",
        "",
        "persistentvolumeclaims",
        Namespace,
        "delete the old claim",
    )];
    for owner in &journal.owners {
        let resource = owner_resource(&owner.kind);
        needs.push(Permission::new(
            "patch",
            "apps",
            resource,
            Namespace,
            "record the reset's journal on its owner",
        ));
        if journal.strategy == Strategy::Scale {
            needs.push(
                Permission::new("patch", "apps", resource, Namespace, "scale the owner")
                    .sub("scale"),
            );
        }
    }
    if journal.strategy == Strategy::Pod {
        needs.push(Permission::new(
            "delete",
            "",
            "pods",
            Namespace,
            "replace the pod mounting the claim",
        ));
    }
    if journal.claims.iter().any(|c| c.recreate.is_some()) {
        needs.push(Permission::new(
            "create",
            "",
            "persistentvolumeclaims",
            Namespace,
            "create the claim again",
        ));
    }
    for a in &journal.autoscalers {
        needs.push(if a.kind == "ScaledObject" {
            Permission::new(
                "patch",
                "keda.sh",
                "scaledobjects",
                Namespace,
                "pause the KEDA ScaledObject",
            )
        } else {
            Permission::new(
                "patch",
                "autoscaling",
                "horizontalpodautoscalers",
                Namespace,
                "pause the HorizontalPodAutoscaler",
            )
        });
    }
    if !journal.snapshots.is_empty() {
        needs.push(Permission::new(
            "create",
            "snapshot.storage.k8s.io",
            "volumesnapshots",
            Namespace,
            "snapshot the claim first",
        ));
    }
    needs.dedup_by(|a, b| {
        (a.verb, a.resource, a.subresource) == (b.verb, b.resource, b.subresource)
    });
    needs
}

/// After the journal exists, every failure says how to finish.
pub fn with_resume_hint(e: Error, owner: &str, namespace: &str) -> Error {
    e.with_hint(&format!("; {}", resume_hint(owner, namespace)))
}

/// How to finish or undo a reset recorded on `owner`.
pub fn resume_hint(owner: &str, namespace: &str) -> String {
    format!(
        "the reset is recorded on {owner}: finish it with `kubectl pvcreset resume {owner} -n {namespace}` (or `abort` it while the claims still exist)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_come_from_the_templates() {
        let sts: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 2, "selector": {}, "serviceName": "web", "template": {},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}, {"metadata": {"name": "logs"}}]}
        }))
        .unwrap();
        assert_eq!(
            statefulset_claims(&sts, &[1]).unwrap(),
            ["data-web-1", "logs-web-1"]
        );
        assert_eq!(statefulset_claims(&sts, &[]).unwrap().len(), 4);
    }

    fn journal(value: serde_json::Value) -> Journal {
        serde_json::from_value(value).unwrap()
    }

    fn listed(needs: &[Permission]) -> Vec<String> {
        needs
            .iter()
            .map(|p| format!("{} {}/{}", p.verb, p.resource, p.subresource))
            .collect()
    }

    #[test]
    fn the_preflight_asks_for_exactly_the_writes_of_the_plan() {
        let scale = journal(serde_json::json!({
            "strategy": "scale", "step": "started", "started": "2026-11-25T00:00:00Z",
            "owners": [{"kind": "Deployment", "name": "report-builder", "replicas": 1}],
            "claims": [{"name": "report-cache", "uid": "u1", "recreate": {"metadata": {"name": "report-cache"}}}],
            "autoscalers": [{"kind": "HorizontalPodAutoscaler", "name": "report-builder", "original": null}]
        }));
        assert_eq!(
            listed(&needed_permissions(&scale)),
            [
                "delete persistentvolumeclaims/",
                "patch deployments/",
                "patch deployments/scale",
                "create persistentvolumeclaims/",
                "patch horizontalpodautoscalers/",
            ]
        );
        let pod = journal(serde_json::json!({
            "strategy": "pod", "step": "started", "started": "2026-11-25T00:00:00Z",
            "owners": [{"kind": "StatefulSet", "name": "worker", "replicas": 3}],
            "claims": [{"name": "logs-worker-2", "uid": "u2"}],
            "pod": {"name": "worker-2", "uid": "p2"}
        }));
        assert_eq!(
            listed(&needed_permissions(&pod)),
            [
                "delete persistentvolumeclaims/",
                "patch statefulsets/",
                "delete pods/"
            ]
        );
    }
}
