//! Journals kept in annotations on the object a change is about (the node a drain empties, the
//! owner whose claims a reset replaces): written before the first change, advanced after every
//! step, removed at the end, so whatever interrupts a run, the next one knows how far it got.
//!
//! Every write is a merge patch carrying the resourceVersion the object was last read at (a
//! precondition: 409 Conflict unless it is current), and on each conflict the object is read
//! again and [`judge`]d: of two runs only the one whose expectation still holds writes. The
//! rule "a journal already exists" lives in [`judge`]: a first write never lands on another
//! run's journal, a take-over only on the journal it read, a run's own write only on its own.
//! The journal's heartbeat ([`crate::lease`]) goes in the same request, and is renewed while
//! the journal names this run.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use crate::lease::{self, Heartbeat, Liveness};
use crate::{Error, Result, Target};

/// The annotations a plugin's journals live in.
#[derive(Debug)]
pub struct Keys {
    /// The journal itself (JSON).
    pub journal: &'static str,
    /// The run that wrote it, in an annotation of its own; `None`: the journal's own `run`
    /// field names it.
    pub run: Option<&'static str>,
    /// The writing run's heartbeat.
    pub heartbeat: &'static str,
}

impl Keys {
    /// The run named by the journal in `annotations`: `Some("")` for a journal that names
    /// none (written by an older version), `Some("<unreadable>")` for one that is not JSON,
    /// None without a journal. With a run annotation of its own, that annotation, as it is.
    pub fn holder(&self, annotations: &BTreeMap<String, String>) -> Option<String> {
        if let Some(run) = self.run {
            return annotations.get(run).cloned();
        }
        let text = annotations.get(self.journal)?;
        Some(match serde_json::from_str::<Value>(text) {
            Ok(v) => v["run"].as_str().unwrap_or_default().to_string(),
            Err(_) => "<unreadable>".to_string(),
        })
    }

    /// What the object holds now.
    pub fn seen<'a>(&self, annotations: &'a BTreeMap<String, String>) -> Seen<'a> {
        Seen {
            run: self.holder(annotations),
            journal: annotations.get(self.journal).map(String::as_str),
            heartbeat: annotations.get(self.heartbeat).map(String::as_str),
        }
    }

    /// Whether a run other than `me` is still carrying out the change recorded in
    /// `annotations` ([`lease::Liveness`]); a journal of `me`'s is never that.
    pub fn liveness(&self, annotations: &BTreeMap<String, String>, me: &str) -> Liveness {
        let seen = self.seen(annotations);
        match seen.run {
            Some(run) if seen.journal.is_some() && run != me => {
                Liveness::of(seen.heartbeat, &run, jiff::Timestamp::now())
            }
            _ => Liveness::Stopped,
        }
    }

    /// The annotations a write sets: the journal with its run and heartbeat, or none of them.
    fn annotations(&self, desired: &Desired<'_>, me: &str) -> Option<Value> {
        let (journal, run, heartbeat) = match desired {
            Desired::Set(text) => (
                json!(text),
                json!(me),
                json!(Heartbeat::now(me).to_annotation()),
            ),
            Desired::Remove => (Value::Null, Value::Null, Value::Null),
            Desired::Keep => return None,
        };
        let mut annotations = json!({ self.journal: journal, self.heartbeat: heartbeat });
        if let Some(key) = self.run {
            annotations[key] = run;
        }
        Some(annotations)
    }
}

/// A new run's id: unique across the runs of one cluster (host, process and clock).
pub fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{}-{nanos}", lease::this_host(), std::process::id())
}

/// This process's run id, for plugins whose process is one run.
pub fn run_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(new_run_id)
}

/// A journal step's name as the journal spells it (its serde name): what `status` shows and
/// the "journal: STEP" progress lines print.
pub fn step_name(step: impl serde::Serialize) -> String {
    serde_json::to_value(step)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// What the object holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen<'a> {
    /// The run its journal names ([`Keys::holder`]).
    pub run: Option<String>,
    pub journal: Option<&'a str>,
    pub heartbeat: Option<&'a str>,
}

