//! The RBAC preflight of every destructive flow is complete: a user granted exactly the writes
//! the flow's own preflight asks for (plus reads) finishes it, and without any one of those
//! writes the preflight refuses before the first change.
//!
//! The list comes from the plugin itself: its preflight writes what it asks for to the file
//! named by `KUBECTL_SUITE_PERMISSIONS_LOG` (shared::doctor::PERMISSIONS_LOG) during a dry run.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use suite_tests::{Run, SimProcess, plugin, run};

const NODE: &str = "ip-10-0-12-27.ec2.internal";
const USER: &str = "limited";
const TOKEN: &str = "kube-sim-limited-token";

/// One write permission, as the preflight asks for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Need {
    verb: String,
    group: String,
    resource: String,
    /// "" for cluster-scoped or all-namespaces permissions.
    namespace: String,
}

impl Need {
    fn rule(&self) -> Value {
        let namespace = if self.namespace.is_empty() {
            "*"
        } else {
            &self.namespace
        };
        json!({"verbs": [self.verb], "apiGroups": [self.group], "resources": [self.resource], "namespaces": [namespace]})
    }
}

/// A built-in scenario's YAML, read from kube-sim's sources (the tests link none of its code).
fn builtin(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sim/scenarios")
        .join(format!("{name}.yaml"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no built-in scenario {name} ({}): {e}", path.display()))
}

/// The built-in scenario with one more user, allowed every read and exactly `needs`.
fn scenario_file(dir: &Path, scenario: &str, needs: &[Need], name: &str) -> PathBuf {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&builtin(scenario)).expect("scenario");
    let mut rules = vec![json!({"verbs": ["get", "list", "watch"], "resources": ["*"]})];
    rules.extend(needs.iter().map(Need::rule));
    let user = json!({"name": USER, "token": TOKEN, "rules": rules});
    doc["users"]
        .as_sequence_mut()
        .expect("users")
        .push(serde_yaml::to_value(user).expect("yaml"));
    suite_tests::write(
        dir,
        &format!("{name}.yaml"),
        &serde_yaml::to_string(&doc).expect("yaml"),
    )
}

fn run_as(kubeconfig: &Path, home: &Path, name: &str, args: &[&str]) -> Run {
    run(plugin(name, home)
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig))
}

/// The writes the flow's preflight asks for, from a dry run as the scenario's admin.
fn needs_of(name: &str, scenario: &str, args: &[&str], home: &Path) -> Vec<Need> {
    let sim = SimProcess::start(scenario, &[]);
    let log = home.join(format!("{name}-permissions.jsonl"));
    let mut dry: Vec<&str> = args.to_vec();
    dry.push("--dry-run");
    let out = run(plugin(name, home)
        .env(shared::doctor::PERMISSIONS_LOG, &log)
        .args(&dry)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig));
    assert_eq!(out.code, Some(0), "{name} dry run: {}", out.stderr);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut needs: Vec<Need> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a json line"))
        .map(|v| Need {
            verb: v["verb"].as_str().unwrap().to_string(),
            group: v["apiGroup"].as_str().unwrap().to_string(),
            resource: v["resource"].as_str().unwrap().to_string(),
            namespace: v["namespace"].as_str().unwrap().to_string(),
        })
        .filter(|n| !matches!(n.verb.as_str(), "get" | "list" | "watch"))
        .collect();
    needs.sort();
    needs.dedup();
    assert!(!needs.is_empty(), "{name}: the preflight asked for nothing");
    needs
}

