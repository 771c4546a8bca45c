//! What the CLI does over a node's job API: pack a manifest job's inputs, seal its secrets,
//! upload both to the node that took the job, stream its log, download and verify its
//! result, and hand out the URL and token of a lease's service.

use crate::{CliError, Context};
use clap::Args;
use gpu_market_client::{
    archive,
    escrow::{Job, JobStatus},
    manifest::{InputDigest, Manifest, ManifestFile},
    node_api::{self, NodeClient, NodeError, NodeJobStatus},
    pda,
    registry::Provider,
    Chain, Pubkey,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::{
    collections::BTreeMap,
    fmt, fs,
    io::Write,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Largest manifest file read.
const MAX_MANIFEST_FILE: u64 = 1 << 20;
/// Largest secrets file read.
const MAX_SECRETS_FILE: u64 = 1 << 20;
/// Largest result unpacked.
const MAX_RESULT_BYTES: u64 = 1 << 40;
/// How long a node may take to notice the job it was given.
const NODE_CATCH_UP: Duration = Duration::from_secs(60);
/// How long `job logs --follow` asks the node to wait for new lines per request.
const FOLLOW_WAIT: u64 = 25;

/// Secret values for a manifest job.
#[derive(Args, Default)]
pub struct SecretArgs {
    /// A secret the manifest names: NAME=VALUE, or NAME to take the value from the
    /// environment variable NAME. Sealed to the node's operator key after assignment;
    /// never on chain, never in the manifest. Repeatable.
    #[arg(long = "secret", value_name = "NAME[=VALUE]")]
    pub secrets: Vec<String>,
    /// A file of NAME=VALUE lines (blank lines and lines starting with # are skipped).
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
}

impl fmt::Debug for SecretArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values never reach a log or a panic message.
        f.debug_struct("SecretArgs")
            .field("secrets", &self.secrets.len())
            .field("secret_file", &self.secret_file)
            .finish()
    }
}

impl From<NodeError> for CliError {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Unreachable { .. } => CliError::Network(e.to_string()),
            // A node that fails on its side, or is busy, is a network-kind failure: try
            // again later.
            NodeError::Refused { status, .. } if status >= 500 => CliError::Network(e.to_string()),
            NodeError::Io { source, context } => CliError::Io(std::io::Error::new(
                source.kind(),
                format!("{context}: {source}"),
            )),
            other => CliError::Input(other.to_string()),
        }
    }
}

/// A manifest resolved for this job, with its inputs packed.
pub struct Prepared {
    pub manifest: Manifest,
    /// The packed inputs, in a directory removed on drop.
    pub input: Option<(tempfile::TempDir, PathBuf, InputDigest)>,
}

/// Reads `path` (job.toml), packs its `inputs` (relative to its directory) and `extra`
/// into one tar, and resolves the canonical manifest.
pub fn prepare(path: &Path, extra: &[PathBuf]) -> Result<Prepared, CliError> {
    let text = read_bounded(path, MAX_MANIFEST_FILE, "manifest")?;
    let file = ManifestFile::parse(&text)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut inputs: Vec<PathBuf> = file.inputs.iter().map(|p| base.join(p)).collect();
    inputs.extend(extra.iter().cloned());
    let input = if inputs.is_empty() {
        None
    } else {
        for input in &inputs {
            if !input.exists() {
                return Err(CliError::input(format!(
                    "input {} does not exist",
                    input.display()
                )));
            }
        }
        let dir = tempfile::tempdir()?;
        let tar = dir.path().join("input.tar");
        let (sha256, bytes) =
            archive::pack(&inputs, &tar).map_err(|e| CliError::input(e.to_string()))?;
        Some((dir, tar, InputDigest { sha256, bytes }))
    };
    let manifest = file
        .resolve(input.as_ref().map(|(_, _, digest)| *digest))
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let workload = manifest.workload();
    if workload.uri.len() > job_escrow::constants::MAX_URI_LEN {
        return Err(CliError::input(format!(
            "the image reference is too long: the workload URI {} is {} bytes; at most {} fit on chain",
            workload.uri,
            workload.uri.len(),
            job_escrow::constants::MAX_URI_LEN
        )));
    }
    Ok(Prepared { manifest, input })
}

