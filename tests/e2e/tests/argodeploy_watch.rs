//! `kubectl argodeploy wait`, `watch` / `get -w`, `suspend` and `resume` against kube-sim's
//! atmosphere scenario: the recorded workflows, and workflows whose status the test writes by
//! hand with kubectl (as argo's controller would), so each command's watch sees them change.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use suite_tests::{Run, SimProcess, plugin, run};

const NS: &str = "atmosphere";
const RUNNING: &str = "deploy-f3f49249-njqlp";
const PENDING: &str = "deploy-d7a7a3cc-srdqx";
const SUCCEEDED: &str = "deploy-f38b2ffc-fm9fs";
const SUCCEEDED_COMPRESSED: &str = "deploy-6bad6be2-g255x";
const FAILED: &str = "deploy-f3f49249-b94t4";

fn command(sim: &SimProcess, home: &Path, args: &[&str]) -> Command {
    let mut cmd = plugin("argodeploy", home);
    cmd.args(args).arg("--kubeconfig").arg(&sim.kubeconfig);
    cmd
}

fn argodeploy(sim: &SimProcess, home: &Path, args: &[&str]) -> Run {
    run(&mut command(sim, home, args))
}

/// Starts the plugin in the background, stdout and stderr piped.
fn spawn(sim: &SimProcess, home: &Path, args: &[&str]) -> Child {
    command(sim, home, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Waits (at most `limit`) for a background plugin to exit, and what it printed.
fn finish(mut child: Child, limit: Duration) -> Run {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running after {limit:?}: stdout {} stderr {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output").into()
}

/// Whether the background plugin is still running after `d`.
fn still_running(child: &mut Child, d: Duration) -> bool {
    std::thread::sleep(d);
    child.try_wait().expect("try_wait").is_none()
}

fn patch(sim: &SimProcess, name: &str, body: &Value) {
    let body = body.to_string();
    let args = [
        "patch", "workflow", name, "-n", NS, "--type", "merge", "-p", &body,
    ];
    let out = sim.kubectl(&args);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// Ends a workflow as argo's controller does: phase, finishedAt, message and the completed
/// label in one update (Argo's CRD has no status subresource).
fn end(sim: &SimProcess, name: &str, phase: &str, message: &str) {
    patch(
        sim,
        name,
        &json!({"metadata": {"labels": {"workflows.argoproj.io/phase": phase,
                                        "workflows.argoproj.io/completed": "true"}},
                "status": {"phase": phase, "finishedAt": "2026-12-02T12:00:00Z", "message": message}}),
    );
}

fn workflow(sim: &SimProcess, name: &str) -> Value {
    sim.get_json(&["workflow", name, "-n", NS])
}

fn writes(sim: &SimProcess) -> usize {
    sim.mutating_requests().len()
}

/// A running workflow waiting at a suspend step, created by kubectl with its status written
/// by hand; `compressed` stores the node status as argo does for large workflows.
fn waiting_at_approval(sim: &SimProcess, dir: &Path, name: &str, compressed: bool) {
    let nodes = json!({
        name: {"id": name, "name": name, "displayName": name, "type": "Steps", "phase": "Running",
               "children": [format!("{name}-1")], "startedAt": "2026-12-02T11:00:00Z"},
        format!("{name}-0"): {"id": format!("{name}-0"), "name": format!("{name}[0].prepare"),
               "displayName": "prepare", "type": "Pod", "phase": "Succeeded", "boundaryID": name,
               "startedAt": "2026-12-02T11:00:00Z", "finishedAt": "2026-12-02T11:01:00Z"},
        format!("{name}-1"): {"id": format!("{name}-1"), "name": format!("{name}[1].approve"),
               "displayName": "approve", "type": "Suspend", "phase": "Running", "boundaryID": name,
               "templateName": "approve", "message": "waiting for the change board",
               "startedAt": "2026-12-02T11:01:00Z",
               "outputs": {"parameters": [{"name": "approved-by", "valueFrom": {"supplied": {}, "default": "nobody"}}]}},
    });
    let wf = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": name, "namespace": NS, "labels": {"instance_uuid": "0badcafe", "username": "jdoe"}},
        "spec": {"entrypoint": "deploy", "templates": [
            {"name": "deploy", "steps": [[{"name": "prepare", "template": "prepare"}], [{"name": "approve", "template": "approve"}]]},
            {"name": "prepare", "container": {"image": "atmosphere/ansible:2.17"}},
            {"name": "approve", "suspend": {}}]},
    });
    let path = suite_tests::write(dir, &format!("{name}.json"), &wf.to_string());
    let out = sim.kubectl(&["create", "--validate=false", "-f", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let status = if compressed {
        json!({"phase": "Running", "startedAt": "2026-12-02T11:00:00Z", "compressedNodes": compress(&nodes)})
    } else {
        json!({"phase": "Running", "startedAt": "2026-12-02T11:00:00Z", "nodes": nodes})
    };
    patch(sim, name, &json!({ "status": status }));
}

/// argo's compressedNodes: gzip then base64 (gzip(1) here: the test crate has no gzip library).
fn compress(nodes: &Value) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut gz = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    gz.stdin
        .take()
        .unwrap()
        .write_all(nodes.to_string().as_bytes())
        .unwrap();
    let mut bytes = Vec::new();
    gz.stdout.take().unwrap().read_to_end(&mut bytes).unwrap();
    assert!(gz.wait().unwrap().success());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gunzip(text: &str) -> Value {
    use base64::Engine;
    use std::io::Write;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64");
    let mut gz = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = gz.stdin.take().unwrap();
    std::thread::spawn(move || stdin.write_all(&bytes).unwrap());
    let mut json = String::new();
    gz.stdout.take().unwrap().read_to_string(&mut json).unwrap();
    assert!(gz.wait().unwrap().success());
    serde_json::from_str(&json).expect("json")
}

#[test]
fn wait_on_recorded_workflows_exits_by_their_phases_and_changes_nothing() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    let ok = argodeploy(
        &sim,
        h,
        &["wait", SUCCEEDED, SUCCEEDED_COMPRESSED, "-n", NS],
    );
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    assert_eq!(
        ok.stdout,
        format!(
            "{SUCCEEDED} Succeeded at 2026-11-15T18:07:00Z\n{SUCCEEDED_COMPRESSED} Succeeded at 2026-11-21T18:49:00Z\n"
        )
    );

    let failed = argodeploy(&sim, h, &["wait", SUCCEEDED, FAILED, "-n", NS]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(
        failed.stdout.contains(&format!(
            "{FAILED} Failed at 2026-11-16T18:14:00Z: child 'deploy-playbook' failed\n"
        )),
        "{}",
        failed.stdout
    );
    assert!(
        failed.stderr.contains(&format!(
            "error: 1 of 2 workflows did not succeed ({FAILED} Failed)"
        )),
        "{}",
        failed.stderr
    );

    let json_out = argodeploy(&sim, h, &["wait", FAILED, "-n", NS, "-o", "json"]);
    assert_eq!(json_out.code, Some(1));
    let v: Value = serde_json::from_str(&json_out.stdout).expect("json");
    assert_eq!(v[0]["phase"], "Failed");
    assert_eq!(v[0]["message"], "child 'deploy-playbook' failed");

    // A Running workflow nothing moves: the timeout, exit 4, where it is.
    let started = Instant::now();
    let timed_out = argodeploy(
        &sim,
        h,
        &["wait", RUNNING, SUCCEEDED, "-n", NS, "--timeout", "1s"],
    );
    assert_eq!(timed_out.code, Some(4), "{}", timed_out.stderr);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        timed_out.stderr.contains(&format!(
            "error: timed out after 1s waiting for {RUNNING} (Running: step verify (2 steps done))"
        )),
        "{}",
        timed_out.stderr
    );
    assert!(timed_out.stdout.contains(&format!("{SUCCEEDED} Succeeded")));

    // Not found: an error before any waiting, or done with --ignore-not-found.
    let missing = argodeploy(&sim, h, &["wait", "deploy-nope", RUNNING, "-n", NS]);
    assert_eq!(missing.code, Some(1), "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("workflow \"deploy-nope\" not found in namespace atmosphere"),
        "{}",
        missing.stderr
    );
    let ignored = argodeploy(
        &sim,
        h,
        &[
            "wait",
            "deploy-nope",
            SUCCEEDED,
            "-n",
            NS,
            "--ignore-not-found",
        ],
    );
    assert_eq!(ignored.code, Some(0), "{}", ignored.stderr);
    assert!(ignored.stdout.contains("deploy-nope not found (ignored)"));

    // Bad input: usage errors before any request.
    for args in [
        &["wait", RUNNING, "--timeout", "soon"][..],
        &["wait"][..],
        &["watch", RUNNING, "-o", "json"][..],
        &["get", RUNNING, "-w", "-o", "name"][..],
        &["resume", RUNNING, "--node-field-selector", "displayName"][..],
    ] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-n", NS]);
        let out = argodeploy(&sim, h, &all);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
    }
    assert_eq!(writes(&sim), 0, "{:?}", sim.mutating_requests());
}

#[test]
fn wait_follows_workflows_to_their_end() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    // Both succeed: exit 0 once the last one ends.
    let mut child = spawn(
        &sim,
        h,
        &["wait", RUNNING, PENDING, "-n", NS, "--timeout", "60s"],
    );
    assert!(still_running(&mut child, Duration::from_millis(1500)));
    end(&sim, RUNNING, "Succeeded", "");
    assert!(still_running(&mut child, Duration::from_millis(1000)));
    end(&sim, PENDING, "Succeeded", "");
    let out = finish(child, Duration::from_secs(20));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "{RUNNING} Succeeded at 2026-12-02T12:00:00Z\n{PENDING} Succeeded at 2026-12-02T12:00:00Z\n"
        )
    );

    // One fails: exit 1 with its message.
    let dir = tempfile::tempdir().unwrap();
    waiting_at_approval(&sim, dir.path(), "deploy-0badcafe-f1", false);
    let child = spawn(&sim, h, &["wait", "deploy-0badcafe-f1", "-n", NS]);
    std::thread::sleep(Duration::from_millis(1000));
    end(
        &sim,
        "deploy-0badcafe-f1",
        "Error",
        "child 'approve' errored",
    );
    let out = finish(child, Duration::from_secs(20));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("deploy-0badcafe-f1 Error at 2026-12-02T12:00:00Z: child 'approve' errored"),
        "{}",
        out.stdout
    );

    // Deleted while waited on: it did not succeed.
    waiting_at_approval(&sim, dir.path(), "deploy-0badcafe-f2", false);
    let child = spawn(&sim, h, &["wait", "deploy-0badcafe-f2", "-n", NS]);
    std::thread::sleep(Duration::from_millis(1000));
    let del = sim.kubectl(&["delete", "workflow", "deploy-0badcafe-f2", "-n", NS]);
    assert_eq!(del.code, Some(0), "{}", del.stderr);
    let out = finish(child, Duration::from_secs(20));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("deploy-0badcafe-f2 deleted before it completed")
    );

    // It watched: no request polled the workflow over and over.
    let gets = sim
        .journal()
        .into_iter()
        .filter(|e| e["method"] == "GET")
        .filter(|e| {
            e["path"]
                .as_str()
                .unwrap_or("")
                .ends_with(&format!("/workflows/{RUNNING}"))
        })
        .count();
    assert!(gets <= 2, "{gets} GETs of {RUNNING}");
}

