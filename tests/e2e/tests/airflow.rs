//! `kubectl airflow` against kube-sim's astronomer scenario.

use serde_json::Value;
use suite_tests::{SimProcess, plugin, run};

#[test]
fn list_finds_both_deployments_with_a_constant_number_of_requests() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let before = sim.journal().len();
    let out = run(plugin("airflow", home.path())
        .args(["list", "-A", "-o", "json", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let requests = sim.journal().len() - before;
    assert!(requests <= 4, "{requests} requests");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let items = report["items"].as_array().unwrap();
    let releases: Vec<(&str, &str, i64)> = items
        .iter()
        .map(|i| {
            (
                i["namespace"].as_str().unwrap(),
                i["release"].as_str().unwrap(),
                i["workers"]["desired"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        releases,
        [
            ("astronomer-ee-lunar-nuclear-3725", "lunar-nuclear-3725", 3),
            ("astronomer-ee-zodiac-cosmo-1172", "zodiac-cosmo-1172", 1)
        ]
    );
    let lunar = &items[0];
    assert_eq!(lunar["executor"], "CeleryExecutor");
    assert_eq!(lunar["status"], "Degraded");
    assert!(
        lunar["reason"]
            .as_str()
            .unwrap()
            .contains("lunar-nuclear-3725-worker-2 CrashLoopBackOff"),
        "{lunar}"
    );
    let zodiac = &items[1];
    assert_eq!(zodiac["status"], "Degraded");
    assert!(
        zodiac["reason"]
            .as_str()
            .unwrap()
            .contains("triggerer 0/1 ready"),
        "{zodiac}"
    );
    assert!(sim.mutating_requests().is_empty(), "list changes nothing");
}

#[test]
fn list_table_and_an_empty_namespace() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args([
            "list",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAMESPACE") && lines[0].contains("WORKERS"),
        "{}",
        out.stdout
    );
    assert_eq!(
        lines.len(),
        2,
        "only the namespace asked for: {}",
        out.stdout
    );
    assert!(
        lines[1].contains("zodiac-cosmo-1172") && lines[1].contains("Degraded"),
        "{}",
        out.stdout
    );
    let empty = run(plugin("airflow", home.path())
        .args(["list", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(empty.code, Some(0));
    assert!(empty.stdout.is_empty());
    assert!(
        empty
            .stderr
            .contains("No Airflow deployments found in namespace default"),
        "{}",
        empty.stderr
    );
}

#[test]
fn status_shows_components_and_the_problems_with_their_fixes() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args([
            "status",
            "-n",
            "astronomer-ee-lunar-nuclear-3725",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "Airflow lunar-nuclear-3725 in astronomer-ee-lunar-nuclear-3725 (CeleryExecutor)"
        ),
        "{}",
        out.stdout
    );
    for expected in [
        "lunar-nuclear-3725-worker-2",
        "CrashLoopBackOff",
        "worker 2/3",
        "Problems:",
        // Its log volume is full (its log and the kubelet's stats say so): a fresh one is the
        // fix; else the crash-looping pod alone, as a rolling restart would wait behind it.
        "fix: kubectl airflow reset-logs lunar-nuclear-3725-worker-2 lunar-nuclear-3725 -n astronomer-ee-lunar-nuclear-3725 --kubeconfig",
        "       kubectl airflow restart lunar-nuclear-3725-worker-2 -n astronomer-ee-lunar-nuclear-3725 --kubeconfig",
    ] {
        assert!(
            out.stdout.contains(expected),
            "{expected} missing:\n{}",
            out.stdout
        );
    }
    let zodiac = run(plugin("airflow", home.path())
        .args([
            "status",
            "zodiac-cosmo-1172",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "-o",
            "json",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(zodiac.code, Some(0), "{}", zodiac.stderr);
    let report: Value = serde_json::from_str(&zodiac.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["what"].as_str().unwrap().contains(
                "is Pending: Unschedulable: 0/6 nodes are available: 6 Insufficient cpu"
            )),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["fix"]
                == format!(
                    "kubectl airflow diagnose zodiac-cosmo-1172 -n astronomer-ee-zodiac-cosmo-1172 --kubeconfig {}",
                    sim.kubeconfig.display()
                )),
        "{problems:?}"
    );
    // Bad input: one line, documented exit code, nothing changed.
    let unknown = run(plugin("airflow", home.path())
        .args([
            "status",
            "nope",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(unknown.code, Some(1));
    assert_eq!(
        unknown.stderr.trim().lines().count(),
        1,
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("no Airflow release \"nope\"")
            && unknown.stderr.contains("zodiac-cosmo-1172"),
        "{}",
        unknown.stderr
    );
    let nowhere = run(plugin("airflow", home.path())
        .args(["status", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(nowhere.code, Some(1));
    assert!(
        nowhere
            .stderr
            .contains("no Airflow deployment in namespace default"),
        "{}",
        nowhere.stderr
    );
    assert!(sim.mutating_requests().is_empty());
}

const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

fn scheduler_pods(sim: &SimProcess) -> Vec<(String, bool)> {
    let out = sim.kubectl(&[
        "get",
        "pods",
        "-n",
        ZODIAC,
        "-l",
        "component=scheduler",
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_str(&out.stdout).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let ready = p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                ready && p["metadata"]["deletionTimestamp"].is_null(),
            )
        })
        .collect()
}

#[test]
fn restart_rolls_the_scheduler_without_downtime() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let before = scheduler_pods(&sim);
    let out = run(plugin("airflow", home.path())
        .args([
            "restart",
            "scheduler",
            "-n",
            ZODIAC,
            "--yes",
            "--timeout",
            "60s",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("every old pod is gone"),
        "{}",
        out.stdout
    );
    let after = scheduler_pods(&sim);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].1, "the new scheduler is Ready");
    assert_ne!(after[0].0, before[0].0, "a new pod");
    let availability: Value = serde_json::from_str(
        &sim.kubectl(&["get", "--raw", "/sim/v1/availability"])
            .stdout,
    )
    .unwrap();
    let scheduler = availability["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "zodiac-cosmo-1172-scheduler")
        .unwrap()
        .clone();
    assert!(
        scheduler["minReady"].as_i64().unwrap() >= 1,
        "never 0 Ready: {scheduler}"
    );
}

#[test]
fn restart_refuses_without_a_terminal_and_changes_nothing_on_bad_input() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], i32, &str); 4] = [
        (
            &["restart", "scheduler", "-n", ZODIAC],
            3,
            "re-run with --yes",
        ),
        (
            &["restart", "schedular", "-n", ZODIAC, "--yes"],
            2,
            "unknown component \"schedular\"",
        ),
        (
            &["restart", "scheduler", "nope", "-n", ZODIAC, "--yes"],
            1,
            "no Airflow release \"nope\"",
        ),
        (
            &["restart", "scheduler", "-n", ZODIAC, "--dry-run"],
            0,
            "dry run: nothing was changed",
        ),
    ];
    for (args, code, message) in cases {
        let out = run(plugin("airflow", home.path())
            .args(args)
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig));
        assert_eq!(out.code, Some(code), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
}

#[test]
fn restart_prompt_through_kubectl_plugin_dispatch() {
    use expectrl::{Expect, Session};
    use std::process::Command;
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    std::fs::copy(
        suite_tests::bin("kubectl-airflow"),
        plugins.path().join("kubectl-airflow"),
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", plugins.path().display());
    let spawn = || {
        let mut cmd = Command::new("/usr/bin/kubectl");
        suite_tests::isolate(&mut cmd, home.path());
        cmd.env("PATH", &path)
            .args([
                "airflow",
                "restart",
                "scheduler",
                "-n",
                ZODIAC,
                "--timeout",
                "60s",
                "--kubeconfig",
            ])
            .arg(&sim.kubeconfig);
        let mut s = Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
        s
    };
    let exit = |s: &expectrl::session::OsSession| match s.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    };
    let mut no = spawn();
    no.expect("Restart scheduler of zodiac-cosmo-1172?")
        .unwrap();
    no.send("n\r").unwrap();
    no.expect("nothing was changed").unwrap();
    assert_eq!(exit(&no), 3);
    assert!(sim.mutating_requests().is_empty());
    let mut yes = spawn();
    yes.expect("Restart scheduler of zodiac-cosmo-1172?")
        .unwrap();
    yes.send("yes\r").unwrap();
    yes.expect("every old pod is gone").unwrap();
    assert_eq!(exit(&yes), 0);
    assert_eq!(
        sim.mutating_requests().len(),
        1,
        "one PATCH of the Deployment"
    );
}

#[test]
fn diagnose_names_the_node_size_problem_and_the_quota_shortfall() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let diagnose = || {
        let out = run(plugin("airflow", home.path())
            .args(["diagnose", "-n", ZODIAC, "-o", "json", "--kubeconfig"])
            .arg(&sim.kubeconfig));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        serde_json::from_str::<Value>(&out.stdout).unwrap()
    };
    // The triggerer asks for 6 CPU; the largest node has 3920m.
    let report = diagnose();
    let findings = report["findings"].as_array().unwrap();
    let triggerer = findings
        .iter()
        .find(|f| f["subject"].as_str().unwrap().contains("triggerer"))
        .expect("triggerer finding");
    assert!(
        triggerer["advice"][0]
            .as_str()
            .unwrap()
            .contains("no node is big enough: the pod requests 6 CPU"),
        "{triggerer}"
    );
    assert!(
        triggerer["advice"][0]
            .as_str()
            .unwrap()
            .contains("the largest node offers 3920m CPU"),
        "{triggerer}"
    );
    // Scaling the workers past the quota: the StatefulSet cannot create worker-4.
    let out = sim.kubectl(&[
        "scale",
        "sts",
        "-n",
        ZODIAC,
        "zodiac-cosmo-1172-worker",
        "--replicas=6",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let quota_finding = loop {
        let report = diagnose();
        if let Some(f) = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["subject"] == "StatefulSet zodiac-cosmo-1172-worker")
        {
            break f.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no quota finding: {report}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert!(
        quota_finding["problem"]
            .as_str()
            .unwrap()
            .contains("exceeded quota: zodiac-cosmo-1172-resource-quota"),
        "{quota_finding}"
    );
    let advice: Vec<&str> = quota_finding["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        advice.iter().any(|a| a
            .starts_with("raise quota zodiac-cosmo-1172-resource-quota requests.cpu by at least")),
        "{advice:?}"
    );
}

#[test]
fn logs_prefix_every_worker_and_follow_across_a_restart() {
    use std::io::BufRead;
    use std::process::Stdio;
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args([
            "logs",
            "workers",
            "-n",
            "astronomer-ee-lunar-nuclear-3725",
            "--tail",
            "2",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for i in 0..3 {
        assert_eq!(
            out.stdout
                .lines()
                .filter(|l| l.starts_with(&format!("[lunar-nuclear-3725-worker-{i}] ")))
                .count(),
            2,
            "{}",
            out.stdout
        );
    }
    // Follow the zodiac worker, restart it by deletion: the new pod's log (from its start) follows.
    let mut follow = plugin("airflow", home.path());
    follow
        .args([
            "logs",
            "worker",
            "-f",
            "-n",
            ZODIAC,
            "--tail",
            "1",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = follow.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("a first line");
    assert!(
        first.starts_with("[zodiac-cosmo-1172-worker-0] "),
        "{first}"
    );
    let restart = run(plugin("airflow", home.path())
        .args([
            "restart",
            "worker",
            "-n",
            ZODIAC,
            "--strategy",
            "delete",
            "--yes",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(restart.code, Some(0), "{}", restart.stderr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut from_new_pod = false;
    while std::time::Instant::now() < deadline && !from_new_pod {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            from_new_pod =
                line.starts_with("[zodiac-cosmo-1172-worker-0] ") && line.contains("heartbeat 0,");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(from_new_pod, "the recreated worker's log was followed");
}

fn zodiac_row(sim: &SimProcess, home: &std::path::Path) -> Value {
    let out = run(plugin("airflow", home)
        .args(["list", "-n", ZODIAC, "-o", "json", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    report["items"][0].clone()
}

#[test]
fn a_crash_looping_scheduler_is_degraded_advised_and_healthy_after_restart() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let (old, _) = scheduler_pods(&sim).remove(0);
    // kube-sim crash-loops the named container of a pod carrying this annotation.
    let annotate = sim.kubectl(&[
        "annotate",
        "pod",
        &old,
        "-n",
        ZODIAC,
        "sim.kube-sim.dev/crash-loop=scheduler",
    ]);
    assert_eq!(annotate.code, Some(0), "{}", annotate.stderr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let row = loop {
        let row = zodiac_row(&sim, home.path());
        if row["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("{old} CrashLoopBackOff")))
        {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "never crashed: {row}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(row["status"], "Degraded", "{row}");
    assert_eq!(row["scheduler"]["ready"], 0, "{row}");

    let status = run(plugin("airflow", home.path())
        .args(["status", "-n", ZODIAC, "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert!(
        status
            .stdout
            .contains(&format!("- {old} (scheduler) is crash-looping"))
            && status
                .stdout
                .contains("fix: kubectl airflow restart scheduler zodiac-cosmo-1172"),
        "{}",
        status.stdout
    );

    let restart = run(plugin("airflow", home.path())
        .args(["restart", "scheduler", "zodiac-cosmo-1172", "-n", ZODIAC])
        .args(["--yes", "--timeout", "60s", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(restart.code, Some(0), "{}", restart.stderr);
    let after = scheduler_pods(&sim);
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].0 != old && after[0].1, "{after:?}");
    let row = zodiac_row(&sim, home.path());
    assert_eq!(row["scheduler"]["ready"], 1, "{row}");
    assert!(
        !row["reason"].as_str().unwrap_or("").contains("scheduler"),
        "only the triggerer's known problem is left: {row}"
    );
    let status = run(plugin("airflow", home.path())
        .args(["status", "-n", ZODIAC, "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert!(
        !status.stdout.contains("(scheduler) is"),
        "{}",
        status.stdout
    );
}

#[test]
fn volumes_lists_the_claims_with_owner_and_reclaim_policy() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args([
            "volumes",
            "-n",
            "astronomer-ee-lunar-nuclear-3725",
            "-o",
            "json",
        ])
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let rows: Vec<(String, String, String, String)> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
            (s("name"), s("owner"), s("capacity"), s("reclaimPolicy"))
        })
        .collect();
    let worker = |n: u8| {
        (
            format!("logs-lunar-nuclear-3725-worker-{n}"),
            "statefulset/lunar-nuclear-3725-worker".to_string(),
            "100Gi".to_string(),
            "Delete".to_string(),
        )
    };
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows[0].0, "redis-db-lunar-nuclear-3725-redis-0");
    assert_eq!(rows[1..], [worker(0), worker(1), worker(2)]);
    let table = run(plugin("airflow", home.path())
        .args([
            "volumes",
            "lunar-nuclear-3725",
            "-n",
            "astronomer-ee-lunar-nuclear-3725",
        ])
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig));
    assert!(
        table
            .stdout
            .contains("deleting the claim deletes its volume"),
        "{}",
        table.stdout
    );
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn platform_shows_astronomer_components_and_the_fix_for_a_crash_loop() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let platform = |sim: &SimProcess| {
        let out = run(plugin("airflow", home.path())
            .args(["platform", "-o", "json", "--kubeconfig"])
            .arg(&sim.kubeconfig));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        report["items"][0].clone()
    };
    let report = platform(&sim);
    assert_eq!(report["platform"]["namespace"], "astronomer-ee");
    for component in [
        "houston",
        "commander",
        "registry",
        "prometheus",
        "grafana",
        "nginx",
    ] {
        assert!(
            report["platform"]["components"][component].is_object(),
            "{component} missing: {report}"
        );
    }
    let houston = report["platform"]["components"]["houston"]["pods"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let annotate = sim.kubectl(&[
        "annotate",
        "pod",
        &houston,
        "-n",
        "astronomer-ee",
        "sim.kube-sim.dev/crash-loop=houston",
    ]);
    assert_eq!(annotate.code, Some(0), "{}", annotate.stderr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let fix = loop {
        let report = platform(&sim);
        let found = report["problems"].as_array().unwrap().iter().find(|p| {
            p["what"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{houston} (houston) is crash-looping"))
        });
        if let Some(problem) = found {
            break problem["fix"].as_str().unwrap().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(
        fix,
        format!(
            "kubectl rollout restart deployment/astronomer-ee-houston -n astronomer-ee --kubeconfig {}",
            sim.kubeconfig.display()
        )
    );
    // The advice is a real command: pasted as printed, and the problem goes away.
    let restarted = suite_tests::paste(&fix, &sim.kubeconfig, home.path());
    assert_eq!(restarted.code, Some(0), "{}", restarted.stderr);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let report = platform(&sim);
        let houston_problems = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["what"].as_str().unwrap().contains("(houston)"))
            .count();
        if houston_problems == 0 && report["platform"]["components"]["houston"]["ready"] == 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{report}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn platform_and_volumes_say_clearly_when_there_is_nothing() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("airflow", home.path())
        .args(["platform", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("no Astronomer platform") && out.stderr.lines().count() == 1,
        "{}",
        out.stderr
    );
    let out = run(plugin("airflow", home.path())
        .args(["volumes", "-n", "default", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no Airflow deployment in namespace default"),
        "{}",
        out.stderr
    );
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn reset_logs_replaces_the_crash_looping_workers_volume_and_the_deployment_is_healthy() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let ns = "astronomer-ee-lunar-nuclear-3725";
    let claim_uid = |name: &str| {
        let out = sim.kubectl(&[
            "get",
            "pvc",
            name,
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.uid}",
        ]);
        out.stdout
    };
    let before: Vec<String> = (0..3)
        .map(|i| claim_uid(&format!("logs-lunar-nuclear-3725-worker-{i}")))
        .collect();
    let bad = run(plugin("airflow", home.path())
        .args([
            "reset-logs",
            "lunar-nuclear-3725-worker-9x",
            "-n",
            ns,
            "-y",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig));
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("is not a worker pod"), "{}", bad.stderr);
    assert!(sim.mutating_requests().is_empty());

    let out = run(plugin("airflow", home.path())
        .args([
            "reset-logs",
            "lunar-nuclear-3725-worker-2",
            "lunar-nuclear-3725",
            "-n",
            ns,
        ])
        .args(["-y", "--timeout", "60s", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("(pod strategy)"), "{}", out.stderr);
    let after: Vec<String> = (0..3)
        .map(|i| claim_uid(&format!("logs-lunar-nuclear-3725-worker-{i}")))
        .collect();
    assert_eq!(
        after[..2],
        before[..2],
        "the other workers' volumes are kept"
    );
    assert_ne!(after[2], before[2], "worker-2 has a new volume");
    let list = run(plugin("airflow", home.path())
        .args(["list", "-n", ns, "-o", "json", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    let report: Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(report["items"][0]["status"], "Healthy", "{report}");
}

/// reset-logs prints pvcreset's resume command; with `--context` given, the command carries it,
/// so it works as pasted from any shell whose kubeconfig's current context is another cluster.
#[test]
fn reset_logs_interrupted_prints_a_resume_command_with_the_context() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let ns = "astronomer-ee-lunar-nuclear-3725";
    let out = suite_tests::interrupt_after_step(
        "airflow",
        &sim,
        home.path(),
        &[
            "reset-logs",
            "lunar-nuclear-3725-worker-2",
            "lunar-nuclear-3725",
            "-n",
            ns,
            "--context",
            "kube-sim",
            "-y",
        ],
        "started",
        suite_tests::Interrupt::CtrlC,
    );
    assert_eq!(out.code, Some(130), "{}", out.stderr);
    let line = out
        .stderr
        .trim_end()
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let hint = suite_tests::hinted_command(&line, "pvcreset");
    assert!(
        hint.windows(2).any(|w| w == ["--context", "kube-sim"]),
        "{line}"
    );
    // Pasted as printed, in a shell whose $KUBECONFIG is the sim's.
    let printed = line.split('`').nth(1).expect("a command in backticks");
    let resumed = suite_tests::paste(
        &format!("{printed} -y --timeout 2m"),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(resumed.code, Some(0), "{printed}: {}", resumed.stderr);
}
