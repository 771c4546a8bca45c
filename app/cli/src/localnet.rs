//! `gpu-market localnet`: a local cluster serving the Solana JSON-RPC with the gpu-market
//! programs and an initialised market, its faucet and its clock.

use crate::{
    output::{self, OutputFormat, QuietStdout},
    units::{format_amount, Decimal, Duration},
    CliError,
};
use clap::{Args, Subcommand};
use gpu_market_client::{cli_config, token, Keypair, Pubkey, RpcChain};
use gpu_market_localnet::{Localnet, Options, Programs, DEFAULT_LEDGER, DEFAULT_RPC_PORT};
use serde::Serialize;
use solana_commitment_config::CommitmentConfig;
use std::{fmt, io::Write, path::PathBuf, sync::mpsc};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LocalnetArgs {
    #[command(subcommand)]
    pub command: Option<LocalnetCommand>,
    #[command(flatten)]
    pub start: StartArgs,
}

#[derive(Debug, Subcommand)]
pub enum LocalnetCommand {
    /// Hand a wallet SOL, stake tokens and payment tokens on a running localnet (its admin
    /// mints them). Token amounts are whole tokens, like everywhere else.
    Fund(FundArgs),
    /// Move the running localnet's clock forward, so that deadlines (start timeouts,
    /// heartbeat grace, challenge windows, unbonding) pass without waiting.
    TimeTravel(TimeTravelArgs),
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Where the cluster keeps its state (accounts, transactions, clock), its admin keypair
    /// and its market's addresses, across restarts.
    #[arg(long, default_value = DEFAULT_LEDGER)]
    pub ledger: PathBuf,
    /// Start from an empty ledger: a new market, new mints, new admin. Refused for a
    /// directory holding anything a localnet does not write.
    #[arg(long)]
    pub reset: bool,
    /// JSON-RPC port on 127.0.0.1; the PubSub websocket listens on the next one.
    #[arg(long, default_value_t = DEFAULT_RPC_PORT, value_parser = clap::value_parser!(u16).range(1..=65534))]
    pub rpc_port: u16,
    /// Run the programs as the binaries `<dir>/<program>.so` instead of natively: SBPF
    /// v0-v2, as `cargo build-sbf` makes them (the runtime's Agave 3.1 loader refuses the
    /// SBPF v3 binaries of `cargo xtask build-sbf`).
    #[arg(long, env = "SBF_OUT_DIR", value_name = "DIR")]
    pub sbf_dir: Option<PathBuf>,
    /// Time between blocks.
    #[arg(long, default_value = "400ms", value_parser = parse_slot_time)]
    pub slot_time: std::time::Duration,
    /// On a new ledger, make KEY the market's matcher (`gpu-market market serve` run with
    /// it assigns instant jobs), with a 30 s match window. A market found in the ledger
    /// keeps its own.
    #[arg(long, value_name = "KEY")]
    pub matcher: Option<gpu_market_client::Pubkey>,
}

#[derive(Debug, Args)]
pub struct FundArgs {
    /// The wallet to fund.
    pub wallet: Pubkey,
    /// The localnet's ledger, which holds its admin keypair and its market's mints.
    #[arg(long, default_value = DEFAULT_LEDGER)]
    pub ledger: PathBuf,
    /// SOL to send.
    #[arg(long, default_value = "10")]
    pub sol: Decimal,
    /// Stake tokens to mint to the wallet's associated account.
    #[arg(long, default_value = "10000")]
    pub stake: Decimal,
    /// Payment tokens to mint to the wallet's associated account.
    #[arg(long, default_value = "1000")]
    pub payment: Decimal,
}

#[derive(Debug, Args)]
pub struct TimeTravelArgs {
    /// How far forward, e.g. 90s, 2h, 1d.
    pub by: Duration,
}

fn parse_slot_time(s: &str) -> Result<std::time::Duration, String> {
    let millis = match s.strip_suffix("ms") {
        Some(millis) => millis
            .parse::<u64>()
            .map_err(|_| format!("'{s}' is not a duration (write e.g. 400ms or 1s)"))?,
        None => {
            let seconds = s.parse::<Duration>()?.seconds;
            u64::try_from(seconds)
                .ok()
                .and_then(|s| s.checked_mul(1_000))
                .ok_or_else(|| format!("'{s}' is out of range"))?
        }
    };
    if !(10..=10_000).contains(&millis) {
        return Err(format!("'{s}': a slot lasts from 10ms to 10s"));
    }
    Ok(std::time::Duration::from_millis(millis))
}

