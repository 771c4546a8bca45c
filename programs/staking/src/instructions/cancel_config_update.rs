//! Withdraws a proposed change of staking parameters before it is applied. Admin only.

use crate::{error::StakingError, events::StakingConfigUpdateCancelled, state::StakingConfig};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [StakingConfig::SEED],
        bump = config.bump,
        has_one = admin @ StakingError::NotAdmin,
    )]
    pub config: Account<'info, StakingConfig>,
}

impl CancelConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let pending = config
            .pending
            .take()
            .ok_or(error!(StakingError::NoPendingUpdate))?;

        crate::emit_event!(
            authority = &ctx.accounts.event_authority,
            StakingConfigUpdateCancelled {
                admin: config.admin,
                args: pending.args,
                eta: pending.eta,
            }
        );
        Ok(())
    }
}
