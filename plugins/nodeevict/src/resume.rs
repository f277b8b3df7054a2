//! `kubectl nodeevict resume [NODE...]`: finish interrupted drains with the options they were
//! started with.

use std::time::{Duration, Instant};

use clap::Args;
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::execute::{self, Ctx};
use crate::status;
use crate::{plan, world};

#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The nodes to finish (default: every node with a drain journal)
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,
    /// How long one pod may take to go after its eviction
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = shared::duration::parse)]
    pub pod_timeout: Duration,
    /// Evictions in flight at once
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub async fn run(global: &GlobalArgs, args: &ResumeArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let found = status::find(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    for n in &args.nodes {
        if !found.iter().any(|r| &r.node == n) {
            return Err(Error::Failed(format!(
                "no drain is recorded on node {n}: see `kubectl nodeevict status`"
            )));
        }
    }
    let chosen: Vec<&status::Recorded> = found
        .iter()
        .filter(|r| args.nodes.is_empty() || args.nodes.contains(&r.node))
        .collect();
    if chosen.is_empty() {
        eprintln!("No drain in progress: nothing to resume.");
        return Ok(());
    }
    shared::banner::print(&target);
    eprint!(
        "{}",
        status::render(&chosen.iter().map(|r| (*r).clone()).collect::<Vec<_>>())
    );
    if args.change.dry_run {
        eprintln!("dry run: nothing was changed");
        return Ok(());
    }
    shared::confirm::confirm(
        &format!(
            "Resume the drain of {}?",
            chosen
                .iter()
                .map(|r| r.node.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        args.change.yes,
    )?;
    let ctx = Ctx {
        target: &target,
        deadline: Instant::now() + args.change.timeout,
        pod_timeout: args.pod_timeout,
        concurrency: args.concurrency,
    };
    for recorded in chosen {
        let node = &recorded.node;
        let mut journal = recorded.journal.clone();
        eprintln!("resuming {node} at: {}", journal.step.describe());
        execute::save(&ctx, node, &journal, true).await?;
        // What is still on the node, judged with the options the drain started with; budgets
        // are enforced by the Eviction API itself, so a pod blocked by one is evicted with back-off.
        let world = world::read(&target.client)
            .await
            .map_err(|e| target.api_error(e))?;
        let mut options = journal.options.clone();
        options.prescale = false;
        let mut plan = plan::plan(&world, node, std::slice::from_ref(node), &options);
        for p in plan
            .pods
            .iter_mut()
            .filter(|p| p.verdict == plan::Verdict::Blocked)
        {
            if p.reason.contains("PDB") {
                p.verdict = plan::Verdict::Evict;
            } else {
                return Err(Error::Failed(format!(
                    "{}/{} blocks the drain: {}",
                    p.namespace, p.name, p.reason
                )));
            }
        }
        execute::run_node(&ctx, node, &mut journal, &plan)
            .await
            .map_err(|e| crate::drain::with_hint(e, node))?;
    }
    Ok(())
}