#[test]
fn watch_and_get_w_append_snapshots_when_not_a_terminal_and_end_with_the_workflow() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    let mut child = spawn(&sim, h, &["watch", RUNNING, "-n", NS]);
    assert!(still_running(&mut child, Duration::from_millis(1500)));
    patch(
        &sim,
        RUNNING,
        &json!({"metadata": {"labels": {"seen": "once"}}}),
    );
    std::thread::sleep(Duration::from_millis(500));
    end(&sim, RUNNING, "Succeeded", "");
    let out = finish(child, Duration::from_secs(20));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let snapshots: Vec<&str> = out.stdout.split("\n\nName:").collect();
    // The first version, the label, the completed label, the final status.
    assert!(snapshots.len() >= 3, "{}", out.stdout);
    assert!(
        out.stdout
            .starts_with(&format!("Name:                {RUNNING}\n"))
    );
    assert!(snapshots[0].contains("Status:              Running"));
    assert!(
        snapshots
            .last()
            .unwrap()
            .contains("Status:              Succeeded")
    );
    assert!(
        !out.stdout.contains('\x1b'),
        "no terminal sequences in a pipe"
    );

    // get -w: the same, and a Failed end exits 1.
    let child = spawn(&sim, h, &["get", PENDING, "-n", NS, "-w", "-o", "wide"]);
    std::thread::sleep(Duration::from_millis(1000));
    end(&sim, PENDING, "Failed", "child 'verify' failed");
    let out = finish(child, Duration::from_secs(20));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stdout.contains("Status:              Failed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(&format!(
            "error: workflow {PENDING} ended Failed: child 'verify' failed"
        )),
        "{}",
        out.stderr
    );

    // A completed workflow: one snapshot, at once.
    let done = argodeploy(&sim, h, &["watch", SUCCEEDED_COMPRESSED, "-n", NS]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(done.stdout.matches("Name:").count(), 1);

    // Ctrl-C ends a watch or a wait quietly: 130, no error line.
    let dir = tempfile::tempdir().unwrap();
    waiting_at_approval(&sim, dir.path(), "deploy-0badcafe-i1", false);
    for verb in ["watch", "wait"] {
        let mut child = spawn(&sim, h, &[verb, "deploy-0badcafe-i1", "-n", NS]);
        assert!(still_running(&mut child, Duration::from_millis(1500)));
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let out = finish(child, Duration::from_secs(10));
        assert_eq!(out.code, Some(130), "{verb}: {}", out.stderr);
        assert!(
            !out.stderr.contains("error") && !out.stderr.contains("interrupted"),
            "{verb}: {}",
            out.stderr
        );
    }
}

