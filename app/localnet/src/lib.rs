//! A local gpu-market cluster: surfpool's surfnet (LiteSVM on the Agave 3.1 crates, with
//! its JSON-RPC and PubSub servers and a sqlite ledger) on 127.0.0.1, with the four
//! gpu-market programs, SPL Token, Token-2022 and the associated token program loaded, and
//! a market initialised by the migrations.
//!
//! The programs run natively as builtins of the runtime (the same bridge the in-process
//! chain uses, with solana-program-test's syscall stubs for their CPIs), or as the `.so`
//! binaries of a directory that its Agave 3.1 loader accepts (SBPF v0-v2, as `cargo
//! build-sbf` makes them; not the SBPF v3 ones of `cargo xtask build-sbf`).

use gpu_market_client::{
    cli_config, pda, token, Chain, ClientError, Keypair, Pubkey, RpcChain, Signer,
};
use gpu_market_in_process::{install_syscall_stubs, native_programs};
use serde::{Deserialize, Serialize};
use solana_commitment_config::CommitmentConfig;
use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};
use surfpool_core::surfnet::{
    locker::SurfnetSvmLocker,
    svm::{SurfnetSvm, SurfnetSvmConfig},
};
use surfpool_types::{RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig};

/// The default JSON-RPC port (the PubSub websocket listens on the next one).
pub const DEFAULT_RPC_PORT: u16 = 8899;
/// The default ledger directory.
pub const DEFAULT_LEDGER: &str = "localnet-ledger";
/// Lamports the admin starts with: it pays for the market's accounts and the faucet's SOL.
const ADMIN_LAMPORTS: u64 = 100_000 * LAMPORTS_PER_SOL;
/// Lamports in one SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
/// Decimals of the payment mint, like the stablecoins a market settles in.
pub const PAYMENT_DECIMALS: u8 = 6;
/// The file in the ledger that marks it as a gpu-market localnet's and says what it holds.
const MARKET_FILE: &str = "market.json";
/// The admin keypair's file in the ledger.
const ADMIN_FILE: &str = "admin.json";
/// The surfnet's sqlite database in the ledger.
const DB_FILE: &str = "surfnet.sqlite";
/// The cluster's clock (unix milliseconds), kept in the ledger so that a restart resumes
/// from it: surfpool starts its clock from the wall clock, which would turn a clock moved
/// forward by time travel back.
const CLOCK_FILE: &str = "clock";
/// How often the clock is written to the ledger.
const CLOCK_SAVE_INTERVAL: Duration = Duration::from_secs(1);
/// How often the programs are checked to still be loaded (see [`watch`]).
const WATCH_INTERVAL: Duration = Duration::from_millis(20);
/// How long a stopped localnet may take to free its ports.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the runtime may take to serve its first block.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How to start a localnet.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the cluster keeps its state, the admin keypair and the market's addresses.
    pub ledger: PathBuf,
    /// Start from an empty ledger.
    pub reset: bool,
    /// JSON-RPC port; the PubSub websocket listens on the next one.
    pub rpc_port: u16,
    /// Load the programs as the `<name>.so` binaries of this directory instead of natively
    /// (SBPF v0-v2: the runtime's Agave 3.1 loader refuses SBPF v3).
    pub sbf_dir: Option<PathBuf>,
    /// Time between blocks.
    pub slot_time: Duration,
    /// The matcher a new market gets (none by default); a market in the ledger keeps its own.
    pub matcher: Option<Pubkey>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ledger: PathBuf::from(DEFAULT_LEDGER),
            reset: false,
            rpc_port: DEFAULT_RPC_PORT,
            sbf_dir: None,
            slot_time: Duration::from_millis(400),
            matcher: None,
        }
    }
}

/// What the localnet's market is made of (kept in the ledger as `market.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Market {
    /// Administers every config, mints the stake and payment tokens the faucet hands out.
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_mint: Pubkey,
    pub reward_mint: Option<Pubkey>,
}

/// The account layouts this build reads (`provider_registry::state::layout`,
/// `job_escrow::state::layout`, the reward emission's config and records). A ledger written
/// with other layouts holds accounts this build would misread, so it is refused; layout 1
/// (the first) wrote no number; layout 4 gave reward records two epoch slots, layout 5 an
/// assignment whether its missed start is slashed, layout 6 a job the withdrawal fees it
/// holds for the treasury, layout 7 a job its verification commitment, the market a
/// wrong-result slash and a provider its failed verifications, layout 8 a job its replica
/// group.
const ACCOUNT_LAYOUT: u32 = 8;

