//! Credentials that expire mid-run (issue 20): kube-sim issues short-lived tokens through an
//! exec credential plugin (tests/sim/exec-credential.py) and answers 401 after their lifetime.
//! A drain that outlives several tokens refreshes through the plugin and finishes; a 401 is
//! retried once after a refresh; a plugin that stops giving tokens is an authentication
//! failure naming the kubeconfig user and the plugin, never "forbidden"; tokens never show.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use suite_tests::{SimProcess, plugin, run};

const NODE: &str = "ip-10-0-12-27.ec2.internal";
const OTHER_NODE: &str = "ip-10-0-23-114.ec2.internal";
/// Every token the sim issues starts so: none may be printed.
const TOKEN_PREFIX: &str = "kube-sim-exec-";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/exec-credential.py")
}

/// The sim's kubeconfig with its user authenticating through the exec plugin (`plugin_args`
/// after the script), counting the plugin's runs in `dir/runs`.
fn exec_kubeconfig(sim: &SimProcess, dir: &Path, name: &str, plugin_args: &[&str]) -> PathBuf {
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut args = vec![
        script().display().to_string(),
        "--state".to_string(),
        dir.join(format!("{name}.runs")).display().to_string(),
    ];
    args.extend(plugin_args.iter().map(|s| s.to_string()));
    let exec = serde_json::json!({
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "python3",
            "args": args,
            "interactiveMode": "Never",
            "provideClusterInfo": true,
        }
    });
    for user in doc["users"].as_sequence_mut().unwrap() {
        user["user"] = serde_yaml::to_value(&exec).unwrap();
    }
    suite_tests::write(dir, name, &serde_yaml::to_string(&doc).unwrap())
}

fn plugin_runs(dir: &Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("{name}.runs")))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn drain(home: &Path, kubeconfig: &Path, extra: &[&str]) -> suite_tests::Run {
    run(plugin("nodeevict", home)
        .args([NODE, "--force", "-y", "--timeout", "2m"])
        .args(extra)
        .arg("--kubeconfig")
        .arg(kubeconfig))
}

