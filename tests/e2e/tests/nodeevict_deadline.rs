//! `kubectl nodeevict --force-after D` (issue 20, "deadlines that hold"): an eviction a
//! PodDisruptionBudget still refuses becomes a deletion at the deadline (the drain's start + D)
//! less the pod's grace period, and not before; the plan says when and for which pods; the
//! deadline is journaled, so `resume` keeps it. On aura's database node, whose mongodb-2 sits at
//! its budget (minAvailable 3 of 3): every eviction of it is refused.
//!
//! Times come from the sim's request journal (simulated time, whole seconds, `TIME_SCALE` times
//! faster than real time): the DELETE of mongodb-2 against the drain's first write, the cordon.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use suite_tests::{Interrupt, Run, SimProcess};

const NODE: &str = "aks-database-97366946-vmss000000";
const TIME_SCALE: f64 = 5.0;
const SCALE_ARG: &str = "5";

fn nodeevict(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    sim.run_plugin("nodeevict", home, args)
}

fn time(entry: &Value) -> Timestamp {
    entry["time"].as_str().unwrap().parse().unwrap()
}

/// Real seconds between two journal entries.
fn real_seconds(from: &Value, to: &Value) -> f64 {
    time(to).duration_since(time(from)).as_secs_f64() / TIME_SCALE
}

fn is(entry: &Value, method: &str, path: &str) -> bool {
    entry["method"] == method && entry["path"] == path
}

const NODE_PATH: &str = "/api/v1/nodes/aks-database-97366946-vmss000000";
const MONGODB: &str = "/api/v1/namespaces/data/pods/mongodb-2";

/// The DELETE of mongodb-2 — the only DELETE of a pod — and its time in real seconds after
/// the first write on the node (the cordon, with the journal); asserts that every eviction of
/// mongodb-2 before it was refused and that the other pod was evicted, not deleted.
fn deletion_after_cordon(sim: &SimProcess) -> f64 {
    let journal = sim.journal();
    let cordon = journal
        .iter()
        .find(|e| is(e, "PATCH", NODE_PATH))
        .expect("the cordon");
    let deletes: Vec<&Value> = journal
        .iter()
        .filter(|e| e["method"] == "DELETE" && e["path"].as_str().unwrap().contains("/pods/"))
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(is(deletes[0], "DELETE", MONGODB), "{deletes:?}");
    assert_eq!(deletes[0]["status"], 200, "{deletes:?}");
    let evictions: Vec<&Value> = journal
        .iter()
        .filter(|e| is(e, "POST", &format!("{MONGODB}/eviction")))
        .collect();
    assert!(
        evictions.len() >= 2 && evictions.iter().all(|e| e["status"] == 429),
        "{evictions:?}"
    );
    let last_refusal = evictions.last().unwrap();
    assert!(time(last_refusal) <= time(deletes[0]));
    let report_builder = journal
        .iter()
        .filter(|e| {
            e["method"] == "POST"
                && e["path"]
                    .as_str()
                    .unwrap()
                    .starts_with("/api/v1/namespaces/apps/pods/report-builder-")
                && e["path"].as_str().unwrap().ends_with("/eviction")
        })
        .count();
    assert_eq!(report_builder, 1, "report-builder evicted once");
    real_seconds(cordon, deletes[0])
}

/// Only DaemonSet pods left, cordoned, the journal gone.
fn drained(sim: &SimProcess) {
    let pods = sim.get_json(&[
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={NODE}"),
    ]);
    for p in pods["items"].as_array().unwrap() {
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["kind"], "DaemonSet",
            "{}",
            p["metadata"]["name"]
        );
    }
    let node = sim.get_json(&["node", NODE]);
    assert_eq!(node["spec"]["unschedulable"], true, "{node}");
    assert!(
        node["metadata"]["annotations"]
            .get("nodeevict.kubectl-plugins.dev/journal")
            .is_none(),
        "{node}"
    );
}

fn event_reasons(sim: &SimProcess) -> Vec<String> {
    suite_tests::nodeevict_event_reasons(sim, NODE)
}

