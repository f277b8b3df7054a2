//! `kubectl airflow`: find, inspect, restart and diagnose Airflow deployments

// Crate-private: only `main` is used from outside (by main.rs), so the dead-code lint sees
// everything else.
mod complete;
mod diagnose;
mod discovery;
mod health;
mod lean;
mod list;
mod logs;
mod paint;
mod platform;
mod reset_logs;
mod restart;
mod status;
mod volumes;

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
    long_about = "Operate Airflow deployments (Astronomer or the official Helm chart), one namespace each:\nlist them, show their status, restart a component, read logs, diagnose unschedulable\npods and quotas, and reset worker log volumes.",
    after_help = examples::TOP
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
    #[command(after_help = examples::LIST)]
    List(list::ListArgs),
    /// Restart a component, all, or one pod: plan, confirm, act, verify new pods are Ready
    #[command(after_help = examples::RESTART)]
    Restart(restart::RestartArgs),
    /// Logs of every pod of a component, prefixed with the pod; -f follows new pods too
    #[command(after_help = examples::LOGS)]
    Logs(logs::LogsArgs),
    /// Why pods do not run: scheduler messages, quota shortfalls, node fit per pool, advice
    #[command(after_help = examples::DIAGNOSE)]
    Diagnose(ReleaseArgs),
    /// One deployment's components and pods, and the problems found with the command for each
    #[command(after_help = examples::STATUS)]
    Status(status::StatusArgs),
    /// The deployment's PersistentVolumeClaims: how full (kubelet stats), capacity, status, reclaim policy
    #[command(after_help = examples::VOLUMES)]
    Volumes(volumes::VolumesArgs),
    /// Replace worker log volumes (full disks crash-loop workers), through kubectl pvcreset
    #[command(after_help = examples::RESET_LOGS)]
    ResetLogs(reset_logs::ResetLogsArgs),
    /// Health of the Astronomer platform (houston, commander, registry, …) with fixes
    #[command(after_help = examples::PLATFORM)]
    Platform(platform::PlatformArgs),
    #[command(flatten)]
    Common(shared::cli::Common),
}

/// Each subcommand's `Examples:` (the runbook's common invocations), as kubectl's help has.
mod examples {
    pub const TOP: &str = "Examples:
  # Find the deployments, then look at one: each problem comes with the command that fixes it
  kubectl airflow list -A
  kubectl airflow status -n astronomer-ee-lunar-nuclear-3725

  # Restart one stuck worker pod
  kubectl airflow restart lunar-nuclear-3725-worker-2 -n astronomer-ee-lunar-nuclear-3725";

    pub const LIST: &str = "Examples:
  # Every Airflow deployment in the cluster, and its health
  kubectl airflow list -A

  # With executor, restarts and why each is not Healthy
  kubectl airflow list -A -o wide

  # The release names only, for scripts
  kubectl airflow list -A -o name";

    pub const RESTART: &str = "Examples:
  # Rolling restart of the scheduler (plan, confirm, verify the new pod is Ready)
  kubectl airflow restart scheduler -n astronomer-ee-lunar-nuclear-3725

  # Force-restart one stuck worker, leaving the other workers' tasks running
  kubectl airflow restart lunar-nuclear-3725-worker-2 -n astronomer-ee-lunar-nuclear-3725

  # The same, naming the component; --force: grace period 0 (its running tasks are killed)
  kubectl airflow -n astronomer-ee-zodiac-cosmo-1172 restart worker --pod zodiac-cosmo-1172-worker-0

  # Delete every worker pod at once (the runbook's way) instead of rolling
  kubectl airflow restart workers --strategy delete -n astronomer-ee-lunar-nuclear-3725

  # Show the plan of restarting everything, change nothing
  kubectl airflow restart all -n astronomer-ee-lunar-nuclear-3725 --dry-run";

    pub const LOGS: &str = "Examples:
  # The last 100 lines of every scheduler pod
  kubectl airflow logs scheduler -n astronomer-ee-lunar-nuclear-3725 --tail 100

