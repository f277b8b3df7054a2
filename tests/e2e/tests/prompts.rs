//! Confirmation prompts in a real pseudo-terminal: `y` proceeds; `n`, Enter and Ctrl-C give
//! exit 3; without a terminal and without --yes the command refuses at once with exit 3.

use std::process::Command;
use std::time::{Duration, Instant};

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

#[test]
fn y_proceeds() {
    let mut s = spawn(&[]);
    s.expect("Proceed?").unwrap();
    s.send("y").unwrap();
    s.expect("confirmed").unwrap();
    assert_eq!(exit_code(&s), 0);
}

#[test]
fn n_declines_with_exit_3() {
    let mut s = spawn(&[]);
    s.expect("Proceed?").unwrap();
    s.send("n").unwrap();
    s.expect("declined: nothing was changed").unwrap();
    assert_eq!(exit_code(&s), 3);
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
    s.expect("type logs-lunar-nuclear-3725-worker-0 to confirm")
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
