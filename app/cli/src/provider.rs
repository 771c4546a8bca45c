//! `gpu-market provider`: register, update, inspect and serve a GPU node.

use crate::{
    output::{date, now_rfc3339, short, table, OutputFormat},
    units::{format_amount, format_mib, format_region, Decimal, Duration, Region, Size},
    CliError, Context,
};
use clap::{Args, Subcommand};
use gpu_market_agent::{
    api::{ApiServer, JobBook, Limits, Tls},
    executor::{AutoExecutor, Executor},
    gpu, Agent, AgentConfig, AgentEvent,
};
use gpu_market_client::{
    market::MarketSnapshot,
    pda,
    registry::{self, GpuClass, Hardware, Provider, ProviderStatus, RegistryConfig},
    Chain, Pubkey, Signer,
};
use indicatif::{ProgressBar, ProgressStyle};
use provider_registry::{RegisterProviderArgs, UpdateProviderArgs};
use serde::Serialize;
use std::{
    fmt,
    io::Write,
    net::{SocketAddr, TcpListener, ToSocketAddrs},
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration as StdDuration, Instant},
};

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Register your node (your keypair is its authority: the cold wallet that owns the
    /// stake). Stake enough first: `gpu-market stake deposit`.
    Register(RegisterArgs),
    /// Change your node's listing: price, endpoint, region, benchmark, hardware (which
    /// voids an attestation of the old spec) or operator key.
    Update(UpdateArgs),
    /// Show a node.
    Show {
        /// The node's authority (default: your keypair).
        #[arg(long, value_parser = crate::parse_pubkey)]
        authority: Option<Pubkey>,
    },
    /// List registered nodes.
    List {
        /// Only nodes of this GPU class.
        #[arg(long, value_enum)]
        class: Option<ClassArg>,
        /// Only nodes with at least this much VRAM per GPU, e.g. 40GiB.
        #[arg(long)]
        min_vram: Option<Size>,
    },
    /// Run the provider agent: heartbeats, takes and bids on jobs, runs them, submits
    /// results, withdraws lease earnings and records uptime. Ctrl-C stops taking jobs and
    /// waits for held jobs to finish; a second Ctrl-C stops at once.
    Serve(ServeArgs),
    /// Stop taking new jobs until `resume`.
    Pause,
    /// Take new jobs again after `pause`.
    Resume,
    /// Start the exit notice: no new jobs; retire once it ends and no GPU is in use.
    Exit,
    /// Close the node after its exit notice (rent back to the authority).
    Retire,
}

/// GPU class on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassArg {
    Consumer,
    Workstation,
    Datacenter,
}

impl From<ClassArg> for GpuClass {
    fn from(c: ClassArg) -> Self {
        match c {
            ClassArg::Consumer => GpuClass::Consumer,
            ClassArg::Workstation => GpuClass::Workstation,
            ClassArg::Datacenter => GpuClass::Datacenter,
        }
    }
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Read the GPUs from NVML (the NVIDIA driver); where it cannot, fall back to
    /// --gpu-model/--gpus/--vram when they are given.
    #[arg(long)]
    pub detect: bool,
    /// GPU model, e.g. "NVIDIA H100 80GB HBM3".
    #[arg(long, required_unless_present = "detect")]
    pub gpu_model: Option<String>,
    /// GPU class (default: from the model name).
    #[arg(long, value_enum)]
    pub gpu_class: Option<ClassArg>,
    /// Number of GPUs.
    #[arg(long, required_unless_present = "detect")]
    pub gpus: Option<u16>,
    /// VRAM per GPU, e.g. 80GiB.
    #[arg(long, required_unless_present = "detect")]
    pub vram: Option<Size>,
    /// CPU cores.
    #[arg(long)]
    pub cpu_cores: u16,
    /// System memory, e.g. 512GiB.
    #[arg(long)]
    pub ram: Size,
    /// Disk, e.g. 4TiB.
    #[arg(long, default_value = "1TiB")]
    pub disk: Size,
    /// Network bandwidth in Mbit/s.
    #[arg(long, default_value_t = 1_000)]
    pub bandwidth_mbps: u32,
    /// Country: ISO-3166 letters or number, e.g. DE or 276.
    #[arg(long)]
    pub region: Region,
    /// Asking price per GPU-hour in whole payment tokens, e.g. 2.10.
    #[arg(long, allow_negative_numbers = true)]
    pub price: Decimal,
    /// Payment mint (default: the market's first).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub payment_mint: Option<Pubkey>,
    /// Where clients reach the node.
    #[arg(long)]
    pub endpoint: String,
    /// Benchmark score (counts for ranking and rewards once an auditor attests it).
    #[arg(long, default_value_t = 0)]
    pub benchmark: u32,
    /// The node's hot key, which heartbeats and runs jobs (default: your keypair).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub operator: Option<Pubkey>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// New asking price per GPU-hour, e.g. 1.95.
    #[arg(long, allow_negative_numbers = true)]
    pub price: Option<Decimal>,
    /// New URL of the node's job API, e.g. https://node.example:8443.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// New country of the node (DE, DEU or 276).
    #[arg(long)]
    pub region: Option<Region>,
    /// New benchmark score (the registry caps it; an auditor may attest it).
    #[arg(long)]
    pub benchmark: Option<u32>,
    /// Read the GPUs (model, count, VRAM) from this machine through NVML; --gpu-model,
    /// --gpus and --vram count only where NVML cannot read them.
    #[arg(long)]
    pub detect: bool,
    /// New GPU model. Changing the hardware voids an attestation of the old spec.
    #[arg(long)]
    pub gpu_model: Option<String>,
    /// New GPU class (default: kept, or inferred from a new --gpu-model).
    #[arg(long, value_enum)]
    pub gpu_class: Option<ClassArg>,
    /// New number of GPUs (at least those in use; stake must cover them).
    #[arg(long)]
    pub gpus: Option<u16>,
    /// New VRAM per GPU, e.g. 80GiB.
    #[arg(long)]
    pub vram: Option<Size>,
    /// New CPU cores.
    #[arg(long)]
    pub cpu_cores: Option<u16>,
    /// New system memory, e.g. 512GiB.
    #[arg(long)]
    pub ram: Option<Size>,
    /// New disk, e.g. 4TiB.
    #[arg(long)]
    pub disk: Option<Size>,
    /// New network bandwidth, in Mbit/s.
    #[arg(long)]
    pub bandwidth_mbps: Option<u32>,
    /// New operator key (authority only).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub operator: Option<Pubkey>,
    /// The node's authority, when you sign as its operator.
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub authority: Option<Pubkey>,
}

