//! `kube-sim serve`: the simulated Kubernetes API server, for tests and the no-cluster demo.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kube_sim::http::parse_duration;
use kube_sim::sim::{Sim, SimOptions};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Parser)]
#[command(
    name = "kube-sim",
    version,
    about = "A simulated Kubernetes API server that real kubectl accepts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a scenario until SIGINT/SIGTERM
    Serve {
        /// Built-in scenario (astronomer, artsy, aura, atmosphere), `large:nodes=N,airflow=M,pods=P,workflows=K`, or a YAML path
        #[arg(long)]
        scenario: String,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Where to write the kubeconfig (default: a temporary file)
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// Delay added to every API request
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Extra delay that a fraction (--latency-spike-rate) of API requests meets on top of
        /// --latency-ms
        #[arg(long, default_value_t = 0)]
        latency_spike_ms: u64,
        /// Fraction (0..=1) of API requests that meet --latency-spike-ms, drawn from --seed
        #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
        latency_spike_rate: f64,
        /// Fraction of API requests that fail with a transient error (500, 503, 429, dropped connection)
        #[arg(long, default_value_t = 0.0)]
        fault_rate: f64,
        /// How much faster than real time simulated time runs
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Serve plain HTTP instead of TLS
        #[arg(long)]
        insecure_http: bool,
        /// Scenario user to write into the kubeconfig (default: the first)
        #[arg(long)]
        user: Option<String>,
        /// Seed of every random draw (faults, generated names); printed on stderr at start
        /// (default: random)
        #[arg(long)]
        seed: Option<u64>,
        /// Age after which a list's continue token is refused with 410 Expired (e.g. 300s, 5m, 500ms)
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        continue_ttl: Duration,
        /// How many past events a watch can resume from; older resourceVersions get 410 Expired
        #[arg(long, default_value_t = kube_sim::store::DEFAULT_WATCH_WINDOW)]
        watch_window: usize,
    },
}

/// A fraction between 0 and 1.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err("must be a number between 0 and 1".to_string()),
    }
}

/// Parses the command line; a usage error is one line (clap's message, its details joined),
/// exit 2. Help and version print as clap renders them.
fn parse_cli() -> Cli {
    match Cli::try_parse() {
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
            let rendered = err.render().to_string();
            let line: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .collect();
            eprintln!("{}; see `kube-sim --help`", line.join(" "));
            std::process::exit(2);
        }
    }
}

fn main() -> ExitCode {
    let Command::Serve {
        scenario,
        listen,
        kubeconfig,
        latency_ms,
        latency_spike_ms,
        latency_spike_rate,
        fault_rate,
        time_scale,
        insecure_http,
        user,
        seed,
        continue_ttl,
        watch_window,
    } = parse_cli().command;
    if !(0.0..=1.0).contains(&fault_rate) {
        eprintln!("error: --fault-rate must be between 0 and 1");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let opts = SimOptions {
            listen,
            time_scale,
            latency: Duration::from_millis(latency_ms),
            latency_spike: Duration::from_millis(latency_spike_ms),
            latency_spike_rate,
            fault_rate,
            insecure_http,
            kubeconfig,
            user,
            seed,
            continue_ttl,
            watch_window,
            ..SimOptions::new(&scenario)
        };
        let sim = match Sim::start(opts).await {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Handlers first: a SIGTERM right after the ready line must find them in place.
        let (mut term, mut interrupt) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(t), Ok(i)) => (t, i),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: cannot handle signals: {e}");
                return ExitCode::FAILURE;
            }
        };
        // On stderr: the ready line on stdout is a fixed contract.
        eprintln!("kube-sim seed: {}", sim.seed());
        let kubeconfig = std::fs::canonicalize(sim.kubeconfig_path())
            .unwrap_or_else(|_| sim.kubeconfig_path().to_path_buf());
        println!(
            "kube-sim listening on {} kubeconfig={}",
            sim.url(),
            kubeconfig.display()
        );
        let _ = std::io::stdout().flush();
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
        sim.shutdown();
        ExitCode::SUCCESS
    })
}
