//! Confirmation prompts: default No, `--yes` skips them, no terminal means refuse (never block).

use std::io::IsTerminal;

use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Input};

use crate::error::{Error, Result};

/// Whether stdin can answer a prompt.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

fn refuse_without_terminal() -> Error {
    Error::Refused("refusing to change anything: no terminal to confirm on; re-run with --yes to proceed without a prompt".to_string())
}

fn declined() -> Error {
    Error::Refused("declined: nothing was changed".to_string())
}

/// While a prompt is up, Ctrl-C means "no": exit 3 with the terminal restored, nothing done.
/// (A terminal in cooked mode turns Ctrl-C into SIGINT instead of a key press.)
struct InterruptMeansNo(Option<tokio::task::JoinHandle<()>>);

impl InterruptMeansNo {
    fn arm() -> Self {
        let handle = tokio::runtime::Handle::try_current().ok().and_then(|rt| {
            // The handler is registered here, before the prompt is drawn: registering it in
            // the spawned task raced a Ctrl-C typed right after the prompt appeared.
            let _entered = rt.enter();
            let interrupted = interrupt_signal()?;
            Some(rt.spawn(async move {
                if interrupted.await {
                    let _ = console::Term::stderr().show_cursor();
                    eprintln!();
                    eprintln!("error: interrupted at the prompt: nothing was changed");
                    std::process::exit(i32::from(crate::error::exit::REFUSED));
                }
            }))
        });
        InterruptMeansNo(handle)
    }
}

/// A future resolving to true on SIGINT, with the handler already installed.
#[cfg(unix)]
fn interrupt_signal() -> Option<impl std::future::Future<Output = bool> + Send + 'static> {
    let mut signal =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok()?;
    Some(async move { signal.recv().await.is_some() })
}

#[cfg(not(unix))]
fn interrupt_signal() -> Option<impl std::future::Future<Output = bool> + Send + 'static> {
    Some(async { tokio::signal::ctrl_c().await.is_ok() })
}

impl Drop for InterruptMeansNo {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

/// Asks a yes/no question on stderr; default No. Ok means proceed.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !stdin_is_terminal() {
        return Err(refuse_without_terminal());
    }
    let _interrupt = InterruptMeansNo::arm();
    let answer = Confirm::with_theme(&ColorfulTheme::default())
        .with_prompt(question)
        .default(false)
        .show_default(true)
        .interact_opt();
    match answer {
        Ok(Some(true)) => Ok(()),
        // No, Enter (the default), Esc/q (None), or Ctrl-C / a closed terminal (Err).
        _ => Err(declined()),
    }
}

/// Makes the operator type `expected` (an object's name) before data is lost.
pub fn confirm_typed(what: &str, expected: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !stdin_is_terminal() {
        return Err(refuse_without_terminal());
    }
    let _interrupt = InterruptMeansNo::arm();
    let typed: std::result::Result<String, _> = Input::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("{what}: type {expected} to confirm"))
        .allow_empty(true)
        .interact_text();
    match typed {
        Ok(t) if t.trim() == expected => Ok(()),
        Ok(t) if t.trim().is_empty() => Err(declined()),
        Ok(t) => Err(Error::Refused(format!(
            "declined: typed {:?}, expected {expected:?}; nothing was changed",
            t.trim()
        ))),
        Err(_) => Err(declined()),
    }
}
