//! Ctrl-C at every step boundary of the resumable changes (pvcreset, nodeevict): one clear
//! line saying what was done, exit code 130, and a resume hint that works when run as printed.
//! (SIGKILL at the same boundaries is in pvcreset.rs and nodeevict.rs.)

use suite_tests::{Interrupt, SimProcess, interrupt_after_step, plugin};

const INTERRUPTED: i32 = 130;

/// The last line of stderr: the error line the interruption printed.
fn last_line(stderr: &str) -> &str {
    stderr.trim_end().lines().last().unwrap_or("")
}

/// Ctrl-C after `step`: exit 130 and a last line starting with `expected`; then the command
/// that line quotes, run as printed (plus -y: no terminal here), must finish the change.
fn ctrl_c_then_run_the_hint(
    name: &str,
    sim: &SimProcess,
    home: &std::path::Path,
    args: &[&str],
    step: &str,
    expected: &str,
) {
    let out = interrupt_after_step(name, sim, home, args, step, Interrupt::CtrlC);
    assert_eq!(out.code, Some(INTERRUPTED), "after {step}: {}", out.stderr);
    let line = last_line(&out.stderr);
    assert!(line.starts_with(expected), "after {step}: {line}");
    // Pasted as printed, in a shell whose $KUBECONFIG is the sim's.
    let printed = line.split('`').nth(1).expect("a command in backticks");
    assert!(printed.starts_with(&format!("kubectl {name} ")), "{line}");
    let resumed = suite_tests::paste(&format!("{printed} -y --timeout 2m"), &sim.kubeconfig, home);
    assert_eq!(
        resumed.code,
        Some(0),
        "resume after {step}: {}",
        resumed.stderr
    );
}

#[test]
fn ctrl_c_after_each_pvcreset_step_says_how_to_resume_and_the_hint_works() {
    for step in [
        "started",
        "autoscalers-paused",
        "scaled-down",
        "claims-deleted",
        "claims-recreated",
        "scaled-up",
    ] {
        let sim = SimProcess::start("aura", &["--time-scale", "5"]);
        let home = tempfile::tempdir().unwrap();
        let file = suite_tests::write(home.path(), "hpa.json", suite_tests::REPORT_BUILDER_HPA);
        let created = sim.kubectl(&["create", "--validate=false", "-f", file.to_str().unwrap()]);
        assert_eq!(created.code, Some(0), "{}", created.stderr);
        let hpa_before = sim.get_json(&["hpa", "report-builder", "-n", "apps"])["spec"].clone();
        let claim_before = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);

        ctrl_c_then_run_the_hint(
            "pvcreset",
            &sim,
            home.path(),
            &[
                "report-cache",
                "-n",
                "apps",
                "-y",
                "--ignore-autoscaler",
                "--timeout",
                "90s",
            ],
            step,
            &format!(
                "error: interrupted: the reset stopped after step {step}; the reset is recorded on deployment/report-builder: finish it with `kubectl pvcreset resume deployment/report-builder -n apps"
            ),
        );
        let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
        assert_eq!(deployment["spec"]["replicas"], 1, "after {step}");
        assert_eq!(deployment["status"]["readyReplicas"], 1, "after {step}");
        assert!(
            deployment["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null(),
            "after {step}: journal removed"
        );
        let claim = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
        assert_ne!(
            claim["metadata"]["uid"], claim_before["metadata"]["uid"],
            "after {step}: a new claim"
        );
        assert_eq!(claim["status"]["phase"], "Bound", "after {step}");
        assert_eq!(
            sim.get_json(&["hpa", "report-builder", "-n", "apps"])["spec"],
            hpa_before,
            "after {step}: the autoscaler is restored exactly"
        );
    }
}

const NODE: &str = "ip-10-0-12-27.ec2.internal";

#[test]
fn ctrl_c_after_each_nodeevict_step_says_how_to_resume_and_the_hint_works() {
    for step in ["cordoned", "prescaled", "evicted"] {
        let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
        let home = tempfile::tempdir().unwrap();
        ctrl_c_then_run_the_hint(
            "nodeevict",
            &sim,
            home.path(),
            &[NODE, "--force", "-y"],
            step,
            // The command carries the --kubeconfig the run was given.
            &format!(
                "error: interrupted: the drain of {NODE} stopped after step {step}; the drain is recorded on node {NODE}: `kubectl nodeevict resume {NODE} --kubeconfig {}` finishes it",
                sim.kubeconfig.display()
            ),
        );
        let node = sim.get_json(&["node", NODE]);
        assert_eq!(
            node["spec"]["unschedulable"], true,
            "after {step}: cordoned"
        );
        assert!(
            node["metadata"]["annotations"]["nodeevict.kubectl-plugins.dev/journal"].is_null(),
            "after {step}: journal removed"
        );
        let pods = sim.get_json(&[
            "pods",
            "-A",
            "--field-selector",
            &format!("spec.nodeName={NODE}"),
        ]);
        for pod in pods["items"].as_array().unwrap() {
            let owner = &pod["metadata"]["ownerReferences"][0]["kind"];
            assert_eq!(
                owner, "DaemonSet",
                "after {step}: {}",
                pod["metadata"]["name"]
            );
        }
        for single in ["force-web", "exchange-web"] {
            let d = sim.get_json(&["deployment", single]);
            assert_eq!(d["spec"]["replicas"], 1, "after {step}: {single} restored");
        }
    }
}

#[test]
fn ctrl_c_before_any_change_says_nothing_was_changed() {
    // Halted before the first step is journaled is not reachable by the hook; a command
    // waiting on nothing but its own reads is: `nodeevict --dry-run` with a slow server.
    let sim = SimProcess::start("artsy", &["--latency-ms", "3000"]);
    let home = tempfile::tempdir().unwrap();
    let child = plugin("nodeevict", home.path())
        .args([NODE, "--dry-run", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(INTERRUPTED), "{stderr}");
    assert_eq!(
        last_line(&stderr),
        "error: interrupted before any change: nothing was changed"
    );
    assert!(sim.mutating_requests().is_empty());
}