#[test]
fn a_pod_its_budget_still_refuses_is_deleted_its_grace_period_before_the_deadline_not_before() {
    let sim = SimProcess::start("aura", &["--time-scale", SCALE_ARG]);
    let home = tempfile::tempdir().unwrap();
    // Deleted at 14 s - 4 s = 10 s after the start, having been refused until then.
    let out = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force-after",
            "14s",
            "--grace-period",
            "4",
            "--timeout",
            "2m",
            "-y",
        ],
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("deleted pod data/mongodb-2 at the deadline: its budget still refused (The disruption budget mongodb needs 3 healthy pods and has 3 currently); grace period 4s"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("evicted pod apps/report-builder-zdjbgnq4xf-6mpnp"),
        "{}",
        out.stdout
    );
    let at = deletion_after_cordon(&sim);
    eprintln!("mongodb-2 deleted {at:.1} s after the cordon (due at 10 s)");
    // The journal's start is whole seconds (up to 1 s before the cordon, more on a busy machine)
    // and the sim's times whole simulated seconds: 2 s of slack below, a few above. Deleted at
    // its first refusal, it would go about 4 s after the cordon.
    assert!(
        (8.0..=13.0).contains(&at),
        "deleted {at:.1} s after the cordon"
    );
    drained(&sim);
    assert!(
        event_reasons(&sim).iter().any(|r| r == "DeletedAtDeadline"),
        "{:?}",
        event_reasons(&sim)
    );
}

