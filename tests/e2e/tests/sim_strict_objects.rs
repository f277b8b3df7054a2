//! kube-sim refuses the objects and requests a real API server refuses, with its status code
//! and words, seen through unmodified kubectl: names (DNS-1123 subdomain/label, DNS-1035 for
//! Services, generateName cut to fit 63), labels and label selectors, the annotation size
//! limit, pod log options, negative replicas, PVC spec changes and Eviction bodies.

use std::time::Duration;

use serde_json::Value;
use suite_tests::wait_for;
use suite_tests::{Run, SimProcess};

fn file(dir: &std::path::Path, name: &str, content: &str) -> String {
    suite_tests::write(dir, name, content)
        .to_str()
        .unwrap()
        .to_string()
}

fn refused(out: &Run, wanted: &[&str]) {
    assert_ne!(out.code, Some(0), "kubectl accepted it: {}", out.stdout);
    for w in wanted {
        assert!(
            out.stderr.contains(w),
            "expected {w:?} in kubectl's error:\n{}",
            out.stderr
        );
    }
}

fn ok(out: &Run, what: &str) {
    assert_eq!(out.code, Some(0), "{what}: {}", out.stderr);
}

fn config_map(name_field: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  {name_field}\n  namespace: default\n")
}

const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

#[test]
fn names_are_checked_per_kind_and_generated_names_fit_63_characters() {
    let sim = SimProcess::start("artsy", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();

    let bad = file(dir.path(), "bad.yaml", &config_map("name: Bad_Name"));
    let out = sim.kubectl(&["create", "--validate=false", "-f", &bad]);
    refused(
        &out,
        &[
            "The ConfigMap \"Bad_Name\" is invalid",
            &format!("metadata.name: Invalid value: \"Bad_Name\": {SUBDOMAIN}"),
        ],
    );

    let long = file(
        dir.path(),
        "long.yaml",
        &config_map(&format!("name: {}", "a".repeat(254))),
    );
    refused(
        &sim.kubectl(&["apply", "--validate=false", "-f", &long]),
        &["must be no more than 253 characters"],
    );

    // Namespaces are DNS-1123 labels: no dots.
    let ns = file(
        dir.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team.a\n",
    );
    refused(
        &sim.kubectl(&["create", "--validate=false", "-f", &ns]),
        &["metadata.name: Invalid value: \"team.a\": a lowercase RFC 1123 label must consist of"],
    );

    // Services are DNS-1035 labels: a leading digit is refused (a pod may have one).
    let svc = file(
        dir.path(),
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\n  namespace: default\nspec:\n  ports:\n  - port: 80\n",
    );
    refused(
        &sim.kubectl(&["create", "--validate=false", "-f", &svc]),
        &[
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character",
        ],
    );

    // generateName: the base is cut to 58 characters and 5 random ones follow.
    let base = format!("{}-", "g".repeat(70));
    let generated = file(
        dir.path(),
        "gen.yaml",
        &config_map(&format!("generateName: {base}")),
    );
    let out = sim.kubectl(&["create", "--validate=false", "-f", &generated, "-o", "name"]);
    ok(&out, "create with generateName");
    let name = out
        .stdout
        .trim()
        .trim_start_matches("configmap/")
        .to_string();
    assert_eq!(name.len(), 63, "{name}");
    assert!(name.starts_with(&"g".repeat(58)), "{name}");
    ok(
        &sim.kubectl(&["get", "configmap", &name, "-n", "default"]),
        "the generated name is stored",
    );
    let bad_prefix = file(dir.path(), "genbad.yaml", &config_map("generateName: Web-"));
    refused(
        &sim.kubectl(&["create", "--validate=false", "-f", &bad_prefix]),
        &["metadata.generateName: Invalid value: \"Web-\""],
    );
}

#[test]
fn labels_and_label_selectors_are_checked() {
    let sim = SimProcess::start("artsy", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();
    let cm = file(dir.path(), "cm.yaml", &config_map("name: labelled"));
    ok(
        &sim.kubectl(&["create", "--validate=false", "-f", &cm]),
        "create",
    );

    // kubectl label checks values itself, so the patch goes straight to the server.
    let out = sim.kubectl(&[
        "patch",
        "configmap",
        "labelled",
        "-n",
        "default",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"app":"bad value"}}}"#,
    ]);
    refused(
        &out,
        &[
            "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ],
    );
    let long_value = "v".repeat(64);
    let out = sim.kubectl(&[
        "patch",
        "configmap",
        "labelled",
        "-n",
        "default",
        "--type=merge",
        "-p",
        &format!(r#"{{"metadata":{{"labels":{{"app":"{long_value}"}}}}}}"#),
    ]);
    refused(&out, &["must be no more than 63 characters"]);
    let out = sim.kubectl(&[
        "patch",
        "configmap",
        "labelled",
        "-n",
        "default",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"Example.com/app":"web"}}}"#,
    ]);
    refused(
        &out,
        &[
            "metadata.labels: Invalid value: \"Example.com/app\": prefix part a lowercase RFC 1123 subdomain",
        ],
    );
    let labels =
        sim.get_json(&["configmap", "labelled", "-n", "default"])["metadata"]["labels"].clone();
    assert!(labels.is_null(), "nothing was stored: {labels}");
    // A valid label still goes through, with kubectl label.
    ok(
        &sim.kubectl(&[
            "label",
            "configmap",
            "labelled",
            "-n",
            "default",
            "app.kubernetes.io/name=web_1",
        ]),
        "label",
    );

    let out = sim.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps?labelSelector=app%3D-web",
    ]);
    refused(
        &out,
        &[
            "Error from server (BadRequest)",
            "unable to parse requirement: values[0][app]: Invalid value: \"-web\": a valid label must be",
        ],
    );
    // kubectl get -l sends the selector as typed and wraps the server's answer.
    let out = sim.kubectl(&["get", "configmaps", "-n", "default", "-l", "app=-web"]);
    refused(
        &out,
        &[
            "Unable to find \"/v1, Resource=configmaps\" that match label selector \"app=-web\", field selector \"\": unable to parse requirement: values[0][app]",
        ],
    );
    let out = sim.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps?labelSelector=a%2Fb%2Fc%3Dx",
    ]);
    refused(
        &out,
        &[
            "unable to parse requirement: key: Invalid value: \"a/b/c\": a qualified name must consist of",
        ],
    );
    let out = sim.kubectl(&[
        "get",
        "configmaps",
        "-n",
        "default",
        "-l",
        "app.kubernetes.io/name in (web_1,other)",
        "-o",
        "name",
    ]);
    ok(&out, "a valid set selector");
    assert_eq!(out.stdout.trim(), "configmap/labelled");
}

