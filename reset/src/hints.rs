//! The commands a reset prints for the operator to paste: resume, abort, status — each with
//! `-n` and, when one was given, `--context`.

use std::sync::OnceLock;

use shared::shell::word as shell_word;
use shared::{Error, GlobalArgs};

/// `--context` as given on the command line, for the commands the hints print.
static CONTEXT: OnceLock<String> = OnceLock::new();

/// Remembers `--context` (when given) so every printed command can be pasted as it is.
pub fn remember_context(global: &GlobalArgs) {
    if let Some(context) = &global.context {
        let _ = CONTEXT.set(context.clone());
    }
}

/// `kubectl pvcreset VERB OWNER -n NS [--context C]`, ready to paste.
pub fn command(verb: &str, owner: &str, namespace: &str) -> String {
    let context = CONTEXT
        .get()
        .map(|c| format!(" --context {}", shell_word(c)))
        .unwrap_or_default();
    format!(
        "kubectl pvcreset {verb} {owner} -n {}{context}",
        shell_word(namespace)
    )
}

/// Both ways out of a recorded reset, as commands to paste.
pub fn resume_abort_commands(owner: &str, namespace: &str) -> String {
    format!(
        "finish it with `{}` or undo it with `{}` (abort works while its claims still exist)",
        command("resume", owner, namespace),
        command("abort", owner, namespace)
    )
}

/// After the journal exists, every failure says how to finish.
pub fn with_resume_hint(e: Error, owner: &str, namespace: &str) -> Error {
    e.with_hint(&format!("; {}", resume_hint(owner, namespace)))
}

/// How to finish or undo a reset recorded on `owner`.
pub fn resume_hint(owner: &str, namespace: &str) -> String {
    format!(
        "the reset is recorded on {owner}: finish it with `{}` (or `abort` it while the claims still exist)",
        command("resume", owner, namespace)
    )
}
