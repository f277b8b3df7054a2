//! `kubectl airflow logs COMPONENT [RELEASE]`: the logs of every pod of a component, each line
//! prefixed with its pod; with `-f`, pods created later (after a restart) are followed too;
//! `-p` the attempt before a restart (why it crashed), `--grep` only matching lines, `-o json`
//! one JSON object a line for piping.

use std::time::Duration;

use clap::{Args, ValueEnum};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, LogParams};
use shared::follow::{Follow, LineFilter, PodStream, json_line, split_timestamp};
use shared::{Error, GlobalArgs, Target};

use crate::discovery::{self, AirflowDeployment};

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// Component whose pods to read (scheduler, worker or workers, …)
    pub component: String,
    /// The Airflow release (implicit when the namespace holds only one)
    pub release: Option<String>,
    /// Keep streaming, and pick up pods created later
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Lines of recent log per pod (-1: all)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = shared::validate::tail)]
    pub tail: Option<i64>,
    /// Only lines newer than this (e.g. 10m, 1h)
    #[arg(long, value_name = "DURATION", value_parser = shared::validate::since, conflicts_with = "since_time")]
    pub since: Option<Duration>,
    /// Only lines after this time (RFC 3339, e.g. 2026-11-21T08:49:00Z)
    #[arg(long, value_name = "TIME", value_parser = shared::validate::since_time)]
    pub since_time: Option<k8s_openapi::jiff::Timestamp>,
    /// Container (default: the one named like the component, else the first)
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Prefix each line with its timestamp
    #[arg(long)]
    pub timestamps: bool,
    /// The previous attempt of each container (the one that crashed before the restart)
    #[arg(short = 'p', long, conflicts_with = "follow")]
    pub previous: bool,
    /// Only lines matching this regular expression
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Output: text (each line after its pod) or json (one object a line: pod, container,
    /// time, line)
    #[arg(short = 'o', long, value_enum, default_value_t = LogFormat::Text)]
    pub output: LogFormat,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The component name as the labels spell it (`workers` → `worker`), or the valid ones.
pub fn component<'a>(d: &'a AirflowDeployment, asked: &str) -> shared::Result<&'a str> {
    let wanted = if asked == "workers" { "worker" } else { asked };
    d.components
        .keys()
        .find(|k| *k == wanted)
        .map(String::as_str)
        .ok_or_else(|| {
            let valid: Vec<&str> = d.components.keys().map(String::as_str).collect();
            Error::Usage(format!(
                "unknown component {asked:?} in {}: use one of {}",
                d.release,
                valid.join(", ")
            ))
        })
}

/// The container to read in a pod.
fn container_of(pod: &Pod, component: &str, asked: Option<&str>) -> Option<String> {
    if let Some(c) = asked {
        return Some(c.to_string());
    }
    let names: Vec<String> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    names
        .iter()
        .find(|n| n.as_str() == component)
        .or(names.first())
        .cloned()
}

/// `[pod] ` in a colour of its own on a terminal.
fn prefix(pod: &str, index: usize) -> String {
    shared::follow::prefix(&format!("[{pod}]"), index, true)
}

