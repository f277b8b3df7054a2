//! Commands printed for the operator to paste: each word as a shell reads it back.

/// A word as a POSIX shell reads it back: as it is when plainly safe, else single-quoted.
pub fn word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@=+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::word;

    #[test]
    fn safe_words_stay_as_they_are_and_others_are_quoted() {
        assert_eq!(word("agentpool=database"), "agentpool=database");
        assert_eq!(
            word("ip-10-0-12-27.ec2.internal"),
            "ip-10-0-12-27.ec2.internal"
        );
        assert_eq!(word("tier!=db"), "'tier!=db'");
        assert_eq!(word("env in (a,b)"), "'env in (a,b)'");
        assert_eq!(word("it's"), r"'it'\''s'");
        assert_eq!(word(""), "''");
    }
}