/// [`Market`] as `market.json` holds it.
#[derive(Serialize, Deserialize)]
struct MarketFile {
    #[serde(default = "first_layout")]
    account_layout: u32,
    admin: String,
    stake_mint: String,
    payment_mint: String,
    reward_mint: Option<String>,
}

/// The market of the localnet whose ledger is `ledger`.
pub fn read_market(ledger: &Path) -> Result<Market, LocalnetError> {
    let path = ledger.join(MARKET_FILE);
    let text = std::fs::read_to_string(&path).map_err(io(format!(
        "{} (is this the ledger of a `gpu-market localnet`? see --ledger)",
        path.display()
    )))?;
    let bad = |err: &dyn std::fmt::Display| LocalnetError::Io(format!("{}: {err}", path.display()));
    let file: MarketFile = serde_json::from_str(&text).map_err(|err| bad(&err))?;
    if file.account_layout != ACCOUNT_LAYOUT {
        return Err(LocalnetError::Runtime(format!(
            "{} holds accounts in layout {}, and this gpu-market reads layout {ACCOUNT_LAYOUT}: \
             start the localnet with --reset to begin a new ledger",
            ledger.display(),
            file.account_layout
        )));
    }
    let key = |text: &str| text.parse::<Pubkey>().map_err(|err| bad(&err));
    Ok(Market {
        admin: key(&file.admin)?,
        stake_mint: key(&file.stake_mint)?,
        payment_mint: key(&file.payment_mint)?,
        reward_mint: file.reward_mint.as_deref().map(key).transpose()?,
    })
}

fn first_layout() -> u32 {
    1
}

fn write_market(ledger: &Path, market: &Market) -> Result<(), LocalnetError> {
    let path = ledger.join(MARKET_FILE);
    let file = MarketFile {
        account_layout: ACCOUNT_LAYOUT,
        admin: market.admin.to_string(),
        stake_mint: market.stake_mint.to_string(),
        payment_mint: market.payment_mint.to_string(),
        reward_mint: market.reward_mint.map(|mint| mint.to_string()),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|err| LocalnetError::Io(format!("{}: {err}", path.display())))?;
    std::fs::write(&path, text).map_err(io(path.display()))
}

/// What can go wrong starting, running or using a localnet.
#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Runtime(String),
}

fn io(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> LocalnetError {
    move |err| LocalnetError::Io(format!("{context}: {err}"))
}

/// Where the programs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Programs {
    /// Natively built, as builtins.
    Native,
    /// The `.so` binaries of this directory.
    Sbf(PathBuf),
}

/// A running localnet. Dropping it stops the cluster (see [`Localnet::stop`]).
pub struct Localnet {
    url: String,
    ws_url: String,
    rpc_port: u16,
    ledger: PathBuf,
    market: Market,
    programs: Programs,
    /// Whether this start created the market (rather than finding it in the ledger).
    created: bool,
    started_in: Duration,
    commands: crossbeam_channel::Sender<SimnetCommand>,
    stopping: Arc<AtomicBool>,
    runtime: Option<JoinHandle<Result<(), String>>>,
    watcher: Option<JoinHandle<()>>,
    /// How many times the watcher loaded the programs again into a rebuilt SVM.
    reloads: Arc<AtomicU64>,
}

