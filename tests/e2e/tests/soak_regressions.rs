//! Bugs the chaos soak (tests/soak) found, each pinned by a deterministic test of its own. The
//! soak's episode seed that first showed each one is in its doc comment; `SOAK_SEED=<seed>
//! SOAK_EPISODES=1 cargo test -p suite-tests --test soak` replays that episode's draws (process
//! timing is the machine's, so the exact interleaving is pinned here instead).

use std::process::Stdio;
use std::time::Duration;

use suite_tests::{Run, SimProcess, plugin};

/// Soak seed 2006 (airflow reset-logs of one worker, the operator scaling the workers by hand
/// mid-reset): pvcreset's verification waited for the owner to be back at the replicas it had
/// recorded, which never happens once the operator has chosen another count, so every resume
/// timed out and the reset could only be aborted.
#[test]
fn a_reset_finishes_when_the_operator_scales_the_owner_by_hand_mid_reset() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let before = sim.get_json(&["pvc", "data-elasticsearch-1", "-n", "logging"]);
    let child = plugin("pvcreset", home.path())
        .args([
            "--statefulset",
            "elasticsearch",
            "--ordinal",
            "1",
            "--strategy",
            "pod",
            "-n",
            "logging",
            "-y",
            "--timeout",
            "20s",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvcreset");
    // The operator scales the StatefulSet while the reset waits for the new claim and pod.
    suite_tests::wait_for(
        "the reset to delete the claim",
        Duration::from_secs(10),
        || {
            sim.journal().iter().any(|e| {
                e["method"] == "DELETE"
                    && e["path"].as_str().is_some_and(|p| {
                        p.ends_with("/persistentvolumeclaims/data-elasticsearch-1")
                    })
            })
        },
    );
    let scaled = sim.kubectl(&[
        "scale",
        "sts/elasticsearch",
        "-n",
        "logging",
        "--replicas=4",
    ]);
    assert_eq!(scaled.code, Some(0), "{}", scaled.stderr);
    let out: Run = child.wait_with_output().expect("wait").into();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let after = sim.get_json(&["pvc", "data-elasticsearch-1", "-n", "logging"]);
    assert_ne!(
        after["metadata"]["uid"], before["metadata"]["uid"],
        "a new claim"
    );
    assert_eq!(after["status"]["phase"], "Bound");
    let sts = sim.get_json(&["sts", "elasticsearch", "-n", "logging"]);
    assert_eq!(sts["spec"]["replicas"], 4, "the operator's count is kept");
    assert!(
        sts["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null(),
        "journal removed"
    );
}

/// Soak seed 3010 (airflow restart of a component whose new pod does not become Ready in time):
/// the timeout's hint `kubectl airflow status RELEASE` had no `-n`, so pasted as printed it
/// looked in the default namespace and failed.
#[test]
fn the_restart_timeout_hint_works_when_pasted_as_printed() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    // zodiac-cosmo-1172's triggerer is Pending (no room for it): its restart cannot finish.
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &[
            "restart",
            "triggerer",
            "-n",
            "astronomer-ee-zodiac-cosmo-1172",
            "-y",
            "--timeout",
            "2s",
        ],
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    let last = out.stderr.trim_end().lines().last().unwrap_or("");
    let printed = last
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {last:?}"));
    assert!(printed.starts_with("kubectl airflow status "), "{printed}");
    // Pasted into a shell, as an operator would: kubectl finds the plugin on PATH.
    let pasted = suite_tests::paste(printed, &sim.kubeconfig, home.path());
    assert_eq!(pasted.code, Some(0), "`{printed}`: {}", pasted.stderr);
    assert!(
        pasted.stdout.contains("zodiac-cosmo-1172"),
        "{}",
        pasted.stdout
    );
}

/// Soak seed 3011 (three concurrent `pvcreset --statefulset mongodb --all --strategy scale`
/// under faults): a run listed the journals, then read the owner for its plan after another run
/// had written its journal and scaled the owner to 0. It planned "back to 0 replicas", its
/// first journal write (conditional on the resourceVersion it had just read) succeeded over
/// the other run's journal, and it left mongodb at 0 replicas with no claims, saying done.
/// Here the sim holds the plan's read of the owner while a second run starts.
#[test]
fn a_plan_read_after_another_run_started_refuses_instead_of_taking_its_journal_over() {
    // Slow enough that the second run is still waiting for mongodb's pods to stop when the
    // first run's held read is answered.
    let sim = SimProcess::start("aura", &["--time-scale", "2"]);
    let home = tempfile::tempdir().unwrap();
    let spawn = || {
        plugin("pvcreset", home.path())
            .args([
                "--statefulset",
                "mongodb",
                "--all",
                "--strategy",
                "scale",
                "-n",
                "data",
                "-y",
                "--timeout",
                "30s",
                "--kubeconfig",
            ])
            .arg(&sim.kubeconfig)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pvcreset")
    };
    // The first run lists the StatefulSets twice: for the journals, then for its plan. Hold the
    // second list while the second run records its reset and scales mongodb to 0.
    sim.slow_request("GET", "/apis/apps/v1/namespaces/data/statefulsets", 1, 1500);
    let first = spawn();
    std::thread::sleep(Duration::from_millis(300));
    let second = spawn();
    let first: Run = first.wait_with_output().expect("wait").into();
    let second: Run = second.wait_with_output().expect("wait").into();
    assert_eq!(
        second.code,
        Some(0),
        "the run that started its reset: {}",
        second.stderr
    );
    assert_eq!(
        first.code,
        Some(1),
        "the run that planned from a stale read: {}",
        first.stderr
    );
    let last = first.stderr.trim_end().lines().last().unwrap_or("");
    assert!(last.contains("being reset by another run"), "{last}");
    assert!(last.contains("changed nothing"), "{last}");
    let sts = sim.get_json(&["sts", "mongodb", "-n", "data"]);
    assert_eq!(sts["spec"]["replicas"], 3);
    let claims = sim.get_json(&["pvc", "-n", "data"]);
    assert_eq!(claims["items"].as_array().unwrap().len(), 3, "{claims}");
    for c in claims["items"].as_array().unwrap() {
        assert_eq!(c["status"]["phase"], "Bound");
    }
}

/// Soak seed 100110 (a pool drain, `-l agentpool=database --force`, Ctrl-C on its first node):
/// the interruption printed only the first node's resume and abort. Run as printed, the resume
/// finished that node and said it was safe to terminate; the other two nodes of the pool were
/// never drained and nothing said so.
#[test]
fn an_interrupted_pool_drain_names_the_nodes_not_started_and_the_command_that_drains_them() {
    use suite_tests::{Interrupt, interrupt_after_step};
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let pool = sim.get_json(&["nodes", "-l", "agentpool=database"]);
    let mut nodes: Vec<String> = pool["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    nodes.sort();
    assert_eq!(nodes.len(), 3);
    let out = interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &["-l", "agentpool=database", "--force", "-y"],
        "cordoned",
        Interrupt::CtrlC,
    );
    assert_eq!(out.code, Some(130), "{}", out.stderr);
    let last = out
        .stderr
        .trim_end()
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    assert!(
        last.contains(&format!("not started yet: {}, {}", nodes[1], nodes[2])),
        "{last}"
    );
    let printed: Vec<&str> = last.split('`').skip(1).step_by(2).collect();
    let again = printed
        .iter()
        .find(|c| c.starts_with("kubectl nodeevict -l "))
        .unwrap_or_else(|| panic!("no command for the rest of the pool in {last:?}"));
    assert_eq!(
        *again,
        format!(
            "kubectl nodeevict -l agentpool=database --force --kubeconfig {}",
            sim.kubeconfig.display()
        )
    );
    // Pasted into a shell as printed (answered yes), through kubectl's plugin lookup.
    let pasted = suite_tests::paste(
        &format!("{again} -y --timeout 2m"),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(pasted.code, Some(0), "`{again}`: {}", pasted.stderr);
    for node in &nodes {
        let n = sim.get_json(&["node", node]);
        assert_eq!(n["spec"]["unschedulable"], true, "{node} cordoned");
        assert!(
            n["metadata"]["annotations"]["nodeevict.kubectl-plugins.dev/journal"].is_null(),
            "{node}: journal removed"
        );
        let pods = sim.get_json(&[
            "pods",
            "-A",
            "--field-selector",
            &format!("spec.nodeName={node}"),
        ]);
        for p in pods["items"].as_array().unwrap() {
            assert_eq!(
                p["metadata"]["ownerReferences"][0]["kind"], "DaemonSet",
                "{node}: {} left",
                p["metadata"]["name"]
            );
        }
    }
}

/// Soak seed 100239 (pvcreset --strategy scale of elasticsearch-0, the operator scaling the
/// StatefulSet up by hand while its claim was being deleted): the owner's pods came back on the
/// old claim, which then stayed Terminating; every resume and rerun timed out, and `abort` could
/// not undo a deleted claim. A reset now scales back to 0 an owner scaled up under it.
#[test]
fn a_reset_whose_owner_was_scaled_up_by_hand_mid_reset_still_finishes() {
    use suite_tests::{Interrupt, interrupt_after_step};
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let before = sim.get_json(&["pvc", "data-elasticsearch-0", "-n", "logging"]);
    let killed = interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &[
            "--statefulset",
            "elasticsearch",
            "--ordinal",
            "0",
            "--strategy",
            "scale",
            "-n",
            "logging",
            "-y",
        ],
        "scaled-down",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    // The operator scales it up by hand: its pods come back on the old claims.
    let scaled = sim.kubectl(&[
        "scale",
        "sts/elasticsearch",
        "-n",
        "logging",
        "--replicas=4",
    ]);
    assert_eq!(scaled.code, Some(0), "{}", scaled.stderr);
    suite_tests::wait_for("elasticsearch-0 back", Duration::from_secs(20), || {
        sim.find_json(&["pod", "elasticsearch-0", "-n", "logging"])
            .is_some_and(|p| suite_tests::pod_ready(&p))
    });
    let resumed = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "resume",
            "statefulset/elasticsearch",
            "-n",
            "logging",
            "-y",
            "--timeout",
            "20s",
        ],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("is at 4 replicas, not 0 as the reset left it"),
        "{}",
        resumed.stderr
    );
    let after = sim.get_json(&["pvc", "data-elasticsearch-0", "-n", "logging"]);
    assert_ne!(
        after["metadata"]["uid"], before["metadata"]["uid"],
        "a new claim"
    );
    assert_eq!(after["status"]["phase"], "Bound");
    let sts = sim.get_json(&["sts", "elasticsearch", "-n", "logging"]);
    assert_eq!(sts["spec"]["replicas"], 3, "the recorded replicas restored");
    assert!(sts["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null());
}

/// Soak seed 100328 (a drain whose budget the operator tightened to maxUnavailable 0 mid-drain):
/// the drain timed out, as it must; rerun, it said "1 blocker(s), nothing was changed" and
/// stopped there — with the node cordoned, a Deployment pre-scaled and the drain recorded, and
/// no word of `resume` or `abort`. Since a rerun goes on exactly as `resume` (a budget is the
/// Eviction API's to enforce, with back-off), it times out again, and says the same.
#[test]
fn a_rerun_blocked_on_a_recorded_drain_says_how_to_finish_or_undo_it() {
    const NODE: &str = "ip-10-0-34-201.ec2.internal";
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let replicas_before = sim.get_json(&["deployments"]);
    // The operator tightens the budget of a pod on the node; the drain times out on it.
    let tightened = sim.kubectl(&[
        "patch",
        "pdb",
        "gravity-web",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minAvailable":null,"maxUnavailable":0}}"#,
    ]);
    assert_eq!(tightened.code, Some(0), "{}", tightened.stderr);
    let first = sim.run_plugin(
        "nodeevict",
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "3s"],
    );
    assert_eq!(first.code, Some(4), "{}", first.stderr);
    let rerun = sim.run_plugin(
        "nodeevict",
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "3s"],
    );
    assert_eq!(rerun.code, Some(4), "{}", rerun.stderr);
    let last = rerun
        .stderr
        .trim_end()
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    assert!(
        last.contains("timed out evicting default/gravity-web-"),
        "{last}"
    );
    let abort = format!(
        "kubectl nodeevict abort {NODE} --kubeconfig {}",
        sim.kubeconfig.display()
    );
    assert!(last.contains(&format!("`{abort}`")), "{last}");
    // Pasted as printed (answered yes): the drain is undone.
    let pasted = suite_tests::paste(&format!("{abort} -y"), &sim.kubeconfig, home.path());
    assert_eq!(pasted.code, Some(0), "`{abort}`: {}", pasted.stderr);
    let node = sim.get_json(&["node", NODE]);
    assert_ne!(node["spec"]["unschedulable"], true, "uncordoned");
    assert!(node["metadata"]["annotations"]["nodeevict.kubectl-plugins.dev/journal"].is_null());
    let replicas = |list: &serde_json::Value| -> Vec<(String, i64)> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["metadata"]["name"].as_str().unwrap().to_string(),
                    d["spec"]["replicas"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        replicas(&sim.get_json(&["deployments"])),
        replicas(&replicas_before)
    );
}

