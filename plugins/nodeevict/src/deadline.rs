//! `--force-after D`: a drain's deadline that holds, with Karpenter's terminationGracePeriod
//! semantics (kubernetes-sigs/karpenter pkg/controllers/node/termination/terminator/
//! terminator.go, `DeleteExpiringPods` and `podDeleteTimeWithGracePeriod`). The deadline is the
//! drain's start (the journal's `started`) + D, journaled so that `resume` keeps it. An eviction
//! a PodDisruptionBudget still refuses (429) becomes a deletion at the deadline less the pod's
//! terminationGracePeriodSeconds — so the pod still gets all of its grace period before the
//! deadline — and not before; the grace period sent is cut to what is left until the deadline
//! when less is left (as Karpenter clamps it). Pods the server accepts to evict are never
//! affected.
//!
//! The pure parts (deadlines, deletion times, the plan's line) come first; the one API call, the
//! deletion, last.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Preconditions};
use shared::Error;

use crate::execute::{Ctx, Reason};
use crate::journal::{NodeJournal, Options};
use crate::plan::{NodePlan, PodPlan, Verdict};

/// An evicted pod's deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtDeadline {
    /// The node's deadline.
    pub deadline: Timestamp,
    /// From when a refusal by its budget makes the pod a deletion: the deadline less its grace
    /// period.
    pub delete_at: Timestamp,
}

// ---- the flag ----

/// clap's parser of `--force-after`: a positive duration of whole seconds (it is journaled in
/// seconds, and a rerun must find the same).
pub fn parse(text: &str) -> Result<Duration, String> {
    if let Some(magnitude) = text.trim().strip_prefix('-')
        && shared::duration::parse(magnitude).is_ok()
    {
        return Err(format!(
            "{text:?} is negative: give how long after the drain starts a pod its budget still refuses is deleted, like 10m"
        ));
    }
    let d = shared::duration::parse(text)?;
    if d.is_zero() {
        return Err(
            "0 would delete every pod a budget refuses at once: give a positive duration, like 10m (--disable-eviction deletes every pod)"
                .into(),
        );
    }
    if d.subsec_nanos() != 0 {
        return Err(format!(
            "{text:?} is not a whole number of seconds: give one, like 90s"
        ));
    }
    Ok(d)
}

/// The usage errors of `--force-after` with the other flags: a run whose `--timeout` ends before
/// the deadline would give up first, and `--disable-eviction` leaves nothing to wait for.
pub fn check_usage(
    force_after: Option<Duration>,
    timeout: Duration,
    disable_eviction: bool,
) -> shared::Result<()> {
    let Some(d) = force_after else {
        return Ok(());
    };
    let show = shared::duration::format;
    if disable_eviction {
        return Err(Error::Usage(
            "--force-after has no use with --disable-eviction, which deletes every pod at once: give one or the other".into(),
        ));
    }
    if d >= timeout {
        return Err(Error::Usage(format!(
            "--force-after {} is not shorter than --timeout {}: the run would give up before its deadline; give a longer --timeout (e.g. --timeout {}) or a shorter --force-after",
            show(d),
            show(timeout),
            show(d + Duration::from_secs(300))
        )));
    }
    Ok(())
}

// ---- deadlines and deletion times (pure) ----

/// A time as Kubernetes writes it (whole seconds, UTC).
pub fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn after(t: Timestamp, seconds: i64) -> Timestamp {
    t.saturating_add(SignedDuration::from_secs(seconds))
        .unwrap_or(t)
}

