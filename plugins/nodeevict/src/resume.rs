//! `kubectl nodeevict resume [NODE...]`: finish interrupted drains with the options they were
//! started with.

use std::time::Duration;

use clap::Args;
use shared::output::PlanFormat;
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::execute::{self, Ctx};
use crate::journal::NodeJournal;
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
    /// Output format of the drains to finish
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
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
                "no drain is recorded on node {n}: see `{}`",
                crate::hint::command("status", &[])
            )));
        }
    }
    let mut chosen: Vec<&status::Recorded> = found
        .iter()
        .filter(|r| args.nodes.is_empty() || args.nodes.contains(&r.node))
        .collect();
    // Drains under way first; nodes queued with their pool (cordoned, nothing moved yet) after.
    chosen.sort_by_key(|r| r.journal.queued());
    if chosen.is_empty() {
        eprintln!("No drain in progress: nothing to resume.");
        return Ok(());
    }
    for r in &chosen {
        r.refuse_if_running()?;
    }
    crate::hint::banner(&target);
    status::show(
        args.output,
        &chosen.iter().map(|r| (*r).clone()).collect::<Vec<_>>(),
    )?;
    for r in &chosen {
        let now = jiff::Timestamp::now();
        if let Some(warning) =
            crate::deadline::beyond_timeout(&r.node, &r.journal, args.change.timeout, now)
        {
            eprintln!("{warning}");
        }
    }
    // The writes the resumed drains make (what is left to evict, what to restore), checked
    // before the first one, as a fresh drain does.
    let mut world = world::read(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    for r in &chosen {
        world
            .select(&target.client, r.journal.options.pod_selector.as_deref())
            .await
            .map_err(|e| target.api_error(e))?;
    }
    let plans = chosen
        .iter()
        .map(|r| replan(&world, &r.node, &r.journal))
        .collect::<shared::Result<Vec<_>>>()?;
    let journals: Vec<&NodeJournal> = chosen.iter().map(|r| &r.journal).collect();
    let needs = crate::permissions::needed_permissions(&plans, &journals);
    let question = format!(
        "Resume the drain of {}?",
        chosen
            .iter()
            .map(|r| r.node.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let limits = (args.pod_timeout, args.concurrency);
    let Some(ctx) = Ctx::approved(&target, &args.change, &needs, &question, limits).await? else {
        return Ok(());
    };
    for (i, recorded) in chosen.iter().enumerate() {
        // The first node's plan is the preflight's; after it, pods have moved: plan afresh.
        let (plan, now) = if i == 0 {
            (plans[0].clone(), None)
        } else {
            let mut world = world::read(&target.client)
                .await
                .map_err(|e| target.api_error(e))?;
            world
                .select(
                    &target.client,
                    recorded.journal.options.pod_selector.as_deref(),
                )
                .await
                .map_err(|e| target.api_error(e))?;
            (
                replan(&world, &recorded.node, &recorded.journal)?,
                Some(world),
            )
        };
        let node = &recorded.node;
        let touched = if recorded.journal.queued() {
            let world = now.as_ref().unwrap_or(&world);
            let journal = &recorded.journal;
            crate::drain::run_fresh(&ctx, world, node, &plan, &journal.options, Some(journal))
                .await?
                .0
        } else {
            continue_node(&ctx, node, recorded.journal.clone(), &plan).await?;
            recorded.journal.touched.clone()
        };
        // As a pool drain does: the next node only once what this one moved is Ready again.
        if i + 1 < chosen.len() {
            execute::settle(&ctx, &touched).await?;
        }
    }
    Ok(())
}

/// What is still on the node, judged with the options the drain started with; budgets are
/// enforced by the Eviction API itself, so a pod blocked by one is evicted with back-off.
/// Anything else that blocks stops before a change.
pub fn replan(
    world: &world::World,
    node: &str,
    journal: &NodeJournal,
) -> shared::Result<plan::NodePlan> {
    if journal.queued() {
        // Cordoned ahead with its pool and nothing done yet: planned as a fresh drain.
        let fresh = plan::plan(world, node, &[node.to_string()], &journal.options);
        return match fresh.blockers.first() {
            Some(b) => Err(Error::Failed(format!("{node}: {b}"))),
            None => Ok(fresh),
        };
    }
    let mut options = journal.options.clone();
    options.prescale = false;
    let mut plan = plan::plan(world, node, &[node.to_string()], &options);
    let mut unblocked = Vec::new();
    for p in plan
        .pods
        .iter_mut()
        .filter(|p| p.verdict == plan::Verdict::Blocked)
    {
        if p.blocked_by == Some(plan::BlockReason::Budget) {
            p.verdict = plan::Verdict::Evict;
            p.blocked_by = None;
            unblocked.push(format!("{}/{}: ", p.namespace, p.name));
        } else {
            return Err(Error::Failed(format!(
                "{}/{} blocks the drain: {}",
                p.namespace, p.name, p.reason
            )));
        }
    }
    // Now evicted, they take their place in the waves.
    plan::assign_waves(&mut plan.pods, options.unordered);
    // Their lines in the plan's blockers go too: a rerun of the drain checks those (found by a
    // rerun after a kill right after the cordon, when the pre-scale had not been made yet).
    plan.blockers
        .retain(|b| !unblocked.iter().any(|pod| b.starts_with(pod.as_str())));
    // The recorded deadline, never one from this run's start.
    crate::deadline::apply(
        &mut plan,
        crate::deadline::of_journal(journal),
        &journal.options,
    );
    Ok(plan)
}

/// Goes on with a recorded drain from its step: first takes the journal over (conditional on
/// it being the one read, so two resumes never both go on), then runs it to the end.
pub async fn continue_node(
    ctx: &Ctx<'_>,
    node: &str,
    mut journal: NodeJournal,
    plan: &plan::NodePlan,
) -> shared::Result<()> {
    eprintln!(
        "resuming the drain of {node} after step {}",
        execute::step_name(journal.step)
    );
    execute::save(ctx, node, &journal, true).await?;
    // Interrupted between the cordon and the label, the label is put on now.
    execute::exclude_from_load_balancers(ctx, node, &journal)
        .await
        .map_err(|e| crate::hint::with_hint(e, node))?;
    execute::run_node(ctx, node, &mut journal, plan)
        .await
        .map_err(|e| crate::hint::with_hint(e, node))
}