/// Whose journal a write may replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// A new change's first write: no journal on the object.
    Fresh,
    /// Taking a recorded change over from the run that wrote it (`Some("")` or `None`: a
    /// journal that names no run, written by an older version).
    From(Option<String>),
    /// This run's own journal.
    Mine,
}

/// What a write does to the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desired<'a> {
    /// Write this journal (JSON), naming this run: the run holds the change from then on.
    Set(&'a str),
    /// Remove it (the change is finished or undone).
    Remove,
    /// Leave it as it is and write only the rest of the patch: still refused if the journal
    /// is not the one expected.
    Keep,
}

/// Why a write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A first write found another run's journal.
    HeldByAnother,
    /// The journal this run expected was removed by another run (finished or undone).
    Finished,
    /// The journal this run expected was replaced by another run's.
    TakenOver,
    /// The object kept changing: every attempt met a conflict.
    KeptChanging,
}

/// The judgment of one write against what the object holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Write, conditional on the resourceVersion just read.
    Write,
    /// Nothing to write: it is already there (a write whose answer was lost went through).
    Done,
    Refuse(Conflict),
}

/// The rule of every journal write: a run writes over its own journal, a take-over over the
/// journal it read, a first write over none; anything else is another run's and refused.
/// `only_annotations`: the write changes nothing but the journal, so finding it already there
/// means it is done.
pub fn judge(
    expect: &Expect,
    seen: &Seen<'_>,
    desired: Desired<'_>,
    only_annotations: bool,
    me: &str,
) -> Verdict {
    let recorded = seen.journal.is_some();
    if seen.run.as_deref() == Some(me) && recorded {
        return match desired {
            Desired::Set(text) if only_annotations && seen.journal == Some(text) => Verdict::Done,
            _ => Verdict::Write,
        };
    }
    let lost = |recorded| {
        Verdict::Refuse(if recorded {
            Conflict::TakenOver
        } else {
            Conflict::Finished
        })
    };
    match expect {
        Expect::Fresh if recorded => Verdict::Refuse(Conflict::HeldByAnother),
        Expect::Fresh => Verdict::Write,
        Expect::From(previous) => {
            let same =
                seen.run.as_deref().unwrap_or_default() == previous.as_deref().unwrap_or_default();
            if recorded && same {
                Verdict::Write
            } else {
                lost(recorded)
            }
        }
        Expect::Mine if !recorded && desired == Desired::Remove => Verdict::Done,
        Expect::Mine => lost(recorded),
    }
}

/// What a plugin decides in a journal write: its refusals' wording and its own checks.
pub trait Rules<K> {
    /// The error for a refused write (its message says what to run next).
    fn conflict(&self, conflict: Conflict) -> Error;
    /// A first write: the object must still be as the change was planned on.
    fn still_as_planned(&self, _object: &K) -> Result<()> {
        Ok(())
    }
    /// A take-over: refused while the run that wrote the journal is still going.
    fn refuse_if_running(&self, liveness: &Liveness) -> Result<()>;
    /// The object is gone.
    fn gone(&self) -> Error;
}

/// One journal write on object `name` of `api`.
pub struct Write<'a, K: kube::Resource> {
    pub target: &'a Target,
    pub api: &'a Api<K>,
    pub name: &'a str,
    pub keys: &'static Keys,
    /// The run writing.
    pub me: &'a str,
    /// Names the heartbeat's renewal task (one per journal).
    pub lease_key: String,
    pub expect: Expect,
    /// The resourceVersion the object was last read at, to try first without reading it
    /// again; `None`: read it first.
    pub known: Option<String>,
    pub desired: Desired<'a>,
    /// The rest of the patch, in the same request (e.g. `{"spec": {"unschedulable": true}}`).
    pub also: Option<Value>,
}

