//! The header block of `argo get` (`PrintWorkflowHelper`'s `%-20s %v` lines).

use serde_json::{Map, Value};

use super::{Options, any_string, exec_spec, present, text, time, wf_name};
use crate::humanize::{
    SECOND, humanize_duration, humanize_timestamp, relative_duration, resources_duration,
};
use crate::node_status;

/// `printer.WorkflowStatus`: the phase, "Running (Suspended)", "Failed (Terminated)", or
/// "Pending"/"Unknown" before the controller set one.
fn workflow_status(wf: &Value, nodes: &Map<String, Value>) -> String {
    let phase = text(&wf["status"], "phase");
    match phase {
        "Running" => {
            let suspended = wf["spec"]["suspend"].as_bool() == Some(true)
                || nodes
                    .values()
                    .any(|n| text(n, "type") == "Suspend" && text(n, "phase") == "Running");
            if suspended {
                "Running (Suspended)".into()
            } else {
                phase.into()
            }
        }
        "Failed" if !text(&wf["spec"], "shutdown").is_empty() => "Failed (Terminated)".into(),
        "" | "Pending" => {
            if present(&wf["metadata"]["creationTimestamp"]) {
                "Pending".into()
            } else {
                "Unknown".into()
            }
        }
        other => other.into(),
    }
}

/// The header block of `PrintWorkflowHelper`, each line `%-20s %v`. Workflow-level output
/// artifacts (their per-store URL forms) are not printed.
pub fn header(wf: &Value, opts: &Options) -> String {
    let mut out = Lines(String::new());
    identity(&mut out, wf);
    conditions(&mut out, &wf["status"], opts.utf8);
    times(&mut out, wf, opts);
    progress(&mut out, &wf["status"]);
    parameters(&mut out, wf);
    out.0
}

/// The header's text, one `%-20s %v` line at a time.
struct Lines(String);

impl Lines {
    fn line(&mut self, label: &str, value: &str) {
        self.0.push_str(&format!("{label:<20} {value}\n"));
    }
}

/// Name, Namespace, ServiceAccount, Status and Message.
fn identity(out: &mut Lines, wf: &Value) {
    let nodes = node_status::decode(wf).unwrap_or_default();
    out.line("Name:", wf_name(wf));
    out.line("Namespace:", text(&wf["metadata"], "namespace"));
    let mut service_account = text(exec_spec(wf), "serviceAccountName");
    if service_account.is_empty() {
        service_account = if present(&wf["spec"]["workflowTemplateRef"]) {
            "unset"
        } else {
            "unset (will run with the default ServiceAccount)"
        };
    }
    out.line("ServiceAccount:", service_account);
    out.line("Status:", &workflow_status(wf, &nodes));
    let message = text(&wf["status"], "message");
    if !message.is_empty() {
        out.line("Message:", message);
    }
}

/// `Conditions.DisplayString`: an icon for the two kinds argo marks, then the message (or the
/// status when there is none).
fn conditions(out: &mut Lines, status: &Value, utf8: bool) {
    let Some(conditions) = status["conditions"].as_array().filter(|c| !c.is_empty()) else {
        return;
    };
    out.line("Conditions:", "");
    for condition in conditions {
        let kind = text(condition, "type");
        let icon = match (kind, utf8) {
            ("MetricsError", true) => "✖",
            ("MetricsError", false) => "Error",
            ("SpecWarning", true) => "⚠",
            ("SpecWarning", false) => "Warning",
            _ => "",
        };
        let mut message = text(condition, "message");
        if message.is_empty() {
            message = text(condition, "status");
        }
        out.line(&format!("{icon} {kind}"), message);
    }
}

/// Created, Started, Finished, Duration and, while running, EstimatedDuration.
fn times(out: &mut Lines, wf: &Value, opts: &Options) {
    let status = &wf["status"];
    out.line(
        "Created:",
        &humanize_timestamp(time(&wf["metadata"]["creationTimestamp"]), opts.now),
    );
    let started = time(&status["startedAt"]);
    let finished = time(&status["finishedAt"]);
    if started.is_some() {
        out.line("Started:", &humanize_timestamp(started, opts.now));
    }
    if finished.is_some() {
        out.line("Finished:", &humanize_timestamp(finished, opts.now));
    }
    if started.is_some() {
        out.line("Duration:", &relative_duration(started, finished, opts.now));
    }
    if text(status, "phase") == "Running" {
        let estimated = status["estimatedDuration"].as_i64().unwrap_or(0);
        if estimated > 0 {
            out.line(
                "EstimatedDuration:",
                &humanize_duration(estimated.saturating_mul(SECOND)),
            );
        }
    }
}

/// Progress and ResourcesDuration.
fn progress(out: &mut Lines, status: &Value) {
    out.line("Progress:", text(status, "progress"));
    if status["resourcesDuration"]
        .as_object()
        .is_some_and(|m| !m.is_empty())
    {
        out.line(
            "ResourcesDuration:",
            &resources_duration(&status["resourcesDuration"]),
        );
    }
}

/// The input Parameters (those with a value) and the Output Parameters.
fn parameters(out: &mut Lines, wf: &Value) {
    if let Some(params) = exec_spec(wf)["arguments"]["parameters"]
        .as_array()
        .filter(|p| !p.is_empty())
    {
        out.line("Parameters:", "");
        for p in params {
            if let Some(value) = any_string(&p["value"]) {
                out.line(&format!("  {}:", text(p, "name")), &value);
            }
        }
    }
    if let Some(params) = wf["status"]["outputs"]["parameters"]
        .as_array()
        .filter(|p| !p.is_empty())
    {
        out.line("Output Parameters:", "");
        for p in params {
            // Parameter.HasValue / GetValue
            if present(&p["value"]) || present(&p["default"]) || present(&p["valueFrom"]) {
                let value = any_string(&p["value"])
                    .or_else(|| any_string(&p["default"]))
                    .unwrap_or_default();
                out.line(&format!("  {}:", text(p, "name")), &value);
            }
        }
    }
}
