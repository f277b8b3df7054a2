//! Durations on the command line, as kubectl writes them: `30s`, `5m`, `1h30m`, `2h`, `7d`;
//! a bare number is seconds; `0` means no limit where the flag says so.

use std::time::Duration;

/// The longest duration a flag accepts: ten years. Beyond it a deadline (`now + timeout`) or a
/// `--since` start can overflow the clock; nobody means a longer wait.
pub const MAX: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Parses `30s`, `5m`, `1h30m`, `1.5h`, `7d`, `250ms` or a bare number of seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let bad =
        || format!("invalid duration {text:?}: use a number with a unit, like 30s, 5m, 2h or 7d");
    if s.is_empty() {
        return Err(bad());
    }
    let too_long =
        || format!("invalid duration {text:?}: longer than ten years; use a shorter one");
    if let Ok(secs) = s.parse::<u64>() {
        let d = Duration::from_secs(secs);
        return if d > MAX { Err(too_long()) } else { Ok(d) };
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_end == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            _ => return Err(bad()),
        };
        total += value * factor;
        rest = &rest[unit_end..];
    }
    // Checked before the conversion, which panics on values it cannot hold.
    if !total.is_finite() || total > MAX.as_secs_f64() {
        return Err(too_long());
    }
    Ok(Duration::from_secs_f64(total))
}

/// `1h2m3s`-style rendering, like Go's `time.Duration` but whole seconds.
pub fn format(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// kubectl's AGE column: `45s`, `12m`, `5h3m`, `3d4h`, `40d`, `2y30d`.
pub fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..120 => format!("{s}s"),
        120..600 => two_units(s / 60, "m", s % 60, "s"),
        600..10_800 => format!("{}m", s / 60),
        10_800..28_800 => two_units(s / 3600, "h", s % 3600 / 60, "m"),
        28_800..172_800 => format!("{}h", s / 3600),
        172_800..691_200 => two_units(s / 86_400, "d", s % 86_400 / 3600, "h"),
        691_200..63_072_000 => format!("{}d", s / 86_400),
        _ => two_units(s / 31_536_000, "y", s % 31_536_000 / 86_400, "d"),
    }
}

/// `5h3m`, or `5h` when the smaller unit is 0 (kubectl's HumanDuration).
fn two_units(big: u64, big_unit: &str, small: u64, small_unit: &str) -> String {
    if small == 0 {
        format!("{big}{big_unit}")
    } else {
        format!("{big}{big_unit}{small}{small_unit}")
    }
}

/// The AGE of something created at `created`, as of `now` (`<unknown>` without a time).
pub fn age(created: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    match created {
        Some(t) => human_age(now.duration_since(t).unsigned_abs()),
        None => "<unknown>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubectl_durations() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse("3650d"), Ok(MAX));
        for too_long in ["99999999999d", "3651d", "18446744073709551615", "1e400s"] {
            assert!(parse(too_long).is_err(), "{too_long}");
        }
        let huge = "9".repeat(400) + "d";
        assert!(parse(&huge).unwrap_err().contains("longer than ten years"));
        for bad in ["", "5 minutes", "m5", "5x", "-1s", "1h-"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renders_ages_like_kubectl() {
        assert_eq!(human_age(Duration::from_secs(45)), "45s");
        assert_eq!(human_age(Duration::from_secs(150)), "2m30s");
        assert_eq!(human_age(Duration::from_secs(3000)), "50m");
        assert_eq!(human_age(Duration::from_secs(4 * 3600 + 120)), "4h2m");
        assert_eq!(human_age(Duration::from_secs(3 * 86_400 + 3600)), "3d1h");
        assert_eq!(human_age(Duration::from_secs(40 * 86_400)), "40d");
        assert_eq!(format(Duration::from_secs(3723)), "1h2m3s");
    }
}
