//! Writes a finished job's outcome into the provider's reputation and ends its hold on the
//! job, freeing the GPUs the job still held in the same call (a batch job freed them with
//! its result; a lease or a failed job still holds them). CPI-only, by the configured escrow
//! authority.

use crate::{
    error::RegistryError,
    events::OutcomeRecorded,
    state::{Outcome, Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RecordOutcomeArgs {
    pub outcome: Outcome,
    /// GPUs the job still held, freed with the outcome (at most those in use); 0 when it
    /// held none.
    pub release_gpus: u16,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RecordOutcome<'info> {
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

impl RecordOutcome<'_> {
    pub fn handler(ctx: Context<Self>, args: RecordOutcomeArgs) -> Result<()> {
        let provider = &mut ctx.accounts.provider;
        // Saturates, like the unlock of the job's stake: the ending of a job is never
        // blocked by the bookkeeping of its GPUs.
        let gpus_released = args.release_gpus.min(provider.gpus_in_use);
        if gpus_released > 0 {
            provider.release(gpus_released)?;
        }
        provider.reputation.record(args.outcome)?;
        provider.end_job();

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            OutcomeRecorded {
                provider: provider.key(),
                outcome: args.outcome,
                reputation_after: provider.reputation,
                jobs_held_after: provider.jobs_held,
                gpus_released,
                gpus_in_use_after: provider.gpus_in_use,
            }
        );
        Ok(())
    }
}
