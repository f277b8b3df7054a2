//! Volume usage from the kubelet's Summary API (issue 19): kube-sim serves
//! `/api/v1/nodes/N/proxy/stats/summary` as the API server's node proxy does (real kubectl reads
//! it), with the astronomer scenario's figures (worker-2's log volume 98Gi of 100Gi, the others
//! 2%); `kubectl airflow volumes` shows them, `status` flags a claim over 90% with a fix that
//! works pasted, `kubectl pvcreset`'s plan shows what is about to be deleted; without `get` on
//! `nodes/proxy` the usage is unknown and said so, never an error.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use suite_tests::{SimProcess, paste};

const LUNAR: &str = "astronomer-ee-lunar-nuclear-3725";
const WORKER_2: &str = "lunar-nuclear-3725-worker-2";
const LOGS_2: &str = "logs-lunar-nuclear-3725-worker-2";
const REDIS_DB: &str = "redis-db-lunar-nuclear-3725-redis-0";
const GI: u64 = 1 << 30;

/// The astronomer scenario with user `noproxy`: every verb on what the plugins touch, but not
/// `nodes/proxy` (a namespace operator's typical role).
fn scenario_without_node_proxy(dir: &Path) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/scenarios/astronomer.yaml");
    let text = std::fs::read_to_string(&path).expect("astronomer.yaml");
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("scenario");
    let resources = [
        "pods",
        "pods/log",
        "pods/eviction",
        "persistentvolumeclaims",
        "persistentvolumes",
        "storageclasses",
        "deployments",
        "deployments/scale",
        "statefulsets",
        "statefulsets/scale",
        "replicasets",
        "daemonsets",
        "nodes",
        "namespaces",
        "events",
        "resourcequotas",
        "services",
        "horizontalpodautoscalers",
        "scaledobjects",
        "volumesnapshots",
        "volumesnapshotclasses",
    ];
    let user = json!({"name": "noproxy", "token": "kube-sim-noproxy-token",
                      "rules": [{"verbs": ["*"], "resources": resources}]});
    doc["users"]
        .as_sequence_mut()
        .expect("users")
        .push(serde_yaml::to_value(user).expect("yaml"));
    suite_tests::write(
        dir,
        "astronomer-noproxy.yaml",
        &serde_yaml::to_string(&doc).expect("yaml"),
    )
}

fn node_of(sim: &SimProcess, pod: &str) -> String {
    let pod = sim.get_json(&["pod", pod, "-n", LUNAR]);
    pod["spec"]["nodeName"]
        .as_str()
        .expect("nodeName")
        .to_string()
}

