//! The workload manifest: what a job runs, written by the startup as TOML and pinned on chain
//! by the SHA-256 of its canonical bytes.
//!
//! The TOML names local paths (`inputs`); [`ManifestFile::resolve`] packs them into one tar
//! (see [`crate::archive`]) and writes its digest into the canonical [`Manifest`], whose JSON
//! bytes ([`Manifest::canonical_bytes`]) are what the node receives and hashes. The job's
//! workload on chain is `manifest:oci://<image>` or `manifest:process` with that hash as
//! its content hash, so a node can prove it ran exactly what was asked, and an executor knows
//! from the chain alone whether it can run the job.
//!
//! Everything here also arrives at a node from a stranger, so [`Manifest::validate`] bounds
//! every field and keeps what reaches a container engine's command line from reading as an
//! option.

use job_escrow::state::Workload;
use serde::{Deserialize, Serialize};
use std::{collections::BTreeMap, path::PathBuf};

/// The version this client writes and nodes accept.
pub const VERSION: u32 = 1;
/// Largest canonical manifest a node accepts.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024;
/// Most arguments of a command (`command` plus `args`).
pub const MAX_ARGS: usize = 256;
/// Longest single argument, environment value or path.
pub const MAX_VALUE_LEN: usize = 4096;
/// Most public environment variables.
pub const MAX_ENV: usize = 128;
/// Most secret names.
pub const MAX_SECRETS: usize = 32;
/// Most exposed ports.
pub const MAX_PORTS: usize = 8;
/// The workload URI prefix of manifest jobs.
pub const SCHEME: &str = "manifest:";
/// Where a container sees the job's inputs (read-only) unless the manifest says otherwise.
pub const DEFAULT_INPUT_DIR: &str = "/input";
/// Where a container writes its results unless the manifest says otherwise.
pub const DEFAULT_OUTPUT_DIR: &str = "/output";
/// Environment variables the node sets itself; a manifest may not set them.
pub const RESERVED_ENV_PREFIX: &str = "GPU_MARKET_";
/// The NVIDIA container runtime's variables, which choose the GPUs a container sees.
pub const NVIDIA_ENV_PREFIX: &str = "NVIDIA_";

/// What runs the workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Runner {
    /// A container image pinned by its manifest digest.
    Oci {
        /// Image reference without digest, e.g. `ghcr.io/acme/train`.
        image: String,
        /// `sha256:<64 hex>`.
        digest: String,
    },
    /// A local process (argv, no shell), for nodes that trust their clients.
    Process {
        /// The program and its first arguments.
        command: Vec<String>,
    },
}

/// The digest of the job's packed inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDigest {
    /// SHA-256 of the tar, hex.
    #[serde(with = "hex_32")]
    pub sha256: [u8; 32],
    /// Size of the tar.
    pub bytes: u64,
}

/// A port the workload serves (a lease's service).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    /// The port inside the workload.
    pub port: u16,
    /// An HTTP path the node polls to report the service's health, e.g. `/health`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
}

/// The canonical manifest: what the node receives, what the chain pins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`VERSION`].
    pub version: u32,
    /// What runs.
    pub runner: Runner,
    /// Arguments after the image's entrypoint or the command.
    pub args: Vec<String>,
    /// Public environment (secrets never go here).
    pub env: BTreeMap<String, String>,
    /// Names of the secrets the workload expects; their values are sealed to the node.
    pub secrets: Vec<String>,
    /// Where, inside a container, the workload writes its results.
    pub output_dir: String,
    /// Where, inside a container, the workload finds its inputs.
    pub input_dir: String,
    /// The packed inputs, if any.
    pub input: Option<InputDigest>,
    /// Exposed ports.
    pub ports: Vec<Port>,
}

/// Why a manifest is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid TOML: {0}")]
    Toml(String),
    #[error("the manifest is not valid JSON: {0}")]
    Json(String),
    #[error("the manifest is {0} bytes; at most {MAX_MANIFEST_BYTES} are accepted")]
    TooLarge(usize),
    #[error("manifest version {0} is not supported (this node speaks version {VERSION})")]
    Version(u32),
    #[error("the manifest {0}")]
    Invalid(String),
    #[error("the manifest's bytes are not in canonical form")]
    NotCanonical,
    #[error(
        "the manifest hashes to {} but the job pins {}",
        crate::hex::encode(.actual),
        crate::hex::encode(.pinned)
    )]
    HashMismatch { actual: [u8; 32], pinned: [u8; 32] },
}

fn invalid(reason: impl Into<String>) -> ManifestError {
    ManifestError::Invalid(reason.into())
}

