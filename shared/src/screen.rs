//! A report redrawn in place as what it shows changes (`argodeploy watch`, `airflow status -w`):
//! on a terminal each frame replaces the last (cursor up over it, clear to the end of the
//! screen, so the scroll-back above stays); else each new version is appended as a plain
//! snapshot, a blank line between two, for a pipe or a log file.

use std::io::{IsTerminal, Write};

/// Where the frames go: redrawn in place on a terminal, appended otherwise.
pub struct Screen {
    /// Whether stdout is a terminal (frames redrawn in place).
    pub terminal: bool,
    /// Rows the last frame took on the terminal (to move back over).
    rows: usize,
    /// The version of the last snapshot appended (a pipe gets each version once).
    shown: Option<String>,
    /// Where the whole text is, said when a frame is cut to the screen's height.
    whole: String,
}

impl Screen {
    /// `whole` tells where the lines a short terminal cannot show are (e.g. "`get` prints
    /// them all").
    pub fn new(whole: &str) -> Screen {
        Screen {
            terminal: std::io::stdout().is_terminal(),
            rows: 0,
            shown: None,
            whole: whole.to_string(),
        }
    }

    /// Shows `text`, the rendering of `version`: in place of the last frame on a terminal;
    /// appended after a blank line otherwise, once per version.
    pub fn show(&mut self, text: &str, version: String) {
        if self.terminal {
            let size = console_size().unwrap_or((24, 80));
            let (frame, rows) = redraw(text, self.rows, size, &self.whole);
            self.rows = rows;
            write_stdout(&frame);
        } else if self.shown.as_ref() != Some(&version) {
            let gap = if self.shown.is_some() { "\n" } else { "" };
            self.shown = Some(version);
            write_stdout(&format!("{gap}{text}"));
        }
    }
}

fn console_size() -> Option<(usize, usize)> {
    console::Term::stdout()
        .size_checked()
        .filter(|(rows, cols)| *rows > 0 && *cols > 0)
        .map(|(rows, cols)| (usize::from(rows), usize::from(cols)))
}

fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The bytes that replace the last frame (`previous` rows tall) by `text` on a terminal of
/// `(rows, cols)`, and how many rows the new frame takes (pure). Each line is cut to the width
/// so that it takes one row, and the frame to the screen's height less one (a last line says
/// how many were left out), so that moving the cursor up always reaches the frame's top.
pub fn redraw(
    text: &str,
    previous: usize,
    (rows, cols): (usize, usize),
    whole: &str,
) -> (String, usize) {
    let cols = cols.max(1);
    let room = rows.saturating_sub(1).max(2);
    let mut lines: Vec<String> = text
        .lines()
        .map(|l| console::truncate_str(l, cols, "").into_owned())
        .collect();
    if lines.len() > room {
        let left_out = lines.len() - (room - 1);
        lines.truncate(room - 1);
        let note = format!("… {left_out} more lines: the terminal is too short ({whole})");
        lines.push(console::truncate_str(&note, cols, "").into_owned());
    }
    let mut out = String::new();
    if previous > 0 {
        out.push_str(&format!("\r\x1b[{previous}A"));
    }
    // Clear from the cursor to the end of the screen: the old frame, whatever its length.
    out.push_str("\x1b[J");
    for line in &lines {
        out.push_str(line);
        out.push('\n');
    }
    (out, lines.len())
}

/// How often a terminal's frame is redrawn when nothing changed (ages move on).
const REDRAW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// Changes arriving together (a rollout moves several pods) make one redraw.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(300);

/// `-w`: shows `report()` now and again after each change `changes` brings (several close
/// together make one), redrawn in place on a terminal (and every 2 s, for the ages), appended
/// when it changed otherwise, until Ctrl-C — which ends it quietly with 130, as `kubectl get
/// -w`. `whole` says where the lines a short terminal cannot show are.
pub async fn redraw_on_changes<S, T, E, F, Fut>(
    whole: &str,
    changes: S,
    mut report: F,
) -> crate::Result<()>
where
    S: futures::Stream<Item = Result<T, E>>,
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::Result<String>>,
{
    use futures::{FutureExt, StreamExt};
    crate::interrupt::reading_only();
    let mut screen = Screen::new(whole);
    let mut changes = std::pin::pin!(changes);
    loop {
        let text = report().await?;
        // The text is its own version: a pipe gets a snapshot only when it changed.
        screen.show(&text, text.clone());
        let change = async {
            match changes.next().await {
                Some(Err(e)) => tracing::debug!("watch error, retrying: {e}"),
                None => return false,
                Some(Ok(_)) => {}
            }
            tokio::time::sleep(SETTLE).await;
            while let Some(Some(_)) = changes.next().now_or_never() {}
            true
        };
        let more = if screen.terminal {
            tokio::time::timeout(REDRAW_EVERY, change)
                .await
                .unwrap_or(true)
        } else {
            change.await
        };
        if !more {
            return Err(crate::Error::Failed("the watch ended".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_frame_clears_below_and_the_next_ones_move_up_over_the_last() {
        let (first, rows) = redraw("a\nb\n", 0, (24, 80), "");
        assert_eq!(first, "\x1b[Ja\nb\n");
        assert_eq!(rows, 2);
        let (second, rows) = redraw("a\nb\nc\n", rows, (24, 80), "");
        assert_eq!(second, "\r\x1b[2A\x1b[Ja\nb\nc\n");
        assert_eq!(rows, 3);
    }

    #[test]
    fn a_frame_fits_the_terminal_so_the_cursor_can_reach_its_top() {
        let text: String = (0..30)
            .map(|i| format!("line {i} {}\n", "x".repeat(50)))
            .collect();
        let (frame, rows) = redraw(&text, 0, (10, 20), "`get` prints them all");
        assert_eq!(rows, 9);
        let lines: Vec<&str> = frame.trim_start_matches("\x1b[J").lines().collect();
        assert_eq!(lines.len(), 9);
        assert!(
            lines.iter().all(|l| console::measure_text_width(l) <= 20),
            "{lines:?}"
        );
        assert!(lines[8].starts_with("… 22 more lines"), "{}", lines[8]);
    }
}
