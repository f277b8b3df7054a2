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
//!
//! A restart cures a stale heartbeat, as in Airflow, where a new scheduler (triggerer,
//! dag-processor) process heartbeats within seconds of starting (apache/airflow
//! airflow/jobs/job.py `Job.heartbeat`, every `[scheduler] scheduler_heartbeat_sec` /
//! `job_heartbeat_sec`, default 5): for each of the answer's `scheduler`, `triggerer` and
//! `dag_processor` whose `latest_<key>_heartbeat` is written as an age, the sim looks at that
//! component's pods (the Service's namespace, its selector with `component` set to
//! `scheduler`, `triggerer` or `dag-processor`). Once there is at least one, all of them were
//! created after the moment the heartbeat names (the sim's start minus the age: the scenario
//! describes the cluster as the sim starts, so a pod the sim creates is always after it, and
//! stays cured however long the sim runs) and one of them is Running, the stuck process is
//! gone: the answer says `healthy` with a heartbeat under 5 s old (the last 5-second tick since
//! the newest pod was created). Until then (an old pod still there, even Terminating, or the
//! new one not Running yet) the stale answer stands. A heartbeat written as a time is served
//! as written.

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
            cure_replaced(&mut value, store, ns, &svc);
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

/// The components of Airflow's health answer with a heartbeat, and the `component` label of
/// the pods that run each.
const HEARTBEATS: &[(&str, &str)] = &[
    ("scheduler", "scheduler"),
    ("triggerer", "triggerer"),
    ("dag_processor", "dag-processor"),
];

/// How often a running Airflow job heartbeats (`[scheduler] scheduler_heartbeat_sec` and
/// `job_heartbeat_sec`, default 5).
const HEARTBEAT_SECS: i64 = 5;

/// The age a string `-<duration>` names (`"-20m"`), or None.
fn age_of(s: &str) -> Option<jiff::SignedDuration> {
    let age = s
        .strip_prefix('-')
        .filter(|a| a.starts_with(|c: char| c.is_ascii_digit()))
        .and_then(|a| crate::http::parse_duration(a).ok())?;
    jiff::SignedDuration::try_from(age).ok()
}

fn created(pod: &Value) -> Option<jiff::Timestamp> {
    crate::clock::parse_rfc3339(pod["metadata"]["creationTimestamp"].as_str()?)
}

/// A stale age-written heartbeat whose component's pods were all replaced since becomes a
/// fresh, healthy one (see the module's docs).
fn cure_replaced(value: &mut Value, store: &Store, ns: &str, svc: &Value) {
    let Some(selector) = svc["spec"]["selector"].as_object() else {
        return;
    };
    if !selector.contains_key("component") {
        return;
    }
    let clock = store.clock();
    let now = clock.now();
    let Ok(elapsed) = jiff::SignedDuration::try_from(clock.elapsed()) else {
        return;
    };
    let Ok(start) = now.checked_sub(elapsed) else {
        return;
    };
    let (pods, _) = store.list(&PODS, Some(ns));
    for (key, component) in HEARTBEATS {
        let field = format!("latest_{key}_heartbeat");
        let Some(age) = value[*key][&field].as_str().and_then(age_of) else {
            continue;
        };
        let Ok(moment) = start.checked_sub(age) else {
            continue;
        };
        let mine: Vec<&Value> = pods
            .iter()
            .filter(|p| {
                selector.iter().all(|(k, v)| {
                    let label = &p["metadata"]["labels"][k];
                    if k == "component" {
                        label == *component
                    } else {
                        label == v
                    }
                })
            })
            .collect();
        let replaced = mine
            .iter()
            .all(|p| created(p).is_some_and(|at| at > moment));
        let running = mine.iter().any(|p| p["status"]["phase"] == "Running");
        let Some(newest) = mine.iter().filter_map(|p| created(p)).max() else {
            continue;
        };
        if !replaced || !running {
            continue;
        }
        let since = now.duration_since(newest).as_secs().max(0);
        value[*key]["status"] = Value::from("healthy");
        value[*key][&field] = Value::from(format!("-{}s", since % HEARTBEAT_SECS));
    }
}

