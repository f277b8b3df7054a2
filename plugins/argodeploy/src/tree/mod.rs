//! `argo get WF` as text, from the workflow object the Kubernetes API returns (no argo-server,
//! no I/O): the header block and the node table, argo-workflows' own rules (v3.5/v3.6):
//! - `cmd/argo/commands/common/get.go`: `PrintWorkflowHelper` (header, table, onExit),
//!   `convertToRenderTrees` / `attachToParent` / `insertSorted` (which row goes under which),
//!   `filterNode` (hidden StepGroups, single-child Retries, Omitted), `renderChild` (glyphs),
//!   `printNode` (the row's cells): [`table`];
//! - `cmd/argo/commands/common/common.go`: the icons, UTF-8 and `--no-utf8`; this output is
//!   argo's with `--no-color`;
//! - `pkg/apis/workflow/v1alpha1/workflow_types.go`: `Conditions.DisplayString`,
//!   `NodeStatus.IsActiveSuspendNode`; `util/printer/workflow-printer.go`: `WorkflowStatus`:
//!   [`header`].
//!
//! Node status decoding, pod names and the humanized times are their own modules
//! ([`crate::node_status`], [`crate::pod_name`], [`crate::humanize`]).
//! Times print in UTC (argo prints local time) and "ago" counts from [`Options::now`].

mod header;
mod table;
#[cfg(test)]
mod tests;

use jiff::Timestamp;
use serde_json::Value;

pub use header::header;
pub use table::table;

/// What to render and when "now" is.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-o wide`: ARTIFACTS, RESOURCESDURATION and NODENAME columns too.
    pub wide: bool,
    /// The TEMPLATE column without `wide`: argo get's default has it; `kubectl argodeploy
    /// get` leaves it to `-o wide` so that its default table fits 120 columns.
    pub template: bool,
    /// UTF-8 glyphs and icons; false is argo's `--no-utf8` (`+-`, `` `- ``, `|-`, phase words).
    pub utf8: bool,
    /// For durations of running nodes and the "(… ago)" of the header times.
    pub now: Timestamp,
}

/// What `argo get` prints: the header, then a blank line and the table when there is one.
pub fn render(wf: &Value, opts: &Options) -> Result<String, String> {
    let table = table(wf, opts)?;
    let mut out = header(wf, opts);
    if !table.is_empty() {
        out.push('\n');
        out.push_str(&table);
    }
    Ok(out)
}

// Small readers of the workflow's JSON, shared by the header and the table.

fn wf_name(wf: &Value) -> &str {
    wf["metadata"]["name"].as_str().unwrap_or("")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

fn present(v: &Value) -> bool {
    !v.is_null()
}

/// An `AnyString` (parameter value): a string as is, another JSON value as its text.
fn any_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `Workflow.GetExecSpec`: the stored WorkflowTemplate spec when there is one.
fn exec_spec(wf: &Value) -> &Value {
    let stored = &wf["status"]["storedWorkflowTemplateSpec"];
    if stored.is_object() {
        stored
    } else {
        &wf["spec"]
    }
}
