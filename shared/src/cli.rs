//! Running a plugin's command: colour and logging set up from the global flags, a tokio
//! runtime, and errors printed as one line with the documented exit code.

use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};

use crate::error::Result;
use crate::flags::GlobalArgs;

/// `-v` levels: 1 shows the plugin's decisions, 2 adds each API request, 3+ adds kube detail.
/// Fixed targets (tracing-subscriber's `Targets`): no regex-backed environment filter needed.
fn log_filter(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "warn",
        1 => {
            "warn,shared=info,pvc_reset=info,kubectl_airflow=info,kubectl_pvcreset=info,kubectl_nodeevict=info,kubectl_argodeploy=info"
        }
        2 => {
            "info,shared=debug,pvc_reset=debug,kubectl_airflow=debug,kubectl_pvcreset=debug,kubectl_nodeevict=debug,kubectl_argodeploy=debug,kube_client=debug,tower_http=debug"
        }
        _ => "debug,hyper=info,hyper_util=info,rustls=info,h2=info",
    }
}

fn init_logging(verbosity: u8) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let targets: tracing_subscriber::filter::Targets =
        log_filter(verbosity).parse().unwrap_or_default();
    // Credentials never reach the logs: kube's HTTP trace records method and URL only.
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(verbosity >= 2),
        )
        .with(targets)
        .try_init();
}

/// Parses the command line. Help and version print as clap renders them; a usage error is
/// one line (clap's message and its tip, then where to read more), exit 2.
pub fn parse<C: clap::Parser>() -> C {
    match C::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                err.exit();
            }
            let name = C::command().get_name().to_string();
            eprintln!("{}", one_line_usage_error(&err.render().to_string(), &name));
            std::process::exit(i32::from(crate::error::exit::USAGE));
        }
    }
}

/// clap's rendered usage error as one line: the `error:` line, its tips, and the help hint.
pub fn one_line_usage_error(rendered: &str, name: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("error: invalid arguments");
    let tips: Vec<&str> = lines.filter_map(|l| l.strip_prefix("tip: ")).collect();
    let mut out = first.to_string();
    for tip in tips {
        out.push_str(&format!(" ({tip})"));
    }
    out.push_str(&format!("; see `{name} --help`"));
    out
}

/// Runs `command` and turns its result into the process exit code.
pub fn run<F, Fut>(global: &GlobalArgs, command: F) -> ExitCode
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<()>>,
{
    crate::output::init_color(global.no_color);
    init_logging(global.verbosity());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(crate::error::exit::FAILURE);
        }
    };
    crate::interrupt::install(&runtime);
    let result = runtime.block_on(command());
    if !crate::interrupt::claim_exit() {
        // A Ctrl-C's handler is reporting and exiting: let it.
        loop {
            std::thread::park();
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let label = "error:"
                .if_supports_color(Stream::Stderr, |t| t.red().bold().to_string())
                .to_string();
            eprintln!("{label} {}", crate::error::redact(&err.to_string()));
            if global.verbosity() > 0
                && let Some(detail) = err.detail()
            {
                eprintln!("  detail: {}", crate::error::redact(detail));
            }
            ExitCode::from(err.exit_code())
        }
    }
}

/// The subcommands every plugin has besides its own, flattened into each plugin's command
/// enum (`#[command(flatten)] Common(shared::cli::Common)`).
#[derive(clap::Subcommand, Debug)]
pub enum Common {
    /// Check the connection, the credentials and every permission this plugin needs
    Doctor(crate::doctor::DoctorArgs),
    /// Print a shell completion script: bash, zsh or fish
    Completion(crate::complete::CompletionArgs),
    /// kubectl's plugin completion protocol (used by kubectl_complete-<plugin>)
    #[command(name = "__complete", hide = true)]
    Complete(crate::complete::CompleteArgs),
    /// The man page (roff)
    #[command(name = "__man", hide = true)]
    Man(crate::complete::ManArgs),
}

/// Runs one of the [`Common`] subcommands of the plugin whose command line is `C`: `doctor`
/// checks `permissions`, `__complete` asks the plugin's live completion (`complete`).
pub async fn run_common<C: clap::CommandFactory>(
    common: &Common,
    global: &GlobalArgs,
    permissions: &[crate::doctor::Permission],
    complete: impl AsyncFnOnce(&crate::complete::CompleteArgs) -> Result<()>,
) -> Result<()> {
    match common {
        Common::Doctor(args) => crate::doctor::run(global, args, permissions).await,
        Common::Completion(args) => {
            crate::complete::print_script(C::command(), args.shell);
            Ok(())
        }
        Common::Complete(args) => complete(args).await,
        Common::Man(args) => crate::complete::man(C::command(), args),
    }
}

/// The environment variable that halts a resumable command right after it journals the named
/// step (e.g. `scaled-down`), so interruption tests can kill it at an exact step boundary.
pub const HALT_AFTER_STEP: &str = "KUBECTL_SUITE_HALT_AFTER_STEP";

/// Called after each journaled step. In debug builds (the ones the tests drive), with
/// [`HALT_AFTER_STEP`] naming the step, the command waits here until it is killed; release
/// builds compile the hook away.
pub async fn step_boundary(step: &str) {
    #[cfg(debug_assertions)]
    if std::env::var(HALT_AFTER_STEP).is_ok_and(|s| s == step) {
        eprintln!("halted after step {step} ({HALT_AFTER_STEP}): waiting to be interrupted");
        // Await rather than sleep: the runtime's worker stays free for the Ctrl-C handler.
        std::future::pending::<()>().await;
    }
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verbosity_has_a_filter_that_parses() {
        for v in 0..=9 {
            log_filter(v)
                .parse::<tracing_subscriber::filter::Targets>()
                .unwrap_or_else(|e| panic!("-v {v}: {e}"));
        }
    }

    #[test]
    fn usage_errors_are_one_line_with_the_tip_and_the_help_hint() {
        let rendered = "error: unrecognized subcommand 'bogus'\n\n  tip: a similar subcommand exists: 'logs'\n\nUsage: kubectl airflow [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_usage_error(rendered, "kubectl airflow"),
            "error: unrecognized subcommand 'bogus' (a similar subcommand exists: 'logs'); see `kubectl airflow --help`"
        );
    }
}
