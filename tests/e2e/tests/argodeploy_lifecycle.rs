//! The workflow lifecycle through `kubectl argodeploy` on a cluster where workflows really run
//! (kube-sim's Argo controller, tests/sim/src/argo): a resubmitted workflow runs to Succeeded;
//! `stop` lets the running step finish, skips the rest and runs the exit handler; `terminate`
//! kills the running step and skips the exit handler. The cluster's state is read afterwards
//! with kubectl.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use suite_tests::{Run, SimProcess, plugin, run, wait_for};

const NS: &str = "atmosphere";
const WAIT: Duration = Duration::from_secs(40);
/// steps prepare → flaky (retried once) → deploy-playbook (600 simulated s) → verify, onExit
/// notify (tests/sim/scenarios/tools/generate.py).
const LIVE: &str = "deploy-live-steps";

fn argodeploy(sim: &SimProcess, home: &Path, args: &[&str]) -> Run {
    run(plugin("argodeploy", home)
        .args(args)
        .args(["-n", NS, "--kubeconfig"])
        .arg(&sim.kubeconfig))
}

fn live_sim() -> SimProcess {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "60"]);
    sim.start_argo_controller();
    sim
}

fn workflow(sim: &SimProcess, name: &str) -> Value {
    sim.get_json(&["workflow", name, "-n", NS])
}

/// The node of `wf` whose name is `name` (`Value::Null` when there is none).
fn node(wf: &Value, name: &str) -> Value {
    wf["status"]["nodes"]
        .as_object()
        .and_then(|nodes| nodes.values().find(|n| n["name"] == name))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The workflow's pods: (name, phase, uid).
fn pods(sim: &SimProcess, wf: &str) -> Vec<(String, String, String)> {
    let list = sim.get_json(&[
        "pods",
        "-n",
        NS,
        "-l",
        &format!("workflows.argoproj.io/workflow={wf}"),
    ]);
    let mut out: Vec<(String, String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let field = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                field(&p["metadata"]["name"]),
                field(&p["status"]["phase"]),
                field(&p["metadata"]["uid"]),
            )
        })
        .collect();
    out.sort();
    out
}

fn completed(sim: &SimProcess, name: &str) -> Value {
    wait_for(&format!("{name} to complete"), WAIT, || {
        sim.find_json(&["workflow", name, "-n", NS])
            .is_some_and(|w| w["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true")
    });
    workflow(sim, name)
}

/// The live workflow with its 600-second deploy-playbook step running; returns that pod.
fn playbook_running(sim: &SimProcess) -> (String, String) {
    wait_for("deploy-playbook runs", WAIT, || {
        node(&workflow(sim, LIVE), &format!("{LIVE}[2].deploy-playbook"))["phase"] == "Running"
    });
    let (name, _, uid) = pods(sim, LIVE)
        .into_iter()
        .find(|(n, _, _)| n.contains("-deploy-playbook-"))
        .expect("deploy-playbook's pod");
    (name, uid)
}

#[test]
fn a_resubmitted_workflow_runs_to_succeeded() {
    let sim = live_sim();
    let home = tempfile::tempdir().unwrap();
    let out = argodeploy(
        &sim,
        home.path(),
        &["resubmit", "deploy-f38b2ffc-fm9fs", "-y", "--wait"],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let new = out
        .stdout
        .lines()
        .rev()
        .flat_map(str::split_whitespace)
        .find(|w| w.starts_with("deploy-f38b2ffc-") && *w != "deploy-f38b2ffc-fm9fs")
        .unwrap_or_else(|| panic!("the new workflow's name in {}", out.stdout))
        .to_string();
    let wf = workflow(&sim, &new);
    assert_eq!(wf["status"]["phase"], "Succeeded", "{}", wf["status"]);
    assert_eq!(wf["status"]["progress"], "3/3");
    assert_eq!(
        wf["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"],
        "deploy-f38b2ffc-fm9fs"
    );
    let ran = pods(&sim, &new);
    assert_eq!(ran.len(), 3, "{ran:?}");
    assert!(
        ran.iter().all(|(_, phase, _)| phase == "Succeeded"),
        "{ran:?}"
    );
}

#[test]
fn stop_lets_the_running_step_finish_and_skips_the_rest() {
    let sim = live_sim();
    let home = tempfile::tempdir().unwrap();
    let (playbook, uid) = playbook_running(&sim);
    let out = argodeploy(&sim, home.path(), &["stop", LIVE, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // The running step is not killed: the workflow waits for it (600 simulated seconds).
    std::thread::sleep(Duration::from_millis(1500));
    let during = workflow(&sim, LIVE);
    assert_eq!(during["status"]["phase"], "Running", "{}", during["status"]);
    let wf = completed(&sim, LIVE);
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(wf["status"]["message"], "Stopped with strategy 'Stop'");
    assert_eq!(
        node(&wf, &format!("{LIVE}[2].deploy-playbook"))["phase"],
        "Succeeded"
    );
    let after = pods(&sim, LIVE);
    assert!(
        after
            .iter()
            .any(|(n, phase, u)| *n == playbook && phase == "Succeeded" && *u == uid),
        "the same pod ran to its end: {after:?}"
    );
    assert!(
        !after.iter().any(|(n, _, _)| n.contains("-verify-")),
        "verify never started: {after:?}"
    );
    assert_eq!(node(&wf, &format!("{LIVE}.onExit"))["phase"], "Succeeded");
}

#[test]
fn terminate_kills_the_running_step_and_skips_the_exit_handler() {
    let sim = live_sim();
    let home = tempfile::tempdir().unwrap();
    let (playbook, _) = playbook_running(&sim);
    let out = argodeploy(&sim, home.path(), &["terminate", LIVE, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let wf = completed(&sim, LIVE);
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(wf["status"]["message"], "Stopped with strategy 'Terminate'");
    let step = node(&wf, &format!("{LIVE}[2].deploy-playbook"));
    assert_eq!(step["phase"], "Failed", "{step}");
    assert!(node(&wf, &format!("{LIVE}.onExit")).is_null(), "{wf}");
    wait_for("the killed pod is gone", WAIT, || {
        !pods(&sim, LIVE).iter().any(|(n, _, _)| *n == playbook)
    });
    let after = pods(&sim, LIVE);
    assert!(
        !after
            .iter()
            .any(|(n, _, _)| n.contains("-verify-") || n.contains("-notify-")),
        "{after:?}"
    );
}
