//! `kubectl argodeploy watch WF` (and `get WF -w`): `argo watch` — the `get` tree redrawn as
//! the workflow changes, until it completes (argo-workflows `cmd/argo/commands/common/watch.go`:
//! `WatchWorkflow` watches the workflow by a `metadata.name` field selector, redraws on every
//! event and every second, and returns once `status.finishedAt` is set).
//!
//! On a terminal the tree is redrawn in place (cursor up over the last frame, clear to the end
//! of the screen; argo clears the whole screen instead, which loses the scroll-back); else each
//! new version of the workflow is appended as a plain snapshot, a blank line between two.
//! Unlike `argo watch`, which always exits 0, the exit code says how it ended: 0 Succeeded,
//! 1 Failed or Error (as `wait` and `resubmit --wait`), so a script can use either.

use std::time::Duration;

use clap::Args;
use futures::{Stream, StreamExt};
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use shared::output::ListFormat;
use shared::screen::Screen;
use shared::{Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::tree;
use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct WatchArgs {
    /// The workflow
    #[arg(value_parser = crate::workflow::name_arg)]
    pub workflow: String,
    /// Output format: table (argo get's tree) or wide (with TEMPLATE, ARTIFACTS,
    /// RESOURCESDURATION and NODENAME)
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
    /// ASCII instead of the tree glyphs and icons
    #[arg(long)]
    pub no_utf8: bool,
}

/// What a watch of one workflow by name sees.
#[derive(Debug)]
pub enum Seen {
    /// A version of the workflow (the first one, then every change).
    Version(Box<DynamicObject>),
    /// It was deleted, or was not there when the watch (re)started.
    Gone,
    /// The API server refuses the watch (401/403): retrying would wait for ever.
    Denied(String),
}

/// The refusal a watch request got, if it was one (401, 403).
fn denied(e: &watcher::Error) -> Option<String> {
    let api = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.as_ref(),
        watcher::Error::WatchError(s) => s.as_ref(),
        _ => return None,
    };
    matches!(api.code, 401 | 403).then(|| api.message.clone())
}

/// The error of a watch the API server refused (pure).
pub fn refused(name: &str, message: &str, doctor: &str) -> Error {
    Error::Failed(format!(
        "cannot watch workflow {name}: forbidden: {message}; `{doctor}` lists the permissions needed"
    ))
}

/// The versions of the named workflow as they come, from a watch (not polling) by a
/// `metadata.name` field selector, as argo's `WatchWorkflows` request; a failed watch request
/// is retried after a backoff, and a restarted watch starts with the current version.
pub fn versions(api: &Api<DynamicObject>, name: &str) -> impl Stream<Item = Seen> + Send + use<> {
    let fields = format!("metadata.name={name}");
    let name = name.to_string();
    let mut listed = false;
    watcher(api.clone(), watcher::Config::default().fields(&fields))
        .default_backoff()
        .filter_map(move |event| {
            let seen = match event {
                Ok(watcher::Event::Init) => {
                    listed = false;
                    None
                }
                Ok(watcher::Event::InitApply(wf) | watcher::Event::Apply(wf)) => {
                    listed = true;
                    Some(Seen::Version(Box::new(wf)))
                }
                Ok(watcher::Event::InitDone) => (!listed).then_some(Seen::Gone),
                Ok(watcher::Event::Delete(_)) => Some(Seen::Gone),
                Err(e) => match denied(&e) {
                    Some(message) => Some(Seen::Denied(message)),
                    None => {
                        tracing::debug!("watching {name} failed, retrying: {e}");
                        None
                    }
                },
            };
            futures::future::ready(seen)
        })
}

/// Whether the workflow has ended: argo's watch and wait look at `status.finishedAt`; the
/// phase and the completed label say it too.
pub fn finished(wf: &DynamicObject) -> bool {
    workflow::finished(wf).is_some() || workflow::is_completed(wf)
}

/// How often a terminal's tree is redrawn while nothing changes (its durations move on):
/// argo's ticker.
const REDRAW_EVERY: Duration = Duration::from_secs(1);

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &WatchArgs) -> shared::Result<()> {
    let wide = match args.output {
        ListFormat::Table => false,
        ListFormat::Wide => true,
        _ => {
            return Err(Error::Usage(
                "watching a workflow supports -o table or wide (-o json|yaml: kubectl get wf NAME -w -o json)"
                    .to_string(),
            ));
        }
    };
    let target = shared::kubeconfig::connect(global).await?;
    let (api, wf) = workflow::get(&target, keys, &args.workflow).await?;
    // Ctrl-C is how a watch ends early: quietly, 130, as `kubectl get -w`.
    shared::interrupt::reading_only();
    let name = wf.name_any();
    let render = |wf: &DynamicObject| -> shared::Result<String> {
        let value = serde_json::to_value(wf).map_err(|e| Error::Failed(e.to_string()))?;
        let opts = tree::Options {
            wide,
            template: false,
            utf8: !args.no_utf8,
            now: jiff::Timestamp::now(),
        };
        tree::render(&value, &opts).map_err(Error::Failed)
    };
    let mut screen = Screen::new("`get` prints them all");
    let mut last = wf;
    screen.show(&render(&last)?, version(&last));
    let mut changes = std::pin::pin!(versions(&api, &name));
    while !finished(&last) {
        let next = if screen.terminal {
            match tokio::time::timeout(REDRAW_EVERY, changes.next()).await {
                Ok(next) => next,
                Err(_) => {
                    screen.show(&render(&last)?, version(&last));
                    continue;
                }
            }
        } else {
            changes.next().await
        };
        match next {
            Some(Seen::Version(wf)) => {
                last = *wf;
                screen.show(&render(&last)?, version(&last));
            }
            Some(Seen::Gone) => {
                return Err(Error::Failed(format!(
                    "workflow {name} was deleted before it completed"
                )));
            }
            Some(Seen::Denied(message)) => {
                let doctor = format!("kubectl argodeploy doctor{}", target.scope_flags());
                return Err(refused(&name, &message, &doctor));
            }
            None => return Err(Error::Failed(format!("the watch of {name} ended"))),
        }
    }
    ended(&name, &last)
}

/// The exit of a watch that saw the workflow end: 0 Succeeded, else 1 naming the phase.
fn ended(name: &str, wf: &DynamicObject) -> shared::Result<()> {
    let phase = workflow::phase(wf);
    match phase.as_str() {
        "Failed" | "Error" => {
            let message = workflow::message(wf);
            let why = if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            };
            Err(Error::Failed(format!("workflow {name} ended {phase}{why}")))
        }
        _ => Ok(()),
    }
}

fn version(wf: &DynamicObject) -> String {
    wf.resource_version().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wf(phase: &str, finished: Option<&str>) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": "deploy-x", "namespace": "atmosphere"},
            "status": {"phase": phase, "finishedAt": finished, "message": "child 'play' failed"},
        }))
        .unwrap()
    }

    #[test]
    fn a_watch_ends_with_the_workflow_and_says_how() {
        assert!(!finished(&wf("Running", None)));
        assert!(finished(&wf("Running", Some("2026-11-20T08:00:00Z"))));
        assert!(finished(&wf("Failed", None)));
        assert!(ended("deploy-x", &wf("Succeeded", None)).is_ok());
        let failed = ended("deploy-x", &wf("Failed", None)).unwrap_err();
        assert_eq!(failed.exit_code(), 1);
        assert_eq!(
            failed.to_string(),
            "workflow deploy-x ended Failed: child 'play' failed"
        );
    }
}
