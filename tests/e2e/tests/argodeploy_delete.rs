//! `kubectl argodeploy delete`, `@latest`, `logs -p` and `find`'s archived logs against
//! kube-sim's atmosphere scenario; the cluster checked afterwards with kubectl.

use std::collections::BTreeSet;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Expect, Session};
use serde_json::{Value, json};
use suite_tests::{Run, SimProcess, apply_yaml, plugin, run, wait_for};

const NS: &str = "atmosphere";
const RUNNING: &str = "deploy-f3f49249-njqlp";
const INSTANCE_ID: &str = "workflows.argoproj.io/controller-instanceid";

fn argodeploy(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    run(plugin("argodeploy", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn workflows(sim: &SimProcess) -> Vec<Value> {
    sim.get_json(&["workflows", "-n", NS])["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn name(w: &Value) -> String {
    w["metadata"]["name"].as_str().unwrap().to_string()
}

fn names(sim: &SimProcess) -> BTreeSet<String> {
    workflows(sim).iter().map(name).collect()
}

fn pods_of(sim: &SimProcess, wf: &str) -> usize {
    sim.get_json(&[
        "pods",
        "-n",
        NS,
        "-l",
        &format!("workflows.argoproj.io/workflow={wf}"),
    ])["items"]
        .as_array()
        .unwrap()
        .len()
}

fn completed(w: &Value) -> bool {
    w["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
        || matches!(
            w["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed" | "Error")
        )
}

fn finished_before(w: &Value, cutoff: jiff::Timestamp) -> bool {
    w["status"]["finishedAt"]
        .as_str()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .is_some_and(|f| f <= cutoff)
}

fn planned(out: &Run, key: &str) -> BTreeSet<String> {
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn delete_completed_older_than_7d_deletes_exactly_those_and_their_pods() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let cutoff = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(7 * 24);
    let before = workflows(&sim);
    let expected: BTreeSet<String> = before
        .iter()
        .filter(|w| w["metadata"]["labels"][INSTANCE_ID].is_null())
        .filter(|w| completed(w) && finished_before(w, cutoff))
        .map(name)
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    let args = ["delete", "-n", NS, "--completed", "--older", "7d"];
    let dry = argodeploy(
        &sim,
        home.path(),
        &[&args[..], &["--dry-run", "-o", "json"]].concat(),
    );
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert_eq!(planned(&dry, "delete"), expected);
    assert!(
        dry.stderr.contains("dry run: nothing was changed"),
        "{dry:?}"
    );
    let table = argodeploy(&sim, home.path(), &[&args[..], &["--dry-run"]].concat());
    for wf in &expected {
        assert!(table.stderr.contains(wf.as_str()), "{wf}: {table:?}");
    }
    assert!(sim.mutating_requests().is_empty());
    assert_eq!(names(&sim), before.iter().map(name).collect());

    let with_pods: Vec<&String> = expected.iter().filter(|w| pods_of(&sim, w) > 0).collect();
    assert!(!with_pods.is_empty());
    let running_pods = pods_of(&sim, RUNNING);
    let done = argodeploy(&sim, home.path(), &[&args[..], &["--yes"]].concat());
    assert_eq!(done.code, Some(0), "{done:?}");
    for wf in &expected {
        assert!(
            done.stdout
                .contains(&format!("workflow.argoproj.io/{wf} deleted")),
            "{wf}: {done:?}"
        );
    }
    let after = names(&sim);
    let kept: BTreeSet<String> = before
        .iter()
        .map(name)
        .filter(|n| !expected.contains(n))
        .collect();
    assert_eq!(after, kept, "exactly the planned workflows are gone");
    assert!(after.contains(RUNNING));
    // Each delete carried the uid precondition and Background propagation.
    let deletes: Vec<Value> = sim
        .mutating_requests()
        .into_iter()
        .filter(|e| e["method"] == "DELETE")
        .collect();
    assert_eq!(deletes.len(), expected.len(), "{deletes:?}");
    // The garbage collector deletes the pods the workflows owned; the running one's stay.
    wait_for(
        "the deleted workflows' pods to go",
        Duration::from_secs(20),
        || with_pods.iter().all(|w| pods_of(&sim, w) == 0),
    );
    assert_eq!(pods_of(&sim, RUNNING), running_pods);
}

#[test]
fn a_running_workflow_is_kept_without_force() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // By name: refused whole, nothing deleted.
    let refused = argodeploy(
        &sim,
        home.path(),
        &[
            "delete",
            RUNNING,
            "deploy-e5121482-wwmms",
            "-n",
            NS,
            "--yes",
        ],
    );
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused.stderr.contains(&format!("{RUNNING} (Running)"))
            && refused.stderr.contains("--force"),
        "{refused:?}"
    );
    assert!(sim.mutating_requests().is_empty());
    // By filter: listed as skipped with the reason; nothing to delete.
    let skipped = argodeploy(
        &sim,
        home.path(),
        &[
            "delete", "-n", NS, "--status", "Running", "--yes", "-o", "json",
        ],
    );
    assert_eq!(skipped.code, Some(0), "{skipped:?}");
    assert!(
        planned(&skipped, "skipped").contains(RUNNING),
        "{skipped:?}"
    );
    assert!(planned(&skipped, "delete").is_empty(), "{skipped:?}");
    assert!(sim.mutating_requests().is_empty());
    // Nothing matched: kubectl's one line, exit 0.
    let none = argodeploy(
        &sim,
        home.path(),
        &["delete", "-n", NS, "--username", "nobody", "--yes"],
    );
    assert_eq!(none.code, Some(0), "{none:?}");
    assert_eq!(
        none.stderr.trim(),
        "No workflows found in namespace atmosphere."
    );
    // Bad input: a usage error, exit 2, nothing changed.
    for bad in [
        &["delete", "-n", NS][..],
        &["delete", "-n", NS, "--older", "a week"],
        &["delete", "-n", NS, "--status", "Done", "--yes"],
    ] {
        let out = argodeploy(&sim, home.path(), bad);
        assert_eq!(out.code, Some(2), "{bad:?}: {out:?}");
        assert_eq!(out.stderr.trim().lines().count(), 1, "{bad:?}: {out:?}");
    }
    assert!(sim.mutating_requests().is_empty());
    // With --force it goes, and its pods with it.
    assert!(pods_of(&sim, RUNNING) > 0);
    let forced = argodeploy(
        &sim,
        home.path(),
        &["delete", RUNNING, "-n", NS, "--force", "--yes"],
    );
    assert_eq!(forced.code, Some(0), "{forced:?}");
    assert!(!names(&sim).contains(RUNNING));
    wait_for(
        "the forced workflow's pods to go",
        Duration::from_secs(20),
        || pods_of(&sim, RUNNING) == 0,
    );
}

/// Runs `delete NAME` in a pseudo-terminal, answers `answer` at the prompt, returns the code.
fn delete_at_prompt(sim: &SimProcess, home: &std::path::Path, wf: &str, answer: &str) -> i32 {
    let mut cmd = plugin("argodeploy", home);
    cmd.args(["delete", wf, "-n", NS, "--kubeconfig"])
        .arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect("Delete 1 workflow and its")
        .expect("the plan");
    session.expect("[y/N]").expect("the prompt");
    session.send(answer).unwrap();
    session.send("\r").unwrap();
    let _ = session.expect(expectrl::Eof);
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    }
}

#[test]
fn the_prompt_deletes_on_yes_only() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let wf = "deploy-e5121482-wwmms";
    for no in ["n", ""] {
        assert_eq!(delete_at_prompt(&sim, home.path(), wf, no), 3, "{no:?}");
        assert!(names(&sim).contains(wf));
    }
    assert!(sim.mutating_requests().is_empty());
    assert_eq!(delete_at_prompt(&sim, home.path(), wf, "y"), 0);
    assert!(!names(&sim).contains(wf));
    // More than 10 workflows: the operator types their number; a wrong one changes nothing.
    let before = names(&sim);
    let mut cmd = plugin("argodeploy", home.path());
    cmd.args(["delete", "--all", "--force", "-n", NS, "--kubeconfig"])
        .arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    let found = session
        .expect(expectrl::Regex(
            r"type the number of workflows \((\d+)\) to confirm",
        ))
        .expect("the typed confirmation");
    let count: usize = String::from_utf8_lossy(found.get(1).unwrap())
        .parse()
        .unwrap();
    assert!(count > 10, "{count}");
    session.send("3\r").unwrap();
    let _ = session.expect(expectrl::Eof);
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 3),
        other => panic!("did not exit normally: {other:?}"),
    }
    assert_eq!(names(&sim), before);
    assert!(
        sim.mutating_requests()
            .iter()
            .filter(|e| e["method"] == "DELETE")
            .count()
            == 1
    );
}

