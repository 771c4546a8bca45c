//! `gpu-market balance`: a wallet's SOL, its tokens of the market's mints and its stake.

use crate::{units::format_amount, CliError, Context};
use clap::Args;
use gpu_market_client::{
    escrow::MarketConfig,
    pda,
    rewards::EmissionConfig,
    staking::{StakeAccount, StakingConfig},
    token, Chain, Pubkey,
};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// The wallet (default: your keypair's).
    #[arg(long, value_parser = crate::parse_pubkey)]
    pub owner: Option<Pubkey>,
}

/// A wallet's holdings.
#[derive(Debug, Serialize)]
pub struct BalanceView {
    pub owner: String,
    pub sol: String,
    pub lamports: u64,
    /// Its associated token account of each of the market's mints.
    pub tokens: Vec<TokenBalance>,
    /// Active stake, unbonding stake and the part of active stake locked by held jobs.
    pub stake_active: String,
    pub stake_unbonding: String,
    pub stake_locked: String,
    /// Uptime rewards its node has earned and not claimed, when it runs one.
    pub unclaimed_rewards: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenBalance {
    /// "stake", "payment" or "reward".
    pub role: &'static str,
    pub mint: String,
    pub account: String,
    pub amount: String,
    pub base_units: u64,
}

impl fmt::Display for BalanceView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wallet    {}", self.owner)?;
        writeln!(f, "SOL       {}", self.sol)?;
        for token in &self.tokens {
            writeln!(
                f,
                "{:<9} {} (mint {})",
                token.role, token.amount, token.mint
            )?;
        }
        write!(
            f,
            "stake     {} active, {} unbonding, {} locked by jobs",
            self.stake_active, self.stake_unbonding, self.stake_locked
        )?;
        if let Some(rewards) = &self.unclaimed_rewards {
            write!(
                f,
                "\nrewards   {rewards} unclaimed (`gpu-market rewards claim`)"
            )?;
        }
        Ok(())
    }
}

pub fn run<C: Chain>(ctx: &mut Context<C>, args: &BalanceArgs) -> Result<(), CliError> {
    let owner = match args.owner {
        Some(owner) => owner,
        None => ctx.me()?,
    };
    let staking: StakingConfig =
        ctx.chain
            .fetch(&pda::staking_config())
            .map_err(CliError::if_missing(
                "this cluster has no gpu-market (no staking config): check --url",
            ))?;
    let mut mints = vec![("stake", staking.stake_mint)];
    if ctx.chain.exists(&pda::market_config())? {
        let market: MarketConfig = ctx.chain.fetch(&pda::market_config())?;
        mints.extend(market.allowed_mints.iter().map(|mint| ("payment", *mint)));
    }
    let mut unclaimed_rewards = None;
    if ctx.chain.exists(&pda::emission_config())? {
        let emission: EmissionConfig = ctx.chain.fetch(&pda::emission_config())?;
        mints.push(("reward", emission.reward_mint));
        if let Some(record) = gpu_market_client::rewards::record(&mut ctx.chain, &owner)? {
            let (decimals, _) = ctx.mint(&emission.reward_mint)?;
            unclaimed_rewards = Some(format_amount(record.unclaimed, decimals));
        }
    }
    let mut tokens = Vec::new();
    for (role, mint) in mints {
        let (decimals, program) = ctx.mint(&mint)?;
        let account = token::associated_address(&owner, &mint, &program);
        let base_units = if ctx.chain.exists(&account)? {
            token::balance(&mut ctx.chain, &account)?
        } else {
            0
        };
        tokens.push(TokenBalance {
            role,
            mint: mint.to_string(),
            account: account.to_string(),
            amount: format_amount(base_units, decimals),
            base_units,
        });
    }
    let (stake_decimals, _) = ctx.mint(&staking.stake_mint)?;
    let stake_address = pda::stake_account(&owner);
    let stake: Option<StakeAccount> = if ctx.chain.exists(&stake_address)? {
        Some(ctx.chain.fetch(&stake_address)?)
    } else {
        None
    };
    let stake_amount =
        |f: fn(&StakeAccount) -> u64| format_amount(stake.as_ref().map_or(0, f), stake_decimals);
    let lamports = ctx.chain.lamports(&owner)?;
    let view = BalanceView {
        owner: owner.to_string(),
        sol: format_amount(lamports, 9),
        lamports,
        tokens,
        stake_active: stake_amount(|s| s.active),
        stake_unbonding: stake_amount(|s| s.unbonding),
        stake_locked: stake_amount(|s| s.locked),
        unclaimed_rewards,
    };
    ctx.print(&view)
}
