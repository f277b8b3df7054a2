//! Following the logs of the pods a label selector picks, as `kubectl logs -f -l` would but
//! with pods created later followed too: one task per container stream, every line prefixed
//! with its stream's label (coloured per stream on a terminal when asked), an optional line
//! filter, and an end the caller decides. Which pods, which container and the label text are
//! the plugin's decisions ([`Follow::run`]'s `select`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, LogParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use owo_colors::{OwoColorize, Stream as Terminal};
use tokio::sync::mpsc;

use crate::output::print_stdout;

/// What to read from one pod: the plugin's choice.
#[derive(Debug, Clone)]
pub struct PodStream {
    /// The container (`None`: the pod's only or default one).
    pub container: Option<String>,
    /// The text before each line (a space is added after it).
    pub label: String,
}

/// A line filter, given the line's text without its timestamp.
pub type LineFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How to follow: the log window, and what each plugin chose to do differently.
#[derive(Clone)]
pub struct Follow {
    pub api: Api<Pod>,
    /// The pods to follow, now and later.
    pub selector: String,
    /// `tailLines`, `sinceSeconds`, `sinceTime` and `timestamps` of every stream.
    pub window: LogParams,
    /// Pods that show up after the first listing are read from their start (no tail, no
    /// since): everything a restarted pod wrote is new.
    pub new_pods_from_start: bool,
    /// Colour each stream's label on a terminal (cyan, magenta, yellow, green, blue, red).
    pub colours: bool,
    /// A stream that cannot be opened says so on a line of its own (else it is left out).
    pub report_stream_errors: bool,
    /// Only lines this accepts.
    pub filter: Option<LineFilter>,
    /// One JSON object a line ([`json_line`]) instead of the label and the text.
    pub json: bool,
}

/// `label ` in the stream's colour (by its index) on a terminal, when `colours`.
pub fn prefix(label: &str, index: usize, colours: bool) -> String {
    if !colours {
        return format!("{label} ");
    }
    let coloured = label.if_supports_color(Terminal::Stdout, |t| match index % 6 {
        0 => t.cyan().to_string(),
        1 => t.magenta().to_string(),
        2 => t.yellow().to_string(),
        3 => t.green().to_string(),
        4 => t.blue().to_string(),
        _ => t.red().to_string(),
    });
    format!("{coloured} ")
}

/// Splits `2026-11-17T09:21:00.000000000Z text` (a line read with `timestamps`) into its time
/// and its text; a line without one is all text.
pub fn split_timestamp(line: &str) -> (Option<jiff::Timestamp>, &str) {
    match line.split_once(' ') {
        Some((t, rest)) => match t.parse() {
            Ok(ts) => (Some(ts), rest),
            Err(_) => (None, line),
        },
        None => (None, line),
    }
}

/// A log line as one JSON object, for piping (`-o json`): the pod, the container, the time
/// the kubelet recorded (from a line read with `timestamps`; null without one) and the text.
pub fn json_line(pod: &str, container: Option<&str>, line: &str) -> String {
    let (time, text) = split_timestamp(line);
    serde_json::json!({
        "pod": pod,
        "container": container,
        "time": time.map(|t| t.to_string()),
        "line": text,
    })
    .to_string()
}

