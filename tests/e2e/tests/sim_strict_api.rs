//! kube-sim's API edges as a real API server has them, seen through real kubectl: patch types
//! per resource, selectable fields, expiring continue tokens, the watch window, and seeded
//! faults that replay.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;
use suite_tests::{Run, SimProcess, bin, write};

fn ok(run: &Run, what: &str) {
    assert_eq!(run.code, Some(0), "{what}: {}{}", run.stdout, run.stderr);
}

fn refused(run: &Run, what: &str, expected: &str) {
    assert_ne!(run.code, Some(0), "{what} was accepted: {}", run.stdout);
    assert!(
        run.stderr.contains(expected),
        "{what}: expected {expected:?} in {:?}",
        run.stderr
    );
}

const SNAPSHOT: &str = r#"apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: strict-snap
  namespace: apps
spec:
  volumeSnapshotClassName: csi-aws-vsc
  source:
    persistentVolumeClaimName: data-0
"#;

const WORKFLOW: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: strict-wf
  namespace: apps
  labels:
    username: strict
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
"#;

/// The server's 415 message for a custom resource, as kubectl patch quotes it.
const UNSUPPORTED: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json";

/// kubectl's name for the kind of a resource, as its patch error prints it.
fn kind_of(resource: &str) -> &'static str {
    match resource {
        "scaledobjects.keda.sh" => "keda.sh/v1alpha1, Kind=ScaledObject",
        "volumesnapshots.snapshot.storage.k8s.io" => {
            "snapshot.storage.k8s.io/v1, Kind=VolumeSnapshot"
        }
        _ => "argoproj.io/v1alpha1, Kind=Workflow",
    }
}

#[test]
fn custom_resources_refuse_strategic_merge_and_apply_patches_are_refused() {
    let sim = SimProcess::start("aura", &["--time-scale", "20"]);
    let dir = tempfile::tempdir().unwrap();
    let snap = write(dir.path(), "snap.yaml", SNAPSHOT);
    let wf = write(dir.path(), "wf.yaml", WORKFLOW);
    for file in [&snap, &wf] {
        ok(
            &sim.kubectl(&["create", "--validate=false", "-f", file.to_str().unwrap()]),
            "create",
        );
    }
    let label = r#"{"metadata":{"labels":{"strict":"yes"}}}"#;
    for (resource, name) in [
        ("scaledobjects.keda.sh", "queue-worker"),
        ("volumesnapshots.snapshot.storage.k8s.io", "strict-snap"),
        ("workflows.argoproj.io", "strict-wf"),
    ] {
        let strategic = sim.kubectl(&[
            "patch",
            resource,
            name,
            "-n",
            "apps",
            "--type",
            "strategic",
            "-p",
            label,
        ]);
        refused(
            &strategic,
            &format!("strategic merge on {resource}"),
            &format!(
                "application/strategic-merge-patch+json is not supported by {}: {UNSUPPORTED}",
                kind_of(resource)
            ),
        );
        let answered = sim
            .journal()
            .into_iter()
            .rev()
            .find(|e| e["method"] == "PATCH")
            .unwrap();
        assert_eq!(answered["status"], 415, "{answered}");
        let unchanged = sim.get_json(&[resource, name, "-n", "apps"]);
        assert!(unchanged["metadata"]["labels"]["strict"].is_null());
        ok(
            &sim.kubectl(&[
                "patch", resource, name, "-n", "apps", "--type", "merge", "-p", label,
            ]),
            &format!("merge patch on {resource}"),
        );
        ok(
            &sim.kubectl(&[
                "patch",
                resource,
                name,
                "-n",
                "apps",
                "--type",
                "json",
                "-p",
                r#"[{"op":"add","path":"/metadata/labels/json","value":"yes"}]"#,
            ]),
            &format!("json patch on {resource}"),
        );
        let patched = sim.get_json(&[resource, name, "-n", "apps"]);
        assert_eq!(patched["metadata"]["labels"]["strict"], "yes");
        assert_eq!(patched["metadata"]["labels"]["json"], "yes");
    }
    // Built-in kinds keep strategic merge (kubectl drain, rollout restart use it).
    ok(
        &sim.kubectl(&[
            "patch",
            "deployment",
            "report-builder",
            "-n",
            "apps",
            "--type",
            "strategic",
            "-p",
            label,
        ]),
        "strategic merge on a Deployment",
    );
    // Server-side apply is not implemented by the sim (no managedFields, no conflicts): it is
    // refused with 415 as by a server without it, which kubectl recognises.
    let cm = write(
        dir.path(),
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: report-builder-config\n  namespace: apps\ndata:\n  a: b\n",
    );
    ok(
        &sim.kubectl(&["create", "--validate=false", "-f", cm.to_str().unwrap()]),
        "create cm",
    );
    let ssa = sim.kubectl(&[
        "apply",
        "--server-side",
        "--validate=false",
        "-f",
        cm.to_str().unwrap(),
    ]);
    refused(
        &ssa,
        "server-side apply",
        "Server-side apply not available on the server",
    );
    let ssa = sim.kubectl(&[
        "apply",
        "--server-side",
        "--validate=false",
        "-f",
        wf.to_str().unwrap(),
    ]);
    refused(
        &ssa,
        "server-side apply of a Workflow",
        "Server-side apply not available on the server",
    );
}