fn create(sim: &SimProcess, dir: &std::path::Path, name: &str, object: &Value) {
    apply_yaml(sim, dir, name, &serde_json::to_string(object).unwrap());
}

fn set_status(sim: &SimProcess, wf: &str, status: &Value) {
    let patch = json!({ "status": status }).to_string();
    let out = sim.kubectl(&[
        "patch", "workflow", wf, "-n", NS, "--type", "merge", "-p", &patch,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

fn workflow(name: &str, instance: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"instance_uuid": instance, "username": "tester"}},
        "spec": {"entrypoint": "deploy", "templates": [{"name": "deploy"}]}})
}

fn pod(wf: &str, step: &str, crash: bool) -> Value {
    let mut annotations = json!({
        "workflows.argoproj.io/node-name": format!("{wf}[0].{step}"),
        "sim.kube-sim.dev/log.main": format!("{step} line one\n{step} line two"),
    });
    if crash {
        annotations["sim.kube-sim.dev/crash-loop"] = json!("main");
    }
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{wf}-{step}"), "namespace": NS,
                     "labels": {"workflows.argoproj.io/workflow": wf},
                     "annotations": annotations},
        "spec": {"restartPolicy": "Always", "containers": [
            {"name": "wait", "image": "quay.io/argoproj/argoexec:v3.6.2"},
            {"name": "main", "image": "atmosphere/ansible:2.17"}]}})
}

