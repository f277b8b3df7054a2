//! `kubectl nodeevict abort NODE...`: undo interrupted drains — pre-scaled owners and HPAs back,
//! the node uncordoned (unless it was cordoned before), the journal removed. Evicted pods stay
//! where they now run.

use std::time::Duration;

use clap::Args;
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use serde_json::json;
use shared::output::PlanFormat;
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::execute::{self, Ctx};
use crate::journal::{self, Record};
use crate::status;

#[derive(Args, Debug, Clone)]
pub struct AbortArgs {
    /// The nodes whose drain to undo
    #[arg(value_name = "NODE", required = true)]
    pub nodes: Vec<String>,
    /// Output format of the drains to undo
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub async fn run(global: &GlobalArgs, args: &AbortArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let found = status::find(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    let mut chosen = Vec::new();
    let mut nothing_to_undo = Vec::new();
    for n in &args.nodes {
        match found.iter().find(|r| &r.node == n) {
            Some(r) => {
                r.refuse_if_running()?;
                chosen.push(r.clone());
            }
            None => {
                // An abort is an undo: with nothing recorded there is nothing to undo, which is
                // what was asked (a drain whose first write never landed, an abort whose answer
                // was lost) — as long as the node is there at all.
                let node = Api::<Node>::all(target.client.clone())
                    .get_opt(n)
                    .await
                    .map_err(|e| target.api_error(e))?
                    .ok_or_else(|| {
                        Error::Failed(format!(
                            "node {n:?} not found: list them with `{}`",
                            crate::hint::kubectl("get nodes")
                        ))
                    })?;
                let cordoned = node.spec.and_then(|s| s.unschedulable).unwrap_or(false);
                nothing_to_undo.push((n.clone(), cordoned));
            }
        }
    }
    for (n, cordoned) in &nothing_to_undo {
        eprintln!(
            "no drain is recorded on node {n}: nothing to undo{}",
            if *cordoned {
                format!(
                    " (it is cordoned: `{}` makes it schedulable)",
                    crate::hint::command("uncordon", &[n])
                )
            } else {
                String::new()
            }
        );
    }
    if chosen.is_empty() {
        return Ok(());
    }
    crate::hint::banner(&target);
    status::show(args.output, &chosen)?;
    // The writes the abort makes (journal and uncordon, the owners restored), checked first.
    let journals: Vec<&journal::NodeJournal> = chosen.iter().map(|r| &r.journal).collect();
    let needs = crate::permissions::needed_permissions(&[], &journals);
    let approved = crate::permissions::gate(&target, &args.change, &needs)
        .confirm("Abort: restore the owners and uncordon?")
        .on_interrupt(
            "the abort was under way and its journal is kept: run the same abort again to finish it",
        )
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let ctx = Ctx::new(&target, args.change.timeout, Duration::from_secs(300), 1);
    for r in &chosen {
        // Take the journal over first (conditional on it being the one read): a run still
        // going on with this drain stops at its next step instead of undoing the undo.
        journal::write(&target, &r.node, Record::Set(&r.journal), None).await?;
        execute::restore(&ctx, &r.journal).await?;
        let uncordon = (!r.journal.was_unschedulable).then(|| json!({"unschedulable": false}));
        journal::write(&target, &r.node, Record::Remove, uncordon).await?;
        execute::include_in_load_balancers(&target, &r.node).await?;
        execute::event(
            &target,
            &r.node,
            execute::Reason::Restored,
            if r.journal.was_unschedulable {
                "Drain aborted by kubectl-nodeevict: owners restored (left cordoned, as before)"
            } else {
                "Drain aborted by kubectl-nodeevict: owners restored, node uncordoned"
            },
        )
        .await;
        println!(
            "aborted the drain of {}: owners restored{}",
            r.node,
            if r.journal.was_unschedulable {
                " (it was cordoned before: left cordoned)"
            } else {
                ", node uncordoned"
            }
        );
    }
    Ok(())
}