#[test]
fn kubectl_reads_the_kubelet_summary_through_the_node_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimProcess::start(
        scenario_without_node_proxy(dir.path()).to_str().unwrap(),
        &[],
    );
    let node = node_of(&sim, WORKER_2);
    let path = format!("/api/v1/nodes/{node}/proxy/stats/summary");
    let out = sim.kubectl(&["get", "--raw", &path]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let summary: Value = serde_json::from_str(&out.stdout).expect("summary json");
    assert_eq!(summary["node"]["nodeName"], node.as_str());
    // Only the pods bound to that node and Running, each with its claims' figures.
    let pods = sim.get_json(&["pods", "-A"]);
    let expected: Vec<String> = pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["spec"]["nodeName"] == node.as_str() && p["status"]["phase"] == "Running")
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap(),
                p["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    let mut reported: Vec<String> = summary["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["podRef"]["namespace"].as_str().unwrap(),
                p["podRef"]["name"].as_str().unwrap()
            )
        })
        .collect();
    reported.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(reported, expected_sorted);
    let worker = summary["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["podRef"]["name"] == WORKER_2)
        .expect("worker-2 reported");
    let logs = &worker["volume"][0];
    assert_eq!(logs["name"], "logs");
    assert_eq!(logs["pvcRef"], json!({"name": LOGS_2, "namespace": LUNAR}));
    assert_eq!(logs["capacityBytes"], 100 * GI);
    assert_eq!(logs["usedBytes"], 98 * GI);
    assert_eq!(logs["availableBytes"], 2 * GI);
    let (inodes, used, free) = (
        logs["inodes"].as_u64().unwrap(),
        logs["inodesUsed"].as_u64().unwrap(),
        logs["inodesFree"].as_u64().unwrap(),
    );
    assert_eq!(inodes, used + free);

    // An unknown node: the registry's NotFound, as kubectl prints it.
    let missing = sim.kubectl(&[
        "get",
        "--raw",
        "/api/v1/nodes/no-such-node/proxy/stats/summary",
    ]);
    assert_eq!(missing.code, Some(1));
    assert!(
        missing.stderr.contains("(NotFound)")
            && missing.stderr.contains("nodes \"no-such-node\" not found"),
        "{}",
        missing.stderr
    );
    // Without `get` on nodes/proxy: 403 with the authorizer's words.
    let kubeconfig = sim.kubeconfig_with_token("noproxy", "kube-sim-noproxy-token");
    let mut cmd = std::process::Command::new("/usr/bin/kubectl");
    suite_tests::isolate(&mut cmd, dir.path());
    let refused = suite_tests::run(
        cmd.arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["get", "--raw", &path]),
    );
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains(&format!(
            "nodes \"{node}\" is forbidden: User \"noproxy\" cannot get resource \"nodes/proxy\" in API group \"\" at the cluster scope"
        )),
        "{}",
        refused.stderr
    );
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn volumes_and_status_show_the_scenarios_figures_and_a_fix_that_works_pasted() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let json_out = sim.run_plugin(
        "airflow",
        home.path(),
        &["volumes", "-n", LUNAR, "-o", "json"],
    );
    assert_eq!(json_out.code, Some(0), "{}", json_out.stderr);
    let report: Value = serde_json::from_str(&json_out.stdout).unwrap();
    let usage_of = |claim: &str| {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == claim)
            .unwrap_or_else(|| panic!("{claim} listed"))["usage"]
            .clone()
    };
    let full = usage_of(LOGS_2);
    assert_eq!(full["state"], "known");
    assert_eq!(full["usedBytes"], 98 * GI);
    assert_eq!(full["capacityBytes"], 100 * GI);
    assert_eq!(full["usedPercent"], 98);
    assert_eq!(usage_of(REDIS_DB)["usedPercent"], 2);

    let table = sim.run_plugin("airflow", home.path(), &["volumes", "-n", LUNAR]);
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let header = table.stdout.lines().find(|l| l.starts_with("PVC")).unwrap();
    for column in ["USED", "CAPACITY", "USE%", "INODES%"] {
        assert!(header.contains(column), "{header}");
    }
    let row: Vec<&str> = table
        .stdout
        .lines()
        .find(|l| l.starts_with(LOGS_2))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(row[2..5], ["98Gi", "100Gi", "98%"], "{}", table.stdout);

    // status: worker-2's crash loop says its log volume is 98% full; the fix resets it.
    let status = paste(
        &format!("kubectl airflow status -n {LUNAR}"),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let flat = status
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains(&format!(
            "its log volume {LOGS_2} is 98% full (98Gi of 100Gi"
        )),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains(&format!(
            "  fix: kubectl airflow reset-logs {WORKER_2} lunar-nuclear-3725 -n {LUNAR}\n"
        )),
        "{}",
        status.stdout
    );

    // A nearly full claim that is no log volume: redis's, filled to 95%. Its fix and the
    // alternative (grow it) work pasted.
    let pv = sim.get_json(&["pvc", REDIS_DB, "-n", LUNAR])["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let annotated = sim.kubectl(&["annotate", "pv", &pv, "sim.kube-sim.dev/used-bytes=973Mi"]);
    assert_eq!(annotated.code, Some(0), "{}", annotated.stderr);
    let status = paste(
        &format!("kubectl airflow status -n {LUNAR}"),
        &sim.kubeconfig,
        home.path(),
    );
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    let flat = status
        .stdout
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains(&format!(
            "a volume of lunar-nuclear-3725-redis-0 (redis): {REDIS_DB} is 96% full (973Mi of 1Gi"
        )),
        "{}",
        status.stdout
    );
    let lines: Vec<&str> = status.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(&format!("fix: kubectl pvcreset {REDIS_DB}")))
        .expect("pvcreset fix");
    let reset = lines[at].trim().strip_prefix("fix: ").unwrap();
    assert_eq!(reset, format!("kubectl pvcreset {REDIS_DB} -n {LUNAR}"));
    let grow = lines[at + 2].trim();
    assert!(
        grow.starts_with(&format!("kubectl patch pvc {REDIS_DB} -n {LUNAR} -p ")),
        "{grow}"
    );
    let dry = paste(&format!("{reset} --dry-run"), &sim.kubeconfig, home.path());
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr.contains("usage: 973Mi of 1Gi used (96%)"),
        "{}",
        dry.stderr
    );
    assert!(
        sim.mutating_requests()
            .iter()
            .all(|r| r["path"].as_str().unwrap().contains("/persistentvolumes/")),
        "only the annotation so far"
    );
    let grown = paste(grow, &sim.kubeconfig, home.path());
    assert_eq!(grown.code, Some(0), "{}", grown.stderr);
    let claim = sim.get_json(&["pvc", REDIS_DB, "-n", LUNAR]);
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "2Gi");
}

