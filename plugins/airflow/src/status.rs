//! `kubectl airflow status [RELEASE]`: every component's workload and pods, then the problems
//! found and the command that addresses each.

use std::collections::BTreeMap;

use kube::runtime::{WatchStreamExt, watcher};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, LogParams};
use serde::Serialize;
use shared::GlobalArgs;
use shared::output::{self, OutputFormat, Table};
use shared::shell::word;

use crate::ReleaseArgs;
use crate::discovery::{self, AirflowDeployment, LastExit};
use crate::paint;

/// Components in the order operators read them.
const ORDER: &[&str] = &[
    "scheduler",
    "webserver",
    "api-server",
    "triggerer",
    "dag-processor",
    "worker",
    "redis",
    "pgbouncer",
    "flower",
    "statsd",
];

fn rank(component: &str) -> usize {
    ORDER
        .iter()
        .position(|c| *c == component)
        .unwrap_or(ORDER.len())
}

/// A problem and what to run about it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Problem {
    pub what: String,
    /// The command to run, complete with `-n` and the cluster-choosing flags given, so it
    /// works when pasted.
    pub fix: String,
    /// A second command for a narrower cause (a worker's full log volume).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative: Option<Alternative>,
    /// Why a crash-looping pod crashed: how its last attempt ended and that attempt's last
    /// lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// How a crashed container's previous attempt ended, and the end of its log.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cause {
    pub last_exit: LastExit,
    pub log: Vec<String>,
}

/// The last lines of each crashed pod's previous attempt, by pod name.
pub type PreviousLogs = BTreeMap<String, Vec<String>>;

/// How many lines of a crashed attempt `status` shows.
const CRASH_LINES: i64 = 5;

/// A log that says the disk is full (errno 28, ENOSPC, as Python and Go print it).
fn disk_full(log: &[String]) -> bool {
    log.iter()
        .any(|l| l.to_ascii_lowercase().contains("no space left on device"))
}

/// `if {when}: {fix}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alternative {
    pub when: String,
    pub fix: String,
}

/// Whose commands fix a problem: `kubectl airflow` for an Airflow deployment, plain kubectl for
/// the Astronomer platform (which `restart` and `diagnose` do not cover).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixes {
    Airflow,
    Platform,
}