/// Soak seed 100385 (two concurrent resets of report-cache under faults): the run that had been
/// taken over scaled report-builder to 0 after the run that took it over had scaled it back up,
/// and that run, resumed after its scale-up, waited for a Deployment at 0 to become Ready until
/// every resume timed out. A run now rescales an owner only while it holds the reset (the scale
/// conditional on the read that found its journal), and a resume after the scale-up puts an
/// owner found at 0 back at its recorded replicas.
#[test]
fn a_resume_after_the_scale_up_puts_an_owner_found_at_zero_back() {
    use suite_tests::{Interrupt, interrupt_after_step};
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let killed = interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y"],
        "scaled-up",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    let down = sim.kubectl(&[
        "scale",
        "deployment/report-builder",
        "-n",
        "apps",
        "--replicas=0",
    ]);
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    let resumed = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "resume",
            "deployment/report-builder",
            "-n",
            "apps",
            "-y",
            "--timeout",
            "20s",
        ],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    let d = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(d["spec"]["replicas"], 1);
    assert!(d["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null());
    // The resume ends once the claim's pod is Ready; the Deployment's status catches up when
    // its controller next syncs (a moment later on a loaded machine).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let d = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
        if d["status"]["readyReplicas"] == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never Ready: {d}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Seen in CI's soak (episode seed 5253679701468046860: `argodeploy stop WF -n atmosphere`,
/// Ctrl-C while the stop request was in flight): the interruption said "`kubectl argodeploy get
/// WF` shows it" without `-n`; pasted, it looked in the default namespace and failed with "not
/// found". Here the sim holds the PATCH so that Ctrl-C lands while it is in flight.
#[test]
fn an_interrupted_stop_names_a_command_that_works_when_pasted() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let running = sim.get_json(&["workflows.argoproj.io", "-n", "atmosphere"]);
    let workflow = running["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|wf| wf["status"]["phase"] == "Running")
        .and_then(|wf| wf["metadata"]["name"].as_str())
        .expect("a Running workflow in atmosphere")
        .to_string();
    sim.slow_request(
        "PATCH",
        &format!("/apis/argoproj.io/v1alpha1/namespaces/atmosphere/workflows/{workflow}"),
        0,
        3000,
    );
    let child = plugin("argodeploy", home.path())
        .args(["stop", &workflow, "-n", "atmosphere", "-y", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn argodeploy stop");
    // The plan's line comes just before the PATCH (with -y there is no prompt); the sim holds
    // the PATCH for 3 s, so Ctrl-C half a second after the line lands while it is in flight.
    let mut child = child;
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut stderr, &mut line).expect("read stderr");
        assert!(read > 0, "the stop ended before its plan: {seen}");
        seen += &line;
        if line.starts_with("Stop workflow ") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read stderr");
    let out = Run {
        code: status.code(),
        stdout: String::new(),
        stderr: seen + &rest,
    };
    assert_eq!(out.code, Some(130), "{}", out.stderr);
    let last = out.stderr.trim_end().lines().last().unwrap_or("");
    let printed = last
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {last:?}"));
    assert!(printed.starts_with("kubectl argodeploy get "), "{printed}");
    let pasted = suite_tests::paste(printed, &sim.kubeconfig, home.path());
    assert_eq!(pasted.code, Some(0), "`{printed}`: {}", pasted.stderr);
    assert!(pasted.stdout.contains(&workflow), "{}", pasted.stdout);
}

/// Soak seed 100178 (airflow reset-logs of worker-0, pod strategy, SIGKILL right after the
/// journal was written, then the operator deleted worker-0 by hand): the StatefulSet recreated
/// worker-0 on the old claim, which was not yet deleted, and it ran. The resume deleted the
/// claim (Terminating while a pod uses it), skipped the pod delete (the uid recorded was the
/// old pod's) and waited for the claim to go, which the running replacement held forever:
/// every resume timed out. The replacement of the planned pod, holding the old claim, is now
/// deleted as the planned pod would have been.
#[test]
fn a_resume_deletes_the_replacement_pod_that_holds_the_old_claim() {
    use suite_tests::{Interrupt, interrupt_after_step};
    let sim = SimProcess::start("astronomer", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let ns = "astronomer-ee-lunar-nuclear-3725";
    let claim = "logs-lunar-nuclear-3725-worker-0";
    let old_uid = sim.get_json(&["pvc", claim, "-n", ns])["metadata"]["uid"].clone();
    let killed = interrupt_after_step(
        "airflow",
        &sim,
        home.path(),
        &["reset-logs", "lunar-nuclear-3725-worker-0", "-n", ns, "-y"],
        "started",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    let deleted = sim.kubectl(&["delete", "pod", "lunar-nuclear-3725-worker-0", "-n", ns]);
    assert_eq!(deleted.code, Some(0), "{}", deleted.stderr);
    // The StatefulSet controller brings worker-0 back, on the old claim.
    let waited = sim.kubectl(&[
        "wait",
        "--for=condition=Ready",
        "pod/lunar-nuclear-3725-worker-0",
        "-n",
        ns,
        "--timeout=30s",
    ]);
    assert_eq!(waited.code, Some(0), "{}", waited.stderr);
    let resumed = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[
            "resume",
            "statefulset/lunar-nuclear-3725-worker",
            "-n",
            ns,
            "-y",
            "--timeout",
            "30s",
        ],
    );
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    let new_claim = sim.get_json(&["pvc", claim, "-n", ns]);
    assert_ne!(
        new_claim["metadata"]["uid"], old_uid,
        "the claim was not replaced"
    );
    assert_eq!(new_claim["status"]["phase"], "Bound");
    let sts = sim.get_json(&["sts", "lunar-nuclear-3725-worker", "-n", ns]);
    assert!(sts["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null());
}

/// Found while making the waits event-driven: a resume that puts an owner found at 0 back at
/// its replicas dropped its scale when the owner changed between the read and the write (a
/// 409: the controller's status update, right after the operator's `kubectl scale`), then
/// waited for an owner at 0 until it timed out. Here the sim holds the scale while the owner
/// changes, so the scale meets the conflict every time.
#[test]
fn a_resume_whose_scale_back_meets_a_conflict_reads_again_and_scales() {
    use std::io::{BufRead, BufReader};
    use suite_tests::{Interrupt, interrupt_after_step};
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let home = tempfile::tempdir().unwrap();
    let killed = interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y"],
        "scaled-up",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    let down = sim.kubectl(&[
        "scale",
        "deployment/report-builder",
        "-n",
        "apps",
        "--replicas=0",
    ]);
    assert_eq!(down.code, Some(0), "{}", down.stderr);
    // The resume's first PATCH of the owner takes its journal over; the second is the scale.
    sim.slow_request(
        "PATCH",
        "/apis/apps/v1/namespaces/apps/deployments/report-builder",
        1,
        3000,
    );
    let mut resume = plugin("pvcreset", home.path())
        .args([
            "resume",
            "deployment/report-builder",
            "-n",
            "apps",
            "-y",
            "--timeout",
            "30s",
        ])
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pvcreset resume");
    let mut lines = BufReader::new(resume.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let scaling = line.contains("scaling it to 1 again");
        seen.push(line);
        if scaling {
            break;
        }
    }
    // While the scale is held, the owner changes: the held scale then meets a 409.
    let changed = sim.kubectl(&[
        "annotate",
        "deployment",
        "report-builder",
        "-n",
        "apps",
        "example.com/touched=yes",
    ]);
    assert_eq!(changed.code, Some(0), "{}", changed.stderr);
    seen.extend(lines.map_while(Result::ok));
    let status = resume.wait().expect("wait for the resume");
    assert_eq!(status.code(), Some(0), "{}", seen.join("\n"));
    let d = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(d["spec"]["replicas"], 1, "{d}");
    assert!(d["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null());
    let conflicts = sim
        .journal()
        .iter()
        .filter(|e| {
            e["method"] == "PATCH"
                && e["path"] == "/apis/apps/v1/namespaces/apps/deployments/report-builder"
                && e["status"] == 409
        })
        .count();
    assert!(
        conflicts >= 1,
        "the scale met no conflict: the test proves nothing"
    );
}
