//! What users type, checked before it is sent: label values, label selectors, `--tail`,
//! `--since` and `--since-time`. A real API server refuses the same input (400 or 422) after a
//! connection and a round trip, in words about query parameters; these checks say which flag
//! was wrong, exit 2, and send nothing. Each function fits clap's `value_parser`.

use std::time::Duration;

/// apimachinery pkg/util/validation/validation.go `LabelValueMaxLength`.
const LABEL_VALUE_MAX: usize = 63;
/// `DNS1123SubdomainMaxLength`, the longest label key prefix.
const PREFIX_MAX: usize = 253;

/// validation.go `IsValidLabelValue`: empty, or at most 63 characters of `[-_.A-Za-z0-9]`
/// beginning and ending with `[A-Za-z0-9]`. `Err` says what is wrong, in upstream's terms.
pub fn check_label_value(value: &str) -> Result<(), String> {
    if value.len() > LABEL_VALUE_MAX {
        return Err(format!(
            "must be no more than {LABEL_VALUE_MAX} characters (it has {})",
            value.len()
        ));
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let inner = |c: char| alnum(c) || matches!(c, '-' | '_' | '.');
    let ok = value.is_empty()
        || (value.starts_with(alnum) && value.ends_with(alnum) && value.chars().all(inner));
    if ok {
        Ok(())
    } else {
        Err(
            "a label value consists of letters, digits, '-', '_' or '.', and starts and ends \
             with a letter or digit"
                .to_string(),
        )
    }
}

/// validation.go `IsQualifiedName`: `[prefix/]name`, the prefix a DNS-1123 subdomain of at
/// most 253 characters, the name as a label value but not empty.
pub fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if name.is_empty() {
        return Err("a label key needs a name part (after any prefix/)".to_string());
    }
    check_label_value(name).map_err(|e| format!("its name part {name:?} {e}"))?;
    if let Some(prefix) = prefix {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && l.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if prefix.len() > PREFIX_MAX || !prefix.split('.').all(label_ok) {
            return Err(format!(
                "its prefix {prefix:?} must be a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)"
            ));
        }
    }
    Ok(())
}

/// A non-empty label value typed as a filter (`--username`, `--instance`): `username=` would
/// select only objects whose label is empty, never what was meant.
pub fn label_value(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".to_string());
    }
    check_label_value(value).map(|()| value.to_string())
}

/// A label key typed on the command line (a site's name for the user or instance label).
pub fn label_key(key: &str) -> Result<String, String> {
    check_label_key(key).map(|()| key.to_string())
}

/// A label selector (`-l`) as apimachinery pkg/labels/selector.go `Parse` reads it: returned
/// unchanged when valid; `Err` names the requirement at fault.
pub fn selector(text: &str) -> Result<String, String> {
    parse_selector(text)?;
    Ok(text.to_string())
}

/// A token of selector.go's lexer.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("{s:?}"),
            Token::Not => "'!'".into(),
            Token::Eq => "'='".into(),
            Token::DoubleEq => "'=='".into(),
            Token::NotEq => "'!='".into(),
            Token::Gt => "'>'".into(),
            Token::Lt => "'<'".into(),
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
        }
    }
}

/// selector.go `Lexer`: the special symbols `! != = == > < ( ) ,`, whitespace between tokens,
/// and everything else runs of identifier characters.
fn lex(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (token, width) = match (c, next) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ('!', Some('=')) => (Token::NotEq, 2),
            ('!', _) => (Token::Not, 1),
            ('=', Some('=')) => (Token::DoubleEq, 2),
            ('=', _) => (Token::Eq, 1),
            ('>', _) => (Token::Gt, 1),
            ('<', _) => (Token::Lt, 1),
            ('(', _) => (Token::Open, 1),
            (')', _) => (Token::Close, 1),
            (',', _) => (Token::Comma, 1),
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '!' | '=' | '>' | '<' | '(' | ')' | ',')
                {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
                continue;
            }
        };
        out.push(token);
        i += width;
    }
    out
}

/// selector.go `Parser.parse`: requirements separated by commas, each `[!]key`, `key op value`
/// (`=`, `==`, `!=`, `>`/`<` with an integer) or `key in|notin (v1,v2)`.
fn parse_selector(text: &str) -> Result<(), String> {
    let mut parser = SelectorParser {
        tokens: lex(text),
        pos: 0,
    };
    if parser.tokens.is_empty() {
        return Ok(());
    }
    loop {
        let key = parser.requirement()?;
        match parser.at() {
            None => return Ok(()),
            Some(Token::Comma) => {
                parser.pos += 1;
                if parser.at().is_none() {
                    return Err("a ',' ends the selector: a requirement must follow it".into());
                }
            }
            other => {
                return Err(format!(
                    "found {} after the requirement on {key}, expected ',' or the end",
                    found(other)
                ));
            }
        }
    }
}

