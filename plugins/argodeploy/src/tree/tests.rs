use serde_json::{Map, Value};
use std::io::Write;

use base64::Engine;
use jiff::Timestamp;

use super::*;
use crate::node_status::decode as nodes;
use crate::pod_name::{POD_NAME_FORMAT_ANNOTATION, node_id};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn opts(now: &str) -> Options {
    Options {
        wide: false,
        // argo get's own default, which these tests compare with.
        template: true,
        utf8: true,
        now: at(now),
    }
}

fn lines(text: &[&str]) -> String {
    let mut out = text.join("\n");
    out.push('\n');
    out
}

#[test]
fn node_ids_of_the_controller_fixtures_are_fnv32a_of_the_node_names() {
    // The controller named these nodes with Workflow.NodeID: the same hash v2 pod names use.
    for file in [
        "steps-failed-retries.yaml",
        "dag_retry_succeeded.yaml",
        "dag_xfail.yaml",
    ] {
        let wf = fixture(file);
        let name = wf_name(&wf).to_string();
        for (id, node) in nodes(&wf).unwrap() {
            assert_eq!(node_id(&name, text(&node, "name")), id, "{file}");
        }
    }
    let wf = fixture("steps-failed-retries.yaml");
    assert_eq!(
        node_id("failed-retries-tjjsc", "failed-retries-tjjsc[0]"),
        "failed-retries-tjjsc-2095973878"
    );
    assert_eq!(wf_name(&wf), "failed-retries-tjjsc");
}

/// steps-failed-retries.yaml, every rule derived by hand from get.go:
/// - convertToRenderTrees: the StepGroup `[0]` has boundaryID the root Steps node and is in
///   no StepGroup/Retry's children, so it goes under the root; the two Retry nodes are its
///   children (attachToParent prefers a non-boundary parent), the Pods their Retry's.
/// - insertSorted: `delayed-fail` and `fail` both start at 01:23:18 and have no `(N:`
///   index, so by display name: `delayed-fail` first; `fail(0)` 01:23:18 < `fail(1)` 01:23:27.
/// - filterNode: the StepGroup is hidden with childIndent; each Retry has two children so
///   it is shown.
/// - renderChild: root child `└─` (last), StepGroup children `┬─` (first, on the group's
///   prefix " └─") and `└─` (last, on its child prefix "   "), the groups' children `│ `
///   continuation; the Retry's children `├─` / `└─`.
/// - printNode: icons ● Running, ✖ Failed; TEMPLATE empty for the Retries (no
///   templateName); PODNAME only for Pods: v2 `<wf>-<template>-<fnv32a(node name)>`;
///   DURATION RelativeDurationShort: the fixture's finishedAt are ~5 days before startedAt,
///   the absolute difference is 5d 6h → "5d"; MESSAGE the node's.
/// - tabwriter(0, 0, 2, ' ', 0): column widths = longest cell + 2 (26, 16, 46, 10); the
///   header's MESSAGE is its last cell (not padded); the rows' MESSAGE cells are
///   tab-terminated so padded to 25, then the empty last cell.
#[test]
fn steps_failed_retries_renders_exactly_like_argo_get() {
    let wf = fixture("steps-failed-retries.yaml");
    let expected = lines(&[
        "STEP                      TEMPLATE        PODNAME                                       DURATION  MESSAGE",
        " ● failed-retries-tjjsc   failed-retries                                                                                   ",
        " └─┬─● delayed-fail                                                                                                        ",
        "   │ ├─✖ delayed-fail(0)  delayed-fail    failed-retries-tjjsc-delayed-fail-1375221696  5d        failed with exit code 1  ",
        "   │ └─✖ delayed-fail(1)  delayed-fail    failed-retries-tjjsc-delayed-fail-2113289837  5d        failed with exit code 1  ",
        "   └─✖ fail                                                                                       No more retries left     ",
        "     ├─✖ fail(0)          fail            failed-retries-tjjsc-fail-1229492679          5d        failed with exit code 1  ",
        "     └─✖ fail(1)          fail            failed-retries-tjjsc-fail-759866442           5d        failed with exit code 1  ",
    ]);
    let got = table(&wf, &opts("2019-01-03T01:25:18Z")).unwrap();
    assert_eq!(got, expected, "\n{got}");

    // --no-utf8: the same rows with argo's ASCII glyphs and phase words.
    let ascii = table(
        &wf,
        &Options {
            utf8: false,
            ..opts("2019-01-03T01:25:18Z")
        },
    )
    .unwrap();
    // The STEP column: up to where TEMPLATE starts (ASCII only, so bytes are characters).
    let step_width = ascii.find("TEMPLATE").unwrap();
    let first: Vec<&str> = ascii.lines().map(|l| l[..step_width].trim_end()).collect();
    assert_eq!(
        first,
        [
            "STEP",
            " Running failed-retries-tjjsc",
            " `-+-Running delayed-fail",
            "   | |-Failed delayed-fail(0)",
            "   | `-Failed delayed-fail(1)",
            "   `-Failed fail",
            "     |-Failed fail(0)",
            "     `-Failed fail(1)",
        ]
    );

    // The header: PrintWorkflowHelper's `%-20s %v` lines.
    let header = header(&wf, &opts("2019-01-03T01:25:18Z"));
    assert_eq!(
        header,
        lines(&[
            "Name:                failed-retries-tjjsc",
            "Namespace:           default",
            "ServiceAccount:      unset (will run with the default ServiceAccount)",
            "Status:              Running",
            "Created:             Fri Dec 28 19:21:20 +0000 (5 days ago)",
            "Started:             Thu Jan 03 01:23:18 +0000 (2 minutes ago)",
            "Duration:            2 minutes 0 seconds",
            "Progress:            ",
        ])
    );
    let all = render(&wf, &opts("2019-01-03T01:25:18Z")).unwrap();
    assert_eq!(all, format!("{header}\n{expected}"));
}