impl Follow {
    /// Follows every pod `select` accepts (given the pod and the index the next stream gets)
    /// until `until` completes, then `grace` longer for the last lines, and returns once they
    /// are printed. A pod `select` refuses is offered again when it changes.
    pub async fn run<F>(
        self,
        mut select: F,
        until: impl Future<Output = ()>,
        grace: Duration,
    ) -> crate::Result<()>
    where
        F: FnMut(&Pod, usize) -> Option<PodStream>,
    {
        crate::interrupt::reading_only();
        let (tx, mut rx) = mpsc::channel::<String>(1024);
        let mut followed: HashSet<String> = HashSet::new();
        let mut listed = false;
        let events = watcher::watcher(
            self.api.clone(),
            watcher::Config::default().labels(&self.selector),
        )
        .default_backoff();
        futures::pin_mut!(events);
        futures::pin_mut!(until);
        let mut ending: Option<tokio::time::Instant> = None;
        loop {
            let grace_over = async move {
                match ending {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(Event::Apply(pod) | Event::InitApply(pod))) => {
                        let uid = pod.uid().unwrap_or_default();
                        if followed.contains(&uid) {
                            continue;
                        }
                        let index = followed.len();
                        if let Some(stream) = select(&pod, index) {
                            followed.insert(uid);
                            let from_start = listed && self.new_pods_from_start;
                            self.spawn(&pod, stream, index, from_start, tx.clone());
                        }
                    }
                    Some(Ok(Event::InitDone)) => listed = true,
                    Some(Ok(Event::Delete(_) | Event::Init)) => {}
                    Some(Err(e)) => tracing::debug!("pod watch error, retrying: {e}"),
                    None => return Ok(()),
                },
                Some(line) = rx.recv() => print_stdout(&format!("{line}\n")),
                () = &mut until, if ending.is_none() => {
                    ending = Some(tokio::time::Instant::now() + grace);
                }
                () = grace_over => {
                    while let Ok(line) = rx.try_recv() {
                        print_stdout(&format!("{line}\n"));
                    }
                    return Ok(());
                }
            }
        }
    }

    /// One task streaming one pod's container into the channel, line by line.
    fn spawn(
        &self,
        pod: &Pod,
        stream: PodStream,
        index: usize,
        from_start: bool,
        tx: mpsc::Sender<String>,
    ) {
        let container = stream.container.clone();
        let mut params = LogParams {
            container: stream.container,
            follow: true,
            ..self.window.clone()
        };
        let json = self.json;
        // The time of each line is the kubelet's: asked for whenever the lines are JSON.
        let show_timestamps = params.timestamps;
        params.timestamps |= json;
        if from_start {
            params.tail_lines = None;
            params.since_seconds = None;
            params.since_time = None;
        }
        let prefix = prefix(&stream.label, index, self.colours);
        let api = self.api.clone();
        let name = pod.name_any();
        let filter = self.filter.clone();
        let report_errors = self.report_stream_errors;
        tokio::spawn(async move {
            let lines = match api.log_stream(&name, &params).await {
                Ok(reader) => reader.lines(),
                Err(e) => {
                    if report_errors {
                        let _ = tx.send(format!("{prefix}(cannot read the log: {e})")).await;
                    }
                    return;
                }
            };
            futures::pin_mut!(lines);
            while let Some(Ok(line)) = lines.next().await {
                let text = if params.timestamps {
                    split_timestamp(&line).1
                } else {
                    line.as_str()
                };
                if filter.as_ref().is_none_or(|accepts| accepts(text)) {
                    let out = if json {
                        json_line(&name, container.as_deref(), &line)
                    } else if show_timestamps {
                        format!("{prefix}{line}")
                    } else {
                        format!("{prefix}{text}")
                    };
                    if tx.send(out).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_split_off_and_plain_lines_stay_whole() {
        let (ts, text) = split_timestamp("2026-11-17T09:21:00.000000000Z PLAY [all]");
        assert_eq!(ts, Some("2026-11-17T09:21:00Z".parse().unwrap()));
        assert_eq!(text, "PLAY [all]");
        assert_eq!(split_timestamp("PLAY [all]"), (None, "PLAY [all]"));
        assert_eq!(split_timestamp("PLAY"), (None, "PLAY"));
    }

    #[test]
    fn json_lines_carry_pod_container_time_and_text() {
        let line = json_line(
            "w-0",
            Some("worker"),
            "2026-11-17T09:21:00.000000000Z OSError: [Errno 28] No space left on device",
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["pod"], "w-0");
        assert_eq!(v["container"], "worker");
        assert_eq!(v["time"], "2026-11-17T09:21:00Z");
        assert_eq!(v["line"], "OSError: [Errno 28] No space left on device");
        let plain: serde_json::Value =
            serde_json::from_str(&json_line("w-0", None, "no time")).unwrap();
        assert!(plain["time"].is_null() && plain["container"].is_null());
        assert_eq!(plain["line"], "no time");
    }

    #[test]
    fn prefixes_end_with_a_space_and_are_plain_without_colours() {
        assert_eq!(prefix("deploy:", 3, false), "deploy: ");
        assert_eq!(prefix("[pod-0]", 0, false), "[pod-0] ");
    }
}
