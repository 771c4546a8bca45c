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
//! Workload URIs:
//! - `process:<shell command>`: `sh -c <command>` in the work directory, pinned by the SHA-256
//!   of the command ([`process_workload`]). It runs unsandboxed on the host, so
//!   [`LocalProcessExecutor`] is for trusted clients and tests only.
//! - `oci://<image>`: `<runtime> run` of `<image>@sha256:<content hash>` with the work
//!   directory mounted at `/output` ([`oci_workload`]); the engine enforces the pin.

use anchor_lang::solana_program::pubkey::Pubkey;
use gpu_market_client::escrow::Workload;
use solana_sha256_hasher::Hasher;
use std::{
    collections::HashMap,
    fmt,
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

const PROCESS_SCHEME: &str = "process:";
const OCI_SCHEME: &str = "oci://";
const OUTPUT_FILE: &str = "output";
const STDERR_FILE: &str = "stderr.log";
const MARKER_FILE: &str = "result";
const MARKER_TMP_FILE: &str = "result.tmp";
const JOB_ENV: &str = "GPU_MARKET_JOB";
const OUTPUT_DIR_ENV: &str = "GPU_MARKET_OUTPUT_DIR";
/// Where a container sees its work directory.
const CONTAINER_OUTPUT_DIR: &str = "/output";
/// How much of `stderr.log` a failure report quotes.
const STDERR_TAIL_BYTES: u64 = 2048;
/// How long `<runtime> info` and `<runtime> rm` may take before the engine counts as absent.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(5);

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
        reason: &'static str,
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
    /// Starts the workload of `job` in `workdir` (one directory per job, created if missing).
    /// Idempotent and restart-safe: if `workdir` holds a finished run of this workload, it
    /// does not run again and [`poll`](Executor::poll) reports its result; if it holds an
    /// unfinished one (the agent died), leftover processes of it are killed and it starts
    /// over with empty output. A job this executor already tracks is left alone.
    fn start(&mut self, job: &Pubkey, workload: &Workload, workdir: &Path)
        -> Result<(), ExecError>;
    /// Non-blocking: where the workload of `job` stands. A Finished output's sha256 is the
    /// SHA-256 of the output file; the poll that sees the exit hashes it once.
    fn poll(&mut self, job: &Pubkey) -> Result<Progress, ExecError>;
    /// Stops the workload of `job` if it runs (kill and reap it, with everything it spawned)
    /// and forgets the job; its work directory stays. Ok if it is not running.
    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError>;
    /// Jobs currently running under this executor.
    fn running(&self) -> Vec<Pubkey>;
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
        workload.uri.starts_with(PROCESS_SCHEME)
    }

    fn start(
        &mut self,
        job: &Pubkey,
        workload: &Workload,
        workdir: &Path,
    ) -> Result<(), ExecError> {
        let command = shell_command(workload)?;
        self.runs
            .start(job, workload.content_hash, workdir, None, |_| {
                let mut sh = Command::new("sh");
                sh.arg("-c").arg(command);
                sh
            })
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
            reason: "empty command",
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

/// Runs `oci://` workloads in containers through docker or podman.
pub struct ContainerExecutor {
    runtime: String,
    runs: Runs,
}

impl ContainerExecutor {
    /// The first of docker and podman whose engine answers, or `None`. Only a working engine
    /// counts: a docker client without a daemon is common.
    pub fn detect() -> Option<ContainerExecutor> {
        ["docker", "podman"]
            .into_iter()
            .find(|runtime| engine_answers(runtime, ENGINE_TIMEOUT))
            .map(|runtime| ContainerExecutor {
                runtime: runtime.into(),
                runs: Runs::default(),
            })
    }
}

impl Executor for ContainerExecutor {
    fn name(&self) -> &str {
        &self.runtime
    }

    fn supports(&self, workload: &Workload) -> bool {
        workload.uri.starts_with(OCI_SCHEME)
    }

    fn start(
        &mut self,
        job: &Pubkey,
        workload: &Workload,
        workdir: &Path,
    ) -> Result<(), ExecError> {
        let image = oci_image(workload, &self.runtime)?;
        let name = container_name(job);
        // A container left by a dead agent keeps the name taken and may still write output.
        let cleanup = vec![self.runtime.clone(), "rm".into(), "-f".into(), name];
        let runtime = &self.runtime;
        self.runs
            .start(job, workload.content_hash, workdir, Some(cleanup), |dir| {
                container_command(runtime, job, image, &workload.content_hash, dir)
            })
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
    let invalid = |reason| ExecError::InvalidUri {
        uri: uri.clone(),
        reason,
    };
    if !image.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid("image must start with a letter or digit"));
    }
    if image.contains('@') {
        return Err(invalid(
            "image must not carry a digest; the content hash is the digest",
        ));
    }
    if !image
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c))
    {
        return Err(invalid("image may only contain letters, digits and ._-/:"));
    }
    Ok(image)
}

