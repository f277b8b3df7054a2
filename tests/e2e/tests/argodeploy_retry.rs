//! `kubectl argodeploy retry` against kube-sim's atmosphere scenario: the cluster state after a
//! retry of a recorded failed workflow (failed step removed, its pod deleted; succeeded steps
//! and their pods untouched), plans that change nothing, refusals, a workflow changed between
//! the plan and the answer, the prompt, and — with the sim's Argo controller — a failed live
//! DAG run that the retry finishes.

use std::path::Path;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Expect, Session};
use serde_json::Value;
use suite_tests::{Run, SimProcess, hinted_command, paste, plugin, run};

const NS: &str = "atmosphere";
/// Recorded in the scenario: Error, `prepare` succeeded, `deploy-playbook` errored; both
/// pods are there.
const FAILED: &str = "deploy-e5121482-wwmms";
const PREPARE_POD: &str = "deploy-e5121482-wwmms-prepare-3432127570";
const PLAYBOOK_POD: &str = "deploy-e5121482-wwmms-deploy-playbook-3108653761";

fn argodeploy(sim: &SimProcess, home: &Path, args: &[&str]) -> Run {
    run(plugin("argodeploy", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn workflow(sim: &SimProcess, name: &str) -> Value {
    sim.get_json(&["workflow", name, "-n", NS])
}

fn uid(sim: &SimProcess, pod: &str) -> Option<String> {
    sim.find_json(&["pod", pod, "-n", NS])
        .map(|p| p["metadata"]["uid"].as_str().unwrap().to_string())
}

fn writes_since(sim: &SimProcess, base: usize) -> Vec<String> {
    sim.mutating_requests()[base..]
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect()
}

fn node<'a>(wf: &'a Value, name: &str) -> Option<&'a Value> {
    wf["status"]["nodes"]
        .as_object()
        .unwrap()
        .values()
        .find(|n| n["name"] == name)
}

#[test]
fn retry_reruns_the_failed_step_and_leaves_the_succeeded_one_alone() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let base = sim.mutating_requests().len();
    let before = workflow(&sim, FAILED);
    let prepare_uid = uid(&sim, PREPARE_POD).expect("prepare's pod");
    assert!(uid(&sim, PLAYBOOK_POD).is_some());

    // The plan, three ways, changes nothing.
    let dry = argodeploy(&sim, home.path(), &["retry", FAILED, "-n", NS, "--dry-run"]);
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr.contains("<- runs again (node removed)")
            && dry.stderr.contains(&format!("delete pod: {PLAYBOOK_POD}"))
            && dry.stderr.contains("dry run: nothing was changed"),
        "{}",
        dry.stderr
    );
    let json = argodeploy(
        &sim,
        home.path(),
        &["retry", FAILED, "-n", NS, "-o", "json", "--dry-run"],
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(plan["removed"][0]["displayName"], "deploy-playbook");
    assert_eq!(plan["pods"][0]["name"], PLAYBOOK_POD);
    assert_eq!(
        plan["resourceVersion"],
        before["metadata"]["resourceVersion"]
    );
    let no_terminal = argodeploy(&sim, home.path(), &["retry", FAILED, "-n", NS]);
    assert_eq!(no_terminal.code, Some(3), "{}", no_terminal.stderr);
    assert_eq!(writes_since(&sim, base), Vec::<String>::new());

    let out = argodeploy(&sim, home.path(), &["retry", FAILED, "-n", NS, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, format!("workflow {FAILED} retried\n"));
    let after = workflow(&sim, FAILED);
    assert_eq!(after["status"]["phase"], "Running");
    assert!(after["status"]["finishedAt"].is_null() && after["status"]["message"].is_null());
    let labels = &after["metadata"]["labels"];
    assert_eq!(labels["workflows.argoproj.io/phase"], "Running");
    assert!(labels["workflows.argoproj.io/completed"].is_null());
    assert_eq!(
        labels["instance_uuid"],
        before["metadata"]["labels"]["instance_uuid"]
    );
    assert!(node(&after, "deploy-e5121482-wwmms[1].deploy-playbook").is_none());
    let prepare = "deploy-e5121482-wwmms[0].prepare";
    assert_eq!(node(&after, prepare), node(&before, prepare), "untouched");
    let group = node(&after, "deploy-e5121482-wwmms[1]").unwrap();
    assert_eq!(group["phase"], "Running");
    assert_eq!(group["children"], serde_json::json!([]));
    assert_eq!(
        uid(&sim, PLAYBOOK_POD),
        None,
        "the failed step's pod is deleted"
    );
    assert_eq!(uid(&sim, PREPARE_POD), Some(prepare_uid), "the same pod");
    // One pod deleted by uid, then the workflow written: nothing else.
    let writes = writes_since(&sim, base);
    assert_eq!(
        writes[0],
        format!("DELETE /api/v1/namespaces/{NS}/pods/{PLAYBOOK_POD}")
    );
    assert!(
        writes[1..].iter().all(|w| w.starts_with(&format!(
            "PUT /apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows/{FAILED}"
        ))),
        "{writes:?}"
    );
    // The follow-up command works when pasted.
    let hint = out.stderr.lines().find(|l| l.starts_with("next:")).unwrap();
    let words = hinted_command(hint, "argodeploy");
    assert_eq!(words[..3], ["logs", FAILED, "-f"]);
    let without_follow: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "-f")
        .collect();
    let pasted = paste(
        &format!("kubectl argodeploy {}", without_follow.join(" ")),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(pasted.code, Some(0), "{}", pasted.stderr);
    // A retried workflow is no longer completed: a second retry is refused.
    let again = argodeploy(&sim, home.path(), &["retry", FAILED, "-n", NS, "-y"]);
    assert_eq!(again.code, Some(1), "{}", again.stderr);
}

#[test]
fn refusals_and_bad_input_change_nothing() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["retry", "deploy-f3f49249-njqlp", "-n", NS, "-y"],
            1,
            "is Running: only a completed Failed or Error workflow can be retried",
        ),
        (
            &["retry", "deploy-f38b2ffc-fm9fs", "-n", NS, "-y"],
            1,
            "--restart-successful --step",
        ),
        (
            &["retry", FAILED, "-n", NS, "-y", "-p", "play=x"],
            2,
            "its parameters: instance_uuid, username, playbook",
        ),
        (
            &["retry", FAILED, "-n", NS, "-y", "--step", "prepare"],
            2,
            "add --restart-successful",
        ),
        (
            &[
                "retry",
                FAILED,
                "-n",
                NS,
                "-y",
                "--restart-successful",
                "--step",
                "deploy",
            ],
            2,
            "its steps: deploy-playbook, prepare",
        ),
        (
            &[
                "retry",
                "deploy-70eb9a0a-vv8bx",
                "-n",
                NS,
                "-y",
                "--restart-successful",
                "--step",
                "verify",
            ],
            1,
            "needs the argo server",
        ),
    ];
    for (args, code, says) in cases {
        let out = argodeploy(&sim, home.path(), args);
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "one line: {}",
            out.stderr
        );
    }
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
}

