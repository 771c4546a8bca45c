//! Runs a job's workload and hashes its output, so that an agent restart neither loses a
//! finished result nor trusts a half-written one.
//!
//! Each job runs in its own work directory, which holds:
//! - `output`: the workload's stdout (also for containers), the file that gets hashed;
//! - `stderr.log`: its stderr, whose tail explains a failure;
//! - `result`: the completion marker (`key=value` lines: the workload's content hash, the
//!   output's SHA-256 and size, the exit status). It is renamed into place only after the
//!   workload exited and `output` was hashed and synced, so a directory without it holds no
//!   finished run and is started over.
//!
//! A manifest job (`manifest:` workloads, see [`gpu_market_client::manifest`]) lays its
//! work directory out differently: `manifest.json` (the verified manifest), `input/` (the
//! unpacked inputs), `log` (stdout and stderr together, what `job logs` streams), `output/`
//! (the workload's output directory) and `result.tar` (the output directory packed when the
//! workload exited, the file that gets hashed and served). While a workload that exposes
//! ports runs, `services.json` says on which loopback port of the node each of them is
//! reached (the node's API forwards a lease's requests there).
//!
//! Workload URIs:
//! - `manifest:process` and `manifest:oci://<image>`: the manifest in the work directory,
//!   checked against the job's content hash before anything runs; argv without a shell,
//!   public env and secrets passed through the environment, never on a command line.
//! - `process:<shell command>`: `sh -c <command>` in the work directory, pinned by the SHA-256
//!   of the command ([`process_workload`]). It runs unsandboxed on the host, so
//!   [`LocalProcessExecutor`] is for trusted clients and tests only.
//! - `oci://<image>`: `<runtime> run` of `<image>@sha256:<content hash>` with the work
//!   directory mounted at `/output` ([`oci_workload`]); the engine enforces the pin.

use anchor_lang::solana_program::pubkey::Pubkey;
use gpu_market_client::{
    archive,
    escrow::Workload,
    manifest::{self, Manifest, Runner},
};
use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

const PROCESS_SCHEME: &str = "process:";
const MANIFEST_PROCESS: &str = "manifest:process";
const MANIFEST_OCI: &str = "manifest:oci://";
const OCI_SCHEME: &str = "oci://";
/// A plain job's stdout, its result.
pub const OUTPUT_FILE: &str = "output";
/// A plain job's stderr.
pub const STDERR_FILE: &str = "stderr.log";
/// The completion marker.
pub const MARKER_FILE: &str = "result";
const MARKER_TMP_FILE: &str = "result.tmp";
/// The verified manifest of a manifest job.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The unpacked inputs of a manifest job.
pub const INPUT_DIR: &str = "input";
/// A manifest job's stdout and stderr.
pub const LOG_FILE: &str = "log";
/// A manifest job's output directory.
pub const OUTPUT_DIR: &str = "output";
/// A manifest job's output directory, packed.
pub const RESULT_FILE: &str = "result.tar";
/// Where a running manifest workload's exposed ports are reached on the node.
pub const SERVICES_FILE: &str = "services.json";
const JOB_ENV: &str = "GPU_MARKET_JOB";
const OUTPUT_DIR_ENV: &str = "GPU_MARKET_OUTPUT_DIR";
const INPUT_DIR_ENV: &str = "GPU_MARKET_INPUT_DIR";
/// Every process of a workload carries its work directory, so leftovers are found.
const WORK_DIR_ENV: &str = "GPU_MARKET_WORK_DIR";
/// Where a container sees its work directory.
const CONTAINER_OUTPUT_DIR: &str = "/output";
/// The directory an `oci://` container may write to, inside its work directory.
const CONTAINER_FILES_DIR: &str = "files";
/// Most processes a container may run.
const PIDS_LIMIT: u32 = 4096;
/// How much of `stderr.log` a failure report quotes.
const STDERR_TAIL_BYTES: u64 = 2048;
/// How long `<runtime> info` and `<runtime> rm` may take before the engine counts as absent.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(5);

/// A port a running workload serves, as the node reaches it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Service {
    /// The port the manifest exposes.
    pub port: u16,
    /// Where the node reaches it: a port on 127.0.0.1.
    pub host_port: u16,
}

/// The services of the workload running in `workdir` (none when it is not running).
pub fn services(workdir: &Path) -> Vec<Service> {
    fs::read(workdir.join(SERVICES_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn write_services(workdir: &Path, services: &[Service]) -> Result<(), ExecError> {
    if services.is_empty() {
        return Ok(());
    }
    let path = workdir.join(SERVICES_FILE);
    let tmp = workdir.join("services.json.tmp");
    let bytes = serde_json::to_vec(services).map_err(|e| ExecError::Io {
        context: format!("writing {}", path.display()),
        source: io::Error::other(e),
    })?;
    // Renamed into place: the API never reads half a file.
    fs::write(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, &path))
        .context(|| format!("writing {}", path.display()))
}

/// A port on 127.0.0.1 that nothing listens on now.
fn free_loopback_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A finished workload's result file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The output file (the workload's stdout).
    pub path: PathBuf,
    /// SHA-256 of the output file.
    pub sha256: [u8; 32],
    /// Size of the output file.
    pub bytes: u64,
}

/// Where a job's workload stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Started and not yet seen to exit.
    Running,
    /// Exited with status 0.
    Finished(Output),
    /// Exited otherwise: the exit status and the tail of its stderr.
    Failed(String),
}

/// Why a workload could not be started or observed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The executor does not run this kind of workload.
    #[error("the {executor} executor cannot run workload {uri}")]
    UnsupportedScheme {
        /// The executor's name.
        executor: String,
        /// The workload's URI.
        uri: String,
    },
    /// The URI has a known scheme but an unusable body.
    #[error("invalid workload URI {uri:?}: {reason}")]
    InvalidUri {
        /// The workload's URI.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `process:` workload's command does not hash to its pinned content hash.
    #[error(
        "workload {uri} is pinned to content hash {} but its command hashes to {}",
        gpu_market_client::hex::encode(.pinned),
        gpu_market_client::hex::encode(.actual)
    )]
    ContentHashMismatch {
        /// The workload's URI.
        uri: String,
        /// The content hash the job pins.
        pinned: [u8; 32],
        /// SHA-256 of the command.
        actual: [u8; 32],
    },
    /// An `oci://` workload, and no container engine (docker, podman) answered.
    #[error("workload {uri} needs a container runtime, and no docker or podman engine answered")]
    NoContainerRuntime {
        /// The workload's URI.
        uri: String,
    },
    /// A manifest job's manifest is missing or does not check.
    #[error("workload {uri}: {reason}")]
    Manifest {
        /// The workload's URI.
        uri: String,
        /// What is wrong.
        reason: String,
    },
    /// The job rents more GPUs than this node has free.
    #[error("job {job} rents {wanted} GPU(s) but only {free} of this node's {total} are free")]
    NoFreeGpus {
        job: Pubkey,
        wanted: u16,
        free: usize,
        total: usize,
    },
    /// The job was never started by this executor, or was stopped.
    #[error("job {0} is not tracked by this executor")]
    UnknownJob(Pubkey),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Runs workloads of jobs, each in its own work directory.
pub trait Executor {
    /// Short name for logs ("local", "docker", "podman").
    fn name(&self) -> &str;
    /// Whether this executor can run `workload` (by URI scheme and availability).
    fn supports(&self, workload: &Workload) -> bool;
    /// Starts the workload of `job` in its work directory (one directory per job, created
    /// if missing). Idempotent and restart-safe: if the directory holds a finished run of
    /// this workload, it does not run again and [`poll`](Executor::poll) reports its result;
    /// if it holds an unfinished one (the agent died), leftover processes of it are killed
    /// and it starts over with empty output. A job this executor already tracks is left
    /// alone.
    fn launch(&mut self, job: &Pubkey, launch: &Launch) -> Result<(), ExecError>;
    /// [`launch`](Executor::launch) with nothing but the workload and its directory.
    fn start(
        &mut self,
        job: &Pubkey,
        workload: &Workload,
        workdir: &Path,
    ) -> Result<(), ExecError> {
        self.launch(job, &Launch::new(workload, workdir))
    }
    /// Non-blocking: where the workload of `job` stands. A Finished output's sha256 is the
    /// SHA-256 of the output file; the poll that sees the exit hashes it once.
    fn poll(&mut self, job: &Pubkey) -> Result<Progress, ExecError>;
    /// Stops the workload of `job` if it runs (kill and reap it, with everything it spawned)
    /// and forgets the job; its work directory stays. Ok if it is not running.
    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError>;
    /// Jobs currently running under this executor.
    fn running(&self) -> Vec<Pubkey>;
}

/// What a workload is started with. Not `Debug`: it holds secret values.
#[derive(Clone, Copy)]
pub struct Launch<'a> {
    pub workload: &'a Workload,
    pub workdir: &'a Path,
    /// GPUs the job rented; a container sees exactly these many of the node's.
    pub gpus: u16,
    /// CPU cores the job asked for (0: no limit).
    pub cpu_cores: u16,
    /// Memory the job asked for, MiB (0: no limit).
    pub ram_mib: u32,
    /// Secret values, passed through the environment only.
    pub secrets: &'a BTreeMap<String, String>,
}

static NO_SECRETS: BTreeMap<String, String> = BTreeMap::new();

