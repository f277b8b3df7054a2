//! Scenarios: the users and objects a sim starts with, from YAML fixtures in `scenarios/`
//! (built in by name) or from a file path.
//!
//! Format (one YAML document):
//! ```yaml
//! name: astronomer
//! description: one line
//! users:                      # the first user is the kubeconfig's user
//!   - name: admin
//!     token: kube-sim-admin-token
//!     rules: [{verbs: ["*"], resources: ["*"]}]
//! objects:                    # created in order; namespaces first
//!   - apiVersion: v1
//!     kind: Namespace
//!     metadata: {name: astronomer-ee}
//! ```
//! An `ownerReferences` entry without `uid` is resolved by kind and name (same namespace, or
//! cluster scope) against objects created earlier. Objects keep the status they are given.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::resources;
use crate::store::Store;

/// One RBAC-like rule: allowed when verb, API group, resource and namespace all match.
/// `"*"` matches anything; resources may name a subresource (`pods/eviction`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub verbs: Vec<String>,
    #[serde(default = "star")]
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    /// Namespaces the rule applies to; `"*"` (default) also covers cluster-scoped requests.
    #[serde(default = "star")]
    pub namespaces: Vec<String>,
}

fn star() -> Vec<String> {
    vec!["*".to_string()]
}

fn matches(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

impl Rule {
    /// `resource` is `pods` or `pods/eviction`; `namespace` is None for cluster scope.
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        let resource_ok = matches(&self.resources, resource)
            || resource
                .split_once('/')
                .is_some_and(|(_, sub)| self.resources.iter().any(|r| r == &format!("*/{sub}")));
        matches(&self.verbs, verb)
            && matches(&self.api_groups, group)
            && resource_ok
            && match namespace {
                Some(ns) => matches(&self.namespaces, ns),
                None => self.namespaces.iter().any(|n| n == "*"),
            }
    }
}

/// A user the sim accepts, identified by a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub name: String,
    pub token: String,
    #[serde(default)]
    pub groups: Vec<String>,
    pub rules: Vec<Rule>,
}

impl User {
    pub fn allows(&self, verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows(verb, group, resource, namespace))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub users: Vec<User>,
    #[serde(default)]
    pub objects: Vec<Value>,
}

/// The built-in scenarios, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("astronomer", include_str!("../scenarios/astronomer.yaml")),
    ("artsy", include_str!("../scenarios/artsy.yaml")),
    ("aura", include_str!("../scenarios/aura.yaml")),
    ("atmosphere", include_str!("../scenarios/atmosphere.yaml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(
        "unknown scenario {0:?}: use one of astronomer, artsy, aura, atmosphere, or a path to a .yaml file"
    )]
    Unknown(String),
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("scenario {name} is not valid: {message}")]
    Invalid { name: String, message: String },
    #[error("scenario {name}: cannot create {kind} {object}: {source}")]
    Create {
        name: String,
        kind: String,
        object: String,
        source: Box<ApiError>,
    },
}

impl Scenario {
    pub fn from_yaml(name: &str, text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario =
            serde_yaml::from_str(text).map_err(|e| ScenarioError::Invalid {
                name: name.to_string(),
                message: e.to_string(),
            })?;
        if scenario.users.is_empty() {
            return Err(ScenarioError::Invalid {
                name: name.to_string(),
                message: "it defines no users".into(),
            });
        }
        Ok(scenario)
    }

    /// A built-in scenario by name, or a YAML file by path.
    pub fn load(name_or_path: &str) -> Result<Self, ScenarioError> {
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::from_yaml(name, text);
        }
        if let Some(spec) = name_or_path.strip_prefix("large:") {
            let spec = crate::generate::LargeSpec::parse(spec).map_err(|message| {
                ScenarioError::Invalid {
                    name: name_or_path.to_string(),
                    message,
                }
            })?;
            return Ok(crate::generate::large(&spec));
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
                path: name_or_path.to_string(),
                source,
            })?;
            return Self::from_yaml(name_or_path, &text);
        }
        Err(ScenarioError::Unknown(name_or_path.to_string()))
    }

    /// The user written into the kubeconfig.
    pub fn default_user(&self) -> &User {
        &self.users[0]
    }

    /// Creates every object in the store, in order, resolving owner references by name.
    pub fn apply(&self, store: &Store) -> Result<(), ScenarioError> {
        for obj in &self.objects {
            let api_version = obj["apiVersion"].as_str().unwrap_or("");
            let kind = obj["kind"].as_str().unwrap_or("");
            let object = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            let invalid = |message: String| ScenarioError::Invalid {
                name: self.name.clone(),
                message,
            };
            let rt = resources::by_kind(api_version, kind).ok_or_else(|| {
                invalid(format!(
                    "{object}: kind {kind} in {api_version} is not served"
                ))
            })?;
            let ns = obj["metadata"]["namespace"].as_str().map(String::from);
            let mut obj = obj.clone();
            if let Some(refs) = obj["metadata"]["ownerReferences"].as_array_mut() {
                for r in refs.iter_mut() {
                    if r["uid"].as_str().is_some_and(|u| !u.is_empty()) {
                        continue;
                    }
                    let owner_rt = resources::by_kind(
                        r["apiVersion"].as_str().unwrap_or(""),
                        r["kind"].as_str().unwrap_or(""),
                    )
                    .ok_or_else(|| {
                        invalid(format!("{object}: owner kind {} is not served", r["kind"]))
                    })?;
                    let owner_ns = if owner_rt.namespaced {
                        ns.as_deref()
                    } else {
                        None
                    };
                    let owner = store
                        .get(owner_rt, owner_ns, r["name"].as_str().unwrap_or(""))
                        .map_err(|_| {
                            invalid(format!(
                                "{object}: owner {} {} must come before it",
                                r["kind"], r["name"]
                            ))
                        })?;
                    r["uid"] = owner["metadata"]["uid"].clone();
                    if r.get("controller").is_none() {
                        r["controller"] = json!(true);
                    }
                    if r.get("blockOwnerDeletion").is_none() {
                        r["blockOwnerDeletion"] = json!(true);
                    }
                }
            }
            store
                .create(rt, ns.as_deref(), obj)
                .map_err(|e| ScenarioError::Create {
                    name: self.name.clone(),
                    kind: kind.to_string(),
                    object,
                    source: Box::new(e),
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_verbs_resources_and_namespaces() {
        let viewer = Rule {
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            api_groups: star(),
            resources: star(),
            namespaces: star(),
        };
        assert!(viewer.allows("list", "", "pods", None));
        assert!(!viewer.allows("delete", "", "pods", Some("default")));
        let evictor = Rule {
            verbs: vec!["create".into()],
            api_groups: vec!["".into()],
            resources: vec!["pods/eviction".into()],
            namespaces: vec!["team-a".into()],
        };
        assert!(evictor.allows("create", "", "pods/eviction", Some("team-a")));
        assert!(!evictor.allows("create", "", "pods/eviction", Some("team-b")));
        assert!(!evictor.allows("create", "", "pods/eviction", None));
    }

    #[test]
    fn every_builtin_scenario_loads_into_a_store() {
        for (name, _) in BUILTIN {
            let scenario = Scenario::load(name).unwrap();
            let store = Store::new(std::sync::Arc::new(crate::clock::Clock::new(1.0)));
            scenario
                .apply(&store)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!scenario.users.is_empty());
        }
        assert!(matches!(
            Scenario::load("nope"),
            Err(ScenarioError::Unknown(_))
        ));
    }
}
