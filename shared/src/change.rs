//! The flow every destructive command runs between reading the cluster and changing it, written
//! once: the target banner and the plan, the RBAC preflight of the plan's permissions, the dry
//! run, the confirmation (plain or typed) and the Ctrl-C accounting of the act that follows.
//! A plugin supplies its plan, its permission list and its question; then it acts.
//!
//! ```ignore
//! shared::change::show_plan(&target, args.output, &plan, plan::render)?;
//! let approved = Gate::new(&target, &args.change, "kubectl pvcreset doctor")
//!     .preflight(namespace, &needs)
//!     .confirm_typed("This deletes the claim data-web-0", "the statefulset's name", "web")
//!     .on_interrupt("the reset was under way; …")
//!     .approve()
//!     .await?;
//! if !approved { return Ok(()); } // a dry run: it said so
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::doctor::Permission;
use crate::output::{self, OutputFormat};
use crate::{ChangeArgs, Result, Target};

/// Prints the target banner, then the plan: as JSON or YAML on stdout when asked for (a
/// script's input), else `text(plan)` on stderr (the operator's). The same plan in each form,
/// so `--dry-run`, the prompt and `-o json` always agree.
pub fn show_plan<P: Serialize>(
    target: &Target,
    format: OutputFormat,
    plan: &P,
    text: impl FnOnce(&P) -> String,
) -> Result<()> {
    crate::banner::print(target);
    match format {
        OutputFormat::Json => output::print_stdout(&output::to_json(plan)?),
        OutputFormat::Yaml => output::print_stdout(&output::to_yaml(plan)?),
        _ => {
            let text = text(plan);
            match output::stderr_width() {
                Some(width) => eprint!("{}", output::wrap(&text, width)),
                None => eprint!("{text}"),
            }
        }
    }
    Ok(())
}

/// Which permissions the change needs, checked before its first write.
enum Needs<'a> {
    None,
    /// In one namespace.
    Namespace(&'a str, &'a [Permission]),
    /// Spread over namespaces (`""` holds the cluster-scoped ones), e.g. a node's pods.
    Namespaces(&'a BTreeMap<String, Vec<Permission>>),
}

/// What the operator is asked before the change.
enum Question<'a> {
    /// `question [y/N]`.
    YesNo(&'a str),
    /// Type `expected` (an object's name) before data is lost.
    Typed {
        what: &'a str,
        kind: &'a str,
        expected: &'a str,
    },
}

/// Preflight → dry run → confirmation → Ctrl-C accounting, for one change.
pub struct Gate<'a> {
    target: &'a Target,
    args: &'a ChangeArgs,
    doctor: &'a str,
    needs: Needs<'a>,
    question: Question<'a>,
    interrupted: Option<String>,
}

impl<'a> Gate<'a> {
    /// `doctor` is the plugin's doctor command, named when permissions are missing.
    pub fn new(target: &'a Target, args: &'a ChangeArgs, doctor: &'a str) -> Self {
        Gate {
            target,
            args,
            doctor,
            needs: Needs::None,
            question: Question::YesNo("Proceed?"),
            interrupted: None,
        }
    }

    /// The permissions the change needs in `namespace`.
    pub fn preflight(mut self, namespace: &'a str, needs: &'a [Permission]) -> Self {
        self.needs = Needs::Namespace(namespace, needs);
        self
    }

    /// The permissions the change needs, namespace by namespace.
    pub fn preflight_namespaces(mut self, needs: &'a BTreeMap<String, Vec<Permission>>) -> Self {
        self.needs = Needs::Namespaces(needs);
        self
    }

    /// Ask `question [y/N]`.
    pub fn confirm(mut self, question: &'a str) -> Self {
        self.question = Question::YesNo(question);
        self
    }

    /// Make the operator type `expected`, which `kind` names ("the statefulset's name").
    pub fn confirm_typed(mut self, what: &'a str, kind: &'a str, expected: &'a str) -> Self {
        self.question = Question::Typed {
            what,
            kind,
            expected,
        };
        self
    }

    /// What an interruption once the change has begun leaves behind and how to finish it
    /// (see [`crate::interrupt::changing`]); a command that journals sets it step by step.
    pub fn on_interrupt(mut self, note: impl Into<String>) -> Self {
        self.interrupted = Some(note.into());
        self
    }

    /// Ok(true): act now. Ok(false): a dry run, which has said that nothing was changed.
    /// Err: permissions missing, or the operator declined (exit 3); nothing was changed.
    pub async fn approve(self) -> Result<bool> {
        let dry_run = self.args.dry_run;
        match self.needs {
            Needs::None => {}
            Needs::Namespace(namespace, needs) => {
                crate::doctor::log_needs(namespace, needs);
                crate::doctor::preflight(self.target, namespace, needs, self.doctor, dry_run)
                    .await?
            }
            Needs::Namespaces(needs) => {
                crate::doctor::preflight_namespaces(self.target, needs, self.doctor, dry_run)
                    .await?
            }
        }
        if dry_run {
            eprintln!("dry run: nothing was changed");
            return Ok(false);
        }
        match self.question {
            Question::YesNo(question) => crate::confirm::confirm(question, self.args.yes)?,
            Question::Typed {
                what,
                kind,
                expected,
            } => crate::confirm::confirm_typed(what, kind, expected, self.args.yes)?,
        }
        if let Some(note) = self.interrupted {
            crate::interrupt::changing(note);
        }
        Ok(true)
    }
}
