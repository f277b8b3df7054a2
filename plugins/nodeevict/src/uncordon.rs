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
    /// The nodes to make schedulable
    #[arg(value_name = "NODE", required_unless_present = "selector")]
    pub nodes: Vec<String>,
    /// Select the nodes by label instead (e.g. agentpool=common), as the drain does
    #[arg(short = 'l', long, conflicts_with = "nodes", value_parser = shared::validate::selector)]
    pub selector: Option<String>,
}

pub async fn run(global: &GlobalArgs, args: &UncordonArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let api: Api<Node> = Api::all(target.client.clone());
    let nodes = match &args.selector {
        Some(selector) => crate::drain::nodes_by_selector(&target, selector).await?,
        None => args.nodes.clone(),
    };
    for name in &nodes {
        let node = api
            .get_opt(name)
            .await
            .map_err(|e| target.api_error(e))?
            .ok_or_else(|| {
                Error::Failed(format!(
                    "node {name:?} not found: list them with `{}`",
                    crate::hint::kubectl("get nodes")
                ))
            })?;
        // The uncordon below is conditional on this read: a drain started meanwhile wins.
        crate::journal::observe(&node);
        if node.annotations().contains_key(NODE_ANNOTATION) {
            return Err(Error::Failed(format!(
                "a drain is recorded on node {name}: `{}` undoes it (and uncordons), `{}` finishes it",
                crate::hint::command("abort", &[name]),
                crate::hint::command("resume", &[name])
            )));
        }
    }
    shared::interrupt::changing(format!(
        "some of {} may be uncordoned: running the same command again is safe",
        nodes.join(", ")
    ));
    for name in &nodes {
        crate::journal::write(
            &target,
            name,
            Record::Keep,
            Some(json!({"unschedulable": false})),
        )
        .await?;
        // The result, on stdout (as kubectl uncordon): `| tee` keeps it.
        println!("node/{name} uncordoned");
        crate::execute::include_in_load_balancers(&target, name).await?;
        crate::execute::event(
            &target,
            name,
            crate::execute::Reason::Restored,
            "Uncordoned by kubectl-nodeevict",
        )
        .await;
    }
    Ok(())
}
