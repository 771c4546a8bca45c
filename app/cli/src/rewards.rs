//! `gpu-market rewards`: uptime rewards of a node.

use crate::{
    units::{format_amount, format_duration},
    CliError, Context,
};
use clap::Subcommand;
use gpu_market_client::{
    pda,
    rewards::{self, EmissionConfig},
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
    /// as the authority or the operator. An epoch's rewards can be claimed once it is
    /// finalized, a quarter of an epoch after it ends.
    Claim {
        /// The node's authority (default: your keypair).
        #[arg(long, value_parser = crate::parse_pubkey)]
        authority: Option<Pubkey>,
    },
    /// Run the reward crank once, from your keypair (anyone may; `market serve` does it
    /// continuously): finalize the epochs whose fold window has closed, and fold every
    /// node's uptime of the epoch just ended into the epoch's total while its window is
    /// open.
    Crank,
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
    /// Finished epochs the node recorded in whose rewards are not in `unclaimed` yet.
    pub unsettled_epochs: Vec<u64>,
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
        )?;
        if !self.unsettled_epochs.is_empty() {
            let epochs: Vec<String> = self.unsettled_epochs.iter().map(u64::to_string).collect();
            write!(
                f,
                "\nepochs {} are over and not settled yet: a claim settles them once they are finalized",
                epochs.join(", ")
            )?;
        }
        Ok(())
    }
}

/// What a crank pass did.
#[derive(Debug, Serialize)]
pub struct CrankView {
    pub finalized_epochs: Vec<u64>,
    /// Per fold transaction: epoch, shard and reward records named.
    pub folds: Vec<(u64, u8, usize)>,
    pub refused: Vec<String>,
}

impl fmt::Display for CrankView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.finalized_epochs.is_empty() && self.folds.is_empty() && self.refused.is_empty() {
            return write!(f, "nothing due: no epoch to finalize or fold");
        }
        for epoch in &self.finalized_epochs {
            writeln!(f, "finalized epoch {epoch}")?;
        }
        for (epoch, shard, records) in &self.folds {
            writeln!(
                f,
                "folded {records} reward records of epoch {epoch} into shard {shard}"
            )?;
        }
        for refused in &self.refused {
            writeln!(f, "refused: {refused}")?;
        }
        Ok(())
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
    if let RewardsCommand::Crank = cmd {
        if ctx.dry_run {
            return Err(CliError::no_dry_run(
                "rewards crank",
                "sends the folds and finalizations due as it finds them,",
            ));
        }
        let payer = ctx.signer()?.insecure_clone();
        let report = rewards::crank(&mut ctx.chain, &payer, usize::MAX)?;
        return ctx.print(&CrankView {
            finalized_epochs: report.finalized,
            folds: report.folded,
            refused: report.refused,
        });
    }
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
        RewardsCommand::Crank => unreachable!("handled above"),
    };
    let provider = pda::provider(&authority);
    let record = rewards::record(&mut ctx.chain, &authority)?;
    // A finished epoch's share is added to `unclaimed` when it is settled against its
    // finalized total, which claim does on the way.
    let (unsettled, settle) = match (&record, epoch) {
        (Some(record), Some(now)) => (
            record.unsettled(now),
            rewards::settleable(&mut ctx.chain, record, now)?,
        ),
        _ => (Vec::new(), Vec::new()),
    };
    match cmd {
        RewardsCommand::Show { .. } => ctx.print(&RewardsView {
            reward_mint: config.reward_mint.to_string(),
            current_epoch: epoch,
            epoch_length: format_duration(config.epoch_length),
            total_minted: format_amount(config.total_minted, decimals),
            provider: provider.to_string(),
            unclaimed: format_amount(record.as_ref().map_or(0, |r| r.unclaimed), decimals),
            total_claimed: format_amount(record.as_ref().map_or(0, |r| r.total_claimed), decimals),
            recording_epoch: record
                .as_ref()
                .map(|r| r.latest.epoch)
                .filter(|e| Some(*e) == epoch),
            unsettled_epochs: unsettled,
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
                    &settle,
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
        RewardsCommand::Crank => unreachable!("handled above"),
    }
}
