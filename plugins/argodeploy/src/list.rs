//! `kubectl argodeploy list`: argo list's semantics over the Kubernetes API. Label filters go
//! to the server; `--since`, `--older` and `--prefix` are applied after paging, on every page,
//! so no match is dropped.

use std::time::Duration;

use clap::Args;
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams};
use owo_colors::{OwoColorize, Stream};
use serde::Serialize;
use shared::output::{self, ListFormat, OutputFormat, Table};
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
    /// Output format (wide adds MESSAGE, P/R/C and PARAMETERS)
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
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

/// A phase as a terminal shows it: Failed and Error in red, as kubectl-style tools colour
/// failures (plain when stdout is no terminal, with NO_COLOR or --no-color).
pub fn coloured_phase(phase: &str) -> String {
    if matches!(phase, "Failed" | "Error") {
        phase
            .if_supports_color(Stream::Stdout, |p| p.red().to_string())
            .to_string()
    } else {
        phase.to_string()
    }
}

/// The workflows as a table. The default columns fit 120 characters with the instance UUID
/// and `-A`'s namespace (as kubectl's `get`, the rest is `-o wide`'s): the message, often a
/// long one, is wide only.
pub fn render(rows: &[Row], wide: bool, namespaces: bool) -> String {
    let mut headers = Vec::new();
    if namespaces {
        headers.push("namespace");
    }
    headers.extend(["name", "status", "age", "duration", "user", "instance"]);
    if wide {
        headers.extend(["message", "p/r/c", "parameters"]);
    }
    let mut table = Table::new(&headers);
    for r in rows {
        let mut cells = Vec::new();
        if namespaces {
            cells.push(r.namespace.clone());
        }
        cells.extend([
            r.name.clone(),
            coloured_phase(&r.status),
            r.age.clone(),
            r.duration.clone(),
            r.user.clone(),
            r.instance.clone(),
        ]);
        if wide {
            cells.extend([r.message.clone(), r.prc.clone(), r.parameters.clone()]);
        }
        table.row(cells);
    }
    table.render()
}

/// `list`'s filters as command-line words (shell-quoted, each with a leading space), so a
/// printed suggestion repeats the same query.
pub fn filter_flags(args: &ListArgs) -> String {
    use shared::shell::word;
    let mut out = String::new();
    let mut flag = |name: &str, value: &str| out.push_str(&format!(" {name} {}", word(value)));
    if let Some(u) = &args.deployer {
        flag("--username", u);
    }
    if let Some(i) = &args.instance {
        flag("--instance", i);
    }
    if !args.status.is_empty() {
        flag("--status", &args.status.join(","));
    }
    if let Some(d) = args.since {
        flag("--since", &shared::duration::format(d));
    }
    if let Some(d) = args.older {
        flag("--older", &shared::duration::format(d));
    }
    if let Some(l) = &args.selector {
        flag("-l", l);
    }
    if let Some(p) = &args.prefix {
        flag("--prefix", p);
    }
    if args.running {
        out.push_str(" --running");
    }
    if args.completed {
        out.push_str(" --completed");
    }
    out
}

/// What an empty list says (on stderr, as kubectl's "No resources found"): where it looked,
/// and, for one namespace, the pasteable command that looks in all of them.
pub fn nothing_found(args: &ListArgs, keys: &LabelKeys, target: &shared::Target) -> String {
    if args.all_namespaces {
        return "No workflows found in any namespace.".to_string();
    }
    format!(
        "No workflows found in namespace {}: `kubectl argodeploy list -A{}{}{}` looks in every namespace.",
        target.namespace,
        filter_flags(args),
        keys.given_flags(),
        target.given_flags
    )
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
    let text = match OutputFormat::from(args.output) {
        OutputFormat::Json => output::to_json(&serde_json::json!({ "items": rows }))?,
        OutputFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": rows }))?,
        OutputFormat::Name => rows
            .iter()
            .map(|r| format!("workflow.argoproj.io/{}\n", r.name))
            .collect(),
        _ if rows.is_empty() => {
            eprintln!("{}", nothing_found(args, keys, &target));
            return Ok(());
        }
        format => render(&rows, format == OutputFormat::Wide, args.all_namespaces),
    };
    output::print_stdout(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn row(name: &str, status: &str, message: &str) -> Row {
        Row {
            namespace: "atmosphere".into(),
            name: name.into(),
            status: status.into(),
            age: "11d".into(),
            duration: "10h".into(),
            message: message.into(),
            user: "asmith".into(),
            instance: "e5121482-3929-4d22-a255-accb1a466884".into(),
            prc: "0/0/3".into(),
            parameters: "instance_uuid=e5121482-3929-4d22-a255-accb1a466884,username=asmith,playbook=deploy-instance.yml".into(),
        }
    }

    #[test]
    fn the_default_table_fits_120_columns_and_wide_has_the_rest() {
        let rows = [
            row("deploy-e5121482-wwmms", "Succeeded", ""),
            row(
                "dag-with-retries-4wkh8",
                "Failed",
                "child 'deploy-playbook' failed",
            ),
        ];
        let text = render(&rows, false, true);
        let header = text.lines().next().unwrap();
        assert_eq!(
            header.split_whitespace().collect::<Vec<_>>(),
            [
                "NAMESPACE",
                "NAME",
                "STATUS",
                "AGE",
                "DURATION",
                "USER",
                "INSTANCE"
            ]
        );
        for line in text.lines() {
            assert!(
                line.chars().count() <= 120,
                "{} columns: {line}",
                line.len()
            );
        }
        let wide = render(&rows, true, true);
        let header = wide.lines().next().unwrap();
        for column in ["MESSAGE", "P/R/C", "PARAMETERS"] {
            assert!(header.contains(column), "{header}");
        }
        assert!(wide.contains("child 'deploy-playbook' failed"), "{wide}");
    }

    #[test]
    fn filter_flags_repeat_the_same_query() {
        let words = [
            "kubectl-argodeploy",
            "list",
            "--username",
            "jdoe",
            "--instance",
            "e5121482",
            "--status",
            "Failed,Error",
            "--since",
            "1h30m",
            "--older",
            "2d",
            "-l",
            "tier in (web,db)",
            "--prefix",
            "deploy-",
            "--completed",
        ];
        let parse = |words: &[&str]| match crate::Cli::try_parse_from(words).unwrap().command {
            crate::Command::List(args) => args,
            other => panic!("{other:?}"),
        };
        let first = parse(&words);
        let flags = filter_flags(&first);
        assert!(flags.contains(" -l 'tier in (web,db)'"), "{flags}");
        // The printed words, unquoted as a shell would, parse to the same filters.
        let mut again = vec!["kubectl-argodeploy".to_string(), "list".to_string()];
        let mut rest = flags.as_str();
        while let Some(start) = rest.find(|c: char| c != ' ') {
            rest = &rest[start..];
            let (word, tail) = if let Some(quoted) = rest.strip_prefix('\'') {
                let end = quoted.find('\'').unwrap();
                (quoted[..end].to_string(), &quoted[end + 1..])
            } else {
                let end = rest.find(' ').unwrap_or(rest.len());
                (rest[..end].to_string(), &rest[end..])
            };
            again.push(word);
            rest = tail;
        }
        let second = parse(&again.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(format!("{first:?}"), format!("{second:?}"));
    }
}
