//! The `gpu-market` command line: providers register, stake and serve GPU nodes; startups
//! submit escrowed jobs and settle them; operators initialise a cluster and run the
//! matcher. Every command is a function of a [`Context`] over any [`Chain`], so the same
//! code runs against a cluster (RPC) and, in tests and the demo, an in-process chain.

pub mod admin;
pub mod balance;
pub mod channel;
pub mod demo;
pub mod job;
pub mod keygen;
pub mod localnet;
pub mod market;
pub mod output;
pub mod provider;
pub mod rewards;
pub mod serve;
pub mod stake;
pub mod units;
pub mod verify;

use anchor_lang::solana_program::{instruction::Instruction, pubkey::Pubkey};
use clap::{Parser, Subcommand, ValueEnum};
use gpu_market_client::{
    escrow::MarketConfig, pda, token, Chain, ClientError, Keypair, Signer, TxOutcome,
};
use output::{DryRun, OutputFormat};
use serde::Serialize;
use std::{io::Write, path::PathBuf};

/// gpu-market: an on-chain GPU compute marketplace on Solana.
///
/// Providers stake collateral, register their GPU nodes and serve jobs; startups lock the
/// payment of a job in escrow and pay per second of GPU time delivered. Amounts and prices
/// are in whole tokens (`2.10`), sizes take units (`24GiB`), durations too (`2h`).
#[derive(Debug, Parser)]
#[command(
    name = "gpu-market",
    version,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Cluster: a URL, or l (localhost), d (devnet), m (mainnet-beta), t (testnet).
    /// Defaults to the Solana CLI config's json_rpc_url.
    #[arg(
        short = 'u',
        long = "url",
        global = true,
        env = "GPU_MARKET_URL",
        help_heading = GLOBAL
    )]
    pub url: Option<String>,
    /// Keypair file that signs and pays. Defaults to the Solana CLI config's keypair_path
    /// (usually ~/.config/solana/id.json).
    #[arg(
        short = 'k',
        long = "keypair",
        global = true,
        env = "GPU_MARKET_KEYPAIR",
        help_heading = GLOBAL
    )]
    pub keypair: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, help_heading = GLOBAL)]
    pub output: OutputFormat,
    /// Print the transaction a command would send (base64 and decoded) instead of sending.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub dry_run: bool,
    /// Commitment to confirm transactions at.
    #[arg(long, global = true, value_enum, default_value_t = Commitment::Confirmed, help_heading = GLOBAL)]
    pub commitment: Commitment,
    #[command(subcommand)]
    pub command: Command,
}

/// How final a transaction must be before a command reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register, update, inspect and serve a GPU node.
    #[command(subcommand)]
    Provider(provider::ProviderCommand),
    /// Deposit, unstake and withdraw the collateral that backs a node.
    #[command(subcommand)]
    Stake(stake::StakeCommand),
    /// Submit escrowed jobs and follow, settle or cancel them.
    #[command(subcommand)]
    Job(job::JobCommand),
    /// Run the matcher and the market's upkeep; market statistics.
    #[command(subcommand)]
    Market(market::MarketCommand),
    /// Uptime rewards: show and claim.
    #[command(subcommand)]
    Rewards(rewards::RewardsCommand),
    /// Cluster set-up.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Check providers' work: known-answer (canary) jobs settled on chain.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
    /// A wallet's SOL, its tokens of the market's stake, payment and reward mints, and its
    /// stake.
    Balance(balance::BalanceArgs),
    /// Run a whole market on an in-process chain: providers, startups, the matcher, real
    /// local workloads, a failing provider, a rewards epoch and a settlement report.
    Demo(demo::DemoArgs),
    /// Make a new keypair file (the Solana CLI's format, readable by its owner only): the
    /// wallet that signs and pays. Never overwrites a file.
    Keygen(keygen::KeygenArgs),
    /// Run a local cluster on 127.0.0.1 serving the Solana JSON-RPC (and PubSub on the
    /// next port) with the gpu-market programs and a market ready to use; fund wallets on
    /// it and move its clock. Needs nothing but this binary.
    Localnet(localnet::LocalnetArgs),
}

impl Command {
    /// Whether the command only reads the cluster: it then runs without a keypair file
    /// (unless it needs one to know whose node or jobs to show).
    pub fn reads_only(&self) -> bool {
        match self {
            Command::Job(cmd) => matches!(
                cmd,
                job::JobCommand::Show { .. }
                    | job::JobCommand::List { .. }
                    | job::JobCommand::Watch { .. }
            ),
            Command::Provider(cmd) => matches!(
                cmd,
                provider::ProviderCommand::Show { .. } | provider::ProviderCommand::List { .. }
            ),
            Command::Market(cmd) => matches!(
                cmd,
                market::MarketCommand::Stats | market::MarketCommand::Match { no_upkeep: true }
            ),
            Command::Rewards(cmd) => matches!(cmd, rewards::RewardsCommand::Show { .. }),
            Command::Balance(_) => true,
            Command::Stake(_)
            | Command::Admin(_)
            | Command::Verify(_)
            | Command::Demo(_)
            | Command::Keygen(_)
            | Command::Localnet(_) => false,
        }
    }
}

