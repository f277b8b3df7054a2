//! `kubectl nodeevict status`: drains in progress or interrupted, from the node journals.

use clap::Args;
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde::Serialize;
use shared::lease::Liveness;
use shared::output::{self, PlanFormat, Table};
use shared::{Error, GlobalArgs};

use crate::journal::{NODE_ANNOTATION, NodeJournal};

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub node: String,
    pub cordoned: bool,
    pub journal: NodeJournal,
    /// The run still carrying the drain out, if one is (`pid PID on HOST`).
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
                    Liveness::Running { host, pid, .. } => Some(format!("pid {pid} on {host}")),
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

/// The recorded drains as the plan of a resume or abort: the table on stderr, or `-o json|yaml`
/// on stdout (before the confirmation, as a drain's plan).
pub fn show(format: PlanFormat, found: &[Recorded]) -> shared::Result<()> {
    let document = || serde_json::json!({ "items": found });
    match format {
        PlanFormat::Json => output::print_stdout(&output::to_json(&document())?),
        PlanFormat::Yaml => output::print_stdout(&output::to_yaml(&document())?),
        PlanFormat::Table => eprint!("{}", render_plan(found)),
    }
    Ok(())
}

/// The recorded drains as a table that fits 120 columns (pure): the pre-scaled owners are
/// counted here and listed by [`render_plan`] and `-o json`.
pub fn render(found: &[Recorded]) -> String {
    render_at(found, jiff::Timestamp::now())
}

fn render_at(found: &[Recorded], now: jiff::Timestamp) -> String {
    let mut table = Table::new(&["node", "step", "cordoned", "pre-scaled", "age", "running"]);
    for r in found {
        table.row([
            r.node.clone(),
            crate::execute::step_name(r.journal.step),
            r.cordoned.to_string(),
            // How many Deployments; render_plan and -o json list them.
            r.journal.prescaled.len().to_string(),
            shared::duration::age(r.journal.started.parse().ok(), now),
            r.running.clone().unwrap_or_else(|| "no".into()),
        ]);
    }
    table.render()
}

/// Each recorded `--force-after` deadline, a line per node (the table has no room for it).
fn deadlines(found: &[Recorded]) -> String {
    found
        .iter()
        .filter_map(|r| {
            let at = crate::deadline::of_journal(&r.journal)?;
            let after = r.journal.options.force_after_seconds?;
            Some(format!(
                "{}: deadline {} (--force-after {}): pods a budget still refuses are deleted then, each its grace period earlier\n",
                r.node,
                crate::deadline::stamp(at),
                shared::duration::format(std::time::Duration::from_secs(after))
            ))
        })
        .collect()
}

/// The table, then each recorded deadline and each pre-scaled owner and the count it goes back
/// to: the plan of a resume or an abort.
pub fn render_plan(found: &[Recorded]) -> String {
    let mut text = render(found);
    text.push_str(&deadlines(found));
    for r in found {
        for p in &r.journal.prescaled {
            text.push_str(&format!(
                "{}: deployment {}/{} pre-scaled {} → {}\n",
                r.node, p.namespace, p.name, p.original, p.target
            ));
        }
    }
    text
}

pub async fn run(global: &GlobalArgs, args: &StatusArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let found = find(&target.client)
        .await
        .map_err(|e| target.api_error(e))?;
    let text = match args.output {
        PlanFormat::Json => output::to_json(&serde_json::json!({ "items": found }))?,
        PlanFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": found }))?,
        PlanFormat::Table if found.is_empty() => {
            eprintln!("No drain in progress.");
            return Ok(());
        }
        PlanFormat::Table => {
            let nodes: Vec<&str> = found.iter().map(|r| r.node.as_str()).collect();
            format!(
                "{}{}\n`{}` finishes {};\n`{}` undoes {}.\n",
                render(&found),
                deadlines(&found),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Options, Prescale, Step};

    #[test]
    fn the_table_fits_120_columns_with_long_names() {
        let prescale = |name: &str| Prescale {
            namespace: "astronomer-ee-lunar-nuclear-3725".into(),
            name: name.into(),
            original: 1,
            target: 2,
            hpa: None,
            scaled_object: None,
        };
        let recorded = Recorded {
            node: "aks-common-12345678-vmss00000a".into(),
            cordoned: true,
            journal: NodeJournal {
                step: Step::Prescaled,
                started: "2026-01-01T00:00:00Z".into(),
                options: Options::default(),
                was_unschedulable: false,
                prescaled: vec![
                    prescale("lunar-nuclear-3725-webserver"),
                    prescale("lunar-nuclear-3725-scheduler"),
                ],
                touched: Vec::new(),
                excluded_from_lbs: false,
                deadline: None,
            },
            running: Some("pid 4194303 on build-runner-7f9c6d5b8-x2x9q".into()),
            busy: None,
        };
        let now: jiff::Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let text = render_at(&[recorded.clone(), recorded.clone()], now);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 120,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(row[3..5], ["2", "5m"], "{text}");
        assert!(!render_plan(std::slice::from_ref(&recorded)).contains("deadline"));
        let mut timed = recorded;
        timed.journal.options.force_after_seconds = Some(600);
        timed.journal.deadline = Some("2026-01-01T00:10:00Z".into());
        assert!(
            render_plan(&[timed]).contains(
                "aks-common-12345678-vmss00000a: deadline 2026-01-01T00:10:00Z (--force-after 10m): pods a budget still refuses are deleted then"
            )
        );
    }
}
