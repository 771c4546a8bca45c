//! The node's job API: what a job's client talks to (see [`gpu_market_client::node_api`] for
//! the protocol). Served by axum on a runtime of its own, next to the agent's loop.
//!
//! The agent tells the [`JobBook`] which jobs the chain gives this node and who their client
//! is; the book keeps that in each job's work directory (`access.json`), so logs and results
//! are still served, to the same client only, after the job ended on chain and after an agent
//! restart, until the retention period passes. Secrets live in the book's memory only.
//!
//! A request is checked in this order: signature headers present and well formed (401), the
//! timestamp within 60 s of the node's clock (401), the signature (401), the job held by
//! this node (404), the signer being the job's client (403), not seen before (401). Bodies
//! are bounded per route (413) and must hash to what was signed (400). Handlers only read
//! and write the job's own directory; nothing they do reaches a running workload.
//!
//! A lease's services are the exception: `/v1/jobs/{job}/service/{port}/...` forwards any
//! request to the port the workload serves on the node's loopback, for a holder of the job
//! client's [`ServiceToken`] (401 without one or past its expiry, 404 for a job this node does
//! not hold or a port the manifest does not expose, 403 for a token its client did not sign,
//! 410 once the lease ended, 503 while the workload is not running, 502 when it does not
//! answer). The token header is not forwarded.

use crate::executor::{self, INPUT_DIR, LOG_FILE, MANIFEST_FILE, MARKER_FILE, RESULT_FILE};
use anchor_lang::solana_program::pubkey::Pubkey;
use axum::extract::Request;
use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Path as UrlPath, Query, State},
    http::{header, HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{any, get, put},
    Json, Router,
};
use gpu_market_client::{
    archive,
    escrow::Workload,
    hex,
    manifest::{self, Manifest, MAX_MANIFEST_BYTES},
    node_api::{
        self, AuthError, ErrorBody, NodeHealth, NodeJobStatus, ServiceToken, SignedHeaders,
        LOG_DONE_HEADER, LOG_SIZE_HEADER, MAX_LOG_CHUNK, MAX_LOG_WAIT, MAX_SEALED_BYTES, MAX_SKEW,
        SERVICE_TOKEN_HEADER,
    },
};
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use std::{
    collections::{BTreeMap, HashMap},
    fs,
    io::{self, Read, Seek, SeekFrom, Write},
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    thread,
    time::Duration,
};

/// Who may read a job's files, kept in its work directory.
pub const ACCESS_FILE: &str = "access.json";
/// A job's secrets as the client sealed them to the operator key (never in the clear), so
/// that a restarted agent can open them again.
pub const SEALED_FILE: &str = "secrets.sealed";
/// Most signatures remembered against replay; past it, requests are refused until old
/// ones age out.
const MAX_SEEN: usize = 200_000;

/// What the node knows of a job it serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// The job's client on chain: the only key the API answers for this job.
    #[serde(with = "gpu_market_client::serde_key")]
    pub client: Pubkey,
    /// The workload's content hash, hex.
    pub content_hash: String,
    /// The workload's URI.
    pub uri: String,
    /// When the job stopped being this node's (chain time), if it did.
    pub ended_at: Option<i64>,
}

impl Access {
    fn workload(&self) -> Workload {
        Workload {
            content_hash: hex::decode_32(&self.content_hash).unwrap_or_default(),
            uri: self.uri.clone(),
        }
    }
}

/// The API's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest input tar accepted (also the most its files may unpack to).
    pub max_input_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 16 << 30,
        }
    }
}

