//! The retry plan on argo's own controller fixtures (`workflow/controller/testdata`, carried
//! by the atmosphere scenario) and on the scenario's recorded deployment workflows.

use super::*;

const SCENARIO: &str = include_str!("../../../../tests/sim/scenarios/atmosphere.yaml");
const NOW: &str = "2026-12-02T12:00:00Z";

/// The scenario's workflow `name`, its phase set to `phase` (argo's fixtures are snapshots of
/// running workflows; a retry needs a completed one).
fn scenario_wf(name: &str, phase: Option<&str>) -> DynamicObject {
    let doc: serde_yaml::Value = serde_yaml::from_str(SCENARIO).unwrap();
    let objects: Vec<Value> =
        serde_json::from_value(serde_json::to_value(&doc["objects"]).unwrap()).unwrap();
    let mut wf = objects
        .into_iter()
        .find(|o| o["kind"] == "Workflow" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no workflow {name} in the scenario"));
    wf["metadata"]["resourceVersion"] = json!("42");
    if let Some(phase) = phase {
        wf["status"]["phase"] = json!(phase);
        wf["metadata"]["labels"][PHASE_LABEL] = json!(phase);
        wf["metadata"]["labels"][COMPLETED_LABEL] = json!("true");
    }
    serde_json::from_value(wf).unwrap()
}

fn req() -> Request {
    Request::default()
}

fn restart(steps: &[&str], selector: Option<&str>) -> Request {
    Request {
        restart_successful: true,
        steps: steps.iter().map(|s| s.to_string()).collect(),
        node_field_selector: selector.map(String::from),
        ..Request::default()
    }
}

fn names(nodes: &[PlanNode]) -> Vec<&str> {
    nodes.iter().map(|n| n.name.as_str()).collect()
}

fn new_status_nodes(plan: &Plan) -> Map<String, Value> {
    let whole = json!({"metadata": plan.updated["metadata"], "status": plan.updated["status"]});
    crate::node_status::decode(&whole).unwrap()
}

fn by_name<'a>(nodes: &'a Map<String, Value>, name: &str) -> &'a Value {
    nodes
        .values()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

#[test]
fn a_failed_steps_workflow_runs_its_failed_step_again_and_keeps_the_succeeded_one() {
    let wf = scenario_wf("deploy-e5121482-wwmms", None);
    let pods = BTreeMap::from([
        (
            "deploy-e5121482-wwmms-prepare-3432127570".to_string(),
            "u-prep".to_string(),
        ),
        (
            "deploy-e5121482-wwmms-deploy-playbook-3108653761".to_string(),
            "u-play".to_string(),
        ),
    ]);
    let plan = plan(&wf, &pods, &req(), NOW).unwrap();
    assert_eq!(plan.phase, "Error");
    assert_eq!(plan.resource_version, "42");
    assert_eq!(
        names(&plan.removed),
        ["deploy-e5121482-wwmms[1].deploy-playbook"]
    );
    assert_eq!(
        names(&plan.reset),
        ["deploy-e5121482-wwmms", "deploy-e5121482-wwmms[1]"]
    );
    assert_eq!(
        plan.pods,
        [PlanPod {
            name: "deploy-e5121482-wwmms-deploy-playbook-3108653761".into(),
            uid: Some("u-play".into())
        }]
    );
    let up = &plan.updated;
    assert_eq!(up["status"]["phase"], "Running");
    assert!(up["status"]["finishedAt"].is_null() && up["status"]["message"].is_null());
    assert_eq!(up["metadata"]["labels"][PHASE_LABEL], "Running");
    assert!(up["metadata"]["labels"][COMPLETED_LABEL].is_null());
    assert_eq!(
        up["metadata"]["labels"]["instance_uuid"],
        "e5121482-3929-4d22-a255-accb1a466884"
    );
    assert_eq!(up["metadata"]["resourceVersion"], "42");
    assert_eq!(
        up["status"]["conditions"],
        json!([{"type": "Completed", "status": "False"}])
    );
    let nodes = new_status_nodes(&plan);
    assert_eq!(nodes.len(), 4);
    let prepare = by_name(&nodes, "deploy-e5121482-wwmms[0].prepare");
    assert_eq!(
        prepare,
        &workflow::nodes(&wf).unwrap()[prepare["id"].as_str().unwrap()],
        "untouched"
    );
    let group = by_name(&nodes, "deploy-e5121482-wwmms[1]");
    assert_eq!(group["phase"], "Running");
    assert_eq!(group["children"], json!([]));
    assert!(group["finishedAt"].is_null());
    assert_eq!(group["startedAt"], NOW);
    assert_eq!(by_name(&nodes, "deploy-e5121482-wwmms")["phase"], "Running");
    // The plan's text: the tree with the changes marked, then the list.
    let text = render(&plan);
    assert!(text.starts_with("Retry workflow deploy-e5121482-wwmms (Error): 2 nodes back to Running, 1 node run again\n"), "{text}");
    assert!(
        text.contains("deploy-playbook") && text.contains("<- runs again (node removed)"),
        "{text}"
    );
    assert!(
        text.contains("  delete pod: deploy-e5121482-wwmms-deploy-playbook-3108653761\n"),
        "{text}"
    );
    // -o json: the same plan, without the object to write.
    let v = serde_json::to_value(&plan).unwrap();
    assert_eq!(v["removed"][0]["displayName"], "deploy-playbook");
    assert_eq!(v["pods"][0]["uid"], "u-play");
    assert!(v.get("updated").is_none() && v.get("tree").is_none());
}

