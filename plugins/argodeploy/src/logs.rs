//! `kubectl argodeploy logs WF [STEP|POD]`: the `main` container of every pod of a workflow,
//! each line prefixed with its step; ordered by time; `-f` picks up new pods and ends when the
//! workflow completes.

use std::collections::HashSet;
use std::time::Duration;

use clap::Args;
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams, LogParams};
use kube::runtime::{WatchStreamExt, watcher};
use regex::Regex;
use shared::{Error, GlobalArgs, Target};
use tokio::sync::mpsc;

use crate::workflow::{self, WORKFLOW_LABEL};

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// The workflow
    pub workflow: String,
    /// Only this step (display name) or pod
    pub step: Option<String>,
    /// Container
    #[arg(short = 'c', long, default_value = "main")]
    pub container: String,
    /// Follow: new pods too, until the workflow completes
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Lines from the end of each log (-1: all)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = shared::validate::tail)]
    pub tail: Option<i64>,
    /// Only lines newer than this (30m, 2h)
    #[arg(long, value_parser = shared::validate::since, conflicts_with = "since_time")]
    pub since: Option<Duration>,
    /// Only lines after this time (RFC 3339, e.g. 2026-11-21T08:49:00Z)
    #[arg(long, value_name = "TIME", value_parser = shared::validate::since_time)]
    pub since_time: Option<jiff::Timestamp>,
    /// Show each line's timestamp
    #[arg(long)]
    pub timestamps: bool,
    /// Only lines matching this regular expression
    #[arg(long, value_name = "RE")]
    pub grep: Option<String>,
}

/// The step a pod runs: the last part of its node name (`wf[1].deploy-playbook` → `deploy-playbook`).
pub fn step_of(pod: &Pod) -> String {
    pod.annotations()
        .get("workflows.argoproj.io/node-name")
        .map(|n| n.rsplit('.').next().unwrap_or(n).to_string())
        .unwrap_or_else(|| pod.name_any())
}

fn wanted(pod: &Pod, step: Option<&str>) -> bool {
    step.is_none_or(|s| pod.name_any() == s || step_of(pod) == s)
}

fn started_at(pod: &Pod) -> Option<jiff::Timestamp> {
    pod.status.as_ref()?.start_time.as_ref().map(|t| t.0)
}

/// Splits `2026-11-17T09:21:00.000000000Z line` into its time and text.
fn split_timestamp(line: &str) -> (Option<jiff::Timestamp>, &str) {
    match line.split_once(' ') {
        Some((t, rest)) => match t.parse() {
            Ok(ts) => (Some(ts), rest),
            Err(_) => (None, line),
        },
        None => (None, line),
    }
}

pub async fn pods_of(target: &Target, namespace: &str, wf: &str) -> shared::Result<Vec<Pod>> {
    let mut pods = Api::<Pod>::namespaced(target.client.clone(), namespace)
        .list(&ListParams::default().labels(&format!("{WORKFLOW_LABEL}={wf}")))
        .await
        .map_err(|e| target.api_error(e))?
        .items;
    pods.sort_by_key(|p| (started_at(p), p.name_any()));
    Ok(pods)
}

/// The last `tail` lines of a pod's container (for `find`).
pub async fn tail(
    target: &Target,
    namespace: &str,
    pod: &str,
    container: &str,
    tail_lines: Option<i64>,
) -> Result<Vec<String>, kube::Error> {
    let lp = LogParams {
        container: Some(container.to_string()),
        tail_lines,
        ..Default::default()
    };
    let text = Api::<Pod>::namespaced(target.client.clone(), namespace)
        .logs(pod, &lp)
        .await?;
    Ok(text.lines().map(String::from).collect())
}