impl Manifest {
    /// The bytes the chain pins: compact JSON, fields in declaration order, `env` sorted.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        // Serialising plain structs, strings and a BTreeMap cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// SHA-256 of [`Manifest::canonical_bytes`].
    pub fn content_hash(&self) -> [u8; 32] {
        solana_sha256_hasher::hash(&self.canonical_bytes()).to_bytes()
    }

    /// The on-chain workload of a job that runs this manifest.
    pub fn workload(&self) -> Workload {
        Workload {
            content_hash: self.content_hash(),
            uri: match &self.runner {
                Runner::Oci { image, .. } => format!("{SCHEME}oci://{image}"),
                Runner::Process { .. } => format!("{SCHEME}process"),
            },
        }
    }

    /// A manifest received by a node: bounded, canonical, valid, and hashing to `pinned`.
    pub fn from_canonical(bytes: &[u8], pinned: &[u8; 32]) -> Result<Self, ManifestError> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(bytes.len()));
        }
        let actual = solana_sha256_hasher::hash(bytes).to_bytes();
        if actual != *pinned {
            return Err(ManifestError::HashMismatch {
                actual,
                pinned: *pinned,
            });
        }
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
        manifest.validate()?;
        if manifest.canonical_bytes() != bytes {
            return Err(ManifestError::NotCanonical);
        }
        Ok(manifest)
    }

    /// Checks every bound; the node runs nothing that fails it.
    pub fn validate(&self) -> Result<(), ManifestError> {
        if self.version != VERSION {
            return Err(ManifestError::Version(self.version));
        }
        match &self.runner {
            Runner::Oci { image, digest } => {
                check_image(image)?;
                parse_digest(digest)?;
            }
            Runner::Process { command } => {
                if command.first().is_none_or(|p| p.is_empty()) {
                    return Err(invalid("command is empty"));
                }
            }
        }
        let argc = match &self.runner {
            Runner::Process { command } => command.len(),
            Runner::Oci { .. } => 0,
        }
        .saturating_add(self.args.len());
        if argc > MAX_ARGS {
            return Err(invalid(format!("has {argc} arguments; at most {MAX_ARGS}")));
        }
        let args = match &self.runner {
            Runner::Process { command } => command.iter().chain(&self.args).collect::<Vec<_>>(),
            Runner::Oci { .. } => self.args.iter().collect(),
        };
        for arg in args {
            check_value("an argument", arg)?;
        }
        if self.env.len() > MAX_ENV {
            return Err(invalid(format!(
                "sets {} environment variables; at most {MAX_ENV}",
                self.env.len()
            )));
        }
        for (name, value) in &self.env {
            check_env_name(name)?;
            check_env_value(&format!("environment variable {name}"), value)?;
        }
        if self.secrets.len() > MAX_SECRETS {
            return Err(invalid(format!(
                "names {} secrets; at most {MAX_SECRETS}",
                self.secrets.len()
            )));
        }
        for name in &self.secrets {
            check_env_name(name)?;
            if self.env.contains_key(name) {
                return Err(invalid(format!(
                    "names {name} both as a public variable and as a secret"
                )));
            }
        }
        let mut sorted = self.secrets.clone();
        sorted.sort();
        sorted.dedup();
        if sorted != self.secrets {
            return Err(invalid("secret names must be sorted and unique"));
        }
        check_container_dir("output_dir", &self.output_dir)?;
        check_container_dir("input_dir", &self.input_dir)?;
        if self.output_dir == self.input_dir {
            return Err(invalid("output_dir and input_dir must differ"));
        }
        if self.ports.len() > MAX_PORTS {
            return Err(invalid(format!(
                "exposes {} ports; at most {MAX_PORTS}",
                self.ports.len()
            )));
        }
        for (i, port) in self.ports.iter().enumerate() {
            if port.port == 0 {
                return Err(invalid("exposes port 0"));
            }
            if self.ports[..i].iter().any(|p| p.port == port.port) {
                return Err(invalid(format!("exposes port {} twice", port.port)));
            }
            if let Some(health) = &port.health {
                let ok = health.starts_with('/')
                    && health.len() <= 256
                    && health
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/._-~?=&%".contains(c));
                if !ok {
                    return Err(invalid(format!(
                        "health check {health:?} is not an HTTP path like /health"
                    )));
                }
            }
        }
        if self.canonical_bytes().len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge(self.canonical_bytes().len()));
        }
        Ok(())
    }

    /// The image digest of an OCI manifest.
    pub fn image_digest(&self) -> Option<[u8; 32]> {
        match &self.runner {
            Runner::Oci { digest, .. } => parse_digest(digest).ok(),
            Runner::Process { .. } => None,
        }
    }
}

/// Whether a job's workload is a manifest.
pub fn is_manifest(workload: &Workload) -> bool {
    workload.uri.starts_with(SCHEME)
}

