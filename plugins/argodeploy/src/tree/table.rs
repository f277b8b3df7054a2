//! The node table of `argo get`: which row goes under which, the glyphs, each row's cells, and
//! the columns aligned as Go's `text/tabwriter` with argo's `NewWriter(w, 0, 0, 2, ' ', 0)`.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde_json::{Map, Value};

use super::{Options, present, text, time, wf_name};
use crate::humanize::{go_zero_time, relative_duration_short, resources_duration};
use crate::node_status;
use crate::pod_name::{PodNameVersion, node_id, pod_name, pod_name_version};

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
        let message = text(node, "message").to_string();
        let mut cells = vec![name];
        if self.opts.wide || self.opts.template {
            cells.push(template_column);
        }
        cells.extend([pod, duration]);
        if self.opts.wide {
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
            cells.extend([
                artifacts,
                message,
                resources_duration(&node["resourcesDuration"]),
                host.to_string(),
            ]);
        } else {
            // argo ends the row with a tab: MESSAGE is a padded cell too.
            cells.extend([message, String::new()]);
        }
        self.out.push_str(&cells.join("\t"));
        self.out.push('\n');
    }
}

/// `JobStatusIconMap` (UTF-8, or the `--no-utf8` words); a phase it lacks (Omitted, none) has
/// no icon.
fn phase_icon(phase: &str, utf8: bool) -> &'static str {
    const ICONS: &[(&str, &str)] = &[
        ("Pending", "◷"),
        ("Running", "●"),
        ("Succeeded", "✔"),
        ("Skipped", "○"),
        ("Failed", "✖"),
        ("Error", "⚠"),
    ];
    ICONS
        .iter()
        .find(|(word, _)| *word == phase)
        .map_or("", |&(word, icon)| if utf8 { icon } else { word })
}

/// The node table of `argo get` (`STEP  TEMPLATE  PODNAME  DURATION  MESSAGE`, wide adds
/// ARTIFACTS, RESOURCESDURATION, NODENAME): the entrypoint's tree, then the onExit handler's
/// after a blank row. Empty when the workflow has no root node yet (argo prints no table).
pub fn table(wf: &Value, opts: &Options) -> Result<String, String> {
    let nodes = node_status::decode(wf)?;
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
    } else if opts.template {
        "STEP\tTEMPLATE\tPODNAME\tDURATION\tMESSAGE\n"
    } else {
        "STEP\tPODNAME\tDURATION\tMESSAGE\n"
    });
    renderer.render_nodes(workflow, " ", " ");
    let on_exit = node_id(workflow, &format!("{workflow}.onExit"));
    if forest.roots.contains(on_exit.as_str()) {
        // argo's empty row; one cell fewer without the TEMPLATE column.
        renderer.out.push_str(if opts.wide || opts.template {
            "\t\t\t\t\t\n"
        } else {
            "\t\t\t\t\n"
        });
        renderer.render_nodes(&on_exit, " ", " ");
    }
    Ok(align(&renderer.out))
}

/// Aligns tab-separated rows as argo's `tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)` + `Flush`:
/// every tab-terminated cell is padded to the widest cell of its column block plus two, a
/// line's last cell is not, and a one-cell line ends the blocks. The one difference from Go:
/// widths are display columns (unicode-width) where Go counts runes, so a row holding East
/// Asian wide or zero-width characters is aligned for the terminal rather than as argo does.
/// ANSI escapes count as text, as in Go.
fn align(rows: &str) -> String {
    let mut writer = tabwriter::TabWriter::new(Vec::new())
        .minwidth(0)
        .padding(2)
        .ansi(false);
    // Writing into a Vec<u8> cannot fail, nor can the flush of into_inner.
    if writer.write_all(rows.as_bytes()).is_err() {
        return rows.to_string();
    }
    match writer.into_inner() {
        Ok(bytes) => String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(_) => rows.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::align;

    #[test]
    fn columns_pad_terminated_cells_only_and_break_blocks_like_go() {
        // The last cell of a line is not in a column; a one-cell line ends the blocks.
        assert_eq!(align("a\tbb\tc\nccc\td\t\n"), "a    bb  c\nccc  d   \n");
        assert_eq!(
            align("a\tb\nplain\nlonger\tc\n"),
            "a  b\nplain\nlonger  c\n"
        );
        // Width in characters, not bytes.
        assert_eq!(align("✔ x\ty\nab\tz\n"), "✔ x  y\nab   z\n");
    }
}