impl UpdateArgs {
    /// The node's hardware with the changes asked for, or `None` when none is.
    fn hardware(&self, current: &Hardware) -> Result<Option<Hardware>, CliError> {
        let mut hw = current.clone();
        // What NVML reads wins; the GPUs given by hand count only where it cannot read.
        let detected = if self.detect {
            match detect_gpus() {
                Ok(node) => Some(node),
                Err(why)
                    if self.gpu_model.is_some() || self.gpus.is_some() || self.vram.is_some() =>
                {
                    eprintln!("warning: --detect: {why}; using the GPUs given by hand");
                    None
                }
                Err(why) => {
                    return Err(CliError::input(format!(
                        "--detect: {why}; give the GPUs by hand with --gpu-model, --gpus and --vram"
                    )))
                }
            }
        } else {
            None
        };
        match detected {
            Some(node) => {
                hw.gpu_class = gpu::classify(&node.gpu_model);
                hw.gpu_model = node.gpu_model;
                hw.gpu_count = node.gpu_count;
                hw.vram_mib = node.vram_mib;
            }
            None => {
                if let Some(model) = &self.gpu_model {
                    hw.gpu_class = gpu::classify(model);
                    hw.gpu_model = model.clone();
                }
                if let Some(gpus) = self.gpus {
                    hw.gpu_count = gpus;
                }
                if let Some(vram) = self.vram {
                    hw.vram_mib = vram.mib_u32().map_err(CliError::Input)?;
                }
            }
        }
        if let Some(class) = self.gpu_class {
            hw.gpu_class = class.into();
        }
        if let Some(cores) = self.cpu_cores {
            hw.cpu_cores = cores;
        }
        if let Some(ram) = self.ram {
            hw.ram_mib = ram.mib_u32().map_err(CliError::Input)?;
        }
        if let Some(disk) = self.disk {
            hw.disk_gib = disk.gib_u32().map_err(CliError::Input)?;
        }
        if let Some(bandwidth) = self.bandwidth_mbps {
            hw.bandwidth_mbps = bandwidth;
        }
        Ok((hw != *current).then_some(hw))
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The node's authority (default: the node your keypair is the authority or operator
    /// of).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub authority: Option<Pubkey>,
    /// Where job work directories and outputs live.
    #[arg(long, default_value_os_t = default_work_dir())]
    pub work_dir: PathBuf,
    /// Time between passes over the market, e.g. 5s.
    #[arg(long, default_value = "5s")]
    pub interval: Duration,
    /// Also run `process:` workloads (shell commands) and `manifest:process` ones (any
    /// command) directly on this machine, outside any container, with the agent's rights.
    /// Only for nodes that trust every client that could post a job.
    #[arg(long)]
    pub allow_local_process: bool,
    /// How often to withdraw a running lease's earnings, e.g. 1h (each withdrawal rides
    /// with the lease's next heartbeat, every 30 minutes in the default market).
    #[arg(long, default_value = "1h")]
    pub withdraw_every: Duration,
    /// Stop after this many passes.
    #[arg(long)]
    pub passes: Option<u64>,
    /// Where the node's job API listens (clients upload inputs, follow logs and download
    /// results there). Default: the host and port of the node's registered endpoint.
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Option<String>,
    /// TLS certificate chain (PEM) for the job API; with --tls-key it serves https. Without
    /// them it serves plain HTTP, which it does only on loopback (behind a TLS proxy).
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// How long a finished job's logs and results stay on the node, e.g. 7d.
    #[arg(long, default_value = "7d")]
    pub retention: Duration,
    /// How long a started manifest job waits for its client's uploads before the node ends
    /// it without running it (an empty result, the reason in its log), e.g. 15m.
    #[arg(long, default_value = "15m")]
    pub upload_timeout: Duration,
    /// Largest input a client may upload to one job, e.g. 16GiB.
    #[arg(long, default_value = "16GiB")]
    pub max_input: Size,
    /// Serve no job API; manifest jobs (which need one) are then not taken.
    #[arg(long, conflicts_with_all = ["api_listen", "tls_cert", "tls_key"])]
    pub no_api: bool,
}

/// Where the job API listens: `--api-listen`, or the registered endpoint's host and port.
fn api_address(args: &ServeArgs, endpoint: &str) -> Result<SocketAddr, CliError> {
    let given = match &args.api_listen {
        Some(addr) => addr.clone(),
        None => {
            let url = url::Url::parse(endpoint).map_err(|_| {
                CliError::input(format!(
                    "the node's endpoint {endpoint:?} is not a URL: register one like https://node.example:8443 (`provider update --endpoint`), give --api-listen, or serve with --no-api"
                ))
            })?;
            let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
            let port = url.port_or_known_default().unwrap_or(443);
            format!("{host}:{port}")
        }
    };
    given
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| {
            CliError::input(format!(
                "cannot listen on {given}: give --api-listen IP:PORT"
            ))
        })
}

