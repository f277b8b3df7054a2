//! Finding the cluster exactly as kubectl does.
//!
//! `--kubeconfig` reads that file alone; otherwise `$KUBECONFIG` (a path list, merged, the first
//! file to set a value wins, missing files skipped); otherwise `~/.kube/config`; in a pod with
//! none of these, the in-cluster service account. `--context/--cluster/--user` override the
//! context's choices. Namespace: `-n`, else the context's, else `default`.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{Error, Result};
use crate::flags::GlobalArgs;

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `--kubeconfig PATH`
    Flag(PathBuf),
    /// `$KUBECONFIG`: the files that existed, in order
    Env(Vec<PathBuf>),
    /// `~/.kube/config`
    Home(PathBuf),
    /// The pod's service account
    InCluster,
}

impl std::fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigSource::Flag(p) => write!(f, "{} (--kubeconfig)", p.display()),
            ConfigSource::Env(ps) => {
                let list: Vec<String> = ps.iter().map(|p| p.display().to_string()).collect();
                write!(f, "{} ($KUBECONFIG)", list.join(":"))
            }
            ConfigSource::Home(p) => write!(f, "{}", p.display()),
            ConfigSource::InCluster => write!(f, "in-cluster service account"),
        }
    }
}

/// How the client authenticates — named, never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    BearerToken,
    TokenFile(String),
    ClientCertificate,
    ExecPlugin(String),
    AuthProvider(String),
    BasicAuth,
    ServiceAccount,
    Anonymous,
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthMethod::BearerToken => write!(f, "bearer token"),
            AuthMethod::TokenFile(p) => write!(f, "bearer token from file {p}"),
            AuthMethod::ClientCertificate => write!(f, "client certificate"),
            AuthMethod::ExecPlugin(cmd) => write!(f, "exec plugin {cmd}"),
            AuthMethod::AuthProvider(name) => write!(f, "auth provider {name}"),
            AuthMethod::BasicAuth => write!(f, "basic auth"),
            AuthMethod::ServiceAccount => write!(f, "service account token"),
            AuthMethod::Anonymous => write!(f, "none (anonymous)"),
        }
    }
}

/// Where the namespace came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceSource {
    Flag,
    Context,
    Default,
}

/// The resolved target of a command: what kubectl would talk to, with these flags.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub source: ConfigSource,
    /// Context name ("" in-cluster).
    pub context: String,
    pub cluster: String,
    pub user: String,
    pub server: String,
    pub namespace: String,
    pub namespace_source: NamespaceSource,
    pub auth: AuthMethod,
    pub impersonate: Option<String>,
    pub config: kube::Config,
    /// The cluster-choosing flags the operator gave (`--kubeconfig`, `--context`, …), as shell
    /// words with a leading space: printed commands repeat them so they work when pasted.
    pub given_flags: String,
}

/// A connected target: the resolution plus a client with the suite's retry policy.
#[derive(Clone)]
pub struct Target {
    pub resolved: Resolved,
    pub client: kube::Client,
}

impl std::ops::Deref for Target {
    type Target = Resolved;
    fn deref(&self) -> &Resolved {
        &self.resolved
    }
}

/// Install hints for the exec credential plugins operators meet most.
fn exec_install_hint(command: &str) -> &'static str {
    match command {
        "aws" => {
            "install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)"
        }
        "aws-iam-authenticator" => {
            "install aws-iam-authenticator (https://github.com/kubernetes-sigs/aws-iam-authenticator)"
        }
        "gke-gcloud-auth-plugin" => "run `gcloud components install gke-gcloud-auth-plugin`",
        "kubelogin" => {
            "install kubelogin (`az aks install-cli` or https://azure.github.io/kubelogin/)"
        }
        "kubectl-oidc_login" | "kubectl" => {
            "install kubelogin for OIDC (`kubectl krew install oidc-login`)"
        }
        "doctl" => "install doctl (https://docs.digitalocean.com/reference/doctl/how-to/install/)",
        _ => "install it or put it on PATH",
    }
}

