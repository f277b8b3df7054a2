//! `kubectl argodeploy`: Argo Workflows that deploy instances: list, find, get, logs, resubmit,
//! retry, stop, wait, watch, suspend, resume, delete

mod complete;
mod delete;
mod examples;
mod find;
mod get;
mod humanize;
mod labels;
mod list;
mod logs;
mod node_selector;
mod node_status;
mod pod_name;
mod resubmit;
mod retry;
mod shutdown;
mod suspend;
mod tree;
mod wait;
mod watch;
mod workflow;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::GlobalArgs;
use shared::doctor::{Permission, Scope};

/// Argo Workflows that deploy instances: list, find, get, logs, retry, wait, delete
#[derive(Parser, Debug)]
#[command(
    name = "kubectl argodeploy",
    bin_name = "kubectl argodeploy",
    version,
    about,
    after_help = examples::TOP,
    long_about = "Work with the Argo Workflows that deploy instances (labels instance_uuid and username)\nthrough the Kubernetes API: list and find them, show one as a tree, read the main\ncontainers' logs, wait for or watch them, retry or resubmit, suspend, resume, stop or\nterminate, and delete them."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(flatten)]
    labels: labels::LabelKeys,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// List workflows (argo list's filters and order), with their user and instance
    #[command(after_help = examples::LIST)]
    List(list::ListArgs),
    /// Every workflow of an instance; the newest one's failing step, message and log tail
    #[command(after_help = examples::FIND)]
    Find(find::FindArgs),
    /// One workflow: header and node tree as argo get prints them
    #[command(after_help = examples::GET)]
    Get(get::GetArgs),
    /// The main containers' logs, prefixed with the step; -f until the workflow completes
    #[command(after_help = examples::LOGS)]
    Logs(logs::LogsArgs),
    /// Run a workflow again with the same definition and parameters (or overridden ones)
    #[command(after_help = examples::RESUBMIT)]
    Resubmit(resubmit::ResubmitArgs),
    /// Run a failed workflow's failed steps again in place (argo retry): succeeded steps stay
    #[command(after_help = examples::RETRY)]
    Retry(retry::RetryArgs),
    /// Stop a running workflow (exit handlers run)
    #[command(after_help = examples::STOP)]
    Stop(shutdown::ShutdownArgs),
    /// Terminate a running workflow at once (no exit handlers)
    #[command(after_help = examples::TERMINATE)]
    Terminate(shutdown::ShutdownArgs),
    /// Wait until workflows complete: exit 0 when all Succeeded, 1 when one Failed or Error
    #[command(after_help = examples::WAIT)]
    Wait(wait::WaitArgs),
    /// Show a workflow's tree, redrawn as it changes, until it completes (get -w)
    #[command(after_help = examples::WATCH)]
    Watch(watch::WatchArgs),
    /// Suspend a running workflow: no new steps start until it is resumed
    #[command(after_help = examples::SUSPEND)]
    Suspend(suspend::SuspendArgs),
    /// Resume a suspended workflow, and its steps waiting at a suspend template
    #[command(after_help = examples::RESUME)]
    Resume(suspend::ResumeArgs),
    /// Delete workflows by name or filter (--completed, --older 7d ...), and their pods
    #[command(after_help = examples::DELETE)]
    Delete(delete::DeleteArgs),
    #[command(flatten)]
    Common(shared::cli::Common),
}

/// What `kubectl argodeploy` needs, checked by `doctor` with SelfSubjectAccessReviews.
pub(crate) const PERMISSIONS: &[Permission] = &[
    workflow::permission("list", "list, find"),
    workflow::permission("get", "get"),
    workflow::permission("create", "resubmit"),
    workflow::permission("patch", "stop, terminate, suspend, resume"),
    workflow::permission("watch", "wait, watch, get -w"),
    workflow::permission("delete", "delete"),
    workflow::permission("update", "retry"),
    Permission::new(
        "delete",
        "",
        "pods",
        Scope::Namespace,
        "retry: the pods of the steps that run again",
    ),
    Permission::new(
        "get",
        "",
        "pods",
        Scope::Namespace,
        "retry: waits until they are gone",
    ),
    Permission::new(
        "list",
        "",
        "pods",
        Scope::Namespace,
        "logs, find: the workflow's pods",
    ),
    Permission::new("watch", "", "pods", Scope::Namespace, "logs -f: new pods"),
    Permission::new("get", "", "pods", Scope::Namespace, "logs").sub("log"),
];

pub fn main() -> ExitCode {
    let cli: Cli = shared::cli::parse();
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            Command::List(args) => list::run(&cli.global, &cli.labels, args).await,
            Command::Find(args) => find::run(&cli.global, &cli.labels, args).await,
            Command::Get(args) => get::run(&cli.global, &cli.labels, args).await,
            Command::Logs(args) => logs::run(&cli.global, &cli.labels, args).await,
            Command::Resubmit(args) => resubmit::run(&cli.global, &cli.labels, args).await,
            Command::Retry(args) => retry::run(&cli.global, &cli.labels, args).await,
            Command::Stop(args) => {
                shutdown::run(&cli.global, &cli.labels, args, shutdown::Shutdown::Stop).await
            }
            Command::Terminate(args) => {
                shutdown::run(
                    &cli.global,
                    &cli.labels,
                    args,
                    shutdown::Shutdown::Terminate,
                )
                .await
            }
            Command::Wait(args) => wait::run(&cli.global, &cli.labels, args).await,
            Command::Watch(args) => watch::run(&cli.global, &cli.labels, args).await,
            Command::Suspend(args) => suspend::run_suspend(&cli.global, &cli.labels, args).await,
            Command::Resume(args) => suspend::run_resume(&cli.global, &cli.labels, args).await,
            Command::Delete(args) => delete::run(&cli.global, &cli.labels, args).await,
            Command::Common(common) => {
                shared::cli::run_common::<Cli>(common, &cli.global, PERMISSIONS, async |args| {
                    complete::run(args, &cli.labels).await
                })
                .await
            }
        }
    })
}
