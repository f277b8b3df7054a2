//! The Kubernetes API over HTTP: discovery, REST verbs on every served resource, watch,
//! subresources (scale, status, eviction, log), SelfSubjectAccessReview, bearer-token
//! authentication and rule-based authorization, plus the sim's admin endpoints
//! (`/sim/v1/journal`, `/sim/v1/availability`), fault injection and latency.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use crate::control::Control;
use crate::error::ApiError;
use crate::resources::{self, ResourceType};
use crate::scenario::User;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{DeleteOptions, EventType, Propagation, Store};

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// One API request as the journal records it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JournalEntry {
    pub method: String,
    pub path: String,
    pub query: String,
    /// HTTP status; 0 for a connection dropped on purpose.
    pub status: u16,
    pub user: String,
    pub time: String,
    /// Set when the request was carried out but its response replaced by a fault
    /// ("response-lost-500", "response-lost-drop"): `status` is what the server did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

impl JournalEntry {
    pub fn is_mutating(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }
}

/// A transient failure the fault layer can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultKind {
    #[default]
    InternalError,
    Unavailable,
    TooManyRequests,
    DropConnection,
}

/// Hold a request before serving it: the first one of `method` whose path ends with `path`
/// after `skip` such requests went by unheld.
#[derive(Debug, Clone)]
pub struct SlowRule {
    pub method: String,
    pub path: String,
    pub skip: usize,
    pub hold: Duration,
}

/// Fail the next `count` requests that match `method` and `path_contains` (when given).
#[derive(Debug, Clone, Default)]
pub struct FaultRule {
    pub count: usize,
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub kind: FaultKind,
    /// Carry the request out first, then fail it (500 or dropped connection only): the
    /// client's write happened but its answer is lost.
    pub after_write: bool,
}

/// The API server's shared state.
pub struct ApiServer {
    pub store: Arc<Store>,
    /// Scenario users, plus those added mid-run (`POST /sim/v1/users/<name>/like/<user>`).
    users: RwLock<Vec<User>>,
    pub control: Control,
    journal: Mutex<Vec<JournalEntry>>,
    /// The fraction of requests that fail (f64 bits): `DELETE /sim/v1/faults` sets it to 0.
    fault_rate: std::sync::atomic::AtomicU64,
    fault_rules: Mutex<Vec<FaultRule>>,
    /// Requests to hold before serving, each rule used once.
    slow_rules: Mutex<Vec<SlowRule>>,
    /// Delay before every API request, in ms: `POST /sim/v1/latency/<ms>` changes it mid-run.
    latency_ms: AtomicU64,
    /// Extra delay (ms) that a fraction (`spike_rate`) of API requests meets on top.
    spike_ms: u64,
    spike_rate: f64,
    /// Spike draws, seeded apart from the fault draws: turning spikes on does not shift
    /// which requests a seed's faults strike.
    spike_rng: Mutex<StdRng>,
    /// Until when every API request is dropped unanswered (`POST /sim/v1/outage/<duration>`):
    /// wall clock, as a network outage does not speed up with `--time-scale`.
    outage_until: Mutex<Option<Instant>>,
    /// host:port, for `/api`'s serverAddressByClientCIDRs.
    pub address: Mutex<String>,
    /// Every random fault draw comes from here, seeded (`--seed`) so a run can be replayed:
    /// the same sequence of requests meets the same faults.
    fault_rng: Mutex<StdRng>,
    /// How long a list's `continue` token stays valid (etcd compaction on a real cluster).
    continue_ttl: Duration,
    /// Short-lived tokens issued by `POST /sim/v1/tokens/<user>/<lifetime>` (for exec
    /// credential plugins): 401 after their lifetime.
    tokens: crate::tokens::Tokens,
}

/// What upstream answers for an expired continue token (k8s.io/apiserver/pkg/storage/etcd3/store.go
/// `inconsistentContinue`, in a 410 Expired).
pub const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// Wall-clock milliseconds: continue tokens age in real time, as etcd compacts in real time
/// (the sim's `--time-scale` speeds up workloads, not the storage layer).
fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `500ms`, `30s`, `5m`, `1h`, or plain seconds (the serve flags' and the outage endpoint's
/// durations).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: use e.g. 500ms, 30s, 5m"))?;
    let millis = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("invalid duration {s:?}: use e.g. 500ms, 30s, 5m"))
}

/// A user name the token `kube-sim-<name>-token` and a kubeconfig can carry as is.
fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':'))
}

/// Why a request ends without a normal response.
pub enum Outcome {
    Respond(Response<Body>),
    /// Close the connection without answering (an injected fault).
    Drop,
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

fn json_response(status: u16, value: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(full(serde_json::to_vec(value).unwrap_or_default()))
        .expect("response")
}

fn error_response(err: &ApiError) -> Response<Body> {
    let mut resp = json_response(err.code, &err.to_status());
    if let Some(secs) = err
        .details
        .as_ref()
        .and_then(|d| d["retryAfterSeconds"].as_u64())
        && let Ok(v) = secs.to_string().parse()
    {
        resp.headers_mut().insert("Retry-After", v);
    }
    resp
}

/// The request after routing: what it targets.
#[derive(Debug, Clone)]
struct Target {
    rt: &'static ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

type Query = HashMap<String, String>;

fn parse_query(q: &str) -> Query {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn flag(q: &Query, key: &str) -> bool {
    matches!(q.get(key).map(String::as_str), Some("true" | "1"))
}

/// `/api/v1/...` or `/apis/<group>/<version>/...` → a resource target.
fn route(path: &str) -> Option<Result<Target, ApiError>> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return None,
    };
    let find = |plural: &str| resources::by_path(group, version, plural);
    let target = match rest {
        ["namespaces", ns, plural, tail @ ..] if find(plural).is_some_and(|rt| rt.namespaced) => {
            let rt = find(plural)?;
            Target {
                rt,
                namespace: Some(ns.to_string()),
                name: tail.first().map(|s| s.to_string()),
                subresource: tail.get(1).map(|s| s.to_string()),
            }
        }
        [plural, tail @ ..] => {
            let Some(rt) = find(plural) else {
                return Some(Err(ApiError::no_route()));
            };
            Target {
                rt,
                namespace: None,
                name: tail.first().map(|s| s.to_string()),
                subresource: tail.get(1).map(|s| s.to_string()),
            }
        }
        [] => return None,
    };
    if let Some(sub) = &target.subresource
        && !target.rt.subresources.contains(&sub.as_str())
    {
        return Some(Err(ApiError::no_route()));
    }
    Some(Ok(target))
}

/// The verb for authorization, as the real API server names it.
fn verb_of(method: &Method, target: &Target, q: &Query) -> &'static str {
    match *method {
        Method::GET | Method::HEAD if target.name.is_none() => {
            if flag(q, "watch") {
                "watch"
            } else {
                "list"
            }
        }
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if target.name.is_none() => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    }
}

