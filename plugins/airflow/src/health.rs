//! Airflow's own health, beside pod readiness in `status`: the deployment's health endpoint read
//! through the API server's service proxy
//! (`/api/v1/namespaces/NS/services/SVC:PORT/proxy/health`; Airflow 3's api-server:
//! `/api/v2/monitor/health`), so no port-forward or ingress is needed. It reports the
//! metadatabase and the scheduler, triggerer and dag-processor heartbeats (apache/airflow
//! airflow/api/common/airflow_health.py). A component whose pods are Ready but whose heartbeat
//! is stale is Degraded: Kubernetes sees a live process, Airflow sees no work being done.
//!
//! A webserver (api-server) configured with a base URL serves every path under that URL's path
//! (Astronomer Software: `https://deployments.example.com/lunar-nuclear-3725/airflow` →
//! `/lunar-nuclear-3725/airflow/health`; apache/airflow airflow/config_templates/config.yml
//! `[webserver] base_url`, mounted with `DispatcherMiddleware` in airflow/www/app.py, any other
//! path 404; Airflow 3: airflow-core config.yml `[api] base_url`). The base URL is read from
//! the workload's container env, `AIRFLOW__WEBSERVER__BASE_URL` (`AIRFLOW__API__BASE_URL`),
//! and its path goes before the health path. A `valueFrom` is not read: the request goes
//! without a prefix and, if that fails, the reason says so.
//!
//! Plan (pure): which Service and path, the parsing and the staleness verdict, the problems and
//! the text. Execute: one list of the namespace's Services, one list of the webserver's
//! Deployment by name, and one proxied GET, bounded by a short timeout. Any failure becomes "health
//! unavailable: <why>", never a failed `status`.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, GetParams, ListParams};
use serde::Serialize;
use serde_json::Value;
use shared::shell::word;

use crate::discovery::AirflowDeployment;
use crate::status::Problem;

/// How long the proxied health request may take: a hung webserver must not hang `status`.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Airflow's health thresholds, in seconds, for a job without a reported status: Airflow
/// calls a job alive while its heartbeat is younger than these (airflow/jobs/job.py
/// `Job.is_alive`): `[scheduler] scheduler_health_check_threshold` (default 30),
/// `[triggerer] triggerer_health_check_threshold` (default 30), and for other jobs (the
/// dag-processor) `heartrate * 2.1` with `[scheduler] job_heartbeat_sec` (default 5).
fn threshold(component: &str) -> f64 {
    match component {
        "scheduler" | "triggerer" => 30.0,
        _ => 5.0 * 2.1,
    }
}

/// The Airflow configuration option that sets a component's threshold.
fn threshold_option(component: &str) -> &'static str {
    match component {
        "scheduler" => "[scheduler] scheduler_health_check_threshold",
        "triggerer" => "[triggerer] triggerer_health_check_threshold",
        _ => "[scheduler] job_heartbeat_sec × 2.1",
    }
}

/// The components of Airflow's health answer with a heartbeat, and the Kubernetes component
/// (the `component` label) that runs each.
const HEARTBEATS: &[(&str, &str)] = &[
    ("scheduler", "scheduler"),
    ("triggerer", "triggerer"),
    ("dag_processor", "dag-processor"),
];

/// Where the deployment's health is read: its webserver (Airflow 2) or api-server (Airflow 3)
/// Service.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The component serving it: `webserver` or `api-server`.
    pub component: &'static str,
    pub service: String,
    pub port: i32,
    /// `/health` (Airflow 2's webserver) or `/api/v2/monitor/health` (Airflow 3's api-server).
    pub endpoint: &'static str,
    /// The base URL's path (`/lunar-nuclear-3725/airflow`), or empty.
    pub prefix: String,
}

impl Source {
    /// The proxied path: the base URL's path, then the health endpoint.
    pub fn path(&self) -> String {
        format!("{}{}", self.prefix, self.endpoint)
    }