/// (a) with exactly `needs` the flow finishes; (b) without any one of them it is refused
/// before its first change.
fn check_flow(
    name: &str,
    scenario: &str,
    args: &[&str],
    sim_flags: &[&str],
    finished: impl Fn(&SimProcess),
) -> Vec<Need> {
    let home = tempfile::tempdir().unwrap();
    let needs = needs_of(name, scenario, args, home.path());
    eprintln!("{name} {}: {needs:?}", args.join(" "));

    let path = scenario_file(home.path(), scenario, &needs, "all");
    let sim = SimProcess::start(path.to_str().unwrap(), sim_flags);
    let kubeconfig = sim.kubeconfig_with_token(USER, TOKEN);
    let out = run_as(&kubeconfig, home.path(), name, args);
    assert_eq!(
        out.code,
        Some(0),
        "{name} with exactly {needs:?}: {}",
        out.stderr
    );
    finished(&sim);

    for (i, left_out) in needs.iter().enumerate() {
        let fewer: Vec<Need> = needs.iter().filter(|n| *n != left_out).cloned().collect();
        let path = scenario_file(home.path(), scenario, &fewer, &format!("without-{i}"));
        let sim = SimProcess::start(path.to_str().unwrap(), sim_flags);
        let kubeconfig = sim.kubeconfig_with_token(USER, TOKEN);
        let out = run_as(&kubeconfig, home.path(), name, args);
        assert_eq!(
            out.code,
            Some(1),
            "{name} without {left_out:?}: {}",
            out.stderr
        );
        let last = out.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.contains("forbidden") && last.contains("nothing was changed"),
            "{name} without {left_out:?}: {last}"
        );
        assert!(
            last.contains(&left_out.verb)
                && last.contains(left_out.resource.split('/').next().unwrap()),
            "{name} without {left_out:?} names something else: {last}"
        );
        let changes = sim.mutating_requests();
        assert!(
            changes.is_empty(),
            "{name} without {left_out:?} changed {changes:?}"
        );
    }
    needs
}

