//! kube-sim judges the plugins, so it links none of their code: not `shared` and no
//! `kubectl-*` crate. A bug shared by judge and judged (a quantity parsed wrongly by both, say)
//! would otherwise never show.

use std::path::Path;
use std::process::Command;

/// The packages kube-sim links (normal dependencies, every level), one name per line.
fn kube_sim_dependencies() -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = Command::new(cargo)
        .args(["tree", "-p", "kube-sim", "--prefix", "none", "-e", "normal"])
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .expect("run cargo tree");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[test]
fn kube_sim_links_neither_shared_nor_any_plugin() {
    let deps = kube_sim_dependencies();
    // The check can fail: it sees what kube-sim does link.
    assert!(deps.iter().any(|d| d == "kube-sim"), "{deps:?}");
    assert!(deps.iter().any(|d| d == "serde_json"), "{deps:?}");
    let judged: Vec<&String> = deps
        .iter()
        .filter(|d| *d == "shared" || d.starts_with("kubectl-"))
        .collect();
    assert!(
        judged.is_empty(),
        "kube-sim links the code it judges: {judged:?}"
    );
}

/// kube-sim's own quantities (tests/sim/src/quantity.rs) as apimachinery reads and prints them,
/// seen through real kubectl: `500u` is half a millicore (the plugins' parser knows no `u`), so
/// a quota of `1m` admits two such pods and refuses the third, printing the amounts as
/// `Quantity.String` does.
#[test]
fn kube_sim_reads_and_prints_quantities_as_apimachinery() {
    let sim = suite_tests::SimProcess::start("aura", &["--time-scale", "50"]);
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: quantities}}\n\
             spec:\n  containers:\n  - name: main\n    image: busybox\n    \
             resources: {{requests: {{cpu: 500u}}}}\n"
        )
    };
    let setup = "apiVersion: v1\nkind: Namespace\nmetadata: {name: quantities}\n---\n\
                 apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: tiny, namespace: quantities}\n\
                 spec: {hard: {requests.cpu: 1m}}\n";
    let create = |name: &str, yaml: &str| {
        let path = suite_tests::write(dir.path(), &format!("{name}.yaml"), yaml);
        sim.kubectl(&["create", "--validate=false", "-f", path.to_str().unwrap()])
    };
    let out = create("setup", setup);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for name in ["a", "b"] {
        let out = create(name, &pod(name));
        assert_eq!(out.code, Some(0), "{name}: {}", out.stderr);
    }
    let out = create("c", &pod("c"));
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(
        out.stderr.contains(
            "exceeded quota: tiny, requested: requests.cpu=500u, used: requests.cpu=1m, limited: requests.cpu=1m"
        ),
        "{}",
        out.stderr
    );
}
