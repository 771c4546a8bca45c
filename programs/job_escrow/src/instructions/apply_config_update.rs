//! Applies the proposed market parameters once their timelock has passed. Anyone may call
//! it. The bounds and the staking cooldown are checked again against the state now.

use crate::{error::EscrowError, events::MarketConfigUpdated, state::MarketConfig};
use anchor_lang::prelude::*;
use staking::state::StakingConfig;

#[event_cpi]
#[derive(Accounts)]
pub struct ApplyConfigUpdate<'info> {
    pub caller: Signer<'info>,
    #[account(mut, seeds = [MarketConfig::SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(
        seeds = [StakingConfig::SEED],
        bump = staking_config.bump,
        seeds::program = staking::ID,
    )]
    pub staking_config: Box<Account<'info, StakingConfig>>,
}

impl ApplyConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let c = &mut ctx.accounts.config;
        let pending = c
            .pending
            .take()
            .ok_or(error!(EscrowError::NoPendingUpdate))?;
        require!(now >= pending.eta, EscrowError::TimelockNotElapsed);
        // A proposal nobody applied soon after its timelock lapses: nobody should be
        // surprised by a change long after they stopped expecting it.
        let lapses_at = pending
            .eta
            .checked_add(crate::constants::PROPOSAL_LIFETIME)
            .ok_or(error!(EscrowError::MathOverflow))?;
        require!(now <= lapses_at, EscrowError::ProposalLapsed);
        c.apply(&pending.args);
        c.invariant()?;
        c.check_cooldown(&ctx.accounts.staking_config)?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            MarketConfigUpdated {
                admin: c.admin,
                treasury: c.treasury,
                arbiter: c.arbiter,
                protocol_fee_bps: c.protocol_fee_bps,
                allowed_mints: c.allowed_mints.clone(),
                args: pending.args,
            }
        );
        Ok(())
    }
}