    /// `NAME:PORT/proxy/PATH`: what follows `/api/v1/namespaces/NS/services/` in the proxied
    /// request's path.
    pub fn proxied(&self) -> String {
        format!("{}:{}/proxy{}", self.service, self.port, self.path())
    }
}

/// The environment variable that sets the component's base URL, and the option it overrides
/// (apache/airflow config.yml: `[webserver] base_url`; Airflow 3 `[api] base_url`).
fn base_url_env(component: &str) -> (&'static str, &'static str) {
    match component {
        "api-server" => ("AIRFLOW__API__BASE_URL", "[api] base_url"),
        _ => ("AIRFLOW__WEBSERVER__BASE_URL", "[webserver] base_url"),
    }
}

/// What the workload's env says of the base URL.
#[derive(Debug, Clone, PartialEq)]
pub enum BaseUrl {
    /// Not in the env: Airflow's default, no path.
    Unset,
    Value(String),
    /// Set in a way not read here (a `valueFrom`), or the workload could not be read: why.
    Unread(String),
}

/// The base URL in the Deployment's container env (pure): the component's own container first,
/// then the others.
pub fn base_url(deployment: &Deployment, component: &str) -> BaseUrl {
    let (var, _) = base_url_env(component);
    let mut containers: Vec<_> = (deployment.spec.as_ref())
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.iter().collect())
        .unwrap_or_default();
    containers.sort_by_key(|c| c.name != component);
    let found = containers
        .iter()
        .flat_map(|c| c.env.iter().flatten())
        .find(|e| e.name == var);
    match found {
        None => BaseUrl::Unset,
        Some(e) if e.value_from.is_some() => BaseUrl::Unread(format!(
            "{var} is set from a valueFrom, not read here; if the {component} serves under that URL's path, its health is there"
        )),
        Some(e) => BaseUrl::Value(e.value.clone().unwrap_or_default()),
    }
}

/// The path of a base URL as Airflow mounts it (`urlsplit(base_url)[2]`, `/` meaning none),
/// without a trailing slash (pure): `https://h.example.com/lunar/airflow/` → `/lunar/airflow`.
pub fn url_path(url: &str) -> String {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |at| &rest[at..]),
        None => match url.strip_prefix("//") {
            Some(rest) => rest.find('/').map_or("", |at| &rest[at..]),
            None => url,
        },
    };
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let path = path.trim_end_matches('/');
    if path.is_empty() || path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// One component of Airflow's answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentHealth {
    /// Airflow's name: metadatabase, scheduler, triggerer, dag_processor.
    pub name: String,
    /// `healthy`, `unhealthy`, or none (the component never ran, or is not standalone).
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_heartbeat: Option<Timestamp>,
    /// Unhealthy, or its heartbeat older than Airflow's threshold.
    pub stale: bool,
}

/// Airflow's health as read, or why it could not be.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `services/NAME:PORT/proxy/PATH`, when a Service was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why there is no answer: no permission, no Service, no endpoints, no answer in time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    pub components: Vec<ComponentHealth>,
}

impl Health {
    fn unavailable(source: Option<String>, why: String) -> Self {
        Health {
            source,
            unavailable: Some(why),
            components: Vec::new(),
        }
    }
}

/// The Service whose health endpoint answers for the deployment (pure): the one selecting its
/// api-server pods (Airflow 3: the official chart names the component `api-server`) or else its
/// webserver pods (Airflow 2), and its first port.
pub fn source(d: &AirflowDeployment, services: &[Service]) -> Result<Source, String> {
    let (component, path) = if d.components.contains_key("api-server") {
        ("api-server", "/api/v2/monitor/health")
    } else {
        ("webserver", "/health")
    };
    let selects = |svc: &&Service| {
        let selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
        selector.is_some_and(|s| {
            s.get("component").map(String::as_str) == Some(component)
                && s.get("release").map(String::as_str) == Some(d.release.as_str())
        })
    };
    let svc = services.iter().find(selects).ok_or_else(|| {
        format!(
            "no Service selects the {component} pods (component={component}, release={}) in {}",
            d.release, d.namespace
        )
    })?;
    let port = (svc.spec.as_ref())
        .and_then(|s| s.ports.as_ref())
        .and_then(|p| p.first())
        .map(|p| p.port)
        .ok_or_else(|| {
            format!(
                "Service {} declares no port",
                svc.metadata.name.as_deref().unwrap_or_default()
            )
        })?;
    Ok(Source {
        component,
        service: svc.metadata.name.clone().unwrap_or_default(),
        port,
        endpoint: path,
        prefix: String::new(),
    })
}

