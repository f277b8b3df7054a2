//! One error type for the suite, its exit codes, and clear one-line messages for API failures.

/// Exit codes fixed by DESIGN.md.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    /// An API call or a verification failed.
    pub const FAILURE: u8 = 1;
    /// Bad flags, arguments or configuration: nothing was attempted.
    pub const USAGE: u8 = 2;
    /// Refused or declined at the confirmation: nothing changed.
    pub const REFUSED: u8 = 3;
    /// Timed out waiting; the state was printed and the command can be resumed.
    pub const TIMEOUT: u8 = 4;
    /// Interrupted (Ctrl-C, SIGINT) outside a prompt: the message says what was done and how
    /// to resume; 128 + SIGINT, as shells report it.
    pub const INTERRUPTED: u8 = 130;
}

/// Every error a plugin reports. `Display` is the one-line message; `detail` is what `-v` adds.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong flags or arguments (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The kubeconfig or in-cluster configuration cannot be used (exit 2).
    #[error("{message}")]
    Config {
        message: String,
        detail: Option<String>,
    },
    /// The API server answered with an error or could not be reached (exit 1).
    #[error("{message}")]
    Api {
        message: String,
        detail: Option<String>,
        status: Option<u16>,
    },
    /// A check or a verification failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// No terminal to confirm on and no `--yes`, or a safety check refused (exit 3).
    #[error("{0}")]
    Refused(String),
    /// The operator said no at a prompt (exit 3): a plain message, not an error — nothing
    /// went wrong and nothing was changed.
    #[error("{0}")]
    Declined(String),
    /// Waiting for a condition ran out of time (exit 4).
    #[error("{0}")]
    Timeout(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config { .. } => exit::USAGE,
            Error::Api { .. } | Error::Failed(_) => exit::FAILURE,
            Error::Refused(_) | Error::Declined(_) => exit::REFUSED,
            Error::Timeout(_) => exit::TIMEOUT,
        }
    }

    /// The same error with `hint` appended to its message (how to resume an interrupted
    /// change); usage, config and refusal errors are returned unchanged.
    pub fn with_hint(self, hint: &str) -> Error {
        match self {
            Error::Timeout(m) => Error::Timeout(m + hint),
            Error::Failed(m) => Error::Failed(m + hint),
            Error::Api {
                message,
                detail,
                status,
            } => Error::Api {
                message: message + hint,
                detail,
                status,
            },
            other => other,
        }
    }

    /// Extra detail shown with `-v` (never contains credentials).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Config { detail, .. } | Error::Api { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            detail: None,
        }
    }

    /// The HTTP status of an API error, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => *status,
            _ => None,
        }
    }

    /// A failure the next attempt may not see: no answer (connection dropped or refused),
    /// throttling or a server error. A write that failed this way may still have happened.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Api { status, .. } if status.is_none_or(|s| s >= 500 || s == 429))
    }

    /// Maps a kube client error to a clear message; `server` names the API server for context.
    pub fn from_kube(err: kube::Error, server: &str) -> Self {
        let detail = Some(redact(&format!("{err:?}")));
        // An exec plugin's token refused again after a refresh, or a plugin that failed to
        // refresh: an authentication failure (exit 1), never a permission problem.
        if let Some(auth) = crate::credentials::credential_error(&err) {
            return Error::Api {
                message: auth.to_string(),
                detail,
                status: Some(401),
            };
        }
        match err {
            kube::Error::Api(status) => {
                let code = status.code;
                let reason = status.reason.clone();
                let msg = status.message.clone();
                let message = match code {
                    401 => format!(
                        "the API server at {server} rejected the credentials (401 Unauthorized): log in again or refresh the token of this kubeconfig user"
                    ),
                    403 => format!(
                        "forbidden (403): {msg}; ask for that permission or use another context (try `doctor`)"
                    ),
                    404 => format!("not found (404): {msg}"),
                    409 => format!(
                        "conflict (409): {msg}; the object changed meanwhile: run the command again"
                    ),
                    410 => format!("expired (410): {msg}; run the command again"),
                    422 => format!("invalid (422): {msg}"),
                    429 => format!(
                        "the API server is throttling requests (429 {reason}): {msg}; wait and run again"
                    ),
                    500..=599 => {
                        format!("the API server failed ({code} {reason}): {msg}; try again shortly")
                    }
                    _ => format!("the API server answered {code} {reason}: {msg}"),
                };
                Error::Api {
                    message,
                    detail,
                    status: Some(code),
                }
            }
            // The credential plugin ran and failed: what it said, not a dump of the process.
            kube::Error::Auth(kube::client::AuthError::AuthExecRun { out, .. }) => {
                let said = String::from_utf8_lossy(&out.stderr);
                let said = said.trim().lines().last().unwrap_or("(nothing on stderr)");
                Error::Config {
                    message: format!(
                        "cannot get credentials for {server}: the kubeconfig's exec credential plugin failed ({}): {}; run it by hand to see why",
                        out.status,
                        redact(said)
                    ),
                    detail,
                }
            }
            kube::Error::Auth(auth) => Error::Config {
                message: format!(
                    "cannot get credentials for {server}: {}",
                    redact(&auth.to_string())
                ),
                detail,
            },
            kube::Error::InferKubeconfig(e) => Error::Config {
                message: redact(&e.to_string()),
                detail,
            },
            other => {
                let message = match Transport::of(&other) {
                    Transport::Refused => format!(
                        "cannot reach the API server at {server}: connection refused; is the cluster up and the context right?"
                    ),
                    Transport::Tls => format!(
                        "TLS verification of {server} failed ({}); check the cluster's certificate-authority in the kubeconfig",
                        last_cause(&other)
                    ),
                    Transport::TimedOut => format!(
                        "the API server at {server} did not answer in time; check the network or raise --request-timeout"
                    ),
                    Transport::Unresolved => format!(
                        "cannot resolve the API server host of {server}; check the cluster's server URL"
                    ),
                    Transport::Other => {
                        format!("request to {server} failed: {}", last_cause(&other))
                    }
                };
                Error::Api {
                    message,
                    detail,
                    status: None,
                }
            }
        }
    }
}

