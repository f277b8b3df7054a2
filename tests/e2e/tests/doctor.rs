//! `doctor` against kube-sim: the target, reachability and SelfSubjectAccessReviews, for a
//! full-access and a read-only user; and no credential in any output at any verbosity.

use serde_json::Value;
use suite_tests::{PLUGINS, SimProcess, plugin, run};

const ADMIN_TOKEN: &str = "kube-sim-admin-token";
const VIEWER_TOKEN: &str = "kube-sim-viewer-token";

fn doctor_json(
    sim: &SimProcess,
    kubeconfig: &std::path::Path,
    name: &str,
) -> (Option<i32>, Value, String) {
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin(name, home.path())
        .args(["doctor", "-o", "json", "--kubeconfig"])
        .arg(kubeconfig));
    let _ = sim;
    (
        out.code,
        serde_json::from_str(&out.stdout).unwrap_or(Value::Null),
        out.stderr,
    )
}

#[test]
fn doctor_reports_allowed_and_denied_permissions() {
    let sim = SimProcess::start("astronomer", &[]);
    for name in PLUGINS {
        let (code, report, stderr) = doctor_json(&sim, &sim.kubeconfig, name);
        assert_eq!(code, Some(0), "{name} as admin: {stderr}");
        assert_eq!(report["reachable"], true);
        assert_eq!(report["context"], "kube-sim");
        assert_eq!(report["server"], sim.url.as_str());
        assert_eq!(report["auth"], "bearer token");
        assert!(
            report["serverVersion"].as_str().unwrap().starts_with("v1."),
            "{report}"
        );
        let perms = report["permissions"].as_array().unwrap();
        assert!(!perms.is_empty());
        assert!(
            perms.iter().all(|p| p["allowed"] == true),
            "{name}: {perms:?}"
        );
    }

    let viewer = sim.kubeconfig_with_token("viewer", VIEWER_TOKEN);
    for name in PLUGINS {
        let (code, report, stderr) = doctor_json(&sim, &viewer, name);
        assert_eq!(code, Some(1), "{name} as viewer must fail: {stderr}");
        assert!(stderr.contains("permissions are denied"), "{stderr}");
        let perms = report["permissions"].as_array().unwrap();
        for p in perms {
            let read_only = matches!(p["verb"].as_str().unwrap(), "get" | "list" | "watch");
            assert_eq!(p["allowed"], read_only, "{name}: {p}");
        }
    }
    assert!(sim.mutating_requests().is_empty(), "doctor changes nothing");
}

#[test]
fn doctor_table_and_no_secret_at_any_verbosity() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    for verbosity in ["-v", "-vv", "-vvv", "--verbosity=9"] {
        let out = run(plugin("airflow", home.path())
            .args(["doctor", verbosity, "--kubeconfig"])
            .arg(&sim.kubeconfig));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert!(
            out.stdout.contains("VERB") && out.stdout.contains("ALLOWED"),
            "{}",
            out.stdout
        );
        assert!(
            !out.stdout.contains(ADMIN_TOKEN) && !out.stderr.contains(ADMIN_TOKEN),
            "token leaked at {verbosity}"
        );
        let ca = std::fs::read_to_string(&sim.kubeconfig).unwrap();
        let ca_data = ca
            .lines()
            .find(|l| l.contains("certificate-authority-data"))
            .unwrap_or("");
        let ca_data = ca_data.split(':').nth(1).unwrap_or("").trim();
        assert!(
            ca_data.is_empty() || !out.stderr.contains(ca_data),
            "no key material in logs"
        );
    }
    // A wrong token: one clear line, exit 1.
    let bad = sim.kubeconfig_with_token("bad", "not-a-valid-token");
    let out = run(plugin("airflow", home.path())
        .args(["doctor", "--kubeconfig"])
        .arg(&bad));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("401") || out.stderr.contains("rejected the credentials"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("not-a-valid-token") && !out.stdout.contains("not-a-valid-token"));
}

#[test]
fn as_impersonates_another_user() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin("nodeevict", home.path())
        .args(["doctor", "-o", "json", "--as", "viewer", "--kubeconfig"])
        .arg(&sim.kubeconfig));
    assert_eq!(
        out.code,
        Some(1),
        "viewer lacks the write permissions: {}",
        out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["impersonate"], "viewer");
    let perms = report["permissions"].as_array().unwrap();
    assert!(
        perms
            .iter()
            .any(|p| p["verb"] == "patch" && p["allowed"] == false),
        "{perms:?}"
    );
    assert!(
        perms
            .iter()
            .any(|p| p["verb"] == "list" && p["allowed"] == true),
        "{perms:?}"
    );
    // The viewer may not impersonate anyone: a clear 403, nothing else.
    let viewer = sim.kubeconfig_with_token("viewer", VIEWER_TOKEN);
    let out = run(plugin("nodeevict", home.path())
        .args(["doctor", "--as", "admin", "--kubeconfig"])
        .arg(&viewer));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout.contains("403") || out.stderr.contains("403"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

/// `(resource, group)` of doctor's `resource` column: `deployments.apps/scale` →
/// (`deployments/scale`, `apps`).
fn rbac_resource(label: &str) -> (String, String) {
    let (base, sub) = match label.split_once('/') {
        Some((b, s)) => (b, Some(s)),
        None => (label, None),
    };
    let (resource, group) = base.split_once('.').unwrap_or((base, ""));
    let resource = match sub {
        Some(s) => format!("{resource}/{s}"),
        None => resource.to_string(),
    };
    (resource, group.to_string())
}

#[test]
fn optional_permissions_denied_do_not_fail_doctor() {
    let admin = SimProcess::start("astronomer", &[]);
    let dir = tempfile::tempdir().unwrap();
    for name in ["airflow", "pvcreset", "nodeevict"] {
        // A user granted exactly the required permissions doctor lists, none of the optional.
        let (_, report, _) = doctor_json(&admin, &admin.kubeconfig, name);
        let perms = report["permissions"].as_array().unwrap().clone();
        assert!(
            perms.iter().any(|p| p["optional"] == true),
            "{name} has optional permissions: {perms:?}"
        );
        let rules: Vec<Value> = perms
            .iter()
            .filter(|p| p["optional"] == false)
            .map(|p| {
                let (resource, group) = rbac_resource(p["resource"].as_str().unwrap());
                serde_json::json!({"verbs": [p["verb"]], "apiGroups": [group], "resources": [resource], "namespaces": ["*"]})
            })
            .collect();
        let mut doc: serde_yaml::Value = serde_yaml::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../sim/scenarios/astronomer.yaml"),
            )
            .unwrap(),
        )
        .unwrap();
        doc["users"].as_sequence_mut().unwrap().push(
            serde_yaml::to_value(serde_json::json!({"name": "required-only", "token": "required-only-token", "rules": rules}))
                .unwrap(),
        );
        let path = suite_tests::write(
            dir.path(),
            &format!("{name}.yaml"),
            &serde_yaml::to_string(&doc).unwrap(),
        );
        let sim = SimProcess::start(path.to_str().unwrap(), &[]);
        let kubeconfig = sim.kubeconfig_with_token("required-only", "required-only-token");
        let (code, report, stderr) = doctor_json(&sim, &kubeconfig, name);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let checks = report["permissions"].as_array().unwrap();
        for p in checks {
            assert_eq!(p["allowed"], p["optional"] == false, "{name}: {p}");
        }
        assert!(
            stderr.contains("every required permission is granted;")
                && stderr.contains("optional")
                && stderr.trim().lines().count() == 1,
            "{name}: {stderr}"
        );
    }
}