#[test]
fn latest_names_the_newest_workflow_and_logs_p_reads_crashed_attempts() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // @latest of the scenario: the newest creationTimestamp of the unlabelled workflows.
    let newest = workflows(&sim)
        .into_iter()
        .filter(|w| w["metadata"]["labels"][INSTANCE_ID].is_null())
        .max_by_key(|w| {
            w["metadata"]["creationTimestamp"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .map(|w| name(&w))
        .unwrap();
    let got = argodeploy(
        &sim,
        home.path(),
        &["get", "@latest", "-n", NS, "-o", "name"],
    );
    assert_eq!(got.code, Some(0), "{got:?}");
    assert_eq!(got.stdout, format!("workflow.argoproj.io/{newest}\n"));
    assert!(
        got.stderr
            .contains(&format!("@latest is workflow {newest}")),
        "{got:?}"
    );

    // A new workflow is the newest: one pod crash-loops its main, one does not.
    let wf = "crashy-x7k2p";
    create(
        &sim,
        home.path(),
        "wf.json",
        &workflow(wf, "c0ffee00-0000-4000-8000-000000000001"),
    );
    create(
        &sim,
        home.path(),
        "crash.json",
        &pod(wf, "deploy-playbook", true),
    );
    create(&sim, home.path(), "steady.json", &pod(wf, "prepare", false));
    wait_for(
        "the crash-looping main to restart",
        Duration::from_secs(20),
        || {
            sim.get_json(&["pod", &format!("{wf}-deploy-playbook"), "-n", NS])["status"]
            ["containerStatuses"]
            .as_array()
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["name"] == "main" && c["restartCount"].as_i64() > Some(0))
            })
        },
    );
    wait_for("the steady pod to run", Duration::from_secs(20), || {
        sim.get_json(&["pod", &format!("{wf}-prepare"), "-n", NS])["status"]["phase"] == "Running"
    });
    let logs = argodeploy(&sim, home.path(), &["logs", "@latest", "-n", NS]);
    assert_eq!(logs.code, Some(0), "{logs:?}");
    assert!(
        logs.stderr.contains(&format!("@latest is workflow {wf}")),
        "{logs:?}"
    );
    assert!(
        logs.stdout.contains("prepare: prepare line one"),
        "{logs:?}"
    );

    let previous = argodeploy(&sim, home.path(), &["logs", "@latest", "-n", NS, "-p"]);
    assert_eq!(previous.code, Some(0), "{previous:?}");
    assert!(
        previous
            .stdout
            .contains("deploy-playbook: deploy-playbook line one"),
        "{previous:?}"
    );
    assert!(!previous.stdout.contains("prepare:"), "{previous:?}");
    assert!(
        previous.stderr.contains(&format!(
            "prepare: pod {wf}-prepare has no previous attempt of container main"
        )),
        "{previous:?}"
    );
    // Only the steady step: no pod has a previous attempt, a failure of the command.
    let none = argodeploy(&sim, home.path(), &["logs", wf, "prepare", "-n", NS, "-p"]);
    assert_eq!(none.code, Some(1), "{none:?}");
    assert!(none.stderr.contains("previous attempt"), "{none:?}");
    // --since-time after every line: nothing; a bad one: a usage error.
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30)).to_string();
    let since = argodeploy(
        &sim,
        home.path(),
        &["logs", wf, "-n", NS, "--since-time", &later],
    );
    assert_eq!(since.code, Some(0), "{since:?}");
    assert_eq!(since.stdout, "", "{since:?}");
    let bad = argodeploy(
        &sim,
        home.path(),
        &["logs", wf, "-n", NS, "--since-time", "noon"],
    );
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(
        sim.mutating_requests()
            .iter()
            .all(|e| e["method"] != "DELETE")
    );
}

