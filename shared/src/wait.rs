//! Waiting for a condition by watching (not polling), with a timeout and a spinner on a
//! terminal's stderr (silent otherwise): one object's condition (`wait_for`), or a check over
//! several objects re-run whenever something it watches changes (`until` with `Changes`).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kube::Resource;
use kube::api::Api;
use kube::runtime::wait::{Condition, await_condition};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A spinner on stderr when it is a terminal; hidden otherwise.
pub fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Waits until `condition` holds for the named object (watching it), or fails with
/// [`Error::Timeout`] after `timeout`. Returns the object as last seen (None if it is gone).
pub async fn wait_for<K>(
    api: Api<K>,
    name: &str,
    what: &str,
    timeout: Duration,
    condition: impl Condition<K>,
) -> Result<Option<K>>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let bar = spinner(format!("waiting for {what}"));
    let result = tokio::time::timeout(timeout, await_condition(api, name, condition)).await;
    bar.finish_and_clear();
    match result {
        Ok(Ok(obj)) => Ok(obj),
        Ok(Err(e)) => Err(Error::Failed(format!("watching {what} failed: {e}"))),
        Err(_) => Err(Error::Timeout(format!(
            "timed out after {} waiting for {what}",
            crate::duration::format(timeout)
        ))),
    }
}

/// How often a wait checks again when nothing it watches has changed: watches can be refused
/// (RBAC without `watch`) or cut (an outage), and some conditions move with time alone.
pub const RECHECK_AT_LEAST_EVERY: Duration = Duration::from_secs(2);

/// What wakes a wait: kube-runtime watchers whose every event (and every error or restart)
/// counts as "something changed". A wait re-checks its condition on each change rather than on
/// a timer, so it reacts at once and asks the API server nothing while nothing moves. The
/// watchers stop when this is dropped.
pub struct Changes {
    seen: tokio::sync::watch::Sender<u64>,
    watchers: Vec<tokio::task::AbortHandle>,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            seen: tokio::sync::watch::Sender::new(0),
            watchers: Vec::new(),
        }
    }
}

impl Changes {
    /// Adds a watch of the objects of kind `K` in `namespace` that `config` selects (all, a
    /// name, a node's).
    pub fn watch<K>(
        &mut self,
        client: &kube::Client,
        namespace: &str,
        config: kube::runtime::watcher::Config,
    ) where
        K: Resource<DynamicType = ()>,
    {
        // Watched as dynamic objects: one watcher in the binary for every kind (each typed
        // watcher costs its own copy of kube-runtime's state machine and decoder), and what
        // an event holds does not matter here, only that it came.
        let resource = kube::api::ApiResource::erase::<K>(&());
        self.watch_dynamic(
            Api::namespaced_with(client.clone(), namespace, &resource),
            config,
        );
    }

    /// As [`Changes::watch`], by builder.
    pub fn watching<K>(
        mut self,
        client: &kube::Client,
        namespace: &str,
        config: kube::runtime::watcher::Config,
    ) -> Self
    where
        K: Resource<DynamicType = ()>,
    {
        self.watch::<K>(client, namespace, config);
        self
    }

    fn watch_dynamic(
        &mut self,
        api: Api<kube::api::DynamicObject>,
        config: kube::runtime::watcher::Config,
    ) {
        use futures::StreamExt;
        use kube::runtime::WatchStreamExt;
        let seen = self.seen.clone();
        let task = tokio::spawn(async move {
            let mut events = kube::runtime::watcher(api, config)
                .default_backoff()
                .boxed();
            while let Some(event) = events.next().await {
                if let Err(e) = event {
                    tracing::debug!("watch for a wait: {e}");
                }
                seen.send_modify(|n| *n = n.wrapping_add(1));
            }
        });
        self.watchers.push(task.abort_handle());
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        for w in &self.watchers {
            w.abort();
        }
    }
}

/// Checks `check` now and again each time `changes` sees something change (at least every
/// [`RECHECK_AT_LEAST_EVERY`]) until it returns `Some`, with a spinner, or fails with
/// [`Error::Timeout`] at `deadline`. Transient API failures (a dropped connection, 429, 5xx)
/// mid-wait are not the end: the next round tries again. For conditions spanning several
/// objects, where one object's condition (`wait_for`) is not enough.
pub async fn until<T, F, Fut>(
    deadline: std::time::Instant,
    changes: &Changes,
    what: &str,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let mut seen = changes.seen.subscribe();
    let bar = spinner(format!("waiting for {what}"));
    let result = loop {
        seen.borrow_and_update();
        match check().await {
            Ok(Some(v)) => break Ok(v),
            Ok(None) => {}
            Err(e) if e.is_transient() => {}
            Err(e) => break Err(e),
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            break Err(Error::Timeout(format!("timed out waiting for {what}")));
        }
        let longest = RECHECK_AT_LEAST_EVERY.min(deadline - now);
        tokio::select! {
            _ = seen.changed() => {
                // Changes come in bursts (a rollout's pods, a watch's first list): one check.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ = tokio::time::sleep(longest) => {}
        }
    };
    bar.finish_and_clear();
    result
}
