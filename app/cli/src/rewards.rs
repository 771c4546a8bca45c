//! `gpu-market rewards`: uptime rewards of a node.

use crate::{
    units::{format_amount, format_duration},
    CliError, Context,
};
use clap::Subcommand;
use gpu_market_client::{
    pda,
    rewards::{self, EmissionConfig, ProviderRewards},
    token, Chain, Pubkey,
};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Subcommand)]
pub enum RewardsCommand {
    /// Show the emission schedule and a node's rewards.
    Show {
        /// The node's authority (default: your keypair).
        #[arg(long, value_parser = crate::parse_pubkey)]
        authority: Option<Pubkey>,
    },
    /// Mint a node's unclaimed rewards to its authority's associated token account. Sign
    /// as the authority or the operator.
    Claim {
        /// The node's authority (default: your keypair).
        #[arg(long, value_parser = crate::parse_pubkey)]
        authority: Option<Pubkey>,
    },
}

/// Rewards as shown.
#[derive(Debug, Serialize)]
pub struct RewardsView {
    pub reward_mint: String,
    pub current_epoch: Option<u64>,
    pub epoch_length: String,
    pub total_minted: String,
    pub provider: String,
    pub unclaimed: String,
    pub total_claimed: String,
    pub recording_epoch: Option<u64>,
}

impl fmt::Display for RewardsView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "reward mint {} (epochs of {}, now {}; {} minted)",
            self.reward_mint,
            self.epoch_length,
            self.current_epoch
                .map_or("before genesis".into(), |e| e.to_string()),
            self.total_minted
        )?;
        write!(
            f,
            "provider {}: {} unclaimed (settled epochs), {} claimed{}",
            self.provider,
            self.unclaimed,
            self.total_claimed,
            self.recording_epoch.map_or(String::new(), |e| format!(
                "; recording uptime in epoch {e}"
            ))
        )
    }
}

/// A claim's result.
#[derive(Debug, Serialize)]
pub struct ClaimReceipt {
    pub claimed: String,
    pub destination: String,
    pub signature: String,
}

impl fmt::Display for ClaimReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "claimed {} to {} (signature {})",
            self.claimed, self.destination, self.signature
        )
    }
}

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: RewardsCommand) -> Result<(), CliError> {
    let config: EmissionConfig =
        ctx.chain
            .fetch(&pda::emission_config())
            .map_err(CliError::if_missing(
                "this cluster has no reward emission set up",
            ))?;
    let (decimals, program) = ctx.mint(&config.reward_mint)?;
    let now = ctx.chain.now()?;
    let epoch = config.epoch_at(now).ok();
    let authority = match &cmd {
        RewardsCommand::Show { authority } | RewardsCommand::Claim { authority } => match authority
        {
            Some(authority) => *authority,
            None => ctx.me()?,
        },
    };
    let provider = pda::provider(&authority);
    let record: Option<ProviderRewards> = {
        let address = pda::provider_rewards(&provider);
        if ctx.chain.exists(&address)? {
            Some(ctx.chain.fetch(&address)?)
        } else {
            None
        }
    };
    // A finished epoch's share is added to `unclaimed` when it is settled, which claim
    // does on the way.
    let previous = record
        .as_ref()
        .map(|r| r.current_epoch)
        .filter(|&e| epoch.is_some_and(|now| e < now));
    match cmd {
        RewardsCommand::Show { .. } => ctx.print(&RewardsView {
            reward_mint: config.reward_mint.to_string(),
            current_epoch: epoch,
            epoch_length: format_duration(config.epoch_length),
            total_minted: format_amount(config.total_minted, decimals),
            provider: provider.to_string(),
            unclaimed: format_amount(record.as_ref().map_or(0, |r| r.unclaimed), decimals),
            total_claimed: format_amount(record.as_ref().map_or(0, |r| r.total_claimed), decimals),
            recording_epoch: record.as_ref().map(|r| r.current_epoch),
        }),
        RewardsCommand::Claim { .. } => {
            if record.is_none() {
                return Err(CliError::input(format!(
                    "provider {provider} has recorded no uptime yet: rewards accrue while `gpu-market provider serve` runs"
                )));
            }
            let me = ctx.me()?;
            let destination = token::associated_address(&authority, &config.reward_mint, &program);
            let ixs = [
                token::create_associated_idempotent(&me, &authority, &config.reward_mint, &program),
                rewards::claim_rewards(
                    &me,
                    &authority,
                    &config.reward_mint,
                    &destination,
                    &program,
                    previous,
                ),
            ];
            let before = if ctx.chain.exists(&destination)? {
                token::balance(&mut ctx.chain, &destination)?
            } else {
                0
            };
            let sent = ctx.send(&ixs, &[])?;
            let after = if sent.is_some() {
                token::balance(&mut ctx.chain, &destination)?
            } else {
                before
            };
            ctx.report(sent, |outcome| ClaimReceipt {
                claimed: format_amount(after.saturating_sub(before), decimals),
                destination: destination.to_string(),
                signature: outcome.signature.to_string(),
            })
        }
    }
}
