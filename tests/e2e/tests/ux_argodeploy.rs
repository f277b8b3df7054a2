//! Issue 17 for `kubectl argodeploy`, through the real binary against kube-sim's atmosphere
//! scenario: every printed command works as printed (with `--kubeconfig` and with
//! `--context`), `-o` offers exactly what works, default tables fit 120 columns, the same
//! words as the other plugins (namespace named when empty, short instance ids, colour on a
//! terminal only, results on stdout), `resubmit --wait` progress, typos of subcommands, and
//! examples in every help.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use suite_tests::{Run, SimProcess, paste, plugin, run};

const NS: &str = "atmosphere";
const FAILED_WF: &str = "deploy-e5121482-wwmms";
const RUNNING_WF: &str = "deploy-f3f49249-njqlp";
const INSTANCE: &str = "e5121482-3929-4d22-a255-accb1a466884";

/// How the operator pointed the plugin at the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    /// `--kubeconfig <the sim's file>`.
    Kubeconfig,
    /// `--context kube-sim`, with `$KUBECONFIG` naming a file whose current context is an
    /// unreachable cluster: a printed command without `--context` fails when pasted.
    Context,
}

const AIMS: [Aim; 2] = [Aim::Kubeconfig, Aim::Context];

struct Bench {
    sim: SimProcess,
    home: tempfile::TempDir,
    /// The sim's contexts plus a current one that reaches nothing; also `$KUBECONFIG` of every
    /// paste, so a pasted command works only if it carries its own cluster-choosing flags.
    elsewhere: PathBuf,
}

/// `base` with an extra, current context `elsewhere` that points at a closed port.
fn with_current_context_elsewhere(base: &Path, dir: &Path, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(base).unwrap();
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let cluster: serde_yaml::Value = serde_yaml::from_str(
        "name: elsewhere\ncluster:\n  server: https://127.0.0.1:1\n  insecure-skip-tls-verify: true",
    )
    .unwrap();
    let context: serde_yaml::Value = serde_yaml::from_str(
        "name: elsewhere\ncontext:\n  cluster: elsewhere\n  user: kube-sim\n  namespace: default",
    )
    .unwrap();
    doc["clusters"].as_sequence_mut().unwrap().push(cluster);
    doc["contexts"].as_sequence_mut().unwrap().push(context);
    doc["current-context"] = serde_yaml::Value::String("elsewhere".into());
    let path = dir.join(name);
    std::fs::write(&path, serde_yaml::to_string(&doc).unwrap()).unwrap();
    path
}

impl Bench {
    fn new(extra: &[&str]) -> Bench {
        let sim = SimProcess::start("atmosphere", extra);
        let home = tempfile::tempdir().unwrap();
        let elsewhere =
            with_current_context_elsewhere(&sim.kubeconfig, home.path(), "kubeconfig-elsewhere");
        Bench {
            sim,
            home,
            elsewhere,
        }
    }

    fn command(&self, aim: Aim, kubeconfig: Option<&Path>, args: &[&str]) -> Command {
        let mut cmd = plugin("argodeploy", self.home.path());
        cmd.args(args);
        match aim {
            Aim::Kubeconfig => {
                cmd.arg("--kubeconfig")
                    .arg(kubeconfig.unwrap_or(&self.sim.kubeconfig));
            }
            Aim::Context => {
                cmd.env("KUBECONFIG", kubeconfig.unwrap_or(&self.elsewhere))
                    .args(["--context", "kube-sim"]);
            }
        }
        cmd
    }

    fn run(&self, aim: Aim, args: &[&str]) -> Run {
        run(&mut self.command(aim, None, args))
    }

    /// Pastes `command` into a shell whose `$KUBECONFIG` points elsewhere: it must carry
    /// `-n` and the flags that chose the cluster.
    fn paste(&self, command: &str) -> Run {
        paste(command, &self.elsewhere, self.home.path())
    }
}

/// Every command quoted in backticks in `text`.
fn quoted_commands(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.starts_with("kubectl argodeploy"))
        .map(String::from)
        .collect()
}

