//! `kubectl airflow logs` for triage and piping, against the astronomer scenario: `-p` reads the
//! attempt a crash-looping worker ran before its restart (why it crashed), `--grep` keeps the
//! matching lines, `-o json` prints one object a line (pod, container, time, line), also while
//! following; bad input is one line, exit 2, and no request that changes anything.

use std::io::BufRead;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use suite_tests::{SimProcess, hinted_command, paste, plugin};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

#[test]
fn previous_reads_the_crashed_attempt_and_grep_with_json_pipes_it() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    // worker-2 crash-loops (47 restarts): its previous attempt ended on its full log volume.
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &["logs", "workers", "-n", LUNAR, "-p"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("[lunar-nuclear-3725-worker-2] ")
                && l.contains("Unrecoverable error")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .all(|l| l.starts_with("[lunar-nuclear-3725-worker-2] ")),
        "only the restarted worker has a previous attempt: {}",
        out.stdout
    );
    // The others say why they have nothing, one line each, on stderr.
    for healthy in ["worker-0", "worker-1"] {
        assert!(
            out.stderr.lines().any(
                |l| l.starts_with(&format!("[lunar-nuclear-3725-{healthy}] "))
                    && l.contains("previous terminated container")
            ),
            "{}",
            out.stderr
        );
    }

    let json = sim.run_plugin(
        "airflow",
        home.path(),
        &[
            "logs",
            "workers",
            "-n",
            LUNAR,
            "-p",
            "--grep",
            "Errno 28|No space left",
            "-o",
            "json",
        ],
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let objects: Vec<Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    // The scripted crash log has two lines saying the disk is full (the OSError, then Celery's
    // unrecoverable error).
    assert_eq!(objects.len(), 2, "{}", json.stdout);
    for o in &objects {
        assert_eq!(o["pod"], "lunar-nuclear-3725-worker-2");
        assert_eq!(o["container"], "worker");
        assert!(
            o["time"]
                .as_str()
                .is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok()),
            "{o}"
        );
        let line = o["line"].as_str().unwrap();
        assert!(line.contains("No space left on device"), "{o}");
        assert!(!line.starts_with("2026-"), "the time is its own field: {o}");
    }
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn previous_without_any_restart_fails_with_a_command_that_works_when_pasted() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &["logs", "scheduler", "-n", ZODIAC, "-p"],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.contains("has restarted"), "{}", out.stderr);
    let words = hinted_command(last, "airflow");
    assert_eq!(words[..2], ["logs", "scheduler"], "{last}");
    let hinted = last.split('`').nth(1).unwrap();
    let pasted = paste(hinted, &sim.kubeconfig, home.path());
    assert_eq!(pasted.code, Some(0), "{hinted}: {}", pasted.stderr);
    assert!(
        pasted
            .stdout
            .lines()
            .all(|l| l.starts_with("[zodiac-cosmo-1172-scheduler-")),
        "{}",
        pasted.stdout
    );
}

#[test]
fn bad_grep_and_previous_with_follow_are_usage_errors_that_change_nothing() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    for (args, says) in [
        (
            vec!["logs", "worker", "-n", LUNAR, "--grep", "(unclosed"],
            "is not a regular expression",
        ),
        (
            vec!["logs", "worker", "-n", LUNAR, "-p", "-f"],
            "cannot be used with",
        ),
        (
            vec!["logs", "worker", "-n", LUNAR, "-o", "yaml"],
            "invalid value 'yaml'",
        ),
    ] {
        let out = sim.run_plugin("airflow", home.path(), &args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn follow_as_json_with_grep_prints_one_object_a_line() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let mut follow = plugin("airflow", home.path());
    follow
        .args([
            "logs",
            "worker",
            "-f",
            "-n",
            ZODIAC,
            "--tail",
            "3",
            "--grep",
            "heartbeat",
            "-o",
            "json",
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
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while lines.len() < 2 && std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines.len() >= 2, "{lines:?}");
    for line in &lines {
        let o: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(o["pod"], "zodiac-cosmo-1172-worker-0", "{o}");
        assert_eq!(o["container"], "worker", "{o}");
        assert!(o["time"].is_string(), "{o}");
        assert!(o["line"].as_str().unwrap().contains("heartbeat"), "{o}");
    }
}
