//! The `Examples:` of each subcommand's help (and man page): the runbook's common
//! invocations, each a whole command that parses (checked by the tests below). Lines stay
//! within 78 columns, long commands continued with `\` as a shell reads them, so clap's
//! wrapping at an 80-column terminal never breaks a command in two.

pub const TOP: &str = "Examples:
  # What is deploying now, everywhere; then one instance, by its short id
  kubectl argodeploy list -A --running
  kubectl argodeploy find e5121482 -A

  # Run a failed deployment again and follow it
  kubectl argodeploy resubmit deploy-e5121482-wwmms -n atmosphere --wait

  # Check the connection and every permission these commands need
  kubectl argodeploy doctor -n atmosphere";

pub const LIST: &str = "Examples:
  # Workflows of the current namespace, then of every namespace
  kubectl argodeploy list
  kubectl argodeploy list -A

  # One user's failed workflows of the last day, with their messages
  kubectl argodeploy list -n atmosphere --username jdoe \\
    --status Failed,Error --since 24h -o wide

  # Unfinished workflows, names only (for scripts)
  kubectl argodeploy list -n atmosphere --running -o name";

pub const FIND: &str = "Examples:
  # Which workflows deployed this instance, and why the newest one failed
  kubectl argodeploy find e5121482-3929-4d22-a255-accb1a466884 -n atmosphere

  # The same by the short id of its workflows' names, in every namespace
  kubectl argodeploy find e5121482 -A

  # Its workflows as JSON, with the failing steps and their log tails
  kubectl argodeploy find e5121482 -n atmosphere -o json";

pub const GET: &str = "Examples:
  # The workflow's tree, as argo get prints it
  kubectl argodeploy get deploy-e5121482-wwmms -n atmosphere

  # The newest workflow of the namespace
  kubectl argodeploy get @latest -n atmosphere

  # More columns (artifacts, resources, nodes), or the whole object
  kubectl argodeploy get deploy-e5121482-wwmms -n atmosphere -o wide
  kubectl argodeploy get deploy-e5121482-wwmms -n atmosphere -o yaml";

pub const LOGS: &str = "Examples:
  # The main containers' logs of every step
  kubectl argodeploy logs deploy-e5121482-wwmms -n atmosphere

  # One step's last 50 lines
  kubectl argodeploy logs deploy-e5121482-wwmms deploy-playbook \\
    -n atmosphere --tail 50

  # The newest workflow's logs; the crashed attempt of each step
  kubectl argodeploy logs @latest -n atmosphere
  kubectl argodeploy logs @latest -n atmosphere -p

  # Follow a running workflow until it completes, errors only
  kubectl argodeploy logs deploy-f3f49249-njqlp -n atmosphere -f \\
    --grep '(?i)error'";

pub const RESUBMIT: &str = "Examples:
  # Run a failed deployment again and follow it to the end
  kubectl argodeploy resubmit deploy-e5121482-wwmms -n atmosphere --wait

  # Re-run only the failed steps, with another playbook
  kubectl argodeploy resubmit deploy-e5121482-wwmms -n atmosphere \\
    --memoized -p playbook=redeploy.yml

  # See the workflow that would be created, change nothing
  kubectl argodeploy resubmit deploy-e5121482-wwmms -n atmosphere \\
    --dry-run -o yaml";

pub const RETRY: &str = "Examples:
  # Run a failed deployment's failed steps again, in place, and follow it
  kubectl argodeploy retry deploy-e5121482-wwmms -n atmosphere --wait

  # See which nodes would run again and which pods would be deleted
  kubectl argodeploy retry deploy-e5121482-wwmms -n atmosphere --dry-run

  # Run a succeeded step again too (and what follows it), another playbook
  kubectl argodeploy retry deploy-e5121482-wwmms -n atmosphere \\
    --restart-successful --step prepare -p playbook=redeploy.yml";

pub const STOP: &str = "Examples:
  # Stop a running workflow; its exit handlers still run
  kubectl argodeploy stop deploy-f3f49249-njqlp -n atmosphere

  # Without the prompt (scripts), and only show what would be done
  kubectl argodeploy stop deploy-f3f49249-njqlp -n atmosphere -y
  kubectl argodeploy stop deploy-f3f49249-njqlp -n atmosphere --dry-run";

