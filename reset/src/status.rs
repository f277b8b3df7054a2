//! `kubectl pvcreset status [-A]`: the resets in progress or interrupted, read from the journal
//! annotations on StatefulSets and Deployments.

use clap::Args;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use kube::Client;
use kube::api::{Api, ListParams};
use serde::Serialize;
use shared::output::{self, PlanFormat, Table};
use shared::{Error, GlobalArgs};

use crate::journal::{ANNOTATION, HEARTBEAT_ANNOTATION, Journal, RUN_ANNOTATION};
use shared::lease::Liveness;

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// Look in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

/// A reset recorded on an owner.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub namespace: String,
    /// `statefulset/NAME` or `deployment/NAME`.
    pub owner: String,
    pub name: String,
    /// The owner's replicas now (the journal has the ones to go back to).
    pub replicas_now: i32,
    pub journal: Journal,
    /// The run that wrote the journal, as read: what taking it over expects to find.
    #[serde(skip)]
    pub run: Option<String>,
    /// The run still carrying the reset out, if one is (`pid PID on HOST`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    #[serde(skip)]
    pub liveness: Liveness,
}

impl Recorded {
    /// Refuses, before any change, to take over a reset another run is still carrying out.
    pub fn refuse_if_running(&self) -> shared::Result<()> {
        refuse_if_running(&self.liveness, &self.owner, &self.namespace)
    }
}

/// The refusal when `liveness` says another run is still driving the reset of `owner`.
pub fn refuse_if_running(liveness: &Liveness, owner: &str, namespace: &str) -> shared::Result<()> {
    match liveness.refusal(&format!("the reset of {owner} in namespace {namespace}")) {
        Some(why) => Err(Error::Failed(format!(
            "{why}; this run changed nothing (`{}` shows the reset)",
            crate::hints::status_command(namespace)
        ))),
        None => Ok(()),
    }
}

/// A journal annotation nothing can act on (unparsable, or edited to name no owner).
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub namespace: String,
    pub owner: String,
    pub name: String,
    pub error: String,
}

impl Unreadable {
    /// One line: what is wrong and how to look at it or drop it.
    pub fn to_error(&self) -> Error {
        let (kind, name) = self.owner.split_once('/').unwrap_or(("", &self.owner));
        Error::Failed(format!(
            "{} in namespace {} holds a journal pvcreset cannot act on ({}): look at it with `{}`; once the owner's replicas and claims are as they should be, remove it with `{}`",
            self.owner,
            self.namespace,
            self.error,
            crate::hints::kubectl(&format!("get {kind} {name} -o yaml"), &self.namespace),
            crate::hints::kubectl(
                &format!("annotate {kind} {name} {ANNOTATION}- {RUN_ANNOTATION}-"),
                &self.namespace
            ),
        ))
    }
}

/// Every recorded reset in `namespace` (all with None). Two list requests.
pub async fn find(client: &Client, namespace: Option<&str>) -> Result<Vec<Recorded>, kube::Error> {
    Ok(find_all(client, namespace).await?.0)
}

/// Every journal in `namespace` (all with None): those that can be acted on, and those that
/// cannot. Two list requests.
pub async fn find_all(
    client: &Client,
    namespace: Option<&str>,
) -> Result<(Vec<Recorded>, Vec<Unreadable>), kube::Error> {
    let (sts, deploy): (Api<StatefulSet>, Api<Deployment>) = match namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let lp = ListParams::default();
    let (sts, deploy) = tokio::try_join!(sts.list(&lp), deploy.list(&lp))?;
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    let mut push = |kind: &str,
                    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
                    replicas: i32| {
        let annotations = meta.annotations.as_ref();
        let Some(text) = annotations.and_then(|a| a.get(ANNOTATION)) else {
            return;
        };
        let namespace = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        let owner = format!("{kind}/{name}");
        let run = annotations.and_then(|a| a.get(RUN_ANNOTATION)).cloned();
        let liveness = Liveness::of(
            annotations
                .and_then(|a| a.get(HEARTBEAT_ANNOTATION))
                .map(String::as_str),
            run.as_deref().unwrap_or_default(),
            jiff::Timestamp::now(),
        );
        match Journal::from_annotation(text) {
            Ok(journal) => found.push(Recorded {
                namespace,
                owner,
                name,
                replicas_now: replicas,
                journal,
                run,
                running: match &liveness {
                    Liveness::Running { host, pid, .. } => Some(format!("pid {pid} on {host}")),
                    Liveness::Stopped => None,
                },
                liveness,
            }),
            Err(error) => unreadable.push(Unreadable {
                namespace,
                owner,
                name,
                error,
            }),
        }
    };
    for s in &sts.items {
        push(
            "statefulset",
            &s.metadata,
            s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        );
    }
    for d in &deploy.items {
        push(
            "deployment",
            &d.metadata,
            d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        );
    }
    found.sort_by(|a, b| (&a.namespace, &a.owner).cmp(&(&b.namespace, &b.owner)));
    unreadable.sort_by(|a, b| (&a.namespace, &a.owner).cmp(&(&b.namespace, &b.owner)));
    Ok((found, unreadable))
}

