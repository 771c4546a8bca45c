//! Moves active stake into the unbonding cooldown. The stake owner only. Unbonding stake
//! stays slashable until it is withdrawn.

use crate::{
    error::StakingError,
    events::UnstakeRequested,
    math,
    state::{StakeAccount, StakingConfig},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RequestUnstakeArgs {
    pub amount: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    pub owner: Signer<'info>,
    #[account(mut, seeds = [StakingConfig::SEED], bump = config.bump)]
    pub config: Account<'info, StakingConfig>,
    #[account(
        mut,
        seeds = [StakeAccount::SEED, owner.key().as_ref()],
        bump = stake_account.bump,
        has_one = owner @ StakingError::NotStakeOwner,
    )]
    pub stake_account: Account<'info, StakeAccount>,
}

impl RequestUnstake<'_> {
    pub fn handler(ctx: Context<Self>, args: RequestUnstakeArgs) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let config = &mut ctx.accounts.config;
        let stake = &mut ctx.accounts.stake_account;
        stake.begin_unbonding(args.amount, now, config.unbonding_period)?;
        stake.invariant()?;
        config.total_active = math::sub(config.total_active, args.amount)?;
        config.total_unbonding = math::add(config.total_unbonding, args.amount)?;

        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            UnstakeRequested {
                owner: stake.owner,
                amount: args.amount,
                active_after: stake.active,
                unbonding_after: stake.unbonding,
                unbonding_ends_at: stake.unbonding_ends_at,
            }
        );
        Ok(())
    }
}