/// The jobs this node serves, shared by the agent and the API.
pub struct JobBook {
    root: PathBuf,
    operator: Keypair,
    limits: Limits,
    jobs: Mutex<HashMap<Pubkey, Access>>,
    secrets: Mutex<HashMap<Pubkey, BTreeMap<String, String>>>,
    seen: Mutex<HashMap<[u8; 64], i64>>,
    /// Jobs with an input upload in progress.
    uploading: Mutex<std::collections::HashSet<Pubkey>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the data as consistent as any single insert leaves it.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl JobBook {
    /// A book over the work directories under `root`, reloading what earlier runs recorded.
    /// `operator` opens the secrets clients seal to this node.
    pub fn open(root: &Path, operator: Keypair, limits: Limits) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        let mut jobs = HashMap::new();
        for entry in fs::read_dir(root)?.flatten() {
            let Some(job) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<Pubkey>().ok())
            else {
                continue;
            };
            let Ok(text) = fs::read(entry.path().join(ACCESS_FILE)) else {
                continue;
            };
            if let Ok(access) = serde_json::from_slice::<Access>(&text) {
                if manifest::is_manifest(&access.workload()) {
                    jobs.insert(job, access);
                }
            }
        }
        let mut secrets = HashMap::new();
        for (job, access) in &jobs {
            let sealed = root.join(job.to_string()).join(SEALED_FILE);
            if access.ended_at.is_some() {
                let _ = fs::remove_file(&sealed);
                continue;
            }
            if let Ok(opened) = fs::read(&sealed)
                .ok()
                .map(|bytes| node_api::open_secrets(&operator, &bytes))
                .transpose()
            {
                secrets.extend(opened.map(|opened| (*job, opened)));
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            operator,
            limits,
            jobs: Mutex::new(jobs),
            secrets: Mutex::new(secrets),
            seen: Mutex::new(HashMap::new()),
            uploading: Mutex::new(std::collections::HashSet::new()),
        })
    }

    /// The work directory of `job`.
    pub fn workdir(&self, job: &Pubkey) -> PathBuf {
        self.root.join(job.to_string())
    }

    /// Records that the chain gives `job` (with `client` and `workload`) to this node.
    pub fn hold(&self, job: &Pubkey, client: &Pubkey, workload: &Workload) -> io::Result<()> {
        if !manifest::is_manifest(workload) {
            return Err(io::Error::other(format!(
                "job {job} runs {}, not a manifest: it has no job API",
                workload.uri
            )));
        }
        let access = Access {
            client: *client,
            content_hash: hex::encode(&workload.content_hash),
            uri: workload.uri.clone(),
            ended_at: None,
        };
        let mut jobs = lock(&self.jobs);
        if jobs.get(job) == Some(&access) {
            return Ok(());
        }
        self.persist(job, &access)?;
        jobs.insert(*job, access);
        Ok(())
    }

    /// Marks every held job not in `live` as ended at `now` and forgets its secrets; returns
    /// the jobs it ended.
    pub fn end_all_but(&self, live: &[Pubkey], now: i64) -> Vec<Pubkey> {
        let mut ended = Vec::new();
        let mut jobs = lock(&self.jobs);
        for (job, access) in jobs.iter_mut() {
            if access.ended_at.is_none() && !live.contains(job) {
                access.ended_at = Some(now);
                // Best effort: if it is not persisted, a restart serves the job as still
                // held, to the same client, until it is ended again.
                let _ = self.persist(job, access);
                ended.push(*job);
            }
        }
        drop(jobs);
        let mut secrets = lock(&self.secrets);
        for job in &ended {
            secrets.remove(job);
            let _ = fs::remove_file(self.workdir(job).join(SEALED_FILE));
        }
        ended
    }

    /// Removes the work directories of jobs that ended more than `retention` seconds before
    /// `now`; returns how many.
    pub fn prune(&self, now: i64, retention: i64) -> usize {
        let mut jobs = lock(&self.jobs);
        let expired: Vec<Pubkey> = jobs
            .iter()
            .filter(|(_, a)| {
                a.ended_at
                    .is_some_and(|at| now.saturating_sub(at) > retention)
            })
            .map(|(job, _)| *job)
            .collect();
        for job in &expired {
            if fs::remove_dir_all(self.workdir(job)).is_ok() {
                jobs.remove(job);
            }
        }
        expired.len()
    }

    /// The secrets uploaded for `job`, if any.
    pub fn secrets(&self, job: &Pubkey) -> Option<BTreeMap<String, String>> {
        lock(&self.secrets).get(job).cloned()
    }

    /// What `job` is recorded with.
    pub fn access(&self, job: &Pubkey) -> Option<Access> {
        lock(&self.jobs).get(job).cloned()
    }

    fn persist(&self, job: &Pubkey, access: &Access) -> io::Result<()> {
        let dir = self.workdir(job);
        fs::create_dir_all(&dir)?;
        write_atomic(
            &dir.join(ACCESS_FILE),
            &serde_json::to_vec(access).map_err(io::Error::other)?,
        )
    }

    /// Checks a request's signature and replay, and that its signer is `job`'s client.
    fn authorize(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        job: &Pubkey,
    ) -> Result<(Access, [u8; 32]), ApiError> {
        let signed = SignedHeaders::parse(|name| headers.get(name).and_then(|v| v.to_str().ok()))?;
        let target = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_else(|| uri.path());
        let now = node_api::unix_now();
        signed.verify(method.as_str(), target, job, now)?;
        let access = self.access(job).ok_or_else(|| not_held(job))?;
        if signed.signer != access.client {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "only the client of job {job} ({}) may use it; the request is signed by {}",
                    access.client, signed.signer
                ),
            ));
        }
        // Only the clients of held jobs reach the replay cache, so strangers cannot fill it.
        {
            let mut seen = lock(&self.seen);
            if seen.contains_key(&signed.signature) {
                return Err(AuthError::Replayed.into());
            }
            if seen.len() >= MAX_SEEN {
                let oldest = now.saturating_sub(MAX_SKEW.saturating_mul(2));
                seen.retain(|_, at| *at >= oldest);
            }
            if seen.len() >= MAX_SEEN {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the node is busy; try again in a minute",
                ));
            }
            seen.insert(signed.signature, signed.timestamp);
        }
        Ok((access, signed.body_sha256))
    }
}

