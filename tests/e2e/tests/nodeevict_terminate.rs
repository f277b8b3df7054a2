//! "Safe to terminate" means safe (issue 20): the verdict only once no VolumeAttachment names
//! the node; the node out of external load balancers from the cordon, back in after `abort` and
//! `uncordon` (unless it was out before); the drain's steps as Events on the node.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use suite_tests::{Interrupt, Run, SimProcess, plugin, run};

const NODE: &str = "ip-10-0-12-27.ec2.internal";
const LB: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

fn nodeevict(kubeconfig: &Path, home: &Path, args: &[&str]) -> Run {
    run(plugin("nodeevict", home)
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig))
}

/// A claim of artsy's default class (ebs.csi.aws.com) and a bare pod on NODE mounting it; once
/// its VolumeAttachment is attached, the PV detaches in `detach_seconds` simulated seconds.
/// Returns the attachment's name.
fn volume_on_node(sim: &SimProcess, dir: &Path, detach_seconds: u32) -> String {
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": "scratch", "namespace": "default"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "scratch-user", "namespace": "default"},
         "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 0,
                  "containers": [{"name": "main", "image": "busybox",
                                  "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "scratch"}}]}},
    ]});
    suite_tests::apply_yaml(sim, dir, "scratch", &objects.to_string());
    let mut attachment = String::new();
    suite_tests::wait_for(
        "the scratch volume attached to the node",
        Duration::from_secs(30),
        || match attachments_on(sim, NODE).first() {
            Some(va) if va["status"]["attached"] == true => {
                attachment = va["metadata"]["name"].as_str().unwrap().to_string();
                true
            }
            _ => false,
        },
    );
    let pv = sim.get_json(&["pvc", "scratch", "-n", "default"])["spec"]["volumeName"]
        .as_str()
        .unwrap()
        .to_string();
    let set = sim.kubectl(&[
        "annotate",
        "pv",
        &pv,
        &format!("sim.kube-sim.dev/detach-seconds={detach_seconds}"),
    ]);
    assert_eq!(set.code, Some(0), "{}", set.stderr);
    attachment
}

