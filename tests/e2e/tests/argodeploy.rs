//! `kubectl argodeploy` against kube-sim's atmosphere scenario (Argo's own controller
//! workflows plus generated instance deployments with pods and logs).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use suite_tests::{Run, SimProcess, plugin, run};

const NS: &str = "atmosphere";

fn argodeploy(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    run(plugin("argodeploy", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn names(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["list", "-n", NS, "-o", "json"];
    all.extend_from_slice(args);
    let out = argodeploy(sim, home, &all);
    assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

fn workflows(sim: &SimProcess) -> Vec<Value> {
    let out = sim.kubectl(&["get", "workflows", "-n", NS, "-o", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    serde_json::from_str::<Value>(&out.stdout).unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn set(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

fn expected(sim: &SimProcess, keep: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    workflows(sim)
        .iter()
        .filter(|w| {
            w["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"].is_null()
        })
        .filter(|w| keep(w))
        .map(|w| w["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn time(v: &Value) -> Option<jiff::Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

#[test]
fn list_filters_and_order_match_argo() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let label = |w: &Value, k: &str| {
        w["metadata"]["labels"][k]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let all = names(&sim, home.path(), &[]);
    assert_eq!(
        set(&all),
        expected(&sim, |_| true),
        "no controller-instanceid: the canary's workflows are hidden"
    );
    let canary = names(&sim, home.path(), &["--instanceid", "atmosphere-canary"]);
    assert_eq!(
        set(&canary),
        set(&[
            "deploy-7dabe929-wtfrv".into(),
            "deploy-7dabe929-87ztq".into(),
            "deploy-7dabe929-vlrxt".into()
        ])
    );
    assert_eq!(
        set(&names(&sim, home.path(), &["--username", "jdoe"])),
        expected(&sim, |w| label(w, "username") == "jdoe")
    );
    let instance = "e5121482-3929-4d22-a255-accb1a466884";
    assert_eq!(
        set(&names(&sim, home.path(), &["--instance", instance])),
        expected(&sim, |w| label(w, "instance_uuid") == instance)
    );
    assert_eq!(
        set(&names(&sim, home.path(), &["--status", "Failed,error"])),
        expected(&sim, |w| matches!(
            label(w, "workflows.argoproj.io/phase").as_str(),
            "Failed" | "Error"
        ))
    );
    let completed = |w: &Value| label(w, "workflows.argoproj.io/completed") == "true";
    assert_eq!(
        set(&names(&sim, home.path(), &["--running"])),
        expected(&sim, |w| !completed(w))
    );
    assert_eq!(
        set(&names(&sim, home.path(), &["--completed"])),
        expected(&sim, completed)
    );
    let now = jiff::Timestamp::now();
    let within = |w: &Value, secs: i64| {
        time(&w["metadata"]["creationTimestamp"])
            .is_some_and(|c| now.duration_since(c).as_secs() <= secs)
    };
    assert_eq!(
        set(&names(&sim, home.path(), &["--since", "4d"])),
        expected(&sim, |w| within(w, 4 * 86400))
    );
    assert_eq!(
        set(&names(&sim, home.path(), &["--since", "9d"])),
        expected(&sim, |w| within(w, 9 * 86400))
    );
    let older = |w: &Value, secs: i64| {
        time(&w["status"]["finishedAt"]).is_some_and(|f| now.duration_since(f).as_secs() >= secs)
    };
    assert_eq!(
        set(&names(&sim, home.path(), &["--older", "6d"])),
        expected(&sim, |w| older(w, 6 * 86400))
    );
    assert_eq!(
        set(&names(&sim, home.path(), &["--prefix", "deploy-e5"])),
        expected(&sim, |w| w["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("deploy-e5"))
    );
    assert_eq!(
        set(&names(&sim, home.path(), &["-l", "username=mlee"])),
        expected(&sim, |w| label(w, "username") == "mlee")
    );
    assert!(names(&sim, home.path(), &["--since", "1s"]).is_empty());
    // Small pages: the client-side filters apply to every page; nothing is dropped.
    let before = sim.journal().len();
    assert_eq!(
        names(&sim, home.path(), &["--chunk-size", "2", "--since", "9d"]),
        names(&sim, home.path(), &["--since", "9d"])
    );
    let pages = sim
        .journal()
        .iter()
        .skip(before)
        .filter(|r| {
            r["path"].as_str().unwrap().ends_with("/workflows")
                && r["query"].as_str().unwrap_or("").contains("limit=2")
        })
        .count();
    assert!(pages > 3, "{pages} pages");

    // Unfinished first, newest created first; then finished, newest finishedAt first.
    let by_name: std::collections::HashMap<String, Value> = workflows(&sim)
        .into_iter()
        .map(|w| (w["metadata"]["name"].as_str().unwrap().to_string(), w))
        .collect();
    let keys: Vec<(bool, jiff::Timestamp)> = all
        .iter()
        .map(|n| {
            let w = &by_name[n];
            match time(&w["status"]["finishedAt"]) {
                None => (false, time(&w["metadata"]["creationTimestamp"]).unwrap()),
                Some(f) => (true, f),
            }
        })
        .collect();
    for pair in keys.windows(2) {
        assert!(pair[0].0 <= pair[1].0, "unfinished first: {all:?}");
        if pair[0].0 == pair[1].0 {
            assert!(pair[0].1 >= pair[1].1, "newest first: {all:?}");
        }
    }
    let table = argodeploy(
        &sim,
        home.path(),
        &["list", "-n", NS, "-o", "wide", "--username", "jdoe"],
    );
    let header = table.stdout.lines().next().unwrap();
    for column in [
        "NAME",
        "STATUS",
        "AGE",
        "DURATION",
        "MESSAGE",
        "USER",
        "INSTANCE",
        "P/R/C",
        "PARAMETERS",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        table.stdout.contains("playbook=deploy-instance.yml"),
        "{}",
        table.stdout
    );
    let bad = argodeploy(
        &sim,
        home.path(),
        &["list", "-n", NS, "--status", "Exploded"],
    );
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(sim.mutating_requests().is_empty());
}

fn list_requests(workflows: usize) -> usize {
    let sim = SimProcess::start(&format!("large:nodes=3,workflows={workflows}"), &[]);
    let home = tempfile::tempdir().unwrap();
    let before = sim.journal().len();
    let out = argodeploy(
        &sim,
        home.path(),
        &["list", "-A", "--username", "user3", "-o", "name"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.is_empty());
    sim.journal().len() - before - 1
}

#[test]
fn list_requests_do_not_grow_with_the_workflows() {
    let small = list_requests(200);
    let large = list_requests(2000);
    assert_eq!(
        small, large,
        "200 workflows: {small} requests; 2,000: {large}"
    );
    assert!(large <= 2, "{large}");
}

#[test]
fn get_renders_the_controllers_workflow_as_a_tree() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = argodeploy(
        &sim,
        home.path(),
        &["get", "failed-retries-tjjsc", "-n", NS],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("failed-retries-tjjsc"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("STEP") && out.stdout.contains("PODNAME"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("✖"), "{}", out.stdout);
    let ascii = argodeploy(
        &sim,
        home.path(),
        &["get", "failed-retries-tjjsc", "-n", NS, "--no-utf8"],
    );
    assert!(ascii.stdout.is_ascii(), "{}", ascii.stdout);
    let missing = argodeploy(&sim, home.path(), &["get", "nope", "-n", NS]);
    assert_eq!(missing.code, Some(1));
}

#[test]
fn find_shows_the_failing_step_its_message_and_log_tail() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = argodeploy(
        &sim,
        home.path(),
        &["find", "e5121482-3929-4d22-a255-accb1a466884", "-n", NS],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let text = &out.stdout;
    let newest = text.find("deploy-e5121482-wwmms").unwrap();
    assert!(
        newest < text.find("deploy-e5121482-2d6nd").unwrap()
            && newest < text.find("deploy-e5121482-p8q6v").unwrap(),
        "{text}"
    );
    assert!(
        text.contains("Newest: deploy-e5121482-wwmms — Error"),
        "{text}"
    );
    assert!(text.contains("failing step deploy-playbook"), "{text}");
    assert!(
        text.contains("last ") && text.contains("deploy-e5121482-wwmms-deploy-playbook"),
        "{text}"
    );
    let unknown = argodeploy(&sim, home.path(), &["find", "no-such-instance", "-n", NS]);
    assert_eq!(unknown.code, Some(1), "{}", unknown.stderr);
}

#[test]
fn resubmit_creates_the_same_workflow_again() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let refused = argodeploy(
        &sim,
        home.path(),
        &[
            "resubmit",
            "deploy-f38b2ffc-fm9fs",
            "-n",
            NS,
            "--memoized",
            "-y",
        ],
    );
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("--memoized needs a Failed or Error"),
        "{}",
        refused.stderr
    );
    let no_terminal = argodeploy(
        &sim,
        home.path(),
        &["resubmit", "deploy-e5121482-wwmms", "-n", NS],
    );
    assert_eq!(no_terminal.code, Some(3), "{}", no_terminal.stderr);
    assert!(sim.mutating_requests().is_empty());

    let out = argodeploy(
        &sim,
        home.path(),
        &[
            "resubmit",
            "deploy-e5121482-wwmms",
            "-n",
            NS,
            "-y",
            "-p",
            "playbook=redeploy.yml",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let name = out.stdout.trim().to_string();
    assert!(
        name.starts_with("deploy-e5121482-") && name != "deploy-e5121482-wwmms",
        "{name}"
    );
    let get = |n: &str| -> Value {
        serde_json::from_str(
            &sim.kubectl(&["get", "workflow", n, "-n", NS, "-o", "json"])
                .stdout,
        )
        .unwrap()
    };
    let (old, new) = (get("deploy-e5121482-wwmms"), get(&name));
    assert_eq!(
        new["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"],
        "deploy-e5121482-wwmms"
    );
    assert_eq!(
        new["metadata"]["labels"]["instance_uuid"],
        old["metadata"]["labels"]["instance_uuid"]
    );
    assert!(new["metadata"]["labels"]["workflows.argoproj.io/phase"].is_null());
    assert!(
        new["status"].is_null() || new["status"]["nodes"].is_null(),
        "no status: {}",
        new["status"]
    );
    assert_eq!(new["spec"]["templates"], old["spec"]["templates"]);
    let params = new["spec"]["arguments"]["parameters"].as_array().unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "playbook" && p["value"] == "redeploy.yml"),
        "{params:?}"
    );
    assert!(
        params.iter().any(|p| p["name"] == "instance_uuid"
            && p["value"] == "e5121482-3929-4d22-a255-accb1a466884")
    );
}

#[test]
fn stop_and_terminate_patch_a_running_workflow_and_refuse_a_completed_one() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    for verb in ["stop", "terminate"] {
        let done = argodeploy(
            &sim,
            home.path(),
            &[verb, "deploy-f38b2ffc-fm9fs", "-n", NS, "-y"],
        );
        assert_eq!(done.code, Some(1), "{}", done.stderr);
        assert!(done.stderr.contains("already completed"), "{}", done.stderr);
        let no_terminal = argodeploy(
            &sim,
            home.path(),
            &[verb, "deploy-f3f49249-njqlp", "-n", NS],
        );
        assert_eq!(no_terminal.code, Some(3), "{}", no_terminal.stderr);
    }
    assert!(sim.mutating_requests().is_empty());
    let out = argodeploy(
        &sim,
        home.path(),
        &["stop", "deploy-f3f49249-njqlp", "-n", NS, "-y"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let shutdown = |n: &str| {
        sim.kubectl(&[
            "get",
            "workflow",
            n,
            "-n",
            NS,
            "-o",
            "jsonpath={.spec.shutdown}",
        ])
        .stdout
    };
    assert_eq!(shutdown("deploy-f3f49249-njqlp"), "Stop");
    let out = argodeploy(
        &sim,
        home.path(),
        &["terminate", "dag-fail-r4gvc", "-n", NS, "-y"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(shutdown("dag-fail-r4gvc"), "Terminate");
}

#[test]
fn logs_follow_a_running_workflow_until_it_completes() {
    use std::io::{BufRead, BufReader};
    let sim = SimProcess::start("atmosphere", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let all = argodeploy(
        &sim,
        home.path(),
        &["logs", "deploy-f3f49249-njqlp", "-n", NS, "--grep", "PLAY"],
    );
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    for step in ["prepare: PLAY", "deploy-playbook: PLAY", "verify: PLAY"] {
        assert!(all.stdout.contains(step), "{}", all.stdout);
    }
    let mut child = plugin("argodeploy", home.path())
        .args([
            "logs",
            "deploy-f3f49249-njqlp",
            "-n",
            NS,
            "-f",
            "--tail",
            "1",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // New heartbeat lines of the running verify step arrive while following.
    let mut heartbeats = 0;
    while heartbeats < 2 {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a new line");
        if line.starts_with("verify: ") && line.contains("heartbeat") {
            heartbeats += 1;
        }
    }
    let patched = sim.kubectl(&[
        "patch",
        "workflow",
        "deploy-f3f49249-njqlp",
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        r#"{"status":{"phase":"Succeeded"}}"#,
    ]);
    assert_eq!(patched.code, Some(0), "{}", patched.stderr);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "logs -f did not end with the workflow"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
}

#[test]
fn get_reads_compressed_nodes_names_the_real_pods_and_refuses_offloaded_ones() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let pods = sim.kubectl(&["get", "pods", "-n", NS, "-o", "name"]).stdout;
    for wf in [
        "deploy-6bad6be2-g255x",
        "deploy-14aa4e71-5v4f5",
        "deploy-e5121482-wwmms",
    ] {
        let out = argodeploy(&sim, home.path(), &["get", wf, "-n", NS]);
        assert_eq!(out.code, Some(0), "{wf}: {}", out.stderr);
        let named: Vec<&str> = out
            .stdout
            .split_whitespace()
            .filter(|w| w.starts_with(&format!("{wf}-")))
            .collect();
        assert!(!named.is_empty(), "{}", out.stdout);
        for pod in named {
            assert!(
                pods.contains(&format!("pod/{pod}\n")),
                "{wf}: PODNAME {pod} is not a pod: {pods}"
            );
        }
    }
    let offloaded = argodeploy(
        &sim,
        home.path(),
        &["get", "deploy-70eb9a0a-vv8bx", "-n", NS],
    );
    assert_eq!(offloaded.code, Some(1));
    assert!(
        offloaded.stderr.contains("offloaded"),
        "{}",
        offloaded.stderr
    );
    assert_eq!(offloaded.stderr.trim().lines().count(), 1);
}

#[test]
fn label_keys_come_from_flags_or_the_environment() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let by_flag = names(
        &sim,
        home.path(),
        &["--instance-label", "username", "--instance", "jdoe"],
    );
    let by_user = names(&sim, home.path(), &["--username", "jdoe"]);
    assert_eq!(by_flag, by_user);
    let out = run(plugin("argodeploy", home.path())
        .env("ARGODEPLOY_USER_LABEL", "instance_uuid")
        .args([
            "list",
            "-n",
            NS,
            "-o",
            "json",
            "--username",
            "e5121482-3929-4d22-a255-accb1a466884",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(
        v["items"][0]["user"],
        "e5121482-3929-4d22-a255-accb1a466884"
    );
}
