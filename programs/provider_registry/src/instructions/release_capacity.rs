//! Frees GPUs of a provider when a job ends. CPI-only, by the configured escrow authority.

use crate::{
    error::RegistryError,
    events::CapacityReleased,
    instructions::CapacityArgs,
    state::{Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ReleaseCapacity<'info> {
    #[account(
        constraint = escrow_authority.key() == config.escrow_authority
            @ RegistryError::NotEscrowAuthority,
    )]
    pub escrow_authority: Signer<'info>,
    #[account(seeds = [RegistryConfig::SEED], bump = config.bump)]
    pub config: Account<'info, RegistryConfig>,
    #[account(
        mut,
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl ReleaseCapacity<'_> {
    pub fn handler(ctx: Context<Self>, args: CapacityArgs) -> Result<()> {
        let provider = &mut ctx.accounts.provider;
        provider.release(args.gpus)?;
        provider.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            CapacityReleased {
                provider: provider.key(),
                gpus: args.gpus,
                gpus_in_use_after: provider.gpus_in_use,
                gpu_count: provider.hardware.gpu_count,
            }
        );
        Ok(())
    }
}