/// Every string `-<duration>` becomes that long before the clock's now, as Airflow writes a
/// heartbeat (`datetime.isoformat()` of an aware UTC time).
fn resolve_ages(value: &mut Value, clock: &Clock) {
    match value {
        Value::String(s) => {
            if let Some(age) = age_of(s)
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
    fn a_stale_heartbeat_is_cured_once_its_pods_are_replaced() {
        use crate::resources::NAMESPACES;
        use serde_json::json;
        let store = Store::new(std::sync::Arc::new(Clock::new(1.0)));
        let admin: User = serde_json::from_value(json!({"name": "admin", "token": "t",
            "rules": [{"verbs": ["*"], "resources": ["*"]}]}))
        .unwrap();
        let labels = |component: &str| json!({"component": component, "release": "r"});
        let pod = |name: &str, component: &str, created: Option<&str>, phase: &str| {
            let mut p = json!({"metadata": {"name": name, "labels": labels(component)},
                "status": {"phase": phase,
                           "conditions": [{"type": "Ready", "status": "True"}]}});
            if let Some(at) = created {
                p["metadata"]["creationTimestamp"] = json!(at);
            }
            p
        };
        let answer = json!({"metadatabase": {"status": "healthy"},
            "scheduler": {"status": "unhealthy", "latest_scheduler_heartbeat": "-20m"},
            "triggerer": {"status": "healthy", "latest_triggerer_heartbeat": "-3s"},
            "dag_processor": {"status": null, "latest_dag_processor_heartbeat": null}});
        store
            .create(&NAMESPACES, None, json!({"metadata": {"name": "ns"}}))
            .unwrap();
        store
            .create(&SERVICES, Some("ns"), json!({"metadata": {"name": "web",
                "annotations": {"sim.kube-sim.dev/proxy.health": answer.to_string()}},
                "spec": {"selector": labels("webserver"), "ports": [{"name": "http", "port": 8080}]}}))
            .unwrap();
        for p in [
            pod("web-1", "webserver", None, "Running"),
            pod(
                "sched-old",
                "scheduler",
                Some("2026-01-01T00:00:00Z"),
                "Running",
            ),
            pod(
                "trig-1",
                "triggerer",
                Some("2026-01-01T00:00:00Z"),
                "Running",
            ),
        ] {
            store.create(&PODS, Some("ns"), p).unwrap();
        }
        let get = || {
            let a = answer_of(&store, &admin);
            serde_json::from_slice::<Value>(&a.body).unwrap()
        };
        let age = |v: &Value, key: &str| {
            let beat: jiff::Timestamp = v[key][format!("latest_{key}_heartbeat")]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            store.clock().now().duration_since(beat).as_secs()
        };
        // The stuck scheduler's pod is still there: stale.
        let v = get();
        assert_eq!(v["scheduler"]["status"], "unhealthy", "{v}");
        assert!((1199..=1201).contains(&age(&v, "scheduler")), "{v}");
        // A new pod beside it (a rollout's surge), not Running yet, then Running: still stale
        // while the old one is there.
        store
            .create(
                &PODS,
                Some("ns"),
                pod("sched-new", "scheduler", None, "Pending"),
            )
            .unwrap();
        store
            .delete(&PODS, Some("ns"), "sched-old", &Default::default())
            .unwrap();
        assert_eq!(get()["scheduler"]["status"], "unhealthy");
        let mut new = store.get(&PODS, Some("ns"), "sched-new").unwrap();
        new["status"]["phase"] = json!("Running");
        store
            .update(&PODS, Some("ns"), "sched-new", new, true)
            .unwrap();
        // Every scheduler pod is newer than the stale heartbeat and one runs: fresh, healthy,
        // and it stays so as the sim's time goes on.
        for _ in 0..2 {
            let v = get();
            assert_eq!(v["scheduler"]["status"], "healthy", "{v}");
            assert!(age(&v, "scheduler") < HEARTBEAT_SECS, "{v}");
            // A fresh heartbeat and a null one are left as written.
            assert!((2..=4).contains(&age(&v, "triggerer")), "{v}");
            assert!(v["dag_processor"]["status"].is_null(), "{v}");
            store.clock().advance(std::time::Duration::from_secs(3600));
        }
        // No scheduler pod at all: nothing heartbeats, the stale answer stands.
        store
            .delete(&PODS, Some("ns"), "sched-new", &Default::default())
            .unwrap();
        assert_eq!(get()["scheduler"]["status"], "unhealthy");
    }

    fn answer_of(store: &Store, user: &User) -> ProxyAnswer {
        answer(store, Some(user), &Method::GET, "ns", "web:8080", "/health").unwrap()
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
