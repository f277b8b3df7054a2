//! Airflow's own health in `kubectl airflow status`, read through the API server's service proxy
//! from the webserver's `/health` (kube-sim answers from the scenario: lunar healthy, zodiac's
//! scheduler pod Ready but its heartbeat 20 minutes old): shown beside pod readiness, a Ready
//! scheduler with a stale heartbeat is Degraded with a restart command that works pasted, and
//! without the permission or the endpoints it says why and exits as before.

use serde_json::Value;
use suite_tests::{SimProcess, paste, wait_for};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

/// The `fix:` command of the first problem whose line starts with `start`.
fn fix_of(stdout: &str, start: &str) -> String {
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no problem {start:?} in:\n{stdout}"));
    lines[at..]
        .iter()
        .find_map(|l| l.strip_prefix("  fix: "))
        .unwrap_or_else(|| panic!("no fix after {start:?} in:\n{stdout}"))
        .to_string()
}

#[test]
fn status_shows_airflow_health_and_a_stale_scheduler_is_degraded() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();

    // Healthy: the health beside the pods, and no Degraded problem. lunar's webserver serves
    // under its base URL's path (AIRFLOW__WEBSERVER__BASE_URL in its Deployment's env).
    let out = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "Airflow health (services/lunar-nuclear-3725-webserver:8080/proxy/lunar-nuclear-3725/airflow/health):\n  metadatabase healthy, scheduler healthy (heartbeat "
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("triggerer healthy"), "{}", out.stdout);
    assert!(!out.stdout.contains("Degraded"), "{}", out.stdout);
    // Above the problems, below the pods.
    let health_at = out.stdout.find("Airflow health").unwrap();
    assert!(out.stdout.find("COMPONENT").unwrap() < health_at);
    assert!(health_at < out.stdout.find("\nProblems:").unwrap());

    // Stale: the scheduler's pod is Ready, Airflow says it is unhealthy.
    let out = sim.run_plugin("airflow", home.path(), &["status", "-n", ZODIAC]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("scheduler unhealthy (heartbeat "),
        "{}",
        out.stdout
    );
    let fix = fix_of(
        &out.stdout,
        "- scheduler is Degraded: zodiac-cosmo-1172-scheduler-",
    );
    // The Ready pod named in the problem: the stuck one.
    let stale_pod = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("- scheduler is Degraded: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    assert!(
        out.stdout
            .contains("Ready, but Airflow reports it unhealthy — its last"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("([scheduler] scheduler_health_check_threshold is 30s)"),
        "{}",
        out.stdout
    );
    assert!(
        fix.starts_with(&format!(
            "kubectl airflow restart scheduler zodiac-cosmo-1172 -n {ZODIAC} --kubeconfig "
        )),
        "{fix}"
    );

    // -o json carries the health and the problem.
    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &["status", "-n", ZODIAC, "-o", "json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        doc["health"]["source"],
        "services/zodiac-cosmo-1172-webserver:8080/proxy/health"
    );
    let scheduler = doc["health"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "scheduler")
        .cloned()
        .unwrap();
    assert_eq!(scheduler["status"], "unhealthy", "{scheduler}");
    assert_eq!(scheduler["stale"], true, "{scheduler}");
    assert!(scheduler["latestHeartbeat"].is_string(), "{scheduler}");
    assert!(
        doc["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["fix"] == fix.as_str()),
        "{}",
        doc["problems"]
    );
    assert!(sim.mutating_requests().is_empty());

    // The printed command, pasted: without a terminal it refuses (3) and changes nothing;
    // with --yes it restarts the scheduler and waits for the new pod.
    let out = paste(&fix, &sim.kubeconfig, home.path());
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert!(sim.mutating_requests().is_empty());
    let out = paste(&format!("{fix} --yes"), &sim.kubeconfig, home.path());
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("restarted deployment/zodiac-cosmo-1172-scheduler"),
        "{}",
        out.stdout
    );
    let writes = sim.mutating_requests();
    assert!(
        writes.iter().all(|w| w["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("/deployments/zodiac-cosmo-1172-scheduler"))),
        "{writes:?}"
    );

    // The restart cured it: once the stuck pod is gone, the new scheduler heartbeats and
    // status no longer calls it Degraded.
    let mut last = String::new();
    wait_for(
        "status to see the new scheduler heartbeat",
        std::time::Duration::from_secs(30),
        || {
            let out = sim.run_plugin("airflow", home.path(), &["status", "-n", ZODIAC]);
            last = out.stdout;
            out.code == Some(0) && last.contains("scheduler healthy (heartbeat ")
        },
    );
    assert!(!last.contains("scheduler is Degraded"), "{last}");
    assert!(
        !last.contains("kubectl airflow restart scheduler"),
        "{last}"
    );
    let pods = sim.get_json(&[
        "pods",
        "-n",
        ZODIAC,
        "-l",
        "component=scheduler,release=zodiac-cosmo-1172",
    ]);
    let names: Vec<&str> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_ne!(names[0], stale_pod, "{names:?}");
    assert!(last.contains(names[0]), "{last}");
}

#[test]
fn without_the_permission_or_the_endpoints_status_says_why_and_exits_as_before() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let admin = sim.run_plugin("airflow", home.path(), &["status", "-n", ZODIAC]);
    assert_eq!(admin.code, Some(0), "{}", admin.stderr);

    // `auditor` has the `view` role's reads: no services/proxy.
    let auditor = sim.kubeconfig_with_token("auditor", "kube-sim-auditor-token");
    let out = suite_tests::run(
        suite_tests::plugin("airflow", home.path())
            .args(["status", "-n", ZODIAC, "--kubeconfig"])
            .arg(&auditor),
    );
    assert_eq!(out.code, admin.code, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "Airflow health unavailable: no permission to get services/proxy in {ZODIAC}"
        )),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Degraded"), "{}", out.stdout);
    // The rest of the report is all there (the Unschedulable reason comes with the sim's
    // first scheduling pass, which may not have run yet).
    assert!(
        out.stdout.contains("(triggerer) is Pending"),
        "{}",
        out.stdout
    );
    let json = suite_tests::run(
        suite_tests::plugin("airflow", home.path())
            .args(["status", "-n", ZODIAC, "-o", "json", "--kubeconfig"])
            .arg(&auditor),
    );
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).expect("json");
    assert!(
        doc["health"]["unavailable"]
            .as_str()
            .is_some_and(|w| w.starts_with("no permission to get services/proxy")),
        "{}",
        doc["health"]
    );
    assert_eq!(doc["health"]["components"], serde_json::json!([]));

    // No Ready webserver: the API server's 503, in the operator's terms.
    let out = sim.kubectl(&[
        "scale",
        "deployment/lunar-nuclear-3725-webserver",
        "-n",
        LUNAR,
        "--replicas=0",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut last = String::new();
    wait_for(
        "status to find no webserver endpoints",
        std::time::Duration::from_secs(20),
        || {
            let out = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
            last = out.stdout;
            out.code == Some(0) && last.contains("Airflow health unavailable")
        },
    );
    assert!(
        last.contains(
            r#"Airflow health unavailable: no endpoints available for service "lunar-nuclear-3725-webserver": no Ready pod behind it"#
        ),
        "{last}"
    );
}

/// An Airflow 3 deployment as the official chart 1.16+ makes it: an `api-server` component
/// (no webserver), whose health is `/api/v2/monitor/health`; its dag-processor is Ready but
/// its heartbeat is 5 minutes old. `STALE` is replaced by that time, written as a time: an
/// age (`-5m`) would be cured by the sim at once, as these pods are created after it.
const AIRFLOW_3: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: af3
---
apiVersion: v1
kind: Service
metadata:
  name: af3-api-server
  namespace: af3
  annotations:
    sim.kube-sim.dev/proxy.api.v2.monitor.health: '{"metadatabase":{"status":"healthy"},"scheduler":{"status":"healthy","latest_scheduler_heartbeat":"-2s"},"triggerer":{"status":"healthy","latest_triggerer_heartbeat":"-3s"},"dag_processor":{"status":"unhealthy","latest_dag_processor_heartbeat":"STALE"}}'
spec:
  selector: {tier: airflow, component: api-server, release: af3}
  ports:
  - name: api-server
    port: 8080
    targetPort: 8080
"#;

fn airflow_3_deployment(component: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: af3-{component}
  namespace: af3
  labels: {{tier: airflow, component: {component}, release: af3}}
spec:
  replicas: 1
  selector:
    matchLabels: {{tier: airflow, component: {component}, release: af3}}
  template:
    metadata:
      labels: {{tier: airflow, component: {component}, release: af3}}
    spec:
      containers:
      - name: {component}
        image: apache/airflow:3.0.2
"#
    )
}

