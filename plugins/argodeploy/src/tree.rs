//! `argo get WF` as text, from the workflow object the Kubernetes API returns (no argo-server,
//! no I/O): the header block, the node table and the node status (plain, compressed or
//! offloaded).
//!
//! The rules are argo-workflows' own (v3.5/v3.6), each function naming where it comes from:
//! - `cmd/argo/commands/common/get.go`: `PrintWorkflowHelper` (header, table, onExit),
//!   `convertToRenderTrees` / `attachToParent` / `insertSorted` (which row goes under which),
//!   `filterNode` (hidden StepGroups, single-child Retries, Omitted), `renderChild` (glyphs),
//!   `printNode` (the row's cells);
//! - `cmd/argo/commands/common/common.go`: the icons, UTF-8 and `--no-utf8`; this output is
//!   argo's with `--no-color`;
//! - `workflow/util/pod_name.go`: `GeneratePodName`, `GetWorkflowPodNameVersion`;
//! - `pkg/apis/workflow/v1alpha1/workflow_types.go`: `Workflow.NodeID`,
//!   `Conditions.DisplayString`, `ResourcesDuration.String`, `NodeStatus.IsActiveSuspendNode`;
//! - `util/printer/workflow-printer.go`: `WorkflowStatus`;
//! - `workflow/packer/packer.go` + `util/file/fileutil.go`: `DecompressWorkflow`
//!   (base64, then gzip, then JSON);
//! - `github.com/argoproj/pkg/humanize` and `github.com/dustin/go-humanize`: `Timestamp`,
//!   `RelativeDuration`, `RelativeDurationShort`, `Duration`, `Time`;
//! - Go's `text/tabwriter` with argo's `NewWriter(w, 0, 0, 2, ' ', 0)` for the columns
//!   (widths counted in characters, every tab-terminated cell padded, so rows keep Go's
//!   trailing spaces).
//!
//! Times print in UTC (argo prints local time) and "ago" counts from [`Options::now`].

use std::collections::{HashMap, HashSet};
use std::io::Read;

use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value};

/// The annotation that pins a workflow's pod naming (`v1` = node ID, `v2` = workflow,
/// template and hash).
pub const POD_NAME_FORMAT_ANNOTATION: &str = "workflows.argoproj.io/pod-name-format";

/// How the controller named a workflow's pods (`workflow/util/pod_name.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodNameVersion {
    /// The pod name is the node ID.
    V1,
    /// `<workflow>-<template>-<fnv32a(node name)>`, the default since argo 3.2.
    V2,
}

/// What to render and when "now" is.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-o wide`: ARTIFACTS, RESOURCESDURATION and NODENAME columns too.
    pub wide: bool,
    /// UTF-8 glyphs and icons; false is argo's `--no-utf8` (`+-`, `` `- ``, `|-`, phase words).
    pub utf8: bool,
    /// For durations of running nodes and the "(… ago)" of the header times.
    pub now: Timestamp,
}

// ---------------------------------------------------------------------------------------------
// Node status: plain, compressed or offloaded
// ---------------------------------------------------------------------------------------------

/// `status.nodes`; when it is empty and `status.compressedNodes` is set, that decoded as argo's
/// `packer.DecompressWorkflow` does (base64, gunzip, JSON). A node status offloaded to the
/// workflow archive database is not in the Kubernetes API: that is an error.
pub fn nodes(wf: &Value) -> Result<Map<String, Value>, String> {
    let name = wf_name(wf);
    let status = &wf["status"];
    match &status["nodes"] {
        Value::Object(m) if !m.is_empty() => return Ok(m.clone()),
        Value::Object(_) | Value::Null => {}
        other => return Err(format!("status.nodes of {name} is not an object: {other}")),
    }
    if let Some(compressed) = status["compressedNodes"].as_str().filter(|s| !s.is_empty()) {
        return decompress(compressed)
            .map_err(|e| format!("status.compressedNodes of {name}: {e}"));
    }
    if let Some(version) = status["offloadNodeStatusVersion"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        return Err(format!(
            "node status of {name} is offloaded to the workflow archive database \
             (offloadNodeStatusVersion {version}): kubectl argodeploy reads the Kubernetes API only; \
             use `argo get` with the argo server"
        ));
    }
    Ok(Map::new())
}

