//! kube-sim's service proxy through real kubectl (`kubectl get --raw`), as upstream serves it
//! (kubernetes/kubernetes pkg/registry/core/service/proxy.go and storage.go
//! `ResourceLocation`): the scenario's answer with its ages turned into times before the sim's
//! now, 403 without `get` on `services/proxy`, 404 for an unknown service, 503 when no Ready pod
//! backs the service or the port is not the service's.

use serde_json::Value;
use suite_tests::{SimProcess, wait_for};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const ZODIAC: &str = "astronomer-ee-zodiac-cosmo-1172";

fn health_path(ns: &str, svc: &str) -> String {
    format!("/api/v1/namespaces/{ns}/services/{svc}/proxy/health")
}

fn heartbeat_age(health: &Value, component: &str) -> i64 {
    let beat: jiff::Timestamp = health[component][format!("latest_{component}_heartbeat")]
        .as_str()
        .unwrap_or_else(|| panic!("no {component} heartbeat in {health}"))
        .parse()
        .expect("an RFC 3339 heartbeat");
    jiff::Timestamp::now().duration_since(beat).as_secs()
}

#[test]
fn the_service_proxy_answers_as_the_api_server_does() {
    // Simulated time runs 10 times faster: ages stay relative to the sim's now.
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let raw = |path: &str| sim.kubectl(&["get", "--raw", path]);

    // Healthy: the ages are a few seconds before the sim's now, by port number and by name.
    // lunar's webserver serves under its base URL's path (Astronomer's deployment URL).
    for svc in [
        "lunar-nuclear-3725-webserver:8080",
        "lunar-nuclear-3725-webserver:http",
    ] {
        let out = raw(&format!(
            "/api/v1/namespaces/{LUNAR}/services/{svc}/proxy/lunar-nuclear-3725/airflow/health"
        ));
        assert_eq!(out.code, Some(0), "{svc}: {}", out.stderr);
        let health: Value = serde_json::from_str(&out.stdout).expect("json");
        assert_eq!(health["metadatabase"]["status"], "healthy", "{health}");
        assert_eq!(health["scheduler"]["status"], "healthy", "{health}");
        assert!(health["dag_processor"]["status"].is_null(), "{health}");
        // The sim's clock is ahead of ours (time-scale), so the age can be negative, never old.
        assert!(heartbeat_age(&health, "scheduler") < 30, "{health}");
    }

    // Stale: 20 simulated minutes old, whatever the time-scale.
    let out = raw(&health_path(ZODIAC, "zodiac-cosmo-1172-webserver:8080"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let health: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(health["scheduler"]["status"], "unhealthy", "{health}");
    let age = heartbeat_age(&health, "scheduler");
    // 20 minutes before the sim's now, which is ahead of ours by (scale - 1) × the run time.
    assert!((900..=1201).contains(&age), "{age}: {health}");
    assert!(health["triggerer"]["status"].is_null(), "{health}");

    // A path the backend has no answer for: its 404 (lunar's /health is outside its base URL).
    let out = raw(&health_path(LUNAR, "lunar-nuclear-3725-webserver:8080"));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("NotFound") || out.stderr.contains("not find"),
        "{}",
        out.stderr
    );

    // Unknown service: 404 NotFound for the service.
    let out = raw(&health_path(LUNAR, "nope:8080"));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(r#"services "nope" not found"#),
        "{}",
        out.stderr
    );

    // A port the service does not declare: 503 as upstream words it.
    let out = raw(&health_path(LUNAR, "lunar-nuclear-3725-webserver:9999"));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains(r#"no service port 9999 found for service "lunar-nuclear-3725-webserver""#),
        "{}",
        out.stderr
    );

    // No permission on services/proxy (the `view` role's reads): 403 naming the subresource.
    let auditor = sim.kubeconfig_with_token("auditor", "kube-sim-auditor-token");
    let home = tempfile::tempdir().unwrap();
    let mut kubectl = std::process::Command::new("/usr/bin/kubectl");
    suite_tests::isolate(&mut kubectl, home.path());
    let out = suite_tests::run(kubectl.arg("--kubeconfig").arg(&auditor).args([
        "get",
        "--raw",
        &health_path(LUNAR, "lunar-nuclear-3725-webserver:8080"),
    ]));
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains(&format!(
            r#"services "lunar-nuclear-3725-webserver:8080" is forbidden: User "auditor" cannot get resource "services/proxy" in API group "" in the namespace "{LUNAR}""#
        )),
        "{}",
        out.stderr
    );

    // No Ready pod behind the service: scale the webserver to 0, then 503.
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
        "the webserver's endpoints to go",
        std::time::Duration::from_secs(20),
        || {
            let out = raw(&format!(
                "/api/v1/namespaces/{LUNAR}/services/lunar-nuclear-3725-webserver:8080/proxy/lunar-nuclear-3725/airflow/health"
            ));
            last = out.stderr;
            out.code == Some(1)
        },
    );
    assert!(
        last.contains(r#"no endpoints available for service "lunar-nuclear-3725-webserver""#),
        "{last}"
    );
    assert!(last.contains("ServiceUnavailable"), "{last}");
    let proxied: Vec<Value> = sim
        .journal()
        .into_iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.contains("/proxy/")))
        .collect();
    assert!(proxied.iter().any(|e| e["status"] == 503), "{proxied:?}");
    assert!(proxied.iter().any(|e| e["status"] == 403), "{proxied:?}");
}

/// The names of the zodiac scheduler's pods, as kubectl lists them.
fn scheduler_pods(sim: &SimProcess) -> Vec<String> {
    let pods = sim.get_json(&[
        "pods",
        "-n",
        ZODIAC,
        "-l",
        "component=scheduler,release=zodiac-cosmo-1172",
    ]);
    pods["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn a_replaced_scheduler_pod_heartbeats_again() {
    // A new scheduler process heartbeats within seconds (apache/airflow airflow/jobs/job.py,
    // scheduler_heartbeat_sec 5): once the stuck pod is replaced, the answer is fresh.
    let sim = SimProcess::start("astronomer", &["--time-scale", "10"]);
    let path = health_path(ZODIAC, "zodiac-cosmo-1172-webserver:8080");
    let health = || {
        let out = sim.kubectl(&["get", "--raw", &path]);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        serde_json::from_str::<Value>(&out.stdout).expect("json")
    };
    let before = health();
    assert_eq!(before["scheduler"]["status"], "unhealthy", "{before}");
    let old = scheduler_pods(&sim);
    assert_eq!(old.len(), 1, "{old:?}");

    let out = sim.kubectl(&["delete", "pod", &old[0], "-n", ZODIAC, "--wait=false"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // (While the old pod terminates it is still stale: the sim's unit test checks that; here
    // the pod's 1 simulated second of termination is gone too fast to look.)
    let mut last = Value::Null;
    wait_for(
        "the replacement scheduler to heartbeat",
        std::time::Duration::from_secs(30),
        || {
            last = health();
            last["scheduler"]["status"] == "healthy"
        },
    );
    // The cluster agrees: one scheduler pod, not the one deleted.
    let now = scheduler_pods(&sim);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], old[0]);
    // A few seconds old by the sim's clock (ahead of ours under --time-scale, never old).
    assert!(heartbeat_age(&last, "scheduler") < 30, "{last}");
    // The rest of the answer as the scenario wrote it.
    assert_eq!(last["metadatabase"]["status"], "healthy", "{last}");
    assert!(last["triggerer"]["status"].is_null(), "{last}");
}
