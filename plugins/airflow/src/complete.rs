//! Live completion for kubectl's plugin completion (`kubectl_complete-airflow`): subcommands,
//! then components and releases read from the cluster.

use clap::CommandFactory;
use shared::complete::{self, CompleteArgs};

use crate::discovery;

pub async fn run(args: &CompleteArgs) -> shared::Result<()> {
    let typed = complete::parse(&args.words);
    if let Some(flag) = &typed.flag {
        let values = match flag.as_str() {
            "-n" | "--namespace" => complete::namespaces(&typed.global).await,
            "--strategy" => vec!["rollout".into(), "delete".into()],
            _ => Vec::new(),
        };
        complete::answer(values, &typed.current);
        return Ok(());
    }
    let words: Vec<&str> = typed.words.iter().map(String::as_str).collect();
    if words.is_empty() {
        complete::answer(
            complete::subcommands(&crate::Cli::command()),
            &typed.current,
        );
        return Ok(());
    }
    let live = async || -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
        let target = shared::kubeconfig::connect(&typed.global).await.ok()?;
        let deployments = discovery::load_deployments(&target, Some(&target.namespace))
            .await
            .ok()?;
        let releases = deployments.iter().map(|d| d.release.clone()).collect();
        let components = deployments
            .iter()
            .flat_map(|d| d.components.keys().cloned())
            .collect();
        let workers = deployments
            .iter()
            .filter_map(|d| d.components.get("worker"))
            .flat_map(|c| c.pods.iter().map(|p| p.name.clone()))
            .collect();
        Some((components, releases, workers))
    };
    let candidates = match words.as_slice() {
        ["restart" | "logs"] => live().await.map(|(mut components, _, _)| {
            if words[0] == "restart" {
                components.extend(["all".to_string(), "workers".to_string()]);
            }
            components
        }),
        ["restart" | "logs", _] | ["status" | "diagnose" | "volumes"] | ["reset-logs", _] => {
            live().await.map(|(_, releases, _)| releases)
        }
        ["reset-logs"] => live().await.map(|(_, _, workers)| workers),
        ["completion"] => Some(complete::SHELLS.map(String::from).to_vec()),
        _ => None,
    };
    complete::answer(candidates.unwrap_or_default(), &typed.current);
    Ok(())
}
