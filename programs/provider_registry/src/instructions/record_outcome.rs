//! Writes a finished job's outcome into the provider's reputation and ends its hold on the
//! job. CPI-only, by the configured escrow authority.

use crate::{
    error::RegistryError,
    events::OutcomeRecorded,
    state::{Outcome, Provider, RegistryConfig},
};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RecordOutcomeArgs {
    pub outcome: Outcome,
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
        provider.reputation.record(args.outcome)?;
        provider.end_job();

        staking::emit_event!(
            authority = &ctx.accounts.event_authority,
            OutcomeRecorded {
                provider: provider.key(),
                outcome: args.outcome,
                reputation_after: provider.reputation,
                jobs_held_after: provider.jobs_held,
            }
        );
        Ok(())
    }
}
