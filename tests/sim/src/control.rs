//! The cluster's behaviour over simulated time: workload controllers (Deployment → ReplicaSet →
//! Pods, StatefulSet, DaemonSet, HPA, KEDA ScaledObject), the scheduler, the kubelet, storage
//! (binding, protection, reclaim, snapshots), PodDisruptionBudget status and the Eviction
//! subresource, ResourceQuota admission and usage, events, pod logs, and availability tracking.
//!
//! Each tick reads the whole store under its lock, decides what to change (pure), then applies
//! those changes through the store, so every change is seen by watchers like any client's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::clock::{format_rfc3339, parse_rfc3339};
use crate::error::ApiError;
use crate::quantity;
use crate::resources::{self as r, ResourceType};
use crate::selectors::LabelSelector;
use crate::store::{DeleteOptions, Objects, Store, random_suffix};

const ANN: &str = "sim.kube-sim.dev/";
/// Real time between two reconciliations.
const TICK: Duration = Duration::from_millis(40);
/// Real time between two reconciliations when the last one found nothing to do.
const IDLE_TICK: Duration = Duration::from_millis(200);

/// One change decided by a tick.
pub(crate) enum Action {
    Create(&'static ResourceType, Option<String>, Value),
    Patch(&'static ResourceType, Option<String>, String, Value),
    Delete(&'static ResourceType, Option<String>, String),
    /// A delete with a uid precondition: never a newer object of the same name.
    DeleteUid(&'static ResourceType, Option<String>, String, String),
    Remove(&'static ResourceType, Option<String>, String),
    Event {
        involved: Value,
        reason: String,
        message: String,
        warning: bool,
    },
    /// An Argo workflow's reconciliation (see argo/).
    Workflow(Box<crate::argo::WorkflowUpdate>),
}

#[derive(Debug, Clone, Default)]
struct Availability {
    kind: &'static str,
    desired: i64,
    ready: i64,
    min_ready: i64,
}

/// Per (kind, namespace, name): what a workload had Ready, at least and now.
type AvailabilityMap = BTreeMap<(String, String, String), Availability>;

/// Handle on the running controllers.
#[derive(Clone)]
pub struct Control {
    store: Arc<Store>,
    availability: Arc<Mutex<AvailabilityMap>>,
    /// The GitOps reconciler's drifts (crate::gitops).
    gitops_drift: Arc<Mutex<crate::gitops::DriftSince>>,
    /// Held by an eviction from its budget check to its delete (see [`Control::evict`]).
    evictions: Arc<Mutex<()>>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

/// Query of the `pods/log` subresource.
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub container: Option<String>,
    pub tail_lines: Option<i64>,
    pub since_seconds: Option<i64>,
    pub since_time: Option<String>,
    pub timestamps: bool,
    pub previous: bool,
    pub follow: bool,
}

/// Registers admission and starts the control loop on the current tokio runtime.
pub fn start(store: Arc<Store>) -> Control {
    store.add_admission(Box::new(quota_admission));
    let control = Control::new(store);
    let ticking = control.clone();
    let handle = tokio::spawn(async move {
        let mut last_version = 0;
        loop {
            let changed = ticking.tick();
            // A quiet cluster (nothing changed, nothing to do) is checked less often; time-based
            // work (readiness delays, back-offs) still happens within IDLE_TICK.
            let version = ticking.store.resource_version();
            let quiet = changed == 0 && version == last_version;
            last_version = version;
            let pause = if quiet { IDLE_TICK } else { TICK };
            tokio::time::sleep(pause).await;
        }
    });
    *control.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    control
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn name(o: &Value) -> String {
    s(&o["metadata"]["name"]).to_string()
}

fn ns(o: &Value) -> Option<String> {
    o["metadata"]["namespace"].as_str().map(String::from)
}

fn uid(o: &Value) -> &str {
    s(&o["metadata"]["uid"])
}

fn deleting(o: &Value) -> bool {
    !o["metadata"]["deletionTimestamp"].is_null()
}

fn ann<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o["metadata"]["annotations"][format!("{ANN}{key}")].as_str()
}

fn ann_secs(o: &Value, key: &str, default: f64) -> f64 {
    ann(o, key).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ts(o: &Value) -> Option<Timestamp> {
    o.as_str().and_then(parse_rfc3339)
}

fn secs_since(t: Timestamp, now: Timestamp) -> f64 {
    now.duration_since(t).as_secs_f64()
}

/// The controller's uid: as kubernetes/kubernetes pkg/controller/controller_ref_manager.go
/// (metav1.GetControllerOf), only the reference with `controller: true` counts; a pod that
/// merely names a ReplicaSet among its owners is not one of its replicas.
fn owner_uid(o: &Value) -> Option<&str> {
    o["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .and_then(|r| r["uid"].as_str())
}

fn owner_ref(o: &Value, rt: &ResourceType) -> Value {
    json!([{"apiVersion": rt.api_version(), "kind": rt.kind, "name": name(o), "uid": uid(o), "controller": true, "blockOwnerDeletion": true}])
}

pub fn pod_ready(p: &Value) -> bool {
    !deleting(p)
        && p["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn pod_active(p: &Value) -> bool {
    let phase = s(&p["status"]["phase"]);
    !deleting(p) && phase != "Succeeded" && phase != "Failed"
}

fn replicas(o: &Value) -> i64 {
    o["spec"]["replicas"].as_i64().unwrap_or(1)
}

/// FNV-1a of a JSON value, rendered with Kubernetes' safe alphabet.
pub fn template_hash(template: &Value) -> String {
    let text = serde_json::to_string(template).unwrap_or_default();
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut out = String::new();
    for _ in 0..10 {
        out.push(ALPHABET[(h % ALPHABET.len() as u64) as usize] as char);
        h /= ALPHABET.len() as u64;
    }
    out
}

/// `25%` of `total`, rounded up or down; or an integer.
pub fn int_or_percent(v: &Value, total: i64, round_up: bool, default: &str) -> i64 {
    let text = match v {
        Value::Number(n) => return n.as_i64().unwrap_or(0),
        Value::String(s) => s.as_str(),
        _ => default,
    };
    match text.strip_suffix('%').and_then(|p| p.parse::<f64>().ok()) {
        Some(pct) => {
            let exact = pct * total as f64 / 100.0;
            if round_up {
                exact.ceil() as i64
            } else {
                exact.floor() as i64
            }
        }
        None => text.parse().unwrap_or(0),
    }
}

fn condition(type_: &str, status: bool, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": type_, "status": if status { "True" } else { "False" }, "reason": reason, "message": message, "lastTransitionTime": now, "lastProbeTime": null})
}

/// Sums a pod's container requests (or limits) of one resource.
fn pod_resource(pod: &Value, field: &str, resource: &str) -> f64 {
    pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    c["resources"][field][resource]
                        .as_str()
                        .and_then(quantity::parse)
                })
                .sum()
        })
        .unwrap_or(0.0)
}

/// Indexes built once per tick.
struct Index<'a> {
    pods_by_owner: HashMap<&'a str, Vec<&'a Value>>,
    pods_by_node: HashMap<&'a str, Vec<&'a Value>>,
    rs_by_owner: HashMap<&'a str, Vec<&'a Value>>,
    pvc_users: HashMap<(String, String), Vec<&'a Value>>,
}

fn index(objs: &Objects) -> Index<'_> {
    let mut idx = Index {
        pods_by_owner: HashMap::new(),
        pods_by_node: HashMap::new(),
        rs_by_owner: HashMap::new(),
        pvc_users: HashMap::new(),
    };
    for p in objs.list(&r::PODS, None) {
        if let Some(o) = owner_uid(p) {
            idx.pods_by_owner.entry(o).or_default().push(p);
        }
        if let Some(n) = p["spec"]["nodeName"].as_str() {
            idx.pods_by_node.entry(n).or_default().push(p);
        }
        if let Some(vols) = p["spec"]["volumes"].as_array() {
            for v in vols {
                if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                    idx.pvc_users
                        .entry((ns(p).unwrap_or_default(), claim.to_string()))
                        .or_default()
                        .push(p);
                }
            }
        }
    }
    for rs in objs.list(&r::REPLICA_SETS, None) {
        if let Some(o) = owner_uid(rs) {
            idx.rs_by_owner.entry(o).or_default().push(rs);
        }
    }
    idx
}

impl Control {
    fn new(store: Arc<Store>) -> Self {
        Control {
            store,
            availability: Arc::new(Mutex::new(BTreeMap::new())),
            gitops_drift: Arc::new(Mutex::new(HashMap::new())),
            evictions: Arc::new(Mutex::new(())),
            task: Arc::new(Mutex::new(None)),
        }
    }

    pub fn shutdown(&self) {
        if let Some(h) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            h.abort();
        }
    }

    /// Minimum Ready replicas seen per Deployment/StatefulSet since first seen.
    pub fn availability(&self) -> Value {
        let map = self.availability.lock().unwrap_or_else(|e| e.into_inner());
        let items: Vec<Value> = map
            .iter()
            .map(|((_, ns, name), a)| json!({"kind": a.kind, "namespace": ns, "name": name, "desired": a.desired, "ready": a.ready, "minReady": a.min_ready}))
            .collect();
        json!({ "items": items })
    }

    /// Starts a new measuring window: each workload's minimum becomes its Ready count now.
    pub fn reset_availability(&self) {
        let mut map = self.availability.lock().unwrap_or_else(|e| e.into_inner());
        for a in map.values_mut() {
            a.min_ready = a.ready;
        }
    }

    /// One reconciliation of everything.
    /// Returns how many changes it made.
    pub fn tick(&self) -> usize {
        let now = self.store.clock().now();
        let actions = self.store.read(|objs| {
            let idx = index(objs);
            let mut actions = Vec::new();
            deployments(objs, &idx, now, &mut actions);
            replica_sets(objs, &idx, &mut actions);
            stateful_sets(objs, &idx, &mut actions);
            daemon_sets(objs, &idx, &mut actions);
            hpas(objs, now, &mut actions);
            scaled_objects(objs, &mut actions);
            crate::gitops::reconcile(
                objs,
                now,
                &mut self.gitops_drift.lock().unwrap_or_else(|e| e.into_inner()),
                &mut actions,
            );
            node_lifecycle(objs, now, &mut actions);
            schedule(objs, &idx, now, &mut actions);
            kubelet(objs, now, &mut actions);
            storage(objs, &idx, now, &mut actions);
            crate::attach::reconcile(objs, now, &mut actions);
            garbage_collect(objs, &mut actions);
            pdb_status(objs, &mut actions);
            quota_status(objs, &mut actions);
            let mut argo = Vec::new();
            crate::argo::workflows(objs, now, &mut argo);
            actions.extend(argo.into_iter().map(|u| Action::Workflow(Box::new(u))));
            self.track_availability(objs, &idx);
            actions
        });
        let count = actions.len();
        for action in actions {
            self.apply(action);
        }
        count
    }

    fn apply(&self, action: Action) {
        let store = &self.store;
        match action {
            Action::Create(rt, ns, obj) => {
                let owner = obj["metadata"]["ownerReferences"][0].clone();
                if let Err(err) = store.create(rt, ns.as_deref(), obj)
                    && err.code == 403
                    && owner.is_object()
                {
                    // A controller that cannot create records why, as the real ones do.
                    let involved = json!({"kind": owner["kind"], "name": owner["name"], "namespace": ns, "uid": owner["uid"], "apiVersion": owner["apiVersion"]});
                    self.apply(Action::Event {
                        involved,
                        reason: "FailedCreate".into(),
                        message: format!("Error creating: {}", err.message),
                        warning: true,
                    });
                    if owner["kind"] == "ReplicaSet" {
                        let now = store.clock().now_rfc3339();
                        let _ = store.mutate(
                            &r::REPLICA_SETS,
                            ns.as_deref(),
                            s(&owner["name"]),
                            |rs| {
                                rs["status"]["conditions"] = json!([condition(
                                    "ReplicaFailure",
                                    true,
                                    "FailedCreate",
                                    &err.message,
                                    &now
                                )]);
                                Ok(())
                            },
                        );
                    }
                }
            }
            Action::Patch(rt, ns, name, patch) => {
                let _ = store.mutate(rt, ns.as_deref(), &name, |obj| {
                    json_patch::merge(obj, &patch);
                    Ok(())
                });
            }
            Action::Delete(rt, ns, name) => {
                let _ = store.delete(rt, ns.as_deref(), &name, &DeleteOptions::default());
            }
            Action::DeleteUid(rt, ns, name, uid) => {
                let options = DeleteOptions {
                    precondition_uid: Some(uid),
                    ..DeleteOptions::default()
                };
                let _ = store.delete(rt, ns.as_deref(), &name, &options);
            }
            Action::Remove(rt, ns, name) => {
                store.remove(rt, ns.as_deref(), &name);
            }
            Action::Event {
                involved,
                reason,
                message,
                warning,
            } => record_event(store, involved, &reason, &message, warning),
            Action::Workflow(u) => self.apply_workflow(*u),
        }
    }

    /// Writes a workflow with a resourceVersion precondition (a client's change in between
    /// wins; the next tick recomputes), then changes its pods.
    fn apply_workflow(&self, u: crate::argo::WorkflowUpdate) {
        let ns = Some(u.namespace.clone());
        let written = self
            .store
            .mutate(&r::WORKFLOWS, ns.as_deref(), &u.name, |obj| {
                if s(&obj["metadata"]["resourceVersion"]) != u.resource_version {
                    return Err(ApiError::conflict(&r::WORKFLOWS, &u.name));
                }
                *obj = u.object;
                Ok(())
            });
        if written.is_err() {
            return;
        }
        for pod in u.create_pods {
            self.apply(Action::Create(&r::PODS, ns.clone(), pod));
        }
        for (name, patch) in u.patch_pods {
            self.apply(Action::Patch(&r::PODS, ns.clone(), name, patch));
        }
        for (name, uid) in u.delete_pods {
            self.apply(Action::DeleteUid(&r::PODS, ns.clone(), name, uid));
        }
    }

    fn track_availability(&self, objs: &Objects, idx: &Index<'_>) {
        let mut map = self.availability.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = HashSet::new();
        for d in objs.list(&r::DEPLOYMENTS, None) {
            let ready: i64 = idx
                .rs_by_owner
                .get(uid(d))
                .map(|rss| {
                    rss.iter()
                        .map(|rs| {
                            idx.pods_by_owner
                                .get(uid(rs))
                                .map_or(0, |ps| ps.iter().filter(|p| pod_ready(p)).count() as i64)
                        })
                        .sum()
                })
                .unwrap_or(0);
            let key = ("Deployment".to_string(), ns(d).unwrap_or_default(), name(d));
            update_availability(&mut map, key.clone(), "Deployment", replicas(d), ready);
            seen.insert(key);
        }
        for st in objs.list(&r::STATEFUL_SETS, None) {
            let ready = idx
                .pods_by_owner
                .get(uid(st))
                .map_or(0, |ps| ps.iter().filter(|p| pod_ready(p)).count() as i64);
            let key = (
                "StatefulSet".to_string(),
                ns(st).unwrap_or_default(),
                name(st),
            );
            update_availability(&mut map, key.clone(), "StatefulSet", replicas(st), ready);
            seen.insert(key);
        }
        map.retain(|k, _| seen.contains(k));
    }

