//! `kubectl airflow list`: one row per Airflow deployment, built from one lean inventory read
//! (three list requests whatever the cluster's size; see `discovery::load_deployments`).

use clap::Args;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use shared::GlobalArgs;
use shared::output::{self, ListFormat, Table};

use crate::discovery::{self, AirflowDeployment, Component};
use crate::paint;

#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    /// List Airflow deployments in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Output format: wide adds executor, restarts and the reason for each status; name prints
    /// the release names
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
    /// Keep watching: the list redrawn in place as pods change, until Ctrl-C (appended
    /// snapshots when stdout is not a terminal)
    #[arg(short = 'w', long)]
    pub watch: bool,
}

/// Health of a deployment, with the reason when not Healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Health {
    Healthy,
    Degraded,
    Down,
}

/// One row of the listing (pure data: rendered as a table, JSON or YAML).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub namespace: String,
    pub release: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    pub scheduler: Readiness,
    /// The webserver, or the api-server on Airflow 3.
    pub webserver: Readiness,
    pub workers: Readiness,
    pub triggerer: Readiness,
    pub restarts: i32,
    pub status: Health,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    pub components: Vec<String>,
}

/// Ready and desired replicas of a component; both 0 when it is absent.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Default)]
pub struct Readiness {
    pub ready: i32,
    pub desired: i32,
    pub present: bool,
}

impl Readiness {
    fn of(component: Option<&Component>) -> Self {
        component.map_or_else(Readiness::default, |c| Readiness {
            ready: c.ready,
            desired: c.desired,
            present: true,
        })
    }

    fn cell(&self) -> String {
        if self.present {
            format!("{}/{}", self.ready, self.desired)
        } else {
            "-".to_string()
        }
    }
}

/// Down when there is no scheduler to run (none, or scaled to 0) or no pod of any component is
/// Ready; Degraded when a component is short of Ready replicas or has a pod crash-looping or
/// stuck (a crash-looping scheduler included: the webserver still answers); Healthy otherwise.
pub fn health(d: &AirflowDeployment) -> (Health, Option<String>) {
    match d.components.get("scheduler") {
        None => return (Health::Down, Some("no scheduler".into())),
        Some(s) if s.desired == 0 => {
            return (Health::Down, Some("scheduler scaled to 0".into()));
        }
        Some(_) => {}
    }
    if d.components.values().all(|c| c.ready == 0) {
        return (Health::Down, Some("no component has a Ready pod".into()));
    }
    let mut problems = Vec::new();
    for (name, c) in &d.components {
        let stuck: Vec<String> = c
            .pods
            .iter()
            .filter(|p| !p.ready)
            .map(|p| format!("{} {}", p.name, p.status))
            .collect();
        if c.ready < c.desired || !stuck.is_empty() {
            let mut text = format!("{name} {}/{} ready", c.ready, c.desired);
            if !stuck.is_empty() {
                text.push_str(&format!(" ({})", stuck.join(", ")));
            }
            problems.push(text);
        }
    }
    if problems.is_empty() {
        (Health::Healthy, None)
    } else {
        (Health::Degraded, Some(problems.join("; ")))
    }
}

/// Builds the rows (pure).
pub fn rows(deployments: &[AirflowDeployment]) -> Vec<Row> {
    deployments
        .iter()
        .map(|d| {
            let (status, reason) = health(d);
            let web = d
                .components
                .get("webserver")
                .or_else(|| d.components.get("api-server"));
            Row {
                namespace: d.namespace.clone(),
                release: d.release.clone(),
                executor: d.executor.clone(),
                scheduler: Readiness::of(d.components.get("scheduler")),
                webserver: Readiness::of(web),
                workers: Readiness::of(d.components.get("worker")),
                triggerer: Readiness::of(d.components.get("triggerer")),
                restarts: d
                    .components
                    .values()
                    .flat_map(|c| c.pods.iter())
                    .map(|p| p.restarts)
                    .sum(),
                status,
                reason,
                created: d.created,
                components: d.components.keys().cloned().collect(),
            }
        })
        .collect()
}

/// Renders the rows as kubectl-style text. The default fits 120 columns with real names
/// (the status is the verdict alone); `wide` adds the executor, restarts and the reason.
pub fn render_table(rows: &[Row], wide: bool, now: Timestamp) -> String {
    let mut headers = vec!["namespace", "release"];
    if wide {
        headers.push("executor");
    }
    headers.extend(["scheduler", "webserver", "workers", "triggerer"]);
    if wide {
        headers.push("restarts");
    }
    headers.extend(["status", "age"]);
    if wide {
        headers.push("reason");
    }
    let mut table = Table::new(&headers);
    for r in rows {
        let severity = match r.status {
            Health::Healthy => paint::Severity::Fine,
            Health::Degraded => paint::Severity::Waiting,
            Health::Down => paint::Severity::Failing,
        };
        let mut cells = vec![r.namespace.clone(), r.release.clone()];
        if wide {
            cells.push(r.executor.clone().unwrap_or_else(|| "-".into()));
        }
        cells.extend([
            r.scheduler.cell(),
            r.webserver.cell(),
            r.workers.cell(),
            r.triggerer.cell(),
        ]);
        if wide {
            cells.push(r.restarts.to_string());
        }
        cells.extend([
            paint::paint(&format!("{:?}", r.status), severity),
            shared::duration::age(r.created, now),
        ]);
        if wide {
            cells.push(r.reason.clone().unwrap_or_default());
        }
        table.row(cells);
    }
    table.render()
}

