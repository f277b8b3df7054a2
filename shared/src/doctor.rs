//! `kubectl <plugin> doctor`: the resolved target and auth method (never the secret), whether
//! the server answers and which version, and a SelfSubjectAccessReview for every permission the
//! plugin needs.

use clap::Args;
use futures::future::join_all;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use owo_colors::{OwoColorize, Stream};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::flags::GlobalArgs;
use crate::kubeconfig::{self, NamespaceSource};
use crate::output::{self, PlanFormat, Table};

#[derive(Args, Debug, Clone)]
pub struct DoctorArgs {
    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = PlanFormat::Table)]
    pub output: PlanFormat,
}

/// `doctor`'s examples, named for the plugin `name` (`kubectl airflow`).
pub fn doctor_help(cmd: clap::Command, name: &str) -> clap::Command {
    cmd.after_help(format!(
        "Examples:\n  \
# check the current context: connection, credentials, every permission\n  \
{name} doctor\n\n  \
# check another context and namespace before a change there\n  \
{name} doctor --context prod -n airflow\n\n  \
# the permissions as JSON, for a ticket to the cluster's admins\n  \
{name} doctor -o json"
    ))
}

/// Where a permission applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In the command's namespace.
    Namespace,
    /// In every namespace (`-A` listings).
    AllNamespaces,
    /// A cluster-scoped resource.
    Cluster,
}

/// One permission a plugin needs, and what for.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    pub scope: Scope,
    pub needed_for: &'static str,
    /// Without it the commands still work, with something missing (a column, a check):
    /// `doctor` reports it denied without failing.
    pub optional: bool,
}

impl Permission {
    pub const fn new(
        verb: &'static str,
        group: &'static str,
        resource: &'static str,
        scope: Scope,
        needed_for: &'static str,
    ) -> Self {
        Permission {
            verb,
            group,
            resource,
            subresource: "",
            scope,
            needed_for,
            optional: false,
        }
    }

    /// Marks the permission optional (see [`Permission::optional`]).
    pub const fn optional(self) -> Self {
        Permission {
            optional: true,
            ..self
        }
    }

    pub const fn sub(self, subresource: &'static str) -> Self {
        Permission {
            subresource,
            ..self
        }
    }

