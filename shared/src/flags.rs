//! The flags every plugin accepts (kubectl's names), and the flags of commands that change things.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::duration::parse(s)
}

/// Connection and display flags, flattened into every plugin's top-level command.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use (ignores $KUBECONFIG)
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Cluster flags"
    )]
    pub kubeconfig: Option<PathBuf>,

    /// The name of the kubeconfig context to use
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Cluster flags"
    )]
    pub context: Option<String>,

    /// The name of the kubeconfig cluster to use
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Cluster flags"
    )]
    pub cluster: Option<String>,

    /// The name of the kubeconfig user to use
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Cluster flags"
    )]
    pub user: Option<String>,

    /// The namespace to use (default: the context's namespace, else "default")
    #[arg(
        short = 'n',
        long,
        global = true,
        value_name = "NAMESPACE",
        help_heading = "Cluster flags"
    )]
    pub namespace: Option<String>,

    /// How long to wait for a single API request (e.g. 10s, 1m); 0 waits forever
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration, help_heading = "Cluster flags")]
    pub request_timeout: Option<Duration>,

    /// User to impersonate for the operation
    #[arg(
        long = "as",
        global = true,
        value_name = "USER",
        help_heading = "Cluster flags"
    )]
    pub as_user: Option<String>,

    /// Group to impersonate (repeat for several)
    #[arg(
        long = "as-group",
        global = true,
        value_name = "GROUP",
        help_heading = "Cluster flags"
    )]
    pub as_group: Vec<String>,

    /// More output on stderr: -v the requests and decisions, -vv their detail
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count, help_heading = "Output flags")]
    pub verbose: u8,

    /// Verbosity as a number, like kubectl's -v=N (0-9; 6 and above add the client library's logs)
    #[arg(
        long = "verbosity",
        global = true,
        value_name = "N",
        help_heading = "Output flags"
    )]
    pub verbosity: Option<u8>,

    /// Never colour the output (also when NO_COLOR is set)
    #[arg(long, global = true, help_heading = "Output flags")]
    pub no_color: bool,
}

impl GlobalArgs {
    /// The effective verbosity: the larger of `-v` count and `--verbosity N`.
    pub fn verbosity(&self) -> u8 {
        self.verbose.max(self.verbosity.unwrap_or(0))
    }
}

/// Flags of every command that changes the cluster.
#[derive(Args, Debug, Clone)]
pub struct ChangeArgs {
    /// Do not ask for confirmation
    #[arg(short = 'y', long, help_heading = "Change flags")]
    pub yes: bool,

    /// Print the plan and exit without changing anything
    #[arg(long, help_heading = "Change flags")]
    pub dry_run: bool,

    /// How long to wait for the change to complete (e.g. 5m, 90s)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, help_heading = "Change flags")]
    pub timeout: Duration,
}

impl Default for ChangeArgs {
    fn default() -> Self {
        ChangeArgs {
            yes: false,
            dry_run: false,
            timeout: Duration::from_secs(300),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    #[command(name = "kubectl test", bin_name = "kubectl test")]
    struct Cli {
        #[command(flatten)]
        global: GlobalArgs,
        #[command(flatten)]
        change: ChangeArgs,
    }

    #[test]
    fn parses_kubectl_style_flags() {
        let cli = Cli::try_parse_from([
            "kubectl-test",
            "--kubeconfig",
            "/tmp/kc",
            "--context=prod",
            "-n",
            "team-a",
            "--as",
            "jane",
            "--as-group",
            "ops",
            "--as-group",
            "dev",
            "-vv",
            "--request-timeout",
            "10s",
            "-y",
            "--timeout",
            "2m",
        ])
        .unwrap();
        assert_eq!(cli.global.context.as_deref(), Some("prod"));
        assert_eq!(cli.global.namespace.as_deref(), Some("team-a"));
        assert_eq!(cli.global.as_group, ["ops", "dev"]);
        assert_eq!(cli.global.verbosity(), 2);
        assert_eq!(cli.global.request_timeout, Some(Duration::from_secs(10)));
        assert!(cli.change.yes && !cli.change.dry_run);
        assert_eq!(cli.change.timeout, Duration::from_secs(120));
        let bad = Cli::try_parse_from(["kubectl-test", "--timeout", "soon"]).unwrap_err();
        assert!(bad.to_string().contains("invalid duration"));
    }
}
