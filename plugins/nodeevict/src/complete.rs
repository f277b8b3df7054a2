//! Live completion for `kubectl_complete-nodeevict`: node names (and drains in progress).

use clap::CommandFactory;
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use shared::complete::{self, CompleteArgs};

pub async fn run(args: &CompleteArgs) -> shared::Result<()> {
    let typed = complete::parse(&args.words);
    let nodes = async || -> Vec<String> {
        let Ok(target) = shared::kubeconfig::connect(&typed.global).await else {
            return Vec::new();
        };
        Api::<Node>::all(target.client.clone())
            .list_metadata(&ListParams::default())
            .await
            .map(|l| l.items.iter().map(|n| n.name_any()).collect())
            .unwrap_or_default()
    };
    let candidates = match (
        typed.flag.as_deref(),
        typed.words.first().map(String::as_str),
    ) {
        (Some("--prescale"), _) => vec!["auto".into(), "off".into()],
        (Some(_), _) => Vec::new(),
        (None, Some("completion")) => complete::SHELLS.map(String::from).to_vec(),
        (None, Some("status" | "doctor")) => Vec::new(),
        (None, None) => {
            let mut all = complete::subcommands(&crate::Cli::command());
            all.extend(nodes().await);
            all
        }
        (None, Some(_)) => nodes().await,
    };
    complete::answer(candidates, &typed.current);
    Ok(())
}