#[test]
fn field_selectors_are_limited_to_the_fields_upstream_makes_selectable() {
    let sim = SimProcess::start("artsy", &["--time-scale", "20"]);
    let get = |args: &[&str]| {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "name"]);
        sim.kubectl(&all)
    };
    // Supported: pods by node and phase, nodes by schedulability (false when absent), events
    // by reason, secrets by type, replicasets by replicas, namespaces by phase.
    let on_node = get(&[
        "pods",
        "-A",
        "--field-selector",
        "spec.nodeName=ip-10-0-12-27.ec2.internal,status.phase=Running",
    ]);
    ok(&on_node, "pods by node");
    assert!(!on_node.stdout.trim().is_empty());
    let schedulable = get(&["nodes", "--field-selector", "spec.unschedulable=false"]);
    ok(&schedulable, "nodes by spec.unschedulable");
    let all_nodes = get(&["nodes"]);
    assert_eq!(schedulable.stdout, all_nodes.stdout, "no node is cordoned");
    for args in [
        ["events", "-A", "--field-selector", "reason=Scheduled"],
        ["secrets", "-A", "--field-selector", "type=Opaque"],
        ["replicasets", "-A", "--field-selector", "status.replicas=1"],
        [
            "namespaces",
            "--field-selector",
            "status.phase=Active",
            "-A",
        ],
        ["services", "-A", "--field-selector", "metadata.name=x"],
        [
            "pods",
            "-A",
            "--field-selector",
            "spec.host=ip-10-0-12-27.ec2.internal",
        ],
    ] {
        ok(&get(&args), &format!("{args:?}"));
    }
    // Refused with the conversion function's words, 400 BadRequest.
    refused(
        &get(&["pods", "-A", "--field-selector", "status.hostIP=10.0.12.27"]),
        "pods by status.hostIP",
        "Error from server (BadRequest)",
    );
    refused(
        &get(&["pods", "-A", "--field-selector", "status.hostIP=10.0.12.27"]),
        "pods by status.hostIP",
        "field label not supported: status.hostIP",
    );
    refused(
        &get(&["nodes", "--field-selector", "metadata.namespace=x"]),
        "nodes by namespace",
        "field label not supported: metadata.namespace",
    );
    refused(
        &get(&["deployments", "-A", "--field-selector", "spec.replicas=1"]),
        "deployments by replicas",
        r#""spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace""#,
    );
    refused(
        &get(&[
            "workflows",
            "-A",
            "--field-selector",
            "status.phase=Running",
        ]),
        "workflows by phase",
        "field label not supported: status.phase",
    );
    ok(
        &get(&["workflows", "-A", "--field-selector", "metadata.name=x"]),
        "workflows by name",
    );
    refused(
        &get(&[
            "volumesnapshotclasses",
            "--field-selector",
            "metadata.namespace=x",
        ]),
        "a cluster-scoped custom resource by namespace",
        "field label not supported: metadata.namespace",
    );
    // A watch is refused alike.
    let watch = sim.kubectl(&[
        "get",
        "--raw",
        "/api/v1/pods?watch=true&timeoutSeconds=1&fieldSelector=spec.nodeName%3Dx,status.hostIP%3Dy",
    ]);
    refused(
        &watch,
        "a watch by status.hostIP",
        "field label not supported",
    );
}