    fn resource_label(&self) -> String {
        let base = if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        };
        if self.subresource.is_empty() {
            base
        } else {
            format!("{base}/{}", self.subresource)
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PermissionCheck {
    verb: String,
    resource: String,
    namespace: String,
    allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    needed_for: String,
    /// Denied, it costs a feature, not a command.
    optional: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    context: String,
    cluster: String,
    server: String,
    user: String,
    namespace: String,
    auth: String,
    kubeconfig: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    impersonate: Option<String>,
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    permissions: Vec<PermissionCheck>,
}

async fn check(
    api: &Api<SelfSubjectAccessReview>,
    p: &Permission,
    namespace: &str,
) -> std::result::Result<(bool, Option<String>), kube::Error> {
    let ns = match p.scope {
        Scope::Namespace => Some(namespace.to_string()),
        Scope::AllNamespaces | Scope::Cluster => None,
    };
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(p.verb.to_string()),
                group: Some(p.group.to_string()),
                resource: Some(p.resource.to_string()),
                subresource: (!p.subresource.is_empty()).then(|| p.subresource.to_string()),
                namespace: ns,
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = api.create(&PostParams::default(), &review).await?;
    let status = answer.status.unwrap_or_default();
    let reason = status
        .reason
        .filter(|r| !r.is_empty())
        .or(status.evaluation_error.filter(|e| !e.is_empty()));
    Ok((status.allowed, reason))
}

/// Test hook: when set to a file path, every preflight appends the permissions it asks for
/// there, one JSON object a line (`verb`, `apiGroup`, `resource` with its subresource,
/// `namespace`, "" when not namespaced), so a test can grant a user exactly those.
pub const PERMISSIONS_LOG: &str = "KUBECTL_SUITE_PERMISSIONS_LOG";

pub(crate) fn log_needs(namespace: &str, needs: &[Permission]) {
    use std::io::Write;
    let Some(path) = std::env::var_os(PERMISSIONS_LOG) else {
        return;
    };
    let mut text = String::new();
    for p in needs {
        let resource = if p.subresource.is_empty() {
            p.resource.to_string()
        } else {
            format!("{}/{}", p.resource, p.subresource)
        };
        let namespace = match p.scope {
            Scope::Namespace => namespace,
            Scope::AllNamespaces | Scope::Cluster => "",
        };
        let line = serde_json::json!({"verb": p.verb, "apiGroup": p.group, "resource": resource, "namespace": namespace});
        text.push_str(&format!("{line}\n"));
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        tracing::debug!("{PERMISSIONS_LOG}: {e}");
    }
}

/// Before the first change: asks the API server (SelfSubjectAccessReviews, in parallel)
/// whether every permission the plan needs is granted, and refuses with the missing ones
/// named, so a 403 never strikes halfway through. Best effort: when the server cannot answer
/// the reviews, the change goes ahead and the server itself will refuse what is not allowed.
/// In a dry run the missing permissions are a warning: the plan is still worth reading.
/// The caller writes the test log ([`log_needs`]) first: `preflight_namespaces` logs its
/// whole list once, before it checks namespace by namespace.
pub(crate) async fn preflight(
    target: &kubeconfig::Target,
    namespace: &str,
    needs: &[Permission],
    doctor: &str,
    dry_run: bool,
) -> Result<()> {
    let api: Api<SelfSubjectAccessReview> = Api::all(target.client.clone());
    let answers = join_all(needs.iter().map(|p| check(&api, p, namespace))).await;
    let mut missing = Vec::new();
    for (p, answer) in needs.iter().zip(answers) {
        match answer {
            Ok((true, _)) => {}
            Ok((false, _)) => missing.push(p),
            Err(e) => {
                tracing::debug!("RBAC preflight skipped: the access review failed: {e}");
                return Ok(());
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let whom = match target.impersonate.as_deref() {
        Some(as_user) => format!("user {as_user:?} (--as)"),
        None => format!(
            "the credentials of context {:?} (user {:?})",
            target.context, target.user
        ),
    };
    let described: Vec<String> = missing
        .iter()
        .map(|p| {
            let place = match p.scope {
                Scope::Namespace => format!(" in namespace {namespace:?}"),
                Scope::AllNamespaces | Scope::Cluster => String::new(),
            };
            format!(
                "{} {}{place} ({})",
                p.verb,
                p.resource_label(),
                p.needed_for
            )
        })
        .collect();
    if dry_run {
        eprintln!(
            "warning: {whom} may not {}: without these permissions the change would be refused (`{doctor}` lists them all)",
            described.join(", ")
        );
        return Ok(());
    }
    Err(Error::Api {
        message: format!(
            "forbidden: {whom} may not {}; nothing was changed; ask for these permissions (`{doctor}` lists them all)",
            described.join(", ")
        ),
        detail: None,
        status: Some(403),
    })
}

/// The preflight for writes spread over many namespaces (`""` holds the cluster-scoped ones):
/// each namespaced permission is first asked for all namespaces at once, and only where that
/// is refused, namespace by namespace — a handful of reviews for an admin, however many
/// namespaces a node's pods live in.
pub async fn preflight_namespaces(
    target: &kubeconfig::Target,
    needs: &std::collections::BTreeMap<String, Vec<Permission>>,
    doctor: &str,
    dry_run: bool,
) -> Result<()> {
    for (namespace, list) in needs {
        log_needs(namespace, list);
    }
    let api: Api<SelfSubjectAccessReview> = Api::all(target.client.clone());
    let mut distinct: Vec<Permission> = needs
        .values()
        .flatten()
        .filter(|p| p.scope == Scope::Namespace)
        .copied()
        .collect();
    distinct.sort_by_key(|p| (p.verb, p.group, p.resource, p.subresource));
    distinct.dedup_by_key(|p| (p.verb, p.group, p.resource, p.subresource));
    let everywhere: Vec<Permission> = distinct
        .iter()
        .map(|p| Permission {
            scope: Scope::AllNamespaces,
            ..*p
        })
        .collect();
    let everywhere = join_all(everywhere.iter().map(|p| check(&api, p, ""))).await;
    let granted_everywhere: Vec<&Permission> = distinct
        .iter()
        .zip(&everywhere)
        .filter(|(_, answer)| matches!(answer, Ok((true, _))))
        .map(|(p, _)| p)
        .collect();
    let key = |p: &Permission| (p.verb, p.group, p.resource, p.subresource);
    for (namespace, list) in needs {
        let left: Vec<Permission> = list
            .iter()
            .filter(|p| {
                p.scope != Scope::Namespace || !granted_everywhere.iter().any(|g| key(g) == key(p))
            })
            .copied()
            .collect();
        if !left.is_empty() {
            preflight(target, namespace, &left, doctor, dry_run).await?;
        }
    }
    Ok(())
}

/// Runs the checks and prints the report; Err (exit 1) when anything is wrong.
pub async fn run(global: &GlobalArgs, args: &DoctorArgs, permissions: &[Permission]) -> Result<()> {
    let target = kubeconfig::connect(global).await?;
    let namespace_note = match target.namespace_source {
        NamespaceSource::Flag => "from -n",
        NamespaceSource::Context => "from the context",
        NamespaceSource::Default => "default",
    };
    let mut report = Report {
        context: target.context.clone(),
        cluster: target.cluster.clone(),
        server: target.server.clone(),
        user: target.user.clone(),
        namespace: target.namespace.clone(),
        auth: target.auth.to_string(),
        kubeconfig: target.source.to_string(),
        impersonate: target.impersonate.clone(),
        reachable: false,
        server_version: None,
        error: None,
        permissions: Vec::new(),
    };
    match target.client.apiserver_version().await {
        Ok(info) => {
            report.reachable = true;
            report.server_version = Some(info.git_version);
        }
        Err(e) => report.error = Some(target.api_error(e).to_string()),
    }
    if report.reachable {
        let api: Api<SelfSubjectAccessReview> = Api::all(target.client.clone());
        let results = join_all(
            permissions
                .iter()
                .map(|p| check(&api, p, &target.namespace)),
        )
        .await;
        for (p, result) in permissions.iter().zip(results) {
            let (allowed, reason) = match result {
                Ok(r) => r,
                Err(e) => (false, Some(target.api_error(e).to_string())),
            };
            report.permissions.push(PermissionCheck {
                verb: p.verb.to_string(),
                resource: p.resource_label(),
                namespace: match p.scope {
                    Scope::Namespace => target.namespace.clone(),
                    Scope::AllNamespaces => "*".to_string(),
                    Scope::Cluster => String::new(),
                },
                allowed,
                reason,
                needed_for: p.needed_for.to_string(),
                optional: p.optional,
            });
        }
    }
    let denied = report
        .permissions
        .iter()
        .filter(|p| !p.allowed && !p.optional)
        .count();

    match args.output {
        PlanFormat::Json => output::print_stdout(&output::to_json(&report)?),
        PlanFormat::Yaml => output::print_stdout(&output::to_yaml(&report)?),
        PlanFormat::Table => output::print_stdout(&render_text(&report, namespace_note)),
    }

    if let Some(error) = report.error {
        return Err(Error::Failed(error));
    }
    if denied > 0 {
        return Err(Error::Failed(format!(
            "{denied} of {} permissions are denied for user {:?}: the commands that need them will fail; ask for them or use another context",
            report.permissions.len(),
            report.user
        )));
    }
    if let Some(note) = optional_denied_note(&report.permissions) {
        eprintln!("{note}");
    }
    Ok(())
}

/// The one line said when only optional permissions are denied (pure): what goes missing.
fn optional_denied_note(permissions: &[PermissionCheck]) -> Option<String> {
    let missing: Vec<&str> = permissions
        .iter()
        .filter(|p| !p.allowed && p.optional)
        .map(|p| p.needed_for.as_str())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "every required permission is granted; {} optional {} denied, so the commands work without: {}",
            missing.len(),
            if missing.len() == 1 { "one is" } else { "ones are" },
            missing.join("; ")
        )
    })
}

fn render_text(report: &Report, namespace_note: &str) -> String {
    let mut out = String::new();
    let mut facts = vec![
        ("Context", report.context.clone()),
        ("Cluster", report.cluster.clone()),
        ("Server", report.server.clone()),
        ("User", report.user.clone()),
        (
            "Namespace",
            format!("{} ({namespace_note})", report.namespace),
        ),
        ("Auth", report.auth.clone()),
        ("Kubeconfig", report.kubeconfig.clone()),
    ];
    if let Some(user) = &report.impersonate {
        facts.push(("As", user.clone()));
    }
    facts.push((
        "Reachable",
        match (&report.server_version, &report.error) {
            (Some(v), _) => format!("yes, Kubernetes {v}"),
            (None, Some(e)) => format!("no: {e}"),
            (None, None) => "no".to_string(),
        },
    ));
    for (k, v) in facts {
        out.push_str(&format!("{k:<11} {v}\n"));
    }
    if report.permissions.is_empty() {
        return out;
    }
    out.push('\n');
    let mut table = Table::new(&["verb", "resource", "namespace", "allowed", "needed for"]);
    for p in &report.permissions {
        let allowed = if p.allowed {
            "yes"
                .if_supports_color(Stream::Stdout, |t| t.green().to_string())
                .to_string()
        } else if p.optional {
            "no (optional)"
                .if_supports_color(Stream::Stdout, |t| t.yellow().to_string())
                .to_string()
        } else {
            "no".if_supports_color(Stream::Stdout, |t| t.red().bold().to_string())
                .to_string()
        };
        let ns = if p.namespace.is_empty() {
            "(cluster)".to_string()
        } else {
            p.namespace.clone()
        };
        table.row([
            p.verb.clone(),
            p.resource.clone(),
            ns,
            allowed,
            p.needed_for.clone(),
        ]);
    }
    out.push_str(&table.render());
    out
}
