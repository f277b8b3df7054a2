//! Why a component is failing, in `kubectl airflow status`: a crash-looping pod's problem says
//! how its last attempt ended (reason and exit code) and shows that attempt's last log lines;
//! a worker whose log says its disk is full gets the `reset-logs` command as its fix. Also the
//! kube-sim behaviour it rests on, through real kubectl: a crashed container's `lastState`
//! (Error, exit code 1; OOMKilled, 137).

use serde_json::Value;
use suite_tests::{SimProcess, paste, wait_for};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const WORKER_2: &str = "lunar-nuclear-3725-worker-2";

#[test]
fn the_sim_reports_how_a_crashed_container_ended() {
    let sim = SimProcess::start("astronomer", &[]);
    let dir = tempfile::tempdir().unwrap();
    for (name, reason, code) in [("crasher", "Error", 1), ("eater", "OOMKilled", 137)] {
        let extra = if reason == "OOMKilled" {
            "\n    sim.kube-sim.dev/crash-reason: OOMKilled"
        } else {
            ""
        };
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n  annotations:\n    sim.kube-sim.dev/crash-loop: main{extra}\nspec:\n  containers:\n  - name: main\n    image: busybox\n    resources:\n      limits:\n        memory: 64Mi\n"
        );
        suite_tests::apply_yaml(&sim, dir.path(), name, &yaml);
        let mut last = Value::Null;
        wait_for(
            &format!("{name} to crash"),
            std::time::Duration::from_secs(20),
            || {
                last = sim.get_json(&["pod", name, "-n", "default"])["status"]["containerStatuses"]
                    [0]["lastState"]["terminated"]
                    .clone();
                !last.is_null()
            },
        );
        assert_eq!(last["reason"], reason, "{last}");
        assert_eq!(last["exitCode"], code, "{last}");
    }
}

#[test]
fn status_says_why_a_worker_crashed_and_a_full_disk_gets_reset_logs() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // 47 restarts recorded, and one more when the sim's kubelet finds it due at start.
    assert!(
        out.stdout.lines().any(|l| l
            .starts_with(&format!("- {WORKER_2} (worker) is crash-looping after "))
            && l.contains(" restarts: worker exited with code 1 (Error); its disk")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  the last lines of worker before the restart:\n    | "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Unrecoverable error"), "{}", out.stdout);
    // The log lines are cut to 120 columns (commands alone stay whole, to paste).
    assert!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("    | "))
            .all(|l| l.chars().count() <= 120),
        "{}",
        out.stdout
    );
    let json = sim.run_plugin(
        "airflow",
        home.path(),
        &["status", "-n", LUNAR, "-o", "json"],
    );
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let problem = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["what"].as_str().unwrap().starts_with(WORKER_2))
        .cloned()
        .unwrap();
    assert_eq!(problem["cause"]["lastExit"]["reason"], "Error");
    assert_eq!(problem["cause"]["lastExit"]["exitCode"], 1);
    assert_eq!(problem["cause"]["log"].as_array().unwrap().len(), 5);

    // Its last attempt ends on a full disk (the scenario's; here another ENOSPC log): the fix is
    // a fresh log volume.
    let annotated = sim.kubectl(&[
        "annotate",
        "pod",
        WORKER_2,
        "-n",
        LUNAR,
        "--overwrite",
        "sim.kube-sim.dev/log.worker=[2026-11-24 11:50:02,318] {logging_mixin.py:190} INFO - starting\nOSError: [Errno 28] No space left on device: '/usr/local/airflow/logs/scheduler/latest'",
    ]);
    assert_eq!(annotated.code, Some(0), "{}", annotated.stderr);
    let full = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
    assert_eq!(full.code, Some(0), "{}", full.stderr);
    // The problem's text wraps at 120 columns under its "- ".
    assert!(
        full.stdout
            .replace("\n  ", " ")
            .contains("its disk is full (No space left on device)"),
        "{}",
        full.stdout
    );
    let fix = full
        .stdout
        .lines()
        .skip_while(|l| !l.contains(WORKER_2) || !l.starts_with("- "))
        .find_map(|l| l.strip_prefix("  fix: "))
        .unwrap_or_else(|| panic!("a fix in {}", full.stdout))
        .to_string();
    assert_eq!(
        fix,
        format!(
            "kubectl airflow reset-logs {WORKER_2} lunar-nuclear-3725 -n {LUNAR} --kubeconfig {}",
            sim.kubeconfig.display()
        )
    );
    let before = sim.mutating_requests().len();
    let pasted = paste(&format!("{fix} --dry-run"), &sim.kubeconfig, home.path());
    assert_eq!(pasted.code, Some(0), "{fix}: {}", pasted.stderr);
    assert_eq!(
        sim.mutating_requests().len(),
        before,
        "a dry run changes nothing"
    );
}