/// dag_retry_succeeded.yaml: the root DAG node has no phase (no icon: "  " then the name);
/// its Retry `step1` has three children so it is shown (`└─`, no template, no pod); the
/// attempts sorted by start time under it with `├─ ├─ └─`, durations 7s, 9s, 7s.
#[test]
fn dag_retry_succeeded_renders_exactly_like_argo_get() {
    let wf = fixture("dag_retry_succeeded.yaml");
    let expected = lines(&[
        "STEP                      TEMPLATE          PODNAME                                          DURATION  MESSAGE",
        "  dag-with-retries-4wkh8  dag-with-retries                                                                                      ",
        " └─✔ step1                                                                                                                      ",
        "   ├─✖ step1(0)           randomly-fail     dag-with-retries-4wkh8-randomly-fail-2105190396  7s        failed with exit code 1  ",
        "   ├─✖ step1(1)           randomly-fail     dag-with-retries-4wkh8-randomly-fail-1501049017  9s        failed with exit code 1  ",
        "   └─✔ step1(2)           randomly-fail     dag-with-retries-4wkh8-randomly-fail-2172006682  7s                                 ",
    ]);
    let got = table(&wf, &opts("2018-08-01T10:30:00Z")).unwrap();
    assert_eq!(got, expected, "\n{got}");
    // No phase: printer.WorkflowStatus says Pending (a creationTimestamp is set).
    assert!(
        header(&wf, &opts("2018-08-01T10:30:00Z")).contains("\nStatus:              Pending\n")
    );

    // A Retry with one child is hidden: the attempt takes its place.
    let mut one = wf.clone();
    one["status"]["nodes"]["dag-with-retries-4wkh8-2805650605"]["children"] =
        serde_json::json!(["dag-with-retries-4wkh8-2172006682"]);
    let nodes = one["status"]["nodes"].as_object_mut().unwrap();
    nodes.remove("dag-with-retries-4wkh8-2105190396");
    nodes.remove("dag-with-retries-4wkh8-1501049017");
    let got = table(&one, &opts("2018-08-01T10:30:00Z")).unwrap();
    let rows: Vec<&str> = got.lines().map(str::trim_end).collect();
    assert_eq!(
        rows,
        [
            "STEP                      TEMPLATE          PODNAME                                          DURATION  MESSAGE",
            "  dag-with-retries-4wkh8  dag-with-retries",
            " └─✔ step1(2)             randomly-fail     dag-with-retries-4wkh8-randomly-fail-2172006682  7s",
        ]
    );
}

