//! Pod priority as the API server has it: the `scheduling.k8s.io/v1` PriorityClasses (the two
//! system classes created at start-up) and the Priority admission plugin, which resolves every
//! new pod's `spec.priorityClassName` into `spec.priority` and `spec.preemptionPolicy`.
//!
//! Upstream: kubernetes/kubernetes plugin/pkg/admission/priority/admission.go (admitPod,
//! validatePriorityClass, getDefaultPriority), pkg/apis/scheduling/v1/helpers.go (the system
//! classes), pkg/apis/scheduling/v1/defaults.go (preemptionPolicy's default) and
//! pkg/registry/scheduling/priorityclass/storage/storage.go (system classes cannot be deleted).
//! The field rules a class must pass (value, `system-` prefix, immutability) are in
//! validation.rs, as the strategy's Validate is apart from admission upstream.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::resources::{self as r, ResourceType};
use crate::store::{Objects, Store};

/// scheduling.HighestUserDefinablePriority: values above are for the system classes.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;
/// scheduling.SystemPriorityClassPrefix.
pub const SYSTEM_PREFIX: &str = "system-";
/// The preemption policy of a class that names none (v1 SetDefaults_PriorityClass) and of a
/// pod when no class applies (getDefaultPriority).
pub const PREEMPT_LOWER_PRIORITY: &str = "PreemptLowerPriority";

/// The system classes (name, value, description), as pkg/apis/scheduling/v1/helpers.go
/// defines them: SystemCriticalPriority (2 × HighestUserDefinablePriority) + 1000 and + 0.
pub const SYSTEM_CLASSES: [(&str, i64, &str); 2] = [
    (
        "system-node-critical",
        2 * HIGHEST_USER_DEFINABLE_PRIORITY + 1000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2 * HIGHEST_USER_DEFINABLE_PRIORITY,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// The system class of that name: (value, globalDefault is always false).
pub fn system_class(name: &str) -> Option<i64> {
    SYSTEM_CLASSES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, value, _)| *value)
}

/// Creates the system classes (the API server's post-start hook does it upstream, in
/// pkg/registry/scheduling/rest/storage_scheduling.go) and registers the admission plugin, so
/// every pod created afterwards (a client's, a controller's or a scenario's) is admitted.
pub fn install(store: &Store) -> Result<(), ApiError> {
    for (name, value, description) in SYSTEM_CLASSES {
        store.create(
            &r::PRIORITY_CLASSES,
            None,
            json!({"metadata": {"name": name}, "value": value, "description": description,
                   "preemptionPolicy": PREEMPT_LOWER_PRIORITY}),
        )?;
    }
    store.add_admission(Box::new(admit));
    Ok(())
}

/// apierrors.NewForbidden as admission.NewForbidden builds it: `pods "x" is forbidden: ...`.
fn forbidden(rt: &ResourceType, name: &str, message: String) -> ApiError {
    let mut details = json!({"name": name, "kind": rt.plural});
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    ApiError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "{} \"{name}\" is forbidden: {message}",
            rt.qualified_plural()
        ),
        details: Some(details),
    }
}