/// The problems of a deployment (pure). `given_flags` are the cluster-choosing flags the
/// operator gave (`Resolved::given_flags`): every printed command repeats them and `-n`.
pub fn problems(
    d: &AirflowDeployment,
    fixes: Fixes,
    given_flags: &str,
    logs: &PreviousLogs,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut components: Vec<(&String, &discovery::Component)> = d.components.iter().collect();
    components.sort_by_key(|(name, _)| rank(name));
    let scope = format!(" -n {}{given_flags}", word(&d.namespace));
    let release = word(&d.release);
    let airflow = |args: String| format!("kubectl airflow {args}{scope}");
    let kubectl = |args: String| format!("kubectl {args}{scope}");
    for (name, c) in components {
        let workload = format!("{}/{}", c.kind.to_lowercase(), c.workload);
        let component = word(name);
        for p in c.pods.iter().filter(|p| !p.ready) {
            let pod = word(&p.name);
            let problem = match p.status.as_str() {
                "CrashLoopBackOff" | "Error" => {
                    let cause = p.last_exit.clone().map(|last_exit| Cause {
                        last_exit,
                        log: logs.get(&p.name).cloned().unwrap_or_default(),
                    });
                    // A StatefulSet rolls only while all its pods are Ready: a rolling restart
                    // would wait behind this very pod, so replace just this one.
                    let restart = match fixes {
                        Fixes::Airflow if c.kind == "StatefulSet" => {
                            airflow(format!("restart {pod}"))
                        }
                        Fixes::Airflow => airflow(format!("restart {component} {release}")),
                        Fixes::Platform => kubectl(format!("rollout restart {workload}")),
                    };
                    let reset_logs = (fixes == Fixes::Airflow && name == "worker")
                        .then(|| airflow(format!("reset-logs {pod} {release}")));
                    let full = cause.as_ref().is_some_and(|c| disk_full(&c.log));
                    let mut what = format!(
                        "{} ({name}) is crash-looping after {}",
                        p.name,
                        shared::plural::count(p.restarts, "restart")
                    );
                    if let Some(exit) = cause.as_ref().map(|c| &c.last_exit) {
                        what += &match exit.reason.as_str() {
                            "OOMKilled" => format!(
                                ": {} was killed for memory (OOMKilled){}",
                                exit.container,
                                exit.memory_limit
                                    .as_deref()
                                    .map(|l| format!(
                                        " at its {l} limit: raise the limit or lower its load"
                                    ))
                                    .unwrap_or_default()
                            ),
                            reason => format!(
                                ": {} exited with code {} ({reason})",
                                exit.container, exit.exit_code
                            ),
                        };
                    }
                    match (full, reset_logs) {
                        // The worker's log volume is full: a fresh volume is the fix, a restart
                        // would crash again.
                        (true, Some(reset)) => Problem {
                            what: format!("{what}; its disk is full (No space left on device)"),
                            fix: reset,
                            alternative: Some(Alternative {
                                when: "the full disk is not its log volume".into(),
                                fix: restart,
                            }),
                            cause,
                        },
                        (_, reset) => Problem {
                            what,
                            fix: restart,
                            alternative: reset.map(|fix| Alternative {
                                when: "its log volume is full".into(),
                                fix,
                            }),
                            cause,
                        },
                    }
                }
                "Pending" => Problem {
                    what: format!(
                        "{} ({name}) is Pending{}",
                        p.name,
                        p.reason
                            .as_deref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ),
                    fix: match fixes {
                        Fixes::Airflow => airflow(format!("diagnose {release}")),
                        Fixes::Platform => kubectl(format!("describe pod {pod}")),
                    },
                    alternative: None,
                    cause: None,
                },
                "Terminating" => continue,
                other => Problem {
                    what: if other == "Running" {
                        format!(
                            "{} ({name}) is Running but not Ready (starting, or its readiness probe fails)",
                            p.name
                        )
                    } else {
                        format!("{} ({name}) is not ready: {other}", p.name)
                    },
                    fix: match fixes {
                        Fixes::Airflow => airflow(format!("logs {component} {release}")),
                        Fixes::Platform => kubectl(format!("logs {pod}")),
                    },
                    alternative: None,
                    cause: None,
                },
            };
            out.push(problem);
        }
        let live = c.pods.iter().filter(|p| p.status != "Terminating").count() as i32;
        if live < c.desired {
            out.push(Problem {
                what: format!("{} {} has {live} of {} pods", c.kind, c.workload, c.desired),
                fix: match fixes {
                    Fixes::Airflow => airflow(format!("diagnose {release}")),
                    Fixes::Platform => kubectl(format!("describe {workload}")),
                },
                alternative: None,
                cause: None,
            });
        }
    }
    out
}

/// The components table and the problems, as text.
pub fn render(d: &AirflowDeployment, problems: &[Problem], now: Timestamp) -> String {
    render_titled("Airflow", d, problems, false, now)
}

