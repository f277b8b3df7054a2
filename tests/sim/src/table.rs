//! Server-side `Table` output (`Accept: ...;as=Table`) so `kubectl get` prints real columns.

use serde_json::{Value, json};

use crate::resources::ResourceType;

fn age(obj: &Value, now: jiff::Timestamp) -> String {
    let Some(created) = obj["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(crate::clock::parse_rfc3339)
    else {
        return "<unknown>".into();
    };
    let secs = now.duration_since(created).as_secs().max(0) as u64;
    match secs {
        0..120 => format!("{secs}s"),
        120..600 => format!("{}m{}s", secs / 60, secs % 60),
        600..10_800 => format!("{}m", secs / 60),
        10_800..172_800 => format!("{}h", secs / 3600),
        172_800..63_072_000 => format!("{}d", secs / 86_400),
        _ => format!("{}y", secs / 31_536_000),
    }
}

/// kubectl's STATUS column for a pod.
pub fn pod_status(pod: &Value) -> String {
    if !pod["metadata"]["deletionTimestamp"].is_null() {
        return "Terminating".into();
    }
    let mut reason = pod["status"]["reason"]
        .as_str()
        .or(pod["status"]["phase"].as_str())
        .unwrap_or("Pending")
        .to_string();
    if let Some(statuses) = pod["status"]["containerStatuses"].as_array() {
        for cs in statuses {
            if let Some(r) = cs["state"]["waiting"]["reason"].as_str() {
                reason = r.to_string();
            } else if let Some(r) = cs["state"]["terminated"]["reason"].as_str()
                && reason != "Running"
            {
                reason = r.to_string();
            }
        }
    }
    reason
}

fn pod_cells(pod: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = pod["spec"]["containers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    let ready = statuses.iter().filter(|c| c["ready"] == true).count();
    let restarts: i64 = statuses
        .iter()
        .map(|c| c["restartCount"].as_i64().unwrap_or(0))
        .sum();
    vec![
        pod["metadata"]["name"].clone(),
        json!(format!("{ready}/{total}")),
        json!(pod_status(pod)),
        json!(restarts),
        json!(age(pod, now)),
        json!(pod["status"]["podIP"].as_str().unwrap_or("<none>")),
        json!(pod["spec"]["nodeName"].as_str().unwrap_or("<none>")),
    ]
}

fn node_cells(node: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .is_some_and(|c| c["status"] == "True");
    let mut status = if ready {
        "Ready".to_string()
    } else {
        "NotReady".to_string()
    };
    if node["spec"]["unschedulable"] == true {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<String> = node["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/").map(String::from))
                .collect()
        })
        .unwrap_or_default();
    vec![
        node["metadata"]["name"].clone(),
        json!(status),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        }),
        json!(age(node, now)),
        json!(
            node["status"]["nodeInfo"]["kubeletVersion"]
                .as_str()
                .unwrap_or("")
        ),
    ]
}

/// Renders one object's cells.
type CellFn = Box<dyn Fn(&Value) -> Vec<Value>>;

