//! Large clusters for benchmarks: `large:nodes=50,airflow=200,pods=5000,workflows=2000`.
//! Objects are consistent (owners before dependents, pods already Running on nodes with room);
//! names are deterministic.
//!
//! Keys (any subset, comma-separated `key=value`, each a whole number):
//! - `nodes=N` (default 3), `airflow=M` Airflow releases (scheduler and webserver Deployments
//!   and a worker StatefulSet, one pod each), `pods=P` pods in all (the Airflow ones count; the
//!   rest are filler Deployments of 20 replicas in namespace `filler`), `workflows=K` Argo
//!   Workflows. Pods are spread over all nodes, round robin.
//! - `terminate=T`: pods take T seconds to stop once deleted (default 1; the kubelet ends a pod
//!   after this or its grace period, whichever is first).
//! - `grace=S`: pods' `terminationGracePeriodSeconds` is S (default 30) and, unless `terminate=`
//!   says otherwise, they use all of it: S seconds to stop once deleted (a server draining its
//!   connections). With both, pods stop after min(T, S).
//! - `ready=S`: pods' containers have a readinessProbe (`initialDelaySeconds: S`, probed every
//!   S seconds), so a replacement pod is Ready S seconds after it starts; the generated pods are
//!   Ready already. Without it the kubelet's default applies (2 s).
//! - `pool=K`: a pool to rotate: the first K nodes are labelled `agentpool=old`, the others
//!   `agentpool=new` (1 ≤ K ≤ nodes).
//! - `pdb=K`: a PodDisruptionBudget `maxUnavailable: K` for every filler Deployment and Airflow
//!   worker StatefulSet (`pdb=0`, the default: none; `pdb=5` lets a quarter of a filler
//!   Deployment's 20 replicas go at once).
//! - `priority=1`: three PriorityClasses (`pool-batch` 1000, `pool-standard` 100000,
//!   `pool-critical` 1000000); filler Deployments name them in turn, three batch, two standard,
//!   one critical in every six (`priority=0`, the default: no classes, every pod at 0).

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
    /// Seconds a pod takes to stop once deleted (the kubelet's graceful termination); 1 if unset
    /// (or `grace_seconds` when that is set).
    pub terminate_seconds: Option<usize>,
    /// Pods' terminationGracePeriodSeconds; 30 if unset.
    pub grace_seconds: Option<usize>,
    /// Seconds from a container's start to Ready (a readinessProbe); the kubelet's default if unset.
    pub ready_seconds: Option<usize>,
    /// How many nodes (the first ones) are in the pool `agentpool=old`; no pool labels if unset.
    pub pool: Option<usize>,
    /// A PodDisruptionBudget (maxUnavailable this many) per filler Deployment and Airflow
    /// worker; none if 0.
    pub pdbs: usize,
    /// PriorityClasses, named by the filler Deployments.
    pub priorities: bool,
}

impl Default for LargeSpec {
    fn default() -> Self {
        LargeSpec {
            nodes: 3,
            airflow_deployments: 0,
            pods: 0,
            workflows: 0,
            terminate_seconds: None,
            grace_seconds: None,
            ready_seconds: None,
            pool: None,
            pdbs: 0,
            priorities: false,
        }
    }
}

/// A 0/1 switch.
fn switch(key: &str, n: usize) -> Result<bool, String> {
    match n {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(format!("{key}: use 0 or 1, not {n}")),
    }
}

impl LargeSpec {
    /// Parses `nodes=50,airflow=200,pods=5000,workflows=2000` (any subset; see the module doc).
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
                "grace" => spec.grace_seconds = Some(n),
                "ready" => spec.ready_seconds = Some(n),
                "pool" => spec.pool = Some(n),
                "pdb" => spec.pdbs = n,
                "priority" => spec.priorities = switch(key, n)?,
                other => {
                    return Err(format!(
                        "unknown key {other:?}: use nodes, airflow, pods, workflows, terminate, grace, ready, pool, pdb, priority"
                    ));
                }
            }
        }
        // After every key: `pool` is checked against `nodes` wherever either comes.
        if let Some(k) = spec.pool
            && !(1..=spec.nodes).contains(&k)
        {
            return Err(format!(
                "pool: {k} nodes in the pool, but the cluster has {} (use 1 to {})",
                spec.nodes, spec.nodes
            ));
        }
        Ok(spec)
    }
}

