//! Running a plugin's command: colour and logging set up from the global flags, a tokio
//! runtime, and errors printed as one line with the documented exit code.

use std::future::Future;
use std::io::IsTerminal;
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};

use crate::error::Result;
use crate::flags::GlobalArgs;

/// `-v` levels: 1 shows the plugin's decisions, 2 adds each API request, 3+ adds kube detail.
fn log_filter(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "warn",
        1 => {
            "warn,shared=info,kubectl_airflow=info,kubectl_pvcreset=info,kubectl_nodeevict=info,kubectl_argodeploy=info"
        }
        2 => {
            "info,shared=debug,kubectl_airflow=debug,kubectl_pvcreset=debug,kubectl_nodeevict=debug,kubectl_argodeploy=debug,kube_client=debug,tower_http=debug"
        }
        _ => "debug,hyper=info,hyper_util=info,rustls=info,h2=info",
    }
}

fn init_logging(verbosity: u8) {
    // Credentials never reach the logs: kube's HTTP trace records method and URL only.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(log_filter(verbosity)))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(verbosity >= 2)
        .try_init();
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

/// The environment variable that halts a resumable command right after it journals the named
/// step (e.g. `scaled-down`), so interruption tests can kill it at an exact step boundary.
pub const HALT_AFTER_STEP: &str = "KUBECTL_SUITE_HALT_AFTER_STEP";

/// Called after each journaled step: with [`HALT_AFTER_STEP`] naming it, waits until killed.
pub fn step_boundary(step: &str) {
    if std::env::var(HALT_AFTER_STEP).is_ok_and(|s| s == step) {
        eprintln!("halted after step {step} ({HALT_AFTER_STEP}): waiting to be interrupted");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}
