//! Issue 17 for `kubectl airflow`, through the real binary against kube-sim's astronomer
//! scenario: printed commands that work when pasted (with and without `--context`), restarting
//! one pod, `-o` per command, tables within 120 columns, waiting that names what is pending,
//! colour on a terminal only, result lines on stdout, and examples in every `--help`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use suite_tests::{Run, SimProcess, paste, plugin, run};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

/// The commands a `status`/`platform` report prints for the operator: each `fix:` and each
/// alternative (the line after `or, if …:`).
fn printed_fixes(report: &str) -> Vec<String> {
    let lines: Vec<&str> = report.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(fix) = line.trim().strip_prefix("fix: ") {
            out.push(fix.to_string());
        }
        if line.trim_start().starts_with("or, if ")
            && let Some(next) = lines.get(i + 1)
        {
            out.push(next.trim().to_string());
        }
    }
    out
}

/// A copy of the sim's kubeconfig whose current context points at a server nothing listens
/// on, so only a command that carries `--context kube-sim` reaches the sim.
fn kubeconfig_elsewhere(sim: &SimProcess, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let mut config: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let cluster: serde_yaml::Value = serde_yaml::from_str(
        "name: nowhere\ncluster:\n  server: https://127.0.0.1:9\n  insecure-skip-tls-verify: true",
    )
    .unwrap();
    let context: serde_yaml::Value = serde_yaml::from_str(
        "name: elsewhere\ncontext:\n  cluster: nowhere\n  user: kube-sim\n  namespace: default",
    )
    .unwrap();
    config["clusters"].as_sequence_mut().unwrap().push(cluster);
    config["contexts"].as_sequence_mut().unwrap().push(context);
    config["current-context"] = "elsewhere".into();
    let path = dir.join("two-contexts");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    path
}

fn airflow(home: &Path, args: &[&str]) -> Run {
    run(plugin("airflow", home).args(args))
}

fn uids(sim: &SimProcess, ns: &str, selector: &str) -> Vec<(String, String)> {
    let pods = sim.get_json(&["pods", "-n", ns, "-l", selector]);
    let mut out: Vec<(String, String)> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["uid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn ready(sim: &SimProcess, ns: &str, pod: &str) -> bool {
    sim.find_json(&["pod", pod, "-n", ns])
        .is_some_and(|p| suite_tests::pod_ready(&p))
}

#[test]
fn status_fixes_work_when_pasted_as_printed_and_replace_only_the_crash_looping_worker() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // As an operator types it: $KUBECONFIG, no cluster flags; the fix needs -n (issue 17's
    // first finding: pasted without it, it looked in "default").
    let status = paste(
        &format!("kubectl airflow status -n {LUNAR}"),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let fixes = printed_fixes(&status.stdout);
    let restart = format!("kubectl airflow restart lunar-nuclear-3725-worker-2 -n {LUNAR}");
    let reset = format!(
        "kubectl airflow reset-logs lunar-nuclear-3725-worker-2 lunar-nuclear-3725 -n {LUNAR}"
    );
    // worker-2's log volume is full (its log and the kubelet's stats): the reset leads, the
    // restart of that one pod is the alternative.
    assert_eq!(fixes, [reset.clone(), restart.clone()], "{}", status.stdout);
    // The fix is not a rolling restart, which the restart plan warns would wait behind this
    // very pod.
    assert!(
        !status.stdout.contains("restart worker"),
        "{}",
        status.stdout
    );

    // Pasted as printed, without a terminal: the plan of that one pod, then a refusal (exit 3,
    // nothing changed); with --yes it is done.
    let refused = paste(&restart, &sim.kubeconfig, home.path());
    assert_eq!(refused.code, Some(3), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("replaces pod lunar-nuclear-3725-worker-2")
            && !refused
                .stderr
                .contains("not Ready: a StatefulSet rolls only"),
        "{}",
        refused.stderr
    );
    assert!(sim.mutating_requests().is_empty());
    let dry = paste(&format!("{reset} --dry-run"), &sim.kubeconfig, home.path());
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        format!("{}{}", dry.stdout, dry.stderr).contains("logs-lunar-nuclear-3725-worker-2"),
        "{}",
        dry.stderr
    );

    // The fix pasted as printed: worker-2 alone gets a fresh log volume and is Ready. (Its
    // restart would not do: the new pod mounts the same full volume and crash-loops again.)
    let before = uids(&sim, LUNAR, "component=worker");
    let done = paste(&format!("{reset} --yes"), &sim.kubeconfig, home.path());
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let after = uids(&sim, LUNAR, "component=worker");
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(after[0], before[0], "worker-0 untouched");
    assert_eq!(after[1], before[1], "worker-1 untouched");
    assert_eq!(after[2].0, "lunar-nuclear-3725-worker-2");
    assert_ne!(after[2].1, before[2].1, "worker-2 replaced");
    assert!(ready(&sim, LUNAR, "lunar-nuclear-3725-worker-2"));
    let deleted: Vec<String> = sim
        .mutating_requests()
        .into_iter()
        .filter(|r| r["method"] == "DELETE")
        .map(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        deleted
            .iter()
            .all(|name| name == "lunar-nuclear-3725-worker-2"
                || name == "logs-lunar-nuclear-3725-worker-2"),
        "{deleted:?}"
    );
    // Healthy again: no problem left to fix.
    let status = paste(
        &format!("kubectl airflow status -n {LUNAR}"),
        &sim.kubeconfig,
        home.path(),
    );
    assert!(
        status.stdout.contains("Problems: none"),
        "{}",
        status.stdout
    );
}

