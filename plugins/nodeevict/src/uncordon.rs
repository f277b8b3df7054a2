//! `kubectl nodeevict uncordon NODE...`: make nodes schedulable again.

use clap::Args;
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::Api;
use serde_json::json;
use shared::{Error, GlobalArgs};

use crate::journal::{NODE_ANNOTATION, Record};

#[derive(Args, Debug, Clone)]
pub struct UncordonArgs {
    #[arg(value_name = "NODE", required = true)]
    pub nodes: Vec<String>,
}

pub async fn run(global: &GlobalArgs, args: &UncordonArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let api: Api<Node> = Api::all(target.client.clone());
    for name in &args.nodes {
        let node = api
            .get_opt(name)
            .await
            .map_err(|e| target.api_error(e))?
            .ok_or_else(|| {
                Error::Failed(format!(
                    "node {name:?} not found: list them with `kubectl get nodes`"
                ))
            })?;
        // The uncordon below is conditional on this read: a drain started meanwhile wins.
        crate::journal::observe(&node);
        if node.annotations().contains_key(NODE_ANNOTATION) {
            return Err(Error::Failed(format!(
                "a drain is recorded on node {name}: `kubectl nodeevict abort {name}` undoes it (and uncordons), `resume` finishes it"
            )));
        }
    }
    shared::interrupt::changing(format!(
        "some of {} may be uncordoned: running the same command again is safe",
        args.nodes.join(", ")
    ));
    for name in &args.nodes {
        crate::journal::write(
            &target,
            name,
            Record::Keep,
            Some(json!({"unschedulable": false})),
        )
        .await?;
        eprintln!("node/{name} uncordoned");
    }
    Ok(())
}
