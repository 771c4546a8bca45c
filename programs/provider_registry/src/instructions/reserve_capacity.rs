//! Marks GPUs of a provider as busy with a job it was just assigned, and counts the job as
//! held until its outcome is recorded. CPI-only: the signer must be the configured
//! escrow authority, a PDA only the job escrow program can sign for.

use crate::{
    error::RegistryError,
    events::CapacityReserved,
    state::{Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CapacityArgs {
    pub gpus: u16,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ReserveCapacity<'info> {
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

impl ReserveCapacity<'_> {
    pub fn handler(ctx: Context<Self>, args: CapacityArgs) -> Result<()> {
        let provider = &mut ctx.accounts.provider;
        provider.reserve(args.gpus)?;
        provider.invariant()?;

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            CapacityReserved {
                provider: provider.key(),
                gpus: args.gpus,
                gpus_in_use_after: provider.gpus_in_use,
                gpu_count: provider.hardware.gpu_count,
                jobs_held_after: provider.jobs_held,
            }
        );
        Ok(())
    }
}
