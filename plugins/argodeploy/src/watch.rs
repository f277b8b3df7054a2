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

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use futures::{Stream, StreamExt};
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use shared::output::ListFormat;
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
    let mut screen = Screen::new();
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

/// Where the frames go: redrawn in place on a terminal, appended otherwise.
struct Screen {
    terminal: bool,
    /// Rows the last frame took on the terminal (to move back over).
    rows: usize,
    /// The resourceVersion of the last snapshot appended (a pipe gets each version once).
    shown: Option<String>,
}

impl Screen {
    fn new() -> Screen {
        Screen {
            terminal: std::io::stdout().is_terminal(),
            rows: 0,
            shown: None,
        }
    }

    fn show(&mut self, text: &str, version: String) {
        if self.terminal {
            let size = console_size().unwrap_or((24, 80));
            let (frame, rows) = redraw(text, self.rows, size);
            self.rows = rows;
            write_stdout(&frame);
        } else if self.shown.as_ref() != Some(&version) {
            let gap = if self.shown.is_some() { "\n" } else { "" };
            self.shown = Some(version);
            write_stdout(&format!("{gap}{text}"));
        }
    }
}

fn console_size() -> Option<(usize, usize)> {
    console::Term::stdout()
        .size_checked()
        .filter(|(rows, cols)| *rows > 0 && *cols > 0)
        .map(|(rows, cols)| (usize::from(rows), usize::from(cols)))
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The bytes that replace the last frame (`previous` rows tall) by `text` on a terminal of
/// `(rows, cols)`, and how many rows the new frame takes (pure). Each line is cut to the width
/// so that it takes one row, and the frame to the screen's height less one (a last line says
/// how many were left out), so that moving the cursor up always reaches the frame's top.
pub fn redraw(text: &str, previous: usize, (rows, cols): (usize, usize)) -> (String, usize) {
    let cols = cols.max(1);
    let room = rows.saturating_sub(1).max(2);
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| console::truncate_str(l, cols, "").into_owned())
        .collect();
    if lines.len() > room {
        let left_out = lines.len() - (room - 1);
        lines.truncate(room - 1);
        let note =
            format!("… {left_out} more lines: the terminal is too short (`get` prints them all)");
        lines.push(console::truncate_str(&note, cols, "").into_owned());
    }
    let mut out = String::new();
    if previous > 0 {
        out.push_str(&format!("\r\x1b[{previous}A"));
    }
    // Clear from the cursor to the end of the screen: the old frame, whatever its length.
    out.push_str("\x1b[J");
    for line in &lines {
        out.push_str(line);
        out.push('\n');
    }
    (out, lines.len())
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
    fn the_first_frame_clears_below_and_the_next_ones_move_up_over_the_last() {
        let (first, rows) = redraw("a\nb\n", 0, (24, 80));
        assert_eq!(first, "\x1b[Ja\nb\n");
        assert_eq!(rows, 2);
        let (second, rows) = redraw("a\nb\nc\n", rows, (24, 80));
        assert_eq!(second, "\r\x1b[2A\x1b[Ja\nb\nc\n");
        assert_eq!(rows, 3);
    }

    #[test]
    fn a_frame_fits_the_terminal_so_the_cursor_can_reach_its_top() {
        let text: String = (0..30)
            .map(|i| format!("line {i} {}\n", "x".repeat(50)))
            .collect();
        let (frame, rows) = redraw(&text, 0, (10, 20));
        assert_eq!(rows, 9);
        let lines: Vec<&str> = frame.trim_start_matches("\x1b[J").lines().collect();
        assert_eq!(lines.len(), 9);
        assert!(
            lines.iter().all(|l| console::measure_text_width(l) <= 20),
            "{lines:?}"
        );
        assert!(lines[8].starts_with("… 22 more lines"), "{}", lines[8]);
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