fn read_bounded(path: &Path, max: u64, what: &str) -> Result<String, CliError> {
    let len = fs::metadata(path)
        .map_err(|e| CliError::input(format!("cannot read {what} {}: {e}", path.display())))?
        .len();
    if len > max {
        return Err(CliError::input(format!(
            "{what} {} is {len} bytes; at most {max}",
            path.display()
        )));
    }
    fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read {what} {}: {e}", path.display())))
}

/// The secret values given on the command line, checked against the names `manifest` lists.
pub fn read_secrets(
    args: &SecretArgs,
    manifest: &Manifest,
) -> Result<BTreeMap<String, String>, CliError> {
    let mut secrets = BTreeMap::new();
    let mut add = |name: &str, value: String, from: &str| -> Result<(), CliError> {
        if secrets.insert(name.to_owned(), value).is_some() {
            return Err(CliError::input(format!(
                "secret {name} is given twice ({from})"
            )));
        }
        Ok(())
    };
    if let Some(path) = &args.secret_file {
        let text = read_bounded(path, MAX_SECRETS_FILE, "secret file")?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line.split_once('=').ok_or_else(|| {
                CliError::input(format!(
                    "{} line {}: expected NAME=VALUE",
                    path.display(),
                    n + 1
                ))
            })?;
            add(name.trim(), value.to_owned(), &path.display().to_string())?;
        }
    }
    for given in &args.secrets {
        match given.split_once('=') {
            Some((name, value)) => add(name, value.to_owned(), "--secret")?,
            None => {
                let value = std::env::var(given).map_err(|_| {
                    CliError::input(format!(
                        "--secret {given}: no environment variable {given} to take the value from (give NAME=VALUE)"
                    ))
                })?;
                add(given, value, "--secret")?;
            }
        }
    }
    for (name, value) in &secrets {
        gpu_market_client::manifest::check_env_value(&format!("secret {name}"), value)
            .map_err(|e| CliError::input(e.to_string()))?;
        if !manifest.secrets.contains(name) {
            return Err(CliError::input(format!(
                "secret {name} is not one the manifest names ({}); add it to `secrets` in the manifest",
                manifest.secrets.join(", ")
            )));
        }
    }
    for name in &manifest.secrets {
        if !secrets.contains_key(name) {
            return Err(CliError::input(format!(
                "the manifest names secret {name}: give its value with --secret {name}=VALUE, --secret {name} (from the environment) or --secret-file"
            )));
        }
    }
    Ok(secrets)
}

/// The node holding `job`: its operator key and endpoint.
pub fn node_of<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    job: &Job,
) -> Result<(Pubkey, String), CliError> {
    let assignment = job.assignment.ok_or_else(|| {
        CliError::input(format!(
            "job {address} is {}: no node holds it yet",
            crate::job::status_name(job.status)
        ))
    })?;
    let provider: Provider = ctx.chain.fetch(&pda::provider(&assignment.authority))?;
    Ok((provider.operator, provider.endpoint))
}

fn bar(ctx_progress: bool, len: Option<u64>, what: &str) -> ProgressBar {
    if !ctx_progress {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::new_spinner(),
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_owned());
    bar
}

/// What an upload sent.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    pub job: String,
    pub node: String,
    pub manifest_sha256: String,
    pub input_bytes: u64,
    pub secrets: Vec<String>,
}

impl fmt::Display for Uploaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "uploaded job {} to {}: manifest {}, {} input bytes, secrets [{}]",
            self.job,
            self.node,
            self.manifest_sha256,
            self.input_bytes,
            self.secrets.join(", ")
        )
    }
}