    /// The Eviction subresource, as the real registry does it.
    pub fn evict(&self, namespace: &str, pod_name: &str, body: &Value) -> Result<Value, ApiError> {
        // One eviction at a time, from reading the budget to deleting the pod: upstream's
        // checkAndDecrement (pkg/registry/core/pod/storage/eviction.go) writes the budget's
        // decremented disruptionsAllowed with a resourceVersion precondition, so of two
        // concurrent evictions under one budget allowing one disruption, the second conflicts,
        // re-reads and gets 429. Without this, both could read the same healthy count and both
        // delete (kubectl drain evicts a node's pods in parallel).
        let _one_at_a_time = self.evictions.lock().unwrap_or_else(|e| e.into_inner());
        let store = &self.store;
        let pod = store.get(&r::PODS, Some(namespace), pod_name)?;
        // policy/v1 puts options under `deleteOptions`; other keys (kube-rs' `delete_options`)
        // are unknown fields and ignored, as a real server ignores them.
        let options = &body["deleteOptions"];
        if let Some(want) = options["preconditions"]["uid"].as_str()
            && want != uid(&pod)
        {
            return Err(ApiError::precondition_failed(
                &r::PODS,
                pod_name,
                format!(
                    "Precondition failed: UID in precondition: {want}, UID in object meta: {}",
                    uid(&pod)
                ),
            ));
        }
        let delete = DeleteOptions {
            grace_period_seconds: options["gracePeriodSeconds"].as_i64(),
            ..Default::default()
        };
        let success = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201});
        if deleting(&pod) || s(&pod["status"]["phase"]) != "Running" {
            store.delete(&r::PODS, Some(namespace), pod_name, &delete)?;
            return Ok(success);
        }
        let now = store.clock().now();
        let pdbs: Vec<Value> = store.read(|objs| {
            objs.list(&r::PDBS, Some(namespace))
                .filter(|pdb| {
                    LabelSelector::from_object(&pdb["spec"]["selector"])
                        .is_some_and(|sel| !sel.is_empty() && sel.matches_object(&pod))
                })
                .cloned()
                .collect()
        });
        // pkg/registry/core/pod/storage/eviction.go: one budget per pod, else a 500.
        if pdbs.len() > 1 {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
        if let Some(pdb) = pdbs.first() {
            let pdb_name = name(pdb);
            let (healthy, desired, _) = store.read(|objs| pdb_numbers(objs, pdb));
            // eviction.go: a pod that is not Ready does not count as healthy, so deleting it
            // takes nothing from the budget: it goes without consuming a disruption when the
            // budget is met (IfHealthyBudget, the default: currentHealthy >= desiredHealthy > 0),
            // and always under `unhealthyPodEvictionPolicy: AlwaysAllow`.
            if !pod_ready(&pod) {
                let always = pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow";
                if always || (healthy >= desired && desired > 0) {
                    store.delete(&r::PODS, Some(namespace), pod_name, &delete)?;
                    return Ok(success);
                }
            }
            if healthy - desired <= 0 {
                return Err(ApiError::disruption_budget(
                    &pdb_name,
                    &format!("needs {desired} healthy pods and has {healthy} currently"),
                ));
            }
            let stamp = format_rfc3339(now);
            store.mutate(&r::PDBS, Some(namespace), &pdb_name, |p| {
                let allowed = p["status"]["disruptionsAllowed"]
                    .as_i64()
                    .unwrap_or(healthy - desired);
                p["status"]["disruptionsAllowed"] = json!((allowed - 1).max(0));
                p["status"]["disruptedPods"][pod_name] = json!(stamp);
                Ok(())
            })?;
        }
        store.delete(&r::PODS, Some(namespace), pod_name, &delete)?;
        Ok(success)
    }

    /// The `pods/log` subresource.
    pub fn logs(
        &self,
        namespace: &str,
        pod_name: &str,
        req: &LogRequest,
    ) -> Result<BoxStream<'static, Bytes>, ApiError> {
        let pod = self.store.get(&r::PODS, Some(namespace), pod_name)?;
        let containers: Vec<String> = pod["spec"]["containers"]
            .as_array()
            .map(|cs| cs.iter().map(name_of_container).collect())
            .unwrap_or_default();
        let container = match &req.container {
            Some(c) => {
                if !containers.contains(c) {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {pod_name}"
                    )));
                }
                c.clone()
            }
            None if containers.len() == 1 => containers[0].clone(),
            None => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                    containers.join(" ")
                )));
            }
        };
        let status = pod["status"]["containerStatuses"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()))
            .cloned();
        let Some(status) = status else {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is waiting to start: ContainerCreating"
            )));
        };
        if req.previous && status["restartCount"].as_i64().unwrap_or(0) == 0 {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            )));
        }
        let started = ts(&status["state"]["running"]["startedAt"])
            .or_else(|| ts(&status["state"]["terminated"]["startedAt"]))
            .or_else(|| ts(&status["lastState"]["terminated"]["startedAt"]))
            .or_else(|| ts(&pod["status"]["startTime"]))
            .unwrap_or_else(|| self.store.clock().now());
        let script: Vec<String> = ann(&pod, &format!("log.{container}"))
            .map(|t| t.lines().map(String::from).collect())
            .unwrap_or_default();
        let now = self.store.clock().now();
        let running = !status["state"]["running"].is_null() && !deleting(&pod);
        let finished = ts(&status["state"]["terminated"]["finishedAt"]);
        let end = if running {
            now
        } else {
            finished.unwrap_or(now)
        };
        let lines = log_lines(
            pod_name,
            &container,
            &script,
            started,
            end,
            !running || req.previous,
        );
        let cutoff = req
            .since_seconds
            .map(|secs| now - SignedDuration::from_secs(secs))
            .or_else(|| req.since_time.as_deref().and_then(parse_rfc3339));
        let mut selected: Vec<(Timestamp, String)> = lines
            .into_iter()
            .filter(|(t, _)| cutoff.is_none_or(|c| *t >= c))
            .collect();
        if let Some(n) = req.tail_lines {
            let n = n.max(0) as usize;
            if selected.len() > n {
                selected.drain(..selected.len() - n);
            }
        }
        let timestamps = req.timestamps;
        let render = move |(t, line): &(Timestamp, String)| {
            if timestamps {
                Bytes::from(format!("{} {line}\n", t.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")))
            } else {
                Bytes::from(format!("{line}\n"))
            }
        };
        let first: Vec<Bytes> = selected.iter().map(render).collect();
        let initial = futures::stream::iter(first);
        if !req.follow || !running || req.previous {
            return Ok(Box::pin(initial));
        }
        let store = self.store.clone();
        let (ns_owned, pod_owned, uid_owned) = (
            namespace.to_string(),
            pod_name.to_string(),
            uid(&pod).to_string(),
        );
        let emitted = end;
        let follow = futures::stream::unfold((store, emitted), move |(store, mut emitted)| {
            let (ns_owned, pod_owned, uid_owned, container, script) = (
                ns_owned.clone(),
                pod_owned.clone(),
                uid_owned.clone(),
                container.clone(),
                script.clone(),
            );
            async move {
                loop {
                    tokio::time::sleep(
                        store
                            .clock()
                            .real_duration(Duration::from_secs(1))
                            .max(Duration::from_millis(20)),
                    )
                    .await;
                    let pod = store.get(&r::PODS, Some(&ns_owned), &pod_owned).ok()?;
                    if uid(&pod) != uid_owned || deleting(&pod) {
                        return None;
                    }
                    let still_running = pod["status"]["containerStatuses"]
                        .as_array()
                        .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()))
                        .is_some_and(|c| !c["state"]["running"].is_null());
                    if !still_running {
                        return None;
                    }
                    let now = store.clock().now();
                    let fresh: Vec<(Timestamp, String)> =
                        log_lines(&pod_owned, &container, &script, started, now, false)
                            .into_iter()
                            .filter(|(t, _)| *t > emitted)
                            .collect();
                    if let Some((last, _)) = fresh.last() {
                        emitted = *last;
                        let text: String = fresh
                            .iter()
                            .map(|l| String::from_utf8_lossy(&render(l)).into_owned())
                            .collect();
                        return Some((Bytes::from(text), (store, emitted)));
                    }
                }
            }
        });
        Ok(Box::pin(futures::StreamExt::chain(initial, follow)))
    }
}

fn name_of_container(c: &Value) -> String {
    s(&c["name"]).to_string()
}

/// A container's log: the scripted lines one second apart from its start, then (while it runs)
/// a generated line every ten seconds.
fn log_lines(
    pod: &str,
    container: &str,
    script: &[String],
    started: Timestamp,
    end: Timestamp,
    finished: bool,
) -> Vec<(Timestamp, String)> {
    let mut out = Vec::new();
    for (i, line) in script.iter().enumerate() {
        let t = started + SignedDuration::from_secs(i as i64);
        if t > end && !finished {
            break;
        }
        out.push((t, line.clone()));
    }
    if !script.is_empty() && finished {
        return out;
    }
    let begin = started + SignedDuration::from_secs(script.len() as i64);
    let total = (end.duration_since(begin).as_secs() / 10).max(0);
    let first = (total - 500).max(0);
    for i in first..=total {
        let t = begin + SignedDuration::from_secs(i * 10);
        if t > end {
            break;
        }
        out.push((
            t,
            format!(
                "[{}] {{{container}}} INFO - {pod}: heartbeat {i}, all tasks healthy",
                t.strftime("%Y-%m-%d %H:%M:%S,000")
            ),
        ));
    }
    out
}

fn update_availability(
    map: &mut AvailabilityMap,
    key: (String, String, String),
    kind: &'static str,
    desired: i64,
    ready: i64,
) {
    let entry = map.entry(key).or_insert(Availability {
        kind,
        desired,
        ready,
        min_ready: ready,
    });
    entry.desired = desired;
    entry.ready = ready;
    entry.min_ready = entry.min_ready.min(ready);
}