impl JobBook {
    /// Checks a service request's token: current (401), for a held job (404), signed by
    /// its client (403).
    fn authorize_service(&self, headers: &HeaderMap, job: &Pubkey) -> Result<Access, ApiError> {
        let text = headers
            .get(SERVICE_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    format!("the request carries no {SERVICE_TOKEN_HEADER} header; the job's client gets one with `gpu-market job endpoint {job}`"),
                )
            })?;
        let token = ServiceToken::parse(text)?;
        let now = node_api::unix_now();
        token.check_time(now)?;
        let access = self.access(job).ok_or_else(|| not_held(job))?;
        token
            .verify(job, &access.client, now)
            .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))?;
        Ok(access)
    }
}

fn not_held(job: &Pubkey) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("this node holds no job {job} (not assigned here, or its files were removed after the retention period)"),
    )
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

/// An error answer: a status and a message saying why.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("{context}: {e}"))
}

fn parse_job(text: &str) -> Result<Pubkey, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{text:?} is not a job address"),
        )
    })
}

type Shared = State<Arc<JobBook>>;

/// The API's routes over `book`.
pub fn router(book: Arc<JobBook>) -> Router {
    let small = DefaultBodyLimit::max(MAX_MANIFEST_BYTES.max(MAX_SEALED_BYTES));
    let input_limit = usize::try_from(book.limits.max_input_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/jobs/{job}", get(status))
        .route("/v1/jobs/{job}/manifest", put(put_manifest).layer(small))
        .route("/v1/jobs/{job}/secrets", put(put_secrets).layer(small))
        .route(
            "/v1/jobs/{job}/input",
            put(put_input).layer(DefaultBodyLimit::max(input_limit)),
        )
        .route("/v1/jobs/{job}/logs", get(logs))
        .route("/v1/jobs/{job}/result", get(result))
        .route("/v1/jobs/{job}/service/{port}", any(service))
        .route("/v1/jobs/{job}/service/{port}/", any(service))
        .route("/v1/jobs/{job}/service/{port}/{*rest}", any(service))
        .with_state(book)
}

/// A running API server; dropping it stops the server.
pub struct ApiServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

/// A certificate chain and key for serving https.
pub struct Tls {
    config: Arc<tokio_rustls::rustls::ServerConfig>,
}

impl Tls {
    /// Reads a PEM certificate chain and private key (as Let's Encrypt issues them).
    pub fn from_pem_files(cert: &Path, key: &Path) -> io::Result<Self> {
        use tokio_rustls::rustls::{
            self,
            pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
        };
        let invalid = |what: &Path, e: &dyn std::fmt::Display| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", what.display()),
            )
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| invalid(cert, &e))?
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(cert, &e))?;
        if chain.is_empty() {
            return Err(invalid(cert, &"no certificate in the file"));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid(key, &e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(cert, &e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(cert, &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

impl ApiServer {
    /// Serves `book` on `listener` over https with `tls`, on a thread of its own.
    pub fn start_tls(book: Arc<JobBook>, listener: TcpListener, tls: Tls) -> io::Result<Self> {
        Self::spawn(book, listener, Some(tls))
    }

    /// Serves `book` on `listener` (plain HTTP), on a thread of its own.
    pub fn start(book: Arc<JobBook>, listener: TcpListener) -> io::Result<Self> {
        Self::spawn(book, listener, None)
    }

    fn spawn(book: Arc<JobBook>, listener: TcpListener, tls: Option<Tls>) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("node-api")
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(book);
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let thread = thread::Builder::new()
            .name("node-api".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tls {
                        None => {
                            let served = axum::serve(listener, app).with_graceful_shutdown(async {
                                let _ = stopped.await;
                            });
                            // An I/O error here ends the API; the agent's loop carries on.
                            let _ = served.await;
                        }
                        Some(tls) => serve_tls(listener, app, tls, stopped).await,
                    }
                });
            })?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Tls,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors and the like: pause rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(Ok(stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            // A client that breaks off its connection is its own problem.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn check_body(body: &[u8], signed: &[u8; 32]) -> Result<(), ApiError> {
    if node_api::sha256(body) != *signed {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the body does not hash to the signed x-gpu-market-body-sha256",
        ));
    }
    Ok(())
}

/// The manifest of a manifest job, once uploaded.
fn uploaded_manifest(book: &JobBook, job: &Pubkey, access: &Access) -> Result<Manifest, ApiError> {
    if !manifest::is_manifest(&access.workload()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "job {job} runs {}, not a manifest: it takes no uploads",
                access.uri
            ),
        ));
    }
    executor::read_manifest(&access.workload(), &book.workdir(job)).map_err(|_| {
        ApiError::new(
            StatusCode::CONFLICT,
            "upload the job's manifest first (PUT /v1/jobs/{job}/manifest)",
        )
    })
}

