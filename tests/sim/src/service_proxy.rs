//! The API server's service proxy: `/api/v1/namespaces/{ns}/services/{[scheme:]name[:port]}/proxy/{path}`.
//!
//! Modelled on upstream kubernetes/kubernetes: pkg/registry/core/service/proxy.go (the `proxy`
//! subresource, authorized as verb `get` on `services/proxy` with the name segment as written,
//! port included), pkg/registry/core/service/storage/storage.go `ResourceLocation` (the id is
//! `name`, `name:port` or `scheme:name:port` as k8s.io/apimachinery/pkg/util/net
//! `SplitSchemeNamePort` splits it; an unknown service is 404; a port number the service does
//! not declare is 503 `no service port N found for service "name"`; no ready address for the
//! port is 503 `no endpoints available for service "name"`) and
//! staging/src/k8s.io/apimachinery/pkg/util/proxy (the backend's answer is passed through,
//! status and body).
//!
//! The sim has no backends: the answer comes from the scenario, an annotation on the Service
//! per proxied path, `sim.kube-sim.dev/proxy.<path with / as .>` (`/health` →
//! `sim.kube-sim.dev/proxy.health`, `/api/v2/monitor/health` →
//! `sim.kube-sim.dev/proxy.api.v2.monitor.health`). A JSON value is served as JSON with every
//! string written as a negative age (`"-15s"`, `"-20m"`, `"-2h"`) turned into the time that long
//! before the sim's now (its `--time-scale` clock), as Airflow writes a heartbeat
//! (`2026-11-24T10:00:00.000000+00:00`): a fresh heartbeat stays fresh however long the sim runs.
//! Anything else is served as text; a path without an annotation is the backend's 404. Endpoints
//! are the Ready pods that match the service's selector (the endpoints controller's rule).

use http::Method;
use serde_json::Value;

use crate::clock::Clock;
use crate::control::pod_ready;
use crate::error::ApiError;
use crate::resources::{PODS, SERVICES};
use crate::scenario::User;
use crate::store::Store;

/// The annotation prefix of a proxied path's answer.
pub const ANSWER_PREFIX: &str = "sim.kube-sim.dev/proxy.";

/// What the proxied backend answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyAnswer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A service proxy request's parts, or None when `path` is not one.
fn parse(path: &str) -> Option<(&str, &str, String)> {
    let rest = path.strip_prefix("/api/v1/namespaces/")?;
    let (ns, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("services/")?;
    let (id, rest) = rest.split_once('/')?;
    let proxied = match rest.strip_prefix("proxy")? {
        "" => "/",
        p if p.starts_with('/') => p,
        _ => return None,
    };
    Some((ns, id, proxied.to_string()))
}

/// `SplitSchemeNamePort`: `name`, `name:port` or `scheme:name:port` (scheme "", http or https).
fn split_scheme_name_port(id: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = id.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [name] => (*name, ""),
        [name, port] => (*name, *port),
        [scheme, name, port] if matches!(*scheme, "" | "http" | "https") => (*name, *port),
        _ => return None,
    };
    (!name.is_empty()).then_some((name, port))
}

/// The verb RBAC checks for a proxy request (k8s.io/apiserver/pkg/endpoints/request
/// requestinfo.go: the HTTP method's verb on the `proxy` subresource).
fn verb(method: &Method) -> &'static str {
    match *method {
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "get",
    }
}

/// Answers a service proxy request, or None when `path` is not one (the normal routing goes
/// on).
pub fn serve(
    store: &Store,
    user: Option<&User>,
    method: &Method,
    path: &str,
) -> Option<Result<ProxyAnswer, ApiError>> {
    let (ns, id, proxied) = parse(path)?;
    Some(answer(store, user, method, ns, id, &proxied))
}

