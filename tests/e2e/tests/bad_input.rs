//! Bad input, across the four plugins: every case gets one line saying what was wrong and what
//! to do, its documented exit code, and changes nothing (no mutating request in the sim's
//! journal). The lines are snapshotted (tests/e2e/tests/snapshots/) so a change to any message
//! is seen in review; ports and temporary paths are normalised.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{ControlCode, Expect, Session};
use suite_tests::{SimProcess, isolate, plugin, run, write};

const VIEWER_TOKEN: &str = "kube-sim-viewer-token";
const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";
const NODE: &str = "ip-10-0-12-27.ec2.internal";

/// One sim per scenario the cases need.
struct Sims {
    astronomer: SimProcess,
    artsy: SimProcess,
    aura: SimProcess,
    atmosphere: SimProcess,
}

impl Sims {
    fn for_plugin(&self, name: &str) -> &SimProcess {
        match name {
            "airflow" => &self.astronomer,
            "nodeevict" => &self.artsy,
            "pvcreset" => &self.aura,
            _ => &self.atmosphere,
        }
    }

    fn mutations(&self) -> usize {
        [&self.astronomer, &self.artsy, &self.aura, &self.atmosphere]
            .iter()
            .map(|s| s.mutating_requests().len())
            .sum()
    }
}

/// Which kubeconfig a case runs with.
enum Config {
    /// The sim's own (admin).
    Sim,
    /// The sim's, authenticating as the read-only `viewer`.
    Viewer,
    /// The sim's with a token the server does not know.
    WrongToken,
    /// A file written for the case.
    File(&'static str, fn(&SimProcess, &Path) -> String),
    /// A path that does not exist.
    Missing,
}

struct Case {
    name: &'static str,
    plugin: &'static str,
    args: &'static [&'static str],
    config: Config,
    exit: i32,
}

fn unreachable(_: &SimProcess, _: &Path) -> String {
    // Port 1 on loopback refuses connections.
    suite_tests::kubeconfig(Some("c"), &[("c", "https://127.0.0.1:1", None)])
}

fn malformed(_: &SimProcess, _: &Path) -> String {
    "apiVersion: v1\nclusters: [ {name: x, cluster: \n  - - oops\n".to_string()
}

/// The sim's kubeconfig trusting another CA than the one that signed the sim's certificate.
fn wrong_ca(sim: &SimProcess, _: &Path) -> String {
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let pem = other.cert.pem();
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    for cluster in doc["clusters"].as_sequence_mut().unwrap() {
        cluster["cluster"]["certificate-authority-data"] = serde_yaml::Value::String(
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &pem),
        );
    }
    serde_yaml::to_string(&doc).unwrap()
}

fn missing_exec_plugin(sim: &SimProcess, _: &Path) -> String {
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    for user in doc["users"].as_sequence_mut().unwrap() {
        user["user"] = serde_yaml::from_str(
            "exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token], interactiveMode: Never}",
        )
        .unwrap();
    }
    serde_yaml::to_string(&doc).unwrap()
}

