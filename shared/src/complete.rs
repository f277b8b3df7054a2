//! Shell completion: `completion bash|zsh|fish` scripts (clap_complete), man pages
//! (clap_mangen), and the hidden `__complete` protocol kubectl uses for plugins
//! (`kubectl_complete-<name> ARGS... WORD` prints candidates one per line, then `:<directive>`
//! as cobra does; 4 = no file completion).

use std::io::Write;

use clap::{Args, Command};
use clap_complete::Shell;

use crate::GlobalArgs;

#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell: bash, zsh or fish
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells `completion` writes scripts for, offered as its argument's candidates.
pub const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// The hidden `__complete` subcommand's arguments: the words typed after the plugin's name,
/// the last one being the word to complete (possibly empty).
#[derive(Args, Debug, Clone)]
pub struct CompleteArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// Prints the completion script of `cmd` for `shell`.
pub fn print_script(cmd: Command, shell: Shell) {
    // Completes the `kubectl-<name>` binary; kubectl's own completion goes through
    // `kubectl_complete-<name>` and `__complete`.
    let name = cmd.get_name().replace(' ', "-");
    let mut cmd = cmd.name(name.clone()).bin_name(name.clone());
    clap_complete::generate(shell, &mut cmd, name, &mut std::io::stdout());
}

/// The hidden `__man` subcommand's arguments.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {
    /// Write kubectl-<name>.1 and one kubectl-<name>-<subcommand>.1 per subcommand here
    /// instead of printing the main page
    pub dir: Option<std::path::PathBuf>,
}

/// The man pages of `cmd` (roff): the main page on stdout, or with a directory, the main
/// page and one per visible subcommand, written there.
pub fn man(cmd: Command, args: &ManArgs) -> crate::Result<()> {
    let failed = |what: &str, e: std::io::Error| crate::Error::Failed(format!("{what}: {e}"));
    let Some(dir) = &args.dir else {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut out)
            .map_err(|e| failed("rendering the man page", e))?;
        return std::io::stdout()
            .write_all(&out)
            .map_err(|e| failed("writing the man page", e));
    };
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let stem = cmd.get_name().replace(' ', "-");
    let mut pages = vec![(stem.clone(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let title = format!("{} {}", cmd.get_name(), sub.get_name());
        pages.push((
            format!("{stem}-{}", sub.get_name()),
            sub.clone().name(title.clone()).display_name(title),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| failed(&format!("creating {}", dir.display()), e))?;
    for (stem, page) in pages {
        let path = dir.join(format!("{stem}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut out)
            .map_err(|e| failed("rendering the man page", e))?;
        std::fs::write(&path, out)
            .map_err(|e| failed(&format!("writing {}", path.display()), e))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// What was typed, split into connection flags, positional words and the word to complete.
#[derive(Debug, Clone, Default)]
pub struct Typed {
    pub global: GlobalArgs,
    /// Positional words before the one being completed (subcommand first).
    pub words: Vec<String>,
    /// The word being completed.
    pub current: String,
    /// The previous word is a flag expecting a value (e.g. `-n`): complete that value.
    pub flag: Option<String>,
}

/// Flags whose value is the next word.
const VALUE_FLAGS: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "--cluster",
    "--user",
    "--as",
    "--as-group",
    "--request-timeout",
    "-o",
    "--output",
    "--strategy",
    "--timeout",
    "--tail",
    "--since",
    "-c",
    "--container",
    "-l",
    "--selector",
    "--status",
    "--statefulset",
    "--ordinal",
    "--grace-period",
    "--pod-timeout",
    "--concurrency",
    "--prescale",
    "-p",
    "--parameter",
    "--older",
    "--username",
    "--instance",
    "--prefix",
    "--user-label",
    "--instance-label",
    "--instanceid",
    "--chunk-size",
];

/// Splits the words kubectl passes (pure).
pub fn parse(words: &[String]) -> Typed {
    let mut typed = Typed::default();
    let (current, before) = match words.split_last() {
        Some((last, before)) => (last.clone(), before),
        None => (String::new(), &[][..]),
    };
    typed.current = current;
    let mut i = 0;
    while i < before.len() {
        let w = &before[i];
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with('-') => (f.to_string(), Some(v.to_string())),
            _ => (w.clone(), None),
        };
        if flag.starts_with('-') {
            let takes_value = VALUE_FLAGS.contains(&flag.as_str());
            let value = if inline.is_some() {
                inline
            } else if takes_value {
                i += 1;
                match before.get(i) {
                    Some(v) => Some(v.clone()),
                    None => {
                        typed.flag = Some(flag.clone());
                        None
                    }
                }
            } else {
                None
            };
            match (flag.as_str(), value) {
                ("-n" | "--namespace", Some(v)) => typed.global.namespace = Some(v),
                ("--context", Some(v)) => typed.global.context = Some(v),
                ("--kubeconfig", Some(v)) => typed.global.kubeconfig = Some(v.into()),
                ("--cluster", Some(v)) => typed.global.cluster = Some(v),
                ("--user", Some(v)) => typed.global.user = Some(v),
                _ => {}
            }
        } else {
            typed.words.push(w.clone());
        }
        i += 1;
    }
    if typed.flag.is_none()
        && let Some(last) = before.last()
        && VALUE_FLAGS.contains(&last.as_str())
    {
        typed.flag = Some(last.clone());
    }
    typed
}

/// The visible subcommands of `cmd`.
pub fn subcommands(cmd: &Command) -> Vec<String> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect()
}

/// Prints the candidates starting with `prefix`, one per line, then cobra's directive.
pub fn answer(candidates: impl IntoIterator<Item = String>, prefix: &str) {
    let mut out = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in candidates {
        if c.starts_with(prefix) && seen.insert(c.clone()) {
            out.push_str(&c);
            out.push('\n');
        }
    }
    out.push_str(":4\n");
    crate::output::print_stdout(&out);
}

/// Namespaces from the cluster, for `-n` (empty when the cluster cannot be reached).
pub async fn namespaces(global: &GlobalArgs) -> Vec<String> {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::ResourceExt;
    let Ok(target) = crate::kubeconfig::connect(global).await else {
        return Vec::new();
    };
    kube::Api::<Namespace>::all(target.client.clone())
        .list_metadata(&Default::default())
        .await
        .map(|l| l.items.iter().map(|n| n.name_any()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn typed_words_flags_and_the_current_word() {
        let t = parse(&words(&["restart", "-n", "ns1", "--context=prod", "sch"]));
        assert_eq!(t.words, ["restart"]);
        assert_eq!(t.current, "sch");
        assert_eq!(t.global.namespace.as_deref(), Some("ns1"));
        assert_eq!(t.global.context.as_deref(), Some("prod"));
        assert_eq!(t.flag, None);
        let t = parse(&words(&["status", "-n", ""]));
        assert_eq!(t.flag.as_deref(), Some("-n"));
        assert_eq!(t.words, ["status"]);
        let t = parse(&words(&[""]));
        assert!(t.words.is_empty() && t.current.is_empty());
    }
}
