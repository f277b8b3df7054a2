//! When a step or DAG task may run: `continueOn`, `dependencies` and `depends` expressions
//! (`workflow/controller/dag.go`, `workflow/common/ancestry.go`).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::s;

/// `step.ContinuesOn(phase)` (workflow_types.go).
pub(super) fn continues_on(step: &Value, phase: &str) -> bool {
    let c = &step["continueOn"];
    (phase == "Failed" && c["failed"] == true) || (phase == "Error" && c["error"] == true)
}

/// The tasks a DAG task waits for: `dependencies`, or the names in `depends`.
pub(super) fn dependencies(task: &Value) -> Vec<String> {
    if let Some(d) = task["dependencies"].as_array() {
        return d.iter().map(|x| s(x).to_string()).collect();
    }
    let mut out: Vec<String> = tokens(s(&task["depends"]))
        .into_iter()
        .filter(|t| !matches!(t.as_str(), "&&" | "||" | "!" | "(" | ")"))
        .map(|t| t.split('.').next().unwrap_or("").to_string())
        .collect();
    out.dedup();
    out
}

pub(super) fn tokens(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        let op = match c {
            '&' | '|' if chars.peek() == Some(&c) => {
                chars.next();
                Some(format!("{c}{c}"))
            }
            '!' | '(' | ')' => Some(c.to_string()),
            c if c.is_whitespace() => None,
            _ => {
                cur.push(c);
                continue;
            }
        };
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if let Some(op) = op {
            out.push(op);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a task may run once its dependencies are done (dag.go: `dependencies` is
/// `a && b` where each is `a.Succeeded || a.Skipped || a.Daemoned`, or failed/errored when
/// its continueOn says so; `depends` is evaluated with `.Succeeded .Failed .Errored .Skipped
/// .Omitted .Daemoned .AnySucceeded .AllFailed`).
pub(super) fn depends_allows(
    task: &Value,
    phases: &HashMap<String, String>,
    cont: &HashMap<String, Value>,
) -> bool {
    let plain = |dep: &str| {
        let p = phases.get(dep).map(String::as_str).unwrap_or("");
        let c = json!({"continueOn": cont.get(dep).cloned().unwrap_or(Value::Null)});
        p == "Succeeded" || p == "Skipped" || continues_on(&c, p)
    };
    if let Some(d) = task["dependencies"].as_array() {
        return d.iter().all(|x| plain(s(x)));
    }
    let toks = tokens(s(&task["depends"]));
    if toks.is_empty() {
        return true;
    }
    let mut pos = 0;
    let atom = |t: &str| -> bool {
        match t.split_once('.') {
            None => plain(t),
            Some((dep, result)) => {
                let p = phases.get(dep).map(String::as_str).unwrap_or("");
                match result {
                    "Succeeded" | "AnySucceeded" => p == "Succeeded",
                    "Failed" | "AllFailed" => p == "Failed",
                    "Errored" => p == "Error",
                    "Skipped" => p == "Skipped",
                    "Omitted" => p == "Omitted",
                    _ => false,
                }
            }
        }
    };
    eval_or(&toks, &mut pos, &atom)
}

pub(super) fn eval_or(t: &[String], pos: &mut usize, atom: &dyn Fn(&str) -> bool) -> bool {
    let mut v = eval_and(t, pos, atom);
    while t.get(*pos).is_some_and(|x| x == "||") {
        *pos += 1;
        let r = eval_and(t, pos, atom);
        v = v || r;
    }
    v
}

pub(super) fn eval_and(t: &[String], pos: &mut usize, atom: &dyn Fn(&str) -> bool) -> bool {
    let mut v = eval_not(t, pos, atom);
    while t.get(*pos).is_some_and(|x| x == "&&") {
        *pos += 1;
        let r = eval_not(t, pos, atom);
        v = v && r;
    }
    v
}

pub(super) fn eval_not(t: &[String], pos: &mut usize, atom: &dyn Fn(&str) -> bool) -> bool {
    match t.get(*pos).map(String::as_str) {
        Some("!") => {
            *pos += 1;
            !eval_not(t, pos, atom)
        }
        Some("(") => {
            *pos += 1;
            let v = eval_or(t, pos, atom);
            if t.get(*pos).is_some_and(|x| x == ")") {
                *pos += 1;
            }
            v
        }
        Some(x) => {
            *pos += 1;
            atom(x)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_expressions() {
        let phases: HashMap<String, String> = [("a", "Succeeded"), ("b", "Failed")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let none = HashMap::new();
        let allows = |d: &str| depends_allows(&json!({"depends": d}), &phases, &none);
        assert!(allows("a"));
        assert!(!allows("a && b"));
        assert!(allows("a && b.Failed"));
        assert!(allows("b.Succeeded || a"));
        assert!(allows("!(b.Succeeded)"));
        assert_eq!(
            dependencies(&json!({"depends": "a && (b.Failed || c-d)"})),
            vec!["a", "b", "c-d"]
        );
        let cont: HashMap<String, Value> = [("b".to_string(), json!({"failed": true}))]
            .into_iter()
            .collect();
        assert!(depends_allows(
            &json!({"dependencies": ["a", "b"]}),
            &phases,
            &cont
        ));
    }
}