fn not_ended(job: &Pubkey, access: &Access) -> Result<(), ApiError> {
    if access.ended_at.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("job {job} has ended on this node; it takes no uploads"),
        ));
    }
    Ok(())
}

/// The checks every small upload passes: a held job's client, the body it signed, and a
/// job that has not ended.
fn small_upload(
    book: &JobBook,
    job: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Pubkey, Access), ApiError> {
    let job = parse_job(job)?;
    let (access, signed) = book.authorize(method, uri, headers, &job)?;
    check_body(body, &signed)?;
    not_ended(&job, &access)?;
    Ok((job, access))
}

async fn put_manifest(
    State(book): Shared,
    UrlPath(job): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let (job, access) = small_upload(&book, &job, &method, &uri, &headers, &body)?;
    let workload = access.workload();
    Manifest::from_canonical(&body, &workload.content_hash)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let dir = book.workdir(&job);
    fs::create_dir_all(&dir).map_err(|e| internal("creating the work directory", e))?;
    write_atomic(&dir.join(MANIFEST_FILE), &body)
        .map_err(|e| internal("storing the manifest", e))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn put_secrets(
    State(book): Shared,
    UrlPath(job): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<StatusCode, ApiError> {
    let (job, access) = small_upload(&book, &job, &method, &uri, &headers, &body)?;
    let manifest = uploaded_manifest(&book, &job, &access)?;
    let secrets = node_api::open_secrets(&book.operator, &body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let names: Vec<&String> = secrets.keys().collect();
    let wanted: Vec<&String> = manifest.secrets.iter().collect();
    if names != wanted {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the manifest names the secrets {:?}; the upload holds {:?}",
                manifest.secrets, names
            ),
        ));
    }
    for (name, value) in &secrets {
        manifest::check_env_value(&format!("secret {name}"), value)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    }
    let sealed = book.workdir(&job).join(SEALED_FILE);
    write_private(&sealed, &body).map_err(|e| internal("storing the sealed secrets", e))?;
    lock(&book.secrets).insert(job, secrets);
    Ok(StatusCode::NO_CONTENT)
}