/// A succeeded, compressed workflow: one step run again on request, the node status written
/// back compressed (and `get` still reads it).
#[test]
fn a_compressed_workflow_is_written_back_compressed() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let name = "deploy-6bad6be2-g255x";
    let out = argodeploy(
        &sim,
        home.path(),
        &[
            "retry",
            name,
            "-n",
            NS,
            "-y",
            "--restart-successful",
            "--step",
            "verify",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let after = workflow(&sim, name);
    assert!(after["status"]["nodes"].is_null(), "{}", after["status"]);
    assert!(
        after["status"]["compressedNodes"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(after["status"]["phase"], "Running");
    let get = argodeploy(&sim, home.path(), &["get", name, "-n", NS]);
    assert_eq!(get.code, Some(0), "{}", get.stderr);
    assert!(
        get.stdout.contains("prepare") && !get.stdout.contains("verify"),
        "{}",
        get.stdout
    );
}

fn spawn(sim: &SimProcess, home: &Path, args: &[&str]) -> expectrl::session::OsSession {
    let mut cmd = plugin("argodeploy", home);
    cmd.args(args).arg("--kubeconfig").arg(&sim.kubeconfig);
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    s
}

fn exit_code(s: &expectrl::session::OsSession) -> i32 {
    match s.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    }
}

/// The prompt: No (Enter) changes nothing; a workflow changed while the prompt waited is not
/// retried (exit 1, nothing of the retry done); yes retries.
#[test]
fn the_prompt_decides_and_a_workflow_changed_meanwhile_is_not_retried() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let question = format!("Retry {FAILED}?");
    let base = sim.mutating_requests().len();

    let mut no = spawn(&sim, home.path(), &["retry", FAILED, "-n", NS]);
    no.expect(question.as_str()).unwrap();
    no.send("\r").unwrap();
    no.expect(expectrl::Eof).unwrap();
    assert_eq!(exit_code(&no), 3);
    assert_eq!(writes_since(&sim, base), Vec::<String>::new());

    let mut changed = spawn(&sim, home.path(), &["retry", FAILED, "-n", NS]);
    changed.expect(question.as_str()).unwrap();
    let label = sim.kubectl(&["label", "workflow", FAILED, "-n", NS, "reviewed=yes"]);
    assert_eq!(label.code, Some(0), "{}", label.stderr);
    changed.send("y\r").unwrap();
    let said = changed.expect(expectrl::Eof).unwrap();
    let said = String::from_utf8_lossy(said.as_bytes()).into_owned();
    assert_eq!(exit_code(&changed), 1, "{said}");
    assert!(said.contains("changed since the plan"), "{said}");
    assert_eq!(writes_since(&sim, base).len(), 1, "only kubectl's label");
    assert!(uid(&sim, PLAYBOOK_POD).is_some());
    assert_eq!(workflow(&sim, FAILED)["status"]["phase"], "Error");

    let mut yes = spawn(&sim, home.path(), &["retry", FAILED, "-n", NS]);
    yes.expect(question.as_str()).unwrap();
    yes.send("y\r").unwrap();
    yes.expect(expectrl::Eof).unwrap();
    assert_eq!(exit_code(&yes), 0);
    assert_eq!(workflow(&sim, FAILED)["status"]["phase"], "Running");
    assert_eq!(uid(&sim, PLAYBOOK_POD), None);
}

/// A change that lands after the pre-check, while the pod is being deleted: the write of the
/// workflow gets 409 (resourceVersion precondition), the command says so and exits 1, and the
/// retry run again finishes the job (the pod already gone).
#[test]
fn a_conflicting_write_is_refused_with_409_and_the_retry_can_be_run_again() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    sim.slow_request("DELETE", PLAYBOOK_POD, 0, 5000);
    let mut cmd = plugin("argodeploy", home.path());
    cmd.args(["retry", FAILED, "-n", NS, "-y", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // The second GET of the workflow is the check just before the pods are deleted; the
    // DELETE is then held for 5 s, while the workflow changes.
    let wf_path = format!("/apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows/{FAILED}");
    suite_tests::wait_for("the check before acting", Duration::from_secs(20), || {
        sim.journal()
            .iter()
            .filter(|e| e["method"] == "GET" && e["path"] == wf_path.as_str())
            .count()
            >= 2
    });
    let label = sim.kubectl(&["label", "workflow", FAILED, "-n", NS, "reviewed=yes"]);
    assert_eq!(label.code, Some(0), "{}", label.stderr);
    let out: Run = child.wait_with_output().unwrap().into();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let last = out.stderr.trim_end().lines().last().unwrap();
    assert!(
        last.contains("changed since the plan (409 Conflict)") && last.contains(PLAYBOOK_POD),
        "{last}"
    );
    assert_eq!(workflow(&sim, FAILED)["status"]["phase"], "Error");
    let again = argodeploy(&sim, home.path(), &["retry", FAILED, "-n", NS, "-y"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains(&format!("pod {PLAYBOOK_POD} is already gone")),
        "{}",
        again.stderr
    );
    assert_eq!(workflow(&sim, FAILED)["status"]["phase"], "Running");
}

/// With the sim's Argo controller: the recorded failed workflow, retried, runs its failed step
/// again in a new pod and completes; the succeeded step's pod is the same pod.
#[test]
fn a_retried_recorded_workflow_is_run_to_its_end_by_the_controller() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "60"]);
    sim.start_argo_controller();
    let home = tempfile::tempdir().unwrap();
    let prepare_uid = uid(&sim, PREPARE_POD).unwrap();
    let playbook_uid = uid(&sim, PLAYBOOK_POD).unwrap();
    let out = argodeploy(
        &sim,
        home.path(),
        &[
            "retry",
            FAILED,
            "-n",
            NS,
            "-y",
            "--wait",
            "--timeout",
            "60s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!("workflow {FAILED} retried\n{FAILED} Succeeded\n")
    );
    assert_eq!(uid(&sim, PREPARE_POD), Some(prepare_uid));
    assert!(
        uid(&sim, PLAYBOOK_POD).is_some_and(|u| u != playbook_uid),
        "a new pod"
    );
    let after = workflow(&sim, FAILED);
    assert_eq!(after["status"]["phase"], "Succeeded");
    assert_eq!(
        after["metadata"]["labels"]["workflows.argoproj.io/completed"],
        "true"
    );
}

/// The acceptance with the sim's Argo controller: `deploy-live-dag` (DAG prepare → {db, web}
/// → verify; web fails on its first attempt, succeeds on its second) fails; the retry runs
/// only the failed branch again — the pods of prepare and db are the same pods, by uid — and
/// the workflow reaches Succeeded.
#[test]
fn retry_of_a_failed_live_dag_run_reruns_only_the_failed_branch_and_succeeds() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "60"]);
    sim.start_argo_controller();
    let home = tempfile::tempdir().unwrap();
    let name = "deploy-live-dag";
    suite_tests::wait_for("deploy-live-dag to fail", Duration::from_secs(30), || {
        sim.find_json(&["workflow", name, "-n", NS])
            .is_some_and(|w| w["status"]["phase"] == "Failed")
    });
    let failed = workflow(&sim, name);
    let pods = |phase: &str| -> Vec<(String, String)> {
        let v = sim.get_json(&[
            "pods",
            "-n",
            NS,
            "-l",
            &format!("workflows.argoproj.io/workflow={name}"),
        ]);
        let mut out: Vec<(String, String)> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"]["phase"] == phase)
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                    p["metadata"]["uid"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let succeeded_before = pods("Succeeded");
    assert!(
        succeeded_before.iter().any(|(p, _)| p.contains("prepare"))
            && succeeded_before.iter().any(|(p, _)| p.contains("db")),
        "{succeeded_before:?} of {}",
        failed["status"]
    );
    let out = argodeploy(
        &sim,
        home.path(),
        &["retry", name, "-n", NS, "-y", "--wait", "--timeout", "60s"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.ends_with(&format!("{name} Succeeded\n")),
        "{}",
        out.stdout
    );
    let after = workflow(&sim, name);
    assert_eq!(after["status"]["phase"], "Succeeded");
    let succeeded_after = pods("Succeeded");
    for pod in &succeeded_before {
        assert!(
            succeeded_after.contains(pod),
            "{pod:?} kept: {succeeded_after:?}"
        );
    }
    assert!(
        succeeded_after.iter().any(|(p, _)| p.contains("web"))
            && succeeded_after.iter().any(|(p, _)| p.contains("verify")),
        "{succeeded_after:?}"
    );
}