#[test]
fn airflow_3_health_comes_from_the_api_server_and_a_stale_dag_processor_is_degraded() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let stale = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
    let stale = stale.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let mut yaml = AIRFLOW_3.replace("STALE", &stale);
    for component in ["scheduler", "api-server", "dag-processor"] {
        yaml += "---\n";
        yaml += &airflow_3_deployment(component);
    }
    suite_tests::apply_yaml(&sim, home.path(), "af3.yaml", &yaml);
    let mut out = None;
    wait_for(
        "the Airflow 3 pods to be Ready",
        std::time::Duration::from_secs(20),
        || {
            let run = sim.run_plugin("airflow", home.path(), &["status", "-n", "af3"]);
            let ready = run
                .stdout
                .contains("Ready: scheduler 1/1, api-server 1/1, dag-processor 1/1");
            out = Some(run);
            ready
        },
    );
    let out = out.unwrap();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "Airflow health (services/af3-api-server:8080/proxy/api/v2/monitor/health):\n  metadatabase healthy, scheduler healthy"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("dag_processor unhealthy (heartbeat "),
        "{}",
        out.stdout
    );
    let fix = fix_of(
        &out.stdout,
        "- dag-processor is Degraded: af3-dag-processor-",
    );
    assert_eq!(
        fix,
        format!(
            "kubectl airflow restart dag-processor af3 -n af3 --kubeconfig {}",
            sim.kubeconfig.display()
        )
    );
    let before = sim.mutating_requests().len();
    let out = paste(&format!("{fix} --yes"), &sim.kubeconfig, home.path());
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("restarted deployment/af3-dag-processor"),
        "{}",
        out.stdout
    );
    assert!(sim.mutating_requests().len() > before);
}