async fn put_input(
    State(book): Shared,
    UrlPath(job): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    use futures_util::StreamExt as _;
    let job = parse_job(&job)?;
    let (access, signed) = book.authorize(&method, &uri, &headers, &job)?;
    not_ended(&job, &access)?;
    let manifest = uploaded_manifest(&book, &job, &access)?;
    let Some(pinned) = manifest.input else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the job's manifest declares no input",
        ));
    };
    if signed != pinned.sha256 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the upload's SHA-256 is {} but the manifest pins {}",
                hex::encode(&signed),
                hex::encode(&pinned.sha256)
            ),
        ));
    }
    let dir = book.workdir(&job);
    let input_dir = dir.join(INPUT_DIR);
    if input_dir.is_dir() {
        return Ok(StatusCode::NO_CONTENT);
    }
    if pinned.bytes > book.limits.max_input_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the input is {} bytes; this node accepts at most {}",
                pinned.bytes, book.limits.max_input_bytes
            ),
        ));
    }
    let upload = Uploading::begin(book.clone(), job)?;
    // Again under the guard: an upload that finished meanwhile is not redone.
    if input_dir.is_dir() {
        return Ok(StatusCode::NO_CONTENT);
    }
    // Removed when dropped: a refused or broken-off upload leaves nothing behind.
    let part = tempfile::Builder::new()
        .prefix(".input-")
        .suffix(".tar")
        .tempfile_in(&dir)
        .map_err(|e| internal("storing the input", e))?;
    let mut file = archive::HashingWriter::new(
        part.reopen()
            .map_err(|e| internal("storing the input", e))?,
    );
    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the upload broke off: {e}"),
            )
        })?;
        received = received.saturating_add(chunk.len() as u64);
        if received > pinned.bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the upload is longer than the {} bytes the manifest pins",
                    pinned.bytes
                ),
            ));
        }
        file.write_all(&chunk)
            .map_err(|e| internal("storing the input", e))?;
    }
    let (_, actual, _) = file.finish();
    if actual != pinned.sha256 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "the uploaded bytes hash to {}, not the {} the manifest pins; nothing was kept",
                hex::encode(&actual),
                hex::encode(&pinned.sha256)
            ),
        ));
    }
    let max = book.limits.max_input_bytes;
    let unpacked = tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let staging = tempfile::Builder::new()
            .prefix(".input-")
            .tempdir_in(&dir)
            .map_err(|e| internal("storing the input", e))?;
        archive::unpack(part.path(), staging.path(), max).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the input was refused: {}", archive_reason(&e)),
            )
        })?;
        fs::rename(staging.path(), &input_dir).map_err(|e| internal("storing the input", e))?;
        // Held until the unpacking is over, also when the client has gone away meanwhile.
        drop(upload);
        Ok(())
    })
    .await
    .map_err(|e| internal("unpacking the input", e))?;
    unpacked?;
    Ok(StatusCode::NO_CONTENT)
}

/// Why an archive was refused, without the node's own paths.
fn archive_reason(err: &archive::ArchiveError) -> String {
    match err {
        archive::ArchiveError::Io { source, .. } => {
            format!("it cannot be unpacked ({})", source.kind())
        }
        other => other.to_string(),
    }
}

/// An input upload in progress; a second one for the same job is refused until it ends.
struct Uploading {
    book: Arc<JobBook>,
    job: Pubkey,
}

impl Uploading {
    fn begin(book: Arc<JobBook>, job: Pubkey) -> Result<Self, ApiError> {
        if !lock(&book.uploading).insert(job) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("an input upload for job {job} is already in progress"),
            ));
        }
        Ok(Self { book, job })
    }
}

impl Drop for Uploading {
    fn drop(&mut self) {
        lock(&self.book.uploading).remove(&self.job);
    }
}

/// The log a job's workload writes to, and whether it has finished writing.
fn log_state(dir: &Path, access: &Access) -> (PathBuf, bool) {
    let log = dir.join(LOG_FILE);
    let done = access.ended_at.is_some() || dir.join(MARKER_FILE).exists();
    (log, done)
}

#[derive(Deserialize)]
struct LogQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    wait: u64,
}

