//! Counted nouns as people write them: "1 pod", "3 pods" — not "1 pod(s)" or "1 replicas".

/// `n` and `noun`, plural unless `n` is 1 (regular plurals: the nouns the suite counts —
/// pod, replica, blocker, reset, claim, node — all take an "s").
/// Any integer type counts (pods are `usize`, replicas `i32`, restarts `i64`).
pub fn count(n: impl std::fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(count(1, "replica"), "1 replica");
        assert_eq!(count(0, "pod"), "0 pods");
        assert_eq!(count(3, "blocker"), "3 blockers");
        assert_eq!(count(1i32, "restart"), "1 restart");
        assert_eq!(count(-1i64, "restart"), "-1 restarts");
    }
}
