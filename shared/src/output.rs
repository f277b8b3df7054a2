//! kubectl-style output: aligned tables without borders, upper-case headers; JSON and YAML that
//! never carry colour; colour only on a terminal, without NO_COLOR and without --no-color.

use std::io::Write;

use clap::ValueEnum;
use serde::Serialize;

use crate::error::{Error, Result};

/// `-o/--output` formats; each command accepts the subset that makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
    Name,
}

impl OutputFormat {
    pub fn is_machine(self) -> bool {
        matches!(
            self,
            OutputFormat::Json | OutputFormat::Yaml | OutputFormat::Name
        )
    }

    /// For a command that has no wide or name view: a usage error (exit 2) for `-o wide` and
    /// `-o name`, naming the command, so every such command words it the same way.
    pub fn table_json_or_yaml(self, command: &str) -> Result<()> {
        if matches!(self, OutputFormat::Name | OutputFormat::Wide) {
            return Err(Error::Usage(format!(
                "{command} supports -o table, json or yaml"
            )));
        }
        Ok(())
    }
}

/// `-o` for a command that shows a plan or a report (restart, drain, reset, status, …):
/// table, json or yaml — what `--help` lists is exactly what the command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PlanFormat {
    #[default]
    Table,
    Json,
    Yaml,
}

/// `-o` for a command that lists objects (list, volumes, platform, …): the formats kubectl
/// users expect of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ListFormat {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
    Name,
}

impl From<PlanFormat> for OutputFormat {
    fn from(format: PlanFormat) -> Self {
        match format {
            PlanFormat::Table => OutputFormat::Table,
            PlanFormat::Json => OutputFormat::Json,
            PlanFormat::Yaml => OutputFormat::Yaml,
        }
    }
}

impl From<ListFormat> for OutputFormat {
    fn from(format: ListFormat) -> Self {
        match format {
            ListFormat::Table => OutputFormat::Table,
            ListFormat::Wide => OutputFormat::Wide,
            ListFormat::Json => OutputFormat::Json,
            ListFormat::Yaml => OutputFormat::Yaml,
            ListFormat::Name => OutputFormat::Name,
        }
    }
}

/// Applies `--no-color` and NO_COLOR as no-color.org defines it: set *and not empty*.
/// owo-colors' detection also treats an empty NO_COLOR as set; where both outputs are a
/// terminal the suite decides instead (with one output redirected, detection stays, and
/// plain output is the safe side).
pub fn init_color(no_color: bool) {
    let no_color_env = std::env::var_os("NO_COLOR");
    if no_color || no_color_env.as_ref().is_some_and(|v| !v.is_empty()) {
        owo_colors::set_override(false);
    } else if no_color_env.is_some() && terminal_wants_colour() {
        owo_colors::set_override(true);
    }
}

/// Both outputs are a terminal that can show colour.
fn terminal_wants_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// A kubectl-style table: columns separated by at least three spaces.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: AsRef<str>>(headers: &[S]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.as_ref().to_uppercase()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut tw = tabwriter::TabWriter::new(Vec::new()).padding(3).ansi(true);
        let line = |cells: &[String]| {
            cells
                .iter()
                .map(|c| c.replace(['\t', '\n'], " "))
                .collect::<Vec<_>>()
                .join("\t")
                + "\n"
        };
        let _ = tw.write_all(line(&self.headers).as_bytes());
        for row in &self.rows {
            let _ = tw.write_all(line(row).as_bytes());
        }
        let _ = tw.flush();
        let bytes = tw.into_inner().unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }
}

/// The width to wrap stderr's text at (plans, problems, progress): the terminal's; else
/// `$COLUMNS` when set (an explicit request); else None — a pipe or a file gets lines whole.
pub fn stderr_width() -> Option<usize> {
    if let Some((_rows, columns)) = console::Term::stderr().size_checked() {
        return Some(usize::from(columns));
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|w: &usize| *w > 0)
}

/// `text` with every line longer than `width` wrapped at spaces; a continuation is indented
/// under the text of its line (past `1. ` or `label: `, else two columns deeper), so a
/// wrapped plan line still reads as one item. Widths
/// are measured as the terminal shows them (colour codes take no room). What must stay
/// copyable stays whole: a word longer than the width, a command quoted in backticks, and a
/// line holding an unquoted command (`fix: kubectl …`) — a newline inside a command would run
/// half of it when pasted; the terminal folds such a line instead.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if console::measure_text_width(body) <= width || holds_unquoted_command(body) {
            out.push_str(line);
            continue;
        }
        out.push_str(&wrap_line(body, width));
        out.push_str(newline);
    }
    out
}

fn wrap_line(body: &str, width: usize) -> String {
    let indent_len = body.len() - body.trim_start_matches(' ').len();
    // Under the item's text: past "1. " of a step or "label: " of a field, else 2 deeper.
    let hang = match body[indent_len..].split_once(' ') {
        Some((first, _)) if first.ends_with('.') || first.ends_with(':') => {
            console::measure_text_width(first) + 1
        }
        _ => 2,
    };
    let continuation = " ".repeat(indent_len + hang);
    let mut out = body[..indent_len].to_string();
    let mut column = indent_len;
    let mut first_word = true;
    for word in words(&body[indent_len..]) {
        let word_width = console::measure_text_width(&word);
        if !first_word && column + 1 + word_width > width {
            out.push('\n');
            out.push_str(&continuation);
            column = continuation.len();
            first_word = true;
        }
        if !first_word {
            out.push(' ');
            column += 1;
        }
        out.push_str(&word);
        column += word_width;
        first_word = false;
    }
    out
}