impl<'a> Launch<'a> {
    /// `workload` in `workdir` with one GPU, no limits and no secrets.
    pub fn new(workload: &'a Workload, workdir: &'a Path) -> Self {
        Self {
            workload,
            workdir,
            gpus: 1,
            cpu_cores: 0,
            ram_mib: 0,
            secrets: &NO_SECRETS,
        }
    }
}

/// What a manifest job still waits for before it can run: `manifest`, `input`, `secrets`
/// (`have_secrets` says whether the node holds them). Empty for other workloads.
pub fn waiting_for(workload: &Workload, workdir: &Path, have_secrets: bool) -> Vec<&'static str> {
    if !manifest::is_manifest(workload) {
        return Vec::new();
    }
    let Ok(manifest) = read_manifest(workload, workdir) else {
        return vec!["manifest"];
    };
    let mut waiting = Vec::new();
    if manifest.input.is_some() && !workdir.join(INPUT_DIR).is_dir() {
        waiting.push("input");
    }
    if !manifest.secrets.is_empty() && !have_secrets {
        waiting.push("secrets");
    }
    waiting
}

/// The verified manifest in `workdir` of a manifest job.
pub fn read_manifest(workload: &Workload, workdir: &Path) -> Result<Manifest, ExecError> {
    let path = workdir.join(MANIFEST_FILE);
    let bytes = fs::read(&path).map_err(|e| ExecError::Manifest {
        uri: workload.uri.clone(),
        reason: format!("no manifest was uploaded ({}: {e})", path.display()),
    })?;
    Manifest::from_canonical(&bytes, &workload.content_hash).map_err(|e| ExecError::Manifest {
        uri: workload.uri.clone(),
        reason: e.to_string(),
    })
}

/// How a manifest job's finished run ended, as its completion marker records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    /// SHA-256 of the result tar.
    pub sha256: [u8; 32],
    /// Size of the result tar.
    pub bytes: u64,
    /// The workload exited with status 0.
    pub succeeded: bool,
}

/// The finished run of a manifest job in `workdir`, if there is one.
pub fn finished(workload: &Workload, workdir: &Path) -> Option<Finished> {
    Marker::read(workdir, &workload.content_hash, Layout::Manifest).map(|m| Finished {
        sha256: m.sha256,
        bytes: m.bytes,
        succeeded: m.exit == Exit::Code(0),
    })
}

/// Ends a manifest job whose client's uploads never came, without running anything: the
/// log says why, the result is an empty output directory. A finished run is left alone.
pub fn end_unrun(workload: &Workload, workdir: &Path, reason: &str) -> Result<Progress, ExecError> {
    if let Some(marker) = Marker::read(workdir, &workload.content_hash, Layout::Manifest) {
        return Ok(marker.progress(workdir, Layout::Manifest));
    }
    fs::create_dir_all(workdir.join(OUTPUT_DIR))
        .context(|| format!("creating {}", workdir.join(OUTPUT_DIR).display()))?;
    let log = workdir.join(LOG_FILE);
    fs::write(&log, format!("gpu-market: {reason}\n"))
        .context(|| format!("writing {}", log.display()))?;
    let marker = Marker::record(
        workdir,
        workload.content_hash,
        Layout::Manifest,
        Exit::NotRun,
    )?;
    Ok(marker.progress(workdir, Layout::Manifest))
}

/// A `process:` workload running `command`, pinned by the command's SHA-256.
pub fn process_workload(command: &str) -> Workload {
    Workload {
        content_hash: sha256(command.as_bytes()),
        uri: format!("{PROCESS_SCHEME}{command}"),
    }
}

/// An `oci://` workload running `image` (without digest) pinned to manifest `digest`.
pub fn oci_workload(image: &str, digest: [u8; 32]) -> Workload {
    Workload {
        content_hash: digest,
        uri: format!("{OCI_SCHEME}{image}"),
    }
}

/// Runs `process:` workloads as local shell commands.
pub struct LocalProcessExecutor {
    runs: Runs,
}

impl LocalProcessExecutor {
    /// An executor with no jobs.
    pub fn new() -> Self {
        Self {
            runs: Runs::default(),
        }
    }
}

impl Default for LocalProcessExecutor {
    fn default() -> Self {
        Self::new()
    }
}

impl Executor for LocalProcessExecutor {
    fn name(&self) -> &str {
        "local"
    }

    fn supports(&self, workload: &Workload) -> bool {
        workload.uri.starts_with(PROCESS_SCHEME) || workload.uri == MANIFEST_PROCESS
    }

    fn launch(&mut self, job: &Pubkey, launch: &Launch) -> Result<(), ExecError> {
        let workload = launch.workload;
        if workload.uri == MANIFEST_PROCESS {
            let manifest = read_manifest(workload, launch.workdir)?;
            let Runner::Process { command } = &manifest.runner else {
                return Err(ExecError::Manifest {
                    uri: workload.uri.clone(),
                    reason: "the manifest runs an image, not a process".into(),
                });
            };
            let (program, first) = command.split_first().ok_or_else(|| ExecError::Manifest {
                uri: workload.uri.clone(),
                reason: "the manifest's command is empty".into(),
            })?;
            if self.runs.tracks(job) {
                return Ok(());
            }
            // A local process shares the node's network and listens on its ports itself: a
            // port something on the node already serves (the API, another job's service, a
            // daemon) is refused rather than handed to this job's client.
            for port in &manifest.ports {
                if std::net::TcpListener::bind(("127.0.0.1", port.port)).is_err() {
                    return Err(ExecError::Manifest {
                        uri: workload.uri.clone(),
                        reason: format!(
                            "port {} is in use on this node; a local process needs ports of its own",
                            port.port
                        ),
                    });
                }
            }
            self.runs.start(
                job,
                workload.content_hash,
                launch.workdir,
                Layout::Manifest,
                None,
                |dir| {
                    let mut process = Command::new(program);
                    process
                        .args(first)
                        .args(&manifest.args)
                        .envs(&manifest.env)
                        .envs(launch.secrets)
                        .env(OUTPUT_DIR_ENV, dir.join(OUTPUT_DIR))
                        .env(INPUT_DIR_ENV, dir.join(INPUT_DIR));
                    (process, None)
                },
            )?;
            // A local process shares the node's network: it listens on its ports itself.
            let services: Vec<Service> = manifest
                .ports
                .iter()
                .map(|p| Service {
                    port: p.port,
                    host_port: p.port,
                })
                .collect();
            return self.runs.note_services(job, &services);
        }
        let command = shell_command(workload)?;
        self.runs.start(
            job,
            workload.content_hash,
            launch.workdir,
            Layout::Stdout,
            None,
            |dir| {
                let mut sh = Command::new("sh");
                sh.arg("-c").arg(command).env(OUTPUT_DIR_ENV, dir);
                (sh, None)
            },
        )
    }

    fn poll(&mut self, job: &Pubkey) -> Result<Progress, ExecError> {
        self.runs.poll(job)
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError> {
        self.runs.stop(job)
    }

    fn running(&self) -> Vec<Pubkey> {
        self.runs.running()
    }
}

/// The command of a `process:` workload, checked against its pin.
fn shell_command(workload: &Workload) -> Result<&str, ExecError> {
    let uri = &workload.uri;
    let command = uri
        .strip_prefix(PROCESS_SCHEME)
        .ok_or_else(|| ExecError::UnsupportedScheme {
            executor: "local".into(),
            uri: uri.clone(),
        })?;
    if command.trim().is_empty() {
        return Err(ExecError::InvalidUri {
            uri: uri.clone(),
            reason: "empty command".into(),
        });
    }
    let actual = sha256(command.as_bytes());
    if actual != workload.content_hash {
        return Err(ExecError::ContentHashMismatch {
            uri: uri.clone(),
            pinned: workload.content_hash,
            actual,
        });
    }
    Ok(command)
}

/// Runs `oci://` and `manifest:oci://` workloads in containers through docker or podman.
/// Each container sees exactly the GPUs its job rented (device pinning, never all of the
/// node's), is limited to the CPU cores and memory the job asked for, and mounts only its
/// own job's directories.
pub struct ContainerExecutor {
    runtime: String,
    runs: Runs,
    /// The node's GPUs by index, and the job holding each.
    gpus: Vec<Option<Pubkey>>,
}

impl ContainerExecutor {
    /// The first of docker and podman whose engine answers, or `None`. Only a working engine
    /// counts: a docker client without a daemon is common.
    pub fn detect() -> Option<ContainerExecutor> {
        ["docker", "podman"]
            .into_iter()
            .find(|runtime| engine_answers(runtime, ENGINE_TIMEOUT))
            .map(|runtime| ContainerExecutor::new(runtime, 1))
    }

    /// An executor for `runtime` on a node with `gpus` GPUs (indices `0..gpus`).
    pub fn new(runtime: &str, gpus: u16) -> Self {
        Self {
            runtime: runtime.into(),
            runs: Runs::default(),
            gpus: vec![None; usize::from(gpus)],
        }
    }

    /// Sets how many GPUs the node has (from NVML or its listing).
    pub fn with_gpus(mut self, gpus: u16) -> Self {
        self.gpus = vec![None; usize::from(gpus)];
        self
    }

