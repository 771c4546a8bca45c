//! Withdraws a proposed change of registry parameters before it is applied. Admin only.

use crate::{error::RegistryError, events::RegistryConfigUpdateCancelled, state::RegistryConfig};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [RegistryConfig::SEED],
        bump = config.bump,
        has_one = admin @ RegistryError::NotAdmin,
    )]
    pub config: Account<'info, RegistryConfig>,
}

impl CancelConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let pending = config
            .pending
            .take()
            .ok_or(error!(RegistryError::NoPendingUpdate))?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            RegistryConfigUpdateCancelled {
                admin: config.admin,
                args: pending.args,
                eta: pending.eta,
            }
        );
        Ok(())
    }
}