#[test]
fn watch_on_a_terminal_redraws_in_place_and_ends() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect, Session};
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let mut cmd = command(&sim, home.path(), &["watch", RUNNING, "-n", NS]);
    cmd.env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect("Status:              Running")
        .expect("the tree");
    // Redrawn every second (durations move): the cursor goes back up over the last frame.
    let redraw = session
        .expect(expectrl::Regex("\r\x1b\\[([0-9]+)A\x1b\\[J"))
        .expect("a redraw in place");
    let rows: usize = String::from_utf8_lossy(redraw.get(1).unwrap())
        .parse()
        .unwrap();
    assert!(rows >= 10, "{rows} rows");
    end(&sim, RUNNING, "Succeeded", "");
    let rest = session.expect(Eof).expect("the end");
    let rest = String::from_utf8_lossy(rest.as_bytes()).into_owned();
    assert!(rest.contains("Status:              Succeeded"), "{rest:?}");
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }

    // wait on a terminal: a spinner says where the workflow is, then argo's line.
    let mut cmd = command(&sim, home.path(), &["wait", PENDING, "-n", NS]);
    cmd.env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect(format!("waiting for {PENDING}: Pending (0 steps done)"))
        .expect("the spinner");
    end(&sim, PENDING, "Succeeded", "");
    session
        .expect(format!("{PENDING} Succeeded at 2026-12-02T12:00:00Z"))
        .expect("argo's line");
    session.expect(Eof).expect("the end");
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn suspend_and_resume_patch_spec_suspend_and_refuse_what_they_cannot_do() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    // The plan; no terminal and no --yes: refused, nothing changed.
    let refused = argodeploy(&sim, h, &["suspend", RUNNING, "-n", NS]);
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    assert!(refused.stderr.contains(&format!(
        "Suspend workflow {RUNNING} (Running): spec.suspend: true"
    )));
    let dry = argodeploy(
        &sim,
        h,
        &["suspend", RUNNING, "-n", NS, "--dry-run", "-o", "json"],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let plan: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(plan["suspend"], true);
    assert_eq!(plan["workflow"], RUNNING);
    // Completed: refused, exit 1.
    let done = argodeploy(&sim, h, &["suspend", SUCCEEDED, "-n", NS, "-y"]);
    assert_eq!(done.code, Some(1), "{}", done.stderr);
    assert!(done.stderr.contains("cannot suspend a completed workflow"));
    // Nothing to resume: refused, exit 1.
    let nothing = argodeploy(&sim, h, &["resume", RUNNING, "-n", NS, "-y"]);
    assert_eq!(nothing.code, Some(1), "{}", nothing.stderr);
    assert!(
        nothing
            .stderr
            .contains("is neither suspended nor waiting at a suspend step: nothing to resume"),
        "{}",
        nothing.stderr
    );
    assert_eq!(writes(&sim), 0, "{:?}", sim.mutating_requests());

    let suspended = argodeploy(&sim, h, &["suspend", RUNNING, "-n", NS, "-y"]);
    assert_eq!(suspended.code, Some(0), "{}", suspended.stderr);
    assert_eq!(suspended.stdout, format!("workflow {RUNNING} suspended\n"));
    assert_eq!(workflow(&sim, RUNNING)["spec"]["suspend"], true);
    let patches = sim.mutating_requests();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(patches[0]["method"], "PATCH");
    // Again: nothing to do, no request.
    let again = argodeploy(&sim, h, &["suspend", RUNNING, "-n", NS, "-y"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(again.stderr.contains("is already suspended: nothing to do"));
    assert_eq!(writes(&sim), 1);

    let resumed = argodeploy(&sim, h, &["resume", RUNNING, "-n", NS, "-y", "-o", "yaml"]);
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert!(
        resumed.stdout.contains("unsuspend: true"),
        "{}",
        resumed.stdout
    );
    let wf = workflow(&sim, RUNNING);
    assert!(wf["spec"].get("suspend").is_none(), "{}", wf["spec"]);
    // The other steps' status is as it was.
    assert_eq!(wf["status"]["phase"], "Running");
    assert_eq!(writes(&sim), 2);
}

#[test]
fn resume_approves_a_waiting_suspend_step_plain_or_compressed() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = home.path();

    let plain = "deploy-0badcafe-p1";
    waiting_at_approval(&sim, dir.path(), plain, false);
    // A selector that matches nothing: refused, nothing changed.
    let before = writes(&sim);
    let none = argodeploy(
        &sim,
        h,
        &[
            "resume",
            plain,
            "-n",
            NS,
            "-y",
            "--node-field-selector",
            "displayName=deploy",
        ],
    );
    assert_eq!(none.code, Some(1), "{}", none.stderr);
    assert!(none.stderr.contains("no suspend step waiting that matches"));
    assert_eq!(writes(&sim), before);
    let out = argodeploy(
        &sim,
        h,
        &[
            "resume",
            plain,
            "-n",
            NS,
            "-y",
            "--node-field-selector",
            "displayName=approve,phase=Running",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains(&format!(
        "suspend step approve ({plain}-1): Running → Succeeded"
    )));
    let wf = workflow(&sim, plain);
    let node = &wf["status"]["nodes"][format!("{plain}-1")];
    assert_eq!(node["phase"], "Succeeded");
    assert_eq!(node["message"], "Resumed by: kubectl argodeploy");
    assert!(
        node["finishedAt"]
            .as_str()
            .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok())
    );
    // Only that node changed.
    assert_eq!(wf["status"]["nodes"][plain]["phase"], "Running");
    assert_eq!(
        wf["status"]["nodes"][format!("{plain}-0")]["phase"],
        "Succeeded"
    );

    let packed = "deploy-0badcafe-c1";
    waiting_at_approval(&sim, dir.path(), packed, true);
    let out = argodeploy(&sim, h, &["resume", packed, "-n", NS, "-y", "-o", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["compressed"], true);
    assert_eq!(plan["nodes"][0]["displayName"], "approve");
    let wf = workflow(&sim, packed);
    assert!(
        wf["status"]["nodes"]
            .as_object()
            .is_none_or(|m| m.is_empty()),
        "written back compressed: {}",
        wf["status"]
    );
    let nodes = gunzip(
        wf["status"]["compressedNodes"]
            .as_str()
            .expect("compressedNodes"),
    );
    let node = &nodes[format!("{packed}-1")];
    assert_eq!(node["phase"], "Succeeded");
    assert_eq!(
        node["message"],
        "waiting for the change board; Resumed by: kubectl argodeploy"
    );
    // argo's OverrideOutputParametersWithDefault: the raw output took its default.
    assert_eq!(
        node["outputs"]["parameters"][0],
        json!({"name": "approved-by", "value": "nobody"})
    );
    assert_eq!(nodes.as_object().unwrap().len(), 3);
    // get reads it back.
    let tree = argodeploy(&sim, h, &["get", packed, "-n", NS]);
    assert_eq!(tree.code, Some(0), "{}", tree.stderr);
    assert!(tree.stdout.contains("approve"), "{}", tree.stdout);
}

#[test]
fn suspend_asks_on_a_terminal_and_acts_only_on_yes() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect, Session};
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let exit = |s: &expectrl::session::OsSession| match s.get_process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    };
    let spawn = || {
        let mut s = Session::spawn(command(&sim, home.path(), &["suspend", RUNNING, "-n", NS]))
            .expect("spawn in a pty");
        s.set_expect_timeout(Some(Duration::from_secs(20)));
        s
    };
    let mut no = spawn();
    no.expect(format!("Suspend {RUNNING}?")).unwrap();
    no.send("n\r").unwrap();
    no.expect(Eof).unwrap();
    assert_eq!(exit(&no), 3);
    assert_eq!(writes(&sim), 0);
    assert!(workflow(&sim, RUNNING)["spec"].get("suspend").is_none());
    let mut yes = spawn();
    yes.expect(format!("Suspend {RUNNING}?")).unwrap();
    yes.send("y\r").unwrap();
    yes.expect(format!("workflow {RUNNING} suspended")).unwrap();
    yes.expect(Eof).unwrap();
    assert_eq!(exit(&yes), 0);
    assert_eq!(workflow(&sim, RUNNING)["spec"]["suspend"], true);
}