impl ApiServer {
    pub fn new(
        store: Arc<Store>,
        users: Vec<User>,
        control: Control,
        fault_rate: f64,
        latency: Duration,
    ) -> Self {
        ApiServer {
            store,
            users: RwLock::new(users),
            control,
            journal: Mutex::new(Vec::new()),
            fault_rate: std::sync::atomic::AtomicU64::new(fault_rate.to_bits()),
            fault_rules: Mutex::new(Vec::new()),
            slow_rules: Mutex::new(Vec::new()),
            latency_ms: AtomicU64::new(latency.as_millis().try_into().unwrap_or(u64::MAX)),
            spike_ms: 0,
            spike_rate: 0.0,
            spike_rng: Mutex::new(StdRng::from_os_rng()),
            outage_until: Mutex::new(None),
            address: Mutex::new(String::new()),
            fault_rng: Mutex::new(StdRng::from_os_rng()),
            continue_ttl: Duration::from_secs(300),
            tokens: crate::tokens::Tokens::default(),
        }
    }

    /// Seeds the random fault draws.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.fault_rng = Mutex::new(StdRng::seed_from_u64(seed));
        self.spike_rng = Mutex::new(StdRng::seed_from_u64(seed ^ 0x5851_f42d_4c95_7f2d));
        self
    }

    /// Makes `rate` (0..=1) of API requests wait `ms` more than the base latency.
    pub fn with_latency_spikes(mut self, ms: u64, rate: f64) -> Self {
        self.spike_ms = ms;
        self.spike_rate = rate;
        self
    }

    /// A user by name (scenario users and those added mid-run).
    pub fn user(&self, name: &str) -> Option<User> {
        self.users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|u| u.name == name)
            .cloned()
    }

    /// Adds user `name` with the groups and rules of user `like`, token `kube-sim-<name>-token`:
    /// 404 when `like` does not exist, 409 when `name` (or its token) already does.
    pub fn add_user_like(&self, name: &str, like: &str) -> Result<User, ApiError> {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let Some(model) = users.iter().find(|u| u.name == like).cloned() else {
            return Err(ApiError::new(
                404,
                "NotFound",
                format!("user \"{like}\" not found"),
            ));
        };
        let token = format!("kube-sim-{name}-token");
        if users.iter().any(|u| u.name == name || u.token == token) {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("user \"{name}\" already exists"),
            ));
        }
        let user = User {
            name: name.to_string(),
            token,
            ..model
        };
        users.push(user.clone());
        Ok(user)
    }

    /// The delay this request waits: the base latency, plus a spike when the seeded draw says.
    fn delay(&self) -> Duration {
        let mut ms = self.latency_ms.load(Ordering::Relaxed);
        // No draw at rate 0: a sim without spikes consumes nothing from the spike stream.
        if self.spike_rate > 0.0
            && self
                .spike_rng
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .random::<f64>()
                < self.spike_rate
        {
            ms = ms.saturating_add(self.spike_ms);
        }
        Duration::from_millis(ms)
    }

    /// Whether the API server is "unreachable" now (an outage window is open).
    fn in_outage(&self) -> bool {
        let mut until = self.outage_until.lock().unwrap_or_else(|e| e.into_inner());
        match *until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// Sets how long continue tokens stay valid.
    pub fn with_continue_ttl(mut self, ttl: Duration) -> Self {
        self.continue_ttl = ttl;
        self
    }

    pub fn journal(&self) -> Vec<JournalEntry> {
        self.journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn clear_journal(&self) {
        self.journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn inject_faults(&self, rule: FaultRule) {
        self.fault_rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    fn record(&self, method: &Method, path: &str, query: &str, status: u16, user: &str) {
        self.record_fault(method, path, query, status, user, None);
    }

    fn record_fault(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        status: u16,
        user: &str,
        fault: Option<String>,
    ) {
        self.journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(JournalEntry {
                method: method.to_string(),
                path: path.to_string(),
                query: query.to_string(),
                status,
                user: user.to_string(),
                time: self.store.clock().now_rfc3339(),
                fault,
            });
    }

    /// A fault to inject for this request, if any (rules first, then the random rate), and
    /// whether it strikes after the write is done (the answer lost).
    fn pick_fault(&self, method: &Method, path: &str) -> Option<(FaultKind, bool)> {
        {
            let mut rules = self.fault_rules.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(rule) = rules.iter_mut().find(|r| {
                r.count > 0
                    && r.method
                        .as_deref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                    && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
            }) {
                rule.count -= 1;
                let fault = (rule.kind, rule.after_write);
                rules.retain(|r| r.count > 0);
                return Some(fault);
            }
        }
        let rate = f64::from_bits(self.fault_rate.load(std::sync::atomic::Ordering::Relaxed));
        if rate > 0.0 {
            let mut rng = self.fault_rng.lock().unwrap_or_else(|e| e.into_inner());
            if rng.random::<f64>() < rate {
                let kind = match rng.random_range(0..4) {
                    0 => FaultKind::InternalError,
                    1 => FaultKind::Unavailable,
                    2 => FaultKind::TooManyRequests,
                    _ => FaultKind::DropConnection,
                };
                // Half the 500s and drops on a write strike after the write was done, as a
                // real API server's timeout or a lost response can: a client cannot tell from
                // the error whether its create happened.
                let after_write =
                    matches!(kind, FaultKind::InternalError | FaultKind::DropConnection)
                        && matches!(
                            *method,
                            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
                        )
                        && rng.random_bool(0.5);
                return Some((kind, after_write));
            }
        }
        None
    }

    fn authenticate(&self, req: &Request<Incoming>) -> Result<Option<User>, ApiError> {
        let Some(header) = req.headers().get(http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        let user = match self.tokens.lookup(token, std::time::SystemTime::now()) {
            crate::tokens::Lookup::Valid(name) => self.user(&name),
            // Past its expirationTimestamp: refused like any unknown credential.
            crate::tokens::Lookup::Expired => None,
            crate::tokens::Lookup::Unknown => self
                .users
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|u| u.token == token)
                .cloned(),
        }
        .ok_or_else(ApiError::unauthorized)?;
        if let Some(as_user) = req
            .headers()
            .get("Impersonate-User")
            .and_then(|v| v.to_str().ok())
        {
            if !user.allows("impersonate", "", "users", None) {
                return Err(ApiError::new(
                    403,
                    "Forbidden",
                    format!(
                        "users \"{as_user}\" is forbidden: User \"{}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
                        user.name
                    ),
                ));
            }
            let impersonated = self.user(as_user).unwrap_or(User {
                name: as_user.to_string(),
                token: String::new(),
                groups: Vec::new(),
                rules: Vec::new(),
            });
            return Ok(Some(impersonated));
        }
        Ok(Some(user))
    }

    /// Handles one request end to end: admin endpoints, latency, faults, auth, routing, journal.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Outcome {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let query_string = req.uri().query().unwrap_or("").to_string();
        if path.starts_with("/sim/v1/") {
            // Read the body first: answering before it is read breaks the client's pipe.
            let _ = req.into_body().collect().await;
            return Outcome::Respond(self.admin(&method, &path));
        }
        // An outage drops the request before anything else, as an unreachable server would:
        // nothing is carried out, the client sees a connection error.
        if self.in_outage() {
            let user = self
                .authenticate(&req)
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_default();
            self.record_fault(
                &method,
                &path,
                &query_string,
                0,
                &user,
                Some("outage".to_string()),
            );
            return Outcome::Drop;
        }
        // A request held in flight (a slow etcd read, a congested server): other clients'
        // requests go on meanwhile, so a test can make two reads of one client straddle
        // another client's writes.
        let held = {
            let mut rules = self.slow_rules.lock().unwrap_or_else(|e| e.into_inner());
            let mut held = None;
            for (i, rule) in rules.iter_mut().enumerate() {
                if rule.method.eq_ignore_ascii_case(method.as_str()) && path.ends_with(&rule.path) {
                    if rule.skip == 0 {
                        held = Some((i, rule.hold));
                        break;
                    }
                    rule.skip -= 1;
                }
            }
            held.map(|(i, hold)| {
                rules.remove(i);
                hold
            })
        };
        if let Some(held) = held {
            tokio::time::sleep(held).await;
        }
        let delay = self.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fault = self.pick_fault(&method, &path);
        // Half the random 500s and dropped connections on a write strike after the write was
        // done, as a real API server's timeout or a lost response can: a client cannot tell
        // from the error whether its create happened.
        let lost_response = fault.and_then(|(kind, after_write)| {
            (after_write && matches!(kind, FaultKind::InternalError | FaultKind::DropConnection))
                .then_some(kind)
        });
        if let Some((fault, _)) = fault.filter(|_| lost_response.is_none()) {
            let (status, resp) = match fault {
                FaultKind::InternalError => (500, Some(ApiError::internal("injected fault"))),
                FaultKind::Unavailable => (503, Some(ApiError::service_unavailable())),
                FaultKind::TooManyRequests => (429, Some(ApiError::too_many_requests(1))),
                FaultKind::DropConnection => (0, None),
            };
            self.record(&method, &path, &query_string, status, "");
            return match resp {
                Some(err) => Outcome::Respond(error_response(&err)),
                None => Outcome::Drop,
            };
        }
        let user = match self.authenticate(&req) {
            Ok(u) => u,
            Err(err) => {
                self.record(&method, &path, &query_string, err.code, "");
                return Outcome::Respond(error_response(&err));
            }
        };
        let user_name = user
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_else(|| "system:anonymous".to_string());
        let accept = req
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let content_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => Bytes::new(),
        };
        if !body.is_empty() && content_type.contains("protobuf") {
            // Clients (client-go, kubectl) fall back to JSON on 415.
            let err = ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml; got {content_type:?}"
                ),
            );
            self.record(&method, &path, &query_string, 415, &user_name);
            return Outcome::Respond(error_response(&err));
        }
        let query = parse_query(&query_string);
        let ctx = RequestContext {
            method: method.clone(),
            path: path.clone(),
            query,
            body,
            content_type,
            accept,
            user,
        };
        let resp = match self.clone().dispatch(&ctx).await {
            Ok(resp) => resp,
            Err(err) => error_response(&err),
        };
        if let Some(fault) = lost_response {
            let (label, outcome) = match fault {
                FaultKind::DropConnection => ("response-lost-drop", Outcome::Drop),
                _ => (
                    "response-lost-500",
                    Outcome::Respond(error_response(&ApiError::internal("injected fault"))),
                ),
            };
            self.record_fault(
                &method,
                &path,
                &query_string,
                resp.status().as_u16(),
                &user_name,
                Some(label.to_string()),
            );
            return outcome;
        }
        self.record(
            &method,
            &path,
            &query_string,
            resp.status().as_u16(),
            &user_name,
        );
        Outcome::Respond(resp)
    }

    fn admin(&self, method: &Method, path: &str) -> Response<Body> {
        match (method, path) {
            (&Method::GET, "/sim/v1/journal") => {
                json_response(200, &json!({ "items": self.journal() }))
            }
            (&Method::DELETE, "/sim/v1/journal") => {
                self.clear_journal();
                json_response(200, &json!({ "items": [] }))
            }
            (&Method::GET, "/sim/v1/availability") => {
                json_response(200, &self.control.availability())
            }
            // Starts a measuring window: every minReady becomes the current Ready count, so a
            // later read proves no downtime from now on.
            (&Method::DELETE, "/sim/v1/availability") => {
                self.control.reset_availability();
                json_response(200, &self.control.availability())
            }
            // Makes the API server unreachable for a while (wall clock): every API request's
            // connection is dropped unanswered; these admin endpoints keep answering.
            (&Method::POST, p) if p.starts_with("/sim/v1/outage/") => {
                let parsed = parse_duration(&p["/sim/v1/outage/".len()..]).and_then(|d| {
                    Instant::now()
                        .checked_add(d)
                        .map(|until| (d, until))
                        .ok_or_else(|| "the outage is too long".to_string())
                });
                match parsed {
                    Ok((d, until)) => {
                        *self.outage_until.lock().unwrap_or_else(|e| e.into_inner()) = Some(until);
                        json_response(200, &json!({ "outageMs": d.as_millis() as u64 }))
                    }
                    Err(message) => error_response(&ApiError::new(400, "BadRequest", message)),
                }
            }
            // Changes the base latency of every API request mid-run.
            (&Method::POST, p) if p.starts_with("/sim/v1/latency/") => {
                match p["/sim/v1/latency/".len()..].parse::<u64>() {
                    Ok(ms) => {
                        self.latency_ms.store(ms, Ordering::Relaxed);
                        json_response(200, &json!({ "latencyMs": ms }))
                    }
                    Err(_) => error_response(&ApiError::new(
                        400,
                        "BadRequest",
                        "the latency is a whole number of milliseconds".to_string(),
                    )),
                }
            }
            // A second identity with the same rights as an existing user (its own token), so
            // the journal tells apart two concurrent clients with equal permissions.
            (&Method::POST, p) if p.starts_with("/sim/v1/users/") => {
                match p["/sim/v1/users/".len()..].split_once("/like/") {
                    Some((name, like)) if valid_user_name(name) && !like.is_empty() => {
                        match self.add_user_like(name, like) {
                            Ok(u) => json_response(
                                201,
                                &json!({ "name": u.name, "token": u.token, "like": like }),
                            ),
                            Err(err) => error_response(&err),
                        }
                    }
                    _ => error_response(&ApiError::new(
                        400,
                        "BadRequest",
                        "use /sim/v1/users/<new name>/like/<existing user>; a name is letters, digits, '-', '.', '_' or ':'".to_string(),
                    )),
                }
            }
            // A short-lived token for an existing user, as an exec credential plugin fetches
            // one (tests/sim/exec-credential.py): `POST /sim/v1/tokens/<user>/<lifetime>`,
            // lifetime in wall-clock time (`3s`, `15m`); 401 after `expirationTimestamp`.
            (&Method::POST, p) if p.starts_with("/sim/v1/tokens/") => {
                let usage = || {
                    error_response(&ApiError::new(
                        400,
                        "BadRequest",
                        "use /sim/v1/tokens/<existing user>/<lifetime>, e.g. /sim/v1/tokens/admin/3s"
                            .to_string(),
                    ))
                };
                let Some((name, lifetime)) = p["/sim/v1/tokens/".len()..].split_once('/') else {
                    return usage();
                };
                let Ok(lifetime) = parse_duration(lifetime) else {
                    return usage();
                };
                if self.user(name).is_none() {
                    return error_response(&ApiError::new(
                        404,
                        "NotFound",
                        format!("user \"{name}\" not found"),
                    ));
                }
                let issued = self
                    .tokens
                    .issue(name, lifetime, std::time::SystemTime::now());
                let expires = jiff::Timestamp::try_from(issued.expires)
                    .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_default();
                json_response(
                    201,
                    &json!({ "user": name, "token": issued.token, "expirationTimestamp": expires }),
                )
            }
            // Ends random faults (rules stay): lets a test check the outcome without them.
            (&Method::DELETE, "/sim/v1/faults") => {
                self.fault_rate
                    .store(0f64.to_bits(), std::sync::atomic::Ordering::Relaxed);
                self.fault_rules.lock().expect("faults").clear();
                self.slow_rules.lock().expect("slow").clear();
                json_response(200, &json!({ "faultRate": 0.0 }))
            }
            // Loses the answer to the next write matching a method and a path fragment, after
            // carrying it out: `kubectl create --raw /sim/v1/faults/lose-answer/POST/<path> -f {}`
            // (the connection is dropped).
            (&Method::POST, p) if p.starts_with("/sim/v1/faults/lose-answer/") => {
                let rest = &p["/sim/v1/faults/lose-answer/".len()..];
                match rest.split_once('/') {
                    Some((verb, fragment)) if !fragment.is_empty() => {
                        self.inject_faults(FaultRule {
                            count: 1,
                            method: Some(verb.to_ascii_uppercase()),
                            path_contains: Some(format!("/{fragment}")),
                            kind: FaultKind::DropConnection,
                            after_write: true,
                        });
                        json_response(
                            200,
                            &json!({ "loseAnswer": {"method": verb, "path": format!("/{fragment}")} }),
                        )
                    }
                    _ => error_response(&ApiError::new(
                        400,
                        "BadRequest",
                        "use /sim/v1/faults/lose-answer/<METHOD>/<path fragment>".to_string(),
                    )),
                }
            }
            // Holds a request before serving it: the first of METHOD whose path ends with
            // PATH after SKIP such requests went by unheld:
            // `kubectl create --raw /sim/v1/faults/slow/<ms>/<skip>/<METHOD>/<path> -f {}`.
            (&Method::POST, p) if p.starts_with("/sim/v1/faults/slow/") => {
                let rest = &p["/sim/v1/faults/slow/".len()..];
                let mut parts = rest.splitn(4, '/');
                let rule = (|| {
                    let hold = Duration::from_millis(parts.next()?.parse().ok()?);
                    let skip = parts.next()?.parse().ok()?;
                    let method = parts.next()?.to_ascii_uppercase();
                    let path = format!("/{}", parts.next().filter(|p| !p.is_empty())?);
                    Some(SlowRule {
                        method,
                        path,
                        skip,
                        hold,
                    })
                })();
                match rule {
                    Some(rule) => {
                        let answer = json!({ "slow": {"method": rule.method, "path": rule.path,
                            "skip": rule.skip, "ms": rule.hold.as_millis() as u64} });
                        self.slow_rules
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(rule);
                        json_response(200, &answer)
                    }
                    None => error_response(&ApiError::new(
                        400,
                        "BadRequest",
                        "use /sim/v1/faults/slow/<milliseconds>/<skip>/<METHOD>/<path>".to_string(),
                    )),
                }
            }
            // Starts (or changes) random faults mid-run: a test reads the state before the
            // faults, then turns them on (`kubectl create --raw /sim/v1/faults/rate/0.1 -f {}`).
            (&Method::POST, p) if p.starts_with("/sim/v1/faults/rate/") => {
                match p["/sim/v1/faults/rate/".len()..].parse::<f64>() {
                    Ok(rate) if (0.0..=1.0).contains(&rate) => {
                        self.fault_rate
                            .store(rate.to_bits(), std::sync::atomic::Ordering::Relaxed);
                        json_response(200, &json!({ "faultRate": rate }))
                    }
                    _ => error_response(&ApiError::new(
                        400,
                        "BadRequest",
                        "the fault rate is a number between 0 and 1".to_string(),
                    )),
                }
            }
            _ => error_response(&ApiError::no_route()),
        }
    }

    async fn dispatch(self: Arc<Self>, ctx: &RequestContext) -> Result<Response<Body>, ApiError> {
        let discovery = self.discovery(&ctx.path);
        if let Some(value) = discovery {
            return Ok(json_response(200, &value));
        }
        if matches!(ctx.path.as_str(), "/healthz" | "/livez" | "/readyz") {
            return Ok(Response::builder()
                .status(200)
                .body(full("ok"))
                .expect("response"));
        }
        if let Some(answer) =
            crate::service_proxy::serve(&self.store, ctx.user.as_ref(), &ctx.method, &ctx.path)
        {
            let answer = answer?;
            return Ok(Response::builder()
                .status(answer.status)
                .header("Content-Type", answer.content_type)
                .body(full(answer.body))
                .expect("response"));
        }
        // The kubelet's stats through the node proxy (kubelet.rs).
        if let Some(summary) =
            crate::kubelet::proxy(&self.store, &ctx.method, &ctx.path, ctx.user.as_ref())
        {
            return summary.map(|body| json_response(200, &body));
        }
        let Some(target) = route(&ctx.path) else {
            return Err(ApiError::no_route());
        };
        let target = target?;
        let user = ctx.user.clone().ok_or_else(ApiError::unauthorized)?;
        let verb = verb_of(&ctx.method, &target, &ctx.query);
        let resource = match &target.subresource {
            Some(sub) => format!("{}/{}", target.rt.plural, sub),
            None => target.rt.plural.to_string(),
        };
        // Every authenticated user may ask what it may do (system:basic-user), as on a real cluster.
        let self_review = target.rt.plural == "selfsubjectaccessreviews";
        if !self_review
            && !user.allows(
                verb,
                target.rt.group,
                &resource,
                target.namespace.as_deref(),
            )
        {
            return Err(ApiError::forbidden(
                &user.name,
                verb,
                target.rt,
                target.subresource.as_deref(),
                target.namespace.as_deref(),
                target.name.as_deref(),
            ));
        }
        if target.rt.plural == "selfsubjectaccessreviews" {
            return self.access_review(ctx, &user);
        }
        match (verb, target.subresource.as_deref()) {
            ("get", Some("log")) => self.logs(ctx, &target),
            ("create", Some("eviction")) => {
                let body = parse_body(&ctx.body)?;
                let ns = target.namespace.as_deref().unwrap_or("default");
                crate::validation::eviction(ns, target.name.as_deref().unwrap_or(""), &body)?;
                let status = self
                    .control
                    .evict(ns, target.name.as_deref().unwrap_or(""), &body)?;
                Ok(json_response(201, &status))
            }
            ("get", Some("scale")) => {
                let obj = self.store.get(
                    target.rt,
                    target.namespace.as_deref(),
                    target.name.as_deref().unwrap_or(""),
                )?;
                Ok(json_response(200, &to_scale(&obj)))
            }
            ("update" | "patch", Some("scale")) => self.write_scale(ctx, &target),
            ("get", _) => {
                let obj = self.store.get(
                    target.rt,
                    target.namespace.as_deref(),
                    target.name.as_deref().unwrap_or(""),
                )?;
                Ok(json_response(200, &obj))
            }
            ("list", _) => self.list(ctx, &target),
            ("watch", _) => self.watch(ctx, &target),
            ("create", None) => self.create(ctx, &target),
            ("update", sub) => {
                let mut obj = parse_body(&ctx.body)?;
                let name = target.name.clone().unwrap_or_default();
                if sub.is_none() {
                    validate_hpa(target.rt, &name, &obj)?;
                    let old = self
                        .store
                        .get(target.rt, target.namespace.as_deref(), &name)?;
                    self.admit_update(target.rt, &old, &mut obj)?;
                    crate::validation::on_update(target.rt, &name, &old, &obj)?;
                }
                let updated = self.store.update(
                    target.rt,
                    target.namespace.as_deref(),
                    &name,
                    obj,
                    sub == Some("status"),
                )?;
                Ok(json_response(200, &updated))
            }
            ("patch", _) => self.patch(ctx, &target),
            ("delete", None) => {
                let opts = delete_options(&ctx.query, &ctx.body)?;
                let name = target.name.clone().unwrap_or_default();
                crate::priority::check_delete(target.rt, &name)?;
                let obj =
                    self.store
                        .delete(target.rt, target.namespace.as_deref(), &name, &opts)?;
                Ok(json_response(200, &obj))
            }
            ("deletecollection", None) => {
                let opts = delete_options(&ctx.query, &ctx.body)?;
                let (items, _) = self.filtered_list(ctx, &target)?;
                let mut deleted = Vec::new();
                for item in items {
                    let name = item["metadata"]["name"].as_str().unwrap_or("").to_string();
                    let ns = item["metadata"]["namespace"].as_str().map(String::from);
                    if let Ok(obj) = self.store.delete(target.rt, ns.as_deref(), &name, &opts) {
                        deleted.push(obj);
                    }
                }
                Ok(json_response(
                    200,
                    &list_object(
                        target.rt,
                        deleted,
                        self.store.resource_version(),
                        None,
                        None,
                    ),
                ))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    fn discovery(&self, path: &str) -> Option<Value> {
        match path.trim_end_matches('/') {
            "/version" => Some(json!({
                "major": "1", "minor": "33", "gitVersion": "v1.33.2", "gitCommit": "kube-sim",
                "gitTreeState": "clean", "buildDate": "2026-06-17T00:00:00Z", "goVersion": "go1.24.4",
                "compiler": "gc", "platform": "linux/amd64"
            })),
            "/api" => Some(json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.address.lock().unwrap_or_else(|e| e.into_inner()).clone()}]
            })),
            "/apis" => {
                let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
                for (g, v) in resources::group_versions() {
                    if g.is_empty() {
                        continue;
                    }
                    match groups.iter_mut().find(|(name, _)| *name == g) {
                        Some((_, versions)) => versions.push(v),
                        None => groups.push((g, vec![v])),
                    }
                }
                let items: Vec<Value> = groups
                    .iter()
                    .map(|(g, versions)| {
                        let vs: Vec<Value> = versions
                            .iter()
                            .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                            .collect();
                        json!({"name": g, "versions": vs, "preferredVersion": vs[0]})
                    })
                    .collect();
                Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": items}))
            }
            p => {
                let segs: Vec<&str> = p.trim_matches('/').split('/').collect();
                let (group, version) = match segs.as_slice() {
                    ["api", v] => ("", *v),
                    ["apis", g, v] => (*g, *v),
                    ["apis", g] => {
                        let versions: Vec<Value> = resources::group_versions()
                            .into_iter()
                            .filter(|(gg, _)| gg == g)
                            .map(|(gg, v)| json!({"groupVersion": format!("{gg}/{v}"), "version": v}))
                            .collect();
                        if versions.is_empty() {
                            return None;
                        }
                        return Some(
                            json!({"kind": "APIGroup", "apiVersion": "v1", "name": g, "versions": versions, "preferredVersion": versions[0]}),
                        );
                    }
                    _ => return None,
                };
                let list: Vec<&ResourceType> = resources::ALL
                    .iter()
                    .filter(|rt| rt.group == group && rt.version == version)
                    .collect();
                if list.is_empty() {
                    return None;
                }
                let mut out = Vec::new();
                for rt in list {
                    out.push(json!({
                        "name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                        "kind": rt.kind, "verbs": resources::verbs(rt), "shortNames": rt.short_names,
                    }));
                    for sub in rt.subresources {
                        let entry = match *sub {
                            "eviction" => {
                                json!({"name": format!("{}/eviction", rt.plural), "singularName": "", "namespaced": true, "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"]})
                            }
                            "scale" => {
                                json!({"name": format!("{}/scale", rt.plural), "singularName": "", "namespaced": rt.namespaced, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]})
                            }
                            "log" => {
                                json!({"name": format!("{}/log", rt.plural), "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]})
                            }
                            other => {
                                json!({"name": format!("{}/{other}", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": rt.kind, "verbs": ["get", "patch", "update"]})
                            }
                        };
                        out.push(entry);
                    }
                }
                let gv = if group.is_empty() {
                    version.to_string()
                } else {
                    format!("{group}/{version}")
                };
                Some(
                    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}),
                )
            }
        }
    }

    fn access_review(&self, ctx: &RequestContext, user: &User) -> Result<Response<Body>, ApiError> {
        let mut review = parse_body(&ctx.body)?;
        let attrs = &review["spec"]["resourceAttributes"];
        let (allowed, reason) = if attrs.is_object() {
            let verb = attrs["verb"].as_str().unwrap_or("");
            let group = attrs["group"].as_str().unwrap_or("");
            let resource = match attrs["subresource"].as_str().filter(|s| !s.is_empty()) {
                Some(sub) => format!("{}/{sub}", attrs["resource"].as_str().unwrap_or("")),
                None => attrs["resource"].as_str().unwrap_or("").to_string(),
            };
            let ns = attrs["namespace"].as_str().filter(|s| !s.is_empty());
            let allowed = user.allows(verb, group, &resource, ns);
            let reason = if allowed {
                "allowed by kube-sim scenario rules"
            } else {
                ""
            };
            (allowed, reason)
        } else {
            (false, "only resourceAttributes are evaluated")
        };
        review["status"] = json!({ "allowed": allowed, "reason": reason });
        review["apiVersion"] = json!("authorization.k8s.io/v1");
        review["kind"] = json!("SelfSubjectAccessReview");
        Ok(json_response(201, &review))
    }

    fn filtered_list(
        &self,
        ctx: &RequestContext,
        target: &Target,
    ) -> Result<(Vec<Value>, u64), ApiError> {
        let (labels, fields) = selectors(&ctx.query, target.rt)?;
        let (items, rv) = self.store.list(target.rt, target.namespace.as_deref());
        let items = items
            .into_iter()
            .filter(|o| labels.as_ref().is_none_or(|l| l.matches_object(o)))
            .filter(|o| fields.as_ref().is_none_or(|f| f.matches(o)))
            .collect();
        Ok((items, rv))
    }

    fn list(&self, ctx: &RequestContext, target: &Target) -> Result<Response<Body>, ApiError> {
        let (labels, fields) = selectors(&ctx.query, target.rt)?;
        // The token names the last item returned: later pages continue after it, so items
        // added meanwhile never make a page repeat one.
        let after: Option<(String, String)> =
            match ctx.query.get("continue").filter(|c| !c.is_empty()) {
                Some(token) => {
                    let (after, issued) = decode_continue(token)
                        .ok_or_else(|| ApiError::bad_request("invalid continue token"))?;
                    let age = Duration::from_millis(now_millis().saturating_sub(issued));
                    if age > self.continue_ttl {
                        // As upstream once the token's resourceVersion is compacted
                        // (k8s.io/apiserver/pkg/storage/etcd3/store.go): 410 Expired, with a
                        // fresh token in the Status to continue inconsistently from the same item.
                        let mut status =
                            ApiError::new(410, "Expired", CONTINUE_EXPIRED).to_status();
                        status["metadata"]["continue"] =
                            json!(encode_continue(&after, now_millis()));
                        return Ok(json_response(410, &status));
                    }
                    Some(after)
                }
                None => None,
            };
        let limit: usize = ctx
            .query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        let key = |o: &Value| {
            (
                o["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                o["metadata"]["name"].as_str().unwrap_or("").to_string(),
            )
        };
        let (page, total, rv) = self.store.list_page(
            target.rt,
            target.namespace.as_deref(),
            |o| {
                labels.as_ref().is_none_or(|l| l.matches_object(o))
                    && fields.as_ref().is_none_or(|f| f.matches(o))
                    && after.as_ref().is_none_or(|(namespace, name)| {
                        let of = |field: &str| o["metadata"][field].as_str().unwrap_or("");
                        (of("namespace"), of("name")) > (namespace.as_str(), name.as_str())
                    })
            },
            limit,
        );
        let (cont, remaining) = match page.last() {
            Some(last) if page.len() < total => (
                Some(encode_continue(&key(last), now_millis())),
                Some(total - page.len()),
            ),
            _ => (None, None),
        };
        let list = list_object(target.rt, page, rv, cont, remaining);
        if wants_table(&ctx.accept) {
            return Ok(json_response(
                200,
                &crate::table::to_table(
                    target.rt,
                    &list,
                    self.store.clock().now(),
                    ctx.query.get("includeObject").map(String::as_str),
                ),
            ));
        }
        Ok(json_response(200, &list))
    }

    fn create(&self, ctx: &RequestContext, target: &Target) -> Result<Response<Body>, ApiError> {
        let mut obj = parse_body(&ctx.body)?;
        crate::validation::on_create(target.rt, &mut obj)?;
        validate_hpa(target.rt, s_name(&obj), &obj)?;
        if ctx.query.get("dryRun").is_some_and(|d| d == "All") {
            return Ok(json_response(201, &obj));
        }
        let created = self
            .store
            .create(target.rt, target.namespace.as_deref(), obj)?;
        Ok(json_response(201, &created))
    }

    fn patch(&self, ctx: &RequestContext, target: &Target) -> Result<Response<Body>, ApiError> {
        // The type first: upstream refuses an unsupported one before decoding the body.
        let rt = target.rt;
        let kind = patch_kind(rt, &ctx.content_type)?;
        let patch = parse_body(&ctx.body)?;
        let name = target.name.clone().unwrap_or_default();
        // The default PriorityClass before the write (admission reads it from its informer).
        let default_class = self.default_class_for(rt);
        let (obj, ()) = self
            .store
            .mutate(rt, target.namespace.as_deref(), &name, |obj| {
                if let Some(rv) = patch["metadata"]["resourceVersion"].as_str()
                    && Some(rv) != obj["metadata"]["resourceVersion"].as_str()
                {
                    return Err(ApiError::conflict(rt, &name));
                }
                let old = obj.clone();
                apply_patch(obj, &patch, kind).map_err(|m| ApiError::invalid(rt, &name, m))?;
                if target.subresource.is_none() {
                    validate_hpa(rt, &name, obj)?;
                    admit_update(rt, default_class.as_ref(), &old, obj)?;
                    crate::validation::on_update(rt, &name, &old, obj)?;
                }
                if let Some(r) = obj["spec"]["replicas"].as_i64()
                    && r < 0
                {
                    return Err(ApiError::invalid(
                        rt,
                        &name,
                        format!(
                            "spec.replicas: Invalid value: {r}: must be greater than or equal to 0"
                        ),
                    ));
                }
                Ok(())
            })?;
        Ok(json_response(200, &obj))
    }

    /// The default PriorityClass now, when `rt` is PriorityClasses (the only writes it matters to).
    fn default_class_for(&self, rt: &ResourceType) -> Option<Value> {
        if rt.plural != "priorityclasses" {
            return None;
        }
        self.store
            .read(|objs| crate::priority::default_class(objs).cloned())
    }

    /// Admission on a PUT (see [`admit_update`]).
    fn admit_update(
        &self,
        rt: &ResourceType,
        old: &Value,
        new: &mut Value,
    ) -> Result<(), ApiError> {
        admit_update(rt, self.default_class_for(rt).as_ref(), old, new)
    }

    fn write_scale(
        &self,
        ctx: &RequestContext,
        target: &Target,
    ) -> Result<Response<Body>, ApiError> {
        let body = parse_body(&ctx.body)?;
        let name = target.name.clone().unwrap_or_default();
        let rt = target.rt;
        let is_patch = ctx.method == Method::PATCH;
        let kind = if is_patch {
            patch_kind(rt, &ctx.content_type)?
        } else {
            PatchKind::Merge
        };
        let (obj, ()) = self
            .store
            .mutate(rt, target.namespace.as_deref(), &name, |obj| {
                let mut scale = to_scale(obj);
                if let Some(rv) = body["metadata"]["resourceVersion"]
                    .as_str()
                    .filter(|r| !r.is_empty())
                    && Some(rv) != obj["metadata"]["resourceVersion"].as_str()
                {
                    return Err(ApiError::conflict(rt, &name));
                }
                if is_patch {
                    apply_patch(&mut scale, &body, kind)
                        .map_err(|m| ApiError::invalid(rt, &name, m))?;
                } else {
                    scale = body.clone();
                }
                let replicas = scale["spec"]["replicas"].as_i64().unwrap_or(0);
                crate::validation::scale(&name, replicas)?;
                obj["spec"]["replicas"] = json!(replicas);
                Ok(())
            })?;
        Ok(json_response(200, &to_scale(&obj)))
    }

    fn logs(&self, ctx: &RequestContext, target: &Target) -> Result<Response<Body>, ApiError> {
        let q = &ctx.query;
        crate::validation::pod_log_options(target.name.as_deref().unwrap_or(""), q)?;
        let req = crate::control::LogRequest {
            container: q.get("container").cloned(),
            tail_lines: q.get("tailLines").and_then(|v| v.parse().ok()),
            since_seconds: q.get("sinceSeconds").and_then(|v| v.parse().ok()),
            since_time: q.get("sinceTime").cloned(),
            timestamps: flag(q, "timestamps"),
            previous: flag(q, "previous"),
            follow: flag(q, "follow"),
        };
        let ns = target.namespace.clone().unwrap_or_else(|| "default".into());
        let stream = self
            .control
            .logs(&ns, target.name.as_deref().unwrap_or(""), &req)?;
        let body = StreamBody::new(stream.map(|line| Ok::<_, Infallible>(Frame::data(line))));
        Ok(Response::builder()
            .status(200)
            .header("Content-Type", "text/plain")
            .body(BodyExt::boxed_unsync(body))
            .expect("response"))
    }

    fn watch(&self, ctx: &RequestContext, target: &Target) -> Result<Response<Body>, ApiError> {
        let (labels, fields) = selectors(&ctx.query, target.rt)?;
        let since: Option<u64> = ctx
            .query
            .get("resourceVersion")
            .and_then(|rv| rv.parse().ok())
            .filter(|rv| *rv > 0);
        let timeout = ctx
            .query
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(1800));
        let bookmarks = flag(&ctx.query, "allowWatchBookmarks");
        let rt = target.rt;
        let ns = target.namespace.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
        let (initial, mut live) = match self.store.watch(since) {
            Ok((backlog, live)) => {
                if since.is_none() {
                    let (items, _) = self.store.list(rt, ns.as_deref());
                    (
                        items.into_iter().map(|o| ("ADDED", o)).collect::<Vec<_>>(),
                        live,
                    )
                } else {
                    let events = backlog
                        .iter()
                        .filter(|e| e.resource.plural == rt.plural && e.resource.group == rt.group)
                        .map(|e| (e.event_type.as_str(), e.object.clone()))
                        .collect();
                    (events, live)
                }
            }
            Err(err) => {
                let line = serde_json::to_vec(&json!({"type": "ERROR", "object": err.to_status()}))
                    .unwrap_or_default();
                let _ = tx.try_send(Bytes::from([line, b"\n".to_vec()].concat()));
                drop(tx);
                return Ok(stream_response(rx));
            }
        };
        let matches = move |obj: &Value| {
            ns.as_deref()
                .is_none_or(|n| obj["metadata"]["namespace"].as_str() == Some(n))
                && labels.as_ref().is_none_or(|l| l.matches_object(obj))
                && fields.as_ref().is_none_or(|f| f.matches(obj))
        };
        let store = self.store.clone();
        tokio::spawn(async move {
            let send = |t: &str, obj: &Value| {
                let line =
                    serde_json::to_vec(&json!({"type": t, "object": obj})).unwrap_or_default();
                Bytes::from([line, b"\n".to_vec()].concat())
            };
            for (t, obj) in initial {
                if matches(&obj) && tx.send(send(t, &obj)).await.is_err() {
                    return;
                }
            }
            let deadline = tokio::time::Instant::now() + timeout;
            let mut bookmark = tokio::time::interval(Duration::from_secs(5));
            bookmark.tick().await;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => return,
                    _ = bookmark.tick(), if bookmarks => {
                        let obj = json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": {"resourceVersion": store.resource_version().to_string()}});
                        if tx.send(send("BOOKMARK", &obj)).await.is_err() { return; }
                    }
                    ev = live.recv() => match ev {
                        Ok(ev) => {
                            if ev.resource.plural != rt.plural || ev.resource.group != rt.group || !matches(&ev.object) {
                                continue;
                            }
                            let t = match ev.event_type { EventType::Added => "ADDED", EventType::Modified => "MODIFIED", EventType::Deleted => "DELETED" };
                            if tx.send(send(t, &ev.object)).await.is_err() { return; }
                        }
                        // Fell behind or the store went away: end the watch; clients re-list.
                        Err(_) => return,
                    },
                    _ = tx.closed() => return,
                }
            }
        });
        Ok(stream_response(rx))
    }
}