#[test]
fn printed_commands_carry_the_context_given() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let config = kubeconfig_elsewhere(&sim, home.path());
    let cluster = [
        "--kubeconfig",
        config.to_str().unwrap(),
        "--context",
        "kube-sim",
    ];
    let flags = format!(" --kubeconfig {} --context kube-sim", config.display());

    // status of each deployment: every fix, pasted as printed, reaches the sim.
    let lunar = airflow(
        home.path(),
        &[&["status", "-n", LUNAR][..], &cluster].concat(),
    );
    assert_eq!(lunar.code, Some(0), "{}", lunar.stderr);
    let zodiac = airflow(
        home.path(),
        &[&["status", "-n", ZODIAC][..], &cluster].concat(),
    );
    assert_eq!(zodiac.code, Some(0), "{}", zodiac.stderr);
    let fixes: Vec<String> = [printed_fixes(&lunar.stdout), printed_fixes(&zodiac.stdout)].concat();
    assert_eq!(fixes.len(), 4, "{fixes:?}");
    assert_eq!(
        fixes[2],
        format!("kubectl airflow diagnose zodiac-cosmo-1172 -n {ZODIAC}{flags}")
    );
    // zodiac's scheduler is Ready but Airflow's health says its heartbeat is stale.
    assert_eq!(
        fixes[3],
        format!("kubectl airflow restart scheduler zodiac-cosmo-1172 -n {ZODIAC}{flags}")
    );
    for fix in &fixes {
        assert!(fix.ends_with(&flags), "{fix}");
        // As printed: a report runs; a change plans and stops at the missing terminal (3,
        // after reaching the sim), and with --dry-run shows its plan.
        let out = paste(fix, &config, home.path());
        if fix.contains(" diagnose ") {
            assert_eq!(out.code, Some(0), "{fix}: {}", out.stderr);
        } else {
            assert_eq!(out.code, Some(3), "{fix}: {}", out.stderr);
            let dry = paste(&format!("{fix} --dry-run"), &config, home.path());
            assert_eq!(dry.code, Some(0), "{fix}: {}", dry.stderr);
            assert!(dry.stderr.contains("Context    kube-sim"), "{}", dry.stderr);
        }
    }
    let diagnose = paste(&fixes[2], &config, home.path());
    assert!(
        diagnose.stdout.contains("zodiac-cosmo-1172-triggerer"),
        "{}",
        diagnose.stdout
    );
    assert!(sim.mutating_requests().is_empty());

    // No deployment in the context's namespace: the hint to look everywhere, as printed.
    let none = airflow(home.path(), &[&["status"][..], &cluster].concat());
    assert_eq!(none.code, Some(1), "{}", none.stderr);
    let hinted = none.stderr.split('`').nth(1).expect(&none.stderr);
    assert_eq!(hinted, format!("kubectl airflow list -A{flags}"));
    let listed = paste(hinted, &config, home.path());
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert!(
        listed.stdout.contains("lunar-nuclear-3725") && listed.stdout.contains("zodiac-cosmo-1172"),
        "{}",
        listed.stdout
    );
    // `list` in a namespace without any: the same hint.
    let empty = airflow(home.path(), &[&["list"][..], &cluster].concat());
    assert_eq!(empty.code, Some(0), "{}", empty.stderr);
    assert!(
        empty
            .stderr
            .contains(&format!("all namespaces: `kubectl airflow list -A{flags}`")),
        "{}",
        empty.stderr
    );
    let listed = paste(
        empty.stderr.split('`').nth(1).unwrap(),
        &config,
        home.path(),
    );
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert_eq!(listed.stdout.lines().count(), 3, "{}", listed.stdout);
}