/// Builds a `meta.k8s.io/v1` Table from a list object.
pub fn to_table(
    rt: &ResourceType,
    list: &Value,
    now: jiff::Timestamp,
    _include: Option<&str>,
) -> Value {
    let col = |name: &str, ty: &str, priority: u8| json!({"name": name, "type": ty, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority});
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let (columns, cells): (Vec<Value>, CellFn) = match rt.plural {
        "pods" => (
            vec![
                col("Name", "string", 0),
                col("Ready", "string", 0),
                col("Status", "string", 0),
                col("Restarts", "integer", 0),
                col("Age", "string", 0),
                col("IP", "string", 1),
                col("Node", "string", 1),
            ],
            Box::new(move |o| pod_cells(o, now)),
        ),
        "nodes" => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Roles", "string", 0),
                col("Age", "string", 0),
                col("Version", "string", 0),
            ],
            Box::new(move |o| node_cells(o, now)),
        ),
        "persistentvolumeclaims" => (
            vec![
                col("Name", "string", 0),
                col("Status", "string", 0),
                col("Volume", "string", 0),
                col("Capacity", "string", 0),
                col("Access Modes", "string", 0),
                col("StorageClass", "string", 0),
                col("Age", "string", 0),
            ],
            Box::new(move |o| {
                let modes: Vec<&str> = o["spec"]["accessModes"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|m| match m {
                                "ReadWriteOnce" => "RWO",
                                "ReadOnlyMany" => "ROX",
                                "ReadWriteMany" => "RWX",
                                "ReadWriteOncePod" => "RWOP",
                                other => other,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let status = if o["metadata"]["deletionTimestamp"].is_null() {
                    o["status"]["phase"].as_str().unwrap_or("Pending")
                } else {
                    "Terminating"
                };
                vec![
                    o["metadata"]["name"].clone(),
                    json!(status),
                    json!(o["spec"]["volumeName"].as_str().unwrap_or("")),
                    json!(o["status"]["capacity"]["storage"].as_str().unwrap_or("")),
                    json!(modes.join(",")),
                    json!(o["spec"]["storageClassName"].as_str().unwrap_or("<unset>")),
                    json!(age(o, now)),
                ]
            }),
        ),
        "deployments" => (
            vec![
                col("Name", "string", 0),
                col("Ready", "string", 0),
                col("Up-to-date", "integer", 0),
                col("Available", "integer", 0),
                col("Age", "string", 0),
            ],
            Box::new(move |o| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!(format!(
                        "{}/{}",
                        o["status"]["readyReplicas"].as_i64().unwrap_or(0),
                        o["spec"]["replicas"].as_i64().unwrap_or(1)
                    )),
                    json!(o["status"]["updatedReplicas"].as_i64().unwrap_or(0)),
                    json!(o["status"]["availableReplicas"].as_i64().unwrap_or(0)),
                    json!(age(o, now)),
                ]
            }),
        ),
        "statefulsets" => (
            vec![
                col("Name", "string", 0),
                col("Ready", "string", 0),
                col("Age", "string", 0),
            ],
            Box::new(move |o| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!(format!(
                        "{}/{}",
                        o["status"]["readyReplicas"].as_i64().unwrap_or(0),
                        o["spec"]["replicas"].as_i64().unwrap_or(1)
                    )),
                    json!(age(o, now)),
                ]
            }),
        ),
        // kubernetes/kubernetes pkg/printers/internalversion/printers.go
        // volumeAttachmentColumnDefinitions: Name, Attacher, PV, Node, Attached, Age.
        "volumeattachments" => (
            vec![
                col("Name", "string", 0),
                col("Attacher", "string", 0),
                col("PV", "string", 0),
                col("Node", "string", 0),
                col("Attached", "boolean", 0),
                col("Age", "string", 0),
            ],
            Box::new(move |o| {
                vec![
                    o["metadata"]["name"].clone(),
                    o["spec"]["attacher"].clone(),
                    json!(
                        o["spec"]["source"]["persistentVolumeName"]
                            .as_str()
                            .unwrap_or("")
                    ),
                    o["spec"]["nodeName"].clone(),
                    json!(o["status"]["attached"].as_bool().unwrap_or(false)),
                    json!(age(o, now)),
                ]
            }),
        ),
        // pkg/printers/internalversion/printers.go priorityClassColumnDefinitions.
        "priorityclasses" => (
            vec![
                col("Name", "string", 0),
                col("Value", "integer", 0),
                col("Global-Default", "boolean", 0),
                col("Age", "string", 0),
                col("PreemptionPolicy", "string", 0),
            ],
            Box::new(move |o| {
                vec![
                    o["metadata"]["name"].clone(),
                    json!(o["value"].as_i64().unwrap_or(0)),
                    json!(o["globalDefault"].as_bool().unwrap_or(false)),
                    json!(age(o, now)),
                    json!(o["preemptionPolicy"].as_str().unwrap_or("")),
                ]
            }),
        ),
        _ => (
            vec![col("Name", "string", 0), col("Age", "string", 0)],
            Box::new(move |o| vec![o["metadata"]["name"].clone(), json!(age(o, now))]),
        ),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let mut object = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]});
            if let Some(m) = object["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells(o), "object": object})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list["metadata"],
        "columnDefinitions": columns,
        "rows": rows,
    })
}
