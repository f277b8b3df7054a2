//! `kubectl argodeploy`: Argo Workflows that deploy instances: list, find, get, logs, resubmit, stop

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::GlobalArgs;
use shared::doctor::{self, DoctorArgs, Permission, Scope};

/// Argo Workflows that deploy instances: list, find, get, logs, resubmit, stop
#[derive(Parser, Debug)]
#[command(
    name = "kubectl argodeploy",
    bin_name = "kubectl argodeploy",
    version,
    about,
    long_about = "Work with the Argo Workflows that deploy instances (labels instance_uuid and username)\nthrough the Kubernetes API: list and find them, show one as a tree, read the main\ncontainers' logs, resubmit, stop or terminate."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check the connection, the credentials and every permission this plugin needs
    Doctor(DoctorArgs),
}

/// What `kubectl argodeploy` needs, checked by `doctor` with SelfSubjectAccessReviews.
pub const PERMISSIONS: &[Permission] = &[
    Permission::new(
        "list",
        "argoproj.io",
        "workflows",
        Scope::Namespace,
        "list, find",
    ),
    Permission::new("get", "argoproj.io", "workflows", Scope::Namespace, "get"),
    Permission::new(
        "create",
        "argoproj.io",
        "workflows",
        Scope::Namespace,
        "resubmit",
    ),
    Permission::new(
        "patch",
        "argoproj.io",
        "workflows",
        Scope::Namespace,
        "stop, terminate",
    ),
    Permission::new("get", "", "pods", Scope::Namespace, "logs"),
    Permission::new("get", "", "pods", Scope::Namespace, "logs").sub("log"),
];

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            Command::Doctor(args) => doctor::run(&cli.global, args, PERMISSIONS).await,
        }
    })
}