/// The same, for `what` ("Airflow", "Astronomer platform") release in its namespace. The
/// default table fits 120 columns with real names: each workload's readiness is one line
/// above it; `wide` puts the workload and the node in columns instead, as `-o wide` does.
pub fn render_titled(
    what: &str,
    d: &AirflowDeployment,
    problems: &[Problem],
    wide: bool,
    now: Timestamp,
) -> String {
    let mut out = format!(
        "{what} {} in {}{}\n\n",
        d.release,
        d.namespace,
        d.executor
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    );
    let mut headers = vec!["component"];
    if wide {
        headers.push("workload");
    }
    headers.extend(["pod", "ready", "status", "restarts", "age"]);
    if wide {
        headers.push("node");
    }
    let mut table = Table::new(&headers);
    let mut components: Vec<(&String, &discovery::Component)> = d.components.iter().collect();
    components.sort_by_key(|(name, _)| rank(name));
    let mut summary = Vec::new();
    for (name, c) in &components {
        let readiness = format!("{}/{}", c.ready, c.desired);
        let short = if c.ready < c.desired {
            paint::paint(&readiness, paint::Severity::Waiting)
        } else {
            readiness.clone()
        };
        summary.push(format!("{name} {short}"));
        let workload = format!("{}/{} {readiness}", c.kind.to_lowercase(), c.workload);
        let mut row = |pod: String,
                       ready: &str,
                       status: String,
                       restarts: String,
                       age: String,
                       node: String| {
            let mut cells = vec![name.to_string()];
            if wide {
                cells.push(workload.clone());
            }
            cells.extend([pod, ready.to_string(), status, restarts, age]);
            if wide {
                cells.push(node);
            }
            table.row(cells);
        };
        if c.pods.is_empty() {
            row(
                "-".into(),
                "-",
                paint::pod_status("no pods"),
                "-".into(),
                "-".into(),
                "-".into(),
            );
        }
        for p in &c.pods {
            row(
                p.name.clone(),
                if p.ready { "1/1" } else { "0/1" },
                paint::pod_status(&p.status),
                p.restarts.to_string(),
                shared::duration::age(p.created, now),
                p.node.clone().unwrap_or_else(|| "<none>".into()),
            );
        }
    }
    if !wide {
        let line = format!("Ready: {}", summary.join(", "));
        out.push_str(&shared::output::wrap(&line, 120));
        out.push('\n');
    }
    out.push_str(&table.render());
    out.push('\n');
    if problems.is_empty() {
        out.push_str("Problems: none\n");
    } else {
        out.push_str("Problems:\n");
        for p in problems {
            // The text wraps at 120 columns; a command stays whole on its own line, so it can
            // be copied and pasted.
            for line in shared::output::wrap(&format!("- {}", p.what), 120).lines() {
                let line = line.strip_prefix("- ").map_or_else(
                    || line.to_string(),
                    |what| format!("- {}", paint::paint(what, paint::Severity::Failing)),
                );
                out.push_str(&line);
                out.push('\n');
            }
            if let Some(cause) = &p.cause
                && !cause.log.is_empty()
            {
                out.push_str(&format!(
                    "  the last lines of {} before the restart:\n",
                    cause.last_exit.container
                ));
                for line in &cause.log {
                    out.push_str(&shared::output::truncate(&format!("    | {line}"), 120));
                    out.push('\n');
                }
            }
            out.push_str(&format!("  fix: {}\n", p.fix));
            if let Some(alt) = &p.alternative {
                out.push_str(&format!("  or, if {}:\n       {}\n", alt.when, alt.fix));
            }
        }
    }
    out
}

/// The last lines of the previous attempt of every crash-looping pod's crashed container, read
/// at once. A log that cannot be read (no permission, rotated away) is left out: the exit code
/// and reason still say why.
async fn previous_logs(target: &shared::Target, d: &AirflowDeployment) -> PreviousLogs {
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &d.namespace);
    let crashed = d
        .components
        .values()
        .flat_map(|c| c.pods.iter())
        .filter(|p| matches!(p.status.as_str(), "CrashLoopBackOff" | "Error"))
        .filter_map(|p| Some((p.name.clone(), p.last_exit.as_ref()?.container.clone())));
    let reads = crashed.map(|(pod, container)| {
        let api = api.clone();
        async move {
            let params = LogParams {
                container: Some(container),
                previous: true,
                tail_lines: Some(CRASH_LINES),
                ..LogParams::default()
            };
            match api.logs(&pod, &params).await {
                Ok(text) => Some((pod, text.lines().map(String::from).collect())),
                Err(e) => {
                    tracing::info!("the previous log of {pod} cannot be read: {e}");
                    None
                }
            }
        }
    });
    futures::future::join_all(reads)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// The pods of `d` a kubelet runs (placed, neither Pending nor going away): those whose
/// volumes it measures.
fn measured_pods(d: &AirflowDeployment) -> Vec<shared::volume_usage::PodOnNode> {
    d.components
        .values()
        .flat_map(|c| c.pods.iter())
        .filter(|p| !matches!(p.status.as_str(), "Pending" | "Terminating"))
        .filter_map(|p| {
            Some(shared::volume_usage::PodOnNode {
                namespace: d.namespace.clone(),
                name: p.name.clone(),
                node: p.node.clone()?,
            })
        })
        .collect()
}

