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
    let latest = kubectl_complete(
        &atmosphere,
        dir.path(),
        "atmosphere",
        &["argodeploy", "logs", "@"],
    );
    assert_eq!(latest, ["@latest"], "{latest:?}");
    let more = kubectl_complete(
        &atmosphere,
        dir.path(),
        "atmosphere",
        &["argodeploy", "delete", "deploy-e5121482-wwmms", "deploy-e5"],
    );
    assert_eq!(more.len(), 3, "delete takes several names: {more:?}");
    let retry = kubectl_complete(
        &atmosphere,
        dir.path(),
        "atmosphere",
        &["argodeploy", "retry", "deploy-e5"],
    );
    assert_eq!(retry, workflows);
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

/// Issue 17 item 12: the command `completion --help` prints to make `kubectl NAME <TAB>` work
/// does, when pasted as printed: afterwards real kubectl completes the plugin's subcommands.
#[test]
fn the_install_command_in_completion_help_makes_kubectl_complete_the_plugin() {
    let sim = SimProcess::start("astronomer", &[]);
    for (name, subcommand) in [("airflow", "restart"), ("nodeevict", "uncordon")] {
        let home = tempfile::tempdir().unwrap();
        let bin_dir = home.path().join("plugins");
        std::fs::create_dir_all(&bin_dir).unwrap();
        std::fs::copy(
            suite_tests::bin(&format!("kubectl-{name}")),
            bin_dir.join(format!("kubectl-{name}")),
        )
        .unwrap();
        let path = format!("{}:/usr/bin:/bin", bin_dir.display());
        let help = run(suite_tests::plugin(name, home.path()).args(["completion", "--help"]));
        assert_eq!(help.code, Some(0), "{}", help.stderr);
        // The example's lines from `mkdir -p ~/.local/bin` on, pasted into a shell as printed.
        let lines: Vec<&str> = help.stdout.lines().map(str::trim).collect();
        let start = lines
            .iter()
            .position(|l| l.starts_with("mkdir -p ~/.local/bin"))
            .unwrap_or_else(|| panic!("{name}: no install command in:\n{}", help.stdout));
        let install = lines[start..]
            .iter()
            .take_while(|l| !l.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        let mut paste = Command::new("sh");
        suite_tests::isolate(&mut paste, home.path());
        let pasted = run(paste.env("PATH", &path).args(["-ec", &install]));
        assert_eq!(pasted.code, Some(0), "{install}: {}", pasted.stderr);

        let mut complete = Command::new("/usr/bin/kubectl");
        suite_tests::isolate(&mut complete, home.path());
        complete
            .env(
                "PATH",
                format!("{}/.local/bin:{path}", home.path().display()),
            )
            .env("KUBECONFIG", &sim.kubeconfig)
            .args(["__complete", name, ""]);
        let out = run(&mut complete);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert!(
            lines.contains(&subcommand),
            "{name}: {lines:?} {}",
            out.stderr
        );
        assert!(
            !lines.iter().any(|l| l.starts_with("__")),
            "{name}: hidden subcommands offered: {lines:?}"
        );
    }
}

/// Issue 17 item 12: the scripts offer the visible subcommands only, and only the supported
/// shells are accepted (the help lists exactly those).
#[test]
fn scripts_hide_the_protocol_subcommands_and_only_supported_shells_are_offered() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["airflow", "pvcreset", "nodeevict", "argodeploy"] {
        for shell in ["bash", "zsh", "fish"] {
            let out = run(suite_tests::plugin(name, dir.path()).args(["completion", shell]));
            let offered: Vec<&str> = out
                .stdout
                .lines()
                .filter(|l| !l.starts_with('#'))
                .filter(|l| l.contains("__complete") || l.contains("__man"))
                .collect();
            assert!(offered.is_empty(), "{name} {shell}: {offered:?}");
        }
        let help = run(suite_tests::plugin(name, dir.path()).args(["completion", "--help"]));
        assert!(
            help.stdout.contains("[possible values: bash, zsh, fish]"),
            "{name}: {}",
            help.stdout
        );
        let refused = run(suite_tests::plugin(name, dir.path()).args(["completion", "powershell"]));
        assert_eq!(refused.code, Some(2), "{name}");
        assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    }
    // bash really completes `kubectl-airflow re` to restart, with the printed script sourced.
    let script = run(suite_tests::plugin("airflow", dir.path()).args(["completion", "bash"]));
    let path = suite_tests::write(dir.path(), "airflow.bash", &script.stdout);
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; f=$(complete -p kubectl-airflow | sed 's/.*-F \\([^ ]*\\).*/\\1/'); \
             COMP_WORDS=(kubectl-airflow re); COMP_CWORD=1; COMP_LINE='kubectl-airflow re'; \
             COMP_POINT=${{#COMP_LINE}}; $f kubectl-airflow re kubectl-airflow; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&check.stdout);
    assert!(
        offered.lines().any(|l| l.trim() == "restart"),
        "{offered} {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

/// Issue 17 item 12: a reader that goes away (`| head`) ends the plugin quietly: no panic,
/// no error line, exit 0 or 141 (as a Unix tool killed by SIGPIPE).
#[test]
fn a_closed_stdout_ends_every_plugin_quietly() {
    let sim = SimProcess::start("astronomer", &[]);
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 7] = [
        ("airflow", &["completion", "bash"]),
        ("nodeevict", &["completion", "fish"]),
        ("pvcreset", &["__man"]),
        ("argodeploy", &["--help"]),
        ("airflow", &["list", "-A"]),
        (
            "airflow",
            &["status", "-n", "astronomer-ee-zodiac-cosmo-1172"],
        ),
        ("nodeevict", &["status"]),
    ];
    for (name, args) in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        // The reader is gone before the plugin writes a byte: every write fails with EPIPE.
        drop(reader);
        let out = suite_tests::plugin(name, dir.path())
            .args(args)
            .arg("--kubeconfig")
            .arg(&sim.kubeconfig)
            .stdin(std::process::Stdio::null())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0) | Some(141)),
            "{name} {args:?}: {:?} {stderr}",
            out.status
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{name} {args:?}: {stderr}"
        );
    }
}