#[test]
fn pvcreset_plans_show_the_usage_of_what_is_deleted() {
    let sim = SimProcess::start("astronomer", &[]);
    let home = tempfile::tempdir().unwrap();
    let json_out = sim.run_plugin(
        "pvcreset",
        home.path(),
        &[LOGS_2, "-n", LUNAR, "--dry-run", "-o", "json"],
    );
    assert_eq!(json_out.code, Some(0), "{}", json_out.stderr);
    let plan: Value = serde_json::from_str(&json_out.stdout).unwrap();
    let usage = &plan["claims"][0]["usage"];
    assert_eq!(usage["state"], "known", "{plan}");
    assert_eq!(usage["usedBytes"], 98 * GI);
    assert_eq!(usage["capacityBytes"], 100 * GI);
    assert_eq!(usage["usedPercent"], 98);
    // The text plan: on --dry-run, and before a refused prompt (no terminal, exit 3).
    for args in [
        vec![LOGS_2, "-n", LUNAR, "--dry-run"],
        vec![LOGS_2, "-n", LUNAR],
    ] {
        let out = sim.run_plugin("pvcreset", home.path(), &args);
        assert_eq!(
            out.code,
            Some(if args.len() == 4 { 0 } else { 3 }),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("    usage: 98Gi of 100Gi used (98%), inodes 7% used\n"),
            "{}",
            out.stderr
        );
    }
    assert!(sim.mutating_requests().is_empty());
}

#[test]
fn without_node_proxy_the_usage_is_unknown_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimProcess::start(
        scenario_without_node_proxy(dir.path()).to_str().unwrap(),
        &[],
    );
    let kubeconfig = sim.kubeconfig_with_token("noproxy", "kube-sim-noproxy-token");
    let home = tempfile::tempdir().unwrap();
    let run = |command: &str| paste(command, &kubeconfig, home.path());
    let table = run(&format!("kubectl airflow volumes -n {LUNAR}"));
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(LOGS_2))
        .unwrap();
    assert!(
        row.contains("no nodes/proxy") && row.contains("100Gi"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("Used no nodes/proxy: the volumes' usage comes from the kubelet's stats, which need `get` on `nodes/proxy`"),
        "{}",
        table.stdout
    );
    let json_out = run(&format!("kubectl airflow volumes -n {LUNAR} -o json"));
    assert_eq!(json_out.code, Some(0), "{}", json_out.stderr);
    let report: Value = serde_json::from_str(&json_out.stdout).unwrap();
    assert!(
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["usage"]["state"] == "forbidden"),
        "{report}"
    );
    // status still reports (the crash loop, from its log) and exits 0.
    let status = run(&format!("kubectl airflow status -n {LUNAR}"));
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert!(
        status.stdout.contains("No space left on device"),
        "{}",
        status.stdout
    );
    let dry = run(&format!("kubectl pvcreset {LOGS_2} -n {LUNAR} --dry-run"));
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("usage: unknown (no permission to get nodes/proxy, the kubelet's stats)"),
        "{}",
        dry.stderr
    );
    // The journal shows the refused reads and nothing changed.
    let journal = sim.journal();
    assert!(
        journal.iter().any(|e| e["path"]
            .as_str()
            .unwrap()
            .ends_with("/proxy/stats/summary")
            && e["status"] == 403),
        "the summary was asked for"
    );
    assert!(sim.mutating_requests().is_empty());
}

/// The prompt shows the same plan, usage included: declined, nothing changes; confirmed, the
/// claim is replaced by an empty volume, which `volumes` then shows nearly empty and `status`
/// no longer flags.
#[test]
fn the_prompt_shows_the_usage_and_a_reset_leaves_an_empty_volume() {
    use expectrl::{Expect, Session};
    let sim = SimProcess::start("astronomer", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let spawn = || {
        let mut cmd = suite_tests::plugin("pvcreset", home.path());
        cmd.args([LOGS_2, "-n", LUNAR, "--timeout", "60s", "--kubeconfig"])
            .arg(&sim.kubeconfig);
        let mut s = Session::spawn(cmd).unwrap();
        s.set_expect_timeout(Some(std::time::Duration::from_secs(30)));
        s
    };
    let exit = |s: &expectrl::session::OsSession| match s.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("{other:?}"),
    };
    let mut no = spawn();
    no.expect("usage: 98Gi of 100Gi used (98%)").unwrap();
    no.expect("to confirm").unwrap();
    no.send_line("no").unwrap();
    no.expect("nothing was changed").unwrap();
    assert_eq!(exit(&no), 3);
    assert!(sim.mutating_requests().is_empty());

    let mut yes = spawn();
    yes.expect("usage: 98Gi of 100Gi used (98%)").unwrap();
    yes.expect("to confirm").unwrap();
    yes.send_line("lunar-nuclear-3725-worker").unwrap();
    yes.expect("done in").unwrap();
    assert_eq!(exit(&yes), 0);

    let out = sim.run_plugin(
        "airflow",
        home.path(),
        &["volumes", "-n", LUNAR, "-o", "json"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let fresh = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == LOGS_2)
        .unwrap();
    assert_eq!(fresh["usage"]["usedPercent"], 2, "{fresh}");
    let status = sim.run_plugin("airflow", home.path(), &["status", "-n", LUNAR]);
    assert_eq!(status.code, Some(0), "{}", status.stderr);
    assert!(
        status.stdout.contains("Problems: none"),
        "{}",
        status.stdout
    );
}