/// Adds a problem for every claim of `d`'s pods over 90% used, with its fix (pure). A
/// worker's log volume is replaced by `reset-logs`; when that worker already crash-loops, its
/// problem says the volume is full and leads with the reset instead of adding a second one.
/// Another claim: `kubectl pvcreset` (an empty volume), or grown when its data must stay.
pub fn volume_problems(
    d: &AirflowDeployment,
    given_flags: &str,
    usage: &shared::volume_usage::Usage,
    problems: &mut Vec<Problem>,
) {
    let scope = format!(" -n {}{given_flags}", word(&d.namespace));
    let mut components: Vec<(&String, &discovery::Component)> = d.components.iter().collect();
    components.sort_by_key(|(name, _)| rank(name));
    for (name, c) in components {
        for p in &c.pods {
            for (mount, claim_usage) in usage.mounts_of(&d.namespace, &p.name) {
                let Some(f) = claim_usage.figures().filter(|_| claim_usage.nearly_full()) else {
                    continue;
                };
                let full = format!(
                    "{} is {}% full ({} of {}{})",
                    mount.claim,
                    f.used_percent.max(f.inodes_percent.unwrap_or(0)),
                    shared::volume_usage::bytes(f.used_bytes),
                    shared::volume_usage::bytes(f.capacity_bytes),
                    f.inodes_percent
                        .map(|i| format!(", inodes {i}%"))
                        .unwrap_or_default()
                );
                if name == "worker" && mount.volume.contains("log") {
                    let reset = format!(
                        "kubectl airflow reset-logs {} {}{scope}",
                        word(&p.name),
                        word(&d.release)
                    );
                    let crash = problems.iter_mut().find(|q| {
                        q.fix == reset || q.alternative.as_ref().is_some_and(|a| a.fix == reset)
                    });
                    if let Some(crash) = crash {
                        crash.what += &format!("; its log volume {full}");
                        if let Some(alt) = crash.alternative.as_mut().filter(|a| a.fix == reset) {
                            alt.fix = std::mem::replace(&mut crash.fix, reset);
                            alt.when = "the full disk is not its log volume".into();
                        }
                        continue;
                    }
                    problems.push(Problem {
                        what: format!("the log volume of {} ({name}): {full}", p.name),
                        fix: reset,
                        alternative: None,
                        cause: None,
                    });
                    continue;
                }
                let grown = shared::volume_usage::bytes(f.capacity_bytes.saturating_mul(2));
                problems.push(Problem {
                    what: format!("a volume of {} ({name}): {full}", p.name),
                    fix: format!("kubectl pvcreset {}{scope}", word(&mount.claim)),
                    alternative: Some(Alternative {
                        when: "its data must be kept and its storage class allows expansion"
                            .into(),
                        fix: format!(
                            "kubectl patch pvc {}{scope} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{grown}\"}}}}}}}}'",
                            word(&mount.claim)
                        ),
                    }),
                    cause: None,
                });
            }
        }
    }
}

/// `status` with `-w`: the report redrawn as the deployment's pods change.
#[derive(clap::Args, Debug, Clone)]
pub struct StatusArgs {
    #[command(flatten)]
    pub report: ReleaseArgs,
    /// Keep watching: the report redrawn in place as pods change, until Ctrl-C (appended
    /// snapshots when stdout is not a terminal)
    #[arg(short = 'w', long)]
    pub watch: bool,
}

