//! "Did you mean": the subcommand a mistyped word was meant to be (`kubectl nodeevict stauts`
//! is not a node named "stauts"), and the existing names closest to a name not found.

/// The visible subcommand of `C` that `word` most likely misspells: one typing slip away
/// (an edit or a swap of two letters; two for longer names), or the start of its name.
/// `None` when `word` is no subcommand's near miss.
pub fn subcommand<C: clap::CommandFactory>(word: &str) -> Option<Meant> {
    let command = C::command();
    let names: Vec<String> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    let name = close_subcommand(word, &names)?;
    let sub = command.find_subcommand(&name)?.clone();
    // Placeholders only where the subcommand cannot run without arguments (a positional
    // required outright or unless some flag is given): `resume OWNER`, but a bare `status`.
    let needs_arguments = sub
        .clone()
        .no_binary_name(true)
        .try_get_matches_from(Vec::<String>::new())
        .is_err_and(|e| e.kind() == clap::error::ErrorKind::MissingRequiredArgument);
    let required = if needs_arguments {
        sub.get_positionals()
            .map(|a| {
                a.get_value_names()
                    .and_then(|v| v.first())
                    .map_or_else(|| a.get_id().to_string().to_uppercase(), |v| v.to_string())
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(Meant { name, required })
}

/// The subcommand a mistyped word was meant to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meant {
    pub name: String,
    /// The value names of its positionals when it needs some (`NODE`, `OWNER`): shown in
    /// place of arguments the mistyped command line did not give.
    pub required: Vec<String>,
}

impl Meant {
    /// `PREFIX NAME ARGS…` (shell-quoted), or `PREFIX NAME PLACEHOLDERS…` when no argument
    /// followed the mistyped word and the subcommand needs some.
    pub fn command(&self, prefix: &str, args: &[String]) -> String {
        let mut command = format!("{prefix} {}", self.name);
        if args.is_empty() {
            for placeholder in &self.required {
                command.push(' ');
                command.push_str(placeholder);
            }
        }
        for arg in args {
            command.push(' ');
            command.push_str(&crate::shell::word(arg));
        }
        command
    }
}

/// [`subcommand`] over a list of names (the pure part, tested below).
pub fn close_subcommand(word: &str, names: &[String]) -> Option<String> {
    let word = word.to_lowercase();
    names
        .iter()
        .filter_map(|name| {
            let distance = strsim::damerau_levenshtein(&word, name);
            let slips = if name.len() > 5 { 2 } else { 1 };
            let prefix = word.len() >= 3 && name.starts_with(&word);
            (distance <= slips || prefix).then_some((distance, name))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.clone())
}

/// Up to three of `names` close to `wanted` (for "not found: did you mean …?"), best first:
/// a slip or two of typing away (more for long names), or containing it. Names alike only in
/// their shape (`ip-10-0-99-99…` and `ip-10-0-45-9…`) are not offered.
pub fn close_names(wanted: &str, names: &[String]) -> Vec<String> {
    let slips = (wanted.chars().count() / 10).max(2);
    let mut scored: Vec<(usize, f64, &String)> = names
        .iter()
        .map(|n| {
            (
                strsim::damerau_levenshtein(wanted, n),
                strsim::jaro_winkler(wanted, n),
                n,
            )
        })
        .filter(|(distance, _, n)| {
            *distance <= slips || n.contains(wanted) || wanted.contains(n.as_str())
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, _, n)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn typing_slips_find_the_subcommand() {
        let subs = names(&[
            "uncordon",
            "status",
            "resume",
            "abort",
            "doctor",
            "completion",
        ]);
        assert_eq!(close_subcommand("stauts", &subs).as_deref(), Some("status"));
        assert_eq!(
            close_subcommand("uncordn", &subs).as_deref(),
            Some("uncordon")
        );
        assert_eq!(close_subcommand("resme", &subs).as_deref(), Some("resume"));
        assert_eq!(close_subcommand("abrot", &subs).as_deref(), Some("abort"));
        assert_eq!(close_subcommand("Status", &subs).as_deref(), Some("status"));
        assert_eq!(
            close_subcommand("compl", &subs).as_deref(),
            Some("completion")
        );
    }

    #[test]
    fn the_command_meant_shows_placeholders_only_for_missing_arguments() {
        let meant = Meant {
            name: "uncordon".into(),
            required: vec!["NODE".into()],
        };
        assert_eq!(
            meant.command("kubectl nodeevict", &[]),
            "kubectl nodeevict uncordon NODE"
        );
        assert_eq!(
            meant.command("kubectl nodeevict", &["n 1".to_string()]),
            "kubectl nodeevict uncordon 'n 1'"
        );
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(clap::Subcommand)]
    enum Sub {
        Status,
        Resume {
            #[arg(value_name = "OWNER", required_unless_present = "all")]
            owner: Option<String>,
            #[arg(long)]
            all: bool,
        },
        #[command(hide = true)]
        Secret,
    }

    #[test]
    fn placeholders_only_for_a_subcommand_that_needs_arguments() {
        let status = subcommand::<Cli>("stauts").unwrap();
        assert_eq!((status.name.as_str(), status.required.len()), ("status", 0));
        let resume = subcommand::<Cli>("resme").unwrap();
        assert_eq!(resume.required, ["OWNER"]);
        assert_eq!(
            subcommand::<Cli>("secre"),
            None,
            "hidden subcommands are not offered"
        );
    }

    #[test]
    fn real_object_names_are_not_subcommands() {
        let subs = names(&[
            "uncordon",
            "status",
            "resume",
            "abort",
            "doctor",
            "completion",
        ]);
        for word in [
            "aks-common-12345678-vmss000001",
            "data-web-0",
            "node-1",
            "st",
            "report-cache",
            "worker",
        ] {
            assert_eq!(close_subcommand(word, &subs), None, "{word}");
        }
    }

    #[test]
    fn close_names_rank_the_nearest_first() {
        let all = names(&["data-web-0", "data-web-1", "cache", "logs-worker-0"]);
        assert_eq!(
            close_names("data-web-2", &all)[..2],
            ["data-web-0", "data-web-1"]
        );
        assert!(close_names("zzz", &all).is_empty());
        let nodes = names(&["ip-10-0-45-9.ec2.internal", "ip-10-0-23-114.ec2.internal"]);
        assert!(close_names("ip-10-0-99-99.ec2.internal", &nodes).is_empty());
        assert_eq!(
            close_names("ip-10-0-23-114.ec2.internl", &nodes),
            ["ip-10-0-23-114.ec2.internal"]
        );
    }
}
