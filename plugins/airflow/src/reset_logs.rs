//! `kubectl airflow reset-logs WORKER-POD|--all [RELEASE]`: replace worker log volumes (full
//! disks make Celery workers crash-loop) through the reset engine (crate pvc-reset, kubectl pvcreset's): the same plan,
//! typed confirmation, journal, resume and verification.

use clap::Args;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::ResourceExt;
use kube::api::Api;
use pvc_reset::plan::StrategyChoice;
use pvc_reset::reset::{self, Options};
use shared::output::PlanFormat;
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::discovery;

#[derive(Args, Debug, Clone)]
pub struct ResetLogsArgs {
    /// The worker pod whose log volume to reset (with --all: the release)
    pub worker_pod: Option<String>,
    /// The Airflow release (implicit when the namespace holds only one)
    pub release: Option<String>,
    /// Every worker's log volume (the workers are scaled to 0 and back)
    #[arg(long)]
    pub all: bool,
    /// pod: delete the claim and that worker only; scale: all workers to 0 and back
    #[arg(long, value_enum, default_value_t = StrategyChoice::Auto)]
    pub strategy: StrategyChoice,
    /// Take a VolumeSnapshot of each log volume first
    #[arg(long)]
    pub snapshot: bool,
    /// Scale workers a GitOps tool (Argo CD, Flux) or an operator manages, though it may undo the scale-down
    #[arg(long)]
    pub ignore_gitops: bool,
    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// The worker's log claim templates: those named like logs, else every template.
pub fn log_templates(sts: &StatefulSet) -> Vec<String> {
    let all: Vec<String> = sts
        .spec
        .iter()
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .map(|t| t.name_any())
        .collect();
    let logs: Vec<String> = all.iter().filter(|t| t.contains("log")).cloned().collect();
    if logs.is_empty() { all } else { logs }
}

/// The claims to reset: the log templates for one ordinal, or for every ordinal the
/// StatefulSet runs (from `spec.ordinals.start`); an ordinal it does not run is a usage error.
pub fn claims(sts: &StatefulSet, ordinal: Option<u32>) -> shared::Result<Vec<String>> {
    let ordinals = reset::checked_ordinals(sts, ordinal.as_slice())?;
    let templates = log_templates(sts);
    Ok(ordinals
        .iter()
        .flat_map(|o| {
            templates
                .iter()
                .map(move |t| format!("{t}-{}-{o}", sts.name_any()))
        })
        .collect())
}

pub async fn run(global: &GlobalArgs, args: &ResetLogsArgs) -> shared::Result<()> {
    // The resume/abort commands it prints are pvcreset's: with --context when one was given.
    pvc_reset::hints::remember_scope(global);
    let (pod, release) = match (args.all, &args.worker_pod, &args.release) {
        (true, Some(_), Some(_)) => {
            return Err(Error::Usage("with --all, name only the release".into()));
        }
        (true, first, None) => (None, first.clone()),
        (false, Some(pod), release) => (Some(pod.clone()), release.clone()),
        (false, None, _) => {
            return Err(Error::Usage(
                "name the worker pod whose log volume to reset, or --all".into(),
            ));
        }
        (true, None, Some(_)) => unreachable!("clap fills the first positional first"),
    };
    let target = shared::kubeconfig::connect(global).await?;
    let (_, deployments) = discovery::load(&target, Some(&target.namespace)).await?;
    let d = discovery::select(
        &deployments,
        &target.namespace,
        release.as_deref(),
        &target.given_flags,
    )?;
    let worker = d.components.get("worker").ok_or_else(|| {
        Error::Failed(format!(
            "Airflow {} has no worker component (no Celery workers): no worker log volumes",
            d.release
        ))
    })?;
    if worker.kind != "StatefulSet" {
        return Err(Error::Failed(format!(
            "the workers of {} are a {} without log volumes: nothing to reset",
            d.release, worker.kind
        )));
    }
    let sts = Api::<StatefulSet>::namespaced(target.client.clone(), &d.namespace)
        .get(&worker.workload)
        .await
        .map_err(|e| target.api_error(e))?;
    if log_templates(&sts).is_empty() {
        return Err(Error::Failed(format!(
            "statefulset {} has no volumeClaimTemplates: its logs are not on volumes",
            worker.workload
        )));
    }
    let ordinal = match &pod {
        None => None,
        Some(pod) => {
            let ordinal = pod
                .strip_prefix(&format!("{}-", worker.workload))
                .and_then(|o| o.parse::<u32>().ok());
            match ordinal {
                Some(o) => Some(o),
                None => {
                    let pods: Vec<&str> = worker.pods.iter().map(|p| p.name.as_str()).collect();
                    return Err(Error::Usage(format!(
                        "{pod:?} is not a worker pod of {}: use one of {}, or --all",
                        d.release,
                        pods.join(", ")
                    )));
                }
            }
        }
    };
    let options = Options {
        strategy: args.strategy,
        snapshot: args.snapshot,
        ignore_autoscaler: false,
        force: false,
        ignore_gitops: args.ignore_gitops,
        output: args.output.into(),
        change: args.change.clone(),
        reshape: Default::default(),
        restore: Vec::new(),
    };
    let claims = claims(&sts, ordinal)?;
    reset::reset_claims(&target, &d.namespace, claims, &options).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_claims_per_ordinal_or_all() {
        let sts: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "lunar-nuclear-3725-worker"},
            "spec": {"replicas": 3, "selector": {}, "serviceName": "w", "template": {},
                     "volumeClaimTemplates": [{"metadata": {"name": "logs"}}, {"metadata": {"name": "cache"}}]}
        }))
        .unwrap();
        assert_eq!(
            claims(&sts, Some(2)).unwrap(),
            ["logs-lunar-nuclear-3725-worker-2"]
        );
        assert_eq!(claims(&sts, None).unwrap().len(), 3);
        assert_eq!(claims(&sts, Some(3)).unwrap_err().exit_code(), 2);
        let started: StatefulSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "w"},
            "spec": {"replicas": 2, "ordinals": {"start": 5}, "selector": {}, "serviceName": "w", "template": {},
                     "volumeClaimTemplates": [{"metadata": {"name": "logs"}}]}
        }))
        .unwrap();
        assert_eq!(claims(&started, None).unwrap(), ["logs-w-5", "logs-w-6"]);
    }
}