async fn logs(
    State(book): Shared,
    UrlPath(job): UrlPath<String>,
    Query(query): Query<LogQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let job = parse_job(&job)?;
    book.authorize(&method, &uri, &headers, &job)?;
    let dir = book.workdir(&job);
    let wait = Duration::from_secs(query.wait.min(MAX_LOG_WAIT));
    let started = tokio::time::Instant::now();
    loop {
        // Re-read each time: the job may end while we wait.
        let access = book
            .access(&job)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "the job's files were removed"))?;
        let (path, done) = log_state(&dir, &access);
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > query.offset || done || started.elapsed() >= wait {
            let bytes = read_range(&path, query.offset, MAX_LOG_CHUNK)
                .map_err(|e| internal("reading the log", e))?;
            let end = query.offset.saturating_add(bytes.len() as u64);
            let finished = done && end >= size;
            return Ok((
                [
                    (LOG_SIZE_HEADER, size.to_string()),
                    (LOG_DONE_HEADER, finished.to_string()),
                    (
                        header::CONTENT_TYPE.as_str(),
                        "application/octet-stream".into(),
                    ),
                ],
                bytes,
            )
                .into_response());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn read_range(path: &Path, offset: u64, max: u64) -> io::Result<Vec<u8>> {
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

async fn result(
    State(book): Shared,
    UrlPath(job): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let job = parse_job(&job)?;
    book.authorize(&method, &uri, &headers, &job)?;
    let dir = book.workdir(&job);
    if !dir.join(MARKER_FILE).exists() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("job {job} has no result yet"),
        ));
    }
    let file = tokio::fs::File::open(dir.join(RESULT_FILE))
        .await
        .map_err(|e| internal("opening the result", e))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| internal("reading the result", e))?
        .len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        file,
        256 * 1024,
    ));
    Ok((
        [
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_TYPE, "application/x-tar".into()),
        ],
        body,
    )
        .into_response())
}

/// Whether the node is up, and which operator key serves it: what a matcher checks before
/// assigning the node a job. Unauthenticated; it tells nothing the chain does not.
async fn health(State(book): Shared) -> Json<NodeHealth> {
    Json(NodeHealth {
        operator: solana_signer::Signer::pubkey(&book.operator),
    })
}

async fn status(
    State(book): Shared,
    UrlPath(job): UrlPath<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<NodeJobStatus>, ApiError> {
    let job = parse_job(&job)?;
    let (access, _) = book.authorize(&method, &uri, &headers, &job)?;
    let dir = book.workdir(&job);
    let workload = access.workload();
    let have_secrets = book.secrets(&job).is_some();
    let waiting: Vec<String> = executor::waiting_for(&workload, &dir, have_secrets)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let (log, done) = log_state(&dir, &access);
    let finished = executor::finished(&workload, &dir);
    let state = match &finished {
        _ if access.ended_at.is_some() => "ended",
        Some(run) if run.succeeded => "finished",
        Some(_) => "failed",
        None if !waiting.is_empty() => "waiting",
        None if done => "ended",
        None => "running",
    };
    let health = match executor::read_manifest(&workload, &dir) {
        Ok(manifest) => service_health(&manifest, &dir, &access).await,
        Err(_) => BTreeMap::new(),
    };
    Ok(Json(NodeJobStatus {
        state: state.into(),
        waiting_for: waiting,
        log_bytes: fs::metadata(log).map(|m| m.len()).unwrap_or(0),
        result_sha256: finished.as_ref().map(|run| hex::encode(&run.sha256)),
        result_bytes: finished.as_ref().map(|run| run.bytes),
        health,
    }))
}

/// How long a health check may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a service may take to start its answer (a long generation streams its body).
const SERVICE_ANSWER_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a service may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request body forwarded to a service.
pub const MAX_SERVICE_BODY: usize = 64 << 20;

/// The state of each port the manifest exposes, checked now.
async fn service_health(manifest: &Manifest, dir: &Path, access: &Access) -> BTreeMap<u16, String> {
    let running = executor::services(dir);
    let checks = manifest.ports.iter().map(|port| {
        let host_port = running
            .iter()
            .find(|s| s.port == port.port)
            .map(|s| s.host_port);
        let ended = access.ended_at.is_some();
        async move {
            let state = match (host_port, &port.health) {
                _ if ended => "closed (the job ended)".to_owned(),
                (None, _) => "not running".to_owned(),
                (Some(_), None) => "running (no health check)".to_owned(),
                (Some(host_port), Some(path)) => check_health(host_port, path).await,
            };
            (port.port, state)
        }
    });
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .collect()
}

/// `up` if GET `path` on the service answers 2xx or 3xx within [`HEALTH_TIMEOUT`],
/// otherwise `down: <why>`.
async fn check_health(host_port: u16, path: &str) -> String {
    let request = axum::http::Request::get(path)
        .header(header::HOST, format!("127.0.0.1:{host_port}"))
        .body(Body::empty());
    let Ok(request) = request else {
        return format!("down: {path:?} is not a request path");
    };
    match tokio::time::timeout(HEALTH_TIMEOUT, forward(host_port, request)).await {
        Err(_) => format!("down: no answer within {} s", HEALTH_TIMEOUT.as_secs()),
        Ok(Err(why)) => format!("down: {why}"),
        Ok(Ok(response))
            if response.status().is_success() || response.status().is_redirection() =>
        {
            "up".to_owned()
        }
        Ok(Ok(response)) => format!("down: {path} answered {}", response.status()),
    }
}

/// Sends `request` to the service on 127.0.0.1:`host_port` over a connection of its own.
async fn forward(
    host_port: u16,
    request: axum::http::Request<Body>,
) -> Result<axum::http::Response<hyper::body::Incoming>, String> {
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect(("127.0.0.1", host_port)),
    )
    .await
    .map_err(|_| "it does not accept connections".to_owned())?
    .map_err(|e| format!("it does not accept connections ({})", e.kind()))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("it does not speak HTTP/1.1 ({e})"))?;
    // Ends with the response, or when either side hangs up.
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|e| format!("it broke off the request ({e})"))
}

