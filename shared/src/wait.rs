//! Waiting for a condition by watching (not polling), with a timeout and a spinner on a
//! terminal's stderr (silent otherwise).

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

/// Polls `check` every `every` until it returns `Some`, with a spinner, or fails with
/// [`Error::Timeout`] at `deadline`. Transient API failures (a dropped connection, 429, 5xx)
/// mid-wait are not the end: the next round tries again. For conditions spanning several
/// objects, where watching one is not enough.
pub async fn until<T, F, Fut>(
    deadline: std::time::Instant,
    every: Duration,
    what: &str,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let bar = spinner(format!("waiting for {what}"));
    let result = loop {
        match check().await {
            Ok(Some(v)) => break Ok(v),
            Ok(None) => {}
            Err(e) if e.is_transient() => {}
            Err(e) => break Err(e),
        }
        if std::time::Instant::now() >= deadline {
            break Err(Error::Timeout(format!("timed out waiting for {what}")));
        }
        tokio::time::sleep(every).await;
    };
    bar.finish_and_clear();
    result
}
