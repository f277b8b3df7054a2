//! Ctrl-C (SIGINT) at any point: stop at once with one clear line and a documented exit code.
//!
//! Every change the suite makes is journaled and idempotent, so stopping between two awaits
//! is as safe as stopping at a step boundary: nothing needs unwinding, only saying. At a
//! prompt, Ctrl-C means "no" (exit 3, nothing changed); before the first change it says that
//! nothing was changed; after it, what was done and how to resume (set with [`changing`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::exit;

/// What was done so far and how to resume, once a command has started changing things.
static NOTE: Mutex<Option<String>> = Mutex::new(None);
/// A confirmation prompt is on the terminal.
static AT_PROMPT: AtomicBool = AtomicBool::new(false);
/// The command only reads a stream (`logs -f`): Ctrl-C is how it ends, not an error.
static READING_ONLY: AtomicBool = AtomicBool::new(false);
/// A prompt was cut by Ctrl-C with the cursor after the typed text: the next line printed
/// must start on a line of its own.
static MID_LINE: AtomicBool = AtomicBool::new(false);
/// The process is about to report its outcome and exit (from the command or the handler).
static EXITING: AtomicBool = AtomicBool::new(false);

/// Claims the last word: true for the first caller only. The command's end and the SIGINT
/// handler race for it, so exactly one of them prints a final line and sets the exit code.
pub(crate) fn claim_exit() -> bool {
    !EXITING.swap(true, Ordering::SeqCst)
}

/// Records, before a change, what an interruption from now on leaves behind and how to
/// finish or undo it (e.g. "stopped after step scaled-down; resume: `…`").
pub fn changing(note: impl Into<String>) {
    *NOTE.lock().unwrap_or_else(|e| e.into_inner()) = Some(note.into());
}

/// Marks the command as a read-only stream: Ctrl-C ends it quietly (exit 130, no line), as it
/// ends `kubectl logs -f`.
pub fn reading_only() {
    READING_ONLY.store(true, Ordering::SeqCst);
}

/// Ctrl-C now ends a read-only stream that changed nothing: say nothing.
fn ends_quietly() -> bool {
    READING_ONLY.load(Ordering::SeqCst) && !AT_PROMPT.load(Ordering::SeqCst) && !in_change()
}

pub(crate) fn cut_mid_line() {
    MID_LINE.store(true, Ordering::SeqCst);
}

/// Ends the line a cut prompt left the cursor on (once).
pub(crate) fn end_cut_line() {
    if MID_LINE.swap(false, Ordering::SeqCst) {
        eprintln!();
    }
}

/// Whether a command has started changing things (a note of how to finish is recorded).
pub fn in_change() -> bool {
    NOTE.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// The message printed when interrupted now.
pub fn message() -> String {
    if AT_PROMPT.load(Ordering::SeqCst) {
        return "interrupted at the prompt: nothing was changed".to_string();
    }
    match NOTE.lock().unwrap_or_else(|e| e.into_inner()).as_deref() {
        Some(note) => format!("interrupted: {note}"),
        None => "interrupted before any change: nothing was changed".to_string(),
    }
}

/// The exit code of an interruption now: 3 at a prompt (declined), else 130.
pub fn exit_code() -> u8 {
    if AT_PROMPT.load(Ordering::SeqCst) {
        exit::REFUSED
    } else {
        exit::INTERRUPTED
    }
}

/// Marks a prompt as shown for its lifetime: Ctrl-C then means "no".
pub(crate) struct AtPrompt;

impl AtPrompt {
    pub(crate) fn show() -> Self {
        AT_PROMPT.store(true, Ordering::SeqCst);
        AtPrompt
    }
}

impl Drop for AtPrompt {
    fn drop(&mut self) {
        AT_PROMPT.store(false, Ordering::SeqCst);
    }
}

/// Installs the SIGINT handler on `runtime` (registered before this returns, so no early
/// Ctrl-C is lost). It runs on a worker thread: the command's thread may be blocked in a
/// prompt or a wait.
pub(crate) fn install(runtime: &tokio::runtime::Runtime) {
    let _entered = runtime.enter();
    let Some(interrupted) = signal() else {
        return;
    };
    runtime.spawn(async move {
        if interrupted.await && claim_exit() {
            // A prompt may have hidden the cursor.
            if ends_quietly() {
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
            let _ = console::Term::stderr().show_cursor();
            MID_LINE.store(false, Ordering::SeqCst);
            eprintln!();
            // At a prompt Ctrl-C means no: a plain answer, not an error.
            if AT_PROMPT.load(Ordering::SeqCst) {
                eprintln!("{}", message());
            } else {
                eprintln!("error: {}", message());
            }
            std::process::exit(i32::from(exit_code()));
        }
    });
}

#[cfg(unix)]
fn signal() -> Option<impl std::future::Future<Output = bool> + Send + 'static> {
    let mut signal =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok()?;
    Some(async move { signal.recv().await.is_some() })
}

#[cfg(not(unix))]
fn signal() -> Option<impl std::future::Future<Output = bool> + Send + 'static> {
    Some(async { tokio::signal::ctrl_c().await.is_ok() })
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the state is process-wide.
    #[test]
    fn the_message_follows_the_prompt_and_the_note() {
        assert_eq!(
            message(),
            "interrupted before any change: nothing was changed"
        );
        assert_eq!(exit_code(), exit::INTERRUPTED);
        {
            let _prompt = AtPrompt::show();
            assert_eq!(message(), "interrupted at the prompt: nothing was changed");
            assert_eq!(exit_code(), exit::REFUSED);
        }
        changing("stopped after step scaled-down; resume: `kubectl pvcreset resume web`");
        assert_eq!(
            message(),
            "interrupted: stopped after step scaled-down; resume: `kubectl pvcreset resume web`"
        );
        assert_eq!(exit_code(), exit::INTERRUPTED);
    }
}