#[test]
fn annotations_are_limited_to_256_kib_per_object_last_applied_included() {
    let sim = SimProcess::start("artsy", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();
    let cm = file(dir.path(), "cm.yaml", &config_map("name: annotated"));
    ok(
        &sim.kubectl(&["create", "--validate=false", "-f", &cm]),
        "create",
    );

    let patch = file(
        dir.path(),
        "big.json",
        &format!(
            r#"{{"metadata":{{"annotations":{{"example.com/big":"{}"}}}}}}"#,
            "x".repeat(270_000)
        ),
    );
    let out = sim.kubectl(&[
        "patch",
        "configmap",
        "annotated",
        "-n",
        "default",
        "--type=merge",
        "--patch-file",
        &patch,
    ]);
    refused(
        &out,
        &["metadata.annotations: Too long: must have at most 262144 bytes"],
    );

    // 150 KB fits once; `kubectl apply` copies it into last-applied-configuration, which
    // counts too, so apply is refused where create is not.
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n  namespace: default\n  annotations:\n    example.com/notes: \"{}\"\n",
        "n".repeat(150_000)
    );
    let created = file(
        dir.path(),
        "created.yaml",
        &manifest.replace("NAME", "created"),
    );
    ok(
        &sim.kubectl(&["create", "--validate=false", "-f", &created]),
        "create 150 KB",
    );
    let applied = file(
        dir.path(),
        "applied.yaml",
        &manifest.replace("NAME", "applied"),
    );
    refused(
        &sim.kubectl(&["apply", "--validate=false", "-f", &applied]),
        &["metadata.annotations: Too long: must have at most 262144 bytes"],
    );
    refused(
        &sim.kubectl(&["get", "configmap", "applied", "-n", "default"]),
        &["NotFound"],
    );
}