fn stream_response(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Response<Body> {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    Response::builder()
        .status(200)
        .header("Content-Type", "application/json")
        .header("Transfer-Encoding", "chunked")
        .body(BodyExt::boxed_unsync(StreamBody::new(stream)))
        .expect("response")
}

struct RequestContext {
    method: Method,
    path: String,
    query: Query,
    body: Bytes,
    content_type: String,
    accept: String,
    user: Option<User>,
}

/// The `labelSelector` and `fieldSelector` of a list or watch; field labels `rt` does not make
/// selectable are refused (400), as upstream's list handler does.
fn selectors(
    q: &Query,
    rt: &ResourceType,
) -> Result<(Option<LabelSelector>, Option<FieldSelector>), ApiError> {
    let labels = q
        .get("labelSelector")
        .map(|s| LabelSelector::parse(s))
        .transpose()?;
    let fields = q
        .get("fieldSelector")
        .map(|s| FieldSelector::parse(s).and_then(|f| f.for_resource(rt)))
        .transpose()?;
    Ok((labels, fields))
}

fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice::<Value>(body))
        .map_err(|e| {
            ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
        })
}

/// A continue token: the last item returned and when the token was issued (wall-clock ms), so
/// that it can expire as an etcd-compacted resourceVersion does.
fn encode_continue((namespace, name): &(String, String), issued_ms: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"ns": namespace, "name": name, "issued": issued_ms}).to_string())
}