fn raw_json(sim: &SimProcess, path: &str) -> Value {
    let out = sim.kubectl(&["get", "--raw", path]);
    ok(&out, path);
    serde_json::from_str(&out.stdout).expect("json")
}

#[test]
fn continue_tokens_expire_with_410_and_a_fresh_token() {
    let sim = SimProcess::start("artsy", &["--continue-ttl", "1s"]);
    let first = raw_json(&sim, "/api/v1/pods?limit=2");
    let token = first["metadata"]["continue"].as_str().expect("continue");
    // Within the age: the next page follows.
    let second = raw_json(&sim, &format!("/api/v1/pods?limit=2&continue={token}"));
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert_ne!(second["items"][0], first["items"][0]);
    std::thread::sleep(Duration::from_millis(1300));
    let expired = sim.kubectl(&[
        "get",
        "--raw",
        &format!("/api/v1/pods?limit=2&continue={token}"),
    ]);
    refused(
        &expired,
        "an old continue token",
        "Error from server (Expired): The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.",
    );
    let status = sim
        .journal()
        .into_iter()
        .rev()
        .find(|e| e["query"].as_str().unwrap_or("").contains("continue="))
        .expect("journal entry");
    assert_eq!(status["status"], 410);
    // kubectl's own chunked listing is fast enough never to meet it.
    ok(
        &sim.kubectl(&["get", "pods", "-A", "--chunk-size", "2"]),
        "chunked get",
    );
}

#[test]
fn a_watch_from_before_the_window_gets_410_and_a_recent_one_does_not() {
    let sim = SimProcess::start("artsy", &["--watch-window", "3"]);
    let old = raw_json(&sim, "/api/v1/namespaces?limit=1")["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..5 {
        ok(
            &sim.kubectl(&["label", "namespace", "default", &format!("strict-{i}=x")]),
            "label",
        );
    }
    let gone = sim.kubectl(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces?watch=true&timeoutSeconds=2&resourceVersion={old}"),
    ]);
    let first: Value = serde_json::from_str(gone.stdout.lines().next().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("watch event: {}{}", gone.stdout, gone.stderr));
    assert_eq!(first["type"], "ERROR", "{}", gone.stdout);
    assert_eq!(first["object"]["code"], 410);
    assert_eq!(first["object"]["reason"], "Expired");
    assert!(
        first["object"]["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("too old resource version: {old} (")),
        "{first}"
    );
    // From a version inside the window: the events after it, no error.
    let recent = raw_json(&sim, "/api/v1/namespaces?limit=1")["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &sim.kubectl(&["label", "namespace", "default", "strict-last=x"]),
        "label",
    );
    let watch = sim.kubectl(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces?watch=true&timeoutSeconds=1&resourceVersion={recent}"),
    ]);
    assert!(!watch.stdout.contains("ERROR"), "{}", watch.stdout);
    assert!(watch.stdout.contains("strict-last"), "{}", watch.stdout);
    // kubectl's own watch (list, then watch from the list's version) works.
    let kubectl_watch = sim.kubectl(&[
        "get",
        "namespaces",
        "--watch",
        "--request-timeout",
        "2s",
        "-o",
        "name",
    ]);
    assert!(
        kubectl_watch.stdout.contains("namespace/default"),
        "{kubectl_watch:?}"
    );
}

