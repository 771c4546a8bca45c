//! Withdraws a proposed change of market parameters before it is applied. Admin only.

use crate::{error::EscrowError, events::MarketConfigUpdateCancelled, state::MarketConfig};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelConfigUpdate<'info> {
    pub admin: Signer<'info>,
    #[account(
        mut,
        seeds = [MarketConfig::SEED],
        bump = config.bump,
        has_one = admin @ EscrowError::NotAdmin,
    )]
    pub config: Box<Account<'info, MarketConfig>>,
}

impl CancelConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let config = &mut ctx.accounts.config;
        let pending = config
            .pending
            .take()
            .ok_or(error!(EscrowError::NoPendingUpdate))?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            MarketConfigUpdateCancelled {
                admin: config.admin,
                args: pending.args,
                eta: pending.eta,
            }
        );
        Ok(())
    }
}
