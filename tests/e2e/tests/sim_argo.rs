//! kube-sim's Argo controller (tests/sim/src/argo/) judged through real kubectl: workflows
//! created with `kubectl create -f` run as argo runs them (node names, ids, types, pods named
//! by pod-name format v2), fail, retry, fan out, stop, terminate, suspend and resume; an
//! external retry done by hand re-runs only the failed branch.

use std::time::Duration;

use serde_json::{Value, json};
use suite_tests::{SimProcess, wait_for};

const NS: &str = "atmosphere";
const WAIT: Duration = Duration::from_secs(30);

/// FNV-1a 32 (argo's node-id and pod-name hash).
fn fnv32a(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

fn id(wf: &str, node: &str) -> String {
    if wf == node {
        wf.to_string()
    } else {
        format!("{wf}-{}", fnv32a(node))
    }
}

/// The atmosphere cluster with Argo's workflow-controller scaled up (recorded at 0).
fn sim() -> SimProcess {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "20"]);
    sim.start_argo_controller();
    sim
}

/// A container template running `secs` simulated seconds, exiting with `codes` per attempt.
fn leaf(name: &str, secs: u32, codes: &str) -> Value {
    json!({"name": name, "metadata": {"annotations": {
              "sim.kube-sim.dev/exit-after-seconds": secs.to_string(),
              "sim.kube-sim.dev/exit-codes": codes,
              "sim.kube-sim.dev/log.main": format!("{name} ran")}},
           "container": {"image": "alpine:3.23", "command": ["sh", "-c"], "args": [format!("echo {name}")]}})
}