/// Each verb's --help examples work as printed (wait and watch once their workflow ended,
/// suspend and resume as dry runs), and the workflow names complete after each verb.
#[test]
fn examples_work_as_printed_and_workflow_names_complete() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    for verb in ["wait", "watch", "suspend", "resume"] {
        let out = run(Command::new(suite_tests::bin("kubectl-argodeploy"))
            .args(["__complete", verb, "--kubeconfig"])
            .arg(&sim.kubeconfig)
            .args(["-n", NS, "deploy-e5"]));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(
            out.stdout, "deploy-e5121482-2d6nd\ndeploy-e5121482-p8q6v\ndeploy-e5121482-wwmms\n:4\n",
            "{verb}"
        );
    }
    // The examples' workflow: waiting at an approval step and suspended, for resume's.
    patch(
        &sim,
        RUNNING,
        &json!({"status": {"nodes": {"approve-1": {"id": "approve-1", "name": format!("{RUNNING}[3].approve"),
            "displayName": "approve", "type": "Suspend", "phase": "Running"}}}}),
    );
    patch(&sim, RUNNING, &json!({"spec": {"suspend": true}}));
    let mut ran = 0;
    for (verb, ended) in [
        ("suspend", false),
        ("resume", false),
        ("wait", true),
        ("watch", true),
    ] {
        if verb == "wait" {
            end(&sim, RUNNING, "Succeeded", "");
        }
        let help = argodeploy(&sim, h, &[verb, "--help"]);
        assert_eq!(help.code, Some(0), "{}", help.stderr);
        let examples = help.stdout.split("\nExamples:\n").nth(1).expect("examples");
        let examples = examples.replace(" \\\n", " ");
        for line in examples.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("kubectl argodeploy ") else {
                continue;
            };
            let mut words: Vec<&str> = rest.split_whitespace().collect();
            if !ended && !words.contains(&"--dry-run") {
                words.push("--dry-run");
            }
            let out = argodeploy(&sim, h, &words);
            assert_eq!(out.code, Some(0), "{line}: {}", out.stderr);
            ran += 1;
        }
    }
    assert!(ran >= 8, "{ran} examples");
    // The patches above are the only writes.
    assert_eq!(writes(&sim), 3, "{:?}", sim.mutating_requests());
}

