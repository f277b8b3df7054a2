//! Running a plugin's command: colour and logging set up from the global flags, a tokio
//! runtime, and errors printed as one line with the documented exit code.

use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};

use crate::error::Result;
use crate::flags::GlobalArgs;

/// The suite's own crates (tracing targets): only these log below `--verbosity 6`.
const SUITE_CRATES: [&str; 6] = [
    "shared",
    "pvc_reset",
    "kubectl_airflow",
    "kubectl_pvcreset",
    "kubectl_nodeevict",
    "kubectl_argodeploy",
];

/// Verbosity levels: 0 only the suite's warnings (a library's error is the suite's one-line
/// error, never a second line); 1 (`-v`) the suite's requests and decisions; 2-5 their detail;
/// 6-8 (as kubectl's -v=6+) also the client library's own request logs; 9 everything.
/// Fixed targets (tracing-subscriber's `Targets`): no regex-backed environment filter needed.
fn log_filter(verbosity: u8) -> String {
    let own = |level: &str| {
        SUITE_CRATES
            .iter()
            .map(|c| format!("{c}={level}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    match verbosity {
        0 => own("warn"),
        1 => own("info"),
        2..=5 => own("debug"),
        6..=8 => format!(
            "{},kube=debug,kube_client=debug,tower_http=debug",
            own("debug")
        ),
        _ => "debug,hyper=info,hyper_util=info,rustls=info,h2=info".to_string(),
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
/// one line (clap's whole message: the argument, its possible values, the tip), then the help
/// of the subcommand that was being parsed, exit 2.
pub fn parse<C: clap::Parser>() -> C {
    exit_quietly_when_the_output_is_closed();
    let args = arguments(std::env::args_os().collect());
    let parsed = command::<C>()
        .try_get_matches_from(&args)
        .and_then(|matches| C::from_arg_matches(&matches));
    match parsed {
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
            let words: Vec<String> = args
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let path = subcommand_path(&command::<C>(), &words);
            eprintln!("{}", one_line_usage_error(&err.render().to_string(), &path));
            std::process::exit(i32::from(crate::error::exit::USAGE));
        }
    }
}

/// The command line to parse. Run under the name `kubectl_complete-<plugin>` (a link to the
/// plugin, which is how `completion --help` says to install kubectl's completion), the plugin
/// answers kubectl's completion protocol: the words are `__complete`'s.
fn arguments(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let invoked_as = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if invoked_as.starts_with("kubectl_complete-") {
        args.insert(1, "__complete".into());
    }
    args
}

/// Exit status of a process whose reader went away (`| head`): 128 + SIGPIPE, what a shell
/// shows for any Unix tool killed by it.
const CLOSED_PIPE: i32 = 141;

/// `| head` closes stdout early; the next `println!` then panics with EPIPE (Rust ignores
/// SIGPIPE, and restoring it would need unsafe code). Turn that panic into a quiet exit, as
/// `cat` and kubectl end: no panic message, exit 141 — after saying how to finish when the
/// output closed in the middle of a change.
fn exit_quietly_when_the_output_is_closed() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("Broken pipe") || message.contains("os error 32") {
            if crate::interrupt::in_change() && crate::interrupt::claim_exit() {
                eprintln!(
                    "error: the output was closed; {}",
                    crate::interrupt::message()
                );
            }
            std::process::exit(CLOSED_PIPE);
        }
        default_hook(info);
    }));
}

/// The plugin's command line as parsed, printed in help and man pages, and completed: the
/// derived one with the help of the shared subcommands named for this plugin.
pub fn command<C: clap::CommandFactory>() -> clap::Command {
    let cmd = C::command();
    let name = cmd.get_name().to_string();
    cmd.mut_subcommand("completion", |c| crate::complete::completion_help(c, &name))
        .mut_subcommand("doctor", |c| crate::doctor::doctor_help(c, &name))
}

/// `kubectl PLUGIN [SUBCOMMAND…]`: the command whose help explains the arguments the user
/// got wrong — each argument that names a subcommand (or its alias) of the one before.
pub fn subcommand_path(command: &clap::Command, args: &[String]) -> String {
    let mut path = command.get_name().to_string();
    let mut current = command;
    for arg in args {
        if let Some(sub) = current.get_subcommands().find(|s| {
            !s.is_hide_set() && (s.get_name() == arg || s.get_all_aliases().any(|a| a == arg))
        }) {
            path.push(' ');
            path.push_str(sub.get_name());
            current = sub;
        }
    }
    path
}

/// clap's rendered usage error as one line: every line of the message (the missing argument's
/// name, `[possible values: …]`), its tips in parentheses, then where to read more. The usage
/// synopsis and clap's own "try --help" are left out: the hint replaces them.
pub fn one_line_usage_error(rendered: &str, command_path: &str) -> String {
    let mut message = Vec::new();
    let mut tips = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        match line.strip_prefix("tip: ") {
            Some(tip) => tips.push(format!("({tip})")),
            None if !line.is_empty() => message.push(line),
            None => {}
        }
    }
    let mut out = if message.is_empty() {
        "error: invalid arguments".to_string()
    } else {
        message.join(" ")
    };
    for tip in tips {
        out.push(' ');
        out.push_str(&tip);
    }
    out.push_str(&format!("; see `{command_path} --help`"));
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
        Err(crate::Error::Declined(message)) => {
            crate::interrupt::end_cut_line();
            eprintln!("{message}");
            ExitCode::from(crate::error::exit::REFUSED)
        }
        Err(err) => {
            crate::interrupt::end_cut_line();
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
            crate::complete::print_script(command::<C>(), args.shell);
            Ok(())
        }
        Common::Complete(args) => complete(args).await,
        Common::Man(args) => crate::complete::man(command::<C>(), args),
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
    fn a_missing_argument_is_named_and_the_hint_is_the_subcommand_s_help() {
        let rendered = "error: the following required arguments were not provided:\n  <COMPONENT>\n\nUsage: kubectl airflow restart <COMPONENT> [RELEASE]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_usage_error(rendered, "kubectl airflow restart"),
            "error: the following required arguments were not provided: <COMPONENT>; see `kubectl airflow restart --help`"
        );
    }

    #[test]
    fn an_invalid_value_keeps_its_possible_values_and_tip() {
        let rendered = "error: invalid value 'xml' for '--output <OUTPUT>'\n  [possible values: table, json, yaml]\n\n  tip: a similar value exists: 'yaml'\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_usage_error(rendered, "kubectl airflow restart"),
            "error: invalid value 'xml' for '--output <OUTPUT>' [possible values: table, json, yaml] (a similar value exists: 'yaml'); see `kubectl airflow restart --help`"
        );
    }

    #[test]
    fn the_help_hint_follows_the_subcommands_given() {
        #[derive(clap::Parser)]
        #[command(name = "kubectl demo")]
        struct Demo {
            #[arg(short = 'n', global = true)]
            namespace: Option<String>,
            #[command(subcommand)]
            command: Sub,
        }
        #[derive(clap::Subcommand)]
        enum Sub {
            Restart { component: String },
            Logs,
        }
        use clap::CommandFactory;
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let command = Demo::command();
        assert_eq!(
            subcommand_path(&command, &args("-n x restart")),
            "kubectl demo restart"
        );
        assert_eq!(subcommand_path(&command, &args("--bogus")), "kubectl demo");
        assert_eq!(
            subcommand_path(&command, &args("logs x")),
            "kubectl demo logs"
        );
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