fn seconds(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// The journal's deadline for a drain started at `started` (RFC 3339) with `options`.
pub fn of_start(started: &str, options: &Options) -> Option<String> {
    let secs = options.force_after_seconds?;
    let start: Timestamp = started.parse().ok()?;
    Some(stamp(after(start, seconds(secs))))
}

/// A recorded drain's deadline: the one journaled (a journal that lost it, edited by hand,
/// gets `started` + D again).
pub fn of_journal(journal: &NodeJournal) -> Option<Timestamp> {
    journal
        .deadline
        .as_deref()
        .and_then(|d| d.parse().ok())
        .or_else(|| of_start(&journal.started, &journal.options)?.parse().ok())
}

/// The grace period a deletion gives the pod: `--grace-period` when given, else its own.
pub fn grace_of(pod: &PodPlan, options: &Options) -> i64 {
    options
        .grace_period
        .unwrap_or(pod.grace_period_seconds)
        .max(0)
}

/// Times the plan's evictions against `deadline` (None: no `--force-after`): each evicted pod
/// gets its deletion time; those expected to be refused are named for the plan's reader, at
/// the time their deletion happens (not before the drain starts, when their grace period is
/// longer than D).
pub fn apply(plan: &mut NodePlan, deadline: Option<Timestamp>, options: &Options) {
    plan.deadline = None;
    plan.force_after = None;
    for p in plan.pods.iter_mut() {
        p.at_deadline = None;
        p.deadline_deletion = None;
    }
    let (Some(deadline), Some(secs)) = (deadline, options.force_after_seconds) else {
        return;
    };
    let start = after(deadline, -seconds(secs));
    plan.deadline = Some(stamp(deadline));
    plan.force_after = Some(shared::duration::format(Duration::from_secs(secs)));
    for p in plan.pods.iter_mut().filter(|p| p.verdict == Verdict::Evict) {
        let delete_at = after(deadline, -grace_of(p, options));
        p.at_deadline = Some(AtDeadline {
            deadline,
            delete_at,
        });
        if p.budget_refuses {
            p.deadline_deletion = Some(stamp(delete_at.max(start)));
        }
    }
}

/// The plan of a drain not started yet: the deadline counts from `now` (a dry run's start).
pub fn from_now(mut plan: NodePlan, options: &Options, now: Timestamp) -> NodePlan {
    let deadline = options
        .force_after_seconds
        .map(|secs| after(now, seconds(secs)));
    apply(&mut plan, deadline, options);
    plan
}

/// The plan timed against the journal's deadline: the one the drain runs with.
pub fn for_run(plan: &NodePlan, journal: &NodeJournal) -> NodePlan {
    let mut timed = plan.clone();
    apply(&mut timed, of_journal(journal), &journal.options);
    timed
}

/// The warning for a resume whose `--timeout` ends before the recorded deadline (the deadline
/// stays; this run stops first).
pub fn beyond_timeout(
    node: &str,
    journal: &NodeJournal,
    timeout: Duration,
    now: Timestamp,
) -> Option<String> {
    let deadline = of_journal(journal)?;
    let end = now
        .checked_add(SignedDuration::try_from(timeout).ok()?)
        .ok()?;
    (journal.step < crate::journal::Step::Evicted && deadline > end).then(|| {
        format!(
            "warning: the drain of {node} has its --force-after deadline at {}, after this run's --timeout ({}): pods a budget refuses until then are not deleted by this run",
            stamp(deadline),
            shared::duration::format(timeout)
        )
    })
}

/// Marks the owner's evicted pods on the node as evicted past a budget that refuses them
/// (`risk`): with a deadline they are no longer blockers.
pub fn evict_past_budget(indices: &[usize], plans: &mut [PodPlan], risk: &str) {
    for i in indices {
        let p = &mut plans[*i];
        if p.verdict == Verdict::Evict {
            p.budget_refuses = true;
            p.reason = format!(
                "{risk}; evicted with back-off, deleted at the deadline if the budget still refuses (--force-after)"
            );
        }
    }
}

/// The plan's line for the deadline (empty without one).
pub fn render(plan: &NodePlan) -> String {
    let (Some(deadline), Some(force_after)) = (&plan.deadline, &plan.force_after) else {
        return String::new();
    };
    let named: Vec<String> = plan
        .pods
        .iter()
        .filter_map(|p| {
            let at = p.deadline_deletion.as_ref()?;
            Some(format!("{}/{} at {at}", p.namespace, p.name))
        })
        .collect();
    let which = if named.is_empty() {
        " (no pod here is expected to be refused)".to_string()
    } else {
        format!(": {}", named.join(", "))
    };
    format!(
        "deadline: {deadline} (--force-after {force_after}): pods a budget still refuses are deleted then, each its grace period earlier{which}\n"
    )
}

/// What a budget's refusal of `pod` leads to, at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No deadline: back off and try again, as without `--force-after`.
    NoDeadline,
    /// Try again, waking no later than this (when the deletion is due).
    DueIn(Duration),
    /// Its deletion is due: delete it.
    Due,
}

pub fn after_refusal(pod: &PodPlan, now: Timestamp) -> Refused {
    match &pod.at_deadline {
        None => Refused::NoDeadline,
        Some(d) => match until(d.delete_at, now) {
            left if left.is_zero() => Refused::Due,
            left => Refused::DueIn(left),
        },
    }
}

/// How long from `now` to `t` (zero once past).
fn until(t: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(t.duration_since(now)).unwrap_or(Duration::ZERO)
}

