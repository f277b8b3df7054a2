//! `kubectl pvcreset resume OWNER|--all`: finish interrupted resets from their journals.

use std::time::Instant;

use clap::Args;
use shared::{ChangeArgs, Error, GlobalArgs};

use crate::execute::{self, Ctx};
use crate::status::{self, Recorded};

#[derive(Args, Debug, Clone)]
pub struct ResumeArgs {
    /// The owner holding the journal: NAME, statefulset/NAME or deployment/NAME
    #[arg(required_unless_present = "all")]
    pub owner: Option<String>,
    /// Every recorded reset of the namespace
    #[arg(long, conflicts_with = "owner")]
    pub all: bool,
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

pub async fn run(global: &GlobalArgs, args: &ResumeArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let namespace = target.namespace.clone();
    let found = status::find(&target.client, Some(&namespace))
        .await
        .map_err(|e| target.api_error(e))?;
    let chosen: Vec<&Recorded> = match &args.owner {
        Some(owner) => vec![pick(&found, owner, &namespace)?],
        None if found.is_empty() => {
            eprintln!("No reset is recorded in namespace {namespace}: nothing to do.");
            return Ok(());
        }
        None => found.iter().collect(),
    };
    shared::banner::print(&target);
    eprint!(
        "{}",
        status::render(
            &found
                .iter()
                .filter(|r| chosen.iter().any(|c| c.owner == r.owner))
                .cloned()
                .collect::<Vec<_>>()
        )
    );
    for recorded in &chosen {
        shared::doctor::preflight(
            &target,
            &namespace,
            &crate::reset::needed_permissions(&recorded.journal),
            "kubectl pvcreset doctor",
            args.change.dry_run,
        )
        .await?;
    }
    if args.change.dry_run {
        eprintln!("dry run: nothing was changed");
        return Ok(());
    }
    shared::confirm::confirm(
        &format!("Resume {} reset(s) from where they stopped?", chosen.len()),
        args.change.yes,
    )?;
    let ctx = Ctx {
        target: &target,
        namespace: namespace.clone(),
        deadline: Instant::now() + args.change.timeout,
    };
    for recorded in chosen {
        eprintln!(
            "resuming {} at: {}",
            recorded.owner,
            recorded.journal.step.describe()
        );
        let mut journal = recorded.journal.clone();
        execute::drive(&ctx, &mut journal)
            .await
            .map_err(|e| crate::reset::with_resume_hint(e, &recorded.owner, &namespace))?;
    }
    Ok(())
}
