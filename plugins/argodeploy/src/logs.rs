//! `kubectl argodeploy logs WF [STEP|POD]`: the `main` container of every pod of a workflow,
//! each line prefixed with its step; ordered by time; `-f` picks up new pods and ends when the
//! workflow completes.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams, LogParams};
use regex::Regex;
use shared::follow::{Follow, LineFilter, PodStream, split_timestamp};
use shared::{Error, GlobalArgs, Target};

use crate::workflow::{self, WORKFLOW_LABEL};

#[derive(Args, Debug, Clone)]
pub struct LogsArgs {
    /// The workflow
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Only this step (display name) or pod
    pub step: Option<String>,
    /// Container
    #[arg(short = 'c', long, default_value = "main")]
    pub container: String,
    /// Follow: new pods too, until the workflow completes
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// The previous (crashed) attempt of each container, as kubectl logs -p
    #[arg(short = 'p', long, conflicts_with = "follow")]
    pub previous: bool,
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

/// A STEP that names no pod of the workflow (pure): its steps, and the close ones. (Without
/// this, a typo printed nothing and exited 0.)
fn no_such_step(workflow: &str, step: &str, pods: &[Pod]) -> String {
    let mut steps: Vec<String> = Vec::new();
    for step in pods.iter().map(step_of) {
        if !steps.contains(&step) {
            steps.push(step);
        }
    }
    if steps.is_empty() {
        return format!("workflow {workflow} has no pods yet: no step {step:?} to show");
    }
    let close = shared::suggest::close_names(step, &steps);
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", close.join(", "))
    };
    format!(
        "workflow {workflow} has no step or pod {step:?}{hint}: its steps are {}",
        steps.join(", ")
    )
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

pub async fn run(
    global: &GlobalArgs,
    keys: &crate::labels::LabelKeys,
    args: &LogsArgs,
) -> shared::Result<()> {
    let grep = shared::validate::grep(args.grep.as_deref())?;
    let target = shared::kubeconfig::connect(global).await?;
    let ns = target.namespace.clone();
    let (wfs, wf) = workflow::get(&target, keys, &args.workflow).await?;
    // `@latest` resolved: every further request names the workflow itself.
    let name = wf.name_any();
    if args.follow {
        return follow(&target, &ns, &wfs, &name, args, grep).await;
    }
    let pods = pods_of(&target, &ns, &name).await?;
    if let Some(step) = args.step.as_deref()
        && !pods.iter().any(|p| wanted(p, Some(step)))
    {
        return Err(Error::Failed(no_such_step(&name, step, &pods)));
    }
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &ns);
    let mut lines: Vec<(Option<jiff::Timestamp>, usize, String)> = Vec::new();
    // With --previous: the pods that had no previous attempt (noted, not a failure unless
    // none had one).
    let (mut asked, mut without_previous) = (0, Vec::new());
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
            previous: args.previous,
            // Always asked with timestamps: they order the lines of all pods.
            timestamps: true,
            ..Default::default()
        };
        asked += 1;
        let text = match api.logs(&pod.name_any(), &lp).await {
            Ok(text) => text,
            // kubelet: "previous terminated container ... not found" (or not started yet).
            Err(kube::Error::Api(e)) if e.code == 400 && args.previous => {
                without_previous.push(pod.name_any());
                eprintln!(
                    "{}: pod {} has no previous attempt of container {}",
                    step_of(pod),
                    pod.name_any(),
                    args.container
                );
                continue;
            }
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
    if args.previous && asked > 0 && without_previous.len() == asked {
        return Err(Error::Failed(previous_missing(
            &name,
            &args.container,
            asked,
        )));
    }
    lines.sort_by_key(|(ts, i, _)| (*ts, *i));
    let text: String = lines.into_iter().map(|(_, _, l)| l + "\n").collect();
    shared::output::print_stdout(&text);
    Ok(())
}

/// `--previous` when no pod had a previous attempt (pure).
fn previous_missing(workflow: &str, container: &str, pods: usize) -> String {
    let which = if pods == 1 {
        "its pod has".to_string()
    } else {
        format!("none of its {pods} pods has")
    };
    format!(
        "workflow {workflow}: {which} a previous attempt of container {container} (no restart): leave out -p for the current logs"
    )
}

/// `-f`: the wanted pods' logs as they start, until the workflow completes (and two seconds
/// more for the last lines).
async fn follow(
    target: &Target,
    ns: &str,
    wfs: &Api<DynamicObject>,
    name: &str,
    args: &LogsArgs,
    grep: Option<Regex>,
) -> shared::Result<()> {
    let follower = Follow {
        api: Api::namespaced(target.client.clone(), ns),
        selector: format!("{WORKFLOW_LABEL}={name}"),
        window: LogParams {
            tail_lines: shared::validate::tail_lines(args.tail),
            since_seconds: args.since.map(shared::validate::since_seconds),
            since_time: args.since_time,
            timestamps: args.timestamps,
            ..Default::default()
        },
        new_pods_from_start: false,
        colours: false,
        report_stream_errors: false,
        filter: grep.map(|re| -> LineFilter { Arc::new(move |text| re.is_match(text)) }),
        json: false,
    };
    let select = |pod: &Pod, _index: usize| {
        // A pending pod has no log yet: it is taken when it starts.
        let started = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|p| p != "Pending");
        (started && wanted(pod, args.step.as_deref())).then(|| PodStream {
            container: Some(args.container.clone()),
            label: format!("{}:", step_of(pod)),
        })
    };
    let completed = async {
        // The watch does not end; were it to, following goes on rather than claim completion.
        if workflow::completion(wfs, name).await.is_none() {
            std::future::pending::<()>().await;
        }
    };
    follower
        .run(select, completed, Duration::from_secs(2))
        .await?;
    eprintln!("workflow {name} completed");
    Ok(())
}