/// The words of `line`, a command quoted in backticks counting as one.
fn words(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut quoted = false;
    for word in line.split(' ') {
        match out.last_mut() {
            Some(last) if quoted => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            quoted = !quoted;
        }
    }
    out
}

/// Whether `line` holds `kubectl …` outside backticks: a command that runs to the line's end.
fn holds_unquoted_command(line: &str) -> bool {
    line.split('`')
        .step_by(2)
        .any(|outside| outside.contains("kubectl "))
}

/// `text` cut to `width` columns, with `…` when cut (a one-line progress message).
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let keep = width.saturating_sub(1);
    text.chars().take(keep).collect::<String>() + "…"
}

/// Stable pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::Failed(format!("cannot render JSON: {e}")))
}

pub fn to_yaml<T: Serialize>(value: &T) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| Error::Failed(format!("cannot render YAML: {e}")))
}

/// Writes to stdout, ignoring a closed pipe (`| head`).
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_reads_back_as_the_same_value_even_for_strings_yaml_would_retype() {
        let value = serde_json::json!({"items": [{
            "name": "worker-0", "replicas": 3, "ready": true, "none": null,
            "tricky": ["yes", "no", "1", "1.5", "null", "~", "", "a: b", "- x", "#c", "on"],
            "nested": {"labels": {"app.kubernetes.io/name": "airflow"}}, "empty": []
        }]});
        let text = to_yaml(&value).unwrap();
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, value, "{text}");
    }

    #[test]
    fn tables_align_like_kubectl() {
        let mut t = Table::new(&["name", "ready", "status"]);
        t.row(["lunar-nuclear-3725-scheduler-7b9f", "1/1", "Running"]);
        t.row(["x", "0/1", "CrashLoopBackOff"]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAME                                READY   STATUS"
        );
        assert_eq!(
            lines[1],
            "lunar-nuclear-3725-scheduler-7b9f   1/1     Running"
        );
        assert_eq!(
            lines[2],
            "x                                   0/1     CrashLoopBackOff"
        );
    }

    #[test]
    fn coloured_cells_keep_alignment() {
        let mut t = Table::new(&["a", "b"]);
        t.row(["\u{1b}[31mred\u{1b}[0m", "1"]);
        t.row(["plain", "2"]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "plain   2");
        assert!(lines[1].ends_with("     1"), "{:?}", lines[1]);
    }

    #[test]
    fn long_lines_wrap_at_spaces_with_a_deeper_indent() {
        let text =
            "plan:\n  - delete pod lunar-nuclear-3725-worker-2 (unmanaged: not recreated)\nshort\n";
        assert_eq!(
            wrap(text, 40),
            "plan:\n  - delete pod\n    lunar-nuclear-3725-worker-2\n    (unmanaged: not recreated)\nshort\n"
        );
        // Fits: unchanged; colour codes take no room.
        let coloured = "\u{1b}[31mCrashLoopBackOff\u{1b}[0m worker";
        assert_eq!(wrap(coloured, 23), coloured);
        // A word longer than the width stays whole.
        assert_eq!(wrap("a verylongword b", 5), "a\n  verylongword\n  b");
        assert_eq!(wrap(text, usize::MAX), text);
    }

    #[test]
    fn continuations_hang_under_the_item_s_text() {
        let text = "  disruption: pod lunar-nuclear-3725-worker-1 is down until its replacement is Ready; the other pods keep running\n    1. delete claim a, b, c and wait until it is really gone\n";
        let wrapped = wrap(text, 50);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 50, "{line}");
        }
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines[0].starts_with("  disruption: pod"), "{wrapped}");
        assert!(lines[1].starts_with(&" ".repeat(14)), "{wrapped}");
        let step = lines.iter().position(|l| l.starts_with("    1. ")).unwrap();
        let next = lines[step + 1];
        assert!(
            next.starts_with(&" ".repeat(7)) && !next.starts_with(&" ".repeat(8)),
            "{wrapped}"
        );
        let words = |t: &str| t.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(words(&wrapped), words(text));
    }

    #[test]
    fn commands_stay_whole() {
        // An unquoted command runs to the line's end: the line is left for the terminal.
        let command = "  next: kubectl nodeevict resume node-1 --context prod";
        assert_eq!(wrap(command, 20), command);
        // A quoted one is one word.
        let text = "  warning: it waits; `kubectl airflow diagnose zodiac -n astronomer-ee-zodiac` says why";
        let wrapped = wrap(text, 40);
        assert!(
            wrapped
                .lines()
                .any(|l| l.trim() == "`kubectl airflow diagnose zodiac -n astronomer-ee-zodiac`"),
            "{wrapped}"
        );
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>(),
            "no word lost or split"
        );
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn json_is_stable() {
        #[derive(Serialize)]
        struct S {
            b: u8,
            a: u8,
        }
        assert_eq!(
            to_json(&S { b: 1, a: 2 }).unwrap(),
            "{\n  \"b\": 1,\n  \"a\": 2\n}\n"
        );
    }
}
