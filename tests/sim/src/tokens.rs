//! Short-lived bearer tokens, as cloud credential plugins hand out (EKS tokens from
//! `aws eks get-token` last 15 minutes): `POST /sim/v1/tokens/<user>/<lifetime>` issues one for
//! an existing user; after its lifetime the API server answers 401 to it, as upstream's
//! authentication filter does for any credential no authenticator accepts
//! (k8s.io/apiserver/pkg/endpoints/filters/authentication.go `Unauthorized`).
//!
//! Lifetimes are wall-clock time, not simulated time: cloud credentials expire in real time
//! whatever `--time-scale` does to grace periods and readiness delays, and clients compare
//! `expirationTimestamp` with their own clock.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rand::Rng;

/// One issued token.
#[derive(Debug, Clone)]
struct Issued {
    token: String,
    user: String,
    expires: SystemTime,
}

/// What a token names when the server looks it up.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Not a token this registry issued.
    Unknown,
    /// Issued for this user and still valid.
    Valid(String),
    /// Issued, but past its lifetime: 401.
    Expired,
}

#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<Vec<Issued>>,
}

/// A token as the API answers it: the secret and when it stops working.
#[derive(Debug, Clone)]
pub struct Token {
    pub token: String,
    pub expires: SystemTime,
}

impl Tokens {
    /// A fresh random token for `user`, valid for `lifetime` from `now`.
    pub fn issue(&self, user: &str, lifetime: Duration, now: SystemTime) -> Token {
        let secret: u64 = rand::rng().random();
        let token = format!("kube-sim-exec-{secret:016x}");
        let expires = now + lifetime;
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        // Tokens long expired are forgotten: a long run issuing one every few seconds keeps
        // the list short (a forgotten token is refused as unknown, still 401).
        issued.retain(|t| {
            now.duration_since(t.expires)
                .is_ok_and(|past| past < Duration::from_secs(3600))
                || t.expires > now
        });
        issued.push(Issued {
            token: token.clone(),
            user: user.to_string(),
            expires,
        });
        Token { token, expires }
    }

    pub fn lookup(&self, token: &str, now: SystemTime) -> Lookup {
        let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        match issued.iter().find(|t| t.token == token) {
            None => Lookup::Unknown,
            Some(t) if now >= t.expires => Lookup::Expired,
            Some(t) => Lookup::Valid(t.user.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_until_its_lifetime_ends() {
        let tokens = Tokens::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let token = tokens.issue("admin", Duration::from_secs(3), t0);
        assert_eq!(
            tokens.lookup(&token.token, t0 + Duration::from_secs(2)),
            Lookup::Valid("admin".into())
        );
        assert_eq!(
            tokens.lookup(&token.token, t0 + Duration::from_secs(3)),
            Lookup::Expired
        );
        assert_eq!(tokens.lookup("kube-sim-exec-other", t0), Lookup::Unknown);
        let second = tokens.issue("admin", Duration::from_secs(3), t0);
        assert_ne!(second.token, token.token);
    }
}