/// The heading the options every command takes are listed under.
const GLOBAL: &str = "Global options";

/// The exit statuses, as `--help` lists them.
pub const EXIT_CODES: &str =
    "Exit status: 0 done; 1 local I/O failed; 2 usage (unknown command or \
flag, a value that does not parse); 3 bad input (the command's arguments, files or accounts do \
not make sense); 4 network (the cluster or a node could not be reached, or whether a \
transaction landed is unknown); 5 refused on chain (a program rejected the transaction); 130 \
stopped by Ctrl-C. \
With --output json, a failure prints {\"error\": {\"kind\", \"message\", \"exit_code\", \
\"program_error\"}} on stdout.";

/// What a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The command's input does not make sense.
    #[error("{0}")]
    Input(String),
    /// Local I/O (writing output, work directories).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A node's job API could not be reached.
    #[error("{0}")]
    Network(String),
    /// Options that cannot go together (what clap cannot see).
    #[error("{0}")]
    Usage(String),
    /// Ctrl-C stopped the command.
    #[error("interrupted: {0}")]
    Interrupted(String),
}

/// What kind of failure an error is: its exit status and its `kind` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Io,
    Usage,
    Input,
    Network,
    Refused,
    Interrupted,
}

impl ErrorKind {
    /// The process exit status (see [`EXIT_CODES`]).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Io => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Input => 3,
            ErrorKind::Network => 4,
            ErrorKind::Refused => 5,
            ErrorKind::Interrupted => 130,
        }
    }
}

/// A failure as `--output json` prints it.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub kind: ErrorKind,
    pub message: String,
    pub exit_code: u8,
    /// The program error that rejected the transaction, when there is one.
    pub program_error: Option<ProgramErrorReport>,
}

/// A program error: which program, its code, name and message.
#[derive(Debug, Serialize)]
pub struct ProgramErrorReport {
    pub program: &'static str,
    pub code: u32,
    pub name: String,
    pub message: String,
}

impl ErrorReport {
    /// A usage error (what clap refused).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            message: message.into(),
            exit_code: ErrorKind::Usage.exit_code(),
            program_error: None,
        }
    }
}

impl CliError {
    /// The error of a command given `--dry-run` that cannot honour it: `why` says what it
    /// sends instead.
    pub fn no_dry_run(command: &str, why: &str) -> Self {
        Self::Usage(format!("{command} {why} and cannot honour --dry-run"))
    }

    /// An input error.
    pub fn input(message: impl Into<String>) -> Self {
        Self::Input(message.into())
    }

    /// For a read's `map_err`: a missing account becomes the input error `message`; any
    /// other failure (the cluster not reached, an account of another type) stays what it
    /// is, so a network failure is never reported as something that does not exist.
    pub fn if_missing(message: impl Into<String>) -> impl FnOnce(ClientError) -> CliError {
        let message = message.into();
        move |err| match err {
            ClientError::AccountNotFound(_) => CliError::Input(message),
            other => CliError::Client(other),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CliError::Input(_) => ErrorKind::Input,
            CliError::Io(_) => ErrorKind::Io,
            CliError::Network(_) => ErrorKind::Network,
            CliError::Usage(_) => ErrorKind::Usage,
            CliError::Interrupted(_) => ErrorKind::Interrupted,
            CliError::Client(err) => match err {
                ClientError::Transaction { .. } | ClientError::Refused(_) => ErrorKind::Refused,
                ClientError::Backend(_) | ClientError::OutcomeUnknown(_) => ErrorKind::Network,
                ClientError::Signing(_)
                | ClientError::AccountNotFound(_)
                | ClientError::Decode { .. } => ErrorKind::Input,
            },
        }
    }

    /// The error as `--output json` prints it.
    pub fn report(&self) -> ErrorReport {
        let kind = self.kind();
        let program_error = match self {
            CliError::Client(err) => err.program_error().map(|info| ProgramErrorReport {
                program: info.program,
                code: info.code,
                name: info.name,
                message: info.message,
            }),
            _ => None,
        };
        ErrorReport {
            kind,
            message: self.to_string(),
            exit_code: kind.exit_code(),
            program_error,
        }
    }
}