/// The name admission reports: the object's name, else its generateName (upstream's
/// extractResourceName; kube-sim fills a generated name before admission, so that one shows).
fn reported_name(obj: &Value) -> &str {
    let meta = &obj["metadata"];
    meta["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .or_else(|| meta["generateName"].as_str())
        .unwrap_or("")
}

/// getDefaultPriorityClass: the globalDefault class with the lowest value (several can exist
/// after a race), if any.
pub fn default_class(objs: &Objects) -> Option<&Value> {
    objs.list(&r::PRIORITY_CLASSES, None)
        .filter(|pc| pc["globalDefault"] == true)
        .min_by_key(|pc| pc["value"].as_i64().unwrap_or(0))
}

/// The admission plugin, on create: defaults a class's preemptionPolicy, keeps classes to one
/// globalDefault, and resolves a pod's priority.
pub fn admit(objs: &Objects, rt: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    match rt.plural {
        "pods" => admit_pod(objs, obj),
        "priorityclasses" => {
            if obj["preemptionPolicy"].is_null() {
                obj["preemptionPolicy"] = json!(PREEMPT_LOWER_PRIORITY);
            }
            check_single_default(default_class(objs), obj, true)
        }
        _ => Ok(()),
    }
}

/// validatePriorityClass: a class may become the globalDefault only when no other class is.
/// `default` is the current default class (read before the write).
pub fn check_single_default(
    default: Option<&Value>,
    class: &Value,
    creating: bool,
) -> Result<(), ApiError> {
    if class["globalDefault"] != true {
        return Ok(());
    }
    let Some(current) = default else {
        return Ok(());
    };
    let current_name = current["metadata"]["name"].as_str().unwrap_or("");
    let name = reported_name(class);
    if creating || current_name != name {
        return Err(forbidden(
            &r::PRIORITY_CLASSES,
            name,
            format!(
                "PriorityClass {current_name} is already marked as default. Only one default can exist"
            ),
        ));
    }
    Ok(())
}

/// admitPod on create: the class named (403 when there is none), else the default class, else
/// priority 0 and PreemptLowerPriority; a priority or preemption policy the pod already states
/// must be the computed one.
fn admit_pod(objs: &Objects, pod: &mut Value) -> Result<(), ApiError> {
    let name = reported_name(pod).to_string();
    let class_name = pod["spec"]["priorityClassName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let (class_name, priority, policy) = if class_name.is_empty() {
        match default_class(objs) {
            Some(pc) => (
                pc["metadata"]["name"].as_str().unwrap_or("").to_string(),
                pc["value"].as_i64().unwrap_or(0),
                pc["preemptionPolicy"].as_str().map(String::from),
            ),
            None => (String::new(), 0, Some(PREEMPT_LOWER_PRIORITY.to_string())),
        }
    } else {
        let Some(pc) = objs.get(&r::PRIORITY_CLASSES, None, &class_name) else {
            return Err(forbidden(
                &r::PODS,
                &name,
                format!("no PriorityClass with name {class_name} was found"),
            ));
        };
        (
            class_name,
            pc["value"].as_i64().unwrap_or(0),
            pc["preemptionPolicy"].as_str().map(String::from),
        )
    };
    if !pod["spec"].is_object() {
        pod["spec"] = json!({});
    }
    let spec = &mut pod["spec"];
    if let Some(given) = spec["priority"].as_i64()
        && given != priority
    {
        return Err(forbidden(
            &r::PODS,
            &name,
            format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
            ),
        ));
    }
    if !class_name.is_empty() {
        spec["priorityClassName"] = json!(class_name);
    }
    spec["priority"] = json!(priority);
    if let Some(policy) = policy {
        if let Some(given) = spec["preemptionPolicy"].as_str()
            && given != policy
        {
            return Err(forbidden(
                &r::PODS,
                &name,
                format!(
                    "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
                ),
            ));
        }
        spec["preemptionPolicy"] = json!(policy);
    }
    Ok(())
}

/// admitPod on update: a pod written back without its priority or preemption policy keeps the
/// ones admission set at create.
pub fn keep_on_update(old: &Value, new: &mut Value) {
    for field in ["priority", "preemptionPolicy"] {
        if new["spec"][field].is_null() && !old["spec"][field].is_null() && new["spec"].is_object()
        {
            new["spec"][field] = old["spec"][field].clone();
        }
    }
}