/// Uploads the manifest, inputs and sealed secrets of the job at `address` to its node.
pub fn upload<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    job: &Job,
    prepared: &Prepared,
    secrets: &BTreeMap<String, String>,
) -> Result<Uploaded, CliError> {
    let workload = prepared.manifest.workload();
    if workload != job.workload {
        return Err(CliError::input(format!(
            "this manifest (with these inputs) hashes to {}, but job {address} pins {}: upload the manifest and inputs the job was posted with",
            gpu_market_client::hex::encode(&workload.content_hash),
            gpu_market_client::hex::encode(&job.workload.content_hash)
        )));
    }
    let (operator, endpoint) = node_of(ctx, address, job)?;
    let signer = ctx.signer()?;
    let client = NodeClient::new(&endpoint, signer)?;
    // The node learns of its assignment at its next pass over the chain.
    let deadline = Instant::now() + NODE_CATCH_UP;
    loop {
        match client.put_manifest(address, &prepared.manifest.canonical_bytes()) {
            Err(NodeError::Refused { status: 404, .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_secs(1));
            }
            done => break done?,
        }
    }
    let mut input_bytes = 0;
    if let Some((_, tar, digest)) = &prepared.input {
        let progress = bar(ctx.progress, Some(digest.bytes), "uploading");
        let shown = progress.clone();
        client.put_input(address, tar, digest.sha256, move |n| shown.set_position(n))?;
        progress.finish_and_clear();
        input_bytes = digest.bytes;
    }
    if !secrets.is_empty() {
        let sealed = node_api::seal_secrets(&operator, secrets)
            .map_err(|e| CliError::input(e.to_string()))?;
        client.put_secrets(address, sealed)?;
    }
    Ok(Uploaded {
        job: address.to_string(),
        node: endpoint,
        manifest_sha256: gpu_market_client::hex::encode(&workload.content_hash),
        input_bytes,
        secrets: secrets.keys().cloned().collect(),
    })
}

/// What the node holding `job` reports of it.
pub fn node_status<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    job: &Job,
) -> Result<NodeJobStatus, CliError> {
    let (_, endpoint) = node_of(ctx, address, job)?;
    let client = NodeClient::new(&endpoint, ctx.signer()?)?;
    Ok(client.status(address)?)
}

/// A lease's service, as `job endpoint` prints it.
#[derive(Debug, Serialize)]
pub struct Endpoint {
    pub job: String,
    pub services: Vec<ServiceView>,
    /// The header every request carries.
    pub token_header: &'static str,
    pub token: String,
    /// When the token expires (UTC).
    pub expires_at: String,
    /// How long it is valid from now.
    pub valid_for: String,
}

/// One exposed port.
#[derive(Debug, Serialize)]
pub struct ServiceView {
    pub port: u16,
    pub url: String,
    pub health: String,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for service in &self.services {
            writeln!(
                f,
                "port {}  {}  ({})",
                service.port, service.url, service.health
            )?;
        }
        writeln!(
            f,
            "token    {} (valid for {}, until {}, or until the lease ends)",
            self.token, self.valid_for, self.expires_at
        )?;
        if let Some(first) = self.services.first() {
            write!(
                f,
                "try      curl -H '{}: {}' {}",
                self.token_header, self.token, first.url
            )?;
        }
        Ok(())
    }
}

/// The URLs of a running job's services and a token for them, valid for `valid` seconds.
pub fn endpoint<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    job: &Job,
    port: Option<u16>,
    valid: i64,
) -> Result<Endpoint, CliError> {
    if valid <= 0 || valid > node_api::MAX_TOKEN_LIFETIME {
        return Err(CliError::input(
            "--valid must be more than 0 and at most 30d: nodes refuse longer tokens",
        ));
    }
    let (_, url) = node_of(ctx, address, job)?;
    let status = NodeClient::new(&url, ctx.signer()?)?.status(address)?;
    if status.health.is_empty() {
        return Err(CliError::input(format!(
            "job {address} exposes no ports: its manifest has no [[ports]]"
        )));
    }
    if let Some(port) = port.filter(|p| !status.health.contains_key(p)) {
        let exposed: Vec<u16> = status.health.keys().copied().collect();
        return Err(CliError::input(format!(
            "job {address} exposes no port {port}; its manifest exposes {exposed:?}"
        )));
    }
    let expires_at = node_api::unix_now().saturating_add(valid);
    let token = node_api::ServiceToken::issue(ctx.signer()?, address, expires_at);
    Ok(Endpoint {
        job: address.to_string(),
        services: status
            .health
            .into_iter()
            .filter(|(p, _)| port.is_none_or(|wanted| wanted == *p))
            .map(|(port, health)| ServiceView {
                port,
                url: node_api::service_url(&url, address, port),
                health,
            })
            .collect(),
        token_header: node_api::SERVICE_TOKEN_HEADER,
        token: token.to_string(),
        expires_at: crate::output::date(expires_at),
        valid_for: crate::units::format_duration(valid),
    })
}