#[test]
fn find_shows_an_archived_raw_log_and_says_where_an_s3_one_is() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let instance = "a1c4e0de-0000-4000-8000-000000000002";
    let wf = "deploy-a1c4e0de-q9z8x";
    create(&sim, home.path(), "wf.json", &workflow(wf, instance));
    let node = |step: &str, started: &str, art: Value| {
        json!({"id": format!("{wf}-{step}"), "name": format!("{wf}[0].{step}"),
            "displayName": step, "type": "Pod", "phase": "Failed",
            "message": format!("{step} failed"), "startedAt": started,
            "outputs": {"artifacts": [art]}})
    };
    set_status(
        &sim,
        wf,
        &json!({"phase": "Failed", "startedAt": "2026-11-30T08:00:00Z",
        "finishedAt": "2026-11-30T09:00:00Z", "message": "child failed",
        "artifactRepositoryRef": {"artifactRepository": {"s3": {"bucket": "argo-logs", "endpoint": "s3.amazonaws.com"}}},
        "nodes": {
            wf: {"id": wf, "name": wf, "displayName": wf, "type": "Steps", "phase": "Failed"},
            format!("{wf}-prepare"): node("prepare", "2026-11-30T08:00:00Z",
                json!({"name": "main-logs", "raw": {"data": "TASK [prepare]\nfatal: disk full\n"}})),
            format!("{wf}-verify"): node("verify", "2026-11-30T08:30:00Z",
                json!({"name": "main-logs", "s3": {"key": format!("{wf}/{wf}-verify/main.log")}})),
            format!("{wf}-cleanup"): node("cleanup", "2026-11-30T08:40:00Z",
                json!({"name": "result", "raw": {"data": "42"}})),
        }}),
    );
    let out = argodeploy(&sim, home.path(), &["find", instance, "-n", NS]);
    assert_eq!(out.code, Some(0), "{out:?}");
    let text = &out.stdout;
    assert!(
        text.contains("failing step prepare: prepare failed"),
        "{text}"
    );
    assert!(
        text.contains("last 2 lines of its archived main log (its pod is gone):\n  TASK [prepare]\n  fatal: disk full\n"),
        "{text}"
    );
    let url = format!("s3://argo-logs/{wf}/{wf}-verify/main.log");
    assert!(
        text.contains(&format!(
            "its main log was archived to {url}: `aws s3 cp {url} -` prints it"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "failing step cleanup: cleanup failed\n  (its pod is gone and its log was not archived"
        ),
        "{text}"
    );
    let json = argodeploy(
        &sim,
        home.path(),
        &["find", instance, "-n", NS, "-o", "json"],
    );
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let steps = v["newest"]["failingSteps"].as_array().unwrap();
    assert_eq!(steps[0]["archivedLog"]["location"], "raw");
    assert_eq!(
        steps[0]["log"],
        json!(["TASK [prepare]", "fatal: disk full"])
    );
    assert_eq!(steps[1]["archivedLog"]["location"], url);
    assert_eq!(steps[1]["archivedLog"]["readable"], false);
    assert!(steps[2]["archivedLog"].is_null());
    assert!(
        sim.mutating_requests()
            .iter()
            .all(|e| e["method"] != "DELETE")
    );
}
