//! `kubectl nodeevict NODE... | -l SELECTOR`: plan every node, stop on any blocker before the
//! first change, confirm, then drain one node at a time — the next is cordoned only once every
//! workload the previous one moved is back to its desired Ready count.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::{Args, ValueEnum};
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use shared::output::{self, PlanFormat};
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::execute::{self, Ctx};
use crate::hint::{resume_hint, set_not_started, with_hint};
use crate::journal::{NODE_ANNOTATION, NodeJournal, Options, Workload};
use crate::permissions::{needed_permissions, permissions_json};
use crate::plan;
use crate::pool;
use crate::resume;
use crate::world;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrescaleMode {
    /// Add replicas to Deployments that would go down or break their budget
    Auto,
    /// Never pre-scale
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Order {
    /// In waves by pod priority, lowest first, system-critical pods last
    Priority,
    /// Every pod at once
    None,
}

#[derive(Args, Debug, Clone)]
pub struct DrainArgs {
    /// The nodes to empty, one after the other
    #[arg(value_name = "NODE")]
    pub nodes: Vec<String>,
    /// Select the nodes by label instead (e.g. agentpool=common)
    #[arg(short = 'l', long, conflicts_with = "nodes", value_parser = shared::validate::selector)]
    pub selector: Option<String>,
    /// Pre-scale Deployments whose only Ready replicas are on the node or whose budget would refuse
    #[arg(long, value_enum, default_value_t = PrescaleMode::Auto)]
    pub prescale: PrescaleMode,
    /// Evict pods with emptyDir volumes (their data is lost)
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Force past blockers: delete unmanaged pods for good, evict StatefulSet pods past their budget
    #[arg(long)]
    pub force: bool,
    /// Delete pods instead of evicting them (PodDisruptionBudgets are bypassed)
    #[arg(long)]
    pub disable_eviction: bool,
    /// Grace period for each pod, in seconds; -1 (default): the pod's own, as kubectl drain
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub grace_period: Option<i64>,
    /// How long one pod may take to go after its eviction
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = shared::duration::parse)]
    pub pod_timeout: Duration,
    /// Deadline, counted from the drain's start: pods a budget still refuses are deleted then,
    /// each its grace period earlier (Karpenter's terminationGracePeriod); a pod blocked only by
    /// its budget is evicted instead of blocking (also over --force). Resume keeps the deadline
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true, value_parser = crate::deadline::parse)]
    pub force_after: Option<Duration>,
    /// Count a pod as gone once its deletion is this many seconds old (as kubectl drain's
    /// flag; 0 waits for every pod to finish). Default: 60 on a NotReady node, whose pods never
    /// finish terminating without a kubelet; 0 on a Ready one
    #[arg(long, value_name = "SECONDS")]
    pub skip_wait_for_delete_timeout: Option<u64>,
    /// Pre-scale Deployments a GitOps tool (Argo CD, Flux) or an operator manages, though it may undo the pre-scale
    #[arg(long)]
    pub ignore_gitops: bool,
    /// Evictions in flight at once
    #[arg(long, default_value_t = 10)]
    pub concurrency: usize,
    /// Drain only the pods this label selector selects (as kubectl drain); the node then
    /// stays cordoned with its other pods, and is not safe to terminate
    #[arg(long, value_name = "SELECTOR", value_parser = shared::validate::selector)]
    pub pod_selector: Option<String>,
    /// The order of the evictions: in waves by priority, each once the previous one's pods are
    /// gone (as cluster-autoscaler's drain), or all at once
    #[arg(long, value_enum, default_value_t = Order::Priority)]
    pub order: Order,
    /// In a drain of several nodes: up to N nodes drained at the same time (the plan groups
    /// them in waves that budgets and replicas allow)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_unavailable: usize,
    /// Output format of the plan
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

impl DrainArgs {
    pub fn options(&self) -> Options {
        Options {
            force: self.force,
            delete_emptydir_data: self.delete_emptydir_data,
            disable_eviction: self.disable_eviction,
            // -1 is kubectl drain's "the pod's own": no grace period is sent.
            grace_period: self.grace_period.filter(|g| *g >= 0),
            prescale: self.prescale == PrescaleMode::Auto,
            skip_wait_for_delete_timeout: self.skip_wait_for_delete_timeout,
            ignore_gitops: self.ignore_gitops,
            pod_selector: self.pod_selector.clone(),
            unordered: self.order == Order::None,
            force_after_seconds: self.force_after.map(|d| d.as_secs()),
        }
    }
}

