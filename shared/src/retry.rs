//! Retrying transient API failures safely.
//!
//! Reads and idempotent writes (GET, PUT, PATCH other than JSON patch, DELETE) retry on
//! connection errors, 429 (honouring Retry-After), 500, 503 and 504, with capped exponential
//! backoff. A POST is retried only on 429/503, which the API server sends before doing anything;
//! never after a dropped connection or a 500, where the create may have happened. An eviction's
//! 429 is a PodDisruptionBudget refusal, not throttling: it goes back to the caller.

use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::client::{Body, ClientBuilder};
use tower::BoxError;
use tower::buffer::BufferLayer;
use tower::retry::{Policy, RetryLayer};

/// Longest wait between two attempts, and the most a Retry-After header is honoured.
const MAX_DELAY: Duration = Duration::from_secs(8);
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_ATTEMPTS: u32 = 8;
/// A connection that fails again and again is more likely a wrong server than a blip.
const MAX_CONNECTION_ATTEMPTS: u32 = 4;

#[derive(Clone, Debug)]
pub struct TransientRetry {
    attempt: u32,
    max_attempts: u32,
    first_delay: Duration,
}

impl Default for TransientRetry {
    fn default() -> Self {
        TransientRetry {
            attempt: 0,
            max_attempts: MAX_ATTEMPTS,
            first_delay: FIRST_DELAY,
        }
    }
}

/// What to do with one outcome of a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Done,
    /// Retry after the backoff; `Some` when the server asked for a delay.
    Retry(Option<Duration>),
}

fn is_idempotent<B>(req: &Request<B>) -> bool {
    match *req.method() {
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS => true,
        Method::PATCH => req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| !ct.contains("json-patch")),
        // An access review changes nothing: asking again is harmless.
        Method::POST => req.uri().path().ends_with("/selfsubjectaccessreviews"),
        _ => false,
    }
}

fn is_eviction<B>(req: &Request<B>) -> bool {
    req.uri().path().ends_with("/eviction")
}

/// A request through the API server's proxy (`services/NAME/proxy/...`): its 500, 503 and 504
/// are the backend's answer or "no endpoints available" (pkg/registry/core/service/storage
/// `ResourceLocation`), not a transient API server failure, so they go back to the caller.
fn is_proxy<B>(req: &Request<B>) -> bool {
    let path = req.uri().path();
    path.contains("/proxy/") || path.ends_with("/proxy")
}

/// Decides whether an outcome is worth another attempt (pure: unit-tested).
pub fn decide<B>(
    req: &Request<B>,
    status: Option<StatusCode>,
    retry_after: Option<&str>,
) -> Decision {
    let server_delay = || {
        retry_after
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_DELAY))
    };
    match status {
        // No response at all: connection refused/reset/dropped.
        None => {
            if is_idempotent(req) {
                Decision::Retry(None)
            } else {
                Decision::Done
            }
        }
        Some(StatusCode::TOO_MANY_REQUESTS) if is_eviction(req) => Decision::Done,
        Some(
            StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT,
        ) if is_proxy(req) => Decision::Done,
        Some(StatusCode::TOO_MANY_REQUESTS) | Some(StatusCode::SERVICE_UNAVAILABLE) => {
            Decision::Retry(server_delay())
        }
        Some(StatusCode::INTERNAL_SERVER_ERROR) | Some(StatusCode::GATEWAY_TIMEOUT)
            if is_idempotent(req) =>
        {
            Decision::Retry(server_delay())
        }
        Some(_) => Decision::Done,
    }
}

impl TransientRetry {
    fn backoff(&self) -> Duration {
        let exp = self.first_delay.saturating_mul(1 << self.attempt.min(16));
        exp.min(MAX_DELAY)
    }
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for TransientRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        log_request(req, result);
        if self.attempt >= self.max_attempts {
            return None;
        }
        let decision = match result {
            Ok(resp) => decide(
                req,
                Some(resp.status()),
                resp.headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()),
            ),
            // The exec plugin failed or its fresh token was refused too: another attempt
            // would run the plugin again for the same answer.
            Err(e) if crate::credentials::credential_error(&**e).is_some() => Decision::Done,
            Err(_) if self.attempt >= MAX_CONNECTION_ATTEMPTS => Decision::Done,
            Err(_) => decide(req, None, None),
        };
        match decision {
            Decision::Done => None,
            Decision::Retry(server_delay) => {
                let delay = server_delay.unwrap_or_else(|| self.backoff());
                self.attempt += 1;
                tracing::debug!(method = %req.method(), path = req.uri().path(), attempt = self.attempt, ?delay, "retrying transient failure");
                Some(tokio::time::sleep(delay))
            }
        }
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
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
}

