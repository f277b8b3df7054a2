//! `kubectl argodeploy wait WF...`: `argo wait` (argo-workflows `cmd/argo/commands/wait.go`,
//! `common/wait.go`: `WaitWorkflows` / `waitOnOne`) — watch every named workflow (a watch by
//! `metadata.name`, not polling) until `status.finishedAt` is set, print `NAME PHASE at TIME`
//! for each as it ends, exit 1 when any ended Failed or Error. Beyond argo: `--timeout` (exit
//! 4, the unfinished ones and where they are), a workflow's message with its phase, and
//! `-o json|yaml` (every workflow's outcome at the end, on stdout).
//! `--ignore-not-found` as argo's: a workflow that does not exist counts as done; without it a
//! missing one is an error before any waiting. A workflow deleted while waited on did not
//! succeed (argo's wait would wait for ever).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::DynamicObject;
use serde::Serialize;
use shared::output::{self, OutputFormat, PlanFormat};
use shared::{Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::watch::{Seen, finished, versions};
use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// The workflows to wait for
    #[arg(required = true, value_parser = crate::workflow::name_arg)]
    pub workflows: Vec<String>,
    /// Give up after this long (e.g. 30m, 90s): exit 4 naming the unfinished ones; 0 or
    /// unset waits for ever
    #[arg(long, value_name = "DURATION", value_parser = shared::duration::parse)]
    pub timeout: Option<Duration>,
    /// A workflow that does not exist counts as done
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Output format: table prints a line as each one ends; json and yaml every outcome at
    /// the end, on stdout
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

/// How one named workflow ended, or where it is (pure data; `-o json|yaml` prints a list).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub name: String,
    pub namespace: String,
    /// False for an ignored missing workflow or one deleted meanwhile.
    pub found: bool,
    /// Whether it ended (`status.finishedAt` set): false only after a timeout.
    pub completed: bool,
    pub phase: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Where it is, for one that has not ended: `Running: step deploy (1 step done)`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub progress: String,
}

impl Outcome {
    fn of(wf: &DynamicObject, namespace: &str) -> Outcome {
        Outcome {
            name: wf.name_any(),
            namespace: namespace.to_string(),
            found: true,
            completed: finished(wf),
            phase: workflow::phase(wf),
            finished_at: workflow::finished(wf).map(|t| t.to_string()),
            message: workflow::message(wf),
            progress: if finished(wf) {
                String::new()
            } else {
                workflow::progress(wf)
            },
        }
    }

    fn missing(name: &str, namespace: &str, deleted: bool) -> Outcome {
        Outcome {
            name: name.to_string(),
            namespace: namespace.to_string(),
            found: false,
            completed: true,
            phase: if deleted { "Deleted" } else { "NotFound" }.to_string(),
            finished_at: None,
            message: String::new(),
            progress: String::new(),
        }
    }

    /// Succeeded, or missing and ignored: argo's wait fails only on Failed and Error; a
    /// workflow deleted while waited on did not succeed either.
    fn ok(&self, ignore_not_found: bool) -> bool {
        match self.phase.as_str() {
            "Failed" | "Error" => false,
            "Deleted" | "NotFound" if !self.found => ignore_not_found,
            _ => true,
        }
    }
}

/// argo's line for a workflow that ended (`%s %s at %v`), with its message (pure).
pub fn line(o: &Outcome) -> String {
    if !o.found {
        return if o.phase == "Deleted" {
            format!("{} deleted before it completed\n", o.name)
        } else {
            format!("{} not found (ignored)\n", o.name)
        };
    }
    let at = o
        .finished_at
        .as_deref()
        .map(|t| format!(" at {t}"))
        .unwrap_or_default();
    let message = if o.message.is_empty() {
        String::new()
    } else {
        format!(": {}", o.message)
    };
    format!("{} {}{at}{message}\n", o.name, o.phase)
}