fn read_file(path: &Path) -> Result<Kubeconfig> {
    Kubeconfig::read_from(path).map_err(|e| {
        let first_line = crate::error::redact(&crate::error::error_chain(&e))
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        Error::Config {
            message: format!("cannot read kubeconfig {}: {first_line}", path.display()),
            detail: None,
        }
    })
}

fn home_config() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".kube").join("config"))
}

/// Loads the kubeconfig the way kubectl picks it. `None` means: use in-cluster config.
pub fn load(args: &GlobalArgs) -> Result<Option<(Kubeconfig, ConfigSource)>> {
    if let Some(path) = &args.kubeconfig {
        if !path.exists() {
            return Err(Error::config(format!(
                "kubeconfig {} (from --kubeconfig) does not exist: check the path",
                path.display()
            )));
        }
        return Ok(Some((read_file(path)?, ConfigSource::Flag(path.clone()))));
    }
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let mut merged = Kubeconfig::default();
        let mut used = Vec::new();
        for path in std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()) {
            // kubectl skips files of the list that do not exist.
            if !path.exists() {
                continue;
            }
            let next = read_file(&path)?;
            merged = merged.merge(next).map_err(|e| {
                Error::config(format!("cannot merge kubeconfig {}: {e}", path.display()))
            })?;
            used.push(path);
        }
        if used.is_empty() {
            return Err(Error::config(format!(
                "none of the files in $KUBECONFIG exist ({}): fix $KUBECONFIG or pass --kubeconfig",
                value.to_string_lossy()
            )));
        }
        return Ok(Some((merged, ConfigSource::Env(used))));
    }
    if let Some(path) = home_config().filter(|p| p.exists()) {
        return Ok(Some((read_file(&path)?, ConfigSource::Home(path))));
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && std::env::var_os("KUBERNETES_SERVICE_PORT").is_some()
    {
        return Ok(None);
    }
    Err(Error::config(
        "no kubeconfig found: pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config",
    ))
}

