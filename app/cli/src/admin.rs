//! `gpu-market admin`: cluster set-up.

use crate::{CliError, Context};
use clap::Subcommand;
use gpu_market_client::Chain;
use gpu_market_migrations::{DeployArgs, DeployError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Initialise every config, the stake and reward mints and the treasury on a fresh
    /// cluster, with your keypair as admin. Idempotent: what exists is left alone, so a
    /// second run changes nothing.
    Init(Box<DeployArgs>),
}

/// What `admin init` found or made.
#[derive(Debug, Serialize)]
pub struct InitReport {
    pub stake_mint: String,
    pub treasury: String,
    pub reward_mint: Option<String>,
    pub created: Vec<&'static str>,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created.is_empty() {
            writeln!(f, "already initialised: nothing to do")?;
        } else {
            writeln!(f, "created: {}", self.created.join(", "))?;
        }
        writeln!(f, "stake mint  {}", self.stake_mint)?;
        write!(f, "treasury    {}", self.treasury)?;
        if let Some(mint) = &self.reward_mint {
            write!(f, "\nreward mint {mint}")?;
        }
        Ok(())
    }
}

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: AdminCommand) -> Result<(), CliError> {
    match cmd {
        AdminCommand::Init(args) => {
            if ctx.dry_run {
                return Err(CliError::no_dry_run(
                    "admin init",
                    "sends several transactions, each depending on what the one before made,",
                ));
            }
            let admin = ctx.signer()?.insecure_clone();
            let deployment = args
                .deploy(&mut ctx.chain, &admin)
                .map_err(|err| match err {
                    DeployError::Chain(err) => CliError::Client(err),
                    DeployError::Input(why) => CliError::Input(why),
                })?;
            ctx.print(&InitReport {
                stake_mint: deployment.stake_mint.to_string(),
                treasury: deployment.treasury.to_string(),
                reward_mint: deployment.reward_mint.map(|m| m.to_string()),
                created: deployment.created,
            })
        }
    }
}
