//! Whether the run that wrote a journal is still going: its heartbeat, an annotation beside the
//! journal naming the run, its host and process, renewed while the run holds the journal.
//!
//! A rerun or `resume` that finds a journal takes it over only when its run has stopped: on the
//! same machine when its process is gone (so a rerun right after a kill or a Ctrl-C goes on at
//! once), elsewhere when its heartbeat is older than [`EXPIRES_AFTER`] (the way a Kubernetes
//! Lease expires: client-go's leaderelection treats a holder as gone once `renewTime` is older
//! than `leaseDuration`, tools/leaderelection/leaderelection.go). Without this, a second copy
//! of a command started while the first was still running took its journal over and both went
//! on changing the cluster (found by the chaos soak, seed 100167).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How often a running run renews its heartbeat.
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// A heartbeat from another machine older than this means its run has stopped.
pub const EXPIRES_AFTER: Duration = Duration::from_secs(45);

/// The heartbeat's content (JSON in the annotation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The run, as named in the journal it belongs to.
    pub run: String,
    pub host: String,
    pub pid: u32,
    /// When it was last renewed (RFC 3339, the client's clock).
    pub renewed: jiff::Timestamp,
}

impl Heartbeat {
    /// This process's heartbeat, as of now, for the run named `run`.
    pub fn now(run: &str) -> Heartbeat {
        Heartbeat {
            run: run.to_string(),
            host: this_host(),
            pid: std::process::id(),
            renewed: jiff::Timestamp::now(),
        }
    }

    /// The annotation's value.
    pub fn to_annotation(&self) -> String {
        // Strings, a number and a timestamp always serialize; were it ever to fail, an empty
        // heartbeat reads as "stopped", never as a panic.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Who is running the change recorded in a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The run is still going: leave its journal alone.
    Running {
        host: String,
        pid: u32,
        /// How long ago it renewed its heartbeat.
        age: Duration,
        /// On this machine, its process was found; elsewhere, only the heartbeat's age counts.
        same_host: bool,
    },
    /// Nothing is running it: it may be resumed, rerun or aborted.
    Stopped,
}

impl Liveness {
    /// Judges the heartbeat found beside a journal written by `journal_run`: a heartbeat of
    /// another run (an earlier one, left over) or none at all means the journal's run stopped.
    pub fn of(heartbeat: Option<&str>, journal_run: &str, now: jiff::Timestamp) -> Liveness {
        let Some(beat) = heartbeat.and_then(|text| serde_json::from_str::<Heartbeat>(text).ok())
        else {
            return Liveness::Stopped;
        };
        if beat.run != journal_run || journal_run.is_empty() {
            return Liveness::Stopped;
        }
        let age = now
            .duration_since(beat.renewed)
            .unsigned_abs()
            .min(Duration::from_secs(u32::MAX.into()));
        let same_host = beat.host == this_host();
        let running = if same_host {
            process_exists(beat.pid)
        } else {
            age < EXPIRES_AFTER
        };
        if running {
            Liveness::Running {
                host: beat.host,
                pid: beat.pid,
                age,
                same_host,
            }
        } else {
            Liveness::Stopped
        }
    }

    /// For a refusal: who holds it and what the operator can do. `what` names the change, e.g.
    /// "the drain of node N".
    pub fn refusal(&self, what: &str) -> Option<String> {
        let Liveness::Running {
            host,
            pid,
            age,
            same_host,
        } = self
        else {
            return None;
        };
        let secs = age.as_secs();
        Some(if *same_host {
            format!(
                "another run (process {pid} on this machine, heard from {secs}s ago) is still carrying out {what}: let it finish, or stop it (Ctrl-C, or `kill {pid}`) and run this again"
            )
        } else {
            let wait = EXPIRES_AFTER.as_secs().saturating_sub(secs).max(1);
            format!(
                "another run (process {pid} on {host}, heard from {secs}s ago) is still carrying out {what}: let it finish, or stop it; should it have died, run this again in {wait}s, once its heartbeat is {}s old",
                EXPIRES_AFTER.as_secs()
            )
        })
    }
}

/// Renews the heartbeat of `run` in annotation `annotation` of object `name`, every
/// [`RENEW_EVERY`], while `still_ours` says the journal there is this run's; stops by itself
/// once it is not (finished, undone or taken over) or when [`stop`] is called with the same
/// `key`. Starting it again while it runs does nothing. Each renewal is conditional on the
/// object as read (its resourceVersion), so it never lands on a journal that changed meanwhile;
/// a failed round waits for the next (a heartbeat lasts several).
pub fn keep_alive<K, F>(
    key: String,
    api: kube::Api<K>,
    name: String,
    annotation: &'static str,
    run: String,
    still_ours: F,
) where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
    F: Fn(&K, &str) -> bool + Send + Sync + 'static,
{
    let mut tasks = tasks().lock().unwrap_or_else(|e| e.into_inner());
    if tasks.get(&key).is_some_and(|t| !t.is_finished()) {
        return;
    }
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            match renew(&api, &name, annotation, &run, &still_ours).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::debug!("heartbeat on {name} not renewed this round: {e}"),
            }
        }
    });
    tasks.insert(key, task.abort_handle());
}

