//! Issue 17 for `kubectl nodeevict` and `kubectl pvcreset`: subcommand typos, what each run
//! says it did, pasteable hints with the cluster-choosing flags, the same words and formats.

use std::path::Path;

use suite_tests::{Run, SimProcess, paste, plugin, run};

const NODE: &str = "ip-10-0-12-27.ec2.internal";
/// The sim's kubeconfig context: given with `--context` so every hint must carry it.
const CONTEXT: &str = "kube-sim";

/// `kubectl PLUGIN ARGS --kubeconfig SIM --context kube-sim`, with no `$KUBECONFIG`: a printed
/// command that forgets either flag fails when pasted.
fn with_flags(sim: &SimProcess, home: &Path, name: &str, args: &[&str]) -> Run {
    run(plugin(name, home)
        .args(args)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["--context", CONTEXT]))
}

/// Runs a printed command as pasted into a shell whose `$KUBECONFIG` leads nowhere: only the
/// flags the command carries reach the sim.
fn paste_elsewhere(command: &str, home: &Path) -> Run {
    paste(command, &home.join("no-such-kubeconfig"), home)
}

/// The commands quoted in backticks in `text`.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// Item 5: every line of a default table fits 120 columns.
fn fits_120(text: &str) {
    for line in text.lines() {
        let width = line.chars().count();
        assert!(width <= 120, "{width} columns: {line}\n{text}");
    }
}

fn one_line(out: &Run) -> &str {
    let text = out.stderr.trim_end();
    assert_eq!(text.lines().count(), 1, "not one line: {text}");
    text
}

// Item 6: subcommand typos are not resource names.

