//! Test fixture for the confirmation prompts (driven in a pseudo-terminal by the e2e tests):
//! `confirm-prompt [--yes] [--typed NAME]` exits 0 when confirmed, with the suite's exit codes
//! otherwise.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let yes = args.iter().any(|a| a == "--yes");
    let typed = args
        .iter()
        .position(|a| a == "--typed")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let global = shared::GlobalArgs::default();
    shared::cli::run(&global, || async move {
        match typed {
            Some(name) => shared::confirm::confirm_typed(
                "Delete the volume and its data",
                "the claim's name",
                &name,
                yes,
            )?,
            None => shared::confirm::confirm("Proceed?", yes)?,
        }
        println!("confirmed");
        Ok(())
    })
}
