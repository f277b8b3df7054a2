//! `kubectl argodeploy list`: argo list's semantics over the Kubernetes API. Label filters go
//! to the server; `--since`, `--older` and `--prefix` are applied after paging, on every page,
//! so no match is dropped.

use std::time::Duration;

use clap::Args;
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams};
use serde::Serialize;
use shared::output::{self, OutputFormat, Table};
use shared::{Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::workflow::{self, COMPLETED_LABEL, PHASE_LABEL};

#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// Every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only the workflows this user deployed (kubectl's --user stays the kubeconfig user)
    #[arg(long = "username", value_name = "USER", value_parser = shared::validate::label_value)]
    pub deployer: Option<String>,
    /// Only this instance's workflows
    #[arg(long, value_parser = shared::validate::label_value)]
    pub instance: Option<String>,
    /// Only these phases (comma-separated: Running,Succeeded,Failed,Error,Pending)
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only unfinished workflows
    #[arg(long, conflicts_with = "completed")]
    pub running: bool,
    /// Only finished workflows
    #[arg(long)]
    pub completed: bool,
    /// Only workflows created within this long (30m, 2h, 7d)
    #[arg(long, value_parser = shared::validate::since)]
    pub since: Option<Duration>,
    /// Only workflows that finished longer ago than this (30m, 2h, 7d)
    #[arg(long, value_parser = shared::duration::parse)]
    pub older: Option<Duration>,
    /// Extra label selector
    #[arg(short = 'l', long, value_parser = shared::validate::selector)]
    pub selector: Option<String>,
    /// Only names starting with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// Workflows per page
    #[arg(long, default_value_t = 500)]
    pub chunk_size: u32,
    /// Output format: table, wide, json, yaml or name
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

const PHASES: &[&str] = &["Pending", "Running", "Succeeded", "Failed", "Error"];

/// The server-side label selector (pure).
pub fn selector(args: &ListArgs, keys: &LabelKeys) -> shared::Result<String> {
    let mut parts = vec![keys.instance_selector()];
    if let Some(u) = &args.deployer {
        parts.push(format!("{}={u}", keys.user_label));
    }
    if let Some(i) = &args.instance {
        parts.push(format!("{}={i}", keys.instance_label));
    }
    if !args.status.is_empty() {
        let mut phases = Vec::new();
        for s in &args.status {
            let canonical = PHASES
                .iter()
                .find(|p| p.eq_ignore_ascii_case(s.trim()))
                .ok_or_else(|| {
                    Error::Usage(format!("unknown status {s:?}: use {}", PHASES.join(", ")))
                })?;
            phases.push(*canonical);
        }
        parts.push(format!("{PHASE_LABEL} in ({})", phases.join(",")));
    }
    if args.running {
        parts.push(format!("{COMPLETED_LABEL}!=true"));
    }
    if args.completed {
        parts.push(format!("{COMPLETED_LABEL}=true"));
    }
    if let Some(l) = &args.selector {
        parts.push(l.clone());
    }
    Ok(parts.join(","))
}

/// The client-side filters (pure): creation within `since`, finished before `older`, prefix.
pub fn keep(wf: &DynamicObject, args: &ListArgs, now: Timestamp) -> bool {
    let since_ok = args.since.is_none_or(|d| {
        workflow::created(wf).is_some_and(|c| now.duration_since(c).as_secs() <= d.as_secs() as i64)
    });
    let older_ok = args.older.is_none_or(|d| {
        workflow::finished(wf)
            .is_some_and(|f| now.duration_since(f).as_secs() >= d.as_secs() as i64)
    });
    let prefix_ok = args
        .prefix
        .as_deref()
        .is_none_or(|p| wf.name_any().starts_with(p));
    since_ok && older_ok && prefix_ok
}

/// Reads every page and keeps the matches, sorted as argo sorts them.
pub async fn read(
    api: &Api<DynamicObject>,
    args: &ListArgs,
    keys: &LabelKeys,
    now: Timestamp,
) -> Result<Vec<DynamicObject>, ReadError> {
    let selector = selector(args, keys).map_err(ReadError::Usage)?;
    let mut params = ListParams::default()
        .labels(&selector)
        .limit(args.chunk_size.max(1));
    let mut out = Vec::new();
    loop {
        let page = api.list(&params).await.map_err(ReadError::Api)?;
        out.extend(page.items.into_iter().filter(|wf| keep(wf, args, now)));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    workflow::sort(&mut out);
    Ok(out)
}

pub enum ReadError {
    Usage(Error),
    Api(kube::Error),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub namespace: String,
    pub name: String,
    pub status: String,
    pub age: String,
    pub duration: String,
    pub message: String,
    pub user: String,
    pub instance: String,
    /// Pod steps pending/running/completed (wide).
    pub prc: String,
    pub parameters: String,
}

pub fn row(wf: &DynamicObject, keys: &LabelKeys, now: Timestamp) -> Row {
    let (mut p, mut r, mut c) = (0, 0, 0);
    // Compressed node status counts too; an offloaded one is not in the API: "?".
    let nodes = workflow::nodes(wf);
    for n in nodes
        .iter()
        .flat_map(|m| m.values())
        .filter(|n| n["type"] == "Pod")
    {
        match n["phase"].as_str() {
            Some("Pending") | None => p += 1,
            Some("Running") => r += 1,
            _ => c += 1,
        }
    }
    Row {
        namespace: wf.namespace().unwrap_or_default(),
        name: wf.name_any(),
        status: workflow::phase(wf),
        age: shared::duration::age(workflow::created(wf), now),
        duration: workflow::duration(wf, now).map_or_else(|| "0s".into(), workflow::short_duration),
        message: workflow::message(wf),
        user: wf
            .labels()
            .get(&keys.user_label)
            .cloned()
            .unwrap_or_default(),
        instance: wf
            .labels()
            .get(&keys.instance_label)
            .cloned()
            .unwrap_or_default(),
        prc: if nodes.is_ok() {
            format!("{p}/{r}/{c}")
        } else {
            "?".to_string()
        },
        parameters: workflow::parameters(wf)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

pub fn render(rows: &[Row], wide: bool, namespaces: bool) -> String {
    let mut headers = Vec::new();
    if namespaces {
        headers.push("namespace");
    }
    headers.extend([
        "name", "status", "age", "duration", "message", "user", "instance",
    ]);
    if wide {
        headers.extend(["p/r/c", "parameters"]);
    }
    let mut table = Table::new(&headers);
    for r in rows {
        let mut cells = Vec::new();
        if namespaces {
            cells.push(r.namespace.clone());
        }
        cells.extend([
            r.name.clone(),
            r.status.clone(),
            r.age.clone(),
            r.duration.clone(),
            r.message.clone(),
            r.user.clone(),
            r.instance.clone(),
        ]);
        if wide {
            cells.extend([r.prc.clone(), r.parameters.clone()]);
        }
        table.row(cells);
    }
    table.render()
}

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &ListArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let api = workflow::api(&target, args.all_namespaces);
    let now = Timestamp::now();
    let items = match read(&api, args, keys, now).await {
        Ok(items) => items,
        Err(ReadError::Usage(e)) => return Err(e),
        Err(ReadError::Api(e)) => return Err(target.api_error(e)),
    };
    let rows: Vec<Row> = items.iter().map(|wf| row(wf, keys, now)).collect();
    let text = match args.output {
        OutputFormat::Json => output::to_json(&serde_json::json!({ "items": rows }))?,
        OutputFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": rows }))?,
        OutputFormat::Name => rows.iter().map(|r| format!("{}\n", r.name)).collect(),
        _ if rows.is_empty() => {
            eprintln!("No workflows found.");
            return Ok(());
        }
        format => render(&rows, format == OutputFormat::Wide, args.all_namespaces),
    };
    output::print_stdout(&text);
    Ok(())
}