#[test]
fn the_plan_names_the_pod_and_the_deadline_and_without_one_the_drain_is_blocked() {
    let sim = SimProcess::start("aura", &["--time-scale", SCALE_ARG]);
    let home = tempfile::tempdir().unwrap();
    let dry = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force-after",
            "10m",
            "--timeout",
            "15m",
            "--dry-run",
        ],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    let line = dry
        .stderr
        .lines()
        .find(|l| l.starts_with("deadline: "))
        .unwrap_or_else(|| panic!("{}", dry.stderr));
    assert!(
        line.contains(" (--force-after 10m): pods a budget still refuses are deleted then, each its grace period earlier: data/mongodb-2 at "),
        "{line}"
    );
    assert!(!dry.stderr.contains("blocked:"), "{}", dry.stderr);

    let before = Timestamp::now();
    let json = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force-after",
            "10m",
            "--timeout",
            "15m",
            "--dry-run",
            "-o",
            "json",
        ],
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let plan = &doc["items"][0];
    let deadline: Timestamp = plan["deadline"].as_str().unwrap().parse().unwrap();
    // A dry run starts now.
    let from_now = deadline.duration_since(before).as_secs_f64();
    assert!((598.0..=605.0).contains(&from_now), "{from_now} s: {plan}");
    let pods = plan["pods"].as_array().unwrap();
    let mongodb = pods.iter().find(|p| p["name"] == "mongodb-2").unwrap();
    assert_eq!(mongodb["verdict"], "evict", "{mongodb}");
    // Its own terminationGracePeriodSeconds (30) before the deadline.
    let deletion: Timestamp = mongodb["deadlineDeletion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(deadline.duration_since(deletion).as_secs(), 30, "{mongodb}");
    let others: Vec<&Value> = pods
        .iter()
        .filter(|p| p["name"] != "mongodb-2" && p.get("deadlineDeletion").is_some())
        .collect();
    assert!(others.is_empty(), "{others:?}");
    assert!(plan["blockers"].as_array().unwrap().is_empty(), "{plan}");
    // The preflight asks for the deletion it may make.
    let deletes_in_data = doc["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["verb"] == "delete" && p["resource"] == "pods" && p["namespace"] == "data");
    assert!(deletes_in_data, "{}", doc["permissions"]);

    // Without a deadline the same drain is blocked, as before.
    let blocked = nodeevict(&sim, home.path(), &[NODE, "-y"]);
    assert_eq!(blocked.code, Some(1), "{}", blocked.stderr);
    assert!(
        blocked.stderr.contains(
            "data/mongodb-2: StatefulSet mongodb cannot surge: PDB mongodb allows 0 disruptions"
        ),
        "{}",
        blocked.stderr
    );
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
}

#[test]
fn a_resumed_drain_keeps_its_deadline() {
    let sim = SimProcess::start("aura", &["--time-scale", SCALE_ARG]);
    let home = tempfile::tempdir().unwrap();
    let args = [
        NODE,
        "--force-after",
        "16s",
        "--grace-period",
        "4",
        "--timeout",
        "2m",
        "-y",
    ];
    let killed = suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &args,
        "cordoned",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    let status = nodeevict(&sim, home.path(), &["status", "-o", "json"]);
    let listed: Value = serde_json::from_str(&status.stdout).unwrap();
    let journal = &listed["items"][0]["journal"];
    assert_eq!(journal["options"]["forceAfterSeconds"], 16, "{journal}");
    let deadline = journal["deadline"].as_str().unwrap().to_string();
    let started: Timestamp = journal["started"].as_str().unwrap().parse().unwrap();
    let recorded: Timestamp = deadline.parse().unwrap();
    assert_eq!(recorded.duration_since(started).as_secs(), 16, "{journal}");
    let table = nodeevict(&sim, home.path(), &["status"]);
    assert!(
        table
            .stdout
            .contains(&format!("{NODE}: deadline {deadline} (--force-after 16s)")),
        "{}",
        table.stdout
    );

    // A rerun with another deadline continues nothing (as with any other option).
    let before = sim.mutating_requests().len();
    let other = nodeevict(
        &sim,
        home.path(),
        &[
            NODE,
            "--force-after",
            "20s",
            "--grace-period",
            "4",
            "--timeout",
            "2m",
            "-y",
        ],
    );
    assert_eq!(other.code, Some(1), "{}", other.stderr);
    assert!(
        other.stderr.contains(
            "with other options (--grace-period 4 --force-after 16s; this command: --grace-period 4 --force-after 20s)"
        ),
        "{}",
        other.stderr
    );
    assert_eq!(sim.mutating_requests().len(), before);

    // A resume long after the start: a deadline counted from it would delete ≥ 4 s later.
    std::thread::sleep(Duration::from_secs(3));
    let dry = nodeevict(
        &sim,
        home.path(),
        &["resume", "--dry-run", "-o", "json", "--timeout", "2m"],
    );
    let shown: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(shown["items"][0]["journal"]["deadline"], deadline.as_str());
    let resumed = nodeevict(&sim, home.path(), &["resume", "-y", "--timeout", "2m"]);
    assert_eq!(
        resumed.code,
        Some(0),
        "{}{}",
        resumed.stdout,
        resumed.stderr
    );
    assert!(
        resumed
            .stderr
            .contains(&format!("deadline: {deadline} (--force-after 16s)")),
        "{}",
        resumed.stderr
    );
    assert!(
        resumed
            .stdout
            .contains(&format!("grace period 4s, the deadline is {deadline}")),
        "{}",
        resumed.stdout
    );
    // 16 s - 4 s after the original start, as the first run would have.
    let at = deletion_after_cordon(&sim);
    eprintln!("mongodb-2 deleted {at:.1} s after the first run's cordon (due at 12 s)");
    assert!(
        (10.0..=14.5).contains(&at),
        "deleted {at:.1} s after the cordon"
    );
    drained(&sim);
}

#[test]
fn bad_deadlines_are_usage_errors_that_change_nothing() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--force-after", "0"],
            "0 would delete every pod a budget refuses at once",
        ),
        (&["--force-after", "-5m"], "\"-5m\" is negative"),
        (&["--force-after", "soon"], "invalid duration \"soon\""),
        (
            &["--force-after", "10m", "--timeout", "5m"],
            "--force-after 10m is not shorter than --timeout 5m: the run would give up before its deadline; give a longer --timeout (e.g. --timeout 15m)",
        ),
        // The default --timeout is 5m.
        (&["--force-after", "5m"], "is not shorter than --timeout 5m"),
        (
            &["--force-after", "1m", "--disable-eviction"],
            "--force-after has no use with --disable-eviction",
        ),
    ];
    for (flags, says) in cases {
        let mut args = vec![NODE, "-y"];
        args.extend_from_slice(flags);
        let out = nodeevict(&sim, home.path(), &args);
        assert_eq!(out.code, Some(2), "{flags:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{flags:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(says), "{flags:?}: {}", out.stderr);
    }
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
}