/// A token as an error names it.
fn found(t: Option<&Token>) -> String {
    t.map_or_else(|| "the end".to_string(), Token::describe)
}

/// The selector's tokens and the position of the next one to read.
struct SelectorParser {
    tokens: Vec<Token>,
    pos: usize,
}

impl SelectorParser {
    fn at(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    /// One requirement: `[!]key`, `key op value` or `key in|notin (...)`. Returns its key.
    fn requirement(&mut self) -> Result<String, String> {
        let negated = self.at() == Some(&Token::Not);
        if negated {
            self.pos += 1;
        }
        let key = match self.at() {
            Some(Token::Ident(k)) => k.clone(),
            other => {
                return Err(format!("found {}, expected a label key", found(other)));
            }
        };
        check_label_key(&key).map_err(|e| format!("invalid label key {key:?}: {e}"))?;
        self.pos += 1;
        let ends = |t: Option<&Token>| matches!(t, None | Some(Token::Comma));
        if negated || ends(self.at()) {
            // `!key` or `key`: existence; nothing may follow `!key` but a comma.
            if !ends(self.at()) {
                return Err(format!(
                    "found {} after !{key}, expected ',' or the end",
                    found(self.at())
                ));
            }
            return Ok(key);
        }
        match self.at() {
            Some(Token::Ident(op)) if op == "in" || op == "notin" => {
                let op = op.clone();
                self.pos += 1;
                self.value_set(&key, &op)?;
            }
            Some(op @ (Token::Eq | Token::DoubleEq | Token::NotEq | Token::Gt | Token::Lt)) => {
                let op = op.clone();
                self.pos += 1;
                self.comparison(&key, op)?;
            }
            other => {
                return Err(format!(
                    "found {} after {key}, expected '=', '==', '!=', '>', '<', 'in' or 'notin'",
                    found(other)
                ));
            }
        }
        Ok(key)
    }

    /// The `(v1,v2)` after `key in` or `key notin`.
    fn value_set(&mut self, key: &str, op: &str) -> Result<(), String> {
        if self.at() != Some(&Token::Open) {
            return Err(format!(
                "found {} after {key} {op}, expected '('",
                found(self.at())
            ));
        }
        self.pos += 1;
        loop {
            match self.at() {
                Some(Token::Ident(v)) => {
                    check_label_value(v)
                        .map_err(|e| format!("invalid value {v:?} for {key}: {e}"))?;
                    self.pos += 1;
                }
                // `(,`, `,,`, `,)` and `()` hold the empty value, as upstream's
                // parseIdentifiersList reads them.
                Some(Token::Comma | Token::Close) => {}
                other => {
                    return Err(format!(
                        "found {} in the values of {key} {op}, expected a value",
                        found(other)
                    ));
                }
            }
            match self.at() {
                Some(Token::Comma) => self.pos += 1,
                Some(Token::Close) => {
                    self.pos += 1;
                    return Ok(());
                }
                other => {
                    return Err(format!(
                        "found {} in the values of {key} {op}, expected ',' or ')'",
                        found(other)
                    ));
                }
            }
        }
    }

    /// The value after `key` and `=`, `==`, `!=`, `>` or `<` (an integer for the last two).
    fn comparison(&mut self, key: &str, op: Token) -> Result<(), String> {
        let value = match self.at() {
            Some(Token::Ident(v)) => {
                let v = v.clone();
                self.pos += 1;
                v
            }
            // `key=` is the empty value.
            None | Some(Token::Comma)
                if matches!(op, Token::Eq | Token::DoubleEq | Token::NotEq) =>
            {
                String::new()
            }
            other => {
                return Err(format!(
                    "found {} after {key}{}, expected a value",
                    found(other),
                    op.describe().trim_matches('\'')
                ));
            }
        };
        if matches!(op, Token::Gt | Token::Lt) {
            value.parse::<i64>().map_err(|_| {
                format!(
                    "{key}{}{value}: for '>' and '<' the value must be an integer",
                    op.describe().trim_matches('\'')
                )
            })?;
        } else {
            check_label_value(&value)
                .map_err(|e| format!("invalid value {value:?} for {key}: {e}"))?;
        }
        Ok(())
    }
}

/// `--grep PATTERN` of the logs commands: the regular expression, or a one-line usage error
/// (the regex crate's own message spans lines: the pattern, a caret, the reason).
pub fn grep(pattern: Option<&str>) -> crate::Result<Option<regex::Regex>> {
    pattern.map(regex::Regex::new).transpose().map_err(|e| {
        let reason = e.to_string();
        let reason = reason
            .lines()
            .last()
            .unwrap_or_default()
            .trim_start_matches("error: ");
        crate::Error::Usage(format!(
            "--grep {:?} is not a regular expression: {reason}; escape special characters with \\",
            pattern.unwrap_or_default()
        ))
    })
}

/// `--tail N` as kubectl logs takes it: `-1` (all lines) or more; upstream's `tailLines` must be
/// at least 0 (core/v1 validation `ValidatePodLogOptions`), so `-1` is sent as no limit.
pub fn tail(text: &str) -> Result<i64, String> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of lines"))?;
    if n < -1 {
        return Err(format!("{n} lines: use 0 or more, or -1 for the whole log"));
    }
    Ok(n)
}