/// Starts the node's job API over `book`, if the node serves one.
fn start_api(
    args: &ServeArgs,
    endpoint: &str,
    book: Arc<JobBook>,
) -> Result<(ApiServer, String), CliError> {
    let addr = api_address(args, endpoint)?;
    if args.tls_cert.is_none() && !addr.ip().is_loopback() {
        return Err(CliError::input(format!(
            "the job API serves plain HTTP only on loopback, and {addr} is not: give --tls-cert and --tls-key, or put a TLS proxy in front and listen on 127.0.0.1"
        )));
    }
    let listener = TcpListener::bind(addr)
        .map_err(|e| CliError::input(format!("cannot listen on {addr} for the job API: {e}")))?;
    let (server, scheme) = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = Tls::from_pem_files(cert, key)
                .map_err(|e| CliError::input(format!("cannot load the TLS certificate: {e}")))?;
            (ApiServer::start_tls(book, listener, tls)?, "https")
        }
        _ => (ApiServer::start(book, listener)?, "http"),
    };
    let shown = format!("{scheme}://{}", server.addr());
    Ok((server, shown))
}

fn default_work_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".local/share/gpu-market/jobs")
}

/// A node as shown.
#[derive(Debug, Serialize)]
pub struct ProviderView {
    pub address: String,
    pub authority: String,
    pub operator: String,
    pub status: String,
    pub endpoint: String,
    pub region: String,
    pub gpu_model: String,
    pub gpu_class: String,
    pub gpus: u16,
    pub gpus_in_use: u16,
    pub vram: String,
    pub price_per_gpu_hour: String,
    pub benchmark: u32,
    pub attested: bool,
    pub completion_rate: String,
    pub jobs_completed: u64,
    pub jobs_failed: u64,
    pub disputes_lost: u64,
    /// Known-answer (canary) jobs it returned a wrong result for.
    pub verifications_failed: u64,
    /// When the node last sent a registry heartbeat (never: `None`).
    pub last_heartbeat: Option<String>,
}

impl ProviderView {
    /// `auditors`: the registry's configured auditors (an attestation counts only while its
    /// auditor is one).
    fn new(address: Pubkey, p: &Provider, decimals: u8, auditors: &[Pubkey]) -> Self {
        Self {
            address: address.to_string(),
            authority: p.authority.to_string(),
            operator: p.operator.to_string(),
            status: status(p),
            endpoint: p.endpoint.clone(),
            region: format_region(p.region),
            gpu_model: p.hardware.gpu_model.clone(),
            gpu_class: format!("{:?}", p.hardware.gpu_class),
            gpus: p.hardware.gpu_count,
            gpus_in_use: p.gpus_in_use,
            vram: format_mib(u64::from(p.hardware.vram_mib)),
            price_per_gpu_hour: format_amount(p.price_per_gpu_hour, decimals),
            benchmark: p.benchmark_score,
            attested: p.is_attested(auditors),
            completion_rate: format!("{:.1}%", p.reputation.completion_rate_bps() as f64 / 100.0),
            jobs_completed: p.reputation.jobs_completed,
            jobs_failed: p.reputation.jobs_failed,
            disputes_lost: p.reputation.disputes_lost,
            verifications_failed: p.reputation.verifications_failed,
            last_heartbeat: (p.last_heartbeat > 0).then(|| date(p.last_heartbeat)),
        }
    }
}