fn decode_continue(token: &str) -> Option<((String, String), u64)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        (
            v["ns"].as_str()?.to_string(),
            v["name"].as_str()?.to_string(),
        ),
        v["issued"].as_u64()?,
    ))
}

fn list_object(
    rt: &ResourceType,
    items: Vec<Value>,
    rv: u64,
    cont: Option<String>,
    remaining: Option<usize>,
) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    if let Some(r) = remaining {
        meta["remainingItemCount"] = json!(r);
    }
    json!({"kind": format!("{}List", rt.kind), "apiVersion": rt.api_version(), "metadata": meta, "items": items})
}

fn s_name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

/// HPA spec validation on create, update and patch, as upstream's
/// pkg/apis/autoscaling/validation/validation.go (validateHorizontalPodAutoscalerSpec):
/// minReplicas >= 1 (0 only behind the HPAScaleToZero feature gate, off by default),
/// maxReplicas >= 1 and >= minReplicas; every error found, in one 422.
/// Priority admission on update (plugin/pkg/admission/priority/admission.go): a pod keeps the
/// priority set at create; a PriorityClass may not become a second globalDefault.
fn admit_update(
    rt: &ResourceType,
    default_class: Option<&Value>,
    old: &Value,
    new: &mut Value,
) -> Result<(), ApiError> {
    match rt.plural {
        "pods" => crate::priority::keep_on_update(old, new),
        "priorityclasses" => {
            if !new["metadata"].is_object() {
                new["metadata"] = json!({});
            }
            if new["metadata"]["name"].is_null() {
                new["metadata"]["name"] = old["metadata"]["name"].clone();
            }
            crate::priority::check_single_default(default_class, new, false)?;
        }
        _ => {}
    }
    Ok(())
}