#[test]
fn pod_log_options_are_validated() {
    let sim = SimProcess::start("atmosphere", &["--time-scale", "50"]);
    let pods = sim.get_json(&["pods", "-A"]);
    let pod = &pods["items"][0];
    let (ns, name) = (
        pod["metadata"]["namespace"].as_str().unwrap(),
        pod["metadata"]["name"].as_str().unwrap(),
    );
    let container = pod["spec"]["containers"][0]["name"].as_str().unwrap();
    let log = |query: &str| {
        sim.kubectl(&[
            "get",
            "--raw",
            &format!("/api/v1/namespaces/{ns}/pods/{name}/log?container={container}&{query}"),
        ])
    };
    refused(
        &log("tailLines=-1"),
        &[&format!(
            "PodLogOptions \"{name}\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"
        )],
    );
    refused(
        &log("sinceSeconds=0"),
        &["sinceSeconds: Invalid value: 0: must be greater than 0"],
    );
    refused(
        &log("limitBytes=0"),
        &["limitBytes: Invalid value: 0: must be greater than 0"],
    );
    refused(
        &log("sinceSeconds=10&sinceTime=2026-01-01T00:00:00Z"),
        &["Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"],
    );
    ok(&log("tailLines=0&sinceSeconds=1"), "valid options");
    // kubectl logs itself sends tailLines only when --tail is not -1 ("all").
    ok(
        &sim.kubectl(&["logs", "-n", ns, name, "-c", container, "--tail=1"]),
        "kubectl logs --tail=1",
    );
}

