//! Shell completion: `completion bash|zsh|fish` scripts (clap_complete), man pages
//! (clap_mangen), and the hidden `__complete` protocol kubectl uses for plugins
//! (`kubectl_complete-<name> ARGS... WORD` prints candidates one per line, then `:<directive>`
//! as cobra does; 4 = no file completion).

use clap::{Args, Command};
use clap_complete::Shell;

use crate::GlobalArgs;

#[derive(Args, Debug, Clone)]
pub struct CompletionArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells `completion` writes scripts for (and only those: the others are not tested).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl From<CompletionShell> for Shell {
    fn from(shell: CompletionShell) -> Shell {
        match shell {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        }
    }
}

/// The shells `completion` writes scripts for, offered as its argument's candidates.
pub const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// `completion`'s help, named for the plugin `name` (`kubectl airflow`): where the script goes
/// and what makes `kubectl airflow <TAB>` work, which the script alone cannot.
pub fn completion_help(cmd: Command, name: &str) -> Command {
    let binary = name.replace(' ', "-");
    let plugin = binary
        .strip_prefix("kubectl-")
        .unwrap_or(&binary)
        .to_string();
    cmd.long_about(format!(
        "Print a shell completion script: bash, zsh or fish.\n\n\
The script completes the plugin's own binary ({binary} …). kubectl's completion of \
`{name} …` (kubectl 1.26+) runs an executable named kubectl_complete-{plugin} found on PATH \
instead: krew installs it; the last example below installs it by hand."
    ))
    .after_help(format!(
        "Examples:\n  \
# complete {binary} in this bash session\n  \
source <({name} completion bash)\n\n  \
# complete it in every zsh session\n  \
{name} completion zsh > \"${{fpath[1]}}/_{binary}\"\n\n  \
# make kubectl complete `{name} …` (kubectl 1.26+)\n  \
{}",
        install_kubectl_completion(&binary, &plugin, "  ")
    ))
}

/// The commands that install `kubectl_complete-<plugin>` in ~/.local/bin, one per line, each
/// short enough that no help renderer wraps it (pasteable as printed): a link to the plugin,
/// which answers kubectl's completion protocol when run under that name (`cli::parse`).
fn install_kubectl_completion(binary: &str, plugin: &str, indent: &str) -> String {
    format!(
        "mkdir -p ~/.local/bin\n{indent}ln -sf \"$(command -v {binary})\" ~/.local/bin/kubectl_complete-{plugin}"
    )
}

/// The hidden `__complete` subcommand's arguments: the words typed after the plugin's name,
/// the last one being the word to complete (possibly empty).
#[derive(Args, Debug, Clone)]
pub struct CompleteArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// Prints the completion script of `cmd` for `shell`: clap's script for the `kubectl-<name>`
/// binary without the hidden subcommands, after comments that say how to make
/// `kubectl <name> …` complete too (kubectl runs `kubectl_complete-<name>` from PATH).
pub fn print_script(cmd: Command, shell: CompletionShell) {
    let binary = cmd.get_name().replace(' ', "-");
    let plugin = binary
        .strip_prefix("kubectl-")
        .unwrap_or(&binary)
        .to_string();
    let mut cmd = without_hidden_subcommands(&cmd)
        .name(binary.clone())
        .bin_name(binary.clone());
    let mut script = format!(
        "# Completion of {binary}. For kubectl's own completion of `kubectl {plugin} …` (kubectl 1.26+),\n\
# put an executable kubectl_complete-{plugin} on PATH (krew installs it), e.g.:\n\
#   {}\n",
        install_kubectl_completion(&binary, &plugin, "#   ")
    )
    .into_bytes();
    clap_complete::generate(Shell::from(shell), &mut cmd, binary, &mut script);
    crate::output::print_stdout(&String::from_utf8_lossy(&script));
}

/// `cmd` with its arguments and visible subcommands only: the hidden ones (`__complete`,
/// `__man`) are protocol, not something to offer at a prompt.
fn without_hidden_subcommands(cmd: &Command) -> Command {
    let mut visible = Command::new(cmd.get_name().to_string())
        .args(cmd.get_arguments().cloned())
        .subcommands(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(without_hidden_subcommands),
        );
    if let Some(about) = cmd.get_about() {
        visible = visible.about(about.clone());
    }
    visible
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
        crate::output::print_stdout(&String::from_utf8_lossy(&out));
        return Ok(());
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
    "--size",
    "--storage-class",
    "--from",
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
