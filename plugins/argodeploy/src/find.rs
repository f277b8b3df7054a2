//! `kubectl argodeploy find INSTANCE`: every workflow of an instance, newest first; for the
//! newest, its phase, the failing steps with their messages and the failing step's log tail.
//! The instance is its UUID, or the short id seen in workflow names (`e5121482` of
//! `deploy-e5121482-wwmms`), or one of its workflows' names.

use clap::Args;
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::DynamicObject;
use serde::Serialize;
use serde_json::{Map, Value};
use shared::output::{self, ListFormat, OutputFormat};
use shared::{Error, GlobalArgs};

use crate::labels::LabelKeys;
use crate::list::{self, ListArgs, ReadError};
use crate::workflow;

#[derive(Args, Debug, Clone)]
pub struct FindArgs {
    /// The instance: its UUID, the short id in its workflows' names, or one of their names
    #[arg(value_parser = shared::validate::label_value)]
    pub instance: String,
    /// Look in every namespace
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Log lines of the failing step to show (-1: all)
    #[arg(long, default_value_t = 20, allow_negative_numbers = true, value_parser = shared::validate::tail)]
    pub tail: i64,
    /// Output format (wide adds the workflows' MESSAGE, P/R/C and PARAMETERS; name lists the
    /// workflows)
    #[arg(short = 'o', long, value_enum, default_value_t = ListFormat::Table)]
    pub output: ListFormat,
}

/// What `find` found (pure data), rendered as text or JSON/YAML.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The instance's full UUID.
    pub instance: String,
    /// Its workflows, newest first.
    pub items: Vec<list::Row>,
    pub newest: Newest,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Newest {
    pub name: String,
    pub phase: String,
    pub message: String,
    /// Why the steps are not shown (node status offloaded or unreadable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps_unknown: Option<String>,
    pub failing_steps: Vec<FailingStep>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailingStep {
    pub step: String,
    pub message: String,
    /// Its pod, if it is still there.
    pub pod: Option<String>,
    /// The tail of the pod's `main` log.
    pub log: Vec<String>,
    /// Why there is no log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_error: Option<String>,
    /// Where argo archived the main log (`archiveLogs`), when the pod is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_log: Option<ArchivedLog>,
}

/// The `main-logs` artifact of a node (argo's executor saves the main container's log under
/// that name when archiveLogs is on: workflow/executor/executor.go `SaveLogs`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedLog {
    /// `s3://bucket/key`, `gs://bucket/key`, … or `raw` (the data is in the workflow).
    pub location: String,
    /// A command that prints it, when one can be given whole (bucket and endpoint known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Read through the API: a raw artifact's data (pkg/apis/workflow/v1alpha1
    /// workflow_types.go `RawArtifact.Data`), its last lines.
    pub readable: bool,
}