/// What a started localnet serves.
#[derive(Debug, Serialize)]
pub struct StartedView {
    pub url: String,
    pub ws_url: String,
    pub ledger: String,
    pub admin_keypair: String,
    pub admin: String,
    pub stake_mint: String,
    pub payment_mint: String,
    pub reward_mint: Option<String>,
    /// "native" or the directory of the SBF binaries.
    pub programs: String,
    pub new_market: bool,
    pub started_in_ms: u128,
}

impl fmt::Display for StartedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.new_market {
            "a new market"
        } else {
            "the market it holds, as it was"
        };
        writeln!(
            f,
            "gpu-market localnet is running ({:.1} s), with {state}",
            self.started_in_ms as f64 / 1_000.0
        )?;
        writeln!(f, "  JSON-RPC      {}", self.url)?;
        writeln!(f, "  WebSocket     {}", self.ws_url)?;
        writeln!(f, "  programs      {}", self.programs)?;
        writeln!(f, "  ledger        {}", self.ledger)?;
        writeln!(f, "  admin         {} ({})", self.admin, self.admin_keypair)?;
        writeln!(f, "  stake mint    {}", self.stake_mint)?;
        writeln!(f, "  payment mint  {} (6 decimals)", self.payment_mint)?;
        if let Some(mint) = &self.reward_mint {
            writeln!(f, "  reward mint   {mint}")?;
        }
        let url = &self.url;
        let ledger = &self.ledger;
        writeln!(f)?;
        writeln!(f, "Next, in another terminal:")?;
        writeln!(f, "  gpu-market keygen -o me.json")?;
        writeln!(
            f,
            "  gpu-market -u {url} localnet fund --ledger {ledger} <PUBKEY printed above>"
        )?;
        writeln!(f, "  gpu-market -u {url} -k me.json market stats")?;
        writeln!(f, "  gpu-market -u {url} -k me.json stake deposit 2000")?;
        writeln!(f, "  gpu-market -u {url} localnet time-travel 1h")?;
        writeln!(
            f,
            "Ctrl-C stops it; the ledger keeps its state for the next start."
        )?;
        write!(
            f,
            "Its RPC port also answers surfpool's unauthenticated admin and cheat-code \
             methods: run it on your own machine, not a shared one."
        )
    }
}

/// What `localnet fund` handed out.
#[derive(Debug, Serialize)]
pub struct FundedView {
    pub wallet: String,
    pub sol: String,
    pub stake: String,
    pub stake_account: String,
    pub payment: String,
    pub payment_account: String,
}

impl fmt::Display for FundedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "funded {}", self.wallet)?;
        writeln!(f, "  SOL       {}", self.sol)?;
        writeln!(f, "  stake     {} ({})", self.stake, self.stake_account)?;
        write!(f, "  payment   {} ({})", self.payment, self.payment_account)
    }
}

/// The localnet's clock after a time travel.
#[derive(Debug, Serialize)]
pub struct ClockView {
    /// The clock's time (UTC).
    pub now: String,
}

impl fmt::Display for ClockView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the localnet's clock is now {}", self.now)
    }
}

fn failed(err: gpu_market_localnet::LocalnetError) -> CliError {
    CliError::input(err.to_string())
}

/// Runs `gpu-market localnet`: `url` is the cluster the subcommands talk to (the global
/// `--url`, resolved).
pub fn run(
    args: LocalnetArgs,
    url: impl FnOnce() -> Result<String, CliError>,
    format: OutputFormat,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match args.command {
        None => start(&args.start, format),
        Some(LocalnetCommand::Fund(fund)) => {
            let url = url()?;
            // Read the decimals of the market's mints through the cluster.
            let market = gpu_market_localnet::read_market(&fund.ledger).map_err(failed)?;
            let mut chain = RpcChain::new(&url, Keypair::new(), CommitmentConfig::confirmed());
            let stake_decimals = token::read_mint(&mut chain, &market.stake_mint)?.decimals;
            let payment_decimals = token::read_mint(&mut chain, &market.payment_mint)?.decimals;
            let lamports = fund.sol.to_base_units(9).map_err(CliError::input)?;
            let stake = fund
                .stake
                .to_base_units(stake_decimals)
                .map_err(CliError::input)?;
            let payment = fund
                .payment
                .to_base_units(payment_decimals)
                .map_err(CliError::input)?;
            let funded = gpu_market_localnet::fund(
                &url,
                &fund.ledger,
                &fund.wallet,
                lamports,
                stake,
                payment,
            )
            .map_err(failed)?;
            output::print(
                format,
                out,
                &FundedView {
                    wallet: fund.wallet.to_string(),
                    sol: format_amount(lamports, 9),
                    stake: format_amount(stake, stake_decimals),
                    stake_account: funded.stake_account.to_string(),
                    payment: format_amount(payment, payment_decimals),
                    payment_account: funded.payment_account.to_string(),
                },
            )
        }
        Some(LocalnetCommand::TimeTravel(travel)) => {
            if travel.by.seconds <= 0 {
                return Err(CliError::input(
                    "time only travels forward: give a duration above zero, e.g. 1h",
                ));
            }
            let url = url()?;
            let mut chain = RpcChain::new(&url, Keypair::new(), CommitmentConfig::confirmed());
            let now = gpu_market_client::Chain::now(&mut chain)?;
            let target = now
                .checked_add(travel.by.seconds)
                .ok_or_else(|| CliError::input("that is too far"))?;
            let unix_timestamp = gpu_market_localnet::time_travel(&url, target).map_err(failed)?;
            let now = output::date(unix_timestamp);
            output::print(format, out, &ClockView { now })
        }
    }
}

