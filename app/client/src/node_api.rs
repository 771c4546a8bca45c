//! The channel between a job's client and the node that runs it, with no server in between:
//! the chain says who may talk to whom.
//!
//! The node's agent serves an HTTP API at the endpoint its provider account publishes. Every
//! request is signed by the job's client key: an ed25519 signature over
//! [`signing_message`] (method, path with query, job, timestamp, a random nonce and the body's
//! SHA-256). The
//! node checks the signature, that the timestamp is within [`MAX_SKEW`] seconds of its clock,
//! that the signature was not used before, and that the signer is the job's `client` on chain.
//!
//! Secrets are sealed to the node's operator key ([`seal_secrets`]): its ed25519 public key
//! mapped to X25519, an anonymous `crypto_box` sealed box (X25519, XSalsa20-Poly1305), so only
//! the operator's keypair opens them and nothing about them reaches the chain.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | GET | `/v1/jobs/{job}` | | [`NodeJobStatus`] |
//! | PUT | `/v1/jobs/{job}/manifest` | canonical manifest | 204 |
//! | PUT | `/v1/jobs/{job}/input` | the input tar | 204 |
//! | PUT | `/v1/jobs/{job}/secrets` | sealed secrets | 204 |
//! | GET | `/v1/jobs/{job}/logs?offset=N&wait=S` | | log bytes from N |
//! | GET | `/v1/jobs/{job}/result` | | the result tar |
//! | any | `/v1/jobs/{job}/service/{port}/{path}` | forwarded | the lease's service's answer |
//!
//! A lease's service is reached by whatever HTTP client the startup uses, so it is not
//! signed per request: it carries a [`ServiceToken`] in the [`SERVICE_TOKEN_HEADER`] header, a
//! signature by the job's client over the job and an expiry. The node forwards a request only
//! while the lease runs on it; the header itself is never forwarded.

use crate::{
    archive::{self, HashingWriter},
    hex,
};
use anchor_lang::solana_program::pubkey::Pubkey;
use serde::{Deserialize, Serialize};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::{
    collections::BTreeMap,
    fmt,
    fs::{self, File},
    io::{self, Read},
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// How far a request's timestamp may be from the node's clock, either way.
pub const MAX_SKEW: i64 = 60;
/// The signer's public key, base58.
pub const SIGNER_HEADER: &str = "x-gpu-market-signer";
/// Unix seconds when the request was signed.
pub const TIMESTAMP_HEADER: &str = "x-gpu-market-timestamp";
/// SHA-256 of the body, hex (of nothing for a request without one).
pub const BODY_HASH_HEADER: &str = "x-gpu-market-body-sha256";
/// 16 random bytes, hex, so two requests signed in the same second differ.
pub const NONCE_HEADER: &str = "x-gpu-market-nonce";
/// The ed25519 signature over [`signing_message`], base58.
pub const SIGNATURE_HEADER: &str = "x-gpu-market-signature";
/// On a log answer: the log's size on the node.
pub const LOG_SIZE_HEADER: &str = "x-gpu-market-log-size";
/// On a log answer: `true` once the workload ended and the log will not grow.
pub const LOG_DONE_HEADER: &str = "x-gpu-market-log-done";
/// Longest a log request may wait for new bytes.
pub const MAX_LOG_WAIT: u64 = 30;
/// Most log bytes one answer carries.
pub const MAX_LOG_CHUNK: u64 = 1 << 20;
/// Most bytes of a node's error message read.
const MAX_ERROR_BYTES: u64 = 64 * 1024;
/// Largest sealed secrets a node accepts.
pub const MAX_SEALED_BYTES: usize = 64 * 1024;
/// The domain of every signature, so a signed request means nothing anywhere else.
const DOMAIN: &str = "gpu-market node api v1";
/// The domain of service tokens.
const TOKEN_DOMAIN: &str = "gpu-market service token v1";
/// The header that carries a [`ServiceToken`].
pub const SERVICE_TOKEN_HEADER: &str = "x-gpu-market-token";
/// The longest a service token may be valid for, seconds (30 days).
pub const MAX_TOKEN_LIFETIME: i64 = 30 * 86_400;

/// The bytes a request's signature covers.
pub fn signing_message(
    method: &str,
    path_and_query: &str,
    job: &Pubkey,
    timestamp: i64,
    nonce: &[u8; 16],
    body_sha256: &[u8; 32],
) -> Vec<u8> {
    format!(
        "{DOMAIN}\n{method}\n{path_and_query}\n{job}\n{timestamp}\n{}\n{}",
        hex::encode(nonce),
        hex::encode(body_sha256)
    )
    .into_bytes()
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    solana_sha256_hasher::hash(bytes).to_bytes()
}

/// The headers that authenticate one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    pub signer: Pubkey,
    pub timestamp: i64,
    pub nonce: [u8; 16],
    pub body_sha256: [u8; 32],
    pub signature: [u8; 64],
}