fn names<T>(items: &[T], name: impl Fn(&T) -> &str) -> String {
    let list: Vec<&str> = items.iter().map(name).collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

/// The entry named `wanted` in one of the kubeconfig's lists (contexts, clusters, users), or
/// the error that says `what` is missing from `source` and names the entries there are.
fn named<T, V: Clone>(
    items: &[T],
    name: impl Fn(&T) -> &str,
    value: impl Fn(&T) -> &Option<V>,
    wanted: &str,
    what: impl FnOnce() -> String,
    source: &ConfigSource,
) -> Result<V> {
    items
        .iter()
        .find(|i| name(i) == wanted)
        .and_then(|i| value(i).clone())
        .ok_or_else(|| {
            Error::config(format!(
                "{} is not in kubeconfig {source}: use one of: {}",
                what(),
                names(items, name)
            ))
        })
}

/// Resolves the target from the flags and the kubeconfig, without contacting the server.
pub async fn resolve(args: &GlobalArgs) -> Result<Resolved> {
    let Some((kubeconfig, source)) = load(args)? else {
        return resolve_in_cluster(args);
    };
    let context_name = match args
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
    {
        Some(c) if !c.is_empty() => c,
        _ => {
            return Err(Error::config(format!(
                "kubeconfig {source} has no current context: pass --context (one of: {})",
                names(&kubeconfig.contexts, |c| &c.name)
            )));
        }
    };
    let context = named(
        &kubeconfig.contexts,
        |c| &c.name,
        |c| &c.context,
        &context_name,
        || format!("context {context_name:?}"),
        &source,
    )?;
    let cluster_name = args
        .cluster
        .clone()
        .unwrap_or_else(|| context.cluster.clone());
    let cluster = named(
        &kubeconfig.clusters,
        |c| &c.name,
        |c| &c.cluster,
        &cluster_name,
        || format!("cluster {cluster_name:?} (of context {context_name:?})"),
        &source,
    )?;
    let user_name = args
        .user
        .clone()
        .or(context.user.clone())
        .unwrap_or_default();
    let auth_info = if user_name.is_empty() {
        None
    } else {
        Some(named(
            &kubeconfig.auth_infos,
            |a| &a.name,
            |a| &a.auth_info,
            &user_name,
            || format!("user {user_name:?} (of context {context_name:?})"),
            &source,
        )?)
    };
    let auth = match &auth_info {
        Some(a) => auth_method(a),
        None => AuthMethod::Anonymous,
    };
    if let Some(exec) = auth_info.as_ref().and_then(|a| a.exec.as_ref())
        && let Some(command) = &exec.command
    {
        check_exec_command(command, &user_name)?;
    }
    let options = KubeConfigOptions {
        context: Some(context_name.clone()),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| Error::Config {
            message: format!(
                "cannot use context {context_name:?} of kubeconfig {source}: {}",
                crate::error::redact(&e.to_string())
            ),
            detail: Some(crate::error::redact(&crate::error::error_chain(&e))),
        })?;
    let (namespace, namespace_source) = match (&args.namespace, &context.namespace) {
        (Some(ns), _) => (ns.clone(), NamespaceSource::Flag),
        (None, Some(ns)) if !ns.is_empty() => (ns.clone(), NamespaceSource::Context),
        _ => ("default".to_string(), NamespaceSource::Default),
    };
    apply_flags(&mut config, args, &namespace);
    Ok(Resolved {
        source,
        context: context_name,
        cluster: cluster_name,
        user: user_name,
        server: cluster.server.unwrap_or_default(),
        namespace,
        namespace_source,
        auth,
        impersonate: args.as_user.clone(),
        config,
        given_flags: given_flags(args),
    })
}

fn resolve_in_cluster(args: &GlobalArgs) -> Result<Resolved> {
    let mut config = kube::Config::incluster().map_err(|e| Error::Config {
        message: format!("cannot use the in-cluster service account: {e}"),
        detail: Some(crate::error::error_chain(&e)),
    })?;
    let (namespace, namespace_source) = match &args.namespace {
        Some(ns) => (ns.clone(), NamespaceSource::Flag),
        None => (config.default_namespace.clone(), NamespaceSource::Context),
    };
    apply_flags(&mut config, args, &namespace);
    Ok(Resolved {
        source: ConfigSource::InCluster,
        context: String::new(),
        cluster: "in-cluster".to_string(),
        user: "service account".to_string(),
        server: config.cluster_url.to_string(),
        namespace,
        namespace_source,
        auth: AuthMethod::ServiceAccount,
        impersonate: args.as_user.clone(),
        config,
        given_flags: given_flags(args),
    })
}

/// The flags that chose this target, so that a printed command reaches the same cluster as
/// the same identity when pasted (shell words, each with a leading space).
pub fn given_flags(args: &GlobalArgs) -> String {
    use crate::shell::word;
    let mut flags = String::new();
    if let Some(path) = &args.kubeconfig {
        flags += &format!(" --kubeconfig {}", word(&path.to_string_lossy()));
    }
    for (flag, value) in [
        ("--context", &args.context),
        ("--cluster", &args.cluster),
        ("--user", &args.user),
        ("--as", &args.as_user),
    ] {
        if let Some(value) = value {
            flags += &format!(" {flag} {}", word(value));
        }
    }
    for group in &args.as_group {
        flags += &format!(" --as-group {}", word(group));
    }
    flags
}

impl Resolved {
    /// `-n NAMESPACE` plus the flags the operator gave, with a leading space: what a printed
    /// command needs to act where this one did.
    pub fn scope_flags(&self) -> String {
        self.scope_flags_in(&self.namespace)
    }

    /// As `scope_flags` for another namespace (a command about an object elsewhere).
    pub fn scope_flags_in(&self, namespace: &str) -> String {
        format!(" -n {}{}", crate::shell::word(namespace), self.given_flags)
    }
}

fn apply_flags(config: &mut kube::Config, args: &GlobalArgs, namespace: &str) {
    config.default_namespace = namespace.to_string();
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !args.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(args.as_group.clone());
    }
    if let Some(timeout) = args.request_timeout.filter(|t| !t.is_zero()) {
        config.connect_timeout = Some(timeout);
        config.read_timeout = Some(timeout);
    }
    // The suite's own retry layer (crate::retry) replaces kube's, which would also retry a
    // PodDisruptionBudget refusal of an eviction.
    config.default_retry = false;
}