fn status(p: &Provider) -> String {
    match p.status {
        ProviderStatus::Active => "active".into(),
        ProviderStatus::Paused => "paused".into(),
        ProviderStatus::Exiting => {
            format!("exiting (notice ends {})", p.exit_notice_ends_at)
        }
        ProviderStatus::Retired => "retired".into(),
    }
}

impl fmt::Display for ProviderView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "provider  {}", self.address)?;
        writeln!(f, "authority {}", self.authority)?;
        writeln!(f, "operator  {}", self.operator)?;
        writeln!(f, "status    {}", self.status)?;
        writeln!(
            f,
            "hardware  {} x {} ({}, {} VRAM each), {} in use",
            self.gpus, self.gpu_model, self.gpu_class, self.vram, self.gpus_in_use
        )?;
        writeln!(f, "region    {}   endpoint {}", self.region, self.endpoint)?;
        writeln!(
            f,
            "price     {} per GPU-hour   benchmark {}{}",
            self.price_per_gpu_hour,
            self.benchmark,
            if self.attested { " (attested)" } else { "" }
        )?;
        writeln!(
            f,
            "record    {} completed, {} failed, {} disputes lost, {} canaries failed ({} completion)",
            self.jobs_completed,
            self.jobs_failed,
            self.disputes_lost,
            self.verifications_failed,
            self.completion_rate
        )?;
        write!(
            f,
            "heartbeat {}",
            self.last_heartbeat.as_deref().unwrap_or("never")
        )
    }
}

/// A list of nodes.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ProviderList(pub Vec<ProviderView>);

impl fmt::Display for ProviderList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|p| {
                vec![
                    short(&p.address.parse().unwrap_or_default()),
                    p.status.clone(),
                    p.gpu_model.clone(),
                    format!("{}/{}", p.gpus - p.gpus_in_use.min(p.gpus), p.gpus),
                    p.vram.clone(),
                    p.region.clone(),
                    p.price_per_gpu_hour.clone(),
                    p.completion_rate.clone(),
                ]
            })
            .collect();
        write!(
            f,
            "{}\n{} providers",
            table(
                &[
                    "PROVIDER",
                    "STATUS",
                    "GPU",
                    "FREE",
                    "VRAM",
                    "REGION",
                    "PRICE/GPU-H",
                    "DONE"
                ],
                &rows
            ),
            self.0.len()
        )
    }
}

