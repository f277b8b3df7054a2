//! `kubectl airflow status -w`: the report again each time the deployment's pods change —
//! appended snapshots when stdout is not a terminal, redrawn in place on one — until Ctrl-C,
//! which ends it quietly with 130.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use expectrl::Expect;
use suite_tests::{SimProcess, plugin};

const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

/// `kubectl-airflow ARGS` against the sim in the background, and what it writes to stdout,
/// read on a thread.
fn spawn(
    sim: &SimProcess,
    home: &std::path::Path,
    args: &[&str],
) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = plugin("airflow", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    (child, rx)
}

/// Reads until `done` holds for the text so far, or panics after `within`.
fn read_until(
    rx: &mpsc::Receiver<String>,
    text: &mut String,
    within: Duration,
    done: impl Fn(&str) -> bool,
) {
    let deadline = Instant::now() + within;
    while !done(text) {
        assert!(Instant::now() < deadline, "timed out; so far:\n{text}");
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            text.push_str(&chunk);
        }
    }
}

#[test]
fn status_w_appends_a_snapshot_when_a_pod_changes_and_ctrl_c_ends_it_quietly() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let (child, rx) = spawn(&sim, home.path(), &["status", "-w", "-n", ZODIAC]);
    let mut text = String::new();
    let snapshots = |t: &str| t.matches("Airflow zodiac-cosmo-1172 in ").count();
    read_until(&rx, &mut text, Duration::from_secs(20), |t| {
        snapshots(t) == 1 && t.contains("Problems")
    });
    assert!(text.contains("zodiac-cosmo-1172-worker-0"), "{text}");
    // Snapshots are appended only when the report changes (the sim's scheduler may reword the
    // Pending triggerer's reason meanwhile): count them now.
    std::thread::sleep(Duration::from_millis(1000));
    while let Ok(chunk) = rx.try_recv() {
        text.push_str(&chunk);
    }
    let before = snapshots(&text);
    // A worker is deleted: the report is appended again, after a blank line, showing it.
    let deleted = sim.kubectl(&[
        "delete",
        "pod",
        "zodiac-cosmo-1172-worker-0",
        "-n",
        ZODIAC,
        "--wait=false",
    ]);
    assert_eq!(deleted.code, Some(0), "{}", deleted.stderr);
    // The worker-0 row of the last snapshot shows the replacement (no longer 12 days old).
    let replaced = |t: &str| {
        snapshots(t) > before
            && t.rsplit("Airflow zodiac-cosmo-1172 in ")
                .next()
                .and_then(|last| {
                    last.lines()
                        .find(|l| l.contains("zodiac-cosmo-1172-worker-0"))
                })
                .is_some_and(|row| !row.trim_end().ends_with("12d"))
    };
    read_until(&rx, &mut text, Duration::from_secs(20), replaced);
    assert!(text.contains("\n\nAirflow zodiac-cosmo-1172 in "), "{text}");
    // Ctrl-C: exit 130, nothing on stderr.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sim.mutating_requests().iter().all(|r| r["path"]
            .as_str()
            .unwrap_or("")
            .ends_with("/pods/zodiac-cosmo-1172-worker-0")
            || r["method"] == "POST" && r["path"].as_str().unwrap_or("").contains("/pods")),
        "status -w itself changes nothing: {:?}",
        sim.mutating_requests()
    );
}

#[test]
fn status_w_on_a_terminal_redraws_in_place() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plugin("airflow", home.path());
    cmd.args(["status", "-w", "-n", ZODIAC, "--kubeconfig"])
        .arg(&sim.kubeconfig);
    let mut session = expectrl::session::Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    // The first frame clears below the cursor; a later one (every 2 s) moves up over it.
    session.expect("\x1b[J").unwrap();
    session.expect("Problems").unwrap();
    session
        .expect(expectrl::Regex("\r\x1b\\[[0-9]+A\x1b\\[J"))
        .unwrap();
    session.send("\x03").unwrap();
    let status = session.get_process().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 130)),
        "{status:?}"
    );
}

#[test]
fn list_w_appends_the_list_again_when_a_deployment_changes() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let (mut child, rx) = spawn(&sim, home.path(), &["list", "-A", "-w"]);
    let mut text = String::new();
    let tables = |t: &str| t.matches("NAMESPACE ").count();
    read_until(&rx, &mut text, Duration::from_secs(20), |t| {
        tables(t) == 1 && t.contains("zodiac-cosmo-1172")
    });
    std::thread::sleep(Duration::from_millis(1000));
    while let Ok(chunk) = rx.try_recv() {
        text.push_str(&chunk);
    }
    let before = tables(&text);
    let zodiac_row = |t: &str| -> Option<String> {
        t.rsplit("NAMESPACE ")
            .next()?
            .lines()
            .find(|l| l.contains("zodiac-cosmo-1172"))
            .map(String::from)
    };
    let first = zodiac_row(&text).unwrap();
    // zodiac's only worker goes: a new table shows its row changed (WORKERS 0/1).
    let deleted = sim.kubectl(&[
        "delete",
        "pod",
        "zodiac-cosmo-1172-worker-0",
        "-n",
        ZODIAC,
        "--wait=false",
    ]);
    assert_eq!(deleted.code, Some(0), "{}", deleted.stderr);
    read_until(&rx, &mut text, Duration::from_secs(20), |t| {
        tables(t) > before && zodiac_row(t).is_some_and(|row| row != first)
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn list_w_on_a_terminal_says_nothing_found_once() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plugin("airflow", home.path());
    cmd.args(["list", "-w", "-n", "default", "--kubeconfig"])
        .arg(&sim.kubeconfig);
    let mut session = expectrl::session::Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
        .expect("No Airflow deployments found in namespace default")
        .unwrap();
    // The terminal's frame is redrawn every 2 s: let a few redraws pass.
    std::thread::sleep(Duration::from_secs(5));
    session.send("\x03").unwrap();
    let mut rest = String::new();
    let _ = session.read_to_string(&mut rest);
    assert!(
        !rest.contains("No Airflow deployments found"),
        "said again on a refresh: {rest:?}"
    );
    let status = session.get_process().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 130)),
        "{status:?}"
    );
}
