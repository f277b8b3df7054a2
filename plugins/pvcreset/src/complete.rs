//! Live completion for `kubectl_complete-pvcreset`: claim names, owners with a recorded reset,
//! StatefulSet names.

use clap::CommandFactory;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use shared::complete::{self, CompleteArgs};

pub async fn run(args: &CompleteArgs) -> shared::Result<()> {
    let typed = complete::parse(&args.words);
    // Without a reachable cluster the subcommands and fixed values are still offered.
    let target = shared::kubeconfig::connect(&typed.global).await.ok();
    let claims = async || -> Vec<String> {
        let Some(target) = &target else {
            return Vec::new();
        };
        Api::<PersistentVolumeClaim>::namespaced(target.client.clone(), &target.namespace)
            .list_metadata(&ListParams::default())
            .await
            .map(|l| l.items.iter().map(|c| c.name_any()).collect())
            .unwrap_or_default()
    };
    let candidates = match (
        typed.flag.as_deref(),
        typed.words.first().map(String::as_str),
    ) {
        (Some("-n" | "--namespace"), _) => complete::namespaces(&typed.global).await,
        (Some("--strategy"), _) => vec!["auto".into(), "pod".into(), "scale".into()],
        (Some("--storage-class"), _) => match &target {
            Some(t) => Api::<StorageClass>::all(t.client.clone())
                .list_metadata(&ListParams::default())
                .await
                .map(|l| l.items.iter().map(|c| c.name_any()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        },
        (Some("--statefulset"), _) => match &target {
            Some(t) => Api::<StatefulSet>::namespaced(t.client.clone(), &t.namespace)
                .list_metadata(&ListParams::default())
                .await
                .map(|l| l.items.iter().map(|s| s.name_any()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        },
        (Some(_), _) => Vec::new(),
        (None, Some("resume" | "abort")) => match &target {
            Some(t) => pvc_reset::status::find(&t.client, Some(&t.namespace))
                .await
                .map(|found| found.iter().map(|r| r.owner.clone()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        },
        (None, Some("restore")) => claims().await,
        (None, Some("completion")) => complete::SHELLS.map(String::from).to_vec(),
        (None, Some("status" | "doctor")) => Vec::new(),
        (None, None) if typed.current.is_empty() || !typed.current.starts_with('-') => {
            let mut all = complete::subcommands(&crate::Cli::command());
            all.extend(claims().await);
            all
        }
        // Further claims after the first.
        (None, Some(_)) => claims().await,
        (None, None) => Vec::new(),
    };
    complete::answer(candidates, &typed.current);
    Ok(())
}
