//! The object store: every object as JSON, a monotonic resourceVersion, and watch fan-out
//! (the shape of client-go's object tracker). Controllers and the HTTP layer both go through it,
//! so every change is seen by watchers and recorded in the history a watch can resume from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::resources::{self, ResourceType};

/// How many past events a watch can resume from before it gets 410 Gone, unless set
/// (`--watch-window`): the watch cache's bounded window upstream.
pub const DEFAULT_WATCH_WINDOW: usize = 10_000;
/// Capacity of the fan-out channel; a watcher that falls further behind is closed.
const CHANNEL: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as a watch delivers it.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub resource: &'static ResourceType,
    pub event_type: EventType,
    /// The object after the change (for DELETED: its last state, with the deletion's resourceVersion).
    pub object: Value,
    pub resource_version: u64,
}

impl WatchEvent {
    pub fn namespace(&self) -> &str {
        self.object["metadata"]["namespace"].as_str().unwrap_or("")
    }
}

/// `propagationPolicy` of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

/// The parts of `DeleteOptions` the sim honours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation: Propagation,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

/// What `watch` returns: the backlog to replay, then the live receiver.
pub type WatchStart = (Vec<Arc<WatchEvent>>, broadcast::Receiver<Arc<WatchEvent>>);

/// Read access to every object, under the store's lock (for controllers and admission).
#[derive(Debug, Default)]
pub struct Objects {
    by_type: HashMap<&'static str, BTreeMap<(String, String), Value>>,
}

fn key(ns: Option<&str>, name: &str) -> (String, String) {
    (ns.unwrap_or("").to_string(), name.to_string())
}

impl Objects {
    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.by_type.get(rt.plural)?.get(&key(ns, name))
    }

    /// Objects of a type, sorted by namespace then name; `ns = None` means all namespaces.
    pub fn list<'a>(
        &'a self,
        rt: &ResourceType,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.by_type
            .get(rt.plural)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(move |((obj_ns, _), _)| ns.is_none_or(|n| n == obj_ns))
            .map(|(_, v)| v)
    }

    /// Finds an object of any type by uid.
    pub fn by_uid(&self, uid: &str) -> Option<(&'static ResourceType, &Value)> {
        for rt in resources::ALL {
            if let Some(m) = self.by_type.get(rt.plural)
                && let Some(v) = m.values().find(|v| v["metadata"]["uid"] == uid)
            {
                return Some((rt, v));
            }
        }
        None
    }

    fn map_mut(&mut self, rt: &ResourceType) -> &mut BTreeMap<(String, String), Value> {
        self.by_type.entry(rt.plural).or_default()
    }

    pub fn count(&self) -> usize {
        self.by_type.values().map(BTreeMap::len).sum()
    }
}

/// Checks (and may adjust) an object before it is created: ResourceQuota, defaults.
pub type Admission =
    Box<dyn Fn(&Objects, &ResourceType, &mut Value) -> Result<(), ApiError> + Send + Sync>;

struct Inner {
    resource_version: u64,
    objects: Objects,
    history: VecDeque<Arc<WatchEvent>>,
    /// The most events `history` keeps.
    window: usize,
}

/// The sim's object store.
pub struct Store {
    /// Reads (lists, gets, the controllers' tick) share it; writes take it alone: a request
    /// never waits behind a tick that only reads, as a real API server serves reads from its
    /// watch cache while controllers work.
    inner: RwLock<Inner>,
    events: broadcast::Sender<Arc<WatchEvent>>,
    clock: Arc<Clock>,
    admission: Mutex<Vec<Arc<Admission>>>,
}

/// The generator of uids and name suffixes: seeded by [`seed_names`] (`kube-sim --seed`), so a
/// replayed run names its objects alike as far as the controllers create them in the same order.
static NAME_RNG: Mutex<Option<StdRng>> = Mutex::new(None);

/// Seeds uid and name-suffix generation (process-wide).
pub fn seed_names(seed: u64) {
    *NAME_RNG.lock().unwrap_or_else(|e| e.into_inner()) = Some(StdRng::seed_from_u64(seed));
}