/// Why a request got no answer, from the error's types (not its text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Nothing listens there (a TCP RST).
    Refused,
    /// The TLS handshake failed: an unknown issuer, a wrong name, an expired certificate.
    Tls,
    /// The connect or read timeout passed.
    TimedOut,
    /// The host name did not resolve.
    Unresolved,
    Other,
}

impl Transport {
    /// Walks the whole cause chain, including the errors an `io::Error` wraps (its `source()`
    /// skips them: hyper-rustls and tokio-rustls hand rustls' errors over inside one).
    pub fn of(err: &(dyn std::error::Error + 'static)) -> Transport {
        let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![err];
        let mut unresolved = false;
        while let Some(e) = pending.pop() {
            if e.downcast_ref::<rustls::Error>().is_some() {
                return Transport::Tls;
            }
            if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
                return Transport::TimedOut;
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return Transport::Refused,
                    std::io::ErrorKind::TimedOut => return Transport::TimedOut,
                    _ => {}
                }
                if let Some(inner) = io.get_ref() {
                    pending.push(inner);
                }
            }
            // The one case without a type of its own: std's getaddrinfo failure is an
            // uncategorized io::Error, which hyper-util's connector labels "dns error".
            unresolved |= e.to_string() == "dns error";
            if let Some(source) = e.source() {
                pending.push(source);
            }
        }
        if unresolved {
            Transport::Unresolved
        } else {
            Transport::Other
        }
    }
}

/// The whole `source()` chain, joined.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        parts.push(e.to_string());
        cur = e.source();
    }
    parts.join(": ")
}

fn last_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        last = e.to_string();
        cur = e.source();
    }
    redact(&last)
}

