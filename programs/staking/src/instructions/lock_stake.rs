//! Locks part of a provider's unlocked active stake behind a job it was assigned, or
//! releases a lock when the job ends. CPI-only: the signer must be an authorised slasher
//! (the job escrow's authority PDA). Locked stake cannot be unbonded.

use crate::{
    error::StakingError,
    events::{StakeLockChange, StakeLockChanged},
    state::{StakeAccount, StakingConfig},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct LockStakeArgs {
    pub amount: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct LockStake<'info> {
    pub slasher: Signer<'info>,
    #[account(mut, seeds = [StakingConfig::SEED], bump = config.bump)]
    pub config: Account<'info, StakingConfig>,
    #[account(
        mut,
        seeds = [StakeAccount::SEED, stake_account.owner.as_ref()],
        bump = stake_account.bump,
    )]
    pub stake_account: Account<'info, StakeAccount>,
}

impl LockStake<'_> {
    fn validate(&self) -> Result<()> {
        require!(
            self.config.is_slasher(&self.slasher.key()),
            StakingError::UnauthorizedSlasher
        );
        Ok(())
    }

    /// Locks `amount`; fails when the unlocked stake does not cover it.
    pub fn lock(ctx: Context<Self>, args: LockStakeArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let stake = &mut ctx.accounts.stake_account;
        stake.lock(args.amount)?;
        stake.invariant()?;
        let config = &mut ctx.accounts.config;
        config.total_locked = crate::math::add(config.total_locked, args.amount)?;
        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            StakeLockChanged {
                owner: stake.owner,
                change: StakeLockChange::Locked,
                amount: args.amount,
                locked_after: stake.locked,
                active_after: stake.active,
            }
        );
        Ok(())
    }

    /// Releases up to `amount` of the lock; never fails on the amount.
    pub fn unlock(ctx: Context<Self>, args: LockStakeArgs) -> Result<()> {
        ctx.accounts.validate()?;
        let stake = &mut ctx.accounts.stake_account;
        let released = stake.unlock(args.amount);
        stake.invariant()?;
        let config = &mut ctx.accounts.config;
        config.total_locked = config.total_locked.saturating_sub(released);
        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            StakeLockChanged {
                owner: stake.owner,
                change: StakeLockChange::Unlocked,
                amount: released,
                locked_after: stake.locked,
                active_after: stake.active,
            }
        );
        Ok(())
    }
}