fn with_name_rng<R>(f: impl FnOnce(&mut StdRng) -> R) -> R {
    let mut rng = NAME_RNG.lock().unwrap_or_else(|e| e.into_inner());
    f(rng.get_or_insert_with(StdRng::from_os_rng))
}

/// A random RFC 4122 v4 uid.
pub fn new_uid() -> String {
    let b: [u8; 16] = with_name_rng(|rng| rng.random());
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-4{:01x}{:02x}-{:01x}{:01x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[0],
        b[1],
        b[2],
        b[3],
        b[4],
        b[5],
        b[6] & 0x0f,
        b[7],
        8 | (b[8] & 0x3),
        b[8] >> 4,
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    )
}

/// A 5-character suffix from the alphabet Kubernetes uses for generateName and pod-template hashes.
pub fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    with_name_rng(|rng| {
        (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    })
}

fn name_of(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or("")
}

fn finalizers_empty(obj: &Value) -> bool {
    obj["metadata"]["finalizers"]
        .as_array()
        .is_none_or(Vec::is_empty)
}

impl Store {
    pub fn new(clock: Arc<Clock>) -> Self {
        let (events, _) = broadcast::channel(CHANNEL);
        Store {
            inner: RwLock::new(Inner {
                resource_version: 1,
                objects: Objects::default(),
                history: VecDeque::new(),
                window: DEFAULT_WATCH_WINDOW,
            }),
            events,
            clock,
            admission: Mutex::new(Vec::new()),
        }
    }

    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// Sets how many past events a watch can resume from (at least 1).
    pub fn set_watch_window(&self, events: usize) {
        let mut inner = self.lock_mut();
        inner.window = events.max(1);
        while inner.history.len() > inner.window {
            inner.history.pop_front();
        }
    }