/// The `tailLines` to send for a `--tail` checked by [`tail`]: none for `-1` or no flag.
pub fn tail_lines(tail: Option<i64>) -> Option<i64> {
    tail.filter(|n| *n >= 0)
}

/// `--since D`: a duration (see [`crate::duration::parse`]) of at least one second, because a
/// real server refuses `sinceSeconds` below 1 (`ValidatePodLogOptions`).
pub fn since(text: &str) -> Result<Duration, String> {
    let d = crate::duration::parse(text)?;
    if d.is_zero() {
        return Err(format!(
            "{text:?}: use a duration of 1s or more (leave --since out for the whole log)"
        ));
    }
    Ok(d)
}

/// The `sinceSeconds` of a `--since` duration: a part second counts as a whole one, so that a
/// sub-second `--since` never becomes 0.
pub fn since_seconds(d: Duration) -> i64 {
    let whole = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i64::try_from(whole).unwrap_or(i64::MAX)
}

/// `--since-time`: an RFC 3339 time (`2026-11-21T08:49:00Z`), as kubectl logs takes it.
pub fn since_time(text: &str) -> Result<jiff::Timestamp, String> {
    text.trim().parse::<jiff::Timestamp>().map_err(|_| {
        format!("{text:?} is not an RFC 3339 time: write it like 2026-11-21T08:49:00Z")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `check` accepts every text of `ok` and refuses every text of `bad`.
    fn accepts_only<T: std::fmt::Debug>(
        check: fn(&str) -> Result<T, String>,
        ok: &[&str],
        bad: &[&str],
    ) {
        for text in ok {
            assert!(check(text).is_ok(), "{text:?}: {:?}", check(text));
        }
        for text in bad {
            assert!(check(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn label_values_as_upstream() {
        accepts_only(
            check_label_value,
            &[
                "",
                "a",
                "jdoe",
                "6bad6be2-8e7a-46e9",
                "My_Value.1",
                &"x".repeat(63),
            ],
            &["-a", "a-", "_a", "a b", "a/b", "é", "a,b", &"x".repeat(64)],
        );
        assert!(label_value("").is_err());
        assert!(label_value("rgarcia").is_ok());
        assert!(
            check_label_value(&"x".repeat(64))
                .unwrap_err()
                .contains("63")
        );
    }

    #[test]
    fn label_keys_as_upstream() {
        accepts_only(
            check_label_key,
            &[
                "app",
                "workflows.argoproj.io/phase",
                "a.b/c_d",
                "kubernetes.io/x",
            ],
            &[
                "",
                "/a",
                "a/",
                "Foo.io/x",
                "a..b/c",
                "-a",
                "a b",
                &"k".repeat(64),
            ],
        );
    }

    #[test]
    fn selectors_as_apimachinery_parses_them() {
        let ok = [
            "",
            "a=b",
            "a==b,c!=d",
            "a",
            "!a",
            "a in (b,c), d notin (e)",
            "workflows.argoproj.io/phase in (Running,Pending)",
            "a=",
            "a>3",
            "a<-1",
            "a in (b,)",
            "a in ()",
            " a = b ",
        ];
        let bad = [
            "a=b c",
            "a in (b",
            "a in b",
            "a=b,",
            ",a=b",
            "a=b,,c=d",
            "!a=b",
            "a>b",
            "a=-b",
            "a=b!",
            "user=bad value",
            "(a)",
            "a=((",
            &format!("a={}", "x".repeat(64)),
            "-a=b",
        ];
        accepts_only(selector, &ok, &bad);
        assert!(selector("a=b c").unwrap_err().contains("\"c\""));
    }

    #[test]
    fn tail_and_since() {
        assert_eq!(tail("5"), Ok(5));
        assert_eq!(tail("0"), Ok(0));
        assert_eq!(tail("-1"), Ok(-1));
        assert!(tail("-2").is_err());
        assert!(tail("ten").is_err());
        assert_eq!(tail_lines(Some(-1)), None);
        assert_eq!(tail_lines(Some(3)), Some(3));
        assert!(since("0").is_err());
        assert!(since("0s").is_err());
        assert!(since("x").is_err());
        assert_eq!(since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(since_seconds(Duration::from_millis(250)), 1);
        assert_eq!(since_seconds(Duration::from_secs(90)), 90);
        assert!(since_time("2026-11-21T08:49:00Z").is_ok());
        assert!(since_time("yesterday").is_err());
        assert!(since_time("2026-11-21").is_err());
    }
}
