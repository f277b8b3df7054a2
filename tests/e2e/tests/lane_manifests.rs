//! The lane's files parse and say what the lane relies on: the manifests (objects without a
//! namespace, so `kubectl apply -n` puts them in the test's own), kube-sim's lane scenario (as
//! kube-sim serves it), and the GitHub workflows that run the tests (ci.yml, e2e-kind.yml).
//! No cluster needed.

use serde_yaml::Value;
use suite_tests::manifest;

/// The documents of a multi-document YAML file (separated by `---` lines).
fn documents(text: &str) -> Vec<Value> {
    format!("\n{text}")
        .split("\n---")
        .map(|doc| serde_yaml::from_str::<Value>(doc).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_manifest_is_namespace_free_kubernetes_objects() {
    for name in [
        "airflow-chart.yaml",
        "pvcreset-deployment.yaml",
        "argo-workflows.yaml",
        "argo-workflow-crd.yaml",
    ] {
        let docs = documents(&read(&manifest(name)));
        assert!(!docs.is_empty(), "{name}");
        for doc in docs {
            assert!(doc["apiVersion"].is_string(), "{name}: {doc:?}");
            assert!(doc["kind"].is_string(), "{name}: {doc:?}");
            assert!(doc["metadata"]["name"].is_string(), "{name}: {doc:?}");
            assert!(
                doc["metadata"]["namespace"].is_null(),
                "{name}: the test's namespace comes from kubectl apply -n"
            );
        }
    }
    let crd = &documents(&read(&manifest("argo-workflow-crd.yaml")))[0];
    assert_eq!(crd["metadata"]["name"], "workflows.argoproj.io");
    assert_eq!(crd["spec"]["versions"][0]["name"], "v1alpha1");
}

#[test]
fn the_lane_scenario_is_a_kind_like_cluster_with_a_default_storage_class() {
    // kube-sim serves the scenario; real kubectl reads what it holds.
    let sim = suite_tests::SimProcess::start(
        manifest("kube-sim-lane.yaml").to_str().expect("utf-8"),
        &[],
    );
    let nodes = sim.get_json(&["nodes"]);
    assert_eq!(nodes["items"].as_array().map(Vec::len), Some(3), "{nodes}");
    let classes = sim.get_json(&["storageclasses"]);
    let classes = classes["items"].as_array().expect("items");
    assert_eq!(classes.len(), 1);
    assert_eq!(classes[0]["metadata"]["name"], "standard");
    assert_eq!(
        classes[0]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"],
        "true"
    );
}

#[test]
fn the_workflows_parse_and_run_what_the_readme_says() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ci = &documents(&read(&root.join(".github/workflows/ci.yml")))[0];
    let steps = |job: &str| -> Vec<String> {
        ci["jobs"][job]["steps"]
            .as_sequence()
            .unwrap_or_else(|| panic!("ci.yml: job {job} has steps"))
            .iter()
            .filter_map(|s| s["run"].as_str().map(String::from))
            .collect()
    };
    assert!(steps("linux").iter().any(|r| r.trim() == ".ci/run"));
    let plugins = steps("plugins").join("\n");
    for package in [
        "kubectl-airflow",
        "kubectl-pvcreset",
        "kubectl-nodeevict",
        "kubectl-argodeploy",
    ] {
        assert!(plugins.contains(&format!("-p {package}")), "{package}");
    }
    assert!(plugins.contains("-p shared --lib"));
    assert_eq!(
        ci["jobs"]["plugins"]["strategy"]["matrix"]["os"],
        serde_yaml::from_str::<Value>("[macos-latest, windows-latest]").unwrap()
    );

    let kind = &documents(&read(&root.join(".github/workflows/e2e-kind.yml")))[0];
    let matrix = kind["jobs"]["lane"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("e2e-kind.yml: a matrix");
    let versions: Vec<&str> = matrix
        .iter()
        .map(|m| m["kubernetes"].as_str().expect("kubernetes"))
        .collect();
    // The oldest supported minor: k8s-openapi's `earliest` feature (v1_33).
    assert!(versions[0].starts_with("v1.33."), "{versions:?}");
    for m in matrix {
        let image = m["image"].as_str().expect("image");
        let version = m["kubernetes"].as_str().expect("kubernetes");
        assert!(
            image.starts_with(&format!("kindest/node:{version}@sha256:")),
            "pinned by digest, the version the matrix says: {image}"
        );
    }
    let lane = kind["jobs"]["lane"]["steps"]
        .as_sequence()
        .expect("steps")
        .iter()
        .find(|s| s["env"]["SUITE_E2E_KUBECONFIG"].is_string())
        .expect("a step runs the lane against the kind cluster");
    assert!(
        lane["run"]
            .as_str()
            .is_some_and(|r| r.contains("--test 'lane_*'"))
    );
}
