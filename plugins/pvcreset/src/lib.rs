//! `kubectl pvcreset`: reset a workload's PersistentVolumeClaim, safely and resumably

mod complete;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pvc_reset::{abort, reset, restore, resume, status};
use shared::GlobalArgs;
use shared::doctor::{Permission, Scope};

/// Reset a workload's PersistentVolumeClaim, safely and resumably
#[derive(Parser, Debug)]
#[command(
    name = "kubectl pvcreset",
    bin_name = "kubectl pvcreset",
    version,
    about,
    long_about = "Reset a workload's volume: scale its owner down, delete the PersistentVolumeClaim, let it be\nrecreated empty, scale back up and verify. Interrupted resets can be resumed or aborted."
)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
#[command(after_help = "Examples:
  # Show the plan for one claim, change nothing
  kubectl pvcreset logs-lunar-nuclear-3725-worker-1 -n astronomer-ee-lunar-nuclear-3725 --dry-run

  # Reset it (you type the claim's name to confirm)
  kubectl pvcreset logs-lunar-nuclear-3725-worker-1 -n astronomer-ee-lunar-nuclear-3725

  # Reset ordinals 0 and 2 of a StatefulSet, with a snapshot first
  kubectl pvcreset --statefulset web --ordinal 0 --ordinal 2 -n apps --snapshot

  # Every claim of a StatefulSet
  kubectl pvcreset --statefulset web --all -n apps")]
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
    #[command(after_help = "Examples:
  # The resets recorded in the namespace, at which step
  kubectl pvcreset status -n apps

  # In every namespace, for a script
  kubectl pvcreset status -A -o json")]
    Status(status::StatusArgs),
    /// Finish interrupted resets from where they stopped
    #[command(after_help = "Examples:
  # Finish the reset recorded on a Deployment
  kubectl pvcreset resume deployment/report-builder -n apps

  # Every reset recorded in the namespace
  kubectl pvcreset resume --all -n apps")]
    Resume(resume::ResumeArgs),
    /// Undo an interrupted reset while its claims still exist: replicas and autoscalers back
    #[command(after_help = "Examples:
  # Undo the reset recorded on a Deployment (its claims are kept)
  kubectl pvcreset abort deployment/report-builder -n apps")]
    Abort(abort::AbortArgs),
    /// Create a claim again from the VolumeSnapshot a --snapshot reset took of it
    #[command(after_help = "Examples:
  # The claim as it was before the last reset taken with --snapshot
  kubectl pvcreset restore report-cache -n apps

  # From a snapshot named explicitly
  kubectl pvcreset restore report-cache -n apps --from report-cache-pvcreset-20261125100000")]
    Restore(restore::RestoreArgs),
    #[command(flatten)]
    Common(shared::cli::Common),
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
        "delete the old claim",
    ),
    Permission::new(
        "create",
        "",
        "persistentvolumeclaims",
        Scope::Namespace,
        "create a Deployment's claim again",
    ),
    Permission::new(
        "get",
        "",
        "persistentvolumes",
        Scope::Cluster,
        "reclaim policy: what happens to the data (optional)",
    )
    .optional(),
    Permission::new(
        "get",
        "storage.k8s.io",
        "storageclasses",
        Scope::Cluster,
        "how the claim is provisioned (optional)",
    )
    .optional(),
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
        "pod strategy: delete the StatefulSet pod",
    ),
    Permission::new(
        "list",
        "apps",
        "replicasets",
        Scope::Namespace,
        "find a pod's Deployment",
    ),
    Permission::new(
        "list",
        "apps",
        "statefulsets",
        Scope::Namespace,
        "owners; status: journals",
    ),
    Permission::new(
        "list",
        "apps",
        "deployments",
        Scope::Namespace,
        "owners; status: journals",
    ),
    Permission::new(
        "patch",
        "apps",
        "statefulsets",
        Scope::Namespace,
        "record progress on the owner",
    ),
    Permission::new(
        "patch",
        "apps",
        "deployments",
        Scope::Namespace,
        "record progress on the owner",
    ),
    Permission::new(
        "patch",
        "apps",
        "statefulsets",
        Scope::Namespace,
        "scale strategy",
    )
    .sub("scale"),
    Permission::new(
        "patch",
        "apps",
        "deployments",
        Scope::Namespace,
        "scale strategy",
    )
    .sub("scale"),
    Permission::new(
        "list",
        "autoscaling",
        "horizontalpodautoscalers",
        Scope::Namespace,
        "refuse autoscaled owners",
    ),
    Permission::new(
        "patch",
        "autoscaling",
        "horizontalpodautoscalers",
        Scope::Namespace,
        "--ignore-autoscaler: pause and restore",
    ),
    Permission::new(
        "patch",
        "keda.sh",
        "scaledobjects",
        Scope::Namespace,
        "--ignore-autoscaler: pause and restore KEDA",
    ),
    Permission::new(
        "create",
        "snapshot.storage.k8s.io",
        "volumesnapshots",
        Scope::Namespace,
        "--snapshot",
    ),
    Permission::new(
        "list",
        "snapshot.storage.k8s.io",
        "volumesnapshots",
        Scope::Namespace,
        "restore: find the claim's snapshot",
    ),
    Permission::new(
        "list",
        "snapshot.storage.k8s.io",
        "volumesnapshotclasses",
        Scope::Cluster,
        "--snapshot: pick the class",
    ),
    Permission::new(
        "get",
        "",
        "nodes",
        Scope::Cluster,
        "the plan: how full the claims are, from the kubelet (optional)",
    )
    .sub("proxy")
    .optional(),
];

pub fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse();
    pvc_reset::hints::remember_scope(&cli.global);
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            None => reset::run(&cli.global, &cli.reset, shared::suggest::subcommand::<Cli>).await,
            Some(Command::Status(args)) => status::run(&cli.global, args).await,
            Some(Command::Resume(args)) => resume::run(&cli.global, args).await,
            Some(Command::Abort(args)) => abort::run(&cli.global, args).await,
            Some(Command::Restore(args)) => restore::run(&cli.global, args).await,
            Some(Command::Common(common)) => {
                shared::cli::run_common::<Cli>(common, &cli.global, PERMISSIONS, async |args| {
                    complete::run(args).await
                })
                .await
            }
        }
    })
}