fn create(sim: &SimProcess, name: &str, spec: Value) {
    let wf = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                    "metadata": {"name": name, "namespace": NS, "labels": {"instance_uuid": name, "username": "tester"}},
                    "spec": spec});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.json"));
    std::fs::write(&path, wf.to_string()).unwrap();
    let out = sim.kubectl(&["create", "--validate=false", "-f", path.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

fn get(sim: &SimProcess, name: &str) -> Value {
    sim.get_json(&["wf", name, "-n", NS])
}

fn phase(sim: &SimProcess, name: &str) -> String {
    get(sim, name)["status"]["phase"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn wait_phase(sim: &SimProcess, name: &str, want: &str) -> Value {
    wait_for(&format!("{name} {want}"), WAIT, || phase(sim, name) == want);
    get(sim, name)
}

fn node<'a>(wf: &'a Value, node_name: &str) -> &'a Value {
    let wf_name = wf["metadata"]["name"].as_str().unwrap();
    &wf["status"]["nodes"][id(wf_name, node_name)]
}

fn pods(sim: &SimProcess, wf: &str) -> Vec<Value> {
    let selector = format!("workflows.argoproj.io/workflow={wf}");
    sim.get_json(&["pods", "-n", NS, "-l", &selector])["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn pod_names(sim: &SimProcess, wf: &str) -> Vec<String> {
    let mut names: Vec<String> = pods(sim, wf)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn patch(sim: &SimProcess, name: &str, body: Value) {
    let out = sim.kubectl(&[
        "patch",
        "workflow",
        name,
        "-n",
        NS,
        "--type",
        "merge",
        "-p",
        &body.to_string(),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_steps_workflow_runs_to_success_with_argos_nodes_and_pods() {
    let sim = sim();
    create(
        &sim,
        "hello",
        json!({"entrypoint": "main", "arguments": {"parameters": [{"name": "who", "value": "world"}]},
               "templates": [{"name": "main", "steps": [
                   [{"name": "a", "template": "say", "arguments": {"parameters": [{"name": "msg", "value": "hi"}]}}],
                   [{"name": "b", "template": "say"}, {"name": "c", "template": "say"}]]},
                   leaf("say", 2, "0")]}),
    );
    let wf = wait_phase(&sim, "hello", "Succeeded");
    assert_eq!(wf["status"]["progress"], "3/3", "{wf}");
    let labels = &wf["metadata"]["labels"];
    assert_eq!(labels["workflows.argoproj.io/completed"], "true");
    assert_eq!(labels["workflows.argoproj.io/phase"], "Succeeded");
    assert_eq!(
        wf["metadata"]["annotations"]["workflows.argoproj.io/pod-name-format"],
        "v2"
    );
    assert!(wf["status"]["finishedAt"].is_string());
    let root = node(&wf, "hello");
    assert_eq!(root["type"], "Steps");
    assert_eq!(root["id"], "hello");
    assert_eq!(root["children"], json!([id("hello", "hello[0]")]));
    let group = node(&wf, "hello[0]");
    assert_eq!(group["type"], "StepGroup");
    assert_eq!(group["displayName"], "[0]");
    assert_eq!(group["boundaryID"], "hello");
    let a = node(&wf, "hello[0].a");
    assert_eq!(a["type"], "Pod");
    assert_eq!(a["displayName"], "a");
    assert_eq!(a["templateName"], "say");
    assert_eq!(a["phase"], "Succeeded");
    assert_eq!(a["inputs"]["parameters"][0]["value"], "hi");
    assert!(a["hostNodeName"].is_string() && a["finishedAt"].is_string());
    // The next group hangs from the step before it.
    assert_eq!(a["children"], json!([id("hello", "hello[1]")]));
    assert_eq!(
        node(&wf, "hello[1]")["children"].as_array().unwrap().len(),
        2
    );
    let mut expected: Vec<String> = ["hello[0].a", "hello[1].b", "hello[1].c"]
        .iter()
        .map(|n| format!("hello-say-{}", fnv32a(n)))
        .collect();
    expected.sort();
    assert_eq!(pod_names(&sim, "hello"), expected);
    for pod in pods(&sim, "hello") {
        let meta = &pod["metadata"];
        let node_name = meta["annotations"]["workflows.argoproj.io/node-name"]
            .as_str()
            .unwrap();
        assert_eq!(
            meta["annotations"]["workflows.argoproj.io/node-id"],
            id("hello", node_name)
        );
        assert_eq!(meta["labels"]["workflows.argoproj.io/completed"], "true");
        assert_eq!(meta["ownerReferences"][0]["kind"], "Workflow");
        assert_eq!(meta["ownerReferences"][0]["controller"], true);
        assert_eq!(pod["status"]["phase"], "Succeeded");
        let containers: Vec<&str> = pod["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(containers, ["wait", "main"]);
    }
    // Logs of main come from the template's annotation.
    let pod = format!("hello-say-{}", fnv32a("hello[0].a"));
    let logs = sim.kubectl(&["logs", &pod, "-n", NS, "-c", "main"]);
    assert!(logs.stdout.contains("say ran"), "{}", logs.stdout);
}

#[test]
fn a_dag_fails_fast_and_never_runs_the_dependants() {
    let sim = sim();
    create(
        &sim,
        "diamond",
        json!({"entrypoint": "d", "templates": [{"name": "d", "dag": {"tasks": [
                   {"name": "a", "template": "ok"},
                   {"name": "b", "template": "bad", "dependencies": ["a"]},
                   {"name": "c", "template": "slow", "depends": "a"},
                   {"name": "d", "template": "ok", "depends": "b && c"},
                   {"name": "e", "template": "ok", "depends": "c.Succeeded"}]}},
                   leaf("ok", 1, "0"), leaf("bad", 1, "3"), leaf("slow", 40, "0")]}),
    );
    let wf = wait_phase(&sim, "diamond", "Failed");
    let b = id("diamond", "diamond.b");
    assert_eq!(wf["status"]["message"], format!("child '{b}' failed"));
    assert_eq!(node(&wf, "diamond")["type"], "DAG");
    assert_eq!(node(&wf, "diamond.b")["message"], "Error (exit code 3)");
    // The running sibling finished; nothing new started after the failure.
    assert_eq!(node(&wf, "diamond.c")["phase"], "Succeeded");
    assert!(node(&wf, "diamond.d").is_null(), "{wf}");
    assert!(node(&wf, "diamond.e").is_null(), "{wf}");
    assert_eq!(pod_names(&sim, "diamond").len(), 3);
    assert_eq!(
        node(&wf, "diamond.a")["children"],
        json!([b, id("diamond", "diamond.c")])
    );
}

#[test]
fn a_retry_strategy_makes_a_retry_node_with_attempts() {
    let sim = sim();
    let mut flaky = leaf("flaky", 1, "1,0");
    flaky["retryStrategy"] = json!({"limit": 2});
    let mut broken = leaf("broken", 1, "1");
    broken["retryStrategy"] = json!({"limit": "1", "retryPolicy": "Always"});
    create(
        &sim,
        "retrying",
        json!({"entrypoint": "main", "templates": [{"name": "main", "steps": [[{"name": "f", "template": "flaky"}]]}, flaky]}),
    );
    create(
        &sim,
        "exhausted",
        json!({"entrypoint": "main", "templates": [{"name": "main", "steps": [[{"name": "f", "template": "broken"}]]}, broken]}),
    );
    let wf = wait_phase(&sim, "retrying", "Succeeded");
    let retry = node(&wf, "retrying[0].f");
    assert_eq!(retry["type"], "Retry");
    assert_eq!(retry["phase"], "Succeeded");
    assert_eq!(
        retry["children"],
        json!([
            id("retrying", "retrying[0].f(0)"),
            id("retrying", "retrying[0].f(1)")
        ])
    );
    let first = node(&wf, "retrying[0].f(0)");
    assert_eq!(first["phase"], "Failed");
    assert_eq!(first["displayName"], "f(0)");
    assert_eq!(node(&wf, "retrying[0].f(1)")["phase"], "Succeeded");
    assert_eq!(wf["status"]["progress"], "1/2");
    let wf = wait_phase(&sim, "exhausted", "Failed");
    let retry = node(&wf, "exhausted[0].f");
    assert_eq!(retry["message"], "No more retries left");
    assert_eq!(retry["children"].as_array().unwrap().len(), 2);
    assert_eq!(
        wf["status"]["message"],
        format!("child '{}' failed", id("exhausted", "exhausted[0].f"))
    );
}

#[test]
fn with_items_fans_out_and_continue_on_lets_a_failure_pass() {
    let sim = sim();
    create(
        &sim,
        "fanout",
        json!({"entrypoint": "main", "templates": [{"name": "main", "steps": [
                   [{"name": "echo", "template": "ok", "withItems": ["x", "y"],
                     "arguments": {"parameters": [{"name": "v", "value": "{{item}}"}]}}],
                   [{"name": "bad", "template": "bad", "continueOn": {"failed": true}}],
                   [{"name": "after", "template": "ok"}]]},
                   leaf("ok", 1, "0"), leaf("bad", 1, "2")]}),
    );
    let wf = wait_phase(&sim, "fanout", "Succeeded");
    let x = node(&wf, "fanout[0].echo(0:x)");
    assert_eq!(x["phase"], "Succeeded");
    assert_eq!(x["displayName"], "echo(0:x)");
    assert_eq!(x["inputs"]["parameters"][0]["value"], "x");
    assert_eq!(node(&wf, "fanout[0].echo(1:y)")["phase"], "Succeeded");
    assert_eq!(node(&wf, "fanout[1].bad")["phase"], "Failed");
    assert_eq!(node(&wf, "fanout[2].after")["phase"], "Succeeded");
    assert_eq!(wf["status"]["progress"], "3/4");

    // In a DAG the items hang from a TaskGroup; a suspend with a duration ends by itself.
    create(
        &sim,
        "fandag",
        json!({"entrypoint": "d", "templates": [{"name": "d", "dag": {"tasks": [
                   {"name": "pause", "template": "pause"},
                   {"name": "each", "template": "ok", "depends": "pause", "withItems": [1, 2]}]}},
                   {"name": "pause", "suspend": {"duration": "3s"}}, leaf("ok", 1, "0")]}),
    );
    let wf = wait_phase(&sim, "fandag", "Succeeded");
    assert_eq!(node(&wf, "fandag.pause")["type"], "Suspend");
    let group = node(&wf, "fandag.each");
    assert_eq!(group["type"], "TaskGroup");
    assert_eq!(
        group["children"],
        json!([
            id("fandag", "fandag.each(0:1)"),
            id("fandag", "fandag.each(1:2)")
        ])
    );
    assert_eq!(
        node(&wf, "fandag.pause")["children"],
        json!([id("fandag", "fandag.each")])
    );
}

fn stoppable(sim: &SimProcess, name: &str) {
    create(
        sim,
        name,
        json!({"entrypoint": "main", "onExit": "notify", "templates": [{"name": "main", "steps": [
                   [{"name": "long", "template": "long"}], [{"name": "later", "template": "ok"}]]},
                   leaf("long", 40, "0"), leaf("ok", 1, "0"), leaf("notify", 1, "0")]}),
    );
    wait_for("the long step runs", WAIT, || {
        node(&get(sim, name), &format!("{name}[0].long"))["phase"] == "Running"
    });
}

#[test]
fn stop_lets_the_running_pod_finish_then_runs_the_exit_handler() {
    let sim = sim();
    stoppable(&sim, "stopping");
    let long = format!("stopping-long-{}", fnv32a("stopping[0].long"));
    let uid = sim.get_json(&["pod", &long, "-n", NS])["metadata"]["uid"].clone();
    patch(&sim, "stopping", json!({"spec": {"shutdown": "Stop"}}));
    let wf = wait_phase(&sim, "stopping", "Failed");
    assert_eq!(wf["status"]["message"], "Stopped with strategy 'Stop'");
    let pod = sim.get_json(&["pod", &long, "-n", NS]);
    assert_eq!(pod["metadata"]["uid"], uid);
    assert_eq!(pod["status"]["phase"], "Succeeded");
    assert_eq!(node(&wf, "stopping[0].long")["phase"], "Succeeded");
    // workflowpod.go: a pod that would start after the shutdown is not created; its node fails.
    let later = node(&wf, "stopping[1].later");
    assert_eq!(later["phase"], "Failed", "{wf}");
    assert_eq!(later["message"], "workflow shutdown with strategy: Stop");
    assert_eq!(node(&wf, "stopping.onExit")["phase"], "Succeeded");
    let names = pod_names(&sim, "stopping");
    assert!(
        !names.iter().any(|n| n.contains("-ok-")),
        "later never got a pod: {names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("stopping-notify-")));
}

#[test]
fn terminate_kills_the_running_pod_and_skips_the_exit_handler() {
    let sim = sim();
    stoppable(&sim, "killing");
    patch(&sim, "killing", json!({"spec": {"shutdown": "Terminate"}}));
    let wf = wait_phase(&sim, "killing", "Failed");
    assert_eq!(wf["status"]["message"], "Stopped with strategy 'Terminate'");
    let long = node(&wf, "killing[0].long");
    assert_eq!(long["phase"], "Failed");
    // As upstream's podReconciliation words it (two spaces).
    assert_eq!(
        long["message"],
        "workflow shutdown with strategy:  Terminate"
    );
    assert!(node(&wf, "killing.onExit").is_null(), "{wf}");
    wait_for("the killed pod is gone", WAIT, || {
        pod_names(&sim, "killing").is_empty()
    });
}

#[test]
fn suspend_holds_new_steps_and_a_suspend_node_resumes_when_marked_succeeded() {
    let sim = sim();
    create(
        &sim,
        "held",
        json!({"entrypoint": "main", "suspend": true, "templates": [{"name": "main", "steps": [[{"name": "a", "template": "ok"}]]}, leaf("ok", 1, "0")]}),
    );
    std::thread::sleep(Duration::from_millis(800));
    let wf = get(&sim, "held");
    assert_eq!(wf["status"]["phase"], "Running");
    assert!(pod_names(&sim, "held").is_empty());
    patch(&sim, "held", json!({"spec": {"suspend": null}}));
    wait_phase(&sim, "held", "Succeeded");

    // The scenario's deploy-live-suspend: prepare, then a suspend template.
    let name = "deploy-live-suspend";
    let approve = id(name, &format!("{name}[1].approve"));
    wait_for("approve is suspended", WAIT, || {
        get(&sim, name)["status"]["nodes"][&approve]["phase"] == "Running"
    });
    let wf = get(&sim, name);
    assert_eq!(wf["status"]["nodes"][&approve]["type"], "Suspend");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(phase(&sim, name), "Running");
    // As `argo resume` (workflow/util/util.go updateSuspendedNode): the node is Succeeded.
    patch(
        &sim,
        name,
        json!({"status": {"nodes": {approve.clone(): {"phase": "Succeeded"}}}}),
    );
    let wf = wait_phase(&sim, name, "Succeeded");
    assert_eq!(
        node(&wf, &format!("{name}[2].verify"))["phase"],
        "Succeeded"
    );
}

#[test]
fn an_external_retry_reruns_only_the_failed_branch() {
    let sim = sim();
    let name = "deploy-live-dag";
    let wf = wait_phase(&sim, name, "Failed");
    let web = id(name, &format!("{name}.web"));
    assert_eq!(wf["status"]["message"], format!("child '{web}' failed"));
    assert!(node(&wf, &format!("{name}.verify")).is_null());
    let uids = |sim: &SimProcess| -> Vec<(String, String)> {
        pods(sim, name)
            .iter()
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                    p["metadata"]["uid"].as_str().unwrap().to_string(),
                )
            })
            .filter(|(n, _)| !n.contains("-web-"))
            .collect()
    };
    let before = uids(&sim);
    assert_eq!(before.len(), 2, "{before:?}");
    // By hand, as `argo retry`: the failed pod goes, its node is removed, the workflow runs.
    let web_pod = format!("{name}-web-{}", fnv32a(&format!("{name}.web")));
    let out = sim.kubectl(&["delete", "pod", &web_pod, "-n", NS, "--wait=true"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    patch(
        &sim,
        name,
        json!({"metadata": {"labels": {"workflows.argoproj.io/completed": null, "workflows.argoproj.io/phase": "Running"}},
               "status": {"phase": "Running", "finishedAt": null,
                          "nodes": {web.clone(): null, name: {"phase": "Running", "finishedAt": null, "message": null}}}}),
    );
    let wf = wait_phase(&sim, name, "Succeeded");
    assert!(wf["status"]["message"].is_null(), "{wf}");
    assert_eq!(node(&wf, &format!("{name}.web"))["phase"], "Succeeded");
    assert_eq!(node(&wf, &format!("{name}.verify"))["phase"], "Succeeded");
    assert_eq!(uids(&sim).iter().filter(|p| before.contains(p)).count(), 2);
    assert_eq!(wf["status"]["progress"], "4/4");
    assert_eq!(
        wf["metadata"]["labels"]["workflows.argoproj.io/completed"],
        "true"
    );
}

#[test]
fn compressed_nodes_stay_compressed_and_foreign_instances_are_left_alone() {
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let wf = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                    "metadata": {"name": "packed", "namespace": NS, "annotations": {"sim.kube-sim.dev/compress-nodes": "true"}},
                    "spec": {"entrypoint": "main", "templates": [{"name": "main", "steps": [[{"name": "a", "template": "ok"}]]}, leaf("ok", 1, "0")]}});
    let foreign = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                    "metadata": {"name": "foreign", "namespace": NS, "labels": {"workflows.argoproj.io/controller-instanceid": "other"}},
                    "spec": {"entrypoint": "main", "templates": [leaf("main", 1, "0")]}});
    for (n, v) in [("packed", wf), ("foreign", foreign)] {
        let path = dir.path().join(format!("{n}.json"));
        std::fs::write(&path, v.to_string()).unwrap();
        let out = sim.kubectl(&["create", "--validate=false", "-f", path.to_str().unwrap()]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    let wf = wait_phase(&sim, "packed", "Succeeded");
    assert!(wf["status"]["nodes"].is_null(), "{wf}");
    assert!(
        wf["status"]["compressedNodes"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    // The plugin decodes them as argo's packer does.
    let home = tempfile::tempdir().unwrap();
    let tree = sim.run_plugin("argodeploy", home.path(), &["get", "packed", "-n", NS]);
    assert_eq!(tree.code, Some(0), "{}", tree.stderr);
    assert!(tree.stdout.contains("packed-ok-"), "{}", tree.stdout);
    let foreign = get(&sim, "foreign");
    assert!(
        foreign["status"].is_null() || foreign["status"]["phase"].is_null(),
        "{foreign}"
    );
    assert!(pod_names(&sim, "foreign").is_empty());
    // The recorded Running deployment (its pod runs) is as recorded.
    let running = get(&sim, "deploy-f3f49249-njqlp");
    assert_eq!(running["status"]["phase"], "Running");
    assert_eq!(running["status"]["progress"], "2/3");
}

#[test]
fn with_the_workflow_controller_scaled_to_zero_nothing_moves() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "20"]);
    std::thread::sleep(Duration::from_millis(600));
    assert!(get(&sim, "deploy-live-dag")["status"]["phase"].is_null());
    assert_eq!(phase(&sim, "deploy-d7a7a3cc-srdqx"), "Pending");
    assert_eq!(phase(&sim, "dag-fail-r4gvc"), "Running");
    assert!(pod_names(&sim, "deploy-live-dag").is_empty());
}

#[test]
fn the_live_steps_workflow_retries_its_flaky_step_then_runs_the_long_one() {
    let sim = sim();
    let name = "deploy-live-steps";
    let long = format!("{name}[2].deploy-playbook");
    wait_for("deploy-playbook runs", WAIT, || {
        node(&get(&sim, name), &long)["phase"] == "Running"
    });
    let wf = get(&sim, name);
    let flaky = node(&wf, &format!("{name}[1].flaky"));
    assert_eq!(flaky["type"], "Retry");
    assert_eq!(flaky["phase"], "Succeeded");
    assert_eq!(node(&wf, &format!("{name}[1].flaky(0)"))["phase"], "Failed");
    assert_eq!(
        node(&wf, &format!("{name}[1].flaky(1)"))["phase"],
        "Succeeded"
    );
    assert_eq!(
        wf["metadata"]["labels"]["workflows.argoproj.io/phase"],
        "Running"
    );
    assert_eq!(wf["status"]["progress"], "2/4");
    let attempts: Value = serde_json::from_str(
        wf["metadata"]["annotations"]["sim.kube-sim.dev/attempts"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(attempts[format!("{name}[1].flaky")], 2);
    // `kubectl get wf` lists it as Running.
    let out = sim.kubectl(&["get", "wf", name, "-n", NS]);
    assert!(out.stdout.contains(name), "{}", out.stdout);
}

/// Argo's Workflow CRD declares no subresources (manifests/base/crds/minimal/
/// argoproj.io_workflows.yaml: `subresources: {}`): `workflows/status` is a 404, and an update
/// of the object writes its status as it writes its spec.
#[test]
fn workflow_status_is_part_of_the_object_not_a_subresource() {
    let sim = SimProcess::start("atmosphere", &[]);
    let name = "deploy-f3f49249-njqlp";
    let refused = sim.kubectl(&[
        "patch",
        "workflow",
        name,
        "-n",
        NS,
        "--type",
        "merge",
        "--subresource",
        "status",
        "-p",
        r#"{"status":{"message":"via status"}}"#,
    ]);
    assert_ne!(refused.code, Some(0), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("NotFound") || refused.stderr.contains("not found"),
        "{}",
        refused.stderr
    );
    patch(
        &sim,
        name,
        json!({"spec": {"suspend": true}, "status": {"message": "by an update"}}),
    );
    let wf = get(&sim, name);
    assert_eq!(wf["status"]["message"], "by an update");
    assert_eq!(wf["spec"]["suspend"], true);
}
