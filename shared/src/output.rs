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

/// The width of the terminal on stderr, where plans and progress go (None: not a terminal).
pub fn stderr_width() -> Option<usize> {
    console::Term::stderr()
        .size_checked()
        .map(|(_rows, columns)| usize::from(columns))
}

/// `text` with every line longer than `width` wrapped at spaces; a continuation is indented
/// two columns deeper than its line, so a wrapped plan line still reads as one item. Widths
/// are measured as the terminal shows them (colour codes take no room); a word longer than the
/// width stays whole (a name must stay copyable), and a line that holds a command to paste
/// (`kubectl …`) is left for the terminal to fold: a newline inside it would run half of it.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if console::measure_text_width(body) <= width || body.contains("kubectl ") {
            out.push_str(line);
            continue;
        }
        let indent_len = body.len() - body.trim_start_matches(' ').len();
        let continuation = " ".repeat(indent_len + 2);
        let mut current = body[..indent_len].to_string();
        let mut current_width = indent_len;
        let mut first_word = true;
        for word in body[indent_len..].split(' ') {
            let word_width = console::measure_text_width(word);
            if !first_word && current_width + 1 + word_width > width {
                out.push_str(&current);
                out.push('\n');
                current = continuation.clone();
                current_width = continuation.len();
                first_word = true;
            }
            if !first_word {
                current.push(' ');
                current_width += 1;
            }
            current.push_str(word);
            current_width += word_width;
            first_word = false;
        }
        out.push_str(&current);
        out.push_str(newline);
    }
    out
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
        // A command to paste is never cut in two.
        let command = "  next: kubectl nodeevict resume node-1 --context prod";
        assert_eq!(wrap(command, 20), command);
        // A word longer than the width stays whole.
        assert_eq!(wrap("a verylongword b", 5), "a\n  verylongword\n  b");
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