/// The archived main log of `node` (pure): its location, the command that reads it, and for a
/// raw artifact the last `tail` lines (`None`: all). `repository` is the workflow's
/// `status.artifactRepositoryRef.artifactRepository` (argo records the repository it used, so
/// a key without a bucket still has one).
pub fn archived_log(
    node: &Value,
    repository: &Value,
    tail: Option<i64>,
) -> Option<(ArchivedLog, Vec<String>)> {
    let art = node["outputs"]["artifacts"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == "main-logs")?;
    let field = |kind: &str, key: &str| -> Option<String> {
        art[kind][key]
            .as_str()
            .or_else(|| repository[kind][key].as_str())
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let word = shared::shell::word;
    if let Some(data) = art["raw"]["data"].as_str() {
        let mut lines: Vec<String> = data.lines().map(String::from).collect();
        if let Some(n) = tail.filter(|n| *n >= 0) {
            let n = n as usize;
            if lines.len() > n {
                lines.drain(..lines.len() - n);
            }
        }
        let log = ArchivedLog {
            location: "raw".into(),
            command: None,
            readable: true,
        };
        return Some((log, lines));
    }
    let located = |location: String, command: Option<String>| {
        Some((
            ArchivedLog {
                location,
                command,
                readable: false,
            },
            Vec::new(),
        ))
    };
    if art["s3"].is_object() {
        let key = art["s3"]["key"].as_str().unwrap_or_default();
        return match field("s3", "bucket") {
            Some(bucket) => {
                let url = format!("s3://{bucket}/{key}");
                // argo's endpoint is host[:port]; AWS's own needs no --endpoint-url.
                let endpoint = field("s3", "endpoint")
                    .filter(|e| !e.ends_with("amazonaws.com"))
                    .map(|e| {
                        let insecure = art["s3"]["insecure"]
                            .as_bool()
                            .or_else(|| repository["s3"]["insecure"].as_bool())
                            .unwrap_or(false);
                        let scheme = if insecure { "http" } else { "https" };
                        format!(" --endpoint-url {}", word(&format!("{scheme}://{e}")))
                    })
                    .unwrap_or_default();
                let command = format!("aws s3 cp {} -{endpoint}", word(&url));
                located(url, Some(command))
            }
            None => located(
                format!("s3 key {key} (bucket: the namespace's artifact repository)"),
                None,
            ),
        };
    }
    if art["gcs"].is_object() {
        let key = art["gcs"]["key"].as_str().unwrap_or_default();
        return match field("gcs", "bucket") {
            Some(bucket) => {
                let url = format!("gs://{bucket}/{key}");
                let command = format!("gcloud storage cat {}", word(&url));
                located(url, Some(command))
            }
            None => located(
                format!("gcs key {key} (bucket: the namespace's artifact repository)"),
                None,
            ),
        };
    }
    for (kind, key) in [
        ("oss", "key"),
        ("azure", "blob"),
        ("hdfs", "path"),
        ("http", "url"),
        ("artifactory", "url"),
        ("git", "repo"),
    ] {
        if art[kind].is_object() {
            let what = art[kind][key].as_str().unwrap_or_default();
            return located(format!("{kind} {what}"), None);
        }
    }
    located("an artifact repository of unknown kind".into(), None)
}

/// Which instance `typed` names among the instances of `workflows` (pure): a UUID exactly, a
/// prefix of one UUID (the short id of the workflows' names), or a workflow's name. Ok(None)
/// when none matches; Err when a prefix fits several.
pub fn resolve_instance(
    typed: &str,
    workflows: &[DynamicObject],
    keys: &LabelKeys,
) -> shared::Result<Option<String>> {
    let instance_of = |wf: &DynamicObject| wf.labels().get(&keys.instance_label).cloned();
    let mut instances: Vec<String> = workflows.iter().filter_map(instance_of).collect();
    instances.sort();
    instances.dedup();
    if instances.iter().any(|i| i == typed) {
        return Ok(Some(typed.to_string()));
    }
    let lower = typed.to_ascii_lowercase();
    let prefixed: Vec<&String> = instances
        .iter()
        .filter(|i| i.to_ascii_lowercase().starts_with(&lower))
        .collect();
    match prefixed.as_slice() {
        [one] => return Ok(Some((*one).clone())),
        [] => {}
        many => {
            return Err(Error::Usage(format!(
                "{typed:?} is the start of {} instances ({}): give more of the UUID",
                many.len(),
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(workflows
        .iter()
        .find(|wf| wf.name_any() == typed)
        .and_then(instance_of))
}

/// The failing steps of a workflow's nodes (pure): Pod nodes Failed or Error, with their
/// messages, in the order they started.
pub fn failing_steps(nodes: &Map<String, Value>) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String, String)> = nodes
        .values()
        .filter(|n| n["type"] == "Pod" && matches!(n["phase"].as_str(), Some("Failed" | "Error")))
        .map(|n| {
            let s = |k: &str| n[k].as_str().unwrap_or("").to_string();
            (s("startedAt"), s("displayName"), s("name"), s("message"))
        })
        .collect();
    out.sort();
    out.into_iter()
        .map(|(_, display, name, message)| (display, name, message))
        .collect()
}

/// Each failing step with its message and the tail of its pod's `main` log (the workflow's
/// pods listed once).
async fn failing_steps_read(
    target: &shared::Target,
    newest: &DynamicObject,
    nodes: &Map<String, Value>,
    failing: &[(String, String, String)],
    tail: i64,
) -> shared::Result<Vec<FailingStep>> {
    let mut out = Vec::new();
    let ns = newest.namespace().unwrap_or_default();
    let pods = crate::logs::pods_of(target, &ns, &newest.name_any()).await?;
    for (display, node_name, message) in failing {
        let mut step = FailingStep {
            step: display.clone(),
            message: message.clone(),
            pod: None,
            log: Vec::new(),
            log_error: None,
            archived_log: None,
        };
        let pod = pods.iter().find(|p| {
            p.annotations()
                .get("workflows.argoproj.io/node-name")
                .map(String::as_str)
                == Some(node_name.as_str())
        });
        if let Some(pod) = pod {
            step.pod = Some(pod.name_any());
            match crate::logs::tail(
                target,
                &ns,
                &pod.name_any(),
                "main",
                shared::validate::tail_lines(Some(tail)),
            )
            .await
            {
                Ok(lines) => step.log = lines,
                Err(e) => step.log_error = Some(e.to_string()),
            }
        } else if let Some(node) = nodes.values().find(|n| n["name"] == node_name.as_str()) {
            // The pod is gone: the log argo archived, if it did.
            let repository = &newest.data["status"]["artifactRepositoryRef"]["artifactRepository"];
            if let Some((archived, lines)) =
                archived_log(node, repository, shared::validate::tail_lines(Some(tail)))
            {
                step.log = lines;
                step.archived_log = Some(archived);
            }
        }
        out.push(step);
    }
    Ok(out)
}

/// The report as the operator reads it (pure).
pub fn render(report: &Report, wide: bool, namespaces: bool) -> String {
    let mut out = format!("Workflows of instance {} (newest first)\n", report.instance);
    out.push_str(&list::render(&report.items, wide, namespaces));
    let newest = &report.newest;
    out.push_str(&format!(
        "\nNewest: {} — {}",
        newest.name,
        list::coloured_phase(&newest.phase)
    ));
    if !newest.message.is_empty() {
        out.push_str(&format!(": {}", newest.message));
    }
    out.push('\n');
    if let Some(reason) = &newest.steps_unknown {
        out.push_str(&format!("(steps not shown: {reason})\n"));
    }
    for step in &newest.failing_steps {
        out.push_str(&format!(
            "failing step {}: {}\n",
            step.step,
            if step.message.is_empty() {
                "(no message)"
            } else {
                &step.message
            }
        ));
        match (&step.pod, &step.log_error) {
            (None, _) => match &step.archived_log {
                None => out
                    .push_str("  (its pod is gone and its log was not archived: no log to show)\n"),
                Some(a) if a.readable => {
                    out.push_str(&format!(
                        "last {} of its archived main log (its pod is gone):\n",
                        workflow::count(step.log.len(), "line")
                    ));
                    for l in &step.log {
                        out.push_str(&format!("  {l}\n"));
                    }
                }
                Some(a) => {
                    out.push_str(&format!(
                        "  (its pod is gone; its main log was archived to {}",
                        a.location
                    ));
                    match &a.command {
                        Some(c) => out.push_str(&format!(": `{c}` prints it)\n")),
                        None => out.push_str(", not readable through the Kubernetes API)\n"),
                    }
                }
            },
            (Some(_), Some(e)) => out.push_str(&format!("  (its log cannot be read: {e})\n")),
            (Some(pod), None) => {
                out.push_str(&format!(
                    "last {} of {pod} (main):\n",
                    workflow::count(step.log.len(), "line")
                ));
                for l in &step.log {
                    out.push_str(&format!("  {l}\n"));
                }
            }
        }
    }
    if newest.failing_steps.is_empty()
        && newest.steps_unknown.is_none()
        && matches!(newest.phase.as_str(), "Failed" | "Error")
    {
        out.push_str("no failed step recorded (the workflow itself failed)\n");
    }
    out
}

/// The workflows of one instance, read by its exact label; when none carry `typed` as their
/// instance, the instance it abbreviates (read from all instances' workflows in scope).
async fn instance_workflows(
    api: &kube::Api<DynamicObject>,
    target: &shared::Target,
    keys: &LabelKeys,
    typed: &str,
    now: Timestamp,
) -> shared::Result<Option<(String, Vec<DynamicObject>)>> {
    let read = async |query: &ListArgs| match list::read(api, query, keys, now).await {
        Ok(items) => Ok(items),
        Err(ReadError::Usage(e)) => Err(e),
        Err(ReadError::Api(e)) => Err(target.api_error(e)),
    };
    let exact = ListArgs {
        instance: Some(typed.to_string()),
        chunk_size: 500,
        ..Default::default()
    };
    let items = read(&exact).await?;
    if !items.is_empty() {
        return Ok(Some((typed.to_string(), items)));
    }
    let every = ListArgs {
        selector: Some(keys.instance_label.clone()),
        chunk_size: 500,
        ..Default::default()
    };
    let all = read(&every).await?;
    let Some(instance) = resolve_instance(typed, &all, keys)? else {
        return Ok(None);
    };
    let items = all
        .into_iter()
        .filter(|wf| wf.labels().get(&keys.instance_label) == Some(&instance))
        .collect();
    Ok(Some((instance, items)))
}

pub async fn run(global: &GlobalArgs, keys: &LabelKeys, args: &FindArgs) -> shared::Result<()> {
    let target = shared::kubeconfig::connect(global).await?;
    let api = workflow::api(&target, args.all_namespaces);
    let now = Timestamp::now();
    let Some((instance, mut items)) =
        instance_workflows(&api, &target, keys, &args.instance, now).await?
    else {
        return Err(Error::Failed(not_found(args, keys, &target)));
    };
    items.sort_by_key(|wf| std::cmp::Reverse(workflow::created(wf)));
    let rows: Vec<list::Row> = items.iter().map(|wf| list::row(wf, keys, now)).collect();
    let format = OutputFormat::from(args.output);
    if format == OutputFormat::Name {
        let names: String = rows
            .iter()
            .map(|r| format!("workflow.argoproj.io/{}\n", r.name))
            .collect();
        output::print_stdout(&names);
        return Ok(());
    }
    let newest = &items[0];
    // Compressed node status is read as `get` reads it; one the API does not hold (offloaded)
    // is said, and the rest of the answer stands.
    let (nodes, steps_unknown) = match workflow::nodes(newest) {
        Ok(nodes) => (nodes, None),
        Err(reason) => (Map::new(), Some(reason)),
    };
    let failing = failing_steps(&nodes);
    let failing_steps = if failing.is_empty() {
        Vec::new()
    } else {
        failing_steps_read(&target, newest, &nodes, &failing, args.tail).await?
    };
    let report = Report {
        instance,
        items: rows,
        newest: Newest {
            name: newest.name_any(),
            phase: workflow::phase(newest),
            message: workflow::message(newest),
            steps_unknown,
            failing_steps,
        },
    };
    let text = match format {
        OutputFormat::Json => output::to_json(&report)?,
        OutputFormat::Yaml => output::to_yaml(&report)?,
        format => render(&report, format == OutputFormat::Wide, args.all_namespaces),
    };
    output::print_stdout(&text);
    Ok(())
}

/// No workflow of the instance: where it looked, and the pasteable command that looks
/// further (every namespace, or the list of all workflows when that was done already).
fn not_found(args: &FindArgs, keys: &LabelKeys, target: &shared::Target) -> String {
    let id = shared::shell::word(&args.instance);
    if let Some(sub) = shared::suggest::subcommand::<crate::Cli>(&args.instance).map(|m| m.name) {
        return format!(
            "no instance {:?}: did you mean `kubectl argodeploy {sub}{}{}`?",
            args.instance,
            keys.given_flags(),
            target.scope_flags()
        );
    }
    if args.all_namespaces {
        format!(
            "no workflow of instance {} in any namespace: `kubectl argodeploy list -A{}{}` shows the instances there are",
            args.instance,
            keys.given_flags(),
            target.given_flags
        )
    } else {
        format!(
            "no workflow of instance {} in namespace {}: `kubectl argodeploy find {id} -A{}{}` looks in every namespace",
            args.instance,
            target.namespace,
            keys.given_flags(),
            target.given_flags
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(name: &str, instance: &str) -> DynamicObject {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": "atmosphere", "labels": {"instance_uuid": instance}},
        }))
        .unwrap()
    }

    fn keys() -> LabelKeys {
        LabelKeys {
            user_label: "username".into(),
            instance_label: "instance_uuid".into(),
            instanceid: None,
        }
    }

    #[test]
    fn an_archived_main_log_is_read_when_raw_and_located_otherwise() {
        let node = |art: Value| {
            serde_json::json!({"outputs": {"artifacts": [
            {"name": "result", "raw": {"data": "not the log"}}, art]}})
        };
        let none = serde_json::Value::Null;
        let raw = node(serde_json::json!({"name": "main-logs", "raw": {"data": "a\nb\nc\n"}}));
        let (log, lines) = archived_log(&raw, &none, Some(2)).unwrap();
        assert!(log.readable && log.location == "raw" && log.command.is_none());
        assert_eq!(lines, ["b", "c"]);
        assert_eq!(archived_log(&raw, &none, None).unwrap().1.len(), 3);
        let s3 = node(serde_json::json!({"name": "main-logs", "s3": {"key": "wf/pod/main.log"}}));
        let repo = serde_json::json!({"s3": {"bucket": "logs", "endpoint": "minio:9000", "insecure": true}});
        let (log, lines) = archived_log(&s3, &repo, Some(20)).unwrap();
        assert_eq!(log.location, "s3://logs/wf/pod/main.log");
        assert_eq!(
            log.command.as_deref(),
            Some("aws s3 cp s3://logs/wf/pod/main.log - --endpoint-url http://minio:9000")
        );
        assert!(!log.readable && lines.is_empty());
        let aws = node(serde_json::json!({"name": "main-logs",
            "s3": {"bucket": "b", "key": "k/main.log", "endpoint": "s3.amazonaws.com"}}));
        let (log, _) = archived_log(&aws, &none, None).unwrap();
        assert_eq!(
            log.command.as_deref(),
            Some("aws s3 cp s3://b/k/main.log -")
        );
        let (log, _) = archived_log(&s3, &none, None).unwrap();
        assert!(
            log.command.is_none(),
            "no bucket, no command that would fail: {log:?}"
        );
        let gcs =
            node(serde_json::json!({"name": "main-logs", "gcs": {"bucket": "g", "key": "k"}}));
        assert_eq!(
            archived_log(&gcs, &none, None)
                .unwrap()
                .0
                .command
                .as_deref(),
            Some("gcloud storage cat gs://g/k")
        );
        assert!(archived_log(&serde_json::json!({"outputs": {}}), &none, None).is_none());
    }

    #[test]
    fn an_instance_is_named_by_its_uuid_its_short_id_or_a_workflow() {
        let all = [
            wf(
                "deploy-e5121482-wwmms",
                "e5121482-3929-4d22-a255-accb1a466884",
            ),
            wf(
                "deploy-e5121482-p8q6v",
                "e5121482-3929-4d22-a255-accb1a466884",
            ),
            wf(
                "deploy-e51f0000-aaaaa",
                "e51f0000-0000-4000-8000-000000000000",
            ),
        ];
        let full = Some("e5121482-3929-4d22-a255-accb1a466884".to_string());
        assert_eq!(resolve_instance("e5121482", &all, &keys()).unwrap(), full);
        assert_eq!(resolve_instance("E5121482", &all, &keys()).unwrap(), full);
        assert_eq!(
            resolve_instance("deploy-e5121482-p8q6v", &all, &keys()).unwrap(),
            full
        );
        assert_eq!(resolve_instance("f00", &all, &keys()).unwrap(), None);
        let ambiguous = resolve_instance("e51", &all, &keys()).unwrap_err();
        assert_eq!(ambiguous.exit_code(), 2, "{ambiguous}");
        assert!(ambiguous.to_string().contains("2 instances"), "{ambiguous}");
    }
}
