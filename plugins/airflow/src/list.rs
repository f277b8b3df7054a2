//! `kubectl airflow list`: one row per Airflow deployment, built from one lean inventory read
//! (three list requests whatever the cluster's size; see `discovery::load_deployments`).

use clap::Args;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use shared::output::{self, OutputFormat, Table};
use shared::{Error, GlobalArgs};

use crate::discovery::{self, AirflowDeployment, Component};

#[derive(Args, Debug, Clone)]
pub struct ListArgs {
    /// List Airflow deployments in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Output format: table, wide, json or yaml
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
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

/// Renders the rows as kubectl-style text.
pub fn render_table(rows: &[Row], wide: bool, now: Timestamp) -> String {
    let mut headers = vec![
        "namespace",
        "release",
        "executor",
        "scheduler",
        "webserver",
        "workers",
        "triggerer",
        "restarts",
        "status",
        "age",
    ];
    if wide {
        headers.push("reason");
    }
    let mut table = Table::new(&headers);
    for r in rows {
        let status = match (&r.status, &r.reason, wide) {
            (Health::Healthy, _, _) => "Healthy".to_string(),
            (h, Some(reason), false) => {
                format!("{h:?}: {}", reason.split(" (").next().unwrap_or(reason))
            }
            (h, _, _) => format!("{h:?}"),
        };
        let mut cells = vec![
            r.namespace.clone(),
            r.release.clone(),
            r.executor.clone().unwrap_or_else(|| "-".into()),
            r.scheduler.cell(),
            r.webserver.cell(),
            r.workers.cell(),
            r.triggerer.cell(),
            r.restarts.to_string(),
            status,
            shared::duration::age(r.created, now),
        ];
        if wide {
            cells.push(r.reason.clone().unwrap_or_default());
        }
        table.row(cells);
    }
    table.render()
}

pub async fn run(global: &GlobalArgs, args: &ListArgs) -> shared::Result<()> {
    if matches!(args.output, OutputFormat::Name) {
        return Err(Error::Usage(
            "list supports -o table, wide, json or yaml".into(),
        ));
    }
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = (!args.all_namespaces).then_some(target.namespace.as_str());
    let deployments = discovery::load_deployments(&target, namespace).await?;
    let rows = rows(&deployments);
    let text = match args.output {
        OutputFormat::Json => output::to_json(&serde_json::json!({ "items": rows }))?,
        OutputFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": rows }))?,
        _ if rows.is_empty() => {
            let scope = namespace.map_or("any namespace".to_string(), |n| format!("namespace {n}"));
            eprintln!(
                "No Airflow deployments found in {scope} (looked for {}).",
                discovery::AIRFLOW_SELECTOR
            );
            return Ok(());
        }
        format => render_table(&rows, format == OutputFormat::Wide, Timestamp::now()),
    };
    output::print_stdout(&text);
    Ok(())
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
            lines[1].contains("CeleryExecutor")
                && lines[1].contains("2/3")
                && lines[1].contains("Degraded: worker 2/3 ready")
                && lines[1].ends_with("53d"),
            "{text}"
        );
        assert!(lines[1].contains(" - "), "no triggerer: {text}");
    }
}