/// The one command quoted in `text`, checked to carry the flags of `aim`.
fn printed_command(text: &str, aim: Aim) -> String {
    let commands = quoted_commands(text);
    assert_eq!(commands.len(), 1, "one command to run in {text:?}");
    let command = commands[0].clone();
    match aim {
        Aim::Kubeconfig => assert!(command.contains(" --kubeconfig "), "{command}"),
        Aim::Context => assert!(command.contains(" --context kube-sim"), "{command}"),
    }
    command
}

fn wide_lines(text: &str, limit: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().count() > limit)
        .map(|l| format!("{} columns: {l}", l.chars().count()))
        .collect()
}

/// Item 1: the "not found", "empty" and "look elsewhere" lines name commands that work as
/// printed, both with `--kubeconfig` and with `--context`.
#[test]
fn read_only_hints_work_as_printed_with_kubeconfig_or_context() {
    let bench = Bench::new(&[]);
    for aim in AIMS {
        // An unknown workflow: the list of the namespace.
        let out = bench.run(aim, &["get", "deploy-nope", "-n", NS]);
        assert_eq!(out.code, Some(1), "{aim:?}: {}", out.stderr);
        let command = printed_command(&out.stderr, aim);
        assert!(command.contains(" -n atmosphere"), "{command}");
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        assert!(
            pasted.stdout.contains(FAILED_WF),
            "{command}: {}",
            pasted.stdout
        );

        // The controller instance given: the list shows that controller's workflows too.
        let out = bench.run(
            aim,
            &[
                "get",
                "deploy-nope",
                "-n",
                NS,
                "--instanceid",
                "atmosphere-canary",
            ],
        );
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        let command = printed_command(&out.stderr, aim);
        assert!(
            command.contains("--instanceid atmosphere-canary"),
            "{command}"
        );
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        assert!(
            pasted.stdout.contains("deploy-7dabe929-wtfrv") && !pasted.stdout.contains(FAILED_WF),
            "{command}: {}",
            pasted.stdout
        );

        // A name one typo away from a workflow: that workflow is suggested.
        let out = bench.run(aim, &["logs", "deploy-e5121482-wwmsm", "-n", NS]);
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("did you mean {FAILED_WF}?")),
            "{}",
            out.stderr
        );

        // An empty namespace: it is named, and the -A command repeats the filters.
        let out = bench.run(aim, &["list", "--username", "mlee"]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        assert!(
            out.stderr
                .contains("No workflows found in namespace default"),
            "{}",
            out.stderr
        );
        let command = printed_command(&out.stderr, aim);
        assert!(
            command.contains(" -A") && command.contains("--username mlee"),
            "{command}"
        );
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        let rows: Vec<&str> = pasted.stdout.lines().skip(1).collect();
        assert!(!rows.is_empty(), "{command}: {}", pasted.stdout);
        assert!(
            rows.iter().all(|r| r.contains(" mlee ")),
            "{command}: {}",
            pasted.stdout
        );

        // find in the wrong namespace: the same find in every namespace.
        let out = bench.run(aim, &["find", "e5121482"]);
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        let command = printed_command(&out.stderr, aim);
        assert!(command.contains(" -A"), "{command}");
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        assert!(
            pasted.stdout.contains(&format!("Newest: {FAILED_WF}")),
            "{command}: {}",
            pasted.stdout
        );

        // find of an instance that exists nowhere: the list of every namespace.
        let out = bench.run(aim, &["find", "0badcafe", "-A"]);
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        let command = printed_command(&out.stderr, aim);
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        assert!(
            pasted.stdout.contains(FAILED_WF),
            "{command}: {}",
            pasted.stdout
        );
    }
    assert!(bench.sim.mutating_requests().is_empty());
}