pub const TERMINATE: &str = "Examples:
  # Kill a stuck workflow's pods at once (no exit handlers)
  kubectl argodeploy terminate deploy-f3f49249-njqlp -n atmosphere

  # Without the prompt (scripts)
  kubectl argodeploy terminate deploy-f3f49249-njqlp -n atmosphere -y";

pub const WAIT: &str = "Examples:
  # Wait for a deployment to finish; exit 1 if it failed
  kubectl argodeploy wait deploy-f3f49249-njqlp -n atmosphere

  # Several at once, at most 30 minutes (exit 4 after), as JSON
  kubectl argodeploy wait deploy-f3f49249-njqlp deploy-f38b2ffc-fm9fs \\
    -n atmosphere --timeout 30m -o json

  # A workflow that may already be gone counts as done
  kubectl argodeploy wait deploy-f3f49249-njqlp -n atmosphere \\
    --ignore-not-found";

pub const WATCH: &str = "Examples:
  # The workflow's tree, redrawn as it runs, until it completes
  kubectl argodeploy watch deploy-f3f49249-njqlp -n atmosphere

  # The same through get, with argo get's wide columns
  kubectl argodeploy get deploy-f3f49249-njqlp -n atmosphere -w -o wide";

pub const SUSPEND: &str = "Examples:
  # Hold a running deployment: no new steps start until it is resumed
  kubectl argodeploy suspend deploy-f3f49249-njqlp -n atmosphere

  # Without the prompt (scripts), or only show what would be done
  kubectl argodeploy suspend deploy-f3f49249-njqlp -n atmosphere -y
  kubectl argodeploy suspend deploy-f3f49249-njqlp -n atmosphere --dry-run";

pub const RESUME: &str = "Examples:
  # Continue a suspended workflow, or approve its waiting suspend step
  kubectl argodeploy resume deploy-f3f49249-njqlp -n atmosphere

  # Approve only one suspend step
  kubectl argodeploy resume deploy-f3f49249-njqlp -n atmosphere \\
    --node-field-selector displayName=approve";
pub const DELETE: &str = "Examples:
  # Completed workflows finished more than a week ago: see them, then delete
  kubectl argodeploy delete -n atmosphere --completed --older 7d --dry-run
  kubectl argodeploy delete -n atmosphere --completed --older 7d

  # One user's failed workflows, without the prompt (scripts)
  kubectl argodeploy delete -n atmosphere --username jdoe \\
    --status Failed,Error --yes

  # One workflow by name; a running one needs --force
  kubectl argodeploy delete deploy-e5121482-wwmms -n atmosphere";

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[test]
    fn every_example_is_a_command_that_parses() {
        for text in [
            super::TOP,
            super::LIST,
            super::FIND,
            super::GET,
            super::LOGS,
            super::RESUBMIT,
            super::RETRY,
            super::STOP,
            super::TERMINATE,
            super::WAIT,
            super::WATCH,
            super::SUSPEND,
            super::RESUME,
            super::DELETE,
        ] {
            assert!(text.starts_with("Examples:\n"), "{text}");
            for line in text.lines() {
                assert!(line.chars().count() <= 78, "{line}");
            }
            let joined = text.replace(" \\\n", " ");
            let commands: Vec<&str> = joined
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("kubectl argodeploy"))
                .collect();
            assert!(!commands.is_empty(), "{text}");
            for command in commands {
                let words = shell_words(command);
                if let Err(e) = crate::Cli::try_parse_from(&words) {
                    panic!("{command}: {e}");
                }
            }
        }
    }

    /// Splits an example as sh would (single quotes only: the examples use no other).
    fn shell_words(command: &str) -> Vec<String> {
        let mut words = vec!["kubectl-argodeploy".to_string()];
        let mut word = String::new();
        let mut quoted = false;
        for c in command
            .trim_start_matches("kubectl argodeploy")
            .trim()
            .chars()
        {
            match c {
                '\'' => quoted = !quoted,
                ' ' if !quoted => {
                    if !word.is_empty() {
                        words.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
        words
    }
}