fn record_event(store: &Store, involved: Value, reason: &str, message: &str, warning: bool) {
    let ns = involved["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let now = store.clock().now_rfc3339();
    let existing = store.read(|objs| {
        objs.list(&r::EVENTS, Some(&ns))
            .find(|e| {
                e["involvedObject"]["uid"] == involved["uid"]
                    && e["reason"] == reason
                    && e["message"] == message
            })
            .map(name)
    });
    if let Some(ev) = existing {
        let _ = store.mutate(&r::EVENTS, Some(&ns), &ev, |e| {
            e["count"] = json!(e["count"].as_i64().unwrap_or(1) + 1);
            e["lastTimestamp"] = json!(now);
            Ok(())
        });
        return;
    }
    let component = match reason {
        "FailedScheduling" | "Scheduled" => "default-scheduler",
        "Pulled" | "Created" | "Started" | "Killing" | "BackOff" => "kubelet",
        "FailedBinding" | "ProvisioningFailed" | "WaitForFirstConsumer" | "WaitForPodScheduled" => {
            "persistentvolume-controller"
        }
        _ => "controller-manager",
    };
    let event = json!({
        "metadata": {"name": format!("{}.{}", s(&involved["name"]), random_suffix(10)), "namespace": ns},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": if warning { "Warning" } else { "Normal" },
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": component},
        "reportingComponent": component,
    });
    let _ = store.create(&r::EVENTS, Some(&ns), event);
}

fn involved(o: &Value, rt: &ResourceType) -> Value {
    json!({"kind": rt.kind, "apiVersion": rt.api_version(), "name": name(o), "namespace": ns(o), "uid": uid(o)})
}

/// The pod template without the labels a controller adds.
fn bare_template(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t["metadata"]["labels"].as_object_mut() {
        labels.remove("pod-template-hash");
        labels.remove("controller-revision-hash");
    }
    t
}

fn deployments(objs: &Objects, idx: &Index<'_>, now: Timestamp, out: &mut Vec<Action>) {
    for d in objs.list(&r::DEPLOYMENTS, None) {
        if deleting(d) {
            continue;
        }
        let want = replicas(d);
        let template = &d["spec"]["template"];
        let owned: Vec<&Value> = idx.rs_by_owner.get(uid(d)).cloned().unwrap_or_default();
        let bare = bare_template(template);
        let current = owned
            .iter()
            .find(|rs| bare_template(&rs["spec"]["template"]) == bare)
            .copied();
        // A paused Deployment only scales, as kubernetes/kubernetes
        // pkg/controller/deployment/deployment_controller.go syncDeployment (`if d.Spec.Paused
        // { return dc.sync(...) }`) and sync.go: no new ReplicaSet for a changed template, no
        // rollout step; the newest ReplicaSet stands in for the new one.
        let paused = d["spec"]["paused"] == true;
        let newest = || {
            owned.iter().copied().max_by_key(|rs| {
                s(&rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                    .parse::<i64>()
                    .unwrap_or(0)
            })
        };
        let template_matches = current.is_some();
        let current = match current {
            None if paused => newest(),
            c => c,
        };
        let Some(new_rs) = current else {
            if paused {
                // Created paused: sync.go makes no ReplicaSet (createIfNotExisted = false).
                continue;
            }
            let hash = template_hash(template);
            let mut t = template.clone();
            t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut selector = d["spec"]["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let revision = owned
                .iter()
                .filter_map(|rs| {
                    s(&rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                        .parse::<i64>()
                        .ok()
                })
                .max()
                .unwrap_or(0)
                + 1;
            let first = if owned.is_empty() { want } else { 0 };
            out.push(Action::Create(
                &r::REPLICA_SETS,
                ns(d),
                json!({
                    "metadata": {"name": format!("{}-{hash}", name(d)), "labels": t["metadata"]["labels"], "ownerReferences": owner_ref(d, &r::DEPLOYMENTS),
                                 "annotations": {"deployment.kubernetes.io/revision": revision.to_string(), "deployment.kubernetes.io/desired-replicas": want.to_string()}},
                    "spec": {"replicas": first, "selector": selector, "template": t},
                }),
            ));
            out.push(Action::Event {
                involved: involved(d, &r::DEPLOYMENTS),
                reason: "ScalingReplicaSet".into(),
                message: format!("Scaled up replica set {}-{hash} from 0 to {first}", name(d)),
                warning: false,
            });
            continue;
        };
        let olds: Vec<&Value> = owned
            .iter()
            .filter(|rs| uid(rs) != uid(new_rs))
            .copied()
            .collect();
        let ready_of = |rs: &Value| {
            idx.pods_by_owner
                .get(uid(rs))
                .map_or(0, |ps| ps.iter().filter(|p| pod_ready(p)).count() as i64)
        };
        let old_total: i64 = olds.iter().map(|rs| replicas(rs)).sum();
        let new_count = replicas(new_rs);
        let scale = |rs: &Value, to: i64, out: &mut Vec<Action>| {
            if replicas(rs) != to {
                out.push(Action::Patch(
                    &r::REPLICA_SETS,
                    ns(rs),
                    name(rs),
                    json!({"spec": {"replicas": to}}),
                ));
                out.push(Action::Event {
                    involved: involved(d, &r::DEPLOYMENTS),
                    reason: "ScalingReplicaSet".into(),
                    message: format!(
                        "Scaled {} replica set {} from {} to {to}",
                        if to > replicas(rs) { "up" } else { "down" },
                        name(rs),
                        replicas(rs)
                    ),
                    warning: false,
                });
            }
        };
        if paused {
            // sync.go scale(): with one active ReplicaSet it takes the whole replica count;
            // during a paused rollout the split between old and new stays as it is.
            if old_total == 0 {
                scale(new_rs, want, out);
            }
        } else if s(&d["spec"]["strategy"]["type"]) == "Recreate" {
            if old_total > 0 {
                for rs in &olds {
                    scale(rs, 0, out);
                }
            } else if olds.iter().all(|rs| {
                idx.pods_by_owner
                    .get(uid(rs))
                    .is_none_or(|ps| ps.is_empty())
            }) {
                scale(new_rs, want, out);
            }
        } else if old_total == 0 {
            scale(new_rs, want, out);
        } else {
            let ru = &d["spec"]["strategy"]["rollingUpdate"];
            let surge = int_or_percent(&ru["maxSurge"], want, true, "25%");
            let mut unavailable = int_or_percent(&ru["maxUnavailable"], want, false, "25%");
            if surge == 0 && unavailable == 0 {
                unavailable = 1;
            }
            let room = want + surge - (new_count + old_total);
            if room > 0 && new_count < want {
                scale(new_rs, (new_count + room).min(want), out);
            }
            // As the deployment controller does: the scale-down budget counts replicas by spec,
            // so a scale-down decided earlier but not yet carried out is not counted twice.
            let min_available = want - unavailable;
            let spec_total = new_count + old_total;
            let new_unavailable = (new_count - ready_of(new_rs)).max(0);
            let mut budget = spec_total - min_available - new_unavailable;
            // First the old pods that serve nothing, then ready ones down to minAvailable.
            let ready_all: i64 = owned.iter().map(|rs| ready_of(rs).min(replicas(rs))).sum();
            let mut can_remove = ready_all - min_available;
            for rs in &olds {
                if budget <= 0 {
                    break;
                }
                let unhealthy = (replicas(rs) - ready_of(rs)).clamp(0, budget);
                budget -= unhealthy;
                let mut target = replicas(rs) - unhealthy;
                let extra = target.min(can_remove.max(0)).min(budget.max(0));
                target -= extra;
                can_remove -= extra;
                budget -= extra;
                scale(rs, target.max(0), out);
            }
        }
        // Status from the pods.
        let pods: Vec<&Value> = owned
            .iter()
            .flat_map(|rs| idx.pods_by_owner.get(uid(rs)).cloned().unwrap_or_default())
            .filter(|p| pod_active(p))
            .collect();
        let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
        // A paused Deployment with a changed template has no new ReplicaSet: nothing updated.
        let updated = if template_matches {
            idx.pods_by_owner
                .get(uid(new_rs))
                .map_or(0, |ps| ps.iter().filter(|p| pod_active(p)).count()) as i64
        } else {
            0
        };
        let stamp = format_rfc3339(now);
        let available = ready
            >= want
                - int_or_percent(
                    &d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
                    want,
                    false,
                    "25%",
                );
        let mut status = json!({
            "observedGeneration": d["metadata"]["generation"],
            "replicas": pods.len(), "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": ready,
            "unavailableReplicas": (want - ready).max(0),
        });
        let prev = &d["status"]["conditions"];
        let keep_or = |t: &str, st: bool, reason: &str, msg: &str| {
            let old = prev
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == t))
                .cloned();
            match old {
                Some(c)
                    if c["status"] == if st { "True" } else { "False" }
                        && c["reason"] == reason =>
                {
                    c
                }
                _ => condition(t, st, reason, msg, &stamp),
            }
        };
        let progressing_reason = if updated == want && old_total == 0 && ready == want {
            "NewReplicaSetAvailable"
        } else {
            "ReplicaSetUpdated"
        };
        // progress.go / util.go: a paused Deployment's Progressing condition is Unknown with
        // reason DeploymentPaused ("Deployment is paused"), resumed as DeploymentResumed.
        let progressing = if paused {
            match prev
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"))
            {
                Some(c) if c["reason"] == "DeploymentPaused" => c.clone(),
                _ => {
                    json!({"type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused", "message": "Deployment is paused", "lastUpdateTime": stamp, "lastTransitionTime": stamp})
                }
            }
        } else {
            keep_or(
                "Progressing",
                true,
                progressing_reason,
                &format!("ReplicaSet \"{}\" is progressing.", name(new_rs)),
            )
        };
        status["conditions"] = json!([
            keep_or(
                "Available",
                available,
                if available {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                },
                if available {
                    "Deployment has minimum availability."
                } else {
                    "Deployment does not have minimum availability."
                }
            ),
            progressing,
        ]);
        if d["status"] != status {
            out.push(Action::Patch(
                &r::DEPLOYMENTS,
                ns(d),
                name(d),
                json!({"status": status}),
            ));
        }
    }
}

fn new_pod(owner: &Value, rt: &ResourceType, template: &Value, pod_name: &str) -> Value {
    let mut meta = template["metadata"].clone();
    if !meta.is_object() {
        meta = json!({});
    }
    meta["name"] = json!(pod_name);
    meta["ownerReferences"] = owner_ref(owner, rt);
    let mut spec = template["spec"].clone();
    if spec["restartPolicy"].is_null() {
        spec["restartPolicy"] = json!("Always");
    }
    if spec["terminationGracePeriodSeconds"].is_null() {
        spec["terminationGracePeriodSeconds"] = json!(30);
    }
    json!({"metadata": meta, "spec": spec, "status": {"phase": "Pending", "qosClass": "Burstable"}})
}

/// Which extra pod to remove first: unscheduled, then not ready, then newest.
/// Which pods a ReplicaSet removes first, as the real controller ranks them: unscheduled,
/// then not Ready, then the lowest `controller.kubernetes.io/pod-deletion-cost`, then the newest.
fn removal_order(pods: &mut [&Value]) {
    pods.sort_by_key(|p| {
        let scheduled = p["spec"]["nodeName"].as_str().is_some();
        let ready = pod_ready(p);
        let cost: i64 = p["metadata"]["annotations"]["controller.kubernetes.io/pod-deletion-cost"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let created = s(&p["metadata"]["creationTimestamp"]).to_string();
        (scheduled, ready, cost, std::cmp::Reverse(created))
    });
}

fn replica_sets(objs: &Objects, idx: &Index<'_>, out: &mut Vec<Action>) {
    for rs in objs.list(&r::REPLICA_SETS, None) {
        if deleting(rs) {
            continue;
        }
        let want = replicas(rs);
        let mut active: Vec<&Value> = idx
            .pods_by_owner
            .get(uid(rs))
            .map(|ps| ps.iter().filter(|p| pod_active(p)).copied().collect())
            .unwrap_or_default();
        let have = active.len() as i64;
        if have < want {
            for _ in 0..(want - have).min(50) {
                // The ReplicaSet controller names pods by generateName `<rs>-` (cut to fit 63).
                let pod_name =
                    crate::validation::generate_name(&format!("{}-", name(rs)), &random_suffix(5));
                out.push(Action::Create(
                    &r::PODS,
                    ns(rs),
                    new_pod(rs, &r::REPLICA_SETS, &rs["spec"]["template"], &pod_name),
                ));
                out.push(Action::Event {
                    involved: involved(rs, &r::REPLICA_SETS),
                    reason: "SuccessfulCreate".into(),
                    message: format!("Created pod: {pod_name}"),
                    warning: false,
                });
            }
        } else if have > want {
            removal_order(&mut active);
            for p in active.iter().take((have - want) as usize) {
                out.push(Action::Delete(&r::PODS, ns(p), name(p)));
                out.push(Action::Event {
                    involved: involved(rs, &r::REPLICA_SETS),
                    reason: "SuccessfulDelete".into(),
                    message: format!("Deleted pod: {}", name(p)),
                    warning: false,
                });
            }
        }
        let ready = active.iter().filter(|p| pod_ready(p)).count() as i64;
        let mut status = json!({"replicas": have, "fullyLabeledReplicas": have, "readyReplicas": ready, "availableReplicas": ready, "observedGeneration": rs["metadata"]["generation"]});
        if have >= want {
            status["conditions"] = json!(null);
        } else if !rs["status"]["conditions"].is_null() {
            status["conditions"] = rs["status"]["conditions"].clone();
        }
        let current = &rs["status"];
        let differs = [
            "replicas",
            "readyReplicas",
            "availableReplicas",
            "observedGeneration",
        ]
        .iter()
        .any(|k| current[k] != status[k])
            || (have >= want && !current["conditions"].is_null());
        if differs {
            out.push(Action::Patch(
                &r::REPLICA_SETS,
                ns(rs),
                name(rs),
                json!({"status": status}),
            ));
        }
    }
}

fn stateful_sets(objs: &Objects, idx: &Index<'_>, out: &mut Vec<Action>) {
    for st in objs.list(&r::STATEFUL_SETS, None) {
        if deleting(st) {
            continue;
        }
        let want = replicas(st);
        // `spec.ordinals.start` (GA in 1.31), as kubernetes/kubernetes
        // pkg/controller/statefulset/stateful_set_utils.go getStartOrdinal/getEndOrdinal: the
        // replicas are numbered start..start+replicas-1; any other ordinal is condemned.
        let start = st["spec"]["ordinals"]["start"].as_i64().unwrap_or(0).max(0);
        let ordinals = start..start + want;
        let namespace = ns(st);
        let revision = format!(
            "{}-{}",
            name(st),
            &template_hash(&bare_template(&st["spec"]["template"]))[..10]
        );
        let pods: Vec<&Value> = idx.pods_by_owner.get(uid(st)).cloned().unwrap_or_default();
        let by_ordinal: HashMap<i64, &Value> = pods
            .iter()
            .filter_map(|p| {
                name(p)
                    .rsplit_once('-')
                    .and_then(|(_, o)| o.parse().ok())
                    .map(|o| (o, *p))
            })
            .collect();
        let first_sight = st["status"]["updateRevision"].is_null();
        if first_sight {
            // Adopt the pods as they are: they are the current revision.
            for p in &pods {
                if p["metadata"]["labels"]["controller-revision-hash"] != revision.as_str() {
                    out.push(Action::Patch(
                        &r::PODS,
                        ns(p),
                        name(p),
                        json!({"metadata": {"labels": {"controller-revision-hash": revision}}}),
                    ));
                }
            }
        }
        let parallel = s(&st["spec"]["podManagementPolicy"]) == "Parallel";
        let any_terminating = pods.iter().any(|p| deleting(p));
        let strategy = &st["spec"]["updateStrategy"];
        let on_delete = s(&strategy["type"]) == "OnDelete";
        let partition = strategy["rollingUpdate"]["partition"]
            .as_i64()
            .unwrap_or(0)
            .max(0);
        // stateful_set_control.go newVersionedStatefulSetPod: below start+partition a pod is
        // recreated at the current revision. kube-sim keeps no ControllerRevisions, so that
        // revision's template is read back from a pod still carrying it; with none left the
        // pod gets the update revision.
        let current_revision = s(&st["status"]["currentRevision"]);
        let current_template = pods
            .iter()
            .find(|p| {
                !current_revision.is_empty()
                    && current_revision != revision
                    && p["metadata"]["labels"]["controller-revision-hash"] == current_revision
            })
            .map(|p| {
                let mut t = json!({"metadata": {"labels": p["metadata"]["labels"], "annotations": p["metadata"]["annotations"]}, "spec": p["spec"]});
                for field in ["nodeName", "hostname"] {
                    if let Some(spec) = t["spec"].as_object_mut() {
                        spec.remove(field);
                    }
                }
                t
            });
        let mut created_one = false;
        for ordinal in ordinals.clone() {
            if by_ordinal.contains_key(&ordinal) {
                continue;
            }
            if !parallel
                && (created_one
                    || any_terminating
                    || (start..ordinal).any(|o| by_ordinal.get(&o).is_none_or(|p| !pod_ready(p))))
            {
                break;
            }
            let pod_name = format!("{}-{ordinal}", name(st));
            let (template, pod_revision) = match &current_template {
                Some(t) if !on_delete && ordinal - start < partition => (t, current_revision),
                _ => (&st["spec"]["template"], revision.as_str()),
            };
            let mut claims_ready = true;
            let mut volumes: Vec<Value> = template["spec"]["volumes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for tmpl in st["spec"]["volumeClaimTemplates"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                let claim = format!("{}-{pod_name}", name(&tmpl));
                match objs.get(&r::PVCS, namespace.as_deref(), &claim) {
                    Some(pvc) if deleting(pvc) => claims_ready = false,
                    Some(_) => {}
                    None => {
                        let mut pvc = json!({"metadata": {"name": claim, "labels": st["spec"]["selector"]["matchLabels"]}, "spec": tmpl["spec"]});
                        if let Some(extra) = tmpl["metadata"]["labels"].as_object() {
                            for (k, v) in extra {
                                pvc["metadata"]["labels"][k] = v.clone();
                            }
                        }
                        out.push(Action::Create(&r::PVCS, namespace.clone(), pvc));
                    }
                }
                volumes.retain(|v| v["name"] != tmpl["metadata"]["name"]);
                volumes.push(json!({"name": tmpl["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}}));
            }
            if !claims_ready {
                // The real controller would create the pod and it would sit Pending on the
                // terminating claim; waiting is what matters to callers.
                break;
            }
            let mut pod = new_pod(st, &r::STATEFUL_SETS, template, &pod_name);
            pod["spec"]["volumes"] = json!(volumes);
            pod["spec"]["hostname"] = json!(pod_name);
            pod["metadata"]["labels"]["controller-revision-hash"] = json!(pod_revision);
            pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
            out.push(Action::Create(&r::PODS, namespace.clone(), pod));
            out.push(Action::Event {
                involved: involved(st, &r::STATEFUL_SETS),
                reason: "SuccessfulCreate".into(),
                message: format!(
                    "create Pod {pod_name} in StatefulSet {} successful",
                    name(st)
                ),
                warning: false,
            });
            created_one = true;
        }
        claim_retention(objs, st, &by_ordinal, &ordinals, out);
        // Scale down from the highest ordinal, one at a time unless Parallel.
        let mut extra: Vec<(&i64, &&Value)> = by_ordinal
            .iter()
            .filter(|(o, p)| !ordinals.contains(o) && !deleting(p))
            .collect();
        extra.sort_by_key(|(o, _)| std::cmp::Reverse(**o));
        for (_, p) in extra.iter().take(if parallel {
            usize::MAX
        } else if any_terminating {
            0
        } else {
            1
        }) {
            out.push(Action::Delete(&r::PODS, ns(p), name(p)));
        }
        // Rolling update from the highest ordinal, when everything else is Ready. As
        // stateful_set_control.go updateStatefulSet: `OnDelete` replaces no pod (only a pod
        // someone deletes comes back with the new template), and a RollingUpdate `partition`
        // leaves the ordinals below it on their revision.
        if !first_sight
            && !on_delete
            && !any_terminating
            && ordinals
                .clone()
                .all(|o| by_ordinal.get(&o).is_some_and(|p| pod_ready(p)))
        {
            let mut stale: Vec<(&i64, &&Value)> = by_ordinal
                .iter()
                .filter(|(o, p)| {
                    ordinals.contains(o)
                        // The partition counts replicas, not ordinals: the update loop
                        // compares the replica index (ordinal - start) with updateMin.
                        && **o - start >= partition
                        && p["metadata"]["labels"]["controller-revision-hash"] != revision.as_str()
                })
                .collect();
            stale.sort_by_key(|(o, _)| std::cmp::Reverse(**o));
            if let Some((_, p)) = stale.first() {
                out.push(Action::Delete(&r::PODS, ns(p), name(p)));
            }
        }
        let active: Vec<&&Value> = pods.iter().filter(|p| pod_active(p)).collect();
        let ready = active.iter().filter(|p| pod_ready(p)).count() as i64;
        let updated = active
            .iter()
            .filter(|p| p["metadata"]["labels"]["controller-revision-hash"] == revision.as_str())
            .count() as i64;
        let current_revision = if updated == active.len() as i64 {
            revision.clone()
        } else {
            s(&st["status"]["currentRevision"]).to_string()
        };
        let status = json!({
            "observedGeneration": st["metadata"]["generation"], "replicas": active.len(), "readyReplicas": ready,
            "currentReplicas": if first_sight { active.len() as i64 } else { updated }, "updatedReplicas": if first_sight { active.len() as i64 } else { updated }, "availableReplicas": ready,
            "currentRevision": if first_sight { revision.clone() } else { current_revision }, "updateRevision": revision, "collisionCount": 0,
        });
        if st["status"] != status {
            out.push(Action::Patch(
                &r::STATEFUL_SETS,
                namespace,
                name(st),
                json!({"status": status}),
            ));
        }
    }
}

/// `spec.persistentVolumeClaimRetentionPolicy` (GA in 1.32), as kubernetes/kubernetes
/// pkg/controller/statefulset/stateful_set_utils.go (isClaimOwnerUpToDate,
/// updateClaimOwnerRefForSetAndPod) and stateful_set_control.go (condemned pods' claims are
/// fixed before any of them is deleted): the claims of each pod get controller references so
/// that the garbage collector deletes them — to the pod when `whenScaled: Delete` and the
/// ordinal is condemned (>= replicas), to the StatefulSet when `whenDeleted: Delete` and the
/// ordinal is in range. `Retain` (the default) means no such reference. A claim under a
/// foreign controller, or holding a stale reference (same name, other uid), is left alone.
fn claim_retention(
    objs: &Objects,
    st: &Value,
    by_ordinal: &HashMap<i64, &Value>,
    ordinals: &std::ops::Range<i64>,
    out: &mut Vec<Action>,
) {
    let policy = &st["spec"]["persistentVolumeClaimRetentionPolicy"];
    let scaled_delete = s(&policy["whenScaled"]) == "Delete";
    let deleted_delete = s(&policy["whenDeleted"]) == "Delete";
    let set_ref = owner_ref(st, &r::STATEFUL_SETS)[0].clone();
    for (ordinal, pod) in by_ordinal {
        let condemned = !ordinals.contains(ordinal);
        let pod_ref = owner_ref(pod, &r::PODS)[0].clone();
        let mut wanted = Vec::new();
        if scaled_delete && condemned {
            wanted.push(pod_ref.clone());
        } else if deleted_delete {
            wanted.push(set_ref.clone());
        }
        for tmpl in st["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let claim = format!("{}-{}", name(tmpl), name(pod));
            let Some(pvc) = objs.get(&r::PVCS, ns(st).as_deref(), &claim) else {
                continue;
            };
            if deleting(pvc) {
                continue;
            }
            let refs: Vec<Value> = pvc["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let ours = |r: &Value| {
                (r["kind"] == "StatefulSet" && r["name"] == set_ref["name"])
                    || (r["kind"] == "Pod" && r["name"] == pod_ref["name"])
            };
            let stale = refs
                .iter()
                .any(|r| ours(r) && r["uid"] != set_ref["uid"] && r["uid"] != pod_ref["uid"]);
            let foreign_controller = refs.iter().any(|r| r["controller"] == true && !ours(r));
            if stale || foreign_controller {
                continue;
            }
            let mut next: Vec<Value> = refs.iter().filter(|r| !ours(r)).cloned().collect();
            next.extend(wanted.iter().cloned());
            let same = |a: &[Value], b: &[Value]| {
                a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| y["uid"] == x["uid"]))
            };
            if !same(&refs, &next) {
                out.push(Action::Patch(
                    &r::PVCS,
                    ns(pvc),
                    claim,
                    json!({"metadata": {"ownerReferences": next}}),
                ));
            }
        }
    }
}

/// The garbage collector, as kubernetes/kubernetes pkg/controller/garbagecollector
/// (garbagecollector.go attemptToDeleteItem, classifyReferences), in the background: an
/// object whose owners are all gone is deleted; one with some owners gone loses the dangling
/// references. An owner is gone when no object of its kind and name carries its uid. Owners
/// of kinds kube-sim does not serve stay unresolved, never gone (the real collector cannot
/// resolve them either and retries). The store already collects an owner's dependents when
/// the owner is removed; this catches references that point at an owner already gone (e.g.
/// a claim handed to a pod that had just finished terminating).
fn garbage_collect(objs: &Objects, out: &mut Vec<Action>) {
    for rt in r::ALL {
        for o in objs.list(rt, None) {
            if deleting(o) {
                continue;
            }
            let Some(refs) = o["metadata"]["ownerReferences"]
                .as_array()
                .filter(|refs| !refs.is_empty())
            else {
                continue;
            };
            let dangling = |r: &Value| {
                r::by_kind(s(&r["apiVersion"]), s(&r["kind"])).is_some_and(|owner_rt| {
                    let owner_ns = if owner_rt.namespaced { ns(o) } else { None };
                    objs.get(owner_rt, owner_ns.as_deref(), s(&r["name"]))
                        .is_none_or(|owner| uid(owner) != s(&r["uid"]))
                })
            };
            let solid: Vec<Value> = refs.iter().filter(|r| !dangling(r)).cloned().collect();
            if solid.len() == refs.len() {
                continue;
            }
            if solid.is_empty() {
                out.push(Action::DeleteUid(rt, ns(o), name(o), uid(o).to_string()));
            } else {
                out.push(Action::Patch(
                    rt,
                    ns(o),
                    name(o),
                    json!({"metadata": {"ownerReferences": solid}}),
                ));
            }
        }
    }
}

fn tolerates(pod: &Value, node: &Value) -> bool {
    let tolerations = pod["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    node["spec"]["taints"].as_array().is_none_or(|taints| {
        taints
            .iter()
            .filter(|t| t["effect"] == "NoSchedule" || t["effect"] == "NoExecute")
            .all(|t| {
                tolerations.iter().any(|tol| {
                    let key_ok = tol["key"].is_null() && tol["operator"] == "Exists"
                        || tol["key"] == t["key"];
                    let op_ok = tol["operator"] == "Exists" || tol["value"] == t["value"];
                    let effect_ok = tol["effect"].is_null()
                        || tol["effect"] == ""
                        || tol["effect"] == t["effect"];
                    key_ok && op_ok && effect_ok
                })
            })
    })
}

fn selector_matches(pod: &Value, node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    let selector_ok = pod["spec"]["nodeSelector"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| labels[k] == *v));
    let terms = &pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    // Node affinity terms use the same operators as label selectors (Gt/Lt never match here).
    let affinity_ok = terms.as_array().is_none_or(|terms| {
        terms.iter().any(|term| {
            LabelSelector::from_object(&json!({"matchExpressions": term["matchExpressions"]}))
                .is_some_and(|sel| sel.matches(labels))
        })
    });
    selector_ok && affinity_ok
}

fn node_ready(node: &Value) -> bool {
    node["status"]["conditions"].as_array().is_none_or(|cs| {
        cs.iter()
            .find(|c| c["type"] == "Ready")
            .is_none_or(|c| c["status"] == "True")
    })
}

fn allocatable(node: &Value, resource: &str) -> f64 {
    node["status"]["allocatable"][resource]
        .as_str()
        .and_then(quantity::parse)
        .or_else(|| node["status"]["allocatable"][resource].as_f64())
        .unwrap_or(if resource == "pods" { 110.0 } else { f64::MAX })
}

fn schedule(objs: &Objects, idx: &Index<'_>, now: Timestamp, out: &mut Vec<Action>) {
    let nodes: Vec<&Value> = objs.list(&r::NODES, None).collect();
    // Usage per node, updated as this tick binds pods.
    let mut used: HashMap<String, (f64, f64, f64)> = HashMap::new();
    for n in &nodes {
        let pods = idx
            .pods_by_node
            .get(name(n).as_str())
            .cloned()
            .unwrap_or_default();
        let active: Vec<&&Value> = pods
            .iter()
            .filter(|p| !matches!(s(&p["status"]["phase"]), "Succeeded" | "Failed"))
            .collect();
        let cpu: f64 = active
            .iter()
            .map(|p| pod_resource(p, "requests", "cpu"))
            .sum();
        let mem: f64 = active
            .iter()
            .map(|p| pod_resource(p, "requests", "memory"))
            .sum();
        used.insert(name(n), (cpu, mem, active.len() as f64));
    }
    let stamp = format_rfc3339(now);
    for pod in objs.list(&r::PODS, None) {
        if pod["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
            || deleting(pod)
            || s(&pod["status"]["phase"]) != "Pending" && !pod["status"]["phase"].is_null()
        {
            continue;
        }
        if pod["spec"]["schedulingGates"]
            .as_array()
            .is_some_and(|g| !g.is_empty())
        {
            continue;
        }
        let namespace = ns(pod).unwrap_or_default();
        let mut claim_problem = None;
        for v in pod["spec"]["volumes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            if let Some(claim) = v["persistentVolumeClaim"]["claimName"].as_str() {
                match objs.get(&r::PVCS, Some(&namespace), claim) {
                    None => {
                        claim_problem = Some(format!("persistentvolumeclaim \"{claim}\" not found"))
                    }
                    Some(pvc) if deleting(pvc) => {
                        claim_problem = Some(format!(
                            "persistentvolumeclaim \"{claim}\" is being deleted"
                        ))
                    }
                    Some(pvc) => {
                        if let Some(problem) = unbindable_claim(objs, pvc, nodes.len()) {
                            claim_problem = Some(problem);
                        }
                    }
                }
            }
        }
        let cpu = pod_resource(pod, "requests", "cpu");
        let mem = pod_resource(pod, "requests", "memory");
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let mut best: Option<(&Value, f64)> = None;
        if claim_problem.is_none() {
            for n in &nodes {
                let (ucpu, umem, upods) = used[&name(n)];
                let reason = if !node_ready(n) {
                    Some("node(s) were not ready".to_string())
                } else if n["spec"]["unschedulable"] == true {
                    Some("node(s) were unschedulable".to_string())
                } else if !tolerates(pod, n) {
                    let taint = n["spec"]["taints"][0].clone();
                    Some(format!(
                        "node(s) had untolerated taint {{{}: {}}}",
                        s(&taint["key"]),
                        s(&taint["value"])
                    ))
                } else if !selector_matches(pod, n) {
                    Some("node(s) didn't match Pod's node affinity/selector".to_string())
                } else if ucpu + cpu > allocatable(n, "cpu") + 1e-9 {
                    Some("Insufficient cpu".to_string())
                } else if umem + mem > allocatable(n, "memory") {
                    Some("Insufficient memory".to_string())
                } else if upods + 1.0 > allocatable(n, "pods") {
                    Some("Too many pods".to_string())
                } else {
                    None
                };
                match reason {
                    Some(r) => *reasons.entry(r).or_default() += 1,
                    None => {
                        if best.is_none_or(|(_, load)| upods < load) {
                            best = Some((n, upods));
                        }
                    }
                }
            }
        }
        match best {
            Some((node, _)) => {
                let node_name = name(node);
                if let Some(u) = used.get_mut(&node_name) {
                    u.0 += cpu;
                    u.1 += mem;
                    u.2 += 1.0;
                }
                out.push(Action::Patch(&r::PODS, ns(pod), name(pod), json!({"spec": {"nodeName": node_name}, "status": {"phase": "Pending", "conditions": [condition("PodScheduled", true, "", "", &stamp)]}})));
                out.push(Action::Event {
                    involved: involved(pod, &r::PODS),
                    reason: "Scheduled".into(),
                    message: format!(
                        "Successfully assigned {namespace}/{} to {node_name}",
                        name(pod)
                    ),
                    warning: false,
                });
            }
            None => {
                let message = match &claim_problem {
                    Some(p) => p.clone(),
                    None => {
                        let parts: Vec<String> =
                            reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
                        format!(
                            "0/{} nodes are available: {}. preemption: 0/{} nodes are available: {} Preemption is not helpful for scheduling.",
                            nodes.len(),
                            parts.join(", "),
                            nodes.len(),
                            nodes.len()
                        )
                    }
                };
                let current = pod["status"]["conditions"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["type"] == "PodScheduled"))
                    .map(|c| s(&c["message"]).to_string());
                if current.as_deref() != Some(message.as_str()) {
                    out.push(Action::Patch(&r::PODS, ns(pod), name(pod), json!({"status": {"phase": "Pending", "conditions": [condition("PodScheduled", false, "Unschedulable", &message, &stamp)]}})));
                    out.push(Action::Event {
                        involved: involved(pod, &r::PODS),
                        reason: "FailedScheduling".into(),
                        message,
                        warning: true,
                    });
                }
            }
        }
    }
}

fn daemon_sets(objs: &Objects, idx: &Index<'_>, out: &mut Vec<Action>) {
    let nodes: Vec<&Value> = objs.list(&r::NODES, None).collect();
    for ds in objs.list(&r::DAEMON_SETS, None) {
        if deleting(ds) {
            continue;
        }
        let pods = idx.pods_by_owner.get(uid(ds)).cloned().unwrap_or_default();
        let template = &ds["spec"]["template"];
        let probe = json!({"spec": template["spec"]});
        let eligible: Vec<&&Value> = nodes
            .iter()
            .filter(|n| selector_matches(&probe, n) && tolerates(&probe, n))
            .collect();
        for n in &eligible {
            let node_name = name(n);
            if !pods
                .iter()
                .any(|p| p["spec"]["nodeName"] == node_name.as_str() && !deleting(p))
            {
                let mut pod = new_pod(
                    ds,
                    &r::DAEMON_SETS,
                    template,
                    &crate::validation::generate_name(&format!("{}-", name(ds)), &random_suffix(5)),
                );
                pod["spec"]["nodeName"] = json!(node_name);
                out.push(Action::Create(&r::PODS, ns(ds), pod));
            }
        }
        for p in &pods {
            let on = s(&p["spec"]["nodeName"]);
            if !deleting(p) && !eligible.iter().any(|n| name(n) == on) {
                out.push(Action::Delete(&r::PODS, ns(p), name(p)));
            }
        }
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        let status = json!({"desiredNumberScheduled": eligible.len(), "currentNumberScheduled": pods.len(), "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": pods.len(), "numberMisscheduled": 0, "observedGeneration": ds["metadata"]["generation"]});
        if ds["status"] != status {
            out.push(Action::Patch(
                &r::DAEMON_SETS,
                ns(ds),
                name(ds),
                json!({"status": status}),
            ));
        }
    }
}

/// The resource a `scaleTargetRef` kind names, for the kinds the sim scales.
fn scale_target(kind: &str) -> Option<&'static ResourceType> {
    match kind {
        "Deployment" => Some(&r::DEPLOYMENTS),
        "StatefulSet" => Some(&r::STATEFUL_SETS),
        "ReplicaSet" => Some(&r::REPLICA_SETS),
        _ => None,
    }
}

/// What the HPA wants for a target at `current` replicas: `(desired, scaling disabled)`.
/// Without metrics the sim's recommendation is the current count, kept within
/// `[minReplicas, maxReplicas]`. A target scaled to 0 (with `minReplicas` not 0) is left alone,
/// as the real controller does (ScalingActive=False, ScalingDisabled). `selectPolicy: Disabled`
/// only stops metric-driven changes, which the sim has none of: like upstream, an out-of-range
/// count is still brought into range (kubernetes/kubernetes#110034).
fn hpa_desired(hpa: &Value, current: i64) -> (i64, bool) {
    let min = hpa["spec"]["minReplicas"].as_i64().unwrap_or(1);
    let max = hpa["spec"]["maxReplicas"].as_i64().unwrap_or(min);
    if current == 0 && min != 0 {
        return (0, true);
    }
    (current.clamp(min, max.max(min)), false)
}

fn hpas(objs: &Objects, now: Timestamp, out: &mut Vec<Action>) {
    let stamp = format_rfc3339(now);
    for hpa in objs.list(&r::HPAS, None) {
        let target = &hpa["spec"]["scaleTargetRef"];
        let Some(rt) = scale_target(s(&target["kind"])) else {
            continue;
        };
        let Some(obj) = objs.get(rt, ns(hpa).as_deref(), s(&target["name"])) else {
            continue;
        };
        let current = replicas(obj);
        let (desired, scaling_disabled) = hpa_desired(hpa, current);
        if desired != current {
            out.push(Action::Patch(
                rt,
                ns(obj),
                name(obj),
                json!({"spec": {"replicas": desired}}),
            ));
        }
        let mut status = json!({"currentReplicas": current, "desiredReplicas": desired});
        // ScalingActive says whether scaling is disabled by a target at 0; other conditions
        // (none by default) are kept.
        let mut conditions: Vec<Value> = hpa["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let active = conditions.iter().find(|c| c["type"] == "ScalingActive");
        let was_disabled = active.is_some_and(|c| c["reason"] == "ScalingDisabled");
        if scaling_disabled && !was_disabled {
            conditions.retain(|c| c["type"] != "ScalingActive");
            conditions.push(json!({"type": "ScalingActive", "status": "False", "reason": "ScalingDisabled",
                "message": "scaling is disabled since the replica count of the target is zero", "lastTransitionTime": stamp}));
            status["conditions"] = json!(conditions);
        } else if !scaling_disabled && was_disabled {
            conditions.retain(|c| c["type"] != "ScalingActive");
            conditions.push(json!({"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                "message": "the HPA was able to successfully calculate a replica count", "lastTransitionTime": stamp}));
            status["conditions"] = json!(conditions);
        }
        if hpa["status"]["currentReplicas"] != status["currentReplicas"]
            || hpa["status"]["desiredReplicas"] != status["desiredReplicas"]
            || !status["conditions"].is_null()
        {
            out.push(Action::Patch(
                &r::HPAS,
                ns(hpa),
                name(hpa),
                json!({"status": status}),
            ));
        }
    }
}

const KEDA_PAUSED: &str = "autoscaling.keda.sh/paused";
const KEDA_PAUSED_REPLICAS: &str = "autoscaling.keda.sh/paused-replicas";

/// KEDA's ScaledObjects, without triggers. As kedacore/keda controllers/keda/hpa.go, every
/// reconcile makes the HPA `keda-hpa-<name>` (owned by the ScaledObject, controller: true)
/// match what KEDA derives — minReplicas from `minReplicaCount` (1 when 0: an HPA cannot go
/// to 0, KEDA's scale executor does), maxReplicas from `maxReplicaCount` (100) — so an edit
/// of that HPA lasts one reconcile. KEDA also scales the target itself: within
/// `[minReplicaCount, maxReplicaCount]`, and from 0 back up (an HPA would not).
/// `autoscaling.keda.sh/paused: "true"` leaves the target alone and
/// `autoscaling.keda.sh/paused-replicas: "N"` holds it at N; paused, KEDA removes its HPA
/// (controllers/keda/scaledobject_controller.go), so nothing fights the paused count.
fn scaled_objects(objs: &Objects, out: &mut Vec<Action>) {
    for so in objs.list(&r::SCALED_OBJECTS, None) {
        if deleting(so) {
            continue;
        }
        let target = &so["spec"]["scaleTargetRef"];
        let kind = target["kind"].as_str().unwrap_or("Deployment");
        let annotations = &so["metadata"]["annotations"];
        let paused =
            !annotations[KEDA_PAUSED_REPLICAS].is_null() || annotations[KEDA_PAUSED] == "true";
        keda_hpa(objs, so, kind, paused, out);
        let Some(rt) = scale_target(kind) else {
            continue;
        };
        let Some(obj) = objs.get(rt, ns(so).as_deref(), s(&target["name"])) else {
            continue;
        };
        let current = replicas(obj);
        let desired = if let Some(paused) = annotations[KEDA_PAUSED_REPLICAS].as_str() {
            match paused.trim().parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => continue,
            }
        } else if annotations[KEDA_PAUSED] == "true" {
            continue;
        } else {
            let (min, max) = keda_range(so);
            current.clamp(min, max.max(min))
        };
        if desired != current {
            out.push(Action::Patch(
                rt,
                ns(obj),
                name(obj),
                json!({"spec": {"replicas": desired}}),
            ));
        }
    }
}

/// `(minReplicaCount, maxReplicaCount)` with KEDA's defaults (0, 100).
fn keda_range(so: &Value) -> (i64, i64) {
    (
        so["spec"]["minReplicaCount"].as_i64().unwrap_or(0),
        so["spec"]["maxReplicaCount"].as_i64().unwrap_or(100),
    )
}

/// Creates, resets or (paused) removes the HPA a ScaledObject owns.
fn keda_hpa(objs: &Objects, so: &Value, kind: &str, paused: bool, out: &mut Vec<Action>) {
    let namespace = ns(so);
    let hpa_name = format!("keda-hpa-{}", name(so));
    let existing = objs.get(&r::HPAS, namespace.as_deref(), &hpa_name);
    if paused {
        if existing.is_some_and(|h| !deleting(h)) {
            out.push(Action::Delete(&r::HPAS, namespace, hpa_name));
        }
        return;
    }
    let (min, max) = keda_range(so);
    let min = min.max(1);
    let target = &so["spec"]["scaleTargetRef"];
    let spec = json!({
        "scaleTargetRef": {"apiVersion": target["apiVersion"].as_str().unwrap_or("apps/v1"), "kind": kind, "name": target["name"]},
        "minReplicas": min,
        "maxReplicas": max.max(min),
        "metrics": [{"type": "External", "external": {"metric": {"name": format!("s0-{}", s(&so["spec"]["triggers"][0]["type"]))}, "target": {"type": "AverageValue", "averageValue": "1"}}}],
    });
    match existing {
        None => out.push(Action::Create(
            &r::HPAS,
            namespace.clone(),
            json!({
                "metadata": {"name": hpa_name, "namespace": namespace,
                    "labels": {"app.kubernetes.io/managed-by": "keda-operator", "app.kubernetes.io/name": hpa_name, "scaledobject.keda.sh/name": name(so)},
                    "ownerReferences": owner_ref(so, &r::SCALED_OBJECTS)},
                "spec": spec,
            }),
        )),
        Some(hpa) if !deleting(hpa) && hpa["spec"] != spec => {
            // The whole spec back to KEDA's (a merge patch of the full spec: fields others
            // added, e.g. behavior, are dropped as KEDA's Update drops them).
            let mut patch = json!({"spec": spec});
            if let Some(extra) = hpa["spec"].as_object() {
                for key in extra.keys() {
                    if spec.get(key).is_none() {
                        patch["spec"][key] = Value::Null;
                    }
                }
            }
            out.push(Action::Patch(&r::HPAS, namespace, hpa_name, patch));
        }
        Some(_) => {}
    }
}

fn node_ip(objs: &Objects, node: &str) -> String {
    objs.get(&r::NODES, None, node)
        .and_then(|n| {
            n["status"]["addresses"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["type"] == "InternalIP"))
                .and_then(|x| x["address"].as_str().map(String::from))
        })
        .unwrap_or_else(|| "10.0.0.1".to_string())
}

fn pod_ip(pod: &Value) -> String {
    let h = template_hash(&pod["metadata"]["uid"]);
    let b = h.as_bytes();
    format!("10.{}.{}.{}", 100 + b[0] % 50, b[1] % 250, 2 + b[2] % 250)
}

/// A node whose kubelet the test stopped (`sim.kube-sim.dev/kubelet: stopped`, e.g. with
/// `kubectl annotate node`): a dead or unreachable machine.
fn kubelet_stopped(node: &Value) -> bool {
    ann(node, "kubelet") == Some("stopped")
}

const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";

/// The node lifecycle controller, as pkg/controller/nodelifecycle/node_lifecycle_controller.go:
/// a node whose kubelet stopped posting status gets every condition Unknown
/// (NodeStatusUnknown, "Kubelet stopped posting node status."), the
/// `node.kubernetes.io/unreachable:NoSchedule` taint, and its pods marked not Ready
/// (MarkPodsNotReady in pkg/controller/util/node). A kubelet back sets Ready again.
fn node_lifecycle(objs: &Objects, now: Timestamp, out: &mut Vec<Action>) {
    let stamp = format_rfc3339(now);
    for node in objs.list(&r::NODES, None) {
        let stopped = kubelet_stopped(node);
        let conditions: Vec<Value> = node["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ready = conditions.iter().find(|c| c["type"] == "Ready");
        let unknown = ready.is_some_and(|c| c["status"] == "Unknown");
        let taints: Vec<Value> = node["spec"]["taints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let tainted = taints.iter().any(|t| t["key"] == UNREACHABLE_TAINT);
        if stopped {
            if !unknown || !tainted {
                let mut conditions = conditions.clone();
                if !conditions.iter().any(|c| c["type"] == "Ready") {
                    conditions.push(json!({"type": "Ready"}));
                }
                for c in conditions.iter_mut() {
                    c["status"] = json!("Unknown");
                    c["reason"] = json!("NodeStatusUnknown");
                    c["message"] = json!("Kubelet stopped posting node status.");
                    c["lastTransitionTime"] = json!(stamp);
                }
                let mut taints = taints.clone();
                if !tainted {
                    taints.push(json!({"key": UNREACHABLE_TAINT, "effect": "NoSchedule", "timeAdded": stamp}));
                }
                out.push(Action::Patch(
                    &r::NODES,
                    None,
                    name(node),
                    json!({"spec": {"taints": taints}, "status": {"conditions": conditions}}),
                ));
            }
            let node_name = name(node);
            for pod in objs.list(&r::PODS, None) {
                if pod["spec"]["nodeName"].as_str() != Some(node_name.as_str()) {
                    continue;
                }
                let mut pod_conditions: Vec<Value> = pod["status"]["conditions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let mut changed = false;
                for c in pod_conditions
                    .iter_mut()
                    .filter(|c| c["type"] == "Ready" && c["status"] == "True")
                {
                    c["status"] = json!("False");
                    c["lastTransitionTime"] = json!(stamp);
                    changed = true;
                }
                if changed {
                    out.push(Action::Patch(
                        &r::PODS,
                        ns(pod),
                        name(pod),
                        json!({"status": {"conditions": pod_conditions}}),
                    ));
                }
            }
        } else if unknown && ready.is_some_and(|c| c["reason"] == "NodeStatusUnknown") {
            // The kubelet posts its status again (a node scenario-made NotReady stays so).
            let conditions: Vec<Value> = conditions
                .iter()
                .map(|c| {
                    let t = s(&c["type"]);
                    // What pkg/kubelet/nodestatus/setters.go posts.
                    let (status, reason, message) = match t {
                        "Ready" => ("True", "KubeletReady", "kubelet is posting ready status"),
                        "MemoryPressure" => (
                            "False",
                            "KubeletHasSufficientMemory",
                            "kubelet has sufficient memory available",
                        ),
                        "DiskPressure" => (
                            "False",
                            "KubeletHasNoDiskPressure",
                            "kubelet has no disk pressure",
                        ),
                        "PIDPressure" => (
                            "False",
                            "KubeletHasSufficientPID",
                            "kubelet has sufficient PID available",
                        ),
                        _ => ("False", "", ""),
                    };
                    json!({"type": t, "status": status, "reason": reason, "message": message,
                           "lastHeartbeatTime": stamp, "lastTransitionTime": stamp})
                })
                .collect();
            let taints: Vec<Value> = taints
                .into_iter()
                .filter(|t| t["key"] != UNREACHABLE_TAINT)
                .collect();
            out.push(Action::Patch(
                &r::NODES,
                None,
                name(node),
                json!({"spec": {"taints": if taints.is_empty() { Value::Null } else { json!(taints) }}, "status": {"conditions": conditions}}),
            ));
        }
    }
}

fn kubelet(objs: &Objects, now: Timestamp, out: &mut Vec<Action>) {
    let stamp = format_rfc3339(now);
    let stopped: HashSet<String> = objs
        .list(&r::NODES, None)
        .filter(|n| kubelet_stopped(n))
        .map(name)
        .collect();
    for pod in objs.list(&r::PODS, None) {
        let Some(node) = pod["spec"]["nodeName"].as_str().filter(|n| !n.is_empty()) else {
            continue;
        };
        // No kubelet: nothing starts, nothing gets Ready, a deleted pod never finishes
        // terminating (its deletionTimestamp stays), as on a dead machine.
        if stopped.contains(node) {
            continue;
        }
        let phase = s(&pod["status"]["phase"]);
        if deleting(pod) {
            let grace = pod["metadata"]["deletionGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(0) as f64;
            let deadline = ts(&pod["metadata"]["deletionTimestamp"]).unwrap_or(now);
            let started = deadline - SignedDuration::from_secs_f64(grace);
            // As pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer: SIGTERM, then
            // SIGKILL when the grace period (the pod's terminationGracePeriodSeconds unless the
            // delete gave one) runs out; a process that exits on SIGTERM (after
            // `terminate-seconds`, default 1 s) ends the pod earlier.
            let stop_after = ann_secs(pod, "terminate-seconds", 1.0).min(grace);
            if secs_since(started, now) >= stop_after || phase == "Succeeded" || phase == "Failed" {
                out.push(Action::Remove(&r::PODS, ns(pod), name(pod)));
            } else if pod_ready(pod)
                || pod["status"]["conditions"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            {
                out.push(Action::Patch(
                    &r::PODS,
                    ns(pod),
                    name(pod),
                    json!({"status": {"conditions": ready_conditions(pod, false, &stamp)}}),
                ));
                out.push(Action::Event {
                    involved: involved(pod, &r::PODS),
                    reason: "Killing".into(),
                    message: "Stopping container".into(),
                    warning: false,
                });
            }
            continue;
        }
        if phase == "Succeeded" || phase == "Failed" {
            continue;
        }
        let containers: Vec<Value> = pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if pod["status"]["containerStatuses"].is_null() || phase == "Pending" {
            // Image pull time (`sim.kube-sim.dev/image-pull-seconds`, simulated seconds): as a
            // real kubelet (pkg/kubelet/kubelet.go SyncPod, images/image_manager.go), the pod is
            // acknowledged (status.startTime) and stays Pending, its containers waiting in
            // ContainerCreating, until the pull is done.
            let pull = ann_secs(pod, "image-pull-seconds", 0.0);
            let acknowledged = ts(&pod["status"]["startTime"]);
            if pull > 0.0 {
                match acknowledged {
                    None => {
                        let waiting: Vec<Value> = containers
                            .iter()
                            .map(|c| json!({"name": c["name"], "ready": false, "started": false, "restartCount": 0, "image": c["image"], "imageID": "", "state": {"waiting": {"reason": "ContainerCreating"}}}))
                            .collect();
                        out.push(Action::Patch(
                            &r::PODS,
                            ns(pod),
                            name(pod),
                            json!({"status": {"phase": "Pending", "hostIP": node_ip(objs, node), "startTime": stamp, "containerStatuses": waiting,
                                   "conditions": [condition("PodReadyToStartContainers", false, "", "", &stamp), condition("Initialized", true, "", "", &stamp), condition("Ready", false, "ContainersNotReady", "containers with unready status", &stamp), condition("ContainersReady", false, "ContainersNotReady", "containers with unready status", &stamp), condition("PodScheduled", true, "", "", &stamp)]}}),
                        ));
                        for c in &containers {
                            out.push(Action::Event {
                                involved: involved(pod, &r::PODS),
                                reason: "Pulling".into(),
                                message: format!("Pulling image \"{}\"", s(&c["image"])),
                                warning: false,
                            });
                        }
                        continue;
                    }
                    Some(since) if secs_since(since, now) < pull => continue,
                    Some(_) => {
                        for c in &containers {
                            out.push(Action::Event {
                                involved: involved(pod, &r::PODS),
                                reason: "Pulled".into(),
                                message: format!(
                                    "Successfully pulled image \"{}\" in {pull}s",
                                    s(&c["image"])
                                ),
                                warning: false,
                            });
                        }
                    }
                }
            }
            let start_time = acknowledged.map_or(stamp.clone(), format_rfc3339);
            let statuses: Vec<Value> = containers
                .iter()
                .map(|c| {
                    let cname = s(&c["name"]);
                    json!({"name": cname, "ready": false, "started": true, "restartCount": 0, "image": c["image"], "imageID": format!("docker.io/{}@sha256:{}", s(&c["image"]), template_hash(&c["image"])),
                           "containerID": format!("containerd://{}", template_hash(&json!([uid(pod), cname]))), "state": {"running": {"startedAt": stamp}}})
                })
                .collect();
            let status = json!({
                "phase": "Running", "hostIP": node_ip(objs, node), "podIP": pod_ip(pod), "podIPs": [{"ip": pod_ip(pod)}], "startTime": start_time,
                "containerStatuses": statuses, "qosClass": pod["status"]["qosClass"].as_str().unwrap_or("Burstable"),
                "conditions": [condition("PodReadyToStartContainers", true, "", "", &stamp), condition("Initialized", true, "", "", &stamp), condition("Ready", false, "ContainersNotReady", "containers with unready status", &stamp), condition("ContainersReady", false, "ContainersNotReady", "containers with unready status", &stamp), condition("PodScheduled", true, "", "", &stamp)],
            });
            out.push(Action::Patch(
                &r::PODS,
                ns(pod),
                name(pod),
                json!({"status": status}),
            ));
            for c in &containers {
                out.push(Action::Event {
                    involved: involved(pod, &r::PODS),
                    reason: "Started".into(),
                    message: format!("Started container {}", s(&c["name"])),
                    warning: false,
                });
            }
            continue;
        }
        // Running: crash loops, exits, readiness.
        let crash = crash_looping(objs, pod);
        let mut statuses: Vec<Value> = pod["status"]["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut changed = false;
        let mut all_ready = true;
        let mut exited: Option<i64> = None;
        for cs in statuses.iter_mut() {
            let cname = s(&cs["name"]).to_string();
            let started = ts(&cs["state"]["running"]["startedAt"])
                .or_else(|| ts(&cs["lastState"]["terminated"]["finishedAt"]))
                .unwrap_or(now);
            if crash.contains(&cname) {
                let restarts = cs["restartCount"].as_i64().unwrap_or(0);
                let backoff = (10.0 * 2f64.powi(restarts.min(5) as i32)).min(300.0);
                let last_finish = ts(&cs["lastState"]["terminated"]["finishedAt"]);
                let due = cs["state"]["waiting"].is_null()
                    || last_finish.is_none_or(|f| secs_since(f, now) >= backoff);
                if due {
                    let next = (10.0 * 2f64.powi((restarts + 1).min(5) as i32)).min(300.0);
                    cs["restartCount"] = json!(restarts + 1);
                    // How the attempt ended: `crash-reason` (default Error, exit code 1); an
                    // OOMKilled container was SIGKILLed by the kernel, so its code is 128 + 9, as
                    // the kubelet reports it (pkg/kubelet/kuberuntime/kuberuntime_container.go
                    // toKubeContainerStatus: the runtime's reason and exit code).
                    let reason = ann(pod, "crash-reason").unwrap_or("Error");
                    let code = if reason == "OOMKilled" { 137 } else { 1 };
                    cs["lastState"] = json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": format_rfc3339(started), "finishedAt": stamp}});
                    cs["state"] = json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {}s restarting failed container={cname} pod={}_{}({})", next as i64, name(pod), ns(pod).unwrap_or_default(), uid(pod))}});
                    cs["ready"] = json!(false);
                    cs["started"] = json!(false);
                    changed = true;
                }
                all_ready = false;
                continue;
            }
            if cs["state"]["running"].is_null() {
                all_ready = false;
                continue;
            }
            if let Some(after) = ann(pod, "exit-after-seconds").and_then(|v| v.parse::<f64>().ok())
                && secs_since(started, now) >= after
            {
                let code = ann(pod, "exit-code")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                cs["state"] = json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" }, "startedAt": format_rfc3339(started), "finishedAt": stamp}});
                cs["ready"] = json!(false);
                exited = Some(exited.unwrap_or(0).max(code));
                changed = true;
                continue;
            }
            if cs["ready"] != true {
                let spec = containers.iter().find(|c| c["name"] == cname.as_str());
                if secs_since(started, now) >= ready_after(pod, spec) {
                    cs["ready"] = json!(true);
                    changed = true;
                } else {
                    all_ready = false;
                }
            }
        }
        if !changed {
            continue;
        }
        let mut status = json!({"containerStatuses": statuses});
        if let Some(code) = exited
            && statuses.iter().all(|c| !c["state"]["terminated"].is_null())
        {
            status["phase"] = json!(if code == 0 { "Succeeded" } else { "Failed" });
            all_ready = false;
        }
        status["conditions"] = ready_conditions(pod, all_ready, &stamp);
        out.push(Action::Patch(
            &r::PODS,
            ns(pod),
            name(pod),
            json!({"status": status}),
        ));
        if let Some(crashed) = statuses
            .iter()
            .map(|c| s(&c["name"]))
            .find(|c| crash.iter().any(|x| x == c))
        {
            out.push(Action::Event {
                involved: involved(pod, &r::PODS),
                reason: "BackOff".into(),
                message: format!("Back-off restarting failed container {crashed}"),
                warning: true,
            });
        }
    }
}

/// Simulated seconds from a container's start to Ready. With a readinessProbe, as
/// kubernetes/kubernetes pkg/kubelet/prober/worker.go: the first probe runs as the container
/// starts and then every `periodSeconds` (default 10); results before `initialDelaySeconds`
/// do not count, so the first counted (succeeding) probe is the first period tick at or after
/// the delay. Without one, the sim's `ready-after-seconds` annotation (default 2 s: its
/// stand-in for a process starting), which also overrides a probe when set.
pub(crate) fn ready_after(pod: &Value, container: Option<&Value>) -> f64 {
    let probe = container
        .map(|c| &c["readinessProbe"])
        .filter(|p| p.is_object());
    match probe {
        Some(probe) if ann(pod, "ready-after-seconds").is_none() => {
            let delay = probe["initialDelaySeconds"]
                .as_f64()
                .unwrap_or(0.0)
                .max(0.0);
            let period = probe["periodSeconds"]
                .as_f64()
                .filter(|p| *p >= 1.0)
                .unwrap_or(10.0);
            (delay / period).ceil() * period
        }
        _ => ann_secs(pod, "ready-after-seconds", 2.0),
    }
}

/// Splits a `crash-loop` annotation (a comma list of container names).
fn crash_list(o: &Value) -> impl Iterator<Item = String> + '_ {
    ann(o, "crash-loop")
        .into_iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
}

/// The containers of a pod that crash-loop: those in its own `crash-loop` annotation, and
/// those in the `crash-loop` annotation of a PersistentVolume bound to a claim it mounts (a
/// full or corrupt disk: a fresh claim gets a fresh volume, without the annotation).
fn crash_looping(objs: &Objects, pod: &Value) -> Vec<String> {
    let mut crash: Vec<String> = crash_list(pod).collect();
    let Some(volumes) = pod["spec"]["volumes"].as_array() else {
        return crash;
    };
    let namespace = ns(pod);
    for claim in volumes
        .iter()
        .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
    {
        let Some(pv) = objs
            .get(&r::PVCS, namespace.as_deref(), claim)
            .and_then(|pvc| pvc["spec"]["volumeName"].as_str())
            .filter(|v| !v.is_empty())
            .and_then(|v| objs.get(&r::PVS, None, v))
        else {
            continue;
        };
        crash.extend(crash_list(pv));
    }
    crash
}

fn ready_conditions(pod: &Value, ready: bool, stamp: &str) -> Value {
    let mut conds: Vec<Value> = pod["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for t in ["Ready", "ContainersReady"] {
        let fresh = if ready {
            condition(t, true, "", "", stamp)
        } else {
            condition(
                t,
                false,
                "ContainersNotReady",
                "containers with unready status",
                stamp,
            )
        };
        match conds.iter_mut().find(|c| c["type"] == t) {
            Some(c) => {
                if c["status"] != fresh["status"] {
                    *c = fresh;
                }
            }
            None => conds.push(fresh),
        }
    }
    json!(conds)
}

fn default_storage_class(objs: &Objects) -> Option<&Value> {
    objs.list(&r::STORAGE_CLASSES, None).find(|sc| {
        s(&sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]) == "true"
    })
}

/// The provisioner of classes whose volumes an administrator makes by hand (local volumes).
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// A claim's class: its `storageClassName` ("" asks for no class), else the default class
/// (the DefaultStorageClass admission plugin and, since 1.28, its retroactive assignment).
fn claim_class(objs: &Objects, pvc: &Value) -> String {
    match pvc["spec"]["storageClassName"].as_str() {
        Some(class) => class.to_string(),
        None => default_storage_class(objs).map(name).unwrap_or_default(),
    }
}

/// The volume a claim binds to, as pkg/controller/volume/persistentvolume/index.go
/// findBestMatchForClaim (volume/util FindMatchingVolume): one pre-bound to this claim, else
/// the smallest Available volume of the claim's class that has every requested access mode,
/// the volume mode, enough capacity and the labels of the claim's selector.
fn matching_volume<'a>(objs: &'a Objects, pvc: &Value, class: &str) -> Option<&'a Value> {
    let wanted = pvc["spec"]["resources"]["requests"]["storage"]
        .as_str()
        .and_then(quantity::parse)
        .unwrap_or(0.0);
    let modes: Vec<&str> = pvc["spec"]["accessModes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mode = |o: &Value| s(&o["spec"]["volumeMode"]).to_string();
    let selector = (!pvc["spec"]["selector"].is_null())
        .then(|| LabelSelector::from_object(&pvc["spec"]["selector"]))
        .flatten();
    let named = s(&pvc["spec"]["volumeName"]);
    let mut best: Option<(&Value, f64)> = None;
    for pv in objs.list(&r::PVS, None) {
        if deleting(pv) || (!named.is_empty() && name(pv) != named) {
            continue;
        }
        let claim = &pv["spec"]["claimRef"];
        let for_this = !claim.is_null()
            && claim["name"] == pvc["metadata"]["name"]
            && claim["namespace"] == pvc["metadata"]["namespace"]
            && (s(&claim["uid"]).is_empty() || s(&claim["uid"]) == uid(pvc));
        if !claim.is_null() && !for_this {
            continue;
        }
        if claim.is_null() && !matches!(s(&pv["status"]["phase"]), "" | "Pending" | "Available") {
            continue;
        }
        let capacity = pv["spec"]["capacity"]["storage"]
            .as_str()
            .and_then(quantity::parse)
            .unwrap_or(0.0);
        let has_modes = modes.iter().all(|m| {
            pv["spec"]["accessModes"]
                .as_array()
                .is_some_and(|have| have.iter().any(|h| h == m))
        });
        let fits = s(&pv["spec"]["storageClassName"]) == class
            && has_modes
            && mode(pv).replace("Filesystem", "") == mode(pvc).replace("Filesystem", "")
            && capacity + 1e-9 >= wanted
            && selector.as_ref().is_none_or(|sel| sel.matches_object(pv));
        if !fits {
            continue;
        }
        if for_this || !named.is_empty() {
            return Some(pv);
        }
        if best.is_none_or(|(_, c)| capacity < c) {
            best = Some((pv, capacity));
        }
    }
    best.map(|(pv, _)| pv)
}

/// Binds a claim and a volume both ways (pv_controller.go bind: bindVolumeToClaim, then
/// bindClaimToVolume), with the annotations the controller leaves.
fn bind(pvc: &Value, pv: &Value, out: &mut Vec<Action>) {
    let by_controller = pv["spec"]["claimRef"].is_null();
    let mut pv_patch = json!({
        "spec": {"claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": pvc["metadata"]["namespace"], "name": name(pvc), "uid": uid(pvc)}},
        "status": {"phase": "Bound"},
    });
    if by_controller {
        pv_patch["metadata"] =
            json!({"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}});
    }
    out.push(Action::Patch(&r::PVS, None, name(pv), pv_patch));
    let mut annotations = json!({"pv.kubernetes.io/bind-completed": "yes"});
    if s(&pvc["spec"]["volumeName"]).is_empty() {
        annotations["pv.kubernetes.io/bound-by-controller"] = json!("yes");
    }
    out.push(Action::Patch(
        &r::PVCS,
        ns(pvc),
        name(pvc),
        json!({"metadata": {"annotations": annotations}, "spec": {"volumeName": name(pv)},
               "status": {"phase": "Bound", "capacity": pv["spec"]["capacity"], "accessModes": pv["spec"]["accessModes"]}}),
    ));
}

/// Leaves a claim Pending with the event that says why, once (the real controller repeats
/// it on every resync; one event is what `kubectl describe` needs).
fn claim_pending(
    objs: &Objects,
    pvc: &Value,
    why: Option<(&str, String, bool)>,
    out: &mut Vec<Action>,
) {
    if s(&pvc["status"]["phase"]) != "Pending" {
        out.push(Action::Patch(
            &r::PVCS,
            ns(pvc),
            name(pvc),
            json!({"status": {"phase": "Pending"}}),
        ));
    }
    let Some((reason, message, warning)) = why else {
        return;
    };
    let said = objs
        .list(&r::EVENTS, ns(pvc).as_deref())
        .any(|e| e["involvedObject"]["uid"] == pvc["metadata"]["uid"] && e["reason"] == reason);
    if !said {
        out.push(Action::Event {
            involved: involved(pvc, &r::PVCS),
            reason: reason.into(),
            message,
            warning,
        });
    }
}

/// Why the scheduler cannot place a pod using `pvc`, when nothing will ever bind it
/// (pkg/scheduler/framework/plugins/volumebinding): an Immediate claim without a class or
/// with a class that has no provisioner, and no volume to bind; or a WaitForFirstConsumer
/// claim of a no-provisioner class with no volume. Claims a provisioner will serve are bound
/// within a tick and not reported.
fn unbindable_claim(objs: &Objects, pvc: &Value, nodes: usize) -> Option<String> {
    if s(&pvc["status"]["phase"]) == "Bound" {
        return None;
    }
    let class_name = claim_class(objs, pvc);
    let class = (!class_name.is_empty())
        .then(|| objs.get(&r::STORAGE_CLASSES, None, &class_name))
        .flatten();
    let provisioned = class.is_some_and(|c| s(&c["provisioner"]) != NO_PROVISIONER);
    if provisioned || matching_volume(objs, pvc, &class_name).is_some() {
        return None;
    }
    let delay = class.is_some_and(|c| s(&c["volumeBindingMode"]) == "WaitForFirstConsumer");
    let reason = if delay {
        format!("{nodes} node(s) didn't find available persistent volumes to bind")
    } else {
        "pod has unbound immediate PersistentVolumeClaims".to_string()
    };
    Some(format!(
        "0/{nodes} nodes are available: {reason}. preemption: 0/{nodes} nodes are available: {nodes} Preemption is not helpful for scheduling."
    ))
}

/// The data a volume holds, as a test sees it: an annotation on the PV, copied to a
/// VolumeSnapshot taken of its claim and to a volume restored from that snapshot.
const CONTENT: &str = "sim.kube-sim.dev/content";

/// For a claim whose `dataSourceRef` (or `dataSource`) is a VolumeSnapshot: the content the
/// restored volume gets, or why the provisioner cannot make it yet. As external-provisioner
/// pkg/controller/controller.go getSnapshotSource: the snapshot must exist, not be being
/// deleted and be readyToUse, and the claim must ask for at least its restoreSize; each
/// failure is a ProvisioningFailed event and the claim stays Pending (retried). Another kind
/// of data source is provisioned as an empty volume.
fn snapshot_source(objs: &Objects, pvc: &Value) -> Result<Option<String>, String> {
    let spec = &pvc["spec"];
    let source = if spec["dataSourceRef"].is_object() {
        &spec["dataSourceRef"]
    } else {
        &spec["dataSource"]
    };
    if s(&source["kind"]) != "VolumeSnapshot" || s(&source["apiGroup"]) != "snapshot.storage.k8s.io"
    {
        return Ok(None);
    }
    let snapshot_name = s(&source["name"]);
    let namespace = source["namespace"]
        .as_str()
        .or(pvc["metadata"]["namespace"].as_str());
    let Some(snapshot) = objs.get(&r::VOLUME_SNAPSHOTS, namespace, snapshot_name) else {
        return Err(format!(
            "error getting handle for DataSource Type VolumeSnapshot by Name {snapshot_name}: error getting snapshot {snapshot_name} from api server: volumesnapshots.snapshot.storage.k8s.io \"{snapshot_name}\" not found"
        ));
    };
    if deleting(snapshot) {
        return Err(format!(
            "snapshot {snapshot_name} is currently being deleted"
        ));
    }
    if snapshot["status"]["readyToUse"] != true {
        return Err(format!("snapshot {snapshot_name} is not Ready"));
    }
    let bytes = |v: &Value| v.as_str().and_then(quantity::parse).unwrap_or(0.0);
    let requested = bytes(&spec["resources"]["requests"]["storage"]);
    let restore = bytes(&snapshot["status"]["restoreSize"]);
    if requested + 1e-9 < restore {
        return Err(format!(
            "requested volume size {} is less than the size {} for the source snapshot {snapshot_name}",
            requested as i64, restore as i64
        ));
    }
    Ok(snapshot["metadata"]["annotations"][CONTENT]
        .as_str()
        .map(String::from))
}

/// A volume pre-bound by hand (claimRef without uid) to a claim that does not exist yet.
fn prebound_waiting(objs: &Objects, pv: &Value) -> bool {
    let claim = &pv["spec"]["claimRef"];
    !claim.is_null()
        && s(&claim["uid"]).is_empty()
        && objs
            .get(&r::PVCS, claim["namespace"].as_str(), s(&claim["name"]))
            .is_none()
}

fn storage(objs: &Objects, idx: &Index<'_>, now: Timestamp, out: &mut Vec<Action>) {
    // A volume made by hand starts Available (pv_controller.go syncVolume), also when
    // pre-bound to a claim that does not exist yet; before any binding of this tick.
    for pv in objs.list(&r::PVS, None) {
        if !deleting(pv)
            && (pv["spec"]["claimRef"].is_null() || prebound_waiting(objs, pv))
            && matches!(s(&pv["status"]["phase"]), "" | "Pending")
        {
            out.push(Action::Patch(
                &r::PVS,
                None,
                name(pv),
                json!({"status": {"phase": "Available"}}),
            ));
        }
    }
    for pvc in objs.list(&r::PVCS, None) {
        let namespace = ns(pvc).unwrap_or_default();
        let users: Vec<&Value> = idx
            .pvc_users
            .get(&(namespace.clone(), name(pvc)))
            .cloned()
            .unwrap_or_default();
        if deleting(pvc) {
            let in_use = users
                .iter()
                .any(|p| !matches!(s(&p["status"]["phase"]), "Succeeded" | "Failed"));
            if !in_use {
                let rest: Vec<Value> = pvc["metadata"]["finalizers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|f| f != "kubernetes.io/pvc-protection")
                    .collect();
                if Some(&rest) != pvc["metadata"]["finalizers"].as_array() {
                    out.push(Action::Patch(
                        &r::PVCS,
                        ns(pvc),
                        name(pvc),
                        json!({"metadata": {"finalizers": rest}}),
                    ));
                }
            }
            continue;
        }
        if s(&pvc["status"]["phase"]) == "Bound" {
            continue;
        }
        // As pkg/controller/volume/persistentvolume/pv_controller.go syncUnboundClaim: an
        // existing volume that matches is bound first; only a class with a provisioner
        // makes a new one; otherwise the claim stays Pending and says why.
        let class_name = claim_class(objs, pvc);
        let class = (!class_name.is_empty())
            .then(|| objs.get(&r::STORAGE_CLASSES, None, &class_name))
            .flatten();
        let delay = class.is_some_and(|c| s(&c["volumeBindingMode"]) == "WaitForFirstConsumer");
        let consumer = users.iter().find(|p| pod_active(p));
        if let Some(pv) = matching_volume(objs, pvc, &class_name) {
            // WaitForFirstConsumer: the scheduler binds once a pod needs the claim
            // (pkg/scheduler/framework/plugins/volumebinding); kube-sim has no node topology.
            if !delay || consumer.is_some() {
                bind(pvc, pv, out);
            }
            continue;
        }
        if pvc["spec"]["volumeName"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
        {
            // Pre-bound to a volume that is missing or taken: Pending until it appears.
            claim_pending(objs, pvc, None, out);
            continue;
        }
        let no_provisioner = class.is_some_and(|c| s(&c["provisioner"]) == NO_PROVISIONER);
        if delay && consumer.is_none() {
            // emitEventForUnboundDelayBindingClaim
            let why = (
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding".to_string(),
                false,
            );
            claim_pending(objs, pvc, Some(why), out);
            continue;
        }
        if delay && no_provisioner {
            // The scheduler finds no volume for the pod (it reports that on the pod).
            let pod = consumer.map(|p| name(p)).unwrap_or_default();
            let why = (
                "WaitForPodScheduled",
                format!("waiting for pod {pod} to be scheduled"),
                false,
            );
            claim_pending(objs, pvc, Some(why), out);
            continue;
        }
        if class_name.is_empty() {
            let why = (
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set"
                    .to_string(),
                false,
            );
            claim_pending(objs, pvc, Some(why), out);
            continue;
        }
        if class.is_none() {
            // provisionClaimOperation: the class named does not exist.
            let why = (
                "ProvisioningFailed",
                format!("storageclass.storage.k8s.io \"{class_name}\" not found"),
                true,
            );
            claim_pending(objs, pvc, Some(why), out);
            continue;
        }
        if no_provisioner {
            // provisionClaimOperation: findProvisionablePlugin finds no in-tree plugin.
            let why = (
                "ProvisioningFailed",
                format!("no volume plugin matched name: {NO_PROVISIONER}"),
                true,
            );
            claim_pending(objs, pvc, Some(why), out);
            continue;
        }
        if delay
            && !users
                .iter()
                .any(|p| p["spec"]["nodeName"].as_str().is_some())
        {
            continue;
        }
        // A claim restored from a VolumeSnapshot: the provisioner waits for the snapshot and
        // the new volume carries its content.
        let content = match snapshot_source(objs, pvc) {
            Ok(content) => content,
            Err(why) => {
                claim_pending(objs, pvc, Some(("ProvisioningFailed", why, true)), out);
                continue;
            }
        };
        let pv_name = format!("pvc-{}", uid(pvc));
        let size = pvc["spec"]["resources"]["requests"]["storage"].clone();
        let reclaim = class
            .and_then(|c| c["reclaimPolicy"].as_str())
            .unwrap_or("Delete");
        let mut pv_annotations = json!({"pv.kubernetes.io/provisioned-by": class.map(|c| s(&c["provisioner"])).unwrap_or("kube-sim")});
        if let Some(content) = content {
            pv_annotations[CONTENT] = json!(content);
        }
        out.push(Action::Create(
            &r::PVS,
            None,
            json!({
                "metadata": {"name": pv_name, "annotations": pv_annotations},
                "spec": {"capacity": {"storage": size}, "accessModes": pvc["spec"]["accessModes"], "persistentVolumeReclaimPolicy": reclaim,
                         "storageClassName": class_name, "claimRef": {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": name(pvc), "uid": uid(pvc), "apiVersion": "v1"}},
                "status": {"phase": "Bound"},
            }),
        ));
        out.push(Action::Patch(&r::PVCS, ns(pvc), name(pvc), json!({"spec": {"volumeName": pv_name, "storageClassName": class_name}, "status": {"phase": "Bound", "capacity": {"storage": size}, "accessModes": pvc["spec"]["accessModes"]}})));
    }
    for pv in objs.list(&r::PVS, None) {
        let claim = &pv["spec"]["claimRef"];
        if prebound_waiting(objs, pv) {
            continue;
        }
        if claim.is_null() || deleting(pv) {
            if deleting(pv)
                && pv["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty())
            {
                out.push(Action::Patch(
                    &r::PVS,
                    None,
                    name(pv),
                    json!({"metadata": {"finalizers": []}}),
                ));
            }
            continue;
        }
        let exists = objs
            .get(&r::PVCS, claim["namespace"].as_str(), s(&claim["name"]))
            .is_some_and(|c| claim["uid"].is_null() || uid(c) == s(&claim["uid"]));
        if exists || s(&pv["status"]["phase"]) == "Released" {
            continue;
        }
        if s(&pv["spec"]["persistentVolumeReclaimPolicy"]) == "Retain" {
            out.push(Action::Patch(
                &r::PVS,
                None,
                name(pv),
                json!({"status": {"phase": "Released"}}),
            ));
        } else {
            out.push(Action::Delete(&r::PVS, None, name(pv)));
        }
    }
    for vs in objs.list(&r::VOLUME_SNAPSHOTS, None) {
        if vs["status"]["readyToUse"] == true {
            continue;
        }
        let created = ts(&vs["metadata"]["creationTimestamp"]).unwrap_or(now);
        if secs_since(created, now) >= 3.0 {
            let source = s(&vs["spec"]["source"]["persistentVolumeClaimName"]);
            let claim = objs.get(&r::PVCS, ns(vs).as_deref(), source);
            let size = claim
                .map(|p| p["status"]["capacity"]["storage"].clone())
                .unwrap_or(Value::Null);
            let mut patch = json!({"status": {"readyToUse": true, "boundVolumeSnapshotContentName": format!("snapcontent-{}", uid(vs)), "creationTime": format_rfc3339(created), "restoreSize": size}});
            // The data the snapshot holds: its source volume's content marker. kube-sim has
            // no VolumeSnapshotContent objects, so the marker is kept on the snapshot itself.
            if let Some(content) = claim
                .and_then(|c| objs.get(&r::PVS, None, s(&c["spec"]["volumeName"])))
                .and_then(|pv| pv["metadata"]["annotations"][CONTENT].as_str())
            {
                patch["metadata"] = json!({"annotations": {CONTENT: content}});
            }
            out.push(Action::Patch(&r::VOLUME_SNAPSHOTS, ns(vs), name(vs), patch));
        }
    }
}

/// (healthy, desiredHealthy, expected) of a PDB, from the current pods.
fn pdb_numbers(objs: &Objects, pdb: &Value) -> (i64, i64, i64) {
    let Some(sel) = LabelSelector::from_object(&pdb["spec"]["selector"]) else {
        return (0, 0, 0);
    };
    let namespace = ns(pdb);
    let disrupted: HashSet<String> = pdb["status"]["disruptedPods"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let pods: Vec<&Value> = objs
        .list(&r::PODS, namespace.as_deref())
        .filter(|p| sel.matches_object(p) && pod_active(p))
        .collect();
    let healthy = pods
        .iter()
        .filter(|p| pod_ready(p) && !disrupted.contains(&name(p)))
        .count() as i64;
    // Expected: the controllers' scale when known, else the pod count.
    let mut expected = 0i64;
    let mut owners = HashSet::new();
    for p in &pods {
        // The controller reference, as the disruption controller's getExpectedScale reads it
        // (pkg/controller/disruption/disruption.go: metav1.GetControllerOf).
        let owner = p["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|refs| refs.iter().find(|r| r["controller"] == true))
            .cloned()
            .unwrap_or(Value::Null);
        let scale = match s(&owner["kind"]) {
            "ReplicaSet" => objs
                .get(&r::REPLICA_SETS, namespace.as_deref(), s(&owner["name"]))
                .and_then(|rs| {
                    let dep = rs["metadata"]["ownerReferences"][0].clone();
                    if dep["kind"] == "Deployment" {
                        objs.get(&r::DEPLOYMENTS, namespace.as_deref(), s(&dep["name"]))
                            .map(|d| (uid(d).to_string(), replicas(d)))
                    } else {
                        Some((uid(rs).to_string(), replicas(rs)))
                    }
                }),
            "StatefulSet" => objs
                .get(&r::STATEFUL_SETS, namespace.as_deref(), s(&owner["name"]))
                .map(|st| (uid(st).to_string(), replicas(st))),
            _ => None,
        };
        match scale {
            Some((owner_uid, n)) => {
                if owners.insert(owner_uid) {
                    expected += n;
                }
            }
            None => expected += 1,
        }
    }
    let spec = &pdb["spec"];
    let desired = if !spec["minAvailable"].is_null() {
        int_or_percent(&spec["minAvailable"], expected, true, "0")
    } else if !spec["maxUnavailable"].is_null() {
        (expected - int_or_percent(&spec["maxUnavailable"], expected, true, "0")).max(0)
    } else {
        0
    };
    (healthy, desired, expected)
}

fn pdb_status(objs: &Objects, out: &mut Vec<Action>) {
    for pdb in objs.list(&r::PDBS, None) {
        let (healthy, desired, expected) = pdb_numbers(objs, pdb);
        // Forget disruptions whose pods are gone.
        let disrupted: serde_json::Map<String, Value> = pdb["status"]["disruptedPods"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(p, _)| {
                        objs.get(&r::PODS, ns(pdb).as_deref(), p)
                            .is_some_and(|pod| !deleting(pod))
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let allowed = (healthy - desired).max(0);
        let status = json!({
            "observedGeneration": pdb["metadata"]["generation"], "currentHealthy": healthy, "desiredHealthy": desired, "expectedPods": expected,
            "disruptionsAllowed": allowed, "disruptedPods": if disrupted.is_empty() { Value::Null } else { Value::Object(disrupted) },
            "conditions": [{"type": "DisruptionAllowed", "status": if allowed > 0 { "True" } else { "False" }, "reason": if allowed > 0 { "SufficientPods" } else { "InsufficientPods" }, "message": "", "observedGeneration": pdb["metadata"]["generation"], "lastTransitionTime": pdb["status"]["conditions"][0]["lastTransitionTime"].as_str().unwrap_or("2026-01-01T00:00:00Z")}],
        });
        let mut current = pdb["status"].clone();
        if current["disruptedPods"]
            .as_object()
            .is_some_and(|m| m.is_empty())
        {
            current["disruptedPods"] = Value::Null;
        }
        let keys = [
            "currentHealthy",
            "desiredHealthy",
            "expectedPods",
            "disruptionsAllowed",
            "observedGeneration",
            "disruptedPods",
        ];
        if keys.iter().any(|k| current[k] != status[k]) {
            let mut patch = json!({"status": status});
            if status["disruptedPods"].is_null() {
                patch["status"]["disruptedPods"] = Value::Null;
            }
            out.push(Action::Patch(&r::PDBS, ns(pdb), name(pdb), patch));
        }
    }
}

const QUOTA_KEYS: &[&str] = &[
    "pods",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "cpu",
    "memory",
    "persistentvolumeclaims",
    "requests.storage",
];

/// What a namespace uses of one quota resource, over active pods and claims.
fn quota_usage(objs: &Objects, namespace: &str, key: &str) -> f64 {
    let pods = || {
        objs.list(&r::PODS, Some(namespace))
            .filter(|p| !matches!(s(&p["status"]["phase"]), "Succeeded" | "Failed"))
    };
    match key {
        "pods" => pods().count() as f64,
        "requests.cpu" | "cpu" => pods().map(|p| pod_resource(p, "requests", "cpu")).sum(),
        "requests.memory" | "memory" => pods().map(|p| pod_resource(p, "requests", "memory")).sum(),
        "limits.cpu" => pods().map(|p| pod_resource(p, "limits", "cpu")).sum(),
        "limits.memory" => pods().map(|p| pod_resource(p, "limits", "memory")).sum(),
        "persistentvolumeclaims" => objs.list(&r::PVCS, Some(namespace)).count() as f64,
        "requests.storage" => objs
            .list(&r::PVCS, Some(namespace))
            .filter_map(|c| {
                c["spec"]["resources"]["requests"]["storage"]
                    .as_str()
                    .and_then(quantity::parse)
            })
            .sum(),
        _ => 0.0,
    }
}

fn object_usage(rt: &ResourceType, obj: &Value, key: &str) -> f64 {
    match (rt.plural, key) {
        ("pods", "pods") => 1.0,
        ("pods", "requests.cpu" | "cpu") => pod_resource(obj, "requests", "cpu"),
        ("pods", "requests.memory" | "memory") => pod_resource(obj, "requests", "memory"),
        ("pods", "limits.cpu") => pod_resource(obj, "limits", "cpu"),
        ("pods", "limits.memory") => pod_resource(obj, "limits", "memory"),
        ("persistentvolumeclaims", "persistentvolumeclaims") => 1.0,
        ("persistentvolumeclaims", "requests.storage") => {
            obj["spec"]["resources"]["requests"]["storage"]
                .as_str()
                .and_then(quantity::parse)
                .unwrap_or(0.0)
        }
        _ => 0.0,
    }
}

/// ResourceQuota admission: refuse a create that would exceed a hard limit.
fn quota_admission(objs: &Objects, rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    if rt.plural != "pods" && rt.plural != "persistentvolumeclaims" {
        return Ok(());
    }
    let namespace = s(&obj["metadata"]["namespace"]).to_string();
    for quota in objs.list(&r::RESOURCE_QUOTAS, Some(&namespace)) {
        let Some(hard) = quota["spec"]["hard"].as_object() else {
            continue;
        };
        let mut requested = Vec::new();
        let mut used = Vec::new();
        let mut limited = Vec::new();
        for (key, limit) in hard {
            if !QUOTA_KEYS.contains(&key.as_str()) {
                continue;
            }
            let want = object_usage(rt, obj, key);
            if want == 0.0 {
                continue;
            }
            let Some(limit_v) = limit
                .as_str()
                .and_then(quantity::parse)
                .or_else(|| limit.as_f64())
            else {
                continue;
            };
            let have = quota_usage(objs, &namespace, key);
            if have + want > limit_v + 1e-9 {
                requested.push(format!("{key}={}", quantity::format(key, want)));
                used.push(format!("{key}={}", quantity::format(key, have)));
                limited.push(format!(
                    "{key}={}",
                    limit
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| quantity::format(key, limit_v))
                ));
            }
        }
        if !requested.is_empty() {
            let obj_name = s(&obj["metadata"]["name"]);
            return Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{} \"{obj_name}\" is forbidden: exceeded quota: {}, requested: {}, used: {}, limited: {}",
                    rt.plural,
                    name(quota),
                    requested.join(","),
                    used.join(","),
                    limited.join(",")
                ),
            ));
        }
    }
    Ok(())
}

fn quota_status(objs: &Objects, out: &mut Vec<Action>) {
    for quota in objs.list(&r::RESOURCE_QUOTAS, None) {
        let namespace = ns(quota).unwrap_or_default();
        let Some(hard) = quota["spec"]["hard"].as_object() else {
            continue;
        };
        let mut used = serde_json::Map::new();
        for key in hard.keys() {
            used.insert(
                key.clone(),
                json!(quantity::format(key, quota_usage(objs, &namespace, key))),
            );
        }
        let status = json!({"hard": hard, "used": used});
        if quota["status"] != status {
            out.push(Action::Patch(
                &r::RESOURCE_QUOTAS,
                ns(quota),
                name(quota),
                json!({"status": status}),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surge_and_unavailable_round_like_kubernetes() {
        assert_eq!(int_or_percent(&json!("25%"), 3, true, "25%"), 1);
        assert_eq!(int_or_percent(&json!("25%"), 3, false, "25%"), 0);
        assert_eq!(int_or_percent(&Value::Null, 10, true, "25%"), 3);
        assert_eq!(int_or_percent(&json!(2), 10, true, "25%"), 2);
        assert_eq!(int_or_percent(&json!("50%"), 3, true, "0"), 2);
    }

    #[test]
    fn hpa_leaves_zero_alone_and_clamps_even_with_disabled_directions() {
        let hpa = json!({"spec": {"minReplicas": 3, "maxReplicas": 10}});
        assert_eq!(hpa_desired(&hpa, 0), (0, true));
        assert_eq!(hpa_desired(&hpa, 1), (3, false));
        assert_eq!(hpa_desired(&hpa, 5), (5, false));
        assert_eq!(hpa_desired(&hpa, 12), (10, false));
        // minReplicas 0 (HPAScaleToZero): a target at 0 is not "disabled".
        let to_zero = json!({"spec": {"minReplicas": 0, "maxReplicas": 4}});
        assert_eq!(hpa_desired(&to_zero, 0), (0, false));
        let neither = json!({"spec": {"minReplicas": 3, "maxReplicas": 10, "behavior": {"scaleUp": {"selectPolicy": "Disabled"}, "scaleDown": {"selectPolicy": "Disabled"}}}});
        assert_eq!(hpa_desired(&neither, 1), (3, false));
        assert_eq!(hpa_desired(&neither, 12), (10, false));
        assert_eq!(hpa_desired(&neither, 0), (0, true));
    }

    #[test]
    fn the_scenarios_have_no_garbage_and_bind_no_claim_anew() {
        for scenario in ["astronomer", "artsy", "aura", "atmosphere"] {
            let store = Store::new(Arc::new(crate::clock::Clock::new(1.0)));
            crate::scenario::Scenario::load(scenario)
                .unwrap()
                .apply(&store)
                .unwrap();
            let mut out = Vec::new();
            store.read(|objs| garbage_collect(objs, &mut out));
            assert_eq!(out.len(), 0, "{scenario}: owners of every object exist");
            // Bound claims stay as they are; only new objects get a phase.
            store.read(|objs| {
                for pvc in objs.list(&r::PVCS, None) {
                    assert_eq!(s(&pvc["status"]["phase"]), "Bound", "{scenario}: {pvc}");
                }
            });
        }
    }

    #[test]
    fn template_hash_is_stable_and_safe() {
        let a = template_hash(&json!({"spec": {"containers": [{"name": "a"}]}}));
        assert_eq!(
            a,
            template_hash(&json!({"spec": {"containers": [{"name": "a"}]}}))
        );
        assert_eq!(a.len(), 10);
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_ne!(
            a,
            template_hash(&json!({"spec": {"containers": [{"name": "b"}]}}))
        );
    }

    #[test]
    fn scripted_logs_then_heartbeats() {
        let start: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let script = vec!["one".to_string(), "two".to_string()];
        let done = log_lines(
            "p",
            "main",
            &script,
            start,
            start + SignedDuration::from_secs(3600),
            true,
        );
        assert_eq!(
            done.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        let running = log_lines(
            "p",
            "main",
            &script,
            start,
            start + SignedDuration::from_secs(32),
            false,
        );
        assert_eq!(running.len(), 2 + 4);
    }
}