fn attachments_on(sim: &SimProcess, node: &str) -> Vec<Value> {
    sim.get_json(&["volumeattachments"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|va| va["spec"]["nodeName"] == node)
        .cloned()
        .collect()
}

fn node(sim: &SimProcess) -> Value {
    sim.get_json(&["node", NODE])
}

fn lb_label(sim: &SimProcess) -> Option<String> {
    node(sim)["metadata"]["labels"][LB]
        .as_str()
        .map(String::from)
}

fn event_reasons(sim: &SimProcess) -> Vec<String> {
    suite_tests::nodeevict_event_reasons(sim, NODE)
}

#[test]
fn safe_to_terminate_only_once_the_volumes_are_detached_and_out_of_the_load_balancers_meanwhile() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    // 30 simulated seconds to detach: 6 real seconds after the pod is gone.
    let attachment = volume_on_node(&sim, home.path(), 30);
    assert_eq!(lb_label(&sim), None);

    let mut child = plugin("nodeevict", home.path())
        .args([NODE, "--force", "-y", "--timeout", "2m", "--kubeconfig"])
        .arg(&sim.kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // During the drain the node is out of the load balancers.
    let started = Instant::now();
    let mut labelled_while_running = false;
    while started.elapsed() < Duration::from_secs(60) {
        if lb_label(&sim).is_some() && child.try_wait().unwrap().is_none() {
            labelled_while_running = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(labelled_while_running, "{stdout}{stderr}");
    // The verdict came after the wait, and the attachment is gone now: right after the run,
    // not 6 s later as the detach would have it had the run not waited.
    assert!(
        stderr.contains(&format!(
            "waiting for 1 volume on {NODE} to detach: {attachment}"
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains("safe to terminate") && stdout.contains("no volume attached"),
        "{stdout}"
    );
    assert_eq!(attachments_on(&sim, NODE), Vec::<Value>::new());
    // The plugin asked for the attachments until none named the node.
    let lists = sim
        .journal()
        .iter()
        .filter(|e| {
            e["method"] == "GET" && e["path"] == "/apis/storage.k8s.io/v1/volumeattachments"
        })
        .count();
    assert!(lists >= 2, "listed the attachments {lists} time(s)");

    // Drained: still cordoned and out of the load balancers until uncordoned.
    assert_eq!(lb_label(&sim).as_deref(), Some("kubectl-nodeevict"));
    let reasons = event_reasons(&sim);
    for r in ["Cordoned", "Evicting", "Drained"] {
        assert!(reasons.iter().any(|x| x == r), "{r} missing in {reasons:?}");
    }
    let up = nodeevict(&sim.kubeconfig, home.path(), &["uncordon", NODE]);
    assert_eq!(up.code, Some(0), "{}", up.stderr);
    let n = node(&sim);
    assert_eq!(lb_label(&sim), None, "{n}");
    assert!(n["spec"]["unschedulable"] != true, "{n}");
    assert!(
        event_reasons(&sim).iter().any(|x| x == "Restored"),
        "{:?}",
        event_reasons(&sim)
    );
}

#[test]
fn the_plan_says_so_and_abort_takes_the_label_off_but_leaves_one_that_was_there() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    let dry = nodeevict(
        &sim.kubeconfig,
        home.path(),
        &[NODE, "--force", "--dry-run"],
    );
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr.contains("then: at cordon, label the node node.kubernetes.io/exclude-from-external-load-balancers")
            && dry.stderr.contains("wait until no VolumeAttachment names the node"),
        "{}",
        dry.stderr
    );
    let json_plan = nodeevict(
        &sim.kubeconfig,
        home.path(),
        &[NODE, "--force", "--dry-run", "-o", "json"],
    );
    let doc: Value = serde_json::from_str(&json_plan.stdout).unwrap();
    assert!(
        doc["items"][0]["steps"].as_array().unwrap().len() == 3,
        "{doc}"
    );

    // Interrupted after the pre-scale: labelled; the abort takes it off and uncordons.
    let killed = suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
        "prescaled",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    assert_eq!(lb_label(&sim).as_deref(), Some("kubectl-nodeevict"));
    let abort = nodeevict(&sim.kubeconfig, home.path(), &["abort", NODE, "-y"]);
    assert_eq!(abort.code, Some(0), "{}", abort.stderr);
    let n = node(&sim);
    assert_eq!(lb_label(&sim), None, "{n}");
    assert!(n["spec"]["unschedulable"] != true, "{n}");
    assert!(
        event_reasons(&sim).iter().any(|x| x == "Restored"),
        "{:?}",
        event_reasons(&sim)
    );

    // Out of the load balancers before the drain (by hand): it stays so after an abort.
    let by_hand = sim.kubectl(&["label", "node", NODE, &format!("{LB}=ops")]);
    assert_eq!(by_hand.code, Some(0), "{}", by_hand.stderr);
    let killed = suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
        "prescaled",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    let abort = nodeevict(&sim.kubeconfig, home.path(), &["abort", NODE, "-y"]);
    assert_eq!(abort.code, Some(0), "{}", abort.stderr);
    assert_eq!(lb_label(&sim).as_deref(), Some("ops"));
}

#[test]
fn a_drain_killed_while_its_volumes_detach_resumes_the_wait() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    volume_on_node(&sim, home.path(), 40);
    let killed = suite_tests::interrupt_after_step(
        "nodeevict",
        &sim,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
        "detaching",
        Interrupt::Kill,
    );
    assert_eq!(killed.code, None, "{}", killed.stderr);
    assert_eq!(attachments_on(&sim, NODE).len(), 1);
    let resumed = nodeevict(&sim.kubeconfig, home.path(), &["resume", NODE, "-y"]);
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert!(
        resumed.stderr.contains("to detach") && resumed.stdout.contains("safe to terminate"),
        "{}{}",
        resumed.stdout,
        resumed.stderr
    );
    assert_eq!(attachments_on(&sim, NODE), Vec::<Value>::new());
}

#[test]
fn without_permission_to_list_attachments_it_does_not_claim_safety() {
    // artsy with a user allowed everything but storage.k8s.io (so no VolumeAttachments) and
    // events (so no Events: best-effort, the drain goes on).
    let dir = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sim/scenarios/artsy.yaml");
    let mut doc: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let user = json!({"name": "nostorage", "token": "kube-sim-nostorage-token", "rules": [
        {"verbs": ["*"], "apiGroups": [""], "resources": ["nodes", "pods", "pods/eviction", "persistentvolumeclaims", "persistentvolumes", "namespaces"]},
        {"verbs": ["*"], "apiGroups": ["apps", "policy", "autoscaling", "keda.sh", "authorization.k8s.io"], "resources": ["*"]},
    ]});
    doc["users"]
        .as_sequence_mut()
        .unwrap()
        .push(serde_yaml::to_value(user).unwrap());
    let scenario = suite_tests::write(
        dir.path(),
        "nostorage.yaml",
        &serde_yaml::to_string(&doc).unwrap(),
    );
    let sim = SimProcess::start(scenario.to_str().unwrap(), &["--time-scale", "5"]);
    let kubeconfig = sim.kubeconfig_with_token("nostorage", "kube-sim-nostorage-token");
    let out = nodeevict(
        &kubeconfig,
        dir.path(),
        &[NODE, "--force", "-y", "--timeout", "2m"],
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("safe to terminate"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("its VolumeAttachments could not be checked"),
        "{}",
        out.stdout
    );
    assert_eq!(event_reasons(&sim), Vec::<String>::new());
}

#[test]
fn an_eviction_a_budget_refuses_is_a_warning_event_on_the_node() {
    let sim = SimProcess::start("artsy", &["--time-scale", "5"]);
    let home = tempfile::tempdir().unwrap();
    // metaphysics-web's budget made to refuse every eviction: a pre-scale does not help.
    let patched = sim.kubectl(&[
        "patch",
        "pdb",
        "metaphysics-web",
        "-n",
        "default",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"minAvailable":null,"maxUnavailable":0}}"#,
    ]);
    assert_eq!(patched.code, Some(0), "{}", patched.stderr);
    let out = nodeevict(
        &sim.kubeconfig,
        home.path(),
        &[NODE, "--force", "-y", "--timeout", "10s"],
    );
    assert_eq!(out.code, Some(4), "{}{}", out.stdout, out.stderr);
    let events = sim.get_json(&[
        "events",
        "-n",
        "default",
        "--field-selector",
        &format!("involvedObject.name={NODE},reason=EvictionBlocked"),
    ]);
    let blocked = &events["items"][0];
    assert_eq!(blocked["type"], "Warning", "{events}");
    assert_eq!(blocked["involvedObject"]["kind"], "Node", "{events}");
    assert_eq!(blocked["source"]["component"], "kubectl-nodeevict");
    let message = blocked["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("metaphysics-web") && message.contains("disruption budget"),
        "{message}"
    );
    let reasons = event_reasons(&sim);
    assert!(!reasons.iter().any(|r| r == "Drained"), "{reasons:?}");
    let abort = nodeevict(&sim.kubeconfig, home.path(), &["abort", NODE, "-y"]);
    assert_eq!(abort.code, Some(0), "{}", abort.stderr);
    assert_eq!(lb_label(&sim), None);
}
