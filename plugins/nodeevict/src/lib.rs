//! `kubectl nodeevict`: empty a node without downtime, then hand it over for termination

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::GlobalArgs;
use shared::doctor::{self, DoctorArgs, Permission, Scope};

/// empty a node without downtime, then hand it over for termination
#[derive(Parser, Debug)]
#[command(
    name = "kubectl nodeevict",
    bin_name = "kubectl nodeevict",
    version,
    about,
    long_about = "Evict every pod from a node without downtime: plan, pre-scale what would go down, cordon,\nevict honouring PodDisruptionBudgets, wait, restore, and say what to do next."
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

/// What `kubectl nodeevict` needs, checked by `doctor` with SelfSubjectAccessReviews.
pub const PERMISSIONS: &[Permission] = &[
    Permission::new("get", "", "nodes", Scope::Cluster, "read the node"),
    Permission::new("patch", "", "nodes", Scope::Cluster, "cordon and uncordon"),
    Permission::new("list", "", "pods", Scope::AllNamespaces, "pods on the node"),
    Permission::new("create", "", "pods", Scope::AllNamespaces, "evict pods").sub("eviction"),
    Permission::new(
        "delete",
        "",
        "pods",
        Scope::AllNamespaces,
        "--disable-eviction",
    ),
    Permission::new(
        "list",
        "policy",
        "poddisruptionbudgets",
        Scope::AllNamespaces,
        "PDB checks",
    ),
    Permission::new(
        "patch",
        "apps",
        "deployments",
        Scope::AllNamespaces,
        "pre-scale and restore",
    ),
    Permission::new(
        "patch",
        "apps",
        "statefulsets",
        Scope::AllNamespaces,
        "record progress on owners",
    ),
    Permission::new(
        "list",
        "apps",
        "replicasets",
        Scope::AllNamespaces,
        "find pod owners",
    ),
    Permission::new(
        "patch",
        "autoscaling",
        "horizontalpodautoscalers",
        Scope::AllNamespaces,
        "raise minReplicas when autoscaled",
    ),
];

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::cli::run(&cli.global, || async {
        match &cli.command {
            Command::Doctor(args) => doctor::run(&cli.global, args, PERMISSIONS).await,
        }
    })
}
