//! Large clusters for benchmarks: `large:nodes=50,airflow=200,pods=5000,workflows=2000`.
//! Objects are consistent (owners before dependents, pods already Running on nodes with room);
//! names are deterministic.

use serde_json::{Value, json};

use crate::scenario::{Rule, Scenario, User};

/// How big a generated cluster is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeSpec {
    pub nodes: usize,
    pub airflow_deployments: usize,
    /// Pods in total (Airflow pods count towards it; the rest are filler Deployments).
    pub pods: usize,
    pub workflows: usize,
    /// Seconds a pod takes to stop once deleted (the kubelet's graceful termination); 1 if unset.
    pub terminate_seconds: Option<usize>,
}

impl Default for LargeSpec {
    fn default() -> Self {
        LargeSpec {
            nodes: 3,
            airflow_deployments: 0,
            pods: 0,
            workflows: 0,
            terminate_seconds: None,
        }
    }
}

impl LargeSpec {
    /// Parses `nodes=50,airflow=200,pods=5000,workflows=2000` (any subset).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut spec = LargeSpec::default();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {part:?}"))?;
            let n: usize = value
                .parse()
                .map_err(|_| format!("{key}: {value:?} is not a number"))?;
            match key {
                "nodes" => spec.nodes = n.max(1),
                "airflow" => spec.airflow_deployments = n,
                "pods" => spec.pods = n,
                "workflows" => spec.workflows = n,
                "terminate" => spec.terminate_seconds = Some(n),
                other => {
                    return Err(format!(
                        "unknown key {other:?}: use nodes, airflow, pods, workflows, terminate"
                    ));
                }
            }
        }
        Ok(spec)
    }
}

const CREATED: &str = "2026-11-01T00:00:00Z";