/// A provider transaction's result.
#[derive(Debug, Serialize)]
pub struct Receipt {
    pub done: String,
    pub provider: String,
    pub signature: String,
    /// What the change means beyond itself, when anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: provider {} (signature {})",
            self.done, self.provider, self.signature
        )?;
        if let Some(note) = &self.note {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

/// This machine's GPUs as NVML reads them, or why it cannot.
fn detect_gpus() -> Result<gpu::NodeSummary, String> {
    gpu::detect().map_err(|e| e.to_string()).and_then(|gpus| {
        gpu::summarise(&gpus).ok_or_else(|| "NVML found no GPU on this machine".to_owned())
    })
}

fn hardware(args: &RegisterArgs) -> Result<Hardware, CliError> {
    let given = || -> Result<(String, u16, u32), CliError> {
        let missing =
            |what: &str| CliError::input(format!("--{what} is required without --detect"));
        Ok((
            args.gpu_model.clone().ok_or_else(|| missing("gpu-model"))?,
            args.gpus.ok_or_else(|| missing("gpus"))?,
            args.vram
                .ok_or_else(|| missing("vram"))?
                .mib_u32()
                .map_err(CliError::Input)?,
        ))
    };
    let (model, count, vram_mib) = if args.detect {
        let detected = detect_gpus();
        let all_given = args.gpu_model.is_some() && args.gpus.is_some() && args.vram.is_some();
        match detected {
            Ok(node) => (node.gpu_model, node.gpu_count, node.vram_mib),
            Err(why) if all_given => {
                eprintln!(
                    "warning: --detect: {why}; registering the GPUs given by --gpu-model, --gpus and --vram"
                );
                given()?
            }
            Err(why) => {
                return Err(CliError::input(format!(
                    "--detect: {why}; give the GPUs by hand with --gpu-model, --gpus and --vram"
                )))
            }
        }
    } else {
        given()?
    };
    Ok(Hardware {
        gpu_class: args
            .gpu_class
            .map(GpuClass::from)
            .unwrap_or_else(|| gpu::classify(&model)),
        gpu_model: model,
        gpu_count: count,
        vram_mib,
        cpu_cores: args.cpu_cores,
        ram_mib: args.ram.mib_u32().map_err(CliError::Input)?,
        disk_gib: args.disk.gib_u32().map_err(CliError::Input)?,
        bandwidth_mbps: args.bandwidth_mbps,
    })
}

fn fetch_provider<C: Chain>(
    ctx: &mut Context<C>,
    authority: &Pubkey,
) -> Result<Provider, CliError> {
    ctx.chain
        .fetch(&pda::provider(authority))
        .map_err(CliError::if_missing(format!(
            "no provider is registered for authority {authority}: register with `gpu-market provider register`"
        )))
}

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: ProviderCommand) -> Result<(), CliError> {
    let receipt = |done: &str, authority: Pubkey| {
        let done = done.to_string();
        move |outcome: gpu_market_client::TxOutcome| Receipt {
            done,
            provider: pda::provider(&authority).to_string(),
            signature: outcome.signature.to_string(),
            note: None,
        }
    };
    match cmd {
        ProviderCommand::Register(args) => {
            let me = ctx.me()?;
            let hardware = hardware(&args)?;
            let mint = ctx.payment_mint(args.payment_mint)?;
            let (decimals, _) = ctx.mint(&mint)?;
            let ix = registry::register_provider(
                &me,
                RegisterProviderArgs {
                    operator: args.operator.unwrap_or(me),
                    endpoint: args.endpoint,
                    region: args.region.0,
                    hardware,
                    benchmark_score: args.benchmark,
                    price_per_gpu_hour: args
                        .price
                        .to_base_units(decimals)
                        .map_err(CliError::Input)?,
                    payment_mint: mint,
                },
            );
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(sent, receipt("registered", me))
        }
        ProviderCommand::Update(args) => {
            let me = ctx.me()?;
            let authority = args.authority.unwrap_or(me);
            let current = fetch_provider(ctx, &authority)?;
            let (decimals, _) = ctx.mint(&current.payment_mint)?;
            let mut ixs = Vec::new();
            let hardware = args.hardware(&current.hardware)?;
            // An attestation covers the spec it saw: hardware or a benchmark that changes
            // voids it.
            let registry: RegistryConfig = ctx.chain.fetch(&pda::registry_config())?;
            let spec_changes =
                hardware.is_some() || args.benchmark.is_some_and(|b| b != current.benchmark_score);
            let note = (spec_changes && current.is_attested(&registry.auditors)).then(|| {
                "the node's attestation covered its old spec and no longer counts: ask an auditor to attest the new one".to_string()
            });
            // Only what differs from the listing is sent.
            let listing = UpdateProviderArgs {
                endpoint: args.endpoint.filter(|e| *e != current.endpoint),
                region: args.region.map(|r| r.0).filter(|r| *r != current.region),
                hardware,
                benchmark_score: args.benchmark.filter(|b| *b != current.benchmark_score),
                price_per_gpu_hour: args
                    .price
                    .map(|p| p.to_base_units(decimals))
                    .transpose()
                    .map_err(CliError::Input)?
                    .filter(|p| *p != current.price_per_gpu_hour),
                payment_mint: None,
            };
            let changes_listing = listing.endpoint.is_some()
                || listing.region.is_some()
                || listing.hardware.is_some()
                || listing.benchmark_score.is_some()
                || listing.price_per_gpu_hour.is_some();
            if changes_listing {
                ixs.push(registry::update_provider(&me, &authority, listing));
            }
            if let Some(operator) = args.operator.filter(|o| *o != current.operator) {
                ixs.push(registry::set_operator(&authority, &operator));
            }
            if ixs.is_empty() {
                return Err(CliError::input(
                    "nothing to update: pass --price, --endpoint, --region, --benchmark, hardware (--gpus, --vram, ...) or --operator, with a value other than the node's",
                ));
            }
            let sent = ctx.send(&ixs, &[])?;
            ctx.report(sent, |outcome| Receipt {
                note,
                ..receipt("updated", authority)(outcome)
            })
        }
        ProviderCommand::Show { authority } => {
            let authority = match authority {
                Some(authority) => authority,
                None => ctx.me()?,
            };
            let provider = fetch_provider(ctx, &authority)?;
            let (decimals, _) = ctx.mint(&provider.payment_mint)?;
            let registry: RegistryConfig = ctx.chain.fetch(&pda::registry_config())?;
            let view = ProviderView::new(
                pda::provider(&authority),
                &provider,
                decimals,
                &registry.auditors,
            );
            ctx.print(&view)
        }
        ProviderCommand::List { class, min_vram } => {
            let mut providers = ctx
                .chain
                .fetch_all::<Provider>(&gpu_market_client::program_ids::provider_registry())?;
            providers.retain(|(_, p)| {
                class.is_none_or(|c| GpuClass::from(c) == p.hardware.gpu_class)
                    && min_vram.is_none_or(|v| u64::from(p.hardware.vram_mib) >= v.mib)
            });
            providers.sort_by_key(|(a, p)| (p.price_per_gpu_hour, *a));
            let registry: RegistryConfig = ctx.chain.fetch(&pda::registry_config())?;
            let mut views = Vec::new();
            let mut decimals = std::collections::HashMap::new();
            for (address, p) in &providers {
                let d = match decimals.get(&p.payment_mint) {
                    Some(d) => *d,
                    None => {
                        let d = ctx.mint(&p.payment_mint)?.0;
                        decimals.insert(p.payment_mint, d);
                        d
                    }
                };
                views.push(ProviderView::new(*address, p, d, &registry.auditors));
            }
            ctx.print(&ProviderList(views))
        }
        ProviderCommand::Serve(args) => serve(ctx, args),
        ProviderCommand::Pause => {
            let me = ctx.me()?;
            let sent = ctx.send(&[registry::pause_provider(&me, &me)], &[])?;
            ctx.report(sent, receipt("paused", me))
        }
        ProviderCommand::Resume => {
            let me = ctx.me()?;
            let sent = ctx.send(&[registry::resume_provider(&me, &me)], &[])?;
            ctx.report(sent, receipt("resumed", me))
        }
        ProviderCommand::Exit => {
            let me = ctx.me()?;
            let sent = ctx.send(&[registry::begin_exit(&me)], &[])?;
            ctx.report(sent, receipt("exit notice started", me))
        }
        ProviderCommand::Retire => {
            let me = ctx.me()?;
            let sent = ctx.send(&[registry::retire_provider(&me)], &[])?;
            ctx.report(sent, receipt("retired", me))
        }
    }
}