/// The recorded resets as a table that fits 120 columns with long names (pure); with `-A`
/// each namespace is a heading over its resets (a NAMESPACE column of astronomer's names made
/// the table 153 columns); several claims are counted here and listed by [`render_plan`] and
/// `-o json` (which also has the running process's whole `pid N on HOST`).
pub fn render(found: &[Recorded], with_namespace: bool) -> String {
    render_at(found, with_namespace, jiff::Timestamp::now())
}

fn render_at(found: &[Recorded], with_namespace: bool, now: jiff::Timestamp) -> String {
    let indent = if with_namespace { "  " } else { "" };
    let mut table = Table::new(&["owner", "step", "claims", "replicas", "age", "running"]);
    for r in found {
        let recorded: Vec<String> = r
            .journal
            .owners
            .iter()
            .map(|o| o.replicas.to_string())
            .collect();
        table.row([
            format!("{indent}{}", short_owner(&r.owner)),
            crate::execute::step_name(r.journal.step),
            match r.journal.claims.as_slice() {
                [one] => one.name.clone(),
                many => shared::plural::count(many.len(), "claim"),
            },
            format!("{} (was {})", r.replicas_now, recorded.join("/")),
            shared::duration::age(r.journal.started.parse().ok(), now),
            running_cell(&r.liveness),
        ]);
    }
    let text = table.render();
    if !with_namespace {
        return text;
    }
    // The headings go in after the table is aligned, so every row keeps the same columns.
    let mut out = String::with_capacity(text.len());
    let mut heading: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(r) = i.checked_sub(1).and_then(|row| found.get(row))
            && heading != Some(r.namespace.as_str())
        {
            out.push_str(&format!("{}:\n", r.namespace));
            heading = Some(&r.namespace);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// OWNER as kubectl's short names write it (`sts/web`, `deploy/api`): the table's columns are
/// counted; the commands printed under it spell the owner out.
fn short_owner(owner: &str) -> String {
    match owner.split_once('/') {
        Some(("statefulset", name)) => format!("sts/{name}"),
        Some(("deployment", name)) => format!("deploy/{name}"),
        _ => owner.to_string(),
    }
}

/// RUNNING: `pid N` for a run on this machine, `on HOST` for one elsewhere (its pid means
/// nothing here; a long host name is cut, whole in `-o json`), `no` when none is.
fn running_cell(liveness: &Liveness) -> String {
    match liveness {
        Liveness::Running {
            same_host: true,
            pid,
            ..
        } => format!("pid {pid}"),
        Liveness::Running { host, .. } => format!("on {}", shared::output::truncate(host, 11)),
        Liveness::Stopped => "no".into(),
    }
}

/// The table, then each reset's strategy and claims: the plan of a resume.
pub fn render_plan(found: &[Recorded]) -> String {
    let mut text = render(found, false);
    for r in found {
        text.push_str(&format!(
            "{}: {} strategy, claims {}\n",
            r.owner,
            format!("{:?}", r.journal.strategy).to_lowercase(),
            r.journal.claim_names()
        ));
    }
    text
}

pub async fn run(global: &GlobalArgs, args: &StatusArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = (!args.all_namespaces).then_some(target.namespace.as_str());
    let (found, unreadable) = find_all(&target.client, namespace)
        .await
        .map_err(|e| target.api_error(e))?;
    // A journal nothing can act on is the first thing the operator must hear about.
    if let Some(bad) = unreadable.first() {
        return Err(bad.to_error());
    }
    let text = match args.output {
        PlanFormat::Json => output::to_json(&serde_json::json!({ "items": found }))?,
        PlanFormat::Yaml => output::to_yaml(&serde_json::json!({ "items": found }))?,
        PlanFormat::Table if found.is_empty() => {
            let scope = namespace.map_or("any namespace".to_string(), |n| format!("namespace {n}"));
            eprintln!("No reset in progress in {scope}.");
            return Ok(());
        }
        PlanFormat::Table => {
            let mut text = render(&found, args.all_namespaces);
            text.push('\n');
            for r in &found {
                text.push_str(&format!(
                    "{}: {}\n",
                    r.owner,
                    crate::hints::resume_abort_commands(&r.owner, &r.namespace)
                ));
            }
            text
        }
    };
    output::print_stdout(&text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_fits_120_columns_with_the_scenarios_longest_names() {
        use crate::journal::{ClaimRecord, OwnerRecord, Step, Strategy};
        use shared::owner::WorkloadKind;
        let claim = |ordinal: u32| ClaimRecord {
            name: format!("logs-lunar-nuclear-3725-worker-{ordinal}"),
            uid: format!("u-{ordinal}"),
            recreate: None,
        };
        let recorded = |claims: Vec<ClaimRecord>| Recorded {
            namespace: "astronomer-ee-lunar-nuclear-3725".into(),
            owner: "statefulset/lunar-nuclear-3725-worker".into(),
            name: "lunar-nuclear-3725-worker".into(),
            replicas_now: 0,
            journal: Journal {
                strategy: Strategy::Scale,
                step: Step::ClaimsRecreated,
                started: "2026-01-01T00:00:00Z".into(),
                owners: vec![OwnerRecord {
                    kind: WorkloadKind::StatefulSet,
                    name: "lunar-nuclear-3725-worker".into(),
                    replicas: 3,
                    claim_retention: None,
                }],
                claims,
                pod: None,
                autoscalers: vec![],
                snapshots: vec![],
            },
            run: None,
            running: None,
            liveness: Liveness::Stopped,
        };
        let found = [
            recorded(vec![claim(1)]),
            recorded(vec![claim(0), claim(1), claim(2)]),
        ];
        let now: jiff::Timestamp = "2026-01-01T01:00:00Z".parse().unwrap();
        let text = render_at(&found, false, now);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 120,
                "{} columns: {line}",
                line.chars().count()
            );
        }
        assert!(
            text.contains("3 claims") && text.contains("0 (was 3)"),
            "{text}"
        );
        // -A: the namespace heads its resets, and the running process fits beside them.
        let mut all_namespaces = found.clone();
        all_namespaces[0].liveness = Liveness::Running {
            host: "vm-7".into(),
            pid: 19094,
            age: std::time::Duration::from_secs(1),
            same_host: true,
        };
        all_namespaces[1].namespace = "astronomer-ee-zodiac-cosmo-1172".into();
        all_namespaces[1].liveness = Liveness::Running {
            host: "ip-10-0-12-27.ec2.internal".into(),
            pid: 7,
            age: std::time::Duration::from_secs(1),
            same_host: false,
        };
        let all = render_at(&all_namespaces, true, now);
        let lines: Vec<&str> = all.lines().collect();
        assert!(lines[0].starts_with("OWNER"), "{all}");
        assert_eq!(lines[1], "astronomer-ee-lunar-nuclear-3725:", "{all}");
        assert!(
            lines[2].starts_with("  sts/lunar-nuclear-3725-worker")
                && lines[2].ends_with("pid 19094"),
            "{all}"
        );
        assert_eq!(lines[3], "astronomer-ee-zodiac-cosmo-1172:", "{all}");
        assert!(lines[4].ends_with("on ip-10-0-12…"), "{all}");
        for line in &lines {
            assert!(
                line.chars().count() <= 120,
                "{} columns: {line}\n{all}",
                line.chars().count()
            );
        }
    }
}