/// The grace period of a deletion at the deadline, at `now`: the pod's (`grace`), cut to the
/// seconds left until the deadline when fewer are (Karpenter's clamp). A positive grace period
/// is never cut to 0, which removes the pod from the API at once, before its kubelet has stopped
/// it (kubectl delete: "Set to 1 for immediate shutdown").
pub fn deletion_grace(at: &AtDeadline, grace: i64, now: Timestamp) -> i64 {
    if grace <= 0 {
        return 0;
    }
    let left = until(at.deadline, now).as_secs_f64().ceil() as i64;
    grace.min(left).max(1)
}

/// When the evictions of `pod` give up: `pod_timeout` from now, and with a deadline never
/// before `pod_timeout` after its deletion is due (`--pod-timeout` must not give up on a pod its
/// budget refuses until then). The run's `--timeout` bounds it still.
pub fn give_up(pod: &PodPlan, pod_timeout: Duration) -> Instant {
    let now = Instant::now();
    let due = pod
        .at_deadline
        .map_or(Duration::ZERO, |d| until(d.delete_at, Timestamp::now()));
    now + due + pod_timeout
}

// ---- the deletion (an API call) ----

/// What follows a budget's refusal of an eviction.
pub enum Deletion {
    /// Deleted at the deadline: the line to print.
    Deleted(String),
    /// The pod was gone already, or replaced (its UID precondition failed).
    Gone,
    /// Evict again after at most this long (when its deletion is due, or `MAX`: no deadline;
    /// also after a transient failure of the deletion).
    Retry(Duration),
}

/// After a budget refused to evict `pod` (`budget`, the refusal's message): deletes it when its
/// deletion is due, else says how long until it is.
pub async fn on_refusal(
    ctx: &Ctx<'_>,
    node: &str,
    pod: &PodPlan,
    options: &Options,
    budget: &str,
) -> shared::Result<Deletion> {
    match (after_refusal(pod, Timestamp::now()), pod.at_deadline) {
        (Refused::Due, Some(at)) => delete(ctx, node, pod, &at, options, budget).await,
        (Refused::DueIn(left), _) => Ok(Deletion::Retry(left)),
        _ => Ok(Deletion::Retry(Duration::MAX)),
    }
}