/// Everything a command runs with.
pub struct Context<C: Chain> {
    pub chain: C,
    /// Signs and pays; or, for a command that only reads, why there is no keypair (the
    /// message a command that needs one after all reports).
    pub keypair: Result<Keypair, String>,
    pub format: OutputFormat,
    pub dry_run: bool,
    /// Where results go (stdout in the binary).
    pub out: Box<dyn Write>,
    /// Whether to draw progress bars (stderr is a terminal and the output is text).
    pub progress: bool,
}

impl<C: Chain> Context<C> {
    /// The keypair that signs and pays.
    pub fn signer(&self) -> Result<&Keypair, CliError> {
        self.keypair
            .as_ref()
            .map_err(|why| CliError::input(why.clone()))
    }

    /// The signer's public key.
    pub fn me(&self) -> Result<Pubkey, CliError> {
        Ok(self.signer()?.pubkey())
    }

    /// Sends `ixs` signed by the context's keypair and `extra`, or in dry-run mode prints
    /// the transaction and returns `None`.
    pub fn send(
        &mut self,
        ixs: &[Instruction],
        extra: &[&Keypair],
    ) -> Result<Option<TxOutcome>, CliError> {
        if self.dry_run {
            let dry = DryRun::new(ixs, &self.me()?);
            self.print(&dry)?;
            return Ok(None);
        }
        let keypair = self
            .keypair
            .as_ref()
            .map_err(|why| CliError::input(why.clone()))?;
        let mut signers: Vec<&Keypair> = vec![keypair];
        signers.extend_from_slice(extra);
        Ok(Some(self.chain.send(ixs, &signers)?))
    }

    /// Prints `value` in the chosen format.
    pub fn print<T: serde::Serialize + std::fmt::Display>(
        &mut self,
        value: &T,
    ) -> Result<(), CliError> {
        output::print(self.format, &mut self.out, value)
    }

    /// Prints the result of a sent transaction (nothing in dry-run mode, which printed the
    /// transaction already).
    pub fn report<T: serde::Serialize + std::fmt::Display>(
        &mut self,
        sent: Option<TxOutcome>,
        value: impl FnOnce(TxOutcome) -> T,
    ) -> Result<(), CliError> {
        match sent {
            Some(outcome) => {
                let value = value(outcome);
                self.print(&value)
            }
            None => Ok(()),
        }
    }

    /// The job escrow's market config, with a hint when the cluster has none.
    pub fn market_config(&mut self) -> Result<MarketConfig, CliError> {
        self.chain
            .fetch(&pda::market_config())
            .map_err(CliError::if_missing(
                "this cluster has no gpu-market (no market config): check --url, or run `gpu-market admin init`",
            ))
    }

    /// Decimals and token program of `mint`.
    pub fn mint(&mut self, mint: &Pubkey) -> Result<(u8, Pubkey), CliError> {
        let account = self.chain.account(mint)?.ok_or_else(|| {
            CliError::input(format!("mint {mint} does not exist on this cluster"))
        })?;
        let decimals = token::read_mint(&mut self.chain, mint)?.decimals;
        Ok((decimals, account.owner))
    }

    /// The payment mint to use: `choice`, else the market's first allowed mint.
    pub fn payment_mint(&mut self, choice: Option<Pubkey>) -> Result<Pubkey, CliError> {
        let config = self.market_config()?;
        match choice {
            Some(mint) if config.allowed_mints.contains(&mint) => Ok(mint),
            Some(mint) => Err(CliError::input(format!(
                "mint {mint} is not accepted by this market; accepted: {}",
                config
                    .allowed_mints
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            None => config.allowed_mints.first().copied().ok_or_else(|| {
                CliError::input("the market accepts no payment mint yet (admin update needed)")
            }),
        }
    }
}

/// Runs `command` in `ctx`.
pub fn run<C: Chain>(ctx: &mut Context<C>, command: Command) -> Result<(), CliError> {
    match command {
        Command::Provider(cmd) => provider::run(ctx, cmd),
        Command::Stake(cmd) => stake::run(ctx, cmd),
        Command::Job(cmd) => job::run(ctx, cmd),
        Command::Market(cmd) => market::run(ctx, cmd),
        Command::Rewards(cmd) => rewards::run(ctx, cmd),
        Command::Admin(cmd) => admin::run(ctx, cmd),
        Command::Verify(cmd) => verify::run(ctx, cmd),
        Command::Balance(args) => balance::run(ctx, &args),
        Command::Demo(args) => demo::run(args, ctx.format, &mut ctx.out),
        Command::Keygen(args) => keygen::run(&args, ctx.format, &mut ctx.out),
        // It starts or addresses a cluster of its own, not the context's chain.
        Command::Localnet(_) => Err(CliError::input(
            "`localnet` runs from the gpu-market binary, not over an existing chain",
        )),
    }
}

/// Parses a base58 public key argument.
pub fn parse_pubkey(s: &str) -> Result<Pubkey, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a public key (base58, 32-44 characters)"))
}
