//! kube-sim judged by unmodified kubectl: the runbook's listings, deleting and recreating a
//! scheduler pod, scaling a StatefulSet to 0 (PVCs stay), rollout restart, logs -f, cordon,
//! and a real `kubectl drain` that meets a PodDisruptionBudget.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use suite_tests::{SimProcess, bin};
use suite_tests::{pod_ready as ready, wait_for};

const NS: &str = "astronomer-ee-lunar-nuclear-3725";

fn json(sim: &SimProcess, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = sim.kubectl(&all);
    assert_eq!(out.code, Some(0), "kubectl {args:?}: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("json")
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn serve_prints_the_ready_line_within_a_second_and_exits_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let started = Instant::now();
    let mut child = Command::new(bin("kube-sim"))
        .args(["serve", "--scenario", "astronomer", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        line.starts_with("kube-sim listening on https://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.trim_end()
            .ends_with(&format!("kubeconfig={}", kubeconfig.display())),
        "{line}"
    );
    assert!(elapsed < Duration::from_secs(1), "ready after {elapsed:?}");
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(
        text.contains("current-context: kube-sim") && text.contains("certificate-authority-data"),
        "{text}"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "clean exit: {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kubectl_lists_the_runbook_pods_and_volumes() {
    let sim = SimProcess::start("astronomer", &[]);
    let out = sim.kubectl(&["get", "pods", "-A"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for expected in [
        "lunar-nuclear-3725-worker-0",
        "lunar-nuclear-3725-worker-2",
        "zodiac-cosmo-1172-worker-0",
        "astronomer-ee-prometheus-0",
        "lunar-nuclear-3725-redis-0",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected} missing:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("CrashLoopBackOff") && out.stdout.contains("Pending"),
        "{}",
        out.stdout
    );
    let pvcs = sim.kubectl(&["get", "pvc", "-A"]);
    for expected in [
        "logs-lunar-nuclear-3725-worker-0",
        "logs-lunar-nuclear-3725-worker-2",
        "redis-db-zodiac-cosmo-1172-redis-0",
    ] {
        assert!(
            pvcs.stdout.contains(expected),
            "{expected} missing:\n{}",
            pvcs.stdout
        );
    }
    assert!(pvcs.stdout.contains("Bound"));
    let nodes = sim.kubectl(&["get", "nodes"]);
    assert!(
        nodes.stdout.contains(".ec2.internal") && nodes.stdout.contains("Ready"),
        "{}",
        nodes.stdout
    );
}

#[test]
fn deleting_the_scheduler_pod_brings_a_new_one() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let before = json(
        &sim,
        &["get", "pods", "-n", NS, "-l", "component=scheduler"],
    );
    let old = &before["items"][0];
    let (old_name, old_uid) = (
        old["metadata"]["name"].as_str().unwrap().to_string(),
        old["metadata"]["uid"].clone(),
    );
    let out = sim.kubectl(&["delete", "pod", "-n", NS, &old_name]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("pod \"{old_name}\" deleted")),
        "{}",
        out.stdout
    );
    wait_for("a new Ready scheduler pod", Duration::from_secs(30), || {
        let now = json(
            &sim,
            &["get", "pods", "-n", NS, "-l", "component=scheduler"],
        );
        let items = now["items"].as_array().unwrap();
        items.len() == 1
            && items[0]["metadata"]["name"] != old_name.as_str()
            && items[0]["metadata"]["uid"] != old_uid
            && ready(&items[0])
    });
}

#[test]
fn scaling_the_workers_to_zero_keeps_their_volumes() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let out = sim.kubectl(&[
        "scale",
        "sts",
        "-n",
        NS,
        "lunar-nuclear-3725-worker",
        "--replicas=0",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("scaled"), "{}", out.stdout);
    wait_for("worker pods to terminate", Duration::from_secs(60), || {
        names(&json(
            &sim,
            &["get", "pods", "-n", NS, "-l", "component=worker"],
        ))
        .is_empty()
    });
    let pvcs = names(&json(&sim, &["get", "pvc", "-n", NS]));
    for i in 0..3 {
        assert!(
            pvcs.contains(&format!("logs-lunar-nuclear-3725-worker-{i}")),
            "{pvcs:?}"
        );
    }
    let sts = json(&sim, &["get", "sts", "-n", NS, "lunar-nuclear-3725-worker"]);
    assert_eq!(sts["spec"]["replicas"], 0);
}

#[test]
fn rollout_restart_replaces_the_scheduler() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let before = names(&json(
        &sim,
        &["get", "pods", "-n", NS, "-l", "component=scheduler"],
    ));
    let out = sim.kubectl(&[
        "rollout",
        "restart",
        "-n",
        NS,
        "deploy/lunar-nuclear-3725-scheduler",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let status = sim.kubectl(&[
        "rollout",
        "status",
        "-n",
        NS,
        "deploy/lunar-nuclear-3725-scheduler",
        "--timeout=60s",
    ]);
    assert_eq!(status.code, Some(0), "{}{}", status.stdout, status.stderr);
    assert!(
        status.stdout.contains("successfully rolled out"),
        "{}",
        status.stdout
    );
    wait_for(
        "the old scheduler pod to go",
        Duration::from_secs(30),
        || {
            let now = json(
                &sim,
                &["get", "pods", "-n", NS, "-l", "component=scheduler"],
            );
            let items = now["items"].as_array().unwrap();
            items.len() == 1
                && !before.contains(&items[0]["metadata"]["name"].as_str().unwrap().to_string())
                && ready(&items[0])
        },
    );
}

#[test]
fn logs_tail_and_follow() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "20"]);
    let pods = names(&json(
        &sim,
        &["get", "pods", "-n", NS, "-l", "component=scheduler"],
    ));
    let out = sim.kubectl(&["logs", "-n", NS, &pods[0], "--tail=2"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let crash = sim.kubectl(&["logs", "-n", NS, "lunar-nuclear-3725-worker-2"]);
    assert!(
        crash.stdout.contains("No space left on device"),
        "{}",
        crash.stdout
    );

    // follow: lines keep arriving while the container runs.
    let mut child = Command::new("/usr/bin/kubectl")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["logs", "-f", "-n", NS, &pods[0], "--tail=1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let started = Instant::now();
    while lines.len() < 4 && started.elapsed() < Duration::from_secs(30) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines.len() >= 4, "streamed {lines:?}");
    assert!(
        lines[1..].iter().all(|l| l.contains("heartbeat")),
        "{lines:?}"
    );
}

#[test]
fn cordon_and_uncordon() {
    let sim = SimProcess::start("astronomer", &[]);
    let node = names(&json(&sim, &["get", "nodes"]))[0].clone();
    let out = sim.kubectl(&["cordon", &node]);
    assert!(
        out.stdout.contains("cordoned"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(
        json(&sim, &["get", "node", &node])["spec"]["unschedulable"],
        true
    );
    let table = sim.kubectl(&["get", "nodes"]);
    assert!(
        table.stdout.contains("SchedulingDisabled"),
        "{}",
        table.stdout
    );
    let out = sim.kubectl(&["uncordon", &node]);
    assert!(
        out.stdout.contains("uncordoned"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert!(json(&sim, &["get", "node", &node])["spec"]["unschedulable"].is_null());
}

#[test]
fn kubectl_drain_meets_the_pdb_then_empties_the_node() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let node = "ip-10-0-12-27.ec2.internal";
    let mut drain = Command::new("/usr/bin/kubectl")
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args([
            "drain",
            node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            "--timeout=120s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // exchange-web has one replica and a PDB with minAvailable 1: kubectl reports the refusal
    // and retries.
    let stderr = drain.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            let refusal = line.contains("disruption budget");
            seen.push(line);
            if refusal {
                break;
            }
        }
    }
    assert!(seen.iter().any(|l| l.contains("Cannot evict pod as it would violate the pod's disruption budget")), "{seen:?}");
    // Give the budget room: a second replica starts on another node, then the eviction passes.
    let out = sim.kubectl(&["scale", "deploy/exchange-web", "--replicas=2"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let status = drain.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut drain.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "drain failed: {stdout} {seen:?}");
    assert!(stdout.contains(&format!("node/{node} drained")), "{stdout}");
    let left = json(
        &sim,
        &[
            "get",
            "pods",
            "-A",
            "--field-selector",
            &format!("spec.nodeName={node}"),
        ],
    );
    for pod in left["items"].as_array().unwrap() {
        let owner = pod["metadata"]["ownerReferences"][0]["kind"]
            .as_str()
            .unwrap_or("");
        assert_eq!(
            owner, "DaemonSet",
            "only DaemonSet pods stay: {}",
            pod["metadata"]["name"]
        );
    }
    assert_eq!(
        json(&sim, &["get", "node", node])["spec"]["unschedulable"],
        true
    );
}