impl SignedHeaders {
    /// Signs a request with `keypair` at `timestamp`.
    pub fn sign(
        keypair: &Keypair,
        method: &str,
        path_and_query: &str,
        job: &Pubkey,
        timestamp: i64,
        body_sha256: [u8; 32],
    ) -> Self {
        use crypto_box::aead::rand_core::RngCore as _;
        let mut nonce = [0u8; 16];
        crypto_box::aead::OsRng.fill_bytes(&mut nonce);
        let message = signing_message(method, path_and_query, job, timestamp, &nonce, &body_sha256);
        Self {
            signer: keypair.pubkey(),
            timestamp,
            nonce,
            body_sha256,
            signature: keypair.sign_message(&message).into(),
        }
    }

    /// `(name, value)` pairs to send.
    pub fn pairs(&self) -> [(&'static str, String); 5] {
        [
            (SIGNER_HEADER, self.signer.to_string()),
            (TIMESTAMP_HEADER, self.timestamp.to_string()),
            (NONCE_HEADER, hex::encode(&self.nonce)),
            (BODY_HASH_HEADER, hex::encode(&self.body_sha256)),
            (SIGNATURE_HEADER, bs58::encode(self.signature).into_string()),
        ]
    }

    /// Reads the headers back; `get` looks one up by name.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let field = |name: &'static str| get(name).ok_or(AuthError::Missing(name));
        let signer = field(SIGNER_HEADER)?
            .parse::<Pubkey>()
            .map_err(|_| AuthError::Malformed(SIGNER_HEADER))?;
        let timestamp = field(TIMESTAMP_HEADER)?
            .parse::<i64>()
            .map_err(|_| AuthError::Malformed(TIMESTAMP_HEADER))?;
        let nonce = hex::decode_array::<16>(field(NONCE_HEADER)?)
            .ok_or(AuthError::Malformed(NONCE_HEADER))?;
        let body_sha256 = hex::decode_32(field(BODY_HASH_HEADER)?)
            .ok_or(AuthError::Malformed(BODY_HASH_HEADER))?;
        let signature: [u8; 64] = bs58::decode(field(SIGNATURE_HEADER)?)
            .into_vec()
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(AuthError::Malformed(SIGNATURE_HEADER))?;
        Ok(Self {
            signer,
            timestamp,
            nonce,
            body_sha256,
            signature,
        })
    }

    /// Checks the time window and the signature of a request for `job` received at `now`.
    pub fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        job: &Pubkey,
        now: i64,
    ) -> Result<(), AuthError> {
        let skew = now.saturating_sub(self.timestamp);
        if skew.unsigned_abs() > MAX_SKEW.unsigned_abs() {
            return Err(AuthError::Stale {
                timestamp: self.timestamp,
                now,
            });
        }
        let message = signing_message(
            method,
            path_and_query,
            job,
            self.timestamp,
            &self.nonce,
            &self.body_sha256,
        );
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.signer.to_bytes())
            .map_err(|_| AuthError::BadSignature)?;
        key.verify_strict(
            &message,
            &ed25519_dalek::Signature::from_bytes(&self.signature),
        )
        .map_err(|_| AuthError::BadSignature)
    }
}

