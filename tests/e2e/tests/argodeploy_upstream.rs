//! `kubectl argodeploy` where argo's own code decides: resubmit as workflow/util/util.go
//! `FormulateResubmitWorkflow` (names within 63 characters as generateName makes them, argo's
//! labels dropped), node status read from `status.compressedNodes` by every command, and what
//! users type checked before any request.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use suite_tests::{Run, SimProcess};

const NS: &str = "atmosphere";

fn argodeploy(sim: &SimProcess, home: &std::path::Path, args: &[&str]) -> Run {
    sim.run_plugin("argodeploy", home, args)
}

/// Creates the objects of `yaml` with real kubectl.
fn apply(sim: &SimProcess, dir: &std::path::Path, yaml: &str) {
    let path = suite_tests::write(dir, "objects.yaml", yaml);
    let out = sim.kubectl(&["apply", "--validate=false", "-f", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "kubectl apply: {}", out.stderr);
}

fn workflow(sim: &SimProcess, name: &str) -> Value {
    sim.get_json(&["workflow", name, "-n", NS])
}

/// argo's `Workflow.NodeID`: FNV-1a 32 of the node name (Go's hash/fnv).
fn node_id(wf: &str, node: &str) -> String {
    if node == wf {
        return wf.to_string();
    }
    let h = node.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    format!("{wf}-{h}")
}

/// argo's `packer.CompressWorkflow` of a node map: gzip, then standard base64.
fn compress(nodes: &Value) -> String {
    let mut gzip = Command::new("gzip")
        .args(["-c", "-n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    gzip.stdin
        .take()
        .unwrap()
        .write_all(nodes.to_string().as_bytes())
        .unwrap();
    let out = gzip.wait_with_output().unwrap();
    assert!(out.status.success());
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, out.stdout)
}

const FAILED: &str = "deploy-c0ffee00-q7x2k";
const FAILED_UUID: &str = "c0ffee00-1111-4222-8333-944444444444";
const FAILURE: &str = "ansible-playbook exited 2: host db-1 unreachable";

/// A Failed steps workflow whose node status is only in `status.compressedNodes`: `prepare`
/// succeeded, `deploy-playbook` failed.
fn compressed_failed_workflow() -> Value {
    let wf = FAILED;
    let id = |n: &str| node_id(wf, n);
    let (g0, prep, g1, play) = (
        format!("{wf}[0]"),
        format!("{wf}[0].prepare"),
        format!("{wf}[1]"),
        format!("{wf}[1].deploy-playbook"),
    );
    let t = |m: u32| format!("2026-11-21T09:{m:02}:00Z");
    let nodes = json!({
        wf: {"id": wf, "name": wf, "displayName": wf, "type": "Steps", "templateName": "deploy",
             "phase": "Failed", "startedAt": t(0), "finishedAt": t(9), "children": [id(&g0)],
             "outboundNodes": [id(&play)]},
        id(&g0): {"id": id(&g0), "name": g0, "displayName": "[0]", "type": "StepGroup",
                  "phase": "Succeeded", "boundaryID": wf, "startedAt": t(0), "finishedAt": t(2),
                  "children": [id(&prep)]},
        id(&prep): {"id": id(&prep), "name": prep, "displayName": "prepare", "type": "Pod",
                    "templateName": "prepare", "phase": "Succeeded", "boundaryID": wf,
                    "startedAt": t(0), "finishedAt": t(2), "children": [id(&g1)]},
        id(&g1): {"id": id(&g1), "name": g1, "displayName": "[1]", "type": "StepGroup",
                  "phase": "Failed", "boundaryID": wf, "startedAt": t(2), "finishedAt": t(9),
                  "children": [id(&play)]},
        id(&play): {"id": id(&play), "name": play, "displayName": "deploy-playbook", "type": "Pod",
                    "templateName": "deploy-playbook", "phase": "Failed", "boundaryID": wf,
                    "message": FAILURE, "startedAt": t(2), "finishedAt": t(9)},
    });
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": wf, "namespace": NS, "generateName": "deploy-c0ffee00-",
                     "creationTimestamp": t(0),
                     "labels": {"instance_uuid": FAILED_UUID, "username": "tester",
                                "workflows.argoproj.io/phase": "Failed",
                                "workflows.argoproj.io/completed": "true"}},
        "spec": {"entrypoint": "deploy",
                 "arguments": {"parameters": [{"name": "instance_uuid", "value": FAILED_UUID}]},
                 "templates": [
                     {"name": "deploy", "steps": [[{"name": "prepare", "template": "prepare"}],
                                                  [{"name": "deploy-playbook", "template": "deploy-playbook"}]]},
                     {"name": "prepare", "container": {"image": "atmosphere/ansible:2.17"}},
                     {"name": "deploy-playbook", "container": {"image": "atmosphere/ansible:2.17"}}]},
        "status": {"phase": "Failed", "startedAt": t(0), "finishedAt": t(9),
                   "message": "child failed", "progress": "1/2",
                   "compressedNodes": compress(&nodes)}
    })
}