    /// The GPU indices `job` holds, taking `wanted` free ones if it holds none.
    fn allocate(&mut self, job: &Pubkey, wanted: u16) -> Result<Vec<usize>, ExecError> {
        let held: Vec<usize> = (0..self.gpus.len())
            .filter(|&i| self.gpus[i] == Some(*job))
            .collect();
        if !held.is_empty() {
            return Ok(held);
        }
        let free: Vec<usize> = (0..self.gpus.len())
            .filter(|&i| self.gpus[i].is_none())
            .collect();
        let wanted_n = usize::from(wanted);
        if free.len() < wanted_n {
            return Err(ExecError::NoFreeGpus {
                job: *job,
                wanted,
                free: free.len(),
                total: self.gpus.len(),
            });
        }
        let taken: Vec<usize> = free.into_iter().take(wanted_n).collect();
        for &i in &taken {
            self.gpus[i] = Some(*job);
        }
        Ok(taken)
    }

    fn release(&mut self, job: &Pubkey) {
        for slot in &mut self.gpus {
            if *slot == Some(*job) {
                *slot = None;
            }
        }
    }
}

impl Executor for ContainerExecutor {
    fn name(&self) -> &str {
        &self.runtime
    }

    fn supports(&self, workload: &Workload) -> bool {
        workload.uri.starts_with(OCI_SCHEME) || workload.uri.starts_with(MANIFEST_OCI)
    }

    fn launch(&mut self, job: &Pubkey, launch: &Launch) -> Result<(), ExecError> {
        if self.runs.tracks(job) {
            return Ok(());
        }
        let workload = launch.workload;
        let (spec, layout) = if workload.uri.starts_with(MANIFEST_OCI) {
            let manifest = read_manifest(workload, launch.workdir)?;
            let Runner::Oci { image, .. } = &manifest.runner else {
                return Err(ExecError::Manifest {
                    uri: workload.uri.clone(),
                    reason: "the manifest runs a process, not an image".into(),
                });
            };
            let digest = manifest.image_digest().ok_or_else(|| ExecError::Manifest {
                uri: workload.uri.clone(),
                reason: "the manifest's digest does not parse".into(),
            })?;
            (
                ContainerSpec {
                    image: image.clone(),
                    digest,
                    args: manifest.args.clone(),
                    env: manifest
                        .env
                        .iter()
                        .chain(launch.secrets)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    output_dir: manifest.output_dir.clone(),
                    input_dir: manifest.input.is_some().then(|| manifest.input_dir.clone()),
                    publish: manifest
                        .ports
                        .iter()
                        .map(|p| {
                            free_loopback_port()
                                .map(|host_port| Service {
                                    port: p.port,
                                    host_port,
                                })
                                .context(|| "finding a free port for the service".to_owned())
                        })
                        .collect::<Result<_, _>>()?,
                    gpus: Vec::new(),
                    cpu_cores: launch.cpu_cores,
                    ram_mib: launch.ram_mib,
                },
                Layout::Manifest,
            )
        } else {
            (
                ContainerSpec {
                    image: oci_image(workload, &self.runtime)?.to_owned(),
                    digest: workload.content_hash,
                    args: Vec::new(),
                    env: BTreeMap::new(),
                    output_dir: CONTAINER_OUTPUT_DIR.to_owned(),
                    input_dir: None,
                    publish: Vec::new(),
                    gpus: Vec::new(),
                    cpu_cores: launch.cpu_cores,
                    ram_mib: launch.ram_mib,
                },
                Layout::Stdout,
            )
        };
        let gpus = self.allocate(job, launch.gpus)?;
        let spec = ContainerSpec { gpus, ..spec };
        let spec_services = spec.publish.clone();
        let name = container_name(job);
        // A container left by a dead agent keeps the name taken and may still write output.
        let cleanup = vec![self.runtime.clone(), "rm".into(), "-f".into(), name];
        let runtime = self.runtime.clone();
        let started = self.runs.start(
            job,
            workload.content_hash,
            launch.workdir,
            layout,
            Some(cleanup),
            |dir| {
                let command = container_command(&runtime, job, &spec, layout, dir);
                let env_file = (!spec.env.is_empty()).then(|| env_file(&spec.env));
                (command, env_file)
            },
        );
        // A finished run holds no GPU; a failed start holds none either.
        if started.is_err() || self.runs.running().iter().all(|j| j != job) {
            self.release(job);
        }
        started?;
        self.runs.note_services(job, &spec_services)
    }

    fn poll(&mut self, job: &Pubkey) -> Result<Progress, ExecError> {
        let progress = self.runs.poll(job)?;
        if progress != Progress::Running {
            self.release(job);
        }
        Ok(progress)
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError> {
        self.release(job);
        self.runs.stop(job)
    }

    fn running(&self) -> Vec<Pubkey> {
        self.runs.running()
    }
}

/// The image reference of an `oci://` workload. Its characters are restricted because it
/// comes from the chain and lands on the runtime's command line: a leading '-' would be read
/// as an option, and a digest of its own would bypass the pin.
fn oci_image<'w>(workload: &'w Workload, runtime: &str) -> Result<&'w str, ExecError> {
    let uri = &workload.uri;
    let image = uri
        .strip_prefix(OCI_SCHEME)
        .ok_or_else(|| ExecError::UnsupportedScheme {
            executor: runtime.into(),
            uri: uri.clone(),
        })?;
    manifest::check_image(image).map_err(|e| ExecError::InvalidUri {
        uri: uri.clone(),
        reason: match e {
            manifest::ManifestError::Invalid(reason) => reason,
            other => other.to_string(),
        },
    })?;
    Ok(image)
}

/// The container of `job`; derived from the job so a restarted agent finds it again.
fn container_name(job: &Pubkey) -> String {
    let job = job.to_string();
    format!("gpu-market-{}", job.get(..16).unwrap_or(&job))
}

/// What a container runs with. Not `Debug`: it holds secret values.
#[derive(Clone)]
struct ContainerSpec {
    image: String,
    digest: [u8; 32],
    args: Vec<String>,
    /// Passed by name only (`-e NAME`), the values through the engine client's environment.
    env: BTreeMap<String, String>,
    output_dir: String,
    input_dir: Option<String>,
    /// Exposed ports, each published on a port of the node's 127.0.0.1 only.
    publish: Vec<Service>,
    /// The node's GPU indices the container sees.
    gpus: Vec<usize>,
    cpu_cores: u16,
    ram_mib: u32,
}

/// The workload's environment as an engine's `--env-file`: one `NAME=VALUE` line each.
/// Names are shell names and values hold no line break (the manifest and the API check
/// both), so every line reads back as written.
fn env_file(env: &BTreeMap<String, String>) -> Vec<u8> {
    env.iter()
        .flat_map(|(name, value)| format!("{name}={value}\n").into_bytes())
        .collect()
}

fn container_command(
    runtime: &str,
    job: &Pubkey,
    spec: &ContainerSpec,
    layout: Layout,
    workdir: &Path,
) -> Command {
    let mount = |host: &Path, inside: &str, read_only: bool| {
        let mut volume = host.as_os_str().to_owned();
        volume.push(format!(":{inside}"));
        if read_only {
            volume.push(":ro");
        }
        volume
    };
    let mut command = Command::new(runtime);
    command
        .args(["run", "--rm", "--name"])
        .arg(container_name(job))
        .args(["--security-opt", "no-new-privileges", "--pids-limit"])
        .arg(PIDS_LIMIT.to_string());
    let devices: Vec<String> = spec.gpus.iter().map(usize::to_string).collect();
    if runtime == "podman" {
        // Podman reaches NVIDIA GPUs through CDI device names.
        for device in &devices {
            command
                .arg("--device")
                .arg(format!("nvidia.com/gpu={device}"));
        }
    } else if !devices.is_empty() {
        // The quotes keep docker's CSV parser from splitting the list at its commas.
        command
            .arg("--gpus")
            .arg(format!("\"device={}\"", devices.join(",")));
    }
    if spec.cpu_cores > 0 {
        command.arg("--cpus").arg(spec.cpu_cores.to_string());
    }
    if spec.ram_mib > 0 {
        command.arg("--memory").arg(format!("{}m", spec.ram_mib));
    }
    for service in &spec.publish {
        // Loopback only: the node's API is the one way in, for the job's client only.
        command
            .arg("-p")
            .arg(format!("127.0.0.1:{}:{}", service.host_port, service.port));
    }
    command
        .arg("-e")
        .arg(format!("{JOB_ENV}={job}"))
        .arg("-e")
        .arg(format!("{OUTPUT_DIR_ENV}={}", spec.output_dir));
    // A directory of its own: the container never writes where the agent keeps its
    // markers, logs or the API's records.
    let output_host = match layout {
        Layout::Stdout => workdir.join(CONTAINER_FILES_DIR),
        Layout::Manifest => workdir.join(OUTPUT_DIR),
    };
    command
        .arg("-v")
        .arg(mount(&output_host, &spec.output_dir, false));
    if let Some(input) = &spec.input_dir {
        command
            .arg("-e")
            .arg(format!("{INPUT_DIR_ENV}={input}"))
            .arg("-v")
            .arg(mount(&workdir.join(INPUT_DIR), input, true));
    }
    if !spec.env.is_empty() {
        // Names and values reach the engine on its stdin (see `env_file`): never on its
        // command line, and never in the environment of the engine's own client, where a
        // name like PATH, LD_PRELOAD or DOCKER_HOST would steer the engine itself.
        command.arg("--env-file").arg("/dev/stdin");
    }
    // Last, so that neither the manifest nor the image widens it: where the NVIDIA runtime
    // is the default one, this variable alone would otherwise decide which GPUs it sees.
    command.arg("-e").arg(format!(
        "NVIDIA_VISIBLE_DEVICES={}",
        if devices.is_empty() {
            "void".to_owned()
        } else {
            devices.join(",")
        }
    ));
    command
        .arg(format!(
            "{}@sha256:{}",
            spec.image,
            gpu_market_client::hex::encode(&spec.digest)
        ))
        .args(&spec.args);
    command
}

