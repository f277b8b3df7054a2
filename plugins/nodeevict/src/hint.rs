//! What nodeevict tells the operator: the commands it prints to paste (resume, abort,
//! status, uncordon, `kubectl get nodes` — each with the cluster-choosing flags given), how
//! to finish or undo a drain that stops, and in a run of several nodes how to drain the ones
//! not started yet. A leaf module: the steps (execute, journal) and the commands (drain,
//! resume, status) all print it.

use std::sync::OnceLock;

use shared::shell::word;
use shared::{Error, GlobalArgs};

/// The cluster-choosing flags given on the command line (`--kubeconfig`, `--context`, …):
/// every command printed for the operator carries them, so it acts where this run did when
/// pasted. Set once by `main`; the hints are built deep in the steps.
static GIVEN_FLAGS: OnceLock<String> = OnceLock::new();

pub fn remember_flags(global: &GlobalArgs) {
    let _ = GIVEN_FLAGS.set(shared::kubeconfig::given_flags(global));
}

pub fn flags() -> &'static str {
    GIVEN_FLAGS.get().map(String::as_str).unwrap_or_default()
}

/// `kubectl nodeevict VERB NODE… [flags]`, ready to paste (nodes shell-quoted).
pub fn command(verb: &str, nodes: &[&str]) -> String {
    let mut command = format!("kubectl nodeevict {verb}");
    for node in nodes {
        command.push(' ');
        command.push_str(&word(node));
    }
    command + flags()
}

/// `kubectl ARGS [flags]` (a kubectl command about the same cluster), ready to paste.
pub fn kubectl(args: &str) -> String {
    format!("kubectl {args}{}", flags())
}

/// `kubectl nodeevict doctor [flags]`, named when permissions are missing.
pub fn doctor() -> &'static str {
    static DOCTOR: OnceLock<String> = OnceLock::new();
    DOCTOR.get_or_init(|| command("doctor", &[]))
}

pub fn with_hint(e: Error, node: &str) -> Error {
    e.with_hint(&format!("; {}", resume_hint(node)))
}

/// The nodes of this run not started yet and the command that drains them all, set by `run`
/// before each node: a run of several nodes stopped on one must not leave the others forgotten
/// (found by the soak: a pool drain interrupted on its first node printed only that node's
/// resume, and the operator who ran it was told the node was safe to terminate while the
/// rest of the pool was never drained).
static NOT_STARTED: std::sync::Mutex<Option<(Vec<String>, String)>> = std::sync::Mutex::new(None);

pub fn set_not_started(rest: &[String], command: &str) {
    let mut slot = NOT_STARTED.lock().unwrap_or_else(|e| e.into_inner());
    *slot = (!rest.is_empty()).then(|| (rest.to_vec(), command.to_string()));
}

/// How to finish or undo a drain recorded on `node` (and, in a run of several nodes, how to
/// drain the ones not started yet).
pub fn resume_hint(node: &str) -> String {
    format!(
        "the drain is recorded on node {node}: `{}` finishes it, `{}` undoes it{}",
        command("resume", &[node]),
        command("abort", &[node]),
        not_started_hint(node)
    )
}

/// In a run of several nodes: the nodes not started yet and the command that finishes the
/// drain of `node` and then drains them (empty otherwise).
pub fn not_started_hint(node: &str) -> String {
    let slot = NOT_STARTED.lock().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some((rest, command)) => format!(
            "; not started yet: {} — `{command}` finishes {node} and then drains them",
            rest.join(", ")
        ),
        None => String::new(),
    }
}

/// The target banner for a node's drain: nodes are cluster-wide and their pods live in every
/// namespace, so the banner names that rather than the kubeconfig's namespace, which a drain
/// never limits itself to.
pub fn banner(target: &shared::Target) {
    let mut shown = target.resolved.clone();
    shown.namespace = "(all: nodes are cluster-wide, their pods in any namespace)".into();
    shared::banner::print(&shown);
}
