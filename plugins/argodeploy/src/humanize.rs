//! Argo's time and duration text, byte for byte: `github.com/argoproj/pkg/humanize` and
//! `github.com/dustin/go-humanize` (`Timestamp`, `RelativeDuration`, `RelativeDurationShort`,
//! `Duration`), Go's `time.Duration.String` and `ResourcesDuration.String`. Neither
//! `shared::duration::format` ("2h1s", "0ms") nor jiff's printers ("2h 1s", ISO 8601) write
//! Go's "2h0m1s" or go-humanize's magnitudes, hence this module. Times print in UTC (argo
//! prints local time).

use jiff::Timestamp;
use serde_json::Value;

pub const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
const MONTH: i64 = 30 * DAY;
const YEAR: i64 = 12 * MONTH;
const LONG_TIME: i64 = 37 * YEAR;

/// go-humanize `RelTimeMagnitude`: below `d` nanoseconds, print `format` with `%d` the
/// difference divided by `div_by` and `%s` the label.
struct Magnitude {
    d: i64,
    format: &'static str,
    div_by: i64,
}

const fn mag(d: i64, format: &'static str, div_by: i64) -> Magnitude {
    Magnitude { d, format, div_by }
}

/// A magnitude table: the text below one second, then the magnitudes from there on.
struct Magnitudes {
    under_a_second: &'static str,
    from_a_second: &'static [Magnitude],
}

/// go-humanize `defaultMagnitudes` (used by `humanize.Time`): "now" below a second.
const DEFAULT_MAGNITUDES: Magnitudes = Magnitudes {
    under_a_second: "now",
    from_a_second: LONG_MAGNITUDES,
};

/// argoproj/pkg humanize `relativeMagnitudes` (used by `TruncatedDuration`): go-humanize's
/// but "0 seconds" below a second.
const RELATIVE_MAGNITUDES: Magnitudes = Magnitudes {
    under_a_second: "0 seconds",
    from_a_second: LONG_MAGNITUDES,
};

/// The magnitudes from a second that go-humanize's and argo's relative tables share.
const LONG_MAGNITUDES: &[Magnitude] = &[
    mag(2 * SECOND, "1 second %s", 1),
    mag(MINUTE, "%d seconds %s", SECOND),
    mag(2 * MINUTE, "1 minute %s", 1),
    mag(HOUR, "%d minutes %s", MINUTE),
    mag(2 * HOUR, "1 hour %s", 1),
    mag(DAY, "%d hours %s", HOUR),
    mag(2 * DAY, "1 day %s", 1),
    mag(WEEK, "%d days %s", DAY),
    mag(2 * WEEK, "1 week %s", 1),
    mag(MONTH, "%d weeks %s", WEEK),
    mag(2 * MONTH, "1 month %s", 1),
    mag(YEAR, "%d months %s", MONTH),
    mag(18 * MONTH, "1 year %s", 1),
    mag(2 * YEAR, "2 years %s", 1),
    mag(LONG_TIME, "%d years %s", YEAR),
    mag(i64::MAX, "a long while %s", 1),
];

/// argoproj/pkg humanize `shortTimeMagnitudes` (used by `RelativeDurationShort`, the
/// DURATION column).
const SHORT_MAGNITUDES: Magnitudes = Magnitudes {
    under_a_second: "0s",
    from_a_second: &[
        mag(2 * SECOND, "1s %s", 1),
        mag(MINUTE, "%ds %s", SECOND),
        mag(2 * MINUTE, "1m %s", 1),
        mag(HOUR, "%dm %s", MINUTE),
        mag(2 * HOUR, "1h %s", 1),
        mag(DAY, "%dh %s", HOUR),
        mag(2 * DAY, "1d %s", 1),
        mag(WEEK, "%dd %s", DAY),
    ],
};

/// Go's zero `time.Time` (0001-01-01T00:00:00Z): what a missing timestamp is in argo.
pub fn go_zero_time() -> Timestamp {
    Timestamp::from_second(-62_135_596_800).unwrap_or(Timestamp::MIN)
}