fn decompress(text: &str) -> Result<Map<String, Value>, String> {
    // Go's base64.StdEncoding skips '\r' and '\n'.
    let clean: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .map_err(|e| format!("not base64: {e}"))?;
    let mut json = String::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_string(&mut json)
        .map_err(|e| format!("not gzip: {e}"))?;
    match serde_json::from_str::<Value>(&json).map_err(|e| format!("not JSON: {e}"))? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(format!("not a map of nodes: {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Pod names and node IDs
// ---------------------------------------------------------------------------------------------

/// FNV-1a, 32 bits (Go's `hash/fnv.New32a`), as argo hashes node names.
fn fnv32a(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// `Workflow.NodeID`: the workflow's name for the root, else `<workflow>-<fnv32a(name)>`.
pub fn node_id(workflow: &str, node_name: &str) -> String {
    if node_name == workflow {
        return workflow.to_string();
    }
    format!("{workflow}-{}", fnv32a(node_name))
}

/// `workflow/util/pod_name.go` `GeneratePodName`: v1 is the node ID; v2 is the workflow name
/// for the root node, else `<workflow>[-<template>]` cut to 242 bytes (253, Kubernetes' name
/// limit, less 10 for the hash and 1 for the dash) then `-<fnv32a(node name)>`.
pub fn pod_name(
    workflow: &str,
    node_name: &str,
    template: &str,
    node_id: &str,
    version: PodNameVersion,
) -> String {
    const MAX_K8S_RESOURCE_NAME_LENGTH: usize = 253;
    const K8S_NAMING_HASH_LENGTH: usize = 10;
    const MAX_PREFIX_LENGTH: usize = MAX_K8S_RESOURCE_NAME_LENGTH - K8S_NAMING_HASH_LENGTH;
    if version == PodNameVersion::V1 {
        return node_id.to_string();
    }
    if workflow == node_name {
        return workflow.to_string();
    }
    let mut prefix = workflow.to_string();
    if !template.is_empty() {
        prefix.push('-');
        prefix.push_str(template);
    }
    // ensurePodNamePrefixLength (Go cuts bytes; names are ASCII, a char boundary is kept here).
    if prefix.len() > MAX_PREFIX_LENGTH - 1 {
        let mut cut = MAX_PREFIX_LENGTH - 1;
        while !prefix.is_char_boundary(cut) {
            cut -= 1;
        }
        prefix.truncate(cut);
    }
    format!("{prefix}-{}", fnv32a(node_name))
}

/// `GetWorkflowPodNameVersion`: the `workflows.argoproj.io/pod-name-format` annotation, `v1`
/// or `v2`; anything else, or none, is v2 (argo's default; the CLI's `POD_NAMES` environment
/// variable is not read here).
pub fn pod_name_version(wf: &Value) -> PodNameVersion {
    match wf["metadata"]["annotations"][POD_NAME_FORMAT_ANNOTATION].as_str() {
        Some("v1") => PodNameVersion::V1,
        _ => PodNameVersion::V2,
    }
}

// ---------------------------------------------------------------------------------------------
// Times: Go's time.Time and the humanize package
// ---------------------------------------------------------------------------------------------

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
const MONTH: i64 = 30 * DAY;
const YEAR: i64 = 12 * MONTH;
const LONG_TIME: i64 = 37 * YEAR;

/// go-humanize `RelTimeMagnitude`: below `d` nanoseconds, print `format` with `%d` the
/// difference divided by `div_by` and `%s` the label.
struct Magnitude {
    d: i64,
    format: &'static str,
    div_by: i64,
}

const fn mag(d: i64, format: &'static str, div_by: i64) -> Magnitude {
    Magnitude { d, format, div_by }
}

/// go-humanize `defaultMagnitudes` (used by `humanize.Time`).
const DEFAULT_MAGNITUDES: &[Magnitude] = &[
    mag(SECOND, "now", SECOND),
    mag(2 * SECOND, "1 second %s", 1),
    mag(MINUTE, "%d seconds %s", SECOND),
    mag(2 * MINUTE, "1 minute %s", 1),
    mag(HOUR, "%d minutes %s", MINUTE),
    mag(2 * HOUR, "1 hour %s", 1),
    mag(DAY, "%d hours %s", HOUR),
    mag(2 * DAY, "1 day %s", 1),
    mag(WEEK, "%d days %s", DAY),
    mag(2 * WEEK, "1 week %s", 1),
    mag(MONTH, "%d weeks %s", WEEK),
    mag(2 * MONTH, "1 month %s", 1),
    mag(YEAR, "%d months %s", MONTH),
    mag(18 * MONTH, "1 year %s", 1),
    mag(2 * YEAR, "2 years %s", 1),
    mag(LONG_TIME, "%d years %s", YEAR),
    mag(i64::MAX, "a long while %s", 1),
];

/// argoproj/pkg humanize `relativeMagnitudes` (used by `TruncatedDuration`).
const RELATIVE_MAGNITUDES: &[Magnitude] = &[
    mag(SECOND, "0 seconds", SECOND),
    mag(2 * SECOND, "1 second %s", 1),
    mag(MINUTE, "%d seconds %s", SECOND),
    mag(2 * MINUTE, "1 minute %s", 1),
    mag(HOUR, "%d minutes %s", MINUTE),
    mag(2 * HOUR, "1 hour %s", 1),
    mag(DAY, "%d hours %s", HOUR),
    mag(2 * DAY, "1 day %s", 1),
    mag(WEEK, "%d days %s", DAY),
    mag(2 * WEEK, "1 week %s", 1),
    mag(MONTH, "%d weeks %s", WEEK),
    mag(2 * MONTH, "1 month %s", 1),
    mag(YEAR, "%d months %s", MONTH),
    mag(18 * MONTH, "1 year %s", 1),
    mag(2 * YEAR, "2 years %s", 1),
    mag(LONG_TIME, "%d years %s", YEAR),
    mag(i64::MAX, "a long while %s", 1),
];

/// argoproj/pkg humanize `shortTimeMagnitudes` (used by `RelativeDurationShort`, the
/// DURATION column).
const SHORT_MAGNITUDES: &[Magnitude] = &[
    mag(SECOND, "0s", SECOND),
    mag(2 * SECOND, "1s %s", 1),
    mag(MINUTE, "%ds %s", SECOND),
    mag(2 * MINUTE, "1m %s", 1),
    mag(HOUR, "%dm %s", MINUTE),
    mag(2 * HOUR, "1h %s", 1),
    mag(DAY, "%dh %s", HOUR),
    mag(2 * DAY, "1d %s", 1),
    mag(WEEK, "%dd %s", DAY),
];

/// Go's zero `time.Time` (0001-01-01T00:00:00Z): what a missing timestamp is in argo.
fn go_zero_time() -> Timestamp {
    Timestamp::from_second(-62_135_596_800).unwrap_or(Timestamp::MIN)
}

/// Go's `b.Sub(a)`: nanoseconds, saturating at the int64 bounds.
fn go_sub(b: Timestamp, a: Timestamp) -> i64 {
    let nanos = b.duration_since(a).as_nanos();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// go-humanize `CustomRelTime(a, b, albl, blbl, magnitudes)` given `b.Sub(a)`.
fn custom_rel_time(b_minus_a: i64, albl: &str, blbl: &str, magnitudes: &[Magnitude]) -> String {
    let (diff, label) = if b_minus_a < 0 {
        (b_minus_a.saturating_neg(), blbl)
    } else {
        (b_minus_a, albl)
    };
    let index = magnitudes
        .iter()
        .position(|m| m.d > diff)
        .unwrap_or(magnitudes.len() - 1);
    let m = &magnitudes[index];
    let mut out = String::new();
    let mut chars = m.format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&(diff / m.div_by).to_string()),
            Some('s') => out.push_str(label),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// humanize `TruncatedDuration`: one unit.
fn truncated_duration(d: i64) -> String {
    custom_rel_time(d, "", "", RELATIVE_MAGNITUDES)
        .trim()
        .to_string()
}

/// humanize `Duration`: up to two units ("1 minute 2 seconds").
fn humanize_duration(d: i64) -> String {
    if d < MINUTE {
        truncated_duration(d)
    } else if d < HOUR {
        format!(
            "{} {} seconds",
            truncated_duration(d),
            (d % MINUTE) / SECOND
        )
    } else if d < DAY {
        format!("{} {} minutes", truncated_duration(d), (d % HOUR) / MINUTE)
    } else {
        format!("{} {} hours", truncated_duration(d), (d % DAY) / HOUR)
    }
}

/// humanize `RelativeDuration` / `RelativeDurationShort`'s end: a zero finish of a started
/// node or workflow is now.
fn finish_or_now(start: Option<Timestamp>, finish: Option<Timestamp>, now: Timestamp) -> Timestamp {
    match (start, finish) {
        (_, Some(f)) => f,
        (Some(_), None) => now,
        (None, None) => go_zero_time(),
    }
}

/// humanize `RelativeDuration` (the header's Duration).
fn relative_duration(
    start: Option<Timestamp>,
    finish: Option<Timestamp>,
    now: Timestamp,
) -> String {
    let end = finish_or_now(start, finish, now);
    humanize_duration(go_sub(end, start.unwrap_or_else(go_zero_time)))
}

/// humanize `RelativeDurationShort` (the DURATION column: "0s", "10s", "1m", "5d").
fn relative_duration_short(
    start: Option<Timestamp>,
    finish: Option<Timestamp>,
    now: Timestamp,
) -> String {
    let end = finish_or_now(start, finish, now);
    custom_rel_time(
        go_sub(end, start.unwrap_or_else(go_zero_time)),
        "",
        "",
        SHORT_MAGNITUDES,
    )
    .trim()
    .to_string()
}

/// humanize `Timestamp`: `Mon Jan 02 15:04:05 -0700 (1 hour ago)`, in UTC here.
fn humanize_timestamp(ts: Option<Timestamp>, now: Timestamp) -> String {
    let ts = ts.unwrap_or_else(go_zero_time);
    let when = ts
        .to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a %b %d %H:%M:%S %z")
        .to_string();
    format!(
        "{when} ({})",
        custom_rel_time(go_sub(now, ts), "ago", "from now", DEFAULT_MAGNITUDES)
    )
}

/// Go's `time.Duration.String` for whole seconds (`ResourceDuration`): "0s", "14s", "1m5s",
/// "2h0m1s".
fn go_seconds_string(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let sign = if secs < 0 { "-" } else { "" };
    let u = secs.unsigned_abs();
    let (h, m, s) = (u / 3600, (u % 3600) / 60, u % 60);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// `ResourcesDuration.String`: `<duration>*(<denominator> <resource>)` joined by commas (Go's
/// map order is random; sorted by resource here).
fn resources_duration(v: &Value) -> String {
    let Some(map) = v.as_object() else {
        return String::new();
    };
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    names
        .iter()
        .map(|name| {
            let secs = map[*name]
                .as_i64()
                .unwrap_or_else(|| map[*name].as_f64().unwrap_or(0.0) as i64);
            let denominator = match name.as_str() {
                "memory" => "100Mi",
                "storage" | "ephemeral-storage" => "10Gi",
                _ => "1",
            };
            format!("{}*({denominator} {name})", go_seconds_string(secs))
        })
        .collect::<Vec<_>>()
        .join(",")
}

// ---------------------------------------------------------------------------------------------
// Small readers
// ---------------------------------------------------------------------------------------------

fn wf_name(wf: &Value) -> &str {
    wf["metadata"]["name"].as_str().unwrap_or("")
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

fn present(v: &Value) -> bool {
    !v.is_null()
}

/// An `AnyString` (parameter value): a string as is, another JSON value as its text.
fn any_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `Workflow.GetExecSpec`: the stored WorkflowTemplate spec when there is one.
fn exec_spec(wf: &Value) -> &Value {
    let stored = &wf["status"]["storedWorkflowTemplateSpec"];
    if stored.is_object() {
        stored
    } else {
        &wf["spec"]
    }
}

// ---------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------

/// `printer.WorkflowStatus`: the phase, "Running (Suspended)", "Failed (Terminated)", or
/// "Pending"/"Unknown" before the controller set one.
fn workflow_status(wf: &Value, nodes: &Map<String, Value>) -> String {
    let phase = text(&wf["status"], "phase");
    match phase {
        "Running" => {
            let suspended = wf["spec"]["suspend"].as_bool() == Some(true)
                || nodes
                    .values()
                    .any(|n| text(n, "type") == "Suspend" && text(n, "phase") == "Running");
            if suspended {
                "Running (Suspended)".into()
            } else {
                phase.into()
            }
        }
        "Failed" if !text(&wf["spec"], "shutdown").is_empty() => "Failed (Terminated)".into(),
        "" | "Pending" => {
            if present(&wf["metadata"]["creationTimestamp"]) {
                "Pending".into()
            } else {
                "Unknown".into()
            }
        }
        other => other.into(),
    }
}

/// The header block of `PrintWorkflowHelper`, each line `%-20s %v`. Workflow-level output
/// artifacts (their per-store URL forms) are not printed.
pub fn header(wf: &Value, opts: &Options) -> String {
    fn line(out: &mut String, label: &str, value: &str) {
        out.push_str(&format!("{label:<20} {value}\n"));
    }
    let nodes = nodes(wf).unwrap_or_default();
    let status = &wf["status"];
    let spec = exec_spec(wf);
    let mut out = String::new();
    line(&mut out, "Name:", wf_name(wf));
    line(&mut out, "Namespace:", text(&wf["metadata"], "namespace"));
    let mut service_account = text(spec, "serviceAccountName");
    if service_account.is_empty() {
        service_account = if present(&wf["spec"]["workflowTemplateRef"]) {
            "unset"
        } else {
            "unset (will run with the default ServiceAccount)"
        };
    }
    line(&mut out, "ServiceAccount:", service_account);
    line(&mut out, "Status:", &workflow_status(wf, &nodes));
    let message = text(status, "message");
    if !message.is_empty() {
        line(&mut out, "Message:", message);
    }
    // Conditions.DisplayString
    if let Some(conditions) = status["conditions"].as_array().filter(|c| !c.is_empty()) {
        line(&mut out, "Conditions:", "");
        for condition in conditions {
            let kind = text(condition, "type");
            let icon = match (kind, opts.utf8) {
                ("MetricsError", true) => "✖",
                ("MetricsError", false) => "Error",
                ("SpecWarning", true) => "⚠",
                ("SpecWarning", false) => "Warning",
                _ => "",
            };
            let mut message = text(condition, "message");
            if message.is_empty() {
                message = text(condition, "status");
            }
            line(&mut out, &format!("{icon} {kind}"), message);
        }
    }
    line(
        &mut out,
        "Created:",
        &humanize_timestamp(time(&wf["metadata"]["creationTimestamp"]), opts.now),
    );
    let started = time(&status["startedAt"]);
    let finished = time(&status["finishedAt"]);
    if started.is_some() {
        line(&mut out, "Started:", &humanize_timestamp(started, opts.now));
    }
    if finished.is_some() {
        line(
            &mut out,
            "Finished:",
            &humanize_timestamp(finished, opts.now),
        );
    }
    if started.is_some() {
        line(
            &mut out,
            "Duration:",
            &relative_duration(started, finished, opts.now),
        );
    }
    if text(status, "phase") == "Running" {
        let estimated = status["estimatedDuration"].as_i64().unwrap_or(0);
        if estimated > 0 {
            line(
                &mut out,
                "EstimatedDuration:",
                &humanize_duration(estimated.saturating_mul(SECOND)),
            );
        }
    }
    line(&mut out, "Progress:", text(status, "progress"));
    if status["resourcesDuration"]
        .as_object()
        .is_some_and(|m| !m.is_empty())
    {
        line(
            &mut out,
            "ResourcesDuration:",
            &resources_duration(&status["resourcesDuration"]),
        );
    }
    if let Some(params) = spec["arguments"]["parameters"]
        .as_array()
        .filter(|p| !p.is_empty())
    {
        line(&mut out, "Parameters:", "");
        for p in params {
            if let Some(value) = any_string(&p["value"]) {
                line(&mut out, &format!("  {}:", text(p, "name")), &value);
            }
        }
    }
    if let Some(params) = status["outputs"]["parameters"]
        .as_array()
        .filter(|p| !p.is_empty())
    {
        line(&mut out, "Output Parameters:", "");
        for p in params {
            // Parameter.HasValue / GetValue
            if present(&p["value"]) || present(&p["default"]) || present(&p["valueFrom"]) {
                let value = any_string(&p["value"])
                    .or_else(|| any_string(&p["default"]))
                    .unwrap_or_default();
                line(&mut out, &format!("  {}:", text(p, "name")), &value);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The node table
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RenderKind {
    /// DAG, Steps: the template's boundary; rows whose boundaryID is this node go under it.
    Boundary,
    /// StepGroup, Retry: their `children` go under them.
    NonBoundaryParent,
    /// Pod, Skipped, Suspend, HTTP, Plugin: leaves.
    Execution,
    /// Container, TaskGroup, …: not rendered.
    None,
}

fn render_kind(node_type: &str) -> RenderKind {
    match node_type {
        "DAG" | "Steps" => RenderKind::Boundary,
        "StepGroup" | "Retry" => RenderKind::NonBoundaryParent,
        "Pod" | "Skipped" | "Suspend" | "HTTP" | "Plugin" => RenderKind::Execution,
        _ => RenderKind::None,
    }
}

/// `RecoverIndexFromNodeName`: the N of `name(N:item)`, or -1.
fn recover_index(name: &str) -> i64 {
    let (Some(start), Some(end)) = (name.find('('), name.find(':')) else {
        return -1;
    };
    if end <= start {
        return -1;
    }
    name[start + 1..end].parse().unwrap_or(-1)
}

/// `insertSorted`: by start time, ties by the withItems/withParam index when both have one,
/// else by display name.
fn insert_sorted<'a>(nodes: &Map<String, Value>, list: &mut Vec<&'a str>, item: &'a str) {
    let started = |id: &str| time(&nodes[id]["startedAt"]).unwrap_or_else(go_zero_time);
    let display = |id: &str| text(&nodes[id], "displayName").to_string();
    let insert_time = started(item);
    let insert_name = display(item);
    let mut index = 0;
    while index < list.len() {
        let t = started(list[index]);
        if insert_time < t {
            break;
        }
        if insert_time == t {
            let equal_name = display(list[index]);
            let (a, b) = (recover_index(&insert_name), recover_index(&equal_name));
            if a >= 0 && b >= 0 {
                if a < b {
                    break;
                }
            } else if insert_name < equal_name {
                break;
            }
        }
        index += 1;
    }
    list.insert(index, item);
}

/// `convertToRenderTrees`: each rendered node's rows-below, and the roots (no parent).
struct Forest<'a> {
    children: HashMap<&'a str, Vec<&'a str>>,
    roots: HashSet<&'a str>,
}

impl<'a> Forest<'a> {
    fn build(nodes: &'a Map<String, Value>) -> Result<Self, String> {
        // Go walks a map (random order); node-ID order here.
        let mut ids: Vec<&'a str> = nodes.keys().map(String::as_str).collect();
        ids.sort_unstable();
        // Pass 1: a StepGroup's or Retry's children attach to it rather than to their boundary.
        let mut non_boundary_parent: HashMap<&'a str, &'a str> = HashMap::new();
        for &id in &ids {
            let node = &nodes[id];
            let node_type = text(node, "type");
            if node_type.is_empty() {
                return Err(format!(
                    "node {id} has no type: workflows created with Argo <= 2.0 cannot be shown as a tree"
                ));
            }
            if render_kind(node_type) == RenderKind::NonBoundaryParent {
                for child in node["children"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    non_boundary_parent.insert(child, id);
                }
            }
        }
        // Pass 2: attachToParent.
        let mut forest = Forest {
            children: HashMap::new(),
            roots: HashSet::new(),
        };
        for &id in &ids {
            let node = &nodes[id];
            if render_kind(text(node, "type")) == RenderKind::None {
                continue;
            }
            if let Some(&parent) = non_boundary_parent.get(id) {
                insert_sorted(nodes, forest.children.entry(parent).or_default(), id);
                continue;
            }
            let boundary = text(node, "boundaryID");
            if boundary.is_empty() {
                forest.roots.insert(id);
                continue;
            }
            // A boundaryID that is no DAG/Steps node leaves the row out, as in argo.
            if let Some((boundary, _)) = nodes
                .get_key_value(boundary)
                .filter(|(_, b)| render_kind(text(b, "type")) == RenderKind::Boundary)
            {
                insert_sorted(
                    nodes,
                    forest.children.entry(boundary.as_str()).or_default(),
                    id,
                );
            }
        }
        Ok(forest)
    }
}

/// `filterNode`: (hidden, children drawn with the step-group glyphs).
fn filter_node(node: &Value) -> (bool, bool) {
    let node_type = text(node, "type");
    if node_type == "Retry" && node["children"].as_array().map_or(0, Vec::len) == 1 {
        (true, false)
    } else if node_type == "StepGroup" {
        (true, true)
    } else if node_type == "Skipped" && text(node, "phase") == "Omitted" {
        (true, false)
    } else {
        (false, false)
    }
}

/// How the parent of the rows being drawn was drawn.
#[derive(Clone, Copy)]
struct Parent {
    filtered: bool,
    child_indent: bool,
    max_index: usize,
}

struct Renderer<'a> {
    nodes: &'a Map<String, Value>,
    forest: &'a Forest<'a>,
    workflow: &'a str,
    version: PodNameVersion,
    opts: &'a Options,
    out: String,
}

impl Renderer<'_> {
    /// `renderNodes` of the three render-node kinds (an execution node has no children).
    fn render_nodes(&mut self, id: &str, node_prefix: &str, child_prefix: &str) {
        let node = &self.nodes[id];
        let (filtered, child_indent) = filter_node(node);
        if !filtered {
            self.print_node(node, node_prefix);
        }
        let children = self.forest.children.get(id).cloned().unwrap_or_default();
        let parent = Parent {
            filtered,
            child_indent,
            max_index: children.len().saturating_sub(1),
        };
        for (index, child) in children.iter().enumerate() {
            self.render_child(child, node_prefix, child_prefix, parent, index);
        }
    }

    /// `renderChild`: the glyphs before a row and before its children's rows.
    fn render_child(
        &mut self,
        id: &str,
        node_prefix: &str,
        child_prefix: &str,
        parent: Parent,
        index: usize,
    ) {
        let last = index == parent.max_index;
        let (part, subp) = if parent.filtered && parent.child_indent {
            match (self.opts.utf8, parent.max_index == 0, index == 0, last) {
                (true, true, _, _) => ("──", "  "),
                (true, false, true, _) => ("┬─", "│ "),
                (true, false, false, true) => ("└─", "  "),
                (true, false, false, false) => ("├─", "│ "),
                (false, true, _, _) => ("--", "  "),
                (false, false, true, _) => ("+-", "| "),
                (false, false, false, true) => ("`-", "  "),
                (false, false, false, false) => ("|-", "| "),
            }
        } else if !parent.filtered {
            match (self.opts.utf8, last) {
                (true, true) => ("└─", "  "),
                (true, false) => ("├─", "│ "),
                (false, true) => ("`-", "  "),
                (false, false) => ("|-", "| "),
            }
        } else {
            ("", "")
        };
        let child_node_prefix = if !parent.filtered || index != 0 {
            format!("{child_prefix}{part}")
        } else {
            format!("{node_prefix}{part}")
        };
        let child_child_prefix = format!("{child_prefix}{subp}");
        self.render_nodes(id, &child_node_prefix, &child_child_prefix);
    }

    /// `printNode`: one row.
    fn print_node(&mut self, node: &Value, prefix: &str) {
        let phase = text(node, "phase");
        let node_type = text(node, "type");
        let icon = if node_type == "Suspend" && phase == "Running" {
            if self.opts.utf8 { "ǁ" } else { "Suspend" }
        } else {
            phase_icon(phase, self.opts.utf8)
        };
        let name = format!("{prefix}{icon} {}", text(node, "displayName"));
        let template_ref = &node["templateRef"];
        let (template_column, template) = if present(template_ref) {
            let template = text(template_ref, "template");
            (
                format!("{}/{template}", text(template_ref, "name")),
                template,
            )
        } else {
            (
                text(node, "templateName").to_string(),
                text(node, "templateName"),
            )
        };
        let is_pod = node_type == "Pod";
        let (pod, duration) = if is_pod {
            (
                pod_name(
                    self.workflow,
                    text(node, "name"),
                    template,
                    text(node, "id"),
                    self.version,
                ),
                relative_duration_short(
                    time(&node["startedAt"]),
                    time(&node["finishedAt"]),
                    self.opts.now,
                ),
            )
        } else {
            (String::new(), String::new())
        };
        let message = text(node, "message");
        let cells: Vec<String> = if self.opts.wide {
            let artifacts = node["outputs"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| text(a, "name"))
                .collect::<Vec<_>>()
                .join(",");
            let host = if is_pod {
                text(node, "hostNodeName")
            } else {
                ""
            };
            vec![
                name,
                template_column,
                pod,
                duration,
                artifacts,
                message.to_string(),
                resources_duration(&node["resourcesDuration"]),
                host.to_string(),
            ]
        } else {
            vec![
                name,
                template_column,
                pod,
                duration,
                message.to_string(),
                String::new(),
            ]
        };
        self.out.push_str(&cells.join("\t"));
        self.out.push('\n');
    }
}

/// `JobStatusIconMap` (UTF-8, or the `--no-utf8` words); a phase it lacks (Omitted, none) has
/// no icon.
fn phase_icon(phase: &str, utf8: bool) -> &'static str {
    match (phase, utf8) {
        ("Pending", true) => "◷",
        ("Running", true) => "●",
        ("Succeeded", true) => "✔",
        ("Skipped", true) => "○",
        ("Failed", true) => "✖",
        ("Error", true) => "⚠",
        ("Pending", false) => "Pending",
        ("Running", false) => "Running",
        ("Succeeded", false) => "Succeeded",
        ("Skipped", false) => "Skipped",
        ("Failed", false) => "Failed",
        ("Error", false) => "Error",
        _ => "",
    }
}

/// The node table of `argo get` (`STEP  TEMPLATE  PODNAME  DURATION  MESSAGE`, wide adds
/// ARTIFACTS, RESOURCESDURATION, NODENAME): the entrypoint's tree, then the onExit handler's
/// after a blank row. Empty when the workflow has no root node yet (argo prints no table).
pub fn tree(wf: &Value, opts: &Options) -> Result<String, String> {
    let nodes = nodes(wf)?;
    let workflow = wf_name(wf);
    if !nodes.contains_key(workflow) {
        return Ok(String::new());
    }
    let forest = Forest::build(&nodes)?;
    if !forest.roots.contains(workflow) {
        return Err(format!(
            "failed to get the entrypoint node of {workflow}: it has a parent or a type that argo get does not show"
        ));
    }
    let mut renderer = Renderer {
        nodes: &nodes,
        forest: &forest,
        workflow,
        version: pod_name_version(wf),
        opts,
        out: String::new(),
    };
    renderer.out.push_str(if opts.wide {
        "STEP\tTEMPLATE\tPODNAME\tDURATION\tARTIFACTS\tMESSAGE\tRESOURCESDURATION\tNODENAME\n"
    } else {
        "STEP\tTEMPLATE\tPODNAME\tDURATION\tMESSAGE\n"
    });
    renderer.render_nodes(workflow, " ", " ");
    let on_exit = node_id(workflow, &format!("{workflow}.onExit"));
    if forest.roots.contains(on_exit.as_str()) {
        renderer.out.push_str("\t\t\t\t\t\n");
        renderer.render_nodes(&on_exit, " ", " ");
    }
    Ok(tabwrite(&renderer.out, 2))
}

/// What `argo get` prints: the header, then a blank line and the table when there is one.
pub fn render(wf: &Value, opts: &Options) -> Result<String, String> {
    let table = tree(wf, opts)?;
    let mut out = header(wf, opts);
    if !table.is_empty() {
        out.push('\n');
        out.push_str(&table);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Go's text/tabwriter (minwidth 0, padding as given, pad with spaces, no flags)
// ---------------------------------------------------------------------------------------------

struct TabWriter {
    lines: Vec<Vec<String>>,
    widths: Vec<usize>,
    padding: usize,
    out: String,
}

impl TabWriter {
    /// A cell is in `column` when it is tab-terminated: the last cell of a line is not.
    fn has_cell(line: &[String], column: usize) -> bool {
        column + 1 < line.len()
    }

    /// `Writer.format`: a column block is a run of lines that have a cell in the column.
    fn format(&mut self, line0: usize, line1: usize) {
        let column = self.widths.len();
        let mut line0 = line0;
        let mut this = line0;
        while this < line1 {
            if !Self::has_cell(&self.lines[this], column) {
                this += 1;
                continue;
            }
            self.write_lines(line0, this);
            line0 = this;
            let mut width = 0;
            while this < line1 && Self::has_cell(&self.lines[this], column) {
                width = width.max(self.lines[this][column].chars().count() + self.padding);
                this += 1;
            }
            self.widths.push(width);
            self.format(line0, this);
            self.widths.pop();
            line0 = this;
        }
        self.write_lines(line0, line1);
    }

    /// `Writer.writeLines`: cells left-aligned and padded to their column's width.
    fn write_lines(&mut self, line0: usize, line1: usize) {
        for i in line0..line1 {
            for (j, cell) in self.lines[i].iter().enumerate() {
                self.out.push_str(cell);
                if let Some(&width) = self.widths.get(j) {
                    let pad = width.saturating_sub(cell.chars().count());
                    self.out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if i + 1 != self.lines.len() {
                self.out.push('\n');
            }
        }
    }

    fn flush(&mut self) {
        let n = self.lines.len();
        self.format(0, n);
        self.lines = vec![Vec::new()];
        self.widths.clear();
    }
}

/// Align `text` as Go's `tabwriter.NewWriter(w, 0, 0, padding, ' ', 0)` followed by `Flush`.
fn tabwrite(text: &str, padding: usize) -> String {
    let mut tw = TabWriter {
        lines: vec![Vec::new()],
        widths: Vec::new(),
        padding,
        out: String::new(),
    };
    let mut cell = String::new();
    for ch in text.chars() {
        match ch {
            '\t' | '\u{0b}' | '\n' | '\u{0c}' => {
                let line = tw.lines.last_mut().expect("a current line");
                line.push(std::mem::take(&mut cell));
                let cells = line.len();
                if ch == '\n' || ch == '\u{0c}' {
                    tw.lines.push(Vec::new());
                    // A line of one cell does not affect the following lines' columns.
                    if ch == '\u{0c}' || cells == 1 {
                        tw.flush();
                    }
                }
            }
            _ => cell.push(ch),
        }
    }
    if !cell.is_empty() {
        tw.lines.last_mut().expect("a current line").push(cell);
    }
    tw.flush();
    tw.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn opts(now: &str) -> Options {
        Options {
            wide: false,
            utf8: true,
            now: at(now),
        }
    }

    fn lines(text: &[&str]) -> String {
        let mut out = text.join("\n");
        out.push('\n');
        out
    }

    // -- pod names ------------------------------------------------------------------------------

    #[test]
    fn fnv32a_matches_argos_ui_test_values() {
        // ui/src/app/shared/pod-name.test.ts `createFNVHash`
        assert_eq!(fnv32a("hello"), 1_335_831_723);
        assert_eq!(fnv32a("world"), 933_488_787);
        assert_eq!(
            fnv32a("You cannot alter your fate. However, you can rise to meet it."),
            827_171_719
        );
    }

    #[test]
    fn pod_name_v1_and_v2_like_argo() {
        // workflow/util/pod_name_v2_test.go and ui/src/app/shared/pod-name.test.ts
        assert_eq!(
            pod_name(
                "wfname",
                "nodename",
                "templatename",
                "1",
                PodNameVersion::V2
            ),
            "wfname-templatename-1454367246"
        );
        assert_eq!(
            pod_name(
                "wfname",
                "nodename",
                "templatename",
                "1",
                PodNameVersion::V1
            ),
            "1"
        );
        // The root node's pod is the workflow's name; no template: no template part.
        assert_eq!(
            pod_name("wfname", "wfname", "main", "wfname", PodNameVersion::V2),
            "wfname"
        );
        assert_eq!(
            pod_name("wfname", "nodename", "", "1", PodNameVersion::V2),
            "wfname-1454367246"
        );
        // Long names: the prefix is cut to 242 characters, the name is 253.
        let long_wf = "alongworkflownamethatincludeslotsofdetailsandisessentiallyalargerunonsentencewithpoorstyleandnopunctuationtobehadwhatsoever";
        let long_tmpl = "alongtemplatenamethatincludessliightlymoredetailsandiscertainlyalargerunonstnencewithevenworsestylisticconcernsandpreposterouslyeliminatespunctuation";
        let name = pod_name(long_wf, "nodename", long_tmpl, "1", PodNameVersion::V2);
        let prefix = format!("{long_wf}-{long_tmpl}");
        assert_eq!(name, format!("{}-1454367246", &prefix[..242]));
        assert_eq!(name.len(), 253);
    }

    #[test]
    fn pod_name_version_from_the_annotation() {
        let with = |v: &str| serde_json::json!({"metadata": {"annotations": {POD_NAME_FORMAT_ANNOTATION: v}}});
        assert_eq!(pod_name_version(&with("v1")), PodNameVersion::V1);
        assert_eq!(pod_name_version(&with("v2")), PodNameVersion::V2);
        assert_eq!(pod_name_version(&with("v3")), PodNameVersion::V2);
        assert_eq!(
            pod_name_version(&serde_json::json!({"metadata": {}})),
            PodNameVersion::V2
        );
    }

    #[test]
    fn node_ids_of_the_controller_fixtures_are_fnv32a_of_the_node_names() {
        // The controller named these nodes with Workflow.NodeID: the same hash v2 pod names use.
        for file in [
            "steps-failed-retries.yaml",
            "dag_retry_succeeded.yaml",
            "dag_xfail.yaml",
        ] {
            let wf = fixture(file);
            let name = wf_name(&wf).to_string();
            for (id, node) in nodes(&wf).unwrap() {
                assert_eq!(node_id(&name, text(&node, "name")), id, "{file}");
            }
        }
        let wf = fixture("steps-failed-retries.yaml");
        assert_eq!(
            node_id("failed-retries-tjjsc", "failed-retries-tjjsc[0]"),
            "failed-retries-tjjsc-2095973878"
        );
        assert_eq!(wf_name(&wf), "failed-retries-tjjsc");
    }

    // -- humanize ------------------------------------------------------------------------------

    #[test]
    fn humanize_like_argoproj_pkg() {
        assert_eq!(humanize_duration(0), "0 seconds");
        assert_eq!(humanize_duration(SECOND + SECOND / 2), "1 second");
        assert_eq!(humanize_duration(40 * SECOND), "40 seconds");
        assert_eq!(humanize_duration(62 * SECOND), "1 minute 2 seconds");
        assert_eq!(humanize_duration(150 * SECOND), "2 minutes 30 seconds");
        assert_eq!(humanize_duration(3 * HOUR), "3 hours 0 minutes");
        assert_eq!(humanize_duration(26 * HOUR + 5 * MINUTE), "1 day 2 hours");
        assert_eq!(humanize_duration(-5 * SECOND), "5 seconds");
        let now = at("2024-05-01T12:00:00Z");
        let short = |start: &str, end: Option<&str>| {
            relative_duration_short(Some(at(start)), end.map(at), now)
        };
        assert_eq!(short("2024-05-01T12:00:00Z", None), "0s");
        assert_eq!(short("2024-05-01T11:59:59Z", None), "1s");
        assert_eq!(short("2024-05-01T11:59:50Z", None), "10s");
        assert_eq!(short("2024-05-01T11:58:59Z", None), "1m");
        assert_eq!(
            short("2024-05-01T09:00:00Z", Some("2024-05-01T11:30:00Z")),
            "2h"
        );
        assert_eq!(short("2024-04-01T12:00:00Z", None), "30d");
        assert_eq!(
            humanize_timestamp(Some(at("2024-05-01T11:00:00Z")), now),
            "Wed May 01 11:00:00 +0000 (1 hour ago)"
        );
        assert_eq!(
            humanize_timestamp(Some(now), now),
            "Wed May 01 12:00:00 +0000 (now)"
        );
        assert_eq!(
            humanize_timestamp(Some(at("2024-05-01T12:05:00Z")), now),
            "Wed May 01 12:05:00 +0000 (5 minutes from now)"
        );
        assert_eq!(go_seconds_string(74), "1m14s");
        assert_eq!(go_seconds_string(7201), "2h0m1s");
        assert_eq!(
            resources_duration(&serde_json::json!({"memory": 14, "cpu": 0})),
            "0s*(1 cpu),14s*(100Mi memory)"
        );
    }

    // -- Go's tabwriter ------------------------------------------------------------------------

    #[test]
    fn tabwriter_pads_terminated_cells_only_and_breaks_blocks_like_go() {
        // The last cell of a line is not in a column; a one-cell line ends the blocks.
        assert_eq!(
            tabwrite("a\tbb\tc\nccc\td\t\n", 2),
            "a    bb  c\nccc  d   \n"
        );
        assert_eq!(
            tabwrite("a\tb\nplain\nlonger\tc\n", 2),
            "a  b\nplain\nlonger  c\n"
        );
        // Width in characters, not bytes.
        assert_eq!(tabwrite("✔ x\ty\nab\tz\n", 2), "✔ x  y\nab   z\n");
    }

    // -- trees of the controller fixtures -------------------------------------------------------

    /// steps-failed-retries.yaml, every rule derived by hand from get.go:
    /// - convertToRenderTrees: the StepGroup `[0]` has boundaryID the root Steps node and is in
    ///   no StepGroup/Retry's children, so it goes under the root; the two Retry nodes are its
    ///   children (attachToParent prefers a non-boundary parent), the Pods their Retry's.
    /// - insertSorted: `delayed-fail` and `fail` both start at 01:23:18 and have no `(N:`
    ///   index, so by display name: `delayed-fail` first; `fail(0)` 01:23:18 < `fail(1)` 01:23:27.
    /// - filterNode: the StepGroup is hidden with childIndent; each Retry has two children so
    ///   it is shown.
    /// - renderChild: root child `└─` (last), StepGroup children `┬─` (first, on the group's
    ///   prefix " └─") and `└─` (last, on its child prefix "   "), the groups' children `│ `
    ///   continuation; the Retry's children `├─` / `└─`.
    /// - printNode: icons ● Running, ✖ Failed; TEMPLATE empty for the Retries (no
    ///   templateName); PODNAME only for Pods: v2 `<wf>-<template>-<fnv32a(node name)>`;
    ///   DURATION RelativeDurationShort: the fixture's finishedAt are ~5 days before startedAt,
    ///   the absolute difference is 5d 6h → "5d"; MESSAGE the node's.
    /// - tabwriter(0, 0, 2, ' ', 0): column widths = longest cell + 2 (26, 16, 46, 10); the
    ///   header's MESSAGE is its last cell (not padded); the rows' MESSAGE cells are
    ///   tab-terminated so padded to 25, then the empty last cell.
    #[test]
    fn steps_failed_retries_renders_exactly_like_argo_get() {
        let wf = fixture("steps-failed-retries.yaml");
        let expected = lines(&[
            "STEP                      TEMPLATE        PODNAME                                       DURATION  MESSAGE",
            " ● failed-retries-tjjsc   failed-retries                                                                                   ",
            " └─┬─● delayed-fail                                                                                                        ",
            "   │ ├─✖ delayed-fail(0)  delayed-fail    failed-retries-tjjsc-delayed-fail-1375221696  5d        failed with exit code 1  ",
            "   │ └─✖ delayed-fail(1)  delayed-fail    failed-retries-tjjsc-delayed-fail-2113289837  5d        failed with exit code 1  ",
            "   └─✖ fail                                                                                       No more retries left     ",
            "     ├─✖ fail(0)          fail            failed-retries-tjjsc-fail-1229492679          5d        failed with exit code 1  ",
            "     └─✖ fail(1)          fail            failed-retries-tjjsc-fail-759866442           5d        failed with exit code 1  ",
        ]);
        let got = tree(&wf, &opts("2019-01-03T01:25:18Z")).unwrap();
        assert_eq!(got, expected, "\n{got}");

        // --no-utf8: the same rows with argo's ASCII glyphs and phase words.
        let ascii = tree(
            &wf,
            &Options {
                utf8: false,
                ..opts("2019-01-03T01:25:18Z")
            },
        )
        .unwrap();
        // The STEP column: up to where TEMPLATE starts (ASCII only, so bytes are characters).
        let step_width = ascii.find("TEMPLATE").unwrap();
        let first: Vec<&str> = ascii.lines().map(|l| l[..step_width].trim_end()).collect();
        assert_eq!(
            first,
            [
                "STEP",
                " Running failed-retries-tjjsc",
                " `-+-Running delayed-fail",
                "   | |-Failed delayed-fail(0)",
                "   | `-Failed delayed-fail(1)",
                "   `-Failed fail",
                "     |-Failed fail(0)",
                "     `-Failed fail(1)",
            ]
        );

        // The header: PrintWorkflowHelper's `%-20s %v` lines.
        let header = header(&wf, &opts("2019-01-03T01:25:18Z"));
        assert_eq!(
            header,
            lines(&[
                "Name:                failed-retries-tjjsc",
                "Namespace:           default",
                "ServiceAccount:      unset (will run with the default ServiceAccount)",
                "Status:              Running",
                "Created:             Fri Dec 28 19:21:20 +0000 (5 days ago)",
                "Started:             Thu Jan 03 01:23:18 +0000 (2 minutes ago)",
                "Duration:            2 minutes 0 seconds",
                "Progress:            ",
            ])
        );
        let all = render(&wf, &opts("2019-01-03T01:25:18Z")).unwrap();
        assert_eq!(all, format!("{header}\n{expected}"));
    }

    /// dag_retry_succeeded.yaml: the root DAG node has no phase (no icon: "  " then the name);
    /// its Retry `step1` has three children so it is shown (`└─`, no template, no pod); the
    /// attempts sorted by start time under it with `├─ ├─ └─`, durations 7s, 9s, 7s.
    #[test]
    fn dag_retry_succeeded_renders_exactly_like_argo_get() {
        let wf = fixture("dag_retry_succeeded.yaml");
        let expected = lines(&[
            "STEP                      TEMPLATE          PODNAME                                          DURATION  MESSAGE",
            "  dag-with-retries-4wkh8  dag-with-retries                                                                                      ",
            " └─✔ step1                                                                                                                      ",
            "   ├─✖ step1(0)           randomly-fail     dag-with-retries-4wkh8-randomly-fail-2105190396  7s        failed with exit code 1  ",
            "   ├─✖ step1(1)           randomly-fail     dag-with-retries-4wkh8-randomly-fail-1501049017  9s        failed with exit code 1  ",
            "   └─✔ step1(2)           randomly-fail     dag-with-retries-4wkh8-randomly-fail-2172006682  7s                                 ",
        ]);
        let got = tree(&wf, &opts("2018-08-01T10:30:00Z")).unwrap();
        assert_eq!(got, expected, "\n{got}");
        // No phase: printer.WorkflowStatus says Pending (a creationTimestamp is set).
        assert!(
            header(&wf, &opts("2018-08-01T10:30:00Z")).contains("\nStatus:              Pending\n")
        );

        // A Retry with one child is hidden: the attempt takes its place.
        let mut one = wf.clone();
        one["status"]["nodes"]["dag-with-retries-4wkh8-2805650605"]["children"] =
            serde_json::json!(["dag-with-retries-4wkh8-2172006682"]);
        let nodes = one["status"]["nodes"].as_object_mut().unwrap();
        nodes.remove("dag-with-retries-4wkh8-2105190396");
        nodes.remove("dag-with-retries-4wkh8-1501049017");
        let got = tree(&one, &opts("2018-08-01T10:30:00Z")).unwrap();
        let rows: Vec<&str> = got.lines().map(str::trim_end).collect();
        assert_eq!(
            rows,
            [
                "STEP                      TEMPLATE          PODNAME                                          DURATION  MESSAGE",
                "  dag-with-retries-4wkh8  dag-with-retries",
                " └─✔ step1(2)             randomly-fail     dag-with-retries-4wkh8-randomly-fail-2172006682  7s",
            ]
        );
    }

    /// dag_xfail.yaml: A is a Pod whose `children` (B, C) are ignored by argo get; all three
    /// are in the DAG's boundary, sorted by start (A 09:57:43; B and C both 09:57:53, by name).
    #[test]
    fn dag_xfail_glyphs_icons_and_pod_names() {
        let wf = fixture("dag_xfail.yaml");
        let got = tree(&wf, &opts("2018-08-01T10:00:00Z")).unwrap();
        let rows: Vec<Vec<&str>> = got
            .lines()
            .map(|l| {
                l.split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            [
                vec!["STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE"],
                vec!["● dag-fail-r4gvc", "diamond"],
                vec!["├─✔ A", "echo", "dag-fail-r4gvc-echo-848175806", "9s"],
                vec!["├─✔ B", "echo", "dag-fail-r4gvc-echo-831398187", "5s"],
                vec![
                    "└─✖ C",
                    "echo",
                    "dag-fail-r4gvc-echo-814620568",
                    "8s",
                    "failed with exit code 1"
                ],
            ]
        );
        // Pod names v1: the node IDs.
        let mut v1 = wf.clone();
        v1["metadata"]["annotations"] = serde_json::json!({POD_NAME_FORMAT_ANNOTATION: "v1"});
        let got = tree(&v1, &opts("2018-08-01T10:00:00Z")).unwrap();
        assert!(
            got.contains("\n └─✖ C             echo      dag-fail-r4gvc-814620568  8s  "),
            "{got}"
        );
    }

    // -- node status: compressed, offloaded ----------------------------------------------------

    fn compress(nodes: &Value) -> String {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(serde_json::to_string(nodes).unwrap().as_bytes())
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap())
    }

    #[test]
    fn compressed_nodes_render_identically() {
        for file in [
            "steps-failed-retries.yaml",
            "dag_retry_succeeded.yaml",
            "dag_xfail.yaml",
        ] {
            let wf = fixture(file);
            let mut packed = wf.clone();
            let status = packed["status"].as_object_mut().unwrap();
            let plain = status.remove("nodes").unwrap();
            status.insert("compressedNodes".into(), Value::String(compress(&plain)));
            let o = opts("2019-01-03T01:25:18Z");
            assert_eq!(
                nodes(&packed).unwrap(),
                *plain.as_object().unwrap(),
                "{file}"
            );
            assert_eq!(tree(&packed, &o).unwrap(), tree(&wf, &o).unwrap(), "{file}");
            assert_eq!(header(&packed, &o), header(&wf, &o), "{file}");
        }
        let mut bad = fixture("dag_xfail.yaml");
        bad["status"]["nodes"] = Value::Null;
        bad["status"]["compressedNodes"] = Value::String("not base64!".into());
        assert!(
            nodes(&bad)
                .unwrap_err()
                .contains("compressedNodes of dag-fail-r4gvc")
        );
    }

    #[test]
    fn offloaded_node_status_is_an_error() {
        let mut wf = fixture("dag_xfail.yaml");
        wf["status"].as_object_mut().unwrap().remove("nodes");
        wf["status"]["offloadNodeStatusVersion"] = Value::String("fnv:784224447".into());
        let err = tree(&wf, &opts("2018-08-01T10:00:00Z")).unwrap_err();
        assert_eq!(
            err,
            "node status of dag-fail-r4gvc is offloaded to the workflow archive database \
             (offloadNodeStatusVersion fnv:784224447): kubectl argodeploy reads the Kubernetes API only; \
             use `argo get` with the argo server"
        );
        assert_eq!(nodes(&wf).unwrap_err(), err);
        assert!(!err.contains('\n'));
    }

    #[test]
    fn no_nodes_yet_means_no_table() {
        let wf = serde_json::json!({
            "metadata": {"name": "w", "namespace": "ns", "creationTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"arguments": {"parameters": [{"name": "playbook", "value": "deploy.yml"}, {"name": "unset"}]}},
        });
        let o = opts("2024-05-01T12:00:00Z");
        assert_eq!(tree(&wf, &o).unwrap(), "");
        assert_eq!(
            render(&wf, &o).unwrap(),
            lines(&[
                "Name:                w",
                "Namespace:           ns",
                "ServiceAccount:      unset (will run with the default ServiceAccount)",
                "Status:              Pending",
                "Created:             Wed May 01 11:59:00 +0000 (1 minute ago)",
                "Progress:            ",
                "Parameters:          ",
                "  playbook:          deploy.yml",
            ])
        );
    }

    // -- the other rules, on a synthetic workflow ----------------------------------------------

    fn node(
        id: &str,
        name: &str,
        display: &str,
        kind: &str,
        phase: &str,
        started: &str,
    ) -> (String, Value) {
        (
            id.to_string(),
            serde_json::json!({
                "id": id, "name": name, "displayName": display, "type": kind, "phase": phase,
                "startedAt": started, "boundaryID": "w",
            }),
        )
    }

    fn synthetic() -> Value {
        let id = |name: &str| node_id("w", name);
        let mut nodes = Map::new();
        let (_, mut root) = node("w", "w", "w", "Steps", "Running", "2024-05-01T10:00:00Z");
        root.as_object_mut().unwrap().remove("boundaryID");
        root["templateName"] = "main".into();
        nodes.insert("w".into(), root);
        // [0]: one step (the "──" glyph); [1]: a Suspend waiting and an omitted step.
        let (k, mut g0) = node(
            &id("w[0]"),
            "w[0]",
            "[0]",
            "StepGroup",
            "Succeeded",
            "2024-05-01T10:00:00Z",
        );
        g0["children"] = serde_json::json!([id("w[0].deploy")]);
        nodes.insert(k, g0);
        let (k, mut deploy) = node(
            &id("w[0].deploy"),
            "w[0].deploy",
            "deploy",
            "Pod",
            "Succeeded",
            "2024-05-01T10:00:00Z",
        );
        deploy["finishedAt"] = "2024-05-01T10:01:05Z".into();
        deploy["templateRef"] = serde_json::json!({"name": "lib", "template": "ansible"});
        deploy["hostNodeName"] = "node-1".into();
        deploy["resourcesDuration"] = serde_json::json!({"cpu": 3, "memory": 65});
        deploy["outputs"] = serde_json::json!({"artifacts": [{"name": "log"}, {"name": "report"}]});
        nodes.insert(k, deploy);
        let (k, mut g1) = node(
            &id("w[1]"),
            "w[1]",
            "[1]",
            "StepGroup",
            "Running",
            "2024-05-01T10:01:10Z",
        );
        g1["children"] = serde_json::json!([id("w[1].approve"), id("w[1].skip")]);
        nodes.insert(k, g1);
        let (k, mut approve) = node(
            &id("w[1].approve"),
            "w[1].approve",
            "approve",
            "Suspend",
            "Running",
            "2024-05-01T10:01:10Z",
        );
        approve["templateName"] = "approve".into();
        nodes.insert(k, approve);
        let (k, skip) = node(
            &id("w[1].skip"),
            "w[1].skip",
            "skip",
            "Skipped",
            "Omitted",
            "2024-05-01T10:01:10Z",
        );
        nodes.insert(k, skip);
        // The exit handler: a root of its own.
        let (k, mut exit) = node(
            &id("w.onExit"),
            "w.onExit",
            "w.onExit",
            "Pod",
            "Pending",
            "2024-05-01T10:02:00Z",
        );
        exit.as_object_mut().unwrap().remove("boundaryID");
        exit["templateName"] = "notify".into();
        exit["message"] = "ContainerCreating".into();
        nodes.insert(k, exit);
        serde_json::json!({
            "metadata": {"name": "w", "namespace": "ns", "creationTimestamp": "2024-05-01T10:00:00Z"},
            "spec": {"serviceAccountName": "deployer", "arguments": {"parameters": [{"name": "n", "value": 3}]}},
            "status": {
                "phase": "Running", "startedAt": "2024-05-01T10:00:00Z", "progress": "1/2",
                "message": "waiting", "estimatedDuration": 90,
                "conditions": [{"type": "PodRunning", "status": "False"}, {"type": "SpecWarning", "status": "True", "message": "deprecated"}],
                "resourcesDuration": {"cpu": 3, "memory": 65},
                "nodes": nodes,
            },
        })
    }

    /// - filterNode: both StepGroups hidden with childIndent; `[0]` has one child: `──` on the
    ///   group's own prefix; `[1]`'s first child `┬─`; the Omitted Skipped node is hidden.
    /// - printNode: an active Suspend node (Running) gets `ǁ`, no pod, no duration; a
    ///   templateRef shows `name/template` and names the pod by its template.
    /// - PrintWorkflowHelper: the onExit node (ID `NodeID("w.onExit")`) after a row of empty
    ///   cells; in wide mode that row has fewer cells, so it ends the MESSAGE and
    ///   RESOURCESDURATION column blocks (Go's tabwriter), which are sized apart below it.
    #[test]
    fn step_groups_suspend_omitted_template_ref_and_on_exit() {
        let wf = synthetic();
        let now = "2024-05-01T10:03:00Z";
        let got = tree(&wf, &opts(now)).unwrap();
        let rows: Vec<&str> = got.lines().map(str::trim_end).collect();
        assert_eq!(
            rows,
            [
                "STEP            TEMPLATE     PODNAME               DURATION  MESSAGE",
                " ● w            main",
                " ├───✔ deploy   lib/ansible  w-ansible-1135341441  1m",
                " └─┬─ǁ approve  approve",
                "",
                " ◷ w.onExit     notify       w-notify-3635586449   1m        ContainerCreating",
            ]
        );
        let wide = tree(
            &wf,
            &Options {
                wide: true,
                ..opts(now)
            },
        )
        .unwrap();
        let rows: Vec<&str> = wide.lines().collect();
        assert_eq!(
            rows[0],
            "STEP            TEMPLATE     PODNAME               DURATION  ARTIFACTS   MESSAGE  RESOURCESDURATION               NODENAME"
        );
        assert_eq!(
            rows[2],
            " ├───✔ deploy   lib/ansible  w-ansible-1135341441  1m        log,report           3s*(1 cpu),1m5s*(100Mi memory)  node-1"
        );
        assert_eq!(
            rows[5],
            " ◷ w.onExit     notify       w-notify-3635586449   1m                    ContainerCreating    "
        );
        assert_eq!(
            header(&wf, &opts(now)),
            lines(&[
                "Name:                w",
                "Namespace:           ns",
                "ServiceAccount:      deployer",
                "Status:              Running (Suspended)",
                "Message:             waiting",
                "Conditions:          ",
                " PodRunning          False",
                "⚠ SpecWarning        deprecated",
                "Created:             Wed May 01 10:00:00 +0000 (3 minutes ago)",
                "Started:             Wed May 01 10:00:00 +0000 (3 minutes ago)",
                "Duration:            3 minutes 0 seconds",
                "EstimatedDuration:   1 minute 30 seconds",
                "Progress:            1/2",
                "ResourcesDuration:   3s*(1 cpu),1m5s*(100Mi memory)",
                "Parameters:          ",
                "  n:                 3",
            ])
        );
    }
}
