//! Starting a kube-sim: load a scenario into a store, start the controllers, serve the API over
//! TLS (or plain HTTP when asked) on a local port, and write a kubeconfig for it. Tests use
//! [`Sim`] in-process; the `kube-sim serve` binary wraps the same code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::control;
use crate::http::{ApiServer, FaultRule, JournalEntry, Outcome};
use crate::scenario::Scenario;
use crate::store::{Objects, Store};

/// How to start a sim.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// A built-in scenario name or a YAML path.
    pub scenario: String,
    pub listen: SocketAddr,
    pub time_scale: f64,
    pub latency: Duration,
    /// Extra delay that a fraction (`latency_spike_rate`, 0..=1) of API requests meets.
    pub latency_spike: Duration,
    pub latency_spike_rate: f64,
    pub fault_rate: f64,
    pub insecure_http: bool,
    /// Where to write the kubeconfig; a temporary directory when None.
    pub kubeconfig: Option<PathBuf>,
    /// The scenario user written into the kubeconfig (the first one when None).
    pub user: Option<String>,
    /// Seed of every random draw (faults, uids, name suffixes); a random one when None.
    pub seed: Option<u64>,
    /// How long a list's continue token stays valid.
    pub continue_ttl: Duration,
    /// How many past events a watch can resume from.
    pub watch_window: usize,
}

impl SimOptions {
    pub fn new(scenario: &str) -> Self {
        SimOptions {
            scenario: scenario.to_string(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            time_scale: 1.0,
            latency: Duration::ZERO,
            latency_spike: Duration::ZERO,
            latency_spike_rate: 0.0,
            fault_rate: 0.0,
            insecure_http: false,
            kubeconfig: None,
            user: None,
            seed: None,
            continue_ttl: Duration::from_secs(300),
            watch_window: crate::store::DEFAULT_WATCH_WINDOW,
        }
    }
}

/// A running sim.
pub struct Sim {
    server: Arc<ApiServer>,
    url: String,
    kubeconfig: PathBuf,
    ca_pem: Option<String>,
    accept: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
    seed: u64,
}

/// The serving certificate and the CA that signed it.
struct Tls {
    ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn make_tls() -> Result<Tls, String> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| e.to_string();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kube-sim-ca");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;
    let mut leaf_params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "kube-sim".to_string(),
    ])
    .map_err(err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(err)?;
    let certs = vec![leaf.der().clone(), ca.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der())
        .map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        ca_pem: ca.pem(),
        config: Arc::new(config),
    })
}

/// Serves one connection (TLS already done or plain).
async fn serve_connection<IO>(io: IO, server: Arc<ApiServer>)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let server = server.clone();
        async move {
            match server.handle(req).await {
                Outcome::Respond(resp) => Ok(resp),
                Outcome::Drop => Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "injected fault: connection dropped",
                )),
            }
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// A kubeconfig with one cluster, user and context named `kube-sim`.
pub fn kubeconfig_text(url: &str, ca_pem: Option<&str>, token: &str) -> String {
    let ca = match ca_pem {
        Some(pem) => format!(
            "    certificate-authority-data: {}\n",
            base64::engine::general_purpose::STANDARD.encode(pem)
        ),
        None => String::new(),
    };
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: kube-sim\nclusters:\n- name: kube-sim\n  cluster:\n    server: {url}\n{ca}contexts:\n- name: kube-sim\n  context:\n    cluster: kube-sim\n    user: kube-sim\n    namespace: default\nusers:\n- name: kube-sim\n  user:\n    token: {token}\npreferences: {{}}\n"
    )
}

