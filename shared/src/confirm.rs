//! Confirmation prompts: default No, `--yes` skips them, no terminal means refuse (never block).

use std::io::IsTerminal;

use dialoguer::Input;
use dialoguer::theme::ColorfulTheme;

use crate::error::{Error, Result};

/// Whether stdin can answer a prompt.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

fn refuse_without_terminal() -> Error {
    Error::Refused("refusing to change anything: no terminal to confirm on; re-run with --yes to proceed without a prompt".to_string())
}

fn declined() -> Error {
    Error::Declined("declined: nothing was changed".to_string())
}

/// The prompt's look once answered: neutral, whatever was typed. ColorfulTheme's green tick
/// and green answer drew a wrong typed confirmation as if it had been accepted.
fn theme() -> ColorfulTheme {
    let plain = console::Style::new().for_stderr();
    ColorfulTheme {
        success_prefix: plain.apply_to("›".to_string()),
        success_suffix: plain.apply_to("·".to_string()),
        values_style: plain,
        ..ColorfulTheme::default()
    }
}

/// Asks a yes/no question on stderr: `question [y/N]`, a whole line that acts only on Enter,
/// default No, as kubectl's own prompts (`y`/`yes`, any case, proceed; anything else declines).
/// A single keypress never decides, and nothing the operator typed is left over for the shell
/// (a `yes` typed at a key-at-a-time prompt used to run `es` afterwards). Ok means proceed.
pub fn confirm(question: &str, yes: bool) -> Result<()> {
    match read_line(format!("{question} [y/N]"), yes)? {
        None => Ok(()),
        Some(line) if is_yes(&line) => Ok(()),
        // No, Enter (the default), or anything else.
        Some(_) => Err(declined()),
    }
}

/// The answers that mean yes to a `[y/N]` prompt.
pub fn is_yes(line: &str) -> bool {
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Makes the operator type `expected` (an object's name, `kind` says which: "the claim's
/// name") before data is lost; the prompt states exactly what to type.
pub fn confirm_typed(what: &str, kind: &str, expected: &str, yes: bool) -> Result<()> {
    let Some(typed) = read_line(format!("{what}: type {kind} ({expected}) to confirm"), yes)?
    else {
        return Ok(());
    };
    match typed.trim() {
        t if t == expected => Ok(()),
        "" => Err(declined()),
        t => Err(Error::Declined(format!(
            "declined: typed {t:?}, expected {expected:?}; nothing was changed"
        ))),
    }
}

/// The line the operator enters at `prompt` (on stderr), for both kinds of confirmation:
/// None when `--yes` answered already; refused when no terminal can answer (never block);
/// declined on Ctrl-C or a closed terminal.
fn read_line(prompt: String, yes: bool) -> Result<Option<String>> {
    if yes {
        return Ok(None);
    }
    if !stdin_is_terminal() {
        return Err(refuse_without_terminal());
    }
    // Ctrl-C now means no (crate::interrupt's handler).
    let at_prompt = crate::interrupt::AtPrompt::show();
    let line: std::result::Result<String, _> = Input::with_theme(&theme())
        .with_prompt(prompt)
        .allow_empty(true)
        .interact_text();
    match line {
        Ok(line) => Ok(Some(line)),
        Err(e) => Err(declined_at_prompt(at_prompt, e)),
    }
}

/// A prompt ended by Ctrl-C: console raises SIGINT as well as returning an error, and the
/// signal's handler may run after the prompt is gone. The prompt stays marked as shown, so
/// that either way the answer is "no" (exit 3).
fn declined_at_prompt(at_prompt: crate::interrupt::AtPrompt, e: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(e) = e;
    if e.kind() != std::io::ErrorKind::Interrupted {
        return declined();
    }
    // The same words whichever of the two reports it, on a line of their own (the prompt
    // left the cursor after what was typed).
    let message = crate::interrupt::message();
    std::mem::forget(at_prompt);
    crate::interrupt::cut_mid_line();
    Error::Declined(message)
}

#[cfg(test)]
mod tests {
    use super::is_yes;

    #[test]
    fn only_y_or_yes_proceed() {
        for yes in ["y", "Y", "yes", "YES", " yes ", "Yes"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "n", "no", "x", "ye", "yess", "y y", "ok", "true"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
