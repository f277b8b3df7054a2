//! `kubectl pvcreset abort OWNER`: undo an interrupted reset while its claims still exist —
//! owners back to their recorded replicas, autoscalers restored, journal removed.

use clap::Args;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::ResourceExt;
use kube::api::Api;
use shared::{ChangeArgs, Error, GlobalArgs};

use shared::output::PlanFormat;

use crate::execute::{self, Ctx};
use crate::status;

#[derive(Args, Debug, Clone)]
pub struct AbortArgs {
    /// The owner holding the journal: NAME, statefulset/NAME or deployment/NAME
    pub owner: String,
    /// Output format of the reset to undo
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub async fn run(global: &GlobalArgs, args: &AbortArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    let (found, unreadable) = status::find_all(&target.client, Some(&namespace))
        .await
        .map_err(|e| target.api_error(e))?;
    if let Some(bad) = crate::resume::unreadable_named(&unreadable, &args.owner) {
        return Err(bad.to_error());
    }
    let recorded = crate::resume::pick(&found, &args.owner, &namespace)?;
    recorded.refuse_if_running()?;
    let journal = &recorded.journal;
    // Once a claim is being deleted its data is gone: nothing to go back to.
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(target.client.clone(), &namespace);
    let mut lost = false;
    for c in &journal.claims {
        let now = claims
            .get_opt(&c.name)
            .await
            .map_err(|e| target.api_error(e))?;
        lost |= !now.as_ref().is_some_and(|p| {
            p.uid().as_deref() == Some(c.uid.as_str()) && p.metadata.deletion_timestamp.is_none()
        });
    }
    // With the snapshots of a `--snapshot` reset, the data is not gone: the abort restores it.
    if lost
        && crate::restore::abort_by_restoring(
            &target,
            &namespace,
            recorded,
            args.output,
            &args.change,
        )
        .await?
        .is_some()
    {
        return Ok(());
    }
    for c in &journal.claims {
        let now = claims
            .get_opt(&c.name)
            .await
            .map_err(|e| target.api_error(e))?;
        let intact = now.as_ref().is_some_and(|p| {
            p.uid().as_deref() == Some(c.uid.as_str()) && p.metadata.deletion_timestamp.is_none()
        });
        if !intact {
            return Err(Error::Failed(format!(
                "claim {} is already deleted or being deleted: the reset cannot be undone; finish it with `{}`",
                c.name,
                crate::hints::command("resume", &recorded.owner, &namespace)
            )));
        }
    }
    // The plan of the abort: one line in the table, or the recorded reset as -o json|yaml.
    let line = format!(
        "Abort the reset of {} on {}: scale {} back, restore autoscalers, keep the claims\n",
        journal.claim_names(),
        recorded.owner,
        journal
            .owners
            .iter()
            .map(|o| format!(
                "{} to {}",
                o.reference(),
                shared::plural::count(o.replicas.max(0) as usize, "replica")
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    shared::change::show_plan(
        &target,
        args.output.into(),
        &serde_json::json!({ "items": [recorded] }),
        |_| line,
    )?;
    let doctor = crate::hints::doctor_command(&namespace);
    let approved = shared::change::Gate::new(&target, &args.change, &doctor)
        .confirm("Abort the reset?")
        .on_interrupt(format!(
            "the abort was under way; until it ends the reset stays recorded on {}: run `{}` again to finish it",
            recorded.owner,
            crate::hints::command("abort", &recorded.owner, &namespace)
        ))
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let ctx = Ctx::new(&target, &namespace, args.change.timeout);
    // The abort owns the journal from here: a run still driving the reset stops at its
    // next step instead of deleting what the operator chose to keep.
    execute::take_over(&ctx, journal, recorded.run.clone()).await?;
    for owner in &journal.owners {
        execute::scale(&ctx, owner, owner.replicas).await?;
        println!(
            "scaled {} back to {}",
            owner.reference(),
            shared::plural::count(owner.replicas.max(0) as usize, "replica")
        );
    }
    execute::restore_claim_retention(&ctx, &journal.owners).await?;
    execute::restore_autoscalers(&ctx, &journal.autoscalers).await?;
    // The journal goes before the wait: were the wait to time out, a later `resume` must not
    // pick the reset up again and delete the claims the operator chose to keep.
    execute::remove_journal(&ctx, journal.holder()?).await?;
    shared::interrupt::changing(
        "the abort was done (owners scaled back, claims kept, journal removed); only the wait for their pods to be Ready was cut short",
    );
    execute::wait_owners_ready(&ctx, &journal.owners).await?;
    println!(
        "aborted: the claims are untouched, the owners are Ready again and the journal is removed"
    );
    Ok(())
}
