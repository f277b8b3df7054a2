//! Ctrl-C at every step boundary of the resumable changes (pvcreset, nodeevict): one clear
//! line saying what was done, exit code 130, and a resume hint that works when run as printed.
//! (SIGKILL at the same boundaries is in pvcreset.rs and nodeevict.rs.)

use serde_json::Value;
use suite_tests::{Interrupt, Run, SimProcess, hinted_command, interrupt_after_step, plugin, run};

const INTERRUPTED: i32 = 130;

fn plugin_run(name: &str, sim: &SimProcess, home: &std::path::Path, args: &[String]) -> Run {
    run(plugin(name, home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig))
}

fn get(sim: &SimProcess, args: &[&str]) -> Value {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "json"]);
    let out = sim.kubectl(&full);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The last line of stderr: the error line the interruption printed.
fn last_line(stderr: &str) -> &str {
    stderr.trim_end().lines().last().unwrap_or("")
}

const HPA: &str = r#"{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "report-builder", "namespace": "apps"},
  "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "report-builder"},
           "minReplicas": 1, "maxReplicas": 4,
           "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}"#;

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
        let file = suite_tests::write(home.path(), "hpa.json", HPA);
        let created = sim.kubectl(&["create", "--validate=false", "-f", file.to_str().unwrap()]);
        assert_eq!(created.code, Some(0), "{}", created.stderr);
        let hpa_before = get(&sim, &["hpa", "report-builder", "-n", "apps"])["spec"].clone();
        let claim_before = get(&sim, &["pvc", "report-cache", "-n", "apps"]);

        let out = interrupt_after_step(
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
            Interrupt::CtrlC,
        );
        assert_eq!(out.code, Some(INTERRUPTED), "after {step}: {}", out.stderr);
        let line = last_line(&out.stderr);
        assert!(
            line.starts_with(&format!(
                "error: interrupted: the reset stopped after step {step}; the reset is recorded on deployment/report-builder: finish it with `kubectl pvcreset resume deployment/report-builder -n apps`"
            )),
            "after {step}: {line}"
        );
        // The hint, run as printed (plus -y: no terminal here).
        let mut resume = hinted_command(line, "pvcreset");
        resume.extend(["-y".to_string(), "--timeout".into(), "90s".into()]);
        let resumed = plugin_run("pvcreset", &sim, home.path(), &resume);
        assert_eq!(
            resumed.code,
            Some(0),
            "resume after {step}: {}",
            resumed.stderr
        );
        let deployment = get(&sim, &["deployment", "report-builder", "-n", "apps"]);
        assert_eq!(deployment["spec"]["replicas"], 1, "after {step}");
        assert_eq!(deployment["status"]["readyReplicas"], 1, "after {step}");
        assert!(
            deployment["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null(),
            "after {step}: journal removed"
        );
        let claim = get(&sim, &["pvc", "report-cache", "-n", "apps"]);
        assert_ne!(
            claim["metadata"]["uid"], claim_before["metadata"]["uid"],
            "after {step}: a new claim"
        );
        assert_eq!(claim["status"]["phase"], "Bound", "after {step}");
        assert_eq!(
            get(&sim, &["hpa", "report-builder", "-n", "apps"])["spec"],
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
        let out = interrupt_after_step(
            "nodeevict",
            &sim,
            home.path(),
            &[NODE, "--force", "-y"],
            step,
            Interrupt::CtrlC,
        );
        assert_eq!(out.code, Some(INTERRUPTED), "after {step}: {}", out.stderr);
        let line = last_line(&out.stderr);
        assert!(
            line.starts_with(&format!(
                "error: interrupted: the drain of {NODE} stopped after step {step}; the drain is recorded on node {NODE}: `kubectl nodeevict resume {NODE}` finishes it"
            )),
            "after {step}: {line}"
        );
        let mut resume = hinted_command(line, "nodeevict");
        resume.extend(["-y".to_string(), "--timeout".into(), "2m".into()]);
        let resumed = plugin_run("nodeevict", &sim, home.path(), &resume);
        assert_eq!(
            resumed.code,
            Some(0),
            "resume after {step}: {}",
            resumed.stderr
        );
        let node = get(&sim, &["node", NODE]);
        assert_eq!(
            node["spec"]["unschedulable"], true,
            "after {step}: cordoned"
        );
        assert!(
            node["metadata"]["annotations"]["nodeevict.kubectl-plugins.dev/journal"].is_null(),
            "after {step}: journal removed"
        );
        let pods = get(
            &sim,
            &[
                "pods",
                "-A",
                "--field-selector",
                &format!("spec.nodeName={NODE}"),
            ],
        );
        for pod in pods["items"].as_array().unwrap() {
            let owner = &pod["metadata"]["ownerReferences"][0]["kind"];
            assert_eq!(
                owner, "DaemonSet",
                "after {step}: {}",
                pod["metadata"]["name"]
            );
        }
        for single in ["force-web", "exchange-web"] {
            let d = get(&sim, &["deployment", single]);
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