/// argo's dag_xfail.yaml: C failed under A, whose other child B succeeded; only C runs again
/// and A keeps its success (its children no longer name C).
#[test]
fn a_failed_dag_task_under_a_succeeded_parent_runs_alone() {
    let wf = scenario_wf("dag-fail-r4gvc", Some("Failed"));
    let plan = plan(&wf, &BTreeMap::new(), &req(), NOW).unwrap();
    assert_eq!(names(&plan.removed), ["dag-fail-r4gvc.C"]);
    assert_eq!(names(&plan.reset), ["dag-fail-r4gvc"]);
    assert_eq!(plan.pods.len(), 1);
    assert!(plan.pods[0].name.starts_with("dag-fail-r4gvc-echo-") && plan.pods[0].uid.is_none());
    let nodes = new_status_nodes(&plan);
    let a = by_name(&nodes, "dag-fail-r4gvc.A");
    assert_eq!(a["phase"], "Succeeded");
    assert_eq!(a["children"], json!(["dag-fail-r4gvc-831398187"]));
    assert_eq!(by_name(&nodes, "dag-fail-r4gvc.B")["phase"], "Succeeded");
    assert_eq!(by_name(&nodes, "dag-fail-r4gvc")["phase"], "Running");
}

/// argo's dag_retry_succeeded.yaml: step1 failed twice then succeeded on its third attempt.
/// Its failed attempts are not run again (argo once took them for failures to retry); asked
/// for with --restart-successful, the whole Retry node runs again.
#[test]
fn failed_attempts_of_a_retry_that_succeeded_are_not_run_again() {
    let wf = scenario_wf("dag-with-retries-4wkh8", Some("Failed"));
    let refused = plan(&wf, &BTreeMap::new(), &req(), NOW).unwrap_err();
    assert_eq!(refused.exit_code(), 1);
    assert!(
        refused
            .to_string()
            .starts_with("nothing to retry in dag-with-retries-4wkh8"),
        "{refused}"
    );

    let again = plan(&wf, &BTreeMap::new(), &restart(&["step1"], None), NOW).unwrap();
    assert_eq!(
        names(&again.removed),
        [
            "dag-with-retries-4wkh8.step1",
            "dag-with-retries-4wkh8.step1(0)",
            "dag-with-retries-4wkh8.step1(1)",
            "dag-with-retries-4wkh8.step1(2)"
        ]
    );
    assert_eq!(names(&again.reset), ["dag-with-retries-4wkh8"]);
    assert_eq!(again.pods.len(), 3);
    let nodes = new_status_nodes(&again);
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes["dag-with-retries-4wkh8"]["children"], json!([]));
}

/// argo's steps-failed-retries.yaml: two Retry nodes in one step group, every attempt failed.
/// The attempts are removed (their pods deleted); the failed Retry node goes back to Running
/// with no attempts, so the controller starts its retries afresh (argo's resetPath).
#[test]
fn a_failed_retry_node_restarts_its_attempts() {
    let wf = scenario_wf("failed-retries-tjjsc", Some("Failed"));
    let plan = plan(&wf, &BTreeMap::new(), &req(), NOW).unwrap();
    assert_eq!(
        names(&plan.removed),
        [
            "failed-retries-tjjsc[0].delayed-fail(0)",
            "failed-retries-tjjsc[0].delayed-fail(1)",
            "failed-retries-tjjsc[0].fail(0)",
            "failed-retries-tjjsc[0].fail(1)"
        ]
    );
    assert_eq!(
        names(&plan.reset),
        [
            "failed-retries-tjjsc",
            "failed-retries-tjjsc[0]",
            "failed-retries-tjjsc[0].fail"
        ]
    );
    assert_eq!(plan.pods.len(), 4);
    let nodes = new_status_nodes(&plan);
    let fail = by_name(&nodes, "failed-retries-tjjsc[0].fail");
    assert_eq!(fail["phase"], "Running");
    assert_eq!(fail["children"], json!([]));
    assert!(fail["message"].is_null() && fail["finishedAt"].is_null());
    let group = by_name(&nodes, "failed-retries-tjjsc[0]");
    assert_eq!(
        group["children"].as_array().unwrap().len(),
        2,
        "both Retry nodes stay"
    );
}

