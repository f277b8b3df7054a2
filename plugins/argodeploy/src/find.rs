//! `kubectl argodeploy find INSTANCE_UUID`: every workflow of an instance, newest first; for the
//! newest, its phase, the failing steps with their messages and the failing step's log tail.

use clap::Args;
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DynamicObject;
use serde_json::{Map, Value};
use shared::{Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::list::{self, ListArgs, ReadError};
use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct FindArgs {
    /// The instance's UUID
    #[arg(value_parser = shared::validate::label_value)]
    pub instance: String,
    /// Look in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Log lines of the failing step to show (-1: all)
    #[arg(long, default_value_t = 20, allow_negative_numbers = true, value_parser = shared::validate::tail)]
    pub tail: i64,
}

/// The failing steps of a workflow's nodes (pure): Pod nodes Failed or Error, with their
/// messages, in the order they started.
pub fn failing_steps(nodes: &Map<String, Value>) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String, String)> = nodes
        .values()
        .filter(|n| n["type"] == "Pod" && matches!(n["phase"].as_str(), Some("Failed" | "Error")))
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or("").to_string();
            (s("startedAt"), s("displayName"), s("name"), s("message"))
        })
        .collect();
    out.sort();
    out.into_iter()
        .map(|(_, display, name, message)| (display, name, message))
        .collect()
}

/// Each failing step with its message and the tail of its pod's `main` log (the workflow's
/// pods listed once).
async fn failing_steps_text(
    target: &shared::Target,
    newest: &DynamicObject,
    failing: &[(String, String, String)],
    tail: i64,
) -> shared::Result<String> {
    let mut out = String::new();
    let ns = newest.namespace().unwrap_or_default();
    let pods = crate::logs::pods_of(target, &ns, &newest.name_any()).await?;
    for (display, node_name, message) in failing {
        out.push_str(&format!(
            "failing step {display}: {}\n",
            if message.is_empty() {
                "(no message)"
            } else {
                message
            }
        ));
        let pod = pods.iter().find(|p| {
            p.annotations()
                .get("workflows.argoproj.io/node-name")
                .map(String::as_str)
                == Some(node_name.as_str())
        });
        let Some(pod) = pod else {
            out.push_str("  (its pod is gone: no log to show)\n");
            continue;
        };
        let lines = crate::logs::tail(
            target,
            &ns,
            &pod.name_any(),
            "main",
            shared::validate::tail_lines(Some(tail)),
        )
        .await;
        match lines {
            Ok(lines) => {
                out.push_str(&format!(
                    "last {} lines of {} (main):\n",
                    lines.len(),
                    pod.name_any()
                ));
                for l in lines {
                    out.push_str(&format!("  {l}\n"));
                }
            }
            Err(e) => out.push_str(&format!("  (its log cannot be read: {e})\n")),
        }
    }
    Ok(out)
}

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &FindArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let api = workflow::api(&target, args.all_namespaces);
    let now = Timestamp::now();
    let query = ListArgs {
        instance: Some(args.instance.clone()),
        chunk_size: 500,
        ..Default::default()
    };
    let mut items = match list::read(&api, &query, keys, now).await {
        Ok(items) => items,
        Err(ReadError::Usage(e)) => return Err(e),
        Err(ReadError::Api(e)) => return Err(target.api_error(e)),
    };
    if items.is_empty() {
        let scope = if args.all_namespaces {
            "any namespace".to_string()
        } else {
            format!("namespace {} (try -A)", target.namespace)
        };
        return Err(Error::Failed(format!(
            "no workflow of instance {} in {scope}",
            args.instance
        )));
    }
    items.sort_by_key(|wf| std::cmp::Reverse(workflow::created(wf)));
    let rows: Vec<list::Row> = items.iter().map(|wf| list::row(wf, keys, now)).collect();
    let mut out = format!("Workflows of instance {} (newest first)\n", args.instance);
    out.push_str(&list::render(&rows, false, args.all_namespaces));
    let newest = &items[0];
    out.push_str(&format!(
        "\nNewest: {} — {}",
        newest.name_any(),
        workflow::phase(newest)
    ));
    let message = workflow::message(newest);
    if !message.is_empty() {
        out.push_str(&format!(": {message}"));
    }
    out.push('\n');
    // Compressed node status is read as `get` reads it; one the API does not hold (offloaded)
    // is said, and the rest of the answer stands.
    let failing = match workflow::nodes(newest) {
        Ok(nodes) => failing_steps(&nodes),
        Err(reason) => {
            out.push_str(&format!("(steps not shown: {reason})\n"));
            Vec::new()
        }
    };
    if !failing.is_empty() {
        out.push_str(&failing_steps_text(&target, newest, &failing, args.tail).await?);
    }
    if failing.is_empty() && matches!(workflow::phase(newest).as_str(), "Failed" | "Error") {
        out.push_str("no failed step recorded (the workflow itself failed)\n");
    }
    shared::output::print_stdout(&out);
    Ok(())
}