fn validate_hpa(rt: &ResourceType, name: &str, obj: &Value) -> Result<(), ApiError> {
    if rt.plural != "horizontalpodautoscalers" {
        return Ok(());
    }
    let spec = &obj["spec"];
    let min = spec["minReplicas"].as_i64();
    let max = spec["maxReplicas"].as_i64().unwrap_or(0);
    let mut errors: Vec<(&str, i64, &str)> = Vec::new();
    if let Some(min) = min.filter(|m| *m < 1) {
        errors.push((
            "spec.minReplicas",
            min,
            "must be greater than or equal to 1",
        ));
    }
    if max < 1 {
        errors.push(("spec.maxReplicas", max, "must be greater than 0"));
    }
    if min.is_some_and(|min| max < min) {
        errors.push((
            "spec.maxReplicas",
            max,
            "must be greater than or equal to `minReplicas`",
        ));
    }
    if errors.is_empty() {
        return Ok(());
    }
    // As apimachinery's errors.NewInvalid: the aggregate in the message (one error as itself,
    // more as `[a, b]`) and one cause per field error, which kubectl prints.
    let texts: Vec<String> = errors
        .iter()
        .map(|(field, value, detail)| format!("{field}: Invalid value: {value}: {detail}"))
        .collect();
    let aggregate = match texts.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|(field, value, detail)| json!({"reason": "FieldValueInvalid", "message": format!("Invalid value: {value}: {detail}"), "field": field}))
        .collect();
    let mut err = ApiError::invalid(rt, name, aggregate);
    err.details = Some(json!({"name": name, "group": rt.group, "kind": rt.kind, "causes": causes}));
    Err(err)
}

