//! Returns everything unbonding to active stake. The stake owner only.

use crate::{
    error::StakingError,
    events::UnstakeCancelled,
    math,
    state::{StakeAccount, StakingConfig},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelUnstake<'info> {
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

impl CancelUnstake<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let stake = &mut ctx.accounts.stake_account;
        let amount = stake.cancel_unbonding()?;
        stake.invariant()?;
        config.total_unbonding = math::sub(config.total_unbonding, amount)?;
        config.total_active = math::add(config.total_active, amount)?;

        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            UnstakeCancelled {
                owner: stake.owner,
                amount,
                active_after: stake.active,
            }
        );
        Ok(())
    }
}
