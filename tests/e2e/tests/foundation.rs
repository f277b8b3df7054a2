//! The foundation every plugin stands on, checked through the real binaries: common flags,
//! plugin discovery by real kubectl, kubeconfig resolution exactly as kubectl does it, and
//! one-line errors with the documented exit codes.

use std::process::Command;

use serde_json::Value;
use suite_tests::{PLUGINS, bin, isolate, kubeconfig, plugin, run, write};

/// An address where nothing listens: resolution succeeds, connecting fails fast.
const NOWHERE: &str = "https://127.0.0.1:1";

#[test]
fn every_plugin_lists_the_common_flags() {
    let home = tempfile::tempdir().unwrap();
    for name in PLUGINS {
        let out = run(plugin(name, home.path()).arg("--help"));
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        assert!(
            out.stdout.contains(&format!("Usage: kubectl {name} ")),
            "{name} usage: {}",
            out.stdout
        );
        for flag in [
            "--kubeconfig",
            "--context",
            "--cluster",
            "--user",
            "-n, --namespace",
            "--request-timeout",
            "--as <USER>",
            "--as-group",
            "-v, --verbose",
            "--no-color",
        ] {
            assert!(out.stdout.contains(flag), "{name} --help lacks {flag}");
        }
        assert!(out.stdout.contains("doctor"), "{name} has doctor");
        let doctor = run(plugin(name, home.path()).args(["doctor", "--help"]));
        assert!(
            doctor
                .stdout
                .contains(&format!("Usage: kubectl {name} doctor")),
            "{}",
            doctor.stdout
        );
    }
}