/// Stops the renewals started with `key` (the journal was removed).
pub fn stop(key: &str) {
    if let Some(task) = tasks()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(key)
    {
        task.abort();
    }
}

type Tasks = std::sync::Mutex<std::collections::BTreeMap<String, tokio::task::AbortHandle>>;

fn tasks() -> &'static Tasks {
    static TASKS: std::sync::OnceLock<Tasks> = std::sync::OnceLock::new();
    TASKS.get_or_init(Default::default)
}

/// One renewal: false once the journal on the object is no longer this run's.
async fn renew<K>(
    api: &kube::Api<K>,
    name: &str,
    annotation: &str,
    run: &str,
    still_ours: &impl Fn(&K, &str) -> bool,
) -> Result<bool, kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let Some(current) = api.get_opt(name).await? else {
        return Ok(false);
    };
    if !still_ours(&current, run) {
        return Ok(false);
    }
    let patch = serde_json::json!({"metadata": {
        "resourceVersion": current.meta().resource_version,
        "annotations": { annotation: Heartbeat::now(run).to_annotation() },
    }});
    api.patch(
        name,
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&patch),
    )
    .await?;
    Ok(true)
}

/// This machine's name, as heartbeats record it.
pub fn this_host() -> String {
    #[cfg(unix)]
    {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").unwrap_or_default()
    }
}

/// Whether a process with this id exists on this machine (a process of another user counts).
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e == rustix::io::Errno::PERM,
        }
    }
    #[cfg(not(unix))]
    {
        // Without a way to look, a heartbeat of this machine is trusted as long as another's.
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(run: &str, host: &str, pid: u32, renewed: jiff::Timestamp) -> String {
        Heartbeat {
            run: run.into(),
            host: host.into(),
            pid,
            renewed,
        }
        .to_annotation()
    }

    #[test]
    fn no_heartbeat_or_another_runs_means_stopped() {
        let now = jiff::Timestamp::now();
        assert_eq!(Liveness::of(None, "r1", now), Liveness::Stopped);
        assert_eq!(Liveness::of(Some("not json"), "r1", now), Liveness::Stopped);
        let mine = beat("r0", &this_host(), std::process::id(), now);
        assert_eq!(Liveness::of(Some(&mine), "r1", now), Liveness::Stopped);
        assert_eq!(Liveness::of(Some(&mine), "", now), Liveness::Stopped);
    }

    #[test]
    fn on_this_machine_the_process_decides() {
        let now = jiff::Timestamp::now();
        let old = now - jiff::SignedDuration::from_secs(3600);
        // This test's own process exists, however old its heartbeat.
        let alive = beat("r1", &this_host(), std::process::id(), old);
        assert!(matches!(
            Liveness::of(Some(&alive), "r1", now),
            Liveness::Running {
                same_host: true,
                ..
            }
        ));
        // A process id above the kernel's maximum (2^22) names no process.
        let dead = beat("r1", &this_host(), 4_194_304 + 17, now);
        assert_eq!(Liveness::of(Some(&dead), "r1", now), Liveness::Stopped);
    }

    #[test]
    fn from_another_machine_the_heartbeats_age_decides() {
        let now = jiff::Timestamp::now();
        let fresh = beat(
            "r1",
            "elsewhere.example",
            1,
            now - jiff::SignedDuration::from_secs(5),
        );
        let running = Liveness::of(Some(&fresh), "r1", now);
        let message = running.refusal("the drain of node n1").unwrap();
        assert!(
            message.contains("process 1 on elsewhere.example"),
            "{message}"
        );
        assert!(message.contains("run this again in 40s"), "{message}");
        let stale = beat(
            "r1",
            "elsewhere.example",
            1,
            now - jiff::SignedDuration::from_secs(46),
        );
        assert_eq!(Liveness::of(Some(&stale), "r1", now), Liveness::Stopped);
        assert_eq!(Liveness::Stopped.refusal("x"), None);
    }
}
