//! Waiting for a condition by watching (not polling), with a timeout and a spinner on a
//! terminal's stderr (silent otherwise): one object's condition (`wait_for`), or a check over
//! several objects re-run whenever something it watches changes (`until` with `Changes`), read
//! from one watch's store (`Watched`) when it spans many objects.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use kube::Resource;
use kube::api::Api;
use kube::runtime::wait::{Condition, await_condition};
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

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

    /// Also wakes on `counter`, which another task bumps: a [`Watched`] store that several
    /// waits share ([`Watched::changes`]).
    pub fn following(mut self, mut counter: watch::Receiver<u64>) -> Self {
        let seen = self.seen.clone();
        let task = tokio::spawn(async move {
            while counter.changed().await.is_ok() {
                seen.send_modify(|n| *n = n.wrapping_add(1));
            }
        });
        self.watchers.push(task.abort_handle());
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

/// The objects one watch selects, kept up to date in memory for checks that read many of them
/// (a reflector): a wait over N objects then costs the API server one list and one watch, not a
/// read of each object at every check. A watch that fails (refused, cut, expired) is started
/// again from a fresh list after a pause of at most [`RECHECK_AT_LEAST_EVERY`], so the objects
/// never go stale: without `watch` permission this degrades to a list every few seconds, as a
/// wait that polls. The watch stops when this is dropped.
pub struct Watched<K> {
    state: Arc<Mutex<Listed<K>>>,
    changes: watch::Receiver<u64>,
    task: tokio::task::AbortHandle,
}

/// What a [`Watched`] holds: the objects by namespace and name, and whether a first list has
/// come in (before it, a missing object says nothing).
struct Listed<K> {
    objects: HashMap<(String, String), Arc<K>>,
    listed: bool,
}

impl<K> Watched<K>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    /// Starts watching the objects of `api` that `config` selects.
    pub fn start(api: Api<K>, config: watcher::Config) -> Watched<K> {
        let state = Arc::new(Mutex::new(Listed {
            objects: HashMap::new(),
            listed: false,
        }));
        let (bump, changes) = watch::channel(0u64);
        let task = tokio::spawn(follow(api, config, state.clone(), bump));
        Watched {
            state,
            changes,
            task: task.abort_handle(),
        }
    }

    fn state(&self) -> MutexGuard<'_, Listed<K>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the first list has come in.
    pub fn listed(&self) -> bool {
        self.state().listed
    }

    /// The object `namespace`/`name` ("" for a cluster-scoped one) as last seen; None when it
    /// is not there (or not listed yet: see [`Watched::listed`]).
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.state()
            .objects
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Every object as last seen.
    pub fn objects(&self) -> Vec<Arc<K>> {
        self.state().objects.values().cloned().collect()
    }

    /// A counter bumped after each change is applied (for [`Changes::following`]).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// Waits up to `timeout` for the first list; whether it came.
    pub async fn wait_listed(&self, timeout: Duration) -> bool {
        let mut changes = self.changes.clone();
        let listed = async {
            while !self.listed() {
                if changes.changed().await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, listed).await.unwrap_or(false)
    }
}

impl<K> Drop for Watched<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The task of a [`Watched`]: applies the watcher's events; a relist replaces the objects only
/// once complete (until then the last complete view stays); an error starts a fresh watcher.
async fn follow<K>(
    api: Api<K>,
    config: watcher::Config,
    state: Arc<Mutex<Listed<K>>>,
    bump: watch::Sender<u64>,
) where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    use futures::StreamExt;
    use kube::ResourceExt;
    use watcher::Event;
    let key = |o: &K| (o.namespace().unwrap_or_default(), o.name_any());
    let mut pause = Duration::from_millis(250);
    loop {
        let mut events = watcher(api.clone(), config.clone()).boxed();
        let mut relisted = None;
        while let Some(event) = events.next().await {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            match event {
                Ok(Event::Init) => relisted = Some(HashMap::new()),
                Ok(Event::InitApply(o)) => {
                    relisted
                        .get_or_insert_with(HashMap::new)
                        .insert(key(&o), Arc::new(o));
                }
                Ok(Event::InitDone) => {
                    s.objects = relisted.take().unwrap_or_default();
                    s.listed = true;
                    pause = Duration::from_millis(250);
                }
                Ok(Event::Apply(o)) => {
                    s.objects.insert(key(&o), Arc::new(o));
                }
                Ok(Event::Delete(o)) => {
                    s.objects.remove(&key(&o));
                }
                Err(e) => {
                    tracing::debug!("watch of a store: {e}; listing again");
                    break;
                }
            }
            drop(s);
            bump.send_modify(|n| *n = n.wrapping_add(1));
        }
        // Every waiter re-checks (a deadline may be near); then a fresh list.
        bump.send_modify(|n| *n = n.wrapping_add(1));
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RECHECK_AT_LEAST_EVERY);
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