/// A node field selector reaching a step nested in a step group: that step and everything
/// after it run again, the groups above it go back to Running.
#[test]
fn a_node_field_selector_picks_a_nested_succeeded_step() {
    let wf = scenario_wf("deploy-e5121482-wwmms", None);
    for req in [
        restart(&[], Some("displayName=prepare")),
        restart(&[], Some("templateName==prepare,phase=Succeeded")),
        restart(&["prepare"], None),
    ] {
        let plan = plan(&wf, &BTreeMap::new(), &req, NOW).unwrap();
        assert_eq!(
            names(&plan.removed),
            [
                "deploy-e5121482-wwmms[0].prepare",
                "deploy-e5121482-wwmms[1]",
                "deploy-e5121482-wwmms[1].deploy-playbook"
            ],
            "{req:?}"
        );
        assert_eq!(
            names(&plan.reset),
            ["deploy-e5121482-wwmms", "deploy-e5121482-wwmms[0]"]
        );
        assert_eq!(plan.pods.len(), 2);
    }
    // inputs.parameters and != as argo's selector has them.
    let by_input = plan(
        &wf,
        &BTreeMap::new(),
        &restart(&[], Some("inputs.parameters.instance_uuid.value=e5121482-3929-4d22-a255-accb1a466884,displayName!=deploy-playbook")),
        NOW,
    )
    .unwrap();
    assert_eq!(by_input.removed[0].display_name, "prepare");
}

#[test]
fn a_succeeded_workflow_is_retried_only_with_the_steps_named_and_written_back_compressed() {
    let wf = scenario_wf("deploy-6bad6be2-g255x", None);
    assert!(wf.data["status"]["compressedNodes"].is_string());
    let refused = plan(&wf, &BTreeMap::new(), &req(), NOW).unwrap_err();
    assert_eq!(refused.exit_code(), 1);
    assert!(
        refused.to_string().contains("--restart-successful --step"),
        "{refused}"
    );
    let plan = plan(&wf, &BTreeMap::new(), &restart(&["verify"], None), NOW).unwrap();
    assert!(plan.compressed_nodes);
    assert!(plan.updated["status"]["nodes"].is_null());
    assert!(plan.updated["status"]["compressedNodes"].is_string());
    let nodes = new_status_nodes(&plan);
    let before = workflow::nodes(&wf).unwrap();
    assert_eq!(nodes.len() + plan.removed.len(), before.len());
    assert!(plan.removed.iter().all(|n| n.display_name == "verify"));
}

#[test]
fn refusals_change_nothing_and_say_why() {
    let running = scenario_wf("deploy-f3f49249-njqlp", None);
    let e = plan(&running, &BTreeMap::new(), &req(), NOW).unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        e.to_string(),
        "workflow deploy-f3f49249-njqlp is Running: only a completed Failed or Error workflow can be retried"
    );
    let wf = scenario_wf("deploy-e5121482-wwmms", None);
    let usage = |r: Request| plan(&wf, &BTreeMap::new(), &r, NOW).unwrap_err();
    let e = usage(Request {
        steps: vec!["prepare".into()],
        ..req()
    });
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("add --restart-successful"), "{e}");
    let e = usage(Request {
        restart_successful: true,
        ..req()
    });
    assert_eq!(e.exit_code(), 2);
    let e = usage(restart(&["deploy"], None));
    assert_eq!(e.exit_code(), 2);
    assert_eq!(
        e.to_string(),
        "workflow deploy-e5121482-wwmms has no step \"deploy\"; its steps: deploy-playbook, prepare"
    );
    let e = usage(restart(&[], Some("displayName")));
    assert_eq!(e.exit_code(), 2);
    let e = usage(restart(&[], Some("displayName=nope")));
    assert!(e.to_string().contains("selects no node"), "{e}");
    let e = usage(Request {
        parameters: vec!["play=x".into()],
        ..req()
    });
    assert_eq!(e.exit_code(), 2);
    assert_eq!(
        e.to_string(),
        "workflow deploy-e5121482-wwmms has no parameter \"play\"; its parameters: instance_uuid, username, playbook"
    );
    let e = usage(Request {
        parameters: vec!["playbook".into()],
        ..req()
    });
    assert_eq!(e.exit_code(), 2);
    let offloaded = scenario_wf("deploy-70eb9a0a-vv8bx", None);
    let e = plan(
        &offloaded,
        &BTreeMap::new(),
        &restart(&["verify"], None),
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 1);
    assert!(
        e.to_string().contains("offloaded") && e.to_string().contains("argo server"),
        "{e}"
    );
}

