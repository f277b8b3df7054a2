//! The destructive flows an episode can run, and their targets, drawn from the seed against the
//! scenario's own objects (so a `large:` scenario works too).

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::Value;
use suite_tests::SimProcess;

use crate::invariants::read;

/// What a flow changes, for the invariants that apply to it.
#[derive(Debug, Clone)]
pub enum Target {
    /// nodeevict of these nodes (one node, or a pool by label).
    Nodes { nodes: Vec<String>, force: bool },
    /// pvcreset (or airflow reset-logs, which runs it) of claims of one owner.
    Claims {
        namespace: String,
        owner_kind: String,
        owner: String,
    },
    /// airflow restart of one component of a release.
    Restart {
        namespace: String,
        /// Pods whose name starts with this belong to the component.
        pod_prefix: String,
    },
    /// argodeploy resubmit of a finished workflow: each run creates at most one workflow.
    Resubmit { workflow: String },
    /// argodeploy stop/terminate: `spec.shutdown` becomes this.
    Shutdown {
        workflow: String,
        shutdown: &'static str,
    },
}

/// One destructive command and what it targets.
#[derive(Debug, Clone)]
pub struct Flow {
    /// The row of the soak's table, e.g. `nodeevict node`.
    pub name: String,
    pub plugin: &'static str,
    /// The command's arguments, without `-y`, `--timeout` and the kubeconfig.
    pub args: Vec<String>,
    pub target: Target,
    /// Whether the plugin keeps a journal (resume/abort): nodeevict and pvcreset.
    pub journaled: bool,
}