/// The PriorityClasses of `priority=1`, lowest first, and how many filler Deployments of every
/// six name each (low ones most common, as in a cluster where most work is preemptible).
const PRIORITY_CLASSES: [(&str, i64, usize); 3] = [
    ("pool-batch", 1000, 3),
    ("pool-standard", 100_000, 2),
    ("pool-critical", 1_000_000, 1),
];

/// The class the `d`-th filler Deployment names.
fn filler_class(d: usize) -> &'static str {
    let cycle: usize = PRIORITY_CLASSES.iter().map(|(_, _, n)| n).sum();
    let mut slot = d % cycle;
    for (name, _, n) in PRIORITY_CLASSES {
        if slot < n {
            return name;
        }
        slot -= n;
    }
    PRIORITY_CLASSES[0].0
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

/// A Deployment with its ReplicaSet and `replicas` Running pods, their template naming
/// `class` as priorityClassName when given.
#[allow(clippy::too_many_arguments)]
fn deployment(
    out: &mut Vec<Value>,
    ns: &str,
    name: &str,
    labels: Value,
    replicas: usize,
    class: Option<&str>,
    nodes: &[String],
    counter: &mut usize,
) {
    let with_class = |mut o: Value, spec: &[&str]| {
        if let Some(class) = class {
            let mut at = &mut o;
            for key in spec {
                at = &mut at[*key];
            }
            at["priorityClassName"] = json!(class);
        }
        o
    };
    let template = ["spec", "template", "spec"];
    out.push(with_class(
        workload("Deployment", ns, name, &labels, replicas),
        &template,
    ));
    let rs = format!("{name}-6b7d9c8f5d");
    let mut rs_labels = labels.clone();
    rs_labels["pod-template-hash"] = json!("6b7d9c8f5d");
    let mut rs_obj = workload("ReplicaSet", ns, &rs, &rs_labels, replicas);
    rs_obj["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}]);
    out.push(with_class(rs_obj, &template));
    for i in 0..replicas {
        *counter += 1;
        let pod = running_pod(
            ns,
            &format!("{rs}-p{i:04}"),
            &rs_labels,
            ("ReplicaSet", &rs),
            &nodes[*counter % nodes.len()],
            *counter,
        );
        out.push(with_class(pod, &["spec"]));
    }
}

/// A PodDisruptionBudget allowing one of the pods `labels` select to be down.
fn pdb(ns: &str, name: &str, labels: &Value, max_unavailable: usize) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": name, "namespace": ns, "creationTimestamp": CREATED},
           "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": labels}}})
}

/// The pod specs of an object: a pod's own, or a workload's template's.
fn pod_spec_mut(o: &mut Value) -> Option<&mut Value> {
    match o["kind"].as_str() {
        Some("Pod") => Some(&mut o["spec"]),
        Some("ReplicaSet" | "StatefulSet" | "Deployment") => {
            Some(&mut o["spec"]["template"]["spec"])
        }
        _ => None,
    }
}

