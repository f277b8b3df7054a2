//! Shell completion: kubectl's plugin completion (`kubectl_complete-<name>`, driven by real
//! kubectl's `__complete`) with live candidates from kube-sim, scripts and man pages.

use std::path::{Path, PathBuf};
use std::process::Command;

use suite_tests::{SimProcess, run};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A PATH directory with the plugins and their completion scripts, as krew installs them.
fn install(dir: &Path) {
    for name in ["airflow", "pvcreset", "nodeevict", "argodeploy"] {
        std::fs::copy(
            suite_tests::bin(&format!("kubectl-{name}")),
            dir.join(format!("kubectl-{name}")),
        )
        .unwrap();
        std::fs::copy(
            repo().join(format!("completions/kubectl_complete-{name}")),
            dir.join(format!("kubectl_complete-{name}")),
        )
        .unwrap();
    }
}

/// `kubectl __complete WORDS...` (what the shell runs on TAB), with the kubeconfig's context
/// namespace set to `namespace`.
fn kubectl_complete(sim: &SimProcess, dir: &Path, namespace: &str, words: &[&str]) -> Vec<String> {
    let kubeconfig = dir.join(format!("kubeconfig-{namespace}"));
    std::fs::copy(&sim.kubeconfig, &kubeconfig).unwrap();
    let set = Command::new("/usr/bin/kubectl")
        .args([
            "config",
            "set-context",
            "--current",
            "--namespace",
            namespace,
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert!(set.status.success());
    let mut cmd = Command::new("/usr/bin/kubectl");
    suite_tests::isolate(&mut cmd, dir);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
        .env("KUBECONFIG", &kubeconfig)
        .arg("__complete")
        .args(words);
    let out = run(&mut cmd);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<String> = out.stdout.lines().map(String::from).collect();
    assert_eq!(
        lines.last().map(String::as_str),
        Some(":4"),
        "{}",
        out.stdout
    );
    lines[..lines.len() - 1].to_vec()
}

#[test]
fn kubectl_completes_plugin_arguments_with_live_candidates() {
    let sim = SimProcess::start("astronomer", &[]);
    let dir = tempfile::tempdir().unwrap();
    install(dir.path());
    let lunar = "astronomer-ee-lunar-nuclear-3725";
    let components = kubectl_complete(&sim, dir.path(), lunar, &["airflow", "restart", ""]);
    for c in [
        "scheduler",
        "webserver",
        "worker",
        "triggerer",
        "all",
        "workers",
    ] {
        assert!(components.contains(&c.to_string()), "{components:?}");
    }
    assert_eq!(
        kubectl_complete(&sim, dir.path(), lunar, &["airflow", "status", ""]),
        ["lunar-nuclear-3725"]
    );
    assert_eq!(
        kubectl_complete(&sim, dir.path(), lunar, &["airflow", "restart", "sch"]),
        ["scheduler"]
    );
    let subcommands = kubectl_complete(&sim, dir.path(), lunar, &["airflow", ""]);
    assert!(
        subcommands.contains(&"restart".to_string())
            && !subcommands.contains(&"__complete".to_string()),
        "{subcommands:?}"
    );
    let claims = kubectl_complete(&sim, dir.path(), lunar, &["pvcreset", "logs-"]);
    assert_eq!(claims.len(), 3, "{claims:?}");
    let nodes = kubectl_complete(&sim, dir.path(), lunar, &["nodeevict", "ip-"]);
    assert_eq!(nodes.len(), 6, "{nodes:?}");
    assert!(sim.mutating_requests().is_empty());

    let atmosphere = SimProcess::start("atmosphere", &[]);
    let workflows = kubectl_complete(
        &atmosphere,
        dir.path(),
        "atmosphere",
        &["argodeploy", "get", "deploy-e5"],
    );
    assert_eq!(workflows.len(), 3, "{workflows:?}");
}

#[test]
fn completion_scripts_and_man_pages() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["airflow", "pvcreset", "nodeevict", "argodeploy"] {
        for shell in ["bash", "zsh", "fish"] {
            let out = run(suite_tests::plugin(name, dir.path()).args(["completion", shell]));
            assert_eq!(out.code, Some(0), "{name} {shell}: {}", out.stderr);
            assert!(
                out.stdout.contains(&format!("kubectl-{name}")),
                "{name} {shell}"
            );
        }
        let man = run(suite_tests::plugin(name, dir.path()).arg("__man"));
        assert_eq!(man.code, Some(0));
        // The committed pages (man/, packed into the release archives) are the clap
        // definitions' current ones.
        let pages = dir.path().join(format!("man-{name}"));
        let written = run(suite_tests::plugin(name, dir.path())
            .arg("__man")
            .arg(&pages));
        assert_eq!(written.code, Some(0), "{}", written.stderr);
        let mut files: Vec<String> = written.stdout.lines().map(String::from).collect();
        assert!(files.len() > 3, "{name}: a page per subcommand: {files:?}");
        files.sort();
        for file in files {
            let file = Path::new(&file);
            let committed = repo().join("man").join(file.file_name().unwrap());
            assert_eq!(
                std::fs::read_to_string(&committed).unwrap_or_default(),
                std::fs::read_to_string(file).unwrap(),
                "{} is stale: regenerate with `cargo run -p kubectl-{name} -- __man man`",
                committed.display()
            );
        }
        assert!(
            man.stdout.contains(".TH") && man.stdout.contains(&format!("kubectl {name}")),
            "{}",
            man.stdout
        );
    }
    // The bash script is valid bash.
    let script = run(suite_tests::plugin("airflow", dir.path()).args(["completion", "bash"]));
    let path = suite_tests::write(dir.path(), "airflow.bash", &script.stdout);
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn without_a_cluster_the_subcommands_and_shells_are_still_offered() {
    // HOME is an empty directory: no kubeconfig at all.
    let dir = tempfile::tempdir().unwrap();
    for (name, subcommand) in [
        ("airflow", "restart"),
        ("pvcreset", "resume"),
        ("nodeevict", "uncordon"),
        ("argodeploy", "resubmit"),
    ] {
        let out = run(suite_tests::plugin(name, dir.path()).args(["__complete", ""]));
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(lines.contains(&subcommand), "{name}: {lines:?}");
        assert_eq!(lines.last(), Some(&":4"), "{name}");
        let shells =
            run(suite_tests::plugin(name, dir.path()).args(["__complete", "completion", ""]));
        assert_eq!(shells.stdout, "bash\nzsh\nfish\n:4\n", "{name}");
    }
}
