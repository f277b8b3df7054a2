//! `kubectl pvcreset`: reset a workload's PersistentVolumeClaim, safely and resumably

pub mod abort;
pub mod execute;
pub mod journal;
pub mod plan;
pub mod reset;
pub mod resume;
pub mod status;
pub mod world;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::GlobalArgs;
use shared::doctor::{self, DoctorArgs, Permission, Scope};

/// reset a workload's PersistentVolumeClaim, safely and resumably
#[derive(Parser, Debug)]
#[command(
    name = "kubectl pvcreset",
    bin_name = "kubectl pvcreset",
    version,
    about,
    long_about = "Reset a workload's volume: scale its owner down, delete the PersistentVolumeClaim, let it be\nrecreated empty, scale back up and verify. Interrupted resets can be resumed or aborted."
)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(flatten)]
    pub reset: reset::ResetArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Resets in progress or interrupted, from the journals on their owners
    Status(status::StatusArgs),
    /// Finish interrupted resets from where they stopped
    Resume(resume::ResumeArgs),
    /// Undo an interrupted reset while its claims still exist: replicas and autoscalers back
    Abort(abort::AbortArgs),
    /// Check the connection, the credentials and every permission this plugin needs
    Doctor(DoctorArgs),
}

/// What `kubectl pvcreset` needs, checked by `doctor` with SelfSubjectAccessReviews.
pub const PERMISSIONS: &[Permission] = &[
    Permission::new(
        "get",
        "",
        "persistentvolumeclaims",
        Scope::Namespace,
        "read the claims to reset",
    ),
    Permission::new(
        "delete",
        "",
        "persistentvolumeclaims",
        Scope::Namespace,
        "delete the claim",
    ),
    Permission::new(
        "get",
        "",
        "persistentvolumes",
        Scope::Cluster,
        "reclaim policy: what happens to the data",
    ),
    Permission::new(
        "get",
        "storage.k8s.io",
        "storageclasses",
        Scope::Cluster,
        "how the claim is provisioned",
    ),
    Permission::new(
        "list",
        "",
        "pods",
        Scope::Namespace,
        "find the pods mounting the claim",
    ),
    Permission::new(
        "delete",
        "",
        "pods",
        Scope::Namespace,
        "restart the consumer",
    ),
    Permission::new(
        "patch",
        "apps",
        "statefulsets",
        Scope::Namespace,
        "scale the owner, record progress",
    ),
    Permission::new(
        "patch",
        "apps",
        "deployments",
        Scope::Namespace,
        "scale the owner, record progress",
    ),
    Permission::new(
        "get",
        "apps",
        "replicasets",
        Scope::Namespace,
        "find a pod's Deployment",
    ),
    Permission::new(
        "list",
        "autoscaling",
        "horizontalpodautoscalers",
        Scope::Namespace,
        "refuse or pause autoscaled owners",
    ),
    Permission::new(
        "create",
        "snapshot.storage.k8s.io",
        "volumesnapshots",
        Scope::Namespace,
        "--snapshot",
    ),
];

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            None => reset::run(&cli.global, &cli.reset).await,
            Some(Command::Status(args)) => status::run(&cli.global, args).await,
            Some(Command::Resume(args)) => resume::run(&cli.global, args).await,
            Some(Command::Abort(args)) => abort::run(&cli.global, args).await,
            Some(Command::Doctor(args)) => doctor::run(&cli.global, args, PERMISSIONS).await,
        }
    })
}