/// Deletes `pod`, whose budget still refused it once its deletion was due, with its UID as
/// precondition (the Delete path's request), and records the Event on the node.
async fn delete(
    ctx: &Ctx<'_>,
    node: &str,
    pod: &PodPlan,
    at: &AtDeadline,
    options: &Options,
    budget: &str,
) -> shared::Result<Deletion> {
    let key = format!("{}/{}", pod.namespace, pod.name);
    let grace = deletion_grace(at, grace_of(pod, options), Timestamp::now());
    let dp = DeleteParams {
        grace_period_seconds: u32::try_from(grace).ok(),
        preconditions: Some(Preconditions {
            uid: Some(pod.uid.clone()),
            resource_version: None,
        }),
        ..Default::default()
    };
    match Api::<Pod>::namespaced(ctx.target.client.clone(), &pod.namespace)
        .delete(&pod.name, &dp)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => return Ok(Deletion::Gone),
        Err(kube::Error::Api(e)) if e.code < 500 && e.code != 429 => {
            return Err(ctx.target.api_error(kube::Error::Api(e)));
        }
        Err(e) => {
            // Again within a second: the deadline is now.
            tracing::debug!("deleting {key} at the deadline: {e}; retrying");
            return Ok(Deletion::Retry(Duration::from_secs(1)));
        }
    }
    let deadline = stamp(at.deadline);
    crate::execute::event(
        ctx.target,
        node,
        Reason::DeletedAtDeadline,
        &format!(
            "Deleted pod {key} at the --force-after deadline {deadline} with a grace period of {grace}s: its budget still refused ({budget})"
        ),
    )
    .await;
    Ok(Deletion::Deleted(format!(
        "deleted pod {key} at the deadline: its budget still refused ({budget}); grace period {grace}s, the deadline is {deadline}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn pod(name: &str, verdict: Verdict, grace: i64, budget_refuses: bool) -> PodPlan {
        PodPlan {
            grace_period_seconds: grace,
            budget_refuses,
            ..PodPlan::for_test("data", name, "StatefulSet/mongodb", verdict)
        }
    }

    fn options(force_after: Option<u64>, grace_period: Option<i64>) -> Options {
        Options {
            force_after_seconds: force_after,
            grace_period,
            ..Default::default()
        }
    }

    #[test]
    fn the_flag_takes_positive_whole_durations_only() {
        assert_eq!(parse("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert!(parse("0").unwrap_err().starts_with("0 would delete"));
        assert!(parse("0s").unwrap_err().starts_with("0 would delete"));
        assert!(parse("-5m").unwrap_err().contains("is negative"));
        assert!(
            parse("1.5s")
                .unwrap_err()
                .contains("whole number of seconds")
        );
        assert!(parse("soon").unwrap_err().starts_with("invalid duration"));
        // A flag taken for the value is not called negative.
        assert!(
            parse("--dry-run")
                .unwrap_err()
                .starts_with("invalid duration")
        );
    }

    #[test]
    fn a_deadline_past_the_timeout_or_with_deletes_only_is_a_usage_error() {
        let m = |s: u64| Duration::from_secs(s * 60);
        assert!(check_usage(None, m(5), true).is_ok());
        assert!(check_usage(Some(m(4)), m(5), false).is_ok());
        let late = check_usage(Some(m(10)), m(5), false).unwrap_err();
        assert!(matches!(late, Error::Usage(_)), "{late:?}");
        assert_eq!(
            late.to_string(),
            "--force-after 10m is not shorter than --timeout 5m: the run would give up before its deadline; give a longer --timeout (e.g. --timeout 15m) or a shorter --force-after"
        );
        assert!(matches!(
            check_usage(Some(m(5)), m(5), false),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            check_usage(Some(m(1)), m(5), true),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn the_deadline_counts_from_the_journal_s_start_and_is_kept() {
        let o = options(Some(600), None);
        assert_eq!(
            of_start("2026-11-25T10:00:00Z", &o).as_deref(),
            Some("2026-11-25T10:10:00Z")
        );
        assert_eq!(of_start("2026-11-25T10:00:00Z", &options(None, None)), None);
        let mut journal = NodeJournal {
            step: crate::journal::Step::Cordoned,
            started: "2026-11-25T10:00:00Z".into(),
            options: o,
            was_unschedulable: false,
            prescaled: Vec::new(),
            touched: Vec::new(),
            excluded_from_lbs: false,
            deadline: Some("2026-11-25T10:07:00Z".into()),
        };
        // The recorded deadline wins over started + D (never recomputed from a later start).
        assert_eq!(of_journal(&journal), Some(ts("2026-11-25T10:07:00Z")));
        let now = ts("2026-11-25T10:01:00Z");
        let ten = Duration::from_secs(600);
        assert_eq!(beyond_timeout("n1", &journal, ten, now), None);
        assert!(
            beyond_timeout("n1", &journal, Duration::from_secs(60), now)
                .unwrap()
                .contains("deadline at 2026-11-25T10:07:00Z, after this run's --timeout (1m)")
        );
        journal.deadline = None;
        assert_eq!(of_journal(&journal), Some(ts("2026-11-25T10:10:00Z")));
        journal.options.force_after_seconds = None;
        assert_eq!(of_journal(&journal), None);
    }

    #[test]
    fn each_pod_is_deleted_its_grace_period_before_the_deadline() {
        let mut plan = NodePlan {
            node: "n1".into(),
            pods: vec![
                pod("mongodb-2", Verdict::Evict, 30, true),
                pod("web-1", Verdict::Evict, 10, false),
                pod("slow-0", Verdict::Evict, 900, true),
                pod("fluentd", Verdict::Skip, 30, false),
                pod("debug", Verdict::Delete, 30, false),
            ],
            ..Default::default()
        };
        let now = ts("2026-11-25T10:00:00Z");
        let o = options(Some(600), None);
        plan = from_now(plan, &o, now);
        assert_eq!(plan.deadline.as_deref(), Some("2026-11-25T10:10:00Z"));
        assert_eq!(plan.force_after.as_deref(), Some("10m"));
        let at = |name: &str| {
            plan.pods
                .iter()
                .find(|p| p.name == name)
                .unwrap()
                .at_deadline
        };
        assert_eq!(
            at("mongodb-2").unwrap().delete_at,
            ts("2026-11-25T10:09:30Z")
        );
        assert_eq!(at("web-1").unwrap().delete_at, ts("2026-11-25T10:09:50Z"));
        // Only evictions are timed; a skipped or deleted pod has nothing to wait for.
        assert_eq!((at("fluentd"), at("debug")), (None, None));
        let named: Vec<(&str, Option<&str>)> = plan
            .pods
            .iter()
            .map(|p| (p.name.as_str(), p.deadline_deletion.as_deref()))
            .collect();
        assert_eq!(
            named,
            [
                ("mongodb-2", Some("2026-11-25T10:09:30Z")),
                ("web-1", None),
                // A grace period longer than D: deleted as soon as refused, not before the start.
                ("slow-0", Some("2026-11-25T10:00:00Z")),
                ("fluentd", None),
                ("debug", None),
            ]
        );
        assert_eq!(
            render(&plan),
            "deadline: 2026-11-25T10:10:00Z (--force-after 10m): pods a budget still refuses are deleted then, each its grace period earlier: data/mongodb-2 at 2026-11-25T10:09:30Z, data/slow-0 at 2026-11-25T10:00:00Z\n"
        );
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["deadline"], "2026-11-25T10:10:00Z");
        assert_eq!(json["pods"][0]["deadlineDeletion"], "2026-11-25T10:09:30Z");
        assert!(json["pods"][1].get("deadlineDeletion").is_none(), "{json}");

        // --grace-period is every pod's grace period.
        let given = from_now(plan.clone(), &options(Some(600), Some(5)), now);
        assert_eq!(
            given.pods[0].at_deadline.unwrap().delete_at,
            ts("2026-11-25T10:09:55Z")
        );
        // Without --force-after nothing is timed, and the plan says nothing.
        let none = from_now(plan, &options(None, None), now);
        assert!(none.pods.iter().all(|p| p.at_deadline.is_none()));
        assert_eq!(none.deadline, None);
        assert_eq!(render(&none), "");
    }

    #[test]
    fn a_refusal_deletes_only_once_the_deletion_is_due() {
        let mut p = pod("mongodb-2", Verdict::Evict, 30, true);
        assert_eq!(
            after_refusal(&p, ts("2026-11-25T10:00:00Z")),
            Refused::NoDeadline
        );
        p.at_deadline = Some(AtDeadline {
            deadline: ts("2026-11-25T10:10:00Z"),
            delete_at: ts("2026-11-25T10:09:30Z"),
        });
        assert_eq!(
            after_refusal(&p, ts("2026-11-25T10:09:00Z")),
            Refused::DueIn(Duration::from_secs(30))
        );
        assert_eq!(after_refusal(&p, ts("2026-11-25T10:09:30Z")), Refused::Due);
        assert_eq!(after_refusal(&p, ts("2026-11-25T10:12:00Z")), Refused::Due);
    }

    #[test]
    fn the_grace_period_is_cut_to_what_is_left_but_never_to_zero() {
        let at = AtDeadline {
            deadline: ts("2026-11-25T10:10:00Z"),
            delete_at: ts("2026-11-25T10:09:30Z"),
        };
        assert_eq!(deletion_grace(&at, 30, ts("2026-11-25T10:09:30Z")), 30);
        // A moment late: still the full 30 s (rounded up), not 29.
        let late = ts("2026-11-25T10:09:30Z") + SignedDuration::from_millis(300);
        assert_eq!(deletion_grace(&at, 30, late), 30);
        // Longer than what is left (a resume after a pause, or a grace period longer than D).
        assert_eq!(deletion_grace(&at, 900, ts("2026-11-25T10:09:50Z")), 10);
        assert_eq!(deletion_grace(&at, 30, ts("2026-11-25T10:15:00Z")), 1);
        // --grace-period 0 asked for it.
        assert_eq!(deletion_grace(&at, 0, ts("2026-11-25T10:09:30Z")), 0);
    }

    #[test]
    fn the_pod_timeout_waits_for_the_deletion() {
        let mut p = pod("mongodb-2", Verdict::Evict, 30, true);
        let timeout = Duration::from_secs(60);
        let plain = give_up(&p, timeout);
        assert!(plain <= Instant::now() + timeout);
        p.at_deadline = Some(AtDeadline {
            deadline: Timestamp::now() + SignedDuration::from_secs(630),
            delete_at: Timestamp::now() + SignedDuration::from_secs(600),
        });
        let later = give_up(&p, timeout);
        assert!(
            later >= Instant::now() + Duration::from_secs(655),
            "{:?}",
            later - Instant::now()
        );
    }

    #[test]
    fn budget_blocked_pods_are_evicted_and_marked() {
        let mut plans = vec![
            pod("mongodb-2", Verdict::Evict, 30, false),
            pod("scratch", Verdict::Blocked, 30, false),
        ];
        evict_past_budget(&[0, 1], &mut plans, "PDB mongodb allows 0 disruptions");
        assert!(plans[0].budget_refuses);
        assert!(
            plans[0]
                .reason
                .starts_with("PDB mongodb allows 0 disruptions; evicted with back-off"),
            "{}",
            plans[0].reason
        );
        assert!(!plans[1].budget_refuses);
    }
}