#[test]
fn nodeevict_subcommand_typo_is_a_usage_error_with_the_command_meant() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(&sim, home.path(), "nodeevict", &["stauts"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let line = one_line(&out);
    assert!(
        line.contains("did you mean `kubectl nodeevict status"),
        "{line}"
    );
    assert!(sim.mutating_requests().is_empty());
    let meant = &quoted(line)[0];
    let pasted = paste_elsewhere(meant, home.path());
    assert_eq!(pasted.code, Some(0), "{meant}: {}", pasted.stderr);
}

#[test]
fn nodeevict_uncordon_typo_never_drains_two_nodes() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(&sim, home.path(), "nodeevict", &["uncordn", NODE, "-y"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let line = one_line(&out);
    assert!(
        line.contains(&format!("did you mean `kubectl nodeevict uncordon {NODE}")),
        "{line}"
    );
    assert!(
        sim.mutating_requests().is_empty(),
        "{:?}",
        sim.mutating_requests()
    );
    let meant = &quoted(line)[0];
    let pasted = paste_elsewhere(meant, home.path());
    assert_eq!(pasted.code, Some(0), "{meant}: {}", pasted.stderr);
    assert!(
        pasted.stdout.contains(&format!("node/{NODE} uncordoned")),
        "{}",
        pasted.stdout
    );
}

#[test]
fn nodeevict_suggests_close_node_names_and_drains_none() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &[NODE, "ip-10-0-23-114.ec2.internl", "-y"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let line = one_line(&out);
    assert!(
        line.contains("did you mean ip-10-0-23-114.ec2.internal"),
        "{line}"
    );
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn pvcreset_subcommand_typo_is_not_a_claim() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(&sim, home.path(), "pvcreset", &["resme", "-n", "apps"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let line = one_line(&out);
    // resume needs an owner that was not given: the command meant names it as a placeholder.
    assert!(
        line.contains("did you mean `kubectl pvcreset resume OWNER -n apps --kubeconfig "),
        "{line}"
    );
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn pvcreset_status_typo_runs_as_printed() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(&sim, home.path(), "pvcreset", &["stauts", "-n", "apps"]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let line = one_line(&out);
    let meant = &quoted(line)[0];
    assert!(
        meant.starts_with("kubectl pvcreset status -n apps"),
        "{line}"
    );
    assert!(sim.mutating_requests().is_empty());
    let pasted = paste_elsewhere(meant, home.path());
    assert_eq!(pasted.code, Some(0), "{meant}: {}", pasted.stderr);
}

/// A real claim named like a subcommand's near miss is still reset (planned, here): only a
/// word that matches no claim is taken for a mistyped subcommand.
#[test]
fn a_claim_that_exists_is_never_taken_for_a_subcommand() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let created = sim.kubectl(&[
        "create",
        "--validate=false",
        "-f",
        suite_tests::write(
            home.path(),
            "statu.json",
            r#"{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "statu", "namespace": "apps"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}"#,
        )
        .to_str()
        .unwrap(),
    ]);
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    let out = with_flags(
        &sim,
        home.path(),
        "pvcreset",
        &["statu", "-n", "apps", "--dry-run"],
    );
    assert!(!out.stderr.contains("did you mean"), "{}", out.stderr);
}

// Item 8: say what was done; journal steps only with -v; one vocabulary of step names.

/// The pods on `node` that no controller owns.
fn unmanaged_pods_on(sim: &SimProcess, node: &str) -> Vec<String> {
    sim.get_json(&[
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["ownerReferences"].is_null())
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap(),
                p["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_forced_drain_says_each_pod_it_removed_and_the_unmanaged_are_gone_for_good() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let unmanaged = unmanaged_pods_on(&sim, NODE);
    assert!(
        !unmanaged.is_empty(),
        "the scenario has an unmanaged pod on {NODE}"
    );
    let out = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for pod in &unmanaged {
        assert!(
            out.stdout
                .contains(&format!("deleted pod {pod} (unmanaged: not recreated)")),
            "{}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("evicted pod "), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("cordoned node {NODE}")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("safe to terminate"), "{}", out.stdout);
    // The journal's inner steps are not the operator's business without -v.
    assert!(!out.stderr.contains("journal:"), "{}", out.stderr);
    // The banner does not claim a namespace for a cluster-wide drain.
    assert!(
        !out.stderr
            .lines()
            .any(|l| l.starts_with("Namespace") && l.ends_with(" default")),
        "{}",
        out.stderr
    );
}

#[test]
fn with_v_the_journal_steps_are_shown() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(
        &sim,
        home.path(),
        "pvcreset",
        &["report-cache", "-n", "apps", "-y", "--timeout", "90s", "-v"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("journal: claims-deleted"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_reset_prints_each_change_as_it_is_made() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(
        &sim,
        home.path(),
        "pvcreset",
        &["report-cache", "-n", "apps", "-y", "--timeout", "90s"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let at = |what: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(what))
            .unwrap_or_else(|| panic!("no {what:?} in {}", out.stdout))
    };
    let order = [
        at("scaled deployment/report-builder 1 → 0"),
        at("deleted claim report-cache"),
        at("created claim report-cache"),
        at("scaled deployment/report-builder 0 → 1"),
        at("done in "),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("deployment/report-builder at 1 replica "),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("journal:"), "{}", out.stderr);
}

/// The step an interrupted run names is the step `status` shows, and the commands it prints
/// run as pasted (with `--kubeconfig` and `--context`).
#[test]
fn nodeevict_interrupt_and_status_speak_of_the_same_step_and_the_hints_paste() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let stopped = suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--context", CONTEXT],
        "prescaled",
        suite_tests::Interrupt::CtrlC,
    );
    assert_eq!(stopped.code, Some(130), "{}", stopped.stderr);
    let last = stopped.stderr.trim_end().lines().last().unwrap();
    assert!(last.contains("stopped after step prescaled"), "{last}");
    let status = with_flags(&sim, home.path(), "nodeevict", &["status"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let row = status
        .stdout
        .lines()
        .find(|l| l.starts_with(NODE))
        .unwrap_or_else(|| panic!("{}", status.stdout));
    assert!(row.split_whitespace().nth(1) == Some("prescaled"), "{row}");
    fits_120(status.stdout.split("\n\n").next().unwrap());
    // status's own commands, and the interruption's, carry the flags.
    for command in quoted(&status.stdout).iter().chain(&quoted(last)) {
        assert!(
            command.contains("--kubeconfig") && command.contains(&format!("--context {CONTEXT}")),
            "{command}"
        );
    }
    let resume = quoted(last)
        .into_iter()
        .find(|c| c.starts_with("kubectl nodeevict resume"))
        .unwrap();
    let pasted = paste_elsewhere(&format!("{resume} -y --timeout 2m"), home.path());
    assert_eq!(pasted.code, Some(0), "{resume}: {}", pasted.stderr);
    assert!(
        pasted.stdout.contains("safe to terminate"),
        "{}",
        pasted.stdout
    );
    // The abort it named, run after the resume, finds nothing left to undo: it says so.
    let abort = quoted(last)
        .into_iter()
        .find(|c| c.starts_with("kubectl nodeevict abort"))
        .unwrap();
    let pasted = paste_elsewhere(&format!("{abort} -y"), home.path());
    assert_eq!(pasted.code, Some(0), "{abort}: {}", pasted.stderr);
    assert!(
        pasted.stderr.contains("nothing to undo"),
        "{}",
        pasted.stderr
    );
    // And status's commands too: resume with nothing recorded says so.
    for command in quoted(&status.stdout) {
        if command.starts_with("kubectl nodeevict resume") {
            let pasted = paste_elsewhere(&command, home.path());
            assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        }
    }
}

#[test]
fn pvcreset_interrupt_and_status_speak_of_the_same_step_and_the_hints_paste() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let stopped = suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y", "--context", CONTEXT],
        "scaled-down",
        suite_tests::Interrupt::CtrlC,
    );
    assert_eq!(stopped.code, Some(130), "{}", stopped.stderr);
    let last = stopped.stderr.trim_end().lines().last().unwrap();
    assert!(last.contains("stopped after step scaled-down"), "{last}");
    let status = with_flags(&sim, home.path(), "pvcreset", &["status", "-n", "apps"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let row = status
        .stdout
        .lines()
        .find(|l| l.starts_with("deploy/report-builder "))
        .unwrap_or_else(|| panic!("{}", status.stdout));
    assert!(row.contains(" scaled-down "), "{row}");
    fits_120(status.stdout.split("\n\n").next().unwrap());
    // Every command status prints runs as printed: abort first (undo), which leaves nothing.
    let commands = quoted(&status.stdout);
    assert!(!commands.is_empty(), "{}", status.stdout);
    let abort = commands
        .iter()
        .find(|c| c.starts_with("kubectl pvcreset abort"))
        .unwrap();
    let pasted = paste_elsewhere(&format!("{abort} -y --timeout 90s"), home.path());
    assert_eq!(pasted.code, Some(0), "{abort}: {}", pasted.stderr);
    assert!(pasted.stdout.contains("aborted:"), "{}", pasted.stdout);
    // And the resume the interruption printed, run once more from a fresh interruption.
    let stopped = suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["report-cache", "-n", "apps", "-y", "--context", CONTEXT],
        "claims-deleted",
        suite_tests::Interrupt::CtrlC,
    );
    let last = stopped.stderr.trim_end().lines().last().unwrap();
    let resume = quoted(last)
        .into_iter()
        .find(|c| c.starts_with("kubectl pvcreset resume"))
        .unwrap_or_else(|| panic!("{last}"));
    assert!(resume.contains(&format!("--context {CONTEXT}")), "{resume}");
    let pasted = paste_elsewhere(&format!("{resume} -y --timeout 90s"), home.path());
    assert_eq!(pasted.code, Some(0), "{resume}: {}", pasted.stderr);
    assert!(
        pasted.stdout.contains("created claim report-cache"),
        "{}",
        pasted.stdout
    );
}

#[test]
fn a_pool_drain_ends_with_a_summary_of_every_node() {
    let sim = SimProcess::start("aura", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &["-l", "agentpool=common", "-y", "--timeout", "3m"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let nodes: Vec<String> = sim.get_json(&["nodes", "-l", "agentpool=common"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert!(nodes.len() > 1);
    let summary = &out.stdout[out
        .stdout
        .find("Summary: ")
        .unwrap_or_else(|| panic!("{}", out.stdout))..];
    for node in &nodes {
        assert!(
            summary
                .lines()
                .any(|l| l.starts_with(node.as_str()) && l.contains("safe to terminate")),
            "{summary}"
        );
    }
    let next = &summary[summary
        .find("next, to terminate the emptied nodes:")
        .unwrap()..];
    assert_eq!(next.lines().skip(1).count(), nodes.len(), "{next}");
}

// Item 13: the same words across plugins.

#[test]
fn uncordon_takes_a_selector_as_the_drain_does() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let nodes: Vec<String> = sim.get_json(&["nodes", "-l", "agentpool=common"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    for node in &nodes {
        assert_eq!(sim.kubectl(&["cordon", node]).code, Some(0));
    }
    let out = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &["uncordon", "-l", "agentpool=common"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for node in &nodes {
        assert!(
            out.stdout.contains(&format!("node/{node} uncordoned")),
            "{}",
            out.stdout
        );
        assert_ne!(sim.get_json(&["node", node])["spec"]["unschedulable"], true);
    }
    let none = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &["uncordon", "-l", "agentpool=nothing"],
    );
    assert_eq!(none.code, Some(1), "{}", none.stderr);
    let both = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &["uncordon", &nodes[0], "-l", "agentpool=common"],
    );
    assert_eq!(both.code, Some(2), "{}", both.stderr);
}

/// The short help (`-h`), where each flag's text and possible values stay on one line.
fn help(name: &str, args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = run(plugin(name, home.path()).args(args).arg("-h"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.stdout
}

#[test]
fn helps_say_what_force_means_and_read_alike() {
    // The short help's header is a sentence, as the other plugins'.
    let short = run(plugin("nodeevict", tempfile::tempdir().unwrap().path()).arg("-h"));
    assert!(short.stdout.starts_with("Empty a node"), "{}", short.stdout);
    let short = run(plugin("pvcreset", tempfile::tempdir().unwrap().path()).arg("-h"));
    assert!(
        short.stdout.starts_with("Reset a workload"),
        "{}",
        short.stdout
    );
    let drain = help("nodeevict", &[]);
    assert!(drain.contains("--force"), "{drain}");
    // Help wraps at the terminal's width: compare with the whitespace collapsed.
    let flat = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat(&drain).contains("--force Force past blockers"),
        "{drain}"
    );
    let reset = help("pvcreset", &[]);
    assert!(
        flat(&reset).contains("--force Force a shared claim"),
        "{reset}"
    );
}

/// A plan or report prints as table, json or yaml — and help lists exactly those.
#[test]
fn every_plan_and_report_takes_table_json_or_yaml() {
    for (name, args) in [
        ("nodeevict", vec![]),
        ("nodeevict", vec!["status"]),
        ("nodeevict", vec!["resume"]),
        ("nodeevict", vec!["abort"]),
        ("pvcreset", vec![]),
        ("pvcreset", vec!["status"]),
        ("pvcreset", vec!["resume"]),
        ("pvcreset", vec!["abort"]),
    ] {
        let text = help(name, &args)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains("[possible values: table, json, yaml]"),
            "{name} {args:?}: {text}"
        );
    }
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let plan = with_flags(
        &sim,
        home.path(),
        "pvcreset",
        &["report-cache", "-n", "apps", "--dry-run", "-o", "yaml"],
    );
    assert_eq!(plan.code, Some(0), "{}", plan.stderr);
    assert!(plan.stdout.contains("report-cache"), "{}", plan.stdout);
    assert!(
        !plan.stdout.trim_start().starts_with('{'),
        "yaml, not json: {}",
        plan.stdout
    );
    let drain = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &["-l", "agentpool=common", "--dry-run", "-o", "yaml"],
    );
    assert_eq!(drain.code, Some(0), "{}", drain.stderr);
    assert!(drain.stdout.starts_with("items:"), "{}", drain.stdout);
    for (name, args) in [
        ("nodeevict", vec!["status", "-o", "yaml"]),
        ("pvcreset", vec!["status", "-A", "-o", "yaml"]),
    ] {
        let out = with_flags(&sim, home.path(), name, &args);
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        assert!(out.stdout.starts_with("items:"), "{name}: {}", out.stdout);
    }
    assert!(sim.mutating_requests().is_empty());
}

// Item 14: examples in every --help.

#[test]
fn every_subcommand_help_has_examples() {
    for (name, subcommands) in [
        (
            "nodeevict",
            vec!["", "uncordon", "status", "resume", "abort"],
        ),
        ("pvcreset", vec!["", "status", "resume", "abort"]),
    ] {
        for sub in subcommands {
            let args: Vec<&str> = [sub].into_iter().filter(|s| !s.is_empty()).collect();
            let text = help(name, &args);
            let examples = &text[text
                .find("\nExamples:\n")
                .unwrap_or_else(|| panic!("{name} {sub}: {text}"))..];
            let command = format!("  kubectl {name} {sub}");
            assert!(
                examples.contains(command.trim_end()),
                "{name} {sub}: {examples}"
            );
        }
    }
}

// Item 5: the plans and tables fit 120 columns with the scenarios' real names.

#[test]
fn pvcreset_plans_fit_120_columns() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let ns = "astronomer-ee-lunar-nuclear-3725";
    for args in [
        vec!["logs-lunar-nuclear-3725-worker-1", "-n", ns, "--dry-run"],
        vec![
            "--statefulset",
            "lunar-nuclear-3725-worker",
            "--all",
            "-n",
            ns,
            "--dry-run",
        ],
    ] {
        let out = with_flags(&sim, home.path(), "pvcreset", &args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        fits_120(&out.stderr);
        assert!(out.stderr.contains("the data is lost"), "{}", out.stderr);
    }
    assert!(sim.mutating_requests().is_empty());
}

/// An abort with nothing recorded on a cordoned node names the uncordon that makes it
/// schedulable; pasted as printed, it does.
#[test]
fn the_uncordon_an_abort_suggests_runs_as_printed() {
    let sim = SimProcess::start("artsy", &[]);
    let home = tempfile::tempdir().unwrap();
    assert_eq!(sim.kubectl(&["cordon", NODE]).code, Some(0));
    let out = with_flags(&sim, home.path(), "nodeevict", &["abort", NODE, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let uncordon = quoted(&out.stderr)
        .into_iter()
        .find(|c| c.starts_with("kubectl nodeevict uncordon"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    let pasted = paste_elsewhere(&uncordon, home.path());
    assert_eq!(pasted.code, Some(0), "{uncordon}: {}", pasted.stderr);
    assert_ne!(sim.get_json(&["node", NODE])["spec"]["unschedulable"], true);
}

/// A pool drain that stops on a node says where every node stands: the one it stopped on,
/// and those not started.
#[test]
fn a_pool_drain_that_stops_still_sums_up_every_node() {
    let sim = SimProcess::start("aura", &[]);
    let home = tempfile::tempdir().unwrap();
    let out = with_flags(
        &sim,
        home.path(),
        "nodeevict",
        &["-l", "agentpool=common", "-y", "--timeout", "1s"],
    );
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    let summary = &out.stdout[out
        .stdout
        .find("Summary: ")
        .unwrap_or_else(|| panic!("{}", out.stdout))..];
    let rows: Vec<&str> = summary.lines().skip(2).take(3).collect();
    // The pool is cordoned ahead: the timeout stops the first node's drain, or the wait for
    // what it moved to be Ready again; the other nodes are queued either way.
    let first_done = rows[0].contains("drained — safe to terminate");
    assert!(
        first_done || rows[0].contains("stopped: the drain is recorded"),
        "{summary}"
    );
    assert!(
        rows[1..].iter().all(|r| r.contains("queued: cordoned")),
        "{summary}"
    );
    assert_eq!(summary.contains("terminate"), first_done, "{summary}");
    // The error stays the last line on stderr, with its resume command.
    let last = out.stderr.trim_end().lines().last().unwrap();
    assert!(last.contains("kubectl nodeevict resume"), "{last}");
}

/// Item 5: a drain plan's table fits 120 columns on every node of the scenarios, blocked pods
/// included (their reason in full stays on the `blocked:` line under the table).
#[test]
fn drain_plan_tables_fit_120_columns_on_every_node() {
    for scenario in ["aura", "astronomer", "artsy"] {
        let sim = SimProcess::start(scenario, &[]);
        let home = tempfile::tempdir().unwrap();
        let nodes = sim.get_json(&["nodes"]);
        for node in nodes["items"].as_array().unwrap() {
            let name = node["metadata"]["name"].as_str().unwrap();
            let out = sim.run_plugin("nodeevict", home.path(), &[name, "--dry-run"]);
            let table: Vec<&str> = out
                .stderr
                .lines()
                .skip_while(|l| !l.starts_with("POD "))
                .take_while(|l| {
                    !["pre-scale:", "capacity:", "warning:", "blocked:", "error:"]
                        .iter()
                        .any(|p| l.starts_with(p))
                })
                .collect();
            assert!(!table.is_empty(), "{scenario} {name}: {}", out.stderr);
            fits_120(&table.join("\n"));
            if out.stderr.contains("   blocked   ") {
                assert!(
                    out.stderr.lines().any(|l| l.starts_with("blocked: ")),
                    "a blocked pod's whole reason is under the table: {}",
                    out.stderr
                );
            }
        }
        assert!(sim.mutating_requests().is_empty(), "{scenario}");
    }
}

/// Item 5: `pvcreset status -A` fits 120 columns with astronomer's names (153 with a NAMESPACE
/// column): each namespace heads its resets.
#[test]
fn pvcreset_status_of_every_namespace_fits_120_columns() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let ns = "astronomer-ee-lunar-nuclear-3725";
    let stopped = suite_tests::interrupt_after_step(
        "pvcreset",
        &sim,
        home.path(),
        &["logs-lunar-nuclear-3725-worker-0", "-n", ns, "-y"],
        "started",
        suite_tests::Interrupt::Kill,
    );
    assert_eq!(stopped.code, None, "{}", stopped.stderr);
    let status = sim.run_plugin("pvcreset", home.path(), &["status", "-A"]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let table = status.stdout.split("\n\n").next().unwrap();
    fits_120(table);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("OWNER"), "{table}");
    assert_eq!(lines[1], format!("{ns}:"), "{table}");
    assert!(
        lines[2].starts_with("  sts/lunar-nuclear-3725-worker")
            && lines[2].contains("logs-lunar-nuclear-3725-worker-0"),
        "{table}"
    );
}