/// Polls the job until `until` holds for it (or it is closed: `None`), every `interval`.
pub fn wait_for<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    interval: Duration,
    mut until: impl FnMut(&Job) -> bool,
) -> Result<Option<Job>, CliError> {
    loop {
        if !ctx.chain.exists(address)? {
            return Ok(None);
        }
        let job: Job = ctx.chain.fetch(address)?;
        if until(&job) {
            return Ok(Some(job));
        }
        std::thread::sleep(interval);
    }
}

/// Writes the job's log to `out`: what there is, or (`follow`) everything until the
/// workload ends. Returns the bytes written.
pub fn logs<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    job: &Job,
    follow: bool,
    out: &mut dyn Write,
) -> Result<u64, CliError> {
    let (_, endpoint) = node_of(ctx, address, job)?;
    let client = NodeClient::new(&endpoint, ctx.signer()?)?;
    let mut offset = 0u64;
    loop {
        let chunk = client.logs(address, offset, if follow { FOLLOW_WAIT } else { 0 })?;
        out.write_all(&chunk.bytes)?;
        out.flush()?;
        let empty = chunk.bytes.is_empty();
        offset = chunk.next;
        if chunk.done || (!follow && empty) {
            return Ok(offset);
        }
    }
}

/// A verified download.
#[derive(Debug, Serialize)]
pub struct Downloaded {
    pub job: String,
    pub directory: String,
    pub sha256: String,
    pub bytes: u64,
    pub seconds: f64,
}

impl fmt::Display for Downloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "downloaded the result of job {} into {} ({} bytes, sha256 {} matches the chain)",
            self.job, self.directory, self.bytes, self.sha256
        )
    }
}

/// Downloads the result the chain commits for `job`, verifies its SHA-256 against the
/// chain before unpacking anything, and unpacks it into `dir`.
pub fn download<C: Chain>(
    ctx: &mut Context<C>,
    address: &Pubkey,
    job: &Job,
    dir: &Path,
) -> Result<Downloaded, CliError> {
    let result = job.result.as_ref().ok_or_else(|| {
        CliError::input(format!(
            "job {address} is {}: it has no result on chain yet",
            crate::job::status_name(job.status)
        ))
    })?;
    if job.status != JobStatus::ResultSubmitted && job.status != JobStatus::Disputed {
        return Err(CliError::input(format!(
            "job {address} is {}: its result is not on chain",
            crate::job::status_name(job.status)
        )));
    }
    // The result must come from the node that holds the job, not from wherever its URI
    // points: a node could otherwise make the client fetch from any address.
    let (_, endpoint) = node_of(ctx, address, job)?;
    let origin = |url: &str| node_api::check_node_url(url).map(|u| u.origin());
    if origin(&result.uri)? != origin(&endpoint)? {
        return Err(CliError::input(format!(
            "the result URI {} is not at the node's endpoint {endpoint}; not downloading it. Dispute the job with `gpu-market job dispute {address}` within the challenge window",
            result.uri
        )));
    }
    let client = NodeClient::new(&endpoint, ctx.signer()?)?;
    let progress = bar(ctx.progress, None, "downloading");
    let started = Instant::now();
    let bytes = client.download_verified(
        address,
        &result.uri,
        &result.hash,
        dir,
        MAX_RESULT_BYTES,
        |done, total| {
            if let Some(total) = total {
                progress.set_length(total);
            }
            progress.set_position(done);
        },
    );
    progress.finish_and_clear();
    let bytes = bytes?;
    Ok(Downloaded {
        job: address.to_string(),
        directory: dir.display().to_string(),
        sha256: gpu_market_client::hex::encode(&result.hash),
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}