/// Whether a heartbeat is stale as Airflow judges it: Airflow's own `unhealthy` verdict, or,
/// without a verdict, a heartbeat older than its threshold as of `now` (pure).
pub fn is_stale(
    component: &str,
    status: Option<&str>,
    heartbeat: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    match status {
        Some("unhealthy") => true,
        Some(_) => false,
        None => heartbeat
            .is_some_and(|beat| now.duration_since(beat).as_secs_f64() >= threshold(component)),
    }
}

/// Parses Airflow's health answer (the same shape on Airflow 2's `/health` and Airflow 3's
/// `/api/v2/monitor/health`) (pure).
pub fn parse(body: &str, now: Timestamp) -> Result<Vec<ComponentHealth>, String> {
    let value: Value = serde_json::from_str(body)
        .map_err(|_| "the answer is not Airflow's health JSON".to_string())?;
    let Some(map) = value.as_object() else {
        return Err("the answer is not Airflow's health JSON".into());
    };
    if !map.contains_key("metadatabase") && !map.contains_key("scheduler") {
        return Err("the answer has neither metadatabase nor scheduler health".into());
    }
    let mut out = Vec::new();
    for name in ["metadatabase", "scheduler", "triggerer", "dag_processor"] {
        let Some(entry) = map.get(name) else { continue };
        let status = entry["status"].as_str().map(String::from);
        let latest_heartbeat = entry[format!("latest_{name}_heartbeat")]
            .as_str()
            .and_then(parse_time);
        let stale =
            name != "metadatabase" && is_stale(name, status.as_deref(), latest_heartbeat, now);
        out.push(ComponentHealth {
            name: name.to_string(),
            status,
            latest_heartbeat,
            stale,
        });
    }
    Ok(out)
}

/// Airflow's `datetime.isoformat()` (`2026-11-24T10:00:00.123456+00:00`) or RFC 3339.
fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

/// How long ago, as kubectl's AGE; a heartbeat ahead of this machine's clock is `0s`.
fn ago(beat: Timestamp, now: Timestamp) -> String {
    let d = now.duration_since(beat).max(SignedDuration::ZERO);
    shared::duration::human_age(d.unsigned_abs())
}

/// The Degraded components: Ready pods, stale heartbeat, with the restart that gets a fresh
/// scheduler (or triggerer, dag-processor) (pure). A component without a Ready pod already has
/// its problem from pod readiness.
pub fn problems(
    d: &AirflowDeployment,
    health: &Health,
    given_flags: &str,
    now: Timestamp,
) -> Vec<Problem> {
    let mut out = Vec::new();
    for h in health.components.iter().filter(|h| h.stale) {
        let Some((_, component)) = HEARTBEATS.iter().find(|(name, _)| *name == h.name) else {
            continue;
        };
        let Some(c) = d.components.get(*component) else {
            continue;
        };
        let ready: Vec<&str> = (c.pods.iter().filter(|p| p.ready))
            .map(|p| p.name.as_str())
            .collect();
        if ready.is_empty() {
            continue;
        }
        let heartbeat = match h.latest_heartbeat {
            Some(beat) => format!("its last heartbeat was {} ago", ago(beat, now)),
            None => "it has no heartbeat".to_string(),
        };
        out.push(Problem {
            what: format!(
                "{component} is Degraded: {} Ready, but Airflow reports it {} — {heartbeat} ({} is {}s)",
                ready.join(", "),
                h.status.as_deref().unwrap_or("stale"),
                threshold_option(component),
                threshold(component)
            ),
            fix: format!(
                "kubectl airflow restart {} {} -n {}{given_flags}",
                word(component),
                word(&d.release),
                word(&d.namespace)
            ),
            alternative: None,
            cause: None,
        });
    }
    out
}

