//! The target banner printed before any change: where this command is about to act.

use std::io::IsTerminal;

use owo_colors::{OwoColorize, Stream};

use crate::kubeconfig::Resolved;

/// Whether a context or cluster name looks like production.
pub fn looks_like_production(name: &str) -> bool {
    name.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| matches!(part, "prod" | "prd" | "production" | "live"))
}

/// The banner lines (plain text; colour is added when printing).
pub fn lines(target: &Resolved) -> Vec<(String, String)> {
    let mut rows = vec![
        (
            "Context".to_string(),
            if target.context.is_empty() {
                "(in-cluster)".to_string()
            } else {
                target.context.clone()
            },
        ),
        (
            "Server".to_string(),
            format!("{} (cluster {})", target.server, target.cluster),
        ),
        ("Namespace".to_string(), target.namespace.clone()),
        ("User".to_string(), target.user.clone()),
    ];
    if let Some(user) = &target.impersonate {
        rows.push(("As".to_string(), user.clone()));
    }
    rows
}

/// Prints the banner on stderr (stdout stays for the plan and machine output).
pub fn print(target: &Resolved) {
    let production =
        looks_like_production(&target.context) || looks_like_production(&target.cluster);
    let mut out = String::new();
    for (key, value) in lines(target) {
        let value = if key == "Context" && production {
            format!(
                "{}  {}",
                value.if_supports_color(Stream::Stderr, |v| v.bold().red().to_string()),
                "PRODUCTION".if_supports_color(Stream::Stderr, |v| v
                    .on_red()
                    .white()
                    .bold()
                    .to_string())
            )
        } else {
            value
                .if_supports_color(Stream::Stderr, |v| v.bold().to_string())
                .to_string()
        };
        out.push_str(&format!("{key:<10} {value}\n"));
    }
    if !std::io::stderr().is_terminal() && production {
        // Without colour, the word still stands out.
        out = out.replace("  PRODUCTION", "  [PRODUCTION]");
    }
    eprint!("{out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_names() {
        for name in [
            "prod",
            "eu-prod-1",
            "prd-cluster",
            "Production",
            "gke_acme_us_live",
        ] {
            assert!(looks_like_production(name), "{name}");
        }
        for name in ["staging", "dev", "product-team", "kube-sim", "improd"] {
            assert!(!looks_like_production(name), "{name}");
        }
    }
}
