//! `kubectl airflow status [RELEASE]`: every component's workload and pods, then the problems
//! found and the command that addresses each.

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use shared::GlobalArgs;
use shared::output::{self, OutputFormat, Table};

use crate::ReleaseArgs;
use crate::discovery::{self, AirflowDeployment};

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
    pub fix: String,
}

/// Whose commands fix a problem: `kubectl airflow` for an Airflow deployment, plain kubectl for
/// the Astronomer platform (which `restart` and `diagnose` do not cover).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixes {
    Airflow,
    Platform,
}

/// The problems of a deployment (pure).
pub fn problems(d: &AirflowDeployment, fixes: Fixes) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut components: Vec<(&String, &discovery::Component)> = d.components.iter().collect();
    components.sort_by_key(|(name, _)| rank(name));
    let (ns, release) = (&d.namespace, &d.release);
    for (name, c) in components {
        let workload = format!("{}/{}", c.kind.to_lowercase(), c.workload);
        for p in c.pods.iter().filter(|p| !p.ready) {
            let pod = &p.name;
            let problem = match p.status.as_str() {
                "CrashLoopBackOff" | "Error" => Problem {
                    what: format!(
                        "{pod} ({name}) is crash-looping after {} restarts",
                        p.restarts
                    ),
                    fix: match fixes {
                        Fixes::Airflow if name == "worker" => format!(
                            "kubectl airflow restart worker {release} (if its log volume is full: kubectl airflow reset-logs {pod} {release})"
                        ),
                        Fixes::Airflow => format!("kubectl airflow restart {name} {release}"),
                        Fixes::Platform => format!("kubectl -n {ns} rollout restart {workload}"),
                    },
                },
                "Pending" => Problem {
                    what: format!(
                        "{pod} ({name}) is Pending{}",
                        p.reason
                            .as_deref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ),
                    fix: match fixes {
                        Fixes::Airflow => format!("kubectl airflow diagnose {release}"),
                        Fixes::Platform => format!("kubectl -n {ns} describe pod {pod}"),
                    },
                },
                "Terminating" => continue,
                other => Problem {
                    what: if other == "Running" {
                        format!(
                            "{pod} ({name}) is Running but not Ready (starting, or its readiness probe fails)"
                        )
                    } else {
                        format!("{pod} ({name}) is not ready: {other}")
                    },
                    fix: match fixes {
                        Fixes::Airflow => format!("kubectl airflow logs {name} {release}"),
                        Fixes::Platform => format!("kubectl -n {ns} logs {pod}"),
                    },
                },
            };
            out.push(problem);
        }
        let live = c.pods.iter().filter(|p| p.status != "Terminating").count() as i32;
        if live < c.desired {
            out.push(Problem {
                what: format!("{} {} has {live} of {} pods", c.kind, c.workload, c.desired),
                fix: match fixes {
                    Fixes::Airflow => format!("kubectl airflow diagnose {release}"),
                    Fixes::Platform => format!("kubectl -n {ns} describe {workload}"),
                },
            });
        }
    }
    out
}

/// The components table and the problems, as text.
pub fn render(d: &AirflowDeployment, problems: &[Problem], now: Timestamp) -> String {
    render_titled("Airflow", d, problems, now)
}

/// The same, for `what` ("Airflow", "Astronomer platform") release in its namespace.
pub fn render_titled(
    what: &str,
    d: &AirflowDeployment,
    problems: &[Problem],
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
    let mut table = Table::new(&[
        "component",
        "workload",
        "pod",
        "ready",
        "status",
        "restarts",
        "age",
        "node",
    ]);
    let mut components: Vec<(&String, &discovery::Component)> = d.components.iter().collect();
    components.sort_by_key(|(name, _)| rank(name));
    for (name, c) in components {
        let workload = format!(
            "{}/{} {}/{}",
            c.kind.to_lowercase(),
            c.workload,
            c.ready,
            c.desired
        );
        if c.pods.is_empty() {
            table.row([
                name.clone(),
                workload.clone(),
                "-".into(),
                "-".into(),
                "no pods".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
        }
        for p in &c.pods {
            table.row([
                name.clone(),
                workload.clone(),
                p.name.clone(),
                if p.ready {
                    "1/1".to_string()
                } else {
                    "0/1".to_string()
                },
                p.status.clone(),
                p.restarts.to_string(),
                shared::duration::age(p.created, now),
                p.node.clone().unwrap_or_else(|| "<none>".into()),
            ]);
        }
    }
    out.push_str(&table.render());
    out.push('\n');
    if problems.is_empty() {
        out.push_str("Problems: none\n");
    } else {
        out.push_str("Problems:\n");
        for p in problems {
            out.push_str(&format!("- {}\n  fix: {}\n", p.what, p.fix));
        }
    }
    out
}

pub async fn run(global: &GlobalArgs, args: &ReleaseArgs) -> shared::Result<()> {
    args.output.table_json_or_yaml("status")?;
    let target = shared::kubeconfig::connect(global).await?;
    let deployments = discovery::load_deployments(&target, Some(&target.namespace)).await?;
    let deployment = discovery::select(&deployments, &target.namespace, args.release.as_deref())?;
    let problems = problems(deployment, Fixes::Airflow);
    let text = match args.output {
        OutputFormat::Json => {
            output::to_json(&serde_json::json!({ "deployment": deployment, "problems": problems }))?
        }
        OutputFormat::Yaml => {
            output::to_yaml(&serde_json::json!({ "deployment": deployment, "problems": problems }))?
        }
        _ => render(deployment, &problems, Timestamp::now()),
    };
    output::print_stdout(&text);
    Ok(())
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

    #[test]
    fn problems_name_the_fix() {
        let d = lunar();
        let found = problems(&d[0], Fixes::Airflow);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].what,
            "lunar-nuclear-3725-worker-2 (worker) is crash-looping after 5 restarts"
        );
        assert!(
            found[0]
                .fix
                .starts_with("kubectl airflow restart worker lunar-nuclear-3725")
        );
        assert!(
            found[0]
                .fix
                .contains("reset-logs lunar-nuclear-3725-worker-2")
        );
        assert_eq!(
            found[1].what,
            "StatefulSet lunar-nuclear-3725-worker has 2 of 3 pods"
        );
        let text = render(&d[0], &found, "2026-11-24T10:00:00Z".parse().unwrap());
        assert!(
            text.contains("COMPONENT")
                && text.contains("statefulset/lunar-nuclear-3725-worker 1/3")
                && text.contains("fix: kubectl airflow diagnose"),
            "{text}"
        );
        assert!(text.find("scheduler").unwrap() < text.find("worker").unwrap());
    }

    #[test]
    fn selecting_a_release() {
        let d = lunar();
        let ns = "astronomer-ee-lunar-nuclear-3725";
        assert_eq!(select(&d, ns, None).unwrap().release, "lunar-nuclear-3725");
        assert!(
            select(&d, ns, Some("nope"))
                .unwrap_err()
                .to_string()
                .contains("it has lunar-nuclear-3725")
        );
        let none = select(&d, "default", None).unwrap_err();
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
        let ambiguous = select(&two, ns, None).unwrap_err();
        assert_eq!(ambiguous.exit_code(), 2);
        assert!(ambiguous.to_string().contains("lunar-nuclear-3725, other"));
    }
}
