//! What to tell the operator when a drain stops: how to finish or undo it, and in a run of
//! several nodes, how to drain the ones not started yet. A leaf module: the steps (execute,
//! journal) and the commands (drain, resume) all print it.

use shared::Error;

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
        "the drain is recorded on node {node}: `kubectl nodeevict resume {node}` finishes it, `kubectl nodeevict abort {node}` undoes it{}",
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