#[test]
fn nodeevict_waits_through_a_tiny_watch_window_by_relisting() {
    // A window of one event, requests slowed by 100 ms and a writer labelling a namespace
    // meanwhile: the watch nodeevict opens after its list starts behind the window, gets 410
    // Expired, and kube's watcher must list again.
    let sim = SimProcess::start(
        "artsy",
        &[
            "--time-scale",
            "20",
            "--watch-window",
            "1",
            "--latency-ms",
            "100",
        ],
    );
    let home = tempfile::tempdir().unwrap();
    let node = "ip-10-0-12-27.ec2.internal";
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                sim.kubectl(&[
                    "label",
                    "namespace",
                    "default",
                    &format!("churn={n}"),
                    "--overwrite",
                ]);
            }
            n
        });
        let out = sim.run_plugin(
            "nodeevict",
            home.path(),
            &[node, "--force", "-y", "--timeout", "1m"],
        );
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        ok(&out, "nodeevict");
        writer.join().unwrap()
    });
    let left = sim.get_json(&[
        "pods",
        "-A",
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ]);
    for pod in left["items"].as_array().unwrap() {
        assert_eq!(
            pod["metadata"]["ownerReferences"][0]["kind"], "DaemonSet",
            "only DaemonSet pods stay: {pod}"
        );
    }
    // The watcher's lists (paged, limit=500) of the node's pods: the first and the relists.
    let journal = sim.journal();
    let watcher_lists = journal
        .iter()
        .filter(|e| {
            let q = e["query"].as_str().unwrap_or("");
            e["method"] == "GET"
                && e["path"] == "/api/v1/pods"
                && q.contains("spec.nodeName")
                && q.contains("limit=500")
                && !q.contains("watch=")
        })
        .count();
    eprintln!("{churn} namespace labels meanwhile; {watcher_lists} watcher lists");
    assert!(
        watcher_lists >= 2,
        "the watch never started behind the window: {journal:#?}"
    );
}

/// One HTTP/1.1 GET on a fresh connection; the status, or 0 when the connection is dropped.
fn http_get(addr: &str, path: &str, token: &str) -> u16 {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The statuses (and lost-answer labels) the sim journalled for a fixed request sequence.
fn fault_run(seed: &str) -> (Vec<(u16, String)>, Vec<String>) {
    let sim = SimProcess::start(
        "artsy",
        &["--insecure-http", "--fault-rate", "0.3", "--seed", seed],
    );
    assert_eq!(sim.seed.to_string(), seed);
    let kubeconfig: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&sim.kubeconfig).unwrap()).unwrap();
    let token = kubeconfig["users"][0]["user"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let addr = sim.url.trim_start_matches("http://").to_string();
    let paths = [
        "/api/v1/namespaces/default",
        "/api/v1/nodes",
        "/apis/apps/v1/deployments",
        "/api/v1/pods?limit=3",
    ];
    let seen: Vec<(u16, String)> = (0..40)
        .map(|i| {
            let path = paths[i % paths.len()];
            (http_get(&addr, path, &token), path.to_string())
        })
        .collect();
    let journal = sim
        .journal()
        .into_iter()
        .filter(|e| {
            paths
                .iter()
                .any(|p| e["path"] == p.split('?').next().unwrap_or(p))
        })
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["path"].as_str().unwrap_or(""),
                e["query"].as_str().unwrap_or(""),
                e["status"],
                e["fault"].as_str().unwrap_or("-")
            )
        })
        .collect();
    (seen, journal)
}

#[test]
fn the_same_seed_replays_the_same_faults() {
    let (seen_a, journal_a) = fault_run("1234");
    let (seen_b, journal_b) = fault_run("1234");
    assert_eq!(journal_a.len(), 40, "{journal_a:#?}");
    assert_eq!(journal_a, journal_b, "same seed, same faults");
    assert_eq!(seen_a, seen_b);
    let faults = seen_a.iter().filter(|(s, _)| *s != 200).count();
    assert!(
        (3..=25).contains(&faults),
        "a 0.3 fault rate over 40 requests: {seen_a:?}"
    );
    let (_, journal_c) = fault_run("99");
    assert_ne!(journal_a, journal_c, "another seed, other faults");
}

#[test]
fn the_seed_is_printed_on_stderr_and_the_ready_line_is_unchanged() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = Command::new(bin("kube-sim"))
        .args([
            "serve",
            "--scenario",
            "artsy",
            "--seed",
            "77",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("kube-sim listening on https://127.0.0.1:"),
        "{line:?}"
    );
    assert!(
        line.trim_end().ends_with(&format!(
            " kubeconfig={}",
            std::fs::canonicalize(&kubeconfig).unwrap().display()
        )),
        "{line:?}"
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let _ = child.wait();
    assert!(
        stderr.lines().any(|l| l == "kube-sim seed: 77"),
        "{stderr:?}"
    );
}