/// A bearer credential for a lease's service: the job's client signs the job and an expiry,
/// so any HTTP client can reach the service until then (and only while the lease runs).
/// Written as `<expiry unix seconds>.<signature, base58>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceToken {
    pub expires: i64,
    pub signature: [u8; 64],
}

impl ServiceToken {
    fn message(job: &Pubkey, expires: i64) -> Vec<u8> {
        format!("{TOKEN_DOMAIN}\n{job}\n{expires}").into_bytes()
    }

    /// A token for `job`'s service, signed by its client, valid until `expires`.
    pub fn issue(client: &Keypair, job: &Pubkey, expires: i64) -> Self {
        Self {
            expires,
            signature: client.sign_message(&Self::message(job, expires)).into(),
        }
    }

    /// Reads a token back from its header value.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let malformed = AuthError::Malformed(SERVICE_TOKEN_HEADER);
        let (expires, signature) = text.split_once('.').ok_or(malformed.clone())?;
        let expires = expires.parse::<i64>().map_err(|_| malformed.clone())?;
        let signature: [u8; 64] = bs58::decode(signature)
            .into_vec()
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(malformed)?;
        Ok(Self { expires, signature })
    }

    /// Checks that the token is current at `now` and signed by `client` for `job`.
    pub fn verify(&self, job: &Pubkey, client: &Pubkey, now: i64) -> Result<(), AuthError> {
        self.check_time(now)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&client.to_bytes())
            .map_err(|_| AuthError::BadToken)?;
        key.verify_strict(
            &Self::message(job, self.expires),
            &ed25519_dalek::Signature::from_bytes(&self.signature),
        )
        .map_err(|_| AuthError::BadToken)
    }

    /// Checks only the expiry: not past, and not further than [`MAX_TOKEN_LIFETIME`] ahead.
    pub fn check_time(&self, now: i64) -> Result<(), AuthError> {
        if self.expires <= now {
            return Err(AuthError::TokenExpired {
                expires: self.expires,
            });
        }
        if self.expires.saturating_sub(now) > MAX_TOKEN_LIFETIME {
            return Err(AuthError::TokenTooLong {
                expires: self.expires,
            });
        }
        Ok(())
    }
}

impl fmt::Display for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}",
            self.expires,
            bs58::encode(self.signature).into_string()
        )
    }
}

/// The URL where a node publishes `port` of `job`'s service.
pub fn service_url(endpoint: &str, job: &Pubkey, port: u16) -> String {
    format!(
        "{}/v1/jobs/{job}/service/{port}/",
        endpoint.trim_end_matches('/')
    )
}

/// Why a request's authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "the request is not signed: header {0} is missing (sign it with the job's client key)"
    )]
    Missing(&'static str),
    #[error("header {0} is malformed")]
    Malformed(&'static str),
    #[error(
        "the request was signed at {timestamp}, {}s from the node's clock ({now}); at most {MAX_SKEW}s are accepted: check your clock",
        now.saturating_sub(*timestamp)
    )]
    Stale { timestamp: i64, now: i64 },
    #[error("the signature does not match the request")]
    BadSignature,
    #[error("this signature was already used; sign every request anew")]
    Replayed,
    #[error(
        "the service token expired at {expires}; get a new one with `gpu-market job endpoint`"
    )]
    TokenExpired { expires: i64 },
    #[error(
        "the service token is valid until {expires}, more than {MAX_TOKEN_LIFETIME}s ahead; nodes accept at most 30 days"
    )]
    TokenTooLong { expires: i64 },
    #[error("the service token is not signed by the job's client")]
    BadToken,
}

