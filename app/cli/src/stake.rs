//! `gpu-market stake`: the collateral behind a node.

use crate::{
    output::date,
    units::{format_amount, format_duration, Decimal},
    CliError, Context,
};
use clap::Subcommand;
use gpu_market_client::{
    pda,
    staking::{self, StakeAccount, StakingConfig},
    token, Chain, Pubkey,
};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Subcommand)]
pub enum StakeCommand {
    /// Stake tokens of the stake mint from your associated token account.
    Deposit {
        /// Amount in whole tokens, e.g. 2500 or 12.5.
        #[arg(allow_negative_numbers = true)]
        amount: Decimal,
    },
    /// Start the unbonding cooldown for part of your active stake.
    Unstake {
        /// Amount in whole tokens.
        #[arg(allow_negative_numbers = true)]
        amount: Decimal,
    },
    /// Return unbonding stake to active.
    CancelUnstake,
    /// Pay out stake whose unbonding period has ended, to your associated token account.
    Withdraw,
    /// Show a stake account.
    Show {
        /// Owner of the stake (default: your keypair).
        #[arg(long, value_parser = crate::parse_pubkey)]
        owner: Option<Pubkey>,
    },
}

/// A stake account as shown.
#[derive(Debug, Serialize)]
pub struct StakeView {
    pub owner: String,
    pub active: String,
    pub unbonding: String,
    /// When the unbonding stake can be withdrawn (while some unbonds).
    pub unbonding_ends_at: Option<String>,
    pub total_slashed: String,
    /// How long until then (`0s` when it can be now).
    pub withdrawable_in: Option<String>,
}

impl fmt::Display for StakeView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stake of {}", self.owner)?;
        writeln!(f, "  active:    {}", self.active)?;
        write!(f, "  unbonding: {}", self.unbonding)?;
        match (&self.withdrawable_in, &self.unbonding_ends_at) {
            (Some(left), _) if left == "0s" => write!(f, " (withdrawable now)")?,
            (Some(left), Some(at)) => write!(f, " (withdrawable in {left}, at {at})")?,
            _ => {}
        }
        write!(f, "\n  slashed:   {}", self.total_slashed)
    }
}

/// What a stake transaction did.
#[derive(Debug, Serialize)]
pub struct StakeReceipt {
    pub action: &'static str,
    /// The amount moved, where the action moves one.
    pub amount: Option<String>,
    pub signature: String,
}

impl fmt::Display for StakeReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.amount {
            Some(amount) => write!(f, "{} {amount} (signature {})", self.action, self.signature),
            None => write!(f, "{} (signature {})", self.action, self.signature),
        }
    }
}

fn config<C: Chain>(ctx: &mut Context<C>) -> Result<StakingConfig, CliError> {
    ctx.chain
        .fetch(&pda::staking_config())
        .map_err(CliError::if_missing(
            "this cluster has no gpu-market staking config: check --url",
        ))
}

pub fn run<C: Chain>(ctx: &mut Context<C>, cmd: StakeCommand) -> Result<(), CliError> {
    let config = config(ctx)?;
    let mint = config.stake_mint;
    let (decimals, program) = ctx.mint(&mint)?;
    let me = ctx.me()?;
    let ata = token::associated_address(&me, &mint, &program);
    let receipt = |action: &'static str, amount: Option<u64>| {
        move |outcome: gpu_market_client::TxOutcome| StakeReceipt {
            action,
            amount: amount.map(|a| format_amount(a, decimals)),
            signature: outcome.signature.to_string(),
        }
    };
    match cmd {
        StakeCommand::Deposit { amount } => {
            let amount = amount.to_base_units(decimals).map_err(CliError::Input)?;
            if amount == 0 {
                return Err(CliError::input("the amount must be more than 0"));
            }
            let held = if ctx.chain.exists(&ata)? {
                token::balance(&mut ctx.chain, &ata)?
            } else {
                0
            };
            if held < amount {
                return Err(CliError::input(format!(
                    "your token account {ata} holds {} of the stake mint {mint}, less than {}",
                    format_amount(held, decimals),
                    format_amount(amount, decimals)
                )));
            }
            let ix = staking::stake(&me, &ata, &mint, &program, amount);
            let sent = ctx.send(&[ix], &[])?;
            ctx.report(sent, receipt("staked", Some(amount)))
        }
        StakeCommand::Unstake { amount } => {
            let amount = amount.to_base_units(decimals).map_err(CliError::Input)?;
            let sent = ctx.send(&[staking::request_unstake(&me, amount)], &[])?;
            ctx.report(sent, receipt("unbonding started for", Some(amount)))
        }
        StakeCommand::CancelUnstake => {
            let sent = ctx.send(&[staking::cancel_unstake(&me)], &[])?;
            ctx.report(sent, receipt("unbonding cancelled", None))
        }
        StakeCommand::Withdraw => {
            let account: StakeAccount = ctx
                .chain
                .fetch(&pda::stake_account(&me))
                .map_err(CliError::if_missing(format!("{me} has no stake account")))?;
            let ixs = [
                token::create_associated_idempotent(&me, &me, &mint, &program),
                staking::withdraw(&me, &ata, &mint, &program),
            ];
            let sent = ctx.send(&ixs, &[])?;
            ctx.report(sent, receipt("withdrew", Some(account.unbonding)))
        }
        StakeCommand::Show { owner } => {
            let owner = owner.unwrap_or(me);
            let account: StakeAccount =
                ctx.chain
                    .fetch(&pda::stake_account(&owner))
                    .map_err(CliError::if_missing(format!(
                    "{owner} has no stake account: stake with `gpu-market stake deposit <AMOUNT>`"
                )))?;
            let now = ctx.chain.now()?;
            let view = StakeView {
                owner: owner.to_string(),
                active: format_amount(account.active, decimals),
                unbonding: format_amount(account.unbonding, decimals),
                unbonding_ends_at: (account.unbonding > 0).then(|| date(account.unbonding_ends_at)),
                total_slashed: format_amount(account.total_slashed, decimals),
                withdrawable_in: (account.unbonding > 0)
                    .then(|| format_duration(account.unbonding_ends_at.saturating_sub(now).max(0))),
            };
            ctx.print(&view)
        }
    }
}
