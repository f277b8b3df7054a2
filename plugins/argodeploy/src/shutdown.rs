//! `kubectl argodeploy stop WF` / `terminate WF`: merge-patch `spec.shutdown` as argo does
//! (Stop runs exit handlers, Terminate does not); refused for completed workflows.

use clap::Args;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct ShutdownArgs {
    /// The workflow
    pub workflow: String,
    #[command(flatten)]
    pub change: ChangeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Stop,
    Terminate,
}

pub async fn run(global: &GlobalArgs, args: &ShutdownArgs, how: Shutdown) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, &args.workflow).await?;
    if workflow::is_completed(&wf) {
        return Err(Error::Failed(format!(
            "workflow {} already completed ({}): nothing to {}",
            args.workflow,
            workflow::phase(&wf),
            if how == Shutdown::Stop {
                "stop"
            } else {
                "terminate"
            }
        )));
    }
    let (value, what) = match how {
        Shutdown::Stop => (
            "Stop",
            "stop it: no further steps, running pods are stopped, exit handlers run",
        ),
        Shutdown::Terminate => (
            "Terminate",
            "terminate it at once: pods are killed, exit handlers do not run",
        ),
    };
    shared::banner::print(&target);
    eprintln!(
        "Workflow {} is {}: {what}",
        args.workflow,
        workflow::phase(&wf)
    );
    shared::doctor::preflight(
        &target,
        &wf.namespace().unwrap_or_default(),
        &[shared::doctor::Permission::new(
            "patch",
            "argoproj.io",
            "workflows",
            shared::doctor::Scope::Namespace,
            "set spec.shutdown",
        )],
        "kubectl argodeploy doctor",
        args.change.dry_run,
    )
    .await?;
    if args.change.dry_run {
        eprintln!("dry run: nothing was changed");
        return Ok(());
    }
    shared::confirm::confirm(&format!("{value} {}?", args.workflow), args.change.yes)?;
    shared::interrupt::changing(format!(
        "the {} request may have been sent: `kubectl argodeploy get {}{}` shows it; running the same command again is safe",
        value.to_lowercase(),
        shared::shell::word(&args.workflow),
        target.scope_flags()
    ));
    api.patch(
        &args.workflow,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"shutdown": value}})),
    )
    .await
    .map_err(|e| target.api_error(e))?;
    eprintln!(
        "workflow {} {}",
        args.workflow,
        if how == Shutdown::Stop {
            "stopped"
        } else {
            "terminated"
        }
    );
    Ok(())
}