impl Sim {
    /// Loads the scenario, starts the controllers and the server, writes the kubeconfig.
    pub async fn start(opts: SimOptions) -> Result<Sim, String> {
        let scenario = Scenario::load(&opts.scenario).map_err(|e| e.to_string())?;
        let seed = opts.seed.unwrap_or_else(rand::random);
        // Names from their own stream: controllers create concurrently, and must not shift
        // the fault draws of a replayed request sequence.
        crate::store::seed_names(seed ^ 0x9e37_79b9_7f4a_7c15);
        let clock = Arc::new(Clock::new(opts.time_scale));
        let store = Arc::new(Store::new(clock));
        store.set_watch_window(opts.watch_window);
        // The system PriorityClasses and Priority admission come first: the scenario's pods
        // are admitted like any other.
        crate::priority::install(&store).map_err(|e| e.to_string())?;
        // Load the scenario before the controllers run, so they adopt its objects rather than
        // racing to create their own.
        scenario.apply(&store).map_err(|e| e.to_string())?;
        let control = control::start(store.clone());
        let user = match &opts.user {
            Some(name) => scenario
                .users
                .iter()
                .find(|u| &u.name == name)
                .cloned()
                .ok_or_else(|| format!("scenario {} has no user {name:?}", scenario.name))?,
            None => scenario.default_user().clone(),
        };
        let server = Arc::new(
            ApiServer::new(
                store,
                scenario.users.clone(),
                control,
                opts.fault_rate,
                opts.latency,
            )
            .with_seed(seed)
            .with_latency_spikes(
                opts.latency_spike
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                opts.latency_spike_rate,
            )
            .with_continue_ttl(opts.continue_ttl),
        );
        let listener = TcpListener::bind(opts.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", opts.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        *server.address.lock().unwrap_or_else(|e| e.into_inner()) = addr.to_string();
        let tls = if opts.insecure_http {
            None
        } else {
            Some(make_tls()?)
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let acceptor = tls.map(|t| tokio_rustls::TlsAcceptor::from(t.config));
        let accept_server = server.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let server = accept_server.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(stream).await {
                                serve_connection(tls, server).await;
                            }
                        }
                        None => serve_connection(stream, server).await,
                    }
                });
            }
        });
        let (kubeconfig, dir) = match &opts.kubeconfig {
            Some(path) => (path.clone(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("kube-sim-")
                    .tempdir()
                    .map_err(|e| e.to_string())?;
                (dir.path().join("kubeconfig"), Some(dir))
            }
        };
        std::fs::write(
            &kubeconfig,
            kubeconfig_text(&url, ca_pem.as_deref(), &user.token),
        )
        .map_err(|e| format!("cannot write kubeconfig {}: {e}", kubeconfig.display()))?;
        Ok(Sim {
            server,
            url,
            kubeconfig,
            ca_pem,
            accept,
            _dir: dir,
            seed,
        })
    }

    /// The seed of this sim's random draws (pass it as `--seed` to replay a run).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Writes a kubeconfig that authenticates as another scenario user.
    pub fn kubeconfig_for_user(&self, name: &str) -> Result<PathBuf, String> {
        let user = self
            .server
            .user(name)
            .ok_or_else(|| format!("no user {name:?}"))?;
        let path = self.kubeconfig.with_file_name(format!("kubeconfig-{name}"));
        std::fs::write(
            &path,
            kubeconfig_text(&self.url, self.ca_pem.as_deref(), &user.token),
        )
        .map_err(|e| e.to_string())?;
        Ok(path)
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.server.store
    }

    pub fn clock(&self) -> &Arc<Clock> {
        self.server.store.clock()
    }

    /// Jumps simulated time forward and lets the controllers catch up once.
    pub fn advance(&self, by: Duration) {
        self.clock().advance(by);
        self.server.control.tick();
    }

    pub fn journal(&self) -> Vec<JournalEntry> {
        self.server.journal()
    }

    pub fn clear_journal(&self) {
        self.server.clear_journal();
    }

    pub fn mutating_requests(&self) -> Vec<JournalEntry> {
        self.journal()
            .into_iter()
            .filter(JournalEntry::is_mutating)
            .collect()
    }

    pub fn availability(&self) -> Value {
        self.server.control.availability()
    }

    pub fn inject_faults(&self, rule: FaultRule) {
        self.server.inject_faults(rule);
    }

    /// Polls the store until `condition` holds or `timeout` passes (real time).
    pub async fn wait_until(
        &self,
        timeout: Duration,
        condition: impl Fn(&Objects) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.store().read(&condition) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn shutdown(&self) {
        self.accept.abort();
        self.server.control.shutdown();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}