/// An agent event as `provider serve` prints it: its JSON and its line, amounts in whole
/// tokens of the node's payment mint (`decimals`).
fn event_line(event: &AgentEvent, decimals: u8) -> (serde_json::Value, String) {
    match event {
        AgentEvent::Bid {
            job,
            price_per_gpu_hour,
        } => {
            let price = format_amount(*price_per_gpu_hour, decimals);
            (
                serde_json::json!({"event": "bid", "job": job.to_string(), "price_per_gpu_hour": price}),
                format!("bid {price} per GPU-hour on job {job}"),
            )
        }
        AgentEvent::Withdrew { job, amount } => {
            let amount = format_amount(*amount, decimals);
            (
                serde_json::json!({"event": "withdrew", "job": job.to_string(), "amount": amount}),
                format!("withdrew {amount} from lease {job}"),
            )
        }
        other => (
            serde_json::to_value(other).unwrap_or_default(),
            other.to_string(),
        ),
    }
}

/// How often `provider serve` reports what its transactions cost.
const USAGE_EVERY: StdDuration = StdDuration::from_secs(3_600);

/// Lamports a transaction the operator alone signs pays: the base fee of one signature.
const FEE_PER_TRANSACTION: u64 = 5_000;

/// What the agent's transactions cost over `elapsed`, and at that rate a day.
fn usage_line(sent: gpu_market_agent::Sent, elapsed: StdDuration) -> (serde_json::Value, String) {
    let seconds = elapsed.as_secs_f64().max(1.0);
    let per_day = sent.landed as f64 * 86_400.0 / seconds;
    let sol = |lamports: f64| lamports / 1e9;
    let fees = sol(sent.landed as f64 * FEE_PER_TRANSACTION as f64);
    let fees_per_day = sol(per_day * FEE_PER_TRANSACTION as f64);
    let took = crate::units::format_duration(i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX));
    (
        serde_json::json!({
            "event": "usage",
            "transactions": sent.landed,
            "refused": sent.refused,
            "seconds": elapsed.as_secs(),
            "transactions_per_day": per_day.round(),
            "fees_sol": fees,
            "fees_sol_per_day": fees_per_day,
        }),
        format!(
            "sent {} transaction(s) in {took} ({per_day:.0} a day at this rate), fees about {fees:.6} SOL ({fees_per_day:.6} SOL a day); {} refused",
            sent.landed, sent.refused
        ),
    )
}

/// Ctrl-C presses since `serve` began.
static STOPS: AtomicUsize = AtomicUsize::new(0);