/// `Airflow health (services/…/proxy/health):` then `  metadatabase healthy, scheduler
/// unhealthy (heartbeat 20m ago), …`, or `Airflow health unavailable: <why>` (pure).
pub fn render(health: &Health, now: Timestamp) -> String {
    if let Some(why) = &health.unavailable {
        return shared::output::wrap(&format!("Airflow health unavailable: {why}"), 120) + "\n";
    }
    let parts: Vec<String> = health
        .components
        .iter()
        .map(|h| {
            let status = h.status.as_deref().unwrap_or("-");
            let status = if h.stale || status == "unhealthy" {
                crate::paint::paint(status, crate::paint::Severity::Failing)
            } else {
                status.to_string()
            };
            match h.latest_heartbeat {
                Some(beat) => format!("{} {status} (heartbeat {} ago)", h.name, ago(beat, now)),
                None => format!("{} {status}", h.name),
            }
        })
        .collect();
    let mut out = format!(
        "Airflow health ({}):\n",
        health.source.as_deref().unwrap_or("-")
    );
    // Wrapped at 120 columns between components, never inside one.
    let mut line = String::new();
    for (i, part) in parts.iter().enumerate() {
        let part = if i + 1 < parts.len() {
            format!("{part},")
        } else {
            part.clone()
        };
        if !line.is_empty() && 2 + line.len() + 1 + part.len() > 120 {
            out.push_str(&format!("  {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&part);
    }
    out.push_str(&format!("  {line}\n"));
    out
}

/// Why the proxied read failed, in the operator's terms; `hint`: a 404 may be a base URL the
/// env does not show.
fn explain(err: &kube::Error, namespace: &str, source: &Source, hint: bool) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "no permission to get services/proxy in {namespace} (kubectl auth can-i get services/proxy -n {namespace})"
        ),
        kube::Error::Api(status) if status.code == 404 && status.message.contains("services") => {
            format!("Service {} not found", source.service)
        }
        kube::Error::Api(status) if status.code == 404 => format!(
            "{} answered 404 for {}: not an Airflow {} endpoint{}",
            source.service,
            source.path(),
            if source.endpoint == "/health" {
                "2"
            } else {
                "3"
            },
            if hint && source.prefix.is_empty() {
                format!(
                    " (or the {} serves under a {} path not set in its env)",
                    source.component,
                    base_url_env(source.component).1
                )
            } else {
                String::new()
            }
        ),
        kube::Error::Api(status) if status.code == 503 => {
            format!("{}: no Ready pod behind it", status.message)
        }
        kube::Error::Api(status) => format!("HTTP {}: {}", status.code, status.message),
        other => other.to_string(),
    }
}

/// The base URL of the component's Deployment (never fails: an unreadable one is `Unread`).
/// Read with a list by name, which the `list deployments` that `status` already needs allows.
async fn read_base_url(target: &shared::Target, d: &AirflowDeployment, component: &str) -> BaseUrl {
    let Some(c) = d
        .components
        .get(component)
        .filter(|c| c.kind == "Deployment")
    else {
        return BaseUrl::Unset;
    };
    let deployments: Api<Deployment> = Api::namespaced(target.client.clone(), &d.namespace);
    let by_name = ListParams::default().fields(&format!("metadata.name={}", c.workload));
    match tokio::time::timeout(TIMEOUT, deployments.list(&by_name)).await {
        Ok(Ok(list)) => list
            .items
            .first()
            .map_or(BaseUrl::Unset, |deployment| base_url(deployment, component)),
        Ok(Err(e)) => BaseUrl::Unread(format!(
            "deployment/{} not read ({e}), so its {} was not looked for",
            c.workload,
            base_url_env(component).1
        )),
        Err(_) => BaseUrl::Unread(format!(
            "deployment/{} not read within {}s, so its {} was not looked for",
            c.workload,
            TIMEOUT.as_secs(),
            base_url_env(component).1
        )),
    }
}

