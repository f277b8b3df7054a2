//! API errors as real `Status` objects.

use serde_json::{Value, json};

use crate::resources::ResourceType;

/// An error the API answers with: HTTP code, `Status.reason`, message and details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `Status.details` (name, group, kind, causes, retryAfterSeconds) when relevant.
    pub details: Option<Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

fn details(rt: &ResourceType, name: &str) -> Value {
    let mut d = json!({ "name": name, "kind": rt.plural });
    if !rt.group.is_empty() {
        d["group"] = json!(rt.group);
    }
    d
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// `pods "x" not found`
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{}\" not found", rt.qualified_plural(), name),
            details: Some(details(rt, name)),
        }
    }

    /// A URL that names no resource: `the server could not find the requested resource`.
    pub fn no_route() -> Self {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "AlreadyExists",
            message: format!("{} \"{}\" already exists", rt.qualified_plural(), name),
            details: Some(details(rt, name)),
        }
    }

    /// A stale resourceVersion on update.
    pub fn conflict(rt: &ResourceType, name: &str) -> Self {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.qualified_plural(),
                name
            ),
            details: Some(details(rt, name)),
        }
    }

    /// A failed precondition (uid or resourceVersion) on delete.
    pub fn precondition_failed(rt: &ResourceType, name: &str, message: String) -> Self {
        ApiError {
            code: 409,
            reason: "Conflict",
            message: format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                rt.qualified_plural(),
                name,
                message
            ),
            details: Some(details(rt, name)),
        }
    }

    /// 422: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: ...`
    pub fn invalid(rt: &ResourceType, name: &str, message: impl Into<String>) -> Self {
        let kind = if rt.group.is_empty() {
            rt.kind.to_string()
        } else {
            format!("{}.{}", rt.kind, rt.group)
        };
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{} \"{}\" is invalid: {}", kind, name, message.into()),
            details: Some(details(rt, name)),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    pub fn method_not_allowed() -> Self {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// `pods is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace "default"`
    pub fn forbidden(
        user: &str,
        verb: &str,
        rt: &ResourceType,
        subresource: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Self {
        let resource = match subresource {
            Some(sub) => format!("{}/{}", rt.plural, sub),
            None => rt.plural.to_string(),
        };
        let target = match name {
            Some(n) => format!("{} \"{}\"", rt.qualified_plural(), n),
            None => rt.qualified_plural(),
        };
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        };
        ApiError {
            code: 403,
            reason: "Forbidden",
            message: format!(
                "{target} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\"{scope}",
                rt.group
            ),
            details: Some(details(rt, name.unwrap_or(""))),
        }
    }

    /// 429 from the Eviction subresource when a PDB allows no disruption.
    pub fn disruption_budget(pdb: &str, message: &str) -> Self {
        ApiError {
            code: 429,
            reason: "TooManyRequests",
            message: "Cannot evict pod as it would violate the pod's disruption budget."
                .to_string(),
            details: Some(json!({
                "causes": [{ "reason": "DisruptionBudget", "message": format!("The disruption budget {pdb} {message}") }]
            })),
        }
    }

    /// A transient error injected by the fault layer, or a throttle.
    pub fn too_many_requests(retry_after_seconds: u64) -> Self {
        ApiError {
            code: 429,
            reason: "TooManyRequests",
            message:
                "the server has received too many requests and has asked us to try again later"
                    .to_string(),
            details: Some(json!({ "retryAfterSeconds": retry_after_seconds })),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    pub fn service_unavailable() -> Self {
        ApiError::new(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        )
    }

    /// 410 Gone for a watch from a compacted resourceVersion.
    pub fn gone(rv: u64) -> Self {
        ApiError::new(410, "Expired", format!("too old resource version: {rv}"))
    }

    /// The `Status` object sent as the response body (or in a watch ERROR event).
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, PODS};

    #[test]
    fn messages_match_the_real_server() {
        assert_eq!(
            ApiError::not_found(&PODS, "web-1").message,
            "pods \"web-1\" not found"
        );
        assert_eq!(
            ApiError::not_found(&DEPLOYMENTS, "web").message,
            "deployments.apps \"web\" not found"
        );
        let f = ApiError::forbidden(
            "viewer",
            "delete",
            &PODS,
            None,
            Some("default"),
            Some("web-1"),
        );
        assert_eq!(
            f.message,
            "pods \"web-1\" is forbidden: User \"viewer\" cannot delete resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!(f.to_status()["code"], 403);
    }
}