#[test]
fn the_base_url_path_goes_before_the_health_path_and_a_value_from_is_said() {
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let home = tempfile::tempdir().unwrap();
    let health = |ns: &str| {
        let out = sim.run_plugin("airflow", home.path(), &["status", "-n", ns, "-o", "json"]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        let doc: Value = serde_json::from_str(&out.stdout).expect("json");
        doc["health"].clone()
    };
    // lunar's webserver has AIRFLOW__WEBSERVER__BASE_URL with a path; zodiac's has none.
    let lunar = health(LUNAR);
    assert_eq!(
        lunar["source"],
        "services/lunar-nuclear-3725-webserver:8080/proxy/lunar-nuclear-3725/airflow/health",
        "{lunar}"
    );
    assert!(lunar["unavailable"].is_null(), "{lunar}");
    assert_eq!(lunar["components"][1]["status"], "healthy", "{lunar}");
    let zodiac = health(ZODIAC);
    assert_eq!(
        zodiac["source"],
        "services/zodiac-cosmo-1172-webserver:8080/proxy/health"
    );

    // The base URL from a Secret is not read: the unprefixed /health is the webserver's 404,
    // and the reason says why it may be elsewhere.
    let patch = r#"[{"op":"replace","path":"/spec/template/spec/containers/0/env/0","value":{"name":"AIRFLOW__WEBSERVER__BASE_URL","valueFrom":{"secretKeyRef":{"name":"lunar-env","key":"base-url"}}}}]"#;
    let out = sim.kubectl(&[
        "patch",
        "deployment/lunar-nuclear-3725-webserver",
        "-n",
        LUNAR,
        "--type=json",
        "-p",
        patch,
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lunar = health(LUNAR);
    assert_eq!(
        lunar["source"],
        "services/lunar-nuclear-3725-webserver:8080/proxy/health"
    );
    assert_eq!(
        lunar["unavailable"],
        "lunar-nuclear-3725-webserver answered 404 for /health: not an Airflow 2 endpoint (AIRFLOW__WEBSERVER__BASE_URL is set from a valueFrom, not read here; if the webserver serves under that URL's path, its health is there)",
        "{lunar}"
    );
    let out = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Airflow health unavailable: lunar-nuclear-3725-webserver answered 404"),
        "{}",
        out.stdout
    );
    // status changed nothing; the only write is the test's patch.
    assert_eq!(sim.mutating_requests().len(), 1);
}
