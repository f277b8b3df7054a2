//! Issue 17, the shared flow every plugin goes through: usage errors that name what is wrong
//! and the subcommand's help (item 2), one line when the server is unreachable and `-v` for
//! the suite's own requests (item 3), Ctrl-C ending a read-only stream quietly (item 11), and
//! NO_COLOR as no-color.org defines it (item 13).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Expect, Session};
use suite_tests::{SimProcess, run};

const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

#[test]
fn a_usage_error_names_the_argument_and_points_at_the_subcommand_s_help() {
    let home = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[&str], &str); 4] = [
        (
            "airflow",
            &["restart"],
            &["<COMPONENT>"],
            "kubectl airflow restart --help",
        ),
        (
            "airflow",
            &["status", "-o", "xml"],
            &["[possible values: ", "json"],
            "kubectl airflow status --help",
        ),
        (
            "nodeevict",
            &["uncordon", "--bogus"],
            &["'--bogus'"],
            "kubectl nodeevict uncordon --help",
        ),
        (
            "argodeploy",
            &["logs"],
            &["required arguments were not provided: <"],
            "kubectl argodeploy logs --help",
        ),
    ];
    for (name, args, says, help) in cases {
        let out = run(suite_tests::plugin(name, home.path()).args(args));
        assert_eq!(out.code, Some(2), "{name} {args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        for said in says {
            assert!(out.stderr.contains(said), "{name} {args:?}: {}", out.stderr);
        }
        let hint = format!("; see `{help}`");
        assert!(out.stderr.trim_end().ends_with(&hint), "{}", out.stderr);
        // The help it points at works when pasted.
        let pasted = suite_tests::paste(help, &home.path().join("none"), home.path());
        assert_eq!(pasted.code, Some(0), "{help}: {}", pasted.stderr);
        assert!(pasted.stdout.contains("Usage:"), "{help}");
    }
}

#[test]
fn an_unreachable_server_is_one_line_and_minus_v_shows_the_suite_s_requests() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = suite_tests::write(
        home.path(),
        "unreachable",
        &suite_tests::kubeconfig(Some("down"), &[("down", "https://127.0.0.1:1", None)]),
    );
    let cases: [(&str, &[&str]); 4] = [
        ("airflow", &["list", "-A"]),
        ("argodeploy", &["list", "-A"]),
        ("nodeevict", &["status"]),
        ("pvcreset", &["status", "-A"]),
    ];
    for (name, args) in cases {
        let out = run(suite_tests::plugin(name, home.path())
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig));
        assert_eq!(out.code, Some(1), "{name} {args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{name} {args:?}: library logs leaked:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.starts_with("error: cannot reach"),
            "{}",
            out.stderr
        );
    }

    let sim = SimProcess::start("atmosphere", &[]);
    let quiet = sim.run_plugin("argodeploy", home.path(), &["list", "-n", "atmosphere"]);
    assert_eq!(quiet.code, Some(0), "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("GET "), "{}", quiet.stderr);
    let verbose = sim.run_plugin(
        "argodeploy",
        home.path(),
        &["list", "-n", "atmosphere", "-v"],
    );
    assert_eq!(verbose.code, Some(0), "{}", verbose.stderr);
    assert!(
        verbose
            .stderr
            .contains("GET /apis/argoproj.io/v1alpha1/namespaces/atmosphere/workflows"),
        "-v shows the requests: {}",
        verbose.stderr
    );
    assert!(verbose.stderr.contains("-> 200"), "{}", verbose.stderr);
    assert!(verbose.stderr.contains("context "), "{}", verbose.stderr);
    // Library internals stay out below --verbosity 6.
    assert!(!verbose.stderr.contains("hyper"), "{}", verbose.stderr);
}

