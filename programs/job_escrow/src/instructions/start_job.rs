//! Starts an assigned job within the start timeout (its GPUs were reserved when it was
//! assigned). The provider's current operator only.

use crate::{error::EscrowError, events::JobStarted, state::Job};
use anchor_lang::prelude::*;
use provider_registry::state::Provider;

#[event_cpi]
#[derive(Accounts)]
pub struct StartJob<'info> {
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [Job::SEED, job.client.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(
        seeds = [Provider::SEED, provider.authority.as_ref()],
        bump = provider.bump,
        seeds::program = provider_registry::ID,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

/// The signer must be the current operator of the provider the job is assigned to: one rule
/// for every action a provider takes on its jobs, so a rotated-out key can do nothing and
/// the new key can do everything.
pub fn check_operator(job: &Job, provider: &Account<Provider>, signer: &Pubkey) -> Result<()> {
    require_keys_eq!(
        provider.key(),
        job.assignment()?.provider,
        EscrowError::WrongProvider
    );
    require_keys_eq!(*signer, provider.operator, EscrowError::NotAssignedProvider);
    Ok(())
}

impl StartJob<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let accounts = ctx.accounts;
        check_operator(&accounts.job, &accounts.provider, &accounts.operator.key())?;
        let now = Clock::get()?.unix_timestamp;
        let assigned_at = accounts.job.assignment()?.assigned_at;
        accounts.job.start(now)?;

        staking::emit_event!(
            authority = &accounts.event_authority,
            JobStarted {
                job: accounts.job.key(),
                provider: accounts.provider.key(),
                started_at: now,
                time_to_start: now.saturating_sub(assigned_at),
            }
        );
        Ok(())
    }
}