#[test]
fn restart_one_pod_by_name_or_with_pod_leaves_the_other_workers_alone() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let before = uids(&sim, LUNAR, "component=worker");

    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &[
            "restart",
            "worker",
            "--pod",
            "lunar-nuclear-3725-worker-0",
            "-n",
            LUNAR,
            "--yes",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("delete the pod; its controller recreates it")
            && out
                .stderr
                .contains("replaces pod lunar-nuclear-3725-worker-0")
            && !out
                .stderr
                .contains("replaces pod lunar-nuclear-3725-worker-1"),
        "{}",
        out.stderr
    );
    let after = uids(&sim, LUNAR, "component=worker");
    assert_ne!(after[0].1, before[0].1, "worker-0 replaced");
    assert_eq!(after[1..], before[1..], "worker-1 and worker-2 untouched");
    assert!(ready(&sim, LUNAR, "lunar-nuclear-3725-worker-0"));
    assert!(
        out.stdout
            .contains("deleted pod lunar-nuclear-3725-worker-0")
    );

    // A Deployment's pod, by name alone (the namespace holds one release).
    let scheduler = uids(&sim, LUNAR, "component=scheduler");
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &[
            "restart",
            &scheduler[0].0,
            "-n",
            LUNAR,
            "--yes",
            "-o",
            "yaml",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: serde_yaml::Value = serde_yaml::from_str(&out.stdout).expect(&out.stdout);
    assert_eq!(plan["pod"].as_str(), Some(scheduler[0].0.as_str()));
    assert_eq!(plan["strategy"].as_str(), Some("delete"));
    let now = uids(&sim, LUNAR, "component=scheduler");
    assert_eq!(now.len(), 1);
    assert_ne!(now[0], scheduler[0]);
    assert_eq!(uids(&sim, LUNAR, "component=worker")[1..], before[1..]);
}

#[test]
fn restarting_a_pod_that_is_not_there_or_with_a_rollout_changes_nothing() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    for (args, says) in [
        (
            vec!["restart", "worker", "--pod", "lunar-nuclear-3725-worker-9"],
            "worker of lunar-nuclear-3725 has no pod \"lunar-nuclear-3725-worker-9\": its pods are lunar-nuclear-3725-worker-0",
        ),
        (
            vec!["restart", "lunar-nuclear-3725-worker-9"],
            "unknown component \"lunar-nuclear-3725-worker-9\" in lunar-nuclear-3725: use one of",
        ),
        (
            vec![
                "restart",
                "lunar-nuclear-3725-worker-2",
                "--strategy",
                "rollout",
            ],
            "one pod is restarted by deleting it",
        ),
        (
            vec![
                "restart",
                "scheduler",
                "--pod",
                "lunar-nuclear-3725-worker-2",
            ],
            "scheduler of lunar-nuclear-3725 has no pod",
        ),
    ] {
        let out = sim.run_plugin(
            "airflow",
            home.path(),
            &[&args[..], &["-n", LUNAR, "--yes"]].concat(),
        );
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    }
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
}

