//! `gpu-market-migrations`: brings a cluster to the deployed gpu-market state. Safe to run
//! again: every step first looks at the chain and skips what is already there.

use clap::{Parser, ValueEnum};
use gpu_market_client::{cli_config, program_ids, Chain, ClientError, RpcChain, Signer};
use gpu_market_migrations::{DeployArgs, DeployError};
use solana_commitment_config::CommitmentConfig;
use std::{path::PathBuf, process::ExitCode};

/// Initialises gpu-market on a cluster where its four programs are deployed: the stake
/// mint, the treasury token account, the staking, registry and market configs, the reward
/// mint and the emission config.
#[derive(Debug, Parser)]
#[command(name = "gpu-market-migrations", version)]
struct Cli {
    /// RPC URL or cluster: l/localhost, d/devnet, t/testnet, m/mainnet-beta [default: the
    /// Solana CLI config's json_rpc_url, else localhost]
    #[arg(short = 'u', long = "url")]
    url: Option<String>,
    /// Admin keypair: pays for and administers every config [default: the Solana CLI
    /// config's keypair_path, else ~/.config/solana/id.json]
    #[arg(short = 'k', long = "keypair")]
    keypair: Option<PathBuf>,
    /// Commitment each step is confirmed at before the next
    #[arg(long, value_enum, default_value_t = Commitment::Confirmed)]
    commitment: Commitment,
    #[command(flatten)]
    deploy: DeployArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

impl From<Commitment> for CommitmentConfig {
    fn from(commitment: Commitment) -> Self {
        match commitment {
            Commitment::Processed => Self::processed(),
            Commitment::Confirmed => Self::confirmed(),
            Commitment::Finalized => Self::finalized(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Config(#[from] cli_config::ConfigError),
    #[error("program {name} ({id}) is not deployed on {url}: deploy the programs first")]
    NotDeployed {
        name: &'static str,
        id: gpu_market_client::Pubkey,
        url: String,
    },
    #[error("{0}\n(running again is safe: steps already done are skipped)")]
    Chain(#[from] ClientError),
    #[error("{0}")]
    Input(String),
}

impl From<DeployError> for Error {
    fn from(err: DeployError) -> Self {
        match err {
            DeployError::Chain(err) => Self::Chain(err),
            DeployError::Input(why) => Self::Input(why),
        }
    }
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), Error> {
    program_ids::set(program_ids::from_env().map_err(Error::Input)?).map_err(Error::Input)?;
    let url = cli_config::resolve_url(cli.url.as_deref())?;
    let admin =
        cli_config::read_keypair(&cli_config::resolve_keypair_path(cli.keypair.as_deref()))?;
    println!("cluster {url}, admin {}", admin.pubkey());
    let mut chain = RpcChain::new(url.clone(), admin.insecure_clone(), cli.commitment.into());

    // Without the programs every step would fail with a bare "program does not exist".
    for (name, id) in program_ids::get().all() {
        if !chain
            .account(&id)?
            .is_some_and(|program| program.executable)
        {
            return Err(Error::NotDeployed {
                name,
                id,
                url: url.clone(),
            });
        }
    }

    let deployment = cli.deploy.deploy(&mut chain, &admin)?;
    if deployment.created.is_empty() {
        println!("already initialised: nothing to do");
    }
    for step in &deployment.created {
        println!("created {step}");
    }
    println!("stake mint   {}", deployment.stake_mint);
    println!("treasury     {}", deployment.treasury);
    if let Some(reward_mint) = deployment.reward_mint {
        println!("reward mint  {reward_mint}");
    }
    Ok(())
}