#[test]
fn nodeevict_with_exactly_its_permissions_drains_and_without_one_changes_nothing() {
    let args = [NODE, "--force", "-y", "--timeout", "2m"];
    let needs = check_flow(
        "nodeevict",
        "artsy",
        &args,
        &["--time-scale", "20"],
        |sim| {
            for single in ["exchange-web", "force-web"] {
                let d = sim.get_json(&["deployment", single]);
                assert_eq!(d["spec"]["replicas"], 1, "{d}");
            }
            let node = sim.get_json(&["node", NODE]);
            assert!(
                node["metadata"]["annotations"]
                    .get("nodeevict.kubectl-plugins.dev/journal")
                    .is_none(),
                "{node}"
            );
        },
    );
    // The pre-scale and its restore write the Deployments: the preflight asks for that too;
    // the pods are only evicted (the ReplicaSet picks which ones go when scaling back).
    assert!(
        needs
            .iter()
            .any(|n| n.verb == "patch" && n.resource == "deployments"),
        "{needs:?}"
    );
    assert!(
        !needs
            .iter()
            .any(|n| n.verb == "patch" && n.resource == "pods"),
        "{needs:?}"
    );
    // The plan's -o json shows the same list (a Role can be made from it).
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = sim.run_plugin(
        "nodeevict",
        home.path(),
        &[NODE, "--force", "--dry-run", "-o", "json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).unwrap();
    let mut shown: Vec<Need> = plan["permissions"]
        .as_array()
        .expect("permissions in the plan")
        .iter()
        .map(|v| Need {
            verb: v["verb"].as_str().unwrap().to_string(),
            group: v["apiGroup"].as_str().unwrap().to_string(),
            resource: v["resource"].as_str().unwrap().to_string(),
            namespace: v["namespace"].as_str().unwrap().to_string(),
        })
        .collect();
    shown.sort();
    shown.dedup();
    assert_eq!(shown, needs);
}

#[test]
fn pvcreset_with_exactly_its_permissions_resets_and_without_one_changes_nothing() {
    let args = ["report-cache", "-n", "apps", "-y", "--timeout", "90s"];
    let before = SimProcess::start("aura", &[]).get_json(&["pvc", "report-cache", "-n", "apps"]);
    check_flow("pvcreset", "aura", &args, &["--time-scale", "20"], |sim| {
        let after = sim.get_json(&["pvc", "report-cache", "-n", "apps"]);
        assert_ne!(after["metadata"]["uid"], before["metadata"]["uid"]);
        assert_eq!(after["status"]["phase"], "Bound");
        let d = sim.get_json(&["deployment", "report-builder", "-n", "apps"]);
        assert_eq!(d["spec"]["replicas"], 1, "{d}");
    });
}

#[test]
fn airflow_restart_with_exactly_its_permissions_restarts_and_without_one_changes_nothing() {
    let ns = "astronomer-ee-zodiac-cosmo-1172";
    let args = [
        "restart",
        "scheduler",
        "-n",
        ns,
        "--yes",
        "--timeout",
        "60s",
    ];
    check_flow(
        "airflow",
        "astronomer",
        &args,
        &["--time-scale", "20"],
        |sim| {
            assert!(
                sim.mutating_requests()
                    .iter()
                    .any(|r| r["method"] == "PATCH"),
                "nothing was restarted"
            );
        },
    );
}

#[test]
fn argodeploy_resubmit_with_exactly_its_permissions_resubmits_and_without_one_changes_nothing() {
    let args = [
        "resubmit",
        "deploy-e5121482-wwmms",
        "-n",
        "atmosphere",
        "-y",
    ];
    check_flow("argodeploy", "atmosphere", &args, &[], |sim| {
        assert!(
            sim.mutating_requests().iter().any(|r| r["method"] == "POST"
                && r["path"].as_str().unwrap_or("").ends_with("/workflows")),
            "no workflow was created"
        );
    });
}

#[test]
fn argodeploy_retry_with_exactly_its_permissions_retries_and_without_one_changes_nothing() {
    let args = ["retry", "deploy-e5121482-wwmms", "-n", "atmosphere", "-y"];
    check_flow("argodeploy", "atmosphere", &args, &[], |sim| {
        assert!(
            sim.mutating_requests().iter().any(|r| r["method"] == "PUT"
                && r["path"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("/workflows/deploy-e5121482-wwmms")),
            "the workflow was not retried"
        );
    });
}

/// `resume` and `abort` of an interrupted drain check their writes first too: a user who may
/// cordon and evict but not restore the pre-scaled Deployments is refused before the first
/// change (it used to evict everything and then fail at the restore, half-way).
#[test]
fn nodeevict_resume_and_abort_check_their_writes_before_the_first_change() {
    let home = tempfile::tempdir().unwrap();
    let need = |verb: &str, group: &str, resource: &str| Need {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        namespace: String::new(),
    };
    let no_restore = [
        need("patch", "", "nodes"),
        need("create", "", "pods/eviction"),
        need("delete", "", "pods"),
        need("patch", "", "pods"),
    ];
    let path = scenario_file(home.path(), "artsy", &no_restore, "no-restore");
    let sim = SimProcess::start(path.to_str().unwrap(), &["--time-scale", "20"]);
    let halted = suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &[NODE, "--force", "-y"],
        "prescaled",
        suite_tests::Interrupt::Kill,
    );
    assert_eq!(halted.code, None, "killed: {}", halted.stderr);
    let limited = sim.kubeconfig_with_token(USER, TOKEN);
    for verb in ["resume", "abort"] {
        let before = sim.mutating_requests().len();
        let out = run_as(&limited, home.path(), "nodeevict", &[verb, NODE, "-y"]);
        assert_eq!(out.code, Some(1), "{verb}: {}", out.stderr);
        let last = out.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.contains("forbidden")
                && last.contains("deployments")
                && last.contains("nothing was changed"),
            "{verb}: {last}"
        );
        assert_eq!(
            sim.mutating_requests().len(),
            before,
            "{verb} changed something: {:?}",
            &sim.mutating_requests()[before..]
        );
    }
    // The admin finishes it as the hint says: both Deployments back at their one replica.
    let out = sim.run_plugin("nodeevict", home.path(), &["resume", NODE, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for deployment in ["exchange-web", "force-web"] {
        let d = sim.get_json(&["deployment", deployment]);
        assert_eq!(d["spec"]["replicas"], 1, "{deployment}");
    }
}