/// dag_xfail.yaml: A is a Pod whose `children` (B, C) are ignored by argo get; all three
/// are in the DAG's boundary, sorted by start (A 09:57:43; B and C both 09:57:53, by name).
#[test]
fn dag_xfail_glyphs_icons_and_pod_names() {
    let wf = fixture("dag_xfail.yaml");
    let got = table(&wf, &opts("2018-08-01T10:00:00Z")).unwrap();
    let rows: Vec<Vec<&str>> = got
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec!["STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE"],
            vec!["● dag-fail-r4gvc", "diamond"],
            vec!["├─✔ A", "echo", "dag-fail-r4gvc-echo-848175806", "9s"],
            vec!["├─✔ B", "echo", "dag-fail-r4gvc-echo-831398187", "5s"],
            vec![
                "└─✖ C",
                "echo",
                "dag-fail-r4gvc-echo-814620568",
                "8s",
                "failed with exit code 1"
            ],
        ]
    );
    // Pod names v1: the node IDs.
    let mut v1 = wf.clone();
    v1["metadata"]["annotations"] = serde_json::json!({POD_NAME_FORMAT_ANNOTATION: "v1"});
    let got = table(&v1, &opts("2018-08-01T10:00:00Z")).unwrap();
    assert!(
        got.contains("\n └─✖ C             echo      dag-fail-r4gvc-814620568  8s  "),
        "{got}"
    );
}

/// The plugin's default leaves TEMPLATE to `-o wide`: the same rows without that cell, and
/// every controller fixture's table within 120 columns.
#[test]
fn without_the_template_column_the_rows_keep_their_cells_and_fit_120_columns() {
    let wf = fixture("dag_xfail.yaml");
    let plugin = Options {
        template: false,
        ..opts("2018-08-01T10:00:00Z")
    };
    let got = table(&wf, &plugin).unwrap();
    let rows: Vec<Vec<&str>> = got
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(rows[0], ["STEP", "PODNAME", "DURATION", "MESSAGE"]);
    assert_eq!(
        rows[4],
        [
            "└─✖ C",
            "dag-fail-r4gvc-echo-814620568",
            "8s",
            "failed with exit code 1"
        ]
    );
    for (file, now) in [
        ("steps-failed-retries.yaml", "2019-01-03T01:25:18Z"),
        ("dag_retry_succeeded.yaml", "2020-01-01T00:00:00Z"),
        ("dag_xfail.yaml", "2018-08-01T10:00:00Z"),
    ] {
        let text = render(
            &fixture(file),
            &Options {
                template: false,
                ..opts(now)
            },
        )
        .unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= 120, "{file}: {line}");
        }
    }
}

// -- node status: compressed, offloaded ----------------------------------------------------

fn compress(nodes: &Value) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(serde_json::to_string(nodes).unwrap().as_bytes())
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
}

#[test]
fn compressed_nodes_render_identically() {
    for file in [
        "steps-failed-retries.yaml",
        "dag_retry_succeeded.yaml",
        "dag_xfail.yaml",
    ] {
        let wf = fixture(file);
        let mut packed = wf.clone();
        let status = packed["status"].as_object_mut().unwrap();
        let plain = status.remove("nodes").unwrap();
        status.insert("compressedNodes".into(), Value::String(compress(&plain)));
        let o = opts("2019-01-03T01:25:18Z");
        assert_eq!(
            nodes(&packed).unwrap(),
            *plain.as_object().unwrap(),
            "{file}"
        );
        assert_eq!(
            table(&packed, &o).unwrap(),
            table(&wf, &o).unwrap(),
            "{file}"
        );
        assert_eq!(header(&packed, &o), header(&wf, &o), "{file}");
    }
    let mut bad = fixture("dag_xfail.yaml");
    bad["status"]["nodes"] = Value::Null;
    bad["status"]["compressedNodes"] = Value::String("not base64!".into());
    assert!(
        nodes(&bad)
            .unwrap_err()
            .contains("compressedNodes of dag-fail-r4gvc")
    );
}