fn pods_left_on(sim: &SimProcess, node: &str) -> Vec<String> {
    sim.get_json(&[
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] != "DaemonSet")
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn unauthorized(journal: &[Value]) -> Vec<&Value> {
    journal.iter().filter(|e| e["status"] == 401).collect()
}

fn no_permission_words(text: &str) {
    let lower = text.to_lowercase();
    assert!(
        !lower.contains("forbidden") && !lower.contains("permission"),
        "an expired credential is not a permission problem:\n{text}"
    );
}

#[test]
fn a_drain_outliving_its_tokens_refreshes_after_each_401_and_finishes() {
    // Time slower than real (a simulated second lasts 3.3): the drain takes several real
    // seconds even on an idle machine, and each token lives one.
    let sim = SimProcess::start("artsy", &["--time-scale", "0.3"]);
    let dir = tempfile::tempdir().unwrap();
    // No expirationTimestamp: the client learns of each expiry from a 401 only (a token
    // revoked early or a skewed clock looks the same).
    let kubeconfig = exec_kubeconfig(
        &sim,
        dir.path(),
        "no-expiry",
        &["--lifetime", "1s", "--no-expiry"],
    );
    let out = drain(dir.path(), &kubeconfig, &["--verbosity=9"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(pods_left_on(&sim, NODE).is_empty());
    let node = sim.get_json(&["node", NODE]);
    assert_eq!(node["spec"]["unschedulable"], true);

    let journal = sim.journal();
    let refused = unauthorized(&journal);
    assert!(
        refused.len() >= 2,
        "the drain should outlive several 1 s tokens: {refused:?}"
    );
    // Each refused request was sent again with a fresh token and answered.
    for entry in &refused {
        let at = journal
            .iter()
            .position(|e| std::ptr::eq(e, *entry))
            .unwrap();
        assert!(
            journal[at + 1..]
                .iter()
                .any(|e| e["method"] == entry["method"]
                    && e["path"] == entry["path"]
                    && e["status"].as_u64().is_some_and(|s| s < 400)),
            "{entry} was not retried"
        );
    }
    assert!(plugin_runs(dir.path(), "no-expiry") > refused.len());
    no_permission_words(&out.stderr);
    // -v 9 logs every request, never the tokens.
    assert!(out.stderr.contains("401"), "the refresh is visible at -v 9");
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(TOKEN_PREFIX), "a token was printed:\n{text}");
    }
}

#[test]
fn an_expiry_announced_by_the_plugin_is_refreshed_before_it_passes() {
    // Slower than real time, so that the drain outlives a 3 s token even on an idle machine.
    let sim = SimProcess::start("artsy", &["--time-scale", "0.3"]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = exec_kubeconfig(&sim, dir.path(), "honest", &["--lifetime", "3s"]);
    let started = std::time::Instant::now();
    let out = drain(dir.path(), &kubeconfig, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(pods_left_on(&sim, NODE).is_empty());
    // kube 5 alone would run the plugin before every request of a token shorter than a
    // minute; the suite uses each token for most of its life, and none is refused.
    let runs = plugin_runs(dir.path(), "honest");
    let requests = sim.journal().len();
    assert!(runs >= 2, "{runs} plugin runs in {:?}", started.elapsed());
    assert!(
        runs < requests / 2,
        "{runs} plugin runs for {requests} requests"
    );
    assert!(unauthorized(&sim.journal()).is_empty());
}

#[test]
fn a_plugin_that_stops_giving_tokens_is_an_authentication_failure() {
    let sim = SimProcess::start("artsy", &["--time-scale", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = exec_kubeconfig(
        &sim,
        dir.path(),
        "logged-out",
        &["--lifetime", "1s", "--no-expiry", "--fail-after", "1"],
    );
    let out = drain(dir.path(), &kubeconfig, &["--verbosity=9"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let last = out
        .stderr
        .trim()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        out.stderr.contains("authentication failed")
            && out.stderr.contains("kubeconfig user \"kube-sim\"")
            && out.stderr.contains("exec credential plugin \"python3\"")
            && out.stderr.contains("log in again"),
        "{}",
        out.stderr
    );
    no_permission_words(&last);
    assert!(
        !out.stderr.to_lowercase().contains("forbidden"),
        "{}",
        out.stderr
    );
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(TOKEN_PREFIX), "a token was printed:\n{text}");
    }
    // One token only: the plugin ran once more to refresh and failed.
    assert_eq!(plugin_runs(dir.path(), "logged-out"), 1);
    // Nothing was changed with a refused credential, and nothing after the refusal.
    let journal = sim.journal();
    let first = journal
        .iter()
        .position(|e| e["status"] == 401)
        .expect("a request was refused");
    let after: Vec<_> = journal[first..]
        .iter()
        .filter(|e| {
            matches!(
                e["method"].as_str(),
                Some("POST" | "PUT" | "PATCH" | "DELETE")
            )
        })
        .filter(|e| e["status"].as_u64().is_some_and(|s| s < 400))
        .collect();
    assert!(after.is_empty(), "changes after the 401: {after:?}");
}

#[test]
fn kubectl_refreshes_through_the_plugin_and_an_expired_static_token_is_refused() {
    let sim = SimProcess::start("artsy", &["--time-scale", "1"]);
    let dir = tempfile::tempdir().unwrap();
    // client-go runs the plugin again once expirationTimestamp has passed.
    let kubeconfig = exec_kubeconfig(&sim, dir.path(), "kubectl", &["--lifetime", "2s"]);
    let mut cmd = std::process::Command::new("/usr/bin/kubectl");
    suite_tests::isolate(&mut cmd, dir.path());
    let started = std::time::Instant::now();
    let out = run(cmd.arg("--kubeconfig").arg(&kubeconfig).args([
        "drain",
        OTHER_NODE,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
    ]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(pods_left_on(&sim, OTHER_NODE).is_empty());
    let lasted = started.elapsed();
    let runs = plugin_runs(dir.path(), "kubectl");
    assert!(
        lasted < Duration::from_secs(3) || runs >= 2,
        "kubectl drain lasted {lasted:?} with {runs} token(s)"
    );

    // A token from the sim's endpoint works until its lifetime ends, then gets upstream's 401.
    let body = suite_tests::write(dir.path(), "empty.json", "{}");
    let issued = sim.kubectl(&[
        "create",
        "--raw",
        "/sim/v1/tokens/admin/2s",
        "-f",
        body.to_str().unwrap(),
    ]);
    assert_eq!(issued.code, Some(0), "{}", issued.stderr);
    let issued: Value = serde_json::from_str(&issued.stdout).unwrap();
    let token = issued["token"].as_str().unwrap();
    assert!(token.starts_with(TOKEN_PREFIX));
    let expires: jiff::Timestamp = issued["expirationTimestamp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let static_config = sim.kubeconfig_with_token("static", token);
    let kubectl_with = |args: &[&str]| {
        let mut cmd = std::process::Command::new("/usr/bin/kubectl");
        suite_tests::isolate(&mut cmd, dir.path());
        run(cmd.arg("--kubeconfig").arg(&static_config).args(args))
    };
    let before = kubectl_with(&["get", "nodes", "-o", "name"]);
    assert_eq!(before.code, Some(0), "{}", before.stderr);
    // The announced expiry is whole seconds, at or before the real one.
    while jiff::Timestamp::now() < expires + jiff::SignedDuration::from_millis(1100) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = kubectl_with(&["get", "--raw", "/api/v1/nodes"]);
    assert_ne!(after.code, Some(0));
    assert!(after.stderr.contains("Unauthorized"), "{}", after.stderr);
    let journal = sim.journal();
    let last = journal.last().unwrap();
    assert_eq!(last["status"], 401, "{last}");
    assert_eq!(last["path"], "/api/v1/nodes");
    // The unknown-token path answers the same.
    let unknown = sim.kubeconfig_with_token("unknown", "kube-sim-exec-0000000000000000");
    let mut cmd = std::process::Command::new("/usr/bin/kubectl");
    suite_tests::isolate(&mut cmd, dir.path());
    let out = run(cmd
        .arg("--kubeconfig")
        .arg(&unknown)
        .args(["get", "--raw", "/api/v1/nodes"]));
    assert!(out.stderr.contains("Unauthorized"), "{}", out.stderr);
}
