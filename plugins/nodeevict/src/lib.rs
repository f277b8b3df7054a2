//! `kubectl nodeevict`: empty a node without downtime, then hand it over for termination

// Private modules: only `main` is used from outside (by main.rs), so the dead-code lint sees
// every unused item.
mod abort;
mod complete;
mod deadline;
mod drain;
mod execute;
mod hint;
mod journal;
mod permissions;
mod plan;
mod pool;
mod resume;
mod status;
mod uncordon;
mod world;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::GlobalArgs;
use shared::doctor::{Permission, Scope};

/// Empty a node without downtime, then hand it over for termination
#[derive(Parser, Debug)]
#[command(
    name = "kubectl nodeevict",
    bin_name = "kubectl nodeevict",
    version,
    about,
    long_about = "Evict every pod from a node without downtime: plan, pre-scale what would go down, cordon,\nevict honouring PodDisruptionBudgets, wait, restore, and say what to do next."
)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(after_help = "Examples:
  # Show the plan for one node, change nothing
  kubectl nodeevict ip-10-0-12-27.ec2.internal --dry-run

  # Drain it; --force also deletes unmanaged pods for good
  kubectl nodeevict ip-10-0-12-27.ec2.internal --force

  # Drain a whole pool, one node after the other
  kubectl nodeevict -l agentpool=common

  # Three nodes at a time, as budgets and replicas allow
  kubectl nodeevict -l agentpool=common --max-unavailable 3

  # The plan as JSON, for a script
  kubectl nodeevict ip-10-0-12-27.ec2.internal --dry-run -o json")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub drain: drain::DrainArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make nodes schedulable again
    #[command(after_help = "Examples:
  # Put a node back into service
  kubectl nodeevict uncordon ip-10-0-12-27.ec2.internal

  # Every node of a pool
  kubectl nodeevict uncordon -l agentpool=common")]
    Uncordon(uncordon::UncordonArgs),
    /// Drains in progress or interrupted, from the node journals
    #[command(after_help = "Examples:
  # Which drains are recorded, at which step, and whether a run still drives them
  kubectl nodeevict status

  # The same for a script
  kubectl nodeevict status -o json")]
    Status(status::StatusArgs),
    /// Finish interrupted drains
    #[command(after_help = "Examples:
  # Finish every interrupted drain
  kubectl nodeevict resume

  # Finish one, without asking
  kubectl nodeevict resume ip-10-0-12-27.ec2.internal -y")]
    Resume(resume::ResumeArgs),
    /// Undo interrupted drains: owners restored, node uncordoned
    #[command(after_help = "Examples:
  # Undo an interrupted drain: pre-scaled owners back, node uncordoned
  kubectl nodeevict abort ip-10-0-12-27.ec2.internal")]
    Abort(abort::AbortArgs),
    #[command(flatten)]
    Common(shared::cli::Common),
}

/// What `kubectl nodeevict` needs, checked by `doctor` with SelfSubjectAccessReviews.
pub const PERMISSIONS: &[Permission] = &[
    Permission::new(
        "list",
        "",
        "nodes",
        Scope::Cluster,
        "the nodes and their room",
    ),
    Permission::new(
        "patch",
        "",
        "nodes",
        Scope::Cluster,
        "cordon, uncordon, the journal",
    ),
    Permission::new(
        "list",
        "",
        "pods",
        Scope::AllNamespaces,
        "pods on the node, capacity",
    ),
    Permission::new(
        "watch",
        "",
        "pods",
        Scope::AllNamespaces,
        "wait for evicted pods to go",
    ),
    Permission::new("create", "", "pods", Scope::AllNamespaces, "evict pods").sub("eviction"),
    Permission::new(
        "delete",
        "",
        "pods",
        Scope::AllNamespaces,
        "--disable-eviction, --force",
    ),
    Permission::new(
        "list",
        "apps",
        "replicasets",
        Scope::AllNamespaces,
        "a pod's Deployment",
    ),
    Permission::new(
        "list",
        "apps",
        "deployments",
        Scope::AllNamespaces,
        "owners",
    ),
    Permission::new(
        "list",
        "apps",
        "statefulsets",
        Scope::AllNamespaces,
        "owners",
    ),
    Permission::new(
        "patch",
        "apps",
        "deployments",
        Scope::AllNamespaces,
        "pre-scale and restore",
    ),
    Permission::new(
        "list",
        "policy",
        "poddisruptionbudgets",
        Scope::AllNamespaces,
        "budgets",
    ),
    Permission::new(
        "list",
        "autoscaling",
        "horizontalpodautoscalers",
        Scope::AllNamespaces,
        "autoscaled owners",
    ),
    Permission::new(
        "patch",
        "autoscaling",
        "horizontalpodautoscalers",
        Scope::AllNamespaces,
        "raise and restore minReplicas",
    ),
    Permission::new(
        "list",
        "keda.sh",
        "scaledobjects",
        Scope::AllNamespaces,
        "KEDA-scaled owners",
    ),
    Permission::new(
        "patch",
        "keda.sh",
        "scaledobjects",
        Scope::AllNamespaces,
        "raise and restore minReplicaCount",
    ),
    Permission::new(
        "list",
        "storage.k8s.io",
        "volumeattachments",
        Scope::Cluster,
        "wait for volumes to detach (optional: without it a drain does not say safe to terminate)",
    )
    .optional(),
    Permission::new(
        "create",
        "",
        "events",
        Scope::Namespace,
        "record the drain on the node (optional, best-effort)",
    )
    .optional(),
];

pub fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse();
    hint::remember_flags(&cli.global);
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            None => drain::run(&cli.global, &cli.drain).await,
            Some(Command::Uncordon(args)) => uncordon::run(&cli.global, args).await,
            Some(Command::Status(args)) => status::run(&cli.global, args).await,
            Some(Command::Resume(args)) => resume::run(&cli.global, args).await,
            Some(Command::Abort(args)) => abort::run(&cli.global, args).await,
            Some(Command::Common(common)) => {
                shared::cli::run_common::<Cli>(common, &cli.global, PERMISSIONS, async |args| {
                    complete::run(args).await
                })
                .await
            }
        }
    })
}