#[test]
fn real_kubectl_discovers_the_four_plugins_without_warnings() {
    let home = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    for name in PLUGINS {
        let exe = format!("kubectl-{name}");
        std::fs::copy(bin(&exe), plugins.path().join(&exe)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", plugins.path().display());
    let mut list = Command::new("/usr/bin/kubectl");
    isolate(&mut list, home.path());
    let out = run(list.args(["plugin", "list"]).env("PATH", &path));
    assert_eq!(
        out.code,
        Some(0),
        "kubectl plugin list: {}{}",
        out.stdout,
        out.stderr
    );
    assert!(
        !out.stderr.contains("warning") && !out.stdout.contains("warning"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    for name in PLUGINS {
        assert!(
            out.stdout.contains(&format!("kubectl-{name}")),
            "{name} not listed: {}",
            out.stdout
        );
    }
    let mut help = Command::new("/usr/bin/kubectl");
    isolate(&mut help, home.path());
    let out = run(help.args(["airflow", "--help"]).env("PATH", &path));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("Usage: kubectl airflow"),
        "{}",
        out.stdout
    );
}

/// Runs `doctor -o json` (the target report is printed even when the server is unreachable).
fn doctor(
    home: &std::path::Path,
    env_kubeconfig: Option<&str>,
    args: &[&str],
) -> (Option<i32>, Value, String) {
    let mut cmd = plugin("airflow", home);
    if let Some(kc) = env_kubeconfig {
        cmd.env("KUBECONFIG", kc);
    }
    cmd.args(["doctor", "-o", "json", "--request-timeout", "5s"])
        .args(args);
    let out = run(&mut cmd);
    let report = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    (out.code, report, out.stderr)
}

#[test]
fn kubeconfig_list_merges_first_wins_and_current_context_comes_from_the_first_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.yaml",
        &kubeconfig(
            Some("alpha"),
            &[
                ("alpha", "https://127.0.0.1:1", Some("alpha-ns")),
                ("shared", "https://127.0.0.1:11", None),
            ],
        ),
    );
    let b = write(
        dir.path(),
        "b.yaml",
        &kubeconfig(
            Some("beta"),
            &[
                ("beta", "https://127.0.0.1:2", None),
                ("shared", "https://127.0.0.1:12", None),
            ],
        ),
    );
    let missing = dir.path().join("missing.yaml");
    let list = std::env::join_paths([&missing, &a, &b]).unwrap();
    let list = list.to_str().unwrap();

    let (code, report, stderr) = doctor(dir.path(), Some(list), &[]);
    assert_eq!(code, Some(1), "unreachable server is a failure: {stderr}");
    assert_eq!(
        report["context"], "alpha",
        "current-context from the first file that sets it"
    );
    assert_eq!(report["server"], "https://127.0.0.1:1");
    assert_eq!(report["namespace"], "alpha-ns");
    assert_eq!(report["reachable"], false);
    assert!(
        report["kubeconfig"]
            .as_str()
            .unwrap()
            .contains("$KUBECONFIG")
    );

    let (_, report, _) = doctor(dir.path(), Some(list), &["--context", "shared"]);
    assert_eq!(
        report["server"], "https://127.0.0.1:11",
        "the first file's 'shared' wins"
    );
    let (_, report, _) = doctor(dir.path(), Some(list), &["--context", "beta"]);
    assert_eq!(
        report["server"], "https://127.0.0.1:2",
        "--context switches server"
    );
    assert_eq!(report["namespace"], "default");

    // --kubeconfig reads that file alone, ignoring $KUBECONFIG.
    let (_, report, _) = doctor(
        dir.path(),
        Some(a.to_str().unwrap()),
        &["--kubeconfig", b.to_str().unwrap()],
    );
    assert_eq!(report["context"], "beta");
    let (code, _, stderr) = doctor(
        dir.path(),
        Some(a.to_str().unwrap()),
        &["--kubeconfig", b.to_str().unwrap(), "--context", "alpha"],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("context \"alpha\" is not in kubeconfig")
            && stderr.contains("beta, shared"),
        "{stderr}"
    );
}

#[test]
fn home_kubeconfig_is_the_fallback() {
    let home = tempfile::tempdir().unwrap();
    write(
        home.path(),
        ".kube/config",
        &kubeconfig(Some("home"), &[("home", "https://127.0.0.1:3", None)]),
    );
    let (code, report, _) = doctor(home.path(), None, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(report["context"], "home");
    assert_eq!(report["server"], "https://127.0.0.1:3");
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = doctor(empty.path(), None, &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no kubeconfig found"), "{stderr}");
}

#[test]
fn namespace_precedence_is_flag_then_context_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let kc = write(
        dir.path(),
        "kc.yaml",
        &kubeconfig(
            Some("with-ns"),
            &[
                ("with-ns", NOWHERE, Some("team-a")),
                ("without-ns", NOWHERE, None),
            ],
        ),
    );
    let kc = kc.to_str().unwrap();
    let (_, report, _) = doctor(dir.path(), None, &["--kubeconfig", kc]);
    assert_eq!(report["namespace"], "team-a");
    let (_, report, _) = doctor(dir.path(), None, &["--kubeconfig", kc, "-n", "team-b"]);
    assert_eq!(report["namespace"], "team-b");
    let (_, report, _) = doctor(
        dir.path(),
        None,
        &["--kubeconfig", kc, "--context", "without-ns"],
    );
    assert_eq!(report["namespace"], "default");
}

#[test]
fn relative_certificate_paths_resolve_against_the_kubeconfig_file() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    write(dir.path(), "conf/certs/ca.crt", &cert.cert.pem());
    let kc = write(
        dir.path(),
        "conf/kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: {NOWHERE}\n    certificate-authority: certs/ca.crt\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"
        ),
    );
    // Run from elsewhere: the relative path must not depend on the working directory.
    let mut cmd = plugin("airflow", dir.path());
    cmd.current_dir("/")
        .args(["doctor", "-o", "json", "--kubeconfig", kc.to_str().unwrap()]);
    let out = run(&mut cmd);
    assert_eq!(
        out.code,
        Some(1),
        "the CA loads and only the connection fails: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot reach the API server"),
        "{}",
        out.stderr
    );

    std::fs::remove_file(dir.path().join("conf/certs/ca.crt")).unwrap();
    let out = run(plugin("airflow", dir.path()).current_dir("/").args([
        "doctor",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("certs/ca.crt"),
        "names the missing file: {}",
        out.stderr
    );
}

#[test]
fn a_missing_exec_plugin_is_named_with_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    for (command, hint) in [
        ("aws", "AWS CLI"),
        ("gke-gcloud-auth-plugin", "gcloud components install"),
        ("kubelogin", "kubelogin"),
    ] {
        let kc = write(
            dir.path(),
            &format!("{command}.yaml"),
            &format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {{server: {NOWHERE}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {command}\n      args: [token]\n"
            ),
        );
        let mut cmd = plugin("nodeevict", dir.path());
        cmd.env("PATH", "/nonexistent-bin")
            .args(["doctor", "--kubeconfig", kc.to_str().unwrap()]);
        let out = run(&mut cmd);
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "one line: {}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains(&format!("exec credential plugin \"{command}\"")),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("not on PATH") && out.stderr.contains(hint),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn bad_kubeconfigs_give_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "broken.yaml",
        "apiVersion: v1\nclusters: [ {name: x, cluster: \n  - - oops\n",
    );
    for name in PLUGINS {
        let out =
            run(plugin(name, dir.path()).args(["doctor", "--kubeconfig", bad.to_str().unwrap()]));
        assert_eq!(out.code, Some(2), "{}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("broken.yaml"), "{}", out.stderr);
    }
    let out =
        run(plugin("pvcreset", dir.path()).args(["doctor", "--kubeconfig", "/no/such/kubeconfig"]));
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("/no/such/kubeconfig") && out.stderr.contains("does not exist"),
        "{}",
        out.stderr
    );
    let out = run(plugin("pvcreset", dir.path()).args(["doctor", "--request-timeout", "soon"]));
    assert_eq!(out.code, Some(2), "usage error: {}", out.stderr);
    assert!(out.stderr.contains("invalid duration"), "{}", out.stderr);
}