fn running(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

/// `-f`: every running pod of the component, and those that start later (read from their
/// start), until interrupted.
async fn follow(
    target: &Target,
    d: &AirflowDeployment,
    component: &str,
    args: &LogsArgs,
    grep: Option<regex::Regex>,
) -> shared::Result<()> {
    let follower = Follow {
        api: Api::namespaced(target.client.clone(), &d.namespace),
        selector: format!(
            "{},release={},component={component}",
            discovery::AIRFLOW_SELECTOR,
            d.release
        ),
        window: window(args, None),
        new_pods_from_start: true,
        colours: true,
        report_stream_errors: true,
        filter: grep.map(|re| -> LineFilter { std::sync::Arc::new(move |text| re.is_match(text)) }),
        json: args.output == LogFormat::Json,
    };
    let select = |pod: &Pod, _index: usize| {
        running(pod).then(|| PodStream {
            container: container_of(pod, component, args.container.as_deref()),
            label: format!("[{}]", pod.name_any()),
        })
    };
    follower
        .run(select, std::future::pending(), Duration::ZERO)
        .await
}

/// The log window asked of every pod: `--tail`, `--since`/`--since-time`, `--timestamps`
/// (always with `-o json`: each object carries its line's time), `--previous`.
fn window(args: &LogsArgs, container: Option<String>) -> LogParams {
    LogParams {
        container,
        tail_lines: shared::validate::tail_lines(args.tail),
        since_seconds: args.since.map(shared::validate::since_seconds),
        since_time: args.since_time,
        timestamps: args.timestamps || args.output == LogFormat::Json,
        previous: args.previous,
        ..Default::default()
    }
}

/// One pod's log as printed (pure): the lines `grep` accepts (matched without their
/// timestamp), each after the pod's prefix — with its timestamp only when `--timestamps` asked
/// for it — or as a JSON object.
fn render(
    text: &str,
    pod: &str,
    container: Option<&str>,
    prefix: &str,
    args: &LogsArgs,
    grep: Option<&regex::Regex>,
) -> String {
    let json = args.output == LogFormat::Json;
    let timestamped = args.timestamps || json;
    let mut out = String::new();
    for line in text.lines() {
        let content = if timestamped {
            split_timestamp(line).1
        } else {
            line
        };
        if grep.is_some_and(|re| !re.is_match(content)) {
            continue;
        }
        let shown = if json {
            json_line(pod, container, line)
        } else if args.timestamps {
            format!("{prefix}{line}")
        } else {
            format!("{prefix}{content}")
        };
        out.push_str(&shown);
        out.push('\n');
    }
    out
}

pub async fn run(global: &GlobalArgs, args: &LogsArgs) -> shared::Result<()> {
    let grep = shared::validate::grep(args.grep.as_deref())?;
    let target = shared::kubeconfig::connect(global).await?;
    let (inventory, deployments) = discovery::load(&target, Some(&target.namespace)).await?;
    let deployment = discovery::select(
        &deployments,
        &target.namespace,
        args.release.as_deref(),
        &target.given_flags,
    )?;
    let component = component(deployment, &args.component)?;
    if args.follow {
        return follow(&target, deployment, component, args, grep).await;
    }
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &deployment.namespace);
    let mut pods: Vec<&Pod> = inventory
        .pods
        .iter()
        .filter(|p| {
            p.labels().get("release") == Some(&deployment.release)
                && p.labels().get("component").map(String::as_str) == Some(component)
        })
        .collect();
    pods.sort_by_key(|p| p.name_any());
    let mut read = 0;
    for (index, pod) in pods.iter().enumerate() {
        let name = pod.name_any();
        let container = container_of(pod, component, args.container.as_deref());
        let lp = window(args, container.clone());
        match api.logs(&name, &lp).await {
            Ok(text) => {
                read += 1;
                let prefix = prefix(&name, index);
                let shown = render(
                    &text,
                    &name,
                    container.as_deref(),
                    &prefix,
                    args,
                    grep.as_ref(),
                );
                shared::output::print_stdout(&shown);
            }
            // A pod that has not started (or, with -p, never restarted) has no such log: say so
            // and go on with the others.
            Err(kube::Error::Api(s)) if s.code == 400 => {
                eprintln!("{}{}", prefix(&name, index), s.message)
            }
            Err(e) => return Err(target.api_error(e)),
        }
    }
    if args.previous && read == 0 && !pods.is_empty() {
        return Err(Error::Failed(format!(
            "no {component} pod of {release} has restarted: there is no previous attempt to read (`kubectl airflow logs {component} {release}{}` reads the current one)",
            target.scope_flags_in(&deployment.namespace),
            release = shared::shell::word(&deployment.release),
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::workload;
    use crate::discovery::{Inventory, group};

    fn args(extra: &[&str]) -> LogsArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            logs: LogsArgs,
        }
        let argv = ["logs", "worker"].iter().chain(extra);
        <Cli as clap::Parser>::parse_from(argv).logs
    }

    const READ_WITH_TIMES: &str = "2026-11-24T11:50:03.000000000Z [..: ERROR/MainProcess] consumer: Cannot connect\n2026-11-24T11:50:04.000000000Z INFO fine\n";

    #[test]
    fn lines_are_matched_without_their_time_and_shown_as_asked() {
        let grep = regex::Regex::new("^\\[.*ERROR").unwrap();
        // -o json: the time in its own field, only the matching line.
        let json = render(
            READ_WITH_TIMES,
            "w-2",
            Some("worker"),
            "[w-2] ",
            &args(&["-o", "json", "--grep", "x"]),
            Some(&grep),
        );
        let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(json.lines().count(), 1, "{json}");
        assert_eq!(v["time"], "2026-11-24T11:50:03Z");
        assert_eq!(
            v["line"],
            "[..: ERROR/MainProcess] consumer: Cannot connect"
        );
        // --timestamps keeps the time before the text; without it the lines are plain.
        let stamped = render(
            READ_WITH_TIMES,
            "w-2",
            None,
            "[w-2] ",
            &args(&["--timestamps"]),
            None,
        );
        assert_eq!(
            stamped,
            format!(
                "[w-2] {}",
                READ_WITH_TIMES
                    .replace('\n', "\n[w-2] ")
                    .trim_end_matches("[w-2] ")
            )
        );
        let plain = render("a\nb\n", "w-2", None, "[w-2] ", &args(&[]), None);
        assert_eq!(plain, "[w-2] a\n[w-2] b\n");
    }

    #[test]
    fn components_accept_the_plural_and_list_the_valid_ones() {
        let d = group(&Inventory {
            daemonsets: vec![],
            deployments: vec![workload("ns", "r", "scheduler", 1)],
            statefulsets: vec![workload("ns", "r", "worker", 1)],
            pods: vec![],
        })
        .remove(0);
        assert_eq!(component(&d, "workers").unwrap(), "worker");
        let err = component(&d, "dag").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("use one of scheduler, worker"),
            "{err}"
        );
    }
}