#[test]
fn parameters_change_in_place_and_reset_groups_are_expanded_again() {
    let wf = scenario_wf("deploy-e5121482-wwmms", None);
    let r = Request {
        parameters: vec!["playbook=redeploy.yml".into()],
        ..req()
    };
    let plan = plan(&wf, &BTreeMap::new(), &r, NOW).unwrap();
    assert_eq!(
        plan.parameters,
        [ParameterChange {
            name: "playbook".into(),
            from: "deploy-instance.yml".into(),
            to: "redeploy.yml".into()
        }]
    );
    assert_eq!(
        plan.updated["spec"]["arguments"]["parameters"][2],
        json!({"name": "playbook", "value": "redeploy.yml"})
    );
    assert_eq!(
        plan.updated["spec"]["arguments"]["parameters"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(render(&plan).contains("  parameter playbook: deploy-instance.yml -> redeploy.yml\n"));
}

/// Exit handlers run again after a retry: their nodes are removed and their pods deleted
/// (FormulateRetryWorkflow's onExit walk), even when they were the only thing that failed.
#[test]
fn exit_handler_nodes_are_removed_with_their_pods() {
    let node = |id: &str, name: &str, kind: &str, phase: &str, children: &[&str]| {
        json!({"id": id, "name": name, "displayName": name.rsplit('.').next().unwrap(),
               "type": kind, "phase": phase, "templateName": "t", "children": children})
    };
    let wf: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": "w", "namespace": "atmosphere", "resourceVersion": "7"},
        "spec": {},
        "status": {"phase": "Failed", "nodes": {
            "w": node("w", "w", "Steps", "Succeeded", &["w-1"]),
            "w-1": node("w-1", "w[0]", "StepGroup", "Succeeded", &["w-2"]),
            "w-2": node("w-2", "w[0].main", "Pod", "Succeeded", &[]),
            "w-3": node("w-3", "w.onExit", "Steps", "Failed", &["w-4"]),
            "w-4": node("w-4", "w.onExit[0]", "StepGroup", "Failed", &["w-5"]),
            "w-5": node("w-5", "w.onExit[0].notify", "Pod", "Failed", &[]),
        }}
    }))
    .unwrap();
    let plan = plan(&wf, &BTreeMap::new(), &req(), NOW).unwrap();
    assert_eq!(
        names(&plan.removed),
        ["w.onExit", "w.onExit[0]", "w.onExit[0].notify"]
    );
    assert!(plan.reset.is_empty());
    assert_eq!(
        plan.pods
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        [crate::pod_name::pod_name(
            "w",
            "w.onExit[0].notify",
            "t",
            "w-5",
            crate::pod_name::PodNameVersion::V2
        )]
    );
    let nodes = new_status_nodes(&plan);
    assert_eq!(nodes.keys().collect::<Vec<_>>(), ["w", "w-1", "w-2"]);
}

/// The selector on argo's DAG fixture: B (succeeded, under A) runs again with the failed C;
/// A, which both hang from, keeps its success and its pod.
#[test]
fn a_node_field_selector_picks_a_succeeded_dag_task_below_another() {
    let wf = scenario_wf("dag-fail-r4gvc", Some("Failed"));
    let plan = plan(
        &wf,
        &BTreeMap::new(),
        &restart(&[], Some("name=dag-fail-r4gvc.B")),
        NOW,
    )
    .unwrap();
    assert_eq!(
        names(&plan.removed),
        ["dag-fail-r4gvc.B", "dag-fail-r4gvc.C"]
    );
    assert_eq!(names(&plan.reset), ["dag-fail-r4gvc"]);
    assert_eq!(plan.pods.len(), 2);
    let nodes = new_status_nodes(&plan);
    let a = by_name(&nodes, "dag-fail-r4gvc.A");
    assert_eq!(a["phase"], "Succeeded");
    assert_eq!(a["children"], json!([]));
}