#[test]
fn replicas_may_not_be_negative_anywhere() {
    let sim = SimProcess::start("artsy", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();
    let deploy = |replicas: i64| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: neg\n  namespace: default\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: neg\n  template:\n    metadata:\n      labels:\n        app: neg\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"
        )
    };
    let negative = file(dir.path(), "neg.yaml", &deploy(-1));
    refused(
        &sim.kubectl(&["create", "--validate=false", "-f", &negative]),
        &["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    );
    let zero = file(dir.path(), "zero.yaml", &deploy(0));
    ok(
        &sim.kubectl(&["create", "--validate=false", "-f", &zero]),
        "create with 0",
    );
    // PUT
    refused(
        &sim.kubectl(&["replace", "--validate=false", "-f", &negative]),
        &["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    );
    // The scale subresource.
    refused(
        &sim.kubectl(&[
            "patch",
            "deployment",
            "neg",
            "-n",
            "default",
            "--subresource=scale",
            "--type=merge",
            "-p",
            r#"{"spec":{"replicas":-2}}"#,
        ]),
        &[
            "The Scale \"neg\" is invalid: spec.replicas: Invalid value: -2: must be greater than or equal to 0",
        ],
    );
    let d = sim.get_json(&["deployment", "neg", "-n", "default"]);
    assert_eq!(d["spec"]["replicas"], 0);
}

fn claim(name: &str, mode: &str, size: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  storageClassName: azurefile\n  accessModes: [{mode}]\n  resources:\n    requests:\n      storage: {size}\n"
    )
}

#[test]
fn a_claims_spec_is_immutable_except_a_bound_claims_storage_growing() {
    let sim = SimProcess::start("aura", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();
    let pvc = file(
        dir.path(),
        "pvc.yaml",
        &claim("data", "ReadWriteMany", "2Gi"),
    );
    ok(
        &sim.kubectl(&["apply", "--validate=false", "-f", &pvc]),
        "apply",
    );
    let get = || sim.get_json(&["pvc", "data", "-n", "default"]);
    wait_for("the claim Bound", Duration::from_secs(10), || {
        get()["status"]["phase"] == "Bound"
    });

    let out = sim.kubectl(&[
        "patch",
        "pvc",
        "data",
        "-n",
        "default",
        "-p",
        r#"{"spec":{"accessModes":["ReadWriteOnce"]}}"#,
    ]);
    refused(
        &out,
        &[
            "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ],
    );
    let changed = file(
        dir.path(),
        "changed.yaml",
        &claim("data", "ReadWriteOnce", "2Gi"),
    );
    refused(
        &sim.kubectl(&["apply", "--validate=false", "-f", &changed]),
        &["spec: Forbidden: spec is immutable after creation"],
    );
    let out = sim.kubectl(&[
        "patch",
        "pvc",
        "data",
        "-n",
        "default",
        "-p",
        r#"{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}"#,
    ]);
    refused(
        &out,
        &["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"],
    );
    let grown = file(
        dir.path(),
        "grown.yaml",
        &claim("data", "ReadWriteMany", "4Gi"),
    );
    ok(
        &sim.kubectl(&["apply", "--validate=false", "-f", &grown]),
        "growing a bound claim",
    );
    let pvc = get();
    assert_eq!(pvc["spec"]["accessModes"][0], "ReadWriteMany");
    assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "4Gi");
}

fn post_eviction(sim: &SimProcess, dir: &std::path::Path, pod: &str, body: &str) -> Run {
    let path = file(dir, &format!("eviction-{pod}.json"), body);
    sim.kubectl(&[
        "create",
        "--raw",
        &format!("/api/v1/namespaces/default/pods/{pod}/eviction"),
        "-f",
        &path,
    ])
}

fn unmanaged_pod(sim: &SimProcess, dir: &std::path::Path, name: &str) {
    let pod = file(
        dir,
        &format!("{name}.yaml"),
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        ),
    );
    ok(
        &sim.kubectl(&["create", "--validate=false", "-f", &pod]),
        "create pod",
    );
}

#[test]
fn eviction_bodies_must_be_evictions_of_the_pod_in_the_url() {
    let sim = SimProcess::start("artsy", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();
    unmanaged_pod(&sim, dir.path(), "victim");
    let exists = |name: &str| sim.kubectl(&["get", "pod", name, "-n", "default"]).code == Some(0);

    let out = post_eviction(
        &sim,
        dir.path(),
        "victim",
        r#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"someone-else","namespace":"default"}}"#,
    );
    refused(
        &out,
        &[
            "Error from server (BadRequest)",
            "name in URL does not match name in Eviction object",
        ],
    );
    let out = post_eviction(
        &sim,
        dir.path(),
        "victim",
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"victim"}}"#,
    );
    refused(
        &out,
        &["the API version in the data (v1) does not match the expected API version (policy/v1)"],
    );
    let out = post_eviction(
        &sim,
        dir.path(),
        "victim",
        r#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"victim","namespace":"kube-system"}}"#,
    );
    refused(
        &out,
        &["the namespace of the provided object does not match the namespace sent on the request"],
    );
    assert!(exists("victim"), "refused evictions delete nothing");

    // kube-rs' Api::evict body: the unknown `delete_options` key is ignored, as a real server's
    // decoder drops it; kind and apiVersion default to policy/v1 Eviction.
    let out = post_eviction(
        &sim,
        dir.path(),
        "victim",
        r#"{"delete_options":{"gracePeriodSeconds":0},"metadata":{"name":"victim"}}"#,
    );
    ok(&out, "kube-rs shaped eviction");
    wait_for("the pod gone", Duration::from_secs(10), || {
        !exists("victim")
    });
}

#[test]
fn label_selectors_on_watches_are_checked_too() {
    let sim = SimProcess::start("artsy", &["--time-scale", "50"]);
    let out = sim.kubectl(&[
        "get",
        "--raw",
        "/api/v1/pods?watch=true&timeoutSeconds=1&labelSelector=app%20in%20()",
    ]);
    refused(
        &out,
        &[
            "unable to parse requirement: values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty",
        ],
    );
    let out: Value = serde_json::from_str(
        &sim.kubectl(&["get", "--raw", "/api/v1/pods?labelSelector=app%3D"])
            .stdout,
    )
    .unwrap();
    assert_eq!(out["kind"], "PodList", "an empty value is a valid one");
}