/// Headers that describe one connection, not the request, and are not passed on.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    for name in HOP_BY_HOP
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str))
    {
        // The Connection header may name any header; these two frame the message.
        if name != "host" && name != "content-length" {
            headers.remove(name);
        }
    }
}

/// Forwards a request to a lease's service, for the holder of its client's token.
async fn service(
    State(book): Shared,
    UrlPath(params): UrlPath<HashMap<String, String>>,
    request: Request,
) -> Result<Response, ApiError> {
    let job = parse_job(params.get("job").map_or("", String::as_str))?;
    let port_text = params.get("port").map_or("", String::as_str);
    // Digits as written, so that the path below the prefix is found in the raw path.
    let port = port_text
        .parse::<u16>()
        .ok()
        .filter(|p| p.to_string() == port_text)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{port_text:?} is not a port"),
            )
        })?;
    let access = book.authorize_service(request.headers(), &job)?;
    if access.ended_at.is_some() {
        return Err(ApiError::new(
            StatusCode::GONE,
            format!("job {job} has ended on this node; its service is closed"),
        ));
    }
    let dir = book.workdir(&job);
    let manifest = executor::read_manifest(&access.workload(), &dir).map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("job {job} has not started: its manifest was not uploaded"),
        )
    })?;
    if !manifest.ports.iter().any(|p| p.port == port) {
        let exposed: Vec<u16> = manifest.ports.iter().map(|p| p.port).collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("job {job} exposes no port {port}; its manifest exposes {exposed:?}"),
        ));
    }
    let host_port = executor::services(&dir)
        .into_iter()
        .find(|s| s.port == port)
        .map(|s| s.host_port)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the workload of job {job} is not running on this node"),
            )
        })?;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_SERVICE_BODY as u64) {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a service request's body may be at most {MAX_SERVICE_BODY} bytes"),
        ));
    }
    let (mut parts, body) = request.into_parts();
    let prefix = format!("/v1/jobs/{job}/service/{port}");
    let rest = parts
        .uri
        .path()
        .strip_prefix(&prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "the request path does not parse"))?;
    let target = match (rest, parts.uri.query()) {
        ("", None) => "/".to_owned(),
        ("", Some(q)) => format!("/?{q}"),
        (path, None) => path.to_owned(),
        (path, Some(q)) => format!("{path}?{q}"),
    };
    parts.uri = target
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the request path does not parse"))?;
    parts.version = axum::http::Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(SERVICE_TOKEN_HEADER);
    // What the node says about the request, not what the caller claims.
    for name in [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-prefix",
    ] {
        parts.headers.remove(name);
    }
    if let Ok(value) = prefix.parse() {
        parts.headers.insert("x-forwarded-prefix", value);
    }
    let body = Body::new(http_body_util::Limited::new(body, MAX_SERVICE_BODY));
    let sent = forward(host_port, axum::http::Request::from_parts(parts, body));
    let response = tokio::time::timeout(SERVICE_ANSWER_TIMEOUT, sent)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "the service of job {job} on port {port} did not answer within {} s",
                    SERVICE_ANSWER_TIMEOUT.as_secs()
                ),
            )
        })?
        .map_err(|why| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("the service of job {job} on port {port} did not answer: {why}"),
            )
        })?;
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Body::new(body)))
}
