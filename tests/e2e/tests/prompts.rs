//! Confirmation prompts in a real pseudo-terminal: a whole line that acts only on Enter —
//! `y⏎` and `yes⏎` proceed; `n⏎`, `⏎`, `x⏎` and Ctrl-C give exit 3; a single keypress decides
//! nothing, and nothing typed is left over for the shell afterwards; without a terminal and
//! without --yes the command refuses at once with exit 3.

use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::process::Healthcheck;
use expectrl::process::unix::WaitStatus;
use expectrl::{ControlCode, Expect, Session};
use suite_tests::{isolate, run};

fn prompt_command(args: &[&str]) -> Command {
    let home = std::env::temp_dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confirm-prompt"));
    isolate(&mut cmd, &home);
    cmd.args(args);
    cmd
}

fn spawn(args: &[&str]) -> expectrl::session::OsSession {
    let mut session = Session::spawn(prompt_command(args)).expect("spawn in a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

fn exit_code(session: &expectrl::session::OsSession) -> i32 {
    match session.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("did not exit normally: {other:?}"),
    }
}

/// Runs the prompt in bash (whose `read -t` waits for the rest of a line), which reads whatever is left in the terminal after it exits, as
/// the operator's shell would: types `answer` and Enter, returns the prompt's exit code and
/// what reached the shell.
fn answer_then_shell(answer: &str) -> (i32, String) {
    let script = format!(
        "{} ; code=$? ; IFS= read -r -t 2 rest ; echo \"exit=$code leftover=[$rest]\"",
        env!("CARGO_BIN_EXE_confirm-prompt")
    );
    let mut cmd = Command::new("bash");
    isolate(&mut cmd, &std::env::temp_dir());
    cmd.args(["-c", &script]);
    let mut s = Session::spawn(cmd).expect("spawn in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(20)));
    s.expect("Proceed?").unwrap();
    s.send(answer).unwrap();
    s.send("\r").unwrap();
    let found = s
        .expect(expectrl::Regex(r"exit=(\d+) leftover=\[([^\]]*)\]"))
        .unwrap();
    let code: i32 = String::from_utf8_lossy(found.get(1).unwrap())
        .parse()
        .unwrap();
    let leftover = String::from_utf8_lossy(found.get(2).unwrap()).into_owned();
    (code, leftover)
}

#[test]
fn a_whole_line_answers_and_nothing_reaches_the_shell() {
    for (answer, expected) in [
        ("yes", 0),
        ("y", 0),
        ("YES", 0),
        ("n", 3),
        ("", 3),
        ("x", 3),
    ] {
        let (code, leftover) = answer_then_shell(answer);
        assert_eq!(code, expected, "answer {answer:?}");
        assert_eq!(
            leftover, "",
            "answer {answer:?} left {leftover:?} for the shell"
        );
    }
}

#[test]
fn a_single_keypress_decides_nothing() {
    let mut s = spawn(&[]);
    s.expect("Proceed?").unwrap();
    s.send("y").unwrap();
    // Without Enter the prompt still waits: nothing is confirmed.
    assert!(
        s.check("confirmed").unwrap().is_empty(),
        "a keypress confirmed"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.check("confirmed").unwrap().is_empty());
    assert!(s.is_alive().unwrap(), "the prompt still waits for Enter");
    // A change of mind before Enter counts: the whole line is the answer.
    s.send("\x7f").unwrap();
    s.send("n\r").unwrap();
    s.expect("declined: nothing was changed").unwrap();
    assert_eq!(exit_code(&s), 3);
}

#[test]
fn y_and_enter_proceeds() {
    let mut s = spawn(&[]);
    s.expect("Proceed? [y/N]").unwrap();
    s.send("y\r").unwrap();
    s.expect("confirmed").unwrap();
    assert_eq!(exit_code(&s), 0);
}

#[test]
fn enter_takes_the_default_no() {
    let mut s = spawn(&[]);
    s.expect("Proceed?").unwrap();
    s.send("\r").unwrap();
    s.expect("nothing was changed").unwrap();
    assert_eq!(exit_code(&s), 3);
}

#[test]
fn ctrl_c_at_the_prompt_gives_exit_3() {
    let mut s = spawn(&[]);
    s.expect("Proceed?").unwrap();
    s.send(ControlCode::EndOfText).unwrap();
    s.expect("nothing was changed").unwrap();
    assert_eq!(exit_code(&s), 3);
}

#[test]
fn typed_confirmation_needs_the_exact_name() {
    let mut s = spawn(&["--typed", "logs-lunar-nuclear-3725-worker-0"]);
    s.expect("type the claim's name (logs-lunar-nuclear-3725-worker-0) to confirm")
        .unwrap();
    s.send_line("logs-lunar-nuclear-3725-worker-0").unwrap();
    s.expect("confirmed").unwrap();
    assert_eq!(exit_code(&s), 0);

    let mut s = spawn(&["--typed", "logs-lunar-nuclear-3725-worker-0"]);
    s.expect("to confirm").unwrap();
    s.send_line("logs-lunar-nuclear-3725-worker-1").unwrap();
    s.expect("expected \"logs-lunar-nuclear-3725-worker-0\"")
        .unwrap();
    assert_eq!(exit_code(&s), 3);

    let mut s = spawn(&["--typed", "data-0"]);
    s.expect("to confirm").unwrap();
    s.send(ControlCode::EndOfText).unwrap();
    s.expect("nothing was changed").unwrap();
    assert_eq!(exit_code(&s), 3);
}

#[test]
fn no_terminal_and_no_yes_refuses_at_once() {
    for args in [&[][..], &["--typed", "data-0"][..]] {
        let started = Instant::now();
        let out = run(&mut prompt_command(args));
        assert_eq!(out.code, Some(3), "{}", out.stderr);
        assert!(out.stderr.contains("--yes"), "{}", out.stderr);
        assert!(!out.stdout.contains("confirmed"));
        assert!(started.elapsed() < Duration::from_secs(10), "never blocks");
    }
    let out = run(&mut prompt_command(&["--yes"]));
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("confirmed"));
}

fn plain(bytes: &[u8]) -> String {
    let ansi = regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    ansi.replace_all(&String::from_utf8_lossy(bytes), "")
        .into_owned()
}

/// Issue 17 item 7: a wrong typed answer is not drawn as accepted (no tick), a decline is a
/// plain message rather than an `error:`, and Ctrl-C's message starts on a line of its own.
#[test]
fn answers_are_drawn_plainly_and_a_decline_is_not_an_error() {
    let mut s = spawn(&["--typed", "data-0"]);
    s.expect("type the claim's name (data-0) to confirm")
        .unwrap();
    s.send_line("data-1").unwrap();
    let found = s.expect("nothing was changed").unwrap();
    let drawn = plain(found.before());
    assert!(!drawn.contains('✔'), "{drawn:?}");
    assert!(!drawn.contains("error"), "{drawn:?}");
    assert!(drawn.contains("declined: typed \"data-1\""), "{drawn:?}");
    assert_eq!(exit_code(&s), 3);

    let mut s = spawn(&[]);
    s.expect("Proceed?").unwrap();
    s.send("no").unwrap();
    s.send(ControlCode::EndOfText).unwrap();
    let found = s.expect("nothing was changed").unwrap();
    let drawn = plain(found.before());
    let last_line = drawn.rsplit(['\n', '\r']).next().unwrap_or_default();
    assert_eq!(last_line, "interrupted at the prompt: ", "{drawn:?}");
    assert!(!drawn.contains("error"), "{drawn:?}");
    assert_eq!(exit_code(&s), 3);
}