/// The `autoscaling/v1` Scale of a workload.
fn to_scale(obj: &Value) -> Value {
    let selector = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
            "uid": obj["metadata"]["uid"], "resourceVersion": obj["metadata"]["resourceVersion"],
            "creationTimestamp": obj["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

fn delete_options(q: &Query, body: &Bytes) -> Result<DeleteOptions, ApiError> {
    let b = parse_body(body)?;
    let grace = b["gracePeriodSeconds"]
        .as_i64()
        .or_else(|| q.get("gracePeriodSeconds").and_then(|g| g.parse().ok()));
    let propagation = b["propagationPolicy"]
        .as_str()
        .map(String::from)
        .or_else(|| q.get("propagationPolicy").cloned())
        .or_else(|| match b["orphanDependents"].as_bool() {
            Some(true) => Some("Orphan".to_string()),
            _ => None,
        });
    let propagation = match propagation.as_deref() {
        Some("Orphan") => Propagation::Orphan,
        Some("Foreground") => Propagation::Foreground,
        Some("Background") | None => Propagation::Background,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid propagationPolicy {other:?}"
            )));
        }
    };
    Ok(DeleteOptions {
        grace_period_seconds: grace,
        propagation,
        precondition_uid: b["preconditions"]["uid"].as_str().map(String::from),
        precondition_resource_version: b["preconditions"]["resourceVersion"]
            .as_str()
            .map(String::from),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
    Apply,
}

/// The patch type of a PATCH to `rt`, refusing those the resource does not accept with 415 as
/// k8s.io/apiserver/pkg/endpoints/handlers/patch.go does (negotiation.NewUnsupportedMediaTypeError
/// with the handler's list). Built-in resources accept strategic merge
/// (k8s.io/apiserver/pkg/endpoints/installer.go); custom resources do not, having no Go struct
/// tags to merge lists by (apiextensions-apiserver pkg/apiserver/customresource_handler.go).
/// The sim has no server-side apply (no managedFields, no conflicts), so it answers apply
/// patches as an API server with the ServerSideApply feature off did: the type is not listed.
fn patch_kind(rt: &ResourceType, content_type: &str) -> Result<PatchKind, ApiError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let custom = crate::selectors::is_custom_resource(rt);
    match ct {
        "application/json-patch+json" => Ok(PatchKind::Json),
        "application/merge-patch+json" => Ok(PatchKind::Merge),
        "application/strategic-merge-patch+json" if !custom => Ok(PatchKind::Strategic),
        _ => {
            let accepted = if custom {
                "application/json-patch+json, application/merge-patch+json"
            } else {
                "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json"
            };
            Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: {accepted}"
                ),
            ))
        }
    }
}