#[test]
fn ctrl_c_ends_logs_follow_quietly() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let mut child = suite_tests::plugin("airflow", home.path())
        .args([
            "logs",
            "worker",
            "-f",
            "-n",
            ZODIAC,
            "--tail",
            "1",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    assert!(
        first.starts_with("[zodiac-cosmo-1172-worker-0] "),
        "{first}"
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.trim().is_empty(), "no error line: {stderr:?}");
}

/// Runs `kubectl-airflow list` on a broken kubeconfig in a pseudo-terminal with NO_COLOR as
/// given (None: unset) and returns whether its `error:` label was coloured.
fn coloured_with(no_color: Option<&str>) -> bool {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = suite_tests::plugin("airflow", home.path());
    cmd.env_remove("NO_COLOR");
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    cmd.env("TERM", "xterm-256color")
        .args(["list", "--kubeconfig"])
        .arg(home.path().join("missing"));
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    let found = session.expect("does not exist").unwrap();
    let coloured = String::from_utf8_lossy(found.before()).contains('\u{1b}');
    match session.get_process().wait().unwrap() {
        WaitStatus::Exited(_, code) => assert_eq!(code, 2),
        other => panic!("{other:?}"),
    }
    coloured
}

#[test]
fn no_color_disables_colour_only_when_set_to_a_value() {
    assert!(coloured_with(None), "a terminal gets colour");
    assert!(
        coloured_with(Some("")),
        "an empty NO_COLOR must not disable colour"
    );
    assert!(!coloured_with(Some("1")), "NO_COLOR=1 disables it");
}

/// Issue 17 item 5: a plan's lines wrap at the terminal's width (a command to paste excepted:
/// the terminal folds it, a newline would cut it in two).
#[test]
fn plan_lines_wrap_at_the_terminal_width() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let mut cmd = suite_tests::plugin("pvcreset", home.path());
    cmd.args(["report-cache", "-n", "apps", "--dry-run", "--kubeconfig"])
        .arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.get_process_mut().set_window_size(72, 40).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect("dry run: nothing was changed").unwrap();
    let ansi = regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    let text = ansi
        .replace_all(&String::from_utf8_lossy(found.before()), "")
        .into_owned();
    assert!(text.contains("the data is lost"), "{text}");
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        assert!(
            line.chars().count() <= 72 || line.contains("kubectl "),
            "wider than the terminal ({}): {line:?}\n{text}",
            line.chars().count()
        );
    }
    assert!(sim.mutating_requests().is_empty());
}

/// Issue 17 item 14: every subcommand's `--help` has `Examples:`, as kubectl's commands do, and
/// every example that runs a plugin parses as printed (run with `--help` appended: a flag or
/// value clap would refuse fails before the help).
#[test]
fn every_help_has_examples_that_parse() {
    let home = tempfile::tempdir().unwrap();
    let no_cluster = home.path().join("no-kubeconfig");
    for name in ["airflow", "pvcreset", "nodeevict", "argodeploy"] {
        let offered = run(suite_tests::plugin(name, home.path()).args(["__complete", ""]));
        let subcommands: Vec<&str> = offered
            .stdout
            .lines()
            .filter(|l| !l.starts_with(':') && *l != "help")
            .collect();
        assert!(subcommands.len() > 3, "{name}: {subcommands:?}");
        let mut pages = vec![vec![]];
        pages.extend(subcommands.iter().map(|s| vec![*s]));
        for page in pages {
            let help = run(suite_tests::plugin(name, home.path())
                .args(&page)
                .arg("--help"));
            assert_eq!(help.code, Some(0), "{name} {page:?}: {}", help.stderr);
            let Some((_, examples)) = help.stdout.split_once("Examples:") else {
                panic!("{name} {page:?}: no Examples: section in\n{}", help.stdout);
            };
            let prefix = format!("kubectl {name}");
            // Whole commands: a line ending in `\` continues on the next, as a shell reads it.
            let mut commands: Vec<String> = Vec::new();
            let mut continued = false;
            for line in examples.lines().map(str::trim) {
                if continued && let Some(last) = commands.last_mut() {
                    last.push(' ');
                    last.push_str(line.trim_end_matches('\\').trim_end());
                } else {
                    commands.push(line.trim_end_matches('\\').trim_end().to_string());
                }
                continued = line.ends_with('\\');
            }
            // The plugin's own invocation: inside `source <(…)`, before a pipe or a redirect.
            let runs: Vec<String> = commands
                .iter()
                .map(|l| {
                    let l = l
                        .strip_prefix("source <(")
                        .map_or(l.as_str(), |inner| inner.trim_end_matches(')'));
                    l.split([' '])
                        .take_while(|w| !matches!(*w, "|" | ">" | ">>" | "&&"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .filter(|l| l.starts_with(&prefix))
                .collect();
            assert!(
                !runs.is_empty(),
                "{name} {page:?}: no example runs the plugin"
            );
            for example in runs {
                let parsed =
                    suite_tests::paste(&format!("{example} --help"), &no_cluster, home.path());
                assert_eq!(
                    parsed.code,
                    Some(0),
                    "{name} {page:?}: the example `{example}` does not parse: {}",
                    parsed.stderr
                );
            }
        }
    }
}