/// Reads the deployment's health (never fails: the reason goes into `unavailable`).
pub async fn read(target: &shared::Target, d: &AirflowDeployment) -> Health {
    let services: Api<Service> = Api::namespaced(target.client.clone(), &d.namespace);
    let component = if d.components.contains_key("api-server") {
        "api-server"
    } else {
        "webserver"
    };
    let all = ListParams::default();
    let (listed, base) = tokio::join!(
        tokio::time::timeout(TIMEOUT, services.list(&all)),
        read_base_url(target, d, component)
    );
    let services = match listed {
        Ok(Ok(list)) => list.items,
        Ok(Err(kube::Error::Api(status))) if status.code == 403 => {
            return Health::unavailable(
                None,
                format!("no permission to list services in {}", d.namespace),
            );
        }
        Ok(Err(e)) => return Health::unavailable(None, format!("cannot list services: {e}")),
        Err(_) => {
            return Health::unavailable(
                None,
                format!("services not listed within {}s", TIMEOUT.as_secs()),
            );
        }
    };
    let mut source = match self::source(d, &services) {
        Ok(s) => s,
        Err(why) => return Health::unavailable(None, why),
    };
    // Without a readable base URL, the request goes unprefixed; if it fails, say why.
    let unread = match base {
        BaseUrl::Value(url) => {
            source.prefix = url_path(&url);
            None
        }
        BaseUrl::Unset => None,
        BaseUrl::Unread(why) => Some(why),
    };
    let with_unread = |why: String| match &unread {
        Some(unread) => format!("{why} ({unread})"),
        None => why,
    };
    let shown = format!("services/{}", source.proxied());
    let request = kube::core::Request::new(format!("/api/v1/namespaces/{}/services", d.namespace))
        .get(&source.proxied(), &GetParams::default());
    let request = match request {
        Ok(r) => r,
        Err(e) => return Health::unavailable(Some(shown), e.to_string()),
    };
    let answer = tokio::time::timeout(TIMEOUT, target.client.request_text(request)).await;
    let now = Timestamp::now();
    match answer {
        Ok(Ok(body)) => match parse(&body, now) {
            Ok(components) => Health {
                source: Some(shown),
                unavailable: None,
                components,
            },
            Err(why) => Health::unavailable(Some(shown), with_unread(why)),
        },
        Ok(Err(e)) => {
            tracing::info!("health of {}: {e}", d.release);
            let why = explain(&e, &d.namespace, &source, unread.is_none());
            Health::unavailable(Some(shown), with_unread(why))
        }
        Err(_) => Health::unavailable(
            Some(shown),
            with_unread(format!(
                "{} gave no answer within {}s",
                source.service,
                TIMEOUT.as_secs()
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{pod, workload};
    use crate::discovery::{Inventory, group};

    const NS: &str = "astronomer-ee-zodiac-cosmo-1172";
    const R: &str = "zodiac-cosmo-1172";

    fn now() -> Timestamp {
        "2026-11-24T10:00:00Z".parse().unwrap()
    }

    fn deployment(scheduler_ready: bool, component: &str) -> AirflowDeployment {
        group(&Inventory {
            daemonsets: vec![],
            deployments: vec![
                workload(NS, R, "scheduler", 1),
                workload(NS, R, component, 1),
            ],
            statefulsets: vec![],
            pods: vec![
                pod(NS, R, "scheduler", "zodiac-sched-1", scheduler_ready, None),
                pod(NS, R, component, "zodiac-web-1", true, None),
            ],
        })
        .remove(0)
    }

    fn service(name: &str, component: &str, release: &str) -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"tier": "airflow", "component": component, "release": release},
                     "ports": [{"name": "http", "port": 8080}]}}))
        .unwrap()
    }

    const STALE: &str = r#"{"metadatabase":{"status":"healthy"},
        "scheduler":{"status":"unhealthy","latest_scheduler_heartbeat":"2026-11-24T09:40:00.000000+00:00"},
        "triggerer":{"status":null,"latest_triggerer_heartbeat":null},
        "dag_processor":{"status":null,"latest_dag_processor_heartbeat":null}}"#;

    #[test]
    fn parses_airflows_answer_and_judges_staleness() {
        let parsed = parse(STALE, now()).unwrap();
        let names: Vec<&str> = parsed.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["metadatabase", "scheduler", "triggerer", "dag_processor"]
        );
        assert!(!parsed[0].stale && parsed[1].stale && !parsed[2].stale);
        assert_eq!(
            parsed[1].latest_heartbeat,
            Some("2026-11-24T09:40:00Z".parse().unwrap())
        );
        assert!(parse("<html>login</html>", now()).is_err());
        assert!(parse(r#"{"status":"ok"}"#, now()).is_err());
        // Without Airflow's verdict, its thresholds: 30 s for the scheduler and triggerer,
        // 10.5 s for the dag-processor.
        let at = |secs: i64| now().checked_sub(SignedDuration::from_secs(secs)).ok();
        assert!(!is_stale("scheduler", None, at(29), now()));
        assert!(is_stale("scheduler", None, at(30), now()));
        assert!(!is_stale("triggerer", None, at(29), now()));
        assert!(is_stale("dag_processor", None, at(11), now()));
        assert!(!is_stale("dag_processor", None, at(10), now()));
        assert!(!is_stale("scheduler", None, None, now()));
        // Airflow's verdict wins over this machine's clock.
        assert!(!is_stale("scheduler", Some("healthy"), at(300), now()));
        assert!(is_stale("scheduler", Some("unhealthy"), at(1), now()));
    }

    #[test]
    fn finds_the_webserver_or_api_server_service() {
        let services = [
            service("zodiac-cosmo-1172-flower", "flower", R),
            service("other-webserver", "webserver", "other"),
            service("zodiac-cosmo-1172-webserver", "webserver", R),
        ];
        let src = source(&deployment(true, "webserver"), &services).unwrap();
        assert_eq!(src.service, "zodiac-cosmo-1172-webserver");
        assert_eq!(
            src.proxied(),
            "zodiac-cosmo-1172-webserver:8080/proxy/health"
        );
        let v3 = [service("zodiac-cosmo-1172-api-server", "api-server", R)];
        let src = source(&deployment(true, "api-server"), &v3).unwrap();
        assert_eq!(src.endpoint, "/api/v2/monitor/health");
        assert_eq!(src.component, "api-server");
        let none = source(&deployment(true, "webserver"), &services[..2]).unwrap_err();
        assert!(
            none.contains("no Service selects the webserver pods"),
            "{none}"
        );
    }

    fn webserver(env: serde_json::Value) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "lunar-webserver", "namespace": NS},
            "spec": {"selector": {}, "template": {"spec": {"containers": [
                {"name": "sidecar", "env": [{"name": "AIRFLOW__WEBSERVER__BASE_URL", "value": "http://wrong/x"}]},
                {"name": "webserver", "env": env}]}}}}))
        .unwrap()
    }

    #[test]
    fn a_base_url_puts_its_path_before_the_health_path() {
        assert_eq!(
            url_path("https://deployments.example.com/lunar-nuclear-3725/airflow"),
            "/lunar-nuclear-3725/airflow"
        );
        assert_eq!(url_path("https://h.example.com/a/b/?x=1#f"), "/a/b");
        assert_eq!(url_path("http://localhost:8080"), "");
        assert_eq!(url_path("http://localhost:8080/"), "");
        assert_eq!(url_path("//h.example.com/af"), "/af");
        assert_eq!(url_path("af/x"), "/af/x");
        assert_eq!(url_path(""), "");

        // The webserver container's own env wins over a sidecar's.
        let url = "https://deployments.example.com/lunar-nuclear-3725/airflow";
        let d = webserver(serde_json::json!([
            {"name": "AIRFLOW__WEBSERVER__BASE_URL", "value": url}]));
        assert_eq!(base_url(&d, "webserver"), BaseUrl::Value(url.into()));
        let from = webserver(serde_json::json!([{"name": "AIRFLOW__WEBSERVER__BASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "s", "key": "url"}}}]));
        let BaseUrl::Unread(why) = base_url(&from, "webserver") else {
            panic!("a valueFrom is not read");
        };
        assert!(
            why.starts_with("AIRFLOW__WEBSERVER__BASE_URL is set from a valueFrom"),
            "{why}"
        );
        // Airflow 3 reads [api] base_url; the webserver's variable is not it.
        assert_eq!(base_url(&d, "api-server"), BaseUrl::Unset);
        let v3 = webserver(serde_json::json!([{"name": "AIRFLOW__API__BASE_URL", "value": url}]));
        assert_eq!(base_url(&v3, "api-server"), BaseUrl::Value(url.into()));

        let services = [service("lunar-webserver", "webserver", R)];
        let mut src = source(&deployment(true, "webserver"), &services).unwrap();
        src.prefix = url_path(url);
        assert_eq!(
            src.proxied(),
            "lunar-webserver:8080/proxy/lunar-nuclear-3725/airflow/health"
        );
    }

    #[test]
    fn a_ready_scheduler_with_a_stale_heartbeat_is_degraded() {
        let health = Health {
            source: Some("services/zodiac-cosmo-1172-webserver:8080/proxy/health".into()),
            unavailable: None,
            components: parse(STALE, now()).unwrap(),
        };
        let found = problems(
            &deployment(true, "webserver"),
            &health,
            " --context prod",
            now(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].what,
            "scheduler is Degraded: zodiac-sched-1 Ready, but Airflow reports it unhealthy — its last heartbeat was 20m ago ([scheduler] scheduler_health_check_threshold is 30s)"
        );
        assert_eq!(
            found[0].fix,
            format!("kubectl airflow restart scheduler {R} -n {NS} --context prod")
        );
        // Not Ready: pod readiness already reports it.
        assert!(problems(&deployment(false, "webserver"), &health, "", now()).is_empty());
        let text = render(&health, now());
        assert!(
            text.starts_with("Airflow health (services/zodiac-cosmo-1172-webserver:8080/proxy/health):\n  metadatabase healthy, scheduler unhealthy (heartbeat 20m ago), triggerer -, dag_processor -\n"),
            "{text}"
        );
        // A long line wraps between components, never inside one.
        let beat = |name: &str, status: &str| ComponentHealth {
            name: name.into(),
            status: Some(status.into()),
            latest_heartbeat: now().checked_sub(SignedDuration::from_secs(291)).ok(),
            stale: status == "unhealthy",
        };
        let long = Health {
            source: Some("services/af3-api-server:8080/proxy/api/v2/monitor/health".into()),
            unavailable: None,
            components: vec![
                beat("scheduler", "healthy"),
                beat("triggerer", "healthy"),
                beat("dag_processor", "unhealthy"),
                beat("scheduler", "healthy"),
            ],
        };
        let text = render(&long, now());
        assert!(text.lines().all(|l| l.len() <= 120), "{text}");
        assert!(
            text.contains("\n  dag_processor unhealthy (heartbeat 4m51s ago),"),
            "{text}"
        );
        let none = Health::unavailable(None, "no permission to get services/proxy in x".into());
        assert_eq!(
            render(&none, now()),
            "Airflow health unavailable: no permission to get services/proxy in x\n"
        );
        assert!(problems(&deployment(true, "webserver"), &none, "", now()).is_empty());
    }
}