const ATTEMPTS: usize = 10;

impl<K> Write<'_, K>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    /// Writes, judging each conflict; the object as written (or as found, when the write had
    /// already happened).
    pub async fn run(self, rules: &impl Rules<K>) -> Result<K> {
        let mut expect = self.expect.clone();
        let mut known = self.known.clone();
        let only_annotations = self.also.is_none();
        for _ in 0..ATTEMPTS {
            let resource_version = match known.take() {
                Some(rv) => Some(rv),
                None => {
                    let current = self
                        .api
                        .get_opt(self.name)
                        .await
                        .map_err(|e| self.target.api_error(e))?
                        .ok_or_else(|| rules.gone())?;
                    let seen = self.keys.seen(current.annotations());
                    match judge(&expect, &seen, self.desired, only_annotations, self.me) {
                        Verdict::Done => {
                            self.after_write();
                            return Ok(current);
                        }
                        Verdict::Refuse(conflict) => return Err(rules.conflict(conflict)),
                        Verdict::Write => {}
                    }
                    match &expect {
                        _ if seen.run.as_deref() == Some(self.me) => expect = Expect::Mine,
                        Expect::Fresh => rules.still_as_planned(&current)?,
                        Expect::From(_) => rules.refuse_if_running(&Liveness::of(
                            seen.heartbeat,
                            seen.run.as_deref().unwrap_or_default(),
                            jiff::Timestamp::now(),
                        ))?,
                        Expect::Mine => {}
                    }
                    current.meta().resource_version.clone()
                }
            };
            match self.patch(resource_version).await {
                Ok(written) => {
                    self.after_write();
                    return Ok(written);
                }
                // The object changed since it was read: read it again and judge.
                Err(kube::Error::Api(e)) if e.code == 409 => continue,
                Err(e) => return Err(self.target.api_error(e)),
            }
        }
        Err(rules.conflict(Conflict::KeptChanging))
    }

    async fn patch(&self, resource_version: Option<String>) -> kube::Result<K> {
        let mut patch = self.also.clone().unwrap_or_else(|| json!({}));
        patch["metadata"] = json!({});
        if let Some(rv) = resource_version.filter(|rv| !rv.is_empty()) {
            // A resourceVersion in a patch is a precondition: 409 unless it is current.
            patch["metadata"]["resourceVersion"] = json!(rv);
        }
        if let Some(annotations) = self.keys.annotations(&self.desired, self.me) {
            patch["metadata"]["annotations"] = annotations;
        }
        self.api
            .patch(self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
    }

    /// Starts renewing the heartbeat of a journal just written, or stops it with the journal.
    fn after_write(&self) {
        match self.desired {
            Desired::Set(_) => {
                let keys = self.keys;
                lease::keep_alive(
                    self.lease_key.clone(),
                    self.api.clone(),
                    self.name.to_string(),
                    keys.heartbeat,
                    self.me.to_string(),
                    move |object: &K, run: &str| {
                        keys.holder(object.annotations()).as_deref() == Some(run)
                    },
                );
            }
            Desired::Remove => lease::stop(&self.lease_key),
            Desired::Keep => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "me";

    fn seen(run: Option<&str>, journal: Option<&'static str>) -> Seen<'static> {
        Seen {
            run: run.map(String::from),
            journal,
            heartbeat: None,
        }
    }

    #[test]
    fn a_first_write_never_lands_on_another_runs_journal() {
        let other = seen(Some("other"), Some("{}"));
        assert_eq!(
            judge(&Expect::Fresh, &other, Desired::Set("{}"), true, ME),
            Verdict::Refuse(Conflict::HeldByAnother)
        );
        assert_eq!(
            judge(
                &Expect::Fresh,
                &seen(None, None),
                Desired::Set("{}"),
                true,
                ME
            ),
            Verdict::Write
        );
        // A journal written before journals named their run is still a journal.
        assert_eq!(
            judge(
                &Expect::Fresh,
                &seen(Some(""), Some("{}")),
                Desired::Set("{}"),
                true,
                ME
            ),
            Verdict::Refuse(Conflict::HeldByAnother)
        );
    }

    #[test]
    fn a_take_over_lands_only_on_the_journal_it_read() {
        let from = Expect::From(Some("old".into()));
        assert_eq!(
            judge(
                &from,
                &seen(Some("old"), Some("{}")),
                Desired::Set("x"),
                true,
                ME
            ),
            Verdict::Write
        );
        assert_eq!(
            judge(
                &from,
                &seen(Some("new"), Some("{}")),
                Desired::Set("x"),
                true,
                ME
            ),
            Verdict::Refuse(Conflict::TakenOver)
        );
        assert_eq!(
            judge(&from, &seen(None, None), Desired::Set("x"), true, ME),
            Verdict::Refuse(Conflict::Finished)
        );
        // A journal that names no run, taken over as read.
        assert_eq!(
            judge(
                &Expect::From(None),
                &seen(Some(""), Some("{}")),
                Desired::Set("x"),
                true,
                ME
            ),
            Verdict::Write
        );
    }

    #[test]
    fn a_runs_own_writes_stop_once_another_run_has_the_journal() {
        assert_eq!(
            judge(
                &Expect::Mine,
                &seen(Some(ME), Some("a")),
                Desired::Set("b"),
                true,
                ME
            ),
            Verdict::Write
        );
        assert_eq!(
            judge(
                &Expect::Mine,
                &seen(Some("x"), Some("a")),
                Desired::Set("b"),
                true,
                ME
            ),
            Verdict::Refuse(Conflict::TakenOver)
        );
        assert_eq!(
            judge(
                &Expect::Mine,
                &seen(None, None),
                Desired::Set("b"),
                true,
                ME
            ),
            Verdict::Refuse(Conflict::Finished)
        );
    }

    #[test]
    fn a_write_whose_answer_was_lost_is_not_written_twice() {
        assert_eq!(
            judge(
                &Expect::Mine,
                &seen(Some(ME), Some("a")),
                Desired::Set("a"),
                true,
                ME
            ),
            Verdict::Done
        );
        // With more than the journal in the same patch, write it again (harmless).
        assert_eq!(
            judge(
                &Expect::Mine,
                &seen(Some(ME), Some("a")),
                Desired::Set("a"),
                false,
                ME
            ),
            Verdict::Write
        );
        assert_eq!(
            judge(&Expect::Mine, &seen(None, None), Desired::Remove, true, ME),
            Verdict::Done
        );
    }

    #[test]
    fn the_holder_is_read_from_the_run_annotation_or_the_journal() {
        const INSIDE: Keys = Keys {
            journal: "j",
            run: None,
            heartbeat: "h",
        };
        const BESIDE: Keys = Keys {
            journal: "j",
            run: Some("r"),
            heartbeat: "h",
        };
        let with = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(INSIDE.holder(&with(&[])), None);
        assert_eq!(
            INSIDE.holder(&with(&[("j", r#"{"run":"42-7"}"#)])),
            Some("42-7".into())
        );
        assert_eq!(INSIDE.holder(&with(&[("j", "{}")])), Some(String::new()));
        assert_eq!(
            INSIDE.holder(&with(&[("j", "not json")])),
            Some("<unreadable>".into())
        );
        assert_eq!(
            BESIDE.holder(&with(&[("j", "{}"), ("r", "9")])),
            Some("9".into())
        );
        assert_eq!(
            BESIDE.annotations(&Desired::Remove, ME),
            Some(json!({"j": null, "r": null, "h": null}))
        );
        assert_eq!(INSIDE.annotations(&Desired::Keep, ME), None);
    }
}