/// Whether `runtime`'s engine (not only its client) answers within `timeout`.
fn engine_answers(runtime: &str, timeout: Duration) -> bool {
    let mut info = Command::new(runtime);
    info.args(["info", "--format", "{{.ServerVersion}}"]);
    run_bounded(info, timeout).is_some_and(|status| status.success())
}

/// Runs `command` with no stdio, killing it after `timeout`. `None` if it could not be
/// started or timed out.
fn run_bounded(mut command: Command, timeout: Duration) -> Option<ExitStatus> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => {
                // Best effort: the child may have exited in between; reaping avoids a zombie.
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Runs workloads with `oci://` images in a container engine and `process:` commands
/// locally, whichever of the two it has.
pub struct AutoExecutor {
    container: Option<ContainerExecutor>,
    local: Option<LocalProcessExecutor>,
    name: String,
}

impl AutoExecutor {
    /// An executor dispatching to `container` and `local`.
    pub fn new(container: Option<ContainerExecutor>, local: Option<LocalProcessExecutor>) -> Self {
        let name = match (&container, &local) {
            (Some(c), Some(l)) => format!("{}+{}", c.name(), l.name()),
            (Some(c), None) => c.name().to_owned(),
            (None, Some(l)) => l.name().to_owned(),
            (None, None) => "none".to_owned(),
        };
        Self {
            container,
            local,
            name,
        }
    }

    /// The container engine found by [`ContainerExecutor::detect`], and local processes if
    /// `allow_local` (they run client code unsandboxed).
    pub fn detect(allow_local: bool) -> Self {
        Self::new(
            ContainerExecutor::detect(),
            allow_local.then(LocalProcessExecutor::new),
        )
    }

    /// Tells the container engine how many GPUs the node has, so each container gets
    /// exactly its job's share of them.
    pub fn with_gpus(mut self, gpus: u16) -> Self {
        self.container = self.container.map(|c| c.with_gpus(gpus));
        self
    }

    /// The executor that tracks `job`.
    fn owner(&mut self, job: &Pubkey) -> Option<&mut dyn Executor> {
        if let Some(c) = self.container.as_mut().filter(|c| c.runs.tracks(job)) {
            return Some(c);
        }
        self.local
            .as_mut()
            .filter(|l| l.runs.tracks(job))
            .map(|l| l as &mut dyn Executor)
    }
}

impl Executor for AutoExecutor {
    fn name(&self) -> &str {
        &self.name
    }

    fn supports(&self, workload: &Workload) -> bool {
        self.container
            .as_ref()
            .is_some_and(|c| c.supports(workload))
            || self.local.as_ref().is_some_and(|l| l.supports(workload))
    }

    fn launch(&mut self, job: &Pubkey, launch: &Launch) -> Result<(), ExecError> {
        let workload = launch.workload;
        if let Some(c) = self.container.as_mut().filter(|c| c.supports(workload)) {
            return c.launch(job, launch);
        }
        if let Some(l) = self.local.as_mut().filter(|l| l.supports(workload)) {
            return l.launch(job, launch);
        }
        let uri = workload.uri.clone();
        Err(
            if uri.starts_with(OCI_SCHEME) || uri.starts_with(MANIFEST_OCI) {
                ExecError::NoContainerRuntime { uri }
            } else {
                ExecError::UnsupportedScheme {
                    executor: self.name.clone(),
                    uri,
                }
            },
        )
    }

    fn poll(&mut self, job: &Pubkey) -> Result<Progress, ExecError> {
        self.owner(job)
            .ok_or(ExecError::UnknownJob(*job))?
            .poll(job)
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError> {
        self.owner(job).map_or(Ok(()), |e| e.stop(job))
    }

    fn running(&self) -> Vec<Pubkey> {
        let container = self.container.iter().flat_map(|c| c.running());
        container
            .chain(self.local.iter().flat_map(|l| l.running()))
            .collect()
    }
}

/// The job bookkeeping both executors share: spawning into a work directory, reaping,
/// hashing, the completion marker, and killing on stop and drop.
#[derive(Default)]
struct Runs {
    jobs: HashMap<Pubkey, Run>,
}

/// How a run's work directory is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// `output` is the workload's stdout and the result; `stderr.log` its stderr.
    Stdout,
    /// `log` is stdout and stderr; `output/` is packed into `result.tar`, the result.
    Manifest,
}

impl Layout {
    /// The file that is hashed and served as the result.
    fn result_file(self) -> &'static str {
        match self {
            Layout::Stdout => OUTPUT_FILE,
            Layout::Manifest => RESULT_FILE,
        }
    }

    /// The file whose tail explains a failure.
    fn log_file(self) -> &'static str {
        match self {
            Layout::Stdout => STDERR_FILE,
            Layout::Manifest => LOG_FILE,
        }
    }
}

struct Run {
    workdir: PathBuf,
    content_hash: [u8; 32],
    layout: Layout,
    /// Command that removes what outlives the child process (a container), if anything.
    cleanup: Option<Vec<String>>,
    state: RunState,
}

enum RunState {
    Running(Child),
    Done(Progress),
}

impl Runs {
    fn tracks(&self, job: &Pubkey) -> bool {
        self.jobs.contains_key(job)
    }

    fn running(&self) -> Vec<Pubkey> {
        self.jobs
            .iter()
            .filter(|(_, run)| matches!(run.state, RunState::Running(_)))
            .map(|(job, _)| *job)
            .collect()
    }

    /// Starts `job` in `workdir` unless it is tracked or finished there; `build` makes the
    /// command from the canonical work directory, and `start` adds stdio, env and cwd.
    fn start(
        &mut self,
        job: &Pubkey,
        content_hash: [u8; 32],
        workdir: &Path,
        layout: Layout,
        cleanup: Option<Vec<String>>,
        build: impl FnOnce(&Path) -> (Command, Option<Vec<u8>>),
    ) -> Result<(), ExecError> {
        if self.tracks(job) {
            return Ok(());
        }
        fs::create_dir_all(workdir)
            .context(|| format!("creating work directory {}", workdir.display()))?;
        // Canonical, so the path in the environment (which finds leftovers after a restart)
        // and the container mount do not depend on how the caller spelled it.
        let workdir = fs::canonicalize(workdir)
            .context(|| format!("resolving work directory {}", workdir.display()))?;
        let state = match Marker::read(&workdir, &content_hash, layout) {
            Some(marker) => RunState::Done(marker.progress(&workdir, layout)),
            None => RunState::Running(spawn(job, &workdir, layout, cleanup.as_deref(), build)?),
        };
        self.jobs.insert(
            *job,
            Run {
                workdir,
                content_hash,
                layout,
                cleanup,
                state,
            },
        );
        Ok(())
    }

    /// Records where a running job's services are reached; nothing for a finished run.
    fn note_services(&self, job: &Pubkey, services: &[Service]) -> Result<(), ExecError> {
        match self.jobs.get(job) {
            Some(run) if matches!(run.state, RunState::Running(_)) => {
                write_services(&run.workdir, services)
            }
            _ => Ok(()),
        }
    }

