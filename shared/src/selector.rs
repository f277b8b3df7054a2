//! Workload label selectors, whole: `matchLabels` and `matchExpressions` together, as the API
//! server and controllers read them (apimachinery pkg/apis/meta/v1/helpers.go
//! `LabelSelectorAsSelector`), through kube's `Selector`. A selector built from `matchLabels`
//! alone turns a `matchExpressions`-only selector into "everything in the namespace".

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt};

/// The selector of a workload (Deployment, StatefulSet, ReplicaSet, PodDisruptionBudget...).
/// `None` when it selects nothing the suite may act on: no requirements at all (a workload's
/// empty selector is refused by the API; treating it as "everything" would touch unrelated
/// pods) or an operator the API does not know.
pub fn of(selector: &LabelSelector) -> Option<Selector> {
    let parsed = Selector::try_from(selector.clone()).ok()?;
    (!parsed.selects_all()).then_some(parsed)
}

/// The selector as a `labelSelector` query value (`a=b,tier in (x,y)`); `None` as for [`of`].
pub fn to_query(selector: &LabelSelector) -> Option<String> {
    of(selector).map(|s| s.to_string())
}

/// Whether `labels` match the whole selector; an empty or invalid selector matches nothing.
pub fn matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    of(selector).is_some_and(|s| s.matches(labels))
}

/// Whether a PodDisruptionBudget's selector takes in a pod with `labels`. Unlike a workload's,
/// a policy/v1 budget's empty selector (`{}`) selects every pod in its namespace, and a missing
/// one selects none (pkg/controller/disruption/disruption.go reads it with
/// `metav1.LabelSelectorAsSelector`, which gives `labels.Everything()` for an empty selector;
/// pkg/apis/policy/types.go documents the policy/v1 rule).
pub fn budget_matches(selector: Option<&LabelSelector>, labels: &BTreeMap<String, String>) -> bool {
    match selector {
        None => false,
        Some(s) => match Selector::try_from(s.clone()) {
            Ok(parsed) => parsed.matches(labels),
            Err(_) => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expressions_only() -> LabelSelector {
        LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "app".into(),
                    operator: "In".into(),
                    values: Some(vec!["web".into(), "api".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        }
    }

    #[test]
    fn match_expressions_alone_select_only_their_pods() {
        let sel = expressions_only();
        assert!(matches(&sel, &labels(&[("app", "web")])));
        assert!(!matches(&sel, &labels(&[("app", "db")])));
        assert!(!matches(&sel, &labels(&[("app", "web"), ("canary", "1")])));
        assert!(!matches(&sel, &labels(&[])));
        let query = to_query(&sel).expect("a selector");
        assert!(query.contains("app in (api,web)"), "{query}");
        assert!(query.contains("!canary"), "{query}");
    }

    #[test]
    fn labels_and_expressions_both_apply() {
        let mut sel = expressions_only();
        sel.match_labels = Some(labels(&[("tier", "front")]));
        assert!(matches(&sel, &labels(&[("app", "api"), ("tier", "front")])));
        assert!(!matches(&sel, &labels(&[("app", "api"), ("tier", "back")])));
        assert!(to_query(&sel).unwrap().starts_with("tier=front,"));
    }

    #[test]
    fn empty_or_invalid_selectors_select_nothing() {
        assert_eq!(to_query(&LabelSelector::default()), None);
        assert!(!matches(&LabelSelector::default(), &labels(&[("a", "b")])));
        let bad = LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "a".into(),
                operator: "Near".into(),
                values: None,
            }]),
        };
        assert_eq!(to_query(&bad), None);
    }

    #[test]
    fn a_budget_with_an_empty_selector_covers_the_whole_namespace() {
        let any = labels(&[("app", "anything")]);
        assert!(budget_matches(Some(&LabelSelector::default()), &any));
        assert!(budget_matches(
            Some(&LabelSelector::default()),
            &labels(&[])
        ));
        assert!(!budget_matches(None, &any));
        assert!(budget_matches(
            Some(&expressions_only()),
            &labels(&[("app", "web")])
        ));
        assert!(!budget_matches(Some(&expressions_only()), &any));
    }
}
