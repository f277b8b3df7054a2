//! `kubectl argodeploy stop WF` / `terminate WF`: merge-patch `spec.shutdown` as argo does
//! (Stop runs exit handlers, Terminate does not); refused for completed workflows.

use clap::Args;
use kube::ResourceExt;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde::Serialize;
use serde_json::json;
use shared::change::Gate;
use shared::output::{OutputFormat, PlanFormat};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct ShutdownArgs {
    /// The workflow
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Output format of the plan (json and yaml on stdout, for scripts)
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    Stop,
    Terminate,
}

impl Shutdown {
    /// The value argo puts in `spec.shutdown`.
    fn value(self) -> &'static str {
        match self {
            Shutdown::Stop => "Stop",
            Shutdown::Terminate => "Terminate",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Shutdown::Stop => "stop",
            Shutdown::Terminate => "terminate",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Shutdown::Stop => "stopped",
            Shutdown::Terminate => "terminated",
        }
    }
}

/// What the command will do (pure data): shown as a line, or as JSON/YAML with `-o`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub namespace: String,
    pub workflow: String,
    pub phase: String,
    /// The `spec.shutdown` value to set: Stop or Terminate.
    pub shutdown: String,
    pub effect: String,
}

/// The plan for `how` on `wf`, or the refusal of a completed workflow (pure).
pub fn plan(wf: &DynamicObject, how: Shutdown) -> shared::Result<Plan> {
    let name = wf.name_any();
    let phase = workflow::phase(wf);
    if workflow::is_completed(wf) {
        return Err(Error::Failed(format!(
            "workflow {name} already completed ({phase}): nothing to {}",
            how.verb()
        )));
    }
    let effect = match how {
        Shutdown::Stop => "no further steps, running pods are stopped, exit handlers run",
        Shutdown::Terminate => "pods are killed at once, exit handlers do not run",
    };
    Ok(Plan {
        namespace: wf.namespace().unwrap_or_default(),
        workflow: name,
        phase,
        shutdown: how.value().to_string(),
        effect: effect.to_string(),
    })
}

pub fn render(plan: &Plan) -> String {
    format!(
        "{} workflow {} ({}): {}\n",
        plan.shutdown, plan.workflow, plan.phase, plan.effect
    )
}

pub async fn run(
    global: &GlobalArgs,
    keys: &crate::labels::LabelKeys,
    args: &ShutdownArgs,
    how: Shutdown,
) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, keys, &args.workflow).await?;
    let plan = plan(&wf, how)?;
    let format = OutputFormat::from(args.output);
    shared::change::show_plan(&target, format, &plan, render)?;
    let needs = [workflow::permission("patch", "set spec.shutdown")];
    let question = format!("{} {}?", plan.shutdown, plan.workflow);
    let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
    let approved = Gate::new(&target, &args.change, &doctor)
        .preflight(&plan.namespace, &needs)
        .confirm(&question)
        .on_interrupt(format!(
            "the {} request may have been sent: `kubectl argodeploy get {}{}{}` shows it; running the same command again is safe",
            how.verb(),
            shared::shell::word(&plan.workflow),
            keys.given_flags(),
            target.scope_flags()
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    api.patch(
        &plan.workflow,
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"shutdown": plan.shutdown}})),
    )
    .await
    .map_err(|e| target.api_error(e))?;
    // The result on stdout (`| tee` keeps it), unless stdout already holds the JSON/YAML plan.
    let done = format!("workflow {} {}\n", plan.workflow, how.done());
    if format.is_machine() {
        eprint!("{done}");
    } else {
        shared::output::print_stdout(&done);
    }
    // The controller acts on spec.shutdown on its next pass: the tree shows it doing so.
    eprintln!(
        "next: `kubectl argodeploy get {}{}{}` shows its steps ending",
        shared::shell::word(&plan.workflow),
        keys.given_flags(),
        target.scope_flags()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(phase: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "deploy-x", "namespace": "atmosphere"},
            "status": {"phase": phase},
        }))
        .unwrap()
    }

    #[test]
    fn a_running_workflow_is_planned_and_a_completed_one_refused() {
        let plan = plan(&wf("Running"), Shutdown::Terminate).unwrap();
        assert_eq!(plan.shutdown, "Terminate");
        assert_eq!(plan.namespace, "atmosphere");
        assert_eq!(
            render(&plan),
            "Terminate workflow deploy-x (Running): pods are killed at once, exit handlers do not run\n"
        );
        let done = super::plan(&wf("Succeeded"), Shutdown::Stop).unwrap_err();
        assert_eq!(done.exit_code(), 1);
        assert_eq!(
            done.to_string(),
            "workflow deploy-x already completed (Succeeded): nothing to stop"
        );
    }
}
