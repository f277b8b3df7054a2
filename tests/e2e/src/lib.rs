//! The harness of the suite's end-to-end tests: the real plugin binaries, run as processes
//! against kube-sim (or, when `SUITE_E2E_KUBECONFIG` names a kubeconfig, a real cluster).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `target/<profile>`, where cargo put the workspace's binaries (tests run from `deps/`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let deps = exe.parent().expect("deps dir");
    let dir = if deps.ends_with("deps") {
        deps.parent().expect("profile dir")
    } else {
        deps
    };
    dir.to_path_buf()
}

/// The path of a workspace binary, e.g. `kubectl-airflow` or `kube-sim`.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test --workspace`",
        path.display()
    );
    path
}

/// The four plugins.
pub const PLUGINS: [&str; 4] = ["airflow", "pvcreset", "nodeevict", "argodeploy"];

/// A command for `kubectl-<plugin>` with a clean environment: no $KUBECONFIG, a HOME without
/// a kube config, no in-cluster variables, no colour.
pub fn plugin(name: &str, home: &Path) -> Command {
    let mut cmd = Command::new(bin(&format!("kubectl-{name}")));
    isolate(&mut cmd, home);
    cmd
}

/// Removes everything from the environment that would point a client at a cluster.
pub fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env("HOME", home)
        .env("NO_COLOR", "1");
}

/// stdout, stderr and exit code of a finished command.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: Option<i32>,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code(),
        }
    }
}

pub fn run(cmd: &mut Command) -> Run {
    cmd.stdin(std::process::Stdio::null());
    cmd.output().expect("spawn").into()
}

/// The kubeconfig of a real cluster to run the same tests against, if one is provided.
pub fn real_cluster_kubeconfig() -> Option<PathBuf> {
    std::env::var_os("SUITE_E2E_KUBECONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Writes a file (creating parent directories) and returns its path.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, content).expect("write");
    path
}

/// A minimal kubeconfig with one context per `(context, cluster server, namespace)` and a
/// token user.
pub fn kubeconfig(current: Option<&str>, contexts: &[(&str, &str, Option<&str>)]) -> String {
    let mut clusters = String::new();
    let mut ctxs = String::new();
    let mut users = String::new();
    for (name, server, ns) in contexts {
        clusters.push_str(&format!(
            "- name: {name}-cluster\n  cluster:\n    server: {server}\n"
        ));
        let ns_line = ns
            .map(|n| format!("\n    namespace: {n}"))
            .unwrap_or_default();
        ctxs.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}-cluster\n    user: {name}-user{ns_line}\n"
        ));
        users.push_str(&format!(
            "- name: {name}-user\n  user:\n    token: token-of-{name}\n"
        ));
    }
    let current = current
        .map(|c| format!("current-context: {c}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Config\n{current}clusters:\n{clusters}contexts:\n{ctxs}users:\n{users}"
    )
}
