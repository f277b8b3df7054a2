//! Every destructive flow, `fault_rounds()` times (`SUITE_FAULT_ROUNDS`, default 10), each on a fresh kube-sim failing 10% of requests with
//! every transient kind (500, 503, 429 with Retry-After, dropped connections; half the 500s and
//! drops on writes strike after the write was done, so a lost answer hides a create that
//! happened). Each run must end correct; the outcome is judged from the sim's state and journal
//! with the faults switched off. (nodeevict's drains under faults are in nodeevict.rs.)

use serde_json::Value;
use suite_tests::{SimProcess, fault_rounds};

const SIM: &[&str] = &["--time-scale", "5"];
const FAULT_RATE: f64 = 0.1;

/// Ends the random faults, so what follows reads the outcome reliably.
fn faults_off(sim: &SimProcess) {
    assert_eq!(
        sim.kubectl(&["delete", "--raw", "/sim/v1/faults"]).code,
        Some(0)
    );
}

/// Starts the random faults, the state before them read.
fn faults_on(sim: &SimProcess) {
    sim.set_fault_rate(FAULT_RATE);
}

/// Writes the server carried out (2xx, including those whose answer was lost) for `method`
/// on paths containing `path`.
fn done_writes(sim: &SimProcess, method: &str, path: &str) -> Vec<Value> {
    sim.journal()
        .into_iter()
        .filter(|e| {
            e["method"] == method
                && e["path"].as_str().unwrap_or("").contains(path)
                && (200..300).contains(&e["status"].as_u64().unwrap_or(0))
        })
        .collect()
}

/// Faults injected so far: (all of them, those that hid a write that was carried out).
fn faults_seen(sim: &SimProcess) -> (usize, usize) {
    let journal = sim.journal();
    let lost = journal.iter().filter(|e| !e["fault"].is_null()).count();
    let refused = journal
        .iter()
        .filter(|e| {
            e["fault"].is_null() && matches!(e["status"].as_u64(), Some(0 | 429 | 500 | 503))
        })
        .count();
    (refused + lost, lost)
}

/// Adds one run's faults to the flow's tally.
fn tally(total: &mut (usize, usize), run: (usize, usize)) {
    total.0 += run.0;
    total.1 += run.1;
}

/// Whether to run one more round: `fault_rounds()` of them, and beyond that (up to five times as
/// many, at least 20) until a fault has struck, so a lucky draw never makes a pass vacuous.
fn another_round(round: usize, faults: (usize, usize)) -> bool {
    round < fault_rounds() || (faults.0 == 0 && round < (5 * fault_rounds()).max(20))
}

fn report(flow: &str, faults: (usize, usize), rounds: usize) {
    assert!(faults.0 > 0, "{flow}: faults were injected");
    eprintln!(
        "{flow}: {} faults injected over {} runs, {} of them answers lost after the write was done",
        faults.0, rounds, faults.1
    );
}

const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";
const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";