/// The registry's Delete: a system class cannot be deleted.
pub fn check_delete(rt: &ResourceType, name: &str) -> Result<(), ApiError> {
    if rt.plural == "priorityclasses" && system_class(name).is_some() {
        return Err(forbidden(
            rt,
            name,
            "this is a system priority class and cannot be deleted".to_string(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::Clock;

    fn store() -> Store {
        let s = Store::new(Arc::new(Clock::new(1.0)));
        s.create(
            &r::NAMESPACES,
            None,
            json!({"metadata": {"name": "default"}}),
        )
        .unwrap();
        install(&s).unwrap();
        s
    }

    fn pod(name: &str, spec: Value) -> Value {
        json!({"metadata": {"name": name}, "spec": spec})
    }

    #[test]
    fn system_classes_exist_and_pods_default_to_zero() {
        let s = store();
        let node = s
            .get(&r::PRIORITY_CLASSES, None, "system-node-critical")
            .unwrap();
        assert_eq!(node["value"], 2_000_001_000);
        assert_eq!(node["preemptionPolicy"], "PreemptLowerPriority");
        let p = s
            .create(&r::PODS, Some("default"), pod("a", json!({})))
            .unwrap();
        assert_eq!(p["spec"]["priority"], 0);
        assert_eq!(p["spec"]["preemptionPolicy"], "PreemptLowerPriority");
        assert!(p["spec"]["priorityClassName"].is_null());
        let critical = s
            .create(
                &r::PODS,
                Some("default"),
                pod("b", json!({"priorityClassName": "system-cluster-critical"})),
            )
            .unwrap();
        assert_eq!(critical["spec"]["priority"], 2_000_000_000);
    }

    #[test]
    fn classes_resolve_and_refusals_carry_upstream_words() {
        let s = store();
        s.create(
            &r::PRIORITY_CLASSES,
            None,
            json!({"metadata": {"name": "batch"}, "value": -10, "preemptionPolicy": "Never"}),
        )
        .unwrap();
        let p = s
            .create(
                &r::PODS,
                Some("default"),
                pod("a", json!({"priorityClassName": "batch"})),
            )
            .unwrap();
        assert_eq!(
            (&p["spec"]["priority"], &p["spec"]["preemptionPolicy"]),
            (&json!(-10), &json!("Never"))
        );
        // The same priority stated again is fine; another one is not.
        s.create(
            &r::PODS,
            Some("default"),
            pod("b", json!({"priorityClassName": "batch", "priority": -10})),
        )
        .unwrap();
        let err = s
            .create(
                &r::PODS,
                Some("default"),
                pod("c", json!({"priorityClassName": "batch", "priority": 5})),
            )
            .unwrap_err();
        assert_eq!((err.code, err.reason), (403, "Forbidden"));
        assert_eq!(
            err.message,
            "pods \"c\" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed -10 from the given PriorityClass name"
        );
        let err = s
            .create(
                &r::PODS,
                Some("default"),
                pod("d", json!({"priorityClassName": "nope"})),
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "pods \"d\" is forbidden: no PriorityClass with name nope was found"
        );
        let err = s
            .create(
                &r::PODS,
                Some("default"),
                pod(
                    "e",
                    json!({"priorityClassName": "batch", "preemptionPolicy": "PreemptLowerPriority"}),
                ),
            )
            .unwrap_err();
        assert!(
            err.message.contains(
                "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided"
            ),
            "{}",
            err.message
        );
        assert!(s.get(&r::PODS, Some("default"), "d").is_err());
    }

    #[test]
    fn one_global_default_names_the_class_of_pods_without_one() {
        let s = store();
        s.create(
            &r::PRIORITY_CLASSES,
            None,
            json!({"metadata": {"name": "normal"}, "value": 100, "globalDefault": true}),
        )
        .unwrap();
        let err = s
            .create(
                &r::PRIORITY_CLASSES,
                None,
                json!({"metadata": {"name": "other"}, "value": 5, "globalDefault": true}),
            )
            .unwrap_err();
        assert_eq!(err.code, 403);
        assert_eq!(
            err.message,
            "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass normal is already marked as default. Only one default can exist"
        );
        let p = s
            .create(&r::PODS, Some("default"), pod("a", json!({})))
            .unwrap();
        assert_eq!(p["spec"]["priority"], 100);
        assert_eq!(p["spec"]["priorityClassName"], "normal");
        // Updating the default itself is fine; making another one the default is not.
        let normal = s.read(|o| default_class(o).cloned()).unwrap();
        assert!(check_single_default(Some(&normal), &normal, false).is_ok());
        let other = json!({"metadata": {"name": "low"}, "value": 1, "globalDefault": true});
        assert_eq!(
            check_single_default(Some(&normal), &other, false)
                .unwrap_err()
                .code,
            403
        );
    }

    #[test]
    fn updates_keep_the_admitted_priority_and_system_classes_stay() {
        let old = json!({"spec": {"priority": 7, "preemptionPolicy": "Never"}});
        let mut new = json!({"spec": {"containers": []}});
        keep_on_update(&old, &mut new);
        assert_eq!(new["spec"]["priority"], 7);
        assert_eq!(new["spec"]["preemptionPolicy"], "Never");
        let err = check_delete(&r::PRIORITY_CLASSES, "system-node-critical").unwrap_err();
        assert_eq!(
            err.message,
            "priorityclasses.scheduling.k8s.io \"system-node-critical\" is forbidden: this is a system priority class and cannot be deleted"
        );
        assert!(check_delete(&r::PRIORITY_CLASSES, "batch").is_ok());
        assert!(check_delete(&r::PODS, "system-node-critical").is_ok());
    }
}
