//! Plan text that fits the terminal: long lines wrap at word boundaries, continuation lines
//! indented under the text they continue; nothing changes when the output is not a terminal.

use std::io::IsTerminal;

/// The width to wrap stderr's text at: the terminal's, else `$COLUMNS` when set (an explicit
/// request), else none (`usize::MAX`: a pipe or a file gets the lines whole).
pub fn width() -> usize {
    if std::io::stderr().is_terminal()
        && let Some((terminal_size::Width(w), _)) =
            terminal_size::terminal_size_of(std::io::stderr())
    {
        return usize::from(w);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|w: &usize| *w > 0)
        .unwrap_or(usize::MAX)
}

/// Wraps every line of `text` to `width` columns (pure). A continuation is indented two
/// columns past the line's own indentation; a word longer than the width stays whole.
pub fn lines(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&wrap_line(line, width));
        out.push('\n');
    }
    out
}

fn wrap_line(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let indent = line.len() - line.trim_start().len();
    let hang = " ".repeat(indent + 2);
    let mut out = line[..indent].to_string();
    let mut column = indent;
    let mut first = true;
    for word in words(line) {
        let len = word.chars().count();
        let word = word.as_str();
        if !first && column + 1 + len > width {
            out.push('\n');
            out.push_str(&hang);
            column = hang.len();
            first = true;
        }
        if !first {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
        first = false;
    }
    out
}

/// The words of `line`, a command quoted in backticks counting as one: it is never broken
/// over lines, so it can be copied whole.
fn words(line: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut quoted = false;
    for word in line.split_whitespace() {
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

/// `text` cut to `width` characters, with `…` when cut (a one-line progress message).
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let keep = width.saturating_sub(1);
    text.chars().take(keep).collect::<String>() + "…"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_under_their_indentation() {
        let text = "Restart in Airflow x\n  warning: lunar-nuclear-3725-worker-2 is not Ready: a StatefulSet rolls only while all its pods are Ready\n";
        let wrapped = lines(text, 40);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 40, "{line:?} in\n{wrapped}");
        }
        let rows: Vec<&str> = wrapped.lines().collect();
        assert_eq!(rows[0], "Restart in Airflow x");
        assert_eq!(rows[1], "  warning: lunar-nuclear-3725-worker-2");
        assert!(rows[2].starts_with("    is not Ready:"), "{wrapped}");
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>(),
            "no word lost or split"
        );
        assert_eq!(lines(text, usize::MAX), text);
    }

    #[test]
    fn a_quoted_command_stays_on_one_line() {
        let text = "  warning: it waits; `kubectl airflow diagnose zodiac -n astronomer-ee-zodiac` says why";
        let wrapped = lines(text, 40);
        assert!(
            wrapped
                .lines()
                .any(|l| l.trim() == "`kubectl airflow diagnose zodiac -n astronomer-ee-zodiac`"),
            "{wrapped}"
        );
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