fn auth_method(a: &kube::config::AuthInfo) -> AuthMethod {
    if let Some(exec) = &a.exec {
        return AuthMethod::ExecPlugin(exec.command.clone().unwrap_or_default());
    }
    if let Some(p) = &a.auth_provider {
        return AuthMethod::AuthProvider(p.name.clone());
    }
    if a.client_certificate.is_some() || a.client_certificate_data.is_some() {
        return AuthMethod::ClientCertificate;
    }
    if a.token.is_some() {
        return AuthMethod::BearerToken;
    }
    if let Some(f) = &a.token_file {
        return AuthMethod::TokenFile(f.clone());
    }
    if a.username.is_some() {
        return AuthMethod::BasicAuth;
    }
    AuthMethod::Anonymous
}

/// An exec credential plugin must be runnable before we try: name it and say how to get it.
fn check_exec_command(command: &str, user: &str) -> Result<()> {
    let path = Path::new(command);
    let found = if path.components().count() > 1 {
        path.exists()
    } else {
        which::which(command).is_ok()
    };
    if found {
        return Ok(());
    }
    let program = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| command.to_string());
    Err(Error::config(format!(
        "kubeconfig user {user:?} needs the exec credential plugin {command:?}, which is not on PATH: {}",
        exec_install_hint(&program)
    )))
}

/// Resolves the target and builds a client with the suite's retry policy.
pub async fn connect(args: &GlobalArgs) -> Result<Target> {
    let resolved = resolve(args).await?;
    tracing::info!(
        "context {:?} (cluster {:?}, user {:?}, server {}), namespace {:?} ({:?}), credentials: {}",
        resolved.context,
        resolved.cluster,
        resolved.user,
        resolved.server,
        resolved.namespace,
        resolved.namespace_source,
        resolved.auth
    );
    let client = match exec_credentials(&resolved).await? {
        Some((config, credentials)) => crate::retry::client_with_exec(config, credentials),
        None => crate::retry::client(resolved.config.clone()),
    }
    .map_err(|e| Error::from_kube(e, &resolved.server))?;
    Ok(Target { resolved, client })
}

/// For a kubeconfig user with an exec plugin that gives bearer tokens: the config without
/// the plugin and the suite's own refreshing credentials ([`crate::credentials`]). The plugin
/// runs once here, so one that cannot give a token fails before anything is attempted.
async fn exec_credentials(
    resolved: &Resolved,
) -> Result<
    Option<(
        kube::Config,
        std::sync::Arc<crate::credentials::ExecCredentials>,
    )>,
> {
    let Some(exec) = resolved.config.auth_info.exec.clone() else {
        return Ok(None);
    };
    let credentials = std::sync::Arc::new(crate::credentials::ExecCredentials::new(
        &resolved.user,
        exec,
    ));
    match credentials.first().await {
        Ok(crate::credentials::Fetched::Token) => {
            let mut config = resolved.config.clone();
            config.auth_info.exec = None;
            Ok(Some((config, credentials)))
        }
        // Client certificates: kube's own exec support handles them.
        Ok(crate::credentials::Fetched::Other) => Ok(None),
        Err(e) => Err(Error::Config {
            message: format!("cannot get credentials for {}: {e}", resolved.server),
            detail: None,
        }),
    }
}

impl Target {
    /// Maps a kube error with this target's server named.
    pub fn api_error(&self, err: kube::Error) -> Error {
        Error::from_kube(err, &self.server)
    }
}
