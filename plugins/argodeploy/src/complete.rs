//! Live completion for `kubectl_complete-argodeploy`: workflow names, instance UUIDs, users.

use clap::CommandFactory;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams};
use shared::complete::{self, CompleteArgs};

use crate::workflow;

pub async fn run(args: &CompleteArgs, keys: &crate::labels::LabelKeys) -> shared::Result<()> {
    let typed = complete::parse(&args.words);
    let workflows = async || -> Vec<DynamicObject> {
        let Ok(target) = shared::kubeconfig::connect(&typed.global).await else {
            return Vec::new();
        };
        Api::<DynamicObject>::namespaced_with(
            target.client.clone(),
            &target.namespace,
            &workflow::resource(),
        )
        .list_metadata(&ListParams::default())
        .await
        .map(|l| {
            l.items
                .into_iter()
                .map(|m| DynamicObject {
                    types: None,
                    metadata: m.metadata,
                    data: serde_json::Value::Null,
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let label_values = |items: &[DynamicObject], key: &str| -> Vec<String> {
        items
            .iter()
            .filter_map(|w| w.labels().get(key).cloned())
            .collect()
    };
    let candidates = match (typed.flag.as_deref(), typed.words.as_slice()) {
        (Some("-n" | "--namespace"), _) => complete::namespaces(&typed.global).await,
        (Some("--username"), _) => label_values(&workflows().await, &keys.user_label),
        (Some("--instance"), _) => label_values(&workflows().await, &keys.instance_label),
        (Some("--status"), _) => ["Pending", "Running", "Succeeded", "Failed", "Error"]
            .map(String::from)
            .to_vec(),
        (Some(_), _) => Vec::new(),
        (None, []) => complete::subcommands(&crate::Cli::command()),
        (None, [sub])
            if matches!(
                sub.as_str(),
                "get"
                    | "logs"
                    | "resubmit"
                    | "retry"
                    | "stop"
                    | "terminate"
                    | "wait"
                    | "watch"
                    | "suspend"
                    | "resume"
            ) =>
        {
            let mut names: Vec<String> = workflows().await.iter().map(|w| w.name_any()).collect();
            names.push(workflow::LATEST.to_string());
            names
        }
        // delete takes several names.
        (None, [sub, ..]) if sub == "delete" => {
            let mut names: Vec<String> = workflows().await.iter().map(|w| w.name_any()).collect();
            names.push(workflow::LATEST.to_string());
            names
        }
        // wait takes several workflows.
        (None, [sub, ..]) if sub == "wait" => {
            workflows().await.iter().map(|w| w.name_any()).collect()
        }
        (None, [sub]) if sub == "completion" => complete::SHELLS.map(String::from).to_vec(),
        (None, [sub]) if sub == "find" => label_values(&workflows().await, &keys.instance_label),
        _ => Vec::new(),
    };
    complete::answer(candidates, &typed.current);
    Ok(())
}