#[test]
fn each_command_offers_exactly_the_formats_it_prints() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let plan_formats = "[possible values: table, json, yaml]";
    let list_formats = "[possible values: table, wide, json, yaml, name]";
    for (command, formats) in [
        ("restart", plan_formats),
        ("reset-logs", plan_formats),
        ("status", plan_formats),
        ("diagnose", plan_formats),
        ("list", list_formats),
        ("volumes", list_formats),
        ("platform", list_formats),
    ] {
        let help = airflow(home.path(), &[command, "--help"]);
        // Help wraps at the terminal's width: compare with the line breaks folded.
        let folded = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        let output = folded
            .split("-o, --output <OUTPUT>")
            .nth(1)
            .expect(&help.stdout);
        let values = output.find("[possible values:").expect(&help.stdout);
        let listed = output[values..]
            .split(']')
            .next()
            .unwrap_or_default()
            .to_string()
            + "]";
        assert!(
            listed.ends_with(formats),
            "{command} lists {listed:?}: {}",
            help.stdout
        );
    }
    let ok = |args: &[&str]| {
        let out = sim.run_plugin("airflow", home.path(), args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        out.stdout
    };
    // Every format each lists works.
    for format in ["table", "json", "yaml"] {
        ok(&["status", "-n", LUNAR, "-o", format]);
        ok(&["diagnose", "-n", ZODIAC, "-o", format]);
        ok(&["restart", "worker", "-n", LUNAR, "--dry-run", "-o", format]);
        ok(&[
            "reset-logs",
            "--all",
            "-n",
            ZODIAC,
            "--dry-run",
            "-o",
            format,
        ]);
    }
    let status: serde_yaml::Value =
        serde_yaml::from_str(&ok(&["status", "-n", LUNAR, "-o", "yaml"])).unwrap();
    assert_eq!(
        status["deployment"]["release"].as_str(),
        Some("lunar-nuclear-3725")
    );
    for format in ["table", "wide", "json", "yaml", "name"] {
        ok(&["list", "-A", "-o", format]);
        ok(&["volumes", "-n", LUNAR, "-o", format]);
        ok(&["platform", "-o", format]);
    }
    assert_eq!(
        ok(&["list", "-A", "-o", "name"]),
        "lunar-nuclear-3725\nzodiac-cosmo-1172\n"
    );
    let names = ok(&["volumes", "-n", LUNAR, "-o", "name"]);
    assert!(
        names
            .lines()
            .all(|l| l.starts_with("persistentvolumeclaim/")),
        "{names}"
    );
    // What -o name prints is what kubectl takes.
    let first = names.lines().next().unwrap();
    let got = sim.kubectl(&["get", first, "-n", LUNAR, "-o", "name"]);
    assert_eq!(got.stdout.trim(), first, "{}", got.stderr);
    let workloads = ok(&["platform", "-o", "name"]);
    assert!(
        workloads.contains("deployment/astronomer-ee-houston\n")
            && workloads.contains("statefulset/astronomer-ee-nats\n"),
        "{workloads}"
    );
    // Wide adds columns.
    assert!(
        ok(&["list", "-A", "-o", "wide"])
            .lines()
            .next()
            .unwrap()
            .ends_with("REASON")
    );
    assert!(ok(&["volumes", "-n", LUNAR, "-o", "wide"]).contains("STORAGECLASS"));
    assert!(ok(&["platform", "-o", "wide"]).contains("NODE"));
    // A format the command does not list is a usage error naming the valid ones.
    let wide = sim.run_plugin(
        "airflow",
        home.path(),
        &["status", "-n", LUNAR, "-o", "wide"],
    );
    assert_eq!(wide.code, Some(2), "{}", wide.stderr);
    assert!(sim.mutating_requests().is_empty());
}

