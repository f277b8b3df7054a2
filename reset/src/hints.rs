//! The commands a reset prints for the operator to paste: resume, abort, status — each with
//! `-n` and the flags that chose the cluster (`--kubeconfig`, `--context`, … when given).

use std::sync::OnceLock;

use shared::shell::word as shell_word;
use shared::{Error, GlobalArgs};

/// The cluster-choosing flags given on the command line, for the commands the hints print
/// (the hints are built deep in the engine, far from the command line).
static GIVEN_FLAGS: OnceLock<String> = OnceLock::new();

/// Remembers the flags that chose the cluster (`shared::kubeconfig::given_flags`) so every
/// printed command can be pasted as it is.
pub fn remember_scope(global: &GlobalArgs) {
    let _ = GIVEN_FLAGS.set(shared::kubeconfig::given_flags(global));
}

/// `kubectl pvcreset VERB OWNER -n NS [--kubeconfig K] [--context C] …`, ready to paste.
pub fn command(verb: &str, owner: &str, namespace: &str) -> String {
    let flags = GIVEN_FLAGS.get().map(String::as_str).unwrap_or_default();
    format!(
        "kubectl pvcreset {verb} {owner} -n {}{flags}",
        shell_word(namespace)
    )
}

/// `kubectl pvcreset status -n NS [flags]`, ready to paste.
pub fn status_command(namespace: &str) -> String {
    let flags = GIVEN_FLAGS.get().map(String::as_str).unwrap_or_default();
    format!(
        "kubectl pvcreset status -n {}{flags}",
        shell_word(namespace)
    )
}

/// The cluster-choosing flags given (`--context`, `--kubeconfig`, …), with a leading space.
pub fn given_flags() -> &'static str {
    GIVEN_FLAGS.get().map(String::as_str).unwrap_or_default()
}

/// `kubectl ARGS -n NS [flags]`: a kubectl command about the same namespace and cluster.
pub fn kubectl(args: &str, namespace: &str) -> String {
    let flags = GIVEN_FLAGS.get().map(String::as_str).unwrap_or_default();
    format!("kubectl {args} -n {}{flags}", shell_word(namespace))
}

/// `kubectl pvcreset doctor -n NS [flags]`, named when permissions are missing.
pub fn doctor_command(namespace: &str) -> String {
    let flags = GIVEN_FLAGS.get().map(String::as_str).unwrap_or_default();
    format!(
        "kubectl pvcreset doctor -n {}{flags}",
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