fn pods(sim: &SimProcess, namespace: &str, selector: &str) -> Vec<Value> {
    sim.get_json(&["pods", "-n", namespace, "-l", selector])["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

#[test]
fn airflow_restart_ends_correct_under_faults() {
    let mut faults = (0, 0);
    let mut round = 0;
    while another_round(round, faults) {
        let sim = SimProcess::start("astronomer", SIM);
        let home = tempfile::tempdir().unwrap();
        // Alternate the two strategies: a rolling restart of the scheduler, and the runbook's
        // delete of the workers' pods.
        let (namespace, component, selector, workload, strategy) = if round % 2 == 0 {
            (
                ZODIAC,
                "scheduler",
                "component=scheduler",
                "deployment/zodiac-cosmo-1172-scheduler",
                "rollout",
            )
        } else {
            (
                LUNAR,
                "worker",
                "component=worker",
                "statefulset/lunar-nuclear-3725-worker",
                "delete",
            )
        };
        if namespace == LUNAR {
            // worker-2 crash-loops on its full log volume, which no restart cures: the disk is
            // freed first (the PV's scripted crash loop and usage removed), so every worker can
            // come back Ready.
            let claim = sim.get_json(&["pvc", "logs-lunar-nuclear-3725-worker-2", "-n", LUNAR]);
            let pv = claim["spec"]["volumeName"].as_str().unwrap();
            let freed = sim.kubectl(&[
                "annotate",
                "pv",
                pv,
                "sim.kube-sim.dev/crash-loop-",
                "sim.kube-sim.dev/used-bytes-",
            ]);
            assert_eq!(freed.code, Some(0), "{}", freed.stderr);
        }
        let before: Vec<String> = pods(&sim, namespace, selector)
            .iter()
            .map(|p| p["metadata"]["uid"].as_str().unwrap().to_string())
            .collect();
        let generation =
            sim.get_json(&[workload, "-n", namespace])["metadata"]["generation"].clone();
        faults_on(&sim);
        let out = sim.run_plugin(
            "airflow",
            home.path(),
            &[
                "restart",
                component,
                "-n",
                namespace,
                "--strategy",
                strategy,
                "-y",
                "--timeout",
                "2m",
            ],
        );
        assert_eq!(out.code, Some(0), "round {round}: {}", out.stderr);
        faults_off(&sim);
        tally(&mut faults, faults_seen(&sim));
        let after = pods(&sim, namespace, selector);
        assert_eq!(after.len(), before.len(), "round {round}: nothing lost");
        for pod in &after {
            assert!(
                ready(pod),
                "round {round}: {} Ready",
                pod["metadata"]["name"]
            );
            let uid = pod["metadata"]["uid"].as_str().unwrap();
            assert!(!before.iter().any(|b| b == uid), "round {round}: replaced");
        }
        let workload_now = sim.get_json(&[workload, "-n", namespace]);
        if strategy == "rollout" {
            // One rollout, not two: a retried patch carries the same restartedAt.
            assert_eq!(
                workload_now["metadata"]["generation"].as_i64(),
                generation.as_i64().map(|g| g + 1),
                "round {round}"
            );
        } else {
            assert_eq!(
                workload_now["metadata"]["generation"], generation,
                "round {round}: deleting pods changes no spec"
            );
        }
        assert_eq!(
            workload_now["status"]["readyReplicas"], workload_now["spec"]["replicas"],
            "round {round}"
        );
        round += 1;
    }
    report("airflow restart", faults, round);
}

#[test]
fn pvcreset_ends_correct_under_faults() {
    let mut faults = (0, 0);
    let mut round = 0;
    while another_round(round, faults) {
        let sim = SimProcess::start("aura", SIM);
        let home = tempfile::tempdir().unwrap();
        let claims_before = sim.get_json(&["pvc", "-A"])["items"]
            .as_array()
            .unwrap()
            .len();
        let old = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
        faults_on(&sim);
        let out = sim.run_plugin(
            "pvcreset",
            home.path(),
            &["report-cache", "-n", "apps", "-y", "--timeout", "2m"],
        );
        assert_eq!(out.code, Some(0), "round {round}: {}", out.stderr);
        faults_off(&sim);
        tally(&mut faults, faults_seen(&sim));
        let claim = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
        assert_ne!(
            claim["metadata"]["uid"], old["metadata"]["uid"],
            "round {round}"
        );
        assert_eq!(claim["status"]["phase"], "Bound", "round {round}");
        assert_eq!(claim["spec"]["resources"], old["spec"]["resources"]);
        assert_eq!(
            done_writes(&sim, "POST", "/persistentvolumeclaims").len(),
            1,
            "round {round}: exactly one create"
        );
        assert_eq!(
            sim.get_json(&["pvc", "-A"])["items"]
                .as_array()
                .unwrap()
                .len(),
            claims_before,
            "round {round}: no claim lost or added"
        );
        let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
        assert_eq!(deployment["spec"]["replicas"], 1, "round {round}");
        assert_eq!(deployment["status"]["readyReplicas"], 1, "round {round}");
        assert!(
            deployment["metadata"]["annotations"]["pvcreset.kubectl-plugins.dev/journal"].is_null(),
            "round {round}: journal removed"
        );
        round += 1;
    }
    report("pvcreset", faults, round);
}

const NS: &str = "atmosphere";

/// The workflows resubmitted from the failed deploy-e5121482-wwmms.
fn resubmissions(sim: &SimProcess) -> Vec<Value> {
    sim.get_json(&[
        "workflows",
        "-n",
        NS,
        "-l",
        "workflows.argoproj.io/resubmitted-from-workflow=deploy-e5121482-wwmms",
    ])["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn argodeploy_resubmit_and_stop_end_correct_under_faults() {
    let mut faults = (0, 0);
    let mut round = 0;
    while another_round(round, faults) {
        let sim = SimProcess::start("atmosphere", SIM);
        let home = tempfile::tempdir().unwrap();
        let workflows_before = sim.get_json(&["workflows", "-n", NS])["items"]
            .as_array()
            .unwrap()
            .len();
        faults_on(&sim);
        let out = sim.run_plugin(
            "argodeploy",
            home.path(),
            &["resubmit", "deploy-e5121482-wwmms", "-n", NS, "-y"],
        );
        assert_eq!(out.code, Some(0), "round {round}: {}", out.stderr);
        let stopped = sim.run_plugin(
            "argodeploy",
            home.path(),
            &["stop", "deploy-f3f49249-njqlp", "-n", NS, "-y"],
        );
        assert_eq!(stopped.code, Some(0), "round {round}: {}", stopped.stderr);
        faults_off(&sim);
        tally(&mut faults, faults_seen(&sim));
        // Exactly one resubmission, the one printed.
        let resubmitted = resubmissions(&sim);
        assert_eq!(resubmitted.len(), 1, "round {round}: no duplicate");
        assert_eq!(
            out.stdout.trim(),
            resubmitted[0]["metadata"]["name"].as_str().unwrap(),
            "round {round}"
        );
        assert_eq!(
            done_writes(&sim, "POST", "/workflows").len(),
            1,
            "round {round}: exactly one create"
        );
        assert_eq!(
            sim.get_json(&["workflows", "-n", NS])["items"]
                .as_array()
                .unwrap()
                .len(),
            workflows_before + 1,
            "round {round}: nothing lost"
        );
        let stopped_wf = sim.get_json(&["workflow", "deploy-f3f49249-njqlp", "-n", NS]);
        assert_eq!(stopped_wf["spec"]["shutdown"], "Stop", "round {round}");
        // Nothing else was written: the create and the stop patch only.
        let writes: Vec<String> = sim
            .mutating_requests()
            .iter()
            .filter(|e| (200..300).contains(&e["status"].as_u64().unwrap_or(0)))
            .map(|e| {
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap_or(""),
                    e["path"].as_str().unwrap_or("")
                )
            })
            .collect();
        assert!(
            writes.iter().all(|w| w == "POST /apis/argoproj.io/v1alpha1/namespaces/atmosphere/workflows"
                || w == "PATCH /apis/argoproj.io/v1alpha1/namespaces/atmosphere/workflows/deploy-f3f49249-njqlp"),
            "round {round}: {writes:?}"
        );
        round += 1;
    }
    report("argodeploy resubmit + stop", faults, round);
}

/// The exact case the random faults reach only now and then: the answer to the create itself is
/// lost after the server made the object. Exactly one object, and the command succeeds.
#[test]
fn a_create_whose_answer_is_lost_happens_exactly_once() {
    let home = tempfile::tempdir().unwrap();

    let sim = SimProcess::start("atmosphere", SIM);
    sim.lose_next_answer(
        "POST",
        "/apis/argoproj.io/v1alpha1/namespaces/atmosphere/workflows",
    );
    let out = sim.run_plugin(
        "argodeploy",
        home.path(),
        &["resubmit", "deploy-e5121482-wwmms", "-n", NS, "-y"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lost: Vec<Value> = sim
        .journal()
        .into_iter()
        .filter(|e| e["fault"] == "response-lost-drop")
        .collect();
    assert_eq!(lost.len(), 1, "the create's answer was lost: {lost:?}");
    assert_eq!(lost[0]["status"], 201, "after the create was done");
    let resubmitted = resubmissions(&sim);
    assert_eq!(resubmitted.len(), 1, "exactly one resubmission");
    assert_eq!(
        out.stdout.trim(),
        resubmitted[0]["metadata"]["name"].as_str().unwrap()
    );

    let sim = SimProcess::start("aura", SIM);
    sim.lose_next_answer("POST", "/api/v1/namespaces/apps/persistentvolumeclaims");
    let out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &["report-cache", "-n", "apps", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        done_writes(&sim, "POST", "/persistentvolumeclaims").len(),
        1,
        "exactly one create: {:?}",
        sim.journal()
            .iter()
            .filter(|e| e["method"] == "POST")
            .collect::<Vec<_>>()
    );
    let claim = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
    assert_eq!(claim["status"]["phase"], "Bound");
    let deployment = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
    assert_eq!(deployment["status"]["readyReplicas"], 1);
}
