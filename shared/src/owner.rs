//! Which object controls another, as kubectl's `metav1.GetControllerOf` decides it
//! (apimachinery pkg/apis/meta/v1/controller_ref.go): only the ownerReference with
//! `controller: true` counts. Any other reference (a plain owner, e.g. one the garbage
//! collector uses) does not make anything recreate the object.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// The controlling owner of an object, if it has one.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
}

/// The controller's `(kind, name)`, if there is one.
pub fn controller_kind_name(meta: &ObjectMeta) -> Option<(&str, &str)> {
    controller_of(meta).map(|o| (o.kind.as_str(), o.name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(kind: &str, name: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            controller,
            block_owner_deletion: None,
        }
    }

    #[test]
    fn only_the_reference_marked_controller_counts() {
        let mut meta = ObjectMeta {
            owner_references: Some(vec![
                reference("ConfigMap", "keeper", None),
                reference("ReplicaSet", "web-1", Some(true)),
            ]),
            ..Default::default()
        };
        assert_eq!(controller_kind_name(&meta), Some(("ReplicaSet", "web-1")));
        meta.owner_references = Some(vec![
            reference("ReplicaSet", "web-1", None),
            reference("ReplicaSet", "web-2", Some(false)),
        ]);
        assert_eq!(
            controller_of(&meta),
            None,
            "no controller: nothing recreates it"
        );
        meta.owner_references = None;
        assert_eq!(controller_of(&meta), None);
    }
}