/// The error of a wait whose workflows all ended, if one did not succeed (pure).
pub fn verdict(outcomes: &[Outcome], ignore_not_found: bool, hint: &str) -> shared::Result<()> {
    let bad: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.ok(ignore_not_found))
        .collect();
    let Some(first) = bad.first() else {
        return Ok(());
    };
    let names: Vec<String> = bad
        .iter()
        .map(|o| format!("{} {}", o.name, o.phase))
        .collect();
    let how = if first.found {
        format!(
            ": `kubectl argodeploy get {}{hint}` shows why",
            shared::shell::word(&first.name)
        )
    } else {
        String::new()
    };
    Err(Error::Failed(format!(
        "{} of {} did not succeed ({}){how}",
        bad.len(),
        workflow::count(outcomes.len(), "workflow"),
        names.join(", ")
    )))
}

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &WaitArgs) -> shared::Result<()> {
    let format = OutputFormat::from(args.output);
    let deadline = args
        .timeout
        .filter(|t| !t.is_zero())
        .map(|t| (Instant::now() + t, t));
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    let hint = format!("{}{}", keys.given_flags(), target.scope_flags());
    // Every name first: a missing one is an error before any waiting (or, ignored, done).
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut pending: Vec<(usize, String)> = Vec::new();
    let mut api = workflow::api(&target, false);
    for name in &args.workflows {
        match workflow::get(&target, keys, name).await {
            Ok((a, wf)) => {
                api = a;
                let o = Outcome::of(&wf, &namespace);
                if !o.completed {
                    pending.push((outcomes.len(), o.name.clone()));
                }
                outcomes.push(o);
            }
            // workflow::get's own "not found" (its API failures are Error::Api).
            Err(Error::Failed(message)) if args.ignore_not_found => {
                tracing::debug!("{message}");
                outcomes.push(Outcome::missing(name, &namespace, false));
            }
            Err(e) => return Err(e),
        }
    }
    shared::interrupt::reading_only();
    let show = |o: &Outcome| {
        if !format.is_machine() {
            output::print_stdout(&line(o));
        }
    };
    for o in &outcomes {
        if o.completed {
            show(o);
        }
    }
    let terminal = std::io::stderr().is_terminal();
    let bar = shared::wait::spinner(waiting_for(&outcomes));
    let mut said = String::new();
    let mut streams = futures::stream::select_all(
        pending
            .iter()
            .map(|(i, name)| versions(&api, name).map(move |seen| (*i, seen)).boxed()),
    );
    let mut timed_out = None;
    while outcomes.iter().any(|o| !o.completed) {
        let next = match deadline {
            Some((at, _)) => {
                match tokio::time::timeout_at(tokio::time::Instant::from_std(at), streams.next())
                    .await
                {
                    Ok(next) => next,
                    Err(_) => {
                        timed_out = deadline.map(|(_, t)| t);
                        break;
                    }
                }
            }
            None => streams.next().await,
        };
        let Some((i, seen)) = next else {
            bar.finish_and_clear();
            return Err(Error::Failed(
                "the watch of the workflows ended".to_string(),
            ));
        };
        if outcomes[i].completed {
            continue;
        }
        outcomes[i] = match seen {
            Seen::Version(wf) => Outcome::of(&wf, &namespace),
            Seen::Gone => Outcome::missing(&outcomes[i].name, &namespace, true),
            Seen::Denied(message) => {
                bar.finish_and_clear();
                let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
                return Err(crate::watch::refused(&outcomes[i].name, &message, &doctor));
            }
        };
        if outcomes[i].completed {
            bar.suspend(|| show(&outcomes[i]));
        }
        let now = waiting_for(&outcomes);
        if now != said {
            if terminal {
                bar.set_message(now.clone());
            } else if outcomes.iter().any(|o| !o.completed) {
                eprintln!("{now}");
            }
            said = now;
        }
    }
    bar.finish_and_clear();
    match format {
        OutputFormat::Json => output::print_stdout(&output::to_json(&outcomes)?),
        OutputFormat::Yaml => output::print_stdout(&output::to_yaml(&outcomes)?),
        _ => {}
    }
    if let Some(timeout) = timed_out {
        let left: Vec<String> = outcomes
            .iter()
            .filter(|o| !o.completed)
            .map(|o| format!("{} ({})", o.name, o.progress))
            .collect();
        return Err(Error::Timeout(format!(
            "timed out after {} waiting for {}: `kubectl argodeploy get {}{hint}` shows where it is",
            shared::duration::format(timeout),
            left.join(", "),
            outcomes
                .iter()
                .find(|o| !o.completed)
                .map(|o| shared::shell::word(&o.name))
                .unwrap_or_default(),
        )));
    }
    verdict(&outcomes, args.ignore_not_found, &hint)
}

/// The spinner's text: the workflows not ended yet and where each is (pure).
fn waiting_for(outcomes: &[Outcome]) -> String {
    let left: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.completed)
        .map(|o| format!("{}: {}", o.name, o.progress))
        .collect();
    format!("waiting for {}", left.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wf(name: &str, phase: &str, finished: Option<&str>, message: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": "atmosphere"},
            "status": {"phase": phase, "finishedAt": finished, "message": message},
        }))
        .unwrap()
    }

    #[test]
    fn each_ended_workflow_gets_argos_line_with_its_message() {
        let ok = Outcome::of(
            &wf("deploy-a", "Succeeded", Some("2026-11-15T18:07:00Z"), ""),
            "atmosphere",
        );
        assert!(ok.completed);
        assert_eq!(line(&ok), "deploy-a Succeeded at 2026-11-15T18:07:00Z\n");
        let failed = Outcome::of(
            &wf(
                "deploy-b",
                "Failed",
                Some("2026-11-16T18:14:00Z"),
                "child 'deploy-playbook' failed",
            ),
            "atmosphere",
        );
        assert_eq!(
            line(&failed),
            "deploy-b Failed at 2026-11-16T18:14:00Z: child 'deploy-playbook' failed\n"
        );
        let running = Outcome::of(&wf("deploy-c", "Running", None, ""), "atmosphere");
        assert!(!running.completed);
        assert_eq!(running.progress, "Running (0 steps done)");
        assert_eq!(
            line(&Outcome::missing("deploy-d", "atmosphere", false)),
            "deploy-d not found (ignored)\n"
        );
    }

    #[test]
    fn any_failed_error_or_deleted_workflow_fails_the_wait() {
        let ok = Outcome::of(
            &wf("a", "Succeeded", Some("2026-11-15T18:07:00Z"), ""),
            "ns",
        );
        let err = Outcome::of(&wf("b", "Error", Some("2026-11-15T18:07:00Z"), ""), "ns");
        assert!(verdict(std::slice::from_ref(&ok), false, "").is_ok());
        let e = verdict(&[ok.clone(), err], false, " -n ns").unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "1 of 2 workflows did not succeed (b Error): `kubectl argodeploy get b -n ns` shows why"
        );
        let missing = Outcome::missing("c", "ns", false);
        assert!(verdict(&[ok.clone(), missing], true, "").is_ok());
        let deleted = Outcome::missing("c", "ns", true);
        assert!(verdict(&[ok, deleted], false, "").is_err());
    }
}