#[test]
fn list_find_and_memoized_resubmit_read_compressed_nodes() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    apply(
        &sim,
        home.path(),
        &serde_json::to_string(&compressed_failed_workflow()).unwrap(),
    );

    // list: the pod counts of the scenario's compressed workflow (3 pods, all done) and ours.
    let out = argodeploy(&sim, home.path(), &["list", "-n", NS, "-o", "json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    let prc = |name: &str| {
        rows["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed: {rows}"))["prc"]
            .clone()
    };
    assert_eq!(
        prc("deploy-6bad6be2-g255x"),
        "0/0/3",
        "compressed nodes counted"
    );
    assert_eq!(prc(FAILED), "0/0/2");

    // find: the failing step and its message, from the compressed nodes.
    let out = argodeploy(&sim, home.path(), &["find", FAILED_UUID, "-n", NS]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains(&format!("failing step deploy-playbook: {FAILURE}")),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("no failed step recorded"),
        "{}",
        out.stdout
    );

    // resubmit --memoized: the succeeded step carried over as Skipped, the failed one runs again.
    let out = argodeploy(
        &sim,
        home.path(),
        &["resubmit", FAILED, "-n", NS, "--memoized", "-y"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let new_name = out.stdout.trim().to_string();
    let new = workflow(&sim, &new_name);
    let nodes = new["status"]["nodes"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let prepare = node_id(&new_name, &format!("{new_name}[0].prepare"));
    assert_eq!(
        nodes.get(&prepare).map(|n| n["phase"].clone()),
        Some(json!("Skipped")),
        "prepare is carried over: {}",
        new["status"]
    );
    assert_eq!(
        nodes[&prepare]["message"],
        format!(
            "original pod: {}",
            node_id(FAILED, &format!("{FAILED}[0].prepare"))
        )
    );
    assert!(
        !nodes
            .values()
            .any(|n| n["displayName"] == "deploy-playbook"),
        "the failed step runs again: {nodes:?}"
    );
    assert_eq!(nodes.len(), 4, "{nodes:?}");
}

#[test]
fn resubmit_keeps_the_name_within_63_characters_and_drops_argos_labels() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    // 63 characters and no generateName: argo's generateName is the name and a dash (64).
    let name = format!("deploy-{}", "customer-with-a-rather-long-name-".repeat(2))[..63]
        .trim_end_matches('-')
        .to_string()
        + "x";
    assert_eq!(name.len(), 63, "{name}");
    let wf = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"instance_uuid": "0b5e55ed-1", "username": "tester",
                                "workflows.argoproj.io/controller-instanceid": "ci-east",
                                "workflows.argoproj.io/workflow-template": "deploy-instance",
                                "workflows.argoproj.io/cron-workflow": "nightly",
                                "workflows.argoproj.io/resubmitted-from-workflow": "older-one",
                                "workflows.argoproj.io/phase": "Succeeded",
                                "workflows.argoproj.io/completed": "true"}},
        "spec": {"entrypoint": "main",
                 "templates": [{"name": "main", "container": {"image": "busybox"}}]},
        "status": {"phase": "Succeeded", "startedAt": "2026-11-21T09:00:00Z",
                   "finishedAt": "2026-11-21T09:01:00Z"}
    });
    apply(&sim, home.path(), &wf.to_string());
    let out = argodeploy(&sim, home.path(), &["resubmit", &name, "-n", NS, "-y"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let new_name = out.stdout.trim().to_string();
    assert_eq!(new_name.len(), 63, "{new_name}");
    assert!(
        new_name.starts_with(&format!("{name}-")[..58]),
        "{new_name}"
    );
    let new = workflow(&sim, &new_name);
    let labels = new["metadata"]["labels"].as_object().unwrap();
    let argo: Vec<(&String, &Value)> = labels
        .iter()
        .filter(|(k, _)| k.starts_with("workflows.argoproj.io/"))
        .collect();
    assert_eq!(
        argo,
        vec![
            (
                &"workflows.argoproj.io/controller-instanceid".to_string(),
                &json!("ci-east")
            ),
            (
                &"workflows.argoproj.io/resubmitted-from-workflow".to_string(),
                &json!(name)
            ),
        ],
        "only the instance id is kept (and the resubmission's own label): {labels:?}"
    );
    assert_eq!(labels["instance_uuid"], "0b5e55ed-1");
    assert_eq!(labels["username"], "tester");
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let sim = SimProcess::start("atmosphere", &[]);
    let home = tempfile::tempdir().unwrap();
    let wf = "deploy-f3f49249-njqlp";
    let before = sim.journal().len();
    for args in [
        &["list", "--username", "bad user"][..],
        &["list", "--instance", "-starts-with-a-dash"],
        &["list", "--instance", &"x".repeat(64)],
        &["list", "--username", ""],
        &["list", "-l", "tier in (web"],
        &["list", "-l", "a=b c"],
        &["list", "--since", "0s"],
        &["find", "bad/uuid"],
        &["find", "c0ffee00", "--tail", "-2"],
        &["logs", wf, "--tail=-5"],
        &["logs", wf, "--since", "0"],
        &["logs", wf, "--since-time", "yesterday"],
        &[
            "logs",
            wf,
            "--since",
            "1h",
            "--since-time",
            "2026-11-21T08:49:00Z",
        ],
    ] {
        let mut all = args.to_vec();
        all.extend(["-n", NS]);
        let out = argodeploy(&sim, home.path(), &all);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        let stderr = out.stderr.trim();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.starts_with("error:"), "{stderr}");
    }
    assert_eq!(
        sim.journal().len(),
        before,
        "no request: {:?}",
        &sim.journal()[before..]
    );
    // Valid edge values are sent as upstream takes them: --tail -1 is the whole log (no
    // tailLines), a sub-second --since is one second.
    let out = argodeploy(
        &sim,
        home.path(),
        &["logs", wf, "-n", NS, "--tail", "-1", "--since", "500ms"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let queries: Vec<String> = sim
        .journal()
        .iter()
        .filter(|e| e["path"].as_str().unwrap_or("").ends_with("/log"))
        .map(|e| e["query"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(!queries.is_empty());
    for q in &queries {
        assert!(!q.contains("tailLines"), "{q}");
        assert!(q.contains("sinceSeconds=1"), "{q}");
    }
}