/// Item 1: the next steps after a resubmit, a stop and a terminate work as printed.
#[test]
fn next_steps_after_a_change_work_as_printed() {
    let bench = Bench::new(&[]);
    for aim in AIMS {
        let out = bench.run(aim, &["resubmit", FAILED_WF, "-n", NS, "-y"]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let name = out.stdout.trim().to_string();
        let command = printed_command(&out.stderr, aim);
        assert!(
            command.starts_with(&format!("kubectl argodeploy logs {name} -f -n atmosphere")),
            "{command}"
        );
        // It follows until the workflow completes: end it, as the controller would.
        set_status(
            &bench.sim,
            &name,
            &serde_json::json!({"phase": "Succeeded"}),
        );
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);

        for verb in ["stop", "terminate"] {
            let out = bench.run(aim, &[verb, RUNNING_WF, "-n", NS, "-y"]);
            assert_eq!(out.code, Some(0), "{}", out.stderr);
            let command = printed_command(&out.stderr, aim);
            assert!(
                command.starts_with(&format!(
                    "kubectl argodeploy get {RUNNING_WF} -n atmosphere"
                )),
                "{command}"
            );
            let pasted = bench.paste(&command);
            assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
            assert!(pasted.stdout.contains(RUNNING_WF), "{}", pasted.stdout);
        }
    }
}

/// Item 1: the preflight's doctor command (a user who may not create workflows) works as
/// printed, for the namespace of the change.
#[test]
fn the_preflights_doctor_command_works_as_printed() {
    let bench = Bench::new(&[]);
    let viewer = bench
        .sim
        .kubeconfig_with_token("viewer", "kube-sim-viewer-token");
    let viewer_elsewhere =
        with_current_context_elsewhere(&viewer, bench.home.path(), "viewer-elsewhere");
    for aim in AIMS {
        let kubeconfig = match aim {
            Aim::Kubeconfig => &viewer,
            Aim::Context => &viewer_elsewhere,
        };
        let out = run(&mut bench.command(
            aim,
            Some(kubeconfig),
            &["resubmit", FAILED_WF, "-n", NS, "-y"],
        ));
        assert_eq!(out.code, Some(1), "{aim:?}: {}", out.stderr);
        let command = printed_command(&out.stderr, aim);
        assert!(
            command.starts_with("kubectl argodeploy doctor -n atmosphere"),
            "{command}"
        );
        let pasted = paste(&command, &viewer_elsewhere, bench.home.path());
        // doctor reaches the cluster as the viewer and reports the missing permission.
        assert!(
            pasted.stdout.contains("atmosphere") && pasted.stdout.contains("create"),
            "{command}: {}{}",
            pasted.stdout,
            pasted.stderr
        );
        assert!(
            !pasted.stderr.contains("127.0.0.1:1"),
            "{command} went elsewhere: {}",
            pasted.stderr
        );
    }
    assert!(bench.sim.mutating_requests().is_empty());
}