#[test]
fn offloaded_node_status_is_an_error() {
    let mut wf = fixture("dag_xfail.yaml");
    wf["status"].as_object_mut().unwrap().remove("nodes");
    wf["status"]["offloadNodeStatusVersion"] = Value::String("fnv:784224447".into());
    let err = table(&wf, &opts("2018-08-01T10:00:00Z")).unwrap_err();
    assert_eq!(
        err,
        "node status of dag-fail-r4gvc is offloaded to the workflow archive database \
         (offloadNodeStatusVersion fnv:784224447): kubectl argodeploy reads the Kubernetes API only; \
         use `argo get` with the argo server"
    );
    assert_eq!(nodes(&wf).unwrap_err(), err);
    assert!(!err.contains('\n'));
}

#[test]
fn no_nodes_yet_means_no_table() {
    let wf = serde_json::json!({
        "metadata": {"name": "w", "namespace": "ns", "creationTimestamp": "2024-05-01T11:59:00Z"},
        "spec": {"arguments": {"parameters": [{"name": "playbook", "value": "deploy.yml"}, {"name": "unset"}]}},
    });
    let o = opts("2024-05-01T12:00:00Z");
    assert_eq!(table(&wf, &o).unwrap(), "");
    assert_eq!(
        render(&wf, &o).unwrap(),
        lines(&[
            "Name:                w",
            "Namespace:           ns",
            "ServiceAccount:      unset (will run with the default ServiceAccount)",
            "Status:              Pending",
            "Created:             Wed May 01 11:59:00 +0000 (1 minute ago)",
            "Progress:            ",
            "Parameters:          ",
            "  playbook:          deploy.yml",
        ])
    );
}

// -- the other rules, on a synthetic workflow ----------------------------------------------

fn node(
    id: &str,
    name: &str,
    display: &str,
    kind: &str,
    phase: &str,
    started: &str,
) -> (String, Value) {
    (
        id.to_string(),
        serde_json::json!({
            "id": id, "name": name, "displayName": display, "type": kind, "phase": phase,
            "startedAt": started, "boundaryID": "w",
        }),
    )
}

fn synthetic() -> Value {
    let id = |name: &str| node_id("w", name);
    let mut nodes = Map::new();
    let (_, mut root) = node("w", "w", "w", "Steps", "Running", "2024-05-01T10:00:00Z");
    root.as_object_mut().unwrap().remove("boundaryID");
    root["templateName"] = "main".into();
    nodes.insert("w".into(), root);
    // [0]: one step (the "──" glyph); [1]: a Suspend waiting and an omitted step.
    let (k, mut g0) = node(
        &id("w[0]"),
        "w[0]",
        "[0]",
        "StepGroup",
        "Succeeded",
        "2024-05-01T10:00:00Z",
    );
    g0["children"] = serde_json::json!([id("w[0].deploy")]);
    nodes.insert(k, g0);
    let (k, mut deploy) = node(
        &id("w[0].deploy"),
        "w[0].deploy",
        "deploy",
        "Pod",
        "Succeeded",
        "2024-05-01T10:00:00Z",
    );
    deploy["finishedAt"] = "2024-05-01T10:01:05Z".into();
    deploy["templateRef"] = serde_json::json!({"name": "lib", "template": "ansible"});
    deploy["hostNodeName"] = "node-1".into();
    deploy["resourcesDuration"] = serde_json::json!({"cpu": 3, "memory": 65});
    deploy["outputs"] = serde_json::json!({"artifacts": [{"name": "log"}, {"name": "report"}]});
    nodes.insert(k, deploy);
    let (k, mut g1) = node(
        &id("w[1]"),
        "w[1]",
        "[1]",
        "StepGroup",
        "Running",
        "2024-05-01T10:01:10Z",
    );
    g1["children"] = serde_json::json!([id("w[1].approve"), id("w[1].skip")]);
    nodes.insert(k, g1);
    let (k, mut approve) = node(
        &id("w[1].approve"),
        "w[1].approve",
        "approve",
        "Suspend",
        "Running",
        "2024-05-01T10:01:10Z",
    );
    approve["templateName"] = "approve".into();
    nodes.insert(k, approve);
    let (k, skip) = node(
        &id("w[1].skip"),
        "w[1].skip",
        "skip",
        "Skipped",
        "Omitted",
        "2024-05-01T10:01:10Z",
    );
    nodes.insert(k, skip);
    // The exit handler: a root of its own.
    let (k, mut exit) = node(
        &id("w.onExit"),
        "w.onExit",
        "w.onExit",
        "Pod",
        "Pending",
        "2024-05-01T10:02:00Z",
    );
    exit.as_object_mut().unwrap().remove("boundaryID");
    exit["templateName"] = "notify".into();
    exit["message"] = "ContainerCreating".into();
    nodes.insert(k, exit);
    serde_json::json!({
        "metadata": {"name": "w", "namespace": "ns", "creationTimestamp": "2024-05-01T10:00:00Z"},
        "spec": {"serviceAccountName": "deployer", "arguments": {"parameters": [{"name": "n", "value": 3}]}},
        "status": {
            "phase": "Running", "startedAt": "2024-05-01T10:00:00Z", "progress": "1/2",
            "message": "waiting", "estimatedDuration": 90,
            "conditions": [{"type": "PodRunning", "status": "False"}, {"type": "SpecWarning", "status": "True", "message": "deprecated"}],
            "resourcesDuration": {"cpu": 3, "memory": 65},
            "nodes": nodes,
        },
    })
}