/// Go's `b.Sub(a)`: nanoseconds, saturating at the int64 bounds.
fn go_sub(b: Timestamp, a: Timestamp) -> i64 {
    let nanos = b.duration_since(a).as_nanos();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// go-humanize `CustomRelTime(a, b, albl, blbl, magnitudes)` given `b.Sub(a)`.
/// (Past the last magnitude the last one applies, as in go-humanize.)
fn custom_rel_time(b_minus_a: i64, albl: &str, blbl: &str, magnitudes: &Magnitudes) -> String {
    let (diff, label) = if b_minus_a < 0 {
        (b_minus_a.saturating_neg(), blbl)
    } else {
        (b_minus_a, albl)
    };
    let table = magnitudes.from_a_second;
    let found = table.iter().find(|m| m.d > diff).or(table.last());
    let Some(m) = found.filter(|_| diff >= SECOND) else {
        return magnitudes.under_a_second.to_string();
    };
    let mut out = String::new();
    let mut chars = m.format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&(diff / m.div_by).to_string()),
            Some('s') => out.push_str(label),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// humanize `TruncatedDuration`: one unit.
fn truncated_duration(d: i64) -> String {
    custom_rel_time(d, "", "", &RELATIVE_MAGNITUDES)
        .trim()
        .to_string()
}

/// humanize `Duration`: up to two units ("1 minute 2 seconds").
pub fn humanize_duration(d: i64) -> String {
    if d < MINUTE {
        truncated_duration(d)
    } else if d < HOUR {
        format!(
            "{} {} seconds",
            truncated_duration(d),
            (d % MINUTE) / SECOND
        )
    } else if d < DAY {
        format!("{} {} minutes", truncated_duration(d), (d % HOUR) / MINUTE)
    } else {
        format!("{} {} hours", truncated_duration(d), (d % DAY) / HOUR)
    }
}

/// What humanize `RelativeDuration` and `RelativeDurationShort` print, in nanoseconds: a zero
/// finish of a started node or workflow is now, a zero time Go's zero time.
fn elapsed(start: Option<Timestamp>, finish: Option<Timestamp>, now: Timestamp) -> i64 {
    let end = match (start, finish) {
        (_, Some(f)) => f,
        (Some(_), None) => now,
        (None, None) => go_zero_time(),
    };
    go_sub(end, start.unwrap_or_else(go_zero_time))
}

/// humanize `RelativeDuration` (the header's Duration).
pub fn relative_duration(
    start: Option<Timestamp>,
    finish: Option<Timestamp>,
    now: Timestamp,
) -> String {
    humanize_duration(elapsed(start, finish, now))
}

/// humanize `RelativeDurationShort` (the DURATION column: "0s", "10s", "1m", "5d").
pub fn relative_duration_short(
    start: Option<Timestamp>,
    finish: Option<Timestamp>,
    now: Timestamp,
) -> String {
    custom_rel_time(elapsed(start, finish, now), "", "", &SHORT_MAGNITUDES)
        .trim()
        .to_string()
}

/// humanize `Timestamp`: `Mon Jan 02 15:04:05 -0700 (1 hour ago)`, in UTC here.
pub fn humanize_timestamp(ts: Option<Timestamp>, now: Timestamp) -> String {
    let ts = ts.unwrap_or_else(go_zero_time);
    let when = ts
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a %b %d %H:%M:%S %z")
        .to_string();
    format!(
        "{when} ({})",
        custom_rel_time(go_sub(now, ts), "ago", "from now", &DEFAULT_MAGNITUDES)
    )
}

/// Go's `time.Duration.String` for whole seconds (`ResourceDuration`): "0s", "14s", "1m5s",
/// "2h0m1s".
fn go_seconds_string(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let sign = if secs < 0 { "-" } else { "" };
    let u = secs.unsigned_abs();
    let (h, m, s) = (u / 3600, (u % 3600) / 60, u % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// `ResourcesDuration.String`: `<duration>*(<denominator> <resource>)` joined by commas (Go's
/// map order is random; sorted by resource here).
pub fn resources_duration(v: &Value) -> String {
    let Some(map) = v.as_object() else {
        return String::new();
    };
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    names
        .iter()
        .map(|name| {
            let secs = map[*name]
                .as_i64()
                .unwrap_or_else(|| map[*name].as_f64().unwrap_or(0.0) as i64);
            let denominator = match name.as_str() {
                "memory" => "100Mi",
                "storage" | "ephemeral-storage" => "10Gi",
                _ => "1",
            };
            format!("{}*({denominator} {name})", go_seconds_string(secs))
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn humanize_like_argoproj_pkg() {
        assert_eq!(humanize_duration(0), "0 seconds");
        assert_eq!(humanize_duration(SECOND + SECOND / 2), "1 second");
        assert_eq!(humanize_duration(40 * SECOND), "40 seconds");
        assert_eq!(humanize_duration(62 * SECOND), "1 minute 2 seconds");
        assert_eq!(humanize_duration(150 * SECOND), "2 minutes 30 seconds");
        assert_eq!(humanize_duration(3 * HOUR), "3 hours 0 minutes");
        assert_eq!(humanize_duration(26 * HOUR + 5 * MINUTE), "1 day 2 hours");
        assert_eq!(humanize_duration(-5 * SECOND), "5 seconds");
        let now = at("2024-05-01T12:00:00Z");
        let short = |start: &str, end: Option<&str>| {
            relative_duration_short(Some(at(start)), end.map(at), now)
        };
        assert_eq!(short("2024-05-01T12:00:00Z", None), "0s");
        assert_eq!(short("2024-05-01T11:59:59Z", None), "1s");
        assert_eq!(short("2024-05-01T11:59:50Z", None), "10s");
        assert_eq!(short("2024-05-01T11:58:59Z", None), "1m");
        assert_eq!(
            short("2024-05-01T09:00:00Z", Some("2024-05-01T11:30:00Z")),
            "2h"
        );
        assert_eq!(short("2024-04-01T12:00:00Z", None), "30d");
        assert_eq!(
            humanize_timestamp(Some(at("2024-05-01T11:00:00Z")), now),
            "Wed May 01 11:00:00 +0000 (1 hour ago)"
        );
        assert_eq!(
            humanize_timestamp(Some(now), now),
            "Wed May 01 12:00:00 +0000 (now)"
        );
        assert_eq!(
            humanize_timestamp(Some(at("2024-05-01T12:05:00Z")), now),
            "Wed May 01 12:05:00 +0000 (5 minutes from now)"
        );
        assert_eq!(go_seconds_string(74), "1m14s");
        assert_eq!(go_seconds_string(7201), "2h0m1s");
        assert_eq!(
            resources_duration(&serde_json::json!({"memory": 14, "cpu": 0})),
            "0s*(1 cpu),14s*(100Mi memory)"
        );
    }
}