/// The report once, as text in the asked format.
async fn report(target: &shared::Target, args: &ReleaseArgs) -> shared::Result<String> {
    let deployments = discovery::load_deployments(target, Some(&target.namespace)).await?;
    let deployment = discovery::select(
        &deployments,
        &target.namespace,
        args.release.as_deref(),
        &target.given_flags,
    )?;
    let (logs, health, usage) = tokio::join!(
        previous_logs(target, deployment),
        crate::health::read(target, deployment),
        shared::volume_usage::fetch(&target.client, measured_pods(deployment))
    );
    let mut problems = problems(deployment, Fixes::Airflow, &target.given_flags, &logs);
    volume_problems(deployment, &target.given_flags, &usage, &mut problems);
    let now = Timestamp::now();
    problems.extend(crate::health::problems(
        deployment,
        &health,
        &target.given_flags,
        now,
    ));
    let doc =
        || serde_json::json!({ "deployment": deployment, "health": health, "problems": problems });
    Ok(match OutputFormat::from(args.output) {
        OutputFormat::Json => output::to_json(&doc())?,
        OutputFormat::Yaml => output::to_yaml(&doc())?,
        _ => {
            // Airflow's own health right above the problems, beside the pods' readiness.
            let text = render(deployment, &problems, now);
            let at = text.find("\nProblems").map_or(text.len(), |i| i + 1);
            format!(
                "{}{}\n{}",
                &text[..at],
                crate::health::render(&health, now),
                &text[at..]
            )
        }
    })
}