fn names(items: &Value) -> Vec<String> {
    let mut names: Vec<String> = items["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["metadata"]["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

/// Draws a flow for `scenario` from the sim's objects.
pub fn draw(rng: &mut StdRng, scenario: &str, sim: &SimProcess) -> Flow {
    let family = scenario.split(':').next().unwrap_or(scenario);
    match family {
        "artsy" => nodeevict(rng, sim, false),
        "aura" => match rng.random_range(0..3) {
            0 => nodeevict(rng, sim, true),
            _ => pvcreset(rng, sim),
        },
        "astronomer" => match rng.random_range(0..3) {
            0 => reset_logs(rng, sim),
            _ => airflow_restart(rng, sim),
        },
        "atmosphere" => argodeploy(rng, sim),
        // large: nodes, Airflow releases and workflows.
        _ => match rng.random_range(0..3) {
            0 => airflow_restart(rng, sim),
            _ => nodeevict(rng, sim, false),
        },
    }
}

fn worker_nodes(sim: &SimProcess) -> Vec<Value> {
    read(sim, &["nodes"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| {
            let labels = &n["metadata"]["labels"];
            labels["node-role.kubernetes.io/control-plane"].is_null()
                && labels["node-role.kubernetes.io/master"].is_null()
                && labels["agentpool"] != "master"
        })
        .collect()
}

fn nodeevict(rng: &mut StdRng, sim: &SimProcess, pools: bool) -> Flow {
    let nodes = worker_nodes(sim);
    let force = rng.random_bool(0.6);
    let mut args = Vec::new();
    let (name, targets) = if pools && rng.random_bool(0.4) {
        let mut pools: Vec<String> = nodes
            .iter()
            .filter_map(|n| {
                n["metadata"]["labels"]["agentpool"]
                    .as_str()
                    .map(String::from)
            })
            .collect();
        pools.sort();
        pools.dedup();
        let pool = pools.choose(rng).expect("a pool").clone();
        args.extend(["-l".to_string(), format!("agentpool={pool}")]);
        let members: Vec<String> = nodes
            .iter()
            .filter(|n| n["metadata"]["labels"]["agentpool"] == pool.as_str())
            .filter_map(|n| n["metadata"]["name"].as_str().map(String::from))
            .collect();
        ("nodeevict pool", members)
    } else {
        let mut all: Vec<String> = nodes
            .iter()
            .filter_map(|n| n["metadata"]["name"].as_str().map(String::from))
            .collect();
        all.sort();
        let node = all.choose(rng).expect("a node").clone();
        args.push(node.clone());
        ("nodeevict node", vec![node])
    };
    if force {
        args.push("--force".into());
    }
    if rng.random_bool(0.5) {
        args.push("--delete-emptydir-data".into());
    }
    Flow {
        name: name.into(),
        plugin: "nodeevict",
        args,
        target: Target::Nodes {
            nodes: targets,
            force,
        },
        journaled: true,
    }
}

fn pvcreset(rng: &mut StdRng, _sim: &SimProcess) -> Flow {
    let (name, args, namespace, kind, owner) = match rng.random_range(0..4) {
        0 => {
            let ordinal = rng.random_range(0..3).to_string();
            (
                "pvcreset pod",
                s(&[
                    "--statefulset",
                    "elasticsearch",
                    "--ordinal",
                    &ordinal,
                    "--strategy",
                    "pod",
                ]),
                "logging",
                "StatefulSet",
                "elasticsearch",
            )
        }
        1 => (
            "pvcreset scale",
            s(&["--statefulset", "mongodb", "--all", "--strategy", "scale"]),
            "data",
            "StatefulSet",
            "mongodb",
        ),
        2 => (
            "pvcreset scale",
            s(&[
                "--statefulset",
                "elasticsearch",
                "--ordinal",
                "0",
                "--strategy",
                "scale",
            ]),
            "logging",
            "StatefulSet",
            "elasticsearch",
        ),
        _ => (
            "pvcreset deployment",
            s(&["report-cache"]),
            "apps",
            "Deployment",
            "report-builder",
        ),
    };
    let mut args = args;
    args.extend(["-n".to_string(), namespace.to_string()]);
    Flow {
        name: name.into(),
        plugin: "pvcreset",
        args,
        target: Target::Claims {
            namespace: namespace.into(),
            owner_kind: kind.into(),
            owner: owner.into(),
        },
        journaled: true,
    }
}

/// Airflow releases: namespaces with a scheduler Deployment (label component=scheduler).
fn releases(sim: &SimProcess) -> Vec<(String, String)> {
    let all = read(sim, &["deployments", "-A", "-l", "component=scheduler"]);
    let mut out: Vec<(String, String)> = all["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|d| {
            let ns = d["metadata"]["namespace"].as_str()?;
            let release = d["metadata"]["labels"]["release"].as_str()?;
            Some((ns.to_string(), release.to_string()))
        })
        .collect();
    out.sort();
    out
}

fn airflow_restart(rng: &mut StdRng, sim: &SimProcess) -> Flow {
    let (namespace, release) = releases(sim).choose(rng).expect("a release").clone();
    // The release's own components (a `large:` release has only a scheduler and a webserver).
    let workloads = read(
        sim,
        &[
            "deployments,statefulsets",
            "-n",
            &namespace,
            "-l",
            "component",
        ],
    );
    let mut components: Vec<String> = workloads["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        // A component that is not Ready before (the zodiac triggerer Pending for want of
        // room) would time out whatever the restart does: not this flow's to prove.
        .filter(|w| {
            w["status"]["readyReplicas"].as_i64().unwrap_or(0)
                == w["spec"]["replicas"].as_i64().unwrap_or(1)
        })
        .filter_map(|w| {
            w["metadata"]["labels"]["component"]
                .as_str()
                .map(String::from)
        })
        .filter(|c| ["scheduler", "webserver", "worker", "triggerer"].contains(&c.as_str()))
        .collect();
    components.sort();
    components.dedup();
    let component = components.choose(rng).expect("a component").clone();
    let component = component.as_str();
    let (name, extra) = match rng.random_range(0..3) {
        0 => ("airflow restart rollout", vec![]),
        1 => ("airflow restart delete", s(&["--strategy", "delete"])),
        _ => (
            "airflow restart force",
            s(&["--strategy", "delete", "--force"]),
        ),
    };
    let mut args = s(&["restart", component, "-n", &namespace]);
    args.extend(extra);
    Flow {
        name: name.into(),
        plugin: "airflow",
        args,
        target: Target::Restart {
            namespace,
            pod_prefix: format!("{release}-{component}"),
        },
        journaled: false,
    }
}

fn reset_logs(rng: &mut StdRng, sim: &SimProcess) -> Flow {
    let (namespace, release) = releases(sim).choose(rng).expect("a release").clone();
    let workers = names(&read(
        sim,
        &["pods", "-n", &namespace, "-l", "component=worker"],
    ));
    let mut args = s(&["reset-logs"]);
    let name = if workers.is_empty() || rng.random_bool(0.4) {
        args.push("--all".into());
        "airflow reset-logs all"
    } else {
        args.push(workers.choose(rng).expect("worker").clone());
        "airflow reset-logs pod"
    };
    args.extend(["-n".to_string(), namespace.clone()]);
    Flow {
        name: name.into(),
        plugin: "airflow",
        args,
        target: Target::Claims {
            namespace,
            owner_kind: "StatefulSet".into(),
            owner: format!("{release}-worker"),
        },
        journaled: true,
    }
}

fn argodeploy(rng: &mut StdRng, sim: &SimProcess) -> Flow {
    let all = read(sim, &["workflows.argoproj.io", "-n", "atmosphere"]);
    let items = all["items"].as_array().cloned().unwrap_or_default();
    let in_phase = |phases: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = items
            .iter()
            .filter(|w| phases.contains(&w["status"]["phase"].as_str().unwrap_or("")))
            .filter_map(|w| w["metadata"]["name"].as_str().map(String::from))
            .collect();
        v.sort();
        v
    };
    let namespace = "atmosphere".to_string();
    match rng.random_range(0..3) {
        0 => {
            let workflow = in_phase(&["Failed", "Error", "Succeeded"])
                .choose(rng)
                .expect("a finished workflow")
                .clone();
            Flow {
                name: "argodeploy resubmit".into(),
                plugin: "argodeploy",
                args: s(&["resubmit", &workflow, "-n", &namespace]),
                target: Target::Resubmit { workflow },
                journaled: false,
            }
        }
        verb => {
            let workflow = in_phase(&["Running", "Pending"])
                .choose(rng)
                .expect("a running workflow")
                .clone();
            let (cmd, shutdown) = if verb == 1 {
                ("stop", "Stop")
            } else {
                ("terminate", "Terminate")
            };
            Flow {
                name: format!("argodeploy {cmd}"),
                plugin: "argodeploy",
                args: s(&[cmd, &workflow, "-n", &namespace]),
                target: Target::Shutdown { workflow, shutdown },
                journaled: false,
            }
        }
    }
}