/// Unix seconds now, from this machine's clock.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The X25519 public key secrets are sealed to, from the operator's ed25519 key.
fn sealing_key(operator: &Pubkey) -> Result<crypto_box::PublicKey, SealError> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(&operator.to_bytes())
        .map_err(|_| SealError::NotAKey(*operator))?;
    Ok(crypto_box::PublicKey::from(key.to_montgomery().to_bytes()))
}

/// Seals `secrets` to the node whose operator key is `operator`.
pub fn seal_secrets(
    operator: &Pubkey,
    secrets: &BTreeMap<String, String>,
) -> Result<Vec<u8>, SealError> {
    let plain = serde_json::to_vec(secrets).map_err(|e| SealError::Encoding(e.to_string()))?;
    let sealed = sealing_key(operator)?
        .seal(&mut crypto_box::aead::OsRng, &plain)
        .map_err(|_| SealError::Crypto)?;
    if sealed.len() > MAX_SEALED_BYTES {
        return Err(SealError::TooLarge(sealed.len()));
    }
    Ok(sealed)
}

/// Opens secrets sealed to `operator`'s public key.
pub fn open_secrets(
    operator: &Keypair,
    sealed: &[u8],
) -> Result<BTreeMap<String, String>, SealError> {
    if sealed.len() > MAX_SEALED_BYTES {
        return Err(SealError::TooLarge(sealed.len()));
    }
    let signing = ed25519_dalek::SigningKey::from_bytes(operator.secret_bytes());
    let secret = crypto_box::SecretKey::from(signing.to_scalar_bytes());
    let plain = secret.unseal(sealed).map_err(|_| SealError::Crypto)?;
    serde_json::from_slice(&plain).map_err(|e| SealError::Encoding(e.to_string()))
}

/// Why sealing or opening secrets failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("{0} is not an ed25519 public key; secrets cannot be sealed to it")]
    NotAKey(Pubkey),
    #[error("the sealed secrets are {0} bytes; at most {MAX_SEALED_BYTES}")]
    TooLarge(usize),
    #[error("the secrets do not open with this node's operator key")]
    Crypto,
    #[error("the secrets are not a map of names to values: {0}")]
    Encoding(String),
}

/// Where a job stands on its node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeJobStatus {
    /// `waiting` (for uploads), `running`, `finished`, `failed` or `ended`.
    pub state: String,
    /// What the node still waits for: `manifest`, `input`, `secrets`.
    pub waiting_for: Vec<String>,
    /// Bytes of log so far.
    pub log_bytes: u64,
    /// The result tar's SHA-256 (hex), once there is one.
    pub result_sha256: Option<String>,
    /// The result tar's size.
    pub result_bytes: Option<u64>,
    /// The services the manifest exposes, by port, and their state as the node saw it when
    /// it answered: `up`, `down: <why>`, `running (no health check)`, `not running`.
    #[serde(default)]
    pub health: BTreeMap<u16, String>,
}

/// What a node answered with an error.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// Why a call to a node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("the node answered {status}: {message}")]
    Refused { status: u16, message: String },
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{0}")]
    Url(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "the result's SHA-256 is {} but the chain holds {}: nothing was unpacked. The node served something other than what it committed; dispute it within the challenge window with `gpu-market job dispute <JOB>`",
        hex::encode(.actual),
        hex::encode(.expected)
    )]
    ResultMismatch {
        expected: [u8; 32],
        actual: [u8; 32],
    },
    #[error("the node sent more than {0} bytes; the download was stopped")]
    TooLarge(u64),
    #[error("the result archive is unsafe: {0}")]
    Archive(#[from] archive::ArchiveError),
}

/// A piece of a job's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogChunk {
    pub bytes: Vec<u8>,
    /// The offset to ask for next.
    pub next: u64,
    /// The workload ended: nothing follows `next`.
    pub done: bool,
}

/// What a node's `GET /v1/health` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    /// The operator key the node serves with.
    #[serde(with = "crate::serde_key")]
    pub operator: Pubkey,
}