fn cases() -> Vec<Case> {
    use Config::*;
    vec![
        Case {
            name: "malformed kubeconfig",
            plugin: "airflow",
            args: &["list", "-A"],
            config: File("broken.yaml", malformed),
            exit: 2,
        },
        Case {
            name: "missing kubeconfig file",
            plugin: "pvcreset",
            args: &["status", "-A"],
            config: Missing,
            exit: 2,
        },
        Case {
            name: "unknown context",
            plugin: "nodeevict",
            args: &[NODE, "--context", "prod-eu", "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "missing exec credential plugin",
            plugin: "argodeploy",
            args: &["list"],
            config: File("eks.yaml", missing_exec_plugin),
            exit: 2,
        },
        Case {
            name: "unreachable server",
            plugin: "argodeploy",
            args: &["list", "--request-timeout", "2s"],
            config: File("nowhere.yaml", unreachable),
            exit: 1,
        },
        Case {
            name: "wrong CA",
            plugin: "airflow",
            args: &["list", "-A"],
            config: File("wrong-ca.yaml", wrong_ca),
            exit: 1,
        },
        Case {
            name: "invalid token (401)",
            plugin: "pvcreset",
            args: &["status", "-A"],
            config: WrongToken,
            exit: 1,
        },
        Case {
            name: "forbidden: pvcreset preflight (403)",
            plugin: "pvcreset",
            args: &["report-cache", "-n", "apps", "-y"],
            config: Viewer,
            exit: 1,
        },
        Case {
            name: "forbidden: nodeevict preflight (403)",
            plugin: "nodeevict",
            args: &[NODE, "--force", "-y"],
            config: Viewer,
            exit: 1,
        },
        Case {
            name: "forbidden: airflow restart preflight (403)",
            plugin: "airflow",
            args: &["restart", "scheduler", "-n", ZODIAC, "-y"],
            config: Viewer,
            exit: 1,
        },
        Case {
            name: "forbidden: argodeploy stop preflight (403)",
            plugin: "argodeploy",
            args: &["stop", "deploy-f3f49249-njqlp", "-n", "atmosphere", "-y"],
            config: Viewer,
            exit: 1,
        },
        Case {
            name: "unknown node",
            plugin: "nodeevict",
            args: &["ip-10-0-99-99.ec2.internal", "-y"],
            config: Sim,
            exit: 1,
        },
        Case {
            name: "unknown PVC",
            plugin: "pvcreset",
            args: &["report-cach", "-n", "apps", "-y"],
            config: Sim,
            exit: 1,
        },
        Case {
            name: "unknown workflow",
            plugin: "argodeploy",
            args: &["resubmit", "deploy-nope", "-n", "atmosphere", "-y"],
            config: Sim,
            exit: 1,
        },
        Case {
            name: "unknown component",
            plugin: "airflow",
            args: &["restart", "schedular", "-n", ZODIAC, "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "unknown release",
            plugin: "airflow",
            args: &["restart", "scheduler", "zodiac", "-n", ZODIAC, "-y"],
            config: Sim,
            exit: 1,
        },
        Case {
            name: "conflicting flags: --running and --completed",
            plugin: "argodeploy",
            args: &["list", "--running", "--completed"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "conflicting flags: --force without --strategy delete",
            plugin: "airflow",
            args: &["restart", "worker", "-n", ZODIAC, "--force", "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "conflicting flags: nodes and a selector",
            plugin: "nodeevict",
            args: &[NODE, "-l", "agentpool=common", "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid node selector (checked before any request)",
            plugin: "nodeevict",
            args: &["-l", "agentpool in (common", "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid duration: --timeout",
            plugin: "pvcreset",
            args: &["report-cache", "-n", "apps", "-y", "--timeout", "5x"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "absurd duration: --timeout 18446744073709551615 seconds (once an Instant overflow panic)",
            plugin: "nodeevict",
            args: &[NODE, "--force", "-y", "--timeout", "18446744073709551615"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "absurd duration: a 300-digit --timeout (once a Duration::from_secs_f64 panic)",
            plugin: "airflow",
            args: &[
                "restart",
                "scheduler",
                "-n",
                ZODIAC,
                "-y",
                "--timeout",
                "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999d",
            ],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid duration: --since",
            plugin: "argodeploy",
            args: &["list", "--since", "yesterday"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "--statefulset without --ordinal or --all",
            plugin: "pvcreset",
            args: &["--statefulset", "prometheus", "-n", "monitoring", "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid --grep pattern",
            plugin: "argodeploy",
            args: &[
                "logs",
                "deploy-f3f49249-njqlp",
                "-n",
                "atmosphere",
                "--grep",
                "(",
            ],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid --tail: below -1 (tailLines must be 0 or more upstream)",
            plugin: "airflow",
            args: &["logs", "scheduler", "-n", ZODIAC, "--tail=-5"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid --since: 0s (sinceSeconds must be 1 or more upstream)",
            plugin: "airflow",
            args: &["logs", "scheduler", "-n", ZODIAC, "--since", "0s"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid --since-time",
            plugin: "airflow",
            args: &[
                "logs",
                "scheduler",
                "-n",
                ZODIAC,
                "--since-time",
                "yesterday",
            ],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid label value: --username",
            plugin: "argodeploy",
            args: &["list", "-n", "atmosphere", "--username", "j doe"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid label selector: -l",
            plugin: "argodeploy",
            args: &["list", "-n", "atmosphere", "-l", "tier in (web"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "argodeploy delete without names or a filter",
            plugin: "argodeploy",
            args: &["delete", "-n", "atmosphere", "-y"],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "invalid duration: argodeploy delete --older",
            plugin: "argodeploy",
            args: &[
                "delete",
                "-n",
                "atmosphere",
                "--completed",
                "--older",
                "a week",
                "-y",
            ],
            config: Sim,
            exit: 2,
        },
        Case {
            name: "no terminal and no --yes",
            plugin: "airflow",
            args: &["restart", "scheduler", "-n", ZODIAC],
            config: Sim,
            exit: 3,
        },
    ]
}

fn kubeconfig_for(case: &Case, sim: &SimProcess, dir: &Path) -> PathBuf {
    match &case.config {
        Config::Sim => sim.kubeconfig.clone(),
        Config::Viewer => sim.kubeconfig_with_token("viewer", VIEWER_TOKEN),
        Config::WrongToken => sim.kubeconfig_with_token("wrong", "not-a-token-the-sim-knows"),
        Config::File(name, make) => write(dir, name, &make(sim, dir)),
        Config::Missing => dir.join("no-such-dir/kubeconfig"),
    }
}

/// Ports, temporary directories and generated names out, so the lines compare across runs.
fn normalise(line: &str, dir: &Path) -> String {
    let line = line.replace(&dir.display().to_string(), "<dir>");
    let port = regex::Regex::new(r"127\.0\.0\.1:\d{2,5}").unwrap();
    let line = port.replace_all(&line, "127.0.0.1:<port>");
    // The sims' own temporary directories.
    let tmp = regex::Regex::new(r"/[^ ]*/\.tmp[A-Za-z0-9]{6}").unwrap();
    tmp.replace_all(&line, "<tmp>").into_owned()
}

#[test]
fn every_bad_input_gets_one_line_its_exit_code_and_changes_nothing() {
    let sims = Sims {
        astronomer: SimProcess::start("astronomer", &[]),
        artsy: SimProcess::start("artsy", &[]),
        aura: SimProcess::start("aura", &[]),
        atmosphere: SimProcess::start("atmosphere", &[]),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut table = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 20);
    for case in &cases {
        let sim = sims.for_plugin(case.plugin);
        let kubeconfig = kubeconfig_for(case, sim, dir.path());
        let out = run(plugin(case.plugin, dir.path())
            .args(case.args)
            .arg("--kubeconfig")
            .arg(&kubeconfig));
        let stderr = out.stderr.trim();
        // Everything said before the error (the target banner, a plan) is context; the error
        // itself is the last line, and the only one starting with "error:".
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{}: one error line: {stderr}", case.name);
        assert_eq!(
            stderr.lines().last(),
            Some(errors[0]),
            "{}: the error comes last",
            case.name
        );
        assert_eq!(out.code, Some(case.exit), "{}: {stderr}", case.name);
        table.push(format!(
            "{} | kubectl {} | exit {}\n  {}",
            case.name,
            case.plugin,
            case.exit,
            normalise(errors[0], dir.path())
        ));
    }
    table.extend(prompt_cases(&sims, dir.path()));
    assert_eq!(sims.mutations(), 0, "no bad input changed anything");
    insta::assert_snapshot!(table.join("\n"));
}

fn spawn_in_pty(
    name: &str,
    sim: &SimProcess,
    home: &Path,
    args: &[&str],
) -> expectrl::session::OsSession {
    let mut cmd = Command::new(suite_tests::bin(&format!("kubectl-{name}")));
    isolate(&mut cmd, home);
    cmd.args(args).arg("--kubeconfig").arg(&sim.kubeconfig);
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session
}

fn exit_code(session: &expectrl::session::OsSession) -> i32 {
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    }
}

/// The message a pty session printed last (the line that ends in what was found), without
/// terminal styling: a decline is a plain line, an error starts with `error:`.
fn error_line(found: &[u8]) -> String {
    let text = String::from_utf8_lossy(found);
    let ansi = regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    let plain = ansi.replace_all(&text, "");
    let start = plain.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    plain[start..].to_string()
}

/// Cases that need a terminal: a wrong typed confirmation, and Ctrl-C at the prompt.
fn prompt_cases(sims: &Sims, dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let args = ["report-cache", "-n", "apps"];

    let mut s = spawn_in_pty("pvcreset", &sims.aura, dir, &args);
    s.expect("type the deployment's name (report-builder) to confirm")
        .unwrap();
    s.send_line("report-buildr").unwrap();
    let found = s.expect("nothing was changed").unwrap();
    let line = error_line(found.before());
    let line = format!("{line}nothing was changed");
    assert_eq!(exit_code(&s), 3);
    lines.push(format!(
        "wrong typed confirmation (pty) | kubectl pvcreset | exit 3\n  {line}"
    ));

    let mut s = spawn_in_pty("pvcreset", &sims.aura, dir, &args);
    s.expect("to confirm").unwrap();
    s.send(ControlCode::EndOfText).unwrap();
    let found = s.expect("nothing was changed").unwrap();
    let line = format!("{}nothing was changed", error_line(found.before()));
    assert_eq!(exit_code(&s), 3);
    lines.push(format!(
        "Ctrl-C at the prompt (pty) | kubectl pvcreset | exit 3\n  {line}"
    ));
    lines
}

/// A dry run by someone who may not make the change still shows the plan, and warns that the
/// change would be refused (exit 0: nothing was asked of the server but reads).
#[test]
fn a_dry_run_without_the_permissions_shows_the_plan_and_warns() {
    let sim = SimProcess::start("aura", &[]);
    let dir = tempfile::tempdir().unwrap();
    let viewer = sim.kubeconfig_with_token("viewer", VIEWER_TOKEN);
    let out = run(plugin("pvcreset", dir.path())
        .args(["report-cache", "-n", "apps", "--dry-run", "--kubeconfig"])
        .arg(&viewer));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("may not delete persistentvolumeclaims")
            && out.stderr.contains("the change would be refused")
            && out.stderr.contains("dry run: nothing was changed"),
        "{}",
        out.stderr
    );
    assert!(sim.mutating_requests().is_empty());
}