  # Follow the workers, new pods included
  kubectl airflow logs worker -n astronomer-ee-lunar-nuclear-3725 -f

  # The last hour of the triggerer, with timestamps
  kubectl airflow logs triggerer -n astronomer-ee-zodiac-cosmo-1172 --since 1h --timestamps

  # Why a worker crashed: the attempt before its restart, only the errors
  kubectl airflow logs worker -n astronomer-ee-lunar-nuclear-3725 -p --grep ERROR

  # One JSON object a line (pod, container, time, line), for jq or a log shipper
  kubectl airflow logs scheduler -n astronomer-ee-lunar-nuclear-3725 -o json";

    pub const DIAGNOSE: &str = "Examples:
  # Why a deployment's pods are Pending: scheduler messages, quotas, node fit
  kubectl airflow diagnose -n astronomer-ee-zodiac-cosmo-1172

  # The same as JSON
  kubectl airflow diagnose zodiac-cosmo-1172 -n astronomer-ee-zodiac-cosmo-1172 -o json";

    pub const STATUS: &str = "Examples:
  # Components, pods, Airflow's own health (/health, through the service proxy) and problems
  # of the deployment in a namespace, with a fix for each
  kubectl airflow status -n astronomer-ee-lunar-nuclear-3725

  # Name the release when the namespace holds several
  kubectl airflow status lunar-nuclear-3725 -n astronomer-ee-lunar-nuclear-3725

  # Everything, nodes and workloads included, as YAML
  kubectl airflow status -n astronomer-ee-lunar-nuclear-3725 -o yaml

  # Keep it on screen during a restart: redrawn as pods change, until Ctrl-C
  kubectl airflow status -n astronomer-ee-zodiac-cosmo-1172 -w";

    pub const VOLUMES: &str = "Examples:
  # The deployment's claims: used, capacity, use% and inodes% (the kubelet's stats, which
  # need get on nodes/proxy), status, reclaim policy
  kubectl airflow volumes -n astronomer-ee-lunar-nuclear-3725

  # With owner, pod, storage class and volume
  kubectl airflow volumes -n astronomer-ee-lunar-nuclear-3725 -o wide

  # The claims' names, for kubectl
  kubectl airflow volumes -n astronomer-ee-lunar-nuclear-3725 -o name";

    pub const RESET_LOGS: &str = "Examples:
  # Replace the full log volume of one crash-looping worker
  kubectl airflow reset-logs lunar-nuclear-3725-worker-2 -n astronomer-ee-lunar-nuclear-3725

  # Replace every worker's log volume (workers scaled to 0 and back)
  kubectl airflow reset-logs --all -n astronomer-ee-lunar-nuclear-3725

  # Show the plan, change nothing
  kubectl airflow reset-logs --all --dry-run -n astronomer-ee-zodiac-cosmo-1172";

    pub const PLATFORM: &str = "Examples:
  # Health of the Astronomer platform, with a kubectl command for each problem
  kubectl airflow platform

  # With each pod's workload and node
  kubectl airflow platform -o wide

  # The platform's workloads as kind/name
  kubectl airflow platform -o name";
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
    Permission::new(
        "get",
        "",
        "pods",
        Scope::Namespace,
        "logs, status: why a pod crashed",
    )
    .sub("log"),
    Permission::new(
        "list",
        "",
        "services",
        Scope::Namespace,
        "status: the webserver's Service",
    ),
    Permission::new(
        "get",
        "",
        "services",
        Scope::Namespace,
        "status: Airflow's own health, through the service proxy",
    )
    .sub("proxy")
    .optional(),
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
    )
    .optional(),
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
    Permission::new(
        "get",
        "",
        "nodes",
        Scope::Cluster,
        "volumes, status: how full the claims are, from the kubelet (optional)",
    )
    .sub("proxy")
    .optional(),
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