fn answer(
    store: &Store,
    user: Option<&User>,
    method: &Method,
    ns: &str,
    id: &str,
    proxied: &str,
) -> Result<ProxyAnswer, ApiError> {
    let user = user.ok_or_else(ApiError::unauthorized)?;
    let verb = verb(method);
    if !user.allows(verb, "", "services/proxy", Some(ns)) {
        return Err(ApiError::forbidden(
            &user.name,
            verb,
            &SERVICES,
            Some("proxy"),
            Some(ns),
            Some(id),
        ));
    }
    let Some((name, port)) = split_scheme_name_port(id) else {
        return Err(ApiError::bad_request(format!(
            "invalid service request {id:?}"
        )));
    };
    let svc = store.get(&SERVICES, Some(ns), name)?;
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let port_name = match port.parse::<i64>() {
        Ok(number) => match ports.iter().find(|p| p["port"].as_i64() == Some(number)) {
            Some(p) => p["name"].as_str().unwrap_or("").to_string(),
            None => {
                return Err(unavailable(format!(
                    "no service port {number} found for service {name:?}"
                )));
            }
        },
        Err(_) => port.to_string(),
    };
    // Endpoints carry the service's ports by name: an unnamed request matches only an unnamed
    // port, as upstream's `ss.Ports[i].Name == portStr`.
    let has_port = ports
        .iter()
        .any(|p| p["name"].as_str().unwrap_or("") == port_name);
    if !has_port || !has_ready_endpoint(store, ns, &svc) {
        return Err(unavailable(format!(
            "no endpoints available for service {name:?}"
        )));
    }
    if *method != Method::GET && *method != Method::HEAD {
        return Ok(text(405, "405 Method Not Allowed"));
    }
    let key = format!(
        "{ANSWER_PREFIX}{}",
        proxied.trim_matches('/').replace('/', ".")
    );
    let Some(raw) = svc["metadata"]["annotations"][&key].as_str() else {
        return Ok(text(404, "404 Not Found"));
    };
    Ok(match serde_json::from_str::<Value>(raw) {
        Ok(mut value) => {
            resolve_ages(&mut value, store.clock());
            ProxyAnswer {
                status: 200,
                content_type: "application/json",
                body: serde_json::to_vec(&value).unwrap_or_default(),
            }
        }
        Err(_) => text(200, raw),
    })
}

fn text(status: u16, body: &str) -> ProxyAnswer {
    ProxyAnswer {
        status,
        content_type: "text/plain; charset=utf-8",
        body: body.as_bytes().to_vec(),
    }
}

fn unavailable(message: String) -> ApiError {
    ApiError::new(503, "ServiceUnavailable", message)
}

/// Whether a Ready pod matches the service's selector (a service without one has no endpoints
/// the sim makes).
fn has_ready_endpoint(store: &Store, ns: &str, svc: &Value) -> bool {
    let Some(selector) = svc["spec"]["selector"]
        .as_object()
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    let (pods, _) = store.list(&PODS, Some(ns));
    pods.iter().any(|p| {
        selector
            .iter()
            .all(|(k, v)| p["metadata"]["labels"][k] == *v)
            && pod_ready(p)
    })
}

/// Every string `-<duration>` becomes that long before the clock's now, as Airflow writes a
/// heartbeat (`datetime.isoformat()` of an aware UTC time).
fn resolve_ages(value: &mut Value, clock: &Clock) {
    match value {
        Value::String(s) => {
            if let Some(age) = s
                .strip_prefix('-')
                .filter(|a| a.starts_with(|c: char| c.is_ascii_digit()))
                .and_then(|a| crate::http::parse_duration(a).ok())
                && let Ok(age) = jiff::SignedDuration::try_from(age)
                && let Ok(at) = clock.now().checked_sub(age)
            {
                *s = at.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_ages(v, clock)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve_ages(v, clock)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_paths() {
        assert_eq!(
            parse("/api/v1/namespaces/ns/services/web:8080/proxy/health"),
            Some(("ns", "web:8080", "/health".to_string()))
        );
        assert_eq!(
            parse("/api/v1/namespaces/ns/services/web/proxy"),
            Some(("ns", "web", "/".to_string()))
        );
        assert_eq!(parse("/api/v1/namespaces/ns/services/web"), None);
        assert_eq!(parse("/api/v1/namespaces/ns/services/web/status"), None);
        assert_eq!(parse("/api/v1/namespaces/ns/pods/p/proxy/x"), None);
        assert_eq!(split_scheme_name_port("web"), Some(("web", "")));
        assert_eq!(
            split_scheme_name_port("https:web:443"),
            Some(("web", "443"))
        );
        assert_eq!(split_scheme_name_port("ftp:web:21"), None);
        assert_eq!(split_scheme_name_port(":80"), None);
    }

    #[test]
    fn ages_become_times_before_now() {
        let clock = Clock::new(1.0);
        let mut v = serde_json::json!({"scheduler": {"status": "healthy",
            "latest_scheduler_heartbeat": "-20m"}, "n": "-x", "s": "healthy"});
        resolve_ages(&mut v, &clock);
        let beat: jiff::Timestamp = v["scheduler"]["latest_scheduler_heartbeat"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let age = clock.now().duration_since(beat).as_secs();
        assert!((1199..=1201).contains(&age), "{age}");
        assert_eq!(v["n"], "-x");
        assert_eq!(v["s"], "healthy");
    }
}
