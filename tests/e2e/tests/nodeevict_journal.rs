//! `kubectl nodeevict`: the drain journal is never written over (a rerun continues it or
//! refuses, two runs never both own a node), `--grace-period -1`, owners as kubectl's
//! `GetControllerOf` finds them and whole label selectors.

use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use suite_tests::nodeevict_marked as annotated;
use suite_tests::{Interrupt, Run, SimProcess, interrupt_after_step, plugin, run};

const NODE: &str = "ip-10-0-12-27.ec2.internal";
const OTHER_NODES: [&str; 4] = [
    "ip-10-0-23-114.ec2.internal",
    "ip-10-0-34-201.ec2.internal",
    "ip-10-0-45-9.ec2.internal",
    "ip-10-0-56-78.ec2.internal",
];

fn nodeevict(sim: &SimProcess, home: &Path, args: &[&str]) -> Run {
    run(plugin("nodeevict", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn replicas(sim: &SimProcess, deployment: &str) -> Value {
    sim.get_json(&["deployment", deployment])["spec"]["replicas"].clone()
}

/// The single-replica Deployments of artsy's drain node are back at 1, unannotated, and the
/// node carries no journal.
fn everything_restored(sim: &SimProcess, context: &str) {
    for single in ["exchange-web", "force-web"] {
        let d = sim.get_json(&["deployment", single]);
        assert_eq!(d["spec"]["replicas"], 1, "{context}: {single}: {d}");
        assert!(!annotated(&d), "{context}: {single} still annotated: {d}");
    }
    let node = sim.get_json(&["node", NODE]);
    assert!(!annotated(&node), "{context}: the journal is left: {node}");
}

/// Creates objects with real kubectl (`apply -f` of a JSON file).
fn apply(sim: &SimProcess, dir: &Path, name: &str, object: &Value) {
    let path = suite_tests::write(dir, name, &object.to_string());
    let out = sim.kubectl(&["apply", "--validate=false", "-f", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "apply {name}: {}", out.stderr);
}

#[test]
fn rerunning_the_same_drain_after_a_kill_continues_it_and_restores_the_originals() {
    // Killed right after the cordon (no pre-scale yet: the replan sees the budget at its
    // limit) and after the pre-scale.
    for step in ["cordoned", "prescaled"] {
        let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
        let home = tempfile::tempdir().unwrap();
        let args = [NODE, "--force", "-y", "--timeout", "2m"];
        interrupt_after_step("nodeevict", &sim, home.path(), &args, step, Interrupt::Kill);
        let expected = if step == "prescaled" { 2 } else { 1 };
        assert_eq!(
            replicas(&sim, "exchange-web"),
            expected,
            "killed after {step}"
        );
        // What most operators type next: the same command again.
        let again = nodeevict(&sim, home.path(), &args);
        assert_eq!(again.code, Some(0), "after {step}: {}", again.stderr);
        assert!(
            again.stderr.contains(&format!(
                "a drain of {NODE} is already recorded (step {step}); continuing it as `kubectl nodeevict resume {NODE} --kubeconfig {}` would",
                sim.kubeconfig.display()
            )),
            "{}",
            again.stderr
        );
        everything_restored(
            &sim,
            &format!("after the rerun that followed a kill after {step}"),
        );
    }
}

#[test]
fn a_rerun_with_other_options_refuses_and_changes_nothing() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &[NODE, "--force", "-y"],
        "prescaled",
        Interrupt::Kill,
    );
    let journal_before = sim.get_json(&["node", NODE])["metadata"]["annotations"].clone();
    let before = sim.mutating_requests().len();
    for other in [
        vec![NODE, "-y"],
        vec![NODE, "--force", "--delete-emptydir-data", "-y"],
        vec![NODE, "--force", "--grace-period", "5", "-y"],
    ] {
        let out = nodeevict(&sim, home.path(), &other);
        assert_eq!(out.code, Some(1), "{other:?}: {}", out.stderr);
        let kubeconfig = sim.kubeconfig.display();
        assert!(
            out.stderr.contains(&format!(
                "`kubectl nodeevict resume {NODE} --kubeconfig {kubeconfig}`"
            )) && out.stderr.contains(&format!(
                "`kubectl nodeevict abort {NODE} --kubeconfig {kubeconfig}`"
            )),
            "{other:?}: {}",
            out.stderr
        );
        assert_eq!(
            sim.mutating_requests().len(),
            before,
            "{other:?} changed something: {}",
            out.stderr
        );
    }
    let journal_after = sim.get_json(&["node", NODE])["metadata"]["annotations"].clone();
    assert_eq!(journal_before, journal_after);
    // The record is intact: the resume it names finishes the drain.
    let resumed = nodeevict(
        &sim,
        home.path(),
        &["resume", NODE, "-y", "--timeout", "2m"],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    everything_restored(&sim, "after the resume");
}

#[test]
fn of_two_drains_of_one_node_started_at_once_exactly_one_proceeds() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let spawn = || {
        plugin("nodeevict", home.path())
            .args([NODE, "--force", "-y", "--timeout", "2m", "--kubeconfig"])
            .arg(&sim.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nodeevict")
    };
    let (a, b) = (spawn(), spawn());
    let runs: Vec<Run> = [a, b]
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait").into())
        .collect();
    let codes: Vec<Option<i32>> = runs.iter().map(|r| r.code).collect();
    let both = format!("{}\n----\n{}", runs[0].stderr, runs[1].stderr);
    assert!(
        codes == [Some(0), Some(1)] || codes == [Some(1), Some(0)],
        "{codes:?}: {both}"
    );
    let loser = runs.iter().find(|r| r.code == Some(1)).unwrap();
    let last = loser.stderr.trim_end().lines().last().unwrap_or("");
    assert!(last.contains(NODE), "{last}");
    assert!(last.starts_with("error: "), "{last}");
    assert!(last.contains("another run"), "{last}");
    eprintln!("the run that stopped: {last}");
    everything_restored(&sim, "after two concurrent drains");
}

#[test]
fn grace_period_minus_one_is_the_pods_own_and_other_negatives_are_usage_errors() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let bad = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "--grace-period", "-5", "-y"],
    );
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("--grace-period"), "{}", bad.stderr);
    assert!(sim.mutating_requests().is_empty());
    // -1, as in kubectl drain: each pod's own terminationGracePeriodSeconds (30s, scaled).
    let out = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force",
            "--grace-period",
            "-1",
            "-y",
            "--timeout",
            "90s",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let gone = sim.kubectl(&["get", "pod", "debug-shell-jane"]);
    assert_ne!(gone.code, Some(0), "the unmanaged pod is still there");
    everything_restored(&sim, "after --grace-period -1");
}