/// - filterNode: both StepGroups hidden with childIndent; `[0]` has one child: `──` on the
///   group's own prefix; `[1]`'s first child `┬─`; the Omitted Skipped node is hidden.
/// - printNode: an active Suspend node (Running) gets `ǁ`, no pod, no duration; a
///   templateRef shows `name/template` and names the pod by its template.
/// - PrintWorkflowHelper: the onExit node (ID `NodeID("w.onExit")`) after a row of empty
///   cells; in wide mode that row has fewer cells, so it ends the MESSAGE and
///   RESOURCESDURATION column blocks (Go's tabwriter), which are sized apart below it.
#[test]
fn step_groups_suspend_omitted_template_ref_and_on_exit() {
    let wf = synthetic();
    let now = "2024-05-01T10:03:00Z";
    let got = table(&wf, &opts(now)).unwrap();
    let rows: Vec<&str> = got.lines().map(str::trim_end).collect();
    assert_eq!(
        rows,
        [
            "STEP            TEMPLATE     PODNAME               DURATION  MESSAGE",
            " ● w            main",
            " ├───✔ deploy   lib/ansible  w-ansible-1135341441  1m",
            " └─┬─ǁ approve  approve",
            "",
            " ◷ w.onExit     notify       w-notify-3635586449   1m        ContainerCreating",
        ]
    );
    let wide = table(
        &wf,
        &Options {
            wide: true,
            ..opts(now)
        },
    )
    .unwrap();
    let rows: Vec<&str> = wide.lines().collect();
    assert_eq!(
        rows[0],
        "STEP            TEMPLATE     PODNAME               DURATION  ARTIFACTS   MESSAGE  RESOURCESDURATION               NODENAME"
    );
    assert_eq!(
        rows[2],
        " ├───✔ deploy   lib/ansible  w-ansible-1135341441  1m        log,report           3s*(1 cpu),1m5s*(100Mi memory)  node-1"
    );
    assert_eq!(
        rows[5],
        " ◷ w.onExit     notify       w-notify-3635586449   1m                    ContainerCreating    "
    );
    assert_eq!(
        header(&wf, &opts(now)),
        lines(&[
            "Name:                w",
            "Namespace:           ns",
            "ServiceAccount:      deployer",
            "Status:              Running (Suspended)",
            "Message:             waiting",
            "Conditions:          ",
            " PodRunning          False",
            "⚠ SpecWarning        deprecated",
            "Created:             Wed May 01 10:00:00 +0000 (3 minutes ago)",
            "Started:             Wed May 01 10:00:00 +0000 (3 minutes ago)",
            "Duration:            3 minutes 0 seconds",
            "EstimatedDuration:   1 minute 30 seconds",
            "Progress:            1/2",
            "ResourcesDuration:   3s*(1 cpu),1m5s*(100Mi memory)",
            "Parameters:          ",
            "  n:                 3",
        ])
    );
}