/// The widest line of `text`, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn default_tables_fit_120_columns_and_plans_wrap_at_the_terminal_width() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    // As an operator runs them ($KUBECONFIG, no cluster flags): every line, the printed
    // commands included (those are never wrapped, so they can be pasted whole).
    for command in [
        "list -A".to_string(),
        format!("list -n {LUNAR}"),
        format!("status -n {LUNAR}"),
        format!("status -n {ZODIAC}"),
        format!("volumes -n {LUNAR}"),
        format!("volumes -n {ZODIAC}"),
        "platform".to_string(),
    ] {
        let args = format!("kubectl airflow {command}");
        let out = paste(&args, &sim.kubeconfig, home.path());
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        assert!(
            widest(&out.stdout) <= 120,
            "{args:?} is {} columns wide:\n{}",
            widest(&out.stdout),
            out.stdout
        );
    }
    // The plan of `restart all` on zodiac (long warnings) wraps at the width given.
    let out = paste(
        &format!("COLUMNS=80 kubectl airflow restart all -n {ZODIAC} --dry-run"),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // Every line fits but a quoted command longer than the width, which stays whole.
    for line in out.stderr.lines() {
        let whole_command = line.trim().starts_with('`') && line.trim().ends_with('`');
        assert!(
            line.chars().count() <= 80 || whole_command,
            "{line:?} in\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("Unschedulable"), "{}", out.stderr);
    // The command in a warning stays whole on its line, so it can be copied.
    assert!(
        out.stderr.lines().any(
            |l| l.trim() == format!("`kubectl airflow diagnose zodiac-cosmo-1172 -n {ZODIAC}`")
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn restart_all_warns_of_an_unschedulable_pod_and_names_what_it_waits_for() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    // The premise: the sim's scheduler has tried the triggerer and found no room (its first
    // pass can come after a loaded machine starts the plugin).
    suite_tests::wait_for(
        "the triggerer to be Unschedulable",
        std::time::Duration::from_secs(20),
        || {
            sim.get_json(&["pods", "-n", ZODIAC, "-l", "component=triggerer"])["items"]
                .as_array()
                .is_some_and(|pods| {
                    pods.iter().any(|p| {
                        p["status"]["conditions"].as_array().is_some_and(|cs| {
                            cs.iter().any(|c| {
                                c["type"] == "PodScheduled" && c["reason"] == "Unschedulable"
                            })
                        })
                    })
                })
        },
    );
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &["restart", "all", "-n", ZODIAC, "--yes", "--timeout", "6s"],
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    let warning = out
        .stderr
        .lines()
        .find(|l| l.contains("warning: zodiac-cosmo-1172-triggerer"))
        .expect(&out.stderr);
    assert!(
        warning.contains("is Pending (Unschedulable: 0/6 nodes are available")
            && warning.contains("its replacement will likely not be scheduled either"),
        "{warning}"
    );
    // Up front: the warning comes before anything is restarted.
    let restarted = out.stdout.find("restarted deployment/").expect(&out.stdout);
    assert!(restarted < out.stdout.len());
    assert!(
        out.stderr
            .find("warning: zodiac-cosmo-1172-triggerer")
            .unwrap()
            < out.stderr.find("waiting for").expect(&out.stderr)
    );
    // Its diagnose command, pasted as printed, works.
    let diagnose = warning.split('`').nth(1).unwrap();
    let diagnosed = paste(diagnose, &sim.kubeconfig, home.path());
    assert_eq!(diagnosed.code, Some(0), "{}", diagnosed.stderr);
    // The last progress line and the timeout name only the triggerer, and why.
    let waiting: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("waiting for"))
        .collect();
    assert_eq!(
        waiting.last().copied(),
        Some(
            "waiting for triggerer 0/1 Ready (old pod Pending: Unschedulable: 0/6 nodes are available: 6 Insufficient cpu)"
        ),
        "{}",
        out.stderr
    );
    let error = out.stderr.lines().last().unwrap();
    assert!(
        error.contains("still waiting for triggerer 0/1 Ready (old pod Pending: Unschedulable")
            && !error.contains("flower"),
        "{error}"
    );
    // The status command of the timeout, pasted as printed.
    let status = error.split('`').nth(1).unwrap();
    let shown = paste(status, &sim.kubeconfig, home.path());
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    assert!(shown.stdout.contains("triggerer"), "{}", shown.stdout);
    // Plurals: one replica.
    assert!(out.stderr.contains("(1 replica, "), "{}", out.stderr);
    assert!(!out.stderr.contains("(1 replicas"), "{}", out.stderr);
}

#[test]
fn problems_are_coloured_on_a_terminal_only() {
    use expectrl::{Expect, Session};
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let mut cmd = plugin("airflow", home.path());
    cmd.args(["status", "-n", LUNAR, "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect("fix: ").unwrap();
    let text = String::from_utf8_lossy(found.before()).to_string();
    let crash = text
        .lines()
        .find(|l| l.contains("lunar-nuclear-3725-worker-2 ") && l.contains("CrashLoopBackOff"))
        .expect(&text);
    assert!(
        crash.contains("\u{1b}["),
        "no colour on a terminal: {crash:?}"
    );
    // Through a pipe, and as JSON, never.
    let piped = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
    assert!(!piped.stdout.contains('\u{1b}'), "{}", piped.stdout);
    let mut cmd = plugin("airflow", home.path());
    cmd.args(["list", "-A", "-o", "json", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .env_remove("NO_COLOR");
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect("zodiac-cosmo-1172\"").unwrap();
    assert!(!String::from_utf8_lossy(found.before()).contains('\u{1b}'));
}

#[test]
fn every_subcommand_help_has_examples() {
    let home = tempfile::tempdir().unwrap();
    let top = airflow(home.path(), &["--help"]);
    assert!(
        top.stdout.contains("Examples:\n  # ")
            && top.stdout.contains("  kubectl airflow list -A\n"),
        "{}",
        top.stdout
    );
    for command in [
        "list",
        "restart",
        "logs",
        "diagnose",
        "status",
        "volumes",
        "reset-logs",
        "platform",
    ] {
        let help = airflow(home.path(), &[command, "--help"]);
        assert_eq!(help.code, Some(0), "{}", help.stderr);
        let examples = help
            .stdout
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{command} --help has no Examples:\n{}", help.stdout));
        let invocation = format!("kubectl airflow {command} ");
        assert!(
            examples
                .lines()
                .any(|l| l.trim_start().starts_with(&invocation)
                    || l.contains(&format!(" {command} "))),
            "{command}: {examples}"
        );
        let man = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../man")
                .join(format!("kubectl-airflow-{command}.1")),
        )
        .unwrap();
        assert!(man.contains("Examples:"), "man page of {command}");
    }
}

#[test]
fn restart_refusals_print_commands_that_work_when_pasted_with_the_context_given() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let config = kubeconfig_elsewhere(&sim, home.path());
    let cluster = [
        "--kubeconfig",
        config.to_str().unwrap(),
        "--context",
        "kube-sim",
    ];
    let flags = format!(" --kubeconfig {} --context kube-sim", config.display());

    // One pod with --strategy rollout: the whole component's restart, as printed.
    let out = airflow(
        home.path(),
        &[
            &[
                "restart",
                "lunar-nuclear-3725-worker-2",
                "--strategy",
                "rollout",
                "-n",
                LUNAR,
            ][..],
            &cluster,
        ]
        .concat(),
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let hinted = out.stderr.split('`').nth(1).expect(&out.stderr);
    assert_eq!(
        hinted,
        format!("kubectl airflow restart worker lunar-nuclear-3725 -n {LUNAR}{flags}")
    );
    let planned = paste(&format!("{hinted} --dry-run"), &config, home.path());
    assert_eq!(planned.code, Some(0), "{}", planned.stderr);
    assert!(
        planned.stderr.contains("rolling restart"),
        "{}",
        planned.stderr
    );
    assert!(sim.mutating_requests().is_empty());

    // A paused Deployment: the resume command, pasted as printed, resumes it; the restart then
    // goes through.
    let paused = sim.kubectl(&[
        "patch",
        "deployment/zodiac-cosmo-1172-scheduler",
        "-n",
        ZODIAC,
        "-p",
        r#"{"spec":{"paused":true}}"#,
    ]);
    assert_eq!(paused.code, Some(0), "{}", paused.stderr);
    let restart = [
        &["restart", "scheduler", "-n", ZODIAC, "--yes"][..],
        &cluster,
    ]
    .concat();
    let out = airflow(home.path(), &restart);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let resume = out.stderr.split('`').nth(1).expect(&out.stderr);
    assert_eq!(
        resume,
        format!("kubectl rollout resume deployment/zodiac-cosmo-1172-scheduler -n {ZODIAC}{flags}")
    );
    let resumed = paste(resume, &config, home.path());
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    let out = airflow(home.path(), &restart);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("every old pod is gone"),
        "{}",
        out.stdout
    );
}

#[test]
fn on_a_terminal_one_pod_is_confirmed_and_the_spinner_names_what_is_pending() {
    use expectrl::{Expect, Session};
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let before = uids(&sim, LUNAR, "component=worker");
    let mut cmd = plugin("airflow", home.path());
    cmd.args([
        "restart",
        "lunar-nuclear-3725-worker-1",
        "-n",
        LUNAR,
        "--kubeconfig",
    ])
    .arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
        .expect("Restart pod lunar-nuclear-3725-worker-1 of lunar-nuclear-3725?")
        .unwrap();
    session.send("y\r").unwrap();
    session
        .expect("pod lunar-nuclear-3725-worker-1 is replaced")
        .unwrap();
    let after = uids(&sim, LUNAR, "component=worker");
    assert_eq!(after[0], before[0]);
    assert_ne!(after[1], before[1]);
    assert_eq!(after[2], before[2]);

    // The spinner's line names the component still waiting, and why.
    let mut cmd = plugin("airflow", home.path());
    cmd.args([
        "restart",
        "triggerer",
        "-n",
        ZODIAC,
        "--yes",
        "--timeout",
        "4s",
        "--kubeconfig",
    ])
    .arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    let found = session.expect("error: timed out").unwrap();
    let shown = String::from_utf8_lossy(found.before()).to_string();
    assert!(
        shown.contains("waiting for triggerer 0/1 Ready (old pod Pending"),
        "{shown:?}"
    );
}