/// `-v`: each request the suite makes and its answer, one line (method, path and query, status
/// or transport error). Never headers or bodies: they may carry credentials or secrets.
fn log_request<B>(req: &Request<Body>, result: &Result<Response<B>, BoxError>) {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), ToString::to_string);
    match result {
        Ok(resp) => tracing::info!("{} {target} -> {}", req.method(), resp.status()),
        Err(e) => tracing::info!("{} {target} -> {e}", req.method()),
    }
}

/// A kube client on the default stack (TLS, auth, impersonation headers, tracing) with
/// [`TransientRetry`] around it.
pub fn client(config: kube::Config) -> Result<kube::Client, kube::Error> {
    let builder = ClientBuilder::try_from(config)?;
    Ok(builder
        .with_layer(&BufferLayer::new(1024))
        .with_layer(&RetryLayer::new(TransientRetry::default()))
        .build())
}

/// As [`client`], for a kubeconfig user whose exec plugin's tokens the suite refreshes itself
/// ([`crate::credentials`]): `config` carries no credentials, `credentials` authenticate each
/// attempt (inside the retry layer, so a retried request gets the current token).
pub fn client_with_exec(
    config: kube::Config,
    credentials: std::sync::Arc<crate::credentials::ExecCredentials>,
) -> Result<kube::Client, kube::Error> {
    let builder = ClientBuilder::try_from(config)?;
    Ok(builder
        .with_layer(&BufferLayer::new(1024))
        .with_layer(&crate::credentials::ExecAuthLayer::new(credentials))
        .with_layer(&RetryLayer::new(TransientRetry::default()))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, path: &str) -> Request<()> {
        Request::builder()
            .method(method)
            .uri(path)
            .body(())
            .unwrap()
    }

    #[test]
    fn reads_retry_on_transient_failures() {
        let get = req(Method::GET, "/api/v1/pods");
        assert_eq!(decide(&get, None, None), Decision::Retry(None));
        assert_eq!(
            decide(&get, Some(StatusCode::INTERNAL_SERVER_ERROR), None),
            Decision::Retry(None)
        );
        assert_eq!(
            decide(&get, Some(StatusCode::TOO_MANY_REQUESTS), Some("2")),
            Decision::Retry(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            decide(&get, Some(StatusCode::TOO_MANY_REQUESTS), Some("3600")),
            Decision::Retry(Some(MAX_DELAY))
        );
        assert_eq!(
            decide(&get, Some(StatusCode::NOT_FOUND), None),
            Decision::Done
        );
        assert_eq!(
            decide(&get, Some(StatusCode::FORBIDDEN), None),
            Decision::Done
        );
    }

    #[test]
    fn creates_are_not_blindly_repeated() {
        let post = req(Method::POST, "/api/v1/namespaces/d/pods");
        assert_eq!(decide(&post, None, None), Decision::Done);
        assert_eq!(
            decide(&post, Some(StatusCode::INTERNAL_SERVER_ERROR), None),
            Decision::Done
        );
        assert_eq!(
            decide(&post, Some(StatusCode::SERVICE_UNAVAILABLE), None),
            Decision::Retry(None)
        );
        let evict = req(Method::POST, "/api/v1/namespaces/d/pods/p/eviction");
        assert_eq!(
            decide(&evict, Some(StatusCode::TOO_MANY_REQUESTS), None),
            Decision::Done
        );
    }

    #[test]
    fn a_proxied_backends_failure_is_its_answer() {
        let health = req(
            Method::GET,
            "/api/v1/namespaces/d/services/web:8080/proxy/health",
        );
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::GATEWAY_TIMEOUT,
        ] {
            assert_eq!(decide(&health, Some(status), None), Decision::Done);
        }
        assert_eq!(
            decide(&health, Some(StatusCode::TOO_MANY_REQUESTS), Some("1")),
            Decision::Retry(Some(Duration::from_secs(1)))
        );
        assert_eq!(decide(&health, None, None), Decision::Retry(None));
    }

    #[test]
    fn json_patch_is_not_idempotent() {
        let mut patch = req(Method::PATCH, "/apis/apps/v1/namespaces/d/deployments/w");
        assert_eq!(decide(&patch, None, None), Decision::Retry(None));
        patch.headers_mut().insert(
            http::header::CONTENT_TYPE,
            "application/json-patch+json".parse().unwrap(),
        );
        assert_eq!(decide(&patch, None, None), Decision::Done);
    }

    #[test]
    fn backoff_is_capped() {
        let late = TransientRetry {
            attempt: 30,
            ..Default::default()
        };
        assert_eq!(late.backoff(), MAX_DELAY);
        assert_eq!(TransientRetry::default().backoff(), FIRST_DELAY);
    }
}