/// Starts the cluster and serves until Ctrl-C. What it prints goes to the process's
/// stdout: the natively run programs print their `msg!` lines to stdout too, so stdout
/// points at /dev/null while the cluster runs.
fn start(args: &StartArgs, format: OutputFormat) -> Result<(), CliError> {
    let options = Options {
        ledger: args.ledger.clone(),
        reset: args.reset,
        rpc_port: args.rpc_port,
        sbf_dir: args
            .sbf_dir
            .clone()
            .filter(|dir| !dir.as_os_str().is_empty()),
        slot_time: args.slot_time,
        matcher: args.matcher,
    };
    // Ctrl-C (or SIGTERM) stops the cluster cleanly, also while it starts.
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .map_err(|err| CliError::input(format!("cannot catch Ctrl-C: {err}")))?;
    // Surfpool rebuilds its in-memory SVM every 9,000 slots unless told otherwise; the
    // localnet would then load the programs again, with a moment in between where they
    // are missing. Nothing else runs yet: the environment is this thread's alone.
    if std::env::var_os(GC_INTERVAL_VAR).is_none() {
        std::env::set_var(GC_INTERVAL_VAR, u64::MAX.to_string());
    }
    let quiet = QuietStdout::new()?;
    let mut out = quiet.original()?;
    let localnet = Localnet::start(&options).map_err(failed)?;
    let market = localnet.market();
    let view = StartedView {
        url: localnet.url().to_owned(),
        ws_url: localnet.ws_url().to_owned(),
        ledger: absolute(localnet.ledger()),
        admin_keypair: absolute(&localnet.admin_path()),
        admin: market.admin.to_string(),
        stake_mint: market.stake_mint.to_string(),
        payment_mint: market.payment_mint.to_string(),
        reward_mint: market.reward_mint.map(|mint| mint.to_string()),
        programs: match localnet.programs() {
            Programs::Native => "native (builtins)".to_owned(),
            Programs::Sbf(dir) => format!("SBF binaries in {}", dir.display()),
        },
        new_market: localnet.created_market(),
        started_in_ms: localnet.started_in().as_millis(),
    };
    // One line of JSON, so that a script can read it and leave the cluster running.
    match format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string(&view)
                .map_err(|e| CliError::input(format!("cannot encode output: {e}")))?
        )?,
        OutputFormat::Text => writeln!(out, "{view}")?,
    }
    out.flush()?;
    loop {
        match stopped.recv_timeout(std::time::Duration::from_millis(500)) {
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if !localnet.is_running() => {
                let why = localnet
                    .stop()
                    .err()
                    .map_or_else(String::new, |e| format!(": {e}"));
                return Err(CliError::input(format!("the cluster stopped{why}")));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    localnet.stop().map_err(failed)?;
    if format == OutputFormat::Text {
        writeln!(out, "stopped; {} keeps the state", args.ledger.display())?;
    }
    Ok(())
}

/// Surfpool's setting of how often it rebuilds its in-memory SVM, in slots.
const GC_INTERVAL_VAR: &str = "SURFPOOL_GARBAGE_COLLECTION_INTERVAL_SLOTS";

/// `path`, absolute where it can be made so, for the commands printed to copy.
fn absolute(path: &std::path::Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// `cli_config` resolves the URL the same way for every command.
pub fn resolve_url(arg: Option<&str>) -> Result<String, CliError> {
    cli_config::resolve_url(arg).map_err(|e| CliError::input(e.to_string()))
}
