//! `kubectl nodeevict status`: drains in progress or interrupted, from the node journals.

use clap::Args;
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde::Serialize;
use shared::lease::Liveness;
use shared::output::{self, OutputFormat, Table};
use shared::{Error, GlobalArgs};

use crate::journal::{NODE_ANNOTATION, NodeJournal};

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// Output format: table, json or yaml
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub node: String,
    pub cordoned: bool,
    pub journal: NodeJournal,
    /// The run still carrying the drain out, if one is (`process PID on HOST`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// Why a resume or abort must wait for that run (None when it has stopped).
    #[serde(skip)]
    pub busy: Option<String>,
}

impl Recorded {
    /// Refuses, before any change, to resume or abort a drain another run is carrying out.
    pub fn refuse_if_running(&self) -> shared::Result<()> {
        match &self.busy {
            Some(why) => Err(Error::Failed(why.clone())),
            None => Ok(()),
        }
    }
}

/// Every node with a drain journal (one list request).
pub async fn find(client: &kube::Client) -> Result<Vec<Recorded>, kube::Error> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await?;
    let mut found = Vec::new();
    for n in &nodes.items {
        let Some(text) = n.annotations().get(NODE_ANNOTATION) else {
            continue;
        };
        // A resume or abort that follows writes only over the journal as read here.
        crate::journal::observe(n);
        match NodeJournal::from_annotation(text) {
            Ok(journal) => found.push(Recorded {
                running: match crate::journal::liveness(n) {
                    Liveness::Running { host, pid, .. } => Some(format!("process {pid} on {host}")),
                    Liveness::Stopped => None,
                },
                busy: crate::journal::refuse_if_running(n)
                    .err()
                    .map(|e| e.to_string()),
                node: n.name_any(),
                cordoned: n
                    .spec
                    .as_ref()
                    .and_then(|s| s.unschedulable)
                    .unwrap_or(false),
                journal,
            }),
            Err(e) => tracing::warn!("{}: {e}", n.name_any()),
        }
    }
    Ok(found)
}

pub fn render(found: &[Recorded]) -> String {
    let mut table = Table::new(&[
        "node",
        "step",
        "cordoned",
        "pre-scaled",
        "started",
        "running",
    ]);
    for r in found {
        table.row([
            r.node.clone(),
            crate::execute::step_name(r.journal.step),
            r.cordoned.to_string(),
            r.journal
                .prescaled
                .iter()
                .map(|p| format!("{}/{} {}→{}", p.namespace, p.name, p.original, p.target))
                .collect::<Vec<_>>()
                .join(", "),
            r.journal.started.clone(),
            r.running
                .clone()
                .unwrap_or_else(|| "no (interrupted)".into()),
        ]);
    }
    table.render()
}

pub async fn run(global: &GlobalArgs, args: &StatusArgs) -> shared::Result<()> {
    if matches!(args.output, OutputFormat::Name | OutputFormat::Wide) {
        return Err(Error::Usage(
            "status supports -o table, json or yaml".into(),
        ));
    }
    let target = shared::kubeconfig::connect(global).await?;
    let found = find(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    let text = match args.output {
        OutputFormat::Json => output::to_json(&serde_json::json!({ "items": found }))?,
        OutputFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": found }))?,
        _ if found.is_empty() => {
            eprintln!("No drain in progress.");
            return Ok(());
        }
        _ => {
            let nodes: Vec<&str> = found.iter().map(|r| r.node.as_str()).collect();
            format!(
                "{}\n`{}` finishes {}; `{}` undoes {}.\n",
                render(&found),
                crate::hint::command("resume", &[]),
                if nodes.len() == 1 { "it" } else { "them" },
                crate::hint::command("abort", &nodes),
                if nodes.len() == 1 { "it" } else { "them" },
            )
        }
    };
    output::print_stdout(&text);
    Ok(())
}
