//! `kubectl airflow logs COMPONENT [RELEASE]`: the logs of every pod of a component, each line
//! prefixed with its pod; with `-f`, pods created later (after a restart) are followed too.

use std::time::Duration;

use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, LogParams};
use shared::follow::{Follow, PodStream};
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
        filter: None,
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

/// The log window asked of every pod: `--tail`, `--since`/`--since-time`, `--timestamps`.
fn window(args: &LogsArgs, container: Option<String>) -> LogParams {
    LogParams {
        container,
        tail_lines: shared::validate::tail_lines(args.tail),
        since_seconds: args.since.map(shared::validate::since_seconds),
        since_time: args.since_time,
        timestamps: args.timestamps,
        ..Default::default()
    }
}

pub async fn run(global: &GlobalArgs, args: &LogsArgs) -> shared::Result<()> {
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
        return follow(&target, deployment, component, args).await;
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
    for (index, pod) in pods.iter().enumerate() {
        let name = pod.name_any();
        let lp = window(
            args,
            container_of(pod, component, args.container.as_deref()),
        );
        match api.logs(&name, &lp).await {
            Ok(text) => {
                let prefixed: String = text
                    .lines()
                    .map(|l| format!("{}{l}\n", prefix(&name, index)))
                    .collect();
                shared::output::print_stdout(&prefixed);
            }
            // A pod that has not started has no log yet: say so and go on with the others.
            Err(kube::Error::Api(s)) if s.code == 400 => {
                eprintln!("{}{}", prefix(&name, index), s.message)
            }
            Err(e) => return Err(target.api_error(e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::workload;
    use crate::discovery::{Inventory, group};

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