/// The authority of the node `me` serves: its own, or the one node whose operator it is.
fn node_operated_by<C: Chain>(ctx: &mut Context<C>, me: &Pubkey) -> Result<Pubkey, CliError> {
    // Its own node, when it operates it too, and every node it operates for another
    // authority: the one it serves must be unambiguous.
    let operated: Vec<(Pubkey, Provider)> = ctx.chain.fetch_where(
        &gpu_market_client::program_ids::provider_registry(),
        &[gpu_market_client::filters::provider::operated_by(me)],
    )?;
    if operated.is_empty() && ctx.chain.exists(&pda::provider(me))? {
        // Its own node, operated by another key: serve says whose keypair to use.
        return Ok(*me);
    }
    match operated.as_slice() {
        [(_, provider)] => Ok(provider.authority),
        [] => Err(CliError::input(format!(
            "no node has {me} as its authority or operator: register with `gpu-market provider register`, or pass --authority"
        ))),
        several => Err(CliError::input(format!(
            "{me} operates {} nodes (authorities {}): choose one with --authority",
            several.len(),
            several
                .iter()
                .map(|(_, p)| p.authority.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn serve<C: Chain>(ctx: &mut Context<C>, args: ServeArgs) -> Result<(), CliError> {
    if ctx.dry_run {
        return Err(CliError::no_dry_run(
            "provider serve",
            "sends heartbeats, bids and results as its node works",
        ));
    }
    let operator = ctx.signer()?.insecure_clone();
    let me = operator.pubkey();
    let authority = match args.authority {
        Some(authority) => authority,
        None => node_operated_by(ctx, &me)?,
    };
    let provider = fetch_provider(ctx, &authority)?;
    // Amounts the agent reports are in the node's payment mint.
    let decimals = ctx.mint(&provider.payment_mint)?.0;
    if provider.operator != me {
        return Err(CliError::input(format!(
            "your keypair {me} is not the operator of this node (its operator is {}): pass the operator's keypair with -k",
            provider.operator
        )));
    }
    std::fs::create_dir_all(&args.work_dir).map_err(|e| {
        CliError::input(format!(
            "cannot create the work directory {}: {e}",
            args.work_dir.display()
        ))
    })?;
    let bar = if ctx.progress {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let json = ctx.format == OutputFormat::Json;
    // Text lines, or with --output json one JSON object per line: {"time", "event",
    // "message"} and, for what the agent did, the event's own fields.
    let log =
        |bar: &ProgressBar, out: &mut Box<dyn Write>, event: serde_json::Value, line: String| {
            if json {
                let mut record = serde_json::Map::new();
                record.insert("time".into(), now_rfc3339().into());
                if let serde_json::Value::Object(fields) = event {
                    record.extend(fields);
                }
                record.insert("message".into(), line.into());
                let record = serde_json::Value::Object(record);
                let _ = writeln!(out, "{record}");
            } else if bar.is_hidden() {
                let _ = writeln!(out, "{line}");
            } else {
                bar.println(line);
            }
        };
    let say = |bar: &ProgressBar, out: &mut Box<dyn Write>, event: &str, line: String| {
        log(bar, out, serde_json::json!({ "event": event }), line);
    };
    match gpu::detect() {
        Ok(gpus) if !gpus.is_empty() => {
            for g in &gpus {
                say(
                    &bar,
                    &mut ctx.out,
                    "gpu",
                    format!(
                        "GPU {}: {} ({})",
                        g.index,
                        g.name,
                        format_mib(u64::from(g.vram_mib))
                    ),
                );
            }
            if let Some(node) = gpu::summarise(&gpus) {
                let hw = &provider.hardware;
                if node.gpu_count < hw.gpu_count || node.vram_mib < hw.vram_mib {
                    say(&bar, &mut ctx.out, "warning", format!(
                        "warning: the node is registered with {} x {} but NVML sees {} x {}: update the listing",
                        hw.gpu_count, format_mib(u64::from(hw.vram_mib)), node.gpu_count, format_mib(u64::from(node.vram_mib))
                    ));
                }
            }
        }
        Ok(_) => say(
            &bar,
            &mut ctx.out,
            "gpu",
            "NVML found no GPU; serving with the registered specs".into(),
        ),
        Err(err) => say(
            &bar,
            &mut ctx.out,
            "gpu",
            format!("{err}; serving with the registered specs"),
        ),
    }
    let executor =
        AutoExecutor::detect(args.allow_local_process).with_gpus(provider.hardware.gpu_count);
    say(
        &bar,
        &mut ctx.out,
        "serving",
        format!(
            "serving provider {} with executor {} (work dir {})",
            pda::provider(&authority),
            executor.name(),
            args.work_dir.display()
        ),
    );
    let api_operator = operator.insecure_clone();
    let mut agent = Agent::new(
        operator,
        authority,
        Box::new(executor),
        AgentConfig {
            work_dir: args.work_dir.clone(),
            withdraw_every: args.withdraw_every.seconds,
        },
    );
    // Kept alive for as long as the node serves.
    let mut _api = None;
    if !args.no_api {
        let limits = Limits {
            max_input_bytes: args.max_input.mib.saturating_mul(1 << 20),
        };
        let book = Arc::new(JobBook::open(&args.work_dir, api_operator, limits)?);
        match start_api(&args, &provider.endpoint, book.clone()) {
            Ok((server, url)) => {
                say(
                    &bar,
                    &mut ctx.out, "api",
                    format!(
                        "job API on {url}; clients reach it at the registered endpoint {}",
                        provider.endpoint
                    ),
                );
                if let Err(e) = gpu_market_client::node_api::check_node_url(&provider.endpoint)
                {
                    say(&bar, &mut ctx.out, "warning", format!(
                        "warning: clients cannot use the registered endpoint ({e}); update it with `gpu-market provider update --endpoint`"
                    ));
                }
                agent = agent.with_api(
                    book,
                    args.retention.seconds,
                    args.upload_timeout.seconds,
                );
                _api = Some(server);
            }
            // Asked for explicitly, a job API that cannot start is fatal; derived from a
            // placeholder endpoint, the node still serves what needs no API.
            Err(err) if args.api_listen.is_some() || args.tls_cert.is_some() => return Err(err),
            Err(err) => say(
                &bar,
                &mut ctx.out, "warning",
                format!(
                    "warning: no job API ({err}); manifest jobs will not be taken. Give --api-listen, or --no-api to silence this"
                ),
            ),
        }
    }
    if ctrlc::set_handler(|| {
        STOPS.fetch_add(1, Ordering::SeqCst);
    })
    .is_err()
    {
        say(
            &bar,
            &mut ctx.out,
            "warning",
            "warning: cannot catch Ctrl-C in this process".into(),
        );
    }
    // What the node's own transactions cost: every hour, and when it stops.
    let started = Instant::now();
    let mut reported = Instant::now();
    let usage = |bar: &ProgressBar, out: &mut Box<dyn Write>, agent: &Agent| {
        let (value, line) = usage_line(agent.sent(), started.elapsed());
        log(bar, out, value, line);
    };
    let mut pass = 0u64;
    loop {
        let stops = STOPS.load(Ordering::SeqCst);
        if stops >= 1 && !agent.is_draining() {
            agent.drain();
            say(
                &bar,
                &mut ctx.out,
                "stopping",
                "stopping: no new jobs; waiting for held jobs to finish (Ctrl-C again to stop now)"
                    .into(),
            );
        }
        if stops >= 2 {
            let snapshot = MarketSnapshot::for_provider(&mut ctx.chain, &authority)?;
            let held = agent.held_jobs(&snapshot);
            bar.finish_and_clear();
            for h in &held {
                log(
                    &bar,
                    &mut ctx.out,
                    serde_json::json!({
                        "event": "still_held",
                        "job": h.job.to_string(),
                        "status": h.status,
                        "deadline": date(h.deadline),
                    }),
                    format!(
                        "warning: job {} is still {} on chain; restart `gpu-market provider serve` before {} or this node is slashed (the job expires, or the replica stays unrevealed)",
                        h.job, h.status, date(h.deadline)
                    ),
                );
            }
            usage(&bar, &mut ctx.out, &agent);
            return Ok(());
        }
        match agent.tick(&mut ctx.chain) {
            Ok(tick) => {
                for event in &tick.events {
                    let (value, line) = event_line(event, decimals);
                    log(&bar, &mut ctx.out, value, line);
                }
                bar.set_message(format!("pass {pass}: {} job(s) held", tick.held.len()));
                if agent.is_draining() && tick.held.is_empty() {
                    bar.finish_and_clear();
                    say(
                        &bar,
                        &mut ctx.out,
                        "stopped",
                        "stopped cleanly: this node holds no job".into(),
                    );
                    usage(&bar, &mut ctx.out, &agent);
                    return Ok(());
                }
            }
            // A node keeps serving through a flaky RPC; a refused transaction is an event.
            Err(err) => say(
                &bar,
                &mut ctx.out,
                "error",
                format!("error: {err}; retrying next pass"),
            ),
        }
        pass += 1;
        if args.passes.is_some_and(|n| pass >= n) {
            bar.finish_and_clear();
            usage(&bar, &mut ctx.out, &agent);
            return Ok(());
        }
        if reported.elapsed() >= USAGE_EVERY {
            usage(&bar, &mut ctx.out, &agent);
            reported = Instant::now();
        }
        for _ in 0..args.interval.seconds.saturating_mul(10) {
            if STOPS.load(Ordering::SeqCst) > stops {
                break;
            }
            bar.tick();
            std::thread::sleep(StdDuration::from_millis(100));
        }
    }
}