/// Removes anything that looks like a credential from a message: bearer tokens,
/// `token:`/`password:` values and PEM blocks.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // PEM blocks
    while let Some(start) = rest.find("-----BEGIN") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-----END") {
            Some(end_rel) => {
                let after = &rest[start + end_rel + 8..];
                let close = after.find("-----").map(|i| i + 5).unwrap_or(after.len());
                out.push_str("[REDACTED PEM]");
                rest = &after[close..];
            }
            None => {
                out.push_str("[REDACTED PEM]");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let mut result = String::with_capacity(out.len());
    let words = out.split_inclusive(|c: char| c.is_whitespace());
    let mut redact_next = false;
    for word in words {
        let trimmed = word.trim_end();
        let lower = trimmed.to_lowercase();
        if redact_next && !trimmed.is_empty() {
            result.push_str("[REDACTED]");
            result.push_str(&word[trimmed.len()..]);
            redact_next = false;
            continue;
        }
        if lower == "bearer"
            || lower.ends_with("token:")
            || lower.ends_with("password:")
            || lower.ends_with("token=")
        {
            redact_next = true;
            result.push_str(word);
            continue;
        }
        let mut redacted = false;
        for key in [
            "token:",
            "token=",
            "token\":",
            "password:",
            "password=",
            "password\":",
            "\"token\":\"",
            "client-key-data:",
        ] {
            if let Some(idx) = lower.find(key)
                && idx + key.len() < trimmed.len()
            {
                result.push_str(&trimmed[..idx + key.len()]);
                result.push_str("[REDACTED]");
                result.push_str(&word[trimmed.len()..]);
                redacted = true;
                break;
            }
        }
        if !redacted {
            result.push_str(word);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_design() {
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Error::config("x").exit_code(), 2);
        assert_eq!(Error::Failed("x".into()).exit_code(), 1);
        assert_eq!(Error::Refused("x".into()).exit_code(), 3);
        assert_eq!(Error::Timeout("x".into()).exit_code(), 4);
    }

    #[test]
    fn redact_removes_credentials() {
        let text = "Authorization: Bearer abc.def.ghi token: s3cr3t password=hunter2 -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- end";
        let r = redact(text);
        for secret in ["abc.def.ghi", "s3cr3t", "hunter2", "MIIE"] {
            assert!(!r.contains(secret), "{secret} leaked in {r}");
        }
        assert!(r.ends_with("end"));
        assert_eq!(redact("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn transport_failures_are_told_apart_by_their_types() {
        use std::io;
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(Transport::of(&refused), Transport::Refused);
        // rustls' error handed over inside an io::Error, as tokio-rustls does.
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(Transport::of(&tls), Transport::Tls);
        let timed_out = io::Error::other(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(Transport::of(&timed_out), Transport::TimedOut);
        // A message that merely mentions TLS is not a TLS failure.
        let other = io::Error::other("the tls-proxy sidecar said no");
        assert_eq!(Transport::of(&other), Transport::Other);
    }

    #[tokio::test]
    async fn a_real_refused_connection_is_named_so() {
        // Port 1 on loopback: nothing listens there.
        let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let err = client
            .apiserver_version()
            .await
            .expect_err("nothing listens on port 1");
        let e = Error::from_kube(err, "https://127.0.0.1:1");
        assert!(e.to_string().contains("connection refused"), "{e}");
        assert!(e.is_transient());
    }

    #[test]
    fn api_errors_get_clear_messages() {
        let status = kube::core::Status::failure(
            "pods \"x\" is forbidden: User \"viewer\" cannot delete resource \"pods\"",
            "Forbidden",
        )
        .with_code(403);
        let e = Error::from_kube(kube::Error::Api(Box::new(status)), "https://127.0.0.1:6443");
        assert_eq!(e.exit_code(), 1);
        assert!(
            e.to_string()
                .starts_with("forbidden (403): pods \"x\" is forbidden")
        );
        let unauthorized =
            kube::core::Status::failure("Unauthorized", "Unauthorized").with_code(401);
        let e = Error::from_kube(kube::Error::Api(Box::new(unauthorized)), "https://h");
        assert!(e.to_string().contains("rejected the credentials"));
        assert!(!e.to_string().contains('\n'));
    }
}