/// `sha256:<64 hex>` (or the bare 64 hex) as bytes.
pub fn parse_digest(digest: &str) -> Result<[u8; 32], ManifestError> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    crate::hex::decode_32(hex).ok_or_else(|| {
        invalid(format!(
            "digest {digest:?} is not sha256: followed by 64 hex digits"
        ))
    })
}

/// An image reference lands on a container engine's command line: it must not read as an
/// option, and a digest of its own would bypass the pin.
pub fn check_image(image: &str) -> Result<(), ManifestError> {
    if image.is_empty() || image.len() > 255 {
        return Err(invalid("image must be 1 to 255 characters"));
    }
    if !image.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid("image must start with a letter or digit"));
    }
    if image.contains('@') {
        return Err(invalid(
            "image must not carry a digest of its own; give it as `digest`",
        ));
    }
    if !image
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c))
    {
        return Err(invalid("image may only contain letters, digits and ._-/:"));
    }
    Ok(())
}

fn check_env_name(name: &str) -> Result<(), ManifestError> {
    let valid = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(invalid(format!(
            "variable name {name:?} is not a shell variable name (letters, digits, _)"
        )));
    }
    if name.starts_with(RESERVED_ENV_PREFIX) {
        return Err(invalid(format!(
            "variable {name} is reserved: the node sets {RESERVED_ENV_PREFIX}* itself"
        )));
    }
    if name.starts_with(NVIDIA_ENV_PREFIX) {
        return Err(invalid(format!(
            "variable {name} is reserved: the node decides which GPUs a job sees"
        )));
    }
    Ok(())
}

fn check_value(what: &str, value: &str) -> Result<(), ManifestError> {
    if value.len() > MAX_VALUE_LEN {
        return Err(invalid(format!(
            "{what} is {} bytes; at most {MAX_VALUE_LEN}",
            value.len()
        )));
    }
    if value.contains('\0') {
        return Err(invalid(format!("{what} contains a NUL byte")));
    }
    Ok(())
}

/// An environment value: bounded, and on one line (a container engine reads it from an
/// env file).
pub fn check_env_value(what: &str, value: &str) -> Result<(), ManifestError> {
    check_value(what, value)?;
    if value.contains(['\n', '\r']) {
        return Err(invalid(format!(
            "{what} contains a line break; encode multi-line values (base64)"
        )));
    }
    Ok(())
}

fn check_container_dir(field: &str, dir: &str) -> Result<(), ManifestError> {
    let valid = dir.starts_with('/')
        && dir.len() > 1
        && dir.len() <= 256
        && !dir.split('/').any(|part| part == ".." || part == ".")
        && dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
    if !valid {
        return Err(invalid(format!(
            "{field} {dir:?} must be an absolute path of letters, digits and /._- (not /)"
        )));
    }
    Ok(())
}

/// The manifest as the startup writes it (`job.toml`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// Container image without digest.
    pub image: Option<String>,
    /// Its manifest digest, `sha256:<hex>`.
    pub digest: Option<String>,
    /// Or a local command (argv).
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Names of secrets; values come with `--secret` / `--secret-file`.
    #[serde(default)]
    pub secrets: Vec<String>,
    pub output_dir: Option<String>,
    pub input_dir: Option<String>,
    /// Local files and directories packed as the job's input, relative to the manifest.
    #[serde(default)]
    pub inputs: Vec<PathBuf>,
    #[serde(default)]
    pub ports: Vec<Port>,
}

impl ManifestFile {
    /// Parses `job.toml`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string()))
    }

    /// The canonical manifest, given the digest of the packed inputs (if any).
    pub fn resolve(self, input: Option<InputDigest>) -> Result<Manifest, ManifestError> {
        let runner = match (self.image, self.digest, self.command) {
            (Some(image), Some(digest), None) => Runner::Oci { image, digest },
            (None, None, Some(command)) => Runner::Process { command },
            (Some(_), None, _) => return Err(invalid("gives an image without its digest")),
            (Some(_), Some(_), Some(_)) => {
                return Err(invalid("gives both an image and a command; choose one"))
            }
            _ => {
                return Err(invalid(
                    "gives neither an image (with digest) nor a command",
                ))
            }
        };
        let mut secrets = self.secrets;
        secrets.sort();
        secrets.dedup();
        let manifest = Manifest {
            version: VERSION,
            runner,
            args: self.args,
            env: self.env,
            secrets,
            output_dir: self
                .output_dir
                .unwrap_or_else(|| DEFAULT_OUTPUT_DIR.to_owned()),
            input_dir: self
                .input_dir
                .unwrap_or_else(|| DEFAULT_INPUT_DIR.to_owned()),
            input,
            ports: self.ports,
        };
        manifest.validate()?;
        Ok(manifest)
    }
}

mod hex_32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        crate::hex::decode_32(&text).ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

#[cfg(test)]
mod tests;
