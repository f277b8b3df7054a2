//! "Did you mean": names close to one that matched nothing — another workflow, or a
//! subcommand typed where a workflow or instance was expected (`get lsit`).

/// The plugin's own subcommands, the words a typo in a positional may have meant.
pub const SUBCOMMANDS: &[&str] = &[
    "list",
    "find",
    "get",
    "logs",
    "resubmit",
    "stop",
    "terminate",
    "doctor",
    "completion",
];

/// How many edits (insertions, deletions, substitutions, swaps of neighbours) a typo may
/// hold: one in a short word, two in a longer one.
fn allowed_edits(typed: &str) -> usize {
    if typed.chars().count() <= 4 { 1 } else { 2 }
}

/// Up to three of `candidates` within a typo of `typed`, closest first (pure).
pub fn close_names<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let limit = allowed_edits(typed);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != typed)
        .map(|c| (strsim::osa_distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// The subcommand `typed` is a typo of, if any (pure).
pub fn subcommand(typed: &str) -> Option<&'static str> {
    let lower = typed.to_ascii_lowercase();
    SUBCOMMANDS
        .iter()
        .copied()
        .filter(|s| *s == lower || strsim::osa_distance(&lower, s) <= allowed_edits(s))
        .min_by_key(|s| strsim::osa_distance(&lower, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_of_subcommands_are_recognised_and_names_are_not() {
        assert_eq!(subcommand("lsit"), Some("list"));
        assert_eq!(subcommand("LIST"), Some("list"));
        assert_eq!(subcommand("resubmti"), Some("resubmit"));
        assert_eq!(subcommand("terminat"), Some("terminate"));
        assert_eq!(subcommand("deploy-e5121482-wwmms"), None);
        assert_eq!(subcommand("deploy-nope"), None);
        assert_eq!(subcommand("x"), None);
    }

    #[test]
    fn close_names_allow_a_typo_not_a_shared_prefix() {
        let names = [
            "deploy-e5121482-wwmms",
            "deploy-e5121482-p8q6v",
            "deploy-f38b2ffc-fm9fs",
        ];
        assert_eq!(
            close_names("deploy-e5121482-wwmsm", names),
            ["deploy-e5121482-wwmms"]
        );
        assert!(close_names("deploy-nope", names).is_empty());
        assert!(
            close_names("deploy-e5121482-wwmms", names).is_empty(),
            "itself is no suggestion"
        );
    }
}
