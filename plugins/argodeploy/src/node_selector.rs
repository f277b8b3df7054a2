//! Argo's node field selectors (`argo retry|resume --node-field-selector`): k8s
//! `fields.ParseSelector` terms (k8s.io/apimachinery/pkg/fields/selector.go) matched against the
//! fields argo's `SelectorMatchesNode` (workflow/util/util.go) gives a node.

use serde_json::Value;

/// `--node-field-selector`: k8s fields.ParseSelector's terms (`k=v`, `k==v`,
/// `k!=v`, comma-separated, `\` escaping), matched against argo's SelectorMatchesNode fields.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSelector {
    pub text: String,
    terms: Vec<(String, bool, String)>,
}

impl NodeSelector {
    pub fn parse(text: &str) -> Result<NodeSelector, String> {
        let mut terms = Vec::new();
        for part in split_unescaped(text, ',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (key, equal, value) = if let Some(i) = find_unescaped(part, "!=") {
                (&part[..i], false, &part[i + 2..])
            } else if let Some(i) = find_unescaped(part, "==") {
                (&part[..i], true, &part[i + 2..])
            } else if let Some(i) = find_unescaped(part, "=") {
                (&part[..i], true, &part[i + 1..])
            } else {
                return Err(format!(
                    "invalid selector {text:?}: {part:?} is not FIELD=VALUE or FIELD!=VALUE"
                ));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(format!(
                    "invalid selector {text:?}: a field name is missing"
                ));
            }
            terms.push((unescape(key), equal, unescape(value.trim())));
        }
        if terms.is_empty() {
            return Err("an empty --node-field-selector selects every node: leave it out".into());
        }
        Ok(NodeSelector {
            text: text.to_string(),
            terms,
        })
    }

    /// SelectorMatchesNode: a field the node does not have reads as "".
    pub fn matches(&self, node: &Value) -> bool {
        self.terms
            .iter()
            .all(|(key, equal, value)| (node_field(node, key) == *value) == *equal)
    }
}

fn node_field(node: &Value, key: &str) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match key {
        "displayName" | "phase" | "name" | "id" => s(&node[key]),
        // GetTemplateFromNode: the templateRef's template, else the template name.
        "templateName" => {
            if node["templateRef"].is_object() {
                s(&node["templateRef"]["template"])
            } else {
                s(&node["templateName"])
            }
        }
        "templateRef.name" => s(&node["templateRef"]["name"]),
        "templateRef.template" => s(&node["templateRef"]["template"]),
        _ => key
            .strip_prefix("inputs.parameters.")
            .and_then(|k| k.strip_suffix(".value"))
            .and_then(|param| {
                node["inputs"]["parameters"]
                    .as_array()?
                    .iter()
                    .find(|p| p["name"] == param)
                    .map(|p| match &p["value"] {
                        Value::String(v) => v.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    })
            })
            .unwrap_or_default(),
    }
}

fn split_unescaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            part.push(c);
            escaped = false;
        } else if c == '\\' {
            part.push(c);
            escaped = true;
        } else if c == sep {
            parts.push(std::mem::take(&mut part));
        } else {
            part.push(c);
        }
    }
    parts.push(part);
    parts
}

fn find_unescaped(text: &str, pat: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        if c == '\\' {
            escaped = true;
            continue;
        }
        if text[i..].starts_with(pat) {
            return Some(i);
        }
    }
    None
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if !escaped && c == '\\' {
            escaped = true;
            continue;
        }
        escaped = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::NodeSelector;
    use serde_json::json;

    #[test]
    fn selectors_parse_as_kubernetes_field_selectors_and_match_argo_node_fields() {
        let node = json!({"displayName": "a,b", "phase": "Succeeded", "name": "x",
                          "templateRef": {"name": "lib", "template": "t"},
                          "inputs": {"parameters": [{"name": "env", "value": "prod"}]}});
        let sel = NodeSelector::parse(r"displayName=a\,b,phase!=Failed,name==x").unwrap();
        assert!(sel.matches(&node));
        let by_template = NodeSelector::parse("templateName=t,templateRef.name=lib").unwrap();
        assert!(by_template.matches(&node));
        let by_parameter = NodeSelector::parse("inputs.parameters.env.value=prod").unwrap();
        assert!(by_parameter.matches(&node));
        assert!(!NodeSelector::parse("phase=Failed").unwrap().matches(&node));
        // A field the node does not have reads as "".
        assert!(NodeSelector::parse("id!=x").unwrap().matches(&node));
        for bad in ["=x", "phase", " , "] {
            assert!(NodeSelector::parse(bad).is_err(), "{bad}");
        }
    }
}