/// A pod whose only ownerReference is not its controller: nothing recreates it.
#[test]
fn an_owner_reference_without_controller_true_is_an_unmanaged_pod() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let rs = sim.get_json(&["rs", "-l", "app=exchange"])["items"][0].clone();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "adopted-by-nobody", "namespace": "default", "labels": {"run": "adopted"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"]}]},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox:1.37",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    });
    apply(&sim, home.path(), "pod.json", &pod);
    // kube-sim's ReplicaSet controller, as the real one, counts only the pods it controls:
    // this one is not an extra replica to remove.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let kept = sim.kubectl(&["get", "pod", "adopted-by-nobody"]);
    assert_eq!(kept.code, Some(0), "the sim removed it: {}", kept.stderr);
    assert_eq!(
        sim.get_json(&["pods", "-l", "app=exchange"])["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The artsy node's own unmanaged pod would block too: it goes first.
    let removed = sim.kubectl(&[
        "delete",
        "pod",
        "debug-shell-jane",
        "--grace-period=0",
        "--force",
    ]);
    assert_eq!(removed.code, Some(0), "{}", removed.stderr);
    let before = sim.mutating_requests().len();
    let out = nodeevict(
        &sim,
        home.path(),
        &[NODE, "-y", "-o", "json", "--timeout", "1m"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(sim.mutating_requests().len(), before, "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).expect("the plan as json");
    let planned = plan["items"][0]["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "adopted-by-nobody")
        .cloned()
        .unwrap();
    assert_eq!(planned["verdict"], "blocked", "{planned}");
    assert_eq!(planned["owner"], "-", "{planned}");
    assert!(
        out.stderr.contains("adopted-by-nobody: unmanaged pod"),
        "{}",
        out.stderr
    );
    // With --force it is deleted (for good), as kubectl drain --force does.
    let forced = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    assert_ne!(
        sim.kubectl(&["get", "pod", "adopted-by-nobody"]).code,
        Some(0)
    );
    everything_restored(&sim, "after --force");
}

/// A Deployment selecting its pods with matchExpressions alone: only its pods are listed,
/// marked and waited for; an unrelated pod of the namespace is left alone.
#[test]
fn a_match_expressions_selector_touches_only_its_own_pods() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    // Its one replica lands on the drain node: every other node is cordoned meanwhile.
    for n in OTHER_NODES {
        assert_eq!(sim.kubectl(&["cordon", n]).code, Some(0));
    }
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "exprweb", "namespace": "default"},
        "spec": {"replicas": 1,
            "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["exprweb"]}]},
            "template": {"metadata": {"labels": {"app": "exprweb"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    });
    apply(&sim, home.path(), "deployment.json", &deployment);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let ready = sim.get_json(&["deployment", "exprweb"])["status"]["readyReplicas"].as_i64();
        if ready == Some(1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "exprweb never became Ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for n in OTHER_NODES {
        assert_eq!(sim.kubectl(&["uncordon", n]).code, Some(0));
    }
    let pods = sim.get_json(&["pods", "-l", "app=exprweb"]);
    assert_eq!(pods["items"][0]["spec"]["nodeName"], NODE, "{pods}");
    let args = [NODE, "--force", "-y", "--timeout", "2m"];
    interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &args,
        "cordoned",
        Interrupt::Kill,
    );
    // A pod of the same namespace, created while the drain is under way, on another node.
    let unrelated = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "unrelated", "namespace": "default", "labels": {"app": "unrelated"}},
        "spec": {"nodeName": OTHER_NODES[0], "containers": [{"name": "c", "image": "busybox:1.37",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    });
    apply(&sim, home.path(), "unrelated.json", &unrelated);
    let uid = sim.get_json(&["pod", "unrelated"])["metadata"]["uid"].clone();
    let resumed = nodeevict(
        &sim,
        home.path(),
        &["resume", NODE, "-y", "--timeout", "2m"],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    let after = sim.get_json(&["pod", "unrelated"]);
    assert_eq!(after["metadata"]["uid"], uid);
    assert!(
        after["metadata"]["annotations"]
            .get("controller.kubernetes.io/pod-deletion-cost")
            .is_none(),
        "{after}"
    );
    let unrelated_writes: Vec<Value> = sim
        .mutating_requests()
        .into_iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("/pods/unrelated")
        })
        .filter(|r| r["method"] != "POST")
        .collect();
    assert!(unrelated_writes.is_empty(), "{unrelated_writes:?}");
    let prescaled = sim.mutating_requests().into_iter().any(|r| {
        r["method"] == "PATCH"
            && r["path"]
                .as_str()
                .unwrap_or("")
                .ends_with("/deployments/exprweb")
    });
    assert!(prescaled, "exprweb was never pre-scaled");
    let d = sim.get_json(&["deployment", "exprweb"]);
    assert_eq!(d["spec"]["replicas"], 1, "{d}");
    assert!(!annotated(&d), "{d}");
    everything_restored(&sim, "after the drain");
}

/// While a drain is still being carried out (here halted, alive, after its pre-scale), the same
/// command again, `resume` and `abort` each refuse and change nothing: they name the run that
/// holds the drain. Once that run is gone (killed), the same command goes on with the drain.
/// Before the heartbeat, a copy started while the first ran took its journal over and both
/// changed the cluster (the chaos soak's seed 100167).
#[test]
fn while_a_drain_runs_a_rerun_resume_or_abort_refuses_and_after_a_kill_the_rerun_goes_on() {
    use std::io::{BufRead, BufReader};
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let args = [NODE, "--force", "-y", "--timeout", "2m"];
    let mut first = plugin("nodeevict", home.path())
        .env(shared::cli::HALT_AFTER_STEP, "prescaled")
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nodeevict");
    let mut lines = BufReader::new(first.stderr.take().unwrap()).lines();
    let halted = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line.starts_with("halted after step prescaled "));
    assert!(halted, "the first run never reached its pre-scale");
    let journal_of = |sim: &SimProcess| {
        sim.get_json(&["node", NODE])["metadata"]["annotations"]
            ["nodeevict.kubectl-plugins.dev/journal"]
            .clone()
    };
    let journal_before = journal_of(&sim);
    let before = sim.mutating_requests().len();
    for attempt in [
        args.to_vec(),
        vec!["resume", NODE, "-y"],
        vec!["abort", NODE, "-y"],
    ] {
        let out = nodeevict(&sim, home.path(), &attempt);
        assert_eq!(out.code, Some(1), "{attempt:?}: {}", out.stderr);
        let last = out.stderr.trim_end().lines().last().unwrap_or("");
        let holder = format!("error: another run (process {} on this machine", first.id());
        assert!(last.starts_with(&holder), "{attempt:?}: {last}");
        assert!(last.contains(NODE), "{attempt:?}: {last}");
        assert!(
            last.contains("this run changed nothing"),
            "{attempt:?}: {last}"
        );
    }
    // Only the running drain's own heartbeat (a PATCH of the node) may have been written.
    let node_path = format!("/api/v1/nodes/{NODE}");
    for request in &sim.mutating_requests()[before..] {
        assert_eq!(request["method"], "PATCH", "{request}");
        assert_eq!(request["path"], node_path.as_str(), "{request}");
    }
    assert_eq!(journal_of(&sim), journal_before);
    assert_eq!(
        replicas(&sim, "exchange-web"),
        2,
        "the pre-scale was undone"
    );
    let status = nodeevict(&sim, home.path(), &["status"]);
    assert!(
        status.stdout.contains(&format!("pid {} on ", first.id())),
        "{}",
        status.stdout
    );
    // The running drain renews its heartbeat (every 10 s) while it holds the journal.
    let heartbeat_of = |sim: &SimProcess| {
        let text = sim.get_json(&["node", NODE])["metadata"]["annotations"]
            ["nodeevict.kubectl-plugins.dev/heartbeat"]
            .as_str()
            .map(str::to_string)
            .expect("a heartbeat beside the journal");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let first_beat = heartbeat_of(&sim);
    assert_eq!(first_beat["pid"], first.id(), "{first_beat}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while heartbeat_of(&sim)["renewed"] == first_beat["renewed"] {
        assert!(
            std::time::Instant::now() < deadline,
            "the heartbeat was not renewed in 30 s: {first_beat}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(
        journal_of(&sim),
        journal_before,
        "a renewal leaves the journal"
    );
    first.kill().expect("kill the first run");
    first.wait().expect("wait for it");
    let again = nodeevict(&sim, home.path(), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    everything_restored(&sim, "after the rerun that followed the kill");
}

/// A drain recorded by a run on another machine whose heartbeat is fresh is left alone; once
/// the heartbeat is older than the lease, the same command takes the drain over and finishes it.
#[test]
fn a_drain_held_by_another_machine_is_taken_over_only_once_its_heartbeat_is_stale() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let args = [NODE, "--force", "-y", "--timeout", "2m"];
    interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &args,
        "cordoned",
        Interrupt::Kill,
    );
    let node = sim.get_json(&["node", NODE]);
    let journal = node["metadata"]["annotations"]["nodeevict.kubectl-plugins.dev/journal"]
        .as_str()
        .unwrap()
        .to_string();
    let run = serde_json::from_str::<Value>(&journal).unwrap()["run"]
        .as_str()
        .unwrap()
        .to_string();
    let heartbeat = |age_secs: i64| {
        let renewed = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(age_secs);
        let beat =
            json!({"run": run, "host": "bastion-2.example", "pid": 4242, "renewed": renewed});
        let out = sim.kubectl(&[
            "annotate",
            "--overwrite",
            "node",
            NODE,
            &format!("nodeevict.kubectl-plugins.dev/heartbeat={beat}"),
        ]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    };
    heartbeat(5);
    let refused = nodeevict(&sim, home.path(), &args);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    let last = refused.stderr.trim_end().lines().last().unwrap_or("");
    assert!(
        last.contains("another run (process 4242 on bastion-2.example, heard from "),
        "{last}"
    );
    assert!(last.contains("run this again in "), "{last}");
    heartbeat(3600);
    let again = nodeevict(&sim, home.path(), &args);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    everything_restored(&sim, "after taking over a stale drain");
}

/// Soak seed 100027: a drain's first write, held up (latency, retries) while a second copy
/// drained the node completely, met a conflict, read the node again, found no journal there and
/// started a drain of its own over the finished one. A first write that finds the node cordoned
/// since it was read refuses and changes nothing.
#[test]
fn a_first_write_that_finds_the_node_drained_meanwhile_refuses_and_changes_nothing() {
    use std::io::{BufRead, BufReader};
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    // The sim holds the first PATCH of the node (the first run's cordon and journal) for 20 s.
    sim.slow_request("PATCH", &format!("/api/v1/nodes/{NODE}"), 0, 20_000);
    let args = [NODE, "--force", "-y", "--timeout", "2m"];
    let mut first = plugin("nodeevict", home.path())
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nodeevict");
    let mut lines = BufReader::new(first.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let planned = line.starts_with("capacity:");
        seen.push(line);
        if planned {
            break;
        }
    }
    // The plan is printed just before the first write: let it reach the sim and be held there.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let second = nodeevict(&sim, home.path(), &args);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    seen.extend(lines.map_while(Result::ok));
    let status = first.wait().expect("wait for the first run");
    let last = seen.last().cloned().unwrap_or_default();
    assert_eq!(status.code(), Some(1), "{}", seen.join("\n"));
    assert!(
        last.contains(&format!(
            "node {NODE} was cordoned, uncordoned or tainted since this run read it"
        )),
        "{last}"
    );
    assert!(last.contains("this run changed nothing"), "{last}");
    everything_restored(&sim, "after a drain another run had finished meanwhile");
    assert_eq!(
        sim.get_json(&["node", NODE])["spec"]["unschedulable"],
        true,
        "left cordoned by the drain that ran"
    );
}

/// Soak seed 100069: Ctrl-C while a drain's first write (the cordon and the journal) was in
/// flight. The note said "the drain is recorded", and the resume and abort it named both failed
/// with "no drain is recorded on node …" (the write had not landed). The note now says both
/// cases, and `abort` of a node with nothing recorded has nothing to undo: exit 0.
#[test]
fn ctrl_c_during_the_first_write_names_commands_that_work_either_way() {
    use std::io::{BufRead, BufReader};
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    sim.slow_request("PATCH", &format!("/api/v1/nodes/{NODE}"), 0, 3000);
    let mut child = plugin("nodeevict", home.path())
        .args([NODE, "--force", "-y", "--timeout", "1m", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nodeevict");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let planned = line.starts_with("capacity:");
        seen.push(line);
        if planned {
            break;
        }
    }
    // The plan is printed just before the first write; the sim holds that write for 3 s.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{}", seen.join("\n"));
    let last = seen.last().cloned().unwrap_or_default();
    assert!(
        last.contains(&format!("the drain of {NODE} was starting")),
        "{last}"
    );
    // Once the held write has landed or not, every command the note names works as printed.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let commands: Vec<&str> = last.split('`').skip(1).step_by(2).collect();
    assert_eq!(commands.len(), 3, "{last}");
    let status = suite_tests::paste(commands[0], &sim.kubeconfig, home.path());
    assert_eq!(status.code, Some(0), "{}: {}", commands[0], status.stderr);
    let abort = format!("{} -y", commands[2]);
    assert!(abort.starts_with("kubectl nodeevict abort "), "{abort}");
    let aborted = suite_tests::paste(&abort, &sim.kubeconfig, home.path());
    assert_eq!(aborted.code, Some(0), "{abort}: {}", aborted.stderr);
    let node = sim.get_json(&["node", NODE]);
    assert!(!annotated(&node), "{node}");
    assert_ne!(node["spec"]["unschedulable"], true, "{node}");
    // Nothing recorded now: the same abort again has nothing to undo, and changes nothing.
    let before = sim.mutating_requests().len();
    let again = suite_tests::paste(&abort, &sim.kubeconfig, home.path());
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains(&format!(
            "no drain is recorded on node {NODE}: nothing to undo"
        )),
        "{}",
        again.stderr
    );
    assert_eq!(sim.mutating_requests().len(), before);
    // An unknown node is still an error.
    let unknown = nodeevict(&sim, home.path(), &["abort", "no-such-node", "-y"]);
    assert_eq!(unknown.code, Some(1), "{}", unknown.stderr);
    assert!(unknown.stderr.contains("not found"), "{}", unknown.stderr);
}

#[test]
fn draining_a_node_already_cordoned_and_empty_writes_nothing_and_says_so() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let first = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let writes_before = sim.mutating_requests().len();
    // The same command again (an operator's rerun, or a second copy that lost the race): the
    // node is cordoned and holds only DaemonSet pods.
    let again = nodeevict(
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again
            .stdout
            .contains("already cordoned and has nothing to evict: nothing was changed")
            && again.stdout.contains("safe to terminate"),
        "{}",
        again.stdout
    );
    let writes: Vec<Value> = sim.mutating_requests()[writes_before..].to_vec();
    assert!(writes.is_empty(), "no write at all: {writes:?}");
    let node = sim.get_json(&["node", NODE]);
    assert_eq!(node["spec"]["unschedulable"], true);
    assert!(!annotated(&node), "no journal");
}