/// Runs `args` with the sim holding the matching request for 3 s, interrupts it (Ctrl-C)
/// once `ready` has appeared on stderr, and returns everything it printed there.
fn interrupted(bench: &Bench, aim: Aim, args: &[&str], ready: &str) -> String {
    let mut child = bench
        .command(aim, None, args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref().map_while(Result::ok) {
        let at = line.contains(ready);
        seen.push(line);
        if at {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(800));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", seen.join("\n"));
    // Let the held request land before the printed command looks.
    std::thread::sleep(Duration::from_secs(3));
    seen.join("\n")
}

/// Item 1: the Ctrl-C notes of stop and resubmit name commands that work as printed.
#[test]
fn interrupt_notes_work_as_printed() {
    let bench = Bench::new(&[]);
    for aim in AIMS {
        let path = format!("/apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows/{RUNNING_WF}");
        bench.sim.slow_request("PATCH", &path, 0, 3000);
        let stderr = interrupted(
            &bench,
            aim,
            &["stop", RUNNING_WF, "-n", NS, "-y"],
            "Stop workflow",
        );
        let command = printed_command(&stderr, aim);
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        assert!(pasted.stdout.contains(RUNNING_WF), "{}", pasted.stdout);

        let path = format!("/apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows");
        bench.sim.slow_request("POST", &path, 0, 3000);
        let stderr = interrupted(
            &bench,
            aim,
            &["resubmit", FAILED_WF, "-n", NS, "-y"],
            "Resubmit",
        );
        let command = printed_command(&stderr, aim);
        assert!(command.contains("--prefix"), "{command}");
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
    }
}

fn set_status(sim: &SimProcess, name: &str, status: &Value) {
    let patch = serde_json::json!({ "status": status }).to_string();
    let out = sim.kubectl(&[
        "patch", "workflow", name, "-n", NS, "--type", "merge", "-p", &patch,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// Items 1 and 9: `resubmit --wait` shows the phase and the running step while it waits,
/// prints the new name and its end on stdout, and its "shows why" (failure) and "shows where
/// it is" (timeout) commands work as printed.
#[test]
fn resubmit_wait_shows_progress_and_its_hints_work_as_printed() {
    let bench = Bench::new(&[]);
    for aim in AIMS {
        let mut child = bench
            .command(
                aim,
                None,
                &[
                    "resubmit",
                    FAILED_WF,
                    "-n",
                    NS,
                    "-y",
                    "--wait",
                    "--timeout",
                    "60s",
                ],
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let name = stdout.next().unwrap().unwrap();
        assert!(name.starts_with("deploy-e5121482-"), "{name}");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let node = |step: &str, phase: &str| {
            serde_json::json!({"id": format!("{name}-{step}"), "name": format!("{name}[0].{step}"),
                "displayName": step, "type": "Pod", "phase": phase,
                "startedAt": "2026-11-20T08:00:00Z"})
        };
        set_status(
            &bench.sim,
            &name,
            &serde_json::json!({"phase": "Running", "startedAt": "2026-11-20T08:00:00Z", "nodes": {
                format!("{name}-prepare"): node("prepare", "Succeeded"),
                format!("{name}-deploy-playbook"): node("deploy-playbook", "Running"),
            }}),
        );
        let progress = format!("waiting for {name}: Running: step deploy-playbook (1 step done)");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while !seen.contains(&progress) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {progress:?} in {seen:#?}"),
            }
        }
        set_status(
            &bench.sim,
            &name,
            &serde_json::json!({"phase": "Failed", "finishedAt": "2026-11-20T08:10:00Z"}),
        );
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{seen:#?}");
        let rest: Vec<String> = stdout.map_while(Result::ok).collect();
        assert_eq!(rest, [format!("{name} Failed")], "the end on stdout");
        // Everything to the end of stderr (the reader ends with the process).
        seen.extend(rx.iter());
        let text = seen.join("\n");
        let command = printed_command(&text, aim);
        assert!(
            command.starts_with(&format!("kubectl argodeploy logs {name} -n atmosphere")),
            "{command}"
        );
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);

        // Nothing moves: the timeout names the command that shows where it is.
        let out = bench.run(
            aim,
            &[
                "resubmit",
                FAILED_WF,
                "-n",
                NS,
                "-y",
                "--wait",
                "--timeout",
                "3s",
            ],
        );
        assert_eq!(out.code, Some(4), "{}", out.stderr);
        let name = out.stdout.lines().next().unwrap().to_string();
        let command = printed_command(&out.stderr, aim);
        assert!(
            command.starts_with(&format!("kubectl argodeploy get {name} -n atmosphere")),
            "{command}"
        );
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
        assert!(pasted.stdout.contains(&name), "{}", pasted.stdout);
    }
}

/// Item 9 on a terminal: the spinner's line names the phase and the running step.
#[test]
fn resubmit_wait_progress_on_a_terminal_names_the_running_step() {
    use expectrl::{Eof, Expect, Regex, Session};
    let bench = Bench::new(&[]);
    let mut cmd = bench.command(
        Aim::Kubeconfig,
        None,
        &[
            "resubmit",
            FAILED_WF,
            "-n",
            NS,
            "-y",
            "--wait",
            "--timeout",
            "60s",
        ],
    );
    cmd.env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session
        .expect(Regex(r"\n(deploy-e5121482-[a-z0-9-]+)\r?\n"))
        .expect("the new workflow's name");
    let name = String::from_utf8_lossy(found.get(1).unwrap()).into_owned();
    let node = |step: &str, phase: &str| {
        serde_json::json!({"id": format!("{name}-{step}"), "name": format!("{name}[0].{step}"),
            "displayName": step, "type": "Pod", "phase": phase,
            "startedAt": "2026-11-20T08:00:00Z"})
    };
    set_status(
        &bench.sim,
        &name,
        &serde_json::json!({"phase": "Running", "nodes": {
            format!("{name}-prepare"): node("prepare", "Succeeded"),
            format!("{name}-deploy-playbook"): node("deploy-playbook", "Running"),
        }}),
    );
    session
        .expect(format!(
            "waiting for {name}: Running: step deploy-playbook (1 step done)"
        ))
        .expect("the spinner names the running step");
    set_status(
        &bench.sim,
        &name,
        &serde_json::json!({"phase": "Succeeded"}),
    );
    let rest = session.expect(Eof).expect("the end");
    let rest = String::from_utf8_lossy(rest.as_bytes()).into_owned();
    assert!(rest.contains(&format!("{name} Succeeded")), "{rest:?}");
}

/// Normalised help text: clap wraps long lines.
fn help(bench: &Bench, sub: &str) -> String {
    let out = run(plugin("argodeploy", bench.home.path()).args([sub, "--help"]));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Item 4: list-like commands take table, wide, json, yaml and name, plan-like ones table,
/// json and yaml; help lists exactly those, each works, and the others are usage errors
/// before any change.
#[test]
fn output_formats_are_exactly_what_help_lists_and_all_of_them_work() {
    let bench = Bench::new(&[]);
    let aim = Aim::Kubeconfig;
    let lists: [(&str, Vec<&str>); 3] = [
        ("list", vec!["list", "-n", NS]),
        ("get", vec!["get", FAILED_WF, "-n", NS]),
        ("find", vec!["find", "e5121482", "-n", NS]),
    ];
    for (sub, args) in &lists {
        assert!(
            help(&bench, sub).contains("[possible values: table, wide, json, yaml, name]"),
            "{sub}: {}",
            help(&bench, sub)
        );
        let with = |format: &str| {
            let mut all = args.clone();
            all.extend(["-o", format]);
            let out = bench.run(aim, &all);
            assert_eq!(out.code, Some(0), "{sub} -o {format}: {}", out.stderr);
            assert!(!out.stdout.is_empty(), "{sub} -o {format}");
            out.stdout
        };
        let table = with("table");
        let wide = with("wide");
        assert!(
            wide.lines().next().unwrap().len() > table.lines().next().unwrap().len()
                || wide.len() > table.len(),
            "{sub}: wide shows more"
        );
        let json: Value = serde_json::from_str(&with("json")).expect("json");
        let yaml: Value = serde_yaml::from_str(&with("yaml")).expect("yaml");
        assert_eq!(json, yaml, "{sub}: the same data");
        let names = with("name");
        assert!(
            names
                .lines()
                .all(|l| l.starts_with("workflow.argoproj.io/")),
            "{sub}: {names}"
        );
        // What -o name prints is a workflow argument.
        let first = names.lines().next().unwrap();
        let got = bench.run(aim, &["get", first, "-n", NS, "-o", "name"]);
        assert_eq!(got.stdout.trim(), first, "{}", got.stderr);
    }
    for sub in ["resubmit", "stop", "terminate"] {
        assert!(
            help(&bench, sub).contains("[possible values: table, json, yaml]"),
            "{sub}: {}",
            help(&bench, sub)
        );
        let wf = if sub == "resubmit" {
            FAILED_WF
        } else {
            RUNNING_WF
        };
        for format in ["wide", "name"] {
            let out = bench.run(aim, &[sub, wf, "-n", NS, "-y", "-o", format]);
            assert_eq!(out.code, Some(2), "{sub} -o {format}: {}", out.stderr);
        }
        for format in ["table", "json", "yaml"] {
            let out = bench.run(aim, &[sub, wf, "-n", NS, "--dry-run", "-o", format]);
            assert_eq!(out.code, Some(0), "{sub} -o {format}: {}", out.stderr);
            if format != "table" {
                let plan: Value = serde_yaml::from_str(&out.stdout).expect("a plan");
                assert!(plan.is_object(), "{sub}: {plan}");
            }
        }
    }
    assert!(bench.sim.mutating_requests().is_empty());
    // resubmit -o json: stdout is one JSON document, the plan, naming the workflow created.
    let out = bench.run(aim, &["resubmit", FAILED_WF, "-n", NS, "-y", "-o", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let name = plan["name"].as_str().unwrap();
    assert_eq!(plan["workflow"]["metadata"]["name"], name);
    let created = bench.sim.get_json(&["workflow", name, "-n", NS]);
    assert_eq!(
        created["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"],
        FAILED_WF
    );
    // stop -o yaml: the plan as YAML, then the patch.
    let out = bench.run(aim, &["stop", RUNNING_WF, "-n", NS, "-y", "-o", "yaml"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let plan: Value = serde_yaml::from_str(&out.stdout).expect("one YAML document");
    assert_eq!(plan["shutdown"], "Stop");
    let wf = bench.sim.get_json(&["workflow", RUNNING_WF, "-n", NS]);
    assert_eq!(wf["spec"]["shutdown"], "Stop");
}

/// Item 5: every default table argodeploy prints for the scenario (which holds the argo
/// controller's fixture workflows too) fits 120 columns; the message moved to -o wide.
#[test]
fn default_tables_fit_120_columns() {
    let bench = Bench::new(&[]);
    let aim = Aim::Kubeconfig;
    let too_wide = std::cell::RefCell::new(Vec::new());
    let check = |args: &[&str]| {
        let out = bench.run(aim, args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        assert!(!out.stdout.is_empty(), "{args:?}");
        // The table: find goes on with the newest workflow's messages and log lines, which
        // are prose and log content, not columns.
        let table = out.stdout.split("\n\n").next().unwrap_or_default();
        too_wide.borrow_mut().extend(
            wide_lines(table, 120)
                .into_iter()
                .map(|l| format!("{args:?}: {l}")),
        );
        out.stdout
    };
    let all = check(&["list", "-A"]);
    check(&["list", "-n", NS]);
    let json = bench.run(aim, &["list", "-A", "-o", "json"]);
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    let rows = rows["items"].as_array().unwrap();
    assert!(rows.len() > 10, "the scenario's workflows: {all}");
    let mut instances: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["instance"].as_str())
        .filter(|i| !i.is_empty())
        .collect();
    instances.sort();
    instances.dedup();
    for instance in instances {
        check(&["find", instance, "-n", NS]);
        check(&["find", instance, "-A"]);
    }
    // get: argo's tree, its TEMPLATE column left to -o wide. (A workflow whose node status is
    // offloaded has no tree: get refuses it.)
    let mut trees = 0;
    for row in rows {
        let name = row["name"].as_str().unwrap();
        let out = bench.run(aim, &["get", name, "-n", NS]);
        if out.code == Some(1) && out.stderr.contains("offloaded") {
            continue;
        }
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
        trees += 1;
        too_wide.borrow_mut().extend(
            wide_lines(&out.stdout, 120)
                .into_iter()
                .map(|l| format!("get {name}: {l}")),
        );
    }
    assert!(trees > 10, "{trees} trees");
    // The plans of the changes (stderr) fit too.
    for args in [
        &["resubmit", FAILED_WF, "-n", NS, "--dry-run"][..],
        &["resubmit", FAILED_WF, "-n", NS, "--dry-run", "--memoized"],
        &["stop", RUNNING_WF, "-n", NS, "--dry-run"],
        &["terminate", RUNNING_WF, "-n", NS, "--dry-run"],
    ] {
        let out = bench.run(aim, args);
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
        too_wide.borrow_mut().extend(
            wide_lines(&out.stderr, 120)
                .into_iter()
                .map(|l| format!("{args:?}: {l}")),
        );
    }
    let wide = bench.run(aim, &["get", FAILED_WF, "-n", NS, "-o", "wide"]);
    assert!(wide.stdout.contains("TEMPLATE"), "{}", wide.stdout);
    let too_wide = too_wide.into_inner();
    assert!(too_wide.is_empty(), "{too_wide:#?}");
    let wide = bench.run(aim, &["list", "-A", "-o", "wide"]);
    assert!(wide.stdout.lines().next().unwrap().contains("MESSAGE"));
    assert!(wide.stdout.contains("child 'deploy-playbook' failed"));
}

/// Item 13: find takes the short id of the workflows' names (or a workflow's name); an
/// ambiguous one is a usage error; nothing says `(s)`.
#[test]
fn find_takes_the_short_instance_id_of_the_workflow_names() {
    let bench = Bench::new(&[]);
    let aim = Aim::Kubeconfig;
    let full = bench.run(aim, &["find", INSTANCE, "-n", NS]);
    assert_eq!(full.code, Some(0), "{}", full.stderr);
    for short in [
        "e5121482",
        "E5121482",
        "e5121482-3929",
        "deploy-e5121482-p8q6v",
    ] {
        let out = bench.run(aim, &["find", short, "-n", NS]);
        assert_eq!(out.code, Some(0), "{short}: {}", out.stderr);
        assert_eq!(out.stdout, full.stdout, "{short}");
    }
    assert!(
        full.stdout
            .starts_with(&format!("Workflows of instance {INSTANCE}")),
        "{}",
        full.stdout
    );
    assert!(!full.stdout.contains("(s)"), "{}", full.stdout);
    let json = bench.run(aim, &["list", "-n", NS, "-o", "json"]);
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    // A prefix shared by two instances names neither.
    let instances: Vec<String> = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["instance"].as_str().map(String::from))
        .collect();
    let shared_prefix = instances
        .iter()
        .flat_map(|a| instances.iter().map(move |b| (a, b)))
        .filter(|(a, b)| a != b && a.as_bytes()[0] == b.as_bytes()[0])
        .map(|(a, _)| a[..1].to_string())
        .next()
        .expect("two instances starting alike");
    let out = bench.run(aim, &["find", &shared_prefix, "-n", NS]);
    assert_eq!(out.code, Some(2), "{shared_prefix}: {}", out.stderr);
    assert!(
        out.stderr.contains("give more of the UUID"),
        "{}",
        out.stderr
    );
    assert!(bench.sim.mutating_requests().is_empty());
}

/// Runs the plugin in a pseudo-terminal (colour allowed) and returns what it printed.
fn on_a_terminal(bench: &Bench, args: &[&str]) -> String {
    use expectrl::{Eof, Expect, Session};
    let mut cmd = bench.command(Aim::Kubeconfig, None, args);
    cmd.env_remove("NO_COLOR").env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect(Eof).expect("the end of the output");
    String::from_utf8_lossy(found.as_bytes()).into_owned()
}

/// Item 13: Failed and Error in red on a terminal, never in JSON/YAML nor with --no-color;
/// a mutating command's result line on stdout, its plan and progress on stderr.
#[test]
fn failures_are_red_on_a_terminal_only_and_results_go_to_stdout() {
    let bench = Bench::new(&[]);
    let red_error = "\u{1b}[31mError\u{1b}[39m";
    let table = on_a_terminal(&bench, &["list", "-n", NS]);
    assert!(table.contains(red_error), "{table:?}");
    assert!(!table.contains("\u{1b}[31mRunning"), "{table:?}");
    let found = on_a_terminal(&bench, &["find", "e5121482", "-n", NS]);
    assert!(found.contains(&format!("— {red_error}")), "{found:?}");
    for args in [
        &["list", "-n", NS, "-o", "json"][..],
        &["list", "-n", NS, "-o", "yaml"],
        &["list", "-n", NS, "--no-color"],
    ] {
        let text = on_a_terminal(&bench, args);
        assert!(!text.contains('\u{1b}'), "{args:?}: {text:?}");
    }
    let plain = bench.run(Aim::Kubeconfig, &["list", "-n", NS]);
    assert!(!plain.stdout.contains('\u{1b}'), "not a terminal");

    let out = bench.run(Aim::Kubeconfig, &["stop", RUNNING_WF, "-n", NS, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, format!("workflow {RUNNING_WF} stopped\n"));
    assert!(
        out.stderr.contains("Stop workflow"),
        "the plan: {}",
        out.stderr
    );
    assert!(
        !out.stderr
            .contains(&format!("workflow {RUNNING_WF} stopped")),
        "{}",
        out.stderr
    );
}

/// Item 6: a subcommand's typo, at the top or where a workflow or instance goes, gets "did
/// you mean" and changes nothing.
#[test]
fn typos_of_subcommands_get_did_you_mean() {
    let bench = Bench::new(&[]);
    let aim = Aim::Kubeconfig;
    let out = bench.run(aim, &["lsit", "-n", NS]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("'list'"), "{}", out.stderr);
    for args in [
        &["get", "lsit", "-n", NS][..],
        &["resubmit", "lsit", "-n", NS, "-y"],
        &["stop", "lits", "-n", NS, "-y"],
        &["find", "lsit", "-n", NS],
    ] {
        let out = bench.run(aim, args);
        assert_eq!(out.code, Some(1), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("did you mean `kubectl argodeploy list"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        let command = printed_command(&out.stderr, aim);
        let pasted = bench.paste(&command);
        assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
    }
    // A step that is not the workflow's: said, with the close one, not an empty output.
    let out = bench.run(aim, &["logs", FAILED_WF, "deploy-playbok", "-n", NS]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean deploy-playbook?"),
        "{}",
        out.stderr
    );
    let out = bench.run(aim, &["stop", "terminat", "-n", NS, "-y"]);
    assert!(
        out.stderr
            .contains("did you mean `kubectl argodeploy terminate --help"),
        "{}",
        out.stderr
    );
    assert!(bench.sim.mutating_requests().is_empty());
}

/// Item 14: every subcommand's help ends with examples, the man pages carry them, and each
/// example works as printed against the scenario (a change with `--dry-run`; `logs -f`, which
/// follows until the workflow ends, is left out).
#[test]
fn every_help_has_examples_that_work_as_printed() {
    let bench = Bench::new(&[]);
    let mut ran = 0;
    for sub in [
        "",
        "list",
        "find",
        "get",
        "logs",
        "resubmit",
        "stop",
        "terminate",
    ] {
        let args: Vec<&str> = [sub, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let out = run(plugin("argodeploy", bench.home.path()).args(&args));
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let examples = out
            .stdout
            .split("\nExamples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{sub}: no examples in {}", out.stdout));
        let page_name = if sub.is_empty() {
            "kubectl-argodeploy.1".to_string()
        } else {
            format!("kubectl-argodeploy-{sub}.1")
        };
        let man = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../man")
            .join(page_name);
        let page =
            std::fs::read_to_string(&man).unwrap_or_else(|e| panic!("{}: {e}", man.display()));
        assert!(page.contains("Examples:"), "{}", man.display());
        // A command continued on the next line (`\`) is pasted whole, as a shell reads it.
        let examples = examples.replace(" \\\n", " ");
        for command in examples
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("kubectl argodeploy "))
        {
            if command.contains(" -f ") {
                continue;
            }
            let changes = ["resubmit", "stop", "terminate"]
                .iter()
                .any(|c| command.starts_with(&format!("kubectl argodeploy {c} ")));
            let command = if changes && !command.contains("--dry-run") {
                format!("{command} --dry-run")
            } else {
                command.to_string()
            };
            let pasted = paste(&command, &bench.sim.kubeconfig, bench.home.path());
            assert_eq!(pasted.code, Some(0), "{command}: {}", pasted.stderr);
            ran += 1;
        }
    }
    assert!(ran >= 20, "{ran} examples run");
    assert!(bench.sim.mutating_requests().is_empty());
}
