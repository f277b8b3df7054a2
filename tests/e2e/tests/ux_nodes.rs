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
    assert!(
        line.contains("did you mean `kubectl pvcreset resume -n apps"),
        "{line}"
    );
    assert!(sim.mutating_requests().is_empty());
    let meant = &quoted(line)[0];
    let pasted = paste_elsewhere(meant, home.path());
    assert_eq!(pasted.code, Some(0), "{meant}: {}", pasted.stderr);
}