    fn lock(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_mut(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers an admission check run (under the lock) before every create.
    pub fn add_admission(&self, admission: Admission) {
        self.admission
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(admission));
    }

    /// The latest resourceVersion handed out.
    pub fn resource_version(&self) -> u64 {
        self.lock().resource_version
    }

    /// Runs `f` with a consistent view of every object.
    pub fn read<R>(&self, f: impl FnOnce(&Objects) -> R) -> R {
        f(&self.lock().objects)
    }

    pub fn get(&self, rt: &ResourceType, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        self.lock()
            .objects
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// One page of the objects of a type that `keep` accepts (sorted by namespace/name): the
    /// first `limit` of them, cloned, how many were accepted in all, and the list's
    /// resourceVersion. Only the page is copied: a list of 30,000 pods filtered by a selector,
    /// or paged by 500, costs a copy of what it returns, not of the whole store.
    pub fn list_page(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        keep: impl Fn(&Value) -> bool,
        limit: usize,
    ) -> (Vec<Value>, usize, u64) {
        let inner = self.lock();
        let mut page = Vec::new();
        let mut total = 0;
        for object in inner.objects.list(rt, ns).filter(|o| keep(o)) {
            if total < limit {
                page.push(object.clone());
            }
            total += 1;
        }
        (page, total, inner.resource_version)
    }

    /// All objects of a type (sorted by namespace/name) and the list's resourceVersion.
    pub fn list(&self, rt: &ResourceType, ns: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.lock();
        (
            inner.objects.list(rt, ns).cloned().collect(),
            inner.resource_version,
        )
    }

    fn emit(
        inner: &mut Inner,
        events: &broadcast::Sender<Arc<WatchEvent>>,
        rt: &'static ResourceType,
        event_type: EventType,
        object: Value,
    ) {
        let ev = Arc::new(WatchEvent {
            resource: rt,
            event_type,
            resource_version: inner.resource_version,
            object,
        });
        while inner.history.len() >= inner.window {
            inner.history.pop_front();
        }
        inner.history.push_back(ev.clone());
        // No receivers is fine: nobody is watching.
        let _ = events.send(ev);
    }

    fn bump(inner: &mut Inner, obj: &mut Value) -> u64 {
        inner.resource_version += 1;
        obj["metadata"]["resourceVersion"] = json!(inner.resource_version.to_string());
        inner.resource_version
    }

    /// Creates an object: fills name (generateName), uid, resourceVersion, creationTimestamp,
    /// generation, apiVersion/kind and protection finalizers; runs admission.
    pub fn create(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request was not a JSON object",
            ));
        }
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let ns = if rt.namespaced {
            Some(
                ns.or(obj["metadata"]["namespace"].as_str())
                    .unwrap_or("default")
                    .to_string(),
            )
        } else {
            None
        };
        let mut inner = self.lock_mut();
        if let Some(ns) = &ns
            && inner
                .objects
                .get(&resources::NAMESPACES, None, ns)
                .is_none()
        {
            return Err(ApiError::not_found(&resources::NAMESPACES, ns));
        }
        let meta = &mut obj["metadata"];
        if meta["name"].as_str().unwrap_or("").is_empty() {
            match meta["generateName"].as_str() {
                Some(prefix) if !prefix.is_empty() => {
                    meta["name"] =
                        json!(crate::validation::generate_name(prefix, &random_suffix(5)))
                }
                _ => {
                    return Err(ApiError::invalid(
                        rt,
                        "",
                        "metadata.name: Required value: name or generateName is required",
                    ));
                }
            }
        }
        let name = meta["name"].as_str().unwrap_or_default().to_string();
        if inner.objects.get(rt, ns.as_deref(), &name).is_some() {
            return Err(ApiError::already_exists(rt, &name));
        }
        match &ns {
            Some(ns) => meta["namespace"] = json!(ns),
            None => {
                if let Some(m) = meta.as_object_mut() {
                    m.remove("namespace");
                }
            }
        }
        if meta["uid"].as_str().unwrap_or("").is_empty() {
            meta["uid"] = json!(new_uid());
        }
        if meta["creationTimestamp"].as_str().unwrap_or("").is_empty() {
            meta["creationTimestamp"] = json!(self.clock.now_rfc3339());
        }
        meta["generation"] = json!(1);
        if let Some(m) = meta.as_object_mut() {
            m.remove("deletionTimestamp");
            m.remove("deletionGracePeriodSeconds");
        }
        let protection = match rt.plural {
            "persistentvolumeclaims" => Some("kubernetes.io/pvc-protection"),
            "persistentvolumes" => Some("kubernetes.io/pv-protection"),
            _ => None,
        };
        if let Some(fin) = protection {
            let list = meta["finalizers"].as_array().cloned().unwrap_or_default();
            if !list.iter().any(|f| f == fin) {
                let mut list = list;
                list.push(json!(fin));
                meta["finalizers"] = json!(list);
            }
        }
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        let admission: Vec<Arc<Admission>> = self
            .admission
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for admit in &admission {
            admit(&inner.objects, rt, &mut obj)?;
        }
        Self::bump(&mut inner, &mut obj);
        inner
            .objects
            .map_mut(rt)
            .insert(key(ns.as_deref(), &name), obj.clone());
        Self::emit(&mut inner, &self.events, rt, EventType::Added, obj.clone());
        Ok(obj)
    }

    /// Replaces an object (PUT). A non-empty `metadata.resourceVersion` that is not the current
    /// one gets 409 Conflict. `status_only` is the `/status` subresource: only status changes;
    /// otherwise status is kept from the stored object for types with a status subresource.
    pub fn update(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        mut obj: Value,
        status_only: bool,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock_mut();
        let old = inner
            .objects
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        if name_of(&obj) != name && !name_of(&obj).is_empty() {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                name_of(&obj)
            )));
        }
        if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
            && !rv.is_empty()
            && Some(rv) != old["metadata"]["resourceVersion"].as_str()
        {
            return Err(ApiError::conflict(rt, name));
        }
        if status_only {
            let mut merged = old.clone();
            merged["status"] = obj["status"].take();
            obj = merged;
        } else if rt.subresources.contains(&"status") {
            obj["status"] = old["status"].clone();
        }
        self.store_update(&mut inner, rt, ns, name, &old, obj)
    }

    /// Common tail of update/mutate: keep immutable metadata, bump generation when the spec
    /// changed, remove the object when deleted and no finalizer is left.
    fn store_update(
        &self,
        inner: &mut Inner,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        old: &Value,
        mut obj: Value,
    ) -> Result<Value, ApiError> {
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "namespace",
        ] {
            match old["metadata"].get(field) {
                Some(v) => obj["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        obj["metadata"]["name"] = json!(name);
        obj["apiVersion"] = json!(rt.api_version());
        obj["kind"] = json!(rt.kind);
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
        let spec_changed = old.get("spec") != obj.get("spec");
        obj["metadata"]["generation"] = json!(if spec_changed {
            generation + 1
        } else {
            generation
        });
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if obj == *old {
            return Ok(obj);
        }
        let deleting = !obj["metadata"]["deletionTimestamp"].is_null();
        let pod_waiting_for_kubelet = rt.plural == "pods"
            && obj["metadata"]["deletionGracePeriodSeconds"]
                .as_i64()
                .unwrap_or(0)
                > 0;
        if deleting && finalizers_empty(&obj) && !pod_waiting_for_kubelet {
            return Ok(self
                .remove_locked(inner, rt, ns, name, Propagation::Background)
                .unwrap_or(obj));
        }
        Self::bump(inner, &mut obj);
        inner.objects.map_mut(rt).insert(key(ns, name), obj.clone());
        Self::emit(inner, &self.events, rt, EventType::Modified, obj.clone());
        Ok(obj)
    }

    /// Read-modify-write under the lock, without resourceVersion checks (controllers, patches).
    /// `f` may refuse with an error; nothing changes then.
    pub fn mutate<R>(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        f: impl FnOnce(&mut Value) -> Result<R, ApiError>,
    ) -> Result<(Value, R), ApiError> {
        let mut inner = self.lock_mut();
        let old = inner
            .objects
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        let mut obj = old.clone();
        let r = f(&mut obj)?;
        let obj = self.store_update(&mut inner, rt, ns, name, &old, obj)?;
        Ok((obj, r))
    }

    /// Deletes an object as the API does: preconditions; pods that are bound and running get a
    /// grace period (deletionTimestamp, removed later by the kubelet); objects with finalizers
    /// get a deletionTimestamp and stay until the finalizers are gone; others are removed now,
    /// with their dependents garbage-collected (or orphaned).
    pub fn delete(
        &self,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let mut inner = self.lock_mut();
        let mut obj = inner
            .objects
            .get(rt, ns, name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        if let Some(uid) = &opts.precondition_uid
            && obj["metadata"]["uid"].as_str() != Some(uid.as_str())
        {
            return Err(ApiError::precondition_failed(
                rt,
                name,
                format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    obj["metadata"]["uid"].as_str().unwrap_or("")
                ),
            ));
        }
        if let Some(rv) = &opts.precondition_resource_version
            && obj["metadata"]["resourceVersion"].as_str() != Some(rv.as_str())
        {
            return Err(ApiError::precondition_failed(
                rt,
                name,
                format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    obj["metadata"]["resourceVersion"].as_str().unwrap_or("")
                ),
            ));
        }
        let grace = if rt.plural == "pods" {
            let phase = obj["status"]["phase"].as_str().unwrap_or("");
            let bound = obj["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| !n.is_empty());
            if !bound || phase == "Succeeded" || phase == "Failed" {
                0
            } else {
                opts.grace_period_seconds
                    .or(obj["spec"]["terminationGracePeriodSeconds"].as_i64())
                    .unwrap_or(30)
                    .max(0)
            }
        } else {
            0
        };
        if opts.propagation == Propagation::Orphan {
            Self::orphan_dependents(
                &mut inner,
                &self.events,
                obj["metadata"]["uid"].as_str().unwrap_or(""),
            );
        }
        let already_deleting = !obj["metadata"]["deletionTimestamp"].is_null();
        if grace == 0 && finalizers_empty(&obj) {
            return self
                .remove_locked(&mut inner, rt, ns, name, opts.propagation)
                .ok_or_else(|| ApiError::not_found(rt, name));
        }
        let current_grace = obj["metadata"]["deletionGracePeriodSeconds"].as_i64();
        if already_deleting && current_grace.is_none_or(|g| g <= grace) {
            // A second delete cannot lengthen the grace period.
            return Ok(obj);
        }
        let deadline = self.clock.now() + jiff::SignedDuration::from_secs(grace);
        obj["metadata"]["deletionTimestamp"] = json!(crate::clock::format_rfc3339(deadline));
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        if grace == 0 && rt.plural == "pods" && finalizers_empty(&obj) {
            return self
                .remove_locked(&mut inner, rt, ns, name, opts.propagation)
                .ok_or_else(|| ApiError::not_found(rt, name));
        }
        Self::bump(&mut inner, &mut obj);
        inner.objects.map_mut(rt).insert(key(ns, name), obj.clone());
        Self::emit(
            &mut inner,
            &self.events,
            rt,
            EventType::Modified,
            obj.clone(),
        );
        Ok(obj)
    }

    /// Removes an object now (the kubelet after a grace period, or a finalizer-free delete),
    /// and garbage-collects its dependents. Returns the removed object.
    pub fn remove(&self, rt: &'static ResourceType, ns: Option<&str>, name: &str) -> Option<Value> {
        let mut inner = self.lock_mut();
        self.remove_locked(&mut inner, rt, ns, name, Propagation::Background)
    }

    fn remove_locked(
        &self,
        inner: &mut Inner,
        rt: &'static ResourceType,
        ns: Option<&str>,
        name: &str,
        propagation: Propagation,
    ) -> Option<Value> {
        let mut obj = inner.objects.map_mut(rt).remove(&key(ns, name))?;
        Self::bump(inner, &mut obj);
        Self::emit(inner, &self.events, rt, EventType::Deleted, obj.clone());
        let uid = obj["metadata"]["uid"].as_str().unwrap_or("").to_string();
        if propagation == Propagation::Orphan {
            Self::orphan_dependents(inner, &self.events, &uid);
        } else {
            self.collect_dependents(inner, &uid);
        }
        Some(obj)
    }

    /// Dependents of `uid`: (type, namespace, name).
    fn dependents(
        inner: &Inner,
        uid: &str,
    ) -> Vec<(&'static ResourceType, Option<String>, String)> {
        let mut out = Vec::new();
        if uid.is_empty() {
            return out;
        }
        for rt in resources::ALL {
            for obj in inner.objects.list(rt, None) {
                let owned = obj["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid));
                if owned {
                    let ns = obj["metadata"]["namespace"].as_str().map(String::from);
                    out.push((rt, ns, name_of(obj).to_string()));
                }
            }
        }
        out
    }

    /// Background garbage collection: dependents are deleted (pods gracefully).
    fn collect_dependents(&self, inner: &mut Inner, uid: &str) {
        for (rt, ns, name) in Self::dependents(inner, uid) {
            let Some(mut obj) = inner.objects.get(rt, ns.as_deref(), &name).cloned() else {
                continue;
            };
            // Only when no other owner remains.
            let refs: Vec<Value> = obj["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let remaining: Vec<Value> = refs.into_iter().filter(|r| r["uid"] != uid).collect();
            if !remaining.is_empty() {
                obj["metadata"]["ownerReferences"] = json!(remaining);
                Self::bump(inner, &mut obj);
                inner
                    .objects
                    .map_mut(rt)
                    .insert(key(ns.as_deref(), &name), obj.clone());
                Self::emit(inner, &self.events, rt, EventType::Modified, obj);
                continue;
            }
            let bound_pod = rt.plural == "pods"
                && obj["spec"]["nodeName"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty());
            if bound_pod || !finalizers_empty(&obj) {
                if obj["metadata"]["deletionTimestamp"].is_null() {
                    let grace = if bound_pod {
                        obj["spec"]["terminationGracePeriodSeconds"]
                            .as_i64()
                            .unwrap_or(30)
                    } else {
                        0
                    };
                    let deadline = self.clock.now() + jiff::SignedDuration::from_secs(grace);
                    obj["metadata"]["deletionTimestamp"] =
                        json!(crate::clock::format_rfc3339(deadline));
                    obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
                    Self::bump(inner, &mut obj);
                    inner
                        .objects
                        .map_mut(rt)
                        .insert(key(ns.as_deref(), &name), obj.clone());
                    Self::emit(inner, &self.events, rt, EventType::Modified, obj);
                }
            } else {
                self.remove_locked(inner, rt, ns.as_deref(), &name, Propagation::Background);
            }
        }
    }

    fn orphan_dependents(
        inner: &mut Inner,
        events: &broadcast::Sender<Arc<WatchEvent>>,
        uid: &str,
    ) {
        for (rt, ns, name) in Self::dependents(inner, uid) {
            let Some(mut obj) = inner.objects.get(rt, ns.as_deref(), &name).cloned() else {
                continue;
            };
            let refs: Vec<Value> = obj["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            obj["metadata"]["ownerReferences"] = json!(
                refs.into_iter()
                    .filter(|r| r["uid"] != uid)
                    .collect::<Vec<_>>()
            );
            Self::bump(inner, &mut obj);
            inner
                .objects
                .map_mut(rt)
                .insert(key(ns.as_deref(), &name), obj.clone());
            Self::emit(inner, events, rt, EventType::Modified, obj);
        }
    }

    /// Subscribes to changes. With `since = Some(rv)`, first returns the recorded events after
    /// `rv` (410 Gone when they were compacted away); with `None`, only new events follow and the
    /// caller sends the current objects as ADDED. Events of every type arrive; filter by
    /// `event.resource` and namespace.
    pub fn watch(&self, since: Option<u64>) -> Result<WatchStart, ApiError> {
        let inner = self.lock();
        let rx = self.events.subscribe();
        let backlog = match since {
            None => Vec::new(),
            Some(rv) => {
                // As the watch cache (k8s.io/apiserver/pkg/storage/cacher/watch_cache.go
                // getAllEventsSinceLocked): a resourceVersion before the oldest retained event
                // is 410 Expired, and the client must list again.
                if rv < inner.resource_version
                    && let Some(first) = inner.history.front()
                    && rv < first.resource_version - 1
                {
                    return Err(ApiError::new(
                        410,
                        "Expired",
                        format!(
                            "too old resource version: {rv} ({})",
                            first.resource_version - 1
                        ),
                    ));
                }
                inner
                    .history
                    .iter()
                    .filter(|e| e.resource_version > rv)
                    .cloned()
                    .collect()
            }
        };
        Ok((backlog, rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, NAMESPACES, PODS, PVCS, REPLICA_SETS};

    fn store() -> Store {
        let s = Store::new(Arc::new(Clock::new(1.0)));
        s.create(&NAMESPACES, None, json!({"metadata": {"name": "default"}}))
            .unwrap();
        s
    }

    #[test]
    fn create_fills_metadata_and_rejects_duplicates() {
        let s = store();
        let pod = s
            .create(
                &PODS,
                Some("default"),
                json!({"metadata": {"generateName": "web-"}, "spec": {}}),
            )
            .unwrap();
        let name = pod["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("web-") && name.len() == 9);
        assert_eq!(pod["metadata"]["namespace"], "default");
        assert_eq!(pod["kind"], "Pod");
        assert!(pod["metadata"]["uid"].as_str().unwrap().len() == 36);
        let again = s.create(&PODS, Some("default"), json!({"metadata": {"name": name}}));
        assert_eq!(again.unwrap_err().code, 409);
        let missing_ns = s.create(&PODS, Some("nope"), json!({"metadata": {"name": "x"}}));
        assert_eq!(missing_ns.unwrap_err().code, 404);
    }

    #[test]
    fn stale_update_conflicts_and_generation_follows_spec() {
        let s = store();
        let d = s
            .create(
                &DEPLOYMENTS,
                Some("default"),
                json!({"metadata": {"name": "web"}, "spec": {"replicas": 1}}),
            )
            .unwrap();
        let mut newer = d.clone();
        newer["spec"]["replicas"] = json!(2);
        let updated = s
            .update(&DEPLOYMENTS, Some("default"), "web", newer, false)
            .unwrap();
        assert_eq!(updated["metadata"]["generation"], 2);
        let mut stale = d;
        stale["spec"]["replicas"] = json!(3);
        assert_eq!(
            s.update(&DEPLOYMENTS, Some("default"), "web", stale, false)
                .unwrap_err()
                .reason,
            "Conflict"
        );
    }

    #[test]
    fn finalizers_hold_deletion_and_gc_cascades() {
        let s = store();
        let pvc = s
            .create(
                &PVCS,
                Some("default"),
                json!({"metadata": {"name": "data"}}),
            )
            .unwrap();
        assert_eq!(
            pvc["metadata"]["finalizers"][0],
            "kubernetes.io/pvc-protection"
        );
        let deleting = s
            .delete(&PVCS, Some("default"), "data", &DeleteOptions::default())
            .unwrap();
        assert!(deleting["metadata"]["deletionTimestamp"].is_string());
        s.mutate(&PVCS, Some("default"), "data", |o| {
            o["metadata"]["finalizers"] = json!([]);
            Ok(())
        })
        .unwrap();
        assert_eq!(s.get(&PVCS, Some("default"), "data").unwrap_err().code, 404);

        let rs = s
            .create(
                &REPLICA_SETS,
                Some("default"),
                json!({"metadata": {"name": "web-1"}}),
            )
            .unwrap();
        let owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": rs["metadata"]["uid"], "controller": true}]);
        s.create(
            &PODS,
            Some("default"),
            json!({"metadata": {"name": "web-1-a", "ownerReferences": owner}, "spec": {}}),
        )
        .unwrap();
        s.create(&PODS, Some("default"), json!({"metadata": {"name": "web-1-b", "ownerReferences": owner}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})).unwrap();
        s.delete(
            &REPLICA_SETS,
            Some("default"),
            "web-1",
            &DeleteOptions::default(),
        )
        .unwrap();
        assert!(
            s.get(&PODS, Some("default"), "web-1-a").is_err(),
            "unbound pod removed at once"
        );
        let b = s.get(&PODS, Some("default"), "web-1-b").unwrap();
        assert!(
            b["metadata"]["deletionTimestamp"].is_string(),
            "bound pod terminates gracefully"
        );
    }

    #[test]
    fn delete_preconditions_and_pod_grace() {
        let s = store();
        s.create(&PODS, Some("default"), json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})).unwrap();
        let wrong = DeleteOptions {
            precondition_uid: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            s.delete(&PODS, Some("default"), "p", &wrong)
                .unwrap_err()
                .code,
            409
        );
        let p = s
            .delete(&PODS, Some("default"), "p", &DeleteOptions::default())
            .unwrap();
        assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30);
        let now = DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        s.delete(&PODS, Some("default"), "p", &now).unwrap();
        assert!(s.get(&PODS, Some("default"), "p").is_err());
    }

    #[test]
    fn a_watch_from_before_the_window_is_expired() {
        let s = store();
        s.set_watch_window(2);
        let start = s.resource_version();
        for i in 0..4 {
            s.create(
                &PODS,
                Some("default"),
                json!({"metadata": {"name": format!("p{i}")}}),
            )
            .unwrap();
        }
        let Err(err) = s.watch(Some(start)) else {
            panic!("a watch from before the window must be expired");
        };
        assert_eq!((err.code, err.reason), (410, "Expired"));
        assert_eq!(
            err.message,
            format!(
                "too old resource version: {start} ({})",
                s.resource_version() - 2
            )
        );
        let (backlog, _) = s
            .watch(Some(s.resource_version() - 1))
            .expect("in the window");
        assert_eq!(backlog.len(), 1);
    }

    #[tokio::test]
    async fn watch_resumes_from_resource_version() {
        let s = store();
        let rv = s.resource_version();
        s.create(&PODS, Some("default"), json!({"metadata": {"name": "a"}}))
            .unwrap();
        s.mutate(&PODS, Some("default"), "a", |o| {
            o["metadata"]["labels"] = json!({"x": "y"});
            Ok(())
        })
        .unwrap();
        s.delete(&PODS, Some("default"), "a", &DeleteOptions::default())
            .unwrap();
        let (backlog, _rx) = s.watch(Some(rv)).unwrap();
        let kinds: Vec<_> = backlog.iter().map(|e| e.event_type).collect();
        assert_eq!(
            kinds,
            [EventType::Added, EventType::Modified, EventType::Deleted]
        );
        let (_, mut rx) = s.watch(None).unwrap();
        s.create(&PODS, Some("default"), json!({"metadata": {"name": "b"}}))
            .unwrap();
        assert_eq!(rx.recv().await.unwrap().event_type, EventType::Added);
    }
}