/// Applies a patch to an object in place.
pub fn apply_patch(obj: &mut Value, patch: &Value, kind: PatchKind) -> Result<(), String> {
    match kind {
        PatchKind::Json => {
            let p: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| e.to_string())?;
            json_patch::patch(obj, &p).map_err(|e| e.to_string())
        }
        PatchKind::Merge => {
            json_patch::merge(obj, patch);
            Ok(())
        }
        PatchKind::Strategic | PatchKind::Apply => {
            strategic_merge(obj, patch);
            Ok(())
        }
    }
}

/// Strategic merge as kubectl uses it: merge patch, except lists of named objects merge by
/// `name` (containers, volumes, env, ports…), `$patch: delete` removes an item, and the
/// `$setElementOrder`/`$retainKeys` directives are ignored.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    for (key, pv) in patch_map {
        if key.starts_with("$setElementOrder")
            || key == "$retainKeys"
            || key.starts_with("$deleteFromPrimitiveList")
            || key == "$patch"
        {
            continue;
        }
        let map = target.as_object_mut().expect("object");
        if pv.is_null() {
            map.remove(key);
            continue;
        }
        match (map.get_mut(key), pv) {
            (Some(tv @ Value::Object(_)), Value::Object(_)) => strategic_merge(tv, pv),
            (Some(Value::Array(items)), Value::Array(patch_items))
                if is_named_list(items) && is_named_list(patch_items) =>
            {
                for p in patch_items {
                    let name = p["name"].clone();
                    let delete = p["$patch"] == "delete";
                    match items.iter().position(|i| i["name"] == name) {
                        Some(idx) if delete => {
                            items.remove(idx);
                        }
                        Some(idx) => strategic_merge(&mut items[idx], p),
                        None if delete => {}
                        None => {
                            let mut fresh = json!({});
                            strategic_merge(&mut fresh, p);
                            items.push(fresh);
                        }
                    }
                }
            }
            _ => {
                let mut fresh = if pv.is_object() {
                    json!({})
                } else {
                    Value::Null
                };
                if pv.is_object() {
                    strategic_merge(&mut fresh, pv);
                } else {
                    fresh = pv.clone();
                }
                map.insert(key.clone(), fresh);
            }
        }
    }
}

