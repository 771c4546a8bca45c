//! Applies the proposed registry parameters once their timelock has passed. Anyone may
//! call it.

use crate::{error::RegistryError, events::RegistryConfigUpdated, state::RegistryConfig};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ApplyConfigUpdate<'info> {
    pub caller: Signer<'info>,
    #[account(mut, seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
}

impl ApplyConfigUpdate<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let config = &mut ctx.accounts.config;
        let pending = config
            .pending
            .take()
            .ok_or(error!(RegistryError::NoPendingUpdate))?;
        require!(now >= pending.eta, RegistryError::TimelockNotElapsed);
        // A proposal nobody applied soon after its timelock lapses: nobody should be
        // surprised by a change long after they stopped expecting it.
        let lapses_at = pending
            .eta
            .checked_add(crate::constants::PROPOSAL_LIFETIME)
            .ok_or(error!(RegistryError::MathOverflow))?;
        require!(now <= lapses_at, RegistryError::ProposalLapsed);
        // Jobs held by providers answer to the escrow authority that assigned them: it can
        // only change while no provider is registered (and so no job is held).
        if pending
            .args
            .escrow_authority
            .is_some_and(|a| a != config.escrow_authority)
        {
            require!(
                config.provider_count == 0,
                RegistryError::EscrowAuthorityInUse
            );
        }
        config.apply(&pending.args);
        config.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            RegistryConfigUpdated {
                admin: config.admin,
                min_stake_per_gpu: config.min_stake_per_gpu,
                heartbeat_interval: config.heartbeat_interval,
                liveness_grace: config.liveness_grace,
                exit_notice: config.exit_notice,
                auditors: config.auditors.clone(),
                escrow_authority: config.escrow_authority,
                max_benchmark_score: config.max_benchmark_score,
            }
        );
        Ok(())
    }
}