/// The nodes `selector` selects, sorted; none is an error (nothing to do is not what was meant).
pub async fn nodes_by_selector(
    target: &shared::Target,
    selector: &str,
) -> shared::Result<Vec<String>> {
    let api: Api<Node> = Api::all(target.client.clone());
    let mut names: Vec<String> = api
        .list_metadata(&ListParams::default().labels(selector))
        .await
        .map_err(|e| target.api_error(e))?
        .items
        .iter()
        .map(|n| n.name_any())
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(Error::Failed(format!("no node matches -l {selector}")));
    }
    Ok(names)
}

/// The nodes named, or selected by label (sorted), or a one-line error.
async fn resolve_nodes(target: &shared::Target, args: &DrainArgs) -> shared::Result<Vec<String>> {
    let api: Api<Node> = Api::all(target.client.clone());
    match &args.selector {
        Some(selector) => nodes_by_selector(target, selector).await,
        None => {
            for (i, name) in args.nodes.iter().enumerate() {
                if api
                    .get_opt(name)
                    .await
                    .map_err(|e| target.api_error(e))?
                    .is_none()
                {
                    return Err(not_a_node(target, &api, &args.nodes, i).await);
                }
            }
            Ok(args.nodes.clone())
        }
    }
}

/// Why `nodes[i]` (not found) stops the run before any change: the first word close to a
/// subcommand was meant as one (`kubectl nodeevict stauts`, `uncordn NODE` — a usage error
/// naming the command meant); any other name gets the nodes closest to it.
async fn not_a_node(target: &shared::Target, api: &Api<Node>, nodes: &[String], i: usize) -> Error {
    let name = &nodes[i];
    if i == 0
        && let Some(meant) = shared::suggest::subcommand::<crate::Cli>(name)
    {
        let command = meant.command("kubectl nodeevict", &nodes[1..]) + crate::hint::flags();
        return Error::Usage(format!(
            "{name:?} is neither a node nor a subcommand: did you mean `{command}`?"
        ));
    }
    let existing: Vec<String> = match api.list_metadata(&ListParams::default()).await {
        Ok(list) => list.items.iter().map(|n| n.name_any()).collect(),
        Err(e) => return target.api_error(e),
    };
    let close = shared::suggest::close_names(name, &existing);
    let hint = if close.is_empty() {
        format!("list them with `{}`", crate::hint::kubectl("get nodes"))
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    Error::Failed(format!(
        "node {name:?} not found: {hint} (nothing was changed)"
    ))
}

fn check_usage(args: &DrainArgs) -> shared::Result<()> {
    if args.nodes.is_empty() && args.selector.is_none() {
        return Err(Error::Usage(
            "name the nodes to drain, or select them with -l".into(),
        ));
    }
    if args.max_unavailable == 0 {
        return Err(Error::Usage(
            "--max-unavailable 0 would drain nothing: give 1 or more nodes at a time".into(),
        ));
    }
    if let Some(g) = args.grace_period.filter(|g| *g < -1) {
        return Err(Error::Usage(format!(
            "--grace-period {g}: give seconds (0 or more), or -1 for each pod's own"
        )));
    }
    crate::deadline::check_usage(args.force_after, args.change.timeout, args.disable_eviction)?;
    Ok(())
}

pub async fn run(global: &GlobalArgs, args: &DrainArgs) -> shared::Result<()> {
    check_usage(args)?;
    let target = shared::kubeconfig::connect(global).await?;
    let nodes = resolve_nodes(&target, args).await?;
    let options = args.options();
    let mut world = world::read(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    world
        .select(&target.client, options.pod_selector.as_deref())
        .await
        .map_err(|e| target.api_error(e))?;
    let recorded = recorded_drains(&world, &nodes, &options)?;
    let mut pool = pool::plan_pool(
        &world,
        &nodes,
        &recorded,
        &options,
        args.max_unavailable,
        &|n, journal| resume::replan(&world, n, journal),
    )?;
    // A fresh drain's deadline counts from now in the plan shown (from the journal's start
    // once it runs: execute::run_node).
    let now = jiff::Timestamp::now();
    for p in pool
        .plans
        .iter_mut()
        .filter(|p| recorded.get(&p.node).is_none_or(NodeJournal::queued))
    {
        *p = crate::deadline::from_now(std::mem::take(p), &options, now);
    }
    crate::hint::banner(&target);
    let continuing: Vec<&NodeJournal> = recorded.values().collect();
    let needs = needed_permissions(&pool.plans, &continuing);
    show_plans(args.output, &pool, &needs, &recorded)?;
    let question = format!("Drain {}?", nodes.join(", "));
    let limits = (args.pod_timeout, args.concurrency);
    let Some(ctx) = Ctx::approved(&target, &args.change, &needs, &question, limits).await? else {
        return Ok(());
    };
    let command = original_command(args, &options);
    let order: Vec<String> = pool.waves.concat();
    let mut drained: Vec<Drained> = Vec::new();
    // The nodes whose drain the error stopped, for the summary.
    let mut stopped: Vec<String> = Vec::new();
    let mut queued: BTreeMap<String, NodeJournal> = BTreeMap::new();
    let result: shared::Result<()> = async {
        if pool.cordon_ahead {
            set_not_started(&order, &command);
            queued = queue(&ctx, &world, &pool, &recorded, &options).await?;
        }
        let mut done = 0;
        for (w, wave) in pool.waves.iter().enumerate() {
            set_not_started(&order[done + wave.len()..], &command);
            let turns = wave.iter().map(|node| {
                // The first wave goes as planned a moment ago; after it, pods have moved.
                let upfront = (w == 0).then(|| {
                    let plan = pool.plans.iter().find(|p| &p.node == node).cloned();
                    let journal = recorded.get(node).or(queued.get(node)).cloned();
                    (plan, journal)
                });
                drain_node(&ctx, &world, node, &pool, &nodes, upfront, &options)
            });
            let outcomes = futures::future::join_all(turns).await;
            let mut touched: Vec<Workload> = Vec::new();
            let mut first_error = None;
            for (node, outcome) in wave.iter().zip(outcomes) {
                match outcome {
                    Ok((moved, outcome, next)) => {
                        touched.extend(moved);
                        drained.push(Drained {
                            node: node.clone(),
                            outcome,
                            next,
                        });
                    }
                    Err(e) => {
                        stopped.push(node.clone());
                        first_error.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            done += wave.len();
            if done < order.len() {
                touched.sort();
                touched.dedup();
                execute::settle(&ctx, &touched)
                    .await
                    .map_err(|e| e.with_hint(&rest_hint(&order[done..], &queued, &command)))?;
                println!(
                    "workloads moved off {} are Ready again: {}",
                    wave.join(", "),
                    touched
                        .iter()
                        .map(|w| format!("{}/{}", w.namespace, w.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Ok(())
    }
    .await;
    // A run of several nodes ends with where each stands, also when it stops midway.
    if nodes.len() > 1 {
        print!("{}", render_summary(&order, &drained, &stopped, &queued));
    }
    result
}

/// What to do about the nodes of a run not drained yet, when it stops between two waves: the
/// queued ones are cordoned and recorded (`resume` drains them, `abort` uncordons them); the
/// others are untouched (the same command drains them).
fn rest_hint(rest: &[String], queued: &BTreeMap<String, NodeJournal>, command: &str) -> String {
    let (cordoned, untouched): (Vec<&String>, Vec<&String>) =
        rest.iter().partition(|n| queued.contains_key(*n));
    let mut hint = String::new();
    if !cordoned.is_empty() {
        let names: Vec<&str> = cordoned.iter().map(|n| n.as_str()).collect();
        hint.push_str(&format!(
            "; cordoned and queued, not drained yet: {} — `{}` drains them, `{}` uncordons them",
            names.join(", "),
            crate::hint::command("resume", &[]),
            crate::hint::command("abort", &names)
        ));
    }
    if !untouched.is_empty() {
        let names: Vec<&str> = untouched.iter().map(|n| n.as_str()).collect();
        hint.push_str(&format!(
            "; not started yet: {} — `{command}` drains them",
            names.join(", ")
        ));
    }
    hint
}

/// Cordons the pool's nodes not drained yet, each with a journal at step `queued` (the first
/// write, conditional on the node as planned, so of two runs only one queues it); queued
/// nodes left by a run that stopped are taken over. Returns the journals written.
async fn queue(
    ctx: &Ctx<'_>,
    world: &world::World,
    pool: &pool::PoolPlan,
    recorded: &BTreeMap<String, NodeJournal>,
    options: &Options,
) -> shared::Result<BTreeMap<String, NodeJournal>> {
    let now = now();
    let mut queued = BTreeMap::new();
    for node in pool.waves.concat() {
        // Cordoned already with nothing to move (drained before): left as it is, as a single
        // node's drain leaves it (soak seed 100027: a second run must change nothing there).
        let idle = pool
            .plans
            .iter()
            .find(|p| p.node == node)
            .is_some_and(pool::moves_nothing);
        match recorded.get(&node) {
            Some(journal) if journal.queued() => {
                execute::save(ctx, &node, journal, true).await?;
                queued.insert(node.clone(), journal.clone());
            }
            Some(_) => {}
            None if idle && unschedulable(world, &node) => {}
            None => {
                let journal = NodeJournal::queued_at(&now, options, unschedulable(world, &node));
                execute::start(ctx, &node, &journal).await?;
                println!("cordoned node {node} (queued: its pods are evicted in its wave)");
                queued.insert(node.clone(), journal);
            }
        }
    }
    Ok(queued)
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn unschedulable(world: &world::World, node: &str) -> bool {
    world
        .nodes
        .iter()
        .find(|n| n.name_any() == node)
        .and_then(|n| n.spec.as_ref()?.unschedulable)
        .unwrap_or(false)
}

/// One node's drain in its wave: planned at its turn (or, in the first wave, as shown), then
/// started, taken on from its queued record, or continued from the drain recorded on it.
/// Returns the workloads it moved, the outcome and the command that terminates its machine.
async fn drain_node(
    ctx: &Ctx<'_>,
    world: &world::World,
    node: &str,
    pool: &pool::PoolPlan,
    nodes: &[String],
    upfront: Option<(Option<plan::NodePlan>, Option<NodeJournal>)>,
    options: &Options,
) -> shared::Result<(Vec<Workload>, &'static str, String)> {
    let avoid = if pool.cordon_ahead {
        nodes.to_vec()
    } else {
        pool.wave_of(node)
    };
    let (plan, journal, now_world) = match upfront {
        Some((Some(plan), journal)) => (plan, journal, None),
        _ => {
            let (plan, journal, fresh) =
                plan_in_turn(ctx.target, node, &pool.wave_of(node), &avoid, options).await?;
            if let Some(shown) = pool.plans.iter().find(|p| p.node == node) {
                let changes = plan::difference(shown, &plan);
                if !changes.is_empty() {
                    eprintln!(
                        "the plan of {node} at its turn differs from the one shown:\n  {}",
                        changes.join("\n  ")
                    );
                }
            }
            (plan, journal, Some(fresh))
        }
    };
    let world = now_world.as_ref().unwrap_or(world);
    // Not emptied with --pod-selector: nothing to terminate.
    let next = match &options.pod_selector {
        Some(_) => String::new(),
        None => plan::next_step(plan.provider_id.as_deref()),
    };
    match journal {
        // A drain already recorded goes on exactly as `resume` would take it.
        Some(journal) if !journal.queued() => {
            let touched = journal.touched.clone();
            resume::continue_node(ctx, node, journal, &plan).await?;
            Ok((touched, "drained (a recorded drain, finished)", next))
        }
        queued => {
            let (touched, outcome) =
                run_fresh(ctx, world, node, &plan, options, queued.as_ref()).await?;
            Ok((touched, outcome, next))
        }
    }
}

/// A node this run has emptied, for the summary of a run of several nodes.
struct Drained {
    node: String,
    outcome: &'static str,
    /// The command that terminates its machine (printed, never run); empty when the node was
    /// not emptied (--pod-selector).
    next: String,
}

/// The end of a run of several nodes (a pool): each node and its outcome — emptied, stopped
/// on (`stopped`: the node whose drain the error interrupted) or not started — then the
/// commands that terminate the emptied ones; one place to read instead of scrolling back.
fn render_summary(
    nodes: &[String],
    drained: &[Drained],
    stopped: &[String],
    queued: &BTreeMap<String, NodeJournal>,
) -> String {
    let mut table = shared::output::Table::new(&["node", "outcome"]);
    for node in nodes {
        let outcome = match drained.iter().find(|d| &d.node == node) {
            Some(d) if d.next.is_empty() => d.outcome.to_string(),
            Some(d) => format!("{} — safe to terminate", d.outcome),
            None if stopped.contains(node) => {
                "stopped: the drain is recorded, see the error below".to_string()
            }
            None if queued.contains_key(node) => {
                "queued: cordoned, not drained yet (see the error below)".to_string()
            }
            None => "not started".to_string(),
        };
        table.row([node.clone(), outcome]);
    }
    let mut text = format!(
        "\nSummary: {} of {} emptied\n{}",
        drained.len(),
        shared::plural::count(nodes.len(), "node"),
        table.render()
    );
    if drained.iter().any(|d| !d.next.is_empty()) {
        text.push_str("next, to terminate the emptied nodes:\n");
        for d in drained.iter().filter(|d| !d.next.is_empty()) {
            text.push_str(&format!("  {}\n", d.next));
        }
    }
    text
}

/// Prints the plans (table or `-o json`) and the drains already recorded; stops before any
/// change when a plan has a blocker.
fn show_plans(
    output: PlanFormat,
    pool: &pool::PoolPlan,
    needs: &BTreeMap<String, Vec<shared::doctor::Permission>>,
    recorded: &BTreeMap<String, NodeJournal>,
) -> shared::Result<()> {
    let plans = &pool.plans;
    let document = || {
        let items: Vec<serde_json::Value> = plans
            .iter()
            .map(|p| {
                let mut item = serde_json::to_value(p).unwrap_or_default();
                item["steps"] = serde_json::json!(plan::terminate_steps());
                item
            })
            .collect();
        serde_json::json!({
            "items": items,
            "pool": pool,
            "permissions": permissions_json(needs),
        })
    };
    match output {
        PlanFormat::Json => output::print_stdout(&output::to_json(&document())?),
        PlanFormat::Yaml => output::print_stdout(&output::to_yaml(&document())?),
        PlanFormat::Table => {
            for p in plans {
                eprint!("{}", plan::render(p));
            }
            eprint!("{}", pool::render(pool));
        }
    }
    for (node, journal) in recorded {
        eprintln!(
            "a drain of {node} is already recorded (step {}); continuing it as `{}` would",
            execute::step_name(journal.step),
            crate::hint::command("resume", &[node])
        );
    }
    let blockers: Vec<&String> = plans.iter().flat_map(|p| &p.blockers).collect();
    if let Some(first) = blockers.first() {
        // A drain already recorded stays as it is (cordoned, pre-scaled): say how to finish
        // or undo it (found by the soak: this line left the operator with no way out).
        let recorded_hints: String = recorded
            .keys()
            .map(|node| format!("; {}", resume_hint(node)))
            .collect();
        let message = format!(
            "{}, nothing was changed; first: {first}{recorded_hints}",
            shared::plural::count(blockers.len(), "blocker")
        );
        // Refused only because a GitOps tool or an operator manages a pre-scale: exit 3.
        let managed: usize = plans.iter().map(|p| p.managed_blockers).sum();
        return Err(if managed == blockers.len() {
            Error::Refused(message)
        } else {
            Error::Failed(message)
        });
    }
    Ok(())
}

/// The plan of a node after the first wave of the run, from the cluster as it is now (pods
/// have moved), with the drain recorded on it if one is (its queued record, when the pool was
/// cordoned ahead); a fresh plan with a blocker stops the run.
async fn plan_in_turn(
    target: &shared::Target,
    node: &str,
    wave: &[String],
    avoid: &[String],
    options: &Options,
) -> shared::Result<(plan::NodePlan, Option<NodeJournal>, world::World)> {
    let mut world = world::read(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    world
        .select(&target.client, options.pod_selector.as_deref())
        .await
        .map_err(|e| target.api_error(e))?;
    let again = recorded_drains(&world, &[node.to_string()], options)?;
    let journal = again.get(node).cloned();
    if let Some(journal) = journal.as_ref().filter(|j| !j.queued()) {
        let plan = resume::replan(&world, node, journal)?;
        return Ok((plan, Some(journal.clone()), world));
    }
    let fresh = plan::plan_in_pool(&world, node, wave, avoid, options);
    if let Some(b) = fresh.blockers.first() {
        return Err(Error::Failed(format!("stopped before {node}: {b}")));
    }
    Ok((fresh, journal, world))
}

/// Starts a drain from its plan: with nothing recorded on the node, the journal's first write
/// (with the cordon) is conditional on the node as planned, so of two runs only one starts; a
/// node `queued` with its pool (already cordoned) has its record replaced by the drain's.
/// Returns the workloads it moved.
pub async fn run_fresh(
    ctx: &Ctx<'_>,
    world: &world::World,
    node: &str,
    plan: &plan::NodePlan,
    options: &Options,
    queued: Option<&NodeJournal>,
) -> shared::Result<(Vec<Workload>, &'static str)> {
    let was_unschedulable = match queued {
        Some(q) => q.was_unschedulable,
        None => unschedulable(world, node),
    };
    let mut journal = execute::journal_from_plan(plan, options, was_unschedulable, &now());
    // A node already out of the load balancers (by hand, another tool) keeps its label.
    journal.excluded_from_lbs = !world
        .nodes
        .iter()
        .find(|n| n.name_any() == node)
        .is_some_and(|n| n.labels().contains_key(crate::journal::EXCLUDE_LB_LABEL));
    if queued.is_none() && was_unschedulable && pool::moves_nothing(plan) {
        // Already cordoned and nothing to move (drained before, perhaps by another run just
        // now): a journal written and removed again would change nothing but would count as
        // a second run changing the node (soak seed 100027).
        println!(
            "node {node} is already cordoned and has nothing to evict: nothing was changed — safe to terminate"
        );
        println!("next: {}", plan::next_step(plan.provider_id.as_deref()));
        return Ok((Vec::new(), "already cordoned and empty (nothing changed)"));
    }
    if queued.is_some() {
        execute::save(ctx, node, &journal, false).await?;
        println!("draining node {node} (cordoned ahead with its pool)");
    } else {
        execute::start(ctx, node, &journal).await?;
        println!("cordoned node {node}");
    }
    execute::exclude_from_load_balancers(ctx, node, &journal)
        .await
        .map_err(|e| with_hint(e, node))?;
    execute::event(
        ctx.target,
        node,
        execute::Reason::Cordoned,
        "Cordoned by kubectl-nodeevict to drain it, and out of external load balancers",
    )
    .await;
    execute::run_node(ctx, node, &mut journal, plan)
        .await
        .map_err(|e| with_hint(e, node))?;
    let outcome = match options.pod_selector {
        Some(_) => "the selected pods moved; its other pods stay",
        None => "drained",
    };
    Ok((journal.touched, outcome))
}

/// The drains already recorded on `nodes` (each node remembered as read, so the first write
/// is conditional on it). A record started with other options refuses before any change:
/// going on with either set of options would not be what one of the two commands said.
fn recorded_drains(
    world: &world::World,
    nodes: &[String],
    options: &Options,
) -> shared::Result<BTreeMap<String, NodeJournal>> {
    let mut found = BTreeMap::new();
    for n in world.nodes.iter().filter(|n| nodes.contains(&n.name_any())) {
        crate::journal::observe(n);
        let node = n.name_any();
        let Some(text) = n.annotations().get(NODE_ANNOTATION) else {
            continue;
        };
        // A drain still being carried out is not taken over (two runs would interleave).
        crate::journal::refuse_if_running(n)?;
        let journal = NodeJournal::from_annotation(text).map_err(|e| {
            Error::Failed(format!(
                "node {node} carries a drain journal this version cannot read ({e}); nothing was changed: see `{}`",
                crate::hint::kubectl(&format!("get node {} -o yaml", shared::shell::word(&node)))
            ))
        })?;
        if &journal.options != options {
            return Err(Error::Failed(format!(
                "a drain of {node} is already recorded (step {}) with other options ({}; this command: {}); this run changed nothing on it — {}",
                execute::step_name(journal.step),
                describe(&journal.options),
                describe(options),
                resume_hint(&node)
            )));
        }
        found.insert(node, journal);
    }
    Ok(found)
}

/// Options as the flags that set them.
fn describe(options: &Options) -> String {
    let mut flags = Vec::new();
    if options.force {
        flags.push("--force".to_string());
    }
    if options.delete_emptydir_data {
        flags.push("--delete-emptydir-data".to_string());
    }
    if options.disable_eviction {
        flags.push("--disable-eviction".to_string());
    }
    if let Some(g) = options.grace_period {
        flags.push(format!("--grace-period {g}"));
    }
    if !options.prescale {
        flags.push("--prescale off".to_string());
    }
    if let Some(secs) = options.skip_wait_for_delete_timeout {
        flags.push(format!("--skip-wait-for-delete-timeout {secs}"));
    }
    if options.ignore_gitops {
        flags.push("--ignore-gitops".to_string());
    }
    if let Some(selector) = &options.pod_selector {
        flags.push(format!("--pod-selector {}", shared::shell::word(selector)));
    }
    if options.unordered {
        flags.push("--order none".to_string());
    }
    if let Some(secs) = options.force_after_seconds {
        flags.push(format!(
            "--force-after {}",
            shared::duration::format(Duration::from_secs(secs))
        ));
    }
    if flags.is_empty() {
        "no flags".to_string()
    } else {
        flags.join(" ")
    }
}

/// The command as the operator gave it (nodes or selector, and the options a rerun must
/// repeat to continue the recorded drain), ready to paste.
fn original_command(args: &DrainArgs, options: &Options) -> String {
    use shared::shell::word;
    let mut command = "kubectl nodeevict".to_string();
    match &args.selector {
        Some(selector) => command.push_str(&format!(" -l {}", word(selector))),
        None => {
            for node in &args.nodes {
                command.push(' ');
                command.push_str(&word(node));
            }
        }
    }
    let flags = describe(options);
    if flags != "no flags" {
        command.push(' ');
        command.push_str(&flags);
    }
    if args.max_unavailable != 1 {
        command.push_str(&format!(" --max-unavailable {}", args.max_unavailable));
    }
    command + crate::hint::flags()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_part_of_the_command_to_paste() {
        let options = Options {
            prescale: true,
            force_after_seconds: Some(5400),
            ..Default::default()
        };
        assert_eq!(describe(&options), "--force-after 1h30m");
        let args = DrainArgs {
            nodes: vec!["n1".into()],
            selector: None,
            prescale: PrescaleMode::Auto,
            delete_emptydir_data: false,
            force: false,
            disable_eviction: false,
            grace_period: None,
            pod_timeout: Duration::from_secs(300),
            force_after: Some(Duration::from_secs(5400)),
            skip_wait_for_delete_timeout: None,
            ignore_gitops: false,
            concurrency: 10,
            pod_selector: None,
            order: Order::Priority,
            max_unavailable: 1,
            output: PlanFormat::Table,
            change: shared::ChangeArgs::default(),
        };
        assert_eq!(args.options(), options);
        assert!(
            original_command(&args, &options)
                .starts_with("kubectl nodeevict n1 --force-after 1h30m"),
            "{}",
            original_command(&args, &options)
        );
        // The flag parses back to the same seconds.
        assert_eq!(
            crate::deadline::parse("1h30m"),
            Ok(Duration::from_secs(5400))
        );
    }

    #[test]
    fn a_summary_names_every_node_and_terminates_only_the_emptied() {
        let nodes: Vec<String> = ["n1", "n2", "n3"].iter().map(|n| n.to_string()).collect();
        let drained = [Drained {
            node: "n1".into(),
            outcome: "drained",
            next: "aws ec2 terminate-instances --instance-ids i-1".into(),
        }];
        let text = render_summary(&nodes, &drained, &["n2".to_string()], &BTreeMap::new());
        assert!(text.contains("Summary: 1 of 3 nodes emptied"), "{text}");
        let row = |node: &str| {
            text.lines()
                .find(|l| l.starts_with(node))
                .unwrap()
                .to_string()
        };
        assert!(row("n1").ends_with("drained — safe to terminate"), "{text}");
        assert!(row("n2").contains("stopped"), "{text}");
        assert!(row("n3").ends_with("not started"), "{text}");
        assert!(
            text.ends_with("  aws ec2 terminate-instances --instance-ids i-1\n"),
            "{text}"
        );
        let none = render_summary(&nodes, &[], &["n1".to_string()], &BTreeMap::new());
        assert!(!none.contains("terminate"), "{none}");
    }
}