pub async fn run(global: &GlobalArgs, args: &LogsArgs) -> shared::Result<()> {
    let grep = args
        .grep
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| {
            // The regex crate's message spans lines (the pattern, a caret, the reason).
            let reason = e.to_string();
            let reason = reason.lines().last().unwrap_or_default().trim_start_matches("error: ");
            Error::Usage(format!(
                "--grep {:?} is not a regular expression: {reason}; escape special characters with \\",
                args.grep.as_deref().unwrap_or_default()
            ))
        })?;
    let target = shared::kubeconfig::connect(global).await?;
    let ns = target.namespace.clone();
    let wfs: Api<DynamicObject> =
        Api::namespaced_with(target.client.clone(), &ns, &workflow::resource());
    if wfs
        .get_opt(&args.workflow)
        .await
        .map_err(|e| target.api_error(e))?
        .is_none()
    {
        return Err(Error::Failed(format!(
            "workflow {:?} not found in namespace {ns}: `kubectl argodeploy list{}` shows them",
            args.workflow,
            target.scope_flags()
        )));
    }
    if args.follow {
        return follow(&target, &ns, &wfs, args, grep.as_ref()).await;
    }
    let pods = pods_of(&target, &ns, &args.workflow).await?;
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &ns);
    let mut lines: Vec<(Option<jiff::Timestamp>, usize, String)> = Vec::new();
    for (i, pod) in pods
        .iter()
        .filter(|p| wanted(p, args.step.as_deref()))
        .enumerate()
    {
        let lp = LogParams {
            container: Some(args.container.clone()),
            tail_lines: shared::validate::tail_lines(args.tail),
            since_seconds: args.since.map(shared::validate::since_seconds),
            since_time: args.since_time,
            // Always asked with timestamps: they order the lines of all pods.
            timestamps: true,
            ..Default::default()
        };
        let text = match api.logs(&pod.name_any(), &lp).await {
            Ok(text) => text,
            Err(kube::Error::Api(e)) if e.code == 400 => continue, // not started yet
            Err(e) => return Err(target.api_error(e)),
        };
        let step = step_of(pod);
        for line in text.lines() {
            let (ts, rest) = split_timestamp(line);
            if grep.as_ref().is_none_or(|re| re.is_match(rest)) {
                let shown = if args.timestamps {
                    line.to_string()
                } else {
                    rest.to_string()
                };
                lines.push((ts, i, format!("{step}: {shown}")));
            }
        }
    }
    lines.sort_by_key(|(ts, i, _)| (*ts, *i));
    let text: String = lines.into_iter().map(|(_, _, l)| l + "\n").collect();
    shared::output::print_stdout(&text);
    Ok(())
}

fn spawn_stream(
    api: Api<Pod>,
    pod: Pod,
    lp: LogParams,
    grep: Option<Regex>,
    tx: mpsc::Sender<String>,
) {
    tokio::spawn(async move {
        let step = step_of(&pod);
        let Ok(reader) = api.log_stream(&pod.name_any(), &lp).await else {
            return;
        };
        let lines = reader.lines();
        futures::pin_mut!(lines);
        while let Some(Ok(line)) = lines.next().await {
            let body = if lp.timestamps {
                split_timestamp(&line).1
            } else {
                line.as_str()
            };
            if grep.as_ref().is_none_or(|re| re.is_match(body))
                && tx.send(format!("{step}: {line}")).await.is_err()
            {
                return;
            }
        }
    });
}

async fn follow(
    target: &Target,
    ns: &str,
    wfs: &Api<DynamicObject>,
    args: &LogsArgs,
    grep: Option<&Regex>,
) -> shared::Result<()> {
    let api: Api<Pod> = Api::namespaced(target.client.clone(), ns);
    let (tx, mut rx) = mpsc::channel::<String>(1024);
    let mut followed: HashSet<String> = HashSet::new();
    let events = watcher(
        api.clone(),
        watcher::Config::default().labels(&format!("{WORKFLOW_LABEL}={}", args.workflow)),
    )
    .default_backoff()
    .applied_objects();
    futures::pin_mut!(events);
    let mut check = tokio::time::interval(Duration::from_secs(1));
    let mut completed_since: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            event = events.try_next() => match event {
                Ok(Some(pod)) => {
                    let started = pod.status.as_ref().and_then(|s| s.phase.as_deref()).is_some_and(|p| p != "Pending");
                    if started && wanted(&pod, args.step.as_deref()) && followed.insert(pod.uid().unwrap_or_default()) {
                        let lp = LogParams {
                            container: Some(args.container.clone()),
                            follow: true,
                            tail_lines: shared::validate::tail_lines(args.tail),
                            since_seconds: args.since.map(shared::validate::since_seconds),
                            since_time: args.since_time,
                            timestamps: args.timestamps,
                            ..Default::default()
                        };
                        spawn_stream(api.clone(), pod, lp, grep.cloned(), tx.clone());
                    }
                }
                Ok(None) => return Ok(()),
                Err(e) => tracing::debug!("pod watch error, retrying: {e}"),
            },
            Some(line) = rx.recv() => shared::output::print_stdout(&format!("{line}\n")),
            _ = check.tick() => {
                match completed_since {
                    // Give the last lines a moment to arrive once the workflow is done.
                    Some(at) if at.elapsed() >= Duration::from_secs(2) => {
                        while let Ok(line) = rx.try_recv() {
                            shared::output::print_stdout(&format!("{line}\n"));
                        }
                        eprintln!("workflow {} completed", args.workflow);
                        return Ok(());
                    }
                    Some(_) => {}
                    None => {
                        if let Ok(Some(wf)) = wfs.get_opt(&args.workflow).await
                            && workflow::is_completed(&wf)
                        {
                            completed_since = Some(tokio::time::Instant::now());
                        }
                    }
                }
            }
        }
    }
}
