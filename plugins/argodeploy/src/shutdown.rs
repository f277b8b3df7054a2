//! `kubectl argodeploy stop WF` / `terminate WF`: merge-patch `spec.shutdown` as argo does
//! (Stop runs exit handlers, Terminate does not); refused for completed workflows.

use clap::Args;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use shared::change::Gate;
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
    let namespace = wf.namespace().unwrap_or_default();
    let needs = [workflow::permission("patch", "set spec.shutdown")];
    let question = format!("{value} {}?", args.workflow);
    let approved = Gate::new(&target, &args.change, "kubectl argodeploy doctor")
        .preflight(&namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the {} request may have been sent: `kubectl argodeploy get {}{}` shows it; running the same command again is safe",
            value.to_lowercase(),
            shared::shell::word(&args.workflow),
            target.scope_flags()
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
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