    fn poll(&mut self, job: &Pubkey) -> Result<Progress, ExecError> {
        let run = self.jobs.get_mut(job).ok_or(ExecError::UnknownJob(*job))?;
        let child = match &mut run.state {
            RunState::Done(progress) => return Ok(progress.clone()),
            RunState::Running(child) => child,
        };
        let Some(status) = child
            .try_wait()
            .context(|| format!("waiting for the workload of job {job}"))?
        else {
            return Ok(Progress::Running);
        };
        // The workload ends with its main process; anything it left in the background must
        // not write to the output while it is hashed.
        kill_group(child.id());
        forget_services(&run.workdir);
        let marker = Marker::record(
            &run.workdir,
            run.content_hash,
            run.layout,
            Exit::from(status),
        )?;
        let progress = marker.progress(&run.workdir, run.layout);
        run.state = RunState::Done(progress.clone());
        Ok(progress)
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError> {
        match self.jobs.remove(job) {
            Some(Run {
                state: RunState::Running(mut child),
                cleanup,
                workdir,
                ..
            }) => {
                forget_services(&workdir);
                halt(&mut child, cleanup.as_deref())
                    .context(|| format!("stopping the workload of job {job}"))
            }
            _ => Ok(()),
        }
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        for run in self.jobs.values_mut() {
            if let RunState::Running(child) = &mut run.state {
                forget_services(&run.workdir);
                // Nothing to report to from a drop; halt is best effort by then.
                let _ = halt(child, run.cleanup.as_deref());
            }
        }
    }
}

/// Forgets where a workload's services were: nothing serves there any more.
fn forget_services(workdir: &Path) {
    // Best effort: a file left behind names ports the API finds closed.
    let _ = fs::remove_file(workdir.join(SERVICES_FILE));
}

/// Starts the command `build` makes in `workdir` with fresh output files, after killing what
/// a dead agent may have left running there.
fn spawn(
    job: &Pubkey,
    workdir: &Path,
    layout: Layout,
    cleanup: Option<&[String]>,
    build: impl FnOnce(&Path) -> (Command, Option<Vec<u8>>),
) -> Result<Child, ExecError> {
    let leftovers = match layout {
        Layout::Stdout => [OUTPUT_FILE, STDERR_FILE],
        Layout::Manifest => [LOG_FILE, RESULT_FILE],
    };
    if leftovers.iter().any(|name| workdir.join(name).exists()) {
        kill_strays(job, workdir);
        if let Some(cleanup) = cleanup {
            run_cleanup(cleanup);
        }
    }
    for name in [
        MARKER_FILE,
        MARKER_TMP_FILE,
        OUTPUT_FILE,
        STDERR_FILE,
        LOG_FILE,
        RESULT_FILE,
        SERVICES_FILE,
    ] {
        // Removed rather than truncated: a straggler that survived the kill keeps writing
        // to the old file, not into the new run's output.
        let path = workdir.join(name);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(e).context(|| format!("removing stale {}", path.display()));
            }
            _ => {}
        }
    }
    let (stdout, stderr) = match layout {
        Layout::Stdout => {
            let output = workdir.join(OUTPUT_FILE);
            let stderr = workdir.join(STDERR_FILE);
            let files = workdir.join(CONTAINER_FILES_DIR);
            fs::create_dir_all(&files).context(|| format!("creating {}", files.display()))?;
            (
                File::create(&output).context(|| format!("creating {}", output.display()))?,
                File::create(&stderr).context(|| format!("creating {}", stderr.display()))?,
            )
        }
        Layout::Manifest => {
            let output = workdir.join(OUTPUT_DIR);
            match fs::remove_dir_all(&output) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(e).context(|| format!("removing stale {}", output.display()));
                }
                _ => {}
            }
            fs::create_dir_all(&output).context(|| format!("creating {}", output.display()))?;
            let log = workdir.join(LOG_FILE);
            // One file in append mode for both streams, so their lines interleave as written.
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .context(|| format!("creating {}", log.display()))?;
            let clone = file
                .try_clone()
                .context(|| format!("opening {}", log.display()))?;
            (file, clone)
        }
    };
    let (mut command, input) = build(workdir);
    command
        .current_dir(workdir)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(stdout)
        .stderr(stderr)
        .env(JOB_ENV, job.to_string())
        .env(WORK_DIR_ENV, workdir);
    // Its own process group, so stop can kill everything the workload spawned.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .context(|| format!("starting {:?} for job {job}", command.get_program()))?;
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // On a thread: the pipe holds 64 KiB, and the reader may take its time. A child
        // that exits without reading fails the write, which its exit status reports.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    Ok(child)
}

/// Kills `child` and its process group, removes what outlives it, and reaps it.
fn halt(child: &mut Child, cleanup: Option<&[String]>) -> io::Result<()> {
    if let Some(cleanup) = cleanup {
        run_cleanup(cleanup);
    }
    kill_group(child.id());
    // Fails only if the child was already reaped, which `wait` then reports as done.
    let _ = child.kill();
    child.wait().map(drop)
}

/// Best effort: the thing to clean up may already be gone.
fn run_cleanup(argv: &[String]) {
    if let Some((program, args)) = argv.split_first() {
        let mut command = Command::new(program);
        command.args(args);
        run_bounded(command, ENGINE_TIMEOUT);
    }
}

/// SIGKILLs the process group led by `pid`.
fn kill_group(pid: u32) {
    kill(&[format!("-{pid}")]);
}

/// SIGKILLs `targets` (pids, or negated process group ids) via the shell's `kill`, which
/// saves a libc dependency. Best effort: a target may have exited meanwhile.
fn kill(targets: &[String]) {
    let _ = Command::new("sh")
        .args(["-c", "kill -s KILL -- \"$@\"", "sh"])
        .args(targets)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills processes a dead agent left running for `job` in `workdir`, found by the environment
/// every process of the workload inherits. Reading `/proc` keeps this to Linux; elsewhere
/// nothing is found, and removing the old output files still keeps the new run clean.
fn kill_strays(job: &Pubkey, workdir: &Path) {
    let job_var = format!("{JOB_ENV}={job}");
    let dir_var = format!("{WORK_DIR_ENV}={}", workdir.to_string_lossy());
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    let me = std::process::id();
    let strays: Vec<String> = entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let environ = fs::read(entry.path().join("environ")).ok()?;
            let has = |var: &str| environ.split(|b| *b == 0).any(|v| v == var.as_bytes());
            (pid != me && has(&job_var) && has(&dir_var)).then(|| pid.to_string())
        })
        .collect();
    if !strays.is_empty() {
        kill(&strays);
    }
}

/// How a workload exited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exit {
    Code(i32),
    Signal(i32),
    /// Nothing ran: the client's uploads never came.
    NotRun,
}

impl From<ExitStatus> for Exit {
    fn from(status: ExitStatus) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            if let Some(signal) = status.signal() {
                return Exit::Signal(signal);
            }
        }
        Exit::Code(status.code().unwrap_or(-1))
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with status {code}"),
            Exit::Signal(signal) => write!(f, "was killed by signal {signal}"),
            Exit::NotRun => write!(f, "never ran"),
        }
    }
}

/// The completion marker of a run.
struct Marker {
    content_hash: [u8; 32],
    sha256: [u8; 32],
    bytes: u64,
    exit: Exit,
}

impl Marker {
    /// Hashes and syncs the output of the run in `workdir`, then writes the marker
    /// atomically (temporary file, sync, rename).
    fn record(
        workdir: &Path,
        content_hash: [u8; 32],
        layout: Layout,
        exit: Exit,
    ) -> Result<Marker, ExecError> {
        let (sha256, bytes) = match layout {
            Layout::Stdout => {
                let output = workdir.join(OUTPUT_FILE);
                hash_and_sync(&output).context(|| format!("hashing output {}", output.display()))?
            }
            Layout::Manifest => pack_result(workdir, exit)?,
        };
        let marker = Marker {
            content_hash,
            sha256,
            bytes,
            exit,
        };
        let tmp = workdir.join(MARKER_TMP_FILE);
        let path = workdir.join(MARKER_FILE);
        (|| -> io::Result<()> {
            let mut file = File::create(&tmp)?;
            file.write_all(marker.encode().as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            // The rename itself is durable only once the directory is synced.
            #[cfg(unix)]
            File::open(workdir)?.sync_all()?;
            Ok(())
        })()
        .context(|| format!("writing completion marker {}", path.display()))?;
        Ok(marker)
    }

    /// The finished run of the workload pinned by `content_hash` in `workdir`, if the marker
    /// is there, readable, for that workload, and its output has the recorded size.
    fn read(workdir: &Path, content_hash: &[u8; 32], layout: Layout) -> Option<Marker> {
        let text = fs::read_to_string(workdir.join(MARKER_FILE)).ok()?;
        let marker = Marker::decode(&text)?;
        let size = fs::metadata(workdir.join(layout.result_file())).ok()?.len();
        (marker.content_hash == *content_hash && marker.bytes == size).then_some(marker)
    }

    fn encode(&self) -> String {
        let exit = match self.exit {
            Exit::Code(code) => format!("exit={code}"),
            Exit::Signal(signal) => format!("signal={signal}"),
            Exit::NotRun => "not_run=1".to_owned(),
        };
        format!(
            "content_hash={}\nsha256={}\nbytes={}\n{exit}\n",
            gpu_market_client::hex::encode(&self.content_hash),
            gpu_market_client::hex::encode(&self.sha256),
            self.bytes
        )
    }

    fn decode(text: &str) -> Option<Marker> {
        let field = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        };
        let exit = match (field("exit"), field("signal")) {
            (Some(code), None) => Exit::Code(code.parse().ok()?),
            (None, Some(signal)) => Exit::Signal(signal.parse().ok()?),
            (None, None) if field("not_run").is_some() => Exit::NotRun,
            _ => return None,
        };
        Some(Marker {
            content_hash: gpu_market_client::hex::decode_32(field("content_hash")?)?,
            sha256: gpu_market_client::hex::decode_32(field("sha256")?)?,
            bytes: field("bytes")?.parse().ok()?,
            exit,
        })
    }

    fn progress(&self, workdir: &Path, layout: Layout) -> Progress {
        // A manifest job always delivers its output directory, also when the workload
        // failed or never ran: the node served the time, and the client, who can see
        // why in the log, may dispute it.
        if self.exit == Exit::Code(0) || layout == Layout::Manifest {
            return Progress::Finished(Output {
                path: workdir.join(layout.result_file()),
                sha256: self.sha256,
                bytes: self.bytes,
            });
        }
        let tail = stderr_tail(&workdir.join(layout.log_file()));
        if tail.is_empty() {
            Progress::Failed(self.exit.to_string())
        } else {
            Progress::Failed(format!("{}; stderr: {tail}", self.exit))
        }
    }
}

/// Notes how the workload of a manifest job ended in its log, and packs its output
/// directory into the result. An output that cannot be packed (a file the agent may not
/// read) gives an empty result, with the reason in the log.
fn pack_result(workdir: &Path, exit: Exit) -> Result<([u8; 32], u64), ExecError> {
    let log = workdir.join(LOG_FILE);
    let note = |line: String| -> Result<(), ExecError> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .context(|| format!("opening {}", log.display()))?;
        writeln!(file, "gpu-market: {line}").context(|| format!("writing {}", log.display()))
    };
    if exit != Exit::NotRun {
        note(format!("the workload {exit}"))?;
    }
    let output = workdir.join(OUTPUT_DIR);
    let result = workdir.join(RESULT_FILE);
    let packing_error = |e: archive::ArchiveError| ExecError::Io {
        context: format!("packing {}", output.display()),
        source: io::Error::other(e.to_string()),
    };
    match archive::pack_dir(&output, &result) {
        Ok(packed) => Ok(packed),
        Err(err) => {
            // The kind only: the log is the client's to read, the node's paths are not.
            let what = match err {
                archive::ArchiveError::NotPackable(_) => "it holds a link or a special file",
                _ => "a file in it cannot be read",
            };
            note(format!(
                "the output directory cannot be packed ({what}); the result is empty"
            ))?;
            let empty = workdir.join(".empty-output");
            fs::create_dir_all(&empty).context(|| format!("creating {}", empty.display()))?;
            archive::pack_dir(&empty, &result).map_err(packing_error)
        }
    }
}

