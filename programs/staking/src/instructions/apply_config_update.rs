//! Applies the proposed staking parameters once their timelock has passed. Anyone may call
//! it. A slasher cannot be removed while any stake is locked behind jobs: those jobs could
//! then never release (or slash) their collateral.

use crate::{error::StakingError, events::StakingConfigUpdated, state::StakingConfig};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ApplyConfigUpdate<'info> {
    pub caller: Signer<'info>,
    #[account(mut, seeds = [StakingConfig::SEED], bump = config.bump)]
    pub config: Account<'info, StakingConfig>,
}

impl ApplyConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let config = &mut ctx.accounts.config;
        let pending = config
            .pending
            .take()
            .ok_or(error!(StakingError::NoPendingUpdate))?;
        require!(now >= pending.eta, StakingError::TimelockNotElapsed);
        // A proposal nobody applied soon after its timelock lapses: nobody should be
        // surprised by a change long after they stopped expecting it.
        let lapses_at = pending
            .eta
            .checked_add(crate::constants::PROPOSAL_LIFETIME)
            .ok_or(error!(StakingError::MathOverflow))?;
        require!(now <= lapses_at, StakingError::ProposalLapsed);
        if let Some(slashers) = &pending.args.slashers {
            let removes_one = config.slashers.iter().any(|s| !slashers.contains(s));
            require!(
                !removes_one || config.total_locked == 0,
                StakingError::SlasherHoldsLocks
            );
        }
        config.apply(&pending.args, pending.treasury);
        config.invariant()?;

        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            StakingConfigUpdated {
                admin: config.admin,
                treasury: config.treasury,
                unbonding_period: config.unbonding_period,
                treasury_share_bps: config.treasury_share_bps,
                slashers: config.slashers.clone(),
            }
        );
        Ok(())
    }
}
