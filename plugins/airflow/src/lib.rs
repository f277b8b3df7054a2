//! `kubectl airflow`: find, inspect, restart and diagnose Airflow deployments

// Crate-private: only `main` is used from outside (by main.rs), so the dead-code lint sees
// everything else.
mod complete;
mod diagnose;
mod discovery;
mod lean;
mod list;
mod logs;
mod paint;
mod platform;
mod reset_logs;
mod restart;
mod status;
mod volumes;
mod wrap;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use shared::GlobalArgs;
use shared::doctor::{Permission, Scope};
use shared::output::PlanFormat;

/// find, inspect, restart and diagnose Airflow deployments
#[derive(Parser, Debug)]
#[command(
    name = "kubectl airflow",
    bin_name = "kubectl airflow",
    version,
    about,
    long_about = "Operate Airflow deployments (Astronomer or the official Helm chart), one namespace each:\nlist them, show their status, restart a component, read logs, diagnose unschedulable\npods and quotas, and reset worker log volumes."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List Airflow deployments: components' readiness, restarts and health
    List(list::ListArgs),
    /// Restart a component (or all): plan, confirm, restart, verify the new pods are Ready
    Restart(restart::RestartArgs),
    /// Logs of every pod of a component, prefixed with the pod; -f follows new pods too
    Logs(logs::LogsArgs),
    /// Why pods do not run: scheduler messages, quota shortfalls, node fit per pool, advice
    Diagnose(ReleaseArgs),
    /// One deployment's components and pods, and the problems found with the command for each
    Status(ReleaseArgs),
    /// The deployment's PersistentVolumeClaims: owner, pod, capacity, status, reclaim policy
    Volumes(volumes::VolumesArgs),
    /// Replace worker log volumes (full disks crash-loop workers), through kubectl pvcreset
    ResetLogs(reset_logs::ResetLogsArgs),
    /// Health of the Astronomer platform (houston, commander, registry, …) with fixes
    Platform(platform::PlatformArgs),
    #[command(flatten)]
    Common(shared::cli::Common),
}

/// The arguments of the reports about one deployment (status, diagnose): a report has no
/// wide or name view.
#[derive(Args, Debug, Clone)]
pub(crate) struct ReleaseArgs {
    /// The Airflow release (implicit when the namespace holds only one)
    pub release: Option<String>,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

/// What `kubectl airflow` needs, checked by `doctor` with SelfSubjectAccessReviews.
const PERMISSIONS: &[Permission] = &[
    Permission::new(
        "list",
        "",
        "pods",
        Scope::AllNamespaces,
        "list, status: find deployments and their pods",
    ),
    Permission::new(
        "list",
        "apps",
        "deployments",
        Scope::AllNamespaces,
        "list, status: components",
    ),
    Permission::new(
        "list",
        "apps",
        "statefulsets",
        Scope::AllNamespaces,
        "list, status: components",
    ),
    Permission::new("get", "", "pods", Scope::Namespace, "logs, status"),
    Permission::new("get", "", "pods", Scope::Namespace, "logs").sub("log"),
    Permission::new(
        "delete",
        "",
        "pods",
        Scope::Namespace,
        "restart: delete a stuck pod",
    ),
    rollout_restart("deployments"),
    rollout_restart("statefulsets"),
    Permission::new(
        "patch",
        "apps",
        "statefulsets",
        Scope::Namespace,
        "reset-logs: scale workers",
    )
    .sub("scale"),
    Permission::new(
        "delete",
        "",
        "persistentvolumeclaims",
        Scope::Namespace,
        "reset-logs: delete worker log volumes",
    ),
    Permission::new(
        "list",
        "",
        "persistentvolumeclaims",
        Scope::Namespace,
        "volumes: the deployment's claims",
    ),
    Permission::new(
        "list",
        "",
        "persistentvolumes",
        Scope::Cluster,
        "volumes: reclaim policies (optional)",
    ),
    Permission::new(
        "list",
        "apps",
        "daemonsets",
        Scope::AllNamespaces,
        "platform: Astronomer components",
    ),
    Permission::new(
        "list",
        "",
        "events",
        Scope::Namespace,
        "diagnose: scheduling and quota events",
    ),
    Permission::new(
        "list",
        "",
        "resourcequotas",
        Scope::Namespace,
        "diagnose: namespace quota",
    ),
    Permission::new(
        "list",
        "",
        "nodes",
        Scope::Cluster,
        "diagnose: node capacity",
    ),
];

/// `restart` annotates the pod template of a Deployment and of a StatefulSet alike.
const fn rollout_restart(resource: &'static str) -> Permission {
    Permission::new(
        "patch",
        "apps",
        resource,
        Scope::Namespace,
        "restart: rollout restart",
    )
}

pub fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse();
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            Command::List(args) => list::run(&cli.global, args).await,
            Command::Status(args) => status::run(&cli.global, args).await,
            Command::Restart(args) => restart::run(&cli.global, args).await,
            Command::Diagnose(args) => diagnose::run(&cli.global, args).await,
            Command::Logs(args) => logs::run(&cli.global, args).await,
            Command::Volumes(args) => volumes::run(&cli.global, args).await,
            Command::ResetLogs(args) => reset_logs::run(&cli.global, args).await,
            Command::Platform(args) => platform::run(&cli.global, args).await,
            Command::Common(common) => {
                shared::cli::run_common::<Cli>(common, &cli.global, PERMISSIONS, async |args| {
                    complete::run(args).await
                })
                .await
            }
        }
    })
}