/// The most a health answer may take.
const MAX_HEALTH_BYTES: u64 = 1_024;

/// Checks that the node at `endpoint` is up and served by `operator`, within `timeout`: what
/// a matcher asks before assigning the node a job it would be slashed for not starting.
pub fn probe(endpoint: &str, operator: &Pubkey, timeout: Duration) -> Result<(), NodeError> {
    let base = check_node_url(endpoint)?;
    // The endpoint is the provider's to choose: nothing in it but a scheme, a host, a port
    // and a path prefix takes part in the request.
    if base.query().is_some()
        || base.fragment().is_some()
        || !base.username().is_empty()
        || base.password().is_some()
    {
        return Err(NodeError::Url(format!(
            "{endpoint} carries a query, a fragment or credentials; a node's endpoint is scheme://host:port[/path]"
        )));
    }
    let url = format!("{}/v1/health", base.as_str().trim_end_matches('/'));
    let unreachable = |reason: String| NodeError::Unreachable {
        url: url.clone(),
        reason,
    };
    let http = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| NodeError::Url(e.to_string()))?;
    let response = http
        .get(&url)
        .send()
        .map_err(|e| unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(NodeError::Refused {
            status,
            message: "the health check failed".into(),
        });
    }
    let mut body = Vec::new();
    response
        .take(MAX_HEALTH_BYTES)
        .read_to_end(&mut body)
        .map_err(|e| unreachable(e.to_string()))?;
    let health: NodeHealth = serde_json::from_slice(&body).map_err(|e| NodeError::Refused {
        status,
        message: format!("not a node's health answer: {e}"),
    })?;
    if health.operator != *operator {
        return Err(NodeError::Refused {
            status,
            message: format!(
                "the node there serves operator {}, not {operator}",
                health.operator
            ),
        });
    }
    Ok(())
}

/// Checks a node URL: `https://`, or `http://` to a loopback address.
pub fn check_node_url(url: &str) -> Result<url::Url, NodeError> {
    let parsed = url::Url::parse(url).map_err(|e| NodeError::Url(format!("{url:?}: {e}")))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(NodeError::Url(format!(
            "{url} is plain HTTP to a remote host; nodes serve https (http only on loopback)"
        ))),
        other => Err(NodeError::Url(format!(
            "{url} has scheme {other}; a node is reached over https (or http on loopback)"
        ))),
    }
}

/// The URL where a node serves `job`'s result.
pub fn result_url(endpoint: &str, job: &Pubkey) -> String {
    format!("{}/v1/jobs/{job}/result", endpoint.trim_end_matches('/'))
}

/// A client of one node's job API, signing as a job's client.
pub struct NodeClient<'k> {
    http: reqwest::blocking::Client,
    base: url::Url,
    signer: &'k Keypair,
}

/// Reads through `inner`, telling `progress` the bytes read so far.
struct Progress<R, F> {
    inner: R,
    done: u64,
    progress: F,
}

impl<R: Read, F: FnMut(u64)> Read for Progress<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done = self.done.saturating_add(n as u64);
        (self.progress)(self.done);
        Ok(n)
    }
}

impl<'k> NodeClient<'k> {
    /// A client of the node at `endpoint` (its provider account's endpoint), signing with
    /// `signer`.
    pub fn new(endpoint: &str, signer: &'k Keypair) -> Result<Self, NodeError> {
        let base = check_node_url(endpoint)?;
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(None)
            // A redirect would take the signed request to a URL nobody checked.
            .redirect(reqwest::redirect::Policy::none())
            // A node closes a connection whose upload it refused before reading it; a
            // pooled connection could be that one. Requests are few, so each gets its own.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| NodeError::Url(e.to_string()))?;
        Ok(Self { http, base, signer })
    }

