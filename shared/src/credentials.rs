//! Exec credential plugins whose tokens expire mid-run.
//!
//! A pool rotation lasts hours; cloud tokens do not (`aws eks get-token` gives 15 minutes).
//! kube 5 runs the plugin again only when `expirationTimestamp` is less than 60 s away
//! (kube-client `client/auth/mod.rs` `RefreshableToken::to_header`), treats a token without one
//! as static, and never reacts to a 401. client-go also refreshes after a 401
//! (k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go `roundTripper.RoundTrip`), which is
//! what a token revoked early or a skewed clock needs. So for a kubeconfig user with an exec
//! plugin the suite authenticates itself, below its retry layer:
//!
//! - the plugin runs as client-go runs it (args, env, `KUBERNETES_EXEC_INFO` with the cluster
//!   when `provideClusterInfo` is set, stdin/stderr to the terminal unless `interactiveMode:
//!   Never`); its token is cached until shortly before `expirationTimestamp` (forever without
//!   one);
//! - a request answered 401 makes the plugin run once more and is sent once more with the new
//!   token (a 401 never did anything on the server, so a POST may be repeated);
//! - a 401 after that, or a plugin that fails when asked to refresh, is a [`CredentialError`]:
//!   an authentication failure naming the kubeconfig user and the plugin, never "forbidden".
//!
//! Tokens are never logged or put in an error.

use std::future::Future;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use jiff::Timestamp;
use kube::client::Body;
use kube::config::{ExecConfig, ExecInteractiveMode};
use tower::{BoxError, Layer, Service, ServiceExt};

/// Refresh this long before `expirationTimestamp` at most (kube uses 60 s; client-go, none).
const MAX_MARGIN: Duration = Duration::from_secs(10);

/// Why a kubeconfig user's exec plugin cannot authenticate the suite.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialError {
    /// The plugin failed (or gave no token) when a fresh token was needed.
    #[error(
        "authentication failed: kubeconfig user {user:?} needs a fresh token but its exec credential plugin {command:?} failed: {said}; run the plugin by hand or log in again"
    )]
    PluginFailed {
        user: String,
        command: String,
        said: String,
    },
    /// The API server refused the token the plugin had just given.
    #[error(
        "authentication failed (401 Unauthorized): the API server rejects the token that kubeconfig user {user:?} got from its exec credential plugin {command:?}, also after a refresh; log in again or check the plugin's cluster and role"
    )]
    Rejected { user: String, command: String },
}