fn running_pod(
    ns: &str,
    name: &str,
    labels: &Value,
    owner: (&str, &str),
    node: &str,
    index: usize,
) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "creationTimestamp": CREATED,
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner.0, "name": owner.1}]},
        "spec": {"nodeName": node, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                 "containers": [{"name": "main", "image": "busybox:1.37", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
        "status": {"phase": "Running", "podIP": format!("10.{}.{}.{}", 100 + index / 62_500 % 100, index / 250 % 250, 2 + index % 250), "startTime": CREATED,
                   "containerStatuses": [{"name": "main", "ready": true, "started": true, "restartCount": 0, "image": "busybox:1.37", "state": {"running": {"startedAt": CREATED}}}],
                   "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}, {"type": "PodScheduled", "status": "True"}]},
    })
}

fn workload(kind: &str, ns: &str, name: &str, labels: &Value, replicas: usize) -> Value {
    let mut spec = json!({"replicas": replicas, "selector": {"matchLabels": labels},
                          "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": "busybox:1.37", "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}});
    if kind == "StatefulSet" {
        spec["serviceName"] = json!(name);
    }
    json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": ns, "labels": labels, "creationTimestamp": CREATED}, "spec": spec})
}

/// A Deployment with its ReplicaSet and `replicas` Running pods.
fn deployment(
    out: &mut Vec<Value>,
    ns: &str,
    name: &str,
    labels: Value,
    replicas: usize,
    nodes: &[String],
    counter: &mut usize,
) {
    out.push(workload("Deployment", ns, name, &labels, replicas));
    let rs = format!("{name}-6b7d9c8f5d");
    let mut rs_labels = labels.clone();
    rs_labels["pod-template-hash"] = json!("6b7d9c8f5d");
    let mut rs_obj = workload("ReplicaSet", ns, &rs, &rs_labels, replicas);
    rs_obj["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]);
    out.push(rs_obj);
    for i in 0..replicas {
        *counter += 1;
        out.push(running_pod(
            ns,
            &format!("{rs}-p{i:04}"),
            &rs_labels,
            ("ReplicaSet", &rs),
            &nodes[*counter % nodes.len()],
            *counter,
        ));
    }
}

/// Builds the scenario.
pub fn large(spec: &LargeSpec) -> Scenario {
    let mut objects = Vec::new();
    let nodes: Vec<String> = (0..spec.nodes.max(1))
        .map(|i| format!("ip-10-20-{}-{}.ec2.internal", i / 250, i % 250 + 1))
        .collect();
    let pods_per_node = (spec.pods / nodes.len() + 20).max(110);
    for name in &nodes {
        objects.push(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "creationTimestamp": CREATED, "labels": {"kubernetes.io/hostname": name}},
                            "spec": {"providerID": format!("aws:///us-east-1a/i-{name}")},
                            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": pods_per_node.to_string()}, "capacity": {"cpu": "64", "memory": "256Gi", "pods": pods_per_node.to_string()},
                                       "conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.33.2"}}}));
    }
    let namespace = |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "creationTimestamp": CREATED}});
    objects.push(namespace("default"));
    let mut counter = 0usize;
    for a in 0..spec.airflow_deployments {
        let release = format!("release-{a:04}");
        let ns = format!("airflow-{release}");
        objects.push(namespace(&ns));
        for component in ["scheduler", "webserver"] {
            let labels = json!({"tier": "airflow", "component": component, "release": release});
            deployment(
                &mut objects,
                &ns,
                &format!("{release}-{component}"),
                labels,
                1,
                &nodes,
                &mut counter,
            );
        }
        let labels = json!({"tier": "airflow", "component": "worker", "release": release});
        let sts = format!("{release}-worker");
        let mut sts_obj = workload("StatefulSet", &ns, &sts, &labels, 1);
        sts_obj["metadata"]["labels"]["executor"] = json!("CeleryExecutor");
        objects.push(sts_obj);
        counter += 1;
        objects.push(running_pod(
            &ns,
            &format!("{sts}-0"),
            &labels,
            ("StatefulSet", &sts),
            &nodes[counter % nodes.len()],
            counter,
        ));
    }
    if spec.pods > counter {
        objects.push(namespace("filler"));
        let remaining = spec.pods - counter;
        let per_deployment = 20usize;
        let mut d = 0;
        let mut left = remaining;
        while left > 0 {
            let n = left.min(per_deployment);
            deployment(
                &mut objects,
                "filler",
                &format!("app-{d:04}"),
                json!({"app": format!("app-{d:04}")}),
                n,
                &nodes,
                &mut counter,
            );
            left -= n;
            d += 1;
        }
    }
    if spec.workflows > 0 {
        objects.push(namespace("workflows"));
        let phases = [
            "Succeeded",
            "Failed",
            "Running",
            "Succeeded",
            "Error",
            "Pending",
        ];
        for w in 0..spec.workflows {
            let phase = phases[w % phases.len()];
            let name = format!("deploy-{w:05}");
            let mut labels = json!({"instance_uuid": format!("00000000-0000-4000-8000-{:012}", w / 3), "username": format!("user{}", w % 17), "workflows.argoproj.io/phase": phase});
            if matches!(phase, "Succeeded" | "Failed" | "Error") {
                labels["workflows.argoproj.io/completed"] = json!("true");
            }
            let day = 1 + w % 23;
            let started = format!("2026-11-{day:02}T{:02}:{:02}:00Z", w % 24, w % 60);
            let mut status = json!({"phase": phase, "startedAt": started, "progress": "1/1",
                                    "nodes": {name.clone(): {"id": name, "name": name, "displayName": name, "type": "Pod", "templateName": "deploy", "phase": phase, "startedAt": started}}});
            if matches!(phase, "Succeeded" | "Failed" | "Error") {
                status["finishedAt"] = json!(started.replacen(":00Z", ":30Z", 1));
            }
            objects.push(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                "metadata": {"name": name, "namespace": "workflows", "labels": labels, "creationTimestamp": started},
                                "spec": {"entrypoint": "deploy", "arguments": {"parameters": [{"name": "instance_uuid", "value": labels["instance_uuid"]}]},
                                         "templates": [{"name": "deploy", "container": {"image": "ansible:2.17"}}]},
                                "status": status}));
        }
    }
    if let Some(seconds) = spec.terminate_seconds {
        // The kubelet's graceful termination takes this long for every pod.
        for pod in objects.iter_mut().filter(|o| o["kind"] == "Pod") {
            pod["metadata"]["annotations"]["sim.kube-sim.dev/terminate-seconds"] =
                json!(seconds.to_string());
        }
        for owner in objects.iter_mut().filter(|o| {
            matches!(
                o["kind"].as_str(),
                Some("ReplicaSet" | "StatefulSet" | "Deployment")
            )
        }) {
            owner["spec"]["template"]["metadata"]["annotations"]["sim.kube-sim.dev/terminate-seconds"] =
                json!(seconds.to_string());
        }
    }
    Scenario {
        name: format!(
            "large:nodes={},airflow={},pods={},workflows={}",
            spec.nodes, spec.airflow_deployments, spec.pods, spec.workflows
        ),
        description: "generated large cluster".to_string(),
        users: vec![User {
            name: "admin".into(),
            token: "kube-sim-admin-token".into(),
            groups: Vec::new(),
            rules: vec![Rule {
                verbs: vec!["*".into()],
                api_groups: vec!["*".into()],
                resources: vec!["*".into()],
                namespaces: vec!["*".into()],
            }],
        }],
        objects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_exact() {
        let spec = LargeSpec::parse("nodes=5,airflow=10,pods=300,workflows=40").unwrap();
        let s = large(&spec);
        let count = |kind: &str| s.objects.iter().filter(|o| o["kind"] == kind).count();
        assert_eq!(count("Node"), 5);
        assert_eq!(count("Pod"), 300);
        assert_eq!(count("Workflow"), 40);
        assert_eq!(
            s.objects
                .iter()
                .filter(|o| o["kind"] == "Deployment"
                    && o["metadata"]["labels"]["component"] == "scheduler")
                .count(),
            10
        );
        let store = crate::store::Store::new(std::sync::Arc::new(crate::clock::Clock::new(1.0)));
        s.apply(&store).unwrap();
        assert!(LargeSpec::parse("nodes=x").is_err() && LargeSpec::parse("cows=1").is_err());
    }
}
