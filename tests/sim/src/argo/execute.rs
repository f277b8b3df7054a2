//! Executing templates (`workflow/controller/operator.go` executeTemplate, processNodeRetries,
//! podReconciliation; `steps.go`; `dag.go`; `workflowpod.go` createWorkflowPod).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::depends::{continues_on, dependencies, depends_allows};
use super::names::{expand, node_id, pod_name, retry_base};
use super::*;
use crate::clock::parse_rfc3339;

impl Op<'_> {
    fn id(&self, node_name: &str) -> String {
        node_id(&self.name, node_name)
    }

    fn node(&self, node_name: &str) -> Option<&Value> {
        self.nodes.get(&self.id(node_name))
    }

    fn phase(&self, node_name: &str) -> String {
        self.node(node_name)
            .map(|n| s(&n["phase"]).to_string())
            .unwrap_or_default()
    }

    fn set(&mut self, node_name: &str, field: &str, value: Value) {
        let id = self.id(node_name);
        if let Some(n) = self.nodes.get_mut(&id) {
            n[field] = value;
        }
    }

    /// markNodePhase: phase, message, and finishedAt when it becomes fulfilled.
    fn mark(&mut self, node_name: &str, phase: &str, message: Option<&str>) -> String {
        let id = self.id(node_name);
        let stamp = self.stamp.clone();
        if let Some(n) = self.nodes.get_mut(&id) {
            if n["phase"] != phase {
                n["phase"] = json!(phase);
                if fulfilled(phase) && n["finishedAt"].is_null() {
                    n["finishedAt"] = json!(stamp);
                }
            }
            if let Some(m) = message.filter(|m| !m.is_empty())
                && n["message"] != m
            {
                n["message"] = json!(m);
            }
        }
        phase.to_string()
    }

    /// initializeNode.
    fn init(
        &mut self,
        node_name: &str,
        type_: &str,
        template: &str,
        boundary: &str,
        phase: &str,
        ctx: &Ctx,
    ) -> String {
        let id = self.id(node_name);
        let display = ctx.display.clone().unwrap_or_else(|| {
            node_name
                .rsplit_once('.')
                .map_or(node_name, |(_, d)| d)
                .to_string()
        });
        let mut node = json!({"id": id, "name": node_name, "displayName": display, "type": type_,
                              "phase": phase, "startedAt": self.stamp});
        if !template.is_empty() {
            node["templateName"] = json!(template);
        }
        if !boundary.is_empty() {
            node["boundaryID"] = json!(boundary);
        }
        if fulfilled(phase) {
            node["finishedAt"] = json!(self.stamp);
        }
        self.nodes.insert(id.clone(), node);
        phase.to_string()
    }

    fn add_child(&mut self, parent: &str, child: &str) {
        let pid = self.id(parent);
        let cid = self.id(child);
        if let Some(p) = self.nodes.get_mut(&pid) {
            if !p["children"].is_array() {
                p["children"] = json!([]);
            }
            if let Some(c) = p["children"].as_array_mut()
                && !c.iter().any(|x| x == cid.as_str())
            {
                c.push(json!(cid));
            }
        }
    }

    /// podReconciliation: Pod nodes follow their pods; Terminate kills what runs.
    pub(super) fn reconcile_pods(&mut self) {
        let ids: Vec<String> = self.nodes.keys().cloned().collect();
        for id in ids {
            let node = self.nodes[&id].clone();
            let phase = s(&node["phase"]).to_string();
            if fulfilled(&phase) {
                continue;
            }
            if node["type"] == "Suspend" && !self.shutdown.is_empty() {
                let msg = format!("workflow shutdown with strategy: {}", self.shutdown);
                self.mark(s(&node["name"]), "Failed", Some(&msg));
                continue;
            }
            if node["type"] != "Pod" {
                continue;
            }
            let node_name = s(&node["name"]).to_string();
            let pod_name = pod_name(&self.name, &node_name, s(&node["templateName"]), self.v1);
            let pod = self.pods.get(pod_name.as_str()).copied();
            if self.shutdown == "Terminate" {
                // podReconciliation / pod_cleanup.go: the pods of a terminated workflow are
                // killed and their nodes fail (upstream's message has two spaces).
                if let Some(pod) = pod {
                    let pod_phase = s(&pod["status"]["phase"]);
                    if pod_phase != "Succeeded" && pod_phase != "Failed" {
                        self.delete_pods
                            .push((pod_name.clone(), s(&pod["metadata"]["uid"]).to_string()));
                    }
                }
                let msg = format!("workflow shutdown with strategy:  {}", self.shutdown);
                self.mark(&node_name, "Failed", Some(&msg));
                continue;
            }
            let started = node["startedAt"].as_str().and_then(parse_rfc3339);
            let Some(pod) = pod else {
                if phase == "Pending" {
                    // Not created yet (or its creation failed): try again.
                    if let Some(tmpl) = self.templates.get(s(&node["templateName"])).copied() {
                        let exit_code = self.exit_code(&node_name, tmpl, false);
                        self.create_pod(&node_name, tmpl, exit_code);
                    }
                } else if started
                    .is_none_or(|t| self.now.duration_since(t).as_secs() >= POD_GRACE_SECONDS)
                {
                    self.mark(&node_name, "Error", Some("pod deleted"));
                }
                continue;
            };
            // A pod older than a node still waiting for its pod belongs to an earlier run of
            // the node (an external retry reset it): wait until it is gone.
            let created = pod["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(parse_rfc3339);
            if phase == "Pending"
                && let (Some(c), Some(st)) = (created, started)
                && c < st
            {
                continue;
            }
            let host = s(&pod["spec"]["nodeName"]);
            if !host.is_empty() && node["hostNodeName"] != host {
                self.set(&node_name, "hostNodeName", json!(host));
            }
            match s(&pod["status"]["phase"]) {
                "Running" => {
                    self.mark(&node_name, "Running", None);
                }
                "Succeeded" => {
                    self.mark(&node_name, "Succeeded", None);
                    self.complete_pod(pod);
                }
                "Failed" => {
                    let code = main_exit_code(pod);
                    let msg = format!("Error (exit code {code})");
                    self.mark(&node_name, "Failed", Some(&msg));
                    self.complete_pod(pod);
                }
                _ => {}
            }
        }
    }

    /// The controller labels a finished pod `workflows.argoproj.io/completed=true`.
    fn complete_pod(&mut self, pod: &Value) {
        if pod["metadata"]["labels"][COMPLETED] != "true" {
            self.patch_pods.push((
                s(&pod["metadata"]["name"]).to_string(),
                json!({"metadata": {"labels": {COMPLETED: "true"}}}),
            ));
        }
    }

    /// The scripted exit code of the next (or, `again`, the current) attempt of a node name;
    /// a retry attempt `x(1)` counts under `x`.
    fn exit_code(&mut self, node_name: &str, tmpl: &Value, count: bool) -> i64 {
        let key = retry_base(node_name).to_string();
        let n = self.attempts.get(&key).copied().unwrap_or(0) + i64::from(count);
        if count {
            self.attempts.insert(key, n);
        }
        let codes: Vec<i64> = s(&tmpl["metadata"]["annotations"][EXIT_CODES])
            .split(',')
            .filter_map(|c| c.trim().parse().ok())
            .collect();
        let i = usize::try_from(n.max(1) - 1).unwrap_or(0);
        codes.get(i).or(codes.last()).copied().unwrap_or(0)
    }

    /// executeTemplate.
    pub(super) fn execute(
        &mut self,
        node_name: &str,
        template: &str,
        boundary: &str,
        args: &Value,
        ctx: Ctx,
    ) -> String {
        let existing = self.phase(node_name);
        if fulfilled(&existing) {
            return existing;
        }
        let exists = self.node(node_name).is_some();
        let Some(tmpl) = self.templates.get(template).copied() else {
            if !exists {
                self.init(node_name, "Pod", template, boundary, "Error", &ctx);
                let msg = format!("template {template} not found");
                self.mark(node_name, "Error", Some(&msg));
            }
            return "Error".into();
        };
        let leaf = !tmpl["steps"].is_array() && !tmpl["dag"].is_object();
        if !exists {
            if !self.shutdown.is_empty()
                && !self.in_exit
                && leaf
                && (ctx.retry_child || !tmpl["retryStrategy"].is_object())
            {
                // workflowpod.go createWorkflowPod: "Do not create pods if we are shutting
                // down": the node is Failed, with no pod.
                let msg = format!("workflow shutdown with strategy: {}", self.shutdown);
                let type_ = if tmpl["suspend"].is_object() {
                    "Suspend"
                } else {
                    "Pod"
                };
                self.init(node_name, type_, template, boundary, "Pending", &ctx);
                self.set_inputs(node_name, args);
                return self.mark(node_name, "Failed", Some(&msg));
            }
            if self.suspended {
                return "Pending".into();
            }
        }
        let retry = &tmpl["retryStrategy"];
        if retry.is_object() && !ctx.retry_child {
            return self.execute_retry(node_name, template, boundary, args, ctx);
        }
        if tmpl["steps"].is_array() {
            if !exists {
                self.init(node_name, "Steps", template, boundary, "Running", &ctx);
                self.set_inputs(node_name, args);
            }
            return self.execute_steps(node_name, tmpl);
        }
        if tmpl["dag"].is_object() {
            if !exists {
                self.init(node_name, "DAG", template, boundary, "Running", &ctx);
                self.set_inputs(node_name, args);
            }
            return self.execute_dag(node_name, tmpl);
        }
        if tmpl["suspend"].is_object() {
            if !exists {
                self.init(node_name, "Suspend", template, boundary, "Running", &ctx);
                self.set_inputs(node_name, args);
            }
            // A `duration` ends the suspension by itself (suspend.go / operator.go
            // checkSuspendedNode); otherwise `argo resume` marks the node Succeeded.
            let started = self
                .node(node_name)
                .and_then(|n| n["startedAt"].as_str())
                .and_then(parse_rfc3339);
            if let (Some(d), Some(t)) = (duration_secs(&tmpl["suspend"]["duration"]), started)
                && self.now.duration_since(t).as_secs_f64() >= d
            {
                return self.mark(node_name, "Succeeded", None);
            }
            return "Running".into();
        }
        // container / script: one pod.
        if !exists {
            self.init(node_name, "Pod", template, boundary, "Pending", &ctx);
            self.set_inputs(node_name, args);
            let code = self.exit_code(node_name, tmpl, true);
            self.create_pod(node_name, tmpl, code);
            return "Pending".into();
        }
        existing
    }

    fn set_inputs(&mut self, node_name: &str, args: &Value) {
        if args.as_array().is_some_and(|a| !a.is_empty()) {
            self.set(node_name, "inputs", json!({"parameters": args}));
        }
    }

    /// The Retry node and its attempts `name(0)`, `name(1)`... (operator.go
    /// processNodeRetries: `limit` retries after the first attempt; retryPolicy OnFailure
    /// by default, Always, OnError, OnTransientError).
    fn execute_retry(
        &mut self,
        node_name: &str,
        template: &str,
        boundary: &str,
        args: &Value,
        ctx: Ctx,
    ) -> String {
        let tmpl = self.templates[template];
        if self.node(node_name).is_none() {
            self.init(node_name, "Retry", template, boundary, "Running", &ctx);
            self.set_inputs(node_name, args);
        }
        let limit = tmpl["retryStrategy"]["limit"]
            .as_i64()
            .or_else(|| s(&tmpl["retryStrategy"]["limit"]).parse().ok());
        let policy = s(&tmpl["retryStrategy"]["retryPolicy"]).to_string();
        let display = ctx.display.clone().unwrap_or_else(|| {
            node_name
                .rsplit_once('.')
                .map_or(node_name, |(_, d)| d)
                .to_string()
        });
        loop {
            let children: Vec<String> = self
                .node(node_name)
                .and_then(|n| n["children"].as_array())
                .map(|c| c.iter().map(|x| s(x).to_string()).collect())
                .unwrap_or_default();
            let attempt = children.len();
            let last = children.last().and_then(|id| self.nodes.get(id)).cloned();
            if let Some(last) = last {
                let phase = s(&last["phase"]).to_string();
                if !fulfilled(&phase) {
                    // Let the attempt run (its phase may change below).
                    let child_name = s(&last["name"]).to_string();
                    let child_ctx = Ctx {
                        retry_child: true,
                        display: Some(format!("{display}({})", attempt - 1)),
                    };
                    let p = self.execute(&child_name, template, boundary, args, child_ctx);
                    if !fulfilled(&p) {
                        return self.mark(node_name, "Running", None);
                    }
                    continue;
                }
                if phase == "Succeeded" || phase == "Skipped" {
                    return self.mark(node_name, "Succeeded", None);
                }
                let retryable = match policy.as_str() {
                    "Always" => true,
                    "OnError" | "OnTransientError" => phase == "Error",
                    _ => phase == "Failed",
                };
                let spent = limit.is_some_and(|l| attempt as i64 > l);
                if !retryable || !self.shutdown.is_empty() {
                    let msg = s(&last["message"]).to_string();
                    return self.mark(node_name, &phase, Some(&msg));
                }
                if spent {
                    return self.mark(node_name, &phase, Some("No more retries left"));
                }
                if self.suspended {
                    return "Running".into();
                }
            }
            let child_name = format!("{node_name}({attempt})");
            let child_ctx = Ctx {
                retry_child: true,
                display: Some(format!("{display}({attempt})")),
            };
            let p = self.execute(&child_name, template, boundary, args, child_ctx);
            self.add_child(node_name, &child_name);
            if !fulfilled(&p) {
                return self.mark(node_name, "Running", None);
            }
        }
    }

    /// The nodes a following step group hangs from (getOutboundNodes).
    fn outbound(&self, node_name: &str) -> Vec<String> {
        let Some(node) = self.node(node_name) else {
            return Vec::new();
        };
        if node["type"] == "Retry"
            && let Some(last) = node["children"].as_array().and_then(|c| c.last())
            && let Some(child) = self.nodes.get(s(last))
        {
            return vec![s(&child["name"]).to_string()];
        }
        vec![node_name.to_string()]
    }

    /// steps.go executeSteps: groups in order; a failed group fails the Steps node.
    fn execute_steps(&mut self, node_name: &str, tmpl: &Value) -> String {
        let groups = tmpl["steps"].as_array().cloned().unwrap_or_default();
        let boundary = self.id(node_name);
        let mut previous: Vec<String> = vec![node_name.to_string()];
        for (i, group) in groups.iter().enumerate() {
            let sg = format!("{node_name}[{i}]");
            if self.node(&sg).is_none() {
                if self.suspended {
                    return "Running".into();
                }
                let ctx = Ctx {
                    display: Some(format!("[{i}]")),
                    ..Ctx::default()
                };
                self.init(
                    &sg,
                    "StepGroup",
                    s(&tmpl["name"]),
                    &boundary,
                    "Running",
                    &ctx,
                );
            }
            for p in &previous {
                self.add_child(p, &sg);
            }
            let phase = self.execute_step_group(&sg, group, &boundary);
            if !fulfilled(&phase) {
                return self.mark(node_name, "Running", None);
            }
            if failed_or_error(&phase) {
                let msg = self
                    .node(&sg)
                    .map(|n| s(&n["message"]).to_string())
                    .unwrap_or_default();
                return self.mark(node_name, "Failed", Some(&msg));
            }
            let children: Vec<String> = self
                .node(&sg)
                .and_then(|n| n["children"].as_array())
                .map(|c| c.iter().map(|x| s(x).to_string()).collect())
                .unwrap_or_default();
            previous = children
                .iter()
                .filter_map(|id| self.nodes.get(id).map(|n| s(&n["name"]).to_string()))
                .flat_map(|n| self.outbound(&n))
                .collect();
            if previous.is_empty() {
                previous = vec![sg];
            }
        }
        self.mark(node_name, "Succeeded", None)
    }

    /// steps.go executeStepGroup: parallel steps (items expanded); done when all are.
    fn execute_step_group(&mut self, sg: &str, group: &Value, boundary: &str) -> String {
        let mut all_done = true;
        let mut failed: Option<String> = None;
        for step in group.as_array().into_iter().flatten() {
            for (child, display, args) in expand(sg, step) {
                let ctx = Ctx {
                    display: Some(display),
                    ..Ctx::default()
                };
                let phase = self.execute(&child, s(&step["template"]), boundary, &args, ctx);
                if self.node(&child).is_some() {
                    self.add_child(sg, &child);
                }
                if !fulfilled(&phase) {
                    all_done = false;
                } else if failed_or_error(&phase) && !continues_on(step, &phase) && failed.is_none()
                {
                    failed = Some(self.id(&child));
                }
            }
        }
        if !all_done {
            return self.mark(sg, "Running", None);
        }
        match failed {
            Some(id) => self.mark(sg, "Failed", Some(&format!("child '{id}' failed"))),
            None => self.mark(sg, "Succeeded", None),
        }
    }

    /// dag.go executeDAG: tasks start when their dependencies allow; fail-fast (default) starts
    /// nothing new after a failure; the DAG is done when nothing runs and nothing can start.
    fn execute_dag(&mut self, node_name: &str, tmpl: &Value) -> String {
        let tasks = tmpl["dag"]["tasks"].as_array().cloned().unwrap_or_default();
        let fail_fast = tmpl["dag"]["failFast"] != false;
        let boundary = self.id(node_name);
        let task_name = |t: &Value| format!("{node_name}.{}", s(&t["name"]));
        // Repeats while tasks complete within the tick (leaves that finish at once).
        loop {
            let mut progressed = false;
            let mut running = false;
            let mut failed: Option<String> = None;
            for task in &tasks {
                let tn = task_name(task);
                let phase = self.phase(&tn);
                if failed_or_error(&phase) && !continues_on(task, &phase) && failed.is_none() {
                    failed = Some(self.id(&tn));
                }
            }
            for task in &tasks {
                let tn = task_name(task);
                let phase = self.phase(&tn);
                if fulfilled(&phase) {
                    continue;
                }
                if phase.is_empty() {
                    if failed.is_some() && fail_fast {
                        continue;
                    }
                    let deps = dependencies(task);
                    let dep_phases: HashMap<String, String> = deps
                        .iter()
                        .map(|d| (d.clone(), self.phase(&format!("{node_name}.{d}"))))
                        .collect();
                    if dep_phases.values().any(|p| !fulfilled(p)) {
                        continue;
                    }
                    let cont: HashMap<String, Value> = tasks
                        .iter()
                        .map(|t| (s(&t["name"]).to_string(), t["continueOn"].clone()))
                        .collect();
                    if !depends_allows(task, &dep_phases, &cont) {
                        if !self.suspended {
                            let ctx = Ctx::default();
                            self.init(
                                &tn,
                                "Skipped",
                                s(&task["template"]),
                                &boundary,
                                "Omitted",
                                &ctx,
                            );
                            self.mark(&tn, "Omitted", Some("omitted: depends condition not met"));
                            self.link_task(node_name, &tn, &deps);
                            progressed = true;
                        }
                        continue;
                    }
                }
                let before = self.phase(&tn);
                let p = self.execute_task(node_name, &tn, task, &boundary);
                if self.node(&tn).is_some() {
                    self.link_task(node_name, &tn, &dependencies(task));
                }
                if p != before {
                    progressed = true;
                }
                if !fulfilled(&p) && self.node(&tn).is_some() {
                    running = true;
                }
            }
            if progressed {
                continue;
            }
            if running {
                return self.mark(node_name, "Running", None);
            }
            // Nothing runs: done unless a task can still start (suspension holds them).
            let waiting = self.suspended
                && tasks.iter().any(|t| {
                    self.phase(&task_name(t)).is_empty()
                        && (failed.is_none() || !fail_fast)
                        && dependencies(t)
                            .iter()
                            .all(|d| fulfilled(&self.phase(&format!("{node_name}.{d}"))))
                });
            if waiting {
                return self.mark(node_name, "Running", None);
            }
            return match failed {
                Some(id) => self.mark(node_name, "Failed", Some(&format!("child '{id}' failed"))),
                None => self.mark(node_name, "Succeeded", None),
            };
        }
    }

    fn link_task(&mut self, dag: &str, task_node: &str, deps: &[String]) {
        if deps.is_empty() {
            self.add_child(dag, task_node);
        }
        for d in deps {
            for o in self.outbound(&format!("{dag}.{d}")) {
                self.add_child(&o, task_node);
            }
        }
    }

    /// One DAG task; `withItems` makes a TaskGroup of `task(i:item)` nodes.
    fn execute_task(&mut self, dag: &str, tn: &str, task: &Value, boundary: &str) -> String {
        let template = s(&task["template"]);
        if !task["withItems"].is_array() {
            let ctx = Ctx {
                display: Some(s(&task["name"]).to_string()),
                ..Ctx::default()
            };
            let args = task["arguments"]["parameters"].clone();
            return self.execute(tn, template, boundary, &args, ctx);
        }
        if self.node(tn).is_none() {
            if self.suspended {
                return String::new();
            }
            let ctx = Ctx::default();
            self.init(tn, "TaskGroup", template, boundary, "Running", &ctx);
        }
        let mut all_done = true;
        let mut failed = None;
        for (child, display, args) in expand(dag, task) {
            let ctx = Ctx {
                display: Some(display),
                ..Ctx::default()
            };
            let p = self.execute(&child, template, boundary, &args, ctx);
            if self.node(&child).is_some() {
                self.add_child(tn, &child);
            }
            if !fulfilled(&p) {
                all_done = false;
            } else if failed_or_error(&p) && failed.is_none() {
                failed = Some(self.id(&child));
            }
        }
        if !all_done {
            return self.mark(tn, "Running", None);
        }
        match failed {
            Some(id) => self.mark(tn, "Failed", Some(&format!("child '{id}' failed"))),
            None => self.mark(tn, "Succeeded", None),
        }
    }

    /// workflowpod.go createWorkflowPod, as far as the sim needs.
    fn create_pod(&mut self, node_name: &str, tmpl: &Value, exit_code: i64) {
        let wf = self.wf;
        let template = s(&tmpl["name"]);
        let name = pod_name(&self.name, node_name, template, self.v1);
        let mut labels = Map::new();
        let mut annotations = Map::new();
        if let Some(l) = tmpl["metadata"]["labels"].as_object() {
            labels.extend(l.clone());
        }
        if let Some(a) = tmpl["metadata"]["annotations"].as_object() {
            annotations.extend(a.clone());
        }
        labels.insert(WORKFLOW_LABEL.into(), json!(self.name));
        labels.insert(COMPLETED.into(), json!("false"));
        annotations.insert(NODE_NAME_ANN.into(), json!(node_name));
        annotations.insert(NODE_ID_ANN.into(), json!(self.id(node_name)));
        annotations
            .entry("sim.kube-sim.dev/exit-after-seconds")
            .or_insert(json!(DEFAULT_STEP_SECONDS));
        annotations.insert(
            "sim.kube-sim.dev/exit-code".into(),
            json!(exit_code.to_string()),
        );
        let mut main = if tmpl["script"].is_object() {
            let mut c = tmpl["script"].clone();
            if let Some(o) = c.as_object_mut() {
                o.remove("source");
            }
            c["args"] = json!(["/argo/staging/script"]);
            c
        } else {
            tmpl["container"].clone()
        };
        if !main.is_object() {
            main = json!({"image": "busybox"});
        }
        main["name"] = json!("main");
        let wait = json!({"name": "wait", "image": "quay.io/argoproj/argoexec:v3.6.2",
                          "command": ["argoexec"], "args": ["wait", "--loglevel", "info"],
                          "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}}});
        let mut spec = json!({"restartPolicy": "Never", "schedulerName": "default-scheduler",
                              "containers": [wait, main]});
        if let Some(sa) = wf["spec"]["serviceAccountName"].as_str() {
            spec["serviceAccountName"] = json!(sa);
        }
        for field in ["nodeSelector", "tolerations", "affinity"] {
            let v = if tmpl[field].is_null() {
                &wf["spec"][field]
            } else {
                &tmpl[field]
            };
            if !v.is_null() {
                spec[field] = v.clone();
            }
        }
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": wf["metadata"]["namespace"], "labels": labels,
                         "annotations": annotations,
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                              "name": self.name, "uid": wf["metadata"]["uid"],
                                              "controller": true, "blockOwnerDeletion": true}]},
            "spec": spec,
        });
        self.create_pods.push(pod);
    }
}

fn main_exit_code(pod: &Value) -> i64 {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "main")
        .and_then(|c| c["state"]["terminated"]["exitCode"].as_i64())
        .unwrap_or(1)
}

fn duration_secs(v: &Value) -> Option<f64> {
    if let Some(n) = v.as_f64() {
        return Some(n);
    }
    let text = v.as_str()?.trim();
    if let Ok(n) = text.parse::<f64>() {
        return Some(n);
    }
    let (num, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    })
}