impl Localnet {
    /// Starts a cluster as `options` say and returns once it serves JSON-RPC with the
    /// market initialised: on a new ledger the migrations create the stake mint, a
    /// 6-decimal payment mint, the four configs and the reward mint; on an existing one
    /// the state is what it was.
    pub fn start(options: &Options) -> Result<Self, LocalnetError> {
        let started = Instant::now();
        if options.rpc_port == 0 || options.rpc_port == u16::MAX {
            return Err(LocalnetError::Runtime(format!(
                "--rpc-port {} leaves no port for the websocket next to it",
                options.rpc_port
            )));
        }
        prepare_ledger(&options.ledger, options.reset)?;
        // Read before anything runs, so a start that fails cannot lose it.
        let saved_clock = read_clock(&options.ledger.join(CLOCK_FILE));
        let programs = match &options.sbf_dir {
            Some(dir) => Programs::Sbf(dir.clone()),
            None => {
                install_syscall_stubs()?;
                Programs::Native
            }
        };
        let code = ProgramCode::load(&programs)?;

        let slot_time = u64::try_from(options.slot_time.as_millis())
            .map_err(|_| LocalnetError::Runtime("slot time out of range".into()))?
            .max(1);
        let svm_config = SurfnetSvmConfig {
            slot_time,
            feature_config: SurfnetSvmConfig::default()
                .feature_config
                .enable(agave_feature_set::enable_sbpf_v3_deployment_and_execution::id()),
            // Natively run programs leave their events in the logs: keep them whole.
            log_bytes_limit: None,
            ..SurfnetSvmConfig::default()
        };
        let db = database_path(&options.ledger)?;
        let (mut svm, events, geyser) = SurfnetSvm::new_with_db(Some(&db), svm_config)
            .map_err(|err| LocalnetError::Runtime(format!("surfnet: {err}")))?;
        let loaded_into = code.load_into(&mut svm)?;
        let locker = SurfnetSvmLocker::new(svm);

        let config = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                offline_mode: true,
                remote_rpc_url: None,
                slot_time,
                log_bytes_limit: None,
                ..SimnetConfig::default()
            }],
            rpc: RpcConfig {
                bind_host: "127.0.0.1".into(),
                bind_port: options.rpc_port,
                ws_port: options.rpc_port.saturating_add(1),
                ..RpcConfig::default()
            },
            ..SurfpoolConfig::default()
        };
        let url = format!("http://127.0.0.1:{}", config.rpc.bind_port);
        let ws_url = format!("ws://127.0.0.1:{}", config.rpc.ws_port);
        let (commands, commands_rx) = crossbeam_channel::unbounded();
        let runtime = {
            let locker = locker.clone();
            let commands = commands.clone();
            thread::Builder::new()
                .name("surfnet".into())
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .enable_all()
                        .build()
                        .map_err(|err| format!("tokio runtime: {err}"))?;
                    runtime
                        .block_on(surfpool_core::runloops::start_local_surfnet_runloop(
                            locker,
                            config,
                            commands,
                            commands_rx,
                            geyser,
                        ))
                        .map_err(|err| err.to_string())
                })
                .map_err(io("spawning the runtime"))?
        };
        // From here on, dropping `localnet` (any error below) stops the runtime.
        let mut localnet = Self {
            url,
            ws_url,
            rpc_port: options.rpc_port,
            ledger: options.ledger.clone(),
            market: Market {
                admin: Pubkey::default(),
                stake_mint: Pubkey::default(),
                payment_mint: Pubkey::default(),
                reward_mint: None,
            },
            programs,
            created: false,
            started_in: Duration::ZERO,
            commands,
            stopping: Arc::new(AtomicBool::new(false)),
            runtime: Some(runtime),
            watcher: None,
            reloads: Arc::new(AtomicU64::new(0)),
        };
        wait_ready(&events, &mut localnet.runtime)?;
        drain_events(events);

        // Surfpool starts its clock from the wall clock: resume from the saved one.
        if let Some(saved) = saved_clock {
            if locker.with_svm_reader(|svm| svm.updated_at) < saved {
                time_travel_millis(&localnet.url, saved)?;
            }
        }
        localnet.watcher = Some({
            let stopping = localnet.stopping.clone();
            let reloads = localnet.reloads.clone();
            let locker = locker.clone();
            let clock = options.ledger.join(CLOCK_FILE);
            let floor = saved_clock.unwrap_or(0);
            thread::Builder::new()
                .name("localnet-programs".into())
                .spawn(move || {
                    watch(
                        &locker,
                        &code,
                        loaded_into,
                        &clock,
                        floor,
                        &stopping,
                        &reloads,
                    )
                })
                .map_err(io("spawning the program watcher"))?
        });

        let admin = admin_keypair(&options.ledger)?;
        let admin_lamports = locker
            .with_svm_reader(|svm| svm.inner.get_account(&admin.pubkey()))
            .map_err(|err| LocalnetError::Runtime(format!("reading the admin: {err}")))?
            .map_or(0, |account| account.lamports);
        if admin_lamports < ADMIN_LAMPORTS / 2 {
            locker
                .airdrop(&admin.pubkey(), ADMIN_LAMPORTS)
                .map_err(|err| LocalnetError::Runtime(format!("airdrop to the admin: {err:?}")))
                .and_then(|landed| {
                    landed.map(|_| ()).map_err(|failed| {
                        LocalnetError::Runtime(format!("airdrop to the admin: {}", failed.err))
                    })
                })?;
        }
        let (market, created) =
            initialise_market(&localnet.url, &options.ledger, &admin, options.matcher)?;
        localnet.market = market;
        localnet.created = created;
        localnet.started_in = started.elapsed();
        Ok(localnet)
    }

    /// Whether the cluster still runs (a program panic or surfpool's `exit` method stops it).
    pub fn is_running(&self) -> bool {
        self.runtime
            .as_ref()
            .is_some_and(|runtime| !runtime.is_finished())
    }

    /// How many times the programs were loaded again into a rebuilt SVM.
    pub fn program_reloads(&self) -> u64 {
        self.reloads.load(Ordering::SeqCst)
    }

    /// The JSON-RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON-RPC port.
    pub fn rpc_port(&self) -> u16 {
        self.rpc_port
    }

    /// The PubSub websocket URL.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The ledger directory.
    pub fn ledger(&self) -> &Path {
        &self.ledger
    }

    /// The admin keypair's file.
    pub fn admin_path(&self) -> PathBuf {
        self.ledger.join(ADMIN_FILE)
    }

    /// The market's mints and admin.
    pub fn market(&self) -> &Market {
        &self.market
    }

    /// How the programs run.
    pub fn programs(&self) -> &Programs {
        &self.programs
    }

    /// Whether this start created the market (a new ledger) rather than finding it.
    pub fn created_market(&self) -> bool {
        self.created
    }

    /// From the call to a served, initialised market.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Stops the cluster: the runtime writes its state to the ledger and closes its
    /// servers.
    pub fn stop(mut self) -> Result<(), LocalnetError> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), LocalnetError> {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
        let Some(runtime) = self.runtime.take() else {
            return Ok(());
        };
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        let stopped = runtime
            .join()
            .map_err(|_| LocalnetError::Runtime("the runtime panicked".into()))?
            .map_err(LocalnetError::Runtime);
        // Surfpool closes its servers on a thread of their own: wait for the ports, so a
        // restart on them succeeds.
        let waiting = Instant::now();
        let ports = [self.rpc_port, self.rpc_port.saturating_add(1)];
        while ports
            .iter()
            .any(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_err())
            && waiting.elapsed() < STOP_TIMEOUT
        {
            thread::sleep(WATCH_INTERVAL);
        }
        stopped
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// The files a localnet writes in its ledger; `--reset` deletes only these.
fn written_by_a_localnet(name: &str) -> bool {
    [MARKET_FILE, ADMIN_FILE, CLOCK_FILE].contains(&name)
        || ["", "-wal", "-shm", "-journal"]
            .iter()
            .any(|suffix| name.strip_prefix(DB_FILE) == Some(suffix))
}

/// Creates the ledger directory, or with `reset` empties it first. A directory is only
/// emptied when every entry in it is a plain file a localnet writes, so a mistyped
/// `--ledger` cannot delete anything else; otherwise nothing is deleted.
fn prepare_ledger(ledger: &Path, reset: bool) -> Result<(), LocalnetError> {
    if reset && ledger.exists() {
        let entries: Vec<_> = std::fs::read_dir(ledger)
            .map_err(io(ledger.display()))?
            .collect::<Result<_, _>>()
            .map_err(io(ledger.display()))?;
        for entry in &entries {
            let ours = entry
                .file_name()
                .to_str()
                .is_some_and(written_by_a_localnet)
                && entry
                    .file_type()
                    .map_err(io(entry.path().display()))?
                    .is_file();
            if !ours {
                return Err(LocalnetError::Io(format!(
                    "{} holds {}, which a localnet does not write: refusing to reset it \
                     (choose another --ledger)",
                    ledger.display(),
                    entry.path().display()
                )));
            }
        }
        for entry in entries {
            std::fs::remove_file(entry.path()).map_err(io(entry.path().display()))?;
        }
    }
    std::fs::create_dir_all(ledger).map_err(io(ledger.display()))
}

/// The sqlite database's path, which surfpool passes on in a URI: characters that a URI
/// would read as its own are refused.
fn database_path(ledger: &Path) -> Result<String, LocalnetError> {
    let db = ledger.join(DB_FILE);
    let text = db
        .to_str()
        .ok_or_else(|| LocalnetError::Io(format!("{}: not UTF-8", db.display())))?;
    if text.contains(['?', '#', '%']) {
        return Err(LocalnetError::Io(format!(
            "{}: a ledger path may not contain '?', '#' or '%'",
            ledger.display()
        )));
    }
    Ok(text.to_owned())
}

/// The ledger's admin keypair, made on first use.
fn admin_keypair(ledger: &Path) -> Result<Keypair, LocalnetError> {
    let path = ledger.join(ADMIN_FILE);
    if !path.exists() {
        cli_config::write_keypair(&path, &Keypair::new())
            .map_err(|err| LocalnetError::Io(err.to_string()))?;
    }
    cli_config::read_keypair(&path).map_err(|err| LocalnetError::Io(err.to_string()))
}

/// The code of the four programs, ready to load into an SVM (again).
#[derive(Clone)]
enum ProgramCode {
    Native(Vec<(Pubkey, gpu_market_in_process::BuiltinFunctionWithContext)>),
    Sbf(Vec<(Pubkey, Arc<Vec<u8>>)>),
}

impl ProgramCode {
    fn load(programs: &Programs) -> Result<Self, LocalnetError> {
        Ok(match programs {
            Programs::Native => Self::Native(
                native_programs()?
                    .into_iter()
                    .map(|(_, id, entry)| (id, entry))
                    .collect(),
            ),
            Programs::Sbf(dir) => Self::Sbf(
                gpu_market_client::PROGRAMS
                    .iter()
                    .map(|(name, id)| {
                        let path = dir.join(format!("{name}.so"));
                        std::fs::read(&path)
                            .map(|bytes| (*id, Arc::new(bytes)))
                            .map_err(io(format!(
                                "{} (build the programs with `cargo xtask build-sbf`, or \
                                 leave out --sbf-dir to run them natively)",
                                path.display()
                            )))
                    })
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// Loads the programs into `svm`'s current in-memory SVM, and returns that SVM's
    /// identity (its airdrop key, which LiteSVM draws anew whenever surfpool rebuilds it).
    fn load_into(&self, svm: &mut SurfnetSvm) -> Result<Pubkey, LocalnetError> {
        svm.inner.set_log_bytes_limit(None);
        let lite = &mut svm.inner.svm;
        match self {
            Self::Native(programs) => {
                for (id, entry) in programs {
                    lite.add_builtin(*id, *entry);
                }
            }
            Self::Sbf(programs) => {
                for (id, bytes) in programs {
                    lite.add_program(*id, bytes).map_err(|err| {
                        LocalnetError::Runtime(format!(
                            "program {id} does not load: {err:?}. The localnet's runtime \
                             (Agave 3.1) runs the SBPF v0-v2 binaries `cargo build-sbf` \
                             makes; the SBPF v3 ones of `cargo xtask build-sbf` need Agave 4 \
                             (the program suite runs them in LiteSVM 0.16). Leave out \
                             --sbf-dir (and SBF_OUT_DIR) to run the programs natively."
                        ))
                    })?;
                }
            }
        }
        Ok(svm.inner.airdrop_pubkey())
    }
}

/// Keeps the programs loaded, and the clock saved in the ledger. Surfpool rebuilds its
/// in-memory SVM every 9,000 slots (and on `surfnet_resetNetwork`), reloading accounts
/// from its database but not the code of builtins; the rebuilt SVM has a new identity
/// (see [`ProgramCode::load_into`]), and the programs are loaded into it at once. The
/// clock is never saved below `floor`, the one the ledger held at start.
fn watch(
    locker: &SurfnetSvmLocker,
    code: &ProgramCode,
    mut loaded_into: Pubkey,
    clock: &Path,
    floor: u64,
    stopping: &AtomicBool,
    reloads: &AtomicU64,
) {
    let mut saved = Instant::now();
    loop {
        let stop = stopping.load(Ordering::SeqCst);
        let (current, now) =
            locker.with_svm_reader(|svm| (svm.inner.airdrop_pubkey(), svm.updated_at));
        if current != loaded_into {
            locker.with_svm_writer(|svm| {
                if svm.inner.airdrop_pubkey() != loaded_into {
                    match code.load_into(svm) {
                        Ok(identity) => {
                            loaded_into = identity;
                            reloads.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(err) => eprintln!("localnet: reloading the programs: {err}"),
                    }
                }
            });
        }
        if stop || saved.elapsed() >= CLOCK_SAVE_INTERVAL {
            if let Err(err) = std::fs::write(clock, now.max(floor).to_string()) {
                eprintln!("localnet: saving the clock to {}: {err}", clock.display());
            }
            saved = Instant::now();
        }
        if stop {
            return;
        }
        thread::sleep(WATCH_INTERVAL);
    }
}

/// The clock a ledger saved, if any.
fn read_clock(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Waits for the runtime's `Ready`, or its failure (with the runtime's own reason).
fn wait_ready(
    events: &crossbeam_channel::Receiver<SimnetEvent>,
    runtime: &mut Option<JoinHandle<Result<(), String>>>,
) -> Result<(), LocalnetError> {
    let waiting = Instant::now();
    loop {
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(SimnetEvent::Ready(_)) => return Ok(()),
            Ok(SimnetEvent::Aborted(why)) => return Err(LocalnetError::Runtime(why)),
            Ok(SimnetEvent::ErrorLog(_, message)) => eprintln!("localnet: {message}"),
            Ok(_) | Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {}
        }
        if runtime.as_ref().is_some_and(JoinHandle::is_finished) {
            let why = match runtime.take().map(JoinHandle::join) {
                Some(Ok(Err(why))) => why,
                Some(Err(_)) => "it panicked".to_owned(),
                _ => "it returned".to_owned(),
            };
            return Err(LocalnetError::Runtime(format!(
                "the cluster stopped while starting: {why}"
            )));
        }
        if waiting.elapsed() > START_TIMEOUT {
            return Err(LocalnetError::Runtime(format!(
                "the runtime was not ready within {START_TIMEOUT:?}"
            )));
        }
    }
}

/// Reads the runtime's events for as long as it runs, printing its errors.
fn drain_events(events: crossbeam_channel::Receiver<SimnetEvent>) {
    let _ = thread::Builder::new()
        .name("surfnet-events".into())
        .spawn(move || {
            while let Ok(event) = events.recv() {
                if let SimnetEvent::ErrorLog(_, message) = event {
                    eprintln!("localnet: {message}");
                }
            }
        });
}

/// The ledger's market, made by the migrations on first start: a 6-decimal payment mint,
/// then `gpu-market admin init`'s defaults with it as the market's payment mint.
fn initialise_market(
    url: &str,
    ledger: &Path,
    admin: &Keypair,
    matcher: Option<Pubkey>,
) -> Result<(Market, bool), LocalnetError> {
    let mut chain = RpcChain::new(url, admin.insecure_clone(), CommitmentConfig::confirmed());
    if chain.exists(&pda::market_config())? {
        if ledger.join(MARKET_FILE).exists() {
            return Ok((read_market(ledger)?, false));
        }
        // Made by a start that stopped before writing `market.json`: read it back.
        let staking: gpu_market_client::staking::StakingConfig =
            chain.fetch(&pda::staking_config())?;
        let escrow: gpu_market_client::escrow::MarketConfig = chain.fetch(&pda::market_config())?;
        let reward_mint = if chain.exists(&pda::emission_config())? {
            let emission: gpu_market_client::rewards::EmissionConfig =
                chain.fetch(&pda::emission_config())?;
            Some(emission.reward_mint)
        } else {
            None
        };
        let market = Market {
            admin: staking.admin,
            stake_mint: staking.stake_mint,
            payment_mint: escrow.allowed_mints.first().copied().ok_or_else(|| {
                LocalnetError::Runtime("the market accepts no payment mint".into())
            })?,
            reward_mint,
        };
        write_market(ledger, &market)?;
        return Ok((market, false));
    }
    let payment_mint = token::create_mint(
        &mut chain,
        &admin.pubkey(),
        PAYMENT_DECIMALS,
        &token::TOKEN_PROGRAM,
    )?;
    let payment_mint_text = payment_mint.to_string();
    let matcher_text = matcher.map(|m| m.to_string());
    let mut flags = vec!["localnet", "--payment-mint", &payment_mint_text];
    if let Some(matcher) = &matcher_text {
        flags.extend(["--matcher", matcher]);
    }
    let args = <DeployFlags as clap::Parser>::try_parse_from(flags)
        .map_err(|err| LocalnetError::Runtime(format!("market parameters: {err}")))?
        .deploy;
    let deployment = args.deploy(&mut chain, admin).map_err(|err| match err {
        gpu_market_migrations::DeployError::Chain(err) => LocalnetError::Client(err),
        gpu_market_migrations::DeployError::Input(why) => {
            LocalnetError::Runtime(format!("market parameters: {why}"))
        }
    })?;
    let market = Market {
        admin: admin.pubkey(),
        stake_mint: deployment.stake_mint,
        payment_mint,
        reward_mint: deployment.reward_mint,
    };
    write_market(ledger, &market)?;
    Ok((market, true))
}

/// A free port on 127.0.0.1 whose next one is free too (for the websocket), for tests and
/// scripts that run several localnets side by side.
pub fn free_port() -> Result<u16, LocalnetError> {
    for _ in 0..64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(io("finding a free port"))?
            .port();
        if let Some(next) = port.checked_add(1) {
            if std::net::TcpListener::bind(("127.0.0.1", next)).is_ok() {
                return Ok(port);
            }
        }
    }
    Err(LocalnetError::Runtime(
        "no free pair of ports on 127.0.0.1".into(),
    ))
}

/// `gpu-market admin init`'s flags, parsed for their defaults.
#[derive(clap::Parser)]
struct DeployFlags {
    #[command(flatten)]
    deploy: gpu_market_migrations::DeployArgs,
}

/// Moves the localnet's clock forward to `unix_timestamp` (surfpool's `surfnet_timeTravel`),
/// so deadlines pass without waiting. Returns the cluster's new unix time.
pub fn time_travel(url: &str, unix_timestamp: i64) -> Result<i64, LocalnetError> {
    let millis = u64::try_from(unix_timestamp)
        .ok()
        .and_then(|seconds| seconds.checked_mul(1_000))
        .ok_or_else(|| LocalnetError::Runtime(format!("bad time {unix_timestamp}")))?;
    time_travel_millis(url, millis)?;
    let mut chain = RpcChain::new(url, Keypair::new(), CommitmentConfig::confirmed());
    Ok(chain.clock()?.unix_timestamp)
}

fn time_travel_millis(url: &str, millis: u64) -> Result<(), LocalnetError> {
    let client = solana_rpc_client::rpc_client::RpcClient::new(url.to_owned());
    client
        .send::<serde_json::Value>(
            solana_rpc_client_api::request::RpcRequest::Custom {
                method: "surfnet_timeTravel",
            },
            serde_json::json!([{ "absoluteTimestamp": millis }]),
        )
        .map_err(|err| LocalnetError::Runtime(format!("time travel: {err}")))?;
    Ok(())
}

/// What [`fund`] handed out, in base units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Funded {
    pub lamports: u64,
    pub stake_account: Pubkey,
    pub stake: u64,
    pub payment_account: Pubkey,
    pub payment: u64,
}

/// Hands `wallet` SOL, stake tokens and payment tokens (base units) on the localnet at
/// `url` whose ledger is `ledger` (its admin pays and mints).
pub fn fund(
    url: &str,
    ledger: &Path,
    wallet: &Pubkey,
    lamports: u64,
    stake: u64,
    payment: u64,
) -> Result<Funded, LocalnetError> {
    let market = read_market(ledger)?;
    let admin = cli_config::read_keypair(&ledger.join(ADMIN_FILE))
        .map_err(|err| LocalnetError::Io(err.to_string()))?;
    let mut chain = RpcChain::new(url, admin.insecure_clone(), CommitmentConfig::confirmed());
    if lamports > 0 {
        chain.transfer_lamports(wallet, lamports)?;
    }
    let program = token::TOKEN_PROGRAM;
    let mut account_with = |mint: &Pubkey, amount: u64| -> Result<Pubkey, LocalnetError> {
        let account = token::create_token_account(&mut chain, wallet, mint, &program)?;
        if amount > 0 {
            token::mint_to(&mut chain, mint, &admin, &account, amount, &program)?;
        }
        Ok(account)
    };
    let stake_account = account_with(&market.stake_mint, stake)?;
    let payment_account = account_with(&market.payment_mint, payment)?;
    Ok(Funded {
        lamports,
        stake_account,
        stake,
        payment_account,
        payment,
    })
}

#[cfg(test)]
mod tests;