    fn url(&self, path_and_query: &str) -> Result<url::Url, NodeError> {
        let mut base = self.base.clone();
        let prefix = base.path().trim_end_matches('/').to_owned();
        base.set_path("");
        let joined = format!("{prefix}{path_and_query}");
        base.join(&joined)
            .map_err(|e| NodeError::Url(format!("{joined}: {e}")))
    }

    fn request(
        &self,
        method: reqwest::Method,
        url: &url::Url,
        job: &Pubkey,
        body_sha256: [u8; 32],
    ) -> reqwest::blocking::RequestBuilder {
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let headers = SignedHeaders::sign(
            self.signer,
            method.as_str(),
            &target,
            job,
            unix_now(),
            body_sha256,
        );
        headers
            .pairs()
            .into_iter()
            .fold(self.http.request(method, url.clone()), |r, (k, v)| {
                r.header(k, v)
            })
    }

    fn send(
        &self,
        request: reqwest::blocking::RequestBuilder,
        url: &url::Url,
    ) -> Result<reqwest::blocking::Response, NodeError> {
        let response = request.send().map_err(|e| NodeError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let mut text = String::new();
        // A node's error message is short; anything longer is cut.
        let _ = response.take(MAX_ERROR_BYTES).read_to_string(&mut text);
        let message = serde_json::from_str::<ErrorBody>(&text)
            .map(|b| b.error)
            .unwrap_or(text);
        Err(NodeError::Refused {
            status: status.as_u16(),
            message,
        })
    }

    /// Where `job` stands on the node.
    pub fn status(&self, job: &Pubkey) -> Result<NodeJobStatus, NodeError> {
        let url = self.url(&format!("/v1/jobs/{job}"))?;
        let response = self.send(
            self.request(reqwest::Method::GET, &url, job, sha256(b"")),
            &url,
        )?;
        response.json().map_err(|e| NodeError::Refused {
            status: 200,
            message: format!("unreadable status: {e}"),
        })
    }

    fn put_bytes(&self, job: &Pubkey, what: &str, body: Vec<u8>) -> Result<(), NodeError> {
        let url = self.url(&format!("/v1/jobs/{job}/{what}"))?;
        let request = self
            .request(reqwest::Method::PUT, &url, job, sha256(&body))
            .body(body);
        self.send(request, &url).map(drop)
    }

    /// Uploads the job's canonical manifest.
    pub fn put_manifest(&self, job: &Pubkey, canonical: &[u8]) -> Result<(), NodeError> {
        self.put_bytes(job, "manifest", canonical.to_vec())
    }

    /// Uploads secrets sealed to the node's operator ([`seal_secrets`]).
    pub fn put_secrets(&self, job: &Pubkey, sealed: Vec<u8>) -> Result<(), NodeError> {
        self.put_bytes(job, "secrets", sealed)
    }

    /// Uploads the input tar at `path`, whose SHA-256 is `sha256`, reporting bytes sent.
    pub fn put_input(
        &self,
        job: &Pubkey,
        path: &Path,
        sha256: [u8; 32],
        progress: impl FnMut(u64) + Send + 'static,
    ) -> Result<(), NodeError> {
        let url = self.url(&format!("/v1/jobs/{job}/input"))?;
        let file = File::open(path).map_err(|source| NodeError::Io {
            context: format!("opening {}", path.display()),
            source,
        })?;
        let len = file
            .metadata()
            .map_err(|source| NodeError::Io {
                context: format!("reading {}", path.display()),
                source,
            })?
            .len();
        let body = reqwest::blocking::Body::sized(
            Progress {
                inner: file,
                done: 0,
                progress,
            },
            len,
        );
        let request = self
            .request(reqwest::Method::PUT, &url, job, sha256)
            .body(body);
        self.send(request, &url).map(drop)
    }

    /// Log bytes from `offset`, waiting up to `wait` seconds for some to appear.
    pub fn logs(&self, job: &Pubkey, offset: u64, wait: u64) -> Result<LogChunk, NodeError> {
        let url = self.url(&format!("/v1/jobs/{job}/logs?offset={offset}&wait={wait}"))?;
        let mut response = self.send(
            self.request(reqwest::Method::GET, &url, job, sha256(b"")),
            &url,
        )?;
        let done = response
            .headers()
            .get(LOG_DONE_HEADER)
            .is_some_and(|v| v == "true");
        let mut bytes = Vec::new();
        (&mut response)
            .take(MAX_LOG_CHUNK)
            .read_to_end(&mut bytes)
            .map_err(|source| NodeError::Io {
                context: format!("reading the log of job {job}"),
                source,
            })?;
        Ok(LogChunk {
            next: offset.saturating_add(bytes.len() as u64),
            bytes,
            done,
        })
    }

    /// Downloads the result tar of `job` from `url` (the URI the chain holds) into the file
    /// `dest`, reporting bytes received, and stops past `max_bytes`; returns its SHA-256
    /// and size.
    pub fn download(
        &self,
        job: &Pubkey,
        url: &str,
        dest: &Path,
        max_bytes: u64,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<([u8; 32], u64), NodeError> {
        let url = check_node_url(url)?;
        let mut response = self.send(
            self.request(reqwest::Method::GET, &url, job, sha256(b"")),
            &url,
        )?;
        let total = response.content_length();
        let io_err = |source| NodeError::Io {
            context: format!("writing {}", dest.display()),
            source,
        };
        let mut out = HashingWriter::new(File::create(dest).map_err(io_err)?);
        let mut buf = vec![0; 256 * 1024];
        let mut received = 0u64;
        loop {
            let n = response.read(&mut buf).map_err(|source| NodeError::Io {
                context: format!("downloading {url}"),
                source,
            })?;
            if n == 0 {
                break;
            }
            received = received.saturating_add(n as u64);
            if received > max_bytes {
                return Err(NodeError::TooLarge(max_bytes));
            }
            io::Write::write_all(&mut out, &buf[..n]).map_err(io_err)?;
            progress(received, total);
        }
        let (file, digest, bytes) = out.finish();
        file.sync_all().map_err(io_err)?;
        Ok((digest, bytes))
    }

    /// Downloads `job`'s result from `url`, checks it against `expected` (the hash the chain
    /// holds) before unpacking anything, and unpacks it into `dest`. On a mismatch nothing is
    /// kept. Returns the archive's size.
    pub fn download_verified(
        &self,
        job: &Pubkey,
        url: &str,
        expected: &[u8; 32],
        dest: &Path,
        max_bytes: u64,
        progress: impl FnMut(u64, Option<u64>),
    ) -> Result<u64, NodeError> {
        fs::create_dir_all(dest).map_err(|source| NodeError::Io {
            context: format!("creating {}", dest.display()),
            source,
        })?;
        let staging = tempfile::Builder::new()
            .prefix(".gpu-market-result-")
            .tempfile_in(dest)
            .map_err(|source| NodeError::Io {
                context: format!("creating a download file in {}", dest.display()),
                source,
            })?;
        let (actual, bytes) = self.download(job, url, staging.path(), max_bytes, progress)?;
        if actual != *expected {
            return Err(NodeError::ResultMismatch {
                expected: *expected,
                actual,
            });
        }
        archive::unpack(staging.path(), dest, max_bytes)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_token_holds_for_its_job_its_client_and_its_time_only() {
        let client = Keypair::new();
        let job = Pubkey::new_unique();
        let token = ServiceToken::issue(&client, &job, 5_000);
        let parsed = ServiceToken::parse(&token.to_string()).unwrap();
        assert_eq!(parsed, token);
        parsed.verify(&job, &client.pubkey(), 4_999).unwrap();
        assert_eq!(
            parsed.verify(&job, &client.pubkey(), 5_000),
            Err(AuthError::TokenExpired { expires: 5_000 })
        );
        assert_eq!(
            parsed.verify(&Pubkey::new_unique(), &client.pubkey(), 4_000),
            Err(AuthError::BadToken)
        );
        assert_eq!(
            parsed.verify(&job, &Keypair::new().pubkey(), 4_000),
            Err(AuthError::BadToken)
        );
        let forever = ServiceToken::issue(&client, &job, 1_000 + MAX_TOKEN_LIFETIME + 1);
        assert_eq!(
            forever.verify(&job, &client.pubkey(), 1_000),
            Err(AuthError::TokenTooLong {
                expires: 1_000 + MAX_TOKEN_LIFETIME + 1
            })
        );
        for bad in ["", "5000", "x.abc", "5000.abc", "5000.0OIl"] {
            assert_eq!(
                ServiceToken::parse(bad),
                Err(AuthError::Malformed(SERVICE_TOKEN_HEADER)),
                "{bad:?}"
            );
        }
        assert_eq!(
            service_url("https://node.example/", &job, 8080),
            format!("https://node.example/v1/jobs/{job}/service/8080/")
        );
    }

    #[test]
    fn a_signature_verifies_only_for_what_it_signed() {
        let client = Keypair::new();
        let job = Pubkey::new_unique();
        let signed = SignedHeaders::sign(
            &client,
            "GET",
            "/v1/jobs/x/logs?offset=0",
            &job,
            1000,
            sha256(b""),
        );
        signed
            .verify("GET", "/v1/jobs/x/logs?offset=0", &job, 1030)
            .unwrap();
        let parsed = SignedHeaders::parse(|name| {
            signed
                .pairs()
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| &*v.clone().leak())
        })
        .unwrap();
        assert_eq!(parsed, signed);
        // Another path, method, job or time window fails.
        assert_eq!(
            signed.verify("GET", "/v1/jobs/x/logs?offset=5", &job, 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            signed.verify("PUT", "/v1/jobs/x/logs?offset=0", &job, 1000),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            signed.verify(
                "GET",
                "/v1/jobs/x/logs?offset=0",
                &Pubkey::new_unique(),
                1000
            ),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            signed.verify("GET", "/v1/jobs/x/logs?offset=0", &job, 1061),
            Err(AuthError::Stale {
                timestamp: 1000,
                now: 1061
            })
        );
        assert_eq!(
            signed.verify("GET", "/v1/jobs/x/logs?offset=0", &job, 939),
            Err(AuthError::Stale {
                timestamp: 1000,
                now: 939
            })
        );
        let mut forged = signed.clone();
        forged.signer = Keypair::new().pubkey();
        assert_eq!(
            forged.verify("GET", "/v1/jobs/x/logs?offset=0", &job, 1000),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn secrets_open_only_with_the_operator_key() {
        let operator = Keypair::new();
        let secrets = BTreeMap::from([("HF_TOKEN".to_owned(), "hf_s3cret".to_owned())]);
        let sealed = seal_secrets(&operator.pubkey(), &secrets).unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"hf_s3cret"));
        assert_eq!(open_secrets(&operator, &sealed).unwrap(), secrets);
        assert_eq!(
            open_secrets(&Keypair::new(), &sealed),
            Err(SealError::Crypto)
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(open_secrets(&operator, &tampered), Err(SealError::Crypto));
    }

    #[test]
    fn node_urls_are_https_or_loopback_http() {
        assert!(check_node_url("https://node.example:8443").is_ok());
        assert!(check_node_url("http://127.0.0.1:8700").is_ok());
        assert!(check_node_url("http://localhost:8700").is_ok());
        assert!(check_node_url("http://[::1]:8700").is_ok());
        assert!(matches!(
            check_node_url("http://node.example:8700"),
            Err(NodeError::Url(m)) if m.contains("plain HTTP to a remote host")
        ));
        assert!(matches!(
            check_node_url("file:///tmp/x"),
            Err(NodeError::Url(m)) if m.contains("scheme file")
        ));
    }
}