pub async fn run(global: &GlobalArgs, args: &StatusArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    if !args.watch {
        output::print_stdout(&report(&target, &args.report).await?);
        return Ok(());
    }
    let pods: Api<Pod> = Api::namespaced(target.client.clone(), &target.namespace);
    let changes = watcher(
        pods,
        watcher::Config::default().labels(discovery::AIRFLOW_SELECTOR),
    )
    .default_backoff();
    shared::screen::redraw_on_changes("`kubectl airflow status` prints them all", changes, || {
        report(&target, &args.report)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{crash_looping_worker, pod, workload};
    use crate::discovery::{Inventory, group, select};

    fn lunar() -> Vec<AirflowDeployment> {
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        group(&Inventory {
            daemonsets: vec![],
            deployments: vec![workload(ns, r, "scheduler", 1)],
            statefulsets: vec![workload(ns, r, "worker", 3)],
            pods: vec![
                pod(ns, r, "scheduler", "s-1", true, None),
                pod(ns, r, "worker", "lunar-nuclear-3725-worker-0", true, None),
                crash_looping_worker(ns, r, "lunar-nuclear-3725-worker-2"),
            ],
        })
    }

    /// lunar with its crash-looping worker's last exit: `reason`, code, memory limit 2Gi.
    fn lunar_crashed(reason: &str, code: i32) -> AirflowDeployment {
        let (ns, r) = ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725");
        let mut crashed = crash_looping_worker(ns, r, "lunar-nuclear-3725-worker-2");
        let mut value = serde_json::to_value(&crashed).unwrap();
        value["status"]["containerStatuses"][0]["lastState"] = serde_json::json!(
            {"terminated": {"reason": reason, "exitCode": code, "finishedAt": "2026-11-24T09:59:00Z"}});
        value["spec"] = serde_json::json!({"containers": [{"name": "c", "resources": {"limits": {"memory": "2Gi"}}}]});
        crashed = serde_json::from_value(value).unwrap();
        group(&Inventory {
            daemonsets: vec![],
            deployments: vec![workload(ns, r, "scheduler", 1)],
            statefulsets: vec![workload(ns, r, "worker", 1)],
            pods: vec![pod(ns, r, "scheduler", "s-1", true, None), crashed],
        })
        .remove(0)
    }

    #[test]
    fn a_crash_says_how_the_last_attempt_ended_and_a_full_disk_gets_reset_logs() {
        let d = lunar_crashed("Error", 1);
        let logs = PreviousLogs::from([(
            "lunar-nuclear-3725-worker-2".to_string(),
            vec![
                "Traceback (most recent call last):".to_string(),
                "OSError: [Errno 28] No space left on device: '/usr/local/airflow/logs/x.log'"
                    .to_string(),
            ],
        )]);
        let found = problems(&d, Fixes::Airflow, "", &logs);
        assert_eq!(
            found[0].what,
            "lunar-nuclear-3725-worker-2 (worker) is crash-looping after 5 restarts: c exited with code 1 (Error); its disk is full (No space left on device)"
        );
        assert_eq!(
            found[0].fix,
            "kubectl airflow reset-logs lunar-nuclear-3725-worker-2 lunar-nuclear-3725 -n astronomer-ee-lunar-nuclear-3725"
        );
        assert_eq!(
            found[0].alternative.as_ref().map(|a| a.fix.as_str()),
            Some(
                "kubectl airflow restart lunar-nuclear-3725-worker-2 -n astronomer-ee-lunar-nuclear-3725"
            )
        );
        let text = render(&d, &found, "2026-11-24T10:00:00Z".parse().unwrap());
        assert!(
            text.contains("  the last lines of c before the restart:\n    | Traceback (most recent call last):\n    | OSError: [Errno 28] No space left on device"),
            "{text}"
        );
        // Without the log (not readable) the exit still says why; the fix stays the restart.
        let unread = problems(&d, Fixes::Airflow, "", &PreviousLogs::new());
        assert!(unread[0].fix.contains("airflow restart "), "{unread:?}");
        assert!(
            !render(&d, &unread, "2026-11-24T10:00:00Z".parse().unwrap()).contains("last lines")
        );
        // Killed for memory: the limit it hit.
        let oom = problems(
            &lunar_crashed("OOMKilled", 137),
            Fixes::Airflow,
            "",
            &PreviousLogs::new(),
        );
        assert_eq!(
            oom[0].what,
            "lunar-nuclear-3725-worker-2 (worker) is crash-looping after 5 restarts: c was killed for memory (OOMKilled) at its 2Gi limit: raise the limit or lower its load"
        );
    }

    #[test]
    fn problems_name_the_fix() {
        let d = lunar();
        let found = problems(
            &d[0],
            Fixes::Airflow,
            " --context prod",
            &PreviousLogs::new(),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].what,
            "lunar-nuclear-3725-worker-2 (worker) is crash-looping after 5 restarts"
        );
        let scope = " -n astronomer-ee-lunar-nuclear-3725 --context prod";
        // A StatefulSet's rolling restart would wait behind this very pod: replace it alone.
        assert_eq!(
            found[0].fix,
            format!("kubectl airflow restart lunar-nuclear-3725-worker-2{scope}")
        );
        assert_eq!(
            found[0].alternative.as_ref().map(|a| a.fix.clone()),
            Some(format!(
                "kubectl airflow reset-logs lunar-nuclear-3725-worker-2 lunar-nuclear-3725{scope}"
            ))
        );
        assert_eq!(
            found[1].what,
            "StatefulSet lunar-nuclear-3725-worker has 2 of 3 pods"
        );
        assert_eq!(
            found[1].fix,
            format!("kubectl airflow diagnose lunar-nuclear-3725{scope}")
        );
        let text = render(&d[0], &found, "2026-11-24T10:00:00Z".parse().unwrap());
        assert!(
            text.contains("COMPONENT")
                && text.contains("Ready: scheduler 1/1, worker 1/3")
                && !text.contains("NODE")
                && text.contains("fix: kubectl airflow diagnose")
                && text.contains(
                    "  or, if its log volume is full:\n       kubectl airflow reset-logs"
                ),
            "{text}"
        );
        let wide = render_titled(
            "Airflow",
            &d[0],
            &found,
            true,
            "2026-11-24T10:00:00Z".parse().unwrap(),
        );
        assert!(
            wide.contains("statefulset/lunar-nuclear-3725-worker 1/3") && wide.contains("NODE"),
            "{wide}"
        );
        let once = problems(&d[0], Fixes::Platform, "", &PreviousLogs::new());
        assert_eq!(
            once[0].fix,
            "kubectl rollout restart statefulset/lunar-nuclear-3725-worker -n astronomer-ee-lunar-nuclear-3725"
        );
        assert!(text.find("scheduler").unwrap() < text.find("worker").unwrap());
    }

    #[test]
    fn selecting_a_release() {
        let d = lunar();
        let ns = "astronomer-ee-lunar-nuclear-3725";
        assert_eq!(
            select(&d, ns, None, "").unwrap().release,
            "lunar-nuclear-3725"
        );
        assert!(
            select(&d, ns, Some("nope"), "")
                .unwrap_err()
                .to_string()
                .contains("it has lunar-nuclear-3725")
        );
        let none = select(&d, "default", None, "").unwrap_err();
        assert_eq!(none.exit_code(), 1);
        assert!(
            none.to_string()
                .contains("no Airflow deployment in namespace default")
        );
        let mut two = d.clone();
        two.push(AirflowDeployment {
            release: "other".into(),
            ..d[0].clone()
        });
        let ambiguous = select(&two, ns, None, "").unwrap_err();
        assert_eq!(ambiguous.exit_code(), 2);
        assert!(ambiguous.to_string().contains("lunar-nuclear-3725, other"));
    }

    /// What the kubelet says of lunar's claims: worker-2's logs and the redis claim.
    fn usage(logs_used_gi: u64, redis_used_mi: u64) -> shared::volume_usage::Usage {
        let (ns, gi, mi) = ("astronomer-ee-lunar-nuclear-3725", 1u64 << 30, 1u64 << 20);
        let summary: shared::volume_usage::Summary = serde_json::from_value(serde_json::json!({
            "pods": [
                {"podRef": {"name": "lunar-nuclear-3725-worker-2", "namespace": ns},
                 "volume": [{"name": "logs", "pvcRef": {"name": "logs-lunar-nuclear-3725-worker-2", "namespace": ns},
                             "capacityBytes": 100 * gi, "usedBytes": logs_used_gi * gi}]},
                {"podRef": {"name": "s-1", "namespace": ns},
                 "volume": [{"name": "data", "pvcRef": {"name": "redis-db-0", "namespace": ns},
                             "capacityBytes": 1024 * mi, "usedBytes": redis_used_mi * mi}]}
            ]
        }))
        .unwrap();
        let mut usage = shared::volume_usage::Usage::default();
        usage.add_summary("n1", &summary);
        usage
    }

    #[test]
    fn a_nearly_full_claim_is_a_problem_and_a_full_log_volume_leads_with_the_reset() {
        let d = &lunar()[0];
        let ns = "-n astronomer-ee-lunar-nuclear-3725";
        let mut found = problems(d, Fixes::Airflow, "", &PreviousLogs::new());
        let crash_fix = |found: &[Problem]| {
            found
                .iter()
                .find(|p| p.what.starts_with("lunar-nuclear-3725-worker-2 (worker)"))
                .map(|p| p.fix.clone())
        };
        assert!(
            crash_fix(&found).is_some_and(|f| f.starts_with("kubectl airflow restart")),
            "{found:?}"
        );
        volume_problems(d, "", &usage(98, 973), &mut found);
        // worker-2's crash loop: its full log volume makes the reset the fix, no second problem.
        let crash = found
            .iter()
            .find(|p| p.what.starts_with("lunar-nuclear-3725-worker-2 (worker)"))
            .unwrap();
        assert!(
            crash.what.ends_with(
                "; its log volume logs-lunar-nuclear-3725-worker-2 is 98% full (98Gi of 100Gi)"
            ),
            "{}",
            crash.what
        );
        assert_eq!(
            crash.fix,
            format!(
                "kubectl airflow reset-logs lunar-nuclear-3725-worker-2 lunar-nuclear-3725 {ns}"
            )
        );
        let alt = crash.alternative.as_ref().unwrap();
        assert_eq!(
            alt.fix,
            format!("kubectl airflow restart lunar-nuclear-3725-worker-2 {ns}")
        );
        assert!(!found.iter().any(|p| p.what.starts_with("the log volume")));
        // Another claim (the scheduler's s-1 mounts it here): pvcreset, or grown to twice.
        let other = found
            .iter()
            .find(|p| {
                p.what
                    .starts_with("a volume of s-1 (scheduler): redis-db-0 is 96% full")
            })
            .unwrap_or_else(|| panic!("{found:?}"));
        assert_eq!(other.fix, format!("kubectl pvcreset redis-db-0 {ns}"));
        assert!(
            other
                .alternative
                .as_ref()
                .unwrap()
                .fix
                .ends_with(r#"-p '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'"#),
            "{other:?}"
        );
        // 90% or less is no problem.
        let mut calm = problems(d, Fixes::Airflow, "", &PreviousLogs::new());
        let before = calm.clone();
        volume_problems(d, "", &usage(90, 900), &mut calm);
        assert_eq!(calm, before);
    }
}