/// Builds the scenario.
pub fn large(spec: &LargeSpec) -> Scenario {
    let mut objects = Vec::new();
    let nodes: Vec<String> = (0..spec.nodes.max(1))
        .map(|i| format!("ip-10-20-{}-{}.ec2.internal", i / 250, i % 250 + 1))
        .collect();
    let pods_per_node = (spec.pods / nodes.len() + 20).max(110);
    for (i, name) in nodes.iter().enumerate() {
        let mut labels = json!({"kubernetes.io/hostname": name});
        if let Some(k) = spec.pool {
            labels["agentpool"] = json!(if i < k { "old" } else { "new" });
        }
        objects.push(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "creationTimestamp": CREATED, "labels": labels},
                            "spec": {"providerID": format!("aws:///us-east-1a/i-{name}")},
                            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": pods_per_node.to_string()}, "capacity": {"cpu": "64", "memory": "256Gi", "pods": pods_per_node.to_string()},
                                       "conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.33.2"}}}));
    }
    let namespace = |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "creationTimestamp": CREATED}});
    objects.push(namespace("default"));
    if spec.priorities {
        for (name, value, _) in PRIORITY_CLASSES {
            objects.push(json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                "metadata": {"name": name, "creationTimestamp": CREATED}, "value": value,
                                "description": format!("generated: filler Deployments of priority {value}")}));
        }
    }
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
                None,
                &nodes,
                &mut counter,
            );
        }
        let labels = json!({"tier": "airflow", "component": "worker", "release": release});
        let sts = format!("{release}-worker");
        let mut sts_obj = workload("StatefulSet", &ns, &sts, &labels, 1);
        sts_obj["metadata"]["labels"]["executor"] = json!("CeleryExecutor");
        objects.push(sts_obj);
        if spec.pdbs > 0 {
            objects.push(pdb(&ns, &sts, &labels, spec.pdbs));
        }
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
            let name = format!("app-{d:04}");
            let labels = json!({"app": name});
            deployment(
                &mut objects,
                "filler",
                &name,
                labels.clone(),
                n,
                spec.priorities.then(|| filler_class(d)),
                &nodes,
                &mut counter,
            );
            if spec.pdbs > 0 {
                objects.push(pdb("filler", &name, &labels, spec.pdbs));
            }
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
    if let Some(seconds) = spec.terminate_seconds.or(spec.grace_seconds) {
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
    // Pods and their templates alike, so the controllers see the pods as the template's.
    for o in objects.iter_mut() {
        let Some(pod_spec) = pod_spec_mut(o) else {
            continue;
        };
        if let Some(grace) = spec.grace_seconds {
            pod_spec["terminationGracePeriodSeconds"] = json!(grace);
        }
        if let Some(ready) = spec.ready_seconds {
            // The kubelet counts the first probe at or after the delay (control.rs
            // ready_after): probing every `ready` seconds makes that exactly `ready`.
            for c in pod_spec["containers"].as_array_mut().into_iter().flatten() {
                c["readinessProbe"] = json!({"httpGet": {"path": "/healthz", "port": 8080},
                                             "initialDelaySeconds": ready, "periodSeconds": ready.max(1)});
            }
        }
    }
    Scenario {
        name: format!(
            "large:nodes={},airflow={},pods={},workflows={}{}",
            spec.nodes,
            spec.airflow_deployments,
            spec.pods,
            spec.workflows,
            spec.pool.map(|k| format!(",pool={k}")).unwrap_or_default()
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

    fn of_kind<'a>(s: &'a Scenario, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        s.objects.iter().filter(move |o| o["kind"] == kind)
    }

    #[test]
    fn a_pool_labels_the_first_nodes_old_and_the_rest_new() {
        // `pool` is checked against `nodes` wherever either comes.
        let spec = LargeSpec::parse("pool=4,nodes=10,pods=200").unwrap();
        let s = large(&spec);
        let pools: Vec<&str> = of_kind(&s, "Node")
            .map(|n| n["metadata"]["labels"]["agentpool"].as_str().unwrap())
            .collect();
        assert_eq!(pools, [["old"; 4].as_slice(), &["new"; 6]].concat());
        // Pods still go round robin over every node.
        let on_old = of_kind(&s, "Pod")
            .filter(|p| {
                let node = p["spec"]["nodeName"].as_str().unwrap();
                of_kind(&s, "Node")
                    .take(4)
                    .any(|n| n["metadata"]["name"] == node)
            })
            .count();
        assert_eq!(on_old, 80);
        assert!(
            of_kind(&large(&LargeSpec::parse("nodes=2").unwrap()), "Node")
                .all(|n| n["metadata"]["labels"]["agentpool"].is_null())
        );
        for bad in [
            "pool=0",
            "nodes=3,pool=4",
            "pool=-1",
            "pdb=x",
            "priority=yes",
        ] {
            assert!(LargeSpec::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            LargeSpec::parse("nodes=3,pool=4").unwrap_err(),
            "pool: 4 nodes in the pool, but the cluster has 3 (use 1 to 3)"
        );
    }

    #[test]
    fn grace_and_ready_shape_pods_and_templates_alike() {
        let s = large(&LargeSpec::parse("nodes=2,airflow=1,pods=43,grace=45,ready=20").unwrap());
        let specs: Vec<&Value> = s
            .objects
            .iter()
            .filter_map(|o| match o["kind"].as_str() {
                Some("Pod") => Some(&o["spec"]),
                Some("Deployment" | "ReplicaSet" | "StatefulSet") => {
                    Some(&o["spec"]["template"]["spec"])
                }
                _ => None,
            })
            .collect();
        assert_eq!(specs.len(), 43 + 2 * 4 + 1);
        for spec in &specs {
            assert_eq!(spec["terminationGracePeriodSeconds"], 45);
            let probe = &spec["containers"][0]["readinessProbe"];
            assert_eq!(
                (&probe["initialDelaySeconds"], &probe["periodSeconds"]),
                (&json!(20), &json!(20))
            );
        }
        // grace= alone: pods use their whole grace period to stop; terminate= says otherwise.
        let stop = |text: &str| {
            let s = large(&LargeSpec::parse(text).unwrap());
            of_kind(&s, "Pod").next().unwrap()["metadata"]["annotations"]
                ["sim.kube-sim.dev/terminate-seconds"]
                .clone()
        };
        assert_eq!(stop("pods=5,grace=45"), "45");
        assert_eq!(stop("pods=5,grace=45,terminate=3"), "3");
        assert!(stop("pods=5").is_null());
        // The kubelet's readiness delay for a pod made from such a template.
        let template = &of_kind(&s, "ReplicaSet").next().unwrap()["spec"]["template"];
        assert_eq!(
            crate::control::ready_after(template, Some(&template["spec"]["containers"][0])),
            20.0
        );
    }

    #[test]
    fn pdbs_cover_every_filler_deployment_and_airflow_worker() {
        let s = large(&LargeSpec::parse("nodes=3,airflow=2,pods=66,pdb=1").unwrap());
        let pdbs: Vec<&Value> = of_kind(&s, "PodDisruptionBudget").collect();
        let fillers: Vec<&Value> = of_kind(&s, "Deployment")
            .filter(|d| d["metadata"]["namespace"] == "filler")
            .collect();
        // 66 pods - 2 × 3 Airflow = 60 filler pods: 3 Deployments of 20, and 2 workers.
        assert_eq!((fillers.len(), pdbs.len()), (3, 5));
        for owner in fillers.iter().copied().chain(of_kind(&s, "StatefulSet")) {
            let selector = &owner["spec"]["selector"]["matchLabels"];
            let pdb = pdbs
                .iter()
                .find(|p| p["metadata"]["name"] == owner["metadata"]["name"])
                .unwrap();
            assert_eq!(pdb["metadata"]["namespace"], owner["metadata"]["namespace"]);
            assert_eq!(&pdb["spec"]["selector"]["matchLabels"], selector);
            assert_eq!(pdb["spec"]["maxUnavailable"], 1);
        }
        let quarter = large(&LargeSpec::parse("nodes=3,pods=20,pdb=5").unwrap());
        assert!(of_kind(&quarter, "PodDisruptionBudget").all(|p| p["spec"]["maxUnavailable"] == 5));
        assert_eq!(
            of_kind(
                &large(&LargeSpec::parse("pods=60").unwrap()),
                "PodDisruptionBudget"
            )
            .count(),
            0
        );
    }

    #[test]
    fn priority_classes_are_named_by_fillers_low_ones_most() {
        let s = large(&LargeSpec::parse("nodes=4,airflow=1,pods=243,priority=1").unwrap());
        let classes: Vec<&str> = of_kind(&s, "PriorityClass")
            .map(|c| c["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(classes, ["pool-batch", "pool-standard", "pool-critical"]);
        // 240 filler pods: 12 Deployments, 6 batch, 4 standard, 2 critical.
        let named = |class: &str| {
            of_kind(&s, "Deployment")
                .filter(|d| d["spec"]["template"]["spec"]["priorityClassName"] == class)
                .count()
        };
        assert_eq!(
            (
                named("pool-batch"),
                named("pool-standard"),
                named("pool-critical")
            ),
            (6, 4, 2)
        );
        // Loaded with Priority admission, every pod gets its class's value (Airflow's: 0).
        let store = crate::store::Store::new(std::sync::Arc::new(crate::clock::Clock::new(1.0)));
        crate::priority::install(&store).unwrap();
        s.apply(&store).unwrap();
        let pods = store.list(&crate::resources::PODS, None).0;
        let at = |v: i64| pods.iter().filter(|p| p["spec"]["priority"] == v).count();
        assert_eq!(
            (at(1000), at(100_000), at(1_000_000), at(0)),
            (120, 80, 40, 3)
        );
        for p in &pods {
            let rs = p["metadata"]["ownerReferences"][0]["name"]
                .as_str()
                .unwrap();
            let owner = store
                .get(
                    &crate::resources::REPLICA_SETS,
                    p["metadata"]["namespace"].as_str(),
                    rs,
                )
                .or_else(|_| {
                    store.get(
                        &crate::resources::STATEFUL_SETS,
                        p["metadata"]["namespace"].as_str(),
                        rs,
                    )
                })
                .unwrap();
            assert_eq!(
                p["spec"]["priorityClassName"],
                owner["spec"]["template"]["spec"]["priorityClassName"]
            );
        }
    }
}