fn is_named_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("name").is_some_and(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_resource_paths() {
        let t = route("/api/v1/namespaces/default/pods/web-1/eviction")
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                t.rt.plural,
                t.namespace.as_deref(),
                t.name.as_deref(),
                t.subresource.as_deref()
            ),
            ("pods", Some("default"), Some("web-1"), Some("eviction"))
        );
        let t = route("/api/v1/namespaces/default").unwrap().unwrap();
        assert_eq!(
            (t.rt.plural, t.name.as_deref()),
            ("namespaces", Some("default"))
        );
        let t = route("/apis/apps/v1/deployments").unwrap().unwrap();
        assert_eq!((t.rt.plural, t.namespace), ("deployments", None));
        assert!(
            route("/api/v1/namespaces/default/pods/p/nope")
                .unwrap()
                .is_err()
        );
        assert!(route("/apis/apps/v1/nope").unwrap().is_err());
        assert!(route("/version").is_none());
    }

    #[test]
    fn strategic_merge_merges_named_lists() {
        let mut obj = json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}}});
        strategic_merge(
            &mut obj,
            &json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}, "spec": {"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "a", "image": "z"}, {"name": "b", "$patch": "delete"}]}}}}),
        );
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"],
            json!([{"name": "a", "image": "z"}])
        );
        assert_eq!(
            obj["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "now"
        );
        strategic_merge(
            &mut obj,
            &json!({"spec": {"unschedulable": true, "template": null}}),
        );
        assert_eq!(obj, json!({"spec": {"unschedulable": true}}));
    }

    #[test]
    fn continue_tokens_round_trip() {
        let key = ("ns".to_string(), "pod-1".to_string());
        assert_eq!(decode_continue(&encode_continue(&key, 42)), Some((key, 42)));
        assert_eq!(decode_continue("garbage!"), None);
    }

    #[tokio::test]
    async fn latency_spikes_replay_from_the_seed() {
        let delays = |seed: u64| {
            let store = Arc::new(Store::new(Arc::new(crate::clock::Clock::new(1.0))));
            let control = crate::control::start(store.clone());
            let server = ApiServer::new(store, Vec::new(), control, 0.0, Duration::ZERO)
                .with_seed(seed)
                .with_latency_spikes(100, 0.5);
            let drawn: Vec<Duration> = (0..32).map(|_| server.delay()).collect();
            server.control.shutdown();
            drawn
        };
        let first = delays(7);
        assert_eq!(first, delays(7), "the same seed meets the same spikes");
        assert!(first.contains(&Duration::ZERO) && first.contains(&Duration::from_millis(100)));
        assert_ne!(first, delays(8));
    }
}