/// The container of `job`; derived from the job so a restarted agent finds it again.
fn container_name(job: &Pubkey) -> String {
    let job = job.to_string();
    format!("gpu-market-{}", job.get(..16).unwrap_or(&job))
}

fn container_command(
    runtime: &str,
    job: &Pubkey,
    image: &str,
    digest: &[u8; 32],
    workdir: &Path,
) -> Command {
    let mut volume = workdir.as_os_str().to_owned();
    volume.push(format!(":{CONTAINER_OUTPUT_DIR}"));
    let mut command = Command::new(runtime);
    command
        .args(["run", "--rm", "--gpus", "all", "--name"])
        .arg(container_name(job))
        .arg("-e")
        .arg(format!("{JOB_ENV}={job}"))
        .arg("-e")
        .arg(format!("{OUTPUT_DIR_ENV}={CONTAINER_OUTPUT_DIR}"))
        .arg("-v")
        .arg(volume)
        .arg(format!(
            "{image}@sha256:{}",
            gpu_market_client::hex::encode(digest)
        ));
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

    fn start(
        &mut self,
        job: &Pubkey,
        workload: &Workload,
        workdir: &Path,
    ) -> Result<(), ExecError> {
        if let Some(c) = self.container.as_mut().filter(|c| c.supports(workload)) {
            return c.start(job, workload, workdir);
        }
        if let Some(l) = self.local.as_mut().filter(|l| l.supports(workload)) {
            return l.start(job, workload, workdir);
        }
        let uri = workload.uri.clone();
        Err(if uri.starts_with(OCI_SCHEME) {
            ExecError::NoContainerRuntime { uri }
        } else {
            ExecError::UnsupportedScheme {
                executor: self.name.clone(),
                uri,
            }
        })
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

struct Run {
    workdir: PathBuf,
    content_hash: [u8; 32],
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
        cleanup: Option<Vec<String>>,
        build: impl FnOnce(&Path) -> Command,
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
        let state = match Marker::read(&workdir, &content_hash) {
            Some(marker) => RunState::Done(marker.progress(&workdir)),
            None => RunState::Running(spawn(job, &workdir, cleanup.as_deref(), build)?),
        };
        self.jobs.insert(
            *job,
            Run {
                workdir,
                content_hash,
                cleanup,
                state,
            },
        );
        Ok(())
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
        let marker = Marker::record(&run.workdir, run.content_hash, Exit::from(status))?;
        let progress = marker.progress(&run.workdir);
        run.state = RunState::Done(progress.clone());
        Ok(progress)
    }

    fn stop(&mut self, job: &Pubkey) -> Result<(), ExecError> {
        match self.jobs.remove(job) {
            Some(Run {
                state: RunState::Running(mut child),
                cleanup,
                ..
            }) => halt(&mut child, cleanup.as_deref())
                .context(|| format!("stopping the workload of job {job}")),
            _ => Ok(()),
        }
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        for run in self.jobs.values_mut() {
            if let RunState::Running(child) = &mut run.state {
                // Nothing to report to from a drop; halt is best effort by then.
                let _ = halt(child, run.cleanup.as_deref());
            }
        }
    }
}

/// Starts the command `build` makes in `workdir` with fresh output files, after killing what
/// a dead agent may have left running there.
fn spawn(
    job: &Pubkey,
    workdir: &Path,
    cleanup: Option<&[String]>,
    build: impl FnOnce(&Path) -> Command,
) -> Result<Child, ExecError> {
    let output = workdir.join(OUTPUT_FILE);
    let stderr = workdir.join(STDERR_FILE);
    if output.exists() || stderr.exists() {
        kill_strays(job, workdir);
        if let Some(cleanup) = cleanup {
            run_cleanup(cleanup);
        }
    }
    for name in [MARKER_FILE, MARKER_TMP_FILE, OUTPUT_FILE, STDERR_FILE] {
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
    let stdout = File::create(&output).context(|| format!("creating {}", output.display()))?;
    let stderr = File::create(&stderr).context(|| format!("creating {}", stderr.display()))?;
    let mut command = build(workdir);
    command
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .env(JOB_ENV, job.to_string())
        .env(OUTPUT_DIR_ENV, workdir);
    // Its own process group, so stop can kill everything the workload spawned.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
        .spawn()
        .context(|| format!("starting {:?} for job {job}", command.get_program()))
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
    let dir_var = format!("{OUTPUT_DIR_ENV}={}", workdir.to_string_lossy());
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
    fn record(workdir: &Path, content_hash: [u8; 32], exit: Exit) -> Result<Marker, ExecError> {
        let output = workdir.join(OUTPUT_FILE);
        let (sha256, bytes) =
            hash_and_sync(&output).context(|| format!("hashing output {}", output.display()))?;
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
    fn read(workdir: &Path, content_hash: &[u8; 32]) -> Option<Marker> {
        let text = fs::read_to_string(workdir.join(MARKER_FILE)).ok()?;
        let marker = Marker::decode(&text)?;
        let size = fs::metadata(workdir.join(OUTPUT_FILE)).ok()?.len();
        (marker.content_hash == *content_hash && marker.bytes == size).then_some(marker)
    }

    fn encode(&self) -> String {
        let exit = match self.exit {
            Exit::Code(code) => format!("exit={code}"),
            Exit::Signal(signal) => format!("signal={signal}"),
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
            _ => return None,
        };
        Some(Marker {
            content_hash: gpu_market_client::hex::decode_32(field("content_hash")?)?,
            sha256: gpu_market_client::hex::decode_32(field("sha256")?)?,
            bytes: field("bytes")?.parse().ok()?,
            exit,
        })
    }

    fn progress(&self, workdir: &Path) -> Progress {
        if self.exit == Exit::Code(0) {
            return Progress::Finished(Output {
                path: workdir.join(OUTPUT_FILE),
                sha256: self.sha256,
                bytes: self.bytes,
            });
        }
        let tail = stderr_tail(&workdir.join(STDERR_FILE));
        if tail.is_empty() {
            Progress::Failed(self.exit.to_string())
        } else {
            Progress::Failed(format!("{}; stderr: {tail}", self.exit))
        }
    }
}

/// SHA-256 and size of the file at `path`, synced to disk first so a marker never vouches
/// for output a crash could lose.
fn hash_and_sync(path: &Path) -> io::Result<([u8; 32], u64)> {
    // Opened for writing only because some platforms refuse to sync a read-only handle.
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    file.sync_all()?;
    let mut hasher = Hasher::default();
    let mut buf = vec![0; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((hasher.result().to_bytes(), bytes));
        }
        hasher.hash(&buf[..n]);
        bytes += n as u64;
    }
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
                err,
                ExecError::InvalidUri {
                    reason: "empty command",
                    ..
                }
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

    #[test]
    fn container_command_pins_the_image_digest() {
        let job = Pubkey::new_unique();
        let digest = [0xab; 32];
        let command = container_command(
            "docker",
            &job,
            "ghcr.io/example/infer:1.0",
            &digest,
            Path::new("/var/lib/agent/jobs/x"),
        );
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let name = format!("gpu-market-{}", &job.to_string()[..16]);
        let expected = [
            "run",
            "--rm",
            "--gpus",
            "all",
            "--name",
            &name,
            "-e",
            &format!("GPU_MARKET_JOB={job}"),
            "-e",
            "GPU_MARKET_OUTPUT_DIR=/output",
            "-v",
            "/var/lib/agent/jobs/x:/output",
            &format!("ghcr.io/example/infer:1.0@sha256:{}", "ab".repeat(32)),
        ];
        assert_eq!(command.get_program(), "docker");
        assert_eq!(args, expected);
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