/// What the plugin printed: a token and when it stops working.
#[derive(Clone)]
struct Cached {
    token: String,
    /// When to run the plugin again (before the token's expiry by a margin); `None`: only
    /// after a 401.
    refresh_at: Option<Timestamp>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("token", &"<redacted>")
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// A kubeconfig user's exec plugin and its current token, shared by every clone of a client.
#[derive(Debug)]
pub struct ExecCredentials {
    user: String,
    exec: ExecConfig,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

/// What one run of the plugin gave.
pub enum Fetched {
    /// A bearer token (the case this module handles).
    Token,
    /// Client certificates or nothing: left to kube's own exec support.
    Other,
}

impl ExecCredentials {
    pub fn new(user: &str, exec: ExecConfig) -> Self {
        ExecCredentials {
            user: user.to_string(),
            exec,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    fn command(&self) -> String {
        self.exec.command.clone().unwrap_or_default()
    }

    fn failed(&self, said: impl Into<String>) -> CredentialError {
        CredentialError::PluginFailed {
            user: self.user.clone(),
            command: self.command(),
            said: crate::error::redact(&said.into()),
        }
    }

    /// Runs the plugin before the first request (a plugin that cannot run is a configuration
    /// problem, reported before anything is attempted) and says what kind of credential it
    /// gives.
    pub async fn first(self: &Arc<Self>) -> Result<Fetched, CredentialError> {
        let this = Arc::clone(self);
        let out = tokio::task::spawn_blocking(move || this.run())
            .await
            .map_err(|e| self.failed(e.to_string()))??;
        Ok(match out {
            Some(cached) => {
                *self.cached.lock().await = Some(cached);
                Fetched::Token
            }
            None => Fetched::Other,
        })
    }

    /// The current token, running the plugin when there is none or it is about to expire.
    async fn token(self: &Arc<Self>) -> Result<String, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.refresh_at.is_none_or(|at| Timestamp::now() < at)
        {
            return Ok(c.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// After a 401 with `rejected`: runs the plugin again unless another request already did.
    async fn refresh(self: &Arc<Self>, rejected: &str) -> Result<String, CredentialError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.token != rejected
        {
            return Ok(c.token.clone());
        }
        tracing::info!(
            "the API server refused the exec credential of user {:?} (401): running {:?} again",
            self.user,
            self.command()
        );
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn fetch(self: &Arc<Self>) -> Result<Cached, CredentialError> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.run())
            .await
            .map_err(|e| self.failed(e.to_string()))??
            .ok_or_else(|| self.failed("it printed no token"))
    }

    /// One run of the plugin, as client-go's exec authenticator does it (blocking).
    fn run(&self) -> Result<Option<Cached>, CredentialError> {
        let exec = &self.exec;
        let Some(command) = &exec.command else {
            return Err(self.failed("the kubeconfig names no command"));
        };
        let mut cmd = Command::new(command);
        cmd.args(exec.args.iter().flatten());
        for env in exec.env.iter().flatten() {
            if let (Some(name), Some(value)) = (env.get("name"), env.get("value")) {
                cmd.env(name, value);
            }
        }
        for name in exec.drop_env.iter().flatten() {
            cmd.env_remove(name);
        }
        let interactive = exec.interactive_mode != Some(ExecInteractiveMode::Never)
            && std::io::IsTerminal::is_terminal(&std::io::stdin());
        if interactive {
            cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        }
        let mut spec = serde_json::json!({ "interactive": interactive });
        if exec.provide_cluster_info
            && let Some(cluster) = &exec.cluster
        {
            spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
        }
        let info = serde_json::json!({
            "apiVersion": exec
                .api_version
                .clone()
                .unwrap_or_else(|| "client.authentication.k8s.io/v1".to_string()),
            "kind": "ExecCredential",
            "spec": spec,
        });
        cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
        cmd.stdout(Stdio::piped());
        let out = cmd
            .output()
            .map_err(|e| self.failed(format!("cannot run it: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said = stderr
                .trim()
                .lines()
                .last()
                .unwrap_or("(nothing on stderr)");
            return Err(self.failed(format!("{} ({said})", out.status)));
        }
        let credential: serde_json::Value = serde_saphyr::from_slice(&out.stdout)
            .map_err(|_| self.failed("its output is not an ExecCredential"))?;
        let status = &credential["status"];
        let Some(token) = status["token"].as_str().filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let expires = match status["expirationTimestamp"].as_str() {
            None => None,
            Some(ts) => Some(ts.parse::<Timestamp>().map_err(|_| {
                self.failed(format!("its expirationTimestamp {ts:?} is not RFC 3339"))
            })?),
        };
        Ok(Some(Cached {
            token: token.to_string(),
            refresh_at: expires.map(|at| refresh_time(Timestamp::now(), at)),
        }))
    }
}

/// When to fetch a new token for one valid from `now` to `expires`: before expiry by a fifth
/// of its lifetime, at most [`MAX_MARGIN`] (a 3 s token is used for 2.4 s, a 15 min one for
/// 14 min 50 s).
fn refresh_time(now: Timestamp, expires: Timestamp) -> Timestamp {
    let lifetime = expires.duration_since(now);
    if lifetime.is_negative() {
        return now;
    }
    let margin = (lifetime / 5).min(jiff::SignedDuration::try_from(MAX_MARGIN).unwrap_or_default());
    expires - margin
}

/// Puts the exec plugin's token on every request and refreshes it once on a 401.
#[derive(Clone)]
pub struct ExecAuthLayer {
    credentials: Arc<ExecCredentials>,
}

impl ExecAuthLayer {
    pub fn new(credentials: Arc<ExecCredentials>) -> Self {
        ExecAuthLayer { credentials }
    }
}

impl<S> Layer<S> for ExecAuthLayer {
    type Service = ExecAuth<S>;
    fn layer(&self, inner: S) -> ExecAuth<S> {
        ExecAuth {
            inner,
            credentials: Arc::clone(&self.credentials),
        }
    }
}

#[derive(Clone)]
pub struct ExecAuth<S> {
    inner: S,
    credentials: Arc<ExecCredentials>,
}

fn with_token(mut req: Request<Body>, token: &str) -> Result<Request<Body>, BoxError> {
    let mut value = http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        BoxError::from("the exec credential plugin gave a token that is not a valid header")
    })?;
    value.set_sensitive(true);
    req.headers_mut().insert(http::header::AUTHORIZATION, value);
    Ok(req)
}

/// The same request again (bodies the suite sends are in memory).
fn copy(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut builder = Request::builder()
        .method(req.method().clone())
        .uri(req.uri().clone())
        .version(req.version());
    if let Some(headers) = builder.headers_mut() {
        headers.extend(req.headers().clone());
    }
    builder.body(body).ok().map(|mut r| {
        *r.extensions_mut() = req.extensions().clone();
        r
    })
}

impl<S, B> Service<Request<Body>> for ExecAuth<S>
where
    S: Service<Request<Body>, Response = Response<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The service that was polled ready serves this call; a clone serves the retry.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let credentials = Arc::clone(&self.credentials);
        Box::pin(async move {
            let again = copy(&req);
            let token = credentials.token().await?;
            let resp = inner.call(with_token(req, &token)?).await?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            let Some(again) = again else {
                return Ok(resp);
            };
            drop(resp);
            let fresh = credentials.refresh(&token).await?;
            let resp = inner
                .ready()
                .await?
                .call(with_token(again, &fresh)?)
                .await?;
            if resp.status() == StatusCode::UNAUTHORIZED {
                return Err(CredentialError::Rejected {
                    user: credentials.user.clone(),
                    command: credentials.command(),
                }
                .into());
            }
            Ok(resp)
        })
    }
}

/// The credential failure somewhere in an error's cause chain.
pub fn credential_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CredentialError> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialError>() {
            return Some(c);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tokens_are_refreshed_before_they_expire() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let three_s: Timestamp = "2026-01-01T00:00:03Z".parse().unwrap();
        assert_eq!(
            refresh_time(now, three_s),
            "2026-01-01T00:00:02.4Z".parse().unwrap()
        );
        let fifteen_m: Timestamp = "2026-01-01T00:15:00Z".parse().unwrap();
        assert_eq!(
            refresh_time(now, fifteen_m),
            "2026-01-01T00:14:50Z".parse().unwrap()
        );
        let past: Timestamp = "2025-12-31T23:59:00Z".parse().unwrap();
        assert_eq!(refresh_time(now, past), now);
    }

    #[test]
    fn a_credential_error_is_found_through_wrappers() {
        let err = CredentialError::Rejected {
            user: "eks".into(),
            command: "aws".into(),
        };
        let boxed: BoxError = err.into();
        let wrapped = kube::Error::Service(boxed);
        let found = credential_error(&wrapped).expect("found");
        let text = found.to_string();
        assert!(
            text.contains("\"eks\"") && text.contains("\"aws\""),
            "{text}"
        );
        assert!(!text.to_lowercase().contains("forbidden"), "{text}");
        assert!(!text.to_lowercase().contains("permission"), "{text}");
    }

    #[test]
    fn plugin_failures_name_the_user_and_the_plugin_without_secrets() {
        let creds = ExecCredentials::new(
            "eks-admin",
            ExecConfig {
                command: Some("/nonexistent/aws-token".into()),
                ..ExecConfig::default()
            },
        );
        let err = creds.run().expect_err("cannot run");
        let text = err.to_string();
        assert!(text.contains("\"eks-admin\""), "{text}");
        assert!(text.contains("/nonexistent/aws-token"), "{text}");
        assert!(text.starts_with("authentication failed"), "{text}");
    }
}