/// What an empty listing says: where it looked, and without -A the command that looks
/// everywhere (with the flags given, so it works when pasted).
pub fn nothing_found(namespace: Option<&str>, given_flags: &str) -> String {
    match namespace {
        Some(ns) => format!(
            "No Airflow deployments found in namespace {ns} (looked for {}); all namespaces: `kubectl airflow list -A{given_flags}`",
            discovery::AIRFLOW_SELECTOR
        ),
        None => format!(
            "No Airflow deployments found in any namespace (looked for {}).",
            discovery::AIRFLOW_SELECTOR
        ),
    }
}

/// The listing once, as text; empty (said on stderr) when nothing is found. `said_empty`
/// remembers across the refreshes of `-w` that the empty listing was already said, so it is
/// said once until something is found, as `kubectl get -w` does.
async fn listing(
    target: &shared::Target,
    args: &ListArgs,
    said_empty: &std::cell::Cell<bool>,
) -> shared::Result<String> {
    let namespace = (!args.all_namespaces).then_some(target.namespace.as_str());
    let deployments = discovery::load_deployments(target, namespace).await?;
    let rows = rows(&deployments);
    let already_said = said_empty.replace(rows.is_empty());
    Ok(match args.output {
        ListFormat::Json => output::to_json(&serde_json::json!({ "items": rows }))?,
        ListFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": rows }))?,
        ListFormat::Name => rows.iter().map(|r| format!("{}\n", r.release)).collect(),
        _ if rows.is_empty() => {
            if !already_said {
                eprintln!("{}", nothing_found(namespace, &target.given_flags));
            }
            String::new()
        }
        format => render_table(&rows, format == ListFormat::Wide, Timestamp::now()),
    })
}

pub async fn run(global: &GlobalArgs, args: &ListArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let said_empty = std::cell::Cell::new(false);
    if !args.watch {
        output::print_stdout(&listing(&target, args, &said_empty).await?);
        return Ok(());
    }
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = if args.all_namespaces {
        kube::Api::all(target.client.clone())
    } else {
        kube::Api::namespaced(target.client.clone(), &target.namespace)
    };
    let changes = kube::runtime::WatchStreamExt::default_backoff(kube::runtime::watcher(
        pods,
        kube::runtime::watcher::Config::default().labels(discovery::AIRFLOW_SELECTOR),
    ));
    shared::screen::redraw_on_changes("`kubectl airflow list` prints them all", changes, || {
        listing(&target, args, &said_empty)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{crash_looping_worker, pod, workload};
    use crate::discovery::{Inventory, group};

    fn astronomer_like() -> Vec<AirflowDeployment> {
        let ns = "astronomer-ee-lunar-nuclear-3725";
        let r = "lunar-nuclear-3725";
        group(&Inventory {
            daemonsets: vec![],
            deployments: vec![
                workload(ns, r, "scheduler", 1),
                workload(ns, r, "webserver", 1),
            ],
            statefulsets: vec![workload(ns, r, "worker", 3)],
            pods: vec![
                pod(ns, r, "scheduler", "s", true, None),
                pod(ns, r, "webserver", "w", true, None),
                pod(ns, r, "worker", "lunar-nuclear-3725-worker-0", true, None),
                pod(ns, r, "worker", "lunar-nuclear-3725-worker-1", true, None),
                crash_looping_worker(ns, r, "lunar-nuclear-3725-worker-2"),
            ],
        })
    }

    #[test]
    fn a_crash_looping_pod_degrades_and_no_scheduler_is_down() {
        let rows = rows(&astronomer_like());
        assert_eq!(rows[0].status, Health::Degraded);
        assert_eq!(
            rows[0].reason.as_deref(),
            Some("worker 2/3 ready (lunar-nuclear-3725-worker-2 CrashLoopBackOff)")
        );
        assert_eq!((rows[0].workers.ready, rows[0].workers.desired), (2, 3));
        assert_eq!(rows[0].restarts, 5);
        let mut crashing = astronomer_like();
        crashing[0].components.get_mut("scheduler").unwrap().ready = 0;
        let (status, reason) = health(&crashing[0]);
        assert_eq!(status, Health::Degraded);
        assert!(reason.unwrap().starts_with("scheduler 0/1 ready"));
        let mut down = astronomer_like();
        down[0].components.get_mut("scheduler").unwrap().desired = 0;
        assert_eq!(
            health(&down[0]),
            (Health::Down, Some("scheduler scaled to 0".into()))
        );
        for c in down[0].components.values_mut() {
            c.ready = 0;
            c.desired = 1;
        }
        assert_eq!(
            health(&down[0]).1.as_deref(),
            Some("no component has a Ready pod")
        );
    }

    #[test]
    fn table_columns() {
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let text = render_table(&rows(&astronomer_like()), false, now);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("NAMESPACE")
                && lines[0].contains("SCHEDULER")
                && lines[0].ends_with("AGE"),
            "{text}"
        );
        assert!(
            !lines[1].contains("CeleryExecutor")
                && lines[1].contains("2/3")
                && lines[1].contains("Degraded")
                && lines[1].ends_with("53d"),
            "{text}"
        );
        assert!(lines[1].contains(" - "), "no triggerer: {text}");
        let wide = render_table(&rows(&astronomer_like()), true, now);
        assert!(
            wide.contains("CeleryExecutor")
                && wide
                    .lines()
                    .nth(1)
                    .unwrap()
                    .ends_with("worker 2/3 ready (lunar-nuclear-3725-worker-2 CrashLoopBackOff)"),
            "{wide}"
        );
        assert_eq!(
            nothing_found(Some("default"), " --context prod"),
            "No Airflow deployments found in namespace default (looked for tier=airflow); all namespaces: `kubectl airflow list -A --context prod`"
        );
    }
}