// With kube-sim's Argo controller (tests/sim/src/argo.rs) running the workflows: it runs only
// while Argo's workflow-controller Deployment (namespace argo, recorded at 0) has a Ready pod.

/// The atmosphere cluster at 20× simulated time with Argo's workflow-controller scaled up.
fn live_sim() -> SimProcess {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "20"]);
    sim.start_argo_controller();
    sim
}

/// A workflow of `steps` one-step groups, each a container running `secs` simulated seconds
/// and exiting 0, created with kubectl for the controller to run.
fn create_live(sim: &SimProcess, dir: &Path, name: &str, steps: &[&str], secs: u32) {
    let groups: Vec<Value> = steps
        .iter()
        .map(|s| json!([{"name": s, "template": "ok"}]))
        .collect();
    let wf = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": name, "namespace": NS, "labels": {"instance_uuid": name, "username": "tester"}},
        "spec": {"entrypoint": "main", "templates": [
            {"name": "main", "steps": groups},
            {"name": "ok", "metadata": {"annotations": {"sim.kube-sim.dev/exit-after-seconds": secs.to_string(),
                                                          "sim.kube-sim.dev/exit-codes": "0"}},
             "container": {"image": "alpine:3.23", "command": ["true"]}}]},
    });
    let path = suite_tests::write(dir, &format!("{name}.json"), &wf.to_string());
    let out = sim.kubectl(&["create", "--validate=false", "-f", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

fn pod_count(sim: &SimProcess, wf: &str) -> usize {
    let selector = format!("workflows.argoproj.io/workflow={wf}");
    sim.get_json(&["pods", "-n", NS, "-l", &selector])["items"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn live_wait_and_watch_end_with_the_workflows_the_controller_runs() {
    let sim = live_sim();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = home.path();
    create_live(&sim, dir.path(), "live-ok", &["a", "b"], 4);

    // watch (a pipe) and wait, started while both run; deploy-live-dag ends Failed
    // (its web step fails, fail-fast), live-ok Succeeded.
    let watch_ok = spawn(&sim, h, &["watch", "live-ok", "-n", NS]);
    let watch_dag = spawn(&sim, h, &["get", "deploy-live-dag", "-n", NS, "-w"]);
    let wait_ok = spawn(&sim, h, &["wait", "live-ok", "-n", NS, "--timeout", "60s"]);
    let wait_both = spawn(
        &sim,
        h,
        &[
            "wait",
            "live-ok",
            "deploy-live-dag",
            "-n",
            NS,
            "--timeout",
            "60s",
            "-o",
            "json",
        ],
    );

    let out = finish(wait_ok, Duration::from_secs(60));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with("live-ok Succeeded at "),
        "{}",
        out.stdout
    );
    let out = finish(wait_both, Duration::from_secs(60));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let outcomes: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(outcomes[0]["phase"], "Succeeded");
    assert_eq!(outcomes[1]["phase"], "Failed");
    assert!(
        outcomes[1]["message"]
            .as_str()
            .unwrap_or("")
            .contains("failed"),
        "{outcomes}"
    );

    let out = finish(watch_ok, Duration::from_secs(30));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // It saw the steps run: several snapshots, the last one Succeeded.
    let snapshots: Vec<&str> = out.stdout.split("\n\nName:").collect();
    assert!(snapshots.len() >= 3, "{}", out.stdout);
    assert!(
        snapshots
            .last()
            .unwrap()
            .contains("Status:              Succeeded")
    );
    let out = finish(watch_dag, Duration::from_secs(30));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("error: workflow deploy-live-dag ended Failed"),
        "{}",
        out.stderr
    );
}

#[test]
fn live_suspend_holds_new_steps_and_resume_finishes_the_workflow() {
    let sim = live_sim();
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let h = home.path();

    create_live(&sim, dir.path(), "live-hold", &["a", "b", "c"], 20);
    let out = argodeploy(&sim, h, &["suspend", "live-hold", "-n", NS, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Suspended: whatever step was started finishes, no new pod is created (20 simulated
    // seconds per real second: each step takes about one real second).
    std::thread::sleep(Duration::from_millis(1000));
    let held = pod_count(&sim, "live-hold");
    assert!(held <= 1, "{held} pods while suspended");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        pod_count(&sim, "live-hold"),
        held,
        "a new pod while suspended"
    );
    assert_eq!(workflow(&sim, "live-hold")["status"]["phase"], "Running");
    let out = argodeploy(&sim, h, &["resume", "live-hold", "-n", NS, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = argodeploy(
        &sim,
        h,
        &["wait", "live-hold", "-n", NS, "--timeout", "60s"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(pod_count(&sim, "live-hold"), 3);

    // deploy-live-suspend waits at its approve step (a suspend template) until resumed.
    let name = "deploy-live-suspend";
    suite_tests::wait_for("approve is waiting", Duration::from_secs(30), || {
        nodes_of(&workflow(&sim, name))
            .iter()
            .any(|n| n["type"] == "Suspend" && n["phase"] == "Running")
    });
    let timed_out = argodeploy(&sim, h, &["wait", name, "-n", NS, "--timeout", "1s"]);
    assert_eq!(timed_out.code, Some(4), "{}", timed_out.stderr);
    let out = argodeploy(&sim, h, &["resume", name, "-n", NS, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("suspend step approve"),
        "{}",
        out.stderr
    );
    let out = argodeploy(&sim, h, &["wait", name, "-n", NS, "--timeout", "60s"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let wf = workflow(&sim, name);
    let approve = nodes_of(&wf)
        .into_iter()
        .find(|n| n["displayName"] == "approve")
        .expect("approve");
    assert_eq!(approve["phase"], "Succeeded");
    assert_eq!(approve["message"], "Resumed by: kubectl argodeploy");
    assert!(
        nodes_of(&wf)
            .iter()
            .any(|n| n["displayName"] == "verify" && n["phase"] == "Succeeded")
    );
}

/// The node status, plain or compressed.
fn nodes_of(wf: &Value) -> Vec<Value> {
    if let Some(text) = wf["status"]["compressedNodes"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        return gunzip(text)
            .as_object()
            .unwrap()
            .values()
            .cloned()
            .collect();
    }
    wf["status"]["nodes"]
        .as_object()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default()
}

/// Without `watch` on workflows, wait and watch fail at once with the refusal and doctor's
/// command, rather than retrying for ever.
#[test]
fn without_watch_permission_wait_and_watch_fail_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/scenarios/atmosphere.yaml"),
    )
    .expect("atmosphere.yaml");
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&scenario).expect("scenario");
    let user = json!({"name": "nowatch", "token": "kube-sim-nowatch-token",
                      "rules": [{"verbs": ["get", "list"], "resources": ["*"]}]});
    doc["users"]
        .as_sequence_mut()
        .expect("users")
        .push(serde_yaml::to_value(user).expect("yaml"));
    let path = suite_tests::write(
        dir.path(),
        "atmosphere-nowatch.yaml",
        &serde_yaml::to_string(&doc).expect("yaml"),
    );
    let sim = SimProcess::start(path.to_str().unwrap(), &[]);
    let kubeconfig = sim.kubeconfig_with_token("nowatch", "kube-sim-nowatch-token");
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["wait", RUNNING, "-n", NS][..],
        &["watch", RUNNING, "-n", NS][..],
    ] {
        let child = plugin("argodeploy", home.path())
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let out = finish(child, Duration::from_secs(20));
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        let last = out.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with(&format!(
                "error: cannot watch workflow {RUNNING}: forbidden"
            )) && last.contains("kubectl argodeploy doctor"),
            "{args:?}: {last}"
        );
    }
}
