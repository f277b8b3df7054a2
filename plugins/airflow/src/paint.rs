//! Colour for the words an operator scans for, as kubectl-style tools use it: failures red,
//! waiting states yellow. Only when stdout is a terminal that takes colour (owo-colors checks,
//! and `--no-color`/NO_COLOR turn it off); JSON and YAML never pass through here.

use owo_colors::{OwoColorize, Stream};

/// How bad a pod status or a verdict is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Fine,
    Waiting,
    Failing,
}

/// The severity of kubectl's STATUS for a pod (pure).
pub fn pod_severity(status: &str) -> Severity {
    match status {
        "Running" | "Completed" | "Succeeded" => Severity::Fine,
        "Pending" | "ContainerCreating" | "PodInitializing" | "Terminating" | "no pods" => {
            Severity::Waiting
        }
        _ => Severity::Failing,
    }
}

/// `text` coloured for `severity` on stdout.
pub fn paint(text: &str, severity: Severity) -> String {
    match severity {
        Severity::Fine => text.to_string(),
        Severity::Waiting => text
            .if_supports_color(Stream::Stdout, |t| t.yellow().to_string())
            .to_string(),
        Severity::Failing => text
            .if_supports_color(Stream::Stdout, |t| t.red().bold().to_string())
            .to_string(),
    }
}

/// A pod's STATUS cell.
pub fn pod_status(status: &str) -> String {
    paint(status, pod_severity(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_loops_are_failures_and_pending_is_waiting() {
        assert_eq!(pod_severity("CrashLoopBackOff"), Severity::Failing);
        assert_eq!(pod_severity("ImagePullBackOff"), Severity::Failing);
        assert_eq!(pod_severity("Pending"), Severity::Waiting);
        assert_eq!(pod_severity("Running"), Severity::Fine);
    }
}