/// SHA-256 and size of the file at `path`, synced to disk first so a marker never vouches
/// for output a crash could lose.
fn hash_and_sync(path: &Path) -> io::Result<([u8; 32], u64)> {
    // Opened for writing only because some platforms refuse to sync a read-only handle.
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?
        .sync_all()?;
    archive::sha256_file(path)
}

/// The last [`STDERR_TAIL_BYTES`] of `path`, trimmed; empty if unreadable, since it only
/// decorates a failure report.
fn stderr_tail(path: &Path) -> String {
    let read = || -> io::Result<Vec<u8>> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(STDERR_TAIL_BYTES)))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        Ok(tail)
    };
    read()
        .map(|tail| String::from_utf8_lossy(&tail).trim().to_owned())
        .unwrap_or_default()
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    solana_sha256_hasher::hash(bytes).to_bytes()
}

/// Adds what was being done to an I/O error.
trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, ExecError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, ExecError> {
        self.map_err(|source| ExecError::Io {
            context: what(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    const WAIT: Duration = Duration::from_secs(10);

    /// Polls `job` until it leaves Running, for at most [`WAIT`].
    fn wait_done(executor: &mut impl Executor, job: &Pubkey) -> Progress {
        let deadline = Instant::now() + WAIT;
        loop {
            match executor.poll(job).unwrap() {
                Progress::Running if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20))
                }
                Progress::Running => panic!("job {job} still running after {WAIT:?}"),
                done => return done,
            }
        }
    }

    /// Waits for `condition` for at most [`WAIT`].
    fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !condition() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Pids written one per line to `path` by a workload.
    fn pids(path: &Path) -> Vec<u32> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().parse().unwrap())
            .collect()
    }

    /// Gone or a zombie: either way it no longer runs.
    fn is_dead(pid: u32) -> bool {
        match fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => matches!(
                stat.rsplit(')')
                    .next()
                    .and_then(|s| s.trim().chars().next()),
                Some('Z' | 'X')
            ),
        }
    }

    fn setup() -> (TempDir, PathBuf, Pubkey) {
        let dir = tempfile::tempdir().unwrap();
        let workdir = dir.path().join("job");
        (dir, workdir, Pubkey::new_unique())
    }

    #[test]
    fn process_workload_finishes_with_the_hash_of_its_output() {
        let (_dir, workdir, job) = setup();
        let mut executor = LocalProcessExecutor::new();
        executor
            .start(&job, &process_workload("printf hello"), &workdir)
            .unwrap();
        let workdir = fs::canonicalize(&workdir).unwrap();
        assert_eq!(
            wait_done(&mut executor, &job),
            Progress::Finished(Output {
                path: workdir.join(OUTPUT_FILE),
                sha256: sha256(b"hello"),
                bytes: 5,
            })
        );
        assert!(executor.running().is_empty());
        assert!(workdir.join(MARKER_FILE).exists());
        assert!(!workdir.join(MARKER_TMP_FILE).exists());
    }

    #[test]
    fn workload_sees_its_job_and_work_directory() {
        let (_dir, workdir, job) = setup();
        let command = r#"printf '%s|%s|%s' "$GPU_MARKET_JOB" "$GPU_MARKET_OUTPUT_DIR" "$(pwd)"; echo oops >&2"#;
        let mut executor = LocalProcessExecutor::new();
        executor
            .start(&job, &process_workload(command), &workdir)
            .unwrap();
        let Progress::Finished(output) = wait_done(&mut executor, &job) else {
            panic!("workload did not finish");
        };
        let workdir = fs::canonicalize(&workdir).unwrap();
        let dir = workdir.display();
        assert_eq!(
            fs::read_to_string(&output.path).unwrap(),
            format!("{job}|{dir}|{dir}")
        );
        assert_eq!(
            fs::read_to_string(workdir.join(STDERR_FILE)).unwrap(),
            "oops\n"
        );
    }

    #[test]
    fn mismatched_content_hash_is_rejected() {
        let (_dir, workdir, job) = setup();
        let workload = Workload {
            content_hash: [7; 32],
            uri: "process:printf hello".into(),
        };
        let mut executor = LocalProcessExecutor::new();
        let err = executor.start(&job, &workload, &workdir).unwrap_err();
        let message = err.to_string();
        match err {
            ExecError::ContentHashMismatch {
                uri,
                pinned,
                actual,
            } => {
                assert_eq!(uri, workload.uri);
                assert_eq!(pinned, [7; 32]);
                assert_eq!(actual, sha256(b"printf hello"));
            }
            other => panic!("expected ContentHashMismatch, got {other:?}"),
        }
        assert!(
            message.contains(&gpu_market_client::hex::encode(&[7; 32])),
            "{message}"
        );
        assert!(
            message.contains(&gpu_market_client::hex::encode(&sha256(b"printf hello"))),
            "{message}"
        );
        assert!(executor.running().is_empty());
        assert!(!workdir.join(OUTPUT_FILE).exists());
    }

    #[test]
    fn empty_command_is_invalid() {
        let (_dir, workdir, job) = setup();
        let err = LocalProcessExecutor::new()
            .start(&job, &process_workload("  "), &workdir)
            .unwrap_err();
        assert!(
            matches!(
                &err,
                ExecError::InvalidUri { reason, .. } if reason == "empty command"
            ),
            "{err:?}"
        );
    }

    #[test]
    fn failing_command_reports_status_and_stderr_also_after_restart() {
        let (_dir, workdir, job) = setup();
        let workload = process_workload("echo boom >&2; exit 3");
        let mut executor = LocalProcessExecutor::new();
        executor.start(&job, &workload, &workdir).unwrap();
        let expected = Progress::Failed("exited with status 3; stderr: boom".into());
        assert_eq!(wait_done(&mut executor, &job), expected);
        drop(executor);

        let mut restarted = LocalProcessExecutor::new();
        restarted.start(&job, &workload, &workdir).unwrap();
        assert!(restarted.running().is_empty());
        assert_eq!(restarted.poll(&job).unwrap(), expected);
    }

    #[test]
    fn finished_run_is_not_run_again_by_a_new_executor() {
        let (dir, workdir, job) = setup();
        let counter = dir.path().join("runs");
        let workload = process_workload(&format!(
            "printf x >> '{}'; printf hello",
            counter.display()
        ));
        let mut executor = LocalProcessExecutor::new();
        executor.start(&job, &workload, &workdir).unwrap();
        let first = wait_done(&mut executor, &job);
        // A second start of a tracked job is a no-op too.
        executor.start(&job, &workload, &workdir).unwrap();
        assert_eq!(executor.poll(&job).unwrap(), first);
        drop(executor);

        let mut restarted = LocalProcessExecutor::new();
        restarted.start(&job, &workload, &workdir).unwrap();
        assert!(restarted.running().is_empty());
        assert_eq!(restarted.poll(&job).unwrap(), first);
        let Progress::Finished(output) = first else {
            panic!("workload did not finish: {first:?}");
        };
        assert_eq!(output.sha256, sha256(b"hello"));
        assert_eq!(fs::read_to_string(&counter).unwrap(), "x");
    }

    #[test]
    fn finished_run_of_another_workload_is_run_again() {
        let (_dir, workdir, job) = setup();
        let mut executor = LocalProcessExecutor::new();
        executor
            .start(&job, &process_workload("printf one"), &workdir)
            .unwrap();
        wait_done(&mut executor, &job);
        drop(executor);

        let mut restarted = LocalProcessExecutor::new();
        restarted
            .start(&job, &process_workload("printf two"), &workdir)
            .unwrap();
        let Progress::Finished(output) = wait_done(&mut restarted, &job) else {
            panic!("workload did not finish");
        };
        assert_eq!(output.sha256, sha256(b"two"));
    }

    #[test]
    fn interrupted_run_starts_over_with_empty_output() {
        let (dir, workdir, job) = setup();
        let pid_log = dir.path().join("pids");
        let workload = process_workload(&format!(
            "echo $$ >> '{}'; echo $$; sleep 30",
            pid_log.display()
        ));
        let mut executor = LocalProcessExecutor::new();
        executor.start(&job, &workload, &workdir).unwrap();
        wait_until("the first run", || pids(&pid_log).len() == 1);
        drop(executor);
        let first = pids(&pid_log)[0];
        assert!(is_dead(first), "drop left the workload running");

        let mut restarted = LocalProcessExecutor::new();
        restarted.start(&job, &workload, &workdir).unwrap();
        assert_eq!(restarted.running(), vec![job]);
        wait_until("the second run", || pids(&pid_log).len() == 2);
        let second = pids(&pid_log)[1];
        let output = workdir.join(OUTPUT_FILE);
        wait_until("the second run's output", || {
            fs::read_to_string(&output).is_ok_and(|o| !o.is_empty())
        });
        assert_eq!(fs::read_to_string(&output).unwrap(), format!("{second}\n"));

        restarted.stop(&job).unwrap();
        assert!(restarted.running().is_empty());
        assert!(is_dead(second));
    }

    #[test]
    fn run_left_by_a_crashed_agent_is_killed_on_restart() {
        let (dir, workdir, job) = setup();
        let pid_log = dir.path().join("pids");
        let workload = process_workload(&format!("echo $$ >> '{}'; sleep 30", pid_log.display()));
        let mut crashed = LocalProcessExecutor::new();
        crashed.start(&job, &workload, &workdir).unwrap();
        wait_until("the first run", || pids(&pid_log).len() == 1);
        // A crash runs no destructor.
        std::mem::forget(crashed);
        let stray = pids(&pid_log)[0];
        assert!(!is_dead(stray));

        let mut restarted = LocalProcessExecutor::new();
        restarted.start(&job, &workload, &workdir).unwrap();
        wait_until("the stray to die", || is_dead(stray));
        wait_until("the second run", || pids(&pid_log).len() == 2);
        restarted.stop(&job).unwrap();
        assert!(is_dead(pids(&pid_log)[1]));
    }

    #[test]
    fn stop_kills_the_workload_and_what_it_spawned() {
        let (_dir, workdir, job) = setup();
        // The sleep is a grandchild, reachable only through the process group.
        let workload = process_workload("sleep 30 & echo $! > sleep.pid; wait");
        let mut executor = LocalProcessExecutor::new();
        executor.start(&job, &workload, &workdir).unwrap();
        let pid_file = workdir.join("sleep.pid");
        wait_until("the sleep to start", || pids(&pid_file).len() == 1);
        let sleep = pids(&pid_file)[0];
        assert_eq!(executor.running(), vec![job]);
        assert_eq!(executor.poll(&job).unwrap(), Progress::Running);

        executor.stop(&job).unwrap();
        assert!(executor.running().is_empty());
        wait_until("the sleep to die", || is_dead(sleep));
        assert!(matches!(executor.poll(&job), Err(ExecError::UnknownJob(j)) if j == job));
        executor.stop(&job).unwrap();
    }

    #[test]
    fn local_executor_does_not_run_containers() {
        let (_dir, workdir, job) = setup();
        let workload = oci_workload("ghcr.io/example/infer:1.0", [1; 32]);
        let mut executor = LocalProcessExecutor::new();
        assert!(!executor.supports(&workload));
        assert!(executor.supports(&process_workload("true")));
        let err = executor.start(&job, &workload, &workdir).unwrap_err();
        assert!(
            matches!(&err, ExecError::UnsupportedScheme { executor, uri }
                if executor == "local" && *uri == workload.uri),
            "{err:?}"
        );
    }

    fn spec(gpus: Vec<usize>) -> ContainerSpec {
        ContainerSpec {
            image: "ghcr.io/example/infer:1.0".into(),
            digest: [0xab; 32],
            args: Vec::new(),
            env: BTreeMap::new(),
            output_dir: CONTAINER_OUTPUT_DIR.into(),
            input_dir: None,
            publish: Vec::new(),
            gpus,
            cpu_cores: 0,
            ram_mib: 0,
        }
    }

    fn args(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn container_command_pins_the_image_digest_and_the_jobs_gpus() {
        let job = Pubkey::new_unique();
        let command = container_command(
            "docker",
            &job,
            &spec(vec![1]),
            Layout::Stdout,
            Path::new("/var/lib/agent/jobs/x"),
        );
        let name = format!("gpu-market-{}", &job.to_string()[..16]);
        let expected = [
            "run",
            "--rm",
            "--name",
            &name,
            "--security-opt",
            "no-new-privileges",
            "--pids-limit",
            "4096",
            "--gpus",
            "\"device=1\"",
            "-e",
            &format!("GPU_MARKET_JOB={job}"),
            "-e",
            "GPU_MARKET_OUTPUT_DIR=/output",
            "-v",
            "/var/lib/agent/jobs/x/files:/output",
            "-e",
            "NVIDIA_VISIBLE_DEVICES=1",
            &format!("ghcr.io/example/infer:1.0@sha256:{}", "ab".repeat(32)),
        ];
        assert_eq!(command.get_program(), "docker");
        assert_eq!(args(&command), expected);
    }

    #[test]
    fn a_manifest_container_gets_its_gpus_limits_mounts_and_env_by_name_only() {
        let job = Pubkey::new_unique();
        let mut spec = spec(vec![2, 3]);
        spec.args = vec!["--epochs".into(), "3".into()];
        spec.env = BTreeMap::from([
            ("HF_TOKEN".to_owned(), "hf_secret".to_owned()),
            ("MODEL".to_owned(), "tiny".to_owned()),
        ]);
        spec.output_dir = "/results".into();
        spec.input_dir = Some("/data".into());
        spec.cpu_cores = 8;
        spec.ram_mib = 65_536;
        spec.publish = vec![Service {
            port: 8080,
            host_port: 41_234,
        }];
        let workdir = Path::new("/w/job");
        let command = container_command("docker", &job, &spec, Layout::Manifest, workdir);
        let name = format!("gpu-market-{}", &job.to_string()[..16]);
        let expected = [
            "run",
            "--rm",
            "--name",
            &name,
            "--security-opt",
            "no-new-privileges",
            "--pids-limit",
            "4096",
            "--gpus",
            "\"device=2,3\"",
            "--cpus",
            "8",
            "--memory",
            "65536m",
            "-p",
            "127.0.0.1:41234:8080",
            "-e",
            &format!("GPU_MARKET_JOB={job}"),
            "-e",
            "GPU_MARKET_OUTPUT_DIR=/results",
            "-v",
            "/w/job/output:/results",
            "-e",
            "GPU_MARKET_INPUT_DIR=/data",
            "-v",
            "/w/job/input:/data:ro",
            "--env-file",
            "/dev/stdin",
            "-e",
            "NVIDIA_VISIBLE_DEVICES=2,3",
            &format!("ghcr.io/example/infer:1.0@sha256:{}", "ab".repeat(32)),
            "--epochs",
            "3",
        ];
        assert_eq!(args(&command), expected);
        // Names and values reach the engine on its stdin: never on its command line, and
        // never in its own environment.
        assert!(!args(&command).iter().any(|a| a.contains("hf_secret")));
        assert_eq!(command.get_envs().count(), 0);
        assert_eq!(env_file(&spec.env), b"HF_TOKEN=hf_secret\nMODEL=tiny\n");

        let podman = container_command("podman", &job, &spec, Layout::Manifest, workdir);
        let podman = args(&podman);
        assert_eq!(
            podman[8..12],
            [
                "--device",
                "nvidia.com/gpu=2",
                "--device",
                "nvidia.com/gpu=3"
            ]
        );
        assert!(!podman.iter().any(|a| a == "--gpus"));
        // A job that rented no GPU sees none, whatever the image or manifest says.
        let no_gpus = ContainerSpec {
            gpus: Vec::new(),
            ..spec.clone()
        };
        let none = container_command("docker", &job, &no_gpus, Layout::Manifest, workdir);
        let none = args(&none);
        assert!(!none.iter().any(|a| a == "--gpus"));
        assert!(none.contains(&"NVIDIA_VISIBLE_DEVICES=void".to_owned()));
    }

    #[test]
    fn two_jobs_on_one_node_never_share_a_gpu() {
        let mut executor = ContainerExecutor::new("docker", 4);
        let (a, b, c) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        assert_eq!(executor.allocate(&a, 2).unwrap(), vec![0, 1]);
        assert_eq!(executor.allocate(&b, 2).unwrap(), vec![2, 3]);
        // Asking again returns what the job holds.
        assert_eq!(executor.allocate(&a, 2).unwrap(), vec![0, 1]);
        let err = executor.allocate(&c, 1).unwrap_err();
        assert!(
            matches!(err, ExecError::NoFreeGpus { wanted: 1, free: 0, total: 4, job } if job == c),
            "{err:?}"
        );
        executor.release(&a);
        assert_eq!(executor.allocate(&c, 1).unwrap(), vec![0]);
        assert_eq!(executor.allocate(&a, 1).unwrap(), vec![1]);
    }

    /// A manifest job's work directory with `manifest` uploaded and `input` unpacked.
    fn manifest_job(workdir: &Path, manifest: &Manifest) -> Workload {
        fs::create_dir_all(workdir.join(INPUT_DIR)).unwrap();
        fs::write(workdir.join(INPUT_DIR).join("in.txt"), "input\n").unwrap();
        fs::write(workdir.join(MANIFEST_FILE), manifest.canonical_bytes()).unwrap();
        manifest.workload()
    }

    fn process_manifest(command: &[&str]) -> Manifest {
        Manifest {
            version: manifest::VERSION,
            runner: Runner::Process {
                command: command.iter().map(|s| (*s).to_owned()).collect(),
            },
            args: vec!["first arg".into()],
            env: BTreeMap::from([("MODEL".to_owned(), "tiny".to_owned())]),
            secrets: vec!["TOKEN".into()],
            output_dir: manifest::DEFAULT_OUTPUT_DIR.into(),
            input_dir: manifest::DEFAULT_INPUT_DIR.into(),
            input: None,
            ports: Vec::new(),
        }
    }

    #[test]
    fn a_local_process_gets_its_ports_noted_and_is_refused_one_the_node_already_serves() {
        let (_dir, workdir, job) = setup();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut manifest = process_manifest(&["sleep", "30"]);
        manifest.secrets = Vec::new();
        manifest.ports = vec![manifest::Port { port, health: None }];
        let workload = manifest_job(&workdir, &manifest);
        let mut executor = LocalProcessExecutor::new();
        executor
            .launch(&job, &Launch::new(&workload, &workdir))
            .unwrap();
        assert_eq!(
            services(&workdir),
            vec![Service {
                port,
                host_port: port
            }]
        );
        executor.stop(&job).unwrap();
        assert_eq!(services(&workdir), Vec::new());

        let taken = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let err = executor
            .launch(&job, &Launch::new(&workload, &workdir))
            .unwrap_err();
        assert!(
            matches!(&err, ExecError::Manifest { reason, .. }
                if *reason == format!("port {port} is in use on this node; a local process needs ports of its own")),
            "{err:?}"
        );
        assert!(executor.running().is_empty());
        assert!(!workdir.join(SERVICES_FILE).exists());
        drop(taken);
    }

    #[test]
    fn a_manifest_process_runs_its_argv_with_env_and_secrets_and_packs_its_output() {
        let (_dir, workdir, job) = setup();
        let manifest = process_manifest(&[
            "sh",
            "-c",
            r#"echo "arg=$1 model=$MODEL token=$TOKEN"; cp "$GPU_MARKET_INPUT_DIR/in.txt" "$GPU_MARKET_OUTPUT_DIR/copy.txt"; echo warn >&2"#,
            "sh",
        ]);
        let workload = manifest_job(&workdir, &manifest);
        let secrets = BTreeMap::from([("TOKEN".to_owned(), "t0k".to_owned())]);
        let mut executor = LocalProcessExecutor::new();
        assert!(executor.supports(&workload));
        executor
            .launch(
                &job,
                &Launch {
                    secrets: &secrets,
                    ..Launch::new(&workload, &workdir)
                },
            )
            .unwrap();
        let Progress::Finished(output) = wait_done(&mut executor, &job) else {
            panic!("workload did not finish");
        };
        let workdir = fs::canonicalize(&workdir).unwrap();
        assert_eq!(output.path, workdir.join(RESULT_FILE));
        assert_eq!(
            fs::read_to_string(workdir.join(LOG_FILE)).unwrap(),
            "arg=first arg model=tiny token=t0k\nwarn\ngpu-market: the workload exited with status 0\n"
        );
        let (sha256, bytes) = archive::sha256_file(&output.path).unwrap();
        assert_eq!((output.sha256, output.bytes), (sha256, bytes));
        let unpacked = workdir.join("unpacked");
        archive::unpack(&output.path, &unpacked, 1 << 20).unwrap();
        assert_eq!(
            fs::read_to_string(unpacked.join("copy.txt")).unwrap(),
            "input\n"
        );

        // A restarted executor finds the finished run and does not run it again.
        drop(executor);
        let mut restarted = LocalProcessExecutor::new();
        restarted.start(&job, &workload, &workdir).unwrap();
        assert!(restarted.running().is_empty());
        assert_eq!(restarted.poll(&job).unwrap(), Progress::Finished(output));
    }

    #[test]
    fn a_failed_manifest_workload_still_delivers_its_output_and_says_how_it_ended() {
        let (_dir, workdir, job) = setup();
        let mut manifest = process_manifest(&[
            "sh",
            "-c",
            r#"echo partial > "$GPU_MARKET_OUTPUT_DIR/p.txt"; echo boom >&2; exit 3"#,
        ]);
        manifest.secrets.clear();
        let workload = manifest_job(&workdir, &manifest);
        let mut executor = LocalProcessExecutor::new();
        executor.start(&job, &workload, &workdir).unwrap();
        let Progress::Finished(output) = wait_done(&mut executor, &job) else {
            panic!("a manifest job always delivers");
        };
        let workdir = fs::canonicalize(&workdir).unwrap();
        assert_eq!(
            fs::read_to_string(workdir.join(LOG_FILE)).unwrap(),
            "boom\ngpu-market: the workload exited with status 3\n"
        );
        let unpacked = workdir.join("unpacked");
        archive::unpack(&output.path, &unpacked, 1 << 20).unwrap();
        assert_eq!(
            fs::read_to_string(unpacked.join("p.txt")).unwrap(),
            "partial\n"
        );
    }

    #[test]
    fn a_manifest_job_waits_for_its_uploads_and_refuses_a_manifest_it_does_not_pin() {
        let (_dir, workdir, job) = setup();
        let mut manifest = process_manifest(&["true"]);
        manifest.input = Some(manifest::InputDigest {
            sha256: [1; 32],
            bytes: 10,
        });
        let workload = manifest.workload();
        assert_eq!(waiting_for(&workload, &workdir, false), vec!["manifest"]);
        fs::create_dir_all(&workdir).unwrap();
        fs::write(workdir.join(MANIFEST_FILE), manifest.canonical_bytes()).unwrap();
        assert_eq!(
            waiting_for(&workload, &workdir, false),
            vec!["input", "secrets"]
        );
        fs::create_dir_all(workdir.join(INPUT_DIR)).unwrap();
        assert_eq!(waiting_for(&workload, &workdir, false), vec!["secrets"]);
        assert!(waiting_for(&workload, &workdir, true).is_empty());
        assert!(waiting_for(&process_workload("true"), &workdir, false).is_empty());

        // Bytes the job does not pin never run.
        let mut other = manifest.clone();
        other.args.push("x".into());
        fs::write(workdir.join(MANIFEST_FILE), other.canonical_bytes()).unwrap();
        let err = LocalProcessExecutor::new()
            .start(&job, &workload, &workdir)
            .unwrap_err();
        assert!(
            matches!(&err, ExecError::Manifest { reason, .. } if reason.starts_with("the manifest hashes to")),
            "{err:?}"
        );
        assert!(!workdir.join(LOG_FILE).exists());
    }

    #[test]
    fn oci_image_references_are_restricted() {
        let image = |uri: &str| {
            oci_image(
                &Workload {
                    content_hash: [0; 32],
                    uri: uri.into(),
                },
                "docker",
            )
            .map(str::to_owned)
            .map_err(|e| match e {
                ExecError::InvalidUri { reason, .. } => reason,
                other => panic!("unexpected {other:?}"),
            })
        };
        assert_eq!(
            image("oci://nvcr.io/nvidia/pytorch:24.01-py3"),
            Ok("nvcr.io/nvidia/pytorch:24.01-py3".to_owned())
        );
        assert!(image("oci://-v=/:/host").is_err());
        assert!(image("oci://ubuntu@sha256:00").is_err());
        assert!(image("oci://ubuntu latest").is_err());
        assert!(image("oci://").is_err());
    }

    #[test]
    fn engine_probe_needs_a_zero_exit_in_time() {
        assert!(engine_answers("true", ENGINE_TIMEOUT));
        assert!(!engine_answers("false", ENGINE_TIMEOUT));
        assert!(!engine_answers(
            "gpu-market-no-such-runtime",
            ENGINE_TIMEOUT
        ));

        let started = Instant::now();
        let mut sleep = Command::new("sleep");
        sleep.arg("30");
        assert_eq!(run_bounded(sleep, Duration::from_millis(100)), None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn auto_executor_dispatches_by_scheme() {
        let (_dir, workdir, job) = setup();
        let mut auto = AutoExecutor::new(None, Some(LocalProcessExecutor::new()));
        assert_eq!(auto.name(), "local");
        let oci = oci_workload("ghcr.io/example/infer:1.0", [1; 32]);
        assert!(!auto.supports(&oci));
        let err = auto.start(&job, &oci, &workdir).unwrap_err();
        assert!(
            matches!(&err, ExecError::NoContainerRuntime { uri } if *uri == oci.uri),
            "{err:?}"
        );

        let process = process_workload("printf hello");
        assert!(auto.supports(&process));
        auto.start(&job, &process, &workdir).unwrap();
        let Progress::Finished(output) = wait_done(&mut auto, &job) else {
            panic!("workload did not finish");
        };
        assert_eq!(output.sha256, sha256(b"hello"));
        auto.stop(&job).unwrap();
        assert!(matches!(auto.poll(&job), Err(ExecError::UnknownJob(_))));

        let mut none = AutoExecutor::new(None, None);
        assert_eq!(none.name(), "none");
        let err = none.start(&job, &process, &workdir).unwrap_err();
        assert!(
            matches!(&err, ExecError::UnsupportedScheme { executor, .. } if executor == "none"),
            "{err:?}"
        );
    }

    #[test]
    fn auto_executor_stops_running_local_jobs() {
        let (_dir, workdir, job) = setup();
        let mut auto = AutoExecutor::detect(true);
        assert!(auto.name().ends_with("local"), "{}", auto.name());
        auto.start(&job, &process_workload("sleep 30"), &workdir)
            .unwrap();
        assert_eq!(auto.running(), vec![job]);
        auto.stop(&job).unwrap();
        assert!(auto.running().is_empty());
    }

    #[test]
    fn marker_round_trips() {
        let marker = Marker {
            content_hash: [1; 32],
            sha256: [2; 32],
            bytes: 42,
            exit: Exit::Signal(9),
        };
        let decoded = Marker::decode(&marker.encode()).unwrap();
        assert_eq!(decoded.content_hash, [1; 32]);
        assert_eq!(decoded.sha256, [2; 32]);
        assert_eq!(decoded.bytes, 42);
        assert_eq!(decoded.exit, Exit::Signal(9));
        assert!(Marker::decode("sha256=zz\n").is_none());
    }
}
