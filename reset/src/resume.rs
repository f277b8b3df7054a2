//! `kubectl pvcreset resume OWNER|--all`: finish interrupted resets from their journals.

use clap::Args;
use shared::output::{OutputFormat, PlanFormat};
use shared::{ChangeArgs, Error, GlobalArgs, Target};

use crate::execute::{self, Ctx};
use crate::status::{self, Recorded, Unreadable};

#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The owner holding the journal: NAME, statefulset/NAME or deployment/NAME
    #[arg(required_unless_present = "all")]
    pub owner: Option<String>,
    /// Every recorded reset of the namespace
    #[arg(long, conflicts_with = "owner")]
    pub all: bool,
    /// Output format of the resets to finish
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// The recorded reset `owner` names (NAME or kind/NAME), or a one-line error listing them.
pub fn pick<'a>(
    found: &'a [Recorded],
    owner: &str,
    namespace: &str,
) -> shared::Result<&'a Recorded> {
    let matches: Vec<&Recorded> = found
        .iter()
        .filter(|r| r.owner == owner.to_lowercase() || r.name == owner)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] if found.is_empty() => Err(Error::Failed(format!(
            "no reset is recorded in namespace {namespace}: nothing to do"
        ))),
        [] => Err(Error::Failed(format!(
            "no reset is recorded on {owner:?} in namespace {namespace}; recorded: {}",
            found
                .iter()
                .map(|r| r.owner.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Err(Error::Usage(format!(
            "{owner:?} is ambiguous: name one of {}",
            matches
                .iter()
                .map(|r| r.owner.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The unreadable journal `owner` names (NAME or kind/NAME), if any.
pub fn unreadable_named<'a>(unreadable: &'a [Unreadable], owner: &str) -> Option<&'a Unreadable> {
    unreadable
        .iter()
        .find(|u| u.owner == owner.to_lowercase() || u.name == owner)
}

pub async fn run(global: &GlobalArgs, args: &ResumeArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    let (found, unreadable) = status::find_all(&target.client, Some(&namespace))
        .await
        .map_err(|e| target.api_error(e))?;
    let chosen: Vec<&Recorded> = match &args.owner {
        Some(owner) => {
            if let Some(bad) = unreadable_named(&unreadable, owner) {
                return Err(bad.to_error());
            }
            vec![pick(&found, owner, &namespace)?]
        }
        None => {
            if let Some(bad) = unreadable.first() {
                return Err(bad.to_error());
            }
            if found.is_empty() {
                eprintln!("No reset is recorded in namespace {namespace}: nothing to do.");
                return Ok(());
            }
            found.iter().collect()
        }
    };
    continue_recorded(
        &target,
        &namespace,
        &chosen,
        args.output.into(),
        &args.change,
    )
    .await
}

/// Finishes the recorded resets `chosen`: shows them, checks the permissions, confirms,
/// takes each journal over from the run that wrote it (so two runs never drive one reset)
/// and drives it to the end. `resume`, and a reset run again with the same plan.
pub async fn continue_recorded(
    target: &Target,
    namespace: &str,
    chosen: &[&Recorded],
    output: OutputFormat,
    change: &ChangeArgs,
) -> shared::Result<()> {
    for recorded in chosen {
        recorded.refuse_if_running()?;
    }
    let shown: Vec<Recorded> = chosen.iter().map(|r| (*r).clone()).collect();
    shared::change::show_plan(
        target,
        output,
        &serde_json::json!({ "items": shown }),
        |_| status::render_plan(&shown),
    )?;
    // Every recorded reset's writes, each asked once.
    let mut needs: Vec<shared::doctor::Permission> = Vec::new();
    for recorded in chosen {
        for p in crate::journal::needed_permissions(&recorded.journal) {
            let key = |q: &shared::doctor::Permission| (q.verb, q.group, q.resource, q.subresource);
            if !needs.iter().any(|q| key(q) == key(&p)) {
                needs.push(p);
            }
        }
    }
    let question = format!(
        "Resume {} from where {} stopped?",
        shared::plural::count(chosen.len(), "reset"),
        if chosen.len() == 1 { "it" } else { "they" }
    );
    let doctor = crate::hints::doctor_command(namespace);
    let approved = shared::change::Gate::new(target, change, &doctor)
        .preflight(namespace, &needs)
        .confirm(&question)
        .approve()
        .await?;
    if !approved {
        return Ok(());
    }
    let ctx = Ctx::new(target, namespace, change.timeout);
    for recorded in chosen {
        eprintln!(
            "resuming the reset recorded on {} after step {}",
            recorded.owner,
            execute::step_name(recorded.journal.step)
        );
        let mut journal = recorded.journal.clone();
        execute::take_over(&ctx, &journal, recorded.run.clone()).await?;
        execute::drive(&ctx, &mut journal)
            .await
            .map_err(|e| crate::hints::with_resume_hint(e, &recorded.owner, namespace))?;
    }
    Ok(())
}
